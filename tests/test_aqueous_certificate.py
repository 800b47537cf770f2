"""The aqueous certificate (DESIGN section 3): every state speciate / speciate_batch call converged
passes it, and states nudged off the equations fail it, naming the right check.

The certificate recomputes everything from the returned molalities and the database alone (see
chemsolve.aqueous.certificate); these tests perturb one quantity at a time by far more than the
certificate's tolerances (1e-8 log10 units and 1e-9 relative, set 100x above the largest value
measured on 6,700 converged random waters) and far less than anything a peer comparison would see.
"""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chemsolve as cs
from chemsolve import aqueous as aq
from chemsolve.aqueous.certificate import TOLERANCES, certify_result, certify_states, measure_cost
from chemsolve.aqueous.speciation import speciate, speciate_batch
from chemsolve.certificate import BatchCertificate, Certificate

pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")
MAJORS = ("Na", "K", "Ca", "Mg", "Cl", "S(6)", "C(4)")


@pytest.fixture(scope="module")
def water(db):
    """A fixed-pH water with carbonate complexes and calcite at its target SI."""
    totals = {"Na": 2e-3, "Ca": 1e-3, "Cl": 2e-3, "C(4)": 3e-3, "S(6)": 5e-4}
    r = speciate(db, totals, 298.15, 7.5)
    assert r.success and r.certificate.passed, r.message
    return r


@pytest.fixture(scope="module")
def cb_water(db):
    """pH from the charge balance, calcite held at SI 0 with 1e-4 mol available (all of it dissolves)."""
    eq = {"Calcite": (0.0, 1e-4), "CO2(g)": (-3.5, 10.0)}
    r = speciate(db, {"Na": 1e-3, "Cl": 1e-3}, 298.15, None, equilibrium_phases=eq)
    assert r.success and r.certificate.passed, r.message
    assert r.phase_moles["Calcite"] == pytest.approx(1e-4)  # used up: the amount check is live
    return r, eq


def test_converged_results_carry_a_passed_certificate(db, water):
    c = water.certificate
    assert isinstance(c, Certificate) and c.domain == "aqueous" and c.passed
    assert set(c.checks) == set(TOLERANCES)
    assert all(ch.value <= ch.tol for ch in c.checks.values())
    assert c.to_dict()["passed"] is True
    b = speciate_batch(db, {k: [v, 2 * v] for k, v in water.totals.items()}, 298.15, [7.5, np.nan])
    assert isinstance(b.certificate, BatchCertificate) and b.certificate.passed.all() and b.success.all()
    assert b.certificate.row(1).passed


def _without(r, species):
    return replace(r, molality={k: v for k, v in r.molality.items() if k != species},
                   log_gamma={k: v for k, v in r.log_gamma.items() if k != species})


def _scaled(r, species, f):
    return replace(r, molality={**r.molality, species: r.molality[species] * f})


@pytest.mark.parametrize(
    "change, check, where",
    [
        # a complex off its mass-action law by 1e-4 relative (4e-5 log10 units: 4,000x the tolerance)
        (lambda r: _scaled(r, "CaHCO3+", 1 + 1e-4), "mass action", "CaHCO3+"),
        # a free master species (99 % of its element): its mass balance breaks (and its complexes' laws)
        (lambda r: _scaled(r, "Na+", 1 + 1e-3), "mass balance", "Na"),
        # the reported pH shifted by 1e-6 while the molalities stay
        (lambda r: replace(r, pH=r.pH + 1e-6), "pH", ""),
        # a total changed by 1e-6 relative: the molalities no longer add up to it
        (lambda r: replace(r, totals={**r.totals, "S(6)": r.totals["S(6)"] * (1 + 1e-6)}), "mass balance", "S(6)"),
        # reported ionic strength, water activity, activity coefficients that do not match the molalities
        (lambda r: replace(r, ionic_strength=r.ionic_strength * (1 + 1e-5)), "ionic strength", ""),
        (lambda r: replace(r, water_activity=r.water_activity - 1e-9), "water activity", ""),
        (lambda r: replace(r, log_gamma={**r.log_gamma, "SO4-2": r.log_gamma["SO4-2"] + 1e-6}),
         "activity coefficients", "SO4-2"),
        # a species the database forms from these components is missing (the least abundant one, so
        # that only the species set notices)
        (lambda r: _without(r, min(r.molality, key=r.molality.get)), "species set", None),
    ],
)
def test_perturbed_states_fail_with_the_right_worst_check(db, water, change, check, where):
    c = certify_result(db, change(water), charge=False)
    assert not c.passed
    assert c.worst == check, c.message
    if where is not None:
        assert c.checks[check].where == where, c.message
    assert check in c.message and "FAILED" in c.message


