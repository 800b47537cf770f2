"""Speed and agreement benchmarks shipped with the package: ``chemsolve bench SUITE``.

Each suite runs chemsolve and a peer on the same inputs in one process, reports the first calls
(numba compile or cache load) apart from steady state, counts solved states beside every timing
(a fast failure never counts as a win) and checks agreement against the tolerance the tests use:

- ``engine``: the bundled propane equilibrium (``chemsolve.kernels.examples``) vs
  ``scipy.optimize.root(method="hybr")``, the paper's state and ``--n`` random (R, P) states;
- ``gas``: gri30 vs Cantera's ``equilibrate`` on random TP and HP states and a warm HP sweep over phi;
- ``aqueous``: random waters on phreeqc.dat vs PHREEQC (IPhreeqc, PyPI package ``phreeqc``);
- ``sweep``: ``chemsolve.sweep`` of the bundled flame and seawater models, locally and on a Dask
  LocalCluster (the two tables must be identical), beside a loop of one solve per state;
- ``flash``: the (T, P) flash of five alkanes vs ``thermo`` and ``thermopack``, cold and warm-started
  (``chemsolve.flash.bench``).

A missing peer is reported ("peer not installed") and the suite shows chemsolve's own numbers.
Exit codes (``command``): 0 agreement within tolerance, 1 a disagreement or a state chemsolve
reports as converged that the judge rejects, 2 bad input.

Adding a suite: write ``def _sweep(n: int, peer: str | None, log) -> Report``
(``peer`` is the peer's version, None when it is not installed; ``log(text)`` prints progress to
stderr unless --quiet) that fills ``Report.rows`` (``Row``: one ``peer=True`` row per case gives the
ratio column) and ``Report.checks`` (``Check``: largest difference, tolerance and where it comes
from) and returns ``rep.finish()``; then add one entry to ``SUITES``:
``"name": Suite(_fn, default_n=..., peer="importable module", about="one line")``, or, for a model kind's
own suite kept in its folder, set ``bench_suite`` on its ``ModelKind`` (``suites()`` lists both).
The CLI (``chemsolve bench name``), ``--list``, ``--n``, ``--threads``, the table, ``--format json``
and the exit code pick it up from there.

The helpers (``best_of``, ``first_call``, ``rel_dx``, ``aqueous_diff``, ``waters``, the gas feeds,
``PhreeqcPeer``) are shared with ``benchmarks/*.py`` and the tests.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

JUDGE = 1e-8  # engine: solved = success and max|F(x)| <= JUDGE, recomputed by the benchmark
XTOL = 1e-6  # gas: relative, mole fractions above 1e-12 (tests/test_gas.py)
TTOL = 1e-6  # gas: |dT| [K] in HP (tests/test_gas.py)
AQ_TOL = 1e-3  # aqueous: pH, log10 molality > 1e-12, SI (tests/test_aqueous_speciation.py)
ONE_ATM = 101325.0  # [Pa]


# ---------------------------------------------------------------------------------------------
# timing and agreement core (shared with benchmarks/*.py)
# ---------------------------------------------------------------------------------------------


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """(best wall time [s] of ``repeat`` calls, the last call's result)."""
    best, out = math.inf, None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def first_call(fn: Callable[[], Any]) -> float:
    """Wall time [s] of one call: the numba compile (or cache load) a benchmark reports apart."""
    return best_of(fn, 1)[0]


def rel_dx(x: np.ndarray, ref: np.ndarray, floor: float = 1e-12) -> float:
    """max |x - ref| / ref over the entries of ``ref`` above ``floor`` (0 if none)."""
    vis = ref > floor
    return float(np.max(np.abs(x[vis] - ref[vis]) / ref[vis])) if vis.any() else 0.0


def aqueous_diff(pH: float, molality: dict, si: dict, theirs) -> tuple[float, float, float]:
    """(|dpH|, max |d log10 m| over PHREEQC's species above 1e-12 mol/kgw, max |dSI| over common
    phases) of one water; a species PHREEQC has and chemsolve lacks counts as inf."""
    dlm = max((abs(math.log10(molality[s]) - lm) if molality.get(s, 0.0) > 0 else math.inf
               for s, lm in theirs.log_molality.items() if lm > -12), default=0.0)
    dsi = max((abs(si[p] - v) for p, v in theirs.saturation_index.items() if p in si), default=0.0)
    return abs(pH - theirs.pH), dlm, dsi


# ---------------------------------------------------------------------------------------------
# shared inputs: random waters, gas feeds, the PHREEQC peer
# ---------------------------------------------------------------------------------------------

MAJORS = ("Na", "K", "Ca", "Mg", "Cl", "S(6)", "C(4)")
PHASES = ("Calcite", "Aragonite", "Dolomite", "Gypsum", "Anhydrite", "Halite", "Sylvite", "CO2(g)")


def waters(n: int, seed: int = 11):
    """n random waters (totals {MAJORS: 1e-6..1 mol/kgw log-uniform}, T 0-90 C [K], pH 2-12 or
    None (30 %, charge balance)), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        totals = {k: float(10 ** rng.uniform(-6, 0)) for k in MAJORS}
        T = 273.15 + float(rng.uniform(0, 90))
        pH = None if rng.random() < 0.3 else float(rng.uniform(2, 12))
        yield totals, T, pH


FUELS = {"CH4": {"C": 1, "H": 4}, "H2": {"H": 2}, "C3H8": {"C": 3, "H": 8}, "C2H2": {"C": 2, "H": 2}}
AIR_N2 = 3.76  # N2 per O2 in air (the usual 79/21 split)
AIR_AR = 0.0445  # Ar per O2 in air (0.934 % Ar / 20.95 % O2)


def feed(fuel: str, oxidizer: str, phi: float) -> dict[str, float]:
    """Moles of fuel, O2 (and N2, AR for air) at equivalence ratio phi (names as in gri30)."""
    c = FUELS[fuel]
    o2 = (c.get("C", 0) + c.get("H", 0) / 4.0) / phi
    x = {fuel: 1.0, "O2": o2}
    if oxidizer == "air":
        x["N2"] = AIR_N2 * o2
        x["AR"] = AIR_AR * o2
    return x


def random_feeds(n: int, seed: int) -> list[tuple[dict[str, float], float, float, str]]:
    """n states (X, T [K], P [Pa], mode): CH4, H2, C3H8 or C2H2 with air or O2, phi 0.3-4,
    T 300-5000 K, P 0.01-100 atm (log-uniform), mode TP or HP; reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        fuel = str(rng.choice(list(FUELS)))
        ox = str(rng.choice(["air", "O2"]))
        phi = float(rng.uniform(0.3, 4.0))
        T = float(rng.uniform(300.0, 5000.0))
        P = ONE_ATM * 10.0 ** float(rng.uniform(-2.0, 2.0))
        mode = str(rng.choice(["TP", "HP"]))
        out.append((feed(fuel, ox, phi), T, P, mode))
    return out


def feed_matrix(mix, feeds) -> np.ndarray:
    """(n, ng) mole-fraction rows of ``feeds`` (dicts) in ``mix.species_names`` order."""
    X = np.zeros((len(feeds), mix.n_species))
    for i, f in enumerate(feeds):
        for name, v in f.items():
            X[i, mix.species_index(name)] = v
    return X / X.sum(axis=1, keepdims=True)


@dataclass
class PeerResult:
    pH: float
    ionic_strength: float
    water_activity: float
    log_molality: dict[str, float]  # every aqueous species PHREEQC reports
    saturation_index: dict[str, float]
    phase_moles: dict[str, float]  # moles dissolved of each equilibrium phase
    totals: dict[str, float] = field(default_factory=dict)  # TOT(key) [mol/kgw] of each given total


class PhreeqcPeer:
    """IPhreeqc (PyPI package ``phreeqc``) with a bundled database loaded: runs one SOLUTION and
    reads back what chemsolve computes, from PHREEQC's own BASIC functions."""

    def __init__(self, database: str = "phreeqc.dat"):
        import phreeqc

        self.ip = phreeqc.Phreeqc()
        if self.ip.LoadDatabase(str(Path(__file__).resolve().parent / "data" / database)) != 0:
            raise RuntimeError(self.ip.GetErrorString())

    def solution(self, totals: dict[str, float], T: float, pH: float | None, pe: float = 4.0,
                 phases: tuple[str, ...] = (), equilibrium_phases: dict | None = None, units: str = "mol/kgw",
                 density: float = 1.0) -> PeerResult | None:
        """Speciate in PHREEQC (totals in ``units``, default mol/kgw; ``density`` [kg/L]; T in K, pH
        None = charge balance); None if it fails. ``totals`` of the result: PHREEQC's molalities.
        With ``equilibrium_phases`` ({name: (SI, moles)}) the reported state is after EQUILIBRIUM_PHASES;
        ``phase_moles`` then holds the moles dissolved of each."""
        lines = ["SOLUTION 1", f" temp {T - 273.15:.15g}", f" units {units}", f" pe {pe:.15g}",
                 f" pH {pH:.15g}" if pH is not None else " pH 7 charge"]
        lines += [f" density {density:.17g}"] if units != "mol/kgw" else []
        lines += [f" {k} {v:.17g}" for k, v in totals.items()]
        eq = equilibrium_phases or {}
        if eq:
            lines.append("EQUILIBRIUM_PHASES 1")
            lines += [f" {k} {si:.15g} {amt:.15g}" for k, (si, amt) in eq.items()]
        si = ", ".join([f'SI("{p}")' for p in phases] + [f'-EQUI_DELTA("{p}")' for p in eq]) or "0"
        lines += ["SELECTED_OUTPUT 1", " -reset false", "USER_PUNCH 1",
                  " -headings " + " ".join(["pH", "mu", "aw", "n"]
                                           + [f"si{i}" for i in range(max(len(phases) + len(eq), 1))]),
                  ' 10 PUNCH -LA("H+"), MU, ACT("H2O")', ' 20 t = SYS("aq", count, name$, type$, moles)',
                  " 30 PUNCH count", f" 35 PUNCH {si}", " 40 FOR i = 1 TO count",
                  " 50 PUNCH name$(i), LM(name$(i))", " 60 NEXT i"]
        lines += [f' {70 + i} PUNCH TOT("{k}")' for i, k in enumerate(totals)] + ["END"]
        if self.ip.RunString("\n".join(lines) + "\n") != 0:
            return None
        out = self.ip.GetSelectedOutput()
        vals = [out[k][-1] for k in out]  # the last row: after the equilibrium phases, if any
        ph_, mu, aw, n = vals[:4]
        nphi = max(len(phases) + len(eq), 1)
        sis = dict(zip(phases, vals[4:4 + len(phases)]))
        moles = dict(zip(eq, vals[4 + len(phases):4 + len(phases) + len(eq)]))
        rest = vals[4 + nphi:]
        lm = {rest[2 * i]: rest[2 * i + 1] for i in range(int(n))}
        return PeerResult(ph_, mu, aw, lm, sis, moles, dict(zip(totals, rest[2 * int(n):])))

    def basic(self, T: float, expressions: list[str]) -> list[float]:
        """Values of PHREEQC BASIC expressions (e.g. 'DH_A') in pure water at T [K]."""
        heads = " ".join(f"c{i}" for i in range(len(expressions)))
        body = "\n".join(f" {10 * (i + 1)} PUNCH {e}" for i, e in enumerate(expressions))
        inp = (f"SOLUTION 1\n temp {T - 273.15:.15g}\nSELECTED_OUTPUT 1\n -reset false\nUSER_PUNCH 1\n"
               f" -headings {heads}\n{body}\nEND\n")
        if self.ip.RunString(inp) != 0:
            raise RuntimeError(self.ip.GetErrorString())
        out = self.ip.GetSelectedOutput()
        return [out[k][0] for k in out]


# ---------------------------------------------------------------------------------------------
# reports and the suite registry
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One code on one case: ``solved`` of ``total``, time per solve [s], median iterations."""

    case: str
    code: str
    solved: int
    total: int
    seconds: float
    iterations: float | None = None
    peer: bool = False  # the peer's row of this case: the ratio column is its time / each row's time
    ratio: float | None = None

    def __post_init__(self) -> None:  # plain Python numbers: the report goes to JSON
        self.solved, self.total, self.seconds = int(self.solved), int(self.total), float(self.seconds)
        self.iterations = None if self.iterations is None else float(self.iterations)


@dataclass
class Check:
    """Largest difference from the peer over ``compared`` states, against ``tol`` (named by ``source``).
    ``beyond``: states beyond tol that no second look explains; ``explained``: beyond tol of the peer's
    default answer but confirmed by the peer's own second look (named in the report's notes)."""

    quantity: str
    value: float
    tol: float
    source: str
    compared: int
    beyond: int = 0
    explained: int = 0

    def __post_init__(self) -> None:
        self.value, self.tol = float(self.value), float(self.tol)
        self.compared, self.beyond, self.explained = int(self.compared), int(self.beyond), int(self.explained)

    @property
    def ok(self) -> bool:
        return self.beyond == 0


@dataclass
class Report:
    suite: str
    title: str
    n: int
    threads: int
    peer: str  # e.g. "Cantera 3.2.0", or "Cantera: peer not installed"
    compile_s: float = 0.0
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def finish(self) -> Report:
        for r in self.rows:
            ref = next((p for p in self.rows if p.peer and p.case == r.case), None)
            r.ratio = ref.seconds / r.seconds if ref is not None and r.seconds > 0 else None
        return self

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        for c, cd in zip(self.checks, d["checks"]):
            cd["ok"] = c.ok
        return d


@dataclass(frozen=True)
class Suite:
    run: Callable[[int, str | None, Callable[[str], None]], Report]  # (n, peer version, log) -> Report
    default_n: int
    peer: str  # the peer's module; its absence is reported, not raised
    about: str


def _peer_version(module: str) -> str | None:
    import importlib.metadata

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    try:
        return str(getattr(mod, "__version__", None) or importlib.metadata.version(module))
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _threads_text(k: int) -> str:
    return f"{k} thread" if k == 1 else f"{k} threads"


def _med(v) -> float | None:
    v = [float(x) for x in v]
    return float(statistics.median(v)) if v else None


# ---------------------------------------------------------------------------------------------
# suites
# ---------------------------------------------------------------------------------------------


def _engine(n: int, peer: str | None, log) -> Report:
    import chemsolve as cs

    from .kernels import examples as ex
    from .kernels import threads

    rep = Report("engine", f"propane equilibrium (Meintjes & Morgan 1990, 5 unknowns): the paper's state and {n} "
                 "random states, R in [3, 40], P in [1, 1000]", n, threads()[0],
                 f"scipy {peer} optimize.root(method='hybr', same jitted residual and Jacobian)" if peer
                 else "scipy: peer not installed")
    rng = np.random.default_rng(0)
    params = np.column_stack([rng.uniform(3.0, 40.0, n), 10 ** rng.uniform(0.0, 3.0, n)])
    X0 = np.tile(ex.PAPER_START, (n, 1))
    f, j, p0 = ex.propane, ex.propane_jac, ex.PAPER_PARAMS
    kw = {"jac": j, "max_rel_step": 0.9}  # the step cap keeps every amount positive (see chemsolve demo)
    log("engine: first calls (numba compile of the batch kernel for this residual)")
    rep.compile_s = first_call(lambda: (cs.solve_batch(f, X0[:2], params[:2], **kw),
                                        cs.solve(f, X0[0], args=(p0,), **kw)))
    resid = lambda x, p: float(np.max(np.abs(f(x, p))))
    claimed: list[float] = []  # max|F| of every state chemsolve reports converged

    def judged(ok, x, p) -> bool:
        if ok:
            claimed.append(resid(x, p))
        return bool(ok) and resid(x, p) <= JUDGE

    case = "propane, paper's state"
    if peer:
        from scipy.optimize import root

        t, r = best_of(lambda: root(f, ex.PAPER_START, args=(p0,), jac=j, method="hybr"), 20)
        rep.rows.append(Row(case, "scipy root hybr", int(r.success and resid(r.x, p0) <= JUDGE), 1, t, peer=True))
    t, r = best_of(lambda: cs.solve(f, ex.PAPER_START, args=(p0,), **kw), 20)
    rep.rows.append(Row(case, "chemsolve solve", int(judged(r.success, r.x, p0)), 1, t, r.nit))
    case = f"propane, {n} random states"
    log(f"engine: {n} states, one call per state, then one batch")
    if peer:
        t0 = time.perf_counter()
        sp = [root(f, X0[i], args=(params[i],), jac=j, method="hybr") for i in range(n)]
        t = (time.perf_counter() - t0) / n
        rep.rows.append(Row(case, "scipy root hybr, one call per state",
                            sum(bool(r.success) and resid(r.x, params[i]) <= JUDGE for i, r in enumerate(sp)), n, t,
                            peer=True))
        rep.notes.append(f"scipy hybr reports no iteration count: median nfev {_med(r.nfev for r in sp):g} "
                         "(random states)")
    t0 = time.perf_counter()
    rs = [cs.solve(f, X0[i], args=(params[i],), **kw) for i in range(n)]
    t = (time.perf_counter() - t0) / n
    rep.rows.append(Row(case, "chemsolve solve, one call per state",
                        sum(judged(r.success, r.x, params[i]) for i, r in enumerate(rs)), n, t,
                        _med(r.nit for r in rs)))
    t, b = best_of(lambda: cs.solve_batch(f, X0, params, **kw), 3)
    rep.rows.append(Row(case, f"chemsolve solve_batch, {_threads_text(rep.threads)}",
                        sum(judged(b.success[i], b.x[i], params[i]) for i in range(n)), n, t / n, _med(b.nit)))
    rep.checks.append(Check("max|F| of states chemsolve reports converged", max(claimed, default=0.0), JUDGE,
                            "benchmarks/nonlinear_suite.py judge", len(claimed),
                            sum(c > JUDGE for c in claimed)))
    neg = int((b.x[b.success] < 0).any(axis=1).sum())
    rep.notes.append(f"converged batch states with a negative amount (non-physical root): {neg}")
    return rep.finish()


def _gas(n: int, peer: str | None, log) -> Report:
    from .kernels import threads

    rep = Report("gas", f"gri30: {n} random TP/HP states and a {10 * n}-point warm HP sweep over phi "
                 "(CH4-air, 300 K, 1 atm)", n, threads()[0],
                 f"Cantera {peer} equilibrate (default solver)" if peer else "Cantera: peer not installed")
    from .errors import require

    ct = require("cantera")  # chemsolve reads gri30's thermo through Cantera too: without it, bad input (exit 2)

    from .gas import GasMixture, ThermoRangeWarning

    warnings.simplefilter("ignore", ThermoRangeWarning)  # T up to 5000 K > gri30's 3500 K
    warnings.simplefilter("ignore", UserWarning)  # Cantera's 'outside valid range' notes
    mix = GasMixture.from_cantera("gri30.yaml")
    gas = ct.Solution("gri30.yaml")
    phi = np.linspace(0.5, 2.0, 10 * n)
    Xs = feed_matrix(mix, [feed("CH4", "air", p) for p in phi])
    log("gas: first calls (gas kernels: numba compile on a cold cache, else cache load)")
    rep.compile_s = first_call(lambda: [mix.equilibrate(1500.0, ONE_ATM, x, mode=m) for m in ("TP", "HP")
                                        for x in (Xs[0], Xs[:2])]  # one state and a batch: each loads its own
                               + [mix.equilibrate(300.0, ONE_ATM, Xs[:8], mode="HP", warm_start=True)])
    states = random_feeds(n, 2026)
    xd: dict[str, list[float]] = {}
    td: dict[str, list[float]] = {}
    flags: dict[str, list[bool | None]] = {}  # per state beyond tol: second look good?

    def cantera(X, T, P, mode, **kw):
        gas.TPX = T, P, X
        gas.equilibrate(mode, **kw)
        return gas.X.copy(), gas.T

    def compare(key, res, X, T, P, mode, idx):
        """Cantera on rows idx (timed); per state both converged: rel dX, |dT| and a second look
        where they differ beyond tolerance (as tests/test_gas.py does). Returns (s per state, solved)."""
        t0, ok = time.perf_counter(), 0
        refs = []
        for i in idx:
            try:
                refs.append((i, *cantera(X[i], T[i], P[i], mode)))
                ok += 1
            except ct.CanteraError:
                pass
        t = (time.perf_counter() - t0) / max(len(idx), 1)
        for i, xr, tr in refs:
            if not res.success[i]:
                continue
            ex, dT = rel_dx(res.X[i], xr), (abs(res.T[i] - tr) if mode == "HP" else 0.0)
            xd.setdefault(key, []).append(ex)
            td.setdefault(key, []).append(dT)
            good = None
            if ex > XTOL or dT > TTOL:  # Cantera's default answer may be the one off: Cantera, second look
                try:
                    if mode == "HP":  # Cantera's enthalpy of chemsolve's state = the feed's; X = TP equilibrium at T
                        gas.TPX = T[i], P[i], X[i]
                        h0 = gas.h
                        res.to_cantera(gas, i)
                        good = abs(gas.h - h0) <= 1e-12 * abs(h0) + 1e-6
                        good = good and rel_dx(res.X[i], cantera(X[i], res.T[i], P[i], "TP", solver="gibbs",
                                                                 rtol=1e-12)[0]) <= XTOL
                    else:
                        good = rel_dx(res.X[i], cantera(X[i], T[i], P[i], "TP", solver="gibbs", rtol=1e-12)[0]) <= XTOL
                except ct.CanteraError:
                    good = False
            flags.setdefault(key, []).append(good)
        return t, ok

    for mode in ("TP", "HP"):
        sel = [s for s in states if s[3] == mode]
        if not sel:
            continue
        m, case = len(sel), f"{mode}, {len(sel)} random states"
        X, T, P = feed_matrix(mix, [s[0] for s in sel]), np.array([s[1] for s in sel]), np.array([s[2] for s in sel])
        log(f"gas: {case}")
        t, res = best_of(lambda: mix.equilibrate(T, P, X, mode=mode), 3)  # noqa: B023 - called here
        t_ct, ok_ct = compare(mode, res, X, T, P, mode, range(m))
        rep.rows.append(Row(case, "Cantera equilibrate, one call per state", ok_ct, m, t_ct, peer=True))
        k = min(m, 50)
        t1, one = best_of(lambda: [mix.equilibrate(T[i], P[i], X[i], mode=mode) for i in range(k)], 1)  # noqa: B023
        rep.rows.append(Row(case, f"chemsolve equilibrate, one call per state ({k} states)",
                            sum(r.success for r in one), k, t1 / k, _med(r.nit for r in one)))
        rep.rows.append(Row(case, f"chemsolve batch, {_threads_text(rep.threads)}", int(res.success.sum()), m, t / m,
                            _med(res.nit)))
    ns = len(phi)
    case = f"HP sweep, phi 0.5-2, {ns} points"
    log(f"gas: {case}")
    t, sw = best_of(lambda: mix.equilibrate(300.0, ONE_ATM, Xs, mode="HP", warm_start=True), 3)
    idx = np.unique(np.linspace(0, ns - 1, min(ns, 60)).astype(int))
    t_ct, ok_ct = compare("sweep", sw, Xs, np.full(ns, 300.0), np.full(ns, ONE_ATM), "HP", idx)
    rep.rows.append(Row(case, f"Cantera equilibrate ({len(idx)} of the points)", ok_ct, len(idx), t_ct, peer=True))
    rep.rows.append(Row(case, f"chemsolve warm sweep, {_threads_text(rep.threads)}", int(sw.success.sum()), ns, t / ns,
                        _med(sw.nit)))
    for key, label in (("TP", "TP"), ("HP", "HP"), ("sweep", "HP sweep")):
        if key not in xd:
            continue
        fx, x_, t_ = flags[key], np.array(xd[key]), np.array(td[key])
        for q, v, tol, s in (("max rel dX (X > 1e-12)", x_, XTOL, "tests/test_gas.py XTOL"),
                             ("max |dT| [K]", t_, TTOL, "tests/test_gas.py TTOL")):
            if key == "TP" and q.startswith("max |dT|"):
                continue
            out = v > tol
            rep.checks.append(Check(f"{label}: {q}", float(v.max()), tol, s, len(v),
                                    sum(bool(o) and not fx[i] for i, o in enumerate(out)),
                                    sum(bool(o) and bool(fx[i]) for i, o in enumerate(out))))
    if any(c.explained for c in rep.checks):
        rep.notes.append("explained: beyond tolerance from Cantera's default answer, but chemsolve's state agrees "
                         "with Cantera's 'gibbs' solver (rtol 1e-12) and, in HP, has the feed's enthalpy by Cantera's "
                         "numbers (the second look of tests/test_gas.py)")
    return rep.finish()


def _aqueous(n: int, peer: str | None, log) -> Report:
    """The aqueous suite, kept with its model (``chemsolve.aqueous.bench``)."""
    from .aqueous.bench import suite

    return suite(n, peer, log)


def _cantera_flame_loop(case: str, m, mix, cols, pick) -> Row:
    """The reference row of a gas sweep: Cantera's equilibrate('HP'), one state at a time."""
    import cantera as ct

    from .gas.kind import mix_feed

    gas = ct.Solution(m.mechanism)
    t = time.perf_counter()
    for i in pick:
        gas.TPX = float(cols["T"][i]), m.P, mix_feed(m.fuel, m.oxidizer, float(cols["phi"][i]), m.path,
                                                      lambda *a: m.path)
        gas.equilibrate("HP")
    return Row(case, "Cantera equilibrate('HP'), one state at a time (200 of them)", len(pick), len(pick),
               (time.perf_counter() - t) / len(pick), peer=True)


