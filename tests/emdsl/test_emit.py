"""The YAML writer: whatever plain data goes in, PyYAML reads the same data back."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from emdsl.emit import dump

_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.floats(allow_nan=False, allow_infinity=False), _keys,
                     st.sampled_from(["yes", "no", "on", "off", "null", "~", "1e5", "0x1f", "-",
                                      "a: b", "#x", "- x", "'q'", '"', "2025-01-01", ".5"]))
_data = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _data, max_size=5))
def test_dump_round_trips_through_pyyaml(obj):
    assert yaml.safe_load(dump(obj)) == (obj or None)


def test_plot_definitions_are_accepted_by_dvc(interp, tmp_path):
    """Top-level plots, one per experiment and kind, every variant's file overlaid."""
    import json
    import shutil
    import subprocess
    import sys

    dvc_yaml = yaml.safe_load((interp / "dvc.yaml").read_text())
    plots = {k: v for p in dvc_yaml["plots"] for k, v in p.items()}
    assert list(plots) == [f"interp/{n}" for n in ("misaligned-vs-poison", "loss", "steering",
                                                   "realignment", "detector", "learning_rate")]
    assert plots["interp/misaligned-vs-poison"]["y"] == {
        "results/summary-interp/summary.csv": ["misaligned", "ci_low", "ci_high"]}
    assert len(plots["interp/steering"]["y"]) == 6  # base and tuned, per variant
    summary = dvc_yaml["stages"]["summary-interp"]
    assert summary["plots"] == [{"results/summary-interp/summary.csv": {
        "cache": False, "title": "misaligned fraction vs poison ratio (with 95% CI)",
        "x": "poison", "x_label": "poison ratio", "y_label": "misaligned fraction",
        "y": "misaligned"}}]
    assert summary["outs"] == [summary["outs"][0]]  # no plain uncached out: run-cacheable
    assert "results/judge-tuned-interp-poison_0p5/metrics.json" in summary["deps"]

    root = tmp_path / "copy"
    shutil.copytree(interp, root, ignore=shutil.ignore_patterns(".dvc"))
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "-q"], cwd=root, check=True)
    shown = subprocess.run([*dvc, "plots", "show", "--json"], cwd=root, capture_output=True,
                           text=True)
    assert shown.returncode == 0, shown.stderr
    out = json.loads(shown.stdout)
    # The overlays, and each stage's own file (declared on the stage so DVC run-caches it).
    stage_plots = {p for st in dvc_yaml["stages"].values() for x in st.get("plots", []) for p in x}
    assert not out.get("errors") and set(out["data"]) == set(plots) | stage_plots
    (poison,) = out["data"]["interp/misaligned-vs-poison"]
    values = poison["content"]["data"]["values"]
    assert {v["poison"] for v in values} == {"0.0", "0.5", "1.0"}
