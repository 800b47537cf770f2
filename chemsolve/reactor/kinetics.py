"""Kinetic reactants of the reactor: what dissolves (or forms) at a rate over a time step, with the rest
of each cell at equilibrium.

A kinetic reactant has a formula (a phase of the database, or any formula), moles, and a rate law. Its
rate r [mol/s] is positive when it dissolves into the water (its moles fall, its formula enters the
water), negative when it forms, as in PHREEQC's KINETICS. Over a step ``dt`` the extents reacted
xi (moles, one per reactant) follow

    dxi/dt = r(cell at equilibrium with totals + nu^T xi, moles - xi),

so each evaluation of the right-hand side is a certified equilibrium step of the cell (the compiled
damped Newton of ``aqueous.model``), and the equilibrium phases and exchanger take part as
constraints. A reactant cannot give more than it holds: the water and the rate see the extent capped at
the reactant's moles (as PHREEQC's kinetics.cpp caps it), so a rate that does not stop at m = 0 (a user
rate) uses the reactant up and no more. The integrator is ROS34PW2 (Rang and Angermann 2005, BIT
45:761), a 4-stage, order-3 L-stable Rosenbrock-W method with an embedded order-2 solution for the error,
so a finite-difference Jacobian suffices; every cell has its own step size and error control, so a
cell's result does not depend on the others (a Dask block, a thread chunk).

Rate laws (``rate=``):

- ``TST(phase, area, mechanisms)``: transition-state theory with acid/neutral/base (and any other)
  mechanisms, r = A (m/m0)^e sum_i k_i(T) prod_j a_j^n_ij sign(1 - Omega) abs(1 - Omega^p)^q,
  k_i(T) = k_i,25 exp(-E_i/R (1/T - 1/298.15)), Omega = 10^SI of the phase.
  ``palandri_kharaka(phase, area)`` builds one from Palandri and Kharaka (2004).
- ``FirstOrder(k)``: r = k m (decay of the reactant).
- ``Monod(vmax, half)``: r = vmax prod_s c_s / (K_s + c_s) over dissolved species' molalities (while
  the reactant lasts).
- ``UserRate(func, species, phases, params)``: a numba function of the cell's state.

PHREEQC's RATES blocks are BASIC programs: chemsolve does not read them (a PHREEQC input with RATES or
KINETICS is refused by the input reader, naming the block). Write the rate as one of the laws above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputError, nonnegative

R_GAS = 8.314462618  # J/(mol K), CODATA 2018
T_REF = 298.15

# ROS34PW2 (Rang and Angermann 2005, Table "ROS34PW2"): gamma, alpha (stage arguments), Gamma
# (off-diagonal, stage Jacobian terms), b (order 3), bhat (embedded order 2)
_GAMMA = 4.3586652150845900e-01
_ALPHA = np.array([[0.0, 0.0, 0.0, 0.0],
                   [8.7173304301691801e-01, 0.0, 0.0, 0.0],
                   [8.4457060015369423e-01, -1.1299064236484185e-01, 0.0, 0.0],
                   [0.0, 0.0, 1.0, 0.0]])
_GOFF = np.array([[0.0, 0.0, 0.0, 0.0],
                  [-8.7173304301691801e-01, 0.0, 0.0, 0.0],
                  [-9.0338057013044082e-01, 5.4180672388095326e-02, 0.0, 0.0],
                  [2.4212380706095346e-01, -1.2232505839045147e+00, 5.4526025533510214e-01, 0.0]])
_B = np.array([2.4212380706095346e-01, -1.2232505839045147e+00, 1.5452602553351020e+00, 4.3586652150845900e-01])
_BHAT = np.array([3.7810903145819369e-01, -9.6042292212423178e-02, 5.0e-01, 2.1793326075422950e-01])
_ORDER_EMB = 2  # the error estimate is that of the order-2 solution


# ------------------------------------------------------------------ rate laws
@dataclass(frozen=True)
class Mechanism:
    """One term of a TST rate: log10 k at 25 C [mol m-2 s-1], activation energy E [kJ/mol], and the
    orders of the catalysing activities ({aqueous species: n}; a gas phase such as "CO2(g)" stands for
    its partial pressure 10^SI)."""

    log_k25: float
    E: float
    orders: dict = field(default_factory=dict)


class TST:
    """Transition-state-theory rate of a mineral (see the module docstring). area [m2] at the initial
    moles m0; area_exponent e (2/3: a shrinking sphere); p, q: the affinity's exponents."""

    def __init__(self, phase: str, area: float, mechanisms, *, p: float = 1.0, q: float = 1.0,
                 area_exponent: float = 2.0 / 3.0):
        self.phase = str(phase)
        self.area = _positive(area, f"TST({phase!r}): area", zero=True)
        mech = [m if isinstance(m, Mechanism) else Mechanism(*m) for m in mechanisms]
        if not mech:
            raise InvalidInputError(f"TST({phase!r}): no mechanisms")
        for m in mech:
            for v, what in ((m.log_k25, "log_k25"), (m.E, "E")):
                if not math.isfinite(float(v)):
                    raise InvalidInputError(f"TST({phase!r}): mechanism {what} = {v!r} is not finite")
        self.mechanisms = mech
        self.p, self.q, self.area_exponent = float(p), float(q), float(area_exponent)

    def needs(self) -> tuple[set, set]:
        sp = {s for m in self.mechanisms for s in m.orders}
        return sp, {self.phase}

    def __repr__(self) -> str:
        return f"TST({self.phase!r}, area={self.area}, {len(self.mechanisms)} mechanisms)"


