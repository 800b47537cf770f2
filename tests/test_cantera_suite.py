"""Cantera's own equilibrium tests, reproduced with chemsolve and compared with Cantera run live.

Source: test/python/test_equilibrium.py of the Cantera repository (github.com/Cantera/cantera, read
at commit 11a2381, 2026-08), with its data file test/data/equilibrium.yaml (its four phases are
built here from gri30.yaml's species, as that file does) and Cantera's data files KOH.yaml,
water.yaml, graphite.yaml, nasa_gas.yaml, nasa_condensed.yaml. Reference values come from the
installed Cantera, run in the test, never from Cantera's reference CSV files. The installed Cantera
(3.2) predates some fixes those tests guard (issues #265, #266, #268, #2116): where its solver named
in a test fails, the next Cantera solver is the reference, and where none converges chemsolve's
state is judged by Cantera's own check (element conservation and the chemical-potential test of
``assert_at_equilibrium``, with Cantera's thermo), besides chemsolve's certificate.

========================================================  ==========  ======================================
Cantera test                                              here        feature needed when unsupported
========================================================  ==========  ======================================
EquilTestCases x (element_potential, gibbs, vcs)          supported
  (complete / incomplete / gri30 stoichiometric, lean,
  overconstrained-1, -2)
TestChemEquil.test_relaxed_temperature_limit              supported   (T_bounds plays enforce_temperature_limits)
TestMultiphaseEquil.test_trace_solution_species           supported
TestMultiphase_H2O2_TwoPhase                              no          a second multi-species solution phase
                                                                      (two ideal-gas phases of one mixture)
TestMultiphase_CHO (single phase, gas + graphite)         supported
TestMultiphase_VCS_CHO (gas + graphite)                   supported
TestEquilExtraElements (auto, gibbs, vcs)                 supported
TestKOH_Equil.test_equil_TP                               supported   (Cantera's VCS reference is unphysical
                                                                      above 900 K, as its test says)
TestKOH_Equil.test_equil_HP                               supported
TestEquil_GasCarbon (1 atm)                               supported
TestEquil_GasCarbon (5 atm, graphite present)             partly      molar volume of condensed species
                                                                      (mu = g(T) + v (P - P0)); CEA
                                                                      neglects it, so does chemsolve
Test_IdealSolidSolnPhase_Equil                            no          multi-species condensed solution phase
                                                                      (ideal solid solution)
TestMultiphase_VaporLiquidHydrocarbon                     no          multi-species condensed solution phase
                                                                      (ideal-condensed liquid) and its
                                                                      molar volume
test_excluded_species_extra_element                       supported
test_excluded_species_HP                                  supported
test_excluded_species_TP_polyatomic                       supported
========================================================  ==========  ======================================

Tolerances: mole fractions above 1e-12 within 1e-6 relative of Cantera's (the convergence of
Cantera's solvers: VCS and MultiPhaseEquil stop near 1e-8 here, chemsolve near 1e-14); temperatures
within 1e-5 K (Cantera's HP iteration converges T to ~1e-7 relative); Cantera's own checks at
Cantera's own tolerances (element moles rtol 1e-7, chemical potentials 1e-6 RT); the expected
compositions of the simple cases at pytest.approx's default (1e-6 relative, 1e-12 absolute), as
Cantera's test has them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings

import numpy as np
import pytest

ct = pytest.importorskip("cantera")

from gas_cases import mixture_potential_defect, set_mixture_to, state_from_cantera  # noqa: E402

from chemsolve import Status  # noqa: E402
from chemsolve.errors import InvalidInputError  # noqa: E402
from chemsolve.gas import GasMixture, ThermoRangeWarning  # noqa: E402
from chemsolve.gas import certificate as gcert  # noqa: E402

ATM = ct.one_atm
XTOL = 1e-6
TTOL = 1e-5


def _rel_err(x, ref, floor=1e-12):
    vis = ref > floor
    return float(np.max(np.abs(x[vis] - ref[vis]) / ref[vis])) if vis.any() else 0.0


def _gas_phase(species, elements=None, src="gri30.yaml"):
    el = f"  elements: [{', '.join(elements)}]\n" if elements else ""
    return ct.Solution(yaml=f"phases:\n- name: gas\n  thermo: ideal-gas\n{el}"
                            f"  species: [{{{src}/species: [{', '.join(species)}]}}]\n")


def _try(fn):
    """Run a Cantera call: True, or None when Cantera raises (the installed Cantera is older than the
    test it comes from, or fails where the test expects it to)."""
    try:
        fn()
    except ct.CanteraError:
        return None
    return True


# ---------------------------------------------------------------------------------------------
# EquilTestCases (and TestVCS_EquilTest): the phases of test/data/equilibrium.yaml

_PHASES = {
    "complete": (["O2", "CH4", "H2O", "CO2"], ["C", "H", "O"]),
    "incomplete": (["O2", "CH4", "H2O", "CO2", "CO", "H2", "OH"], ["C", "H", "O"]),
    "overconstrained-1": (["O2", "CH4"], ["C", "H", "O"]),
    "overconstrained-2": (["O2", "CH4", "AR"], ["C", "H", "O", "N", "Ar"]),
    "gri30": (None, None),
}
_CASES = [  # (phase, T, feed, expected moles), as EquilTestCases
    ("complete", 298.0, "CH4:1.0, O2:2.0", dict(CH4=0, O2=0, H2O=2, CO2=1)),
    ("complete", 298.0, "CH4:1.0, O2:3.0", dict(CH4=0, O2=1, H2O=2, CO2=1)),
    ("incomplete", 301.0, "CH4:1.0, O2:2.0", dict(CH4=0, O2=0, H2O=2, CO2=1)),
    ("incomplete", 301.0, "CH4:1.0, O2:3.0", dict(CH4=0, O2=1, H2O=2, CO2=1)),
    ("gri30", 301.0, "CH4:1.0, O2:2.0", dict(CH4=0, O2=0, H2O=2, CO2=1)),
    ("gri30", 301.0, "CH4:1.0, O2:3.0", dict(CH4=0, O2=1, H2O=2, CO2=1)),
    ("overconstrained-1", 301.0, "CH4:1.0, O2:1.0", dict(CH4=1, O2=1)),
    ("overconstrained-2", 301.0, "CH4:1.0, O2:1.0", dict(CH4=1, O2=1)),
]


def _phase(name):
    sp, el = _PHASES[name]
    return ct.Solution("gri30.yaml", transport_model=None) if sp is None else _gas_phase(sp, el)


@pytest.mark.parametrize("solver", ["element_potential", "gibbs", "vcs"])
@pytest.mark.parametrize("case", _CASES, ids=lambda c: f"{c[0]}-{c[2].replace(' ', '')}")
def test_equil_cases(case, solver):
    name, T, feed, moles = case
    gas = _phase(name)
    mix = GasMixture.from_cantera(gas)
    eq = mix.equilibrate(T, 1e5, feed)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    tot = sum(moles.values())
    for sp, n in moles.items():  # Cantera's check: complete combustion / nothing can react
        assert eq.X[mix.species_index(sp)] == pytest.approx(n / tot)
    gas.TPX = T, 1e5, feed
    if _try(lambda: gas.equilibrate("TP", solver)) is None:
        pytest.skip(f"Cantera {ct.__version__}'s {solver} solver fails here (chemsolve's state was checked above)")
    assert np.max(np.abs(eq.X - gas.X)) < 1e-9  # absolute: every mole fraction, trace ones included


# ---------------------------------------------------------------------------------------------
# TestChemEquil.test_relaxed_temperature_limit


def test_relaxed_temperature_limit():
    """An HP state above the phase's max_temp: Cantera (enforce_temperature_limits off) warns and
    extrapolates, so does chemsolve (ThermoRangeWarning); the enthalpy is held (Cantera's check,
    1e-3 J/kg). With the limits enforced Cantera refuses; chemsolve's analogue, T_bounds up to
    max_temp, says the target is infeasible."""
    gas = ct.Solution("gri30.yaml", transport_model=None)
    feed = {"C2H4": 0.19274682199314855, "N2": 0.32751737685952764, "O2": 0.47973580114732384}
    gas.TPX = 299.999, 100002.0, feed
    h0 = gas.enthalpy_mass
    mix = GasMixture.from_cantera("gri30.yaml")
    with pytest.warns(ThermoRangeWarning, match="outside the thermo fit"):
        eq = mix.equilibrate(299.999, 100002.0, feed, mode="HP")
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    assert eq.T > gas.max_temp
    g = eq.to_cantera(ct.Solution("gri30.yaml", transport_model=None))
    assert g.enthalpy_mass == pytest.approx(h0, abs=1e-3)
    # reference: Cantera's element_potential solver (the test's) fails in 3.2; 'auto' then
    for solver in ("element_potential", "auto"):
        gas.TPX = 299.999, 100002.0, feed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if _try(lambda: gas.equilibrate("HP", solver=solver)) is not None or solver == "auto":  # noqa: B023 - called here
                break
    assert abs(eq.T - gas.T) < TTOL and _rel_err(eq.X, gas.X) < XTOL
    with pytest.raises(InvalidInputError, match=r"infeasible HP target .* above"):
        mix.equilibrate(299.999, 100002.0, feed, mode="HP", T_bounds=(200.0, gas.max_temp))


# ---------------------------------------------------------------------------------------------
# TestMultiphaseEquil.test_trace_solution_species


def test_trace_solution_species():
    gas = ct.Solution(yaml="""
