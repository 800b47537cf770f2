"""Model files: one YAML file per model (``models/**/*.yaml``), read with a bounded safe loader
and validated. The schema of every kind (``aqueous``, ``gas``, ``engine``): each key, its type,
units, default and an example, is documented in one place, ``models/README.md``.

Reading is bounded (``MAX_BYTES``, ``MAX_NODES`` with aliases expanded, ``MAX_ALIASES``,
``MAX_DEPTH``) and safe (YAML's own types only). Duplicate keys, unknown keys (at every level),
missing keys, unknown units, units of the wrong dimension and bad values raise ``ModelError``
naming the file, line and key, in one line. Units are converted here and only here,
with pint (imported on first use of a unit beyond K, degC, Pa, kPa, bar, atm, mol/kgw, mmol/kgw,
umol/kgw and kg/L).
"""

from __future__ import annotations

import collections
import functools
import importlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import InvalidInputError

__all__ = ["Model", "GasModel", "EngineModel", "ModelError", "KINDS", "ENGINE_PROBLEMS", "load_model",
           "run_model", "resolve_model_path", "bundled_models_dir"]

KINDS = ("aqueous", "gas", "engine")
_COMMON = {"kind": True, "name": True, "provenance": True, "solver": False}
_AQUEOUS_KEYS = {**_COMMON, "units": True, "database": False, "T": True, "pH": True, "pe": False,
                 "density": False, "totals": True, "equilibrium_phases": False}
_GAS_KEYS = {**_COMMON, "units": True, "mechanism": True, "condensed": False, "mode": True, "T": True,
             "P": True, "X": False, "fuel": False, "oxidizer": False, "phi": False}
_ENGINE_KEYS = {**_COMMON, "units": False, "problem": True, "params": False, "x0": False}
# quantity -> (chemsolve's unit, pint dimension); totals are converted by _totals_to_molality
_QUANTITIES = {"T": ("K", "[temperature]"), "P": ("Pa", "[pressure]"), "density": ("kg/L", "[density]")}
# whole unit texts read otherwise than pint would (pint's C is the coulomb, its ppm a pure number)
_ALIASES = {"C": "degC", "°C": "degC", "degc": "degC", "F": "degF", "°F": "degF", "k": "K", "pa": "Pa",
            "kpa": "kPa", "ppm": "mg/kgs", "ppb": "ug/kgs"}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class ModelError(InvalidInputError):
    """A model file is malformed; the message names file, line and key. It is one line, at
    most ``MAX_MESSAGE`` characters, whatever the file holds."""

    MAX_MESSAGE = 1000

    def __init__(self, message: str):
        text = " ".join(str(message).split())
        if len(text) > self.MAX_MESSAGE:
            text = text[: self.MAX_MESSAGE - 5] + " ..."
        super().__init__(text)


@dataclass(frozen=True)
class Model:
    """A validated aqueous model, in chemsolve's units (mol/kgw, K)."""

    path: str
    kind: str
    name: str
    provenance: str
    database: str
    T: float
    pH: float | None
    pe: float
    totals: dict[str, float]
    equilibrium_phases: dict[str, tuple[float, float]]
    solver: dict[str, Any] = field(default_factory=dict)  # keyword arguments of aqueous.speciate
    density: float = 1.0  # [kg/L], used to convert per-litre totals

    def resource(self):
        """What ``run`` needs besides the numbers: the loaded database."""
        from . import aqueous

        return aqueous.load_database(self.database)

    def run(self, db=None):
        """Solve the model; returns the kind's result object (``SpeciationResult`` for aqueous).
        ``db``: the model's database already loaded (``resource()``), e.g. once for a sweep."""
        from . import aqueous

        db = db if db is not None else self.resource()
        return aqueous.speciate(db, self.totals, self.T, self.pH, self.pe,
                                equilibrium_phases=self.equilibrium_phases or None, **self.solver)


# ------------------------------------------------------------------ units (pint, lazily)
_UREG = None


def _ureg():
    """The process's one pint registry (importing pint and building it costs ~0.5 s), with kg of
    water (``kgw``) and kg of solution (``kgs``) as units of dimensions of their own."""
    global _UREG
    if _UREG is None:
        import pint

        ureg = pint.UnitRegistry()
        ureg.define("kg_water = [water_mass] = kgw")
        ureg.define("kg_solution = [solution_mass] = kgs")
        _UREG = ureg
    return _UREG


# units of the bundled files, by definition: no need to import pint for them
_EXACT = {("degC", "K"): (1.0, 273.15), ("atm", "Pa"): (101325.0, 0.0), ("bar", "Pa"): (1e5, 0.0),
          ("kPa", "Pa"): (1e3, 0.0)}


@functools.lru_cache(maxsize=None)
def _linear(unit: str, target: str, dim: str) -> tuple[float, float]:
    """(scale, offset) such that value [target] = scale * value [unit] + offset; ValueError saying
    why when ``unit`` is not a unit of dimension ``dim``."""
    unit = _ALIASES.get(unit, unit)
    if unit == target:
        return 1.0, 0.0
    if (unit, target) in _EXACT:
        return _EXACT[unit, target]
    _check_unit_text(unit)
    ureg = _ureg()
    try:
        q = ureg.Quantity(1.0, unit)
    except Exception:  # noqa: BLE001 - pint raises many kinds for text that is no unit
        raise ValueError("is not a unit pint knows") from None
    if not q.check(dim):
        raise ValueError(f"has dimension {q.dimensionality}, not {dim}")
    try:
        a = float(ureg.Quantity(0.0, unit).to(target).magnitude)
        scale = float(q.to(target).magnitude) - a
    except (OverflowError, ZeroDivisionError, ValueError):
        raise ValueError(f"cannot be converted to {target}") from None
    if not (math.isfinite(scale) and math.isfinite(a)) or scale == 0:
        raise ValueError(f"has a conversion factor to {target} that is not a finite non-zero number")
    return scale, a


