"""Reader for PHREEQC-format thermodynamic databases (phreeqc.dat, wateq4f.dat, minteq.v4.dat...).

Reads SOLUTION_MASTER_SPECIES, SOLUTION_SPECIES and PHASES: reaction equations (parsed into
stoichiometry), ``log_k``, ``delta_h`` (van 't Hoff), ``-analytic`` temperature expressions,
``-add_logk`` / ``-add_constant`` (NAMED_EXPRESSIONS added to log K, as PHREEQC's tidy.cpp),
``-gamma a b`` (WATEQ Debye-Hueckel parameters), ``-llnl_gamma``, ``-co2_llnl_gamma`` and
``-activity_water`` (other activity rules, stored), ``-Vm`` (molar volumes of species and phases: the
pressure dependence of log K) and ``-T_c``, ``-P_c``, ``-Omega`` (Peng-Robinson data of gases).

EXCHANGE_MASTER_SPECIES and EXCHANGE_SPECIES are read for ion exchange (``exchange``),
SURFACE_MASTER_SPECIES and SURFACE_SPECIES for surface complexation (``surface``; a species with
``-cd_music`` is refused where a surface would use it). PITZER, SIT and LLNL_AQUEOUS_MODEL_PARAMETERS
(with -llnl_gamma, -co2_llnl_gamma) are read into typed data and solved as the database's activity model
(``activity_models``). What a database holds that
chemsolve reads but does not model yet is listed in ``Database.unmodelled`` (block or option,
file:line, why); what it does not read at all (RATES, ISOTOPES, diffusion coefficients, viscosity,
...) in ``Database.skipped``; both in *one* warning per database and process, never silently. A
database whose activity model chemsolve does not model (species with -llnl_gamma but no
LLNL_AQUEOUS_MODEL_PARAMETERS) is refused by the speciation (``check_activity_model``) unless the
ion-association model is asked for explicitly.

Reactions are checked for element and charge balance unless marked ``-no_check``, as PHREEQC does
(element names as PHREEQC reads them: a capital letter and lower-case letters or underscores, or a
bracketed isotope name such as ``[13C]`` or ``[18O]``; a phase's "(g)" or "(s)" is not part of its
formula). A malformed line raises ``DatabaseError`` naming the file and line.

The text is parsed as data: no ``eval``, nothing executed.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "BUNDLED",
    "Database",
    "DatabaseError",
    "DatabaseWarning",
    "ExchangeSpecies",
    "InteractionParameter",
    "LlnlModel",
    "MasterSpecies",
    "NamedExpression",
    "Phase",
    "PitzerModel",
    "Reaction",
    "SiteMaster",
    "SitModel",
    "Species",
    "SurfaceSpecies",
    "Unmodelled",
    "check_activity_model",
    "load_database",
    "parse_formula",
    "species_charge",
]

# every database PHREEQC distributes (see chemsolve/data/README.md for their provenance)
BUNDLED = ("phreeqc.dat", "wateq4f.dat", "minteq.v4.dat", "llnl.dat", "pitzer.dat", "sit.dat", "Amm.dat", "iso.dat",
           "ColdChem.dat", "core10.dat", "frezchem.dat")
R_KJ = 8.31470e-3  # gas constant [kJ/(mol K)], the value PHREEQC uses (global_structures.h), so log K(T) matches it
T_REF = 298.15  # [K]
LN10 = math.log(10.0)

# Keyword blocks chemsolve reads (the first four used by its models; the others read into typed
# data, listed as not modelled yet), and the others PHREEQC knows (skipped with a warning).
_READ = ("SOLUTION_MASTER_SPECIES", "SOLUTION_SPECIES", "PHASES", "NAMED_EXPRESSIONS",
         "EXCHANGE_MASTER_SPECIES", "EXCHANGE_SPECIES",  # ion exchange: chemsolve.aqueous.exchange
         "SURFACE_MASTER_SPECIES", "SURFACE_SPECIES")  # surface complexation: chemsolve.aqueous.surface
_NOT_MODELLED = {  # (PITZER and SIT are modelled now: chemsolve.aqueous.activity_models; read here as before)
    "PITZER": "the Pitzer activity model; data in Database.pitzer",
    "SIT": "the SIT activity model; data in Database.sit",
    "LLNL_AQUEOUS_MODEL_PARAMETERS": "the LLNL B-dot activity model; data in Database.llnl",
}
# activity models the speciation solves (activity_models), and the species options of LLNL's
_MODELLED_BLOCKS = frozenset({"PITZER", "SIT", "LLNL_AQUEOUS_MODEL_PARAMETERS"})
_MODELLED_SPECIES_OPTS = frozenset({"llnl_gamma", "co2_llnl_gamma"})
_SKIPPED_KEYWORDS = frozenset(
    """RATES GAS_BINARY_PARAMETERS MEAN_GAMMAS CALCULATE_VALUES
    ISOTOPES ISOTOPE_RATIOS ISOTOPE_ALPHAS SOLUTION SOLUTION_SPREAD SELECTED_OUTPUT USER_PUNCH USER_PRINT
    USER_GRAPH KNOBS EQUILIBRIUM_PHASES EXCHANGE SURFACE GAS_PHASE KINETICS REACTION REACTION_TEMPERATURE
    REACTION_PRESSURE MIX PRINT TITLE DATABASE SAVE USE INCREMENTAL_REACTIONS INVERSE_MODELING
    SOLID_SOLUTIONS TRANSPORT ADVECTION COPY DELETE RUN_CELLS DUMP""".split()
)
_KEYWORDS = frozenset(_READ) | frozenset(_NOT_MODELLED) | _SKIPPED_KEYWORDS | {"END"}
# species options that select another activity rule (read.cpp read_species: gflag 7, 8, 9)
_SPECIES_ACTIVITY_OPTS = {
    "llnl_gamma": "LLNL B-dot activity coefficients (-llnl_gamma)",
    "co2_llnl_gamma": "the LLNL CO2 activity coefficient (-co2_llnl_gamma)",
    "activity_water": "activity of an isotopic water species from the activity of water (-activity_water)",
}

# Options of each block, in PHREEQC's order (read.cpp: read_species, read_phases,
# read_exchange_species, read_surface_species). As in PHREEQC, "-x..." on a line is an option if it
# is a prefix of one of these (the first in this order wins: "-del" is delta_h, "-a" analytical
# expression); an unknown "-x" is an error; a line without the dash is an option only when its first
# word is one exactly ("log_k 3.2"), else a reaction (or a phase name).
_SPECIES_OPTS = ("no_check", "check", "gamma", "mb", "mass_balance", "log_k", "logk", "delta_h", "deltah",
                 "analytical_expression", "a_e", "ae", "mole_balance", "llnl_gamma", "co2_llnl_gamma",
                 "activity_water", "add_logk", "add_log_k", "add_constant", "dw", "erm_ddl", "millero", "vm",
                 "viscosity")
_PHASE_OPTS = ("no_check", "check", "log_k", "logk", "delta_h", "deltah", "analytical_expression", "a_e", "ae",
               "add_logk", "add_log_k", "add_constant", "t_c", "p_c", "omega", "vm")
_EXCHANGE_OPTS = ("no_check", "check", "mb", "mass_balance", "log_k", "logk", "delta_h", "deltah",
                  "analytical_expression", "a_e", "ae", "mole_balance", "gamma", "davies", "offset", "llnl_gamma",
                  "add_logk", "add_log_k", "add_constant", "vm")
_SURFACE_OPTS = ("no_check", "check", "mb", "mass_balance", "log_k", "logk", "delta_h", "deltah",
                 "analytical_expression", "a_e", "ae", "mole_balance", "offset", "add_logk", "add_log_k",
                 "add_constant", "cd_music", "music", "vm")
_BLOCK_OPTS = {"SOLUTION_SPECIES": _SPECIES_OPTS, "PHASES": _PHASE_OPTS, "EXCHANGE_SPECIES": _EXCHANGE_OPTS,
               "SURFACE_SPECIES": _SURFACE_OPTS}
_SPECIES_BLOCKS = ("SOLUTION_SPECIES", "EXCHANGE_SPECIES", "SURFACE_SPECIES")
_MASTER_BLOCKS = ("SOLUTION_MASTER_SPECIES", "EXCHANGE_MASTER_SPECIES", "SURFACE_MASTER_SPECIES")
_NAMED_OPTS = ("log_k", "logk", "delta_h", "deltah", "analytical_expression", "a_e", "ae", "ln_alpha1000",
               "add_logk", "add_log_k", "vm")
_CANON = {"logk": "log_k", "deltah": "delta_h", "analytical_expression": "analytic", "a_e": "analytic",
          "ae": "analytic", "mb": "mass_balance", "mole_balance": "mass_balance", "add_log_k": "add_logk",
          "music": "cd_music"}
# PITZER options (pitzer.cpp read_pitzer) -> (parameter type, number of species per row); None: a switch
_PITZER_OPTS = {"b0": ("B0", 2), "b1": ("B1", 2), "b2": ("B2", 2), "c0": ("C0", 2), "theta": ("THETA", 2),
                "lamda": ("LAMDA", 2), "zeta": ("ZETA", 3), "psi": ("PSI", 3), "macinnes": None, "macinnis": None,
                "mac": None, "redox": None, "pe": None, "alphas": ("ALPHAS", 2), "mu": ("MU", 3), "eta": ("ETA", 3),
                "etheta": None, "use_etheta": None, "lambda": ("LAMDA", 2), "aphi": ("APHI", 0)}
_PITZER_SWITCH = {"macinnes": "macinnes", "macinnis": "macinnes", "mac": "macinnes", "redox": "redox",
                  "pe": "redox", "etheta": "use_etheta", "use_etheta": "use_etheta"}
_SIT_OPTS = {"epsilon": ("EPSILON", 2), "epsilon1": ("EPSILON1", 2), "epsilon2": ("EPSILON2", 2)}
# LLNL_AQUEOUS_MODEL_PARAMETERS options (read.cpp read_llnl_aqueous_model_parameters) -> field
_LLNL_OPTS = {"temperatures": "temperatures", "temperature": "temperatures", "temp": "temperatures",
              "adh": "dh_a", "debye_huckel_a": "dh_a", "dh_a": "dh_a", "bdh": "dh_b", "debye_huckel_b": "dh_b",
              "dh_b": "dh_b", "bdot": "bdot", "b_dot": "bdot", "c_co2": "co2_coefs", "co2_coefs": "co2_coefs",
              "use_phreeqc_dha_dhb": "use_phreeqc_dha_dhb"}
# options PHREEQC refuses without a number first (read_vm_only, read_aq_species_vm_parms, read_t_c_only,
# read_p_c_only, read_omega_only, read_millero_abcdef, read_viscosity_parms; dw): chemsolve does not use
# them (molar volumes, diffusion, viscosity, critical data for Peng-Robinson), but checks them as PHREEQC does
_NEEDS_NUMBER = {"vm", "dw", "t_c", "p_c", "omega", "millero", "viscosity"}

_KCAL = 4.184  # kJ per kcal
_ENERGY_UNITS = {"kj": 1.0, "kjoules": 1.0, "kilojoules": 1.0, "kcal": _KCAL, "kcalories": _KCAL,
                 "kilocalories": _KCAL, "j": 1e-3, "joules": 1e-3, "cal": _KCAL * 1e-3, "calories": _KCAL * 1e-3}


class DatabaseError(InvalidInputError):
    """A database file could not be read; the message names file, line and the offending text."""


class DatabaseWarning(UserWarning):
    """Parts of a database that chemsolve skipped (listed in the message)."""


@dataclass(frozen=True)
class Reaction:
    """``sum(coef * species) = 0`` with products positive: ``{"HCO3-": 1, "CO3-2": -1, "H+": -1}``.

    Attributes
    ----------
    log_k
        log10 K at 298.15 K. delta_h : reaction enthalpy [kJ/mol] or None.
    analytic
        up to six coefficients A1..A6 of
        log10 K = A1 + A2 T + A3/T + A4 log10(T) + A5/T^2 + A6 T^2  (T in K), or None.
    """

    stoich: dict[str, float]
    log_k: float = 0.0
    delta_h: float | None = None
    analytic: tuple[float, ...] | None = None
    added: tuple[float, ...] | None = None  # c1..c6 added to the expression: -add_logk, -add_constant, phases
    # named in a phase's reaction (see log_k_coeffs)

    def log_k_coeffs(self) -> tuple[float, ...]:
        """(c1..c6) with log10 K(T) = c1 + c2 T + c3/T + c4 log10(T) + c5/T^2 + c6 T^2: the analytic
        expression if given, else van 't Hoff (c1 = log K + dH/(R ln10 298.15), c3 = -dH/(R ln10));
        plus ``added``, the coefficients of the named expressions of ``-add_logk`` (and constants of
        ``-add_constant``) times their factors, as PHREEQC's add_other_logk, and of the phases a
        phase's reaction names ("H2O(g)"), as its replace_solids_gases."""
        if self.analytic is not None:
            own = self.analytic + (0.0,) * (6 - len(self.analytic))
        else:
            own = _van_t_hoff(self.log_k, self.delta_h)
        if self.added is None:
            return own
        return tuple(a + b for a, b in zip(own, self.added))

    def log_k_at(self, T: float) -> float:
        """log10 K at temperature ``T`` [K]: the analytic expression if given, else van 't Hoff."""
        if self.analytic is None and self.added is None and (self.delta_h is None or T == T_REF):
            return self.log_k
        return float(np.dot(self.log_k_coeffs(), log_k_basis(T)))


