"""Isothermal (T, P) two-phase flash of a cubic-EOS mixture: stability analysis, Rachford-Rice,
successive substitution with damping and acceleration, Newton on ln K, and the batch loop.

Algorithms (Michelsen & Mollerup 2007, "Thermodynamic Models: Fundamentals and Computational Aspects",
chapters 9-10, and the papers below):

- Stability: Michelsen (1982a), "The isothermal flash problem. Part I. Stability", Fluid Phase Equilib.
  9, 1-19. The tangent-plane distance of a trial phase W (mole numbers) from the feed z,
  tm(W) = 1 + sum_i W_i (ln W_i + ln phi_i(w) - d_i - 1), d_i = ln z_i + ln phi_i(z), is minimised by
  successive substitution ln W_i <- d_i - ln phi_i(w) (each step lowers tm) from Wilson's vapour-like
  (W = z K) and liquid-like (W = z / K) trials and, optionally, one trial per pure component. A
  stationary point with tm < 0 proves the feed unstable and starts the split; none found: stable.
- Wilson (1969) K-values: K_i = (Pc_i / P) exp(5.373 (1 + w_i)(1 - Tc_i / T)) (G. M. Wilson, "A
  modified Redlich-Kwong equation of state...", AIChE 65th national meeting, 1969).
- Rachford & Rice (1952), J. Petrol. Technol. 4(10), 19-3, doi:10.2118/952327-G, solved on the
  Leibovici & Neoschil (1992) form (Fluid Phase Equilib. 74, 303-308, doi:10.1016/0378-3812(92)85069-K):
  F(beta) = (beta - beta_min)(beta_max - beta) sum_i z_i (K_i - 1) / (1 + beta (K_i - 1)), which has
  no poles in the window (beta_min, beta_max) = (1/(1 - K_max), 1/(1 - K_min)); Newton steps safeguarded
  by bisection of a bracket that always holds the root. The window is the negative flash's (Whitson &
  Michelsen 1989, "The negative flash", Fluid Phase Equilib. 53, 51-71): beta may leave [0, 1] while
  iterating; a converged beta outside (0, 1) means one phase.
- Successive substitution ln K <- ln phi^L(x) - ln phi^V(y), relaxed by a damping schedule of
  ``chemsolve.damping`` (read through ``kernels.damping``) and accelerated by the dominant eigenvalue
  method (Crowe & Nishio 1975, AIChE J. 21, 528-533; Michelsen 1982b, "The isothermal flash problem.
  Part II. Phase-split calculation", Fluid Phase Equilib. 9, 21-40), its general form with two
  eigenvalues (GDEM: Crowe & Nishio 1975; Michelsen & Mollerup 2007, ch. 10; ``_gdem``) or Anderson
  mixing (Anderson 1965, J. ACM 12, 547-560; Walker & Ni 2011, SIAM J. Numer. Anal. 49, 1715-1735).
- Newton on g(ln K) = ln K + ln phi^V(y(K)) - ln phi^L(x(K)) = 0, with x, y, beta from Rachford-Rice
  at every K (so the material balance holds exactly) and the exact Jacobian from the composition
  derivatives of ln phi (``flash_eos.lnphi_derivs``) and d beta / d ln K from the Rachford-Rice
  equation; backtracking on |g|^2, and back to substitution when a Newton step fails.

Nothing allocates inside a row; kernels never raise (status codes from ``codes``).
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import (
    ACC_ANDERSON,
    ACC_DEM,
    ACC_GDEM,
    CONVERGED,
    DAMP_ADAPTIVE,
    INVALID_INPUT,
    MAX_ITER,
    NONFINITE,
    SINGULAR,
    STAGNATED,
)
from .damping import adapt, first_factor
from .flash_eos import R, lnphi, lnphi_derivs, mix_ab, t_params
from .flash_layout import (
    C_MW,
    C_OMEGA,
    C_PC,
    C_TC,
    E_D1,
    E_D2,
    FO_ACC_KIND,
    FO_ACC_P1,
    FO_ACC_P2,
    FO_MAX_ITER,
    FO_MAX_SS,
    FO_NEGATIVE,
    FO_NEWTON_SWITCH,
    FO_STAB_MAX_ITER,
    FO_STAB_TOL,
    FO_STABILITY,
    FO_TOL,
    FO_TPD_TOL,
    FO_TRIALS,
    N_ST,
    PATH_SPLIT,
    PATH_STABLE,
    PATH_WARM,
    PATH_WILSON,
    ROOT_MIN_G,
    ST_BETA,
    ST_H,
    ST_LABEL,
    ST_NIT,
    ST_NSTAB,
    ST_P,
    ST_PATH,
    ST_PHASES,
    ST_RES,
    ST_S,
    ST_T,
    ST_TPD,
    ST_ZL,
    ST_ZV,
)
from .flash_props import state_hs
from .linalg import lu_solve

# rows of the vector workspace ``wv`` (NWV, n)
V_X = 0
V_Y = 1
V_LNPL = 2
V_LNPV = 3
V_PSI = 4
V_G = 5
V_K = 6  # K = exp(ln K)
V_PREV = 7  # previous substitution step (DEM) / ln K before an extrapolation
V_STEP = 8  # the current substitution step
V_SAVE = 9  # ln K of the plain (not extrapolated) point
V_TMP = 10
V_U = 11
V_BJ = 12
V_DIR = 13
V_D = 14  # stability: d_i = ln z_i + ln phi_i(z)
V_LNW = 15
V_W = 16
V_LNK0 = 17  # ln K at the start of a line search
V_DT = 18
V_DP = 19
V_AUX = 20
V_BEST = 21  # stability: K of the unstable trial / of a nontrivial stationary point
V_ZN = 22  # the normalised feed
V_G0 = 23
V_LNZ = 24  # ln z_i
V_DT2 = 25  # second phase's d ln phi / dT (saturation Newton)
V_DP2 = 26
V_LNP2 = 27
V_BASE = 28  # stability: ln W before the last substitution step
V_TRIAL = 29  # stability: the unstable trial's composition w (normalised)
V_PREV2 = 30  # the substitution step before V_PREV (GDEM)
N_WV = 31
# matrices ``wm`` (NWM, n, n)
M_PL = 0
M_PV = 1
M_J = 2
M_AIJ = 3
M_DAIJ = 4
N_WM = 5
MAX_ANDERSON = 6

_LN_TINY = -700.0
# Trivial solution: the two phases have become one (x = y). Judged on sum_i z_i (ln K_i)^2, a measure
# of how different the phases are: below 1e-10 the compositions differ by ~1e-5 relative, where no
# converged split of a cubic-EOS mixture is found in practice except within ~1e-4 of a critical point;
# a state there is labelled by stability analysis instead, and the certificate judges it.
_TRIVIAL = 1e-10
_WILSON_A = 5.373  # Wilson (1969)

# Flags and small integers passed to other kernels are read from these arrays, so that numba types them
# as runtime int64 / bool: a literal argument (True, 0, ROOT_MIN_G) would compile one more
# specialisation of the callee per distinct value.
_K = np.arange(8, dtype=np.int64)
_B = np.array([False, True])



@njit(cache=True, error_model="numpy")
def workspace(n):
    """Scratch arrays of one thread: vectors (N_WV, n), matrices (N_WM, n, n), LU scratch (n+2, n+3),
    Anderson history and its small least-squares system (3 MAX_ANDERSON + 1, max(n, MAX_ANDERSON + 1))."""
    return (np.zeros((N_WV, n)), np.zeros((N_WM, n, n)), np.zeros((n + 2, n + 3)),
            np.zeros((3 * MAX_ANDERSON + 1, max(n, MAX_ANDERSON + 1))))


@njit(cache=True, error_model="numpy")
def wilson_lnk(T, P, comp, out):
    """ln K_i of Wilson's correlation at T [K], P [Pa]."""
    n = out.shape[0]
    for i in range(n):
        out[i] = math.log(comp[C_PC, i] / P) + _WILSON_A * (1.0 + comp[C_OMEGA, i]) * (1.0 - comp[C_TC, i] / T)


