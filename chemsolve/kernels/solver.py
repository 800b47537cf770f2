"""The solver loop: damped Newton, relaxation and Anderson mixing, for one problem or a batch.

``solve_core`` is generic in the residual: numba specialises it for each jitted residual it
is handed (that compilation is per process, because the cache key holds the function's
identity), and ``chemsolve.solve`` runs the very same source as plain Python (``py_func``)
for a residual that is not jitted. Helpers that only take arrays are ``cache=True``.

Kernels never raise: every failure is a status code from ``codes``.
"""

import numpy as np
from numba import njit, prange

from .codes import (
    CONVERGED,
    DAMP_ADAPTIVE,
    DAMP_LINESEARCH,
    DAMP_RAMP,
    DIVERGED,
    INVALID_INPUT,
    LINE_SEARCH_FAILED,
    MAX_ITER,
    METHOD_ANDERSON,
    METHOD_NEWTON,
    NONFINITE,
    OPT_ANDERSON_M,
    OPT_ATOL,
    OPT_DIVERGE,
    OPT_FD_STEP,
    OPT_FTOL,
    OPT_MAX_BACKTRACK,
    OPT_MAX_ITER,
    OPT_MAX_REL_STEP,
    OPT_MAX_STEP,
    OPT_RTOL,
    OPT_STALL,
    SINGULAR,
    STAGNATED,
)
from .linalg import anderson_coefficients, lu_solve, regularized_solve

_X_LIMIT = 1e150  # |x| beyond this is reported as DIVERGED
_LM_MU = 1e-10  # relative Levenberg-Marquardt shift used on a singular Jacobian
_ANDERSON_LAMBDA = 1e-12  # relative Tikhonov term of the Anderson least squares
_STALL_DECREASE = 1e-6  # a new best residual must beat the old one by this fraction
_SMALL_STEPS = 3  # consecutive tiny steps (< atol + rtol|x|) that barely reduce the residual -> STAGNATED


@njit(cache=True)
def scaled_norm(f, fscale):
    """max_i |f_i| / fscale_i, or NaN when any f_i is not finite."""
    m = 0.0
    for i in range(f.shape[0]):
        v = f[i]
        if not np.isfinite(v):
            return np.nan
        v = abs(v) / fscale[i]
        if v > m:
            m = v
    return m


@njit(cache=True)
def half_sq_norm(f, fscale):
    """0.5 * sum_i (f_i / fscale_i)^2, the merit function of the line search."""
    s = 0.0
    for i in range(f.shape[0]):
        v = f[i] / fscale[i]
        s += v * v
    return 0.5 * s


@njit(cache=True)
def _no_jacobian(x, *args):
    """Placeholder handed to ``solve_core`` when the Jacobian is taken by finite differences."""
    return np.zeros((x.shape[0], x.shape[0]))


