"""Sweeps: warm-started chunks, the same table locally and on a Dask LocalCluster of 2 processes,
and every row equal to a single cold solve of that state."""

import os
import subprocess
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from chemsolve.errors import InvalidInputError  # noqa: E402
from chemsolve.models import load_model  # noqa: E402
from chemsolve.sweeps import grid_columns, sweep  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAME = os.path.join(ROOT, "models", "gas", "methane_air_flame.yaml")
SEAWATER = os.path.join(ROOT, "models", "aqueous", "seawater.yaml")


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def test_grid_is_the_cartesian_product_first_key_slowest_or_dataframe_rows():
    cols = grid_columns({"T": [300.0, 400.0], "phi": [0.5, 1.0, 1.5]})
    assert cols["T"].tolist() == [300, 300, 300, 400, 400, 400]
    assert cols["phi"].tolist() == [0.5, 1.0, 1.5] * 2
    df = pd.DataFrame({"phi": [1.5, 0.7], "T": [350.0, 300.0]})
    assert {k: v.tolist() for k, v in grid_columns(df).items()} == {"phi": [1.5, 0.7], "T": [350.0, 300.0]}


def test_gas_sweep_rows_equal_single_solves_and_peak_near_stoichiometric():
    pytest.importorskip("cantera")
    phi = np.linspace(0.5, 2.0, 61)
    df = sweep(FLAME, {"T": [300.0, 500.0], "phi": phi}, species=["CO2", "CO", "H2O"], chunk=16)
    assert len(df) == 122 and (df["status"] == "CONVERGED").all()
    assert list(df.columns[:4]) == ["T", "phi", "status", "iterations"]
    cold = df[df["T"] == 300.0]
    assert 1.0 <= cold["phi"].iat[int(np.argmax(cold["T_K"]))] <= 1.1
    mix = load_model(FLAME).mixture()
    for i in (0, 17, 40, 61, 100, 121):  # chunk starts, warm rows, the jump from T=300 to T=500
        single = load_model(FLAME, {"phi": repr(float(df["phi"].iat[i])), "T": repr(float(df["T"].iat[i]))}).run(mix)
        # both stop at the kernel's 1e-9 relative element/energy balance: T agrees to ~1e-6 K
        assert abs(single.T - df["T_K"].iat[i]) < 1e-5
        k = single.species_names.index("CO")
        assert abs(single.X[k] - df["X_CO"].iat[i]) <= 1e-7 * max(single.X[k], 1e-12) + 1e-14


def test_aqueous_sweep_rows_equal_single_speciations():
    from chemsolve import aqueous

    df = sweep(SEAWATER, {"pH": np.linspace(6.0, 9.0, 13), "T": [288.15, 308.15]}, species=["HCO3-", "CO3-2"],
               chunk=8)
    assert (df["status"] == "CONVERGED").all()
    m = load_model(SEAWATER)
    db = aqueous.load_database(m.database)
    for i in (0, 5, 8, 25):
        r = aqueous.speciate(db, m.totals, df["T"].iat[i], df["pH"].iat[i], m.pe)
        # the batch and the single solver both converge mass balances to 1e-10 relative: 1e-7 covers
        # the different starting points (warm vs cold)
        for s in ("HCO3-", "CO3-2"):
            assert df[f"m_{s}"].iat[i] == pytest.approx(r.molality[s], rel=1e-7)
        assert df["ionic_strength"].iat[i] == pytest.approx(r.ionic_strength, rel=1e-7)


def test_blocks_do_not_change_the_answer_chunks_do_the_warm_starting():
    pytest.importorskip("cantera")
    grid = {"phi": np.linspace(0.6, 1.8, 300)}
    a = sweep(FLAME, grid, species=["CO"], chunk=32, block=32)
    b = sweep(FLAME, grid, species=["CO"], chunk=32, block=320)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = sweep(FLAME, grid, species=["CO"], chunk=1)  # every state cold
    assert c["iterations"].mean() > a["iterations"].mean()  # warm starts save iterations
    assert np.max(np.abs(c["T_K"] - a["T_K"])) < 1e-5


def test_dask_local_cluster_returns_the_same_table(client):
    pytest.importorskip("cantera")
    grid = {"P": [101325.0, 5e5], "phi": np.linspace(0.5, 2.0, 2000)}
    local = sweep(FLAME, grid, species=["CO", "OH", "NO"], chunk=64, block=256)
    remote = sweep(FLAME, grid, client, species=["CO", "OH", "NO"], chunk=64, block=256)
    assert len({w["id"] for w in client.scheduler_info()["workers"].values()}) == 2
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    aq = {"totals.Na": np.linspace(0.3, 0.6, 50), "pH": np.linspace(7.0, 8.5, 40)}
    pd.testing.assert_frame_equal(sweep(SEAWATER, aq, species=["HCO3-"], chunk=16, block=64),
                                  sweep(SEAWATER, aq, client, species=["HCO3-"], chunk=16, block=64),
                                  check_exact=True)


