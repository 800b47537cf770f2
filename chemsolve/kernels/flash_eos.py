"""Cubic equations of state for the flash kernels: Peng-Robinson and Soave-Redlich-Kwong with van der
Waals one-fluid mixing.

The generic two-parameter cubic (Michelsen & Mollerup 2007, "Thermodynamic Models: Fundamentals and
Computational Aspects", 2nd ed., chapter 3)

    P = R T / (v - b) - a(T) / ((v + d1 b) (v + d2 b))

with d1, d2 = 1 + sqrt 2, 1 - sqrt 2 for Peng-Robinson (Peng & Robinson 1976) and 1, 0 for SRK
(Soave 1972). Pure-component parameters a_i(T) = ac_i alpha_i(T), alpha_i = (1 + m_i (1 - sqrt(T/Tc_i)))^2
(the Soave form shared by PR 1976, PR 1978 and SRK; only m_i(omega) differs and is computed in Python,
``chemsolve.flash.eos``). Mixing (van der Waals): a = sum_ij x_i x_j (1 - k_ij) sqrt(a_i a_j),
b = sum_i x_i b_i.

Two routes, both written here:

- ``lnphi``: the closed form of ln phi_i in reduced A = a P / (R T)^2, B = b P / (R T) and Z, used in
  every successive-substitution and stability iteration (the cheap path);
- ``lnphi_derivs``: ln phi_i with its temperature, pressure and mole-number derivatives from the reduced
  residual Helmholtz energy F(n, T, V) = A^r / (R T) (Michelsen & Mollerup 2007, chapter 3, the
  F_n, F_B, F_D decomposition), used to build Newton matrices.

Root choice: of the real roots Z > B of the cubic, the one with the lowest Gibbs energy of the given
composition (Michelsen & Mollerup 2007, section 3.x: "the root with the lowest Gibbs energy is the
stable one"), unless a phase is forced (smallest root: liquid-like, largest: vapour-like).

Nothing here allocates; every array is passed in. Kernels never raise: a state without a physical root
returns NaN, which the callers turn into a status code.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .flash_layout import (
    C_AC,
    C_B,
    C_CP0,
    C_M,
    C_TC,
    E_D1,
    E_D2,
    ROOT_LIQUID,
    ROOT_VAPOUR,
    T_REF,
)

R = 8.314462618  # molar gas constant [J/mol/K] (CODATA 2018), the value used by thermo and Cantera


@njit(cache=True, error_model="numpy")
def t_params(T, comp, kij, aij, daij):
    """Fill aij[i, j] = (1 - k_ij) sqrt(a_i a_j) [Pa m^6/mol^2] and daij = d aij / dT at T [K]."""
    n = comp.shape[1]
    # use daij's diagonal as scratch for sqrt(a_i) and its T-derivative before filling it
    for i in range(n):
        sr = math.sqrt(T / comp[C_TC, i])
        m = comp[C_M, i]
        sac = math.sqrt(comp[C_AC, i])
        f = 1.0 + m * (1.0 - sr)
        aij[i, i] = sac * f  # sqrt(a_i)
        daij[i, i] = -sac * m * sr / (2.0 * T)  # d sqrt(a_i) / dT
    for i in range(n):
        si = aij[i, i]
        dsi = daij[i, i]
        for j in range(i + 1, n):
            sj = aij[j, j]
            dsj = daij[j, j]
            k = 1.0 - kij[i, j]
            aij[i, j] = k * si * sj
            aij[j, i] = aij[i, j]
            daij[i, j] = k * (dsi * sj + si * dsj)
            daij[j, i] = daij[i, j]
    for i in range(n):
        si = aij[i, i]
        dsi = daij[i, i]
        k = 1.0 - kij[i, i]
        aij[i, i] = k * si * si
        daij[i, i] = k * 2.0 * si * dsi


@njit(cache=True, error_model="numpy")
def _polish(z, c2, c1, c0):
    """Two Newton steps on z^3 + c2 z^2 + c1 z + c0 (the closed forms lose digits for close roots)."""
    for _ in range(2):
        f = ((z + c2) * z + c1) * z + c0
        d = (3.0 * z + 2.0 * c2) * z + c1
        if d == 0.0:
            break
        z = z - f / d
    return z


@njit(cache=True, error_model="numpy")
def cubic_roots(A, B, d1, d2):
    """Real roots Z > B of the cubic of the generic EOS at reduced A, B: (count, smallest, largest).

    Cardano for one real root, the trigonometric form for three (each polished by Newton). count is 0
    when no root lies above B (never for A, B > 0, but NaN input gives 0)."""
    u = d1 + d2
    w = d1 * d2
    c2 = (u - 1.0) * B - 1.0
    c1 = A + (w - u) * B * B - u * B
    c0 = -(A * B + w * B * B * (1.0 + B))
    p = c1 - c2 * c2 / 3.0
    q = 2.0 * c2 * c2 * c2 / 27.0 - c2 * c1 / 3.0 + c0
    disc = 0.25 * q * q + p * p * p / 27.0
    shift = -c2 / 3.0
    if disc > 0.0:
        sq = math.sqrt(disc)
        s = -0.5 * q - sq if q > 0.0 else -0.5 * q + sq  # the larger-magnitude term: no cancellation
        uu = np.cbrt(s)
        t = uu - p / (3.0 * uu) if uu != 0.0 else 0.0
        z = _polish(t + shift, c2, c1, c0)
        if z > B:
            return 1, z, z
        return 0, np.nan, np.nan
    if p >= 0.0:  # disc <= 0 with p >= 0 means p = q = 0: a triple root
        z = _polish(shift, c2, c1, c0)
        if z > B:
            return 1, z, z
        return 0, np.nan, np.nan
    r = 2.0 * math.sqrt(-p / 3.0)
    arg = 3.0 * q / (p * r)
    arg = min(1.0, max(-1.0, arg))
    phi = math.acos(arg) / 3.0
    z0 = r * math.cos(phi) + shift  # the largest
    z2 = r * math.cos(phi + 2.0 * math.pi / 3.0) + shift  # the smallest
    z0 = _polish(z0, c2, c1, c0)
    z2 = _polish(z2, c2, c1, c0)
    if z0 <= B or not math.isfinite(z0):
        return 0, np.nan, np.nan
    if z2 > B and z2 < z0:
        return 2, z2, z0
    # the smallest root is below B (unphysical): the middle root may still lie above B but is a
    # mechanically unstable one (dP/dv > 0) and is never a phase
    return 1, z0, z0


@njit(cache=True, error_model="numpy")
def g_res(Z, A, B, d1, d2):
    """Residual Gibbs energy G^r / (R T) of a root Z (composition terms omitted: equal for all roots)."""
    return Z - 1.0 - math.log(Z - B) - A / (B * (d1 - d2)) * math.log((Z + d1 * B) / (Z + d2 * B))


@njit(cache=True, error_model="numpy")
def choose_root(A, B, d1, d2, which):
    """The root of the cubic at A, B for ``which`` (ROOT_MIN_G, ROOT_LIQUID, ROOT_VAPOUR); NaN if none."""
    Z, _lzb, _L = root_logs(A, B, d1, d2, which)
    return Z


@njit(cache=True, error_model="numpy")
def root_logs(A, B, d1, d2, which):
    """(Z, ln(Z - B), ln((Z + d1 B)/(Z + d2 B))) of the root chosen by ``which``; NaNs if none. The two
    logarithms are those of ln phi and of the Gibbs-energy comparison of two roots, computed once."""
    cnt, zl, zv = cubic_roots(A, B, d1, d2)
    if cnt == 0:
        return np.nan, np.nan, np.nan
    if cnt == 1 or which == ROOT_VAPOUR:
        return zv, math.log(zv - B), math.log((zv + d1 * B) / (zv + d2 * B))
    lzl = math.log(zl - B)
    Ll = math.log((zl + d1 * B) / (zl + d2 * B))
    if which == ROOT_LIQUID:
        return zl, lzl, Ll
    lzv = math.log(zv - B)
    Lv = math.log((zv + d1 * B) / (zv + d2 * B))
    c = A / (B * (d1 - d2))
    if zl - lzl - c * Ll < zv - lzv - c * Lv:  # G^r/RT of each root, up to the common -1
        return zl, lzl, Ll
    return zv, lzv, Lv


@njit(cache=True, error_model="numpy")
def mix_ab(x, aij, comp, psi):
    """psi_i = sum_j aij x_j, a = sum x_i psi_i, b = sum x_i b_i; returns (a, b)."""
    n = x.shape[0]
    am = 0.0
    bm = 0.0
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += aij[i, j] * x[j]
        psi[i] = s
        am += x[i] * s
        bm += x[i] * comp[C_B, i]
    return am, bm


@njit(cache=True, error_model="numpy")
def lnphi(x, T, P, aij, comp, eosp, which, psi, out):
    """ln phi_i of a phase of mole fractions x (summing to 1) at T [K], P [Pa] into ``out``; returns Z
    (NaN when the cubic has no physical root). ``which`` selects the root (ROOT_*); psi is (n,) scratch.

    ln phi_i = b_i/b (Z - 1) - ln(Z - B) - A / (B (d1 - d2)) (2 psi_i / a - b_i / b) ln((Z + d1 B)/(Z + d2 B))
    """
    n = x.shape[0]
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    am, bm = mix_ab(x, aij, comp, psi)
    rt = R * T
    A = am * P / (rt * rt)
    B = bm * P / rt
    Z, lzb, L = root_logs(A, B, d1, d2, which)
    if not math.isfinite(Z):
        for i in range(n):
            out[i] = np.nan
        return np.nan
    c = A / (B * (d1 - d2)) * L
    for i in range(n):
        bi = comp[C_B, i] / bm
        out[i] = bi * (Z - 1.0) - lzb - c * (2.0 * psi[i] / am - bi)
    return Z


@njit(cache=True, error_model="numpy")
def phase_g(x, T, P, aij, comp, eosp, which, psi, work):
    """Molar Gibbs energy of mixing of a phase, G/(RT) - sum x_i mu_i^ig(T, P)/(RT) =
    sum x_i (ln x_i + ln phi_i); returns (value, Z). ``work`` is (n,) scratch."""
    Z = lnphi(x, T, P, aij, comp, eosp, which, psi, work)
    g = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            g += x[i] * (math.log(x[i]) + work[i])
    return g, Z


@njit(cache=True, error_model="numpy")
def lnphi_derivs(x, T, P, Z, aij, daij, comp, eosp, psi, lnp, dT, dP, dn):
    """ln phi_i (lnp), d ln phi_i / dT at P, n (dT), d ln phi_i / dP at T, n (dP) and
    d ln phi_i / d n_j at T, P (dn, (n, n), per mole of phase, i.e. at total moles 1) of a phase with
    mole fractions x at T, P on the root Z (chosen by the caller).

    From the reduced residual Helmholtz energy F(n, T, V) = -n g(V, B) - D(T) f(V, B) / T with
    g = ln(1 - B/V), f = ln((V + d1 B)/(V + d2 B)) / (R B (d1 - d2)), B = sum n_i b_i,
    D = sum_ij n_i n_j a_ij (Michelsen & Mollerup 2007, chapter 3):
    ln phi_i = F_i - ln Z; d ln phi_i/dn_j = F_ij + 1/n + P_i P_j / (R T P_V);
    d ln phi_i/dT = F_iT + 1/T - vbar_i P_T / (R T); d ln phi_i/dP = vbar_i / (R T) - 1/P, with
    P_V, P_i, P_T the derivatives of pressure and vbar_i = -P_i / P_V.
    Returns (dP/dV [Pa mol/m^3], dP/dT [Pa/K]) of the phase.
    """
    n = x.shape[0]
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    D, Bm = mix_ab(x, aij, comp, psi)  # n = 1: D = a, B = b
    DT = 0.0
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += daij[i, j] * x[j]
        DT += x[i] * s
        dT[i] = 2.0 * s  # D_iT for now
    rt = R * T
    V = Z * rt / P
    vb = V - Bm
    v1 = V + d1 * Bm
    v2 = V + d2 * Bm
    dd = d1 - d2
    # g and f with their derivatives
    gV = 1.0 / vb - 1.0 / V
    gB = -1.0 / vb
    gBV = 1.0 / (vb * vb)
    gBB = -1.0 / (vb * vb)
    gVV = -1.0 / (vb * vb) + 1.0 / (V * V)
    f = math.log(v1 / v2) / (R * Bm * dd)
    fV = -1.0 / (R * v1 * v2)
    fVV = (1.0 / (v1 * v1 * v2) + 1.0 / (v1 * v2 * v2)) / R
    fB = -(f + V * fV) / Bm
    fBV = -(2.0 * fV + V * fVV) / Bm
    fBB = -(2.0 * fB + V * fBV) / Bm
    DoT = D / T
    # F derivatives (n = 1)
    Fn = -math.log(1.0 - Bm / V)
    FB = -gB - DoT * fB
    FD = -f / T
    FnB = -gB
    FBB = -gBB - DoT * fBB
    FBD = -fB / T
    FVV = -gVV - DoT * fVV
    FnV = -gV
    FBV = -gBV - DoT * fBV
    FDV = -fV / T
    tt = D / (T * T) - DT / T
    FVT = tt * fV
    FBT = tt * fB
    FDT = f / (T * T)
    PV = rt * (-FVV - 1.0 / (V * V))
    PT = P / T - rt * FVT
    lnz = math.log(Z)
    # per-component first derivatives; lnp holds P_i for now, psi the D_i
    for i in range(n):
        Bi = comp[C_B, i]
        Di = 2.0 * psi[i]
        DiT = dT[i]
        Fi = Fn + FB * Bi + FD * Di
        FiT = FBT * Bi + FDT * Di + FD * DiT
        FiV = FnV + FBV * Bi + FDV * Di
        Pi = rt * (-FiV + 1.0 / V)
        vbar = -Pi / PV
        dT[i] = FiT + 1.0 / T - vbar * PT / rt
        dP[i] = vbar / rt - 1.0 / P
        psi[i] = Di
        lnp[i] = Pi  # temporarily
        dn[i, i] = Fi - lnz  # temporarily: ln phi_i on the diagonal
    for i in range(n):
        Bi = comp[C_B, i]
        Di = psi[i]
        Pi = lnp[i]
        for j in range(i, n):
            Bj = comp[C_B, j]
            Dj = psi[j]
            Fij = FnB * (Bi + Bj) + FBD * (Bi * Dj + Bj * Di) + FBB * Bi * Bj + FD * 2.0 * aij[i, j]
            v = Fij + 1.0 + Pi * lnp[j] / (rt * PV)
            if j == i:
                tmp = dn[i, i]
                dn[i, i] = v
                psi[i] = tmp  # ln phi_i parked in psi (D_i of i is no longer needed)
            else:
                dn[i, j] = v
                dn[j, i] = v
    for i in range(n):
        lnp[i] = psi[i]
    return PV, PT


@njit(cache=True, error_model="numpy")
def ideal_h_s(T, comp, x, out2):
    """Ideal-gas enthalpy [J/mol] relative to the components at T_REF and ideal-gas entropy at P_REF
    [J/mol/K] (without the mixing term) of composition x: out2[0] = sum x_i int_Tref^T Cp_i dT,
    out2[1] = sum x_i int_Tref^T Cp_i / T dT. Cp_i/R = cp0 + cp1 T + ... + cp4 T^4."""
    n = x.shape[0]
    h = 0.0
    s = 0.0
    lt = math.log(T / T_REF)
    for i in range(n):
        if x[i] == 0.0:
            continue
        hi = 0.0
        si = comp[C_CP0, i] * lt
        tp = T
        tr = T_REF
        for k in range(5):
            a = comp[C_CP0 + k, i]
            hi += a * (tp - tr) / (k + 1)
            if k > 0:
                si += a * (tp / T - tr / T_REF) / k  # int a T^(k-1) dT = a T^k / k
            tp *= T
            tr *= T_REF
        h += x[i] * hi
        s += x[i] * si
    out2[0] = R * h
    out2[1] = R * s


@njit(cache=True, error_model="numpy")
def departures(x, T, P, Z, aij, daij, comp, eosp, psi):
    """Residual enthalpy H^r [J/mol] and entropy S^r [J/mol/K] (relative to the ideal gas at the same
    T, P) of a phase on root Z:
    H^r = R T (Z - 1) + (T da/dT - a) / (b (d1 - d2)) ln((Z + d1 B)/(Z + d2 B)),
    S^r = R ln(Z - B) + (da/dT) / (b (d1 - d2)) ln((Z + d1 B)/(Z + d2 B))."""
    n = x.shape[0]
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    am, bm = mix_ab(x, aij, comp, psi)
    da = 0.0
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += daij[i, j] * x[j]
        da += x[i] * s
    rt = R * T
    B = bm * P / rt
    L = math.log((Z + d1 * B) / (Z + d2 * B))
    hr = rt * (Z - 1.0) + (T * da - am) / (bm * (d1 - d2)) * L
    sr = R * math.log(Z - B) + da / (bm * (d1 - d2)) * L
    return hr, sr
