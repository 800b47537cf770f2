"""Termination status shared with the kernels (values from ``chemsolve.kernels.codes``)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from .kernels import codes as _c


class Status(IntEnum):
    """Why a solve stopped. ``0`` is success; every other value is a distinct failure."""

    CONVERGED = _c.CONVERGED
    MAX_ITER = _c.MAX_ITER
    NONFINITE = _c.NONFINITE
    SINGULAR = _c.SINGULAR
    LINE_SEARCH_FAILED = _c.LINE_SEARCH_FAILED
    STAGNATED = _c.STAGNATED
    DIVERGED = _c.DIVERGED
    INVALID_INPUT = _c.INVALID_INPUT
    CHECK_FAILED = _c.CHECK_FAILED

    @property
    def message(self) -> str:
        """What happened and what to try next."""
        return MESSAGES[self]

    def __str__(self) -> str:  # print(result.status) shows the name, not the number
        return self.name


MESSAGES = {
    Status.CONVERGED: "Converged: the scaled residual max|F/fscale| is at or below ftol.",
    Status.MAX_ITER: (
        "Maximum number of iterations reached before the residual met ftol. Try a larger "
        "max_iter, a better initial guess, or a different damping schedule."
    ),
    Status.NONFINITE: (
        "The residual (or Jacobian) became NaN or infinite and backtracking could not avoid it. "
        "Check the residual's domain (logs, square roots, exp overflow), use log variables for "
        "positive unknowns, or cap the step with max_step / max_rel_step."
    ),
    Status.SINGULAR: (
        "The Jacobian is singular and the regularised (Levenberg-Marquardt) step failed too: the "
        "iterate sits at a stationary point of |F| that is not a root. Try another initial guess, "
        "check the Jacobian, or remove redundant equations."
    ),
    Status.LINE_SEARCH_FAILED: (
        "The line search could not decrease the residual along the search direction. The "
        "Jacobian may be inaccurate (pass an analytic jac) or the problem badly scaled (pass "
        "fscale); a different initial guess or method='anderson' for fixed points may help."
    ),
    Status.STAGNATED: (
        "The iteration stopped making progress: the residual did not decrease for many "
        "iterations, or steps fell below atol + rtol*|x| while the residual stayed above ftol. "
        "The root may be ill-conditioned, or ftol unreachable in double precision for this "
        "residual's scale (pass fscale); try another damping schedule or initial guess."
    ),
    Status.DIVERGED: (
        "The iteration diverged (residual or |x| grew without bound). Use stronger damping "
        "(Constant(a<1), Adaptive, LineSearch), cap the step, or start closer to the root."
    ),
    Status.INVALID_INPUT: (
        "Invalid input: a starting point is not finite, or the residual returned an array of the "
        "wrong shape. Fix the input; nothing was solved."
    ),
    Status.CHECK_FAILED: (
        "The solver's stopping test was met, but the independent certificate of the returned state "
        "failed (see the result's certificate for the worst residual): the state is not a solution to "
        "the stated tolerance. Try a tighter solver tolerance, another initial guess or damping, or "
        "report it: a certificate failure is a solver bug until shown otherwise."
    ),
}


class StatusRows:
    """Mixin for batch results with a ``status`` array of codes: success, counts and len."""

    status: Any

    @property
    def success(self):
        """(N,) bool, True where the row converged."""
        return self.status == Status.CONVERGED

    def counts(self) -> dict[str, int]:
        """Number of rows per status name, e.g. ``{"CONVERGED": 9998, "MAX_ITER": 2}``."""
        return status_counts(self.status)

    def __len__(self) -> int:
        return int(self.status.shape[0])


def status_counts(status) -> dict[str, int]:
    """Number of entries per status name in an array of status codes, e.g. {"CONVERGED": 998, ...}."""
    import numpy as np

    vals, cnt = np.unique(np.asarray(status), return_counts=True)
    return {Status(int(v)).name: int(c) for v, c in zip(vals, cnt)}
