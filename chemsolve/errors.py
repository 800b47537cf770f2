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
        super().__init__(f"{result.status.name}: {result.message}")
