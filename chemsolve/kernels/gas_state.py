"""What the gas kernels pass around: the slots of the per-state vectors and the named tuples of
arrays that hold a state and the Newton loop's workspace.

``GasSystem``   the mixture's data, read only, shared by every state (formula matrices, NASA
                polynomials, condensed windows);
``GasProblem``  what is asked and how: mode, damping schedule (kind + parameters), options vector;
``GasState``    the state being solved, in and out: the feed, ln n of the gas species, condensed
                amounts and active set, element potentials and the scalar slots (``ST_*``);
``Workspace``   the Newton loop's scratch, in small groups (``Elements``, ``Species``,
                ``Thermo`` twice, ``Active``, ``Linear``) so that each stage receives the groups
                it works on: numba passes a named tuple as its arrays one by one, so a stage
                given the whole workspace would copy about 240 words per call.

Each thread of a batch allocates one ``GasState`` and one ``Workspace`` (``new_state``,
``new_workspace``) and reuses them state after state: the rows of a batch are copied in and out,
and the workspace is reset at the start of every chunk of rows (``reset``), so that a row's answer
depends only on its chunk. Compiled functions borrow these tuples (``kernels.borrow``: no reference counting) before
working on them.
"""

from . import disk_cache  # noqa: F401, I001 - first: the disk cache of the kernels (see there)

from collections import namedtuple

import numpy as np
from numba import njit

# index of the per-state scalar slots (``st`` arrays)
ST_LNN = 0  # ln of gas moles N
ST_T = 1  # temperature [K]
ST_P = 2  # pressure [Pa]
ST_ITER = 3  # Newton iterations
ST_ELEM = 4  # final max relative element-balance residual
ST_ENERGY = 5  # final relative energy / entropy residual
ST_DRIVE = 6  # most negative driving force of an absent condensed species (0 if none)
ST_PHASE_CHANGES = 7  # condensed species added or removed
ST_LNSUM = 8  # ln of the gas moles actually present, sum_j n_j (batch output)
N_ST = 9

# options vector of the gas kernels
GOPT_MAX_ITER = 0
GOPT_TOL = 1  # relative tolerance of the final check (element balance, energy)
GOPT_TMIN = 2  # lower bound on T while searching for it (HP, SP, UV) [K]
GOPT_TMAX = 3  # upper bound on T while searching for it (HP, SP, UV) [K]
GOPT_T_GUESS = 4  # cold-start temperature when T is free [K] (0: the feed temperature)
N_GOPT = 5

GasSystem = namedtuple("GasSystem", ["A", "coeffs", "bounds", "nreg", "lnpref", "Ac", "ccoeffs", "cbounds",
                                     "cnreg", "cwin"])
GasSystem.__doc__ = """The mixture, as the kernels read it. A : (ng, ne) gas formula matrix; coeffs : (ng, R, 9)
NASA-9 a1..a7, b1, b2 per region; bounds : (ng, R + 1) region limits [K]; nreg : (ng,) regions used;
lnpref : (ng,) ln of each species' reference pressure [Pa]; Ac, ccoeffs, cbounds, cnreg : the same for the
condensed species; cwin : (nc, 2) the temperature window of each condensed species [K]."""

GasProblem = namedtuple("GasProblem", ["mode", "dkind", "dpar", "gopt"])
GasProblem.__doc__ = """mode : codes.MODE_*; dkind, dpar : damping kind (codes.DAMP_*) and parameters;
gopt : (N_GOPT,) options (GOPT_*)."""

GasState = namedtuple("GasState", ["x", "lnn", "nc", "cact", "pi", "st"])
GasState.__doc__ = """One state: x (ng,) feed mole fractions; lnn (ng,) ln moles of the gas species; nc (nc,)
moles of the condensed species; cact (nc,) their active set; pi (ne,) element potentials; st (N_ST,)."""

