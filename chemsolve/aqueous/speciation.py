"""Aqueous speciation (ion association, PHREEQC's equations) on the chemsolve engine.

Unknowns are log10 activities of the component master species (tableau style) and, when the pH
comes from electroneutrality, log10 a(H+). Mass balances (and the charge balance) are solved by the
engine's damped Newton with an analytic Jacobian at fixed activity coefficients; ionic strength and
water activity are updated around it as an outer fixed point, as PHREEQC does.

If that coupled solve fails, the fallback chain is: the ionic strength as a bracketed 1-D root
over solves at fixed activity coefficients (``_solve_nested_I``), then, for a charge-balance pH, the
charge balance as a bracketed root over pH (``_solve_nested_ph``). Whatever the solver reports, a
state is labelled CONVERGED only after the independent certificate (``aqueous.certificate``) passes.

Scope so far: totals in mol/kgw of elements or valence states (moles of the element, as PHREEQC),
T, pH fixed or from charge balance, pe fixed (it only matters for elements given as a whole, e.g.
"Fe", whose valence states are then distributed by pe), equilibrium phases (single waters).
Not yet: Alkalinity as a total (refused), Pitzer/SIT databases (refused by the reader).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..certificate import BatchCertificate, Certificate, failed_message
from ..engine import solve
from ..errors import ConvergenceError, InvalidInputError
from ..result import BatchResultBase, Result
from ..status import Status
from .activity import GAMMA_DAVIES, GAMMA_NEUTRAL, GAMMA_WATEQ, debye_huckel_ab, dlog_gamma_dI, log_gamma
from .database import Database, log_k_basis, parse_formula

__all__ = ["speciate", "SpeciationResult", "AqueousSystem", "build_system"]

LN10 = math.log(10.0)
T_RANGE = (273.14, 623.15)  # [K]: the range of the water-property and log K fits
# pe range. Water is stable (neither H2 nor O2 above 1 atm) for 0 < pe + pH < 20.78 at 25 C
# (log f(O2) = 4 (pe + pH) - 83.1, log f(H2) = -2 (pe + pH)); with pH in [-2, 16] that is pe in
# about [-16, 22.8]. Outside [-20, 20] every pH gives H2 or O2 activities of 10^8 or more (pe
# -20 at pH 16) up to absurd ones (pe 100: a(O2) ~ 10^300): such a pe is a unit or sign mistake
# (e.g. Eh in mV), refused by name rather than solved into an overflow. The corner given up,
# 20 < pe < 22.8 at pH < 0.8, is an extreme oxidising acid a user can still reach with pe 20.
PE_RANGE = (-20.0, 20.0)


def _unsupported_total(key: str) -> str | None:
    """Why a total key is refused, or None. 'Alkalinity' is a master row of every PHREEQC database
    (its master species is CO3-2), so without this check a total of it would silently become a
    carbon total; PHREEQC's alkalinity input (charge-equivalents fixing the carbonate) is not
    implemented yet."""
    if str(key).strip().lower().startswith("alk"):
        return (f"{key!r} as a total is not supported yet: chemsolve would count it as carbon, which it "
                "is not (alkalinity is eq/kgw of acid-neutralising capacity); give the carbonate as "
                "C(4) [mol/kgw of carbon] instead")
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
_BASIS_FIXED = ("H+", "H2O", "e-")


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


@dataclass
class AqueousSystem:
    """The tableau of one set of components at one temperature: species rows, component columns."""

    components: list[str]  # total keys as the database spells them, e.g. "C(+4)"
    masters: list[str]  # their master species, e.g. "CO3-2"
    totals: np.ndarray  # (nc,) [mol/kgw] of the master species (a total of O(0) in O2: half the O atoms)
    species: list[str]
    nu: np.ndarray  # (ns, nc) component coefficients of each species
    nu_h: np.ndarray  # (ns,) H+ coefficients
    nu_w: np.ndarray  # (ns,) H2O coefficients
    nu_e: np.ndarray  # (ns,) e- coefficients
    log_k: np.ndarray  # (ns,) log10 K of formation from the basis at T
    z: np.ndarray
    gamma_kind: np.ndarray
    gamma_a: np.ndarray
    gamma_b: np.ndarray
    T: float
    phases: dict[str, tuple[dict[str, float], float]] = field(default_factory=dict)  # name -> (stoich, log K(T))
    eq_phases: list[str] = field(default_factory=list)  # phases held at a saturation index
    pb: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (np, nc) component coefficients
    pvec: np.ndarray = field(default_factory=lambda: np.zeros((4, 0)))  # H+, H2O, e- coefficients, constant
    log_k_coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))  # log K(T) coefficients per species
    phase_log_k_coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))  # per phase in ``phases``
    nu_mb: np.ndarray | None = None  # (ns, nc) mass-balance coefficients; differ from nu under -mass_balance

    def __post_init__(self) -> None:
        if self.nu_mb is None:
            self.nu_mb = self.nu


def _total_key(db: Database, key: str) -> str:
    if key in db.masters:
        return key
    m = re.fullmatch(r"([A-Z][a-z_]*)\(([+-]?)(\d+(?:\.\d+)?)\)", key)
    if m:
        el, sign, val = m.groups()
        v = float(val)
        val = str(int(v)) if v == int(v) else val
        for cand in ([f"{el}({sign}{val})"] if sign else [f"{el}(+{val})", f"{el}({val})"]):
            if cand in db.masters:
                return cand
    known = sorted(k for k in db.masters if k[0].isupper())
    close = [k for k in known if k.split("(")[0] == key.split("(")[0]]
    hint = f"; for this element: {close}" if close else f"; known: {known}"
    raise InvalidInputError(f"unknown element or valence state {key!r} in totals (database {db.path}){hint}")


def _atoms_in_master(db: Database, key: str) -> float:
    """Atoms of the key's element in its master species: 2 for O(0) (O2), N(0) (N2), H(0) (H2) and
    Hg(1) (Hg2+2 in minteq.v4.dat), else 1. A total is moles of the element in that valence state,
    as in PHREEQC, so the mass balance of the master species' own units gets total / atoms."""
    el = key.split("(")[0]
    n = parse_formula(db.masters[key].species).get(el, 0.0)
    return n if n > 0 else 1.0


def _primary_of(db: Database, name: str, seen: frozenset = frozenset()) -> set[str]:
    """Primary master species (identity reactions) a species is built from, without H+, H2O, e-."""
    sp = db.species.get(name)
    if sp is None:
        raise InvalidInputError(f"species {name!r} is not in {db.path}")
    if not sp.reaction.stoich:
        return set() if name in _BASIS_FIXED else {name}
    out: set[str] = set()
    for other in sp.reaction.stoich:
        if other != name and other not in seen and other not in _BASIS_FIXED:
            out |= _primary_of(db, other, seen | {name})
    return out


