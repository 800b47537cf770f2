"""``chemsolve bench reactor``: the reactor against PhreeqcRM (PyPI ``phreeqcrm``) in one process, on
the same 1-D column and cells.

The column: ``n`` cells, each 1 L of water (porosity 1, saturation 1, representative volume 1 L) with
calcite and dolomite (0.1 and 0.05 mol), optionally an exchanger (5 mmol CaX2, 1 mmol NaX); the water
of every cell starts as the same Ca-Mg-Na-Cl-HCO3 water. A transport step shifts every cell's
concentrations by one cell and lets a CaCl2 water in at the top (PHREEQC's TRANSPORT without
dispersion), then reacts every cell. Both codes move moles per cell: chemsolve's ``units="mol"``;
PhreeqcRM's mol/L times the volume it divides by (SetConcentrations multiplies mol/L by the cell's
water volume, 1 L here, but GetConcentrations divides the moles by PHREEQC's own solution volume,
which differs from 1 L by ~2e-5 after calcite dissolves: multiplying back by GetSolutionVolume, outside
the timers, gives the moles, so that neither code gains or loses matter the other keeps).

Rows: the first step (cold: PhreeqcRM from its initial cells, chemsolve from the water's own start),
then the mean of the next ``steps`` warm steps, per cell per step; 1 and 2 threads (PhreeqcRM's own
thread count, numba's for chemsolve). Timed: the set, the reaction of every cell and the get of the
concentrations (the transport shift itself is numpy, the same for both, outside the timers).
Checked: after the last step, pH, phase moles and exchange composition of every cell against
PhreeqcRM's SELECTED_OUTPUT.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

WATER = {"Ca": 1e-3, "C(4)": 2e-3, "Na": 1e-3, "Cl": 1e-3, "Mg": 5e-4}
INFLOW = {"Ca": 2e-3, "Cl": 4e-3}
PHASES = {"Calcite": (0.0, 0.1), "Dolomite": (0.0, 0.05)}
EXCHANGE = {"CaX2": 5e-3, "NaX": 1e-3}
EX_SPECIES = ("NaX", "KX", "CaX2", "MgX2")
TOL_PH = 1e-7  # pH [-]: both codes converge to ~1e-12; what is left is PHREEQC's own stopping tolerance
TOL_REL = 1e-6  # phase moles, exchange species (issue [3/7]'s tolerance for phase moles)


def _text(exchange: bool) -> str:
    def sol(n, tot):
        return f"SOLUTION {n}\n units mol/kgw\n pH 7 charge\n" + "".join(f" {k} {v:.17g}\n" for k, v in tot.items())

    t = sol(1, WATER) + sol(0, INFLOW)
    t += "EQUILIBRIUM_PHASES 1\n" + "".join(f" {k} {si:.17g} {m:.17g}\n" for k, (si, m) in PHASES.items())
    if exchange:
        t += "EXCHANGE 1\n" + "".join(f" {k} {v:.17g}\n" for k, v in EXCHANGE.items())
    t += ("SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n"
          f" -molalities {' '.join(EX_SPECIES)}\n -equilibrium_phases {' '.join(PHASES)}\nEND\n")
    return t


class PhreeqcRMColumn:
    """PhreeqcRM on the column (its own API: RunString, InitialPhreeqc2Module, Set/GetConcentrations,
    RunCells, GetSelectedOutput)."""

    def __init__(self, n: int, threads: int, exchange: bool, database: str, *, text: str | None = None,
                 ic: list[int] | None = None, porosity=1.0, saturation=1.0, volume=1.0, units_pp: int = 1,
                 units_ex: int = 1, inflow: int | None = 0, units_su: int | None = None):
        """The column (``text``, ``ic`` None), or any input ``text`` with PhreeqcRM's ic1 array ``ic``
        (7 x n: solution, phases, exchange, surface, gas, solid solutions, kinetics), porosity,
        saturation and representative ``volume`` (one or per cell), SetUnitsPPassemblage /
        SetUnitsExchange / SetUnitsSurface codes (the last: that of the exchange unless given);
        ``inflow``: the SOLUTION whose concentrations ``self.inflow`` holds."""
        import phreeqcrm

        rm = phreeqcrm.PhreeqcRM(n, threads)
        rm.SetErrorHandlerMode(1)
        rm.SetComponentH2O(False)
        rm.SetRebalanceFraction(0.0)
        rm.SetUnitsSolution(2)  # mol/L
        rm.SetUnitsPPassemblage(units_pp)  # 1: mol per L of water in the representative volume
        rm.SetUnitsExchange(units_ex)
        rm.SetUnitsSurface(units_ex if units_su is None else units_su)
        rm.SetPorosity(np.broadcast_to(np.asarray(porosity, dtype=float), (n,)).tolist())
        rm.SetSaturationUser(np.broadcast_to(np.asarray(saturation, dtype=float), (n,)).tolist())
        rm.SetRepresentativeVolume(np.broadcast_to(np.asarray(volume, dtype=float), (n,)).tolist())
        if rm.LoadDatabase(database) != 0:
            raise RuntimeError(f"PhreeqcRM could not load {database}")
        if rm.RunString(True, True, True, _text(exchange) if text is None else text) != 0:
            raise RuntimeError("PhreeqcRM could not run the input")
        # the workers' cells are numbered 0..n-1: the input's own blocks of those numbers would stay in
        # them (a cell given no exchanger would react with EXCHANGE 1): cleared, as PhreeqcRM's Advect example
        rm.RunString(True, False, True, "DELETE; -all")
        rm.FindComponents()
        self.components = list(rm.GetComponents())
        if ic is None:
            ic = [1] * n + [1] * n + ([1] * n if exchange else [-1] * n) + [-1] * n * 4
        if rm.InitialPhreeqc2Module(list(ic)) != 0:
            raise RuntimeError("PhreeqcRM InitialPhreeqc2Module failed")
        rm.SetTime(0.0)
        rm.SetTimeStep(0.0)
        self.rm, self.n = rm, n
        self.inflow = (None if inflow is None else
                       np.array(rm.InitialPhreeqc2Concentrations([inflow]), dtype=float).reshape(-1))

    def get(self) -> np.ndarray:
        return np.array(self.rm.GetConcentrations(), dtype=float).reshape(-1, self.n).T

    def set(self, c: np.ndarray) -> None:
        self.rm.SetConcentrations(np.ascontiguousarray(c.T).ravel().tolist())

    def run(self) -> None:
        if self.rm.RunCells() != 0:
            raise RuntimeError("PhreeqcRM RunCells failed")

    def volume(self) -> np.ndarray:
        """PHREEQC's solution volume of every cell [L] (GetConcentrations divides the moles by it)."""
        return np.array(self.rm.GetSolutionVolume(), dtype=float)

    def output(self) -> dict[str, np.ndarray]:
        so = np.array(self.rm.GetSelectedOutput(), dtype=float).reshape(-1, self.n)
        return {str(h): so[i] for i, h in enumerate(self.rm.GetSelectedOutputHeadings())}


