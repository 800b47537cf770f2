"""Activity models selected by the database, compiled: SIT (sit.dat), Pitzer (pitzer.dat) and, at the end of
this module, LLNL's B-dot (llnl.dat: ``llnl_gammas``, a function of I alone, used inside Newton).

Both give log10 gamma of every aqueous species from all molalities, and the osmotic coefficient
phi, from which the activity of water is ln a(H2O) = -phi sum m / 55.50837 (the equations as
PHREEQC 3 implements them, read in its sit.cpp ``sit`` and pitzer.cpp ``pitzer``, ``ETHETAS``,
``ETHETA_PARAMS``, ``pitzer_tidy``):

- SIT (specific ion interaction theory; Grenthe, Plyasunov & Spahiu 1997, in Grenthe & Puigdomenech
  (eds.), Modelling in Aquatic Chemistry, OECD/NEA, ch. IX):
  log10 gamma_i = -z_i^2 A sqrt(I) / (1 + 1.5 sqrt(I)) + sum_j eps(i, j) m_j,
  eps at T as ``InteractionParameter.value_at`` (plus PHREEQC's -epsilon1 (x I) and -epsilon2
  (x log10 I) forms), A the Debye-Hueckel A [log10];
- Pitzer (Pitzer 1991, Activity Coefficients in Electrolyte Solutions, 2nd ed., CRC, ch. 3;
  Harvie, Moller & Weare 1984, Geochim. Cosmochim. Acta 48, 723): the Debye-Hueckel term
  F = -A_phi (sqrt(I) / (1 + 1.2 sqrt(I)) + (2 / 1.2) ln(1 + 1.2 sqrt(I))) plus the I-derivatives
  of the B and E-theta terms; B0, B1, B2 (alphas by charge type unless -ALPHAS), C0 (C = C0 /
  (2 sqrt|z_M z_X|)), THETA with the unsymmetric mixing E-theta (Pitzer 1975, by the Chebyshev fit
  of Harvie 1981 that PHREEQC uses), LAMDA, ZETA, PSI, MU, ETA; MacInnes scaling (the mean activity
  coefficient of KCl split equally, gamma_Cl = gamma_+-(KCl)); A_phi = A ln10 / 3 at T (PHREEQC's
  A0) unless the database gives -APHI.

The parameters come packed by ``chemsolve.aqueous.activity_models.pack`` (one tuple ``am``):
ai [model, n species of the model, index of Cl- (MacInnes), MacInnes on, E-theta on, n real species],
z (n,), ptype (np,), pidx (np, 3), pcoef (np, 6), palpha (np,), pln (np, 3), pos (np,),
kcl (3, 7) [flag, a0..a5] of K+ Cl- B0, B1, C0, aphi (7,) [flag, a0..a5]. Species at index >=
ai[5] hold no molality (Cl- kept for MacInnes scaling in a water without chloride).

Nothing allocates, nothing raises.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import (
    ACT_PITZER,
    ACT_SIT,
    P_B0,
    P_B1,
    P_B2,
    P_C0,
    P_EPS1,
    P_EPS2,
    P_ETHETA,
    GAMMA_LLNL,
    GAMMA_LLNL_CO2,
    P_LAMDA,
    P_MU,
    P_THETA,
)

T_REF = 298.15
MIN_TOTAL = 1e-25  # PHREEQC's MIN_TOTAL: below it a species counts as absent in the sums that test it
LN10 = math.log(10.0)
W_MOL = 55.50837  # mol of H2O per kg, as PHREEQC's pitzer.cpp / sit.cpp

# Chebyshev coefficients of the J0 integral of the E-theta terms (Harvie 1981, PhD thesis, UCSD, appendix;
# the same published fit as pitzer.cpp ETHETA_PARAMS): x <= 1, then x > 1
_AK = np.array([
    1.925154014814667, -0.060076477753119, -0.029779077456514, -0.007299499690937, 0.000388260636404,
    0.000636874599598, 0.000036583601823, -0.000045036975204, -0.000004537895710, 0.000002937706971,
    0.000000396566462, -0.000000202099617, -0.000000025267769, 0.000000013522610, 0.000000001229405,
    -0.000000000821969, -0.000000000050847, 0.000000000046333, 0.000000000001943, -0.000000000002563,
    -0.000000000010991,
    0.628023320520852, 0.462762985338493, 0.150044637187895, -0.028796057604906, -0.036552745910311,
    -0.001668087945272, 0.006519840398744, 0.001130378079086, -0.000887171310131, -0.000242107641309,
    0.000087294451594, 0.000034682122751, -0.000004583768938, -0.000003548684306, -0.000000250453880,
    0.000000216991779, 0.000000080779570, 0.000000004558555, -0.000000006944757, -0.000000002849257,
    0.000000000237816,
])


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def param_at(c, T, sit):
    """A parameter at T [K] from its coefficients a0..a5 (PHREEQC's calc_pitz_param / calc_sit_param:
    a0 at 25 C within 0.001 K (0.01 K for SIT); the a5 / T^2 term for Pitzer only)."""
    if abs(T - T_REF) < (0.01 if sit else 0.001):
        return c[0]
    v = c[0] + c[1] * (1.0 / T - 1.0 / T_REF) + c[2] * math.log(T / T_REF) + c[3] * (T - T_REF) \
        + c[4] * (T * T - T_REF * T_REF)
    if not sit:
        v += c[5] * (1.0 / (T * T) - 1.0 / (T_REF * T_REF))
    return v


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _j_integral(x):
    """(J0(x), J0'(x)) by the Chebyshev sums (Clenshaw recurrence) of the published fit."""
    if x <= 1.0:
        p = x ** 0.2
        zz = 4.0 * p - 2.0
        dz = 0.8 * p / 2.0
        o = 0
    else:
        p = x ** -0.1
        zz = (40.0 * p - 22.0) / 9.0
        dz = -4.0 * p / 18.0
        o = 21
    b2 = 0.0
    b1 = _AK[o + 20]  # b_20
    d2 = 0.0
    d1 = 0.0  # d_20
    bk0 = bk2 = dk0 = dk2 = 0.0
    # b_19 = z b_20 + a_19 (b_21 = 0), d_19 = b_20
    b = zz * b1 + _AK[o + 19]
    d = b1
    b2, b1 = b1, b
    d2, d1 = d1, d
    for i in range(18, -1, -1):
        b = zz * b1 - b2 + _AK[o + i]
        d = b1 + zz * d1 - d2
        b2, b1 = b1, b
        d2, d1 = d1, d
        if i == 2:
            bk2, dk2 = b, d
        elif i == 0:
            bk0, dk0 = b, d
    jay = x / 4.0 - 1.0 + 0.5 * (bk0 - bk2)
    jprime = x * 0.25 + dz * (dk0 - dk2)
    return jay, jprime


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def ethetas(zj, zk, I, a0):
    """E-theta and its derivative in I of an unsymmetric pair of charges zj != zk (0, 0 when equal)."""
    if zj == zk or not (I > 0.0):
        return 0.0, 0.0
    xcon = 6.0 * a0 * math.sqrt(I)
    zz = zj * zk
    j_jk, jp_jk = _j_integral(xcon * zz)
    j_jj, jp_jj = _j_integral(xcon * zj * zj)
    j_kk, jp_kk = _j_integral(xcon * zk * zk)
    et = zz * (j_jk - j_jj / 2.0 - j_kk / 2.0) / (4.0 * I)
    etp = zz * (jp_jk - jp_jj / 2.0 - jp_kk / 2.0) / (8.0 * I * I) - et / I
    return et, etp


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _g(y):
    return 2.0 * (1.0 - (1.0 + y) * math.exp(-y)) / (y * y) if y != 0.0 else 0.0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _gp(y):
    return -2.0 * (1.0 - (1.0 + y + y * y / 2.0) * math.exp(-y)) / (y * y) if y != 0.0 else 0.0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def _mol(m, i, nreal):
    return m[i] if i < nreal else 0.0


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def sit_gammas(am, m, I, T, A, lg):
    """SIT: log10 gamma into lg[:n] and the osmotic coefficient (returned)."""
    ai, z, ptype, pidx, pcoef = am[0], am[1], am[2], am[3], am[4]
    n, nreal = ai[1], ai[5]
    osum = 0.0
    for i in range(n):
        lg[i] = 0.0
        mi = _mol(m, i, nreal)
        if mi > MIN_TOTAL:
            osum += mi
    di = math.sqrt(I)
    a0 = A * LN10 / 3.0  # PHREEQC's A0 (the Debye-Hueckel osmotic slope, natural log)
    ag = 3.0 * a0 / LN10
    b = 1.5
    f = -ag * (di / (1.0 + b * di))
    t = 1.0 + b * di
    osmot = -2.0 * ag / (b * b * b) * (t - 2.0 * math.log(t) - 1.0 / t)
    logmu = math.log10(I)
    for q in range(ptype.shape[0]):
        i0, i1 = pidx[q, 0], pidx[q, 1]
        m0, m1 = _mol(m, i0, nreal), _mol(m, i1, nreal)
        if m0 <= MIN_TOTAL:
            m0 = 0.0
        if m1 <= MIN_TOTAL:
            m1 = 0.0
        p = param_at(pcoef[q], T, True)
        k = ptype[q]
        if k == P_EPS1:
            p *= I
        elif k == P_EPS2:
            p *= logmu
        lg[i0] += m1 * p
        lg[i1] += m0 * p
        if z[i0] == 0.0 and z[i1] == 0.0:
            osmot += m0 * m1 * p / 2.0
        else:
            osmot += m0 * m1 * p
    for i in range(n):
        lg[i] += z[i] * z[i] * f
    if not (osum > 0.0):
        return 1.0
    return 1.0 + osmot * LN10 / osum


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def pitzer_gammas(am, m, I, T, P, A, lg):
    """Pitzer: log10 gamma into lg[:n] and the osmotic coefficient (returned)."""
    ai, z, ptype, pidx, pcoef, palpha, pln, pos, kcl, aphi = am[0], am[1], am[2], am[3], am[4], am[5], am[6], \
        am[7], am[8], am[9]
    n, ic, icon, use_et, nreal = ai[1], ai[2], ai[3], ai[4], ai[5]
    a0 = param_at(aphi[1:], T, False) if aphi[0] != 0.0 else A * LN10 / 3.0
    xx = 0.0
    osum = 0.0
    for i in range(n):
        lg[i] = 0.0
        mi = _mol(m, i, nreal)
        xx += mi * abs(z[i])
        osum += mi
    bigz = xx
    di = math.sqrt(I)
    b = 1.2
    f = -a0 * (di / (1.0 + b * di) + 2.0 * math.log(1.0 + b * di) / b)
    f1 = f
    f2 = f
    if P > 1.0:  # PHREEQC's pressure correction of b for monovalent and divalent ions
        pap = (7e-5 + 1.93e-9 * (T - 250.0) ** 2) * P
        b1 = b - (0.2 if pap > 0.2 else pap)
        if T > 263.0:
            pap = (9.65e-10 * (T - 263.0) ** 2.773) * P ** 0.623
        b2 = b - (0.2 if pap > 0.2 else pap)
        if b1 != 0.0:
            f1 = -a0 * (di / (1.0 + b1 * di) + 2.0 * math.log(1.0 + b1 * di) / b1)
        if b2 != 0.0:
            f2 = -a0 * (di / (1.0 + b2 * di) + 2.0 * math.log(1.0 + b2 * di) / b2)
    x2 = 2.0 * di
    xxx = (1.0 - (1.0 + x2 - x2 * x2 * 0.5) * math.exp(-x2)) / (x2 * x2)
    gamclm = f1
    if kcl[0, 0] != 0.0:
        gamclm += I * 2.0 * param_at(kcl[0, 1:], T, False)
    if kcl[1, 0] != 0.0:
        gamclm += I * 2.0 * param_at(kcl[1, 1:], T, False) * xxx
    if kcl[2, 0] != 0.0:
        gamclm += 1.5 * param_at(kcl[2, 1:], T, False) * I * I
    csum = 0.0
    osmot = -a0 * I ** 1.5 / (1.0 + b * di)
    for q in range(ptype.shape[0]):
        i0, i1 = pidx[q, 0], pidx[q, 1]
        m0, m1 = _mol(m, i0, nreal), _mol(m, i1, nreal)
        k = ptype[q]
        fv = 0.0
        if k == P_ETHETA:
            if use_et == 0:
                continue
            et, etp = ethetas(z[i0], z[i1], I, a0)
            fv = m0 * m1 * etp
            lg[i0] += 2.0 * m1 * et
            lg[i1] += 2.0 * m0 * et
            osmot += m0 * m1 * (et + I * etp)
            f += fv
            f1 += fv
            f2 += fv
            continue
        p = param_at(pcoef[q], T, False)
        if k == P_B0:
            lg[i0] += m1 * 2.0 * p
            lg[i1] += m0 * 2.0 * p
            osmot += m0 * m1 * p
        elif k == P_B1 or k == P_B2:
            if p != 0.0:
                y = palpha[q] * di
                fv = m0 * m1 * p * _gp(y) / I
                gy = _g(y)
                lg[i0] += m1 * 2.0 * p * gy
                lg[i1] += m0 * 2.0 * p * gy
                osmot += m0 * m1 * p * math.exp(-y)
        elif k == P_C0:
            c = p / (2.0 * math.sqrt(abs(z[i0] * z[i1])))
            csum += m0 * m1 * c
            lg[i0] += m1 * bigz * c
            lg[i1] += m0 * bigz * c
            osmot += m0 * m1 * bigz * c
        elif k == P_THETA:
            lg[i0] += 2.0 * m1 * p
            lg[i1] += 2.0 * m0 * p
            osmot += m0 * m1 * p
        elif k == P_LAMDA:
            lg[i0] += m1 * p * pln[q, 0]
            lg[i1] += m0 * p * pln[q, 1]
            osmot += m0 * m1 * p * pos[q]
        else:  # three species: ZETA, PSI, ETA, MU (the third must be present, as PHREEQC's IPRSNT)
            i2 = pidx[q, 2]
            m2 = _mol(m, i2, nreal)
            if not (m2 > MIN_TOTAL):
                continue
            if k == P_MU:
                lg[i0] += m1 * m2 * p * pln[q, 0]
                lg[i1] += m0 * m2 * p * pln[q, 1]
                lg[i2] += m0 * m1 * p * pln[q, 2]
                osmot += m0 * m1 * m2 * p * pos[q]
            else:
                lg[i0] += m1 * m2 * p
                lg[i1] += m0 * m2 * p
                lg[i2] += m0 * m1 * p
                osmot += m0 * m1 * m2 * p
        f += fv
        f1 += fv
        f2 += fv
    for i in range(n):
        zi = abs(z[i])
        if zi == 0.0:
            continue
        fz = f1 if zi == 1.0 else (f2 if zi == 2.0 else f)
        lg[i] += zi * zi * fz + zi * csum
    if icon != 0 and ic >= 0:
        phimac = lg[ic] - gamclm
        for i in range(n):
            lg[i] += z[i] * phimac
    for i in range(n):
        lg[i] /= LN10
    if not (osum > 0.0):
        return 1.0
    return 1.0 + 2.0 * osmot / osum


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def model_gammas(am, m, I, T, P, A, lg):
    """log10 gamma of the model's species into lg (the first ai[1] entries) and the osmotic
    coefficient phi (returned; ln a(H2O) = -phi sum m / 55.50837), for the model am[0][0]; NaN for no
    model or I <= 0."""
    code = am[0][0]
    if not (I > 0.0):
        return np.nan
    if code == ACT_SIT:
        return sit_gammas(am, m, I, T, A, lg)
    if code == ACT_PITZER:
        return pitzer_gammas(am, m, I, T, P, A, lg)
    return np.nan


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
def llnl_gammas(am, gk, ga, T, I, A, B, lg, dlg):
    """LLNL's B-dot model (PHREEQC's model.cpp calc_gammas, cases 7 and 8, as 3.8.6): A, B and Bdot linearly
    interpolated in the table of LLNL_AQUEOUS_MODEL_PARAMETERS at T (A, B of the water instead when the
    database says -use_phreeqc_dha_dhb); log10 gamma and d(log10 gamma)/d(log10 I) of the species of rule
    GAMMA_LLNL (-llnl_gamma a: charged -A z^2 sqrt(I) / (1 + a B sqrt(I)) + Bdot I, neutral 0) and
    GAMMA_LLNL_CO2 (((c0 + c1 T + c2 / T) I - (c3 + c4 T) I / (I + 1)) / ln 10, Drummond 1981). Other species
    are left as they are. Outside the table's temperatures (PHREEQC stops there): NaN."""
    ai, z, tbl, co2 = am[0], am[1], am[4], am[9]
    n = tbl.shape[0]
    tc = T - 273.15
    if not (tbl[0, 0] <= tc <= tbl[n - 1, 0]):
        for i in range(gk.shape[0]):
            if gk[i] == GAMMA_LLNL or gk[i] == GAMMA_LLNL_CO2:
                lg[i] = np.nan
        return
    ifirst = 0
    ilast = n - 1
    for i in range(n):
        if tc >= tbl[i, 0]:
            ifirst = i
        if tc <= tbl[i, 0]:
            ilast = i
            break
    f = 1.0 if ilast == ifirst else (tc - tbl[ifirst, 0]) / (tbl[ilast, 0] - tbl[ifirst, 0])
    if ai[3] != 0:
        a, b = A, B
    else:
        a = (1.0 - f) * tbl[ifirst, 1] + f * tbl[ilast, 1]
        b = (1.0 - f) * tbl[ifirst, 2] + f * tbl[ilast, 2]
    bdot = (1.0 - f) * tbl[ifirst, 3] + f * tbl[ilast, 3]
    mu = I if I > 0.0 else 1e-10
    muhalf = math.sqrt(mu)
    c1 = co2[1] + co2[2] * T + co2[3] / T
    c2 = co2[4] + co2[5] * T
    lco2 = (c1 * mu - c2 * (mu / (mu + 1.0))) / LN10
    dco2 = (c1 - c2 / ((mu + 1.0) * (mu + 1.0))) / LN10
    for i in range(gk.shape[0]):
        if gk[i] == GAMMA_LLNL:
            zi = z[i]
            if zi == 0.0:
                lg[i] = 0.0
                dlg[i] = 0.0
                continue
            den = 1.0 + ga[i] * b * muhalf
            lg[i] = -a * muhalf * zi * zi / den + bdot * mu
            d = -a * zi * zi / (2.0 * muhalf * den * den) + bdot
            dlg[i] = d * mu * LN10
        elif gk[i] == GAMMA_LLNL_CO2:
            lg[i] = lco2
            dlg[i] = dco2 * mu * LN10
