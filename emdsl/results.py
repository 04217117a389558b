"""Results of compiled experiments, read from the small metrics files git tracks.

``params.yaml`` maps every variant to its stages; judge, diff, steer, realign and judge_train
stages leave ``results/<stage>/metrics.json`` (the headline) and ``detail.json`` (all of it,
what this module reads; see ``emdsl.schema.detail``). This module joins them into one row per
variant, read from the workspace or, through ``git``, from any revision: no cache pull needed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from emdsl.freshness import stale_stages
from emdsl.kinds import VariantResults, all_kinds, num_cell, result_columns, with_ci
from emdsl.schema.detail import DETAIL
from emdsl.schema.entry import merged

__all__ = ["num_cell", "with_ci"]  # the cell formats, for `emx diff`

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C: params.yaml can be large

WORKSPACE = "workspace"

KEY = ["file", "experiment", "variant"]


class ResultsError(Exception):
    """A revision or file that cannot be read; the message says which and how to fix it."""


class Source:
    """Where result files come from: the workspace (``rev=None``) or a git revision."""

    def __init__(self, root: Path, rev: str | None = None):
        self.root, self.rev = root, rev
        self.commit = resolve(root, rev) if rev else None
        self.label = f"{rev} ({self.commit[:7]})" if rev and self.commit else WORKSPACE
        self._cache: dict[str, bytes | None] = {}

    def read_many(self, paths: list[str]) -> dict[str, str | None]:
        """Texts of ``paths`` (relative to the root); None for a file that is not there."""
        return {p: None if b is None else b.decode("utf-8", errors="replace")
                for p, b in self.read_bytes_many(paths).items()}

    def read_bytes_many(self, paths: list[str]) -> dict[str, bytes | None]:
        """Bytes of ``paths`` (relative to the root); None for a file that is not there."""
        todo = [p for p in dict.fromkeys(paths) if p not in self._cache]
        if todo and self.commit:
            self._cache.update(git_show_many(self.root, self.commit, todo))
        for p in todo:
            if not self.commit:
                try:
                    self._cache[p] = (self.root / p).read_bytes()
                except OSError:
                    self._cache[p] = None
        return {p: self._cache[p] for p in paths}

    def read(self, path: str) -> str | None:
        return self.read_many([path])[path]

    def json(self, path: str) -> dict[str, Any] | None:
        text = self.read(path)
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            return None

    def metrics(self, results: str | None, file: str = "metrics.json") -> dict[str, Any] | None:
        """Everything a stage computed: its ``results`` folder's ``detail.json``, or at a
        revision written before metrics files held only the headline, its metrics ``file``."""
        if not results:
            return None
        found = self.json(f"{results}/{DETAIL}")
        return found if found is not None else self.json(f"{results}/{file}")

    def params(self) -> dict[str, Any]:
        text = self.read("params.yaml")
        if text is None:
            where = f"at {self.label}" if self.commit else "in the workspace"
            raise ResultsError(f"no params.yaml {where}; run `emx compile` (and commit it)")
        params = yaml.load(text, Loader=_SafeLoader) or {}
        stages = params.get("stages") or {}
        if any(isinstance(e, dict) and "kind" not in e for e in stages.values()):
            params["stages"] = with_meta(stages, self.read("dvc.yaml"))
        return params


def with_meta(stages: dict[str, Any], dvc_text: str | None) -> dict[str, Any]:
    """params.yaml's stage entries made whole (kind, key, out, results, inputs, code,
    config) with each stage's ``meta`` from dvc.yaml (``emdsl.schema.entry``, version 2)."""
    dvc = (yaml.load(dvc_text, Loader=_SafeLoader) or {}) if dvc_text else {}
    defined = dvc.get("stages") or {}
    return {name: merged(entry, (defined.get(name) or {}).get("meta")) or entry
            for name, entry in stages.items()}


def resolve(root: Path, rev: str) -> str:
    """The commit a revision names (a sha, branch, tag, ``HEAD~1`` ...)."""
    r = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                       cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        raise ResultsError(f"unknown git revision `{rev}` in {root}; see `git log --oneline`")
    return r.stdout.strip()


def git_show_many(root: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """``git show COMMIT:path`` for many paths in one ``git cat-file --batch``."""
    request = "".join(f"{commit}:{p}\n" for p in paths).encode()
    r = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=request,
                       capture_output=True)
    if r.returncode != 0:
        raise ResultsError(f"git cat-file failed in {root}: {r.stderr.decode().strip()}")
    out, pos, found = r.stdout, 0, {}
    for path in paths:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            found[path] = out[pos:pos + size]
            pos += size + 1
        else:  # "<name> missing", or a tree, which carries a body too
            if len(header) == 3:
                pos += int(header[2]) + 1
            found[path] = None
    return found


# --------------------------------------------------------------------------- rows


