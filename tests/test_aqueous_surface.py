"""Surface complexation (SURFACE) against IPhreeqc, live, on the same phreeqc.dat file (its Hfo_w /
Hfo_s sites of Dzombak and Morel).

Tolerances (issue [4/7] asks the agreement of [3/7]):
- surface species: moles within 1e-6 relative above 1e-12 mol (the phase-moles tolerance of [3/7],
  ``compare.TOL_REL``); pH within ``compare.TOL_LOG`` (1e-5). Observed (2026-12): 1e-10 relative or
  better on the species, 1e-12 on pH.
- ``-equilibrate`` (PHREEQC's initial surface, solved by IPhreeqc to its own convergence tolerance):
  within 1e-7 relative, as the exchanger's.
PHREEQC reports surface species as moles per kg of water (``-molalities``): compared as moles.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest

import chemsolve.aqueous as aq
from chemsolve.aqueous.compare import TOL_LOG, TOL_REL
from chemsolve.aqueous.solution import Solution
from chemsolve.errors import InvalidInputError
from chemsolve.status import Status

phreeqc = pytest.importorskip("phreeqc")

# Cu is left out of the random waters: with Cu(1)/Cu(2) the only redox pair at 1e-7 mol in an unpoised
# water, the pe of a reaction step differs from IPhreeqc's by ~1.5e-6 with or without a surface (measured
# 2026-12: no surface, pe 3.8367028 vs 3.8367016 and Cu+2 by 2.7e-6; unchanged at PHREEQC's tightest
# convergence tolerance), an aqueous matter outside this file; Cu's surface species are formed in
# test_copper_surface_species_with_fixed_redox below, in a water where it does not arise.
CATIONS = ("Zn", "Ca", "Cd", "Pb", "Mg", "Sr")
PHASES = ("Calcite", "Gypsum")


def _sol_text(tot, tc, pH, n=1):
    ph = f" pH {pH:.17g}\n" if pH is not None else " pH 7 charge\n"
    return f"SOLUTION {n}\n units mol/kgw\n temp {tc:.17g}\n{ph}" + "".join(f" {k} {v:.17g}\n" for k, v in tot.items())


def _surf_text(sites, edl="-no_edl", n=1, equilibrate=None):
    """SURFACE with sites {site: moles | (moles, m2/g, grams)}; edl "" for PHREEQC's default (DDL)."""
    head = f"SURFACE {n}\n" + (f" {edl}\n" if edl else "") + (f" -equilibrate {equilibrate}\n" if equilibrate else "")
    return head + "".join(f" {s}OH " + (" ".join(f"{x:.17g}" for x in v) if isinstance(v, tuple) else f"{v:.17g}")
                          + "\n" for s, v in sites.items())


def _water(db, tot, tc, pH):
    return Solution(db, totals=tot, units="mol/kgw", T=tc + 273.15, pH=7.0 if pH is None else pH,
                    charge="pH" if pH is None else None).speciate()


# PHREEQC's own convergence tolerance (KNOBS -convergence_tolerance, 1e-8 by default) set to 1e-12:
# a surface in an unbuffered water (ex8's NaNO3 swept by NaOH) sets the pH by a few 1e-12 mol of H+, and
# at PHREEQC's default its pH scatters by up to 3e-6 around ours (species by 1e-5); at 1e-12 the two
# agree to 3e-10 (measured 2026-12), so the comparison tests chemsolve, not PHREEQC's stopping rule.
KNOBS = "KNOBS\n -convergence_tolerance 1e-12\n"


def _run(ip, text):
    assert ip.RunString(KNOBS + text) == 0, ip.GetErrorString()
    out = ip.GetSelectedOutput()
    return {k: v[-1] for k, v in out.items()}, out


def _sel(names, phases=(), psi=False):
    """Our species' molalities (psi: and Hfo's potential), and how many surface species PHREEQC holds
    above 1e-12 mol (its BASIC SYS("surf")): a species PHREEQC forms and chemsolve leaves out is seen by
    the count (ex19b's H_ab-2, formed from another surface species, was left out so)."""
    return (f"SELECTED_OUTPUT 1\n -reset false\n -state true\n -pH true\n -water true\n -charge_balance true\n"
            f" -molalities {' '.join(names)}\n"
            + (f" -equilibrium_phases {' '.join(phases)}\n" if phases else "")
            + f"USER_PUNCH 1\n -headings n_surf{' psi' if psi else ''}\n 10 t = SYS(\"surf\", n, name$, type$, moles)\n"
            " 20 c = 0\n 30 FOR i = 1 TO n\n 40 IF moles(i) > 1e-12 THEN c = c + 1\n 50 NEXT i\n 60 PUNCH c\n"
            + (' 70 PUNCH EDL("psi", "Hfo")\n' if psi else "") + "END\n")


def _compare(r, d, names):
    assert abs(r.pH - d["pH"]) < TOL_LOG, (r.pH, d["pH"])
    assert abs(r.water_mass / d["mass_H2O"] - 1.0) < TOL_REL
    seen = 0
    for s in names:
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        if theirs > 1e-12:
            seen += 1
            assert abs(r.surface.get(s, 0.0) / theirs - 1.0) < TOL_REL, (s, r.surface.get(s), theirs)
        else:
            assert r.surface.get(s, 0.0) < 1e-12 * (1 + TOL_REL) + 1e-20, (s, r.surface.get(s), theirs)
    assert seen >= 3
    assert d["n_surf"] == sum(1 for v in r.surface.values() if v > 1e-12), (d["n_surf"], r.surface)


def _random_case(rng):
    tot = {"Na": 10 ** rng.uniform(-3, -0.7), "Cl": 10 ** rng.uniform(-3, -0.7)}
    for el in rng.choice(CATIONS, int(rng.integers(1, 4)), replace=False):
        tot[str(el)] = 10 ** rng.uniform(-7, -3)
    for el in ("C(4)", "S(6)"):
        if rng.random() < 0.4:
            tot[el] = 10 ** rng.uniform(-4, -2)
    tc = float(rng.uniform(5.0, 80.0))
    pH = None if rng.random() < 0.3 else float(rng.uniform(4.5, 8.5))
    sites = {"Hfo_w": float(10 ** rng.uniform(-4.5, -2.5))}
    if rng.random() < 0.8:
        sites["Hfo_s"] = float(10 ** rng.uniform(-6, -4))
    ph = [str(p) for p in rng.choice(PHASES, int(rng.integers(0, 2)), replace=False)]
    return tot, tc, pH, sites, ph


CASES = 30


