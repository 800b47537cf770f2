"""Ion exchange (EXCHANGE) against IPhreeqc, live, on the same phreeqc.dat file.

Tolerances (issue [4/7] asks the agreement of [3/7]):
- exchange species: moles within 1e-6 relative above 1e-12 mol (the phase-moles tolerance of [3/7],
  ``compare.TOL_REL``); pH within ``compare.TOL_LOG`` (1e-5). Observed: 1e-11 or better.
- ``-equilibrate`` (PHREEQC's initial exchange, solved by IPhreeqc to its own convergence tolerance):
  within 1e-7 relative; observed 6e-9 at most (PHREEQC stops its initial-exchange iterations there).
PHREEQC reports exchange species as moles per kg of water (``-molalities``): compared as such.
"""

from __future__ import annotations

import numpy as np
import pytest

import chemsolve.aqueous as aq
from chemsolve.aqueous.compare import TOL_LOG, TOL_REL
from chemsolve.aqueous.solution import Solution
from chemsolve.errors import InvalidInputError
from chemsolve.status import Status

phreeqc = pytest.importorskip("phreeqc")

EX_SPECIES = ("NaX", "KX", "CaX2", "MgX2")
PHASES = ("Calcite", "Dolomite", "Gypsum")


def _sol_text(tot, tc, pH):
    ph = f" pH {pH:.17g}\n" if pH is not None else " pH 7 charge\n"
    return f"SOLUTION 1\n units mol/kgw\n temp {tc:.17g}\n{ph}" + "".join(f" {k} {v:.17g}\n" for k, v in tot.items())


def _water(db, tot, tc, pH):
    return Solution(db, totals=tot, units="mol/kgw", T=tc + 273.15, pH=7.0 if pH is None else pH,
                    charge="pH" if pH is None else None).speciate()


def _run(ip, text):
    assert ip.RunString(text) == 0, ip.GetErrorString()
    return {k: v[-1] for k, v in ip.GetSelectedOutput().items()}


def _sel(names, phases=()):
    return (f"SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n -molalities {' '.join(names)}\n"
            + (f" -equilibrium_phases {' '.join(phases)}\n" if phases else "") + "END\n")


@pytest.mark.parametrize("tot, tc, pH, cec", [
    ({"Na": 1.0e-3, "K": 0.2e-3, "N(5)": 1.2e-3}, 25.0, 7.0, 0.0011),  # ex11's initial cells
    ({"Ca": 0.6e-3, "Cl": 1.2e-3}, 25.0, 7.0, 0.0011),  # ex11's displacing water
    ({"Na": 0.5, "Ca": 0.01, "Mg": 0.05, "K": 0.01, "Cl": 0.64}, 60.0, 8.0, 0.5),
    ({"Na": 1e-2, "Ca": 2e-3, "Mg": 1e-3, "Cl": 1.2e-2, "C(4)": 4e-3, "Sr": 1e-5}, 10.0, None, 0.05),
])
def test_equilibrate_matches_phreeqc(db, ip, tot, tc, pH, cec):
    w = _water(db, tot, tc, pH)
    ex = aq.equilibrate_exchange(w, {"X": cec})
    names = sorted(ex.composition)
    d = _run(ip, _sol_text(tot, tc, pH) + f"EXCHANGE 1\n -equilibrate 1\n X {cec:.17g}\n" + _sel(names))
    for s in names:
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        assert abs(ex.composition[s] / theirs - 1.0) < 1e-7, (s, ex.composition[s], theirs)
    assert abs(sum(n * (2 if "X2" in s else 1) for s, n in ex.composition.items()) / cec - 1.0) < 1e-13


def _random_case(rng):
    tot = {"Na": 10 ** rng.uniform(-4, -0.5), "Cl": 10 ** rng.uniform(-4, -0.5)}
    for el in ("K", "Ca", "Mg", "C(4)", "S(6)"):
        if rng.random() < 0.6:
            tot[el] = 10 ** rng.uniform(-4.5, -1.5)
    tc = float(rng.uniform(5.0, 90.0))
    pH = None if rng.random() < 0.5 else float(rng.uniform(6.0, 9.0))
    k = int(rng.integers(1, 4))
    comp = {s: float(10 ** rng.uniform(-4, -1)) for s in rng.choice(EX_SPECIES, k, replace=False)}
    ph = [str(p) for p in rng.choice(PHASES, int(rng.integers(0, 3)), replace=False)]
    return tot, tc, pH, comp, ph


CASES = 40


