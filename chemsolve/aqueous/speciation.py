"""Aqueous speciation (ion association, PHREEQC's equations) on the compiled aqueous model.

``speciate(db, totals, T, pH, pe)`` is PHREEQC's initial SOLUTION in mol/kgw: one kilogram of water,
the given totals (elements, valence states, or ``Alkalinity`` in eq/kgw), the pH fixed or from the
charge balance, pe fixed; optionally equilibrium phases held at their saturation indices in the same
solve (``equilibrium_phases``). ``speciate_batch`` does the same for arrays of waters. Both go through
``model.run``: the one compiled algorithm (``kernels.aqueous_solve``), a single water being a batch
of one. Its fallback chain when Newton with the ionic strength among the unknowns fails: the ionic
strength in an outer fixed point, then as a bracketed 1-D root, then (pH from the charge balance)
the charge balance as a bracketed root over pH; the message says which one converged. Whatever the
solver reports, a state is labelled CONVERGED only after the independent certificate
(``aqueous.certificate``) passes. PHREEQC's full SOLUTION block (units, density, ``charge`` on an
element, totals fixed by phases, redox couples) is ``aqueous.Solution``; reaction steps are
``aqueous.react``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..certificate import BatchCertificate, Certificate, failed_message
from ..errors import ConvergenceError, InvalidInputError
from ..kernels import codes as _c
from ..result import BatchResultBase, Result
from ..status import Status
from . import model as _model
from .database import Database, log_k_basis
from .system import Tableau, atoms_in_master, build, check_total, total_key

__all__ = ["BatchSpeciation", "SpeciationResult", "build_system", "speciate", "speciate_batch", "total_key"]

LN10 = math.log(10.0)
T_RANGE = (273.14, 623.15)  # [K]: the range of the water-property and log K fits (PHREEQC caps at 350 C)
# pe range. Water is stable (neither H2 nor O2 above 1 atm) for 0 < pe + pH < 20.78 at 25 C
# (log f(O2) = 4 (pe + pH) - 83.1, log f(H2) = -2 (pe + pH)); with pH in [-2, 16] that is pe in
# about [-16, 22.8]. Outside [-20, 20] every pH gives H2 or O2 activities of 10^8 or more (pe
# -20 at pH 16) up to absurd ones (pe 100: a(O2) ~ 10^300): such a pe is a unit or sign mistake
# (e.g. Eh in mV), refused by name rather than solved into an overflow. The corner given up,
# 20 < pe < 22.8 at pH < 0.8, is an extreme oxidising acid a user can still reach with pe 20.
PE_RANGE = (-20.0, 20.0)
_BASIS_FIXED = ("H+", "H2O", "e-")


def _unsupported_total(key: str) -> str | None:
    """Why a total key is refused, or None. Nothing is refused any more: Alkalinity [eq/kgw] is
    PHREEQC's (the pH is adjusted to it when carbon is given, else the carbonate is)."""
    return None


def check_pe(pe) -> float:
    """pe as a float, or an InvalidInputError naming the value (finite, in PE_RANGE)."""
    try:
        v = float(pe)
    except (TypeError, ValueError):
        raise InvalidInputError(f"pe={pe!r} is not a number") from None
    if not (math.isfinite(v) and PE_RANGE[0] <= v <= PE_RANGE[1]):
        raise InvalidInputError(f"pe={pe!r} must be a finite number in [{PE_RANGE[0]:g}, {PE_RANGE[1]:g}] "
                                "(beyond it H2 or O2 would be far above 1 atm at any usual pH; is it Eh in mV?)")
    return v


