"""Surface complexation, as PHREEQC's SURFACE: a surface is moles of surface species (``Hfo_wOH``,
``Hfo_wOZn+``) on the sites of SURFACE_MASTER_SPECIES (``Hfo_w``, master species ``Hfo_wOH``).

The model, read from the source of PHREEQC 3 (usgs-coupled/phreeqc3, 2026-12): a surface species
forms by its SURFACE_SPECIES reaction (``Hfo_wOH + Zn+2 = Hfo_wOZn+ + H+``) from the master species
of its site and aqueous species. Its activity is ``equiv x moles / sites`` (model.cpp calc_gammas,
case 6: lg = log10(equiv / moles of sites), and molalities(): moles = 10^lm for a surface species,
not x the mass of water), ``equiv`` the coefficient of the site's master species in the reaction
(tidy.cpp tidy_species): the mole fraction of the sites, for monodentate species. Unlike an
exchanger's X-, the master species (``Hfo_wOH``) is itself a species with moles. Each site type
conserves its sites (sum equiv x moles = the sites given), each with its own count (``Hfo_w`` and
``Hfo_s`` are two balances). With ``-no_edl`` there is no electrostatic term, and the charge of
the surface species counts in the cell's charge balance (prep.cpp mb_for_species_surf: surface
species enter the charge balance unless an explicit diffuse layer is computed); surface species are
not in the ionic strength nor in the activity of water.

- ``surface(db, {"Hfo_w": 2e-4, "Hfo_s": 5e-6}, edl="no_edl")``: sites in moles, all as the
  master species (PHREEQC's SURFACE without ``-equilibrate``);
- ``equilibrate_surface(water, {...}, edl="no_edl")``: the composition in equilibrium with a water,
  the water unchanged (SURFACE ``-equilibrate``);
- ``react(water, surface=...)``: the water and the surface come to equilibrium together, every
  element and the charge conserved; the result carries ``surface`` (moles of each species) and
  ``surface_state`` (the ``Surface`` to take into the next step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .database import Database

__all__ = ["Surface", "equilibrate_surface", "surface"]

EDL_MODELS = ("ddl", "no_edl")  # PHREEQC's default, the diffuse double layer, and -no_edl
F_C_MOL = 96493.5  # Faraday constant [C/mol], as PHREEQC (global_structures.h)
EPSILON_ZERO = 8.854e-12  # [C2/(J m)], as PHREEQC
R_J = 8.31470  # [J/(mol K)], as PHREEQC
AVOGADRO = 6.02252e23  # [1/mol], as PHREEQC: sites/nm2 x m2/g x g x 1e18 / AVOGADRO = moles of sites


@dataclass(frozen=True)
class Surface:
    """A surface: ``composition`` {surface species: moles}; ``edl`` the electrostatic model
    ("no_edl"); ``areas`` {surface (e.g. "Hfo"): (specific area [m2/g], mass [g])} as given;
    ``guess`` {site master species: log10 activity} from the last solve (a start for the next)."""

    db: Database
    composition: dict[str, float]
    edl: str = "no_edl"
    areas: dict[str, tuple[float, float]] = field(default_factory=dict)
    guess: dict[str, float] = field(default_factory=dict)

    @property
    def sites(self) -> dict[str, float]:
        """{site type (e.g. "Hfo_w"): moles of sites}."""
        from .exchange import sum_over

        return sum_over(self.composition, lambda s: dict([site_of(self.db, s)]))

    @property
    def elements(self) -> dict[str, float]:
        """{element: moles held}, without H and O and the sites."""
        from .exchange import sum_over

        return sum_over(self.composition, lambda s: held(self.db, s))

    @property
    def charge(self) -> float:
        """The surface's charge [eq]: sum of charge x moles of its species."""
        return float(sum(self.db.surface_species[s].charge * n for s, n in self.composition.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"composition": dict(self.composition), "sites": self.sites, "edl": self.edl,
                "areas": {k: list(v) for k, v in self.areas.items()}, "guess": dict(self.guess)}

    def __repr__(self) -> str:
        comp = ", ".join(f"{k} {v:.4g}" for k, v in self.composition.items())
        return f"Surface({self.edl}: {comp})"


def _masters(db: Database) -> dict[str, str]:
    """{master species: site type} of SURFACE_MASTER_SPECIES."""
    return {sm.species: el for el, sm in db.surface_masters.items()}


def site_of(db: Database, species: str) -> tuple[str, float]:
    """(site type, sites per mole) of a surface species, from its reaction (the master: itself, 1)."""
    masters = _masters(db)
    if species in masters:
        return masters[species], 1.0
    ss = db.surface_species.get(species)
    if ss is None:
        raise InvalidInputError(f"{species!r} is not a surface species of {db.path}")
    from .exchange import master_reaction

    stoich = master_reaction(db.surface_species, masters, species)[0]
    found = [(masters[o], -c) for o, c in stoich.items() if o in masters and o != species]
    if len(found) != 1 or found[0][1] <= 0:
        raise InvalidInputError(f"surface species {species!r} ({db.path}:{ss.line}) forms from "
                                f"{'no' if not found else 'more than one'} surface master species")
    return found[0]


def held(db: Database, species: str) -> dict[str, float]:
    """Elements (not H, O, nor the sites) one mole of a surface species holds (``exchange.held_by``:
    its -mole_balance formula, else its formula)."""
    from .exchange import held_by

    return held_by(db.surface_species[species], set(db.surface_masters))


def surface_name(site: str) -> str:
    """The surface a site type belongs to (PHREEQC: the name before the underscore, "Hfo_w" -> "Hfo")."""
    return site.split("_")[0]


def _amount(who: str, name: str, v, rule: str = "> 0") -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{who}: {name!r}: {v!r} is not a number") from None
    if not (math.isfinite(x) and (x > 0 if rule == "> 0" else x >= 0)):
        raise InvalidInputError(f"{who}: {name!r} must be finite and {rule}, got {v!r}")
    return x


def _check_edl(who: str, edl: str, sites=None, areas=None) -> str:
    """The electrostatic model, checked; with a diffuse double layer every surface of ``sites`` needs
    its specific area and mass (PHREEQC's charge-potential relation reads their product)."""
    if edl not in EDL_MODELS:
        raise InvalidInputError(f"{who}: edl={edl!r}; expected one of {EDL_MODELS} (CD-MUSIC and the explicit "
                                "diffuse layer are not modelled)")
    if edl == "ddl" and sites is not None:
        for sname in sorted({surface_name(s) for s in sites}):
            a = (areas or {}).get(sname)
            if a is None or not (a[0] > 0 and a[1] > 0):
                raise InvalidInputError(f"{who}: surface {sname!r} (diffuse double layer) needs a specific area and "
                                        f"mass > 0: give one of its sites as (moles, m2/g, grams), or edl='no_edl'")
    return edl


def parse_sites(db: Database, spec, who: str = "surface") -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """{site type or its master species: moles | (moles, specific area [m2/g], mass [g])} ->
    ({site type: moles of sites}, {surface: (area, mass)})."""
    if not isinstance(spec, dict) or not spec:
        raise InvalidInputError(f"{who}: expected {{site (e.g. 'Hfo_w') or its master species: moles}}, "
                                f"got {spec!r:.80}")
    masters = _masters(db)
    sites: dict[str, float] = {}
    areas: dict[str, tuple[float, float]] = {}
    for key, v in spec.items():
        key = str(key)
        site = key if key in db.surface_masters else masters.get(key)
        if site is None:
            raise InvalidInputError(f"{who}: {key!r} is not a site of SURFACE_MASTER_SPECIES of {db.path} "
                                    f"(sites: {sorted(db.surface_masters)}; or their master species)")
        parts = list(v) if isinstance(v, (tuple, list)) else [v]
        if len(parts) not in (1, 3):
            raise InvalidInputError(f"{who}: {key!r}: expected moles or (moles, specific area m2/g, grams), got {v!r}")
        if site in sites:
            raise InvalidInputError(f"{who}: site {site!r} given twice")
        sites[site] = _amount(who, key, parts[0])
        if len(parts) == 3:
            sname = surface_name(site)
            areas[sname] = (_amount(who, f"{key} specific area", parts[1], ">= 0"),
                            _amount(who, f"{key} mass", parts[2], ">= 0"))
    return sites, areas


def surface(db: Database, spec, edl: str = "ddl", areas: dict | None = None, sites_units: str = "absolute") -> Surface:
    """A ``Surface`` with the sites of ``spec`` (``parse_sites``), every site as its master species
    (PHREEQC's SURFACE without ``-equilibrate``: the master's formula, H and O included, is what the
    surface brings into a step); or {surface species: moles} (a composition, e.g. a result's
    ``surface`` with ``Hfo_wOZn+``: the masters count as species there); or a ``Surface``
    (returned as is). edl : "ddl" (PHREEQC's default: the diffuse double layer, each surface's
    specific area [m2/g] and mass [g] given with one of its sites, or in ``areas`` {surface: (area,
    grams)}) or "no_edl". sites_units : "absolute" (moles) or "density" (sites per nm2 of the
    surface's area, PHREEQC's ``-sites_units density``: moles = density x area x grams x 1e18 / N_A)."""
    if isinstance(spec, Surface):
        if spec.db is not db:
            raise InvalidInputError("surface: the surface comes from another database")
        _check_edl("surface", spec.edl, spec.sites, spec.areas)
        return spec
    _check_edl("surface", edl)
    extra = {}
    for k, v in (areas or {}).items():
        parts = list(v) if isinstance(v, (tuple, list)) else [v]
        if len(parts) != 2:
            raise InvalidInputError(f"surface: areas[{k!r}]: expected (specific area m2/g, grams), got {v!r}")
        extra[str(k)] = (_amount("surface", f"{k} specific area", parts[0], ">= 0"),
                         _amount("surface", f"{k} mass", parts[1], ">= 0"))
    # a composition: some key is a surface species other than a master (the masters may be among them)
    if isinstance(spec, dict) and any(str(k) in db.surface_species and str(k) not in _masters(db) for k in spec):
        comp = {}
        for k, v in spec.items():
            site_of(db, str(k))
            x = _amount("surface", str(k), v, ">= 0")
            if x > 0:
                comp[str(k)] = x
        if not comp:
            raise InvalidInputError("surface: every amount is zero")
        _check_edl("surface", edl, [site_of(db, k)[0] for k in comp], extra)
        return Surface(db, comp, edl, extra)
    sites, given = parse_sites(db, spec)
    given.update(extra)
    if sites_units == "density":
        for site in list(sites):
            a = given.get(surface_name(site))
            if a is None or not (a[0] > 0 and a[1] > 0):
                raise InvalidInputError(f"surface: sites_units='density': {site!r} needs the specific area and mass "
                                        f"of {surface_name(site)!r}")
            sites[site] = sites[site] * a[0] * a[1] * 1e18 / AVOGADRO
    elif sites_units != "absolute":
        raise InvalidInputError(f"surface: sites_units={sites_units!r}; expected 'absolute' or 'density'")
    _check_edl("surface", edl, sites, given)
    comp = {db.surface_masters[s].species: n for s, n in sites.items()}
    return Surface(db, comp, edl, given)


def surfaces(db: Database, spec, n: int, what: str = "rows") -> list[Surface] | None:
    """``surface`` as ``react`` takes it (None, one surface, or a list of one per row) as a list of n."""
    if spec is None:
        return None
    given = spec if isinstance(spec, (list, tuple)) else [spec]
    out = [surface(db, s) for s in given]
    if len(out) not in (1, n):
        raise InvalidInputError(f"surface: {len(out)} surfaces for {n} {what} (give one, or one per {what[:-1]})")
    if len({s.edl for s in out}) > 1:
        raise InvalidInputError("surface: the rows' surfaces use different electrostatic models")
    return out if len(out) == n else out * n


# ------------------------------------------------------------------ the model, vectorised
@dataclass
class SurfaceModel:
    """The surface species of some site types with the aqueous species they form from, as arrays
    (read from the database here, independently of the solver's tableau): per species its site type
    (index into ``sites``), equivalents (sites per mole), log K coefficients, aqueous reactants
    (columns of ``aqueous``, -1: H2O) with their coefficients, the site master reactant coefficient,
    its charge, the elements it holds, and (H column, electrons, water) it carries."""

    names: list[str]
    sites: list[str]
    site: np.ndarray
    equiv: np.ndarray
    lkc: np.ndarray
    reactants: list[list[tuple[int, float]]]
    z: np.ndarray
    counts: list[dict[str, float]]
    canon: np.ndarray
    master: np.ndarray  # per site: the row of its master species (-1: not formed)
    dz: np.ndarray  # per species: the charge its aqueous reactants bring (its charge less its sites')
    surfaces: list[str]  # the surfaces of the sites ("Hfo")
    surf: np.ndarray  # per species: its surface (index into ``surfaces``)


def surface_model(db: Database, sites: list[str], aqueous: list[str]) -> SurfaceModel:
    """The surface species of ``sites`` whose aqueous reactants (as the database writes them) are all
    among ``aqueous`` (or H2O): the master species of each site, and those PHREEQC forms."""
    from .exchange import master_reaction
    from .system import chem

    col = {s: i for i, s in enumerate(aqueous)}
    masters = _masters(db)
    want = {db.surface_masters[s].species: j for j, s in enumerate(sites)}
    c = chem(db)
    rows = []
    for name, ss in db.surface_species.items():
        react: list[tuple[int, float]] = []
        lkc = ss.reaction.log_k_coeffs()
        if name in masters:
            if name not in want:
                continue
            j, eq = want[name], 1.0
        else:
            j, eq, ok = -1, 0.0, True
            stoich, lkc = master_reaction(db.surface_species, masters, name)
            for other, coef in stoich.items():
                if other == name:
                    continue
                if other in masters:
                    if other not in want or j >= 0:
                        ok = False
                        break
                    j, eq = want[other], -coef
                elif other == "H2O":
                    react.append((-1, -coef))
                elif other in col:
                    react.append((col[other], -coef))
                else:
                    ok = False
                    break
            if not ok or j < 0 or eq <= 0:
                continue
        cnt = held(db, name)
        cnt_sites = dict(cnt)
        cnt_sites[sites[j]] = eq
        zm = db.surface_species[db.surface_masters[sites[j]].species].charge
        rows.append((name, j, eq, lkc, react, ss.charge, cnt, c.exchange_canon(ss, cnt_sites),
                     ss.charge - eq * zm))
    n = len(rows)
    master = np.array([next((i for i, r in enumerate(rows) if r[0] == db.surface_masters[s].species), -1)
                       for s in sites], dtype=np.int64)
    surfs = sorted({surface_name(s) for s in sites})
    return SurfaceModel([r[0] for r in rows], list(sites), np.array([r[1] for r in rows], dtype=np.int64),
                        np.array([r[2] for r in rows], dtype=float), np.array([r[3] for r in rows]).reshape(n, 6),
                        [r[4] for r in rows], np.array([r[5] for r in rows], dtype=float), [r[6] for r in rows],
                        np.array([r[7] for r in rows], dtype=float).reshape(n, 3), master,
                        np.array([r[8] for r in rows], dtype=float), surfs,
                        np.array([surfs.index(surface_name(sites[r[1]])) for r in rows], dtype=np.int64))


def law_rhs(sm: SurfaceModel, log_a_aq, law, T) -> np.ndarray:
    """(R, ns) log K(T) + sum coef log a(aqueous reactant): the mass action without the site's master
    (log10 a_i = this + equiv_i log10 a(master))."""
    from .database import log_k_basis

    T = np.asarray(T, dtype=float)
    out = (log_k_basis(T).T @ sm.lkc.T).reshape(T.size, len(sm.names))
    for i, react in enumerate(sm.reactants):
        for c, k in react:
            out[:, i] += k * (law if c < 0 else log_a_aq[:, c])
    return out


def gouy_chapman(T, aw, P=1.0, gas: bool = False) -> np.ndarray:
    """sqrt(8 eps_r eps_0 R T 1000 c) / sqrt(c) [C/m2 per (mol/kgw)^0.5] at T [K], a(H2O), P [atm]:
    the diffuse layer's charge density is this x sqrt(I) x sinh(F psi / 2RT) (PHREEQC's sinh_constant,
    model.cpp residuals; eps_r by the certificate's own Bradley-Pitzer fit; ``gas``: a GAS_PHASE in the
    step, eps_r at P as ``certificate._water``)."""
    from .certificate import _water

    T = np.asarray(T, dtype=float)
    eps = _water(T, np.asarray(aw, dtype=float), P, gas)["eps"]
    return np.sqrt(8.0 * eps * EPSILON_ZERO * R_J * T * 1000.0)


def equilibrate_surface(water, spec, edl: str = "ddl", areas: dict | None = None) -> Surface:
    """The surface with the sites of ``spec`` (as ``surface``) in equilibrium with ``water`` (a
    result of ``speciate`` or ``react``), the water unchanged: PHREEQC's SURFACE ``-equilibrate``.
    Per site type: sum_i equiv_i n_i = sites with n_i = sites/equiv_i 10^(rhs_i + equiv_i u -
    2 dz_i y), u the log activity (mole fraction) of the master species, monotone in u and solved as
    the exchanger's; with a diffuse double layer, y = F psi / (2RT ln10) of each surface is the root
    of its charge less the Gouy-Chapman charge of its diffuse layer (decreasing in y: bracketed).

    This is PHREEQC's initial-surface calculation (state i_surf: the solution's activities held); in
    PHREEQC a simulation that defines both then reacts them (``react(water, surface=...)``).
    """
    from scipy.optimize import brentq

    from .exchange import solve_sites

    act = getattr(water, "activity", None)
    if not isinstance(act, dict) or getattr(water, "state", None) is None:
        raise InvalidInputError("equilibrate_surface: give a converged result of speciate() or react()")
    db = water.state.db
    if water.P > 1.0:
        raise InvalidInputError(f"equilibrate_surface: the water is at {water.P:.4g} atm; above 1 atm (PHREEQC's "
                                "pressure term of log K) it is not modelled: react(water, surface=...) instead")
    sites, given = parse_sites(db, spec, "equilibrate_surface")
    for k, v in (areas or {}).items():
        given[str(k)] = (_amount("equilibrate_surface", f"{k} specific area", v[0], ">= 0"),
                         _amount("equilibrate_surface", f"{k} mass", v[1], ">= 0"))
    _check_edl("equilibrate_surface", edl, sites, given)
    names = list(sites)
    aq = [s for s, a in act.items() if a > 0]
    sm = surface_model(db, names, aq)
    la = np.log10(np.array([[act[s] for s in aq]]))
    rhs = law_rhs(sm, la, math.log10(water.water_activity), np.array([water.T]))
    N = np.array([[sites[s] for s in names]])
    # n_i = 10^(rhs_i - lg_i + eq_i u) with lg_i = log10(eq_i / sites): the exchanger's form
    lg = np.log10(sm.equiv)[None, :] - np.log10(N[:, sm.site])
    guess: dict[str, float] = {}
    if edl == "no_edl":
        n, u = solve_sites(sm, rhs, lg, N)
    else:
        n = np.zeros((1, len(sm.names)))
        u = np.zeros((1, len(names)))
        gc = float(gouy_chapman(np.array([water.T]), np.array([water.water_activity]), water.P)[0])
        for q, sname in enumerate(sm.surfaces):
            idx = np.flatnonzero(sm.surf == q)
            js = sorted({int(sm.site[i]) for i in idx})
            sub = SurfaceModel([sm.names[i] for i in idx], [names[j] for j in js],
                               np.array([js.index(int(sm.site[i])) for i in idx], dtype=np.int64), sm.equiv[idx],
                               sm.lkc[idx], [sm.reactants[i] for i in idx], sm.z[idx], [sm.counts[i] for i in idx],
                               sm.canon[idx], np.zeros(0, dtype=np.int64), sm.dz[idx], [sname],
                               np.zeros(idx.size, dtype=np.int64))
            area = given[sname][0] * given[sname][1]
            qc = area / F_C_MOL * gc * math.sqrt(water.ionic_strength)

            def excess(y, idx=idx, js=js, sub=sub, qc=qc):
                nn, _ = solve_sites(sub, rhs[:, idx] - 2.0 * sm.dz[idx] * y, lg[:, idx], N[:, js])
                return float(nn[0] @ sm.z[idx]) - qc * math.sinh(y * math.log(10.0))

            y = brentq(excess, -30.0, 30.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
            nn, uu = solve_sites(sub, rhs[:, idx] - 2.0 * sm.dz[idx] * y, lg[:, idx], N[:, js])
            n[0, idx] = nn[0]
            u[0, js] = uu[0]
            guess[f"{sname}_psi"] = float(y)
    comp = {s: float(x) for s, x in zip(sm.names, n[0]) if x > 0}
    guess.update({db.surface_masters[k].species: float(u[0, j]) for j, k in enumerate(names)})
    return Surface(db, comp, edl, given, guess)
