"""The ``chemsolve`` command.

``chemsolve demo`` solves the bundled propane-combustion equilibrium (Meintjes & Morgan 1990)
with each damping schedule, then a batch of states; it exits non-zero if the recommended
configuration fails anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def demo(n_states: int = 10_000, out=sys.stdout) -> int:
    import chemsolve as cs
    from chemsolve import damping as d
    from chemsolve.kernels import examples as ex

    p = ex.PAPER_PARAMS
    print("chemsolve demo: propane combustion equilibrium, reduced 5-unknown form", file=out)
    print("(Meintjes & Morgan 1990, ACM TOMS 16:143; start point from MINPACK-2)\n", file=out)
    print(f"1) one state, R = {p[0]:g}, P = {p[1]:g}, from x0 = {ex.PAPER_START.tolist()}", file=out)
    configs = [
        ("newton", "linesearch (default)", None, np.inf),
        ("newton", "constant 1.0", d.Constant(1.0), np.inf),
        ("newton", "ramp 0.1*2^k", d.Ramp(), np.inf),
        ("newton", "adaptive", d.Adaptive(), np.inf),
        ("newton", "linesearch", None, 0.9),
        ("newton", "adaptive", d.Adaptive(), 0.9),
    ]
    # load the cached array helpers once so that the first timing is not a disk-cache load
    cs.solve(ex.propane.py_func, ex.PAPER_START, args=(p,), max_iter=1)
    rows = []
    for method, label, damping, cap in configs:
        t = time.perf_counter()
        r = cs.solve(ex.propane.py_func, ex.PAPER_START, jac=ex.propane_jac.py_func, args=(p,),
                     method=method, damping=damping, max_rel_step=cap)
        dt = time.perf_counter() - t
        physical = "yes" if r.success and (r.x > 0).all() else ("no (x<0)" if r.success else "-")
        rows.append([method, label, "-" if np.isinf(cap) else f"{cap:g}", r.status.name, r.nit, r.nfev,
                     f"{r.residual_norm:.1e}", physical, f"{dt * 1e3:.1f} ms"])
    print(_table(rows, ["method", "damping", "max_rel_step", "status", "nit", "nfev", "max|F|",
                        "physical root", "time (Python path)"]), file=out)
    best = cs.solve(ex.propane.py_func, ex.PAPER_START, jac=ex.propane_jac.py_func, args=(p,), max_rel_step=0.9)
    print(f"\nphysical root: x = {np.array2string(best.x, precision=7)}", file=out)
    print("Unbounded Newton steps can land on a root with negative amounts (x3 < 0);\n"
          "a relative step cap (max_rel_step=0.9) keeps every unknown positive.\n", file=out)

    rng = np.random.default_rng(0)
    R = rng.uniform(3.0, 40.0, n_states)
    P = 10 ** rng.uniform(0.0, 3.0, n_states)
    params = np.column_stack([R, P])
    X0 = np.tile(ex.PAPER_START, (n_states, 1))
    print(f"2) a batch of {n_states} states, R in [3, 40], P in [1, 1000], solve_batch (prange)", file=out)
    t = time.perf_counter()
    cs.solve_batch(ex.propane, X0[:2], params[:2], jac=ex.propane_jac, max_rel_step=0.9)
    compile_s = time.perf_counter() - t
    rows = []
    worst = None
    for cap in (np.inf, 0.9):
        t = time.perf_counter()
        b = cs.solve_batch(ex.propane, X0, params, jac=ex.propane_jac, max_rel_step=cap)
        dt = time.perf_counter() - t
        ok = b.success
        positive = (b.x[ok] >= 0).all(axis=1).mean() if ok.any() else 0.0
        counts = ", ".join(f"{k} {v}" for k, v in sorted(b.counts().items()))
        rows.append(["-" if np.isinf(cap) else f"{cap:g}", counts, f"{positive:.2%}", f"{dt * 1e3:.0f} ms",
                     f"{n_states / dt:,.0f}"])
        worst = b
    print(f"   (first call compiles the kernel for this residual: {compile_s:.1f} s, not counted below)", file=out)
    print(_table(rows, ["max_rel_step", "status counts", "converged & >= 0", "wall time", "states/s"]), file=out)
    if not worst.success.all():
        print(f"\nerror: {int((~worst.success).sum())} states did not converge with max_rel_step=0.9", file=sys.stderr)
        return 1
    return 0


def run(path: str, as_json: bool = False, out=sys.stdout) -> int:
    """Solve one model file and print the result; exit 1 if it did not converge."""
    import json
    import warnings

    from .aqueous import DatabaseWarning
    from .models import load_model

    model = load_model(path)
    if model.kind == "gas":
        return _run_gas(model, as_json, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)  # skipped database blocks: listed by load_database
        r = model.run()
    if as_json:
        json.dump({"model": model.name, "file": model.path, "status": r.status.name, "message": r.message,
                   "T_K": r.T, "pH": r.pH, "pe": r.pe, "ionic_strength": r.ionic_strength,
                   "water_activity": r.water_activity, "charge_balance": r.charge_balance,
                   "molality": r.molality, "log_gamma": r.log_gamma, "saturation_index": r.saturation_index,
                   "phase_moles": r.phase_moles,
                   "distribution": {c: r.distribution(c) for c in r.composition}}, out, indent=1)
        out.write("\n")
    else:
        print(f"{model.name}  [{model.path}]", file=out)
        print(f"status {r.status.name}   T {r.T - 273.15:.2f} C   pH {r.pH:.4f}   pe {r.pe:g}   "
              f"I {r.ionic_strength:.5g} mol/kgw   a(H2O) {r.water_activity:.5f}", file=out)
        top = sorted(r.molality.items(), key=lambda kv: -kv[1])[:15]
        print(_table([[s, f"{m:.4e}", f"{r.log_gamma[s]:+.4f}"] for s, m in top],
                     ["species", "molality [mol/kgw]", "log gamma"]), file=out)
        dist = []
        for comp in r.composition:
            top3 = list(r.distribution(comp).items())[:3]
            dist.append([comp, ", ".join(f"{s} {f:.1%}" for s, f in top3)])
        print(_table(dist, ["component", "distribution (largest species)"]), file=out)
        if r.phase_moles:
            print(_table([[p, f"{n:+.4e}", f"{r.saturation_index[p]:+.4f}"] for p, n in r.phase_moles.items()],
                         ["equilibrium phase", "moles dissolved", "SI"]), file=out)
        sis = sorted(((p, v) for p, v in r.saturation_index.items() if p not in r.phase_moles), key=lambda kv: -kv[1])
        if sis:
            print("saturation indices: " + ", ".join(f"{p} {v:+.2f}" for p, v in sis[:12]), file=out)
    if not r.success:
        print(f"error: {model.path}: did not converge: {r.status.name}: {r.message}", file=sys.stderr)
        return 1
    return 0


def _run_gas(model, as_json: bool, out) -> int:
    import json

    import numpy as np

    r = model.run()
    names = r.species_names
    if model.phi is None:
        if as_json:
            json.dump({"model": model.name, "file": model.path, "mode": r.mode, "status": r.status.name,
                       "message": r.message, "T_K": r.T, "P_Pa": r.P, "moles_per_mole_feed": r.moles,
                       "X": r.mole_fraction_dict(1e-12), "condensed": r.condensed,
                       "iterations": r.iterations, "diagnostics": r.diagnostics}, out, indent=1)
            out.write("\n")
        else:
            print(f"{model.name}  [{model.path}]", file=out)
            print(f"status {r.status.name}   mode {r.mode}   T {r.T:.3f} K   P {r.P:.6g} Pa   "
                  f"iterations {r.iterations}", file=out)
            top = sorted(r.mole_fraction_dict(1e-12).items(), key=lambda kv: -kv[1])[:15]
            print(_table([[s, f"{x:.6e}"] for s, x in top], ["species", "mole fraction"]), file=out)
            if r.condensed:
                print(_table([[c, f"{v:.6e}"] for c, v in r.condensed.items()],
                             ["condensed", "moles per mole of feed"]), file=out)
        ok, bad = r.success, ([] if r.success else [0])
    else:
        phi = np.asarray(model.phi)
        top = [names[j] for j in np.argsort(-r.X.max(axis=0))[:6]]
        if as_json:
            json.dump({"model": model.name, "file": model.path, "mode": r.mode, "phi": phi.tolist(),
                       "status": [str(Status_name(s)) for s in r.status], "T_K": r.T.tolist(),
                       "P_Pa": r.P.tolist(),
                       "X": {s: r.X[:, names.index(s)].tolist() for s in top},
                       "condensed": {c: r.condensed[:, k].tolist() for k, c in enumerate(r.condensed_names)}},
                      out, indent=1)
            out.write("\n")
        else:
            print(f"{model.name}  [{model.path}]   mode {r.mode}, {len(phi)} states, warm-started", file=out)
            rows = [[f"{phi[i]:.3f}", Status_name(r.status[i]), f"{r.T[i]:.2f}"]
                    + [f"{r.X[i, names.index(s)]:.4e}" for s in top] for i in range(len(phi))]
            print(_table(rows, ["phi", "status", "T [K]"] + top), file=out)
        ok = bool(r.success.all())
        bad = list(np.flatnonzero(~r.success))
    if not ok:
        print(f"error: {model.path}: {len(bad)} state(s) did not converge (first: {bad[0]})", file=sys.stderr)
        return 1
    return 0


def Status_name(code) -> str:
    from .status import Status

    return Status(int(code)).name


def main(argv: list[str] | None = None) -> int:
    from .errors import ChemsolveError

    parser = argparse.ArgumentParser(prog="chemsolve", description="Fast, honest equilibrium solvers.")
    parser.add_argument("--version", action="version", version=f"chemsolve {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="solve the bundled propane-combustion example")
    p_demo.add_argument("--states", type=int, default=10_000, help="batch size (default 10000)")
    p_run = sub.add_parser("run", help="solve a model file (models/aqueous/*.yaml, models/gas/*.yaml)")
    p_run.add_argument("model", help="path to a model YAML file")
    p_run.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            if args.states < 1:
                parser.error(f"--states must be >= 1, got {args.states}")
            return demo(args.states)
        if args.command == "run":
            return run(args.model, args.json)
    except ChemsolveError as e:  # bad input: one line, the culprit named, non-zero exit
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
