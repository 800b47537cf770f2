"""The command line as a user drives it: a subprocess, exit codes, outputs, one-line errors."""

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys

import numpy as np
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
    (["--set", "T=400furlong"], "(--set T): unit 'furlong' for T has dimension [length]"),
    (["--set", "T=400blorp"], "(--set T): unit 'blorp' for T is not a unit pint knows"),
    (["--set", "totals.Na=5mg/L"], "a unit is only understood for T, P, density"),
    (["--set", "solver.max_outr=5"], "(--set solver.max_outr): unknown solver option 'max_outr' for kind aqueous"),
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


def test_set_units_any_pint_spelling_of_the_right_dimension():
    a = cli("run", os.path.join(AQ, "seawater.yaml"), "--set", "T=77degF", "--format", "json")
    b = cli("run", os.path.join(AQ, "seawater.yaml"), "--set", "T=25 degC", "--format", "json")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ta, tb = json.loads(a.stdout)["T_K"], json.loads(b.stdout)["T_K"]
    assert abs(ta - 298.15) < 1e-9 and abs(tb - 298.15) < 1e-9
    from chemsolve.models import load_model

    assert load_model(os.path.join(GAS, "hydrogen_air.yaml"), {"P": "2bar"}).P == pytest.approx(2e5, rel=1e-15)
    assert load_model(os.path.join(GAS, "hydrogen_air.yaml"), {"P": "0.1 MPa"}).P == pytest.approx(1e5, rel=1e-15)


BAD_AQ = """kind: aqueous
name: test water
provenance: made up for a test
units:
  totals: mmol/kgw
  T: degC
T: 25
pH: 7
totals: {Na: 1, Cl: 1}
"""
BAD_ENGINE = """kind: engine
name: propane
provenance: a test
problem: propane
params: {R: 10, P: 40}
"""


@pytest.mark.parametrize("text, old, new, culprit", [
    (BAD_AQ, "pH: 7", "pH: 7\ncolour: blue", "m.yaml:9: unknown key 'colour' for kind aqueous"),
    (BAD_AQ, "T: degC", "T: blorp", "m.yaml:6: unit 'blorp' for T is not a unit pint knows"),
    (BAD_AQ, "totals: mmol/kgw", "totals: mmol/s",
     "m.yaml:5: unit 'mmol/s' for totals has dimension [substance] / [time]"),
    (BAD_AQ, "T: degC", "T: atm", "m.yaml:6: unit 'atm' for T has dimension"),
    (BAD_AQ, "pH: 7", "pH: 7\nsolver:\n  dampin: ramp", "m.yaml:10: unknown solver option 'dampin' for kind aqueous"),
    (BAD_ENGINE, "problem: propane", "problem: rosenbrock", "m.yaml:4: problem 'rosenbrock' is not a residual bundled"),
    (BAD_ENGINE, "{R: 10, P: 40}", "{R: 10, p: 40}", "m.yaml:5: unknown key 'p' in params of problem 'propane'"),
])
def test_bad_files_exit_2_with_one_line_naming_file_line_and_key(tmp_path, text, old, new, culprit):
    assert old in text
    f = tmp_path / "m.yaml"
    f.write_text(text.replace(old, new))
    out = cli("run", str(f))
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and culprit in lines[0], out.stderr


def test_run_engine_model_table_json_csv_and_set(tmp_path):
    from chemsolve.kernels import examples as ex

    F = getattr(ex.propane, "py_func", ex.propane)  # the residual as plain Python (also under NUMBA_DISABLE_JIT)
    from chemsolve.models import load_model

    path = os.path.join(ROOT, "models", "engine", "propane.yaml")
    table = cli("run", path)
    assert table.returncode == 0, table.stderr
    assert "status CONVERGED" in table.stdout and "nit" in table.stdout and "max|F|" in table.stdout
    js = cli("run", path, "--format", "json", "--set", "params.R=20")
    assert js.returncode == 0, js.stderr
    d = json.loads(js.stdout)
    assert d["status"] == "CONVERGED" and d["params"] == {"R": 20.0, "P": 40.0}
    assert abs(F(np.array(d["x"]), np.array([20.0, 40.0]))).max() <= 1e-10  # solves R = 20
    r = load_model(path, {"params.R": "20"}).run()
    assert d["x"] == r.x.tolist() and d["nit"] == r.nit
    csv_out = cli("run", path, "--format", "csv", "--set", "params.R=20")
    rows = list(csv.reader(io.StringIO(csv_out.stdout)))
    assert rows[0] == ["unknown", "value"] and [float(v) for _, v in rows[1:]] == d["x"]  # 17 digits round-trip
    if importlib.util.find_spec("pyarrow"):  # parquet: the same rows as a file (this crashed before)
        import pandas as pd

        pq = cli("run", path, "--format", "parquet", "--set", "params.R=20", "-o", str(tmp_path / "x.parquet"))
        assert pq.returncode == 0 and pq.stdout == "", pq.stderr
        assert pd.read_parquet(tmp_path / "x.parquet")["value"].tolist() == d["x"]


