"""Gas-phase chemical equilibrium kernels (ideal gas + pure condensed species).

Formulation: Gibbs minimisation in log variables with element potentials as Lagrange
multipliers, the NASA CEA / RAND family (Gordon & McBride 1994, NASA RP-1311, chapter 2).
Unknowns per iteration: ln n_j of every gas species, the moles n_c of the condensed species in
the active set, the element potentials pi_i (dimensionless, mu/RT), ln N (gas moles, when P is
fixed) and ln T (when T is free). The stationarity conditions

    mu_j / RT = g_j(T)/RT + ln n_j - ln N + ln(P / P_ref,j) = sum_i a_ij pi_i     (gas, P fixed)
    mu_j / RT = g_j(T)/RT + ln n_j + ln(R T / (V P_ref,j))  = sum_i a_ij pi_i     (gas, V fixed)
    g_c(T) / RT                                             = sum_i a_ic pi_i     (active condensed)

are linearised and solved for d ln n_j, which is substituted into the linearised element
balances, the gas-moles identity and the energy (H, U) or entropy (S) constraint. What is left
is a small dense system in (pi, dn_c, d ln N, d ln T) — size n_elements + n_condensed + 2 at most
— whatever the number of species. Its matrix is the exact Jacobian of the reduced (element-
potential) problem, so the iteration converges quadratically near the solution.

Trace species never underflow: they live as ln n_j (down to ~ -1e300 in principle), and only
``exp`` of them is taken where they enter sums, where a zero is harmless.

The solver stops only after its final check: the composition recomputed from the element
potentials alone (so every gas species satisfies its equilibrium condition exactly) must satisfy
the element balances, the gas-moles identity and the energy constraint to ``tol`` relative,
every active condensed species must have n_c >= 0 and sit at its condition to ``tol`` RT, and
every inactive one must have a driving force g_c/RT - sum a_ic pi_i >= -tol. Only then does the
certificate (``chemsolve.kernels.gas_certificate``, sharing no code with this module) decide
whether the state may be called CONVERGED.

Temperature: TP and TV states are solved at the temperature given, whatever ``T_bounds``; in HP,
SP and UV the search for T stays inside ``T_bounds`` (gopt[GOPT_TMIN], gopt[GOPT_TMAX]).

Thermo data: each species carries up to ``R`` temperature regions of NASA 9-coefficient
polynomials (NASA 7 data are stored in the same form with a1 = a2 = 0); below the first region
and above the last the end polynomial is extrapolated, as Cantera does.
"""

import math

import numpy as np
from numba import njit, prange

from .codes import (
    CONVERGED,
    DAMP_ADAPTIVE,
    DAMP_CONTROL,
    DAMP_LINESEARCH,
    DAMP_RAMP,
    INVALID_INPUT,
    LINE_SEARCH_FAILED,
    MAX_ITER,
    MODE_HP,
    MODE_SP,
    MODE_TP,
    MODE_UV,
    NONFINITE,
    SINGULAR,
)
from .linalg import lu_solve, regularized_solve

# index of the per-state scalar slots (``st`` arrays)
ST_LNN = 0  # ln of gas moles N
ST_T = 1  # temperature [K]
ST_P = 2  # pressure [Pa]
ST_ITER = 3  # Newton iterations
ST_ELEM = 4  # final max relative element-balance residual
ST_ENERGY = 5  # final relative energy / entropy residual
ST_DRIVE = 6  # most negative driving force of an absent condensed species (0 if none)
ST_PHASE_CHANGES = 7  # condensed species added or removed
ST_LNSUM = 8  # ln of the gas moles actually present, sum_j n_j (batch output)
N_ST = 9

# options vector of the gas kernels
GOPT_MAX_ITER = 0
GOPT_TOL = 1  # relative tolerance of the final check (element balance, energy)
GOPT_TMIN = 2  # lower bound on T while searching for it (HP, SP, UV) [K]
GOPT_TMAX = 3  # upper bound on T while searching for it (HP, SP, UV) [K]
GOPT_T_GUESS = 4  # cold-start temperature when T is free [K] (0: the feed temperature)
N_GOPT = 5

_LN_TINY = -745.0  # ln of the smallest positive double (denormal); below: exp() is 0
_R_SI = 8.314462618  # molar gas constant [J/mol/K] (Cantera's value, CODATA 2018)
_SIZE_DEFAULT = 18.420681  # CEA: ln(1e8)
_MAX_PHASE_CHANGES = 40
_MAX_RESEED = 4
# Newton converges quadratically: once a full step (damping 1) changes every visible species,
# ln N and ln T by at most _STEP_TOL, the state after that step is within ~_STEP_TOL**2 (1e-12)
# of the solution. The final check then verifies the recomputed state independently.
_STEP_TOL = 1e-6
# Thermo is re-evaluated only when T moved by more than this (relative): the error in g/RT is
# then below (h/RT) * 1e-13 ~ 1e-11, far under every tolerance, and HP/SP/UV solves skip one
# polynomial evaluation of every species in their last iteration.
_T_REUSE = 1e-13
# Thermo is carried to first order (``_all_thermo``) while T stays within this of its last exact
# evaluation (|ln(T / T_exact)|): g/RT is then off by < |cp/R - h/RT| * 1e-14 / 2 (5e-13 for
# |cp/R - h/RT| = 100), so the state returned, recomputed from pi with such thermo, is an
# equilibrium of the exact thermo far below what the certificate allows (1e-11 RT beside tol).
# (At 1e-6 the carried g/RT could be 5e-11 off: an HP state then balanced H only to 3e-12.)
_TAYLOR_LNT = 1e-7
# Convergence is judged on every species above x = 1e-14 (ln = -32.2): each must change by less
# than 1e-9 relative in a full Newton step. Below that level a species' amount can be fixed by an
# element combination that no visible species carries (e.g. H2 and O2 over pure water at 600 K),
# where the element balance itself is only known to rounding; such species are reported from the
# element potentials, which satisfy their equilibrium condition exactly.
_LN_VISIBLE = -32.236191301916641
# A species whose mole fraction changes by less than this in absolute terms is at the rounding
# floor of the element balances (eps * |b| amplified by the conditioning of nearly degenerate
# element combinations); its relative change is not required to fall below 1e-9.
_NOISE_X = 1e-14


