"""Reduced nitrogen added in a reaction step to a water without a redox couple, against IPhreeqc, live.

NH3 or NH4Cl (1e-10 .. 1e-2 mol) into a NaCl water at pe 4, with and without calcite; CH2O(NH3)0.07 (ex7's
organic matter) in 20 steps of one REACTION (one batch of rows: more than a chunk, so the parallel kernel).
The electrons are conserved and the pe must fall by 7 to 13 units; every species of N but N2 is negligible
at the start's pe, which made Newton's Jacobian singular on the way (``aqueous_solve.nested_pe``).

Compared as ``compare`` compares a step (pH, pe, log10 molality of every species above 1e-12 mol/kgw, SI,
within ``TOL_LOG``; the pe and what depends on it excused only where PHREEQC's own state is inside its
tolerance on the electrons). PHREEQC runs with ``KNOBS -convergence_tolerance 1e-12``: at its default
(1e-8) its hydrogen balance, which carries the electrons, stops at ~2e-6 mol, and in these waters its pe
then depends on where it started (NH3 1e-10 mol: pe -2.8127 when the solution is defined in the same
simulation with a SELECTED_OUTPUT of pH and pe, pe +3.0 through ``IPhreeqcPeer``'s input; NH4Cl 1e-2 mol:
pe -3.14137 or -3.14140), 3e-5 to 6 units apart; at 1e-12 it lands on chemsolve's state (observed pH within
1.3e-9, pe within 1.4e-8 from 1e-8 mol up; at 1e-10 mol within 1e-4, an electron total of 1e-9 mol, excused
by PHREEQC's own tolerance even at 1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest

import chemsolve.aqueous as aq
from chemsolve.aqueous.compare import TOL_LOG, _diff
from chemsolve.aqueous.phreeqc_input import run_phreeqc_input
from chemsolve.status import Status

pytest.importorskip("phreeqc")

KNOBS = "KNOBS\n -convergence_tolerance 1e-12\n"  # PHREEQC's, see the module doc (not read by chemsolve)
AMOUNTS = ("1e-10", "1e-8", "1e-6", "1e-4", "1e-3", "1e-2")


def _steps(text: str, db):
    """chemsolve's and PHREEQC's steps of ``text``, paired and compared (``compare._diff``)."""
    from chemsolve.aqueous.peer import IPhreeqcPeer

    ours = run_phreeqc_input(text, db)
    assert ours.success, ours.stopped
    peer = IPhreeqcPeer(db.path)
    theirs = peer.run(KNOBS + text)
    assert theirs is not None, peer.error
    assert len(theirs) == len(ours.steps)
    return ours, [_diff(db, a, b) for a, b in zip(ours.steps, theirs)]


def _water(calcite: bool) -> str:
    eq = "EQUILIBRIUM_PHASES 1\n Calcite 0 10\n" if calcite else ""
    return f"SOLUTION 1\n Na 1\n Cl 1\nSAVE solution 1\nEND\nUSE solution 1\n{eq}"


@pytest.mark.parametrize("calcite", [False, True], ids=["nacl", "calcite"])
@pytest.mark.parametrize("formula", ["NH3", "NH4Cl"])
def test_reduced_nitrogen_step_matches_iphreeqc(db, formula, calcite):
    # one simulation per amount: each step from the same saved water, as a single step is (not a batch)
    for amount in AMOUNTS:
        text = _water(calcite) + f"REACTION 1\n {formula} 1\n {amount}\nEND\n"
        ours, steps = _steps(text, db)
        r = ours.steps[-1].result
        d = steps[-1]
        assert r.status == Status.CONVERGED and r.certificate.passed, (amount, r.message)
        assert d.agrees, (amount, d)
        # the pe itself is compared (not excused) from 1e-8 mol up
        if float(amount) >= 1e-8:
            assert not d.pe_excused and d.dpe <= TOL_LOG, (amount, d.dpe)
        if not calcite:
            # the pe travels: it is the nested pe search that converged, the other rungs failed
            assert "over pe" in r.message, (amount, r.message)


def test_reduced_nitrogen_ph_and_pe(db):
    """The reproducer of the issue, by numbers: NH3 1e-3 mol into 1 mmol/kgw NaCl (pe 4) gives pH 10.0896,
    pe -8.2048 in IPhreeqc 3.8.6 (default knobs, run live below); before the nested pe search chemsolve's
    every rung failed (NONFINITE)."""
    ip_text = ("SELECTED_OUTPUT\n -reset false\n -pH true\n -pe true\n"
               "SOLUTION 1\n Na 1\n Cl 1\nREACTION 1\n NH3 1\n 1e-3\nEND\n")
    from conftest import iphreeqc

    ip = iphreeqc(db)
    assert ip.RunString(ip_text) == 0, ip.GetErrorString()
    so = ip.GetSelectedOutput()
    w = run_phreeqc_input("SOLUTION 1\n Na 1\n Cl 1\nEND\n", db).steps[0].result
    r = aq.react(w, reaction={"NH3": 1e-3})
    assert r.status == Status.CONVERGED and r.certificate.passed, r.message
    assert abs(r.pH - so["pH"][-1]) < TOL_LOG and abs(r.pe - so["pe"][-1]) < TOL_LOG
    assert abs(so["pe"][-1] - (-8.2048)) < 1e-3  # the peer's value quoted above


def test_organic_nitrogen_batch_matches_iphreeqc(db):
    """CH2O(NH3)0.07 into a calcite water in 20 steps of one REACTION: one batch of 20 rows (two chunks,
    solve_batch's parallel loop, each row chained from its predecessor), every row as IPhreeqc's."""
    amounts = " ".join(f"{x:.6g}" for x in np.logspace(-6, -2, 20))
    text = _water(True) + f"REACTION 1\n CH2O(NH3)0.07 1\n {amounts}\nEND\n"
    ours, steps = _steps(text, db)
    react = [d for d in steps if d.state == "react"]
    assert len(react) == 20
    for k, d in enumerate(react):
        assert d.status == "CONVERGED" and d.certified, (k, d.note)
        assert d.agrees and not d.pe_excused, (k, d)


def test_organic_nitrogen_batch_equals_single_rows(db):
    """The same algorithm for a batch and a single step: react() on a list of rows gives, row by row, the
    state react() gives for that row alone, within TOL_LOG (each row converges to the one root: a batch
    row may start from its predecessor's solution, so the iterates, not the root, differ)."""
    w = run_phreeqc_input("SOLUTION 1\n Na 1\n Cl 1\nEND\n", db).steps[0].result
    x = np.array([1e-8, 1e-5, 1e-4, 3e-3, 1e-2])
    batch = aq.react([w] * len(x), reaction={"CH2O(NH3)0.07": x})
    assert np.all(batch.status == Status.CONVERGED), batch.message
    for k in range(len(x)):
        one = aq.react(w, reaction={"CH2O(NH3)0.07": float(x[k])})
        assert one.status == Status.CONVERGED, one.message
        assert abs(one.pH - batch.pH[k]) < TOL_LOG and abs(one.pe - batch.pe[k]) < TOL_LOG, k


def test_sulfide_with_dinitrogen_matches_iphreeqc(db):
    """H2S and N2 added together to the NaCl water (the case test_aqueous_gas left out of its random gas
    sets because chemsolve's step did not converge on it): the same cause (N2 and HS- alone at the
    start's pe), the same rung; pH, pe and every species as IPhreeqc's."""
    text = _water(False) + "REACTION 1\n H2S 0.02\n N2 1e-3\n 1\nEND\n"
    ours, steps = _steps(text, db)
    d = steps[-1]
    assert d.status == "CONVERGED" and d.certified, d.note
    assert d.agrees and not d.pe_excused, d
