"""The failure-mode map: signatures gathered from every kind, variants clustered."""

from __future__ import annotations

import pytest

from emdsl.failuremap import build, cluster, pure_cluster, signatures, table_rows
from emdsl.results import Source

# two families: a and c move latent 1 and 2; b and d move latent 7; e moves nothing much
SIGS = {"a": {"latent 1": 0.9, "latent 2": 0.5}, "b": {"latent 7": 0.8},
        "c": {"latent 1": 0.8, "latent 2": 0.6}, "d": {"latent 7": 0.7, "latent 1": 0.05},
        "e": {"latent 9": 0.01}}


def adjacent(order: list[str], x: str, y: str) -> bool:
    return abs(order.index(x) - order.index(y)) == 1


def test_variants_ordered_by_their_clusters():
    m = build(SIGS, {"latent 7": "a «bleach» snippet"})
    assert m.features[:3] == ["latent 1", "latent 7", "latent 2"]  # by largest shift
    assert adjacent(m.variants, "a", "c") and adjacent(m.variants, "b", "d")
    row = m.values[m.variants.index("b")]
    assert row[m.features.index("latent 7")] == 0.8 and row[m.features.index("latent 2")] is None
    legend = {r["feature"]: r for r in table_rows(m)}
    assert legend["latent 7"]["label / snippet"] == "a «bleach» snippet"
    assert legend["latent 1"]["in"] == "a" and legend["latent 1"]["variants moved"] == "3"


def test_pure_linkage_matches_scipy():
    pytest.importorskip("scipy")
    vectors = [[0.9, 0.5, 0], [0, 0, 0.8], [0.8, 0.6, 0], [0.05, 0, 0.7], [0, 0, 0]]
    _, merges = cluster(vectors)
    _, pure = pure_cluster(vectors)
    assert [d for *_, d in merges] == pytest.approx([d for *_, d in pure])
    assert [frozenset(m[:2]) for m in merges] == [frozenset(m[:2]) for m in pure]


def test_signatures_from_the_diff_stages(interp):
    sigs, labels = signatures(Source(interp), ["experiments/interp.emx"])
    assert set(sigs) == {"interp poison=0.0", "interp poison=0.5", "interp poison=1.0"}
    assert all(k.startswith("latent ") for sig in sigs.values() for k in sig)
    assert any("«bad" in text for text in labels.values())