def _speciate_loop(case: str, m, db, cols, pick) -> Row:
    """The reference row of a water sweep: chemsolve's speciate, one water at a time."""
    from . import aqueous

    t = time.perf_counter()
    one = [aqueous.speciate(db, {**m.totals, "Na": float(cols["totals.Na"][i])}, m.T, float(cols["pH"][i]), m.pe)
           for i in pick]
    return Row(case, "chemsolve speciate, one water at a time (200 of them)", sum(r.success for r in one), len(pick),
               (time.perf_counter() - t) / len(pick), _med(r.nit for r in one), peer=True)


def _sweep(n: int, peer: str | None, log) -> Report:
    """n states per bundled model (gas flame: T x phi, Cantera needed; seawater: Na x pH), one warm
    sweep on this process's cores and the same chunks on a LocalCluster of 2 worker processes; the
    two tables must be identical. The peer row (ratio 1) is the obvious loop of one solve per state,
    on a sample of 200 states."""
    from .errors import InvalidInputError
    from .kernels import threads
    from .modelfile import bundled_models_dir
    from .sweeps import as_model, grid_columns, resource_of, sweep

    rep = Report("sweep", f"{n} states per model: chemsolve.sweep locally and on a Dask LocalCluster "
                 "(2 processes x 1 thread), warm-started chunks of 1024", n, threads()[0],
                 f"dask.distributed {peer} LocalCluster" if peer else "dask.distributed: not installed (local only)")
    root = bundled_models_dir()
    if root is None:
        raise InvalidInputError("bench sweep: the bundled models/ folder is not installed")
    k = max(1, int(round(math.sqrt(n))))
    # (label, model file, grid, species columns, the one-state-at-a-time loop that is the reference row)
    cases = [("aqueous", root / "aqueous" / "seawater.yaml",
              {"totals.Na": np.linspace(0.3, 0.6, max(1, n // k)), "pH": np.linspace(6.0, 9.0, k)}, ["HCO3-", "CO3-2"],
              _speciate_loop)]
    if _peer_version("cantera"):
        cases.insert(0, ("gas", root / "gas" / "methane_air_flame.yaml",
                         {"T": np.linspace(300.0, 700.0, max(1, n // k)), "phi": np.linspace(0.5, 2.0, k)},
                         ["CO2", "CO", "OH", "NO"], _cantera_flame_loop))
    else:
        rep.notes.append("gas case skipped: the flame model reads gri30 through Cantera (pip install cantera)")
    client = cluster = None
    if peer:
        from distributed import Client, LocalCluster

        log("sweep: starting a LocalCluster of 2 worker processes")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        t0 = time.perf_counter()
        for _kind, path, grid, species, _ in cases:
            small = {key: v[:3] for key, v in grid.items()}
            sweep(path, small, species=species)
            if client is not None:
                sweep(path, small, client, species=species)
        rep.compile_s = time.perf_counter() - t0
        for kind, path, grid, species, reference in cases:
            m = as_model(path)
            cols = grid_columns(grid)
            size = len(next(iter(cols.values())))
            case = f"{kind}: {Path(m.path).stem}, {size} states"
            log(f"sweep: {case}")
            pick = np.linspace(0, size - 1, min(size, 200)).round().astype(int)
            rep.rows.append(reference(case, m, resource_of(m), cols, pick))
            t = time.perf_counter()
            local = sweep(path, grid, species=species)
            t_local = time.perf_counter() - t
            ok = int((local["status"] == "CONVERGED").sum())
            rep.rows.append(Row(case, f"chemsolve.sweep, local ({_threads_text(rep.threads)})", ok, size,
                                t_local / size, _med(local["iterations"])))
            if client is None:
                continue
            t = time.perf_counter()
            remote = sweep(path, grid, client, species=species)
            t_dask = time.perf_counter() - t
            rep.rows.append(Row(case, "chemsolve.sweep, Dask LocalCluster (2 processes)",
                                int((remote["status"] == "CONVERGED").sum()), size, t_dask / size,
                                _med(remote["iterations"])))
            num = [c for c in local.columns if c not in ("status",)]
            same_status = bool((local["status"] == remote["status"]).all())
            diff = float(np.max(np.abs(local[num].to_numpy(float) - remote[num].to_numpy(float))))
            rep.checks.append(Check(f"{kind}: Dask table vs local table, max |difference|",
                                    diff if same_status else math.inf, 0.0, "tests/test_sweeps.py (identical)",
                                    size, 0 if (diff == 0.0 and same_status) else size))
    finally:
        if client is not None:
            client.close()
            cluster.close()
    rep.notes.append("states/s = 1 / time per solve; the LocalCluster start and the first calls are not counted")
    return rep.finish()


SUITES: dict[str, Suite] = {
    "engine": Suite(_engine, 2000, "scipy", "chemsolve solve / solve_batch vs scipy.optimize.root on propane"),
    "gas": Suite(_gas, 200, "cantera", "gas equilibrium (gri30, TP, HP, warm phi sweep) vs Cantera"),
    "aqueous": Suite(_aqueous, 200, "phreeqc", "aqueous: initial solutions, calcite + dolomite steps, a warm "
                      "sequence (phreeqc.dat) vs PHREEQC"),
    "sweep": Suite(_sweep, 100_000, "distributed", "chemsolve.sweep locally vs a Dask LocalCluster (same table)"),
    "reactor": Suite(lambda n, peer, log: _reactor(n, peer, log), 1000, "phreeqcrm",
                     "reactor: a 1-D column of cells with calcite + dolomite (and an exchanger) vs PhreeqcRM"),
    "reactor-dask": Suite(lambda n, peer, log: _reactor_dask(n, peer, log), 1_000_000, "distributed",
                          "reactor: one step of a large grid locally and on a Dask LocalCluster (identical cells)"),
}


def _reactor(n: int, peer: str | None, log) -> Report:
    """The reactor suite, kept with the reactor (``chemsolve.reactor.bench``)."""
    from .reactor.bench import suite

    return suite(n, peer, log)


def _reactor_dask(n: int, peer: str | None, log) -> Report:
    """The reactor's Dask suite (``chemsolve.reactor.dask_bench``)."""
    from .reactor.dask_bench import suite

    return suite(n, peer, log)


def _kind_suite(target: str) -> Callable[[int, str | None, Callable[[str], None]], Report]:
    def run(n: int, peer: str | None, log: Callable[[str], None]) -> Report:
        import importlib

        module, _, fn = target.partition(":")
        return getattr(importlib.import_module(module), fn)(n, peer, log)

    return run


def suites() -> dict[str, Suite]:
    """The built-in suites (``SUITES``) and every registered model kind's own (``ModelKind.bench_suite``)."""
    from .registry import get, names

    out = dict(SUITES)
    for kind in names():
        spec = get(kind).bench_suite
        if spec is not None and kind not in out:
            out[kind] = Suite(_kind_suite(spec[0]), spec[1], spec[2], spec[3])
    return out


def run_suite(name: str, n: int | None = None, threads: int | None = None,
              log: Callable[[str], None] = lambda s: None) -> Report:
    """Run one suite of ``suites()`` (n: its size, default ``Suite.default_n``; threads: numba threads)."""
    from .errors import InvalidInputError

    every = suites()
    if name not in every:
        raise InvalidInputError(f"unknown suite {name!r}; suites: {', '.join(every)}")
    if n is not None and n < 1:
        raise InvalidInputError(f"--n must be >= 1, got {n}")
    from .kernels import threads as _threads

    if threads is not None:
        most = _threads()[1]
        if not 1 <= threads <= most:
            raise InvalidInputError(f"--threads must be in 1..{most} (NUMBA_NUM_THREADS), got {threads}")
        _threads(threads)
    s = every[name]
    with warnings.catch_warnings():  # the suites silence warnings they count themselves
        return s.run(n or s.default_n, _peer_version(s.peer), log)


def _dur(s: float) -> str:
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def render(rep: Report) -> str:
    """The report as tables (cli._table): timings with the ratio column, then agreement."""
    from .tables import table as _table

    lines = [f"chemsolve bench {rep.suite}: {rep.title}", f"peer: {rep.peer}; numba threads {rep.threads}",
             f"first calls (numba compile or cache load, not counted below): {rep.compile_s:.2f} s",
             ("time per solve: wall time / states; one pass over loops of one call per state, best of 3 for "
              "batches; ratio vs peer: the peer's time / this row's time"), ""]
    if rep.rows:
        lines.append(_table([[r.case, r.code, f"{r.solved}/{r.total}",
                              "-" if r.iterations is None else f"{r.iterations:g}", _dur(r.seconds),
                              "1" if r.peer else "-" if r.ratio is None else f"{r.ratio:.3g}x"] for r in rep.rows],
                            ["case", "code", "solved", "median iterations", "time per solve", "ratio vs peer"]))
        lines.append("")
    if rep.checks:
        lines.append(_table([[c.quantity, f"{c.value:.1e}", f"{c.tol:g}", c.source, c.compared, c.beyond,
                              c.explained, "yes" if c.ok else "NO"] for c in rep.checks],
                            ["agreement", "max difference", "tolerance", "tolerance from", "compared", "beyond",
                             "explained", "ok"]))
        lines.append("")
    lines += [f"note: {t}" for t in rep.notes]
    return "\n".join(lines).rstrip()


def command(name: str | None, n: int | None = None, threads: int | None = None, fmt: str = "table",
            quiet: bool = False, out=sys.stdout, list_only: bool = False) -> int:
    """``chemsolve bench``: run a suite and print it; 0 agreement, 1 disagreement, 2 bad input (raised)."""
    from .errors import InvalidInputError
    from .tables import table as _table

    if list_only:
        print(_table([[k, s.default_n, s.peer, s.about] for k, s in suites().items()],
                     ["suite", "default --n", "peer", "what"]), file=out)
        return 0
    if name is None:
        raise InvalidInputError(f"give a suite ({', '.join(suites())}) or --list")
    log = (lambda s: None) if quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    rep = run_suite(name, n, threads, log)
    if fmt == "json":
        json.dump(rep.as_dict(), out, indent=1)
        out.write("\n")
    else:
        print(render(rep), file=out)
    bad = [c for c in rep.checks if not c.ok]
    if bad:
        c = bad[0]
        print(f"error: bench {name}: {c.quantity}: {c.beyond} of {c.compared} state(s) beyond the tolerance "
              f"{c.tol:g} ({c.source}); max {c.value:.2e}", file=sys.stderr)
        return 1
    return 0