phases:
- name: gas
  thermo: ideal-gas
  species: [{nasa_gas.yaml/species: [C, CO, CO2, C2]}]
  skip-undeclared-elements: true
  elements: [C, O]
""")
    mix = GasMixture.from_cantera(gas)
    eq = mix.equilibrate(300.0, 1e5, "CO2:1")
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    assert eq.X[mix.species_index("CO2")] == pytest.approx(1.0)
    for solver in ("gibbs", "vcs"):  # the test's solver (gibbs) fails in Cantera 3.2
        gas.TPX = 300.0, 1e5, "CO2:1"
        if _try(lambda: gas.equilibrate("TP", solver, max_steps=10000)) is not None:  # noqa: B023 - called here
            break
    else:
        pytest.fail("no Cantera solver converged")
    assert np.max(np.abs(eq.X - gas.X)) < 1e-9


# ---------------------------------------------------------------------------------------------
# TestMultiphase_CHO and TestMultiphase_VCS_CHO: C/H/O atoms at 923 K, 1 atm


_SINGLE = [(40, 147, 13), (77, 120, 3), (78, 119, 4), (80, 117, 3), (77, 119, 4), (80, 116, 4)]
_TWO_GIBBS = [(23, 79, 98), (124, 67, 9), (160, 36, 4), (150, 46, 4), (100, 90, 10), (40, 147, 13)]
_TWO_VCS = [(13, 78, 9), (15, 70, 15), (16, 65, 19), (20, 60, 20), (22, 56, 22), (25, 50, 25), (27, 44, 29),
            (30, 36, 34)]


def _cho(C, H, O, graphite, solver, max_steps):
    gas = ct.Solution("gri30.yaml", transport_model=None)
    carbon = ct.Solution("graphite.yaml")
    gas.TPX = 923.0, ATM, {"C": C, "H": H, "O": O}
    x = gas.X.copy()
    mix = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"] if graphite else [])
    eq = mix.equilibrate(923.0, ATM, x)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    phases = [(gas, 1.0), (carbon, 0.0)] if graphite else [(gas, 1.0)]
    cm = ct.Mixture(phases)
    before = np.array([cm.element_moles(e) for e in range(cm.n_elements)])
    # Cantera's checks on chemsolve's state, with Cantera's thermo
    set_mixture_to(cm, gas, eq, feed_moles=1.0)
    after = np.array([cm.element_moles(e) for e in range(cm.n_elements)])
    np.testing.assert_allclose(after, before, rtol=1e-7, atol=1e-12)
    assert mixture_potential_defect(cm) < 1e-6
    # and Cantera's own answer, where the installed Cantera converges
    gas.TPX = 923.0, ATM, x
    cm = ct.Mixture(phases)
    cm.T, cm.P = 923.0, ATM
    if _try(lambda: cm.equilibrate("TP", solver=solver, max_steps=max_steps)) is None:
        return None
    n = np.asarray(cm.species_moles)
    xr = n[: gas.n_species] / n[: gas.n_species].sum()
    assert _rel_err(eq.X, xr) < XTOL
    if graphite:
        assert abs(eq.condensed["C(gr)"] - n[-1]) <= 1e-6 * max(n[-1], 1e-10)
    return True


@pytest.mark.parametrize("C,H,O", _SINGLE, ids=[f"C{c}-H{h}-O{o}" for c, h, o in _SINGLE])
def test_cho_single_phase(C, H, O):
    _cho(C, H, O, False, "gibbs", 2000)


@pytest.mark.parametrize("C,H,O", _TWO_GIBBS, ids=[f"C{c}-H{h}-O{o}" for c, h, o in _TWO_GIBBS])
def test_cho_two_phase_gibbs(C, H, O):
    _cho(C, H, O, True, "gibbs", 5000)


@pytest.mark.parametrize("C,H,O", _TWO_VCS, ids=[f"C{c}-H{h}-O{o}" for c, h, o in _TWO_VCS])
def test_cho_two_phase_vcs(C, H, O):
    _cho(C, H, O, True, "vcs", 10000)


# ---------------------------------------------------------------------------------------------
# TestEquilExtraElements


@pytest.mark.parametrize("solver", ["auto", "gibbs", "vcs", "element_potential"])
def test_extra_elements(solver):
    """Elements (Cl, N with no N species but N2) that take no part: CH4 burns out (Cantera's check).
    Cantera's element_potential solver is an expected failure in Cantera's own test."""
    gas = ct.Solution(yaml="""
phases:
- name: gas
  thermo: ideal-gas
  elements: [H, Ar, C, O, Cl, N]
  species: [{gri30.yaml/species: [AR, N2, CH4, O2, CO2, H2O, CO, H2, OH]}]
""")
    gas.TP = 300, 101325
    gas.set_equivalence_ratio(0.8, "CH4", "O2:1.0, N2:3.76")
    x = gas.X.copy()
    mix = GasMixture.from_cantera(gas)
    eq = mix.equilibrate(300.0, 101325.0, x)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    assert eq.X[mix.species_index("CH4")] == pytest.approx(0.0)
    gas.TPX = 300.0, 101325.0, x
    if _try(lambda: gas.equilibrate("TP", solver=solver)) is None:
        assert solver == "element_potential"  # xfail in Cantera's own test
        return
    assert np.max(np.abs(eq.X - gas.X)) < 1e-9


# ---------------------------------------------------------------------------------------------
# TestKOH_Equil: K/O/H plasma with ten pure condensed phases, 350-4850 K

_KOH_CONDENSED = ["K_solid", "K_liquid", "KOH_a", "KOH_b", "KOH_liquid", "K2O2_solid", "K2O_solid", "KO2_solid", "ice",
                  "liquid_water"]
_KOH_FEED = "K:1.03, H2:2.12, O2:0.9"
_KOH_T = list(range(350, 5000, 300))


@pytest.fixture(scope="module")
def koh():
    phases = [ct.Solution("KOH.yaml", n) for n in _KOH_CONDENSED]
    gas = ct.Solution("KOH.yaml", "KOH_plasma")
    return GasMixture.from_cantera(gas, condensed=phases), gas, phases


def _koh_cantera(phases, gas, T, solver):
    cm = ct.Mixture([(p, 0.0) for p in phases] + [(gas, 0.0)])
    cm.T, cm.P = T, ATM
    cm.species_moles = _KOH_FEED
    return cm if _try(lambda: cm.equilibrate("TP", solver=solver, max_steps=5000)) is not None else None


@pytest.mark.parametrize("T", _KOH_T)
def test_koh_tp(koh, T):
    """TP from 350 to 4850 K. Reference: Cantera's MultiPhaseEquil ('gibbs', which keeps condensed
    species inside their fits, as chemsolve does); where it fails (650 K), VCS. Cantera's own test
    uses VCS, whose answers above 900 K hold ice and solid K at 1000-5000 K (its comment: "completely
    non-physical", issue #270): those states are refused by chemsolve's certificate."""
    mix, gas, phases = koh
    feed_moles = 1.03 + 2.12 + 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThermoRangeWarning)
        eq = mix.equilibrate(float(T), ATM, _KOH_FEED)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    cm = _koh_cantera(phases, gas, T, "gibbs") or _koh_cantera(phases, gas, T, "vcs")
    assert cm is not None
    n = np.asarray(cm.species_moles)
    for k, p in enumerate(phases):
        name = p.species_names[0]
        assert abs(eq.condensed[name] * feed_moles - n[k]) <= 1e-6 * max(n[k], 1e-8), \
            (name, eq.condensed[name] * feed_moles, n[k])
    ngas = n[len(phases):]
    xr = ngas / ngas.sum()
    xs = np.array([eq.X[mix.species_index(s)] for s in gas.species_names])
    if _rel_err(xs, xr, floor=1e-12) > XTOL:
        # the ions differ: Cantera's MultiPhaseEquil holds the charge balance to ~1e-13 absolute,
        # which is large against the charges present at 950-1550 K (Cantera's state: charge 0.23 of
        # the charges present at 950 K, 1.8e-4 at 1250 K). Chemsolve's certificate says which is
        # right: Cantera's state fails on the balance of the charge 'E'
        c = _certify_cantera(mix, gas, eq, cm, T, feed_moles)
        assert not c.passed and c.worst == "element balance" and c.checks["element balance"].where == "E", c.message
        charged = gas.charges != 0
        assert _rel_err(xs[~charged], xr[~charged], floor=1e-10) < XTOL