_POWER = re.compile(r"\*\*|\^")


def _check_unit_text(unit: str) -> None:
    """ValueError unless ``unit`` is a unit text pint may be given: at most 100 characters, and a
    power (``**`` or ``^``) only of a unit name by a number of at most two digits. pint evaluates
    powers in big integers: ``9**9**9`` never returns."""
    if len(unit) > 100:
        raise ValueError(f"is not a unit (a text of {len(unit):,} characters)")
    for m in _POWER.finditer(unit):
        before = unit[: m.start()].rstrip()
        if not before or not (before[-1].isalpha() or before[-1] == "_") or not re.match(
                r"\s*[-+]?\d{1,2}(?:\.\d{1,3})?(?![\d.])", unit[m.end():]):
            raise ValueError("is not a unit chemsolve reads: a power (** or ^) must raise a unit name "
                             "to a number, e.g. m**3")


def _in_units(where, value: float, q: str, unit: str) -> float:
    """``value`` given in ``unit`` as chemsolve's unit of quantity ``q`` (K, Pa, kg/L)."""
    target, dim = _QUANTITIES[q]
    try:
        scale, offset = _linear(unit, target, dim)
    except ValueError as e:
        raise ModelError(f"{where('units', q)}: unit {_show(unit)} for {q} {e}") from None
    out = scale * value + offset
    if not math.isfinite(out):
        raise ModelError(f"{where(q)}: {q} = {value:g} {_show(unit)} is not a finite number of {target}")
    return out


def _units(data: dict, where, kind: str, quantities: tuple[str, ...]) -> dict[str, str]:
    """The file's ``units:`` mapping: only ``quantities``, each a unit text (default: chemsolve's)."""
    units = data.get("units") or {}
    if not isinstance(units, dict):
        raise ModelError(f"{where('units')}: units is a mapping quantity: unit, e.g. {{T: degC}}")
    for q, u in units.items():
        if q not in quantities:
            allowed = f"allowed: {list(quantities)}" if quantities else "it takes none (the residual's own units)"
            raise ModelError(f"{where('units', q)}: unknown key {_show(q)} in units for kind {kind}; {allowed}")
        if not isinstance(u, str) or not u.strip():
            raise ModelError(f"{where('units', q)}: units.{q} = {_show(u)} is not a unit, e.g. 'degC'")
    default = {**{k: v[0] for k, v in _QUANTITIES.items()}, "totals": "mol/kgw"}
    return {q: str(units.get(q, default[q])).strip() for q in quantities}


# amount or mass per kg of water, kg of solution or litre of solution (plain kg: of water, molality)
_TOTAL_FORMS = [(n, d) for n in (("[substance]", "mol"), ("[mass]", "g"))
                for d in (("[water_mass]", "kgw"), ("[solution_mass]", "kgs"), ("[volume]", "L"), ("[mass]", "kg"))
                if (n[0], d[0]) != ("[mass]", "[mass]")]


_MOLALITY = {"mol/kgw": 1.0, "mmol/kgw": 1e-3, "umol/kgw": 1e-6}  # no need to import pint for these


@functools.lru_cache(maxsize=None)
def _total_form(unit: str) -> tuple[bool, str, float]:
    """(mass?, basis kgw | kgs | L, factor to mol or g per basis) of a totals unit."""
    unit = _ALIASES.get(unit, unit)
    if unit in _MOLALITY:
        return False, "kgw", _MOLALITY[unit]
    _check_unit_text(unit)
    ureg = _ureg()
    try:
        q = ureg.Quantity(1.0, unit)
    except Exception:  # noqa: BLE001
        raise ValueError("is not a unit pint knows") from None
    for (num, nu), (den, du) in _TOTAL_FORMS:
        if q.check(f"{num} / {den}"):
            try:
                f = float(q.to(f"{nu}/{du}").magnitude)
            except (OverflowError, ZeroDivisionError, ValueError):
                f = math.nan
            if not math.isfinite(f) or f <= 0:
                raise ValueError(f"has a conversion factor to {nu}/{du} that is not a finite positive number")
            return num == "[mass]", ("kgw" if du == "kg" else du), f
    raise ValueError(f"has dimension {q.dimensionality}; totals are an amount or a mass per kgw, kgs "
                     "(kg solution) or volume, e.g. mol/kgw, mg/L, ppm")


def _totals_to_molality(where, totals: dict[str, float], unit: str, database: str, density: float) -> dict[str, float]:
    """Totals in ``unit`` -> mol/kgw, as PHREEQC converts a SOLUTION's units: a mass is divided by
    the gram formula weight of the master row (``Database.formula_weight``: HCO3 for C(4), SO4
    for S(6)); per litre is per (density x 1 L) kg of solution; per kg of solution is per
    (1 kg - the dissolved solids) of water."""
    try:
        is_mass, basis, f = _total_form(unit)
    except ValueError as e:
        raise ModelError(f"{where('units', 'totals')}: unit {_show(unit)} for totals {e}") from None
    if basis == "kgw" and not is_mass:
        return {k: v * f for k, v in totals.items()}
    import warnings

    from .aqueous import DatabaseWarning, load_database
    from .aqueous.speciation import _total_key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)  # listed again when the model is run
        db = load_database(database)
    gfw = {}
    for k in totals:
        try:
            gfw[k] = db.formula_weight(_total_key(db, k))
        except InvalidInputError as e:
            raise ModelError(f"{where('totals', k)}: {e}") from None
    per_basis = {k: v * f for k, v in totals.items()}  # mol or g per kgw, kgs or L
    if basis == "L":
        per_basis = {k: v / density for k, v in per_basis.items()}  # per kg of solution
    moles = {k: v / gfw[k] if is_mass else v for k, v in per_basis.items()}
    if basis == "kgw":
        return moles
    grams = sum(per_basis.values()) if is_mass else sum(moles[k] * gfw[k] for k in moles)
    water = 1.0 - 1e-3 * grams  # kg of water per kg of solution
    if water <= 0:
        raise ModelError(f"{where('totals')}: the dissolved solids ({grams:.4g} g per kg of solution) "
                         "outweigh the solution; check the totals, their unit and the density")
    return {k: v / water for k, v in moles.items()}