@pytest.mark.parametrize("seed", range(CASES))
def test_react_with_surface_no_edl_matches_phreeqc(db, ip, seed):
    rng = np.random.default_rng(2000 + seed)
    tot, tc, pH, sites, ph = _random_case(rng)
    w = _water(db, tot, tc, pH)
    assert w.success, w.message
    r = aq.react(w, phases=dict.fromkeys(ph, 0.0) or None, surface=aq.surface(db, sites, edl="no_edl"))
    assert r.status == Status.CONVERGED, r.message
    assert r.certificate is not None and r.certificate.passed
    text = _sol_text(tot, tc, pH) + _surf_text(sites)
    if ph:
        text += "EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 10\n" for p in ph)
    d, _ = _run(ip, text + _sel(list(r.surface), ph))
    _compare(r, d, list(r.surface))
    # the water's own charge imbalance: what it carried, less the charge the surface took (PHREEQC's
    # value is a difference of its converged sums: compared to TOL_REL of the surface's gross charge)
    gross = sum(abs(db.surface_species[s].charge) * n for s, n in r.surface.items())
    assert abs(r.charge_imbalance - d["charge(eq)"]) <= TOL_REL * max(gross, abs(d["charge(eq)"]))
    for p in ph:
        assert abs(r.phase_moles[p] - d[p]) <= TOL_REL * max(abs(d[p]), 1e-12), (p, r.phase_moles[p], d[p])


@pytest.mark.parametrize("tc", [10.0, 25.0, 60.0])
@pytest.mark.parametrize("zn", [1e-7, 1e-4])
def test_zinc_sorption_over_ph_as_ex8_no_edl(db, ip, tc, zn):
    """PHREEQC's ex8 (Zn on Hfo_w / Hfo_s in 0.1 M NaNO3) with -no_edl, the pH swept by NaOH as a
    REACTION (a batch of steps), at three temperatures (REACTION_TEMPERATURE)."""
    tot = {"Zn": zn, "Na": 0.1, "N(5)": 0.1}
    w = _water(db, tot, 25.0, 4.5)
    sites = {"Hfo_s": 5e-6, "Hfo_w": 2e-4}
    naoh = np.linspace(0.0, 2.0e-4, 9)
    b = aq.react(w, reaction={"NaOH": naoh}, T=tc + 273.15, surface=aq.surface(db, sites, edl="no_edl"))
    assert np.all(b.status == Status.CONVERGED), b.message
    assert b.certificate.passed.all()
    names = list(b.surface_species)
    for i, x in enumerate(naoh):
        text = (_sol_text(tot, 25.0, 4.5) + _surf_text(sites) + f"REACTION 1\n NaOH 1\n {x:.17g} moles\n"
                + f"REACTION_TEMPERATURE 1\n {tc:.17g}\n")
        d, _ = _run(ip, text + _sel(names))
        _compare(b.row(i), d, names)


def _row(out, state):
    """The row of a SELECTED_OUTPUT (columns as lists) whose state is ``state`` (exactly one)."""
    idx = [i for i, st in enumerate(out["state"]) if st == state]
    assert len(idx) == 1, out["state"]
    return {k: v[idx[0]] for k, v in out.items()}


@pytest.mark.parametrize("tot, pH", [
    ({"Zn": 1e-4, "Na": 0.1, "N(5)": 0.1}, 6.0),  # ex8's water (its react row then reduces some nitrate)
    ({"Na": 0.01, "Cl": 0.01, "Zn": 1e-5, "Ca": 1e-3, "C(4)": 2e-3}, 7.2),
    ({"Zn": 1e-4, "Na": 0.1, "Cl": 0.1}, 6.0),  # a charged surface (pH 6)
    ({"Zn": 1e-5, "Na": 0.01, "Cl": 0.01, "Ca": 1e-3}, 5.0),
    ({"Zn": 1e-4, "Na": 0.1, "N": 0.1}, 6.0),  # ex8's water with its nitrogen given whole
])
@pytest.mark.parametrize("edl", ["no_edl", "ddl"])
def test_equilibrate_surface_matches_phreeqc(db, ip, tot, pH, edl):
    w = _water(db, tot, 25.0, pH)
    sites = {"Hfo_w": 1e-3, "Hfo_s": 2.5e-5} if edl == "no_edl" else {"Hfo_w": (1e-3, 600.0, 0.09), "Hfo_s": 2.5e-5}
    su = aq.equilibrate_surface(w, sites, edl=edl)
    names = sorted(su.composition)
    _, out = _run(ip, _sol_text(tot, 25.0, pH) + _surf_text(sites, edl="-no_edl" if edl == "no_edl" else "",
                                                             equilibrate=1) + _sel(names))
    d = _row(out, "i_surf")  # PHREEQC's initial-surface calculation (a reaction step follows it)
    for s in names:
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        assert abs(su.composition[s] / theirs - 1.0) < 1e-7, (s, su.composition[s], theirs)
    for k, v in sites.items():
        assert abs(su.sites[k] / (v[0] if isinstance(v, tuple) else v) - 1.0) < 1e-13


def test_saved_surface_carries_into_the_next_step_as_phreeqc(db, ip):
    """SURFACE -equilibrate, SAVE surface, then USE it with another water (its charge, H and O go with
    it): step 2 against IPhreeqc running the same sequence."""
    t1 = {"Na": 0.01, "Cl": 0.01, "Zn": 1e-4}
    t2 = {"Ca": 1e-3, "Cl": 2e-3, "Cd": 1e-6}
    w1, w2 = _water(db, t1, 25.0, 6.5), _water(db, t2, 25.0, 8.0)
    sites = {"Hfo_w": 5e-4, "Hfo_s": 1e-5}
    su = aq.equilibrate_surface(w1, sites, edl="no_edl")
    r = aq.react(w2, surface=su)
    assert r.status == Status.CONVERGED and r.certificate.passed, r.message
    text = (_sol_text(t1, 25.0, 6.5, 1) + _sol_text(t2, 25.0, 8.0, 2) + _surf_text(sites, equilibrate=1)
            + "END\nUSE solution 2\nUSE surface 1\n")
    d, _ = _run(ip, text + _sel(list(r.surface)))
    _compare(r, d, list(r.surface))
    # and the step's own surface goes on: react it again with the same water (nothing may change)
    r2 = aq.react(w2, surface=r.surface_state)
    assert r2.status == Status.CONVERGED
    assert r2.surface["Hfo_sOZn+"] > 0 and r.surface_state.sites == pytest.approx(sites, rel=1e-13)


