"""Residual-stream activations: capture at one layer, and reading an acts stage's cache.

The residual at ``layer`` is the output of decoder layer ``layer`` (``hidden_states[layer + 1]``
in Hugging Face's numbering). The forward pass stops there: a forward hook on that layer stores
its output and raises :class:`_Stop`, so the later layers and the LM head never run. Kept
tokens: every real token except the first of each sequence and the tokenizer's special tokens.

Used by the acts stage (to write the cache), the sae and diff stages (to read it) and the
probe judge (to embed answers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.common import StageError, progress

TOKENS_FILE, DOCS_FILE, INFO_FILE = "tokens.parquet", "docs.parquet", "info.json"


class _Stop(Exception):
    """Raised by the capture hook after layer ``layer``: the rest of the forward is skipped."""


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


def check_layer(model: Any, layer: int) -> None:
    from stages.lib.models import model_layers

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

    from stages.lib.models import model_layers

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
            batch_size: int = 16, desc: str | None = None) -> Captured:
    """Residuals at ``layer`` of every kept token of ``texts`` (rendered strings or token ids),
    in (doc, pos) order: ``acts`` [n, d_model] float32 and each row's doc, pos and token.
    ``desc``: a progress bar's label (none without one)."""
    import torch

    docs = [encode(tokenizer, t) if isinstance(t, str) else list(t) for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    parts = list(iter_capture(model, docs, layer, drop=drop_ids(tokenizer),
                              batch_size=batch_size, pad_id=pad, desc=desc))
    got = Captured.cat(parts, hidden_size(model))
    order = torch.argsort(got.doc * (1 + max(map(len, docs), default=0)) + got.pos)
    return Captured(got.acts[order], got.doc[order], got.pos[order], got.token[order])


def hidden_size(model: Any) -> int:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") \
        else model.config
    return int(config.hidden_size)


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
