"""The aqueous model's solver, compiled: damped Newton on the system of ``aqueous_eqs``, a first
guess by continued-fraction sweeps, the fallback chain, and a batch of waters in parallel.

One water is a batch of one: ``solve_batch`` is the only entry point, for single calls as for
arrays of waters (DESIGN.md section 1). The fallback chain of one row:

1. Newton with the ionic strength among the unknowns (``AQM_NEWTON``), from the caller's warm
   start if any, then from it revised as PHREEQC revises a start (``revise_guess``), then from the
   cold start improved by the first-guess sweeps, then from the cold start revised (res[6] says
   which start it was);
2. the ionic strength in an outer damped fixed point around Newton (``AQM_OUTER``);
3. the ionic strength as a bracketed 1-D root, phi(u) = ln I(m(e^u)) - u, each evaluation a Newton
   solve at the activity coefficients of I = e^u (``AQM_NESTED_I``): continuous in u where the
   coupled problem can have several solutions;
4. when the pH comes from the charge balance, that balance as a bracketed root over pH, each
   evaluation a fixed-pH solve (``AQM_NESTED_PH``); a bracket that collapses on a jump of the
   imbalance (not on a zero) is refused;
5. in a reaction step (the electrons conserved, the pe solved), that balance as a bracketed root
   over pe, each evaluation a fixed-pe solve warm-started from the last (``AQM_NESTED_PE``): the
   reduced nitrogen of a step into an unpoised water, whose pe must travel a dozen units through a
   state where the Jacobian is singular (see ``nested_pe``).

Which one converged, and the status of the first failure, are returned: the Python layer says so
in the message. Nothing raises; every failure is a status code.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit, prange

from .aqueous_eqs import (
    ABSENT_LOG_A,
    LN10,
    WP_AW,
    WP_T,
    assemble,
    exchange_gammas,
    gammas,
    gouy_chapman,
    logk_T,
    pressure_logk,
    reaction_si,
    saturation_pressure,  # noqa: F401
    species_state,
    water_props,
)
from .aqueous_activity import W_MOL, llnl_gammas, model_gammas
from .codes import ACT_LLNL, ACT_SIT
from .codes import (
    AQ_ABSENT,
    AQ_AW,
    AQ_AWPHI,
    AQ_BAL,
    AQ_BALLOG,
    AQ_FIXED,
    AQ_IONIC,
    AQ_RX,
    AQM_NESTED_I,
    AQM_NEWTON,
    AQM_NESTED_PE,
    AQM_NESTED_PH,
    AQM_OUTER,
    AQM_PHASES,
    CONVERGED,
    DIVERGED,
    LINE_SEARCH_FAILED,
    MAX_ITER,
    NONFINITE,
    SINGULAR,
    STAGNATED,
)
from .damping import adapt, backtracks, first_factor, search_params
from .linalg import lu_solve, regularized_solve

ABSENT_LA = ABSENT_LOG_A
SWAP = True  # first guess: let each active phase set a component through its SI (see first_guess)
FTOL = 1e-12  # stopping test: max |F_r| / S_r (log10 units for logarithmic rows, relative for balances)
MAX_ITER_NEWTON = 200
STEP_LOG = 2.0  # largest change of a log10 activity or of log10 I in one Newton step
STEP_LOGW = 1.0  # largest change of log10 (mass of water) in one step
STALL = 30  # iterations without a new best residual (by 1e-6 of it) before STAGNATED
N_RES = 7  # [status, Newton iterations, method, status of the first failure, ionic strength, a(H2O), start]
# the start the first formulation converged from (res[6]; the fallback formulations start from START_GUESS)
START_WARM, START_WARM_REVISED, START_GUESS, START_REVISED = 0, 1, 2, 3


@njit(cache=True)
def make_work(tab):
    """Scratch arrays of one water (allocated once per chunk of rows)."""
    ints = tab[0]
    nc, ne, ns, nbal, nrx, npp = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5]
    nv = nc + ne + 4 + npp
    f = np.empty
    return (f(ns), f(nrx), f(ns), f(nrx), f(ns), f(ns), f(ns), f(ns), np.ones(ns, dtype=np.int8), f(ns),
            np.full(9, np.nan), f(nbal), f(nbal),
            f(nv), f(nv), f((nv, nv)), f(nv), f(nv), f((nv, nv)), f(nv), f(nv), f(nv),
            f((nv, nv + 1)), f((nv, nv)), f(nv), f(nv),
            np.zeros(ns + 1), f(ns + 1))  # the activity model's held part of log10 gamma, its scratch


@njit(cache=True, _nrt=False)
def row_setup(tab, T, kind, work):
    """log K(T) of species and reactions, and which species are present (no absent component)."""
    logk0, rx_logk0, present = work[0], work[1], work[8]
    logk_T(tab[4], T, logk0)
    logk_T(tab[17], T, rx_logk0)
    sp_ptr, sp_col = tab[1], tab[2]
    for i in range(logk0.shape[0]):
        present[i] = 1
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            c = sp_col[q]
            if c < kind.shape[0] and kind[c] == AQ_ABSENT:
                present[i] = 0
                break
    work[10][0] = np.nan  # water properties: stale


@njit(cache=True, _nrt=False)
def evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, J, want_jac, strict):
    """Species state and the residual (and Jacobian) at v. False when not finite (``strict``; else
    rows outside the model's domain are NaN). Callers pass runtime booleans (``yes``/``no`` from a
    comparison), never the literals True/False: numba compiles a specialization per literal value."""
    logk0, rx_logk0, logk, rx_logk, lg, dlg = work[0], work[1], work[2], work[3], work[4], work[5]
    la, m, present, vsp, wp = work[6], work[7], work[8], work[9], work[10]
    nc, ne = tab[0][0], tab[0][1]
    iw = nc + ne + 1
    iI = nc + ne + 3
    if not (np.abs(v[iw]) < 50.0 and np.abs(v[iI]) < 300.0):
        return False
    aw = 10.0 ** v[iw]
    # water properties: again whenever a(H2O) moved (PHREEQC 3.8.6 scales the saturation pressure by
    # a(H2O), and the density of water depends on the pressure above it)
    if math.isnan(wp[0]) or wp[WP_T] != T or wp[8] != P or aw != wp[WP_AW]:
        water_props(T, P, aw, wp, tab[0][8] != 0)
        wp[8] = P
    I = 10.0 ** v[iI]
    gammas(tab[7], tab[6], tab[8], tab[9], I, wp[0], wp[1], lg, dlg)
    if tab[0][6] > 0:
        exchange_gammas(tab, tab[7], tab[8], tab[9], I, wp[0], wp[1], v[nc + ne + 2], val, lg, dlg)
    if tab[25][0] == ACT_LLNL:  # llnl.dat's B-dot model: a function of I alone, inside Newton
        llnl_gammas((tab[25], tab[26], tab[27], tab[28], tab[29], tab[30], tab[31], tab[32], tab[33], tab[34]),
                    tab[7], tab[8], T, I, wp[0], wp[1], lg, dlg)
    elif tab[25][0] != 0:  # SIT, Pitzer: the part of log10 gamma held between Newton solves
        ext = work[26]
        for i in range(tab[25][5]):
            lg[i] += ext[i]
        ex_cat = tab[36]  # exchange species: their cation's model gamma, held likewise (solve_row_model)
        for i in range(tab[25][5], ex_cat.shape[0]):
            if ex_cat[i] >= 0:
                lg[i] += ext[i]
    pressure_logk(tab, logk0, rx_logk0, I, wp, vsp, logk, rx_logk)
    species_state(v, tab, present, logk, lg, la, m)
    gc = gouy_chapman(wp) if tab[0][7] > 0 else 0.0  # surfaces with a diffuse double layer
    return assemble(v, tab, kind, aux, val, si, act, fix, logk, rx_logk, lg, dlg, la, m, present,
                    work[11], work[12], F, S, J, want_jac, strict, gc)


@njit(cache=True, _nrt=False)
def _norm(F, S):
    r = 0.0
    for i in range(F.shape[0]):
        q = abs(F[i]) / S[i]
        if not (q <= r):
            r = q if not math.isnan(q) else np.inf
    return r


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _merit(F, S):
    s = 0.0
    for i in range(F.shape[0]):
        q = F[i] / S[i]
        s += q * q
    return 0.5 * s


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _direction(F, S, J, d, lu, normal, rhs, scratch):
    """Newton direction (a Levenberg-Marquardt step when J is singular). Each row is equilibrated by
    its largest Jacobian entry before the factorization (the direction is the same; the pivoting is
    not: the electron balance of a water with no redox element has terms of 1e-30 mol, and scaled by
    its residual scale its row would dwarf the others by 1e38). Returns 0, or 1 when no step can be
    computed.

    An unknown held by an identity row (a fixed value, the moles of an inactive phase) is eliminated
    first, exactly (its step is -F of its row): its column must not set a row's scale. The electron
    balance of an unpoised water has terms of 1e-17 mol per unit of log a(e-), and the column of
    O2(g) that left (-4 per mole) scaled the row by 1/4: the pe column vanished from it in the
    factorization and Newton stalled with the balance off by 100 %."""
    n = F.shape[0]
    for c in range(n):
        if J[c, c] != 1.0:
            continue
        alone = True
        for k in range(n):
            if k != c and J[c, k] != 0.0:
                alone = False
                break
        if not alone:
            continue
        dc = -F[c]
        for r in range(n):
            if r != c and J[r, c] != 0.0:
                F[r] += J[r, c] * dc
                J[r, c] = 0.0
    for r in range(n):
        big = 0.0
        for c in range(n):
            big = max(big, abs(J[r, c]))
        s = 1.0 / big if (big > 0.0 and np.isfinite(big)) else 1.0 / S[r]
        rhs[r] = -F[r] * s
        for c in range(n):
            J[r, c] *= s
    if lu_solve(J, rhs, lu, d) != 0 and regularized_solve(J, rhs, 1e-10, lu, normal, scratch, d) != 0:
        return 1
    return 0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _cap(v, d, nb, npp):
    """Largest factor <= 1 keeping log10 activities and log10 I within STEP_LOG, log10 W within
    STEP_LOGW; phase moles are not capped (their rows are linear in them)."""
    c = 1.0
    for k in range(nb + 2):
        lim = STEP_LOGW if k == nb else STEP_LOG
        a = abs(d[k])
        if a * c > lim:
            c = lim / a
    return c


@njit(cache=True, _nrt=False)
def newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, max_iter):
    """Damped Newton from v (overwritten with the last iterate). Returns (status, iterations)."""
    yes = v.shape[0] > 0  # a runtime boolean: literals would each compile a specialization
    F, S, J, Fs, d, Jt, Ft, St, xt = work[13], work[14], work[15], work[16], work[17], work[18], work[19], \
        work[20], work[21]
    lu, normal = work[22], work[23]
    n = v.shape[0]
    nc, ne = tab[0][0], tab[0][1]
    nb = nc + ne + 2
    npp = tab[0][5]
    if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, J, yes, yes):
        return NONFINITE, 0
    fn = _norm(F, S)
    if fn <= FTOL:
        return CONVERGED, 0
    best = fn
    stall = 0
    searching = backtracks(dkind)
    shrink, amin, c_arm = search_params(dkind, dpar)
    alpha_state = dpar[0]
    for it in range(max_iter):
        phi = _merit(F, S)
        for r in range(n):
            Fs[r] = F[r]
        if _direction(Fs, S, J, d, lu, normal, work[24], work[25]) != 0:
            return SINGULAR, it
        cap = _cap(v, d, nb, npp)
        alpha = first_factor(dkind, dpar, it, alpha_state, 0.0) * cap
        slope = -2.0 * phi
        accepted = False
        ftn = np.inf
        tries = 0
        for bt in range(60):
            tries = bt
            for k in range(n):
                xt[k] = v[k] + alpha * d[k]
            ok = evaluate(xt, tab, T, P, kind, aux, val, si, act, fix, work, Ft, St, Jt, yes, yes)
            if ok:
                ftn = _norm(Ft, St)
                trial = 0.0
                for r in range(n):
                    q = Ft[r] / S[r]
                    trial += q * q
                trial *= 0.5
                # Armijo on the sum of squares, or any decrease of the largest scaled residual: a
                # saturation-index row is linear in the unknowns and can sit far off (e.g. pyrite at
                # SI +112 in pure water) while the balances' exponentials make the sum of squares
                # refuse every long step; PHREEQC takes such capped steps without a merit test
                if not searching or trial <= phi + c_arm * alpha * slope or ftn < fn or ftn <= FTOL:
                    accepted = True
                    break
            alpha *= shrink
            if alpha < amin:
                break
        if not accepted:
            return (LINE_SEARCH_FAILED if not math.isnan(ftn) else NONFINITE), it + 1
        alpha_state = adapt(dkind, dpar, alpha / cap, tries, alpha_state)
        big = 0.0
        for k in range(n):
            v[k] = xt[k]
            F[k] = Ft[k]
            S[k] = St[k]
            big = max(big, abs(v[k]))
            for c in range(n):
                J[k, c] = Jt[k, c]
        fn = ftn
        if fn <= FTOL:
            return CONVERGED, it + 1
        if big > 1e150:
            return DIVERGED, it + 1
        if fn < best * (1.0 - 1e-6):
            best = fn
            stall = 0
        else:
            stall += 1
            if stall >= STALL:
                return STAGNATED, it + 1
    return MAX_ITER, max_iter


# ------------------------------------------------------------------------------------ first guess
@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _row_value(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl):
    """(F_k, S_k) at v, without the Jacobian (for the first-guess sweeps), the unknowns held by
    saturation indices first moved to them (``_rx_solve``: CO2(g) sets carbonate as the pH moves)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    F, S = work[19], work[20]
    _rx_solve(v, tab, T, P, kind, aux, val, si, act, fix, work, ctl)
    if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
        return np.nan, 1.0
    return F[k], S[k]


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _bisect(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl, a, b, tol):
    """Move v[k] to the sign change of row k's residual nearest its current value within [a, b]:
    walk out one unit at a time, then bisect the unit bracket (the charge balance in log a(H+), the
    electron balance in log a(e-): at fixed master activities these need not be monotone, e.g.
    MgOH+ outgrows OH- at high pH, so the root nearest the start is taken, as PHREEQC's Newton does
    from its start). A residual that is not finite ends the walk; without a sign change the
    point of smallest |residual| seen is kept."""
    x0 = min(max(v[k], a), b)
    v[k] = x0
    f0 = _row_value(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl)[0]
    if math.isnan(f0):
        return
    step = -1.0 if f0 > 0.0 else 1.0
    xa, fa = x0, f0
    best, fbest = x0, abs(f0)
    found = False
    for _ in range(40):
        xb = min(max(xa + step, a), b)
        if xb == xa:
            break
        v[k] = xb
        fb = _row_value(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl)[0]
        if math.isnan(fb):
            break
        if abs(fb) < fbest:
            best, fbest = xb, abs(fb)
        if (fb > 0.0) != (fa > 0.0):
            found = True
            break
        xa, fa = xb, fb
    if not found:
        v[k] = best
        return
    lo_x, hi_x = (xa, xb) if xa < xb else (xb, xa)
    flo = fa if xa < xb else fb
    while hi_x - lo_x > tol:
        mid = 0.5 * (lo_x + hi_x)
        v[k] = mid
        fm = _row_value(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl)[0]
        if math.isnan(fm):
            break
        if (fm > 0.0) == (flo > 0.0):
            lo_x, flo = mid, fm
        else:
            hi_x = mid
    v[k] = 0.5 * (lo_x + hi_x)


