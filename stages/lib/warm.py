"""A warm stage worker: torch, transformers and peft imported once per ``emx run``, and every
stage that DVC starts forked from that process instead of importing them again.

Why: a stage process spends about 3 s importing torch and transformers (4 s with peft) before
it does anything, and the quickstart starts 13 such processes. DVC still runs each stage as
its own command (``python -m stages.<kind> NAME``), so a stage is the same stage with or
without the worker: what it reads, writes and prints does not change, only where the Python
that runs it came from.

How::

    emx run ──starts──> python -m stages.lib.warm SOCKET        (the server: imports PRELOAD)
       └─ dvc repro ──> python -m stages.judge NAME              (the client: cheap imports only)
                          │ connect(SOCKET), send argv, cwd, env and its stdin/stdout/stderr
                          └── server forks ──> child: chdir, env, the client's fds on 0/1/2,
                                               runs ``stages.judge`` as __main__, sends its
                                               exit code back; the client exits with it

- The client (:func:`delegate`, called first by ``run_stage``) falls back to running the
  stage itself whenever the worker cannot take it: no ``$EMX_WARM`` (plain ``dvc repro``,
  Slurm jobs), no server listening, another interpreter or import-time environment
  (``HF_*``, ``TRANSFORMERS_*``, ``PYTHON*``, ...: a module imported once would have read the
  server's), or ``EMX_WARM=0``.
- Signals the client gets (dvc stopping it, Ctrl-C) are passed on to the child; a client that
  dies (SIGKILL) closes its connection, and the child then ends itself.
- The server imports only third-party packages, never ``stages.*`` or ``emdsl.*``: each child
  imports the project's own code fresh, so an edited stage runs as edited.
- Linux only by default: forking a process that imported torch is safe there while no torch
  op has run in it yet (no thread pool exists to copy); macOS's fork is not.

One connection, newline-delimited JSON, the client's three fds riding on the request::

    client -> server   {"module", "argv", "cwd", "env", "interpreter", "path", "startup"}
    server -> client   {"pid": N}   (or {"cold": reason}: run it yourself)
    server -> client   {"exit": code}
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "EMX_WARM"  # the server's socket path, set by `emx run`; "0" turns the worker off
STARTUP_ENV = "EMX_WARM_STARTUP"  # the client's own start-up seconds, for the stage's log

# Imported by the server, in this order, one at a time between connections (a waiting stage
# waits for at most one import). Missing ones are skipped: they are only a head start.
PRELOAD = (
    "torch",
    "transformers",
    "transformers.modeling_utils",
    "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto",
    "transformers.models.llama.modeling_llama",
    "safetensors.torch",
    "peft",
    "trl",
    "datasets",
    "polars",
)

# Environment variables read when those packages are imported: a client whose values differ
# from the server's runs cold. The thread counts are applied in the child instead.
IMPORT_TIME = ("HF_", "HUGGINGFACE", "TRANSFORMERS", "TOKENIZERS", "SAFETENSORS", "TORCH",
               "PYTORCH", "CUDA", "NVIDIA", "ROCM", "HIP_", "PYTHON", "LD_", "KMP_", "GOMP_",
               "MKL_", "OMP_", "XDG_CACHE_HOME", "TRL_", "PEFT_", "ACCELERATE_", "DATASETS_")
THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def supported() -> bool:
    """Where the worker is used at all: Linux (see the module docstring) with fd passing."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") \
        and os.environ.get(ENV) != "0"


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _lines(conn: socket.socket):
    """The JSON messages arriving on ``conn``, until it closes."""
    buffer = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except InterruptedError:
            continue
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


def interpreter() -> list[str]:
    """Which Python this is: its binary and its environment. ``.venv/bin/python`` and
    ``python3`` are one interpreter (console scripts such as ``emx`` start the latter, DVC's
    stage commands the former); two venvs on one base Python are not."""
    return [os.path.realpath(sys.executable), sys.prefix]


def env_mismatch(ours: dict[str, str], theirs: dict[str, str]) -> str | None:
    """The first import-time variable set differently in ``theirs``, or None."""
    for name in sorted(set(ours) | set(theirs)):
        if name.startswith(IMPORT_TIME) and name not in THREADS \
                and ours.get(name) != theirs.get(name):
            return name
    return None


# --------------------------------------------------------------------------- the client


def delegate(module: str) -> int | None:
    """Run ``python -m <module> ...`` (this process's argv) in the warm worker: its exit code,
    or None when the worker cannot take it and this process should run the stage itself."""
    path = os.environ.get(ENV)
    if not path or not supported():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        request = {"module": module, "argv": sys.argv, "cwd": os.getcwd(),
                   "env": dict(os.environ), "interpreter": interpreter(),
                   "path": sys.path, "startup": process_age()}
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        replies = _lines(conn)
        first = next(replies, None)
    except OSError:
        conn.close()
        return None
    if first is None or "cold" in first:
        conn.close()
        return None
    return _wait_for(conn, int(first["pid"]), replies)


