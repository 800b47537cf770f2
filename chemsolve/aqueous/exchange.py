"""Ion exchange, as PHREEQC's EXCHANGE: an exchanger is moles of exchange species (``NaX``, ``CaX2``)
on the sites of an exchanger of EXCHANGE_MASTER_SPECIES (``X``).

The model (PHREEQC 3, Parkhurst & Appelo 2013; model.cpp calc_gammas, case 4, with the exchanger's
default ``-pitzer_exchange_gammas true``): an exchange species formed by its half-reaction
``Ca+2 + 2X- = CaX2`` has the activity of its equivalent fraction (Gaines-Thomas) times the activity
coefficient of the exchanging cation by the species' own ``-gamma a b`` (WATEQ; ``-davies``: Davies;
neither: 1), raised to the cation's coefficient; the master species X- is a dummy whose activity is
an unknown and whose moles count nowhere. The sites are conserved: sum of equivalents x moles =
the exchanger's sites.

- ``exchanger(db, {"CaX2": 0.3, "NaX": 0.4})`` an exchanger by its composition (EXCHANGE with species);
- ``equilibrate_exchange(water, {"X": 0.0011})`` the composition in equilibrium with a water, the
  water unchanged (EXCHANGE ``-equilibrate``);
- ``react(water, exchange=...)`` a reaction step with an exchanger (``reaction_step``): the water and
  the exchanger come to equilibrium together, every element conserved; the result carries
  ``exchange`` (moles of each species) and the ``exchanger`` to take into the next step.

The certificate of a state with an exchanger (``ExchangeCheck``): the mass action of every exchange
species, with the one unknown activity of its exchanger's master eliminated between species; the
site balance; and the element, electron and water balances with what the exchanger holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .database import Database, log_k_basis

__all__ = ["Exchanger", "equilibrate_exchange", "exchanger"]


@dataclass(frozen=True)
class Exchanger:
    """An exchanger: ``composition`` {exchange species: moles}; ``guess`` {exchanger master species:
    log10 activity} from the last solve (a start for the next)."""

    db: Database
    composition: dict[str, float]
    guess: dict[str, float] = field(default_factory=dict)

    @property
    def sites(self) -> dict[str, float]:
        """{exchanger (e.g. "X"): moles of sites}."""
        return sum_over(self.composition, lambda s: dict([_site_of(self.db, s)]))

    @property
    def elements(self) -> dict[str, float]:
        """{element: moles held}, without H and O and the sites."""
        return sum_over(self.composition, lambda s: held(self.db, s))

    def to_dict(self) -> dict[str, Any]:
        return {"composition": dict(self.composition), "sites": self.sites, "guess": dict(self.guess)}

    def __repr__(self) -> str:
        comp = ", ".join(f"{k} {v:.4g}" for k, v in self.composition.items())
        return f"Exchanger({comp})"


def sum_over(composition: dict[str, float], per_mole) -> dict[str, float]:
    """{key: sum over the species of moles x per_mole(species)[key]} (sites, elements held)."""
    out: dict[str, float] = {}
    for s, n in composition.items():
        for k, v in per_mole(s).items():
            out[k] = out.get(k, 0.0) + v * n
    return out


def master_reaction(table, masters, name: str, depth: int = 0):
    """(stoichiometry, log K coefficients) of the exchange or surface species ``name`` of ``table``
    (``db.exchange_species`` / ``db.surface_species``) with every other species of the table that is not
    one of ``masters`` replaced by its own reaction, as PHREEQC rewrites each reaction to master
    species (ex19b's H_ab-2 forms from H_abH-, which forms from the master H_abH2). A species written
    only with masters comes back as the database has it."""
    sp = table[name]
    st = sp.reaction.stoich
    inner = [o for o in st if o != name and o in table and o not in masters]
    if not inner:
        return st, sp.reaction.log_k_coeffs()
    if depth > 20:
        raise InvalidInputError(f"species {name!r} ({sp.line}): its reaction is defined in a loop through {inner[0]!r}")
    st = dict(st)
    lk = np.array(sp.reaction.log_k_coeffs(), dtype=float)
    for other in inner:
        nu = -st.pop(other)
        sub, sub_lk = master_reaction(table, masters, other, depth + 1)
        for o, c in sub.items():
            if o != other:
                st[o] = st.get(o, 0.0) + nu * c
        lk = lk + nu * np.asarray(sub_lk, dtype=float)
    return {o: c for o, c in st.items() if o == name or abs(c) > 1e-12}, lk


def _site_of(db: Database, species: str) -> tuple[str, float]:
    """(exchanger element, sites per mole) of an exchange species, from its reaction."""
    masters = {sm.species: el for el, sm in db.exchange_masters.items()}
    es = db.exchange_species[species]
    for other, coef in master_reaction(db.exchange_species, masters, species)[0].items():
        if other in masters and other != species:
            return masters[other], -coef
    if species in masters:
        return masters[species], 1.0
    raise InvalidInputError(f"exchange species {species!r} ({db.path}:{es.line}) forms from no exchange master")


def _amount(who: str, name: str, v, rule: str) -> float:
    """A number of moles, finite and >= 0 (rule ">= 0") or > 0 (rule "> 0"), or a one-line error."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{who}: moles of {name!r} is {v!r}, not a number") from None
    if not (math.isfinite(x) and (x > 0 if rule == "> 0" else x >= 0)):
        raise InvalidInputError(f"{who}: moles of {name!r} must be finite and {rule}, got {v!r}")
    return x