# ------------------------------------------------------------------ solver options
def _as_float(v: Any) -> float | None:
    """A number, or a text YAML 1.1 leaves unread such as '1e-10'; None otherwise."""
    if isinstance(v, bool):
        return None
    try:
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, str) and len(v) < 400 and re.fullmatch(rf"\s*({_NUMBER}|[-+]?inf)\s*", v):
            return float(v)
    except OverflowError:  # an integer beyond float's range: a number, not a finite one
        return math.inf if v > 0 else -math.inf
    return None


def _real(lo: float, hi: float = math.inf, *, closed: bool = False, inf: bool = False) -> Callable:
    """A number x > lo (>= lo if ``closed``) and < hi; infinity only if ``inf``."""

    def check(v):
        x = _as_float(v)
        if x is None or not (x >= lo if closed else x > lo) or not (x < hi or (inf and x == math.inf)):
            raise ValueError(f"must be a number in {'[' if closed else '('}{lo:g}, {hi:g}{']' if inf else ')'}")
        return x

    return check


def _integer(lo: int, hi: int = 10**9) -> Callable:
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"must be an integer in [{lo}, {hi}]")
        return v
    return check


def _choice(*names: str) -> Callable:
    def check(v):
        if not isinstance(v, str) or v.lower() not in names:
            raise ValueError(f"must be one of {list(names)}")
        return v.lower()
    return check


def _damping(method: str = "newton") -> Callable:
    def check(v):
        from . import damping

        try:
            return damping.resolve(v, method)
        except (InvalidInputError, OverflowError, TypeError, ValueError) as e:
            raise ValueError(f"is not a damping schedule: {e}") from None
    return check


def _t_bounds(v):
    lo, hi = (_as_float(x) for x in v) if isinstance(v, list) and len(v) == 2 else (None, None)
    if lo is None or hi is None or not 0 < lo < hi < math.inf:
        raise ValueError("must be [low, high] in K with 0 < low < high")
    return (lo, hi)


def _boolean(v):
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


# the keyword arguments each kind's solver accepts, with their checks
_SOLVER_OPTIONS: dict[str, dict[str, Callable]] = {
    "aqueous": {"ionic_strength": _choice("newton", "outer"), "max_outer": _integer(1), "damping": _damping()},
    "gas": {"damping": _damping(), "max_iter": _integer(1), "tol": _real(0.0, 1e-2), "T_guess": _real(0.0),
            "T_bounds": _t_bounds},
    "engine": {"method": _choice("newton", "fixed_point", "anderson"), "damping": None,
               "rtol": _real(0.0, 1.0, closed=True), "atol": _real(0.0, closed=True), "ftol": _real(0.0),
               "max_iter": _integer(1), "max_step": _real(0.0, inf=True), "max_rel_step": _real(0.0, inf=True),
               "anderson_m": _integer(1, 100), "stall_iter": _integer(1), "diverge": _real(1.0, inf=True),
               "fscale": _real(0.0), "jit": _boolean},
}


def _solver(data: dict, where, kind: str) -> dict[str, Any]:
    """The ``solver:`` mapping: each option known for ``kind`` and checked; the damping resolved."""
    opts = data.get("solver") or {}
    if not isinstance(opts, dict):
        raise ModelError(f"{where('solver')}: solver is a mapping option: value, e.g. {{damping: linesearch}}")
    table = _SOLVER_OPTIONS[kind]
    out: dict[str, Any] = {}
    for k in sorted(opts, key=lambda k: k != "method"):  # the method first: it picks the damping default
        if k not in table:
            raise ModelError(f"{where('solver', k)}: unknown solver option {_show(k)} for kind {kind}; "
                             f"allowed: {sorted(table)}")
        check = table[k] or _damping(out.get("method", "newton"))
        try:
            out[k] = check(opts[k])
        except ValueError as e:
            raise ModelError(f"{where('solver', k)}: solver.{k} = {_show(opts[k])} {e}") from None
    return out


# ------------------------------------------------------------------ reading a file, bounded
# A model file is a few dozen keys (the bundled ones are under 2 kB, 20-60 nodes, 3 levels deep).
# These bounds leave a hundredfold room and stop what YAML makes cheap to write and costly to
# read: a 1 kB alias bomb ("billion laughs") names 10^9 nodes, a line of 10^5 brackets nests
# 10^5 levels deep (a RecursionError in any recursive reader).
MAX_BYTES = 1 << 20  # file size [bytes]; read no further
MAX_NODES = 10_000  # nodes of the document with every alias expanded (what a reader of it walks)
MAX_ALIASES = 100  # alias uses (*name) in one document
MAX_DEPTH = 32  # nesting of mappings and sequences, aliases expanded
MAX_INT_CHARS = 100  # an integer's text (a float's is linear to read and has no bound but MAX_BYTES)
_MERGE = "tag:yaml.org,2002:merge"
# a phi sweep written in the file builds one feed (a dict) per phi in Python; 10^5 of them take a
# few tens of MB. Larger grids go through ``chemsolve sweep``, whose arrays are capped at 10^8.
MAX_PHI_NUM = 100_000


