"""The implementation registry and the code-identity contract it serves: entry modules never
import each other, nor any registered implementation (those are loaded by name, so a stage's
code deps are its entry module, the shared core and what its config selects)."""

from __future__ import annotations

import importlib
import re

import pytest

from emdsl.codedeps import closure, package_root
from stages.lib import registry

KINDS = ("model", "data", "train", "generate", "judge", "judge_train", "acts", "sae", "diff",
         "steer", "realign", "detector", "summary")
PROTOCOL = {"judge": "make", "sampler": "make_decoder", "train": "train"}


def as_file(module: str) -> str:
    return module.replace(".", "/") + ".py"



def code_files(kind: str) -> list[str]:
    """The static-import closure of ``stages/<kind>.py``, as paths relative to the checkout."""
    return [str(p.relative_to(package_root())) for p in closure((f"stages.{kind}",))]


def test_registry_is_a_stdlib_leaf():
    text = open(as_file("stages.lib.registry"), encoding="utf-8").read()
    assert not re.findall(r"^\s*(?:from|import)\s+(?:stages|emdsl)\b", text, re.M)


def test_every_implementation_loads_and_speaks_its_family_protocol():
    for family, impls in registry.IMPLEMENTATIONS.items():
        for name in impls:
            module = registry.load(family, name)
            assert module.__name__ == registry.module_path(family, name)
            want = "vllm_answers" if (family, name) == ("sampler", "vllm") else PROTOCOL[family]
            assert callable(getattr(module, want)), (family, name, want)


def test_config_values_are_registered():
    assert registry.names("judge") == ["local", "openai", "probe"]
    assert registry.names("sampler") == ["plain", "static", "vllm"]
    assert registry.names("train") == ["sft", "grpo"]
    assert registry.listing("judge") == "local, openai or probe"
    assert registry.listing("train") == "sft or grpo"
    assert registry.AUTO["sampler"]["auto"] == ("vllm", "static", "plain")


def test_duplicates_and_unknown_names_are_refused(monkeypatch):
    monkeypatch.setattr(registry, "IMPLEMENTATIONS", {"judge": {"local": "x"}})
    with pytest.raises(ValueError, match="already registered"):
        registry.register("judge", "local", "y")
    registry.register("judge", "other", "y")
    with pytest.raises(registry.UnknownImplementation, match="known: local, other"):
        registry.load("judge", "nope")


@pytest.mark.parametrize("kind", KINDS)
def test_entry_closure_holds_no_other_entry_and_no_implementation(kind):
    closure = set(code_files(kind))
    others = {f"stages/{k}.py" for k in KINDS if k != kind}
    assert not closure & others
    impls = {as_file(m) for family in registry.IMPLEMENTATIONS.values() for m in family.values()}
    assert not closure & impls


def test_code_identity_of_the_two_stages_the_review_named():
    train, judge = set(code_files("train")), set(code_files("judge"))
    assert not {f for f in train if "judg" in f or "probe" in f or "sampling" in f}
    assert "emdsl/builtin/datasets.py" not in judge
    assert not {f for f in judge if "training" in f or f == "stages/train.py"}


def test_dispatchers_use_the_registry():
    """The dispatchers name no implementation module in an import statement."""
    for module in ("stages.lib.judging.factory", "stages.lib.sampling.sample", "stages.train"):
        importlib.import_module(module)
        text = open(as_file(module), encoding="utf-8").read()
        for family in registry.IMPLEMENTATIONS.values():
            for impl in family.values():
                assert not re.search(rf"^\s*(?:from|import)\s+{re.escape(impl)}\b", text, re.M)


def test_implementations_import_no_entry_module_and_no_sibling():
    """An implementation's own closure (what the integrator adds for a config) holds shared
    helpers only: no entry module and no other registered implementation."""
    impls = {as_file(m) for family in registry.IMPLEMENTATIONS.values() for m in family.values()}
    entries = {f"stages/{k}.py" for k in KINDS}
    for path in impls:
        closure = set(code_files(path.removeprefix("stages/").removesuffix(".py")))
        assert path in closure
        assert not closure & entries, path
        assert not (closure - {path}) & impls, path
