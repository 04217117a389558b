"""Sweeps and command-line overrides → the axes of an experiment's variants: each a dotted
path into the config and the values it takes. A value that does not fit its field is reported
like a bad argument, with the field's range as the hint."""

from __future__ import annotations

from dataclasses import Field
from pathlib import Path
from typing import Any

from emdsl import ast, configs
from emdsl.check.loader import MAX_NAME_LENGTH, Scope
from emdsl.check.paths import assign, freeze, locate, path_hint
from emdsl.check.program import INVALID, Chain, Diagnostics, Override, show_value
from emdsl.check.resolve import Resolver, coerce_problem, range_hint
from emdsl.kinds import experiment_fields

# (dotted path, its values, how each reads in variant labels), in sweep order
Axes = list[tuple[str, list[Any], list[str]]]

# ``seeds = N``: an experiment field no kind reads; it makes the implicit axis ``seed``.
SEEDS = "seeds"
SEED_AXIS = "seed"
MAX_SEEDS = 100
# The experiment fields whose call's ``seed`` a seed sets: the data order (``mix``), the
# training (``sft``, ``grpo``) and the sampling (``evaluate``, each of an ``eval`` list).
SEEDED = ("data", "train", "eval")


class Sweeps:
    """Resolves an experiment's sweeps and applies its command-line overrides."""

    def __init__(self, resolver: Resolver, diagnostics: Diagnostics):
        self.resolver = resolver
        self.scopes = resolver.loader.scopes
        self.diagnostics = diagnostics

    def axes(self, chain: Chain, config: dict[str, Any],
             overrides: list[Override]) -> Axes | None:
        """The sweeps of an experiment and its ancestors (``chain``, oldest first; a child's
        sweep replaces an ancestor's over the same path), then the command-line
        ``overrides``, which set ``config`` in place. None after reporting any problem."""
        sweeps: dict[tuple[str, ...], tuple[ast.Sweep, Path]] = {}
        for exp, exp_path in chain:
            for member in exp.members:
                if isinstance(member, ast.Sweep):
                    sweeps[member.path] = (member, exp_path)
        axes: Axes = []
        ok = True
        for key, (sweep, sweep_path) in sweeps.items():
            swept = self._sweep_values(sweep, config, self.scopes[sweep_path])
            if swept is None:
                ok = False
            else:
                axes.append((".".join(key), *swept))
        for override in overrides:
            ok = self._override(override, config, axes) and ok
        return axes if ok else None

    def seeds(self, expr: ast.Expr) -> int | None:
        """``seeds = N``: N, an int in 1..MAX_SEEDS; None after reporting why not."""
        assert expr.pos is not None
        value = self.resolver.literal(expr, int)
        if value is INVALID:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.diagnostics.error(expr.pos, f"`seeds`: expected int, got {show_value(value)}",
                                   "a whole number of seeds, e.g. `seeds = 3`")
            return None
        if not 1 <= value <= MAX_SEEDS:
            self.diagnostics.error(expr.pos, f"`seeds = {value}`: at least 1 and at most "
                                   f"{MAX_SEEDS}", "`seeds = 3` runs every variant at seeds "
                                   "0, 1 and 2")
            return None
        return value

    def _target(self, verb: str, path: tuple[str, ...], pos: ast.Pos,
                config: dict[str, Any]) -> tuple[type | None, Field | None] | None:
        """The (config class, field) that a sweep or override of ``path`` sets; None after
        reporting why the path names nothing."""
        target = locate(config, path)
        if isinstance(target, str):
            self.diagnostics.error(pos, f"cannot {verb} `{'.'.join(path)}`: {target}",
                                   path_hint(config, path))
            return None
        return target

    def _override(self, override: Override, config: dict[str, Any], axes: Axes) -> bool:
        """Apply a command-line override in place: a plain value, or a (replacing) sweep."""
        dotted = ".".join(override.path)
        target = self._target("override", override.path, override.pos, config)
        if target is None:
            return False
        cls, f = target
        if f is None or f.metadata.get("role"):
            self.diagnostics.error(override.pos, f"`{dotted}` is not a plain value",
                                   "override numbers, strings or booleans, e.g. `train.lr=1e-4`")
            return False
        tp = configs.field_type(cls, f)
        if problem := next(filter(None, (coerce_problem(tp, v) for v in override.values)), None):
            self.diagnostics.error(override.pos, f"override `{override.text}`: {problem}")
            return False
        values = [configs.coerce(tp, v) for v in override.values]
        for v in values:
            problem = value_problem(cls, f, dotted, v, config)
            if problem:
                self.diagnostics.error(override.pos, f"override `{override.text}`: {problem}",
                                       range_hint(f))
                return False
        axes[:] = [axis for axis in axes if axis[0] != dotted]
        if override.sweep:
            axes.append((dotted, values, [show_value(v) for v in values]))
        else:
            config.update(assign(config, [(dotted, values[0])]))
        return True

    def _sweep_values(self, sweep: ast.Sweep, config: dict[str, Any],
                      scope: Scope) -> tuple[list[Any], list[str]] | None:
        """A sweep's values, each resolved and checked like the field it sweeps, and how
        each reads in variant labels (``sweep_labels``)."""
        assert sweep.pos is not None
        dotted = ".".join(sweep.path)
        target = self._target("sweep", sweep.path, sweep.pos, config)
        if target is None:
            return None
        cls, f = target
        if not sweep.values.items:
            self.diagnostics.error(sweep.pos, f"sweep over `{dotted}` has no values",
                                   "list at least one")
            return None
        values = []
        for item in sweep.values.items:
            assert item.pos is not None
            if f is None:  # a whole experiment field, e.g. `sweep data = [a, b]`
                role = experiment_fields()[sweep.path[0]]
                value = self.resolver.resolve(item, role, scope, dotted, {})
            elif f.metadata.get("role"):
                value = self.resolver.resolve(item, f.metadata["role"], scope, dotted, {})
            else:
                value = self.resolver.literal(item, configs.field_type(cls, f))
            if value is INVALID:
                return None
            problem = value_problem(cls, f, dotted, value, config)
            if problem:
                self.diagnostics.error(item.pos, f"sweep value for `{dotted}`: {problem}",
                                       range_hint(f) if f is not None else None)
                return None
            values.append(value)
        if len({freeze(v) for v in values}) != len(values):
            self.diagnostics.error(sweep.pos, f"sweep over `{dotted}` repeats a value",
                                   "list each value once")
            return None
        return values, sweep_labels(sweep.values.items, values)


