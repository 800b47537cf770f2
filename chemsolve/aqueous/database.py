"""Reader for PHREEQC-format thermodynamic databases (phreeqc.dat, wateq4f.dat, minteq.v4.dat...).

Reads SOLUTION_MASTER_SPECIES, SOLUTION_SPECIES and PHASES: reaction equations (parsed into
stoichiometry), ``log_k``, ``delta_h`` (van 't Hoff), ``-analytic`` temperature expressions and
``-gamma a b`` (WATEQ Debye-Hueckel parameters), ``-Vm`` (molar volumes of species and phases: the
pressure dependence of log K) and ``-T_c``, ``-P_c``, ``-Omega`` (Peng-Robinson data of gases).
Every other keyword block (exchange, surface, rates, Pitzer, SIT, ...) and every option chemsolve
does not use (diffusion coefficients, viscosity, ...) is skipped and listed in *one* warning, never
silently. Reactions
are checked for element and charge balance unless marked ``-no_check``, as PHREEQC does.
A malformed line raises ``DatabaseError`` naming the file and line.

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
    "MasterSpecies",
    "Phase",
    "Reaction",
    "Species",
    "load_database",
    "parse_formula",
    "species_charge",
]

BUNDLED = ("phreeqc.dat", "wateq4f.dat", "minteq.v4.dat")
R_KJ = 8.31470e-3  # gas constant [kJ/(mol K)], the value PHREEQC uses (global_structures.h), so log K(T) matches it
T_REF = 298.15  # [K]
LN10 = math.log(10.0)

# Keyword blocks chemsolve reads, and the others PHREEQC knows (skipped with a warning).
_READ = ("SOLUTION_MASTER_SPECIES", "SOLUTION_SPECIES", "PHASES")
_SKIPPED_KEYWORDS = frozenset(
    """EXCHANGE_MASTER_SPECIES EXCHANGE_SPECIES SURFACE_MASTER_SPECIES SURFACE_SPECIES RATES PITZER SIT
    LLNL_AQUEOUS_MODEL_PARAMETERS NAMED_EXPRESSIONS GAS_BINARY_PARAMETERS MEAN_GAMMAS CALCULATE_VALUES
    ISOTOPES ISOTOPE_RATIOS ISOTOPE_ALPHAS SOLUTION SOLUTION_SPREAD SELECTED_OUTPUT USER_PUNCH USER_PRINT
    USER_GRAPH KNOBS EQUILIBRIUM_PHASES EXCHANGE SURFACE GAS_PHASE KINETICS REACTION REACTION_TEMPERATURE
    REACTION_PRESSURE MIX PRINT TITLE DATABASE SAVE USE INCREMENTAL_REACTIONS INVERSE_MODELING
    SOLID_SOLUTIONS TRANSPORT ADVECTION COPY DELETE RUN_CELLS DUMP""".split()
)
_KEYWORDS = frozenset(_READ) | _SKIPPED_KEYWORDS | {"END"}
# blocks that switch PHREEQC to another activity model: refused (chemsolve would use ion association)
_OTHER_MODELS = {"PITZER": "the Pitzer activity model", "SIT": "the SIT activity model",
                 "LLNL_AQUEOUS_MODEL_PARAMETERS": "the LLNL activity model"}

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
_CANON = {"logk": "log_k", "deltah": "delta_h", "analytical_expression": "analytic", "a_e": "analytic",
          "ae": "analytic", "mb": "mass_balance", "mole_balance": "mass_balance", "add_log_k": "add_logk"}
# options PHREEQC refuses without a number first (read_vm_only, read_aq_species_vm_parms, read_t_c_only,
# read_p_c_only, read_omega_only, read_millero_abcdef, read_viscosity_parms; dw): chemsolve does not use
# them (molar volumes, diffusion, viscosity, critical data for Peng-Robinson), but checks them as PHREEQC does
_NEEDS_NUMBER = {"vm", "dw", "t_c", "p_c", "omega", "millero", "viscosity"}
# options that change log K or the activity model of SOLUTION_SPECIES / PHASES and that chemsolve does
# not implement: refused, never ignored (the answer would silently differ from PHREEQC's)
_UNSUPPORTED = {"add_logk": "named log K expressions (NAMED_EXPRESSIONS)", "add_constant": "a constant added to log K",
                "llnl_gamma": "the LLNL activity model", "co2_llnl_gamma": "the LLNL CO2 activity model",
                "activity_water": "the water-activity rule of isotopic water species"}

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

    def log_k_coeffs(self) -> tuple[float, ...]:
        """(c1..c6) with log10 K(T) = c1 + c2 T + c3/T + c4 log10(T) + c5/T^2 + c6 T^2: the analytic
        expression if given, else van 't Hoff (c1 = log K + dH/(R ln10 298.15), c3 = -dH/(R ln10))."""
        if self.analytic is not None:
            return self.analytic + (0.0,) * (6 - len(self.analytic))
        if self.delta_h is None:
            return (self.log_k, 0.0, 0.0, 0.0, 0.0, 0.0)
        s = self.delta_h / (R_KJ * LN10)
        return (self.log_k + s / T_REF, 0.0, -s, 0.0, 0.0, 0.0)

    def log_k_at(self, T: float) -> float:
        """log10 K at temperature ``T`` [K]: the analytic expression if given, else van 't Hoff."""
        if self.analytic is None and (self.delta_h is None or T == T_REF):
            return self.log_k
        return float(np.dot(self.log_k_coeffs(), log_k_basis(T)))


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


