"""The phase envelope of one feed (``Mixture.envelope``): the continuation kernel
(``kernels.flash_sat.envelope_trace``, Michelsen 1980) and its result object."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..status import Status
from .options import FlashOptions
from .results import Envelope

__all__ = ["trace"]

_MESSAGES = {
    Status.CONVERGED: "Traced from the dew point at P_start through the critical point to the bubble point at P_start.",
    Status.MAX_ITER: "Stopped after max_points points before the curve came back to P_start; raise max_points.",
    Status.STAGNATED: ("The continuation could not go on (Newton failed at ever smaller steps, or T/P left "
                       "FlashOptions' T_bounds / P_bounds); the points so far are returned."),
    Status.SINGULAR: "The envelope system was singular at a point; the points so far are returned.",
    Status.NONFINITE: "The equation of state failed at a point; the points so far are returned.",
}


def trace(mix: Any, z: np.ndarray, P_start: float, max_points: int, step: float, opts: FlashOptions) -> Envelope:
    from ..errors import InvalidInputError
    from ..kernels import first_use
    from ..kernels import flash_sat as k

    if not (math.isfinite(P_start) and P_start > 0):
        raise InvalidInputError(f"envelope: P_start={P_start!r} must be a positive pressure [Pa]")
    if not (10 <= max_points <= 100000):
        raise InvalidInputError(f"envelope: max_points={max_points!r} must lie in [10, 100000]")
    if not (0.0 < step <= 1.0):
        raise InvalidInputError(f"envelope: step={step!r} must lie in (0, 1] (a change of ln P)")
    fopt, _, _ = opts.pack()
    T = np.full(max_points, np.nan)
    P = np.full(max_points, np.nan)
    lnK = np.full((max_points, mix.n), np.nan)
    kind = np.zeros(max_points, dtype=np.int8)
    info = np.zeros(6)
    with first_use("the phase-envelope kernel", k.envelope_trace):
        k.envelope_trace(np.ascontiguousarray(z, dtype=np.float64), float(P_start), float(step), int(max_points),
                         mix._comp, mix.kij, mix._eosp, fopt, T, P, lnK, kind, info)
    m = int(info[1])
    st = Status(int(info[0]))
    T, P, lnK, kind = T[:m], P[:m], lnK[:m], kind[:m]
    crit = {"T": float(info[2]), "P": float(info[3])}
    ib = int(np.argmax(P)) if m else 0
    it = int(np.argmax(T)) if m else 0
    return Envelope(z.copy(), T, P, tuple("dew" if v == 0 else "bubble" for v in kind), lnK, crit,
                    {"T": float(T[ib]) if m else math.nan, "P": float(P[ib]) if m else math.nan},
                    {"T": float(T[it]) if m else math.nan, "P": float(P[it]) if m else math.nan}, st,
                    _MESSAGES.get(st, st.message), int(info[4]), mix.names)
