"""``chemsolve bench reactor-dask``: one transport step of a large grid (default 10^6 cells) locally and on a
Dask LocalCluster, with the time per step and the identity of every per-cell array.

The cells: the water, calcite and dolomite of ``reactor.bench`` (1 kg of water each), first brought to
equilibrium, then one transport step: the concentrations shifted by one cell with a CaCl2 water in at
the top and a spread of Na over the grid (so that the cells differ), then reacted. The same step runs
locally (numba threads over chunks, 1 and 2 threads) and on a LocalCluster of 2 worker processes with 1
thread each (``Reactor.step(client=...)``: contiguous blocks, shipped, stepped, gathered back). Timed:
the step alone (the cluster's start, and the construction of the grid, are not counted; the shipping
of the blocks to the workers and back is). Checked: every per-cell array of the Dask step equals the
local one bit for bit (``Reactor._CELL_ARRAYS``), and every cell converged and was certified.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def grid(db, n: int):
    """The grid of n cells after the first (equilibrium) step and one transport shift (not stepped)."""
    from ..aqueous import Solution
    from .bench import INFLOW, PHASES, WATER, shift
    from .core import Reactor

    water = Solution(db, totals=WATER, units="mol/kgw", pH=7.0, charge="pH").speciate()
    rm = Reactor(db, n, solution=water, phases=PHASES, elements=["Cl"])
    rm.step()
    c = rm.get_concentrations(units="mol")
    inflow_w = Solution(db, totals=INFLOW, units="mol/kgw", pH=7.0, charge="pH").speciate()
    one = Reactor(db, 1, solution=inflow_w, elements=rm.elements)
    inflow = one.get_concentrations(units="mol")[0]
    c = shift(c, inflow)
    c[:, rm.components.index("Na")] *= np.linspace(0.5, 2.0, n)
    rm.set_concentrations(c, units="mol")
    return rm


def suite(n: int, peer: str | None, log: Callable[[str], None]) -> Any:
    from .. import bench as B
    from ..aqueous import DatabaseWarning, load_database
    from ..kernels import threads
    from .core import Reactor

    t_used, t_most = threads()
    rep = B.Report("reactor-dask", f"one transport step of {n} cells (1 kg water, calcite 0.1 + dolomite 0.05 mol "
                   "each; phreeqc.dat) locally and on a Dask LocalCluster of 2 worker processes x 1 thread",
                   n, t_used, f"Dask distributed {peer}" if peer else "Dask distributed: not installed")
    if not peer:
        rep.notes.append("install distributed (pip install 'dask[distributed]') to run this suite")
        return rep.finish()
    warnings.simplefilter("ignore", DatabaseWarning)
    db = load_database("phreeqc.dat")
    log(f"reactor-dask: building {n} cells")
    rep.compile_s = B.first_call(lambda: grid(db, 40).step())
    local_rows = []
    ref = None
    for k in sorted({1, min(2, t_most)}):
        threads(k)
        rm = grid(db, n)  # built afresh for each run (the same cells): one grid in memory besides the reference
        log(f"reactor-dask: local step, {k} thread(s)")
        t0 = time.perf_counter()
        rm.step()
        dt = time.perf_counter() - t0
        local_rows.append(B.Row(f"one step of {n} cells", f"chemsolve Reactor.step, {B._threads_text(k)}",
                                int((rm.status == 0).sum()), n, dt / n, B._med(rm.nit)))
        ref = rm if ref is None else ref
        del rm
    threads(t_used)
    import distributed

    log("reactor-dask: LocalCluster of 2 workers x 1 thread")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=0) as cluster, distributed.Client(cluster) as client:
        grid(db, 40).step(client=client)  # the workers import chemsolve and load the kernels: not timed
        rm = grid(db, n)
        t0 = time.perf_counter()
        rm.step(client=client)
        dt = time.perf_counter() - t0
    rep.rows.extend(local_rows)
    rep.rows.append(B.Row(f"one step of {n} cells", "chemsolve Reactor.step(client=LocalCluster 2 x 1 thread)",
                          int((rm.status == 0).sum()), n, dt / n, B._med(rm.nit)))
    same = [name for name in Reactor._CELL_ARRAYS if np.array_equal(getattr(ref, name), getattr(rm, name))]
    differ = [name for name in Reactor._CELL_ARRAYS if name not in same]
    rep.checks.append(B.Check("per-cell arrays differing between the Dask step and the local step", len(differ), 0.0,
                              "tests/test_reactor.py (identical)", len(Reactor._CELL_ARRAYS), len(differ)))
    bad = int((ref.status != 0).sum() + (rm.status != 0).sum())
    rep.checks.append(B.Check("cells not converged and certified (local + Dask)", bad, 0.0,
                              "tests/test_reactor.py (every cell converges)", 2 * n, bad))
    if differ:
        rep.notes.append("differing: " + ", ".join(differ))
    # the ratio column: the local one-thread step's time / each row's
    for r in rep.rows:
        r.ratio = rep.rows[0].seconds / r.seconds if r.seconds > 0 else None
    rep.rows[0].peer = True
    rep.notes.append("times are per cell for the whole step (set-up of the rows, the compiled batch, the certificate, "
                     "the commit; for Dask also shipping the blocks and gathering them); ratio: the local 1-thread "
                     "step / each row")
    return rep