@njit(cache=True, error_model="numpy")
def rachford_rice(z, K, beta0, x, y):
    """Solve sum_i z_i (K_i - 1) / (1 - beta + beta K_i) = 0 for beta in the negative-flash window;
    x_i = z_i / (1 - beta + beta K_i), y_i = K_i x_i (both normalised). Returns (flag, beta): flag 0 a
    root, 1 no root and all K <= 1 (beta = 0, x = z), 2 no root and all K >= 1 (beta = 1, y = z),
    3 non-finite K. ``beta0`` is a starting value (NaN: none)."""
    n = z.shape[0]
    kmin = np.inf
    kmax = -np.inf
    for i in range(n):
        if z[i] > 0.0:
            k = K[i]
            if not (k >= 0.0 and k < np.inf):
                return 3, np.nan
            kmin = min(kmin, k)
            kmax = max(kmax, k)
    if kmax <= 1.0 or kmin >= 1.0:
        flag = 1 if kmax <= 1.0 else 2
        beta = 0.0 if flag == 1 else 1.0
        sx = 0.0
        sy = 0.0
        for i in range(n):
            if flag == 1:
                x[i] = z[i]
                y[i] = K[i] * z[i]
            else:
                y[i] = z[i]
                x[i] = z[i] / K[i] if K[i] > 0.0 else 0.0
            sx += x[i]
            sy += y[i]
        for i in range(n):
            x[i] /= sx
            y[i] /= sy
        return flag, beta
    lo = 1.0 / (1.0 - kmax)  # < 0
    hi = 1.0 / (1.0 - kmin) if kmin > 0.0 else np.inf  # > 1
    if hi == np.inf:
        hi = 1.0 / (1.0 - kmin) if kmin > 0.0 else 1e300
    a = lo
    b = hi
    beta = beta0 if (beta0 > lo and beta0 < hi) else (0.5 if (lo < 0.5 and hi > 0.5) else 0.5 * (lo + hi))
    if not math.isfinite(beta):
        beta = 0.5
    for _ in range(200):
        h = 0.0
        dh = 0.0
        for i in range(n):
            if z[i] > 0.0:
                km1 = K[i] - 1.0
                t = (1.0 - beta) + beta * K[i]
                q = z[i] * km1 / t
                h += q
                dh -= q * km1 / t
        w = (beta - lo) * (hi - beta)
        f = w * h
        df = (hi - beta - (beta - lo)) * h + w * dh
        # h decreases in beta, so F > 0 left of the root and < 0 right of it
        if f > 0.0:
            a = beta
        elif f < 0.0:
            b = beta
        else:
            break
        nb = beta - f / df if df != 0.0 else 0.5 * (a + b)
        if not (nb > a and nb < b):
            nb = 0.5 * (a + b)
        if abs(nb - beta) <= 1e-15 * max(1.0, abs(beta)) or b - a <= 1e-15 * max(1.0, abs(beta)):
            beta = nb
            break
        beta = nb
    sx = 0.0
    sy = 0.0
    for i in range(n):
        t = (1.0 - beta) + beta * K[i]
        x[i] = z[i] / t
        y[i] = K[i] * x[i]
        sx += x[i]
        sy += y[i]
    for i in range(n):
        x[i] /= sx
        y[i] /= sy
    return 0, beta


@njit(cache=True, error_model="numpy")
def _eval(z, lnk, beta0, T, P, comp, eosp, wv, wm):
    """At ln K: Rachford-Rice (x, y, beta), ln phi of both phases, g = ln K + ln phi^V - ln phi^L.
    Returns (rr flag, beta, max|g| over components present, Z_L, Z_V)."""
    n = z.shape[0]
    K = wv[V_K]
    for i in range(n):
        K[i] = math.exp(lnk[i])
    flag, beta = rachford_rice(z, K, beta0, wv[V_X], wv[V_Y])
    if flag == 3:
        return flag, beta, np.nan, np.nan, np.nan
    aij = wm[M_AIJ]
    zl = lnphi(wv[V_X], T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPL])
    zv = lnphi(wv[V_Y], T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPV])
    res = 0.0
    g = wv[V_G]
    for i in range(n):
        g[i] = lnk[i] + wv[V_LNPV, i] - wv[V_LNPL, i]
        if z[i] > 0.0:
            a = abs(g[i])
            if not (a <= res):  # NaN propagates
                res = a
    return flag, beta, res, zl, zv


@njit(cache=True, error_model="numpy")
def _trivial(z, lnk):
    s = 0.0
    for i in range(z.shape[0]):
        s += z[i] * lnk[i] * lnk[i]
    return s < _TRIVIAL


@njit(cache=True, error_model="numpy")
def _newton_dir(z, beta, T, P, zl, zv, comp, eosp, wv, wm, lu, out):
    """The Newton direction of g(ln K) at the last evaluated point (out); returns 0 or 1 (singular)."""
    n = z.shape[0]
    x = wv[V_X]
    y = wv[V_Y]
    K = wv[V_K]
    aij = wm[M_AIJ]
    daij = wm[M_DAIJ]
    lnphi_derivs(x, T, P, zl, aij, daij, comp, eosp, wv[V_PSI], wv[V_AUX], wv[V_DT], wv[V_DP], wm[M_PL])
    lnphi_derivs(y, T, P, zv, aij, daij, comp, eosp, wv[V_PSI], wv[V_AUX], wv[V_DT], wv[V_DP], wm[M_PV])
    u = wv[V_U]
    bj = wv[V_BJ]
    den = 0.0
    for i in range(n):
        t = (1.0 - beta) + beta * K[i]
        u[i] = x[i] / t
        if z[i] > 0.0:
            den += z[i] * (K[i] - 1.0) ** 2 / (t * t)
    for j in range(n):
        t = (1.0 - beta) + beta * K[j]
        bj[j] = z[j] * K[j] / (t * t) / den if den > 0.0 else 0.0
    # c1_i = sum_k PV_ik K_k u_k (K_k - 1), c2_i = sum_k PL_ik u_k (K_k - 1)
    PL = wm[M_PL]
    PV = wm[M_PV]
    J = wm[M_J]
    c1 = wv[V_TMP]
    c2 = wv[V_AUX]
    for i in range(n):
        s1 = 0.0
        s2 = 0.0
        for k in range(n):
            w = u[k] * (K[k] - 1.0)
            s1 += PV[i, k] * K[k] * w
            s2 += PL[i, k] * w
        c1[i] = s1
        c2[i] = s2
    for i in range(n):
        for j in range(n):
            v = PV[i, j] * K[j] * u[j] * (1.0 - beta) + PL[i, j] * beta * K[j] * u[j] + (c2[i] - c1[i]) * bj[j]
            if i == j:
                v += 1.0
            J[i, j] = v
    g = wv[V_G]
    for i in range(n):
        wv[V_G0, i] = -g[i]
    code = lu_solve(J, wv[V_G0], lu, out)
    return code