Elements = namedtuple("Elements", ["b", "eon", "qcol", "bact", "Ad"])
Elements.__doc__ = """Per element: b (feed totals), eon (present), qcol (column of a present element in the
Newton system, -1 if absent), bact (b by column); Ad (ne, ng): the formula matrix of the active gas species
over the present elements, one dense row per element."""

Species = namedtuple("Species", ["gon", "act", "n", "lnn_old"])
Species.__doc__ = """Per gas species: gon (made of present elements), n (moles), lnn_old (backtracking);
act (ng,): the active species, act[t] = j for t < nact."""

Thermo = namedtuple("Thermo", ["cp", "h", "s", "g"])
Thermo.__doc__ = """cp/R, h/RT, s/R and g/RT of every species (gas or condensed) at the current T."""

Active = namedtuple("Active", ["nt", "d", "e", "w", "tmp", "xb"])
Active.__doc__ = """Per active gas species t: n_j, d_j = -mu_j/RT, e_j = d ln n_j / d ln T, the energy weight
w_j, tmp (ln n_j, then the Newton step d ln n_j) and xb (scratch of ``vexp``)."""

Linear = namedtuple("Linear", ["M", "rhs", "sol", "work", "M2", "r2", "r3", "colc"])
Linear.__doc__ = """The reduced Newton system M sol = rhs (size ne + nc + 2 at most), scratch of its
solution (work, M2, r2, r3; r2, r3 also hold the element balances of the final check) and colc: the active
condensed species in column order."""

Workspace = namedtuple("Workspace", ["el", "sp", "th", "cth", "ac", "li", "memo", "cok"])
Workspace.__doc__ = """Scratch of the Newton iteration: el ``Elements``, sp ``Species``, th / cth ``Thermo`` of
the gas / condensed species, ac ``Active``, li ``Linear``; cok (nc,) condensed species made of present
elements; memo (4 + ne,): the bookkeeping of el and sp is valid for this element pattern (memo[0] == 1;
memo[1:4] = species made of present elements, present elements, active species; memo[4 + i] == 1 for an
element carried with both signs)."""


def new_workspace(ng: int, ne: int, ncs: int) -> Workspace:
    """The scratch arrays of one thread (numpy; reset per chunk by ``reset``)."""
    size = ne + ncs + 2
    c1 = max(ncs, 1)
    f = np.empty
    z = np.zeros
    return Workspace(
        Elements(f(ne), z(ne, dtype=np.bool_), f(ne, dtype=np.int64), f(ne), z((ne, ng))),
        Species(z(ng, dtype=np.bool_), f(ng, dtype=np.int64), z(ng), z(ng)),
        Thermo(f(ng), f(ng), f(ng), f(ng)),
        Thermo(f(c1), f(c1), f(c1), f(c1)),
        Active(z(ng), f(ng), f(ng), z(ng), f(ng), z(ng)),
        Linear(f((size, size)), f(size), f(size), f((size, size + 1)), f((size, size)), f(size), f(size),
               z(c1, dtype=np.int64)),
        z(4 + ne, dtype=np.int64), z(c1, dtype=np.bool_))


def new_state(ng: int, ne: int, ncs: int) -> GasState:
    """The arrays of one state (a batch row is copied in and out)."""
    return GasState(np.zeros(ng), np.zeros(ng), np.zeros(ncs), np.zeros(ncs, dtype=np.bool_), np.zeros(ne),
                    np.zeros(N_ST))


@njit(inline="always")
def reset(ws):
    """The workspace as ``new_workspace`` makes it (the arrays it zeroes, and no valid bookkeeping),
    at the start of a chunk: the rows of a chunk then never depend on the chunks before them."""
    ws.el.eon[:] = False
    ws.el.Ad[:, :] = 0.0
    ws.sp.gon[:] = False
    ws.sp.n[:] = 0.0
    ws.sp.lnn_old[:] = 0.0
    ws.ac.nt[:] = 0.0
    ws.ac.w[:] = 0.0
    ws.ac.xb[:] = 0.0
    ws.li.colc[:] = 0
    ws.memo[:] = 0
    ws.cok[:] = False
