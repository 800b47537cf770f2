"""The PHREEQC database reader: bundled databases, formulas, reactions, log K(T) against IPhreeqc
run live on the same files, and clear errors on malformed files."""

import re
import warnings
from pathlib import Path

import pytest

import chemsolve as cs
from chemsolve import aqueous as aq

pytestmark = pytest.mark.nojit
DATA = Path(aq.__file__).resolve().parent.parent / "data"


def _load(name, fresh=True):
    """The database and the DatabaseWarnings its loading gave (``fresh``: as the first load in a process)."""
    from chemsolve.aqueous import database

    if fresh:
        database._LISTED.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        db = aq.load_database(name)
    return db, [x for x in w if issubclass(x.category, aq.DatabaseWarning)]


def test_what_is_skipped_is_listed_once_per_process_not_on_every_load():
    _, first = _load("wateq4f.dat")
    _, again = _load("wateq4f.dat", fresh=False)
    assert len(first) == 1 and again == []


# counts: master species, aqueous species, phases, exchange masters and species, surface masters and
# species, PITZER or SIT parameters; the first three of phreeqc/wateq4f/minteq from a grep of the reaction
# lines of each block; llnl.dat has 1214 phases, not 1215: PHREEQC's phase names are case-insensitive,
# so Hf(g) replaces HF(g) (IPhreeqc's LK_PHASE("HF(g)") gives Hf(g)'s 290.9782)
COUNTS = {
    "phreeqc.dat": (50, 234, 77, 1, 17, 2, 40, 0, "ion-association"),
    "wateq4f.dat": (66, 361, 319, 1, 17, 2, 54, 0, "ion-association"),
    "minteq.v4.dat": (121, 1332, 568, 0, 0, 2, 78, 0, "ion-association"),
    "llnl.dat": (225, 1327, 1214, 1, 17, 2, 34, 0, "llnl"),
    "pitzer.dat": (28, 38, 72, 1, 10, 2, 27, 264, "pitzer"),
    "sit.dat": (141, 1526, 924, 0, 0, 0, 0, 606, "sit"),
    "Amm.dat": (50, 234, 77, 1, 17, 2, 40, 0, "ion-association"),
    "iso.dat": (55, 2307, 151, 1, 9, 2, 19, 0, "ion-association"),
    "ColdChem.dat": (12, 10, 33, 0, 0, 0, 0, 63, "pitzer"),
    "core10.dat": (82, 227, 390, 0, 0, 0, 0, 0, "llnl"),
    "frezchem.dat": (15, 16, 37, 1, 5, 2, 11, 130, "pitzer"),
}
# what each database holds that chemsolve reads but does not model yet (Database.unmodelled)
UNMODELLED = {
    "phreeqc.dat": [],  # surface complexation is modelled (chemsolve.aqueous.surface)
    "minteq.v4.dat": [],
    "llnl.dat": [],  # LLNL's B-dot model is modelled too
    "pitzer.dat": [],  # PITZER and SIT are modelled (chemsolve.aqueous.activity_models)
    "sit.dat": [],
    "iso.dat": ["species H3O+", "option -activity_water"],
    "ColdChem.dat": [],
    "core10.dat": [],
}
UNMODELLED["wateq4f.dat"] = UNMODELLED["Amm.dat"] = UNMODELLED["phreeqc.dat"]
UNMODELLED["frezchem.dat"] = UNMODELLED["pitzer.dat"]