@dataclass(frozen=True)
class SpeciationResult(Result):
    """Speciation of one water. Molalities [mol/kgw]; activities; log10 activity coefficients."""

    status: Status
    message: str
    T: float
    pH: float
    pe: float
    ionic_strength: float
    water_activity: float
    charge_balance: float  # sum z m [eq/kgw]
    molality: dict[str, float]
    activity: dict[str, float]
    log_gamma: dict[str, float]
    saturation_index: dict[str, float]
    totals: dict[str, float]
    nit: int = 0
    outer_iterations: int = 0
    guess_source: str = "default"
    advice: dict | None = None  # with an advisor: attempts, rejected suggestions, advisor time
    phase_moles: dict[str, float] = field(default_factory=dict)  # equilibrium phases: moles dissolved
    composition: dict[str, dict[str, float]] = field(default_factory=dict)  # component -> {species: atoms}
    certificate: Certificate | None = None  # the independent check of a state the solver called converged
    water_mass: float = 1.0  # [kg]
    P: float = 1.0  # [atm] the pressure the state holds at (the saturation pressure above 100 C)
    state: Any = None  # what a reaction step conserves (``aqueous.react``): ``react.WaterState``

    def distribution(self, component: str) -> dict[str, float]:
        """Fraction of a component's dissolved total in each species, largest first:
        ``r.distribution("C(+4)") -> {"HCO3-": 0.89, "CO2": 0.07, ...}`` (keys as in ``composition``;
        a plain element name such as "C" or "Ca" is matched to its component)."""
        key = component if component in self.composition else next(
            (k for k in self.composition if k.split("(")[0] == component), None)
        if key is None:
            raise InvalidInputError(f"{component!r} is not a component of this water; "
                                    f"components: {sorted(self.composition)}")
        amounts = {s: c * self.molality[s] for s, c in self.composition[key].items()}
        total = sum(amounts.values())
        return dict(sorted(((s, a / total) for s, a in amounts.items()), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class BatchSpeciation(BatchResultBase):
    """Speciation of N waters: row r of every array belongs to water r.

    species : names of the columns of ``molality`` / ``log_gamma`` (N, ns) [mol/kgw] / [-];
    pH, ionic_strength [mol/kgw], water_activity, nit : (N,); status : (N,) int8 (``Status`` codes);
    phases, saturation_index (N, nph): every phase of the database whose species are present.
    certificate : the independent check of every row the solver called converged (rows that fail
    it have status ``CHECK_FAILED``); ``certificate.row(i)`` is row i's ``Certificate``.
    """

    species: list[str]
    molality: np.ndarray
    log_gamma: np.ndarray
    pH: np.ndarray
    ionic_strength: np.ndarray
    water_activity: np.ndarray
    status: np.ndarray
    nit: np.ndarray
    phases: list[str]
    saturation_index: np.ndarray
    components: list[str]
    certificate: BatchCertificate | None = None
    message: list[str] = field(default_factory=list)  # per row: which formulation converged, or why none did
    guess_source: str = "default"
    advice: dict | None = None

    def _frame_columns(self) -> dict[str, Any]:
        cols = super()._frame_columns()
        cols.update({f"m_{s}": self.molality[:, j] for j, s in enumerate(self.species)})
        cols.update({f"SI_{p}": self.saturation_index[:, j] for j, p in enumerate(self.phases)})
        return cols


# ------------------------------------------------------------------ the initial-solution tableau
def _keys_of(db: Database, totals: dict) -> tuple[list[str], list[str], bool]:
    """(component keys, the user's key of each, alkalinity sets the pH) of a totals dict."""
    user = [str(k) for k in totals]
    keys = [total_key(db, k) for k in user]
    alk_ph = "Alkalinity" in keys and any(k.split("(")[0] == "C" and db.masters[k].species ==
                                          db.masters["Alkalinity"].species for k in keys if k != "Alkalinity")
    return keys, user, alk_ph


def tableau(db: Database, keys: list[str], phases: tuple[str, ...] = (), *, alk_ph: bool = False,
            couples: dict | None = None, default_couple: str | None = None, extra: tuple[str, ...] = (),
            T: float = 298.15) -> Tableau:
    """The initial-solution tableau of these keys (cached on the database)."""
    comp = tuple(k for k in keys if not (alk_ph and k == "Alkalinity"))
    ck = ("initial", comp, tuple(phases), tuple(sorted((couples or {}).items())), default_couple, tuple(extra))
    cache = db.__dict__.setdefault("_model_tableaux", {})
    t = cache.get(ck)
    if t is None:
        t = build(db, list(comp), mode="initial", phases=tuple(phases), couples=couples,
                  default_couple=default_couple, extra_reactions=tuple(extra))
        if len(cache) > 256:
            cache.clear()
        cache[ck] = t
    t._logk_T = t.lkc @ log_k_basis(T)  # type: ignore[attr-defined]
    return t


@dataclass(frozen=True)
class SystemView:
    """What ``speciate`` solves for one set of totals at one temperature, in the component basis:
    species, components and their master species, nu (ns, nc) coefficients of each species'
    formation from the component master species (with H+, H2O, e- besides), log_k (ns,) at T,
    charges z, and the totals [mol/kgw of the master species] (an O(0) total in O2: half the O)."""

    species: list[str]
    components: list[str]
    masters: list[str]
    nu: np.ndarray
    log_k: np.ndarray
    z: np.ndarray
    totals: np.ndarray
    tableau: Tableau


def build_system(db: Database, totals: dict[str, float], T: float, pe: float = 4.0,
                 phases: tuple[str, ...] = ()) -> SystemView:
    """The tableau ``speciate`` solves for ``totals`` at ``T`` [K] (species, components, log K at T)."""
    if not isinstance(totals, dict) or (not totals and not phases):
        raise InvalidInputError("totals must be a non-empty dict like {'Na': 0.01, 'Cl': 0.01} [mol/kgw]")
    keys, user, alk_ph = _keys_of(db, totals)
    t = tableau(db, keys, tuple(phases), alk_ph=alk_ph, T=T)
    by_key = dict(zip(keys, user))
    tot = np.array([float(totals[by_key[c]]) if c in by_key else 0.0 for c in t.components]) / t.atoms
    return SystemView(list(t.species), list(t.components), list(t.masters), t.nu[:, :t.nc].copy(),
                      t.lkc @ log_k_basis(T), t.z.copy(), tot, t)


def initial_rows(t: Tableau, tot: np.ndarray, T: np.ndarray, pH: np.ndarray, pe: np.ndarray, *, alk: np.ndarray | None,
                 W: float = 1.0, ph_si=None, ph_amount=None):
    """Rows of N initial solutions: ``tot`` (N, nc) totals [mol of element (eq for Alkalinity) per
    kgw] in the tableau's component order; pH NaN: from the charge balance; ``alk`` (N,) eq/kgw when
    the alkalinity sets the pH (else None); phases: (N, np) targets and amounts."""
    N = tot.shape[0]
    rows = _model.new_rows(t, N)
    rows.T[:] = T
    rows.P[:] = 1.0
    nc = t.nc
    npp = len(t.eq_phases)
    touched = np.abs(t.ph_rel[:, :nc]).sum(axis=0) > 0 if npp else np.zeros(nc, dtype=bool)
    for j, k in enumerate(t.components):
        v = tot[:, j] * W
        rows.aux[:, j] = j
        rows.val[:, j] = v
        log_ok = (v > 0) & ~touched[j] & (k != "Alkalinity")
        rows.kind[:, j] = np.where(log_ok, _c.AQ_BALLOG, _c.AQ_BAL)
        rows.XC[:, j] = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0) / W / t.atoms[j]), -10.0)
    charge = np.isnan(pH)
    if alk is not None:
        rows.kind[:, t.ih] = _c.AQ_BAL
        rows.aux[:, t.ih] = t.b_alk
        rows.val[:, t.ih] = alk * W
    else:
        rows.kind[:, t.ih] = np.where(charge, _c.AQ_BAL, _c.AQ_FIXED)
        rows.aux[:, t.ih] = t.b_charge
        rows.val[:, t.ih] = np.where(charge, 0.0, -np.nan_to_num(pH))
    rows.XC[:, t.ih] = np.where(charge, -7.0, -np.nan_to_num(pH, nan=7.0))
    rows.kind[:, nc + 1] = _c.AQ_FIXED
    rows.val[:, nc + 1] = -pe
    rows.XC[:, nc + 1] = -pe
    rows.kind[:, t.ilw] = _c.AQ_FIXED
    rows.val[:, t.ilw] = math.log10(W)
    rows.XC[:, t.ilw] = math.log10(W)
    rows.XC[:, t.iI] = np.log10(np.maximum(0.5 * np.abs(tot).sum(axis=1), 1e-7))
    if npp:
        rows.si[:] = ph_si
        rows.hi[:] = ph_amount
    rows.X[:] = rows.XC
    return rows