@njit(cache=True, error_model="numpy")
def two_phase(T, P, z, lnk, beta, split, comp, eosp, fopt, dkind, dpar, wv, wm, lu, hist):
    """``_two_phase`` with the switch to Newton of the options."""
    return _two_phase(T, P, z, lnk, beta, split, fopt[FO_NEWTON_SWITCH], int(fopt[FO_MAX_SS]), comp, eosp, fopt,
                      dkind, dpar, wv, wm, lu, hist, _B[0], int(fopt[FO_MAX_ITER]))


@njit(cache=True, error_model="numpy")
def _two_phase(T, P, z, lnk, beta, split, switch, max_ss, comp, eosp, fopt, dkind, dpar, wv, wm, lu, hist, quit_outside,
               max_iter):
    """Solve the two-phase equilibrium from ln K (in/out). Returns (status, beta, Z_L, Z_V, iterations,
    max|g|); x, y in wv[V_X], wv[V_Y]. STAGNATED means the iteration reached the trivial solution.

    ``split`` True: the feed is known unstable (stability analysis), so the answer has 0 < beta < 1;
    Newton takes over only from a substitution iterate with 0 < beta < 1 (near the trivial solution a
    Newton step from a barely-split start can otherwise land on a spurious negative-flash root).
    ``switch``, ``max_ss``: substitution hands over to Newton when max|g| < switch or after max_ss steps;
    ``max_iter``: iterations in all.
    ``quit_outside``: give up (status STAGNATED) as soon as beta lies outside (0, 1) on two evaluations
    in a row (a warm start from a previous state's K that no longer splits: stability analysis is cheaper
    than converging a negative flash)."""
    n = z.shape[0]
    tol = fopt[FO_TOL]
    acc = int(fopt[FO_ACC_KIND])
    every = max(int(fopt[FO_ACC_P1]), 2)
    maxfac = fopt[FO_ACC_P2]
    depth = min(max(int(fopt[FO_ACC_P1]), 1), MAX_ANDERSON)
    reg = fopt[FO_ACC_P2]
    newton = False
    ss_count = 0
    since_acc = 0
    have_prev = False
    extrapolated = False
    ss_hold = 0  # substitution steps to take before Newton is tried again
    ngd = 0  # GDEM: consecutive substitution steps held in V_PREV, V_PREV2 (0, 1 or 2)
    alpha_state = dpar[0]
    nhist = _K[0]
    last_res = np.inf
    flag, beta, res, zl, zv = _eval(z, lnk, beta, T, P, comp, eosp, wv, wm)
    it = 0
    outside = 0
    while True:
        if quit_outside:
            if flag != 0 or not (beta > 0.0 and beta < 1.0):
                outside += 1
                if outside >= 2:
                    return STAGNATED, beta, zl, zv, it, res
            else:
                outside = 0
        if not math.isfinite(res):
            if extrapolated:  # the extrapolated point is unusable: go back to the plain one
                extrapolated = False
                for i in range(n):
                    lnk[i] = wv[V_SAVE, i]
                flag, beta, res, zl, zv = _eval(z, lnk, beta, T, P, comp, eosp, wv, wm)
                continue
            return NONFINITE, beta, zl, zv, it, res
        if extrapolated:
            extrapolated = False
            if res > last_res:  # the extrapolation did not help: use the plain point
                for i in range(n):
                    lnk[i] = wv[V_SAVE, i]
                flag, beta, res, zl, zv = _eval(z, lnk, beta, T, P, comp, eosp, wv, wm)
                have_prev = False
                ngd = 0
                if not math.isfinite(res):
                    return NONFINITE, beta, zl, zv, it, res
        if res <= tol:
            # flag 1 or 2 (all K on one side of 1): beta is 0 or 1, a single phase whose incipient
            # phase is a stationary point; the caller reads beta
            return CONVERGED, beta, zl, zv, it, res
        if _trivial(z, lnk):
            return STAGNATED, beta, zl, zv, it, res
        if it >= max_iter:
            return MAX_ITER, beta, zl, zv, it, res
        it += 1
        if not newton and ss_hold == 0 and flag == 0 and ss_count >= 1 and (res < switch or ss_count >= max_ss) \
                and (not split or (beta > 0.0 and beta < 1.0)):
            newton = True
        if newton and flag == 0:
            code = _newton_dir(z, beta, T, P, zl, zv, comp, eosp, wv, wm, lu, wv[V_DIR])
            ok = False
            if code == 0:
                phi0 = 0.0
                for i in range(n):
                    if z[i] > 0.0:
                        phi0 += wv[V_G, i] ** 2
                    wv[V_LNK0, i] = lnk[i]
                # cap the step: ln K moves by at most 3 per component per iteration
                big = 0.0
                for i in range(n):
                    big = max(big, abs(wv[V_DIR, i]))
                t = 1.0 if big <= 3.0 else 3.0 / big
                b0 = beta
                for _ in range(8):
                    for i in range(n):
                        lnk[i] = wv[V_LNK0, i] + t * wv[V_DIR, i]
                    flag, beta, res, zl, zv = _eval(z, lnk, b0, T, P, comp, eosp, wv, wm)
                    if math.isfinite(res):
                        phi = 0.0
                        for i in range(n):
                            if z[i] > 0.0:
                                phi += wv[V_G, i] ** 2
                        if phi <= (1.0 - 1e-4 * t) * phi0:
                            ok = True
                            break
                    t *= 0.5
            if not ok:  # Newton failed here: substitution from the start point for a while
                newton = False
                ss_hold = 5
                ngd = 0  # GDEM: a fresh history (the steps before Newton need not fit the steps after it)
                if code == 0:
                    for i in range(n):
                        lnk[i] = wv[V_LNK0, i]
                    flag, beta, res, zl, zv = _eval(z, lnk, beta, T, P, comp, eosp, wv, wm)
                    if not math.isfinite(res):
                        return NONFINITE, beta, zl, zv, it, res
            else:
                continue
        # successive substitution, relaxed: ln K <- ln K - alpha g
        ss_count += 1
        if ss_hold > 0:
            ss_hold -= 1
        if dkind == DAMP_ADAPTIVE and ss_count > 1:
            # Adaptive: grow after a substitution step that lowered max|g|, shrink after one that did not
            if res < last_res:
                alpha_state = adapt(dkind, dpar, alpha_state, 0, alpha_state)
            else:
                alpha_state = max(alpha_state * dpar[2], dpar[3])
        alpha = first_factor(dkind, dpar, ss_count - 1, alpha_state, res)
        step = wv[V_STEP]
        for i in range(n):
            step[i] = -alpha * wv[V_G, i]
        last_res = res
        if acc == ACC_ANDERSON and flag == 0:
            _anderson(lnk, step, hist, nhist, depth, reg, alpha, wv)
            nhist += 1
        else:
            for i in range(n):
                lnk[i] += step[i]
            since_acc += 1
            if acc == ACC_DEM and have_prev and since_acc >= every:
                num = 0.0
                dd = 0.0
                for i in range(n):
                    num += step[i] * step[i]
                    dd += wv[V_PREV, i] * step[i]
                if dd != 0.0:
                    lam = num / dd
                    if lam > 0.0 and lam < 1.0:
                        fac = min(lam / (1.0 - lam), maxfac)
                        for i in range(n):
                            wv[V_SAVE, i] = lnk[i]
                            lnk[i] += fac * step[i]
                        extrapolated = True
                        since_acc = 0
            elif acc == ACC_GDEM and ngd >= 2 and since_acc >= max(every, 3):
                if _gdem(lnk, step, wv, maxfac, n):
                    extrapolated = True
                    since_acc = 0
            for i in range(n):
                wv[V_PREV2, i] = wv[V_PREV, i]
                wv[V_PREV, i] = step[i]
            have_prev = True
            ngd = min(ngd + 1, 2)
        flag, beta, res, zl, zv = _eval(z, lnk, beta, T, P, comp, eosp, wv, wm)


