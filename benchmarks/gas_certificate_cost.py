"""What the gas certificate costs on a warm 10,000-state HP sweep (methane-air, gri30).

    python benchmarks/gas_certificate_cost.py [--n 10000] [--repeats 7] [--threads K]

Thin wrapper of ``chemsolve.gas.certificate.cost_share``: the whole warm ``equilibrate`` (solver and
certificate) and the certificate alone on its result, best of the repeats, and the share. The aim
(issue 12) is a share under 10 %. Run it on a quiet machine: timings taken beside other work mean
little.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="states in the sweep (default 10,000)")
    ap.add_argument("--repeats", type=int, default=7, help="best of this many runs (default 7)")
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: numba's)")
    args = ap.parse_args(argv)

    from chemsolve.gas.certificate import cost_share

    r = cost_share(args.n, args.repeats, threads=args.threads)
    print(f"warm HP sweep, {int(r['n'])} states ({int(r['converged'])} converged), {int(r['threads'])} thread(s):")
    print(f"  equilibrate (solver + certificate): {r['equilibrate_s'] * 1e3:8.2f} ms "
          f"({r['equilibrate_s'] / r['n'] * 1e6:.2f} us/state)")
    print(f"  certificate alone:                  {r['certificate_s'] * 1e3:8.2f} ms "
          f"({r['certificate_s'] / r['n'] * 1e6:.2f} us/state)")
    print(f"  share: {r['share']:.1%} of the sweep")
    return 0


if __name__ == "__main__":
    sys.exit(main())
