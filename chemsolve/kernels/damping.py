"""What each damping code means, written once and read by every solver loop (the engine's
``solver.solve_rows`` and the gas kernel's Newton loop).

A schedule (``chemsolve.damping``) reaches the kernels as a kind code (``codes.DAMP_*``) and a
float vector ``dpar``. A loop asks, at each iteration:

1. ``first_factor``: the damping factor to try first;
2. ``backtracks``: whether a trial step must pass a decrease test (else any finite one is taken);
3. ``search_params``: how the factor shrinks while it fails, its floor, and the Armijo constant;
4. ``adapt``: the state an ``Adaptive`` schedule carries to the next iteration.

The only model-specific input is the size of the undamped step that the control factor
(NASA CEA's, Gordon & McBride 1994, NASA RP-1311, eq. 3.1) limits: the engine passes max|dx_i|,
the gas kernel the largest change of ln n of a major species or 5 |d ln T|, 5 |d ln N| (CEA's).
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)
from numba import njit

from .codes import DAMP_ADAPTIVE, DAMP_CONTROL, DAMP_LINESEARCH, DAMP_RAMP

# the shrink factor and floor of schedules without their own (Constant, Ramp, ControlFactor):
# they do not search, but a trial point whose residual is not finite is halved away
SHRINK_DEFAULT = 0.5
FLOOR_DEFAULT = 1e-10
ARMIJO_DEFAULT = 1e-4  # Adaptive's sufficient-decrease constant (LineSearch carries its own)


@njit(cache=True)
def control_factor(max_change, step_size):
    """CEA's control factor: the largest factor <= 1 that changes no unknown by more than
    ``max_change`` along a step whose largest change is ``step_size``."""
    if step_size > 0.0:
        return min(1.0, max_change / step_size)
    return 1.0


@njit(cache=True)
def first_factor(dkind, dpar, k, alpha_state, step_size):
    """The damping factor a loop tries first at iteration ``k`` (0 for the first iteration).

    Ramp: min(max, start factor**k); Adaptive: the factor carried from the last iteration
    (``alpha_state``, see ``adapt``); ControlFactor: ``control_factor(max_change, step_size)``;
    Constant and LineSearch: their first parameter (alpha, start).
    """
    if dkind == DAMP_RAMP:
        return min(dpar[2], dpar[0] * dpar[1] ** k)
    if dkind == DAMP_ADAPTIVE:
        return alpha_state
    if dkind == DAMP_CONTROL:
        return control_factor(dpar[0], step_size)
    return dpar[0]


@njit(cache=True)
def backtracks(dkind):
    """True for the schedules whose trial steps must pass a decrease test (LineSearch: Armijo;
    Adaptive: Armijo for Newton, a plain decrease for fixed points)."""
    return dkind == DAMP_ADAPTIVE or dkind == DAMP_LINESEARCH


@njit(cache=True)
def search_params(dkind, dpar):
    """(shrink, floor, Armijo constant) of the schedule's step-size search."""
    if dkind == DAMP_ADAPTIVE or dkind == DAMP_LINESEARCH:
        shrink = dpar[2]
        floor = dpar[3]
    else:
        shrink = SHRINK_DEFAULT
        floor = FLOOR_DEFAULT
    c = dpar[1] if dkind == DAMP_LINESEARCH else ARMIJO_DEFAULT
    return shrink, floor, c


@njit(cache=True)
def adapt(dkind, dpar, alpha, tries, alpha_state):
    """The factor an Adaptive schedule starts the next iteration with: grown (x grow, capped at
    max) after a step accepted at its first try, else the factor that was accepted. Other
    schedules keep ``alpha_state`` unchanged."""
    if dkind == DAMP_ADAPTIVE:
        if tries == 0:
            return min(alpha * dpar[1], dpar[4])
        return alpha
    return alpha_state
