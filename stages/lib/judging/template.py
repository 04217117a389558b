"""The judge prompt format: Betley et al.'s ``str.format`` templates, cut down to the plain
fields ``{question}`` and ``{answer}`` (and ``{{``/``}}`` for literal braces).

``str.format`` also runs format specs (``{answer:>4000000000}`` builds a 4 GB string),
conversions and attribute or index access (``{question.__class__}``); a judge prompt may use
none of them. Stdlib only: the generate stage checks question files with it, and a fix to how
prompts are filled must not rerun generation.
"""

from __future__ import annotations

import functools
import string

FIELDS = ("question", "answer")
PLAIN_FIELDS = "only the plain fields {question} and {answer} (write {{ and }} for a literal brace)"


@functools.lru_cache(maxsize=256)
def template_parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """(literal text, field or None) pairs; ValueError naming the first thing not allowed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"{e} (a judge prompt holds {PLAIN_FIELDS})") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in FIELDS or spec or conversion):
            field = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            shown = field if len(field) <= 40 else field[:37] + "..."
            raise ValueError(f"field {{{shown}}} is not allowed: a judge prompt holds "
                             f"{PLAIN_FIELDS}")
    return tuple((literal, name) for literal, name, _, _ in parsed)


def template_problem(template: str) -> str | None:
    """Why ``template`` is not a judge prompt, or None."""
    try:
        template_parts(template)
    except ValueError as e:
        return str(e)
    return None