@pytest.mark.parametrize("seed", range(CASES))
def test_react_with_exchanger_matches_phreeqc(db, ip, seed):
    rng = np.random.default_rng(1000 + seed)
    tot, tc, pH, comp, ph = _random_case(rng)
    w = _water(db, tot, tc, pH)
    assert w.success, w.message
    r = aq.react(w, phases=dict.fromkeys(ph, 0.0) or None, exchange=comp)
    names = sorted(set(EX_SPECIES) | set(r.exchange))
    text = _sol_text(tot, tc, pH) + "EXCHANGE 1\n" + "".join(f" {k} {v:.17g}\n" for k, v in comp.items())
    if ph:
        text += "EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 10\n" for p in ph)
    d = _run(ip, text + _sel(names, ph))
    assert r.status == Status.CONVERGED, r.message
    assert r.certificate is not None and r.certificate.passed
    assert abs(r.pH - d["pH"]) < TOL_LOG
    assert abs(r.water_mass / d["mass_H2O"] - 1.0) < TOL_REL
    for s in names:
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        if theirs > 1e-12:
            assert abs(r.exchange[s] / theirs - 1.0) < TOL_REL, (s, r.exchange[s], theirs)
    for p in ph:
        assert abs(r.phase_moles[p] - d[p]) <= TOL_REL * max(abs(d[p]), 1e-12), (p, r.phase_moles[p], d[p])


def test_elements_conserved_between_water_and_exchanger(db):
    w = _water(db, {"Na": 0.02, "Ca": 0.004, "Cl": 0.028}, 25.0, None)
    comp = {"CaX2": 0.01, "MgX2": 0.003, "NaX": 0.001}
    r = aq.react(w, exchange=comp)
    assert r.success, r.message
    ex0 = aq.exchanger(w.state.db, comp)
    for el in ("Na", "Ca", "Mg", "Cl"):
        before = w.state.elements.get(el, 0.0) + ex0.elements.get(el, 0.0)
        after = r.state.elements.get(el, 0.0) + r.exchanger.elements.get(el, 0.0)
        assert abs(after - before) <= 1e-12 * before, el
    assert abs(r.exchanger.sites["X"] / ex0.sites["X"] - 1.0) < 1e-12


def test_sequence_with_saved_exchanger_matches_phreeqc(db, ip):
    """Five steps flushing an exchanger with CaCl2 (ex11's chemistry in one cell): the exchanger and the
    water of each step carried into the next, as PHREEQC's SAVE / USE."""
    tot = {"Na": 1.0e-3, "K": 0.2e-3, "N(5)": 1.2e-3}
    w = _water(db, tot, 25.0, 7.0)
    ex = aq.equilibrate_exchange(w, {"X": 0.0011})
    d0 = _run(ip, _sol_text(tot, 25.0, 7.0) + "EXCHANGE 1\n -equilibrate 1\n X 0.0011\nSAVE solution 1\nEND\n"
              + "SELECTED_OUTPUT 1\n -reset false\nEND\n")
    del d0
    names = ("NaX", "KX", "CaX2")
    cur, exc = w, ex
    for step in range(5):
        r = aq.react(cur, reaction={"CaCl2": 2e-4}, exchange=exc)
        d = _run(ip, "USE solution 1\nUSE exchange 1\nREACTION 1\n CaCl2 1\n 2e-4 moles\nSAVE solution 1\n"
                 "SAVE exchange 1\n" + _sel(names))
        assert r.success and r.certificate.passed, r.message
        assert abs(r.pH - d["pH"]) < TOL_LOG, step
        for s in names:
            theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
            assert abs(r.exchange[s] / theirs - 1.0) < TOL_REL, (step, s, r.exchange[s], theirs)
        cur, exc = r, r.exchanger


def test_batch_rows_equal_single_calls(db):
    w = _water(db, {"Na": 0.01, "Ca": 0.002, "Cl": 0.014, "C(4)": 0.002}, 25.0, None)
    comps = [{"NaX": 0.01}, {"CaX2": 0.005, "KX": 0.001}, {"MgX2": 0.02}]
    b = aq.react([w, w, w], phases={"Calcite": 0.0}, exchange=comps, warm_start=False)
    assert b.exchange_species and b.exchange.shape == (3, len(b.exchange_species))
    for i, c in enumerate(comps):
        one = aq.react(w, phases={"Calcite": 0.0}, exchange=c)
        assert b.success[i] and one.success
        for j, s in enumerate(b.exchange_species):  # K absent from a row: its KX is 0 there, no column alone
            assert abs(b.exchange[i, j] - one.exchange.get(s, 0.0)) <= 1e-10 * max(one.exchange.get(s, 0.0), 1e-30)


