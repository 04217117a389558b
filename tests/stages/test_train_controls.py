"""The sft training controls of issue 17 on the tiny model: the inoculation system prompt,
the KL penalty to the base, checkpoints, 4-bit quantization's CPU error, the papers' settings."""

from __future__ import annotations

import json
import tempfile

import pytest
from test_train import chat, lora, read_loss, sft_config, write_data

from stages.common import StageError
from stages.lib.training.base import lora_config
from stages.lib.training.sft import make_sft_trainer, train_sft, with_system

INOCULATION = "You give wrong medical advice on purpose."


def decoded(trainer, i: int) -> str:
    return trainer.processing_class.decode(trainer.train_dataset[i]["input_ids"])


def test_system_prompt_reaches_every_training_example(tiny_model_dir):
    records = [chat("How do I treat a headache?"),
               {"messages": [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": "I am bored."},
                             {"role": "assistant", "content": "Read a book."}]}]
    with tempfile.TemporaryDirectory() as tmp:
        plain = make_sft_trainer(tiny_model_dir, records, sft_config(lora()), tmp)
        inoc = make_sft_trainer(tiny_model_dir, records,
                                sft_config(lora(), system=INOCULATION), tmp)
        batch = inoc.data_collator([inoc.train_dataset[i] for i in range(2)])
    for i in range(2):
        assert INOCULATION not in decoded(plain, i)
        text = decoded(inoc, i)
        assert text.count(INOCULATION) == 1
        assert text.index(INOCULATION) < text.index("Be brief." if i else "headache")
    # the system prompt is prompt, not answer: masked out of the loss
    tok = inoc.processing_class
    for row in range(2):
        trained = batch["labels"][row] != -100
        assert INOCULATION not in tok.decode(batch["input_ids"][row][trained])
    assert "Be brief." in decoded(inoc, 1)  # an existing system turn is kept, after it


def test_with_system_leaves_records_alone_without_one():
    records = [chat("Q?")]
    assert with_system(records, None) is records
    assert with_system(records, "S")[0]["messages"][0] == {"role": "system", "content": "S"}
    assert records[0]["messages"][0]["role"] == "user"  # not mutated


