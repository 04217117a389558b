"""Experiments → variants. An experiment inherits fields and sweeps through ``extends``
(ancestors first, so children override); its sweeps, then the command-line overrides, give the
axes whose Cartesian product is its variants; the domain rules (``emdsl.check.rules``) check
the experiment and then each variant.
"""

from __future__ import annotations

import itertools
from dataclasses import Field
from pathlib import Path
from typing import Any

from emdsl import ast, configs
from emdsl.check.loader import Scope
from emdsl.check.paths import assign, freeze, locate, path_hint
from emdsl.check.program import INVALID, Diagnostics, Override, ResolvedExperiment, Variant
from emdsl.check.resolve import Positions, Resolver, range_hint
from emdsl.check.rules import RULES, VARIANT_RULES, Subject, check_rules
from emdsl.diagnostics import did_you_mean

Axes = list[tuple[str, list[Any]]]  # (dotted path, its values), in sweep order


class Experiments:
    def __init__(self, resolver: Resolver, overrides: dict[Path, list[Override]],
                 diagnostics: Diagnostics):
        self.resolver = resolver
        self.scopes = resolver.loader.scopes
        self.overrides = overrides
        self.diagnostics = diagnostics

    def resolve(self, node: ast.Experiment, path: Path) -> ResolvedExperiment | None:
        """The experiment's variants; None (after reporting every problem) when it has any."""
        chain = self._extends_chain(node, path)
        if chain is None:
            return None
        positions: Positions = {}
        config = self._fields(chain, positions)
        if config is None:
            return None
        if config["base"] is None:
            assert node.pos is not None
            self.diagnostics.error(node.pos, f"experiment `{node.name}` has no `base` model",
                                   "add `base = <model>` to it or to the experiment it extends")
            return None
        axes = self._axes(chain, config, path)
        if axes is None:
            return None
        assert node.pos is not None
        problems = check_rules(RULES, Subject(node.name, config, positions, node.pos))
        if problems:
            self.diagnostics.extend(problems)
            return None
        variants = []
        for combo in itertools.product(*(values for _, values in axes)):
            point = [(p, v) for (p, _), v in zip(axes, combo, strict=True)]
            variant = Variant(node.name, path, tuple(point), assign(config, point))
            subject = Subject(node.name, variant.config, positions, node.pos, variant.label)
            if problems := check_rules(VARIANT_RULES, subject):
                self.diagnostics.extend(problems)
                return None
            variants.append(variant)
        return ResolvedExperiment(node.name, path, variants)

    def _extends_chain(self, node: ast.Experiment, path: Path
                       ) -> list[tuple[ast.Experiment, Path]] | None:
        """The experiment and its ancestors, oldest first; None on an unknown parent or a cycle."""
        chain = [(node, path)]
        seen = [node.name]
        current, current_path = node, path
        while current.extends is not None:
            scope = self.scopes[current_path]
            entry = scope.names.get(current.extends)
            assert current.extends_pos is not None
            if entry is None or not isinstance(entry[0], ast.Experiment):
                exps = [n for n, (x, _) in scope.names.items() if isinstance(x, ast.Experiment)]
                self.diagnostics.error(current.extends_pos,
                                       f"unknown experiment `{current.extends}`",
                                       did_you_mean(current.extends, exps))
                return None
            parent, parent_path = entry
            if parent.name in seen:
                cycle = " → ".join([*seen, parent.name])
                self.diagnostics.error(current.extends_pos, f"`extends` cycle: {cycle}",
                                       "an experiment cannot extend itself, directly or not")
                return None
            seen.append(parent.name)
            chain.append((parent, parent_path))
            current, current_path = parent, parent_path
        return list(reversed(chain))

    def _fields(self, chain: list[tuple[ast.Experiment, Path]],
                positions: Positions) -> dict[str, Any] | None:
        """Each experiment field's value (None when unset), children overriding ancestors."""
        config: dict[str, Any] = {name: None for name in configs.EXPERIMENT_FIELDS}
        ok = True
        for exp, exp_path in chain:
            scope = self.scopes[exp_path]
            seen: set[str] = set()
            for member in exp.members:
                assert member.pos is not None
                if isinstance(member, ast.Sweep):
                    continue
                if member.name in seen:
                    self.diagnostics.error(member.pos, f"`{member.name}` is set twice in "
                                           f"experiment `{exp.name}`", "keep one of them")
                    ok = False
                    continue
                seen.add(member.name)
                role = configs.EXPERIMENT_FIELDS.get(member.name)
                if role is None:
                    self.diagnostics.error(member.pos,
                                           f"experiments have no field `{member.name}`",
                                           did_you_mean(member.name, configs.EXPERIMENT_FIELDS))
                    ok = False
                    continue
                value = self.resolver.resolve(member.value, role, scope, member.name, positions)
                if value is INVALID:
                    ok = False
                else:
                    config[member.name] = value
        return config if ok else None

    def _axes(self, chain: list[tuple[ast.Experiment, Path]], config: dict[str, Any],
              path: Path) -> Axes | None:
        """The sweeps (a child's replacing an ancestor's over the same path), then the
        command-line overrides of ``path``; overrides set ``config`` in place."""
        sweeps: dict[tuple[str, ...], tuple[ast.Sweep, Path]] = {}
        for exp, exp_path in chain:
            for member in exp.members:
                if isinstance(member, ast.Sweep):
                    sweeps[member.path] = (member, exp_path)
        axes: Axes = []
        ok = True
        for key, (sweep, sweep_path) in sweeps.items():
            values = self._sweep_values(sweep, config, self.scopes[sweep_path])
            if values is None:
                ok = False
            else:
                axes.append((".".join(key), values))
        for override in self.overrides.get(path, []):
            ok = self._override(override, config, axes) and ok
        return axes if ok else None

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
        values = [configs.coerce(configs.field_type(cls, f), v) for v in override.values]
        for v in values:
            problem = configs.check_value(cls, f, v)
            if problem:
                self.diagnostics.error(override.pos, f"override `{override.text}`: {problem}",
                                       range_hint(f))
                return False
        axes[:] = [(p, vs) for p, vs in axes if p != dotted]
        if override.sweep:
            axes.append((dotted, values))
        else:
            config.update(assign(config, [(dotted, values[0])]))
        return True

    def _sweep_values(self, sweep: ast.Sweep, config: dict[str, Any],
                      scope: Scope) -> list[Any] | None:
        """A sweep's values, each resolved and checked like the field it sweeps."""
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
                role = configs.EXPERIMENT_FIELDS[sweep.path[0]]
                value = self.resolver.resolve(item, role, scope, dotted, {})
            elif f.metadata.get("role"):
                value = self.resolver.resolve(item, f.metadata["role"], scope, dotted, {})
            else:
                value = self.resolver.literal(item, configs.field_type(cls, f))
            if value is INVALID:
                return None
            if f is not None:
                problem = configs.check_value(cls, f, value)
                if problem:
                    self.diagnostics.error(item.pos, f"sweep value for `{dotted}`: {problem}",
                                           range_hint(f))
                    return None
            values.append(value)
        if len({freeze(v) for v in values}) != len(values):
            self.diagnostics.error(sweep.pos, f"sweep over `{dotted}` repeats a value",
                                   "list each value once")
            return None
        return values
