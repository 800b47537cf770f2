"""The reactor's user rate laws over the cells, compiled (``reactor.kinetics.UserRate``)."""

from __future__ import annotations

import numba as nb


@nb.njit(cache=True)
def user_rates(f, m, m0, T, LA, SI, params, out):  # pragma: no cover - compiled
    """out[r] = f(m[r], m0[r], T[r], LA[r], SI[r], params) for every cell r (f: a numba function)."""
    for r in range(m.shape[0]):
        out[r] = f(m[r], m0[r], T[r], LA[r], SI[r], params)
