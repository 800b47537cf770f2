"""Random brines on pitzer.dat (and random waters on sit.dat), chemsolve against IPhreeqc live (issue 15,
item 7: "500 random brines on pitzer.dat up to ionic strength 6").

``random_brine(seed, i)`` draws case ``i`` of ``seed`` (its own generator, ``default_rng([seed, i])``):

- SOLUTION 1 at 5-95 C: Na 10^U(-1, 0.8), K 10^U(-2.5, -0.3), Ca 10^U(-3, -0.3), Mg 10^U(-3, -0.2), S(6)
  10^U(-3, -0.3), C(4) 10^U(-3.5, -1.7) mol/kgw; Cl adjusted to electroneutrality (at least 0.05 mol/kgw
  of cation charge left for it: sulfate is lowered where it would take more); pH U(6.5, 8.5) fixed;
  all totals scaled down together where the ionic strength of the free ions would pass ``I_MAX`` = 6;
- EQUILIBRIUM_PHASES 1: each of halite, gypsum, anhydrite, glauberite, calcite with probability 0.7, at SI
  0 with 0 mol (precipitates where supersaturated: 70 %) or 10^U(-2, 0) mol (may dissolve: 30 %);
- the reaction step equilibrates the water with them (pH, pe and the mass of water solved; the charge
  imbalance of the initial solution carried, as PHREEQC).

``random_sit_water(seed, i)`` draws a water for sit.dat the same way (I up to 3; pH fixed or from the
charge balance; half of them then equilibrated with some of the same phases).

``compare`` reads both programs' answers: pH, log10 activity of water, log10 molality and log10
activity of the main species, the saturation index of every phase, the moles of each phase and the
mass of water. PHREEQC's Pitzer and SIT iterations stop when its activity coefficients move by less
than 10 x its convergence tolerance: the runs here set ``-convergence_tolerance 1e-12`` (KNOBS) so that
its answer is the model's to about 1e-11, not 1e-7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PHASES = ("Halite", "Gypsum", "Anhydrite", "Glauberite", "Calcite")
SPECIES = ("Na+", "K+", "Ca+2", "Mg+2", "Cl-", "SO4-2", "HCO3-", "CO3-2", "CO2", "OH-", "H+", "MgOH+",
           "MgCO3", "CaCO3", "HSO4-")
I_MAX = 6.0
_Z = {"Na": 1, "K": 1, "Ca": 2, "Mg": 2}


@dataclass
class Brine:
    totals: dict[str, float]  # mol/kgw; Cl adjusted to electroneutrality (its value: the start)
    tc: float
    pH: float
    phases: dict[str, float] = field(default_factory=dict)  # name -> moles at SI 0
    charge: str = "Cl"  # what the charge balance adjusts: "Cl" or "pH"

    def solution_text(self, number: int = 1) -> str:
        """The brine as PHREEQC's SOLUTION ``number``."""
        lines = [f"SOLUTION {number}\n units mol/kgw\n temp {self.tc:.17g}\n pH {self.pH:.17g}"
                 + (" charge\n" if self.charge == "pH" else "\n")]
        for k, v in self.totals.items():
            lines.append(f" {k} {v:.17g}" + (" charge\n" if k == self.charge else "\n"))
        return "".join(lines)

    def phreeqc_text(self) -> str:
        lines = ["KNOBS\n -convergence_tolerance 1e-12\n -iterations 1000\n", self.solution_text()]
        if self.phases:
            lines.append("EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 {n:.17g}\n" for p, n in self.phases.items()))
        return "".join(lines)


def _scale_to(tot: dict[str, float], imax: float) -> None:
    cl = sum(_Z.get(k, 0) * v for k, v in tot.items()) - 2 * tot.get("S(6)", 0.0) - tot.get("C(4)", 0.0)
    ionic = 0.5 * (sum(_Z.get(k, 0) ** 2 * v for k, v in tot.items()) + 4 * tot.get("S(6)", 0.0)
                   + tot.get("C(4)", 0.0) + max(cl, 0.0))
    if ionic > imax:
        f = imax / ionic
        for k in tot:
            tot[k] *= f


def random_brine(seed: int, index: int) -> Brine:
    """Case ``index`` of ``seed`` (module doc)."""
    rng = np.random.default_rng([seed, index])
    tot = {"Na": 10 ** rng.uniform(-1, 0.8), "K": 10 ** rng.uniform(-2.5, -0.3), "Ca": 10 ** rng.uniform(-3, -0.3),
           "Mg": 10 ** rng.uniform(-3, -0.2), "S(6)": 10 ** rng.uniform(-3, -0.3),
           "C(4)": 10 ** rng.uniform(-3.5, -1.7)}
    cations = sum(_Z[k] * tot[k] for k in _Z)
    room = cations - 0.05 - tot["C(4)"]
    if 2 * tot["S(6)"] > room:
        tot["S(6)"] = max(room / 2, 1e-4)
    _scale_to(tot, I_MAX)
    cl = sum(_Z[k] * tot[k] for k in _Z) - 2 * tot["S(6)"] - tot["C(4)"]
    tot = {k: float(f"{v:.6g}") for k, v in tot.items()}
    tot["Cl"] = float(f"{max(cl, 1e-3):.6g}")
    tc = float(f"{rng.uniform(5.0, 95.0):.4g}")
    pH = float(f"{rng.uniform(6.5, 8.5):.4g}")
    phases = {}
    for p in PHASES:
        if rng.random() < 0.7:
            phases[p] = 0.0 if rng.random() < 0.7 else float(f"{10 ** rng.uniform(-2, 0):.4g}")
    return Brine(tot, tc, pH, phases)


