"""Model files, the generic part: a bounded, safe YAML reader with the line of every key, the
``--set`` overrides, units, the checks every kind's loader uses, and where the bundled models are.

One YAML file per model (``models/**/*.yaml``). What is in the file beyond ``kind``, ``name``,
``provenance``, ``units`` and ``solver`` is the kind's own schema: each model kind's loader (found
through ``chemsolve.registry``) reads it with the helpers here. The schema of every kind is
documented in one place, ``models/README.md``.

Reading is bounded (``MAX_BYTES``, ``MAX_NODES`` with aliases expanded, ``MAX_ALIASES``,
``MAX_DEPTH``) and safe (YAML's own types only). Duplicate keys, unknown keys (at every level),
missing keys, unknown units, units of the wrong dimension and bad values raise ``ModelError``
naming the file, line and key, in one line. Units are converted when a file is loaded and only
then, with pint (imported on first use of a unit beyond K, degC, Pa, kPa, bar, atm, mol/kgw,
mmol/kgw, umol/kgw and kg/L).
"""

from __future__ import annotations

import collections
import functools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

__all__ = ["ModelError", "Where", "read", "read_model_file", "apply_overrides", "show", "check_keys", "texts",
           "numbers", "units_of", "in_units", "as_float", "load_text", "solver_mapping", "bundled_models_dir",
           "resolve_model_path", "COMMON_KEYS", "MAX_BYTES", "MAX_NODES", "MAX_ALIASES", "MAX_DEPTH", "MAX_INT_CHARS"]

# keys every model file has: (required?)
COMMON_KEYS = {"kind": True, "name": True, "provenance": True, "solver": False}
# the message of load_model's last-resort net: a file whose error no check named is a bug to report
INTERNAL = "chemsolve could not check this file (a bug, please report it with the file)"
Where = Callable[..., str]  # where(*key) -> "file:line" of a key (a path of keys), for messages

# quantity -> (chemsolve's unit, pint dimension)
_QUANTITIES = {"T": ("K", "[temperature]"), "P": ("Pa", "[pressure]"), "density": ("kg/L", "[density]"),
               "H": ("J/mol", "[energy]/[substance]"), "S": ("J/mol/K", "[energy]/[substance]/[temperature]")}
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


# ------------------------------------------------------------------ units (pint, lazily)
_UREG = None


def _ureg():
    """The process's one pint registry (importing pint and building it costs ~0.5 s), with kg of
    water (``kgw``) and kg of solution (``kgs``) as units of dimensions of their own."""
    global _UREG
    if _UREG is None:
        import pint

        ureg: Any = pint.UnitRegistry()
        ureg.define("kg_water = [water_mass] = kgw")
        ureg.define("kg_solution = [solution_mass] = kgs")
        _UREG = ureg
    return _UREG


# units of the bundled files, by definition: no need to import pint for them
_EXACT = {("degC", "K"): (1.0, 273.15), ("atm", "Pa"): (101325.0, 0.0), ("bar", "Pa"): (1e5, 0.0),
          ("kPa", "Pa"): (1e3, 0.0)}


@functools.cache
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


def in_units(where, value: float, q: str, unit: str) -> float:
    """``value`` given in ``unit`` as chemsolve's unit of quantity ``q`` (K, Pa, kg/L)."""
    target, dim = _QUANTITIES[q]
    try:
        scale, offset = _linear(unit, target, dim)
    except ValueError as e:
        raise ModelError(f"{where('units', q)}: unit {show(unit)} for {q} {e}") from None
    out = scale * value + offset
    if not math.isfinite(out):
        raise ModelError(f"{where(q)}: {q} = {value:g} {show(unit)} is not a finite number of {target}")
    return out


def units_of(data: dict, where, kind: str, quantities: tuple[str, ...]) -> dict[str, str]:
    """The file's ``units:`` mapping: only ``quantities``, each a unit text (default: chemsolve's)."""
    units = data.get("units") or {}
    if not isinstance(units, dict):
        raise ModelError(f"{where('units')}: units is a mapping quantity: unit, e.g. {{T: degC}}")
    for q, u in units.items():
        if q not in quantities:
            allowed = f"allowed: {list(quantities)}" if quantities else "it takes none (the residual's own units)"
            raise ModelError(f"{where('units', q)}: unknown key {show(q)} in units for kind {kind}; {allowed}")
        if not isinstance(u, str) or not u.strip():
            raise ModelError(f"{where('units', q)}: units.{q} = {show(u)} is not a unit, e.g. 'degC'")
    default = {**{k: v[0] for k, v in _QUANTITIES.items()}, "totals": "mol/kgw"}
    return {q: str(units.get(q, default[q])).strip() for q in quantities}