def test_run_engine_not_converged_exits_1_with_one_line():
    out = cli("run", os.path.join(ROOT, "models", "engine", "propane.yaml"), "--set", "solver.max_iter=3")
    assert out.returncode == 1 and "status MAX_ITER" in out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "propane.yaml: did not converge: MAX_ITER" in lines[0]


def test_sweep_engine_params():
    out = cli("sweep", os.path.join(ROOT, "models", "engine", "propane.yaml"), "--sweep", "params.R=5:15:5",
              "--format", "json", "--quiet")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert [r[0] for r in d["rows"]] == [5.0, 10.0, 15.0] and all(r[1] == "CONVERGED" for r in d["rows"])
    assert d["columns"][:4] == ["params.R", "status", "iterations", "residual_norm"]
    from chemsolve.models import load_model

    single = load_model(os.path.join(ROOT, "models", "engine", "propane.yaml"), {"params.R": "15"}).run()
    x = d["rows"][2][4:]
    assert len(x) == single.x.size
    # both stop at ftol 1e-10 on max|F| from different starts (warm vs the MINPACK start): 1e-7 relative
    assert np.allclose(x, single.x, rtol=1e-7, atol=1e-12)


def test_bundled_model_by_name_from_any_folder(tmp_path):
    """`chemsolve run engine/propane` finds the bundled file; the cwd has no models/ folder."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = subprocess.run([sys.executable, "-m", "chemsolve.cli", "run", "engine/propane", "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert os.path.samefile(d["file"], os.path.join(ROOT, "models", "engine", "propane.yaml"))
    missing = subprocess.run([sys.executable, "-m", "chemsolve.cli", "run", "engine/nope"], capture_output=True,
                             text=True, cwd=tmp_path, timeout=300, env=env)
    assert missing.returncode == 2 and "'engine/nope' not found; bundled models are under" in missing.stderr


def _built_wheel(tmp_path):
    """A wheel built from a copy of this checkout (pip wheel, build isolation from the configured
    index); skipped when no build backend can be had."""
    import shutil

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                                              ".pytest_cache", ".hypothesis", "*.nbi", "*.nbc"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                          str(src)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0 and ("setuptools" in out.stderr and "No matching distribution" in out.stderr):
        pytest.skip(f"no setuptools to build with: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr
    (whl,) = (tmp_path / "dist").glob("chemsolve-*.whl")
    return whl


def test_wheel_ships_every_model_and_the_installed_command_finds_them(tmp_path):
    """Build the wheel, check it holds every models/**/*.yaml, install it into a fresh venv (the
    dependencies come from this interpreter's site-packages through a .pth file) and run the
    installed command from an empty folder: `models` lists the bundled files, `run engine/propane`
    runs the installed copy."""
    import sysconfig
    import zipfile

    whl = _built_wheel(tmp_path)
    names = zipfile.ZipFile(whl).namelist()
    shipped = {n.split("/share/chemsolve/models/", 1)[1] for n in names if "/share/chemsolve/models/" in n}
    here = {os.path.relpath(os.path.join(d, f), os.path.join(ROOT, "models")).replace(os.sep, "/")
            for d, _, fs in os.walk(os.path.join(ROOT, "models")) for f in fs if f.endswith((".yaml", ".md"))}
    assert here and shipped == here
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    with open(os.path.join(site, "zz_deps.pth"), "w") as f:  # appended after the venv's own packages
        f.write("\n".join(sorted(deps)) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # (without PYTHONPATH: a checkout on it would count as installed and pip would skip the wheel)
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                           "-q", str(whl)], capture_output=True, text=True, timeout=300, env=env)
    assert inst.returncode == 0, inst.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(py), "-c", "import chemsolve, chemsolve.models as m; print(chemsolve.__file__); "
                            "print(m.bundled_models_dir())"], capture_output=True, text=True, cwd=work, env=env)
    assert where.returncode == 0, where.stderr
    pkg, models_dir = where.stdout.split()
    assert pkg.startswith(str(venv)) and models_dir == str((venv / "share" / "chemsolve" / "models").resolve())
    listed = subprocess.run([str(venv / "bin" / "chemsolve"), "models"], capture_output=True, text=True, cwd=work,
                            env=env)
    assert listed.returncode == 0, listed.stderr
    assert sorted(ln.split()[0] for ln in listed.stdout.strip().splitlines()[2:]) == sorted(
        n for n in here if n.endswith(".yaml"))
    run = subprocess.run([str(venv / "bin" / "chemsolve"), "run", "engine/propane", "--format", "json"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    d = json.loads(run.stdout)
    assert d["status"] == "CONVERGED" and d["file"].startswith(models_dir)


# -- bad files, bounded; pipes; output files written whole (issue 12, items 8-11) ------------------

def _bounded_cli(*args, cwd=ROOT):
    """The command under a 4 GB address-space limit: a bomb that expanded would fail on memory
    instead of swapping the machine (chemsolve itself peaks under 1 GB of address space)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, preexec_fn=limit, env={**os.environ, "PYTHONPATH": ROOT})