@njit
def solve_core(fun, jac, has_jac, x0, args, method, dkind, dpar, opts, fscale, x, hist):
    """Solve one problem from ``x0``; the solution (or last iterate) is written to ``x``.

    fun(x, *args) -> (n,): F(x) for Newton, G(x) for the fixed-point methods.
    jac(x, *args) -> (n, n): dF/dx, used when ``has_jac``; otherwise forward differences.
    method : codes.METHOD_*. dkind, dpar : damping kind and its parameters (codes.DAMP_*).
    opts : (N_OPTS,) float64 options (codes.OPT_*). fscale : (n,) residual scales.
    hist : (H, 3) float64; row k holds (residual norm, damping used, step norm) of iteration k
    for k < H (H = 0 records nothing).
    Returns (status, nit, nfev, njev, residual_norm).
    """
    n = x0.shape[0]
    ftol = opts[OPT_FTOL]
    rtol = opts[OPT_RTOL]
    atol = opts[OPT_ATOL]
    max_iter = int(opts[OPT_MAX_ITER])
    max_step = opts[OPT_MAX_STEP]
    max_rel_step = opts[OPT_MAX_REL_STEP]
    depth = int(opts[OPT_ANDERSON_M])
    diverge = opts[OPT_DIVERGE]
    stall_max = int(opts[OPT_STALL])
    fd_rel = opts[OPT_FD_STEP]
    max_bt = int(opts[OPT_MAX_BACKTRACK])
    newton = method == METHOD_NEWTON
    anderson = method == METHOD_ANDERSON and depth > 0
    nh = hist.shape[0]

    for i in range(n):
        x[i] = x0[i]
    F = np.empty(n)
    Ft = np.empty(n)
    p = np.empty(n)
    xt = np.empty(n)
    rhs = np.empty(n)
    scratch = np.empty(n)
    J = np.empty((n, n))
    normal = np.empty((n, n))
    work = np.empty((n, n + 1))
    mdim = depth if anderson else 1
    dX = np.empty((n, mdim))
    dR = np.empty((n, mdim))
    gam = np.empty(mdim)
    a_normal = np.empty((mdim, mdim))
    a_rhs = np.empty(mdim)
    a_work = np.empty((mdim, mdim + 1))
    mk = 0
    head = 0

    nfev = 0
    njev = 0
    g = fun(x, *args)
    nfev += 1
    if g.shape[0] != n:
        return INVALID_INPUT, 0, nfev, njev, np.inf
    for i in range(n):
        F[i] = g[i] if newton else g[i] - x[i]
    fn = scaled_norm(F, fscale)
    if nh > 0:
        hist[0, 0] = fn
        hist[0, 1] = np.nan
        hist[0, 2] = 0.0
    if fn != fn:
        return NONFINITE, 0, nfev, njev, np.inf
    phi = half_sq_norm(F, fscale)
    f0 = fn
    best = fn
    stall = 0
    small = 0
    alpha_state = dpar[0]
    nit = 0
    status = MAX_ITER
    if fn <= ftol:
        return CONVERGED, 0, nfev, njev, fn

    for k in range(max_iter):
        # ---- direction p (undamped) and the merit slope along it
        slope = -2.0 * phi
        if newton:
            if has_jac:
                Jk = jac(x, *args)
                njev += 1
                if Jk.shape[0] != n or Jk.shape[1] != n:
                    status = INVALID_INPUT
                    break
                for i in range(n):
                    for j in range(n):
                        J[i, j] = Jk[i, j]
            else:
                for j in range(n):
                    xj = x[j]
                    h = fd_rel * max(abs(xj), 1.0)
                    if xj < 0.0:
                        h = -h
                    x[j] = xj + h
                    h = x[j] - xj
                    gj = fun(x, *args)
                    nfev += 1
                    x[j] = xj
                    if gj.shape[0] != n:
                        status = INVALID_INPUT
                        break
                    for i in range(n):
                        J[i, j] = (gj[i] - F[i]) / h
                if status == INVALID_INPUT:
                    break
            jfinite = True
            for i in range(n):
                rhs[i] = -F[i]
                for j in range(n):
                    if not np.isfinite(J[i, j]):
                        jfinite = False
            if not jfinite:
                status = NONFINITE
                break
            if lu_solve(J, rhs, work, p) != 0:
                if regularized_solve(J, rhs, _LM_MU, work, normal, scratch, p) != 0:
                    status = SINGULAR
                    break
            # slope = grad(phi) . p with grad(phi) = J^T (F / fscale^2)
            slope = 0.0
            for i in range(n):
                jp = 0.0
                for j in range(n):
                    jp += J[i, j] * p[j]
                slope += F[i] / (fscale[i] * fscale[i]) * jp
            if not (slope < 0.0):
                # not a descent direction (inexact Jacobian): fall back to steepest descent
                gnorm2 = 0.0
                for j in range(n):
                    s = 0.0
                    for i in range(n):
                        s += J[i, j] * F[i] / (fscale[i] * fscale[i])
                    p[j] = -s
                    gnorm2 += s * s
                if not (gnorm2 > 0.0) or not np.isfinite(gnorm2):
                    status = SINGULAR
                    break
                slope = -gnorm2
        else:
            for i in range(n):
                p[i] = F[i]

        # ---- step caps on the undamped direction
        cap = 1.0
        for i in range(n):
            a = abs(p[i])
            if a * cap > max_step:
                cap = max_step / a
            lim = max_rel_step * max(abs(x[i]), atol)
            if a * cap > lim:
                cap = lim / a
        if cap < 1.0:
            for i in range(n):
                p[i] *= cap
            slope *= cap

        # ---- damping: schedule value, then acceptance test / backtracking
        if dkind == DAMP_RAMP:
            alpha = min(dpar[2], dpar[0] * dpar[1] ** k)
        elif dkind == DAMP_ADAPTIVE:
            alpha = alpha_state
        else:
            alpha = dpar[0]
        if dkind == DAMP_ADAPTIVE or dkind == DAMP_LINESEARCH:
            shrink = dpar[2]
            amin = dpar[3]
        else:
            shrink = 0.5
            amin = 1e-10
        c_armijo = dpar[1] if dkind == DAMP_LINESEARCH else 1e-4
        use_mix = anderson and mk > 0
        accepted = False
        tries = 0
        ftn = np.nan
        phit = np.inf
        for bt in range(max_bt):
            tries = bt
            if use_mix:
                if anderson_coefficients(dR, mk, F, _ANDERSON_LAMBDA, a_normal, a_rhs, a_work, gam) != 0:
                    use_mix = False
                    mk = 0
                    continue
                for i in range(n):
                    s = x[i] + alpha * F[i]
                    for c in range(mk):
                        s -= (dX[i, c] + alpha * dR[i, c]) * gam[c]
                    xt[i] = s
            else:
                for i in range(n):
                    xt[i] = x[i] + alpha * p[i]
            gt = fun(xt, *args)
            nfev += 1
            if gt.shape[0] != n:
                status = INVALID_INPUT
                break
            for i in range(n):
                Ft[i] = gt[i] if newton else gt[i] - xt[i]
            ftn = scaled_norm(Ft, fscale)
            ok = False
            if ftn == ftn:
                phit = half_sq_norm(Ft, fscale)
                if use_mix:
                    ok = ftn <= fn
                elif dkind == DAMP_ADAPTIVE or dkind == DAMP_LINESEARCH:
                    if newton:
                        ok = phit <= phi + c_armijo * alpha * slope
                    else:
                        ok = ftn < fn
                else:
                    ok = True
            if ok:
                accepted = True
                break
            if use_mix:
                # safeguard: the mixed step increased the residual -> restart, plain step
                use_mix = False
                mk = 0
                continue
            alpha *= shrink
            if alpha < amin:
                break
        if status == INVALID_INPUT:
            break
        if not accepted:
            if ftn != ftn:
                status = NONFINITE
            else:
                # a failed search along a step already below the step tolerance means the
                # residual sits at its rounding floor: no progress is possible -> STAGNATED
                status = STAGNATED
                for i in range(n):
                    if abs(p[i]) > atol + rtol * abs(x[i]):
                        status = LINE_SEARCH_FAILED
                        break
            break

        if anderson:
            for i in range(n):
                dX[i, head] = xt[i] - x[i]
                dR[i, head] = Ft[i] - F[i]
            head = (head + 1) % depth
            if mk < depth:
                mk += 1
        if dkind == DAMP_ADAPTIVE:
            if tries == 0:
                alpha_state = min(alpha * dpar[1], dpar[4])
            else:
                alpha_state = alpha

        step = 0.0
        smallstep = True
        xmax = 0.0
        for i in range(n):
            d = abs(xt[i] - x[i])
            if d > step:
                step = d
            if d > atol + rtol * abs(xt[i]):
                smallstep = False
            x[i] = xt[i]
            F[i] = Ft[i]
            if abs(x[i]) > xmax:
                xmax = abs(x[i])
        slow = ftn > 0.9 * fn  # less than 10 % residual reduction in this step
        fn = ftn
        phi = phit
        nit += 1
        if nit < nh:
            hist[nit, 0] = fn
            hist[nit, 1] = alpha
            hist[nit, 2] = step

        if fn <= ftol:
            status = CONVERGED
            break
        if fn > diverge * max(f0, 1.0) or xmax > _X_LIMIT:
            status = DIVERGED
            break
        if fn < best * (1.0 - _STALL_DECREASE):
            best = fn
            stall = 0
        else:
            stall += 1
            if stall >= stall_max:
                status = STAGNATED
                break
        if smallstep and slow:
            small += 1
            if small >= _SMALL_STEPS:
                status = STAGNATED
                break
        else:
            small = 0
    return status, nit, nfev, njev, fn


