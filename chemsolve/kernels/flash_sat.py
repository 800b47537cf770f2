"""Saturation and vapour-fraction flashes (T-VF: solve P; P-VF: solve T; bubble VF = 0, dew VF = 1) and the
Newton system of the phase envelope.

The system of Michelsen (1980), "Calculation of phase envelopes and critical points for multicomponent
mixtures", Fluid Phase Equilib. 4, 1-10, doi:10.1016/0378-3812(80)80001-X: unknowns ln K_i, ln T, ln P;

    g_i = ln K_i + ln phi_i^V(y, T, P) - ln phi_i^L(x, T, P) = 0,   r = sum_i (y_i - x_i) = 0,

with x_i = z_i / (1 - beta + beta K_i), y_i = K_i x_i at the fixed vapour fraction beta (composition
derivatives of ln phi taken in mole numbers, so x and y need not sum to one away from the answer),
closed by a specification (ln T or ln P held, or, along the envelope, any variable). Newton on this
system with the exact Jacobian (``flash_eos.lnphi_derivs``), after a few substitution steps from
Wilson's K (Michelsen & Mollerup 2007, chapter 12): K <- phi^L / phi^V, then the free variable from the
Rachford-Rice condition with K's dependence on it taken from Wilson's form (K ~ 1/P; ln K linear in 1/T).
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import CONVERGED, INVALID_INPUT, MAX_ITER, NONFINITE, SINGULAR, STAGNATED
from .flash_eos import R, departures, lnphi, lnphi_derivs, t_params
from .flash_layout import (
    C_OMEGA,
    C_PC,
    C_TC,
    FO_P_MAX,
    FO_P_MIN,
    FO_SAT_MAX_ITER,
    FO_T_MAX,
    FO_T_MIN,
    FO_TOL,
    N_ST,
    PATH_SAT,
    ROOT_LIQUID,
    ROOT_MIN_G,
    ROOT_VAPOUR,
    ST_BETA,
    ST_H,
    ST_LABEL,
    ST_NIT,
    ST_NOUTER,
    ST_P,
    ST_PATH,
    ST_PHASES,
    ST_RES,
    ST_S,
    ST_T,
    ST_ZL,
    ST_ZV,
)
from .flash_props import state_hs
from .flash_tp import (
    M_AIJ,
    M_DAIJ,
    M_PL,
    M_PV,
    V_AUX,
    V_DP,
    V_DP2,
    V_DT,
    V_DT2,
    V_K,
    V_LNK0,
    V_LNP2,
    V_LNPL,
    V_LNPV,
    V_PSI,
    V_TMP,
    V_X,
    V_Y,
    V_ZN,
    tp_row,
    workspace,
    x_is_lighter,
)
from .linalg import lu_solve

SPEC_TVF = 3
SPEC_PVF = 4

_WA = 5.373  # Wilson (1969)
_TRIVIAL = 1e-8  # sum z (ln K)^2 below this: the phases have merged (a critical point or no saturation)

# Flags and small integers passed to other kernels are read from these arrays, so that numba types them
# as runtime int64 / bool: a literal argument (True, 0, ROOT_MIN_G) would compile one more
# specialisation of the callee per distinct value.
_K = np.arange(8, dtype=np.int64)
_B = np.array([False, True])


@njit(cache=True, error_model="numpy")
def _rr_beta(z, K, beta):
    """r = sum_i z_i (K_i - 1) / (1 - beta + beta K_i) and its derivative with respect to a common shift
    of ln K (dr/dln K_all = sum z_i K_i / t_i^2)."""
    r = 0.0
    d = 0.0
    for i in range(z.shape[0]):
        if z[i] > 0.0:
            t = 1.0 - beta + beta * K[i]
            r += z[i] * (K[i] - 1.0) / t
            d += z[i] * K[i] / (t * t)
    return r, d


@njit(cache=True, error_model="numpy")
def _solve_free(z, beta, lnk, held_T, T, P, comp, lo, hi, K):
    """The free variable (P when held_T, else T) that satisfies Rachford-Rice at beta with K's dependence
    on it taken from Wilson's form: ln K_i(P') = ln K_i - ln(P'/P); ln K_i(T') = ln K_i + a_i (1/T - 1/T'),
    a_i = 5.373 (1 + w_i) Tc_i. Solved as f = ln sum_i y_i = 0 (beta <= 1/2) or f = -ln sum_i x_i = 0
    (beta > 1/2), y_i = K_i z_i / (1 - beta + beta K_i), x_i = y_i / K_i (the condition sum y = sum x = 1
    in a form that is nearly linear in ln P or 1/T, where the plain Rachford-Rice sum is exponentially
    steep); Newton steps in ln P or 1/T kept inside a bisection bracket in [lo, hi]. NaN when there is
    no root in the interval."""
    n = z.shape[0]
    if held_T:
        u_lo = math.log(lo)
        u_hi = math.log(hi)
        u = math.log(P)
    else:
        u_lo = 1.0 / hi
        u_hi = 1.0 / lo
        u = 1.0 / T
    a = u_lo
    b = u_hi
    if not (u > a and u < b):
        u = 0.5 * (a + b)
    use_y = beta <= 0.5
    found = False
    for _it in range(200):
        sy = 0.0
        dsy = 0.0
        for i in range(n):
            if held_T:
                lk = lnk[i] - (u - math.log(P))
                dl = -1.0
            else:
                ai = _WA * (1.0 + comp[C_OMEGA, i]) * comp[C_TC, i]
                lk = lnk[i] + ai * (1.0 / T - u)
                dl = -ai
            k = math.exp(lk)
            K[i] = k
            if z[i] > 0.0:
                t = 1.0 - beta + beta * k
                if use_y:
                    q = k * z[i] / t  # y_i; d y_i / d ln K_i = y_i (1 - beta) / t
                    sy += q
                    dsy += q * (1.0 - beta) / t * dl
                else:
                    q = z[i] / t  # x_i; d x_i / d ln K_i = -x_i beta K_i / t
                    sy += q
                    dsy -= q * beta * k / t * dl
        if use_y:
            f = math.log(sy)
            df = dsy / sy
        else:
            f = -math.log(sy)
            df = -dsy / sy
        # f decreases with u (K falls as P rises or as 1/T rises)
        if not math.isfinite(f):
            nu = 0.5 * (a + b)
        else:
            if f > 0.0:
                a = u
            elif f < 0.0:
                b = u
            else:
                found = True
                break
            nu = u - f / df if df != 0.0 else 0.5 * (a + b)
            if not (nu > a and nu < b):
                nu = 0.5 * (a + b)
        if abs(nu - u) <= 1e-14 * max(1.0, abs(u)) or b - a <= 1e-14 * max(1.0, abs(u)):
            u = nu
            found = True
            break
        u = nu
    if not found:
        return np.nan
    if (u - u_lo) < 1e-10 * max(1.0, abs(u_lo)) or (u_hi - u) < 1e-10 * max(1.0, abs(u_hi)):
        return np.nan  # pinned at an end of the interval: no sign change inside
    if held_T:
        return math.exp(u)
    return 1.0 / u


@njit(cache=True, error_model="numpy")
def sat_eval(z, beta, lnk, T, P, comp, kij, eosp, wv, wm, F, J, jac, newT):
    """Residuals F (n+1: g_1..g_n, r) of the saturation system at (ln K, T, P) and, with ``jac``, the
    Jacobian J (n+1, n+2) with respect to (ln K_1..n, ln T, ln P). ``newT``: recompute the
    T-dependent EOS parameters. Returns (ok, Z_L, Z_V, sum x, sum y)."""
    n = z.shape[0]
    if newT:
        t_params(T, comp, kij, wm[M_AIJ], wm[M_DAIJ])
    x = wv[V_X]
    y = wv[V_Y]
    K = wv[V_K]
    sx = 0.0
    sy = 0.0
    for i in range(n):
        K[i] = math.exp(lnk[i])
        t = 1.0 - beta + beta * K[i]
        x[i] = z[i] / t
        y[i] = K[i] * x[i]
        sx += x[i]
        sy += y[i]
    # normalised compositions for the EOS
    xn = wv[V_TMP]
    yn = wv[V_AUX]
    for i in range(n):
        xn[i] = x[i] / sx
        yn[i] = y[i] / sy
    aij = wm[M_AIJ]
    zl = lnphi(xn, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPL])
    zv = lnphi(yn, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPV])
    if not (math.isfinite(zl) and math.isfinite(zv)):
        return False, zl, zv, sx, sy
    r = 0.0
    for i in range(n):
        F[i] = lnk[i] + wv[V_LNPV, i] - wv[V_LNPL, i]
        r += y[i] - x[i]
    F[n] = r
    if not jac:
        return True, zl, zv, sx, sy
    daij = wm[M_DAIJ]
    lnphi_derivs(xn, T, P, zl, aij, daij, comp, eosp, wv[V_PSI], wv[V_LNP2], wv[V_DT], wv[V_DP], wm[M_PL])
    lnphi_derivs(yn, T, P, zv, aij, daij, comp, eosp, wv[V_PSI], wv[V_LNP2], wv[V_DT2], wv[V_DP2], wm[M_PV])
    PL = wm[M_PL]
    PV = wm[M_PV]
    for j in range(n):
        t = 1.0 - beta + beta * K[j]
        dyj = y[j] * (1.0 - beta) / t  # d y_j / d ln K_j
        dxj = -x[j] * beta * K[j] / t  # d x_j / d ln K_j
        for i in range(n):
            v = PV[i, j] / sy * dyj - PL[i, j] / sx * dxj
            if i == j:
                v += 1.0
            J[i, j] = v
        J[n, j] = dyj - dxj
    for i in range(n):
        J[i, n] = T * (wv[V_DT2, i] - wv[V_DT, i])
        J[i, n + 1] = P * (wv[V_DP2, i] - wv[V_DP, i])
    J[n, n] = 0.0
    J[n, n + 1] = 0.0
    return True, zl, zv, sx, sy


@njit(cache=True, error_model="numpy")
def _norm(F, z, n):
    s = 0.0
    for i in range(n):
        if z[i] > 0.0:
            s = max(s, abs(F[i]))
    return max(s, abs(F[n]))


@njit(cache=True, error_model="numpy")
def pure_sat(held_T, T, P, zn, comp, kij, eosp, wv, wm, tol, maxit):
    """Saturation of a pure component (one component present): the liquid and vapour roots of the same
    composition with equal fugacity. Newton on g = ln phi^L - ln phi^V in ln P (T held: dg/dln P =
    P (v^L - v^V)/(R T)) or in T (P held: dg/dT = (H^r,V - H^r,L)/(R T^2)), kept inside the range where
    both roots exist by halving the step. Starts from Wilson's vapour pressure. Returns (status, T, P,
    Z_L, Z_V)."""
    n = zn.shape[0]
    k = 0
    for i in range(n):
        if zn[i] > 0.0:
            k = i
    tc = comp[C_TC, k]
    pc = comp[C_PC, k]
    a = _WA * (1.0 + comp[C_OMEGA, k])
    if held_T:
        if not (T < tc):
            return STAGNATED, T, P, np.nan, np.nan
        P = pc * math.exp(a * (1.0 - tc / T))
    else:
        if not (P < pc):
            return STAGNATED, T, P, np.nan, np.nan
        T = tc / (1.0 - math.log(P / pc) / a)
    aij = wm[M_AIJ]
    daij = wm[M_DAIJ]
    zl = np.nan
    zv = np.nan
    step = 0.0
    for _it in range(maxit):
        t_params(T, comp, kij, aij, daij)
        zl = lnphi(zn, T, P, aij, comp, eosp, _K[ROOT_LIQUID], wv[V_PSI], wv[V_LNPL])
        zv = lnphi(zn, T, P, aij, comp, eosp, _K[ROOT_VAPOUR], wv[V_PSI], wv[V_LNPV])
        if not (zv > zl * (1.0 + 1e-9)):
            # one root only: step back halfway (or, at the start, move towards the two-root region)
            if step != 0.0:
                step *= 0.5
                if held_T:
                    P = P * math.exp(-step)
                else:
                    T = T - step
                continue
            if held_T:
                P *= 0.9
            else:
                T *= 0.98
            continue
        g = wv[V_LNPL, k] - wv[V_LNPV, k]
        if abs(g) <= tol:
            return CONVERGED, T, P, zl, zv
        if held_T:
            dg = (zl - zv)  # P (v^L - v^V) / (R T) = Z^L - Z^V
            step = -g / dg
            step = min(max(step, -0.5), 0.5)
            P = P * math.exp(step)
        else:
            hl, _sl = departures(zn, T, P, zl, aij, daij, comp, eosp, wv[V_PSI])
            hv, _sv = departures(zn, T, P, zv, aij, daij, comp, eosp, wv[V_PSI])
            dg = (hv - hl) / (R * T * T)
            step = -g / dg
            step = min(max(step, -0.1 * T), 0.1 * T)
            T = T + step
    return MAX_ITER, T, P, zl, zv


@njit(cache=True, error_model="numpy")
def sat_row(spec, beta, T, P, z, lnk, warm, comp, kij, eosp, fopt, wv, wm, lu, F, J, Jsq, d, x, y, st):
    """A T-VF (spec 3: T held, P solved) or P-VF (spec 4) flash of feed z at vapour fraction beta.
    ``lnk``: in, a start when ``warm`` (with the free variable taken from T or P when finite); out, ln K.
    Returns a status code; outputs x, y (normalised), st."""
    n = z.shape[0]
    for k in range(N_ST):
        st[k] = 0.0
    st[ST_BETA] = beta
    st[ST_ZL] = np.nan
    st[ST_ZV] = np.nan
    st[ST_RES] = np.nan
    st[ST_H] = np.nan
    st[ST_S] = np.nan
    held_T = spec == SPEC_TVF
    st[ST_T] = T
    st[ST_P] = P
    if not (beta >= 0.0 and beta <= 1.0):
        return INVALID_INPUT
    if held_T and not (T > 0.0 and T < np.inf):
        return INVALID_INPUT
    if not held_T and not (P > 0.0 and P < np.inf):
        return INVALID_INPUT
    sz = 0.0
    for i in range(n):
        if not (z[i] >= 0.0 and z[i] < np.inf):
            return INVALID_INPUT
        sz += z[i]
    if sz <= 0.0:
        return INVALID_INPUT
    zn = wv[V_ZN]
    npresent = 0
    for i in range(n):
        zn[i] = z[i] / sz
        if zn[i] > 0.0:
            npresent += 1
    tol = fopt[FO_TOL]
    maxit = int(fopt[FO_SAT_MAX_ITER])
    if npresent == 1:
        code, T, P, zl, zv = pure_sat(held_T, T, P, zn, comp, kij, eosp, wv, wm, tol, maxit)
        st[ST_T] = T
        st[ST_P] = P
        st[ST_PATH] = PATH_SAT
        for i in range(n):
            x[i] = zn[i]
            y[i] = zn[i]
            lnk[i] = 0.0
        if code == CONVERGED:
            st[ST_ZL] = zl
            st[ST_ZV] = zv
            st[ST_PHASES] = 2.0
            st[ST_LABEL] = 2.0
            st[ST_RES] = 0.0
        return code
    lo = fopt[FO_P_MIN] if held_T else fopt[FO_T_MIN]
    hi = fopt[FO_P_MAX] if held_T else fopt[FO_T_MAX]
    # start: Wilson's K at the held variable with the free one from Rachford-Rice, unless warm
    have = warm
    if warm:
        for i in range(n):
            if not math.isfinite(lnk[i]):
                have = False
        free = P if held_T else T
        if not (free > 0.0 and free < np.inf):
            have = False
    if not have:
        Tw = T if held_T else 0.5 * (lo + hi)
        Pw = P if not held_T else math.sqrt(lo * hi)
        for i in range(n):
            lnk[i] = math.log(comp[C_PC, i] / Pw) + _WA * (1.0 + comp[C_OMEGA, i]) * (1.0 - comp[C_TC, i] / Tw)
        free = _solve_free(zn, beta, lnk, held_T, Tw, Pw, comp, lo, hi, wv[V_K])
        if not math.isfinite(free):
            return STAGNATED
        if held_T:
            for i in range(n):
                lnk[i] -= math.log(free / Pw)
            P = free
        else:
            for i in range(n):
                lnk[i] += _WA * (1.0 + comp[C_OMEGA, i]) * comp[C_TC, i] * (1.0 / Tw - 1.0 / free)
            T = free
    else:
        if held_T:
            P = free
        else:
            T = free
    if not held_T:
        T = min(max(T, lo), hi)
    t_params(T, comp, kij, wm[M_AIJ], wm[M_DAIJ])
    nit = 0
    # substitution with the free variable re-solved after each K update
    ok, zl, zv, sx, sy = sat_eval(zn, beta, lnk, T, P, comp, kij, eosp, wv, wm, F, J, _B[0], _B[0])
    if not ok:
        return NONFINITE
    res = _norm(F, zn, n)
    for _it in range(min(maxit, 30 if not have else 0)):
        if res < 1e-3:
            break
        for i in range(n):
            lnk[i] = wv[V_LNPL, i] - wv[V_LNPV, i]
        free = _solve_free(zn, beta, lnk, held_T, T, P, comp, lo, hi, wv[V_K])
        if not math.isfinite(free):
            return STAGNATED
        if held_T:
            for i in range(n):
                lnk[i] -= math.log(free / P)
            P = free
        else:
            for i in range(n):
                lnk[i] += _WA * (1.0 + comp[C_OMEGA, i]) * comp[C_TC, i] * (1.0 / T - 1.0 / free)
            T = free
        nit += 1
        ok, zl, zv, sx, sy = sat_eval(zn, beta, lnk, T, P, comp, kij, eosp, wv, wm, F, J, _B[0], not held_T)
        if not ok:
            return NONFINITE
        res = _norm(F, zn, n)
        s = 0.0
        for i in range(n):
            s += zn[i] * lnk[i] * lnk[i]
        if s < _TRIVIAL:
            return STAGNATED
    # Newton on (ln K, ln free)
    fc = n if not held_T else n + 1  # the Jacobian column of the free variable
    code = MAX_ITER
    for _it in range(maxit):
        ok, zl, zv, sx, sy = sat_eval(zn, beta, lnk, T, P, comp, kij, eosp, wv, wm, F, J, _B[1], _B[0])
        if not ok:
            code = NONFINITE
            break
        res = _norm(F, zn, n)
        s = 0.0
        for i in range(n):
            s += zn[i] * lnk[i] * lnk[i]
        if s < _TRIVIAL:
            code = STAGNATED
            break
        if res <= tol:
            code = CONVERGED
            break
        # the square system in (ln K, ln free): the held variable's column dropped
        for i in range(n + 1):
            for j in range(n):
                Jsq[i, j] = J[i, j]
            Jsq[i, n] = J[i, fc]
            F[i] = -F[i]
        if lu_solve(Jsq, F, lu, d) != 0:
            code = SINGULAR
            break
        # cap: ln free moves by at most 0.3, ln K by at most 2
        cap = 1.0
        if abs(d[n]) > 0.3:
            cap = 0.3 / abs(d[n])
        for i in range(n):
            if abs(d[i]) * cap > 2.0:
                cap = 2.0 / abs(d[i])
        # backtracking on the residual norm
        for i in range(n):
            wv[V_LNK0, i] = lnk[i]
        f0 = res
        T0 = T
        P0 = P
        t = cap
        accepted = False
        for _ in range(10):
            for i in range(n):
                lnk[i] = wv[V_LNK0, i] + t * d[i]
            if held_T:
                P = P0 * math.exp(t * d[n])
            else:
                T = T0 * math.exp(t * d[n])
            ok, zl, zv, sx, sy = sat_eval(zn, beta, lnk, T, P, comp, kij, eosp, wv, wm, F, J, _B[0], not held_T)
            if ok and _norm(F, zn, n) < (1.0 - 1e-4 * t) * f0:
                accepted = True
                break
            t *= 0.5
        nit += 1
        if not accepted:
            # keep the shortest step anyway (it is a descent direction); the next evaluation decides
            if not ok:
                code = NONFINITE
                break
    st[ST_T] = T
    st[ST_P] = P
    st[ST_NIT] = nit
    st[ST_NOUTER] = nit
    st[ST_RES] = res
    st[ST_PATH] = PATH_SAT
    for i in range(n):
        x[i] = wv[V_X, i] / sx
        y[i] = wv[V_Y, i] / sy
    st[ST_ZL] = zl
    st[ST_ZV] = zv
    st[ST_PHASES] = 2.0
    st[ST_LABEL] = 2.0
    if code == CONVERGED and (not (T >= lo and T <= hi) if not held_T else not (P >= lo and P <= hi)):
        code = STAGNATED
    return code


@njit(cache=True, error_model="numpy")
def _side(held_T, S, T, P, beta, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st):
    """Which side of the saturation condition the (T, P) state at free value S lies on: 1 when it splits
    with a vapour fraction above beta (or, for beta 0 / 1, when it splits at all), 0 when not, -1 when
    the flash failed. lnk holds the flash's ln K."""
    Tt = T if held_T else S
    Pt = S if held_T else P
    code = tp_row(Tt, Pt, z, lnk, _B[0], comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st)
    if code != CONVERGED:
        return -1
    two = st[ST_PHASES] == 2.0
    if beta <= 0.0 or beta >= 1.0:
        return 1 if two else 0
    b = st[ST_BETA]
    return 1 if (two and b > beta) else 0


