"""The certificate of a flash result (DESIGN.md section 3): every returned state is re-checked here from
its T, P, feed, phase fraction and compositions alone, with code that shares nothing with the solver
(``flash_eos``, ``flash_tp``, ``flash_sat``): its own EOS evaluation, its own cubic-root finder, its own
tangent-plane minimisation.

- EOS: ln phi_i = dF/dn_i - ln Z from the reduced residual Helmholtz energy
  F = -ln(1 - b/V) - a f(V, b) / T, f = ln((V + d1 b)/(V + d2 b)) / (R b (d1 - d2)) (Michelsen & Mollerup
  2007, chapter 3) — the same function as the solver's closed form in Z, written in volume;
- roots: the stationary points of the cubic in Z split it into monotone pieces; each physical root is
  found by bisection-safeguarded Newton inside its piece (the solver uses Cardano's and the
  trigonometric closed forms); of the roots with dp/dZ > 0 above B, the one of lowest G^r;
- stability: the tangent-plane distance tm(W) = 1 + sum W_i (ln W_i + ln phi_i(w) - d_i - 1) of trial
  phases from the reference phase (the feed of a one-phase answer, the liquid of a two-phase one — the
  tangent plane of both phases is the same at equal fugacities) is minimised by successive
  substitution from Wilson's vapour- and liquid-like trials and from every pure component (Michelsen
  1982a); a minimum below -TPD_TOL refutes the state.

Checks (worst value per row, with the index of the component or trial it belongs to):
  CK_BALANCE  max_i |z_i - (1 - beta) x_i - beta y_i|, and |sum x - 1|, |sum y - 1|, negative fractions
  CK_FUGACITY max_i |ln(x_i phi_i^L) - ln(y_i phi_i^V)| over present components (two-phase answers)
  CK_RR       |sum_i z_i (K_i - 1) / (1 + beta (K_i - 1))| with K = y / x
  CK_ROOT     max over present phases of |Z_reported - Z| / Z for the nearest mechanically stable root
              Z, and of G^r(Z) - min G^r over the stable roots [RT]: the phase is on the stable root of
              lowest Gibbs energy (equal within 1e-9 is accepted: a pure component at saturation)
  CK_STABILITY max(0, -min tm) over the trials (NaN when a trial did not settle)
  CK_SPEC     the held quantity: |H - H_spec| / max(|H_spec|, R T) or the same for S (/ max(|S|, R)),
              |beta - VF_spec| for vapour-fraction flashes, 0 for (T, P)
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import math

import numpy as np
from numba import njit

from .codes import CONVERGED
from .flash_layout import (
    C_AC,
    C_B,
    C_CP0,
    C_M,
    C_OMEGA,
    C_PC,
    C_SHIFT,
    C_TC,
    E_D1,
    E_D2,
    P_REF,
    ST_BETA,
    ST_PHASES,
    ST_ZL,
    ST_ZV,
    T_REF,
)

_R = 8.314462618  # [J/mol/K]

CK_BALANCE = 0
CK_FUGACITY = 1
CK_RR = 2
CK_ROOT = 3
CK_STABILITY = 4
CK_SPEC = 5
N_CK = 6

# spec kinds (also chemsolve.flash's)
SPEC_TP = 0
SPEC_PH = 1
SPEC_PS = 2
SPEC_TVF = 3
SPEC_PVF = 4

TPD_TOL = 1e-8  # the state is refuted by a trial with tm < -TPD_TOL (see chemsolve.flash.certificate)
_TRIAL_MAX_ITER = 3000
_TRIAL_TOL = 1e-8  # max |d ln W| of a settled trial: tm is then exact to ~1e-16 x curvature
# A trial that comes within sum w (ln w - ln ref)^2 < _NEAR (ln w within ~1e-4) of a known zero-tm point (the
# tested phase, or the other phase of a split) with tm >= -TPD_TOL has entered that point's basin: every
# substitution step lowers tm and the point is a minimum with tm = 0, so the trial cannot end below it.
_NEAR = 1e-8

# Flags and small integers passed to other kernels are read from these arrays, so that numba types them
# as runtime int64 / bool: a literal argument (True, 0, ROOT_MIN_G) would compile one more
# specialisation of the callee per distinct value.
_K = np.arange(8, dtype=np.int64)
_B = np.array([False, True])


@njit(cache=True, error_model="numpy")
def _aij(T, comp, kij, a, da):
    """a_ij (1 - k_ij) sqrt(a_i a_j) and its T derivative, from a_i = ac_i (1 + m_i (1 - sqrt(T/Tc_i)))^2."""
    n = comp.shape[1]
    for i in range(n):
        for j in range(n):
            ai = comp[C_AC, i] * (1.0 + comp[C_M, i] * (1.0 - math.sqrt(T / comp[C_TC, i]))) ** 2
            aj = comp[C_AC, j] * (1.0 + comp[C_M, j] * (1.0 - math.sqrt(T / comp[C_TC, j]))) ** 2
            # d a_i / dT = -ac_i m_i (1 + m_i (1 - sqrt(Tr))) / sqrt(T Tc)
            dai = -comp[C_AC, i] * comp[C_M, i] * (1.0 + comp[C_M, i] * (1.0 - math.sqrt(T / comp[C_TC, i]))) \
                / math.sqrt(T * comp[C_TC, i])
            daj = -comp[C_AC, j] * comp[C_M, j] * (1.0 + comp[C_M, j] * (1.0 - math.sqrt(T / comp[C_TC, j]))) \
                / math.sqrt(T * comp[C_TC, j])
            s = math.sqrt(ai * aj)
            a[i, j] = (1.0 - kij[i, j]) * s
            da[i, j] = (1.0 - kij[i, j]) * 0.5 * (dai * aj + ai * daj) / s


@njit(cache=True, error_model="numpy")
def _poly(z, c2, c1, c0):
    return ((z + c2) * z + c1) * z + c0


@njit(cache=True, error_model="numpy")
def _root_in(lo, hi, c2, c1, c0):
    """The root of the cubic in [lo, hi] where it changes sign (increasing from p(lo) <= 0 to p(hi) >= 0):
    Newton steps kept inside a shrinking bracket, bisection when a step leaves it."""
    z = 0.5 * (lo + hi)
    for _ in range(200):
        p = _poly(z, c2, c1, c0)
        if p == 0.0:
            return z
        if p < 0.0:
            lo = z
        else:
            hi = z
        d = (3.0 * z + 2.0 * c2) * z + c1
        nz = z - p / d if d > 0.0 else 0.5 * (lo + hi)
        if not (nz > lo and nz < hi):
            nz = 0.5 * (lo + hi)
        if abs(nz - z) <= 4e-16 * abs(z) or hi - lo <= 4e-16 * abs(z):
            return nz
        z = nz
    return z


@njit(cache=True, error_model="numpy")
def _stable_roots(A, B, d1, d2):
    """(count, low, high): the roots Z > B of the EOS cubic with dp/dZ > 0 (mechanically stable)."""
    u = d1 + d2
    w = d1 * d2
    c2 = (u - 1.0) * B - 1.0
    c1 = A + (w - u) * B * B - u * B
    c0 = -(A * B + w * B * B * (1.0 + B))
    big = 2.0 + abs(c2) + abs(c1) + abs(c0)  # Cauchy's bound on the roots
    disc = c2 * c2 - 3.0 * c1
    lo = B * (1.0 + 1e-15)
    if disc <= 0.0:  # monotone increasing
        if _poly(lo, c2, c1, c0) >= 0.0:
            return 0, np.nan, np.nan
        r = _root_in(lo, big, c2, c1, c0)
        return 1, r, r
    sq = math.sqrt(disc)
    zm = (-c2 - sq) / 3.0  # local maximum
    zp = (-c2 + sq) / 3.0  # local minimum
    low = np.nan
    high = np.nan
    cnt = 0
    # increasing piece left of the local maximum, above B
    if zm > lo and _poly(lo, c2, c1, c0) < 0.0 and _poly(zm, c2, c1, c0) >= 0.0:
        low = _root_in(lo, zm, c2, c1, c0)
        cnt += 1
    # increasing piece right of the local minimum
    start = max(zp, lo)
    if _poly(start, c2, c1, c0) <= 0.0:
        high = _root_in(start, big, c2, c1, c0)
        cnt += 1
    if cnt == 0:
        return 0, np.nan, np.nan
    if cnt == 1:
        r = low if math.isfinite(low) else high
        return 1, r, r
    return 2, low, high


@njit(cache=True, error_model="numpy")
def _lnphi_f(x, T, P, a, comp, eosp, out, zrep):
    """ln phi_i (Helmholtz route) of composition x. The root: with zrep NaN, the mechanically stable root of
    lowest G^r; else the stable root closest to the reported zrep. Returns (Z, |Z - zrep| / Z, G^r(Z) -
    min G^r over the stable roots [RT per mol]); Z NaN when the cubic has no stable root."""
    n = x.shape[0]
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    # D_i = dD/dn_i = 2 sum_j x_j a_ij kept in ``out`` until ln phi replaces it; D = sum_i x_i D_i / 2
    D = 0.0
    b = 0.0
    for i in range(n):
        b += x[i] * comp[C_B, i]
        Di = 0.0
        for j in range(n):
            Di += 2.0 * x[j] * a[i, j]
        out[i] = Di
        D += 0.5 * x[i] * Di
    rt = _R * T
    cnt, zl, zv = _stable_roots(D * P / (rt * rt), b * P / rt, d1, d2)
    if cnt == 0:
        for i in range(n):
            out[i] = np.nan
        return np.nan, np.nan, np.nan
    # G^r / RT = F + Z - 1 - ln Z with F = -ln(1 - b/V) - D f / T, of each root
    gl = 0.0
    gv = 0.0
    for k in range(cnt):
        zz = zl if k == 0 else zv
        V = zz * rt / P
        f = math.log((V + d1 * b) / (V + d2 * b)) / (_R * b * (d1 - d2))
        g = -math.log(1.0 - b / V) - D * f / T + zz - 1.0 - math.log(zz)
        if k == 0:
            gl = g
        else:
            gv = g
    if cnt == 1:
        Z = zl
        gex = 0.0
    elif math.isfinite(zrep):
        use_l = abs(zrep - zl) <= abs(zrep - zv)
        Z = zl if use_l else zv
        gex = (gl - min(gl, gv)) if use_l else (gv - min(gl, gv))
    else:
        Z = zl if gl <= gv else zv
        gex = 0.0
    dist = abs(Z - zrep) / Z if math.isfinite(zrep) else 0.0
    V = Z * rt / P
    f = math.log((V + d1 * b) / (V + d2 * b)) / (_R * b * (d1 - d2))
    fV = -1.0 / (_R * (V + d1 * b) * (V + d2 * b))
    fB = -(f + V * fV) / b
    Fn = -math.log(1.0 - b / V)
    FB = 1.0 / (V - b) - D / T * fB
    FD = -f / T
    lnz = math.log(Z)
    for i in range(n):
        out[i] = Fn + FB * comp[C_B, i] + FD * out[i] - lnz
    return Z, dist, gex


@njit(cache=True, error_model="numpy")
def _h_s(x, T, P, Z, a, da, comp, eosp):
    """Molar H [J/mol] (ideal gas 0 at T_REF) and S [J/mol/K] (ideal gas at T_REF, P_REF, with the mixing
    term) of a phase x on root Z, from the Helmholtz energy: H^r = R T (Z - 1 - T dF/dT),
    S^r = R (ln Z - F - T dF/dT); Peneloux translation moves H by -P sum x_i c_i."""
    n = x.shape[0]
    d1 = eosp[E_D1]
    d2 = eosp[E_D2]
    D = 0.0
    DT = 0.0
    b = 0.0
    c = 0.0
    for i in range(n):
        b += x[i] * comp[C_B, i]
        c += x[i] * comp[C_SHIFT, i]
        for j in range(n):
            D += x[i] * x[j] * a[i, j]
            DT += x[i] * x[j] * da[i, j]
    rt = _R * T
    V = Z * rt / P
    f = math.log((V + d1 * b) / (V + d2 * b)) / (_R * b * (d1 - d2))
    F = -math.log(1.0 - b / V) - D * f / T
    FT = -(DT / T - D / (T * T)) * f
    h = rt * (Z - 1.0 - T * FT) - P * c
    s = _R * (math.log(Z) - F - T * FT)
    lt = math.log(T / T_REF)
    for i in range(n):
        if x[i] <= 0.0:
            continue
        # int_Tref^T Cp dT and int Cp/T dT of Cp/R = sum_k c_k T^k, term by term
        hi = 0.0
        si = comp[C_CP0, i] * lt
        for k in range(5):
            ck = comp[C_CP0 + k, i]
            hi += ck * (T ** (k + 1) - T_REF ** (k + 1)) / (k + 1)
            if k >= 1:
                si += ck * (T ** k - T_REF ** k) / k
        h += x[i] * _R * hi
        s += x[i] * _R * (si - math.log(x[i]))
    s -= _R * math.log(P / P_REF)
    return h, s


@njit(cache=True, error_model="numpy")
def _min_tpd(ref, T, P, a, comp, eosp, other, has_other, wk):
    """The smallest tangent-plane distance found from the trial set, relative to the phase ``ref``;
    ``other`` (when has_other) is a second known zero-tm point (the other phase of a two-phase answer).
    Returns (value, trial index): value = max(0, -tm_min), NaN if a trial did not settle."""
    n = ref.shape[0]
    d = wk[0]
    lnw = wk[1]
    w = wk[2]
    lnp = wk[3]
    prev = wk[4]
    lnref = wk[5]
    lnoth = wk[6]
    plain = wk[11]
    base = wk[12]
    z, _d, _g = _lnphi_f(ref, T, P, a, comp, eosp, d, np.nan)
    if not math.isfinite(z):
        return np.nan, -1
    for i in range(n):
        lnref[i] = math.log(ref[i]) if ref[i] > 0.0 else -np.inf
        d[i] += lnref[i]
        lnoth[i] = math.log(other[i]) if (has_other and other[i] > 0.0) else -np.inf
    worst = 0.0
    where = -1
    for trial in range(2 + n):
        if trial >= 2 and ref[trial - 2] <= 0.0:
            continue
        for i in range(n):
            if ref[i] <= 0.0:
                lnw[i] = -np.inf
            elif trial < 2:
                kw = math.log(comp[C_PC, i] / P) + 5.373 * (1.0 + comp[C_OMEGA, i]) * (1.0 - comp[C_TC, i] / T)
                lnw[i] = lnref[i] + (kw if trial == 0 else -kw)
            else:
                lnw[i] = 0.0 if i == trial - 2 else -745.0
            prev[i] = 0.0
        tm = np.inf
        settled = False
        have_prev = False
        count = 0
        extrapolated = False
        tm_before = np.inf
        tm_last = np.inf  # tm of the last accepted point
        halvings = 0
        it = 0
        while it < _TRIAL_MAX_ITER:
            it += 1
            sw = 0.0
            for i in range(n):
                w[i] = math.exp(lnw[i])
                sw += w[i]
            for i in range(n):
                w[i] = w[i] / sw
            zw, _d, _g = _lnphi_f(w, T, P, a, comp, eosp, lnp, np.nan)
            if not math.isfinite(zw):
                if extrapolated:
                    extrapolated = False
                    for i in range(n):
                        lnw[i] = plain[i]
                    continue
                break
            tm = 1.0
            for i in range(n):
                if w[i] > 0.0:
                    tm += sw * w[i] * (lnw[i] + lnp[i] - d[i] - 1.0)
            if extrapolated:
                extrapolated = False
                if not (tm <= tm_before):  # the extrapolation did not lower tm: the plain step instead
                    for i in range(n):
                        lnw[i] = plain[i]
                    have_prev = False
                    continue
            elif tm > tm_last + 1e-13 * (1.0 + abs(tm_last)):
                # substitution lowers tm on a smooth surface; where the trial's lowest-G root switches it
                # need not, and plain substitution can cycle: halve the step back towards the last point
                if halvings < 40:
                    halvings += 1
                    for i in range(n):
                        if ref[i] > 0.0:
                            lnw[i] = base[i] + 0.5 * (lnw[i] - base[i])
                    have_prev = False
                    continue
                # no lower point along the step: the last point is where the descent ends
                tm = tm_last
                settled = True
                break
            halvings = 0
            tm_last = tm
            if tm < -TPD_TOL:
                settled = True
                break
            # distance to the known zero-tm points
            dr = 0.0
            do = 0.0
            for i in range(n):
                if w[i] > 0.0 and ref[i] > 0.0:
                    e = math.log(w[i]) - lnref[i]
                    dr += w[i] * e * e
                    if has_other:
                        e2 = math.log(w[i]) - lnoth[i]
                        do += w[i] * e2 * e2
            if dr < _NEAR or (has_other and do < _NEAR):
                settled = True
                break
            dmax = 0.0
            num = 0.0
            den = 0.0
            for i in range(n):
                base[i] = lnw[i]
                if ref[i] > 0.0:
                    s = d[i] - lnp[i] - lnw[i]
                    num += s * s
                    den += s * prev[i]
                    dmax = max(dmax, abs(s))
                    lnw[i] += s
                    prev[i] = s
            if dmax <= _TRIAL_TOL:
                settled = True
                break
            count += 1
            # dominant-eigenvalue extrapolation every 5th step (Crowe & Nishio 1975), kept only when it
            # lowers tm (a slow approach to a stationary point has lambda close to 1: up to 1000 steps)
            if have_prev and count >= 5 and den > 0.0:
                lam = num / den
                if lam > 0.0 and lam < 1.0:
                    fac = min(lam / (1.0 - lam), 1000.0)
                    for i in range(n):
                        plain[i] = lnw[i]
                        if ref[i] > 0.0:
                            lnw[i] += fac * prev[i]
                    extrapolated = True
                    tm_before = tm
                    count = 0
            have_prev = True
        if not settled:
            return np.nan, trial
        if tm < 0.0 and -tm > worst:
            worst = -tm
            where = trial
    return worst, where


@njit(cache=True, error_model="numpy")
def certify_row(spec, target, T, P, z, x, y, st, comp, kij, eosp, a, da, wk, vals, where):
    """Fill vals (N_CK,) and where (N_CK,) for one answer (see the module doc)."""
    n = z.shape[0]
    for k in range(N_CK):
        vals[k] = 0.0
        where[k] = -1
    _aij(T, comp, kij, a, da)
    beta = st[ST_BETA]
    two = st[ST_PHASES] == 2.0 or (beta < 0.0 or beta > 1.0)  # a negative-flash answer has two phases
    sz = 0.0
    for i in range(n):
        sz += z[i]
    # material balance and fractions
    mb = 0.0
    wmb = -1
    sx = 0.0
    sy = 0.0
    for i in range(n):
        zi = z[i] / sz
        if two:
            r = abs(zi - (1.0 - beta) * x[i] - beta * y[i])
            sx += x[i]
            sy += y[i]
            if x[i] < 0.0 or y[i] < 0.0:
                r = max(r, abs(min(x[i], y[i])))
        else:
            ph = x[i] if math.isfinite(x[i]) else y[i]
            r = abs(zi - ph)
        if not (r <= mb):
            mb = r
            wmb = i
    if two:
        e = max(abs(sx - 1.0), abs(sy - 1.0))
        if not (e <= mb):
            mb = e
            wmb = -1
    vals[CK_BALANCE] = mb
    where[CK_BALANCE] = wmb
    lnl = wk[7]
    lnv = wk[8]
    zl = np.nan
    zv = np.nan
    if two:
        # each phase on the stable root nearest to its reported Z; the root check asks that this root is
        # the reported one and of lowest Gibbs energy (to 1e-9 relative / RT)
        zl, dl, gxl = _lnphi_f(x, T, P, a, comp, eosp, lnl, st[ST_ZL])
        zv, dv_, gxv = _lnphi_f(y, T, P, a, comp, eosp, lnv, st[ST_ZV])
        fug = 0.0
        wf = -1
        rr = 0.0
        for i in range(n):
            if z[i] > 0.0:
                dv = abs(math.log(x[i]) + lnl[i] - math.log(y[i]) - lnv[i])
                if not (dv <= fug):
                    fug = dv
                    wf = i
                K = y[i] / x[i]
                rr += z[i] / sz * (K - 1.0) / (1.0 + beta * (K - 1.0))
        vals[CK_FUGACITY] = fug
        where[CK_FUGACITY] = wf
        vals[CK_RR] = abs(rr)
        el = max(dl, gxl)
        ev = max(dv_, gxv)
        vals[CK_ROOT] = max(el, ev)
        where[CK_ROOT] = 0 if el >= ev else 1
    # the phase whose tangent plane is tested: the feed of a one-phase answer, the liquid of a split
    ref = wk[9]
    oth = wk[10]
    for i in range(n):
        ref[i] = x[i] if two else z[i] / sz
        oth[i] = y[i] if two else 0.0
    if not two:
        zrep = st[ST_ZL] if math.isfinite(st[ST_ZL]) else st[ST_ZV]
        _zr, dr, gxr = _lnphi_f(ref, T, P, a, comp, eosp, lnl, zrep)
        vals[CK_ROOT] = max(dr, gxr)
        where[CK_ROOT] = 0 if math.isfinite(st[ST_ZL]) else 1
    if two and (beta < 0.0 or beta > 1.0):
        # negative flash: the feed itself is the one phase present; test its tangent plane
        for i in range(n):
            ref[i] = z[i] / sz
        v, wi = _min_tpd(ref, T, P, a, comp, eosp, oth, _B[0], wk)
    else:
        v, wi = _min_tpd(ref, T, P, a, comp, eosp, oth, two, wk)
    vals[CK_STABILITY] = v
    where[CK_STABILITY] = wi
    if spec == SPEC_PH or spec == SPEC_PS:
        # the held H or S, recomputed from the phases
        h = 0.0
        s = 0.0
        if two and beta >= 0.0 and beta <= 1.0:
            hl, sl = _h_s(x, T, P, zl, a, da, comp, eosp)
            hv, sv = _h_s(y, T, P, zv, a, da, comp, eosp)
            h = (1.0 - beta) * hl + beta * hv
            s = (1.0 - beta) * sl + beta * sv
        else:
            for i in range(n):
                ref[i] = z[i] / sz
            zz, _d, _g = _lnphi_f(ref, T, P, a, comp, eosp, lnl, np.nan)
            h, s = _h_s(ref, T, P, zz, a, da, comp, eosp)
        if spec == SPEC_PH:
            vals[CK_SPEC] = abs(h - target) / max(abs(target), _R * T)
        else:
            vals[CK_SPEC] = abs(s - target) / max(abs(target), _R)
    elif spec == SPEC_TVF or spec == SPEC_PVF:
        vals[CK_SPEC] = abs(beta - target)
    for k in range(N_CK):
        if not math.isfinite(vals[k]):
            vals[k] = np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def certify_rows(lo, hi, spec, target, T, P, Z, X, Y, st, status, comp, kij, eosp, vals, where, checked):
    """Certify rows lo..hi-1 whose status is CONVERGED (others: checked False, values NaN); the GIL released."""
    n = Z.shape[1]
    a = np.empty((n, n))
    da = np.empty((n, n))
    wk = np.empty((13, n))
    for r in range(lo, hi):
        if status[r] != CONVERGED:
            checked[r] = False
            for k in range(N_CK):
                vals[r, k] = np.nan
                where[r, k] = -1
            continue
        checked[r] = True
        certify_row(spec, target[r], T[r], P[r], Z[r], X[r], Y[r], st[r], comp, kij, eosp, a, da, wk, vals[r],
                    where[r])
