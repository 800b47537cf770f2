"""PHREEQC's SOLUTION block as an object: ``Solution(db, totals=..., units=..., T=..., pH=..., pe=...)``.

What a SOLUTION says, with PHREEQC's meaning (read.cpp read_solution, ISolutionComp.cxx, prep.cpp
convert_units and setup_solution):

- ``totals`` : {element or valence state: concentration}, in ``units`` (mol/kgw, mmol/kgw, umol/kgw,
  mol/L, mg/L, ppm = mg/kgs, ppb, g/kgs, meq/L, ... as PHREEQC spells them). A value may also be a
  PHREEQC line's text after the element: ``"141.682 as HCO3"``, ``"0.29 gfw 62.0"``, ``"3.3 ppb"``
  (units per line), ``"1.0 O2(g) -0.7"`` (the total fixed by a phase's saturation index), ``"6.6
  charge"`` (the total adjusted to electroneutrality), ``"0.0002 pe"`` or ``"3.3 ppb N(5)/N(-3)"``
  (this element's valence states distributed by the pe or by a redox couple); or a tuple of the
  same words, ``(1.0, "O2(g)", -0.7)``. ``Alkalinity`` is PHREEQC's (eq; with carbon given the pH is
  adjusted to it, else it fixes the carbonate).
- ``pH`` : a number, ``(7.0, "charge")`` (adjusted to electroneutrality, the number the start) or
  ``(pH, phase, SI)``; ``pe`` : a number or ``(pe, phase, SI)`` (``pe=(4, "O2(g)", -0.7)``);
  ``charge`` : the element (or "pH") adjusted to electroneutrality, the same as "charge" on it.
- ``redox`` : the default redox couple ("O(0)/O(-2)"): elements given as a whole are distributed by
  it instead of the pe.
- ``density`` [kg/L] (per-litre units), ``water`` [kg] (the mass of water), ``T`` [K], ``P`` [atm].

Mass units convert to moles with the gram formula weight of the key's row of
SOLUTION_MASTER_SPECIES, of the ``as`` formula, or ``gfw``; per-litre and per-kilogram-solution
units convert to per kilogram of water with the density and the mass of the solutes (PHREEQC's
approximation: H+ and OH- at the given pH, and each total's mass). ``speciate()`` solves it: the
initial solution calculation, with the water's conserved totals for ``react``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .database import Database, parse_formula
from .system import P_MAX, total_key

__all__ = ["Solution", "normalize_units"]

_UNITS = ("Mol/l", "mMol/l", "uMol/l", "g/l", "mg/l", "ug/l", "Mol/kgs", "mMol/kgs", "uMol/kgs", "g/kgs", "mg/kgs",
          "ug/kgs", "Mol/kgw", "mMol/kgw", "uMol/kgw", "g/kgw", "mg/kgw", "ug/kgw", "eq/l", "meq/l", "ueq/l",
          "eq/kgs", "meq/kgs", "ueq/kgs", "eq/kgw", "meq/kgw", "ueq/kgw")


def normalize_units(text: str, alkalinity: bool = False) -> str | None:
    """PHREEQC's standard form of a units string (read.cpp check_units), or None if unknown:
    "ppm" -> "mg/kgs", "mmol/L" -> "mMol/l", "mol/kgw" -> "Mol/kgw". Alkalinity in moles is taken as
    equivalents, as PHREEQC does."""
    t = re.sub(r"\s+", "", str(text)).lower()
    for a, b in (("milli", "m"), ("micro", "u"), ("grams", "g"), ("gram", "g"), ("moles", "Mol"), ("mole", "Mol"),
                 ("mol", "Mol"), ("liter", "l"), ("kgh", "kgw"), ("ppt", "g/kgs"), ("ppm", "mg/kgs"),
                 ("ppb", "ug/kgs"), ("equivalents", "eq"), ("equivalent", "eq"), ("equiv", "eq")):
        t = t.replace(a, b)
    for tail in ("/l", "/kgs", "/kgw"):
        i = t.find(tail)
        if i >= 0:
            t = t[: i + len(tail)]
            break
    if t not in _UNITS:
        return None
    if alkalinity and "Mol" in t:
        t = t.replace("Mol", "eq")
    return t


def _family(u: str) -> str:
    return "/l" if u.endswith("/l") else "/kgs" if u.endswith("/kgs") else "/kgw"


@dataclass(frozen=True)
class Total:
    """One line of a SOLUTION: key (as SOLUTION_MASTER_SPECIES spells it), value, units, ``as``
    formula or gfw, how it is held (``mb``: its total, ``charge``, ``phase`` with ``si``), and the
    redox that distributes its valence states (``pe``, a couple, or None: the solution's default)."""

    key: str
    value: float
    units: str
    as_formula: str | None = None
    gfw: float | None = None
    how: str = "mb"  # "mb", "charge", "phase"
    phase: str | None = None
    si: float = 0.0
    redox: str | None = None
    text: str = ""


_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_total_line(db: Database, key: str, words: list[str], default_units: str, where: str = "") -> Total:
    """A SOLUTION line after its element name, as PHREEQC's ISolutionComp::read: value [units]
    [as formula | gfw number] [pe | couple] [charge | phase [SI]]."""
    pre = f"{where}: " if where else ""
    alk = key.lower().startswith("alk")
    if not words or not _NUM.match(words[0]):
        raise InvalidInputError(f"{pre}{key}: expected a concentration, got {' '.join(words)!r}")
    value = float(words[0])
    i = 1
    units = default_units
    if i < len(words):
        u = normalize_units(words[i], alk)
        if u is not None:
            if _family(u) != _family(default_units):
                raise InvalidInputError(f"{pre}{key}: units {words[i]!r} are not compatible with the solution's "
                                        f"{default_units!r} (per litre, per kg solution and per kg water do not mix)")
            if "eq" in u and not alk:
                raise InvalidInputError(f"{pre}{key}: only alkalinity can be given in equivalents ({words[i]!r})")
            units = u
            i += 1
    as_f = None
    gfw = None
    if i < len(words) and words[i].lower() == "as":
        if i + 1 >= len(words):
            raise InvalidInputError(f"{pre}{key}: 'as' needs a formula")
        as_f = words[i + 1]
        try:
            parse_formula(as_f)
        except ValueError as err:
            raise InvalidInputError(f"{pre}{key}: 'as {as_f}': {err}") from None
        i += 2
    elif i < len(words) and words[i].lower() in ("gfw", "gfm"):
        if i + 1 >= len(words) or not _NUM.match(words[i + 1]):
            raise InvalidInputError(f"{pre}{key}: 'gfw' needs a gram formula weight")
        gfw = float(words[i + 1])
        if gfw <= 0:
            raise InvalidInputError(f"{pre}{key}: gfw must be positive, got {gfw}")
        i += 2
    redox = None
    if i < len(words) and (words[i].lower() == "pe" or "/" in words[i]):
        redox = "pe" if words[i].lower() == "pe" else _couple(db, words[i], pre)
        i += 1
    how, phase, si = "mb", None, 0.0
    if i < len(words):
        if words[i].lower().startswith("charge"):
            how = "charge"
            i += 1
        else:
            phase = words[i]
            if phase not in db.phases:
                raise InvalidInputError(f"{pre}{key}: {phase!r} is not a phase of the database (expected a phase "
                                        "name, 'charge', 'pe' or a redox couple)")
            how = "phase"
            i += 1
            if i < len(words):
                if not _NUM.match(words[i]):
                    raise InvalidInputError(f"{pre}{key}: expected the saturation index of {phase}, got {words[i]!r}")
                si = float(words[i])
                i += 1
    if i < len(words):
        raise InvalidInputError(f"{pre}{key}: unexpected {' '.join(words[i:])!r}")
    return Total(key, value, units, as_f, gfw, how, phase, si, redox, " ".join(words))


def _couple(db: Database, text: str, pre: str = "") -> str:
    """A redox couple "El(v1)/El(v2)" checked and written as the database spells both states."""
    parts = text.replace("(+", "(").split("/")
    if len(parts) != 2:
        raise InvalidInputError(f"{pre}redox couple {text!r}: expected 'El(v1)/El(v2)'")
    keys = []
    for p in parts:
        if "(" not in p:
            raise InvalidInputError(f"{pre}redox couple {text!r}: element name must be followed by a valence "
                                    "in parentheses")
        try:
            keys.append(total_key(db, p))
        except InvalidInputError:
            raise InvalidInputError(f"{pre}redox couple {text!r}: {p!r} is not a valence state "
                                    "of the database") from None
    if keys[0].split("(")[0] != keys[1].split("(")[0]:
        raise InvalidInputError(f"{pre}redox couple {text!r} must join two valence states of one element")
    return "/".join(keys)


def _words(v) -> list[str]:
    if isinstance(v, str):
        return v.split()
    if isinstance(v, (tuple, list)):
        return [repr(float(x)) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x) for x in v]
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return [repr(float(v))]
    raise InvalidInputError(f"a total must be a number, a PHREEQC line text or a tuple, got {v!r:.80}")


