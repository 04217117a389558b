"""Git in test repositories: run a command, commit everything (with a fixed identity)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=emx tests", "-c", "user.email=tests@emdsl.invalid", "commit",
        "-qm", message)
