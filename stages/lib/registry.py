"""Registered implementations: family -> name -> module path, loaded by name at run time.

Why strings: a stage's code identity (``emdsl.codedeps``) follows ``import``
statements only, so an entry module depends on the dispatcher, never on every backend. The
compiler adds the modules its config selects to the deps: each stage kind says which
(``emdsl.kinds``: ``Kind.code``). This
module is a leaf (stdlib only): the compiler and every dispatcher can read it cheaply.

Families and their config values:
    judge    ``judge.type`` (and GRPO's ``reward.judge.type``): local, openai, probe
    sampler  ``backend`` after ``auto`` is resolved (see ``AUTO``): plain, static, vllm
    train    a train stage's ``type``: sft, grpo

What a module of each family provides:
    judge    ``make(spec, judge_model_dir, cache) -> judge`` (``score``, ``identity``, ``close``)
    sampler  ``make_decoder(model, *, rows, cache_len, hooked, device_type) -> decode``
             (vllm also ``answers_from_folder``, which needs no loaded model)
    train    ``train(stage, out, results) -> metrics``
"""

from __future__ import annotations

import importlib
from types import ModuleType

# family -> name -> dotted module path
IMPLEMENTATIONS: dict[str, dict[str, str]] = {}

# family -> name -> the names it may resolve to at run time (``auto`` depends on the machine)
AUTO: dict[str, dict[str, tuple[str, ...]]] = {"sampler": {"auto": ("vllm", "static", "plain")}}


class UnknownImplementation(LookupError):
    """No implementation is registered under this family and name."""


def register(family: str, name: str, module: str) -> None:
    """Record ``module`` as ``family``'s implementation ``name``; a second one is an error."""
    known = IMPLEMENTATIONS.setdefault(family, {})
    if name in known:
        raise ValueError(f"{family} {name!r} is already registered ({known[name]}); "
                         f"not registering {module}")
    known[name] = module


def names(family: str) -> list[str]:
    """The registered names of ``family``, in registration order."""
    return list(IMPLEMENTATIONS.get(family, {}))


def listing(family: str) -> str:
    """``a, b or c``: the names of ``family`` for an error message."""
    known = names(family)
    return " or ".join(filter(None, [", ".join(known[:-1]), *known[-1:]]))


def module_path(family: str, name: str) -> str:
    """The dotted module path of ``family``'s implementation ``name``."""
    try:
        return IMPLEMENTATIONS[family][name]
    except KeyError:
        raise UnknownImplementation(f"no {family} implementation {name!r}; known: "
                                    f"{', '.join(names(family)) or 'none'}") from None


def load(family: str, name: str) -> ModuleType:
    """Import ``family``'s implementation ``name`` (by string: no static import edge)."""
    return importlib.import_module(module_path(family, name))


register("judge", "local", "stages.lib.judging.local")
register("judge", "openai", "stages.lib.judging.openai")
register("judge", "probe", "stages.lib.judging.probe")
register("sampler", "plain", "stages.lib.sampling.plain")
register("sampler", "static", "stages.lib.sampling.static")
register("sampler", "vllm", "stages.lib.sampling.vllm")
register("train", "sft", "stages.lib.training.sft")
register("train", "grpo", "stages.lib.training.grpo")