def sweep_labels(items: list[ast.Expr], values: list[Any]) -> list[str]:
    """How each swept value reads in variant labels: the declared name it was given by
    (``bad=med_subtle``), else its shown value (``poison=0.5``); calls that would read alike
    (``data=mix`` twice) read by their position in the sweep (``data=mix1``, ``data=mix2``)."""
    labels = [item.name if isinstance(item, ast.Ref) else show_value(v)
              for item, v in zip(items, values, strict=True)]
    repeated = {x for x in labels if labels.count(x) > 1}
    return [f"{x}{i}" if x in repeated else x for i, x in enumerate(labels, 1)]


def value_problem(cls: type | None, f: Field | None, dotted: str, value: Any,
                  config: dict[str, Any]) -> str | None:
    """Why a sweep or override value cannot be used: it does not fit its field, it is too
    long to name variants and stages by, or the call it goes into rejects it."""
    if cls is not None and f is not None and (problem := configs.check_value(cls, f, value)):
        return problem
    shown = show_value(value)
    if len(shown) > MAX_NAME_LENGTH:
        return (f"its label is {len(shown)} characters long; at most {MAX_NAME_LENGTH} "
                "(variant and stage names are made from it)")
    try:
        assign(config, [(dotted, value)])
    except ValueError as e:
        return str(e)
    return None


def seeded_paths(config: dict[str, Any]) -> list[str]:
    """The ``seed`` fields a seed sets in this config: ``data.seed``, ``train.seed``,
    ``eval.seed`` (each present only when its call has a seed)."""
    out = []
    for name in SEEDED:
        value = config.get(name)
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict) and "seed" in v for v in items):
            out.append(f"{name}.seed")
    return out


def seed_axis(n: int, config: dict[str, Any], axes: Axes, pos: ast.Pos,
              diagnostics: Diagnostics) -> tuple[str, list[Any], list[str]] | None:
    """The axis ``seed`` over 0..n-1 (last, so labels read ``poison=0.5,seed=1``); None
    after reporting a conflict: a sweep or override of a seed it sets, a seed written in the
    calls (which it would replace), or nothing to seed."""
    paths = seeded_paths(config)
    if not paths:
        diagnostics.error(pos, f"`seeds = {n}` has nothing to seed",
                          "it seeds `data`, `train` and `eval`; set one of them")
        return None
    for dotted, *_ in axes:
        if dotted in paths:
            diagnostics.error(pos, f"`seeds = {n}` sets `{dotted}` to 0..{n - 1}, and "
                              f"`{dotted}` is swept too", f"drop the sweep of `{dotted}` or "
                              "`seeds`")
            return None
    for dotted in paths:
        name = dotted.split(".")[0]
        value = config[name]
        written = [v.get("seed") for v in (value if isinstance(value, list) else [value])
                   if isinstance(v, dict)]
        if any(w not in (None, 0) for w in written):
            diagnostics.error(pos, f"`seeds = {n}` sets `{dotted}` to 0..{n - 1}, and "
                              f"`{name}` writes `seed={next(w for w in written if w)}`",
                              f"drop `seed=` from `{name}` or drop `seeds`")
            return None
    return SEED_AXIS, list(range(n)), [str(i) for i in range(n)]


def seed_assignments(config: dict[str, Any], point: list[tuple[str, Any]]
                     ) -> list[tuple[str, Any]]:
    """A variant's assignments with the ``seed`` axis spelled out: each seeded field's
    ``seed`` set to it (an ``eval`` list item by item)."""
    out = []
    for dotted, value in point:
        if dotted != SEED_AXIS:
            out.append((dotted, value))
            continue
        for path in seeded_paths(config):
            name = path.split(".")[0]
            if isinstance(config[name], list):
                out.append((name, [{**v, "seed": value} if isinstance(v, dict) and "seed" in v
                                   else v for v in config[name]]))
            else:
                out.append((path, value))
    return out
