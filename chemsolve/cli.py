"""The ``chemsolve`` command.

``chemsolve demo`` solves the bundled propane-combustion equilibrium (Meintjes & Morgan 1990)
with each damping schedule, then a batch of states; it exits non-zero if the recommended
configuration fails anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any

import numpy as np

from . import __version__
from .tables import need_parquet as _need_parquet
from .tables import table as _table


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
    worst: Any = None
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
    print(f"   (first call: {compile_s:.1f} s, not counted below; it compiles the batch kernel on a machine's first "
          "run and loads it from numba's disk cache afterwards)", file=out)
    print(_table(rows, ["max_rel_step", "status counts", "converged & >= 0", "wall time", "states/s"]), file=out)
    if not worst.success.all():
        print(f"\nerror: {int((~worst.success).sum())} states did not converge with max_rel_step=0.9", file=sys.stderr)
        return 1
    return 0


def run(path: str, as_json: bool = False, out=sys.stdout, overrides: dict[str, str] | None = None,
        fmt: str | None = None) -> int:
    """Solve one model file and print the result (its kind's ``report``); exit 1 if it did not converge."""
    from .models import load_model
    from .registry import kind_of

    fmt = fmt or ("json" if as_json else "table")
    model = load_model(path, overrides)
    return kind_of(model).report(model, model.run(), fmt, out)


def _is_phreeqc_input(path: str) -> bool:
    """``aqueous.phreeqc_input.looks_like_phreeqc_input``, imported only for a file that may be one (a
    model file or a bundled model's name does not load the aqueous package)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".yaml", ".yml") or not (suffix in (".pqi", ".phr") or os.path.isfile(path)):
        return False
    from .aqueous.phreeqc_input import looks_like_phreeqc_input

    return looks_like_phreeqc_input(path)


def run_phreeqc(args: argparse.Namespace, output) -> int:
    """``chemsolve run input.pqi``: a PHREEQC input through ``aqueous.phreeqc_input.run_file``.
    ``output``: opens the destination (stdout, or ``--output`` written whole or not at all). The
    model-file options that mean nothing here are refused, naming the option."""
    from .aqueous.phreeqc_input import run_file
    from .errors import InvalidInputError

    for opt, given in (("--set", args.set), ("--plot", args.plot)):
        if given:
            raise InvalidInputError(f"{opt} does not apply to a PHREEQC input ({args.model}): edit the input, "
                                    "or use a model file (chemsolve models)")
    fmt = args.format or ("json" if args.json else "table")
    if fmt == "parquet":
        raise InvalidInputError(f"--format parquet: a PHREEQC input ({args.model}) is written as table, json or csv")
    return run_file(args.model, fmt, output(), args.database)


def _parse_sets(items: list[str] | None) -> dict[str, str]:
    from .errors import InvalidInputError

    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            raise InvalidInputError(f"--set {it!r}: expected KEY=VALUE, e.g. T=350K or pH=7")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


_UNIT_TAIL = __import__("re").compile(r"^(.*?[\d.])\s*([A-Za-z\u00b0%][\w/*\u00b0^.]*)$")


def _parse_sweep(text: str) -> tuple[str, np.ndarray, str | None]:
    """``phi=0.5:2.0:0.01`` -> ("phi", [0.5, 0.51, ..., 2.0], None) (stop included when on the grid);
    ``T=300,350,400`` -> ("T", [300, 350, 400], None); ``P=1:3:1bar`` -> ("P", [1, 2, 3], "bar"): a unit
    after the last number applies to all of them."""
    from .errors import InvalidInputError

    unit = None
    try:
        key, rng = text.split("=", 1)
        m = _UNIT_TAIL.match(rng.strip())
        if m:
            rng, unit = m.group(1), m.group(2)
        if "," in rng or ":" not in rng:
            vals = np.array([float(x) for x in rng.split(",")])
            if not np.isfinite(vals).all():
                raise ValueError
            return key.strip(), vals, unit
        a, b, c = (float(x) for x in rng.split(":"))
    except ValueError:
        raise InvalidInputError(f"--sweep {text!r}: expected KEY=START:STOP:STEP or KEY=V1,V2,... with an optional "
                                "unit after the last number, e.g. phi=0.5:2.0:0.01 or P=1:3:1bar") from None
    if not (np.isfinite([a, b, c]).all() and c != 0 and (b - a) / c >= 0):
        raise InvalidInputError(f"--sweep {text!r}: STEP must be non-zero and lead from START to STOP")
    n = int(np.floor((b - a) / c + 1e-9)) + 1
    if n > 100_000_000:
        raise InvalidInputError(f"--sweep {text!r}: {n:,} points; at most 100,000,000")
    return key.strip(), a + c * np.arange(n), unit


def _sweep_units(path: str, overrides: dict[str, str] | None, key: str, values: np.ndarray,
                 unit: str | None) -> np.ndarray:
    """``--sweep`` values read as ``--set`` reads a value: in the unit written after them, else in the
    file's unit for that quantity (its ``units:``), converted to chemsolve's (K, Pa, mol/kgw)."""
    from .aqueous.kind import _MOLALITY
    from .errors import InvalidInputError
    from .modelfile import _ALIASES, _QUANTITIES, _linear, read_model_file

    q = key if key in ("T", "P", "H", "S") else ("totals" if key.startswith("totals.") else None)
    if q is None:
        if unit is not None:
            raise InvalidInputError(f"--sweep {key}: takes no unit (got {unit!r}); units apply to T, P and totals")
        return values
    _, data, _ = read_model_file(path, overrides)
    units = data.get("units")
    file_units: dict = units if isinstance(units, dict) else {}
    given = unit or str(file_units.get(q, "mol/kgw" if q == "totals" else _QUANTITIES[q][0]))
    if q == "totals":
        factor = _MOLALITY.get(_ALIASES.get(given, given))
        if factor is None:
            raise InvalidInputError(f"--sweep {key}: totals sweep in a molality unit (mol/kgw, mmol/kgw, umol/kgw), "
                                    f"not {given!r}" + ("" if unit else " (the file's units.totals): give one, e.g. "
                                                        f"{key}=1:5:1mmol/kgw"))
        return values * factor
    target, dim = _QUANTITIES[q]
    try:
        scale, offset = _linear(given, target, dim)
    except ValueError as e:
        raise InvalidInputError(f"--sweep {key}: unit {given!r} {e}") from None
    return values * scale + offset


def _default_species(model, grid: dict, k: int = 6) -> list[str] | None:
    """The ``k`` most abundant species over a probe of at most 24 grid points (cold solves), for
    the columns of a CLI sweep; None for the engine (its unknowns are all shown)."""
    from .registry import kind_of
    from .sweeps import grid_columns
    from .sweeps import sweep as run_sweep

    pre = kind_of(model).amount_prefix
    if pre is None:
        return None
    cols = grid_columns(grid)
    n = len(next(iter(cols.values())))
    pick = np.unique(np.linspace(0, n - 1, min(n, 24)).round().astype(int))
    import pandas as pd

    probe = run_sweep(model, pd.DataFrame({c: a[pick] for c, a in cols.items()}), chunk=1)
    amounts = probe[[c for c in probe.columns if c.startswith(pre)]].max()
    return [c[2:] for c in amounts.sort_values(ascending=False).index[:k]]


def _dask_client(spec: str | None):
    """``--dask local[:N]`` starts a LocalCluster of N worker processes (default 2); any other
    text is a scheduler address (``tcp://host:8786``)."""
    if spec is None:
        return None, None
    from .errors import require

    distributed = require("distributed")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if spec == "local" or spec.startswith("local:"):
        n = int(spec.split(":", 1)[1]) if ":" in spec else 2
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    return Client(spec), None


def sweep(path: str, specs: list[str] | str, out=sys.stdout, overrides: dict[str, str] | None = None,
          fmt: str = "table", quiet: bool = False, species: str | None = None, chunk: int = 1024,
          dask: str | None = None, plot: str | None = None) -> int:
    """Solve a model over a grid (one ``--sweep`` per input, Cartesian product, first slowest):
    ``chemsolve.sweeps.sweep`` in warm-started chunks, on local cores or on Dask; one row per state.
    ``plot``: also draw the outputs vs the swept input into this PNG file (one-input sweeps)."""
    from .errors import InvalidInputError
    from .models import load_model
    from .sweeps import sweep as run_sweep

    specs = [specs] if isinstance(specs, str) else list(specs)
    grid: dict[str, np.ndarray] = {}
    for text in specs:
        key, values, unit = _parse_sweep(text)
        grid[key] = _sweep_units(path, overrides, key, values, unit)
    if plot and len(grid) != 1:
        raise InvalidInputError(f"--plot draws a sweep of one input, not of {len(grid)} ({', '.join(grid)})")
    model = load_model(path, overrides)
    from .registry import kind_of

    full = kind_of(model).complete_grid(model, grid)  # a range of the file the grid leaves out is kept
    if set(full) != set(grid) and not quiet:
        extra = ", ".join(f"{k} ({len(full[k])} values)" for k in full if k not in grid)
        print(f"note: the model file's own range is swept too: {extra}", file=sys.stderr)
    grid = full
    n = int(np.prod([len(v) for v in grid.values()]))
    sp = [s.strip() for s in species.split(",") if s.strip()] if species else _default_species(model, grid)
    client, cluster = _dask_client(dask)
    t0 = time.perf_counter()
    try:
        df = run_sweep(model, grid, scheduler=client, species=sp, chunk=chunk, progress=not quiet)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    dt = time.perf_counter() - t0
    df["status"] = df["status"].astype(str)
    if fmt == "parquet":
        from .outfile import atomic_path

        with atomic_path(out) as tmp:
            df.to_parquet(tmp)
    elif fmt == "csv":
        df.to_csv(out, index=False, float_format="%.10g", lineterminator="\n")
    elif fmt == "json":
        import json

        json.dump({"model": model.name, "file": model.path, "sweep": list(grid), "columns": list(df.columns),
                   "rows": df.to_numpy().tolist()}, out, indent=1)
        out.write("\n")
    else:
        rows = df.to_numpy().tolist()
        shown = rows if len(rows) <= 200 else rows[:100] + rows[-100:]
        print(_table([[f"{c:.6g}" if isinstance(c, float) else c for c in r_] for r_ in shown], list(df.columns)),
              file=out)
        if len(rows) > 200:
            print(f"({len(rows):,} rows; first and last 100 shown; --format csv or parquet for all)", file=out)
    if plot:
        from .plots import plot_columns

        plot_columns(list(df.columns), df.to_numpy().tolist(), plot, title=f"{model.name}: sweep of {key}",
                     families=kind_of(model).column_families)
    if not quiet:
        where = "on Dask" if client is not None else "locally"
        print(f"{n:,} states in {dt:.2f} s ({n / dt:,.0f} states/s, {where})", file=sys.stderr)
    bad = np.flatnonzero(df["status"].to_numpy() != "CONVERGED")
    if bad.size:
        first = ", ".join(f"{k} = {df[k].iat[bad[0]]:.6g}" for k in grid)
        print(f"error: {path}: {bad.size} of {n} state(s) did not converge "
              f"(first: {first}, {df['status'].iat[bad[0]]})", file=sys.stderr)
        return 1
    return 0


def _cell(text: str, width: int = 0) -> str:
    """One table cell on one line whatever a file holds: runs of white space (NEL, LS and PS included)
    become one space, other unprintable characters are shown escaped, long text is cut with '...'."""
    text = " ".join(text.split())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if not width or len(text) <= width else text[: width - 3] + "..."


def list_models(root: str | None, out=sys.stdout) -> int:
    """One line per model file under ``root`` (default: the bundled models, from this checkout or as
    installed with the wheel); ``chemsolve run NAME`` runs a bundled one by the name listed."""
    from pathlib import Path

    from .errors import InvalidInputError
    from .modelfile import bundled_models_dir, read

    if root is None:
        found = bundled_models_dir()
        root = str(found if found is not None else Path.cwd() / "models")
    base = Path(root)
    if not base.is_dir():
        raise InvalidInputError(f"no models folder at {root!r}; give one: chemsolve models DIR")
    files = sorted(base.rglob("*.yaml"))
    rows = []
    for f in files:
        try:
            data, _ = read(f)
        except Exception as e:  # noqa: BLE001 - list the broken file with its reason
            rows.append([_cell(str(f.relative_to(base))), "?", _cell(f"unreadable: {e}")])
            continue
        if isinstance(data, dict) and "kind" in data:
            rows.append([_cell(str(f.relative_to(base))), _cell(str(data.get("kind")), 20),
                         _cell(str(data.get("name", "")), 100)])
    if not rows:
        raise InvalidInputError(f"no model files (*.yaml with kind:) under {root!r}")
    print(_table(rows, ["model", "kind", "name"]), file=out)
    return 0


def warmup(out=sys.stdout) -> int:
    """Compile (or load) every model kind's kernels once, so that no later first run waits; an install
    script can run it. A kind whose optional package is missing is skipped and said so."""
    from .errors import MissingExtraError
    from .registry import get, names

    for name in names():
        t = time.perf_counter()
        try:
            what = get(name).warmup()
        except MissingExtraError as e:
            print(f"{name}: skipped ({e})", file=out)
            continue
        print(f"{name}: {what}: {time.perf_counter() - t:.1f} s", file=out, flush=True)
    return 0


def _main(argv: list[str] | None) -> int:
    from .errors import ChemsolveError
    from .outfile import atomic_open

    parser = argparse.ArgumentParser(prog="chemsolve", description="Fast, honest equilibrium solvers.")
    parser.add_argument("--version", action="version", version=f"chemsolve {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="solve the bundled propane-combustion example")
    p_demo.add_argument("--states", type=int, default=10_000, help="batch size (default 10000)")
    sub.add_parser("warmup", help="compile every model's kernels once (first use on a machine), e.g. after install")

    def common(p):
        p.add_argument("model", help="a model YAML file, or a bundled model's name as `chemsolve models` lists it "
                                     "(e.g. gas/hydrogen_air); its kind: picks the model kind (chemsolve.registry)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override an input, e.g. --set T=350K --set pH=7 --set totals.Na=0.5 --set params.R=20 "
                            "--set solver.max_iter=50 (repeatable)")
        p.add_argument("--format", choices=("table", "json", "csv", "parquet"), default=None,
                       help="output format (parquet needs --output and pyarrow)")
        p.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE instead of stdout")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress or timing on stderr")
        p.add_argument("--plot", metavar="FILE.png", help="also draw the result into FILE.png (needs chemsolve[plot])")

    p_run = sub.add_parser("run", help="solve a model file (the bundled ones: chemsolve models; "
                                       "schema: models/README.md) or run a PHREEQC input file (.pqi)",
                           description="MODEL is a model file, or a PHREEQC input: a file ending in .pqi or .phr, "
                                       "or whose first keyword is a PHREEQC one (SOLUTION, TITLE, ...). A PHREEQC "
                                       "input prints one row per calculation (--format table: T, pH, pe, I, mass of "
                                       "water, SI and moles of the equilibrium phases, then SELECTED_OUTPUT; json "
                                       "and csv add every molality and saturation index); --set and --plot apply "
                                       "to model files only.")
    common(p_run)
    p_run.add_argument("--json", action="store_true", help="same as --format json")
    p_run.add_argument("--database", metavar="FILE_OR_NAME",
                       help="PHREEQC inputs only: the database, a file or a bundled name (phreeqc.dat, wateq4f.dat, "
                            "minteq.v4.dat; default phreeqc.dat). A model file names its own in its database: key")
    p_sw = sub.add_parser("sweep", help="solve a model over a grid of inputs (warm-started chunks, local or Dask)")
    common(p_sw)
    p_sw.add_argument("--sweep", required=True, action="append", metavar="KEY=START:STOP:STEP",
                      help="an input range, read as --set reads a value: in the unit written after the last "
                           "number, else in the file's units: e.g. phi=0.5:2.0:0.01, T=300,350,400, P=1:3:1bar, "
                           "T=20:80:10degC; repeat for a grid")
    p_sw.add_argument("--species", metavar="A,B,...", help="species columns (default: the 6 most abundant)")
    p_sw.add_argument("--chunk", type=int, default=1024, help="rows per warm-started chunk (default 1024)")
    p_sw.add_argument("--dask", metavar="ADDRESS|local[:N]",
                      help="run the chunks on a Dask cluster: a scheduler address, or local:N worker processes")
    p_mod = sub.add_parser("models", help="list the model files (one line each)")
    p_mod.add_argument("dir", nargs="?", help="folder to search (default: the bundled models/)")
    p_b = sub.add_parser("bench", help="speed and agreement against a peer (suites: chemsolve bench --list)")
    p_b.add_argument("suite", nargs="?", help="a suite name (chemsolve bench --list)")
    p_b.add_argument("--n", type=int, help="size: states or waters (default: the suite's, seconds on 2 cores)")
    p_b.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    p_b.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p_b.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p_b.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p_b.add_argument("--list", action="store_true", help="list the suites")
    args = parser.parse_args(argv)
    if getattr(args, "quiet", False):  # -q: nothing on stderr but errors, compile notices included
        os.environ["CHEMSOLVE_QUIET"] = "1"
    try:
        with contextlib.ExitStack() as files:  # an output file is renamed into place only when complete
            def output():
                return files.enter_context(atomic_open(args.output)) if args.output else sys.stdout

            if args.command == "demo":
                if args.states < 1:
                    parser.error(f"--states must be >= 1, got {args.states}")
                return demo(args.states)
            if args.command == "warmup":
                return warmup()
            if args.command == "models":
                return list_models(args.dir)
            if args.command == "bench":
                from .bench import command

                return command(args.suite, args.n, args.threads, args.format, args.quiet, list_only=args.list,
                               out=output())
            if args.command == "run":
                if _is_phreeqc_input(args.model):
                    return run_phreeqc(args, output)
                if args.database:
                    raise ChemsolveError(f"--database is for PHREEQC inputs (.pqi); a model file ({args.model}) "
                                         "names its database in its own database: key")
            if args.plot:  # before any solving: a missing extra is bad input, not a late surprise
                from .plots import require_matplotlib

                require_matplotlib()
            sets = _parse_sets(args.set)
            if args.format == "parquet":
                _need_parquet(args.output)
                out = args.output
            else:
                out = output()
            if args.command == "run":
                fmt = args.format or ("json" if args.json else "table")
                code = run(args.model, out=out, overrides=sets, fmt=fmt)
                if args.plot:
                    import warnings

                    from .aqueous import DatabaseWarning
                    from .models import load_model
                    from .plots import plot_model

                    with warnings.catch_warnings():  # skipped database blocks: listed by load_database
                        warnings.simplefilter("ignore", DatabaseWarning)
                        plot_model(load_model(args.model, sets), args.plot)
                return code
            if args.command == "sweep":
                if args.chunk < 1:
                    parser.error(f"--chunk must be >= 1, got {args.chunk}")
                return sweep(args.model, args.sweep, out=out, overrides=sets, fmt=args.format or "table",
                             quiet=args.quiet, species=args.species, chunk=args.chunk, dask=args.dask,
                             plot=args.plot)
    except ChemsolveError as e:  # bad input: one line, the culprit named, non-zero exit
        _error(e)
        return 2
    except BrokenPipeError:
        raise
    except OSError as e:
        _error(e)
        return 2
    return 2


def _error(e: BaseException) -> None:
    """``error: <message>`` on one line of at most ~2,000 characters, whatever the message holds."""
    text = " ".join(str(e).split())
    print(f"error: {text if len(text) <= 2000 else text[:1996] + ' ...'}", file=sys.stderr)


def _interrupted_again(signum, frame):  # noqa: ARG001 - signal handler signature
    """A second Ctrl-C while the first one's clean-up runs: leave at once (a temporary output file
    may stay behind; its name ends in .part)."""
    os.write(2, b"chemsolve: interrupted again; exiting without clean-up\n")
    os._exit(130)


def _on_sigint(signum, frame):  # noqa: ARG001
    signal.signal(signal.SIGINT, _interrupted_again)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """The ``chemsolve`` command. Exit status: 0 done (converged), 1 some state did not converge,
    2 bad input (one line on stderr: ``error: ...``), 130 interrupted by Ctrl-C (one line, no
    traceback, no partial output file), 141 when the reader of stdout went away (``| head``)."""
    handler = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handler = signal.signal(signal.SIGINT, _on_sigint)
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except KeyboardInterrupt:  # (our handler already turned a second Ctrl-C into an immediate exit)
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            print("chemsolve: interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        # the reader (head, less) has gone: say nothing, and keep the interpreter's final flush of
        # stdout from failing again ("Exception ignored ... BrokenPipeError")
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return 141  # 128 + SIGPIPE: what a shell reports for a C tool stopped by a closed pipe
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)


if __name__ == "__main__":
    sys.exit(main())
