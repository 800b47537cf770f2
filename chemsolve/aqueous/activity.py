"""Activity model of PHREEQC's ion-association databases (phreeqc.dat, wateq4f.dat, minteq.v4.dat).

log10 gamma of a species of charge z at ionic strength I [mol/kgw]:
- with ``-gamma a b`` (WATEQ Debye-Hueckel):  -A z^2 sqrt(I) / (1 + B a sqrt(I)) + b I
- charged, no ``-gamma`` (Davies):            -A z^2 (sqrt(I) / (1 + sqrt(I)) - 0.3 I)
- uncharged, no ``-gamma``:                    0.1 I
activity of water: a_w = 1 - 0.017 * sum of solute molalities.
These are the equations of the PHREEQC 3 manual (Parkhurst & Appelo 2013, eqs. 18-20 and 21).

Debye-Hueckel A and B follow PHREEQC's route: the relative permittivity of water from Bradley &
Pitzer (1979, J. Phys. Chem. 83, 1599) and the density of water along saturation from Wagner &
Pruss (2002, JPCRD 31, 387, eq. 2.6) with PHREEQC's pressure polynomial above saturation, both at
P or, when higher, the saturation pressure x a(H2O) (PHREEQC 3.8.6); the numerical constants (in
``chemsolve.kernels.aqueous_eqs``, which holds the one implementation, compiled and cached) are
those published fits and the physical constants PHREEQC uses, so that A and B agree with PHREEQC's
DH_A and DH_B to 1e-7, checked live in the tests.
"""

from __future__ import annotations

import numpy as np

from ..kernels.codes import GAMMA_DAVIES, GAMMA_NEUTRAL, GAMMA_WATEQ  # noqa: F401 (re-exported)


def water_density(T: float, P: float = 1.0, aw: float = 1.0) -> float:
    """Density of pure water [g/cm3] at T [K] and P [atm] (never below the saturation pressure,
    which is scaled by the water activity ``aw`` as PHREEQC does)."""
    from ..kernels import aqueous as _k

    return float(_k.water_density(float(T), float(P), float(aw)))


def debye_huckel_ab(T: float, P: float = 1.0, aw: float = 1.0) -> tuple[float, float]:
    """Debye-Hueckel A [(kg/mol)^0.5] and B [1/(Angstrom (mol/kg)^0.5)] at T [K], P [atm]."""
    from ..kernels import aqueous as _k

    A, B = _k.dh_ab(float(T), float(P), float(aw))
    return float(A), float(B)


def log_gamma(kind: np.ndarray, z: np.ndarray, a: np.ndarray, b: np.ndarray,
              I: float, A: float, B: float) -> np.ndarray:
    """log10 activity coefficients of all species (arrays of one entry per species)."""
    from ..kernels import aqueous as _k

    out = np.empty(z.shape[0])
    _k.log_gamma(kind, z, a, b, float(I), float(A), float(B), out)
    return out


def dlog_gamma_dI(kind: np.ndarray, z: np.ndarray, a: np.ndarray, b: np.ndarray,
                  I: float, A: float, B: float) -> np.ndarray:
    """d(log10 gamma)/dI of every species, for the formulation with I inside Newton."""
    sq = np.sqrt(max(I, 1e-300))
    z2 = z * z
    wateq = -A * z2 / (2.0 * sq * (1.0 + B * a * sq) ** 2) + b
    davies = -A * z2 * (1.0 / (2.0 * sq * (1.0 + sq) ** 2) - 0.3)
    return np.where(kind == GAMMA_WATEQ, wateq, np.where(kind == GAMMA_DAVIES, davies, 0.1))
