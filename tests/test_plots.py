"""chemsolve.plots: every figure's lines carry the solvers' numbers, checked against independent solves
(single-state speciation, the model's own batch, Cantera where installed, the engine's history)."""

import os
import struct
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="chemsolve.plots needs the plot extra (matplotlib)")
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import chemsolve as cs
from chemsolve import damping as d
from chemsolve import plots
from chemsolve.errors import InvalidInputError
from chemsolve.kernels import examples as ex
from chemsolve.models import load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AQ = os.path.join(ROOT, "models", "aqueous")
GAS = os.path.join(ROOT, "models", "gas")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def lines(ax, skip=("failed", "ftol")):
    return {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid() not in skip}


def png_size(path):
    """(width, height) from the IHDR chunk of a PNG file, after checking the signature."""
    from pathlib import Path

    data = Path(path).read_bytes()
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24]), len(data)


@pytest.fixture(scope="module")
def buffer():
    from chemsolve.aqueous import DatabaseWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)
        m = load_model(os.path.join(AQ, "carbonate_buffer.yaml"))
        return m, m.resource()


def test_import_of_plots_does_not_import_matplotlib():
    code = "import sys, chemsolve.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_bjerrum_fractions_match_single_speciation_and_sum_to_one(buffer):
    from chemsolve.aqueous import speciate

    m, db = buffer
    pH = np.linspace(2, 12, 201)
    ax = plots.bjerrum(m, pH=pH, db=db)
    ln = lines(ax)
    assert {"CO2", "HCO3-", "CO3-2"} <= set(ln) and "Na+" not in ln
    assert ax.get_xlabel().startswith("pH") and "[mol/mol]" in ax.get_ylabel()
    Y = np.array([ln[s].get_ydata() for s in ln])
    for s in ln:
        assert np.array_equal(ln[s].get_xdata(), pH)
    assert (Y.sum(axis=0) <= 1 + 1e-9).all()
    # independent: one speciate() per pH, the component's species weighted by their count of C
    for i in (20, 86, 126, 170):  # pH 3, 6.3, 8.3, 10.5
        r = speciate(db, m.totals, m.T, pH[i], m.pe)
        assert r.success
        comp = r.composition["C(+4)"]
        for s in ln:
            assert ln[s].get_ydata()[i] == pytest.approx(comp[s] * r.molality[s] / m.totals["C(4)"],
                                                         rel=1e-6, abs=1e-12)
        shown = sum(comp[s] * r.molality[s] for s in ln) / m.totals["C(4)"]
        assert Y[:, i].sum() == pytest.approx(shown, rel=1e-6)
    # every species of the component drawn: mass balance, fractions sum to 1
    all_ = lines(plots.bjerrum(m, pH=pH, db=db, ax=plt.subplots()[1], min_fraction=0.0))
    assert set(all_) == set(comp)
    assert np.allclose(np.sum([l_.get_ydata() for l_ in all_.values()], axis=0), 1.0, atol=1e-8)


def test_bjerrum_crossings_follow_the_databases_log_k(buffer):
    """CO2/HCO3- and HCO3-/CO3-2 cross where the mass-action laws of the database say, corrected by
    the activity coefficients of a single speciation there; HCO3- dominates between them."""
    from chemsolve.aqueous import speciate
    from chemsolve.aqueous.speciation import build_system

    m, db = buffer
    pH = np.linspace(2, 12, 201)
    ln = lines(plots.bjerrum(m, pH=pH, db=db))
    sys_ = build_system(db, m.totals, m.T)
    logk = dict(zip(sys_.species, sys_.log_k))  # formation from CO3-2, H+, H2O
    pK1, pK2 = logk["CO2"] - logk["HCO3-"], logk["HCO3-"]
    for a, b, pk in (("CO2", "HCO3-", pK1), ("HCO3-", "CO3-2", pK2)):
        diff = np.log10(ln[a].get_ydata()) - np.log10(ln[b].get_ydata())  # falls with pH
        k = np.flatnonzero((diff[:-1] > 0) & (diff[1:] <= 0))
        assert k.size == 1
        k = k[0]
        cross = pH[k] + (pH[k + 1] - pH[k]) * diff[k] / (diff[k] - diff[k + 1])
        r = speciate(db, m.totals, m.T, pk, m.pe)
        # log(m_a / m_b) = pK - pH - log a_w(CO2 only) + lg_b - lg_a
        lw = np.log10(r.water_activity) if a == "CO2" else 0.0
        expect = pk - lw + r.log_gamma[b] - r.log_gamma[a]
        assert cross == pytest.approx(expect, abs=0.01)
    mid = np.argmin(np.abs(pH - (pK1 + pK2) / 2))
    assert max(ln, key=lambda s: ln[s].get_ydata()[mid]) == "HCO3-"
    low = pH < pK1 - 0.3
    assert all(ln["CO2"].get_ydata()[low] > 0.5)