def test_elements_and_charge_conserved_with_surface(db):
    w = _water(db, {"Na": 0.05, "Cl": 0.05, "Pb": 1e-4, "S(6)": 1e-3}, 25.0, 5.5)
    su = aq.surface(db, {"Hfo_w": 1e-3}, edl="no_edl")
    r = aq.react(w, surface=su)
    assert r.status == Status.CONVERGED, r.message
    pb_sorbed = sum(n for s, n in r.surface.items() if "Pb" in s)
    assert abs(r.totals["Pb"] * r.water_mass + pb_sorbed - 1e-4 * w.water_mass) < 1e-12 * 1e-4
    q_surf = sum(db.surface_species[s].charge * n for s, n in r.surface.items())
    assert abs(r.charge_imbalance + q_surf - w.state.charge) < 1e-12
    assert abs(sum(r.surface_state.sites.values()) - 1e-3) < 1e-15


def test_batch_rows_equal_single_calls(db):
    w = _water(db, {"Na": 0.01, "Cl": 0.01, "Cu": 1e-5}, 25.0, 6.0)
    su = aq.surface(db, {"Hfo_w": 2e-4, "Hfo_s": 5e-6}, edl="no_edl")
    amt = np.array([0.0, 5e-5, 1e-4])
    b = aq.react(w, reaction={"NaOH": amt}, surface=su)
    for i, x in enumerate(amt):
        r = aq.react(w, reaction={"NaOH": float(x)}, surface=su)
        assert r.pH == pytest.approx(b.pH[i], abs=1e-10)
        for s, n in r.surface.items():
            assert n == pytest.approx(b.surface[i, b.surface_species.index(s)], rel=1e-9)


def test_certificate_refuses_a_tampered_surface(db):
    """Each surface check refuses a state that is off: a species' moles (mass action), the sites
    (site balance), the sorbed element (mass balance) and the surface's charge (charge balance)."""
    from chemsolve.aqueous.certificate import certify_states

    w = _water(db, {"Na": 0.01, "Cl": 0.01, "Zn": 1e-4}, 25.0, 6.5)
    r = aq.react(w, surface=aq.surface(db, {"Hfo_w": 2e-4, "Hfo_s": 5e-6}, edl="no_edl"))
    assert r.status == Status.CONVERGED and r.certificate.passed
    aqs = [s for s in r.molality]
    m = np.array([[r.molality[s] for s in aqs]])
    lg = np.array([[r.log_gamma[s] for s in aqs]])
    keys = [k for k in r.totals]
    tot = np.array([[w.state.elements.get(k, 0.0) / r.water_mass for k in keys]])
    names = list(r.surface)
    n0 = np.array([[r.surface[s] for s in names]])
    sites = ["Hfo_s", "Hfo_w"]
    Ns = np.array([[5e-6, 2e-4]])
    st = w.state
    from chemsolve.aqueous.surface import surface_model

    smod = surface_model(db, sites, aqs)
    canon = {s: smod.canon[i] for i, s in enumerate(smod.names)}
    # the surface came in as its masters (neutral, canon 0): the conserved totals are the water's plus those
    cons = {"charge": st.charge, "electrons": st.electrons + 5e-6 * canon["Hfo_sOH"][1] + 2e-4 * canon["Hfo_wOH"][1],
            "water": st.water + 5e-6 * canon["Hfo_sOH"][2] + 2e-4 * canon["Hfo_wOH"][2]}

    def cert(n, Nsites=Ns, mm=m):
        return certify_states(db, aqs, keys, mm, lg, np.array([r.pH]), np.array([r.pe]), np.array([r.T]),
                              np.array([r.ionic_strength]), np.array([r.water_activity]), np.array([False]), tot,
                              W=np.array([r.water_mass]), conserved=cons, P=np.array([r.P]),
                              surface={"sites": sites, "names": names, "n": n, "N": Nsites})

    good = cert(n0)
    assert good.passed.all(), good.row(0).message
    i = names.index("Hfo_wOZn+")
    bad = n0.copy()
    bad[0, i] *= 1 + 1e-6  # Zn moved from the water to the surface: mass action, sites, Zn, charge
    c = cert(bad)
    assert not c.passed[0]
    row = c.row(0).checks
    assert row["surface mass action"].value > 1e-8
    assert row["surface sites"].value > 1e-9
    assert row["mass balance"].value > 1e-9 and row["charge balance"].value > 1e-9
    # the sites alone off (every species scaled: the mole fractions, hence the mass action, unchanged)
    c = cert(n0, Nsites=Ns * (1 + 1e-6))
    assert not c.passed[0] and c.row(0).checks["surface sites"].value > 1e-9


@pytest.mark.parametrize("spec, msg", [
    ({"Hfo_x": 1e-3}, "not a site"),
    ({"Hfo_w": -1e-3}, "must be finite and > 0"),
    ({"Hfo_w": "a lot"}, "not a number"),
    ({"Hfo_w": (1e-3, 600)}, "expected moles or"),
    ({}, "expected"),
])
def test_bad_surface_named(db, spec, msg):
    with pytest.raises(InvalidInputError, match=msg):
        aq.surface(db, spec, edl="no_edl")


def test_ddl_needs_area_and_mass_named(db):
    with pytest.raises(InvalidInputError, match="'Hfo'.*needs a specific area and mass"):
        aq.surface(db, {"Hfo_w": 1e-3})  # the default model is PHREEQC's: the diffuse double layer
    with pytest.raises(InvalidInputError, match="edl='cd_music'"):
        aq.surface(db, {"Hfo_w": 1e-3}, edl="cd_music")


def test_surface_from_another_database_refused(db):
    other = replace(aq.surface(db, {"Hfo_w": 1e-3}, edl="no_edl"), db=None)
    w = _water(db, {"Na": 0.01, "Cl": 0.01}, 25.0, 7.0)
    with pytest.raises(InvalidInputError, match="another database"):
        aq.react(w, surface=other)


@pytest.mark.parametrize("tc", [120.0, 200.0])
def test_hot_step_with_pressure_term_matches_phreeqc(db, ip, tc):
    """Above 100 C the step holds at the saturation pressure and log K of the surface species carries
    PHREEQC's pressure term through their aqueous reactants (the tableau's, and the certificate's own)."""
    tot = {"Zn": 1e-5, "Na": 0.1, "Cl": 0.1, "C(4)": 2e-3, "Ca": 1e-3}
    w = _water(db, tot, 25.0, 6.5)
    sites = {"Hfo_s": 5e-6, "Hfo_w": 2e-4}
    r = aq.react(w, T=tc + 273.15, surface=aq.surface(db, sites, edl="no_edl"))
    assert r.status == Status.CONVERGED and r.certificate.passed, r.message
    assert r.P > 1.0
    d, _ = _run(ip, _sol_text(tot, 25.0, 6.5) + _surf_text(sites) + f"REACTION_TEMPERATURE 1\n {tc}\n"
                + _sel(list(r.surface)))
    _compare(r, d, list(r.surface))


