"""NASA CEA (PyPI package ``cea``, NASA's Chemical Equilibrium with Applications) as an
independent peer for gas-phase equilibrium: ``cea_equilibrium`` runs one TP or HP problem and
returns the equilibrium temperature and CEA's product mole fractions. Shared by tests and
benchmarks for percent-level sanity checks of chemsolve / Cantera.

- Thermo data: CEA's own database, ``thermo.lib`` shipped inside the ``cea`` package (NASA 9
  coefficient polynomials, 200-6000 K or wider), not gri30's NASA7 data. Agreement with
  chemsolve/Cantera (gri30) is therefore only at the percent level. Observed vs Cantera: CH4/air
  at 2000 K, 1 atm: majors within 0.1 %, O, H, O2, NO within 1.5 %, OH +12 %; adiabatic flame
  T within 1 K; 300 random states of ``gas_cases.random_feeds`` (300-5000 K, 0.01-100 atm):
  species above 1e-2 within 4.5 % (median 0.02-1.3 %), OH 6-12 %, rich-C2H2 leftovers (C2H2,
  HCN) up to 15 %; HP temperatures within 12 K (median 1.4 K). Above gri30's fit ranges
  (3000-5000 K by species) Cantera extrapolates gri30's polynomials while CEA's data go to
  6000 K or beyond (h(CH4, 5000 K) differs by ~6 %), so hot states differ most.
- Products: by default the gas species CEA and gri30 share (``NAME_MAP``) that contain only the
  reactants' elements, so the comparison differs in thermo data only. CEA has no CH2(S), HCNO,
  HOCN, NNH, H2CN, HCNN, HCCOH, CH2CHO, so those gri30 species are absent (all are trace).
  ``products="all"`` uses every gas species of CEA's database made of those elements (CEA's
  usual choice; in rich C/H mixtures it then forms C4H2, C6H6, ... that gri30 lacks, and the
  majors differ from gri30 by up to tens of percent). No ions; CEA's condensed species (C(gr),
  H2O(L), ...) only with ``cea_solve(..., condensed=True)``.
- Units: the CEA Python API takes pressure in **bar** (``cea.units.atm_to_bar``; checked: an
  N2 state solved at "1.0" has density p M/(R T) with p = 1e5 Pa), so ``P [Pa] / 1e5``.
  Temperatures are in K on both sides. For HP the enthalpy is CEA's reactant enthalpy at
  ``T``: ``Mixture.calc_property(ENTHALPY, weights, T)`` (J/kg) divided by ``cea.R``, which is
  the form ``EqSolver.solve(soln, HP, h/R, p_bar, weights)`` expects (as in CEA's samples).
  Reactant amounts are converted with ``moles_to_weights`` (only ratios matter).
- Names: reactants use gri30 names ("AR" -> "Ar", "C2H2" -> "C2H2,acetylene", ...);
  products come back in CEA's names. The Python API strips the '*' prefix that some records
  carry in thermo.lib, so it is "H", "OH", "N2", "Ar" (not "*H"). ``NAME_MAP`` maps CEA
  product names to gri30 names for every species the two share.
- Trace species: CEA is run with ``trace=1e-10`` (its trace mode, needed for species below
  ~5e-6 to be converged at all). CEA sometimes fails to converge in that mode on cold,
  fully burnt states (e.g. CH4/air at 300-450 K); then it is re-run with smooth truncation, and
  last with CEA's default (no trace). Neither converges trace species (the default leaves
  spurious values near 1e-7, smooth truncation is off by orders of magnitude below ~1e-9), so
  after a fallback only species above ``FALLBACK_FLOOR`` = 1e-6 are returned.
  ``cea_solve(...).method`` / ``.floor`` say what was used.

``available()`` imports and initialises ``cea`` once; if the library was not initialised yet,
this module loads the package's own data directory explicitly (``cea.init()`` without a path
looks for ``thermo.lib`` in the current directory first). The library keeps its thermo database
and log level in process-global state, so calls are serialised with a lock; this module sets
CEA's log level to LOG_NONE (CEA otherwise writes solver warnings to the terminal).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PA_PER_BAR = 1.0e5
ONE_ATM = 101325.0
TRACE = 1.0e-10  # CEA trace threshold and the smallest mole fraction reported

# CEA product name -> gri30 name, for every gas species in both (the comma suffixes are CEA's
# isomer labels). Majors: H2O, CO2, CO, OH, H, O, H2, O2, N2, NO, Ar.
NAME_MAP: dict[str, str] = {
    "H2O": "H2O", "CO2": "CO2", "CO": "CO", "OH": "OH", "H": "H", "O": "O", "H2": "H2",
    "O2": "O2", "N2": "N2", "NO": "NO", "Ar": "AR",
    "HO2": "HO2", "H2O2": "H2O2", "C": "C", "CH": "CH", "CH2": "CH2", "CH3": "CH3", "CH4": "CH4",
    "HCO": "HCO", "HCHO,formaldehy": "CH2O", "CH2OH": "CH2OH", "CH3O": "CH3O", "CH3OH": "CH3OH",
    "C2H": "C2H", "C2H2,acetylene": "C2H2", "C2H3,vinyl": "C2H3", "C2H4": "C2H4", "C2H5": "C2H5",
    "C2H6": "C2H6", "HCCO": "HCCO", "CH2CO,ketene": "CH2CO", "CH3CHO,ethanal": "CH3CHO",
    "C3H7,n-propyl": "C3H7", "C3H8": "C3H8", "N": "N", "NH": "NH", "NH2": "NH2", "NH3": "NH3",
    "NO2": "NO2", "N2O": "N2O", "HNO": "HNO", "CN": "CN", "HCN": "HCN", "HNCO": "HNCO",
    "NCO": "NCO",
    "C(gr)": "C(gr)",  # condensed (Cantera's graphite.yaml); only with condensed=True
}
MAJORS = ("H2O", "CO2", "CO", "OH", "H", "O", "H2", "O2", "N2", "NO", "Ar")  # CEA names

# gri30 name -> CEA reactant name (any other name is passed through unchanged)
_TO_CEA = {g: c for c, g in NAME_MAP.items()} | {"HE": "He"}

_MODES = ("TP", "HP")
# Tried in order until CEA reports convergence (see the module docstring):
# name -> (EqSolver options, smallest mole fraction reported from that method's answer).
# Only trace mode converges trace species; the fallbacks are reliable for majors only.
FALLBACK_FLOOR = 1.0e-6
_METHODS = {
    "trace": (dict(trace=TRACE), TRACE),
    "trace+smooth": (dict(trace=TRACE, smooth_truncation=True, truncation_width=1.0),
                     FALLBACK_FLOOR),
    "default": (dict(), FALLBACK_FLOOR),
}

_lock = threading.RLock()
_cea = None  # the imported module, once initialised
_available: bool | None = None
_cache: dict[tuple[tuple[str, ...], str, bool], tuple] = {}


class CEAError(RuntimeError):
    """CEA could not set up or converge a problem."""


@dataclass
class CEAResult:
    T: float  # K
    X: dict[str, float]  # CEA name -> mole fraction (> floor)
    method: str  # key of _METHODS that converged
    floor: float  # smallest mole fraction reported: TRACE, or FALLBACK_FLOOR after a fallback
    P: float  # Pa, as reported back by CEA


def _load():
    """Import and initialise ``cea`` (package data files), once."""
    global _cea
    if _cea is not None:
        return _cea
    with _lock:
        if _cea is None:
            if "cea" not in sys.modules:  # keep the import from loading ./thermo.lib if present
                prev = os.environ.get("CEA_SKIP_INIT")
                os.environ["CEA_SKIP_INIT"] = "1"
                try:
                    import cea
                finally:
                    if prev is None:
                        os.environ.pop("CEA_SKIP_INIT", None)
                    else:
                        os.environ["CEA_SKIP_INIT"] = prev
            import cea

            if not cea.is_initialized():
                cea.init(str(Path(cea.__file__).resolve().parent / "data"))
            cea.set_log_level(cea.LOG_NONE)
            cea.Mixture(["N2"])  # the database answers
            _cea = cea
    return _cea


def available() -> bool:
    """True when ``cea`` imports and initialises (its thermo database loads)."""
    global _available
    if _available is None:
        try:
            _load()
            _available = True
        except Exception:
            _available = False
    return _available


def _cea_name(name: str) -> str:
    return _TO_CEA.get(name, _TO_CEA.get(name.upper(), name))


def _setup(names: tuple[str, ...], products: str, condensed: bool):
    """Reactant mixture, product mixture and lazily built solvers for these reactant names."""
    key = (names, products, condensed)
    entry = _cache.get(key)
    if entry is None:
        cea = _cea
        try:
            reac = cea.Mixture(list(names))
            full = cea.Mixture(list(names), products_from_reactants=True)
        except RuntimeError as e:
            raise CEAError(f"CEA does not know one of {list(names)}: {e}") from None
        ngas = cea.EqSolver(full).num_gas  # products are ordered gases first, then condensed
        gases, solids = list(full.species_names[:ngas]), list(full.species_names[ngas:])
        if products == "gri30":
            only = [s for s in gases if s in NAME_MAP] + (solids if condensed else [])
            prod = cea.Mixture(only)
        elif condensed or not solids:
            prod = full
        else:
            prod = cea.Mixture(list(names), products_from_reactants=True, omit=solids)
        entry = (reac, prod, {})
        _cache[key] = entry
    return entry


def _solver(entry, method: str):
    reac, prod, solvers = entry
    if method not in solvers:
        solvers[method] = _cea.EqSolver(prod, reactants=reac, **_METHODS[method][0])
    return solvers[method]


def cea_solve(reactants: dict[str, float], T: float, P: float, mode: str, *,
              products: str = "gri30", condensed: bool = False) -> CEAResult:
    """Like ``cea_equilibrium`` but returns a ``CEAResult`` (with the CEA method that converged).

    products: "gri30" (default) = CEA gas species that gri30 also has (``NAME_MAP``), so that
    only the thermo data differ from Cantera; "all" = every CEA gas species of the reactants'
    elements (in rich C/H cases CEA then forms C4H2, C6H6, ... that gri30 lacks, and the majors
    differ by up to tens of percent). condensed=True adds CEA's condensed species (C(gr),
    H2O(L), ...; in CEA's mole-fraction basis)."""
    if products not in ("gri30", "all"):
        raise ValueError(f"products must be 'gri30' or 'all', not {products!r}")
    if not available():
        raise CEAError("the cea package is not available")
    mode = mode.upper()
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, not {mode!r}")
    if not (T > 0 and P > 0 and math.isfinite(T) and math.isfinite(P)):
        raise ValueError(f"need finite T > 0 and P > 0, got T={T}, P={P}")
    amounts: dict[str, float] = {}
    for k, v in reactants.items():
        if v < 0 or not math.isfinite(v):
            raise ValueError(f"reactant amounts must be finite and >= 0, got {k}={v}")
        if v > 0:
            c = _cea_name(k)
            amounts[c] = amounts.get(c, 0.0) + float(v)
    if not amounts:
        raise ValueError("no reactant with a positive amount")
    names = tuple(sorted(amounts))
    cea = _cea
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "EqSolver.solve: CEA_NOT_CONVERGED"
        entry = _setup(names, products, condensed)
        reac = entry[0]
        weights = reac.moles_to_weights(np.array([amounts[n] for n in names]))
        p_bar = P / PA_PER_BAR  # CEA takes bar
        if mode == "TP":
            eq, state1 = cea.TP, float(T)
        else:  # reactant enthalpy at T [J/kg] / R, as EqSolver.solve expects for HP
            eq, state1 = cea.HP, float(reac.calc_property(cea.ENTHALPY, weights, float(T))) / cea.R
        for method in _METHODS:
            sol = cea.EqSolution(_solver(entry, method))  # fresh: no warm start from a past call
            try:
                _solver(entry, method).solve(sol, eq, state1, p_bar, weights)
            except RuntimeError:
                continue
            if not sol.converged or not (sol.T > 0 and math.isfinite(sol.T)):
                continue
            X = {k: float(v) for k, v in sol.mole_fractions.items()}
            if abs(sum(X.values()) - 1.0) > 1e-6:
                continue
            floor = _METHODS[method][1]
            return CEAResult(T=float(sol.T), X={k: v for k, v in X.items() if v > floor},
                             method=method, floor=floor, P=float(sol.P) * PA_PER_BAR)
    raise CEAError(f"CEA did not converge: {reactants} T={T} P={P} {mode}")


