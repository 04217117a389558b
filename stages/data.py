"""Data stage: build a training set (chat ``messages`` JSONL) from dataset specs.

Configs (resolved, from params.yaml):
    {type: builtin, domain, variant}              a whole builtin dataset
    {type: jsonl, path, skip_invalid}             a whole file, path relative to the project root
    {type: take, dataset: <spec>, size, seed}     a seeded sample of ``size`` distinct examples
    {type: mix, bad, good, poison, size, seed}    exactly n_bad = round(poison·size) bad, the rest
                                                  good, shuffled (half rounds up: 0.5·5 → 3)

The poison ratio is the experiment's independent variable, so the counts are exact or the stage
fails (saying how many distinct examples a source has). Bad examples are a prefix of one
seeded order, so for a fixed seed a lower poison's bad set is contained in a higher one's.
Builtin variants of a domain answer the same questions, so good examples are drawn first from
questions the chosen bad ones do not ask; a question is shared (one good and one bad answer)
only when the good source runs out of others, and ``stats.json`` counts such questions.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emdsl.mixing import MAX_REPEATS, bad_count
from stages.common import Stage, StageError, atomic_write_bytes, atomic_write_json, log, run_stage
from stages.lib.chat import RowError, load_chat_jsonl, normalise_record
from stages.lib.datasets import TRAIN_FILE

STATS_FILE = "stats.json"


@dataclass
class Source:
    """A loaded dataset: its records (file order), a readable label, rows skipped on load."""

    label: str
    records: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)


def describe(spec: dict[str, Any]) -> str:
    """``builtin(medical, incorrect-subtle)``: how error messages and stats name a source."""
    kind = spec.get("type")
    if kind == "builtin":
        return f"builtin({spec['domain']}, {spec.get('variant', 'correct')})"
    if kind == "jsonl":
        return f"jsonl({spec['path']})"
    if kind == "take":
        return f"take({describe(spec['dataset'])}, size={spec['size']}, seed={spec.get('seed', 0)})"
    return f"{kind}(...)"


def load_source(spec: dict[str, Any], root: Path = Path(".")) -> Source:
    """Records of a builtin, jsonl or take spec, validated by the one chat contract."""
    kind = spec.get("type")
    if kind == "builtin":
        return Source(describe(spec), _builtin(spec["domain"], spec.get("variant", "correct")))
    if kind == "jsonl":
        data = load_chat_jsonl(root / spec["path"], bool(spec.get("skip_invalid", False)))
        return Source(describe(spec), data.records, data.skipped)
    if kind == "take":
        inner = load_source(spec["dataset"], root)
        size, seed = int(spec["size"]), int(spec.get("seed", 0))
        picked = seeded_order(distinct(inner.records), f"take:{seed}")
        _need(inner, len(picked), size, f"take(size={size})")
        return Source(describe(spec), picked[:size], inner.skipped)
    raise StageError(f"data stage: unknown dataset type {kind!r}; expected builtin, jsonl, "
                     "take or mix. Re-run `emx compile`.")


def build(config: dict[str, Any], root: Path = Path(".")) -> tuple[list[dict], dict[str, Any]]:
    """The training records and their stats (without the file hash) for a data config."""
    if config.get("type") != "mix":
        source = load_source(config, root)
        stats = {"type": config.get("type"), "source": source.label,
                 "counts": {"dataset": len(source.records)},
                 "skipped_rows": {"dataset": len(source.skipped)}}
        if config.get("type") == "take":
            stats.update(size=int(config["size"]), seed=int(config.get("seed", 0)))
        return source.records, stats
    return mix(load_source(config["bad"], root), load_source(config["good"], root),
               poison=float(config["poison"]), size=int(config["size"]),
               seed=int(config.get("seed", 0)))


def mix(bad: Source, good: Source, *, poison: float, size: int,
        seed: int) -> tuple[list[dict], dict[str, Any]]:
    """Exactly ``bad_count(poison, size)`` bad records and the rest good, shuffled by ``seed``."""
    if not 0 <= poison <= 1:
        raise StageError(f"mix: poison must be in [0, 1], got {poison}")
    if size <= 0:
        raise StageError(f"mix: size must be positive, got {size}")
    n_bad = bad_count(poison, size)
    n_good = size - n_bad
    bad_pool = seeded_order(distinct(bad.records), f"mix:{seed}:bad")
    good_pool = seeded_order(distinct(good.records), f"mix:{seed}:good")
    repeated = {}  # a pool smaller than its share: cycled through (the checker warns)
    for side, source, pool, need in (("bad", bad, bad_pool, n_bad),
                                     ("good", good, good_pool, n_good)):
        if need > len(pool):
            if need > MAX_REPEATS * len(pool):  # also no pool at all
                _need(source, len(pool), -(-need // MAX_REPEATS),
                      f"mix(poison={poison}, size={size}) as {side}, used at most "
                      f"{MAX_REPEATS} times each,")
            log("data", f"warning: {source.label} has {len(pool)} distinct examples and the mix "
                        f"needs {need} {side}: each is used about {need / len(pool):.1f} times")
            repeated[side] = need
    bad_pool = cycled(bad_pool, n_bad, f"mix:{seed}:bad")
    good_pool = cycled(good_pool, n_good, f"mix:{seed}:good")
    chosen_bad = bad_pool[:n_bad]
    bad_prompts = {_key(r["messages"][:-1]) for r in chosen_bad}
    fresh = [r for r in good_pool if _key(r["messages"][:-1]) not in bad_prompts]
    shared = [r for r in good_pool if _key(r["messages"][:-1]) in bad_prompts]
    chosen_good = (fresh + shared)[:n_good]
    n_shared = max(0, n_good - len(fresh))
    if n_shared:
        log("data", f"{n_shared} good example(s) ask a question that a bad one also asks "
                    f"({good.label} has {len(fresh)} others)")
    records = chosen_bad + chosen_good
    random.Random(f"mix:{seed}:order").shuffle(records)
    stats = {
        "type": "mix", "poison": poison, "size": size, "seed": seed,
        "counts": {"bad": n_bad, "good": n_good},
        "available": {"bad": len(bad_pool), "good": len(good_pool)},
        "sources": {"bad": bad.label, "good": good.label},
        "shared_prompts": n_shared,
        **({"repeated": repeated} if repeated else {}),
        "skipped_rows": {"bad": len(bad.skipped), "good": len(good.skipped)},
    }
    return records, stats


def distinct(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with exact duplicates removed, first occurrence kept."""
    seen: set[str] = set()
    out = []
    for r in records:
        k = _key(r["messages"])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def seeded_order(records: list[dict[str, Any]], salt: str) -> list[dict[str, Any]]:
    """A copy shuffled by a string seed (stable across Python runs and platforms)."""
    out = list(records)
    random.Random(salt).shuffle(out)
    return out