def test_bjerrum_component_names_dict_input_and_errors(buffer):
    m, db = buffer
    pH = np.linspace(4, 10, 13)
    ref = lines(plots.bjerrum(m, pH=pH, db=db))
    for comp in ("C(4)", "C", "C(+4)"):
        got = lines(plots.bjerrum(m, comp, pH=pH, db=db, ax=plt.subplots()[1]))
        assert set(got) == set(ref)
    na = lines(plots.bjerrum(m, "Na", pH=pH, db=db, ax=plt.subplots()[1]))
    assert "Na+" in na and "CO2" not in na
    raw = lines(plots.bjerrum(dict(m.totals), pH=pH, db=db, T=m.T, pe=m.pe, ax=plt.subplots()[1]))
    for s in ref:
        assert np.array_equal(raw[s].get_ydata(), ref[s].get_ydata())
    with pytest.raises(InvalidInputError, match="Fe"):
        plots.bjerrum(m, "Fe", pH=pH, db=db)
    with pytest.raises(InvalidInputError, match="db="):
        plots.bjerrum(dict(m.totals))


def test_bjerrum_marks_failed_rows(buffer, monkeypatch):
    import chemsolve.aqueous as aq

    m, db = buffer
    real = aq.speciate_batch

    def failing(*a, **k):
        b = real(*a, **k)
        b.status[3] = int(cs.Status.MAX_ITER)
        return b

    monkeypatch.setattr(aq, "speciate_batch", failing)
    pH = np.linspace(4, 10, 13)
    ax = plots.bjerrum(m, pH=pH, db=db)
    for ln in lines(ax).values():
        y = ln.get_ydata()
        assert np.isnan(y[3]) and np.isfinite(np.delete(y, 3)).all()
    bad = [ln for ln in ax.get_lines() if ln.get_gid() == "failed"]
    assert len(bad) == 1 and list(bad[0].get_xdata()) == [pH[3]]


def test_flame_T_line_is_the_batch_and_peaks_slightly_rich():
    m = load_model(os.path.join(GAS, "methane_air_flame.yaml"))
    ax = plots.flame(m)
    (tx,) = [a for a in ax.figure.axes if a is not ax]
    T = lines(tx)["T"]
    r = m.run()  # the model's own warm batch, solved again
    assert r.success.all()
    assert np.array_equal(T.get_xdata(), np.asarray(m.phi))
    assert np.allclose(T.get_ydata(), r.T, rtol=1e-10)
    peak = m.phi[int(np.argmax(T.get_ydata()))]
    assert 1.0 <= peak <= 1.1
    sp = lines(ax)
    assert {"N2", "H2O", "CO2", "CO"} <= set(sp)
    for s, ln in sp.items():
        assert np.allclose(ln.get_ydata(), r.X[:, r.species_names.index(s)], rtol=1e-10)
    assert "adiabatic" in tx.get_ylabel() and "[K]" in tx.get_ylabel()


