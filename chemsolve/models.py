"""Model files: one YAML file per model (``models/**/*.yaml``), read safely and validated.

Schema of an aqueous model (``kind: aqueous``)::

    kind: aqueous                 # required
    name: Seawater                # required, one line
    provenance: ...               # required: where the numbers come from
    database: phreeqc.dat         # bundled name or a path (relative to the model file)
    units: {totals: mol/kgw, T: K}    # totals: mol/kgw | mmol/kgw | umol/kgw; T: K | degC
    T: 298.15
    pH: 8.22                      # or null: pH from electroneutrality
    pe: 4.0                       # optional, default 4
    totals: {Na: 0.486, Cl: 0.566, ...}
    equilibrium_phases: {Calcite: [0.0, 10.0], CO2(g): [-3.5, 10.0]}   # optional: [SI, moles]

Schema of a gas-phase equilibrium model (``kind: gas``)::

    kind: gas
    name: Methane-air flame          # required
    provenance: ...                  # required
    mechanism: gri30.yaml            # any Cantera YAML (Cantera reads the species thermo)
    condensed: [graphite.yaml]       # optional pure condensed species
    units: {T: K, P: atm}            # T: K | degC; P: Pa | kPa | bar | atm
    mode: HP                         # TP | HP | SP | TV | UV
    T: 300                           # feed temperature
    P: 1                             # feed pressure
    X: {CH4: 1, O2: 2}               # the feed, or fuel + oxidizer + phi:
    fuel: {CH4: 1}
    oxidizer: {O2: 1, N2: 3.76, AR: 0.0445}
    phi: 1.0                         # or a sweep {start: 0.5, stop: 2.0, num: 31}

Unknown keys, missing keys and bad values raise ``ModelError`` naming the file, line and key.
Unit conversion happens here and only here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError

__all__ = ["Model", "GasModel", "ModelError", "load_model", "run_model"]

_TOTAL_UNITS = {"mol/kgw": 1.0, "mmol/kgw": 1e-3, "umol/kgw": 1e-6}
_T_UNITS = {"K": 0.0, "degC": 273.15}
_P_UNITS = {"Pa": 1.0, "kPa": 1e3, "bar": 1e5, "atm": 101325.0}
_GAS_KEYS = {
    "kind": True, "name": True, "provenance": True, "mechanism": True, "condensed": False,
    "units": True, "mode": True, "T": True, "P": True, "X": False, "fuel": False, "oxidizer": False,
    "phi": False,
}
_AQUEOUS_KEYS = {
    "kind": True, "name": True, "provenance": True, "database": False, "units": True, "T": True,
    "pH": True, "pe": False, "totals": True, "equilibrium_phases": False,
}


class ModelError(InvalidInputError):
    """A model file is malformed; the message names file, line and key."""


@dataclass(frozen=True)
class Model:
    """A validated model, in chemsolve's units (mol/kgw, K)."""

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
                                equilibrium_phases=self.equilibrium_phases or None)


def _read(path: Path) -> tuple[Any, dict[tuple, int]]:
    """yaml.safe_load plus the line number of every mapping key (as a path tuple)."""
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ModelError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    lines: dict[tuple, int] = {}

    def walk(n, prefix):
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = prefix + (k.value,)
                lines[key] = k.start_mark.line + 1
                walk(v, key)

    if node is not None:
        walk(node, ())
    return data, lines


def _check_keys(data: dict, schema: dict[str, bool], kind: str, p: Path, where) -> None:
    """Unknown keys and missing required keys are errors naming file, line and key."""
    for key in data:
        if key not in schema:
            raise ModelError(f"{where(key)}: unknown key {key!r} for kind {kind}; allowed: {sorted(schema)}")
    for key, required in schema.items():
        if required and key not in data:
            raise ModelError(f"{p}: missing key {key!r}")


def _units(data: dict, where, tables: dict[str, tuple[dict, str]]) -> dict[str, str]:
    """The file's ``units:`` mapping: only the quantities in ``tables`` (name -> (unit table,
    default)), each unit checked against its table."""
    units = data["units"] or {}
    if not isinstance(units, dict) or set(units) - set(tables):
        raise ModelError(f"{where('units')}: units takes {' and '.join(q + ':' for q in tables)} only")
    out = {}
    for q, (table, default) in tables.items():
        u = units.get(q, default)
        if u not in table:
            raise ModelError(f"{where('units', q)}: unit {u!r} for {q} unknown; use one of {list(table)}")
        out[q] = u
    return out


