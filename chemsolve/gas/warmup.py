"""``warmup``: compile (first use on this machine) or load (later) every gas kernel at once, so that
an install step or ``chemsolve warmup`` pays the compilation instead of the first model run."""

from __future__ import annotations

import time

import numpy as np


def warmup() -> dict[str, float]:
    """Load or compile every compiled gas kernel: the equilibrium kernel with its certificate (one
    compiled form serves every mixture, mode, damping schedule and batch size) and the property
    kernels of the infeasible-target check. Needs Cantera (to read a small mixture: hydrogen and
    oxygen over liquid water). Returns the seconds each took (compiling: seconds to minutes on a
    cold numba cache; loading: well under one)."""
    from ..kernels import gas_certificate as kc  # noqa: PLC0415 - numba only when asked
    from .mixture import GasMixture  # noqa: PLC0415

    mix = GasMixture.from_cantera("h2o2.yaml", condensed=["nasa_condensed.yaml:H2O(L)"])
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    eq = mix.equilibrate(300.0, 101325.0, {"H2": 2.0, "O2": 1.0}, mode="HP")
    out["gas kernels"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    g, c = mix._gas, mix._cond
    nc = np.array([[eq.condensed[k] for k in mix.condensed_names]])
    one = np.empty(1)
    kc.property_batch(1, np.array([eq.T]), np.array([eq.P]), eq.X[None].copy(), eq.ln_X[None].copy(),
                      np.array([eq.moles]), nc, g.coeffs, g.bounds, g.nreg, g.lnpref, c.coeffs, c.bounds, c.nreg, one)
    x = mix._feed_rows({"H2": 2.0, "O2": 1.0})[None].copy()
    kc.feed_property_batch(1, x, np.array([300.0]), np.array([101325.0]), g.coeffs, g.bounds, g.nreg, g.lnpref, one)
    out["gas property kernels"] = time.perf_counter() - t0
    return out