def test_every_database_phreeqc_distributes_is_bundled():
    assert set(aq.BUNDLED) == set(COUNTS)
    for name in aq.BUNDLED:  # unmodified copies of the phreeqc package's files, listed in the provenance table
        assert name in (DATA / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_bundled_databases_load(name):
    db, warns = _load(name)
    n = COUNTS[name]
    pz = db.pitzer.parameters if db.pitzer else db.sit.parameters if db.sit else {}
    assert (len(db.masters), len(db.species), len(db.phases), len(db.exchange_masters), len(db.exchange_species),
            len(db.surface_masters), len(db.surface_species), len(pz), db.activity_model) == n
    assert [u.what for u in db.unmodelled] == UNMODELLED[name]
    # one warning lists everything read but not modelled, what was skipped, entries defined twice (none when
    # there is nothing of these: ColdChem.dat, sit.dat and core10.dat, now that their activity models are modelled)
    assert len(warns) == (0 if name in ("ColdChem.dat", "sit.dat", "core10.dat") else 1)
    msg = str(warns[0].message) if warns else ""
    for u in db.unmodelled:  # each by block (or option) and file:line
        assert f"{u.what} at {name}:" in msg and "read, not modelled yet" in msg


def test_what_phreeqc_dat_says():
    db, warns = _load("phreeqc.dat")
    msg = str(warns[0].message)
    assert "EXCHANGE_SPECIES" not in msg  # ion exchange is modelled (chemsolve.aqueous.exchange)
    assert "SURFACE_SPECIES" not in msg  # and surface complexation (chemsolve.aqueous.surface)
    for part in ("RATES", "GAS_BINARY_PARAMETERS", "MEAN_GAMMAS", "option -dw"):
        assert part in msg
    # molar volumes and Peng-Robinson data are read now (pressure terms of log K, gas fugacities)
    assert "option -vm" not in msg and "option -t_c" not in msg
    assert db.species["Ca+2"].vm[5:] == (5.0, 1.6, -57.1, -6.12e-3, 1.0)  # W, b_Av, i1..i4 as written
    assert db.species["Ca+2"].vm[0] == pytest.approx(-0.3456 * 4.184004)  # a1 [cal/(mol bar)] -> cm3/mol
    assert db.phases["Calcite"].vm0 == 36.9
    assert (db.phases["CO2(g)"].t_c, db.phases["CO2(g)"].p_c, db.phases["CO2(g)"].omega) == (304.2, 72.86, 0.225)
    assert db.masters["C(+4)"].species == "CO3-2" and db.masters["Alkalinity"].alk == 1.0
    assert db.masters["Ca"].gfw == 40.08
    hco3 = db.species["HCO3-"]
    assert hco3.reaction.stoich == {"HCO3-": 1.0, "CO3-2": -1.0, "H+": -1.0}
    assert hco3.charge == -1 and hco3.gamma == (5.4, 0.0)
    assert hco3.reaction.log_k == 10.329 and hco3.reaction.delta_h == pytest.approx(-3.561 * 4.184)
    na = db.species["Na+"]
    assert na.gamma == (4.08, 0.082)  # the file gives -gamma twice; the second one counts, as in PHREEQC
    calcite = db.phases["Calcite"]
    assert calcite.formula == "CaCO3" and calcite.elements == {"Ca": 1, "C": 1, "O": 3}
    assert calcite.reaction.stoich == {"CaCO3": -1.0, "CO3-2": 1.0, "Ca+2": 1.0}
    assert calcite.reaction.analytic == (17.118, -0.046528, -3496.0)


def test_redefinitions_are_reported():
    _, warns = _load("minteq.v4.dat")
    assert "defined twice, the later definition kept: Hg, MnO4-, MnO4-2" in str(warns[0].message)


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("CaMg(CO3)2", {"Ca": 1, "Mg": 1, "C": 2, "O": 6}),
        ("CaSO4:2H2O", {"Ca": 1, "S": 1, "O": 6, "H": 4}),
        ("Ca0.5(CO3)0.5", {"Ca": 0.5, "C": 0.5, "O": 1.5}),
        ("Fe(OH)2+", {"Fe": 1, "O": 2, "H": 2}),
        ("KAl3Si3O10(OH)2", {"K": 1, "Al": 3, "Si": 3, "O": 12, "H": 2}),
        ("Hdg", {"Hdg": 1}),
        ("H2[18O]", {"H": 2, "[18O]": 1}),
        ("Ca[13C]O2[18O]", {"Ca": 1, "[13C]": 1, "O": 2, "[18O]": 1}),
        ("HDO", {"H": 1, "D": 1, "O": 1}),
        ("Dom_a", {"Dom_a": 1}),
        ("e-", {}),
    ],
)
def test_parse_formula(formula, expected):
    assert aq.parse_formula(formula) == pytest.approx(expected)


@pytest.mark.parametrize("formula", ["Ca(OH", "CaOH)2", "2Ca", "ca"])
def test_parse_formula_rejects(formula):
    with pytest.raises(ValueError):
        aq.parse_formula(formula)


@pytest.mark.parametrize("name, z", [("Ca+2", 2), ("HCO3-", -1), ("CO3-2", -2), ("H+", 1), ("e-", -1), ("H2O", 0),
                                     ("Fe(OH)2+", 1), ("Al(OH)4-", -1)])
def test_species_charge(name, z):
    assert aq.species_charge(name) == z


