"""The cold start of the gas kernels: a linear programme (equilibrium without the entropy of
mixing, the low-temperature limit) solved by a dense two-phase simplex."""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

import numpy as np
from numba import njit


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _simplex(tab, basis, m, nenter, maxit):
    """Dantzig simplex on tableau ``tab`` ((m + 1) x W, objective in row m, rhs in column W - 1);
    only columns < nenter may enter. Returns 0 optimal, 1 unbounded, 2 iteration limit."""
    W = tab.shape[1]
    for _ in range(maxit):
        q = -1
        best = -1e-10
        for k in range(nenter):
            if tab[m, k] < best:
                best = tab[m, k]
                q = k
        if q < 0:
            return 0
        r = -1
        bestr = np.inf
        for i in range(m):
            a = tab[i, q]
            if a > 1e-12:
                ratio = tab[i, W - 1] / a
                if ratio < bestr:
                    bestr = ratio
                    r = i
        if r < 0:
            return 1
        piv = tab[r, q]
        for k in range(W):
            tab[r, k] /= piv
        for i in range(m + 1):
            if i != r:
                f = tab[i, q]
                if f != 0.0:
                    for k in range(W):
                        tab[i, k] -= f * tab[r, k]
        basis[r] = q
    return 2


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def lp_start(lnP, A, g, lnpref, gon, Ac, cg, allowed, b, eon, lnn, nc, cact, pi):
    """Cold start from the linear programme min sum_j mu0_j n_j s.t. A^T n = b, n >= 0.

    This is equilibrium without the entropy of mixing (the low-temperature limit): its basic
    species are the major species, and its duals are element potentials for which every other
    species gets x_j = exp(-reduced cost_j) <= 1 (capped at 1e-3). Returns ln N of the start,
    or NaN when the programme fails (the caller then falls back to CEA's equal amounts).
    """
    ng = A.shape[0]
    ne = A.shape[1]
    ncs = Ac.shape[0]
    m = np.int64(0)  # not the literal 0: numba would compile _simplex for (0, 0) as well
    for i in range(ne):
        if eon[i]:
            m += 1
    cols = np.empty(ng + ncs, dtype=np.int64)  # >= 0 gas index, < 0: -(c + 1) condensed
    ncol = np.int64(0)
    for j in range(ng):
        if gon[j]:
            cols[ncol] = j
            ncol += 1
    for c in range(ncs):
        if allowed[c]:
            cols[ncol] = -(c + 1)
            ncol += 1
    W = ncol + m + 1
    tab = np.zeros((m + 1, W))
    cost = np.empty(ncol)
    sign = np.empty(m)
    eidx = np.empty(m, dtype=np.int64)
    basis = np.empty(m, dtype=np.int64)
    r = 0
    for i in range(ne):
        if not eon[i]:
            continue
        eidx[r] = i
        sign[r] = -1.0 if b[i] < 0.0 else 1.0
        for q in range(ncol):
            col = cols[q]
            a = A[col, i] if col >= 0 else Ac[-col - 1, i]
            tab[r, q] = sign[r] * a
        tab[r, ncol + r] = 1.0
        tab[r, W - 1] = sign[r] * b[i]
        basis[r] = ncol + r
        r += 1
    for q in range(ncol):
        col = cols[q]
        cost[q] = g[col] + lnP - lnpref[col] if col >= 0 else cg[-col - 1]
    # phase 1: minimise the sum of the artificials
    for k in range(W):
        acc = 0.0
        if k < ncol or k == W - 1:
            for i in range(m):
                acc -= tab[i, k]
        tab[m, k] = acc
    if _simplex(tab, basis, m, ncol, 20 * (m + ncol)) != 0:
        return np.nan
    bsum = 0.0
    for i in range(m):
        bsum += abs(tab[i, W - 1])
    if -tab[m, W - 1] > 1e-9 * max(bsum, 1e-300):
        return np.nan
    # phase 2: the chemical costs; artificials may not re-enter
    for k in range(W):
        ck = cost[k] if k < ncol else 0.0
        if k == W - 1:
            ck = 0.0
        acc = ck
        for i in range(m):
            bk = basis[i]
            cb = cost[bk] if bk < ncol else 0.0
            acc -= cb * tab[i, k]
        tab[m, k] = acc
    if _simplex(tab, basis, m, ncol, 20 * (m + ncol)) != 0:
        return np.nan
    # duals: the reduced cost of artificial r is -y'_r; y_i = sign_r * y'_r
    for i in range(ne):
        pi[i] = 0.0
    for r in range(m):
        pi[eidx[r]] = -sign[r] * tab[m, ncol + r]
    N0 = 0.0
    for r in range(m):
        bk = basis[r]
        if bk < ncol and cols[bk] >= 0:
            N0 += max(tab[r, W - 1], 0.0)
    if not (N0 > 0.0):
        N0 = 1e-6 * bsum
    lnN0 = math.log(N0)
    lncap = math.log(1e-3)
    for j in range(ng):
        if not gon[j]:
            lnn[j] = -np.inf
            continue
        rc = g[j] + lnP - lnpref[j]
        for i in range(ne):
            if A[j, i] != 0.0 and eon[i]:
                rc -= A[j, i] * pi[i]
        lnn[j] = lnN0 + min(-rc, lncap)
    for c in range(ncs):
        cact[c] = False
        nc[c] = 0.0
    for r in range(m):
        bk = basis[r]
        if bk >= ncol:
            continue
        amt = tab[r, W - 1]
        col = cols[bk]
        if col >= 0:
            lnn[col] = math.log(max(amt, 1e-10 * N0))
        elif amt > 0.0:
            cact[-col - 1] = True
            nc[-col - 1] = amt
    return lnN0
