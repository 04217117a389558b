"""Names of the builtin datasets, question sets and judge sets, importable without any data.

The one list of these names: the checker needs only them (for did-you-mean hints); each names
one data file under ``data/`` (``datasets/<domain>.yaml``, ``questions/<name>.yaml``,
``judge/<name>.yaml``), read by ``emdsl.builtin.datasets``, ``questions`` and ``judge_data``.
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
