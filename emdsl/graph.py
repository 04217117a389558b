"""The stage graph: nodes keyed by content, the per-variant builder, readable stage names.

A node's key hashes its kind, its own config and its inputs' keys, so two experiments that
need the same work (same base model, questions and judge) get the same node and DVC runs it
once. Artifact paths are keyed by the hash; stage names are readable and stable:
``train-medical-poison_0p5-seed_0``, ``generate-base-medical``.

Each stage kind wires its own nodes (``emdsl.kinds``); this module only knows nodes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emdsl.configs import file_fields
from emdsl.variant import Variant

KEY_LENGTH = 12


@dataclass
class Node:
    kind: str
    config: dict[str, Any]
    inputs: dict[str, Node]
    role: str | None = None  # "base" / "tuned" / "corpus" ... disambiguates names
    files: tuple[str, ...] = ()  # data files it reads, relative to the project root
    key: str = ""
    name: str = ""
    users: list[tuple[Variant, str]] = field(default_factory=list)  # (variant, its role)
    # Reads its inputs' small git-tracked results, not their cached outs: it then runs from a
    # fresh clone with no `dvc pull`, and reruns only when those results change.
    via_results: bool = False
    has_results: bool = False  # its kind writes small git-tracked files under results/

    @property
    def out(self) -> str:
        return f"artifacts/{self.kind}/{self.key}"

    @property
    def results(self) -> str | None:
        return f"results/{self.name}" if self.has_results else None


def node_key(kind: str, config: dict[str, Any], inputs: dict[str, str]) -> str:
    """The content address of a node: its kind, config and inputs' keys (role -> key)."""
    payload = {"kind": kind, "config": config, "inputs": dict(sorted(inputs.items()))}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:KEY_LENGTH]


# (variant, {role: node key}) for every variant of one experiment, in sweep order.
Built = list[tuple[Variant, dict[str, str]]]


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)  # key -> node
    variants: list[Variant] = field(default_factory=list)
    # (file, experiment, variant label) -> (the variant, {role: node key})
    index: dict[tuple[str, str, str], tuple[Variant, dict[str, str]]] = field(
        default_factory=dict)

    def add(self, node: Node, variant: Variant, role: str) -> Node:
        node.key = node_key(node.kind, node.config,
                            {role: n.key for role, n in node.inputs.items()})
        existing = self.nodes.setdefault(node.key, node)
        existing.users.append((variant, role))
        return existing

    def add_shared(self, node: Node, points: Built, role: str) -> Node:
        """Add a node built from several variants; each of them is one of its users."""
        node = self.add(node, points[0][0], role)
        for v, roles in points:
            if node.users[-1][0] is not v:
                node.users.append((v, role))
            roles[role] = node.key
        return node


class CompileError(Exception):
    def __init__(self, variant: Variant, message: str):
        super().__init__(f"{variant.file}: experiment `{variant.experiment}`: {message}")


def data_files(spec: Any) -> tuple[str, ...]:
    """The project's files a spec reads (nested specs too): every call field declared with
    ``configs.project_file()``, such as a JSONL dataset's path or a local model folder."""
    fields = file_fields()
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            name = fields.get(v.get("type"))  # type: ignore[arg-type]
            if name and isinstance(v.get(name), str):
                found.append(v[name])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(spec)
    return tuple(sorted(set(found)))


def poison_points(built: Built, *needs: str) -> Built:
    """The variants of a ``data.poison`` sweep (2+ values) that have every role in ``needs``."""
    points = [(v, roles) for v, roles in built
              if "data.poison" in dict(v.axes) and all(r in roles for r in needs)]
    return points if len({dict(v.axes)["data.poison"] for v, _ in points}) >= 2 else []


# --------------------------------------------------------------------------- names