def test_log_k_temperature_dependence_by_hand():
    # van 't Hoff: log K(T) = log K(298.15) - dH/(R ln 10) (1/T - 1/298.15)
    rx = aq.Reaction({"A": 1.0}, log_k=2.0, delta_h=-10.0)
    assert rx.log_k_at(298.15) == 2.0
    assert rx.log_k_at(348.15) == pytest.approx(2.0 - 10.0 / (8.3147e-3 * 2.302585093) * (1 / 348.15 - 1 / 298.15) * -1)
    an = aq.Reaction({"A": 1.0}, log_k=0.0, analytic=(1.0, 0.01, 100.0))
    assert an.log_k_at(300.0) == pytest.approx(1.0 + 3.0 + 100.0 / 300.0)


def test_pitzer_sit_llnl_and_named_expressions_as_written():
    db, _ = _load("pitzer.dat")
    pz = db.pitzer
    assert pz.lines == [513] and (pz.macinnes, pz.use_etheta, pz.redox) == (None, None, None)  # PHREEQC's defaults
    counts = {k: pz.count(k) for k in ("B0", "B1", "B2", "C0", "THETA", "LAMDA", "ZETA", "PSI")}
    assert counts == {"B0": 54, "B1": 48, "B2": 8, "C0": 32, "THETA": 30, "LAMDA": 24, "ZETA": 9, "PSI": 59}
    # "Ba+2 Cl- 0.5268 0 0 0 0 4.75e4": the sixth coefficient multiplies 1/T^2 - 1/Tr^2 (calc_pitz_param)
    bacl = pz.parameters[("B0", ("Ba+2", "Cl-"))]
    assert bacl.coeffs == (0.5268, 0.0, 0.0, 0.0, 0.0, 4.75e4) and bacl.value_at(298.15) == 0.5268
    assert bacl.value_at(323.15) == pytest.approx(0.5268 + 4.75e4 * (1 / 323.15**2 - 1 / 298.15**2), rel=1e-14)
    frez, _ = _load("frezchem.dat")
    assert frez.pitzer.lines == [1, 276] and (frez.pitzer.macinnes, frez.pitzer.use_etheta) == (False, True)
    cold, _ = _load("ColdChem.dat")
    assert cold.pitzer.aphi.coeffs[0] == 0.391475 and cold.pitzer.count("ALPHAS") == 8
    sit, _ = _load("sit.dat")
    assert sit.sit.parameters[("EPSILON", ("(NpO2)2(OH)2+2", "Cl-"))].coeffs == (-0.248,)
    llnl, _ = _load("llnl.dat")
    assert llnl.llnl.temperatures == [0.01, 25, 60, 100, 150, 200, 250, 300] and llnl.llnl.dh_a[1] == 0.5114
    assert llnl.llnl.bdot[-1] == 0 and llnl.llnl.co2_coefs == [-1.0312, 0.0012806, 255.9, 0.4445, -0.001606]
    assert llnl.species["Ca+2"].llnl_gamma == 6.0 and llnl.species["CO2"].co2_llnl_gamma
    nax = db.exchange_species["NaX"]
    assert nax.reaction.stoich == {"NaX": 1.0, "Na+": -1.0, "X-": -1.0} and db.exchange_masters["X"].species == "X-"
    iso, _ = _load("iso.dat")
    assert iso.phases["CO2(g)"].formula == "CO2" and iso.species["HDO"].activity_water
    assert iso.species["H2[18O]"].elements == {"H": 2, "[18O]": 1}


# where a database's PHREEQC log K is not comparable: iso.dat's phases whose reactions name another
# phase ("HDO(g) + H2O(l) = H2O(g) + HDO(aq)"). PHREEQC rewrites them with that phase's reaction
# (replace_solids_gases) and uses the sum in its equations, as chemsolve does; but its BASIC LK_PHASE
# re-selects the analytic part of the rewritten sum and adds -add_logk a second time (basicsubs.cpp
# calc_logk_p), so it does not print the log K PHREEQC solves with. Everything else is compared.


phreeqc = pytest.importorskip("phreeqc", reason="the live peer IPhreeqc (pip install phreeqc) is not installed")


