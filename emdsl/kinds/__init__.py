"""Stage kinds: one module per kind says everything the compiler and the results need of it.

A kind (``emdsl/kinds/steer.py``) declares, in one class: the experiment fields it reads,
how it wires its nodes into a variant's graph, the small git-tracked files its stages write
(metrics, plot data) and the DVC plots drawn from them, its columns in ``emx show``, its
section in ``emx diff``, its report figures, its cross-checks, and the implementation
modules its config selects (its code identity). The stage itself runs as
``python -m <entry> <stage-name>`` (``stages.<kind>`` for the builtin kinds).

Kinds are discovered by convention (every module of this package) and through the
``emdsl.kinds`` entry-point group, so a researcher's own package can add one::

    [project.entry-points."emdsl.kinds"]
    count = "my_package.kind"      # a module that registers a Kind subclass with @register

The registry refuses two kinds of one name.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from emdsl import ast
from emdsl.diagnostics import Diagnostic
from emdsl.graph import Built, CompileError, Graph, Node
from emdsl.plots import Curves
from emdsl.variant import Variant

ENTRY_POINT_GROUP = "emdsl.kinds"


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class DvcPlot:
    """A top-level DVC plot, drawn once per experiment from its stages' ``file``."""

    name: str
    file: str
    title: str
    props: dict[str, str]
    columns: tuple[str, ...]  # drawn from each file
    rank: int  # position among all kinds' plots in dvc.yaml


@dataclass(frozen=True)
class Column:
    """A column of the results table (``emx show``), with its polars dtype.

    ``compared`` names it in ``emx diff``'s "other results changed" when it differs."""

    name: str
    dtype: str
    compared: str | None = None


@dataclass
class VariantResults:
    """What a kind reads to fill its columns for one variant: the small results files of the
    variant's stages and their configs in params.yaml, by the role each stage plays."""

    stages: dict[str, str]  # role -> stage name
    metrics: Callable[[str], dict[str, Any] | None]  # role -> that stage's metrics.json
    config: Callable[[str], dict[str, Any]]  # role -> that stage's config in params.yaml


@dataclass
class FigureData:
    """What a kind reads to draw its report figures."""

    rows: list[dict[str, Any]]  # the results table's rows of the file
    curves: Callable[[tuple[str, ...], str], Curves]  # (roles, csv name) -> curves by variant


# --------------------------------------------------------------------------- cross-checks


@dataclass(frozen=True)
class Subject:
    """What a rule checks: one experiment's resolved config, and where its values are written."""

    experiment: str
    config: Mapping[str, Any]  # experiment field -> resolved value (None when absent)
    positions: Mapping[str, ast.Pos]  # dotted path -> position of its value
    pos: ast.Pos  # the experiment itself
    variant: str = ""  # the variant's label (variant rules only)

    def at(self, *paths: str) -> ast.Pos:
        """Where the first of ``paths`` that is written is; else the experiment."""
        return next((self.positions[p] for p in paths if p in self.positions), self.pos)


# A cross-check: reads ``subject.config``, yields a located diagnostic per problem, never
# raises and never changes the config.
Rule = Callable[[Subject], Iterable[Diagnostic]]


def needs(field: str, *required: str, why: str) -> Rule:
    """A rule: when ``field`` is set, each of ``required`` must be set too."""

    def rule(s: Subject) -> Iterator[Diagnostic]:
        if s.config[field] is None:
            return
        for r in required:
            if s.config[r] is None:
                yield Diagnostic(s.at(field), f"`{field}` needs `{r}` in experiment "
                                 f"`{s.experiment}`", why)

    return rule


# --------------------------------------------------------------------------- cell formats