@njit(cache=True, error_model="numpy")
def sat_bracket(spec, beta, T, P, S0, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st):
    """A start for the saturation Newton from (T, P) flashes: from S0 (a failed attempt's free variable),
    search outwards by factors of 1.15 for a state on the other side of the condition, bisect the
    bracket in ln S to 1e-6, and return the free value of its two-phase end (ln K in lnk) — NaN if there is
    no bracket inside the bounds. The safe route where Newton from Wilson's K slides to the trivial
    solution (a volatile oil's bubble point, retrograde dew points)."""
    z.shape[0]
    held_T = spec == SPEC_TVF
    lo = fopt[FO_P_MIN] if held_T else fopt[FO_T_MIN]
    hi = fopt[FO_P_MAX] if held_T else fopt[FO_T_MAX]
    if not (S0 > lo and S0 < hi):
        S0 = math.sqrt(lo * hi)
    s0 = _side(held_T, S0, T, P, beta, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st)
    if s0 < 0:
        return np.nan
    a = S0
    b = np.nan
    for k in range(1, 80):
        for sgn in range(2):
            S = S0 * 1.15 ** k if sgn == 0 else S0 / 1.15 ** k
            if S < lo or S > hi:
                continue
            sk = _side(held_T, S, T, P, beta, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y,
                       st)
            if sk >= 0 and sk != s0:
                b = S
                break
        if math.isfinite(b):
            break
    if not math.isfinite(b):
        return np.nan
    # keep a at the two-phase (side 1) end
    sa = s0
    if sa == 0:
        t = a
        a = b
        b = t
        sa = 1
    for _it in range(60):
        if abs(math.log(a / b)) < 1e-6:
            break
        m = math.sqrt(a * b)
        sm = _side(held_T, m, T, P, beta, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st)
        if sm < 0:
            break
        if sm == sa:
            a = m
        else:
            b = m
    _side(held_T, a, T, P, beta, z, lnk, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st)
    return a