# Palandri, J.L. and Kharaka, Y.K. (2004), A compilation of rate parameters of water-mineral interaction
# kinetics for application to geochemical modeling, USGS Open-File Report 2004-1068, table values (log k at
# 25 C [mol m-2 s-1], E [kJ/mol], order in a(H+) or P(CO2)) as tabulated in Reaktoro's
# PalandriKharaka.yaml; names as phreeqc.dat spells the phases.
_PK = {
    "Calcite": [(-0.30, 14.4, {"H+": 1.0}), (-5.81, 23.5, {}), (-3.48, 35.4, {"CO2(g)": 1.0})],
    "Dolomite": [(-3.76, 56.7, {"H+": 0.5}), (-8.60, 95.3, {}), (-5.37, 45.7, {"CO2(g)": 0.5})],
    "Dolomite(d)": [(-3.19, 36.1, {"H+": 0.5}), (-7.53, 52.2, {}), (-5.11, 34.8, {"CO2(g)": 0.5})],
    "Magnesite": [(-6.38, 14.4, {"H+": 1.0}), (-9.34, 23.5, {}), (-5.22, 62.8, {"CO2(g)": 1.0})],
    "Gypsum": [(-2.79, 0.0, {})],
    "Anhydrite": [(-3.19, 14.3, {})],
    "Halite": [(-0.21, 7.4, {})],
    "Fluorite": [(-7.14, 73.0, {"H+": 1.0}), (-13.79, 73.0, {})],
    "Barite": [(-6.90, 30.8, {"H+": 0.22}), (-7.90, 30.8, {})],
    "Celestite": [(-5.66, 23.8, {"H+": 0.109})],
    "Albite": [(-10.16, 65.0, {"H+": 0.457}), (-12.56, 69.8, {}), (-15.60, 71.0, {"H+": -0.572})],
    "K-feldspar": [(-10.06, 51.7, {"H+": 0.5}), (-12.41, 38.0, {}), (-21.20, 94.1, {"H+": -0.823})],
    "Anorthite": [(-3.50, 16.6, {"H+": 1.411}), (-9.12, 17.8, {})],
    "Kaolinite": [(-11.31, 65.9, {"H+": 0.777}), (-13.18, 22.2, {}), (-17.05, 17.9, {"H+": -0.472})],
    "Gibbsite": [(-7.65, 47.5, {"H+": 0.992}), (-11.50, 61.2, {}), (-16.65, 80.1, {"H+": -0.784})],
    "Goethite": [(-7.94, 86.5, {})],
    "Hematite": [(-9.39, 66.2, {"H+": 1.0}), (-14.60, 66.2, {})],
    "Chlorite(14A)": [(-11.11, 88.0, {"H+": 0.5}), (-12.52, 88.0, {})],
    "Talc": [(-12.00, 42.0, {})],
    "Pyrite": [(-7.52, 56.9, {"H+": -0.5, "Fe+3": 0.5}), (-4.55, 56.9, {"O2": 0.5})],
}


