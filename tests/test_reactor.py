"""The reactor (``chemsolve.reactor``): each cell's step is the reaction step ``react`` computes, components
are conserved, a failed cell keeps its state, and a column agrees with PhreeqcRM run live.

Tolerances: against ``react`` on the same cell, 1e-12 in pH and 1e-12 relative in moles (the same
equations and start, one batch; what is left is the order of summation). Against PhreeqcRM: those of
``chemsolve.reactor.bench`` (pH 1e-7, moles 1e-6 relative; 1e-9 to 4e-8 seen after 11 steps).
"""

from __future__ import annotations

import numpy as np
import pytest

import chemsolve.aqueous as aq
from chemsolve.aqueous import Solution
from chemsolve.errors import InvalidInputError
from chemsolve.reactor import Reactor

PHASES = {"Calcite": (0.0, 0.1), "Dolomite": (0.0, 0.05)}
EXCHANGE = {"CaX2": 5e-3, "NaX": 1e-3}


@pytest.fixture(scope="module")
def water(db):
    return Solution(db, totals={"Ca": 1e-3, "C(4)": 2e-3, "Na": 1e-3, "Cl": 1e-3, "Mg": 5e-4}, units="mol/kgw",
                    pH=7.0, charge="pH").speciate()


def _system_totals(rm):
    """Moles of each element in every cell: water + exchanger + phases."""
    out = rm.totals().copy()
    db = rm.db
    for q, p in enumerate(rm.phases):
        for el, k in db.phases[p].elements.items():
            if el in rm.elements:
                out[:, rm.elements.index(el)] += k * rm.phase_moles[:, q]
    return out


def test_a_step_is_the_reaction_step(db, water):
    rm = Reactor(db, 3, solution=water, phases=PHASES, exchange=EXCHANGE)
    assert (rm.step() == 0).all()
    one = aq.react(water, phases=PHASES, exchange=EXCHANGE)
    assert one.success
    for r in range(3):
        assert abs(rm.pH[r] - one.pH) < 1e-12
        for q, p in enumerate(rm.phases):
            assert abs(rm.phase_moles[r, q] - one.phase_moles[p]) <= 1e-12 * one.phase_moles[p]
        for j, s in enumerate(rm.exchange_species):
            assert abs(rm.exchange[r, j] - one.exchange[s]) <= 1e-12 * max(one.exchange[s], 1e-30)
    # a second step after transport brought CaCl2: the step react computes from the first one's state
    c = rm.get_concentrations()
    c[:, rm.components.index("Ca")] += 5e-4
    c[:, rm.components.index("Cl")] += 1e-3
    rm.set_concentrations(c)
    assert (rm.step() == 0).all()
    from chemsolve.aqueous.reaction_step import add_formulas

    two = aq.react(add_formulas(one.state, {"CaCl2": 5e-4 * one.water_mass}),
                   phases={k: (0.0, v) for k, v in one.phase_moles.items()}, exchange=one.exchanger)
    assert two.success
    assert abs(rm.pH[0] - two.pH) < 1e-11
    for q, p in enumerate(rm.phases):
        assert abs(rm.phase_moles[0, q] - two.phase_moles[p]) <= 1e-11 * two.phase_moles[p]


def test_components_conserved_and_round_trip(db, water):
    rm = Reactor(db, 4, solution=water, phases=PHASES, exchange=EXCHANGE)
    before = _system_totals(rm)
    rm.step()
    after = _system_totals(rm)
    assert np.all(np.abs(after - before) <= 1e-13 * np.abs(before) + 1e-18)
    c = rm.get_concentrations()
    cons = rm.conserved.copy()
    rm.set_concentrations(c)  # the components say everything about the water: nothing changes
    assert np.allclose(rm.conserved, cons, rtol=1e-14, atol=1e-14)
    assert rm.components[:3] == ["H", "O", "Charge"]
    m = rm.get_concentrations(units="mol")
    assert np.allclose(m, c * rm.W[:, None], rtol=1e-15, atol=0.0)


