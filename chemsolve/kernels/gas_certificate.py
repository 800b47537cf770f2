"""The gas certificate: an independent check of returned gas equilibrium states (DESIGN.md section 3).

Nothing here comes from ``chemsolve.kernels.gas``: the NASA polynomials are evaluated by this
module's own code (g/RT of the gas species as one polynomial, Horner form), and every sum is
written again. What is shared is the data (formula matrices, polynomial coefficients and their
region bounds, the condensed species' temperature windows) and the request (feed, T, P, the held
property). The row loop may reassociate sums (fastmath "reassoc", "contract", as the solver's sums:
only the order of additions changes, ~1e-16 relative; NaN and inf checks stay).

For each row the solver called CONVERGED the state (T, P, X, ln X, gas moles, condensed moles,
element potentials pi) is checked against the equations that define a gas equilibrium:

  CK_ELEMENT    element balance, each element against its own total:
                |sum_j a_ij n_j + sum_c a_ic n_c - b_i| / max(|b_i|, sum |a_ij n_j| + sum |a_ic n_c|)
                (n_j = X_j * moles; b: the feed's element amounts, from the feed alone)
  CK_T          TP, TV: |T_used - T| / T, the temperature the solver used against the one asked for
  CK_PV         TP, HP, SP: |P_out - P| / P; TV, UV: the volume, |N T_out / P_out - T / P| / (T / P)
  CK_PROPERTY   HP: H, UV: U, SP: S of the state against the held value, relative to
                |target| + T (sum |n_j h_j| + sum |n_c h_c| + 5/2 sum n_j + sum n_c cp_c) (H/R and U/R
                [K]; S/R with s for h and without the factor T): the cp terms (cp/R >= 5/2 for any
                ideal gas, so a lower bound of the heat capacity) make it a relative temperature
                error where the enthalpies nearly cancel (air near 298 K)
  CK_GAS        every gas species made of present elements: |mu_j/RT - sum_i a_ij pi_i|, with
                mu_j/RT = g_j(T)/RT + ln X_j + ln(P / P_ref,j)  (ln X, so trace species count too)
  CK_COND       every condensed species with n_c > 0: |g_c(T)/RT - sum_i a_ic pi_i|
  CK_AMOUNT     every condensed species: max(0, -n_c)  (NaN fails)
  CK_WINDOW     every condensed species with n_c > 0: how far T lies outside its window [K]
  CK_ABSENT     every condensed species with n_c = 0 made of present elements, T inside its window:
                max(0, -(g_c/RT - sum_i a_ic pi_i)), i.e. by how much it would lower G

A check that does not apply to the mode holds 0. values[r, k] holds the worst residual of check k
and where[r, k] the index of the element / gas species / condensed species it belongs to (-1 for
none); rows that were not CONVERGED hold NaN and -1. A row with any value above its tolerance
(tols[k], set by ``chemsolve.gas.certificate``; NaN fails) becomes CHECK_FAILED.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

import numpy as np
from numba import njit

from .codes import CHECK_FAILED, CONVERGED, MODE_HP, MODE_SP, MODE_TP, MODE_TV, MODE_UV
from .pool import run_threads, thread_count, writable

CK_ELEMENT = 0
CK_T = 1
CK_PV = 2
CK_PROPERTY = 3
CK_GAS = 4
CK_COND = 5
CK_AMOUNT = 6
CK_WINDOW = 7
CK_ABSENT = 8
N_CK = 9


@njit(cache=True)
def nasa(coeffs, bounds, nreg, j, T, lnT):
    """(cp/R, h/RT, s/R) of species j at T from its NASA-9 rows a1..a7, b1, b2 (NASA-7 rows have
    a1 = a2 = 0). Region r serves T up to bounds[j, r + 1] (the first region whose upper bound is
    not below T; the end regions are extrapolated), the convention of the data's loader."""
    r = 0
    while r < nreg[j] - 1 and not (T <= bounds[j, r + 1]):
        r += 1
    a0 = coeffs[j, r, 0]
    a1 = coeffs[j, r, 1]
    a2 = coeffs[j, r, 2]
    a3 = coeffs[j, r, 3]
    a4 = coeffs[j, r, 4]
    a5 = coeffs[j, r, 5]
    a6 = coeffs[j, r, 6]
    u = 1.0 / T
    # cp/R = a1/T^2 + a2/T + a3 + a4 T + a5 T^2 + a6 T^3 + a7 T^4
    cp = (a0 * u + a1) * u + a2 + T * (a3 + T * (a4 + T * (a5 + T * a6)))
    # h/RT = -a1/T^2 + a2 lnT/T + a3 + a4 T/2 + a5 T^2/3 + a6 T^3/4 + a7 T^4/5 + b1/T
    h = (-a0 * u + a1 * lnT + coeffs[j, r, 7]) * u + a2 + T * (
        a3 / 2.0 + T * (a4 / 3.0 + T * (a5 / 4.0 + T * a6 / 5.0)))
    # s/R = -a1/(2 T^2) - a2/T + a3 lnT + a4 T + a5 T^2/2 + a6 T^3/3 + a7 T^4/4 + b2
    s = (-a0 * u / 2.0 - a1) * u + a2 * lnT + coeffs[j, r, 8] + T * (
        a3 + T * (a4 / 2.0 + T * (a5 / 3.0 + T * a6 / 4.0)))
    return cp, h, s


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def feed_property(mode, Xfeed, r, T, P, coeffs, bounds, nreg, lnpref):
    """The property the feed of row r, mole fractions Xfeed[r] (summing to 1), carries at (T, P),
    per mole: HP: H/R [K], UV: U/R [K], SP: S/R [-] (ideal mixing); 0 in TP and TV."""
    if mode != MODE_HP and mode != MODE_UV and mode != MODE_SP:
        return 0.0
    lnT = math.log(T)
    lnP = math.log(P)
    acc = 0.0
    for j in range(Xfeed.shape[1]):
        xj = Xfeed[r, j]
        if xj > 0.0:
            cp, h, s = nasa(coeffs, bounds, nreg, j, T, lnT)
            if mode == MODE_HP:
                acc += xj * h * T
            elif mode == MODE_UV:
                acc += xj * (h - 1.0) * T
            else:
                acc += xj * (s - math.log(xj) - lnP + lnpref[j])
    return acc


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def state_property(mode, T, P, X, lnX, moles, nc, coeffs, bounds, nreg, lnpref, ccoeffs, cbounds, cnreg):
    """(property, scale) of a state per mole of feed: HP H/R, UV U/R [K], SP S/R [-] (as
    ``feed_property``), and the scale of CK_PROPERTY without |target|."""
    lnT = math.log(T)
    lnP = math.log(P)
    shift = 1.0 if mode == MODE_UV else 0.0
    cur = 0.0
    scale = 0.0
    for j in range(X.shape[0]):
        xj = X[j]
        if xj > 0.0:
            nj = xj * moles
            cp, h, s = nasa(coeffs, bounds, nreg, j, T, lnT)
            if mode == MODE_SP:
                v = nj * (s - lnX[j] - lnP + lnpref[j])
                cur += v
                scale += abs(nj * s) + nj * cp
            else:
                v = nj * (h - shift)
                cur += v * T
                scale += (abs(v) + nj * cp) * T
    for c in range(nc.shape[0]):
        if nc[c] != 0.0:
            cp, h, s = nasa(ccoeffs, cbounds, cnreg, c, T, lnT)
            if mode == MODE_SP:
                cur += nc[c] * s
                scale += abs(nc[c] * s) + abs(nc[c]) * cp
            else:
                cur += nc[c] * h * T
                scale += (abs(nc[c] * h) + abs(nc[c]) * cp) * T
    return cur, scale