def _log_k_vs_iphreeqc(name, temperatures):
    """PHREEQC's own LK_SPECIES / LK_PHASE for every aqueous, exchange and surface species and every
    phase, against chemsolve's log K(T) of the same file.

    Tolerance 1e-9 in log K: both evaluate the same expressions with the same constants in double
    precision (measured difference <= 2e-13 over the eleven databases, most <= 1e-14); anything larger
    is a reading or formula error. Pitzer, SIT and LLNL databases: the log K are those of the
    reactions whatever the activity model, so they are compared too; the activity model itself is
    not modelled (the speciation refuses these databases) and not compared here.
    """
    db, _ = _load(name)
    rewritten = {p for p, ph in db.phases.items() if _names_a_phase(DATA / name, ph.line)}
    ip = phreeqc.Phreeqc()
    assert ip.LoadDatabase(str(DATA / name)) == 0, ip.GetErrorString()
    entries = [("s", s, db.species[s]) for s in db.species]
    entries += [("s", s, db.exchange_species[s]) for s in db.exchange_species]
    entries += [("s", s, db.surface_species[s]) for s in db.surface_species]
    entries += [("p", p, db.phases[p]) for p in db.phases if p not in rewritten]
    assert len(rewritten) == (107 if name == "iso.dat" else 0)  # counted from the file by _names_a_phase
    calls = [f'LK_SPECIES("{n}")' if k == "s" else f'LK_PHASE("{n}")' for k, n, _ in entries]
    basic = "\n".join(f" {10 * (i + 1)} PUNCH {c}" for i, c in enumerate(calls))
    for t_c in temperatures:
        heads = " ".join(f"c{i}" for i in range(len(calls)))
        inp = (f"SOLUTION 1\n temp {t_c}\nSELECTED_OUTPUT 1\n -reset false\nUSER_PUNCH 1\n -headings {heads}\n"
               f"{basic}\nEND\n")
        assert ip.RunString(inp) == 0, ip.GetErrorString()
        out = ip.GetSelectedOutput()
        theirs = [out[k][0] for k in out]
        assert len(theirs) == len(entries)
        for (_kind, n, obj), v in zip(entries, theirs):
            mine = obj.reaction.log_k_at(t_c + 273.15)
            assert abs(mine - v) <= 1e-9, f"{name} {n} at {t_c} C: chemsolve {mine}, PHREEQC {v}"


def _names_a_phase(path, line):
    """Whether the reaction line after a phase's name names another phase ("(g)" or "(s)" after '=',
    or after the formula on the left), read from the file itself."""
    lines = Path(path).read_text(encoding="latin-1").splitlines()
    rx = next(t for t in (x.split("#")[0] for x in lines[line:]) if t.strip())  # line: the name's, 1-based
    lhs, _, rhs = rx.partition("=")
    return bool(re.search(r"\((g|s)\)", rhs, re.I) or re.search(r"\((g|s)\)", " ".join(lhs.split()[1:]), re.I))


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_log_k_matches_iphreeqc_on_the_same_file(name):
    """Every entry of every bundled database at 25 and 60 C (the fast tier)."""
    _log_k_vs_iphreeqc(name, (25.0, 60.0))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_log_k_matches_iphreeqc_on_the_same_file_full_grid(name):
    """The rest of the grid: 5 and 90 C."""
    _log_k_vs_iphreeqc(name, (5.0, 90.0))


def test_a_database_whose_activity_model_is_not_modelled_is_refused():
    from chemsolve.aqueous.speciation import speciate

    water = {"Na": 1e-2, "Cl": 1e-2}
    for name in ("pitzer.dat", "sit.dat", "llnl.dat", "core10.dat"):  # solved with their own model
        db, _ = _load(name)  # (tests/test_aqueous_activity_models.py)
        r = speciate(db, water, 298.15, 7.0)
        assert r.success and r.certificate.passed
    for name, match in [("iso.dat", r"^iso.dat defines the proton as H3O\+")]:
        db, _ = _load(name)
        with pytest.raises(cs.InvalidInputError, match=match) as e:
            speciate(db, water, 298.15, 7.0)
        assert "\n" not in str(e.value)
    # asked for explicitly: the ion-association model on pitzer.dat's log K, certified
    db = aq.load_database("pitzer.dat", activity_model="ion-association")
    assert db.activity_model == "pitzer" and db.use_ion_association
    r = speciate(db, water, 298.15, 7.0)
    assert r.success and r.certificate.passed
    with pytest.raises(cs.InvalidInputError, match="activity_model='pitzer'"):
        aq.load_database("pitzer.dat", activity_model="pitzer")


