"""A stage's entry: written by ``emx compile``, read by every stage process and by
``emx show``/``diff``/``report``. Versioned: files without a ``schema`` key are version 1; a
reader meeting a newer version stops with a clear message.

Version 2 splits it in two, so that ``dvc params diff`` reads as the experiment's parameters
(before, one changed learning rate listed ~30 rows: every downstream stage's key, out and
input paths): ``params.yaml`` keeps what a person sets, ``stages.<name>: {schema, config}``
(and ``code``, the hash of code outside the project), and the bookkeeping (kind, key, out,
results, inputs) is the stage's ``meta`` in ``dvc.yaml``, which DVC ignores. Nothing is
lost to DVC: the out path carries the key, the inputs are deps, the kind is the command.
Version 1 files (everything in params.yaml) are still read.

Every stage imports this module, so it is part of every stage's code identity: keep it
small, and keep the metrics shapes (``emdsl.schema.metrics``) out of it.
"""


from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VERSION = 2


class SchemaError(Exception):
    """A file written by a newer emdsl than this one."""


def check_version(entry: dict[str, Any], where: str) -> None:
    version = entry.get("schema", 1)
    if not isinstance(version, int) or version > VERSION:
        raise SchemaError(f"{where} has schema version {version!r}; this emdsl reads up to "
                          f"{VERSION}. Upgrade emdsl, or run `emx compile` with this one")




@dataclass(frozen=True)
class StageEntry:
    """``stages.<name>`` in params.yaml: everything a stage process needs to run."""

    kind: str
    key: str  # hash of kind, config and input keys
    out: str  # its cached DVC out: artifacts/<kind>/<key>
    config: dict[str, Any]  # the resolved, defaults-filled config
    results: str | None = None  # results/<stage>: small git-tracked files
    inputs: dict[str, str] = field(default_factory=dict)  # role -> the path it reads
    code: str | None = None  # hash of its code when that lives outside the project

    def to_params(self) -> dict[str, Any]:
        """Its params.yaml entry: what DVC tracks as the stage's params."""
        entry: dict[str, Any] = {"schema": VERSION}
        if self.code:
            entry["code"] = self.code
        entry["config"] = self.config
        return entry

    def to_meta(self) -> dict[str, Any]:
        """Its ``meta`` in dvc.yaml: the bookkeeping, in the order the goldens pin."""
        entry: dict[str, Any] = {"kind": self.kind, "key": self.key, "out": self.out}
        if self.results:
            entry["results"] = self.results
        if self.inputs:
            entry["inputs"] = dict(self.inputs)
        return entry

    @classmethod
    def from_params(cls, entry: dict[str, Any], where: str) -> StageEntry:
        check_version(entry, where)
        return cls(kind=entry["kind"], key=entry["key"], out=entry["out"],
                   config=entry.get("config") or {}, results=entry.get("results") or None,
                   inputs=dict(entry.get("inputs") or {}), code=entry.get("code"))

    def paths(self) -> tuple[Path, Path | None, dict[str, Path]]:
        return (Path(self.out), Path(self.results) if self.results else None,
                {role: Path(p) for role, p in self.inputs.items()})


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# the next stage under `stages:` (emit's 2-space blocks), or the next top-level key
_NEXT_ENTRY = re.compile(rb"\n {0,2}\S")


def read_stage_entry(data: bytes | str, name: str) -> dict[str, Any] | None:
    """``stages.<name>`` of params.yaml (its bytes, or an mmap of them), parsing that entry
    alone.

    A stage process needs its own entry only; parsing all of a 20,000-variant params.yaml
    took two minutes per stage. ``emx compile`` writes each entry as a block of lines
    starting ``  <name>:`` under a top-level ``stages:``, so the block is found with a byte
    search and parsed alone. A file laid out otherwise (edited by hand) is parsed whole, so
    the answer is the same either way.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    top = raw.find(b"\nstages:\n")
    head = f"\n  {name}:\n".encode()
    start = raw.find(head, top) if top >= 0 else -1
    if start >= 0:
        found = _NEXT_ENTRY.search(raw, start + len(head) - 1)
        block = bytes(raw[start + 1:found.start() if found else len(raw)]).decode("utf-8")
        entry = (yaml.load(block, Loader=_SafeLoader) or {}).get(name)
        if isinstance(entry, dict):
            return entry
    params = yaml.load(bytes(raw).decode("utf-8"), Loader=_SafeLoader) or {}
    return (params.get("stages") or {}).get(name)


def merged(params: dict[str, Any] | None, meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stage's whole entry (kind, key, out, results, inputs, code, config) from its
    params.yaml entry and its dvc.yaml ``meta`` (a version 1 params entry is whole already)."""
    if params is None or "kind" in params:
        return params
    return {**(meta or {}), **params}


def read_stage_file(path: Path, name: str) -> dict[str, Any] | None:
    """``read_stage_entry`` of the file at ``path``, mapped rather than read: the search
    touches the pages it passes, and no 40 MB string is ever built."""
    import mmap

    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return read_stage_entry(mapped, name)  # type: ignore[arg-type]