@njit(cache=True, nogil=True, error_model="numpy")
def sat_rows(lo, hi, spec, beta, T, P, Z, lnK, start, comp, kij, eosp, fopt, dkind, dpar, sweep, hs, X, Y, st, status):
    """T-VF (spec 3) or P-VF (4) flash of rows lo..hi-1 (its own workspace; the GIL released): beta (N,) vapour
    fractions; T (N,) held (TVF) or a start (PVF, NaN: none); P likewise; Z (N, n); lnK (N, n) in/out with
    start (N,) int8 (1: use it and the free variable's start). With ``sweep``, a row starts from the answer of
    the row before it (from lo on). A row that Newton cannot solve from Wilson's K is bracketed by (T, P)
    flashes (``sat_bracket``)."""
    n = Z.shape[1]
    wv, wm, lu, hist = workspace(n)
    F = np.zeros(n + 1)
    J = np.zeros((n + 1, n + 2))
    Jsq = np.zeros((n + 1, n + 1))
    d = np.zeros(n + 1)
    for r in range(lo, hi):
        warm = start[r] != 0
        Tr = T[r]
        Pr = P[r]
        if sweep == 1 and r > lo and status[r - 1] == CONVERGED and not warm:
            for i in range(n):
                lnK[r, i] = lnK[r - 1, i]
            if spec == SPEC_TVF:
                Pr = st[r - 1, ST_P]
            else:
                Tr = st[r - 1, ST_T]
            warm = True
        code = sat_row(spec, beta[r], Tr, Pr, Z[r], lnK[r], warm, comp, kij, eosp, fopt, wv, wm, lu, F, J, Jsq, d,
                       X[r], Y[r], st[r])
        if code != CONVERGED and warm:
            code = sat_row(spec, beta[r], T[r], P[r], Z[r], lnK[r], _B[0], comp, kij, eosp, fopt, wv, wm, lu, F, J,
                           Jsq, d, X[r], Y[r], st[r])
        if code != CONVERGED and code != INVALID_INPUT:
            # bracket the condition with (T, P) flashes, then Newton from the two-phase end
            S0 = st[r, ST_P] if spec == SPEC_TVF else st[r, ST_T]
            its = st[r, ST_NIT]
            Sa = sat_bracket(spec, beta[r], T[r], P[r], S0, Z[r], lnK[r], comp, kij, eosp, fopt, dkind, dpar, wv, wm,
                             lu, hist, X[r], Y[r], st[r])
            if math.isfinite(Sa):
                code = sat_row(spec, beta[r], T[r] if spec == SPEC_TVF else Sa, Sa if spec == SPEC_TVF else P[r],
                               Z[r], lnK[r], _B[1], comp, kij, eosp, fopt, wv, wm, lu, F, J, Jsq, d, X[r], Y[r], st[r])
                st[r, ST_NIT] += its
            else:
                code = STAGNATED
                st[r, ST_PHASES] = 0.0
        status[r] = code
        if hs == 1 and code == CONVERGED:
            t_params(st[r, ST_T], comp, kij, wm[M_AIJ], wm[M_DAIJ])
            h, s = state_hs(st[r, ST_T], st[r, ST_P], wv[V_ZN], X[r], Y[r], beta[r], st[r, ST_ZL], st[r, ST_ZV], 2,
                            wm[M_AIJ], wm[M_DAIJ], comp, eosp, wv[V_PSI], wv[V_AUX], lu[0])
            st[r, ST_H] = h
            st[r, ST_S] = s