def charge_like(A):
    """Elements carried with both signs (the electron 'E' of ionised mixtures): they take part
    with a total of zero."""
    return (A > 0.0).any(axis=0) & (A < 0.0).any(axis=0)


def sparse_rows(A):
    """The nonzero entries of each row of A (n, ne) as CSR: ptr (n + 1,), col (nnz,), val (nnz,)."""
    rows, col = np.nonzero(A)
    ptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=A.shape[0]), out=ptr[1:])
    return ptr, col.astype(np.int64), np.ascontiguousarray(A[rows, col], dtype=np.float64)


_C2 = 0.5
_C3 = 1.0 / 3.0
_C4 = 0.25
_C5 = 0.2
_C6 = 1.0 / 6.0
_C12 = 1.0 / 12.0
_C20 = 0.05


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def certify_rows(first, step, chunk, mode, Xfeed, Treq, Preq, target, AT, aptr, acol, aval, coeffs, bounds, nreg,
                 lnpref, Ac, ccoeffs, cbounds, cnreg, cwin, charge, Tarr, Parr, X, lnX, marr, nc, pi, tols, status,
                 values, where):
    """Certify the CONVERGED rows of chunks first, first + step, first + 2 step, ... (``chunk`` rows
    each) of the batch arrays (AT: the gas formula matrix transposed (ne, ng), contiguous; aptr,
    acol, aval: its rows in CSR form, ``sparse_rows``); a row that fails becomes CHECK_FAILED. One
    call per thread, one loop body, the arrays indexed in place: a call or a slice per row passes
    every array with reference counts (atomic, contended between threads), which cost more than
    the check itself; the element sums run over dense rows of A^T so that they vectorise
    (reassociated). Releases the GIL."""
    ng = X.shape[1]
    ne = Ac.shape[1]
    ncs = Ac.shape[0]
    b = np.empty(ne)
    bal = np.empty(ne)
    sc = np.empty(ne)
    on = np.empty(ne, dtype=np.bool_)
    nv = np.empty(ng)  # gas amounts per mole of feed
    acc = np.empty(ng)  # sum_i a_ij pi_i
    res = np.empty(ng)  # |mu_j/RT - sum_i a_ij pi_i|
    wv = np.empty(N_CK)  # worst value of each check in this row
    wi = np.empty(N_CK, dtype=np.int64)  # and what it belongs to
    none = np.int64(-1)  # "belongs to nothing" (a variable: a literal -1 would compile _worse twice)
    nrow = Xfeed.shape[0]
    nchunk = (nrow + chunk - 1) // chunk
    for ck in range(first, nchunk, step):
        lo = ck * chunk
        hi = min(nrow, lo + chunk)
        for r in range(lo, hi):
            if status[r] != CONVERGED:
                for k in range(N_CK):
                    values[r, k] = np.nan
                    where[r, k] = -1
                continue
            T = Tarr[r]
            P = Parr[r]
            moles = marr[r]
            for k in range(N_CK):
                wv[k] = 0.0
                wi[k] = -1
            if not (T > 0.0 and P > 0.0 and moles >= 0.0 and math.isfinite(T) and math.isfinite(P)
                    and math.isfinite(moles)):
                for k in range(N_CK):
                    values[r, k] = np.nan
                    where[r, k] = -1
                status[r] = CHECK_FAILED
                continue
            # ---- the feed's element amounts and (HP, UV, SP, unless given) the property it holds,
            # from the feed alone (written out here: a call per row would cost more than the sum)
            tfree = mode == MODE_HP or mode == MODE_UV or mode == MODE_SP
            tgt = target[r]
            own = tfree and tgt != tgt
            if own:
                tgt = 0.0
                Tq = Treq[r]
                lnTq = math.log(Tq)
                lnPq = math.log(Preq[r])
                uq = 1.0 / Tq
                uq2 = uq * uq
            for i in range(ne):
                b[i] = 0.0
            for j in range(ng):
                xj = Xfeed[r, j]
                if xj != 0.0:
                    for k in range(aptr[j], aptr[j + 1]):
                        b[acol[k]] += aval[k] * xj
                    if own and xj > 0.0:
                        rg = 0
                        while rg < nreg[j] - 1 and not (Tq <= bounds[j, rg + 1]):
                            rg += 1
                        a0 = coeffs[j, rg, 0]
                        a1 = coeffs[j, rg, 1]
                        a2 = coeffs[j, rg, 2]
                        a3 = coeffs[j, rg, 3]
                        a4 = coeffs[j, rg, 4]
                        a5 = coeffs[j, rg, 5]
                        a6 = coeffs[j, rg, 6]
                        if mode == MODE_SP:
                            sj = (-_C2 * a0 * uq2 - a1 * uq + a2 * lnTq + coeffs[j, rg, 8]
                                  + Tq * (a3 + Tq * (_C2 * a4 + Tq * (_C3 * a5 + Tq * (_C4 * a6)))))
                            tgt += xj * (sj - math.log(xj) - lnPq + lnpref[j])
                        else:
                            hj = (-a0 * uq2 + (a1 * lnTq + coeffs[j, rg, 7]) * uq + a2
                                  + Tq * (_C2 * a3 + Tq * (_C3 * a4 + Tq * (_C4 * a5 + Tq * (_C5 * a6)))))
                            tgt += xj * (hj - (1.0 if mode == MODE_UV else 0.0)) * Tq
            all_on = True
            for i in range(ne):
                on[i] = b[i] != 0.0 or charge[i]
                all_on = all_on and on[i]
            # ---- the state's element amounts, element by element (dense rows of A^T, which vectorise)
            for j in range(ng):
                nv[j] = X[r, j] * moles
                acc[j] = 0.0
            for i in range(ne):
                s_ = 0.0
                sa = 0.0
                for j in range(ng):
                    v = AT[i, j] * nv[j]
                    s_ += v
                    sa += abs(v)
                bal[i] = s_
                sc[i] = sa
                if on[i]:  # sum_i a_ij pi_i over the present elements
                    p_ = pi[r, i]
                    for j in range(ng):
                        acc[j] += AT[i, j] * p_
            # ---- chemical potentials of the gas species made of present elements, and (HP, UV, SP)
            # the held property. g/RT = h/RT - s/R written out as one polynomial:
            # -a1/(2 T^2) + a2 (1 + lnT)/T + a3 (1 - lnT) - a4 T/2 - a5 T^2/6 - a6 T^3/12 - a7 T^4/20 + b1/T - b2
            lnT = math.log(T)
            lnP = math.log(P)
            u = 1.0 / T
            u2 = u * u
            shift = 1.0 if mode == MODE_UV else 0.0
            prop = 0.0
            pscale = 0.0
            for j in range(ng):
                if not all_on:
                    son = True
                    for k in range(aptr[j], aptr[j + 1]):
                        son = son and on[acol[k]]
                    if not son:  # made of an absent element: its amount is caught by that element's balance
                        res[j] = 0.0
                        continue
                rg = 0  # the first region whose upper bound is not below T (the ends extrapolate)
                while rg < nreg[j] - 1 and not (T <= bounds[j, rg + 1]):
                    rg += 1
                a0 = coeffs[j, rg, 0]
                a1 = coeffs[j, rg, 1]
                a2 = coeffs[j, rg, 2]
                a3 = coeffs[j, rg, 3]
                a4 = coeffs[j, rg, 4]
                a5 = coeffs[j, rg, 5]
                a6 = coeffs[j, rg, 6]
                b1 = coeffs[j, rg, 7]
                b2 = coeffs[j, rg, 8]
                g = (-_C2 * a0 * u2 + (a1 * (1.0 + lnT) + b1) * u + a2 * (1.0 - lnT) - b2
                     - T * (_C2 * a3 + T * (_C6 * a4 + T * (_C12 * a5 + T * (_C20 * a6)))))
                res[j] = abs(g + lnX[r, j] + (lnP - lnpref[j]) - acc[j])
                nj = nv[j]
                if tfree and nj > 0.0:
                    # the scale takes cp/R >= 5/2 (any ideal gas) for the gas: sum n cp >= 5/2 sum n
                    if mode == MODE_SP:
                        sj = (-_C2 * a0 * u2 - a1 * u + a2 * lnT + b2
                              + T * (a3 + T * (_C2 * a4 + T * (_C3 * a5 + T * (_C4 * a6)))))
                        prop += nj * (sj - lnX[r, j] - lnP + lnpref[j])
                        pscale += abs(nj * sj) + 2.5 * nj
                    else:
                        hj = (-a0 * u2 + (a1 * lnT + b1) * u + a2
                              + T * (_C2 * a3 + T * (_C3 * a4 + T * (_C4 * a5 + T * (_C5 * a6))))) - shift
                        prop += nj * hj * T
                        pscale += (abs(nj * hj) + 2.5 * nj) * T
            worst = 0.0
            bad = False
            for j in range(ng):
                v = res[j]
                bad = bad or v != v
                worst = max(worst, v)
            wj = -1
            for j in range(ng):
                if bad and res[j] != res[j]:
                    worst = res[j]
                    wj = j
                    break
                if not bad and res[j] == worst:
                    wj = j
                    break
            wv[CK_GAS] = worst
            wi[CK_GAS] = wj
            # ---- condensed species: amounts, windows, conditions of the present, driving forces of the absent
            for c in range(ncs):
                n = nc[r, c]
                if not (n >= 0.0):
                    wv[CK_AMOUNT], wi[CK_AMOUNT] = _worse(wv[CK_AMOUNT], wi[CK_AMOUNT], -n if n == n else np.nan, c)
                    continue
                ok = True
                ac = 0.0
                for i in range(ne):
                    a = Ac[c, i]
                    if a != 0.0:
                        if n != 0.0:
                            v = a * n
                            bal[i] += v
                            sc[i] += abs(v)
                        if not on[i]:
                            ok = False
                        ac += a * pi[r, i]
                inside = cwin[c, 0] <= T <= cwin[c, 1]
                if n > 0.0:
                    if not inside:
                        wv[CK_WINDOW], wi[CK_WINDOW] = _worse(wv[CK_WINDOW], wi[CK_WINDOW],
                                                              max(cwin[c, 0] - T, T - cwin[c, 1]), c)
                    cp, h, s = nasa(ccoeffs, cbounds, cnreg, c, T, lnT)
                    if tfree:
                        if mode == MODE_SP:
                            prop += n * s
                            pscale += abs(n * s) + n * cp
                        else:
                            prop += n * h * T
                            pscale += (abs(n * h) + n * cp) * T
                    if ok:  # (an absent element is caught by its balance)
                        wv[CK_COND], wi[CK_COND] = _worse(wv[CK_COND], wi[CK_COND], abs((h - s) - ac), c)
                elif ok and inside:
                    cp, h, s = nasa(ccoeffs, cbounds, cnreg, c, T, lnT)
                    wv[CK_ABSENT], wi[CK_ABSENT] = _worse(wv[CK_ABSENT], wi[CK_ABSENT], max(0.0, ac - (h - s)), c)
            # ---- element balances, each against its own total
            for i in range(ne):
                d = abs(bal[i] - b[i])
                scale = max(abs(b[i]), sc[i])
                wv[CK_ELEMENT], wi[CK_ELEMENT] = _worse(wv[CK_ELEMENT], wi[CK_ELEMENT],
                                                        d / scale if scale > 0.0 else (0.0 if d == 0.0 else np.inf), i)
            # ---- the held state variables
            if mode == MODE_TP or mode == MODE_TV:
                wv[CK_T], wi[CK_T] = _worse(wv[CK_T], wi[CK_T], abs(T - Treq[r]) / Treq[r], none)
            if mode == MODE_TP or mode == MODE_HP or mode == MODE_SP:
                wv[CK_PV], wi[CK_PV] = _worse(wv[CK_PV], wi[CK_PV], abs(P - Preq[r]) / Preq[r], none)
            else:
                v_req = Treq[r] / Preq[r]  # V / R per mole of feed
                wv[CK_PV], wi[CK_PV] = _worse(wv[CK_PV], wi[CK_PV], abs(moles * T / P - v_req) / v_req, none)
            if tfree:
                wv[CK_PROPERTY], wi[CK_PROPERTY] = _worse(wv[CK_PROPERTY], wi[CK_PROPERTY],
                                                          abs(prop - tgt) / (abs(tgt) + pscale), none)
            for k in range(N_CK):
                values[r, k] = wv[k]
                where[r, k] = wi[k]
                if not (wv[k] <= tols[k]):
                    status[r] = CHECK_FAILED


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _worse(cur, idx_cur, v, idx):
    """(value, index) of the worse of the current worst residual and v (NaN is the worst, and sticks)."""
    if cur != cur:
        return cur, idx_cur
    if v != v or v > cur:
        return v, idx
    return cur, idx_cur