@njit(parallel=True)
def solve_batch_kernel(fun, jac, has_jac, X0, P, method, dkind, dpar, opts, fscale, warm, chunk,
                       X, status, nit, nfev, fnorm):
    """Solve N problems ``fun(x, P[i]) = 0`` from ``X0[i]``; results go to the output arrays.

    Rows are cut into fixed chunks of ``chunk`` rows, solved in parallel (``prange``); inside a
    chunk, with ``warm``, a row starts from its predecessor's solution when that converged,
    and falls back to its own ``X0[i]`` when the warm start fails. The chunking does not
    depend on the thread count, so results are reproducible.
    """
    N = X0.shape[0]
    n = X0.shape[1]
    nchunks = (N + chunk - 1) // chunk
    for c in prange(nchunks):
        hist = np.empty((0, 3))
        lo = c * chunk
        hi = min(N, lo + chunk)
        for r in range(lo, hi):
            finite = True
            for i in range(n):
                if not np.isfinite(X0[r, i]):
                    finite = False
            if not finite:
                status[r] = INVALID_INPUT
                nit[r] = 0
                nfev[r] = 0
                fnorm[r] = np.inf
                for i in range(n):
                    X[r, i] = X0[r, i]
                continue
            xr = X[r]
            used_warm = warm and r > lo and status[r - 1] == CONVERGED
            if used_warm:
                st, it, nf, nj, fv = solve_core(fun, jac, has_jac, X[r - 1].copy(), (P[r],), method,
                                                dkind, dpar, opts, fscale, xr, hist)
                if st != CONVERGED:
                    st2, it2, nf2, nj2, fv = solve_core(fun, jac, has_jac, X0[r], (P[r],), method,
                                                        dkind, dpar, opts, fscale, xr, hist)
                    st = st2
                    it += it2
                    nf += nf2
            else:
                st, it, nf, nj, fv = solve_core(fun, jac, has_jac, X0[r], (P[r],), method, dkind,
                                                dpar, opts, fscale, xr, hist)
            status[r] = st
            nit[r] = it
            nfev[r] = nf
            fnorm[r] = fv
    return 0
