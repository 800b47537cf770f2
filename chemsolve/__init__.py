"""chemsolve: fast, honest solvers for physical-chemistry equilibrium problems.

The engine (``solve``, ``solve_batch``, ``damping``, ``Status``) works on any residual;
``sweep`` solves a model file over a grid of conditions (local cores or Dask).
Importing chemsolve compiles nothing and does not import numba; kernels load on first use.
"""

from . import damping
from .engine import solve, solve_batch
from .errors import ChemsolveError, ConvergenceError, InvalidInputError
from .result import BatchResult, History, SolveResult
from .status import Status
from .sweeps import sweep

__version__ = "0.1.0"

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