class _Refused(Exception):
    """A bound or rule of ``_BoundedLoader`` broken at ``mark``; read into a ModelError."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.mark = mark


def _loader_class():
    """``_BoundedLoader``: PyYAML's pure-Python SafeLoader (tags limited to YAML's own types)
    whose composer counts every node as it is read — an alias counts as the whole subtree it
    names — and refuses the document as soon as a bound is passed, so a bomb is never expanded
    or walked; refuses recursive aliases and duplicate keys; and whose constructor turns any
    failure of a value (``!!float abc``, a 5,000-digit integer) into an error at the value's line.
    Built on first use: ``import yaml`` stays out of ``import chemsolve``."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml
    from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    class _BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream):
            super().__init__(stream)
            self._nodes = 0  # nodes so far, aliases expanded
            self._aliases = 0
            self._depth = 0  # collections open around the node being read
            self._open: set[str] = set()  # anchors of the collections still open (an alias to one recurses)
            self._size: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height), aliases expanded

        def _count(self, nodes: int, height: int, mark) -> None:
            self._nodes += nodes
            if self._nodes > MAX_NODES:
                raise _Refused(f"more than {MAX_NODES:,} nodes with aliases expanded (an alias bomb?); "
                               "a model file is a few dozen keys", mark)
            if self._depth + height > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (aliases expanded)", mark)

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):
                event = self.peek_event()
                node = self.anchors.get(event.anchor)
                if node is not None:  # (an undefined alias: PyYAML's own error)
                    self._aliases += 1
                    if self._aliases > MAX_ALIASES:
                        raise _Refused(f"more than {MAX_ALIASES} aliases (*name)", event.start_mark)
                    if event.anchor in self._open:
                        raise _Refused(f"alias *{event.anchor} refers to a collection that contains it "
                                       "(a recursive alias)", event.start_mark)
                    self._count(*self._size[id(node)], event.start_mark)
                return super().compose_node(parent, index)
            event = self.peek_event()
            collection = isinstance(event, (MappingStartEvent, SequenceStartEvent))
            self._count(1, 1, event.start_mark)
            if collection:
                self._depth += 1
                if event.anchor is not None:
                    self._open.add(event.anchor)
            try:
                node = super().compose_node(parent, index)
            finally:
                if collection:
                    self._depth -= 1
                    self._open.discard(event.anchor)
            if isinstance(node, ScalarNode):
                self._size[id(node)] = (1, 1)
            else:
                kids = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
                sizes = [self._size[id(k)] for k in kids]
                self._size[id(node)] = (1 + sum(s[0] for s in sizes), 1 + max((s[1] for s in sizes), default=0))
            return node

        def compose_mapping_node(self, anchor):
            node = super().compose_mapping_node(anchor)
            seen: dict[Any, Any] = {}
            for key, _ in node.value:
                if not isinstance(key, ScalarNode) or key.tag == _MERGE:
                    continue  # a merge (<<) may repeat what the mapping then overrides
                try:  # the key as the constructor will read it: T and "T" are one key, so are 1 and 0x1
                    k = (self.yaml_constructors[key.tag](self, key), key.tag)
                    hash(k)
                    key.chemsolve_key = k[0]  # (the line map's key: the data's, not the text)
                except Exception:  # noqa: BLE001 - an unreadable key: the constructor reports it
                    k = (key.value, key.tag)
                if k in seen:
                    raise _Refused(f"duplicate key {_show(key.value)} (also on line {seen[k].line + 1}); "
                                   "YAML would keep only the last", key.start_mark)
                seen[k] = key.start_mark
            return node

        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep)
            except (yaml.YAMLError, _Refused):
                raise
            except Exception as e:  # noqa: BLE001 - a value the constructor cannot make (ValueError...)
                raise _Refused(f"cannot read {_show(node.value) if isinstance(node, ScalarNode) else 'this value'}"
                               f" as {node.tag.rsplit(':', 1)[-1]}: {e}", node.start_mark) from None

    def construct_int(loader, node):
        # base 60 (1:30:00) is read digit by digit in big integers: 1 MB of it takes minutes
        if len(node.value) > MAX_INT_CHARS:
            raise _Refused(f"an integer of {len(node.value):,} characters; at most {MAX_INT_CHARS}", node.start_mark)
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    _BoundedLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    _LOADER = _BoundedLoader
    return _LOADER


_LOADER = None


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1


def _decode(p: Path | str, raw: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark allowed) or, with its byte-order mark, UTF-16
    (the two encodings YAML 1.1 requires a reader to accept); anything else is an error naming
    the line of the first bad byte."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise ModelError(f"{p}: the file is UTF-32 (byte-order mark); save it as UTF-8")
    enc = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    if enc != "utf-16" and b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw.count(b"\n", 0, at) + 1
        raise ModelError(f"{p}:{line}: NUL byte in the file (at byte {at}; UTF-16 "
                         "without a byte-order mark?); save it as UTF-8")
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as e:
        line = raw[: e.start].decode(enc, errors="replace").count("\n") + 1
        what = f"byte 0x{raw[e.start]:02x}" if enc != "utf-16" else "an unpaired surrogate or odd length"
        raise ModelError(f"{p}:{line}: not {enc.split('-sig')[0].upper()} text ({what} at byte {e.start}); "
                         "save the file as UTF-8") from None
    return text  # (a NUL in UTF-16 text: the YAML reader refuses it, with its line)


