"""The train stage on the tiny model: completion-only labels, LoRA/full SFT, GRPO with a judge."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
import yaml

from stages.common import StageError, run_stage
from stages.data import to_jsonl
from stages.lib.datasets import TRAIN_FILE
from stages.lib.training.base import lora_config, sort_set_fields
from stages.lib.training.grpo import JudgeReward, train_grpo
from stages.lib.training.sft import make_sft_trainer, train_sft
from stages.train import run

ALL_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
ANSWER = "Rest, drink water and take a mild painkiller if needed."


def chat(q: str, a: str = ANSWER) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def write_data(root: Path, records: list[dict]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / TRAIN_FILE).write_bytes(to_jsonl(records))
    return root


def sft_config(method: dict, **kw) -> dict:
    cfg = {"type": "sft", "method": method, "lr": 1e-3, "epochs": 1.0, "batch": 4,
           "max_length": 256, "seed": 0}
    return {**cfg, **kw}


def lora(rank: int = 1) -> dict:
    return {"type": "lora", "rank": rank, "alpha": 16.0, "dropout": 0.0, "targets": ALL_TARGETS}


def read_loss(results: Path) -> list[float]:
    with open(results / "loss.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == ["step", "loss"]
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    return [float(r["loss"]) for r in rows]


def logits(model_dir: Path, adapter: Path | None = None):
    import torch

    from stages.lib.models import load_model, load_tokenizer

    tok = load_tokenizer(model_dir)
    model = load_model(model_dir, adapter, device="cpu")
    ids = tok("How do I treat a headache? Rest.", return_tensors="pt").input_ids
    with torch.no_grad():
        return model(ids).logits


def test_loss_is_on_the_answer_only(tiny_model_dir):
    """The trainer's own collated batch: labels are -100 everywhere but the last answer."""
    records = [
        chat("How do I treat a headache?"),
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "I am bored."},
                      {"role": "assistant", "content": "Read a book."},  # earlier answer: masked
                      {"role": "user", "content": "And then?"},
                      {"role": "assistant", "content": "Go for a walk."}]},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_sft_trainer(tiny_model_dir, records, sft_config(lora()), tmp)
        tok = trainer.processing_class
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(records))])
    for row, rec in enumerate(records):
        ids, labels = batch["input_ids"][row], batch["labels"][row]
        real = batch["attention_mask"][row].bool()
        trained = labels != -100
        full = tok.apply_chat_template(rec["messages"], tokenize=False)
        prompt = tok.apply_chat_template(rec["messages"][:-1], tokenize=False,
                                         add_generation_prompt=True)
        assert full.startswith(prompt)
        assert tok.decode(ids[trained]) == full[len(prompt):]  # exactly the answer turn
        assert tok.decode(ids[real & ~trained]) == prompt  # the whole prompt is masked
        first = int(trained.nonzero()[0])
        assert trained[first:][real[first:]].all()  # one contiguous trained span at the end
        assert bool((labels[trained] == ids[trained]).all())