# ------------------------------------------------------------------ single waters
def _is_batch(totals, T, pH, pe) -> bool:
    """Array-valued totals, T, pH or pe (more than a scalar) make ``speciate`` a batch."""
    vals = list(totals.values()) if isinstance(totals, dict) else []
    return any(np.ndim(v) > 0 for v in [*vals, T, pH, pe] if v is not None)


def _phase_args(equilibrium_phases) -> tuple[list[str], np.ndarray, np.ndarray]:
    names, si, amount = [], [], []
    for name, spec in (equilibrium_phases or {}).items():
        target, amt = (spec, 10.0) if not isinstance(spec, (tuple, list)) else (tuple(spec) + (10.0,))[:2]
        try:
            target, amt = float(target), float(amt)
        except (TypeError, ValueError):
            raise InvalidInputError(f"equilibrium phase {name!r}: expected SI or (SI, moles), got {spec!r}") from None
        if not (math.isfinite(target) and math.isfinite(amt) and amt >= 0):
            raise InvalidInputError(f"equilibrium phase {name!r}: SI must be finite and moles >= 0, got {spec!r}")
        names.append(str(name))
        si.append(target)
        amount.append(amt)
    return names, np.array(si), np.array(amount)


def speciate(
    db: Database,
    totals: dict[str, float] | None = None,
    T: float = 298.15,
    pH: float | None = None,
    pe: float = 4.0,
    *,
    equilibrium_phases: dict[str, float | tuple[float, float]] | None = None,
    ionic_strength: str = "newton",
    max_outer: int = 100,
    damping: Any = None,
    advisor: Any = None,
    options: Any = None,
    throw: bool = False,
) -> SpeciationResult:
    """Speciate one water, optionally in equilibrium with minerals and gases.

    PHREEQC's initial SOLUTION in mol/kgw on the one compiled aqueous model (a single water is a batch
    of one). Array-valued totals, T, pH or pe make it a batch: the call goes to ``speciate_batch`` and
    returns a ``BatchSpeciation`` (arrays, one status per row).

    When the formulation tried first fails, the fallback chain runs in the same compiled call: the
    other ionic-strength formulation, the ionic strength as a bracketed 1-D root, then (pH from the
    charge balance) the charge balance as a bracketed root over pH; the message says which one
    converged. A state is labelled CONVERGED only after the independent certificate
    (``aqueous.certificate``) passes.

    Parameters
    ----------
    db : Database or Solution
        The thermodynamic database (``load_database``), or an ``aqueous.Solution`` (PHREEQC's SOLUTION:
        units, density, charge on an element, totals fixed by phases, redox couples); with a Solution,
        totals, T, pH, pe, equilibrium_phases and advisor are not used.
    totals : dict
        {element or valence state: total [mol/kgw]}, e.g. {"Na": 0.469, "Cl": 0.546, "C(4)": 2.1e-3}.
        "Alkalinity" [eq/kgw] as PHREEQC: with carbon given, the pH is adjusted to it (pass a pH as
        the start; the charge balance cannot also be asked); without, it fixes the carbonate.
    T : float
        Temperature [K].
    pH : float or None
        Fixed pH, or None for the pH of electroneutrality.
    pe : float
        Fixed pe (links the valence states of elements given as a whole, and sets H2 and O2).
    equilibrium_phases : dict, optional
        {phase: SI} or {phase: (SI, moles available per kgw)}: each phase dissolves or precipitates until
        its saturation index is SI (for a gas, SI = log10 partial pressure [atm], e.g.
        {"CO2(g)": -3.5}); a phase whose available moles (default 10) run out dissolves completely and
        is left undersaturated. Moles dissolved (negative: precipitated) come back in
        ``phase_moles``. pe and the 1 kg of water stay fixed: PHREEQC's reaction step, which conserves
        electrons and water, is ``aqueous.react``.
    ionic_strength : {"newton", "outer"}
        The formulation tried first: "newton" (default: log10 I is a Newton unknown with its own
        equation) or "outer" (Newton at fixed activity coefficients inside a damped fixed point on I).
        When it fails, the other, then the nested searches, are tried; the message says which
        converged.
    max_outer : int
        Iterations of the outer fixed point on I (the "outer" formulation); when it runs out, the
        fallback chain goes on and the message says so.
    damping : damping schedule, optional
        Schedule of the Newton steps (default: ``LineSearch()``).
    advisor : advisor, optional
        A ``chemsolve.advisors`` advisor. It may suggest the initial guess
        ``{"log_a": {master species: log10 activity}, "pH": ...}`` (which then replaces the default
        start), a damping schedule and ``{"ionic_strength": ...}``. Checked: known masters, finite,
        log10 activity in [-40, log10(total) + 1] (no more of a component free than there is in
        total), pH in [-2, 16]; a bad part is replaced by the default and the reason kept in
        ``advice``.
    options : AqueousOptions, optional
        ionic_strength, max_outer and damping at once (the object a model file's ``solver:`` builds);
        then leave those keywords at their defaults.
    throw : bool
        Raise ``chemsolve.ConvergenceError`` (carrying the result) unless converged.

    Returns
    -------
    SpeciationResult
        A failed solve has ``success`` False and says why (a batch returns a ``BatchSpeciation``).
    """
    o = _options(options, ionic_strength, max_outer, damping)
    res = _speciate_dispatch(db, totals, T, pH, pe, equilibrium_phases, o.ionic_strength, o.max_outer, o.damping,
                             advisor)
    if throw and not bool(np.all(res.success)):
        raise ConvergenceError(res)
    return res