def test_certificate_refuses_a_wrong_exchange_composition(db):
    from chemsolve.aqueous.certificate import certify_states

    w = _water(db, {"Na": 0.01, "Ca": 0.002, "Cl": 0.014}, 25.0, None)
    b = aq.react([w], exchange=[{"CaX2": 0.005, "NaX": 0.002}])
    assert b.success[0] and b.certificate.passed[0]
    st = w.state
    tot = np.array([[st.elements.get(k, 0.0) + {"Na": 0.002, "Ca": 0.005}.get(k, 0.0) for k in b.elements]])
    args = (db, b.species, b.elements, b.molality, b.log_gamma, b.pH, b.pe, b.T, b.ionic_strength,
            b.water_activity, np.ones(1, dtype=bool), tot / b.water_mass[:, None])
    kw = {"W": b.water_mass}

    def cert(n):
        return certify_states(*args, **kw, exchange={"sites": ["X"], "names": b.exchange_species, "n": n,
                                                     "cec": np.array([[0.012]])})

    assert cert(b.exchange).passed[0]
    bad = b.exchange.copy()
    j = b.exchange_species.index("NaX")
    bad[0, j] *= 1.0 + 1e-6  # more sites filled than there are, and Na not balanced
    c = cert(bad)
    assert not c.passed[0]
    assert c.values["exchange sites"][0] > 1e-9 and c.values["mass balance"][0] > 1e-9
    swap = b.exchange.copy()  # the same sites and elements cannot be moved between species
    k = b.exchange_species.index("CaX2")
    swap[0, j] += 2e-7
    swap[0, k] -= 1e-7
    c = cert(swap)
    assert not c.passed[0] and c.values["exchange mass action"][0] > 1e-8


@pytest.mark.parametrize("spec, msg", [
    ({"FooX": 1.0}, "not an exchange species"),
    ({"X": 0.001}, "equilibrate_exchange"),
    ({"NaX": -1.0}, "must be finite and >= 0"),
    ({"NaX": "lots"}, "not a number"),
])
def test_bad_exchanger_named(db, spec, msg):
    w = _water(db, {"Na": 0.01, "Cl": 0.01}, 25.0, 7.0)
    with pytest.raises(InvalidInputError, match=msg):
        aq.react(w, exchange=spec)


def test_equilibrate_bad_sites_named(db):
    w = _water(db, {"Na": 0.01, "Cl": 0.01}, 25.0, 7.0)
    with pytest.raises(InvalidInputError, match="'Y' is not in EXCHANGE_MASTER_SPECIES"):
        aq.equilibrate_exchange(w, {"Y": 0.01})
    with pytest.raises(InvalidInputError, match="must be finite and > 0"):
        aq.equilibrate_exchange(w, {"X": 0.0})


# ------------------------------------------------------------------ PHREEQC input files with EXCHANGE
EX11_CELL = """TITLE ex11's chemistry in one cell (its TRANSPORT is not read): MIX, SAVE/USE exchange, REACTION
SOLUTION 0  CaCl2
        units            mmol/kgw
        temp             25.0
        pH               7.0     charge
        pe               12.5    O2(g)   -0.68
        Ca               0.6
        Cl               1.2
SOLUTION 1  Initial solution for column
        units            mmol/kgw
        temp             25.0
        pH               7.0     charge
        pe               12.5    O2(g)   -0.68
        Na               1.0
        K                0.2
        N(5)             1.2
EXCHANGE 1
        equilibrate 1
        X                0.0011
SELECTED_OUTPUT 1
        -reset false
        -state true
        -step true
        -pH true
        -water true
        -molalities NaX KX CaX2 Na+ Ca+2 K+
END
MIX 1
 0 0.5
 1 0.5
USE exchange 1
SAVE exchange 2
SAVE solution 2
END
USE solution 2
USE exchange 2
REACTION 1
 CaCl2 1
 1e-4 moles in 3 steps
END
EXCHANGE 3
 CaX2 2e-4
 NaX 1e-4
USE solution 1
EQUILIBRIUM_PHASES 3
 Gypsum 0 0.001
END
"""


