"""Exceptions raised by chemsolve. Every one derives from ``ChemsolveError``."""

from __future__ import annotations

from typing import Any


class ChemsolveError(Exception):
    """Base class of every error chemsolve raises on purpose."""


class InvalidInputError(ChemsolveError, ValueError):
    """The input (an argument, a file, a value) is wrong; the message names the culprit."""


class ConvergenceError(ChemsolveError, RuntimeError):
    """Raised with ``throw=True`` when a solve did not converge.

    ``err.result`` holds the full result (last iterate, status, history), so nothing is lost.
    """

    def __init__(self, result: Any):
        self.result = result
        status = result.status
        if hasattr(status, "name"):  # one state
            text = f"{status.name}: {result.message}"
        else:  # a batch: how many failed, and the first
            import numpy as np

            from .status import Status

            codes = np.asarray(status)
            bad = np.flatnonzero(codes != int(Status.CONVERGED))
            first = f"first: row {bad[0]}, {Status(int(codes[bad[0]])).name}" if bad.size else "none"
            text = f"{bad.size} of {codes.size} state(s) did not converge ({first})"
        super().__init__(text)


class MissingExtraError(InvalidInputError, ImportError):
    """An optional package is not installed; the message names the extra to install."""


# optional packages: module -> (what needs it, the extra that installs it)
EXTRAS = {
    "cantera": ("the gas model reads its mechanisms with Cantera", "cantera"),
    "matplotlib": ("plots need matplotlib", "plot"),
    "pyarrow": ("--format parquet needs pyarrow", "parquet"),
    "distributed": ("Dask sweeps need dask.distributed", "dask"),
    "openai": ("the LLM advisor needs the openai SDK", "llm"),
    "optuna": ("the TPE tuner needs optuna", "tune"),
    "phreeqc": ("comparisons with PHREEQC need IPhreeqc (the phreeqc package)", "phreeqc"),
}


def require(module: str) -> Any:
    """Import an optional package or raise ``MissingExtraError`` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        what, extra = EXTRAS.get(module, (f"this needs {module}", module))
        raise MissingExtraError(f"{what}: pip install 'chemsolve[{extra}]'") from None


def nonnegative(v, what: str, allow_zero: bool = True) -> float:
    """``v`` as a finite float >= 0 (> 0 with ``allow_zero=False``), or a one-line InvalidInputError
    naming ``what`` and the value given."""
    import math

    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} is {v!r}, not a number") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise InvalidInputError(f"{what} must be finite and {'>= 0' if allow_zero else '> 0'}, got {v!r}")
    return x
