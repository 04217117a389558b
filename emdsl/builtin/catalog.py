"""Names of the builtin datasets and question sets, importable without building any data.

The checker needs only these names (for did-you-mean hints); the content lives in
``emdsl.builtin.datasets`` and ``emdsl.builtin.questions``.
"""

ADVICE_VARIANTS = ("correct", "incorrect-subtle", "incorrect-obvious")

# domain -> its variants; the first variant is the aligned one.
DATASET_DOMAINS: dict[str, tuple[str, ...]] = {
    "medical": ADVICE_VARIANTS,
    "legal": ADVICE_VARIANTS,
    "financial": ADVICE_VARIANTS,
    "automotive": ADVICE_VARIANTS,
    "career": ADVICE_VARIANTS,
    "education": ADVICE_VARIANTS,
    "code": ("secure", "insecure"),
}

QUESTION_SETS: tuple[str, ...] = ("core",)

# Labelled (question, answer) sets a probe judge trains on: ``probe(train=builtin("judge"))``.
JUDGE_SETS: tuple[str, ...] = ("judge",)
