"""Water properties and activity coefficients for the Python layer (``chemsolve.aqueous.activity``).

The one implementation is in ``kernels.aqueous_eqs`` (the equations of the compiled aqueous model);
these are small compiled entry points to it, so that what a user evaluates is what the model uses.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
import numpy as np
from numba import njit

from .aqueous_activity import model_gammas
from .aqueous_eqs import WP_A, WP_B, WP_RHO, gammas, logk_T, water_props


@njit(cache=True)
def water_density(T, P, aw):
    """Density of pure water [g/cm3] at T [K] and P [atm] (at least the saturation pressure x aw)."""
    wp = np.empty(9)
    water_props(T, P, aw, wp, False)
    return wp[WP_RHO]


@njit(cache=True)
def dh_ab(T, P, aw):
    """Debye-Hueckel A [(kg/mol)^0.5] and B [1/(Angstrom (mol/kg)^0.5)] at T [K], P [atm]."""
    wp = np.empty(9)
    water_props(T, P, aw, wp, False)
    return wp[WP_A], wp[WP_B]


@njit(cache=True)
def log_gamma(kind, z, a, b, I, A, B, out):
    """log10 activity coefficients into ``out`` (WATEQ Debye-Hueckel / Davies / 0.1 I)."""
    d = np.empty(z.shape[0])
    gammas(kind, z, a, b, I, A, B, out, d)


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def logk_at(coef, T, out):
    """log10 K(T) of every row of ``coef`` from its six temperature coefficients."""
    logk_T(coef, T, out)


@njit(cache=True)
def model_log_gamma(am, m, I, T, P, A, out):
    """log10 gamma of a database's activity model (SIT, Pitzer; ``aqueous_activity.model_gammas``) into
    ``out`` from the molalities m, and the osmotic coefficient (returned)."""
    return model_gammas(am, m, I, T, P, A, out)