def _texts(data: dict, where, keys: tuple[str, ...]) -> None:
    for key in keys:
        if not isinstance(data[key], str) or not data[key].strip():
            raise ModelError(f"{where(key)}: {key} must be a non-empty text")


def _numbers(where):
    """``number(key, value, allow_none=False)``: a finite float, or an error naming file:line and key."""

    def number(key, value, *, allow_none=False) -> float | None:
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ModelError(f"{where(*key)}: {'.'.join(map(str, key))} = {value!r} is not a finite number")
        return float(value)

    return number


_SET_UNITS ={"T": _T_UNITS, "P": _P_UNITS}
_UNIT_ALIASES = {"C": "degC", "°C": "degC", "degc": "degC", "k": "K", "pa": "Pa", "kpa": "kPa"}


def _apply_overrides(p: Path, data: Any, overrides: dict[str, str]) -> set[tuple]:
    """``--set`` values into the parsed file: ``T=350K``, ``pH=7``, ``totals.Na=0.5``, ``phi=1.2``.

    A number may carry a unit for T (K, degC) and P (Pa, kPa, bar, atm): it replaces the file's
    unit for that quantity. Anything else is read as a YAML scalar. Returns the keys set."""
    import re

    import yaml

    if not isinstance(data, dict):
        return set()
    done = set()
    for key, raw in overrides.items():
        parts = tuple(k for k in str(key).split(".") if k)
        if not parts:
            raise ModelError(f"--set {key}={raw}: empty key")
        m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z°/]+)?\s*", str(raw))
        if m and m.group(2):
            unit = _UNIT_ALIASES.get(m.group(2), m.group(2))
            if parts not in (("T",), ("P",)) or unit not in _SET_UNITS[parts[0]]:
                allowed = {k: list(v) for k, v in _SET_UNITS.items()}
                raise ModelError(f"--set {key}={raw}: a unit is only understood for T and P {allowed}")
            value: Any = float(m.group(1))
            if not isinstance(data.get("units"), dict):
                data["units"] = {}
            data["units"][parts[0]] = unit
        else:
            try:
                value = yaml.safe_load(str(raw))
            except yaml.YAMLError:
                raise ModelError(f"--set {key}={raw}: not a value") from None
        node = data
        for k in parts[:-1]:
            if not isinstance(node.get(k), dict):
                raise ModelError(f"--set {key}={raw}: {k!r} is not a mapping in {p}")
            node = node[k]
        node[parts[-1]] = value
        done.add(parts)
    return done


