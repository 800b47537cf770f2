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


def _csv(rows: list[list], header: list[str], out) -> None:
    import csv

    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


def run(path: str, as_json: bool = False, out=sys.stdout, overrides: dict[str, str] | None = None,
        fmt: str | None = None) -> int:
    """Solve one model file and print the result; exit 1 if it did not converge."""
    import json
    import warnings

    from .aqueous import DatabaseWarning
    from .models import load_model

    fmt = fmt or ("json" if as_json else "table")
    as_json = fmt == "json"
    model = load_model(path, overrides)
    if model.kind == "gas":
        return _run_gas(model, fmt, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)  # skipped database blocks: listed by load_database
        r = model.run()
    if fmt == "csv":
        _csv([[sp, f"{m:.10g}", f"{r.log_gamma[sp]:.10g}"] for sp, m in sorted(r.molality.items(), key=lambda kv: -kv[1])],
             ["species", "molality_mol_per_kgw", "log10_gamma"], out)
    elif as_json:
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


def _run_gas(model, fmt: str, out) -> int:
    import json

    import numpy as np

    as_json = fmt == "json"
    r = model.run()
    names = r.species_names
    if model.phi is None and fmt == "csv":
        _csv([[s, f"{x:.10g}"] for s, x in sorted(r.mole_fraction_dict(1e-12).items(), key=lambda kv: -kv[1])],
             ["species", "mole_fraction"], out)
        ok, bad = r.success, ([] if r.success else [0])
    elif model.phi is None:
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
        if fmt == "csv":
            _csv([[f"{phi[i]:.10g}", Status_name(r.status[i]), f"{r.T[i]:.10g}"]
                  + [f"{r.X[i, names.index(s)]:.10g}" for s in top] for i in range(len(phi))],
                 ["phi", "status", "T_K"] + [f"X_{s}" for s in top], out)
        elif as_json:
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
        first = f"phi = {model.phi[bad[0]]:.6g}" if model.phi is not None else "the state"
        print(f"error: {model.path}: {len(bad)} state(s) did not converge (first: {first})", file=sys.stderr)
        return 1
    return 0


def _parse_sets(items: list[str] | None) -> dict[str, str]:
    from .errors import InvalidInputError

    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            raise InvalidInputError(f"--set {it!r}: expected KEY=VALUE, e.g. T=350K or pH=7")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _parse_sweep(text: str) -> tuple[str, np.ndarray]:
    """``phi=0.5:2.0:0.01`` -> ("phi", [0.5, 0.51, ..., 2.0]) (stop included when on the grid)."""
    from .errors import InvalidInputError

    try:
        key, rng = text.split("=", 1)
        a, b, c = (float(x) for x in rng.split(":"))
    except ValueError:
        raise InvalidInputError(f"--sweep {text!r}: expected KEY=START:STOP:STEP, e.g. phi=0.5:2.0:0.01") from None
    if not (np.isfinite([a, b, c]).all() and c != 0 and (b - a) / c >= 0):
        raise InvalidInputError(f"--sweep {text!r}: STEP must be non-zero and lead from START to STOP")
    n = int(np.floor((b - a) / c + 1e-9)) + 1
    if n > 10_000_000:
        raise InvalidInputError(f"--sweep {text!r}: {n} points; at most 10,000,000")
    return key.strip(), a + c * np.arange(n)


