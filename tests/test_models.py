"""Model files: the bundled aqueous models agree with PHREEQC, bad files fail with file/line/key,
and the command line runs them (as a subprocess, as a user would)."""

import glob
import json
import math
import os
import subprocess
import sys
from pathlib import Path

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
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mmol/furlong, T: degC}",
         r"m.yaml:4: unit 'mmol/furlong' for totals has dimension \[substance\] / \[length\]"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mmol/kgw, T: bar}",
         r"m.yaml:4: unit 'bar' for T has dimension .*not \[temperature\]"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mmol/kgw, T: blorp}",
         r"m.yaml:4: unit 'blorp' for T is not a unit pint knows"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mg/kg, T: degC}",
         r"m.yaml:4: unit 'mg/kg' for totals has dimension dimensionless"),
        ("units: {totals: mmol/kgw, T: degC}", "units: {totals: mmol/kgw, T: degC, P: bar}",
         r"m.yaml:4: unknown key 'P' in units for kind aqueous"),
        ("pH: 7\n", "pH: 7\ndensity: -1\n", r"m.yaml:7: density must be > 0"),
        ("pH: 7\n", "pH: 7\nsolver:\n  max_outr: 3\n", r"m.yaml:8: unknown solver option 'max_outr' for kind aqueous"),
        ("pH: 7\n", "pH: 7\nsolver: {max_outer: 0}\n", r"m.yaml:7: solver.max_outer = 0 must be an integer"),
        ("pH: 7\n", "pH: 7\nsolver: {ionic_strength: inner}\n",
         r"m.yaml:7: solver.ionic_strength = 'inner' must be one of"),
        ("pH: 7\n", "pH: 7\nsolver: {damping: wobbly}\n",
         r"m.yaml:7: solver.damping = 'wobbly' is not a damping schedule"),
        ("pH: 7\n", "pH: 7\nsolver: {damping: {type: ramp, begin: 0.1}}\n",
         r"m.yaml:7: solver.damping = .* unknown key\(s\) \['begin'\] for damping type 'ramp'"),
        ("  Na: 1\n", "  Na: lots\n", r"m.yaml:8: totals.Na = 'lots' is not a finite number"),
        ("name: test water\n", "", r"missing key 'name'"),
        ("pH: 7\n", "pH: [7\n", r"m.yaml:\d+: not valid YAML"),
    ],
)
def test_bad_model_files_name_file_line_and_key(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(ModelError, match=match):
        load_model(_write(tmp_path, GOOD.replace(old, new)))


@pytest.mark.parametrize("units, T, totals", [
    ("{totals: mmol/kgw, T: degC}", 25, {"Na": 1, "Cl": 1}),
    ("{totals: umol/kgw, T: degF}", 77, {"Na": 1000, "Cl": 1000}),  # 77 degF = 25 degC
    ("{totals: mol/kg, T: K}", 298.15, {"Na": 0.001, "Cl": 0.001}),  # mol/kg: per kg of water (molality)
    ("{totals: mmol / kgw, T: °C}", "25", {"Na": "1e0", "Cl": 1}),  # pint spacing; YAML-1.1 text numbers
])
def test_equivalent_units_give_the_same_model(tmp_path, units, T, totals):
    text = GOOD.replace("units: {totals: mmol/kgw, T: degC}", f"units: {units}").replace("T: 25", f"T: {T}")
    text = text.replace("  Na: 1\n  Cl: 1\n", "".join(f"  {k}: {v}\n" for k, v in totals.items()))
    m = load_model(_write(tmp_path, text))
    assert m.T == pytest.approx(298.15, rel=1e-12)
    assert m.totals == pytest.approx({"Na": 1e-3, "Cl": 1e-3}, rel=1e-12)


def test_pint_is_not_imported_with_chemsolve_nor_for_chemsolves_own_units():
    code = ("import sys, chemsolve, chemsolve.models as m; m.load_model(sys.argv[1]); "
            "print('pint' in sys.modules)")
    seawater = os.path.join(ROOT, "models", "aqueous", "seawater.yaml")  # mol/kgw and K
    out = subprocess.run([sys.executable, "-c", code, seawater], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_shortcut_units_are_pints():
    """The few conversions done without importing pint equal pint's."""
    import chemsolve.aqueous.kind as am
    import chemsolve.modelfile as cm

    for (unit, target), (scale, offset) in cm._EXACT.items():
        q = cm._ureg().Quantity
        assert (float(q(1.0, unit).to(target).m) - float(q(0.0, unit).to(target).m), float(q(0.0, unit).to(target).m)) \
            == pytest.approx((scale, offset), rel=1e-15)
    assert all(cm._ureg().Quantity(1.0, u).to("mol/kgw").m == pytest.approx(f, rel=1e-15)
               for u, f in am._MOLALITY.items())


WATER_MGL = {"Ca": 80, "Mg": 20, "Na": 300, "K": 3, "Cl": 500, "S(6)": 96, "C(4)": 244, "Si": 15, "N(5)": 10}


@pytest.mark.parametrize("unit, density, scale", [("mg/L", 1.02, 1.0), ("ppm", 1.0, 1.0), ("g/L", 1.1, 0.05),
                                                   ("mmol/L", 1.0, 0.02)])
def test_mass_and_volume_units_agree_with_phreeqc(tmp_path, unit, density, scale):
    """The same water in mg/L (ppm, g/L, mmol/L) speciated by chemsolve and by PHREEQC, which
    converts it itself (SOLUTION ... units mg/L, density). Totals: rel 1e-7. The conversion is
    arithmetic on the same database's formula weights; PHREEQC's reported totals differ from an
    exact conversion by a common factor of about 4e-9 (its water mass after the initial-solution
    iterations). Wrong physics would show far above 1e-7: C(4) weighed as C instead of HCO3 (x5),
    the dissolved solids left out (1.3e-3 here), the density ignored (2e-2). Species: |delta log10
    molality| <= 1e-3, the tolerance of the other PHREEQC comparisons."""
    pytest.importorskip("phreeqc", reason="the live peer IPhreeqc (pip install phreeqc) is not installed")
    from phreeqc_peer import Peer

    given = {k: v * scale for k, v in WATER_MGL.items()}
    text = (f"kind: aqueous\nname: groundwater\nprovenance: made up for a test\nunits: {{totals: {unit}, T: degC}}\n"
            f"density: {density}\nT: 15\npH: 7.3\ntotals:\n" + "".join(f"  {k}: {v!r}\n" for k, v in given.items()))
    m = load_model(_write(tmp_path, text))
    theirs = Peer("phreeqc.dat").solution(given, 288.15, 7.3, units=unit, density=density)
    assert theirs is not None
    for k in given:
        assert m.totals[k] == pytest.approx(theirs.totals[k], rel=1e-7), k
    r = m.run()
    assert r.success, r.message
    for s, lm in theirs.log_molality.items():
        if lm > -12:
            assert abs(math.log10(r.molality[s]) - lm) <= 1e-3, s


def test_formula_weight_is_that_of_the_gfw_formula():
    """phreeqc.dat weighs C(4) as HCO3 and S(6) as SO4: sums of the element weights in its own rows."""
    from chemsolve.aqueous import load_database

    db = load_database("phreeqc.dat")
    H, C, O, S = (db.masters[e].gfw for e in ("H", "C", "O", "S"))
    assert db.formula_weight("C(+4)") == pytest.approx(H + C + 3 * O, rel=1e-15)
    assert db.formula_weight("S(6)") == pytest.approx(S + 4 * O, rel=1e-15)
    assert db.formula_weight("Na") == db.masters["Na"].gfw


def test_solver_options_reach_the_solver(tmp_path):
    base = os.path.join(ROOT, "models", "aqueous", "seawater.yaml")
    starved = load_model(base, {"solver.ionic_strength": "outer", "solver.max_outer": "2"})
    assert starved.solver == {"ionic_strength": "outer", "max_outer": 2}
    r = starved.run()  # the starved outer loop fails; the fallback chain (issue 14) then converges, and says so
    assert "outer fixed point around Newton failed: MAX_ITER in 2 outer iterations" in r.message
    assert load_model(base, {"solver.ionic_strength": "outer"}).run().success


# --------------------------------------------------------------------------- engine models
PROPANE = os.path.join(ROOT, "models", "engine", "propane.yaml")


@pytest.mark.nojit  # also run with NUMBA_DISABLE_JIT=1: the engine model's plain-Python path
def test_engine_model_solves_the_bundled_propane_problem():
    from chemsolve.kernels import examples as ex

    F = getattr(ex.propane, "py_func", ex.propane)  # the residual as plain Python (also under NUMBA_DISABLE_JIT)

    m = load_model(PROPANE)
    assert (m.kind, m.problem, m.param_names) == ("engine", "propane", ("R", "P")) and m.resource() is None
    assert "Meintjes" in m.provenance
    r = m.run()
    assert r.success, r.message
    # the residual evaluated here, apart from the solver, and the paper's root (7 digits printed)
    assert abs(F(r.x, m.params)).max() <= m.solver["ftol"]
    assert r.x == pytest.approx([0.0031141, 34.597925, 0.0650418, 0.8593781, 0.0369519], rel=2e-5)
    fun, jac = m.functions()
    assert fun is ex.propane and jac is ex.propane_jac


@pytest.mark.nojit  # also run with NUMBA_DISABLE_JIT=1: the engine model's plain-Python path
def test_engine_overrides_change_the_problem():
    from chemsolve.kernels import examples as ex

    F = getattr(ex.propane, "py_func", ex.propane)  # the residual as plain Python (also under NUMBA_DISABLE_JIT)

    m = load_model(PROPANE, {"params.R": "20", "solver.damping": "{type: ramp, start: 0.2}"})
    assert m.params.tolist() == [20.0, 40.0] and m.solver["damping"].name == "ramp"
    r = m.run()
    assert r.success and r.damping.name == "ramp"
    assert abs(F(r.x, m.params)).max() <= 1e-10
    assert abs(F(r.x, ex.PAPER_PARAMS)).max() > 1e-3  # a different problem was solved
    assert not load_model(PROPANE, {"solver.max_iter": "3"}).run().success


ENGINE = """kind: engine
name: propane
provenance: a test
problem: propane
params: {R: 10, P: 40}
x0: [0.005, 0.005, 0.05, 0.5, 0.05]
solver:
  max_iter: 50
"""


@pytest.mark.parametrize("old, new, match", [
    ("problem: propane", "problem: os.system", r"m.yaml:4: problem 'os.system' is not a residual bundled"),
    ("{R: 10, P: 40}", "{R: 10, Q: 40}", r"m.yaml:5: unknown key 'Q' in params of problem 'propane'"),
    ("{R: 10, P: 40}", "{R: ten, P: 40}", r"m.yaml:5: params.R = 'ten' is not a finite number"),
    ("x0: [0.005, 0.005, 0.05, 0.5, 0.05]", "x0: [1, 2]", r"m.yaml:6: x0 is a list of 5 numbers"),
    ("  max_iter: 50", "  max_iter: 50\n  maxiter: 5", r"m.yaml:9: unknown solver option 'maxiter' for kind engine"),
    ("  max_iter: 50", "  max_iter: 50\n  method: anderson", r"m.yaml:9: problem 'propane' is a residual F\(x\) = 0"),
    ("  max_iter: 50", "  max_iter: 50\n  max_rel_step: -1",
     r"m.yaml:9: solver.max_rel_step = -1 must be a positive number"),
    ("problem: propane", "problem: propane\nunits: {P: atm}", r"m.yaml:5: unknown key 'P' in units for kind engine"),
    ("problem: propane", "problem: propane\ncode: import os", r"m.yaml:5: unknown key 'code' for kind engine"),
])
def test_bad_engine_files_name_file_line_and_key(tmp_path, old, new, match):
    assert old in ENGINE
    with pytest.raises(ModelError, match=match):
        load_model(_write(tmp_path, ENGINE.replace(old, new)))


def test_unknown_kind_lists_the_supported_ones(tmp_path):
    with pytest.raises(ModelError,
                       match=r"m.yaml:1: kind: 'plasma' is not supported \(supported: aqueous, gas, engine, flash\)"):
        load_model(_write(tmp_path, ENGINE.replace("kind: engine", "kind: plasma")))


GAS = """kind: gas
name: h2-air
provenance: a test
mechanism: h2o2.yaml
units: {T: K, P: atm}
mode: HP
T: 300
P: 1
fuel: {H2: 1}
oxidizer: {O2: 1, N2: 3.76}
phi: {start: 0.5, stop: 1.5, num: 3}
solver: {max_iter: 100, damping: {type: cea, max_change: 1.0}}
"""


@pytest.mark.parametrize("old, new, match", [  # an unknown key is an error at every level, named with its line
    ("mode: HP", "mode: HP\nmodel: HP", r"m.yaml:7: unknown key 'model' for kind gas"),
    ("{T: K, P: atm}", "{T: K, P: atm, X: mol}", r"m.yaml:5: unknown key 'X' in units for kind gas"),
    ("max_iter: 100", "max_iter: 100, maxiter: 5", r"m.yaml:12: unknown solver option 'maxiter' for kind gas"),
    ("num: 3}", "num: 3, step: 1}", r"m.yaml:11: a phi sweep is \{start:, stop:, num:\}; unknown key 'step'"),
    ("max_change: 1.0}", "max_change: 1.0, trace: 2}",
     r"m.yaml:12: .*unknown key\(s\) \['trace'\] for damping type 'cea'"),
    ("{T: K, P: atm}", "{T: K, P: m}", r"m.yaml:5: unit 'm' for P has dimension \[length\]"),
    ("max_iter: 100", "T_bounds: [300, 200]", r"m.yaml:12: solver.T_bounds = \[300, 200\] must be \[low, high\]"),
    ("max_iter: 100", "tol: 0.5", r"m.yaml:12: solver.tol = 0.5 must be a number in \(0, 0.01\)"),
])
def test_bad_gas_files_name_file_line_and_key(tmp_path, old, new, match):
    assert old in GAS
    with pytest.raises(ModelError, match=match):
        load_model(_write(tmp_path, GAS.replace(old, new)))


def test_gas_units_and_solver_options_load(tmp_path):
    m = load_model(_write(tmp_path, GAS.replace("{T: K, P: atm}", "{T: degF, P: psi}").replace("P: 1", "P: 14.5")))
    assert m.T == pytest.approx((300 - 32) * 5 / 9 + 273.15, rel=1e-12)
    assert m.P == pytest.approx(14.5 * 0.45359237 * 9.80665 / 0.0254**2, rel=1e-12)  # psi from lbf and inch
    assert m.solver["max_iter"] == 100 and m.solver["damping"].max_change == 1.0 and len(m.phi) == 3


def test_every_example_in_the_schema_reference_loads(tmp_path):
    """models/README.md is the one schema reference: its YAML examples must stay valid."""
    import re

    text = open(os.path.join(ROOT, "models", "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert {b.split("\n")[0] for b in blocks} == {"kind: aqueous", "kind: gas", "kind: engine", "kind: flash"}
    for b in blocks:
        assert load_model(_write(tmp_path, b)).kind == b.split("\n")[0].split()[1]


def test_bundled_names_resolve_to_the_bundled_files():
    from chemsolve.models import bundled_models_dir, resolve_model_path

    base = bundled_models_dir()
    assert base is not None and base.resolve() == Path(ROOT, "models").resolve()
    for name in ("gas/hydrogen_air", "gas/hydrogen_air.yaml"):
        assert resolve_model_path(name).resolve() == Path(ROOT, "models", "gas", "hydrogen_air.yaml").resolve()
    with pytest.raises(ModelError, match="not found"):
        resolve_model_path("gas/../../pyproject")  # outside the bundled folder: not a model name
    with pytest.raises(ModelError, match=r"'gas/nope' not found; bundled models are under"):
        load_model("gas/nope")


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
