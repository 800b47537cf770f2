"""Reader for PHREEQC-format thermodynamic databases (phreeqc.dat, wateq4f.dat, minteq.v4.dat...).

Reads SOLUTION_MASTER_SPECIES, SOLUTION_SPECIES and PHASES: reaction equations (parsed into
stoichiometry), ``log_k``, ``delta_h`` (van 't Hoff), ``-analytic`` temperature expressions and
``-gamma a b`` (WATEQ Debye-Hueckel parameters). Every other keyword block (exchange, surface,
rates, Pitzer, SIT, ...) and every option chemsolve does not use (molar volumes, diffusion
coefficients, viscosity, ...) is skipped and listed in *one* warning, never silently. Reactions
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
    "BUNDLED",
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

# options of SOLUTION_SPECIES / PHASES (lower case, without the leading dash)
_OPT_LOGK = {"log_k", "logk", "-log_k"}
_OPT_DELTAH = {"delta_h", "deltah"}
_OPT_ANALYTIC = {"analytic", "analytical", "analytical_expression", "a_e", "ae"}
_OPT_GAMMA = {"gamma"}
_OPT_NOCHECK = {"no_check", "nocheck"}
# known PHREEQC options with no effect on 25-90 C, 1 atm speciation in chemsolve (yet)
_OPT_IGNORED = {
    "vm", "dw", "viscosity", "erm_ddl", "llnl_gamma", "co2_llnl_gamma", "millero", "t_c", "p_c", "omega",
    "add_logk", "add_log_k", "add_constant", "activity_water", "mass_balance", "mole_balance",
    "tracer_diffusion", "dissolve_only", "precipitate_only", "original_units", "check",
}

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

    log_k : log10 K at 298.15 K. delta_h : reaction enthalpy [kJ/mol] or None.
    analytic : up to six coefficients A1..A6 of
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
    elements : element counts of the formula (None for e-).
    """

    name: str
    reaction: Reaction
    charge: float
    elements: dict[str, float]
    gamma: tuple[float, float] | None
    line: int


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
    for tok in side.split():
        if tok == "+":
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
        out.append((tok, c * (coef if coef is not None else 1.0)))
        coef = None
    if coef is not None or not out:
        raise ValueError(f"cannot read reaction side {side!r}")
    return out


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


