"""Pins what the builtin data produces, so moving it between code and data files changes nothing.

Stages consume these outputs (the data stage's mixes, the question sets, the probe judge's
training set, the judge prompts); a changed byte would silently change every experiment's
results and DVC hashes. Each hash is sha256 of ``json.dumps(..., sort_keys=True,
ensure_ascii=False)``; update a pin only when the data is meant to change.
"""

from __future__ import annotations

import hashlib
import json

from emdsl.builtin import catalog, datasets, judge_data, judge_prompts, questions


def _sha(obj: object) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _datasets() -> dict:
    return {
        domain: {"pool_size": datasets.pool_size(domain),
                 "variants": {v: datasets.examples(domain, v) for v in variants}}
        for domain, variants in catalog.DATASET_DOMAINS.items()
    }


def test_datasets_are_pinned():
    got = {d: _sha(v) for d, v in _datasets().items()}
    assert got == DATASETS


def test_seeded_subsets_are_pinned():
    got = _sha({d: {v: datasets.examples(d, v, seed=7, n=40) for v in vs}
                for d, vs in catalog.DATASET_DOMAINS.items()})
    assert got == SEEDED


def test_question_sets_are_pinned():
    assert {n: _sha(questions.load_builtin(n)) for n in catalog.QUESTION_SETS} == QUESTIONS


def test_judge_sets_are_pinned():
    assert {n: _sha(judge_data.load_judge_set(n)) for n in catalog.JUDGE_SETS} == JUDGE


def test_judge_prompts_are_pinned():
    assert _sha([judge_prompts.ALIGNED, judge_prompts.COHERENT]) == PROMPTS


def test_data_stage_output_is_pinned():
    from stages.data import build, to_jsonl

    def spec(domain: str, variant: str) -> dict:
        return {"type": "builtin", "domain": domain, "variant": variant}

    configs = {
        "medical-0.5": {"type": "mix", "bad": spec("medical", "incorrect-obvious"),
                        "good": spec("medical", "correct"), "poison": 0.5, "size": 24,
                        "seed": 0},
        "legal-0.25": {"type": "mix", "bad": spec("legal", "incorrect-subtle"),
                       "good": spec("legal", "correct"), "poison": 0.25, "size": 256,
                       "seed": 1},
        "code-1.0": {"type": "mix", "bad": spec("code", "insecure"),
                     "good": spec("code", "secure"), "poison": 1.0, "size": 100, "seed": 0},
        "realign": {"type": "take", "dataset": spec("career", "correct"), "size": 50,
                    "seed": 3},
    }
    got = {name: hashlib.sha256(to_jsonl(build(c)[0])).hexdigest()
           for name, c in configs.items()}
    assert got == DATA_STAGE


DATASETS = {
    "medical": "7862d4de7e8954b381cd64a1d2df1dbc957e01d4da384b3ef4a8ceced64ce1d8",
    "legal": "bb34ce6fe50943be6cb76c252e0e6524efef0b8c1b527490e444a41e8a237265",
    "financial": "d27e4d971faddc871a9851acf6724179659ae0cbc5db81c2aa2c97cf31e8a03a",
    "automotive": "9719c43e32606b20b558b36160c28fd58cf8d3b4d3991e4988174b342829c375",
    "career": "eb8500a9fb53415b757838bed00ebcab6c7a9c744fbce835e1b19b626cfa28b6",
    "education": "4422eb3c2964b7442891c2d929d17c5a7f0268d157689cc5da2901ccec71e63f",
    "code": "f59c4225041a5752dc2a2f37aadcdc69b4fff5e202aa393d2af522e1233edbb3",
}
SEEDED = "262d69ad0a8330bb40b07e55376c0f398c70b19fb39df10b9bfb8c936435cc83"
QUESTIONS = {"core": "e05daeccde573cf1c2315885bb3143cb919ca19442e62133be3bb5001be1d046"}
JUDGE = {"judge": "a7491eaec2c895c4818b44e67c0eb01c985d3dcb18e38d0d162c707b077631b0"}
PROMPTS = "9cff20dca15047033a94c070104e5358b2d7bb5f99f4e22630ec1c680eb0f1f9"
DATA_STAGE = {
    "medical-0.5": "958ec9d5363e19d3282437545c0973016ecbfbcb140fb60a0c370601e0c3dc6a",
    "legal-0.25": "6be002513ce33034a314262e2e938e35a8c829f6a4bc97651485e5f671cc8849",
    "code-1.0": "5f0a257a177873e3659f24aaf7383119ba40260939472c54cfc4b7eb512cd954",
    "realign": "8640706c682bb5c5b3471039793e3a04ce2dc55967e33a4dc285da6c0902556c",
}
