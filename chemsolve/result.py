"""Typed result objects with fixed fields, the same for every method."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .certificate import BatchCertificate, Certificate
from .damping import Damping
from .status import Status, StatusRows


@dataclass(frozen=True)
class History:
    """Per-iteration trace; entry 0 is the starting point (damping NaN, step 0).

    residual_norm : (nit + 1,) max|F/fscale| after each iteration [-]
    damping : (nit + 1,) damping factor actually used (after any backtracking) [-]
    step_norm : (nit + 1,) max|x_k - x_{k-1}| [units of x]
    """

    residual_norm: np.ndarray
    damping: np.ndarray
    step_norm: np.ndarray

    def __len__(self) -> int:
        return int(self.residual_norm.shape[0])

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "residual_norm": self.residual_norm.tolist(),
            "damping": self.damping.tolist(),
            "step_norm": self.step_norm.tolist(),
        }


@dataclass(frozen=True)
class SolveResult:
    """Outcome of ``chemsolve.solve``.

    x : (n,) solution, or the last iterate when ``success`` is False.
    success : True exactly when ``status is Status.CONVERGED``.
    status, message : why it stopped, and what to try next.
    nit, nfev, njev : iterations, residual and Jacobian evaluations (finite-difference
        evaluations count in ``nfev``).
    residual_norm : max|F(x)/fscale| at ``x``.
    certificate : the independent check of a converged ``x`` (``chemsolve.engine.certify``): the
        residual recomputed at x; a state that fails it has status CHECK_FAILED.
    """

    x: np.ndarray
    status: Status
    nit: int
    nfev: int
    njev: int
    residual_norm: float
    history: History
    method: str
    damping: Damping
    guess_source: str = "default"
    message: str = field(default="")
    advice: dict | None = None  # with an advisor: attempts, rejected suggestions, advisor time
    certificate: Certificate | None = None  # the independent check (None when not converged)

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", self.status.message)

    @property
    def success(self) -> bool:
        return self.status == Status.CONVERGED

    def __repr__(self) -> str:
        return (
            f"SolveResult(status={self.status.name}, nit={self.nit}, nfev={self.nfev}, "
            f"residual_norm={self.residual_norm:.3e}, method={self.method!r}, "
            f"damping={self.damping!r}, x={np.array2string(self.x, precision=6)})"
        )


@dataclass(frozen=True)
class BatchResult(StatusRows):
    """Outcome of ``chemsolve.solve_batch``: one row per problem.

    x : (N, n); status : (N,) int8 codes (compare with ``Status``); nit, nfev : (N,) int64;
    residual_norm : (N,) float64.
    """

    x: np.ndarray
    status: np.ndarray
    nit: np.ndarray
    nfev: np.ndarray
    residual_norm: np.ndarray
    method: str
    damping: Damping
    certificate: BatchCertificate | None = None  # per row: max|F/fscale| recomputed at x
