"""``Reactor.from_phreeqc``, ``boundary_concentrations`` and the mol/L units, against PhreeqcRM (PyPI
``phreeqcrm``) run live on the same input text: cells made of different numbered SOLUTIONs,
EQUILIBRIUM_PHASES and EXCHANGEs (one equilibrated with a solution, -1: none), with per-cell porosity,
saturation and representative volume, compared before any step, after an equilibrium step and after a
transport step that lets a boundary SOLUTION in.

Tolerances (justified where they are used):
- TOL_VOL 1e-7 relative, the solution volume and what divides by it: chemsolve computes PHREEQC's
  density formula from the same data, but PHREEQC evaluates the species' molar volumes at the ionic
  strength of its last iteration (``k_temp``) and its molalities carry its own convergence tolerance;
  1e-10 to ~1e-8 seen.
- concentrations, phase moles and exchange species: ``reactor.bench.TOL_REL`` (1e-6 relative, above
  1e-12 of the largest of a component), pH ``bench.TOL_PH`` (1e-7), as ``tests/test_reactor.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import chemsolve.aqueous as aq
from chemsolve.errors import InvalidInputError
from chemsolve.reactor import Reactor
from chemsolve.reactor import bench as RB

TOL_VOL = 1e-7

TEXT = """SOLUTION 1  a calcite-dolomite water
 units mmol/kgw
 pH 7 charge
 Ca 1
 C(4) 2
 Na 1
 Cl 1
 Mg 0.5
SOLUTION 2  a sodic water
 units mmol/kgw
 pH 8 charge
 Na 10
 Cl 10
 Ca 2
 C(4) 4
 K 1
SOLUTION 0  CaCl2 inflow
 units mmol/kgw
 pH 7 charge
 Ca 2
 Cl 4
EQUILIBRIUM_PHASES 1
 Calcite 0 0.1
 Dolomite 0 0.05
EQUILIBRIUM_PHASES 2
 Calcite 0 0.02
END
EXCHANGE 1
 -equilibrate 2
 X 0.01
EXCHANGE 2
 CaX2 0.002
 NaX 0.001
 MgX2 0.0005
