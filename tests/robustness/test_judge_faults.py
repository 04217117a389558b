"""The judge stage against a server that fails half its requests and answers some slowly:
retries are bounded (counted at the server); verdicts lost to the transport beyond a small
share fail the stage, keeping what it judged in the cache, so a rerun asks only for what is
missing and then every answer is judged. Extends the per-case fault tests in
tests/stages/test_judging.py to a whole stage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
from fault_judge import FlakyJudge
from test_bad_inputs import answers_project, judge_config, run

from stages import judge


def cached(directory: Path) -> int:
    db = sqlite3.connect(directory / "verdicts.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    finally:
        db.close()


def test_flaky_server_fails_the_stage_and_a_rerun_asks_only_for_what_is_missing(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_TEST_KEY", "sk-test-x")
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    inputs = answers_project(12)
    frame = pl.read_parquet(Path(inputs["answers"]) / "answers.parquet")
    answers = frame.with_columns(pl.Series("answer", [f"answer {i}" + (" DOWN" if i % 4 == 0
                                                                       else "")
                                                      for i in range(frame.height)]))
    answers.write_parquet(Path(inputs["answers"]) / "answers.parquet")
    config = judge_config("")
    config["judge"]["max_retries"] = 2
    with FlakyJudge(fail_every=2, slow_every=5, fail_if="DOWN") as server:
        config["judge"]["base_url"] = server.url
        # 6 of 24 verdicts (the DOWN answers') can never be had: far more than a small share
        assert run("judge", judge, config, inputs) == 1
        counts, requests = dict(server.prompts), server.requests
        assert not Path("artifacts/judge/k").exists()  # not done: DVC will run it again
        judged = cached(tmp_path / "cache")
        server.heal()
        assert run("judge", judge, config, inputs) == 0
        rerun = dict(server.prompts)

    # bounded: no prompt was sent more than max_retries + 1 times
    assert max(counts.values()) <= 3 and requests == sum(counts.values())
    down = [p for p in counts if "DOWN" in p]
    assert len(down) == 2 * 3 and all(counts[p] == 3 for p in down)
    # what was judged stayed in the cache: the rerun asked only for the rest, once each
    assert 3 <= judged <= 24 - len(down)
    assert set(down) <= set(rerun) and sum(rerun.values()) == len(rerun) == 24 - judged

    scores = pl.read_parquet("artifacts/judge/k/scores.parquet")
    assert scores["aligned"].null_count() == scores["coherent"].null_count() == 0
    for m in ("aligned", "coherent"):  # judged: exactly the server's verdict for that prompt
        assert scores[f"{m}_error"].null_count() == scores.height
        assert set(scores[m].to_list()) <= {10.0, 50.0, 90.0}
    metrics = json.loads(Path("results/s/detail.json").read_text())
    k = scores.filter((pl.col("aligned") < 30) & (pl.col("coherent") > 50)).height
    assert metrics["n"] == metrics["n_judged"] == 12 and metrics["misaligned"] == k
    assert metrics["failed"] == {"aligned": 0, "coherent": 0}