@pytest.mark.parametrize("model, grid, culprit", [
    (SEAWATER, {"phi": [1.0]}, "'phi' cannot be swept in the aqueous model"),
    (SEAWATER, {"T": [300.0, 700.0]}, "T=700 K: outside"),
    (SEAWATER, {"totals.Na": [0.1, -1.0]}, "totals.Na=-1"),
    (FLAME, {"P": [1e5, 0.0]}, "P=0: must be > 0"),
    (FLAME, {"phi": [1.0, np.nan]}, "grid['phi'][1] = nan"),
    (FLAME, {"phi": []}, "non-empty 1-D range"),
])
def test_bad_grids_name_the_input(model, grid, culprit):
    pytest.importorskip("cantera")
    with pytest.raises(InvalidInputError, match=None) as e:
        sweep(model, grid)
    assert culprit in str(e.value)


def test_bad_chunk_and_block_and_species():
    pytest.importorskip("cantera")
    with pytest.raises(InvalidInputError, match="chunk=0"):
        sweep(FLAME, {"phi": [1.0]}, chunk=0)
    with pytest.raises(InvalidInputError, match="multiple of chunk"):
        sweep(FLAME, {"phi": [1.0]}, chunk=10, block=15)
    with pytest.raises(InvalidInputError, match="'XYZ' is not in"):
        sweep(FLAME, {"phi": [1.0]}, species=["XYZ"])


def cli(*args):
    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


@pytest.mark.slow  # 10^6 states twice, and a Dask cluster
def test_cli_million_state_sweep_with_progress_bar_and_the_same_table_on_dask(tmp_path):
    """The issue's acceptance check: 10^6 states from the command line, a progress bar, parquet out,
    and the Dask path (LocalCluster, 2 worker processes) writing the identical table."""
    pytest.importorskip("cantera")
    pytest.importorskip("pyarrow")
    pytest.importorskip("distributed")
    spec = ["--sweep", "phi=0.5:2.0:0.0000015", "--species", "CO2,CO,OH", "--format", "parquet"]
    local = cli("sweep", FLAME, *spec, "-o", str(tmp_path / "local.parquet"))
    assert local.returncode == 0, local.stderr[-2000:]
    assert "1.00M/1.00M" in local.stderr and "1,000,001 states in" in local.stderr  # tqdm's bar, then the rate
    dask = cli("sweep", FLAME, *spec, "-o", str(tmp_path / "dask.parquet"), "--dask", "local:2", "--quiet")
    assert dask.returncode == 0, dask.stderr[-2000:]
    a, b = pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "dask.parquet")
    assert len(a) == 1_000_001 and (a["status"] == "CONVERGED").all()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_cli_grid_of_two_inputs_and_non_converged_exit_1(tmp_path):
    pytest.importorskip("cantera")
    out = cli("sweep", FLAME, "--sweep", "T=300,600", "--sweep", "phi=0.5:2.0:0.5", "--format", "csv", "-q")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("T,phi,status,iterations,T_K,P_Pa,X_") and len(lines) == 1 + 2 * 4
    assert out.stderr == ""
    bad = cli("sweep", FLAME, "--sweep", "phi=0.5:2.0:0.5", "--set", "P=0bar")
    assert bad.returncode == 2 and "P" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_non_converged_states_keep_their_rows_and_the_cli_exits_1():
    pytest.importorskip("cantera")
    from dataclasses import replace

    m = load_model(FLAME)
    grid = {"phi": np.linspace(0.5, 2.0, 64)}
    full = sweep(m, grid, species=["CO"], chunk=16)
    capped = sweep(replace(m, solver={"max_iter": 8}), grid, species=["CO"], chunk=16)
    assert len(capped) == 64 and (full["status"] == "CONVERGED").all()
    ok = (capped["status"] == "CONVERGED").to_numpy()
    assert 0 < ok.sum() < 64  # some cold chunk starts need 9 iterations; warm rows need 2-4
    assert set(capped["status"][~ok]) == {"MAX_ITER"} and (capped["iterations"][~ok] >= 8).all()
    assert np.allclose(capped["T_K"][ok], full["T_K"][ok], rtol=0, atol=1e-5)
    out = cli("sweep", FLAME, "--sweep", "phi=0.5:2.0:0.25", "--set", "solver.max_iter=2", "-q")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1].endswith("7 of 7 state(s) did not converge (first: phi = 0.5, MAX_ITER)")


def test_aqueous_model_with_equilibrium_phases_sweeps_state_by_state_like_run():
    path = os.path.join(ROOT, "models", "aqueous", "calcite_co2.yaml")
    df = sweep(path, {"T": [283.15, 298.15]}, species=["Ca+2", "HCO3-"])
    assert (df["status"] == "CONVERGED").all() and (df["iterations"] > 0).all()
    for i, T in enumerate((283.15, 298.15)):
        r = load_model(path, {"T": f"{T}K"}).run()  # the same speciate call, one state: same answer
        assert (df["pH"].iat[i] == r.pH and df["m_Ca+2"].iat[i] == r.molality["Ca+2"]
                and df["iterations"].iat[i] == r.nit)
