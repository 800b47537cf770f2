"""The engine as a model kind: model files that name a residual bundled with chemsolve.

``kind: engine`` files name a residual of ``ENGINE_PROBLEMS`` (nothing is imported or evaluated from
a file), its parameters, the start and the solver options. A user's own residuals go through
``chemsolve.solve`` and ``chemsolve.solve_batch`` directly.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .engine import EngineOptions
from .errors import InvalidInputError
from .modelfile import COMMON_KEYS, ModelError, Where, check_keys, numbers, show, solver_mapping, texts, units_of
from .registry import ModelKind
from .tables import table, write_rows

__all__ = ["EngineModel", "ENGINE_PROBLEMS", "KIND", "load"]

KEYS = {**COMMON_KEYS, "units": False, "problem": True, "params": False, "x0": False}


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


def load(p: Path, data: dict, where: Where) -> EngineModel:
    """An engine model from a file's parsed data."""
    check_keys(data, KEYS, "engine", p, where)
    texts(data, where, ("name", "provenance", "problem"))
    units_of(data, where, "engine", ())
    number = numbers(where)
    name = data["problem"].strip()
    if name not in ENGINE_PROBLEMS:
        raise ModelError(f"{where('problem')}: problem {show(name)} is not a residual bundled with chemsolve; "
                         f"bundled: {sorted(ENGINE_PROBLEMS)}")
    e = ENGINE_PROBLEMS[name]
    solver = solver_mapping(data, where, EngineOptions)
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
            raise ModelError(f"{where('params', k)}: unknown key {show(k)} in params of problem {name!r}; "
                             f"allowed: {list(e.param_names)}")
        params[e.param_names.index(k)] = number(("params", k), v)
    x0 = np.array(getattr(mod, e.x0), dtype=float)
    if "x0" in data:
        v = data["x0"]
        if not isinstance(v, list) or len(v) != x0.size:
            raise ModelError(f"{where('x0')}: x0 is a list of {x0.size} numbers for problem {name!r}, got {show(v)}")
        x0 = np.array([number(("x0",), a) for a in v])
    return EngineModel(path=str(p), kind="engine", name=data["name"].strip(),
                       provenance=" ".join(data["provenance"].split()), problem=name, x0=x0, params=params,
                       param_names=e.param_names, solver=solver)


class EngineKind(ModelKind):
    name = "engine"
    about = "a residual bundled with chemsolve, solved by the engine (chemsolve.solve)"
    keys = KEYS
    sweep_help = "params.<name>"
    amount_prefix = None

    def load(self, path: Path, data: dict, where: Where) -> EngineModel:
        return load(path, data, where)

    def check_sweep(self, model: EngineModel, cols: dict[str, np.ndarray]) -> None:
        for k in cols:
            if not (k.startswith("params.") and k[7:] in tuple(model.param_names)):
                raise InvalidInputError(f"sweep: {k!r} cannot be swept in the engine model; use {self.sweep_help}")

    def sweep_block(self, model: EngineModel, resource: Any, cols: dict[str, np.ndarray], n: int, chunk: int,
                    columns: list | None):
        from .engine import solve_batch

        fun, jac = model.functions()
        params = np.tile(np.asarray(model.params, dtype=float), (n, 1))
        for j, name in enumerate(model.param_names):
            if f"params.{name}" in cols:
                params[:, j] = cols[f"params.{name}"]
        X0 = np.tile(np.asarray(model.x0, dtype=float), (n, 1))
        opts = {k: v for k, v in (model.solver or {}).items() if k != "jit"}  # a batch always runs compiled
        b = solve_batch(fun, X0, params, jac=jac, warm_start=True, chunk=chunk, **opts)
        out = {"residual_norm": b.residual_norm}
        out.update({f"x_{i}": b.x[:, i] for i in range(b.x.shape[1])})
        return b.status, b.nit, out

    def report(self, model: EngineModel, r: Any, fmt: str, out: Any) -> int:
        """Status, iterations, residual and the solution x."""
        names = [f"x{i + 1}" for i in range(r.x.size)]
        if fmt in ("csv", "parquet"):
            write_rows([[n, float(v)] for n, v in zip(names, r.x)], ["unknown", "value"], out, digits=17)
        elif fmt == "json":
            json.dump({"model": model.name, "file": model.path, "problem": model.problem, "status": r.status.name,
                       "message": r.message, "nit": r.nit, "nfev": r.nfev, "residual_norm": r.residual_norm,
                       "params": dict(zip(model.param_names, model.params.tolist())), "x": r.x.tolist(),
                       "certificate": r.certificate.to_dict() if r.certificate is not None else None},
                      out, indent=1)
            out.write("\n")
        else:
            print(f"{model.name}  [{model.path}]", file=out)
            print(f"problem {model.problem}   "
                  + "   ".join(f"{k} {v:g}" for k, v in zip(model.param_names, model.params)), file=out)
            print(f"status {r.status.name}   nit {r.nit}   nfev {r.nfev}   max|F| {r.residual_norm:.3e}   "
                  f"method {r.method}   damping {r.damping.name}", file=out)
            print(table([[n, f"{v:.10g}", f"{x0:.6g}"] for n, v, x0 in zip(names, r.x, model.x0)],
                        ["unknown", "x", "x0"]), file=out)
        if not r.success:
            print(f"error: {model.path}: did not converge: {r.status.name}: {' '.join(r.message.split())}",
                  file=sys.stderr)
            return 1
        return 0

    def plot(self, model: EngineModel, ax: Any) -> None:
        """The convergence history of each damping schedule (``plots.convergence``)."""
        from .plots import convergence, engine_plot_options

        fun, jac = model.functions()
        method, opts, sets = engine_plot_options(model)
        args = () if model.params is None else (model.params,)
        convergence(fun, model.x0, sets, jac=jac, args=args, ax=ax, method=method, **opts)
        ax.set_title(f"{model.name}: {method}", fontsize=10)

    def retry_rungs(self, summary: dict[str, Any]) -> list:
        from . import damping
        from .advisors.base import Suggestion

        scale = 1.0 + max((abs(v) for v in summary.get("x0", [0.0])), default=0.0)
        return [
            Suggestion(options={"max_step": 0.5 * scale}, rationale="smaller steps"),
            Suggestion(damping=damping.Adaptive(0.1, 1.5, 0.3, 1e-10, 1.0), options={"max_step": 0.5 * scale},
                       rationale="stronger damping"),
            # the engine has no second formulation of a user's residual: a much shorter step cap
            Suggestion(damping=damping.Ramp(0.01, 1.5, 1.0), options={"max_step": 0.05 * scale},
                       rationale="much smaller, ramped steps"),
        ]

    def warmup(self) -> str:
        from .engine import solve, solve_batch
        from .kernels import examples as ex

        solve(ex.propane, ex.PAPER_START, jac=ex.propane_jac, args=(ex.PAPER_PARAMS,), max_rel_step=0.9)
        solve_batch(ex.propane, np.tile(ex.PAPER_START, (2, 1)), np.tile(ex.PAPER_PARAMS, (2, 1)), jac=ex.propane_jac)
        return "the engine's kernels for the bundled residual (single solve and batch)"

    def guess_schema(self, summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        n = int(summary.get("n", 1))
        return ({"type": "array", "items": {"type": "number"}, "minItems": n, "maxItems": n},
                f"'guess': a list of {n} numbers, the unknowns x at which to start (x0 is the user's start).")


KIND = EngineKind()
