"""A database PHREEQC refuses is refused (issue 12 item 6), naming file, line and what is missing;
a database both accept gives the same answers in both.

PHREEQC's load-time checks are in read.cpp and tidy.cpp of usgs-coupled/phreeqc3 (check_species_input,
tidy_species, tidy_phases, tidy_model, get_option / find_option for options). The truncation tests
compare with IPhreeqc loading the very same cut file.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest

import chemsolve as cs
from chemsolve import aqueous as aq
from chemsolve.aqueous.database import normalize_species_name, parse_mass_balance
from chemsolve.aqueous.speciation import speciate

pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")
DATA = Path(aq.__file__).resolve().parent.parent / "data"

BASE = """SOLUTION_MASTER_SPECIES
H     H+    -1  H  1.008
H(1)  H+    -1  0
E     e-    1   0  0
O     H2O   0   O  16
O(-2) H2O   0   0
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
    -log_k -14.0
    -delta_h 13.362 kcal
Na+ + Cl- = NaCl
    -log_k -0.5
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


def _refused(tmp_path, text, match):
    with pytest.raises(aq.DatabaseError, match=match) as e:
        aq.load_database(_write(tmp_path, text))
    msg = str(e.value)
    assert "\n" not in msg and re.match(r"my\.dat:\d+: ", msg), msg  # one line, file:line first
    return msg


def test_the_base_database_loads(tmp_path):
    db = aq.load_database(_write(tmp_path, BASE))
    assert set(db.species) == {"H+", "e-", "H2O", "Na+", "Cl-", "OH-", "NaCl"}
    r = speciate(db, {"Na": 1e-2, "Cl": 1e-2}, 298.15, 7.0)
    assert r.success and r.certificate.passed


def test_the_issues_cut_phreeqc_dat_is_refused(tmp_path):
    """head -c 13022 phreeqc.dat: PHREEQC says 'Elements in species have not been tabulated, Fe+3'
    (and more); chemsolve loaded it and returned seawater CONVERGED with CaCO3 2.35e-8 (2.75e-5)."""
    cut = tmp_path / "cut.dat"
    cut.write_bytes((DATA / "phreeqc.dat").read_bytes()[:13022])
    with pytest.raises(aq.DatabaseError, match=r"^cut.dat:26: species 'Fe\+3', named in the SOLUTION_MASTER_SPECIES "
                                               r"row of Fe\(\+3\), is never defined by a reaction"):
        aq.load_database(cut)


def test_add_logk_adds_the_named_expression(tmp_path):
    """-add_logk as PHREEQC (tidy.cpp add_other_logk): a log K + delta H expression adds both, an analytic
    one its analytic terms; -add_constant a constant; -llnl_gamma is stored and makes the database an
    LLNL one, which the speciation refuses."""
    text = BASE.replace("    -log_k -0.5", "    -log_k -0.5\n    -add_logk Log_K_a 2\n    -add_logk log_k_b -1\n"
                        "    -add_constant 0.25")
    text += "NAMED_EXPRESSIONS\nLog_K_a\n    log_k 1.0\n    delta_h 10 kJ\nLog_K_b\n    -analytic 0.5 0.001\n"
    db = aq.load_database(_write(tmp_path, text))
    rx = db.species["NaCl"].reaction
    for T in (278.15, 298.15, 350.0):
        vh = 1.0 + 10.0 / (8.31470e-3 * math.log(10)) * (1 / 298.15 - 1 / T)
        assert rx.log_k_at(T) == pytest.approx(-0.5 + 2 * vh - (0.5 + 0.001 * T) + 0.25, abs=1e-12)
    llnl = aq.load_database(_write(tmp_path, BASE.replace("    -gamma 4.0 0.075", "    -llnl_gamma 4.0")))
    assert llnl.species["Na+"].llnl_gamma == 4.0 and llnl.activity_model == "llnl"
    with pytest.raises(cs.InvalidInputError, match=r"my.dat uses the LLNL B-dot activity model"):
        speciate(llnl, {"Na": 1e-2, "Cl": 1e-2}, 298.15, 7.0)


