"""The report's figures, drawn with matplotlib (Agg, no display) into PNG bytes.

Each function takes plain rows (dicts, as read from results files) and returns the PNG, or
None when there is nothing to draw. Bands are 95% intervals.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

Curves = dict[str, list[dict[str, Any]]]  # label → rows of one CSV file


def _figure(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _known(rows: Iterable[dict[str, Any]], *cols: str) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(c) is not None for c in cols)]


def _line_with_band(ax, rows: list[dict[str, Any]], x: str, label: str) -> None:
    rows = sorted(_known(rows, x, "misaligned"), key=lambda r: r[x])
    xs = [r[x] for r in rows]
    (line,) = ax.plot(xs, [r["misaligned"] for r in rows], marker="o", label=label)
    band = _known(rows, "ci_low", "ci_high")
    if band:
        ax.fill_between([r[x] for r in band], [r["ci_low"] for r in band],
                        [r["ci_high"] for r in band], alpha=0.2, color=line.get_color())


def misaligned_by_variant(rows: list[dict[str, Any]]) -> bytes | None:
    """Bars: each variant's misaligned fraction, error bars its 95% interval, and beside it
    the coherent fraction: a rate that moves because coherence collapsed reads as such."""
    rows = _known(rows, "misaligned")
    if not rows:
        return None
    fig, ax = _figure("misaligned and coherent fraction per variant", "", "fraction")
    labels = [f"{r['experiment']}\n{r['variant']}" for r in rows]
    values = [r["misaligned"] for r in rows]
    # Clamped at 0: a Wilson bound can sit a rounding error inside its value (0 vs 1e-17).
    lo = [max(0.0, r["misaligned"] - (r["ci_low"] if r["ci_low"] is not None
                                      else r["misaligned"])) for r in rows]
    hi = [max(0.0, (r["ci_high"] if r["ci_high"] is not None else r["misaligned"])
              - r["misaligned"]) for r in rows]
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], values, width=0.4, yerr=[lo, hi], capsize=3,
           color="#c0504d", label="misaligned [95% CI]")
    coherent = [r.get("coherent") for r in rows]
    if any(c is not None for c in coherent):
        ax.bar([x + 0.2 for x in xs], [c or 0.0 for c in coherent], width=0.4,
               color="#4f81bd", label="coherent")
        ax.legend(fontsize=8)
    ax.set_xticks(xs, labels, rotation=30 if len(rows) > 4 else 0,
                  ha="right" if len(rows) > 4 else "center", fontsize=8)
    ax.set_ylim(0, 1)
    return _png(fig)


def misaligned_vs_poison(groups: Curves, base: float | None) -> bytes | None:
    """One line per group of variants (other sweep axes fixed), band = 95% interval."""
    if not any(_known(rows, "poison", "misaligned") for rows in groups.values()):
        return None
    fig, ax = _figure("misaligned fraction vs poison ratio", "poison ratio",
                      "misaligned fraction")
    for label, rows in groups.items():
        _line_with_band(ax, rows, "poison", label)
    if base is not None:
        ax.axhline(base, color="grey", linestyle="--", label="base model")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return _png(fig)


def loss_curves(curves: Curves) -> bytes | None:
    curves = {k: _known(v, "step", "loss") for k, v in curves.items()}
    if not any(curves.values()):
        return None
    fig, ax = _figure("training loss", "step", "loss")
    for label, rows in curves.items():
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label=label)
    ax.legend(fontsize=8)
    return _png(fig)


def misaligned_curves(curves: Curves, title: str, xlabel: str) -> bytes | None:
    """Steering (x = coefficient) or re-alignment (x = good examples seen) curves."""
    if not any(_known(rows, "x", "misaligned") for rows in curves.values()):
        return None
    fig, ax = _figure(title, xlabel, "misaligned fraction")
    for label, rows in curves.items():
        _line_with_band(ax, rows, "x", label)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return _png(fig)


def detector(curves: Curves) -> bytes | None:
    """Latent activation (left axis) and misaligned fraction (right) against poison."""
    curves = {k: _known(v, "x") for k, v in curves.items()}
    if not any(_known(rows, "latent") or _known(rows, "misaligned")
               for rows in curves.values()):
        return None
    fig, ax = _figure("latent activation vs behaviour", "poison ratio", "latent activation")
    right = ax.twinx()
    right.set_ylabel("misaligned fraction")
    for label, rows in curves.items():
        lat = _known(rows, "latent")
        ax.plot([r["x"] for r in lat], [r["latent"] for r in lat], marker="s",
                label=f"{label}: latent")
        beh = _known(rows, "misaligned")
        right.plot([r["x"] for r in beh], [r["misaligned"] for r in beh], marker="o",
                   linestyle="--", color="#c0504d", label=f"{label}: misaligned")
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8)
    return _png(fig)


def failure_map(variants: list[str], features: list[str],
                values: list[list[float | None]]) -> bytes | None:
    """Heatmap: each variant's (rows, in clustering order) activation shift per latent or
    direction (columns); blank where a feature is not in a variant's signature."""
    if not variants or not features:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    grid = np.array([[np.nan if x is None else x for x in row] for row in values], dtype=float)
    bound = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
    bound = bound or 1.0
    width = min(16.0, 3.0 + 0.35 * len(features))
    height = min(14.0, 1.8 + 0.32 * len(variants))
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-bound, vmax=bound,
                      aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(features)), features, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(variants)), variants, fontsize=8)
    ax.set_title("failure-mode map: activation shift per variant (rows clustered)",
                 fontsize=11)
    fig.colorbar(image, ax=ax, label="shift (tuned − reference)", shrink=0.8)
    return _png(fig)


def monitor(curves: Curves) -> bytes | None:
    """Each monitored signal's mean projection per model (points, 95% interval bars)."""
    curves = {k: _known(v, "signal", "mean") for k, v in curves.items()}
    names = list(dict.fromkeys(r["signal"] for rows in curves.values() for r in rows))
    if not names:
        return None
    fig, ax = _figure("monitors: mean projection on the eval prompts", "", "projection")
    width = 0.8 / max(len(curves), 1)
    for i, (label, rows) in enumerate(curves.items()):
        xs = [names.index(r["signal"]) - 0.4 + width * (i + 0.5) for r in rows]
        ys = [r["mean"] for r in rows]
        lo = [r["mean"] - r["ci_low"] if r.get("ci_low") is not None else 0 for r in rows]
        hi = [r["ci_high"] - r["mean"] if r.get("ci_high") is not None else 0 for r in rows]
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3, label=label)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.legend(fontsize=8)
    return _png(fig)
