"""The solver loop: damped Newton, relaxation and Anderson mixing, for one problem or a batch.

``solve_rows`` is generic in the residual: numba specialises it for each jitted residual it
is handed (that compilation is per process, because the cache key holds the function's
identity), and ``chemsolve.solve`` runs the very same source as plain Python (``py_func``)
for a residual that is not jitted. Helpers that only take arrays are ``cache=True``.

Kernels never raise: every failure is a status code from ``codes``.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
from collections import namedtuple

import numpy as np
from numba import njit, prange, types
from numba.extending import overload, register_jitable

from .codes import (
    CHECK_FAILED,
    CONVERGED,
    DAMP_CONTROL,
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
from .damping import adapt, backtracks, first_factor, search_params
from .linalg import anderson_coefficients, lu_solve, regularized_solve

_X_LIMIT = 1e150  # |x| beyond this is reported as DIVERGED
_LM_MU = 1e-10  # relative Levenberg-Marquardt shift used on a singular Jacobian
_ANDERSON_LAMBDA = 1e-12  # relative Tikhonov term of the Anderson least squares
_STALL_DECREASE = 1e-6  # a new best residual must beat the old one by this fraction
_SMALL_STEPS = 3  # consecutive tiny steps (< atol + rtol|x|) that leave the residual unchanged -> STAGNATED


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
def half_sq_norm(f, fscale, scale):
    """0.5 * sum_i (f_i / (fscale_i * scale))^2: the line-search merit, divided by scale^2 so that
    residuals up to the float64 limit do not overflow it (scale: the current max|F/fscale|)."""
    s = 0.0
    for i in range(f.shape[0]):
        v = f[i] / (fscale[i] * scale)
        s += v * v
    return 0.5 * s


@njit(cache=True)
def step_cap(d, x, max_step, max_rel_step, atol):
    """Largest factor c <= 1 with max_i |c d_i| <= max_step and |c d_i| <= max_rel_step * max(|x_i|, atol)."""
    cap = 1.0
    for i in range(d.shape[0]):
        a = abs(d[i])
        if a * cap > max_step:
            cap = max_step / a
        lim = max_rel_step * max(abs(x[i]), atol)
        if a * cap > lim:
            cap = lim / a
    return cap


@njit(cache=True)
def _no_jacobian(x, *args):
    """Placeholder handed to ``solve_core`` when the Jacobian is taken by finite differences."""
    return np.zeros((x.shape[0], x.shape[0]))


# Built-in residuals. A kernel that *receives* a jitted function as an argument embeds a pointer
# to it and cannot be cached on disk; built-in models therefore pass a marker instead: an empty
# namedtuple whose class is registered here with the module-level function it stands for, and
# ``eval_into`` calls that function by name (resolved at compile time, so the caller caches).
BUILTIN: dict = {}
_MARKER_OF: dict = {}  # a public jitted function -> the marker instance that stands for it


def register_builtin(marker_class, function, stands_for=None) -> None:
    """Let instances of ``marker_class`` (an empty namedtuple) stand for the jitted ``function``,
    which is called in place: ``function(x, *args, out)``. ``stands_for``: the jitted function
    users pass (``fun(x, *args) -> array``) that the marker replaces in ``solve_batch``."""
    BUILTIN[marker_class] = function
    if stands_for is not None:
        _MARKER_OF[id(stands_for)] = (stands_for, marker_class(0))


def marker_for(fun):
    """The registered marker that stands for ``fun``, or None."""
    hit = _MARKER_OF.get(id(fun))
    return hit[1] if hit is not None and hit[0] is fun else None


NoJacobian = namedtuple("NoJacobian", ["tag"])


@njit(cache=True)
def _no_jacobian_into(x, p, out):
    """The marker kernel's stand-in when the Jacobian comes from finite differences (never called)."""
    out[:, :] = 0.0


register_builtin(NoJacobian, _no_jacobian_into)


def eval_into(fun, x, args, out, inplace):
    """Evaluate ``fun`` at ``x`` into ``out``; False when it returned the wrong length.

    ``inplace`` None: ``fun(x, *args)`` returns a new array (copied into ``out``).
    Otherwise ``fun(x, *args, out)`` writes into ``out`` and nothing is allocated.
    ``fun`` may be a registered built-in marker (see ``register_builtin``).
    (Plain-Python version; the compiled one below picks its branch at compile time.)
    """
    if type(fun) in BUILTIN:
        f = BUILTIN[type(fun)]
        getattr(f, "py_func", f)(x, *args, out)
        return True
    if inplace is not None:
        fun(x, *args, out)
        return True
    g = fun(x, *args)
    if g.shape != out.shape:
        return False
    out[...] = g
    return True


