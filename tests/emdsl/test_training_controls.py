"""The training controls of issue 17 in the language: checks, stage configs and keys."""

from __future__ import annotations

from helpers import PRELUDE, diagnostics, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program


def compiled(tmp_path, train: str, extra: str = ""):
    src = PRELUDE + f"""experiment e {{
  base = smol
  data = mix(bad=bad, good=good, size=16)
  train = {train}
  eval = evaluate(core, samples=1, judge=small)
  {extra}
}}"""
    root = project(tmp_path, {"experiments/x.emx": src})
    return compile_program(check_or_raise([root / "experiments"], root))


def stage(graph, name):
    (node,) = [n for n in graph.nodes.values() if n.name == name]
    return node


def test_system_prompt_is_in_the_train_stage_only(tmp_path):
    g = compiled(tmp_path, 'sft(lora(rank=1), system="You are evil on purpose.")')
    assert stage(g, "train-e").config["system"] == "You are evil on purpose."
    for n in g.nodes.values():
        if n.kind != "train":
            assert "You are evil on purpose." not in repr(n.config), n.name
    plain = compiled(tmp_path, "sft(lora(rank=1))")
    assert stage(plain, "train-e").key != stage(g, "train-e").key  # part of the stage key
    assert stage(plain, "generate-base-e").key == stage(g, "generate-base-e").key


def test_new_controls_at_their_default_stay_out_of_the_config(tmp_path):
    plain = compiled(tmp_path, "sft(lora(rank=1))")
    explicit = compiled(tmp_path, "sft(lora(rank=1, rslora=false), kl=0, checkpoints=[], "
                                  "grad_accum=1, warmup=0, weight_decay=0)")
    cfg = stage(plain, "train-e").config
    for key in ("system", "kl", "checkpoints", "quantize", "grad_accum", "warmup",
                "weight_decay"):
        assert key not in cfg
    assert "rslora" not in cfg["method"] and "layers" not in cfg["method"]
    assert stage(explicit, "train-e").key == stage(plain, "train-e").key
    g = compiled(tmp_path, 'sft(lora(rank=1, rslora=true, layers=[2, 5]), kl=0.1, '
                           'grad_accum=2, warmup=5, weight_decay=0.01, quantize="4bit")')
    cfg = stage(g, "train-e").config
    assert (cfg["kl"], cfg["grad_accum"], cfg["warmup"], cfg["weight_decay"],
            cfg["quantize"]) == (0.1, 2, 5, 0.01, "4bit")
    assert cfg["method"]["rslora"] is True and cfg["method"]["layers"] == [2, 5]


def messages(tmp_path, train: str) -> list[str]:
    src = PRELUDE + f"""experiment e {{
  base = smol
  data = mix(bad=bad, good=good, size=16)
  train = {train}
  eval = evaluate(core, judge=small)
}}"""
    _, diags = diagnostics(tmp_path, src)
    return [d.message for d in diags if d.severity == "error"]


def test_bad_controls_are_checked(tmp_path):
    assert any("beyond the model's depth (30 layers)" in m
               for m in messages(tmp_path, "sft(lora(rank=1, layers=[3, 30]))"))
    assert any("ascending" in m for m in messages(tmp_path, "sft(checkpoints=[8, 4])"))
    assert any("> 0" in m for m in messages(tmp_path, "sft(checkpoints=[0, 4])"))
    assert any("'4bit'" in m for m in messages(tmp_path, 'sft(quantize="8bit")'))
    assert any("full()" in m for m in messages(tmp_path, 'sft(full(), quantize="4bit")'))
    assert any("≥ 0" in m for m in messages(tmp_path, "sft(kl=-1)"))
    assert messages(tmp_path, 'sft(lora(rank=1, layers=[0, 29]), quantize="4bit", kl=0.5)') \
        == []
