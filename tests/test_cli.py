"""The command line as a user drives it: a subprocess, exit codes, outputs, one-line errors."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAS = os.path.join(ROOT, "models", "gas")
AQ = os.path.join(ROOT, "models", "aqueous")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_models_lists_every_bundled_model_one_line_each():
    out = cli("models")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()[2:]
    files = sorted(os.path.relpath(os.path.join(d, f), os.path.join(ROOT, "models"))
                   for d, _, fs in os.walk(os.path.join(ROOT, "models")) for f in fs if f.endswith(".yaml"))
    assert sorted(ln.split()[0] for ln in lines) == files
    assert any(" gas " in ln and "hydrogen_air" in ln for ln in lines)
    bad = cli("models", "/nonexistent/folder")
    assert bad.returncode == 2 and "no models folder" in bad.stderr


def test_run_set_with_units_and_csv_output_file(tmp_path):
    pytest.importorskip("cantera")
    dest = tmp_path / "h2.csv"
    out = cli("run", os.path.join(GAS, "hydrogen_air.yaml"), "--set", "T=126.85degC", "--format", "csv",
              "--output", str(dest))
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    rows = list(csv.reader(io.StringIO(dest.read_text())))
    assert rows[0] == ["species", "mole_fraction"]
    x = {r[0]: float(r[1]) for r in rows[1:]}
    # the same state from the API: 126.85 degC = 400 K feed
    from chemsolve.models import load_model

    r = load_model(os.path.join(GAS, "hydrogen_air.yaml"), {"T": "400K"}).run()
    assert r.success
    for s, v in r.mole_fraction_dict(1e-12).items():
        assert abs(x[s] - v) <= 1e-9 * v  # printed to 10 significant digits


def test_run_json_and_aqueous_overrides():
    out = cli("run", os.path.join(AQ, "seawater.yaml"), "--set", "pH=7.5", "--format", "json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["status"] == "CONVERGED" and abs(d["pH"] - 7.5) < 1e-12


@pytest.mark.parametrize("args, culprit", [
    (["--set", "pH=abc"], "(--set pH): pH = 'abc' is not a finite number"),
    (["--set", "T=400furlong"], "a unit is only understood for T and P"),
    (["--set", "colour=red"], "unknown key 'colour'"),
    (["--set", "pH"], "expected KEY=VALUE"),
])
def test_bad_overrides_exit_2_with_one_line_naming_the_key(args, culprit):
    out = cli("run", os.path.join(AQ, "seawater.yaml"), *args)
    assert out.returncode == 2
    assert culprit in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_sweep_phi_is_one_warm_batch_and_matches_the_api():
    pytest.importorskip("cantera")
    out = cli("sweep", os.path.join(GAS, "methane_air_flame.yaml"), "--sweep", "phi=0.5:2.0:0.05", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 31 and all(r["status"] == "CONVERGED" for r in rows)
    T = [float(r["T_K"]) for r in rows]
    peak = max(range(31), key=T.__getitem__)
    assert 1.0 <= float(rows[peak]["phi"]) <= 1.1 and 2200 < T[peak] < 2250
    from chemsolve.models import load_model

    single = load_model(os.path.join(GAS, "methane_air_flame.yaml"), {"phi": "1.5"}).run()
    i = [float(r["phi"]) for r in rows].index(1.5)
    assert abs(T[i] - single.T) < 1e-6
    assert "states/s" in out.stderr


def test_sweep_of_another_input_state_by_state():
    out = cli("sweep", os.path.join(AQ, "seawater.yaml"), "--sweep", "pH=7:9:0.5", "--format", "json", "--quiet")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert [r[0] for r in d["rows"]] == [7.0, 7.5, 8.0, 8.5, 9.0]
    assert all(r[1] == "CONVERGED" for r in d["rows"]) and out.stderr == ""


@pytest.mark.parametrize("spec, culprit", [
    ("phi=0.5:2.0", "expected KEY=START:STOP:STEP"),
    ("phi=2:0.5:0.1", "STEP must be non-zero and lead from START to STOP"),
    ("phi=0.5:2:0", "STEP must be non-zero"),
])
def test_bad_sweep_exit_2(spec, culprit):
    out = cli("sweep", os.path.join(GAS, "methane_air_flame.yaml"), "--sweep", spec)
    assert out.returncode == 2 and culprit in out.stderr


def test_sweep_out_of_range_value_names_it():
    out = cli("sweep", os.path.join(AQ, "seawater.yaml"), "--sweep", "T=290:700:200")
    assert out.returncode == 2 and "T=" in out.stderr and "outside" in out.stderr
