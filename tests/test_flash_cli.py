"""The flash model kind through the package's front doors (chemsolve.flash.kind, one registration in
chemsolve.registry): ``chemsolve run flash/...`` in every format, exit codes and one-line errors, ``chemsolve
sweep``, ``--plot`` and ``chemsolve bench flash``, as a user drives them (subprocesses). Numbers are compared
with the API and, where a state splits, with thermo (live, tightened; chemsolve.flash.peers) to the 1e-8 of
tests/test_flash_peers.py."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chemsolve import registry
from chemsolve.models import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGREE = 1e-8  # beta, x, y against thermo where both split (tests/test_flash_peers.py)


def cli(*args, code=None):
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "chemsolve.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=900)


def test_the_kind_is_registered_and_every_bundled_model_loads():
    k = registry.get("flash")
    assert k.name == "flash" and "flash" in registry.names()
    for name in ("flash/natural_gas", "flash/co2_rich", "flash/volatile_oil"):
        m = load_model(name)
        assert registry.kind_of(m) is k and m.kind == "flash" and m.spec == "TP" and m.n_states >= 15
        assert m.path.endswith(name.split("/")[1] + ".yaml") and m.provenance
    m = load_model("flash/co2_rich", {"T": "20degC", "solver.acceleration": "anderson"})
    assert m.state["T"] == pytest.approx(293.15) and m.options.acceleration.name == "anderson"


def test_run_table_json_csv_parquet_agree_with_the_api_and_thermo(tmp_path):
    out = cli("run", "flash/co2_rich")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("CO2 for transport") and "PR, 7 components" in lines[1] and "15 states" in lines[1]
    assert sum(" CONVERGED " in ln for ln in lines) == 15
    text = cli("run", "flash/co2_rich", "--format", "json").stdout
    d = json.loads(text)
    assert d["status"] == ["CONVERGED"] * 15 and d["spec"] == "TP" and len(d["components"]) == 7
    assert "NaN" not in text  # an absent phase is null, not NaN (strict JSON)
    r = load_model("flash/co2_rich").run()
    np.testing.assert_array_equal(np.array(d["beta"]), r.beta)
    assert d["phases"] == r.phases.tolist() and 2 in d["phases"] and 1 in d["phases"]
    two = [i for i, p in enumerate(d["phases"]) if p == 2]
    assert all(d["certificate"][i]["passed"] for i in range(15))
    # the split states against thermo, with the same constants and k_ij
    pytest.importorskip("thermo")
    from chemsolve.flash import peers

    m = load_model("flash/co2_rich")
    th = peers.thermo_flasher(m.mixture)
    for i in two:
        a = peers.thermo_tp(th, r.T[i], r.P[i], m.z)
        assert a["phases"] == 2, (i, a)
        assert peers.split_difference(r.beta[i], r.x[i], r.y[i], a) <= AGREE
    # CSV: one row per state; Parquet: the same rows
    rows = list(csv.reader(io.StringIO(cli("run", "flash/co2_rich", "--format", "csv").stdout)))
    assert rows[0][:7] == ["T_K", "P_Pa", "status", "phase", "beta", "Z_L", "Z_V"] and len(rows) == 16
    assert rows[0][7] == "x_carbon dioxide" and rows[0][-1] == "y_hydrogen sulfide"
    np.testing.assert_allclose([float(v[4]) for v in rows[1:]], r.beta, rtol=1e-11, atol=0)  # 12 digits
    pytest.importorskip("pyarrow")
    dest = tmp_path / "co2.parquet"
    out = cli("run", "flash/co2_rich", "--format", "parquet", "--output", str(dest))
    assert out.returncode == 0, out.stderr
    import pandas as pd

    df = pd.read_parquet(dest)
    assert list(df.columns) == rows[0] and len(df) == 15
    np.testing.assert_array_equal(df["beta"].to_numpy(), r.beta)


def test_one_state_lists_its_compositions():
    out = cli("run", "flash/natural_gas", "--set", "T=220", "--set", "solver.stability_trials=wilson")
    assert out.returncode == 0, out.stderr
    assert "1 states" not in out.stdout and "component" in out.stdout and "x (liquid)" in out.stdout
    d = json.loads(cli("run", "flash/natural_gas", "--set", "T=220", "--json").stdout)
    assert d["status"] == "CONVERGED" and d["phases"] == 2 and abs(sum(d["x"]) - 1) < 1e-12
    assert d["certificate"]["passed"] is True


def test_not_converged_exits_1_with_one_line():
    out = cli("run", "flash/volatile_oil", "--set", "solver.max_iter=1", "--set", "solver.max_ss=0")
    assert out.returncode == 1
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "did not converge (first: state" in err[0], err
    assert "MAX_ITER" in err[0] and " MAX_ITER " in out.stdout  # the table still lists every state


@pytest.mark.parametrize("args, culprit", [
    (["--set", "T=-5"], "T = -5 must be > 0"),
    (["--set", "solver.colour=1"], "unknown solver option 'colour' for kind flash"),
    (["--set", "solver.tol=1"], "solver.tol = 1"),
    (["--set", "P=3kg"], "unit 'kg' for P"),
    (["--set", "z.methane=-1"], "z.methane = -1 is negative"),
    (["--set", "eos=XYZ"], "eos"),
    (["--set", "VF=0.5"], "give one pair of T+P"),
])
def test_bad_input_exits_2_with_one_line_naming_the_key(args, culprit):
    out = cli("run", "flash/natural_gas", *args)
    assert out.returncode == 2 and out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and culprit in err[0], err
    assert "natural_gas.yaml" in err[0]


def test_a_model_file_error_names_its_line(tmp_path):
    text = open(os.path.join(ROOT, "models", "flash", "co2_rich.yaml"), encoding="utf-8").read()
    f = tmp_path / "m.yaml"
    assert "envelope: {P_start: 10.0}" in text
    f.write_text(text.replace("envelope: {P_start: 10.0}", "envelope: {P_start: 10.0, points: 5}"))
    out = cli("run", str(f))
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("envelope:"))
    assert out.returncode == 2 and f"m.yaml:{line}: unknown key 'points' in envelope" in out.stderr, out.stderr


def test_sweep_T_and_a_feed_component(tmp_path):
    out = cli("sweep", "flash/natural_gas", "--sweep", "T=220:240:10", "--format", "csv", "--species",
              "methane,n-hexane")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [float(r["T"]) for r in rows] == [220.0, 230.0, 240.0] and all(r["status"] == "CONVERGED" for r in rows)
    assert set(rows[0]) >= {"T_K", "P_Pa", "beta", "phases", "Z_L", "Z_V", "x_methane", "y_n-hexane"}
    m = load_model("flash/natural_gas")
    b = m.mixture.flash(T=np.array([220.0, 230.0, 240.0]), P=40e5, z=m.z, warm_start=True, chunk=1024)
    np.testing.assert_allclose([float(r["beta"]) for r in rows], b.beta, rtol=1e-9)
    # a feed component over the file's own list of pressures (kept as the fastest axis)
    out = cli("sweep", "flash/co2_rich", "--sweep", "z.methane=0.78,5", "--format", "csv", "--species", "methane")
    assert out.returncode == 0, out.stderr
    assert "the model file's own range is swept too: P (15 values)" in out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 30 and [float(r["z.methane"]) for r in rows[::15]] == [0.78, 5.0]
    m = load_model("flash/co2_rich")
    feed = m.feed.copy()
    feed[m.mixture.names.index("methane")] = 5.0
    one = m.mixture.flash(T=m.state["T"], P=m.state["P"][3], z=feed)
    assert float(rows[18]["beta"]) == pytest.approx(one.beta, abs=1e-9)  # the 4th pressure, methane 5
    bad = cli("sweep", "flash/co2_rich", "--sweep", "P=50,60bar", "--sweep", "H=1,2")
    assert bad.returncode == 2 and "'H' cannot be swept" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad = cli("sweep", "flash/co2_rich", "--sweep", "P=50bar", "--sweep", "z.xenon=1,2")
    assert bad.returncode == 2 and "'xenon' is not a component" in bad.stderr


def test_run_plot_draws_the_envelope_with_the_states(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "co2.png"
    out = cli("run", "flash/co2_rich", "--plot", str(png), "-q")
    assert out.returncode == 0, out.stderr
    assert png.stat().st_size > 10_000
    from chemsolve.plots import _figure

    m = load_model("flash/co2_rich")
    ax = _figure().add_subplot()
    registry.kind_of(m).plot(m, ax)
    lines = {ln.get_gid(): ln for ln in ax.lines}
    e = m.envelope()
    crit = lines["critical"].get_xydata()[0]
    assert crit[0] == e.critical["T"] and crit[1] == e.critical["P"] / 1e5
    r = m.run()
    two = lines["flash2"].get_xydata()
    np.testing.assert_array_equal(two[:, 1], r.P[r.phases == 2] / 1e5)
    assert len(lines["flash1"].get_xydata()) == int((r.phases == 1).sum())


def _lines(ax):
    return {ln.get_gid(): ln for ln in ax.lines}


def test_run_plot_draws_beta_and_K_beside_the_envelope(tmp_path):
    """A list of T at one P (flash/natural_gas: 15 temperatures at 40 bar, with its envelope): the figure has
    the envelope panel and beta and K vs T; the lines hold the flash results unchanged."""
    pytest.importorskip("matplotlib")
    png = tmp_path / "gas.png"
    out = cli("run", "flash/natural_gas", "--plot", str(png), "-q")
    assert out.returncode == 0, out.stderr
    assert png.stat().st_size > 20_000
    from chemsolve.plots import _figure, flash_beta_K

    m = load_model("flash/natural_gas")
    fig = _figure()
    registry.kind_of(m).plot_figure(m, fig)
    env_ax, ax_b, ax_k = fig.axes
    assert "critical" in _lines(env_ax) and "beta" in _lines(ax_b) and "K_methane" in _lines(ax_k)
    ax_b, ax_k = flash_beta_K(m)
    T = np.asarray(m.state["T"], dtype=float)
    r = m.mixture.flash(T=T, P=m.state["P"], z=m.z, warm_start=True, options=m.options)
    assert r.success.all() and 1 in r.phases and 2 in r.phases
    beta = _lines(ax_b)["beta"].get_xydata()
    np.testing.assert_array_equal(beta[:, 0], T)
    np.testing.assert_array_equal(beta[:, 1], r.beta)
    two = r.phases == 2
    for j, c in enumerate(m.mixture.names):
        k = _lines(ax_k)[f"K_{c}"].get_xydata()
        np.testing.assert_array_equal(k[two, 1], r.K[two, j])
        assert np.isnan(k[~two, 1]).all()  # a single phase has no K = y/x
    dew = m.mixture.dew_point(m.z, P=m.state["P"], options=m.options)
    assert dew.success and _lines(ax_b)["dew point"].get_xdata()[0] == dew.T
    assert T.min() <= dew.T <= T.max()


def test_beta_and_K_along_P_of_a_mixture():
    """The same plot from a Mixture, along P at fixed T (a depletion), failed rows marked."""
    pytest.importorskip("matplotlib")
    from chemsolve.errors import InvalidInputError
    from chemsolve.flash import Mixture
    from chemsolve.plots import flash_beta_K

    mix = Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"])
    z = [0.5, 0.2, 0.15, 0.1, 0.05]
    P = np.array([3e5, 5e5, 10e5, 20e5, 40e5, 60e5, 80e5, 100e5, -1.0])  # the last row is bad input
    ax_b, ax_k = flash_beta_K(mix, T=280.0, P=P, z=z)
    r = mix.flash(T=280.0, P=P, z=z, warm_start=True)
    ok = r.success
    assert ok.sum() == 8 and not ok[-1] and r.phases[0] == 1 and r.phases[-2] == 1
    beta = _lines(ax_b)["beta"].get_xydata()
    np.testing.assert_array_equal(beta[:, 0], P / 1e5)
    np.testing.assert_array_equal(beta[ok, 1], r.beta[ok])
    assert np.isnan(beta[~ok, 1]).all() and len(_lines(ax_b)["failed"].get_xdata()) == 1
    k = _lines(ax_k)["K_propane"].get_xydata()
    two = ok & (r.phases == 2)
    np.testing.assert_array_equal(k[two, 1], r.K[two, 2])
    bub, dew = mix.bubble_point(z, T=280.0), mix.dew_point(z, T=280.0)  # 88.7 and 4.46 bar
    assert _lines(ax_b)["bubble point"].get_xdata()[0] == bub.P / 1e5
    assert _lines(ax_k)["dew point"].get_xdata()[0] == dew.P / 1e5
    with pytest.raises(InvalidInputError, match="one of T"):
        flash_beta_K(mix, T=[280.0, 290.0], P=[1e6, 2e6], z=z)
    with pytest.raises(InvalidInputError, match="give z"):
        flash_beta_K(mix, T=[280.0, 290.0], P=1e6)


def test_bench_flash_tiny():
    out = cli("bench", "flash", "--n", "12", "--format", "json", "--quiet")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["suite"] == "flash" and d["n"] == 12 and d["ok"] and d["compile_s"] >= 0
    chem = [r for r in d["rows"] if r["code"].startswith("chemsolve")]
    assert chem and all(r["solved"] == r["total"] and r["seconds"] > 0 for r in chem)
    assert any("NOT certified" in r["code"] for r in chem) and any(r["case"].startswith("warm") for r in chem)
    if "thermo: peer not installed" not in d["peer"]:
        assert any(r["peer"] for r in d["rows"]) and d["checks"] and all(c["ok"] for c in d["checks"])


def test_bench_flash_without_its_peers_shows_chemsolve_alone():
    code = ("import sys; sys.modules['thermo'] = None; sys.modules['thermopack'] = None; "
            "from chemsolve.cli import main; sys.exit(main(['bench', 'flash', '--n', '6', '--quiet']))")
    out = cli(code=code)
    assert out.returncode == 0, out.stderr
    assert "thermo: peer not installed" in out.stdout and "thermopack: peer not installed" in out.stdout
    assert "chemsolve batch, 1 thread" in out.stdout and " 6/6 " in out.stdout
