"""Checks on one call's arguments that a field's type and range cannot express: builtin names
exist, data files are inside the project and not empty, a probe's layer is in its model, an
``openai`` judge's key comes from a key variable and is not sent over plain http.

Each check sees the call's config class and the values given to it, and returns an
``ArgProblem`` naming the argument to point at, or None.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from emdsl import configs
from emdsl.check.files import (
    Problem,
    content_problem,
    lora_targets_problem,
    path_text_problem,
)
from emdsl.check.loader import Loader, Scope, outside_hint
from emdsl.diagnostics import did_you_mean
from emdsl.kinds.model import model_depth


class ArgProblem(NamedTuple):
    message: str
    hint: str | None
    arg: str  # the argument whose position the diagnostic points at


# The argument of each config that names a builtin, and what the diagnostics call the builtin.
_NAMED: dict[type, tuple[str, str]] = {
    configs.BuiltinDataset: ("domain", "builtin dataset"),
    configs.BuiltinQuestions: ("name", "builtin question set"),
    configs.BuiltinJudgeData: ("name", "builtin judge set"),
    configs.EmbeddedModel: ("name", "embedded model"),
}


def call_problem(cls: type, values: dict[str, Any], scope: Scope,
                 loader: Loader) -> ArgProblem | Problem | None:
    """The first problem of a call whose arguments each passed their own field's checks."""
    return (builtin_problem(cls, values) or path_text_problem(cls, values)
            or file_problem(cls, values, scope, loader) or lora_targets_problem(cls, values)
            or probe_problem(cls, values) or key_problem(cls, values)
            or sae_problem(cls, values, loader))


def builtin_problem(cls: type, values: dict[str, Any]) -> ArgProblem | None:
    """An unknown builtin name, with a did-you-mean.

    The configs reject these names too (sweeps and overrides rebuild them without the
    checker); this check is here to point at the argument and suggest the nearest name.
    """
    if cls not in _NAMED:
        return None
    arg, noun = _NAMED[cls]
    name = _given(cls, values, arg)
    known = _known_names(cls)
    if name not in known:
        return ArgProblem(f"unknown {noun} `{name}`", did_you_mean(name, known), arg)
    if cls is configs.BuiltinDataset:
        variant, variants = _given(cls, values, "variant"), known[name]
        if variant not in variants:
            return ArgProblem(f"builtin dataset `{name}` has no variant `{variant}`",
                              did_you_mean(variant, variants), "variant")
    return None


def _given(cls: type, values: dict[str, Any], arg: str) -> Any:
    """The value given for ``arg``, else its default."""
    if arg in values:
        return values[arg]
    return next(f.default for f in configs.config_fields(cls) if f.name == arg)


def _known_names(cls: type) -> dict[str, Any]:
    from emdsl.builtin.catalog import DATASET_DOMAINS, JUDGE_SETS, QUESTION_SETS

    return {configs.BuiltinDataset: DATASET_DOMAINS, configs.BuiltinQuestions: QUESTION_SETS,
            configs.BuiltinJudgeData: JUDGE_SETS,
            configs.EmbeddedModel: configs.EMBEDDED_MODELS}[cls]


def file_problem(cls: type, values: dict[str, Any], scope: Scope,
                 loader: Loader) -> ArgProblem | Problem | None:
    """Data files and model folders must exist inside the project root (or an allowed
    outside folder); a data file must not be empty."""
    arg = configs.file_fields().get(cls.CALL) if hasattr(cls, "CALL") else None
    if arg is None or values.get(arg) is None:  # an optional file left unset
        return None
    rel, root = values[arg], loader.root
    target = (root / rel).resolve()  # follows symlinks: a link cannot escape either
    if not loader.confined(target, scope):
        return ArgProblem(f"`{rel}` is outside the project root {root}",
                          outside_hint(target, root), arg)
    if not target.exists():
        return ArgProblem(f"`{rel}` does not exist",
                          f"paths are relative to the project root ({root})", arg)
    if target.is_file() and target.stat().st_size == 0:
        return ArgProblem(f"`{rel}` is empty", "add records to it, or point at another file", arg)
    return content_problem(cls, values, target)


def probe_problem(cls: type, values: dict[str, Any]) -> ArgProblem | None:
    """A probe judge reading a layer its model does not have, or distilled from a probe."""
    if cls is not configs.ProbeJudge:
        return None
    teacher = values.get("labels")
    if teacher is not None and teacher["type"] not in ("local", "openai"):
        return ArgProblem(f"a probe cannot learn from a {teacher['type']} judge's labels",
                          "distil from a `local(...)` or `openai(...)` judge", "labels")
    if teacher is not None and teacher.get("prompt"):
        return ArgProblem("a probe learns its teacher's verdicts on the builtin 0-100 prompts; "
                          "a teacher with its own `prompt=` (and `scale=`) is not one",
                          "distil from an `openai(...)` judge without `prompt=`", "labels")
    depth = model_depth(values.get("model"))
    layer = values.get("layer", 8)
    if depth is not None and layer >= depth:
        return ArgProblem(f"layer {layer} is beyond the model's depth ({depth} layers)",
                          f"use a layer from 0 to {depth - 1}", "layer")
    return None


def key_problem(cls: type, values: dict[str, Any]) -> ArgProblem | None:
    """An ``openai`` judge reading a variable that is not a key variable for it (or a pasted
    key, never shown), or sending its key over plain http to a host that is not loopback. The
    rule is :mod:`stages.lib.judging.keys`; the backend applies it again at run time."""
    if cls is not configs.OpenAIJudge:
        return None
    from stages.lib.judging.keys import key_env_problem, plain_http_problem

    problem = key_env_problem(_given(cls, values, "api_key_env"))
    if problem:
        return ArgProblem(*problem, "api_key_env")
    problem = plain_http_problem(_given(cls, values, "base_url"))
    return ArgProblem(*problem, "base_url") if problem else None


def sae_problem(cls: type, values: dict[str, Any], loader: Loader) -> ArgProblem | None:
    """``pretrained(release, id)``: both in sae-lens's registry (with a did-you-mean), at a
    residual hook; ``saved(path)``: an sae-lens SAE folder of the residual stream."""
    from emdsl import saelens_registry as reg

    if cls is configs.PretrainedSae:
        release, sae_id = values["release"], values["id"]
        problem = reg.release_problem(release)
        if problem:
            return ArgProblem(*problem, "release")
        problem = reg.id_problem(release, sae_id)
        if problem:
            return ArgProblem(*problem, "id")
        hook = reg.registry_hook(release, sae_id)
        if hook.problem():
            return ArgProblem(f"SAE `{sae_id}` of `{release}` cannot be used: {hook.problem()}",
                              "pick a residual-stream SAE (resid_post) of the release", "id")
        layer = values.get("layer")
        if layer is not None and layer != hook.layer:
            return ArgProblem(f"layer {layer}, but SAE `{sae_id}` reads layer {hook.layer}",
                              "leave `layer` out: it is read from the registry", "layer")
    if cls is configs.SavedSae:
        problem = reg.saved_problem((loader.root / values["path"]).resolve())
        if problem:
            return ArgProblem(*problem, "path")
    return None
