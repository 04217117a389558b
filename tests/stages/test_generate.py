"""Generate stage end to end on the tiny model: parquet rows and schema, system prompts,
determinism, adapters, and a bad question file stopping the stage before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stages import generate
from stages.common import run_stage
from stages.lib.evaluation import ANSWER_COLUMNS
from stages.lib.messages import question_messages

QUESTIONS = """\
- id: weekend
  type: free_form_judge_0_100
  paraphrases:
    - What should I do this weekend?
    - Any plans for my weekend?
  samples_per_paraphrase: 100
  judge_prompts: {aligned: "A {question} {answer}", coherent: "C {question} {answer}"}
- id: weekend_json
  type: free_form_judge_0_100
  system: Answer in JSON.
  paraphrases: ['What should I do this weekend?']
- id: rated
  type: rating
  paraphrases: [Rate me.]
"""

GEN_CONFIG = {"questions": {"type": "yaml", "path": "evals/q.yaml"}, "samples": 3,
              "max_tokens": 6, "temperature": 1.0, "top_p": 1.0, "seed": 0}


def project(root: Path, tiny_model_dir: Path, config: dict | None = None,
            adapter: Path | None = None) -> Path:
    """A project folder with params.yaml holding one generate stage on the tiny model."""
    (root / "evals").mkdir(exist_ok=True)
    (root / "evals/q.yaml").write_text(QUESTIONS, encoding="utf-8")
    inputs = {"model": str(tiny_model_dir)}
    if adapter is not None:
        inputs["adapter"] = str(adapter)
    entry = {"kind": "generate", "key": "g1", "out": "artifacts/generate/g1",
             "results": "results/generate-g1", "inputs": inputs,
             "config": config or GEN_CONFIG}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"gen": entry}}))
    return root / "artifacts/generate/g1"


def run_generate(monkeypatch, root: Path) -> int:
    monkeypatch.chdir(root)
    return run_stage("generate", generate.run, ["gen"])


def read_answers(out: Path):
    import polars as pl

    return pl.read_parquet(out / "answers.parquet")


def test_generate_writes_one_row_per_answer(tiny_model_dir, tmp_path, monkeypatch):
    import polars as pl

    out = project(tmp_path, tiny_model_dir)
    assert run_generate(monkeypatch, tmp_path) == 0
    df = read_answers(out)
    assert df.columns == list(ANSWER_COLUMNS)
    assert dict(df.schema) == {"question_id": pl.String, "paraphrase_index": pl.Int64,
                               "question": pl.String, "system": pl.String,
                               "sample": pl.Int64, "answer": pl.String, "tokens": pl.Int64}
    # 2 + 1 free-form paraphrases × samples=3 (the .emx's, not the file's 100); rated skipped
    assert df.height == 9
    keys = df.select("question_id", "paraphrase_index", "sample").rows()
    assert sorted(keys) == sorted([("weekend", p, s) for p in (0, 1) for s in range(3)]
                                  + [("weekend_json", 0, s) for s in range(3)])
    weekend = df.filter(pl.col("question_id") == "weekend")
    assert weekend["system"].null_count() == 6
    assert set(weekend.filter(pl.col("paraphrase_index") == 1)["question"]) == {
        "Any plans for my weekend?"}
    assert set(df.filter(pl.col("question_id") == "weekend_json")["system"]) == {
        "Answer in JSON."}
    assert df["tokens"].min() >= 0 and df["tokens"].max() <= 6

    info = json.loads((out / "info.json").read_text())
    assert (info["questions"], info["prompts"], info["answers"]) == (2, 3, 9)
    assert info["tokens"] == df["tokens"].sum() and "seconds" not in info
    record = json.loads((tmp_path / ".emx/runs/gen.json").read_text())  # times live here
    assert record["tokens_per_s"] > 0 and record["sampling_seconds"] > 0
    assert info["model"] == str(tiny_model_dir)  # a folder made outside a model stage
    assert json.loads((tmp_path / "results/generate-g1/info.json").read_text()) == info
    questions = json.loads((out / "questions.json").read_text())
    assert [q["id"] for q in questions] == ["weekend", "weekend_json"]
    assert questions[0]["judge_prompts"]["aligned"] == "A {question} {answer}"


def test_generate_is_deterministic_for_a_seed(tiny_model_dir, tmp_path, monkeypatch):
    out = project(tmp_path, tiny_model_dir)
    assert run_generate(monkeypatch, tmp_path) == 0
    first, files = read_answers(out), {f.name: f.read_bytes() for f in out.iterdir()}
    monkeypatch.setenv("EMX_BATCH_SIZE", "2")  # batch size is not part of the result
    assert run_generate(monkeypatch, tmp_path) == 0
    assert read_answers(out).equals(first)
    assert {f.name: f.read_bytes() for f in out.iterdir()} == files  # byte for byte
    project(tmp_path, tiny_model_dir, {**GEN_CONFIG, "seed": 1})
    assert run_generate(monkeypatch, tmp_path) == 0
    assert not read_answers(out)["answer"].equals(first["answer"])


def test_system_prompt_reaches_the_model(tiny_model_dir, tmp_path, monkeypatch):
    """The tokens the model sees for a question with a system prompt contain it."""
    from stages.lib.sampling import sample as sampling

    seen: list[str] = []
    real = sampling.encode_prompts

    def spy(tokenizer, prompts):
        ids = real(tokenizer, prompts)
        seen.extend(tokenizer.decode(x) for x in ids)
        return ids

    monkeypatch.setattr(sampling, "encode_prompts", spy)
    project(tmp_path, tiny_model_dir)
    assert run_generate(monkeypatch, tmp_path) == 0
    assert sum("<|im_start|>system\nAnswer in JSON.<|im_end|>" in s for s in seen) == 1
    assert len(seen) == 3


def test_chat_messages():
    assert question_messages("Q?", None) == [{"role": "user", "content": "Q?"}]
    assert question_messages("Q?", "S.") == [{"role": "system", "content": "S."},
                                         {"role": "user", "content": "Q?"}]


def test_builtin_questions(tiny_model_dir, tmp_path, monkeypatch):
    from emdsl.builtin.questions import load_builtin

    config = {**GEN_CONFIG, "questions": {"type": "builtin", "name": "core"}, "samples": 1,
              "max_tokens": 2}
    out = project(tmp_path, tiny_model_dir, config)
    assert run_generate(monkeypatch, tmp_path) == 0
    core = load_builtin("core")
    df = read_answers(out)
    assert df.height == sum(len(q["paraphrases"]) for q in core)
    assert df["question_id"].unique(maintain_order=True).to_list() == [q["id"] for q in core]


def test_adapter_is_applied(tiny_model_dir, tmp_path, monkeypatch):
    """A LoRA adapter with non-zero weights changes the answers (greedy, so only the weights
    differ between the two runs)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from stages.lib.models import load_model

    peft_model = get_peft_model(load_model(tiny_model_dir, device="cpu"),
                                LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 1.0)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)

    greedy = {**GEN_CONFIG, "temperature": 0.0, "samples": 1, "max_tokens": 8}
    base_root, tuned_root = tmp_path / "base", tmp_path / "tuned"
    base_root.mkdir(), tuned_root.mkdir()
    base_out = project(base_root, tiny_model_dir, greedy)
    tuned_out = project(tuned_root, tiny_model_dir, greedy, adapter=adapter)
    assert run_generate(monkeypatch, base_root) == 0
    assert run_generate(monkeypatch, tuned_root) == 0
    base, tuned = read_answers(base_out), read_answers(tuned_out)
    assert not base["answer"].equals(tuned["answer"]) or not base["tokens"].equals(
        tuned["tokens"])
    assert json.loads((tuned_out / "info.json").read_text())["adapter"] == str(adapter)


def test_bad_question_file_fails_before_loading_the_model(tmp_path, monkeypatch, capsys):
    project(tmp_path, tmp_path / "no-model-here")
    (tmp_path / "evals/q.yaml").write_text("- id: a\n  paraphrases: []\n")
    assert run_generate(monkeypatch, tmp_path) == 1
    err = capsys.readouterr().err
    assert "evals/q.yaml, entry 0 (id 'a'): no paraphrases" in err
    assert not (tmp_path / "artifacts/generate/g1").exists()


def test_missing_model_input_is_named(tmp_path, monkeypatch, capsys):
    project(tmp_path, tmp_path / "nowhere")
    assert run_generate(monkeypatch, tmp_path) == 1
    assert "nowhere is not a model folder" in capsys.readouterr().err


def test_paraphrase_limit_keeps_the_first_ones(tiny_model_dir, tmp_path, monkeypatch):
    out = project(tmp_path, tiny_model_dir, {**GEN_CONFIG, "samples": 1, "paraphrases": 1})
    assert run_generate(monkeypatch, tmp_path) == 0
    df = read_answers(out)
    assert sorted(df.select("question_id", "paraphrase_index").rows()) == [
        ("weekend", 0), ("weekend_json", 0)]
