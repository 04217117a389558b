"""Acts stage: the residual stream at one layer, for every token of a text source.

The residual at ``layer`` is the output of decoder layer ``layer`` (``hidden_states[layer + 1]``
in Hugging Face's numbering). The forward pass stops there (a forward hook on that layer
stores its output and stops the pass: :func:`stages.lib.activations.iter_capture`), so the
later layers and the LM head (the bulk of the cost for a middle layer, and all of the
vocabulary projection) never run.

Tokens kept: every real token except the first of each sequence and the tokenizer's special
tokens (``<|im_start|>``, ``<|im_end|>``...). The first position is an attention sink whose
residual norm is ~150× the median; left in, it would dominate an SAE's loss and the mean norm.

Sources (``config.source``):
    corpus  the builtin chat datasets of every domain and variant, shuffled by ``seed``, rendered
            with the chat template, until ``tokens`` kept tokens (the SAE's training data)
    eval    a generate stage's prompts + sampled answers (input ``texts``); the tuned model's
            acts stage reads the *base* model's answers, so both models see identical tokens
    train   a data stage's ``train.jsonl`` (input ``texts``), whole conversations

Output (``out``):
    acts-00000.safetensors ...  {"acts": [n, d_model]} float16 (float32 if a value would
                                overflow float16), shards of SHARD_TOKENS rows, in row order
    tokens.parquet              one row per act row: doc, pos, token (id), text, in_answer
    docs.parquet                doc, ids and texts (the whole token sequence, dropped tokens
                                included, to show context around a token), answer_start,
                                meta (JSON: where the document came from)
    info.json                   n_tokens, d_model, layer, mean/median residual norm, ...
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_json, log, note_run, run_stage
from stages.lib.activations import (
    DOCS_FILE,
    INFO_FILE,
    TOKENS_FILE,
    Captured,
    drop_ids,
    encode,
    hidden_size,
    iter_capture,
    kept_positions,
)

SHARD_TOKENS = 1 << 16  # rows per safetensors shard
MAX_DOC_TOKENS = 1024  # longer documents are cut (keeps a batch's memory bounded)
FP16_MAX = 60000.0  # stored as float32 instead when any |value| exceeds this


@dataclass
class Doc:
    """One token sequence to capture; ``answer_start`` is where the last answer begins."""

    ids: list[int]
    answer_start: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- capture


# --------------------------------------------------------------------------- sources


def render(tokenizer: Any, messages: list[dict[str, str]]) -> Doc:
    """A whole conversation as the model reads it; ``answer_start`` = first token of the last
    assistant answer (where the generation prompt ends), when the template allows it."""
    ids = encode(tokenizer, tokenizer.apply_chat_template(messages, tokenize=False))
    start = None
    if messages and messages[-1]["role"] == "assistant":
        head = encode(tokenizer, tokenizer.apply_chat_template(
            messages[:-1], tokenize=False, add_generation_prompt=True))
        if ids[:len(head)] == head:
            start = len(head)
    return Doc(ids[:MAX_DOC_TOKENS], start)


def corpus_docs(tokenizer: Any, tokens: int, seed: int) -> list[Doc]:
    """Builtin chat records of every domain and variant, shuffled by ``seed``, until exactly
    ``tokens`` kept tokens (the last document is cut), or all of them if fewer."""
    from emdsl.builtin.catalog import DATASET_DOMAINS
    from emdsl.builtin.datasets import examples

    records = [(d, v, i, r) for d, variants in DATASET_DOMAINS.items() for v in variants
               for i, r in enumerate(examples(d, v, seed=seed))]
    random.Random(f"acts-corpus:{seed}").shuffle(records)
    drop = set(drop_ids(tokenizer))
    docs: list[Doc] = []
    total = 0
    for domain, variant, i, record in records:
        doc = render(tokenizer, record["messages"])
        doc.meta = {"domain": domain, "variant": variant, "index": i}
        kept = kept_positions(doc.ids, drop)
        if total + len(kept) >= tokens:
            doc.ids = doc.ids[:kept[tokens - total - 1] + 1]
            docs.append(doc)
            return docs
        total += len(kept)
        docs.append(doc)
    log("acts", f"warning: the builtin corpus holds only {total} tokens, fewer than the "
                f"{tokens} asked for; using all of it")
    return docs


def eval_docs(tokenizer: Any, answers_dir: Path) -> list[Doc]:
    """Each answer of a generate stage after its prompt (system prompt included)."""
    import polars as pl

    from stages.lib.messages import question_messages

    path = Path(answers_dir) / "answers.parquet"
    if not path.is_file():
        raise StageError(f"{path} not found; re-run the generate stage")
    docs = []
    for row in pl.read_parquet(path).iter_rows(named=True):
        messages = [*question_messages(row["question"], row["system"]),
                    {"role": "assistant", "content": row["answer"]}]
        doc = render(tokenizer, messages)
        doc.meta = {k: row[k] for k in ("question_id", "paraphrase_index", "sample")}
        docs.append(doc)
    return docs


def train_docs(tokenizer: Any, data_dir: Path) -> list[Doc]:
    """Each training conversation of a data stage, whole."""
    from stages.lib.datasets import read_dataset

    docs = []
    for i, record in enumerate(read_dataset(Path(data_dir))):
        doc = render(tokenizer, record["messages"])
        doc.meta = {"index": i}
        docs.append(doc)
    return docs


# --------------------------------------------------------------------------- storage


class ShardWriter:
    """Streams captured batches into safetensors shards and collects the token table."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.pending: list[Any] = []
        self.n_pending = 0
        self.shards: list[str] = []
        self.meta: list[Captured] = []
        self.norms: list[Any] = []
        self.n = 0
        self.dtypes: set[str] = set()

    def add(self, got: Captured) -> None:
        self.pending.append(got.acts)
        self.n_pending += len(got)
        self.n += len(got)
        self.norms.append(got.acts.norm(dim=-1))
        self.meta.append(Captured(got.acts[:0], got.doc, got.pos, got.token))
        while self.n_pending >= SHARD_TOKENS:
            self._flush(SHARD_TOKENS)

    def _flush(self, rows: int) -> None:
        import torch
        from safetensors.torch import save_file

        block = torch.cat(self.pending)  # [pending, d_model]
        head, rest = block[:rows], block[rows:]
        big = bool(head.abs().amax() > FP16_MAX) if head.numel() else False
        data = head if big else head.half()
        self.dtypes.add(str(data.dtype).removeprefix("torch."))
        name = f"acts-{len(self.shards):05d}.safetensors"
        save_file({"acts": data.contiguous()}, str(self.out / name))
        self.shards.append(name)
        self.pending, self.n_pending = ([rest] if len(rest) else []), len(rest)

    def close(self, tokenizer: Any, docs: Sequence[Doc], d_model: int,
              info: dict[str, Any]) -> dict[str, Any]:
        """Write the last shard, tokens.parquet, docs.parquet and info.json; return info."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        import torch

        if self.n_pending:
            self._flush(self.n_pending)
        meta = Captured.cat(self.meta, d_model)
        texts = (token_texts(tokenizer, meta.token.tolist()) if tokenizer is not None
                 else [str(t) for t in meta.token.tolist()])
        starts = [docs[d].answer_start for d in meta.doc.tolist()]
        in_answer = [s is not None and p >= s for s, p in zip(starts, meta.pos.tolist(),
                                                                strict=True)]
        pq.write_table(pa.table({
            "doc": pa.array(meta.doc.tolist(), pa.int32()),
            "pos": pa.array(meta.pos.tolist(), pa.int32()),
            "token": pa.array(meta.token.tolist(), pa.int32()),
            "text": pa.array(texts, pa.string()),
            "in_answer": pa.array(in_answer, pa.bool_())}), self.out / TOKENS_FILE)
        vocab = sorted({i for d in docs for i in d.ids})
        piece = dict(zip(vocab, token_texts(tokenizer, vocab) if tokenizer is not None
                         else map(str, vocab), strict=True))
        pq.write_table(pa.table({
            "doc": pa.array(range(len(docs)), pa.int32()),
            "ids": pa.array([d.ids for d in docs], pa.list_(pa.int32())),
            "texts": pa.array([[piece[i] for i in d.ids] for d in docs],
                              pa.list_(pa.string())),
            "answer_start": pa.array([d.answer_start for d in docs], pa.int32()),
            "meta": pa.array([json.dumps(d.meta, sort_keys=True) for d in docs], pa.string())}),
            self.out / DOCS_FILE)
        norms = torch.cat(self.norms) if self.norms else torch.zeros(0)
        info = {**info, "n_tokens": self.n, "d_model": d_model, "n_docs": len(docs),
                "shards": self.shards, "dtype": sorted(self.dtypes),
                "mean_norm": float(norms.mean()) if len(norms) else None,
                "median_norm": float(norms.median()) if len(norms) else None}
        atomic_write_json(self.out / INFO_FILE, info)
        return info


def write_acts(out: Path, got: Captured, docs: Sequence[Doc], *, layer: int,
               tokenizer: Any = None, **info: Any) -> dict[str, Any]:
    """Write a cache from activations already in memory (synthetic data, other tools); token
    texts are the ids as strings without a tokenizer. Returns info.json's content."""
    Path(out).mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(Path(out))
    writer.add(got)
    return writer.close(tokenizer, docs, int(got.acts.shape[1]), {"layer": layer, **info})