@dataclass
class Solution:
    """PHREEQC's SOLUTION (see the module docstring). ``speciate()`` returns its ``SpeciationResult``."""

    db: Database
    totals: dict[str, Any] = field(default_factory=dict)
    units: str = "mmol/kgw"
    T: float = 298.15
    pH: Any = 7.0
    pe: Any = 4.0
    charge: str | None = None
    redox: str | None = None
    density: float = 1.0
    water: float = 1.0
    P: float = 1.0
    where: str = ""  # file:line of the block, for messages
    lines: dict[str, str] = field(default_factory=dict)  # key -> file:line of its total

    def __post_init__(self) -> None:
        pre = f"{self.where}: " if self.where else ""
        u = normalize_units(self.units)
        if u is None or "eq" in u:
            raise InvalidInputError(f"{pre}units={self.units!r}: unknown (e.g. mol/kgw, mmol/kgw, mg/L, ppm, mmol/L)")
        self._units = u
        for name, v, lo, hi in (("T", self.T, 273.14, 623.15), ("density", self.density, 1e-3, 10.0),
                                ("water", self.water, 1e-12, 1e6), ("P", self.P, 1e-6, P_MAX)):
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise InvalidInputError(f"{pre}{name}={v!r} is not a number") from None
            if not (math.isfinite(x) and lo <= x <= hi):
                raise InvalidInputError(f"{pre}{name}={v!r} must lie in [{lo:g}, {hi:g}]"
                                        + (" K (the range of the water-property fits)" if name == "T" else ""))
        self._pH = self._special("pH", self.pH, pre)
        self._pe = self._special("pe", self.pe, pre)
        self._totals: list[Total] = []
        seen: dict[str, str] = {}
        for k, v in (self.totals or {}).items():
            where = self.lines.get(str(k), self.where)
            pk = f"{where}: " if where else ""
            key = total_key(self.db, str(k)) if not str(k).lower().startswith("alk") else "Alkalinity"
            if key == "Alkalinity" and "Alkalinity" not in self.db.masters:
                raise InvalidInputError(f"{pk}the database has no Alkalinity row")
            t = parse_total_line(self.db, key, _words(v), self._units, where)
            ms = self.db.masters[key].species
            if key != "Alkalinity" and ms in seen:
                raise InvalidInputError(f"{pk}{k!r} and {seen[ms]!r} both give the total of master species {ms}")
            if key != "Alkalinity":
                seen[ms] = str(k)
            if not (math.isfinite(t.value) and t.value >= 0):
                raise InvalidInputError(f"{pk}total of {k!r} must be finite and >= 0, got {t.value!r}")
            self._totals.append(t)
        if self.charge is not None:
            c = str(self.charge)
            if c.lower() == "ph":
                self._pH = ("charge", self._pH[1], None, 0.0)
            else:
                key = total_key(self.db, c)
                hit = [i for i, t in enumerate(self._totals) if t.key == key]
                if not hit:
                    raise InvalidInputError(f"{pre}charge={c!r}: that element has no total in this solution")
                t = self._totals[hit[0]]
                self._totals[hit[0]] = Total(t.key, t.value, t.units, t.as_formula, t.gfw, "charge", None, 0.0, t.redox,
                                             t.text)
        n_charge = sum(t.how == "charge" for t in self._totals) + (self._pH[0] == "charge")
        if n_charge > 1:
            raise InvalidInputError(f"{pre}charge balance asked of more than one total (PHREEQC refuses it too)")
        keys = [t.key for t in self._totals]
        alk = "Alkalinity" in keys
        carbon = any(k != "Alkalinity" and self.db.masters[k].species == self.db.masters["Alkalinity"].species
                     for k in keys) if alk else False
        self._alk_ph = alk and carbon
        if self._alk_ph and self._pH[0] != "fixed":
            raise InvalidInputError(f"{pre}Alkalinity with carbon: the pH is adjusted to the alkalinity, so it cannot "
                                    "also come from the charge balance or a phase (PHREEQC refuses it too)")
        if alk and next(t for t in self._totals if t.key == "Alkalinity").how != "mb":
            raise InvalidInputError(f"{pre}Alkalinity cannot be used with charge balance or a phase "
                                    "(PHREEQC refuses it too)")
        if self.redox is not None:
            self._redox = _couple(self.db, str(self.redox), pre)
        else:
            self._redox = None

    def _special(self, name: str, v, pre: str):
        """pH / pe as (how, value, phase, si): how "fixed", "charge" (pH only) or "phase"."""
        words = _words(v)
        if not words or not _NUM.match(words[0]):
            raise InvalidInputError(f"{pre}{name}={v!r}: expected a number")
        x = float(words[0])
        lo, hi = (-2.0, 16.0) if name == "pH" else (-20.0, 20.0)
        if not (lo <= x <= hi):
            raise InvalidInputError(f"{pre}{name}={x!r} must lie in [{lo:g}, {hi:g}]")
        if len(words) == 1:
            return ("fixed", x, None, 0.0)
        if name == "pH" and words[1].lower().startswith("charge") and len(words) == 2:
            return ("charge", x, None, 0.0)
        ph = words[1]
        if ph not in self.db.phases:
            raise InvalidInputError(f"{pre}{name}: {ph!r} is not a phase of the database")
        si = float(words[2]) if len(words) > 2 and _NUM.match(words[2]) else 0.0
        if len(words) > 3 or (len(words) == 3 and not _NUM.match(words[2])):
            raise InvalidInputError(f"{pre}{name}: unexpected {' '.join(words[2:])!r}")
        return ("phase", x, ph, si)

    # ------------------------------------------------------------------ units
    def moles_per_kgw(self) -> dict[str, float]:
        """Each total in mol (eq for Alkalinity) per kg of water, converted as PHREEQC's convert_units
        (at the given pH for the mass of H+ and OH-; the density as given)."""
        db = self.db
        gH = _gfw(db, "H")
        gOH = _gfw(db, "OH")
        sum_solutes = 10.0 ** (-self._pH[1]) * gH + 10.0 ** (self._pH[1] - 14.0) * gOH
        out: dict[str, float] = {}
        for t in self._totals:
            if t.value <= 0:
                out[t.key] = 0.0
                continue
            gfw = t.gfw
            if gfw is None:
                if t.as_formula:
                    gfw = _gfw(db, t.as_formula)
                    if t.key == "Alkalinity" and t.as_formula == "CaCO3":
                        gfw /= 2.0  # PHREEQC: the equivalent weight of alkalinity as CaCO3
                else:
                    gfw = db.formula_weight(t.key)
            moles = t.value
            u = t.units
            if "/l" in self._units:
                moles /= float(self.density)
            if u[0] == "m":
                moles *= 1e-3
            elif u[0] == "u":
                moles *= 1e-6
            if "g/kgs" in u or "g/l" in u:
                sum_solutes += moles
            elif "Mol/kgs" in u or "Mol/l" in u or "eq/l" in u:
                sum_solutes += moles * gfw
            if "g/" in u and gfw:
                moles /= gfw
            out[t.key] = moles
        if "kgs" in self._units or "/l" in self._units:
            kgw = 1.0 - 1e-3 * sum_solutes
            if kgw <= 0:
                raise InvalidInputError(f"{self.where + ': ' if self.where else ''}the solutes weigh more than the "
                                        "solution: the mass of water would be negative")
            out = {k: v / kgw for k, v in out.items()}
        return out

    # ------------------------------------------------------------------ the calculation
    def speciate(self, *, ionic_strength: str = "newton", damping: Any = None):
        """The initial solution calculation (PHREEQC's SOLUTION): a ``SpeciationResult`` whose
        ``state`` is the water a reaction step (``react``) takes."""
        from . import solve_solution

        return solve_solution.solve(self, ionic_strength=ionic_strength, damping=damping)


def _gfw(db: Database, formula: str) -> float:
    """Gram formula weight of a formula from the element weights of the primary master rows."""
    total = 0.0
    for el, n in parse_formula(formula).items():
        m = db.masters.get(el)
        if m is None or m.gfw is None:
            raise InvalidInputError(f"gram formula weight of {formula!r}: element {el!r} has no weight in the database")
        total += n * m.gfw
    return total