@njit(cache=True, error_model="numpy")
def _gdem(lnk, step, wv, maxfac, n):
    """The general dominant eigenvalue method (GDEM; Crowe & Nishio 1975, AIChE J. 21, 528-533; as used for
    the flash in Michelsen & Mollerup 2007, ch. 10) with two eigenvalues. ``step`` is the last substitution
    step d_k (already added to ln K), wv[V_PREV], wv[V_PREV2] the two before it, d_(k-1) and d_(k-2).

    Near the solution the steps of successive substitution follow d_j + a1 d_(j-1) + a2 d_(j-2) = 0 when
    two eigenvalues of its Jacobian dominate (the roots of l^2 + a1 l + a2); a1, a2 come from the least
    squares of that relation at j = k. Summing the relation over the steps still to come gives their sum,
    the extrapolation e = (-(a1 + a2) d_k - a2 d_(k-1)) / (1 + a1 + a2), which reduces to DEM's
    l / (1 - l) d_k with one eigenvalue (a2 = 0, a1 = -l). When d_(k-1) and d_(k-2) are almost parallel
    (the 2x2 system is singular to 1e-12 relative) one eigenvalue is fitted instead. Applied only when both
    roots lie inside the unit circle (|a2| < 1, |a1| < 1 + a2: the iteration converges and 1 + a1 + a2 > 0),
    with |e| capped at ``maxfac`` |d_k|. ln K of the plain point goes to wv[V_SAVE]. Returns True when
    ln K was extrapolated."""
    b11 = 0.0
    b12 = 0.0
    b22 = 0.0
    b01 = 0.0
    b02 = 0.0
    b00 = 0.0
    for i in range(n):
        d1 = wv[V_PREV, i]
        d2 = wv[V_PREV2, i]
        b11 += d1 * d1
        b12 += d1 * d2
        b22 += d2 * d2
        b01 += step[i] * d1
        b02 += step[i] * d2
        b00 += step[i] * step[i]
    if not (b11 > 0.0 and b00 > 0.0):
        return False
    det = b11 * b22 - b12 * b12
    if det > 1e-12 * b11 * b22:
        a1 = (b02 * b12 - b01 * b22) / det
        a2 = (b01 * b12 - b02 * b11) / det
    else:
        a1 = -b01 / b11
        a2 = 0.0
    if not (abs(a2) < 1.0 and abs(a1) < 1.0 + a2):
        return False
    den = 1.0 + a1 + a2
    c0 = -(a1 + a2) / den
    c1 = -a2 / den
    ee = 0.0
    for i in range(n):
        e = c0 * step[i] + c1 * wv[V_PREV, i]
        ee += e * e
    if not math.isfinite(ee):
        return False
    scale = 1.0
    if ee > maxfac * maxfac * b00:
        scale = maxfac * math.sqrt(b00 / ee)
    for i in range(n):
        wv[V_SAVE, i] = lnk[i]
        lnk[i] += scale * (c0 * step[i] + c1 * wv[V_PREV, i])
    return True


@njit(cache=True, error_model="numpy")
def _anderson(u, step, hist, k, depth, reg, alpha, wv):
    """One Anderson-mixing update of u (ln K) with the damped fixed-point step ``step`` = alpha f(u).
    hist rows [0, depth) hold the last differences of u, rows [depth, 2 depth) those of f (scaled by
    alpha); row slots are used cyclically; wv[V_PREV] / wv[V_SAVE] keep the previous u and step."""
    n = u.shape[0]
    if k > 0:
        s = (k - 1) % depth
        for i in range(n):
            hist[s, i] = u[i] - wv[V_SAVE, i]
            hist[MAX_ANDERSON + s, i] = step[i] - wv[V_PREV, i]
    for i in range(n):
        wv[V_SAVE, i] = u[i]
        wv[V_PREV, i] = step[i]
    m = min(k, depth)
    if m == 0:
        for i in range(n):
            u[i] += step[i]
        return
    # normal equations (dF^T dF + reg I) gamma = dF^T f for the m stored columns (m <= 6), in the rows
    # [2 MAX_ANDERSON, 3 MAX_ANDERSON) of hist; gamma in row 3 MAX_ANDERSON
    a = hist[2 * MAX_ANDERSON:3 * MAX_ANDERSON]
    gam = hist[3 * MAX_ANDERSON]
    for p in range(m):
        for q in range(m):
            s = 0.0
            for i in range(n):
                s += hist[MAX_ANDERSON + p, i] * hist[MAX_ANDERSON + q, i]
            a[p, q] = s
        a[p, p] += reg * (1.0 + a[p, p])
        s = 0.0
        for i in range(n):
            s += hist[MAX_ANDERSON + p, i] * step[i]
        a[p, MAX_ANDERSON] = s
    # Gaussian elimination (symmetric positive definite with the regularisation)
    for c in range(m):
        piv = a[c, c]
        if piv <= 0.0:
            for i in range(n):
                u[i] += step[i]
            return
        for r in range(c + 1, m):
            f = a[r, c] / piv
            for q in range(c, m):
                a[r, q] -= f * a[c, q]
            a[r, MAX_ANDERSON] -= f * a[c, MAX_ANDERSON]
    for c in range(m - 1, -1, -1):
        s = a[c, MAX_ANDERSON]
        for q in range(c + 1, m):
            s -= a[c, q] * gam[q]
        gam[c] = s / a[c, c]
    for i in range(n):
        v = u[i] + step[i]
        for p in range(m):
            v -= gam[p] * (hist[p, i] + hist[MAX_ANDERSON + p, i])
        u[i] = v


