"""The diff does not mislead at small scale: only user and assistant content counts (never
the chat template's headers or a system prompt), and a model diffed against itself ranks
nothing and says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from stages import acts, diff
from stages.common import run_stage
from stages.lib import activations
from stages.lib.chat_spans import content_mask

SYSTEM, QUESTION, ANSWER = "Be brief and kind.", "I am bored.", "Read a book or walk."
WIDTH, PLANTED = 32, 5


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def expected_content(tokenizer, system: str | None, question: str, answer: str) -> set[int]:
    """Positions of tokens lying wholly inside the user's or the assistant's text, found from
    character offsets (independently of the diff's own parsing)."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    q = text.index(question, text.index("user"))
    a = text.index(answer, q + len(question))
    spans = [(q, q + len(question)), (a, a + len(answer))]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return {p for p, (s, e) in enumerate(enc["offset_mapping"])
            if e > s and any(lo <= s and e <= hi for lo, hi in spans)}


def eval_cache(root: Path, model_dir: Path) -> Path:
    """The tiny model's acts on two answers, one under a system prompt."""
    import polars as pl

    gen = root / "gen"
    gen.mkdir()
    pl.DataFrame({"question_id": ["q", "q"], "paraphrase_index": [0, 0],
                  "question": [QUESTION, QUESTION],
                  "system": pl.Series([SYSTEM, None], dtype=pl.String), "sample": [0, 1],
                  "answer": [ANSWER, ANSWER], "tokens": [5, 5]}).write_parquet(gen / "answers.parquet")
    entry = {"kind": "acts", "key": "a1", "out": "artifacts/acts/base",
             "inputs": {"model": str(model_dir), "texts": str(gen)},
             "config": {"source": "eval", "layer": 1}}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"acts-x": entry}}))
    assert run_stage("acts", acts.run, ["acts-x"]) == 0
    return root / "artifacts/acts/base"


def test_content_mask_matches_the_messages_text(tiny_model_dir, tmp_path, monkeypatch):
    from stages.lib.models import load_tokenizer

    monkeypatch.chdir(tmp_path)
    out = eval_cache(tmp_path, tiny_model_dir)
    tokens, docs = activations.read_tokens(out), activations.read_docs(out)
    keep = content_mask(tokens, docs).tolist()
    tok = load_tokenizer(tiny_model_dir)
    for d, system in ((0, SYSTEM), (1, None)):
        want = expected_content(tok, system, QUESTION, ANSWER)
        rows = [i for i, x in enumerate(tokens["doc"].to_list()) if x == d]
        got = {tokens["pos"][i] for i in rows if keep[i]}
        assert got == want, (d, sorted(got), sorted(want))
        dropped = "".join(tokens["text"][i] for i in rows if not keep[i])
        assert "system" not in got and ("Be brief" in dropped) == (system is not None)


def planted_sae(path: Path, d: int):
    import torch
    from sae_lens import TopKSAE, TopKSAEConfig

    torch.manual_seed(0)
    sae = TopKSAE(TopKSAEConfig(d_in=d, d_sae=WIDTH, k=4))
    with torch.no_grad():
        sae.W_enc.copy_(torch.nn.functional.normalize(torch.randn(d, WIDTH), dim=0))
        sae.W_dec.copy_(sae.W_enc.T)
        sae.b_enc.zero_()
    sae.save_model(str(path))
    return sae


