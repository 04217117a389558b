"""The machine-wide store (stages.lib.machine_store): entries restore byte for byte, a damaged
entry is deleted rather than restored, and a cache that cannot be written is no failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from stages.lib import machine_store


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EMX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fill(folder: Path) -> None:
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 4096)
    (folder / "sub").mkdir()
    (folder / "sub" / "config.json").write_text('{"layers": 2}\n')


def test_an_entry_restores_byte_for_byte(cache, tmp_path):
    entry = machine_store.store("things", "k1", fill)
    assert entry == cache / "things" / "k1" and machine_store.lookup("things", "k1") == entry
    listed = machine_store.files(entry)
    assert sorted(listed) == ["sub/config.json", "weights.bin"]
    dest = tmp_path / "out"
    assert machine_store.restore(entry, {name: dest / name for name in listed})
    assert (dest / "weights.bin").read_bytes() == (entry / "weights.bin").read_bytes()
    assert (dest / "sub" / "config.json").read_text() == '{"layers": 2}\n'
    assert machine_store.read(entry, "sub/config.json") == b'{"layers": 2}\n'
    assert machine_store.lookup("things", "other") is None
    assert not list((cache / "things").glob(".*tmp*"))  # no temporaries left behind


@pytest.mark.parametrize("damage", [
    lambda e: (e / "weights.bin").write_bytes(b"truncated"),
    lambda e: (e / "weights.bin").unlink(),
])
def test_a_damaged_entry_is_deleted_not_restored(cache, tmp_path, damage):
    entry = machine_store.store("things", "k1", fill)
    damage(entry)
    dest = tmp_path / "out"
    assert not machine_store.restore(entry, {"sub/config.json": dest / "sub" / "config.json",
                                             "weights.bin": dest / "weights.bin"})
    assert not entry.exists() and machine_store.lookup("things", "k1") is None
    assert not [p for p in dest.rglob("*") if p.is_file()]  # nothing half-restored


def test_a_damaged_small_file_reads_as_none(cache):
    entry = machine_store.store("things", "k1", fill)
    (entry / "sub" / "config.json").write_text('{"layers": 3}\n')
    assert machine_store.read(entry, "sub/config.json") is None and not entry.exists()


def test_storing_twice_keeps_the_first_and_an_unwritable_cache_is_no_failure(
        cache, tmp_path, monkeypatch):
    first = machine_store.store("things", "k1", fill)
    again = machine_store.store("things", "k1", lambda f: (f / "other").write_text("x"))
    assert again == first and machine_store.files(first).keys() == {"sub/config.json",
                                                                     "weights.bin"}
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("EMX_CACHE", str(blocker))  # its "folder" is a file: nothing writable
    assert machine_store.store("things", "k2", fill) is None
