"""How hard is each suite under the model's defaults? The study's criterion, checked before a run.

For each suite and replicate, the held-out instances of ``draw`` (exactly those the study's ``defaults``
row solves, with the same advisor and attempts: ``runner.evaluate`` with ``DefaultAdvisor``) are solved
once; hard = failed, or more than 3x the median iterations of the solved ones of that replicate (the
report's ``calibration``). The issue asks for 20-50 % hard. ``--all`` also counts the tuning instances
(more states per replicate; the study itself reports the held-out ones only).

    PYTHONPATH=$PWD python benchmarks/study/calibrate.py --suites gas,flash --reps 0-4
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from chemsolve import advisors as adv  # noqa: E402
from study import runner  # noqa: E402
from study import suites as S  # noqa: E402


def hard_fraction(records: list[dict]) -> tuple[float, float, float]:
    """(failed, hard, median iterations of the solved) of one replicate's records."""
    it = np.array([r["iterations"] for r in records], dtype=float)
    ok = np.array([r["converged"] for r in records], dtype=bool)
    med = float(np.median(it[ok])) if ok.any() else 0.0
    return float(np.mean(~ok)), float(np.mean(~ok | (it > 3 * med))), med


def calibrate(suite: str, rep: int, include_tuning: bool = False, verbose: bool = False) -> dict:
    tuning, held = S.draw(suite, rep, runner.N_TUNE, runner.N_TEST)
    xs = (tuning + held) if include_tuning else held
    recs = runner.evaluate(xs, lambda: adv.DefaultAdvisor())
    fail, hard, med = hard_fraction(recs)
    if verbose:
        for r in recs:
            flag = "FAIL" if not r["converged"] else ("hard" if r["iterations"] > 3 * med else "")
            print(f"      {r['iterations']:4d} {flag:4s} {r['statuses'][-1]:16s} {r['name']}")
    return {"suite": suite, "rep": rep, "n": len(recs), "fail": fail, "hard": hard, "median": med,
            "seconds": float(sum(r["seconds"] for r in recs))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default=",".join(S.SUITES))
    ap.add_argument("--reps", default="0-4")
    ap.add_argument("--all", action="store_true", help="tuning and held-out instances")
    ap.add_argument("-v", "--verbose", action="store_true", help="every instance's iterations")
    args = ap.parse_args(argv)
    for suite in args.suites.split(","):
        rows = []
        for rep in runner.parse_reps(args.reps):
            c = calibrate(suite, rep, args.all, args.verbose)
            rows.append(c)
            print(f"{suite:8s} rep {rep:2d}: {c['n']} instances, failed {100 * c['fail']:3.0f} %, hard "
                  f"{100 * c['hard']:3.0f} % (median {c['median']:.0f} iterations; {c['seconds']:.1f} s)", flush=True)
        h = np.array([r["hard"] for r in rows])
        f = np.array([r["fail"] for r in rows])
        print(f"{suite:8s} over {len(rows)} replicates: failed {100 * f.mean():.0f} %, hard {100 * h.mean():.0f} % "
              f"[{100 * h.min():.0f}-{100 * h.max():.0f}]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
