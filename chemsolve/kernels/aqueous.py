"""Aqueous speciation kernels: water properties, activity coefficients, the mass/charge-balance
residual and Jacobian (in place, for the engine's ``solve_rows``), and a batch of waters in parallel.

Built-in model: the residual is a fixed module-level function and the tableau is data, so these
kernels are ``cache=True`` and compile once per machine (DESIGN.md section 1), not once per process.
The equations and constants are documented in ``chemsolve.aqueous.activity`` and
``chemsolve.aqueous.speciation``; this module is their compiled form.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

from .codes import (
    CONVERGED,
    DAMP_LINESEARCH,
    GAMMA_DAVIES,
    GAMMA_WATEQ,
    MAX_ITER,
    METHOD_NEWTON,
    N_DAMP_PARAMS,
    N_OPTS,
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
    STAGNATED,
)
from .solver import make_workspace, register_builtin, solve_rows

LN10 = math.log(10.0)

# Bradley & Pitzer (1979) relative permittivity of water
_BP = np.array([3.4279e2, -5.0866e-3, 9.469e-7, -2.0525, 3.1159e3, -1.8289e2, -8.0325e3, 4.2142e6, 2.1417])
# Wagner & Pruss (2002) eq. 2.6, density of saturated liquid water: coefficients and exponents
_WP_B = np.array([1.99274064, 1.09965342, -0.510839303, -1.75493479, -45.5170352, -6.7469445e5])
_WP_E = np.array([1.0 / 3.0, 2.0 / 3.0, 5.0 / 3.0, 16.0 / 3.0, 43.0 / 3.0, 110.0 / 3.0])
# PHREEQC's polynomials (in t [C]) of the density's pressure dependence above saturation
_P_COEF = np.array([
    [5.1880000e-02, -4.1885519e-04, 6.6780748e-06, -3.6648699e-08, 8.3501912e-11],
    [-6.0251348e-06, 3.6696407e-07, -9.2056269e-09, 6.7024182e-11, -1.5947241e-13],
    [-2.2983596e-09, -4.0133819e-10, 1.2619821e-11, -9.8952363e-14, 2.3363281e-16],
    [7.0517647e-11, 6.8566831e-12, -2.2829750e-13, 1.8113313e-15, -4.2475324e-18],
])
_AVOGADRO = 6.02252e23  # as in PHREEQC
_E2_K = 1.671008e-3  # q_e^2 / k_B [esu^2 K / erg], as in PHREEQC


@njit(cache=True)
def water_density(T, P, aw):
    """Density of pure water [g/cm3] at T [K], P [atm] (at least the saturation pressure x aw)."""
    tc = min(T - 273.15, 350.0)
    Tk = tc + 273.15
    th = 1.0 - Tk / 647.096
    s = 1.0
    for i in range(6):
        s += _WP_B[i] * th ** _WP_E[i]
    rho_sat = 322.0 * s
    p = np.empty(4)
    for r in range(4):
        acc = 0.0
        for c in range(4, -1, -1):
            acc = acc * tc + _P_COEF[r, c]
        p[r] = acc
    psat = math.exp(11.6702 - 3816.44 / (Tk - 46.13)) * min(aw, 1.0)
    pa = max(P, psat) - (psat - 1e-6)
    return (rho_sat + pa * (p[0] + pa * (p[1] + pa * (p[2] + math.sqrt(pa) * p[3])))) / 1e3


@njit(cache=True)
def dh_ab(T, P, aw):
    """Debye-Hueckel A [(kg/mol)^0.5] and B [1/(Angstrom (mol/kg)^0.5)] at T [K], P [atm]."""
    tc = min(T - 273.15, 350.0)
    Tk = tc + 273.15
    u = _BP
    d1000 = u[0] * math.exp(Tk * (u[1] + Tk * u[2]))
    c = u[3] + u[4] / (u[5] + Tk)
    b = u[6] + u[7] / Tk + u[8] * Tk
    eps = d1000 + c * math.log((b + P * 1.01325) / (b + 1e3))
    e2_dkt = _E2_K / (eps * Tk)
    kappa = math.sqrt(8.0 * math.pi * _AVOGADRO * e2_dkt * water_density(T, P, aw) / 1e3)
    return kappa * e2_dkt / (2.0 * LN10), kappa / 1e8


@njit(cache=True)
def log_gamma(kind, z, a, b, I, A, B, out):
    """log10 activity coefficients into ``out`` (WATEQ Debye-Hueckel / Davies / 0.1 I)."""
    sq = math.sqrt(max(I, 0.0))
    for i in range(z.shape[0]):
        z2 = z[i] * z[i]
        if kind[i] == GAMMA_WATEQ:
            out[i] = -A * z2 * sq / (1.0 + B * a[i] * sq) + b[i] * I
        elif kind[i] == GAMMA_DAVIES:
            out[i] = -A * z2 * (sq / (1.0 + sq) - 0.3 * I)
        else:
            out[i] = 0.1 * I


@njit(cache=True)
def _molalities(v, nc, lh, law, le, nu, nu_h, nu_w, nu_e, logk, lg, log_a, m):
    for i in range(nu.shape[0]):
        s = logk[i] + nu_h[i] * lh + nu_w[i] * law + nu_e[i] * le
        for k in range(nc):
            s += nu[i, k] * v[k]
        log_a[i] = s
        m[i] = 10.0 ** (s - lg[i])


@njit(cache=True)
def aq_residual(v, nu, numb, nu_h, nu_w, nu_e, logk, lg, tot, z, prm, log_a, m, out):
    """Mass balances log10(sum_i numb_ij m_i / T_j) (numb: mass-balance coefficients, nu those of
    the mass-action laws; they differ only for species with -mass_balance) and, if prm[0] = 1, the charge balance
    sum(z m) / qscale with log a(H+) = v[nc]. prm = [charge_eq, log_h, log_aw, log_e, qscale]."""
    nc = tot.shape[0]
    ceq = prm[0] > 0.5
    lh = v[nc] if ceq else prm[1]
    _molalities(v, nc, lh, prm[2], prm[3], nu, nu_h, nu_w, nu_e, logk, lg, log_a, m)
    for j in range(nc):
        s = 0.0
        for i in range(nu.shape[0]):
            s += numb[i, j] * m[i]
        out[j] = math.log10(s / tot[j]) if s > 0.0 else -np.inf
    if ceq:
        q = 0.0
        for i in range(nu.shape[0]):
            q += z[i] * m[i]
        out[nc] = q / prm[4]


@njit(cache=True)
def aq_jacobian(v, nu, numb, nu_h, nu_w, nu_e, logk, lg, tot, z, prm, log_a, m, J):
    """Analytic Jacobian of ``aq_residual``."""
    nc = tot.shape[0]
    ns = nu.shape[0]
    ceq = prm[0] > 0.5
    lh = v[nc] if ceq else prm[1]
    _molalities(v, nc, lh, prm[2], prm[3], nu, nu_h, nu_w, nu_e, logk, lg, log_a, m)
    for j in range(nc):
        S = 0.0
        for i in range(ns):
            S += numb[i, j] * m[i]
        for k in range(nc):
            acc = 0.0
            for i in range(ns):
                acc += numb[i, j] * m[i] * nu[i, k]
            J[j, k] = acc / S
        if ceq:
            acc = 0.0
            for i in range(ns):
                acc += numb[i, j] * m[i] * nu_h[i]
            J[j, nc] = acc / S
    if ceq:
        for k in range(nc):
            acc = 0.0
            for i in range(ns):
                acc += z[i] * m[i] * nu[i, k]
            J[nc, k] = acc * LN10 / prm[4]
        acc = 0.0
        for i in range(ns):
            acc += z[i] * m[i] * nu_h[i]
        J[nc, nc] = acc * LN10 / prm[4]


# markers that stand for the two functions above inside solve_rows (see solver.register_builtin)
AqResidual = namedtuple("AqResidual", ["tag"])
AqJacobian = namedtuple("AqJacobian", ["tag"])
register_builtin(AqResidual, aq_residual)
register_builtin(AqJacobian, aq_jacobian)


@njit(cache=True)
def _pcf(x, nc, ceq, prm, nu, numb, nu_h, nu_w, nu_e, logk, lg, z, tot, log_a, m):
    """Positive-continued-fraction sweeps for a first guess (see speciation._pcf_start)."""
    ns = nu.shape[0]
    nu_max = np.ones(nc)
    for j in range(nc):
        for i in range(ns):
            if nu[i, j] > nu_max[j]:
                nu_max[j] = nu[i, j]
    f = np.empty(nc)
    lh = x[nc] if ceq else prm[1]
    for sweep in range(40):
        if ceq and sweep % 4 == 0:  # re-balance the charge every 4th sweep: bisection is the cost
            lo, hi = -16.0, 2.0
            while hi - lo > 1e-4:  # a first guess: 1e-4 in log a(H+) is plenty
                mid = 0.5 * (lo + hi)
                _molalities(x, nc, mid, prm[2], prm[3], nu, nu_h, nu_w, nu_e, logk, lg, log_a, m)
                q = 0.0
                for i in range(ns):
                    q += z[i] * m[i]
                if q > 0.0:
                    hi = mid
                else:
                    lo = mid
            lh = 0.5 * (lo + hi)
            x[nc] = lh
        _molalities(x, nc, lh, prm[2], prm[3], nu, nu_h, nu_w, nu_e, logk, lg, log_a, m)
        worst = 0.0
        ok = True
        for j in range(nc):
            s = 0.0
            for i in range(ns):
                s += numb[i, j] * m[i]
            if not (s > 0.0) or not np.isfinite(s):
                ok = False
                break
            f[j] = math.log10(s / tot[j])
            worst = max(worst, abs(f[j]))
        if not ok or worst < 1e-3:
            break
        for j in range(nc):
            x[j] -= f[j] / nu_max[j]


@njit(cache=True)
def _solve_water(x, ceq, log_h, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                 dpar, opts, fscale, ws, out_m, out_lg, res, warm, fix_I=0.0):
    """One water: outer damped fixed point on I and a_w around the engine's Newton.
    x : (nc [+1]) start, overwritten with the solution. res : [status, nit, I, aw, log_h]; with
    ``warm`` x is a previous solution and res[2], res[3] its I and a_w: no first-guess sweeps.
    ``fix_I`` > 0: the activity coefficients of that ionic strength, only a_w iterated (the
    nested ionic-strength search of ``_nested_I``; I's own equation is then not solved here)."""
    nc = tot.shape[0]
    n = x.shape[0]
    ns = nu.shape[0]
    lg = np.zeros(ns)
    log_a = np.empty(ns)
    m = np.empty(ns)
    prm = np.empty(5)
    if fix_I > 0.0:
        I = fix_I
        aw = res[3] if (warm and 0.0 < res[3] <= 1.0) else 1.0
    elif warm and res[2] > 0.0 and 0.0 < res[3] <= 1.0:
        I = res[2]
        aw = res[3]
    else:
        I = 0.0
        for j in range(nc):
            I += tot[j]
        I = max(0.5 * I, 1e-7)
        aw = 1.0
    omega = 1.0
    prev_d = 0.0
    have_prev = False
    status = MAX_ITER
    nit = 0
    X0 = np.empty((1, n))
    X = np.empty((1, n))
    P = np.empty((1, 0))
    pbuf = np.empty(0)
    st = np.empty(1, dtype=np.int64)
    it = np.empty(1, dtype=np.int64)
    fe = np.empty(1, dtype=np.int64)
    je = np.empty(1, dtype=np.int64)
    fn = np.empty(1)
    hist = np.empty((0, 3))
    for outer in range(100):
        A, B = dh_ab(T, 1.0, aw)
        log_gamma(gk, z, ga, gb, I, A, B, lg)
        prm[0] = 1.0 if ceq else 0.0
        prm[1] = log_h
        prm[2] = math.log10(aw)
        prm[3] = le
        prm[4] = qscale
        if outer == 0 and not warm:
            _pcf(x, nc, ceq, prm, nu, numb, nu_h, nu_w, nu_e, logk, lg, z, tot, log_a, m)
        for k in range(n):
            X0[0, k] = x[k]
        solve_rows(AqResidual(0), AqJacobian(0), True, X0, P, pbuf,
                   (nu, numb, nu_h, nu_w, nu_e, logk, lg, tot, z, prm, log_a, m), 0, 1, False,
                   METHOD_NEWTON, DAMP_LINESEARCH, dpar, opts, fscale, X, st, it, fe, je, fn, hist, ws, True)
        nit += it[0]
        for k in range(n):
            x[k] = X[0, k]
        if st[0] != CONVERGED:
            status = st[0]
            break
        lh = x[nc] if ceq else log_h
        _molalities(x, nc, lh, prm[2], le, nu, nu_h, nu_w, nu_e, logk, lg, log_a, m)
        I_new = 0.0
        msum = 0.0
        for i in range(ns):
            I_new += z[i] * z[i] * m[i]
            msum += m[i]
        I_new = max(0.5 * I_new, 1e-300) if fix_I <= 0.0 else I
        aw_new = 1.0 - 0.017 * msum
        if fix_I > 0.0 and aw_new <= 0.0:
            status = NONFINITE  # water activity <= 0: outside the activity model at this I
            break
        # I settled relative to itself: an absolute 1e-12 (as before) let dilute waters stop with
        # I off by 1e-5 of itself, i.e. gamma and the mass balances off by ~1e-9 (the certificate saw it)
        if abs(I_new - I) <= 1e-12 * I and abs(aw_new - aw) <= 1e-14:
            I = I_new
            aw = aw_new
            status = CONVERGED
            break
        d = math.log(I_new / I)
        if have_prev and d * prev_d < 0.0 and abs(d) > 0.5 * abs(prev_d):
            omega = max(0.5 * omega, 1.0 / 64.0)
        prev_d = d
        have_prev = True
        I = I * math.exp(omega * d)
        aw = aw + omega * (max(aw_new, 1e-3) - aw)
    A, B = dh_ab(T, 1.0, aw)
    log_gamma(gk, z, ga, gb, I, A, B, out_lg)
    lh = x[nc] if ceq else log_h
    _molalities(x, nc, lh, math.log10(aw), le, nu, nu_h, nu_w, nu_e, logk, out_lg, log_a, out_m)
    res[0] = status
    res[1] = nit
    res[2] = I
    res[3] = aw
    res[4] = lh


@njit(cache=True)
def _charge(z, m):
    q = 0.0
    for i in range(z.shape[0]):
        q += z[i] * m[i]
    return q


@njit(cache=True)
def speciate_row(tot, T, pH, pe, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, dpar, opts, fscale,
                 ws_fixed, ws_cb, x_guess, out_m, out_lg, res, warm):
    """One water, with the fallback chain of ``speciate``: everything coupled in one Newton (pH
    fixed or from the charge balance); if that fails, the nested ionic-strength search
    (``_nested_I``); for a charge-balance pH, last, the nested pH search (``_nested_ph``)."""
    nc = tot.shape[0]
    le = -pe
    if not np.isnan(pH):
        x = x_guess[:nc].copy()
        _solve_water(x, False, -pH, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                     dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, warm)
        if warm and res[0] != CONVERGED:  # a warm start that fails: the cold start, as for any row
            for j in range(nc):
                x[j] = math.log10(tot[j])
            _solve_water(x, False, -pH, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                         dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, False)
        if res[0] != CONVERGED:  # several ionic strengths may fit: the nested ionic-strength search
            for j in range(nc):
                x[j] = math.log10(tot[j])
            _nested_I(x, False, -pH, res[2], T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                      dpar, opts, fscale, ws_fixed, ws_cb, out_m, out_lg, res)
        x_guess[:nc] = x
        return
    x = x_guess.copy()
    _solve_water(x, True, x[nc], T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                 dpar, opts, fscale, ws_cb, out_m, out_lg, res, warm)
    if res[0] == CONVERGED:
        x_guess[:] = x
        return
    if warm:
        for j in range(nc):
            x[j] = math.log10(tot[j])
        x[nc] = -7.0
        _solve_water(x, True, x[nc], T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                     dpar, opts, fscale, ws_cb, out_m, out_lg, res, False)
        if res[0] == CONVERGED:
            x_guess[:] = x
            return
    # nested ionic-strength search (robust where several I fit), then the nested pH search
    first = res[0]
    I_first = res[2]
    lh_first = res[4]
    xf = x_guess[:nc].copy()
    _nested_I(xf, True, lh_first, I_first, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
              dpar, opts, fscale, ws_fixed, ws_cb, out_m, out_lg, res)
    if res[0] == CONVERGED:
        x_guess[:nc] = xf
        x_guess[nc] = res[4]
        return
    xf = x_guess[:nc].copy()
    _nested_ph(xf, lh_first, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
               dpar, opts, fscale, ws_fixed, out_m, out_lg, res, 0.0)
    if res[0] != CONVERGED:
        res[0] = first
        return
    x_guess[:nc] = xf
    x_guess[nc] = res[4]


@njit(cache=True)
def _nested_ph(xf, lh_start, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
               dpar, opts, fscale, ws_fixed, out_m, out_lg, res, fix_I):
    """Charge balance as a bracketed root over log a(H+), each evaluation a fixed-pH solve (at the
    ionic strength ``fix_I`` if > 0). Walk out from ``lh_start`` one pH unit at a time until the
    imbalance changes sign, then Illinois (modified regula falsi). A collapsed bracket is accepted
    only if the imbalance there is zero (|q| <= 1e-10 qscale): when the fixed-pH problems have two
    solutions the imbalance can jump across a pH, and the bracket collapses on the jump.
    res[0] is CONVERGED or the failure's status; xf holds the last fixed-pH solution."""
    nc = tot.shape[0]
    top = math.log10(3.0 * qscale)
    lmin = max(-14.0 - top - 1.0, -17.0)
    lmax = top
    start = lh_start if (np.isfinite(lh_start) and lmin < lh_start < lmax) else -7.0
    _solve_water(xf, False, start, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                 dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, False, fix_I)
    if res[0] != CONVERGED:
        return
    a, ga_ = start, _charge(z, out_m)
    step = -1.0 if ga_ > 0 else 1.0
    b = a
    while True:
        b = min(max(a + step, lmin), lmax)
        _solve_water(xf, False, b, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                     dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, False, fix_I)
        if res[0] != CONVERGED:
            return
        gb_ = _charge(z, out_m)
        if ga_ * gb_ <= 0.0:
            break
        if b == lmin or b == lmax:
            res[0] = MAX_ITER
            return
        a, ga_ = b, gb_
    fa, fb = ga_, gb_
    fc = fb
    for _ in range(100):
        c = (fa * b - fb * a) / (fa - fb)
        _solve_water(xf, False, c, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                     dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, False, fix_I)
        if res[0] != CONVERGED:
            return
        fc = _charge(z, out_m)
        if fc == 0.0 or abs(fc) <= 1e-14 * qscale:
            break
        if fc * fb < 0.0:
            a, fa = b, fb
        else:
            fa *= 0.5
        b, fb = c, fc
        if abs(b - a) < 1e-13:
            break
    if not abs(fc) <= 1e-10 * qscale:  # the bracket collapsed on a jump, not on a root
        res[0] = STAGNATED


@njit(cache=True)
def _nested_I(xf, ceq, lh0, I0, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
              dpar, opts, fscale, ws_fixed, ws_cb, out_m, out_lg, res):
    """The ionic strength as a bracketed root (see speciation._solve_nested_I, the same algorithm):
    phi(u) = ln I(m(e^u)) - u, each evaluation a solve at the fixed activity coefficients of
    I = e^u (pH fixed at ``lh0`` or, with ``ceq``, from the charge balance). Walk out from I0 by
    half decades to a sign change within 1e-12 .. 1e3 mol/kgw, then Illinois. An evaluation tries
    the previous solution (without, then with the first-guess sweeps), the cold start, and, for a
    charge-balance pH, the nested pH search at that I. res[0] is CONVERGED only at a root."""
    nc = tot.shape[0]
    ns = nu.shape[0]
    xc = np.empty(nc + 1)
    xl = np.empty(nc + 1)  # last solution (components, log a(H+))
    cold = np.empty(nc)
    for j in range(nc):
        cold[j] = math.log10(tot[j])
        xl[j] = xf[j]
    xl[nc] = lh0 if np.isfinite(lh0) else -7.0
    have_warm = False
    aw_last = 1.0
    umin = math.log(1e-12)
    umax = math.log(1e3)
    if np.isfinite(I0) and 1e-12 < I0 < 1e3:
        u = math.log(I0)
    else:
        s0 = 0.0
        for j in range(nc):
            s0 += tot[j]
        u = math.log(max(0.5 * s0, 1e-7))
    nit = 0
    best = np.inf
    best_m = np.empty(ns)
    best_lg = np.empty(ns)
    best_x = np.empty(nc + 1)
    best_res = np.empty(5)
    # bracket: a (with value fa) and b (fb)
    a = u
    fa = 0.0
    fb = 0.0
    b = u
    step = 0.0
    phase = 0  # 0: first point, 1: walking out to a sign change, 2: Illinois on the bracket
    for _ in range(300):
        uu = a if phase == 0 else (min(max(a + step, umin), umax) if phase == 1 else (fa * b - fb * a) / (fa - fb))
        # one evaluation at I = exp(uu)
        ok = False
        for attempt in range(4):
            if attempt < 2 and not have_warm:
                continue
            if attempt == 3 and not ceq:
                break
            if attempt < 2:
                for j in range(nc + 1):
                    xc[j] = xl[j]
                res[3] = aw_last
            else:
                for j in range(nc):
                    xc[j] = cold[j]
                xc[nc] = lh0 if np.isfinite(lh0) else -7.0
                res[3] = 1.0
            if attempt < 3:
                if ceq:
                    _solve_water(xc, True, xc[nc], T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                                 dpar, opts, fscale, ws_cb, out_m, out_lg, res, attempt == 0, math.exp(uu))
                else:
                    _solve_water(xc[:nc], False, lh0, T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb,
                                 tot, dpar, opts, fscale[:nc], ws_fixed, out_m, out_lg, res, attempt == 0,
                                 math.exp(uu))
                    xc[nc] = lh0
            else:
                xs = xl[:nc].copy()
                _nested_ph(xs, xl[nc], T, le, qscale, nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb, tot,
                           dpar, opts, fscale, ws_fixed, out_m, out_lg, res, math.exp(uu))
                for j in range(nc):
                    xc[j] = xs[j]
                xc[nc] = res[4]
            nit += int(res[1])
            if res[0] == CONVERGED:
                ok = True
                break
        if not ok:
            res[1] = nit
            return
        have_warm = True
        for j in range(nc + 1):
            xl[j] = xc[j]
        aw_last = res[3]
        Im = 0.0
        for i in range(ns):
            Im += z[i] * z[i] * out_m[i]
        f = math.log(max(0.5 * Im, 1e-300)) - uu
        if abs(f) < best:
            best = abs(f)
            for i in range(ns):
                best_m[i] = out_m[i]
                best_lg[i] = out_lg[i]
            for j in range(nc + 1):
                best_x[j] = xc[j]
            for r in range(5):
                best_res[r] = res[r]
        if phase == 0:
            fa = f
            if f == 0.0:
                break
            step = 0.5 * LN10 if f > 0.0 else -0.5 * LN10
            phase = 1
            continue
        if phase == 1:
            b = min(max(a + step, umin), umax)
            fb = f
            if fa * fb <= 0.0:
                phase = 2
            elif b == umin or b == umax:
                res[0] = MAX_ITER
                res[1] = nit
                return
            else:
                a = b
                fa = fb
            if phase == 1 or best > 1e-14:
                continue
            break
        # Illinois step done at c = uu
        if best <= 1e-14:
            break
        if f * fb < 0.0:
            a = b
            fa = fb
        else:
            fa *= 0.5
        b = uu
        fb = f
        if abs(b - a) <= 1e-14 * max(1.0, abs(b)):
            break
    # the best point must be a root: I(m) = I to 1e-11 (the certificate checks it again)
    for i in range(ns):
        out_m[i] = best_m[i]
        out_lg[i] = best_lg[i]
    for j in range(nc):
        xf[j] = best_x[j]
    for r in range(5):
        res[r] = best_res[r]
    res[1] = nit
    res[4] = best_x[nc]
    if not best <= 1e-11:
        res[0] = STAGNATED


@njit(cache=True)
def logk_at(coef, T, out):
    """log10 K(T) of every species from its six temperature coefficients."""
    l10 = math.log10(T)
    for i in range(coef.shape[0]):
        out[i] = coef[i, 0] + coef[i, 1] * T + coef[i, 2] / T + coef[i, 3] * l10 + coef[i, 4] / (T * T) \
            + coef[i, 5] * T * T


@njit(cache=True, parallel=True)
def speciate_batch(TOT, T, PH, PE, QS, nu, numb, nu_h, nu_w, nu_e, logk_coef, z, gk, ga, gb, warm, chunk,
                   out_m, out_lg, out_res):
    """N waters (rows of TOT (N, nc), T, PH (NaN: charge balance), PE, QS charge scales) in parallel
    over fixed chunks; with ``warm`` a row starts from its predecessor's solution in the chunk.
    out_m, out_lg : (N, ns); out_res : (N, 5) = [status, nit, I, aw, log a(H+)]."""
    N = TOT.shape[0]
    nc = TOT.shape[1]
    ns = nu.shape[0]
    nchunks = (N + chunk - 1) // chunk
    for c in prange(nchunks):
        dpar = np.zeros(N_DAMP_PARAMS)
        dpar[0] = 1.0  # LineSearch(start=1, c=1e-4, shrink=0.5, min=1e-10)
        dpar[1] = 1e-4
        dpar[2] = 0.5
        dpar[3] = 1e-10
        opts = np.empty(N_OPTS)
        opts[OPT_FTOL] = 1e-12
        opts[OPT_RTOL] = 1e-10
        opts[OPT_ATOL] = 1e-12
        opts[OPT_MAX_ITER] = 200
        opts[OPT_MAX_STEP] = 2.0
        opts[OPT_MAX_REL_STEP] = np.inf
        opts[OPT_ANDERSON_M] = 1
        opts[OPT_DIVERGE] = 1e12
        opts[OPT_STALL] = 50
        opts[OPT_FD_STEP] = 1.4901161193847656e-08
        opts[OPT_MAX_BACKTRACK] = 60
        fscale = np.ones(nc + 1)
        ws_fixed = make_workspace(nc, 1)
        ws_cb = make_workspace(nc + 1, 1)
        logk = np.empty(ns)
        xg = np.empty(nc + 1)
        res = np.empty(5)
        lo = c * chunk
        hi = min(N, lo + chunk)
        prev_ok = False
        for r in range(lo, hi):
            if not (warm and prev_ok):
                for j in range(nc):
                    xg[j] = math.log10(TOT[r, j])
                xg[nc] = -7.0
            logk_at(logk_coef, T[r], logk)
            speciate_row(TOT[r], T[r], PH[r], PE[r], QS[r], nu, numb, nu_h, nu_w, nu_e, logk, z, gk, ga, gb,
                         dpar, opts, fscale, ws_fixed, ws_cb, xg, out_m[r], out_lg[r], res, warm and prev_ok)
            for k in range(5):
                out_res[r, k] = res[k]
            prev_ok = res[0] == CONVERGED
    return 0