def held(db: Database, species: str) -> dict[str, float]:
    """Elements (not H, O, nor the sites) one mole of an exchange species holds (``held_by``)."""
    return held_by(db.exchange_species[species], set(db.exchange_masters))


def held_by(sp, sites) -> dict[str, float]:
    """Elements (not H, O, nor the ``sites``) one mole of an exchange or surface species counts in the
    mass balances: its ``-mole_balance`` formula when the database gives one (PHREEQC counts that
    instead of the species' formula: ex19's LangmuirCd+2 holds CdCl2), else its formula."""
    out: dict[str, float] = {}
    for key, k in (sp.mass_balance or sp.elements).items():
        el = key.split("(")[0]
        if el not in ("H", "O") and el not in sites:
            out[el] = out.get(el, 0.0) + k
    return out


def exchanger(db: Database, spec) -> Exchanger:
    """An ``Exchanger`` from {exchange species: moles} (PHREEQC's EXCHANGE with a composition), or one
    given already (returned as is)."""
    if isinstance(spec, Exchanger):
        if spec.db is not db:
            raise InvalidInputError("exchange: the exchanger comes from another database")
        return spec
    if not isinstance(spec, dict) or not spec:
        raise InvalidInputError(f"exchange: expected {{exchange species: moles}} or an Exchanger, got {spec!r:.80}")
    comp: dict[str, float] = {}
    for name, moles in spec.items():
        name = str(name)
        if name in db.exchange_masters:
            raise InvalidInputError(f"exchange: {name!r} gives sites without a composition; use "
                                    f"equilibrate_exchange(water, {{{name!r}: moles}}) (PHREEQC's -equilibrate)")
        if name not in db.exchange_species:
            raise InvalidInputError(f"exchange: {name!r} is not an exchange species of {db.path} "
                                    f"(EXCHANGE_SPECIES: {sorted(db.exchange_species)[:8]}...)")
        x = _amount("exchange", name, moles, ">= 0")
        _site_of(db, name)
        if x > 0:
            comp[name] = comp.get(name, 0.0) + x
    if not comp:
        raise InvalidInputError("exchange: every amount is zero")
    return Exchanger(db, comp)


def exchangers(db: Database, exchange, n: int, what: str = "rows") -> list[Exchanger] | None:
    """``exchange`` as ``react`` and the reactor take it (None, one exchanger, or a list of one per row)
    as a list of n ``Exchanger`` (one given: shared by all)."""
    if exchange is None:
        return None
    given = exchange if isinstance(exchange, (list, tuple)) else [exchange]
    exs = [exchanger(db, e) for e in given]
    if len(exs) not in (1, n):
        raise InvalidInputError(f"exchange: {len(exs)} exchangers for {n} {what} (give one, or one per {what[:-1]})")
    return exs if len(exs) == n else exs * n


