"""The one path every aqueous calculation takes to the compiled model: a tableau
(``system.Tableau``) and, per water, which equation holds each unknown (``Rows``); ``run`` solves
them all in one call of ``kernels.aqueous_solve.solve_batch`` (a single water is a batch of one; a
batch of one chunk calls ``solve_chunk``, the same code without the parallel region) and
returns the raw arrays; ``status_message`` turns a row's result codes into its status and message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..kernels import codes as _c
from ..status import Status
from .system import Tableau

_METHOD_TEXT = {
    _c.AQM_OUTER: "the ionic strength in an outer fixed point around Newton",
    _c.AQM_NESTED_I: "the ionic strength as a bracketed 1-D root (nested search)",
    _c.AQM_NESTED_PH: "the charge balance as a bracketed 1-D root over pH (nested search)",
    _c.AQM_NEWTON: "the ionic strength inside Newton",
    _c.AQM_PHASES: "the equilibrium phases added one at a time",
    _c.AQM_NESTED_PE: "the electron balance as a bracketed 1-D root over pe (nested search)",
}


@dataclass
class Rows:
    """The equations of N waters on one tableau: T [K], P [atm]; for every basis unknown, log10 W and
    log10 I, its row kind (``codes.AQ_*``), the balance column or reaction it reads (``aux``) and its
    target (``val``); the bounds on each equilibrium phase's moles dissolved (``lo``, ``hi``), its
    target SI and whether it takes part (``on``); warm (``X``, used where ``warm``) and cold (``XC``)
    starts of the unknowns."""

    T: np.ndarray
    P: np.ndarray
    kind: np.ndarray
    aux: np.ndarray
    val: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    si: np.ndarray
    on: np.ndarray
    X: np.ndarray
    XC: np.ndarray
    warm: np.ndarray
    act: np.ndarray  # (N, np) starting set of active phases: 1 active, 0 fixed, -1 decide

    @property
    def n(self) -> int:
        return self.T.shape[0]


def new_rows(t: Tableau, N: int) -> Rows:
    """Rows with the fixed parts set: the water-activity and ionic-strength rows, W = 1 kg fixed,
    everything else FIXED at 0 (the caller sets what each water says)."""
    nb, npp, nv = t.nb, len(t.eq_phases), t.nv
    kind = np.full((N, nb + 2), _c.AQ_FIXED, dtype=np.int64)
    kind[:, t.iw] = _c.AQ_AW
    kind[:, t.iI] = _c.AQ_IONIC
    aux = np.zeros((N, nb + 2), dtype=np.int64)
    val = np.zeros((N, nb + 2))
    X = np.zeros((N, nv))
    X[:, t.iI] = -3.0
    return Rows(np.full(N, 298.15), np.ones(N), kind, aux, val, np.full((N, npp), -np.inf), np.full((N, npp), 10.0),
                np.zeros((N, npp)), np.ones((N, npp), dtype=np.int64), X, X.copy(), np.zeros(N, dtype=np.int8),
                np.full((N, npp), -1, dtype=np.int64))


@dataclass
class Raw:
    """What the kernel returned: X (N, nv) solutions; res (N, 6) [status, nit, method, first failure,
    I, a(H2O)]; m, lg, la (N, ns); si (N, nrx) saturation indices of every reaction of the tableau."""

    X: np.ndarray
    res: np.ndarray
    m: np.ndarray
    lg: np.ndarray
    la: np.ndarray
    si: np.ndarray
    act: np.ndarray

    @property
    def status(self) -> np.ndarray:
        return self.res[:, 0].astype(np.int8)


def run(t: Tableau, rows: Rows, *, mode: str = "newton", damping=None, chain: bool = False, chunk: int = 16,
        max_outer: int = 100) -> Raw:
    """Solve every row (numba ``prange`` over fixed chunks). ``mode``: the ionic-strength
    formulation tried first ("newton" or "outer"; the other and the nested searches follow when it
    fails). ``damping``: a ``chemsolve.damping`` schedule (default ``LineSearch()``)."""
    from .. import damping as _damping
    from ..kernels import aqueous_solve as _k
    from ..kernels import first_use

    sched = _damping.resolve(damping, "newton")
    N = rows.n
    ns, nrx = len(t.species), len(t.reactions)
    res = np.zeros((N, _k.N_RES))
    m, lg, la = np.zeros((N, ns)), np.zeros((N, ns)), np.zeros((N, ns))
    si = np.zeros((N, nrx))
    X = np.ascontiguousarray(rows.X, dtype=np.float64).copy()
    XC = np.ascontiguousarray(rows.XC, dtype=np.float64).copy()
    act = np.ascontiguousarray(rows.act, dtype=np.int64).copy()
    # one chunk (a single water, a short batch): its rows in order, without the parallel region
    # (whose compile is the largest single one of the model); more: chunks in parallel
    args = (t.arrays(), X, XC, np.ascontiguousarray(rows.warm, dtype=np.int8), bool(chain),
            np.ascontiguousarray(rows.T, dtype=np.float64), np.ascontiguousarray(rows.P, dtype=np.float64),
            np.ascontiguousarray(rows.kind), np.ascontiguousarray(rows.aux), np.ascontiguousarray(rows.val),
            np.ascontiguousarray(rows.lo), np.ascontiguousarray(rows.hi), np.ascontiguousarray(rows.si),
            np.ascontiguousarray(rows.on), act, int(sched.kind), sched.params(),
            _c.AQM_OUTER if mode == "outer" else _c.AQM_NEWTON, int(max(1, max_outer)))
    outs = (res, m, lg, la, si)
    chunk = int(max(1, chunk))
    if N <= chunk:
        with first_use("the aqueous model", _k.solve_chunk):
            _k.solve_chunk(0, N, *args, *outs)
    else:
        with first_use("the aqueous model (batch)", _k.solve_batch):
            _k.solve_batch(*args, chunk, *outs)
    return Raw(X, res, m, lg, la, si, act)


# the start the first formulation converged from (aqueous_solve.START_*), and what had failed before it
_START_TEXT = {1: "from the warm start revised as PHREEQC revises a start", 2: "from the cold start",
               3: "from the cold start revised as PHREEQC revises a start"}
_FAILED_TEXT = {0: "nothing", 1: "the warm start", 2: "the warm start and its revision",
                3: "the first guess (and the warm starts, if any)"}


def status_message(res_row: np.ndarray, first_mode: str = "newton", max_outer: int = 100) -> tuple[Status, str]:
    """(status, message) of one row: converged says which formulation did it when the first failed."""
    st = Status(int(res_row[0]))
    method = int(res_row[2])
    first = int(res_row[3])
    if st == Status.CONVERGED:
        if first < 0:
            return st, "converged"
        why = Status(first).name
        if first_mode == "outer" and first == _c.MAX_ITER:
            why += f" in {max_outer} outer iterations"
        mode_code = _c.AQM_OUTER if first_mode == "outer" else _c.AQM_NEWTON
        if method == mode_code:
            start = int(res_row[6]) if res_row.shape[0] > 6 else 2
            return st, f"converged ({_START_TEXT.get(start, 'from the cold start')}, after {_FAILED_TEXT[start]} " \
                       f"failed: {why})"
        return st, f"converged ({_METHOD_TEXT[method]}, after {_METHOD_TEXT[mode_code]} failed: {why})"
    return st, (f"{st.name}: no formulation converged ({_METHOD_TEXT[_c.AQM_NEWTON]}, the outer fixed point, the "
                "nested ionic-strength search, for a charge-balance pH the nested pH search, for a conserved pe the "
                "nested pe search); "
                f"{st.message if hasattr(st, 'message') else ''}".rstrip("; "))


def log10_or(x: float, default: float) -> float:
    return math.log10(x) if x > 0 and math.isfinite(x) else default
