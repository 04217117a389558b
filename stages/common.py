"""What every stage shares: reading its resolved config, atomic outputs, progress, seeds.

A stage runs as ``python -m stages.<kind> <stage-name>``. ``emx compile`` wrote its resolved
config to ``params.yaml`` under ``stages.<stage-name>``::

    stages:
      train-medical-poison_0.5-seed_0:
        kind: train
        key: 1a2b3c4d5e6f                      # hash of config + input keys
        out: artifacts/train/1a2b3c4d5e6f      # cached DVC out (a directory)
        results: results/train-medical-...     # small git-tracked files (metrics, plots)
        inputs: {model: artifacts/model/..., data: artifacts/data/...}
        config: {...}                          # the resolved, defaults-filled config

Outputs are written into a temporary sibling directory and renamed into place only when the
stage succeeds, so a killed stage never leaves a directory that looks finished.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

PARAMS_FILE = Path("params.yaml")


class StageError(Exception):
    """A problem the user can fix; printed as one clear line, without a traceback."""


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str
    key: str
    config: dict[str, Any]
    out: Path
    results: Path | None = None
    inputs: dict[str, Path] = field(default_factory=dict)

    def input(self, role: str) -> Path:
        """Path of the out of the input stage playing ``role`` (e.g. "model", "data")."""
        try:
            return self.inputs[role]
        except KeyError:
            raise StageError(f"stage {self.name!r} has no input {role!r}; "
                             f"it has {sorted(self.inputs)}. Re-run `emx compile`.") from None


def load_stage(name: str, params_file: Path = PARAMS_FILE) -> Stage:
    """Read one stage's resolved config from params.yaml."""
    if not params_file.exists():
        raise StageError(f"{params_file} not found; run `emx compile` first")
    with open(params_file, encoding="utf-8") as f:
        params = yaml.safe_load(f) or {}
    stages = params.get("stages") or {}
    if name not in stages:
        raise StageError(f"{params_file}: no stage {name!r}; run `emx compile` to regenerate it")
    entry = stages[name]
    return Stage(
        name=name,
        kind=entry["kind"],
        key=entry["key"],
        config=entry.get("config") or {},
        out=Path(entry["out"]),
        results=Path(entry["results"]) if entry.get("results") else None,
        inputs={role: Path(p) for role, p in (entry.get("inputs") or {}).items()},
    )


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``final`` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final) if final.is_dir() else final.unlink()
    os.replace(tmp, final)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file via a temp file + rename, so readers never see half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def progress(items: Iterable[T], desc: str, total: int | None = None,
             unit: str = "it") -> Iterator[T]:
    """A tqdm progress bar on stderr (quiet when EMX_NO_PROGRESS is set, e.g. in CI logs)."""
    from tqdm.auto import tqdm

    disable = bool(os.environ.get("EMX_NO_PROGRESS"))
    yield from tqdm(items, desc=desc, total=total, unit=unit, disable=disable, dynamic_ncols=True)


def seed_everything(seed: int) -> None:
    """Fix Python, NumPy and torch RNGs so a stage's output is a function of its config."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def log(stage: Stage | str, message: str) -> None:
    name = stage.name if isinstance(stage, Stage) else stage
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {message}", file=sys.stderr, flush=True)


def run_stage(kind: str, body: Callable[[Stage, Path, Path | None], None],
              argv: list[str] | None = None) -> int:
    """Entry point of ``python -m stages.<kind> <stage-name>``.

    ``body(stage, out, results)`` writes into temporary directories; they replace
    ``stage.out`` and ``stage.results`` only when it returns normally.
    """
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python -m stages.{kind} STAGE-NAME", file=sys.stderr)
        return 2
    try:
        stage = load_stage(argv[0])
        if stage.kind != kind:
            raise StageError(f"stage {stage.name!r} is a {stage.kind!r} stage, not {kind!r}")
        start = time.perf_counter()
        with atomic_dir(stage.out) as out:
            if stage.results is None:
                body(stage, out, None)
            else:
                with atomic_dir(stage.results) as results:
                    body(stage, out, results)
        log(stage, f"done in {time.perf_counter() - start:.1f}s -> {stage.out}")
        return 0
    except StageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
