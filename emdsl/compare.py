"""``emx diff``: every variant's results at two revisions, side by side, with what changed.

Both sides are read with ``emdsl.results.Source`` (git-tracked metrics and params.yaml, no
cache pull). A variant is matched by (file, experiment, variant label); one present on one
side only is ``added`` or ``removed``. A change in the misaligned fraction is flagged
significant when the two 95% intervals do not overlap (a seeded study's: the intervals
pooled over seeds, ``emdsl.pooling``; the seeds of a variant are one row). The params that
differ are found by comparing each of the variant's stage configs between the two
params.yaml files.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from emdsl.kinds import all_kinds
from emdsl.kinds.generate import split_role
from emdsl.results import (
    KEY,
    SEED_AXIS,
    Source,
    collect,
    markdown,
    num_cell,
    unseeded_label,
    variants,
    with_ci,
)

MAX_PARAMS = 6  # param changes listed per variant in Markdown; the rest are counted


def sections() -> dict[str, tuple[str, str | None]]:
    """Stage role -> (section shown, the part of its config that is its own), from every kind.
    Roles absent only repeat the others' settings (the judge's model and probe are in
    ``eval.judge``; activations in ``sae``) or derive from them (detector, summary)."""
    return {role: s for k in all_kinds() for role, s in k.sections.items()}


@functools.cache  # the kinds are discovered once per process
def compared() -> dict[str, str]:
    """Results compared besides the headline fraction: column -> how the diff names it."""
    return {c.name: c.compared for k in all_kinds() for c in k.columns if c.compared}


def flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def variant_params(params: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The variant's settings as dotted paths (``train.lr``), from its stages' configs."""
    configs, known = params.get("stages") or {}, sections()
    out: dict[str, Any] = {}
    for role, stage in sorted((entry.get("stages") or {}).items()):
        own, name = split_role(role)  # a second eval's stages: `eval@name.samples`
        if own not in known or stage not in configs:
            continue
        section, part = known[own]
        config = configs[stage].get("config") or {}
        out.update(flatten(config.get(part) if part else config,
                           f"{section}@{name}" if name else section))
    return out