# ------------------------------------------------------------------ the model, vectorised
@dataclass
class ExchangeModel:
    """The exchange species of some exchangers with the aqueous species they form from, as arrays:
    per species its exchanger (index into ``sites``), equivalents, log K coefficients, the aqueous
    reactants (columns of the aqueous species, -1: H2O) with their coefficients, the gamma rule
    (0 none, 1 Davies, 2 WATEQ; a, b), the exchanging cation's charge and coefficient, the element
    counts and the (H column, electrons, water) the species carries."""

    names: list[str]
    sites: list[str]
    site: np.ndarray
    equiv: np.ndarray
    lkc: np.ndarray
    reactants: list[list[tuple[int, float]]]
    rule: np.ndarray
    ga: np.ndarray
    gb: np.ndarray
    zc: np.ndarray
    cf: np.ndarray
    counts: list[dict[str, float]]
    canon: np.ndarray
    cation: np.ndarray | None = None  # the exchanging cation's column among the aqueous species (-1: none)


def exchange_model(db: Database, sites: list[str], aqueous: list[str]) -> ExchangeModel:
    """The exchange species of ``sites`` whose reactants (as the database writes the half-reaction)
    are all among ``aqueous`` (or H2O): PHREEQC forms exactly these. Read from the database here,
    independently of the solver's tableau."""
    from .certificate import _canon_primary
    from .system import chem

    col = {s: i for i, s in enumerate(aqueous)}
    masters = {db.exchange_masters[e].species: j for j, e in enumerate(sites)}
    ex_all = {sm.species for sm in db.exchange_masters.values()}
    c = chem(db)
    rows = []
    for name, es in db.exchange_species.items():
        if name in masters or name in {sm.species for sm in db.exchange_masters.values()}:
            continue
        site = -1
        equiv = 0.0
        react: list[tuple[int, float]] = []
        ok = True
        zc = cf = 0.0
        cat = -1
        stoich, lkc = master_reaction(db.exchange_species, ex_all, name)
        for other, coef in stoich.items():
            if other == name:
                continue
            if other in masters:
                site, equiv = masters[other], -coef
            elif other == "H2O":
                react.append((-1, -coef))
            elif other in col:
                react.append((col[other], -coef))
                cat = col[other]
            else:
                ok = False
        # the Debye-Hueckel term's cation (PHREEQC's calc_gammas, case 4): of the reaction rewritten to primary
        # master species (the certificate's own recursion), the last aqueous or H+ species by name (rxn_x's
        # tokens, sorted by trxn_sort); AlOHX2 takes H+ with coefficient -1
        tok: dict[str, float] = {}
        for other, coef in stoich.items():
            if other in col:
                for k, v in _canon_primary(db, other)[0].items():
                    tok[k] = tok.get(k, 0.0) - coef * v
        last = sorted(k for k, v in tok.items() if k not in ("H2O", "e-") and abs(v) > 1e-12)
        if last:
            zc, cf = db.species[last[-1]].charge, tok[last[-1]]
        if not ok or site < 0 or equiv <= 0:
            continue
        gam = es.gamma
        rule = 1 if (es.davies or (gam is not None and gam[0] == 0.0 and gam[1] == 0.0)) else 2 if gam else 0
        cnt = held(db, name)
        cnt_sites = dict(cnt)
        cnt_sites[sites[site]] = equiv
        rows.append((name, site, equiv, lkc, react, rule,
                     gam[0] if gam else 0.0, gam[1] if gam else 0.0, zc, cf, cnt,
                     c.exchange_canon(es, cnt_sites), cat))
    n = len(rows)
    return ExchangeModel([r[0] for r in rows], list(sites), np.array([r[1] for r in rows], dtype=np.int64),
                         np.array([r[2] for r in rows], dtype=float), np.array([r[3] for r in rows]).reshape(n, 6),
                         [r[4] for r in rows], np.array([r[5] for r in rows], dtype=np.int64),
                         np.array([r[6] for r in rows], dtype=float), np.array([r[7] for r in rows], dtype=float),
                         np.array([r[8] for r in rows], dtype=float), np.array([r[9] for r in rows], dtype=float),
                         [r[10] for r in rows], np.array([r[11] for r in rows], dtype=float).reshape(n, 3),
                         np.array([r[12] for r in rows], dtype=np.int64))


