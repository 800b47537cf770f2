"""Statistics of the study: paired per-instance differences, cluster-bootstrap confidence intervals,
Wilcoxon signed-rank tests (scipy.stats) on per-replicate means, and Holm's step-down correction.

Why these: an advisor and its comparator solve the same held-out instances, so each instance gives a
paired difference. Instances of one replicate share that replicate's tuned schedules, so they are not
independent: the bootstrap resamples whole replicates (a cluster bootstrap), and the Wilcoxon test takes
one mean difference per replicate (the independent unit). Holm (1979) controls the family-wise error
over every comparison the report makes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["cluster_bootstrap", "wilcoxon_p", "holm", "paired"]


def cluster_bootstrap(diffs: Sequence[Sequence[float]], n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> tuple[float, float, float]:
    """Mean of the pooled per-instance differences and its percentile CI, resampling clusters
    (replicates) with replacement. ``diffs``: one list of per-instance differences per replicate."""
    clusters = [np.asarray(d, dtype=float) for d in diffs if len(d)]
    if not clusters:
        return math.nan, math.nan, math.nan
    pooled = np.concatenate(clusters)
    mean = float(pooled.mean())
    if len(clusters) == 1:
        return mean, math.nan, math.nan
    rng = np.random.default_rng(seed)
    sums = np.array([c.sum() for c in clusters])
    sizes = np.array([len(c) for c in clusters])
    idx = rng.integers(0, len(clusters), size=(n_boot, len(clusters)))
    boots = sums[idx].sum(1) / sizes[idx].sum(1)
    a = (1.0 - level) / 2.0
    return mean, float(np.quantile(boots, a)), float(np.quantile(boots, 1.0 - a))


def wilcoxon_p(rep_means: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of per-replicate mean differences (1.0 when all are zero;
    NaN with fewer than two replicates)."""
    from scipy.stats import wilcoxon  # noqa: PLC0415

    d = np.asarray([v for v in rep_means if math.isfinite(v)], dtype=float)
    if len(d) < 2:
        return math.nan
    if np.all(d == 0):
        return 1.0
    return float(wilcoxon(d, zero_method="zsplit", alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted in the family)."""
    p = np.asarray(pvalues, dtype=float)
    ok = np.flatnonzero(np.isfinite(p))
    out = np.full(p.shape, np.nan)
    m = len(ok)
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out.tolist()


def paired(a: dict[int, dict[str, dict]], b: dict[int, dict[str, dict]], key: str) -> list[list[float]]:
    """Per replicate, the per-instance differences a - b of ``key`` ("solved" or "iterations") over the
    instances both arms ran (matched by name). a, b: {rep: {instance name: record}}."""
    out = []
    for rep in sorted(set(a) & set(b)):
        names = sorted(set(a[rep]) & set(b[rep]))
        if key == "solved":
            out.append([float(a[rep][n]["converged"]) - float(b[rep][n]["converged"]) for n in names])
        else:
            out.append([float(a[rep][n]["iterations"]) - float(b[rep][n]["iterations"]) for n in names])
    return out