# ------------------------------------------------------------------ the diffuse double layer (PHREEQC's default)
def _ddl_case(rng):
    tot, tc, pH, sites, ph = _random_case(rng)
    area = (float(rng.uniform(100.0, 800.0)), float(10 ** rng.uniform(-2, 0.5)))
    first = next(iter(sites))
    sites = {k: ((v, *area) if k == first else v) for k, v in sites.items()}
    return tot, tc, pH, sites, ph


@pytest.mark.parametrize("seed", range(CASES))
def test_react_with_surface_ddl_matches_phreeqc(db, ip, seed):
    rng = np.random.default_rng(3000 + seed)
    tot, tc, pH, sites, ph = _ddl_case(rng)
    w = _water(db, tot, tc, pH)
    assert w.success, w.message
    r = aq.react(w, phases=dict.fromkeys(ph, 0.0) or None, surface=aq.surface(db, sites))
    assert r.status == Status.CONVERGED, r.message
    assert r.certificate is not None and r.certificate.passed
    text = _sol_text(tot, tc, pH) + _surf_text(sites, edl="")
    if ph:
        text += "EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 10\n" for p in ph)
    d, _ = _run(ip, text + _sel(list(r.surface), ph, psi=True))
    _compare(r, d, list(r.surface))
    # the potential: PHREEQC's psi [V], to the same relative tolerance as the species
    assert abs(r.surface_potential["Hfo"] - d["psi"]) <= TOL_REL * abs(d["psi"]) + 1e-12, (r.surface_potential,
                                                                                          d["psi"])
    for p in ph:
        assert abs(r.phase_moles[p] - d[p]) <= TOL_REL * max(abs(d[p]), 1e-12), (p, r.phase_moles[p], d[p])


@pytest.mark.parametrize("tc", [10.0, 25.0, 60.0])
@pytest.mark.parametrize("zn", [1e-7, 1e-4])
def test_zinc_sorption_over_ph_as_ex8_ddl(db, ip, tc, zn):
    """PHREEQC's ex8 with its diffuse double layer (Hfo_s 5e-6 mol on 0.09 g of 600 m2/g, Hfo_w 2e-4):
    the pH swept by NaOH (a batch), three temperatures."""
    tot = {"Zn": zn, "Na": 0.1, "N(5)": 0.1}
    w = _water(db, tot, 25.0, 4.5)
    sites = {"Hfo_s": (5e-6, 600.0, 0.09), "Hfo_w": 2e-4}
    naoh = np.linspace(0.0, 2.0e-4, 9)
    b = aq.react(w, reaction={"NaOH": naoh}, T=tc + 273.15, surface=aq.surface(db, sites))
    assert np.all(b.status == Status.CONVERGED), b.message
    assert b.certificate.passed.all()
    names = list(b.surface_species)
    for i, x in enumerate(naoh):
        text = (_sol_text(tot, 25.0, 4.5) + _surf_text(sites, edl="") + f"REACTION 1\n NaOH 1\n {x:.17g} moles\n"
                + f"REACTION_TEMPERATURE 1\n {tc:.17g}\n")
        d, _ = _run(ip, text + _sel(names, psi=True))
        _compare(b.row(i), d, names)
        assert abs(b.surface_potential[i, 0] - d["psi"]) <= TOL_REL * abs(d["psi"]) + 1e-12


def test_ddl_saved_surface_and_its_potential_carry_on(db, ip):
    """The surface of one step (its composition and potential as the next start) reacted with another
    water, as PHREEQC's SAVE surface / USE surface."""
    t1 = {"Na": 0.01, "Cl": 0.01, "Zn": 1e-4}
    t2 = {"Ca": 1e-3, "Cl": 2e-3, "Cd": 1e-6}
    w1, w2 = _water(db, t1, 25.0, 6.5), _water(db, t2, 25.0, 8.0)
    sites = {"Hfo_w": (5e-4, 600.0, 1.0), "Hfo_s": 1e-5}
    r1 = aq.react(w1, surface=aq.surface(db, sites))
    r2 = aq.react(w2, surface=r1.surface_state)
    assert r1.certificate.passed and r2.certificate.passed, (r1.message, r2.message)
    text = (_sol_text(t1, 25.0, 6.5, 1) + _sol_text(t2, 25.0, 8.0, 2) + _surf_text(sites, edl="")
            + "SAVE surface 1\nEND\nUSE solution 2\nUSE surface 1\n")
    d, _ = _run(ip, text + _sel(list(r2.surface)))
    _compare(r2, d, list(r2.surface))


def test_certificate_refuses_a_wrong_potential(db):
    """With a diffuse double layer a state whose potential is off fails the charge-potential check and
    the surface mass action (the species no longer follow it)."""
    from chemsolve.aqueous.certificate import certify_states

    w = _water(db, {"Na": 0.01, "Cl": 0.01, "Zn": 1e-4}, 25.0, 6.5)
    r = aq.react(w, surface=aq.surface(db, {"Hfo_w": (2e-4, 600.0, 0.09), "Hfo_s": 5e-6}))
    assert r.status == Status.CONVERGED and r.certificate.passed
    aqs = list(r.molality)
    keys = list(r.totals)
    names = list(r.surface)
    u = r.surface_potential["Hfo"] * 96493.5 / (math.log(10.0) * 2.0 * 8.31470 * r.T)

    def cert(uu):
        return certify_states(
            db, aqs, keys, np.array([[r.molality[s] for s in aqs]]), np.array([[r.log_gamma[s] for s in aqs]]),
            np.array([r.pH]), np.array([r.pe]), np.array([r.T]), np.array([r.ionic_strength]),
            np.array([r.water_activity]), np.array([False]),
            np.array([[r.totals[k] + sum(n * db.surface_species[s].elements.get(k, 0.0)
                                         for s, n in r.surface.items()) / r.water_mass for k in keys]]),
            W=np.array([r.water_mass]), P=np.array([r.P]),
            surface={"sites": ["Hfo_s", "Hfo_w"], "names": names, "n": np.array([[r.surface[s] for s in names]]),
                     "N": np.array([[5e-6, 2e-4]]), "edl": "ddl", "ddl": ["Hfo"], "u": np.array([[uu]]),
                     "area": np.array([[600.0 * 0.09]])})

    good = cert(u)
    assert good.passed.all(), good.row(0).message
    bad = cert(u * (1 + 1e-6))
    assert not bad.passed[0]
    assert bad.row(0).checks["surface charge-potential"].value > 1e-9
    assert bad.row(0).checks["surface mass action"].value > 1e-8