def sweep(path: str, spec: str, out=sys.stdout, overrides: dict[str, str] | None = None, fmt: str = "table",
          quiet: bool = False) -> int:
    """Solve a model over a range of one input; one row per state. A gas model swept over phi is one
    warm-started batch; any other input is solved state by state (warm-started when the model allows)."""
    import json
    import warnings

    from .aqueous import DatabaseWarning
    from .models import load_model

    key, values = _parse_sweep(spec)
    base = load_model(path, overrides)
    header: list[str]
    rows: list[list] = []
    t0 = time.perf_counter()
    status: list[str] = []
    if base.kind == "gas" and key == "phi":
        from dataclasses import replace as _replace

        from .models import _mix_feed

        fuel, ox = _fuel_oxidizer(path, overrides)
        feeds = [_mix_feed(fuel, ox, float(v), path, lambda *k: str(path)) for v in values]
        model = _replace(base, feeds=feeds, phi=[float(v) for v in values])
        r = model.run()
        names = r.species_names
        top = [names[j] for j in np.argsort(-r.X.max(axis=0))[:6]]
        header = ["phi", "status", "T_K"] + [f"X_{s}" for s in top]
        status = [Status_name(c) for c in r.status]
        rows = [[float(values[i]), status[i], float(r.T[i])] + [float(r.X[i, names.index(s)]) for s in top]
                for i in range(len(values))]
    else:
        header = [key, "status"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            res = base.resource()  # the database or the mixture: loaded once, not per state
        for i, v in enumerate(values):
            m = load_model(path, {**(overrides or {}), key: repr(float(v))})
            r = m.run(res)
            st = r.status.name
            status.append(st)
            if m.kind == "gas":
                if i == 0:
                    header += ["T_K", "P_Pa"]
                rows.append([float(v), st, float(r.T), float(r.P)])
            else:
                if i == 0:
                    header += ["pH", "ionic_strength", "water_activity"]
                rows.append([float(v), st, r.pH, r.ionic_strength, r.water_activity])
            if not quiet and time.perf_counter() - t0 > 1.0 and (i + 1) % max(1, len(values) // 20) == 0:
                print(f"\r{i + 1}/{len(values)} states", end="", file=sys.stderr, flush=True)
        if not quiet and time.perf_counter() - t0 > 1.0:
            print(file=sys.stderr)
    if fmt == "csv":
        _csv([[f"{c:.10g}" if isinstance(c, float) else c for c in r_] for r_ in rows], header, out)
    elif fmt == "json":
        json.dump({"model": base.name, "file": base.path, "sweep": key, "columns": header, "rows": rows}, out,
                  indent=1)
        out.write("\n")
    else:
        shown = rows if len(rows) <= 200 else rows[:100] + rows[-100:]
        print(_table([[f"{c:.6g}" if isinstance(c, float) else c for c in r_] for r_ in shown], header), file=out)
        if len(rows) > 200:
            print(f"({len(rows)} rows; first and last 100 shown; --format csv for all)", file=out)
    bad = [i for i, st in enumerate(status) if st != "CONVERGED"]
    if not quiet:
        dt = time.perf_counter() - t0
        print(f"{len(rows)} states in {dt:.2f} s ({len(rows) / dt:,.0f} states/s)", file=sys.stderr)
    if bad:
        print(f"error: {path}: {len(bad)} of {len(rows)} state(s) did not converge "
              f"(first: {key} = {values[bad[0]]:.6g}, {status[bad[0]]})", file=sys.stderr)
        return 1
    return 0


def _fuel_oxidizer(path: str, overrides: dict[str, str] | None):
    """The fuel and oxidizer mappings of a gas model file (after --set), for a phi sweep."""
    from pathlib import Path

    from .models import _apply_overrides, _read

    from .errors import InvalidInputError

    data, _ = _read(Path(path))
    _apply_overrides(Path(path), data, overrides or {})
    if not isinstance(data.get("fuel"), dict) or not isinstance(data.get("oxidizer"), dict):
        raise InvalidInputError(f"--sweep phi: {path} gives X:, not fuel:/oxidizer:/phi:")
    return {str(k): float(v) for k, v in data["fuel"].items()}, {str(k): float(v) for k, v in data["oxidizer"].items()}


def list_models(root: str | None, out=sys.stdout) -> int:
    """One line per model file under ``root`` (default: the models/ folder of this checkout, or ./models)."""
    from pathlib import Path

    from .errors import InvalidInputError
    from .models import _read

    if root is None:
        here = Path(__file__).resolve().parent.parent / "models"
        root = str(here if here.is_dir() else Path.cwd() / "models")
    base = Path(root)
    if not base.is_dir():
        raise InvalidInputError(f"no models folder at {root!r}; give one: chemsolve models DIR")
    files = sorted(base.rglob("*.yaml"))
    rows = []
    for f in files:
        try:
            data, _ = _read(f)
        except Exception as e:  # noqa: BLE001 - list the broken file with its reason
            rows.append([str(f.relative_to(base)), "?", f"unreadable: {e}"])
            continue
        if isinstance(data, dict) and "kind" in data:
            rows.append([str(f.relative_to(base)), str(data.get("kind")), str(data.get("name", "")).strip()])
    if not rows:
        raise InvalidInputError(f"no model files (*.yaml with kind:) under {root!r}")
    print(_table(rows, ["model", "kind", "name"]), file=out)
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

    def common(p):
        p.add_argument("model", help="path to a model YAML file (its kind: picks aqueous or gas)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override an input, e.g. --set T=350K --set pH=7 --set totals.Na=0.5 (repeatable)")
        p.add_argument("--format", choices=("table", "json", "csv"), default=None, help="output format")
        p.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE instead of stdout")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress or timing on stderr")

    p_run = sub.add_parser("run", help="solve a model file (models/aqueous/*.yaml, models/gas/*.yaml)")
    common(p_run)
    p_run.add_argument("--json", action="store_true", help="same as --format json")
    p_sw = sub.add_parser("sweep", help="solve a model over a range of one input")
    common(p_sw)
    p_sw.add_argument("--sweep", required=True, metavar="KEY=START:STOP:STEP", help="e.g. phi=0.5:2.0:0.01")
    p_mod = sub.add_parser("models", help="list the model files (one line each)")
    p_mod.add_argument("dir", nargs="?", help="folder to search (default: the bundled models/)")
    p_b = sub.add_parser("bench", help="speed and agreement against a peer (suites: chemsolve bench --list)")
    p_b.add_argument("suite", nargs="?", help="engine, gas or aqueous (chemsolve.bench.SUITES)")
    p_b.add_argument("--n", type=int, help="size: states or waters (default: the suite's, seconds on 2 cores)")
    p_b.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    p_b.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p_b.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p_b.add_argument("--list", action="store_true", help="list the suites")
    args = parser.parse_args(argv)
    out = None
    try:
        if args.command == "demo":
            if args.states < 1:
                parser.error(f"--states must be >= 1, got {args.states}")
            return demo(args.states)
        if args.command == "models":
            return list_models(args.dir)
        if args.command == "bench":
            from .bench import command

            return command(args.suite, args.n, args.threads, args.format, args.quiet, list_only=args.list)
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        sets = _parse_sets(args.set)
        if args.command == "run":
            fmt = args.format or ("json" if args.json else "table")
            return run(args.model, out=out, overrides=sets, fmt=fmt)
        if args.command == "sweep":
            return sweep(args.model, args.sweep, out=out, overrides=sets, fmt=args.format or "table",
                         quiet=args.quiet)
    except ChemsolveError as e:  # bad input: one line, the culprit named, non-zero exit
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
    return 2


if __name__ == "__main__":
    sys.exit(main())