def test_charge_balance_is_checked_when_the_ph_comes_from_it(db, cb_water):
    r, eq = cb_water
    assert certify_result(db, r, charge=True, equilibrium_phases=eq).passed
    # Na+ up by 1e-6 relative: a charge imbalance of ~1e-9 eq/kgw over ~4e-3 eq/kgw of ions, with
    # Na+'s own complexes moving along (the laws of NaHCO3 etc. break at 4e-7 log10 units)
    bad = _scaled(r, "Na+", 1 + 1e-5)
    c = certify_result(db, bad, charge=True, equilibrium_phases=eq)
    assert not c.passed and c.checks["charge balance"].value > TOLERANCES["charge balance"]
    # with a fixed pH the same imbalance is not an error (PHREEQC reports it; nothing balances it)
    c_fixed = certify_result(db, bad, charge=False, equilibrium_phases=eq)
    assert c_fixed.checks["charge balance"].value == 0.0


def test_phases_beyond_what_was_available_fail(db, cb_water):
    r, eq = cb_water
    less = {**eq, "Calcite": (0.0, 0.5e-4)}  # the state dissolved 1e-4 mol; only half was there
    c = certify_result(db, r, charge=True, equilibrium_phases=less)
    assert not c.passed and c.worst == "phase amount" and c.checks["phase amount"].where == "Calcite"
    # a held phase off its target SI
    off = {**eq, "CO2(g)": (-3.5 + 1e-6, 10.0)}
    c = certify_result(db, r, charge=True, equilibrium_phases=off)
    assert not c.passed and c.worst == "saturation index" and c.checks["saturation index"].where == "CO2(g)"
    # a used-up phase must be undersaturated: claim calcite was still available while at SI < 0
    more = {**eq, "Calcite": (0.0, 1.0)}
    c = certify_result(db, r, charge=True, equilibrium_phases=more)
    assert not c.passed and c.worst == "saturation index" and c.checks["saturation index"].where == "Calcite"


def test_batch_rows_that_fail_are_named(db):
    rng = np.random.default_rng(3)
    n = 40
    tot = {k: 10 ** rng.uniform(-5, -1, n) for k in MAJORS}
    T = 273.15 + rng.uniform(0, 90, n)
    pH = np.where(rng.random(n) < 0.5, np.nan, rng.uniform(3, 11, n))
    b = speciate_batch(db, tot, T, pH)
    assert b.success.all() and b.certificate.passed.all()
    m = b.molality.copy()
    j = b.species.index("MgSO4")
    m[7, j] *= 1.001
    TOT = np.column_stack([tot[k] for k in MAJORS])
    keys = list(MAJORS)
    args = (b.log_gamma, b.pH, 4.0, T, b.ionic_strength, b.water_activity, np.isnan(pH), TOT)
    c = certify_states(db, b.species, keys, m, *args)
    assert np.flatnonzero(~c.passed).tolist() == [7]
    assert c.row(7).worst == "mass action" and c.row(7).checks["mass action"].where == "MgSO4"
    # unchecked rows (the solver did not converge) hold NaN and do not pass
    c = certify_states(db, b.species, keys, b.molality, *args, checked=np.arange(n) != 3)
    assert not c.passed[3] and np.isnan(c.values["mass action"][3]) and c.passed[np.arange(n) != 3].all()
    assert not c.row(3).checks


