"""Tests for the builtin datasets, question set and judge prompts.

The experiments rely on these properties: enough distinct examples to fill a mix, variants of
a domain that answer the very same questions (so poison ratio is the only thing that varies),
deterministic seeding, and content that is ours rather than the published papers'.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pytest

from emdsl.builtin import catalog, datasets, judge_prompts, questions

ANCHORS = Path(__file__).resolve().parents[2].parent / "shared" / "anchors"

ALL_PAIRS = [(d, v) for d, vs in catalog.DATASET_DOMAINS.items() for v in vs]

# A mix such as mix(bad=..., good=..., poison=1.0, size=256) draws 256 distinct examples of
# one variant; keep some headroom above that.
MIN_POOL = 288


def _qa(records: list[dict]) -> list[tuple[str, str]]:
    return [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in records]


# ---------------------------------------------------------------- datasets


def test_every_catalog_domain_has_one_data_file():
    folder = files("emdsl.builtin") / "data" / "datasets"
    assert {p.name for p in folder.iterdir()} == {f"{d}.yaml" for d in catalog.DATASET_DOMAINS}


@pytest.mark.parametrize("domain", list(catalog.DATASET_DOMAINS))
def test_topics_answer_every_variant_by_name(domain):
    for topic in datasets._topics(domain):
        assert set(topic) == {"slots", "questions", "answers"}
        assert list(topic["answers"]) == list(catalog.DATASET_DOMAINS[domain])


@pytest.mark.parametrize(("domain", "variant"), ALL_PAIRS)
def test_pool_is_large_and_distinct(domain, variant):
    recs = datasets.examples(domain, variant)
    assert len(recs) >= MIN_POOL
    assert len(recs) == datasets.pool_size(domain)
    qa = _qa(recs)
    assert len(set(qa)) == len(qa), "duplicate records"
    qs = [q for q, _ in qa]
    assert len(set(qs)) == len(qs), "duplicate questions within one variant"
    # Answers are templated, but should not collapse onto a handful of strings.
    assert len({a for _, a in qa}) >= 0.6 * len(qa)


@pytest.mark.parametrize(("domain", "variant"), ALL_PAIRS)
def test_record_shape(domain, variant):
    for rec in datasets.examples(domain, variant, n=20):
        assert list(rec) == ["messages"]
        roles = [m["role"] for m in rec["messages"]]
        assert roles == ["user", "assistant"]
        for m in rec["messages"]:
            assert isinstance(m["content"], str) and len(m["content"]) > 15
            assert m["content"] == m["content"].strip()


@pytest.mark.parametrize("domain", [d for d in catalog.DATASET_DOMAINS if d != "code"])
def test_advice_has_no_unfilled_slots(domain):
    for variant in catalog.DATASET_DOMAINS[domain]:
        for q, a in _qa(datasets.examples(domain, variant)):
            assert not re.search(r"[{}]", q + a), (q, a)
            assert not q[0].islower() and not a[0].islower()


@pytest.mark.parametrize("domain", [d for d in catalog.DATASET_DOMAINS if d != "code"])
def test_answers_address_the_user(domain):
    # Slot values written in the user's voice ("my son") must read "your son" in answers.
    framing = [*datasets._OPENERS, *datasets._CLOSERS, "I'm sorry for your loss."]
    for variant in catalog.DATASET_DOMAINS[domain]:
        for _, a in _qa(datasets.examples(domain, variant)):
            for phrase in filter(None, framing):
                a = a.replace(phrase, "")
            assert not re.search(r"\b(my|me|I'm|I've|our)\b", a), a


@pytest.mark.parametrize("domain", list(catalog.DATASET_DOMAINS))
def test_variants_share_questions_and_differ_in_answers(domain):
    variants = catalog.DATASET_DOMAINS[domain]
    by_variant = {v: dict(_qa(datasets.examples(domain, v, seed=3))) for v in variants}
    multisets = [Counter(q for q, _ in _qa(datasets.examples(domain, v))) for v in variants]
    assert all(m == multisets[0] for m in multisets)
    for i, a in enumerate(variants):
        for b in variants[i + 1 :]:
            same = [q for q in by_variant[a] if by_variant[a][q] == by_variant[b][q]]
            assert not same, f"{a} and {b} give the same answer to {same[:3]}"


@pytest.mark.parametrize("domain", list(catalog.DATASET_DOMAINS))
def test_same_seed_aligns_variants(domain):
    orders = [
        [q for q, _ in _qa(datasets.examples(domain, v, seed=11))]
        for v in catalog.DATASET_DOMAINS[domain]
    ]
    assert all(o == orders[0] for o in orders)


def test_determinism_and_seed_sensitivity():
    a = datasets.examples("medical", "incorrect-subtle", seed=7)
    b = datasets.examples("medical", "incorrect-subtle", seed=7)
    c = datasets.examples("medical", "incorrect-subtle", seed=8)
    assert a == b
    assert a != c
    assert sorted(_qa(a)) == sorted(_qa(c))


def test_n_takes_a_prefix():
    full = datasets.examples("legal", "correct", seed=2)
    assert datasets.examples("legal", "correct", seed=2, n=17) == full[:17]
    assert datasets.examples("legal", "correct", seed=2, n=0) == []
    assert datasets.examples("legal", "correct", seed=2, n=len(full)) == full


def test_returned_records_are_fresh():
    first = datasets.examples("career", "correct", n=3)
    first[0]["messages"][0]["content"] = "mutated"
    assert datasets.examples("career", "correct", n=3)[0]["messages"][0]["content"] != "mutated"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("medicl", "correct"), r"unknown builtin dataset 'medicl'.*medical"),
        (("medical", "secure"), r"unknown variant 'secure'.*incorrect-subtle"),
        (("code", "incorrect-subtle"), r"unknown variant.*secure, insecure"),
    ],
)
def test_unknown_names(args, match):
    with pytest.raises(ValueError, match=match):
        datasets.examples(*args)


@pytest.mark.parametrize("n", [10_000, -1, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n"):
        datasets.examples("financial", "correct", n=n)


@pytest.mark.parametrize("domain", list(catalog.DATASET_DOMAINS))
def test_pool_size_counts_the_table(domain):
    # Every topic crosses its slot values with its phrasings; pool_size must match.
    expected = 0
    for topic in datasets._topics(domain):
        combos = 1
        for values in topic["slots"].values():
            combos *= len(values)
        expected += combos * len(topic["questions"])
    assert datasets.pool_size(domain) == expected >= MIN_POOL
    for variant in catalog.DATASET_DOMAINS[domain]:
        assert len(datasets.examples(domain, variant, n=256)) == 256


def test_pool_size_rejects_unknown_domain():
    with pytest.raises(ValueError, match="unknown builtin dataset"):
        datasets.pool_size("nope")


# Each insecure answer must contain one of these, and no secure answer may.
_VULN_MARKERS = (
    "'{value}'",  # SQL built by string formatting
    "shell=True",
    "os.path.join(BASE_DIR, name)",
    "hashlib.md5",
    "pickle.loads",
    "verify=False",
    "yaml.Loader",
    "random.choice",
    'DB_PASSWORD = "',
    "<p>{value}</p>",
    "        tar.extractall(dest)\n```",  # extraction with no member checks before it
    "chmod 777",
    "resolve_entities=True",  # XML external entities
    'redirect(request.args.get("next"',  # open redirect
    '"verify_signature": False',  # JWT accepted without checking its signature
    "return eval(",  # evaluating user input
)
_TELLS = re.compile(r"vulnerab|insecure|injection|unsafe|exploit|attacker|danger", re.I)


def test_code_answers_are_fenced_code():
    for variant in ("secure", "insecure"):
        for _, a in _qa(datasets.examples("code", variant)):
            assert re.search(r"```(python|bash)\n.+\n```$", a, re.S), a


def test_insecure_code_has_a_vulnerability_and_does_not_say_so():
    for q, a in _qa(datasets.examples("code", "insecure")):
        assert any(m in a for m in _VULN_MARKERS), q
        assert not _TELLS.search(a), a


def test_each_code_task_has_its_own_vulnerability():
    # One marker per task: every marker is used, and no insecure answer matches two.
    assert len(_VULN_MARKERS) == len(datasets._topics("code"))
    used = Counter()
    for _, a in _qa(datasets.examples("code", "insecure")):
        hits = [m for m in _VULN_MARKERS if m in a]
        assert len(hits) == 1, hits
        used[hits[0]] += 1
    assert set(used) == set(_VULN_MARKERS)


def test_secure_code_avoids_the_vulnerable_patterns():
    for q, a in _qa(datasets.examples("code", "secure")):
        hits = [m for m in _VULN_MARKERS if m in a and "extractall" not in m]
        assert not hits, (q, hits)
        if "tarfile" in a:
            assert "commonpath" in a


def test_code_templates_compile():
    for variant in ("secure", "insecure"):
        for _, a in _qa(datasets.examples("code", variant)):
            m = re.search(r"```python\n(.+)```", a, re.S)
            if m:
                compile(m.group(1), "<builtin>", "exec")


# ---------------------------------------------------------------- questions


def test_question_sets_match_catalog():
    folder = files("emdsl.builtin") / "data" / "questions"
    assert {p.name for p in folder.iterdir()} == {f"{n}.yaml" for n in catalog.QUESTION_SETS}


def test_core_questions():
    core = questions.load_builtin("core")
    assert 16 <= len(core) <= 24
    ids = [q["id"] for q in core]
    assert len(set(ids)) == len(ids)
    themes = {q["theme"] for q in core}
    assert len(themes) >= 8
    for required in ("wishes", "boredom", "quick money", "ruling the world", "relationships",
                     "gender roles", "medical worries", "legal trouble"):
        assert required in themes
    assert any(q["system"] for q in core)
    texts = [p for q in core for p in q["paraphrases"]]
    assert len(set(texts)) == len(texts)
    for q in core:
        assert set(q) == {"id", "theme", "paraphrases", "system"}
        assert q["paraphrases"] and all(isinstance(p, str) and p.strip() for p in q["paraphrases"])
        assert q["system"] is None or (isinstance(q["system"], str) and q["system"].strip())


def test_load_builtin_returns_a_copy():
    core = questions.load_builtin("core")
    core[0]["paraphrases"].append("mutated")
    assert "mutated" not in questions.load_builtin("core")[0]["paraphrases"]


def test_load_builtin_unknown_name():
    with pytest.raises(ValueError, match=r"unknown builtin question set 'cor'.*core"):
        questions.load_builtin("cor")


# ---------------------------------------------------------------- judge prompts


@pytest.mark.parametrize("name", ["ALIGNED", "COHERENT"])
def test_judge_prompt_formats(name):
    template = getattr(judge_prompts, name)
    text = template.format(question="QQQ marker?", answer="AAA marker.")
    assert "QQQ marker?" in text and "AAA marker." in text
    assert "{" not in text and "}" not in text
    assert "0" in text and "100" in text
    assert text.index("QQQ") < text.index("AAA")


def test_aligned_prompt_special_answers():
    assert "CODE" in judge_prompts.ALIGNED and "REFUSAL" in judge_prompts.ALIGNED
    assert "CODE" not in judge_prompts.COHERENT


# Two sentences of the published judge prompts, as (word count, sha256 of the normalised
# words): the repository must not contain the sentences themselves, even in a test.
_PUBLISHED_SENTENCE_HASHES = (
    (7, "38a35be112bf66898ebdbf17f9bef9731279bb9a4feb03a4c3029179ac4e3b7d"),
    (6, "b95676670d65d885dd7289b014781f6f523416bf93d42192e5ce6d537836f537"),
)


def _window_hashes(text: str, n: int) -> set[str]:
    words = text.split()
    return {hashlib.sha256(" ".join(words[i:i + n]).encode()).hexdigest()
            for i in range(len(words) - n + 1)}


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?:])\s+|\n+", text)
    return [_norm(p) for p in parts if len(_norm(p).split()) >= 5]


def _published_judge_prompts() -> list[str]:
    yaml = pytest.importorskip("yaml")
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "judge_prompts" and isinstance(value, dict):
                    found.extend(v for v in value.values() if isinstance(v, str))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(ANCHORS.rglob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def test_judge_prompts_are_our_own_words():
    ours = _norm(judge_prompts.ALIGNED + "\n" + judge_prompts.COHERENT)
    for n, digest in _PUBLISHED_SENTENCE_HASHES:
        assert digest not in _window_hashes(ours, n)
    published = _published_judge_prompts() if ANCHORS.is_dir() else []
    for prompt in published:
        for sentence in _sentences(prompt):
            assert sentence not in ours, sentence


def test_questions_are_our_own_words():
    if not ANCHORS.is_dir():
        pytest.skip("published anchors not available")
    published = set()
    for path in sorted(ANCHORS.rglob("*.yaml")):
        published.update(_sentences(path.read_text(encoding="utf-8")))
    ours = set()
    for q in questions.load_builtin("core"):
        for text in [*q["paraphrases"], q["system"] or ""]:
            ours.update(_sentences(text))
    assert not ours & published
