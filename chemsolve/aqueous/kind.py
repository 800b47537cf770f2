"""The aqueous model kind: model files of waters (``kind: aqueous``), their sweeps, report and plot.

The file gives a database, T, pH (or null: from the charge balance), pe, totals in any unit PHREEQC
reads (converted here as PHREEQC converts a SOLUTION), optional equilibrium phases and ``solver:``
options (``AqueousOptions``). Registered in ``chemsolve.registry``.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..modelfile import (
    _ALIASES,
    COMMON_KEYS,
    ModelError,
    Where,
    _check_unit_text,
    _ureg,
    check_keys,
    in_units,
    numbers,
    show,
    solver_mapping,
    texts,
    units_of,
)
from ..registry import ModelKind
from ..tables import table, write_rows
from .options import AqueousOptions

__all__ = ["AqueousModel", "KIND", "load", "totals_to_molality"]

KEYS = {**COMMON_KEYS, "units": True, "database": False, "T": True, "pH": True, "pe": False,
        "density": False, "totals": True, "equilibrium_phases": False}


@dataclass(frozen=True)
class AqueousModel:
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
        """What ``run`` needs besides the numbers: the loaded database. What the database holds that
        chemsolve does not model is listed by ``load_database``'s DatabaseWarning; running a model
        file does not repeat that list every time."""
        from .database import DatabaseWarning, load_database

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            return load_database(self.database)

    def run(self, db=None):
        """Solve the model; returns the kind's result object (``SpeciationResult`` for aqueous).
        ``db``: the model's database already loaded (``resource()``), e.g. once for a sweep."""
        from .. import aqueous

        db = db if db is not None else self.resource()
        return aqueous.speciate(db, self.totals, self.T, self.pH, self.pe,
                                equilibrium_phases=self.equilibrium_phases or None, **self.solver)


# amount or mass per kg of water, kg of solution or litre of solution (plain kg: of water, molality)
_TOTAL_FORMS = [(n, d) for n in (("[substance]", "mol"), ("[mass]", "g"))
                for d in (("[water_mass]", "kgw"), ("[solution_mass]", "kgs"), ("[volume]", "L"), ("[mass]", "kg"))
                if (n[0], d[0]) != ("[mass]", "[mass]")]


_MOLALITY = {"mol/kgw": 1.0, "mmol/kgw": 1e-3, "umol/kgw": 1e-6}  # no need to import pint for these


@functools.cache
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


def totals_to_molality(where, totals: dict[str, float], unit: str, database: str, density: float) -> dict[str, float]:
    """Totals in ``unit`` -> mol/kgw, as PHREEQC converts a SOLUTION's units: a mass is divided by
    the gram formula weight of the master row (``Database.formula_weight``: HCO3 for C(4), SO4
    for S(6)); per litre is per (density x 1 L) kg of solution; per kg of solution is per
    (1 kg - the dissolved solids) of water."""
    try:
        is_mass, basis, f = _total_form(unit)
    except ValueError as e:
        raise ModelError(f"{where('units', 'totals')}: unit {show(unit)} for totals {e}") from None
    if basis == "kgw" and not is_mass:
        return {k: v * f for k, v in totals.items()}

    from .database import DatabaseWarning, load_database
    from .speciation import total_key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)  # listed again when the model is run
        db = load_database(database)
    gfw = {}
    for k in totals:
        try:
            gfw[k] = db.formula_weight(total_key(db, k))
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


def load(p: Path, data: dict, where: Where) -> AqueousModel:
    """An aqueous model from a file's parsed data."""
    check_keys(data, KEYS, "aqueous", p, where)
    texts(data, where, ("name", "provenance"))
    u = units_of(data, where, "aqueous", ("totals", "T", "density"))
    number = numbers(where)
    solver = solver_mapping(data, where, AqueousOptions)
    db = str(data.get("database") or "phreeqc.dat")
    local = p.parent / db
    if local.is_file():
        db = str(local)
    density = in_units(where, number(("density",), data.get("density", 1.0)), "density",
                        u["density"])
    if density <= 0:
        raise ModelError(f"{where('density')}: density must be > 0")
    totals_in = data["totals"] or {}
    if not isinstance(totals_in, dict):
        raise ModelError(f"{where('totals')}: totals is a mapping element: amount")
    from .speciation import _unsupported_total, check_pe  # noqa: PLC0415

    for k in totals_in:
        if _unsupported_total(str(k)):
            raise ModelError(f"{where('totals', k)}: {_unsupported_total(str(k))}")
    try:
        pe = check_pe(number(("pe",), data.get("pe", 4.0)))
    except InvalidInputError as e:
        raise ModelError(f"{where('pe')}: {e}") from None
    totals = totals_to_molality(where, {str(k): number(("totals", k), v) for k, v in totals_in.items()},
                                 u["totals"], db, density)
    eq_in = data.get("equilibrium_phases") or {}
    if not isinstance(eq_in, dict):
        raise ModelError(f"{where('equilibrium_phases')}: equilibrium_phases is a mapping phase: [SI, moles]")
    eq = {}
    for k, v in eq_in.items():
        vals = v if isinstance(v, list) else [v]
        if not 1 <= len(vals) <= 2:
            raise ModelError(f"{where('equilibrium_phases', k)}: {k}: expected SI or [SI, moles], got {show(v)}")
        nums = [number(("equilibrium_phases", k), x) for x in vals]
        eq[str(k)] = (nums[0], nums[1] if len(nums) > 1 else 10.0)
    return AqueousModel(
        path=str(p), kind="aqueous", name=data["name"].strip(), provenance=" ".join(data["provenance"].split()),
        database=db, T=in_units(where, number(("T",), data["T"]), "T", u["T"]),
        pH=number(("pH",), data["pH"], allow_none=True), pe=pe,
        totals=totals, equilibrium_phases=eq, solver=solver, density=density,
    )


