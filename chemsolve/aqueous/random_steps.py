"""Random reaction steps as PHREEQC input, run in chemsolve and in IPhreeqc (issue 14, item 5).

``random_case(seed, i)`` writes case ``i`` of seed ``seed`` (deterministic: its own generator,
``numpy.random.default_rng([seed, i])``), one simulation of PHREEQC input:

- SOLUTION 1: 0-150 C; Na and Cl always, K, Ca, Mg, S(6), C(4), Fe (or Fe(2)), Al, Si often, at
  log-uniform totals [mmol/kgw] (major ions 10^U(-2, 2.7), C(4) 10^U(-2, 1.5), Fe and Al
  10^U(-4, -1), Si 10^U(-3, -0.3)); the charge balanced on pH (the anions set near the cations),
  on Cl (cations in excess) or on Na (anions in excess); the pe from O2(g) (``pe 4 O2(g) x``), given
  (``pe v``, the pe of that O2 pressure at the given pH) or from dissolved oxygen with
  ``redox O(0)/O(-2)``;
- EQUILIBRIUM_PHASES 1: 1-4 of ``PHASES``; minerals at SI 0 (80 %) or U(-1, 1), 10^U(-4, 0.5) mol
  or 0 (10 %: precipitate only), dissolve_only (10 % of those with moles) or precipitate_only (5 %);
  CO2(g) at log10 P U(-3.5, 0), O2(g) at log10 P U(lo, -0.7) (lo below);
- REACTION 1: 1-2 salts or formulas of ``REACTANTS`` at 10^U(-5, -1.3) mol per step, or
  evaporation (``H2O -1``, alone or with a salt, 10^U(-1, 1.3) mol of water per step: up to a third
  of a kg), in 1-3 steps (amounts each drawn, not incremental);
- REACTION_TEMPERATURE 1 (half of the cases): one temperature or one per step, U(0, 150) C.

The O2 pressures are kept inside water's stability field, where PHREEQC's model means something:
log10 P(O2) >= max(-80, log10 K(2 H2O = O2(g) + 2 H2(g); T) + 3), i.e. P(H2) below 10^-1.5 atm
(log10 K = -92.5 at 0 C, -83.3 at 25 C, -55.0 at 150 C from phreeqc.dat), at the solution's and at
every step's temperature. That is the only restriction of the issue's ranges ("O2(g) -0.7..-80").

``run_cases(cases, database)`` runs them in chunks (many simulations, one input text per chunk) in
both programs and pairs every calculation (``compare._diff``). PHREEQC and chemsolve both stop a run
at the first calculation that fails; a chunk is then resumed after that case (IPhreeqc: each case of
a failed chunk is rerun alone, which also isolates the failure). Cases where PHREEQC fails are
counted and kept (chemsolve's status and certificate there are still recorded), not compared.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .compare import StepDiff, _diff
from .database import Database, DatabaseWarning, load_database

__all__ = ["PHASES", "REACTANTS", "Case", "CaseResult", "balance_charge", "certificate_failures", "classify",
           "quantiles", "random_case", "random_cases", "run_cases", "solution_lines"]

PHASES = ("Calcite", "Dolomite", "Gypsum", "Anhydrite", "Halite", "Siderite", "Pyrite", "Goethite", "Gibbsite",
          "Kaolinite", "Quartz", "CO2(g)", "O2(g)")
# salts and formulas of REACTION (phase names are formulas too: PHREEQC reads them as their formula)
REACTANTS = ("NaCl", "KCl", "CaCl2", "MgCl2", "Na2SO4", "MgSO4", "CaSO4", "NaHCO3", "Na2CO3", "CaCO3", "CO2", "HCl",
             "NaOH", "FeCl2", "FeSO4", "SiO2", "Al(OH)3", "O2", "CH2O", "Calcite", "Gypsum", "Pyrite", "Halite")
_ELEMENTS = {"Calcite": ("Ca", "C(4)"), "Dolomite": ("Ca", "Mg", "C(4)"), "Gypsum": ("Ca", "S(6)"),
             "Anhydrite": ("Ca", "S(6)"), "Halite": ("Na", "Cl"), "Siderite": ("Fe", "C(4)"), "Pyrite": ("Fe",),
             "Goethite": ("Fe",), "Gibbsite": ("Al",), "Kaolinite": ("Al", "Si"), "Quartz": ("Si",),
             "CO2(g)": ("C(4)",), "O2(g)": ()}
_CHARGE = {"Na": 1, "K": 1, "Ca": 2, "Mg": 2, "Fe": 2, "Fe(2)": 2, "Cl": -1, "S(6)": -2}


@dataclass(frozen=True)
class Case:
    """One random simulation: ``seed``, ``index``, PHREEQC input ``text``, ``n_steps`` reaction steps."""

    seed: int
    index: int
    text: str
    n_steps: int


@dataclass
class CaseResult:
    """A case in both programs: every calculation (``steps``: its SOLUTION, then the reaction steps),
    ``peer_ok`` (PHREEQC converged on all of them), ``peer_error`` (PHREEQC's first error line) and
    ``stopped`` (chemsolve's message where it stopped)."""

    case: Case
    steps: list[StepDiff] = field(default_factory=list)
    peer_ok: bool = True
    peer_error: str = ""
    stopped: str = ""

    @property
    def react(self) -> list[StepDiff]:
        return [d for d in self.steps if d.state == "react"]


class _Logk:
    """log10 K(T) of 2 H2O = O2(g) + 2 H2(g) from the database (water's reducing limit at 1 atm H2)."""

    def __init__(self, db: Database):
        self.db = db

    def __call__(self, T_c: float) -> float:
        T = T_c + 273.15
        sp, ph = self.db.species, self.db.phases
        # 2 H2O = O2 + 4 H+ + 4 e-;  O2(g) = O2;  2 H+ + 2 e- = H2;  H2(g) = H2
        return (sp["O2"].reaction.log_k_at(T) - ph["O2(g)"].reaction.log_k_at(T)
                + 2.0 * (sp["H2"].reaction.log_k_at(T) - ph["H2(g)"].reaction.log_k_at(T)))

    def o2_form(self, T_c: float) -> float:
        """log10 K of O2(g) + 4 H+ + 4 e- = 2 H2O."""
        T = T_c + 273.15
        return -(self.db.species["O2"].reaction.log_k_at(T) - self.db.phases["O2(g)"].reaction.log_k_at(T))


_DB: dict[str, Database] = {}


def _database(database: str | Database) -> Database:
    if isinstance(database, Database):
        return database
    if database not in _DB:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            _DB[database] = load_database(database)
    return _DB[database]


def balance_charge(conc: dict[str, float], rng) -> str:
    """Choose how a random water of totals ``conc`` [mmol/kgw] is charge balanced and make it
    balanceable (``conc`` changed in place): on pH (40 %: Cl set to the cations' charge less sulfate and
    the part of C(4) that is HCO3- at the final pH, U(0.3, 0.95)), on Cl (30 %) or on Na (30 %: Cl raised
    above the other cations' charge). Sulfate and C(4) are scaled down where they would carry more than
    0.9 of the cations' charge. Returns the balancing key ("pH", "Cl" or "Na")."""
    cat = sum(conc.get(e, 0.0) * z for e, z in _CHARGE.items() if z > 0)
    hco3 = conc.get("C(4)", 0.0) * rng.uniform(0.3, 0.95)  # the part of C(4) as HCO3- at the final pH
    charge = str(rng.choice(["pH", "Cl", "Na"], p=[0.4, 0.3, 0.3]))
    if charge in ("pH", "Cl"):
        # the cations carry more than sulfate and bicarbonate: the pH (or Cl) has a root
        an = 2.0 * conc.get("S(6)", 0.0) + hco3
        if an > 0.9 * cat:
            f = 0.9 * cat / an
            for e in ("S(6)", "C(4)"):
                if e in conc:
                    conc[e] *= f
            hco3 *= f
        if charge == "pH":
            conc["Cl"] = cat - 2.0 * conc.get("S(6)", 0.0) - hco3
    else:  # Na adjusted: the anions carry more than the other cations
        others = cat - conc["Na"]
        conc["Cl"] = max(conc["Cl"], 1.1 * others + 0.01)
    return charge


def solution_lines(number: int, T_c: float, pH: float, charge: str, conc: dict[str, float],
                   pe_lines: list[str] = ()) -> list[str]:
    """A SOLUTION block in mmol/kgw, as lines: the totals written to 6 digits, ``charge`` ("pH" or an
    element) balanced; ``pe_lines`` (pe or redox) after the pH."""
    lines = [f"SOLUTION {number}", f"  temp {T_c:.4f}", "  units mmol/kgw",
             f"  pH {pH:.4f}" + (" charge" if charge == "pH" else ""), *pe_lines]
    for e in sorted(conc):
        lines.append(f"  {e} {conc[e]:.6g}" + (" charge" if e == charge else ""))
    return lines


def random_case(seed: int, index: int, database: str | Database = "phreeqc.dat") -> Case:
    """Case ``index`` of ``seed`` (module doc); ``database`` only bounds the O2 pressures."""
    rng = np.random.default_rng([seed, index])
    lk = _Logk(_database(database))
    T0 = float(rng.uniform(0.0, 150.0))
    n_steps = int(rng.integers(1, 4))
    temps: list[float] = []
    if rng.random() < 0.5:
        temps = [float(rng.uniform(0.0, 150.0)) for _ in range(1 if rng.random() < 0.5 else n_steps)]
    # the lowest O2 pressure inside water's stability field at every temperature of the case
    lo = max([-80.0] + [lk(t) + 3.0 for t in [T0] + temps])

    phases = [str(p) for p in rng.choice(PHASES, size=int(rng.integers(1, 5)), replace=False)]
    els = {"Na", "Cl"} | {e for e in ("K", "Ca", "Mg", "S(6)", "C(4)", "Fe", "Al", "Si") if rng.random() < 0.5}
    for p in phases:  # the elements of a phase are in the water most of the time
        els |= {e for e in _ELEMENTS[p] if rng.random() < 0.8}
    if "Fe" in els and rng.random() < 0.4:
        els.discard("Fe")
        els.add("Fe(2)")
    conc: dict[str, float] = {}
    for e in sorted(els):
        if e in ("Al", "Fe", "Fe(2)"):
            conc[e] = 10.0 ** rng.uniform(-4.0, -1.0)
        elif e == "Si":
            conc[e] = 10.0 ** rng.uniform(-3.0, -0.3)
        elif e == "C(4)":
            conc[e] = 10.0 ** rng.uniform(-2.0, 1.5)
        else:
            conc[e] = 10.0 ** rng.uniform(-2.0, 2.7)
    charge = balance_charge(conc, rng)
    pH = float(rng.uniform(5.0, 9.0))
    redox = rng.random()
    logp = float(rng.uniform(lo, -0.7))
    if redox < 0.55:
        pe_lines = [f"  pe 4 O2(g) {logp:.4f}"]
    elif redox < 0.8:  # the pe of that O2 pressure at the given pH (pe + pH = (log K + log P)/4)
        pe_lines = [f"  pe {(lk.o2_form(T0) + logp) / 4.0 - pH:.4f}"]
    else:  # dissolved oxygen (up to ~0.3 mmol/kgw, below saturation with air) sets the pe
        pe_lines = ["  redox O(0)/O(-2)"]
        conc["O(0)"] = 10.0 ** rng.uniform(-4.0, -0.5)
    lines = solution_lines(1, T0, pH, charge, conc, pe_lines)

    lines.append("EQUILIBRIUM_PHASES 1")
    for p in phases:
        if p == "CO2(g)":
            si = rng.uniform(-3.5, 0.0)
        elif p == "O2(g)":
            si = rng.uniform(lo, -0.7)
        else:
            si = 0.0 if rng.random() < 0.8 else rng.uniform(-1.0, 1.0)
        u = rng.random()
        amount = 0.0 if u < 0.1 else 10.0 ** rng.uniform(-4.0, 0.5)
        extra = ""
        if amount > 0 and u > 0.85:
            extra = " dissolve_only" if u < 0.95 else " precipitate_only"
        lines.append(f"  {p} {si:.4f} {amount:.6g}{extra}")

    lines.append("REACTION 1")
    if rng.random() < 0.2:  # evaporation, sometimes with a salt
        lines.append("  H2O -1")
        if rng.random() < 0.5:
            lines.append(f"  {rng.choice(REACTANTS[:10])} {10.0 ** rng.uniform(-4.0, -2.0):.6g}")
        amounts = [10.0 ** rng.uniform(-1.0, 1.3) for _ in range(n_steps)]
    else:
        for f in rng.choice(REACTANTS, size=int(rng.integers(1, 3)), replace=False):
            lines.append(f"  {f} {rng.uniform(0.5, 2.0):.4f}")
        amounts = [10.0 ** rng.uniform(-5.0, -1.3) for _ in range(n_steps)]
    lines.append("  " + " ".join(f"{a:.6g}" for a in amounts) + " moles")
    if temps:
        lines += ["REACTION_TEMPERATURE 1", "  " + " ".join(f"{t:.4f}" for t in temps)]
    lines.append("END")
    return Case(seed, index, "\n".join(lines) + "\n", n_steps)


def random_cases(seed: int, n_steps: int, database: str | Database = "phreeqc.dat") -> list[Case]:
    """Cases 0, 1, ... of ``seed`` until they hold at least ``n_steps`` reaction steps."""
    out: list[Case] = []
    total = 0
    while total < n_steps:
        c = random_case(seed, len(out), database)
        out.append(c)
        total += c.n_steps
    return out


def run_cases(cases: list[Case], database: str = "phreeqc.dat", *, chunk: int = 100) -> list[CaseResult]:
    """Every case in chemsolve (``run_phreeqc_input``) and IPhreeqc, ``chunk`` simulations per input
    text, paired calculation by calculation (module doc)."""
    from .peer import IPhreeqcPeer
    from .phreeqc_input import run_phreeqc_input

    db = _database(database)
    peer = IPhreeqcPeer(database)
    out: list[CaseResult] = []
    for a in range(0, len(cases), chunk):
        part = cases[a:a + chunk]
        # PHREEQC: the chunk, or each case alone when the chunk stops at a failure
        theirs: list[list | None] = [None] * len(part)
        errors = [""] * len(part)
        rows = peer.run("".join(c.text for c in part))
        if rows is not None:
            for r in rows:
                if theirs[r.sim - 1] is None:
                    theirs[r.sim - 1] = []
                theirs[r.sim - 1].append(r)
        else:
            for k, c in enumerate(part):
                theirs[k] = peer.run(c.text)
                if theirs[k] is None:
                    errors[k] = next((ln.strip() for ln in peer.error.splitlines() if ln.strip()), "PHREEQC failed")
        # chemsolve: the chunk, resumed after the case where it stopped
        ours: list[list] = [[] for _ in part]
        stopped = [""] * len(part)
        k0 = 0
        while k0 < len(part):
            run = run_phreeqc_input("".join(c.text for c in part[k0:]), db, name=f"seed {part[0].seed} case "
                                    f"{part[k0].index}+")
            for s in run.steps:
                ours[k0 + s.sim - 1].append(s)
            if not run.stopped:
                break
            last = k0 + run.steps[-1].sim - 1
            stopped[last] = run.stopped
            k0 = last + 1
        for k, c in enumerate(part):
            res = CaseResult(c, peer_ok=theirs[k] is not None, peer_error=errors[k], stopped=stopped[k])
            mine = ours[k]
            if theirs[k] is None:
                res.steps = [StepDiff(s.sim, s.state, s.step, s.result.status.name, _certified(s.result), False,
                                      note="PHREEQC failed") for s in mine]
            else:
                res.steps = [_diff(db, replace(s, sim=c.index), replace(p, sim=c.index))
                             for s, p in zip(mine, theirs[k])]
                for p in theirs[k][len(mine):]:  # chemsolve stopped before these
                    res.steps.append(StepDiff(p.sim, p.state, p.step, "NOT_RUN", False, True,
                                              note="not run: chemsolve stopped at an earlier calculation"))
            have = sum(d.state == "react" for d in res.steps)
            for j in range(have + 1, c.n_steps + 1):  # steps neither program reported (a stop before them)
                res.steps.append(StepDiff(c.index, "react", j, "NOT_RUN", False, theirs[k] is not None,
                                          note="not run: a calculation before it did not converge"))
            for d in res.steps:
                d.sim = c.index  # the case, not the simulation number inside a chunk
            out.append(res)
    return out


def _certified(r) -> bool:
    return r.certificate is not None and bool(r.certificate.passed)


def certificate_failures(results: list[CaseResult]) -> list[tuple[int, StepDiff]]:
    """Calculations refused by chemsolve's own certificate (status CHECK_FAILED), anywhere."""
    return [(r.case.index, d) for r in results for d in r.steps if d.status == "CHECK_FAILED"]


def quantiles(x, qs=(0.5, 0.9, 0.99, 1.0)) -> list[float]:
    a = np.asarray(x, dtype=float)
    return [float(np.quantile(a, q)) if a.size else math.nan for q in qs]


# ------------------------------------------------------------------ what went wrong, by kind
def classify(r: CaseResult) -> str:
    """The outcome of a case: "peer_failed" (PHREEQC did not converge: not compared), "ok" (every
    calculation converged, certified and within the tolerances with only the documented exceptions of
    ``compare``), "check_failed" (chemsolve's certificate refused a state: never allowed),
    "not_converged" (PHREEQC converged, chemsolve did not), or "differs"."""
    if any(d.status == "CHECK_FAILED" for d in r.steps):
        return "check_failed"
    if not r.peer_ok:
        return "peer_failed"
    if any(d.status != "CONVERGED" or not d.certified for d in r.steps):
        return "not_converged"
    if all(d.agrees for d in r.steps):
        return "ok"
    return "differs"