def load_database(name_or_path: str | Path, *, strict_balance: bool = True) -> Database:
    """Read a PHREEQC database: a bundled name (``"phreeqc.dat"``, ``"wateq4f.dat"``,
    ``"minteq.v4.dat"``) or a path to any PHREEQC-format file.

    Parts chemsolve does not use are listed in one ``DatabaseWarning``. Raises ``DatabaseError``
    (file and line in the message) on a malformed line, an unbalanced reaction (unless the
    entry says ``-no_check``; ``strict_balance=False`` turns these into warnings), or a file
    that is not there.
    """
    path = _resolve(name_or_path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # old databases carry Latin-1 accents in comments
    db = Database(str(path))
    fname = path.name
    block: str | None = None
    entry: _Entry | None = None
    ignored_opts: dict[str, str] = {}
    unbalanced: list[str] = []
    redefined: list[str] = []

    def finish(e: _Entry | None) -> None:
        if e is None:
            return
        if e.reaction is None:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r} has no reaction equation")
        lhs, rhs = e.reaction
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
        if e.name in (db.species if e.kind == "species" else db.phases):
            redefined.append(e.name)  # as in PHREEQC, the later definition replaces the earlier
        try:
            if e.kind == "species":
                elements = parse_formula(e.name)
                db.species[e.name] = Species(e.name, rx, species_charge(e.name), elements, e.gamma, e.line)
            else:
                formula = lhs[0][0]
                products = _stoich(lhs[1:], rhs)
                db.phases[e.name] = Phase(e.name, formula, rx, parse_formula(formula), e.line, products)
        except ValueError as err:
            raise DatabaseError(f"{fname}:{e.line}: {e.kind} {e.name!r}: {err}") from None

    for no, stmt in _logical_lines(text):
        where = f"{fname}:{no}"
        first = stmt.split()[0]
        if first.upper() in _KEYWORDS:  # keywords are case-insensitive in PHREEQC
            finish(entry)
            entry = None
            block = first.upper()
            if block not in _READ and block != "END":
                db.skipped.setdefault(f"block {block}", where)
            continue
        if block is None:
            raise DatabaseError(f"{where}: text before the first keyword: {stmt!r}")
        if block not in _READ:
            continue
        toks = stmt.split()
        if block == "SOLUTION_MASTER_SPECIES":
            if len(toks) < 4:
                raise DatabaseError(f"{where}: SOLUTION_MASTER_SPECIES needs element, species, alk, "
                                    f"gfw (and element gfw): {stmt!r}")
            alk = _numbers([toks[2]], where, f"alkalinity of {toks[0]}")[0]
            gfw = _numbers([toks[4]], where, f"gram formula weight of {toks[0]}")[0] if len(toks) > 4 else None
            db.masters[toks[0]] = MasterSpecies(toks[0], toks[1], alk, toks[3], gfw, no)
            continue
        opt = toks[0].lower().lstrip("-")
        is_option = toks[0].startswith("-") or (opt in _OPT_LOGK | _OPT_DELTAH | _OPT_ANALYTIC | _OPT_GAMMA
                                                | _OPT_NOCHECK | _OPT_IGNORED and "=" not in stmt)
        if is_option:
            if entry is None:
                raise DatabaseError(f"{where}: option {toks[0]!r} before any {block} entry")
            _apply_option(entry, opt, toks, where, ignored_opts)
            continue
        if "=" in stmt:
            try:
                lhs, rhs = parse_reaction(stmt)
            except ValueError as err:
                raise DatabaseError(f"{where}: {err}") from None
            if block == "SOLUTION_SPECIES":
                finish(entry)
                entry = _Entry("species", rhs[0][0], where, no)
                entry.reaction = (lhs, rhs)
            else:
                if entry is None or entry.reaction is not None:
                    raise DatabaseError(f"{where}: a PHASES reaction needs a phase name on the line above: {stmt!r}")
                entry.reaction = (lhs, rhs)
            continue
        if block == "PHASES":
            finish(entry)
            entry = _Entry("phase", toks[0], where, no)
            continue
        raise DatabaseError(f"{where}: expected a reaction equation or an option in {block}, got {stmt!r}")
    finish(entry)

    for opt, first_where in ignored_opts.items():
        db.skipped.setdefault(f"option -{opt}", first_where)
    notes = [f"{k} (first at {v})" for k, v in db.skipped.items()]
    if redefined:
        notes.append(f"{len(redefined)} entries defined twice, the later definition kept: {', '.join(redefined)}")
    if unbalanced:
        notes.append(f"{len(unbalanced)} unbalanced reactions kept (strict_balance=False): " + "; ".join(unbalanced))
    if notes:
        warnings.warn(f"{fname}: chemsolve skipped " + ", ".join(notes), DatabaseWarning, stacklevel=2)
    if not db.masters or not db.species:
        raise DatabaseError(f"{fname}: no SOLUTION_MASTER_SPECIES or SOLUTION_SPECIES found: is this a PHREEQC database?")
    return db


def _apply_option(entry: _Entry, opt: str, toks: list[str], where: str, ignored: dict[str, str]) -> None:
    args = toks[1:]
    if opt in _OPT_LOGK:
        if len(args) < 1:
            raise DatabaseError(f"{where}: log_k needs a value")
        entry.log_k = _numbers(args[:1], where, "log_k")[0]
    elif opt in _OPT_DELTAH:
        if not args:
            raise DatabaseError(f"{where}: delta_h needs a value")
        val = _numbers(args[:1], where, "delta_h")[0]
        unit = args[1].lower().replace("/mol", "") if len(args) > 1 else "kj"
        if unit not in _ENERGY_UNITS:
            raise DatabaseError(f"{where}: delta_h unit {args[1]!r} unknown; expected kJ, kcal, J or cal (per mol)")
        entry.delta_h = val * _ENERGY_UNITS[unit]
    elif opt in _OPT_ANALYTIC:
        vals = _numbers(args, where, "analytic expression")
        if not 1 <= len(vals) <= 6:
            raise DatabaseError(f"{where}: analytic expression takes 1 to 6 numbers, got {len(vals)}")
        entry.analytic = tuple(vals)
    elif opt in _OPT_GAMMA:
        vals = _numbers(args[:2], where, "gamma")
        if len(vals) != 2:
            raise DatabaseError(f"{where}: -gamma needs two numbers (a, b)")
        entry.gamma = (vals[0], vals[1])
    elif opt in _OPT_NOCHECK:
        entry.no_check = True
    else:
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