END
"""
SELECTED = ("SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n"
            f" -molalities {' '.join(RB.EX_SPECIES)}\n -equilibrium_phases Calcite Dolomite\nEND\n")
N = 6
IC = {"solution": [1, 2, 1, 2, 1, 2], "equilibrium_phases": [1, 2, -1, 1, 2, -1], "exchange": [1, -1, 2, 1, -1, 2]}
POROSITY = [0.3, 0.2, 0.25, 0.3, 0.35, 1.0]
SATURATION = [1.0, 0.8, 1.0, 0.5, 1.0, 1.0]
RV = [1.0, 2.0, 1.5, 1.0, 0.5, 1.0]


def _prm(db, units_pp=0):
    pytest.importorskip("phreeqcrm")
    ic = IC["solution"] + IC["equilibrium_phases"] + IC["exchange"] + [-1] * N * 4
    return RB.PhreeqcRMColumn(N, 1, False, str(db.path), text=TEXT + SELECTED, ic=ic, porosity=POROSITY,
                              saturation=SATURATION, volume=RV, units_pp=units_pp, units_ex=units_pp, inflow=0)


def _rel(a, b, floor):
    big = np.abs(b) > floor
    return float(np.max(np.abs(a[big] / b[big] - 1.0), initial=0.0))


def _compare_conc(ours, theirs, tol):
    """Every component but Charge, relative above 1e-12 of the largest of a component. Charge: the
    imbalance is what each code's iterations leave, at their convergence tolerance (PHREEQC's default
    -convergence_tolerance is 1e-8, relative; chemsolve leaves ~1e-17 eq): absolute, 1e-8 of the cell's
    largest element concentration (~1e-10 eq/L here; PHREEQC's 2.5e-12 eq/L seen in SOLUTION 2 and up
    to 2.2e-11 after a step with an exchanger)."""
    for k in range(ours.shape[1]):
        if k == 2:
            scale = np.max(np.abs(theirs[:, 3:]), axis=1)
            assert np.all(np.abs(ours[:, k] - theirs[:, k]) <= 1e-8 * scale)
            continue
        d = _rel(ours[:, k], theirs[:, k], 1e-12 * np.max(np.abs(theirs[:, k])))
        assert d <= tol, (k, d)


def _rx(db, units="mol/L", **kw):
    return Reactor.from_phreeqc(TEXT, N, db, initial=IC, units=units, porosity=POROSITY, saturation=SATURATION,
                                representative_volume=RV, **kw)


def _check_step(rx, prm, order):
    """After a RunCells / step of both: status, pH, water, phase moles, exchange species, concentrations
    in mol/L and mol/kgw, solution volume, cell by cell."""
    assert (rx.status == 0).all(), rx.message
    out = prm.output()
    assert np.max(np.abs(rx.pH - out["pH"])) <= RB.TOL_PH
    assert _rel(rx.W, out["mass_H2O"], 0.0) <= RB.TOL_REL
    for q, p in enumerate(rx.phases):
        ref = out[p]
        assert np.max(np.abs(rx.phase_moles[:, q] - ref) / np.maximum(np.abs(ref), 1e-12)) <= RB.TOL_REL, p
    for j, s in enumerate(rx.exchange_species):
        ref = out[f"m_{s}(mol/kgw)"] * out["mass_H2O"]
        assert np.all((ref > 0) == (rx.exchange[:, j] > 0)), s  # no exchanger in cells 1 and 4: none in either
        assert _rel(rx.exchange[:, j], ref, 1e-12) <= RB.TOL_REL, s
    vol = prm.volume()
    assert _rel(rx.solution_volume(), vol, 0.0) <= TOL_VOL  # 1e-13 seen after a step
    c_prm = prm.get()[:, order]
    _compare_conc(rx.get_concentrations("mol/L"), c_prm, RB.TOL_REL)
    _compare_conc(rx.get_concentrations("mol/kgw"), c_prm * vol[:, None] / out["mass_H2O"][:, None], RB.TOL_REL)
    return c_prm


@pytest.mark.parametrize("per", ["cell", "water", "rock"])
def test_from_phreeqc_matches_phreeqcrm_in_mol_per_litre(db, per):
    """The same input into PhreeqcRM (RunString, InitialPhreeqc2Module with a per-cell ic1 array,
    SetUnitsSolution(2), per-cell porosity / saturation / representative volume, phases and exchanger
    per litre of cell, of water or of rock) and into ``Reactor.from_phreeqc``: the concentrations of every
    cell before any step (mol/L: ~6e-10 seen, from the two solution volumes), PhreeqcRM's
    InitialPhreeqc2Concentrations of the boundary SOLUTION 0, then after an equilibrium step and after a
    transport step bringing SOLUTION 0 in (~1e-8 seen)."""
    code = {"cell": 0, "water": 1, "rock": 2}[per]
    prm = _prm(db, units_pp=code)
    rx = _rx(db, units_phases=per, units_exchange=per)
    assert sorted(prm.components) == sorted(rx.components)
    order = [prm.components.index(k) for k in rx.components]
    # before any step: the cells as InitialPhreeqc2Module made them; the solution's volume divides the
    # moles in both, the water volume porosity * saturation * RV scaled them: TOL_VOL
    _compare_conc(rx.get_concentrations(), prm.get()[:, order], TOL_VOL)
    assert np.allclose(rx.solution_volume(), np.array(POROSITY) * SATURATION * RV, rtol=TOL_VOL, atol=0)
    inflow = rx.boundary_concentrations(solution=0)
    assert inflow.shape == (len(rx.components),)
    _compare_conc(inflow[None, :], prm.inflow[order][None, :], TOL_VOL)
    both = rx.boundary_concentrations(solution=[0, 2])
    assert both.shape == (2, len(rx.components)) and np.array_equal(both[0], inflow)
    # the moles of phases and exchanger in each cell: PhreeqcRM's factor (RV, RV * porosity, RV * (1 - porosity))
    f = np.array(RV) * {"cell": np.ones(N), "water": np.array(POROSITY), "rock": 1 - np.array(POROSITY)}[per]
    assert rx.phase_moles[0, rx.phases.index("Calcite")] == pytest.approx(0.1 * f[0], rel=1e-15)
    assert rx.phase_moles[2].tolist() == [0.0, 0.0] and rx._phase_absent[2].all()  # cell 2: none (-1)
    prm.run()
    rx.step()
    c_prm = _check_step(rx, prm, order)
    # transport in mol/L: every cell's water one cell down, SOLUTION 0 into the first, as a transport code
    # does with PhreeqcRM (each code moves its own concentrations)
    prm.set(RB.shift(prm.get(), prm.inflow))
    rx.set_concentrations(RB.shift(rx.get_concentrations(), inflow))
    prm.run()
    rx.step()
    _check_step(rx, prm, order)
    assert c_prm.shape == (N, len(rx.components))


def test_water_volume_units_as_phreeqcrm_without_density(db):
    """PhreeqcRM's UseSolutionDensityVolume(false): GetConcentrations divides by porosity * saturation *
    RV instead of the solution's volume; ``use_solution_density_volume = False`` does the same. Then
    mol/L out and in is the identity (SetConcentrations multiplies by the same volume)."""
    prm = _prm(db)
    rx = _rx(db)
    order = [prm.components.index(k) for k in rx.components]
    prm.run()
    rx.step()
    prm.rm.UseSolutionDensityVolume(False)
    rx.use_solution_density_volume = False
    _compare_conc(rx.get_concentrations(), prm.get()[:, order], RB.TOL_REL)
    m = rx.get_concentrations("mol")
    assert np.allclose(rx.get_concentrations() * rx.water_volume()[:, None], m, rtol=1e-15, atol=0)
    cons = rx.conserved.copy()
    rx.set_concentrations(rx.get_concentrations())
    # the electron column is H - 2 O - ... of ~110 and ~55 mol: its round-off is ~1e-15 mol per operation
    assert np.allclose(rx.conserved, cons, rtol=1e-13, atol=1e-13)
    # a dry cell (saturation 0) keeps its water, as PhreeqcRM's SetConcentrations skips it
    rx.saturation[3] = 0.0
    before = rx.water_elements[3].copy()
    rx.set_concentrations(np.zeros_like(m) + 1.0)
    assert np.array_equal(rx.water_elements[3], before) and rx.water_elements[0, 0] == pytest.approx(0.3)


def test_mol_per_kgw_cells_are_the_blocks_as_phreeqc_reacts_them(db, tmp_path):
    """units="mol/kgw": each cell holds the numbered blocks as defined (1 kg of water, the phases' and
    exchanger's moles), as PHREEQC's own batch reaction of ``USE solution n; USE equilibrium_phases m;
    USE exchange k`` does: run live in IPhreeqc for every cell, pH within TOL_PH, totals (mol/kgw), phase
    moles and water mass within TOL_REL (~1e-9 seen)."""
    phreeqc = pytest.importorskip("phreeqc")
    f = tmp_path / "cells.pqi"
    f.write_text(TEXT)  # a file, as PhreeqcRM's RunFile
    rx = Reactor.from_phreeqc(f, N, db, initial=IC, units="mol/kgw")
    assert rx.units == "mol/kgw" and np.allclose(rx.W, 1.0, rtol=1e-12)
    c0 = rx.get_concentrations()
    assert np.array_equal(c0[1], rx.boundary_concentrations(solution=2))  # cell 1 is SOLUTION 2 as defined
    assert (rx.step() == 0).all(), rx.message
    els = rx.elements
    text = TEXT + ("SELECTED_OUTPUT 1\n -reset false\n -state true\n -pH true\n -water true\n"
                   f" -equilibrium_phases Calcite Dolomite\n -totals {' '.join(els)}\nEND\n")
    for r in range(N):
        text += f"USE solution {IC['solution'][r]}\n"
        if IC["equilibrium_phases"][r] >= 0:
            text += f"USE equilibrium_phases {IC['equilibrium_phases'][r]}\n"
        if IC["exchange"][r] >= 0:
            text += f"USE exchange {IC['exchange'][r]}\n"
        text += "END\n"  # every cell has phases or an exchanger: a batch reaction each
    ip = phreeqc.Phreeqc()
    assert ip.LoadDatabase(str(db.path)) == 0
    assert ip.RunString(text) == 0, ip.GetErrorString()
    so = ip.GetSelectedOutput()
    state = np.array(so["state"])
    react = state == "react"
    assert react.sum() == N
    ph = np.array(so["pH"])[react]
    assert np.max(np.abs(rx.pH - ph)) <= RB.TOL_PH
    assert _rel(rx.W, np.array(so["mass_H2O"])[react], 0.0) <= RB.TOL_REL
    for q, p in enumerate(rx.phases):
        ref = np.array(so[p])[react]
        assert np.max(np.abs(rx.phase_moles[:, q] - ref) / np.maximum(ref, 1e-12)) <= RB.TOL_REL, p
    c = rx.get_concentrations()
    for k, el in enumerate(els):
        ref = np.array(so[f"{el}(mol/kgw)"])[react]
        assert _rel(c[:, 3 + k], ref, 1e-12) <= RB.TOL_REL, el


def test_bad_input_named(db):
    with pytest.raises(InvalidInputError, match=r"initial\['solution'\]: SOLUTION 7 is not defined by the input"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": [1, 7]})
    with pytest.raises(InvalidInputError, match=r"EQUILIBRIUM_PHASES 3 is not defined"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1, "equilibrium_phases": 3})
    with pytest.raises(InvalidInputError, match=r"EXCHANGE 9 is not defined"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1, "exchange": [1, 9]})
    with pytest.raises(InvalidInputError, match=r"initial\['exchange'\]: 3 numbers for 2 cells"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1, "exchange": [1, 1, 1]})
    with pytest.raises(InvalidInputError, match=r"cell 1 has none \(-1\)"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": [1, -1]})
    with pytest.raises(InvalidInputError, match=r"initial\['gas_phase'\]: not modelled"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1, "gas_phase": 1})
    with pytest.raises(InvalidInputError, match=r"SURFACE 1 is not defined by the input \(defined: none\)"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1, "surface": 1})
    with pytest.raises(InvalidInputError, match=r"units_surface='soil'"):
        Reactor.from_phreeqc(TEXT_SU, 2, db, units="mol/L", units_surface="soil")
    with pytest.raises(InvalidInputError, match=r"unknown key 'solutions'"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solutions": 1})
    with pytest.raises(InvalidInputError, match=r"initial\['solution'\]: 1.5 is not a whole number"):
        Reactor.from_phreeqc(TEXT, 2, db, initial={"solution": 1.5})
    with pytest.raises(InvalidInputError, match=r"units='mg/L'"):
        Reactor.from_phreeqc(TEXT, 2, db, units="mg/L")
    with pytest.raises(InvalidInputError, match=r"porosity: 3 values for 2 cells"):
        Reactor.from_phreeqc(TEXT, 2, db, units="mol/L", porosity=[0.1, 0.2, 0.3])
    with pytest.raises(InvalidInputError, match=r"saturation: cell 1: -0.5"):
        Reactor.from_phreeqc(TEXT, 2, db, units="mol/L", saturation=[1.0, -0.5])
    with pytest.raises(InvalidInputError, match=r"cell 0: porosity \* saturation \* representative_volume = 0.0"):
        Reactor.from_phreeqc(TEXT, 2, db, units="mol/L", porosity=0.0)
    with pytest.raises(InvalidInputError, match=r"units_phases='soil'"):
        Reactor.from_phreeqc(TEXT, 2, db, units="mol/L", units_phases="soil")
    with pytest.raises(InvalidInputError, match=r"unknown element or valence state 'Qq'"):  # the input reader's
        Reactor.from_phreeqc("SOLUTION 1\n pH 7\n Qq 1\nEND\n", 2, db)
    with pytest.raises(InvalidInputError, match=r"nowhere.pqi: cannot read the PHREEQC input"):
        Reactor.from_phreeqc(Path("nowhere.pqi"), 2, db)
    rx = Reactor.from_phreeqc(TEXT, 2, db)
    assert rx.initial["equilibrium_phases"].tolist() == [1, 1] and rx.initial["exchange"].tolist() == [1, 1]
    with pytest.raises(InvalidInputError, match=r"SOLUTION 5 is not defined by the input \(defined: \[0, 1, 2\]\)"):
        rx.boundary_concentrations(solution=5)
    with pytest.raises(InvalidInputError, match=r"units='mmol/L'"):
        rx.get_concentrations(units="mmol/L")
    with pytest.raises(InvalidInputError, match=r"give solution=<number> or water="):
        rx.boundary_concentrations()
    w = aq.Solution(db, totals={"Na": 1e-3, "Cl": 1e-3, "Br": 1e-4}, units="mol/kgw", pH=7.0, charge="pH").speciate()
    with pytest.raises(InvalidInputError, match=r"water holds Br, which is not a component"):
        rx.boundary_concentrations(water=w)
    plain = Reactor(db, 2, solution=w)
    with pytest.raises(InvalidInputError, match=r"not made by Reactor.from_phreeqc"):
        plain.boundary_concentrations(solution=1)
    with pytest.raises(InvalidInputError, match=r"Calcite is \(SI 0.5.*in cell 1 but \(SI 0"):
        Reactor(db, 2, solution=w, phases=[{"Calcite": (0.0, 1.0)}, {"Calcite": (0.5, 1.0)}])
    with pytest.raises(InvalidInputError, match=r"phases: 3 assemblages for 2 cells"):
        Reactor(db, 2, solution=w, phases=[None, None, None])
    st = w.state
    with pytest.raises(InvalidInputError, match=r"solution volume of cell 0: unknown before its first step"):
        Reactor(db, 1, solution=st).get_concentrations("mol/L")


def test_saved_solutions_are_what_phreeqc_stored(db):
    """SAVE: the water a simulation's reaction left (SOLUTION 1 equilibrated with calcite and CO2, saved
    as 5) is what PHREEQC stores under that number, hence what PhreeqcRM copies into cells (before any
    step, TOL_VOL as above). A SAVE in a simulation without a reaction saves nothing in PHREEQC:
    PhreeqcRM says "Initial condition SOLUTION 6 not found", and so does from_phreeqc."""
    pytest.importorskip("phreeqcrm")
    text = ("SOLUTION 1\n units mmol/kgw\n pH 7 charge\n Na 1\n Cl 1\nEQUILIBRIUM_PHASES 1\n Calcite 0 1\n"
            " CO2(g) -2 1\nSAVE solution 5\nEND\nSOLUTION 2\n units mmol/kgw\n pH 8 charge\n Na 10\n Cl 10\n"
            "SAVE solution 6\nEND\n")
    prm = RB.PhreeqcRMColumn(3, 1, False, str(db.path), text=text, ic=[5, 2, 1] + [-1] * 3 * 6, inflow=5)
    rx = Reactor.from_phreeqc(text, 3, db, initial={"solution": [5, 2, 1]}, units="mol/L")
    order = [prm.components.index(k) for k in rx.components]
    assert sorted(prm.components) == sorted(rx.components)
    _compare_conc(rx.get_concentrations(), prm.get()[:, order], TOL_VOL)
    _compare_conc(rx.boundary_concentrations(solution=[5])[None, 0], prm.inflow[order][None, :], TOL_VOL)
    assert rx.get_concentrations()[0, rx.components.index("Ca")] > 1e-4  # the calcite the reaction dissolved
    with pytest.raises(InvalidInputError, match=r"SOLUTION 6 is not defined by the input \(defined: \[1, 2, 5\]\)"):
        Reactor.from_phreeqc(text, 3, db, initial={"solution": [5, 6, 1]})


# SURFACE blocks into the cells: one equilibrated with a solution (the diffuse double layer, its area per
# gram and grams given), one given by its sites, and cells with none (-1)
TEXT_SU = TEXT.split("EQUILIBRIUM_PHASES 1")[0] + """EQUILIBRIUM_PHASES 1
 Calcite 0 0.1