_BOMB = "kind: engine\n" + "".join(
    f"l{i}: &l{i} {{" + ", ".join(f"k{j}: {'*l' + str(i - 1) if i else 'lol'}" for j in range(10)) + "}\n"
    for i in range(8)) + "name: *l7\n"


@pytest.mark.parametrize("data, culprit", [
    (_BOMB.encode(), "m.yaml:5: more than 10,000 nodes with aliases expanded"),  # stopped at 10^4 leaves, not 10^8
    (BAD_ENGINE.replace("a test", "caf\u00e9").encode("latin-1"), "m.yaml:3: not UTF-8 text (byte 0xe9"),
    (BAD_ENGINE.encode() + b"x0: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "m.yaml:6: nested more than 32 levels"),
    (BAD_ENGINE.encode() + b"name: again\n", "m.yaml:6: duplicate key 'name' (also on line 2)"),
    (b"kind: gas\nname: g\nprovenance: p\nmechanism: h2o2.yaml\nmode: TP\nunits: {T: K, P: atm}\nT: 1000\nP: 1\n"
     b"fuel: {H2: 1}\noxidizer: {O2: 1, N2: 3.76}\nphi: {start: 0.5, stop: 2, num: 1000000000}\n",
     "m.yaml:11: phi.num = 1000000000 must be an integer in [1, 100,000]"),
])
def test_hostile_files_exit_2_with_one_line(tmp_path, data, culprit):
    assert len(data) < 1024 or b"[[[" in data
    f = tmp_path / "m.yaml"
    f.write_bytes(data)
    out = _bounded_cli("run", str(f))
    assert out.returncode == 2 and out.stdout == "", out.stderr[-2000:]
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and culprit in out.stderr, out.stderr
    listed = _bounded_cli("models", str(tmp_path))  # the listing names the file (unreadable or not) in one row
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr[-2000:]
    (row,) = listed.stdout.splitlines()[2:]
    assert row.startswith("m.yaml ") and (culprit in row or "phi.num" in culprit), row


def test_a_closed_pipe_is_quiet():
    """`chemsolve ... | head`: the reader goes away; no "error: [Errno 32] Broken pipe", no
    traceback; status 141 as for a C tool stopped by SIGPIPE."""
    for args in (["models"], ["bench", "--list"], ["run", "engine/propane", "--format", "csv"]):
        p = subprocess.Popen([sys.executable, "-m", "chemsolve.cli", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
        p.stdout.close()  # before the command writes anything: its first write meets a closed pipe
        err = p.stderr.read().decode()
        assert p.wait(timeout=300) == 141 and err == "", (args, err)


def test_output_file_is_replaced_only_by_a_complete_result(tmp_path):
    dest = tmp_path / "out.json"
    dest.write_text("an earlier result\n")
    bad = tmp_path / "m.yaml"
    bad.write_text(BAD_ENGINE.replace("problem: propane", "problem: nope"))
    out = cli("run", str(bad), "--format", "json", "--output", str(dest))
    assert out.returncode == 2 and dest.read_text() == "an earlier result\n"  # untouched by a failed run
    out = cli("run", "engine/propane", "--format", "json", "--output", str(dest))
    assert out.returncode == 0, out.stderr
    assert json.loads(dest.read_text())["status"] == "CONVERGED"
    assert sorted(os.listdir(tmp_path)) == ["m.yaml", "out.json"]  # no temporary file left
    link = tmp_path / "link.json"
    link.symlink_to(dest)
    assert cli("run", "engine/propane", "--format", "csv", "--output", str(link)).returncode == 0
    assert link.is_symlink() and dest.read_text().startswith("unknown,value\n")  # the link's target replaced


def test_bench_writes_its_report_to_output(tmp_path):
    dest = tmp_path / "suites.txt"
    out = cli("bench", "--list", "--output", str(dest))
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert dest.read_text().splitlines()[0].split()[:2] == ["suite", "default"]
    bad = cli("bench", "nope", "--output", str(tmp_path / "nope.txt"))
    assert bad.returncode == 2 and "unknown suite 'nope'" in bad.stderr and sorted(os.listdir(tmp_path)) == [
        "suites.txt"]


@pytest.mark.parametrize("module, args, extra", [
    ("cantera", ["run", "gas/hydrogen_air"], "cantera"),
    ("matplotlib", ["run", "engine/propane", "--plot", "x.png"], "plot"),
    ("pyarrow", ["run", "engine/propane", "--format", "parquet", "-o", "x.parquet"], "parquet"),
    ("distributed", ["sweep", "engine/propane", "--sweep", "params.R=10,20", "--dask", "local:1"], "dask"),
])
def test_a_missing_extra_is_one_line_naming_it(module, args, extra, tmp_path):
    code = (f"import sys; sys.modules[{module!r}] = None; from chemsolve.cli import main; "
            f"sys.exit(main({args!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and f"pip install 'chemsolve[{extra}]'" in lines[0]


def test_sweep_values_take_units_as_set_does(tmp_path):
    """--sweep reads numbers in the unit written after them, else in the file's units (issue 13: P=1:3:1
    on an atm file ran at 1-3 Pa)."""
    pytest.importorskip("cantera")
    f = os.path.join(GAS, "hydrogen_air.yaml")  # units {T: K, P: atm}
    runs = [cli("sweep", f, "--sweep", spec, "--format", "csv", "--quiet") for spec in
            ("P=1:3:1", "P=1:3:1atm", "P=101325,202650,303975Pa", "P=1.01325,2.0265,3.03975bar")]
    tables = [list(csv.DictReader(io.StringIO(r.stdout))) for r in runs]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    for t in tables:
        assert [round(float(r["P_Pa"])) for r in t] == [101325, 202650, 303975]
    bad = cli("sweep", f, "--sweep", "P=1:3:1furlong")
    assert bad.returncode == 2 and "unit 'furlong'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    nounit = cli("sweep", f, "--sweep", "phi=1:2:1atm")
    assert nounit.returncode == 2 and "takes no unit" in nounit.stderr


def test_sweeping_T_on_a_model_with_a_phi_range_keeps_the_range():
    pytest.importorskip("cantera")
    out = cli("sweep", os.path.join(GAS, "methane_air_flame.yaml"), "--sweep", "T=300,400", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    from chemsolve.models import load_model

    phi = load_model(os.path.join(GAS, "methane_air_flame.yaml")).phi
    assert len(rows) == 2 * len(phi) and {float(r["T"]) for r in rows} == {300.0, 400.0}
    assert [float(r["phi"]) for r in rows[: len(phi)]] == pytest.approx(phi)
    assert "the model file's own range is swept too: phi" in out.stderr


def test_warmup_compiles_every_kind_once():
    out = cli("warmup")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    from chemsolve import registry

    assert [ln.split(":")[0] for ln in lines] == registry.names()
    assert all(ln.rstrip().endswith(" s") or "skipped" in ln for ln in lines)
