"""The aqueous system as arrays: the tableau the compiled model solves (``kernels.aqueous_eqs``).

Two kinds of tableau, as in PHREEQC:

- an **initial solution** (SOLUTION, ``speciate``): the components are the totals given, each an
  element ("Fe": all its valence states, linked by pe or by a redox couple) or a valence state
  ("Fe(3)": that state only); pe is fixed (or set by a phase) unless a redox couple replaces it;
- a **reaction step** (``react``): every element present is a component with all its valence
  states; the unknowns pH, pe and the mass of water are held by the conserved charge imbalance,
  electrons and water (PHREEQC conserves the charge imbalance, total H - 2 total O and total O; the
  electron and water rows used here are fixed linear combinations of those with the element totals,
  written with exact small coefficients per species so that no 111 mol of water H cancels).

``chem(db)`` derives, once per database, what every species holds: its element counts as PHREEQC
counts them in mass balances (``-mass_balance`` included), its formula H and O, its charge and
alkalinity, and from these the coefficients of the conserved quantities ("canonical" rows).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..kernels.codes import (
    ACT_LLNL,
    GAMMA_DAVIES,
    GAMMA_EX_DAVIES,
    GAMMA_EX_NONE,
    GAMMA_EX_WATEQ,
    GAMMA_LLNL,
    GAMMA_LLNL_CO2,
    GAMMA_MODEL_DH,
    GAMMA_NEUTRAL,
    GAMMA_WATEQ,
)
from . import activity_models as _act_models
from .database import Database, check_activity_model, check_species_activity, parse_formula

FIXED_SPECIES = ("H+", "H2O", "e-")
# [atm] the highest pressure of a water: PHREEQC's MAX_P_NONLLNL (global_structures.h), where it caps a gas's
# pressure; its water-density fit (calc_rho_0) is stated to 1000 atm and extrapolated above, as here
P_MAX = 1500.0


# ------------------------------------------------------------------ per-database chemistry
@dataclass
class Chem:
    """What the model needs of every species of a database, computed once (``chem(db)``).

    primary : element -> its primary master species ("C" -> "CO3-2").
    counts : species -> {element: atoms counted in mass balances} (PHREEQC's rules, -mass_balance).
    canon : species -> (H, electron, water) coefficients of the conserved rows (see module doc).
    alk : species -> alkalinity [eq/mol] (PHREEQC's calc_alk over the master species).
    gfw_water : [kg/mol] of H2O from the database's element weights (PHREEQC's gfw_water).
    """

    db: Database
    primary: dict[str, str]
    prim_props: dict[str, tuple[float, float, float, float]]  # element -> (z, h, o, atoms) of its primary master
    counts: dict[str, dict[str, float]] = field(default_factory=dict)
    canon: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    alk: dict[str, float] = field(default_factory=dict)
    gfw_water: float = 0.018016

    def formula_invariants(self, elements: dict[str, float]) -> tuple[dict[str, float], float, float, float]:
        """(element totals, H column, electrons, water) that adding a neutral formula's elements
        (REACTION, a phase dissolving) adds to a water: PHREEQC adds the elements, H to total H and
        O to total O; rewritten to the conserved rows of this module."""
        cnt = {e: n for e, n in elements.items() if e not in ("H", "O")}
        h, o = elements.get("H", 0.0), elements.get("O", 0.0)
        return cnt, *self._canonical(cnt, h, o, 0.0)

    def exchange_canon(self, es, cnt: dict[str, float]) -> tuple[float, float, float]:
        """(H column, electrons, water) of an exchange or surface species, ``cnt`` its component counts
        with its sites among them (each site counts as its master species: X-, charge -1; Hfo_wOH)."""
        props = dict(self.prim_props)
        for el, sm in list(self.db.exchange_masters.items()) + list(self.db.surface_masters.items()):
            f = parse_formula(sm.species)
            props[el] = (_charge_of(sm.species), f.get("H", 0.0), f.get("O", 0.0), 1.0)
        saved, self.prim_props = self.prim_props, props
        try:
            return self._canonical(cnt, es.elements.get("H", 0.0), es.elements.get("O", 0.0), es.charge)
        finally:
            self.prim_props = saved

    def _canonical(self, cnt: dict[str, float], h: float, o: float, z: float) -> tuple[float, float, float]:
        e = (h - 2.0 * o) - z
        w = o
        hh = h - 2.0 * o
        for el, n in cnt.items():
            zp, hp, op, ap = self.prim_props[el]
            e += (zp - hp + 2.0 * op) / ap * n
            w -= op / ap * n
            hh -= (hp - 2.0 * op) / ap * n
        return hh, e, w


def chem(db: Database) -> Chem:
    """The per-database chemistry (cached on the database object)."""
    c = db.__dict__.get("_model_chem")
    if c is None:
        c = _build_chem(db)
        db.__dict__["_model_chem"] = c
    return c


def _element(key: str) -> str:
    return key.split("(")[0]


def _charge_of(name: str) -> float:
    from .database import species_charge

    return species_charge(name)


def _sorbed_onto_basis(db: Database, table, all_masters, in_use, name: str, basis: set[str], expand, kind: str):
    """(coefficients over the basis and the sorbers' master species in use, log K coefficients, the reaction
    rewritten to master species) of the exchange or surface species ``name`` of ``table``; None where these
    components do not form it (another sorber's species, an aqueous reactant they lack). A reaction with
    electrons on a sorber in use is refused by name: PHREEQC would form it."""
    from .exchange import master_reaction

    stoich, lk = master_reaction(table, all_masters, name)
    lk = np.array(lk)
    if "e-" in stoich and any(o in in_use for o in stoich):
        raise InvalidInputError(f"{kind} species {name!r} ({db.path}:{table[name].line}) forms with electrons (a "
                                f"redox {kind} reaction): not modelled")
    acc: dict[str, float] = {}
    for other, coef in stoich.items():
        if other == name:
            continue
        cf = -coef
        if other in in_use or other in basis:
            acc[other] = acc.get(other, 0.0) + cf
            continue
        if other == "e-" or other not in db.species:
            return None
        sub = expand(other)
        if sub is None:
            return None
        for b, v in sub[0].items():
            acc[b] = acc.get(b, 0.0) + cf * v
        lk = lk + cf * sub[1]
    return acc, lk, stoich


def _exchange_rows(db: Database, exchangers, masters: list[str], basis: set[str], expand):
    """The exchange species of ``exchangers`` that these components form: [(name, species, coefficients
    over the basis, log K coefficients, (exchanger master, equivalents, charge and coefficient of the
    exchanging cation, gamma rule))], as PHREEQC writes them (the exchanger's own master species, X-, is
    a dummy: no row, as in prep.cpp). The exchanging cation of the Debye-Hueckel term: the last aqueous or
    H+ token, by name, of the reaction rewritten to master species (model.cpp calc_gammas on rxn_x); the
    cation as written for the SIT and Pitzer models (gammas_pz)."""
    ex_masters = {db.exchange_masters[e].species: e for e in exchangers}
    ex_all = {sm.species for sm in db.exchange_masters.values()}
    out = []
    for name, es in db.exchange_species.items():
        if name in ex_masters:
            continue
        r = _sorbed_onto_basis(db, db.exchange_species, ex_all, ex_masters, name, basis, expand, "exchange")
        if r is None:
            continue  # another exchanger's species, or one these components do not form
        acc, lk, stoich = r
        cation, n_aq_r = None, 0
        for other in stoich:  # the aqueous reactants as written (the activity models' cation)
            if other != name and other not in ex_masters and other != "H2O" and other in db.species:
                cation, n_aq_r = other, n_aq_r + 1
        # the cation whose charge and coefficient the Debye-Hueckel term takes, as PHREEQC's calc_gammas (case
        # 4) reads it: the last aqueous or H+ token of the reaction rewritten to master species, whose tokens
        # trxn_sort orders by name (AlOH+2 + 2X- = AlOHX2 is Al+3 + H2O - H+ + 2X-: H+, coefficient -1)
        toks = sorted(k for k, v in acc.items() if k not in ex_masters and k != "H2O" and not k.startswith("e-")
                      and abs(v) > 1e-12)
        zc, cf_c = (db.species[toks[-1]].charge, acc[toks[-1]]) if toks else (0.0, 0.0)
        sites = [m for m in acc if m in ex_masters]
        if len(sites) != 1 or acc[sites[0]] <= 0:
            continue
        if any(b not in basis and b not in ex_masters and not b.startswith("e-#") for b in acc):
            continue
        gam = es.gamma
        if gam is not None and len(gam) > 2 and gam[2]:
            raise InvalidInputError(f"exchange species {name!r} ({db.path}:{es.line}): -gamma with an active "
                                    "fraction a_f is not modelled")
        if es.davies or (gam is not None and gam[0] == 0.0 and gam[1] == 0.0):
            rule = GAMMA_EX_DAVIES
        elif gam is not None:
            rule = GAMMA_EX_WATEQ
        else:
            rule = GAMMA_EX_NONE
        coefs = {k: v for k, v in acc.items() if abs(v) > 1e-12}
        out.append((name, es, coefs, lk, (sites[0], acc[sites[0]], zc, cf_c, rule, cation, n_aq_r)))
    return out


def _surface_rows(db: Database, surfaces, basis: set[str], expand, psi=()):
    """The surface species of the sites ``surfaces`` that these components form: [(name, species,
    coefficients over the basis, log K coefficients, (site master, equivalents))]. The master species
    of a site (``Hfo_wOH``) is a species of its own (unlike an exchanger's X-): its row is itself."""
    s_masters = {db.surface_masters[e].species: e for e in surfaces}
    all_masters = {sm.species for sm in db.surface_masters.values()}
    out = []
    for name, ss in db.surface_species.items():
        if name in all_masters:
            if name in s_masters:
                out.append((name, ss, {name: 1.0}, np.array(ss.reaction.log_k_coeffs()), (name, 1.0)))
            continue
        r = _sorbed_onto_basis(db, db.surface_species, all_masters, s_masters, name, basis, expand, "surface")
        if r is None:
            continue  # another site's species, or one these components do not form
        acc, lk, _ = r
        sites = [m for m in acc if m in s_masters]
        if len(sites) != 1 or acc[sites[0]] <= 0:
            continue
        site = sites[0]
        if any(b not in basis and b not in s_masters and not b.startswith("e-#") for b in acc):
            continue
        if ss.cd_music is not None:
            raise InvalidInputError(f"surface species {name!r} ({db.path}:{ss.line}): -cd_music is not modelled")
        coefs = {k: v for k, v in acc.items() if abs(v) > 1e-12}
        sname = s_masters[site].split("_")[0]
        if sname in psi:  # the charge its aqueous reactants bring to the surface, as PHREEQC's sum_z
            dz = ss.charge - acc[site] * db.surface_species[site].charge
            if dz != 0.0:
                coefs[f"{sname}_psi"] = -2.0 * dz
        out.append((name, ss, coefs, lk, (site, acc[site])))
    return out


def _build_chem(db: Database) -> Chem:
    primary: dict[str, str] = {}
    props: dict[str, tuple[float, float, float, float]] = {}
    for k, m in db.masters.items():
        if "(" in k or m.species in FIXED_SPECIES or k in ("Alkalinity", "E") or k in ("H", "O"):
            continue
        primary[k] = m.species
        sp = db.species.get(m.species)
        f = parse_formula(m.species) if sp is None else sp.elements
        props[k] = (sp.charge if sp else 0.0, f.get("H", 0.0), f.get("O", 0.0), f.get(k, 0.0) or 1.0)
    out = Chem(db, primary, props)
    try:
        w = db.masters["H"].gfw * 2 + db.masters["O"].gfw
        out.gfw_water = 1e-3 * w
    except (KeyError, TypeError):
        pass
    terminal = {m.species for m in db.masters.values()}
    memo: dict[str, dict[str, float] | None] = {}

    def to_masters(name: str, depth: int = 0) -> dict[str, float] | None:
        """The species' reaction rewritten to master species (primary and secondary), H+, H2O, e-."""
        if name in memo:
            return memo[name]
        sp = db.species.get(name)
        if sp is None or depth > 50:
            return None
        if name in terminal or not sp.reaction.stoich:
            memo[name] = {name: 1.0}
            return memo[name]
        memo[name] = None
        acc: dict[str, float] = {}
        for other, coef in sp.reaction.stoich.items():
            if other == name:
                continue
            sub = {other: 1.0} if other in FIXED_SPECIES else to_masters(other, depth + 1)
            if sub is None:
                return None
            for k2, v2 in sub.items():
                acc[k2] = acc.get(k2, 0.0) - coef * v2
        memo[name] = {k2: v2 for k2, v2 in acc.items() if abs(v2) > 1e-12}
        return memo[name]

    master_el: dict[str, tuple[str, float]] = {}  # master species -> (element, atoms)
    master_alk: dict[str, float] = {}
    for k, m in db.masters.items():
        if k == "Alkalinity":
            continue
        el = _element(k)
        if m.species not in master_el and m.species not in ("H2O", "e-"):
            master_el[m.species] = (el, parse_formula(m.species).get(el, 0.0) or 1.0)
        if "(" in k or m.species not in master_alk:
            master_alk.setdefault(m.species, m.alk)
    for name, sp in db.species.items():
        if name in ("H2O", "e-"):
            continue
        ex = to_masters(name)
        if ex is None:
            continue
        cnt: dict[str, float] = {}
        if sp.mass_balance:
            for key, n in sp.mass_balance.items():
                el = _element(key)
                if el not in ("H", "O"):
                    cnt[el] = cnt.get(el, 0.0) + n
        else:
            for ms, cf in ex.items():
                if ms in master_el and master_el[ms][0] not in ("H", "O", "E"):
                    el, at = master_el[ms]
                    cnt[el] = cnt.get(el, 0.0) + cf * at
        cnt = {e: n for e, n in cnt.items() if abs(n) > 1e-12}
        out.counts[name] = cnt
        out.alk[name] = sum(cf * master_alk.get(ms, 0.0) for ms, cf in ex.items())
        if any(el not in props for el in cnt):
            continue  # an element without a primary master row: the species cannot be in a water
        f = sp.elements
        out.canon[name] = out._canonical(cnt, f.get("H", 0.0), f.get("O", 0.0), sp.charge)
    return out


# ------------------------------------------------------------------ the tableau
@dataclass
class Tableau:
    """One set of species, components and reactions, as the compiled model reads it.

    components : keys (e.g. "C(+4)", "Na", "Alkalinity"; element names in a reaction step);
    masters : their master species; ne : electron columns (0: the pe; then redox couples);
    species : names; nu (ns, nb) : formation from the basis [masters..., H+, e- columns, H2O];
    lkc (ns, 6) : log K(T) coefficients of that formation; bal (ns, nbal): balance columns
    [components..., H, electron columns, water, charge, alkalinity]; reactions : the phases whose
    species are all present (saturation indices), then the redox couples; eq_phases : the phases
    held at a saturation index, as indices into ``reactions``; ph_rel (np, nbal) : what one mole
    of each dissolving releases into the balances.
    """

    components: list[str]
    masters: list[str]
    couples: list[str]
    species: list[str]
    nu: np.ndarray
    lkc: np.ndarray
    bal: np.ndarray
    wcoef: np.ndarray
    z: np.ndarray
    gk: np.ndarray
    ga: np.ndarray
    gb: np.ndarray
    vm: np.ndarray
    reactions: list[str]
    rx: np.ndarray  # (nrx, ns + 1 + ne): species, H2O, electron columns
    rx_lkc: np.ndarray
    rx_vm0: np.ndarray
    rx_pflag: np.ndarray
    eq_phases: list[str] = field(default_factory=list)
    ph_rx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ph_rel: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    mode: str = "initial"  # "initial" or "reaction"
    atoms: np.ndarray = field(default_factory=lambda: np.zeros(0))  # element atoms per component master
    # exchangers (EXCHANGE): their components ("X"), and per species the component of its exchanger
    # (-1: aqueous) and [log10 equivalents, charge and coefficient of the exchanging cation]; the
    # exchange species follow the aqueous ones (``n_aq`` of them)
    exchangers: list[str] = field(default_factory=list)
    ex_k: np.ndarray | None = None
    ex_p: np.ndarray | None = None
    n_aq: int = -1
    # surfaces (SURFACE): their site components ("Hfo_w"); their species follow the exchange species
    # (from index ``n_ex``) and are held by the same arrays (ex_k: the site's component; ex_p:
    # [log10 equivalents, 0, 0]: the activity is equivalents x moles / sites, PHREEQC's)
    surfaces: list[str] = field(default_factory=list)
    n_ex: int = -1
    # surfaces with a diffuse double layer ("Hfo"): each a component "Hfo_psi" whose unknown is
    # F psi / (2 R T ln10) (PHREEQC's la of the psi master), held by the charge-potential row (AQ_PSI)
    psi: list[str] = field(default_factory=list)
    # GAS_PHASE components among eq_phases: per phase 0, or codes.GAS_FIXED_V / GAS_FIXED_P
    gas_kind: np.ndarray | None = None
    # with a SIT or Pitzer database: per species the index of the cation whose model log10 gamma an exchange
    # species takes (-1: none)
    ex_cat: np.ndarray | None = None
    # the database's activity model (SIT, Pitzer) as arrays (``activity_models.pack``; no model: empty)
    am: tuple | None = None
    _tab: tuple | None = None

    @property
    def nc(self) -> int:
        return len(self.components)

    @property
    def ne(self) -> int:
        return 1 + len(self.couples)

    @property
    def nb(self) -> int:
        return self.nc + self.ne + 2

    @property
    def nv(self) -> int:
        return self.nb + 2 + len(self.eq_phases)

    @property
    def ih(self) -> int:
        return self.nc

    @property
    def iw(self) -> int:
        return self.nc + self.ne + 1

    @property
    def ilw(self) -> int:
        return self.nb

    @property
    def iI(self) -> int:
        return self.nb + 1

    @property
    def nbal(self) -> int:
        return self.nb + 2

    @property
    def b_charge(self) -> int:
        return self.nb

    @property
    def b_alk(self) -> int:
        return self.nb + 1

    @property
    def b_water(self) -> int:
        return self.iw

    @property
    def b_e(self) -> int:
        return self.nc + 1

    @property
    def log_k(self) -> np.ndarray:  # log K at the tableau's temperature (compatibility: build_system)
        return self._logk_T

    def arrays(self) -> tuple:
        """The tuple of arrays the kernels take (built once)."""
        if self._tab is None:
            self._tab = _pack(self)
        return self._tab

    def phase_index(self, name: str) -> int:
        return self.reactions.index(name)


def _csr(M: np.ndarray):
    ptr = np.zeros(M.shape[0] + 1, dtype=np.int64)
    cols, vals = [], []
    for i in range(M.shape[0]):
        nz = np.flatnonzero(M[i])
        cols.extend(nz.tolist())
        vals.extend(M[i, nz].tolist())
        ptr[i + 1] = len(cols)
    return ptr, np.array(cols, dtype=np.int64), np.array(vals, dtype=np.float64)


def _pack(t: Tableau) -> tuple:
    ns, nrx, npp = len(t.species), len(t.reactions), len(t.eq_phases)
    ex_k = np.full(ns, -1, dtype=np.int64) if t.ex_k is None else t.ex_k
    ex_p = np.zeros((ns, 3)) if t.ex_p is None else t.ex_p
    has_gas = int(t.gas_kind is not None and bool(np.any(t.gas_kind != 0)))  # a GAS_PHASE: the water's pressure
    ints = np.array([t.nc, t.ne, ns, t.nbal, nrx, npp, int((ex_k >= 0).sum()), len(t.psi), has_gas], dtype=np.int64)
    sp_ptr, sp_col, sp_val = _csr(t.nu)
    bal_ptr, bal_col, bal_val = _csr(t.bal)
    rx_ptr, rx_col, rx_val = _csr(t.rx)
    bsp = np.full(t.nb, -1, dtype=np.int64)
    col = {s: i for i, s in enumerate(t.species)}
    for k, ms in enumerate(t.masters):
        bsp[k] = col.get(ms, -1)
    bsp[t.ih] = col.get("H+", -1)
    bsp[t.iw] = -2
    c = np.ascontiguousarray
    return (ints, sp_ptr, sp_col, sp_val, c(t.lkc), c(t.vm), c(t.z), c(t.gk), c(t.ga), c(t.gb),
            bal_ptr, bal_col, bal_val, c(t.wcoef), rx_ptr, rx_col, rx_val, c(t.rx_lkc), c(t.rx_vm0),
            c(t.rx_pflag), c(t.ph_rx), c(t.ph_rel.reshape(npp, t.nbal)), bsp, c(ex_k), c(ex_p)) \
        + (t.am if t.am is not None else _act_models.empty()) \
        + (np.zeros(npp, dtype=np.int64) if t.gas_kind is None else c(t.gas_kind, dtype=np.int64),
           np.full(ns, -1, dtype=np.int64) if t.ex_cat is None else c(t.ex_cat, dtype=np.int64))
    # tab[25:35]: the activity model, flat (a prange cannot take nested tuples); tab[35]: the gas kinds;
    # tab[36]: the cation of each exchange species whose model gamma it takes (SIT, Pitzer; -1: none)


def total_key(db: Database, key: str) -> str:
    """A user's total key ("C(4)", "Fe(+2)", "Na", "Alkalinity") as SOLUTION_MASTER_SPECIES spells it."""
    if key in db.masters:
        return key
    if key.strip().lower().startswith("alk") and "Alkalinity" in db.masters:
        return "Alkalinity"
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


def atoms_in_master(db: Database, key: str) -> float:
    """Atoms of the key's element in its master species (2 for O(0), N(0), H(0), Hg(1) of minteq)."""
    if key == "Alkalinity":
        return 1.0
    el = key.split("(")[0]
    n = parse_formula(db.masters[key].species).get(el, 0.0)
    return n if n > 0 else 1.0


def _primary_of(db: Database, name: str, seen: frozenset = frozenset()) -> set[str]:
    """Primary master species a species is built from (without H+, H2O, e-)."""
    sp = db.species.get(name)
    if sp is None:
        raise InvalidInputError(f"species {name!r} is not in {db.path}")
    if not sp.reaction.stoich:
        return set() if name in FIXED_SPECIES else {name}
    out: set[str] = set()
    for other in sp.reaction.stoich:
        if other != name and other not in seen and other not in FIXED_SPECIES:
            out |= _primary_of(db, other, seen | {name})
    return out


def _key_for_master(db: Database, species: str) -> str:
    """The valence-state key of a master species if the database has one ("C(+4)" for CO3-2)."""
    keys = [k for k, m in db.masters.items() if m.species == species]
    for k in keys:
        if "(" in k:
            return k
    if not keys:
        raise InvalidInputError(f"{species!r} is no master species in {db.path}")
    return keys[0]


def build(db: Database, keys: list[str], *, mode: str = "initial", phases: tuple[str, ...] = (),
          couples: dict[str, str] | None = None, default_couple: str | None = None, T: float = 298.15,
          extra_reactions: tuple[str, ...] = (), add_formulas: dict[str, str] | None = None,
          exchangers: tuple[str, ...] = (), surfaces: tuple[str, ...] = (), psi: tuple[str, ...] = (),
          gas: dict[str, int] | None = None) -> Tableau:
    """The tableau of ``keys`` (SOLUTION_MASTER_SPECIES spellings, already checked).

    mode "initial": a SOLUTION's components; "reaction": every key an element with all its valence
    states. phases : equilibrium phases (their components come in with a total of zero if not
    given). couples : element -> "Fe(2)/Fe(3)" or "pe" (per-element redox of an initial solution);
    default_couple : the solution's ``redox`` couple (None: the pe). extra_reactions : phases whose
    saturation index fixes a total, pH or pe (must be formed by the species present).
    add_formulas : phase -> the formula that dissolves in its place (reaction steps).
    exchangers : exchange sites of EXCHANGE_MASTER_SPECIES ("X"): each a component (its total: the
    moles of sites), with the exchange species the database forms from it and the other components.
    surfaces : site types of SURFACE_MASTER_SPECIES ("Hfo_w"), each a component (its total: the moles
    of sites; its master species, "Hfo_wOH", a species), with the surface species formed (-no_edl:
    no electrostatic term; their charge in the charge balance, not in the ionic strength).
    gas : {phase of ``phases``: codes.GAS_FIXED_V or GAS_FIXED_P}: that phase's slot is a component
    of a GAS_PHASE (its moles in the gas, see Tableau.gas_kind), not an equilibrium phase.
    psi : surfaces ("Hfo") with a diffuse double layer: each a component "Hfo_psi" (see Tableau.psi);
    a species of the surface carries exp(-F psi / RT) per charge it takes from the water (PHREEQC's
    add_potential_factor: -2 x the charge of its aqueous reactants on the psi unknown).
    """
    check_activity_model(db)  # a Pitzer / SIT / LLNL database is refused, not solved with the wrong model
    c = chem(db)
    comps: list[str] = []
    masters: list[str] = []
    whole: set[str] = set()
    for k in keys:
        ms = db.masters[k].species if k != "Alkalinity" else db.masters["Alkalinity"].species
        if ms in masters:
            other = comps[masters.index(ms)]
            raise InvalidInputError(f"{k!r} and {other!r} both give the total of master species {ms}")
        comps.append(k)
        masters.append(ms)
        if "(" not in k:
            whole.add(ms)
    for pname in list(phases) + list(extra_reactions):
        if pname not in db.phases:
            raise InvalidInputError(f"phase {pname!r} is not in {db.path}")
        for sname in db.phases[pname].products:
            if sname in FIXED_SPECIES:
                continue
            for ms in sorted(_primary_of(db, sname)):
                if ms not in masters:
                    comps.append(_key_for_master(db, ms) if mode == "initial" else _element(_key_for_master(db, ms)))
                    masters.append(ms)
                    if mode == "reaction":
                        whole.add(ms)
    for ex in exchangers:
        sm = db.exchange_masters.get(ex)
        if sm is None:
            raise InvalidInputError(f"exchanger {ex!r} is not in EXCHANGE_MASTER_SPECIES of {db.path}")
        comps.append(ex)
        masters.append(sm.species)
    for su in surfaces:
        sm = db.surface_masters.get(su)
        if sm is None:
            raise InvalidInputError(f"surface site {su!r} is not in SURFACE_MASTER_SPECIES of {db.path}")
        comps.append(su)
        masters.append(sm.species)
    for sname in psi:
        comps.append(f"{sname}_psi")
        masters.append(f"{sname}_psi")
    couples = dict(couples or {})
    couple_list: list[str] = []
    for cp in list(couples.values()) + ([default_couple] if default_couple else []):
        if cp and cp != "pe" and cp not in couple_list:
            couple_list.append(cp)
    ne = 1 + len(couple_list)

    def ecol(el: str | None) -> str:
        if mode == "initial":
            cp = couples.get(el) if el is not None else None
            if cp is None and el is not None:
                cp = default_couple
            if cp and cp != "pe":
                return f"e-#{1 + couple_list.index(cp)}"
        return "e-#0"

    basis_names = masters + ["H+"] + [f"e-#{i}" for i in range(ne)] + ["H2O"]
    basis = set(masters) | {"H+", "H2O"}
    whole_el = {_element(k) for k in comps if "(" not in k}
    state_master = {m.species: _element(k) for k, m in db.masters.items()
                    if "(" in k and m.species not in FIXED_SPECIES}
    memo: dict[str, tuple[dict[str, float], np.ndarray] | None] = {}

    def expand(name: str, depth: int = 0):
        if name in basis:
            return {name: 1.0}, np.zeros(6)
        if name in memo:
            return memo[name]
        sp = db.species.get(name)
        memo[name] = None
        if sp is None or depth > 50 or not sp.reaction.stoich:
            return None
        el = state_master.get(name)
        if el is not None and el not in whole_el and el not in ("H", "O"):
            return None  # a valence state that is not in this water
        acc: dict[str, float] = {}
        lk = np.array(sp.reaction.log_k_coeffs())
        for other, coef in sp.reaction.stoich.items():
            if other == name:
                continue
            cf = -coef
            if other == "e-":
                col = ecol(el)
                acc[col] = acc.get(col, 0.0) + cf
                continue
            sub = expand(other, depth + 1)
            if sub is None:
                return None
            for b, v in sub[0].items():
                acc[b] = acc.get(b, 0.0) + cf * v
            lk = lk + cf * sub[1]
        res = ({k2: v2 for k2, v2 in acc.items() if abs(v2) > 1e-12}, lk)
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
        used = [b for b in coefs if b in masters]
        if name not in state_master and "e-" in sp.reaction.stoich and not all(b in whole for b in used):
            continue
        rows.append((name, sp, coefs, lk))
    n_aq = len(rows)
    ex_rows = _exchange_rows(db, exchangers, masters, basis, expand) if exchangers else []
    rows.extend((name, es, coefs, lk) for name, es, coefs, lk, _ in ex_rows)
    n_ex = len(rows)
    su_rows = _surface_rows(db, surfaces, basis, expand, psi) if surfaces else []
    rows.extend((name, ss, coefs, lk) for name, ss, coefs, lk, _ in su_rows)
    ns, nc = len(rows), len(comps)
    nb = nc + ne + 2
    bidx = {b: j for j, b in enumerate(basis_names)}
    nu = np.zeros((ns, nb))
    lkc = np.zeros((ns, 6))
    z, ga, gb = np.zeros(ns), np.zeros(ns), np.zeros(ns)
    gk = np.zeros(ns, dtype=np.int64)
    vm = np.zeros((ns, 10))
    ex_k = np.full(ns, -1, dtype=np.int64)
    ex_p = np.zeros((ns, 3))
    for i, (_name, sp, coefs, lk) in enumerate(rows):
        for b, v in coefs.items():
            nu[i, bidx[b]] = v
        lkc[i] = lk
        z[i] = sp.charge if i < n_ex else 0.0
        if i >= n_ex:  # a surface species: no activity coefficient, not in the ionic strength (z = 0 here;
            sm_, equiv = su_rows[i - n_ex][4]  # its charge is in the balance column, below)
            ex_k[i] = masters.index(sm_)
            ex_p[i] = (math.log10(equiv), 0.0, 0.0)
            gk[i] = GAMMA_EX_NONE
            continue
        if i >= n_aq:
            exm, equiv, zc, cf, gkind = ex_rows[i - n_aq][4][:5]
            ex_k[i] = masters.index(exm)
            ex_p[i] = (math.log10(equiv), zc, cf)
            gk[i] = gkind
            if sp.gamma is not None:
                ga[i], gb[i] = sp.gamma[0], sp.gamma[1]
            continue
        if sp.gamma is not None:
            gk[i], ga[i], gb[i] = GAMMA_WATEQ, sp.gamma[0], sp.gamma[1]
        else:
            gk[i] = GAMMA_DAVIES if sp.charge != 0 else GAMMA_NEUTRAL
        if sp.vm is not None:
            vm[i] = sp.vm
    species = [r[0] for r in rows]
    check_species_activity(db, species[:n_aq])
    act_code = _act_models.model_code(db)
    ex_cat = np.full(ns, -1, dtype=np.int64)
    if act_code:
        if act_code == ACT_LLNL and n_aq < ns:
            raise InvalidInputError(f"{db.path}: exchangers and surfaces with the llnl activity model are not "
                                    "modelled yet")
        # SIT, Pitzer: an exchange species' log10 gamma is log10(equivalents / sites) and its cation's log10
        # gamma of the model times the cation's coefficient (PHREEQC's gammas_pz, -pitzer_exchange_gammas
        # true), held between Newton solves as the aqueous species' (kernels.aqueous_solve.solve_row_model);
        # a surface species' is log10(equivalents / sites), with or without a model (gammas_pz case 6)
        masters_sp = {m.species for m in db.masters.values()}
        for i in range(n_aq, n_ex):
            name, es = rows[i][0], rows[i][1]
            cation, n_aq_r = ex_rows[i - n_aq][4][5:]
            if n_aq_r != 1 or cation not in masters_sp or cation not in species[:n_aq]:
                raise InvalidInputError(f"exchange species {name!r} ({db.path}:{es.line}): with the "
                                        f"{db.activity_model} activity model PHREEQC takes the activity coefficients "
                                        "of the master species its reaction is written in; only one cation that is "
                                        "itself a master species is modelled")
            ex_cat[i] = species.index(cation)
            gk[i] = GAMMA_EX_NONE
        if act_code == ACT_LLNL:  # llnl.dat: B-dot by -llnl_gamma, CO2's polynomial (kernels.aqueous_activity)
            for i, s in enumerate(species[:n_aq]):
                sp = db.species[s]
                if sp.co2_llnl_gamma:
                    gk[i] = GAMMA_LLNL_CO2
                elif sp.llnl_gamma is not None:
                    gk[i], ga[i] = GAMMA_LLNL, sp.llnl_gamma
                elif sp.charge != 0:  # PHREEQC would take Davies with an A it never computes for an LLNL database
                    raise InvalidInputError(f"{Path(db.path).name}:{sp.line}: species {s!r} has no -llnl_gamma "
                                            "(PHREEQC's activity coefficient for it is undefined with "
                                            "LLNL_AQUEOUS_MODEL_PARAMETERS)")
        else:  # SIT, Pitzer: the Debye-Hueckel part in Newton, the rest held (kernels.aqueous_activity)
            gk[:n_aq] = GAMMA_MODEL_DH
    psi_keys = {f"{sname}_psi" for sname in psi}
    for j, _ms in enumerate(masters):
        if comps[j] != "Alkalinity" and comps[j] not in psi_keys and not np.any(nu[:, j]):
            raise InvalidInputError(f"no aqueous species of {comps[j]} in {db.path}")
    atoms = np.array([1.0 if k in exchangers or k in surfaces or k in psi_keys else atoms_in_master(db, k)
                      for k in comps])
    # balance columns
    nbal = nb + 2
    bal = np.zeros((ns, nbal))
    sites = {j for j, k in enumerate(comps[:nc]) if k in exchangers or k in surfaces or k in psi_keys}
    # (an aqueous species holds no sites: their columns stay as ``nu`` has them, zero, for wateq4f's S4-2 too)
    bal[:n_aq, :nc] = _mass_balance_rows(db, species[:n_aq], comps[:nc], nu[:n_aq, :nc], keep=sites) * atoms
    bal[n_aq:n_ex, :nc] = _mass_balance_rows(db, species[n_aq:n_ex], comps[:nc], nu[n_aq:n_ex, :nc],
                                             db.exchange_species, sites) * atoms
    bal[n_ex:, :nc] = _mass_balance_rows(db, species[n_ex:], comps[:nc], nu[n_ex:, :nc], db.surface_species,
                                         sites) * atoms
    site_of_master = {db.surface_masters[e].species: e for e in surfaces}
    for sname in psi:  # a potential's column: the charge of its surface's species (the AQ_PSI row)
        j = comps.index(f"{sname}_psi")
        bal[:, j] = 0.0
        for i, r in enumerate(su_rows):
            if site_of_master[r[4][0]].split("_")[0] == sname:  # the surface of its site ("Hfo_w" -> "Hfo")
                bal[n_ex + i, j] = r[1].charge
    if "Alkalinity" in comps:
        bal[:, comps.index("Alkalinity")] = [c.alk.get(s, 0.0) for s in species]
    for i, s in enumerate(species):
        hh, e, w = c.canon.get(s, (0.0, 0.0, 0.0)) if i < n_aq else \
            c.exchange_canon(db.exchange_species[s] if i < n_ex else db.surface_species[s],
                             {k: bal[i, j] for j, k in enumerate(comps[:nc]) if bal[i, j] and k not in psi_keys})
        bal[i, nc] = hh
        if mode == "reaction":
            bal[i, nc + 1] = e
        bal[i, nc + ne + 1] = w
    bal[:, nb] = z
    if su_rows:  # the surface species' charge is the cell's (PHREEQC's charge balance), not the water's I
        bal[n_ex:, nb] = [r[1].charge for r in su_rows]
    bal[:, nb + 1] = [c.alk.get(s, 0.0) for s in species]
    if act_code and db.pitzer is not None and not db.pitzer.redox and mode == "reaction" and np.any(bal[:, nc + 1]):
        # PHREEQC drops the electron balance of a step on a Pitzer database without -redox (model.cpp, pitzer_pe):
        # its pe stays where the solution had it; chemsolve conserves electrons. Not the same answer: refused
        raise InvalidInputError(f"{db.path}: a reaction step with redox species on a Pitzer database without "
                                "-redox (PHREEQC then holds the pe fixed) is not modelled yet")
    wcoef = np.zeros(nbal)
    wcoef[nc + ne + 1] = 1.0 / c.gfw_water
    # reactions: every phase whose species are all present, then the redox couples
    present = set(species) | {"H2O"}
    rnames, rrows, rlkc, rvm0, rpf = [], [], [], [], []
    col = {s: i for i, s in enumerate(species)}
    for pname, ph in db.phases.items():
        rx = ph.products
        if not rx or not all(k in present or k == "e-" for k in rx):
            continue
        row = np.zeros(ns + 1 + ne)
        for s, cf in rx.items():
            if s == "H2O":
                row[ns] += cf
            elif s == "e-":  # PHREEQC rewrites a phase's e- with the solution's default redox
                row[ns + 1 + (1 + couple_list.index(default_couple) if mode == "initial" and default_couple
                              else 0)] += cf
            else:
                row[col[s]] += cf
        rnames.append(pname)
        rrows.append(row)
        rlkc.append(ph.reaction.log_k_coeffs())
        rvm0.append(ph.vm0)
        rpf.append(1)
    for cp in couple_list:
        row, lk = _couple_row(db, cp, col, ns, ne, 1 + couple_list.index(cp))
        rnames.append(f"couple {cp}")
        rrows.append(row)
        rlkc.append(lk)
        rvm0.append(0.0)
        # the couple's log K carries its own pressure term (dV over its species and H2O): PHREEQC
        # substitutes the couple for e- in each reaction it rewrites and takes dV over the result
        # (prep.cpp k_temp / calc_delta_v), the same as this term added to that reaction's own
        rpf.append(1)
    nrx = len(rnames)
    for p in list(phases) + list(extra_reactions):
        if p not in rnames:
            raise InvalidInputError(f"phase {p!r} needs species that are not in this system")
    ph_rx = np.array([rnames.index(p) for p in phases], dtype=np.int64)
    ph_rel = np.zeros((len(phases), nbal))
    for q, p in enumerate(phases):
        ph_rel[q] = _phase_release(db, p, col, bal, ns, nc + ne + 1, nc + 1, nb,
                                   (add_formulas or {}).get(p), c, comps)
    t = Tableau(comps, masters, couple_list, species, nu, lkc, bal, wcoef, z, gk, ga, gb, vm, rnames,
                np.array(rrows).reshape(nrx, ns + 1 + ne), np.array(rlkc).reshape(nrx, 6),
                np.array(rvm0, dtype=float), np.array(rpf, dtype=np.int64), list(phases), ph_rx, ph_rel, mode, atoms,
                list(exchangers), ex_k, ex_p, n_aq, list(surfaces), n_ex, list(psi))
    from .database import log_k_basis

    if gas:
        t.gas_kind = np.array([int(gas.get(p, 0)) for p in phases], dtype=np.int64)
    t._logk_T = lkc @ log_k_basis(T)  # type: ignore[attr-defined]
    t.am = _act_models.pack(db, species[:n_aq])
    t.ex_cat = ex_cat
    return t


def _couple_row(db, cp, col, ns, ne, ecolumn):
    """The half reaction of a redox couple "A(x)/A(y)" between its two master species, as a row
    over [species, H2O, electron columns] with its log K coefficients (SI = 0 defines the couple's
    electron activity)."""
    try:
        k1, k2 = (x.strip() for x in cp.split("/"))
    except ValueError:
        raise InvalidInputError(f"redox couple {cp!r}: expected 'El(v1)/El(v2)'") from None
    names = []
    for k in (k1, k2):
        key = total_key(db, k)
        if "(" not in key:
            raise InvalidInputError(f"redox couple {cp!r}: {k!r} is not a valence state")
        names.append(db.masters[key].species)
    if _element(total_key(db, k1)) != _element(total_key(db, k2)):
        raise InvalidInputError(f"redox couple {cp!r} must join two valence states of one element")
    row = np.zeros(ns + 1 + ne)
    for sign, nm in ((1.0, names[0]), (-1.0, names[1])):
        if nm == "H2O":
            row[ns] += sign
            continue
        if nm not in col:
            raise InvalidInputError(f"redox couple {cp!r}: {nm} is not in this solution (give both valence states)")
        row[col[nm]] += sign
    # the two masters rewritten to the primary basis differ by H+, H2O and electrons
    diff = _canonical_difference(db, names[0], names[1])
    lk = diff[1]
    row[col["H+"]] -= diff[0].get("H+", 0.0)
    row[ns] -= diff[0].get("H2O", 0.0)
    row[ns + 1 + ecolumn] -= diff[0].get("e-", 0.0)
    return row, lk


def _canonical_difference(db, a: str, b: str):
    """(coefficients over H+, H2O, e-; log K coefficients) of log a(a) - log a(b) in the primary
    basis: a and b are two valence-state masters of one element."""
    def canon(name, depth=0):
        if name in FIXED_SPECIES:
            return {name: 1.0}, np.zeros(6)
        sp = db.species[name]
        if not sp.reaction.stoich or depth > 50:
            return {name: 1.0}, np.zeros(6)
        acc: dict[str, float] = {}
        lk = np.array(sp.reaction.log_k_coeffs())
        for other, coef in sp.reaction.stoich.items():
            if other == name:
                continue
            sub = canon(other, depth + 1)
            for k, v in sub[0].items():
                acc[k] = acc.get(k, 0.0) - coef * v
            lk = lk - coef * sub[1]
        return acc, lk

    ca, la = canon(a)
    cb, lb = canon(b)
    d = {k: ca.get(k, 0.0) - cb.get(k, 0.0) for k in set(ca) | set(cb)}
    return {k: v for k, v in d.items() if abs(v) > 1e-12}, la - lb


def _phase_release(db, pname: str, col, bal, ns_cols: int, ib_water: int, ib_e: int, ib_charge: int,
                   add_formula: str | None = None, c: Chem | None = None, comps: list[str] | None = None) -> np.ndarray:
    """What one mole of the phase dissolving adds to each balance column: the balance rows of the
    species it releases (H+ among them), plus its H2O and electrons (a formula given instead,
    PHREEQC's ``Gibbsite 0 KAlSi3O8 10``, adds that formula's elements; reaction steps only)."""
    out = np.zeros(bal.shape[1])
    if add_formula is not None:
        cnt, hh, e, w = c.formula_invariants(parse_formula(add_formula))
        for el, n in cnt.items():
            if el not in comps:
                raise InvalidInputError(f"{add_formula!r} (the reaction of equilibrium phase {pname!r}) holds "
                                        f"{el}, which this system does not have")
            out[comps.index(el)] += n
        out[ib_e - 1] += hh
        out[ib_e] += e
        out[ib_water] += w
        return out
    for s, cf in db.phases[pname].products.items():
        if s == "H2O":
            out[ib_water] += cf
        elif s == "e-":  # electrons carry their charge too: a phase's release is neutral
            out[ib_e] += cf
            out[ib_charge] -= cf
        else:
            out += cf * bal[col[s]]
    return out


def _valence_of(key: str) -> tuple[str, float | None]:
    m = re.fullmatch(r"([A-Z][a-z_]*)(?:\(([+-]?\d+(?:\.\d+)?)\))?", key)
    if not m:
        return key, None
    return m.group(1), (float(m.group(2)) if m.group(2) is not None else None)


def _mass_balance_rows(db: Database, species: list[str], comps: list[str], nu: np.ndarray, lookup=None,
                       keep=()) -> np.ndarray:
    """Mass-balance coefficients in master-species units: ``nu`` (the formation reaction rewritten
    to the components), except for species with PHREEQC's -mass_balance, which count what it says
    (wateq4f.dat's S4-2, formed from one HS-, counts four S(-2); ex19's LangmuirCd+2, CdCl2).
    lookup : {name: species} (default the aqueous species); keep : columns left as ``nu`` has them (an
    exchange or surface species' sites: they count by its reaction)."""
    lookup = db.species if lookup is None else lookup
    special = [i for i, sname in enumerate(species) if lookup[sname].mass_balance]
    if not special:
        return nu.copy()
    out = nu.copy()
    comp_ev = [_valence_of(k) for k in comps]
    atoms = [atoms_in_master(db, k) if j not in keep else 1.0 for j, k in enumerate(comps)]
    for i in special:
        out[i] = [nu[i, j] if j in keep else 0.0 for j in range(len(comps))]
        for key, count in lookup[species[i]].mass_balance.items():
            el, val = _valence_of(key)
            if el in ("H", "O"):
                continue
            if val is None and el in db.masters:
                prim = db.masters[el].species
                states = [_valence_of(k)[1] for k, m in db.masters.items() if "(" in k and k.split("(")[0] == el
                          and m.species == prim]
                val = states[0] if states else None
            for j, (cel, cval) in enumerate(comp_ev):
                if j not in keep and cel == el and (cval is None or cval == val):
                    out[i, j] += count / atoms[j]
    return out


def check_total(key: str, val) -> float:
    try:
        v = float(val)
    except (TypeError, ValueError):
        raise InvalidInputError(f"total of {key!r} is {val!r}, not a number [mol/kgw]") from None
    if not math.isfinite(v) or v <= 0:
        raise InvalidInputError(f"total of {key!r} must be a positive finite molality [mol/kgw], got {val!r}")
    return v