def test_flame_grid_of_a_single_phi_model_and_cantera():
    """A grid of one's own on a single-phi model: feeds rebuilt from fuel/oxidizer; the state at
    phi = 1 is the model's own solve, and Cantera (when installed) gives the same temperatures."""
    m = load_model(os.path.join(GAS, "hydrogen_air.yaml"))
    grid = np.array([0.6, 1.0, 1.4])
    ax = plots.flame(m, phi=grid, species=["H2O", "H2", "OH"])
    (tx,) = [a for a in ax.figure.axes if a is not ax]
    T = lines(tx)["T"].get_ydata()
    assert set(lines(ax)) == {"H2O", "H2", "OH"}
    assert T[1] == pytest.approx(m.run().T, rel=1e-8)
    ct = pytest.importorskip("cantera")
    gas = ct.Solution("h2o2.yaml")
    for f, t in zip(grid, T):
        gas.set_equivalence_ratio(f, "H2:1", "O2:1, N2:3.76")
        gas.TP = m.T, m.P
        gas.equilibrate("HP")
        assert t == pytest.approx(gas.T, abs=0.01)  # same NASA-7 data: agree to 1e-11 K in practice


def test_flame_refuses_an_X_model_and_composition_draws_it_vs_T():
    m = load_model(os.path.join(GAS, "cho_graphite.yaml"))
    with pytest.raises(InvalidInputError, match="X:.*composition"):
        plots.flame(m)
    T = np.array([800.0, m.T, 1100.0])
    ax = plots.composition(m, T=T, species=["CO", "CO2", "H2"])
    r = m.run()  # TP at the model's T
    for s, ln in lines(ax).items():
        assert ln.get_ydata()[1] == pytest.approx(r.X[r.species_names.index(s)], rel=1e-6)
    co = lines(ax)["CO"].get_ydata()
    assert co[0] < co[1] < co[2]  # Boudouard: CO grows with T over graphite


def test_convergence_one_line_per_schedule_with_the_solvers_history():
    args = (ex.PAPER_PARAMS,)
    f, j = ex.propane.py_func, ex.propane_jac.py_func
    ax = plots.convergence(f, ex.PAPER_START, jac=j, args=args)
    ln = lines(ax)
    std = plots.standard_schedules("newton")
    assert list(ln) == list(std)
    for label, sched in std.items():
        r = cs.solve(f, ex.PAPER_START, jac=j, args=args, damping=sched)
        assert np.array_equal(ln[label].get_ydata(), r.history.residual_norm)
        assert np.array_equal(ln[label].get_xdata(), np.arange(r.nit + 1))
        assert r.status.name in ln[label].get_label() and ln[label].get_linestyle() == "-"
    assert ax.get_yscale() == "log"
    # non-converged runs: dashed, a red cross on the last iterate, status in the legend
    ax = plots.convergence(f, ex.PAPER_START, [d.Constant(0.5), "ramp"], jac=j, args=args, max_iter=3,
                           ax=plt.subplots()[1])
    ln = lines(ax)
    assert list(ln) == ["constant (alpha=0.5)", "ramp"]
    for line in ln.values():
        assert "MAX_ITER" in line.get_label() and line.get_linestyle() == "--"
    crosses = [x for x in ax.get_lines() if x.get_marker() == "x"]
    assert len(crosses) == 2
    with pytest.raises(InvalidInputError, match="schedules"):
        plots.convergence(f, ex.PAPER_START, {}, jac=j, args=args)


def test_plot_model_engine_stand_in(tmp_path, monkeypatch):
    """The engine branch against the EngineModel interface: functions(), x0, params, solver."""
    seen = {}
    real = plots.convergence

    def spy(*a, **k):
        seen["ax"] = real(*a, **k)
        return seen["ax"]

    monkeypatch.setattr(plots, "convergence", spy)
    model = SimpleNamespace(kind="engine", name="propane (stand-in)", path="<stand-in>",
                            functions=lambda: (ex.propane.py_func, ex.propane_jac.py_func),
                            x0=ex.PAPER_START, params=ex.PAPER_PARAMS,
                            solver={"method": "newton", "damping": {"type": "constant", "alpha": 0.5},
                                    "max_rel_step": 0.9})
    out = plots.plot_model(model, tmp_path / "engine.png")
    assert out == str(tmp_path / "engine.png")
    (w, h), size = png_size(out)
    assert (w, h) == (700, 450) and 10_000 < size < 300_000
    ln = lines(seen["ax"])
    assert next(iter(ln)) == "model: constant (alpha=0.5)" and len(ln) == 5
    r = cs.solve(ex.propane.py_func, ex.PAPER_START, jac=ex.propane_jac.py_func, args=(ex.PAPER_PARAMS,),
                 damping=d.Constant(0.5), max_rel_step=0.9)
    assert np.array_equal(ln["model: constant (alpha=0.5)"].get_ydata(), r.history.residual_norm)
    bad = SimpleNamespace(**{**vars(model), "solver": {"dampin": 0.5}})
    with pytest.raises(InvalidInputError, match="dampin"):
        plots.plot_model(bad, tmp_path / "bad.png")
    with pytest.raises(InvalidInputError, match="kind"):
        plots.plot_model(SimpleNamespace(kind="plasma"), tmp_path / "x.png")