def _van_t_hoff(log_k: float, delta_h: float | None) -> tuple[float, ...]:
    """log K(T) = log K + dH/(R ln10) (1/298.15 - 1/T) as the six coefficients of ``log_k_basis``."""
    if delta_h is None:
        return (log_k, 0.0, 0.0, 0.0, 0.0, 0.0)
    s = delta_h / (R_KJ * LN10)
    return (log_k + s / T_REF, 0.0, -s, 0.0, 0.0, 0.0)


def log_k_basis(T):
    """The six temperature functions the log K coefficients multiply: 1, T, 1/T, log10 T, 1/T^2, T^2.
    T [K] a scalar -> shape (6,); an array of shape (N,) -> (6, N)."""
    T = np.asarray(T, dtype=np.float64)
    return np.array([np.ones_like(T), T, 1.0 / T, np.log10(T), 1.0 / T**2, T**2])


@dataclass(frozen=True)
class MasterSpecies:
    """A row of SOLUTION_MASTER_SPECIES: ``element`` (e.g. "C(4)"), its master ``species``
    ("CO3-2"), alkalinity contribution ``alk``, and gram formula weight of the element."""

    element: str
    species: str
    alk: float
    gfw_formula: str
    gfw: float | None
    line: int


@dataclass(frozen=True)
class Species:
    """An aqueous species of SOLUTION_SPECIES, defined by its formation ``reaction``.

    charge : from the name ("CO3-2" -> -2). gamma : (a [Angstrom], b) of the WATEQ
    Debye-Hueckel equation when ``-gamma`` is given, else None (the database's default rule).
    elements : element counts of the formula (None for e-). mass_balance : PHREEQC's -mass_balance,
    what one mole counts in the mass balances when it differs from its reaction ("HS- = S4-2 + H+"
    with -mass_balance S(-2)4: four S(-2), although the reaction has one HS-); None otherwise.
    """

    name: str
    reaction: Reaction
    charge: float
    elements: dict[str, float]
    gamma: tuple[float, float] | None
    line: int
    mass_balance: dict[str, float] | None = None  # -mass_balance: counts in mass balances, e.g. {"S(-2)": 4}
    vm: tuple[float, ...] | None = None  # -Vm: a1..a4 [cm3/mol with PHREEQC's factors applied], W, b_Av, i1..i4
    llnl_gamma: float | None = None  # -llnl_gamma a: ion size [Angstrom] of the LLNL B-dot equation (llnl.dat)
    co2_llnl_gamma: bool = False  # -co2_llnl_gamma: LLNL's CO2 activity coefficient (Drummond polynomial)
    activity_water: bool = False  # -activity_water: activity from the activity of water (iso.dat's HDO, H2[18O])


@dataclass(frozen=True)
class Phase:
    """A mineral or gas of PHASES: ``formula`` dissolves by ``reaction`` (formula coefficient -1).

    products : aqueous species released per formula unit dissolved (negative: consumed), kept
    apart from ``reaction`` because a gas like "CO2 = CO2" cancels there.
    """

    name: str
    formula: str
    reaction: Reaction
    elements: dict[str, float]
    line: int
    products: dict[str, float] = field(default_factory=dict)
    vm0: float = 0.0  # -Vm: molar volume of the phase [cm3/mol]; 0 when not given
    t_c: float = 0.0  # -T_c [K], -P_c [atm], -Omega: Peng-Robinson data of a gas (0 when not given)
    p_c: float = 0.0
    omega: float = 0.0


@dataclass(frozen=True)
class SiteMaster:
    """A row of EXCHANGE_MASTER_SPECIES ("X X-") or SURFACE_MASTER_SPECIES ("Hfo_w Hfo_wOH"): the
    exchanger or surface site ``element`` and its master ``species``."""

    element: str
    species: str
    line: int


@dataclass(frozen=True)
class ExchangeSpecies:
    """An exchange species of EXCHANGE_SPECIES ("Na+ + X- = NaX"), as PHREEQC reads it (read.cpp
    read_exchange_species).

    reaction : formation reaction with log K [log10, for the half-reaction as written], delta_h
    [kJ/mol], analytic, added (-add_logk), as for aqueous species; ``-offset`` is already added to log K.
    gamma : (a [Angstrom], b, a_f) of ``-gamma a b [a_f]`` (WATEQ Debye-Hueckel activity coefficient of
    the exchange species, a_f the optional fraction factor) or None; ``-gamma 0 0`` means Davies, as in
    PHREEQC. davies : ``-davies`` (Davies activity coefficient). Neither: the activity is the
    equivalent fraction (Gaines-Thomas convention, no coefficient). llnl_gamma : ``-llnl_gamma a``
    [Angstrom].
    mass_balance : ``-mole_balance`` counts in mass balances, as for aqueous species.
    """

    name: str
    reaction: Reaction
    charge: float
    elements: dict[str, float]
    line: int
    gamma: tuple[float, float, float] | None = None
    davies: bool = False
    llnl_gamma: float | None = None
    mass_balance: dict[str, float] | None = None


@dataclass(frozen=True)
class SurfaceSpecies:
    """A surface species of SURFACE_SPECIES ("Hfo_wOH + H+ = Hfo_wOH2+"), as PHREEQC reads it
    (read.cpp read_surface_species): ``reaction`` as for aqueous species (``-offset`` added to log K);
    ``cd_music`` the up to five numbers of ``-cd_music`` (charge distribution over the 0, 1, 2
    planes and the fraction and charge of the ligand), None when not given; ``mass_balance`` as
    for aqueous species."""

    name: str
    reaction: Reaction
    charge: float
    elements: dict[str, float]
    line: int
    cd_music: tuple[float, ...] | None = None
    mass_balance: dict[str, float] | None = None


@dataclass(frozen=True)
class InteractionParameter:
    """A row of PITZER (``-B0 Na+ Cl- 0.0765 ...``) or SIT (``-epsilon Na+ Cl- 0.03``).

    kind : PITZER: B0, B1, B2, C0, THETA, LAMDA, ZETA, PSI, ALPHAS, MU, ETA, APHI; SIT: EPSILON,
    EPSILON1, EPSILON2. species : the 2 (3 for ZETA, PSI, MU, ETA; 0 for APHI) species names.
    coeffs : the up to six numbers a0..a5 as written (PHREEQC reads at most six; fewer mean the
    others are 0). The parameter at T [K] (pitzer.cpp calc_pitz_param, sit.cpp calc_sit_param):
    P(T) = a0 + a1 (1/T - 1/Tr) + a2 ln(T/Tr) + a3 (T - Tr) + a4 (T^2 - Tr^2) [+ a5 (1/T^2 - 1/Tr^2),
    PITZER only], Tr = 298.15 K; units those of the parameter (kg/mol for B0, B1, THETA, LAMDA;
    (kg/mol)^2 for C0, PSI, ZETA; ALPHAS the two alpha values [(kg/mol)^(1/2)]).
    """

    kind: str
    species: tuple[str, ...]
    coeffs: tuple[float, ...]
    line: int

    def value_at(self, T: float) -> float:
        """The parameter at ``T`` [K], as PHREEQC evaluates it."""
        a = self.coeffs + (0.0,) * (6 - len(self.coeffs))
        sit = self.kind.startswith("EPSILON")
        if abs(T - T_REF) < (0.01 if sit else 0.001):
            return a[0]
        v = a[0] + a[1] * (1.0 / T - 1.0 / T_REF) + a[2] * math.log(T / T_REF) + a[3] * (T - T_REF) \
            + a[4] * (T * T - T_REF * T_REF)
        return v if sit else v + a[5] * (1.0 / (T * T) - 1.0 / (T_REF * T_REF))


