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

Found, its heads and training audit are restored (checked against the entry's manifest) and
the training is skipped; the stage's outputs are the same bytes either way (the heads are
always read back from the file the cache keeps). Entries are ``stages.lib.machine_store``
entries: written atomically, a damaged one deleted and trained again. Delete the folder to
retrain everything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from stages.lib import machine_store
from stages.lib.machine_store import folder_hash

KIND = "probes"  # $EMX_CACHE/probes/<key>/
VERSION = 2  # 2: entries carry machine_store's manifest
HEADS, AUDIT = "probe.safetensors", "audit.json"
# The code the training runs (beside torch): a change to any of these retrains.
CODE = ("judge_train.py", "common.py", "lib/probes.py", "lib/activations.py",
        "lib/models.py", "lib/judging/metrics.py", "lib/probe_store.py")


def cache_root() -> Path:
    return machine_store.cache_root(KIND)


def training_key(model_dir: Path, rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    """The content address of one training: everything it reads."""
    code = machine_store.code_hash([machine_store.STAGES / rel for rel in CODE], ("torch",))
    payload = {"version": VERSION, "model": folder_hash(model_dir), "code": code,
               "settings": settings,
               "rows": hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False)
                                      .encode()).hexdigest()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def lookup(key: str) -> Path | None:
    """The entry trained for ``key``, if a complete one is here."""
    return machine_store.lookup(KIND, key)


def restore(entry: Path, heads: Path) -> dict[str, Any] | None:
    """The entry's heads copied to ``heads`` and its training audit, both checked against
    its manifest; None when the entry was damaged (then deleted: train again)."""
    audit = machine_store.read(entry, AUDIT)
    if audit is None or not machine_store.restore(entry, {HEADS: heads}):
        return None
    return json.loads(audit)


def store(key: str, heads: Path, audit: dict[str, Any]) -> Path | None:
    """Keep a copy of ``heads`` (the saved probe file) and its training ``audit`` under
    ``key``; None (and nothing kept) when the cache folder cannot be written."""
    import shutil

    def fill(folder: Path) -> None:
        shutil.copyfile(heads, folder / HEADS)
        (folder / AUDIT).write_text(json.dumps(audit, indent=2, sort_keys=True,
                                               allow_nan=False) + "\n", encoding="utf-8")

    return machine_store.store(KIND, key, fill)