def _certify_cantera(mix, gas, eq, cm, T, feed_moles, tol=1e-6):
    """Chemsolve's certificate (at tol 1e-6) of the state of Cantera Mixture cm, in eq's request."""
    X, lnX, tot, cond, pi = state_from_cantera(mix, cm, gas)
    st = dataclasses.replace(eq, X=X, ln_X=lnX, moles=tot / feed_moles,
                             condensed={k: v / feed_moles for k, v in cond.items()},
                             element_potentials=dict(zip(mix.element_names, pi)))
    return gcert.certify(mix, st, _KOH_FEED, float(T), ATM, "TP", tol=tol)


def test_koh_vcs_reference_refused(koh):
    """Which is right at 1250 K: Cantera's VCS (its test's reference) holds 1.03 mol of K(cr) and
    1.8 mol of ice at 1250 K, far outside their fits (K(cr) to 336.86 K, ice to 273.15 K); chemsolve's
    certificate refuses it (condensed window; K and the water then missing from the gas also leave
    species far off their potentials). At 2450 K (no condensed phase, ions well above Cantera's
    absolute charge tolerance) Cantera's MultiPhaseEquil state passes at tol 1e-6."""
    mix, gas, phases = koh
    feed_moles = 1.03 + 2.12 + 0.9
    for T, solver, ok in ((1250.0, "vcs", False), (2450.0, "gibbs", True)):
        eq = mix.equilibrate(T, ATM, _KOH_FEED)
        cm = _koh_cantera(phases, gas, T, solver)
        c = _certify_cantera(mix, gas, eq, cm, T, feed_moles)
        assert c.passed == ok, (T, c.message)
        if not ok:
            assert not c.checks["condensed window"].passed and c.checks["condensed window"].value > 900.0