def test_a_failed_cell_keeps_its_state_and_the_others_go_on(db, water):
    rm = Reactor(db, 4, solution=water, phases=PHASES)
    rm.step()
    c = rm.get_concentrations()
    good = Reactor(db, 4, solution=water, phases=PHASES)
    good.step()
    c_bad = c.copy()
    c_bad[2, rm.components.index("O")] = 0.01  # 0.01 mol of O: no water for the solutes (the solver fails)
    rm.set_concentrations(c_bad)
    kept = rm.water_elements[2].copy(), rm.phase_moles[2].copy(), rm.pH[2]
    st = rm.step()
    assert st[2] != 0 and (np.delete(st, 2) == 0).all()
    assert rm.message[2] and "CONVERGED" not in rm.message[2].split(":")[0]
    assert np.array_equal(rm.phase_moles[2], kept[1]) and rm.pH[2] == kept[2]
    good.set_concentrations(c)
    good.step()
    for r in (0, 1, 3):  # the others as if the bad cell were not there
        assert abs(rm.pH[r] - good.pH[r]) < 1e-12


def test_threads_give_identical_cells(db, water):
    from chemsolve.kernels import threads

    used, most = threads()
    if most < 2:
        pytest.skip("one thread only")
    res = []
    for k in (1, 2):
        threads(k)
        rm = Reactor(db, 40, solution=water, phases=PHASES, exchange=EXCHANGE, chunk=4)
        c = rm.get_concentrations()
        c[:, rm.components.index("Na")] *= np.linspace(0.5, 2.0, 40)
        rm.set_concentrations(c)
        rm.step()
        res.append((rm.pH.copy(), rm.phase_moles.copy(), rm.exchange.copy()))
    threads(used)
    for a, b in zip(res[0], res[1]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("exchange", [False, True])
def test_column_agrees_with_phreeqcrm(db, exchange):
    pytest.importorskip("phreeqcrm")
    from chemsolve.reactor import bench as RB

    run = RB.column_run(6, 4, 1, exchange, db)
    assert (run["cs"].status == 0).all()
    for q, (v, n) in RB.compare(run).items():
        tol = RB.TOL_PH if q == "pH" else RB.TOL_REL
        assert n == 6 and v <= tol, (q, v)


def test_bad_input_named(db, water):
    with pytest.raises(InvalidInputError, match="ncells must be at least 1"):
        Reactor(db, 0, solution=water)
    with pytest.raises(InvalidInputError, match="2 waters for 3 cells"):
        Reactor(db, 3, solution=[water, water])
    rm = Reactor(db, 2, solution=water, phases=PHASES)
    with pytest.raises(InvalidInputError, match=r"expected shape \(2, 8\)"):
        rm.set_concentrations(np.zeros((2, 3)))
    c = rm.get_concentrations()
    c[1, rm.components.index("Mg")] = np.nan
    with pytest.raises(InvalidInputError, match="cell 1, Mg"):
        rm.set_concentrations(c)
    c[1, rm.components.index("Mg")] = -1.0
    with pytest.raises(InvalidInputError, match="cell 1, Mg: negative"):
        rm.set_concentrations(c)
    with pytest.raises(InvalidInputError, match="units="):
        rm.get_concentrations(units="mg/L")


EX11_ADVECTION = """SOLUTION 0  CaCl2
        units            mmol/kgw
        temp             25.0
        pH               7.0     charge
        pe               12.5    O2(g)   -0.68
        Ca               0.6
        Cl               1.2
SOLUTION 1-40  Initial solution for column
        units            mmol/kgw
        temp             25.0
        pH               7.0     charge
        pe               12.5    O2(g)   -0.68
        Na               1.0
        K                0.2
        N(5)             1.2
END
EXCHANGE 1-40
        -equilibrate 1
        X                0.0011
END
SELECTED_OUTPUT
        -reset           false
        -step
        -pH
        -totals          Na Cl K Ca
        -high_precision true
ADVECTION
        -cells           40
        -shifts          100
        -punch_cells     40
        -punch_frequency 1
END
"""


def _ex11_waters(db):
    """ex11's solution 0 (the CaCl2 inflow) and solutions 1-40 (the column), as its input gives them."""
    kw = {"units": "mmol/kgw", "pH": "7.0 charge", "pe": "12.5 O2(g) -0.68"}
    return (Solution(db, {"Ca": 0.6, "Cl": 1.2}, **kw).speciate(),
            Solution(db, {"Na": 1.0, "K": 0.2, "N(5)": 1.2}, **kw).speciate())


def _phreeqc_column(db, text):
    """PHREEQC's selected output of a column input (``-step``, ``-pH``, ``-totals``, one punch cell), live."""
    phreeqc = pytest.importorskip("phreeqc")
    ip = phreeqc.Phreeqc()
    assert ip.LoadDatabase(str(db.path)) == 0
    assert ip.RunString(text) == 0, ip.GetErrorString()
    return ip.GetSelectedOutput()


def _matches_phreeqc(out, so, els, shifts):
    """The column's breakthrough in its punch cell against PHREEQC's after every shift: the totals within
    1e-6 relative above 1e-12 mol/kgw (below it, both below 2e-12), pH within 1e-7. (ours, theirs)."""
    steps = np.array(so["step"])
    theirs = np.column_stack([np.array(so[f"{e}(mol/kgw)"])[steps >= 1] for e in els])
    assert out.success
    ours = out.totals[:, 0, :]
    assert ours.shape == theirs.shape == (shifts, len(els))
    big = np.abs(theirs) > 1e-12
    assert np.max(np.abs(ours[big] / theirs[big] - 1.0)) < 1e-6
    assert np.all(np.abs(ours[~big]) < 2e-12)
    assert np.max(np.abs(out.pH[:, 0] - np.array(so["pH"])[steps >= 1])) < 1e-7
    return ours, theirs


def test_ex11_advection_matches_phreeqc(db):
    """PHREEQC's example 11, its ADVECTION part (the input above is ex11's, without its graphs), run live
    by IPhreeqc and by ``reactor.column.advection``: the breakthrough of Na, Cl, K and Ca in cell 40 over
    100 shifts within 1e-6 relative above 1e-12 mol/kgw (4e-8 seen), pH within 1e-7."""
    from chemsolve.aqueous import equilibrate_exchange
    from chemsolve.reactor.column import advection

    so = _phreeqc_column(db, EX11_ADVECTION)
    els = ["Na", "Cl", "K", "Ca"]
    inflow, cell = _ex11_waters(db)
    out = advection(db, cell, inflow, cells=40, shifts=100, exchange=equilibrate_exchange(cell, {"X": 0.0011}),
                    punch_cells=[40], totals=els)
    ours, _ = _matches_phreeqc(out, so, els, 100)
    # the front: Na and K leave, Ca arrives after the exchanger's 1.1 mmol of sites are turned over
    assert ours[-1, 3] > 5.9e-4 and ours[-1, 0] < 1e-12


def test_ex14_advection_with_exchange_and_surface_matches_phreeqc(db):
    """PHREEQC's example 14 whole: its cell (a brine with dolomite and calcite, an exchanger and an arsenic
    surface equilibrated with it) flushed by 200 pore volumes of its precipitation water (ADVECTION,
    1 cell), live in IPhreeqc and in ``reactor.column.advection`` from the same input's numbered blocks
    (``input_definitions``): Ca, Mg, Na and As after every shift within 1e-6 relative above 1e-12 mol/kgw
    (1.5e-8 seen, As), pH within 1e-7 (1.5e-9 seen). The arsenic leaves the surface as the pH and the
    sodium change: its peak (1.28 umol/kgw) must come out in both."""
    from pathlib import Path

    from chemsolve.aqueous.phreeqc_input import input_definitions
    from chemsolve.reactor.column import advection

    text = (Path(__file__).parent / "data" / "phreeqc_examples" / "ex14.pqi").read_text()
    adv = text + ("SELECTED_OUTPUT\n -reset false\n -step\n -pH\n -totals Ca Mg Na As\n -high_precision true\n"
                  "ADVECTION\n -cells 1\n -shifts 200\n -punch_cells 1\n -punch_frequency 1\nEND\n")
    so = _phreeqc_column(db, adv)
    els = ["Ca", "Mg", "Na", "As"]
    d = input_definitions(text, db, name="ex14.pqi")
    out = advection(d.db, d.solutions[1], d.solutions[0], cells=1, shifts=200, phases=d.equilibrium_phases[1],
                    exchange=d.exchangers[1], surface=d.surfaces[1], punch_cells=[1], totals=els)
    ours, theirs = _matches_phreeqc(out, so, els, 200)
    k = int(np.argmax(theirs[:, 3]))
    assert 0 < k < 199 and int(np.argmax(ours[:, 3])) == k and theirs[k, 3] > 1e-6  # the As peak, inside the run


def test_an_element_below_min_total_is_absent_and_certified(db, water):
    """A cell whose exchanger holds 1e-63 mol of an element its water lacks (ex11's NH4X after the inflow
    water without N arrived): the element is absent (PHREEQC's MIN_TOTAL, 1e-25 mol) and the step is
    certified against what the solver was given, not CHECK_FAILED."""
    rm = Reactor(db, 2, solution=water, exchange=[{"NaX": 1e-3, "KX": 1e-63}, {"NaX": 1e-3, "KX": 1e-4}],
                 elements=["K"])
    assert (rm.step() == 0).all(), rm.message


def test_ex11_transport_with_dispersion_matches_phreeqc(db):
    """ex11's TRANSPORT part (40 cells of 2 mm, dispersivity 2 mm, flux boundaries, no diffusion,
    -correct_disp true) live in IPhreeqc and in ``reactor.column.transport`` (the same mixing factors
    and number of mixes per shift, PHREEQC's init_mix): the breakthrough in cell 40 within 1e-6
    relative above 1e-12 mol/kgw (6e-8 seen), pH within 1e-7."""
    from chemsolve.aqueous import equilibrate_exchange
    from chemsolve.reactor.column import dispersion_mixes, transport

    nmix, m, m1 = dispersion_mixes([0.002] * 40, [0.002] * 40)
    assert nmix == 4 and m[0] == 0.0 and m1[-1] == 0.0 and abs(m1[0] - 1.05 / 4) < 1e-15
    text = EX11_ADVECTION.split("ADVECTION")[0] + (
        "TRANSPORT\n -cells 40\n -lengths 40*0.002\n -shifts 100\n -time_step 720.0\n -flow_direction forward\n"
        " -boundary_conditions flux flux\n -diffusion_coefficient 0.0e-9\n -dispersivities 40*0.002\n"
        " -correct_disp true\n -punch_cells 40\n -punch_frequency 1\nEND\n")
    so = _phreeqc_column(db, text)
    els = ["Na", "Cl", "K", "Ca"]
    inflow, cell = _ex11_waters(db)
    out = transport(db, cell, inflow, cells=40, shifts=100, lengths=0.002, dispersivities=0.002,
                    exchange=equilibrate_exchange(cell, {"X": 0.0011}), punch_cells=[40], totals=els)
    _matches_phreeqc(out, so, els, 100)


def test_dask_split_gives_identical_cells(db, water):
    """The cells split into blocks over a LocalCluster of 2 worker processes: every per-cell array, the
    certificate's verdicts and the messages equal a local step's, bit for bit, over two steps."""
    distributed = pytest.importorskip("distributed")

    def make():
        rm = Reactor(db, 30, solution=water, phases=PHASES, exchange=EXCHANGE)
        c = rm.get_concentrations()
        c[:, rm.components.index("Na")] *= np.linspace(0.5, 3.0, 30)
        rm.set_concentrations(c)
        return rm

    a = make()
    a.step()
    a.step()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        b = make()
        b.step(client=client)
        b.step(client=client, blocks=3)
    for name in Reactor._CELL_ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.certificate.passed, b.certificate.passed) and a.message == b.message


