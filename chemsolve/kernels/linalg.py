"""Small dense linear algebra that never raises (numba kernels).

``np.linalg.solve`` raises on a singular matrix, which a kernel running inside ``prange``
must never do; these routines return a flag instead.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import numpy as np
from numba import njit

_EPS = np.finfo(np.float64).eps


@njit(cache=True)
def lu_solve(a, b, work, out):
    """Solve ``a @ out = b`` by Gaussian elimination with partial pivoting.

    a : (n, n) float64, not modified. b : (n,) float64, not modified.
    work : (n, n + 1) float64 scratch. out : (n,) float64, the solution.
    Returns 0 on success, 1 when a pivot falls below ``n * eps * max|a|`` (numerically
    singular) or the matrix holds non-finite values.
    """
    n = a.shape[0]
    amax = 0.0
    for i in range(n):
        for j in range(n):
            v = a[i, j]
            if not np.isfinite(v):
                return 1
            work[i, j] = v
            if abs(v) > amax:
                amax = abs(v)
        work[i, n] = b[i]
    if amax == 0.0:
        return 1
    tiny = n * _EPS * amax
    for k in range(n):
        piv = k
        pmax = abs(work[k, k])
        for i in range(k + 1, n):
            if abs(work[i, k]) > pmax:
                pmax = abs(work[i, k])
                piv = i
        if pmax <= tiny:
            return 1
        if piv != k:
            for j in range(k, n + 1):
                t = work[k, j]
                work[k, j] = work[piv, j]
                work[piv, j] = t
        inv = 1.0 / work[k, k]
        for i in range(k + 1, n):
            f = work[i, k] * inv
            if f != 0.0:
                for j in range(k + 1, n + 1):
                    work[i, j] -= f * work[k, j]
    for i in range(n - 1, -1, -1):
        s = work[i, n]
        for j in range(i + 1, n):
            s -= work[i, j] * out[j]
        out[i] = s / work[i, i]
    for i in range(n):
        if not np.isfinite(out[i]):
            return 1
    return 0


@njit(cache=True)
def regularized_solve(a, b, mu_rel, work, normal, rhs, out):
    """Least-squares step ``min |a x - b|^2 + mu |x|^2`` (Levenberg-Marquardt regularisation).

    Solves ``(a^T a + mu I) out = a^T b`` with ``mu = mu_rel * max(diag(a^T a))``; used when
    ``a`` is singular. normal : (n, n) scratch, rhs : (n,) scratch. Returns 0 or 1 (failed).
    """
    n = a.shape[0]
    dmax = 0.0
    for i in range(n):
        s = 0.0
        for k in range(a.shape[0]):
            s += a[k, i] * b[k]
        rhs[i] = s
        for j in range(n):
            s = 0.0
            for k in range(a.shape[0]):
                s += a[k, i] * a[k, j]
            normal[i, j] = s
        if normal[i, i] > dmax:
            dmax = normal[i, i]
    if not (dmax > 0.0) or not np.isfinite(dmax):
        return 1
    mu = mu_rel * dmax
    for i in range(n):
        normal[i, i] += mu
    return lu_solve(normal, rhs, work, out)


@njit(cache=True)
def anderson_coefficients(dr, m, r, lam_rel, normal, rhs, work, gamma):
    """Anderson mixing weights ``gamma = argmin |r - dr[:, :m] gamma|`` (Tikhonov-regularised
    normal equations). dr : (n, M) residual differences, first m columns used. Returns 0/1."""
    n = r.shape[0]
    tr = 0.0
    for i in range(m):
        s = 0.0
        for k in range(n):
            s += dr[k, i] * r[k]
        rhs[i] = s
        for j in range(m):
            s = 0.0
            for k in range(n):
                s += dr[k, i] * dr[k, j]
            normal[i, j] = s
        tr += normal[i, i]
    if not (tr > 0.0) or not np.isfinite(tr):
        return 1
    lam = lam_rel * tr / m
    for i in range(m):
        normal[i, i] += lam
    return lu_solve(normal[:m, :m], rhs[:m], work[:m, : m + 1], gamma[:m])
