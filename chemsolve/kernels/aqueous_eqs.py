"""The aqueous model's equations, compiled: water properties at (T, P), log K at (T, P, I), activity
coefficients, molalities, and the residual and Jacobian of the Newton system of one water.

The system (built in ``chemsolve.aqueous.system``) is a tableau: every species i has
``log10 a_i = log K_i + sum_k A_ik u_k`` over the basis unknowns u = log10 activities of the
component master species, H+, the electron columns (pe, and redox couples of initial solutions) and
H2O. Further unknowns: log10 of the mass of water W [kg], log10 of the ionic strength I [mol/kgw],
and the moles n_p of each equilibrium phase dissolved (negative: precipitated). Which equation
holds each unknown is data of the row (``codes.AQ_*``): a balance of moles (element totals, the
charge, the electrons, the water), a saturation index, a fixed value. The equations are those of
PHREEQC 3 (Parkhurst & Appelo 2013; the source of PHREEQC 3.8.6 for the water properties, molar
volumes and the pressure term of log K: prep.cpp calc_vm / k_calc, utilities.cpp calc_rho_0 /
calc_dielectrics), so the two codes agree to rounding on the same database.

Everything takes arrays and returns nothing but what it writes; nothing raises.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import (
    AQ_ABSENT,
    AQ_AW,
    AQ_AWPHI,
    AQ_BAL,
    AQ_BALLOG,
    AQ_FIXED,
    AQ_IONIC,
    AQ_PSI,
    AQ_RX,
    GAMMA_DAVIES,
    GAMMA_EX_DAVIES,
    GAMMA_EX_WATEQ,
    GAMMA_MODEL_DH,
    GAMMA_WATEQ,
    GAS_FIXED_P,
)

LN10 = math.log(10.0)
R_KJ = 8.31470e-3  # gas constant [kJ/(mol K)] as PHREEQC (global_structures.h)
R_LITER_ATM = 0.0820597  # [L atm/(mol K)] as PHREEQC
PA_PER_ATM = 1.01325e5
ABSENT_LOG_A = -1000.0
# the domain of the water-activity law a(H2O) = 1 - 0.017 sum m: below 0.05 (sum m > 56 mol/kgw) it
# describes no water, yet it has roots there (with pe fixed, O2 can make up 58 mol/kgw at pH 19 and
# a(H2O) ~ 1e-3 while every equation holds): the solver keeps its iterates out
AW_MIN = 0.05  # the log activity an absent component is held at (its species are skipped)

# Bradley & Pitzer (1979) relative permittivity of water (the u1..u9 of PHREEQC's calc_dielectrics)
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
F_C_MOL = 96493.5  # Faraday constant [C/mol], as in PHREEQC (global_structures.h)
EPSILON_ZERO = 8.854e-12  # permittivity of vacuum [C2/(J m)], as in PHREEQC

# slots of the water-property vector ``wp``
WP_A, WP_B, WP_AV, WP_QBRN, WP_RHO, WP_P, WP_AW, WP_T = 0, 1, 2, 3, 4, 5, 6, 7
N_WP = 8

# slots of the table of sizes ``tab[0]`` (TI_GAS: 1 with a GAS_PHASE in the step)
TI_NC, TI_NE, TI_NS, TI_NBAL, TI_NRX, TI_NP, TI_NX, TI_NPSI, TI_GAS = 0, 1, 2, 3, 4, 5, 6, 7, 8
# the tableau's exchange arrays: tab[23] (ns,) the unknown of each species' exchanger (-1: an aqueous
# species), tab[24] (ns, 3) [log10 equivalents (exchange sites per mole), charge and coefficient of
# the exchanging cation]; tab[35] (np,) 0 for an equilibrium phase, GAS_FIXED_V / GAS_FIXED_P for a
# component of a GAS_PHASE (``codes``; rows in ``assemble``)

GROSS_SHARE = 1e-3  # share of the phases' gross flows in a balance row's scale (assemble)

# ``_nrt=False`` (numba's option, used in its own test-suite) on the functions of this module: none of
# them allocates, and without it numba increfs and decrefs every array taken from the tableau tuple
# (25 arrays) at ~25 ns a pair, which made up most of an evaluation (3.4 us -> 1.6 us with it; results
# bit for bit the same). A function given the flag that allocates fails to compile: loud, not wrong.

@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def saturation_pressure(T):
    """Saturation pressure of pure water [atm] at T [K] (PHREEQC's fit; T capped at 350 C)."""
    Tk = min(T - 273.15, 350.0) + 273.15
    return math.exp(11.6702 - 3816.44 / (Tk - 46.13))


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _poly4(r, tc):
    """Row r of PHREEQC's density polynomials at t [C] (Horner)."""
    acc = 0.0
    for c in range(4, -1, -1):
        acc = acc * tc + _P_COEF[r, c]
    return acc


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def permittivity(Tk, pa):
    """Relative permittivity of water at Tk [K] (capped as the caller caps it) and pa [atm] (Bradley &
    Pitzer 1979, PHREEQC's calc_dielectrics; 10 where the fit goes non-positive, as PHREEQC), with
    the fit's C and B terms (the caller's volume terms use them)."""
    u = _BP
    d1000 = u[0] * math.exp(Tk * (u[1] + Tk * u[2]))
    c = u[3] + u[4] / (u[5] + Tk)
    b = u[6] + u[7] / Tk + u[8] * Tk
    pb = pa * 1.01325
    eps = d1000 + c * math.log((b + pb) / (b + 1e3))
    if eps <= 0.0:
        eps = 10.0
    return eps, c, b


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def gouy_chapman(wp):
    """sqrt(8 eps_r eps_0 R T c) / sqrt(I) [C/m2 per (mol/kgw)^0.5]: the diffuse layer's charge density
    is this x sqrt(I) x sinh(F psi / 2RT) (PHREEQC's sinh_constant, model.cpp residuals: R in J, the
    ionic strength taken as mol/L -> mol/m3, eps_r at the state's T and pressure)."""
    T = wp[WP_T]
    eps, _c, _b = permittivity(min(T - 273.15, 350.0) + 273.15, wp[WP_P])
    return math.sqrt(8.0 * eps * EPSILON_ZERO * (R_KJ * 1000.0) * T * 1000.0)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def water_props(T, P, aw, wp, gas):
    """Into ``wp``: Debye-Hueckel A, B, the limiting slope of the molar volume Av [(cm3/mol)
    (mol/kg)^-0.5], the Born volume factor Q, the density of water [g/cm3] and the pressure it all
    holds at [atm]: P, or the saturation pressure x a_w when that is higher (PHREEQC 3.8.6,
    calc_rho_0 and calc_dielectrics, which cap T at 350 C). With a GAS_PHASE in the step (``gas``
    true) the density is still at that pressure but the rest (the permittivity, Av, Q, and the pressure
    of log K and of the molar volumes) at P, the gas's: PHREEQC's patm_x, which calc_rho_0 raises to the
    saturation pressure only without a gas phase (k_temp then works at patm_x)."""
    tc = min(T - 273.15, 350.0)
    Tk = tc + 273.15
    th = 1.0 - Tk / 647.096
    s = 1.0
    for i in range(6):
        s += _WP_B[i] * th ** _WP_E[i]
    rho_sat = 322.0 * s
    p0 = _poly4(0, tc)
    p1 = _poly4(1, tc)
    p2 = _poly4(2, tc)
    p3 = _poly4(3, tc)
    ps = math.exp(11.6702 - 3816.44 / (Tk - 46.13)) * (min(aw, 1.0))
    pa = max(P, ps)
    x = pa - (ps - 1e-6)
    rho = rho_sat + x * (p0 + x * (p1 + x * (p2 + math.sqrt(x) * p3)))
    rho = max(rho, 0.01)
    kappa0 = (p0 + x * (2.0 * p1 + x * (3.0 * p2 + math.sqrt(x) * 3.5 * p3))) / rho
    rho0 = rho / 1e3
    if gas:
        pa = P
    eps, c, b = permittivity(Tk, pa)
    pb = pa * 1.01325
    e2 = _E2_K / (eps * Tk)
    kap = math.sqrt(8.0 * math.pi * _AVOGADRO * e2 * rho0 / 1e3)
    wp[WP_A] = kap * e2 / (2.0 * LN10)
    wp[WP_B] = kap / 1e8
    wp[WP_AV] = kap * e2 * R_LITER_ATM * 1e3 * Tk * (c / (b + pb) * 1.01325 / eps - kappa0 / 3.0)
    wp[WP_QBRN] = c / (b + pb) / eps / eps * 41.84004
    wp[WP_RHO] = rho0
    wp[WP_P] = pa
    wp[WP_AW] = aw
    wp[WP_T] = T


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def logk_T(coef, T, out):
    """log10 K(T) of every row of ``coef`` (n, 6): c1 + c2 T + c3/T + c4 log10 T + c5/T^2 + c6 T^2."""
    l10 = math.log10(T)
    for i in range(coef.shape[0]):
        out[i] = coef[i, 0] + coef[i, 1] * T + coef[i, 2] / T + coef[i, 3] * l10 + coef[i, 4] / (T * T) \
            + coef[i, 5] * T * T


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def gammas(gk, z, ga, gb, I, A, B, lg, dlg):
    """log10 activity coefficients ``lg`` and d(lg)/d(log10 I) ``dlg`` of every species (WATEQ
    Debye-Hueckel with -gamma a b; Davies for ions without; b I, b = 0.1, for neutral species)."""
    sq = math.sqrt(I) if I > 0.0 else 0.0
    sqs = max(1e-150, sq)
    for i in range(z.shape[0]):
        z2 = z[i] * z[i]
        if gk[i] == GAMMA_WATEQ:
            den = 1.0 + B * ga[i] * sq
            lg[i] = -A * z2 * sq / den + gb[i] * I
            d = -A * z2 / (2.0 * sqs * den * den) + gb[i]
        elif gk[i] == GAMMA_DAVIES:
            lg[i] = -A * z2 * (sq / (1.0 + sq) - 0.3 * I)
            d = -A * z2 * (1.0 / (2.0 * sqs * (1.0 + sq) * (1.0 + sq)) - 0.3)
        elif gk[i] == GAMMA_MODEL_DH:
            den = 1.0 + 1.5 * sq
            lg[i] = -A * z2 * sq / den
            d = -A * z2 / (2.0 * sqs * den * den)
        else:
            lg[i] = 0.1 * I
            d = 0.1
        dlg[i] = d * I * LN10


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def exchange_gammas(tab, gk, ga, gb, I, A, B, lw, val, lg, dlg):
    """log10 gamma of the exchange species (their moles are written as molalities: m = n / W, so that
    every balance reads W sum m): the cation's Debye-Hueckel term by the species' own -gamma
    (coefficient x WATEQ, or Davies), plus log10(equivalents / total sites of its exchanger) (the
    equivalent fraction, Gaines-Thomas), plus log10 W [kg] (lw) for moles -> molality (PHREEQC's
    calc_gammas case 4 with the exchanger's default -pitzer_exchange_gammas true)."""
    ex_k, ex_p = tab[23], tab[24]
    sq = math.sqrt(I) if I > 0.0 else 0.0
    sqs = max(1e-150, sq)
    for i in range(ex_k.shape[0]):
        k = ex_k[i]
        if k < 0:
            continue
        cec = val[k]
        l0 = ex_p[i, 0] - (math.log10(cec) if cec > 0.0 else 0.0) + lw
        zc = ex_p[i, 1]
        cf = ex_p[i, 2]
        z2 = zc * zc
        if gk[i] == GAMMA_EX_WATEQ:
            den = 1.0 + B * ga[i] * sq
            lg[i] = cf * (-A * z2 * sq / den + gb[i] * I) + l0
            d = cf * (-A * z2 / (2.0 * sqs * den * den) + gb[i])
        elif gk[i] == GAMMA_EX_DAVIES:
            lg[i] = -cf * A * z2 * (sq / (1.0 + sq) - 0.3 * I) + l0
            d = -cf * A * z2 * (1.0 / (2.0 * sqs * (1.0 + sq) * (1.0 + sq)) - 0.3)
        else:
            lg[i] = l0
            d = 0.0
        dlg[i] = d * I * LN10


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def species_volumes(vm, z, I, wp, out):
    """Molar volume [cm3/mol] of every species with -Vm data at the state's T, P, I (PHREEQC's
    calc_vm: supcrt terms, the Born term, Redlich's z^2 Av/2 sqrt(I) limited by b_Av, the I terms);
    0 for species without (a1 = 0)."""
    pa = wp[WP_P]
    tc = wp[WP_T] - 273.15
    pb_s = 2600.0 + pa * 1.01325
    TK_s = tc + 45.15
    sq = math.sqrt(I) if I > 0.0 else 0.0
    for i in range(vm.shape[0]):
        if vm[i, 0] == 0.0:
            out[i] = 0.0
            continue
        v = vm[i, 0] + vm[i, 1] / pb_s + (vm[i, 2] + vm[i, 3] / pb_s) / TK_s - vm[i, 4] * wp[WP_QBRN]
        if z[i] != 0.0:
            z2 = z[i] * z[i]
            if vm[i, 5] < 1e-5:
                v += z2 * 0.5 * wp[WP_AV] * sq
            else:
                v += z2 * 0.5 * wp[WP_AV] * sq / (1.0 + vm[i, 5] * wp[WP_B] * sq)
            if vm[i, 6] != 0.0 or vm[i, 7] != 0.0 or vm[i, 8] != 0.0:
                bi = vm[i, 6] + vm[i, 7] / TK_s + vm[i, 8] * TK_s
                if vm[i, 9] == 1.0:
                    v += bi * I
                else:
                    v += bi * I ** vm[i, 9]
        out[i] = v


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _basis_volume(k, bsp, vsp, wp):
    j = bsp[k]
    if j >= 0:
        return vsp[j]
    if j == -2:  # water
        return 18.016 / wp[WP_RHO]
    return 0.0  # the electron


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def pressure_logk(tab, logk0, rx_logk0, I, wp, vsp, logk, rx_logk):
    """log K of species and reactions at the state's pressure: PHREEQC's k_calc subtracts
    dV (P - 1 atm) / (ln10 R T) when P > 1 atm, dV the reaction's change of molar volume at T, P, I
    (species: formation from the basis; phases: dissolution, H2O's volume 18.016/rho included as
    PHREEQC's calc_delta_v, minus the phase's own volume; redox couples: over their species and H2O,
    as PHREEQC's dV of a reaction into which it substituted the couple for e-; a reaction whose flag
    is not 1: none). At P <= 1 atm, log K(T) unchanged."""
    ns = logk0.shape[0]
    nrx = rx_logk0.shape[0]
    dp = (wp[WP_P] - 1.0) * PA_PER_ATM
    if dp <= 0.0:
        for i in range(ns):
            logk[i] = logk0[i]
        for r in range(nrx):
            rx_logk[r] = rx_logk0[r]
        return
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    vm, z = tab[5], tab[6]
    rx_ptr, rx_col, rx_val, rx_vm0, rx_pflag = tab[14], tab[15], tab[16], tab[18], tab[19]
    bsp = tab[22]
    species_volumes(vm, z, I, wp, vsp)
    f = 1e-9 * dp / (LN10 * wp[WP_T] * R_KJ)
    for i in range(ns):
        dv = vsp[i]
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            dv -= sp_val[q] * _basis_volume(sp_col[q], bsp, vsp, wp)
        logk[i] = logk0[i] - dv * f
    for r in range(nrx):
        if rx_pflag[r] != 1:
            rx_logk[r] = rx_logk0[r]
            continue
        dv = -rx_vm0[r]
        for q in range(rx_ptr[r], rx_ptr[r + 1]):
            c = rx_col[q]
            if c < ns:
                dv += rx_val[q] * vsp[c]
            elif c == ns:
                dv += rx_val[q] * 18.016 / wp[WP_RHO]
        rx_logk[r] = rx_logk0[r] - dv * f


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def species_state(v, tab, present, logk, lg, la, m):
    """log10 activities ``la`` and molalities ``m`` [mol/kgw] of every species at the unknowns v
    (species of an absent component: la = -inf, m = 0)."""
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    ns = logk.shape[0]
    for i in range(ns):
        if present[i] == 0:
            la[i] = -np.inf
            m[i] = 0.0
            continue
        s = logk[i]
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            s += sp_val[q] * v[sp_col[q]]
        la[i] = s
        e = s - lg[i]
        # a molality above 1e250 mol/kgw is no water (its balance is off by 250 orders): held there, so
        # that sums of such iterates stay finite and the first guess can walk back from them
        m[i] = 10.0 ** (min(250.0, e))


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def reaction_si(r, tab, la, v, rx_logk):
    """Saturation index of reaction r (a phase, or a redox couple) at the species' log activities."""
    rx_ptr, rx_col, rx_val = tab[14], tab[15], tab[16]
    ns = la.shape[0]
    nc = tab[0][TI_NC]
    ne = tab[0][TI_NE]
    s = -rx_logk[r]
    for q in range(rx_ptr[r], rx_ptr[r + 1]):
        c = rx_col[q]
        if c < ns:
            s += rx_val[q] * la[c]
        elif c == ns:
            s += rx_val[q] * v[nc + ne + 1]  # log10 a(H2O)
        else:
            s += rx_val[q] * v[nc + 1 + (c - ns - 1)]  # an electron column
    return s


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _reaction_row(r, tab, J, row):
    """d SI_r / d u into J[row] (the I dependence of log K is left out: a quasi-Newton term)."""
    rx_ptr, rx_col, rx_val = tab[14], tab[15], tab[16]
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    ns = tab[0][TI_NS]
    nc = tab[0][TI_NC]
    ne = tab[0][TI_NE]
    for q in range(rx_ptr[r], rx_ptr[r + 1]):
        c = rx_col[q]
        w = rx_val[q]
        if c < ns:
            for t in range(sp_ptr[c], sp_ptr[c + 1]):
                J[row, sp_col[t]] += w * sp_val[t]
        elif c == ns:
            J[row, nc + ne + 1] += w
        else:
            J[row, nc + 1 + (c - ns - 1)] += w


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _column_jac(J, k, b, factor, m, tab, dlg, ex_k, iI, ilw):
    """Row k of the Jacobian of factor x sum_i bal_ib m_i (a balance column b, W or the residual's
    scale in ``factor``): factor ln10 bal_ib m_i times each species' formation coefficients, minus its
    dlog10 gamma / dlog10 I on the I column, and minus the term on log10 W of a sorbed species (its W m is n,
    the moles). The caller adds the column's own W term."""
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    bal_ptr, bal_col, bal_val = tab[10], tab[11], tab[12]
    for i in range(m.shape[0]):
        mi = m[i]
        if mi == 0.0:
            continue
        cb = 0.0
        for q in range(bal_ptr[i], bal_ptr[i + 1]):
            if bal_col[q] == b:
                cb += bal_val[q]
        if cb == 0.0:
            continue
        g = factor * cb * mi * LN10
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            J[k, sp_col[q]] += g * sp_val[q]
        J[k, iI] -= g * dlg[i]
        if ex_k[i] >= 0:  # W m = n, the moles: no W in it (taken out of the column's own term)
            J[k, ilw] -= g


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _msum_jac(J, k, a, b, m, tab, dlg, ex_k, iI):
    """Row k of the Jacobian of (a x sum m) x b over the aqueous species (a(H2O)'s rows: 0.017 ln10 for the
    ion-association water, phi / 55.50837 for a model's), each term (a m_i) b as the rows wrote it."""
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    for i in range(m.shape[0]):
        mi = m[i]
        if mi == 0.0 or ex_k[i] >= 0:
            continue
        g = a * mi * b
        for q in range(sp_ptr[i], sp_ptr[i + 1]):
            J[k, sp_col[q]] += g * sp_val[q]
        J[k, iI] -= g * dlg[i]


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def assemble(v, tab, kind, aux, val, ph_si, ph_act, ph_fix, logk, rx_logk, lg, dlg, la, m, present,
             colsum, colabs, F, S, J, want_jac, strict, gc):
    """A balance row reads: W sum_i bal_ib m_i (+ W/gfw for water) - sum_p rel_pb n_p = total, n_p
    the moles of phase p dissolved. Residual F, scales S (|F_r| / S_r is the relative residual the
    stopping test reads) and, if ``want_jac``, the Jacobian J of the Newton system at v. The species
    state (la, m at lg) must be current. Returns False when a residual is not finite (the caller
    rejects the point); with
    ``strict`` False (first-guess sweeps, which read only some rows) a row outside its domain is NaN
    and the others are still computed. ``gc``: the Gouy-Chapman factor of the state (``gouy_chapman``)
    for the rows of surface potentials (AQ_PSI: the charge of the surface's species, W sum z m, equals
    val / F x gc sqrt(I) sinh(ln10 u), val its area [m2], u the unknown)."""
    ints = tab[0]
    nc, ne, ns, nbal, npp = ints[0], ints[1], ints[2], ints[3], ints[5]
    nb = nc + ne + 2
    iw = nc + ne + 1
    ilw = nb
    iI = nb + 1
    ip = nb + 2
    nv = nb + 2 + npp
    sp_ptr, sp_col, sp_val = tab[1], tab[2], tab[3]
    z = tab[6]
    bal_ptr, bal_col, bal_val, wcoef = tab[10], tab[11], tab[12], tab[13]
    ph_rx, ph_rel = tab[20], tab[21]
    ex_k = tab[23]
    W = 10.0 ** v[ilw]
    if want_jac:
        for r in range(nv):
            for c in range(nv):
                J[r, c] = 0.0
    # column sums of the balances over species (molal), and their absolute values
    for b in range(nbal):
        colsum[b] = 0.0
        colabs[b] = 0.0
    msum = 0.0
    z2sum = 0.0
    for i in range(ns):
        mi = m[i]
        if mi == 0.0:
            continue
        if ex_k[i] < 0:  # an exchange species is not in the water: neither in I (z = 0) nor in a(H2O)
            msum += mi
        z2sum += z[i] * z[i] * mi
        for q in range(bal_ptr[i], bal_ptr[i + 1]):
            colsum[bal_col[q]] += bal_val[q] * mi
            colabs[bal_col[q]] += abs(bal_val[q]) * mi
    for k in range(nb + 2):
        K = kind[k]
        if K == AQ_FIXED or K == AQ_ABSENT:
            target = val[k] if K == AQ_FIXED else -1000.0
            F[k] = v[k] - target
            S[k] = 1.0
            if want_jac:
                J[k, k] = 1.0
        elif K == AQ_BAL or K == AQ_BALLOG:
            b = aux[k]
            Y = W * (colsum[b] + wcoef[b])
            Yabs = W * (colabs[b] + abs(wcoef[b]))
            net = 0.0
            gross = 0.0
            for p in range(npp):  # what the phases released is no longer in the water's own total
                Y -= ph_rel[p, b] * v[ip + p]
                net += ph_rel[p, b] * v[ip + p]
                gross += abs(ph_rel[p, b] * v[ip + p])
            # the scale of the stopping test: the element in the water and its net release, as the
            # certificate reads the balance, plus GROSS_SHARE of what passes through the phases (one
            # dissolving as another precipitates: calcite -> dolomite moves 0.1 mol of C through 1e-5
            # mol in solution, and the sum of the flows is known only to ~1e-16 of their size)
            Yabs += abs(net) + GROSS_SHARE * gross
            if K == AQ_BAL:
                F[k] = Y - val[k]
                S[k] = Yabs + abs(val[k]) + 1e-300
                dY = 1.0
            else:
                if not (Y > 0.0):
                    if strict:
                        return False
                    F[k] = np.nan
                    S[k] = 1.0
                    continue
                F[k] = math.log10(Y / val[k])
                S[k] = 1.0
                dY = 1.0 / (Y * LN10)
            if want_jac:
                # d(W sum bal m)/du_j = W ln10 sum_i bal_ib m_i A_ij; d/dlI via dlg; d/dlog W
                _column_jac(J, k, b, dY * W, m, tab, dlg, ex_k, iI, ilw)
                J[k, ilw] += dY * W * LN10 * (colsum[b] + wcoef[b])
                for p in range(npp):
                    J[k, ip + p] -= dY * ph_rel[p, b]
        elif K == AQ_PSI:
            b = aux[k]
            Y = W * colsum[b]
            xp = v[k] * LN10
            sqi = math.sqrt(10.0 ** v[iI])
            qd = val[k] / F_C_MOL * gc * sqi
            sh = math.sinh(xp)
            F[k] = Y - qd * sh
            S[k] = W * colabs[b] + qd * abs(sh) + 1e-300
            if want_jac:
                _column_jac(J, k, b, W, m, tab, dlg, ex_k, iI, ilw)
                J[k, ilw] += W * LN10 * colsum[b]
                J[k, k] -= qd * math.cosh(xp) * LN10
                J[k, iI] -= 0.5 * LN10 * qd * sh
        elif K == AQ_RX:
            F[k] = reaction_si(aux[k], tab, la, v, rx_logk) - val[k]
            S[k] = 1.0
            if want_jac:
                _reaction_row(aux[k], tab, J, k)
        elif K == AQ_AW:
            # a(H2O) = 1 - 0.017 sum m, written as PHREEQC's linear residual: defined for any sum
            # (no log of a negative), and with no root where 1 - 0.017 sum m <= 0 since a(H2O) > 0
            aw = 10.0 ** v[iw]
            if strict and (aw < AW_MIN or 1.0 - 0.017 * msum < AW_MIN):
                return False  # outside the activity model (sum m > 56 mol/kgw): no iterate goes there
            F[k] = aw - 1.0 + 0.017 * msum
            S[k] = 1.0
            if want_jac:
                _msum_jac(J, k, 0.017, LN10, m, tab, dlg, ex_k, iI)
                J[k, iw] += aw * LN10
        elif K == AQ_AWPHI:
            # log10 a(H2O) = -phi sum m / (55.50837 ln10), phi / 55.50837 held (val): the activity model's
            # water (SIT, Pitzer), as PHREEQC's AW = exp(-OSUM COSMOT / 55.50837)
            c = val[k]
            if strict and c * msum > 3.0:
                return False  # a(H2O) < 0.05: no water
            F[k] = v[iw] + c * msum / LN10
            S[k] = 1.0
            if want_jac:
                _msum_jac(J, k, c, 1.0, m, tab, dlg, ex_k, iI)
                J[k, iw] += 1.0
        elif K == AQ_IONIC:
            Ic = 0.5 * z2sum
            if not (Ic > 0.0):
                if strict:
                    return False
                F[k] = np.nan
                S[k] = 1.0
                continue
            F[k] = math.log10(Ic) - v[iI]
            S[k] = 1.0
            if want_jac:
                g0 = 0.5 / (Ic * LN10)
                for i in range(ns):
                    mi = m[i]
                    if mi == 0.0 or z[i] == 0.0:
                        continue
                    g = g0 * z[i] * z[i] * mi * LN10
                    for q in range(sp_ptr[i], sp_ptr[i + 1]):
                        J[k, sp_col[q]] += g * sp_val[q]
                    J[k, iI] -= g * dlg[i]
                J[k, iI] -= 1.0
        else:
            return False
    # equilibrium phases: an active phase is held at its target saturation index (its moles
    # dissolved free); an inactive one has its moles fixed (used up, not present, or at a bound)
    gas_k = tab[35]
    ngas = 0.0  # moles in a fixed-pressure gas phase (its components' slots: -v, see below)
    for p in range(npp):
        if gas_k[p] == GAS_FIXED_P and ph_act[p] != 0:
            ngas -= v[ip + p]
    for p in range(npp):
        r = ip + p
        S[r] = 1.0
        if ph_act[p] == 0:
            F[r] = v[r] - ph_fix[p]
            if want_jac:
                J[r, r] = 1.0
            continue
        F[r] = reaction_si(ph_rx[p], tab, la, v, rx_logk) - ph_si[p]
        if want_jac:
            _reaction_row(ph_rx[p], tab, J, r)
        if gas_k[p] != 0:
            # a GAS_PHASE component: its slot holds -n, n its moles in the gas (whose initial moles
            # are in the totals). Fixed volume: SI = log10 n + ph_si, ph_si = log10(Z R T / V) + log10
            # phi; fixed pressure: SI = log10(n / n_gas) + ph_si, ph_si = log10 P + log10 phi, n_gas the
            # moles of the gas (n / n_gas its mole fraction)
            ng = -v[r]
            if not (ng > 0.0) or (gas_k[p] == GAS_FIXED_P and not (ngas > 0.0)):
                if strict:
                    return False
                F[r] = np.nan
                continue
            F[r] -= math.log10(ng)
            if want_jac:
                J[r, r] += 1.0 / (ng * LN10)
            if gas_k[p] == GAS_FIXED_P:
                F[r] += math.log10(ngas)
                if want_jac:
                    for h in range(npp):
                        if gas_k[h] == GAS_FIXED_P and ph_act[h] != 0:
                            J[r, ip + h] -= 1.0 / (ngas * LN10)
    if strict:
        for r in range(nv):
            if not np.isfinite(F[r]):
                return False
    return True