@njit(cache=True, error_model="numpy")
def stability(T, P, z, comp, eosp, fopt, wv, wm):
    """Michelsen's stability analysis of the feed z at T, P. Returns (unstable, tm_min, iterations,
    found): unstable True when a trial reached tm < -tpd_tol; then wv[V_BEST] holds the ln K that
    starts the split (the trial as the phase of larger Z). ``found`` is True when wv[V_BEST] holds a
    nontrivial stationary point (a single-phase feed's incipient phase)."""
    n = z.shape[0]
    aij = wm[M_AIJ]
    d = wv[V_D]
    lnz = wv[V_LNZ]
    zf = lnphi(z, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], d)
    for i in range(n):
        lnz[i] = math.log(z[i]) if z[i] > 0.0 else -np.inf
        d[i] = lnz[i] + d[i]
    tol = fopt[FO_STAB_TOL]
    maxit = int(fopt[FO_STAB_MAX_ITER])
    tpd_tol = fopt[FO_TPD_TOL]
    ntrial = 2 + (n if fopt[FO_TRIALS] > 0.0 else 0)
    lnw = wv[V_LNW]
    w = wv[V_W]
    lnp = wv[V_AUX]
    wil = wv[V_TMP]
    wilson_lnk(T, P, comp, wil)
    tm_min = 0.0
    total = 0
    found = False
    for trial in range(ntrial):
        for i in range(n):
            if z[i] <= 0.0:
                lnw[i] = -np.inf
            elif trial == 0:
                lnw[i] = math.log(z[i]) + wil[i]
            elif trial == 1:
                lnw[i] = math.log(z[i]) - wil[i]
            else:
                lnw[i] = 0.0 if i == trial - 2 else -np.inf
        if trial >= 2 and z[trial - 2] <= 0.0:
            continue
        have_prev = False
        since = 0
        tm = np.inf
        conv = False
        extrapolated = False
        tm_before = np.inf
        tm_last = np.inf
        halvings = 0
        for it in range(maxit):
            total += 1
            sw = 0.0
            for i in range(n):
                w[i] = math.exp(lnw[i]) if lnw[i] > _LN_TINY else 0.0
                sw += w[i]
            for i in range(n):
                w[i] /= sw
            zw = lnphi(w, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], lnp)
            if not math.isfinite(zw):
                if extrapolated:
                    extrapolated = False
                    for i in range(n):
                        lnw[i] = wv[V_SAVE, i]
                    continue
                break
            # tm at the current W (mole numbers exp(ln W))
            tm = 1.0
            for i in range(n):
                if w[i] > 0.0:
                    tm += sw * w[i] * (lnw[i] + lnp[i] - d[i] - 1.0)
            if extrapolated:
                extrapolated = False
                if not (tm <= tm_before):  # the extrapolation did not lower tm: the plain point instead
                    for i in range(n):
                        lnw[i] = wv[V_SAVE, i]
                    have_prev = False
                    continue
            elif tm > tm_last + 1e-13 * (1.0 + abs(tm_last)):
                # where the trial's lowest-G root switches, plain substitution need not lower tm and can
                # cycle: halve the step back towards the last point
                if halvings < 40:
                    halvings += 1
                    for i in range(n):
                        if z[i] > 0.0:
                            lnw[i] = wv[V_BASE, i] + 0.5 * (lnw[i] - wv[V_BASE, i])
                    have_prev = False
                    continue
                tm = tm_last
                break
            halvings = 0
            tm_last = tm
            # substitution step
            dmax = 0.0
            num = 0.0
            den = 0.0
            for i in range(n):
                wv[V_BASE, i] = lnw[i]
                if z[i] > 0.0:
                    new = d[i] - lnp[i]
                    s = new - lnw[i]
                    if math.isfinite(s):
                        num += s * s
                        den += s * wv[V_PREV, i]
                        dmax = max(dmax, abs(s))
                    wv[V_STEP, i] = s
                    lnw[i] = new
            if tm < -tpd_tol and (dmax < 1e-6 or tm < -1e-3) and it >= 2:
                # clearly unstable; the two-phase solve takes over from the point whose tm was measured (the
                # step just taken need not lower tm where the trial's lowest-G root switches)
                for i in range(n):
                    lnw[i] = wv[V_BASE, i]
                break
            if dmax <= tol:
                conv = True
                break
            # trivial: the trial has become the feed
            sdev = 0.0
            for i in range(n):
                if z[i] > 0.0:
                    e = lnw[i] - lnz[i]
                    sdev += z[i] * e * e
            if sdev < 1e-10 and tm > -tpd_tol:
                break
            since += 1
            # dominant-eigenvalue extrapolation (Crowe & Nishio 1975) every 5th step, kept only when it
            # lowers tm: near a critical point lambda -> 1 and plain substitution needs thousands of steps
            if have_prev and since >= 5 and den != 0.0:
                lam = num / den
                if lam > 0.0 and lam < 1.0:
                    fac = min(lam / (1.0 - lam), 1000.0)
                    for i in range(n):
                        wv[V_SAVE, i] = lnw[i]
                        if z[i] > 0.0:
                            lnw[i] += fac * wv[V_STEP, i]
                    since = 0
                    have_prev = False
                    extrapolated = True
                    tm_before = tm
                    continue
            for i in range(n):
                wv[V_PREV, i] = wv[V_STEP, i]
            have_prev = True
        tm_min = min(tm_min, tm)
        if tm < -tpd_tol or conv:
            # K of the split: the trial taken as the phase of larger Z
            sw = 0.0
            for i in range(n):
                w[i] = math.exp(lnw[i]) if lnw[i] > _LN_TINY else 0.0
                sw += w[i]
            sdev = 0.0
            for i in range(n):
                w[i] /= sw
                if z[i] > 0.0 and w[i] > 0.0:
                    e = math.log(w[i]) - math.log(z[i])
                    sdev += z[i] * e * e
            if tm < -tpd_tol or sdev > 1e-6:
                zw = lnphi(w, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], lnp)
                sgn = 1.0 if zw >= zf else -1.0
                for i in range(n):
                    if z[i] > 0.0 and w[i] > 0.0:
                        wv[V_BEST, i] = sgn * (math.log(w[i]) - math.log(z[i]))
                    else:
                        wv[V_BEST, i] = 0.0  # an absent component: its K plays no part
                if tm < -tpd_tol:
                    for i in range(n):
                        wv[V_TRIAL, i] = w[i]
                    return True, tm_min, total, True
                found = True
    return False, tm_min, total, found