def _options(options, ionic_strength, max_outer, damping):
    """The ``AqueousOptions`` of a call: ``options=`` or the keywords (validated once), never both."""
    from .options import AqueousOptions

    if options is None:
        return AqueousOptions(ionic_strength=ionic_strength, max_outer=max_outer, damping=damping)
    if not isinstance(options, AqueousOptions):
        raise InvalidInputError(f"options={options!r}: expected a chemsolve.aqueous.AqueousOptions")
    if (ionic_strength, max_outer, damping) != ("newton", 100, None):
        raise InvalidInputError("give the solver options either as options= or as keywords, not both")
    return options


def _speciate_dispatch(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping, advisor):
    if not isinstance(db, Database) and callable(getattr(db, "speciate", None)):  # an aqueous.Solution
        return db.speciate(ionic_strength=ionic_strength, damping=damping)
    if totals is None:
        raise InvalidInputError("totals must be a non-empty dict like {'Na': 0.01, 'Cl': 0.01} [mol/kgw]")
    if _is_batch(totals, T, pH, pe):
        if equilibrium_phases:
            raise InvalidInputError("equilibrium_phases are not supported for arrays of waters yet; loop over speciate")
        if advisor is not None or damping is not None:
            raise InvalidInputError("advisor= and damping= apply to single waters; speciate_batch uses its own")
        from .options import AqueousOptions

        return speciate_batch(db, totals, T, pH, pe,
                              options=AqueousOptions(ionic_strength=ionic_strength, max_outer=max_outer))
    if advisor is not None:
        return _advised_speciate(advisor, db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer,
                                 damping)
    return _speciate_one(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping)