def palandri_kharaka(phase: str, area: float, **kw) -> TST:
    """A ``TST`` rate of ``phase`` with Palandri and Kharaka's (2004) mechanisms (USGS OFR 2004-1068)."""
    if phase not in _PK:
        raise InvalidInputError(f"palandri_kharaka: no parameters for {phase!r}; tabulated: {', '.join(sorted(_PK))}")
    return TST(phase, area, [Mechanism(*m) for m in _PK[phase]], **kw)


class FirstOrder:
    """r = k m [mol/s], k [1/s]: the reactant decays into the water."""

    def __init__(self, k: float):
        self.k = _positive(k, "FirstOrder: k", zero=True)

    def needs(self) -> tuple[set, set]:
        return set(), set()

    def __repr__(self) -> str:
        return f"FirstOrder(k={self.k})"


class Monod:
    """r = vmax prod_s c_s/(K_s + c_s) [mol/s] over the molalities c_s of dissolved species (half
    saturation K_s [mol/kgw]); zero once the reactant is used up."""

    def __init__(self, vmax: float, half: dict):
        self.vmax = _positive(vmax, "Monod: vmax", zero=True)
        if not half:
            raise InvalidInputError("Monod: half is empty (give {species: half-saturation molality})")
        self.half = {str(s): _positive(k, f"Monod: half-saturation of {s!r}") for s, k in half.items()}

    def needs(self) -> tuple[set, set]:
        return set(self.half), set()

    def __repr__(self) -> str:
        return f"Monod(vmax={self.vmax}, half={self.half})"


class UserRate:
    """A rate written as a numba function ``func(m, m0, T, la, si, params) -> r [mol/s]`` where m, m0
    are the reactant's moles now and at the start, T [K], la the log10 activities of ``species`` (in
    that order), si the saturation indices of ``phases``, params the given floats. It is compiled once
    (``numba.njit(cache=True)`` by the caller) and called over the cells in a compiled loop."""

    def __init__(self, func, species=(), phases=(), params=()):
        if not hasattr(func, "py_func"):
            raise InvalidInputError("UserRate: func must be a numba-compiled function (numba.njit), "
                                    f"got {type(func).__name__}")
        self.func = func
        self.species, self.phases = [str(s) for s in species], [str(p) for p in phases]
        self.params = np.asarray(params, dtype=float).reshape(-1)

    def needs(self) -> tuple[set, set]:
        return set(self.species), set(self.phases)

    def __repr__(self) -> str:
        return f"UserRate({getattr(self.func, '__name__', 'func')}, species={self.species}, phases={self.phases})"


@dataclass
class Kinetic:
    """A kinetic reactant: ``name``, its ``rate`` law, its ``moles`` now (a number, or one per cell) and
    ``m0`` (for the area scaling; default: moles), and the ``formula`` that enters the water per mole
    reacted (default: the formula of the phase named ``name``, or of the TST's phase)."""

    name: str
    rate: object
    moles: object = 1.0
    m0: object = None
    formula: str | dict | None = None


