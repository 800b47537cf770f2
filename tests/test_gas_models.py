"""The gas models in models/gas: load, solve, agree with Cantera; bad files name file, line, key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

ct = pytest.importorskip("cantera")

from chemsolve.gas import ThermoRangeWarning  # noqa: E402
from chemsolve.models import ModelError, load_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAS = os.path.join(ROOT, "models", "gas")
FILES = ["methane_air_flame.yaml", "hydrogen_air.yaml", "propane_oxygen_rocket.yaml", "cho_graphite.yaml"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.mark.parametrize("name", FILES)
def test_gas_model_agrees_with_cantera(name):
    m = load_model(os.path.join(GAS, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThermoRangeWarning)
        r = m.run()
    gas = ct.Solution(m.mechanism)
    feeds = m.feeds
    T_out = np.atleast_1d(r.T)
    X_out = np.atleast_2d(r.X)
    assert np.all(np.atleast_1d(r.status) == 0)
    for i, f in enumerate(feeds):
        gas.TPX = m.T, m.P, f
        if m.condensed:
            carbon = ct.Solution(m.condensed[0])
            mixture = ct.Mixture([(gas, 1.0), (carbon, 0.0)])
            mixture.T, mixture.P = m.T, m.P
            mixture.equilibrate(m.mode, solver="gibbs", rtol=1e-12)
            ref = mixture.species_moles[: gas.n_species]
            ref = ref / ref.sum()
            assert r.condensed["C(gr)"] > 0
        else:
            gas.equilibrate(m.mode)
            ref = gas.X
        assert abs(T_out[i] - gas.T) < 1e-5
        vis = ref > 1e-12
        assert np.max(np.abs(X_out[i][vis] - ref[vis]) / ref[vis]) < 1e-6


def test_methane_air_peak():
    r = load_model(os.path.join(GAS, "methane_air_flame.yaml")).run()
    assert r.success.all() and len(r) == 31
    i = int(np.argmax(r.T))
    assert 2220 < r.T[i] < 2232 and 1.0 <= np.linspace(0.5, 2.0, 31)[i] <= 1.1


def test_cli_runs_gas_models():
    out = _cli("run", os.path.join("models", "gas", "methane_air_flame.yaml"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("CONVERGED") == 31
    js = _cli("run", os.path.join("models", "gas", "hydrogen_air.yaml"), "--json")
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["status"] == "CONVERGED" and 2380 < data["T_K"] < 2395


GOOD = """kind: gas
name: test
provenance: a test
mechanism: gri30.yaml
units: {T: K, P: atm}
mode: TP
T: 1500
P: 1
X: {CH4: 1, O2: 2}
"""


@pytest.mark.parametrize(
    "old, new, match",
    [
        ("mode: TP", "mode: XY", r":6: mode 'XY' unknown"),
        ("P: 1\n", "P: 1\nfoo: 2\n", r":9: unknown key 'foo' for kind gas"),
        # psi is fine now
        ("units: {T: K, P: atm}", "units: {T: K, P: kg}", r":5: unit 'kg' for P has dimension \[mass\]"),
        ("X: {CH4: 1, O2: 2}", "X: {CH4: -1, O2: 2}", r"X.CH4 = -1 is negative"),
        ("T: 1500", "T: hot", r":7: T = 'hot' is not a finite number"),
        ("X: {CH4: 1, O2: 2}", "fuel: {CH4: 1}", r"missing key 'oxidizer'"),
    ],
)
def test_bad_gas_model_files(tmp_path, old, new, match):
    p = tmp_path / "m.yaml"
    p.write_text(GOOD.replace(old, new))
    with pytest.raises(ModelError, match=match):
        load_model(p)


def test_cli_bad_species_one_line(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(GOOD.replace("CH4: 1", "XX: 1"))
    out = _cli("run", str(p))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "'XX'" in lines[0]