@pytest.mark.parametrize("T", _KOH_T)
def test_koh_hp(koh, T):
    """Cantera's HP procedure: the TP equilibrium at T - 1 K, set to T, then HP. The target here is
    chemsolve's TP state at T - 1 heated (frozen) to T with Cantera's thermo; the HP temperature lies
    between T - 1 and T. Where Cantera's VCS TP state at T - 1 is chemsolve's (350, 650 K: all phases
    inside their fits), Cantera's HP temperature is compared too (1e-4 K: Cantera's HP stops near
    1e-6 relative in T here)."""
    mix, gas, phases = koh
    x = mix._feed_rows(_KOH_FEED)
    feed_mass = float(x @ mix.molecular_weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThermoRangeWarning)
        tp = mix.equilibrate(float(T - 1), ATM, _KOH_FEED)
        g = tp.to_cantera(gas)
        g.TP = float(T), ATM
        H = tp.moles * g.enthalpy_mole
        for p in phases:
            v = tp.condensed[p.species_names[0]]
            if v:
                p.TP = float(T), ATM
                H += v * p.enthalpy_mole
        eq = mix.equilibrate(float(T), ATM, _KOH_FEED, mode="HP", H=H / feed_mass)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    assert T - 1 - 1e-6 <= eq.T <= T + 1e-6
    if T in (350, 650):
        cm = ct.Mixture([(p, 0.0) for p in phases] + [(gas, 0.0)])
        cm.species_moles = _KOH_FEED
        cm.T, cm.P = T - 1.0, ATM
        cm.equilibrate("TP", solver="vcs")
        cm.T = float(T)
        cm.equilibrate("HP", solver="vcs")
        assert abs(eq.T - cm.T) < 1e-4, (eq.T, cm.T)