def test_copper_surface_species_with_fixed_redox(db, ip):
    """Cu on Hfo (DDL) in a water whose pe is poised by O2 (10^-0.7 atm, an equilibrium phase)."""
    tot = {"Na": 0.01, "Cl": 0.01, "Cu": 1e-5}
    w = _water(db, tot, 25.0, 6.0)
    sites = {"Hfo_w": (2e-4, 600.0, 0.09), "Hfo_s": 5e-6}
    r = aq.react(w, phases={"O2(g)": -0.7}, surface=aq.surface(db, sites))
    assert r.status == Status.CONVERGED and r.certificate.passed, r.message
    assert r.surface["Hfo_sOCu+"] > 1e-7
    d, _ = _run(ip, _sol_text(tot, 25.0, 6.0) + _surf_text(sites, edl="") + "EQUILIBRIUM_PHASES 1\n O2(g) -0.7 10\n"
                + _sel(list(r.surface)))
    _compare(r, d, list(r.surface))


# ------------------------------------------------------------------ PHREEQC input files
# PHREEQC's ex8 (examples/ex8 of usgs-coupled/phreeqc3), its model blocks as written there (its own
# SURFACE_SPECIES log K, the Fix_H+ phase), with the pH steps it writes through USER_PUNCH and INCLUDE$
# spelled out (chemsolve reads neither), four of its pH values, both Zn totals; then a -no_edl surface,
# SAVE / USE surface and -sites_units density.
EX8 = """TITLE Example 8.--Sorption of zinc on hydrous iron oxides.
SURFACE_SPECIES
     Hfo_sOH  + H+ = Hfo_sOH2+
     log_k  7.18
     Hfo_sOH = Hfo_sO- + H+
     log_k  -8.82
     Hfo_sOH + Zn+2 = Hfo_sOZn+ + H+
     log_k  0.66
     Hfo_wOH  + H+ = Hfo_wOH2+
     log_k  7.18
     Hfo_wOH = Hfo_wO- + H+
     log_k  -8.82
     Hfo_wOH + Zn+2 = Hfo_wOZn+ + H+
     log_k  -2.32
SURFACE 1
     Hfo_sOH        5e-6    600.    0.09
     Hfo_wOH        2e-4
END
SOLUTION 1
     -units  mmol/kgw
     pH      8.0
     Zn      0.0001
     Na      100.    charge
     N(5)    100.
SOLUTION 2
     -units  mmol/kgw
     pH      8.0
     Zn      0.1
     Na      100.    charge
     N(5)    100.
END
PHASES
     Fix_H+
     H+ = H+
     log_k  0.0
SELECTED_OUTPUT 1
     -reset false
     -state true
     -pH true
     -water true
     -charge_balance true
     -molalities Zn+2 Hfo_wOZn+ Hfo_sOZn+ Hfo_wOH Hfo_wOH2+ Hfo_sO-
END
""" + "".join(f"""USE solution {s}
USE surface 1
EQUILIBRIUM_PHASES 1
   Fix_H+ {-ph} NaOH 10.0
END
""" for s in (1, 2) for ph in (5.0, 6.0, 7.0, 8.0)) + """USE solution 2
SURFACE 2
     -no_edl
     Hfo_wOH        2e-4
     Hfo_sOH        5e-6
SAVE surface 3
END
USE solution 1
USE surface 3
END
SURFACE 4
     -sites_units density
     Hfo_wOH        2.0    600.    0.09
USE solution 2
END
"""


def test_phreeqc_input_ex8_matches_iphreeqc(db):
    """Every SELECTED_OUTPUT row of the ex8 input (its own surface log K, Fix_H+ at four pH with NaOH, both
    Zn waters; a -no_edl surface saved and used again; sites as a density) equals IPhreeqc's: molalities
    within TOL_REL (1e-6) relative above 1e-12 mol/kgw, pH TOL_LOG, charge(eq) within TOL_REL of the
    surface's sites (the charge it can hold)."""
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    ours = run_phreeqc_input(EX8, db)
    assert ours.success, ours.stopped
    ip = phreeqc.Phreeqc()  # a fresh instance: definitions (SELECTED_OUTPUT among them) persist in one
    assert ip.LoadDatabase(str(db.path)) == 0
    assert ip.RunString(KNOBS + EX8) == 0, ip.GetErrorString()
    so = ip.GetSelectedOutput()
    mine = ours.selected[1]
    n = len(next(iter(so.values())))
    assert len(mine) == n == 8 + 1 + 1 + 1  # (SELECTED_OUTPUT comes after the initial solutions)
    assert [r["state"] for r in mine] == list(so["state"])
    for i in range(n):
        assert abs(mine[i]["pH"] - so["pH"][i]) < TOL_LOG, (i, mine[i]["pH"], so["pH"][i])
        assert abs(mine[i]["charge(eq)"] - so["charge(eq)"][i]) <= TOL_REL * 2e-4, (i, mine[i]["charge(eq)"])
        for k, col in so.items():
            if k.startswith("m_") and col[i] > 1e-12:
                assert abs(mine[i][k] / col[i] - 1.0) < TOL_REL, (i, k, mine[i][k], col[i])
    fixed = [s for s in ours.steps if s.state == "react"][:8]
    assert [round(s.result.pH, 9) for s in fixed] == [5.0, 6.0, 7.0, 8.0] * 2
    assert all("Hfo" in s.result.surface_potential for s in fixed)