def _key_for_master(db: Database, species: str) -> str:
    """The valence-state key of a master species if the database has one ("C(+4)" for CO3-2),
    so that a phase does not switch on redox for its element; else the element key."""
    keys = [k for k, m in db.masters.items() if m.species == species]
    for k in keys:
        if "(" in k:
            return k
    if not keys:
        raise InvalidInputError(f"{species!r} is no master species in {db.path}")
    return keys[0]


def build_system(db: Database, totals: dict[str, float], T: float, pe: float = 4.0,
                 phases: tuple[str, ...] = ()) -> AqueousSystem:
    """Components, species and stoichiometry for ``totals`` at ``T`` [K].

    A species is included when its formation reaction, rewritten in terms of the component
    master species, H+, H2O and e-, uses only given components. Valence states follow PHREEQC:
    the master species of a valence state (Fe+3 for Fe(3)) is a component when that state's
    total is given; it is reached from the element's primary master through e- (linked by pe)
    when the element is given as a whole ("Fe"); otherwise that state and every species built
    on it are absent. Water's own H2 and O2 are always present.
    """
    if not isinstance(totals, dict) or (not totals and not phases):
        raise InvalidInputError("totals must be a non-empty dict like {'Na': 0.01, 'Cl': 0.01} [mol/kgw]")
    comps, masters, tvals, whole = [], [], [], set()
    for key, val in totals.items():
        try:
            v = float(val)
        except (TypeError, ValueError):
            raise InvalidInputError(f"total of {key!r} is {val!r}, not a number [mol/kgw]") from None
        if not math.isfinite(v) or v <= 0:
            raise InvalidInputError(f"total of {key!r} must be a positive finite molality [mol/kgw], got {val!r}")
        why = _unsupported_total(str(key))
        if why:
            raise InvalidInputError(why)
        k = _total_key(db, str(key))
        ms = db.masters[k].species
        if ms in _BASIS_FIXED:
            raise InvalidInputError(f"{key!r} (master species {ms}) is set by pH, pe or the solvent, not by a total")
        if ms in masters:
            other = comps[masters.index(ms)]
            raise InvalidInputError(f"{key!r} and {other!r} both give the total of master species {ms}")
        comps.append(k)
        masters.append(ms)
        tvals.append(v / _atoms_in_master(db, k))
        if "(" not in k:
            whole.add(ms)
    for pname in phases:  # components a phase brings in start with a total of zero
        if pname not in db.phases:
            raise InvalidInputError(f"phase {pname!r} is not in {db.path}")
        ph = db.phases[pname]
        for sname in ph.products:
            if sname in _BASIS_FIXED:
                continue
            for ms in sorted(_primary_of(db, sname)):
                if ms not in masters:
                    comps.append(_key_for_master(db, ms))
                    masters.append(ms)
                    tvals.append(0.0)
    basis = set(masters) | set(_BASIS_FIXED)
    whole_el = {k for k in comps if "(" not in k}
    # master species of a valence state ("Fe+3" of Fe(+3), "HS-" of S(-2)): outside the basis
    # they are reached from the element's primary master through e- (the pe), which is allowed
    # only for elements given as a whole, and for water's own H(0) and O(0) (H2, O2)
    state_master = {m.species: k.split("(")[0] for k, m in db.masters.items()
                    if "(" in k and m.species not in _BASIS_FIXED}
    memo: dict[str, tuple[dict[str, float], np.ndarray] | None] = {}
    basis_T = log_k_basis(T)

    def expand(name: str, depth: int = 0) -> tuple[dict[str, float], np.ndarray] | None:
        """(basis coefficients, log K temperature coefficients) of a species' formation."""
        if name in basis:
            return {name: 1.0}, np.zeros(6)
        if name in memo:
            return memo[name]
        sp = db.species.get(name)
        memo[name] = None  # guards against cycles
        if sp is None or depth > 50 or not sp.reaction.stoich:
            return None  # unknown, or a primary master species that is not a component
        el = state_master.get(name)
        if el is not None and el not in whole_el and el not in ("H", "O"):
            return None  # a valence state that is not in this water
        acc: dict[str, float] = {}
        lk = np.array(sp.reaction.log_k_coeffs())
        for other, coef in sp.reaction.stoich.items():
            if other == name:
                continue
            sub = expand(other, depth + 1)
            if sub is None:
                return None
            c = -coef  # reactants have negative coefficients in the stored reaction
            for b, v in sub[0].items():
                acc[b] = acc.get(b, 0.0) + c * v
            lk += c * sub[1]
        res = ({k: v for k, v in acc.items() if abs(v) > 1e-12}, lk)
        memo[name] = res
        return res

    rows = []
    for name, sp in db.species.items():
        if name in ("H2O", "e-"):
            continue
        ex = expand(name)
        if ex is None:
            continue
        coefs, lk = ex
        used = [b for b in coefs if b not in _BASIS_FIXED]
        if name not in state_master and "e-" in sp.reaction.stoich and not all(b in whole for b in used):
            continue
        rows.append((name, sp, coefs, lk))
    ns, nc = len(rows), len(comps)
    log_k_coef = np.array([r[3] for r in rows]).reshape(ns, 6)
    nu = np.zeros((ns, nc))
    idx = {m: j for j, m in enumerate(masters)}
    arr = lambda: np.zeros(ns)  # noqa: E731
    nu_h, nu_w, nu_e, log_k, z, ga, gb = arr(), arr(), arr(), arr(), arr(), arr(), arr()
    gk = np.zeros(ns, dtype=np.int64)
    for i, (_name, sp, coefs, lk) in enumerate(rows):
        for b, v in coefs.items():
            if b == "H+":
                nu_h[i] = v
            elif b == "H2O":
                nu_w[i] = v
            elif b == "e-":
                nu_e[i] = v
            else:
                nu[i, idx[b]] = v
        log_k[i] = float(lk @ basis_T)
        z[i] = sp.charge
        if sp.gamma is not None:
            gk[i], ga[i], gb[i] = GAMMA_WATEQ, sp.gamma[0], sp.gamma[1]
        else:
            gk[i] = GAMMA_DAVIES if sp.charge != 0 else GAMMA_NEUTRAL
    for j, _m in enumerate(masters):
        if not np.any(nu[:, j]):
            raise InvalidInputError(f"no aqueous species of {comps[j]} in {db.path}")
    present = {r[0] for r in rows} | {"H2O"}
    all_phases, phase_coef = {}, []
    for pname, ph in db.phases.items():
        rx = ph.products
        if rx and all(k in present for k in rx):
            phase_coef.append(ph.reaction.log_k_coeffs())
            all_phases[pname] = (rx, float(np.dot(phase_coef[-1], basis_T)))
    # equilibrium phases: F_p = pb.x + pb_h log a(H+) + pb_w log a_w + pb_e log a(e-) + pconst - SI_p,
    # and pb[p, j] is also the moles of component j released per mole of phase dissolved
    npp = len(phases)
    pb, pvec = np.zeros((npp, nc)), np.zeros((4, npp))  # rows of pvec: h, w, e, const
    rowix = {r[0]: i for i, r in enumerate(rows)}
    for p_i, pname in enumerate(phases):
        if pname not in all_phases:
            raise InvalidInputError(f"phase {pname!r} needs species that are not in this system")
        rx, lkp = all_phases[pname]
        const = -lkp
        for sname, c in rx.items():
            if sname == "H2O":
                pvec[1, p_i] += c
                continue
            i = rowix[sname]
            pb[p_i] += c * nu[i]
            pvec[0, p_i] += c * nu_h[i]
            pvec[1, p_i] += c * nu_w[i]
            pvec[2, p_i] += c * nu_e[i]
            const += c * log_k[i]
        pvec[3, p_i] = const
    nu_mb = _mass_balance_rows(db, [r[0] for r in rows], comps, nu)
    return AqueousSystem(comps, masters, np.array(tvals), [r[0] for r in rows], nu, nu_h, nu_w, nu_e,
                         log_k, z, gk, ga, gb, T, all_phases, list(phases), pb, pvec, log_k_coef,
                         np.array(phase_coef).reshape(len(phase_coef), 6), nu_mb)