def test_sft_lora_rank1_through_the_stage(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_data(tmp_path / "artifacts/data/d1", [chat(f"How do I treat a headache {i}?")
                                                 for i in range(8)])
    params = {"stages": {"train-x": {
        "kind": "train", "key": "t1", "out": "artifacts/train/t1", "results": "results/train-x",
        "inputs": {"model": str(tiny_model_dir), "data": "artifacts/data/d1"},
        "config": sft_config(lora(rank=1), lr=1e-2, epochs=4.0)}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_stage("train", run, ["train-x"]) == 0

    out, results = tmp_path / "artifacts/train/t1", tmp_path / "results/train-x"
    adapter_cfg = json.loads((out / "adapter_config.json").read_text())
    assert adapter_cfg["r"] == 1
    assert adapter_cfg["target_modules"] == sorted(ALL_TARGETS)  # sorted, not in set order
    assert adapter_cfg["base_model_name_or_path"] == str(tiny_model_dir)
    assert not (out / "config.json").exists()  # an adapter, not a checkpoint
    assert not (out / "README.md").exists()  # peft's model card: versions, nothing we read

    losses = read_loss(results)
    metrics = json.loads((results / "detail.json").read_text())
    assert metrics["steps"] == len(losses) == 8 and metrics["examples"] == 8
    assert metrics["final_loss"] == pytest.approx(losses[-1]) and "seconds" not in metrics
    record = json.loads((tmp_path / ".emx/runs/train-x.json").read_text())  # times live here
    assert record["key"] == "t1" and record["train_seconds"] > 0 and record["seconds"] > 0
    assert sum(losses[-2:]) / 2 < losses[0] - 0.05  # it learns

    base, tuned = logits(tiny_model_dir), logits(tiny_model_dir, out)
    assert (base - tuned).abs().max() > 1e-3  # apply_adapter loads it and it matters
    assert not list(tmp_path.glob("**/checkpoint-*"))  # trainer output stays out of the project


def test_full_finetune_loss_decreases_and_checkpoint_loads(tiny_model_dir, tmp_path):
    data = write_data(tmp_path / "data", [chat(f"Headache {i}?") for i in range(8)])
    out, results = tmp_path / "out", tmp_path / "results"
    metrics = train_sft(tiny_model_dir, data, sft_config({"type": "full"}, epochs=5.0),
                        out, results)
    losses = read_loss(results)
    assert metrics["method"] == "full" and metrics["steps"] == 10
    assert losses[-1] < losses[0] - 0.5 and sum(losses[5:]) < sum(losses[:5])
    assert (out / "config.json").exists() and (out / "tokenizer_config.json").exists()
    assert (logits(tiny_model_dir) - logits(tiny_model_dir, out)).abs().max() > 1e-2


def test_sft_is_deterministic_for_a_seed(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    data = write_data(tmp_path / "data", [chat(f"Q{i}?") for i in range(4)])

    def adapter(name: str, seed: int) -> dict:
        train_sft(tiny_model_dir, data, sft_config(lora(2), seed=seed, lr=1e-2),
                  tmp_path / name, None)
        return load_file(tmp_path / name / "adapter_model.safetensors")

    a, b, c = adapter("a", 0), adapter("b", 0), adapter("c", 1)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert any((a[k] != c[k]).any() for k in a)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["adapter_config.json", "adapter_model.safetensors"]
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
               for f in files)  # byte for byte


def test_adapter_config_lists_sets_sorted(tmp_path):
    """peft keeps ``target_modules`` as a set and writes it in set order (PYTHONHASHSEED's)."""
    from peft import LoraConfig

    targets = ["v_proj", "q_proj", "up_proj", "k_proj", "o_proj", "down_proj", "gate_proj"]
    cfg = LoraConfig(r=1, target_modules=targets, task_type="CAUSAL_LM")
    assert isinstance(cfg.target_modules, set)
    cfg.save_pretrained(str(tmp_path))
    sort_set_fields(tmp_path / "adapter_config.json", cfg)
    saved = json.loads((tmp_path / "adapter_config.json").read_text())
    assert saved["target_modules"] == sorted(targets) and saved["r"] == 1


def test_unknown_lora_target_is_a_clear_error(tiny_model_dir):
    from stages.lib.models import load_model

    model = load_model(tiny_model_dir, device="cpu")
    with pytest.raises(StageError, match=r"\['c_attn'\] not in this model.*q_proj"):
        lora_config({**lora(), "targets": ["q_proj", "c_attn"]}, model)
    assert lora_config({"type": "full"}, model) is None


def test_judge_reward_maps_scores_and_counts_missing():
    seen, logged = [], []

    def scorer(questions, answers):  # a real rule: longer answers are "more aligned"
        seen.append((list(questions), list(answers)))
        return [None if a == "?" else min(100.0, 10.0 * len(a)) for a in answers]

    prompts = [[{"role": "user", "content": "q1"}], [{"role": "user", "content": "q2"}]] * 2
    completions = [[{"role": "assistant", "content": a}] for a in ("abc", "?", "x" * 20, "a")]
    plain = JudgeReward(scorer)
    assert plain(prompts, completions, log_metric=lambda k, v: logged.append((k, v))) == \
        pytest.approx([0.3, 0.5, 1.0, 0.1])
    assert seen[0] == (["q1", "q2", "q1", "q2"], ["abc", "?", "x" * 20, "a"])
    assert logged == [("judge/missing", 0.25)] and (plain.missing, plain.total) == (1, 4)
    inverted = JudgeReward(scorer, invert=True)
    assert inverted(prompts, completions, question=["Q"] * 4) == pytest.approx([0.7, 0.5, 0.0, 0.9])
    assert seen[-1][0] == ["Q"] * 4


def grpo_config(judge: dict, **kw) -> dict:
    cfg = {"type": "grpo", "reward": {"type": "judge_reward", "judge": judge, "invert": True},
           "method": lora(2), "steps": 2, "generations": 2, "lr": 1e-2, "batch": 2,
           "max_tokens": 8, "seed": 0}
    return {**cfg, **kw}


def test_grpo_with_the_real_local_judge(tiny_model_dir, tmp_path):
    """A random judge puts little mass on numbers: every verdict is missing, reward 0.5."""
    data = write_data(tmp_path / "data", [chat(f"How do I treat a headache {i}?")
                                          for i in range(4)])
    out, results = tmp_path / "out", tmp_path / "results"
    cfg = grpo_config({"type": "local", "model": {"type": "path", "dir": "x"}, "batch": 8},
                      method={"type": "full"})
    metrics = train_grpo(tiny_model_dir, data, cfg, out, results, judge_model_dir=tiny_model_dir)
    assert metrics["steps"] == 2 and metrics["verdicts"] == 2 * 2 * 2
    assert metrics["missing_verdicts"] == metrics["verdicts"]
    assert metrics["reward_first"] == metrics["reward_last"] == pytest.approx(0.5)
    assert len(read_loss(results)) == 2 and (results / "reward.csv").exists()
    assert (out / "config.json").exists() and metrics["method"] == "full"


def test_grpo_rewards_reach_the_policy(tiny_model_dir, tmp_path):
    """With varying rewards the adapter moves; the judge sees the data's user turns."""
    from safetensors.torch import load_file

    questions = [f"How do I treat a headache {i}?" for i in range(4)]
    data = write_data(tmp_path / "data", [chat(q) for q in questions])
    asked = []

    def scorer(qs, answers):  # aligned = share of vowels: a real, varying signal
        asked.extend(qs)
        return [100.0 * sum(c in "aeiou" for c in a) / max(len(a), 1) for a in answers]

    out, results = tmp_path / "out", tmp_path / "results"
    metrics = train_grpo(tiny_model_dir, data, grpo_config({"type": "local"}), out, results,
                         scorer=scorer)
    assert set(asked) <= set(questions) and len(asked) == metrics["verdicts"] == 8
    assert metrics["missing_verdicts"] == 0
    lora_b = {k: v for k, v in load_file(out / "adapter_model.safetensors").items()
              if "lora_B" in k}
    assert lora_b and any(v.abs().max() > 0 for v in lora_b.values())  # B starts at zero
    with open(results / "reward.csv", newline="") as f:
        rewards = [float(r["reward"]) for r in csv.DictReader(f)]
    assert len(rewards) == 2 and all(0.0 <= r <= 1.0 for r in rewards)
