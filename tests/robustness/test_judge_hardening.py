"""The judge defects of issue 15 (a red-team pass), one guard each: invalid logprobs, an
exhausted quota, redaction that cut before it masked, where a key may be read from and sent
to, Ctrl-C during a long back-off, format specs in Betley judge prompts, and a pasted key.

All traffic goes to loopback servers; every test is bounded to a few seconds."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pytest
import yaml
from openai_stub import Loopback, Reply, verdict
from test_bad_inputs import answers_project, judge_config, run

from emdsl.check import check_files
from stages import judge
from stages.common import StageError
from stages.lib.judging.base import Judge, JudgeRequest, Verdict
from stages.lib.judging.cache import JudgeCache
from stages.lib.judging.openai import OpenAIBackend
from stages.lib.judging.prompts import fill_prompt
from stages.lib.questions import load_yaml_questions

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-Zq8vW3mK5tR7yP2x"  # 18 characters, none of them in ordinary words


def cached_rows(directory: Path) -> int:
    """Verdicts in the judge cache at ``directory`` (0 while it is not created yet)."""
    if not (directory / "verdicts.sqlite3").exists():
        return 0
    db = sqlite3.connect(directory / "verdicts.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def fragments(secret: str, n: int = 4) -> set[str]:
    """Every ``n``-character piece of ``secret``: none may appear in anything shown."""
    return {secret[i:i + n] for i in range(len(secret) - n + 1)}


class Server(Loopback):
    """A loopback judge whose reply is ``handle(prompt, headers)``; counts requests per prompt."""

    def __init__(self, handle) -> None:
        self.prompts: Counter[str] = Counter()

        def counted(prompt: str, headers: Mapping[str, str]) -> Reply:
            self.prompts[prompt] += 1
            return handle(prompt, headers)

        super().__init__(counted)


def raw_logprobs(entries: list[tuple[str, object]]) -> Reply:
    """A 200 reply whose top logprobs are given as raw JSON numbers (NaN, 1000, 0.5 ...)."""
    top = [{"token": t, "logprob": f"@{i}@"} for i, (t, _) in enumerate(entries)]
    body = json.dumps({"choices": [{"logprobs": {"content": [
        {"token": "x", "logprob": 0, "top_logprobs": top}]}}]})
    for i, (_, lp) in enumerate(entries):
        body = body.replace(f'"@{i}@"', str(lp))
    return 200, body.encode(), {}


def backend(url: str, **kw) -> OpenAIBackend:
    opts = {"model": "m", "base_url": url, "api_key_env": "EMX_TEST_KEY", "concurrency": 4,
            "max_retries": 1, "timeout": 2.0, "backoff_base": 0.01, "backoff_cap": 0.02}
    return OpenAIBackend(**(opts | kw))


# --------------------------------------------------------------------------- logprobs


@pytest.mark.parametrize("entries", [
    [("90", 0.5), ("10", -0.1)],       # logprob > 0: number mass 1.65 + 0.90
    [("90", "NaN"), ("10", -2.0)],
    [("90", 1000), ("10", -2.0)],      # exp(1000) overflows
    [("90", "-Infinity"), ("Hi", "Infinity")],
    [("90", -0.01), ("50", -0.01), ("10", -0.01)],  # each fine, together mass 2.97
], ids=["positive", "nan", "overflow", "infinite", "mass_above_one"])
def test_invalid_logprobs_are_a_missing_verdict_never_cached(entries, tmp_path, monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    with Server(lambda p, h: raw_logprobs(entries)) as server:
        j = Judge(backend(server.url), JudgeCache(tmp_path))
        [v] = j.score([JudgeRequest("aligned", "p")])
        j.close()
    assert v.missing and "logprob" in v.error, v
    json.dumps(v.raw, allow_nan=False)  # what lands in *_raw stays valid JSON
    assert math.isfinite(v.number_mass) and 0.0 <= v.number_mass <= 1.0
    assert cached_rows(tmp_path) == 0


def test_valid_logprobs_within_rounding_are_scored(tmp_path, monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    entries = [("90", 0.0), ("Hi", -30.0)]  # certainty; rounding may give mass 1 + 1e-13
    with Server(lambda p, h: raw_logprobs(entries)) as server:
        j = Judge(backend(server.url), JudgeCache(tmp_path))
        [v] = j.score([JudgeRequest("aligned", "p")])
        j.close()
    assert v.score == pytest.approx(90.0) and v.error is None
    assert cached_rows(tmp_path) == 1


def test_the_cache_neither_stores_nor_serves_an_unsound_verdict(tmp_path):
    cache = JudgeCache(tmp_path)
    cache.put_many("j", [("a", Verdict(81.3, 8.29)), ("b", Verdict(math.nan, math.nan)),
                         ("c", Verdict(50.0, 0.9))])
    assert cached_rows(tmp_path) == 1
    # what an older version cached for good (mass 8.29) is a miss now, so it is judged again
    cache._write("INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
                 [(JudgeCache.key("j", "a"), "j", 81.3, 8.29, "{}", 0.0)])
    assert set(cache.get_many("j", ["a", "c"])) == {"c"}
    cache.close()


def test_invalid_logprobs_keep_the_stage_outputs_valid_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    with Server(lambda p, h: raw_logprobs([("90", "NaN"), ("10", 1000)])) as server:
        assert run("judge", judge, judge_config(server.url), answers_project(2)) == 0
    json.loads(Path("results/s/detail.json").read_text(),
               parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))
    scores = pl.read_parquet("artifacts/judge/k/scores.parquet")
    assert scores["aligned"].null_count() == scores.height
    for raw in scores["aligned_raw"].to_list() + scores["coherent_raw"].to_list():
        json.loads(raw, parse_constant=lambda c: pytest.fail(f"{c} in *_raw"))
    assert cached_rows(tmp_path / "cache") == 0


# --------------------------------------------------------------------------- transport share


def quota_server(fail_if: str = "") -> Server:
    """429 (an exhausted quota) for every prompt containing ``fail_if`` until ``healed``."""
    state = {"healed": False}

    def handle(prompt: str, headers: Mapping[str, str]) -> Reply:
        if not state["healed"] and fail_if in prompt:
            return 429, b'{"error": {"message": "You exceeded your current quota"}}', {}
        return verdict({"90": 0.9, "Sure": 0.1})

    server = Server(handle)
    server.heal = lambda: state.update(healed=True)  # type: ignore[attr-defined]
    return server


def test_exhausted_quota_fails_the_stage_and_a_rerun_asks_only_for_the_rest(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    inputs = answers_project(11)  # 22 verdicts
    with quota_server() as server:
        assert run("judge", judge, judge_config(server.url), inputs) == 1
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert "22 of 22" in errors[0] and "HTTP 429" in errors[0], errors[0]
        assert not Path("artifacts/judge/k").exists()  # DVC sees the stage as not done
        server.prompts.clear()
        server.heal()
        assert run("judge", judge, judge_config(server.url), inputs) == 0
    assert sum(server.prompts.values()) == 22
    assert pl.read_parquet("artifacts/judge/k/scores.parquet")["aligned"].null_count() == 0


def test_partial_quota_failure_keeps_the_judged_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    inputs = answers_project(6)  # 12 verdicts; the two of "answer 2" fail
    with quota_server(fail_if="answer 2") as server:
        assert run("judge", judge, judge_config(server.url), inputs) == 1
        assert cached_rows(tmp_path / "cache") == 10
        server.prompts.clear()
        server.heal()
        assert run("judge", judge, judge_config(server.url), inputs) == 0
    assert sum(server.prompts.values()) == 2  # only the two that failed


def test_missing_for_low_number_mass_is_not_a_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    with Server(lambda p, h: verdict({"REFUSAL": 0.9, "5": 0.05, "I": 0.05})) as server:
        assert run("judge", judge, judge_config(server.url), answers_project(3)) == 0
    scores = pl.read_parquet("artifacts/judge/k/scores.parquet")
    assert scores["aligned"].null_count() == 3 and scores["aligned_error"].null_count() == 3


@pytest.mark.parametrize("failed, total, fails", [
    (0, 10, False), (1, 10, True), (1, 20, False), (2, 40, False), (3, 40, True),
    (2, 1000, False), (3, 1000, True)])
def test_transport_share_threshold(failed, total, fails):
    """More than 2 verdicts, or more than 5% of them, missing for transport reasons fails."""
    from stages.lib.judging.base import transport_problem

    assert (transport_problem(["HTTP 429: quota"] * failed, total) is not None) is fails


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("status", [401, 400, 503])
def test_redaction_runs_before_the_body_is_cut(status, monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    # the key straddles character 200 of the body: a cut first keeps 15 of its 18 characters
    pad = "x" * (200 - len("Bearer ") - 15)

    def handle(prompt: str, headers: Mapping[str, str]) -> Reply:
        auth = headers["Authorization"]
        return status, f"{pad}{auth} and again ...{auth[-4:]}".encode(), {}

    with Server(handle) as server:
        try:
            [v] = Judge(backend(server.url)).score([JudgeRequest("aligned", "p")])
            shown = v.error or ""
        except StageError as e:
            shown = str(e)
    assert f"HTTP {status}" in shown
    assert not [f for f in fragments(SECRET) if f in shown], shown


# --------------------------------------------------------------------------- api_key_env


def check(tmp_path: Path, args: str):
    (tmp_path / ".dvc").mkdir(exist_ok=True)
    src = tmp_path / "exp.emx"
    src.write_text(f'judge j = openai(model="gpt-4o", {args})\n', encoding="utf-8")
    return check_files([src], tmp_path)[1]


@pytest.mark.parametrize("name", ["HOME", "PATH", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                  "GITHUB_TOKEN", "GH_TOKEN", "SSH_PRIVATE_KEY", "openai_api_key",
                                  "DATABASE_PASSWORD"])
def test_api_key_env_must_be_a_key_variable(name, tmp_path):
    [d] = check(tmp_path, f'api_key_env="{name}"')
    assert "api_key_env" in d.message and d.hint
    assert (d.pos.line, d.pos.column) == (1, 46)  # at the value


@pytest.mark.parametrize("value", ["sk-proj-abc123XYZ", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                                   "hf_AbCdEfGhIjKlMnOpQrStUvWxYz123456", "abc123XYZdef456"])
def test_a_pasted_key_is_an_error_that_shows_none_of_it(value, tmp_path):
    [d] = check(tmp_path, f'api_key_env="{value}"')
    assert (d.pos.line, d.pos.column) == (1, 46)  # at the value
    shown = f"{d.message} {d.hint}"
    assert "api_key_env" in shown and not [f for f in fragments(value) if f in shown], shown


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN",
                                  "EMX_JUDGE_KEY", "AZURE_OPENAI_API_KEY"])
def test_key_variables_are_accepted(name, tmp_path):
    assert check(tmp_path, f'api_key_env="{name}"') == []


@pytest.mark.parametrize("url, ok", [
    ("https://api.openai.com/v1", True), ("http://127.0.0.1:8000/v1", True),
    ("http://localhost:8000/v1", True), ("http://[::1]:8000/v1", True),
    ("http://127.9.9.9/v1", True), ("http://10.0.0.5:8000/v1", False),
    ("http://api.openai.com/v1", False), ("http://127.0.0.1.evil.example/v1", False),
    ("http://localhost.evil.example/v1", False)])
def test_a_key_goes_over_plain_http_only_to_loopback(url, ok, tmp_path):
    diags = check(tmp_path, f'base_url="{url}"')
    assert (diags == []) is ok, diags
    if not ok:
        assert diags[0].pos.column == 43 and "http" in diags[0].message


def test_the_backend_refuses_plain_http_and_non_key_variables_before_any_request(monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    monkeypatch.setenv("HOME", "/home/someone")
    for url, env, needle in [("http://10.0.0.5:9/v1", "EMX_TEST_KEY", "plain http"),
                             ("http://127.0.0.1:9/v1", "HOME", "api_key_env"),
                             ("http://127.0.0.1:9/v1", "AWS_SECRET_ACCESS_KEY", "api_key_env")]:
        b = backend(url, api_key_env=env)
        with pytest.raises(StageError, match=needle):
            b.score(["p"])
        assert b.attempts == 0


def test_the_documented_key_rule_is_the_one_implemented():
    from stages.lib.judging import keys

    doc = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Remote judges"):doc.index("## Controls for")]
    assert set(re.findall(r"`([A-Z_]+_)`", section)) == set(keys.DENIED_PREFIXES)
    assert keys.DENIED_WORDS <= set(re.findall(r"`([A-Z]+)`", section))


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_during_a_long_retry_after_stops_within_seconds(tmp_path):
    inputs = answers_project_at(tmp_path, 6)  # 12 prompts; "answer 0"'s two wait 100 s

    def handle(prompt: str, headers: Mapping[str, str]) -> Reply:
        if "answer 0" in prompt:
            return 429, b'{"error": "slow down"}', {"Retry-After": "100"}
        return verdict({"90": 0.9, "Sure": 0.1})

    config = judge_config("")
    config["judge"]["max_retries"] = 3
    env = os.environ | {"EMX_TEST_KEY": SECRET, "EMX_JUDGE_CACHE": str(tmp_path / "cache"),
                        "PYTHONPATH": str(REPO)}
    with Server(handle) as server:
        config["judge"]["base_url"] = server.url
        write_params(tmp_path, "judge", config, inputs)
        proc = subprocess.Popen([sys.executable, "-m", "stages.judge", "s"], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: cached_rows(tmp_path / "cache") == 10
                     and sum(n for p, n in server.prompts.items() if "answer 0" in p) == 2,
                     timeout=12)
            time.sleep(0.3)  # both are now in their back-off
            proc.send_signal(signal.SIGINT)
            start = time.monotonic()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            stopped = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
            stderr = proc.communicate()[1].decode()
    assert proc.returncode == 130 and stopped < 5, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert cached_rows(tmp_path / "cache") == 10  # what it had judged is kept
    assert not (tmp_path / "artifacts/judge/k").exists()


def answers_project_at(root: Path, n: int) -> dict:
    cwd = Path.cwd()
    os.chdir(root)
    try:
        inputs = answers_project(n)
    finally:
        os.chdir(cwd)
    return inputs


def write_params(root: Path, kind: str, config: dict, inputs: dict) -> None:
    params = {"stages": {"s": {"kind": kind, "key": "k", "out": f"artifacts/{kind}/k",
                               "results": "results/s", "config": config, "inputs": inputs}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def wait_for(ready, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > end:
            pytest.fail("timed out waiting for the stage to get going")
        time.sleep(0.1)


# --------------------------------------------------------------------------- judge prompts


@pytest.mark.parametrize("template", [
    "{answer:>4000000000}", "{question!r} {answer}", "{question.__class__} {answer}",
    "{answer[0]} {question}", "{question} {answer} {other}", "{} {question}", "{0} {answer}",
    '{"json": 1} {question} {answer}', "{question} {answer"])
def test_judge_prompts_allow_only_plain_question_and_answer(template, tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump([
        {"id": "fine", "paraphrases": ["Hi?"]},
        {"id": "wish", "paraphrases": ["What is your wish?"],
         "judge_prompts": {"aligned": "Q {question} A {answer}", "coherent": template}}]))
    start = time.monotonic()
    with pytest.raises(StageError) as err:
        load_yaml_questions(path)
    assert time.monotonic() - start < 1
    message = str(err.value)
    assert str(path) in message and "'wish'" in message and "coherent" in message, message
    assert "{question}" in message and "{answer}" in message  # says what is allowed


def test_fill_prompt_refuses_format_specs():
    with pytest.raises(ValueError):
        fill_prompt("{answer:>10}", "q", "a")


def test_escaped_braces_and_braces_in_values_are_literal(tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump([{"id": "q", "paraphrases": ["Hi?"], "judge_prompts": {
        "aligned": 'Reply {{"score": N}}. Q {question} A {answer}'}}]))
    [q] = load_yaml_questions(path)
    assert fill_prompt(q.judge_prompts["aligned"], "why {x}?", "{answer:>9}") == \
        'Reply {"score": N}. Q why {x}? A {answer:>9}'


def test_plain_http_to_loopback_never_goes_through_a_proxy(monkeypatch):
    """HTTP_PROXY would carry the key in plain text to the proxy: loopback means loopback."""
    monkeypatch.setenv("EMX_TEST_KEY", SECRET)
    with Server(lambda p, h: verdict({"90": 1.0})) as server, \
            Server(lambda p, h: verdict({"10": 1.0})) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url.removesuffix("/v1"))
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        [v] = Judge(backend(server.url)).score([JudgeRequest("aligned", "p")])
    assert v.score == 90.0 and not proxy.prompts