@njit(cache=True, error_model="numpy")
def _sens(z, X, s, comp, kij, eosp, wv, wm, lu, F, J, Jf, rhs, dX):
    """Evaluate the envelope system at X = (ln K, ln T, ln P) and the sensitivities dX/dS of the curve
    with X[s] = S held: [J; e_s] dX/dS = e_(n+1). Returns (ok, Z_incipient, Z_feed)."""
    n = z.shape[0]
    T = math.exp(X[n])
    P = math.exp(X[n + 1])
    ok, zl, zv, _sx, _sy = sat_eval(z, 1.0, X[:n], T, P, comp, kij, eosp, wv, wm, F, J, _B[1], _B[1])
    if not ok:
        return False, zl, zv
    for i in range(n + 1):
        for j in range(n + 2):
            Jf[i, j] = J[i, j]
        rhs[i] = 0.0
    for j in range(n + 2):
        Jf[n + 1, j] = 0.0
    Jf[n + 1, s] = 1.0
    rhs[n + 1] = 1.0
    if lu_solve(Jf, rhs, lu, dX) != 0:
        return False, zl, zv
    return True, zl, zv


@njit(cache=True, error_model="numpy")
def _correct(z, X, s, comp, kij, eosp, tol, wv, wm, lu, F, J, Jf, rhs, d):
    """Newton on the envelope system with X[s] held; X is updated. Returns (converged, iterations)."""
    n = z.shape[0]
    for it in range(15):
        T = math.exp(X[n])
        P = math.exp(X[n + 1])
        ok, _zl, _zv, _sx, _sy = sat_eval(z, 1.0, X[:n], T, P, comp, kij, eosp, wv, wm, F, J, _B[1], _B[1])
        if not ok:
            return False, it
        res = 0.0
        for i in range(n + 1):
            if i == n or z[i] > 0.0:
                res = max(res, abs(F[i]))
        if res <= tol:
            return True, it
        for i in range(n + 1):
            for j in range(n + 2):
                Jf[i, j] = J[i, j]
            rhs[i] = -F[i]
        for j in range(n + 2):
            Jf[n + 1, j] = 0.0
        Jf[n + 1, s] = 1.0
        rhs[n + 1] = 0.0
        if lu_solve(Jf, rhs, lu, d) != 0:
            return False, it
        big = 0.0
        for j in range(n + 2):
            big = max(big, abs(d[j]))
        c = 1.0 if big <= 0.5 else 0.5 / big
        for j in range(n + 2):
            X[j] += c * d[j]
    return False, 15