@pytest.mark.parametrize(
    "old, new, match",
    [
        # a reaction names a species nobody defines (PHREEQC: "Reaction for species has not been defined")
        ("Na+ + Cl- = NaCl", "Na+ + Br- = NaBr",
         r"my.dat:19: species 'Br-', named in the reaction of species 'NaBr', is never defined"),
        # a master row names a species nobody defines
        ("Cl    Cl-   0   Cl 35.45", "Cl    Cl-   0   Cl 35.45\nBr    Br-   0   Br 79.9",
         r"my.dat:9: species 'Br-', named in the SOLUTION_MASTER_SPECIES row of Br"),
        # a phase's reaction names one
        ("NaCl = Na+ + Cl-", "NaCl + Xx = Na+ + Cl- + Xx",
         r"my.dat:22: species 'Xx', named in the reaction of phase 'Halite'"),
        # an element without a master row (PHREEQC: "No master species for element K")
        ("Cl- = Cl-\n", "Cl- = Cl-\nK+ = K+\n", r"my.dat:16: element 'K' of species 'K\+' has no master-species row"),
        # a valence state whose element has no primary row: its species' element has no master row
        ("Cl    Cl-   0   Cl 35.45", "Cl(-1)    Cl-   0   Cl",
         r"my.dat:15: element 'Cl' of species 'Cl-' has no master-species row"),
        # a redox element whose primary master species is no valence state's (Cl(-1) Cl- is missing)
        ([("Cl    Cl-   0   Cl 35.45", "Cl    Cl-   0   Cl 35.45\nCl(7) ClO4-  0   Cl"),
          ("Cl- = Cl-\n", "Cl- = Cl-\nCl- + 4 H2O = ClO4- + 8 H+ + 8 e-\n")], None,
         r"my.dat:8: 'Cl-', the primary master species of redox element 'Cl', must also be the master species"),
        # a primary row without the element's gram formula weight
        ("Na    Na+   0   Na 22.99", "Na    Na+   0   Na", r"my.dat:7: the primary row of Na needs the element's gram"),
        # an option PHREEQC does not know (it would have been ignored: log K 0)
        ("    -log_k -0.5", "    -log_kk -0.5", r"my.dat:20: unknown option '-log_kk' in SOLUTION_SPECIES"),
        # -add_logk naming an expression NAMED_EXPRESSIONS does not define (PHREEQC: 'Could not find named
        # temperature expression'); with the expression it loads (test_add_logk_adds_the_named_expression)
        ("    -log_k -0.5", "    -log_k -0.5\n    -add_logk Log_K_NaCl 1",
         r"my.dat:21: -add_logk 'log_k_nacl': no such NAMED_EXPRESSIONS entry"),
        # PITZER rows name SOLUTION_SPECIES (pitzer_tidy); a row needs an option first and a value
        ("END\n", "PITZER\n-B0\n  Na+ Br- 0.0973\nEND\n", r"my.dat:27: PITZER -B0: species 'Br-' is not defined"),
        ("END\n", "PITZER\n  Na+ Cl- 0.0765\nEND\n", r"my.dat:26: PITZER row before an option"),
        ("END\n", "PITZER\n-B0\n  Na+ Cl-\nEND\n", r"my.dat:27: PITZER -B0 row needs 2 species and a value"),
        # LLNL tables of unequal lengths (read_llnl_aqueous_model_parameters)
        ("END\n", "LLNL_AQUEOUS_MODEL_PARAMETERS\n-temperatures 0 25\n-dh_a 0.49\n-dh_b 0.32 0.33\n-bdot 0.04 0.04\n"
                  "-co2_coefs 1 2 3 4 5\nEND\n", r"my.dat:25: LLNL_AQUEOUS_MODEL_PARAMETERS needs as many"),
        # an option PHREEQC refuses without its number
        ("    log_k 1.570", "    log_k 1.570\n    -Vm", r"my.dat:25: option -vm needs a number first"),
        # a master species that does not contain its element
        ("Na    Na+   0   Na 22.99", "Na    Cl-   0   Na 22.99", r"my.dat:7: master species 'Cl-' must contain"),
    ],
)
def test_what_phreeqc_refuses_is_refused(tmp_path, old, new, match):
    text = BASE
    for a, b in ([(old, new)] if isinstance(old, str) else old):
        assert a in text
        text = text.replace(a, b, 1)
    _refused(tmp_path, text, match)