def param_changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(path, value at A, value at B) for every setting that differs; absent is None."""
    return [(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


def show_param(value: Any) -> str:
    return "–" if value is None else json.dumps(value) if not isinstance(value, str) else value


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool | None:
    """Whether the two 95% intervals of the misaligned fraction overlap (None: unknown)."""
    if None in (a["ci_low"], a["ci_high"], b["ci_low"], b["ci_high"]):
        return None
    return a["ci_low"] <= b["ci_high"] and b["ci_low"] <= a["ci_high"]


HEADLINE = ("misaligned", "ci_low", "ci_high", "coherent", "n", "n_judged", "stale")
# A seeded study's rows are pooled over seeds; its ci_low/ci_high, which decide `significant`,
# are the pooled (cluster) interval. These say how it was pooled, on each side.
POOLED = ("seeds", "naive_ci_low", "naive_ci_high", "seed_sd", "seeds_disagree")


def pooled_entries(params: dict[str, Any], files: list[str] | None
                   ) -> dict[tuple[str, str, str], dict[Any, dict[str, Any]]]:
    """(file, experiment, variant as pooled) -> {seed (None unseeded): its params entry}."""
    out: dict[tuple[str, str, str], dict[Any, dict[str, Any]]] = {}
    for f, e, v, x in variants(params, files):
        seed = (x.get("axes") or {}).get(SEED_AXIS)
        label = v if seed is None else unseeded_label(v)
        out.setdefault((f, e, label), {})[seed] = x
    return out


def pooled_changes(pa: dict[str, Any], a: dict[Any, dict[str, Any]], pb: dict[str, Any],
                   b: dict[Any, dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """The param changes of every seed present on both sides, each path once."""
    seen: dict[str, tuple[str, Any, Any]] = {}
    for seed in [s for s in a if s in b] or [next(iter(a))]:
        for change in param_changes(variant_params(pa, a[seed]),
                                    variant_params(pb, b.get(seed) or next(iter(b.values())))):
            seen.setdefault(change[0], change)
    return [seen[k] for k in sorted(seen)]


def compare(a: Source, b: Source, files: list[str] | None = None) -> list[dict[str, Any]]:
    """One record per variant in either revision: both sides, the deltas and the status."""
    rows_a = {tuple(r[k] for k in KEY): r for r in collect(a, files)}
    rows_b = {tuple(r[k] for k in KEY): r for r in collect(b, files)}
    pa, pb = a.params(), b.params()
    entries_a, entries_b = pooled_entries(pa, files), pooled_entries(pb, files)
    out, other = [], compared()
    # B's order (params.yaml's: sweep order), then what only A has, grouped by experiment.
    keys = sorted([*rows_b, *(k for k in rows_a if k not in rows_b)], key=lambda k: k[:2])
    for key in keys:
        ra, rb = rows_a.get(key), rows_b.get(key)
        rec: dict[str, Any] = {**dict(zip(KEY, key, strict=True)), "status": None}
        for side, r in (("a", ra), ("b", rb)):
            for col in (*HEADLINE, *POOLED, *other):
                rec[f"{col}_{side}"] = r[col] if r else None
        rec["delta"] = (rb["misaligned"] - ra["misaligned"]
                        if ra and rb and None not in (ra["misaligned"], rb["misaligned"])
                        else None)
        ok = overlap(ra, rb) if ra and rb else None
        rec["significant"] = ok is False
        changes = (pooled_changes(pa, entries_a[key[:3]], pb, entries_b[key[:3]])
                   if ra and rb else [])
        rec["params_changed"] = [{"param": p, "a": x, "b": y} for p, x, y in changes]
        rec["other_changed"] = [c for c in other if ra and rb and ra[c] != rb[c]]
        if ra is None:
            rec["status"] = "added"
        elif rb is None:
            rec["status"] = "removed"
        elif changes or rec["other_changed"] or any(ra[c] != rb[c] for c in HEADLINE):
            rec["status"] = "changed"
        else:
            rec["status"] = "unchanged"
        out.append(rec)
    return out


def summary_line(a: Source, b: Source, records: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    sig = sum(r["significant"] for r in records)
    parts = [f"{n} {s}" for s, n in sorted(counts.items())]
    if sig:
        pooled = any(r["seeds_a"] or r["seeds_b"] for r in records)
        parts.append(f"{sig} significant (95% intervals"
                     + (", pooled over seeds," if pooled else "") + " do not overlap)")
    return (f"**{a.label} → {b.label}**: {len(records)} variants; "
            + (", ".join(parts) if parts else "none"))


def cells(r: dict[str, Any], label_a: str, label_b: str) -> dict[str, str]:
    delta = "–" if r["delta"] is None else f"{r['delta']:+.2f}"
    if r["significant"]:
        delta = f"**{delta}** ⚠"
    params = [f"{c['param']}: {show_param(c['a'])} → {show_param(c['b'])}"
              for c in r["params_changed"]]
    if len(params) > MAX_PARAMS:
        params = [*params[:MAX_PARAMS], f"+{len(params) - MAX_PARAMS} more"]
    other = [f"{compared()[c]}: {_short(r[f'{c}_a'])} → {_short(r[f'{c}_b'])}"
             for c in r["other_changed"]]
    coh = "–" if r["coherent_a"] is None and r["coherent_b"] is None else \
        f"{num_cell(r['coherent_a'])} → {num_cell(r['coherent_b'])}"
    variant = r["variant"] if r.get("step") is None else f"{r['variant']} @ step {r['step']}"
    return {"experiment": r["experiment"], "variant": variant, "eval": r.get("eval") or "–",
            "status": r["status"],
            f"misaligned @ {label_a}": _current(r, "a"),
            f"misaligned @ {label_b}": _current(r, "b"),
            "Δ": delta, "coherent": coh, "params changed": "; ".join(params) or "–",
            "other results changed": "; ".join(other) or "–"}


def _current(r: dict[str, Any], side: str) -> str:
    """One side's misaligned fraction, marked when its results are not what its params and
    code would give (so an old number next to a new param never reads as "no effect")."""
    cell = with_ci(r[f"misaligned_{side}"], r[f"ci_low_{side}"], r[f"ci_high_{side}"])
    if r.get(f"seeds_{side}"):
        cell += f" ({r[f'seeds_{side}']} seeds" + (
            ", ⚠ disagree)" if r.get(f"seeds_disagree_{side}") else ")")
    stale = r[f"stale_{side}"]
    return cell if not stale else f"{cell} ⚠ not current ({stale})"


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    return "–" if v is None else str(v)


def render(a: Source, b: Source, records: list[dict[str, Any]], fmt: str = "md") -> str:
    if fmt == "json":
        return json.dumps({"a": a.label, "b": b.label, "a_commit": a.commit,
                           "b_commit": b.commit, "variants": records},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        import polars as pl

        flat = [{**r, "params_changed": "; ".join(
                    f"{c['param']}={show_param(c['a'])}->{show_param(c['b'])}"
                    for c in r["params_changed"]),
                 "other_changed": ";".join(r["other_changed"])} for r in records]
        if not flat:  # still a header, so tools reading it see the columns
            return ",".join([*KEY, "status"]) + "\n"
        return pl.DataFrame(flat, infer_schema_length=None).write_csv()
    human = [cells(r, a.label, b.label) for r in records]
    return summary_line(a, b, records) + "\n\n" + markdown(human, "(no variants)") + "\n"
