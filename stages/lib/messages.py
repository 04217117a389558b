"""The chat one eval question is asked with (generate, steer, realign; the acts stage's eval
source renders the same chat before each answer). Its own module: every sampler of an eval
depends on it, and on nothing else of the chat dataset code."""

from __future__ import annotations

from collections.abc import Sequence

Turns = Sequence[dict[str, str]]  # prior user/assistant turns (an eval's ``shots``)


def question_messages(question: str, system: str | None,
                      shots: Turns = ()) -> list[dict[str, str]]:
    """The messages sent for one paraphrase: the system prompt (if any) as a system message,
    then the eval's shots (prior user/assistant turns, if any), then the question."""
    messages = [{"role": "system", "content": system}] if system else []
    return [*messages, *({"role": t["role"], "content": t["content"]} for t in shots),
            {"role": "user", "content": question}]


def shot_turns(records: Sequence[dict]) -> list[dict[str, str]]:
    """The user/assistant turns of chat records (a data stage's ``train.jsonl``), in order:
    their system messages are left out, the eval's own system prompt stands."""
    return [{"role": m["role"], "content": m["content"]} for r in records
            for m in r["messages"] if m["role"] in ("user", "assistant")]
