"""What run_stage adds around every stage: temporaries a SIGKILLed writer left are cleared,
the pause hook is inert unless asked for, and the `done in` line splits time by phase."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from stages.common import atomic_dir, atomic_write_text, pause_point, phase, run_stage

REPO = Path(__file__).resolve().parents[2]


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path):
    (tmp_path / ".out.tmp-dead1").mkdir()
    (tmp_path / ".out.tmp-dead1" / "half.bin").write_bytes(b"x")
    (tmp_path / ".f.json.tmp-dead2").write_text("{")
    (tmp_path / ".other.tmp-keep").mkdir()
    with atomic_dir(tmp_path / "out") as out:
        (out / "done").write_text("ok")
    atomic_write_text(tmp_path / "f.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-keep", "f.json", "out"]


def test_pause_point_is_a_no_op_unless_named(monkeypatch):
    monkeypatch.delenv("EMX_TEST_PAUSE_AT", raising=False)
    pause_point("step")  # returns at once
    monkeypatch.setenv("EMX_TEST_PAUSE_AT", "train:step")
    pause_point("step")  # not inside a train stage: returns at once


def body(stage, out, results):
    with phase("load"):
        import json  # noqa: F401 - an import inside a phase is counted as an import
        time.sleep(0.1)
    if os.environ.get("EMX_TEST_PAUSE_AT"):
        pause_point("step")
    (out / "x").write_text("1")


def project(root: Path) -> None:
    params = {"stages": {"s": {"kind": "t", "key": "k", "out": "artifacts/t/k", "config": {}}}}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def test_done_line_names_the_phases(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    assert run_stage("t", body, ["s"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "s: done in" in line and "load 0.1s" in line and ", run " in line


def test_a_paused_stage_can_be_killed_and_leaves_no_output(tmp_path):
    project(tmp_path)
    here = str(Path(__file__).parent)
    code = (f"import sys; sys.path[:0] = [{str(REPO)!r}, {here!r}]; "
            "from stages.common import run_stage; from test_stage_runtime import body; "
            "raise SystemExit(run_stage('t', body))")
    env = dict(os.environ, EMX_TEST_PAUSE_AT="t:step", EMX_TEST_PAUSE_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", code, "s"], cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "t.pid").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert int((tmp_path / "t.pid").read_text()) == proc.pid
        assert list((tmp_path / "artifacts" / "t").glob(".k.tmp-*"))  # midway: a temporary
    finally:
        proc.kill()
        proc.wait()
    assert not (tmp_path / "artifacts" / "t" / "k").exists()
