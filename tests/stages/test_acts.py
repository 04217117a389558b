"""The acts stage on the tiny model: capture equals hidden_states[layer + 1] on kept tokens,
first/special tokens dropped, nothing after the layer runs, and the cache on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stages import acts
from stages.common import StageError, run_stage
from stages.data import to_jsonl
from stages.lib import activations
from stages.lib.datasets import TRAIN_FILE

TEXTS = ["<|im_start|>user\nHow do I treat a headache?<|im_end|>\n<|im_start|>assistant\n"
         "Rest and drink water.<|im_end|>\n",
         "I am bored. Try reading a book.",
         "0 1 2 3"]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from stages.lib.models import load_model, load_tokenizer

    return load_model(tiny_model_dir, device="cpu"), load_tokenizer(tiny_model_dir)


def reference(model, tok, text: str, layer: int):
    """hidden_states[layer + 1] of one unpadded sequence: [tokens, d_model]."""
    import torch

    ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model(ids, output_hidden_states=True)
    return ids[0], out.hidden_states[layer + 1][0]


def test_capture_equals_hidden_states_on_kept_tokens(tiny):
    import torch

    model, tok = tiny
    got = activations.capture(model, tok, TEXTS, layer=0, batch_size=2)  # padding inside a batch
    specials = set(tok.all_special_ids)
    assert got.acts.shape[1] == 64 and got.acts.dtype == torch.float32
    for d, text in enumerate(TEXTS):
        ids, hidden = reference(model, tok, text, 0)
        keep = [p for p in range(1, len(ids)) if int(ids[p]) not in specials]
        mine = got.doc == d
        assert got.pos[mine].tolist() == keep  # first token and specials dropped, in order
        assert got.token[mine].tolist() == ids[keep].tolist()
        torch.testing.assert_close(got.acts[mine], hidden[keep], rtol=1e-4, atol=1e-5)
    assert 0 not in got.pos.tolist()
    assert not set(got.token.tolist()) & specials
    assert len(got) == sum(len(activations.kept_positions(activations.encode(tok, t), specials))
                           for t in TEXTS)


def test_capture_stops_at_the_layer(tiny):
    """Cost: layers after ``layer`` and the LM head never run; the layer itself once a batch."""
    from stages.lib.models import model_layers

    model, tok = tiny
    calls = {"layer0": 0, "layer1": 0, "head": 0}
    hooks = [model_layers(model)[0].register_forward_hook(
                 lambda *a: calls.__setitem__("layer0", calls["layer0"] + 1)),
             model_layers(model)[1].register_forward_hook(
                 lambda *a: calls.__setitem__("layer1", calls["layer1"] + 1)),
             model.lm_head.register_forward_hook(
                 lambda *a: calls.__setitem__("head", calls["head"] + 1))]
    try:
        activations.capture(model, tok, TEXTS, layer=0, batch_size=2)
    finally:
        for h in hooks:
            h.remove()
    assert calls == {"layer0": 2, "layer1": 0, "head": 0}
    # the capture hook is removed afterwards: a plain forward runs every layer again
    model(tok("hi there", return_tensors="pt").input_ids)


def test_capture_last_layer_and_range(tiny):
    import torch

    model, tok = tiny
    got = activations.capture(model, tok, TEXTS[1:2], layer=1)
    ids = tok(TEXTS[1], add_special_tokens=False, return_tensors="pt").input_ids
    captured = []
    from stages.lib.models import model_layers

    h = model_layers(model)[1].register_forward_hook(lambda m, a, o: captured.append(o))
    with torch.no_grad():
        model(ids)
    h.remove()
    torch.testing.assert_close(got.acts, captured[0][0, 1:], rtol=1e-4, atol=1e-5)
    with pytest.raises(StageError, match="out of range"):
        activations.capture(model, tok, TEXTS, layer=2)


def test_corpus_docs_stop_at_exactly_the_token_budget(tiny):
    _, tok = tiny
    drop = set(activations.drop_ids(tok))
    docs = acts.corpus_docs(tok, 3000, seed=0)
    assert sum(len(activations.kept_positions(d.ids, drop)) for d in docs) == 3000
    metas = {(d.meta["domain"], d.meta["variant"]) for d in docs}
    assert len(metas) > 5  # mixed across domains and variants
    assert [d.meta for d in acts.corpus_docs(tok, 3000, seed=0)] == [d.meta for d in docs]
    assert [d.meta for d in acts.corpus_docs(tok, 3000, seed=1)] != [d.meta for d in docs]
    # the answer starts after the generation prompt
    d = docs[0]
    assert tok.decode(d.ids[:d.answer_start]).endswith("<|im_start|>assistant\n")
    assert not tok.decode(d.ids[d.answer_start:]).startswith("<|im_start|>")


def project(root: Path, model_dir: Path, config: dict, inputs: dict | None = None) -> Path:
    entry = {"kind": "acts", "key": "a1", "out": "artifacts/acts/a1",
             "inputs": {"model": str(model_dir), **(inputs or {})}, "config": config}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"acts-x": entry}}))
    return root / "artifacts/acts/a1"


def test_stage_writes_a_readable_cache(tiny_model_dir, tiny, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(acts, "SHARD_TOKENS", 1000)  # several shards
    out = project(tmp_path, tiny_model_dir,
                  {"source": "corpus", "layer": 0, "tokens": 2500, "seed": 0})
    monkeypatch.chdir(tmp_path)
    assert run_stage("acts", acts.run, ["acts-x"]) == 0
    info = json.loads((out / "info.json").read_text())
    assert (info["n_tokens"], info["d_model"], info["layer"]) == (2500, 64, 0)
    assert info["shards"] == ["acts-00000.safetensors", "acts-00001.safetensors",
                              "acts-00002.safetensors"]
    x = activations.load_acts(out)
    assert x.shape == (2500, 64)
    assert info["mean_norm"] == pytest.approx(float(x.norm(dim=-1).mean()), rel=1e-3)
    tokens, docs = activations.read_tokens(out), activations.read_docs(out)
    assert tokens.height == 2500 and tokens["pos"].min() >= 1
    # every row's token is the token at (doc, pos) of its document, and its activation matches
    # a direct capture of that document
    model, tok = tiny
    first = docs.row(0, named=True)
    rows = tokens.with_row_index().filter(tokens["doc"] == 0)
    assert rows["token"].to_list() == [first["ids"][p] for p in rows["pos"].to_list()]
    direct = activations.capture(model, tok, [first["ids"]], layer=0)
    torch.testing.assert_close(x[rows["index"].to_list()], direct.acts, rtol=2e-3, atol=2e-3)
    assert rows["text"].to_list() == [tok.decode([t]) for t in rows["token"].to_list()]


def test_eval_and_train_sources(tiny_model_dir, tmp_path, monkeypatch):
    import polars as pl

    gen = tmp_path / "gen"
    gen.mkdir()
    pl.DataFrame({"question_id": ["q", "q"], "paraphrase_index": [0, 0],
                  "question": ["I am bored.", "I am bored."],
                  "system": pl.Series([None, "Be brief."], dtype=pl.String), "sample": [0, 1],
                  "answer": ["Read a book.", "Walk."], "tokens": [3, 1]}
                 ).write_parquet(gen / "answers.parquet")
    out = project(tmp_path, tiny_model_dir, {"source": "eval", "layer": 1}, {"texts": str(gen)})
    monkeypatch.chdir(tmp_path)
    assert run_stage("acts", acts.run, ["acts-x"]) == 0
    tokens, docs = activations.read_tokens(out), activations.read_docs(out)
    assert docs.height == 2 and json.loads(docs["meta"][1])["sample"] == 1
    answer = tokens.filter(pl.col("in_answer") & (pl.col("doc") == 0))
    assert "".join(answer["text"]).strip() == "Read a book."
    assert "Be brief" in "".join(tokens.filter(pl.col("doc") == 1)["text"])

    data = tmp_path / "data"
    data.mkdir()
    (data / TRAIN_FILE).write_bytes(to_jsonl([{"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]))
    project(tmp_path, tiny_model_dir, {"source": "train", "layer": 0}, {"texts": str(data)})
    assert run_stage("acts", acts.run, ["acts-x"]) == 0
    assert activations.read_info(out)["source"] == "train" and activations.read_docs(out).height == 1


def test_unknown_source_fails_cleanly(tiny_model_dir, tmp_path, monkeypatch):
    project(tmp_path, tiny_model_dir, {"source": "web", "layer": 0})
    monkeypatch.chdir(tmp_path)
    assert run_stage("acts", acts.run, ["acts-x"]) == 1
    assert not (tmp_path / "artifacts/acts/a1").exists()
