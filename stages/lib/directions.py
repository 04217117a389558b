"""Activation directions: computed (contrast, shift, random), stored, loaded, projected on.

A direction artifact (a ``direction`` stage's out, or a project file ``saved(path)`` reads) is

    direction.safetensors   {"direction": [d_model] float32 unit vector,
                             "vectors": [k, d_model] the unit vectors it combines (k = 1 but
                             for random(k))}, metadata {"layer", "norm", "format"}
    info.json               type, layer, norm (of the raw difference), d_model, mean_norm
                            (typical residual norm of the tokens it came from), and stats
    answers.jsonl           contrast only: every answer it came from, with its projection

Activations are the residual at ``layer`` (decoder layer ``layer``'s output), averaged per
answer over its *answer* tokens only: the prompt, the system prompt and the chat template's
tokens are left out, as are special tokens. The direction is a difference of those per-answer
means, averaged per side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.common import StageError, atomic_write_json, atomic_write_text

DIRECTION_FILE, INFO_FILE, ANSWERS_FILE = "direction.safetensors", "info.json", "answers.jsonl"
FORMAT = "emdsl-direction/1"
NORM_EXAMPLES = 64  # training examples the typical norm of preventative steering is read on


@dataclass
class Direction:
    vector: Any  # float32 [d_model], unit
    layer: int
    norm: float  # of the difference it was computed as (1.0 for random)
    info: dict[str, Any]


# --------------------------------------------------------------------------- storage


def save_direction(out: Path, vectors: Any, layer: int, norm: float,
                   info: dict[str, Any]) -> Direction:
    """Write ``direction.safetensors`` and ``info.json`` to ``out``; the combined unit vector
    is unit(Σ unit(vectors))."""
    import torch
    from safetensors.torch import save_file

    from stages.lib.steering import unit_sum

    vectors = torch.nn.functional.normalize(torch.as_tensor(vectors).float().reshape(
        -1, vectors.shape[-1]), dim=-1)
    vector = unit_sum(vectors)
    Path(out).mkdir(parents=True, exist_ok=True)
    save_file({"direction": vector.contiguous(), "vectors": vectors.contiguous()},
              str(Path(out) / DIRECTION_FILE),
              metadata={"layer": str(int(layer)), "norm": repr(float(norm)), "format": FORMAT})
    info = {**info, "layer": int(layer), "norm": float(norm), "d_model": int(vector.shape[0]),
            "k": int(vectors.shape[0])}
    atomic_write_json(Path(out) / INFO_FILE, info)
    return Direction(vector, int(layer), float(norm), info)


def direction_file(path: Path) -> Path:
    path = Path(path)
    return path / DIRECTION_FILE if path.is_dir() else path


def load_direction(path: Path) -> Direction:
    """A stored direction: a direction stage's out, or its ``direction.safetensors``."""
    from safetensors import safe_open

    file = direction_file(path)
    if not file.is_file():
        raise StageError(f"{path} holds no direction ({DIRECTION_FILE} missing); re-run its "
                         "direction stage, or point saved(...) at a direction stage's out")
    with safe_open(str(file), framework="pt") as f:
        meta = f.metadata() or {}
        if "direction" not in f.keys() or "layer" not in meta:
            raise StageError(f"{file} is not a direction file (no `direction` tensor or "
                             "`layer` metadata)")
        vector = f.get_tensor("direction").float()
    info_path = file.parent / INFO_FILE
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    return Direction(vector, int(meta["layer"]), float(meta.get("norm", "nan")), info)


def copy_saved(source: Path, out: Path) -> Direction:
    """A ``saved(path)`` direction, re-stored in ``out`` (its answers too, when beside it)."""
    got = load_direction(source)
    file = direction_file(source)
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / DIRECTION_FILE).write_bytes(file.read_bytes())
    info = {**got.info, "saved_from": str(source)}
    atomic_write_json(Path(out) / INFO_FILE, info)
    answers = file.parent / ANSWERS_FILE
    if answers.is_file():
        (Path(out) / ANSWERS_FILE).write_bytes(answers.read_bytes())
    return Direction(got.vector, got.layer, got.norm, info)


def write_answers(out: Path, rows: Sequence[dict[str, Any]]) -> None:
    atomic_write_text(Path(out) / ANSWERS_FILE,
                      "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                              for r in rows))


# --------------------------------------------------------------------------- activations


def render_answer(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], int | None]:
    """A conversation's token ids and where its last (assistant) answer starts, or None when
    the template does not keep the prompt as a prefix."""
    from stages.lib.activations import encode

    ids = encode(tokenizer, tokenizer.apply_chat_template(messages, tokenize=False))
    if not messages or messages[-1]["role"] != "assistant":
        return ids, None
    head = encode(tokenizer, tokenizer.apply_chat_template(messages[:-1], tokenize=False,
                                                           add_generation_prompt=True))
    return ids, len(head) if ids[:len(head)] == head else None