# ------------------------------------------------------------------ malformed files
GOOD = """SOLUTION_MASTER_SPECIES
H     H+    -1  H  1.008
E     e-    1   0  0
O     H2O   0   O  16
Na    Na+   0   Na 22.99
Cl    Cl-   0   Cl 35.45
SOLUTION_SPECIES
H+ = H+
e- = e-
H2O = H2O
Na+ = Na+
    -gamma 4.0 0.075
Cl- = Cl-
H2O = OH- + H+
    -log_k -14.0; -delta_h 13.362 kcal
PHASES
Halite
    NaCl = Na+ + Cl-
    log_k 1.570
END
"""


def _write(tmp_path, text, name="my.dat"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_small_user_database(tmp_path):
    db = aq.load_database(_write(tmp_path, GOOD))
    assert set(db.species) == {"H+", "e-", "H2O", "Na+", "Cl-", "OH-"}
    oh = db.species["OH-"]
    assert oh.reaction.log_k == -14.0 and oh.reaction.delta_h == pytest.approx(13.362 * 4.184)
    assert db.phases["Halite"].reaction.log_k == 1.57


@pytest.mark.parametrize(
    "old, new, match",
    [
        ("-log_k -14.0;", "-log_k minus14;", r"my.dat:15: log_k: 'minus14' is not a number"),
        ("-delta_h 13.362 kcal", "-delta_h 13.362 furlongs", r"my.dat:15: delta_h unit 'furlongs' unknown"),
        ("H2O = OH- + H+", "H2O = OH- + 2H+",
         r"my.dat:14: species 'OH-' is not balanced \(H off by \+1, charge off by \+1\)"),
        ("NaCl = Na+ + Cl-", "NaCl = Na+ + Cl- = x", r"my.dat:18: a reaction needs exactly one '='"),
        ("Na+ = Na+\n", "Na+ = Na+\n    -gamma 4.0\n", r"my.dat:12: -gamma needs two numbers"),
        ("Halite\n", "", r"my.dat:17: a PHASES reaction needs a phase name on the line above"),
        ("SOLUTION_MASTER_SPECIES\n", "hello\nSOLUTION_MASTER_SPECIES\n", r"my.dat:1: text before the first keyword"),
        ("Na    Na+   0   Na 22.99", "Na    Na+   zero   Na 22.99",
         r"my.dat:5: alkalinity of Na: 'zero' is not a number"),
        ("Cl- = Cl-\n", "Cl- = Cl-\nCl-2 = Cl-)(\n", r"my.dat:14: species 'Cl-\)\(': cannot read formula"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(aq.DatabaseError, match=match):
        aq.load_database(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_no_check_and_lenient_balance(tmp_path):
    bad = GOOD.replace("H2O = OH- + H+", "H2O = OH- + 2H+")
    with pytest.warns(aq.DatabaseWarning, match="1 unbalanced reactions kept"):
        lenient = aq.load_database(_write(tmp_path, bad), strict_balance=False)
    assert "OH-" in lenient.species
    marked = bad.replace("-log_k -14.0;", "-no_check; -log_k -14.0;")
    assert "OH-" in aq.load_database(_write(tmp_path, marked)).species


def test_unknown_option_is_not_silent(tmp_path):
    # PHREEQC refuses an option it does not know ("Unknown option."), so chemsolve does too (issue 12
    # item 6: a mistyped -log_kk would otherwise leave log K at 0); it used to be listed in a warning
    with pytest.raises(aq.DatabaseError, match=r"my.dat:13: unknown option '-frobnicate' in SOLUTION_SPECIES"):
        aq.load_database(_write(tmp_path, GOOD.replace("    -gamma 4.0 0.075",
                                                       "    -gamma 4.0 0.075\n    -frobnicate 3")))


def test_missing_database_names_the_choices():
    with pytest.raises(aq.DatabaseError, match=r"database 'nope.dat' not found: .*'phreeqc.dat'"):
        aq.load_database("nope.dat")


def test_not_a_database(tmp_path):
    with pytest.raises(aq.DatabaseError, match="no SOLUTION_MASTER_SPECIES or SOLUTION_SPECIES"):
        aq.load_database(_write(tmp_path, "PHASES\nHalite\n NaCl = Na+ + Cl-\nEND\n"))


def test_database_error_is_a_chemsolve_error():
    assert issubclass(aq.DatabaseError, cs.ChemsolveError) and issubclass(aq.DatabaseError, ValueError)
