"""Pressure-enthalpy and pressure-entropy flashes: the temperature at which the (T, P) flash of the feed has
the requested molar H or S.

H(T) and S(T) at fixed P increase with T (heat capacities are positive; across a phase boundary they
have kinks, not jumps, for a mixture), so one equation in one unknown with a bracket: secant steps
(the first one scaled by the ideal-gas heat capacity), kept inside the bracket once the root is
bracketed and replaced by bisection when they do not shrink it fast enough (Brent's safeguard idea,
Brent 1973, "Algorithms for minimization without derivatives", ch. 4). Each evaluation is a (T, P) flash
(``flash_tp.tp_row``) started from the K-values of the previous evaluation when it split; the answer's
temperature is flashed once more cold (stability analysis first) to confirm its phase split.

A pure component (n = 1) has a jump of H at its saturation temperature: when the bracket closes on it,
the answer is the two-phase state at that temperature with the vapour fraction of the lever rule.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import CONVERGED, INVALID_INPUT, MAX_ITER, STAGNATED
from .flash_eos import R, lnphi, t_params
from .flash_layout import (
    C_CP0,
    C_TC,
    FO_E_TOL,
    FO_T_MAX,
    FO_T_MIN,
    ROOT_LIQUID,
    ROOT_VAPOUR,
    ST_BETA,
    ST_H,
    ST_LABEL,
    ST_NIT,
    ST_NOUTER,
    ST_P,
    ST_PHASES,
    ST_S,
    ST_T,
    ST_ZL,
    ST_ZV,
)
from .flash_props import phase_hs, state_hs
from .flash_tp import M_AIJ, M_DAIJ, V_AUX, V_PSI, V_ZN, tp_row, workspace

SPEC_PH = 1
SPEC_PS = 2
_MAX_OUTER = 100

# Flags and small integers passed to other kernels are read from these arrays, so that numba types them
# as runtime int64 / bool: a literal argument (True, 0, ROOT_MIN_G) would compile one more
# specialisation of the callee per distinct value.
_K = np.arange(8, dtype=np.int64)
_B = np.array([False, True])


@njit(cache=True, error_model="numpy")
def _cp_ig(T, comp, z):
    """Ideal-gas heat capacity of the feed [J/mol/K] (the scale of the first step)."""
    c = 0.0
    for i in range(z.shape[0]):
        t = 1.0
        for k in range(5):
            c += z[i] * comp[C_CP0 + k, i] * t
            t *= T
    return R * max(c, 1.0)


@njit(cache=True, error_model="numpy")
def _evaluate(spec, target, T, P, z, lnk, warm, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st):
    """A (T, P) flash and the residual H - target (or S - target); returns (code, residual)."""
    code = tp_row(T, P, z, lnk, warm, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st)
    if code != CONVERGED:
        return code, np.nan
    h, s = state_hs(T, P, wv[V_ZN], x, y, st[ST_BETA], st[ST_ZL], st[ST_ZV], int(st[ST_PHASES]), wm[M_AIJ],
                    wm[M_DAIJ], comp, eosp, wv[V_PSI], wv[V_AUX], lu[0])
    st[ST_H] = h
    st[ST_S] = s
    return code, (h if spec == SPEC_PH else s) - target


@njit(cache=True, error_model="numpy")
def spec_row(spec, target, T0, P, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st):
    """The P-H (spec 1) or P-S (spec 2) flash of feed z at P [Pa] holding H [J/mol] or S [J/mol/K] =
    target; T0: the first temperature (NaN: from the feed's pseudo-critical temperature). lnk (in/out):
    a start when finite. Returns a status code; st[ST_T] holds the temperature."""
    n = z.shape[0]
    lo = fopt[FO_T_MIN]
    hi = fopt[FO_T_MAX]
    if not (P > 0.0 and P < np.inf and math.isfinite(target)):
        return INVALID_INPUT
    sz = 0.0
    tpc = 0.0
    for i in range(n):
        if not (z[i] >= 0.0 and z[i] < np.inf):
            return INVALID_INPUT
        sz += z[i]
        tpc += z[i] * comp[C_TC, i]
    if sz <= 0.0:
        return INVALID_INPUT
    tpc /= sz
    etol = fopt[FO_E_TOL]
    T = T0 if (T0 >= lo and T0 <= hi) else min(max(tpc, lo), hi)
    warm = True
    for i in range(n):
        if not math.isfinite(lnk[i]):
            warm = False
    if warm:
        s = 0.0
        for i in range(n):
            s += lnk[i] * lnk[i]
        warm = s > 0.0
    nflash = 0
    code, f = _evaluate(spec, target, T, P, z, lnk, warm, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y,
                        st)
    nflash += 1
    nit = st[ST_NIT]
    if code != CONVERGED:
        return code
    # bracket: a (f < 0) and b (f > 0)
    a = -np.inf
    b = np.inf
    Tp = np.nan  # the previous point of the secant
    fp = np.nan
    confirmed = False
    result = MAX_ITER
    for _it in range(_MAX_OUTER):
        scale = max(abs(target), R * T) if spec == SPEC_PH else max(abs(target), R)
        if f < 0.0:
            a = T
        elif f > 0.0:
            b = T
        if abs(f) <= etol * scale:
            if confirmed:
                result = CONVERGED
                break
            # confirm the split at this temperature by a cold flash (stability analysis first)
            beta_w = st[ST_BETA]
            ph_w = st[ST_PHASES]
            code, f = _evaluate(spec, target, T, P, z, lnk, _B[0], comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu,
                                hist, x, y, st)
            nflash += 1
            nit += st[ST_NIT]
            if code != CONVERGED:
                result = code
                break
            confirmed = True
            if st[ST_PHASES] == ph_w and abs(st[ST_BETA] - beta_w) <= 1e-9:
                if abs(f) <= etol * scale:
                    result = CONVERGED
                    break
            continue
        # next temperature
        if math.isfinite(a) and math.isfinite(b):
            if b - a <= 1e-12 * T:
                if n == 1:
                    result = _lever(spec, target, 0.5 * (a + b), P, z, comp, kij, eosp, wv, wm, lu, x, y, st)
                else:
                    result = STAGNATED
                break
            Tn = np.nan
            if math.isfinite(Tp) and fp != f:
                Tn = T - f * (T - Tp) / (f - fp)
            # inside the bracket and shrinking it to at most 0.8 of its width, else bisection
            if not (Tn > a and Tn < b) or (abs(Tn - T) > 0.4 * (b - a)):
                Tn = 0.5 * (a + b)
            # regula-falsi guard: a point stuck at one end pulls the other end in
            if math.isfinite(Tn) and (Tn - a < 1e-3 * (b - a) or b - Tn < 1e-3 * (b - a)):
                Tn = 0.5 * (a + b)
        else:
            if math.isfinite(Tp) and fp != f and (f - fp) * (T - Tp) > 0.0:
                Tn = T - f * (T - Tp) / (f - fp)
            else:
                c = _cp_ig(T, comp, wv[V_ZN])
                if spec == SPEC_PS:
                    c /= T
                Tn = T - f / c
            # unbracketed: at most a 30 % change per step, inside the bounds
            Tn = min(max(Tn, 0.7 * T), 1.3 * T)
            if f > 0.0 and math.isfinite(a):
                Tn = max(Tn, a)
            if f < 0.0 and math.isfinite(b):
                Tn = min(Tn, b)
            if Tn < lo:
                if T <= lo:
                    result = STAGNATED  # the target lies below H(T_min)
                    break
                Tn = lo
            if Tn > hi:
                if T >= hi:
                    result = STAGNATED  # above H(T_max)
                    break
                Tn = hi
        Tp = T
        fp = f
        warm2 = st[ST_PHASES] == 2.0
        T = Tn
        confirmed = False
        code, f = _evaluate(spec, target, T, P, z, lnk, warm2, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x,
                            y, st)
        nflash += 1
        nit += st[ST_NIT]
        if code != CONVERGED:
            result = code
            break
    st[ST_T] = T
    st[ST_P] = P
    st[ST_NIT] = nit
    st[ST_NOUTER] = nflash
    return result


@njit(cache=True, error_model="numpy")
def _lever(spec, target, T, P, z, comp, kij, eosp, wv, wm, lu, x, y, st):
    """A pure component at its saturation temperature T: liquid and vapour roots of the same composition,
    the vapour fraction from the lever rule on H (or S)."""
    n = z.shape[0]
    zn = wv[V_ZN]
    t_params(T, comp, kij, wm[M_AIJ], wm[M_DAIJ])
    zl = lnphi(zn, T, P, wm[M_AIJ], comp, eosp, _K[ROOT_LIQUID], wv[V_PSI], wv[V_AUX])
    zv = lnphi(zn, T, P, wm[M_AIJ], comp, eosp, _K[ROOT_VAPOUR], wv[V_PSI], wv[V_AUX])
    if not (math.isfinite(zl) and math.isfinite(zv)) or zv - zl <= 1e-9 * zv:
        return STAGNATED
    hl, sl = phase_hs(zn, T, P, zl, wm[M_AIJ], wm[M_DAIJ], comp, eosp, wv[V_PSI], lu[0])
    hv, sv = phase_hs(zn, T, P, zv, wm[M_AIJ], wm[M_DAIJ], comp, eosp, wv[V_PSI], lu[0])
    if spec == SPEC_PH:
        beta = (target - hl) / (hv - hl)
    else:
        beta = (target - sl) / (sv - sl)
    if not (beta >= 0.0 and beta <= 1.0):
        return STAGNATED
    for i in range(n):
        x[i] = zn[i]
        y[i] = zn[i]
    st[ST_BETA] = beta
    st[ST_ZL] = zl
    st[ST_ZV] = zv
    st[ST_PHASES] = 2.0
    st[ST_LABEL] = 2.0
    st[ST_H] = (1.0 - beta) * hl + beta * hv
    st[ST_S] = (1.0 - beta) * sl + beta * sv
    st[ST_T] = T
    return CONVERGED


@njit(cache=True, nogil=True, error_model="numpy")
def spec_rows(lo, hi, spec, target, T0, P, Z, lnK, start, comp, kij, eosp, fopt, dkind, dpar, sweep, X, Y, st,
              status):
    """P-H (spec 1) or P-S (spec 2) flash of rows lo..hi-1 (its own workspace; the GIL released); T0 (N,) first
    temperatures (NaN: estimated); lnK (N, n) starts where start[r] == 1. With ``sweep``, a row starts from the
    answer (T and K) of the row before it (from lo on)."""
    n = Z.shape[1]
    wv, wm, lu, hist = workspace(n)
    for r in range(lo, hi):
        t0 = T0[r]
        if start[r] == 0:
            if sweep == 1 and r > lo and status[r - 1] == CONVERGED:
                for i in range(n):
                    lnK[r, i] = lnK[r - 1, i]
                t0 = st[r - 1, ST_T]
            else:
                for i in range(n):
                    lnK[r, i] = np.nan
        status[r] = spec_row(spec, target[r], t0, P[r], Z[r], lnK[r], comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu,
                             hist, X[r], Y[r], st[r])
