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

Modules, by concern: ``gas_thermo`` (NASA polynomials), ``gas_lp`` (the linear-programme start),
``gas_vecmath`` (sums over species, vectorised exp), ``gas_newton`` (the Newton loop of one state,
in named stages), ``gas_state`` (the slots ST_* and GOPT_*, and the named tuples the stages pass:
system, problem, state, workspace). This module is the entry point: ``equil_batch`` solves a batch,
its chunks shared out among threads (``pool``), each thread's share in one call of the compiled
``equil_rows``; it re-exports the names the Python layer uses.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

import numpy as np
from numba import njit

from .codes import CONVERGED, INVALID_INPUT
from .gas_lp import lp_start  # noqa: F401  (re-exported)
from .gas_newton import equil_row
from .gas_state import (  # noqa: F401  (re-exported: the Python layer reads these slots)
    GOPT_MAX_ITER,
    GOPT_T_GUESS,
    GOPT_TMAX,
    GOPT_TMIN,
    GOPT_TOL,
    N_GOPT,
    N_ST,
    ST_DRIVE,
    ST_ELEM,
    ST_ENERGY,
    ST_ITER,
    ST_LNN,
    ST_LNSUM,
    ST_P,
    ST_PHASE_CHANGES,
    ST_T,
    GasProblem,
    GasSystem,
    new_state,
    new_workspace,
    reset,
)
from .gas_thermo import feed_properties, thermo  # noqa: F401  (re-exported)
from .gas_vecmath import element_totals  # noqa: F401  (re-exported)
from .gas_vecmath import vexp as _vexp  # noqa: F401  (re-exported under its former name)
from .pool import run_threads, thread_count, writable
from .borrow import borrow


def default_chunk(n: int, warm: bool) -> int:
    """Rows per chunk: one contiguous chunk per thread along a warm sweep (each chunk's first row
    starts cold), small chunks otherwise for load balance."""
    import numba

    return max(1, -(-n // numba.get_num_threads())) if warm else 16


@njit(inline="always")
def _extrapolate(r, lo, lnn, nc, cact, pi, st, status):
    """The warm start of row r from the rows before it in its chunk (rows hold ln x on output;
    ln moles = ln x + ln(sum n)). Along a sweep, extrapolate from the previous states that
    converged with the same phase set: quadratically from three (y = 3 y1 - 3 y2 + y3), linearly
    from two (y = 2 y1 - y2). The quadratic error term is third order in the step, so a fine sweep
    starts each state within ~1e-9 of its answer and converges in one Newton iteration."""
    ng = lnn.shape[1]
    ncs = nc.shape[1]
    ne = pi.shape[1]
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


@njit(cache=True, nogil=True)
def equil_rows(first, step, chunk, pb, sy, X, T, P, target, warm, lnn, nc, cact, pi, st, status, Xout, ws, sv):
    """Chunks first, first + step, first + 2 step, ... of ``equil_batch`` (arguments as there;
    pb : ``GasProblem``, sy : ``GasSystem``), row after row, with this thread's workspace ws and
    state sv (``new_workspace``, ``new_state``; reset at the start of each chunk): each row is
    copied into sv, solved by ``equil_row`` and copied back. Releases the GIL."""
    pb = borrow(pb)
    sy = borrow(sy)
    ws = borrow(ws)
    sv = borrow(sv)
    nrow = X.shape[0]
    ng = sy.A.shape[0]
    ne = sy.A.shape[1]
    ncs = sy.Ac.shape[0]
    x1 = sv.x
    lnn1 = sv.lnn
    nc1 = sv.nc
    cact1 = sv.cact
    pi1 = sv.pi
    st1 = sv.st
    n = ws.sp.n
    gon = ws.sp.gon
    nchunk = (nrow + chunk - 1) // chunk
    for ck in range(first, nchunk, step):
        reset(ws)
        lo = ck * chunk
        hi = min(nrow, lo + chunk)
        for r in range(lo, hi):
            use_warm = warm and r > lo and status[r - 1] == CONVERGED
            if use_warm:
                _extrapolate(r, lo, lnn, nc, cact, pi, st, status)
            for j in range(ng):
                x1[j] = X[r, j]
                lnn1[j] = lnn[r, j]
            for c in range(ncs):
                nc1[c] = nc[r, c]
                cact1[c] = cact[r, c]
            for i in range(ne):
                pi1[i] = pi[r, i]
            for k in range(N_ST):
                st1[k] = st[r, k]
            its = 0.0
            while True:
                code = equil_row(pb, T[r], P[r], target[r], use_warm, sy, sv, ws)
                if code == CONVERGED or not use_warm:
                    break
                # a failed warm start is restarted cold once
                its += st1[ST_ITER]
                use_warm = False
            st1[ST_ITER] += its
            for j in range(ng):
                lnn[r, j] = lnn1[j]
            for c in range(ncs):
                nc[r, c] = nc1[c]
                cact[r, c] = cact1[c]
            for i in range(ne):
                pi[r, i] = pi1[i]
            for k in range(N_ST):
                st[r, k] = st1[k]
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


def equil_batch(mode, X, T, P, target, A, coeffs, bounds, nreg, lnpref, Ac, ccoeffs, cbounds, cnreg,
                cwin, dkind, dpar, gopt, warm, chunk, lnn, nc, cact, pi, st, status, Xout):
    """Equilibrate every row of X (n, ng) at T (n,), P (n,); results in lnn (n, ng) (ln mole
    fractions on output), Xout (n, ng) mole fractions, nc (n, ncs), cact (n, ncs), pi (n, ne),
    st (n, N_ST) (ST_LNSUM: ln of the gas moles), status (n,). Rows are split in chunks of ``chunk``
    shared out among numba's threads (``numba.get_num_threads()``; chunk k to thread k mod threads);
    with ``warm`` every row but a chunk's first starts from the previous row's answer, extrapolated
    along the sweep from the three (or two) previous rows. A failed row is restarted cold once and
    never stops the others. Inputs are taken as C-contiguous, writable arrays (copied where they are
    not: one compiled form of ``equil_rows`` serves every call); the outputs must be such arrays."""
    nrow = X.shape[0]
    ng, ne = A.shape
    ncs = Ac.shape[0]
    nchunk = (nrow + chunk - 1) // chunk
    f = writable
    pb = GasProblem(int(mode), int(dkind), f(dpar), f(gopt))
    sy = GasSystem(f(A), f(coeffs), f(bounds), f(nreg, np.int64), f(lnpref), f(Ac), f(ccoeffs), f(cbounds),
                   f(cnreg, np.int64), f(cwin))
    X, T, P, target = f(X), f(T), f(P), f(target)
    for out, dt in ((lnn, np.float64), (nc, np.float64), (cact, np.bool_), (pi, np.float64), (st, np.float64),
                    (status, np.int64), (Xout, np.float64)):
        if not (out.dtype == dt and out.flags.c_contiguous and out.flags.writeable):
            raise ValueError("equil_batch: outputs must be C-contiguous, writable arrays of the documented dtypes")
    warm = bool(warm)

    def work(k, nthreads):
        equil_rows(k, nthreads, int(chunk), pb, sy, X, T, P, target, warm, lnn, nc, cact, pi, st, status, Xout,
                   new_workspace(ng, ne, ncs), new_state(ng, ne, ncs))

    run_threads(work, thread_count(nchunk))
