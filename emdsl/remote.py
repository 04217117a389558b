"""Sharing work between machines through a DVC remote: outputs *and* the run-cache.

The run-cache maps (command, deps, params) to outputs, so a machine that never saw another's
``dvc.lock`` still recognises a stage it ran: ``dvc repro --pull`` restores it instead of
recomputing. ``emx push`` sends both; ``emx pull`` fetches the run-cache and restores every
stage it can (``EMX_RESTORE_ONLY`` makes a stage that is not there exit instead of running).

DVC runs as a subprocess (``python -m dvc``), never imported here.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

RESTORE_ONLY = "EMX_RESTORE_ONLY"  # = stages.common.RESTORE_ONLY (not imported: no stages here)


def dvc_env(**extra: str) -> dict[str, str]:
    """Run DVC (and the stages it starts) with this interpreter's ``python`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def dvc(args: list[str], root: Path, **env: str) -> int:
    return subprocess.call([sys.executable, "-m", "dvc", *args], cwd=root, env=dvc_env(**env))


def default_remote(root: Path) -> str | None:
    """The ``core.remote`` of ``.dvc/config`` (``config.local`` wins), or None."""
    found = None
    for name in ("config", "config.local"):
        path = root / ".dvc" / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error:
            continue
        found = parser.get("core", "remote", fallback=found)
    return found or None


def add_remote(root: Path, name: str, url: str, default: bool) -> int:
    """``dvc remote add [--default] NAME URL``; a relative directory URL is kept relative to
    the project root (DVC resolves it against ``.dvc/``), so clones agree."""
    if "://" not in url and not os.path.isabs(url):
        url = os.path.relpath(os.path.abspath(url), root / ".dvc")
    return dvc(["remote", "add", "--force", *(["--default"] if default else []), name, url],
               root)


def push(root: Path, remote: str | None = None) -> int:
    """Outputs, the judge cache (``judge-cache.dvc`` when tracked) and the run-cache."""
    rc = dvc(["push", "--run-cache", *(["--remote", remote] if remote else [])], root)
    return rc or push_uncached(root, remote)


def push_uncached(root: Path, remote: str | None = None) -> int:
    """Push the small ``cache: false`` outputs (metrics, plots) too.

    git tracks them, but a machine restoring a stage from the run-cache checks them out from
    the cache like any output; DVC's push skips them, so they would be missing there.
    """
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        objs = {out.hash_info for stage in repo.index.stages for out in stage.outs
                if not out.use_cache and out.hash_info and out.hash_info.value
                and out.exists}
        if not objs:
            return 0
        result = repo.cloud.push(objs, remote=remote)
    if result.failed:
        print(f"emx push: {len(result.failed)} metrics/plots files failed to push",
              file=sys.stderr)
        return 1
    return 0


def fetch_run_cache(root: Path, remote: str | None = None) -> int:
    """Download the remote's run-cache entries (small files; outputs come on demand)."""
    return dvc(["fetch", "--run-cache", *(["--remote", remote] if remote else [])], root)


def restore(root: Path, targets: list[str]) -> int:
    """Restore ``targets`` (all stages when empty) from the run-cache, downloading their
    outputs from the default remote; compute nothing. Non-zero when some were not there."""
    return dvc(["repro", "--pull", "--keep-going", *targets], root, **{RESTORE_ONLY: "1"})


def pull(root: Path, remote: str | None = None) -> int:
    """Everything other machines pushed: outputs in ``dvc.lock``, then every stage the
    run-cache knows. Returns 0 when something is missing too (``dvc repro`` computes it)."""
    if fetch_run_cache(root, remote) != 0:
        return 1
    if (root / "dvc.lock").exists() or any(p.is_file() for p in root.glob("*.dvc")):
        dvc(["pull", *(["--remote", remote] if remote else [])], root)  # what git tracks
    if (root / "dvc.yaml").exists() and restore(root, []) != 0:
        print("emx pull: some stages are not in the remote's run-cache yet; `dvc repro` "
              "computes them (stages that failed above with `not in the run-cache`)",
              file=sys.stderr)
    return 0
