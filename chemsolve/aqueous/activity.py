"""Activity model of PHREEQC's ion-association databases (phreeqc.dat, wateq4f.dat, minteq.v4.dat).

log10 gamma of a species of charge z at ionic strength I [mol/kgw]:
- with ``-gamma a b`` (WATEQ Debye-Hueckel):  -A z^2 sqrt(I) / (1 + B a sqrt(I)) + b I
- charged, no ``-gamma`` (Davies):            -A z^2 (sqrt(I) / (1 + sqrt(I)) - 0.3 I)
- uncharged, no ``-gamma``:                    0.1 I
activity of water: a_w = 1 - 0.017 * sum of solute molalities.
These are the equations of the PHREEQC 3 manual (Parkhurst & Appelo 2013, eqs. 18-20 and 21).

Debye-Hueckel A and B follow PHREEQC's route: the relative permittivity of water from Bradley &
Pitzer (1979, J. Phys. Chem. 83, 1599) and the density of water along saturation from Wagner &
Pruss (2002, JPCRD 31, 387, eq. 2.6) with PHREEQC's pressure polynomial above saturation; the
numerical constants below are those published fits and the physical constants PHREEQC uses
(so that A and B agree with PHREEQC's DH_A and DH_B to 1e-7, checked live in the tests).
"""

from __future__ import annotations

import math

import numpy as np

GAMMA_WATEQ = 0  # -gamma a b given
GAMMA_DAVIES = 1  # charged, no -gamma
GAMMA_NEUTRAL = 2  # uncharged, no -gamma: 0.1 I

_AVOGADRO = 6.02252e23  # as in PHREEQC
_E2_K = 1.671008e-3  # q_e^2 / k_B in esu^2/(erg/K), as in PHREEQC
# Bradley & Pitzer (1979) dielectric constant fit
_BP = (3.4279e2, -5.0866e-3, 9.469e-7, -2.0525, 3.1159e3, -1.8289e2, -8.0325e3, 4.2142e6, 2.1417)
# Wagner & Pruss (2002) eq. 2.6, saturated liquid density
_WP = ((1.99274064, 1 / 3), (1.09965342, 2 / 3), (-0.510839303, 5 / 3), (-1.75493479, 16 / 3),
       (-45.5170352, 43 / 3), (-6.7469445e5, 110 / 3))
# PHREEQC's polynomial fit of d(rho)/dP above the saturation pressure (tc in C, P in atm)
_P_COEF = (
    (5.1880000e-02, -4.1885519e-04, 6.6780748e-06, -3.6648699e-08, 8.3501912e-11),
    (-6.0251348e-06, 3.6696407e-07, -9.2056269e-09, 6.7024182e-11, -1.5947241e-13),
    (-2.2983596e-09, -4.0133819e-10, 1.2619821e-11, -9.8952363e-14, 2.3363281e-16),
    (7.0517647e-11, 6.8566831e-12, -2.2829750e-13, 1.8113313e-15, -4.2475324e-18),
)


def _poly(c: tuple[float, ...], x: float) -> float:
    s = 0.0
    for a in reversed(c):
        s = s * x + a
    return s


def water_density(T: float, P: float = 1.0, aw: float = 1.0) -> float:
    """Density of pure water [g/cm3] at T [K] and P [atm] (never below the saturation pressure,
    which is scaled by the water activity ``aw`` as PHREEQC does)."""
    tc = min(T - 273.15, 350.0)
    Tk = tc + 273.15
    th = 1.0 - Tk / 647.096
    rho_sat = 322.0 * (1.0 + sum(b * th**e for b, e in _WP))
    p0, p1, p2, p3 = (_poly(c, tc) for c in _P_COEF)
    psat = math.exp(11.6702 - 3816.44 / (Tk - 46.13)) * min(aw, 1.0)
    pa = max(P, psat) - (psat - 1e-6)
    return (rho_sat + pa * (p0 + pa * (p1 + pa * (p2 + math.sqrt(pa) * p3)))) / 1e3


def debye_huckel_ab(T: float, P: float = 1.0, aw: float = 1.0) -> tuple[float, float]:
    """Debye-Hueckel A [(kg/mol)^0.5] and B [1/(Angstrom (mol/kg)^0.5)] at T [K], P [atm]."""
    tc = min(T - 273.15, 350.0)
    Tk = tc + 273.15
    u = _BP
    d1000 = u[0] * math.exp(Tk * (u[1] + Tk * u[2]))
    c = u[3] + u[4] / (u[5] + Tk)
    b = u[6] + u[7] / Tk + u[8] * Tk
    eps = d1000 + c * math.log((b + P * 1.01325) / (b + 1e3))
    e2_dkt = _E2_K / (eps * Tk)
    kappa = math.sqrt(8.0 * math.pi * _AVOGADRO * e2_dkt * water_density(T, P, aw) / 1e3)  # 1/cm
    return kappa * e2_dkt / (2.0 * math.log(10.0)), kappa / 1e8


def log_gamma(kind: np.ndarray, z: np.ndarray, a: np.ndarray, b: np.ndarray, I: float, A: float, B: float) -> np.ndarray:
    """log10 activity coefficients of all species (arrays of one entry per species)."""
    sq = math.sqrt(max(I, 0.0))
    z2 = z * z
    wateq = -A * z2 * sq / (1.0 + B * a * sq) + b * I
    davies = -A * z2 * (sq / (1.0 + sq) - 0.3 * I)
    return np.where(kind == GAMMA_WATEQ, wateq, np.where(kind == GAMMA_DAVIES, davies, 0.1 * I))