# ---------------------------------------------------------------------------------------------
# TestEquil_GasCarbon: adiabatic CH4/air with graphite, phi 0.3-3.5

_PHI = np.linspace(0.3, 3.5, 12)


def _graphite(zero_volume=False):
    if not zero_volume:
        return ct.Solution("graphite.yaml")
    with open(os.path.join(os.path.dirname(ct.__file__), "data", "graphite.yaml")) as f:
        text = f.read()
    # the same graphite with a negligible molar volume (density 1e9 times larger)
    return ct.Solution(yaml=re.sub(r"density: [^\n]+", "density: 2.16e+09 g/cm^3", text))


@pytest.mark.parametrize("solver,P,estimate", [("gibbs", ATM, 0), ("vcs", ATM, 0), ("vcs", ATM, -1),
                                               ("gibbs", 5 * ATM, 0), ("vcs", 5 * ATM, 0)])
def test_gas_carbon(solver, P, estimate):
    """HP of CH4/air from 300 K with graphite. At 1 atm every state is Cantera's. At 5 atm the
    richest state holds graphite, and Cantera's graphite has a molar volume (mu = g(T) + v (P - P0),
    2.5e-4 RT at 5 atm) that chemsolve, as CEA, neglects: that state is compared with Cantera given
    a graphite of negligible volume (the same then), and the difference with the real one is an
    expected failure below."""
    gas = ct.Solution("gri30.yaml", transport_model=None)
    mix = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"])
    for phi in _PHI:
        gas.set_equivalence_ratio(phi, "CH4", {"O2": 1.0, "N2": 3.76})
        gas.TP = 300.0, P
        x = gas.X.copy()
        eq = mix.equilibrate(300.0, P, x, mode="HP")
        assert eq.status == Status.CONVERGED and eq.certificate.passed
        carbon = _graphite(zero_volume=P != ATM)
        cm = ct.Mixture([(gas, 1.0), (carbon, 0.0)])
        cm.T, cm.P = 300.0, P
        cm.equilibrate("HP", solver=solver, max_steps=1000, estimate_equil=estimate)
        n = np.asarray(cm.species_moles)
        assert abs(eq.T - cm.T) < TTOL, (phi, eq.T, cm.T)
        assert _rel_err(eq.X, n[:-1] / n[:-1].sum()) < XTOL, phi
        assert abs(eq.condensed["C(gr)"] - n[-1]) <= 1e-6 * max(n[-1], 1e-10), phi
    assert eq.condensed["C(gr)"] > 0  # phi = 3.5 holds graphite