@pytest.mark.parametrize("edl", ["", "-no_edl"])
def test_surface_cells_match_phreeqc_over_two_steps(db, edl):
    """Cells with ex8's Hfo surface (diffuse double layer, or -no_edl), an exchanger and calcite: the
    first step and, after transport brought NaOH, the second, against IPhreeqc running the same blocks
    with SAVE and USE (a fresh IPhreeqc). Tolerances those of tests/test_aqueous_surface.py: surface
    species 1e-6 relative above 1e-15 mol, pH 1e-5, psi 1e-6 relative (PHREEQC at -convergence_tolerance
    1e-12; seen: pH 4e-12, surface species 1e-11). A cell's step is also react's on it (1e-11)."""
    phreeqc = pytest.importorskip("phreeqc")
    tot = {"Zn": 1e-4, "Na": 0.1, "N(5)": 0.1, "Ca": 1e-3, "C(4)": 2e-3}
    w = Solution(db, totals=tot, units="mol/kgw", pH=6.0, charge="pH").speciate()
    sites = {"Hfo_s": (5e-6, 600.0, 0.09), "Hfo_w": 2e-4}
    spec = sites if not edl else aq.surface(db, {"Hfo_s": 5e-6, "Hfo_w": 2e-4}, edl="no_edl")
    rm = Reactor(db, 3, solution=w, phases={"Calcite": (0.0, 0.01)}, exchange={"NaX": 1e-3}, surface=spec)
    assert (rm.step() == 0).all()
    one = aq.react(w, phases={"Calcite": (0.0, 0.01)}, exchange={"NaX": 1e-3}, surface=spec)
    assert abs(rm.pH[0] - one.pH) < 1e-11
    c = rm.get_concentrations(units="mol")
    for k in ("Na", "H", "O"):
        c[:, rm.components.index(k)] += 1e-4  # NaOH
    rm.set_concentrations(c, units="mol")
    assert (rm.step() == 0).all()
    surf = "SURFACE 1\n" + (f" {edl}\n" if edl else "") + " Hfo_sOH 5e-6 600 0.09\n Hfo_wOH 2e-4\n"
    text = ("KNOBS\n -convergence_tolerance 1e-12\nSOLUTION 1\n units mol/kgw\n pH 6 charge\n"
            + "".join(f" {k} {v!r}\n" for k, v in tot.items())
            + "EQUILIBRIUM_PHASES 1\n Calcite 0 0.01\nEXCHANGE 1\n NaX 1e-3\n" + surf
            + "SAVE solution 1\nSAVE equilibrium_phases 1\nSAVE exchange 1\nSAVE surface 1\nEND\n"
            + "USE solution 1\nUSE equilibrium_phases 1\nUSE exchange 1\nUSE surface 1\nREACTION 1\n NaOH 1e-4\n"
            + " 1 moles\nSELECTED_OUTPUT 1\n -reset false\n -pH true\n -molalities "
            + " ".join(rm.surface_species) + "\nEND\n")
    ip = phreeqc.Phreeqc()
    assert ip.LoadDatabase(str(db.path)) == 0
    assert ip.RunString(text) == 0, ip.GetErrorString()
    d = {k: v[-1] for k, v in ip.GetSelectedOutput().items()}
    assert abs(rm.pH[0] - d["pH"]) < 1e-5
    for j, s in enumerate(rm.surface_species):  # PHREEQC writes surface species as moles per kgw
        theirs = d[f"m_{s}(mol/kgw)"] * rm.W[0]
        if theirs > 1e-15:
            assert abs(rm.surface[0, j] - theirs) <= 1e-6 * theirs, s
    assert np.array_equal(rm.get(f"surface:{rm.surface_species[0]}"), rm.surface[:, 0])
    # conservation: water + exchanger + surface + calcite over the second step, every element
    before = _system_totals(rm)
    rm.step()
    assert np.all(np.abs(_system_totals(rm) - before) <= 1e-13 + 1e-12 * np.abs(before))