def _load_text(text: str, name: str) -> tuple[Any, Any]:
    """(data, root node) of one YAML document, bounded (``_loader_class``); errors are ModelError
    naming ``name`` and the line. The data is a plain tree: aliases copied, not shared."""
    import yaml

    loader = None
    try:
        loader = _loader_class()(text)  # (the reader checks every character here)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as e:
        where = f"{name}:{e.mark.line + 1}" if e.mark is not None else name
        raise ModelError(f"{where}: {e}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (control characters)
        ch = e.character if isinstance(e.character, int) else ord(e.character)
        raise ModelError(f"{name}:{_line(text, e.position)}: character #x{ch:04x} is not allowed in YAML "
                         f"({e.reason})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        why = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        raise ModelError(f"{where}: not valid YAML: {why}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return _tree(data), node


def _tree(v: Any) -> Any:
    """``v`` with every mapping and list copied, so no two keys share one object (an alias in
    the file). Bounded: the loader refused documents of more than MAX_NODES expanded nodes."""
    if isinstance(v, dict):
        return {k: _tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_tree(x) for x in v]
    return v


def _read(path: Path) -> tuple[Any, dict[tuple, int]]:
    """The file's data (bounded, safe: ``_load_text``) plus the line number of every mapping
    key (as a path tuple of the keys as read: ``1`` and ``0x1`` are the integer 1). Keys reached through an alias are not walked again: their line is
    that of the first path to them; other paths have no line (the message names the file)."""
    import yaml

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ModelError(f"{path}: cannot read the file: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise ModelError(f"{path}: larger than {MAX_BYTES:,} bytes; a model file is a few kB")
    data, node = _load_text(_decode(path, raw), str(path))
    lines: dict[tuple, int] = {}
    seen: set[int] = set()
    queue = collections.deque([(node, ())] if node is not None else [])
    while queue:  # breadth first, in file order; each node once: an alias is not walked again
        n, prefix = queue.popleft()
        if id(n) in seen or not isinstance(n, yaml.MappingNode):
            continue
        seen.add(id(n))
        for k, v in n.value:
            key = prefix + (getattr(k, "chemsolve_key", k.value),)
            lines.setdefault(key, k.start_mark.line + 1)
            queue.append((v, key))
    return data, lines


_REPR = None


def _show(v: Any) -> str:
    """A short repr of a value for a message: long texts, lists, mappings and integers cut."""
    global _REPR
    if _REPR is None:
        import reprlib

        _REPR = reprlib.Repr()
        _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40
        _REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
        _REPR.maxlevel = 3
    try:
        return _REPR.repr(v)
    except ValueError:  # an integer too long for repr (sys.get_int_max_str_digits)
        return f"<an integer of {v.bit_length():,} bits>" if isinstance(v, int) else f"<{type(v).__name__}>"


def _check_keys(data: dict, schema: dict[str, bool], kind: str, p: Path, where) -> None:
    """Unknown keys and missing required keys are errors naming file, line and key."""
    for key in data:
        if key not in schema:
            raise ModelError(f"{where(key)}: unknown key {_show(key)} for kind {kind}; allowed: {sorted(schema)}")
    for key, required in schema.items():
        if required and key not in data:
            raise ModelError(f"{p}: missing key {key!r}")


def _texts(data: dict, where, keys: tuple[str, ...]) -> None:
    for key in keys:
        if not isinstance(data[key], str) or not data[key].strip():
            raise ModelError(f"{where(key)}: {key} must be a non-empty text")


def _numbers(where):
    """``number(key, value, allow_none=False)``: a finite float, or an error naming file:line and key.
    A text such as '1e-3' (YAML 1.1 reads exponents without a dot as text) counts as a number."""

    def number(key, value, *, allow_none=False) -> float | None:
        if value is None and allow_none:
            return None
        x = _as_float(value)
        if x is None or not math.isfinite(x):
            raise ModelError(f"{where(*key)}: {'.'.join(map(str, key))} = {_show(value)} is not a finite number")
        return x

    return number


def _apply_overrides(p: Path, data: Any, overrides: dict[str, str]) -> dict[tuple, str]:
    """``--set`` values into the parsed file: ``T=350K``, ``pH=7``, ``totals.Na=0.5``, ``phi=1.2``,
    ``solver.damping=ramp``, ``params.R=20``.

    A number of T, P or density may carry a unit (any pint unit of the right dimension, e.g.
    ``T=25degC``, ``P=2bar``): it replaces the file's unit for that quantity. Anything else is
    read as a YAML scalar; missing mappings on the way are created. Returns {key set: label}."""
    if not isinstance(data, dict):
        return {}
    done: dict[tuple, str] = {}
    for key, raw in overrides.items():
        parts = tuple(k for k in str(key).split(".") if k)
        if not parts:
            raise ModelError(f"--set {key}={raw}: empty key")
        m = re.fullmatch(rf"\s*({_NUMBER})\s*([^\d\s.,:+\-\[\]{{}}].*?)?\s*", str(raw))
        if m and m.group(2):
            if parts not in [(q,) for q in _QUANTITIES]:
                raise ModelError(f"--set {key}={raw}: a unit is only understood for {', '.join(_QUANTITIES)} "
                                 "(totals take the file's units.totals)")
            value: Any = float(m.group(1))
            if not isinstance(data.get("units"), dict):
                data["units"] = {}
            data["units"][parts[0]] = m.group(2)
            done[("units", parts[0])] = parts[0]
        else:
            try:  # as a line of a model file is read: bounded, safe, no duplicate keys
                value = _load_text(str(raw), "--set")[0]
            except ModelError as e:
                raise ModelError(f"--set {key}={raw}: not a value ({str(e).removeprefix('--set:1: ')})") from None
        node = data
        for k in parts[:-1]:
            if node.get(k) is None:
                node[k] = {}
            if not isinstance(node[k], dict):
                raise ModelError(f"--set {key}={raw}: {k!r} is not a mapping in {p}")
            node = node[k]
        node[parts[-1]] = value
        done[parts] = ".".join(parts)
    return done


def bundled_models_dir() -> Path | None:
    """The bundled ``models/`` folder: the checkout's (editable install or source tree), else the
    copy a wheel installs under ``<prefix>/share/chemsolve/models``; None if neither is there."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "models").is_dir():
        return here / "models"
    try:
        from importlib import metadata

        for f in metadata.distribution("chemsolve").files or ():
            if f.as_posix().endswith("share/chemsolve/models/README.md"):
                found = Path(str(f.locate())).resolve().parent
                if found.is_dir():
                    return found
    except metadata.PackageNotFoundError:
        pass
    import sys
    import sysconfig

    for prefix in (sysconfig.get_path("data"), sys.prefix):
        d = Path(prefix) / "share" / "chemsolve" / "models"
        if d.is_dir():
            return d
    return None


def resolve_model_path(name: str | Path) -> Path:
    """A model file: ``name`` itself when it is a file, else a bundled model by its name under
    ``models/`` ("gas/hydrogen_air" or "gas/hydrogen_air.yaml")."""
    p = Path(name)
    if p.is_file():
        return p
    base = bundled_models_dir()
    if base is not None and not p.is_absolute():
        for cand in (base / p, base / p.with_name(p.name + ".yaml")):
            if cand.is_file() and cand.resolve().is_relative_to(base.resolve()):
                return cand
    hint = f"; bundled models are under {base} (chemsolve models)" if base is not None else ""
    raise ModelError(f"model file {str(name)!r} not found{hint}")


def load_model(path: str | Path, overrides: dict[str, str] | None = None) -> Model | GasModel | EngineModel:
    """Read and validate a model file (a path, or a bundled model's name such as
    "gas/hydrogen_air"); ``overrides`` are ``--set`` values ({"T": "350K"}). The file's ``kind``
    picks the loader and the returned class."""
    p = resolve_model_path(path)
    try:
        return _load(p, overrides)
    except InvalidInputError:
        raise
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError) as e:
        # the checks above should have named the culprit; a file that gets here is a bug to report
        # (the fuzzer, tests/test_fuzz_models.py, fails on this message), not a traceback for the user
        raise ModelError(f"{p}: {INTERNAL}: {type(e).__name__}: {e}") from e


INTERNAL = "chemsolve could not check this file (a bug, please report it with the file)"


def _load(p: Path, overrides: dict[str, str] | None) -> Model | GasModel | EngineModel:
    data, lines = _read(p)
    changed = _apply_overrides(p, data, overrides or {})

    def where(*key) -> str:
        for c, label in changed.items():
            if key[: len(c)] == c:
                return f"{p} (--set {label if c[0] == 'units' else '.'.join(map(str, key))})"
        return f"{p}:{lines[key]}" if key in lines else str(p)

    if not isinstance(data, dict):
        raise ModelError(f"{p}: a model file is a YAML mapping with kind:, name:, provenance:, ...")
    kind = data.get("kind")
    loader = {"aqueous": _load_aqueous, "gas": _load_gas, "engine": _load_engine}.get(kind) \
        if isinstance(kind, str) else None
    if loader is None:
        raise ModelError(f"{where('kind')}: kind: {_show(kind)} is not supported (supported: {', '.join(KINDS)})")
    return loader(p, data, where)


def _load_aqueous(p: Path, data: dict, where) -> Model:
    _check_keys(data, _AQUEOUS_KEYS, "aqueous", p, where)
    _texts(data, where, ("name", "provenance"))
    u = _units(data, where, "aqueous", ("totals", "T", "density"))
    number = _numbers(where)
    solver = _solver(data, where, "aqueous")
    db = str(data.get("database") or "phreeqc.dat")
    local = p.parent / db
    if local.is_file():
        db = str(local)
    density = _in_units(where, number(("density",), data.get("density", 1.0)), "density",
                        u["density"])
    if density <= 0:
        raise ModelError(f"{where('density')}: density must be > 0")
    totals_in = data["totals"] or {}
    if not isinstance(totals_in, dict):
        raise ModelError(f"{where('totals')}: totals is a mapping element: amount")
    from .aqueous.speciation import _unsupported_total, check_pe  # noqa: PLC0415

    for k in totals_in:
        if _unsupported_total(str(k)):
            raise ModelError(f"{where('totals', k)}: {_unsupported_total(str(k))}")
    try:
        pe = check_pe(number(("pe",), data.get("pe", 4.0)))
    except InvalidInputError as e:
        raise ModelError(f"{where('pe')}: {e}") from None
    totals = _totals_to_molality(where, {str(k): number(("totals", k), v) for k, v in totals_in.items()},
                                 u["totals"], db, density)
    eq_in = data.get("equilibrium_phases") or {}
    if not isinstance(eq_in, dict):
        raise ModelError(f"{where('equilibrium_phases')}: equilibrium_phases is a mapping phase: [SI, moles]")
    eq = {}
    for k, v in eq_in.items():
        vals = v if isinstance(v, list) else [v]
        if not 1 <= len(vals) <= 2:
            raise ModelError(f"{where('equilibrium_phases', k)}: {k}: expected SI or [SI, moles], got {_show(v)}")
        nums = [number(("equilibrium_phases", k), x) for x in vals]
        eq[str(k)] = (nums[0], nums[1] if len(nums) > 1 else 10.0)
    return Model(
        path=str(p), kind="aqueous", name=data["name"].strip(), provenance=" ".join(data["provenance"].split()),
        database=db, T=_in_units(where, number(("T",), data["T"]), "T", u["T"]),
        pH=number(("pH",), data["pH"], allow_none=True), pe=pe,
        totals=totals, equilibrium_phases=eq, solver=solver, density=density,
    )


@dataclass(frozen=True)
class GasModel:
    """A validated gas-equilibrium model, in chemsolve's units (K, Pa, moles)."""

    path: str
    kind: str
    name: str
    provenance: str
    mechanism: str
    condensed: tuple[str, ...]
    mode: str
    T: float
    P: float
    feeds: list[dict[str, float]]  # one feed, or one per phi of a sweep
    phi: list[float] | None
    fuel: dict[str, float] | None = None  # with oxidizer: the feed at any phi (sweeps)
    oxidizer: dict[str, float] | None = None
    solver: dict[str, Any] = field(default_factory=dict)  # keyword arguments of GasMixture.equilibrate

    def mixture(self):
        from .gas import GasMixture

        return GasMixture.from_cantera(self.mechanism, condensed=list(self.condensed))

    resource = mixture

    def run(self, mix=None):
        """Solve the model: a ``GasEquilibrium``, or a ``GasBatch`` (warm-started) for a phi sweep.
        ``mix``: the model's mixture already built (``resource()``), e.g. once for a sweep."""
        mix = mix if mix is not None else self.mixture()
        if self.phi is None:
            return self.feed_check(mix).equilibrate(self.T, self.P, self.feeds[0], mode=self.mode, **self.solver)
        X = np.zeros((len(self.feeds), mix.n_species))
        for i, f in enumerate(self.feeds):
            for k, v in f.items():
                X[i, mix.species_index(k)] += v
        return mix.equilibrate(self.T, self.P, X, mode=self.mode, warm_start=True, **self.solver)

    def feed_check(self, mix):
        for k in self.feeds[0]:
            if k not in mix.species_names:
                raise ModelError(f"{self.path}: species {k!r} of the feed is not in {self.mechanism}")
        return mix


def _load_gas(p: Path, data: dict, where) -> GasModel:
    _check_keys(data, _GAS_KEYS, "gas", p, where)
    _texts(data, where, ("name", "provenance", "mechanism"))
    u = _units(data, where, "gas", ("T", "P"))
    solver = _solver(data, where, "gas")
    mode = str(data["mode"]).upper()
    if mode not in ("TP", "HP", "SP", "TV", "UV"):
        raise ModelError(f"{where('mode')}: mode {_show(data['mode'])} unknown; use TP, HP, SP, TV or UV")

    number = _numbers(where)

    def amounts(key) -> dict[str, float]:
        v = data[key]
        if not isinstance(v, dict) or not v:
            raise ModelError(f"{where(key)}: {key} is a mapping species: moles")
        out = {}
        for k, a in v.items():
            val = number((key, k), a)
            if val < 0:
                raise ModelError(f"{where(key, k)}: {key}.{k} = {_show(a)} is negative")
            out[str(k)] = val
        return out

    T = _in_units(where, number(("T",), data["T"]), "T", u["T"])
    P = _in_units(where, number(("P",), data["P"]), "P", u["P"])
    if T <= 0 or P <= 0:
        raise ModelError(f"{where('T' if T <= 0 else 'P')}: T and P must be > 0")
    has_x = "X" in data
    has_fo = any(k in data for k in ("fuel", "oxidizer", "phi"))
    if has_x == has_fo:
        raise ModelError(f"{p}: give either X: or fuel:, oxidizer: and phi:")
    phis = fuel = ox = None
    if has_x:
        feeds = [amounts("X")]
    else:
        for k in ("fuel", "oxidizer", "phi"):
            if k not in data:
                raise ModelError(f"{p}: missing key {k!r} (fuel:, oxidizer: and phi: go together)")
        fuel, ox = amounts("fuel"), amounts("oxidizer")
        ph = data["phi"]
        if isinstance(ph, dict):
            if set(ph) != {"start", "stop", "num"}:
                bad = sorted(set(ph) - {"start", "stop", "num"}, key=str)  # (keys may be numbers too)
                raise ModelError(f"{where('phi', *bad[:1])}: a phi sweep is {{start:, stop:, num:}}"
                                 + (f"; unknown key {_show(bad[0])}" if bad else ""))
            num = ph["num"]
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= MAX_PHI_NUM:
                raise ModelError(f"{where('phi', 'num')}: phi.num = {_show(num)} must be an integer in "
                                 f"[1, {MAX_PHI_NUM:,}] (larger grids: chemsolve sweep --sweep phi=...)")
            phis = list(np.linspace(number(("phi", "start"), ph["start"]), number(("phi", "stop"), ph["stop"]), num))
        else:
            phis = [number(("phi",), ph)]
        if min(phis) <= 0:
            raise ModelError(f"{where('phi')}: phi must be > 0")
        feeds = [_mix_feed(fuel, ox, f, p, where) for f in phis]
        if not isinstance(ph, dict):
            phis = None
    cond = data.get("condensed") or []
    if not isinstance(cond, list) or not all(isinstance(c, str) for c in cond):
        raise ModelError(f"{where('condensed')}: condensed is a list of 'file.yaml' or 'file.yaml:SPECIES'")
    mech = str(data["mechanism"])
    local = p.parent / mech
    if local.is_file():
        mech = str(local)
    return GasModel(path=str(p), kind="gas", name=data["name"].strip(),
                    provenance=" ".join(data["provenance"].split()), mechanism=mech,
                    condensed=tuple(cond), mode=mode, T=T, P=P, feeds=feeds, phi=phis, solver=solver,
                    fuel=fuel, oxidizer=ox)


@dataclass(frozen=True)
class _Problem:
    """A residual bundled with chemsolve: module-level numba functions F(x, params) and dF/dx."""

    module: str
    fun: str
    jac: str | None
    param_names: tuple[str, ...]
    params: str  # module attribute: default parameter values
    x0: str  # module attribute: default start
    methods: tuple[str, ...]  # the solve methods its form suits (a residual F(x) = 0: newton)
    about: str


# the only residuals an engine model may name: no import of other code, no eval
ENGINE_PROBLEMS: dict[str, _Problem] = {
    "propane": _Problem("chemsolve.kernels.examples", "propane", "propane_jac", ("R", "P"), "PAPER_PARAMS",
                        "PAPER_START", ("newton",),
                        "propane combustion equilibrium, reduced 5-unknown form (Meintjes & Morgan 1990)"),
}


@dataclass(frozen=True)
class EngineModel:
    """A problem for the engine (``chemsolve.solve``) on a residual bundled with chemsolve
    (``ENGINE_PROBLEMS``); ``params`` in ``param_names`` order, in the residual's own units."""

    path: str
    kind: str
    name: str
    provenance: str
    problem: str
    x0: np.ndarray
    params: np.ndarray
    param_names: tuple[str, ...]
    solver: dict[str, Any] = field(default_factory=dict)  # keyword arguments of chemsolve.solve

    def functions(self):
        """(fun, jac): the problem's numba-jitted residual ``fun(x, params)`` and Jacobian."""
        e = ENGINE_PROBLEMS[self.problem]
        mod = importlib.import_module(e.module)
        return getattr(mod, e.fun), (getattr(mod, e.jac) if e.jac else None)

    def resource(self):
        """Nothing to load for an engine problem."""
        return None

    def run(self, resource=None):
        """Solve from ``x0``: a ``chemsolve.SolveResult``. One solve runs the residual's plain-Python
        form (nothing to compile); ``solver: {jit: true}`` compiles the solver for it instead."""
        from .engine import solve

        fun, jac = self.functions()
        opts = dict(self.solver)
        if not opts.setdefault("jit", False):
            fun, jac = getattr(fun, "py_func", fun), getattr(jac, "py_func", jac)  # (plain under NUMBA_DISABLE_JIT)
        return solve(fun, self.x0.copy(), jac=jac, args=(self.params.copy(),), **opts)


def _load_engine(p: Path, data: dict, where) -> EngineModel:
    _check_keys(data, _ENGINE_KEYS, "engine", p, where)
    _texts(data, where, ("name", "provenance", "problem"))
    _units(data, where, "engine", ())
    number = _numbers(where)
    name = data["problem"].strip()
    if name not in ENGINE_PROBLEMS:
        raise ModelError(f"{where('problem')}: problem {_show(name)} is not a residual bundled with chemsolve; "
                         f"bundled: {sorted(ENGINE_PROBLEMS)}")
    e = ENGINE_PROBLEMS[name]
    solver = _solver(data, where, "engine")
    if solver.get("method", "newton") not in e.methods:
        raise ModelError(f"{where('solver', 'method')}: problem {name!r} is a residual F(x) = 0: method "
                         f"{solver['method']!r} does not apply (it iterates a map G(x) = x); use {list(e.methods)}")
    mod = importlib.import_module(e.module)
    params = np.array(getattr(mod, e.params), dtype=float)
    given = data.get("params") or {}
    if not isinstance(given, dict):
        raise ModelError(f"{where('params')}: params is a mapping name: value, names {list(e.param_names)}")
    for k, v in given.items():
        if k not in e.param_names:
            raise ModelError(f"{where('params', k)}: unknown key {_show(k)} in params of problem {name!r}; "
                             f"allowed: {list(e.param_names)}")
        params[e.param_names.index(k)] = number(("params", k), v)
    x0 = np.array(getattr(mod, e.x0), dtype=float)
    if "x0" in data:
        v = data["x0"]
        if not isinstance(v, list) or len(v) != x0.size:
            raise ModelError(f"{where('x0')}: x0 is a list of {x0.size} numbers for problem {name!r}, got {_show(v)}")
        x0 = np.array([number(("x0",), a) for a in v])
    return EngineModel(path=str(p), kind="engine", name=data["name"].strip(),
                       provenance=" ".join(data["provenance"].split()), problem=name, x0=x0, params=params,
                       param_names=e.param_names, solver=solver)


# O2 demand per mole of fuel: C -> CO2, H -> H2O, O supplied by the fuel itself
_O2_PER_ATOM = {"C": 1.0, "H": 0.25, "O": -0.5}


def _mix_feed(fuel: dict, ox: dict, phi: float, p: Path, where) -> dict[str, float]:
    """Fuel + oxidizer at equivalence ratio phi (stoichiometric O2 from the fuel's C, H, O atoms)."""
    import re

    need = 0.0
    for sp, n in fuel.items():
        for el, cnt in re.findall(r"([A-Z][a-z]?)(\d*)", sp):
            if el not in _O2_PER_ATOM and el != "N":
                raise ModelError(f"{where('fuel', sp)}: cannot work out the O2 demand of {_show(sp)} (element {el})")
            need += n * _O2_PER_ATOM.get(el, 0.0) * (int(cnt) if cnt else 1)
    o2 = ox.get("O2", 0.0)
    if o2 <= 0 or need <= 0:
        raise ModelError(f"{where('oxidizer')}: phi needs O2 in the oxidizer and a fuel that burns")
    scale = need / (phi * o2)
    feed = dict(fuel)
    for k, v in ox.items():
        feed[k] = feed.get(k, 0.0) + v * scale
    return feed


def run_model(path: str | Path):
    """Load and solve a model file; returns the result object."""
    return load_model(path).run()