def num_cell(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def with_ci(value: float | None, lo: float | None, hi: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None \
        else f"{value:.2f}"



class Builder:
    """Builds the nodes of one variant. Kinds wire in order and leave named handles
    (``b.nodes["adapter"]``, ``b.nodes["sae"]`` ...) for the kinds after them."""

    def __init__(self, graph: Graph, variant: Variant, root: Path):
        self.graph, self.variant, self.root = graph, variant, root
        self.config = variant.config
        self.roles: dict[str, str] = {}
        self.nodes: dict[str, Node] = {}
        self.memo: dict[Any, Node] = {}  # per-variant sharing, e.g. one judge model per spec

    def add(self, role: str, kind: str, config: dict[str, Any], inputs: dict[str, Node | None],
            *, name_role: str | None = None, files: tuple[str, ...] = ()) -> Node:
        present = {r: n for r, n in inputs.items() if n is not None}
        node = self.graph.add(Node(kind, config, present, name_role, files), self.variant, role)
        self.roles[role] = node.key
        return node

    def error(self, message: str) -> CompileError:
        return CompileError(self.variant, message)


class Kind:
    """Base of every stage kind. Set the class attributes; override the hooks that apply."""

    name: ClassVar[str]
    entry: ClassVar[str] = ""  # module run by DVC; "" means ``stages.<name>``
    order: ClassVar[int] = 100  # wiring order: a kind sees the nodes of kinds before it
    fields: ClassVar[dict[str, str]] = {}  # experiment fields it reads -> their roles
    metrics: ClassVar[tuple[str, ...]] = ()  # git-tracked files in results/<stage>/
    plots: ClassVar[tuple[str, ...]] = ()  # plot data (CSV) in results/<stage>/
    dvc_plots: ClassVar[tuple[DvcPlot, ...]] = ()
    columns: ClassVar[tuple[Column, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()  # its table cells dropped when empty in every row
    figure_rank: ClassVar[int] = 100  # where its report figures stand among all kinds'
    # Stage role in params.yaml -> (section shown in `emx diff`, the part of its config that
    # is its own, None for all of it). Roles it wires that repeat others' settings are absent.
    sections: ClassVar[dict[str, tuple[str, str | None]]] = {}
    # Cross-checks (``emx check``): ``rules`` run once per experiment before sweeps expand,
    # ``variant_rules`` on each variant (sweeps and overrides applied).
    rules: ClassVar[tuple[Rule, ...]] = ()
    variant_rules: ClassVar[tuple[Rule, ...]] = ()

    @property
    def module(self) -> str:
        return self.entry or f"stages.{self.name}"

    @property
    def has_results(self) -> bool:
        return bool(self.metrics or self.plots)

    def wire(self, b: Builder) -> None:
        """Add this kind's nodes for one variant (nothing by default: wired by another kind)."""

    def gather(self, graph: Graph, built: Built) -> None:
        """Add nodes that read several variants of one experiment (a sweep's summary)."""

    def fill(self, v: VariantResults) -> dict[str, Any]:
        """This kind's columns for one variant."""
        return {}

    def cells(self, row: dict[str, Any]) -> dict[str, str]:
        """This kind's cells of the human table (``emx show``, the report)."""
        return {}

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        """(name, caption, PNG or None when there is nothing to draw) for the report."""
        return []

    def signature(self, v: VariantResults) -> dict[str, float]:
        """The variant's activation shift per latent or direction (``"latent 12"``: +0.4),
        from its results files: a row of the report's failure-mode map (``emdsl.
        failuremap``). A kind that measures no shift returns nothing."""
        return {}

    def signature_labels(self, v: VariantResults) -> dict[str, str]:
        """What each of ``signature``'s keys is, in a few words (a judge's label, the
        strongest snippet), for the map's legend."""
        return {}

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        """Modules its stage runs besides the entry module's own imports: the
        implementations its config selects (a judge backend, a sampler)."""
        return ()

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        """Builtin data files its stage reads (``emdsl.builtin.files``): part of its code
        identity, so editing one domain's data reruns that domain's stages only."""
        return ()


# --------------------------------------------------------------------------- registry

_KINDS: dict[str, Kind] = {}


def register(cls: type[Kind]) -> type[Kind]:
    """Class decorator: make ``cls`` the stage kind ``cls.name``. Refuses duplicates."""
    if cls.name in _KINDS:
        raise ValueError(f"stage kind {cls.name!r} is already registered "
                         f"(by {type(_KINDS[cls.name]).__module__})")
    _KINDS[cls.name] = cls()
    return cls


@functools.cache
def discover() -> None:
    """Import every kind module of this package, then the ``emdsl.kinds`` entry points."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        importlib.import_module(f"{__name__}.{info.name}")
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        ep.load()


def get_kind(name: str) -> Kind:
    discover()
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"no stage kind {name!r}; known: {', '.join(sorted(_KINDS))}") from None


def all_kinds() -> list[Kind]:
    """Every kind, in wiring order (then by name)."""
    discover()
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.name))


def experiment_fields() -> dict[str, str]:
    """Every experiment field (``base``, ``train``, ``steer`` ...) and the role it takes, in
    kind order: the fields the language accepts are the ones some kind reads."""
    fields: dict[str, str] = {}
    for k in all_kinds():
        for name, role in k.fields.items():
            if name in fields:
                raise ValueError(f"experiment field {name!r} of kind {k.name!r} is taken")
            fields[name] = role
    return fields


def result_columns() -> dict[str, str]:
    """The results table's columns in order, with their polars dtypes."""
    cols = {"file": "String", "experiment": "String", "variant": "String", "axes": "String"}
    for k in all_kinds():
        for c in k.columns:
            if c.name in cols:
                raise ValueError(f"column {c.name!r} of kind {k.name!r} is declared twice")
            cols[c.name] = c.dtype
    return cols


def dvc_plots() -> list[tuple[Kind, DvcPlot]]:
    """Every kind's DVC plots, in their ``rank`` order."""
    found = [(k, p) for k in all_kinds() for p in k.dvc_plots]
    return sorted(found, key=lambda kp: kp[1].rank)