@pytest.mark.parametrize("block, msg", [
    ("SURFACE 1\n -equilibrate 7\n Hfo_wOH 1e-3 600 1\n", "solution 7 is not defined"),
    ("SURFACE 1\n -equilibrate\n Hfo_wOH 1e-3 600 1\n", "needs a solution number"),
    ("SURFACE 1\n -diffuse_layer\n Hfo_wOH 1e-3 600 1\n", "-diffuse_layer"),
    ("SURFACE 1\n -donnan\n Hfo_wOH 1e-3 600 1\n", "Donnan"),
    ("SURFACE 1\n -cd_music\n Hfo_wOH 1e-3 600 1\n", "CD-MUSIC"),
    ("SURFACE 1\n -ccm\n Hfo_wOH 1e-3 600 1\n", "CCM"),
    ("SURFACE 1\n -foo\n Hfo_wOH 1e-3 600 1\n", "unknown option '-foo'"),
    ("SURFACE 1\n Hfo_wOH 1e-3\n", "needs its specific area and mass"),
    ("SURFACE 1\n Foo_w 1e-3 600 1\n", "not the master species"),  # (Hfo_w, the site itself, is read: ex19b)
    ("SURFACE 1\n Hfo_wOH Ferrihydrite equilibrium_phase 0.1 600\n", "linked"),
    ("SURFACE 1\n Hfo_wOH 1e-3 600\n", "formula sites"),
    ("SURFACE 1\n -no_edl\n Hfo_wOH -1e-3\n", "must be finite and >= 0"),
    ("SURFACE 1\n -sites_units density\n Hfo_wOH 2\n -no_edl\n", "needs the specific area"),
    ("SURFACE 1\n -no_edl\n", "without a site"),
    ("USE surface 5\n", "SURFACE 5 is not defined"),
])
def test_phreeqc_input_bad_surface_named_with_line(db, block, msg):
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    text = "SOLUTION 1\n Na 1\n Cl 1\n" + block + "END\n"
    with pytest.raises(InvalidInputError, match=msg) as e:
        run_phreeqc_input(text, db)
    assert "input:" in str(e.value)


@pytest.mark.nojit  # the kernels' surface paths run again as plain Python (test_nojit)
def test_exchanger_and_surface_together_match_phreeqc(db, ip):
    """EXCHANGE and SURFACE (DDL) in one step, with calcite: the exchange species, then the surface
    species, in one Newton system."""
    tot = {"Na": 0.02, "Cl": 0.02, "Ca": 2e-3, "C(4)": 4e-3, "Zn": 5e-5, "Mg": 1e-3}
    w = _water(db, tot, 20.0, None)
    ex = {"CaX2": 2e-3, "NaX": 1e-3}
    sites = {"Hfo_w": (1e-3, 600.0, 0.5), "Hfo_s": 2.5e-5}
    r = aq.react(w, phases={"Calcite": 0.0}, exchange=ex, surface=aq.surface(db, sites))
    assert r.status == Status.CONVERGED and r.certificate.passed, r.message
    text = (_sol_text(tot, 20.0, None) + "EXCHANGE 1\n" + "".join(f" {k} {v:.17g}\n" for k, v in ex.items())
            + _surf_text(sites, edl="") + "EQUILIBRIUM_PHASES 1\n Calcite 0 10\n")
    names = list(r.surface) + list(r.exchange)
    d, _ = _run(ip, text + _sel(names, ["Calcite"]))
    _compare(r, d, list(r.surface))
    for s, n in r.exchange.items():
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        if theirs > 1e-12:
            assert abs(n / theirs - 1.0) < TOL_REL, (s, n, theirs)
    assert abs(r.phase_moles["Calcite"] - d["Calcite"]) <= TOL_REL * abs(d["Calcite"])


TWO_SURFACES = """SURFACE_MASTER_SPECIES
    Goe_a  Goe_aOH
SURFACE_SPECIES
    Goe_aOH = Goe_aOH
    log_k 0
    Goe_aOH + H+ = Goe_aOH2+
    log_k 6.5
    Goe_aOH = Goe_aO- + H+
    log_k -9.5
    Goe_aOH + Zn+2 = Goe_aOZn+ + H+
    log_k 0.2
SOLUTION 1
    units mmol/kgw
    pH 6.5
    Zn 0.05
    Na 10 charge
    Cl 10
SURFACE 1
    Hfo_wOH 2e-4 600 0.09
    Hfo_sOH 5e-6
    Goe_aOH 1e-4 50 0.5
REACTION_TEMPERATURE 1
    {tc}
SELECTED_OUTPUT 1
    -reset false
    -state true
    -pH true
    -water true
    -molalities Zn+2 Hfo_wOZn+ Hfo_sOZn+ Goe_aOZn+ Goe_aOH2+ Goe_aO- Hfo_wOH2+
END
"""


@pytest.mark.parametrize("tc", [15.0, 45.0])
def test_two_surfaces_each_with_its_potential(db, tc):
    """Two surfaces (phreeqc.dat's Hfo and a goethite-like surface defined in the input), each with its own
    area and potential, against IPhreeqc (a fresh instance for the input's definitions)."""
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    text = TWO_SURFACES.format(tc=tc)
    ours = run_phreeqc_input(text, db)
    assert ours.success, ours.stopped
    p = phreeqc.Phreeqc()
    assert p.LoadDatabase(str(db.path)) == 0
    up = 'USER_PUNCH\n -headings psi_Hfo psi_Goe\n 10 PUNCH EDL("psi", "Hfo"), EDL("psi", "Goe")\nEND\n'
    assert p.RunString(KNOBS + text[:-len("END\n")] + up) == 0, p.GetErrorString()
    so = p.GetSelectedOutput()
    row = ours.selected[1][-1]
    assert abs(row["pH"] - so["pH"][-1]) < TOL_LOG
    for k, col in so.items():
        if k.startswith("m_") and col[-1] > 1e-12:
            assert abs(row[k] / col[-1] - 1.0) < TOL_REL, (k, row[k], col[-1])
    last = ours.steps[-1].result
    assert last.certificate.passed
    assert set(last.surface_potential) == {"Goe", "Hfo"}
    for sname in ("Goe", "Hfo"):
        theirs = so[f"psi_{sname}"][-1]
        assert abs(last.surface_potential[sname] - theirs) <= TOL_REL * abs(theirs), (sname, theirs)
    assert abs(last.surface_potential["Goe"] - last.surface_potential["Hfo"]) > 1e-3  # two potentials


def test_batch_rows_with_their_own_surfaces(db):
    """A list of surfaces (one per row, different areas and sites) in one batch: each row equals its
    single call."""
    w = _water(db, {"Na": 0.01, "Cl": 0.01, "Pb": 1e-5}, 25.0, 6.0)
    sus = [aq.surface(db, {"Hfo_w": (2e-4 * (k + 1), 300.0 * (k + 1), 0.1)}) for k in range(3)]
    b = aq.react([w, w, w], surface=sus)
    assert np.all(b.status == Status.CONVERGED)
    for k, su in enumerate(sus):
        r = aq.react(w, surface=su)
        assert r.pH == pytest.approx(b.pH[k], abs=1e-10)
        assert r.surface_potential["Hfo"] == pytest.approx(b.surface_potential[k, 0], rel=1e-9)
        assert r.surface["Hfo_wOPb+"] == pytest.approx(b.surface[k, b.surface_species.index("Hfo_wOPb+")], rel=1e-9)


