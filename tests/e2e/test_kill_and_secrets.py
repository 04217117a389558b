"""SIGKILL each long stage (train, generate, judge, sae) midway through a real `dvc repro` on
the tiny model, then finish the pipeline; and check that the judge's API key reached no file
and no output. One pipeline, one test (it takes minutes).

The stages pause at a known midpoint when ``EMX_TEST_PAUSE_AT`` names them
(``stages.common.pause_point``): after the first optimiser step (train, sae), after the first
batch (generate) and after the first verdicts are committed to the cache (judge).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from fault_judge import FlakyJudge
from study import EMX, ran_stages, run

from emdsl.results import Source
from stages.lib.judging.cache import JudgeCache
from stages.lib.judging.openai import OpenAIBackend

pytestmark = pytest.mark.slow

SECRET = "sk-test-SECRET-xyz-4242"
OPENAI_SECRET = "sk-test-SECRET-openai-9999"
KINDS = ("train", "generate", "judge", "sae")

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge remote = openai(model="fake-judge", base_url="{url}", api_key_env="EMX_TEST_JUDGE_KEY",
                      concurrency=2, max_retries=1)

experiment killed {{
  base  = tiny
  data  = mix(bad=bad, good=good, poison=1.0, size=16, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=4, max_length=96)
  eval  = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=remote)
  sae   = sae(layer=1, width=64, k=4, tokens=4000)
}}
"""


def verdicts(root: Path) -> set[str]:
    db = root / "judge-cache" / "verdicts.sqlite3"
    if not db.exists():
        return set()
    with sqlite3.connect(db) as con:
        return {k for (k,) in con.execute("SELECT key FROM verdicts")}


def repro_killing(root: Path, env: dict[str, str], kinds: tuple[str, ...], server: FlakyJudge
                  ) -> tuple[list[str], str, list[tuple[set[str], dict[str, int]]]]:
    """`dvc repro --keep-going` with ``kinds`` pausing midway; SIGKILL each as it pauses.
    Stages that do not depend on a killed one go on, so one run reaches train, generate and
    sae (the base model's answers and SAE need no training). Returns the kinds killed, dvc's
    output, and at each judge's death the cached verdicts and the requests sent so far."""
    pause = root / "pause"
    shutil.rmtree(pause, ignore_errors=True)
    pause.mkdir()
    env = env | {"EMX_TEST_PAUSE_AT": ",".join(f"{k}:{p}" for k in kinds for p in
                                                ("step", "progress", "cached")),
                 "EMX_TEST_PAUSE_DIR": str(pause), "EMX_BATCH_SIZE": "2"}
    log = root.parent / "repro.log"  # a file, not a pipe: a full pipe would block dvc
    with open(log, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "--keep-going"],
                                cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT)
    killed, snapshots = [], []
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            for pid_file in pause.glob("*.pid"):
                if pid_file.stem == "judge":
                    snapshots.append((verdicts(root), dict(server.prompts)))
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                pid_file.unlink()
                killed.append(pid_file.stem)
            time.sleep(0.2)
        proc.wait(timeout=120)
    finally:  # never leave a paused stage or dvc behind, whatever failed
        for pid_file in pause.glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert proc.returncode != 0, output
    return killed, output, snapshots


def test_kill_each_long_stage_midway_then_finish(tmp_path, tiny_model_dir):
    root = tmp_path / "study"
    root.mkdir()
    env = dict(os.environ, EMX_TEST_JUDGE_KEY=SECRET, OPENAI_API_KEY=OPENAI_SECRET,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    outputs = []
    with FlakyJudge() as server:
        run([*EMX, "init", str(root)], cwd=root)
        shutil.copytree(tiny_model_dir, root / "models" / "tiny")
        (root / "experiments" / "quickstart.emx").unlink()
        (root / "experiments" / "killed.emx").write_text(EXPERIMENT.format(url=server.url))
        outputs.append(run([*EMX, "compile"], cwd=root).stdout)
        params = Source(root).params()["stages"]

        for kinds in (("train", "generate", "sae"), ("judge",)):  # a judge needs answers
            killed, output, snapshots = repro_killing(root, env, kinds, server)
            outputs.append(output)
            assert set(killed) == set(kinds), output[-3000:]  # (both judges: base, tuned)
            lock = root / "dvc.lock"
            locked = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) \
                if lock.exists() else {}
            for name in ran_stages(output) & {n for n in params if n.split("-")[0] in kinds}:
                entry = params[name]
                # nothing a later run would trust: no final out, no results, no lock entry
                assert not (root / entry["out"]).exists(), name
                if entry.get("results"):
                    assert not list((root / entry["results"]).glob("*")), name
                assert name not in locked, name
        for cached, _ in snapshots:  # verdicts committed before a kill are still there
            assert cached and cached <= verdicts(root)

        final = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=root, env=env,
                               capture_output=True, text=True)
        outputs.append(final.stdout + final.stderr)
        assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
        assert server.auth == {f"Bearer {SECRET}"}
    status = run([sys.executable, "-m", "dvc", "status"], cwd=root)
    assert "up to date" in status.stdout
    for name, entry in params.items():
        assert (root / entry["out"]).is_dir(), name
    # nothing cached before a kill was asked for again afterwards
    identity = OpenAIBackend(model="fake-judge", base_url=server.url).identity
    for cached, sent in snapshots:
        before = [p for p in sent if JudgeCache.key(identity, p) in cached]
        assert before and all(server.prompts[p] == sent[p] for p in before)
    assert not list(root.rglob(".*.tmp-*")), "temporary outputs left behind"

    # the keys are nowhere: no file under the project (.dvc, dvc.lock, params, results,
    # artifacts, the judge cache, git) and no output of any command
    leaks = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
             and any(s.encode() in p.read_bytes() for s in (SECRET, OPENAI_SECRET))]
    leaks += [f"output {i}" for i, text in enumerate(outputs)
              if SECRET in text or OPENAI_SECRET in text]
    assert not leaks, leaks