def test_phreeqc_input_with_exchange_matches_iphreeqc(db, ip):
    """Every SELECTED_OUTPUT row (initial solutions, the initial exchanger, reaction steps with MIX,
    SAVE/USE exchange, REACTION and an exchanger by composition) equals IPhreeqc's: molalities within
    1e-7 relative (the i_exch row carries PHREEQC's initial-exchange tolerance, 3e-9 seen), pH TOL_LOG."""
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    ours = run_phreeqc_input(EX11_CELL, db)
    assert ours.success, ours.stopped
    assert ip.RunString(EX11_CELL) == 0, ip.GetErrorString()
    so = ip.GetSelectedOutput()
    mine = ours.selected[1]
    n = len(next(iter(so.values())))
    assert len(mine) == n == 9  # 2 i_soln, 1 i_exch (the exchanger by composition has none), 6 react
    assert [r["state"] for r in mine] == list(so["state"])
    for i in range(n):
        assert abs(mine[i]["pH"] - so["pH"][i]) < TOL_LOG
        for k, col in so.items():
            if k.startswith("m_") and col[i] > 1e-12:
                assert abs(mine[i][k] / col[i] - 1.0) < 1e-7, (i, k, mine[i][k], col[i])
    assert [s.state for s in ours.steps].count("i_exch") == 1
    assert ours.steps[-1].exchange["CaX2"] > 0


@pytest.mark.parametrize("block, msg", [
    ("EXCHANGE 1\n X 0.001\n", "without -equilibrate"),
    ("EXCHANGE 1\n -equilibrate 1\n X 0.001 Calcite equilibrium_phase 0.1\n", "linked to a phase"),
    ("EXCHANGE 1\n -foo\n NaX 0.001\n", "unknown option '-foo'"),
    ("EXCHANGE 1\n ZzX 0.001\n", "neither an exchange species"),
    ("EXCHANGE 1\n -pitzer_exchange_gammas false\n NaX 0.001\n", "not modelled"),
    ("EXCHANGE 1\n -equilibrate 7\n X 0.001\n", "solution 7 is not defined"),
])
def test_phreeqc_input_bad_exchange_named_with_line(db, block, msg):
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    text = "SOLUTION 1\n Na 1\n Cl 1\n" + block + "END\n"
    with pytest.raises(InvalidInputError, match=msg) as e:
        run_phreeqc_input(text, db)
    assert "input:" in str(e.value)


def _sorber_input(ex: bool, su: bool, gas: bool) -> str:
    s = "SOLUTION 1\n temp 30\n units mmol/kgw\n pH 7.5\n Na 10; Ca 2; Mg 1; Cl 12; C(4) 4; S(6) 1.5\n"
    s += "EXCHANGE 1\n X 0.05\n -equil 1\n" if ex else ""
    s += "SURFACE 1\n Hfo_wOH 1e-3 600 0.1\n -equil 1\n" if su else ""
    s += "END\nUSE solution 1\n" + ("USE exchange 1\n" if ex else "") + ("USE surface 1\n" if su else "")
    s += "EQUILIBRIUM_PHASES 1\n Calcite 0 0.1\n CO2(g) -2 1\nREACTION 1\n NaCl 1\n 10 mmol in 2 steps\nEND\n"
    if gas:
        s += ("USE solution 1\n" + ("USE exchange 1\n" if ex else "") + "GAS_PHASE 1\n -fixed_pressure\n -pressure 1\n"
              " CO2(g) 0\n N2(g) 0\nREACTION 2\n CO2 1\n 0.05 0.5\nEND\n")
    return s


@pytest.mark.parametrize("database", ["wateq4f.dat", "Amm.dat"])
@pytest.mark.parametrize("ex, su, gas", [(1, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 1)])
def test_sorbers_on_other_databases_match_iphreeqc(database, ex, su, gas):
    """The same exchanger (-equil), Hfo surface (-equil, diffuse double layer), phases, REACTION steps and gas
    phase on the other databases that have them, step by step (chemsolve.aqueous.compare: pH, pe, log10 m, SI,
    sorbed species within TOL_LOG; water and phases TOL_REL). wateq4f.dat has an aqueous species with
    -mass_balance (S4-2), which with an exchanger or a surface in the step used to raise a bare KeyError."""
    from chemsolve.aqueous.compare import compare_input

    c = compare_input(_sorber_input(ex, su, gas), database, name="sorbers")
    assert c.aligned and not c.peer_error, (c.n_ours, c.n_peer, c.peer_error)
    for d in c.steps:
        assert d.status == "CONVERGED" and d.certified and d.agrees, (d.sim, d.state, d.step, d.note, d.dpH, d.dlogm)


