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


CHECKPOINTED = """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=32)
  train = sft(lora(rank=1), batch=4, checkpoints=[2, 4])
  eval = evaluate(core, samples=1, judge=small)
  %s
}"""


def test_checkpoints_are_evaluated_like_the_tuned_model(tmp_path):
    root = project(tmp_path, {"experiments/x.emx": PRELUDE + CHECKPOINTED % ""})
    g = compile_program(check_or_raise([root / "experiments"], root))
    train = stage(g, "train-e")
    assert train.config["checkpoints"] == [2, 4]
    for s in (2, 4):
        ck = stage(g, f"checkpoint-step{s}-e")
        assert ck.config == {"step": s} and ck.inputs == {"adapter": train}
        gen = stage(g, f"generate-step{s}-e")
        assert gen.inputs["adapter"] is ck
        assert gen.config == stage(g, "generate-tuned-e").config  # the same eval
        assert stage(g, f"judge-step{s}-e").inputs["answers"] is gen
    assert len(g.variants) == 1
    roles = g.index[next(iter(g.index))][1]
    assert {"generate_step2", "judge_step4", "checkpoint_step2"} <= set(roles)


def test_checkpoint_beyond_the_estimated_run_is_reported(tmp_path):
    src = PRELUDE + CHECKPOINTED.replace("checkpoints=[2, 4]", "checkpoints=[4, 9]") % ""
    _, diags = diagnostics(tmp_path, src)
    assert any("checkpoints [9] are beyond the run's 8 optimizer steps" in d.message
               for d in diags)


def test_diffs_and_the_detector_run_over_checkpoints(tmp_path):
    extra = 'sae = sae(layer=3, width=64, tokens=1000)\n  diff = diff(top=2)'
    root = project(tmp_path, {"experiments/x.emx": PRELUDE + CHECKPOINTED % extra})
    g = compile_program(check_or_raise([root / "experiments"], root))
    for s in (2, 4):
        d = stage(g, f"diff-step{s}-e")
        assert d.inputs["tuned_eval"].inputs["adapter"] is stage(g, f"checkpoint-step{s}-e")
        assert d.inputs["base_eval"] is stage(g, "diff-e").inputs["base_eval"]  # shared
    (det,) = [n for n in g.nodes.values() if n.kind == "detector"]
    assert det.config["over"] == "step"
    assert [p["poison"] for p in det.config["points"]] == [2.0, 4.0]
    assert det.inputs["diff_1"] is stage(g, "diff-step4-e")
    assert det.inputs["judge_0"] is stage(g, "judge-step2-e")


def test_results_have_a_step_axis(tmp_path):
    """One row per checkpoint, then the final model's; `emx show`, diff and the report
    read them; the misaligned fraction follows each step's own judge."""
    from gitrepo import commit_all, git
    from helpers import emx_inline, fake_results

    from emdsl.cli.common import compile_and_write
    from emdsl.compare import compare
    from emdsl.report import build
    from emdsl.results import Source, collect

    root = project(tmp_path, {"experiments/x.emx": PRELUDE + CHECKPOINTED % ""})
    assert compile_and_write([root / "experiments"], root)[1] == 0
    rate = {"judge-step2-e": 0.1, "judge-step4-e": 0.3, "judge-tuned-e": 0.5}
    fake_results(root, rate=lambda name: rate.get(name, 0.05))
    rows = collect(Source(root))
    assert [r["step"] for r in rows] == [2, 4, None]
    assert [round(r["misaligned"], 1) for r in rows] == [0.1, 0.3, 0.5]
    assert {r["variant"] for r in rows} == {"default"}
    assert all(round(r["base_misaligned"], 2) == 0.05 for r in rows)
    assert rows[-1]["train_steps"] == 5  # the fake train metrics' steps
    md = emx_inline("show", cwd=root).stdout
    assert "| step |" in md and "| final (5) |" in md and "| 2 |" in md
    git(root, "init", "-q")
    commit_all(root, "v1")
    records = compare(Source(root, "HEAD"), Source(root))
    assert [r["step"] for r in records] == [2, 4, None]
    assert all(r["status"] == "unchanged" for r in records)
    report = build(root, "experiments/x.emx")
    assert "steps" in [name for name, _, _ in report.figures]


def test_studies_without_checkpoints_have_no_step_column(tmp_path):
    from helpers import emx_inline, fake_results

    from emdsl.cli.common import compile_and_write

    src = PRELUDE + CHECKPOINTED.replace(", checkpoints=[2, 4]", "") % ""
    root = project(tmp_path, {"experiments/x.emx": src})
    assert compile_and_write([root / "experiments"], root)[1] == 0
    fake_results(root)
    md = emx_inline("show", cwd=root).stdout
    assert "step" not in md.splitlines()[0]


ADAPTED = """experiment e {
  base = adapter("lora/mine", base=smol)
  eval = evaluate(core, samples=1, judge=small)
  %s
}"""


def adapter_folder(root, base: str = "HuggingFaceTB/SmolLM2-135M-Instruct"):
    import json

    folder = root / "lora/mine"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "base_model_name_or_path": base, "r": 8}))
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    return folder


def test_an_adapter_from_elsewhere_is_evaluated_like_a_tuned_model(tmp_path):
    root = project(tmp_path, {"experiments/x.emx": PRELUDE + ADAPTED % ""})
    adapter_folder(root)
    g = compile_program(check_or_raise([root / "experiments"], root))
    ad = stage(g, "adapter-e")
    assert ad.config == {"dir": "lora/mine"} and ad.files == ("lora/mine",)
    assert stage(g, "generate-tuned-e").inputs["adapter"] is ad
    assert stage(g, "generate-base-e").inputs["model"].config["type"] == "embedded"
    assert "adapter" not in stage(g, "generate-base-e").inputs
    assert stage(g, "judge-tuned-e").inputs["answers"] is stage(g, "generate-tuned-e")


def test_adapter_folder_and_use_are_checked(tmp_path):
    def errors(body: str, make=True, base="HuggingFaceTB/SmolLM2-135M-Instruct", model="smol"):
        src = PRELUDE + 'model q = hf("Qwen/Qwen2.5-0.5B-Instruct", revision="abc")\n' \
            + ADAPTED.replace("base=smol", f"base={model}") % body
        sub = tmp_path / str(len(list(tmp_path.iterdir())))
        sub.mkdir()
        root = project(sub, {"x.emx": src})
        if make:
            adapter_folder(root, base)
        else:
            (root / "lora/mine").mkdir(parents=True)
        _, diags = check_files_at(root)
        return [d.message for d in diags if d.severity == "error"]

    assert errors("") == []
    assert any("no adapter_config.json" in m for m in errors("", make=False))
    assert any("cannot also `train`" in m
               for m in errors("data = mix(bad=bad, good=good, size=8)\n  train = sft()"))
    assert any("was trained on `Qwen/Qwen2.5-7B`" in m
               for m in errors("", base="Qwen/Qwen2.5-7B", model="q"))
    assert errors("", base="Qwen/Qwen2.5-0.5B-Instruct", model="q") == []


def check_files_at(root):
    from emdsl.check import check_files

    return check_files([root / "x.emx"], root)