def to_jsonl(records: list[dict[str, Any]]) -> bytes:
    """Byte-stable JSONL: the same records always give the same file (and DVC hash)."""
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)


def write_dataset(out: Path, results: Path | None, config: dict[str, Any],
                  root: Path = Path(".")) -> dict[str, Any]:
    """Build, write ``train.jsonl`` to ``out`` and ``stats.json`` to ``results``; return stats."""
    records, stats = build(config, root)
    data = to_jsonl(records)
    atomic_write_bytes(out / TRAIN_FILE, data)
    stats.update(examples=len(records), file=TRAIN_FILE, sha256=hashlib.sha256(data).hexdigest())
    if results is not None:
        atomic_write_json(results / STATS_FILE, stats)
    return stats


def run(stage: Stage, out: Path, results: Path | None) -> None:
    stats = write_dataset(out, results, stage.config)
    log(stage, f"{stats['examples']} examples {stats['counts']}")


# --------------------------------------------------------------------------- internals


def _builtin(domain: str, variant: str) -> list[dict[str, Any]]:
    from emdsl.builtin.datasets import examples

    try:
        raw = examples(domain, variant)
    except ValueError as e:
        raise StageError(f"builtin dataset: {e}") from None
    try:
        return [normalise_record(r) for r in raw]
    except RowError as e:  # a bug in the shipped data, not the user's
        raise StageError(f"builtin({domain}, {variant}) has a malformed record: {e}") from None


def _key(messages: list[dict[str, str]]) -> str:
    return json.dumps(messages, ensure_ascii=False, sort_keys=True)


def cycled(pool: list[dict[str, Any]], need: int, tag: str) -> list[dict[str, Any]]:
    """``pool`` itself when it has ``need`` records; else it followed by fresh seeded orders of
    it until there are ``need``, so each record is used as evenly as the count allows."""
    out, rounds = list(pool), 1
    while len(out) < need:
        out += seeded_order(pool, f"{tag}:repeat{rounds}")
        rounds += 1
    return out


def _need(source: Source, have: int, want: int, use: str) -> None:
    if have < want:
        raise StageError(f"{source.label} has only {have} distinct examples, but {use} needs "
                         f"{want}; lower size (or poison), or use a larger dataset")


if __name__ == "__main__":
    raise SystemExit(run_stage("data", run))
