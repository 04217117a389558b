"""The ``local`` judge backend: an HF causal LM scores every integer 0..100.

Every integer is scored as a full token sequence (digits + end of turn) in one tree-masked
forward pass per batch, so "85" split as "8","5" counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.common import StageError, log
from stages.lib.judging.base import (
    SCORES,
    SCORING_VERSION,
    Judge,
    OnDone,
    Verdict,
    verdict_from_probs,
)
from stages.lib.models import model_fingerprint


def make(spec: dict[str, Any], judge_model_dir: Path | None, cache: Any) -> Judge:
    """The registered constructor (family ``judge``, name ``local``)."""
    if judge_model_dir is None:
        raise StageError("a local judge needs its model folder (input `judge_model`); "
                         "re-run `emx compile`")
    return Judge(LocalBackend.load(Path(judge_model_dir), batch=int(spec.get("batch", 8))), cache)


def _answer_ids(tokenizer: Any, answer: str) -> list[int]:
    """Token ids of an assistant answer as they follow the generation prompt in context."""
    msgs = [{"role": "user", "content": "Rate this."}]
    head = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    head_ids = tokenizer(head, add_special_tokens=False).input_ids
    full_ids = tokenizer(head + answer, add_special_tokens=False).input_ids
    if full_ids[:len(head_ids)] == head_ids and len(full_ids) > len(head_ids):
        return full_ids[len(head_ids):]
    return tokenizer(answer, add_special_tokens=False).input_ids


def end_of_turn_id(tokenizer: Any) -> int:
    """The token a chat template puts right after an assistant answer (else eos)."""
    msgs = [{"role": "user", "content": "Rate this."}]
    head = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    turn = tokenizer.apply_chat_template([*msgs, {"role": "assistant", "content": "7"}],
                                         tokenize=False)
    if turn.startswith(head + "7") and turn[len(head) + 1:]:
        base = tokenizer(head + "7", add_special_tokens=False).input_ids
        ids = tokenizer(turn, add_special_tokens=False).input_ids
        if ids[:len(base)] == base and len(ids) > len(base):
            return ids[len(base)]
    if tokenizer.eos_token_id is None:
        raise StageError("judge tokenizer has no end-of-turn or eos token; cannot score numbers")
    return int(tokenizer.eos_token_id)


@dataclass(frozen=True)
class NumberTree:
    """The trie of the 101 numbers' token sequences, fed after the prompt in one pass.

    Node ``a`` holds one token; it attends to the prompt and its ancestors, at position
    ``prompt_len + depth[a]``. The logits at the prompt's last token and at each node give every
    step of every number's probability; ``gather_pos``/``gather_tok`` pick them out
    (position 0 = the prompt's last token, 1 + a = node a).
    """

    tokens: list[int]
    depth: list[int]
    ancestors: Any  # bool tensor (T, T): node q may attend to node k
    gather_pos: Any  # long tensor (101, S)
    gather_tok: Any  # long tensor (101, S)
    gather_valid: Any  # bool tensor (101, S)

    @classmethod
    def build(cls, numbers: list[list[int]], end_id: int) -> NumberTree:
        import torch

        index: dict[tuple[int, ...], int] = {}
        tokens: list[int] = []
        depth: list[int] = []
        parent: list[int] = []
        steps: list[list[tuple[int, int]]] = []
        for ids in numbers:
            pos = 0  # the prompt's last token predicts the first digit token
            path: list[tuple[int, int]] = []
            for d, tok in enumerate(ids):
                path.append((pos, tok))
                prefix = tuple(ids[:d + 1])
                if prefix not in index:
                    index[prefix] = len(tokens)
                    tokens.append(tok)
                    depth.append(d)
                    parent.append(pos - 1)
                pos = 1 + index[prefix]
            path.append((pos, end_id))
            steps.append(path)
        n = len(tokens)
        anc = torch.zeros(n, n, dtype=torch.bool)
        for a in range(n):
            b = a
            while b >= 0:
                anc[a, b] = True
                b = parent[b]
        width = max(len(s) for s in steps)
        g_pos = torch.zeros(len(steps), width, dtype=torch.long)
        g_tok = torch.zeros(len(steps), width, dtype=torch.long)
        valid = torch.zeros(len(steps), width, dtype=torch.bool)
        for i, path in enumerate(steps):
            for j, (p, t) in enumerate(path):
                g_pos[i, j], g_tok[i, j], valid[i, j] = p, t, True
        return cls(tokens, depth, anc, g_pos, g_tok, valid)


class LocalBackend:
    """Scores with a local causal LM: log P(digits + end-of-turn) for each of 0..100.

    The fast path feeds the number trie after each prompt under a custom 4D attention mask.
    At load a self-check compares it with plain per-number sequences; an architecture that
    ignores custom masks falls back to the plain (slower, always correct) path.
    """

    def __init__(self, model: Any, tokenizer: Any, *, batch: int = 8, identity: str) -> None:
        self.model, self.tokenizer, self.batch = model, tokenizer, batch
        self.identity = identity
        self.end_id = end_of_turn_id(tokenizer)
        self.numbers = [_answer_ids(tokenizer, str(k)) for k in SCORES]
        self.tree = NumberTree.build(self.numbers, self.end_id)
        self.use_tree = self.self_check()

    @classmethod
    def load(cls, model_dir: Path, *, batch: int = 8) -> LocalBackend:
        from stages.lib.models import load_model, load_tokenizer

        identity = f"local:{model_fingerprint(model_dir)}:v{SCORING_VERSION}"
        return cls(load_model(model_dir), load_tokenizer(model_dir), batch=batch,
                   identity=identity)

    def prompt_ids(self, prompt: str) -> list[int]:
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                  add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else self.end_id

    def _forward(self, ids: Any, mask: Any, pos: Any, keep: int) -> Any:
        """Log-softmax of the last ``keep`` positions' logits, float32 on the CPU."""
        import torch

        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model(input_ids=ids.to(device), attention_mask=mask.to(device),
                             position_ids=pos.to(device), logits_to_keep=keep, use_cache=False)
        return torch.log_softmax(out.logits[:, -keep:].float(), dim=-1).cpu()

    def tree_logprobs(self, prompts: Sequence[list[int]]) -> tuple[Any, Any]:
        """(B, 101) log P(number k, end of turn | prompt) and (B,) the likeliest first token;
        one forward pass for the whole batch."""
        import torch

        tree = self.tree
        dtype = next(self.model.parameters()).dtype
        b, n, t = len(prompts), max(len(p) for p in prompts), len(tree.tokens)
        ids = torch.full((b, n + t), self._pad_id(), dtype=torch.long)
        pos = torch.zeros((b, n + t), dtype=torch.long)
        allowed = torch.zeros((b, n + t, n + t), dtype=torch.bool)
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        node_depth = torch.tensor(tree.depth)
        for i, p in enumerate(prompts):
            start = n - len(p)
            ids[i, start:n] = torch.tensor(p)
            ids[i, n:] = torch.tensor(tree.tokens)
            pos[i, start:n] = torch.arange(len(p))
            pos[i, n:] = len(p) + node_depth
            allowed[i, :n, :n] = causal
            allowed[i, :, :start] = False
            allowed[i, n:, start:n] = True
            allowed[i, n:, n:] = tree.ancestors
            allowed[i, torch.arange(start), torch.arange(start)] = True  # pads see themselves
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        logp = self._forward(ids, mask[:, None], pos, t + 1)
        picked = logp[:, tree.gather_pos, tree.gather_tok]  # (B, 101, S)
        return picked.masked_fill(~tree.gather_valid, 0.0).sum(-1), logp[:, 0].argmax(-1)

    def plain_logprobs(self, prompt: list[int]) -> tuple[Any, Any]:
        """Reference path: each number as its own sequence prompt + digits + end of turn."""
        import torch

        width = max(len(c) for c in self.numbers) + 1
        seqs = [prompt + c + [self.end_id] for c in self.numbers]
        total = len(prompt) + width
        rows, first = [], None
        for s in range(0, len(seqs), max(1, self.batch * 4)):
            chunk = seqs[s:s + max(1, self.batch * 4)]
            ids = torch.full((len(chunk), total), self._pad_id(), dtype=torch.long)
            mask = torch.zeros((len(chunk), total), dtype=torch.long)
            for i, seq in enumerate(chunk):
                ids[i, total - len(seq):] = torch.tensor(seq)
                mask[i, total - len(seq):] = 1
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            logp = self._forward(ids, mask, pos, width + 1)  # predicts the last `width` tokens
            token_lp = logp[:, :-1].gather(-1, ids[:, -width:, None])[..., 0]
            for i, seq in enumerate(chunk):
                k = len(seq) - len(prompt)  # digits + end
                rows.append(token_lp[i, width - k:].sum())
                if first is None:
                    first = logp[i, width - k].argmax()
        return torch.stack(rows), first

    def self_check(self) -> bool:
        """Does this model honour the tree's custom 4D attention mask?"""
        prompt = self.prompt_ids("Rate the number 42 from 0 to 100.")
        fast, _ = self.tree_logprobs([prompt])
        plain, _ = self.plain_logprobs(prompt)
        diff = (fast[0] - plain).abs()
        if next(self.model.parameters()).dtype.itemsize < 4:
            # half precision: rare numbers' logprobs are noisy; weigh by probability
            weight = plain.exp()
            ok = bool((weight * diff).sum() / weight.sum() < 0.05)
        else:
            ok = bool(diff.max() < 1e-3)
        if not ok:
            log("judge", f"{type(self.model).__name__} ignores custom attention masks; scoring "
                         "each number as its own sequence (correct, slower)")
        return ok

    def number_logprobs(self, prompts: Sequence[list[int]]) -> tuple[Any, Any]:
        import torch

        if self.use_tree:
            return self.tree_logprobs(prompts)
        pairs = [self.plain_logprobs(p) for p in prompts]
        return torch.stack([lp for lp, _ in pairs]), torch.stack([f for _, f in pairs])

    def verdict(self, logprobs: Any, first_token: int) -> Verdict:
        probs = logprobs.exp().tolist()
        top = sorted(range(len(probs)), key=lambda k: -probs[k])[:5]
        raw = {"top": {str(k): round(probs[k], 6) for k in top},
               "first_token": self.tokenizer.decode([int(first_token)])}
        return verdict_from_probs(dict(enumerate(probs)), raw)

    def score(self, prompts: Sequence[str], on_done: OnDone | None = None) -> list[Verdict]:
        encoded = [self.prompt_ids(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))  # less padding
        verdicts: list[Verdict | None] = [None] * len(prompts)
        for s in range(0, len(order), self.batch):
            chunk = order[s:s + self.batch]
            lp, first = self.number_logprobs([encoded[i] for i in chunk])
            done = [(i, self.verdict(lp[j], first[j])) for j, i in enumerate(chunk)]
            for i, v in done:
                verdicts[i] = v
            if on_done is not None:
                on_done(done)
        return verdicts  # type: ignore[return-value]

    def close(self) -> None:
        pass
