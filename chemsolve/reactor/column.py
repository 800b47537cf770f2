"""A 1-D column on the reactor: PHREEQC's ADVECTION (every shift moves each cell's water one cell down,
the inflow water enters the first cell, then every cell reacts), the transport half of issue [5/7]'s
example. ``advection(...)`` returns the breakthrough curves: the totals of chosen elements in chosen
cells after every shift.

PHREEQC's ex11 (Parkhurst & Appelo 2013, example 11: CaCl2 displacing Na, K and NO3 through a cation
exchanger) in this form:

    from chemsolve.aqueous import Solution, equilibrate_exchange, load_database
    from chemsolve.reactor.column import advection

    db = load_database("phreeqc.dat")
    inflow = Solution(db, {"Ca": 0.6, "Cl": 1.2}, units="mmol/kgw", pH="7.0 charge",
                      pe="12.5 O2(g) -0.68").speciate()
    cell = Solution(db, {"Na": 1.0, "K": 0.2, "N(5)": 1.2}, units="mmol/kgw", pH="7.0 charge",
                    pe="12.5 O2(g) -0.68").speciate()
    out = advection(db, cell, inflow, cells=40, shifts=100,
                    exchange=equilibrate_exchange(cell, {"X": 0.0011}), punch_cells=[40],
                    totals=["Na", "Cl", "K", "Ca"])
    out.totals[:, 0, :]        # (shifts, punch cells, elements) mol/kgw
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from .core import Reactor


@dataclass
class ColumnResult:
    """Breakthrough curves: ``totals`` (shifts, len(punch_cells), len(elements)) [mol/kgw], ``pH``
    (shifts, len(punch_cells)); ``status`` (shifts, cells) of every cell's step; the reactor at the end."""

    punch_cells: list[int]
    elements: list[str]
    totals: np.ndarray
    pH: np.ndarray
    status: np.ndarray
    reactor: Reactor

    @property
    def success(self) -> bool:
        return bool((self.status == 0).all())


def advection(db, solution, inflow, *, cells: int, shifts: int, phases=None, exchange=None,
              punch_cells=None, totals=None, chunk: int = 16, kinetics=None, time_step: float = 0.0,
              kinetic_rtol: float = 1e-6, surface=None) -> ColumnResult:
    """PHREEQC's ADVECTION on ``cells`` cells for ``shifts`` shifts (see the module docstring).

    solution : the water of every cell at the start (a converged result, or a list per cell).
    inflow : the water entering cell 1 at every shift (PHREEQC's solution 0).
    phases, exchange, surface : each cell's equilibrium phases, exchanger and surface (as ``Reactor``
        takes them).
    kinetics, time_step [s] : each cell's kinetic reactants (``reactor.Kinetic``), integrated over
        ``time_step`` after every shift (PHREEQC's ADVECTION -time_step); kinetic_rtol: as ``Reactor``.
    punch_cells : cell numbers (1-based) whose totals are recorded after every shift (default: the last).
    totals : elements recorded (default: every element of the column).
    """
    return _run(db, solution, inflow, cells, shifts, phases, exchange, punch_cells, totals, chunk, 0, None, None,
                kinetics, time_step, kinetic_rtol, surface=surface)


def dispersion_mixes(lengths, dispersivities, correct_disp: bool = True) -> tuple[int, np.ndarray, np.ndarray]:
    """PHREEQC's mixing of TRANSPORT for dispersion between cells with flux boundaries and no diffusion
    (transport.cpp init_mix): between cells i and i+1 the mixing factor is 2 / (l_i / a_i + l_(i+1) /
    a_(i+1)) (l the length, a the dispersivity of a cell), times 1 + 2 / cells with ``correct_disp``
    (for flux boundaries); the number of mixes per shift is 1 + floor(1.5 max(m_i + m1_i)) and each
    factor is divided by it. Returns (mixes, m, m1): per cell (0-based) the factor with the cell above
    (m) and below (m1); the first and last cells do not mix across the column's ends."""
    ln = np.asarray(lengths, dtype=float)
    a = np.asarray(dispersivities, dtype=float)
    n = ln.size
    corr = 1.0 + 2.0 / n if correct_disp else 1.0
    m = np.zeros(n)
    m1 = np.zeros(n)
    for i in range(n - 1):
        dav = (ln[i] / a[i] if a[i] else 0.0) + (ln[i + 1] / a[i + 1] if a[i + 1] else 0.0)
        f = 2.0 / dav if dav else 0.0
        m1[i] = f * corr
        m[i + 1] = f * corr
    mx = float(np.max(m + m1)) if n else 0.0
    if mx == 0.0:
        return 0, m, m1
    nmix = 1 + int(np.floor(1.5 * mx))
    return nmix, m / nmix, m1 / nmix