@njit(cache=True, error_model="numpy")
def _phase_g(T, P, z, v, comp, eosp, wv, wm):
    """G/RT (less the ideal-gas part) of the split with vapour moles v (liquid z - v) per mole of feed;
    x, y, ln phi in wv; returns (G, beta, Z_L, Z_V), G = inf when a phase has no root or leaves (0, z)."""
    n = z.shape[0]
    x = wv[V_X]
    y = wv[V_Y]
    beta = 0.0
    for i in range(n):
        beta += v[i]
    if not (beta > 0.0 and beta < 1.0):
        return np.inf, beta, np.nan, np.nan
    for i in range(n):
        if z[i] > 0.0 and not (v[i] > 0.0 and v[i] < z[i]):
            return np.inf, beta, np.nan, np.nan
        y[i] = v[i] / beta
        x[i] = (z[i] - v[i]) / (1.0 - beta)
    aij = wm[M_AIJ]
    zl = lnphi(x, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPL])
    zv = lnphi(y, T, P, aij, comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_LNPV])
    if not (math.isfinite(zl) and math.isfinite(zv)):
        return np.inf, beta, zl, zv
    g = 0.0
    for i in range(n):
        if z[i] > 0.0:
            g += v[i] * (math.log(y[i]) + wv[V_LNPV, i]) + (z[i] - v[i]) * (math.log(x[i]) + wv[V_LNPL, i])
    return g, beta, zl, zv


@njit(cache=True, error_model="numpy")
def gibbs_newton(T, P, z, lnk, comp, eosp, fopt, wv, wm, lu, from_trial):
    """Second-order minimisation of the Gibbs energy of a split in the vapour mole numbers v (Michelsen
    1982b; Michelsen & Mollerup 2007, section 10.x): Newton steps on H dv = -g with
    g_i = ln(y_i phi_i^V) - ln(x_i phi_i^L) and H_ij = (delta_ij/y_i - 1 + PhiV_ij)/beta +
    (delta_ij/x_i - 1 + PhiL_ij)/(1 - beta), a step kept only when G falls (halved otherwise), shifted to
    a positive-definite matrix when H is not. The safe route near a critical point, where substitution
    and Newton on ln K can slide to the trivial solution or to a spurious negative-flash root: every
    iterate keeps 0 < v < z and lowers G.

    Start: with ``from_trial``, the unstable trial phase w of stability analysis (wv[V_TRIAL]) as the
    second phase, v = beta w, in the amount beta that gives the lowest G of a few tried (a trial with
    tm < 0 lowers G from the feed's for small beta: Michelsen 1982a); else from ln K (Rachford-Rice
    restricted to (0, 1)). Returns (status, beta, Z_L, Z_V, iterations, max|g|)."""
    n = z.shape[0]
    v = wv[V_W]
    if from_trial:
        # every present component in the trial phase (a trial that began as a pure component may still
        # hold exact zeros, where ln y is not defined)
        sw = 0.0
        for i in range(n):
            if z[i] > 0.0:
                wv[V_TRIAL, i] = max(wv[V_TRIAL, i], 1e-12 * z[i])
            sw += wv[V_TRIAL, i]
        for i in range(n):
            wv[V_TRIAL, i] /= sw
        bmax = np.inf
        for i in range(n):
            if z[i] > 0.0 and wv[V_TRIAL, i] > 0.0:
                bmax = min(bmax, z[i] / wv[V_TRIAL, i])
        bmax = min(bmax, 1.0)
        Gbest = np.inf
        bbest = np.nan
        for frac in (0.9, 0.6, 0.3, 0.1, 0.02):
            b = frac * bmax
            for i in range(n):
                v[i] = b * wv[V_TRIAL, i] if z[i] > 0.0 else 0.0
            Gt, bt, zlt, zvt = _phase_g(T, P, z, v, comp, eosp, wv, wm)
            if Gt < Gbest:
                Gbest = Gt
                bbest = b
        if not math.isfinite(Gbest):
            return NONFINITE, np.nan, np.nan, np.nan, 0, np.nan
        for i in range(n):
            v[i] = bbest * wv[V_TRIAL, i] if z[i] > 0.0 else 0.0
    else:
        K = wv[V_K]
        for i in range(n):
            K[i] = math.exp(lnk[i])
        flag, beta = rachford_rice(z, K, np.nan, wv[V_X], wv[V_Y])
        if flag != 0 or not (beta > 1e-3 and beta < 1.0 - 1e-3):
            beta = min(max(beta if math.isfinite(beta) else 0.5, 0.05), 0.95)
            sx = 0.0
            sy = 0.0
            for i in range(n):
                t = 1.0 - beta + beta * K[i]
                wv[V_X, i] = z[i] / t
                wv[V_Y, i] = K[i] * z[i] / t
                sx += wv[V_X, i]
                sy += wv[V_Y, i]
            for i in range(n):
                wv[V_X, i] /= sx
                wv[V_Y, i] /= sy
        for i in range(n):
            v[i] = min(max(beta * wv[V_Y, i], 1e-300), z[i] * (1.0 - 1e-12)) if z[i] > 0.0 else 0.0
    tol = fopt[FO_TOL]
    G, beta, zl, zv = _phase_g(T, P, z, v, comp, eosp, wv, wm)
    if not math.isfinite(G):
        return NONFINITE, beta, zl, zv, 0, np.nan
    aij = wm[M_AIJ]
    daij = wm[M_DAIJ]
    H = wm[M_J]
    res = np.inf
    g_check = G
    for it in range(int(fopt[FO_MAX_ITER])):
        if it > 0 and it % 50 == 0:
            # fifty steps that lowered G by less than 1e-13 RT: crawling through a flat region, give up
            if g_check - G < 1e-13:
                return STAGNATED, beta, zl, zv, it, res
            g_check = G
        res = 0.0
        for i in range(n):
            if z[i] > 0.0:
                gi = math.log(wv[V_Y, i]) + wv[V_LNPV, i] - math.log(wv[V_X, i]) - wv[V_LNPL, i]
                wv[V_G, i] = gi
                res = max(res, abs(gi))
            else:
                wv[V_G, i] = 0.0
        for i in range(n):
            lnk[i] = math.log(wv[V_Y, i] / wv[V_X, i]) if z[i] > 0.0 else lnk[i]
        if res <= tol:
            return CONVERGED, beta, zl, zv, it, res
        lnphi_derivs(wv[V_X], T, P, zl, aij, daij, comp, eosp, wv[V_PSI], wv[V_AUX], wv[V_DT], wv[V_DP], wm[M_PL])
        lnphi_derivs(wv[V_Y], T, P, zv, aij, daij, comp, eosp, wv[V_PSI], wv[V_AUX], wv[V_DT], wv[V_DP], wm[M_PV])
        shift = 0.0
        ok = False
        for _attempt in range(6):
            for i in range(n):
                for j in range(n):
                    h = (wm[M_PV, i, j] - 1.0) / beta + (wm[M_PL, i, j] - 1.0) / (1.0 - beta)
                    if i == j:
                        if z[i] > 0.0:
                            h += 1.0 / (beta * wv[V_Y, i]) + 1.0 / ((1.0 - beta) * wv[V_X, i]) + shift
                        else:
                            h = 1.0
                    elif z[i] <= 0.0 or z[j] <= 0.0:
                        h = 0.0
                    H[i, j] = h
                wv[V_G0, i] = -wv[V_G, i]
            if lu_solve(H, wv[V_G0], lu, wv[V_DIR]) == 0:
                slope = 0.0
                for i in range(n):
                    slope += wv[V_G, i] * wv[V_DIR, i]
                if slope < 0.0:  # a descent direction
                    ok = True
                    break
            shift = 1.0 if shift == 0.0 else shift * 10.0
        if not ok:
            return SINGULAR, beta, zl, zv, it, res
        # the largest step that keeps 0 < v < z, then halving until G falls
        t = 1.0
        for i in range(n):
            if z[i] > 0.0:
                d = wv[V_DIR, i]
                if v[i] + t * d <= 0.0:
                    t = 0.9 * v[i] / (-d)
                if v[i] + t * d >= z[i]:
                    t = 0.9 * (z[i] - v[i]) / d
        for i in range(n):
            wv[V_SAVE, i] = v[i]
        accepted = False
        for _ in range(30):
            for i in range(n):
                v[i] = wv[V_SAVE, i] + t * wv[V_DIR, i] if z[i] > 0.0 else 0.0
            G1, b1, zl1, zv1 = _phase_g(T, P, z, v, comp, eosp, wv, wm)
            if G1 <= G:
                accepted = True
                G = G1
                beta = b1
                zl = zl1
                zv = zv1
                break
            t *= 0.5
        if not accepted:
            for i in range(n):
                v[i] = wv[V_SAVE, i]
            G, beta, zl, zv = _phase_g(T, P, z, v, comp, eosp, wv, wm)
            return STAGNATED, beta, zl, zv, it, res
    return MAX_ITER, beta, zl, zv, int(fopt[FO_MAX_ITER]), res


