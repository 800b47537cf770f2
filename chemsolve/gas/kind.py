"""The gas model kind: model files of gas-phase equilibria (``kind: gas``), sweeps, report and plot.

The file gives a Cantera mechanism (and pure condensed species), the mode (TP, HP, SP, TV, UV), T, P
and the feed — as species amounts ``X:`` or as ``fuel:``, ``oxidizer:`` and an equivalence ratio
``phi:`` (one value or a sweep) — and ``solver:`` options (``GasOptions``). Registered in
``chemsolve.registry``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..modelfile import (
    COMMON_KEYS,
    ModelError,
    Where,
    check_keys,
    in_units,
    numbers,
    show,
    solver_mapping,
    texts,
    units_of,
)
from ..registry import ModelKind
from ..status import Status
from ..tables import table, write_rows
from .options import GasOptions

__all__ = ["GasModel", "KIND", "load", "mix_feed"]

KEYS = {**COMMON_KEYS, "units": True, "mechanism": True, "condensed": False, "mode": True, "T": True,
        "P": True, "X": False, "fuel": False, "oxidizer": False, "phi": False}
MAX_PHI_NUM = 100_000  # see chemsolve.modelfile: a phi sweep in a file builds one feed per value


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
        from .mixture import GasMixture

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


def load(p: Path, data: dict, where: Where) -> GasModel:
    """A gas model from a file's parsed data."""
    check_keys(data, KEYS, "gas", p, where)
    texts(data, where, ("name", "provenance", "mechanism"))
    u = units_of(data, where, "gas", ("T", "P"))
    solver = solver_mapping(data, where, GasOptions)
    mode = str(data["mode"]).upper()
    if mode not in ("TP", "HP", "SP", "TV", "UV"):
        raise ModelError(f"{where('mode')}: mode {show(data['mode'])} unknown; use TP, HP, SP, TV or UV")

    number = numbers(where)

    def amounts(key) -> dict[str, float]:
        v = data[key]
        if not isinstance(v, dict) or not v:
            raise ModelError(f"{where(key)}: {key} is a mapping species: moles")
        out = {}
        for k, a in v.items():
            val = number((key, k), a)
            if val < 0:
                raise ModelError(f"{where(key, k)}: {key}.{k} = {show(a)} is negative")
            out[str(k)] = val
        return out

    T = in_units(where, number(("T",), data["T"]), "T", u["T"])
    P = in_units(where, number(("P",), data["P"]), "P", u["P"])
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
                                 + (f"; unknown key {show(bad[0])}" if bad else ""))
            num = ph["num"]
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= MAX_PHI_NUM:
                raise ModelError(f"{where('phi', 'num')}: phi.num = {show(num)} must be an integer in "
                                 f"[1, {MAX_PHI_NUM:,}] (larger grids: chemsolve sweep --sweep phi=...)")
            phis = list(np.linspace(number(("phi", "start"), ph["start"]), number(("phi", "stop"), ph["stop"]), num))
        else:
            phis = [number(("phi",), ph)]
        if min(phis) <= 0:
            raise ModelError(f"{where('phi')}: phi must be > 0")
        feeds = [mix_feed(fuel, ox, f, p, where) for f in phis]
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


# O2 demand per mole of fuel: C -> CO2, H -> H2O, O supplied by the fuel itself
_O2_PER_ATOM = {"C": 1.0, "H": 0.25, "O": -0.5}


def mix_feed(fuel: dict, ox: dict, phi: float, p: Path | str, where: Where) -> dict[str, float]:
    """Fuel + oxidizer at equivalence ratio phi (stoichiometric O2 from the fuel's C, H, O atoms);
    ``where(*key)`` names the file and line of a key for errors."""

    need = 0.0
    for sp, n in fuel.items():
        for el, cnt in re.findall(r"([A-Z][a-z]?)(\d*)", sp):
            if el not in _O2_PER_ATOM and el != "N":
                raise ModelError(f"{where('fuel', sp)}: cannot work out the O2 demand of {show(sp)} (element {el})")
            need += n * _O2_PER_ATOM.get(el, 0.0) * (int(cnt) if cnt else 1)
    o2 = ox.get("O2", 0.0)
    if o2 <= 0 or need <= 0:
        raise ModelError(f"{where('oxidizer')}: phi needs O2 in the oxidizer and a fuel that burns")
    scale = need / (phi * o2)
    feed = dict(fuel)
    for k, v in ox.items():
        feed[k] = feed.get(k, 0.0) + v * scale
    return feed