def random_sit_water(seed: int, index: int) -> Brine:
    """A random water for sit.dat (module doc): I up to 3, no phases."""
    rng = np.random.default_rng([seed, index])
    tot = {"Na": 10 ** rng.uniform(-2, 0.3), "K": 10 ** rng.uniform(-3, -0.5), "Ca": 10 ** rng.uniform(-3.5, -0.7),
           "Mg": 10 ** rng.uniform(-3.5, -0.7), "S(6)": 10 ** rng.uniform(-3.5, -0.7),
           "C(4)": 10 ** rng.uniform(-3.5, -1.7)}
    cations = sum(_Z[k] * tot[k] for k in _Z)
    if 2 * tot["S(6)"] > cations - 0.005 - tot["C(4)"]:
        tot["S(6)"] = max((cations - 0.005 - tot["C(4)"]) / 2, 1e-4)
    _scale_to(tot, 3.0)
    cl = sum(_Z[k] * tot[k] for k in _Z) - 2 * tot["S(6)"] - tot["C(4)"]
    tot = {k: float(f"{v:.6g}") for k, v in tot.items()}
    tot["Cl"] = float(f"{max(cl, 1e-3):.6g}")
    tc = float(f"{rng.uniform(5.0, 80.0):.4g}")
    pH = float(f"{rng.uniform(6.0, 9.0):.4g}")
    charge = "pH" if rng.random() < 0.3 else "Cl"
    if charge == "pH":  # a small excess of cations for the pH to balance
        tot["Cl"] = float(f"{max(cl, 1e-3) * (1.0 - 0.01 * rng.random()):.6g}")
    phases = {}
    if rng.random() < 0.5:  # half of them: a reaction step with some of the phases
        for p in PHASES:
            if rng.random() < 0.5:
                phases[p] = 0.0 if rng.random() < 0.6 else float(f"{10 ** rng.uniform(-2, 0):.4g}")
    return Brine(tot, tc, pH, phases, charge)


def random_brines(seed: int, n: int) -> list[Brine]:
    return [random_brine(seed, i) for i in range(n)]


# ------------------------------------------------------------------------------------ the two programs
def selected_output(phases=PHASES, species=SPECIES) -> str:
    return ("SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n -ionic_strength true\n"
            f" -molalities {' '.join(species)}\n -activities H2O {' '.join(species)}\n"
            f" -saturation_indices {' '.join(phases)}\n -equilibrium_phases {' '.join(phases)}\nEND\n")


def run_phreeqc(ip, case: Brine) -> dict[str, float]:
    """IPhreeqc's answer to the case (the last row of its selected output: the reaction step if there
    are phases, else the initial solution). Raises RuntimeError with PHREEQC's message when it fails."""
    if ip.RunString(case.phreeqc_text() + selected_output()) != 0:
        raise RuntimeError(ip.GetErrorString().strip().splitlines()[-1])
    return {k: v[-1] for k, v in ip.GetSelectedOutput().items()}


def run_chemsolve(db, case: Brine):
    """(initial solution, reaction step or None) of chemsolve for the case."""
    from .reaction_step import react
    from .solution import Solution

    tot = dict(case.totals)
    w = Solution(db, totals=tot, units="mol/kgw", T=case.tc + 273.15, pH=case.pH,
                 charge=case.charge).speciate()
    if not case.phases or not w.success:
        return w, None
    return w, react(w, phases={p: (0.0, n) for p, n in case.phases.items()})


@dataclass
class Diff:
    """Largest differences chemsolve - PHREEQC of one case (log10 units unless said), and where."""

    pH: float = 0.0
    log_aw: float = 0.0
    log_m: float = 0.0
    log_a: float = 0.0
    si: float = 0.0
    moles: float = 0.0  # |n ours - n theirs| / max(n theirs, N_FLOOR_BRINE) of the phases
    water: float = 0.0  # relative mass of water
    where: dict[str, str] = field(default_factory=dict)

    def worst(self, what: str, value: float, name: str) -> None:
        if not (abs(value) <= abs(getattr(self, what))):
            setattr(self, what, abs(value) if math.isfinite(value) else math.inf)
            self.where[what] = name


N_FLOOR_BRINE = 1e-8  # [mol] phase moles compared relative to at least this


def compare(ours, theirs: dict[str, float], case: Brine, floor: float = 1e-12) -> Diff:
    """The differences of one state (``ours``: the step if any, else the solution) against PHREEQC's row.
    Species below ``floor`` mol/kgw in PHREEQC's answer are not compared (their digits are noise of
    PHREEQC's iterations)."""
    d = Diff()
    d.worst("pH", ours.pH - theirs["pH"], "pH")
    d.worst("log_aw", math.log10(ours.water_activity) - theirs["la_H2O"], "H2O")
    d.worst("water", ours.water_mass / theirs["mass_H2O"] - 1.0, "mass_H2O")
    for s in SPECIES:
        mt = theirs.get(f"m_{s}(mol/kgw)", 0.0)
        if not (mt > floor):
            continue
        mo = ours.molality.get(s, 0.0)
        d.worst("log_m", math.log10(mo) - math.log10(mt) if mo > 0 else math.inf, s)
        d.worst("log_a", math.log10(mo) + ours.log_gamma[s] - theirs[f"la_{s}"] if mo > 0 else math.inf, s)
    for p in PHASES:
        si_t = theirs.get(f"si_{p}")
        if si_t is not None and si_t > -999:
            d.worst("si", ours.saturation_index.get(p, -math.inf) - si_t, p)
        if p in case.phases:
            n_o = ours.phase_moles[p]
            n_t = theirs[p]
            d.worst("moles", (n_o - n_t) / max(abs(n_t), N_FLOOR_BRINE), p)
    return d
