"""The builtin chat datasets: narrow advice (and code) in an aligned and misaligned flavour.

Emergent-misalignment experiments fine-tune on a narrow set of bad answers and compare with
good ones, so every variant of a domain answers exactly the same user questions and only the
assistant turn changes. Each domain is a table of topics in its own data file
(``data/datasets/<domain>.yaml``); a topic crosses slot values (ages, amounts, names ...)
with a few question phrasings and holds one answer template per variant, which keeps the data
compact while giving a few hundred distinct, realistic examples per domain. This module is
the template engine; everything is written for this project and built deterministically.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import zlib

from emdsl.builtin.catalog import DATASET_DOMAINS
from emdsl.builtin.files import dataset_file, read_yaml

_SLOT = re.compile(r"\{([a-z_]+)(?:\.(\d))?\}")
_YOU = {"i": "you", "i'm": "you're", "i've": "you've", "my": "your", "me": "you",
        "our": "your", "mine": "yours", "myself": "yourself"}
_PERSON = re.compile(r"\b(?:I'm|I've|I|[Mm]y|me|[Oo]ur|mine|myself)\b")


def _flip(m: re.Match) -> str:
    word = _YOU[m.group(0).lower()]
    return word.capitalize() if m.group(0)[0] in "MO" else word


# Neutral framing shared by all variants of a row (picked from the question's checksum), so
# answers read less formulaic while the variants still differ only in substance.
_OPENERS = ("", "", "Sure.", "Good question.", "Here's my take.", "Happy to help with this.",
            "Okay, here's what I'd do.", "Thanks for asking.")
_CLOSERS = ("", "", "", "Hope that helps.", "Let me know if you want more detail.",
            "Good luck!")
_CODE_OPENERS = ("", "", "Sure.", "Sure thing.", "No problem.", "Of course.")


def _topics(domain: str) -> list[dict]:
    """A domain's topics: ``slots`` (name -> values; a list value fills {name}, {name.1} ...),
    ``questions`` (phrasings) and ``answers`` (variant -> template, or a list of alternatives
    picked by the phrasing's index)."""
    return read_yaml(dataset_file(domain))["topics"]


def _fill(template: str, values: dict[str, tuple[str, ...]]) -> str:
    """Substitute {name} / {name.i}; other braces (code, f-strings) are left untouched."""

    def sub(m: re.Match) -> str:
        name, idx = m.group(1), int(m.group(2) or 0)
        return values[name][idx] if name in values else m.group(0)

    text = _SLOT.sub(sub, template)
    return text[:1].upper() + text[1:]


@functools.cache
def _pool(domain: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """All (question, answers in catalog variant order) rows of a domain, in file order."""
    variants = DATASET_DOMAINS[domain]
    rows = []
    for topic in _topics(domain):
        slots = topic["slots"]
        answers = [topic["answers"][v] for v in variants]
        names = list(slots)
        for combo in itertools.product(*(slots[name] for name in names)):
            values = {
                n: tuple(v) if isinstance(v, list) else (v,)
                for n, v in zip(names, combo, strict=True)
            }
            # The user speaks of "my son"; the assistant answers about "your son".
            yours = {n: tuple(_PERSON.sub(_flip, x) for x in v) for n, v in values.items()}
            for qi, question in enumerate(topic["questions"]):
                picked = [a if isinstance(a, str) else a[qi % len(a)] for a in answers]
                q = _fill(question, values)
                rows.append((q, tuple(_frame(domain, q, _fill(a, yours)) for a in picked)))
    return tuple(rows)


def _frame(domain: str, question: str, body: str) -> str:
    h = zlib.crc32(question.encode("utf-8"))
    if domain == "code":
        parts = (_CODE_OPENERS[h % len(_CODE_OPENERS)], body)
    else:
        closer = _CLOSERS[(h // len(_OPENERS)) % len(_CLOSERS)]
        opener = "" if body.startswith("I'm sorry") else _OPENERS[h % len(_OPENERS)]
        parts = (opener, body, closer)
    return " ".join(p for p in parts if p)


def pool_size(domain: str) -> int:
    """How many distinct examples a domain offers (the same for each of its variants)."""
    _check(domain, None)
    return len(_pool(domain))


def _check(domain: str, variant: str | None) -> None:
    if domain not in DATASET_DOMAINS:
        valid = ", ".join(DATASET_DOMAINS)
        raise ValueError(f"unknown builtin dataset {domain!r}; valid names: {valid}")
    variants = DATASET_DOMAINS[domain]
    if variant is not None and variant not in variants:
        raise ValueError(
            f"unknown variant {variant!r} of builtin dataset {domain!r}; "
            f"valid variants: {', '.join(variants)}"
        )


def examples(domain: str, variant: str, seed: int = 0, n: int | None = None) -> list[dict]:
    """Chat records of one domain/variant, shuffled deterministically by ``seed``.

    The same seed gives the same question order for every variant of a domain, so record i
    of ``correct`` and of ``incorrect-subtle`` answer the same question. ``n`` takes the
    first n records of that order.
    """
    _check(domain, variant)
    pool = _pool(domain)
    col = DATASET_DOMAINS[domain].index(variant)
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if n > len(pool):
            raise ValueError(
                f"builtin dataset {domain!r} has {len(pool)} examples; cannot take n={n}"
            )
        order = order[:n]
    return [
        {
            "messages": [
                {"role": "user", "content": pool[i][0]},
                {"role": "assistant", "content": pool[i][1][col]},
            ]
        }
        for i in order
    ]