# ------------------------------------------------------------------ 300 random exchanger + surface assemblages
RANDOM_CATIONS = ("Zn", "Ca", "Cd", "Pb", "Mg", "Sr", "Ba", "Mn")
EX_SPECIES = ("NaX", "KX", "CaX2", "MgX2")


def _assemblage(seed):
    """A random water (Na, Cl, 1-3 cations at 1e-7..1e-3, maybe C(4), S(6), K; pH 3.5-10 or from the charge
    balance; 5-90 C), 0-2 exchange species, a surface (DDL 60 %, 50-800 m2/g, 0.01-10 g; else -no_edl) and 0-2
    of calcite, gypsum, dolomite."""
    rng = np.random.default_rng(seed)
    tot = {"Na": 10 ** rng.uniform(-3.5, -0.5), "Cl": 10 ** rng.uniform(-3.5, -0.5)}
    for el in rng.choice(RANDOM_CATIONS, int(rng.integers(1, 4)), replace=False):
        tot[str(el)] = 10 ** rng.uniform(-7, -3)
    for el in ("C(4)", "S(6)", "K"):
        if rng.random() < 0.4:
            tot[el] = 10 ** rng.uniform(-4, -2)
    tc = float(rng.uniform(5, 90))
    pH = None if rng.random() < 0.3 else float(rng.uniform(3.5, 10.0))
    edl = "ddl" if rng.random() < 0.6 else "no_edl"
    sites = {"Hfo_w": float(10 ** rng.uniform(-4.5, -2))}
    if rng.random() < 0.8:
        sites["Hfo_s"] = float(10 ** rng.uniform(-6, -3.5))
    if edl == "ddl":
        sites["Hfo_w"] = (sites["Hfo_w"], float(rng.uniform(50, 800)), float(10 ** rng.uniform(-2, 1)))
    ex = {str(s): float(10 ** rng.uniform(-4, -1.5)) for s in rng.choice(EX_SPECIES, int(rng.integers(0, 3)),
                                                                        replace=False)}
    ph = [str(p) for p in rng.choice(("Calcite", "Gypsum", "Dolomite"), int(rng.integers(0, 3)), replace=False)]
    return tot, tc, pH, edl, sites, ex, ph


def _mismatch(r, d, edl):
    """Worst relative difference of surface and exchange species (above 1e-12 mol), psi and phases, and
    the pH difference."""
    worst = 0.0
    for s, n in {**r.surface, **r.exchange}.items():
        theirs = d[f"m_{s}(mol/kgw)"] * d["mass_H2O"]
        if theirs > 1e-12:
            worst = max(worst, abs(n / theirs - 1.0))
    if edl == "ddl":
        worst = max(worst, abs(r.surface_potential["Hfo"] / d["psi"] - 1.0))
    return worst, abs(r.pH - d["pH"])


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(6))
def test_random_exchanger_and_surface_assemblages_match_phreeqc(db, ip, chunk):
    """Issue [4/7]'s 300 random exchanger + surface assemblages (50 a chunk), IPhreeqc live: every step
    converges and passes the certificate; every species, psi and phase within TOL_REL (1e-6), pH within
    TOL_LOG. A step outside that at PHREEQC's convergence tolerance 1e-12 is compared again at 1e-15,
    where PHREEQC must converge and agree: in the one such case seen (seed 10049: gypsum and dolomite
    moving 10 mol through an unpoised water) PHREEQC's answer moved toward chemsolve's, 1.05e-6 -> 4.1e-7
    (measured 2026-12); over the 300, 4.1e-7 worst, pH 7e-8."""
    bad = []
    for seed in range(10000 + 50 * chunk, 10050 + 50 * chunk):
        tot, tc, pH, edl, sites, ex, ph = _assemblage(seed)
        w = _water(db, tot, tc, pH)
        assert w.success, (seed, w.message)
        r = aq.react(w, phases=dict.fromkeys(ph, 0.0) or None, exchange=ex or None,
                     surface=aq.surface(db, sites, edl=edl))
        assert r.status == Status.CONVERGED, (seed, r.message)
        assert r.certificate.passed, (seed, r.certificate.message)
        text = _sol_text(tot, tc, pH) + _surf_text(sites, edl="" if edl == "ddl" else "-no_edl")
        if ex:
            text += "EXCHANGE 1\n" + "".join(f" {k} {v:.17g}\n" for k, v in ex.items())
        if ph:
            text += "EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 10\n" for p in ph)
        text += _sel(list(r.surface) + list(r.exchange), ph, psi=edl == "ddl")
        d, _ = _run(ip, text)
        worst, dph = _mismatch(r, d, edl)
        if worst >= TOL_REL or dph >= TOL_LOG:
            assert ip.RunString("KNOBS\n -convergence_tolerance 1e-15\n" + text) == 0, (seed, ip.GetErrorString())
            d = {k: v[-1] for k, v in ip.GetSelectedOutput().items()}
            worst, dph = _mismatch(r, d, edl)
        if worst >= TOL_REL or dph >= TOL_LOG:
            bad.append((seed, worst, dph))
        for p in ph:
            if abs(r.phase_moles[p] - d[p]) > TOL_REL * max(abs(d[p]), 1e-12):
                bad.append((seed, p, r.phase_moles[p], d[p]))
    assert not bad, bad


