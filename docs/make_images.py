"""Regenerate the README's figures: ``python docs/make_images.py`` (from the repository root);
``python docs/make_images.py ex11`` only the reactor guide's ex11 breakthrough figure.

Writes docs/images/bjerrum_seawater.png, flame_methane_air.png, convergence_propane.png and
ex11_breakthrough.png (this one with IPhreeqc's curves when the ``phreeqc`` package is installed) with
``chemsolve.plots`` on the Agg canvas. Deterministic: same inputs, same solvers, no time stamp in
the files (the bytes may still change with the matplotlib or FreeType version).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"


def ex11() -> None:
    """PHREEQC's example 11 on the reactor's column (ADVECTION and TRANSPORT with dispersion): Cl, Na, K
    and Ca leaving cell 40 against pore volumes, chemsolve as lines, IPhreeqc as markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from chemsolve.aqueous import DatabaseWarning, Solution, equilibrate_exchange, load_database
    from chemsolve.reactor.column import advection, transport

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)
        db = load_database("phreeqc.dat")
    kw = {"units": "mmol/kgw", "pH": "7.0 charge", "pe": "12.5 O2(g) -0.68"}
    inflow = Solution(db, {"Ca": 0.6, "Cl": 1.2}, **kw).speciate()
    cell = Solution(db, {"Na": 1.0, "K": 0.2, "N(5)": 1.2}, **kw).speciate()
    ex = equilibrate_exchange(cell, {"X": 0.0011})
    els = ["Cl", "Na", "K", "Ca"]
    runs = {"ADVECTION": advection(db, cell, inflow, cells=40, shifts=100, exchange=ex, totals=els),
            "TRANSPORT, dispersivity 2 mm": transport(db, cell, inflow, cells=40, shifts=100, lengths=0.002,
                                                      dispersivities=0.002, exchange=ex, totals=els)}
    peer = _ex11_phreeqc(db)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), dpi=100, sharey=True)
    x = (np.arange(1, 101) + 0.5) / 40.0
    colors = dict(zip(els, ("tab:green", "tab:blue", "tab:orange", "tab:red")))
    for ax, (name, out) in zip(axes, runs.items()):
        for j, el in enumerate(els):
            ax.plot(x, 1e3 * out.totals[:, 0, j], color=colors[el], label=f"{el} (chemsolve)")
            if peer is not None:
                ax.plot(x[::3], 1e3 * peer[name][::3, j], "o", mfc="none", ms=4, color=colors[el],
                        label=f"{el} (PHREEQC)" if ax is axes[0] else None)
        ax.set_title(f"ex11, {name}", fontsize=10)
        ax.set_xlabel("pore volumes")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mmol/kgw leaving cell 40")
    axes[0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(OUT / "ex11_breakthrough.png", metadata={"Software": None})


def _ex11_phreeqc(db):
    """IPhreeqc's cell 40 for both runs ({name: (100, 4) mol/kgw}), or None without the package."""
    try:
        import phreeqc
    except ImportError:
        return None
    import numpy as np

    head = (ROOT / "tests" / "test_reactor.py").read_text().split('EX11_ADVECTION = """')[1].split('"""')[0]
    head = head.split("ADVECTION")[0]
    tail = {"ADVECTION": "ADVECTION\n -cells 40\n -shifts 100\n -punch_cells 40\n -punch_frequency 1\nEND\n",
            "TRANSPORT, dispersivity 2 mm": "TRANSPORT\n -cells 40\n -lengths 40*0.002\n -shifts 100\n"
            " -time_step 720.0\n -flow_direction forward\n -boundary_conditions flux flux\n"
            " -diffusion_coefficient 0.0\n -dispersivities 40*0.002\n -correct_disp true\n -punch_cells 40\n"
            " -punch_frequency 1\nEND\n"}
    out = {}
    for name, t in tail.items():
        ip = phreeqc.Phreeqc()
        ip.LoadDatabase(str(db.path))
        if ip.RunString(head + t) != 0:
            return None
        so = ip.GetSelectedOutput()
        steps = np.array(so["step"])
        out[name] = np.column_stack([np.array(so[f"{e}(mol/kgw)"])[steps >= 1] for e in ("Cl", "Na", "K", "Ca")])
    return out


def main() -> int:
    if sys.argv[1:] == ["ex11"]:
        OUT.mkdir(parents=True, exist_ok=True)
        ex11()
        print(f"{(OUT / 'ex11_breakthrough.png').relative_to(ROOT)}")
        return 0
    from chemsolve import damping as d
    from chemsolve import plots
    from chemsolve.aqueous import DatabaseWarning
    from chemsolve.kernels import examples as ex
    from chemsolve.models import load_model

    OUT.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)  # phreeqc.dat blocks chemsolve does not use
        plots.plot_model(load_model(ROOT / "models" / "aqueous" / "seawater.yaml"), OUT / "bjerrum_seawater.png")
    plots.plot_model(load_model(ROOT / "models" / "gas" / "methane_air_flame.yaml"), OUT / "flame_methane_air.png")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    schedules = {**plots.standard_schedules("newton"), "constant 0.5": d.Constant(0.5)}
    plots.convergence(ex.propane.py_func, ex.PAPER_START, schedules, jac=ex.propane_jac.py_func,
                      args=(ex.PAPER_PARAMS,), ax=ax)
    ax.set_title("Propane combustion equilibrium (Meintjes & Morgan 1990)\n"
                 "damped Newton from the MINPACK-2 start, one line per damping schedule", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "convergence_propane.png", metadata={"Software": None})
    ex11()
    for f in sorted(OUT.glob("*.png")):
        print(f"{f.relative_to(ROOT)}  {f.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