def _valence_of(key: str) -> tuple[str, float | None]:
    m = re.fullmatch(r"([A-Z][a-z_]*)(?:\(([+-]?\d+(?:\.\d+)?)\))?", key)
    if not m:
        return key, None
    return m.group(1), (float(m.group(2)) if m.group(2) is not None else None)


def _mass_balance_rows(db: Database, species: list[str], comps: list[str], nu: np.ndarray) -> np.ndarray:
    """Mass-balance coefficients: ``nu`` (the formation reaction rewritten to the components), except
    for species with PHREEQC's -mass_balance, which count what it says (wateq4f.dat's S4-2, formed
    from one HS-, counts four S(-2); PHREEQC's tidy_species uses next_secondary the same way). A bare
    element there means its primary master species' valence state. In master-species units."""
    special = [i for i, sname in enumerate(species) if db.species[sname].mass_balance]
    if not special:
        return nu
    out = nu.copy()
    comp_ev = [_valence_of(c) for c in comps]
    atoms = [_atoms_in_master(db, c) for c in comps]
    for i in special:
        out[i] = 0.0
        for key, count in db.species[species[i]].mass_balance.items():
            el, val = _valence_of(key)
            if el in ("H", "O"):
                continue  # water and pH: not mass balances here
            if val is None and el in db.masters:  # the primary master species' valence state
                prim = db.masters[el].species
                states = [_valence_of(k)[1] for k, m in db.masters.items() if "(" in k and k.split("(")[0] == el
                          and m.species == prim]
                val = states[0] if states else None
            for j, (cel, cval) in enumerate(comp_ev):
                if cel == el and (cval is None or cval == val):
                    out[i, j] += count / atoms[j]
    return out


def _pcf_start(sys, x, charge_eq, log_h, log_aw, log_e, lg, qscale, sweeps: int = 40, skip=None, fix=None):
    """Improve the first guess by positive-continued-fraction sweeps (Carrayrou et al. 2002,
    AIChE J. 48, 894): scale each component's activity by (total / computed total)^(1/nu_max),
    and, for a charge-balance pH, bisect log a(H+) to neutrality with the rest fixed. Cheap,
    robust far from the root, slow near it: Newton takes over from there. ``fix(x, log_h)`` sets
    the components that equilibrium phases control from their saturation conditions."""
    nc = len(sys.components)
    x = x.copy()
    nu_max = np.maximum(sys.nu.max(axis=0), 1.0)
    lh = x[nc] if charge_eq else log_h
    for sweep in range(sweeps):
        if charge_eq and sweep % 4 == 0:  # re-balance the charge every 4th sweep: bisection is the cost
            lo, hi = -16.0, 2.0  # log a(H+) bracket
            while hi - lo > 1e-4:  # a first guess: 1e-4 in log a(H+) is plenty
                mid = 0.5 * (lo + hi)
                if fix is not None:
                    fix(x, mid)
                _, m = _state(sys, x[:nc], mid, log_aw, log_e, lg)
                if sys.z @ m > 0.0:
                    hi = mid
                else:
                    lo = mid
            lh = x[nc] = 0.5 * (lo + hi)
        if fix is not None:
            fix(x, lh)
        _, m = _state(sys, x[:nc], lh, log_aw, log_e, lg)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.log10((m @ sys.nu_mb) / sys.totals)
        if skip is not None:
            f[skip] = 0.0  # components held by phases are left to Newton
        if not np.all(np.isfinite(f)):
            break
        if np.max(np.abs(f)) < 1e-3:
            break
        x[:nc] -= f / nu_max
    return x


def _phase_guess(sys: AqueousSystem, act: np.ndarray, si: np.ndarray, touched: np.ndarray, log_aw: float,
                 log_e: float):
    """For the first guess: let each active phase set one component's activity from its saturation
    condition (a basis swap), preferring components that have no total of their own."""
    nc = len(sys.components)
    ctl: list[tuple[int, int]] = []
    taken: set[int] = set()
    order = sorted(act, key=lambda p: np.count_nonzero(sys.pb[p]))  # single-component phases first
    for p in order:
        cands = [j for j in np.flatnonzero(sys.pb[p]) if j not in taken]
        if not cands:
            continue
        j = min(cands, key=lambda j: (sys.totals[j] > 0, -abs(sys.pb[p, j])))
        ctl.append((int(j), int(p)))
        taken.add(int(j))

    def fix(x, log_h):
        for j, p in ctl:
            rest = sys.pb[p] @ x[:nc] - sys.pb[p, j] * x[j]
            x[j] = (si[p] - rest - sys.pvec[0, p] * log_h - sys.pvec[1, p] * log_aw - sys.pvec[2, p] * log_e
                    - sys.pvec[3, p]) / sys.pb[p, j]

    return fix


def _charge_of(db: Database, species: str) -> float:
    return db.species[species].charge if species in db.species else 0.0