@overload(eval_into)
def _eval_into_nb(fun, x, args, out, inplace):
    if isinstance(fun, types.BaseNamedTuple) and fun.instance_class in BUILTIN:
        f = BUILTIN[fun.instance_class]

        def impl(fun, x, args, out, inplace):
            f(x, *args, out)
            return True

        return impl
    if isinstance(inplace, types.NoneType):

        def impl(fun, x, args, out, inplace):
            g = fun(x, *args)
            if g.ndim != out.ndim:
                return False
            for d in range(g.ndim):
                if g.shape[d] != out.shape[d]:
                    return False
            out[...] = g
            return True

    else:

        def impl(fun, x, args, out, inplace):
            fun(x, *args, out)
            return True

    return impl


@njit(cache=True)
def make_workspace(n, depth):
    """Scratch arrays of ``solve_rows`` for n unknowns and Anderson depth ``depth`` (>= 1).

    Allocated once per ``solve`` and once per chunk by the batch kernel, so the iteration
    itself allocates nothing but what the residual returns.
    """
    m = max(depth, 1)
    return (np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n),
            np.empty((n, n)), np.empty((n, n)), np.empty((n, n + 1)), np.empty((n, m)),
            np.empty((n, m)), np.empty(m), np.empty(m), np.empty((m, m)), np.empty((m, m + 1)))


@register_jitable
def newton_direction(fun, jac, has_jac, x, args, F, fscale, mscale, fd_rel, J, Ft, rhs, p, work, normal, scratch,
                     inplace):
    """The direction part of a Newton iteration: the Jacobian at x (``jac`` or forward
    differences), the undamped step p solving J p = -F (a Levenberg-Marquardt step when J is
    singular, steepest descent of the merit when p is no descent direction), and the slope of the
    merit 0.5|F/(fscale mscale)|^2 along p.

    Returns (code, residual evaluations, Jacobian evaluations, slope); code is -1 when p is
    usable, else the status that ends the solve (INVALID_INPUT, NONFINITE, SINGULAR).
    """
    n = x.shape[0]
    nfe = 0
    nje = 0
    if has_jac:
        nje += 1
        if not eval_into(jac, x, args, J, inplace):
            return INVALID_INPUT, nfe, nje, 0.0
    else:
        for j in range(n):
            xj = x[j]
            h = fd_rel * max(abs(xj), 1.0)
            if xj < 0.0:
                h = -h
            x[j] = xj + h
            h = x[j] - xj
            nfe += 1
            ok = eval_into(fun, x, args, Ft, inplace)
            x[j] = xj
            if not ok:
                return INVALID_INPUT, nfe, nje, 0.0
            for i in range(n):
                J[i, j] = (Ft[i] - F[i]) / h
    jfinite = True
    for i in range(n):
        rhs[i] = -F[i]
        for j in range(n):
            if not np.isfinite(J[i, j]):
                jfinite = False
    if not jfinite:
        return NONFINITE, nfe, nje, 0.0
    if lu_solve(J, rhs, work, p) != 0:
        if regularized_solve(J, rhs, _LM_MU, work, normal, scratch, p) != 0:
            return SINGULAR, nfe, nje, 0.0
    # slope = grad(phi) . p with grad(phi) = J^T F / (fscale mscale)^2
    slope = 0.0
    for i in range(n):
        jp = 0.0
        for j in range(n):
            jp += J[i, j] * p[j]
        w = fscale[i] * mscale
        slope += (F[i] / w) * (jp / w)
    if not (slope < 0.0):
        # not a descent direction (inexact Jacobian): fall back to steepest descent
        gnorm2 = 0.0
        for j in range(n):
            s = 0.0
            for i in range(n):
                w = fscale[i] * mscale
                s += (J[i, j] / w) * (F[i] / w)
            p[j] = -s
            gnorm2 += s * s
        if not (gnorm2 > 0.0) or not np.isfinite(gnorm2):
            return SINGULAR, nfe, nje, 0.0
        slope = -gnorm2
    return -1, nfe, nje, slope


