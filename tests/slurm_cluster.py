"""A real one-node Slurm in a temporary folder: munged, slurmctld and slurmd from the OS
packages (slurm-wlm, munge; `.ci/run` installs them), on free ports, stopped at the end.

No systemd and no cgroups: processes are tracked by parent id (proctrack/linuxproc) and tasks
are not bound (task/none). Clients find the cluster through ``SLURM_CONF``, which the
context manager sets in ``os.environ`` (``sbatch`` passes it on to the jobs).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "scancel")
REQUIRE_ENV = "EMX_REQUIRE_SLURM"  # set by CI: a missing Slurm fails instead of skipping


@dataclass(frozen=True)
class Cluster:
    folder: Path
    conf: Path
    node: str


def missing() -> str | None:
    """Why no cluster can start here, or None."""
    absent = [t for t in (*DAEMONS, *CLIENTS) if not shutil.which(t)]
    if absent:
        return (f"Slurm/munge not installed ({', '.join(absent)} missing): "
                "apt-get install slurm-wlm munge (.ci/run does)")
    if os.geteuid() != 0:
        return "slurmd launches jobs only as root"
    return None


def _free_ports(n: int) -> list[int]:
    with ExitStack() as stack:
        socks = [stack.enter_context(closing(socket.socket())) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def _conf(folder: Path, node: str, ports: list[int], munge_socket: Path) -> str:
    cpus = len(os.sched_getaffinity(0))
    return "\n".join([
        "ClusterName=emxtest", f"SlurmctldHost={node}(127.0.0.1)",
        f"SlurmctldPort={ports[0]}", f"SlurmdPort={ports[1]}",
        "SlurmUser=root", "SlurmdUser=root",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={folder / 'state'}", f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}", f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none", "MpiDefault=none", "ReturnToService=2",
        "SchedulerType=sched/builtin", "MinJobAge=3600", "MailProg=/bin/true",
        f"NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""])


def _die_with_parent() -> None:
    """SIGTERM the daemon when the test process dies without cleaning up (killed)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_die_with_parent)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to its process group (slurmd's job steps too), SIGKILL after 15 s."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group
    except (ProcessLookupError, PermissionError):
        pass


def logs(folder: Path) -> str:
    """The daemons' logs, tails, for an assertion message."""
    parts = []
    for path in sorted((folder / "log").glob("*")):
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(f"--- {path.name}\n{text[-3000:]}")
    return "\n".join(parts)


def _wait_idle(folder: Path, procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
        state = done.stdout.strip()
        if done.returncode == 0 and state in ("idle", "mix", "alloc"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the one-node Slurm did not come up (node state {state!r})\n"
                       + logs(folder))


@contextmanager
def slurm_cluster(folder: Path, timeout: float = 60) -> Iterator[Cluster]:
    """Start munged, slurmctld and slurmd under ``folder``; stop them (and any job) on exit."""
    for sub in ("munge", "state", "spool", "log"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    munge = folder / "munge"
    munge.chmod(0o755)  # clients reach the socket through it
    key = munge / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    node = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(_conf(folder, node, _free_ports(2), munge / "munge.socket"),
                    encoding="utf-8")
    old_conf = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start(["munged", "-F", "--force", f"--socket={munge / 'munge.socket'}",
                             f"--key-file={key}", f"--pid-file={munge / 'munged.pid'}",
                             f"--seed-file={munge / 'munged.seed'}",
                             f"--log-file={folder / 'log' / 'munged.log'}"],
                            folder / "log" / "munged.out"))
        deadline = time.monotonic() + timeout
        while not (munge / "munge.socket").exists() and time.monotonic() < deadline:
            if procs[0].poll() is not None:
                break
            time.sleep(0.1)
        procs.append(_start(["slurmctld", "-D", "-f", str(conf)],
                            folder / "log" / "slurmctld.out"))
        procs.append(_start(["slurmd", "-D", "-f", str(conf), "-N", node],
                            folder / "log" / "slurmd.out"))
        _wait_idle(folder, procs, timeout)
        yield Cluster(folder, conf, node)
    finally:
        if len(procs) == 3 and procs[1].poll() is None:
            subprocess.run(["scancel", "--quiet", "--user=root"], capture_output=True)
            _wait_no_jobs(timeout=30)
        for proc in reversed(procs):
            _stop(proc)
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf


def _wait_no_jobs(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%T"], capture_output=True,
                              text=True)
        live = [s for s in done.stdout.split() if s not in ("COMPLETED", "CANCELLED",
                                                           "FAILED", "TIMEOUT")]
        if done.returncode != 0 or not live:
            return
        time.sleep(0.5)