def test_a_failing_certificate_refuses_convergence(db, monkeypatch):
    """The solver's word is not final: a state it calls converged that fails the certificate gets
    CHECK_FAILED, and its message names the worst residual (single and batch)."""
    from chemsolve.aqueous import certificate as certmod

    real = certmod.certify_states

    def strict(*a, **k):  # the same certificate with a mass-action tolerance no state can meet
        c = real(*a, **k)
        return BatchCertificate(c.values, {**c.tolerances, "mass action": -1.0}, c.where, c.units, c.checked,
                                c.domain)

    monkeypatch.setattr(certmod, "certify_states", strict)
    r = speciate(db, {"Na": 1e-3, "Cl": 1e-3, "C(4)": 1e-3}, 298.15, 7.0)
    assert r.status == cs.Status.CHECK_FAILED and not r.success
    assert "independent check" in r.message and "mass action" in r.message
    b = speciate_batch(db, {"Na": [1e-3, 2e-3], "Cl": [1e-3, 2e-3], "C(4)": [1e-3, 1e-3]}, 298.15, 7.0)
    assert b.counts() == {"CHECK_FAILED": 2}


def test_redox_couple_pressure_term_is_checked(db, monkeypatch):
    """Above 100 C (the saturation pressure, 4.7 atm at 150 C) the log K of a SOLUTION's redox couple
    carries the pressure term of the couple's own reaction, as PHREEQC's reactions into which it
    substituted the couple for e-. The certificate holds that term in its own copy: the solver's
    log K without it (what it did before; pyrite's SI then differed from PHREEQC's by 1.3e-2) is
    refused, and with it the same water passes."""
    from chemsolve.aqueous import solve_solution, system

    sol = aq.Solution(db, totals={"Fe(2)": 0.1, "Fe(3)": 0.01, "S": 1, "Na": 1, "Cl": 1}, units="mmol/kgw",
                      T=423.15, pH=5, redox="Fe(2)/Fe(3)")
    db.__dict__.pop("_model_tableaux", None)
    r = sol.speciate()
    assert r.status == cs.Status.CONVERGED and r.certificate.passed, r.message
    real = system.build

    def no_couple_pressure(*a, **k):
        t = real(*a, **k)
        for i, name in enumerate(t.reactions):
            if name.startswith("couple "):
                t.rx_pflag[i] = 0
        return t

    monkeypatch.setattr(solve_solution, "build", no_couple_pressure)
    db.__dict__.pop("_model_tableaux", None)
    try:
        old = sol.speciate()
    finally:
        db.__dict__.pop("_model_tableaux", None)
    assert old.status == cs.Status.CHECK_FAILED and "mass action" in old.message, old.message


def test_debye_huckel_of_the_certificate_matches_phreeqc():
    """The certificate's second copy of A and B (written again, vectorised) against PHREEQC's DH_A,
    DH_B: the same 1e-6 relative the solver's copy is held to."""
    pytest.importorskip("phreeqc", reason="the live peer IPhreeqc (pip install phreeqc) is not installed")
    from phreeqc_peer import Peer

    from chemsolve.aqueous.certificate import _dh_ab

    Ts = np.array([273.15, 298.15, 333.15, 363.15, 373.15])
    A, B = _dh_ab(Ts, np.ones(5))
    peer = Peer()
    for i, T in enumerate(Ts):
        a, b = peer.basic(float(T), ["DH_A", "DH_B"])
        assert A[i] == pytest.approx(a, rel=1e-6) and B[i] == pytest.approx(b, rel=1e-6)


def test_measure_cost_reports_a_share():
    # the lead measures the share on a quiet machine; here only that the function runs and says what it measured
    out = measure_cost(n=30, repeat=1)
    assert set(out) == {"n", "batch_s", "certificate_s", "share", "per_water_us"} and out["n"] == 30
    assert 0 < out["certificate_s"] and 0 < out["share"] < 1


