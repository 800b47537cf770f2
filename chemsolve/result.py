"""Typed result objects with fixed fields: one base for every model's single-state result
(``Result``) and one for every batch (``BatchResultBase``), and the engine's results.

Every result has ``status`` (a ``Status``, or for a batch an (N,) array of its codes), ``message``,
``success``, ``nit``, ``guess_source``, ``advice`` and ``certificate``, and converts with
``to_dict()`` (JSON-ready: arrays become lists, enums their names) and ``to_frame()`` (a pandas
DataFrame: one row for a single state, one row per state for a batch).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .certificate import BatchCertificate, Certificate
from .damping import Damping
from .status import Status, StatusRows


def _plain(v: Any) -> Any:
    """A JSON-ready form of a result field."""
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    for name in ("to_dict", "as_dict"):
        if callable(getattr(v, name, None)):
            return getattr(v, name)()
    return v


class Result:
    """Base of every single-state result (engine, aqueous, gas).

    Subclasses are frozen dataclasses with at least the fields ``status`` (``Status``),
    ``message``, ``nit``, ``guess_source``, ``advice`` and ``certificate``.
    """

    status: Status
    message: str
    nit: int
    guess_source: str
    advice: dict | None
    certificate: Certificate | None

    @property
    def success(self) -> bool:
        """True exactly when ``status`` is ``Status.CONVERGED`` (which implies a passed certificate)."""
        return self.status == Status.CONVERGED

    def to_dict(self) -> dict[str, Any]:
        """Every field in JSON-ready form (arrays as lists, the status by name), plus ``success``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        out["success"] = self.success
        return out

    def _frame_row(self) -> dict[str, Any]:
        """The columns of ``to_frame``: scalar fields, and dict fields flattened as ``field_key``."""
        row: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, enum.Enum):
                row[f.name] = v.name
            elif isinstance(v, (int, float, str, bool, np.floating, np.integer)):
                row[f.name] = v
            elif isinstance(v, dict) and f.name not in ("advice",) and all(
                    isinstance(x, (int, float, np.floating, np.integer)) for x in v.values()):
                row.update({f"{f.name}_{k}": x for k, x in v.items()})
        if self.certificate is not None:
            row["certified"] = self.certificate.passed
        return row

    def to_frame(self) -> Any:
        """A one-row pandas DataFrame of the scalar outputs (dict outputs as ``name_key`` columns)."""
        import pandas as pd

        return pd.DataFrame([self._frame_row()])


class BatchResultBase(StatusRows):
    """Base of every batch result: ``status`` (N,) codes, ``nit`` (N,), ``certificate`` (a
    ``BatchCertificate``), ``counts()``, ``success`` (N,), ``len``, ``row(i)``, ``to_frame()``."""

    nit: np.ndarray
    certificate: BatchCertificate | None
    guess_source: str
    advice: dict | None

    def row(self, i: int) -> Result:  # pragma: no cover - every batch class defines it
        raise NotImplementedError

    def _frame_columns(self) -> dict[str, Any]:
        """Columns of ``to_frame``: every (N,) array field; subclasses add their (N, k) arrays."""
        n = len(self)
        cols: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.ndim == 1 and v.shape[0] == n:
                cols[f.name] = v
        cols["status"] = [Status(int(c)).name for c in self.status]
        if self.certificate is not None:
            cols["certified"] = self.certificate.passed
        return cols

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per state."""
        import pandas as pd

        return pd.DataFrame(self._frame_columns())

    def to_dict(self) -> dict[str, Any]:
        """Every field in JSON-ready form (arrays as lists), plus ``counts``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        out["counts"] = self.counts()
        return out


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
class SolveResult(Result):
    """Outcome of ``chemsolve.solve``.

    Attributes
    ----------
    x
        (n,) solution, or the last iterate when ``success`` is False.
    status, message
        why it stopped, and what to try next (``success`` is True exactly when status is CONVERGED).
    nit, nfev, njev
        iterations, residual and Jacobian evaluations (finite-difference
        evaluations count in ``nfev``).
    residual_norm
        max|F(x)/fscale| at ``x``.
    certificate
        the independent check of a converged ``x`` (``chemsolve.engine.certify``): the
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

    def _frame_row(self) -> dict[str, Any]:
        row = super()._frame_row()
        row.update({f"x{i}": v for i, v in enumerate(self.x.tolist())})
        return row

    def __repr__(self) -> str:
        return (
            f"SolveResult(status={self.status.name}, nit={self.nit}, nfev={self.nfev}, "
            f"residual_norm={self.residual_norm:.3e}, method={self.method!r}, "
            f"damping={self.damping!r}, x={np.array2string(self.x, precision=6)})"
        )


@dataclass(frozen=True)
class BatchResult(BatchResultBase):
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
    guess_source: str = "default"
    advice: dict | None = None

    def row(self, i: int) -> SolveResult:
        """Problem ``i`` as a ``SolveResult`` (no history: the batch kernel keeps none)."""
        st = Status(int(self.status[i]))
        cert = self.certificate.row(i) if self.certificate is not None else None
        empty = History(np.array([float(self.residual_norm[i])]), np.array([math.nan]), np.array([0.0]))
        return SolveResult(self.x[i].copy(), st, int(self.nit[i]), int(self.nfev[i]), 0, float(self.residual_norm[i]),
                           empty, self.method, self.damping, self.guess_source, "", None,
                           cert if cert is not None and cert.checks else None)

    def _frame_columns(self) -> dict[str, Any]:
        cols = super()._frame_columns()
        cols.update({f"x{j}": self.x[:, j] for j in range(self.x.shape[1])})
        return cols
