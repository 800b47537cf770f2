"""Regenerate the README's figures: ``python docs/make_images.py`` (from the repository root).

Writes docs/images/bjerrum_seawater.png, flame_methane_air.png and convergence_propane.png with
``chemsolve.plots`` on the Agg canvas. Deterministic: same inputs, same solvers, no time stamp in
the files (the bytes may still change with the matplotlib or FreeType version).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"


def main() -> int:
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
    for f in sorted(OUT.glob("*.png")):
        print(f"{f.relative_to(ROOT)}  {f.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