def chemsolve_column(db, n: int, exchange: bool, components: list[str]):
    """The reactor on the same column; ``components``: PhreeqcRM's order, to read its arrays."""
    from ..aqueous import Solution
    from . import Reactor

    w = Solution(db, totals=WATER, units="mol/kgw", pH=7.0, charge="pH").speciate()
    rm = Reactor(db, n, solution=w, phases=PHASES, exchange=EXCHANGE if exchange else None)
    order = [components.index(k) for k in rm.components]
    return rm, order


def shift(c: np.ndarray, inflow: np.ndarray) -> np.ndarray:
    """One cell down the column; the inflow water into the first."""
    out = np.empty_like(c)
    out[1:] = c[:-1]
    out[0] = inflow
    return out


def column_run(n: int, steps: int, threads: int, exchange: bool, db, log=lambda s: None) -> dict[str, Any]:
    """Both codes through ``steps`` + 1 transport steps; times per cell per step and the last states."""
    from ..kernels import threads as set_threads

    set_threads(threads)
    prm = PhreeqcRMColumn(n, threads, exchange, str(db.path))
    cs, order = chemsolve_column(db, n, exchange, prm.components)
    c0 = prm.get()
    inflow = prm.inflow[order]
    c0 = c0 * prm.volume()[:, None]
    cs.set_concentrations(c0[:, order], units="mol")  # the same cells, to the last digit
    times: dict[str, list[float]] = {"phreeqcrm": [], "chemsolve": []}
    cp, cc = c0, c0[:, order]
    for k in range(steps + 1):
        if k:
            cp, cc = shift(cp, prm.inflow), shift(cc, inflow)
        t0 = time.perf_counter()
        prm.set(cp)
        prm.run()
        cp = prm.get()
        t1 = time.perf_counter()
        cp = cp * prm.volume()[:, None]  # moles per cell (untimed; see the module docstring)
        cs.set_concentrations(cc, units="mol")
        cs.step()
        cc = cs.get_concentrations(units="mol")
        t2 = time.perf_counter()
        times["phreeqcrm"].append((t1 - t0) / n)
        times["chemsolve"].append((t2 - t1) / n)
        log(f"reactor: step {k}: PhreeqcRM {1e6 * (t1 - t0) / n:.1f} us/cell, chemsolve {1e6 * (t2 - t1) / n:.1f}")
    return {"times": times, "prm": prm.output(), "cs": cs, "components": prm.components, "order": order,
            "c_prm": cp, "c_cs": cc}


