"""Gas-phase equilibrium: chemsolve vs Cantera's ``equilibrate`` (and NASA CEA when installed).

The same random states (tests/gas_cases.py: CH4, H2, C3H8, C2H2 with air or O2, phi 0.3-4,
T 300-5000 K, P 0.01-100 atm) on gri30 through:

- Cantera: ``gas.TPX = feed; gas.equilibrate(mode)`` (default solver), one state per call;
- chemsolve: single calls (``mix.equilibrate(T, P, X)``), one cold batch on one thread and on
  all threads, and a warm-started HP sweep over equivalence ratio (CH4-air, 300 K, 1 atm);
- NASA CEA (``cea`` package, its own thermo data), single calls, when installed.

Printed: agreement (max relative difference of mole fractions above 1e-12, max |dT| in HP),
status counts (a fast failure never counts as a win), time per state and throughput ratios.
Compile time (first call) is reported apart from steady state.

Run: ``python benchmarks/gas_vs_cantera.py [--n 1000] [--sweep 10000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import cantera as ct  # noqa: E402
import numba  # noqa: E402
from gas_cases import feed, feed_matrix, random_feeds  # noqa: E402

from chemsolve.bench import best_of, rel_dx  # noqa: E402
from chemsolve.gas import GasMixture, ThermoRangeWarning  # noqa: E402


def _per_state(fn, n, repeat=1) -> float:
    return best_of(fn, repeat)[0] / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="random states (about half TP, half HP)")
    ap.add_argument("--sweep", type=int, default=10000, help="points of the warm HP sweep")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--cantera-max", type=int, default=400, help="states timed through Cantera per mode")
    args = ap.parse_args()
    warnings.simplefilter("ignore", ThermoRangeWarning)
    warnings.simplefilter("ignore", UserWarning)  # Cantera's 'outside valid range' notes
    nthreads = numba.get_num_threads()

    t0 = time.perf_counter()
    mix = GasMixture.from_cantera("gri30.yaml")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    mix.equilibrate(1500.0, 101325.0, {"CH4": 1, "O2": 2}, mode="TP")
    t_first = time.perf_counter() - t0
    gas = ct.Solution("gri30.yaml")
    print(f"gri30: {mix.n_species} species, {len(mix.element_names)} elements; load {t_load:.2f} s, "
          f"first solve (kernel compile or cache load) {t_first:.2f} s; numba threads {nthreads}")
    try:
        import cea_peer

        have_cea = cea_peer.available()
    except ImportError:
        have_cea = False

    states = random_feeds(args.n, args.seed)
    rows = []
    for mode in ("TP", "HP"):
        sel = [s for s in states if s[3] == mode]
        X = feed_matrix(mix, [s[0] for s in sel])
        T = np.array([s[1] for s in sel])
        P = np.array([s[2] for s in sel])
        n = len(sel)
        # Cantera, one call per state (all states for agreement, the first cantera_max timed)
        ref_X = np.zeros_like(X)
        ref_T = np.zeros(n)
        ok_ct = np.zeros(n, dtype=bool)
        m = min(n, args.cantera_max)
        t0 = time.perf_counter()
        for i in range(n):
            if i == m:
                t_ct = (time.perf_counter() - t0) / m
            gas.TPX = T[i], P[i], X[i]
            try:
                gas.equilibrate(mode)
                ok_ct[i] = True
                ref_X[i], ref_T[i] = gas.X, gas.T
            except ct.CanteraError:
                pass
        if m == n:
            t_ct = (time.perf_counter() - t0) / n
        # chemsolve, single calls
        k = min(n, 200)
        t_single = _per_state(lambda: [mix.equilibrate(T[i], P[i], X[i], mode=mode) for i in range(k)], k)
        # chemsolve, one batch: one thread, then all threads
        numba.set_num_threads(1)
        mix.equilibrate(T[:4], P[:4], X[:4], mode=mode)
        t_b1 = _per_state(lambda: mix.equilibrate(T, P, X, mode=mode), n, 3)
        numba.set_num_threads(nthreads)
        res = None

        def run_all():
            nonlocal res
            res = mix.equilibrate(T, P, X, mode=mode)

        t_bn = _per_state(run_all, n, 3)
        both = ok_ct & res.success
        rel = np.array([rel_dx(res.X[i], ref_X[i]) for i in range(n)])
        dT = np.abs(res.T - ref_T)[both].max() if mode == "HP" else 0.0
        t_cea = np.nan
        if have_cea:
            kk = min(n, 200)
            t_cea = _per_state(lambda: [cea_peer.cea_equilibrium(sel[i][0], T[i], P[i], mode) for i in range(kk)], kk)
        rows.append((mode, n, res.counts(), int((~ok_ct).sum()), rel[both].max(), dT, t_ct, t_cea, t_single,
                     t_b1, t_bn, float(np.median(res.nit))))

    print("\n| mode | states | chemsolve status | Cantera failed | max rel dX (X>1e-12) | max dT HP [K] "
          "| Cantera ms/state | CEA ms/state | chemsolve single ms | batch 1 thread us (ratio) "
          f"| batch {nthreads} threads us (ratio) | median its |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, n, counts, nfail, ex, dT, tc, tcea, ts, tb1, tbn, its in rows:
        print(f"| {mode} | {n} | {counts} | {nfail} | {ex:.1e} | {dT:.1e} | {tc * 1e3:.3f} | "
              f"{tcea * 1e3:.3f} | {ts * 1e3:.3f} | {tb1 * 1e6:.1f} ({tc / tb1:.0f}x) | "
              f"{tbn * 1e6:.1f} ({tc / tbn:.0f}x) | {its:.0f} |")

    # warm-started HP sweep over equivalence ratio, CH4-air from 300 K at 1 atm
    phi = np.linspace(0.5, 2.0, args.sweep)
    feeds = [feed("CH4", "air", p) for p in phi]
    X = feed_matrix(mix, feeds)
    m = min(args.sweep, 300)
    idx = np.linspace(0, args.sweep - 1, m).astype(int)

    def cantera_sweep():
        for i in idx:
            gas.TPX = 300.0, 101325.0, X[i]
            gas.equilibrate("HP")

    t_ct = _per_state(cantera_sweep, m)
    out = {}
    for threads in (1, nthreads):
        numba.set_num_threads(threads)
        mix.equilibrate(300.0, 101325.0, X[:8], mode="HP", warm_start=True)

        def sweep():
            out["r"] = mix.equilibrate(300.0, 101325.0, X, mode="HP", warm_start=True)

        out[threads] = _per_state(sweep, args.sweep, 3)
    r = out["r"]
    cold = mix.equilibrate(300.0, 101325.0, X, mode="HP")
    tref = np.array([(gas.__setattr__("TPX", (300.0, 101325.0, X[i])), gas.equilibrate("HP"), gas.T)[2] for i in idx])
    print(f"\nWarm-started HP sweep, CH4-air, phi 0.5-2.0, {args.sweep} points: status {r.counts()}, "
          f"median iterations {np.median(r.nit):.0f} (cold batch: {np.median(cold.nit):.0f}), "
          f"max |T - T_Cantera| {np.abs(r.T[idx] - tref).max():.1e} K, peak {r.T.max():.1f} K at "
          f"phi {phi[np.argmax(r.T)]:.3f}")
    print("\n| sweep | time per state | ratio vs Cantera |")
    print("|---|---|---|")
    print(f"| Cantera `equilibrate('HP')` per state | {t_ct * 1e6:.0f} us | 1x |")
    print(f"| chemsolve warm sweep, 1 thread | {out[1] * 1e6:.2f} us | {t_ct / out[1]:.0f}x |")
    print(f"| chemsolve warm sweep, {nthreads} threads | {out[nthreads] * 1e6:.2f} us | "
          f"{t_ct / out[nthreads]:.0f}x |")


if __name__ == "__main__":
    main()
