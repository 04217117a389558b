"""AST → resolved experiments, or every problem in the files at once.

The steps, one module each:
    loader       which files, their imports and scopes, paths confined to the project root
    resolve      expressions → config values, checked against ``emdsl.configs``
    calls        checks of one call's arguments (builtin names, data files, probe layers)
    experiments  ``extends`` and fields → config, then the variants
    sweeps       sweeps and command-line overrides → the axes of the variants
    paths        dotted paths into a config (``data.poison``)
    rules        domain rules across an experiment's fields, as a list of small functions
    checker      one run of all of them: ``check_files``
"""

from emdsl.check.checker import Checker, check_files, check_or_raise, resolve_declaration
from emdsl.check.loader import collect_files, find_root
from emdsl.check.paths import locate
from emdsl.check.program import (
    COMMAND_LINE,
    INVALID,
    Override,
    Program,
    ResolvedExperiment,
    Variant,
    show_value,
)
from emdsl.check.rules import check_rules, experiment_rules, variant_rules
from emdsl.kinds import Rule, Subject
from emdsl.kinds.data import mix_problem
from emdsl.kinds.model import model_depth

__all__ = [
    "COMMAND_LINE",
    "INVALID",
    "Checker",
    "Override",
    "Program",
    "ResolvedExperiment",
    "Rule",
    "Subject",
    "Variant",
    "check_files",
    "check_or_raise",
    "check_rules",
    "collect_files",
    "experiment_rules",
    "find_root",
    "locate",
    "mix_problem",
    "model_depth",
    "resolve_declaration",
    "show_value",
    "variant_rules",
]