@njit(cache=True)
def _powers(T):
    """The terms of T in the NASA-9 forms of cp/R, h/RT and s/R, each with its polynomial
    factor (1/2, 1/3, ...) applied once per temperature rather than once per species."""
    lnT = math.log(T)
    iT = 1.0 / T
    iT2 = iT * iT
    T2 = T * T
    T3 = T2 * T
    T4 = T2 * T2
    return (iT2, iT, T, T2, T3, T4,
            -iT2, lnT * iT, T / 2.0, T2 / 3.0, T3 / 4.0, T4 / 5.0,
            -0.5 * iT2, -iT, lnT, T2 / 2.0, T3 / 3.0, T4 / 4.0)


@njit(cache=True)
def _species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s):
    """cp/R, h/RT, s/R of species j at T (NASA-9 form, in place; pw = _powers(T))."""
    r = 0
    last = nreg[j] - 1
    while r < last and T > bounds[j, r + 1]:
        r += 1
    a0 = coeffs[j, r, 0]
    a1 = coeffs[j, r, 1]
    a2 = coeffs[j, r, 2]
    a3 = coeffs[j, r, 3]
    a4 = coeffs[j, r, 4]
    a5 = coeffs[j, r, 5]
    a6 = coeffs[j, r, 6]
    cp[j] = a0 * pw[0] + a1 * pw[1] + a2 + a3 * pw[2] + a4 * pw[3] + a5 * pw[4] + a6 * pw[5]
    h[j] = (a0 * pw[6] + a1 * pw[7] + a2 + a3 * pw[8] + a4 * pw[9] + a5 * pw[10] + a6 * pw[11]
            + coeffs[j, r, 7] * pw[1])
    s[j] = (a0 * pw[12] + a1 * pw[13] + a2 * pw[14] + a3 * pw[2] + a4 * pw[15] + a5 * pw[16]
            + a6 * pw[17] + coeffs[j, r, 8])


@njit(cache=True)
def thermo(T, coeffs, bounds, nreg, cp, h, s):
    """Dimensionless cp/R, h/RT and s/R of every species at T [K] (NASA-9 form, in place).

    coeffs : (n, R, 9) a1..a7, b1, b2 per region. bounds : (n, R + 1) region limits [K].
    nreg : (n,) number of regions used. Out of the fitted range the end region is extrapolated.
    """
    pw = _powers(T)
    for j in range(coeffs.shape[0]):
        _species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s)


@njit(cache=True)
def _all_thermo(T, T_done, T_exact, coeffs, bounds, nreg, ccoeffs, cbounds, cnreg, cp, h, s, g, ccp, ch, cs, cg,
                window):
    """cp/R, h/RT, s/R and g/RT of the gas and the condensed species at T.

    Returns (T, T of the last exact evaluation). When T is within |ln(T/T_exact)| < window of
    the last exact evaluation, the values are carried from T_done (where the arrays hold them)
    to T to first order: d(h/RT)/dlnT = cp/R - h/RT, d(s/R)/dlnT = cp/R, d(g/RT)/dlnT = -h/RT.
    The neglected terms stay below ~|cp/R - h/RT| * window**2 / 2 in g/RT however many carries
    are chained (window: _TAYLOR_LNT)."""
    if T_done > 0.0 and T_exact > 0.0 and abs(math.log(T / T_exact)) < window:
        dl = math.log(T / T_done)
        for j in range(coeffs.shape[0]):
            g[j] -= h[j] * dl
            h[j] += (cp[j] - h[j]) * dl
            s[j] += cp[j] * dl
        for c in range(ccoeffs.shape[0]):
            cg[c] -= ch[c] * dl
            ch[c] += (ccp[c] - ch[c]) * dl
            cs[c] += ccp[c] * dl
        return T, T_exact
    thermo(T, coeffs, bounds, nreg, cp, h, s)
    for j in range(coeffs.shape[0]):
        g[j] = h[j] - s[j]
    if ccoeffs.shape[0] > 0:
        thermo(T, ccoeffs, cbounds, cnreg, ccp, ch, cs)
        for c in range(ccoeffs.shape[0]):
            cg[c] = ch[c] - cs[c]
    return T, T


@njit(cache=True)
def _in_window(c, T, cwin):
    """A condensed species takes part only inside its window cwin[c] = (low, high) [K]
    (``chemsolve.gas.mixture.condensed_windows``): its fitted range, except that the
    lowest-temperature phase of a formula reaches down without limit (and a phase above a
    gap down to the top of the phase below), so that no phase appears on heating. Above its
    fitted range a species never takes part (an extrapolated liquid would condense in a
    flame). Phase changes such as ice / liquid water are separate species."""
    return cwin[c, 0] <= T <= cwin[c, 1]


@njit(cache=True)
def _leave_window(T, cwin, cok, cact, nc, Ac):
    """Active condensed species whose window does not hold T leave; a species of the same formula
    whose window holds T takes over the amount (a phase change). Returns True if any left."""
    left = False
    ncs = Ac.shape[0]
    for c in range(ncs):
        if not cact[c] or _in_window(c, T, cwin):
            continue
        cact[c] = False
        left = True
        for d in range(ncs):
            if d == c or cact[d] or not cok[d] or not _in_window(d, T, cwin):
                continue
            same = True
            for i in range(Ac.shape[1]):
                if Ac[d, i] != Ac[c, i]:
                    same = False
                    break
            if same:
                cact[d] = True
                nc[d] = nc[c]
                break
        nc[c] = 0.0
    return left


# The sums over species that build the Newton matrix and the final check are dot products over
# the active species (dense formula rows ``Ad``, one per active element). They are compiled with
# reassociation allowed so that they vectorise: only the order of the additions changes.
_FM = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FM)
def _row_sums(Ad, p, nact, nt, d, e, w):
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


@njit(cache=True, fastmath=_FM)
def _gram(Ad, p, q, nact, nt):
    """sum_t a_pt a_qt n_t over the active species."""
    acc = 0.0
    for t in range(nact):
        acc += Ad[p, t] * Ad[q, t] * nt[t]
    return acc


@njit(cache=True, fastmath=_FM)
def _balance(Ad, q, nact, nt):
    """Element q carried by the gas: sum_t a_qt n_t, and the scale sum_t |a_qt| n_t."""
    acc = 0.0
    sc = 0.0
    for t in range(nact):
        v = Ad[q, t] * nt[t]
        acc += v
        sc += abs(v)
    return acc, sc


@njit(cache=True)
def _add_potentials(Ad, m, nact, sol, out):
    """out_t += sum_q a_qt sol_q (q < m), q by q: the same additions, in the same order, as
    over the nonzero entries alone (the others add an exact zero)."""
    for q in range(m):
        sq = sol[q]
        for t in range(nact):
            out[t] += Ad[q, t] * sq


