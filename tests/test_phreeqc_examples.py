"""The USGS PHREEQC examples (and variants) run from the same input text in chemsolve and in IPhreeqc
(the PyPI ``phreeqc`` package, PHREEQC 3.8.6, on the same database file), step by step.

Agreement, where PHREEQC converges (it does on every step here): pH, pe, log10 molality of every
species above 1e-12 mol/kgw and every saturation index within 1e-5; mass of water and phase moles
within 1e-6 relative (phase moles relative to at least 1e-12 mol); chemsolve converges on every step
and its certificate passes on every step. Two documented exceptions, each checked to be what it is
(``chemsolve.aqueous.compare``):

- a SOLUTION with no solutes: PHREEQC prints its starting point without iterating (pH 6.99993 for
  pH 7 given); chemsolve's pH is the one given;
- a reaction step whose pe nothing poises (gypsum in pure water): PHREEQC's hydrogen balance carries
  the electrons with a tolerance of 1e-8 x (moles H + 2 moles O) and leaves the pe wherever it
  stopped inside it; there the pe and what depends on it are not compared, and the test checks
  that PHREEQC's own state is inside that tolerance while chemsolve's certificate holds the
  electron balance to 1e-9 relative.

The table of docs/guide/phreeqc_examples.md comes from the same comparison
(``python -m chemsolve.aqueous.compare --markdown``).
"""

from pathlib import Path

import pytest

pytest.importorskip("phreeqc")

from chemsolve.aqueous.compare import PURE_WATER_NOTE, TOL_LOG, TOL_REL, compare_input  # noqa: E402
from chemsolve.aqueous.peer import IPhreeqcPeer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")
DATA = Path(__file__).parent / "data" / "phreeqc_examples"
EXAMPLES = sorted(DATA.glob("*.pqi"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_agrees_with_iphreeqc_step_by_step(path):
    c = compare_input(path.read_text(), "phreeqc.dat", name=path.name)
    assert c.aligned, (c.n_ours, c.n_peer, c.peer_error)
    assert c.steps, "no calculation"
    for d in c.steps:
        where = f"{path.name} sim {d.sim} {d.state} step {d.step}"
        assert d.peer_ok, f"{where}: {d.note}"
        assert d.status == "CONVERGED" and d.certified, f"{where}: {d.status} {d.note}"
        if d.note == PURE_WATER_NOTE:
            # PHREEQC's un-iterated start: its pH is off the given one by 6.6e-5; the rest agrees
            assert d.dpH < 1e-4 and d.dsi < TOL_LOG and d.dW <= TOL_REL, where
            continue
        assert d.agrees, (f"{where}: dpH {d.dpH:.2e} dpe {d.dpe:.2e} (excused {d.pe_excused}) dlogm {d.dlogm:.2e} "
                          f"({d.dlogm_where}) dSI {d.dsi:.2e} ({d.dsi_where}) dW {d.dW:.2e} dphase {d.dphase:.2e} "
                          f"({d.dphase_where})")
        if d.pe_excused:
            # only where PHREEQC cannot resolve the pe, and its own state shows it
            assert not d.poised and d.pe_resolution > TOL_LOG and d.peer_e_residual <= d.e_tolerance, where


def test_phreeqc_does_not_iterate_a_solution_without_solutes():
    """The cause of the pure-water exception, shown on PHREEQC alone: pH 7 given, 6.99993 printed;
    with 1e-10 mol/kgw of Na it iterates and prints 7.0."""
    p = IPhreeqcPeer("phreeqc.dat")
    pure = p.run("SOLUTION 1\n pH 7.0\nEND")[0]
    salted = p.run("SOLUTION 1\n pH 7.0\n Na 1e-7\nEND")[0]
    assert abs(pure.pH - 7.0) > 5e-5
    assert abs(salted.pH - 7.0) < 1e-12


def test_incremental_reactions_report_each_steps_own_amount():
    """Under INCREMENTAL_REACTIONS true PHREEQC's `reaction` column (step_x) is the step's own increment
    (X/N per step of "X in N steps", 0 past the N-th; a list's last amount again past its end) and false
    again gives the total since the start: chemsolve's column equals IPhreeqc's on every row of
    incremental.pqi (both are the same decimal amounts times 1e-3, so to 1e-15 relative)."""
    from conftest import iphreeqc

    from chemsolve.aqueous import load_database
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    text = "SELECTED_OUTPUT 1\n -reset false\n -reaction true\n" + (DATA / "incremental.pqi").read_text()
    ours = [row["reaction"] for row in run_phreeqc_input(text).selected[1]]
    ip = iphreeqc(load_database("phreeqc.dat"))
    assert ip.RunString(text) == 0, ip.GetErrorString()
    theirs = ip.GetSelectedOutput()["reaction"]
    assert len(ours) == len(theirs) == 35
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert abs(a - b) <= 1e-15 * abs(b), (k, a, b)
    assert 0.0 in theirs and 0.001 in theirs  # a step past "4 mmol in 2 steps"; 2 mmol / 2


def test_incremental_reactions_takes_no_option_lines():
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input
    from chemsolve.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"^in\.pqi:3: '-true': INCREMENTAL_REACTIONS takes true or false"):
        run_phreeqc_input("SOLUTION 1\nINCREMENTAL_REACTIONS\n -true\nEND\n", name="in.pqi")
