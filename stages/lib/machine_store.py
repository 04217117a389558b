"""What every study on this machine shares: content-addressed entries outside every study.

Some stages compute the same thing in every new study: the embedded model's GGUF conversion
(``stages.model``) and the probe judge's training (``stages.lib.probe_store``). Each keeps
its result here, under ``$EMX_CACHE/<kind>/<key>/`` (default ``~/.cache/emdsl/...``, like a
package cache), keyed by everything the computation reads, and a later study restores it
instead of computing it again. The stage's outputs are the same bytes either way.

- An entry is written into a temporary folder and renamed into place, so a killed stage never
  leaves half of one, and two stages storing the same key at once both finish.
- Each entry lists its files' sha256 in ``manifest.json``; a restore checks the bytes it copies
  against it, and an entry that fails (edited, truncated) is deleted and computed again.
- Nothing here is ever required: a folder that cannot be written is a log line, not a failure.
  Delete ``$EMX_CACHE/<kind>`` to compute everything again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE_ENV = "EMX_CACHE"
MANIFEST = "manifest.json"
BLOCK = 1 << 22
STAGES = Path(__file__).resolve().parents[1]  # the stages package: code is named from here


def cache_root(kind: str) -> Path:
    """``$EMX_CACHE/<kind>``, else ``$XDG_CACHE_HOME/emdsl/<kind>``, else ``~/.cache/...``."""
    base = os.environ.get(CACHE_ENV)
    if base:
        return Path(base) / kind
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg or Path.home() / ".cache") / "emdsl" / kind


def folder_hash(folder: Path) -> str:
    """sha256 of every file under ``folder``: relative names and full contents."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(folder).as_posix()}\x00{path.stat().st_size}\x00".encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(BLOCK), b""):
                h.update(block)
    return h.hexdigest()


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def code_hash(files: list[Path], packages: tuple[str, ...]) -> str:
    """The code an entry's computation runs: ``files`` of the stages package (names and
    bytes) and the installed versions of ``packages``. A change to either computes anew."""
    h = hashlib.sha256()
    for package in packages:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = None
        h.update(f"{package} {version}\x00".encode())
    for path in files:
        h.update(Path(path).resolve().relative_to(STAGES).as_posix().encode() + b"\x00"
                 + Path(path).read_bytes() + b"\x00")
    return h.hexdigest()


def lookup(kind: str, key: str) -> Path | None:
    """The complete entry stored under ``key``, if there is one."""
    entry = cache_root(kind) / key
    return entry if (entry / MANIFEST).is_file() else None


def store(kind: str, key: str, fill: Callable[[Path], None]) -> Path | None:
    """A new entry under ``key``, its files written by ``fill(folder)``; the entry, or None
    (and nothing kept) when the cache folder cannot be written."""
    root = cache_root(kind)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=root))
    except OSError:
        return None
    try:
        fill(tmp)
        files = {p.relative_to(tmp).as_posix(): file_hash(p)
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({"files": files}, indent=1, sort_keys=True)
                                    + "\n", encoding="utf-8")
        os.replace(tmp, root / key)
    except (OSError, ValueError):  # stored by another stage first (a non-empty target),
        # a full disk, or content JSON cannot hold
        shutil.rmtree(tmp, ignore_errors=True)
        return lookup(kind, key)
    return root / key


def files(entry: Path) -> dict[str, str] | None:
    """The entry's manifest: file name -> sha256; None when unreadable."""
    try:
        listed = json.loads((Path(entry) / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return listed if isinstance(listed, dict) else None


def restore(entry: Path, targets: dict[str, Path]) -> bool:
    """Copy the entry's files to ``targets`` (file name -> destination), checking each
    against the manifest. False when any is missing or its bytes differ: then the entry is
    deleted, nothing copied is left behind, and the caller computes it afresh."""
    listed = files(entry) or {}
    done: list[Path] = []
    try:
        for name, target in targets.items():
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            done.append(Path(target))
            if name not in listed or _copy_hashed(Path(entry) / name, target) != listed[name]:
                raise ValueError(f"{Path(entry) / name} does not match its manifest")
        return True
    except (OSError, ValueError):
        for target in done:
            target.unlink(missing_ok=True)
        shutil.rmtree(entry, ignore_errors=True)
        return False


def read(entry: Path, name: str) -> bytes | None:
    """One small file of the entry, checked against the manifest (None, and the entry deleted,
    when it does not match)."""
    listed = files(entry) or {}
    try:
        data = (Path(entry) / name).read_bytes()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != listed.get(name):
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return data


def _copy_hashed(src: Path, dest: Path) -> str:
    """Copy ``src`` to ``dest`` in one read, returning the sha256 of what was written."""
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for block in iter(lambda: fin.read(BLOCK), b""):
            h.update(block)
            fout.write(block)
    return h.hexdigest()
