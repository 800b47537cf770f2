"""Aqueous speciation: chemsolve vs PHREEQC on the same random waters, in one process.

Run from the repository root:  python benchmarks/aqueous_vs_phreeqc.py [--n 1000] [--database phreeqc.dat]

The PHREEQC peer is IPhreeqc through the PyPI package ``phreeqc`` (USGS IPhreeqc bindings), loading the
very same database file as chemsolve. (``phreeqpython`` 1.6.2 was tried first: its bundled VIPhreeqc
is an older PHREEQC that rejects the 2024 phreeqc.dat's GAS_BINARY_PARAMETERS and MEAN_GAMMAS blocks.)

Waters: Na, K, Ca, Mg, Cl, S(6), C(4) each log-uniform in 1e-6..1 mol/kgw, T uniform 0..90 C, pH
uniform 2..12 or (30 %) from electroneutrality. Agreement is measured on pH, log10 molality of every
species above 1e-12 mol/kgw, and saturation indices of common minerals. Each water is solved once
per code, timings include everything each code does per water (input assembly, solve, output).
The batch rows solve the same waters in one compiled call (numba prange over chunks of rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from phreeqc_peer import Peer  # noqa: E402

import chemsolve.aqueous as aq  # noqa: E402
from chemsolve.bench import MAJORS, aqueous_diff, waters  # noqa: E402

PHASES = ("Calcite", "Aragonite", "Dolomite", "Gypsum", "Anhydrite", "Halite", "CO2(g)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--database", default="phreeqc.dat", choices=aq.BUNDLED)
    a = ap.parse_args()
    warnings.simplefilter("ignore", aq.DatabaseWarning)
    db = aq.load_database(a.database)
    peer = Peer(a.database)
    aq.speciate(db, {"Na": 1e-3, "Cl": 1e-3}, 298.15, 7.0)  # warm-up: loads the cached numba helpers
    t_cs = t_pq = 0.0
    ok_cs = ok_pq = both = 0
    only_pq: list[int] = []
    only_cs: list[int] = []
    d_ph, d_lm, d_si = [], [], []
    for i, (totals, T, pH) in enumerate(waters(a.n, a.seed)):
        t = time.perf_counter()
        theirs = peer.solution(totals, T, pH, 4.0, PHASES)
        t_pq += time.perf_counter() - t
        t = time.perf_counter()
        ours = aq.speciate(db, totals, T, pH)
        t_cs += time.perf_counter() - t
        ok_pq += theirs is not None
        ok_cs += ours.success
        if theirs is None or not ours.success:
            (only_cs if ours.success else only_pq if theirs is not None else []).append(i)
            continue
        both += 1
        dp, dl, ds = aqueous_diff(ours.pH, ours.molality, ours.saturation_index, theirs)
        d_ph.append(dp)
        d_lm.append(dl)
        d_si.append(ds)
    n = a.n
    print(f"{n} random waters, database {a.database}; agreement over the {both} that both codes solved\n")
    print("| quantity | max abs difference | median | required |")
    print("|---|---|---|---|")
    for name, v in (("pH", d_ph), ("log10 molality, species > 1e-12", d_lm), ("saturation index", d_si)):
        print(f"| {name} | {max(v):.1e} | {statistics.median(v):.1e} | 1e-3 |")
    print()
    print("| code | converged | time per water [ms] | waters/s | ratio |")
    print("|---|---|---|---|---|")
    print(f"| PHREEQC (IPhreeqc, RunString per water) | {ok_pq}/{n} | {t_pq / n * 1e3:.2f} | {n / t_pq:,.0f} | 1 |")
    print(f"| chemsolve speciate (Python + numba helpers) | {ok_cs}/{n} | {t_cs / n * 1e3:.2f} | {n / t_cs:,.0f} | "
          f"{t_pq / t_cs:.2f}x |")
    # the same waters again, as one batch (compiled kernel; compile/cache-load reported apart)
    W = list(waters(a.n, a.seed))
    tot = {k: np.array([w[0][k] for w in W]) for k in MAJORS}
    Tb = np.array([w[1] for w in W])
    pHb = np.array([np.nan if w[2] is None else w[2] for w in W])
    t = time.perf_counter()
    aq.speciate_batch(db, {k: v[:2] for k, v in tot.items()}, Tb[:2], pHb[:2])
    t_compile = time.perf_counter() - t
    for warm in (False, True):
        t = time.perf_counter()
        b = aq.speciate_batch(db, tot, Tb, pHb, warm_start=warm)
        t_b = time.perf_counter() - t
        print(f"| chemsolve speciate_batch (prange, warm_start={warm}) | {int(b.success.sum())}/{n} | "
              f"{t_b / n * 1e3:.3f} | {n / t_b:,.0f} | {t_pq / t_b:.1f}x |")
    print(f"\n(first speciate_batch call in this process: {t_compile:.2f} s - numba compile on a cold cache, "
          "or loading the cached kernels)")
    # a sweep, where warm starts pay: one water over 0-90 C
    Ts = np.linspace(273.15, 363.15, n)
    sweep = {"Na": 0.01, "Cl": 0.01, "Ca": 2e-3, "C(4)": 4e-3, "S(6)": 1e-3}
    for warm in (False, True):
        t = time.perf_counter()
        b = aq.speciate_batch(db, sweep, Ts, None, warm_start=warm)
        t_b = time.perf_counter() - t
        print(f"temperature sweep of {n} states, warm_start={warm}: {t_b / n * 1e6:.0f} us/state, "
              f"{int(b.nit.sum())} Newton iterations, {int(b.success.sum())}/{n} converged")
    print()
    print(f"PHREEQC converged and chemsolve did not: {len(only_pq)} {only_pq[:10]}")
    print(f"chemsolve converged and PHREEQC did not: {len(only_cs)} {only_cs[:10]}")


if __name__ == "__main__":
    main()
