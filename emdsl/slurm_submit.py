"""Talking to Slurm: submit a shard array and its gather job, and read their states back.

``emdsl.slurm`` writes the scripts; this module only runs ``sbatch``, ``scontrol`` and
``sacct``. Job ids are kept in ``slurm/<name>.jobs.json`` so ``emx slurm --status`` finds them
later. Without accounting (no slurmdbd) ``sacct`` fails; ``scontrol`` knows a job until
``MinJobAge`` after it ends, which is what the status shows first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "BOOT_FAIL", "DEADLINE", "GONE"}


class SlurmError(RuntimeError):
    """A Slurm command is missing or refused; the message says what to do."""


@dataclass(frozen=True)
class Submitted:
    file: str
    shards: int
    array: str
    gather: str
    submitted: str  # local time, for the status header


@dataclass(frozen=True)
class JobRow:
    job: str  # "12_1" for an array task, "12_[1-2]" for its pending rest, "13" otherwise
    name: str
    state: str
    exit_code: str = ""
    elapsed: str = ""
    reason: str = ""


def _tool(name: str, array: Path) -> str:
    found = shutil.which(name)
    if not found:
        raise SlurmError(f"{name} not found: run on a Slurm login node, or submit "
                         f"{array} yourself (see the commands above)")
    return found


def _sbatch(args: list[str], cwd: Path, array: Path) -> str:
    done = subprocess.run([_tool("sbatch", array), "--parsable", *args], cwd=cwd,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SlurmError(f"sbatch {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip().split(";")[0]  # "ID" or "ID;CLUSTER"


def submit(array: Path, gather: Path, cwd: Path, file: str, shards: int) -> Submitted:
    """The array, then the gather job after it succeeds (cancelled if a task fails, so it
    never waits forever). ``cwd`` is the project root: the logs' paths are relative to it."""
    array_id = _sbatch([str(array)], cwd, array)
    try:
        gather_id = _sbatch([f"--dependency=afterok:{array_id}", "--kill-on-invalid-dep=yes",
                             str(gather)], cwd, array)
    except SlurmError as e:
        raise SlurmError(f"{e} (array job {array_id} was submitted; submit {gather} after "
                         f"it yourself)") from None
    return Submitted(file, shards, array_id, gather_id, time.strftime("%Y-%m-%d %H:%M:%S"))


def save(record: Submitted, path: Path) -> None:
    path.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> Submitted:
    return Submitted(**json.loads(path.read_text(encoding="utf-8")))


def _fields(record: str) -> dict[str, str]:
    """``scontrol -o`` prints ``Key=Value`` pairs; values have no spaces, except a few
    trailing ones we do not read."""
    return dict(pair.split("=", 1) for pair in record.split() if "=" in pair)


def _from_scontrol(job_id: str) -> list[JobRow] | None:
    scontrol = shutil.which("scontrol")
    if not scontrol:
        return None
    done = subprocess.run([scontrol, "-o", "show", "job", job_id], capture_output=True,
                          text=True)
    if done.returncode != 0:
        return None  # not (or no longer) known to the controller
    rows = []
    for line in done.stdout.splitlines():
        f = _fields(line)
        if "JobId" not in f:
            continue
        task = f.get("ArrayTaskId")
        job = f"{f.get('ArrayJobId')}_{task}" if task and "-" not in task and "," not in task \
            else f"{f.get('ArrayJobId')}_[{task}]" if task else f["JobId"]
        reason = f.get("Reason", "")
        rows.append(JobRow(job, f.get("JobName", ""), f.get("JobState", "?"),
                           f.get("ExitCode", ""), f.get("RunTime", ""),
                           "" if reason == "None" else reason))
    return rows


def _from_sacct(job_id: str) -> list[JobRow] | None:
    sacct = shutil.which("sacct")
    if not sacct:
        return None
    done = subprocess.run([sacct, "-n", "-P", "-X", "-j", job_id, "-o",
                           "JobID,JobName,State,ExitCode,Elapsed,Reason"],
                          capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        return None  # accounting is off ("Slurm accounting storage is disabled")
    rows = []
    for line in done.stdout.splitlines():
        job, name, state, code, elapsed, reason = (line.split("|") + [""] * 6)[:6]
        rows.append(JobRow(job, name, state.split()[0] if state else "?", code, elapsed,
                           "" if reason == "None" else reason))
    return rows


def job_states(job_ids: list[str]) -> list[JobRow]:
    """One row per job or array task, from the controller, else accounting; a job neither
    knows any more is GONE."""
    rows: list[JobRow] = []
    for job_id in job_ids:
        found = _from_scontrol(job_id) or _from_sacct(job_id)
        rows.extend(sorted(found, key=lambda r: _order(r.job)) if found else
                    [JobRow(job_id, "", "GONE", reason="ended; not in the controller any "
                                                        "more, and sacct has no record")])
    return rows


def _order(job: str) -> tuple[int, str]:
    task = job.partition("_")[2]
    return (int(task), "") if task.isdigit() else (1 << 30, task)


def finished(rows: list[JobRow]) -> bool:
    return bool(rows) and all(r.state in TERMINAL for r in rows)


def table(rows: list[JobRow]) -> str:
    head = ("JOB", "NAME", "STATE", "EXIT", "TIME", "REASON")
    cells = [head, *((r.job, r.name, r.state, r.exit_code, r.elapsed, r.reason) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip()
                     for cell in cells)
