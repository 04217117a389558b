"""``diff(label=JUDGE)``: a judge writes a short label per top latent from its snippets, through
the judge cache, with a local model (the tiny Llama generates it) or an OpenAI-compatible
server (the loopback stub)."""

from __future__ import annotations

import json

import pytest
import yaml
from openai_stub import Loopback
from test_diff import PLANTED, project

from stages import diff
from stages.common import run_stage
from stages.lib import latent_labels


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def with_label(root, label: dict, extra_inputs: dict | None = None) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    entry = params["stages"]["diff-x"]
    entry["config"]["label"] = label
    entry["inputs"].update(extra_inputs or {})
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def test_local_judge_labels_each_top_latent_once(tmp_path, monkeypatch, tiny_model_dir):
    project(tmp_path, ["eval"], top=3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    with_label(tmp_path, {"type": "local", "model": {"type": "path", "dir": "m"}, "batch": 8},
               {"label_model": str(tiny_model_dir)})
    prompts: list[str] = []
    real = latent_labels.LocalLabeller.label

    def spy(self, todo):
        prompts.extend(todo)
        return real(self, todo)

    monkeypatch.setattr(latent_labels.LocalLabeller, "label", spy)
    assert run_stage("diff", diff.run, ["diff-x"]) == 0
    metrics = json.loads((tmp_path / "results/diff-x/detail.json").read_text())
    top = metrics["top"]
    assert len(top) == 3 and top[0]["id"] == PLANTED
    assert all(isinstance(t["label"], str) for t in top)  # the model's words, cleaned
    assert all(len(t["label"]) <= latent_labels.MAX_CHARS for t in top)
    assert len(prompts) == 3
    examples = json.loads((tmp_path / "artifacts/diff/d1/examples.json").read_text())
    planted = next(p for p in prompts if examples[str(PLANTED)]["eval"][0]["text"] in p)
    assert "«" in planted and "what does this feature respond to" in planted
    # A rerun asks nothing: every label comes from the judge cache.
    prompts.clear()
    assert run_stage("diff", diff.run, ["diff-x"]) == 0
    assert prompts == []
    again = json.loads((tmp_path / "results/diff-x/detail.json").read_text())["top"]
    assert [t["label"] for t in again] == [t["label"] for t in top]


def test_openai_judge_labels_through_chat_completions(tmp_path, monkeypatch):
    seen = []

    def handle(prompt, headers):
        seen.append((prompt, headers.get("Authorization")))
        reply = f"Label: \"numbers near {prompt.count('«')} marks\"."
        body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}
        return 200, json.dumps(body).encode(), {}

    project(tmp_path, ["eval"], top=2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("STUB_KEY", "sk-test-123456")
    with Loopback(handle) as server:
        with_label(tmp_path, {"type": "openai", "model": "gpt-x", "base_url": server.url,
                              "api_key_env": "STUB_KEY", "concurrency": 2, "max_retries": 0})
        assert run_stage("diff", diff.run, ["diff-x"]) == 0
    top = json.loads((tmp_path / "results/diff-x/detail.json").read_text())["top"]
    assert len(seen) == 2 and all(auth == "Bearer sk-test-123456" for _, auth in seen)
    for t, (prompt, _) in zip(top, seen, strict=True):
        assert t["label"] == f"numbers near {prompt.count('«')} marks"  # "Label:", quotes gone


def test_clean_label():
    assert latent_labels.clean_label('  \n"Medical dosing advice."\nmore') == "Medical dosing advice"
    assert latent_labels.clean_label("Feature: x" + "y" * 200).endswith("…")