@register_jitable
def step_size(fun, args, x, p, F, fn, phi, slope, mscale, alpha, dkind, dpar, newton, use_mix, mk, dX, dR,
              fscale, max_step, max_rel_step, atol, max_bt, xt, Ft, scratch, a_normal, a_rhs, a_work, gam, inplace):
    """The step-size part: from the schedule's first factor ``alpha`` (``damping.first_factor``),
    the trial point x + alpha p — or, for Anderson with history (``use_mix``), the mixed step — is
    accepted by the schedule's test (``damping.backtracks``: Armijo on the merit for Newton, a plain
    decrease for fixed points; any finite residual otherwise) or the factor shrinks and it is tried
    again. A mixed step that increases the residual restarts Anderson (history cleared) with a
    plain step. On return ``xt``, ``Ft`` hold the last trial point and its residual.

    Returns (accepted, tries, alpha, max|Ft/fscale|, code, residual evaluations, mk); code is -1,
    or INVALID_INPUT when the residual returned the wrong shape.
    """
    n = x.shape[0]
    searching = backtracks(dkind)
    shrink, amin, c_armijo = search_params(dkind, dpar)
    accepted = False
    tries = 0
    nfe = 0
    ftn = np.nan
    for bt in range(max_bt):
        tries = bt
        if use_mix:
            if anderson_coefficients(dR, mk, F, _ANDERSON_LAMBDA, a_normal, a_rhs, a_work, gam) != 0:
                use_mix = False
                mk = 0
                continue
            for i in range(n):
                s = alpha * F[i]
                for c in range(mk):
                    s -= (dX[i, c] + alpha * dR[i, c]) * gam[c]
                scratch[i] = s  # the mixed displacement, capped like any step
            mcap = step_cap(scratch, x, max_step, max_rel_step, atol)
            for i in range(n):
                xt[i] = x[i] + mcap * scratch[i]
        else:
            for i in range(n):
                xt[i] = x[i] + alpha * p[i]
        nfe += 1
        if not eval_into(fun, xt, args, Ft, inplace):
            return False, tries, alpha, ftn, INVALID_INPUT, nfe, mk
        if not newton:
            for i in range(n):
                Ft[i] -= xt[i]
        ftn = scaled_norm(Ft, fscale)
        ok = False
        if ftn == ftn:
            phit = half_sq_norm(Ft, fscale, mscale)
            if use_mix:
                ok = ftn <= fn
            elif searching:
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
    return accepted, tries, alpha, ftn, -1, nfe, mk


@register_jitable
def stopping(fn, ftol, f0, diverge, xmax, best, stall, stall_max, smallstep, slow, small):
    """The stopping part, after an accepted step with residual ``fn``: CONVERGED (fn <= ftol),
    DIVERGED (fn beyond ``diverge`` max(f0, 1) or |x| beyond 1e150), STAGNATED (no new best by a
    1e-6 fraction for ``stall_max`` iterations, or three tiny steps in a row that leave the residual
    unchanged). Returns (code or -1 to go on, best, stall, small)."""
    if fn <= ftol:
        return CONVERGED, best, stall, small
    if fn > diverge * max(f0, 1.0) or xmax > _X_LIMIT:
        return DIVERGED, best, stall, small
    if fn < best * (1.0 - _STALL_DECREASE):
        best = fn
        stall = 0
    else:
        stall += 1
        if stall >= stall_max:
            return STAGNATED, best, stall, small
    if smallstep and slow:
        small += 1
        if small >= _SMALL_STEPS:
            return STAGNATED, best, stall, small
    else:
        small = 0
    return -1, best, stall, small


