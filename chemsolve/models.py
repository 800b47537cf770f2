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

Unknown keys, missing keys and bad values raise ``ModelError`` naming the file, line and key.
Unit conversion happens here and only here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

__all__ = ["Model", "ModelError", "load_model", "run_model"]

_TOTAL_UNITS = {"mol/kgw": 1.0, "mmol/kgw": 1e-3, "umol/kgw": 1e-6}
_T_UNITS = {"K": 0.0, "degC": 273.15}
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

    def run(self):
        """Solve the model; returns the kind's result object (``SpeciationResult`` for aqueous)."""
        from . import aqueous

        db = aqueous.load_database(self.database)
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


def load_model(path: str | Path) -> Model:
    """Read and validate a model file."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file {str(path)!r} not found")
    data, lines = _read(p)

    def where(*key) -> str:
        return f"{p}:{lines[key]}" if key in lines else str(p)

    if not isinstance(data, dict):
        raise ModelError(f"{p}: a model file is a YAML mapping with kind:, name:, provenance:, ...")
    kind = data.get("kind")
    if kind != "aqueous":
        raise ModelError(f"{where('kind')}: kind: {kind!r} is not supported (supported: aqueous)")
    for key in data:
        if key not in _AQUEOUS_KEYS:
            raise ModelError(f"{where(key)}: unknown key {key!r} for kind aqueous; allowed: {sorted(_AQUEOUS_KEYS)}")
    for key, required in _AQUEOUS_KEYS.items():
        if required and key not in data:
            raise ModelError(f"{p}: missing key {key!r}")
    units = data["units"] or {}
    if not isinstance(units, dict) or set(units) - {"totals", "T"}:
        raise ModelError(f"{where('units')}: units takes totals: and T: only")
    tu, Tu = units.get("totals", "mol/kgw"), units.get("T", "K")
    if tu not in _TOTAL_UNITS:
        raise ModelError(f"{where('units', 'totals')}: unit {tu!r} for totals unknown; use one of {list(_TOTAL_UNITS)}")
    if Tu not in _T_UNITS:
        raise ModelError(f"{where('units', 'T')}: unit {Tu!r} for T unknown; use one of {list(_T_UNITS)}")

    def number(key, value, *, allow_none=False) -> float | None:
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ModelError(f"{where(*key)}: {'.'.join(key)} = {value!r} is not a finite number")
        return float(value)

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
    for key in ("name", "provenance"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise ModelError(f"{where(key)}: {key} must be a non-empty text")
    return Model(
        path=str(p), kind=kind, name=data["name"].strip(), provenance=" ".join(data["provenance"].split()),
        database=db, T=number(("T",), data["T"]) + _T_UNITS[Tu], pH=number(("pH",), data["pH"], allow_none=True),
        pe=number(("pe",), data.get("pe", 4.0)), totals=totals, equilibrium_phases=eq,
    )


def run_model(path: str | Path):
    """Load and solve a model file; returns the result object."""
    return load_model(path).run()
