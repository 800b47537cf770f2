"""chemsolve: fast, honest solvers for physical-chemistry equilibrium problems.

The engine (``solve``, ``solve_batch``, ``damping``, ``Status``) works on any residual;
``sweep`` solves a model file over a grid of conditions (local cores or Dask).
The models and tools are submodules that load on first use (``cs.aqueous``, ``cs.gas``, ``cs.flash``,
``cs.advisors``, ``cs.models``, ``cs.plots``, ``cs.sweeps``, ``cs.certificate``), as in SciPy.
Importing chemsolve compiles nothing and does not import numba; kernels load on first use.
"""

from . import damping
from .engine import solve, solve_batch
from .errors import ChemsolveError, ConvergenceError, InvalidInputError
from .result import BatchResult, History, SolveResult
from .status import Status
from .sweeps import sweep

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it from here)

# submodules resolved on first attribute access (PEP 562), so that ``import chemsolve`` stays light
_LAZY = frozenset({"aqueous", "gas", "flash", "advisors", "models", "plots", "sweeps", "certificate", "bench", "cli",
                   "kernels", "engine", "result", "status", "errors"})


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'chemsolve' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)


__all__ = [
    "solve",
    "solve_batch",
    "sweep",
    "damping",
    "Status",
    "SolveResult",
    "BatchResult",
    "History",
    "ChemsolveError",
    "ConvergenceError",
    "InvalidInputError",
    "__version__",
]