def certify_batch(mode, Xfeed, Treq, Preq, target, A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs, cbounds,
                  cnreg, cwin, T, P, X, lnX, moles, nc, pi, tols, chunk, status, values, where):
    """Certify every CONVERGED row (in place: values (n, N_CK), where (n, N_CK), and status, where
    a row fails, CHECK_FAILED). Inputs per row: Xfeed (n, ng) feed mole fractions, Treq, Preq (n,)
    the request, target (n,) the held H/R, U/R or S/R per mole of feed (NaN: the feed's); T, P (n,)
    the temperature the solver used and the pressure of the state, X, lnX (n, ng), moles (n,) gas
    moles per mole of feed, nc (n, ncs), pi (n, ne). Chunks of ``chunk`` rows are shared out among
    numba's threads (``pool``)."""
    nrow = Xfeed.shape[0]
    f = writable
    Xfeed, Treq, Preq, target, T, P, X, lnX, moles, nc, pi, tols = (
        f(Xfeed), f(Treq), f(Preq), f(target), f(T), f(P), f(X), f(lnX), f(moles), f(nc), f(pi), f(tols))
    coeffs, bounds, nreg, lnpref = f(coeffs), f(bounds), f(nreg, np.int64), f(lnpref)
    Ac, ccoeffs, cbounds, cnreg, cwin = f(Ac), f(ccoeffs), f(cbounds), f(cnreg, np.int64), f(cwin)
    for out, dt in ((status, np.int64), (values, np.float64), (where, np.int64)):
        if not (out.dtype == dt and out.flags.c_contiguous and out.flags.writeable):
            raise ValueError("certify_batch: outputs must be C-contiguous, writable arrays of the documented dtypes")
    charge = charge_like(A)
    aptr, acol, aval = sparse_rows(A)
    AT = np.ascontiguousarray(A.T, dtype=np.float64)
    nchunk = (nrow + chunk - 1) // chunk

    def work(k, nthreads):
        certify_rows(k, nthreads, chunk, mode, Xfeed, Treq, Preq, target, AT, aptr, acol, aval, coeffs, bounds, nreg,
                     lnpref, Ac, ccoeffs, cbounds, cnreg, cwin, charge, T, P, X, lnX, moles, nc, pi, tols, status,
                     values, where)

    run_threads(work, thread_count(nchunk))


@njit(cache=True)
def property_batch(mode, T, P, X, lnX, moles, nc, coeffs, bounds, nreg, lnpref, ccoeffs, cbounds, cnreg, out):
    """out[r] = the held property (``state_property``) of state r."""
    for r in range(T.shape[0]):
        out[r] = state_property(mode, T[r], P[r], X[r], lnX[r], moles[r], nc[r], coeffs, bounds, nreg, lnpref,
                                ccoeffs, cbounds, cnreg)[0]


@njit(cache=True)
def feed_property_batch(mode, Xfeed, T, P, coeffs, bounds, nreg, lnpref, out):
    """out[r] = the property the feed of row r carries at (T[r], P[r]) (``feed_property``)."""
    for r in range(T.shape[0]):
        out[r] = feed_property(mode, Xfeed, r, T[r], P[r], coeffs, bounds, nreg, lnpref)
