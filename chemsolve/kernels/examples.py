"""Bundled example residual: propane combustion equilibrium (Meintjes & Morgan 1990).

The reduced 5-unknown form of K. Meintjes and A. P. Morgan, "Chemical equilibrium systems
as numerical test problems", ACM TOMS 16(2):143-151 (1990), as collected in MINPACK-2
(Averick et al. 1992, routine dcprfj). Equilibrium constants K5..K10 from the paper;
parameters ``p = [R, P]``: R the air/fuel parameter (10 in the paper), P the pressure
(40 in the paper). With the paper's values the physical root is
x = (0.0031141, 34.597925, 0.0650418, 0.8593781, 0.0369519).

Used by ``chemsolve demo`` and by the test and benchmark problem library.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
from collections import namedtuple

import numpy as np
from numba import njit

from .solver import register_builtin

K5 = 0.193
K6 = 2.597e-3
K7 = 3.448e-3
K8 = 1.799e-5
K9 = 2.155e-4
K10 = 3.846e-5

PAPER_PARAMS = np.array([10.0, 40.0])  # R, P of the paper
PAPER_START = np.array([0.005, 0.005, 0.05, 0.5, 0.05])  # MINPACK-2 dcprfj start


@njit(cache=True)
def propane_into(x, p, f):
    """Residual F(x; R, P) of the reduced propane system, written into ``f`` (5,)."""
    R = p[0]
    sp = np.sqrt(p[1])
    R5, R6, R7, R8, R9, R10 = K5, K6 / sp, K7 / sp, K8 / p[1], K9 / sp, K10 / p[1]
    x1, x2, x3, x4, x5 = x[0], x[1], x[2], x[3], x[4]
    f[0] = x1 * x2 + x1 - 3.0 * x5
    f[1] = 2.0 * x1 * x2 + x1 + 2.0 * R10 * x2 * x2 + x2 * x3 * x3 + R7 * x2 * x3 + R9 * x2 * x4 + R8 * x2 - R * x5
    f[2] = 2.0 * x2 * x3 * x3 + R7 * x2 * x3 + 2.0 * R5 * x3 * x3 + R6 * x3 - 8.0 * x5
    f[3] = R9 * x2 * x4 + 2.0 * x4 * x4 - 4.0 * R * x5
    f[4] = (x1 * x2 + x1 + R10 * x2 * x2 + x2 * x3 * x3 + R7 * x2 * x3 + R9 * x2 * x4 + R8 * x2
            + R5 * x3 * x3 + R6 * x3 + x4 * x4 - 1.0)


@njit(cache=True)
def propane(x, p):
    """Residual F(x; R, P) of the reduced propane system, shape (5,)."""
    f = np.empty(5)
    propane_into(x, p, f)
    return f


@njit(cache=True)
def propane_jac_into(x, p, J):
    """Analytic Jacobian dF/dx of ``propane``, written into ``J`` (5, 5)."""
    R = p[0]
    sp = np.sqrt(p[1])
    R5, R6, R7, R8, R9, R10 = K5, K6 / sp, K7 / sp, K8 / p[1], K9 / sp, K10 / p[1]
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    J[:, :] = 0.0
    J[0, 0] = x2 + 1.0
    J[0, 1] = x1
    J[0, 4] = -3.0
    J[1, 0] = 2.0 * x2 + 1.0
    J[1, 1] = 2.0 * x1 + 4.0 * R10 * x2 + x3 * x3 + R7 * x3 + R9 * x4 + R8
    J[1, 2] = 2.0 * x2 * x3 + R7 * x2
    J[1, 3] = R9 * x2
    J[1, 4] = -R
    J[2, 1] = 2.0 * x3 * x3 + R7 * x3
    J[2, 2] = 4.0 * x2 * x3 + R7 * x2 + 4.0 * R5 * x3 + R6
    J[2, 4] = -8.0
    J[3, 1] = R9 * x4
    J[3, 3] = R9 * x2 + 4.0 * x4
    J[3, 4] = -4.0 * R
    J[4, 0] = x2 + 1.0
    J[4, 1] = x1 + 2.0 * R10 * x2 + x3 * x3 + R7 * x3 + R9 * x4 + R8
    J[4, 2] = 2.0 * x2 * x3 + R7 * x2 + 2.0 * R5 * x3 + R6
    J[4, 3] = R9 * x2 + 2.0 * x4


@njit(cache=True)
def propane_jac(x, p):
    """Analytic Jacobian dF/dx of ``propane``, shape (5, 5)."""
    J = np.empty((5, 5))
    propane_jac_into(x, p, J)
    return J


# Built-in markers (see solver.register_builtin): solve_batch called with ``propane`` and
# ``propane_jac`` runs the disk-cached batch kernel with these instead of compiling the solver for
# the two functions in every process (``chemsolve demo`` and engine sweeps of the propane model).
Propane = namedtuple("Propane", ["tag"])
PropaneJac = namedtuple("PropaneJac", ["tag"])
register_builtin(Propane, propane_into, stands_for=propane)
register_builtin(PropaneJac, propane_jac_into, stands_for=propane_jac)
