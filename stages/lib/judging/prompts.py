"""Judge prompts: filling a template with (question, answer), and reading them back out."""

from __future__ import annotations

import re

from stages.lib.judging.template import template_parts


def fill_prompt(template: str, question: str, answer: str) -> str:
    """The template with {question} and {answer} filled in (``str.format`` restricted to those
    two plain fields, so braces in the values stay as they are); ValueError for any other
    field (:mod:`stages.lib.judging.template`)."""
    values = {"question": question, "answer": answer}
    return "".join(literal + (values[name] if name is not None else "")
                   for literal, name in template_parts(template))


_MARKERS = re.compile(r"\[QUESTION START\]\s*\n(?P<q>.*?)\n\s*\[QUESTION END\].*?"
                      r"\[ANSWER START\]\s*\n(?P<a>.*)\n\s*\[ANSWER END\]", re.DOTALL)


def _template_pattern(template: str) -> re.Pattern:
    parts = re.split(r"(\{question\}|\{answer\})", template)
    body = "".join({"{question}": "(?P<q>.*?)", "{answer}": "(?P<a>.*)"}.get(p, re.escape(p))
                   for p in parts)
    return re.compile(body, re.DOTALL)


def split_prompt(prompt: str) -> tuple[str, str] | None:
    """(question, answer) of a filled judge prompt: the builtin templates or Betley et al.'s
    ``[QUESTION START]`` markers. The judge stage hands judges filled prompts only."""
    from emdsl.builtin.judge_prompts import ALIGNED, COHERENT

    for pattern in (_template_pattern(ALIGNED), _template_pattern(COHERENT), _MARKERS):
        m = pattern.fullmatch(prompt) if pattern is not _MARKERS else pattern.search(prompt)
        if m:
            return m.group("q"), m.group("a")
    return None