@pytest.mark.xfail(strict=True, reason="needs the molar volume of condensed species (v (P - P0) in mu), "
                                       "neglected as in CEA")
def test_gas_carbon_5atm_real_graphite_volume():
    gas = ct.Solution("gri30.yaml", transport_model=None)
    gas.set_equivalence_ratio(3.5, "CH4", {"O2": 1.0, "N2": 3.76})
    gas.TP = 300.0, 5 * ATM
    x = gas.X.copy()
    eq = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"]).equilibrate(300.0, 5 * ATM, x, mode="HP")
    cm = ct.Mixture([(gas, 1.0), (_graphite(), 0.0)])
    cm.T, cm.P = 300.0, 5 * ATM
    cm.equilibrate("HP", solver="gibbs", max_steps=1000)
    assert abs(eq.T - cm.T) < TTOL  # off by 7e-3 K; graphite by 1e-3 relative


# ---------------------------------------------------------------------------------------------
# test_excluded_species_*: species outside their fits


_PB_YAML = """
phases:
- name: gas
  thermo: ideal-gas
  species: [{nasa_gas.yaml/species: [Pb, O, C]}]
- name: H2O_s
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [H2O(s)]}]
- name: C_gr
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [C(gr)]}]
- name: Pb_s
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [Pb(cr)]}]
- name: PbO_rd
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [PbO(rd)]}]
- name: PbO_yw
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [PbO(yw)]}]
- name: PbO2_s
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [PbO2(s)]}]
- name: Pb3O4_s
  thermo: fixed-stoichiometry
  species: [{nasa_condensed.yaml/species: [Pb3O4(s)]}]
"""