def feed_rows(model: GasModel, mix: Any, phi: np.ndarray | None) -> np.ndarray:
    """The feed (mole amounts over ``mix.species_names``) of ``model``: one row, or one per ``phi``."""

    def vec(d):
        v = np.zeros(mix.n_species)
        for k, a in d.items():
            v[mix.species_index(k)] += a
        return v

    if phi is None or model.fuel is None or model.oxidizer is None:
        return vec(model.feeds[0])[None, :]
    fuel = vec(model.fuel)
    ox_at_1 = vec(mix_feed(model.fuel, model.oxidizer, 1.0, model.path, lambda *k: model.path)) - fuel
    return fuel[None, :] + ox_at_1[None, :] / phi[:, None]  # oxidizer scales as 1/phi


class GasKind(ModelKind):
    name = "gas"
    about = "gas-phase chemical equilibrium on a Cantera mechanism (Cantera / NASA CEA class)"
    keys = KEYS
    sweep_help = "phi (needs fuel:/oxidizer: in the model), T [K], P [Pa]"
    amount_prefix = "X_"
    damping_types = ("constant", "ramp", "adaptive", "linesearch", "cea")

    def load(self, path: Path, data: dict, where: Where) -> GasModel:
        return load(path, data, where)

    def resource_key(self, model: GasModel) -> tuple:
        return (self.name, model.mechanism, tuple(model.condensed))

    def complete_grid(self, model: GasModel, grid: Any) -> Any:
        """A model with a phi range keeps it: sweeping T (or P) over it gives the grid inputs x phi, phi
        fastest. A DataFrame of rows cannot take an axis: its rows are solved at the file's first phi, and a
        warning says the range was dropped."""
        if model.phi is None:
            return grid
        if isinstance(grid, dict):
            return grid if "phi" in grid else {**grid, "phi": np.asarray(model.phi, dtype=float)}
        if "phi" not in getattr(grid, "columns", ()):
            import warnings

            warnings.warn(f"{model.path}: the model's phi range ({len(model.phi)} values) is not swept: a table of "
                          f"rows has no phi column, so every row uses phi = {model.phi[0]:g}",
                          UserWarning, stacklevel=3)
        return grid

    def check_sweep(self, model: GasModel, cols: dict[str, np.ndarray]) -> None:
        for k, a in cols.items():
            ok = k in ("T", "P") or (k == "phi" and model.fuel is not None)
            if k == "phi" and not ok:
                raise InvalidInputError(f"sweep phi: {model.path} gives X:, not fuel:/oxidizer:/phi:")
            if not ok:
                raise InvalidInputError(f"sweep: {k!r} cannot be swept in the gas model; use {self.sweep_help}")
            if (a <= 0).any():
                i = int(np.flatnonzero(a <= 0)[0])
                raise InvalidInputError(f"sweep {k}={a[i]:g}: must be > 0")

    def sweep_columns(self, model: GasModel, mix: Any, species: list[str] | None) -> list | None:
        if species is None:
            return None
        names = list(mix.species_names)
        out = []
        for s in species:
            if s not in names:
                raise InvalidInputError(f"species {s!r} is not in {model.mechanism}")
            out.append(names.index(s))
        return out

    def sweep_block(self, model: GasModel, mix: Any, cols: dict[str, np.ndarray], n: int, chunk: int,
                    columns: list | None):
        X = feed_rows(model, mix, cols.get("phi"))
        T = cols.get("T", np.full(n, model.T))
        P = cols.get("P", np.full(n, model.P))
        opts = dict(getattr(model, "solver", None) or {})
        r = mix.equilibrate(T, P, np.broadcast_to(X, (n, mix.n_species)), mode=model.mode, warm_start=True,
                            chunk=chunk, **opts)
        idx = range(mix.n_species) if columns is None else columns
        out = {"T_K": r.T, "P_Pa": r.P}
        out.update({f"X_{r.species_names[j]}": r.X[:, j] for j in idx})
        out.update({f"n_{c}": r.condensed[:, k] for k, c in enumerate(r.condensed_names)})
        return r.status, r.nit, out

    def report(self, model: GasModel, r: Any, fmt: str, out: Any) -> int:
        names = r.species_names
        if model.phi is None and fmt in ("csv", "parquet"):
            write_rows([[s, float(x)] for s, x in sorted(r.mole_fraction_dict(1e-12).items(), key=lambda kv: -kv[1])],
                       ["species", "mole_fraction"], out)
            ok, bad = r.success, ([] if r.success else [0])
        elif model.phi is None:
            if fmt == "json":
                json.dump({"model": model.name, "file": model.path, "mode": r.mode, "status": r.status.name,
                           "message": r.message, "T_K": r.T, "P_Pa": r.P, "moles_per_mole_feed": r.moles,
                           "X": r.mole_fraction_dict(1e-12), "condensed": r.condensed,
                           "iterations": r.nit, "diagnostics": r.diagnostics,
                           "certificate": r.certificate.to_dict() if r.certificate is not None else None},
                          out, indent=1)
                out.write("\n")
            else:
                print(f"{model.name}  [{model.path}]", file=out)
                print(f"status {r.status.name}   mode {r.mode}   T {r.T:.3f} K   P {r.P:.6g} Pa   "
                      f"iterations {r.nit}", file=out)
                top = sorted(r.mole_fraction_dict(1e-12).items(), key=lambda kv: -kv[1])[:15]
                print(table([[s, f"{x:.6e}"] for s, x in top], ["species", "mole fraction"]), file=out)
                if r.condensed:
                    print(table([[c, f"{v:.6e}"] for c, v in r.condensed.items()],
                                ["condensed", "moles per mole of feed"]), file=out)
            ok, bad = r.success, ([] if r.success else [0])
        else:
            phi = np.asarray(model.phi)
            top = [names[j] for j in np.argsort(-r.X.max(axis=0))[:6]]
            status = [Status(int(s)).name for s in r.status]
            if fmt in ("csv", "parquet"):
                write_rows([[float(phi[i]), status[i], float(r.T[i]), float(r.P[i])]
                            + [float(r.X[i, names.index(s)]) for s in top] for i in range(len(phi))],
                           ["phi", "status", "T_K", "P_Pa"] + [f"X_{s}" for s in top], out)
            elif fmt == "json":
                json.dump({"model": model.name, "file": model.path, "mode": r.mode, "phi": phi.tolist(),
                           "status": status, "T_K": r.T.tolist(), "P_Pa": r.P.tolist(),
                           "X": {s: r.X[:, names.index(s)].tolist() for s in top},
                           "condensed": {c: r.condensed[:, k].tolist() for k, c in enumerate(r.condensed_names)}},
                          out, indent=1)
                out.write("\n")
            else:
                pressures = np.unique(r.P)
                p_text = (f"P {pressures[0]:.6g} Pa" if pressures.size == 1
                          else f"P {pressures.min():.6g}-{pressures.max():.6g} Pa")
                print(f"{model.name}  [{model.path}]   mode {r.mode}, {p_text}, {len(phi)} states, warm-started",
                      file=out)
                rows = [[f"{phi[i]:.3f}", status[i], f"{r.T[i]:.2f}", f"{r.P[i]:.6g}"]
                        + [f"{r.X[i, names.index(s)]:.4e}" for s in top] for i in range(len(phi))]
                print(table(rows, ["phi", "status", "T [K]", "P [Pa]"] + top), file=out)
            ok = bool(r.success.all())
            bad = list(np.flatnonzero(~r.success))
        if not ok:
            first = f"phi = {model.phi[bad[0]]:.6g}" if model.phi is not None else "the state"
            what = "" if model.phi is not None else f": {r.status.name}: {' '.join(r.message.split())}"
            print(f"error: {model.path}: {len(bad)} state(s) did not converge (first: {first}){what}",
                  file=sys.stderr)
            return 1
        return 0

    def plot(self, model: GasModel, ax: Any) -> None:
        from ..plots import composition, flame

        (flame if model.fuel is not None else composition)(model, ax=ax)

    def warmup(self) -> str:
        from .warmup import warmup

        warmup()
        return "the gas kernels, their certificate and the property kernels"

    def retry_rungs(self, summary: dict[str, Any]) -> list:
        from .. import damping
        from ..advisors.base import Suggestion

        return [
            Suggestion(damping=damping.ControlFactor(1.0), rationale="smaller steps"),
            Suggestion(damping=damping.ControlFactor(0.4),
                       initial_guess={"T": 2000.0} if summary.get("mode") in ("HP", "SP", "UV") else None,
                       rationale="stronger damping"),
            Suggestion(damping=damping.LineSearch(), rationale="the other globalisation: Armijo line search"),
        ]

    def guess_schema(self, summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        if summary.get("mode") in ("HP", "SP", "UV"):
            return ({"type": "object", "properties": {"T": {"type": "number"}}, "required": ["T"],
                     "additionalProperties": False},
                    "'guess': {'T': the equilibrium temperature you expect, in K (300-6000)}.")
        return None, "'guess': null (this problem needs no guess)."


KIND = GasKind()
