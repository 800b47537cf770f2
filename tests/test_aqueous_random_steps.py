"""Random reaction steps run from the same PHREEQC input text in chemsolve and in IPhreeqc (PyPI
``phreeqc``, PHREEQC 3.8.6, the same phreeqc.dat), issue 14 item 5 (``chemsolve.aqueous.random_steps``
writes the cases; ``benchmarks/aqueous_random_steps.py`` writes the report of the same 1,000 steps).

Where PHREEQC converges, every calculation must converge in chemsolve, pass its certificate and agree
within ``compare``'s tolerances (pH, pe, log10 molality above 1e-12 mol/kgw, SI within 1e-5; water
mass and phase moles within 1e-6 relative: the issue's figures), with the one documented exception
of tests/test_phreeqc_examples.py (a step whose pe nothing poises). No certificate failure anywhere,
also where PHREEQC fails. Cases PHREEQC fails on are counted, not compared.

Known failures of seed 14 are listed by case (``KNOWN``) with their outcome class, checked to be
still exactly that (a fixed case makes the test fail until it leaves the list), and each class has a
minimal reproduction below marked ``xfail(strict=True)`` with what is known of its cause.
"""

from functools import lru_cache

import pytest

pytest.importorskip("phreeqc")

from chemsolve.aqueous.compare import TOL_LOG, compare_input  # noqa: E402
from chemsolve.aqueous.random_steps import classify, random_case, random_cases, run_cases  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")

SEED = 14
FAST_STEPS = 40  # the first 22 cases of the seed (the fast tier)
SLOW_STEPS = 1000  # the 1,000 steps: 517 cases
# PHREEQC converges on ~98 % of the cases (11 of 517 fail); below this the generator has left the
# ranges where PHREEQC's model means something and the comparison would be hollow
MIN_PEER_CONVERGED = 0.9

# seed 14, by case: chemsolve does not converge where PHREEQC does (none since the nested pe search converged
# case 325, test_goethite_alone_supplies_fe_in_an_unpoised_water)
_NOT_CONVERGED: tuple[int, ...] = ()
# seed 14, by case: a step whose pe PHREEQC cannot resolve, where the only difference is the moles of O2(g),
# which the electron balance sets: 1e-14 mol apart, below PHREEQC's tolerance on the electrons (2e-6 mol
# here; see test_o2_gas_moles_below_phreeqc_resolution)
_O2_MOLES_UNRESOLVED = (153, 212)
KNOWN = {**{i: "not_converged" for i in _NOT_CONVERGED}, **{i: "differs" for i in _O2_MOLES_UNRESOLVED}}


@lru_cache(maxsize=2)
def _results(steps: int):
    return run_cases(random_cases(SEED, steps), "phreeqc.dat", chunk=100)


def _check(results) -> None:
    assert results
    peer_ok = [r for r in results if r.peer_ok]
    assert len(peer_ok) >= MIN_PEER_CONVERGED * len(results), f"PHREEQC converged on {len(peer_ok)}/{len(results)}"
    refused = [(r.case.index, d.state, d.step) for r in results for d in r.steps if d.status == "CHECK_FAILED"]
    assert not refused, f"certificate failures (case, calculation, step): {refused}"
    wrong = []
    for r in peer_ok:
        k = classify(r)
        if k != KNOWN.get(r.case.index, "ok"):
            bad = next((d for d in r.steps if not d.agrees), None)
            what = "-" if bad is None else (
                f"{bad.state} {bad.step} {bad.status} {bad.note[:80]} dpH {bad.dpH:.1e} dpe {bad.dpe:.1e} "
                f"dlogm {bad.dlogm:.1e} ({bad.dlogm_where}) dSI {bad.dsi:.1e} ({bad.dsi_where}) dW {bad.dW:.1e} "
                f"dphase {bad.dphase:.1e} ({bad.dphase_where})")
            wrong.append(f"case {r.case.index}: {k}, listed {KNOWN.get(r.case.index, 'ok')}: {what}")
        for d in r.steps:
            if d.pe_excused:  # the documented exception, only where PHREEQC cannot resolve the pe
                assert not d.poised and d.pe_resolution > TOL_LOG and d.peer_e_residual <= d.e_tolerance, \
                    (r.case.index, d.state, d.step)
    assert not wrong, "\n".join(wrong)


def test_random_steps_fast():
    """The first 40 reaction steps (22 cases) of seed 14."""
    res = _results(FAST_STEPS)
    assert sum(len(r.react) for r in res) >= FAST_STEPS
    _check(res)


@pytest.mark.slow  # 517 cases, both programs: about half a minute once the kernels are compiled
def test_random_steps_1000():
    res = _results(SLOW_STEPS)
    assert sum(len(r.react) for r in res) >= SLOW_STEPS
    _check(res)


def test_cases_are_deterministic_and_standalone():
    a, b = random_case(SEED, 7), random_case(SEED, 7)
    assert a == b and a.text != random_case(SEED, 8).text and a.text.endswith("END\n")
    assert random_cases(SEED, FAST_STEPS)[:3] == random_cases(SEED, SLOW_STEPS)[:3]


# ------------------------------------------------------------------ the known failures, reduced
TRACE_REDOX = """SOLUTION 1
  temp 100
  pH 6.3
  pe 7.9
  Fe 1e-6
  C(4) 0.1
  Mg 166
{ca}  Cl 332 charge
EQUILIBRIUM_PHASES 1
  Dolomite 0 0.25
END
"""