@dataclass
class PitzerModel:
    """The PITZER block(s) of a database (pitzer.dat, frezchem.dat, ColdChem.dat).

    parameters : rows keyed, as PHREEQC keys them, by (kind, the sorted set of species): a later
    row for the same key replaces the earlier (PHREEQC warns "Redefinition of parameter").
    aphi : the ``-APHI`` expression of the Debye-Hueckel limiting slope A_phi, if given.
    macinnes, use_etheta, redox : the switches ``-MacInnes``, ``-use_etheta`` (``-ETHETA``) and
    ``-redox`` (``-pe``) as written; None when the database does not set them (PHREEQC's defaults:
    MacInnes scaling on, E-theta on, redox off). lines : the line of each PITZER block.
    """

    parameters: dict[tuple[str, tuple[str, ...]], InteractionParameter] = field(default_factory=dict)
    aphi: InteractionParameter | None = None
    macinnes: bool | None = None
    use_etheta: bool | None = None
    redox: bool | None = None
    lines: list[int] = field(default_factory=list)

    def count(self, kind: str) -> int:
        """Number of parameters of one ``kind`` ("B0", ...)."""
        return sum(1 for k in self.parameters if k[0] == kind)


@dataclass
class SitModel:
    """The SIT block(s) of a database (sit.dat): epsilon parameters keyed as PHREEQC keys them,
    (kind, sorted species); lines : the line of each SIT block."""

    parameters: dict[tuple[str, tuple[str, ...]], InteractionParameter] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)


@dataclass
class LlnlModel:
    """LLNL_AQUEOUS_MODEL_PARAMETERS (llnl.dat, core10.dat): the B-dot activity model's tables.

    temperatures [deg C] and, at each, dh_a (Debye-Hueckel A [(kg/mol)^(1/2)]), dh_b (B
    [(kg/mol)^(1/2)/Angstrom]) and bdot [kg/mol]; co2_coefs : the five coefficients of the Drummond
    (1981) polynomial of CO2's activity coefficient. use_phreeqc_dha_dhb : as written (None: not set).
    PHREEQC requires equal numbers (> 0) of temperatures, dh_a, dh_b, bdot and five co2_coefs.
    """

    temperatures: list[float] = field(default_factory=list)
    dh_a: list[float] = field(default_factory=list)
    dh_b: list[float] = field(default_factory=list)
    bdot: list[float] = field(default_factory=list)
    co2_coefs: list[float] = field(default_factory=list)
    use_phreeqc_dha_dhb: bool | None = None
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class NamedExpression:
    """A NAMED_EXPRESSIONS entry: a log K expression species add with ``-add_logk name factor``.
    log_k, delta_h [kJ/mol], analytic as for reactions (``-ln_alpha1000`` stored as the analytic
    expression divided by 1000 ln 10, as PHREEQC); add : other expressions it adds (name, factor)."""

    name: str
    log_k: float
    delta_h: float | None
    analytic: tuple[float, ...] | None
    add: tuple[tuple[str, float], ...]
    line: int


@dataclass(frozen=True)
class Unmodelled:
    """Something a database holds that chemsolve reads but does not model yet: ``what`` (a block,
    or an option), ``lines`` where it starts (file:line, each block occurrence), ``why`` (what it is
    for and where the data went)."""

    what: str
    lines: tuple[str, ...]
    why: str

    def __str__(self) -> str:
        return f"{self.what} at {', '.join(self.lines)}: read, not modelled yet ({self.why})"


@dataclass
class Database:
    """A parsed PHREEQC database. ``masters`` keyed by element name, ``species`` and ``phases`` by
    name, in file order. Also read (chemsolve's solvers do not use them yet): ``exchange_masters``,
    ``exchange_species``, ``surface_masters``, ``surface_species``, ``pitzer``, ``sit``, ``llnl``
    (None when the database has no such block), ``named_expressions``. ``unmodelled`` lists what is
    read but not modelled yet, ``skipped`` what was not read (block or option -> first file:line);
    both are shown in one DatabaseWarning when the database is first loaded in a process.
    ``use_ion_association``: set by ``load_database(..., activity_model="ion-association")`` to run
    PHREEQC's ion-association model on a database whose own activity model is another."""

    path: str
    masters: dict[str, MasterSpecies] = field(default_factory=dict)
    species: dict[str, Species] = field(default_factory=dict)
    phases: dict[str, Phase] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    exchange_masters: dict[str, SiteMaster] = field(default_factory=dict)
    exchange_species: dict[str, ExchangeSpecies] = field(default_factory=dict)
    surface_masters: dict[str, SiteMaster] = field(default_factory=dict)
    surface_species: dict[str, SurfaceSpecies] = field(default_factory=dict)
    pitzer: PitzerModel | None = None
    sit: SitModel | None = None
    llnl: LlnlModel | None = None
    named_expressions: dict[str, NamedExpression] = field(default_factory=dict)
    unmodelled: list[Unmodelled] = field(default_factory=list)
    use_ion_association: bool = False

    def __repr__(self) -> str:
        return (f"Database({Path(self.path).name!r}: {len(self.masters)} master species, "
                f"{len(self.species)} aqueous species, {len(self.phases)} phases)")

    @property
    def activity_model(self) -> str:
        """The activity model the database selects in PHREEQC: "pitzer" (a PITZER block), "sit" (a
        SIT block), "llnl" (LLNL_AQUEOUS_MODEL_PARAMETERS, or species with -llnl_gamma /
        -co2_llnl_gamma) or "ion-association" (Debye-Hueckel, WATEQ and Davies: the one chemsolve
        models)."""
        if self.pitzer is not None:
            return "pitzer"
        if self.sit is not None:
            return "sit"
        if self.llnl is not None or any(s.llnl_gamma is not None or s.co2_llnl_gamma for s in self.species.values()):
            return "llnl"
        return "ion-association"

    def formula_weight(self, element: str) -> float:
        """Gram formula weight [g/mol] by which PHREEQC turns a mass concentration of ``element``
        (a SOLUTION_MASTER_SPECIES key, e.g. "C(+4)") into moles: the weight of the row's
        gfw_formula column (HCO3 for C(+4), SO4 for S(6), SiO2 for Si in phreeqc.dat), summed from
        the element weights of the primary rows, or the number written in its place."""
        m = self.masters.get(element)
        if m is None:
            raise DatabaseError(f"{self.path}: no SOLUTION_MASTER_SPECIES row for {element!r}")
        try:
            return float(m.gfw_formula)
        except ValueError:
            pass
        total = 0.0
        for el, n in parse_formula(m.gfw_formula).items():
            w = self.masters[el].gfw if el in self.masters else None
            if w is None:
                raise DatabaseError(f"{self.path}:{m.line}: gram formula weight of {element!r} needs the "
                                    f"element weight of {el!r} (fifth column of its primary row)")
            total += n * w
        return total


# ------------------------------------------------------------------ formulas
_CHARGE_RE = re.compile(r"([+-])(\d*\.?\d*)$")
# an element: a capital and lower-case letters or underscores, or a bracketed name ("[13C]", "[18O]")
# followed by lower-case letters (parse.cpp get_elt)
_ELEMENT = r"\[[^\[\]]+\][a-z_]*|[A-Z][a-z_]*"
_TOKEN_RE = re.compile(rf"({_ELEMENT})|(\()|(\))(\d*\.?\d*)|(\d+\.?\d*|\.\d+)")


def species_charge(name: str) -> float:
    """Charge from a PHREEQC species name: "Ca+2" -> 2, "HCO3-" -> -1, "e-" -> -1, "H2O" -> 0."""
    m = _CHARGE_RE.search(name)
    if not m:
        return 0.0
    mag = float(m.group(2)) if m.group(2) not in ("", ".") else 1.0
    return mag if m.group(1) == "+" else -mag


def parse_formula(formula: str) -> dict[str, float]:
    """Element counts of a formula: "CaMg(CO3)2" -> {"Ca": 1, "Mg": 1, "C": 2, "O": 6};
    hydrates ("CaSO4:2H2O"), decimals ("Ca0.5(CO3)0.5") and a trailing charge are handled.
    Elements are a capital letter followed by lower-case letters (PHREEQC's rule, so names
    like "Hdg" or "Benzoate" are elements too), or a bracketed isotope name ("H2[18O]" ->
    {"H": 2, "[18O]": 1}). Raises ValueError on anything else."""
    if formula == "e-":
        return {}
    body = _CHARGE_RE.sub("", formula) if _CHARGE_RE.search(formula) else formula
    total: dict[str, float] = {}
    for part_no, part in enumerate(body.split(":")):
        mult = 1.0
        m = re.match(r"^(\d+\.?\d*|\.\d+)", part)
        if m and part_no > 0:  # hydrate water count: "2H2O"
            mult = float(m.group(1))
            part = part[m.end():]
        for el, n in _parse_group(part, formula).items():
            total[el] = total.get(el, 0.0) + mult * n
    return total