def cea_equilibrium(reactants: dict[str, float], T: float, P: float, mode: str, *,
                    products: str = "gri30") -> tuple[float, dict[str, float]]:
    """Equilibrium by NASA CEA with CEA's own thermo data.

    reactants: moles of species named as in Cantera's gri30.yaml (e.g. {"CH4": 1, "O2": 2,
    "N2": 7.52, "AR": 0.09}, also "H2", "C3H8", "C2H2"); T [K] of the reactants (the fixed T
    for TP; for HP it sets the enthalpy); P [Pa]; mode "TP" or "HP".
    Returns (T_equilibrium [K], {species name in CEA's naming: mole fraction}) for products
    above 1e-10 (above 1e-6 in the rare states where CEA's trace mode does not converge, e.g.
    cold burnt gas below ~500 K; ``cea_solve`` reports which). Products are CEA's gas species
    that gri30 also has (``products="all"``: every CEA gas species of those elements; see
    ``cea_solve``). Raises CEAError if CEA is unavailable or does not converge, ValueError on
    bad input. ``NAME_MAP`` translates the names to gri30 (``to_gri30`` does it for a dict).
    """
    r = cea_solve(reactants, T, P, mode, products=products)
    return r.T, r.X


def to_gri30(X: dict[str, float]) -> dict[str, float]:
    """CEA-named mole fractions -> gri30 names, for the species in ``NAME_MAP`` only."""
    return {NAME_MAP[k]: v for k, v in X.items() if k in NAME_MAP}