@pytest.mark.parametrize("include_h2o", [False, True])
def test_excluded_species_extra_element(include_h2o):
    """Pb/O/C at 400 K: PbO(yw) (fitted from 762 K) takes no part, PbO2(s) and graphite form, ice
    (an element, H, the feed has not) stays absent: Cantera's checks, and the phase amounts of
    Cantera's gibbs solver (the test's reference) to 1e-6."""
    names = ["gas", "C_gr", "Pb_s", "PbO_rd", "PbO_yw", "PbO2_s", "Pb3O4_s"]
    if include_h2o:
        names.insert(1, "H2O_s")
    phases = [ct.Solution(yaml=_PB_YAML, name=n) for n in names]
    mix = GasMixture.from_cantera(phases[0], condensed=phases[1:])
    eq = mix.equilibrate(400.0, ATM, "O:3, Pb:1, C:1")
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    feed_moles = 5.0
    got = {"gas": eq.moles * feed_moles}
    got.update({n: eq.condensed[p.species_names[0]] * feed_moles for n, p in zip(names[1:], phases[1:])})
    assert got["PbO_yw"] == pytest.approx(0.0) and got["PbO2_s"] == pytest.approx(1.0, rel=1e-6)
    if include_h2o:
        assert got["H2O_s"] == pytest.approx(0.0)
    cm = ct.Mixture([(p, 0.0) for p in phases])
    cm.T, cm.P = 400.0, ATM
    cm.species_moles = "O:3, Pb:1, C:1"
    cm.equilibrate("TP", solver="gibbs", rtol=1e-10)
    ref = dict(zip(names, cm.phase_moles()))
    for n in names:
        assert got[n] == pytest.approx(ref[n], rel=1e-6, abs=1e-10), n


def _methane_air_water(T):
    liquid = ct.Solution("water.yaml", "liquid_water")
    gas = ct.Solution("gri30.yaml", transport_model=None)
    gas.TPX = 300.0, ATM, "O2:1.0, N2:3.76, CH4:0.5"
    x = dict(zip(gas.species_names, gas.X))
    cm = ct.Mixture([(gas, 1.0), (liquid, 2.0)])
    cm.T, cm.P = T, ATM
    return cm, gas, liquid, x


