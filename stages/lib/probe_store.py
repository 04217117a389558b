"""Trained probe judges shared by every study on this machine, content-addressed.

Training the probe judge reads the training answers through its model (minutes on a loaded
laptop), and every new study trains the same one: same embedded model, same ``builtin("judge")``
answers, same config. So a judge_train stage first looks here, under ``$EMX_CACHE/probes``
(default ``~/.cache/emdsl/probes``; outside every study, like a package cache), for a probe
trained from exactly what this training would read:

- the model folder's bytes (every file, names and contents);
- the training answers, after a teacher's labels (the records themselves, hashed);
- the probe's training settings (layer, seed) and the code that trains it (the source
  files below, torch's version).

Found, its heads and training audit are restored and the training is skipped; the stage's
outputs are the same bytes either way (the heads are always read back from the file the
cache keeps). Entries are written atomically (a temporary folder renamed into place), so a
killed stage never leaves half an entry, and two stages training the same probe at once
both finish (one keeps the other's entry). Delete the folder to retrain everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "EMX_CACHE"
VERSION = 1
HEADS, AUDIT = "probe.safetensors", "audit.json"
_STAGES = Path(__file__).resolve().parents[1]
# The code the training runs (beside torch): a change to any of these retrains.
CODE = ("judge_train.py", "common.py", "lib/probes.py", "lib/activations.py",
        "lib/models.py", "lib/judging/metrics.py", "lib/probe_store.py")


def cache_root() -> Path:
    """``$EMX_CACHE/probes``, else ``$XDG_CACHE_HOME/emdsl/probes``, else ``~/.cache/...``."""
    base = os.environ.get(CACHE_ENV)
    if base:
        return Path(base) / "probes"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "emdsl" / "probes"


def folder_hash(folder: Path) -> str:
    """sha256 of every file under ``folder``: relative names and full contents."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(folder).as_posix()}\x00{path.stat().st_size}\x00".encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def code_hash() -> str:
    import torch

    h = hashlib.sha256(f"torch {torch.__version__}\x00".encode())
    for rel in CODE:
        h.update(rel.encode() + b"\x00" + (_STAGES / rel).read_bytes() + b"\x00")
    return h.hexdigest()


def training_key(model_dir: Path, rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    """The content address of one training: everything it reads."""
    payload = {"version": VERSION, "model": folder_hash(model_dir), "code": code_hash(),
               "settings": settings,
               "rows": hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False)
                                      .encode()).hexdigest()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def lookup(key: str) -> Path | None:
    """The entry trained for ``key``, if a complete one is here."""
    entry = cache_root() / key
    return entry if (entry / HEADS).is_file() and (entry / AUDIT).is_file() else None


def store(key: str, heads: Path, audit: dict[str, Any]) -> Path | None:
    """Keep a copy of ``heads`` (the saved probe file) and its training ``audit`` under
    ``key``; None (and nothing kept) when the cache folder cannot be written."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=root))
    except OSError:
        return None
    try:
        shutil.copyfile(heads, tmp / HEADS)
        (tmp / AUDIT).write_text(json.dumps(audit, indent=2, sort_keys=True, allow_nan=False)
                                 + "\n", encoding="utf-8")
        os.replace(tmp, root / key)
    except (OSError, ValueError):  # stored by another stage first (a non-empty target),
        # a full disk, or an audit JSON cannot hold
        shutil.rmtree(tmp, ignore_errors=True)
        return lookup(key)
    return root / key
