"""The cross-checks of ``emx check``: what an experiment's fields need from each other.

Each stage kind declares its own (``Kind.rules``, ``Kind.variant_rules``; see
``emdsl.kinds.Rule`` for the one signature): steering needs an SAE, a layer must be within
the model, a mix must fit the builtin pools it draws from. This module gathers them.
"""

from __future__ import annotations

from collections.abc import Iterable

from emdsl.diagnostics import Diagnostic
from emdsl.kinds import Rule, Subject, all_kinds


def experiment_rules() -> list[Rule]:
    """Rules run once per experiment, on its config before sweeps expand."""
    return [r for k in all_kinds() for r in k.rules]


def variant_rules() -> list[Rule]:
    """Rules run on each variant's config; the first variant with a problem stops."""
    return [r for k in all_kinds() for r in k.variant_rules]


def check_rules(rules: Iterable[Rule], subject: Subject) -> list[Diagnostic]:
    """Every problem the rules find in ``subject``."""
    return [d for rule in rules for d in rule(subject)]