@pytest.mark.parametrize("solver", ["vcs", "gibbs"])
def test_excluded_species_hp(solver):
    """CH4/air with 2 mol of liquid water as heat sink, HP: 362.8 K with 0.43 mol of liquid.
    Cantera's checks on chemsolve's state (element moles 1e-7, potentials 1e-6 RT) and Cantera's
    answer (gibbs fails in Cantera 3.2 on the liquid's initial moles: then VCS's)."""
    cm, gas, liquid, x = _methane_air_water(300.0)
    before = np.array([cm.element_moles(e) for e in ("H", "O", "C", "N")])
    liquid.TP = 300.0, ATM
    gas.TPX = 300.0, ATM, x
    H = gas.enthalpy_mole + 2.0 * liquid.enthalpy_mole
    mass = gas.mean_molecular_weight + 2.0 * liquid.mean_molecular_weight
    feed = dict(x)
    feed["H2O"] = feed.get("H2O", 0.0) + 2.0
    mix = GasMixture.from_cantera("gri30.yaml", condensed=["water.yaml:H2O(L)"])
    eq = mix.equilibrate(300.0, ATM, feed, mode="HP", H=H / mass)
    assert eq.status == Status.CONVERGED and eq.certificate.passed
    check = ct.Mixture([(gas, 1.0), (liquid, 0.0)])
    set_mixture_to(check, gas, eq, feed_moles=3.0)
    after = np.array([check.element_moles(e) for e in ("H", "O", "C", "N")])
    np.testing.assert_allclose(after, before, rtol=1e-7)
    assert mixture_potential_defect(check) < 1e-6
    ref = None
    for s in (solver, "vcs"):
        cm, *_ = _methane_air_water(300.0)
        if _try(lambda: cm.equilibrate("HP", solver=s)) is not None:  # noqa: B023
            ref = cm
            break
    assert ref is not None
    assert abs(eq.T - ref.T) < TTOL and abs(eq.condensed["H2O(L)"] * 3.0 - ref.species_moles[-1]) < 1e-6


@pytest.mark.parametrize("solver", ["vcs", "gibbs"])
def test_excluded_species_tp_polyatomic(solver):
    """The same mixture at 1000 K, TP: liquid water (fitted to 600 K) takes no part; its hydrogen and
    oxygen go to the gas. Cantera's checks on chemsolve's state, and Cantera's answer (see below)."""
    cm, gas, liquid, x = _methane_air_water(1000.0)
    before = np.array([cm.element_moles(e) for e in ("H", "O", "C", "N")])
    feed = dict(x)
    feed["H2O"] = feed.get("H2O", 0.0) + 2.0
    mix = GasMixture.from_cantera("gri30.yaml", condensed=["water.yaml:H2O(L)"])
    eq = mix.equilibrate(1000.0, ATM, feed)
    assert eq.status == Status.CONVERGED and eq.certificate.passed and eq.condensed["H2O(L)"] == 0.0
    check = ct.Mixture([(gas, 1.0), (liquid, 0.0)])
    set_mixture_to(check, gas, eq, feed_moles=3.0)
    after = np.array([check.element_moles(e) for e in ("H", "O", "C", "N")])
    np.testing.assert_allclose(after, before, rtol=1e-7)
    assert mixture_potential_defect(check) < 1e-6
    xr = None
    if _try(lambda: cm.equilibrate("TP", solver=solver)) is not None:
        n = np.asarray(cm.species_moles)
        assert n[-1] == pytest.approx(0.0, abs=1e-12)
        xr = n[: gas.n_species] / n[: gas.n_species].sum()
    if xr is None or _rel_err(eq.X, xr) > XTOL:
        # the installed Cantera fails, or stops with minor species off by more than the tolerance
        # (VCS: O2 at 1e-7 off by 2.7e-6; its element-potential solver leaves an element defect of
        # 9e-10): the second look is Cantera's VCS on the gas alone (the same problem: the liquid
        # takes no part at 1000 K) at rtol 1e-12, as in tests/test_gas.py
        g = ct.Solution("gri30.yaml", transport_model=None)
        g.TPX = 1000.0, ATM, feed
        g.equilibrate("TP", "vcs", rtol=1e-12, max_steps=100000)
        xr = g.X
    assert _rel_err(eq.X, xr) < XTOL


# ---------------------------------------------------------------------------------------------
# the cases chemsolve cannot run yet, with the feature each needs


@pytest.mark.skip(reason="needs a second multi-species solution phase (two ideal-gas phases in one mixture)")
def test_multiphase_h2o2_two_phase():
    """Cantera's TestMultiphase_H2O2_TwoPhase."""


@pytest.mark.skip(reason="needs a multi-species condensed solution phase (ideal solid solution)")
def test_ideal_solid_soln_phase():
    """Cantera's Test_IdealSolidSolnPhase_Equil."""


@pytest.mark.skip(reason="needs a multi-species condensed solution phase (ideal-condensed liquid) and the "
                         "molar volume of condensed species")
def test_vapor_liquid_hydrocarbon():
    """Cantera's TestMultiphase_VaporLiquidHydrocarbon."""
