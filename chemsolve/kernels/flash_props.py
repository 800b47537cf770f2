"""Molar enthalpy and entropy of a flashed state (ideal gas + cubic-EOS departures), for the outputs of
every flash kernel and the energy balance of P-H / P-S flashes.

H = sum_phases f_p [sum_i w_i H_i^ig(T) + H^r_p - P sum_i w_i c_i],
S = sum_phases f_p [sum_i w_i (S_i^ig(T) - R ln w_i) - R ln(P / P_REF) + S^r_p],
with f_p the phase mole fractions, H^ig = 0 and S^ig = 0 at T_REF (and P_REF), c_i the Péneloux shift
(a constant shift changes G by -P sum x_i c_i and H alike, S not). Departures: ``flash_eos.departures``.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .flash_eos import R, departures, ideal_h_s, lnphi
from .flash_layout import C_SHIFT, P_REF, ROOT_MIN_G

_K = np.arange(3, dtype=np.int64)  # runtime ints for callees (no literal specialisations)


@njit(cache=True, error_model="numpy")
def phase_hs(w, T, P, Z, aij, daij, comp, eosp, psi, out2):
    """(H [J/mol], S [J/mol/K]) of one phase of composition w on root Z."""
    n = w.shape[0]
    ideal_h_s(T, comp, w, out2)
    hr, sr = departures(w, T, P, Z, aij, daij, comp, eosp, psi)
    h = out2[0] + hr
    s = out2[1] + sr - R * math.log(P / P_REF)
    for i in range(n):
        if w[i] > 0.0:
            s -= R * w[i] * math.log(w[i])
            h -= P * w[i] * comp[C_SHIFT, i]
    return h, s


@njit(cache=True, error_model="numpy")
def state_hs(T, P, z, x, y, beta, zl, zv, phases, aij, daij, comp, eosp, psi, aux, out2):
    """(H, S) of a state: two phases x, y (fraction beta of y) or, for phases == 1, the feed z."""
    if phases == 2:
        hl, sl = phase_hs(x, T, P, zl, aij, daij, comp, eosp, psi, out2)
        hv, sv = phase_hs(y, T, P, zv, aij, daij, comp, eosp, psi, out2)
        return (1.0 - beta) * hl + beta * hv, (1.0 - beta) * sl + beta * sv
    Z = lnphi(z, T, P, aij, comp, eosp, _K[ROOT_MIN_G], psi, aux)
    if not math.isfinite(Z):
        return np.nan, np.nan
    return phase_hs(z, T, P, Z, aij, daij, comp, eosp, psi, out2)