@njit(cache=True)
def first_guess(v, tab, T, P, kind, aux, val, si, act, fix, work, sweeps):
    """Improve a cold start by continued-fraction sweeps (Carrayrou et al. 2002, AIChE J. 48, 894):
    each component held by a positive balance is scaled by (total / computed)^(1/nu_max); the mass
    of water is set from the water balance; the charge balance (log a(H+)) and the electron balance
    (log a(e-)) are bisected every 4th sweep. The rows held by saturation indices (totals fixed by a
    phase, redox couples, and each active equilibrium phase with the unknown it sets: a basis swap,
    preferring components with no total of their own, then the electrons, never H+) are solved
    together, linearly, before every sweep. A phase that alone supplies components with no total of
    their own sets no unknown: its moles are found by bisection on its SI (``_supply_guess``). After
    the sweeps the ionic strength and a(H2O) are updated from the swept molalities and the sweeps
    repeated (3 rounds at most). Cheap and robust far from the root; Newton takes over near it."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc, ne = tab[0][0], tab[0][1]
    nb = nc + ne + 2
    npp = tab[0][5]
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    ph_rel = tab[21]
    F, S = work[19], work[20]
    numax = np.ones(nb)
    for i in range(sp_ptr.shape[0] - 1):
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            c = sp_col[q]
            numax[c] = max(numax[c], sp_val[q])
    touched = np.zeros(nb + 1, dtype=np.int8)
    for k in range(nb + 1):
        if kind[k] == AQ_BAL or kind[k] == AQ_BALLOG:
            for p in range(npp):
                if act[p] != 0 and ph_rel[p, aux[k]] != 0.0:
                    touched[k] = 1
    # the component each active phase sets through its saturation index (single-component phases first)
    ctl = np.full(npp, -1, dtype=np.int64)
    ctl_c = np.zeros(npp)
    taken = np.zeros(nb, dtype=np.int8)
    # a greedy matching: the phase with the fewest candidates first (CO2(g) can only set carbon;
    # CH4(g) beside it then sets the electrons, calcite the calcium)
    own = np.zeros(nc, dtype=np.int8)
    for _ in range(npp if SWAP else 0):
        pick, pick_n, pick_j = -1, 1 << 30, -1
        for p in range(npp):
            if act[p] == 0 or ctl[p] >= 0 or _own(p, tab, kind, aux, val, act, fix, own):
                continue  # (a phase that alone supplies components: its moles are searched, _supply_guess)
            ncand = 0
            best = -1
            bscore = -1.0
            for j in range(nc + 1 + ne):
                if j == nc or touched[j] == 0 or taken[j] != 0 or ph_rel[p, j] == 0.0:
                    continue  # (not H+: the charge balance keeps the pH)
                if j > nc and kind[j] != AQ_BAL:
                    continue  # an electron column not held by its balance
                c = _rx_coef(tab[20][p], j, tab)
                if c == 0.0:
                    continue
                ncand += 1
                # components with no total of their own first (the phase is their only source), then
                # the electrons (a redox phase in an unpoised water sets the pe), then the rest
                score = abs(c) + (20.0 if (j < nc and val[j] == 0.0) else (10.0 if j > nc else 0.0))
                if score > bscore:
                    best, bscore = j, score
            if best >= 0 and ncand < pick_n:
                pick, pick_n, pick_j = p, ncand, best
        if pick < 0:
            break
        ctl[pick] = pick_j
        ctl_c[pick] = _rx_coef(tab[20][pick], pick_j, tab)
        taken[pick_j] = 1
    if SWAP:  # what a phase does not set is swept by its balance as if the phases had not dissolved yet
        for k in range(nb + 1):
            touched[k] = 0
        for p in range(npp):
            if ctl[p] >= 0:
                touched[ctl[p]] = 1
    for p in range(npp):
        if act[p] != 0:
            _supply_guess(p, v, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c)
    n_sweeps = max(sweeps, 1)  # not the literal the callers pass (one specialization of _sweeps)
    for _rnd in range(3):
        _sweeps(v, tab, T, P, kind, aux, val, si, act, fix, work, n_sweeps, touched, numax, ctl, ctl_c)
        # the activity coefficients (held fixed during the sweeps): I and a(H2O) from the swept
        # molalities, within physical bounds; then sweep again at them
        if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
            return
        moved = 0.0
        for k in (nb - 1, nb + 1):
            if (kind[k] == AQ_AW or kind[k] == AQ_IONIC or kind[k] == AQ_AWPHI) and not math.isnan(F[k]):
                old = v[k]
                if kind[k] == AQ_AW:
                    y = 10.0 ** v[k] - F[k]  # 1 - 0.017 sum m
                    v[k] = math.log10(min(max(y, 0.1), 1.0))
                elif kind[k] == AQ_AWPHI:
                    v[k] = min(max(v[k] - F[k], -1.0), 0.1)
                else:
                    v[k] = min(max(v[k] + F[k], -12.0), 1.3)
                moved = max(moved, abs(v[k] - old))
        if moved < 0.05:
            return


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def revise_guess(v, tab, T, P, kind, aux, val, si, act, fix, work):
    """A start as PHREEQC makes one for a step (model.cpp revise_guesses, read in PHREEQC 3.8.6): the
    pH, the mass of water and the phases' moles as given; each element's master log activity shifted
    by the log of its total over what the water holds while that is off by more than a factor 1.5
    (by 0.3 of it when the water holds less than 1e-5 of the total; 5 units when it holds none or
    overflows); then the electron balance alone bisected in log a(e-) (monotone there at fixed
    masters: d/du_e sum e_i m_i = ln10 sum e_i^2 m_i), and the two again, 4 rounds at most; then I
    and a(H2O) from the molalities. For a start whose pe is far from the water's: a reduced water
    that gains O2 (at the old pe its sulfate is 1e15 mol/kgw of HS-: Newton overflows at once), a
    pe held by O2(g) that then leaves (the linear electron balance, exponential in the pe, makes
    Newton creep by 1/(8 ln10) a step). The first-guess sweeps, which also move the pH and let the
    phases set components, can wander off there (an unswept balance of a component a phase touches
    drives the pH to 14 and the water to a gram)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc, ne = tab[0][0], tab[0][1]
    nb = nc + ne + 2
    npp = tab[0][5]
    F, S = work[19], work[20]
    ctl = np.full(npp, -1, dtype=np.int64)
    for _rnd in range(4):
        if not _revise_masses(v, tab, T, P, kind, aux, val, si, act, fix, work):
            return
        moved = 0.0
        for k in range(nc + 1, nc + 1 + ne):  # the electron balance: monotone in log a(e-) at fixed masters
            if kind[k] == AQ_BAL:
                old = v[k]
                _bisect(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl, -30.0, 30.0, 1e-4)
                moved = max(moved, abs(v[k] - old))
        if moved < 0.01:
            break
    if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
        return
    for k in (nb - 1, nb + 1):
        if (kind[k] == AQ_AW or kind[k] == AQ_IONIC or kind[k] == AQ_AWPHI) and not math.isnan(F[k]):
            if kind[k] == AQ_AW:
                v[k] = math.log10(min(max(10.0 ** v[k] - F[k], 0.1), 1.0))
            elif kind[k] == AQ_AWPHI:
                v[k] = min(max(v[k] - F[k], -1.0), 0.1)
            else:
                v[k] = min(max(v[k] + F[k], -12.0), 1.3)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _revise_masses(v, tab, T, P, kind, aux, val, si, act, fix, work):
    """The mass-balance part of ``revise_guess``; False when the state is not finite."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc, ne = tab[0][0], tab[0][1]
    nb = nc + ne + 2
    ip = nb + 2
    npp = tab[0][5]
    ph_rel, wcoef = tab[21], tab[13]
    F, S = work[19], work[20]
    colsum = work[11]
    for _it in range(20):
        if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
            return False
        W = 10.0 ** v[nb]
        repeat = False
        for k in range(nc):
            if not (kind[k] == AQ_BAL or kind[k] == AQ_BALLOG):
                continue
            b = aux[k]
            target = val[k]
            for p in range(npp):
                target += ph_rel[p, b] * v[ip + p]
            if not (target > 0.0):
                continue
            have = W * (colsum[b] + wcoef[b])
            if not (have > 0.0) or math.isinf(have):
                v[k] += 5.0 if not (have > 0.0) else -5.0
                repeat = True
            elif have > 1.5 * target or have < 1e-5 * target:
                v[k] += (0.3 if have < 1e-5 * target else 1.0) * math.log10(target / have)
                repeat = True
        if not repeat:
            break
    return True


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _supply_trial(x, p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c, own):
    """SI_p - target with 10**x moles of phase p dissolved and the components it alone supplies
    (``own``) fitted to what it released, the rest swept as in ``first_guess``."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    four = 4 if v.shape[0] > 0 else 0
    nc = tab[0][0]
    nb = nc + tab[0][1] + 2
    ip = nb + 2
    ph_rel = tab[21]
    F, S = work[19], work[20]
    for k in range(v.shape[0]):
        v[k] = v0[k]
    v[ip + p] = 10.0 ** x
    for j in range(nc):
        if own[j] != 0:
            v[j] = x + math.log10(ph_rel[p, j]) - 0.3
    for _it in range(12):
        _sweeps(v, tab, T, P, kind, aux, val, si, act, fix, work, four, touched, numax, ctl, ctl_c)
        if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
            return np.nan
        worst = 0.0
        for j in range(nc):
            if own[j] == 0 or math.isnan(F[j]):
                continue
            total = val[j]
            for q in range(act.shape[0]):
                total += ph_rel[q, j] * v[ip + q]
            have = F[j] + total
            if total > 0.0 and have > 0.0:
                d = math.log10(have / total) / numax[j]
                worst = max(worst, abs(d))
                v[j] -= d
        if worst < 1e-3:
            break
    if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
        return np.nan
    return F[ip + p]


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _own(p, tab, kind, aux, val, act, fix, own) -> bool:
    """Marks in ``own`` the components phase p alone supplies (no total of their own, no other
    phase active or holding moles that has them); True if any."""
    nc = tab[0][0]
    ph_rel = tab[21]
    anyown = False
    for j in range(nc):
        own[j] = 0
        if (kind[j] == AQ_BAL or kind[j] == AQ_BALLOG) and val[j] == 0.0 and aux[j] == j and ph_rel[p, j] > 0.0:
            alone = True
            for q in range(act.shape[0]):
                if q != p and ph_rel[q, j] != 0.0 and (act[q] != 0 or fix[q] != 0.0):
                    alone = False
            if alone:
                own[j] = 1
                anyown = True
    return anyown


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _supply_guess(p, v, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c):
    """An active phase that alone supplies components with no total of their own (K-feldspar's
    elements in pure water, through ``Gibbsite 0 KAlSi3O8 10``): its moles dissolved are found by
    bisection in log10 moles of its saturation index, each trial fitting those components to what
    it released (Newton from la = -10 and 0 moles does not find them: the balances are
    exponential in the unknowns over many decades)."""
    own = np.zeros(tab[0][0], dtype=np.int8)
    if not _own(p, tab, kind, aux, val, act, fix, own):
        return
    v0 = v.copy()
    a, b = -14.0, 1.0
    fa = _supply_trial(a, p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c, own)
    fb = _supply_trial(b, p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c, own)
    if not (fa < 0.0 and fb > 0.0):
        x = a if abs(fa) < abs(fb) else b  # no bracket (NaN compares False): the nearer end
        if not (abs(fa) < abs(fb) or abs(fb) <= abs(fa)):
            for k in range(v.shape[0]):
                v[k] = v0[k]
            return
        _supply_trial(x, p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl, ctl_c, own)
        return
    while b - a > 0.02:
        mid = 0.5 * (a + b)
        fm = _supply_trial(mid, p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl,
                           ctl_c, own)
        if math.isnan(fm):
            break
        if fm < 0.0:
            a = mid
        else:
            b = mid
    _supply_trial(0.5 * (a + b), p, v, v0, tab, T, P, kind, aux, val, si, act, fix, work, touched, numax, ctl,
                  ctl_c, own)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _sweeps(v, tab, T, P, kind, aux, val, si, act, fix, work, sweeps, touched, numax, ctl, ctl_c):
    """The continued-fraction sweeps of ``first_guess`` at fixed activity coefficients."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc, ne = tab[0][0], tab[0][1]
    nb = nc + ne + 2
    ilw = nb
    npp = tab[0][5]
    F, S = work[19], work[20]
    for sweep in range(sweeps):
        _rx_solve(v, tab, T, P, kind, aux, val, si, act, fix, work, ctl)
        if sweep % 4 == 0:
            for k in range(nc, nc + 1 + ne):  # H+ and the electron columns
                if kind[k] == AQ_BAL and touched[k] == 0:
                    lo_k, hi_k = (-16.0, 2.0) if k == nc else (-30.0, 30.0)
                    _bisect(k, v, tab, T, P, kind, aux, val, si, act, fix, work, ctl, lo_k, hi_k, 1e-4)
        if not evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no):
            break
        worst = 0.0
        for k in range(nb + 1):
            if touched[k] != 0 or math.isnan(F[k]):
                continue
            if kind[k] == AQ_BALLOG and k < nc:
                worst = max(worst, abs(F[k]))
                v[k] -= F[k] / numax[k]
            elif kind[k] == AQ_BALLOG and k == ilw:
                worst = max(worst, abs(F[k]))
                v[k] -= F[k]
        for p in range(npp):
            if ctl[p] >= 0 and not math.isnan(F[nb + 2 + p]):
                worst = max(worst, abs(F[nb + 2 + p]))
        if worst < 1e-3:
            break


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _rx_solve(v, tab, T, P, kind, aux, val, si, act, fix, work, ctl):
    """The unknowns held by saturation indices solved together at the current activity
    coefficients: rows ``AQ_RX`` (a total fixed by a phase, a redox couple) and each active
    equilibrium phase with the unknown it sets in the first guess (``ctl[p]``). These rows are linear
    in the unknowns, so one linear solve is exact there (``K 1 K_H 8; Al 1 Gibbsite; Si 1 K-mica`` at
    pH 11 puts log a(Al+3) near -25; CH4(g) at 50 atm puts the pe near -4: starts Newton could not
    reach, the water's sums overflowing on the way)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nb = tab[0][0] + tab[0][1] + 2
    npp = ctl.shape[0]
    n = 0
    for k in range(nb):
        if kind[k] == AQ_RX:
            n += 1
    for p in range(npp):
        if ctl[p] >= 0 and act[p] != 0:
            n += 1
    if n == 0:
        return
    row = np.zeros(n, dtype=np.int64)  # residual row
    unk = np.zeros(n, dtype=np.int64)  # the unknown it sets
    rx = np.zeros(n, dtype=np.int64)  # its reaction
    n = 0
    for k in range(nb):
        if kind[k] == AQ_RX:
            row[n], unk[n], rx[n] = k, k, aux[k]
            n += 1
    for p in range(npp):
        if ctl[p] >= 0 and act[p] != 0:
            row[n], unk[n], rx[n] = nb + 2 + p, ctl[p], tab[20][p]
            n += 1
    F, S = work[19], work[20]
    evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no)
    A = np.zeros((n, n))
    b = np.zeros(n)
    for i in range(n):
        b[i] = -F[row[i]]
        if math.isnan(b[i]):
            return
        for j in range(n):
            A[i, j] = _rx_coef(rx[i], unk[j], tab)
    d = np.zeros(n)
    if lu_solve(A, b, np.zeros((n, n + 1)), d) != 0:
        return
    for i in range(n):
        if not math.isnan(d[i]):
            v[unk[i]] += min(max(d[i], -40.0), 40.0)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _rx_coef(r, k, tab):
    """d SI_r / d u_k: the coefficient of basis unknown k in reaction r's saturation index."""
    rx_ptr, rx_col, rx_val = tab[14], tab[15], tab[16]
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    ns, nc, ne = tab[0][2], tab[0][0], tab[0][1]
    s = 0.0
    for q in range(rx_ptr[r], rx_ptr[r + 1]):
        c = rx_col[q]
        if c < ns:
            for t in range(sp_ptr[c], sp_ptr[c + 1]):
                if sp_col[t] == k:
                    s += rx_val[q] * sp_val[t]
        elif c == ns:
            if k == nc + ne + 1:
                s += rx_val[q]
        elif k == nc + 1 + (c - ns - 1):
            s += rx_val[q]
    return s