# exp of the ln amounts of all active species at once, in a loop that vectorises: x = k ln 2 + r
# with |r| <= ln 2 / 2 (Cody-Waite), exp(r) from its Taylor series to r**13 (truncation below
# 5e-18 relative), and 2**k written into the exponent bits. Within 1 ulp of math.exp over the
# whole double range (tests/test_gas.py checks it); 0 at or below _LN_TINY, as everywhere else.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_EXP_MAX = 709.782712893384  # ln of the largest double: above, exp overflows
_TWO_100 = 1.2676506002282294e30  # 2**100, to keep the assembled 2**k a normal number


@njit(cache=True, fastmath={"contract"})
def _vexp(x, out, bits, k):
    """out[t] = exp(x[t]) for t < k (0 where x[t] <= _LN_TINY or NaN, inf above _EXP_MAX).
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
        res = out[t] * bits[t] if xt > _LN_TINY else 0.0
        out[t] = math.inf if xt > _EXP_MAX else res


@njit(cache=True)
def feed_properties(mode, x, T, P, coeffs, bounds, nreg, lnpref, cp, h, s):
    """The property the equilibrium holds fixed, for 1 mol of gas feed of mole fractions x.

    HP: H/R [K]; UV: U/R [K]; SP: S/R [-]; TP, TV: 0. Overwrites cp, h, s of the feed's species.
    """
    out = 0.0
    lnP = math.log(P)
    pw = _powers(T)
    for j in range(x.shape[0]):
        xj = x[j]
        if xj <= 0.0:
            continue
        _species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s)
        if mode == MODE_HP:
            out += xj * h[j] * T
        elif mode == MODE_UV:
            out += xj * (h[j] - 1.0) * T
        elif mode == MODE_SP:
            out += xj * (s[j] - math.log(xj) - (lnP - lnpref[j]))
    return out


@njit(cache=True)
def element_totals(x, A, Ax_out):
    """Element amounts [mol per mol of feed] of a feed of mole fractions x: ``A.T @ x``."""
    ne = A.shape[1]
    for i in range(ne):
        Ax_out[i] = 0.0
    for j in range(x.shape[0]):
        if x[j] != 0.0:
            for i in range(ne):
                Ax_out[i] += A[j, i] * x[j]


@njit(cache=True)
def _merit(b, eon, A, gon, lnn, n, Ac, cact, nc, lnNv, Pfix, etarget_res, escale):
    """0.5 * sum of squared relative residuals of the nonlinear constraints (for backtracking)."""
    ne = A.shape[1]
    ng = A.shape[0]
    bmax = 0.0
    for i in range(ne):
        if eon[i] and abs(b[i]) > bmax:
            bmax = abs(b[i])
    tot = 0.0
    for j in range(ng):
        if gon[j]:
            n[j] = math.exp(lnn[j]) if lnn[j] > _LN_TINY else 0.0
            tot += n[j]
    phi = 0.0
    for i in range(ne):
        if not eon[i]:
            continue
        r = -b[i]
        for j in range(ng):
            if gon[j]:
                r += A[j, i] * n[j]
        for c in range(Ac.shape[0]):
            if cact[c]:
                r += Ac[c, i] * nc[c]
        r /= bmax
        phi += r * r
    if Pfix:
        N = math.exp(lnNv)
        r = (tot - N) / N
        phi += r * r
    r = etarget_res / escale
    phi += r * r
    return 0.5 * phi


@njit(cache=True)
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


@njit(cache=True)
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
    m = 0
    for i in range(ne):
        if eon[i]:
            m += 1
    cols = np.empty(ng + ncs, dtype=np.int64)  # >= 0 gas index, < 0: -(c + 1) condensed
    ncol = 0
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


@njit(cache=True)
def equil_row(mode, x, Tin, Pin, target_in, A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs, cbounds, cnreg,
              cwin, dkind, dpar, gopt, warm, lnn, nc, cact, pi, st,
              b, eon, gon, cp, h, s, g, d, e, w, n, lnn_old, ccp, ch, cs, cg,
              M, rhs, work, sol, colc, tmp, M2, r2, r3, qcol, bact, act, Ad, nt, xb, memo, cok):
    """Equilibrate one state in place. Returns a status code (codes.*).

    mode : codes.MODE_*. x : (ng,) feed mole fractions (sum 1). Tin [K], Pin [Pa]: the feed state
    (it fixes T and P in TP, the target H/U/S and the volume in the other modes). target_in: the
    held H/R [K], U/R [K] or S/R [-] per mole of feed, or NaN to take the feed's.
    A : (ng, ne) gas formula matrix; Ac : (nc, ne) condensed formula matrix.
    State (in/out; read as the start when ``warm``): lnn (ng,) ln moles of gas species,
    nc (nc,) moles of condensed species, cact (nc,) bool active set, pi (ne,), st (N_ST,).
    The remaining arguments are scratch arrays (``_workspace``); cok (nc,) receives which
    condensed species are made of present elements only. Per active species t (act[t] = j):
    nt, d, e, w and tmp hold n_j, d_j, e_j, w_j and d ln n_j (xb: scratch of ``_vexp``); Ad
    (ne, ng) holds the formula matrix of the active species over the active elements, one dense
    row per element.
    """
    ng = A.shape[0]
    ne = A.shape[1]
    ncs = Ac.shape[0]
    maxiter = int(gopt[GOPT_MAX_ITER])
    tol = gopt[GOPT_TOL]
    tmin = gopt[GOPT_TMIN]
    tmax = gopt[GOPT_TMAX]
    Pfix = mode == MODE_TP or mode == MODE_HP or mode == MODE_SP
    Tfree = mode == MODE_HP or mode == MODE_SP or mode == MODE_UV
    st[ST_ITER] = 0.0
    st[ST_PHASE_CHANGES] = 0.0
    st[ST_ELEM] = np.nan  # set by the final check; NaN if it was never reached
    st[ST_ENERGY] = np.nan
    st[ST_DRIVE] = np.nan
    if not (Tin > 0.0 and Pin > 0.0 and math.isfinite(Tin) and math.isfinite(Pin)):
        return INVALID_INPUT

    # ---- element totals, active elements and species -------------------------------------
    element_totals(x, A, b)
    bmax = 0.0
    for i in range(ne):
        if abs(b[i]) > bmax:
            bmax = abs(b[i])
    if not (bmax > 0.0) or not math.isfinite(bmax):
        return INVALID_INPUT
    # an element is kept if the feed has it, or if it is charge-like (b = 0 but carried with
    # both signs, e.g. the electron 'E' of ionised mixtures: memo[4 + i] == 1). The species
    # bookkeeping below (active species act, active element columns qcol, dense formula rows Ad)
    # is rebuilt only when this pattern changes (memo[0] == 1: valid), so the rows of a sweep
    # share it.
    if memo[0] != 1:
        for i in range(ne):
            pos = False
            neg = False
            for j in range(ng):
                if A[j, i] > 0.0:
                    pos = True
                elif A[j, i] < 0.0:
                    neg = True
            memo[4 + i] = 1 if (pos and neg) else 0
    same = memo[0] == 1
    for i in range(ne):
        on = abs(b[i]) > 1e-300 * bmax or memo[4 + i] == 1
        if abs(b[i]) <= 1e-300 * bmax:
            b[i] = 0.0
        if on != eon[i]:
            same = False
        eon[i] = on
    if same:
        ngon = memo[1]
        m = memo[2]
        nact = memo[3]
        for i in range(ne):
            if eon[i]:
                bact[qcol[i]] = b[i]
    else:
        ngon = 0
        for j in range(ng):
            ok = True
            for i in range(ne):
                if A[j, i] != 0.0 and not eon[i]:
                    ok = False
                    break
            gon[j] = ok
            if ok:
                ngon += 1
        if ngon == 0:
            memo[0] = 0
            return INVALID_INPUT
        # sparse formula rows of the active species over the active elements (columns 0..m-1)
        m = 0
        for i in range(ne):
            if eon[i]:
                qcol[i] = m
                bact[m] = b[i]
                m += 1
            else:
                qcol[i] = -1
        nact = 0
        for j in range(ng):
            if gon[j]:
                act[nact] = j
                nact += 1
        for i in range(ne):
            if eon[i]:
                for t in range(nact):
                    Ad[qcol[i], t] = A[act[t], i]
        memo[0] = 1
        memo[1] = ngon
        memo[2] = m
        memo[3] = nact
    for c in range(ncs):
        ok = True
        for i in range(ne):
            if Ac[c, i] != 0.0 and not eon[i]:
                ok = False
        cok[c] = ok
        if not ok:
            cact[c] = False
            nc[c] = 0.0
    # fixed-property targets
    target = 0.0
    if Tfree:
        if target_in == target_in:
            target = target_in
        else:
            target = feed_properties(mode, x, Tin, Pin, coeffs, bounds, nreg, lnpref, cp, h, s)
    lnRT_V = math.log(Pin / Tin)  # V = R Tin / Pin for 1 mol: ln(R T / V) = ln(Pin T / Tin)
    lnP = math.log(Pin)

    # ---- start ------------------------------------------------------------------------------
    T = Tin
    T_done = -1.0  # temperature at which cp, h, s, g (and the condensed ones) were evaluated
    T_exact = -1.0  # temperature of their last exact (not carried) evaluation
    if not warm:
        if Tfree:
            tg = gopt[GOPT_T_GUESS]
            T = min(max(tg if tg > 0.0 else Tin, tmin), tmax)
        # the linear-programme start (low-temperature limit); CEA's equal amounts if it fails
        T_done, T_exact = _all_thermo(T, T_done, T_exact, coeffs, bounds, nreg, ccoeffs, cbounds, cnreg, cp, h, s, g, ccp, ch, cs, cg,
                                         _TAYLOR_LNT)
        for c in range(ncs):
            cact[c] = cok[c] and _in_window(c, T, cwin)  # the LP's allowed mask (reused)
        lnN0 = np.nan
        if Pfix:
            lnN0 = lp_start(lnP, A, g, lnpref, gon, Ac, cg, cact, b, eon, lnn, nc, cact, pi)
        else:
            lnN0 = lp_start(lnRT_V + math.log(T), A, g, lnpref, gon, Ac, cg, cact, b, eon, lnn, nc,
                            cact, pi)
        if lnN0 == lnN0:
            st[ST_LNN] = lnN0
        else:
            lnn0 = -math.log(ngon)
            for j in range(ng):
                lnn[j] = lnn0 if gon[j] else -np.inf
            for c in range(ncs):
                cact[c] = False
                nc[c] = 0.0
            for i in range(ne):
                pi[i] = 0.0
            st[ST_LNN] = 0.0
    else:
        if Tfree:
            T = st[ST_T]
            if not (T > 0.0 and math.isfinite(T)):
                T = Tin
        for j in range(ng):
            if gon[j]:
                if not math.isfinite(lnn[j]):
                    lnn[j] = -50.0
            else:
                lnn[j] = -np.inf
        if not math.isfinite(st[ST_LNN]):
            st[ST_LNN] = 0.0
    # T_bounds bound the search for T in HP / SP / UV only: a TP / TV state is solved at the
    # temperature asked for, never at another one (DESIGN.md section 5)
    if Tfree:
        T = min(max(T, tmin), tmax)
    lnN = st[ST_LNN]

    alpha_state = dpar[0]
    size = dpar[1] if dkind == DAMP_CONTROL else _SIZE_DEFAULT
    status = MAX_ITER
    nphase = 0
    nreseed = 0
    pin = False
    it = 0
    while it < maxiter:
        it += 1
        # T is solved for, unless the search is pinned at a T bound (then this iteration is a TP /
        # TV one at the bound, so that the final check can test the condensed species there)
        Tit = Tfree and not pin
        # ---- thermo at T (gas: g/RT, h/RT; condensed likewise), only when T moved
        if abs(T - T_done) > _T_REUSE * T:
            T_done, T_exact = _all_thermo(T, T_done, T_exact, coeffs, bounds, nreg, ccoeffs, cbounds, cnreg, cp, h, s, g, ccp, ch, cs, cg,
                                         _TAYLOR_LNT)
        lnT = math.log(T)
        # a condensed species leaves when T leaves its window (T moved, or a warm start carried
        # it from a state at another temperature): a phase of the same formula whose window holds
        # T takes over its amount (KOH(a) -> KOH(b) at 516 K, as CEA swaps phases); otherwise it
        # is gone until the final check considers it again at the converged T
        _leave_window(T, cwin, cok, cact, nc, Ac)
        # ---- gas amounts, chemical potentials mu_j/RT (d_j = -mu_j/RT), d ln n_j / d ln T (e_j)
        # one pass over the active species: amounts, d_j = -mu_j/RT, e_j = d ln n_j / d ln T and,
        # for HP / UV, the energy weights w_j = n_j (h_j/RT - [1 if UV])
        N = math.exp(lnN)
        base = (lnP - lnN) if Pfix else (lnRT_V + lnT)
        eoff = 0.0 if Pfix else 1.0
        hpuv = Tit and (mode == MODE_HP or mode == MODE_UV)
        shift = 1.0 if mode == MODE_UV else 0.0
        tot = 0.0
        cur = 0.0
        wabs = 0.0
        # and the sums the gas-moles and energy rows need: sce = sum n_j e_j, scd = sum n_j d_j,
        # sw, swe, swd = sum w_j (1, e_j, d_j), cpt = sum n_j (cp_j/R - [1 if UV])
        sce = 0.0
        scd = 0.0
        sw = 0.0
        swe = 0.0
        swd = 0.0
        cpt = 0.0
        for t in range(nact):
            tmp[t] = lnn[act[t]]
        _vexp(tmp, nt, xb, nact)
        for t in range(nact):
            j = act[t]
            lj = tmp[t]
            nj = nt[t]
            tot += nj
            ej = h[j] - eoff
            dj = -(g[j] + lj + base - lnpref[j])
            e[t] = ej
            d[t] = dj
            wj = 0.0
            if hpuv:
                wj = nj * (h[j] - shift)
                cur += wj
                wabs += abs(wj)
            w[t] = wj
            if nj != 0.0:
                sce += nj * ej
                scd += nj * dj
                if Tit:
                    cpt += nj * (cp[j] - shift)
                    if hpuv:
                        sw += wj
                        swe += wj * ej
                        swd += wj * dj
        # ---- energy / entropy constraint: residual and scale
        eres = 0.0
        escale = 1.0
        if Tit:
            if hpuv:
                # H/RT (HP) or U/RT = sum n_j (h_j/RT - 1) + condensed h/RT (UV)
                escale = abs(target / T) + wabs
                for c in range(ncs):
                    if cact[c]:
                        cur += nc[c] * ch[c]
                eres = target / T - cur
            else:  # SP
                cur = 0.0
                for t in range(nact):
                    j = act[t]
                    nj = nt[t]
                    sig = s[j] - lnn[j] + lnN - lnP + lnpref[j]
                    cur += nj * sig if nj > 0.0 else 0.0
                    wj = nj * (sig - 1.0) if nj > 0.0 else 0.0
                    w[t] = wj
                    if nj != 0.0:
                        sw += wj
                        swe += wj * e[t]
                        swd += wj * d[t]
                for c in range(ncs):
                    if cact[c]:
                        cur += nc[c] * cs[c]
                eres = target - cur
                escale = abs(target)
                for t in range(nact):
                    escale += abs(nt[t] * s[act[t]])
            escale = max(escale, 1e-300)

        # ---- reduced Newton system  (columns: pi of active elements, dn_c, d ln N, d ln T)
        ncol_c = 0
        for c in range(ncs):
            if cact[c]:
                colc[ncol_c] = c
                ncol_c += 1
        cN = m + ncol_c
        cT = cN + (1 if Pfix else 0)
        size_m = cT + (1 if Tit else 0)
        Mv = M[:size_m, :size_m]
        rv = rhs[:size_m]
        for r in range(size_m):
            rv[r] = 0.0
            for q in range(size_m):
                Mv[r, q] = 0.0
        fN = 1.0 if Pfix else 0.0
        # element rows, the gas-moles row and the energy row: sums over the gas species of
        # n_j a_j a_j^T, n_j a_j, n_j e_j a_j, w_j a_j (dense dot products over the active species)
        for p in range(m):
            s_n, s_nd, s_ne, s_w = _row_sums(Ad, p, nact, nt, d, e, w)
            rv[p] = bact[p] - s_nd
            for q in range(p, m):
                v = _gram(Ad, p, q, nact, nt)
                Mv[p, q] = v
                Mv[q, p] = v
            if Pfix:
                Mv[p, cN] = s_n
                Mv[cN, p] = s_n
            if Tit:
                Mv[p, cT] = s_ne
                Mv[cT, p] = s_w
        # condensed species: their columns in the element rows, and their own rows
        for qc in range(ncol_c):
            c = colc[qc]
            for i in range(ne):
                if eon[i] and Ac[c, i] != 0.0:
                    rv[qcol[i]] -= Ac[c, i] * nc[c]
                    Mv[qcol[i], m + qc] = Ac[c, i]
                    Mv[m + qc, qcol[i]] = Ac[c, i]
            if Tit:
                Mv[m + qc, cT] = ch[c]
            rv[m + qc] = cg[c]
        # total gas moles row
        if Pfix:
            Mv[cN, cN] = tot - N
            if Tit:
                Mv[cN, cT] = sce
            rv[cN] = N - tot - scd
        # energy / entropy row
        if Tit:
            for qc in range(ncol_c):
                c = colc[qc]
                Mv[cT, m + qc] = cs[c] if mode == MODE_SP else ch[c]
                cpt += nc[c] * ccp[c]
            if Pfix:
                Mv[cT, cN] = sw + (tot if mode == MODE_SP else 0.0)
            Mv[cT, cT] = swe + cpt
            rv[cT] = eres - swd
        # row equilibration, then LU with partial pivoting
        for r in range(size_m):
            amax = 0.0
            for q in range(size_m):
                if abs(Mv[r, q]) > amax:
                    amax = abs(Mv[r, q])
            if amax > 0.0:
                inv = 1.0 / amax
                for q in range(size_m):
                    Mv[r, q] *= inv
                rv[r] *= inv
        singular = lu_solve(Mv, rv, work[:size_m, : size_m + 1], sol[:size_m]) != 0
        if singular and nreseed < _MAX_RESEED:
            # singular: the species that would carry some element combination have underflowed
            # (typically at low T after a wild first step). Re-insert every gas species at a
            # resolvable trace level (x >= 1e-10) and rebuild; the final check recomputes all
            # amounts from pi, so this changes the path, never the answer.
            nreseed += 1
            lnsum = math.log(tot) if tot > 0.0 else lnN
            for j in range(ng):
                if gon[j] and lnn[j] < lnsum - 23.0:
                    lnn[j] = lnsum - 23.0
            continue
        if singular:
            # still singular (a direction of pi that only absent or underflowed species resolve): take
            # the least-change step, Levenberg-Marquardt on the change of pi from its last value
            for r in range(size_m):
                acc = rv[r]
                q = 0
                for k in range(ne):
                    if eon[k]:
                        acc -= Mv[r, q] * pi[k]
                        q += 1
                r2[r] = acc
            if regularized_solve(Mv, r2[:size_m], 1e-12, work[:size_m, : size_m + 1], M2[:size_m, :size_m],
                                 r3[:size_m], sol[:size_m]) != 0:
                status = SINGULAR
                break
            q = 0
            for k in range(ne):
                if eon[k]:
                    sol[q] += pi[k]
                    q += 1
        # ---- unpack: new pi, corrections
        q = 0
        for i in range(ne):
            if eon[i]:
                pi[i] = sol[q]
                q += 1
            else:
                pi[i] = 0.0
        dlnN = sol[cN] if Pfix else 0.0
        dlnT = sol[cT] if Tit else 0.0
        dmax_major = 0.0
        for t in range(nact):
            tmp[t] = d[t] + fN * dlnN + e[t] * dlnT  # d ln n_j
        _add_potentials(Ad, m, nact, sol, tmp)
        # ---- damping factor
        lam = 1.0
        lnNsum = math.log(tot) if tot > 0.0 else lnN
        if dkind == DAMP_CONTROL:
            big = max(5.0 * abs(dlnT), 5.0 * abs(dlnN))
            lam2 = 1.0
            for t in range(nact):
                dj = tmp[t]
                lx = lnn[act[t]] - lnNsum
                if lx > -size:
                    if dj > big:
                        big = dj
                elif dj >= 0.0 and dj - dlnN > 0.0:
                    cand = abs((-lx - dpar[2]) / (dj - dlnN))
                    if cand < lam2:
                        lam2 = cand
            lam1 = dpar[0] / big if big > 0.0 else 1.0
            lam = min(1.0, lam1, lam2)
        elif dkind == DAMP_RAMP:
            lam = min(dpar[2], dpar[0] * dpar[1] ** (it - 1))
        elif dkind == DAMP_ADAPTIVE:
            lam = alpha_state
        else:  # constant, line search: start value
            lam = dpar[0]
        if Tit:  # never step T out of its bounds
            if (dlnT > 0.0 and T >= tmax * (1.0 - 1e-12)) or (dlnT < 0.0 and T <= tmin * (1.0 + 1e-12)):
                # at a bound and pushing out of it: hold T there until the composition has
                # converged; the final check then adds any condensed species that would lower G
                # (its heat may bring T back) or gives up (the target lies beyond the bound)
                pin = True
                continue
            Tn = T * math.exp(lam * dlnT)
            if Tn > tmax:
                lam = min(lam, math.log(tmax / T) / dlnT)
            elif Tn < tmin:
                lam = min(lam, math.log(tmin / T) / dlnT)
            lam = max(lam, 0.0)
        # ---- backtracking on the constraint residuals (LineSearch / Adaptive only)
        if dkind == DAMP_LINESEARCH or dkind == DAMP_ADAPTIVE:
            shrink = dpar[2]
            amin = dpar[3]
            c_arm = dpar[1] if dkind == DAMP_LINESEARCH else 1e-4
            phi0 = _merit(b, eon, A, gon, lnn, n, Ac, cact, nc, lnN, Pfix, eres, escale)
            for j in range(ng):
                lnn_old[j] = lnn[j]
            ok = False
            tries = 0
            while lam >= amin:
                for t in range(nact):
                    j = act[t]
                    lnn[j] = lnn_old[j] + lam * tmp[t]
                for qc in range(ncol_c):
                    c = colc[qc]
                    nc[c] += lam * sol[m + qc]
                et = eres
                if Tit:
                    # energy residual at the trial point, to first order (T moves with the step)
                    et = eres * (1.0 - lam)
                phit = _merit(b, eon, A, gon, lnn, n, Ac, cact, nc, lnN + lam * dlnN, Pfix, et, escale)
                for qc in range(ncol_c):
                    c = colc[qc]
                    nc[c] -= lam * sol[m + qc]
                if phit == phit and phit <= phi0 * (1.0 - 2.0 * c_arm * lam) + 1e-30:
                    ok = True
                    break
                lam *= shrink
                tries += 1
            for j in range(ng):
                lnn[j] = lnn_old[j]
            if not ok:
                status = LINE_SEARCH_FAILED
                break
            if dkind == DAMP_ADAPTIVE:
                alpha_state = min(lam * dpar[1], dpar[4]) if tries == 0 else lam
        # ---- take the step
        finite = True
        for t in range(nact):
            j = act[t]
            dj = tmp[t]
            lj = lnn[j] + lam * dj
            lnn[j] = lj
            if lj != lj or lj > 700.0:
                finite = False
            if lj - lnNsum > _LN_VISIBLE and abs(dj) > dmax_major:
                # a visible species' change counts unless it is at the rounding floor of
                # the element balances (absolute change of x below _NOISE_X); x is taken at
                # the start of the step (n_j / sum n), within a factor e**max_change of now
                if abs(dj) * nt[t] > _NOISE_X * tot:
                    dmax_major = abs(dj)
        lnN += lam * dlnN
        if Tit:
            T = T * math.exp(lam * dlnT)
        removed = False
        for qc in range(ncol_c):
            c = colc[qc]
            nc[c] += lam * sol[m + qc]
            if nc[c] <= 0.0:
                # CEA: a condensed species with a negative amount leaves the active set
                nc[c] = 0.0
                cact[c] = False
                removed = True
        if removed:
            nphase += 1
            if nphase > _MAX_PHASE_CHANGES:
                status = MAX_ITER
                break
            continue
        finite = finite and math.isfinite(lnN) and math.isfinite(T)
        if not finite:
            status = NONFINITE
            break
        # ---- convergence: a full small step, then the final check from the potentials alone
        # judged on the full (undamped) Newton step, so schedules below 1 can converge too; the
        # final check below decides
        small = True
        if abs(dlnN) > _STEP_TOL or abs(dlnT) > 0.1 * _STEP_TOL or dmax_major > _STEP_TOL:
            continue
        for qc in range(ncol_c):
            c = colc[qc]
            if abs(sol[m + qc]) > _STEP_TOL * max(nc[c], 1e-300) and abs(sol[m + qc]) > 1e-14 * N:
                small = False
        if not small:
            continue
        # recompute the gas amounts from pi (exact equilibrium conditions), then verify
        # thermo at T itself (carried there, as the Newton step's linear model assumed, or exact
        # when T left the carry window), never reused from a nearby T
        if T != T_done:
            T_done, T_exact = _all_thermo(T, T_done, T_exact, coeffs, bounds, nreg, ccoeffs, cbounds, cnreg, cp, h, s,
                                          g, ccp, ch, cs, cg, _TAYLOR_LNT)
        lnT = math.log(T)
        # ln n_j from the element potentials (active ones are sol[:m], in column order)
        base = (lnN - lnP) if Pfix else -(lnRT_V + lnT)
        for t in range(nact):
            j = act[t]
            tmp[t] = -g[j] + lnpref[j] + base
        _add_potentials(Ad, m, nact, sol, tmp)
        _vexp(tmp, nt, xb, nact)
        tot = 0.0
        for t in range(nact):
            j = act[t]
            lnn[j] = tmp[t]
            nj = nt[t]
            n[j] = nj
            tot += nj
        # element balances, each against its own total (trace elements and the charge 'E' of
        # ionised mixtures must balance as tightly as a major element)
        for q in range(m):
            acc, sc = _balance(Ad, q, nact, nt)
            r2[q] = acc - bact[q]
            r3[q] = sc
        for c in range(ncs):
            if cact[c]:
                for i in range(ne):
                    if eon[i] and Ac[c, i] != 0.0:
                        v = Ac[c, i] * nc[c]
                        r2[qcol[i]] += v
                        r3[qcol[i]] += abs(v)
        ok = True
        emax = 0.0
        for q in range(m):
            rel = abs(r2[q]) / max(abs(bact[q]), r3[q], 1e-300)
            if rel > emax:
                emax = rel
        if emax > tol:
            ok = False
        if Pfix and abs(tot - math.exp(lnN)) > tol * tot:
            ok = False
        erel = 0.0
        eres_f = 0.0  # signed: > 0 when the state holds less H (U, S) than the target
        if Tfree:
            if mode == MODE_SP:
                cur = 0.0
                sc2 = abs(target)
                for t in range(nact):
                    j = act[t]
                    if nt[t] > 0.0:
                        cur += nt[t] * (s[j] - lnn[j] + lnN - lnP + lnpref[j])
                        sc2 += abs(nt[t] * s[j])
                for c in range(ncs):
                    if cact[c]:
                        cur += nc[c] * cs[c]
                eres_f = target - cur
                erel = abs(eres_f) / sc2
            else:
                cur = 0.0
                sc2 = abs(target / T)
                for t in range(nact):
                    hj = h[act[t]] - (1.0 if mode == MODE_UV else 0.0)
                    cur += nt[t] * hj
                    sc2 += abs(nt[t] * hj)
                for c in range(ncs):
                    if cact[c]:
                        cur += nc[c] * ch[c]
                eres_f = target / T - cur
                erel = abs(eres_f) / sc2
            if erel > tol:
                ok = False
        # condensed phases: every active one inside its window and at its equilibrium condition
        # g_c/RT = a_c . pi (to tol, in units of RT, as the gas species); every absent one
        # (allowed, inside its window) must not lower G by more than tol RT
        left = _leave_window(T, cwin, cok, cact, nc, Ac)  # the last step took T out of a window
        for c in range(ncs):
            if cact[c]:
                res_c = cg[c]
                for k in range(ne):
                    if eon[k]:
                        res_c -= Ac[c, k] * pi[k]
                if not (abs(res_c) <= tol):
                    ok = False
        if left:
            nphase += 1
            if nphase > _MAX_PHASE_CHANGES:
                status = MAX_ITER
                break
            continue
        worst = 0.0
        wc = -1
        for c in range(ncs):
            if not cok[c] or cact[c] or not _in_window(c, T, cwin):
                continue
            drive = ch[c] - cs[c]
            for k in range(ne):
                if eon[k]:
                    drive -= Ac[c, k] * pi[k]
            if drive < worst:
                worst = drive
                wc = c
        st[ST_ELEM] = emax
        st[ST_ENERGY] = erel
        st[ST_DRIVE] = worst
        if wc >= 0 and worst < -tol:
            cact[wc] = True
            nc[wc] = 0.0
            pin = False
            # a species with the same formula as an active one (ice / liquid water) replaces it,
            # as in CEA: both at once would make the Newton matrix singular
            for c in range(ncs):
                if c != wc and cact[c]:
                    same_f = True
                    for i in range(ne):
                        if Ac[c, i] != Ac[wc, i]:
                            same_f = False
                            break
                    if same_f:
                        nc[wc] = nc[c]
                        nc[c] = 0.0
                        cact[c] = False
            nphase += 1
            if nphase > _MAX_PHASE_CHANGES:
                status = MAX_ITER
                break
            continue
        if pin and not ok:
            # converged at the bound and no condensed species would enter: if the held property
            # still lies beyond the bound the target is out of reach (the caller confirms it with
            # the TP equilibrium at the bound); otherwise T is free again
            if (T <= tmin * (1.0 + 1e-12) and eres_f < 0.0) or (T >= tmax * (1.0 - 1e-12) and eres_f > 0.0):
                status = MAX_ITER
                break
            pin = False
            continue
        if ok:
            status = CONVERGED
            break
    st[ST_LNN] = lnN
    st[ST_T] = T
    if Pfix:
        st[ST_P] = Pin
    else:
        tot = 0.0
        for j in range(ng):
            if gon[j] and lnn[j] > _LN_TINY:
                tot += math.exp(lnn[j])
        st[ST_P] = tot * Pin * T / Tin  # P V = N R T with V = R Tin / Pin
    st[ST_ITER] = it
    st[ST_PHASE_CHANGES] = nphase
    return status


@njit(cache=True)
def _workspace(ng, ne, ncs):
    size = ne + ncs + 2
    return (np.empty(ne), np.zeros(ne, dtype=np.bool_), np.zeros(ng, dtype=np.bool_),
            np.empty(ng), np.empty(ng), np.empty(ng), np.empty(ng), np.empty(ng), np.empty(ng),
            np.zeros(ng), np.zeros(ng), np.empty(ng), np.empty(max(ncs, 1)), np.empty(max(ncs, 1)),
            np.empty(max(ncs, 1)), np.empty(max(ncs, 1)), np.empty((size, size)), np.empty(size),
            np.empty((size, size + 1)), np.empty(size), np.zeros(max(ncs, 1), dtype=np.int64),
            np.empty(ng), np.empty((size, size)), np.empty(size), np.empty(size),
            np.empty(ne, dtype=np.int64), np.empty(ne), np.empty(ng, dtype=np.int64),
            np.zeros((ne, ng)), np.zeros(ng), np.zeros(ng),
            np.zeros(4 + ne, dtype=np.int64), np.zeros(max(ncs, 1), dtype=np.bool_))


def default_chunk(n: int, warm: bool) -> int:
    """Rows per prange chunk: one contiguous chunk per thread along a warm sweep (each chunk's
    first row starts cold), small chunks otherwise for load balance."""
    import numba

    return max(1, -(-n // numba.get_num_threads())) if warm else 16


@njit(cache=True, parallel=True)
def equil_batch(mode, X, T, P, target, A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs, cbounds, cnreg,
                cwin, dkind, dpar, gopt, warm, chunk, lnn, nc, cact, pi, st, status, Xout):
    """Equilibrate every row of X (n, ng) at T (n,), P (n,); results in lnn (n, ng) (ln mole
    fractions on output), Xout (n, ng) mole fractions, nc (n, ncs), cact (n, ncs), pi (n, ne),
    st (n, N_ST) (ST_LNSUM: ln of the gas moles), status (n,). Rows are split in chunks of ``chunk``
    (prange over chunks); with ``warm`` every row but a chunk's first starts from the previous
    row's answer, extrapolated along the sweep from the three (or two) previous rows. A failed row is
    restarted cold once and never stops the others."""
    nrow = X.shape[0]
    ng = A.shape[0]
    ne = A.shape[1]
    ncs = Ac.shape[0]
    nchunk = (nrow + chunk - 1) // chunk
    for ck in prange(nchunk):
        (b, eon, gon, cp, h, s, g, d, e, w, n, lnn_old, ccp, ch, cs, cg, M, rhs, work, sol, colc,
         tmp, M2, r2, r3, qcol, bact, act, Ad, nt, xb, memo, cok) = _workspace(ng, ne, ncs)
        lo = ck * chunk
        hi = min(nrow, lo + chunk)
        for r in range(lo, hi):
            use_warm = False
            if warm == 1 and r > lo and status[r - 1] == CONVERGED:
                use_warm = True
                # rows hold ln x on output; ln moles = ln x + ln(sum n). Along a sweep, extrapolate
                # from the previous states that converged with the same phase set: quadratically
                # from three (y = 3 y1 - 3 y2 + y3), linearly from two (y = 2 y1 - y2). The
                # quadratic error term is third order in the step, so a fine sweep starts each
                # state within ~1e-9 of its answer and converges in one Newton iteration.
                s1 = st[r - 1, ST_LNSUM]
                lin = r > lo + 1 and status[r - 2] == CONVERGED
                if lin:
                    for c in range(ncs):
                        if cact[r - 1, c] != cact[r - 2, c]:
                            lin = False
                quad = lin and r > lo + 2 and status[r - 3] == CONVERGED
                if quad:
                    for c in range(ncs):
                        if cact[r - 3, c] != cact[r - 2, c]:
                            quad = False
                s2 = st[r - 2, ST_LNSUM] if lin else 0.0
                s3 = st[r - 3, ST_LNSUM] if quad else 0.0
                for j in range(ng):
                    a1 = lnn[r - 1, j] + s1
                    if lin and math.isfinite(lnn[r - 2, j]):
                        a2 = lnn[r - 2, j] + s2
                        if quad and math.isfinite(lnn[r - 3, j]):
                            lnn[r, j] = 3.0 * (a1 - a2) + (lnn[r - 3, j] + s3)
                        else:
                            lnn[r, j] = 2.0 * a1 - a2
                    else:
                        lnn[r, j] = a1
                for c in range(ncs):
                    if quad:
                        nc[r, c] = max(3.0 * (nc[r - 1, c] - nc[r - 2, c]) + nc[r - 3, c], 0.0)
                    elif lin:
                        nc[r, c] = max(2.0 * nc[r - 1, c] - nc[r - 2, c], 0.0)
                    else:
                        nc[r, c] = nc[r - 1, c]
                    cact[r, c] = cact[r - 1, c]
                for i in range(ne):
                    if quad:
                        pi[r, i] = 3.0 * (pi[r - 1, i] - pi[r - 2, i]) + pi[r - 3, i]
                    elif lin:
                        pi[r, i] = 2.0 * pi[r - 1, i] - pi[r - 2, i]
                    else:
                        pi[r, i] = pi[r - 1, i]
                for k in range(N_ST):
                    st[r, k] = st[r - 1, k]
                for k in (ST_LNN, ST_T):
                    if quad:
                        st[r, k] = 3.0 * (st[r - 1, k] - st[r - 2, k]) + st[r - 3, k]
                    elif lin:
                        st[r, k] = 2.0 * st[r - 1, k] - st[r - 2, k]
            code = equil_row(mode, X[r], T[r], P[r], target[r], A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs,
                             cbounds, cnreg, cwin, dkind, dpar, gopt, use_warm, lnn[r], nc[r],
                             cact[r], pi[r], st[r], b, eon, gon, cp, h, s, g, d, e, w, n, lnn_old,
                             ccp, ch, cs, cg, M, rhs, work, sol, colc, tmp, M2, r2, r3, qcol, bact, act,
                             Ad, nt, xb, memo, cok)
            if code != CONVERGED and use_warm:
                its = st[r, ST_ITER]
                code = equil_row(mode, X[r], T[r], P[r], target[r], A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs,
                                 cbounds, cnreg, cwin, dkind, dpar, gopt, False, lnn[r], nc[r],
                                 cact[r], pi[r], st[r], b, eon, gon, cp, h, s, g, d, e, w, n, lnn_old,
                                 ccp, ch, cs, cg, M, rhs, work, sol, colc, tmp, M2, r2, r3, qcol, bact, act,
                             Ad, nt, xb, memo, cok)
                st[r, ST_ITER] += its
            status[r] = code
            if code == INVALID_INPUT:  # nothing was solved: no numbers
                for j in range(ng):
                    lnn[r, j] = np.nan
                    Xout[r, j] = np.nan
                st[r, ST_LNSUM] = np.nan
                continue
            # outputs: ln x in place of ln n, x, and ln(sum n). A converged row left its amounts
            # n_j = exp(ln n_j) in the workspace (final check); otherwise take them from ln n.
            acc = 0.0
            if code == CONVERGED:
                for j in range(ng):
                    if not gon[j]:
                        n[j] = 0.0
                    acc += n[j]
            if acc > 0.0 and math.isfinite(acc):
                lnsum = math.log(acc)
                inv = 1.0 / acc
                for j in range(ng):
                    lnn[r, j] -= lnsum
                    Xout[r, j] = n[j] * inv
            else:
                top = -np.inf
                for j in range(ng):
                    if lnn[r, j] > top:
                        top = lnn[r, j]
                for j in range(ng):
                    if lnn[r, j] > -np.inf:
                        acc += math.exp(lnn[r, j] - top)
                lnsum = top + math.log(acc) if acc > 0.0 else 0.0
                for j in range(ng):
                    v = lnn[r, j] - lnsum
                    lnn[r, j] = v
                    Xout[r, j] = math.exp(v)
            st[r, ST_LNSUM] = lnsum
