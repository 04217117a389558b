"""What every stage shares: reading its resolved config, atomic outputs, progress, seeds.

A stage runs as ``python -m stages.<kind> <stage-name>``. ``emx compile`` wrote its resolved
config to ``params.yaml`` under ``stages.<stage-name>`` and its bookkeeping to the stage's
``meta`` in ``dvc.yaml`` (which DVC ignores, so ``dvc params diff`` shows only configs)::

    # params.yaml
    stages:
      train-medical-poison_0.5-seed_0:
        schema: 2
        config: {...}                          # the resolved, defaults-filled config
    # dvc.yaml
    stages:
      train-medical-poison_0.5-seed_0:
        meta:
          kind: train
          key: 1a2b3c4d5e6f                    # hash of config + input keys
          out: artifacts/train/1a2b3c4d5e6f    # cached DVC out (a directory)
          results: results/train-medical-...   # small git-tracked files (metrics, plots)
          inputs: {model: artifacts/model/..., data: artifacts/data/...}

Outputs are written into a temporary sibling directory and renamed into place only when the
stage succeeds, so a killed stage never leaves a directory that looks finished.
Every path a stage writes or removes resolves inside the project (the folder DVC runs it in,
which holds params.yaml): an out or results path leading out, through ``..`` or a symlinked
``results``/``artifacts``/stage folder, is refused before anything is written.

Outs and results hold only what the inputs determine, byte for byte (sorted JSON keys, no
times, no cache hit counts), so a recompute leaves DVC's hashes alone and machines can share
outs. What varies between runs goes to the log and to the run record
``.emx/runs/<stage>.json`` (``note_run``), outside every out.
"""

from __future__ import annotations

import builtins
import csv
import functools
import io
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

from emdsl.schema.detail import DETAIL, headline, metrics_file
from emdsl.schema.entry import SchemaError, StageEntry, merged, read_stage_file
from stages.lib import warm

T = TypeVar("T")

PARAMS_FILE = Path("params.yaml")
DVC_FILE = "dvc.yaml"  # beside params.yaml: each stage's `meta` (kind, key, out, inputs)


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
    found = read_stage_file(params_file, name)
    if found is None:
        raise StageError(f"{params_file}: no stage {name!r}; run `emx compile` to regenerate it")
    if "kind" not in found:  # schema 2: the bookkeeping is the stage's meta in dvc.yaml
        dvc_file = params_file.parent / DVC_FILE
        stage = read_stage_file(dvc_file, name) if dvc_file.is_file() else None
        if not isinstance(stage, dict) or not isinstance(stage.get("meta"), dict):
            raise StageError(f"{dvc_file}: no meta for stage {name!r}; run `emx compile` to "
                             "regenerate it")
        found = merged(found, stage["meta"]) or found
    try:
        entry = StageEntry.from_params(found, f"{params_file}: stage {name!r}")
    except SchemaError as e:
        raise StageError(str(e)) from None
    out, results, inputs = entry.paths()
    return Stage(name=name, kind=entry.kind, key=entry.key, config=entry.config, out=out,
                 results=results, inputs=inputs)


def project_root() -> Path:
    """The folder a stage runs in (DVC runs it where params.yaml is): all it writes is inside."""
    return PARAMS_FILE.absolute().parent.resolve()


def confine(path: Path, root: Path) -> None:
    """Refuse ``path`` unless it, and the folder its temporaries go in, resolve strictly inside
    ``root``: a symlinked ``results``/``artifacts``/stage folder must not lead writes out."""
    path = Path(path)
    if _strictly_inside((root / path).resolve(), root) \
            and (root / path.parent).resolve().is_relative_to(root):
        return
    link = _first_symlink(path, root)
    fix = (f"it goes through the symlink {link} -> {os.readlink(root / link)}; remove that "
           "link or point it inside the project" if link is not None else
           "give it a path inside the project and re-run `emx compile`")
    raise StageError(f"{path} resolves to {(root / path).resolve()}, not inside the project "
                     f"{root}; {fix}")


def _strictly_inside(resolved: Path, root: Path) -> bool:
    return resolved != root and resolved.is_relative_to(root)


def _first_symlink(path: Path, root: Path) -> Path | None:
    """The first component of ``path`` (relative to ``root``) that is a symlink, if any."""
    parts = Path(path).parts
    for i in range(1, len(parts) + 1):
        if (root / Path(*parts[:i])).is_symlink():
            return Path(*parts[:i])
    return None


