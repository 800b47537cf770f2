"""The aqueous certificate: an independent check of returned speciations (DESIGN.md section 3).

A speciation is certified from what the solver returned -- molalities, pH, pe, T, the reported
ionic strength, water activity and activity coefficients, and the moles of each equilibrium phase
dissolved -- and from the database alone. Nothing of the solver is reused: not its tableau
(``speciation.build_system``: the species' formation reactions rewritten to the components),
not its activity model (``kernels.aqueous``), not its log K arrays. Here:

- each species' composition is read from its *own* reaction in the database, rewritten to the
  master species of SOLUTION_MASTER_SPECIES by a separate recursion, and counted in moles of the
  element (an O(0) total is moles of O, so O2 counts twice, as in PHREEQC);
- log K(T) of every species and phase is evaluated from the database's coefficients;
- ionic strength, water activity and the Debye-Hueckel A and B are recomputed from the returned
  molalities with the equations of ``chemsolve.aqueous.activity`` written again, vectorised over
  states (the relative permittivity of Bradley & Pitzer 1979, the density of Wagner & Pruss 2002
  eq. 2.6 with PHREEQC's pressure polynomial), so that an error in either copy shows;
- every mass-action law is then checked at the recomputed activities, every element and
  valence-state mass balance (plus what the phases released), the charge balance when the pH
  comes from it (else the pH itself), every phase at its target saturation index or used up and
  undersaturated, never more dissolved than was available, and the species set: every species
  the database can form from the water's components is present and no other.

``certify_states`` works on N states at once with numpy (the batch path); ``certify_result`` is
the one-state form. Tolerances are stated and justified beside ``TOLERANCES``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..certificate import BatchCertificate, Certificate
from ..kernels.codes import ACT_LLNL, ACT_PITZER, ACT_SIT
from .database import Database, parse_formula

__all__ = ["TOLERANCES", "CertSystem", "cert_system", "certify_result", "certify_states", "gas_eos", "measure_cost"]

# Tolerances, each with its reason. The solver stops at max |log10(sum/total)| <= 1e-12 in its
# mass balances, a charge residual <= 1e-12 of the charge the totals carry, an ionic strength settled
# to 1e-12 of itself and a water activity to 1e-14; what is recomputed here from the returned
# molalities agrees with that to rounding. Largest values measured (2026-12, this code) over 6,678
# converged rows of random batches (3 bundled databases, 2-8 of 26-33 elements at 1e-8..0.3 mol/kgw,
# 0-100 C, pH 2-12 fixed or from the charge balance, pe inside water's stability field) and 1,379
# converged single waters with and without calcite / CO2(g), both ionic-strength formulations:
# mass action 7.1e-11 (log10; Fe3(OH)4+5, whose z^2 = 25 amplifies rounding in I), mass balance
# 4.5e-12, charge balance 9.9e-12, pH 7.3e-13, activity coefficients 5.6e-11 (V10O28-6), ionic
# strength 7.9e-12, water activity 1.6e-13, saturation index 9.7e-13. Each tolerance is 100x or more
# above its largest value (room for ill-conditioned but correct states) and 1e5x or more below the
# 1e-3 at which the tests compare with PHREEQC: a state beyond any of them is not a solution.
TOLERANCES = {
    "mass action": 1e-8,  # max |sum_r nu_r log10 a_r - log10 K(T)| over species [log10 units]
    "mass balance": 1e-9,  # max |sum - (total + released)| / (sum + total + |released|) over elements [-]
    "charge balance": 1e-9,  # |sum z m| / sum |z| m [-], when the pH comes from electroneutrality
    "pH": 1e-9,  # |-log10 a(H+) - pH| [pH units]: the requested pH if fixed, else the reported one
    "activity coefficients": 1e-8,  # max |log10 gamma reported - recomputed| [log10 units], as mass action
    "ionic strength": 1e-9,  # |I reported - 0.5 sum z^2 m| / max(I, 1 mol/kgw) [-], as the solver's own test
    "water activity": 1e-12,  # |a_w reported - (1 - 0.017 sum m)| [-]
    "saturation index": 1e-8,  # |SI - target| (held phases) or max(SI - target, 0) (used up) [log10 units]
    # max(n dissolved - n available, lower bound - n dissolved, 0) / max(n available, 1 mol) [-]
    "phase amount": 1e-9,
    "species set": 0.5,  # count of species present that should not be or missing that should be: any fails
    # reaction steps (pe and the mass of water solved): the conserved totals, each relative to the
    # sum of the absolute terms as the mass balances; the solver stops at 1e-12 of that
    "electron balance": 1e-9,  # |sum e_i n_i - released - total| / (sum |e_i| n_i + |released| + |total|)
    "water balance": 1e-9,  # the same for the water total (W/gfw + sum w_i n_i) [-]
    # with an exchanger: each exchange species' mass action with its exchanger's master activity
    # eliminated (against the most abundant species of that exchanger) [log10 units], as "mass action"
    "exchange mass action": 1e-8,
    "exchange sites": 1e-9,  # |sum equivalents x moles - sites| / sites [-], as the mass balances
    # with a surface: each surface species' mass action at the activities equivalents x moles / sites
    # of itself and of its site's master species [log10 units], as "mass action"; its site balances
    "surface mass action": 1e-8,
    "surface sites": 1e-9,  # |sum equivalents x moles - sites| / sites [-], as the mass balances
    # diffuse double layer: |surface charge - Gouy-Chapman charge at psi, I, T| / (sum |z| n + |that|) [-],
    # a balance of charge like the others (the solver stops at 1e-12 of the same scale)
    "surface charge-potential": 1e-9,
    # with a GAS_PHASE (each component's log10(p phi) = SI is the saturation-index check): the
    # water's pressure equal to the gas's, |log10(P water / P gas)|, the gas's recomputed from its
    # moles (fixed volume); and a fixed-pressure gas left out only where the water's partial pressures
    # add up to no more than P: max(log10(sum 10^SI / P), 0) [log10 units]. The refresh of the gas stops
    # at 1e-12 of them; PHREEQC's own margin (1e-7 atm over P) is below 1e-6 in log10 above 0.2 atm
    "gas pressure": 1e-6,
}
UNITS = {"mass action": "log10", "mass balance": "rel", "charge balance": "rel", "pH": "pH",
         "activity coefficients": "log10", "ionic strength": "of max(I, 1)", "water activity": "",
         "saturation index": "log10", "phase amount": "rel", "species set": "species", "electron balance": "rel",
         "water balance": "rel", "exchange mass action": "log10", "exchange sites": "rel",
         "surface mass action": "log10", "surface sites": "rel", "surface charge-potential": "rel",
         "gas pressure": "log10"}

_FIXED = ("H+", "H2O", "e-")
LN10 = math.log(10.0)


# ------------------------------------------------------------------ water and Debye-Hueckel, again
# The same published fits as chemsolve.kernels.aqueous, written here a second time (vectorised):
# Bradley & Pitzer (1979) permittivity, Wagner & Pruss (2002) eq. 2.6 saturated density, PHREEQC's
# pressure polynomial, PHREEQC's physical constants. Checked against PHREEQC's DH_A/DH_B in tests.
_BP9 = (3.4279e2, -5.0866e-3, 9.469e-7, -2.0525, 3.1159e3, -1.8289e2, -8.0325e3, 4.2142e6, 2.1417)
_WP = ((1.99274064, 1 / 3), (1.09965342, 2 / 3), (-0.510839303, 5 / 3), (-1.75493479, 16 / 3),
       (-45.5170352, 43 / 3), (-6.7469445e5, 110 / 3))
_PPOLY = np.array([
    [5.1880000e-02, -4.1885519e-04, 6.6780748e-06, -3.6648699e-08, 8.3501912e-11],
    [-6.0251348e-06, 3.6696407e-07, -9.2056269e-09, 6.7024182e-11, -1.5947241e-13],
    [-2.2983596e-09, -4.0133819e-10, 1.2619821e-11, -9.8952363e-14, 2.3363281e-16],
    [7.0517647e-11, 6.8566831e-12, -2.2829750e-13, 1.8113313e-15, -4.2475324e-18],
])


def _water(T: np.ndarray, aw: np.ndarray, P=1.0, gas: bool = False) -> dict[str, np.ndarray]:
    """Water properties at T [K] (capped at 350 C as the fits), P [atm] and water activity aw, at the
    pressure PHREEQC 3.8.6 takes: P or, when higher, the saturation pressure x aw: Debye-Hueckel A
    and B, the limiting slope of molar volumes Av, the Born factor Q, the density [g/cm3] and that
    pressure [atm] (keys A, B, Av, Q, rho, P). With a GAS_PHASE (``gas``) only the density is at that
    pressure; the rest, and the pressure returned (log K's, the molar volumes'), at P (PHREEQC's patm_x
    stays the gas's: calc_rho_0 raises it to the saturation pressure only without a gas phase)."""
    tc = np.minimum(T - 273.15, 350.0)
    Tk = tc + 273.15
    theta = 1.0 - Tk / 647.096
    rho_sat = 322.0 * (1.0 + sum(c * theta**e for c, e in _WP))  # [kg/m3]
    poly = [np.polyval(row[::-1], tc) for row in _PPOLY]
    psat = np.exp(11.6702 - 3816.44 / (Tk - 46.13)) * np.minimum(aw, 1.0)  # [atm]
    Peff = np.maximum(P, psat)
    pa = Peff - (psat - 1e-6)
    rho_kg = rho_sat + pa * (poly[0] + pa * (poly[1] + pa * (poly[2] + np.sqrt(pa) * poly[3])))
    kappa0 = (poly[0] + pa * (2 * poly[1] + pa * (3 * poly[2] + np.sqrt(pa) * 3.5 * poly[3]))) / rho_kg
    rho = rho_kg / 1e3  # [g/cm3]
    if gas:
        Peff = np.broadcast_to(np.asarray(P, dtype=float), np.shape(Peff))
    u = _BP9
    eps1000 = u[0] * np.exp(u[1] * Tk + u[2] * Tk * Tk)
    c = u[3] + u[4] / (u[5] + Tk)
    b = u[6] + u[7] / Tk + u[8] * Tk
    pb = Peff * 1.01325
    eps = eps1000 + c * np.log((b + pb) / (b + 1e3))
    e2_over_eps_kT = 1.671008e-3 / (eps * Tk)  # q_e^2/(eps k T) [cm], constants as PHREEQC
    kappa = np.sqrt(8.0 * math.pi * 6.02252e23 * e2_over_eps_kT * rho / 1e3)  # [1/cm] per sqrt(mol/kg)
    Av = kappa * e2_over_eps_kT * 0.0820597 * 1e3 * Tk * (c / (b + pb) * 1.01325 / eps - kappa0 / 3.0)
    return {"A": kappa * e2_over_eps_kT / (2.0 * LN10), "B": kappa * 1e-8, "Av": Av,
            "Q": c / (b + pb) / eps / eps * 41.84004, "rho": rho, "P": Peff, "eps": np.where(eps > 0, eps, 10.0)}


def gas_eos(db: Database, names: list[str], n, T: float, P: float | None = None, V: float | None = None):
    """(P [atm], log10 phi (k,)) of a gas of moles ``n`` at T [K] and its total pressure P or its volume V
    [L]: the certificate's own Peng-Robinson (PHREEQC's constants, mixing rules, H2O(g) factors and clamp
    of ln phi, as ``gas_phase.pr_mixture``, written a second time: the molar volume at a given P as the
    largest real root of the cubic by ``numpy.roots``, the root PHREEQC's Cardano branches pick; at a given
    volume inside the isotherm's loop, below 150 atm and 1.01 L/mol, the loop's top as the largest root of
    the quartic dP/dV = 0); ideal gases (no -T_c/-P_c): phi = 1, P V = N R T."""
    from .gas_phase import _binary

    R = 0.0820597
    n = np.asarray(n, dtype=float)
    N = n.sum()
    RT = R * T
    k = len(names)
    crit = [(db.phases[g].t_c, db.phases[g].p_c, db.phases[g].omega) for g in names]
    if not all(tc > 0 and pc > 0 for tc, pc, _ in crit):
        return (N * RT / V if P is None else P), np.zeros(k)
    x = n / N if k > 1 else np.ones(1)
    tc = np.array([c[0] for c in crit])
    pc = np.array([c[1] for c in crit])
    om = np.array([c[2] for c in crit])
    kap = 0.37464 + om * (1.54226 - 0.26992 * om)
    a = 0.457235 * R * R * tc * tc / pc * (1.0 + kap * (1.0 - np.sqrt(T / tc))) ** 2
    b = 0.077796 * R * tc / pc
    aij = np.sqrt(np.outer(a, a)) * np.array([[_binary(p, q) for q in names] for p in names]) * (x > 0)[None, :]
    am = x @ aij @ x
    bm = x @ b
    if P is None:
        Vm = V / N
        P = RT / (Vm - bm) - am / (Vm * Vm + 2.0 * bm * Vm - bm * bm)
        P = P if P > 0 else 1.0
        if P < 150.0 and Vm < 1.01:  # inside the isotherm's loop: the loop's top (PHREEQC's calc_PR)
            cubic = np.roots([1.0, bm - RT / P, (am - 2.0 * RT * bm) / P - 3.0 * bm * bm,
                              bm ** 3 + (RT * bm * bm - am * bm) / P])
            if np.all(np.abs(cubic.imag) <= 1e-12 * np.abs(cubic).max()):  # three real roots
                # dP/dV = 0: RT (V^2 + 2bV - b^2)^2 = 2a (V + b)(V - b)^2, a quartic; the top is its largest root
                q = np.polysub(RT * np.polymul([1.0, 2.0 * bm, -bm * bm], [1.0, 2.0 * bm, -bm * bm]),
                               2.0 * am * np.polymul([1.0, bm], np.polymul([1.0, -bm], [1.0, -bm])))
                rr = np.roots(q)
                top = rr[(np.abs(rr.imag) <= 1e-9 * np.abs(rr).max()) & (rr.real > bm)].real
                if top.size and Vm < top.max():
                    v1 = float(top.max())
                    P = RT / (v1 - bm) - am / (v1 * v1 + 2.0 * bm * v1 - bm * bm)
    else:
        roots = np.roots([1.0, bm - RT / P, (am - 2.0 * RT * bm) / P - 3.0 * bm * bm,
                          bm ** 3 + (RT * bm * bm - am * bm) / P])
        Vm = float(np.max(roots[np.abs(roots.imag) <= 1e-9 * np.abs(roots).max()].real))
    Z = P * Vm / RT
    A = am * P / RT ** 2
    B = bm * P / RT
    if not Z > B:
        return P, np.where(x > 0, -4.6 / LN10, 0.0)
    ln = (b / bm * (Z - 1.0) - np.log(Z - B) + A / (2.828427 * B) * (b / bm - 2.0 * (aij @ x) / am)
          * np.log((Z + 2.41421356 * B) / (Z - 0.41421356 * B)))
    return P, np.where(x > 0, np.clip(ln, -4.6, 4.44) / LN10, 0.0)


def _dh_ab(T: np.ndarray, aw: np.ndarray, P=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Debye-Hueckel A, B at T [K] (capped at 350 C as the fits), P [atm], water activity aw."""
    w = _water(np.asarray(T, dtype=float), np.asarray(aw, dtype=float), P)
    return w["A"], w["B"]


def _volumes(vm: np.ndarray, z: np.ndarray, T: np.ndarray, I: np.ndarray, w: dict) -> np.ndarray:
    """(R, ns) molar volumes [cm3/mol] of the species with -Vm data (0 for the others): the supcrt
    terms at the pressure, the Born term, Redlich's z^2 Av/2 sqrt(I) (limited by b_Av), the I terms
    (PHREEQC's calc_vm, written again)."""
    tc = (T - 273.15)[:, None]
    pb_s = 2600.0 + w["P"][:, None] * 1.01325
    TK_s = tc + 45.15
    sq = np.sqrt(I)[:, None]
    a1, a2, a3, a4, W, bav, i1, i2, i3, i4 = (vm[:, k][None, :] for k in range(10))
    v = a1 + a2 / pb_s + (a3 + a4 / pb_s) / TK_s - W * w["Q"][:, None]
    z2 = (z * z)[None, :]
    dh = np.where(bav < 1e-5, z2 * 0.5 * w["Av"][:, None] * sq,
                  z2 * 0.5 * w["Av"][:, None] * sq / (1.0 + bav * w["B"][:, None] * sq))
    bi = i1 + i2 / TK_s + i3 * TK_s
    Ib = np.broadcast_to(I[:, None], v.shape)
    iterm = np.where(i4 == 1.0, bi * Ib, bi * np.power(np.maximum(Ib, 0.0), i4))
    v = v + np.where(z2 != 0, dh + np.where((i1 != 0) | (i2 != 0) | (i3 != 0), iterm, 0.0), 0.0)
    return np.where(vm[:, 0][None, :] != 0.0, v, 0.0)


def _log_k(coef: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(n, 6) coefficients at (N,) temperatures -> (N, n) log10 K."""
    T = np.asarray(T, dtype=float)[:, None]
    c = coef[None, :, :]
    return (c[..., 0] + c[..., 1] * T + c[..., 2] / T + c[..., 3] * np.log10(T) + c[..., 4] / (T * T)
            + c[..., 5] * T * T)


def _coeffs(rx) -> np.ndarray:
    """log10 K(T) coefficients of a database Reaction, read from its fields (not log_k_coeffs)."""
    added = np.array(rx.added) if rx.added is not None else np.zeros(6)  # -add_logk, phases in phase reactions
    if rx.analytic is not None:
        return np.array(list(rx.analytic) + [0.0] * (6 - len(rx.analytic))) + added
    out = np.zeros(6)
    out[0] = rx.log_k
    if rx.delta_h is not None:  # van 't Hoff: log K(T) = log K(298.15) - dH/(R ln10) (1/T - 1/298.15)
        s = rx.delta_h / (8.31470e-3 * LN10)  # R [kJ/(mol K)] as PHREEQC
        out[0] += s / 298.15
        out[2] = -s
    return out + added


# ------------------------------------------------------------------ composition from the database
def _db_key(db: Database, key: str) -> str:
    """A user's total key ("C(4)", "Fe(+2)", "Na") as SOLUTION_MASTER_SPECIES spells it."""
    if key in db.masters:
        return key
    m = re.fullmatch(r"([A-Z][a-z_]*)\(([+-]?)(\d+(?:\.\d+)?)\)", key)
    if m:
        el, sign, val = m.groups()
        v = float(val)
        txt = str(int(v)) if v == int(v) else val
        for cand in (f"{el}({sign}{txt})", f"{el}(+{txt})", f"{el}({txt})"):
            if cand in db.masters:
                return cand
    raise KeyError(key)


def _element(key: str) -> str:
    return key.split("(")[0]


class _Expander:
    """Each species' reaction rewritten to master species (PHREEQC's 'secondary' form): the species
    of SOLUTION_MASTER_SPECIES, H+, H2O and e- are terminal; everything else is replaced by its own
    reaction, recursively."""

    def __init__(self, db: Database):
        self.db = db
        self.terminal = {m.species for m in db.masters.values()} | set(_FIXED)
        self.memo: dict[str, dict[str, float] | None] = {}

    def __call__(self, name: str, depth: int = 0) -> dict[str, float] | None:
        if name in self.memo:
            return self.memo[name]
        sp = self.db.species.get(name)
        if sp is None or depth > 40:
            return None
        if name in self.terminal and depth > 0:
            return {name: 1.0}
        if not sp.reaction.stoich or (name in self.terminal and depth == 0):
            out: dict[str, float] | None = {name: 1.0}
        else:
            self.memo[name] = None  # cycle guard
            acc: dict[str, float] = {}
            out = acc
            for other, c in sp.reaction.stoich.items():
                if other == name:
                    continue
                sub = self(other, depth + 1)
                if sub is None:
                    out = None
                    break
                for k, v in sub.items():
                    acc[k] = acc.get(k, 0.0) - c * v
            if out is not None:
                out = {k: v for k, v in acc.items() if abs(v) > 1e-12}
        self.memo[name] = out
        return out


@dataclass
class CertSystem:
    """What the certificate needs about one set of species, keys and phases, built once."""

    species: list[str]
    keys: list[str]  # balances, as SOLUTION_MASTER_SPECIES spells them
    comp: np.ndarray  # (ns, nk) moles of each key's element per mole of species
    z: np.ndarray
    gkind: np.ndarray  # 0 WATEQ, 1 Davies, 2 neutral
    ga: np.ndarray
    gb: np.ndarray
    ma: np.ndarray  # (nr, ns + 2) mass-action rows over [species..., H2O, e-]
    ma_coef: np.ndarray  # (nr, 6) their log K(T) coefficients
    ma_names: list[str]
    h_col: int  # column of H+
    phases: list[str]
    ph_rows: np.ndarray  # (np, ns + 2) phase reactions over [species..., H2O, e-]
    ph_coef: np.ndarray  # (np, 6)
    ph_release: np.ndarray  # (np, nk) moles of each key released per mole dissolved
    missing: list[str]  # species the database forms from these components that are absent
    extra: list[str]  # species present that it does not form
    vm: np.ndarray = None  # (ns, 10) -Vm data of each species (zeros: none)
    canon: np.ndarray = None  # (ns, 3) H column, electrons, water each species carries (module doc)
    ph_vm0: np.ndarray = None  # (np,) molar volume of each phase [cm3/mol]
    ph_canon: np.ndarray = None  # (np, 3) what one mole dissolving adds to the three columns
    gfw_water: float = 0.018016
    am: tuple | None = None  # the database's activity model (SIT, Pitzer, LLNL) for these species (None: ion assoc.)
    llnl_a: np.ndarray | None = None  # LLNL: -llnl_gamma a of each species (NaN: none), co2: -co2_llnl_gamma
    llnl_co2: np.ndarray | None = None


def cert_system(db: Database, species: list[str] | tuple[str, ...], keys: list[str] | tuple[str, ...],
                phases: list[str] | tuple[str, ...] = (), formulas=None) -> CertSystem:
    """The certificate's own reading of the database for these species, total keys and phases
    (cached on the database object, so a batch or a sweep builds it once). ``formulas``: per phase,
    a formula that dissolves in its place (or None)."""
    cache = db.__dict__.setdefault("_certificate_cache", {})
    formulas = tuple(formulas) if formulas is not None else (None,) * len(phases)
    ck = (tuple(species), tuple(keys), tuple(phases), formulas)
    if ck not in cache:
        cache[ck] = _build(db, list(species), list(keys), list(phases), list(formulas))
    return cache[ck]


def _build(db: Database, species: list[str], user_keys: list[str], phases: list[str],
           formulas: list | None = None) -> CertSystem:
    expand = _Expander(db)
    col = {s: i for i, s in enumerate(species)}
    ns = len(species)
    # every master species -> (element, atoms of the element in it), from its formula
    master_el: dict[str, tuple[str, float]] = {}
    for k, ms in db.masters.items():
        if ms.species in _FIXED or k == "Alkalinity":
            continue
        el = _element(k)
        master_el.setdefault(ms.species, (el, parse_formula(ms.species).get(el, 0.0)))
    keys = [_db_key(db, k) for k in user_keys]
    # elements present in the species (or released by a phase) that no key covers: their balance
    # has no total of its own, only what the phases released. Keyed as the solver keys a component a
    # phase brings in: by the valence state of the master species it reaches, if the database has one.
    covered = {_element(k) for k in keys}
    if "Alkalinity" in keys and db.masters["Alkalinity"].species in master_el:
        covered.add(master_el[db.masters["Alkalinity"].species][0])  # carbonate: held by the alkalinity
    state_key = {}
    for k, m in db.masters.items():
        if "(" in k:
            state_key.setdefault(m.species, k)

    def cover(ex: dict[str, float] | None) -> None:
        for ms in ex or {}:
            if ms in master_el and master_el[ms][0] not in covered | {"H", "O"}:
                covered.add(master_el[ms][0])
                keys.append(state_key.get(ms, master_el[ms][0]))

    alk_expand = _Expander(db)  # terminal: every master species, H+, H2O, e- (PHREEQC's rxn_s)
    exps = {s: expand(s) for s in species}
    for s in species:
        cover(exps[s])
    for p in phases:
        for s in db.phases[p].products:
            cover(expand(s))

    def masters_of(key: str) -> set[str]:
        if "(" in key:
            return {db.masters[key].species}
        return {m.species for k, m in db.masters.items() if _element(k) == key and m.species in master_el}

    key_masters = [masters_of(k) for k in keys]

    # alkalinity of each master species (PHREEQC's calc_alk reads the valence-state row of a
    # secondary master, else the primary row; the Alkalinity row itself names no species' alk)
    master_alk: dict[str, float] = {}
    for k, mrow in db.masters.items():
        if k == "Alkalinity":
            continue
        if "(" in k or mrow.species not in master_alk:
            master_alk[mrow.species] = mrow.alk if "(" in k else master_alk.get(mrow.species, mrow.alk)
    for k, mrow in db.masters.items():
        if "(" in k and k != "Alkalinity":
            master_alk[mrow.species] = mrow.alk

    def composition(name: str) -> np.ndarray:
        row = np.zeros(len(keys))
        sp = db.species.get(name)
        if "Alkalinity" in keys:  # eq of alkalinity per mole: its reaction over the master species
            ex_alk = alk_expand(name) or {}
            row[keys.index("Alkalinity")] = sum(c * master_alk.get(ms, 0.0) for ms, c in ex_alk.items())
        if sp is not None and sp.mass_balance:  # -mass_balance: what the database says one mole counts
            for ek, n in sp.mass_balance.items():
                el = _element(ek)
                if "(" not in ek and el in db.masters:  # a bare element: its primary master's valence state
                    ek = next((k for k, m in db.masters.items() if "(" in k and _element(k) == el
                               and m.species == db.masters[el].species), el)
                for j, k in enumerate(keys):
                    if k == el or (ek in db.masters and k in db.masters and
                                   db.masters[k].species == db.masters[ek].species and _element(k) == el):
                        row[j] += n
            return row
        ex = expand(name) or {}
        for j, ms_set in enumerate(key_masters):
            if keys[j] != "Alkalinity":
                row[j] = sum(c * master_el[ms][1] for ms, c in ex.items() if ms in ms_set)
        return row

    comp = np.array([composition(s) for s in species]).reshape(ns, len(keys))
    z = np.array([db.species[s].charge for s in species])
    gkind = np.array([0 if db.species[s].gamma is not None else (1 if db.species[s].charge != 0 else 2)
                      for s in species])
    ga = np.array([db.species[s].gamma[0] if db.species[s].gamma is not None else 0.0 for s in species])
    gb = np.array([db.species[s].gamma[1] if db.species[s].gamma is not None else 0.0 for s in species])

    # the species whose activity is free: the master species of a key with a total of its own
    free = {db.masters[k].species for k in keys}
    whole = {k for k in keys if "(" not in k}
    iw, ie = ns, ns + 1

    def row_of(stoich: dict[str, float]) -> np.ndarray | None:
        r = np.zeros(ns + 2)
        for s, c in stoich.items():
            if s == "H2O":
                r[iw] += c
            elif s == "e-":
                r[ie] += c
            elif s in col:
                r[col[s]] += c
            else:
                return None
        return r

    ma_rows, ma_coef, ma_names = [], [], []
    for s in species:
        sp = db.species[s]
        if not sp.reaction.stoich or s in free or s == "H+":
            continue
        r = row_of(sp.reaction.stoich)
        if r is None:  # a reactant is not in the water: the law cannot hold, fail it by name
            r = np.full(ns + 2, np.nan)
        ma_rows.append(r)
        ma_coef.append(_coeffs(sp.reaction))
        ma_names.append(s)
    ph_rows, ph_coef, ph_rel = [], [], []
    for p in phases:
        ph = db.phases[p]
        r = row_of(ph.products)
        ph_rows.append(np.full(ns + 2, np.nan) if r is None else r)
        ph_coef.append(_coeffs(ph.reaction))
        ph_rel.append(sum((c * composition(s) for s, c in ph.products.items() if s not in _FIXED),
                          np.zeros(len(keys))))

    # species set: those whose reaction, rewritten to master species, uses only available masters
    avail = set(_FIXED) | free | {db.masters[k].species for k in ("H(0)", "O(0)") if k in db.masters}
    for k in whole:
        avail |= masters_of(k)
    expected = []
    for name in db.species:
        if name in ("H2O", "e-"):
            continue
        ex = expand(name)
        if ex is not None and all(ms in avail for ms in ex) and _redox_ok(ex, name, free, whole, master_el):
            expected.append(name)
    present = set(species)
    missing = [s for s in expected if s not in present]
    extra = [s for s in species if s not in set(expected)]
    # the conserved columns of a reaction step, from the element counts, the formula's H and O and
    # the charge, with each element's primary master species (its charge, H, O and atoms)
    prim: dict[str, tuple[float, float, float, float]] = {}
    for k, mrow in db.masters.items():
        if "(" in k or k in ("H", "O", "E", "Alkalinity") or mrow.species in _FIXED:
            continue
        f = parse_formula(mrow.species)
        zc = db.species[mrow.species].charge if mrow.species in db.species else 0.0
        prim[k] = (zc, f.get("H", 0.0), f.get("O", 0.0), f.get(k, 0.0) or 1.0)

    def element_counts(name: str) -> dict[str, float]:
        sp = db.species.get(name)
        out: dict[str, float] = {}
        if sp is not None and sp.mass_balance:
            for ek, nk in sp.mass_balance.items():
                out[_element(ek)] = out.get(_element(ek), 0.0) + nk
            return out
        for ms, cf in (expand(name) or {}).items():
            if ms in master_el:
                el, at = master_el[ms]
                out[el] = out.get(el, 0.0) + cf * at
        return out

    def canon_of(cnt: dict[str, float], h: float, o: float, zz: float) -> np.ndarray:
        hh, e, w = h - 2.0 * o, (h - 2.0 * o) - zz, o
        for el, nk in cnt.items():
            if el in ("H", "O") or el not in prim:
                continue
            zp, hp, op, ap = prim[el]
            hh -= (hp - 2.0 * op) / ap * nk
            e += (zp - hp + 2.0 * op) / ap * nk
            w -= op / ap * nk
        return np.array([hh, e, w])

    canon = np.array([canon_of(element_counts(s), db.species[s].elements.get("H", 0.0),
                               db.species[s].elements.get("O", 0.0), db.species[s].charge)
                      for s in species]).reshape(ns, 3)
    formulas = list(formulas or [None] * len(phases))
    ph_canon = []
    for q, p in enumerate(phases):
        if formulas[q]:
            f = parse_formula(formulas[q])
            ph_canon.append(canon_of({e: v for e, v in f.items() if e not in ("H", "O")}, f.get("H", 0.0),
                                     f.get("O", 0.0), 0.0))
            rel = np.zeros(len(keys))
            for e, v in f.items():
                if e in keys:
                    rel[keys.index(e)] += v
            ph_rel[q] = rel
            continue
        acc = np.zeros(3)
        for s, cf in db.phases[p].products.items():
            if s == "H2O":
                acc[2] += cf
            elif s == "e-":
                acc[1] += cf
            elif s in col:
                acc += cf * canon[col[s]]
        ph_canon.append(acc)
    vm = np.array([db.species[s].vm if db.species[s].vm is not None else (0.0,) * 10 for s in species]).reshape(ns, 10)
    try:
        gfw_w = 1e-3 * (2 * db.masters["H"].gfw + db.masters["O"].gfw)
    except (KeyError, TypeError):
        gfw_w = 0.018016
    from .activity_models import model_code, pack

    am = pack(db, species) if model_code(db) else None
    llnl_a = np.array([np.nan if db.species[s].llnl_gamma is None else db.species[s].llnl_gamma for s in species])
    llnl_co2 = np.array([bool(db.species[s].co2_llnl_gamma) for s in species], dtype=bool)
    return CertSystem(species, keys, comp, z, gkind, ga, gb,
                      np.array(ma_rows).reshape(len(ma_rows), ns + 2), np.array(ma_coef).reshape(len(ma_coef), 6),
                      ma_names, col.get("H+", -1), list(phases),
                      np.array(ph_rows).reshape(len(ph_rows), ns + 2), np.array(ph_coef).reshape(len(ph_coef), 6),
                      np.array(ph_rel).reshape(len(ph_rel), len(keys)), missing, extra, vm, canon,
                      np.array([db.phases[p].vm0 for p in phases], dtype=float),
                      np.array(ph_canon).reshape(len(phases), 3), gfw_w, am, llnl_a, llnl_co2)


def _redox_ok(ex: dict[str, float], name: str, free: set[str], whole: set[str], master_el) -> bool:
    """A species formed with electrons belongs to the water only if the redox step links valence
    states that pe couples: the element is given as a whole (or is H, O), or the species is itself
    the master species of a valence state whose element is given as a whole."""
    if "e-" not in ex or name in free:
        return True
    els = {master_el[ms][0] for ms in ex if ms in master_el}
    return all(e in whole or e in ("H", "O") for e in els)


# ------------------------------------------------------------------ the checks
def certify_states(db: Database, species, keys, m, lg, pH, pe, T, I, aw, charge, totals, *,
                   phases=(), si_target=None, amount=None, n=None, checked=None, lower=None, upper=None,
                   formulas=None, P=None, W=None, conserved=None, gas_phi=None, fixed_si=None, couples=None,
                   default_couple=None, exchange=None, surface=None, gas=None) -> BatchCertificate:
    """Certify N returned states at once.

    species : names of the columns of ``m`` (N, ns) [mol/kgw] and ``lg`` (N, ns) reported log10
    gamma; pH, pe, T [K], I [mol/kgw], aw : (N,); charge : (N,) bool, True where the pH comes from
    electroneutrality; keys : total keys (user's or database spelling), totals : (N, nk) [mol of
    the element / kgw]; phases : names, si_target, amount [mol], n (moles dissolved) : (N, np);
    checked : (N,) bool, rows to check (the others hold NaN).
    Reaction steps also give: lower, upper (N, np) bounds on the moles dissolved (dissolve- or
    precipitate-only); formulas: per phase, a formula dissolving in its place; P (N,) [atm]: the
    pressure asked (log K then carries PHREEQC's pressure term above 1 atm); W (N,) [kg] water;
    conserved: {"charge", "electrons", "water"} (N,) totals [eq, mol] the step conserves (the charge
    check then reads the carried imbalance); gas_phi: {gas phase: (N,) log10 Peng-Robinson fugacity
    coefficient added to its target}.
    Initial solutions also give: fixed_si {phase: target} (a total, the pH or the pe held by a
    phase's saturation index); couples {element: "A(x)/A(y)" or "pe"} and default_couple (the
    valence states of those elements follow the couple's electron activity, computed here from the
    couple's own species); a total of NaN (held by the charge balance or a phase) is not checked.
    exchange : {"sites": [exchanger], "n": (N, nx) moles of the exchange species named in "names",
    "cec": (N, nsites) moles of sites}: the exchanger's species are checked (``exchange`` module: read
    from the database here) and what they hold counts in the element, electron and water balances.
    surface : {"sites": [site type], "n": (N, ns) moles of the surface species named in "names",
    "N": (N, nsites) moles of sites, "edl", and for a diffuse double layer "ddl" [surface], "u" (N,
    nddl) F psi / (2RT ln10), "area" (N, nddl) [m2]}: the same for a surface (``surface`` module), whose
    charge also counts in the charge balance; with a diffuse double layer the mass action carries
    exp(-F psi/RT) per charge and each surface's charge must equal its diffuse layer's.
    gas : a GAS_PHASE's {"cols": its components (among ``phases``), "limit" (N,) P where a
    fixed-pressure gas is absent (NaN elsewhere), "p_gas" (N,) its pressure recomputed from its moles,
    "p_water" (N,) the pressure the water was solved at}: "gas pressure" (see TOLERANCES).
    """
    fixed_si = dict(fixed_si or {})
    N0 = np.asarray(m).shape[0]
    if fixed_si:  # phases held at an SI with no moles of their own: checked as phases that never run out
        phases = list(phases) + [p for p in fixed_si]
        k0 = len(phases) - len(fixed_si)
        def _ext(a, fill):
            base = np.zeros((N0, 0)) if a is None else np.asarray(a, dtype=float).reshape(N0, k0)
            return np.concatenate([base, np.full((N0, len(fixed_si)), fill)], axis=1)
        si_target = np.concatenate([np.zeros((N0, 0)) if si_target is None
                                    else np.asarray(si_target, dtype=float).reshape(N0, k0),
                                    np.column_stack([np.broadcast_to(np.asarray(v, dtype=float), (N0,))
                                                     for v in fixed_si.values()])], axis=1)
        amount = _ext(amount, np.inf)
        n = _ext(n, 0.0)
        lower = _ext(lower, -np.inf) if lower is not None else None
        upper = _ext(upper, np.inf) if upper is not None else None
        formulas = (list(formulas) if formulas is not None else [None] * k0) + [None] * len(fixed_si)
    cs = cert_system(db, species, keys, phases, formulas)
    m = np.asarray(m, dtype=float)
    N = m.shape[0]
    checked = np.ones(N, dtype=bool) if checked is None else np.asarray(checked, dtype=bool)
    rows = np.flatnonzero(checked)
    tot = np.zeros((N, len(cs.keys)))  # keys the certificate added (elements from phases) have no total
    tot[:, :len(keys)] = np.asarray(totals, dtype=float).reshape(N, len(keys))
    vals = {k: np.full(N, np.nan) for k in TOLERANCES}
    where = {k: np.full(N, "", dtype=object) for k in TOLERANCES}
    npp = len(cs.phases)
    extra = {
        "P": np.broadcast_to(np.asarray(1.0 if P is None else P, dtype=float), (N,)),
        "W": np.broadcast_to(np.asarray(1.0 if W is None else W, dtype=float), (N,)),
        "lower": np.full((N, npp), -np.inf) if lower is None else np.asarray(lower, dtype=float).reshape(N, npp),
        "upper": None if upper is None else np.asarray(upper, dtype=float).reshape(N, npp),
        "conserved": None if conserved is None else {k: np.broadcast_to(np.asarray(v, dtype=float), (N,))
                                                      for k, v in conserved.items()},
        "phi": np.zeros((N, npp)),
    }
    for name, v in (gas_phi or {}).items():
        extra["phi"][:, cs.phases.index(name)] = np.broadcast_to(np.asarray(v, dtype=float), (N,))
    extra["couples"] = _couple_columns(db, cs, couples or {}, default_couple)
    extra["exchange"] = None
    if exchange is not None:
        from .exchange import exchange_model

        em = exchange_model(db, list(exchange["sites"]), cs.species)
        got = {s: j for j, s in enumerate(exchange["names"])}
        n_in = np.asarray(exchange["n"], dtype=float).reshape(N, len(exchange["names"]))
        nx = np.column_stack([n_in[:, got[s]] if s in got else np.zeros(N) for s in em.names]).reshape(N, len(em.names))
        stray = [s for s in exchange["names"] if s not in set(em.names)]
        held = np.array([[c.get(_element(k), 0.0) for k in cs.keys] for c in em.counts]).reshape(len(em.names),
                                                                                            len(cs.keys))
        extra["exchange"] = {"model": em, "n": nx, "cec": np.asarray(exchange["cec"], dtype=float).reshape(N, -1),
                             "held": held, "stray": stray}
    extra["surface"] = None
    if surface is not None:
        from .surface import surface_model

        smod = surface_model(db, list(surface["sites"]), cs.species)
        got = {s: j for j, s in enumerate(surface["names"])}
        n_in = np.asarray(surface["n"], dtype=float).reshape(N, len(surface["names"]))
        ns_ = len(smod.names)
        nsu = np.column_stack([n_in[:, got[s]] if s in got else np.zeros(N) for s in smod.names]).reshape(N, ns_)
        stray = [s for s in surface["names"] if s not in set(smod.names)]
        held = np.array([[c.get(_element(k), 0.0) for k in cs.keys] for c in smod.counts]).reshape(ns_, len(cs.keys))
        ddl = list(surface.get("ddl", []))
        extra["surface"] = {"model": smod, "n": nsu, "N": np.asarray(surface["N"], dtype=float).reshape(N, -1),
                            "held": held, "stray": stray, "edl": surface.get("edl", "no_edl"), "ddl": ddl,
                            "u": np.asarray(surface.get("u", np.zeros((N, 0))), dtype=float).reshape(N, len(ddl)),
                            "area": np.asarray(surface.get("area", np.zeros((N, 0))), dtype=float).reshape(N, len(ddl))}
    # a phase's e- follows the solution's default couple (PHREEQC's prep.cpp rewrites every phase so)
    extra["phase_couple"] = (_couple_def(db, cs, default_couple) if default_couple and default_couple != "pe"
                             else None)
    extra["gas"] = gas
    if rows.size:
        _check_rows(cs, rows, m, np.asarray(lg, dtype=float), *(np.broadcast_to(np.asarray(a, dtype=float), (N,))
                                                                for a in (pH, pe, T, I, aw)),
                    np.broadcast_to(np.asarray(charge, dtype=bool), (N,)), tot,
                    si_target, amount, n, vals, where, extra)
    for k in ("electron balance", "water balance"):
        if extra["conserved"] is None:
            vals[k][rows] = 0.0
    if gas is None or not cs.phases:
        vals["gas pressure"][rows] = 0.0
    return BatchCertificate(vals, dict(TOLERANCES), where, dict(UNITS), checked, "aqueous")


def _canon_primary(db: Database, name: str, depth: int = 0):
    """(coefficients over primary master species, H+, H2O, e-; log K coefficients) of a species'
    formation, the certificate's own recursion over the database reactions."""
    primaries = {m.species for k, m in db.masters.items() if "(" not in k} | set(_FIXED)
    if name in primaries or depth > 40:
        return {name: 1.0}, np.zeros(6)
    sp = db.species[name]
    acc: dict[str, float] = {}
    lk = _coeffs(sp.reaction)
    for other, c in sp.reaction.stoich.items():
        if other == name:
            continue
        sub, slk = _canon_primary(db, other, depth + 1)
        for k, v in sub.items():
            acc[k] = acc.get(k, 0.0) - c * v
        lk = lk - c * slk
    return acc, lk


def _couple_columns(db: Database, cs: CertSystem, couples: dict, default: str | None):
    """[(mass-action rows whose e- follows a couple, the couple's definition)]: a row's species is
    a valence-state master of an element distributed by a couple (its own, else the default;
    "pe" for the pe itself); H2 and O2 follow the default."""
    state_el = {m.species: _element(k) for k, m in db.masters.items() if "(" in k and m.species not in _FIXED}
    groups: dict[str, list[int]] = {}
    for r, name in enumerate(cs.ma_names):
        el = state_el.get(name)
        if el is None or "e-" not in db.species[name].reaction.stoich:
            continue
        cp = couples.get(el, default)
        if cp is None or cp == "pe":
            continue
        groups.setdefault(cp, []).append(r)
    return [(np.array(rws), _couple_def(db, cs, cp)) for cp, rws in groups.items()]


def _couple_def(db: Database, cs: CertSystem, cp: str):
    """(index of a, of b (-1: H2O), dH, dW, de, log K coefficients, H+ column) of couple "A(x)/A(y)":
    la(a) - la(b) = log K + dH la(H+) + dW la(H2O) + de la(e-), from the two masters' reactions."""
    a, b = (db.masters[_db_key(db, k)].species for k in cp.split("/"))
    ca, la_ = _canon_primary(db, a)
    cb, lb_ = _canon_primary(db, b)
    diff = {k: ca.get(k, 0.0) - cb.get(k, 0.0) for k in set(ca) | set(cb)}
    ia = cs.species.index(a) if a != "H2O" else -1
    ib = cs.species.index(b) if b != "H2O" else -1
    return (ia, ib, diff.get("H+", 0.0), diff.get("H2O", 0.0), diff.get("e-", 0.0), la_ - lb_, cs.h_col)


def _couple_le(c_def, log_a, law, T_, vol_ext=None, fP=None):
    """log10 a(e-) of a couple: la(a) - la(b) = log K + dH lh + dW law + de le. Above 1 atm (``vol_ext``
    (R, ns + 2) molar volumes of [species, H2O, e-], ``fP`` (R,) the pressure factor) log K carries the
    pressure term of the couple's own reaction, dV = V(a) - V(b) - dH V(H+) - dW V(H2O): PHREEQC
    substitutes the couple for e- in every reaction it rewrites and takes dV over the reaction that
    results (prep.cpp k_temp, calc_delta_v), which is this term added to the reaction's own."""
    ia, ib, dH, dW, de, lkc, ih = c_def
    lk = _log_k(lkc[None, :], T_)[:, 0]
    if vol_ext is not None:
        nsp = vol_ext.shape[1] - 2
        iw = nsp  # the H2O column of vol_ext
        dv = (vol_ext[:, ia if ia >= 0 else iw] - vol_ext[:, ib if ib >= 0 else iw] - dH * vol_ext[:, ih]
              - dW * vol_ext[:, iw])
        lk = lk - dv * fP
    la_a = log_a[:, ia] if ia >= 0 else law
    la_b = log_a[:, ib] if ib >= 0 else law
    return (la_a - la_b - lk - dH * log_a[:, ih] - dW * law) / de


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` by numpy's own loops (einsum), not BLAS. OpenBLAS runs a product of this size (a batch's
    rows by a few dozen columns) on every core and, when another process holds one, spin-waits: 2.7 ms
    instead of 0.05 ms for 1000 x 37 x 30 on this 2-core machine, most of a certificate. numpy's loops
    take ~0.3 ms whatever the load, and a row's result does not depend on how many rows there are."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.einsum("ij,jk->ik", a, b) if b.ndim == 2 else np.einsum("ij,j->i", a, b)


def _worst(a: np.ndarray, names: list[str]):
    """Row-wise max of (R, k) residuals (NaN counts as worst, and stays NaN) and its column's name."""
    R = a.shape[0]
    if a.shape[1] == 0:
        return np.zeros(R), np.full(R, "", dtype=object)
    j = np.argmax(np.where(np.isnan(a), np.inf, a), axis=1)
    return a[np.arange(R), j], np.array(names, dtype=object)[j]


def _llnl_lg(cs: CertSystem, lg: np.ndarray, T_: np.ndarray, I_c: np.ndarray, A: np.ndarray,
             B: np.ndarray) -> np.ndarray:
    """log10 gamma of llnl.dat's B-dot model, written again from PHREEQC's model.cpp (calc_gammas cases 7, 8):
    A, B, Bdot interpolated linearly in LLNL_AQUEOUS_MODEL_PARAMETERS' temperature table (the water's A, B with
    -use_phreeqc_dha_dhb); -llnl_gamma a: charged -A z^2 sqrt(I) / (1 + a B sqrt(I)) + Bdot I, neutral 0;
    -co2_llnl_gamma: ((c0 + c1 T + c2 / T) I - (c3 + c4 T) I / (I + 1)) / ln 10; other species as ``lg``. NaN
    outside the table (PHREEQC stops there)."""
    tbl, co2 = cs.am[4], cs.am[9][1:6]
    tc = T_ - 273.15
    a_t = np.interp(tc, tbl[:, 0], tbl[:, 1])
    b_t = np.interp(tc, tbl[:, 0], tbl[:, 2])
    bdot = np.interp(tc, tbl[:, 0], tbl[:, 3])
    if int(cs.am[0][3]):
        a_t, b_t = A, B
    out_of = (tc < tbl[0, 0]) | (tc > tbl[-1, 0])
    mu = np.where(I_c > 0, I_c, 1e-10)[:, None]
    sq = np.sqrt(mu)
    z2 = (cs.z * cs.z)[None, :]
    ion = -a_t[:, None] * sq * z2 / (1.0 + cs.llnl_a[None, :] * b_t[:, None] * sq) + bdot[:, None] * mu
    ll = np.where(cs.z[None, :] == 0, 0.0, ion)
    c1 = (co2[0] + co2[1] * T_ + co2[2] / T_)[:, None]
    c2 = (co2[3] + co2[4] * T_)[:, None]
    lco2 = (c1 * mu - c2 * mu / (mu + 1.0)) / LN10
    out = np.where(np.isnan(cs.llnl_a)[None, :], lg, ll)
    out = np.where(cs.llnl_co2[None, :], lco2, out)
    return np.where(out_of[:, None] & (~np.isnan(cs.llnl_a) | cs.llnl_co2)[None, :], np.nan, out)


def _model_activity(am, m, I_c, T_, P_, A):
    """log10 gamma (R, ns) and a(H2O) (R,) of a database's activity model (SIT, Pitzer) at each state's
    own molalities, ionic strength, T, P and Debye-Hueckel A: ln a(H2O) = -phi sum m / 55.50837."""
    from .activity_models import log_gamma_phi

    R = m.shape[0]
    lg, phi = log_gamma_phi(am, m, I_c, T_, np.broadcast_to(np.asarray(P_, dtype=float), (R,)), A)
    return lg, np.exp(-phi * m.sum(axis=1) / 55.50837)


def _check_rows(cs: CertSystem, rows, m_all, lg_all, pH, pe, T, I, aw, charge, tot, si_target, amount, n,
                vals, where, extra) -> None:
    m, lg_rep = m_all[rows], lg_all[rows]
    R = rows.size
    T_, pH_, pe_ = T[rows], pH[rows], pe[rows]
    W = extra["W"][rows]
    with np.errstate(all="ignore"):
        # ionic strength and water activity from the molalities, then gamma with them
        I_c = 0.5 * _mm(m, cs.z * cs.z)
        aw_c = 1.0 - 0.017 * m.sum(axis=1)
        gas_in = extra["gas"] is not None  # a GAS_PHASE in the step: PHREEQC's pressure (``_water``)
        wat = _water(T_, aw_c, extra["P"][rows], gas_in)
        A, B = wat["A"], wat["B"]
        model = int(cs.am[0][0]) if cs.am is not None else 0
        if model in (ACT_SIT, ACT_PITZER):  # gamma and a(H2O) (from the osmotic coefficient) by the database's model,
            # its Debye-Hueckel slope: SIT at a(H2O) = 1, Pitzer at the a(H2O) of the state, as PHREEQC 3.8.6
            # (see kernels.aqueous_solve.solve_row_model); the latter a fixed point, 2 passes from a(H2O) reported
            Pr = extra["P"][rows]
            sit = int(cs.am[0][0]) == ACT_SIT
            A1 = _water(T_, np.ones_like(T_) if sit else aw[rows], Pr, gas_in)["A"]
            lg_model, aw_c = _model_activity(cs.am, m, I_c, T_, Pr, A1)
            if not sit:
                lg_model, aw_c = _model_activity(cs.am, m, I_c, T_, Pr, _water(T_, aw_c, Pr, gas_in)["A"])
            wat = _water(T_, aw_c, Pr, gas_in)  # the pressure term of log K: at this a(H2O)
            A, B = wat["A"], wat["B"]
        # above 1 atm, log K carries the pressure term -dV (P - 1) / (ln10 R T), dV from molar volumes
        dp = (wat["P"] - 1.0) * 1.01325e5
        press = dp > 0
        if press.any():
            vol = _volumes(cs.vm, cs.z, T_, I_c, wat)
            vol_ext = np.concatenate([vol, (18.016 / wat["rho"])[:, None], np.zeros((R, 1))], axis=1)
            fP = np.where(press, 1e-9 * dp / (LN10 * T_ * 8.31470e-3), 0.0)
        sq = np.sqrt(I_c)[:, None]
        z2 = (cs.z * cs.z)[None, :]
        lg = np.where(cs.gkind == 0, -A[:, None] * z2 * sq / (1.0 + B[:, None] * cs.ga * sq) + cs.gb * I_c[:, None],
                      np.where(cs.gkind == 1, -A[:, None] * z2 * (sq / (1.0 + sq) - 0.3 * I_c[:, None]),
                               0.1 * I_c[:, None]))
        if model in (ACT_SIT, ACT_PITZER):
            lg = lg_model
        elif model == ACT_LLNL:
            lg = _llnl_lg(cs, lg, T_, I_c, A, B)
        log_m = np.log10(m)
        log_a = log_m + lg
        full = np.concatenate([log_a, np.log10(aw_c)[:, None], -pe_[:, None]], axis=1)  # [species, H2O, e-]

        # mass action: sum nu log a - log K(T) = 0 for every species not a free master
        if cs.ma.shape[0]:
            lk = _log_k(cs.ma_coef, T_)
            ma = cs.ma.copy()
            ma_fin = np.where(np.isnan(ma), 0.0, ma)
            if press.any():
                lk = lk - _mm(vol_ext, ma_fin.T) * fP[:, None]
            fullz = np.where(np.isfinite(full), full, 0.0)
            res = _mm(fullz, ma_fin.T) - lk
            for c_rows, c_def in extra["couples"]:  # laws whose electrons follow a redox couple
                le_c = _couple_le(c_def, log_a, np.log10(aw_c), T_, *((vol_ext, fP) if press.any() else ()))
                res[:, c_rows] += ma_fin[c_rows, -1][None, :] * (le_c + pe_)[:, None]
            # Molalities below 1e-290 carry no usable digits (subnormal, or 0 after underflow): a law
            # whose species is that small passes if the law puts it below 1e-280 too (it is nothing
            # either way); a law with such a reactant and a species above it cannot be checked: fails.
            tiny = m < 1e-290
            prod_col = np.array([cs.species.index(s) for s in cs.ma_names])
            own = ma_fin[np.arange(len(prod_col)), prod_col]
            part = (ma_fin != 0).astype(float)
            part[np.arange(len(prod_col)), prod_col] = 0.0
            other_tiny = _mm(np.concatenate([tiny, np.zeros((R, 2), dtype=bool)], axis=1).astype(float), part.T) > 0
            other_bad = _mm((~np.isfinite(full)).astype(float), part.T) > 0
            prod_tiny = tiny[:, prod_col]
            rest = res - fullz[:, prod_col] * own
            pred = (-rest / own) - lg[:, prod_col]  # log10 m the law gives the species
            res = np.where(prod_tiny, np.where(pred < -280.0, 0.0, np.inf), np.abs(res))
            res = np.where(other_tiny | other_bad, np.where(prod_tiny, 0.0, np.nan), res)
            res = np.where(np.isnan(ma).any(axis=1)[None, :], np.nan, res)  # a reactant outside the water
            vals["mass action"][rows], where["mass action"][rows] = _worst(res, cs.ma_names)
        else:
            vals["mass action"][rows] = 0.0

        # mass balances in moles of element: sum comp m = total + released by phases
        have = _mm(m, cs.comp)
        released = np.zeros_like(have)
        if cs.phases:
            nn = np.asarray(n, dtype=float)[rows]  # moles dissolved
            released = _mm(nn / W[:, None], cs.ph_release)
        exr = extra["exchange"]
        if exr is not None:  # what the exchanger holds is part of the total
            sorbed = _mm(exr["n"][rows] / W[:, None], exr["held"])
            released = released - sorbed
        sur = extra["surface"]
        if sur is not None:  # and what the surface holds
            released = released - _mm(sur["n"][rows] / W[:, None], sur["held"])
        target = tot[rows] + released
        scale = np.abs(have) + np.abs(tot[rows]) + np.abs(released)
        mb = np.where(scale > 0, np.abs(have - target) / np.where(scale > 0, scale, 1.0), 0.0)
        mb = np.where(np.isnan(tot[rows]), 0.0, mb)  # totals held by the charge balance or a phase
        vals["mass balance"][rows], where["mass balance"][rows] = _worst(mb, cs.keys)

        # charge balance (pH from electroneutrality; in a reaction step, the carried imbalance) or the pH itself
        q = _mm(m, cs.z)
        qs = _mm(m, np.abs(cs.z))
        ch = charge[rows]
        cons = extra["conserved"]
        if cons is None:
            vals["charge balance"][rows] = np.where(ch, np.abs(q) / np.where(qs > 0, qs, 1.0), 0.0)
        else:
            Q = cons["charge"][rows]
            q_su = qs_su = np.zeros(R)
            if sur is not None:  # the surface's charge is the cell's
                q_su = _mm(sur["n"][rows], sur["model"].z)
                qs_su = _mm(sur["n"][rows], np.abs(sur["model"].z))
            vals["charge balance"][rows] = np.abs(q * W + q_su - Q) / (qs * W + qs_su + np.abs(Q))
            # electrons and water: what the species hold, less what the phases took in (dissolved: added)
            nn = np.asarray(n, dtype=float)[rows] if cs.phases else np.zeros((R, 0))
            for kname, j, base in (("electron balance", 1, 0.0), ("water balance", 2, 1.0 / cs.gfw_water)):
                have_c = (_mm(m, cs.canon[:, j]) + base) * W
                rel_c = _mm(nn, cs.ph_canon[:, j]) if cs.phases else np.zeros(R)
                tot_c = cons["electrons" if j == 1 else "water"][rows]
                scale_c = (_mm(m, np.abs(cs.canon[:, j])) + base) * W + np.abs(rel_c) + np.abs(tot_c)
                for xr in (exr, sur):
                    if xr is not None:
                        have_c = have_c + _mm(xr["n"][rows], xr["model"].canon[:, j])
                        scale_c = scale_c + _mm(np.abs(xr["n"][rows]), np.abs(xr["model"].canon[:, j]))
                # no species carries electrons (pitzer.dat has no redox element): nothing to balance, 0 of 0
                gap = np.abs(have_c - rel_c - tot_c)
                vals[kname][rows] = np.where(scale_c > 0, gap / np.where(scale_c > 0, scale_c, 1.0),
                                             np.where(gap == 0, 0.0, np.inf))
        la_h = log_a[:, cs.h_col] if cs.h_col >= 0 else np.full(R, np.nan)
        vals["pH"][rows] = np.abs(-la_h - pH_)

        vals["activity coefficients"][rows], where["activity coefficients"][rows] = _worst(np.abs(lg_rep - lg),
                                                                                          cs.species)
        vals["ionic strength"][rows] = np.abs(I[rows] - I_c) / np.maximum(I_c, 1.0)
        if exr is not None:
            dlk = None
            if press.any():
                dv = np.stack([-sum(k * vol_ext[:, (c if c >= 0 else vol_ext.shape[1] - 2)] for c, k in r)
                               if r else np.zeros(R) for r in exr["model"].reactants], axis=1)
                dlk = -dv * fP[:, None]
            (vals["exchange mass action"][rows], where["exchange mass action"][rows], vals["exchange sites"][rows],
             where["exchange sites"][rows]) = _exchange_check(exr, rows, log_a, np.log10(aw_c), I_c, A, B, T_, dlk,
                                                              lg if model in (ACT_SIT, ACT_PITZER) else None)
        else:
            vals["exchange mass action"][rows] = 0.0
            vals["exchange sites"][rows] = 0.0
        if sur is not None:
            dlk = None
            if press.any():
                dlk = np.stack([-sum(k * vol_ext[:, (c if c >= 0 else vol_ext.shape[1] - 2)] for c, k in r)
                                if r else np.zeros(R) for r in sur["model"].reactants], axis=1) * -fP[:, None]
            (vals["surface mass action"][rows], where["surface mass action"][rows], vals["surface sites"][rows],
             where["surface sites"][rows]) = _surface_check(sur, rows, log_a, np.log10(aw_c), T_, dlk)
            vals["surface charge-potential"][rows] = 0.0
            if sur["ddl"]:  # each surface's charge against its diffuse layer's at the certificate's own I
                from .surface import F_C_MOL, gouy_chapman

                gcf = gouy_chapman(T_, aw_c, extra["P"][rows], gas_in) * np.sqrt(I_c)
                smod = sur["model"]
                cp = np.zeros((R, len(sur["ddl"])))
                for q_, sname in enumerate(sur["ddl"]):
                    on = np.array([smod.surfaces[smod.surf[i]] == sname for i in range(len(smod.names))])
                    qs_ = _mm(sur["n"][rows][:, on], smod.z[on])
                    gross = _mm(sur["n"][rows][:, on], np.abs(smod.z[on]))
                    dl = sur["area"][rows, q_] / F_C_MOL * gcf * np.sinh(sur["u"][rows, q_] * LN10)
                    scale = gross + np.abs(dl)  # 0: a surface this row does not have (nothing on it)
                    cp[:, q_] = np.where(scale > 0, np.abs(qs_ - dl) / np.where(scale > 0, scale, 1.0), 0.0)
                vals["surface charge-potential"][rows], where["surface charge-potential"][rows] = _worst(cp, sur["ddl"])
        else:
            vals["surface mass action"][rows] = 0.0
            vals["surface sites"][rows] = 0.0
            vals["surface charge-potential"][rows] = 0.0
        vals["water activity"][rows] = np.abs(aw[rows] - aw_c)

        # phases: at the target SI, or used up (all available dissolved) and not oversaturated
        if cs.phases:
            rows_p = np.where(np.isnan(cs.ph_rows), 0.0, cs.ph_rows)
            lkp = _log_k(cs.ph_coef, T_)
            if press.any():  # dissolution dV (H2O's too, as PHREEQC's calc_delta_v) less the phase's own volume
                lkp = lkp - (_mm(vol_ext, rows_p.T) - cs.ph_vm0[None, :]) * fP[:, None]
            fz = np.where(np.isfinite(full), full, 0.0)
            if extra["phase_couple"] is not None:
                fz[:, -1] = _couple_le(extra["phase_couple"], log_a, np.log10(aw_c), T_,
                                       *((vol_ext, fP) if press.any() else ()))
            si = _mm(fz, rows_p.T) - lkp
            # a species of it absent: -inf
            gone = _mm((~np.isfinite(full)).astype(float), (rows_p != 0).T.astype(float)) > 0
            si = np.where(gone, -np.inf, si)
            si = np.where(np.isnan(cs.ph_rows).any(axis=1)[None, :], np.nan, si)
            tgt = np.asarray(si_target, dtype=float)[rows] + extra["phi"][rows]
            amt = np.asarray(amount, dtype=float)[rows]
            up = amt if extra["upper"] is None else extra["upper"][rows]
            low = extra["lower"][rows]
            nn = np.asarray(n, dtype=float)[rows]
            at_up = nn >= up - 1e-12 * np.maximum(np.abs(up), 1.0)
            at_low = np.isfinite(low) & (nn <= low + 1e-12 * np.maximum(np.abs(low), 1.0))
            dev = np.where(at_up, np.maximum(si - tgt, 0.0),
                           np.where(at_low, np.maximum(tgt - si, 0.0), np.abs(si - tgt)))
            dev = np.where(at_up & at_low, 0.0, dev)  # no room either way (nothing present, precipitate-only...)
            vals["saturation index"][rows], where["saturation index"][rows] = _worst(dev, cs.phases)
            over = (np.maximum(np.maximum(nn - up, np.where(np.isfinite(low), low - nn, 0.0)), 0.0)
                    / np.maximum(amt, 1.0))
            vals["phase amount"][rows], where["phase amount"][rows] = _worst(over, cs.phases)
            g = extra.get("gas")
            if g is not None:
                gi = [cs.phases.index(k) for k in g["cols"]]
                lim = np.asarray(g["limit"], dtype=float)[rows]
                ssum = np.log10(np.sum(10.0 ** np.minimum(si[:, gi], 300.0), axis=1))
                absent = np.where(np.isfinite(lim), np.maximum(ssum - np.log10(np.where(np.isfinite(lim), lim, 1.0)),
                                                               0.0), 0.0)
                pdev = np.abs(np.log10(np.asarray(g["p_water"], dtype=float)[rows]
                                       / np.asarray(g["p_gas"], dtype=float)[rows]))
                gv = np.maximum(absent, np.where(np.isnan(pdev), np.inf, pdev))
                vals["gas pressure"][rows] = gv
                where["gas pressure"][rows] = np.where(absent > 0, "sum of partial pressures over P (gas absent)",
                                                       "water's pressure vs the gas's")
        else:
            vals["saturation index"][rows] = 0.0
            vals["phase amount"][rows] = 0.0
        bad_set = len(cs.missing) + len(cs.extra)
        vals["species set"][rows] = float(bad_set)
        if bad_set:
            desc = ("missing " + ", ".join(cs.missing[:3]) if cs.missing else "") + \
                   ("; " if cs.missing and cs.extra else "") + \
                   ("unexpected " + ", ".join(cs.extra[:3]) if cs.extra else "")
            where["species set"][rows] = desc


def _exchange_check(exr, rows, log_a, law, I_c, A, B, T_, dlk, lg_model=None):
    """(mass action residual, its species, sites residual, its exchanger) per row (module ``exchange``):
    log10 gamma n_i = rhs_i + eq_i u with u the exchanger master's log activity, unknown: u is read
    from the most abundant species of the exchanger (in equivalents) and every other species checked
    against it; a species below 1e-290 mol passes if the law puts it below 1e-280 too. ``lg_model``: the
    aqueous log10 gamma of a SIT or Pitzer model, whose cation values the exchange species take."""
    from .exchange import law_rhs, log_gamma

    em = exr["model"]
    n = exr["n"][rows]
    cec = exr["cec"][rows]
    R, nx = n.shape
    with np.errstate(all="ignore"):
        lg = log_gamma(em, A, B, I_c, cec, lg_model)
        rhs = law_rhs(em, log_a, law, T_, dlk)
        logn = np.log10(n)
        res = np.zeros((R, nx))
        sites_res = np.zeros((R, len(em.sites)))
        for j in range(len(em.sites)):
            idx = np.flatnonzero(em.site == j)
            if idx.size == 0:
                continue
            eq = em.equiv[idx]
            ref = idx[np.argmax(n[:, idx] * eq, axis=1)]
            u = (logn[np.arange(R), ref] + lg[np.arange(R), ref] - rhs[np.arange(R), ref]) / em.equiv[ref]
            pred = rhs[:, idx] - lg[:, idx] + eq * u[:, None]  # log10 n the law gives
            tiny = n[:, idx] < 1e-290
            r = np.where(tiny, np.where(pred < -280.0, 0.0, np.inf), np.abs(logn[:, idx] - pred))
            res[:, idx] = np.where(np.isfinite(u)[:, None], r, np.nan)
            sites_res[:, j] = np.abs((n[:, idx] * eq).sum(axis=1) - cec[:, j]) / cec[:, j]
            # no sites in a row (a reactor cell without this exchanger): nothing may be sorbed on it
            none = cec[:, j] <= 0.0
            held = n[:, idx] > 0.0
            res[:, idx] = np.where(none[:, None], np.where(held, np.inf, 0.0), res[:, idx])
            sites_res[:, j] = np.where(none, np.where(held.any(axis=1), np.inf, 0.0), sites_res[:, j])
    if exr["stray"]:  # a species the database does not form from this water: fails
        res = np.concatenate([res, np.full((R, 1), np.inf)], axis=1)
        names = em.names + [f"{exr['stray'][0]} (not formed by these components)"]
    else:
        names = em.names
    a, wa = _worst(res, names)
    b, wb = _worst(sites_res, em.sites)
    return a, wa, b, wb


def _surface_check(sur, rows, log_a, law, T_, dlk):
    """(mass action residual, its species, sites residual, its site type) per row (``surface``
    module): log10(equiv_i n_i / sites) = rhs_i + equiv_i log10 a(master) (- 2 dz_i F psi / (2RT ln10)
    with a diffuse layer), a(master) read from the species holding most of the site's sites (the
    master itself, whose law is log10 a = log10 a) and every species checked against it; a species
    below 1e-290 mol passes if the law puts it below 1e-280 too."""
    from .surface import law_rhs

    sm = sur["model"]
    n = sur["n"][rows]
    Ns = sur["N"][rows]
    R, ns = n.shape
    with np.errstate(all="ignore"):
        rhs = law_rhs(sm, log_a, law, T_)
        if dlk is not None:
            rhs = rhs + dlk
        Ni = Ns[:, sm.site]
        log_act = np.log10(sm.equiv * n / Ni)
        for q_, sname in enumerate(sur["ddl"]):  # exp(-F psi / RT) per charge brought to the surface
            on = np.array([sm.surfaces[sm.surf[i]] == sname for i in range(ns)], dtype=bool)
            rhs = rhs - np.where(on, 2.0 * sm.dz, 0.0)[None, :] * sur["u"][rows, q_][:, None]
        # log10 a of each site's master species, read (as the exchanger's) from the species of that site
        # holding the most sites: the master itself unless the complexes crowd it out
        la_m = np.full((R, len(sm.sites)), np.nan)
        for j in range(len(sm.sites)):
            idx = np.flatnonzero(sm.site == j)
            if idx.size:
                ref = idx[np.argmax(n[:, idx] * sm.equiv[idx], axis=1)]
                la_m[:, j] = (log_act[np.arange(R), ref] - rhs[np.arange(R), ref]) / sm.equiv[ref]
        pred = rhs + sm.equiv * la_m[:, sm.site]  # log10 activity the law gives
        tiny = n < 1e-290
        res = np.where(tiny, np.where(pred - np.log10(sm.equiv / Ni) < -280.0, 0.0, np.inf),
                       np.abs(log_act - pred))
        # a site this row does not have (another row's, in a batch): its species must be absent
        res = np.where(Ni > 0, res, np.where(n == 0.0, 0.0, np.inf))
        sites_res = np.zeros((R, len(sm.sites)))
        for j in range(len(sm.sites)):
            idx = np.flatnonzero(sm.site == j)
            held_ = (n[:, idx] * sm.equiv[idx]).sum(axis=1)
            sites_res[:, j] = np.where(Ns[:, j] > 0, np.abs(held_ - Ns[:, j]) / np.where(Ns[:, j] > 0, Ns[:, j], 1.0),
                                       np.where(held_ == 0.0, 0.0, np.inf))
    names = list(sm.names)
    if sur["stray"]:
        res = np.concatenate([res, np.full((R, 1), np.inf)], axis=1)
        names = names + [f"{sur['stray'][0]} (not formed by these components)"]
    a, wa = _worst(res, names)
    b, wb = _worst(sites_res, sm.sites)
    return a, wa, b, wb


def certify_result(db: Database, r, charge: bool, equilibrium_phases: dict | None = None) -> Certificate:
    """Certificate of one ``SpeciationResult`` (``charge``: the pH came from electroneutrality)."""
    species = list(r.molality)
    keys = list(r.totals)
    m = np.array([[r.molality[s] for s in species]])
    lg = np.array([[r.log_gamma[s] for s in species]])
    tot = np.array([[float(r.totals[k]) for k in keys]])
    pn = list(equilibrium_phases or {})
    si_t = np.array([[_target(equilibrium_phases[p])[0] for p in pn]])
    amt = np.array([[_target(equilibrium_phases[p])[1] for p in pn]])
    nn = np.array([[r.phase_moles.get(p, 0.0) for p in pn]])
    b = certify_states(db, species, keys, m, lg, r.pH, r.pe, r.T, r.ionic_strength, r.water_activity, charge, tot,
                       phases=pn, si_target=si_t, amount=amt, n=nn)
    return b.row(0)


def _target(spec) -> tuple[float, float]:
    if isinstance(spec, (tuple, list)):
        s = tuple(spec) + (10.0,)
        return float(s[0]), float(s[1])
    return float(spec), 10.0


def measure_cost(database: str = "phreeqc.dat", n: int = 2000, seed: int = 0, repeat: int = 5) -> dict:
    """What share of an aqueous batch the certificate takes: for the lead to run on a quiet machine
    (nothing here is asserted or compared; timings on a shared machine mean little).

    ``n`` random waters (Na, K, Ca, Mg, Cl, S(6), C(4) at 1e-6..1 mol/kgw, 0-90 C, 30 % with the
    pH from electroneutrality) go through ``speciate_batch`` (which certifies its rows) once to
    load the compiled kernels, then ``repeat`` times; each time the certificate is also run alone on
    the returned batch. Returns the best of each: {"n", "batch_s" (with its certificate),
    "certificate_s", "share" = certificate_s / batch_s, "per_water_us"}.
    """
    import time
    import warnings

    from .database import DatabaseWarning, load_database
    from .speciation import speciate_batch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)
        db = load_database(database)
    rng = np.random.default_rng(seed)
    majors = ("Na", "K", "Ca", "Mg", "Cl", "S(6)", "C(4)")
    tot = {k: 10 ** rng.uniform(-6, 0, n) for k in majors}
    T = 273.15 + rng.uniform(0, 90, n)
    pH = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(2, 12, n))
    b = speciate_batch(db, tot, T, pH)
    keys = list(b.components)
    TOT = np.column_stack([tot[next(k for k in tot if _db_key(db, k) == c)] for c in keys])
    best_b, best_c = math.inf, math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        b = speciate_batch(db, tot, T, pH)
        t1 = time.perf_counter()
        certify_states(db, b.species, keys, b.molality, b.log_gamma, b.pH, 4.0, T, b.ionic_strength,
                       b.water_activity, np.isnan(pH), TOT, checked=b.status == 0)
        t2 = time.perf_counter()
        best_b, best_c = min(best_b, t1 - t0), min(best_c, t2 - t1)
    return {"n": n, "batch_s": best_b, "certificate_s": best_c, "share": best_c / best_b,
            "per_water_us": 1e6 * best_b / n}
