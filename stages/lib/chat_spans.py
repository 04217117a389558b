"""Which tokens of a cached conversation are what a user or the assistant wrote.

An acts cache keeps every real token except the first and the tokenizer's special tokens
(``<|im_start|>``...), so chat-template scaffolding between them stays: the role names,
their newlines, and whole system prompts (SmolLM2's template adds its own default system
prompt, "You are a helpful AI assistant named SmolLM...", to every conversation). Those
tokens are the same in every document; an SAE latent firing on them says nothing about what
the fine-tuning did to the model's answers, yet at small scale they fill a diff's top
snippets.

:func:`content_mask` finds the turns from the special tokens (the positions a cache
dropped, read from ``docs.parquet`` against ``tokens.parquet``): a turn is the run of
tokens between two special tokens; its header is the role name (up to the first newline,
ChatML; or a run of its own, Llama-3's ``<|start_header_id|>role<|end_header_id|>``), and
what follows is its content. Content of ``user`` and ``assistant`` turns counts; system
turns, headers and the whitespace between turns do not. A document in which no role header
is found (a template without special tokens, synthetic caches) counts whole.
"""

from __future__ import annotations

from typing import Any

ROLES = {"system", "developer", "user", "assistant", "tool", "ipython"}
COUNTED = {"user", "assistant"}


def content_positions(texts: list[str], special: set[int]) -> set[int] | None:
    """Positions of user/assistant content in one document (token texts ``texts``; special
    token positions ``special``), or None when no turn structure is found."""
    runs: list[list[int]] = []
    run: list[int] = []
    for p in range(len(texts)):
        if p in special:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(p)
    if run:
        runs.append(run)
    keep: set[int] = set()
    role: str | None = None
    found = False
    for run in runs:
        text = "".join(texts[p] for p in run)
        if not text.strip():
            continue  # whitespace between turns
        if text.strip().lower() in ROLES:  # a header alone: Llama-3's, or an empty turn
            role, found = text.strip().lower(), True
            continue
        head = next((i for i, p in enumerate(run) if "\n" in texts[p]), None)
        if head is not None:
            name = "".join(texts[p] for p in run[:head + 1]).strip().lower()
            if name in ROLES:  # ChatML: the role, a newline, then the content
                role, found = name, True
                run = run[head + 1:]
        if role in COUNTED:
            keep.update(run)
    return keep if found else None


def content_mask(tokens: Any, docs: Any) -> Any:
    """BoolTensor [rows of ``tokens``]: the row is user or assistant content (every row of a
    document without turn structure)."""
    import torch

    doc_col = tokens.get_column("doc").to_list()
    pos_col = tokens.get_column("pos").to_list()
    kept: dict[int, set[int]] = {}
    for d, p in zip(doc_col, pos_col, strict=True):
        kept.setdefault(d, set()).add(p)
    allowed: dict[int, set[int] | None] = {}
    for d, texts in zip(docs.get_column("doc").to_list(), docs.get_column("texts").to_list(),
                        strict=True):
        positions = kept.get(d, set())
        special = {p for p in range(1, len(texts)) if p not in positions}
        if 0 not in positions:
            special.add(0)
        allowed[d] = content_positions(list(texts), special) if special - {0} else None
    return torch.tensor([allowed.get(d) is None or p in allowed[d]  # type: ignore[operator]
                         for d, p in zip(doc_col, pos_col, strict=True)], dtype=torch.bool)
