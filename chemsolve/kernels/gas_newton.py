"""The Newton loop of the gas kernels, in named stages (formulation: ``chemsolve.kernels.gas``).

``equil_row`` solves one state; ``equil_rows`` (``chemsolve.kernels.gas``) inlines it into its
loop over rows. Its stages, each a compiled function of the named tuples of ``gas_state`` (the
system ``sy``, the state ``sv`` and the groups of the workspace ``ws``) and the scalars it needs:

1. ``set_up``          element totals of the feed, present elements, species made of them;
2. ``cold_start`` / ``warm_start``: the linear-programme start (``gas_lp``) or the state given;
   then per iteration:
3. ``all_thermo`` (``gas_thermo``) and ``leave_window``: thermo at T; condensed species whose
   window T left;
4. ``newton_system``   amounts, chemical potentials, the residual of the held property, and the
   reduced Newton system in (pi, dn_c, d ln N, d ln T);
5. LU (``linalg.lu_solve``), else ``reseed`` (underflowed species back at a trace level) or
   ``least_change`` (a regularised step); ``unpack``: pi and the step of every ln n_j;
6. ``damping_factor``  the schedule's first factor (``damping``) with CEA's trace-species limit,
   T kept inside its bounds (in ``equil_row``), ``backtrack`` for LineSearch and Adaptive;
7. ``take_step``;
8. ``step_small``      convergence on the full step, then ``final_check``: the composition
   recomputed from the element potentials alone against the balances and the held property,
   and the condensed phases (``enter_condensed`` adds one that would lower G).

Only small groups of arrays cross each call (numba passes a named tuple array by array); the
arrays are borrowed (``kernels.borrow``), so a call copies their descriptors and counts nothing.
The small stages run every iteration (``warm_start``, ``reseed``, ``unpack``, ``damping_factor``,
``take_step``, ``step_small``) are inlined into the loop (``inline="always"``): a call costs about
as much as their arithmetic. The larger ones are compiled on their own: numba's type inference
and LLVM's optimisation of one function grow faster than linearly with its size.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

import numpy as np
from numba import njit

from .codes import (
    CONVERGED,
    DAMP_CONTROL,
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
from .damping import adapt, backtracks, first_factor, search_params
from .gas_lp import lp_start
from .gas_state import (
    GOPT_MAX_ITER,
    GOPT_T_GUESS,
    GOPT_TMAX,
    GOPT_TMIN,
    GOPT_TOL,
    ST_DRIVE,
    ST_ELEM,
    ST_ENERGY,
    ST_ITER,
    ST_LNN,
    ST_P,
    ST_PHASE_CHANGES,
    ST_T,
)
from .gas_thermo import T_REUSE, all_thermo, feed_properties
from .gas_vecmath import (
    LN_TINY,
    add_potentials,
    balance,
    element_totals,
    gram,
    row_sums,
    vexp,
)
from .linalg import lu_solve, regularized_solve
from .borrow import borrow

SIZE_DEFAULT = 18.420681  # CEA: ln(1e8)
MAX_PHASE_CHANGES = 40
MAX_RESEED = 4
JUMP_PI = 50.0  # [RT] a change of an element potential in one step that calls for a reseed (potential_jump)
JUMP_STILL = 1e-3  # ... when |d ln N| and |d ln T| are below this
# Newton converges quadratically: once a full step (damping 1) changes every visible species,
# ln N and ln T by at most STEP_TOL, the state after that step is within ~STEP_TOL**2 (1e-12)
# of the solution. The final check then verifies the recomputed state independently.
STEP_TOL = 1e-6
# Convergence is judged on every species above x = 1e-14 (ln = -32.2): each must change by less
# than 1e-9 relative in a full Newton step. Below that level a species' amount can be fixed by an
# element combination that no visible species carries (e.g. H2 and O2 over pure water at 600 K),
# where the element balance itself is only known to rounding; such species are reported from the
# element potentials, which satisfy their equilibrium condition exactly.
LN_VISIBLE = -32.236191301916641
# A species whose mole fraction changes by less than this in absolute terms is at the rounding
# floor of the element balances (eps * |b| amplified by the conditioning of nearly degenerate
# element combinations); its relative change is not required to fall below 1e-9.
NOISE_X = 1e-14
_GO = -1  # set_up's "no final status yet"


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def in_window(c, T, cwin):
    """A condensed species takes part only inside its window cwin[c] = (low, high) [K]
    (``chemsolve.gas.mixture.condensed_windows``): its fitted range, except that the
    lowest-temperature phase of a formula reaches down without limit (and a phase above a
    gap down to the top of the phase below), so that no phase appears on heating. Above its
    fitted range a species never takes part (an extrapolated liquid would condense in a
    flame). Phase changes such as ice / liquid water are separate species."""
    return cwin[c, 0] <= T <= cwin[c, 1]


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def same_formula(Ac, c, d):
    """Condensed species c and d have the same formula (phases of one substance)."""
    for i in range(Ac.shape[1]):
        if Ac[d, i] != Ac[c, i]:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def leave_window(T, cwin, cok, cact, nc, Ac):
    """Active condensed species whose window does not hold T leave; a species of the same formula
    whose window holds T takes over the amount (a phase change). Returns True if any left."""
    cwin = borrow(cwin)
    cok = borrow(cok)
    cact = borrow(cact)
    nc = borrow(nc)
    Ac = borrow(Ac)
    left = False
    ncs = Ac.shape[0]
    for c in range(ncs):
        if cact[c] and not in_window(c, T, cwin):
            cact[c] = False
            left = True
            for d in range(ncs):
                if d != c and not cact[d] and cok[d] and in_window(d, T, cwin) and same_formula(Ac, c, d):
                    cact[d] = True
                    nc[d] = nc[c]
                    break
            nc[c] = 0.0
    return left


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def set_up(A, Ac, sv, el, sp, memo, cok):
    """Element totals b of the feed, the elements that take part, the gas species made of them
    (the active species ``act``, their dense formula rows ``Ad``) and the condensed species made of
    them (``cok``; the others leave the active set). Returns (status, m, nact, ngon): status
    INVALID_INPUT (no elements, or no species made of them) or _GO; m present elements, nact
    active gas species (ngon made of present elements: the same number)."""
    A = borrow(A)
    Ac = borrow(Ac)
    sv = borrow(sv)
    el = borrow(el)
    sp = borrow(sp)
    memo = borrow(memo)
    cok = borrow(cok)
    b = el.b
    eon = el.eon
    qcol = el.qcol
    bact = el.bact
    Ad = el.Ad
    gon = sp.gon
    act = sp.act
    nc = sv.nc
    cact = sv.cact
    ng = A.shape[0]
    ne = A.shape[1]
    ncs = Ac.shape[0]
    element_totals(sv.x, A, b)
    bmax = 0.0
    for i in range(ne):
        if abs(b[i]) > bmax:
            bmax = abs(b[i])
    if not (bmax > 0.0) or not math.isfinite(bmax):
        return INVALID_INPUT, 0, 0, 0
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
            return INVALID_INPUT, 0, 0, 0
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
    return _GO, m, nact, ngon


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def cold_start(mode, gopt, Tin, lnP, lnRT_V, ngon, sy, sv, ws):
    """A cold start: at the guessed T (HP, SP, UV: T_guess, else the feed's, inside T_bounds) the
    linear-programme start (the low-temperature limit, ``gas_lp``), or CEA's equal amounts if it
    fails. Sets sv.lnn, nc, cact, pi and st[ST_LNN]; returns (T, T_done, T_exact), the last two
    those of the thermo it left in the workspace."""
    gopt = borrow(gopt)
    sy = borrow(sy)
    sv = borrow(sv)
    ws = borrow(ws)
    Pfix = mode == MODE_TP or mode == MODE_HP or mode == MODE_SP
    Tfree = mode == MODE_HP or mode == MODE_SP or mode == MODE_UV
    A = sy.A
    ng = A.shape[0]
    ne = A.shape[1]
    ncs = sy.Ac.shape[0]
    lnn = sv.lnn
    nc = sv.nc
    cact = sv.cact
    pi = sv.pi
    gon = ws.sp.gon
    T = Tin
    T_done = -1.0  # temperature at which cp, h, s, g (and the condensed ones) were evaluated
    T_exact = -1.0  # temperature of their last exact (not carried) evaluation
    if Tfree:
        tg = gopt[GOPT_T_GUESS]
        T = min(max(tg if tg > 0.0 else Tin, gopt[GOPT_TMIN]), gopt[GOPT_TMAX])
    # the linear-programme start (low-temperature limit); CEA's equal amounts if it fails
    T_done, T_exact = all_thermo(T, T_done, T_exact, sy, ws.th, ws.cth)
    for c in range(ncs):
        cact[c] = ws.cok[c] and in_window(c, T, sy.cwin)  # the LP's allowed mask (reused)
    lnN0 = np.nan
    if Pfix:
        lnN0 = lp_start(lnP, A, ws.th.g, sy.lnpref, gon, sy.Ac, ws.cth.g, cact, ws.el.b, ws.el.eon, lnn, nc, cact,
                        pi)
    else:
        lnN0 = lp_start(lnRT_V + math.log(T), A, ws.th.g, sy.lnpref, gon, sy.Ac, ws.cth.g, cact, ws.el.b, ws.el.eon,
                        lnn, nc, cact, pi)
    if lnN0 == lnN0:
        sv.st[ST_LNN] = lnN0
    else:
        lnn0 = -math.log(ngon)
        for j in range(ng):
            lnn[j] = lnn0 if gon[j] else -np.inf
        for c in range(ncs):
            cact[c] = False
            nc[c] = 0.0
        for i in range(ne):
            pi[i] = 0.0
        sv.st[ST_LNN] = 0.0
    return T, T_done, T_exact


@njit(inline="always")
def warm_start(Tfree, Tin, lnn, st, gon):
    """A warm start from the state given: its T when T is free (the feed's if it has none), ln n
    of species made of absent elements at -inf, unset ones at -50. Returns T."""
    lnn = borrow(lnn)
    st = borrow(st)
    gon = borrow(gon)
    T = Tin
    if Tfree:
        T = st[ST_T]
        if not (T > 0.0 and math.isfinite(T)):
            T = Tin
    for j in range(lnn.shape[0]):
        if gon[j]:
            if not math.isfinite(lnn[j]):
                lnn[j] = -50.0
        else:
            lnn[j] = -np.inf
    if not math.isfinite(st[ST_LNN]):
        st[ST_LNN] = 0.0
    return T


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def newton_system(mode, Tit, T, lnT, lnN, lnP, lnRT_V, target, m, nact, lnpref, Ac, lnn, nc, cact, el, act, ac, th,
                  cth, li):
    """The reduced Newton system at the current state, into li.M and li.rhs.

    First one pass over the active species: amounts n_j, d_j = -mu_j/RT, e_j = d ln n_j / d ln T
    and, when T is solved for (``Tit``), the energy weights w_j (HP: n_j h_j/RT, UV:
    n_j (h_j/RT - 1), SP: n_j (s_j/R - ln x_j - ln(P/P_ref) - 1)) and the residual of the held
    property. Then the system in (pi of the present elements, dn_c of the active condensed species,
    d ln N when P is fixed, d ln T when T is solved for), rows scaled to a largest entry of 1:
    the exact Jacobian of the reduced (element-potential) problem.

    Returns (N, tot, eres, escale, ncol_c, cN, cT, size): N = exp(ln N), tot = sum n_j, the
    residual of the held property and its scale, the active condensed species (listed in
    li.colc), the columns of d ln N and d ln T and the size of the system."""
    lnpref = borrow(lnpref)
    Ac = borrow(Ac)
    lnn = borrow(lnn)
    nc = borrow(nc)
    cact = borrow(cact)
    el = borrow(el)
    act = borrow(act)
    ac = borrow(ac)
    th = borrow(th)
    cth = borrow(cth)
    li = borrow(li)
    Pfix = mode == MODE_TP or mode == MODE_HP or mode == MODE_SP
    ne = Ac.shape[1]
    ncs = Ac.shape[0]
    tmp = ac.tmp
    nt = ac.nt
    d = ac.d
    e = ac.e
    w = ac.w
    h = th.h
    g = th.g
    cp = th.cp
    s = th.s
    ch = cth.h
    cs = cth.s
    cg = cth.g
    ccp = cth.cp
    colc = li.colc
    Ad = el.Ad
    bact = el.bact
    qcol = el.qcol
    eon = el.eon
    N = math.exp(lnN)
    base = (lnP - lnN) if Pfix else (lnRT_V + lnT)
    eoff = 0.0 if Pfix else 1.0
    hpuv = Tit and (mode == MODE_HP or mode == MODE_UV)
    shift = 1.0 if mode == MODE_UV else 0.0
    tot = 0.0
    cur = 0.0
    wabs = 0.0
    # the sums the gas-moles and energy rows need: sce = sum n_j e_j, scd = sum n_j d_j,
    # sw, swe, swd = sum w_j (1, e_j, d_j), cpt = sum n_j (cp_j/R - [1 if UV])
    sce = 0.0
    scd = 0.0
    sw = 0.0
    swe = 0.0
    swd = 0.0
    cpt = 0.0
    for t in range(nact):
        tmp[t] = lnn[act[t]]
    vexp(tmp, nt, ac.xb, nact)
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
    Mv = li.M[:size_m, :size_m]
    rv = li.rhs[:size_m]
    for r in range(size_m):
        rv[r] = 0.0
        for q in range(size_m):
            Mv[r, q] = 0.0
    # element rows, the gas-moles row and the energy row: sums over the gas species of
    # n_j a_j a_j^T, n_j a_j, n_j e_j a_j, w_j a_j (dense dot products over the active species)
    for p in range(m):
        s_n, s_nd, s_ne, s_w = row_sums(Ad, p, nact, nt, d, e, w)
        rv[p] = bact[p] - s_nd
        for q in range(p, m):
            v = gram(Ad, p, q, nact, nt)
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
    # row equilibration (then LU with partial pivoting)
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
    return N, tot, eres, escale, ncol_c, cN, cT, size_m


@njit(inline="always")
def reseed(tot, lnN, lnn, gon):
    """The species that would carry some element combination have underflowed (typically at low T
    after a wild first step): re-insert every gas species at a resolvable trace level
    (x >= 1e-10). The final check recomputes all amounts from pi, so this changes the path, never
    the answer."""
    lnn = borrow(lnn)
    gon = borrow(gon)
    lnsum = math.log(tot) if tot > 0.0 else lnN
    for j in range(lnn.shape[0]):
        if gon[j] and lnn[j] < lnsum - 23.0:
            lnn[j] = lnsum - 23.0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def least_change(size_m, pi, eon, li):
    """Still singular (a direction of pi that only absent or underflowed species resolve): the
    least-change step, Levenberg-Marquardt on the change of pi from its last value, into li.sol.
    Returns False if even that fails."""
    pi = borrow(pi)
    eon = borrow(eon)
    li = borrow(li)
    sol = li.sol
    r2 = li.r2
    Mv = li.M[:size_m, :size_m]
    rv = li.rhs[:size_m]
    ne = eon.shape[0]
    for r in range(size_m):
        acc = rv[r]
        q = 0
        for k in range(ne):
            if eon[k]:
                acc -= Mv[r, q] * pi[k]
                q += 1
        r2[r] = acc
    if regularized_solve(Mv, r2[:size_m], 1e-12, li.work[:size_m, : size_m + 1], li.M2[:size_m, :size_m],
                         li.r3[:size_m], sol[:size_m]) != 0:
        return False
    q = 0
    for k in range(ne):
        if eon[k]:
            sol[q] += pi[k]
            q += 1
    return True


@njit(inline="always")
def potential_jump(Pfix, Tit, cN, cT, pi, eon, sol):
    """True when the new element potentials move by more than JUMP_PI (in units of RT) while the
    total moles and T stand still (|d ln N|, |d ln T| < JUMP_STILL): the potentials are then set by
    species so far below the others that the reduced matrix barely resolves them (CO2 with a trace
    of H2 cooling to 300 K: CH4 left at x = 1e-136 from the hot start, O2 falling towards 1e-70,
    condition number 1e10), and the step would overflow every amount. Such a step is not taken:
    the trace species are re-inserted at a resolvable level (``reseed``) instead."""
    pi = borrow(pi)
    eon = borrow(eon)
    sol = borrow(sol)
    if (Pfix and abs(sol[cN]) >= JUMP_STILL) or (Tit and abs(sol[cT]) >= JUMP_STILL):
        return False
    q = 0
    for i in range(eon.shape[0]):
        if eon[i]:
            if not (abs(sol[q] - pi[i]) <= JUMP_PI):  # NaN counts as a jump
                return True
            q += 1
    return False


@njit(inline="always")
def unpack(Pfix, Tit, m, nact, cN, cT, pi, el, sol, ac):
    """The new element potentials (pi) and the full Newton step of every active species,
    d ln n_j = d_j + d ln N + e_j d ln T + sum_i a_ij pi_i (in ac.tmp). Returns (d ln N, d ln T)."""
    pi = borrow(pi)
    el = borrow(el)
    sol = borrow(sol)
    ac = borrow(ac)
    eon = el.eon
    tmp = ac.tmp
    d = ac.d
    e = ac.e
    q = 0
    for i in range(eon.shape[0]):
        if eon[i]:
            pi[i] = sol[q]
            q += 1
        else:
            pi[i] = 0.0
    dlnN = sol[cN] if Pfix else 0.0
    dlnT = sol[cT] if Tit else 0.0
    fN = 1.0 if Pfix else 0.0
    for t in range(nact):
        tmp[t] = d[t] + fN * dlnN + e[t] * dlnT  # d ln n_j
    add_potentials(el.Ad, m, nact, sol, tmp)
    return dlnN, dlnT


@njit(inline="always")
def damping_factor(dkind, dpar, k, alpha_state, size, nact, lnNsum, dlnN, dlnT, lnn, act, tmp):
    """The factor the schedule tries first at iteration k (``damping.first_factor``). For CEA's
    control factor the step size it limits is the largest change of ln n of a major species
    (x > exp(-size)) or 5 |d ln T|, 5 |d ln N|, and a gas-specific second limit applies: a trace
    species that grows may reach at most x = exp(-dpar[2]) (CEA's second limit, lambda_2;
    Gordon & McBride 1994)."""
    dpar = borrow(dpar)
    lnn = borrow(lnn)
    act = borrow(act)
    tmp = borrow(tmp)
    if dkind != DAMP_CONTROL:
        return first_factor(dkind, dpar, k, alpha_state, 0.0)
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
    return min(first_factor(dkind, dpar, k, alpha_state, big), lam2)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def merit(b, eon, A, gon, lnn, n, Ac, cact, nc, lnNv, Pfix, etarget_res, escale):
    """0.5 * sum of squared relative residuals of the nonlinear constraints (for backtracking);
    leaves n_j = exp(ln n_j) in n."""
    b = borrow(b)
    eon = borrow(eon)
    A = borrow(A)
    gon = borrow(gon)
    lnn = borrow(lnn)
    n = borrow(n)
    Ac = borrow(Ac)
    cact = borrow(cact)
    nc = borrow(nc)
    ne = A.shape[1]
    ng = A.shape[0]
    bmax = 0.0
    for i in range(ne):
        if eon[i] and abs(b[i]) > bmax:
            bmax = abs(b[i])
    tot = 0.0
    for j in range(ng):
        if gon[j]:
            n[j] = math.exp(lnn[j]) if lnn[j] > LN_TINY else 0.0
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


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def backtrack(dkind, dpar, lam, Pfix, Tit, m, nact, ncol_c, lnN, dlnN, eres, escale, A, Ac, sv, el, sp, tmp, li):
    """Backtracking on the constraint residuals (LineSearch, Adaptive): shrink the factor until
    the merit passes the Armijo test (``damping.search_params``). Returns (factor, accepted,
    shrinks)."""
    dpar = borrow(dpar)
    A = borrow(A)
    Ac = borrow(Ac)
    sv = borrow(sv)
    el = borrow(el)
    sp = borrow(sp)
    tmp = borrow(tmp)
    li = borrow(li)
    lnn = sv.lnn
    nc = sv.nc
    cact = sv.cact
    lnn_old = sp.lnn_old
    act = sp.act
    colc = li.colc
    sol = li.sol
    ng = lnn.shape[0]
    shrink, amin, c_arm = search_params(dkind, dpar)
    phi0 = merit(el.b, el.eon, A, sp.gon, lnn, sp.n, Ac, cact, nc, lnN, Pfix, eres, escale)
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
        phit = merit(el.b, el.eon, A, sp.gon, lnn, sp.n, Ac, cact, nc, lnN + lam * dlnN, Pfix, et, escale)
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
    return lam, ok, tries


@njit(inline="always")
def take_step(lam, m, nact, ncol_c, lnNsum, tot, lnn, nc, cact, act, ac, li):
    """ln n_j += lam d ln n_j, n_c += lam dn_c (a condensed species whose amount would turn
    negative leaves the active set, as in CEA). Returns (finite, largest |d ln n_j| of a visible
    species above the rounding floor, a condensed species left)."""
    lnn = borrow(lnn)
    nc = borrow(nc)
    cact = borrow(cact)
    act = borrow(act)
    ac = borrow(ac)
    li = borrow(li)
    tmp = ac.tmp
    nt = ac.nt
    colc = li.colc
    sol = li.sol
    finite = True
    dmax_major = 0.0
    for t in range(nact):
        j = act[t]
        dj = tmp[t]
        lj = lnn[j] + lam * dj
        lnn[j] = lj
        if lj != lj or lj > 700.0:
            finite = False
        if lj - lnNsum > LN_VISIBLE and abs(dj) > dmax_major:
            # a visible species' change counts unless it is at the rounding floor of
            # the element balances (absolute change of x below NOISE_X); x is taken at
            # the start of the step (n_j / sum n), within a factor e**max_change of now
            if abs(dj) * nt[t] > NOISE_X * tot:
                dmax_major = abs(dj)
    removed = False
    for qc in range(ncol_c):
        c = colc[qc]
        nc[c] += lam * sol[m + qc]
        if nc[c] <= 0.0:
            # CEA: a condensed species with a negative amount leaves the active set
            nc[c] = 0.0
            cact[c] = False
            removed = True
    return finite, dmax_major, removed


@njit(inline="always")
def step_small(dlnN, dlnT, dmax_major, N, m, ncol_c, nc, li):
    """Converged in the Newton sense: the full (undamped) step changes ln N, every visible species
    and every active condensed amount by at most STEP_TOL, ln T by 0.1 STEP_TOL (judged on the
    full step, so schedules below 1 can converge too; ``final_check`` decides)."""
    nc = borrow(nc)
    li = borrow(li)
    if abs(dlnN) > STEP_TOL or abs(dlnT) > 0.1 * STEP_TOL or dmax_major > STEP_TOL:
        return False
    colc = li.colc
    sol = li.sol
    for qc in range(ncol_c):
        c = colc[qc]
        if abs(sol[m + qc]) > STEP_TOL * max(nc[c], 1e-300) and abs(sol[m + qc]) > 1e-14 * N:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def final_check(mode, T, lnT, lnN, lnP, lnRT_V, target, tol, m, nact, sy, sv, ws):
    """The final check of a converged Newton iteration. The gas amounts are recomputed from the
    element potentials alone (every gas species at its equilibrium condition exactly; into sv.lnn
    and ws.sp.n), then checked: each element balance against its own total (trace elements and the
    charge 'E' of ionised mixtures must balance as tightly as a major element), the gas moles (P
    fixed) and the held property, to tol relative. Then the condensed species: those whose window
    the last step took T out of leave (``leave_window``); every active one must sit at its
    equilibrium condition g_c/RT = a_c . pi to tol (in units of RT, as the gas species); and the
    absent ones made of present elements whose window holds T are ranked by their driving force
    g_c/RT - a_c . pi (how much one would lower G per mole, in RT).

    Returns (ok, worst element residual, property residual, signed property residual (> 0 when
    the state holds less H, U, S than the target), a condensed species left, the most negative
    driving force (0 if none), its species (-1 if none))."""
    sy = borrow(sy)
    sv = borrow(sv)
    ws = borrow(ws)
    Pfix = mode == MODE_TP or mode == MODE_HP or mode == MODE_SP
    Tfree = mode == MODE_HP or mode == MODE_SP or mode == MODE_UV
    Ac = sy.Ac
    lnpref = sy.lnpref
    ne = Ac.shape[1]
    ncs = Ac.shape[0]
    lnn = sv.lnn
    nc = sv.nc
    cact = sv.cact
    pi = sv.pi
    act = ws.sp.act
    n = ws.sp.n
    tmp = ws.ac.tmp
    nt = ws.ac.nt
    g = ws.th.g
    h = ws.th.h
    s = ws.th.s
    ch = ws.cth.h
    cs = ws.cth.s
    cg = ws.cth.g
    Ad = ws.el.Ad
    bact = ws.el.bact
    qcol = ws.el.qcol
    eon = ws.el.eon
    r2 = ws.li.r2
    r3 = ws.li.r3
    # ln n_j from the element potentials (active ones are sol[:m], in column order)
    base = (lnN - lnP) if Pfix else -(lnRT_V + lnT)
    for t in range(nact):
        j = act[t]
        tmp[t] = -g[j] + lnpref[j] + base
    add_potentials(Ad, m, nact, ws.li.sol, tmp)
    vexp(tmp, nt, ws.ac.xb, nact)
    tot = 0.0
    for t in range(nact):
        j = act[t]
        lnn[j] = tmp[t]
        nj = nt[t]
        n[j] = nj
        tot += nj
    for q in range(m):
        acc, sc = balance(Ad, q, nact, nt)
        r2[q] = acc - bact[q]
        r3[q] = sc
    for c in range(ncs):
        if cact[c]:
            for i in range(ne):
                if eon[i] and Ac[c, i] != 0.0:
                    v = Ac[c, i] * nc[c]
                    r2[qcol[i]] += v
                    r3[qcol[i]] += abs(v)
    # every test is written "not (residual <= tol)" so that a NaN fails it: a state whose amounts
    # overflowed (ln N = inf, every x = 0) made each "residual > tol" false and passed as converged
    ok = math.isfinite(lnN) and math.isfinite(tot)
    emax = 0.0
    for q in range(m):
        rel = abs(r2[q]) / max(abs(bact[q]), r3[q], 1e-300)
        if not (rel <= emax):
            emax = rel
            if rel != rel:
                ok = False
    if not (emax <= tol):
        ok = False
    if Pfix and not (abs(tot - math.exp(lnN)) <= tol * tot):
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
        if not (erel <= tol):
            ok = False
    # condensed phases
    left = leave_window(T, sy.cwin, ws.cok, cact, nc, Ac)  # the last step took T out of a window
    for c in range(ncs):
        if cact[c]:
            res_c = cg[c]
            for k in range(ne):
                if eon[k]:
                    res_c -= Ac[c, k] * pi[k]
            if not (abs(res_c) <= tol):
                ok = False
    worst = 0.0
    wc = -1
    if not left:
        for c in range(ncs):
            if not ws.cok[c] or cact[c] or not in_window(c, T, sy.cwin):
                continue
            drive = ch[c] - cs[c]
            for k in range(ne):
                if eon[k]:
                    drive -= Ac[c, k] * pi[k]
            if drive < worst:
                worst = drive
                wc = c
    return ok, emax, erel, eres_f, left, worst, wc


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def enter_condensed(wc, Ac, cact, nc):
    """Condensed species wc enters the active set at zero amount. A species with the same formula
    as an active one (ice / liquid water) replaces it, as in CEA: both at once would make the
    Newton matrix singular."""
    Ac = borrow(Ac)
    cact = borrow(cact)
    nc = borrow(nc)
    cact[wc] = True
    nc[wc] = 0.0
    for c in range(Ac.shape[0]):
        if c != wc and cact[c] and same_formula(Ac, c, wc):
            nc[wc] = nc[c]
            nc[c] = 0.0
            cact[c] = False


@njit(inline="always")
def equil_row(pb, Tin, Pin, target_in, warm, sy, sv, ws):
    """Equilibrate one state in place. Returns a status code (codes.*).

    pb : ``GasProblem`` (mode, damping, options). Tin [K], Pin [Pa]: the feed state (it fixes T
    and P in TP, the target H/U/S and the volume in the other modes). target_in: the held H/R
    [K], U/R [K] or S/R [-] per mole of feed, or NaN to take the feed's. sy : ``GasSystem``.
    sv : ``GasState``, in/out (read as the start when ``warm``): the feed x, ln moles of the gas
    species, condensed amounts and active set, pi, st (N_ST,). ws : ``Workspace``. Inlined into
    its compiled caller (it is the loop, the stages are the calls).
    """
    mode = pb.mode
    dkind = pb.dkind
    dpar = pb.dpar
    gopt = pb.gopt
    st = sv.st
    lnn = sv.lnn
    nc = sv.nc
    cact = sv.cact
    pi = sv.pi
    el = ws.el
    sp = ws.sp
    ac = ws.ac
    li = ws.li
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

    # ---- elements and species, the held property, the start
    code, m, nact, ngon = set_up(sy.A, sy.Ac, sv, el, sp, ws.memo, ws.cok)
    if code != _GO:
        return code
    target = 0.0
    if Tfree:
        if target_in == target_in:
            target = target_in
        else:
            target = feed_properties(mode, sv.x, Tin, Pin, sy.coeffs, sy.bounds, sy.nreg, sy.lnpref, ws.th.cp,
                                     ws.th.h, ws.th.s)
    lnRT_V = math.log(Pin / Tin)  # V = R Tin / Pin for 1 mol: ln(R T / V) = ln(Pin T / Tin)
    lnP = math.log(Pin)
    if warm:
        T = warm_start(Tfree, Tin, lnn, st, sp.gon)
        T_done = -1.0  # temperature at which the thermo in the workspace was evaluated (-1: none)
        T_exact = -1.0  # and that of its last exact (not carried) evaluation
    else:
        T, T_done, T_exact = cold_start(mode, gopt, Tin, lnP, lnRT_V, ngon, sy, sv, ws)
    # T_bounds bound the search for T in HP / SP / UV only: a TP / TV state is solved at the
    # temperature asked for, never at another one (DESIGN.md section 5)
    if Tfree:
        T = min(max(T, tmin), tmax)
    lnN = st[ST_LNN]

    alpha_state = dpar[0]
    size = dpar[1] if dkind == DAMP_CONTROL else SIZE_DEFAULT
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
        # ---- thermo at T, only when T moved; condensed species whose window T left (T moved, or
        # a warm start carried them from a state at another temperature): a phase of the same
        # formula whose window holds T takes over its amount (KOH(a) -> KOH(b) at 516 K, as CEA
        # swaps phases); otherwise it is gone until the final check considers it again
        if abs(T - T_done) > T_REUSE * T:
            T_done, T_exact = all_thermo(T, T_done, T_exact, sy, ws.th, ws.cth)
        lnT = math.log(T)
        leave_window(T, sy.cwin, ws.cok, cact, nc, sy.Ac)
        # ---- the Newton system, its solution
        N, tot, eres, escale, ncol_c, cN, cT, size_m = newton_system(
            mode, Tit, T, lnT, lnN, lnP, lnRT_V, target, m, nact, sy.lnpref, sy.Ac, lnn, nc, cact, el, sp.act, ac,
            ws.th, ws.cth, li)
        singular = lu_solve(li.M[:size_m, :size_m], li.rhs[:size_m], li.work[:size_m, : size_m + 1],
                            li.sol[:size_m]) != 0
        if singular and nreseed < MAX_RESEED:
            nreseed += 1
            reseed(tot, lnN, lnn, sp.gon)
            continue
        if singular and not least_change(size_m, pi, el.eon, li):
            status = SINGULAR
            break
        if nreseed < MAX_RESEED and not singular and potential_jump(Pfix, Tit, cN, cT, pi, el.eon, li.sol):
            nreseed += 1
            reseed(tot, lnN, lnn, sp.gon)
            continue
        dlnN, dlnT = unpack(Pfix, Tit, m, nact, cN, cT, pi, el, li.sol, ac)
        # ---- damping factor
        lnNsum = math.log(tot) if tot > 0.0 else lnN
        lam = damping_factor(dkind, dpar, it - 1, alpha_state, size, nact, lnNsum, dlnN, dlnT, lnn, sp.act, ac.tmp)
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
        if backtracks(dkind):
            lam, ok, tries = backtrack(dkind, dpar, lam, Pfix, Tit, m, nact, ncol_c, lnN, dlnN, eres, escale, sy.A,
                                       sy.Ac, sv, el, sp, ac.tmp, li)
            if not ok:
                status = LINE_SEARCH_FAILED
                break
            alpha_state = adapt(dkind, dpar, lam, tries, alpha_state)
        # ---- the step
        finite, dmax_major, removed = take_step(lam, m, nact, ncol_c, lnNsum, tot, lnn, nc, cact, sp.act, ac, li)
        lnN += lam * dlnN
        if Tit:
            T = T * math.exp(lam * dlnT)
        if removed:
            nphase += 1
            if nphase > MAX_PHASE_CHANGES:
                status = MAX_ITER
                break
            continue
        finite = finite and math.isfinite(lnN) and math.isfinite(T)
        if not finite:
            status = NONFINITE
            break
        # ---- convergence: a full small step, then the final check from the potentials alone
        if not step_small(dlnN, dlnT, dmax_major, N, m, ncol_c, nc, li):
            continue
        # thermo at T itself (carried there, as the Newton step's linear model assumed, or exact
        # when T left the carry window), never reused from a nearby T
        if T != T_done:
            T_done, T_exact = all_thermo(T, T_done, T_exact, sy, ws.th, ws.cth)
        lnT = math.log(T)
        ok, emax, erel, eres_f, left, worst, wc = final_check(mode, T, lnT, lnN, lnP, lnRT_V, target, tol, m, nact,
                                                              sy, sv, ws)
        if left:
            nphase += 1
            if nphase > MAX_PHASE_CHANGES:
                status = MAX_ITER
                break
            continue
        st[ST_ELEM] = emax
        st[ST_ENERGY] = erel
        st[ST_DRIVE] = worst
        if wc >= 0 and worst < -tol:
            enter_condensed(wc, sy.Ac, cact, nc)
            pin = False
            nphase += 1
            if nphase > MAX_PHASE_CHANGES:
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
        gon = sp.gon
        for j in range(lnn.shape[0]):
            if gon[j] and lnn[j] > LN_TINY:
                tot += math.exp(lnn[j])
        st[ST_P] = tot * Pin * T / Tin  # P V = N R T with V = R Tin / Pin
    st[ST_ITER] = it
    st[ST_PHASE_CHANGES] = nphase
    return status