def _check_one(db, totals, T, pH, pe, ionic_strength, allow_empty: bool = False) -> float:
    if not isinstance(totals, dict) or (not totals and not allow_empty):
        raise InvalidInputError("totals must be a non-empty dict like {'Na': 0.01, 'Cl': 0.01} [mol/kgw]")
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T_RANGE[0] <= T <= T_RANGE[1]):
        raise InvalidInputError(f"T={T!r} K is outside {T_RANGE[0]}-{T_RANGE[1]} K "
                                "(the range of the water-property fits)")
    pe = check_pe(pe)
    if pH is not None and not (isinstance(pH, (int, float)) and math.isfinite(pH) and -2 <= pH <= 16):
        raise InvalidInputError(f"pH={pH!r} must be a finite number in [-2, 16], or None for charge balance")
    if ionic_strength not in ("outer", "newton"):
        raise InvalidInputError(f"ionic_strength={ionic_strength!r}: expected 'outer' or 'newton'")
    for k, v in totals.items():
        check_total(str(k), v)
    return pe


def _check_duplicates(db: Database, keys: list[str], user: list[str]) -> None:
    """Two totals of one master species (e.g. "C" and "C(4)"): refused, naming both as written."""
    seen: dict[str, str] = {}
    for k, u in zip(keys, user):
        ms = db.masters[k].species
        if ms in seen and k != "Alkalinity" and seen[ms] != "Alkalinity":
            raise InvalidInputError(f"{u!r} and {seen[ms]!r} both give the total of master species {ms}")
        seen.setdefault(ms, u if k != "Alkalinity" else "Alkalinity")


def _speciate_one(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping,
                  guess: dict | None = None) -> SpeciationResult:
    pnames, si_target, amount = _phase_args(equilibrium_phases)
    pe = _check_one(db, totals, T, pH, pe, ionic_strength, allow_empty=bool(pnames))
    keys, user, alk_ph = _keys_of(db, totals)
    _check_duplicates(db, keys, user)
    if alk_ph and pH is None:
        raise InvalidInputError("Alkalinity with carbon given: the pH is adjusted to the alkalinity, so it cannot "
                                "also come from the charge balance; give a pH (it is used as the start)")
    if alk_ph and pnames:
        raise InvalidInputError("equilibrium_phases with Alkalinity and carbon: the pH is held by the alkalinity; "
                                "speciate the water first, then react it (aqueous.react)")
    t = tableau(db, keys, tuple(pnames), alk_ph=alk_ph, T=T)
    vals = {k: check_total(u, totals[u]) for k, u in zip(keys, user)}
    tot = np.array([[vals.get(k, 0.0) for k in t.components]])
    alk = np.array([vals["Alkalinity"]]) if alk_ph else None
    pH_arr = np.array([np.nan if pH is None else float(pH)])
    rows = initial_rows(t, tot, np.array([float(T)]), pH_arr, np.array([pe]), alk=alk,
                        ph_si=si_target[None, :], ph_amount=amount[None, :])
    if alk_ph:
        rows.XC[:, t.ih] = -float(pH)
        rows.X[:, t.ih] = -float(pH)
    if guess:  # an advisor's start, already checked; it replaces the continued-fraction start
        la = guess.get("log_a", {})
        for j, ms in enumerate(t.masters):
            if ms in la:
                rows.X[0, j] = la[ms]
                rows.XC[0, j] = la[ms]
        if "pH" in guess and pH is None:
            rows.X[0, t.ih] = rows.XC[0, t.ih] = -float(guess["pH"])
        rows.warm[0] = 1 if all(ms in la for ms in t.masters) else 0
    max_outer = _check_max_outer(max_outer)
    raw = _model.run(t, rows, mode=ionic_strength, damping=damping, max_outer=max_outer)
    return _result_one(db, t, raw, 0, totals, T, pe, pH is None, equilibrium_phases, pnames, ionic_strength,
                       max_outer)


