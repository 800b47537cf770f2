"""A Basic Model Interface (BMI 2.0, ``bmipy``) adapter of the reactor, for frameworks that couple models
through BMI (the CSDMS tools, ``pymt``, and codes that drive PhreeqcRM through its own BMI).

Configured by a YAML file::

    database: phreeqc.dat          # a bundled name or a path
    cells: 10
    solution:                      # the water of every cell (chemsolve.aqueous.Solution's fields)
      totals: {Ca: 1.0, C(4): 2.0, Na: 1.0, Cl: 1.0}
      units: mmol/kgw
      pH: 7 charge
    phases: {Calcite: [0.0, 0.1]}  # optional, as react takes them
    exchange: {CaX2: 0.005, NaX: 0.001}   # optional
    elements: [Mg]                 # optional: elements only transport brings
    kinetics:                      # optional: kinetic reactants (reactor.kinetics.from_config)
      - {name: Dolomite, moles: 0.01, rate: {law: palandri_kharaka, area: 0.5}}
    time_step: 3600.0              # [s]
    end_time: 86400.0              # [s]

Variables live on one grid, the cells (``uniform_rectilinear``, rank 1, spacing 1). Inputs (and
outputs): ``<component>__concentration`` [mol kg-1] for every component of ``Reactor.components`` (H, O,
Charge, then the elements); outputs also ``pH``, ``<phase>__moles``, ``<exchange species>__moles`` and
``<kinetic reactant>__kinetic_moles`` [mol], and ``step_status`` (0: converged). ``update()`` reacts
every cell over one time step (``Reactor.step(time_step)``) and advances the time by it;
``update_until(t)`` takes whole time steps and then one step of what is left. The arrays
``get_value_ptr`` returns are the adapter's own and stay current.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

try:
    from bmipy import Bmi
except ImportError:  # the adapter needs bmipy; the rest of chemsolve does not
    Bmi = object  # type: ignore[misc,assignment]

from ..errors import InvalidInputError

MAX_CONFIG = 1_000_000  # characters: a configuration is a few lines


class BmiReactor(Bmi):  # type: ignore[misc]
    """``chemsolve.reactor.Reactor`` behind BMI 2.0 (see the module docstring)."""

    def __init__(self) -> None:
        self._rm: Any = None
        self._time = 0.0
        self._dt = 1.0
        self._end = math.inf
        self._vals: dict[str, np.ndarray] = {}
        self._inputs: list[str] = []
        self._outputs: list[str] = []

    # ------------------------------------------------------------------ control
    def initialize(self, config_file: str | None = None) -> None:
        import yaml

        from ..aqueous import DatabaseWarning, Solution, load_database
        from . import Reactor

        if config_file is None:
            raise InvalidInputError("BmiReactor.initialize: a YAML configuration file is required")
        p = Path(config_file)
        text = p.read_text(encoding="utf-8")
        if len(text) > MAX_CONFIG:
            raise InvalidInputError(f"{p}: configuration of {len(text)} characters is larger than {MAX_CONFIG}")
        try:
            cfg = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise InvalidInputError(f"{p}: not YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(cfg, dict):
            raise InvalidInputError(f"{p}: expected a mapping of keys, got {type(cfg).__name__}")
        known = {"database", "cells", "solution", "phases", "exchange", "elements", "time_step", "end_time",
                 "kinetics"}
        extra = sorted(set(cfg) - known)
        if extra:
            raise InvalidInputError(f"{p}: unknown key {extra[0]!r}; known: {', '.join(sorted(known))}")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            db = load_database(str(cfg.get("database", "phreeqc.dat")))
        sol = cfg.get("solution")
        if not isinstance(sol, dict) or "totals" not in sol:
            raise InvalidInputError(f"{p}: 'solution' must be a mapping with 'totals' (and units, pH, pe, T...)")
        bad = sorted(set(sol) - {"totals", "units", "pH", "pe", "T", "charge", "redox", "density", "water", "P"})
        if bad:
            raise InvalidInputError(f"{p}: solution: unknown key {bad[0]!r}")
        water = Solution(db, **sol).speciate()
        if not water.success:
            raise InvalidInputError(f"{p}: solution: {water.message}")
        try:
            cells = int(cfg.get("cells", 1))
            self._dt = float(cfg.get("time_step", 1.0))
            self._end = float(cfg.get("end_time", math.inf))
        except (TypeError, ValueError) as err:
            raise InvalidInputError(f"{p}: cells, time_step and end_time must be numbers ({err})") from None
        if not (self._dt > 0 and math.isfinite(self._dt)):
            raise InvalidInputError(f"{p}: time_step must be finite and > 0, got {cfg.get('time_step')!r}")
        phases = cfg.get("phases")
        if phases:
            phases = {k: tuple(v) if isinstance(v, list) else v for k, v in phases.items()}
        from .kinetics import from_config

        kinetics = from_config(cfg["kinetics"], str(p)) if cfg.get("kinetics") else ()
        self._rm = Reactor(db, cells, solution=water, phases=phases or None, exchange=cfg.get("exchange"),
                           elements=cfg.get("elements") or (), kinetics=kinetics)
        self._time = 0.0
        rm = self._rm
        self._inputs = [f"{c}__concentration" for c in rm.components]
        self._outputs = (self._inputs + ["pH", "step_status"] + [f"{p}__moles" for p in rm.phases]
                         + [f"{s}__moles" for s in rm.exchange_species]
                         + [f"{k}__kinetic_moles" for k in rm.kinetic_names])
        self._vals = {name: np.zeros(rm.n) for name in self._outputs}
        self._vals["step_status"] = np.zeros(rm.n, dtype=np.int64)
        self._refresh()

    def _refresh(self) -> None:
        rm = self._rm
        c = rm.get_concentrations()
        for j, comp in enumerate(rm.components):
            self._vals[f"{comp}__concentration"][:] = c[:, j]
        self._vals["pH"][:] = rm.pH
        self._vals["step_status"][:] = np.maximum(rm.status, 0)
        for q, ph in enumerate(rm.phases):
            self._vals[f"{ph}__moles"][:] = rm.phase_moles[:, q]
        for j, s in enumerate(rm.exchange_species):
            self._vals[f"{s}__moles"][:] = rm.exchange[:, j]
        for j, s in enumerate(rm.kinetic_names):
            self._vals[f"{s}__kinetic_moles"][:] = rm.kinetic_moles[:, j]

    def _push(self) -> None:
        rm = self._rm
        rm.set_concentrations(np.column_stack([self._vals[f"{c}__concentration"] for c in rm.components]))

    def update(self) -> None:
        self._advance(self._dt)

    def _advance(self, dt: float) -> None:
        self._push()
        self._rm.step(dt)
        self._time += dt
        self._refresh()

    def update_until(self, time: float) -> None:
        """React until ``time`` [s]: whole time steps, then one step of what is left, so that kinetic
        reactants react over exactly the time asked (PhreeqcRM's update_until reacts over time minus the
        current time). A time before the current one is an error."""
        t = float(time)
        if not math.isfinite(t) or t < self._time:
            raise InvalidInputError(f"update_until: time {time!r} is before the current time {self._time!r} "
                                    "(or not finite)")
        while t - self._time > 1e-12 * max(abs(t), self._dt):
            left = t - self._time
            self._advance(self._dt if left >= self._dt * (1.0 - 1e-12) else left)
        self._time = t

    def finalize(self) -> None:
        self._rm = None
        self._vals = {}

    # ------------------------------------------------------------------ information
    def get_component_name(self) -> str:
        return "chemsolve reactor"

    def get_input_item_count(self) -> int:
        return len(self._inputs)

    def get_output_item_count(self) -> int:
        return len(self._outputs)

    def get_input_var_names(self) -> tuple[str, ...]:
        return tuple(self._inputs)

    def get_output_var_names(self) -> tuple[str, ...]:
        return tuple(self._outputs)

    def _var(self, name: str) -> np.ndarray:
        if name not in self._vals:
            raise InvalidInputError(f"unknown variable {name!r}; variables: {', '.join(self._outputs)}")
        return self._vals[name]

    def get_var_grid(self, name: str) -> int:
        self._var(name)
        return 0

    def get_var_type(self, name: str) -> str:
        return str(self._var(name).dtype)

    def get_var_units(self, name: str) -> str:
        self._var(name)
        if name.endswith("__concentration"):
            return "mol kg-1"
        if name.endswith("__moles") or name.endswith("__kinetic_moles"):
            return "mol"
        return "1"

    def get_var_itemsize(self, name: str) -> int:
        return int(self._var(name).itemsize)

    def get_var_nbytes(self, name: str) -> int:
        return int(self._var(name).nbytes)

    def get_var_location(self, name: str) -> str:
        self._var(name)
        return "node"

    # ------------------------------------------------------------------ time
    def get_current_time(self) -> float:
        return self._time

    def get_start_time(self) -> float:
        return 0.0

    def get_end_time(self) -> float:
        return self._end

    def get_time_units(self) -> str:
        return "s"

    def get_time_step(self) -> float:
        return self._dt

    # ------------------------------------------------------------------ values
    def get_value(self, name: str, dest: np.ndarray) -> np.ndarray:
        dest[:] = self._var(name)
        return dest

    def get_value_ptr(self, name: str) -> np.ndarray:
        return self._var(name)

    def get_value_at_indices(self, name: str, dest: np.ndarray, inds: np.ndarray) -> np.ndarray:
        dest[:] = self._var(name)[inds]
        return dest

    def set_value(self, name: str, src: np.ndarray) -> None:
        if name not in self._inputs:
            raise InvalidInputError(f"{name!r} is not an input variable; inputs: {', '.join(self._inputs)}")
        self._vals[name][:] = src

    def set_value_at_indices(self, name: str, inds: np.ndarray, src: np.ndarray) -> None:
        if name not in self._inputs:
            raise InvalidInputError(f"{name!r} is not an input variable; inputs: {', '.join(self._inputs)}")
        self._vals[name][inds] = src

    # ------------------------------------------------------------------ the grid: the cells in a row
    def get_grid_rank(self, grid: int) -> int:
        return 1

    def get_grid_size(self, grid: int) -> int:
        return int(self._rm.n)

    def get_grid_type(self, grid: int) -> str:
        return "uniform_rectilinear"

    def get_grid_shape(self, grid: int, shape: np.ndarray) -> np.ndarray:
        shape[:] = [self._rm.n]
        return shape

    def get_grid_spacing(self, grid: int, spacing: np.ndarray) -> np.ndarray:
        spacing[:] = [1.0]
        return spacing

    def get_grid_origin(self, grid: int, origin: np.ndarray) -> np.ndarray:
        origin[:] = [0.0]
        return origin

    def get_grid_x(self, grid: int, x: np.ndarray) -> np.ndarray:
        x[:] = np.arange(self._rm.n, dtype=float)
        return x

    def get_grid_y(self, grid: int, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError("the cells' grid has one dimension")

    def get_grid_z(self, grid: int, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError("the cells' grid has one dimension")

    def get_grid_node_count(self, grid: int) -> int:
        return int(self._rm.n)

    def get_grid_edge_count(self, grid: int) -> int:
        raise NotImplementedError("uniform rectilinear grid: no edges")

    def get_grid_face_count(self, grid: int) -> int:
        raise NotImplementedError("uniform rectilinear grid: no faces")

    def get_grid_edge_nodes(self, grid: int, edge_nodes: np.ndarray) -> np.ndarray:
        raise NotImplementedError("uniform rectilinear grid: no edges")

    def get_grid_face_edges(self, grid: int, face_edges: np.ndarray) -> np.ndarray:
        raise NotImplementedError("uniform rectilinear grid: no faces")

    def get_grid_face_nodes(self, grid: int, face_nodes: np.ndarray) -> np.ndarray:
        raise NotImplementedError("uniform rectilinear grid: no faces")

    def get_grid_nodes_per_face(self, grid: int, nodes_per_face: np.ndarray) -> np.ndarray:
        raise NotImplementedError("uniform rectilinear grid: no faces")
