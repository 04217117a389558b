"""The workspace lock: one ``emx run`` or ``emx compile`` at a time in a project.

Two at once lose both runs' work: the second rewrites params.yaml under the first, then fails on
DVC's own lock. So each takes an advisory ``flock`` on ``.emx/lock`` under the project root
before it writes any file; a second one fails at once naming the holder (or, with ``--wait``,
blocks until the holder ends). The kernel drops the lock when its holder dies, so a killed run
never leaves the workspace locked; the file stays, only its contents (holder's pid and command,
for the message) are cleared on release.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(".emx") / "lock"
WAIT_HELP = "if another `emx run`/`emx compile` holds this workspace, wait for it, not fail"


class WorkspaceBusy(Exception):
    """Another emx command holds the workspace; the message names it and the way out."""


@contextmanager
def workspace_lock(root: Path, command: str, wait: bool = False) -> Iterator[None]:
    """Hold the workspace lock of ``root`` for the block, as ``emx <command>``.

    Raises :class:`WorkspaceBusy` when another process holds it, unless ``wait``: then it
    says once whom it waits for and blocks until the lock is free.
    """
    path = root / LOCK_FILE
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            if not wait:
                raise WorkspaceBusy(f"another {holder} holds this workspace ({LOCK_FILE}); "
                                    "wait for it, or pass --wait")
            print(f"emx: waiting for {holder} to release this workspace ({LOCK_FILE})",
                  file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _write(fd, f"{os.getpid()} {command}\n")
        try:
            yield
        finally:
            _write(fd, "")
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    """``emx run` (pid 1234)`` from the lock file, or a vaguer phrase when it is not yet
    written (the holder is between taking the lock and recording itself)."""
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    if len(text) == 2 and text[0].isdigit():
        return f"`emx {text[1]}` (pid {text[0]})"
    return "emx command"


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)
