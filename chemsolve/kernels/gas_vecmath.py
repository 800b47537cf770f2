"""Vector maths of the gas kernels: sums over the active species (element rows, Gram matrix,
balances), potentials added to ln n, a vectorised exp, and element totals of a feed.

The sums are compiled with reassociation allowed so that they vectorise (only the order of the
additions changes); ``vexp`` only contracts (fused multiply-add) and stays within 1 ulp of exp.
NaN and inf checks stay in every one of them.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

import numpy as np
from numba import njit

LN_TINY = -745.0  # ln of the smallest positive double (denormal); below: exp() is 0

# the sums over species that build the Newton matrix and the final check are dot products over
# the active species (dense formula rows ``Ad``, one per active element)
_FM = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FM, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def row_sums(Ad, p, nact, nt, d, e, w):
    """For element row p: sum_t a_pt n_t, sum_t a_pt n_t (1 + d_t), sum_t a_pt n_t e_t and
    sum_t a_pt w_t over the active species (absent ones, n_t = 0, contribute nothing)."""
    s_n = 0.0
    s_nd = 0.0
    s_ne = 0.0
    s_w = 0.0
    for t in range(nact):
        a = Ad[p, t]
        na = a * nt[t]
        s_n += na
        s_nd += na * (1.0 + d[t]) if na != 0.0 else 0.0
        s_ne += na * e[t]
        s_w += a * w[t]
    return s_n, s_nd, s_ne, s_w


@njit(cache=True, fastmath=_FM, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def gram(Ad, p, q, nact, nt):
    """sum_t a_pt a_qt n_t over the active species."""
    acc = 0.0
    for t in range(nact):
        acc += Ad[p, t] * Ad[q, t] * nt[t]
    return acc


@njit(cache=True, fastmath=_FM, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def balance(Ad, q, nact, nt):
    """Element q carried by the gas: sum_t a_qt n_t, and the scale sum_t |a_qt| n_t."""
    acc = 0.0
    sc = 0.0
    for t in range(nact):
        v = Ad[q, t] * nt[t]
        acc += v
        sc += abs(v)
    return acc, sc


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def add_potentials(Ad, m, nact, sol, out):
    """out_t += sum_q a_qt sol_q (q < m), q by q: the same additions, in the same order, as
    over the nonzero entries alone (the others add an exact zero)."""
    for q in range(m):
        sq = sol[q]
        for t in range(nact):
            out[t] += Ad[q, t] * sq


# exp of the ln amounts of all active species at once, in a loop that vectorises: x = k ln 2 + r
# with |r| <= ln 2 / 2 (Cody-Waite), exp(r) from its Taylor series to r**13 (truncation below
# 5e-18 relative), and 2**k written into the exponent bits. Within 1 ulp of math.exp over the
# whole double range (tests/test_gas.py checks it); 0 at or below LN_TINY, as everywhere else.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_EXP_MAX = 709.782712893384  # ln of the largest double: above, exp overflows
_TWO_100 = 1.2676506002282294e30  # 2**100, to keep the assembled 2**k a normal number


@njit(cache=True, fastmath={"contract"})
def vexp(x, out, bits, k):
    """out[t] = exp(x[t]) for t < k (0 where x[t] <= LN_TINY or NaN, inf above _EXP_MAX).
    bits : float64 scratch of length >= k (holds 2**k)."""
    ib = bits.view(np.int64)
    for t in range(k):
        v = x[t]
        if not (v > -745.5):
            v = -745.5
        if v > 709.79:
            v = 709.79
        kf = math.floor(v * _LOG2E + 0.5)
        r = v - kf * _LN2_HI
        r = r - kf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        # 2**k = 2**ka * 2**(k - ka) with 2**ka a normal double; a subnormal result is rounded
        # once, in the last product
        ka = kf
        if kf < -1000.0:
            ka = kf + 100.0
            p = p / _TWO_100
        elif kf > 1000.0:
            ka = kf - 100.0
            p = p * _TWO_100
        ib[t] = (np.int64(ka) + 1023) << 52
        out[t] = p
    for t in range(k):
        xt = x[t]
        res = out[t] * bits[t] if xt > LN_TINY else 0.0
        out[t] = math.inf if xt > _EXP_MAX else res


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def element_totals(x, A, Ax_out):
    """Element amounts [mol per mol of feed] of a feed of mole fractions x: ``A.T @ x``."""
    ne = A.shape[1]
    for i in range(ne):
        Ax_out[i] = 0.0
    for j in range(x.shape[0]):
        if x[j] != 0.0:
            for i in range(ne):
                Ax_out[i] += A[j, i] * x[j]
