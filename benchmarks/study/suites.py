"""Generated hard instance suites, drawn afresh for every replicate from a seed of (suite, replicate).

Each instance is a closure over one model's public verb, with ``run(advisor=None, damping=None)`` returning
the verb's result. ``record(result)`` reduces a result to the study's record. The suites, and why they are
hard for the model's defaults:

- ``engine``: the MGH / Chandrasekhar / propane problems of tests/problems.py, shifted and rotated
  (x = Q y + b with a random orthogonal Q and shift b, so the root in y is not the textbook root) and
  started far away (the textbook start's offset from the root scaled by 10^U(2, 4) and turned by a random
  rotation). Newton is affine-covariant, so the transformation keeps each problem's difficulty but
  defeats a model that recites a textbook root (the contamination check compares the guess with it).
- ``aqueous``: waters at pH 0.5-1.5 or 12.5-13.5 (or, half of them, the pH of charge balance), NaCl
  0.3-4 mol/kgw,
  redox (Fe and S given as wholes, linked by a pe from -6 to 14), and at most one mineral/gases at fixed
  saturation (calcite, gypsum, CO2(g), Fe(OH)3(a), siderite) — phreeqc.dat.
- ``gas``: very rich (phi 1.5-30) CH4, C2H2, C3H8 / air or O2 feeds on gri30 + graphite at 1e-5-10 atm:
  TP at 250-4000 K, and HP/SP (four in five) from 250-800 K: graphite on the edge of forming, trace-
  dominated gas, the temperature found by the outer loop. A draw the verb refuses as infeasible (an
  entropy or enthalpy no state within the T bounds reaches) is replaced by the next draw.
  **This suite does not meet the 20-50 % asked for, and no physically meaningful regime found does:
  the gas defaults (CEA's control factor, a cold start at 3800 K) need no tuning.** Searched (2026-12,
  30-180 states each, defaults): TP 250-6000 K at 1e-5-100 atm (at most 10 iterations); HP/SP from a
  stale warm start (T_guess 110-19000 K: the previous cell's temperature); hot HP of near-stoichiometric
  feeds from cold guesses; UV and TV; trace fuel (1e-9-1e-3) in N2 or Ar; TP/HP/SP within 1e-6-1e-2 of
  the graphite onset; rocket-nozzle SP expansions (chamber HP at 3-200 atm, exit 10-1e5 times lower,
  started from the chamber T) with and without H2O(L)/H2O(s) from nasa_condensed.yaml; HP/SP at
  1e-7-1e-4 atm. The defaults failed or took more than 3x the median only (a) from guesses of 6000 K
  and above (beyond gri30's fits, most of which end at 3500 K: 14 % failed at 6000 K, 77 % at 10000 K)
  and (b) in SP at very low pressure, where T falls to 100-250 K, below or at the foot of the fits
  (200 K; N2's and Ar's 300 K), extrapolated (up to 8 % of such states at 1e-7-1e-4 atm). (b) is
  already in this suite and makes its few hard instances; (a) is a guess beyond the mechanism's data,
  not a state a user of gri30 meets, so it was not put in to make the suite look hard.
- ``flash``: random natural-gas-like mixtures (N2, CO2, C1-nC6) of Peng-Robinson, at a relative
  distance d from the mixture's critical point (found on its phase envelope) that is log-uniform over
  1e-6-1e-1, in a random direction of (T/Tc, P/Pc). The defaults' cost grows without bound as d -> 0
  (stability analysis and substitution both slow down at the critical point: Michelsen 1982), so the
  instances within ~1e-4 of it are the hard ones. (Until 2026-12-05 the suite drew T within 4 % and P
  within -8..+4 % of the critical point: 12 % hard, too few; uniform draws over 1e-3-1e-1 or around
  the cricondentherm/cricondenbar were no harder, and draws near the whole envelope fail the
  certificate at cryogenic bubble points of CO2 mixtures, where PR predicts three phases and CO2 would
  freeze: not used.)

Calibration (``benchmarks/study/calibrate.py --reps 0-9``: the held-out instances of replicates 0-9
under the defaults; hard = failed or more than 3x that replicate's median iterations of the solved):

    suite     failed  hard, mean [min-max]
    engine     28 %    30 % [8-50]
    aqueous    24 %    46 % [33-50]
    gas         1 %     4 % [0-25]     (unchanged: see above)
    flash       0 %    27 % [0-42]     (before, within a few per cent: 0 %, 12 % [0-33])
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "..", "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

SUITES = ("engine", "aqueous", "gas", "flash")
SUITE_ID = {s: i for i, s in enumerate(SUITES)}
MAX_ITER = 200  # per attempt, every advisor, every suite's Newton (the engine's and aqueous default)


@dataclass
class Instance:
    name: str
    suite: str
    run: Callable[..., Any]  # run(advisor=None, damping=None) -> the verb's result
    features: dict[str, Any] = field(default_factory=dict)
    # engine only: the textbook root and start in the solver's variables, and the true root (contamination)
    textbook: dict[str, Any] | None = None
    controlled: Callable[..., Any] | None = None  # engine only: controlled_solve(controller, every, ...)


def rng_for(suite: str, rep: int, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([20261204, SUITE_ID[suite], int(rep), int(salt)])


def record(r: Any) -> dict[str, Any]:
    """What the study keeps of one advised solve: converged, iterations over every attempt, the attempts
    (status, iterations, source), advisor seconds, and the accepted suggestion's schedule."""
    ok = bool(np.all(r.success))
    adv = getattr(r, "advice", None) or {}
    work = int(np.sum(r.nit)) + int(np.sum(getattr(r, "nstab", 0) or 0))  # a flash: + stability iterations
    atts = adv.get("attempts") or [{"status": getattr(r.status, "name", str(r.status)), "iterations": work,
                                    "source": "default"}]
    it = int(adv.get("total_iterations", sum(int(a.get("iterations", 0)) for a in atts)))
    return {"converged": ok, "iterations": it, "attempts": len(atts),
            "statuses": [str(a.get("status")) for a in atts],
            "sources": [str(a.get("source", ""))[:80] for a in atts],
            "advisor_seconds": float(adv.get("advisor_seconds", 0.0)),
            "rejected": [str(x)[:160] for x in adv.get("rejected", [])][:4]}