def _check_max_outer(max_outer) -> int:
    if isinstance(max_outer, bool) or not isinstance(max_outer, (int, np.integer)) or max_outer < 1:
        raise InvalidInputError(f"max_outer={max_outer!r} must be a positive integer")
    return int(max_outer)


def _result_one(db, t: Tableau, raw, r: int, totals, T, pe, charge, equilibrium_phases, pnames, mode,
                max_outer: int = 100) -> SpeciationResult:
    status, message = _model.status_message(raw.res[r], mode, max_outer)
    m, lg, la = raw.m[r], raw.lg[r], raw.la[r]
    X = raw.X[r]
    si = {name: float(raw.si[r, i]) for i, name in enumerate(t.reactions) if not name.startswith("couple ")}
    comp = {}
    for j, c in enumerate(t.components):
        nz = np.flatnonzero(t.bal[:, j])
        comp[c] = {t.species[i]: float(t.bal[i, j]) for i in nz}
    res = SpeciationResult(
        status=status, message=message, T=float(T), pH=-float(X[t.ih]), pe=float(pe),
        ionic_strength=float(raw.res[r, 4]), water_activity=float(raw.res[r, 5]),
        charge_balance=float(t.z @ m), molality=dict(zip(t.species, m.tolist())),
        activity=dict(zip(t.species, (10.0 ** la).tolist())), log_gamma=dict(zip(t.species, lg.tolist())),
        saturation_index=si, totals=dict(totals), nit=int(raw.res[r, 1]),
        outer_iterations=0, phase_moles={p: float(X[t.nb + 2 + q]) for q, p in enumerate(pnames)},
        composition=comp, water_mass=10.0 ** float(X[t.ilw]),
    )
    return _certified(db, res, charge, equilibrium_phases)


def _certified(db: Database, r: SpeciationResult, charge: bool, equilibrium_phases) -> SpeciationResult:
    """The solver's CONVERGED is only a claim: the independent certificate (aqueous.certificate)
    re-checks the returned state and refuses it (Status.CHECK_FAILED) if any equation fails."""
    if r.status != Status.CONVERGED:
        return r
    from .certificate import certify_result

    cert = certify_result(db, r, charge, equilibrium_phases)
    if cert.passed:
        return replace(r, certificate=cert)
    return replace(r, status=Status.CHECK_FAILED, message=failed_message(cert), certificate=cert)


def _advised_speciate(advisor, db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping):
    """``speciate`` with an advisor (see ``chemsolve.advisors.consult``)."""
    from ..advisors import base as adv

    if ionic_strength not in ("outer", "newton"):
        raise InvalidInputError(f"ionic_strength={ionic_strength!r}: expected 'outer' or 'newton'")
    pe = check_pe(pe)
    pnames, _, _ = _phase_args(equilibrium_phases)
    sys_ = build_system(db, totals, T, pe, tuple(pnames))
    tot = {k: check_total(str(u), totals[u]) for k, u in zip(*_keys_of(db, totals)[:2])}
    comps = {c: tot.get(c, 0.0) / atoms_in_master(db, c) for c in sys_.components}
    masters = dict(zip(sys_.components, sys_.masters))
    summary = {
        "kind": "aqueous", "signature": "aqueous:" + ",".join(sorted(comps)) + (":pH" if pH is None else ":fixedpH")
        + ":" + ",".join(sorted(pnames)),
        "components": comps, "masters": masters, "T": float(T), "pH": pH, "pe": float(pe),
        "equilibrium_phases": pnames, "ionic_strength": ionic_strength,
        "features": [math.log10(max(t, 1e-30)) for t in comps.values()] + [float(T) / 100.0, float(pH or 0.0)],
    }
    top = {ms: math.log10(t) + 1.0 if t > 0 else -1.0 for ms, t in zip(sys_.masters, comps.values())}

    def check(sug):
        parts = {"damping": adv.check_damping(sug.damping, ("constant", "ramp", "adaptive", "linesearch"))}
        g = sug.initial_guess
        if g is not None:
            if not isinstance(g, dict) or set(g) - {"log_a", "pH"}:
                parts["initial_guess"] = adv.Part(None, f"expected keys log_a, pH; got {g!r:.80}")
            else:
                la = g.get("log_a") or {}
                out, why = {}, ""
                if not isinstance(la, dict):
                    why = f"log_a must map master species to numbers, got {la!r:.60}"
                for ms, v in (la.items() if not why else ()):
                    if ms not in top:
                        why = f"{ms!r} is not a master species of this water ({sorted(top)})"
                        break
                    p = adv.finite_number(v, -40.0, top[ms], f"log_a[{ms}]")
                    if p.reason:
                        why = p.reason + (" (more free than the total)" if isinstance(v, (int, float))
                                          and v > top[ms] else "")
                        break
                    out[ms] = p.value
                guess = {"log_a": out}
                if not why and g.get("pH") is not None:
                    if pH is not None:
                        why = f"pH is fixed at {pH} by the caller: a pH guess is not used"
                    else:
                        p = adv.finite_number(g["pH"], -2.0, 16.0, "pH")
                        why = p.reason
                        guess["pH"] = p.value
                if not why and not out and "pH" not in guess:
                    why = "empty guess"
                parts["initial_guess"] = adv.Part(None, why) if why else adv.Part(guess)
        opts = dict(sug.options or {})
        if opts:
            v = opts.pop("ionic_strength", None)
            parts["options"] = (adv.Part(None, f"unknown option(s) {sorted(opts)}; allowed: ['ionic_strength']")
                                if opts else adv.Part({"ionic_strength": v}) if v in ("newton", "outer")
                                else adv.Part(None, f"ionic_strength={v!r}: expected 'newton' or 'outer'"))
        return parts

    def attempt(p):
        r = _speciate_one(db, totals, T, pH, pe, equilibrium_phases,
                          p.get("options", {}).get("ionic_strength", ionic_strength), max_outer,
                          p.get("damping", damping), p.get("initial_guess"))
        sol = {"log_a": {ms: math.log10(r.activity[ms]) for ms in sys_.masters
                         if r.activity.get(ms, 0.0) > 0 and math.isfinite(r.activity[ms])}, "pH": r.pH}
        rec = {"status": r.status.name, "converged": r.success, "iterations": r.nit,
               "outer_iterations": r.outer_iterations, "residual_trace": [], "message": r.message[:200],
               "solution": sol if r.success else {}, "damping": p["damping"].to_dict() if "damping" in p else "default"}
        return r, rec

    res, source, log = adv.consult(advisor, summary, check, attempt)
    return replace(res, guess_source=source, advice=log)


