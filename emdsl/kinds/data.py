"""``data``: an exact poison mix of builtin or JSONL chat data (wired by ``train``, which
needs it, and by ``diff(against="clean")`` and ``realign``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl.builtin.files import builtin_files
from emdsl.diagnostics import Diagnostic
from emdsl.kinds import Kind, Subject, register
from emdsl.mixing import MAX_REPEATS, bad_count


def mix_problem(data: dict[str, Any] | None) -> str | None:
    """A mix that asks a builtin dataset for more distinct examples than it has."""
    if data and data["type"] == "screen":  # screening drops rows of the mix it wraps
        data = data["data"]
    if not data or data["type"] != "mix":
        return None
    from emdsl.builtin.datasets import pool_size

    n_bad = bad_count(data["poison"], data["size"])
    for side, need in (("bad", n_bad), ("good", data["size"] - n_bad)):
        spec = data[side]
        if spec["type"] == "builtin" and need > (have := pool_size(spec["domain"])):
            return (f"mix needs {need} {side} examples but builtin(\"{spec['domain']}\", "
                    f"variant=\"{spec['variant']}\") has {have}")
    return None


def mix_fits_pools(s: Subject) -> Iterator[Diagnostic]:
    """A warning: the mix repeats examples (the data stage cycles through the pool in fresh
    seeded orders), which a study at the papers' sizes may mean to do; an error past
    ``MAX_REPEATS`` uses of each example."""
    problem = mix_problem(s.config["data"])
    if problem:
        where = f" (variant {s.variant})" if s.variant else ""
        data = s.config["data"]
        data = data["data"] if data["type"] == "screen" else data
        if data["size"] > MAX_REPEATS * pool_need_floor(data):
            yield Diagnostic(s.at("data"), problem + where,
                             "lower `size` or `poison`, or mix in a larger dataset")
            return
        yield Diagnostic(s.at("data"), problem + where + ", so examples repeat",
                         "for distinct examples, lower `size` or `poison`, or mix in a larger "
                         "dataset", severity="warning")


def pool_need_floor(mix: dict[str, Any]) -> int:
    """The smallest builtin pool the mix draws from (its repeats are at most size / this)."""
    from emdsl.builtin.datasets import pool_size

    pools = [pool_size(mix[side]["domain"]) for side in ("bad", "good")
             if mix[side]["type"] == "builtin"]
    return min(pools) if pools else 1


@register
class Data(Kind):
    name = "data"
    order = 20
    fields = {"data": "data"}
    metrics = ("stats.json",)
    sections = {"data": ("data", None)}
    variant_rules = (mix_fits_pools,)  # a sweep can change the mix's size or poison

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config)