def _wait_for(conn: socket.socket, pid: int, replies) -> int:
    """Pass this process's signals to the child ``pid`` until its exit code arrives."""
    def forward(signum: int, frame: Any) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    with conn:
        for message in replies:
            if "exit" in message:
                return int(message["exit"])
    print(f"error: the warm stage worker's process {pid} ended without an exit code (killed?); "
          f"rerun the stage, or set {ENV}=0 to run stages without the worker", file=sys.stderr)
    return 1


def process_age() -> float | None:
    """Seconds since this process started (Linux /proc)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in
                    Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        return max(0.0, time.time() - (boot + ticks / os.sysconf("SC_CLK_TCK")))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


# --------------------------------------------------------------------------- the launcher


@contextmanager
def started(root: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A server for the block, run in ``root`` with ``env`` (what DVC's stages get): yields
    the variables to add to DVC's environment (``{}`` where the worker is not used)."""
    if not supported():
        yield {}
        return
    folder = tempfile.mkdtemp(prefix="emx-warm-")  # private (0700); short, as sockets need
    path = os.path.join(folder, "socket")
    proc = subprocess.Popen([sys.executable, "-m", __name__, path, str(os.getpid())],
                            cwd=root, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        yield {ENV: path} if os.path.exists(path) else {}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- the server


def serve(path: str, parent: int) -> None:
    """Listen on ``path``; import PRELOAD between connections; fork a child per connection.
    Ends when ``parent`` (the ``emx run`` that started it) is gone, or on SIGTERM."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is emx's to handle
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(64)
    env = dict(os.environ)
    pending = list(PRELOAD)
    while os.getppid() == parent:
        ready, _, _ = select.select([server], [], [], 0 if pending else 1.0)
        if ready:
            conn, _ = server.accept()
            _fork_child(server, conn, env)
            conn.close()
        elif pending:
            _preload(pending.pop(0))


def _preload(name: str) -> None:
    try:
        importlib.import_module(name)
    except Exception as e:  # a head start only; the stage reports real errors
        print(f"warm worker: {name} not preloaded ({type(e).__name__}: {e})", file=sys.stderr)


def _fork_child(server: socket.socket, conn: socket.socket, env: dict[str, str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() != 0:
        return
    try:
        server.close()
        code = _child(conn, env)
    except BaseException:  # the child must never return into the server loop
        code = 1
    os._exit(code)


def _child(conn: socket.socket, server_env: dict[str, str]) -> int:
    """In the forked child: become the client's process, run its module, report the code."""
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not message.endswith(b"\n"):  # the rest of a request longer than one read
        chunk = conn.recv(1 << 20)
        if not chunk:
            return 1
        message += chunk
    request = json.loads(message)
    reason = _refusal(request, server_env)
    if reason is not None or len(fds) != 3:
        _send(conn, {"cold": reason or "no stdio"})
        return 0
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=os.isatty(stream.fileno()))
    os.chdir(request["cwd"])
    sys.path[:] = request["path"]
    for name in [m for m in sys.modules if m == "stages" or m.startswith("stages.")]:
        del sys.modules[name]  # the project's code is imported fresh, from the client's folder
    os.environ.clear()
    os.environ.update({k: v for k, v in request["env"].items() if k != ENV})
    if request.get("startup") is not None:
        os.environ[STARTUP_ENV] = str(request["startup"])
    _threads(server_env)
    sys.argv = list(request["argv"])
    _send(conn, {"pid": os.getpid()})
    threading.Thread(target=_end_with_client, args=(conn,), daemon=True).start()
    code = _run_module(request["module"])
    atexit._run_exitfuncs()  # what a process exiting normally would run (os._exit skips it)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        _send(conn, {"exit": code})
    except OSError:
        pass
    return code


def _refusal(request: dict[str, Any], server_env: dict[str, str]) -> str | None:
    """Why this process cannot stand in for the client, or None. (Its folder and sys.path
    may differ, as in ``emx run --jobs``'s scratch copies: the child takes the client's and
    imports the project's code from there.)"""
    if request.get("interpreter") != interpreter():
        return f"another interpreter ({request.get('interpreter')})"
    name = env_mismatch(server_env, request.get("env", {}))
    return f"${name} differs from the worker's" if name else None


def _threads(server_env: dict[str, str]) -> None:
    """OMP/MKL thread counts are read when torch loads: apply the client's explicitly."""
    wanted = next((os.environ[v] for v in THREADS
                   if os.environ.get(v) and os.environ.get(v) != server_env.get(v)), None)
    if wanted and wanted.isdigit() and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(wanted))


def _end_with_client(conn: socket.socket) -> None:
    """The client sends nothing after its request: end this child when it hangs up."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _run_module(module: str) -> int:
    import runpy
    import traceback

    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return int(e.code or 0)
        print(e.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BaseException:  # printed as Python would, then the exit code 1
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
