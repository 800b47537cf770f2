"""Two ways to couple the ionic strength to the speciation Newton, on the same random waters.

Run from the repository root:  python benchmarks/aqueous_ionic_strength.py [--n 1000]

"outer": Newton on the mass (and charge) balances at fixed activity coefficients, inside a damped
fixed point on I and the water activity. "newton": log10 I is one more Newton unknown with its own
equation (the water activity stays in the outer loop). Same waters as aqueous_vs_phreeqc.py.
Reported per formulation: converged, Newton iterations and outer iterations (median / max), time
per water, and the largest difference between the two answers.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings

import chemsolve.aqueous as aq
from chemsolve.bench import waters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    warnings.simplefilter("ignore", aq.DatabaseWarning)
    db = aq.load_database("phreeqc.dat")
    ws = list(waters(a.n, a.seed))
    aq.speciate(db, {"Na": 1e-3, "Cl": 1e-3}, 298.15, 7.0)  # warm-up
    results = {}
    print("| formulation | converged | median Newton it. | max | median outer it. | time per water [ms] |")
    print("|---|---|---|---|---|---|")
    for mode in ("outer", "newton"):
        rs, t0 = [], time.perf_counter()
        for totals, T, pH in ws:
            rs.append(aq.speciate(db, totals, T, pH, ionic_strength=mode))
        dt = time.perf_counter() - t0
        results[mode] = rs
        ok = sum(r.success for r in rs)
        nits = [r.nit for r in rs]
        outs = [r.outer_iterations for r in rs]
        print(f"| {mode} | {ok}/{a.n} | {statistics.median(nits):g} | {max(nits)} | {statistics.median(outs):g} | "
              f"{dt / a.n * 1e3:.2f} |")
    diff = 0.0
    for r1, r2 in zip(results["outer"], results["newton"]):
        if r1.success and r2.success:
            diff = max(diff, abs(r1.pH - r2.pH),
                       max(abs(math.log10(r1.molality[s]) - math.log10(r2.molality[s]))
                           for s in r1.molality if r1.molality[s] > 1e-12))
    print(f"\nlargest difference between the two answers (pH, log10 molality > 1e-12): {diff:.1e}")


if __name__ == "__main__":
    main()