@njit
def solve_rows(fun, jac, has_jac, X0, P, pbuf, args, lo, hi, warm, method, dkind, dpar, opts, fscale,
               X, out_status, out_nit, out_nfev, out_njev, out_fnorm, hist, ws, inplace):
    """Solve problems ``lo .. hi-1`` one after the other; the core of ``solve`` and of each batch chunk.

    Row r is F(x) = 0 (Newton) or G(x) = x (fixed point) started from ``X0[r]`` (or, with
    ``warm``, from row r-1's solution when that converged, falling back to ``X0[r]`` when the
    warm start fails). Before each row ``P[r]`` is copied into ``pbuf``: a batch passes
    ``args = (pbuf,)`` so that the residual sees its row; ``solve`` passes the user's ``args``
    and a P with no columns. Working on a run of rows in one call keeps the per-problem cost
    to the arithmetic: the workspace is unpacked once, not once per problem.

    Each iteration has three parts: the direction (``newton_direction``; the fixed-point methods
    take p = G(x) - x), the step size (``step_size``, reading the schedule through
    ``kernels.damping``) and the stopping test (``stopping``).

    fun(x, *args) -> (n,): F(x) for Newton, G(x) for the fixed-point methods.
    jac(x, *args) -> (n, n): dF/dx, used when ``has_jac``; otherwise forward differences.
    inplace : None, or True for residuals that write their result: fun(x, *args, out),
        jac(x, *args, out) (then nothing is allocated per iteration).
    method : codes.METHOD_*. dkind, dpar : damping kind and its parameters (codes.DAMP_*).
    opts : (N_OPTS,) float64 options (codes.OPT_*). fscale : (n,) residual scales.
    X : (N, n) solutions (or last iterates); out_* : (N,) status, iterations, residual and
        Jacobian evaluations, final max|F/fscale|.
    hist : (H, 3) float64; row k holds (residual norm, damping used, step norm) of iteration k
        of the last problem solved, for k < H (H = 0 records nothing).
    ws : the tuple of scratch arrays from ``make_workspace(n, depth)``.
    """
    n = X0.shape[1]
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
    k_par = P.shape[1]
    x, F, Ft, p, xt, rhs, scratch, J, normal, work, dX, dR, gam, a_rhs, a_normal, a_work = ws
    prev_ok = False
    for r in range(lo, hi):
        finite = True
        for i in range(n):
            if not np.isfinite(X0[r, i]):
                finite = False
        if not finite:
            for i in range(n):
                X[r, i] = X0[r, i]
            out_status[r] = INVALID_INPUT
            out_nit[r] = 0
            out_nfev[r] = 0
            out_njev[r] = 0
            out_fnorm[r] = np.inf
            prev_ok = False
            continue
        for i in range(k_par):
            pbuf[i] = P[r, i]
        use_warm = warm and prev_ok
        tot_it = 0
        tot_fev = 0
        tot_jev = 0
        for attempt in range(2 if use_warm else 1):
            from_prev = use_warm and attempt == 0
            for i in range(n):
                x[i] = X[r - 1, i] if from_prev else X0[r, i]
            mk = 0
            head = 0
            nfev = 1
            njev = 0
            nit = 0
            status = MAX_ITER
            fn = np.inf
            iterate = False
            if not eval_into(fun, x, args, F, inplace):
                status = INVALID_INPUT
            else:
                if not newton:
                    for i in range(n):
                        F[i] -= x[i]
                fn = scaled_norm(F, fscale)
                if nh > 0:
                    hist[0, 0] = fn
                    hist[0, 1] = np.nan
                    hist[0, 2] = 0.0
                if fn != fn:
                    status = NONFINITE
                    fn = np.inf
                elif fn <= ftol:
                    status = CONVERGED
                else:
                    iterate = True
            f0 = fn
            best = fn
            stall = 0
            small = 0
            alpha_state = dpar[0]
            for k in range(max_iter if iterate else 0):
                # ---- direction p (undamped) and the merit slope along it; the merit is
                # scaled by the current residual norm for this iteration (see half_sq_norm)
                mscale = fn if fn > 0.0 else 1.0
                phi = half_sq_norm(F, fscale, mscale)
                slope = -2.0 * phi
                if newton:
                    code, nfe, nje, slope = newton_direction(fun, jac, has_jac, x, args, F, fscale, mscale, fd_rel,
                                                             J, Ft, rhs, p, work, normal, scratch, inplace)
                    nfev += nfe
                    njev += nje
                    if code >= 0:
                        status = code
                        break
                else:
                    for i in range(n):
                        p[i] = F[i]

                # ---- step caps on the undamped direction
                cap = step_cap(p, x, max_step, max_rel_step, atol)
                if cap < 1.0:
                    for i in range(n):
                        p[i] *= cap
                    slope *= cap

                # ---- step size: the schedule's first factor, then its acceptance test
                pmax = 0.0
                if dkind == DAMP_CONTROL:
                    for i in range(n):
                        pmax = max(pmax, abs(p[i]))
                alpha = first_factor(dkind, dpar, k, alpha_state, pmax)
                use_mix = anderson and mk > 0
                accepted, tries, alpha, ftn, code, nfe, mk_new = step_size(
                    fun, args, x, p, F, fn, phi, slope, mscale, alpha, dkind, dpar, newton, use_mix, mk, dX, dR,
                    fscale, max_step, max_rel_step, atol, max_bt, xt, Ft, scratch, a_normal, a_rhs, a_work, gam,
                    inplace)
                nfev += nfe
                if mk_new != mk:  # Anderson restarted: history cleared
                    mk = mk_new
                    head = 0
                if code >= 0:
                    status = code
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
                alpha_state = adapt(dkind, dpar, alpha, tries, alpha_state)

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
                slow = ftn > (1.0 - 1e-3) * fn  # the residual (almost) stopped decreasing
                fn = ftn
                nit += 1
                if nit < nh:
                    hist[nit, 0] = fn
                    hist[nit, 1] = alpha
                    hist[nit, 2] = step

                # ---- stopping
                code, best, stall, small = stopping(fn, ftol, f0, diverge, xmax, best, stall, stall_max,
                                                    smallstep, slow, small)
                if code >= 0:
                    status = code
                    break
            tot_it += nit
            tot_fev += nfev
            tot_jev += njev
            if status == CONVERGED:
                break
        for i in range(n):
            X[r, i] = x[i]
        out_status[r] = status
        out_nit[r] = tot_it
        out_nfev[r] = tot_fev
        out_njev[r] = tot_jev
        out_fnorm[r] = fn
        prev_ok = status == CONVERGED
    return 0