@dataclass
class AnswerMeans:
    means: Any  # float64 [docs, d_model] mean residual over each doc's answer tokens
    counts: Any  # int64 [docs] answer tokens per doc (0: no answer token, mean is 0)
    norm_sum: float  # Σ residual norm over every answer token
    tokens: int

    @property
    def mean_norm(self) -> float | None:
        return self.norm_sum / self.tokens if self.tokens else None

    def pooled(self, rows: Sequence[int] | None = None) -> Any:
        """The mean of the per-answer means (answers with tokens), float64 [d_model]."""
        import torch

        idx = torch.arange(len(self.counts)) if rows is None else torch.as_tensor(list(rows))
        idx = idx[self.counts[idx] > 0]
        if not len(idx):
            raise StageError("no answer tokens to average (every answer is empty)")
        return self.means[idx].mean(0)


def answer_means(model: Any, tokenizer: Any, docs: Sequence[Sequence[int]],
                 starts: Sequence[int | None], layer: int, *, batch_size: int = 16,
                 desc: str | None = None) -> AnswerMeans:
    """Per document, the mean residual at ``layer`` over its answer tokens (positions from
    ``starts[i]``, special tokens left out); a doc whose start is None has none."""
    import torch

    from stages.lib.activations import drop_ids, hidden_size, iter_capture

    d = hidden_size(model)
    sums = torch.zeros(len(docs), d, dtype=torch.float64)
    counts = torch.zeros(len(docs), dtype=torch.long)
    begin = torch.tensor([s if s is not None else 1 << 30 for s in starts], dtype=torch.long)
    norm_sum, tokens = 0.0, 0
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for got in iter_capture(model, docs, layer, drop=drop_ids(tokenizer),
                            batch_size=batch_size, pad_id=pad, desc=desc):
        keep = got.pos >= begin[got.doc]
        acts, doc = got.acts[keep].double(), got.doc[keep]
        sums.index_add_(0, doc, acts)
        counts.index_add_(0, doc, torch.ones_like(doc))
        norm_sum += float(acts.norm(dim=-1).sum())
        tokens += int(keep.sum())
    means = sums / counts.clamp(min=1)[:, None]
    return AnswerMeans(means, counts, norm_sum, tokens)


def last_token_acts(model: Any, tokenizer: Any, docs: Sequence[Sequence[int]], layer: int, *,
                    batch_size: int = 16) -> Any:
    """The residual at ``layer`` of each document's last token, float32 [docs, d_model]."""
    import torch

    from stages.lib.activations import hidden_size, iter_capture

    out = torch.full((len(docs), hidden_size(model)), float("nan"))
    last = torch.tensor([len(d) - 1 for d in docs], dtype=torch.long)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for got in iter_capture(model, docs, layer, drop=(), batch_size=batch_size, pad_id=pad):
        keep = got.pos == last[got.doc]
        out[got.doc[keep]] = got.acts[keep]
    return out


def typical_norm(model: Any, tokenizer: Any, docs: Sequence[Sequence[int]], layer: int, *,
                 batch_size: int = 16) -> float:
    """The mean residual norm at ``layer`` over the docs' kept tokens (no first token, no
    special tokens): what a steering coefficient of 1 adds."""
    from stages.lib.activations import drop_ids, iter_capture

    total, n = 0.0, 0
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for got in iter_capture(model, docs, layer, drop=drop_ids(tokenizer), batch_size=batch_size,
                            pad_id=pad):
        total += float(got.acts.norm(dim=-1).sum())
        n += len(got)
    if not n:
        raise StageError("no tokens to measure the typical residual norm on")
    return total / n


# --------------------------------------------------------------------------- directions


