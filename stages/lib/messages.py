"""The chat one eval question is asked with (generate, steer, realign; the acts stage's eval
source renders the same chat before each answer). Its own module: every sampler of an eval
depends on it, and on nothing else of the chat dataset code."""

from __future__ import annotations


def question_messages(question: str, system: str | None) -> list[dict[str, str]]:
    """The messages sent for one paraphrase: the system prompt (if any) as a system message."""
    messages = [{"role": "system", "content": system}] if system else []
    return [*messages, {"role": "user", "content": question}]