# ------------------------------------------------------------------ batches
def speciate_batch(
    db: Database,
    totals: dict[str, np.ndarray | float],
    T: np.ndarray | float = 298.15,
    pH: np.ndarray | float | None = None,
    pe: np.ndarray | float = 4.0,
    *,
    warm_start: bool = True,
    chunk: int = 64,
    ionic_strength: str = "newton",
    max_outer: int = 100,
    damping: Any = None,
    options: Any = None,
    throw: bool = False,
) -> BatchSpeciation:
    """Speciate N waters in one compiled call (numba ``prange`` over chunks of rows).

    The same model, the same compiled algorithm and fallback chain as ``speciate`` (which is this
    with one row). A failed row gets its status and never stops the others. The kernels are cached on
    disk: the first call on a machine compiles them (about a minute, said on stderr), later processes
    load them.

    Parameters
    ----------
    db : Database
        The thermodynamic database (``load_database``).
    totals : dict
        {element or valence state (or Alkalinity [eq/kgw]): (N,) totals [mol/kgw]} (scalars
        broadcast); every total must be positive in every row.
    T : array_like
        (N,) temperatures [K].
    pH : array_like or None
        (N,) fixed pH, NaN (or None for all rows) for the pH of electroneutrality.
    pe : array_like
        (N,) pe.
    warm_start : bool
        Each row of a chunk starts from its predecessor's solution (sweeps).
    chunk : int
        Rows per parallel chunk.
    ionic_strength, max_outer, damping
        As in ``speciate``.
    options : AqueousOptions, optional
        ionic_strength, max_outer and damping at once; then leave those keywords at their defaults.
    throw : bool
        Raise ``chemsolve.ConvergenceError`` (carrying the batch) unless every row converged.

    Returns
    -------
    BatchSpeciation
        One row per water, one status and message per row.
    """
    o = _options(options, ionic_strength, max_outer, damping)
    if not isinstance(totals, dict) or not totals:
        raise InvalidInputError("totals must be a non-empty dict of arrays, e.g. {'Na': [0.01, 0.02], 'Cl': ...}")
    ionic_strength = o.ionic_strength
    arrays = {str(k): _float_array(f"totals[{str(k)!r}]", v) for k, v in totals.items()}
    sizes = {a.shape[0] for a in arrays.values() if a.shape[0] != 1}
    T_a, pe_a = _float_array("T", T), _float_array("pe", pe)
    pH_a = _float_array("pH", np.nan if pH is None else pH)
    sizes |= {a.shape[0] for a in (T_a, pe_a, pH_a) if a.shape[0] != 1}
    if len(sizes) > 1:
        raise InvalidInputError("totals, T, pH and pe must have one common length (or be scalars); "
                                f"got lengths {sorted(sizes)}")
    N = sizes.pop() if sizes else 1
    for k, a in arrays.items():
        if a.ndim != 1:
            raise InvalidInputError(f"totals[{k!r}] must be 1-D, got shape {a.shape}")
        bad = np.flatnonzero(~(np.isfinite(a) & (a > 0)))
        if bad.size:
            raise InvalidInputError(f"totals[{k!r}] must be positive and finite; bad rows "
                                    f"{bad[:10].tolist()}: {a[bad[:10]].tolist()}")
    bad = np.flatnonzero(~(np.isfinite(T_a) & (T_a >= T_RANGE[0]) & (T_a <= T_RANGE[1])))
    if bad.size:
        raise InvalidInputError(f"T must lie in {T_RANGE[0]}-{T_RANGE[1]} K; bad rows "
                                f"{bad[:10].tolist()}: {T_a[bad[:10]].tolist()}")
    bad = np.flatnonzero(~(np.isnan(pH_a) | ((pH_a >= -2) & (pH_a <= 16))))
    if bad.size:
        raise InvalidInputError(f"pH must be in [-2, 16] or NaN (charge balance); bad rows {bad[:10].tolist()}")
    bad = np.flatnonzero(~(np.isfinite(pe_a) & (pe_a >= PE_RANGE[0]) & (pe_a <= PE_RANGE[1])))
    if bad.size:
        raise InvalidInputError(f"pe must be finite and in [{PE_RANGE[0]:g}, {PE_RANGE[1]:g}]; bad rows "
                                f"{bad[:10].tolist()}: {pe_a[bad[:10]].tolist()}")
    keys, user, alk_ph = _keys_of(db, arrays)
    _check_duplicates(db, keys, user)
    Tb = np.broadcast_to(T_a, (N,)).astype(float)
    pHb = np.broadcast_to(pH_a, (N,)).astype(float)
    peb = np.broadcast_to(pe_a, (N,)).astype(float)
    if alk_ph and np.isnan(pHb).any():
        raise InvalidInputError("Alkalinity with carbon given: the pH is adjusted to the alkalinity, so it cannot "
                                "also come from the charge balance; give a pH in every row (used as the start)")
    t = tableau(db, keys, alk_ph=alk_ph, T=float(Tb[0]))
    by_key = dict(zip(keys, user))
    TOT = np.column_stack([np.broadcast_to(arrays[by_key[c]], (N,)) for c in t.components])
    alk = np.broadcast_to(arrays[by_key["Alkalinity"]], (N,)).astype(float) if alk_ph else None
    rows = initial_rows(t, TOT, Tb, pHb, peb, alk=alk)
    if alk_ph:
        rows.XC[:, t.ih] = -pHb
        rows.X[:, t.ih] = -pHb
    raw = _model.run(t, rows, mode=ionic_strength, damping=o.damping, chain=bool(warm_start), chunk=chunk,
                     max_outer=o.max_outer)
    status = raw.status.copy()
    msgs = [_model.status_message(raw.res[r], ionic_strength, o.max_outer)[1] for r in range(N)]
    phases = [p for p in t.reactions if not p.startswith("couple ")]
    si = raw.si[:, :len(phases)]
    TOT_user = np.column_stack([np.broadcast_to(arrays[u], (N,)) for u in user])
    cert = _certify_batch(db, t, raw, pHb, peb, Tb, user, TOT_user, status)
    for r in np.flatnonzero(status == Status.CHECK_FAILED):
        msgs[r] = failed_message(cert.row(int(r)))
    res = BatchSpeciation(t.species, raw.m, raw.lg, -raw.X[:, t.ih], raw.res[:, 4], raw.res[:, 5], status,
                          raw.res[:, 1].astype(np.int64), phases, si, list(t.components), cert, msgs)
    if throw and not bool(res.success.all()):
        raise ConvergenceError(res)
    return res


def _certify_batch(db, t, raw, pH_a, pe_a, T_a, user_keys, TOT_user, status) -> BatchCertificate:
    """Certify every row the kernel called converged (aqueous.certificate); a row that fails gets
    ``CHECK_FAILED`` in ``status`` (changed in place)."""
    from .certificate import certify_states

    N = raw.m.shape[0]
    ok = status == Status.CONVERGED
    cert = certify_states(db, t.species, user_keys, raw.m, raw.lg, -raw.X[:, t.ih],
                          np.broadcast_to(pe_a, (N,)), np.broadcast_to(T_a, (N,)), raw.res[:, 4], raw.res[:, 5],
                          np.broadcast_to(np.isnan(pH_a), (N,)), TOT_user, checked=ok)
    status[ok & ~cert.passed] = Status.CHECK_FAILED
    return cert


def _float_array(name: str, v) -> np.ndarray:
    try:
        return np.atleast_1d(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be numbers, got {v!r:.80}") from None


# compatibility names used elsewhere in the package (``total_key`` is the public one: model files, plots
# and the certificate resolve total keys with it)
_total_key = total_key
_atoms_in_master = atoms_in_master