def test_options_are_matched_as_phreeqc_matches_them(tmp_path):
    """A prefix selects the first option it begins in PHREEQC's list: -del is delta_h, -a is the
    analytical expression, -no is no_check; without the dash only the whole word counts."""
    text = (BASE.replace("    -delta_h 13.362 kcal", "    -del 13.362 kcal")
            .replace("    -log_k -0.5", "    -a -0.5 0.001")
            .replace("    log_k 1.570", "    log_k 1.570\n    -Vm 27.1"))
    db = aq.load_database(_write(tmp_path, text))
    assert db.species["OH-"].reaction.delta_h == pytest.approx(13.362 * 4.184)
    assert db.species["NaCl"].reaction.analytic == (-0.5, 0.001)
    unbalanced = (BASE.replace("H2O = OH- + H+", "H2O = OH- + 2H+")
                  .replace("    -log_k -14.0", "    -no\n    -log_k -14.0"))
    assert "OH-" in aq.load_database(_write(tmp_path, unbalanced)).species


def test_species_names_are_normalised_as_phreeqc_stores_them():
    assert [normalize_species_name(s)
            for s in ("Cu+1", "Fe++", "CO3--", "Fe+3", "HCO3-", "X+0", "e-", "H2O", "Ca+2.0")] \
        == ["Cu+", "Fe+2", "CO3-2", "Fe+3", "HCO3-", "X", "e-", "H2O", "Ca+2"]
    db = aq.load_database("phreeqc.dat")
    assert db.masters["Cu(+1)"].species == "Cu+" and "Cu+" in db.species  # the file writes Cu+1 in the master row


def test_mass_balance_formulas():
    assert parse_mass_balance("S(-2)4") == {"S(-2)": 4.0}
    assert parse_mass_balance("AgHS(-2)5") == {"Ag": 1.0, "H": 1.0, "S(-2)": 5.0}
    assert parse_mass_balance("Cu(S(-2)4)2") == {"Cu": 1.0, "S(-2)": 8.0}
    with pytest.raises(ValueError):
        parse_mass_balance("S(-2")


def test_bundled_databases_still_load():
    for name in aq.BUNDLED:
        db = aq.load_database(name)
        assert db.species and db.masters and db.phases


# ------------------------------------------------------------------ truncations against IPhreeqc
SEA = {"Na": 0.4690, "Cl": 0.5460, "Mg": 0.0528, "S(6)": 0.0282, "Ca": 0.0103, "K": 0.0102, "C(4)": 2.1e-3}
WATERS = [(SEA, 298.15, 8.22, 4.0), ({"Ca": 1e-3, "C(4)": 2e-3, "Na": 1e-3, "Cl": 1e-3}, 333.15, None, 4.0),
          ({"Fe": 1e-4, "Cl": 3e-4, "Na": 1e-3}, 298.15, 3.0, 4.0)]