class AqueousKind(ModelKind):
    name = "aqueous"
    about = "a water: speciation with PHREEQC's equations and databases"
    keys = KEYS
    sweep_help = "T [K], pH, pe, totals.<element> [mol/kgw]"
    amount_prefix = "m_"

    def load(self, path: Path, data: dict, where: Where) -> AqueousModel:
        return load(path, data, where)

    def resource_key(self, model: AqueousModel) -> tuple:
        return (self.name, model.database)

    def check_sweep(self, model: AqueousModel, cols: dict[str, np.ndarray]) -> None:
        from .speciation import T_RANGE

        for k, a in cols.items():
            if not (k in ("T", "pH", "pe") or (k.startswith("totals.") and len(k) > 7)):
                raise InvalidInputError(f"sweep: {k!r} cannot be swept in the aqueous model; use {self.sweep_help}")
            if k == "T" and ((a < T_RANGE[0]) | (a > T_RANGE[1])).any():
                i = int(np.flatnonzero((a < T_RANGE[0]) | (a > T_RANGE[1]))[0])
                raise InvalidInputError(f"sweep T={a[i]:g} K: outside {T_RANGE[0]}-{T_RANGE[1]} K, the range of "
                                        "the database's log K fits")
            if k == "pH" and ((a < -2) | (a > 16)).any():
                raise InvalidInputError(f"sweep pH: values outside [-2, 16] (first {a[(a < -2) | (a > 16)][0]:g})")
            if k.startswith("totals.") and (a <= 0).any():
                raise InvalidInputError(f"sweep {k}={a[a <= 0][0]:g}: a total must be > 0 mol/kgw")

    def sweep_columns(self, model: AqueousModel, resource: Any, species: list[str] | None) -> list | None:
        return None if species is None else list(species)  # checked against the batch's species per block

    def sweep_block(self, model: AqueousModel, db: Any, cols: dict[str, np.ndarray], n: int, chunk: int,
                    species: list | None):
        from . import speciate, speciate_batch

        totals = {k: np.full(n, v) for k, v in model.totals.items()}
        for k, a in cols.items():
            if k.startswith("totals."):
                totals[k[7:]] = a
        T = cols.get("T", np.full(n, model.T))
        pH = cols.get("pH", np.full(n, np.nan if model.pH is None else model.pH))
        pe = cols.get("pe", np.full(n, model.pe))
        opts = dict(getattr(model, "solver", None) or {})
        if model.equilibrium_phases:  # speciate_batch takes no phases yet: state by state (the same kernel)
            rows = [speciate(db, {k: float(a[i]) for k, a in totals.items()}, float(T[i]),
                             None if np.isnan(pH[i]) else float(pH[i]), float(pe[i]),
                             equilibrium_phases=model.equilibrium_phases or None, **opts) for i in range(n)]
            names = sorted({s for r in rows for s in r.molality}) if species is None else list(species)
            out = {"pH": np.array([r.pH for r in rows]), "ionic_strength": np.array([r.ionic_strength for r in rows]),
                   "water_activity": np.array([r.water_activity for r in rows])}
            for s in names:
                out[f"m_{s}"] = np.array([r.molality.get(s, 0.0) for r in rows])
            return (np.array([int(r.status) for r in rows], dtype=np.int8),
                    np.array([r.nit for r in rows]), out)
        b = speciate_batch(db, totals, T, pH, pe, warm_start=True, chunk=chunk, **opts)
        out = {"pH": b.pH, "ionic_strength": b.ionic_strength, "water_activity": b.water_activity}
        names = b.species if species is None else list(species)
        for s in names:
            if s not in b.species:
                raise InvalidInputError(f"species {s!r} is not among this water's species ({len(b.species)} species)")
            out[f"m_{s}"] = b.molality[:, b.species.index(s)]
        return b.status, b.nit, out

    def report(self, model: AqueousModel, r: Any, fmt: str, out: Any) -> int:
        if fmt in ("csv", "parquet"):
            write_rows([[sp, float(m), float(r.log_gamma[sp])]
                        for sp, m in sorted(r.molality.items(), key=lambda kv: -kv[1])],
                       ["species", "molality_mol_per_kgw", "log10_gamma"], out)
        elif fmt == "json":
            json.dump({"model": model.name, "file": model.path, "status": r.status.name, "message": r.message,
                       "T_K": r.T, "pH": r.pH, "pe": r.pe, "ionic_strength": r.ionic_strength,
                       "water_activity": r.water_activity, "charge_balance": r.charge_balance,
                       "molality": r.molality, "log_gamma": r.log_gamma, "saturation_index": r.saturation_index,
                       "phase_moles": r.phase_moles,
                       "distribution": {c: r.distribution(c) for c in r.composition},
                       "certificate": r.certificate.to_dict() if r.certificate is not None else None},
                      out, indent=1)
            out.write("\n")
        else:
            print(f"{model.name}  [{model.path}]", file=out)
            print(f"status {r.status.name}   T {r.T - 273.15:.2f} C   pH {r.pH:.4f}   pe {r.pe:g}   "
                  f"I {r.ionic_strength:.5g} mol/kgw   a(H2O) {r.water_activity:.5f}", file=out)
            top = sorted(r.molality.items(), key=lambda kv: -kv[1])[:15]
            print(table([[s, f"{m:.4e}", f"{r.log_gamma[s]:+.4f}"] for s, m in top],
                        ["species", "molality [mol/kgw]", "log gamma"]), file=out)
            dist = []
            for comp in r.composition:
                top3 = list(r.distribution(comp).items())[:3]
                dist.append([comp, ", ".join(f"{s} {f:.1%}" for s, f in top3)])
            print(table(dist, ["component", "distribution (largest species)"]), file=out)
            if r.phase_moles:
                print(table([[p, f"{n:+.4e}", f"{r.saturation_index[p]:+.4f}"] for p, n in r.phase_moles.items()],
                            ["equilibrium phase", "moles dissolved", "SI"]), file=out)
            sis = sorted(((p, v) for p, v in r.saturation_index.items() if p not in r.phase_moles),
                         key=lambda kv: -kv[1])
            if sis:
                print("saturation indices: " + ", ".join(f"{p} {v:+.2f}" for p, v in sis[:12]), file=out)
        if not r.success:
            print(f"error: {model.path}: did not converge: {r.status.name}: {r.message}", file=sys.stderr)
            return 1
        return 0

    def plot(self, model: AqueousModel, ax: Any) -> None:
        from ..plots import bjerrum

        bjerrum(model, ax=ax)

    def warmup(self) -> str:
        from .speciation import speciate, speciate_batch

        db = self.quiet_database("phreeqc.dat")
        speciate(db, {"Ca": 1e-3, "C(4)": 2e-3}, 298.15, None)
        # two rows in chunks of one: the parallel batch kernel (a batch of one chunk runs the single one)
        speciate_batch(db, {"Ca": [1e-3, 2e-3], "C(4)": 2e-3}, 298.15, None, chunk=1)
        return "the aqueous kernels (single water and batch)"

    @staticmethod
    def quiet_database(name: str) -> Any:
        from .database import DatabaseWarning, load_database

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            return load_database(name)

    def retry_rungs(self, summary: dict[str, Any]) -> list:
        from .. import damping
        from ..advisors.base import Suggestion

        other = "outer" if summary.get("ionic_strength", "newton") == "newton" else "newton"
        return [
            Suggestion(damping=damping.Ramp(0.25, 2.0, 1.0), rationale="smaller steps"),
            Suggestion(damping=damping.Adaptive(0.1, 1.5, 0.3, 1e-10, 1.0), rationale="stronger damping"),
            Suggestion(damping=damping.Adaptive(0.1, 1.5, 0.3, 1e-10, 1.0), options={"ionic_strength": other},
                       rationale="the other ionic-strength formulation"),
        ]

    def guess_schema(self, summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        masters = sorted(summary.get("masters", {}).values())
        props = {m: {"type": "number"} for m in masters}
        text = ("'guess': {'log_a': {master species: log10 of its activity}, 'pH': number}. log10 activity of a "
                "master species is at most log10 of its component's total molality (usually 0.1-3 below); "
                "pH = -log10 a(H+), between 0 and 14.")
        return ({"type": "object", "properties": {"log_a": {"type": "object", "properties": props,
                                                            "required": masters, "additionalProperties": False},
                                                  "pH": {"type": "number"}}, "required": ["log_a", "pH"],
                 "additionalProperties": False}, text)


KIND = AqueousKind()
