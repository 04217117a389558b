"""Pooling a rate over seeds: pure functions, no dependencies (``seeds = N``; ``emx show``,
``emx diff`` and the report read them through ``emdsl.results``).

Each seed is a cluster: one training run's answers are not independent of each other (they
share the fine-tune's data order and initialisation), so treating all answers of all seeds as
one binomial sample understates the uncertainty exactly when seeds disagree.

- **Pooled fraction**: every misaligned answer over every judged answer, Σk / Σn.
- **Naive interval**: Wilson 95% on (Σk, Σn), as if the answers were independent.
- **Cluster interval**: the ratio estimator's cluster-robust (CR1) standard error,
  ``sqrt(G/(G-1) · Σ(k_i - p·n_i)² ) / Σn``, with the t quantile of G-1 degrees of
  freedom (G seeds), clipped to [0, 1]; reported as its hull with the naive interval, so it
  is never narrower than the naive one (from two or three seeds a between-seed variance near
  zero is no evidence that it is zero).
- **Disagreement**: Pearson's χ² test that the seeds share one rate (a G×2 table, G-1
  degrees of freedom); the seeds *disagree* when p < ``DISAGREE_P`` (0.05).
- **Spread**: the per-seed fractions' sample standard deviation and their range.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

Z95 = 1.96  # as the judge stages' own Wilson intervals
DISAGREE_P = 0.05
# Two-sided 95% t quantiles for 1..30 degrees of freedom; beyond, a series in 1/df.
_T95 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


@dataclass(frozen=True)
class Pooled:
    """A rate pooled over seeds (see the module's docstring for each figure)."""

    fraction: float | None
    ci_low: float | None  # cluster interval
    ci_high: float | None
    naive_low: float | None  # Wilson on all answers as if independent
    naive_high: float | None
    k: int
    n: int
    seeds: int
    per_seed: list[float | None]  # each seed's fraction, in seed order
    sd: float | None  # sample standard deviation of the per-seed fractions
    spread: float | None  # max - min of them
    chi2: float | None
    p_value: float | None  # χ² test of one shared rate
    disagree: bool

    def as_dict(self) -> dict:
        return asdict(self)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of k successes in n trials."""
    if n <= 0:
        return None, None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        return math.inf
    if df <= len(_T95):
        return _T95[df - 1]
    z = 1.959963984540054
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2))


def chi2_sf(x: float, df: int) -> float:
    """P(X ≥ x) for X ~ χ²(df): the regularised upper incomplete gamma Q(df/2, x/2)."""
    if x <= 0:
        return 1.0
    a, y = df / 2, x / 2
    log_front = a * math.log(y) - y - math.lgamma(a)
    if y < a + 1:  # series for P, then Q = 1 - P
        term = total = 1 / a
        for i in range(1, 500):
            term *= y / (a + i)
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1 - total * math.exp(log_front))
    b, c, d = y + 1 - a, 1 / 1e-300, 1 / (y + 1 - a)  # Lentz's continued fraction for Q
    h = d
    for i in range(1, 500):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def pool(counts: list[tuple[int, int]]) -> Pooled:
    """Pool ``(misaligned, judged)`` answer counts, one pair per seed, in seed order."""
    k, n, g = sum(c[0] for c in counts), sum(c[1] for c in counts), len(counts)
    per_seed = [ki / ni if ni else None for ki, ni in counts]
    known = [f for f in per_seed if f is not None]
    naive_low, naive_high = wilson(k, n)
    if not n:
        return Pooled(None, None, None, None, None, k, n, g, per_seed, None, None, None, None,
                      False)
    p = k / n
    lo, hi = naive_low, naive_high
    live = [(ki, ni) for ki, ni in counts if ni]
    if len(live) > 1:
        gl = len(live)
        se = math.sqrt(gl / (gl - 1) * sum((ki - p * ni) ** 2 for ki, ni in live)) / n
        half = t95(gl - 1) * se
        lo, hi = min(lo, max(0.0, p - half)), max(hi, min(1.0, p + half))
    sd = (math.sqrt(sum((f - sum(known) / len(known)) ** 2 for f in known) / (len(known) - 1))
          if len(known) > 1 else None)
    spread = max(known) - min(known) if len(known) > 1 else None
    chi2 = p_value = None
    if len(live) > 1:
        chi2 = 0.0 if p in (0.0, 1.0) else sum(
            (ki - ni * p) ** 2 / (ni * p * (1 - p)) for ki, ni in live)
        p_value = chi2_sf(chi2, len(live) - 1)
    disagree = p_value is not None and p_value < DISAGREE_P
    return Pooled(p, lo, hi, naive_low, naive_high, k, n, g, per_seed, sd, spread, chi2,
                  p_value, disagree)
