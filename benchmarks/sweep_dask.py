"""States per second of a 10^6-state sweep: chemsolve's local path vs a Dask LocalCluster.

    python benchmarks/sweep_dask.py [--n 1000000] [--out FILE.md]

The ``sweep`` suite of ``chemsolve bench`` at 10^6 states per model (the methane-air flame over
T x phi, seawater over Na x pH): the same warm-started chunks solved on this process's cores and
on a LocalCluster of 2 worker processes, the two tables checked identical, beside the obvious
loop of one solve per state (Cantera for the gas; chemsolve's own ``speciate`` for the water).
Prints the report and a markdown table of states per second; exit 1 if the tables differ.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="states per model (default 10^6)")
    ap.add_argument("--out", help="also write the markdown table to this file")
    args = ap.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.WARNING)

    from chemsolve.bench import render, run_suite

    rep = run_suite("sweep", args.n, log=lambda s: print(s, file=sys.stderr, flush=True))
    print(render(rep), "\n")
    head = ["case", "code", "converged", "states/s", "ratio vs one-at-a-time loop"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rep.rows:
        lines.append(f"| {r.case} | {r.code} | {r.solved}/{r.total} | {1 / r.seconds:,.0f} | "
                     + ("1" if r.peer else f"{r.ratio:.0f}x") + " |")
    lines += ["", f"{rep.peer}; numba threads {rep.threads}; first calls {rep.compile_s:.1f} s (not counted); "
              + "; ".join(f"{c.quantity}: {c.value:g}" for c in rep.checks)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