@pytest.mark.nojit  # the kernels' surface paths run again as plain Python (test_nojit)
def test_batch_rows_with_different_surfaces_and_sites(db):
    """Rows of one batch with different sites and different surfaces (each row's potential only where it
    has that surface): each row equals its single call."""
    from chemsolve.aqueous.database import parse_database, read_text

    extra = TWO_SURFACES.split("SOLUTION 1")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", aq.DatabaseWarning)
        db2 = parse_database(read_text(db.path) + "\n" + extra, db.path)
    w = Solution(db2, totals={"Na": 0.01, "Cl": 0.01, "Zn": 1e-5}, units="mol/kgw", pH=6.0).speciate()
    sus = [aq.surface(db2, {"Hfo_w": (2e-4, 600.0, 0.09), "Hfo_s": 5e-6}),
           aq.surface(db2, {"Goe_a": (1e-4, 50.0, 0.5)}),
           aq.surface(db2, {"Hfo_w": (2e-4, 600.0, 0.09), "Goe_a": (1e-4, 50.0, 0.5)})]
    b = aq.react([w, w, w], surface=sus)
    assert np.all(b.status == Status.CONVERGED), b.message
    assert b.certificate.passed.all()
    for k, su in enumerate(sus):
        r = aq.react(w, surface=su)
        assert r.certificate.passed
        assert r.pH == pytest.approx(b.pH[k], abs=1e-10)
        for sname, psi in r.surface_potential.items():
            assert psi == pytest.approx(b.surface_potential[k, b.surfaces_ddl.index(sname)], rel=1e-9)
        for s, n in r.surface.items():
            assert n == pytest.approx(b.surface[k, b.surface_species.index(s)], rel=1e-9, abs=1e-300)
    assert b.surface[1, b.surface_species.index("Hfo_wOH")] == 0.0  # row 2 has no Hfo
    assert b.surface_potential[1, b.surfaces_ddl.index("Hfo")] == 0.0


def test_surface_by_composition_equals_the_state_it_came_from(db):
    """A surface given by its composition (masters and complexes, as a result's ``surface``) reacts as the
    ``surface_state`` it was read from."""
    w = _water(db, {"Na": 0.01, "Cl": 0.01, "Zn": 1e-5}, 25.0, 6.5)
    r = aq.react(w, surface=aq.surface(db, {"Hfo_w": (2e-4, 600.0, 0.09), "Hfo_s": 5e-6}))
    comp = {s: n for s, n in r.surface.items() if n > 0}
    su = aq.surface(db, comp, areas={"Hfo": (600.0, 0.09)})
    assert su.sites == pytest.approx({"Hfo_w": 2e-4, "Hfo_s": 5e-6}, rel=1e-12)
    a, b = aq.react(w, surface=su), aq.react(w, surface=r.surface_state)
    assert a.certificate.passed and a.pH == pytest.approx(b.pH, abs=1e-10)
    with pytest.raises(InvalidInputError, match="'Hfo'.*needs a specific area"):
        aq.surface(db, comp)  # the diffuse layer needs the area, by composition too


def test_sites_as_a_density_match_phreeqc(db, ip):
    """Sites per nm2 of the surface's area (PHREEQC's -sites_units density), as the API takes them."""
    tot = {"Na": 0.01, "Cl": 0.01, "Cd": 1e-6}
    w = _water(db, tot, 25.0, 7.0)
    su = aq.surface(db, {"Hfo_w": (2.0, 600.0, 0.09), "Hfo_s": 0.05}, sites_units="density")
    assert su.sites["Hfo_w"] == pytest.approx(2.0 * 600.0 * 0.09 * 1e18 / 6.02252e23, rel=1e-15)
    r = aq.react(w, surface=su)
    assert r.certificate.passed
    text = (_sol_text(tot, 25.0, 7.0) + "SURFACE 1\n -sites_units density\n Hfo_wOH 2.0 600 0.09\n Hfo_sOH 0.05\n"
            + _sel(list(r.surface)))
    d, _ = _run(ip, text)
    _compare(r, d, list(r.surface))
    with pytest.raises(InvalidInputError, match="sites_units='density'.*needs the specific area"):
        aq.surface(db, {"Hfo_w": 2.0}, edl="no_edl", sites_units="density")


EX8_EQ = """SOLUTION 1
     -units  mmol/kgw
     pH      6.0
     Zn      0.1
     Na      100.
     N(5)    100.
SOLUTION 2
     -units  mmol/kgw
     pH      5.5
     Zn      0.001
     Na      10.
     Cl      10.
SELECTED_OUTPUT 1
     -reset false
     -state true
     -pH true
     -water true
     -molalities Zn+2 NO3- N2 Hfo_wOZn+ Hfo_sOZn+ Hfo_wOH Hfo_wOH2+ Hfo_sO-
SURFACE 1
     -equilibrate 1
     Hfo_sOH        5e-6    600.    0.09
     Hfo_wOH        2e-4
END
SURFACE 2
     -equilibrate 2
     -no_edl
     Hfo_wOH        1e-3
     Hfo_sOH        2e-5
END
USE solution 1
USE surface 2
END
"""


def test_phreeqc_input_surface_equilibrate_matches_iphreeqc(db):
    """SURFACE -equilibrate as PHREEQC runs it: the initial-surface calculation (state i_surf: the
    solution held as it is) and, in a simulation that also defines the solution, the reaction step of
    that water with the equilibrated surface (ex8's N(5) water: the step reduces some nitrate and moves
    the pH); a surface equilibrated in a simulation of its own, then USEd with another water. Every row
    against IPhreeqc: molalities within TOL_REL above 1e-12 mol/kgw, pH within TOL_LOG."""
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    ours = run_phreeqc_input(EX8_EQ, db)
    assert ours.success, ours.stopped
    p = phreeqc.Phreeqc()
    assert p.LoadDatabase(str(db.path)) == 0
    assert p.RunString(KNOBS + EX8_EQ) == 0, p.GetErrorString()
    so = p.GetSelectedOutput()
    mine = ours.selected[1]
    assert [r["state"] for r in mine] == list(so["state"]) == ["i_soln", "i_soln", "i_surf", "react", "i_surf",
                                                                "react"]
    for i in range(len(mine)):
        assert abs(mine[i]["pH"] - so["pH"][i]) < TOL_LOG, (i, mine[i]["pH"], so["pH"][i])
        for k, col in so.items():
            if k.startswith("m_") and col[i] > 1e-12:
                assert abs(mine[i][k] / col[i] - 1.0) < TOL_REL, (i, k, mine[i][k], col[i])
    assert abs(so["pH"][3] - 6.0) > 1e-3  # the step after i_surf did move ex8's water


def test_a_surface_species_formed_with_electrons_is_refused_by_name(db):
    """A surface reaction with e- (a redox surface species) is not modelled: refused with its name and line,
    not left out of the calculation (PHREEQC would form it)."""
    text = ("SURFACE_SPECIES\n Hfo_wOH + Fe+3 + e- = Hfo_wOFe+ + H+\n log_k 10.0\n"
            "SOLUTION 1\n pH 7\n Fe 1e-6\n Na 1; Cl 1\nSURFACE 1\n -no_edl\n Hfo_wOH 1e-3\nEND\n")
    from chemsolve.aqueous.phreeqc_input import run_phreeqc_input

    with pytest.raises(InvalidInputError, match=r"surface species .Hfo_wOFe\+. .*forms with electrons"):
        run_phreeqc_input(text, db)