# ------------------------------------------------------------------------------------ fallbacks
@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def outer_I(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, max_outer):
    """The ionic strength in an outer damped fixed point: Newton at the activity coefficients of a
    fixed I, then I <- I(m), in log I, halving the step when it oscillates. Returns (status, nit)."""
    nc, ne = tab[0][0], tab[0][1]
    iI = nc + ne + 3
    kI = kind.copy()
    vI = val.copy()
    kI[iI] = AQ_FIXED
    z = tab[6]
    m = work[7]
    omega = 1.0
    prev = 0.0
    have_prev = False
    nit = 0
    for _outer in range(max_outer):
        vI[iI] = v[iI]
        st, it = newton(v, tab, T, P, kI, aux, vI, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
        nit += it
        if st != CONVERGED:
            return st, nit
        Im = 0.0
        for i in range(z.shape[0]):
            Im += z[i] * z[i] * m[i]
        Im *= 0.5
        if not (Im > 0.0):
            return NONFINITE, nit
        I = 10.0 ** v[iI]
        if abs(Im - I) <= 1e-12 * I:
            v[iI] = math.log10(Im)
            break
        dd = math.log(Im / I)
        if have_prev and dd * prev < 0.0 and abs(dd) > 0.5 * abs(prev):
            omega = max(0.5 * omega, 1.0 / 64.0)
        prev = dd
        have_prev = True
        v[iI] += omega * dd / LN10
    else:
        return MAX_ITER, nit
    # the state with I in Newton, from this solution (one or two iterations): every equation holds
    st, it = newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
    return st, nit + it


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _solve_at_I(u, v, vlast, have_warm, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar,
                charge_row):
    """One evaluation of the nested ionic-strength search: the water at the activity coefficients
    of I = e^u, from the last solution, else the cold start, else (charge-balance pH) the nested
    pH search at that I. Returns (status, nit); v holds the solution."""
    nc, ne = tab[0][0], tab[0][1]
    iI = nc + ne + 3
    kI = kind.copy()
    vI = val.copy()
    kI[iI] = AQ_FIXED
    vI[iI] = u / LN10
    nit = 0
    st = MAX_ITER
    for attempt in range(3):
        if attempt == 0 and not have_warm:
            continue
        if attempt < 2:
            src = vlast if attempt == 0 else vcold
            for k in range(v.shape[0]):
                v[k] = src[k]
            v[iI] = u / LN10
            if attempt == 1:
                first_guess(v, tab, T, P, kI, aux, vI, si, act, fix, work, 40)
            st, it = newton(v, tab, T, P, kI, aux, vI, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
            nit += it
            if st == CONVERGED:
                return st, nit
        elif charge_row:
            src = vlast if have_warm else vcold
            for k in range(v.shape[0]):
                v[k] = src[k]
            v[iI] = u / LN10
            st, it = nested_ph(v, tab, T, P, kI, aux, vI, si, act, fix, work, dkind, dpar)
            nit += it
    return st, nit


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def nested_I(v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, charge_row):
    """The ionic strength as a bracketed root of phi(u) = ln I(m(e^u)) - u: walk out from v's I by
    half decades to a sign change within 1e-12 .. 1e3 mol/kgw, then Illinois. Converged only at a
    root (|phi| <= 1e-11); then the full system (I in Newton) is polished from it."""
    nc, ne = tab[0][0], tab[0][1]
    iI = nc + ne + 3
    n = v.shape[0]
    z = tab[6]
    m = work[7]
    vlast = v.copy()
    vbest = v.copy()
    best = np.inf
    have_warm = False
    umin, umax = math.log(1e-12), math.log(1e3)
    u0 = v[iI] * LN10
    if not (umin < u0 < umax):
        u0 = math.log(1e-3)
    a = u0
    fa = 0.0
    b = u0
    fb = 0.0
    step = 0.0
    phase = 0
    nit = 0
    for _ in range(300):
        uu = a if phase == 0 else (min(max(a + step, umin), umax) if phase == 1 else (fa * b - fb * a) / (fa - fb))
        st, it = _solve_at_I(uu, v, vlast, have_warm, vcold, tab, T, P, kind, aux, val, si, act, fix, work,
                             dkind, dpar, charge_row)
        nit += it
        if st != CONVERGED:
            return st, nit
        have_warm = True
        for k in range(n):
            vlast[k] = v[k]
        Im = 0.0
        for i in range(z.shape[0]):
            Im += z[i] * z[i] * m[i]
        f = math.log(max(0.5 * Im, 1e-300)) - uu
        if abs(f) < best:
            best = abs(f)
            for k in range(n):
                vbest[k] = v[k]
        if best <= 1e-14:
            break
        if phase == 0:
            fa = f
            step = 0.5 * LN10 if f > 0.0 else -0.5 * LN10
            phase = 1
            continue
        if phase == 1:
            b = min(max(a + step, umin), umax)
            fb = f
            if fa * fb <= 0.0:
                phase = 2
            elif b == umin or b == umax:
                return MAX_ITER, nit
            else:
                a = b
                fa = fb
            continue
        if f * fb < 0.0:
            a = b
            fa = fb
        else:
            fa *= 0.5
        b = uu
        fb = f
        if abs(b - a) <= 1e-14 * max(1.0, abs(b)):
            break
    if not best <= 1e-11:
        for k in range(n):
            v[k] = vbest[k]
        return STAGNATED, nit
    for k in range(n):
        v[k] = vbest[k]
    st, it = newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
    return st, nit + it


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _charge_at(lh, v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """Solve with log a(H+) fixed at lh; return (status, nit, relative charge residual)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc = tab[0][0]
    kH = kind.copy()
    vH = val.copy()
    kH[nc] = AQ_FIXED
    vH[nc] = lh
    v[nc] = lh
    st, it = newton(v, tab, T, P, kH, aux, vH, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
    if st != CONVERGED:
        return st, it, np.nan
    F, S = work[13], work[14]
    # the charge row itself was replaced: evaluate it with the original kinds
    evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[15], no, yes)
    return st, it, F[nc] / S[nc]


@njit(cache=True)
def nested_ph(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """The charge balance as a bracketed root over log a(H+), each evaluation a solve at fixed pH
    (at the ionic strength of ``kind``'s I row: fixed for the nested I search, else in Newton).
    Walk from v's pH one unit at a time to a sign change within pH -3 .. 17, then Illinois. A
    bracket that collapses where the imbalance is not zero (|q| > 1e-10 relative) is a jump between
    two solution branches, not a root: STAGNATED."""
    nc = tab[0][0]
    nit = 0
    lmin, lmax = -17.0, 3.0
    start = v[nc] if (not math.isnan(v[nc]) and lmin < v[nc] < lmax) else -7.0
    st, it, ga_ = _charge_at(start, v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
    nit += it
    if st != CONVERGED:
        return st, nit
    a = start
    step = -1.0 if ga_ > 0.0 else 1.0
    b = a
    gb_ = ga_
    while True:
        b = min(max(a + step, lmin), lmax)
        st, it, gb_ = _charge_at(b, v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
        nit += it
        if st != CONVERGED:
            return st, nit
        if ga_ * gb_ <= 0.0:
            break
        if b == lmin or b == lmax:
            return MAX_ITER, nit
        a = b
        ga_ = gb_
    st, it = _illinois(0, 100, a, b, ga_, gb_, v, v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
    return st, nit + it


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _balance_at(which, x, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """The solve of a nested search at x: the charge at log a(H+) = x (which 0, ``_charge_at``) or the
    electrons at log a(e-) = x (which 1, ``_electrons_at``)."""
    if which == 0:
        return _charge_at(x, v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
    return _electrons_at(x, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _illinois(which, maxit, a, b, ga_, gb_, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """The root of a nested search (``_balance_at``) bracketed by a, b (residuals ga_, gb_ of opposite sign), by
    the Illinois method, then the full system polished by Newton from it. A bracket that collapses where the
    residual is not zero (> 1e-10 relative) is a jump between two solution branches, not a root: STAGNATED.
    Returns (status, iterations)."""
    nit = 0
    fa, fb = ga_, gb_
    fc = fb
    for _ in range(maxit):
        c = (fa * b - fb * a) / (fa - fb)
        st, it, fc = _balance_at(which, c, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
        nit += it
        if st != CONVERGED:
            return st, nit
        if fc == 0.0 or abs(fc) <= 1e-14:
            break
        if fc * fb < 0.0:
            a = b
            fa = fb
        else:
            fa *= 0.5
        b = c
        fb = fc
        if abs(b - a) < 1e-13:
            break
    if not abs(fc) <= 1e-10:
        return STAGNATED, nit
    st, it = newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
    return st, nit + it


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _electrons_at(ue, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """Solve with log a(e-) fixed at ue, from v with its masters revised to their totals at that pe
    (``_revise_masses``: a decade of pe moves a species of 8 electrons by 8 decades at fixed masters),
    else from the cold start improved by the first-guess sweeps at that pe; return (status, nit,
    relative electron-balance residual)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    ke = tab[0][0] + 1
    kE = kind.copy()
    vE = val.copy()
    kE[ke] = AQ_FIXED
    vE[ke] = ue
    v[ke] = ue
    _revise_masses(v, tab, T, P, kE, aux, vE, si, act, fix, work)
    st, it = newton(v, tab, T, P, kE, aux, vE, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
    if st != CONVERGED:
        for k in range(v.shape[0]):
            v[k] = vcold[k]
        v[ke] = ue
        first_guess(v, tab, T, P, kE, aux, vE, si, act, fix, work, 40)
        st, it2 = newton(v, tab, T, P, kE, aux, vE, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
        it += it2
    if st != CONVERGED:
        return st, it, np.nan
    F, S = work[13], work[14]
    # the electron row itself was replaced: evaluate it with the original kinds
    evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[15], no, yes)
    return st, it, F[ke] / S[ke]


PE_STEP = 1.0  # [log10 a(e-)] the walk of the nested pe search between fixed-pe solves
PE_STEP_MIN = 1.0 / 64.0  # the walk's step, halved where a fixed-pe solve failed, at least this
PE_MAX_SOLVES = 400  # fixed-pe solves of the walk at most (a row that fails everywhere ends here)
PE_RANGE = 30.0  # |pe| the nested pe search looks within


@njit(cache=True)
def nested_pe(v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar):
    """The electron balance of a reaction step as a bracketed root over log a(e-), each evaluation a
    solve at fixed pe warm-started from the last (a continuation in pe). Walk from v's pe PE_STEP at a
    time (halved where a solve fails, grown back after a success) to a sign change within |pe| <=
    PE_RANGE, then Illinois; then the full system polished by Newton from the root.

    Why: in a water whose only redox element is one added in the step (NH3 into a NaCl water at
    pe 4), every species of that element but one is negligible at the start's pe (N2), so its
    balance row and the electron row are proportional (both read N2 alone) and the Jacobian is
    singular to working precision; the species that would change the electrons per atom (NH4+, at
    1e-40) give a Newton direction of hundreds of log units along the valley of constant N2, which
    the step cap shrinks to nothing (and the first-guess sweeps, which bisect the electron row at
    fixed masters, throw the pe to +16). At a fixed pe the electron row is gone and the rest is an
    ordinary water; the electrons it holds grow monotonically as the pe falls (at fixed totals,
    d(electrons)/d ln a(e-) is a variance: positive), so the walk brackets the one root. PHREEQC
    bounds the pe's change per iteration to a decade (model.cpp reset, pe_step_size) for the same
    reason; here the bound is the walk's step and each point is solved to the end."""
    nc = tab[0][0]
    ke = nc + 1
    nit = 0
    lmin, lmax = -PE_RANGE, PE_RANGE
    start = v[ke] if (not math.isnan(v[ke]) and lmin < v[ke] < lmax) else -4.0
    st, it, ga_ = _electrons_at(start, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
    nit += it
    if st != CONVERGED:
        return st, nit
    if abs(ga_) <= FTOL:
        st, it = newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
        return st, nit + it
    a = start
    step = -PE_STEP if ga_ > 0.0 else PE_STEP
    b = a
    gb_ = ga_
    vlast = v.copy()  # the solution at a: where a failed solve starts again, half as far
    solves = 0
    while True:
        solves += 1
        if solves > PE_MAX_SOLVES:
            return MAX_ITER, nit
        b = min(max(a + step, lmin), lmax)
        st, it, gb_ = _electrons_at(b, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
        nit += it
        if st != CONVERGED:
            if abs(step) <= PE_STEP_MIN:
                return st, nit
            step *= 0.5
            for k in range(v.shape[0]):
                v[k] = vlast[k]
            continue
        if ga_ * gb_ <= 0.0:
            break
        if b == lmin or b == lmax:
            return MAX_ITER, nit
        a = b
        ga_ = gb_
        for k in range(v.shape[0]):
            vlast[k] = v[k]
        if abs(step) < PE_STEP:  # past the hard part: back towards the full step
            step *= 2.0
    st, it = _illinois(1, 200, a, b, ga_, gb_, v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind,
                       dpar)
    return st, nit + it


# ------------------------------------------------------------------------------------ one row
@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def solve_chain(v, vcold, warm, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, mode, max_outer, res):
    """One water, at a fixed set of active phases, through the fallback chain. v: start (warm) or
    ignored; on return the solution. vcold: the cold start. mode: AQM_NEWTON or AQM_OUTER, the
    formulation tried first. res: [status, nit, method, first failure's status, I, a(H2O)]."""
    n = v.shape[0]
    nc, ne = tab[0][0], tab[0][1]
    iw = nc + ne + 1
    iI = nc + ne + 3
    nit = 0
    first = -1
    charge_row = kind[nc] == AQ_BAL and aux[nc] == tab[0][3] - 2  # the charge column is next to last
    vwarm = v.copy()
    for attempt in range(4):
        if attempt < 2 and not warm:
            continue
        if attempt > 0:
            for k in range(n):
                v[k] = vwarm[k] if attempt == 1 else vcold[k]
            if attempt == 2:
                first_guess(v, tab, T, P, kind, aux, val, si, act, fix, work, 40)
            else:
                revise_guess(v, tab, T, P, kind, aux, val, si, act, fix, work)
        if mode == AQM_OUTER:
            st, it = outer_I(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, max_outer)
        else:
            st, it = newton(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, MAX_ITER_NEWTON)
        nit += it
        if st == CONVERGED:
            _done(v, tab, res, st, nit, mode, first, iI, iw, attempt)
            return
        if first < 0:
            first = st
    for method in (AQM_OUTER, AQM_NESTED_I, AQM_NESTED_PH):
        if method == mode:
            continue
        if method == AQM_NESTED_PH and not charge_row:
            continue
        for k in range(n):
            v[k] = vcold[k]
        first_guess(v, tab, T, P, kind, aux, val, si, act, fix, work, 40)
        if method == AQM_OUTER:
            st, it = outer_I(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, max_outer)
        elif method == AQM_NESTED_I:
            st, it = nested_I(v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar, charge_row)
        else:
            st, it = nested_ph(v, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
        nit += it
        if st == CONVERGED:
            _done(v, tab, res, st, nit, method, first, iI, iw, START_GUESS)
            return
    if kind[nc + 1] == AQ_BAL and aux[nc + 1] == nc + 1:
        # a reaction step's electron balance (the pe conserved): the nested pe search, last (it engages
        # only where every formulation above failed), from the warm start's pe, else the cold start's
        for k in range(n):
            v[k] = vwarm[k] if warm else vcold[k]
        st, it = nested_pe(v, vcold, tab, T, P, kind, aux, val, si, act, fix, work, dkind, dpar)
        nit += it
        if st == CONVERGED:
            _done(v, tab, res, st, nit, AQM_NESTED_PE, first, iI, iw, START_WARM if warm else START_GUESS)
            return
    _done(v, tab, res, first, nit, mode, first, iI, iw, START_GUESS)




@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _dependent(p, q, tab, kind, aux):
    """Phases p and q release the same balances (up to a factor) in every balance row of this water
    but the water's: they cannot both be at equilibrium (gypsum and anhydrite, except at the one
    temperature where they coexist), so never both active."""
    ph_rel = tab[21]
    nb = tab[0][0] + tab[0][1] + 2
    iw = nb - 1
    ratio = 0.0
    for k in range(nb + 1):
        if not (kind[k] == AQ_BAL or kind[k] == AQ_BALLOG) or k == iw or k == nb:
            continue
        b = aux[k]
        x, y = ph_rel[p, b], ph_rel[q, b]
        if x == 0.0 and y == 0.0:
            continue
        if x == 0.0 or y == 0.0:
            return False
        if ratio == 0.0:
            ratio = x / y
        elif abs(x / y - ratio) > 1e-9 * abs(ratio):
            return False
    return ratio != 0.0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _refresh_absent(tab, kind, kind_r, aux, val, act, fix, v, vcold) -> bool:
    """A component with no total of its own (its balance at val 0; not a component held by the
    charge balance, also at val 0) is in the water only while a phase supplies it
    (active, or fixed at moles it has given): else its row is ABSENT and its species are left out.
    Updates ``kind_r`` from ``kind``; True when something changed (the species set must be redone)."""
    nc = tab[0][0]
    npp = act.shape[0]
    ph_rel = tab[21]
    changed = False
    for j in range(nc):
        if not ((kind[j] == AQ_BAL or kind[j] == AQ_BALLOG) and val[j] == 0.0 and aux[j] == j):
            continue
        supplied = False
        for p in range(npp):
            if ph_rel[p, j] != 0.0 and (act[p] == 1 or fix[p] != 0.0):
                supplied = True
        want = kind[j] if supplied else AQ_ABSENT
        if want != kind_r[j]:
            changed = True
            kind_r[j] = want
            start = -10.0 if supplied else ABSENT_LA
            v[j] = start
            vcold[j] = start
    return changed


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _active_set(v, vcold, warm, tab, T, P, kind, kind_r, aux, val, lo, hi, si, on, act, fix, work, dkind, dpar,
                mode, max_outer, res):
    """The fallback chain inside an active-set loop over the equilibrium phases (see solve_row).
    Returns with res[0] the status."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    npp = act.shape[0]
    nb = tab[0][0] + tab[0][1] + 2
    ip = nb + 2
    nit = 0
    # the last converged state, the phase added to it and the way it was off (for the run-out retries)
    vok = v.copy()
    actok = act.copy()
    fixok = fix.copy()
    kindok = kind_r.copy()
    added = -1
    added_d = 0.0
    cand = 0
    for rnd in range(4 * npp + 3):
        for p in range(npp):
            if act[p] == 0:
                vcold[ip + p] = fix[p]
                v[ip + p] = fix[p]
        _refresh_absent(tab, kind, kind_r, aux, val, act, fix, v, vcold)
        row_setup(tab, T, kind_r, work)
        solve_chain(v, vcold, warm or rnd > 0, tab, T, P, kind_r, aux, val, si, act, fix, work, dkind, dpar, mode,
                    max_outer, res)
        nit += int(res[1])
        res[1] = nit
        if npp == 0:
            return
        if res[0] != CONVERGED:
            # Adding phase ``added`` to the last converged set failed. PHREEQC's Newton steps are
            # bounded by what each phase has (model.cpp ineq), so a phase runs out on the way; here
            # each set is solved to the end, and a set that cannot hold (pyrite held at its SI under
            # O2(g): its Fe would need la ~ +100) never converges to show which one runs out. So:
            # from the last converged state, the added phase with one member of the set run out to
            # the bound it was heading for (or the added one itself), each in turn.
            if added < 0:
                return
            q = -1
            bound = 0.0
            while cand <= npp and q < 0:
                c = cand
                cand += 1
                if c == npp:
                    c = added
                    bound = hi[c] if added_d < 0.0 else lo[c]
                elif c == added or actok[c] != 1:
                    continue
                else:
                    bound = hi[c] if vok[ip + c] > 0.0 else lo[c]
                if math.isfinite(bound):
                    q = c
            if q < 0:
                return
            v[:] = vok
            act[:] = actok
            fix[:] = fixok
            kind_r[:] = kindok
            act[added] = 1
            act[q] = 0
            fix[q] = bound
            continue
        vok[:] = v
        actok[:] = act
        fixok[:] = fix
        kindok[:] = kind_r
        added = -1
        cand = 0
        # the saturation indices at the solution
        F, S = work[19], work[20]
        evaluate(v, tab, T, P, kind_r, aux, val, si, act, fix, work, F, S, work[18], no, no)
        la, rx_logk = work[6], work[3]
        worst = 0.0
        pick = -1
        for p in range(npp):  # an active phase beyond a bound: fixed at it (all such at once)
            if act[p] == 1:
                n = v[ip + p]
                tol = 1e-12 * max(abs(hi[p]), 1.0)
                if n > hi[p] + tol or n < lo[p] - tol:
                    act[p] = 0
                    fix[p] = hi[p] if n > hi[p] else lo[p]
                    pick = p
        if pick >= 0:
            continue
        for p in range(npp):
            if act[p] != 0 or on[p] == 0 or hi[p] <= lo[p]:
                continue
            d = reaction_si(tab[20][p], tab, la, v, rx_logk) - si[p]
            viol = 0.0
            if fix[p] >= hi[p] and d > 1e-9:
                viol = d  # used up, yet supersaturated: it precipitates again
            elif fix[p] <= lo[p] and d < -1e-9:
                viol = -d  # at its lower bound (dissolve-only), undersaturated: it dissolves
            elif lo[p] < fix[p] < hi[p]:
                viol = abs(d) + 1e-300  # set aside (a dependent twin, or not yet added): decided now
            if viol > worst:
                worst = viol
                pick = p
        if pick < 0:
            return
        p = pick
        d = reaction_si(tab[20][p], tab, la, v, rx_logk) - si[p]
        dep = -1
        for q in range(npp):
            if q != p and act[q] == 1 and _dependent(p, q, tab, kind, aux):
                dep = q
        if dep >= 0 and d <= 0.0:
            act[p] = 0  # less stable than its active twin: all of it dissolves
            fix[p] = hi[p]
        else:
            if dep >= 0:
                act[dep] = 0  # the twin at its target is the less stable: all of it dissolves
                fix[dep] = hi[dep]
            act[p] = 1
            added = p
            added_d = d
    res[0] = MAX_ITER


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def solve_row(v, vcold, warm, tab, T, P, kind, aux, val, lo, hi, si, on, act, work, dkind, dpar, mode, max_outer,
              res):
    """One water: the fallback chain inside an active-set loop over the equilibrium phases.

    A phase is active (held at its target saturation index, its moles dissolved free) or inactive
    (moles fixed: used up at ``hi``, at a finite lower bound ``lo`` (dissolve-only), or not
    present). Start: ``act`` as given (>= 0), else active when it has moles to dissolve. After each
    solve: an active phase beyond a bound is fixed at it; else an inactive phase on the wrong side of
    its target (used up but supersaturated, at its lower bound but undersaturated) becomes active,
    the most violating first; of two dependent phases (same composition but water) the one above its
    target replaces the other, which dissolves completely. Ends when nothing changes. When that
    fails from the default start, once more from no phase active, adding them one at a time (each
    solve starts from the last: a continuation, robust where all phases at once are not: a redox
    assemblage in pure water).
    On return ``act`` holds the final set (a warm start for the next water) and ``kind`` the rows
    of this water (components no phase supplied are ABSENT)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    npp = act.shape[0]
    nb = tab[0][0] + tab[0][1] + 2
    ip = nb + 2
    nc = tab[0][0]
    for j in range(nc):  # absent components start (and stay) at their fixed log activity
        if kind[j] == AQ_ABSENT:
            v[j] = ABSENT_LA
            vcold[j] = ABSENT_LA
    kind_r = kind.copy()
    fix = np.zeros(npp)
    act0 = act.copy()
    v0 = v.copy()
    for p in range(npp):
        if on[p] == 0 or hi[p] <= lo[p]:
            act[p] = 0
            fix[p] = min(max(0.0, lo[p]), hi[p]) if on[p] != 0 else 0.0
        elif act[p] < 0:
            act[p] = 1 if hi[p] > 0.0 else 0
            fix[p] = 0.0
            if act[p] == 1:
                for q in range(p):
                    if act[q] == 1 and _dependent(p, q, tab, kind, aux):
                        act[p] = 0
                        break
        elif act[p] == 0:
            fix[p] = v[ip + p] if warm else 0.0
    _active_set(v, vcold, warm, tab, T, P, kind, kind_r, aux, val, lo, hi, si, on, act, fix, work, dkind, dpar,
                mode, max_outer, res)
    if res[0] != CONVERGED and npp > 0:
        first = res[0]
        nit = res[1]
        for p in range(npp):  # again, from no phase active
            act[p] = 0
            fix[p] = min(max(0.0, lo[p]), hi[p]) if (on[p] == 0 or hi[p] <= lo[p]) and on[p] != 0 else 0.0
        for k in range(v.shape[0]):
            v[k] = v0[k]
        for j in range(nc):
            kind_r[j] = kind[j]
        _active_set(v, vcold, no, tab, T, P, kind, kind_r, aux, val, lo, hi, si, on, act, fix, work, dkind, dpar,
                    mode, max_outer, res)
        res[1] += nit
        if res[0] == CONVERGED:
            res[2] = AQM_PHASES
            res[3] = first
    for j in range(nc):
        kind[j] = kind_r[j]
    if res[0] != CONVERGED:
        for p in range(npp):
            act[p] = act0[p]


# the activity models of SIT and Pitzer databases: the part of log10 gamma beyond the Debye-Hueckel term and
# the osmotic coefficient are held during a Newton solve and recomputed from its molalities, until neither
# moves by more than ACT_TOL (log10 gamma; log10 a(H2O)): PHREEQC too updates the Pitzer gammas between its
# Newton iterations (model.cpp, pitzer.cpp) and stops when they move by less than 10 x its tolerance (1e-7)
ACT_TOL = 1e-12
ACT_MAX = 300
ACT_RETRY = 6  # a round that fails is solved again from the last one that converged, with a shorter step


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def solve_row_model(v, vcold, warm, tab, T, P, kind, aux, val, lo, hi, si, on, act, work, dkind, dpar, mode,
                    max_outer, res):
    """One water (``solve_row``), with the database's activity model when it has one (SIT, Pitzer): a fixed
    point over the held part of log10 gamma (work[26]) and the osmotic coefficient (val of the water row,
    AQ_AWPHI), each round a full solve warm-started from the last. Ends when the recomputed values move by
    at most ACT_TOL; the state returned is the one solved with the values it was solved with (not moved
    after), so its equations hold exactly at them, and they are within ACT_TOL of the model's at its
    molalities (the certificate recomputes them). Without a model: ``solve_row`` unchanged."""
    if tab[25][0] == 0 or tab[25][0] == ACT_LLNL:
        solve_row(v, vcold, warm, tab, T, P, kind, aux, val, lo, hi, si, on, act, work, dkind, dpar, mode,
                  max_outer, res)
        return
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    nc, ne = tab[0][0], tab[0][1]
    iw = nc + ne + 1
    iI = nc + ne + 3
    npp = act.shape[0]
    am = (tab[25], tab[26], tab[27], tab[28], tab[29], tab[30], tab[31], tab[32], tab[33], tab[34])
    nreal = tab[25][5]
    ext, lgm = work[26], work[27]
    F, S = work[19], work[20]
    kind0 = kind.copy()
    kind0[iw] = AQ_AWPHI
    for i in range(ext.shape[0]):
        ext[i] = 0.0
    val[iw] = 1.0 / W_MOL  # phi = 1 to start
    nit = 0
    w = warm
    # the held values: [each real species' held log10 gamma, each exchange species' (its cation's model log10
    # gamma times the cation's coefficient, tab[36] / tab[24]), phi]; hid: the species of each
    ex_cat, ex_p = tab[36], tab[24]
    nh = nreal
    for i in range(nreal, ex_cat.shape[0]):
        if ex_cat[i] >= 0:
            nh += 1
    hid = np.empty(nh, dtype=np.int64)
    for i in range(nreal):
        hid[i] = i
    k = nreal
    for i in range(nreal, ex_cat.shape[0]):
        if ex_cat[i] >= 0:
            hid[k] = i
            k += 1
    # Anderson mixing of depth 1 (Anderson 1965; Walker & Ni 2011) over x = [held log10 gamma..., phi]: a
    # plain substitution can oscillate and grow where a phase holds the water at saturation (halite: more
    # gamma, less Na+ and Cl-, less gamma), with a slope below -1
    x = np.zeros(nh + 1)
    r = np.zeros(nh + 1)
    xp = np.zeros(nh + 1)
    rp = np.zeros(nh + 1)
    have_prev = False
    # the last round that converged: its solution, phase set, the values it was solved with and their
    # residual. A round that fails (the mixing's step too long: ex17b's brine evaporated in increments, where
    # a first round at the Debye-Hueckel gammas lands far off) is solved again from there, with the plain
    # substitution step shortened (1/2, 1/4, ...) and the mixing's history cleared
    v_ok = v.copy()
    act_ok = act.copy()
    x_ok = np.zeros(nh + 1)
    r_ok = np.zeros(nh + 1)
    have_ok = False
    retries = 0
    for _it in range(ACT_MAX):
        for k in range(kind.shape[0]):
            kind[k] = kind0[k]
        solve_row(v, vcold, w, tab, T, P, kind, aux, val, lo, hi, si, on, act, work, dkind, dpar, mode,
                  max_outer, res)
        nit += int(res[1])
        res[1] = nit
        if res[0] != CONVERGED:
            if not have_ok or retries >= ACT_RETRY:
                return
            retries += 1
            frac = 0.5 ** retries
            for i in range(v.shape[0]):
                v[i] = v_ok[i]
            for p in range(npp):
                act[p] = act_ok[p]
            for i in range(nh + 1):
                x[i] = x_ok[i] + frac * r_ok[i]
            for k in range(nh):
                ext[hid[k]] = x[k]
            val[iw] = x[nh] / W_MOL
            have_prev = False
            w = yes
            continue
        w = yes
        row_setup(tab, T, kind, work)
        fix = v[v.shape[0] - npp:].copy()
        evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no)
        lg, m, wp = work[4], work[7], work[10]
        # the model's Debye-Hueckel slope: Pitzer at the state's a(H2O) (PHREEQC 3.8.6's A0 follows the density
        # of water it recomputes as a(H2O) moves), SIT at a(H2O) = 1 (sit.cpp copies A0 into sit_A0 once per T
        # and P, PTEMP_SIT, before a(H2O) moves): seen against IPhreeqc 3.8.6 at 79-93 C, where the saturation
        # pressure x a(H2O) moves the density by 1e-6, the other choice is 7e-7 off in A, this one 1e-14.
        # wp is left at a(H2O) = 1: the next evaluation sees the change and recomputes it
        if tab[25][0] == ACT_SIT:
            water_props(T, P, 1.0, wp, tab[0][8] != 0)
        phi = model_gammas(am, m, 10.0 ** v[iI], T, P, wp[0], lgm)
        if not math.isfinite(phi):
            res[0] = NONFINITE
            return
        delta = 0.0
        msum = 0.0
        for k in range(nh):
            i = hid[k]
            if k < nreal:
                tgt = lgm[i] - (lg[i] - ext[i])
                msum += m[i]
            else:
                tgt = ex_p[i, 2] * lgm[ex_cat[i]]
            if not math.isfinite(tgt):
                res[0] = NONFINITE
                return
            delta = max(delta, abs(tgt - ext[i]))
            r[k] = tgt - ext[i]
        c = phi / W_MOL
        # a(H2O) to ACT_TOL / 10 in ln a (the certificate holds a(H2O) to 1e-12 absolute)
        delta = max(delta, 10.0 * abs(c - val[iw]) * msum)
        if delta <= ACT_TOL:
            return
        for k in range(nh):
            x[k] = ext[hid[k]]
        x[nh] = val[iw] * W_MOL
        r[nh] = phi - x[nh]
        for i in range(v.shape[0]):
            v_ok[i] = v[i]
        for p in range(npp):
            act_ok[p] = act[p]
        for i in range(nh + 1):
            x_ok[i] = x[i]
            r_ok[i] = r[i]
        have_ok = True
        theta = 0.0
        if have_prev:
            num = 0.0
            den = 0.0
            for i in range(nh + 1):
                dr = r[i] - rp[i]
                num += r[i] * dr
                den += dr * dr
            if den > 0.0:
                theta = num / den
            if not (-10.0 < theta < 10.0):  # no trust in the secant: a plain step
                theta = 0.0
        for i in range(nh + 1):
            xn = x[i] + r[i] - theta * (x[i] - xp[i] + r[i] - rp[i])
            xp[i] = x[i]
            rp[i] = r[i]
            x[i] = xn
        have_prev = True
        for k in range(nh):
            ext[hid[k]] = x[k]
        val[iw] = x[nh] / W_MOL
    res[0] = MAX_ITER


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _done(v, tab, res, st, nit, method, first, iI, iw, start):
    res[0] = st
    res[1] = nit
    res[2] = method
    res[3] = first
    res[4] = 10.0 ** v[iI]
    res[5] = 10.0 ** v[iw]
    res[6] = start


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def row_outputs(v, tab, T, P, kind, aux, val, si, act, work, out_m, out_lg, out_la, out_si):
    """Molalities, log10 gamma, log10 activities of the species and the saturation index of every
    reaction of the tableau at the solution v (the state of the last evaluation is not trusted)."""
    yes = v.shape[0] > 0  # runtime booleans: literals would each compile a specialization
    no = not yes
    F, S = work[19], work[20]
    row_setup(tab, T, kind, work)
    fix = v[v.shape[0] - act.shape[0]:].copy()
    evaluate(v, tab, T, P, kind, aux, val, si, act, fix, work, F, S, work[18], no, no)
    lg, la, m, rx_logk = work[4], work[6], work[7], work[3]
    for i in range(m.shape[0]):
        out_m[i] = m[i]
        out_lg[i] = lg[i]
        out_la[i] = la[i]
    for r in range(out_si.shape[0]):
        out_si[r] = reaction_si(r, tab, la, v, rx_logk)


# ------------------------------------------------------------------------------------ the batch
@njit(cache=True, parallel=True)
def solve_batch(tab, X, XC, warm, chain, T, P, KIND, AUX, VAL, LO, HI, SI, ON, ACT, dkind, dpar, mode, max_outer,
                chunk, RES, OUT_M, OUT_LG, OUT_LA, OUT_SI):
    """N waters in parallel over fixed chunks of rows (reproducible whatever the thread count).

    X (N, nv): warm starts (used where ``warm[r]``), overwritten with the solutions; XC (N, nv): cold
    starts; with ``chain`` a row whose predecessor in the chunk converged starts from that solution.
    T [K], P [atm] (N,); KIND, AUX, VAL (N, nb + 2): the equation of each unknown; LO, HI, SI, ON
    (N, np): phase bounds on moles dissolved, target SI, participation; ACT (N, np): the starting
    set of active phases (-1: decide), overwritten with the final one. RES (N, N_RES);
    OUT_M, OUT_LG, OUT_LA (N, ns); OUT_SI (N, nrx). The parallel loop only calls ``solve_chunk``
    (a parallel region's compile time grows with its body)."""
    N = X.shape[0]
    nchunks = (N + chunk - 1) // chunk
    for c in prange(nchunks):
        solve_chunk(c * chunk, min(N, c * chunk + chunk), tab, X, XC, warm, chain, T, P, KIND, AUX, VAL, LO, HI,
                    SI, ON, ACT, dkind, dpar, mode, max_outer, RES, OUT_M, OUT_LG, OUT_LA, OUT_SI)
    return 0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _own_start(r, j, X, KIND, ACT, X0, K0, A0):
    """Row r of the batch back to its own start (row j of the chunk's copies): unknowns, kinds, phase set."""
    for k in range(X.shape[1]):
        X[r, k] = X0[j, k]
    for k in range(KIND.shape[1]):
        KIND[r, k] = K0[j, k]
    for k in range(ACT.shape[1]):
        ACT[r, k] = A0[j, k]


@njit(cache=True)
def solve_chunk(lo_r, hi_r, tab, X, XC, warm, chain, T, P, KIND, AUX, VAL, LO, HI, SI, ON, ACT, dkind, dpar, mode,
                max_outer, RES, OUT_M, OUT_LG, OUT_LA, OUT_SI):
    """Rows lo_r..hi_r-1 of ``solve_batch``, in order (the chain of warm starts). Called directly for
    a batch of one chunk (a single water): no parallel region to compile, the same results."""
    work = make_work(tab)
    dp = dpar.copy()
    prev_ok = False
    X0 = X[lo_r:hi_r].copy()  # each row's own start, kept for a retry when the chained one fails
    K0 = KIND[lo_r:hi_r].copy()
    A0 = ACT[lo_r:hi_r].copy()
    for r in range(lo_r, hi_r):
        w = warm[r] != 0
        if chain and prev_ok:
            for k in range(X.shape[1]):
                X[r, k] = X[r - 1, k]
            for k in range(ACT.shape[1]):
                if ACT[r, k] < 0:
                    ACT[r, k] = ACT[r - 1, k]
            w = True
        solve_row_model(X[r], XC[r], w, tab, T[r], P[r], KIND[r], AUX[r], VAL[r], LO[r], HI[r], SI[r], ON[r],
                        ACT[r], work, dkind, dp, mode, max_outer, RES[r])
        if RES[r, 0] != CONVERGED and chain and prev_ok:
            # the predecessor's solution was no good start: the row's own (as if alone)
            _own_start(r, r - lo_r, X, KIND, ACT, X0, K0, A0)
            solve_row_model(X[r], XC[r], warm[r] != 0, tab, T[r], P[r], KIND[r], AUX[r], VAL[r], LO[r], HI[r],
                            SI[r], ON[r], ACT[r], work, dkind, dp, mode, max_outer, RES[r])
        if RES[r, 0] != CONVERGED and mode == AQM_NEWTON:
            # the whole row again with the outer ionic-strength fixed point first, from the row's own start: its
            # path through the phase sets differs (pyrite into an oxic water with an exchanger converges only
            # so; PHREEQC converges; found by the random-input fuzz). Engages only where everything failed
            first, nit0 = RES[r, 0], RES[r, 1]
            _own_start(r, r - lo_r, X, KIND, ACT, X0, K0, A0)
            solve_row_model(X[r], XC[r], warm[r] != 0, tab, T[r], P[r], KIND[r], AUX[r], VAL[r], LO[r], HI[r],
                            SI[r], ON[r], ACT[r], work, dkind, dp, AQM_OUTER, max_outer, RES[r])
            RES[r, 1] += nit0
            if RES[r, 0] == CONVERGED:
                RES[r, 3] = first
            else:
                RES[r, 0] = first
        prev_ok = RES[r, 0] == CONVERGED
        row_outputs(X[r], tab, T[r], P[r], KIND[r], AUX[r], VAL[r], SI[r], ACT[r], work,
                    OUT_M[r], OUT_LG[r], OUT_LA[r], OUT_SI[r])