END
SURFACE 1
 -equilibrate 2
 Hfo_wOH 2e-3 600 0.5
 Hfo_sOH 5e-5
SURFACE 2
 Hfo_wOH 1e-3 600 0.2
 Hfo_sOH 2e-5
END
"""
SU_SPECIES = ("Hfo_wOH", "Hfo_wOH2+", "Hfo_wO-", "Hfo_wOCa+", "Hfo_wOMg+", "Hfo_sOHCa+2", "Hfo_wCO3-",
              "Hfo_wHCO3")
IC_SU = {"solution": [1, 2, 1, 2, 1, 2], "equilibrium_phases": [1, -1, 1, -1, 1, 1], "surface": [1, 2, -1, 1, 2, 1]}


@pytest.mark.parametrize("per", ["cell", "water", "rock"])
def test_surfaces_from_phreeqc_match_phreeqcrm(db, per):
    """SURFACE n into cells as PhreeqcRM's InitialPhreeqc2Module puts them (ic1's fourth row,
    SetUnitsSurface 0/1/2: sites and grams per litre of cell, of water or of rock, times RV): the cells'
    concentrations before any step, then pH, water, every surface species and the concentrations after an
    equilibrium step and after a transport step bringing SOLUTION 0 in; tolerances as above (bench.TOL_REL,
    TOL_PH, TOL_VOL)."""
    pytest.importorskip("phreeqcrm")
    code = {"cell": 0, "water": 1, "rock": 2}[per]
    selected = ("SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n"
                f" -molalities {' '.join(SU_SPECIES)}\n -equilibrium_phases Calcite\nEND\n")
    ic = IC_SU["solution"] + IC_SU["equilibrium_phases"] + [-1] * N + IC_SU["surface"] + [-1] * N * 3
    prm = RB.PhreeqcRMColumn(N, 1, False, str(db.path), text=TEXT_SU + selected, ic=ic, porosity=POROSITY,
                             saturation=SATURATION, volume=RV, units_pp=0, units_ex=0, units_su=code, inflow=0)
    rx = Reactor.from_phreeqc(TEXT_SU, N, db, initial=IC_SU, units="mol/L", porosity=POROSITY,
                              saturation=SATURATION, representative_volume=RV, units_surface=per)
    assert sorted(prm.components) == sorted(rx.components)
    order = [prm.components.index(k) for k in rx.components]
    _compare_conc(rx.get_concentrations(), prm.get()[:, order], TOL_VOL)
    f = np.array(RV) * {"cell": np.ones(N), "water": np.array(POROSITY), "rock": 1 - np.array(POROSITY)}[per]
    sites = rx.surface @ np.array([s.startswith("Hfo_w") for s in rx.surface_species], dtype=float)
    assert sites[1] == pytest.approx(1e-3 * f[1], rel=1e-12) and sites[2] == 0.0  # cell 2: no surface (-1)

    def check():
        assert (rx.status == 0).all(), rx.message
        out = prm.output()
        assert np.max(np.abs(rx.pH - out["pH"])) <= RB.TOL_PH
        assert _rel(rx.W, out["mass_H2O"], 0.0) <= RB.TOL_REL
        for s in SU_SPECIES:
            ref = out[f"m_{s}(mol/kgw)"] * out["mass_H2O"]
            ours = rx.surface[:, rx.surface_species.index(s)]
            assert np.all((ref > 0) == (ours > 0)), s
            assert _rel(ours, ref, 1e-14) <= RB.TOL_REL, (s, _rel(ours, ref, 1e-14))
        _compare_conc(rx.get_concentrations("mol/L"), prm.get()[:, order], RB.TOL_REL)

    prm.run()
    rx.step()
    check()
    inflow = rx.boundary_concentrations(solution=0)
    prm.set(RB.shift(prm.get(), prm.inflow))
    rx.set_concentrations(RB.shift(rx.get_concentrations(), inflow))
    prm.run()
    rx.step()
    check()