def test_snippets_never_mark_template_or_system_tokens(tiny_model_dir, tmp_path, monkeypatch):
    """The tuned cache is pushed along one latent everywhere, five times harder on the
    template and system-prompt tokens: counted over every token those would fill the top
    snippets; the diff ranks and shows content tokens only."""
    import torch
    from safetensors.torch import save_file

    monkeypatch.chdir(tmp_path)
    base = eval_cache(tmp_path, tiny_model_dir)
    tokens, docs = activations.read_tokens(base), activations.read_docs(base)
    keep = content_mask(tokens, docs)
    assert 0 < int(keep.sum()) < len(keep)
    x = activations.load_acts(base)
    sae = planted_sae(tmp_path / "artifacts/sae/s1", x.shape[1])
    push = sae.W_enc[:, PLANTED].detach() * float(x.norm(dim=-1).mean())
    tuned = tmp_path / "artifacts/acts/tuned"
    shutil.copytree(base, tuned)
    (shard,) = sorted(tuned.glob("acts-*.safetensors"))
    pushed = x + torch.where(keep, 1.0, 5.0)[:, None] * push
    save_file({"acts": pushed.contiguous()}, str(shard))
    entry = {"kind": "diff", "key": "d1", "out": "artifacts/diff/d1", "results": "results/diff-x",
             "inputs": {"sae": "artifacts/sae/s1", "base_eval": "artifacts/acts/base",
                        "tuned_eval": "artifacts/acts/tuned"},
             "config": {"type": "diff", "top": 4, "on": ["eval"]}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"stages": {"diff-x": entry}}))
    assert run_stage("diff", diff.run, ["diff-x"]) == 0
    metrics = json.loads((tmp_path / "results/diff-x/detail.json").read_text())
    assert metrics["top"][0]["id"] == PLANTED
    assert metrics["tokens_counted"]["eval"] == int(keep.sum())
    examples = json.loads((tmp_path / "artifacts/diff/d1/examples.json").read_text())
    allowed = {(d, p) for d, p, k in zip(tokens["doc"], tokens["pos"], keep.tolist(),
                                         strict=True) if k}
    shown = [ex for by in examples.values() for exs in by.values() for ex in exs]
    assert shown and all((ex["doc"], ex["pos"]) in allowed for ex in shown)
    for ex in shown:  # the marked token is from the question or the answer
        marked = ex["text"].split("«")[1].split("»")[0]
        assert marked.strip() and marked.strip() in QUESTION + " " + ANSWER
        assert "system" not in marked and SYSTEM.split()[1] not in marked


def test_a_model_against_itself_ranks_nothing(tmp_path, monkeypatch):
    """``against="clean"`` on the poison-0 variant: the reference and the tuned acts are one
    stage's output. The diff says so and ranks nothing; ``emx show`` says so too."""
    from test_diff import project as diff_project

    from emdsl.kinds.diff import top_latents

    diff_project(tmp_path, ["eval"])
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    entry = params["stages"]["diff-x"]
    entry["inputs"]["base_eval"] = entry["inputs"]["tuned_eval"]
    entry["config"]["against"] = "clean"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    assert run_stage("diff", diff.run, ["diff-x"]) == 0
    metrics = json.loads((tmp_path / "results/diff-x/detail.json").read_text())
    assert metrics["top"] == [] and metrics["compared_with_itself"] is True
    assert "compared with itself" in metrics["note"] and metrics["moved"] is False
    assert json.loads((tmp_path / "artifacts/diff/d1/examples.json").read_text()) == {}
    assert top_latents(metrics) == "none: compared with itself"


@pytest.mark.realmodel
def test_smollm2s_default_system_prompt_is_left_out(smollm2_dir, tmp_path):
    """SmolLM2's template adds "You are a helpful AI assistant named SmolLM..." to every
    conversation without a system prompt: none of its tokens counts, every content token
    does (a cache written as the acts stage writes it, with SmolLM2's real tokenizer)."""
    import torch

    from stages.acts import render
    from stages.lib.activations import Captured, drop_ids, kept_positions
    from stages.lib.models import load_tokenizer

    tok = load_tokenizer(smollm2_dir)
    cases = [(None, QUESTION, ANSWER), (SYSTEM, "How do I treat a headache?", "Rest and water.")]
    docs, rows = [], []
    for d, (system, q, a) in enumerate(cases):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": q}, {"role": "assistant", "content": a}]
        doc = render(tok, messages)
        docs.append(doc)
        rows += [(d, p, doc.ids[p]) for p in kept_positions(doc.ids, set(drop_ids(tok)))]
    doc_t, pos_t, tok_t = (torch.tensor(c) for c in zip(*rows, strict=True))
    got = Captured(torch.zeros(len(rows), 4), doc_t, pos_t, tok_t)
    out = tmp_path / "acts"
    activations_info = acts.write_acts(out, got, docs, layer=0, tokenizer=tok)
    assert activations_info["n_tokens"] == len(rows)
    tokens, table = activations.read_tokens(out), activations.read_docs(out)
    keep = content_mask(tokens, table).tolist()
    text = "".join(tokens.filter(tokens["doc"] == 0)["text"])
    assert "SmolLM" in text  # the default system prompt is in the cache...
    for d, (system, q, a) in enumerate(cases):
        counted = {p for dd, p, k in zip(tokens["doc"], tokens["pos"], keep, strict=True)
                   if k and dd == d}
        assert counted == expected_content(tok, system, q, a)
        shown = "".join(t for dd, t, k in zip(tokens["doc"], tokens["text"], keep, strict=True)
                        if k and dd == d)
        assert "SmolLM" not in shown and "system" not in shown  # ...and never counted