def _state(sys: AqueousSystem, x: np.ndarray, log_h: float, log_aw: float, log_e: float, lg: np.ndarray):
    log_a = sys.log_k + sys.nu @ x + sys.nu_h * log_h + sys.nu_w * log_aw + sys.nu_e * log_e
    return log_a, 10.0 ** (log_a - lg)


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
    totals: dict[str, float],
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

    Array-valued totals, T, pH or pe make it a batch: the call goes to ``speciate_batch`` and returns a
    ``BatchSpeciation`` (arrays, one status per row).

    Parameters
    ----------
    db : Database
        The thermodynamic database (``load_database``).
    totals : dict
        {element or valence state: total [mol/kgw]}, e.g. {"Na": 0.469, "Cl": 0.546, "C(4)": 2.1e-3}.
    T : float
        Temperature [K].
    pH : float or None
        Fixed pH, or None for the pH of electroneutrality.
    pe : float
        Fixed pe (links the valence states of elements given as a whole, and sets H2 and O2).
    equilibrium_phases : dict, optional
        {phase: SI} or {phase: (SI, moles available per kgw)}, as PHREEQC's EQUILIBRIUM_PHASES: each
        phase dissolves or precipitates until its saturation index is SI (for a gas, SI = log10 partial
        pressure [atm], e.g. {"CO2(g)": -3.5}); a phase whose available moles (default 10) run out
        dissolves completely and is left undersaturated. Moles dissolved (negative: precipitated) come
        back in ``phase_moles``.
    ionic_strength : {"newton", "outer"}
        "newton" (default): log10 I is a Newton unknown with its own equation; "outer": Newton at fixed
        activity coefficients inside a damped fixed point on I. Both give the same answer (7e-11); on
        1,000 random waters "newton" needed a median of 7 Newton and 3 outer iterations against 13 and
        7, and 11 % less time, both converging on all (benchmarks/aqueous_ionic_strength.py), hence the
        default. ``speciate_batch`` still uses "outer".
    max_outer : int
        Most outer iterations.
    damping : damping schedule, optional
        Schedule of the inner Newton solves (default: ``LineSearch()``).
    advisor : advisor, optional
        A ``chemsolve.advisors`` advisor. It may suggest the initial guess
        ``{"log_a": {master species: log10 activity}, "pH": ...}`` (which then replaces the default
        start, a positive-continued-fraction sweep), a damping schedule and ``{"ionic_strength": ...}``.
        Checked: known masters, finite, log10 activity in [-40, log10(total) + 1] (no more of a
        component free than there is in total), pH in [-2, 16]; a bad part is replaced by the default
        and the reason kept in ``advice``.
    options : AqueousOptions, optional
        ionic_strength, max_outer and damping at once (the object a model file's ``solver:`` builds);
        then leave those keywords at their defaults.
    throw : bool
        Raise ``chemsolve.ConvergenceError`` (carrying the result) unless converged.

    Returns
    -------
    SpeciationResult
        A failed solve has ``success`` False and says why.
    """
    from .options import AqueousOptions  # noqa: PLC0415

    if options is None:
        o = AqueousOptions(ionic_strength=ionic_strength, max_outer=max_outer, damping=damping)
    elif not isinstance(options, AqueousOptions):
        raise InvalidInputError(f"options={options!r}: expected a chemsolve.aqueous.AqueousOptions")
    elif (ionic_strength, max_outer, damping) != ("newton", 100, None):
        raise InvalidInputError("give the solver options either as options= or as keywords, not both")
    else:
        o = options
    ionic_strength, max_outer, damping = o.ionic_strength, o.max_outer, o.damping
    res = _speciate_dispatch(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping, advisor)
    if throw and not bool(np.all(res.success)):
        raise ConvergenceError(res)
    return res


def _speciate_dispatch(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping, advisor):
    if _is_batch(totals, T, pH, pe):
        if equilibrium_phases:
            raise InvalidInputError("equilibrium_phases are not supported for arrays of waters yet; loop over speciate")
        if advisor is not None or damping is not None:
            raise InvalidInputError("advisor= and damping= apply to single waters; speciate_batch uses its own")
        return speciate_batch(db, totals, T, pH, pe)
    if advisor is not None:
        return _advised_speciate(advisor, db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer,
                                 damping)
    return _speciate_one(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping)


def _speciate_one(db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping,
                  guess: dict | None = None) -> SpeciationResult:
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T_RANGE[0] <= T <= T_RANGE[1]):
        raise InvalidInputError(f"T={T!r} K is outside {T_RANGE[0]}-{T_RANGE[1]} K "
                                "(the range of the water-property fits)")
    pe = check_pe(pe)
    if pH is not None and not (isinstance(pH, (int, float)) and math.isfinite(pH) and -2 <= pH <= 16):
        raise InvalidInputError(f"pH={pH!r} must be a finite number in [-2, 16], or None for charge balance")
    if ionic_strength not in ("outer", "newton"):
        raise InvalidInputError(f"ionic_strength={ionic_strength!r}: expected 'outer' or 'newton'")
    pnames, si_target, amount = _phase_args(equilibrium_phases)
    sys = build_system(db, totals, T, pe, tuple(pnames))
    nc, npp = len(sys.components), len(pnames)
    log_e = -float(pe)
    # charge scale: what the component master species could carry, plus water's 1e-7
    qscale = float(np.abs([_charge_of(db, ms) for ms in sys.masters])
                   @ np.maximum(sys.totals, 1e-3 * (sys.totals == 0))) + 1e-7
    x0 = np.where(sys.totals > 0, np.log10(np.where(sys.totals > 0, sys.totals, 1.0)), -5.0)
    lh0, pcf = -7.0, True
    if guess:  # an advisor's start, already checked; it replaces the continued-fraction start
        la = guess.get("log_a", {})  # only where it covers every master species
        for j, ms in enumerate(sys.masters):
            if ms in la:
                x0[j] = la[ms]
        lh0 = -float(guess.get("pH", 7.0))
        pcf = not all(ms in la for ms in sys.masters)
    ph = _Phases(si_target, np.ones(npp, dtype=bool), np.zeros(npp))
    for _ in range(2 * npp + 1):  # active set: phases that run out leave the equation set
        # fallback chain: everything in one Newton system (fast); if that fails, the ionic strength
        # as a bracketed 1-D root over solves at fixed activity coefficients (robust where several
        # ionic strengths fit); for a charge-balance pH, last, the charge balance as a bracketed
        # root over pH, each step a fixed-pH solve
        if pH is not None:
            st = _solve(sys, x0, -float(pH), False, log_e, qscale, max_outer, ph, ionic_strength, damping, pcf)
            if st.status != Status.CONVERGED:
                st = _solve_nested_I(sys, x0, -float(pH), False, log_e, qscale, max_outer, st, ph, damping)
        else:
            st = _solve(sys, np.append(x0, lh0), lh0, True, log_e, qscale, max_outer, ph, ionic_strength, damping,
                        pcf)
            if st.status != Status.CONVERGED:
                first = st
                st = _solve_nested_I(sys, x0, lh0, True, log_e, qscale, max_outer, first, ph, damping)
                if st.status != Status.CONVERGED:
                    st = _solve_nested_ph(sys, x0, log_e, qscale, max_outer, replace(first, message=st.message),
                                          ph, ionic_strength, damping)
        pcf = True
        if st.status != Status.CONVERGED or not npp:
            break
        la = dict(zip(sys.species, st.log_a))
        la["H2O"] = math.log10(st.aw)
        si_now = np.array([_si(sys, p, la) for p in pnames])
        out = ph.active & (st.n > amount + 1e-12 * np.maximum(amount, 1.0))
        back = ~ph.active & (si_now > si_target + 1e-9)
        if not out.any() and not back.any():
            break
        ph = _Phases(si_target, (ph.active & ~out) | back, np.where(out, amount, ph.n_fixed))
        x0 = st.x[:nc]
    log_a, m, lg = st.log_a, st.m, st.lg
    la = dict(zip(sys.species, log_a))
    la["H2O"] = math.log10(st.aw)
    si = {name: _si(sys, name, la) for name in sys.phases}
    atoms = [_atoms_in_master(db, c) for c in sys.components]
    r = SpeciationResult(
        status=st.status, message=st.message, T=T, pH=-float(st.log_h), pe=float(pe), ionic_strength=st.I,
        water_activity=st.aw, charge_balance=float(sys.z @ m), molality=dict(zip(sys.species, m.tolist())),
        activity=dict(zip(sys.species, (10.0**log_a).tolist())), log_gamma=dict(zip(sys.species, lg.tolist())),
        saturation_index=si, totals=dict(totals), nit=st.nit, outer_iterations=st.outer,
        phase_moles=dict(zip(pnames, st.n.tolist())),
        composition={c: {sys.species[i]: float(sys.nu_mb[i, j] * atoms[j]) for i in np.flatnonzero(sys.nu_mb[:, j])}
                     for j, c in enumerate(sys.components)},
    )
    return _certified(db, r, pH is None, equilibrium_phases)


def _certified(db: Database, r: SpeciationResult, charge: bool, equilibrium_phases) -> SpeciationResult:
    """The solver's CONVERGED is only a claim: the independent certificate (aqueous.certificate)
    re-checks the returned state and refuses it (Status.CHECK_FAILED) if any equation fails."""
    if r.status != Status.CONVERGED:
        return r
    from .certificate import certify_result  # noqa: PLC0415

    cert = certify_result(db, r, charge, equilibrium_phases)
    if cert.passed:
        return replace(r, certificate=cert)
    return replace(r, status=Status.CHECK_FAILED, message=failed_message(cert), certificate=cert)


def _advised_speciate(advisor, db, totals, T, pH, pe, equilibrium_phases, ionic_strength, max_outer, damping):
    """``speciate`` with an advisor (see ``chemsolve.advisors.consult``)."""
    from ..advisors import base as adv  # noqa: PLC0415

    if ionic_strength not in ("outer", "newton"):
        raise InvalidInputError(f"ionic_strength={ionic_strength!r}: expected 'outer' or 'newton'")
    pe = check_pe(pe)
    pnames, _, _ = _phase_args(equilibrium_phases)
    sys = build_system(db, totals, T, pe, tuple(pnames))
    comps = {c: float(t) for c, t in zip(sys.components, sys.totals)}
    masters = dict(zip(sys.components, sys.masters))
    summary = {
        "kind": "aqueous", "signature": "aqueous:" + ",".join(sorted(comps)) + (":pH" if pH is None else ":fixedpH")
        + ":" + ",".join(sorted(pnames)),
        "components": comps, "masters": masters, "T": float(T), "pH": pH, "pe": float(pe),
        "equilibrium_phases": pnames, "ionic_strength": ionic_strength,
        "features": [math.log10(max(t, 1e-30)) for t in sys.totals] + [float(T) / 100.0, float(pH or 0.0)],
    }
    top = {ms: math.log10(t) + 1.0 if t > 0 else -1.0 for ms, t in zip(sys.masters, sys.totals)}

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
        sol = {"log_a": {ms: math.log10(r.activity[ms]) for ms in sys.masters
                         if r.activity.get(ms, 0.0) > 0 and math.isfinite(r.activity[ms])}, "pH": r.pH}
        rec = {"status": r.status.name, "converged": r.success, "iterations": r.nit,
               "outer_iterations": r.outer_iterations, "residual_trace": [], "message": r.message[:200],
               "solution": sol if r.success else {}, "damping": p["damping"].to_dict() if "damping" in p else "default"}
        return r, rec

    res, source, log = adv.consult(advisor, summary, check, attempt)
    return replace(res, guess_source=source, advice=log)


def _si(sys: AqueousSystem, name: str, la: dict[str, float]) -> float:
    rx, lk = sys.phases[name]
    return float(sum(c * la[s] for s, c in rx.items()) - lk)


@dataclass
class _State:
    status: Status
    message: str
    x: np.ndarray
    log_h: float
    I: float
    aw: float
    nit: int
    outer: int
    log_a: np.ndarray
    m: np.ndarray
    lg: np.ndarray
    n: np.ndarray  # moles of each equilibrium phase dissolved (negative: precipitated)


@dataclass
class _Phases:
    """Equilibrium phases of one solve: targets, which are active, amounts of the inactive."""

    si: np.ndarray  # target saturation index of each phase
    active: np.ndarray  # held at its target (else fully dissolved: n = amount)
    n_fixed: np.ndarray  # moles dissolved of the inactive phases


def _solve(sys: AqueousSystem, x: np.ndarray, log_h: float, charge_eq: bool, log_e: float, qscale: float,
           max_outer: int, ph: _Phases | None = None, ionic: str = "outer", damping: Any = None,
           pcf: bool = True, fixed_I: float | None = None) -> _State:
    """Mass balances (and, with ``charge_eq``, the charge balance with log a(H+) as an unknown;
    with equilibrium phases, their saturation conditions with the moles dissolved as unknowns)
    by damped Newton, inside an outer fixed point on water activity. The ionic strength is either
    updated in that outer loop (``ionic="outer"``: Newton at fixed activity coefficients) or is
    itself a Newton unknown, log10 I, with its defining equation (``ionic="newton"``). With
    ``fixed_I`` the activity coefficients are those of that ionic strength and only the water
    activity is iterated: the returned state solves everything but I's own definition (the nested
    ionic-strength search, ``_solve_nested_I``, finds the I that satisfies it)."""
    nc = len(sys.components)
    npp = len(sys.eq_phases)
    if ph is None:
        ph = _Phases(np.zeros(npp), np.ones(npp, dtype=bool), np.zeros(npp))
    act = np.flatnonzero(ph.active)
    na = len(act)
    off_n = nc + (1 if charge_eq else 0)
    inner_I = ionic == "newton" and fixed_I is None
    nv = off_n + na + (1 if inner_I else 0)
    pb_a = sys.pb[act]
    fixed_release = ph.n_fixed[~ph.active] @ sys.pb[~ph.active] if npp else np.zeros(nc)
    # mass balances touched by an active phase (or with no total of their own) are written linearly,
    # sum(m) - total - release, scaled by a typical molality; the others in log form (see fun)
    touched = (np.abs(pb_a).sum(axis=0) > 0) | (sys.totals == 0)
    lin_scale = np.maximum(sys.totals, 1e-3)
    z2 = sys.z * sys.z
    T = sys.T
    I = max(0.5 * float(np.sum(sys.totals)), 1e-7) if fixed_I is None else fixed_I  # first guess; refined below
    aw = 1.0
    omega, prev_d = 1.0, None
    status, message, nit, outer = Status.MAX_ITER, "", 0, 0
    x = np.asarray(x, dtype=float)
    if len(x) < off_n + na:
        x = np.concatenate([x, np.zeros(off_n + na - len(x))])
    x = x[: off_n + na]
    if inner_I:
        x = np.append(x, math.log10(I))
    for outer in range(1, max_outer + 1):
        A, B = debye_huckel_ab(T, 1.0, aw)
        lg_fixed = log_gamma(sys.gamma_kind, sys.z, sys.gamma_a, sys.gamma_b, I, A, B)
        log_aw = math.log10(aw)

        def parts(v):
            lh = v[nc] if charge_eq else log_h
            lg = log_gamma(sys.gamma_kind, sys.z, sys.gamma_a, sys.gamma_b,
                           10.0 ** v[-1], A, B) if inner_I else lg_fixed
            _, m = _state(sys, v[:nc], lh, log_aw, log_e, lg)
            P = sys.totals + fixed_release + v[off_n:off_n + na] @ pb_a
            return lh, m, m @ sys.nu_mb, P

        # Residuals in forms that keep Newton well scaled far from the solution: each mass
        # balance as log10(sum_i nu_ij m_i / T_j) (zero at the root, ~linear in the unknowns),
        # and the charge balance sum(z m) relative to the charge the totals can carry.
        def fun(v):
            lh, m, S, P = parts(v)
            f = np.empty(nv)
            with np.errstate(divide="ignore", invalid="ignore"):
                f[:nc] = np.where(touched, (S - P) / lin_scale, np.log10(S / np.where(touched, 1.0, P)))
            if charge_eq:
                f[nc] = (sys.z @ m) / qscale
            if na:
                f[off_n:off_n + na] = (pb_a @ v[:nc] + sys.pvec[0, act] * lh + sys.pvec[1, act] * log_aw
                                       + sys.pvec[2, act] * log_e + sys.pvec[3, act] - ph.si[act])
            if inner_I:
                f[-1] = math.log10(max(0.5 * float(z2 @ m), 1e-300)) - v[-1]
            return f

        def jac(v):
            lh, m, S, P = parts(v)
            # D[i, k] = d m_i / d v_k, then every row is a contraction of D
            D = np.zeros((len(m), nv))
            D[:, :nc] = sys.nu * (m * LN10)[:, None]
            if charge_eq:
                D[:, nc] = m * LN10 * sys.nu_h
            if inner_I:
                Iv = 10.0 ** v[-1]
                D[:, -1] = -m * LN10 * LN10 * Iv * dlog_gamma_dI(sys.gamma_kind, sys.z, sys.gamma_a, sys.gamma_b,
                                                                 Iv, A, B)
            J = np.zeros((nv, nv))
            rowscale = np.where(touched, lin_scale, S * LN10)
            J[:nc] = (sys.nu_mb.T @ D) / rowscale[:, None]
            if charge_eq:
                J[nc] = (sys.z @ D) / qscale
            if na:
                J[:nc, off_n:off_n + na] = -(pb_a / lin_scale).T * touched[:, None]
                J[off_n:off_n + na, :nc] = pb_a
                if charge_eq:
                    J[off_n:off_n + na, nc] = sys.pvec[0, act]
            if inner_I:
                Ic = max(0.5 * float(z2 @ m), 1e-300)
                J[-1] = 0.5 * (z2 @ D) / (Ic * LN10)
                J[-1, -1] -= 1.0
            return J

        if outer == 1 and pcf:
            fix = _phase_guess(sys, act, ph.si, touched, log_aw, log_e) if na else None
            x[: off_n + na] = _pcf_start(sys, x[: off_n + na], charge_eq, log_h, log_aw, log_e, lg_fixed, qscale,
                                         skip=touched, fix=fix)
        res = solve(fun, x, jac=jac, ftol=1e-12, max_step=2.0, max_iter=200, damping=damping)
        nit += res.nit
        x = res.x
        if not res.success:
            status, message = res.status, f"inner Newton at outer iteration {outer}: {res.message}"
            break
        lh, m, _, _ = parts(x)
        I_new = max(0.5 * float(z2 @ m), 1e-300) if fixed_I is None else I
        aw_new = 1.0 - 0.017 * float(np.sum(m))
        if fixed_I is not None and aw_new <= 0.0:
            status, message = Status.NONFINITE, (f"water activity {aw_new:.3g} at I = {I:.3g}: "
                                                 "outside the activity model")
            break
        # I settled relative to itself: an absolute 1e-12 (as before) let dilute waters stop with
        # I off by 1e-5 of itself, i.e. gamma and the mass balances off by ~1e-9 (the certificate saw it)
        if abs(I_new - I) <= 1e-12 * I and abs(aw_new - aw) <= 1e-14:
            I, aw = I_new, aw_new
            status, message = Status.CONVERGED, "converged"
            break
        if inner_I:  # I is already consistent with m: only the water activity moves
            I, aw = I_new, aw + (max(aw_new, 1e-3) - aw)
            continue
        # damped update (in log I): where H+ or OH- carry the ionic strength at a fixed
        # activity, the plain substitution I <- I(m(I)) can overshoot and oscillate
        d = math.log(I_new / I)
        if prev_d is not None and d * prev_d < 0 and abs(d) > 0.5 * abs(prev_d):
            omega = max(0.5 * omega, 1.0 / 64.0)
        prev_d = d
        I = I * math.exp(omega * d)
        aw = aw + omega * (max(aw_new, 1e-3) - aw)
    else:
        message = f"ionic strength did not settle in {max_outer} outer iterations (last water activity {aw:.3g})"
    A, B = debye_huckel_ab(T, 1.0, aw)
    lg = log_gamma(sys.gamma_kind, sys.z, sys.gamma_a, sys.gamma_b, I, A, B)
    lh = float(x[nc]) if charge_eq else log_h
    log_a, m = _state(sys, x[:nc], lh, math.log10(aw), log_e, lg)
    n = ph.n_fixed.copy()
    n[act] = x[off_n:off_n + na]
    return _State(status, message, x[: off_n + na], lh, I, aw, nit, outer, log_a, m, lg, n)


def _solve_nested_ph(sys, x0, log_e, qscale, max_outer, first: _State, ph: _Phases | None = None,
                     ionic: str = "outer", damping: Any = None, fixed_I: float | None = None) -> _State:
    """Charge balance as a 1-D root over log a(H+) (Brent), each evaluation a fixed-pH solve
    (at the ionic strength ``fixed_I`` if given: then every evaluation has one solution and the
    imbalance is continuous in pH)."""
    from scipy.optimize import brentq

    cache: dict[float, _State] = {}
    last = [x0]

    def g(lh: float) -> float:
        st = _solve(sys, last[0], lh, False, log_e, qscale, max_outer, ph, ionic, damping, True, fixed_I)
        cache[lh] = st
        if st.status != Status.CONVERGED:
            raise _NestedFailure(st)
        last[0] = st.x[: len(sys.components)] if len(st.x) > len(sys.components) else st.x
        return float(sys.z @ st.m) / qscale

    def at_root(lh: float) -> _State:
        # A collapsed bracket is a root only if the imbalance there is zero: when the fixed-pH
        # problems have two solutions (two ionic strengths; see _solve_nested_I) the imbalance can
        # jump across a pH and the bracket collapses on the jump. Brent stops at |d log a(H+)| of
        # 1e-13, where |imbalance| / qscale is below ~1e-11 on a true root (its slope is O(1-10)).
        st = cache.get(lh) or _solve(sys, last[0], lh, False, log_e, qscale, max_outer, ph, ionic, damping, True,
                                     fixed_I)
        q = float(sys.z @ st.m) / qscale if st.status == Status.CONVERGED else math.nan
        if not abs(q) <= 1e-10:
            raise _NestedFailure(replace(st, status=Status.STAGNATED,
                                         message=f"the charge imbalance jumps across pH {-lh:.6g} ({q:.3g} of the "
                                                 "charge the totals carry): no pH balances it on this branch"))
        return st

    try:
        # H+ (or OH-) never has to carry more charge than the totals can: the root lies between
        # those extremes (x 3 for activity coefficients). Walk out from the coupled attempt's pH in
        # steps of one pH unit until the imbalance changes sign, then bracket: extreme pH values,
        # where the fixed-pH problems are hardest, are visited only if the root is there.
        top = math.log10(3.0 * qscale)
        lmin, lmax = max(-14.0 - top - 1.0, -17.0), top
        start = first.log_h if math.isfinite(first.log_h) and lmin < first.log_h < lmax else -7.0
        a, ga = start, g(start)
        step = -1.0 if ga > 0 else 1.0  # too acidic -> raise the pH (lower log a(H+)), and v.v.
        while True:
            b = min(max(a + step, lmin), lmax)
            gb = g(b)
            if ga * gb <= 0:
                break
            if b in (lmin, lmax):
                return replace(first, message=f"{first.message}; and no pH in [{-lmax:.2f}, {-lmin:.2f}] balances "
                                              f"the charge (imbalance {gb:.3g} at pH {-b:.2f}, relative to the totals)")
            a, ga = b, gb
        lo, hi = min(a, b), max(a, b)
        lh = brentq(g, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
        st = at_root(lh)
    except _NestedFailure as e:
        return replace(e.state, message=f"{first.message}; the nested pH search failed too: {e.state.message}")
    nit = first.nit + sum(s.nit for s in cache.values())
    return replace(st, nit=nit, message="converged (nested pH search after the coupled Newton failed: "
                                        f"{first.status.name})")


def _solve_nested_I(sys, x0, log_h: float, charge_eq: bool, log_e, qscale, max_outer, first: _State,
                    ph: _Phases | None = None, damping: Any = None) -> _State:
    """The ionic strength as a bracketed 1-D root, each evaluation a solve at fixed activity coefficients.

    At fixed activity coefficients the mass balances at a given pH have one solution (the problem
    is convex), and the charge imbalance then moves one way with pH (bar contrived redox cases), so
    at a fixed ionic strength I the water has one state; what can have several is I itself, the
    fixed point I = I(m(I)). On concentrated waters (Fe, Al, Si near 1 mol/kgw on minteq.v4.dat)
    the coupled Newton can stall between them, and a search over pH whose every step re-solves
    I jumps from one to another (the charge imbalance is then discontinuous in pH: a bracket
    collapses on the jump, not on a root). Here phi(u) = ln I(m(e^u)) - u is continuous in
    u = ln I; it is positive at small I (water alone gives 1e-7) and negative at large I, so
    walking out from the coupled attempt's I until it changes sign and then Illinois (regula
    falsi) on the bracket finds a root that solves every equation. Returns a non-converged
    state if an evaluation fails or no sign change is found in I = 1e-12 .. 1e3 mol/kgw."""
    nc = len(sys.components)
    z2 = sys.z * sys.z
    last = {"x": np.asarray(x0, dtype=float).copy(), "lh": log_h, "warm": False}
    nit = [first.nit]

    cold = np.asarray(x0, dtype=float)[:nc].copy()

    def g(u: float) -> tuple[float, _State]:
        # from the previous evaluation's solution; if that start fails, from the cold start
        # from the previous evaluation's solution, with and without the continued-fraction sweeps,
        # then from the cold start; for a charge-balance pH, last, its own bracketed search over
        # pH at this I (slow but sure: at fixed activity coefficients the imbalance is continuous in pH)
        starts = [(last["x"], last["lh"], False), (last["x"], last["lh"], True)] if last["warm"] else []
        for xs, lhs, pcf in starts + [(cold, log_h, True)]:
            x = xs if not charge_eq else np.append(xs[:nc], lhs)
            st = _solve(sys, x, lhs, charge_eq, log_e, qscale, max_outer, ph, "outer", damping, pcf, math.exp(u))
            nit[0] += st.nit
            if st.status == Status.CONVERGED:
                break
        if st.status != Status.CONVERGED and charge_eq:
            st = _solve_nested_ph(sys, last["x"][:nc], log_e, qscale, max_outer, replace(st, log_h=last["lh"]), ph,
                                  "outer", damping, math.exp(u))
            nit[0] += st.nit
        if st.status != Status.CONVERGED:
            raise _NestedFailure(st)
        last["x"], last["lh"], last["warm"] = st.x[:nc].copy(), st.log_h, True
        return math.log(max(0.5 * float(z2 @ st.m), 1e-300)) - u, st

    umin, umax = math.log(1e-12), math.log(1e3)
    u0 = math.log(first.I) if math.isfinite(first.I) and 1e-12 < first.I < 1e3 else \
        math.log(max(0.5 * float(np.sum(sys.totals)), 1e-7))
    try:
        a = u0
        fa, sa = g(a)
        if fa == 0.0:
            return _nested_done(sa, nit[0], first)
        step = 0.5 * LN10 if fa > 0 else -0.5 * LN10  # I(m) above I: the root is at larger I
        while True:
            b = min(max(a + step, umin), umax)
            fb, sb = g(b)
            if fa * fb <= 0.0:
                break
            if b in (umin, umax):
                return replace(first, nit=nit[0], message=f"{first.message}; and the nested ionic-strength search "
                                                           f"found no root in I = 1e-12 .. 1e3 mol/kgw")
            a, fa, sa = b, fb, sb
        best = (abs(fb), sb) if abs(fb) < abs(fa) else (abs(fa), sa)
        for _ in range(200):  # Illinois: regula falsi with the stale end's value halved
            if best[0] <= 1e-14 or abs(b - a) <= 1e-14 * max(1.0, abs(b)):
                break
            c = (fa * b - fb * a) / (fa - fb)
            fc, sc = g(c)
            if abs(fc) < best[0]:
                best = (abs(fc), sc)
            if fc * fb < 0.0:
                a, fa = b, fb
            else:
                fa *= 0.5
            b, fb = c, fc
        st = best[1]
    except _NestedFailure as e:
        return replace(e.state, nit=nit[0], message=f"{first.message}; the nested ionic-strength search failed too: "
                                                      f"{e.state.message}")
    # a root of phi, not a jump: I(m) must equal I (the certificate checks it again, independently)
    I_m = 0.5 * float(z2 @ st.m)
    if not abs(I_m - st.I) <= 1e-11 * st.I:
        return replace(st, status=Status.STAGNATED, nit=nit[0],
                       message=f"{first.message}; the nested ionic-strength search stopped at I = {st.I:.6g} where the "
                               f"molalities give {I_m:.6g}: not a root")
    return _nested_done(st, nit[0], first)


def _nested_done(st: _State, nit: int, first: _State) -> _State:
    return replace(st, nit=nit, message="converged (nested ionic-strength search after the coupled Newton failed: "
                                        f"{first.status.name})")


class _NestedFailure(Exception):
    def __init__(self, state: _State):
        self.state = state


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
    guess_source: str = "default"
    advice: dict | None = None

    def _frame_columns(self) -> dict[str, Any]:
        cols = super()._frame_columns()
        cols.update({f"m_{s}": self.molality[:, j] for j, s in enumerate(self.species)})
        cols.update({f"SI_{p}": self.saturation_index[:, j] for j, p in enumerate(self.phases)})
        return cols


def speciate_batch(
    db: Database,
    totals: dict[str, np.ndarray | float],
    T: np.ndarray | float = 298.15,
    pH: np.ndarray | float | None = None,
    pe: np.ndarray | float = 4.0,
    *,
    warm_start: bool = True,
    chunk: int = 64,
    throw: bool = False,
) -> BatchSpeciation:
    """Speciate N waters in one compiled call (numba ``prange`` over chunks of rows).

    totals : {element or valence state: (N,) totals [mol/kgw]} (scalars broadcast); every total
        must be positive in every row. T : (N,) [K]. pH : (N,) fixed pH, NaN (or None for all rows)
        for the pH of electroneutrality. pe : (N,).
    warm_start : each row of a chunk starts from its predecessor's solution (sweeps).
    throw : raise ``chemsolve.ConvergenceError`` (carrying the batch) unless every row converged.
    Same model and fallback chain as ``speciate`` (equilibrium phases are not supported here yet).
    A failed row gets its status and never stops the others. The kernels are cached on disk: the
    first call on a machine compiles them (about a minute), later processes load them.
    """
    from ..kernels import aqueous as _k
    from ..kernels import first_use

    if not isinstance(totals, dict) or not totals:
        raise InvalidInputError("totals must be a non-empty dict of arrays, e.g. {'Na': [0.01, 0.02], 'Cl': ...}")
    for k in totals:
        why = _unsupported_total(str(k))
        if why:
            raise InvalidInputError(why)
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
    sys = build_system(db, {k: float(a[0]) for k, a in arrays.items()}, float(T_a[0]))
    # element moles
    TOT_el = np.column_stack([np.broadcast_to(arrays[_user_key(db, arrays, c)], (N,)) for c in sys.components])
    # master species moles
    TOT = np.ascontiguousarray(TOT_el / np.array([_atoms_in_master(db, c) for c in sys.components]))
    zc = np.abs([_charge_of(db, ms) for ms in sys.masters])
    QS = TOT @ zc + 1e-7
    ns = len(sys.species)
    out_m, out_lg, out_res = np.empty((N, ns)), np.empty((N, ns)), np.empty((N, 5))
    with first_use("the aqueous batch kernels", _k.speciate_batch):
        _k.speciate_batch(TOT, np.broadcast_to(T_a, (N,)).copy(), np.broadcast_to(pH_a, (N,)).copy(),
                          np.broadcast_to(pe_a, (N,)).copy(), QS, sys.nu, np.ascontiguousarray(sys.nu_mb), sys.nu_h,
                          sys.nu_w, sys.nu_e, sys.log_k_coef, sys.z, sys.gamma_kind, sys.gamma_a, sys.gamma_b,
                          bool(warm_start), int(chunk), out_m, out_lg, out_res)
    # saturation indices of every phase present, row by row
    names = list(sys.phases)
    col = {s: i for i, s in enumerate(sys.species)}
    with np.errstate(divide="ignore"):
        log_a = np.log10(out_m) + out_lg
    law = np.log10(np.clip(out_res[:, 3], 1e-300, None))
    log_k_phases = sys.phase_log_k_coef @ log_k_basis(np.broadcast_to(T_a, (N,)))  # (nph, N)
    si = np.empty((N, len(names)))
    for p_i, name in enumerate(names):
        rx, _ = sys.phases[name]
        acc = -log_k_phases[p_i]
        for s_name, c in rx.items():
            acc = acc + c * (law if s_name == "H2O" else log_a[:, col[s_name]])
        si[:, p_i] = acc
    status = out_res[:, 0].astype(np.int8)
    cert = _certify_batch(db, sys, out_m, out_lg, out_res, pH_a, pe_a, T_a, TOT_el, status)
    res = BatchSpeciation(sys.species, out_m, out_lg, -out_res[:, 4], out_res[:, 2], out_res[:, 3],
                           status, out_res[:, 1].astype(np.int64), names, si, list(sys.components), cert)
    if throw and not bool(res.success.all()):
        raise ConvergenceError(res)
    return res


def _certify_batch(db, sys, out_m, out_lg, out_res, pH_a, pe_a, T_a, TOT_el, status) -> BatchCertificate:
    """Certify every row the kernel called converged (aqueous.certificate); a row that fails gets
    ``CHECK_FAILED`` in ``status`` (changed in place)."""
    from .certificate import certify_states  # noqa: PLC0415

    N = out_m.shape[0]
    ok = status == Status.CONVERGED
    cert = certify_states(db, sys.species, sys.components, out_m, out_lg, -out_res[:, 4],
                          np.broadcast_to(pe_a, (N,)), np.broadcast_to(T_a, (N,)), out_res[:, 2], out_res[:, 3],
                          np.broadcast_to(np.isnan(pH_a), (N,)), TOT_el, checked=ok)
    status[ok & ~cert.passed] = Status.CHECK_FAILED
    return cert


def _float_array(name: str, v) -> np.ndarray:
    try:
        return np.atleast_1d(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be numbers, got {v!r:.80}") from None


def _user_key(db: Database, arrays: dict, component: str) -> str:
    for k in arrays:
        if _total_key(db, k) == component:
            return k
    raise InvalidInputError(f"internal: component {component} has no total")  # pragma: no cover

total_key = _total_key  # the public name: model files, plots and the certificate resolve total keys with it