def compare(run: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """Largest differences after the last step: pH, phase moles (relative), exchange species (relative),
    transported concentrations (relative, above 1e-12), and the number of cells compared."""
    out, cs = run["prm"], run["cs"]
    ok = cs.status == 0
    d_ph = float(np.max(np.abs(out["pH"][ok] - cs.pH[ok]), initial=0.0))
    d_ph_mol = 0.0
    for q, p in enumerate(cs.phases):
        ref = out[p][ok]
        d_ph_mol = max(d_ph_mol, float(np.max(np.abs(cs.phase_moles[ok, q] - ref) / np.maximum(np.abs(ref), 1e-12),
                                              initial=0.0)))
    d_ex = 0.0
    for j, s in enumerate(cs.exchange_species):
        key = f"m_{s}(mol/kgw)"
        if key in out:
            ref = out[key][ok] * out["mass_H2O"][ok]
            big = ref > 1e-12
            if big.any():
                d_ex = max(d_ex, float(np.max(np.abs(cs.exchange[ok, j][big] / ref[big] - 1.0))))
    a, b = run["c_prm"][:, run["order"]][ok], run["c_cs"][ok]
    big = np.abs(a) > 1e-12
    big[:, 2] = False  # the charge imbalance: ~1e-16 of nothing
    d_c = float(np.max(np.abs(b[big] / a[big] - 1.0), initial=0.0))
    return {"pH": (d_ph, int(ok.sum())), "phase moles": (d_ph_mol, int(ok.sum())),
            "exchange species": (d_ex, int(ok.sum())), "concentrations": (d_c, int(ok.sum()))}


def suite(n: int, peer: str | None, log: Callable[[str], None]) -> Any:
    from .. import bench as B
    from ..aqueous import DatabaseWarning, load_database
    from ..kernels import threads

    t_used, t_most = threads()
    counts = sorted({1, min(2, t_most)})
    steps = 10
    rep = B.Report("reactor", f"1-D column of {n} cells (1 L water each, calcite 0.1 + dolomite 0.05 mol, with and "
                   f"without an exchanger of 6 mmol), a CaCl2 water flowing in, 1 cold + {steps} warm transport steps; "
                   "phreeqc.dat", n, t_used,
                   f"PhreeqcRM (phreeqcrm {peer}), the same database file" if peer
                   else "PhreeqcRM (phreeqcrm): peer not installed")
    if not peer:
        rep.notes.append("install phreeqcrm (pip install phreeqcrm) to run this suite")
        return rep.finish()
    warnings.simplefilter("ignore", DatabaseWarning)
    db = load_database("phreeqc.dat")
    log("reactor: first calls (the aqueous kernels: numba compile on a cold cache, else cache load)")
    # the kernels (compile or cache load) and each column's one-time set-up (its tableau, its certificate's
    # reading of the database), so that the cold row times the first step of the cells alone; 40 cells:
    # more than a chunk, so the parallel batch is loaded too
    rep.compile_s = B.first_call(lambda: [column_run(40, 1, 1, ex, db) for ex in (False, True)])
    for exchange in (False, True):
        what = "calcite + dolomite" + (" + exchanger" if exchange else "")
        for k in counts:
            run = column_run(n, steps, k, exchange, db, log)
            tp, tc = run["times"]["phreeqcrm"], run["times"]["chemsolve"]
            cs = run["cs"]
            case_c, case_w = f"{what}: first step (cold), {n} cells", f"{what}: warm steps, {n} cells"
            rep.rows.append(B.Row(case_c, f"PhreeqcRM RunCells, {B._threads_text(k)}", n, n, tp[0], peer=True))
            rep.rows.append(B.Row(case_c, f"chemsolve Reactor.step, {B._threads_text(k)}", n, n, tc[0]))
            rep.rows.append(B.Row(case_w, f"PhreeqcRM RunCells, {B._threads_text(k)}", n, n,
                                  float(np.mean(tp[1:])), peer=True))
            rep.rows.append(B.Row(case_w, f"chemsolve Reactor.step, {B._threads_text(k)}", int((cs.status == 0).sum()),
                                  n, float(np.mean(tc[1:])), B._med(cs.nit)))
            if k == counts[0]:
                for q, (v, m) in compare(run).items():
                    tol = TOL_PH if q == "pH" else TOL_REL
                    rep.checks.append(B.Check(f"{what}: {q} after {steps + 1} steps", v, tol,
                                              "tests/test_reactor.py (reactor.bench TOL_PH, TOL_REL)", m, int(v > tol)))
    threads(t_used)
    # one ratio per case: the peer row of the same thread count
    rep.notes.append("ratio: PhreeqcRM's time at the first thread count / chemsolve's; times per cell per step, "
                     "set + react + get")
    return _finish_by_threads(rep)


def _finish_by_threads(rep):
    """Ratios against the PhreeqcRM row of the same case and thread count."""
    for r in rep.rows:
        if r.peer:
            r.ratio = 1.0
            continue
        th = r.code.rsplit(", ", 1)[-1]
        ref = next((p for p in rep.rows if p.peer and p.case == r.case and p.code.endswith(th)), None)
        r.ratio = ref.seconds / r.seconds if ref is not None and r.seconds > 0 else None
    return rep
