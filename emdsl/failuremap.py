"""The failure-mode map: which latents and directions move under which fine-tune.

Every kind that measures an activation shift says so per variant through its ``signature``
hook (``diff``: each top latent's rise in mean activation; a monitor kind: its directions'
projections), so the map gathers from every such stage without naming one. A variant's
signature is a vector over the union of keys; a seeded study's seeds are averaged into one
row. Variants are ordered by average-linkage hierarchical clustering of those vectors
(Euclidean; a key outside a variant's signature, e.g. a latent outside its top k, counts 0
there and is drawn blank), with scipy's optimal leaf ordering when scipy is installed and a
small pure implementation of the same linkage otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from emdsl.kinds import all_kinds
from emdsl.results import SEED_AXIS, Source, unseeded_label, variant_results, variants

MAX_FEATURES = 30  # columns drawn: the keys with the largest shift anywhere


@dataclass
class FailureMap:
    variants: list[str]  # "experiment variant", in clustering order
    features: list[str]  # "latent 12", by largest shift
    values: list[list[float | None]]  # [variant][feature]; None: not in its signature
    labels: dict[str, str] = field(default_factory=dict)  # feature -> label or snippet
    merges: list[tuple[int, int, float]] = field(default_factory=list)  # linkage, in order

    @property
    def empty(self) -> bool:
        return not self.variants or not self.features


def signatures(source: Source, files: list[str] | None = None
               ) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """("experiment variant" -> its signature, seeds averaged; feature -> label)."""
    params = source.params()
    sums: dict[str, dict[str, list[float]]] = {}
    labels: dict[str, str] = {}
    for _, exp, label, entry in variants(params, files):
        v = variant_results(source, params, entry.get("stages") or {})
        sig: dict[str, float] = {}
        for kind in all_kinds():
            sig.update(kind.signature(v))
            for k, text in kind.signature_labels(v).items():
                labels.setdefault(k, text)
        if not sig:
            continue
        seeded = SEED_AXIS in (entry.get("axes") or {})
        name = f"{exp} {unseeded_label(label) if seeded else label}"
        for k, x in sig.items():
            sums.setdefault(name, {}).setdefault(k, []).append(x)
    return ({name: {k: sum(xs) / len(xs) for k, xs in sig.items()}
             for name, sig in sums.items()}, labels)


def build(sigs: dict[str, dict[str, float]], labels: dict[str, str] | None = None,
          max_features: int = MAX_FEATURES) -> FailureMap:
    """The map of these signatures: the strongest features, variants clustered."""
    names = list(sigs)
    strength: dict[str, float] = {}
    for sig in sigs.values():
        for k, x in sig.items():
            strength[k] = max(strength.get(k, 0.0), abs(x))
    features = sorted(strength, key=lambda k: (-strength[k], k))[:max_features]
    vectors = [[sigs[n].get(k, 0.0) for k in features] for n in names]
    order, merges = cluster(vectors)
    return FailureMap([names[i] for i in order], features,
                      [[sigs[names[i]].get(k) for k in features] for i in order],
                      {k: (labels or {}).get(k, "") for k in features}, merges)


def _distance(a: list[float], b: list[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def cluster(vectors: list[list[float]]) -> tuple[list[int], list[tuple[int, int, float]]]:
    """Average-linkage clustering: (leaf order, merges as (cluster a, cluster b, distance),
    clusters numbered as scipy does: leaves 0..n-1, then n, n+1 ... per merge)."""
    n = len(vectors)
    if n < 2:
        return list(range(n)), []
    try:
        from scipy.cluster.hierarchy import leaves_list, linkage
    except ImportError:
        return pure_cluster(vectors)
    z = linkage(vectors, method="average", metric="euclidean", optimal_ordering=True)
    return ([int(i) for i in leaves_list(z)],
            [(int(a), int(b), float(d)) for a, b, d, _ in z])


def pure_cluster(vectors: list[list[float]]) -> tuple[list[int], list[tuple[int, int, float]]]:
    """``cluster`` without scipy: the same average linkage, leaves in merge order."""
    members: dict[int, list[int]] = {i: [i] for i in range(len(vectors))}
    leaves: dict[int, list[int]] = {i: [i] for i in range(len(vectors))}
    merges = []
    next_id = len(vectors)
    while len(members) > 1:
        ids = sorted(members)
        best: tuple[float, int, int] | None = None
        for x, a in enumerate(ids):
            for b in ids[x + 1:]:
                d = sum(_distance(vectors[i], vectors[j])
                        for i in members[a] for j in members[b]) / (
                    len(members[a]) * len(members[b]))
                if best is None or d < best[0] - 1e-12:
                    best = (d, a, b)
        assert best is not None
        d, a, b = best
        members[next_id] = members.pop(a) + members.pop(b)
        leaves[next_id] = leaves.pop(a) + leaves.pop(b)
        merges.append((a, b, d))
        next_id += 1
    return next(iter(leaves.values())), merges


def failure_map(source: Source, files: list[str] | None = None) -> FailureMap:
    sigs, labels = signatures(source, files)
    return build(sigs, labels)


def table_rows(m: FailureMap, snippets: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The map's legend: each feature, its strongest shift and where, and its label."""
    out = []
    for j, k in enumerate(m.features):
        col = [(row[j], v) for row, v in zip(m.values, m.variants, strict=True)
               if row[j] is not None]
        top = max(col, key=lambda c: abs(c[0])) if col else (None, "–")
        out.append({"feature": k, "largest shift": "–" if top[0] is None else f"{top[0]:+.3g}",
                    "in": top[1], "variants moved": str(len(col)),
                    "label / snippet": (snippets or {}).get(k) or m.labels.get(k) or "–"})
    return out