def log_gamma(em: ExchangeModel, A, B, I, cec, lg_aq=None) -> np.ndarray:
    """(R, nx) log10 gamma of the exchange species (activity = gamma x moles): the cation's term, to
    its coefficient, plus log10(equivalents / sites of its exchanger); A, B, I (R,), cec (R, nsites).
    With ``lg_aq`` (R, n aqueous) the log10 gamma of the aqueous species by a SIT or Pitzer database's
    model, the cation's term is its value there (PHREEQC's gammas_pz, -pitzer_exchange_gammas true)."""
    A, B, I = (np.asarray(a, dtype=float)[:, None] for a in (A, B, I))
    if lg_aq is not None:
        if em.cation is None or np.any(em.cation < 0):
            raise InvalidInputError("exchange species without a cation among the aqueous species: no model gamma")
        g = em.cf * np.asarray(lg_aq, dtype=float)[:, em.cation]
        with np.errstate(divide="ignore"):
            return g + np.log10(em.equiv) - np.log10(np.asarray(cec, dtype=float)[:, em.site])
    sq = np.sqrt(I)
    z2 = em.zc * em.zc
    dav = -A * z2 * (sq / (1.0 + sq) - 0.3 * I)
    wat = -A * z2 * sq / (1.0 + B * em.ga * sq) + em.gb * I
    g = em.cf * np.where(em.rule == 2, wat, np.where(em.rule == 1, dav, 0.0))
    with np.errstate(divide="ignore"):
        return g + np.log10(em.equiv) - np.log10(np.asarray(cec, dtype=float)[:, em.site])


def law_rhs(em: ExchangeModel, log_a_aq, law, T, dlogk=None) -> np.ndarray:
    """(R, nx) log K(T) + sum coef log a(reactant), the mass action without the exchanger's master:
    log10 gamma n = this + equivalents x log a(X-). ``dlogk`` (R, nx): a pressure term to add."""
    T = np.asarray(T, dtype=float)
    lk = (log_k_basis(T).T @ em.lkc.T).reshape(T.size, len(em.names))
    if dlogk is not None:
        lk = lk + dlogk
    out = lk.copy()
    for i, react in enumerate(em.reactants):
        for c, k in react:
            out[:, i] += k * (law if c < 0 else log_a_aq[:, c])
    return out


def solve_sites(em: ExchangeModel, rhs, lg, cec) -> tuple[np.ndarray, np.ndarray]:
    """Moles of every exchange species (R, nx) and log a of each exchanger's master (R, nsites) that
    fill its sites: sum_i eq_i 10^(rhs_i - lg_i + eq_i u) = cec, monotone in u: Newton in u from a
    bracketing start, bisection where Newton leaves the bracket (to 1e-15 relative)."""
    R = rhs.shape[0]
    nsite = len(em.sites)
    u = np.zeros((R, nsite))
    n = np.zeros((R, len(em.names)))
    for j in range(nsite):
        idx = np.flatnonzero(em.site == j)
        if idx.size == 0:
            raise InvalidInputError(f"exchanger {em.sites[j]!r}: no exchange species forms from this water")
        b = rhs[:, idx] - lg[:, idx]
        eq = em.equiv[idx]
        target = np.log10(cec[:, j])
        # bracket: each species alone filling the sites gives u_i; the root lies between their min and max
        ui = (target[:, None] - np.log10(eq) - b) / eq
        lo, hi = ui.min(axis=1) - 1.0, ui.max(axis=1) + 1.0
        x = 0.5 * (lo + hi)
        for _ in range(200):
            t = eq * 10.0 ** (b + eq * x[:, None])
            f = t.sum(axis=1)
            g = np.log10(f) - target
            lo = np.where(g < 0, x, lo)
            hi = np.where(g > 0, x, hi)
            d = (t * eq).sum(axis=1) / f
            step = -g / d
            xn = x + step
            xn = np.where((xn <= lo) | (xn >= hi), 0.5 * (lo + hi), xn)
            if np.all(np.abs(xn - x) <= 1e-15 * np.maximum(1.0, np.abs(x))):
                x = xn
                break
            x = xn
        u[:, j] = x
        n[:, idx] = 10.0 ** (b + eq * x[:, None])
    return n, u


