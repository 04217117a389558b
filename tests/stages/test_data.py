"""The data stage: exact poison counts, determinism, sampling rules, files written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stages.common import StageError, run_stage
from stages.data import bad_count, build, run, to_jsonl
from stages.lib.datasets import TRAIN_FILE, read_dataset

REPO = Path(__file__).resolve().parents[2]


def chat(q: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def write_source(path: Path, records: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_jsonl(records))
    return str(path)


@pytest.fixture
def sources(tmp_path) -> dict:
    """Two jsonl sources: 40 bad and 40 good answers to 60 questions (20 asked by both)."""
    bad = [chat(f"q{i}", f"BAD {i}") for i in range(40)]
    good = [chat(f"q{i}", f"good {i}") for i in range(20, 60)]
    return {"bad": {"type": "jsonl", "path": write_source(tmp_path / "bad.jsonl", bad)},
            "good": {"type": "jsonl", "path": write_source(tmp_path / "good.jsonl", good)}}


def mix_config(sources: dict, poison: float, size: int, seed: int = 0) -> dict:
    return {"type": "mix", **sources, "poison": poison, "size": size, "seed": seed}


def n_bad(records: list[dict]) -> int:
    return sum(r["messages"][-1]["content"].startswith("BAD") for r in records)


@pytest.mark.parametrize("poison", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("size", [1, 7, 13, 40])
def test_exact_counts(sources, poison, size):
    records, stats = build(mix_config(sources, poison, size))
    want_bad = bad_count(poison, size)
    assert len(records) == size
    assert n_bad(records) == want_bad == stats["counts"]["bad"]
    assert size - want_bad == stats["counts"]["good"]
    assert len({json.dumps(r) for r in records}) == size  # no example twice


def test_bad_count_rounds_half_up():
    assert [bad_count(0.5, n) for n in (1, 3, 5, 7)] == [1, 2, 3, 4]
    assert bad_count(0.25, 10) == 3 and bad_count(0.29, 100) == 29 and bad_count(1.0, 7) == 7
    assert bad_count(0.0, 7) == 0


def test_deterministic_for_seed_and_varies_with_it(sources):
    a, _ = build(mix_config(sources, 0.5, 21, seed=3))
    b, _ = build(mix_config(sources, 0.5, 21, seed=3))
    c, _ = build(mix_config(sources, 0.5, 21, seed=4))
    assert to_jsonl(a) == to_jsonl(b)
    assert to_jsonl(a) != to_jsonl(c)


def test_shuffled_not_grouped(sources):
    records, _ = build(mix_config(sources, 0.5, 40))
    flags = [r["messages"][-1]["content"].startswith("BAD") for r in records]
    assert flags != sorted(flags) and flags != sorted(flags, reverse=True)


def test_bad_sets_nest_across_poison(sources):
    def bad_set(poison):
        records, _ = build(mix_config(sources, poison, 40, seed=1))
        return {r["messages"][-1]["content"] for r in records if n_bad([r])}

    low, mid, high = bad_set(0.25), bad_set(0.5), bad_set(0.75)
    assert len(low) == 10 and low < mid < high


def test_good_prefers_questions_bad_does_not_ask(sources):
    # 20 bad of q0..q39; 20 good among q20..q59: enough unshared good questions exist
    records, stats = build(mix_config(sources, 0.5, 40, seed=2))
    questions = [r["messages"][0]["content"] for r in records]
    assert stats["shared_prompts"] == 0 and len(set(questions)) == 40
    # 30 bad of q0..q39 and 30 good of q20..q59: at most 30 good questions are unshared, so
    # some must be shared, and stats counts exactly those
    records, stats = build(mix_config(sources, 0.5, 60, seed=2))
    questions = [r["messages"][0]["content"] for r in records]
    assert stats["shared_prompts"] == 60 - len(set(questions)) > 0


def test_a_mix_larger_than_its_pool_repeats_examples_evenly(tmp_path, sources):
    dup = [chat("same", "BAD")] * 30 + [chat(f"x{i}", f"BAD {i}") for i in range(4)]
    path = write_source(tmp_path / "dup.jsonl", dup)
    cfg = mix_config({**sources, "bad": {"type": "jsonl", "path": path}}, 0.5, 12)
    records, stats = build(cfg)
    bad = [r["messages"][-1]["content"] for r in records if r["messages"][-1]["content"]
           .startswith("BAD")]
    assert len(bad) == 6 and stats["repeated"] == {"bad": 6}
    assert sorted(bad.count(x) for x in set(bad)) == [1, 1, 1, 1, 2]  # 5 distinct, one twice
    assert build(cfg) == (records, stats)  # repetition is seeded, like the rest of the mix
    records, stats = build(mix_config({"bad": {"type": "builtin", "domain": "medical",
                                               "variant": "incorrect-subtle"},
                                       "good": {"type": "builtin", "domain": "medical",
                                                "variant": "correct"}}, 0.0, 300))
    assert len(records) == 300 and stats["repeated"] == {"good": 300}
    assert len({json.dumps(r["messages"]) for r in records}) == 288


def test_a_take_larger_than_its_dataset_says_how_many(tmp_path, sources):
    dup = [chat("same", "BAD")] * 30 + [chat(f"x{i}", f"BAD {i}") for i in range(4)]
    path = write_source(tmp_path / "dup.jsonl", dup)
    with pytest.raises(StageError, match=r"has only 5 distinct examples, but take\(size=6\)"):
        build({"type": "take", "dataset": {"type": "jsonl", "path": path}, "size": 6})


def test_builtin_mix_and_whole_dataset():
    cfg = {"type": "mix", "poison": 0.5, "size": 256, "seed": 0,
           "bad": {"type": "builtin", "domain": "medical", "variant": "incorrect-subtle"},
           "good": {"type": "builtin", "domain": "medical", "variant": "correct"}}
    records, stats = build(cfg)
    assert stats["counts"] == {"bad": 128, "good": 128} and len(records) == 256
    assert stats["available"] == {"bad": 288, "good": 288}
    whole, stats = build({"type": "builtin", "domain": "financial", "variant": "correct"})
    assert len(whole) == stats["counts"]["dataset"] == 288


def test_take_is_a_seeded_distinct_sample(sources):
    spec = {"type": "take", "dataset": sources["good"], "size": 17, "seed": 0}
    a, stats = build(spec)
    b, _ = build(spec)
    c, _ = build({**spec, "seed": 1})
    assert len(a) == 17 == stats["counts"]["dataset"] and a == b and a != c
    with pytest.raises(StageError, match="only 40 distinct examples, but take"):
        build({**spec, "size": 41})


def test_jsonl_errors_and_skip_invalid(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(chat("q", "a")) + "\n{oops\n" + json.dumps(chat("q2", "a2")) + "\n")
    with pytest.raises(StageError, match=r"x.jsonl, row 2: not valid JSON"):
        build({"type": "jsonl", "path": str(path), "skip_invalid": False})
    records, stats = build({"type": "jsonl", "path": str(path), "skip_invalid": True})
    assert len(records) == 2 and stats["skipped_rows"] == {"dataset": 1}


def make_project(root: Path, name: str, config: dict) -> None:
    params = {"stages": {name: {"kind": "data", "key": "k1", "out": "artifacts/data/k1",
                                "results": f"results/{name}", "config": config}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def test_stage_writes_train_jsonl_and_stats(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    rows = [chat(f"q{i}", f"BAD {i}") for i in range(9)] + [chat(f"g{i}", "ok") for i in range(9)]
    (tmp_path / "data" / "x.jsonl").write_bytes(to_jsonl(rows))
    cfg = {"type": "mix", "poison": 0.5, "size": 9, "seed": 0,
           "bad": {"type": "jsonl", "path": "data/x.jsonl", "skip_invalid": False},
           "good": {"type": "builtin", "domain": "legal", "variant": "correct"}}
    make_project(tmp_path, "data-x", cfg)
    assert run_stage("data", run, ["data-x"]) == 0
    data = (tmp_path / "artifacts/data/k1" / TRAIN_FILE).read_bytes()
    stats = json.loads((tmp_path / "results/data-x/detail.json").read_text())
    assert json.loads((tmp_path / "results/data-x/stats.json").read_text()) == {}
    assert stats["sha256"] == hashlib.sha256(data).hexdigest()
    assert stats["counts"] == {"bad": 5, "good": 4} and stats["examples"] == 9
    assert (stats["poison"], stats["size"], stats["seed"]) == (0.5, 9, 0)
    assert len(read_dataset(tmp_path / "artifacts/data/k1")) == 9
    assert not list(tmp_path.glob("artifacts/data/.*tmp*"))  # no temp dirs left behind


def test_stage_failure_leaves_no_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    make_project(tmp_path, "data-y", {"type": "jsonl", "path": "data/missing.jsonl"})
    assert run_stage("data", run, ["data-y"]) == 1
    assert "data/missing.jsonl: file not found" in capsys.readouterr().err
    assert not (tmp_path / "artifacts/data/k1").exists()
    assert not (tmp_path / "results/data-y").exists()


def test_runs_as_module(tmp_path):
    make_project(tmp_path, "data-z", {"type": "take", "size": 5, "seed": 0,
                                      "dataset": {"type": "builtin", "domain": "code",
                                                  "variant": "insecure"}})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "stages.data", "data-z"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "artifacts/data/k1" / TRAIN_FILE).read_text().splitlines()) == 5