def from_config(items, where: str) -> list[Kinetic]:
    """Kinetic reactants from plain data (a YAML list), e.g.
    ``[{name: Calcite, moles: 0.01, rate: {law: palandri_kharaka, area: 0.1}}]``; laws: palandri_kharaka
    (area), tst (phase, area, mechanisms: [[log_k25, E, {species: order}], ...]), first_order (k), monod
    (vmax, half: {species: K}). ``where`` names the file in errors. (User numba rates are Python objects:
    give them through the API.)"""
    if not isinstance(items, list):
        raise InvalidInputError(f"{where}: kinetics must be a list of reactants, got {type(items).__name__}")
    out = []
    for i, it in enumerate(items):
        w = f"{where}: kinetics[{i}]"
        if not isinstance(it, dict) or not isinstance(it.get("rate"), dict) or "name" not in it:
            raise InvalidInputError(f"{w}: expected a mapping with name and rate: {{law: ...}}")
        extra = sorted(set(it) - {"name", "rate", "moles", "m0", "formula"})
        if extra:
            raise InvalidInputError(f"{w}: unknown key {extra[0]!r}; known: formula, m0, moles, name, rate")
        r = dict(it["rate"])
        law = r.pop("law", None)
        allowed = {"palandri_kharaka": {"area", "phase"}, "tst": {"phase", "area", "mechanisms", "p", "q"},
                   "first_order": {"k"}, "monod": {"vmax", "half"}}
        if law not in allowed:
            raise InvalidInputError(f"{w}: rate law {law!r}; known: {', '.join(allowed)}")
        bad = sorted(set(r) - allowed[law])
        if bad:
            raise InvalidInputError(f"{w}: rate {law}: unknown key {bad[0]!r}")
        try:
            if law == "palandri_kharaka":
                rate = palandri_kharaka(str(r.get("phase", it["name"])), r.get("area"))
            elif law == "tst":
                mech = [Mechanism(float(m[0]), float(m[1]), dict(m[2]) if len(m) > 2 else {})
                        for m in r.get("mechanisms") or []]
                rate = TST(str(r.get("phase", it["name"])), r.get("area"), mech, p=r.get("p", 1.0), q=r.get("q", 1.0))
            elif law == "first_order":
                rate = FirstOrder(r.get("k"))
            else:
                rate = Monod(r.get("vmax"), dict(r.get("half") or {}))
        except InvalidInputError as err:
            raise InvalidInputError(f"{w}: {err}") from None
        except (TypeError, ValueError, IndexError) as err:
            raise InvalidInputError(f"{w}: rate {law}: {err}") from None
        out.append(Kinetic(str(it["name"]), rate, it.get("moles", 1.0), it.get("m0"), it.get("formula")))
    return out


def _positive(v, what: str, zero: bool = False) -> float:
    return nonnegative(v, what, zero)


# ------------------------------------------------------------------ the reactor's kinetic part
class KineticSet:
    """The reactants of a reactor, resolved against its database: per reactant the components that
    enter the water per mole reacted (H, O, charge, elements as the reactor transports them), and what
    its rate needs from a cell's equilibrium (activities of species, saturation indices of phases)."""

    def __init__(self, db, reactants, ncells: int):
        from ..aqueous.database import parse_formula

        self.db = db
        items = list(reactants)
        for k in items:
            if not isinstance(k, Kinetic):
                raise InvalidInputError(f"kinetics: expected Kinetic(...) items, got {type(k).__name__}")
        names = [k.name for k in items]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"kinetics: a reactant is named twice in {names}")
        self.items = items
        self.names = names
        N = int(ncells)
        self.moles = np.zeros((N, len(items)))
        self.m0 = np.zeros((N, len(items)))
        self.formulas: list[dict[str, float]] = []
        for j, k in enumerate(items):
            if not isinstance(k.rate, (TST, FirstOrder, Monod, UserRate)):
                raise InvalidInputError(f"kinetics {k.name!r}: rate must be TST, FirstOrder, Monod or UserRate, "
                                        f"got {type(k.rate).__name__}")
            self.moles[:, j] = _per_cell(k.moles, N, f"kinetics {k.name!r}: moles")
            self.m0[:, j] = self.moles[:, j] if k.m0 is None else _per_cell(k.m0, N, f"kinetics {k.name!r}: m0")
            f = k.formula
            if f is None:
                ph = k.rate.phase if isinstance(k.rate, TST) else k.name
                if ph not in db.phases:
                    raise InvalidInputError(f"kinetics {k.name!r}: no formula given and {ph!r} is not a phase of "
                                            f"{db.path}")
                f = db.phases[ph].formula
            if isinstance(f, dict):
                comp = {str(e): float(v) for e, v in f.items()}
            else:
                try:
                    comp = parse_formula(str(f))
                except InvalidInputError as exc:
                    raise InvalidInputError(f"kinetics {k.name!r}: formula {f!r}: {exc}") from None
            comp = {e: v for e, v in comp.items() if e not in ("+", "-", "charge") and v != 0}
            self.formulas.append(comp)
        species, phases = set(), set()
        for k in items:
            s, p = k.rate.needs()
            species |= s
            phases |= p
        for s in list(species):
            if s in db.phases and s not in db.species:  # a gas phase as a catalyst: its partial pressure
                species.discard(s)
                phases.add(s)
            elif s not in db.species:
                raise InvalidInputError(f"kinetics: species {s!r} is neither an aqueous species nor a phase of "
                                        f"{db.path}")
        for p in phases:
            if p not in db.phases:
                raise InvalidInputError(f"kinetics: phase {p!r} is not in {db.path}")
        self.need_species = sorted(species)
        self.need_phases = sorted(phases)

    def elements(self) -> set[str]:
        return {e for f in self.formulas for e in f if e not in ("H", "O")}