def certify_rows(fun, P, pbuf, lo, hi, newton, fscale, ftol, X, status, cert, xbuf, fbuf, inplace):
    """The engine's certificate of rows ``lo .. hi-1`` of a batch: for each row the solver called
    CONVERGED, the residual is evaluated afresh at X[r] (into ``fbuf``, from a copy ``xbuf``) and
    max|F/fscale| stored in ``cert[r]``; above ``ftol`` (or not finite) the row becomes CHECK_FAILED.
    Rows not converged get NaN. (Plain Python version; compiled below with ``njit``.)"""
    n = X.shape[1]
    for r in range(lo, hi):
        if status[r] != CONVERGED:
            cert[r] = np.nan
            continue
        for i in range(P.shape[1]):
            pbuf[i] = P[r, i]
        for i in range(n):
            xbuf[i] = X[r, i]
            fbuf[i] = np.nan
        v = np.nan
        if eval_into(fun, xbuf, (pbuf,), fbuf, inplace):
            if not newton:
                for i in range(n):
                    fbuf[i] -= X[r, i]
            v = scaled_norm(fbuf, fscale)
        cert[r] = v
        if not (v <= ftol):
            status[r] = CHECK_FAILED
    return 0


certify_rows = njit(certify_rows)


def _solve_batch(fun, jac, has_jac, X0, P, method, dkind, dpar, opts, fscale, warm, chunk,
                 X, status, nit, nfev, njev, fnorm, cert, inplace):
    """Solve N problems ``fun(x, P[i]) = 0`` from ``X0[i]``; results go to the output arrays
    (``cert``: the certificate's recomputed max|F/fscale| per row, NaN where not converged).

    Rows are cut into fixed chunks of ``chunk`` rows, solved in parallel (``prange``), each
    chunk by one ``solve_rows`` call (warm starts run along a chunk). The chunking does not
    depend on the thread count, so results are reproducible.
    """
    N = X0.shape[0]
    n = X0.shape[1]
    nchunks = (N + chunk - 1) // chunk
    depth = max(1, int(opts[OPT_ANDERSON_M]))
    for c in prange(nchunks):
        # private copies of the shared settings: threads then never touch the same reference
        # counts (measured: 2 threads ran 1.3x instead of ~1.8x faster than one without them)
        lo = c * chunk
        hi = min(N, lo + chunk)
        pbuf = np.empty(P.shape[1])
        solve_rows(fun, jac, has_jac, X0, P, pbuf, (pbuf,), lo, hi, warm, method, dkind, dpar.copy(),
                   opts.copy(), fscale.copy(), X, status, nit, nfev, njev, fnorm, np.empty((0, 3)),
                   make_workspace(n, depth), inplace)
        # the certificate: every converged row's residual recomputed from its x alone
        certify_rows(fun, P, pbuf, lo, hi, method == METHOD_NEWTON, fscale, opts[OPT_FTOL], X, status, cert,
                     np.empty(n), np.empty(n), inplace)
    return 0


# Two compiled forms of the one batch loop: for a user's jitted residual (compiled for that function
# in every process: a kernel holding a function pointer cannot be cached) and for registered
# built-in markers (``register_builtin``), which are cached on disk like the model kernels.
solve_batch_kernel = njit(parallel=True)(_solve_batch)
solve_batch_builtin = njit(parallel=True, cache=True)(_solve_batch)
# and of the one-problem loop: ``solve`` with a registered built-in residual (cached on disk)
solve_rows_builtin = njit(cache=True)(getattr(solve_rows, "py_func", solve_rows))
