"""Model files: the bundled aqueous models agree with PHREEQC, bad files fail with file/line/key,
and the command line runs them (as a subprocess, as a user would)."""

import glob
import json
import math
import os
import subprocess
import sys

import pytest

from chemsolve.models import ModelError, load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = sorted(glob.glob(os.path.join(ROOT, "models", "aqueous", "*.yaml")))
pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")


def test_the_five_aqueous_models_are_there():
    names = {os.path.basename(m) for m in MODELS}
    assert {"seawater.yaml", "carbonate_buffer.yaml", "calcite_co2.yaml", "acid_mine_drainage.yaml",
            "brine.yaml"} <= names


@pytest.mark.parametrize("path", MODELS, ids=os.path.basename)
def test_model_agrees_with_phreeqc(path):
    """Same tolerances as tests/test_aqueous_speciation.py (the issue's 1e-3)."""
    pytest.importorskip("phreeqc", reason="the live peer IPhreeqc (pip install phreeqc) is not installed")
    from phreeqc_peer import Peer

    m = load_model(path)
    r = m.run()
    assert r.success, r.message
    theirs = Peer(os.path.basename(m.database)).solution(m.totals, m.T, m.pH, m.pe, tuple(m.equilibrium_phases),
                                                        equilibrium_phases=m.equilibrium_phases)
    assert theirs is not None
    assert abs(r.pH - theirs.pH) <= 1e-3
    for s, lm in theirs.log_molality.items():
        if lm > -12:
            assert abs(math.log10(r.molality[s]) - lm) <= 1e-3, s
    for p, n in theirs.phase_moles.items():
        assert r.phase_moles[p] == pytest.approx(n, rel=1e-3)


GOOD = """kind: aqueous
name: test water
provenance: made up for a test
units: {totals: mmol/kgw, T: degC}
T: 25
pH: 7
totals:
  Na: 1
  Cl: 1
"""


def _write(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


def test_units_are_converted(tmp_path):
    m = load_model(_write(tmp_path, GOOD))
    assert m.T == pytest.approx(298.15) and m.totals == {"Na": 1e-3, "Cl": 1e-3} and m.pe == 4.0


@pytest.mark.parametrize(
    "old, new, match",
    [
        ("pH: 7\n", "pH: 7\ncolour: blue\n", r"m.yaml:7: unknown key 'colour' for kind aqueous"),
        ("kind: aqueous", "kind: plasma", r"m.yaml:1: kind: 'plasma' is not supported"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: ppm, T: degC}", r"m.yaml:4: unit 'ppm' for totals unknown"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mmol/kgw, T: degF}", r"m.yaml:4: unit 'degF' for T unknown"),
        ("  Na: 1\n", "  Na: lots\n", r"m.yaml:8: totals.Na = 'lots' is not a finite number"),
        ("name: test water\n", "", r"missing key 'name'"),
        ("pH: 7\n", "pH: [7\n", r"m.yaml:\d+: not valid YAML"),
    ],
)
def test_bad_model_files_name_file_line_and_key(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(ModelError, match=match):
        load_model(_write(tmp_path, GOOD.replace(old, new)))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_runs_a_model():
    out = _cli("run", os.path.join("models", "aqueous", "calcite_co2.yaml"))
    assert out.returncode == 0, out.stderr
    assert "status CONVERGED" in out.stdout and "Calcite" in out.stdout


def test_cli_json_output():
    out = _cli("run", os.path.join("models", "aqueous", "seawater.yaml"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "CONVERGED" and abs(data["pH"] - 8.22) < 1e-12 and data["molality"]["Na+"] > 0.4


def test_cli_bad_file_one_line_cause(tmp_path):
    bad = _write(tmp_path, GOOD.replace("  Na: 1\n", "  Xx: 1\n"))
    out = _cli("run", str(bad))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown element or valence state 'Xx'" in lines[0]
    missing = _cli("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "not found" in missing.stderr