def _per_cell(v, N: int, what: str) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        a = np.full(N, float(a))
    if a.shape != (N,):
        raise InvalidInputError(f"{what}: expected one number or {N} (one per cell), got shape {a.shape}")
    bad = ~np.isfinite(a) | (a < 0)
    if bad.any():
        r = int(np.argmax(bad))
        raise InvalidInputError(f"{what}: cell {r}: {a[r]!r} is not a non-negative finite number")
    return a


def rates(kset: KineticSet, m: np.ndarray, m0: np.ndarray, T: np.ndarray, la: dict, si: dict,
          molality: dict) -> np.ndarray:
    """(n, nk) rates [mol/s] of the reactants in n cells: m, m0 (n, nk) moles now and at the start,
    T (n,), la / molality {species: (n,)} log10 activities and molalities, si {phase: (n,)}."""
    n = m.shape[0]
    out = np.zeros((n, len(kset.items)))
    for j, k in enumerate(kset.items):
        law = k.rate
        mj, m0j = m[:, j], m0[:, j]
        left = mj > 0
        if isinstance(law, TST):
            omega_si = si[law.phase]
            frac = np.where(m0j > 0, np.maximum(mj, 0.0) / np.where(m0j > 0, m0j, 1.0), 0.0)
            area = law.area * frac ** law.area_exponent
            ksum = np.zeros(n)
            for mech in law.mechanisms:
                lk = mech.log_k25 * math.log(10.0) - mech.E * 1e3 / R_GAS * (1.0 / T - 1.0 / T_REF)
                for s, order in mech.orders.items():
                    lk = lk + order * math.log(10.0) * (la[s] if s in la else si[s])
                ksum = ksum + np.exp(lk)
            aff = 1.0 - 10.0 ** (law.p * omega_si)
            out[:, j] = area * ksum * np.sign(aff) * np.abs(aff) ** law.q
        elif isinstance(law, FirstOrder):
            out[:, j] = law.k * np.maximum(mj, 0.0)
        elif isinstance(law, Monod):
            r = np.full(n, law.vmax)
            for s, K in law.half.items():
                c = np.maximum(molality[s], 0.0)
                r = r * c / (K + c)
            out[:, j] = np.where(left, r, 0.0)
        else:  # UserRate: a compiled loop over the cells
            from ..kernels.rates import user_rates

            LA = np.ascontiguousarray(np.column_stack([la[s] for s in law.species]) if law.species
                                      else np.zeros((n, 0)))
            SI = np.ascontiguousarray(np.column_stack([si[p] for p in law.phases]) if law.phases
                                      else np.zeros((n, 0)))
            col = np.zeros(n)
            user_rates(law.func, np.ascontiguousarray(mj), np.ascontiguousarray(m0j), np.ascontiguousarray(T),
                       LA, SI, law.params, col)
            out[:, j] = col
    return out


