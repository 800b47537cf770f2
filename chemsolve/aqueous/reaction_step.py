"""PHREEQC's reaction step: ``react(water, phases=..., reaction=..., T=..., P=...)``.

A water (the result of ``speciate``, of an earlier ``react``, or a ``mix`` of waters) carries what a
reaction step conserves, as PHREEQC does (step.cpp, prep.cpp): the moles of every element (all its
valence states together: redox equilibrium holds in a step), the charge imbalance, the electrons and
the water (PHREEQC conserves total H - 2 total O and total O; the electron and water totals used here
are those rewritten with the element totals, ``system`` module). The step adds an irreversible
REACTION (moles of formulas or phases), sets T and P (REACTION_TEMPERATURE / _PRESSURE; above 100 C
the pressure is at least the saturation pressure), and brings the water to equilibrium with
EQUILIBRIUM_PHASES: each phase at its target saturation index while it has moles to give (or room to
take: dissolve-only, precipitate-only), a gas at its partial pressure corrected by PHREEQC's
Peng-Robinson fugacity coefficient when the database gives -T_c, -P_c, -Omega, a phase reacting through
another formula (``Gibbsite 0 KAlSi3O8 10``). pH, pe and the mass of water are solved.

Arrays of T, P or reaction amounts, or a list of waters, make a batch: one compiled call
(``model.run``), one status per row; a single step is a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..certificate import BatchCertificate, Certificate, failed_message
from ..errors import InvalidInputError
from ..kernels import codes as _c
from ..result import BatchResultBase, Result
from ..status import Status
from . import model as _model
from .database import Database, parse_formula
from .system import P_MAX, Tableau, build, chem

__all__ = ["BatchReaction", "ReactionResult", "WaterState", "mix", "pr_log10_phi", "react", "state_of"]

T_RANGE = (273.14, 623.15)  # [K] as speciate: PHREEQC caps the water fits at 350 C
MIN_TOTAL = 1e-25  # [mol] PHREEQC's MIN_TOTAL: an element below it is absent (step.cpp solution_check)


@dataclass(frozen=True)
class WaterState:
    """What a water takes into a reaction step (PHREEQC's stored SOLUTION).

    T [K], P [atm], water_mass [kg]; elements : {element: moles} (all valence states);
    electrons, water : the conserved electron and water totals [mol] (see ``system``);
    charge : the carried charge imbalance [eq]; h : the H column [mol] (redundant: kept for MIX);
    guess : log10 activities of the primary master species, and "pH", "pe", "I", "aw": a start.
    """

    db: Database
    T: float
    P: float
    water_mass: float
    elements: dict[str, float]
    electrons: float
    water: float
    charge: float
    h: float
    guess: dict[str, float] = field(default_factory=dict)
    water_at_start: float | None = None  # the water total when water_mass was computed (a REACTION may change it)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (a result's ``to_dict`` calls it): the database by its path, every number as is."""
        return {"database": self.db.path, "T": self.T, "P": self.P, "water_mass": self.water_mass,
                "elements": dict(self.elements), "electrons": self.electrons, "water": self.water,
                "charge": self.charge, "h": self.h, "guess": dict(self.guess), "water_at_start": self.water_at_start}

    def __repr__(self) -> str:
        els = ", ".join(f"{k} {v:.4g}" for k, v in self.elements.items())
        return (f"WaterState(T={self.T:.2f} K, P={self.P:.4g} atm, {self.water_mass:.6g} kg water, {els}; "
                f"charge {self.charge:.3g} eq)")


def state_of(res, db: Database | None = None) -> WaterState:
    """The ``WaterState`` of a result of ``speciate`` or ``react`` (or a WaterState itself)."""
    if isinstance(res, WaterState):
        return res
    st = getattr(res, "state", None)
    if isinstance(st, WaterState):
        return st
    raise InvalidInputError(f"{type(res).__name__} carries no water state: give the result of speciate() or react() "
                            "(a converged one), or a WaterState")


def water_state(db: Database, species: list[str], m: np.ndarray, W: float, T: float, P: float, la: np.ndarray,
                pH: float, pe: float, I: float, aw: float) -> WaterState:
    """The conserved totals of a water from its molalities (any tableau's species): moles of each
    element, of electrons and of water, the charge imbalance, with the state as the next start."""
    c = chem(db)
    els: dict[str, float] = {}
    e = w = q = h = 0.0
    for s, mi in zip(species, m):
        if mi == 0.0:
            continue
        n = mi * W
        for el, k in c.counts.get(s, {}).items():
            els[el] = els.get(el, 0.0) + k * n
        hh, ee, ww = c.canon.get(s, (0.0, 0.0, 0.0))
        e += ee * n
        w += ww * n
        h += hh * n
        q += db.species[s].charge * n
    w += W / c.gfw_water
    guess = {"pH": pH, "pe": pe, "I": I, "aw": aw}
    col = {s: i for i, s in enumerate(species)}
    for _el, ms in c.primary.items():
        if ms in col and math.isfinite(la[col[ms]]):
            guess[ms] = float(la[col[ms]])
    return WaterState(db, float(T), float(P), float(W), {k: v for k, v in els.items() if v > 0}, e, w, q, h, guess, w)


def mix(waters, fractions=None) -> WaterState:
    """PHREEQC's MIX: ``mix([(w1, 0.7), (w2, 0.3)])`` or ``mix([w1, w2], [0.7, 0.3])``: every conserved
    total scaled and summed (extensive), T, P and the start averaged by the fractions' shares
    (intensive), as PHREEQC's add_solution."""
    if fractions is None:
        pairs = list(waters)
    else:
        pairs = list(zip(waters, fractions))
    if not pairs:
        raise InvalidInputError("mix: no waters given")
    states = []
    for w, f in pairs:
        try:
            f = float(f)
        except (TypeError, ValueError):
            raise InvalidInputError(f"mix: fraction {f!r} is not a number") from None
        if not math.isfinite(f) or f < 0:
            raise InvalidInputError(f"mix: fraction {f!r} must be finite and >= 0")
        states.append((state_of(w), f))
    tot = sum(f for _, f in states)
    if tot <= 0:
        raise InvalidInputError("mix: the fractions add up to zero")
    db = states[0][0].db
    els: dict[str, float] = {}
    for s, f in states:
        if s.db is not db:
            raise InvalidInputError("mix: the waters come from different databases")
        for k, v in s.elements.items():
            els[k] = els.get(k, 0.0) + f * v
    keys = set().union(*(s.guess for s, _ in states))
    guess = {k: sum(f / tot * s.guess.get(k, 0.0) for s, f in states) for k in keys
             if all(k in s.guess for s, _ in states)}
    at_start = [s.water_at_start for s, _ in states]
    return WaterState(db, sum(f / tot * s.T for s, f in states), sum(f / tot * s.P for s, f in states),
                      sum(f * s.water_mass for s, f in states), els, sum(f * s.electrons for s, f in states),
                      sum(f * s.water for s, f in states), sum(f * s.charge for s, f in states),
                      sum(f * s.h for s, f in states), guess,
                      None if any(a is None for a in at_start) else sum(f * a for (s, f), a in zip(states, at_start)))


def add_formulas(state: WaterState, formulas: dict[str, float]) -> WaterState:
    """PHREEQC's REACTION: moles of formulas (or of phases, by their formula) added (negative:
    removed); elements, electrons and water change, the charge imbalance does not."""
    terms = formula_terms(state.db, list(formulas))
    return add_terms(state, terms, [_moles(name, v) for name, v in formulas.items()])


def _moles(name: str, moles: Any) -> float:
    try:
        x = float(moles)
    except (TypeError, ValueError):
        raise InvalidInputError(f"reaction: moles of {name!r} is {moles!r}, not a number") from None
    if not math.isfinite(x):
        raise InvalidInputError(f"reaction: moles of {name!r} must be finite, got {moles!r}")
    return x


def formula_terms(db: Database, names: list[str]) -> list[tuple[dict[str, float], float, float, float]]:
    """Per formula (or phase, by its formula) of a REACTION: what one mole adds to a water's conserved
    totals (element counts, H column, electrons, water), checked against the database once."""
    c = chem(db)
    out = []
    for name in names:
        formula = db.phases[name].formula if name in db.phases else name
        try:
            elements = parse_formula(formula)
        except ValueError as err:
            raise InvalidInputError(f"reaction: {name!r} is neither a phase of the database "
                                    f"nor a formula ({err})") from None
        for el in elements:
            if el not in ("H", "O") and el not in c.primary:
                raise InvalidInputError(f"reaction: element {el!r} of {name!r} is not in the database {db.path}")
        out.append(c.formula_invariants(elements))
    return out


def add_terms(state: WaterState, terms, moles: list[float]) -> WaterState:
    """``state`` with ``moles[i]`` of formula i added (``formula_terms``)."""
    els = dict(state.elements)
    e, w, h = state.electrons, state.water, state.h
    for (cnt, hh, ee, ww), x in zip(terms, moles):
        for el, n in cnt.items():
            els[el] = els.get(el, 0.0) + x * n
        e += x * ee
        w += x * ww
        h += x * hh
    return replace(state, elements=els, electrons=e, water=w, h=h)


# ------------------------------------------------------------------ Peng-Robinson, one gas
def pr_log10_phi(t_c: float, p_c: float, omega: float, T: float, P: float) -> float:
    """log10 of the fugacity coefficient of a pure gas at T [K], P [atm] by the Peng-Robinson
    equation of state, as PHREEQC's calc_PR for one gas (its constants, its root choice of the cubic,
    its clamp of ln phi to [-4.6, 4.44])."""
    from .gas_phase import pr_ln_phi, pr_volume

    R = 0.0820597  # [L atm/(mol K)] as PHREEQC
    P = max(P, 1e-10)
    a = 0.457235 * R * R * t_c * t_c / p_c
    b = 0.077796 * R * t_c / p_c
    kk = 0.37464 + omega * (1.54226 - 0.26992 * omega)
    alpha = (1.0 + kk * (1.0 - math.sqrt(T / t_c))) ** 2
    aa = a * alpha
    RT = R * T
    z = P * pr_volume(RT, P, aa, b) / RT
    return pr_ln_phi(z, aa * P / (RT * RT), b * P / RT, 1.0, 1.0) / math.log(10.0)


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class ReactionResult(Result):
    """One reaction step. pH, pe, I [mol/kgw], a(H2O), water_mass [kg], charge_imbalance [eq];
    molality [mol/kgw], activity, log_gamma of every species; saturation_index of every phase whose
    species are present; phase_moles: moles in the assemblage after the step (PHREEQC's EQUI),
    phase_dissolved: moles dissolved in the step (negative: precipitated; PHREEQC's -EQUI_DELTA);
    totals: molality of each element. ``state`` is the water to react further."""

    status: Status
    message: str
    T: float
    P: float
    pH: float
    pe: float
    ionic_strength: float
    water_activity: float
    water_mass: float
    charge_imbalance: float
    molality: dict[str, float]
    activity: dict[str, float]
    log_gamma: dict[str, float]
    saturation_index: dict[str, float]
    phase_moles: dict[str, float]
    phase_dissolved: dict[str, float]
    totals: dict[str, float]
    nit: int = 0
    guess_source: str = "default"
    advice: dict | None = None
    certificate: Certificate | None = None
    state: WaterState | None = None
    exchange: dict[str, float] = field(default_factory=dict)  # moles of each exchange species (EXCHANGE)
    exchanger: Any = None  # the exchanger after the step (``exchange.Exchanger``), to react further
    surface: dict[str, float] = field(default_factory=dict)  # moles of each surface species (SURFACE)
    surface_state: Any = None  # the surface after the step (``surface.Surface``), to react further
    surface_potential: dict[str, float] = field(default_factory=dict)  # psi [V] of each surface (DDL)
    # GAS_PHASE: {"fixed", "pressure" [atm], "volume" [L], "total_moles", "moles", "partial_pressure"
    # [atm], "log10_phi"} after the step, and the gas to react further (``gas_phase.GasPhase``)
    gas: dict[str, Any] = field(default_factory=dict)
    gas_phase: Any = None


@dataclass(frozen=True)
class BatchReaction(BatchResultBase):
    """N reaction steps on one tableau: row r of every array belongs to step r. species, phases
    (saturation indices), eq_phases (the assemblage), elements name the columns."""

    species: list[str]
    phases: list[str]
    eq_phases: list[str]
    elements: list[str]
    status: np.ndarray
    message: list[str]
    nit: np.ndarray
    T: np.ndarray
    P: np.ndarray
    pH: np.ndarray
    pe: np.ndarray
    ionic_strength: np.ndarray
    water_activity: np.ndarray
    water_mass: np.ndarray
    charge_imbalance: np.ndarray
    molality: np.ndarray
    log_gamma: np.ndarray
    saturation_index: np.ndarray
    phase_moles: np.ndarray
    phase_dissolved: np.ndarray
    totals: np.ndarray
    certificate: BatchCertificate | None = None
    guess_source: str = "default"
    advice: dict | None = None
    exchange_species: list = field(default_factory=list)  # columns of ``exchange``
    exchange: np.ndarray | None = None  # (N, nx) moles of each exchange species
    surface_species: list = field(default_factory=list)  # columns of ``surface``
    surface: np.ndarray | None = None  # (N, nsu) moles of each surface species
    surfaces_ddl: list = field(default_factory=list)  # columns of ``surface_potential``
    surface_potential: np.ndarray | None = None  # (N, npsi) psi [V] of each diffuse-double-layer surface
    gas_components: list = field(default_factory=list)  # columns of the gas arrays (GAS_PHASE)
    gas_moles: np.ndarray | None = None  # (N, ng) [mol]
    gas_partial_pressure: np.ndarray | None = None  # (N, ng) [atm]
    gas_pressure: np.ndarray | None = None  # (N,) [atm]
    gas_volume: np.ndarray | None = None  # (N,) [L]
    _rows: list = field(default_factory=list, repr=False)

    def row(self, i: int) -> ReactionResult:
        return self._rows[i]()


# ------------------------------------------------------------------ phases
@dataclass(frozen=True)
class PhaseSpec:
    name: str
    si: float
    moles: float
    formula: str | None = None  # a formula that dissolves or precipitates in the phase's place
    only: str | None = None  # "dissolve" or "precipitate"


def phase_specs(phases, db: Database) -> list[PhaseSpec]:
    """{name: SI} | {name: (SI, moles[, "dissolve_only"|"precipitate_only"])} |
    {name: {"si":, "moles":, "formula":, "only":}} -> PhaseSpecs (checked; moles default 10 as PHREEQC)."""
    out = []
    for name, spec in (phases or {}).items():
        name = str(name)
        if name not in db.phases:
            raise InvalidInputError(f"phase {name!r} is not in {db.path}")
        formula = only = None
        if isinstance(spec, dict):
            extra = set(spec) - {"si", "moles", "formula", "only"}
            if extra:
                raise InvalidInputError(f"equilibrium phase {name!r}: unknown keys {sorted(extra)}; allowed: "
                                        "si, moles, formula, only")
            si, moles = spec.get("si", 0.0), spec.get("moles", 10.0)
            formula, only = spec.get("formula"), spec.get("only")
        elif isinstance(spec, (tuple, list)):
            parts = list(spec) + [10.0] * (2 - len(spec)) if len(spec) < 2 else list(spec)
            si, moles = parts[0], parts[1]
            if len(parts) > 2:
                only = str(parts[2]).lower().replace("_only", "")
        else:
            si, moles = spec, 10.0
        try:
            si, moles = float(si), float(moles)
        except (TypeError, ValueError):
            raise InvalidInputError(f"equilibrium phase {name!r}: expected SI or (SI, moles), got {spec!r}") from None
        if not (math.isfinite(si) and math.isfinite(moles) and moles >= 0):
            raise InvalidInputError(f"equilibrium phase {name!r}: SI must be finite and moles >= 0, got {spec!r}")
        if only not in (None, "dissolve", "precipitate"):
            raise InvalidInputError(f"equilibrium phase {name!r}: only={only!r}; expected 'dissolve' or 'precipitate'")
        if formula is not None:
            try:
                parse_formula(str(formula))
            except ValueError as err:
                raise InvalidInputError(f"equilibrium phase {name!r}: formula {formula!r}: {err}") from None
        out.append(PhaseSpec(name, si, moles, None if formula is None else str(formula), only))
    return out


def _phase_elements(db: Database, p: PhaseSpec) -> dict[str, float]:
    return parse_formula(p.formula) if p.formula else db.phases[p.name].elements


# ------------------------------------------------------------------ the step
def _as_array(name: str, v, N: int | None = None) -> np.ndarray:
    try:
        a = np.atleast_1d(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be numbers, got {v!r:.80}") from None
    if a.ndim != 1:
        raise InvalidInputError(f"{name} must be a number or a 1-D array, got shape {a.shape}")
    return a


def react(water, phases=None, reaction=None, T=None, P=None, *, exchange=None, surface=None, gas=None,
          ionic_strength: str = "newton",
          damping: Any = None, warm_start: bool = True, chunk: int = 16):
    """One reaction step (or a batch of them), as PHREEQC's batch reaction.

    water : the result of ``speciate`` or ``react``, a ``WaterState`` (e.g. from ``mix``), or a
        list of these (one row each: a batch).
    phases : EQUILIBRIUM_PHASES, {name: SI} (10 mol available), {name: (SI, moles)},
        {name: (SI, moles, "dissolve_only" | "precipitate_only")}, or {name: {"si", "moles",
        "formula", "only"}} (``formula``: what dissolves in the phase's place, PHREEQC's
        ``Gibbsite 0 KAlSi3O8 10``). For a gas, SI = log10 partial pressure [atm].
    reaction : REACTION, {formula or phase: moles added} (arrays: one row per step).
    T [K], P [atm] : the step's temperature and pressure (default: the water's); arrays make a batch.
    exchange : EXCHANGE, an exchanger that comes to equilibrium with the water: {exchange species:
        moles} (``{"CaX2": 0.3, "NaX": 0.4}``), an ``Exchanger`` (``equilibrate_exchange``, or a
        result's ``exchanger``), or a list of these (one per row of a batch).
    surface : SURFACE, a surface that comes to equilibrium with the water: {site: moles, or (moles,
        specific area [m2/g], grams)} (``{"Hfo_w": (2e-4, 600, 0.09)}``: PHREEQC's default diffuse
        double layer, each surface's area given on one of its sites), a ``Surface``
        (``surface(db, {"Hfo_w": 2e-4}, edl="no_edl")``, ``equilibrate_surface``, or a result's
        ``surface_state``), or a list of these (one per row). The result carries ``surface`` (moles of
        each surface species), ``surface_potential`` (psi [V] of each DDL surface) and ``surface_state``.
    gas : GAS_PHASE, a gas that comes to equilibrium with the water: a ``GasPhase`` (``gas_phase(db,
        {"CO2(g)": 0.01, "N2(g)": 0.99}, fixed="pressure", pressure=1.0)``, or a result's
        ``gas_phase``), or a list of these (one per row, same components). The water is at the gas's
        pressure (P is then not given); the result carries ``gas`` and ``gas_phase``.
    ionic_strength : the formulation tried first ("newton" or "outer"); the rest of the fallback
        chain follows when it fails, and the message says so.
    warm_start : in a batch, each row of a chunk starts from its predecessor's solution.
    Returns a ``ReactionResult`` (one step) or a ``BatchReaction``.
    """
    if ionic_strength not in ("outer", "newton"):
        raise InvalidInputError(f"ionic_strength={ionic_strength!r}: expected 'outer' or 'newton'")
    batch_in = isinstance(water, (list, tuple))
    waters = [state_of(w) for w in (water if batch_in else [water])]
    if not waters:
        raise InvalidInputError("react: no water given")
    db = waters[0].db
    if any(w.db is not db for w in waters):
        raise InvalidInputError("react: the waters come from different databases")
    reaction = dict(reaction or {})
    arrays = {k: _as_array(f"reaction[{k!r}]", v) for k, v in reaction.items()}
    T_a = _as_array("T", np.nan if T is None else T)
    P_a = _as_array("P", np.nan if P is None else P)
    sizes = {a.shape[0] for a in [*arrays.values(), T_a, P_a] if a.shape[0] != 1}
    if batch_in and len(waters) != 1:
        sizes.add(len(waters))
    if len(sizes) > 1:
        raise InvalidInputError(f"waters, reaction amounts, T and P must have one common length (or be single); "
                                f"got lengths {sorted(sizes)}")
    N = sizes.pop() if sizes else 1
    is_batch = batch_in or any(a.shape[0] > 1 for a in [*arrays.values(), T_a, P_a]) or N > 1
    ws = waters if len(waters) == N else waters * N
    specs = phase_specs(phases, db)
    from .exchange import exchangers

    exs = exchangers(db, exchange, N)
    is_batch = is_batch or isinstance(exchange, (list, tuple))
    from .surface import surfaces

    sus = surfaces(db, surface, N)
    is_batch = is_batch or isinstance(surface, (list, tuple))
    from .gas_phase import gas_phases

    gps = gas_phases(db, gas, N)
    is_batch = is_batch or isinstance(gas, (list, tuple))
    if gps is not None and P is not None:
        raise InvalidInputError("react: with a gas phase the water is at the gas's pressure; give the pressure to "
                                "the gas phase (fixed pressure), not P")
    if gps is not None:
        clash = [k for k in gps[0].moles if k in {p.name for p in specs}]
        if clash:
            raise InvalidInputError(f"react: {clash[0]!r} is both an equilibrium phase and a gas-phase component")
    rows_states = []
    terms = formula_terms(db, list(arrays)) if arrays else []
    cols = []
    for k, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise InvalidInputError(f"reaction: moles of {k!r} must be finite, got {float(a[~np.isfinite(a)][0])!r}")
        cols.append(a.tolist())
    for r in range(N):
        st = ws[r]
        if arrays:
            st = add_terms(st, terms, [v[r if len(v) > 1 else 0] for v in cols])
        Tr = T_a[r if T_a.shape[0] > 1 else 0]
        Pr = P_a[r if P_a.shape[0] > 1 else 0]
        Tr = st.T if math.isnan(Tr) else float(Tr)
        Pr = st.P if math.isnan(Pr) else float(Pr)
        if not (T_RANGE[0] <= Tr <= T_RANGE[1]):
            raise InvalidInputError(f"T={Tr!r} K is outside {T_RANGE[0]}-{T_RANGE[1]} K "
                                    "(the range of the water-property fits)")
        if not (math.isfinite(Pr) and 0.0 < Pr <= P_MAX):
            raise InvalidInputError(f"P={Pr!r} atm must be in (0, {P_MAX:g}] (PHREEQC's highest, MAX_P_NONLLNL)")
        rows_states.append((st, Tr, Pr))
    out = _run_steps(db, rows_states, specs, ionic_strength, damping, warm_start, chunk, exs, sus, gps)
    return out if is_batch else out.row(0)


def _run_steps(db: Database, rows_states, specs: list[PhaseSpec], mode, damping, warm_start, chunk,
               exs=None, sus=None, gps=None) -> BatchReaction:
    c = chem(db)
    N = len(rows_states)
    # with a gas phase: its initial moles are in the totals, the water at its pressure (gas_step)
    gas_names = list(gps[0].moles) if gps else []
    if gps:
        from .gas_step import start_pressure, with_gas

        gterms = formula_terms(db, gas_names)
        rows_states = [(with_gas(st, g, gterms), Tr, start_pressure(g, Tr, Pr))
                       for (st, Tr, Pr), g in zip(rows_states, gps)]
    # with exchangers: the system's totals are the water's and the exchanger's (elements, sites, and
    # the electrons and water its species carry; the charge is the water's: exchange species are neutral)
    sites: list[str] = sorted({k for e in exs for k in e.sites}) if exs else []
    if exs:
        from .exchange import exchange_model

        em_all = exchange_model(db, sites, list(db.species))
        canon_of = {nm: em_all.canon[i] for i, nm in enumerate(em_all.names)}
        rows_states = [(_with_sorbed(st, e, canon_of), Tr, Pr) for (st, Tr, Pr), e in zip(rows_states, exs)]
        for e in exs:
            missing = [s_ for s_ in e.composition if s_ not in canon_of]
            if missing:
                raise InvalidInputError(f"exchange species {missing[0]!r} is formed by no aqueous species of {db.path}")
    # with surfaces: the surface's elements, the electrons and water its species carry, and its charge
    ssites: list[str] = sorted({k for su in sus for k in su.sites}) if sus else []
    if sus:
        from .surface import surface_model

        sm_all = surface_model(db, ssites, list(db.species))
        s_canon = {nm: sm_all.canon[i] for i, nm in enumerate(sm_all.names)}
        for su in sus:
            missing = [s_ for s_ in su.composition if s_ not in s_canon]
            if missing:
                raise InvalidInputError(f"surface species {missing[0]!r} is formed by no aqueous species of {db.path}")
        rows_states = [(_with_sorbed(st, su, s_canon, su.charge), Tr, Pr) for (st, Tr, Pr), su in zip(rows_states, sus)]
    # elements of the system: in any water, or in a phase that has moles to give
    els: set[str] = set()
    for st, _, _ in rows_states:
        els |= {e for e, v in st.elements.items() if v > MIN_TOTAL}
        neg = [e for e, v in st.elements.items() if v < -MIN_TOTAL]
        if neg:
            raise InvalidInputError(f"the reaction leaves negative moles of {neg[0]} ({st.elements[neg[0]]:.3g} mol): "
                                    "more removed than the water has")
    for p in specs:
        if p.moles > 0 and p.only != "precipitate":
            els |= {e for e in _phase_elements(db, p) if e not in ("H", "O")}
    for p in specs:
        for e in _phase_elements(db, p):
            if e not in ("H", "O") and e not in c.primary:
                raise InvalidInputError(f"equilibrium phase {p.name!r}: element {e!r} has no master species "
                                        f"in {db.path}")
    keys = sorted(els, key=lambda e: list(c.primary).index(e))
    # phases whose elements are absent and that have nothing to give take no part
    on_phase = [all(e in els or e in ("H", "O") for e in _phase_elements(db, p)) for p in specs]
    eq = [p for p, on in zip(specs, on_phase) if on]
    # the gas's components whose elements are all in the system follow the phases (the others: none of
    # them in the gas, PHREEQC's phase->in FALSE)
    gas_on = [k for k in gas_names if all(e in els or e in ("H", "O") for e in db.phases[k].elements)]
    qg = list(range(len(eq), len(eq) + len(gas_on)))
    gkind = (_c.GAS_FIXED_P if gps[0].fixed == "pressure" else _c.GAS_FIXED_V) if gps else 0
    eq = eq + [PhaseSpec(k, 0.0, 0.0) for k in gas_on]
    from .surface import surface_name

    psi = sorted({surface_name(s_) for s_ in ssites}) if sus and sus[0].edl == "ddl" else []
    t = _reaction_tableau(db, keys, eq, tuple(sites), tuple(ssites), tuple(psi), {k: gkind for k in gas_on})
    rows = _model.new_rows(t, N)
    nc = t.nc
    npp = len(eq)
    comps, masters = list(t.components), list(t.masters)
    gfw = c.gfw_water
    # the rows' totals and starts as arrays (``fill_rows`` builds the equations from them)
    E = np.zeros((N, nc))
    G = np.full((N, nc), np.nan)
    W = np.empty(N)
    shift = np.zeros(N)
    cons = np.empty((N, 3))  # charge, electrons, water
    gst = np.empty((N, 4))  # pH, pe, a(H2O), I of the start
    warm = np.zeros(N, dtype=bool)
    T_r = np.array([Tr for _, Tr, _ in rows_states], dtype=float)
    P_r = np.array([Pr for _, _, Pr in rows_states], dtype=float)
    site_cols = [j for j in range(nc) if comps[j] in sites]
    for r, (st, _, _) in enumerate(rows_states):
        # the mass of water to start from: the water total less what the solutes hold (as before any
        # REACTION changed it: H2O removed by evaporation shrinks W, and concentrates the start)
        Wr = max(st.water - (st.water_at_start - st.water_mass / gfw), 1e-3 * st.water) * gfw \
            if st.water_at_start is not None else st.water_mass
        W[r] = Wr
        shift[r] = math.log10(st.water_mass / Wr) if Wr > 0 else 0.0
        guess, elements = st.guess, st.elements
        E[r] = [elements.get(k, 0.0) for k in comps]
        G[r] = [guess.get(ms, np.nan) for ms in masters]
        # warm from the water's own speciation when it has one (see fill_rows)
        warm[r] = "pH" in guess and any(ms in guess for ms in masters)
        cons[r] = st.charge, st.electrons, st.water
        gst[r] = guess.get("pH", 7.0), guess.get("pe", 4.0), guess.get("aw", 1.0), guess.get("I", 1e-3)
        if exs:
            ex_sites = exs[r].sites
            for j in site_cols:
                E[r, j] = ex_sites.get(comps[j], 0.0)
                G[r, j] = exs[r].guess.get(masters[j], np.nan)
        if sus:
            su_sites = sus[r].sites
            for j in range(nc):
                if comps[j] in t.surfaces:
                    E[r, j] = su_sites.get(comps[j], 0.0)
                    G[r, j] = sus[r].guess.get(masters[j], np.nan)
    moles = np.array([[p.moles for p in eq]] * N, dtype=float).reshape(N, npp)
    fill_rows(db, t, rows, eq, moles, E, G, W, shift, cons, gst, warm, T_r, P_r)
    for sname in psi:  # each surface's potential, held by its charge-potential row (area: its val)
        j = comps.index(f"{sname}_psi")
        area = np.array([su.areas[sname][0] * su.areas[sname][1] if sname in su.areas else 0.0 for su in sus])
        # a row without this surface (another row's): its species are absent, its potential held at 0
        rows.kind[:, j] = np.where(area > 0, _c.AQ_PSI, _c.AQ_FIXED)
        rows.aux[:, j] = j
        rows.val[:, j] = area
        rows.XC[:, j] = 0.0
        g = np.array([su.guess.get(f"{sname}_psi", np.nan) for su in sus])
        rows.X[:, j] = np.where(np.isnan(g), 0.0, g)
    gas = None
    if gps:
        from .gas_step import solve as _solve_gas

        raw, gas = _solve_gas(db, t, rows, eq, gps, qg, mode, damping, bool(warm_start), chunk)
        gas.update(gps=gps, qg=qg, all_names=gas_names)
    else:
        raw = _model.run(t, rows, mode=mode, damping=damping, chain=bool(warm_start), chunk=chunk)
    idle = {p.name: p.moles for p, on in zip(specs, on_phase) if not on}
    return _batch_result(db, t, raw, rows, eq, mode, idle, exs, E, cons, moles, sus, gas)


def _log10(a) -> np.ndarray:
    """log10 elementwise by ``math.log10`` (the starts are then bit for bit those of a scalar loop)."""
    a = np.asarray(a, dtype=float)
    return np.array([math.log10(x) for x in a.ravel().tolist()]).reshape(a.shape)


def fill_rows(db: Database, t: Tableau, rows, eq: list[PhaseSpec], moles, E, G, W, shift, cons, gst, warm, T, P):
    """The equations and starts of N reaction steps on tableau ``t`` (``model.Rows``), from arrays: E (N, nc)
    the total of each component [mol] (an exchanger's: its sites), G (N, nc) a start of the log activity
    of its master species (NaN: none), W (N,) the mass of water to start from [kg] and ``shift`` (N,)
    log10 of (the mass the start was computed at / W), cons (N, 3) the conserved charge, electrons and
    water, gst (N, 4) the start's pH, pe, a(H2O) and I, warm (N,) whether the start is the water's own
    speciation, T, P (N,), and moles (N, np) of each phase of ``eq`` available.

    A component without a start of its own (added by a REACTION, or brought only by a phase) starts as
    PHREEQC starts it in a step: its total over the water (one new element is no reason to throw away
    the start of all the others); an exchanger's master without one starts at 0, which the first-guess
    sweeps correct. An element below MIN_TOTAL is absent unless a phase can bring it."""
    nc = t.nc
    N = E.shape[0]
    npp = len(eq)
    ih, ilw, iw, iI = t.ih, t.ilw, t.iw, t.iI
    BAL, BALLOG, ABSENT = _c.AQ_BAL, _c.AQ_BALLOG, _c.AQ_ABSENT
    touched = (np.abs(t.ph_rel[:, :nc]).sum(axis=0) > 0) if npp else np.zeros(nc, dtype=bool)
    site = np.array([k in t.exchangers or k in t.surfaces for k in t.components], dtype=bool)
    rows.aux[:, :nc] = np.arange(nc)
    rows.kind[:, ih], rows.aux[:, ih] = BAL, t.b_charge
    rows.kind[:, nc + 1], rows.aux[:, nc + 1] = BAL, t.b_e
    rows.kind[:, ilw], rows.aux[:, ilw] = BALLOG, t.b_water
    rows.XC[:, ih], rows.XC[:, nc + 1] = -7.0, -4.0
    if npp:
        only = [p.only for p in eq]
        rows.hi[:] = np.where(np.array([o == "precipitate" for o in only]), 0.0, moles)
        rows.lo[:] = np.where(np.array([o == "dissolve" for o in only]), 0.0, -np.inf)
    rows.T[:], rows.P[:] = T, P
    v = np.where(site, E, np.where(E > MIN_TOTAL, E, 0.0))
    pos = v > 0
    rows.kind[:, :nc] = np.where(site, np.where(pos, BALLOG, ABSENT),
                                 np.where(pos & ~touched, BALLOG, np.where(pos | touched, BAL, ABSENT)))
    rows.val[:, :nc] = v
    xc = np.where(site, 0.0, np.where(pos, _log10(np.where(pos, v, 1.0) / W[:, None]), -10.0))
    rows.XC[:, :nc] = xc
    have = ~np.isnan(G)
    rows.X[:, :nc] = np.where(have, G + np.where(site, 0.0, shift[:, None]), xc)
    rows.val[:, ih], rows.val[:, nc + 1], rows.val[:, ilw] = cons[:, 0], cons[:, 1], cons[:, 2]
    rows.X[:, ih] = -gst[:, 0]
    rows.X[:, nc + 1] = -gst[:, 1]
    rows.XC[:, iw] = rows.X[:, iw] = _log10(np.clip(gst[:, 2], 0.1, 1.0))
    rows.XC[:, ilw] = rows.X[:, ilw] = _log10(W)
    rows.XC[:, iI] = rows.X[:, iI] = _log10(np.clip(gst[:, 3], 1e-10, 10.0))
    rows.warm[:] = warm.astype(np.int8)
    for q, p in enumerate(eq):
        ph = db.phases[p.name]
        if ph.t_c > 0 and ph.p_c > 0:  # a gas: the target is its fugacity at the partial pressure 10^SI
            rows.si[:, q] = [p.si + pr_log10_phi(ph.t_c, ph.p_c, ph.omega, float(T[r]), 10.0 ** min(p.si, 3.5))
                             for r in range(N)]
        else:
            rows.si[:, q] = p.si


def _with_sorbed(st: WaterState, sorbed, canon_of, charge: float = 0.0) -> WaterState:
    """The totals of the water and an exchanger or a surface together: its elements, the electrons and
    water its species carry, and its ``charge`` (a surface's: the cell's charge balance holds it, as
    PHREEQC's; an exchanger's species are neutral)."""
    els = dict(st.elements)
    for el, v in sorbed.elements.items():
        els[el] = els.get(el, 0.0) + v
    e = st.electrons + sum(n * canon_of[s][1] for s, n in sorbed.composition.items())
    w = st.water + sum(n * canon_of[s][2] for s, n in sorbed.composition.items())
    h = st.h + sum(n * canon_of[s][0] for s, n in sorbed.composition.items())
    return replace(st, elements=els, electrons=e, water=w, h=h, charge=st.charge + charge,
                   water_at_start=None if st.water_at_start is None else st.water_at_start + (w - st.water))


def _reaction_tableau(db: Database, keys: list[str], eq: list[PhaseSpec], sites: tuple[str, ...] = (),
                      ssites: tuple[str, ...] = (), psi: tuple[str, ...] = (), gas: dict | None = None) -> Tableau:
    ck = ("reaction", tuple(keys), tuple((p.name, p.formula) for p in eq), sites, ssites, psi,
          tuple(sorted((gas or {}).items())))
    cache = db.__dict__.setdefault("_model_tableaux", {})
    t = cache.get(ck)
    if t is None:
        t = build(db, keys, mode="reaction", phases=tuple(p.name for p in eq),
                  add_formulas={p.name: p.formula for p in eq if p.formula}, exchangers=sites, surfaces=ssites,
                  psi=psi, gas=gas or None)
        if len(cache) > 256:
            cache.clear()
        cache[ck] = t
    return t


def _batch_result(db, t: Tableau, raw, rows, eq, mode, idle, exs, E, cons, moles, sus=None, gas=None) -> BatchReaction:
    """idle : phases of the assemblage that took no part (their elements absent, nothing to give):
    reported with their moles unchanged, as PHREEQC lists them. exs : the exchangers of the rows
    (their species follow the aqueous ones in the tableau: reported apart, in moles)."""
    idle = dict(idle or {})
    N = raw.m.shape[0]
    na = t.n_aq if t.n_aq >= 0 else len(t.species)
    nx = t.n_ex if t.n_ex >= 0 else len(t.species)
    aq_sp = list(t.species[:na])
    ex_sp = list(t.species[na:nx])
    su_sp = list(t.species[nx:])
    status = raw.status.copy()
    msgs = [_model.status_message(raw.res[r], mode)[1] for r in range(N)]
    if gas:
        from .gas_step import MAX_REFRESH

        for r in np.flatnonzero(~gas["settled"]):
            msgs[r] = (f"MAX_ITER: the gas phase's fugacity coefficients and pressure did not settle in {MAX_REFRESH} "
                       "solves (each converged)")
    W = 10.0 ** raw.X[:, t.ilw]
    npp = len(eq)
    n = raw.X[:, t.nb + 2:t.nb + 2 + npp]
    phases = [p for p in t.reactions if not p.startswith("couple ")]
    si = raw.si[:, :len(phases)]
    amounts = moles
    pe = -raw.X[:, t.nc + 1]
    pH = -raw.X[:, t.ih]
    m_aq, lg_aq, la_aq = raw.m[:, :na], raw.lg[:, :na], raw.la[:, :na]
    ex_n = raw.m[:, na:nx] * W[:, None]
    su_n = raw.m[:, nx:] * W[:, None]
    # the water's own charge imbalance: what the cell carries less the surface's charge
    charge = cons[:, 0] - su_n @ t.bal[nx:, t.b_charge] if su_sp else cons[:, 0].copy()
    ex_cols = [j for j, k in enumerate(t.components) if k in t.exchangers]
    su_cols = [j for j, k in enumerate(t.components) if k in t.surfaces]
    psi_cols = [t.components.index(f"{s_}_psi") for s_ in t.psi]
    # psi [V] = u x ln10 x 2RT/F, u the unknown (R, F as PHREEQC)
    psi_v = raw.X[:, psi_cols] * (math.log(10.0) * 2.0 * 8.31470 / 96493.5) * rows.T[:, None]
    aq_cols = [j for j in range(t.nc) if j not in ex_cols and j not in su_cols and j not in psi_cols]
    tot = np.einsum("ij,jk->ik", m_aq, t.bal[:na][:, aq_cols]) if aq_cols \
        else np.zeros((N, 0))
    cert = _certify(db, t, raw, rows, eq, W, n, status, E, cons, moles, sus, gas)
    # the gas's components are reported apart from the equilibrium phases
    npe = npp - (len(gas["qg"]) if gas else 0)
    gcols = list(gas["all_names"]) if gas else []
    gm = gpp = gP = gV = None
    if gas:
        gm = np.zeros((N, len(gcols)))
        for j, k in enumerate(gas["names"]):
            gm[:, gcols.index(k)] = gas["n"][:, j]
        gN = gm.sum(axis=1)
        gP = np.asarray(gas["P"], dtype=float).copy()
        gV = np.asarray(gas["V"], dtype=float).copy()
        gpp = gm / np.where(gN > 0, gN, 1.0)[:, None] * gP[:, None]
        glp = np.zeros((N, len(gcols)))
        for j, k in enumerate(gas["names"]):
            glp[:, gcols.index(k)] = gas["lphi"][:, j]
    for r in np.flatnonzero(status == Status.CHECK_FAILED):
        msgs[r] = failed_message(cert.row(int(r)))
    Peff = np.array([_peff(rows.T[r], rows.P[r], raw.res[r, 5]) for r in range(N)])

    def one(r):
        def make():
            st_new = exr = sur = gpr = None
            gd = {}
            if gas:
                g0 = gas["gps"][r]
                gd = {"fixed": g0.fixed, "pressure": float(gP[r]), "volume": float(gV[r]),
                      "total_moles": float(gm[r].sum()), "moles": dict(zip(gcols, gm[r].tolist())),
                      "partial_pressure": dict(zip(gcols, gpp[r].tolist())),
                      "log10_phi": dict(zip(gcols, glp[r].tolist()))}
                if status[r] == Status.CONVERGED:
                    from .gas_phase import GasPhase

                    gpr = GasPhase(db, g0.fixed, dict(zip(gcols, gm[r].tolist())),
                                   float(gP[r]) if g0.fixed == "volume" or gm[r].sum() > 0 else g0.pressure,
                                   float(gV[r]) if g0.fixed == "pressure" else g0.volume, float(rows.T[r]))
            if status[r] == Status.CONVERGED:
                st_new = water_state(db, aq_sp, m_aq[r], float(W[r]), float(rows.T[r]), float(Peff[r]),
                                     la_aq[r], float(pH[r]), float(pe[r]), float(raw.res[r, 4]), float(raw.res[r, 5]))
                if exs:
                    from .exchange import Exchanger

                    exr = Exchanger(db, {s_: float(x) for s_, x in zip(ex_sp, ex_n[r]) if x > 0},
                                    {t.masters[j]: float(raw.X[r, j]) for j in ex_cols})
                if sus:
                    from .surface import Surface

                    sur = Surface(db, {s_: float(x) for s_, x in zip(su_sp, su_n[r]) if x > 0}, sus[r].edl,
                                  dict(sus[r].areas), {t.masters[j]: float(raw.X[r, j]) for j in su_cols + psi_cols})
            return ReactionResult(
                status=Status(int(status[r])), message=msgs[r], T=float(rows.T[r]), P=float(Peff[r]),
                pH=float(pH[r]), pe=float(pe[r]), ionic_strength=float(raw.res[r, 4]),
                water_activity=float(raw.res[r, 5]), water_mass=float(W[r]), charge_imbalance=float(charge[r]),
                molality=dict(zip(aq_sp, m_aq[r].tolist())),
                activity=dict(zip(aq_sp, (10.0 ** la_aq[r]).tolist())),
                log_gamma=dict(zip(aq_sp, lg_aq[r].tolist())),
                saturation_index={p: float(si[r, i]) for i, p in enumerate(phases)},
                phase_moles={**{p.name: float(amounts[r, q] - n[r, q]) for q, p in enumerate(eq[:npe])}, **idle},
                phase_dissolved={**{p.name: float(n[r, q]) for q, p in enumerate(eq[:npe])},
                                 **dict.fromkeys(idle, 0.0)},
                totals={t.components[j]: float(tot[r, i]) for i, j in enumerate(aq_cols)},
                nit=int(raw.res[r, 1]), certificate=cert.row(r) if cert.checked[r] else None, state=st_new,
                exchange=dict(zip(ex_sp, ex_n[r].tolist())), exchanger=exr,
                surface=dict(zip(su_sp, su_n[r].tolist())), surface_state=sur,
                surface_potential=dict(zip(t.psi, psi_v[r].tolist())), gas=gd, gas_phase=gpr)
        return make

    return BatchReaction(aq_sp, phases, [p.name for p in eq[:npe]], [t.components[j] for j in aq_cols], status, msgs,
                         raw.res[:, 1].astype(np.int64), rows.T.copy(), Peff, pH, pe, raw.res[:, 4], raw.res[:, 5], W,
                         charge, m_aq, lg_aq, si, (amounts - n)[:, :npe], n[:, :npe], tot, cert, exchange_species=ex_sp,
                         exchange=ex_n, surface_species=su_sp, surface=su_n, surfaces_ddl=list(t.psi),
                         surface_potential=psi_v, gas_components=gcols, gas_moles=gm, gas_partial_pressure=gpp,
                         gas_pressure=gP, gas_volume=gV,
                         _rows=[one(r) for r in range(N)])


def _peff(T: float, P: float, aw: float) -> float:
    """The pressure the step holds at [atm]: P, or the saturation pressure x a(H2O) when higher."""
    Tk = min(T - 273.15, 350.0) + 273.15
    return max(P, math.exp(11.6702 - 3816.44 / (Tk - 46.13)) * min(aw, 1.0))


def _certify(db, t, raw, rows, eq, W, n, status, E, cons, moles, sus=None, gas=None) -> BatchCertificate:
    """The independent certificate of every converged step (``certificate.certify_states`` with the
    reaction-step checks: carried charge, electrons, water, pressure; with an exchanger, its species and
    sites); failing rows become CHECK_FAILED. E (N, nc) the totals the rows were given (an exchanger's
    column: its sites), cons (N, 3) the conserved charge, electrons and water, moles (N, np) of each
    phase available."""
    from .certificate import certify_states

    N = raw.m.shape[0]
    ok = status == Status.CONVERGED
    psi_keys = [f"{s_}_psi" for s_ in t.psi]
    cols = [j for j, k in enumerate(t.components) if k not in t.exchangers and k not in t.surfaces
            and k not in psi_keys]
    keys = [t.components[j] for j in cols]
    na = t.n_aq if t.n_aq >= 0 else len(t.species)
    nx = t.n_ex if t.n_ex >= 0 else len(t.species)
    TOT = np.where(E[:, cols] > MIN_TOTAL, E[:, cols], 0.0)  # what the rows were given (fill_rows: below
    Wc = np.where(W > 0, W, 1.0)  # MIN_TOTAL an element is absent, as PHREEQC drops it)
    exchange = None
    if t.exchangers:
        sc = [t.components.index(k) for k in t.exchangers]
        exchange = {"sites": list(t.exchangers), "names": list(t.species[na:nx]), "n": raw.m[:, na:nx] * W[:, None],
                    "cec": E[:, sc]}
    surface = None
    if t.surfaces:
        sc = [t.components.index(k) for k in t.surfaces]
        surface = {"sites": list(t.surfaces), "names": list(t.species[nx:]), "n": raw.m[:, nx:] * W[:, None],
                   "N": E[:, sc], "edl": sus[0].edl if sus else "no_edl", "ddl": list(t.psi),
                   "u": raw.X[:, [t.components.index(k) for k in psi_keys]],
                   "area": rows.val[:, [t.components.index(k) for k in psi_keys]]}
    npp = len(eq)
    si_target = np.array([[p.si for p in eq]] * N, dtype=float).reshape(N, npp)
    gas_phi = {p.name: [pr_log10_phi(db.phases[p.name].t_c, db.phases[p.name].p_c, db.phases[p.name].omega,
                                     float(rows.T[r]), 10.0 ** min(p.si, 3.5)) for r in range(N)]
               for p in eq if db.phases[p.name].t_c > 0 and db.phases[p.name].p_c > 0}
    gas_check = None
    if gas:
        gas_check = _gas_targets(db, gas, rows, n, si_target, gas_phi, eq)
    cert = certify_states(
        db, t.species[:na], keys, raw.m[:, :na], raw.lg[:, :na], -raw.X[:, t.ih], -raw.X[:, t.nc + 1], rows.T,
        raw.res[:, 4], raw.res[:, 5],
        np.ones(N, dtype=bool), TOT / Wc[:, None], phases=[p.name for p in eq],
        si_target=si_target, amount=moles, n=n,
        lower=rows.lo,  # fill_rows's bounds: 0 for dissolve-only (and, in a reactor, absent) phases
        upper=np.where(np.array([p.only == "precipitate" for p in eq], dtype=bool), 0.0, moles).reshape(N, npp),
        formulas=[p.formula for p in eq], P=rows.P, W=W,
        conserved={"charge": cons[:, 0], "electrons": cons[:, 1], "water": cons[:, 2]},
        gas_phi=gas_phi, checked=ok, exchange=exchange, surface=surface, gas=gas_check)
    status[ok & ~cert.passed] = Status.CHECK_FAILED
    return cert


def _gas_targets(db, gas, rows, n, si_target, gas_phi, eq) -> dict:
    """The gas's part of the certificate, recomputed at the returned moles (not the solver's lagged
    values): each present component's target log10(x_g P) and its log10 phi by the certificate's own
    equation of state of the gas at those moles (``certificate.gas_eos``; at a fixed volume, P too); an
    absent component (fixed pressure) at most log10 P, the sum of the water's partial pressures at most
    P (``certify_states``'s gas check); the water's pressure equal to the gas's."""
    from .certificate import gas_eos

    N = rows.n
    qg = gas["qg"]
    names = gas["names"]
    fixed_p = gas["gps"][0].fixed == "pressure"
    ip_n = -np.asarray(n, dtype=float)[:, qg]  # moles in the gas, from the returned state
    Pg = np.array([g.pressure for g in gas["gps"]], dtype=float)
    Vg = np.array([g.volume for g in gas["gps"]], dtype=float)
    limit = np.full(N, np.nan)
    p_gas = np.where(fixed_p, Pg, np.nan)
    for nm in names:
        gas_phi[nm] = np.zeros(N)
    for r in range(N):
        nr = ip_n[r]
        if gas["present"][r] and np.all(nr > 0):
            P_r, lphi = gas_eos(db, names, nr, float(rows.T[r]), P=Pg[r] if fixed_p else None,
                                V=None if fixed_p else Vg[r])
            p_gas[r] = P_r
            si_target[r, qg] = np.log10(nr / nr.sum() * P_r)
            for j, nm in enumerate(names):
                gas_phi[nm][r] = lphi[j]
        elif gas["present"][r]:
            si_target[r, qg] = np.inf  # a present gas without moles of a component: fails the check
        else:
            si_target[r, qg] = math.log10(Pg[r]) if fixed_p else -np.inf
            limit[r] = Pg[r] if fixed_p else np.nan
    return {"cols": [eq[q].name for q in qg], "limit": limit, "p_gas": p_gas, "p_water": rows.P.copy()}