def load_model(path: str | Path, overrides: dict[str, str] | None = None) -> Model:
    """Read and validate a model file; ``overrides`` are ``--set`` values ({"T": "350K"})."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file {str(path)!r} not found")
    data, lines = _read(p)
    changed = _apply_overrides(p, data, overrides or {})

    def where(*key) -> str:
        if any(key[: len(c)] == c for c in changed):
            return f"{p} (--set {'.'.join(map(str, key))})"
        return f"{p}:{lines[key]}" if key in lines else str(p)

    if not isinstance(data, dict):
        raise ModelError(f"{p}: a model file is a YAML mapping with kind:, name:, provenance:, ...")
    kind = data.get("kind")
    if kind == "gas":
        return _load_gas(p, data, where)
    if kind != "aqueous":
        raise ModelError(f"{where('kind')}: kind: {kind!r} is not supported (supported: aqueous, gas)")
    _check_keys(data, _AQUEOUS_KEYS, "aqueous", p, where)
    u = _units(data, where, {"totals": (_TOTAL_UNITS, "mol/kgw"), "T": (_T_UNITS, "K")})
    tu, Tu = u["totals"], u["T"]
    number = _numbers(where)

    totals_in = data["totals"] or {}
    if not isinstance(totals_in, dict):
        raise ModelError(f"{where('totals')}: totals is a mapping element: amount")
    totals = {str(k): number(("totals", k), v) * _TOTAL_UNITS[tu] for k, v in totals_in.items()}
    eq_in = data.get("equilibrium_phases") or {}
    if not isinstance(eq_in, dict):
        raise ModelError(f"{where('equilibrium_phases')}: equilibrium_phases is a mapping phase: [SI, moles]")
    eq = {}
    for k, v in eq_in.items():
        vals = v if isinstance(v, list) else [v]
        if not 1 <= len(vals) <= 2:
            raise ModelError(f"{where('equilibrium_phases', k)}: {k}: expected SI or [SI, moles], got {v!r}")
        nums = [number(("equilibrium_phases", k), x) for x in vals]
        eq[str(k)] = (nums[0], nums[1] if len(nums) > 1 else 10.0)
    db = str(data.get("database") or "phreeqc.dat")
    local = p.parent / db
    if local.is_file():
        db = str(local)
    _texts(data, where, ("name", "provenance"))
    return Model(
        path=str(p), kind=kind, name=data["name"].strip(), provenance=" ".join(data["provenance"].split()),
        database=db, T=number(("T",), data["T"]) + _T_UNITS[Tu], pH=number(("pH",), data["pH"], allow_none=True),
        pe=number(("pe",), data.get("pe", 4.0)), totals=totals, equilibrium_phases=eq,
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

    def mixture(self):
        from .gas import GasMixture

        return GasMixture.from_cantera(self.mechanism, condensed=list(self.condensed))

    resource = mixture

    def run(self, mix=None):
        """Solve the model: a ``GasEquilibrium``, or a ``GasBatch`` (warm-started) for a phi sweep.
        ``mix``: the model's mixture already built (``resource()``), e.g. once for a sweep."""
        mix = mix if mix is not None else self.mixture()
        if self.phi is None:
            return self.feed_check(mix).equilibrate(self.T, self.P, self.feeds[0], mode=self.mode)
        X = np.zeros((len(self.feeds), mix.n_species))
        for i, f in enumerate(self.feeds):
            for k, v in f.items():
                X[i, mix.species_index(k)] += v
        return mix.equilibrate(self.T, self.P, X, mode=self.mode, warm_start=True)

    def feed_check(self, mix):
        for k in self.feeds[0]:
            if k not in mix.species_names:
                raise ModelError(f"{self.path}: species {k!r} of the feed is not in {self.mechanism}")
        return mix


def _load_gas(p: Path, data: dict, where) -> GasModel:
    _check_keys(data, _GAS_KEYS, "gas", p, where)
    _texts(data, where, ("name", "provenance", "mechanism"))
    u = _units(data, where, {"T": (_T_UNITS, "K"), "P": (_P_UNITS, "Pa")})
    Tu, Pu = u["T"], u["P"]
    mode = str(data["mode"]).upper()
    if mode not in ("TP", "HP", "SP", "TV", "UV"):
        raise ModelError(f"{where('mode')}: mode {data['mode']!r} unknown; use TP, HP, SP, TV or UV")

    number = _numbers(where)

    def amounts(key) -> dict[str, float]:
        v = data[key]
        if not isinstance(v, dict) or not v:
            raise ModelError(f"{where(key)}: {key} is a mapping species: moles")
        out = {}
        for k, a in v.items():
            val = number((key, k), a)
            if val < 0:
                raise ModelError(f"{where(key, k)}: {key}.{k} = {a!r} is negative")
            out[str(k)] = val
        return out

    T = number(("T",), data["T"]) + _T_UNITS[Tu]
    P = number(("P",), data["P"]) * _P_UNITS[Pu]
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
                raise ModelError(f"{where('phi')}: a phi sweep is {{start:, stop:, num:}}")
            num = ph["num"]
            if not isinstance(num, int) or isinstance(num, bool) or num < 1:
                raise ModelError(f"{where('phi', 'num')}: phi.num = {num!r} must be a positive integer")
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
                    condensed=tuple(cond), mode=mode, T=T, P=P, feeds=feeds, phi=phis, fuel=fuel, oxidizer=ox)


# O2 demand per mole of fuel: C -> CO2, H -> H2O, O supplied by the fuel itself
_O2_PER_ATOM = {"C": 1.0, "H": 0.25, "O": -0.5}


def _mix_feed(fuel: dict, ox: dict, phi: float, p: Path, where) -> dict[str, float]:
    """Fuel + oxidizer at equivalence ratio phi (stoichiometric O2 from the fuel's C, H, O atoms)."""
    import re

    need = 0.0
    for sp, n in fuel.items():
        for el, cnt in re.findall(r"([A-Z][a-z]?)(\d*)", sp):
            if el not in _O2_PER_ATOM and el != "N":
                raise ModelError(f"{where('fuel', sp)}: cannot work out the O2 demand of {sp!r} (element {el})")
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