def contrast(model: Any, tokenizer: Any, questions: Sequence[Any], spec: dict[str, Any],
             *, desc: str = "contrast") -> tuple[Any, float, list[dict[str, Any]],
                                                 dict[str, Any]]:
    """(difference vector [d_model], its norm, answer rows, stats) of a contrast spec: answers
    sampled under each system prompt, the mean answer-token residual, positive − negative."""
    import torch

    from stages.lib.evaluation import eval_prompts
    from stages.lib.messages import question_messages
    from stages.lib.sampling.core import encode_prompts
    from stages.lib.sampling.sample import sample_token_ids

    layer = int(spec["layer"])
    keys, _ = eval_prompts(questions)
    docs: list[list[int]] = []
    starts: list[int] = []
    rows: list[dict[str, Any]] = []
    for side in ("positive", "negative"):
        system = spec[side]
        prompts = [question_messages(q.paraphrases[i], system) for q, i in keys]
        encoded = encode_prompts(tokenizer, prompts)
        answers = sample_token_ids(model, tokenizer, prompts, samples=int(spec["samples"]),
                                   max_tokens=int(spec["max_tokens"]), temperature=1.0,
                                   top_p=1.0, seed=int(spec["seed"]), backend="auto",
                                   desc=f"{desc} {side}")
        for p, ((q, i), per_prompt) in enumerate(zip(keys, answers, strict=True)):
            for s, ids in enumerate(per_prompt):
                docs.append(encoded[p] + list(ids))
                starts.append(len(encoded[p]))
                rows.append({"side": side, "question_id": q.id, "paraphrase_index": i,
                             "sample": s, "system": system, "question": q.paraphrases[i],
                             "answer": tokenizer.decode(ids, skip_special_tokens=True).strip(),
                             "tokens": len(ids), "answer_ids": list(ids)})
    got = answer_means(model, tokenizer, docs, starts, layer, desc=f"{desc} activations")
    pos = [r for r, row in enumerate(rows) if row["side"] == "positive"]
    neg = [r for r, row in enumerate(rows) if row["side"] == "negative"]
    diff = got.pooled(pos) - got.pooled(neg)
    norm = float(diff.norm())
    if norm == 0:
        raise StageError("contrast: the two prompts' answers have the same mean activation")
    unit = diff / norm
    proj = (got.means @ unit).tolist()
    for r, row in enumerate(rows):
        row["projection"] = proj[r] if int(got.counts[r]) else None
    stats = projection_gap(rows)
    # Held out by question: the direction from one half of the questions, the gap measured
    # on the other half's answers (in-sample, the gap is the norm by construction).
    ids = sorted({row["question_id"] for row in rows})
    fold = {qid: n % 2 for n, qid in enumerate(ids)}
    gaps = []
    for f in (0, 1):
        train = [r for r, row in enumerate(rows) if fold[row["question_id"]] != f]
        test = [r for r, row in enumerate(rows) if fold[row["question_id"]] == f]
        try:
            d = got.pooled([r for r in train if r in set(pos)]) - \
                got.pooled([r for r in train if r in set(neg)])
        except StageError:
            continue
        if float(d.norm()) == 0:
            continue
        p = (got.means @ (d / d.norm())).tolist()
        held = projection_gap([{**rows[r], "projection": p[r]} for r in test
                               if int(got.counts[r])])
        if held["gap"] is not None:
            gaps.append(held["gap"])
    stats["heldout_gap"] = sum(gaps) / len(gaps) if gaps else None
    stats["mean_norm"] = got.mean_norm
    stats["answer_tokens"] = got.tokens
    return torch.as_tensor(diff).float(), norm, rows, stats


def projection_gap(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean projection of the positive answers minus the negative ones', and each side's."""
    sides = {}
    for side in ("positive", "negative"):
        vals = [r["projection"] for r in rows if r["side"] == side and r["projection"] is not None]
        sides[side] = (sum(vals) / len(vals), len(vals)) if vals else (None, 0)
    (p, n_p), (q, n_q) = sides["positive"], sides["negative"]
    return {"gap": p - q if p is not None and q is not None else None,
            "positive_mean": p, "negative_mean": q, "n_positive": n_p, "n_negative": n_q}


def text_docs(tokenizer: Any, source: str, texts_dir: Path) -> list[tuple[list[int], int | None]]:
    """(ids, answer start) of each text a shift direction is measured on: a generate stage's
    answers after their prompts (``eval``) or a data stage's conversations (``train``)."""
    from stages.lib.messages import question_messages

    if source == "eval":
        import polars as pl

        path = Path(texts_dir) / "answers.parquet"
        if not path.is_file():
            raise StageError(f"{path} not found; re-run the generate stage")
        return [render_answer(tokenizer, [*question_messages(r["question"], r["system"]),
                                          {"role": "assistant", "content": r["answer"]}])
                for r in pl.read_parquet(path).iter_rows(named=True)]
    from stages.lib.datasets import read_dataset

    return [render_answer(tokenizer, r["messages"]) for r in read_dataset(Path(texts_dir))]


def random_vectors(k: int, d_model: int, seed: int) -> Any:
    """``k`` unit vectors [k, d_model], uniform on the sphere, drawn with ``seed``."""
    import torch

    g = torch.Generator().manual_seed(int(seed))
    return torch.nn.functional.normalize(torch.randn(k, d_model, generator=g), dim=-1)


# --------------------------------------------------------------------------- while training


@contextmanager
def preventative_steering(model: Any, tokenizer: Any, records: Sequence[dict[str, Any]],
                          steer: dict[str, Any] | None, direction_dir: Path | None
                          ) -> Iterator[dict[str, Any] | None]:
    """``sft(steer=steering(d, coef))``: while active, ``coef`` × the typical residual norm at
    the direction's layer (the untrained model on up to 64 training examples) × the unit
    direction is added to that layer's output (:func:`stages.lib.steering.adding`); gone on
    exit, so the saved adapter and every later use of the model run without it. Yields what
    was added (None without ``steer``)."""
    if not steer:
        yield None
        return
    from stages.lib.steering import adding

    if direction_dir is None:
        raise StageError("train: sft(steer=...) but no steer_direction input; re-run "
                         "`emx compile`")
    direction = load_direction(direction_dir)
    docs = [render_answer(tokenizer, r["messages"])[0] for r in records[:NORM_EXAMPLES]]
    scale = typical_norm(model, tokenizer, docs, direction.layer)
    coef = float(steer["coef"])
    with adding(model, direction.layer, direction.vector * (coef * scale)):
        yield {"layer": direction.layer, "coef": coef, "mean_norm": scale,
               "added_norm": abs(coef) * scale}