@functools.cache
def rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def slug(text: str) -> str:
    """A DVC-safe fragment: letters, digits, ``_`` and ``-`` only (``0.5`` → ``0p5``)."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "p", str(text))
    text = re.sub(r"^-(?=\d)", "m", text)
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", text)
    return text.strip("_-") or "x"


def _faithful(text: str) -> bool:
    """Whether ``slug(text)`` reads back as ``text``: only ``/`` (to ``_``) and dots between
    digits (to ``p``) change, and nothing in ``text`` already looks like what they become."""
    if "_" in text or re.search(r"\dp\d", text):
        return slug(text) == text
    return slug(text) == re.sub(r"(?<=\d)\.(?=\d)", "p", text).replace("/", "_")


def name_nodes(graph: Graph, root: Path, previous: dict[str, str] | None = None) -> None:
    """Readable names that depend only on a node's own config and users, and that stay: a
    node the last compile named (``previous``: key -> name, from params.yaml) keeps its
    name, so adding a file renames nothing that was there and reruns nothing.

    A node is named after its *owner*: of the experiments using it, the one that no other
    user extends (an experiment that ``extends quickstart`` shares quickstart's nodes under
    quickstart's names), the first by file and name when several are unrelated. Only the
    sweep axes whose values tell the node apart within the owner are kept. Names that would
    still collide (models whose names slug alike) carry a short key.
    """
    all_values: dict[tuple[str, str], dict[str, set]] = {}
    for v in graph.variants:
        axes = all_values.setdefault((rel(v.file, root), v.experiment), {})
        for path, shown in v.axis_labels():
            axes.setdefault(path, set()).add(shown)

    kept = {key: name for key, name in (previous or {}).items() if key in graph.nodes}
    bases: dict[str, list[Node]] = {}
    for node in graph.nodes.values():
        if node.key in kept:
            node.name = kept[node.key]
        else:
            bases.setdefault(_base_name(node, root, all_values), []).append(node)
    taken = set(kept.values())
    for base, nodes in bases.items():
        for node in nodes:
            alone = len(nodes) == 1 and base not in taken
            node.name = base if alone else f"{base}-{node.key[:6]}"


# A stage's kind and key: in params.yaml (schema 1) or its dvc.yaml `meta` (schema 2).
_ENTRY_KEY = re.compile(r"^  (\S+):\n(?:    meta:\n  )?    kind: \S+\n(?:  )?    key: "
                        r"\"?([0-9a-f]+)\"?$", re.MULTILINE)


def previous_names(params_text: str) -> dict[str, str]:
    """Key -> stage name of the stages a params.yaml or dvc.yaml (emit's layout) lists; a
    scan, not a parse, so a 40 MB file costs a fraction of a second."""
    return {key: name for name, key in _ENTRY_KEY.findall(params_text)}


def owner(node: Node, root: Path) -> Variant:
    """The variant a node is named after (see ``name_nodes``)."""
    def where(v: Variant) -> tuple[str, str]:
        return (rel(v.file, root), v.experiment)

    users = [v for v, _ in node.users]
    exps = {where(v) for v in users}
    roots = [v for v in users if not exps & {(rel(Path(f), root), e) for f, e in v.lineage}]
    return min(roots or users, key=lambda v: (where(v), repr(v.axis_labels())))


def _base_name(node: Node, root: Path, all_values: dict[tuple[str, str], dict[str, set]]
               ) -> str:
    if node.kind == "model":
        text = str(node.config.get("name") or node.config.get("dir"))
        # a lossy slug (`m/a.b` and `m/a_b` both read `m_a_b`) keeps the names apart by key
        return f"model-{slug(text)}" + ("" if _faithful(text) else f"-{node.key[:6]}")
    first = owner(node, root)
    same_exp = [v for v, _ in node.users
                if v.experiment == first.experiment and v.file == first.file]
    every = all_values[(rel(first.file, root), first.experiment)]
    parts = []
    for path, shown in first.axis_labels():
        seen = {s for v in same_exp for p, s in v.axis_labels() if p == path}
        if seen != every[path]:
            parts.append(f"{slug(path.split('.')[-1])}_{slug(shown)}")
    pieces = [node.kind, node.role, first.experiment, *parts]
    return "-".join(slug(p) for p in pieces if p)
