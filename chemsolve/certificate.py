"""Certificates: the independent check a state must pass before it may be called CONVERGED.

A solver's own stopping test is not the judge of its answer (DESIGN.md section 3). After a solver
reports convergence, the returned state is checked by a function of its domain that recomputes the
defining equations from that state alone, sharing no code path with the solver:

- engine (``chemsolve.engine``): max|F(x)/fscale| recomputed by calling the residual at x;
- aqueous (``chemsolve.aqueous.certificate``): mass and charge balances, mass-action laws at the
  returned activities, phases at their target SI or absent and undersaturated;
- gas (``chemsolve.gas.certificate``): element balances, the held T/P/H/S/U/V, every species'
  chemical-potential (KKT) condition, no absent condensed species that would lower G.

A state that fails gets ``Status.CHECK_FAILED`` and a message naming the worst residual; the
certificate (its residuals and their tolerances) stays on the result either way.

This module holds the result objects only; it imports nothing heavy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Certificate", "BatchCertificate", "Check"]


@dataclass(frozen=True)
class Check:
    """One line of a certificate: the worst residual of one kind of equation.

    value : the residual, in the unit ``unit`` (NaN when it could not be computed: that fails).
    tol : the largest value that passes. where : what the worst residual belongs to (an element,
    a species, a phase, a component index), or "" when the check is a single number.
    """

    value: float
    tol: float
    unit: str = ""
    where: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.value <= self.tol)  # NaN fails

    @property
    def ratio(self) -> float:
        """value / tol (inf for a NaN value): how far over (> 1) or under (< 1) the tolerance."""
        if not math.isfinite(self.value):
            return math.inf if not self.value < 0 else 0.0
        return self.value / self.tol if self.tol > 0 else (0.0 if self.value <= 0 else math.inf)

    def describe(self, name: str) -> str:
        at = f" ({self.where})" if self.where else ""
        unit = f" {self.unit}" if self.unit else ""
        verdict = "<=" if self.passed else ">"
        return f"{name}{at} = {self.value:.3g}{unit} {verdict} tolerance {self.tol:.3g}"


@dataclass(frozen=True)
class Certificate:
    """The independent check of one returned state.

    checks : {name: Check}. ``passed`` is True when every check passes. ``worst`` names the check
    closest to (or furthest over) its tolerance, ``message`` says it in one line.
    """

    checks: Mapping[str, Check] = field(default_factory=dict)
    domain: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks.values())

    @property
    def worst(self) -> str:
        """Name of the check with the largest value / tolerance ("" if there are none)."""
        if not self.checks:
            return ""
        return max(self.checks, key=lambda k: self.checks[k].ratio)

    @property
    def residuals(self) -> dict[str, float]:
        return {k: c.value for k, c in self.checks.items()}

    @property
    def message(self) -> str:
        if not self.checks:
            return "no certificate was computed"
        w = self.worst
        head = "certificate passed" if self.passed else "certificate FAILED"
        return f"{head} ({self.domain}): worst {self.checks[w].describe(w)}"

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "passed": self.passed, "worst": self.worst,
                "checks": {k: {"value": c.value, "tol": c.tol, "unit": c.unit, "where": c.where,
                               "passed": c.passed} for k, c in self.checks.items()}}

    def __repr__(self) -> str:
        return f"Certificate({self.message})"


@dataclass(frozen=True)
class BatchCertificate:
    """Certificates of N states, as arrays: ``values[name]`` (N,) worst residual of each check,
    ``tolerances[name]`` its tolerance, ``where[name]`` (N,) what it belongs to. Rows that were not
    checked (the solver did not report convergence) hold NaN and ``checked`` False."""

    values: Mapping[str, np.ndarray]
    tolerances: Mapping[str, float]
    where: Mapping[str, np.ndarray] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    checked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    domain: str = ""

    @property
    def passed(self) -> np.ndarray:
        """(N,) True where the row was checked and every check passed."""
        ok = np.asarray(self.checked, dtype=bool).copy()
        for k, v in self.values.items():
            ok &= np.asarray(v) <= self.tolerances[k]
        return ok

    def __len__(self) -> int:
        return int(np.asarray(self.checked).shape[0])

    def row(self, i: int) -> Certificate:
        """Certificate of row ``i`` (empty when the row was not checked)."""
        if not bool(self.checked[i]):
            return Certificate({}, self.domain)
        return Certificate({k: Check(float(v[i]), float(self.tolerances[k]), self.units.get(k, ""),
                                     str(self.where[k][i]) if k in self.where else "")
                            for k, v in self.values.items()}, self.domain)

    def worst_ratio(self) -> np.ndarray:
        """(N,) the largest value / tolerance over the checks of each row (NaN rows: inf)."""
        r = np.zeros(len(self))
        for k, v in self.values.items():
            q = np.asarray(v, dtype=float) / self.tolerances[k]
            r = np.fmax(r, np.where(np.isnan(q), np.inf, q))
        return np.where(self.checked, r, np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "tolerances": dict(self.tolerances),
                "values": {k: np.asarray(v).tolist() for k, v in self.values.items()},
                "passed": self.passed.tolist()}

    @staticmethod
    def empty(n: int, domain: str = "") -> BatchCertificate:
        return BatchCertificate({}, {}, {}, {}, np.zeros(n, dtype=bool), domain)


def failed_message(cert: Certificate) -> str:
    """The message of a state the solver called converged but its certificate refused."""
    return (f"The solver stopped, but the independent check of the returned state failed: {cert.message}. "
            "The state is not an equilibrium to the stated tolerance; it is kept for inspection.")
