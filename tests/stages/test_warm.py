"""The warm stage worker (stages.lib.warm): a stage forked from it writes the bytes a cold
process writes, its exit code and output reach DVC's process, signals reach the stage, and
whatever the worker cannot take runs cold."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_model import model_entry, write_params

from stages.lib import warm

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not warm.supported(), reason="the warm worker is Linux-only")


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != warm.ENV}
    return {**env, "PYTHONPATH": str(REPO), "EMX_NO_PROGRESS": "1"}


def run_module(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def write_data_stage(root: Path) -> None:
    """A project whose stage ``m`` is a small data stage (no torch)."""
    write_params(root, {"m": {"kind": "data", "key": "k1", "out": "artifacts/data/k1",
                              "config": {"type": "take", "size": 3, "seed": 0, "dataset": {
                                  "type": "builtin", "domain": "code", "variant": "insecure"}}}})


def record(root: Path, name: str) -> dict:
    return json.loads((root / ".emx" / "runs" / f"{name}.json").read_text())


def test_import_time_variables_decide_what_runs_cold():
    ours = {"HF_HOME": "/a", "OMP_NUM_THREADS": "2", "DVC_STAGE": "x", "PATH": "/bin"}
    assert warm.env_mismatch(ours, dict(ours)) is None
    # DVC's own variables, PATH and thread counts (applied in the child) do not matter
    assert warm.env_mismatch(ours, {**ours, "DVC_STAGE": "y", "PATH": "/usr/bin",
                                    "OMP_NUM_THREADS": "1"}) is None
    assert warm.env_mismatch(ours, {**ours, "HF_HOME": "/b"}) == "HF_HOME"
    assert warm.env_mismatch(ours, {**ours, "PYTHONHASHSEED": "0"}) == "PYTHONHASHSEED"


def test_a_forked_stage_writes_the_bytes_a_cold_one_writes(tiny_model_dir, tmp_path):
    """The model stage (torch, transformers) run cold, then forked from the worker."""
    write_params(tmp_path, {"m": model_entry({"type": "path", "dir": str(tiny_model_dir)})})
    env = base_env()
    cold = run_module(["-m", "stages.model", "m"], tmp_path, env)
    assert cold.returncode == 0, cold.stderr
    out = tmp_path / "artifacts/model/abc123"
    expected = digest(out)
    assert "warm" not in record(tmp_path, "m")

    with warm.started(tmp_path, env) as extra:
        assert set(extra) == {warm.ENV}
        forked = run_module(["-m", "stages.model", "m"], tmp_path, {**env, **extra})
    assert forked.returncode == 0, forked.stderr
    assert "2 layers, d_model 64" in forked.stderr  # the stage's log reached this process
    assert digest(out) == expected
    assert record(tmp_path, "m")["warm"] is True
    assert not Path(extra[warm.ENV]).parent.exists()  # the socket's folder is gone


def test_python_and_python3_of_one_environment_are_one_interpreter(tmp_path):
    """`emx` (a console script) runs as ``.../bin/python3``; DVC's stage commands run
    ``python``: the worker takes them all the same."""
    names = {Path(sys.executable).with_name(n) for n in ("python", "python3")}
    other = next((n for n in sorted(names) if n.exists() and str(n) != sys.executable), None)
    if other is None:
        pytest.skip("no python/python3 pair beside this interpreter")
    write_data_stage(tmp_path)
    env = base_env()
    with warm.started(tmp_path, env) as extra:
        proc = subprocess.run([str(other), "-m", "stages.data", "m"], cwd=tmp_path,
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert record(tmp_path, "m")["warm"] is True


def test_exit_codes_and_errors_reach_the_client(tmp_path):
    write_params(tmp_path, {})
    env = base_env()
    with warm.started(tmp_path, env) as extra:
        proc = run_module(["-m", "stages.data", "no-such-stage"], tmp_path, {**env, **extra})
    assert proc.returncode == 1
    assert "no stage 'no-such-stage'" in proc.stderr


def test_what_the_worker_cannot_take_runs_cold(tmp_path):
    """A client whose import-time environment differs, or whose worker is gone, runs the
    stage itself."""
    write_data_stage(tmp_path)
    env = base_env()
    with warm.started(tmp_path, env) as extra:
        other = run_module(["-m", "stages.data", "m"], tmp_path,
                           {**env, **extra, "HF_HOME": str(tmp_path / "hf")})
        assert other.returncode == 0, other.stderr
        assert "warm" not in record(tmp_path, "m")
        same = run_module(["-m", "stages.data", "m"], tmp_path, {**env, **extra})
        assert same.returncode == 0 and record(tmp_path, "m")["warm"] is True
    gone = run_module(["-m", "stages.data", "m"], tmp_path, {**env, **extra})
    assert gone.returncode == 0, gone.stderr
    assert "warm" not in record(tmp_path, "m")


SLEEPER = """
import os, sys, time
import torch
from pathlib import Path
Path("child.pid").write_text(str(os.getpid()))
print("threads", torch.get_num_threads(), float(torch.ones(4, 4).sum()), flush=True)
if len(sys.argv) > 1:
    time.sleep(600)
"""

CLIENT = "import sys; from stages.lib import warm; sys.exit(warm.delegate('sleeper'))"


def wait_for(path: Path, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and \
        Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def gone_within(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    return not alive(pid)


def test_torch_computes_in_the_child_with_the_clients_thread_count(tmp_path):
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    env = base_env()
    with warm.started(tmp_path, {**env, "OMP_NUM_THREADS": "2"}) as extra:
        proc = run_module(["-c", CLIENT], tmp_path, {**env, **extra, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "threads 1 16.0"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_client_stops_its_stage(tmp_path, sig):
    """dvc stopping the stage (SIGTERM) reaches the forked child; a client killed outright
    (SIGKILL) hangs up, and the child ends itself."""
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    env = base_env()
    child = None
    with warm.started(tmp_path, env) as extra:
        client = subprocess.Popen([sys.executable, "-c", CLIENT, "sleep"], cwd=tmp_path,
                                  env={**env, **extra}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            child = wait_for(tmp_path / "child.pid")
            assert child != client.pid and alive(child)
            client.send_signal(sig)
            code = client.wait(30)
            assert gone_within(child)
        finally:  # a failing test must not leave a sleeper behind
            client.kill()
            if child is not None and alive(child):
                os.kill(child, signal.SIGKILL)
    assert code != 0


def test_emx_warm_0_turns_the_worker_off(tmp_path, monkeypatch):
    monkeypatch.setenv(warm.ENV, "0")
    with warm.started(tmp_path, dict(os.environ)) as extra:
        assert extra == {}
    assert warm.delegate("stages.data") is None
