"""Experiments → variants. An experiment inherits fields and sweeps through ``extends``
(ancestors first, so children override); its sweeps and the command-line overrides
(``emdsl.check.sweeps``) give the axes whose Cartesian product is its variants; the domain
rules (``emdsl.check.rules``) check the experiment and then each variant.

``seeds = N`` (N > 1) adds an implicit last axis ``seed`` over 0..N-1 (``emdsl.check.sweeps.
seed_axis``): each variant at seed s sets the data order's, the training's and the sampling's
``seed`` to s. ``seeds = 1`` or absent adds nothing: the variants, labels and keys of today.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from emdsl import ast
from emdsl.check.paths import assign
from emdsl.check.program import (
    INVALID,
    Chain,
    Diagnostics,
    Override,
    ResolvedExperiment,
    Variant,
)
from emdsl.check.resolve import Positions, Resolver
from emdsl.check.rules import check_rules, experiment_rules, variant_rules
from emdsl.check.sweeps import SEEDS, Sweeps, seed_assignments, seed_axis
from emdsl.diagnostics import did_you_mean
from emdsl.kinds import Subject, experiment_fields
from emdsl.kinds.generate import split_evals

# A variant's label keys it in params.yaml and names its stages: under YAML's 1,024-character
# limit on keys, with room for the experiment's name.
MAX_LABEL_LENGTH = 600


class Experiments:
    """Resolves each experiment statement to its variants."""

    def __init__(self, resolver: Resolver, overrides: dict[Path, list[Override]],
                 diagnostics: Diagnostics):
        self.resolver = resolver
        self.scopes = resolver.loader.scopes
        self.overrides = overrides
        self.diagnostics = diagnostics
        self.sweeps = Sweeps(resolver, diagnostics)

    def resolve(self, node: ast.Experiment, path: Path) -> ResolvedExperiment | None:
        """The experiment's variants; None (after reporting every problem) when it has any."""
        chain = self._extends_chain(node, path)
        if chain is None:
            return None
        positions: Positions = {}
        extra: dict[str, Any] = {}
        config = self._fields(chain, positions, extra)
        if config is None:
            return None
        if config["base"] is None:
            assert node.pos is not None
            self.diagnostics.error(node.pos, f"experiment `{node.name}` has no `base` model",
                                   "add `base = <model>` to it or to the experiment it extends")
            return None
        axes = self.sweeps.axes(chain, config, self.overrides.get(path, []))
        if axes is None:
            return None
        assert node.pos is not None
        if extra.get(SEEDS, 1) > 1:
            axis = seed_axis(extra[SEEDS], config, axes, positions.get(SEEDS, node.pos),
                             self.diagnostics)
            if axis is None:
                return None
            axes.append(axis)
        subject = Subject(node.name, split_evals(config), positions, node.pos)
        problems = check_rules(experiment_rules(), subject)
        self.diagnostics.extend(problems)
        if any(p.severity == "error" for p in problems):
            return None
        variants: dict[str, Variant] = {}
        lineage = tuple((str(p), exp.name) for exp, p in chain[:-1])
        numbered = [list(zip(values, shown, strict=True)) for _, values, shown in axes]
        for combo in itertools.product(*numbered):
            point = [(p, v) for (p, *_), (v, _) in zip(axes, combo, strict=True)]
            variant = Variant(node.name, path, tuple(point),
                              split_evals(assign(config, seed_assignments(config, point))),
                              tuple(s for _, s in combo), lineage)
            if len(variant.label) > MAX_LABEL_LENGTH:
                self.diagnostics.error(node.pos, f"variant `{variant.label[:40]}…` has a "
                                       f"label of {len(variant.label)} characters; at most "
                                       f"{MAX_LABEL_LENGTH}", "sweep fewer fields at once")
                return None
            subject = Subject(node.name, variant.config, positions, node.pos, variant.label)
            problems = check_rules(variant_rules(), subject)
            self.diagnostics.extend(problems)
            if any(p.severity == "error" for p in problems):
                return None
            if variant.label in variants:  # results, stages and params are keyed by label
                self.diagnostics.error(node.pos, f"two variants of experiment `{node.name}` "
                                       f"would both be labelled `{variant.label}`",
                                       "sweep declared names (`sweep data.bad = [a, b]`), or "
                                       "sweep fields whose last names differ")
                return None
            variants[variant.label] = variant
        return ResolvedExperiment(node.name, path, list(variants.values()))

    def _extends_chain(self, node: ast.Experiment, path: Path
                       ) -> Chain | None:
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

    def _fields(self, chain: Chain, positions: Positions,
                extra: dict[str, Any]) -> dict[str, Any] | None:
        """Each experiment field's value (None when unset), children overriding ancestors;
        ``seeds``, which no kind reads (it makes variants), goes into ``extra``."""
        config: dict[str, Any] = {name: None for name in experiment_fields()}
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
                if member.name == SEEDS:
                    seeds = self.sweeps.seeds(member.value)
                    positions[SEEDS] = member.pos
                    if seeds is None:
                        ok = False
                    else:
                        extra[SEEDS] = seeds
                    continue
                role = experiment_fields().get(member.name)
                if role is None:
                    self.diagnostics.error(member.pos,
                                           f"experiments have no field `{member.name}`",
                                           did_you_mean(member.name,
                                                        [*experiment_fields(), SEEDS]))
                    ok = False
                    continue
                value = self.resolver.resolve(member.value, role, scope, member.name, positions)
                if value is INVALID:
                    ok = False
                else:
                    config[member.name] = value
        return config if ok else None