@njit(cache=True, error_model="numpy")
def envelope_trace(z, P0, step0, maxpts, comp, kij, eosp, fopt, Tout, Pout, lnKout, kind, info):
    """Trace the phase envelope of feed z by continuation in (ln K, ln T, ln P) (Michelsen 1980): start at the
    dew point at P0, hold ln P first, then whichever variable changes fastest along the curve; predict
    along the tangent, correct by Newton, adapt the step to the Newton iterations; step over the critical
    point (all ln K change sign; the spec ln K jumps to the mirror value) and estimate it by cubic Hermite
    interpolation of ln T, ln P in the spec ln K at 0; stop when P falls below P0 again (the last point is
    the bubble point at P0) or after maxpts points.

    Outputs Tout, Pout (maxpts,), lnKout (maxpts, n) (K = incipient / feed... stored as ln(feed/incipient)
    of the dew formulation, y = z), kind (maxpts,) 0 dew (the incipient phase is the denser, by mass) / 1 bubble;
    info: [status, points, Tc, Pc,
    steps, index after which the critical point lies]."""
    n = z.shape[0]
    wv, wm, lu, _hist = workspace(n)
    F = np.zeros(n + 1)
    J = np.zeros((n + 1, n + 2))
    Jsq = np.zeros((n + 1, n + 1))
    dv = np.zeros(n + 1)
    Jf = np.zeros((n + 2, n + 2))
    rhs = np.zeros(n + 2)
    dX = np.zeros(n + 2)
    dXn = np.zeros(n + 2)
    X = np.zeros(n + 2)
    Xn = np.zeros(n + 2)
    d = np.zeros(n + 2)
    st = np.zeros(N_ST)
    xo = np.zeros(n)
    yo = np.zeros(n)
    lnk = np.zeros(n)
    tol = max(fopt[FO_TOL], 1e-12)
    info[0] = MAX_ITER
    info[2] = np.nan
    info[3] = np.nan
    info[5] = -1
    code = sat_row(_K[SPEC_PVF], 1.0, np.nan, P0, z, lnk, _B[0], comp, kij, eosp, fopt, wv, wm, lu, F, J, Jsq, dv, xo,
                   yo, st)
    if code != CONVERGED:
        info[0] = code
        info[1] = 0
        return
    for i in range(n):
        X[i] = lnk[i]
    X[n] = math.log(st[ST_T])
    X[n + 1] = math.log(P0)
    s = n + 1
    dS = step0
    npts = 0
    steps = 0
    lnp0 = math.log(P0)
    ok, zi, zf = _sens(z, X, s, comp, kij, eosp, wv, wm, lu, F, J, Jf, rhs, dX)
    if not ok:
        info[0] = SINGULAR
        info[1] = 0
        return
    Tout[0] = math.exp(X[n])
    Pout[0] = P0
    for i in range(n):
        lnKout[0, i] = X[i]
    kind[0] = 1 if x_is_lighter(wv[V_TMP], wv[V_AUX], zi, zf, comp) else 0
    npts = 1
    crossed = False
    fails = 0
    while npts < maxpts and steps < 20 * maxpts:
        steps += 1
        # the spec: the variable that changes fastest along the curve
        best = s
        for j in range(n + 2):
            if abs(dX[j]) > abs(dX[best]):
                best = j
        if best != s:
            f = dX[best]
            for j in range(n + 2):
                dX[j] /= f
            dS *= f
            s = best
        # cap the step: no variable moves by more than 0.25 (ln units)
        big = 0.0
        for j in range(n + 2):
            big = max(big, abs(dX[j] * dS))
        if big > 0.25:
            dS *= 0.25 / big
        # near the critical point never land close to ln K = 0 (the trivial solution): jump to the mirror
        # value when it is near, else halve the distance first; not again right after a failed step
        if s < n and fails == 0 and abs(X[s]) < 0.5:
            land = X[s] + dS
            if abs(land) < 0.5 * abs(dS):
                dS = -2.0 * X[s] if abs(X[s]) <= 0.125 else -0.5 * X[s]
        for j in range(n + 2):
            Xn[j] = X[j] + dX[j] * dS
        conv, its = _correct(z, Xn, s, comp, kij, eosp, tol, wv, wm, lu, F, J, Jf, rhs, d)
        if conv:
            # the trivial solution is no point of the envelope
            tr = 0.0
            for i in range(n):
                tr += z[i] * Xn[i] * Xn[i]
            if tr < 1e-12:
                conv = False
        if not conv:
            dS *= 0.5
            fails += 1
            if abs(dS) < 1e-7:
                info[0] = STAGNATED
                break
            continue
        ok, zi, zf = _sens(z, Xn, s, comp, kij, eosp, wv, wm, lu, F, J, Jf, rhs, dXn)
        if not ok:
            dS *= 0.5
            fails += 1
            if abs(dS) < 1e-7:
                info[0] = SINGULAR
                break
            continue
        fails = 0
        # critical point between X and Xn: every ln K changed sign (judged on the largest one)
        k = 0
        for i in range(n):
            if abs(X[i]) > abs(X[k]):
                k = i
        if X[k] * Xn[k] < 0.0 and not crossed:
            for i in range(n):
                if abs(Xn[i] - X[i]) > abs(Xn[k] - X[k]):
                    k = i
            u0 = X[k]
            u1 = Xn[k]
            h = u1 - u0
            t = -u0 / h
            h00 = 2 * t ** 3 - 3 * t ** 2 + 1
            h10 = t ** 3 - 2 * t ** 2 + t
            h01 = -2 * t ** 3 + 3 * t ** 2
            h11 = t ** 3 - t ** 2
            for q in range(2):
                j = n + q
                m0 = dX[j] / dX[k]
                m1 = dXn[j] / dXn[k]
                v = h00 * X[j] + h10 * h * m0 + h01 * Xn[j] + h11 * h * m1
                # a cubic that leaves the neighbourhood of the two points is no estimate: linear then
                span = abs(Xn[j] - X[j])
                if not (v >= min(X[j], Xn[j]) - span and v <= max(X[j], Xn[j]) + span):
                    v = X[j] + t * (Xn[j] - X[j])
                info[2 + q] = math.exp(v)
            info[5] = npts - 1
            crossed = True
        for j in range(n + 2):
            X[j] = Xn[j]
            dX[j] = dXn[j]
        Tout[npts] = math.exp(X[n])
        Pout[npts] = math.exp(X[n + 1])
        for i in range(n):
            lnKout[npts, i] = X[i]
        kind[npts] = 1 if x_is_lighter(wv[V_TMP], wv[V_AUX], zi, zf, comp) else 0
        npts += 1
        if its <= 3:
            dS *= 1.5
        elif its > 5:
            dS *= 0.6
        # the end: back below P0 on the way down
        if X[n + 1] < lnp0 and dX[n + 1] * dS < 0.0 and npts > 2:
            # the last point exactly at P0: hold ln P
            for j in range(n + 2):
                Xn[j] = X[j]
            f = dX[n + 1]
            if f != 0.0:
                for j in range(n + 2):
                    Xn[j] = X[j] + dX[j] / f * (lnp0 - X[n + 1])
            Xn[n + 1] = lnp0
            conv, its = _correct(z, Xn, n + 1, comp, kij, eosp, tol, wv, wm, lu, F, J, Jf, rhs, d)
            if conv:
                ok, zi, zf = _sens(z, Xn, n + 1, comp, kij, eosp, wv, wm, lu, F, J, Jf, rhs, dXn)
                Tout[npts - 1] = math.exp(Xn[n])
                Pout[npts - 1] = P0
                for i in range(n):
                    lnKout[npts - 1, i] = Xn[i]
                kind[npts - 1] = 1 if x_is_lighter(wv[V_TMP], wv[V_AUX], zi, zf, comp) else 0
            info[0] = CONVERGED
            break
        if math.exp(X[n]) < fopt[FO_T_MIN] or math.exp(X[n]) > fopt[FO_T_MAX] or math.exp(X[n + 1]) > fopt[FO_P_MAX]:
            info[0] = STAGNATED
            break
    info[1] = npts
    info[4] = steps