@dataclass
class Database:
    """A parsed PHREEQC database. ``masters`` keyed by element name, ``species`` and ``phases`` by
    name, in file order; ``skipped`` lists what was not read (block or option -> first file:line)."""

    path: str
    masters: dict[str, MasterSpecies] = field(default_factory=dict)
    species: dict[str, Species] = field(default_factory=dict)
    phases: dict[str, Phase] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Database({Path(self.path).name!r}: {len(self.masters)} master species, "
                f"{len(self.species)} aqueous species, {len(self.phases)} phases)")

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
_TOKEN_RE = re.compile(r"([A-Z][a-z_]*)|(\()|(\))(\d*\.?\d*)|(\d+\.?\d*|\.\d+)")


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
    like "Hdg" or "Benzoate" are elements too). Raises ValueError on anything else."""
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


def _option(stmt: str, opts: tuple[str, ...], where: str, block: str) -> tuple[str, list[str]] | None:
    """(canonical option, its arguments) if the statement is an option of ``opts``, else None."""
    toks = stmt.split()
    first = toks[0]
    if len(first) > 1 and first[0] == "-" and first[1].isalpha():
        name = first[1:].lower()
        for o in opts:
            if o.startswith(name):
                return _CANON.get(o, o), toks[1:]
        raise DatabaseError(f"{where}: unknown option {first!r} in {block} (PHREEQC refuses it too); "
                            f"options: {', '.join('-' + o for o in opts)}")
    if first.lower() in opts:
        return _CANON.get(first.lower(), first.lower()), toks[1:]
    return None


def load_database(name_or_path: str | Path, *, strict_balance: bool = True) -> Database:
    """Read a PHREEQC database: a bundled name (``"phreeqc.dat"``, ``"wateq4f.dat"``,
    ``"minteq.v4.dat"``) or a path to any PHREEQC-format file.

    The file is checked as PHREEQC checks it when it loads a database (read.cpp, tidy.cpp), so that
    a file PHREEQC refuses -- cut short, a definition missing -- is refused here too, with file, line
    and what is missing: every species named in a reaction or a master-species row is defined by a
    reaction, every element of every formula has a master-species row, every valence state's
    element has its primary row (and a redox element's primary master species is also a valence
    state's), options are PHREEQC's (abbreviations as PHREEQC matches them, numbers where it
    needs them). Options that would change log K or activity coefficients in ways chemsolve does
    not implement (-add_logk, -llnl_gamma, ...) are refused rather than ignored. Parts chemsolve
    does not use are listed in one ``DatabaseWarning``. Raises ``DatabaseError`` on any of these,
    a malformed line, an unbalanced reaction (unless the entry says ``-no_check``;
    ``strict_balance=False`` turns these into warnings), or a file that is not there.
    """
    path = _resolve(name_or_path)
    return parse_database(read_text(path), str(path), strict_balance=strict_balance, _stacklevel=3)


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
    # what the PHREEQC-like checks need: every reference to a species, every formula's elements,
    # exchange and surface definitions (chemsolve does not use them, PHREEQC checks them)
    refs: list[tuple[str, int, str]] = []  # (species, line, who refers to it)
    other_species: dict[str, int] = {}  # exchange / surface species defined -> line
    other_masters: dict[str, tuple[str, int]] = {}  # exchange / surface master rows
    formulas: list[tuple[str, int, str]] = []  # (formula, line, what it is)
    phase_refs: list[tuple[str, int, str]] = []  # phases named inside other phases' reactions

    def finish(e: _Entry | None) -> None:
        if e is None:
            return
        if e.reaction is None:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r} has no reaction equation")
        lhs, rhs = e.reaction
        if e.kind == "phase":  # as PHREEQC: "(aq)" dropped, H2O(l) is water; "(g)", "(s)" name phases
            lhs = [lhs[0]] + [_phase_token(n, c) for n, c in lhs[1:]]
            rhs = [_phase_token(n, c) for n, c in rhs]
        st = _stoich(lhs, rhs)
        rx = Reaction(st, e.log_k, e.delta_h, e.analytic)
        try:
            problem = None if e.no_check else _balance_error(st)
        except ValueError as err:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r}: {err}") from None
        if problem:
            msg = f"{fname}:{e.line}: {e.kind} {e.name!r} is not balanced ({problem})"
            if strict_balance:
                raise DatabaseError(msg + "; mark it -no_check if that is intended")
            unbalanced.append(msg)
        for n, _ in (lhs[1:] + rhs if e.kind == "phase" else lhs + rhs[1:]):
            if e.kind == "phase" and re.search(r"\((g|s)\)$", n, re.IGNORECASE):
                phase_refs.append((n, e.line, f"the reaction of phase {e.name!r}"))
            elif n != e.name:
                refs.append((n, e.line, f"the reaction of {e.kind} {e.name!r}"))
        if e.kind in ("exchange species", "surface species"):
            other_species[e.name] = e.line
            formulas.append((e.name, e.line, e.kind))
            return
        if e.name in (db.species if e.kind == "species" else db.phases):
            redefined.append(e.name)  # as in PHREEQC, the later definition replaces the earlier
        try:
            if e.kind == "species":
                elements = parse_formula(e.name)
                db.species[e.name] = Species(e.name, rx, species_charge(e.name), elements, e.gamma, e.line,
                                             e.mass_balance, e.vm)
                formulas.append((e.name, e.line, "species"))
            else:
                formula = re.sub(r"\((g|s)\)$", "", lhs[0][0], flags=re.IGNORECASE)
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
            if block in _OTHER_MODELS:
                raise DatabaseError(f"{where}: {block}: this database uses "
                                    f"{_OTHER_MODELS[block]}; chemsolve implements "
                                    "PHREEQC's ion-association model only (phreeqc.dat, wateq4f.dat, minteq.v4.dat), "
                                    "and would silently give another answer")
            if block not in _READ and block != "END":
                db.skipped.setdefault(f"block {block}", where)
            continue
        if block is None:
            raise DatabaseError(f"{where}: text before the first keyword: {stmt!r}")
        toks = stmt.split()
        if block in _MASTER_BLOCKS:
            _master_row(db, block, toks, stmt, where, no, other_masters, refs)
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
    for opt, first_where in ignored_opts.items():
        db.skipped.setdefault(f"option -{opt}", first_where)
    notes = [f"{k} (first at {v})" for k, v in db.skipped.items()]
    if redefined:
        notes.append(f"{len(redefined)} entries defined twice, the later definition kept: {', '.join(redefined)}")
    if unbalanced:
        notes.append(f"{len(unbalanced)} unbalanced reactions kept (strict_balance=False): " + "; ".join(unbalanced))
    text = f"{fname}: chemsolve skipped " + ", ".join(notes)
    if notes and text not in _LISTED:  # once per database per process, not on every load
        _LISTED.add(text)
        warnings.warn(text, DatabaseWarning, stacklevel=_stacklevel)
    return db


_LISTED: set[str] = set()  # the DatabaseWarning texts already shown in this process


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
    if not (toks[3][0].isupper() or _is_number(toks[3])):
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


_MB_RE = re.compile(r"([A-Z][a-z_]*)(\([+-]?\d+(?:\.\d+)?\))?|(\()|(\))(\d*\.?\d*)|(\d+\.?\d*|\.\d+)")


def parse_mass_balance(text: str) -> dict[str, float]:
    """The formula of ``-mass_balance`` (PHREEQC's get_secondary_in_species): element counts where an
    element may carry its valence state: "S(-2)4" -> {"S(-2)": 4}, "CuS(-2)8" -> {"Cu": 1, "S(-2)": 8}."""
    stack: list[dict[str, float]] = [{}]
    last = None
    pos = 0
    body = text
    while pos < len(body):
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
    elif opt in _UNSUPPORTED and block in ("SOLUTION_SPECIES", "PHASES"):
        raise DatabaseError(f"{where}: option -{opt} ({_UNSUPPORTED[opt]}) is not supported by chemsolve: the "
                            f"log K or activity of {entry.name!r} would differ from PHREEQC's")
    else:
        if opt in _NEEDS_NUMBER and not (args and re.match(r"[+-]?(\d|\.\d)", args[0])):
            raise DatabaseError(f"{where}: option -{opt} needs a number first (PHREEQC refuses it too)")
        if block in ("SOLUTION_SPECIES", "PHASES"):  # (exchange and surface blocks are listed as skipped whole)
            ignored.setdefault(opt, where)


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