def _parse_group(s: str, whole: str) -> dict[str, float]:
    stack: list[dict[str, float]] = [{}]
    last: dict[str, float] | str | None = None  # what a following number multiplies
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m:
            raise ValueError(f"cannot read formula {whole!r} at {s[pos:]!r}")
        pos = m.end()
        el, opn, cls, cls_n, num = m.groups()
        if el:
            stack[-1][el] = stack[-1].get(el, 0.0) + 1.0
            last = el
        elif opn:
            stack.append({})
            last = None
        elif cls:
            if len(stack) == 1:
                raise ValueError(f"unbalanced ')' in formula {whole!r}")
            inner = stack.pop()
            k = float(cls_n) if cls_n else 1.0
            for e, n in inner.items():
                stack[-1][e] = stack[-1].get(e, 0.0) + k * n
            last = None
        else:  # a number right after an element multiplies that element
            if not isinstance(last, str):
                raise ValueError(f"misplaced number in formula {whole!r}")
            stack[-1][last] += float(num) - 1.0
            last = None
    if len(stack) != 1:
        raise ValueError(f"unbalanced '(' in formula {whole!r}")
    return stack[0]


# ------------------------------------------------------------------ reactions
_COEF_RE = re.compile(r"^(\d+\.?\d*|\.\d+)(?=[A-Za-z(\[])")


def _parse_side(side: str) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    coef = None
    sign = 1.0
    for tok in side.split():
        if tok == "+":
            continue
        if tok == "-":  # "KH = K+ - H+": the next species with a negative coefficient (PHREEQC's parse)
            sign = -sign
            continue
        try:
            coef = float(tok)
            continue
        except ValueError:
            pass
        m = _COEF_RE.match(tok)
        if m:
            c, tok = float(m.group(1)), tok[m.end():]
        else:
            c = 1.0
        out.append((normalize_species_name(tok), sign * c * (coef if coef is not None else 1.0)))
        coef = None
        sign = 1.0
    if coef is not None or not out:
        raise ValueError(f"cannot read reaction side {side!r}")
    return out


def normalize_species_name(name: str) -> str:
    """A species name with its charge written as PHREEQC stores it (parse.cpp get_charge): "Cu+1" ->
    "Cu+", "Fe++" -> "Fe+2", "CO3--" -> "CO3-2", "X+0" -> "X"; a fractional charge is kept."""
    if name == "e-":
        return name
    m = re.search(r"[+-]", name)
    if not m or m.start() == 0:
        return name
    body, ch = name[: m.start()], name[m.start():]
    if re.fullmatch(r"\++|-+", ch):
        z = len(ch) if ch[0] == "+" else -len(ch)
    elif re.fullmatch(r"[+-]\d+(\.0*)?", ch):
        z = int(float(ch))
    else:
        return name
    return body + ("" if z == 0 else "+" if z == 1 else "-" if z == -1 else f"{z:+d}")