def _phreeqc_run(ip, totals, T, pH, pe):
    lines = ["SOLUTION 1", f" temp {T - 273.15:.15g}", " units mol/kgw", f" pe {pe:.15g}",
             f" pH {pH:.15g}" if pH is not None else " pH 7 charge"] + [f" {k} {v:.17g}" for k, v in totals.items()]
    lines += ["SELECTED_OUTPUT 1", " -reset false", "USER_PUNCH 1", " -headings pH n", ' 10 PUNCH -LA("H+")',
              ' 20 t = SYS("aq", count, name$, type$, moles)', " 30 PUNCH count", " 40 FOR i = 1 TO count",
              " 50 PUNCH name$(i), LM(name$(i))", " 60 NEXT i", "END"]
    if ip.RunString("\n".join(lines) + "\n") != 0:
        return None
    out = ip.GetSelectedOutput()
    vals = [out[k][-1] for k in out]
    n, rest = int(vals[1]), vals[2:]
    return vals[0], {rest[2 * i]: rest[2 * i + 1] for i in range(n)}


def _truncation_agrees(tmp_path, name, offsets):
    phreeqc = pytest.importorskip("phreeqc", reason="the live peer IPhreeqc (pip install phreeqc) is not installed")
    raw = (DATA / name).read_bytes()
    seen = {"both refuse": 0, "chemsolve refuses": 0, "both load": 0}
    for off in offsets:
        cut = tmp_path / f"{name}.{off}"
        cut.write_bytes(raw[:off])
        ip = phreeqc.Phreeqc()
        peer_ok = ip.LoadDatabase(str(cut)) == 0
        try:
            db = aq.load_database(cut)
        except aq.DatabaseError as e:
            msg = str(e)
            assert "\n" not in msg and re.match(rf"{re.escape(cut.name)}:\d+: ", msg), msg
            seen["chemsolve refuses" if peer_ok else "both refuse"] += 1
            continue
        assert peer_ok, f"{name} cut at {off}: IPhreeqc refuses ({ip.GetErrorString().strip()[:200]}), chemsolve loads"
        seen["both load"] += 1
        for totals, T, pH, pe in WATERS:
            theirs = _phreeqc_run(ip, totals, T, pH, pe)
            try:
                ours = speciate(db, totals, T, pH, pe)
            except cs.InvalidInputError:
                assert theirs is None, f"{name}@{off}: chemsolve refuses a water PHREEQC speciates"
                continue
            assert theirs is not None and ours.success, f"{name}@{off}: {ours.message}"
            assert abs(ours.pH - theirs[0]) <= 1e-3
            for s, lm in theirs[1].items():
                if lm > -12:
                    assert abs(math.log10(ours.molality[s]) - lm) <= 1e-3, (name, off, s)
            assert {s for s, m in ours.molality.items() if m > 1e-12} <= set(theirs[1])
    return seen


def test_truncated_phreeqc_dat_a_few_offsets(tmp_path):
    raw = (DATA / "phreeqc.dat").read_bytes()
    offsets = [120, 1500, 3461, 13022, 21613, 26319, 30792, 37076, 45000, len(raw) - 500]
    seen = _truncation_agrees(tmp_path, "phreeqc.dat", offsets)
    assert seen["both load"] >= 1 and seen["both refuse"] >= 5


# the bundled databases chemsolve's speciation runs on (ion-association model, H+); the others are refused
# by the speciation (tests/test_aqueous_database.py), so a cut of them cannot be compared on waters here
ION_ASSOCIATION = ("phreeqc.dat", "wateq4f.dat", "minteq.v4.dat", "Amm.dat")


@pytest.mark.slow
@pytest.mark.parametrize("name", ION_ASSOCIATION)
def test_truncated_databases_at_many_offsets(tmp_path, name):
    """80 cuts of each bundled database, evenly spread plus random: whenever chemsolve loads a cut file,
    IPhreeqc loads it too and the two agree on seawater, a charge-balance carbonate water and an
    iron water (pe-linked Fe(2)/Fe(3)); otherwise chemsolve refuses it with a one-line file:line error."""
    size = (DATA / name).stat().st_size
    rng = np.random.default_rng(2026)
    offsets = sorted(set(np.linspace(60, size, 50).astype(int).tolist() + rng.integers(60, size, 30).tolist()))
    seen = _truncation_agrees(tmp_path, name, offsets)
    assert seen["both load"] >= 5 and seen["both refuse"] >= 5