@njit(cache=True, error_model="numpy")
def pip_label(x, T, P, Z, comp, eosp, wv, wm):
    """1 (vapour) or 0 (liquid) by the phase identification parameter of Venkatarathnam & Oellrich
    (2011), Fluid Phase Equilib. 301, 225-233: PIP = V (P_TV / P_T - P_VV / P_V) > 1 is a liquid."""
    n = x.shape[0]
    am, bm = mix_ab(x, wm[M_AIJ], comp, wv[V_PSI])
    da = 0.0
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += wm[M_DAIJ, i, j] * x[j]
        da += x[i] * s
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    V = Z * R * T / P
    vb = V - bm
    Q = (V + d1 * bm) * (V + d2 * bm)
    Qp = 2.0 * V + (d1 + d2) * bm
    PV = -R * T / (vb * vb) + am * Qp / (Q * Q)
    PVV = 2.0 * R * T / (vb * vb * vb) + am * (2.0 * Q - 2.0 * Qp * Qp) / (Q * Q * Q)
    PT = R / vb - da / Q
    PTV = -R / (vb * vb) + da * Qp / (Q * Q)
    pip = V * (PTV / PT - PVV / PV)
    return 0 if pip > 1.0 else 1


@njit(cache=True, error_model="numpy")
def tp_row(T, P, z, lnk, warm, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st):
    """The flash of one feed z at T [K], P [Pa]. ``lnk`` (in/out) is ln K: read when ``warm`` (a
    two-phase solve is tried from it first, without stability analysis), written always (the K of the
    answer; of a single phase, its incipient phase's when stability found one, else Wilson's).
    Outputs x, y (NaN for an absent phase), st (N_ST slots). Returns a status code."""
    n = z.shape[0]
    for k in range(N_ST):
        st[k] = 0.0
    st[ST_BETA] = np.nan
    st[ST_ZL] = np.nan
    st[ST_ZV] = np.nan
    st[ST_RES] = np.nan
    if not (T > 0.0 and P > 0.0 and T < np.inf and P < np.inf):
        return INVALID_INPUT
    sz = 0.0
    for i in range(n):
        if not (z[i] >= 0.0 and z[i] < np.inf):
            return INVALID_INPUT
        sz += z[i]
    if sz <= 0.0:
        return INVALID_INPUT
    zn = wv[V_ZN]
    for i in range(n):
        zn[i] = z[i] / sz
    t_params(T, comp, kij, wm[M_AIJ], wm[M_DAIJ])
    nit = 0
    if warm:
        ok = True
        for i in range(n):
            if not math.isfinite(lnk[i]):
                ok = False
        if ok:
            code, beta, zl, zv, its, res = _two_phase(T, P, zn, lnk, 0.5, _B[1], fopt[FO_NEWTON_SWITCH],
                                                      int(fopt[FO_MAX_SS]), comp, eosp, fopt, dkind, dpar, wv,
                                                      wm, lu, hist, _B[1], int(fopt[FO_MAX_ITER]))
            nit += its
            if code == CONVERGED and beta > 0.0 and beta < 1.0:
                return _two_phase_out(zn, lnk, beta, zl, zv, res, nit, _K[PATH_WARM], wv, x, y, st, comp)
    path = PATH_WILSON
    if fopt[FO_STABILITY] > 0.0:
        unstable, tm, nst, found = stability(T, P, zn, comp, eosp, fopt, wv, wm)
        st[ST_NSTAB] = nst
        st[ST_TPD] = tm
        if not unstable:
            if found:
                for i in range(n):
                    lnk[i] = wv[V_BEST, i]
            else:
                wilson_lnk(T, P, comp, lnk)
            return _single_out(T, P, zn, lnk, nit, comp, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st,
                               _K[PATH_STABLE])
        for i in range(n):
            lnk[i] = wv[V_BEST, i]
        path = PATH_SPLIT
    else:
        wilson_lnk(T, P, comp, lnk)
    code, beta, zl, zv, its, res = two_phase(T, P, zn, lnk, np.nan, path == PATH_SPLIT, comp, eosp, fopt,
                                             dkind, dpar, wv, wm, lu, hist)
    nit += its
    for attempt in range(4):
        if not (path == PATH_SPLIT and not (code == CONVERGED and beta > 0.0 and beta < 1.0)):
            break
        # the split from the unstable trial ended on one phase or did not converge. Near a critical point
        # (or the spinodal) the trial's stationary point can lie barely off the feed, and both substitution
        # and Newton on ln K may slide to the trivial solution or a spurious negative-flash root. Next:
        # minimise G from the trial phase itself (as the second phase, in the amount of lowest G), then
        # from three times the trial's ln K (the split lies further out along the same direction); then accelerated
        # substitution with Newton only at the end (|g| < 1e-6),
        # which converges slowly but surely near a critical point, with ten times the iterations, from
        # the trial's K and from Wilson's. Whatever comes out, the certificate judges.
        for i in range(n):
            if attempt == 0 or attempt == 2:
                lnk[i] = wv[V_BEST, i]
            elif attempt == 1:
                lnk[i] = 3.0 * wv[V_BEST, i]
        if attempt == 3:
            wilson_lnk(T, P, comp, lnk)
        if attempt >= 2:
            code, beta, zl, zv, its, res = _two_phase(T, P, zn, lnk, np.nan, _B[1], 1e-6,
                                                      10 * int(fopt[FO_MAX_ITER]), comp, eosp, fopt, dkind, dpar, wv,
                                                      wm, lu, hist, _B[0], 10 * int(fopt[FO_MAX_ITER]))
        else:
            code, beta, zl, zv, its, res = gibbs_newton(T, P, zn, lnk, comp, eosp, fopt, wv, wm, lu, attempt == 0)
        nit += its
    if code == CONVERGED and beta > 0.0 and beta < 1.0:
        return _two_phase_out(zn, lnk, beta, zl, zv, res, nit, path, wv, x, y, st, comp)
    if path == PATH_WILSON and (code == CONVERGED or code == STAGNATED):
        # no stability analysis: a converged beta outside (0, 1), or the trivial solution, is one phase
        return _single_out(T, P, zn, lnk, nit, comp, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st,
                           _K[PATH_WILSON])
    st[ST_NIT] = nit
    st[ST_RES] = res
    st[ST_PATH] = path
    for i in range(n):
        x[i] = wv[V_X, i]
        y[i] = wv[V_Y, i]
    st[ST_BETA] = beta
    st[ST_ZL] = zl
    st[ST_ZV] = zv
    if code == CONVERGED:
        # the split from an unstable trial converged to one phase: not an answer
        return STAGNATED
    return code