# -- engine -------------------------------------------------------------------------------------------

@cache
def _root(name: str) -> tuple[float, ...]:
    import problems as P  # noqa: PLC0415

    p = P.get(name)
    return tuple(float(v) for v in p.solutions[0])


def _orth(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


ENGINE_PROBLEMS = ("rosenbrock", "powell_badly_scaled", "helical_valley", "powell_singular", "trigonometric",
                   "discrete_bvp", "broyden_tridiagonal", "broyden_banded", "chandrasekhar_h", "propane_reduced")


def engine_instances(rep: int, n: int, salt: int = 0) -> list[Instance]:
    import problems as P  # noqa: PLC0415

    import chemsolve as cs  # noqa: PLC0415

    rng = rng_for("engine", rep, salt)
    out = []
    for i in range(n):
        p = P.get(ENGINE_PROBLEMS[int(rng.integers(len(ENGINE_PROBLEMS)))])
        d = p.n
        xs = np.array(_root(p.name))
        x0 = np.asarray(p.x0, dtype=float)
        Q = _orth(rng, d)
        b = rng.normal(size=d) * (1.0 + np.abs(xs))
        scale = 10 ** rng.uniform(2.0, 4.0)
        off = x0 - xs if np.any(x0 != xs) else np.ones(d)
        start_x = xs + scale * (_orth(rng, d) @ off)
        y0 = Q.T @ (start_x - b)
        ystar = Q.T @ (xs - b)
        f, jf = p.fun.py_func, p.jac.py_func

        def fun(y, Q=Q, b=b, f=f):
            return f(Q @ y + b)

        def jac(y, Q=Q, b=b, jf=jf):
            return jf(Q @ y + b) @ Q

        def run(advisor=None, damping=None, fun=fun, jac=jac, y0=y0):
            return cs.solve(fun, y0, jac=jac, damping=damping, advisor=advisor, jit=False, max_iter=MAX_ITER)

        def controlled(controller, every, max_consults, fun=fun, jac=jac, y0=y0):
            from chemsolve.advisors.control import controlled_solve  # noqa: PLC0415

            return controlled_solve(fun, y0, controller, jac=jac, every=every, max_iter=MAX_ITER,
                                    max_consults=max_consults, jit=False)

        fun.__qualname__ = f"{p.name}_shifted_rotated"
        out.append(Instance(f"{p.name} #{i} far x{scale:.3g}", "engine", run,
                            {"problem": p.name, "n": d, "scale": float(scale)},
                            {"textbook_root": xs.tolist(), "textbook_x0": x0.tolist(), "root": ystar.tolist()},
                            controlled))
    return out


# -- aqueous ------------------------------------------------------------------------------------------

@cache
def _phreeqc_db() -> Any:
    from chemsolve.aqueous import load_database  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_database("phreeqc.dat")


def aqueous_instances(rep: int, n: int, salt: int = 0) -> list[Instance]:
    from chemsolve.aqueous import speciate  # noqa: PLC0415

    db = _phreeqc_db()
    rng = rng_for("aqueous", rep, salt)
    out = []
    for i in range(n):
        nacl = float(10 ** rng.uniform(-0.5, math.log10(4.0)))
        tot = {"Na": nacl, "Cl": nacl * float(rng.uniform(0.8, 1.2)), "Ca": float(10 ** rng.uniform(-3, -0.7)),
               "Mg": float(10 ** rng.uniform(-3, -0.7)), "C(4)": float(10 ** rng.uniform(-4, -1.5)),
               "S": float(10 ** rng.uniform(-4, -1.3)), "Fe": float(10 ** rng.uniform(-6, -2.5))}
        u = rng.uniform()
        pH = None if u < 0.5 else float(rng.uniform(0.5, 1.5) if u < 0.75 else rng.uniform(12.5, 13.5))
        pe = float(rng.uniform(-6.0, 14.0))
        T = float(rng.uniform(273.15 + 5, 273.15 + 95))
        ph_opts = [("Calcite", 0.0), ("Gypsum", 0.0), ("CO2(g)", float(rng.uniform(-4.0, 0.0))),
                   ("Fe(OH)3(a)", 0.0), ("Siderite", 0.0)]
        k = int(rng.integers(0, 2))
        phases = {nm: si for nm, si in [ph_opts[j] for j in rng.choice(len(ph_opts), size=k, replace=False)]}

        def run(advisor=None, damping=None, tot=tot, pH=pH, pe=pe, T=T, phases=phases):
            return speciate(db, tot, T=T, pH=pH, pe=pe, equilibrium_phases=phases or None, damping=damping,
                            advisor=advisor)

        label = "balance" if pH is None else f"{pH:.1f}"
        out.append(Instance(f"aq #{i} NaCl {nacl:.2f} m pH {label} pe {pe:.1f} {T - 273.15:.0f} C "
                            f"{'+'.join(phases) or 'no phases'}", "aqueous", run,
                            {"NaCl": nacl, "pH": pH, "pe": pe, "T": T, "phases": sorted(phases)}))
    return out


# -- gas ----------------------------------------------------------------------------------------------

@cache
def _gri() -> Any:
    from chemsolve.gas import GasMixture  # noqa: PLC0415

    return GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"])


def gas_instances(rep: int, n: int, salt: int = 0) -> list[Instance]:
    from gas_cases import feed  # noqa: PLC0415

    mix = _gri()
    from chemsolve.errors import InvalidInputError  # noqa: PLC0415

    rng = rng_for("gas", rep, salt)
    out: list[Instance] = []
    for _ in range(20 * n):
        if len(out) == n:
            break
        i = len(out)
        fuel = str(rng.choice(["CH4", "C2H2", "C3H8"]))
        ox = str(rng.choice(["air", "O2"]))
        phi = float(10 ** rng.uniform(math.log10(1.5), math.log10(30.0)))
        mode = str(rng.choice(["TP", "HP", "SP", "HP", "SP"]))
        T = float(10 ** rng.uniform(math.log10(250.0), math.log10(4000.0))) if mode == "TP" else \
            float(rng.uniform(250.0, 800.0))
        P = 101325.0 * 10 ** float(rng.uniform(-5, 1))
        X = feed(fuel, ox, phi)

        def run(advisor=None, damping=None, X=X, T=T, P=P, mode=mode):
            return mix.equilibrate(T, P, X, mode=mode, damping=damping, advisor=advisor)

        try:  # a target no state can meet (e.g. an entropy below any reachable at the T bounds) is bad
            with warnings.catch_warnings():  # input, refused by the verb for every advisor: draw again
                warnings.simplefilter("ignore")
                run()
        except InvalidInputError:
            continue

        out.append(Instance(f"gas #{i} {fuel}-{ox} phi={phi:.2f} {mode} {T:.0f}K {P / 101325:.3g}atm", "gas", run,
                            {"fuel": fuel, "ox": ox, "phi": phi, "mode": mode, "T": T, "P": P}))
    return out


# -- flash --------------------------------------------------------------------------------------------

#: log10 of the relative distance from the critical point, drawn uniformly between these
FLASH_LOG_DISTANCE = (-6.0, -1.0)
FLASH_COMPONENTS = ("nitrogen", "carbon dioxide", "methane", "ethane", "propane", "n-butane", "n-pentane", "n-hexane")


@cache
def _flash_mixture(names: tuple[str, ...]) -> Any:
    import chemsolve as cs  # noqa: PLC0415

    return cs.flash.Mixture(list(names), eos="PR")


def flash_instances(rep: int, n: int, salt: int = 0) -> list[Instance]:
    from chemsolve.advisors import base as advbase  # noqa: PLC0415

    rng = rng_for("flash", rep, salt)
    out: list[Instance] = []
    tries = 0
    while len(out) < n and tries < 20 * n:
        tries += 1
        k = int(rng.integers(3, 7))
        idx = sorted(rng.choice(len(FLASH_COMPONENTS), size=k, replace=False).tolist())
        if 2 not in idx:  # methane always: natural-gas-like
            idx = sorted(set(idx[1:]) | {2})
        names = tuple(FLASH_COMPONENTS[j] for j in idx)
        z = rng.dirichlet(np.ones(len(names)))
        mix = _flash_mixture(names)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                env = mix.envelope(z)
            except Exception:  # noqa: BLE001 - no envelope for this feed: draw another
                continue
        crit = getattr(env, "critical", None) or {}
        Tc, Pc = float(crit.get("T", math.nan)), float(crit.get("P", math.nan))
        if not (math.isfinite(Tc) and math.isfinite(Pc)):
            continue
        # the distance from the critical point, log-uniform over five decades (1e-6 to 10 %), in a random
        # direction of (T/Tc, P/Pc): near-critical at every scale, not only at a few per cent
        d = 10.0 ** float(rng.uniform(FLASH_LOG_DISTANCE[0], FLASH_LOG_DISTANCE[1]))
        th = float(rng.uniform(0.0, 2.0 * math.pi))
        T = Tc * (1.0 + d * math.cos(th))
        P = Pc * (1.0 + d * math.sin(th))
        run = _flash_runner(mix, z, T, P, advbase)
        out.append(Instance(f"flash #{len(out)} {'/'.join(nm[:4] for nm in names)} T/Tc={T / Tc:.6f} "
                            f"P/Pc={P / Pc:.6f} (d=1e{math.log10(d):.1f})", "flash", run,
                            {"components": list(names), "z": z.tolist(), "T": T, "P": P, "Tc": Tc, "Pc": Pc,
                             "distance": d}))
    return out


FLASH_TYPES = ("constant", "ramp", "adaptive", "cea")


def _flash_runner(mix: Any, z: np.ndarray, T: float, P: float, advbase: Any) -> Callable[..., Any]:
    """The flash verb behind the advisor protocol (advisors.base.consult): chemsolve.flash has no
    ``advisor=`` of its own, so the study checks a suggestion here — its damping by FlashOptions' own
    validation (LineSearch is refused there), its guess {"K": [...]} as finite positive K-values — and runs
    the public ``Mixture.flash(options=..., K0=...)``."""
    from dataclasses import replace as _replace  # noqa: PLC0415

    from chemsolve.flash.options import FlashOptions  # noqa: PLC0415

    nc = len(z)
    summary = {"kind": "flash", "spec": "TP", "T_K": round(T, 2), "P_Pa": round(P, 0), "n": nc,
               "components": [c.name for c in mix.components], "z": [round(float(v), 4) for v in z],
               "damping": {"type": "constant", "start": 1.0}, "signature": f"flash:{nc}",
               "features": [T / 100.0, math.log(P)] + list(z)}

    def run(advisor=None, damping=None):
        base = FlashOptions(max_iter=MAX_ITER)
        if advisor is None:
            opts = base if damping is None else _replace(base, damping=damping)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return mix.flash(z=z, T=T, P=P, options=opts)

        def check(sug):
            parts = {}
            if sug.damping is not None:
                p = advbase.check_damping(sug.damping, allowed=FLASH_TYPES)
                if not p.reason:
                    try:
                        FlashOptions(damping=p.value)
                    except Exception as e:  # noqa: BLE001
                        p = advbase.Part(None, str(e))
                parts["damping"] = p
            g = sug.initial_guess
            if g is not None:
                k = g.get("K") if isinstance(g, dict) else None
                if not isinstance(k, (list, tuple)) or len(k) != nc:
                    parts["initial_guess"] = advbase.Part(None, f"guess must be {{'K': [{nc} numbers]}}")
                else:
                    ks = [advbase.finite_number(v, 1e-10, 1e10, f"K[{i}]") for i, v in enumerate(k)]
                    bad = [q.reason for q in ks if q.reason]
                    parts["initial_guess"] = advbase.Part(None, bad[0]) if bad else advbase.Part(
                        np.array([q.value for q in ks]))
            if sug.options:
                parts["options"] = advbase.Part(None, "the flash takes no options from an advisor")
            return parts

        def attempt(p):
            opts = _replace(base, damping=p["damping"]) if "damping" in p else base
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = mix.flash(z=z, T=T, P=P, options=opts, K0=p.get("initial_guess"))
            # the work of a flash: its two-phase iterations and its stability-analysis iterations
            rec = {"status": r.status.name, "converged": bool(r.success), "iterations": int(r.nit) + int(r.nstab),
                   "residual_trace": [], "damping": opts.damping.to_dict(),
                   "solution": {"K": [float(v) for v in r.K]} if np.all(np.isfinite(r.K)) else {}}
            return r, rec

        res, source, log = advbase.consult(advisor, summary, check, attempt)
        return _replace(res, guess_source=source, advice=log) if hasattr(res, "__dataclass_fields__") else res

    return run


BUILDERS = {"engine": engine_instances, "aqueous": aqueous_instances, "gas": gas_instances,
            "flash": flash_instances}
#: schedule types a tuner searches, per suite (the gas model alone uses CEA's control factor; the flash's
#: successive substitution refuses the line search)
TYPES = {"engine": ("constant", "ramp", "adaptive", "linesearch"),
         "aqueous": ("constant", "ramp", "adaptive", "linesearch"),
         "gas": ("constant", "ramp", "adaptive", "linesearch", "cea"),
         "flash": FLASH_TYPES}
DEFAULTS = {"engine": {"type": "linesearch", "start": 1.0}, "aqueous": {"type": "linesearch", "start": 1.0},
            "gas": {"type": "cea", "max_change": 2.0}, "flash": {"type": "constant", "start": 1.0}}
CONTEXT = {
    "engine": {"kind": "engine", "what": "MGH test problems, Chandrasekhar H and propane combustion, shifted and "
                                         "rotated, started 10-1000 times farther from the root than usual"},
    "aqueous": {"kind": "aqueous", "what": "brines to 6 mol/kg NaCl with Ca, Mg, C(4), S, Fe at pH 0.3-1.3, "
                                           "12.7-13.7 or charge balance, pe -8..16, with minerals and CO2(g)"},
    "gas": {"kind": "gas", "what": "very rich (phi 1.5-30) hydrocarbon feeds with graphite, 1e-5-10 atm, TP "
                                   "250-4000 K or HP/SP from 250-800 K; Gibbs minimisation in element potentials"},
    "flash": {"kind": "flash", "what": "Peng-Robinson flash of natural-gas-like mixtures at 1e-6 to 10 % from "
                                       "their critical point (log-uniform); stability analysis, then successive "
                                       "substitution and Newton on ln K"},
}


#: why a suite falls outside the 20-50 % hard the study asks for, when it does (the report quotes it)
HARD_TARGET = (0.20, 0.50)
HARDNESS_NOTES = {
    "gas": "the gas defaults (CEA's control factor from 3800 K) neither failed nor straggled in any physically "
           "meaningful regime searched (stale warm starts, trace fuels, the graphite onset, nozzle expansions, "
           "UV/TV, 1e-7 atm: benchmarks/study/suites.py); that is a finding: the gas solver needs no tuning, and "
           "this suite can show little for any advisor",
}


def draw(suite: str, rep: int, n_tune: int, n_test: int) -> tuple[list[Instance], list[Instance]]:
    """The tuning and held-out instances of one replicate (disjoint draws of the same generator)."""
    inst = BUILDERS[suite](rep, n_tune + n_test)
    return inst[:n_tune], inst[n_tune:]
