"""States per second of a 10^6-state sweep: chemsolve's local path vs a Dask LocalCluster.

    python benchmarks/sweep_dask.py [--n 1000000] [--workers 2] [--models gas,aqueous] [--out FILE.md]

Both paths solve the same chunks (``chemsolve.sweeps``: warm-started chunks of 1024 rows, blocks
of 64 chunks); the script checks that they return the identical table and prints states/s for
each, with a Cantera (gas) or a single-water ``speciate`` (aqueous) per-state loop on a sample
for scale. Warm-up (numba's disk cache, the database or mechanism in every worker) is done
before the clock starts and reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = {
    # a grid of ~n states: phi fastest (the warm direction), then the feed temperature
    "gas": (os.path.join(ROOT, "models", "gas", "methane_air_flame.yaml"),
            lambda n: {"T": np.linspace(300.0, 700.0, max(1, n // 1000)), "phi": np.linspace(0.5, 2.0, 1000)},
            ["CO2", "CO", "OH", "NO"]),
    "aqueous": (os.path.join(ROOT, "models", "aqueous", "seawater.yaml"),
                lambda n: {"totals.Na": np.linspace(0.3, 0.6, max(1, n // 1000)), "pH": np.linspace(6.0, 9.0, 1000)},
                ["HCO3-", "CO3-2", "CaCO3"]),
}


def _peer_rate(kind: str, path: str, grid: dict, sample: int = 300) -> tuple[str, float]:
    """States/s of the obvious per-state loop on a sample of the grid."""
    from chemsolve.models import load_model
    from chemsolve.sweeps import grid_columns

    cols = grid_columns(grid)
    idx = np.linspace(0, len(next(iter(cols.values()))) - 1, sample).round().astype(int)
    m = load_model(path)
    if kind == "gas":
        import cantera as ct

        from chemsolve.models import _mix_feed

        gas = ct.Solution(m.mechanism)
        t = time.perf_counter()
        for i in idx:
            feed = _mix_feed(m.fuel, m.oxidizer, float(cols["phi"][i]), path, lambda *k: path)
            gas.TPX = float(cols["T"][i]), m.P, feed
            gas.equilibrate("HP")
        return "Cantera equilibrate('HP'), one state at a time", sample / (time.perf_counter() - t)
    from chemsolve import aqueous

    db = aqueous.load_database(m.database)
    t = time.perf_counter()
    for i in idx:
        aqueous.speciate(db, {**m.totals, "Na": float(cols["totals.Na"][i])}, m.T, float(cols["pH"][i]), m.pe)
    return "chemsolve speciate(), one water at a time", sample / (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="states per model (default 10^6)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    ap.add_argument("--models", default="gas,aqueous")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    args = ap.parse_args(argv)

    import warnings

    import pandas as pd
    from distributed import Client, LocalCluster

    import numba

    from chemsolve.aqueous import DatabaseWarning
    from chemsolve.sweeps import sweep

    warnings.simplefilter("ignore", DatabaseWarning)
    rows = []
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    start_s = time.perf_counter() - t
    ok = True
    try:
        for kind in args.models.split(","):
            path, make, species = MODELS[kind]
            grid = make(args.n)
            n = int(np.prod([len(v) for v in grid.values()]))
            small = {k: v[:3] for k, v in grid.items()}
            t = time.perf_counter()
            sweep(path, small, species=species)
            sweep(path, small, client, species=species)
            warm_s = time.perf_counter() - t
            t = time.perf_counter()
            local = sweep(path, grid, species=species)
            t_local = time.perf_counter() - t
            t = time.perf_counter()
            remote = sweep(path, grid, client, species=species)
            t_dask = time.perf_counter() - t
            try:
                pd.testing.assert_frame_equal(local, remote, check_exact=True)
                same = "identical"
            except AssertionError:
                same, ok = "DIFFERENT", False
            conv = float((local["status"] == "CONVERGED").mean())
            label, peer = _peer_rate(kind, path, grid)
            rows.append((kind, n, f"{n / t_local:,.0f}", f"{t_local:.2f} s", f"{n / t_dask:,.0f}", f"{t_dask:.2f} s",
                         f"{t_local / t_dask:.2f}", same, f"{conv:.4%}", f"{local['iterations'].mean():.2f}",
                         f"{peer:,.0f} ({label})", f"{warm_s:.1f} s"))
    finally:
        client.close()
        cluster.close()
    head = ("model", "states", f"local states/s ({numba.get_num_threads()} threads)", "local time",
            f"LocalCluster states/s ({args.workers} procs x 1 thread)", "Dask time", "Dask / local speed",
            "tables", "converged", "mean iterations", "per-state loop states/s", "warm-up")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    text = "\n".join(lines) + f"\n\n(LocalCluster start: {start_s:.1f} s, not counted; {os.cpu_count()} cores)\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
