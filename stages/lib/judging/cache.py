"""The verdict cache all judge stages share (``judge-cache/``, or ``$EMX_JUDGE_CACHE``).

Keyed by sha256(judge identity, prompt), so a rerun of any stage that judges makes no calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from stages.lib.judging.base import Verdict, is_sound


class JudgeCache:
    """Append-only verdict store; SQLite in WAL mode, one durable commit per batch.

    A commit survives a kill -9 of its writer, and SQLite's locking lets several stages write
    at once. Failed verdicts (``error`` set) are not stored, so a rerun retries them; nor is a
    verdict no distribution could give (``is_sound``), and one an older version stored is
    served as a miss, so it is judged again.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        directory = Path(directory or os.environ.get("EMX_JUDGE_CACHE") or "judge-cache")
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "verdicts.sqlite3"
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        # autocommit mode: every write is one explicit BEGIN IMMEDIATE ... COMMIT
        self._db = sqlite3.connect(self.path, timeout=120, check_same_thread=False,
                                   isolation_level=None)
        for attempt in range(20):  # two stages creating the store at once may briefly collide
            try:
                self._db.execute("PRAGMA busy_timeout = 120000")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._write("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, "
                            "identity TEXT NOT NULL, score REAL, mass REAL NOT NULL, "
                            "raw TEXT NOT NULL, created REAL NOT NULL)")
                break
            except sqlite3.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _write(self, sql: str, rows: Sequence[tuple] | None = None) -> None:
        """One durable transaction; IMMEDIATE takes the write lock up front (no upgrade race)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if rows is None:
                self._db.execute(sql)
            else:
                self._db.executemany(sql, rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @staticmethod
    def key(identity: str, prompt: str) -> str:
        return hashlib.sha256(f"{identity}\x00{prompt}".encode()).hexdigest()

    def get_many(self, identity: str, prompts: Sequence[str]) -> dict[str, Verdict]:
        keys = {self.key(identity, p): p for p in prompts}
        found: dict[str, Verdict] = {}
        ids = list(keys)
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, score, mass, raw FROM verdicts WHERE key IN "
                    f"({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, score, mass, raw in rows:
                    if is_sound(score, mass):
                        found[keys[key]] = Verdict(score, mass, json.loads(raw))
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, identity: str, items: Sequence[tuple[str, Verdict]]) -> None:
        rows = [(self.key(identity, p), identity, v.score, v.number_mass, json.dumps(v.raw),
                 time.time()) for p, v in items
                if v.error is None and is_sound(v.score, v.number_mass)]
        if not rows:
            return
        with self._lock:
            self._write("INSERT OR IGNORE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