def _assert_agrees(text: str) -> None:
    c = compare_input(text, "phreeqc.dat")
    assert c.aligned, (c.n_ours, c.n_peer, c.peer_error)
    for d in c.steps:
        assert d.status == "CONVERGED" and d.certified, (d.state, d.status, d.note)
        assert d.agrees, (d.state, d.dpH, d.dpe, d.dlogm, d.dlogm_where, d.dsi, d.dsi_where)


def test_trace_redox_water_with_calcium_converges():
    """The control of the reduction below: the same water with 1e-3 mmol/kgw of Ca agrees."""
    _assert_agrees(TRACE_REDOX.format(ca="  Ca 1e-3\n"))


def test_trace_redox_water_gains_an_element_from_a_phase():
    """Case 231 of seed 1 reduced: a Ca-free MgCl2 water with 1e-6 mmol/kgw Fe (the pe barely poised) and
    dolomite (it brings Ca) at 100 C. Was NONFINITE in every formulation: the missing Ca guess threw the
    whole row onto the cold first guess, whose sweeps leave a component a phase touches unswept (Mg held
    at its total ignoring gamma: the charge balance drove the pH to 14 and the water to a gram). Now the
    row keeps the water's speciation and Ca starts where PHREEQC starts it."""
    _assert_agrees(TRACE_REDOX.format(ca=""))


def test_goethite_alone_supplies_fe_in_an_unpoised_water():
    """Goethite at SI -0.9 the only source of Fe, beside calcite, in a water with no other redox couple at
    work (PHREEQC: goethite dissolving 5e-14 mol). The Fe and electron balances are both dominated by the
    goethite dissolved and nearly opposite (each Fe(3) species carries +1 Fe and -1 e-), so the Jacobian is
    nearly singular there: every formulation failed (LINE_SEARCH_FAILED) until the nested pe search
    (``aqueous_solve.nested_pe``), where at each fixed pe the electron row is gone."""
    _assert_agrees(random_case(SEED, 325).text)


@pytest.mark.xfail(strict=True, reason=(
    "agrees but for the moles of O2(g) (3.645e-12 vs 3.634e-12 mol), which in this unpoised step the "
    "electron balance sets: 1e-14 mol apart, far below PHREEQC's tolerance on the electrons "
    "(1e-8 x (H + 2 O) = 2.2e-6 mol); chemsolve's state is certified. Case 212 is the same with O2(g) absent "
    "in chemsolve (SI -57.2) and at 2.8e-15 mol in PHREEQC. The comparison has no exception for phase moles "
    "PHREEQC cannot resolve (only for the pe): not widened here"))
def test_o2_gas_moles_below_phreeqc_resolution():
    _assert_agrees(random_case(SEED, 153).text)


# A SOLUTION's redox couple above 100 C (21 cases of seed 14 differed before: H2(g) SI by up to 7e-5):
# PHREEQC substitutes the couple for e- in each reaction it rewrites and takes the pressure term over
# the reaction that results, so the couple's log K carries dV (P - 1 atm) of its own species and H2O
# at the saturation pressure PHREEQC takes above 100 C (3.9 atm at 143 C, 4.7 at 150 C, 15.4 at 200 C).
@pytest.mark.parametrize("temp", [100, 110, 143])
def test_redox_couple_O(temp):
    """Before the fix: H2(g) SI 1.0e-5 off at 110 C, 6.3e-5 at 143 C; 1e-14 at 100 C (1 atm)."""
    _assert_agrees(f"SOLUTION 1\n temp {temp}\n pH 7\n redox O(0)/O(-2)\n O(0) 0.1\n Na 1\n Cl 1\nEND\n")


@pytest.mark.parametrize("text", [
    # before: Fe+2 1e-4 and H2(g) SI 1.9e-4 off
    "SOLUTION 1\n temp 200\n pH 6\n redox O(0)/O(-2)\n O(0) 0.001\n Fe 0.1\n Na 1\n Cl 1.2\nEND\n",
    # before: pyrite's SI 1.3e-2 off
    "SOLUTION 1\n temp 150\n pH 5\n redox Fe(2)/Fe(3)\n Fe(2) 0.1\n Fe(3) 0.01\n S 1\n N 0.5\n Na 1\n Cl 1\nEND\n",
    # couples per element (agreed before too)
    "SOLUTION 1\n temp 130\n pH 7.5\n N(5) 1\n N(-3) 0.1\n O(0) 0.01\n Fe 0.01 O(0)/O(-2)\n Mn 0.01 N(5)/N(-3)\n"
    " Na 3\n Cl 1 charge\nEND\n",
], ids=["O_couple_200C_Fe", "Fe_couple_150C", "per_element_130C"])
def test_redox_couples_above_100C(text):
    _assert_agrees(text)


@pytest.mark.parametrize("temp", [25, 143])
def test_phase_with_electrons_holds_a_total_under_a_couple(temp):
    """Pyrite (FeS2 + 2 H+ + 2 e- = Fe+2 + 2 HS-) fixes the Fe total of a SOLUTION with a default
    couple: PHREEQC rewrites the phase's e- with the couple, as the solver does; the certificate took
    the pe instead and refused the correct state (CHECK_FAILED, pyrite 'SI' 18.9 off at 25 C)."""
    _assert_agrees(f"SOLUTION 1\n temp {temp}\n pH 7\n redox O(0)/O(-2)\n O(0) 0.1\n S(6) 1\n S(-2) 0.001\n"
                   " Fe 0.01 Pyrite 0\n Na 3\n Cl 1\nEND\n")