# ------------------------------------------------------------------ the integrator
def integrate(F, n: int, nk: int, dt, *, rtol: float, atol: float, h0: float | None = None,
              max_steps: int = 10000, scale=None):
    """Integrate dxi/dt = F(rows, xi) from xi = 0 over dt (one number, or (n,): one per cell) in every
    one of n cells, each with its own step size (ROS34PW2; see the module docstring).

    F(rows, xi) -> (f (len(rows), nk), ok (len(rows),) bool, token): the rates of those cells at those
    extents; ``token`` identifies the equilibrium behind them (kept for the cell's final state).
    scale : (n, nk) the size of each reactant's moles (for the finite-difference steps of the
    Jacobian); the error of a step is relative to the larger of the extent and the smaller of the
    reactant's moles and its starting rate times dt, plus atol. Returns xi (n, nk),
    status (n,) (0 done, 1 failed), steps (n,), tokens (the
    token of each cell's final extent: (token, row in it)).
    """
    xi = np.zeros((n, nk))
    t = np.zeros(n)
    dt = np.broadcast_to(np.asarray(dt, dtype=float), (n,)).copy()
    h = dt.copy() if h0 is None else np.minimum(h0, dt)
    steps = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int64)
    sc = np.zeros((n, nk)) if scale is None else np.asarray(scale, dtype=float)
    rows = np.arange(n)
    f0, ok, tok = F(rows, xi)
    # the size an extent is measured against: what the reactant holds, or what its starting rate would
    # react over the whole step if smaller (a large reservoir is no reason for a loose extent)
    ref = np.minimum(sc, np.abs(f0) * dt[:, None])
    final = [(tok, r) for r in range(n)]
    status[~ok] = 1
    rejects = np.zeros(n, dtype=np.int64)
    eye = np.eye(nk)[None, :, :]
    while True:
        act = np.flatnonzero((status == 0) & (t < dt * (1.0 - 1e-12)))
        if act.size == 0:
            break
        hh = np.minimum(h[act], dt[act] - t[act])
        y = xi[act]
        fy = f0[act]
        # the Jacobian by forward differences (a W-method tolerates its error)
        J = np.zeros((act.size, nk, nk))
        good = np.ones(act.size, dtype=bool)
        for j in range(nk):
            d = 1e-7 * np.maximum(np.maximum(np.abs(y[:, j]), sc[act, j]), 1e-12)
            yp = y.copy()
            yp[:, j] += d
            fp, okp, _ = F(act, yp)
            good &= okp
            J[:, :, j] = (fp - fy) / d[:, None]
        M = eye - (_GAMMA * hh)[:, None, None] * J
        K = np.zeros((4, act.size, nk))
        fst = fy
        for i in range(4):
            if i:
                Yi = y + _lin(_ALPHA[i, :i], K)
                fst, oki, _ = F(act, Yi)
                good &= oki
            gk = _lin(_GOFF[i, :i], K) if i else np.zeros_like(y)
            rhs = hh[:, None] * fst + hh[:, None] * _matvec(J, gk)
            K[i] = np.linalg.solve(M, rhs[:, :, None])[:, :, 0]
        y1 = y + _lin(_B, K)
        yh = y + _lin(_BHAT, K)
        tol = atol + rtol * np.maximum(np.maximum(np.abs(y1), np.abs(y)), ref[act])
        err = np.max(np.abs(y1 - yh) / tol, axis=1) if nk else np.zeros(act.size)
        err = np.where(good & np.isfinite(err), err, np.inf)
        acc = err <= 1.0
        if acc.any():
            a_rows = act[acc]
            f1, ok1, tok1 = F(a_rows, y1[acc])
            for q, r in enumerate(a_rows):
                if ok1[q]:
                    final[r] = (tok1, q)
            fin = ok1
            acc_idx = np.flatnonzero(acc)
            done = acc_idx[fin]
            xi[act[done]] = y1[done]
            f0[act[done]] = f1[fin]
            t[act[done]] += hh[done]
            steps[act[done]] += 1
            acc[acc_idx[~fin]] = False
            err[acc_idx[~fin]] = np.inf
        fac = np.where(np.isfinite(err), 0.9 * np.maximum(err, 1e-10) ** (-1.0 / (_ORDER_EMB + 1)), 0.25)
        fac = np.clip(fac, 0.2, 5.0)
        fac = np.where(acc, fac, np.minimum(fac, 1.0))
        h[act] = hh * fac
        rejects[act[~acc]] += 1
        dead = (h[act] < dt[act] * 1e-12) | (steps[act] + rejects[act] > max_steps)
        status[act[dead & ~acc]] = 1
    return xi, status, steps, final


# The stage sums elementwise, in a fixed order: a cell's numbers must not depend on how many cells share
# the batch (numpy's einsum pairs its sums differently with the length of the arrays).
def _lin(c: np.ndarray, K: np.ndarray) -> np.ndarray:
    """sum_k c[k] K[k] over the first len(c) stages."""
    out = np.zeros_like(K[0])
    for k in range(len(c)):
        out = out + c[k] * K[k]
    return out


def _matvec(J: np.ndarray, g: np.ndarray) -> np.ndarray:
    """(n, nk, nk) @ (n, nk) row by row."""
    out = np.zeros_like(g)
    for j in range(g.shape[1]):
        out = out + J[:, :, j] * g[:, j:j + 1]
    return out