def as_float(v: Any) -> float | None:
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
    from yaml.nodes import MappingNode, ScalarNode

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
                    raise _Refused(f"duplicate key {show(key.value)} (also on line {seen[k].line + 1}); "
                                   "YAML would keep only the last", key.start_mark)
                seen[k] = key.start_mark
            return node

        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep)
            except (yaml.YAMLError, _Refused):
                raise
            except Exception as e:  # noqa: BLE001 - a value the constructor cannot make (ValueError...)
                raise _Refused(f"cannot read {show(node.value) if isinstance(node, ScalarNode) else 'this value'}"
                               f" as {node.tag.rsplit(':', 1)[-1]}: {e}", node.start_mark) from None

    def construct_int(loader, node):
        # base 60 (1:30:00) is read digit by digit in big integers: 1 MB of it takes minutes
        if len(node.value) > MAX_INT_CHARS:
            raise _Refused(f"an integer of {len(node.value):,} characters; at most {MAX_INT_CHARS}", node.start_mark)
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    _BoundedLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    _LOADER = _BoundedLoader
    return _LOADER


_LOADER: Any = None


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


def load_text(text: str, name: str) -> tuple[Any, Any]:
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


def read(path: Path) -> tuple[Any, dict[tuple, int]]:
    """The file's data (bounded, safe: ``load_text``) plus the line number of every mapping
    key (as a path tuple of the keys as read: ``1`` and ``0x1`` are the integer 1). Keys reached through an
    alias are not walked again: their line is
    that of the first path to them; other paths have no line (the message names the file)."""
    import yaml

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ModelError(f"{path}: cannot read the file: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise ModelError(f"{path}: larger than {MAX_BYTES:,} bytes; a model file is a few kB")
    data, node = load_text(_decode(path, raw), str(path))
    lines: dict[tuple, int] = {}
    seen: set[int] = set()
    queue: collections.deque[tuple[Any, tuple]] = collections.deque([(node, ())] if node is not None else [])
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


def show(v: Any) -> str:
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


def check_keys(data: dict, schema: dict[str, bool], kind: str, p: Path, where) -> None:
    """Unknown keys and missing required keys are errors naming file, line and key."""
    for key in data:
        if key not in schema:
            raise ModelError(f"{where(key)}: unknown key {show(key)} for kind {kind}; allowed: {sorted(schema)}")
    for key, required in schema.items():
        if required and key not in data:
            raise ModelError(f"{p}: missing key {key!r}")


def texts(data: dict, where, keys: tuple[str, ...]) -> None:
    for key in keys:
        if not isinstance(data[key], str) or not data[key].strip():
            raise ModelError(f"{where(key)}: {key} must be a non-empty text")


def numbers(where):
    """``number(key, value, allow_none=False)``: a finite float, or an error naming file:line and key.
    A text such as '1e-3' (YAML 1.1 reads exponents without a dot as text) counts as a number."""

    def number(key, value, *, allow_none=False) -> float | None:
        if value is None and allow_none:
            return None
        x = as_float(value)
        if x is None or not math.isfinite(x):
            raise ModelError(f"{where(*key)}: {'.'.join(map(str, key))} = {show(value)} is not a finite number")
        return x

    return number


def apply_overrides(p: Path, data: Any, overrides: dict[str, str]) -> dict[tuple, str]:
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
                value = load_text(str(raw), "--set")[0]
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


def solver_mapping(data: dict, where: Where, options_class: Any) -> dict[str, Any]:
    """The file's ``solver:`` mapping, each option checked by the kind's options class (the checks the
    keyword arguments of its verb get too), as {option: value} for the options given."""
    opts = data.get("solver") or {}
    if not isinstance(opts, dict):
        raise ModelError(f"{where('solver')}: solver is a mapping option: value, e.g. {{damping: linesearch}}")
    return options_class.given(opts, where)


def read_model_file(path: str | Path, overrides: dict[str, str] | None = None) -> tuple[Path, dict, Where]:
    """(path, data, where) of a model file (a path or a bundled model's name): the file read
    (``read``: bounded, safe), the ``--set`` overrides applied, and ``where(*key)``, which names the
    file and line of a key, or the ``--set`` that gave it."""
    p = resolve_model_path(path)
    data, lines = read(p)
    changed = apply_overrides(p, data, overrides or {})

    def where(*key) -> str:
        for c, label in changed.items():
            if key[: len(c)] == c:
                return f"{p} (--set {label if c[0] == 'units' else '.'.join(map(str, key))})"
        return f"{p}:{lines[key]}" if key in lines else str(p)

    if not isinstance(data, dict):
        raise ModelError(f"{p}: a model file is a YAML mapping with kind:, name:, provenance:, ...")
    return p, data, where
