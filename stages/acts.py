"""Acts stage: the residual stream at one layer, for every token of a text source.

The residual at ``layer`` is the output of decoder layer ``layer`` (``hidden_states[layer + 1]``
in Hugging Face's numbering). The forward pass stops there: a forward hook on that layer
stores its output and raises :class:`_Stop`, so the later layers and the LM head (the bulk of
the cost for a middle layer, and all of the vocabulary projection) never run.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_json, log, progress, run_stage

SHARD_TOKENS = 1 << 16  # rows per safetensors shard
MAX_DOC_TOKENS = 1024  # longer documents are cut (keeps a batch's memory bounded)
FP16_MAX = 60000.0  # stored as float32 instead when any |value| exceeds this
TOKENS_FILE, DOCS_FILE, INFO_FILE = "tokens.parquet", "docs.parquet", "info.json"


class _Stop(Exception):
    """Raised by the capture hook after layer ``layer``: the rest of the forward is skipped."""


@dataclass
class Doc:
    """One token sequence to capture; ``answer_start`` is where the last answer begins."""

    ids: list[int]
    answer_start: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Captured:
    """Residuals of kept tokens and where each came from (all tensors on the CPU)."""

    acts: Any  # FloatTensor [n, d_model] float32
    doc: Any  # LongTensor [n] index into the captured documents
    pos: Any  # LongTensor [n] position in its document
    token: Any  # LongTensor [n] token id

    def __len__(self) -> int:
        return int(self.acts.shape[0])

    @staticmethod
    def cat(parts: Sequence[Captured], d_model: int) -> Captured:
        import torch

        if not parts:
            empty = torch.zeros(0, dtype=torch.long)
            return Captured(torch.zeros(0, d_model), empty, empty.clone(), empty.clone())
        return Captured(*(torch.cat([getattr(p, f) for p in parts])
                          for f in ("acts", "doc", "pos", "token")))


# --------------------------------------------------------------------------- capture


def check_layer(model: Any, layer: int) -> None:
    from stages.model import model_layers

    n = len(model_layers(model))
    if not 0 <= layer < n:
        raise StageError(f"layer {layer} is out of range: the model has {n} layers "
                         f"(0..{n - 1})")


def drop_ids(tokenizer: Any) -> list[int]:
    """Token ids never kept: the tokenizer's special tokens (BOS, chat markers, padding)."""
    return sorted(set(tokenizer.all_special_ids))


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of an already rendered text (the template holds any BOS it wants)."""
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def kept_positions(ids: Sequence[int], drop: set[int]) -> list[int]:
    """Positions of ``ids`` whose residual is kept: not the first, not a special token."""
    return [p for p in range(1, len(ids)) if ids[p] not in drop]


def iter_capture(model: Any, docs: Sequence[Sequence[int]], layer: int, *, drop: Sequence[int],
                 batch_size: int = 16, pad_id: int = 0,
                 desc: str | None = None) -> Iterator[Captured]:
    """Residuals at ``layer`` of every kept token of ``docs``, one :class:`Captured` per batch.

    Documents are batched longest first (less padding), right-padded, so default positions
    0..len-1 are each document's own; ``Captured.doc`` indexes ``docs``.
    """
    import torch

    from stages.model import model_layers

    check_layer(model, layer)
    device = next(model.parameters()).device
    order = sorted(range(len(docs)), key=lambda i: (-len(docs[i]), i))
    order = [i for i in order if len(docs[i]) > 1]
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    drop_t = torch.tensor(sorted(set(drop)), dtype=torch.long)
    store: list[Any] = []

    def hook(module: Any, args: Any, output: Any) -> None:
        store.append(output[0] if isinstance(output, tuple) else output)
        raise _Stop

    handle = model_layers(model)[layer].register_forward_hook(hook)
    try:
        items = progress(batches, desc, total=len(batches), unit="batch") if desc else batches
        for rows in items:
            width = len(docs[rows[0]])
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                ids[r, :len(docs[i])] = torch.as_tensor(list(docs[i]), dtype=torch.long)
                mask[r, :len(docs[i])] = 1
            store.clear()
            with torch.inference_mode():
                try:
                    model(input_ids=ids.to(device), attention_mask=mask.to(device),
                          use_cache=False)
                except _Stop:
                    pass
            if len(store) != 1:
                raise RuntimeError(f"the hook on layer {layer} ran {len(store)} times, not once")
            h = store.pop()  # [rows, width, d_model]
            keep = mask.bool() & ~torch.isin(ids, drop_t)  # [rows, width]
            keep[:, 0] = False
            positions = torch.arange(width).expand(len(rows), width)
            doc = torch.as_tensor(rows, dtype=torch.long)[:, None].expand(len(rows), width)
            yield Captured(acts=h[keep.to(h.device)].float().cpu(), doc=doc[keep],
                           pos=positions[keep], token=ids[keep])
    finally:
        handle.remove()


def capture(model: Any, tokenizer: Any, texts: Sequence[str | Sequence[int]], layer: int, *,
            batch_size: int = 16) -> Captured:
    """Residuals at ``layer`` of every kept token of ``texts`` (rendered strings or token ids),
    in (doc, pos) order: ``acts`` [n, d_model] float32 and each row's doc, pos and token."""
    import torch

    docs = [encode(tokenizer, t) if isinstance(t, str) else list(t) for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    parts = list(iter_capture(model, docs, layer, drop=drop_ids(tokenizer),
                              batch_size=batch_size, pad_id=pad))
    got = Captured.cat(parts, hidden_size(model))
    order = torch.argsort(got.doc * (1 + max(map(len, docs), default=0)) + got.pos)
    return Captured(got.acts[order], got.doc[order], got.pos[order], got.token[order])


def hidden_size(model: Any) -> int:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") \
        else model.config
    return int(config.hidden_size)


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

    from stages.generate import chat

    path = Path(answers_dir) / "answers.parquet"
    if not path.is_file():
        raise StageError(f"{path} not found; re-run the generate stage")
    docs = []
    for row in pl.read_parquet(path).iter_rows(named=True):
        messages = [*chat(row["question"], row["system"]),
                    {"role": "assistant", "content": row["answer"]}]
        doc = render(tokenizer, messages)
        doc.meta = {k: row[k] for k in ("question_id", "paraphrase_index", "sample")}
        docs.append(doc)
    return docs


def train_docs(tokenizer: Any, data_dir: Path) -> list[Doc]:
    """Each training conversation of a data stage, whole."""
    from stages.data import read_dataset

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


def read_info(acts_dir: Path) -> dict[str, Any]:
    path = Path(acts_dir) / INFO_FILE
    if not path.is_file():
        raise StageError(f"{acts_dir} holds no activation cache ({INFO_FILE} missing); "
                         "re-run its acts stage")
    return json.loads(path.read_text())


def iter_acts(acts_dir: Path) -> Iterator[Any]:
    """The cached activations shard by shard, float32 [rows, d_model], in row order."""
    from safetensors.torch import load_file

    for name in read_info(acts_dir)["shards"]:
        yield load_file(str(Path(acts_dir) / name))["acts"].float()


def load_acts(acts_dir: Path) -> Any:
    """All cached activations as one float32 tensor [n_tokens, d_model]."""
    import torch

    info = read_info(acts_dir)
    parts = list(iter_acts(acts_dir))
    return torch.cat(parts) if parts else torch.zeros(0, info["d_model"])


def read_tokens(acts_dir: Path) -> Any:
    """tokens.parquet as a polars DataFrame (row i describes activation row i)."""
    import polars as pl

    return pl.read_parquet(Path(acts_dir) / TOKENS_FILE)


def read_docs(acts_dir: Path) -> Any:
    import polars as pl

    return pl.read_parquet(Path(acts_dir) / DOCS_FILE)


# --------------------------------------------------------------------------- the stage


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.model import INFO_FILE as MODEL_INFO
    from stages.model import load_model, load_tokenizer, pick_device
    from stages.sampling import default_batch_size

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
        "adapter": str(adapter) if adapter else None, "device": device,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(writer.n / max(seconds, 1e-9), 1)})
    if info["n_tokens"] == 0:
        raise StageError(f"acts: the {source} source produced no tokens to capture")
    log(stage, f"{info['n_tokens']} tokens of {len(docs)} docs at layer {layer} "
               f"(mean norm {info['mean_norm']:.2f}) in {seconds:.1f}s")


if __name__ == "__main__":
    raise SystemExit(run_stage("acts", run))