def variants(params: dict[str, Any], files: list[str] | None = None
             ) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(file, experiment, variant label, its params.yaml entry) for every variant."""
    out = []
    for file, experiments in sorted((params.get("experiments") or {}).items()):
        if files is not None and not any(_under(file, f) for f in files):
            continue
        for exp, entries in (experiments or {}).items():
            for label, entry in (entries or {}).items():
                out.append((file, exp, label, entry or {}))
    return out


def _under(file: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return prefix in ("", ".") or file == prefix or file.startswith(prefix + "/")


def metrics_path(params: dict[str, Any], stage: str | None) -> str | None:
    entry = (params.get("stages") or {}).get(stage) if stage else None
    if not entry or not entry.get("results"):
        return None
    return f"{entry['results']}/metrics.json"


def results_dir(params: dict[str, Any], stage: str | None) -> str | None:
    """``results/<stage>`` of ``stage`` (None when it has none)."""
    entry = (params.get("stages") or {}).get(stage) if stage else None
    return (entry or {}).get("results") or None


def collect(source: Source, files: list[str] | None = None) -> list[dict[str, Any]]:
    """One row (see ``kinds.result_columns``) per variant of the experiments in ``files``
    (None: all); each stage kind fills its own columns."""
    params = source.params()
    found = variants(params, files)
    dirs = [results_dir(params, s) for *_, e in found for s in (e.get("stages") or {}).values()]
    source.read_many([f"{d}/{f}" for d in dirs if d for f in (DETAIL, "metrics.json")])
    configs = params.get("stages") or {}
    columns = table_columns()
    stale = stale_stages(source, params)

    rows = []
    for file, exp, label, entry in found:
        stages = entry.get("stages") or {}

        def metrics(role: str, stages: dict[str, str] = stages) -> dict[str, Any] | None:
            return source.metrics(results_dir(params, stages.get(role)))

        def config(role: str, stages: dict[str, str] = stages) -> dict[str, Any]:
            return (configs.get(stages.get(role)) or {}).get("config") or {}

        row = {"file": file, "experiment": exp, "variant": label,
               "axes": json.dumps(entry.get("axes") or {}, sort_keys=True)}
        seen = VariantResults(stages, metrics, config)
        for kind in all_kinds():
            row.update(kind.fill(seen))
        row["stale"] = staleness(stages, stale)
        rows.append({c: row.get(c) for c in columns})
    return rows


def table_columns() -> dict[str, str]:
    """Every kind's columns, then whether the row's results are current."""
    return {**result_columns(), "stale": "String"}


def staleness(stages: dict[str, str], stale: dict[str, str]) -> str | None:
    """``"params changed: train, judge_tuned; not run: summary"``: the variant's stages whose
    results are not what its params and code would give now (None when all are current)."""
    by_reason: dict[str, list[str]] = {}
    for role, name in sorted(stages.items()):
        if name in stale:
            by_reason.setdefault(stale[name], []).append(role)
    if list(by_reason) == ["not run"] and len(by_reason["not run"]) == len(stages):
        return "not run"
    return "; ".join(f"{why}: {', '.join(roles)}" for why, roles in by_reason.items()) or None


def table(source: Source, files: list[str] | None = None):
    """The rows as a polars DataFrame with a fixed schema (typed even when empty)."""
    import polars as pl

    schema = {c: getattr(pl, t) for c, t in table_columns().items()}
    return pl.DataFrame(collect(source, files), schema=schema, orient="row")


# --------------------------------------------------------------------------- rendering


def cells(r: dict[str, Any]) -> dict[str, str]:
    """A row as the human table shows it: each kind's cells, in kind order."""
    out = {"experiment": r["experiment"], "variant": r["variant"]}
    for kind in all_kinds():
        out.update(kind.cells(r))
    out["⚠ not current"] = r.get("stale") or "–"
    return out


def columns(rows: list[dict[str, str]]) -> list[str]:
    """The columns worth showing: a kind's optional ones empty in every row are left out."""
    optional = {"⚠ not current", *(c for k in all_kinds() for c in k.optional)}
    return [c for c in rows[0] if c not in optional or any(r[c] != "–" for r in rows)]


def markdown(rows: list[dict[str, str]], empty: str = "(no experiments)") -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (see ``columns``)."""
    if not rows:
        return f"| {empty} |\n|---|"
    cols = columns(rows)

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in values) + " |"

    return "\n".join([line(cols), "|" + "---|" * len(cols),
                      *(line([r[c] for c in cols]) for r in rows)])


def render(df: Any, fmt: str, human: list[dict[str, str]]) -> str:
    """``md``: the human table; ``csv`` / ``json``: every raw column, one record per row."""
    if fmt == "csv":
        return df.write_csv()
    if fmt == "json":
        records = [{**r, "axes": json.loads(r["axes"])} for r in df.to_dicts()]
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return markdown(human) + "\n"


def show(source: Source, files: list[str] | None = None, fmt: str = "md") -> str:
    df = table(source, files)
    return render(df, fmt, [cells(r) for r in df.to_dicts()])


def results_table(root: Path, files: list[str] | None = None) -> str:
    """The Markdown results table of the workspace (``emx run`` prints it at the end)."""
    return show(Source(root), files).rstrip("\n")