def transport(db, solution, inflow, *, cells: int, shifts: int, lengths, dispersivities, correct_disp: bool = True,
              phases=None, exchange=None, punch_cells=None, totals=None, chunk: int = 16,
              kinetics=None, time_step: float = 0.0, kinetic_rtol: float = 1e-6, surface=None) -> ColumnResult:
    """PHREEQC's TRANSPORT with dispersion, forward flow, flux boundaries at both ends and no diffusion
    (the scheme of PHREEQC's ex11): every shift moves each cell's water one cell down and lets the inflow
    into the first, every cell reacts, then ``mixes`` times (``dispersion_mixes``) each cell's water
    becomes a mix of its own and its neighbours' (the same for all cells at once) and every cell
    reacts again. Totals are recorded after the last mix of every shift. lengths, dispersivities [m]:
    one per cell, or one for all.

    kinetics, time_step [s]: as PHREEQC's TRANSPORT (transport.cpp) integrates them: each reaction of a
    shift (the one after the move and one after every mix) takes time_step / (1 + mixes) (time_step
    without mixes); the first cell's kinetic reactants spend half of theirs on the water that is about
    to leave (before the move) and half on the water that came in."""
    _check_sizes(cells, shifts)
    ln = np.broadcast_to(np.asarray(lengths, dtype=float), (cells,))
    disp = np.broadcast_to(np.asarray(dispersivities, dtype=float), (cells,))
    if not (np.all(np.isfinite(ln)) and np.all(ln > 0)):
        raise InvalidInputError(f"lengths must be finite and > 0, got {lengths!r}")
    if not (np.all(np.isfinite(disp)) and np.all(disp >= 0)):
        raise InvalidInputError(f"dispersivities must be finite and >= 0, got {dispersivities!r}")
    nmix, m, m1 = dispersion_mixes(ln, disp, correct_disp)
    return _run(db, solution, inflow, cells, shifts, phases, exchange, punch_cells, totals, chunk, nmix, m, m1,
                kinetics, time_step, kinetic_rtol, split_first=True, surface=surface)


def _check_sizes(cells, shifts) -> None:
    if not (isinstance(cells, int) and cells >= 1 and isinstance(shifts, int) and shifts >= 0):
        raise InvalidInputError(f"cells must be >= 1 and shifts >= 0 (whole numbers), got {cells!r}, {shifts!r}")


def _run(db, solution, inflow, cells, shifts, phases, exchange, punch_cells, totals, chunk, nmix, m, m1,
         kinetics=None, time_step=0.0, kinetic_rtol=1e-6, split_first=False, surface=None):
    """The shifts of a column (both schemes): shift and react (kinetics over ``time_step`` divided
    among the reactions of a shift); then ``nmix`` mixes (factors m with the cell above, m1 with the
    cell below), each followed by the reaction of every cell. split_first: TRANSPORT's first cell (its
    kinetics react half before the move, half after)."""
    try:
        time_step = float(time_step)
    except (TypeError, ValueError):
        raise InvalidInputError(f"time_step = {time_step!r} is not a number") from None
    if not (np.isfinite(time_step) and time_step >= 0):
        raise InvalidInputError(f"time_step = {time_step!r}: expected a non-negative finite time [s]")
    from .core import _state_elements

    _check_sizes(cells, shifts)
    rm = Reactor(db, cells, solution=solution, phases=phases, exchange=exchange, chunk=chunk,
                 elements=_state_elements(inflow), kinetics=kinetics or (), kinetic_rtol=kinetic_rtol,
                 surface=surface)
    punch, els, idx = _punch(rm, cells, punch_cells, totals)
    inflow_c = inflow_components(db, inflow, rm)
    rows = [c - 1 for c in punch]
    out_t = np.zeros((shifts, len(punch), len(els)))
    out_ph = np.zeros((shifts, len(punch)))
    st = np.zeros((shifts, cells), dtype=np.int64)
    kin_time = time_step / (1 + nmix) if kinetics else 0.0
    dts = np.full(cells, kin_time)
    split = bool(kinetics) and split_first and cells > 1
    if split:
        dts[0] = kin_time / 2.0
    for k in range(shifts):
        bad = np.zeros(cells, dtype=bool)
        if split:  # the water about to leave the first cell reacts there for half its time
            bad[0] = rm.step(dts, cells=[0])[0] != 0
        c = rm.get_concentrations(units="mol")
        c[1:] = c[:-1].copy()
        c[0] = inflow_c
        rm.set_concentrations(c, units="mol")
        bad |= rm.step(dts) != 0
        for _ in range(nmix):
            c = rm.get_concentrations(units="mol")
            mixed = (1.0 - m - m1)[:, None] * c
            mixed[1:] += m[1:, None] * c[:-1]
            mixed[:-1] += m1[:-1, None] * c[1:]
            rm.set_concentrations(mixed, units="mol")
            bad |= rm.step(kin_time) != 0
        st[k] = np.where(bad, np.maximum(rm.status, 1), rm.status)
        out_t[k] = (rm.water_elements[rows][:, idx] / rm.W[rows, None])
        out_ph[k] = rm.pH[rows]
    return ColumnResult(punch, els, out_t, out_ph, st, rm)


def _punch(rm: Reactor, cells: int, punch_cells, totals):
    punch = list(punch_cells) if punch_cells is not None else [cells]
    for c in punch:
        if not (isinstance(c, (int, np.integer)) and 1 <= c <= cells):
            raise InvalidInputError(f"punch_cells: {c!r} is not a cell number in 1..{cells}")
    els = list(totals) if totals is not None else list(rm.elements)
    for el in els:
        if el not in rm.elements:
            raise InvalidInputError(f"totals: {el!r} is not an element of the column ({', '.join(rm.elements)})")
    return punch, els, [rm.elements.index(el) for el in els]


def inflow_components(db, inflow, rm: Reactor) -> np.ndarray:
    """The components (``rm.components``, moles) of the water ``inflow``: its own elements on the
    column's; an element the column does not have is refused (it would be lost)."""
    one = Reactor(db, 1, solution=inflow)
    c1 = one.get_concentrations(units="mol")[0]
    out = np.zeros(len(rm.components))
    out[:3] = c1[:3]
    for j, el in enumerate(one.elements):
        if el not in rm.elements:
            raise InvalidInputError(f"inflow: element {el!r} is not in the column ({', '.join(rm.elements)})")
        out[3 + rm.elements.index(el)] = c1[3 + j]
    # H and O of the elements the column has and the inflow has not: none (their totals are 0)
    return out
