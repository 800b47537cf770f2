"""NASA polynomials of the gas kernels: cp/R, h/RT, s/R and g/RT of every species at T.

Each species carries up to ``R`` temperature regions of NASA 9-coefficient polynomials (NASA 7
data are stored in the same form with a1 = a2 = 0); below the first region and above the last the
end polynomial is extrapolated, as Cantera does. The certificate (``gas_certificate``) evaluates
the same data with its own code.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

import math

from numba import njit

from .codes import MODE_HP, MODE_SP, MODE_UV
from .borrow import borrow

# Thermo is re-evaluated only when T moved by more than this (relative): the error in g/RT is
# then below (h/RT) * 1e-13 ~ 1e-11, far under every tolerance, and HP/SP/UV solves skip one
# polynomial evaluation of every species in their last iteration.
T_REUSE = 1e-13
# Thermo is carried to first order (``all_thermo``) while T stays within this of its last exact
# evaluation (|ln(T / T_exact)|): g/RT is then off by < |cp/R - h/RT| * 1e-14 / 2 (5e-13 for
# |cp/R - h/RT| = 100), so the state returned, recomputed from pi with such thermo, is an
# equilibrium of the exact thermo far below what the certificate allows (1e-11 RT beside tol).
# (At 1e-6 the carried g/RT could be 5e-11 off: an HP state then balanced H only to 3e-12.)
TAYLOR_LNT = 1e-7


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def powers(T):
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


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s):
    """cp/R, h/RT, s/R of species j at T (NASA-9 form, in place; pw = powers(T))."""
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
    pw = powers(T)
    for j in range(coeffs.shape[0]):
        species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def all_thermo(T, T_done, T_exact, sy, th, cth):
    """cp/R, h/RT, s/R and g/RT of the gas (th) and the condensed species (cth) at T (``Thermo``
    tuples, in place) from the system's polynomials (sy, ``GasSystem``).

    Returns (T, T of the last exact evaluation). When T is within |ln(T/T_exact)| < TAYLOR_LNT
    of the last exact evaluation, the values are carried from T_done (where the arrays hold
    them) to T to first order: d(h/RT)/dlnT = cp/R - h/RT, d(s/R)/dlnT = cp/R,
    d(g/RT)/dlnT = -h/RT. The neglected terms stay below ~|cp/R - h/RT| * TAYLOR_LNT**2 / 2 in
    g/RT however many carries are chained."""
    sy = borrow(sy)
    th = borrow(th)
    cth = borrow(cth)
    cp = th.cp
    h = th.h
    s = th.s
    g = th.g
    ccp = cth.cp
    ch = cth.h
    cs = cth.s
    cg = cth.g
    ng = sy.coeffs.shape[0]
    ncs = sy.ccoeffs.shape[0]
    if T_done > 0.0 and T_exact > 0.0 and abs(math.log(T / T_exact)) < TAYLOR_LNT:
        dl = math.log(T / T_done)
        for j in range(ng):
            g[j] -= h[j] * dl
            h[j] += (cp[j] - h[j]) * dl
            s[j] += cp[j] * dl
        for c in range(ncs):
            cg[c] -= ch[c] * dl
            ch[c] += (ccp[c] - ch[c]) * dl
            cs[c] += ccp[c] * dl
        return T, T_exact
    thermo(T, sy.coeffs, sy.bounds, sy.nreg, cp, h, s)
    for j in range(ng):
        g[j] = h[j] - s[j]
    if ncs > 0:
        thermo(T, sy.ccoeffs, sy.cbounds, sy.cnreg, ccp, ch, cs)
        for c in range(ncs):
            cg[c] = ch[c] - cs[c]
    return T, T


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def feed_properties(mode, x, T, P, coeffs, bounds, nreg, lnpref, cp, h, s):
    """The property the equilibrium holds fixed, for 1 mol of gas feed of mole fractions x.

    HP: H/R [K]; UV: U/R [K]; SP: S/R [-]; TP, TV: 0. Overwrites cp, h, s of the feed's species.
    """
    out = 0.0
    lnP = math.log(P)
    pw = powers(T)
    for j in range(x.shape[0]):
        xj = x[j]
        if xj <= 0.0:
            continue
        species_thermo(j, T, pw, coeffs, bounds, nreg, cp, h, s)
        if mode == MODE_HP:
            out += xj * h[j] * T
        elif mode == MODE_UV:
            out += xj * (h[j] - 1.0) * T
        elif mode == MODE_SP:
            out += xj * (s[j] - math.log(xj) - (lnP - lnpref[j]))
    return out