def equilibrate_exchange(water, sites: dict[str, float]) -> Exchanger:
    """The exchanger with ``sites`` {exchanger: moles of sites} in equilibrium with ``water`` (the result
    of ``speciate`` or ``react``), the water unchanged: PHREEQC's EXCHANGE ``-equilibrate``. The
    water's own activities and ionic strength set the composition (the exchange species' pressure
    term included above 1 atm, as PHREEQC's k_temp)."""
    from .certificate import _volumes, _water  # the vectorised water properties and molar volumes
    from .system import chem

    act = getattr(water, "activity", None)
    if not isinstance(act, dict) or getattr(water, "state", None) is None:
        raise InvalidInputError("equilibrate_exchange: give a converged result of speciate() or react()")
    db = water.state.db
    if not isinstance(sites, dict) or not sites:
        raise InvalidInputError(f"equilibrate_exchange: expected {{exchanger: moles of sites}}, got {sites!r:.80}")
    names = []
    cec = []
    for k, v in sites.items():
        if k not in db.exchange_masters:
            raise InvalidInputError(f"equilibrate_exchange: {k!r} is not in EXCHANGE_MASTER_SPECIES of {db.path} "
                                    f"({sorted(db.exchange_masters)})")
        x = _amount("equilibrate_exchange", k, v, "> 0")
        names.append(k)
        cec.append(x)
    aq = [s for s, a in act.items() if a > 0]
    em = exchange_model(db, names, aq)
    T = np.array([water.T])
    aw = np.array([water.water_activity])
    wat = _water(T, aw, water.P)
    la = np.log10(np.array([[act[s] for s in aq]]))
    dlogk = None
    if wat["P"][0] > 1.0:
        c = chem(db)
        vm = np.array([db.species[s].vm if db.species[s].vm is not None else (0.0,) * 10 for s in aq]).reshape(-1, 10)
        z = np.array([db.species[s].charge for s in aq])
        vol = _volumes(vm, z, T, np.array([water.ionic_strength]), wat)[0]
        vw = 18.016 / wat["rho"][0]
        dv = np.array([-sum(k * (vw if cc < 0 else vol[cc]) for cc, k in r) for r in em.reactants])
        dlogk = (-dv * (wat["P"][0] - 1.0) * 1.01325e5 * 1e-9 / (math.log(10.0) * water.T * 8.31470e-3))[None, :]
        del c
    rhs = law_rhs(em, la, np.log10(aw), T, dlogk)
    from ..kernels.codes import ACT_PITZER, ACT_SIT
    from .activity_models import model_code

    code = model_code(db)
    if code not in (0, ACT_SIT, ACT_PITZER):
        raise InvalidInputError(f"{db.path}: exchangers with the {db.activity_model} activity model are not "
                                "modelled yet")
    lg_aq = None
    if code:  # SIT, Pitzer: the cation's log10 gamma of the water's model (PHREEQC's gammas_pz)
        lg_aq = np.array([[water.log_gamma[s] for s in aq]])
    lg = log_gamma(em, wat["A"], wat["B"], np.array([water.ionic_strength]), np.array([cec]), lg_aq)
    n, u = solve_sites(em, rhs, lg, np.array([cec]))
    comp = {s: float(x) for s, x in zip(em.names, n[0]) if x > 0}
    return Exchanger(db, comp, {db.exchange_masters[k].species: float(u[0, j]) for j, k in enumerate(names)})