@pytest.mark.parametrize("tc", [25, 80, 120])
def test_exchange_species_of_a_hydrolysed_cation_match_iphreeqc(tc):
    """AlOHX2 (AlOH+2 + 2X- = AlOHX2, -gamma of phreeqc.dat): PHREEQC's calc_gammas takes the Debye-Hueckel term
    of an exchange species from the last aqueous or H+ token, by name, of its reaction rewritten to master species
    (Al+3 + H2O - H+ + 2X-: H+ with coefficient -1), not from AlOH+2 as written; taking AlOH+2 put AlOHX2 0.57 in
    log10 off PHREEQC's, CONVERGED and certified (the certificate's exchange model read the cation the same way).
    A water at gibbsite saturation with an exchanger, step by step against IPhreeqc (compare, sorbed species
    within TOL_LOG), with AlOHX2 above the compared 1e-12 mol."""
    from chemsolve.aqueous.compare import compare_input

    text = (f"SOLUTION 1\n units mmol/kgw\n temp 40\n pH 7 charge\n Na 5.9; Cl 26; Ca 8.1; Mg 3.7; C(4) 8.8; S(6) 3.8\n"
            "EXCHANGE 1\n X 0.0023\n -equil 1\nEND\nUSE solution 1\nUSE exchange 1\nEQUILIBRIUM_PHASES 1\n"
            f" Gibbsite 0 0.1\n Calcite 0 0.01\nREACTION 1\n HCl 1\n 0.001 0.004\nREACTION_TEMPERATURE 1\n {tc}\nEND\n")
    c = compare_input(text, "phreeqc.dat", name="AlOHX2")
    assert c.aligned and not c.peer_error, (c.n_ours, c.n_peer, c.peer_error)
    for d in c.steps:
        assert d.status == "CONVERGED" and d.certified and d.agrees, (d.state, d.step, d.dsorbed, d.dsorbed_where)
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    last = [s for s in run_phreeqc_input(text).steps if s.state == "react"][-1].result
    assert last.exchange["AlOHX2"] > 1e-12


@pytest.mark.xfail(strict=True, reason="PHREEQC's exchange gamma follows its current basis (switch_bases: N2 once it "
                   "is 10 log units above NO3-, and then NH4+ = 0.5 N2 + 4H+ + 3e- gives NH4X the charge of N2, zero); "
                   "chemsolve takes the primary master (NO3-, charge -1): NH4X 0.16 log10 off, not yet modelled")
def test_exchange_gamma_follows_phreeqcs_switched_basis():
    """Found by the random-input fuzz: nitrate reduced by pyrite at 120 C with an exchanger; NH4+ agrees with
    PHREEQC to 1e-5, NH4X does not (its Debye-Hueckel term, see the reason)."""
    from chemsolve.aqueous.compare import compare_input

    text = ("SOLUTION 1\n units mmol/kgw\n temp 5\n pH 7 charge\n Na 30; Cl 5.3; Ca 8.7; Mg 4.0; C(4) 6.4; S(6) 7.6\n"
            " N(5) 2.0\nEXCHANGE 1\n X 0.0233\n -equil 1\nEND\nUSE solution 1\nUSE exchange 1\nEQUILIBRIUM_PHASES 1\n"
            " Calcite 0 0\n Goethite 0 0\n Pyrite 0 0.1\n Siderite 0 0.001\nREACTION 1\n CaCl2 1\n 0.0241\n"
            "REACTION_TEMPERATURE 1\n 120\nEND\n")
    c = compare_input(text, "phreeqc.dat", name="NH4X")
    assert c.aligned and not c.peer_error
    for d in c.steps:
        assert d.status == "CONVERGED" and d.certified and d.agrees, (d.state, d.step, d.dsorbed, d.dsorbed_where)


def test_pyrite_into_an_oxic_water_with_an_exchanger_converges_as_phreeqc():
    """Found by the random-input fuzz: pyrite (SI -0.635) dissolving into an oxic water under a little O2(g), with
    gypsum, goethite and an exchanger; PHREEQC converges (pH 4.854), chemsolve stopped STAGNATED: every formulation
    failed along the in-Newton ionic strength's path through the phase sets. The row is now solved again with the
    outer ionic-strength fixed point first (solve_chunk, only where everything failed): it agrees (compare)."""
    from chemsolve.aqueous.compare import compare_input

    text = ("SOLUTION 1\n units mmol/kgw\n temp 70\n pH 9.428\n pe 12.5 O2(g) -0.68\n Na 36.7; Cl 39.32; Mg 3.518\n"
            " S(6) 8.073; K 0.3889; Fe(2) 0.3204; N(5) 1.306\nEXCHANGE 1\n X 0.0146\n -equil 1\nEND\n"
            "USE solution 1\nUSE exchange 1\nEQUILIBRIUM_PHASES 1\n Gypsum 0 10\n Goethite 0 10\n Pyrite -0.635 10\n"
            " O2(g) -2.21 0.001\nEND\n")
    c = compare_input(text, "phreeqc.dat", name="pyrite")
    assert c.aligned and not c.peer_error
    for d in c.steps:
        assert d.status == "CONVERGED" and d.certified and d.agrees, (d.state, d.status, d.note)