def cli(*args, pre=None):
    """The command as a user runs it; ``pre``: a statement run first (e.g. hiding matplotlib)."""
    start = ["-m", "chemsolve.cli"] if pre is None else \
        ["-c", f"import sys; {pre}; from chemsolve.cli import main; sys.exit(main(sys.argv[1:]))"]
    return subprocess.run([sys.executable, *start, *args], capture_output=True, text=True, cwd=ROOT, timeout=600,
                          check=False)


def test_cli_run_and_sweep_plot_write_pngs(tmp_path):
    f = tmp_path / "buffer.png"
    out = cli("run", os.path.join(AQ, "carbonate_buffer.yaml"), "--plot", str(f))
    assert out.returncode == 0, out.stderr
    assert "status CONVERGED" in out.stdout and out.stderr == ""
    assert png_size(f)[0] == (700, 450) and png_size(f)[1] > 10_000
    g = tmp_path / "sweep.png"
    out = cli("sweep", os.path.join(AQ, "seawater.yaml"), "--sweep", "pH=7:8:0.5", "--plot", str(g), "-q")
    assert out.returncode == 0, out.stderr
    assert png_size(g)[1] > 10_000
    two = cli("sweep", os.path.join(AQ, "seawater.yaml"), "--sweep", "pH=7:8:0.5", "--sweep", "T=290:300:10",
              "--plot", str(tmp_path / "two.png"), "-q")
    assert two.returncode == 2 and "one input" in two.stderr and not (tmp_path / "two.png").exists()


def test_cli_plot_without_matplotlib_exits_2_naming_the_extra(tmp_path):
    f = tmp_path / "never.png"
    out = cli("run", os.path.join(AQ, "carbonate_buffer.yaml"), "--plot", str(f),
              pre="sys.modules['matplotlib'] = None")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "chemsolve[plot]" in out.stderr
    assert out.stdout == "" and not f.exists()  # refused before solving
    ok = cli("run", os.path.join(AQ, "carbonate_buffer.yaml"), pre="sys.modules['matplotlib'] = None")
    assert ok.returncode == 0, ok.stderr  # without --plot matplotlib is never needed


def test_plot_columns_draws_each_column_against_the_swept_input(tmp_path, monkeypatch):
    figs = []
    real = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: (figs.append(fig), real(fig, path))[1])
    header = ["phi", "status", "T_K", "P_Pa", "X_H2O", "X_H2"]  # P constant: no panel
    rows = [[0.5, "CONVERGED", 1600.0, 1e5, 0.15, 1e-5], [1.0, "MAX_ITER", 2400.0, 1e5, 0.3, 0.01],
            [1.5, "CONVERGED", 2300.0, 1e5, 0.28, 0.1]]
    out = plots.plot_columns(header, rows, tmp_path / "s.png", title="t")
    assert png_size(out)[1] > 5_000
    (fig,) = figs
    ax_t, ax_x = fig.axes
    assert ax_t.get_ylabel() == "T [K]" and ax_x.get_yscale() == "log"
    assert list(lines(ax_t)["T_K"].get_ydata()) == [1600.0, 2400.0, 2300.0]
    assert set(lines(ax_x)) == {"X_H2O", "X_H2"}
    crosses = [ln for ln in ax_t.get_lines() if ln.get_gid() == "failed"]
    assert len(crosses) == 1 and list(crosses[0].get_xydata()[0]) == [1.0, 2400.0]