# ------------------------------------------------------------------ properties (hypothesis)
ELEMENTS = ("Na", "K", "Ca", "Mg", "Cl", "S(6)", "C(4)", "Fe")
totals_st = st.dictionaries(st.sampled_from(ELEMENTS), st.floats(-6.0, -0.7), min_size=1, max_size=8).map(
    lambda d: {k: 10.0 ** v for k, v in d.items()})
phase_st = st.one_of(st.none(), st.tuples(st.just("Calcite"), st.floats(-5.0, 1.0)),
                     st.tuples(st.just("CO2(g)"), st.floats(-4.0, -1.0)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(totals=totals_st, T=st.floats(273.15, 373.15), pH=st.one_of(st.none(), st.floats(2.0, 12.0)),
       phase=phase_st, which=st.integers(0, 10 ** 6), factor=st.floats(1e-6, 0.1))
def test_property_converged_passes_and_perturbed_fails(totals, T, pH, phase, which, factor):
    """Random waters on phreeqc.dat (totals of Na, K, Ca, Mg, Cl, S(6), C(4), Fe at 1e-6..0.2
    mol/kgw, 0-100 C, pH fixed or from the charge balance, with or without calcite or CO2(g)):
    whatever the solver says, a CONVERGED result passes its certificate, and the same state with
    one species' molality scaled by 1 + 1e-6..1.1 fails it."""
    db = _DB()
    eq = None
    if phase is not None:
        name, x = phase
        eq = {name: (0.0, 10.0 ** x)} if name == "Calcite" else {name: (x, 10.0)}
    r = speciate(db, totals, T, pH, 4.0, equilibrium_phases=eq)
    # the solver and the certificate agree: no state the solver calls converged is refused
    # (CHECK_FAILED would mean a wrong answer caught, or a certificate too strict: both are bugs)
    assert r.status != cs.Status.CHECK_FAILED, r.message
    if r.status != cs.Status.CONVERGED:
        return
    assert r.certificate is not None and r.certificate.passed, r.certificate.message
    assert certify_result(db, r, pH is None, eq).passed  # and again, from the result alone
    sizable = [s for s, m in r.molality.items() if m > 1e-250]
    s = sizable[which % len(sizable)]
    c = certify_result(db, _scaled(r, s, 1.0 + factor), pH is None, eq)
    assert not c.passed, (s, factor, c.message)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), cb=st.floats(0.0, 1.0))
def test_property_batch_rows(seed, n, cb):
    """Batches of random waters: every CONVERGED row passes; a row with one molality nudged fails,
    the other rows still pass."""
    db = _DB()
    rng = np.random.default_rng(seed)
    keys = [k for k in ELEMENTS if rng.random() < 0.7] or ["Na"]
    tot = {k: 10 ** rng.uniform(-6, -0.7, n) for k in keys}
    T = 273.15 + rng.uniform(0, 100, n)
    pH = np.where(rng.random(n) < cb, np.nan, rng.uniform(2, 12, n))
    b = speciate_batch(db, tot, T, pH)
    assert not (b.status == cs.Status.CHECK_FAILED).any(), [b.certificate.row(i).message for i in range(n)
                                                            if b.status[i] == cs.Status.CHECK_FAILED][:2]
    ok = np.flatnonzero(b.success)
    assert b.certificate.passed[ok].all()
    if not ok.size:
        return
    r = int(ok[rng.integers(ok.size)])
    cols = np.flatnonzero(b.molality[r] > 1e-250)
    m = b.molality.copy()
    m[r, cols[rng.integers(cols.size)]] *= 1.0 + 10 ** rng.uniform(-6, -1)
    TOT = np.column_stack([tot[k] for k in keys])
    c = certify_states(db, b.species, keys, m, b.log_gamma, b.pH, 4.0, T, b.ionic_strength, b.water_activity,
                       np.isnan(pH), TOT, checked=b.success)
    assert not c.passed[r] and c.passed[np.setdiff1d(ok, [r])].all()


_cache = {}


def _DB():
    if "db" not in _cache:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", aq.DatabaseWarning)
            _cache["db"] = aq.load_database("phreeqc.dat")
    return _cache["db"]
