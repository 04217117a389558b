"""The bad-input corpus (tests/fixtures/bad/): each file or fault gives ONE clear error that
names the file (and row or line) and the fix, and never a traceback.

Language mistakes go through `emx check`; data, question, model and judge faults through the
stage entry point (``run_stage``, what ``python -m stages.<kind>`` calls). A missing judge key
is covered in tests/stages/test_judge.py; NaN overrides in tests/emdsl/test_cli.py.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import polars as pl
import pytest
import yaml
from fault_judge import FlakyJudge

from emdsl import cli
from stages import data, generate, judge
from stages.common import run_stage

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"


@pytest.mark.parametrize("name, message, hint", [
    ("not_utf8.emx", ":1:17: error: file is not valid UTF-8", "save the file as UTF-8"),
    ("huge_number.emx", ":7:39: error: number `1e400` is too large", None),
    ("huge_int.emx", ":7:10: error: mix needs", "lower `size` or `poison`"),
    ("negative_params.emx", ":7:42: error: `mix(...)` argument `poison`: must be ≥ 0",
     "`poison` must be between 0 and 1"),
    ("unknown_builtin.emx", ":2:23: error: unknown builtin dataset `medicl`",
     "did you mean `medical`?"),
    ("missing_model.emx", ":1:20: error: `models/does-not-exist` does not exist",
     "paths are relative to the project root"),
    ("empty_data.emx", ":1:25: error: `tests/fixtures/bad/empty.jsonl` is empty",
     "add records to it"),
])
def test_language_mistakes_are_one_located_error_each(capsys, name, message, hint):
    assert cli.main(["check", str(BAD / name)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    assert f"{name}{message}" in text, text
    if hint:
        assert f"hint: {hint}" in text, text
    # one error per fault: negative_params.emx has three, unknown_builtin.emx two
    faults = {"negative_params.emx": 3, "unknown_builtin.emx": 2}.get(name, 1)
    assert len(re.findall(r"\.emx:\d+:\d+: error:", text)) == faults


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    shutil.copytree(BAD, tmp_path / "bad")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(kind: str, module, config: dict, inputs: dict | None = None) -> int:
    params = {"stages": {"s": {"kind": kind, "key": "k", "out": f"artifacts/{kind}/k",
                               "results": "results/s", "config": config,
                               "inputs": inputs or {}}}}
    Path("params.yaml").write_text(yaml.safe_dump(params))
    return run_stage(kind, module.run, ["s"])


def one_clear_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not Path("artifacts").exists() or not any(Path("artifacts").rglob("k"))
    return err


@pytest.mark.parametrize("name, needles", [
    ("broken_rows.jsonl", ["bad/broken_rows.jsonl, row 2: not valid JSON",
                           "write one JSON object per line", "skip_invalid=true"]),
    ("empty.jsonl", ["bad/empty.jsonl: no chat records", 'Add lines like {"messages"']),
    ("latin1.jsonl", ["bad/latin1.jsonl, row 1: byte 0xe9", "re-save the file as UTF-8"]),
    ("no_answer.jsonl", ["bad/no_answer.jsonl, row 1: the last message is from 'user'",
                         "end each record with the assistant's answer"]),
])
def test_bad_training_data(project, capsys, name, needles):
    assert run("data", data, {"type": "jsonl", "path": f"bad/{name}",
                              "skip_invalid": False}) == 1
    one_clear_error(capsys, *needles)


@pytest.mark.parametrize("name, needles", [
    ("questions_mapping.yaml", ["bad/questions_mapping.yaml: expected a list of questions",
                                "write entries like `- id: my_question`"]),
    ("questions_paraphrases_str.yaml", ["questions_paraphrases_str.yaml, entry 0 (id 'wish')",
                                        "paraphrases must be a list"]),
    ("broken_rows.jsonl", ["bad/broken_rows.jsonl, line 2, column 1: not valid YAML",
                           "fix the syntax"]),
    ("latin1.jsonl", ["bad/latin1.jsonl: cannot read as YAML", "save it as UTF-8 YAML"]),
])
def test_question_file_in_the_wrong_format(project, capsys, name, needles):
    assert run("generate", generate, {"questions": {"type": "yaml", "path": f"bad/{name}"}},
               {"model": "artifacts/model/none"}) == 1
    one_clear_error(capsys, *needles)


def test_model_folder_that_does_not_exist(project, capsys):
    assert run("generate", generate, {"questions": {"type": "builtin", "name": "core"}},
               {"model": "models/does-not-exist"}) == 1
    one_clear_error(capsys, "models/does-not-exist is not a model folder",
                    "check the path")


def answers_project(n: int = 3) -> dict:
    """Answers to builtin core questions, ready for a judge stage."""
    from stages.lib.questions import load_questions

    qs = load_questions({"type": "builtin", "name": "core"})[:n]
    out = Path("artifacts/generate/g")
    out.mkdir(parents=True)
    pl.DataFrame({"question_id": [q.id for q in qs], "paraphrase_index": [0] * n,
                  "question": [q.paraphrases[0] for q in qs],
                  "system": pl.Series([None] * n, dtype=pl.String), "sample": [0] * n,
                  "answer": [f"answer {i}" for i in range(n)], "tokens": [2] * n,
                  }).write_parquet(out / "answers.parquet")
    return {"answers": str(out)}


def judge_config(url: str) -> dict:
    return {"questions": {"type": "builtin", "name": "core"}, "aligned_below": 30,
            "coherent_above": 50, "judge": {"type": "openai", "model": "m", "base_url": url,
                                            "api_key_env": "EMX_TEST_KEY", "concurrency": 4,
                                            "max_retries": 1}}


def test_judge_server_down(project, capsys, monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", "sk-test-x")
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(project / "cache"))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    assert run("judge", judge, judge_config(url), answers_project()) == 1
    one_clear_error(capsys, f"none of 6 requests to {url} got an answer",
                    "connection failed", "check that the server is running")


def test_judge_server_answers_garbage(project, capsys, monkeypatch):
    monkeypatch.setenv("EMX_TEST_KEY", "sk-test-x")
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(project / "cache"))
    with FlakyJudge(garbage=True) as server:
        assert run("judge", judge, judge_config(server.url), answers_project()) == 1
    assert server.requests == 6 * 2  # bounded: max_retries=1 → two tries per prompt
    one_clear_error(capsys, "unparseable response: '<html>502 Bad Gateway",
                    "OpenAI-compatible /v1 endpoint")