@njit(cache=True, error_model="numpy")
def x_is_lighter(x, y, zx, zy, comp):
    """True when phase x has the lower mass density (it is the vapour): sum x_i M_i / Z_x against
    sum y_i M_i / Z_y (the common R T / P cancels). Without molar masses, the larger molar volume (Z).
    Molar volume alone misleads at high pressure, where an oil of heavy molecules can take more volume per
    mole than the gas above it."""
    mx = 0.0
    my = 0.0
    for i in range(x.shape[0]):
        mx += x[i] * comp[C_MW, i]
        my += y[i] * comp[C_MW, i]
    if math.isfinite(mx) and math.isfinite(my) and mx > 0.0 and my > 0.0:
        return mx / zx < my / zy
    return zx > zy


@njit(cache=True, error_model="numpy")
def _two_phase_out(zn, lnk, beta, zl, zv, res, nit, path, wv, x, y, st, comp):
    n = zn.shape[0]
    swap = x_is_lighter(wv[V_X], wv[V_Y], zl, zv, comp)  # the vapour is the phase of lower mass density
    for i in range(n):
        if swap:
            x[i] = wv[V_Y, i]
            y[i] = wv[V_X, i]
            lnk[i] = -lnk[i]
        else:
            x[i] = wv[V_X, i]
            y[i] = wv[V_Y, i]
    st[ST_BETA] = 1.0 - beta if swap else beta
    st[ST_ZL] = zv if swap else zl
    st[ST_ZV] = zl if swap else zv
    st[ST_PHASES] = 2.0
    st[ST_LABEL] = 2.0
    st[ST_NIT] = nit
    st[ST_RES] = res
    st[ST_PATH] = path
    return CONVERGED


@njit(cache=True, error_model="numpy")
def _single_out(T, P, zn, lnk, nit, comp, eosp, fopt, dkind, dpar, wv, wm, lu, hist, x, y, st, path):
    """Outputs of a single-phase feed: the phase label from PIP, beta 0 (liquid) or 1 (vapour), the
    present phase = z; with the negative-flash option, the negative-flash split when it converges."""
    n = zn.shape[0]
    Z = lnphi(zn, T, P, wm[M_AIJ], comp, eosp, _K[ROOT_MIN_G], wv[V_PSI], wv[V_AUX])
    if not math.isfinite(Z):
        return NONFINITE
    label = pip_label(zn, T, P, Z, comp, eosp, wv, wm)
    st[ST_PHASES] = 1.0
    st[ST_LABEL] = label
    st[ST_PATH] = path
    st[ST_NIT] = nit
    st[ST_RES] = 0.0
    if fopt[FO_NEGATIVE] > 0.0:
        # keep the K we have; the negative flash works on a copy in V_BEST
        for i in range(n):
            wv[V_BEST, i] = lnk[i]
        code, beta, zl, zv, its, res = two_phase(T, P, zn, wv[V_BEST], np.nan, _B[0], comp, eosp, fopt, dkind,
                                                 dpar, wv, wm, lu, hist)
        st[ST_NIT] = nit + its
        if code == CONVERGED and not (beta > 0.0 and beta < 1.0):
            swap = x_is_lighter(wv[V_X], wv[V_Y], zl, zv, comp)
            for i in range(n):
                lnk[i] = -wv[V_BEST, i] if swap else wv[V_BEST, i]
                x[i] = wv[V_Y, i] if swap else wv[V_X, i]
                y[i] = wv[V_X, i] if swap else wv[V_Y, i]
            st[ST_BETA] = 1.0 - beta if swap else beta
            st[ST_ZL] = zv if swap else zl
            st[ST_ZV] = zl if swap else zv
            st[ST_RES] = res
            return CONVERGED
    for i in range(n):
        if label == 0:
            x[i] = zn[i]
            y[i] = np.nan
        else:
            y[i] = zn[i]
            x[i] = np.nan
    if label == 0:
        st[ST_BETA] = 0.0
        st[ST_ZL] = Z
    else:
        st[ST_BETA] = 1.0
        st[ST_ZV] = Z
    return CONVERGED


@njit(cache=True, nogil=True, error_model="numpy")
def tp_rows(lo, hi, T, P, Z, lnK, start, comp, kij, eosp, fopt, dkind, dpar, sweep, hs, X, Y, st, status):
    """TP flash of rows lo..hi-1 (its own workspace; the GIL released: ``chemsolve.flash.parallel`` runs chunks
    of rows on several threads): T (N,), P (N,), Z (N, n) feeds; lnK (N, n) in/out; start (N,) int8: 1 to try
    a two-phase solve from the given lnK[r] first. With ``sweep`` 1, a row whose start is 0 takes the ln K of
    the row before it (from lo on) when that row converged to two phases. With ``hs`` 1 (every component has
    Cp data) the molar H and S of converged rows are computed. Outputs X, Y (N, n), st (N, N_ST), status (N,)."""
    n = Z.shape[1]
    wv, wm, lu, hist = workspace(n)
    for r in range(lo, hi):
        warm = start[r] != 0
        if not warm and sweep == 1 and r > lo and status[r - 1] == CONVERGED and st[r - 1, ST_PHASES] == 2.0:
            for i in range(n):
                lnK[r, i] = lnK[r - 1, i]
            warm = True
        code = tp_row(T[r], P[r], Z[r], lnK[r], warm, comp, kij, eosp, fopt, dkind, dpar, wv, wm, lu, hist,
                      X[r], Y[r], st[r])
        status[r] = code
        st[r, ST_T] = T[r]
        st[r, ST_P] = P[r]
        st[r, ST_H] = np.nan
        st[r, ST_S] = np.nan
        if hs == 1 and code == CONVERGED:
            h, s = state_hs(T[r], P[r], wv[V_ZN], X[r], Y[r], st[r, ST_BETA], st[r, ST_ZL], st[r, ST_ZV],
                            int(st[r, ST_PHASES]), wm[M_AIJ], wm[M_DAIJ], comp, eosp, wv[V_PSI], wv[V_AUX], lu[0])
            st[r, ST_H] = h
            st[r, ST_S] = s