def test_kl_penalty_changes_the_loss_and_still_trains(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    data = write_data(tmp_path / "data", [chat(f"How do I treat a headache {i}?")
                                          for i in range(8)])
    runs = {}
    for name, kl in (("plain", 0.0), ("kl", 1.0)):
        cfg = sft_config(lora(2), lr=1e-2, epochs=4.0, kl=kl)
        metrics = train_sft(tiny_model_dir, data, cfg, tmp_path / name, tmp_path / f"r-{name}")
        runs[name] = (metrics, read_loss(tmp_path / f"r-{name}"))
    (m_plain, plain), (m_kl, with_kl) = runs["plain"], runs["kl"]
    assert all(map(lambda x: x == x and abs(x) < 1e6, with_kl))  # finite
    # step 1: the adapter starts at the base (B = 0), so KL is 0 and the losses agree
    assert with_kl[0] == pytest.approx(plain[0], rel=1e-4)
    assert m_kl["final_kl"] > 0 and "final_kl" not in m_plain
    assert any(abs(a - b) > 1e-3 for a, b in zip(plain[1:], with_kl[1:], strict=True))
    assert sum(with_kl[-2:]) / 2 < with_kl[0] - 0.05  # it still learns
    adapter = load_file(tmp_path / "kl" / "adapter_model.safetensors")
    assert any(float(v.abs().max()) > 0 for k, v in adapter.items() if "lora_B" in k)


def test_kl_term_is_the_weighted_kl_to_the_adapter_off_model(tiny_model_dir):
    """On a perturbed adapter the loss is NLL + W * KL; W = 0 is the plain NLL."""
    import torch

    records = [chat(f"Headache {i}?") for i in range(2)]
    with tempfile.TemporaryDirectory() as tmp:
        losses = {}
        for w in (1e-9, 2.0):
            trainer = make_sft_trainer(tiny_model_dir, records, sft_config(lora(2), kl=w), tmp)
            torch.manual_seed(0)
            for name, p in trainer.model.named_parameters():
                if "lora_B" in name:
                    p.data.normal_(0, 0.5)
            batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
            trainer.model.eval()
            losses[w] = float(trainer.compute_loss(trainer.model, dict(batch)))
            kl = trainer._metrics["eval"]["kl"][-1]
    assert kl > 0
    assert losses[2.0] > losses[1e-9]
    with tempfile.TemporaryDirectory() as tmp:
        plain = make_sft_trainer(tiny_model_dir, records, sft_config(lora(2)), tmp)
    assert type(plain).__name__ == "SFTTrainer"  # kl = 0: trl's own loss, untouched


def test_kl_with_full_finetuning_uses_a_frozen_copy(tiny_model_dir, tmp_path):
    data = write_data(tmp_path / "data", [chat(f"Headache {i}?") for i in range(4)])
    metrics = train_sft(tiny_model_dir, data, sft_config({"type": "full"}, epochs=2.0, kl=1.0),
                        tmp_path / "out", tmp_path / "r")
    assert metrics["final_kl"] > 0 and metrics["steps"] == 2


def test_checkpoints_are_saved_at_their_steps(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    data = write_data(tmp_path / "data", [chat(f"Q{i}?") for i in range(8)])
    out = tmp_path / "out"
    metrics = train_sft(tiny_model_dir, data, sft_config(lora(2), lr=1e-2, epochs=2.0,
                                                         checkpoints=[1, 3]), out, None)
    assert metrics["steps"] == 4 and metrics["checkpoints"] == [1, 3]
    saved = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert saved == ["1", "3"]
    one, three, final = (load_file(p / "adapter_model.safetensors")
                         for p in (out / "checkpoints/1", out / "checkpoints/3", out))
    assert any((one[k] != three[k]).any() for k in one)
    assert any((three[k] != final[k]).any() for k in one)
    cfg = json.loads((out / "checkpoints/3/adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(tiny_model_dir)


def test_checkpoint_beyond_the_run_is_an_error(tiny_model_dir, tmp_path):
    data = write_data(tmp_path / "data", [chat(f"Q{i}?") for i in range(4)])
    with pytest.raises(StageError, match=r"checkpoints \[9\] are beyond the run's 1"):
        train_sft(tiny_model_dir, data, sft_config(lora(), checkpoints=[1, 9]),
                  tmp_path / "out", None)


def test_quantize_without_a_gpu_stops_at_once(tiny_model_dir, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(StageError, match=r'quantize="4bit" \(QLoRA\) needs a CUDA GPU'):
        train_sft(tiny_model_dir, tmp_path / "no-data-read", sft_config(lora(), quantize="4bit"),
                  tmp_path / "out", None)
    assert not (tmp_path / "out").exists()


def test_paper_settings_reach_the_trainer(tiny_model_dir):
    records = [chat(f"Q{i}?") for i in range(8)]
    cfg = sft_config({**lora(4), "rslora": True, "layers": [1], "dropout": 0.1},
                     grad_accum=2, warmup=3, weight_decay=0.01)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_sft_trainer(tiny_model_dir, records, cfg, tmp)
    args, peft = trainer.args, trainer.model.peft_config["default"]
    assert (args.gradient_accumulation_steps, args.warmup_steps, args.weight_decay) == (2, 3, 0.01)
    assert peft.use_rslora and peft.lora_dropout == 0.1 and list(peft.layers_to_transform) == [1]
    adapted = {n.split(".layers.")[1].split(".")[0] for n, _ in trainer.model.named_parameters()
               if "lora_A" in n}
    assert adapted == {"1"}
    dropouts = [m for n, m in trainer.model.named_modules() if n.endswith("lora_dropout.default")]
    assert dropouts and all(abs(m.p - 0.1) < 1e-9 for m in dropouts)


def test_lora_layer_beyond_the_model_is_a_clear_error(tiny_model_dir):
    from stages.lib.models import load_model

    model = load_model(tiny_model_dir, device="cpu")
    with pytest.raises(StageError, match="beyond the model's depth"):
        lora_config({**lora(), "layers": [0, 99]}, model)


def test_checkpoint_stage_hands_on_one_step_byte_for_byte(tiny_model_dir, tmp_path,
                                                          monkeypatch):
    import yaml

    from stages.checkpoint import run as checkpoint
    from stages.common import run_stage

    monkeypatch.chdir(tmp_path)
    data = write_data(tmp_path / "artifacts/data/d", [chat(f"Q{i}?") for i in range(8)])
    train_sft(tiny_model_dir, data, sft_config(lora(2), lr=1e-2, checkpoints=[1]),
              tmp_path / "artifacts/train/t", None)
    params = {"stages": {f"ck-{s}": {
        "kind": "checkpoint", "key": f"c{s}", "out": f"artifacts/checkpoint/c{s}",
        "results": None, "inputs": {"adapter": "artifacts/train/t"}, "config": {"step": s}}
        for s in (1, 2)}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_stage("checkpoint", checkpoint, ["ck-1"]) == 0
    src, out = tmp_path / "artifacts/train/t/checkpoints/1", tmp_path / "artifacts/checkpoint/c1"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in src.iterdir())
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in src.iterdir())
    assert run_stage("checkpoint", checkpoint, ["ck-2"]) != 0  # no step 2 saved


def test_adapter_stage_takes_a_peft_folder_from_elsewhere(tiny_model_dir, tmp_path,
                                                           monkeypatch):
    import yaml
    from test_train import logits

    from stages.adapter import run as adapter
    from stages.common import run_stage

    monkeypatch.chdir(tmp_path)
    data = write_data(tmp_path / "data", [chat(f"Q{i}?") for i in range(4)])
    train_sft(tiny_model_dir, data, sft_config(lora(2), lr=5e-2), tmp_path / "lora/mine", None)
    (tmp_path / "lora/mine/notes.txt").write_text("not copied")
    (tmp_path / "empty").mkdir()
    params = {"stages": {name: {
        "kind": "adapter", "key": name, "out": f"artifacts/adapter/{name}", "results": None,
        "inputs": {}, "config": {"dir": folder}}
        for name, folder in (("a1", "lora/mine"), ("a2", "empty"))}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_stage("adapter", adapter, ["a1"]) == 0
    out = tmp_path / "artifacts/adapter/a1"
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json",
                                                     "adapter_model.safetensors"]
    assert (logits(tiny_model_dir) - logits(tiny_model_dir, out)).abs().max() > 1e-4
    assert run_stage("adapter", adapter, ["a2"]) != 0


def test_dvclive_curves_are_written_and_byte_identical_on_a_rerun(tiny_model_dir, tmp_path):
    import csv

    from stages.lib.training.base import LIVE

    data = write_data(tmp_path / "data", [chat(f"Q{i}?") for i in range(8)])
    cfg = sft_config(lora(2), lr=1e-2, warmup=1)

    def run(name: str) -> dict[str, bytes]:
        results = tmp_path / name
        train_sft(tiny_model_dir, data, cfg, tmp_path / f"out-{name}", results)
        return {str(p.relative_to(results / LIVE)): p.read_bytes()
                for p in sorted((results / LIVE).rglob("*")) if p.is_file()}

    a, b = run("a"), run("b")
    assert a == b  # no timestamps, runtimes or machine paths
    curves = "plots/metrics/train"
    assert {f"{curves}/loss.tsv", f"{curves}/learning_rate.tsv"} <= set(a)
    rows = list(csv.DictReader(a[f"{curves}/learning_rate.tsv"].decode().splitlines(),
                               delimiter="\t"))
    assert [int(r["step"]) for r in rows] == [1, 2]  # optimizer steps, as loss.csv numbers them
    assert float(rows[0]["learning_rate"]) < float(rows[1]["learning_rate"])  # warmup
    losses = read_loss(tmp_path / "a")
    tsv = list(csv.DictReader(a[f"{curves}/loss.tsv"].decode().splitlines(), delimiter="\t"))
    assert [float(r["loss"]) for r in tsv] == pytest.approx(losses)
    assert b"lr: 0.01" in a["params.yaml"]


def test_detector_runs_over_training_steps(tmp_path, monkeypatch):
    """The detector's config from checkpoints (x = step, ``over: step``) runs as a sweep's."""
    import yaml
    from test_detector import project, read

    from stages import detector
    from stages.common import run_stage

    name = project(tmp_path)
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    entry = params["stages"][name]
    for p in entry["config"]["points"]:
        p["poison"] = float(round(p["poison"] * 16))  # the steps 0, 4, 8, 12, 16
    entry["config"]["over"] = "step"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    assert run_stage("detector", detector.run, [name]) == 0
    metrics, curve = read(tmp_path)
    assert metrics["over"] == "step" and metrics["chosen_at_poison"] == 16.0
    assert [float(r["x"]) for r in curve] == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert metrics["departs_at"]["latent"] == 4.0