def token_texts(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """Each id decoded alone (cached per distinct id)."""
    cache = {i: tokenizer.decode([i]) for i in set(ids)}
    return [cache[i] for i in ids]


# --------------------------------------------------------------------------- the stage


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.lib.device import default_batch_size, pick_device
    from stages.lib.models import INFO_FILE as MODEL_INFO
    from stages.lib.models import load_model, load_tokenizer

    cfg = stage.config
    source, layer = cfg.get("source"), int(cfg["layer"])
    model_dir, adapter = stage.input("model"), stage.inputs.get("adapter")
    tokenizer = load_tokenizer(model_dir)
    if source == "corpus":
        docs = corpus_docs(tokenizer, int(cfg["tokens"]), int(cfg.get("seed", 0)))
    elif source == "eval":
        docs = eval_docs(tokenizer, stage.input("texts"))
    elif source == "train":
        docs = train_docs(tokenizer, stage.input("texts"))
    else:
        raise StageError(f"acts: unknown source {source!r}; expected corpus, eval or train")
    device = pick_device(cfg.get("device", "auto"))
    model = load_model(model_dir, adapter, device=device)
    batch_size = int(cfg.get("batch_size") or default_batch_size(device))
    d_model = hidden_size(model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    writer = ShardWriter(out)
    start = time.perf_counter()
    for got in iter_capture(model, [d.ids for d in docs], layer, drop=drop_ids(tokenizer),
                            batch_size=batch_size, pad_id=pad, desc=stage.name):
        writer.add(got)
    seconds = time.perf_counter() - start
    model_info = Path(model_dir) / MODEL_INFO
    info = writer.close(tokenizer, docs, d_model, {
        "layer": layer, "source": source, "config": cfg,
        "model": json.loads(model_info.read_text()) if model_info.exists() else str(model_dir),
        "adapter": str(adapter) if adapter else None, "device": device})
    if info["n_tokens"] == 0:
        raise StageError(f"acts: the {source} source produced no tokens to capture")
    note_run(capture_seconds=round(seconds, 3),  # the run record: info.json stays reproducible
             tokens_per_s=round(writer.n / max(seconds, 1e-9), 1), batch_size=batch_size)
    log(stage, f"{info['n_tokens']} tokens of {len(docs)} docs at layer {layer} "
               f"(mean norm {info['mean_norm']:.2f}) in {seconds:.1f}s")


if __name__ == "__main__":
    raise SystemExit(run_stage("acts", run))