def parse_reaction(text: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """"CO3-2 + H+ = HCO3-" -> ([("CO3-2", 1), ("H+", 1)], [("HCO3-", 1)])."""
    if text.count("=") != 1:
        raise ValueError(f"a reaction needs exactly one '=': {text!r}")
    left, right = text.split("=")
    return _parse_side(left), _parse_side(right)


def _stoich(lhs: list[tuple[str, float]], rhs: list[tuple[str, float]]) -> dict[str, float]:
    st: dict[str, float] = {}
    for name, c in rhs:
        st[name] = st.get(name, 0.0) + c
    for name, c in lhs:
        st[name] = st.get(name, 0.0) - c
    return {k: v for k, v in st.items() if v != 0.0}


def _balance_error(st: dict[str, float]) -> str | None:
    """None when the reaction conserves elements and charge, else a description."""
    el: dict[str, float] = {}
    charge = 0.0
    for name, c in st.items():
        charge += c * species_charge(name)
        for e, n in parse_formula(name).items():
            el[e] = el.get(e, 0.0) + c * n
    bad = {e: v for e, v in el.items() if abs(v) > 1e-6}
    if bad or abs(charge) > 1e-6:
        parts = [f"{e} off by {v:+g}" for e, v in bad.items()]
        if abs(charge) > 1e-6:
            parts.append(f"charge off by {charge:+g}")
        return ", ".join(parts)
    return None


# ------------------------------------------------------------------ the reader
def _logical_lines(text: str):
    """(line number, stripped statement) with comments removed and ';' split."""
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        for stmt in line.split(";"):
            stmt = stmt.strip()
            if stmt:
                yield no, stmt


def _leading_numbers(tokens: list[str]) -> list[float]:
    """The numbers at the start of ``tokens`` (as C's sscanf reads them: up to the first that is not one)."""
    out = []
    for t in tokens:
        try:
            out.append(float(t))
        except ValueError:
            break
    return out


def _numbers(tokens: list[str], where: str, what: str) -> list[float]:
    vals = []
    for t in tokens:
        try:
            vals.append(float(t))
        except ValueError:
            raise DatabaseError(f"{where}: {what}: {t!r} is not a number") from None
    return vals


class _Entry:
    """An entry being read (species or phase): reaction text and options until the next one."""

    def __init__(self, kind: str, name: str, where: str, line: int):
        self.kind, self.name, self.where, self.line = kind, name, where, line
        self.reaction: tuple | None = None
        self.log_k = 0.0
        self.delta_h: float | None = None
        self.analytic: tuple[float, ...] | None = None
        self.gamma: tuple[float, float] | None = None
        self.no_check = False
        self.mass_balance: dict[str, float] | None = None
        self.vm: tuple[float, ...] | None = None
        self.vm0 = 0.0
        self.crit = [0.0, 0.0, 0.0]  # T_c, P_c, omega
        self.add: list[tuple[str | None, float, str]] = []  # -add_logk (name, factor), -add_constant (None, c)
        self.llnl_gamma: float | None = None
        self.co2_llnl_gamma = False
        self.activity_water = False
        self.ex_gamma: tuple[float, float, float] | None = None  # EXCHANGE_SPECIES -gamma a b [a_f]
        self.davies = False
        self.cd_music: tuple[float, ...] | None = None


def _option(stmt: str, opts, where: str, block: str, unknown_ok: bool = False) -> tuple[str, list[str]] | None:
    """(canonical option, its arguments) if the statement is an option of ``opts``, else None
    (``unknown_ok``: ("unknown", arguments) for a "-x" that is none of them, else an error)."""
    toks = stmt.split()
    first = toks[0]
    if len(first) > 1 and first[0] == "-" and first[1].isalpha():
        name = first[1:].lower()
        for o in opts:
            if o.startswith(name):
                return _CANON.get(o, o), toks[1:]
        if unknown_ok:
            return "unknown", toks[1:]
        raise DatabaseError(f"{where}: unknown option {first!r} in {block} (PHREEQC refuses it too); "
                            f"options: {', '.join('-' + o for o in opts)}")
    if first.lower() in opts:
        return _CANON.get(first.lower(), first.lower()), toks[1:]
    return None


def load_database(name_or_path: str | Path, *, strict_balance: bool = True,
                  activity_model: str | None = None) -> Database:
    """Read a PHREEQC database: a bundled name (``BUNDLED``: every database PHREEQC distributes,
    ``"phreeqc.dat"``, ``"pitzer.dat"``, ``"llnl.dat"``, ...) or a path to any PHREEQC-format file.

    ``activity_model="ion-association"`` asks explicitly for PHREEQC's ion-association model on a
    database whose own model is Pitzer, SIT or LLNL's B-dot. Without it such a database is solved
    with its own model (``activity_models``). The database's own model is ``Database.activity_model``.

    The file is checked as PHREEQC checks it when it loads a database (read.cpp, tidy.cpp), so that
    a file PHREEQC refuses -- cut short, a definition missing -- is refused here too, with file, line
    and what is missing: every species named in a reaction or a master-species row is defined by a
    reaction, every element of every formula has a master-species row, every valence state's
    element has its primary row (and a redox element's primary master species is also a valence
    state's), options are PHREEQC's (abbreviations as PHREEQC matches them, numbers where it
    needs them), -add_logk names a NAMED_EXPRESSIONS entry, PITZER and SIT parameters name
    SOLUTION_SPECIES, LLNL tables are complete. What chemsolve reads but does not model yet, and
    what it does not read, are listed in one ``DatabaseWarning``. Raises ``DatabaseError`` on any of these,
    a malformed line, an unbalanced reaction (unless the entry says ``-no_check``;
    ``strict_balance=False`` turns these into warnings), or a file that is not there.
    """
    if activity_model not in (None, "ion-association"):
        raise InvalidInputError(f"activity_model={activity_model!r}: chemsolve models only 'ion-association' "
                                "(None: the database's own model)")
    path = _resolve(name_or_path)
    db = parse_database(read_text(path), str(path), strict_balance=strict_balance, _stacklevel=3)
    db.use_ion_association = activity_model == "ion-association"
    return db


def read_text(path: Path) -> str:
    """A database or input file's text (UTF-8, else Latin-1: old databases carry Latin-1 accents)."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_database(text: str, path: str, *, strict_balance: bool = True, _stacklevel: int = 2) -> Database:
    """``load_database`` on a text: ``path`` names it in messages (e.g. a database file with the
    database blocks of a PHREEQC input appended)."""
    db = Database(str(path))
    fname = Path(path).name
    block: str | None = None
    entry: _Entry | None = None
    ignored_opts: dict[str, str] = {}
    unbalanced: list[str] = []
    redefined: list[str] = []
    # what the PHREEQC-like checks need: every reference to a species, every formula's elements
    refs: list[tuple[str, int, str]] = []  # (species, line, who refers to it)
    other_species: dict[str, int] = {}  # exchange / surface species defined -> line
    other_masters: dict[str, tuple[str, int]] = {}  # exchange / surface master rows
    formulas: list[tuple[str, int, str]] = []  # (formula, line, what it is)
    phase_refs: list[tuple[str, int, str]] = []  # phases named inside other phases' reactions
    adds: dict[tuple[str, str], list] = {}  # (kind, name) -> its -add_logk list (the last definition's)
    block_lines: dict[str, list[str]] = {}  # each not-modelled block -> file:line of each occurrence
    option_lines: dict[str, list[str]] = {}  # each not-modelled species option -> where
    state: dict = {}  # the option a PITZER / SIT / LLNL / NAMED_EXPRESSIONS line continues

    deferred: list[tuple[str, bool]] = []  # phases whose reactions name other phases (balance checked later)

    def check_balance(kind: str, name: str, line: int, st: dict[str, float], no_check: bool) -> None:
        try:
            problem = None if no_check else _balance_error(st)
        except ValueError as err:
            raise DatabaseError(f"{fname}:{line}: {kind} {name!r}: {err}") from None
        if problem:
            msg = f"{fname}:{line}: {kind} {name!r} is not balanced ({problem})"
            if strict_balance:
                raise DatabaseError(msg + "; mark it -no_check if that is intended")
            unbalanced.append(msg)

    def finish(e: _Entry | None) -> None:
        if e is None:
            return
        if e.kind == "named expression":
            db.named_expressions[e.name.lower()] = NamedExpression(
                e.name, e.log_k, e.delta_h, e.analytic, tuple((n or "", c) for n, c, _ in e.add), e.line)
            adds[(e.kind, e.name.lower())] = e.add
            return
        if e.reaction is None:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r} has no reaction equation")
        lhs, rhs = e.reaction
        formula = None
        if e.kind == "phase":  # as PHREEQC: "(aq)" dropped, H2O(l) is water; "(g)", "(s)" name phases
            formula = _phase_formula(lhs[0][0])
            lhs = [(formula, lhs[0][1])] + [_phase_token(n, c) for n, c in lhs[1:]]
            rhs = [_phase_token(n, c) for n, c in rhs]
        st = _stoich(lhs, rhs)
        rx = Reaction(st, e.log_k, e.delta_h, e.analytic)
        if e.kind == "phase" and any(_PHASE_TAG.search(n) for n in st if n != formula):
            deferred.append((e.name, e.no_check))  # checked once the phases it names are replaced (below)
        else:
            check_balance(e.kind, e.name, e.line, st, e.no_check)
        for n, _ in (lhs[1:] + rhs if e.kind == "phase" else lhs + rhs[1:]):
            if e.kind == "phase" and re.search(r"\((g|s)\)$", n, re.IGNORECASE):
                phase_refs.append((n, e.line, f"the reaction of phase {e.name!r}"))
            elif n != e.name:
                refs.append((n, e.line, f"the reaction of {e.kind} {e.name!r}"))
        adds[(e.kind, e.name)] = e.add
        for opt in ("llnl_gamma", "co2_llnl_gamma", "activity_water"):
            if getattr(e, opt) not in (None, False):
                option_lines.setdefault(f"option -{opt}", []).append(f"{fname}:{e.line}")
        try:
            if e.kind in ("exchange species", "surface species"):
                other_species[e.name] = e.line
                formulas.append((e.name, e.line, e.kind))
                elements = parse_formula(e.name)
                if e.kind == "exchange species":
                    db.exchange_species[e.name] = ExchangeSpecies(
                        e.name, rx, species_charge(e.name), elements, e.line, e.ex_gamma, e.davies, e.llnl_gamma,
                        e.mass_balance)
                else:
                    db.surface_species[e.name] = SurfaceSpecies(e.name, rx, species_charge(e.name), elements, e.line,
                                                                e.cd_music, e.mass_balance)
                return
            if e.name in (db.species if e.kind == "species" else db.phases):
                redefined.append(e.name)  # as in PHREEQC, the later definition replaces the earlier
            elif e.kind == "phase":  # PHREEQC's phase names are case-insensitive (structures.cpp phase_store)
                same = next((n for n in db.phases if n.lower() == e.name.lower()), None)
                if same is not None:  # llnl.dat: Hf(g) replaces HF(g), under the later name
                    redefined.append(f"{same} (as {e.name}: phase names are case-insensitive in PHREEQC)")
                    del db.phases[same]
            if e.kind == "species":
                elements = parse_formula(e.name)
                db.species[e.name] = Species(e.name, rx, species_charge(e.name), elements, e.gamma, e.line,
                                             e.mass_balance, e.vm, e.llnl_gamma, e.co2_llnl_gamma, e.activity_water)
                formulas.append((e.name, e.line, "species"))
            else:
                assert formula is not None
                products = _stoich(lhs[1:], rhs)
                db.phases[e.name] = Phase(e.name, formula, rx, parse_formula(formula), e.line, products, e.vm0,
                                          *e.crit)
                formulas.append((formula, e.line, f"phase {e.name!r}"))
        except ValueError as err:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r}: {err}") from None

    for no, stmt in _logical_lines(text):
        where = f"{fname}:{no}"
        first = stmt.split()[0]
        if first.upper() in _KEYWORDS:  # keywords are case-insensitive in PHREEQC
            finish(entry)
            entry = None
            block = first.upper()
            state.clear()
            if block in _NOT_MODELLED:
                block_lines.setdefault(block, []).append(where)
                if block == "PITZER":
                    db.pitzer = db.pitzer or PitzerModel()
                    db.pitzer.lines.append(no)
                elif block == "SIT":
                    db.sit = db.sit or SitModel()
                    db.sit.lines.append(no)
                elif block == "LLNL_AQUEOUS_MODEL_PARAMETERS":
                    db.llnl = db.llnl or LlnlModel()
                    db.llnl.lines.append(no)
            elif block not in _READ and block != "END":
                db.skipped.setdefault(f"block {block}", where)
            continue
        if block is None:
            raise DatabaseError(f"{where}: text before the first keyword: {stmt!r}")
        toks = stmt.split()
        if block in _MASTER_BLOCKS:
            _master_row(db, block, toks, stmt, where, no, other_masters, refs)
            continue
        if block in ("PITZER", "SIT"):
            _interaction_line(db, block, toks, stmt, where, no, state)
            continue
        if block == "LLNL_AQUEOUS_MODEL_PARAMETERS":
            assert db.llnl is not None
            _llnl_line(db.llnl, toks, stmt, where, state)
            continue
        if block == "NAMED_EXPRESSIONS":
            opt = _option(stmt, _NAMED_OPTS, where, block, unknown_ok=True)
            if opt is None:  # a name: a new expression
                finish(entry)
                entry = _Entry("named expression", toks[0], where, no)
                entry.reaction = ([], [])
            elif opt[0] == "unknown":
                # PHREEQC passes over an unknown option here silently (read_named_logk: OPTION_ERROR)
                ignored_opts.setdefault(f"{toks[0]} of NAMED_EXPRESSIONS", where)
            elif entry is None:
                raise DatabaseError(f"{where}: option {toks[0]!r} before any NAMED_EXPRESSIONS name")
            elif opt[0] == "ln_alpha1000":
                _apply_option(entry, "analytic", opt[1], where, ignored_opts, block)
                assert entry.analytic is not None
                a = list(entry.analytic) + [0.0] * (6 - len(entry.analytic))
                # read.cpp divides A1..A5 by 1000 ln 10 (its loop stops before A6), kept as PHREEQC does
                entry.analytic = tuple(v / (1000.0 * LN10) for v in a[:5]) + (a[5],)
            else:
                _apply_option(entry, opt[0], opt[1], where, ignored_opts, block)
            continue
        if block not in _BLOCK_OPTS:
            _other_block_line(block, toks, stmt, where)
            continue
        opt = _option(stmt, _BLOCK_OPTS[block], where, block)
        if opt is not None:
            if entry is None:
                raise DatabaseError(f"{where}: option {toks[0]!r} before any {block} entry")
            _apply_option(entry, opt[0], opt[1], where, ignored_opts, block)
            continue
        kind = {"SOLUTION_SPECIES": "species", "EXCHANGE_SPECIES": "exchange species",
                "SURFACE_SPECIES": "surface species"}.get(block, "phase")
        if "=" in stmt:
            try:
                lhs, rhs = parse_reaction(stmt)
            except ValueError as err:
                raise DatabaseError(f"{where}: {err}") from None
            if kind != "phase":
                finish(entry)
                entry = _Entry(kind, rhs[0][0], where, no)
                entry.reaction = (lhs, rhs)
            else:
                if entry is None or entry.reaction is not None:
                    raise DatabaseError(f"{where}: a PHASES reaction needs a phase name on the line above: {stmt!r}")
                entry.reaction = (lhs, rhs)
            continue
        if kind == "phase":
            finish(entry)
            entry = _Entry("phase", toks[0], where, no)
            continue
        raise DatabaseError(f"{where}: expected a reaction equation or an option in {block}, got {stmt!r}")
    finish(entry)

    end = f"{fname}:{max(1, text.count(chr(10)) + (0 if text.endswith(chr(10)) else 1))}"  # the last line
    if not db.masters or not db.species:
        raise DatabaseError(f"{end}: no SOLUTION_MASTER_SPECIES or SOLUTION_SPECIES found by the end of the file: "
                            "is this a PHREEQC database?")
    _check_as_phreeqc(db, fname, refs, other_species, other_masters, formulas, phase_refs, end)
    _resolve_added_log_k(db, adds)
    _replace_phases_in_phases(db, fname)
    for name, no_check in deferred:  # as PHREEQC (tidy_phases), the rewritten reaction is checked
        if name in db.phases:
            ph = db.phases[name]
            check_balance("phase", name, ph.line, ph.reaction.stoich, no_check)
    _check_models(db, fname)
    for el, (sp, line) in other_masters.items():
        sm = SiteMaster(el, sp, line)
        if sp in db.exchange_species:
            db.exchange_masters[el] = sm
        else:
            db.surface_masters[el] = sm
    for blk, lines in block_lines.items():
        if blk not in _MODELLED_BLOCKS:
            db.unmodelled.append(Unmodelled(blk, tuple(lines), _NOT_MODELLED[blk]))
    if "H3O+" in db.species:
        db.unmodelled.append(Unmodelled("species H3O+", (f"{fname}:{db.species['H3O+'].line}",),
                                        "H3O+ in place of H+ as the proton; speciation refuses this database"))
    for opt, lines in option_lines.items():
        if opt.removeprefix("option -") in _MODELLED_SPECIES_OPTS and db.llnl is not None:
            continue  # modelled with LLNL_AQUEOUS_MODEL_PARAMETERS (without it PHREEQC stops: listed)
        why = _SPECIES_ACTIVITY_OPTS[opt.removeprefix("option -")]
        db.unmodelled.append(Unmodelled(opt, (lines[0],), f"{why}; {len(lines)} species, the first listed; "
                                        "stored on the species"))
    for opt, first_where in ignored_opts.items():
        db.skipped.setdefault(f"option -{opt}", first_where)
    notes = [str(u) for u in db.unmodelled]
    notes += [f"skipped {k} (first at {v})" for k, v in db.skipped.items()]
    if redefined:
        notes.append(f"{len(redefined)} entries defined twice, the later definition kept: {', '.join(redefined)}")
    if unbalanced:
        notes.append(f"{len(unbalanced)} unbalanced reactions kept (strict_balance=False): " + "; ".join(unbalanced))
    text = f"{fname}: " + "; ".join(notes)
    if notes and text not in _LISTED:  # once per database per process, not on every load
        _LISTED.add(text)
        warnings.warn(text, DatabaseWarning, stacklevel=_stacklevel)
    return db


_LISTED: set[str] = set()  # the DatabaseWarning texts already shown in this process


_PHASE_TAG = re.compile(r"\((g|s)\)", re.IGNORECASE)


def _phase_formula(token: str) -> str:
    """A phase's formula from the first token of its reaction, as read.cpp read_phases: the first
    "(g)", "(s)", "(G)" and "(S)" removed ("CO2(g) = CO2" in iso.dat dissolves the formula CO2)."""
    for tag in ("(g)", "(s)", "(G)", "(S)"):
        token = token.replace(tag, "", 1)
    return token


def _true_false(args: list[str]) -> bool:
    """PHREEQC's get_true_false: true unless the first word starts with F or f (true if none)."""
    return not (args and args[0][0] in "Ff")


def _interaction_line(db: Database, block: str, toks: list[str], stmt: str, where: str, no: int, state: dict) -> None:
    """A line of PITZER or SIT (pitzer.cpp read_pitzer, sit.cpp read_sit): an option that sets a
    switch or the kind of the rows that follow, or a row: the kind's species then up to six numbers."""
    opts = _PITZER_OPTS if block == "PITZER" else _SIT_OPTS
    first = toks[0]
    name = None
    if len(first) > 1 and first[0] == "-" and first[1].isalpha():
        name = next((o for o in opts if o.startswith(first[1:].lower())), None)
        if name is None:
            raise DatabaseError(f"{where}: unknown option {first!r} in {block} (PHREEQC refuses it too); options: "
                                + ", ".join("-" + o for o in opts))
    elif first.lower() in opts:
        name = first.lower()
    if name is not None:
        spec = opts[name]
        if spec is None:  # a switch of PITZER; a row after it is an error in PHREEQC (OPTION_ERROR)
            assert db.pitzer is not None
            setattr(db.pitzer, _PITZER_SWITCH[name], _true_false(toks[1:]))
            state["kind"] = None
        else:
            state["kind"] = spec
        return
    spec = state.get("kind")
    if spec is None:
        raise DatabaseError(f"{where}: {block} row before an option naming its parameter (-B0, -THETA, "
                            f"-epsilon, ...): {stmt!r} (PHREEQC: 'Unknown input in {block} keyword')")
    kind, n = spec
    if len(toks) < n + 1:
        raise DatabaseError(f"{where}: {block} -{kind} row needs {n} species and a value: {stmt!r}")
    species = tuple(toks[:n])
    for sp in species:
        if not (sp[0].isupper() or sp[0] in "(["):
            raise DatabaseError(f"{where}: {block} -{kind} row needs {n} species names first, got {sp!r} "
                                "(PHREEQC: 'Wrong number of species for a Pitzer parameter')")
    coeffs = tuple(_leading_numbers(toks[n:n + 6]))
    if not coeffs:  # PHREEQC drops such a row without a word; a parameter without a value is an error
        raise DatabaseError(f"{where}: {block} -{kind} row has no number after its species: {stmt!r}")
    par = InteractionParameter(kind, species, coeffs, no)
    model: PitzerModel | SitModel | None = db.pitzer if block == "PITZER" else db.sit
    assert model is not None
    if kind == "APHI":
        assert isinstance(model, PitzerModel)
        model.aphi = par
    else:  # PHREEQC keys a parameter by its type and the set of its species; a later row replaces
        model.parameters[(kind, tuple(sorted(set(species))))] = par


def _llnl_line(llnl: LlnlModel, toks: list[str], stmt: str, where: str, state: dict) -> None:
    """A line of LLNL_AQUEOUS_MODEL_PARAMETERS: an option and its numbers, or more numbers of the
    option above (read.cpp read_llnl_aqueous_model_parameters appends them)."""
    first = toks[0]
    name = None
    if len(first) > 1 and first[0] == "-" and first[1].isalpha():
        name = next((o for o in _LLNL_OPTS if o.startswith(first[1:].lower())), None)
        if name is None:
            raise DatabaseError(f"{where}: unknown option {first!r} in LLNL_AQUEOUS_MODEL_PARAMETERS (PHREEQC "
                                "refuses it too)")
    elif first.lower() in _LLNL_OPTS:
        name = first.lower()
    args = toks[1:] if name is not None else toks
    fld = _LLNL_OPTS[name] if name is not None else state.get("field")
    if fld == "use_phreeqc_dha_dhb" and name is not None:
        llnl.use_phreeqc_dha_dhb = _true_false(args)
        state["field"] = None
        return
    if fld is None or fld == "use_phreeqc_dha_dhb":
        raise DatabaseError(f"{where}: numbers without an option in LLNL_AQUEOUS_MODEL_PARAMETERS: {stmt!r}")
    vals = _leading_numbers(args)
    if len(vals) < len(args):
        raise DatabaseError(f"{where}: LLNL_AQUEOUS_MODEL_PARAMETERS -{fld}: {args[len(vals)]!r} is not a number")
    getattr(llnl, fld).extend(vals)
    state["field"] = fld


def _expression_vector(log_k: float, delta_h: float | None, analytic: tuple[float, ...] | None) -> list[float]:
    """PHREEQC's log K array [log K, delta H, A1..A6] after select_log_k_expression (tidy.cpp): the
    analytic expression alone when it has a nonzero coefficient, else log K and delta H."""
    a = list(analytic or ()) + [0.0] * (6 - len(analytic or ()))
    if any(v != 0.0 for v in a):
        return [0.0, 0.0] + a
    return [log_k, delta_h or 0.0] + [0.0] * 6


def _resolve_added_log_k(db: Database, adds: dict[tuple[str, str], list]) -> None:
    """``-add_logk`` and ``-add_constant`` as PHREEQC's tidy.cpp: each NAMED_EXPRESSIONS entry is its
    own expression plus those it adds (add_logks, all terms); a species or phase adds, per entry, the
    entry's analytic terms if it has any, else its log K and delta H (add_other_logk), times the factor.
    The sum goes to ``Reaction.added`` as the six coefficients of ``log_k_basis``."""
    import dataclasses

    named = db.named_expressions
    done: dict[str, list[float]] = {}

    def resolved(key: str, where: str, depth: int = 0) -> list[float]:
        if key in done:
            return done[key]
        if key not in named:
            raise DatabaseError(f"{where}: -add_logk {key!r}: no such NAMED_EXPRESSIONS entry (PHREEQC: 'Could not "
                                "find named temperature expression')")
        if depth > 15:
            raise DatabaseError(f"{where}: -add_logk {key!r}: circular NAMED_EXPRESSIONS (PHREEQC: 'Circular "
                                "definition of named_logk?')")
        ne = named[key]
        v = _expression_vector(ne.log_k, ne.delta_h, ne.analytic)
        for n, c, w in adds.get(("named expression", key), []):
            other = [1.0] + [0.0] * 7 if n is None else resolved(n.lower(), w, depth + 1)
            v = [a + c * b for a, b in zip(v, other)]
        done[key] = v
        return v

    for key in named:
        resolved(key, f"{Path(db.path).name}:{named[key].line}")
    for (kind, name), add in adds.items():
        if not add or kind == "named expression":
            continue
        tot = [0.0] * 8
        for n, c, w in add:
            v = [1.0] + [0.0] * 7 if n is None else resolved(n.lower(), w)
            if any(x != 0.0 for x in v[2:]):
                tot = [a + c * b for a, b in zip(tot, [0.0, 0.0] + v[2:])]
            else:
                tot = [a + c * b for a, b in zip(tot, v[:2] + [0.0] * 6)]
        vt = _van_t_hoff(tot[0], tot[1])
        added = tuple(a + b for a, b in zip(vt, tot[2:]))
        table: dict = {"species": db.species, "phase": db.phases, "exchange species": db.exchange_species,
                       "surface species": db.surface_species}[kind]
        obj = table[name]
        table[name] = dataclasses.replace(obj, reaction=dataclasses.replace(obj.reaction, added=added))


def _replace_phases_in_phases(db: Database, fname: str) -> None:
    """A phase whose reaction names another phase ("HDO(g) + H2O(l) = H2O(g) + HDO(aq)" in iso.dat)
    is rewritten with that phase's dissolution reaction, its log K expression added times the
    coefficient, as PHREEQC's tidy.cpp replace_solids_gases (the rewritten reaction is what PHREEQC
    uses in its equations)."""
    import dataclasses

    for name in list(db.phases):
        ph = db.phases[name]
        for _ in range(20):
            tagged = [(k, c) for k, c in ph.products.items() if _PHASE_TAG.search(k)]
            if not tagged:
                break
            products = dict(ph.products)
            added = list(ph.reaction.added or (0.0,) * 6)
            for k, c in tagged:
                sub = db.phases.get(k) or db.phases.get(_phase_formula(k))
                if sub is None:
                    raise DatabaseError(f"{fname}:{ph.line}: phase {k!r}, named in the reaction of phase {name!r}, "
                                        "is not in PHASES")
                del products[k]
                for s2, c2 in sub.products.items():
                    products[s2] = products.get(s2, 0.0) + c * c2
                added = [a + c * b for a, b in zip(added, sub.reaction.log_k_coeffs())]
            products = {k: v for k, v in products.items() if v != 0.0}
            st: dict[str, float] = {ph.formula: -1.0}
            for k, v in products.items():
                st[k] = st.get(k, 0.0) + v
            st = {k: v for k, v in st.items() if v != 0.0}
            rx = dataclasses.replace(ph.reaction, stoich=st, added=tuple(added))
            ph = dataclasses.replace(ph, reaction=rx, products=products)
        else:
            raise DatabaseError(f"{fname}:{ph.line}: phase {name!r}: could not remove all solids and gases from its "
                                "reaction (PHREEQC refuses it too)")
        db.phases[name] = ph


def _check_models(db: Database, fname: str) -> None:
    """What PHREEQC checks of PITZER, SIT (pitzer_tidy, sit_tidy: the species of a parameter are
    SOLUTION_SPECIES; the third of PSI and ZETA too) and LLNL_AQUEOUS_MODEL_PARAMETERS (equal numbers
    of temperatures, dh_a, dh_b and bdot; five co2_coefs)."""
    for block, model in (("PITZER", db.pitzer), ("SIT", db.sit)):
        if model is None:
            continue
        for par in model.parameters.values():
            n_checked = 3 if par.kind in ("PSI", "ZETA") else 2
            for sp in par.species[:n_checked]:
                if sp not in db.species:
                    raise DatabaseError(f"{fname}:{par.line}: {block} -{par.kind}: species {sp!r} is not defined in "
                                        "SOLUTION_SPECIES (PHREEQC refuses it too)")
    if db.llnl is not None:
        ll = db.llnl
        n = len(ll.temperatures)
        line = f"{fname}:{ll.lines[0]}"
        if n == 0 or not len(ll.dh_a) == len(ll.dh_b) == len(ll.bdot) == n:
            raise DatabaseError(f"{line}: LLNL_AQUEOUS_MODEL_PARAMETERS needs as many (> 0) temperatures, dh_a, dh_b "
                                f"and bdot values; got {n}, {len(ll.dh_a)}, {len(ll.dh_b)}, {len(ll.bdot)}")
        if len(ll.co2_coefs) != 5:
            raise DatabaseError(f"{line}: LLNL_AQUEOUS_MODEL_PARAMETERS needs five -co2_coefs, got {len(ll.co2_coefs)}")


def check_activity_model(db: Database) -> None:
    """Refuse a database whose activity model chemsolve does not model (-llnl_gamma species without
    LLNL_AQUEOUS_MODEL_PARAMETERS, where PHREEQC stops too; Pitzer, SIT and LLNL's B-dot are solved with their
    own model, ``activity_models``), unless the
    database was loaded with ``activity_model="ion-association"``; and refuse species whose activity
    rule chemsolve does not model (-activity_water) -- the latter by ``check_species_activity``."""
    name = Path(db.path).name
    if "H3O+" in db.species:
        raise InvalidInputError(f"{name} defines the proton as H3O+ (SOLUTION_SPECIES at line "
                                f"{db.species['H3O+'].line}), which chemsolve does not model yet (it needs H+)")
    model = db.activity_model
    if model in ("ion-association", "sit", "pitzer") or db.use_ion_association or (model == "llnl" and db.llnl):
        return  # SIT, Pitzer, LLNL B-dot: solved with the database's model (chemsolve.aqueous.activity_models)
    if model == "pitzer":
        assert db.pitzer is not None
        what = f"the Pitzer activity model (PITZER block at line {db.pitzer.lines[0]})"
    elif model == "sit":
        assert db.sit is not None
        what = f"the SIT activity model (SIT block at line {db.sit.lines[0]})"
    else:
        line = db.llnl.lines[0] if db.llnl is not None else next(
            s.line for s in db.species.values() if s.llnl_gamma is not None or s.co2_llnl_gamma)
        where = "LLNL_AQUEOUS_MODEL_PARAMETERS" if db.llnl is not None else "species"
        what = f"the LLNL B-dot activity model (-llnl_gamma; {where} at line {line})"
    raise InvalidInputError(f"{name} uses {what}, which chemsolve does not model yet; "
                            f"load_database({name!r}, activity_model='ion-association') runs PHREEQC's "
                            "ion-association model on its log K instead (not PHREEQC's answer for this database)")


def check_species_activity(db: Database, species) -> None:
    """Refuse species whose activity rule chemsolve does not model: iso.dat's -activity_water
    species (HDO, H2[18O], ...: PHREEQC takes their activity from the activity of water)."""
    for name in species:
        sp = db.species.get(name)
        if sp is not None and sp.activity_water:
            raise InvalidInputError(f"{Path(db.path).name}:{sp.line}: species {name!r} has -activity_water (its "
                                    "activity follows the activity of water), which chemsolve does not model yet")


def _other_block_line(block: str, toks: list[str], stmt: str, where: str) -> None:
    """Lines of blocks chemsolve does not use, checked as PHREEQC reads them (read.cpp), so that a file
    PHREEQC refuses is not loaded: GAS_BINARY_PARAMETERS rows need two gases and a value, MEAN_GAMMAS
    rows species-coefficient pairs, RATES only -start / -end as options."""
    is_opt = len(toks[0]) > 1 and toks[0][0] == "-" and toks[0][1].isalpha()
    if block == "RATES":
        if is_opt and not any(o.startswith(toks[0][1:].lower()) for o in ("start", "end")):
            raise DatabaseError(f"{where}: unknown option {toks[0]!r} in RATES (PHREEQC refuses it too)")
        return
    if block not in ("GAS_BINARY_PARAMETERS", "MEAN_GAMMAS"):
        return
    if is_opt:
        raise DatabaseError(f"{where}: {block} takes no options, got {toks[0]!r} (PHREEQC refuses it too)")
    if block == "GAS_BINARY_PARAMETERS" and len(toks) < 3:
        raise DatabaseError(f"{where}: GAS_BINARY_PARAMETERS row needs two gases and a value: {stmt!r}")
    if block == "MEAN_GAMMAS":
        have_name = False
        for t in toks[1:]:
            if t[0].isalpha() or t[0] in "([":
                have_name = True
                continue
            if not have_name or not re.match(r"[+-]?(\d|\.\d)", t):
                raise DatabaseError(f"{where}: MEAN_GAMMAS row must pair species with coefficients: {stmt!r}")
            have_name = False


def _phase_token(name: str, coef: float) -> tuple[str, float]:
    n = re.sub(r"\(aq\)$", "", name, flags=re.IGNORECASE)
    return ("H2O" if n.lower() == "h2o(l)" else n), coef


def _master_row(db: Database, block: str, toks: list[str], stmt: str, where: str, no: int,
                other_masters: dict, refs: list) -> None:
    """A row of SOLUTION_MASTER_SPECIES (element, species, alk, gfw or formula, element gfw of a
    primary row) or of EXCHANGE_/SURFACE_MASTER_SPECIES (element, species), checked as PHREEQC."""
    el = toks[0]
    if not (el[0].isupper() or el[0] == "["):
        raise DatabaseError(f"{where}: {block} row must start with an element name, got {stmt!r}")
    if len(toks) < 2:
        raise DatabaseError(f"{where}: {block} row needs the element and its master species: {stmt!r}")
    sp = normalize_species_name(toks[1])
    if not (sp[0].isupper() or sp[0] == "[" or sp.lower() == "e-"):
        raise DatabaseError(f"{where}: {block}: master species of {el} must be a species name, got {sp!r}")
    refs.append((sp, no, f"the {block} row of {el}"))
    if block != "SOLUTION_MASTER_SPECIES":
        other_masters[el] = (sp, no)
        return
    base = el.split("(")[0]
    if base not in ("E", "e", "Alkalinity") and base not in sp:
        raise DatabaseError(f"{where}: master species {sp!r} must contain the element {base!r} "
                            "(PHREEQC refuses it too)")
    if el[0] != "[" and any(c.isupper() for c in base[1:]):
        raise DatabaseError(f"{where}: {el!r}: an element or valence name must hold one element")
    if len(toks) < 4:
        raise DatabaseError(f"{where}: SOLUTION_MASTER_SPECIES needs element, species, alk, "
                            f"gfw (and element gfw): {stmt!r}")
    alk = _numbers([toks[2]], where, f"alkalinity of {el}")[0]
    if not (toks[3][0].isupper() or toks[3][0] == "[" or _is_number(toks[3])):
        raise DatabaseError(f"{where}: gram formula weight of {el}: {toks[3]!r} is neither a number nor a formula")
    primary = "(" not in el
    if primary and base != "E" and not (len(toks) > 4 and _is_number(toks[4])):
        raise DatabaseError(f"{where}: the primary row of {el} needs the element's gram formula weight (fifth "
                            f"column, a number): {stmt!r}")
    gfw = _numbers([toks[4]], where, f"gram formula weight of {el}")[0] if len(toks) > 4 else None
    db.masters[el] = MasterSpecies(el, sp, alk, toks[3], gfw, no)


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def _check_as_phreeqc(db: Database, fname: str, refs, other_species, other_masters, formulas, phase_refs,
                      end: str) -> None:
    """The consistency PHREEQC demands of a database (tidy.cpp: check_species_input, tidy_species,
    tidy_phases, tidy_model), in the order a reader can act on: the first failure, by file and line."""
    defined = set(db.species) | set(other_species)
    for name, line, who in refs:
        if name not in defined:
            raise DatabaseError(f"{fname}:{line}: species {name!r}, named in {who}, is never defined by a reaction "
                                "(PHREEQC: 'Elements in species have not been tabulated'); is the file cut short?")
    for name, line, who in phase_refs:
        base = re.sub(r"\((g|s)\)$", "", name, flags=re.IGNORECASE)
        if name not in db.phases and base not in db.phases:
            raise DatabaseError(f"{fname}:{line}: phase {name!r}, named in {who}, is not in PHASES")
    primaries = {k for k in list(db.masters) + list(other_masters) if "(" not in k}
    for formula, line, what in formulas:
        try:
            els = _elements_of(formula)
        except ValueError as err:
            raise DatabaseError(f"{fname}:{line}: {what} {formula!r}: {err}") from None
        for el in els:
            if el not in primaries:
                raise DatabaseError(f"{fname}:{line}: element {el!r} of {what} {formula!r} has no master-species "
                                    "row (PHREEQC: 'No master species for element')")
    for k, m in db.masters.items():
        el = k.split("(")[0]
        if "(" in k and el not in db.masters:
            raise DatabaseError(f"{fname}:{m.line}: valence state {k!r} has no primary row for its element {el!r}")
        if "(" in k and el in db.masters:  # a redox element: its primary master must also be a valence state's
            prim = db.masters[el].species
            if not any("(" in k2 and k2.split("(")[0] == el and m2.species == prim for k2, m2 in db.masters.items()):
                raise DatabaseError(f"{fname}:{db.masters[el].line}: {prim!r}, the primary master species of redox "
                                    f"element {el!r}, must also be the master species of one of its valence states "
                                    f"(e.g. '{el}(x) {prim} ...'); PHREEQC refuses the file too")
    for name in ("H2O", "H+", "e-"):
        if name == "H+" and "H3O+" in db.species:  # tidy.cpp: H+ or H3O+ (iso.dat), not both
            if "H+" in db.species:
                raise DatabaseError(f"{fname}:{db.species['H3O+'].line}: H+ and H3O+ are both defined in "
                                    "SOLUTION_SPECIES (PHREEQC refuses such a database)")
            continue
        if name not in db.species:
            raise DatabaseError(f"{end}: species {name!r} is not defined in SOLUTION_SPECIES by the end of the file "
                                "(PHREEQC refuses such a database)")
    for el, (sp, line) in other_masters.items():
        if sp not in other_species:
            raise DatabaseError(f"{fname}:{line}: master species {sp!r} of {el!r} is never defined by a reaction "
                                "in EXCHANGE_SPECIES or SURFACE_SPECIES")
    for name, sp in db.species.items():
        if sp.mass_balance:
            for el in sp.mass_balance:
                if el not in db.masters and el.split("(")[0] not in primaries:
                    raise DatabaseError(f"{fname}:{sp.line}: -mass_balance of {name!r} names {el!r}, which has no "
                                        "master-species row")


def _elements_of(formula: str) -> set[str]:
    """Element names of a formula as PHREEQC reads them (a capital letter and lower-case letters or
    underscores: "Hfo_wOH" has Hfo_w, O and H)."""
    return set(parse_formula(formula)) if formula != "e-" else set()


_MB_RE = re.compile(rf"({_ELEMENT})(\([+-]?\d+(?:\.\d+)?\))?|(\()|(\))(\d*\.?\d*)|(\d+\.?\d*|\.\d+)")


def parse_mass_balance(text: str) -> dict[str, float]:
    """The formula of ``-mass_balance`` (PHREEQC's get_secondary_in_species): element counts where an
    element may carry its valence state: "S(-2)4" -> {"S(-2)": 4}, "CuS(-2)8" -> {"Cu": 1, "S(-2)": 8}."""
    stack: list[dict[str, float]] = [{}]
    last = None
    pos = 0
    body = text
    while pos < len(body):
        if body[pos] in "+-":  # a charge ends the formula ("DS(6)O4-" in iso.dat), as get_secondary_in_species
            break
        m = _MB_RE.match(body, pos)
        if not m:
            raise ValueError(f"cannot read -mass_balance formula {text!r} at {body[pos:]!r}")
        pos = m.end()
        el, val, opn, cls, cls_n, num = m.groups()
        if el:
            key = el + (val.replace("(+", "(") if val else "")
            stack[-1][key] = stack[-1].get(key, 0.0) + 1.0
            last = key
        elif opn:
            stack.append({})
            last = None
        elif cls:
            if len(stack) == 1:
                raise ValueError(f"unbalanced ')' in -mass_balance formula {text!r}")
            inner = stack.pop()
            k = float(cls_n) if cls_n else 1.0
            for e, n in inner.items():
                stack[-1][e] = stack[-1].get(e, 0.0) + k * n
            last = None
        else:
            if last is None:
                raise ValueError(f"misplaced number in -mass_balance formula {text!r}")
            stack[-1][last] += float(num) - 1.0
            last = None
    if len(stack) != 1:
        raise ValueError(f"unbalanced '(' in -mass_balance formula {text!r}")
    return stack[0]


def _apply_option(entry: _Entry, opt: str, args: list[str], where: str, ignored: dict[str, str],
                  block: str = "SOLUTION_SPECIES") -> None:
    if opt == "log_k":
        if len(args) < 1:
            raise DatabaseError(f"{where}: log_k needs a value")
        entry.log_k = _numbers(args[:1], where, "log_k")[0]
    elif opt == "offset":  # EXCHANGE_ / SURFACE_SPECIES: added to the log K read so far (read.cpp)
        vals = _leading_numbers(args[:1])
        if not vals:
            raise DatabaseError(f"{where}: -offset needs a number (PHREEQC stops too: 'No offset for log K given')")
        entry.log_k += vals[0]
    elif opt == "add_logk":
        if not args:
            raise DatabaseError(f"{where}: -add_logk needs the name of a NAMED_EXPRESSIONS entry")
        factor = _leading_numbers(args[1:2])
        entry.add.append((args[0], factor[0] if factor else 1.0, where))
    elif opt == "add_constant":
        vals = _leading_numbers(args[:1])
        if not vals:
            raise DatabaseError(f"{where}: -add_constant needs the constant to add to log K")
        entry.add.append((None, vals[0], where))
    elif opt == "llnl_gamma":
        vals = _leading_numbers(args[:1])
        if not vals:  # PHREEQC warns and keeps a = 0 ("Expecting activity-coefficient parameter, a.")
            raise DatabaseError(f"{where}: -llnl_gamma needs the ion-size parameter a")
        entry.llnl_gamma = vals[0]
    elif opt == "co2_llnl_gamma":
        entry.co2_llnl_gamma = True
    elif opt == "activity_water":
        entry.activity_water = True
    elif opt == "gamma" and block == "EXCHANGE_SPECIES":
        vals = _leading_numbers(args[:3])
        if len(vals) < 2:  # PHREEQC warns "Expecting 2 activity-coefficient parameters, a and b."
            raise DatabaseError(f"{where}: -gamma needs two numbers (a, b) and an optional a_f")
        if vals[0] == 0.0 and vals[1] == 0.0:  # read.cpp: "-gamma 0 0" is Davies
            entry.davies, entry.ex_gamma = True, None
        else:
            entry.davies, entry.ex_gamma = False, (vals[0], vals[1], vals[2] if len(vals) > 2 else 0.0)
    elif opt == "davies":
        entry.davies, entry.ex_gamma = True, None
    elif opt == "cd_music":
        entry.cd_music = tuple(_leading_numbers(args[:5]))
    elif opt == "delta_h":
        if not args:
            raise DatabaseError(f"{where}: delta_h needs a value")
        val = _numbers(args[:1], where, "delta_h")[0]
        unit = args[1].lower().replace("/mol", "") if len(args) > 1 and args[1][0].isalpha() else "kj"
        if unit not in _ENERGY_UNITS:
            raise DatabaseError(f"{where}: delta_h unit {args[1]!r} unknown; expected kJ, kcal, J or cal (per mol)")
        entry.delta_h = val * _ENERGY_UNITS[unit]
    elif opt == "analytic":
        vals = _numbers(args, where, "analytic expression")
        if not 1 <= len(vals) <= 6:
            raise DatabaseError(f"{where}: analytic expression takes 1 to 6 numbers, got {len(vals)}")
        entry.analytic = tuple(vals)
    elif opt == "gamma" and block == "SOLUTION_SPECIES":
        vals = _numbers(args[:2], where, "gamma")
        if len(vals) != 2:
            raise DatabaseError(f"{where}: -gamma needs two numbers (a, b)")
        entry.gamma = (vals[0], vals[1])
    elif opt == "no_check":
        entry.no_check = True
    elif opt == "check":
        entry.no_check = False
    elif opt == "mass_balance":
        if not args:
            raise DatabaseError(f"{where}: -mass_balance needs a formula, e.g. S(-2)4")
        try:
            entry.mass_balance = parse_mass_balance(args[0])
        except ValueError as err:
            raise DatabaseError(f"{where}: {err}") from None
    elif opt == "vm" and block in ("SOLUTION_SPECIES", "PHASES"):
        vals = _leading_numbers(args)
        if not vals:
            raise DatabaseError(f"{where}: option -vm needs a number first (PHREEQC refuses it too)")
        if block == "PHASES":  # molar volume of the phase, cm3/mol unless a unit follows (read_vm_only)
            unit = args[len(vals)].lower() if len(args) > len(vals) else ""
            factor = 1e3 if "dm3" in unit else 1e6 if "m3" in unit and "cm3" not in unit else 1.0
            entry.vm0 = vals[0] * factor
        else:  # a1..a4 (cal-based, scaled to cm3/mol as PHREEQC's read_aq_species_vm_parms), W, b_Av, i1..i4
            v = (vals + [0.0] * 10)[:10]
            if len(vals) < 10:
                v[9] = 1.0  # the exponent i4 defaults to 1
            v[0] *= 41.84004e-1
            v[1] *= 41.84004e2
            v[2] *= 41.84004
            v[3] *= 41.84004e4
            v[4] *= 1e5
            entry.vm = tuple(v)
    elif opt in ("t_c", "p_c", "omega") and block == "PHASES":
        vals = _leading_numbers(args)
        if not vals:
            raise DatabaseError(f"{where}: option -{opt} needs a number first (PHREEQC refuses it too)")
        entry.crit[("t_c", "p_c", "omega").index(opt)] = vals[0]
    else:
        if opt in _NEEDS_NUMBER and not (args and re.match(r"[+-]?(\d|\.\d)", args[0])):
            raise DatabaseError(f"{where}: option -{opt} needs a number first (PHREEQC refuses it too)")
        ignored.setdefault(opt if block in ("SOLUTION_SPECIES", "PHASES") else f"{opt} of {block}", where)


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_file():
        return p
    if str(name_or_path) in BUNDLED:
        return Path(str(resources.files("chemsolve.data").joinpath(str(name_or_path))))
    raise DatabaseError(
        f"database {str(name_or_path)!r} not found: give a path to a PHREEQC database file or one of "
        f"the bundled names {list(BUNDLED)}"
    )