def _remove(path: Path) -> None:
    """Remove a file, folder or symlink; a symlink is unlinked, never followed."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


@contextmanager
def atomic_dir(final: Path, root: Path | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``final`` only if the block succeeds.

    With ``root``, ``final`` must resolve inside it (see :func:`confine`), checked before
    anything is created or removed.
    """
    final = Path(final)
    if root is not None:
        confine(final, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove(final)
    os.replace(tmp, final)


def _remove_stale(final: Path) -> None:
    """Delete temporaries a killed (SIGKILLed, so uncleaned) earlier writer of ``final`` left.
    Safe because one stage has one writer at a time: DVC locks it."""
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file via a temp file + rename, so readers never see half of it; a symlink at
    ``path`` is replaced, not written through."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
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


def split_metrics(kind: str, results: Path) -> None:
    """Leave the headline of ``kind``'s metrics file in it and the whole dict the body wrote
    in ``detail.json`` beside it (see ``emdsl.schema.detail``): DVC shows the first."""
    name = metrics_file(kind)
    path = results / name if name else None
    if path is None or not path.is_file():
        return
    full = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(full, dict):
        return
    atomic_write_json(results / DETAIL, full)
    atomic_write_json(path, headline(kind, full))


def csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV with a header row; a missing value is an empty cell (DVC plots and polars read it)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return buf.getvalue()


def progress(items: Iterable[T], desc: str, total: int | None = None,
             unit: str = "it") -> Iterator[T]:
    """A tqdm progress bar on stderr (quiet when EMX_NO_PROGRESS is set, e.g. in CI logs)."""
    from tqdm.auto import tqdm

    disable = bool(os.environ.get("EMX_NO_PROGRESS"))
    for i, item in enumerate(tqdm(items, desc=desc, total=total, unit=unit, disable=disable,
                                  dynamic_ncols=True)):
        if i == 1:  # the first item is done: the loop is midway
            pause_point("progress")
        yield item


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


# ---------------------------------------------------------------- where a stage's time goes

PHASES: dict[str, float] = {}  # phase -> seconds in this process, imports kept apart
_import_depth = 0

# Facts about one run that differ between runs of the same inputs (durations, throughput,
# judge cache hits, batch sizes fitted to free memory). They go to the run record, never into
# an out: outs must be byte-identical for identical inputs, or DVC sees a change.
RUN_FACTS: dict[str, Any] = {}
RUNS_DIR = Path(".emx") / "runs"  # <stage>.json, beside (not inside) artifacts/ and results/


def note_run(**facts: Any) -> None:
    """Keep ``facts`` for this stage's run record (``.emx/runs/<stage>.json``)."""
    RUN_FACTS.update(facts)


def write_run_record(stage: Stage, seconds: float, startup: float | None) -> Path | None:
    """``.emx/runs/<stage>.json``: when the stage finished, its time by phase and what it noted.

    Git-ignored by a ``.gitignore`` of its own and outside every DVC out; a record that
    cannot be written is a warning, never a failed stage.
    """
    record = {"stage": stage.name, "kind": stage.kind, "key": stage.key,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "seconds": round(seconds, 3),
              "startup_seconds": None if startup is None else round(startup, 3),
              "phases": {k: round(v, 3) for k, v in
                         {**PHASES, "run": max(0.0, seconds - sum(PHASES.values()))}.items()},
              **RUN_FACTS}
    path = RUNS_DIR / f"{stage.name}.json"
    try:
        if not (RUNS_DIR / ".gitignore").exists():
            atomic_write_text(RUNS_DIR / ".gitignore", "*\n")
        atomic_write_json(path, record)
    except (OSError, TypeError, ValueError) as e:
        log(stage, f"warning: run record {path} not written: {e}")
        return None
    return path


def _timed_import(real: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``__import__`` so the outermost imports' time adds up in ``PHASES["imports"]``."""

    @functools.wraps(real)
    def timed(*args: Any, **kwargs: Any) -> Any:
        global _import_depth
        if _import_depth:
            return real(*args, **kwargs)
        _import_depth += 1
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            _import_depth -= 1
            PHASES["imports"] = PHASES.get("imports", 0.0) + time.perf_counter() - start

    return timed


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the block's time, less the imports it ran, to ``PHASES[name]`` (logged at the end)."""
    start, imports = time.perf_counter(), PHASES.get("imports", 0.0)
    try:
        yield
    finally:
        spent = time.perf_counter() - start - (PHASES.get("imports", 0.0) - imports)
        PHASES[name] = PHASES.get(name, 0.0) + spent


def _startup() -> tuple[float | None, bool]:
    """(seconds from this stage's process start to here, whether it was forked from the warm
    worker). Forked, it is the client's start-up (passed on in ``$EMX_WARM_STARTUP``) plus
    the time since the fork."""
    own = warm.process_age()
    before = os.environ.pop(warm.STARTUP_ENV, None)
    if before is None:
        return own, False
    try:
        return (None if own is None else float(before) + own), True
    except ValueError:
        return own, True


def phase_summary(total: float) -> str:
    """``imports 4.1s, load 2.0s, run 20.3s``: the stage's time by phase; ``run`` is the rest."""
    shown = {k: v for k, v in PHASES.items() if v >= 0.05}
    shown["run"] = max(0.0, total - sum(PHASES.values()))
    return ", ".join(f"{k} {v:.1f}s" for k, v in shown.items())


# ---------------------------------------------------------------- a test hook: pause midway

_CURRENT_KIND: list[str] = []


def pause_point(point: str) -> None:
    """Block forever at ``point`` when ``EMX_TEST_PAUSE_AT`` names ``<kind>:<point>``.

    For the kill tests only: the stage writes its pid to ``$EMX_TEST_PAUSE_DIR/<kind>.pid``
    and waits there (until its parent dies), so a test can SIGKILL it at a known midpoint.
    A no-op otherwise.
    """
    wanted = os.environ.get("EMX_TEST_PAUSE_AT")
    if not wanted or not _CURRENT_KIND or f"{_CURRENT_KIND[0]}:{point}" not in wanted.split(","):
        return
    folder = Path(os.environ.get("EMX_TEST_PAUSE_DIR") or ".")
    parent = os.getppid()
    atomic_write_text(folder / f"{_CURRENT_KIND[0]}.pid", str(os.getpid()))
    while os.getppid() == parent:  # an orphan (its test or dvc died) must not wait forever
        time.sleep(0.5)
    os._exit(1)


def log(stage: Stage | str, message: str) -> None:
    name = stage.name if isinstance(stage, Stage) else stage
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {message}", file=sys.stderr, flush=True)


@contextmanager
def _timing(kind: str) -> Iterator[None]:
    """Fresh phase totals, run facts and the import timer for one stage body (restored
    afterwards)."""
    real = builtins.__import__
    PHASES.clear()
    RUN_FACTS.clear()
    _CURRENT_KIND[:] = [kind]
    builtins.__import__ = _timed_import(real)
    try:
        yield
    finally:
        builtins.__import__ = real
        _CURRENT_KIND.clear()


# Set by `emx pull`: a stage DVC cannot restore from the run-cache exits instead of running.
RESTORE_ONLY = "EMX_RESTORE_ONLY"


def run_stage(kind: str, body: Callable[[Stage, Path, Path | None], None],
              argv: list[str] | None = None,
              launcher: Callable[[str], int | None] | None = None) -> int:
    """Entry point of ``python -m stages.<kind> <stage-name>``.

    ``body(stage, out, results)`` writes into temporary directories; they replace
    ``stage.out`` and ``stage.results`` only when it returns normally. Under ``emx run`` the
    stage runs in a process forked from the warm worker (``stages.lib.warm``), which has
    torch and transformers imported already. ``launcher(module)`` may run the stage some
    other way first (the train stage's multi-GPU relaunch): its exit code, or None.
    """
    if argv is None:  # `python -m`: the warm worker, or another launcher, may run it instead
        code = warm.delegate(f"stages.{kind}")
        if code is None and launcher is not None:
            code = launcher(f"stages.{kind}")
        if code is not None:
            return code
    startup, forked = _startup() if argv is None else (None, False)  # `python -m` only
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python -m stages.{kind} STAGE-NAME", file=sys.stderr)
        return 2
    if os.environ.get(RESTORE_ONLY):  # `emx pull`: restore from the run-cache, compute nothing
        print(f"{argv[0]}: not in the run-cache; computing it is left to `dvc repro`",
              file=sys.stderr)
        return 3
    try:
        stage = load_stage(argv[0])
        if stage.kind != kind:
            raise StageError(f"stage {stage.name!r} is a {stage.kind!r} stage, not {kind!r}")
        root = project_root()
        for path in (stage.out, stage.results):  # all refused before anything is written
            if path is not None:
                confine(path, root)
        start = time.perf_counter()
        if int(os.environ.get("RANK", "0")) != 0:  # a data-parallel rank; rank 0 writes
            with _timing(kind), tempfile.TemporaryDirectory() as tmp:
                body(stage, Path(tmp), Path(tmp) if stage.results else None)
            return 0
        with _timing(kind):
            with atomic_dir(stage.out, root) as out:
                if stage.results is None:
                    body(stage, out, None)
                else:
                    with atomic_dir(stage.results, root) as results:
                        body(stage, out, results)
                        split_metrics(kind, results)
        spent = time.perf_counter() - start
        before = f"startup {startup:.1f}s, " if startup is not None else ""
        log(stage, f"done in {spent:.1f}s ({before}{phase_summary(spent)}) -> {stage.out}")
        if forked:
            note_run(warm=True)
        write_run_record(stage, spent, startup)
        return 0
    except StageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
