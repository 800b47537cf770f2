"""chemsolve against IPhreeqc on the same PHREEQC input text, step by step.

``compare_input(text, database)`` runs the input in both (``run_phreeqc_input`` and
``peer.IPhreeqcPeer``) and pairs their calculations in order. For each it reports the differences the
validation reads: pH, pe, log10 molality of every species above 1e-12 mol/kgw in either, saturation
indices, mass of water and the moles of the equilibrium phases (relative to the largest of the phase's
moles before, after, the change and 1e-12 mol), with the species or phase where each is largest.

The pe of a reaction step is fixed by the conservation of electrons. Where almost nothing in the
water can take or give electrons (no redox couple above trace level: gypsum in pure water) PHREEQC
cannot resolve it: its hydrogen balance, which carries the electrons, stops at
``convergence_tolerance x (moles H + 2 moles O)`` (PHREEQC 3.8.6 model.cpp, check_residuals; 1e-8 x
~222 mol per kg of water), and a pe change of dpe moves the electron total by only about
``ln 10 W sum e_i^2 m_i dpe`` (``e_i`` the electrons of species i relative to the primary master
species). A step is *unpoised* when that tolerance allows PHREEQC a pe error above ``TOL_LOG``. In such a step,
when PHREEQC's own state is inside its tolerance on the electrons (computed here from its
molalities), the pe is reported but not compared (``pe_excused`` when it differs by more than
``TOL_LOG``), and what depends on the pe (species with electrons relative to the primary master
species: O2, H2, CH4, HS-...; every species of an element with several valence states, whose
distribution the pe sets; phases of these: pyrite, goethite...) is reported apart and not compared;
chemsolve's certificate holds its own electron balance to 1e-9 relative. Everything else (pH, the
other species and saturation indices, the mass of water, all phase moles) is compared in every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..status import Status
from .database import Database, load_database
from .system import chem

__all__ = ["TOL_LOG", "TOL_REL", "Comparison", "StepDiff", "compare_input"]

TOL_LOG = 1e-5  # pH, pe, log10 molality, SI: the agreement
TOL_REL = 1e-6  # mass of water and phase moles, relative
M_FLOOR = 1e-12  # [mol/kgw] species compared when above it in either program
N_FLOOR = 1e-12  # [mol] phase moles are compared relative to at least this (1e-33 mol and 0 are the same)
PHREEQC_TOL = 1e-8  # PHREEQC's default convergence_tolerance (Phreeqc.cpp)
PURE_WATER_NOTE = ("pure water (no solutes): PHREEQC reports its starting point without iterating (with pH 7 "
                   "given it prints pH 6.99993; with 1e-10 mol Na added, 7.0)")


@dataclass
class StepDiff:
    """One calculation in both programs (see the module doc)."""

    sim: int
    state: str
    step: int
    status: str  # chemsolve's
    certified: bool  # chemsolve's certificate passed
    peer_ok: bool
    poised: bool = True
    pe_resolution: float = 0.0  # the pe error PHREEQC's convergence criterion allows (react steps)
    peer_e_residual: float = 0.0  # |electrons in PHREEQC's state - electrons conserved| [mol]
    pe_excused: bool = False  # unpoised, pe differs, PHREEQC's state inside its tolerance: pe not compared
    dlogm_redox: float = 0.0  # the largest difference of pe-dependent species (not compared where PHREEQC
    dsi_redox: float = 0.0  # cannot resolve the pe)
    e_tolerance: float = 0.0  # PHREEQC's tolerance on that residual [mol]
    dpH: float = 0.0
    dpe: float = 0.0
    dlogm: float = 0.0
    dlogm_where: str = ""
    dsi: float = 0.0
    dsi_where: str = ""
    dW: float = 0.0
    dphase: float = 0.0
    dphase_where: str = ""
    dsorbed: float = 0.0  # |log10 moles| of exchange and surface species (above N_FLOOR mol in either)
    dsorbed_where: str = ""
    n_species: int = 0
    n_phases: int = 0
    note: str = ""
    dlogm_all: list[float] = field(default_factory=list, repr=False)
    dsi_all: list[float] = field(default_factory=list, repr=False)
    dphase_all: list[float] = field(default_factory=list, repr=False)
    dsorbed_all: list[float] = field(default_factory=list, repr=False)

    @property
    def agrees(self) -> bool:
        """Within the tolerances on everything compared (pe and what depends on it unless excused)."""
        if not (self.peer_ok and self.status == "CONVERGED" and self.certified):
            return False
        logs = [self.dpH, self.dlogm, self.dsi, self.dsorbed] + ([] if self.pe_excused else [self.dpe])
        return all(d <= TOL_LOG for d in logs) and self.dW <= TOL_REL and self.dphase <= TOL_REL


@dataclass
class Comparison:
    steps: list[StepDiff]
    peer_error: str = ""
    n_ours: int = 0
    n_peer: int = 0
    stopped: str = ""  # chemsolve's run stopped early (a calculation did not converge)

    @property
    def aligned(self) -> bool:
        return self.n_ours == self.n_peer and not self.peer_error


def _electrons_of_formula(c, elements: dict[str, float]) -> float:
    return c.formula_invariants(elements)[2]


def compare_input(text: str, database: str | Database = "phreeqc.dat", *, name: str = "input") -> Comparison:
    """Run ``text`` in chemsolve and in IPhreeqc (on the same database file) and compare step by step."""
    from .peer import IPhreeqcPeer
    from .phreeqc_input import run_phreeqc_input

    db = database if isinstance(database, Database) else load_database(database)
    ours = run_phreeqc_input(text, db, name=name)
    peer = IPhreeqcPeer(db.path if isinstance(database, Database) else database)
    theirs = peer.run(text)
    if theirs is None:  # PHREEQC did not converge somewhere (it stops there): chemsolve's steps, unpaired
        err = peer.error.strip().splitlines()[0] if peer.error.strip() else "PHREEQC failed"
        alone = [StepDiff(a.sim, a.state, a.step, a.result.status.name,
                          a.result.certificate is not None and bool(a.result.certificate.passed), False,
                          note="PHREEQC failed") for a in ours.steps]
        return Comparison(alone, err, len(ours.steps), 0, ours.stopped)
    dbx = ours.steps[0].result.state.db if ours.steps and getattr(ours.steps[0].result, "state", None) else db
    out = [_diff(dbx, a, b) for a, b in zip(ours.steps, theirs)]
    return Comparison(out, "", len(ours.steps), len(theirs), ours.stopped)


def _diff(db: Database, a, b) -> StepDiff:
    r = a.result
    c = chem(db)
    st = r.status.name
    cert = r.certificate is not None and bool(r.certificate.passed)
    d = StepDiff(a.sim, a.state, a.step, st, cert, True)
    if (a.sim, a.state) != (b.sim, b.state) or (a.state == "react" and a.step != b.step):
        d.peer_ok = False
        d.note = f"misaligned: ours {a.sim}/{a.state}/{a.step}, PHREEQC {b.sim}/{b.state}/{b.step}"
        return d
    if r.status != Status.CONVERGED:
        d.note = r.message.splitlines()[0][:160]
        return d
    if a.state == "i_soln" and not any(v > 0 for v in (r.totals or {}).values()):
        d.note = PURE_WATER_NOTE
    W = float(getattr(r, "water_mass", 1.0))
    e_sp = {s: c.canon.get(s, (0.0, 0.0, 0.0))[1] for s in r.molality}
    if a.state == "react":
        # the pe PHREEQC's hydrogen balance can resolve (module doc)
        beta = math.log(10.0) * W * sum(e_sp[s] ** 2 * m for s, m in r.molality.items())
        n_h = sum(m * c.counts.get(s, {}).get("H", 0.0) for s, m in r.molality.items()) * W + 2.0 * W / c.gfw_water
        n_o = sum(m * c.counts.get(s, {}).get("O", 0.0) for s, m in r.molality.items()) * W + W / c.gfw_water
        d.e_tolerance = PHREEQC_TOL * (n_h + 2.0 * n_o)
        d.pe_resolution = d.e_tolerance / beta if beta > 0 else math.inf
        d.poised = d.pe_resolution <= TOL_LOG
        e_ours = sum(e_sp[s] * m for s, m in r.molality.items()) * W
        e_peer = sum(c.canon.get(s, (0.0, 0.0, 0.0))[1] * 10.0 ** lm for s, lm in b.log_molality.items()) * b.water_mass
        d.peer_e_residual = abs(e_peer - e_ours)
    d.dpH = abs(r.pH - b.pH)
    d.dpe = abs(r.pe - b.pe)
    # PHREEQC cannot resolve the pe here, and its own state shows it: what depends on the pe (species
    # with electrons, every species of an element with several valence states, phases of these) is
    # reported apart (dlogm_redox, dsi_redox) and not compared
    unresolved = a.state == "react" and not d.poised and d.peer_e_residual <= d.e_tolerance
    d.pe_excused = unresolved and d.dpe > TOL_LOG
    redox_el = {k.split("(")[0] for k in db.masters if "(" in k}

    def pe_dependent(elements: dict, e: float) -> bool:
        return e != 0.0 or any(el in redox_el for el in elements)

    sp_all, sp_r = [], []
    for s in set(b.log_molality) | {k for k, m in r.molality.items() if m > M_FLOOR}:
        lp = b.log_molality.get(s, -math.inf)
        mo = r.molality.get(s, 0.0)
        if max(10.0 ** lp if lp > -300 else 0.0, mo) <= M_FLOOR:
            continue
        dd = abs(math.log10(mo) - lp) if (mo > 0 and lp > -300) else math.inf
        if pe_dependent(c.counts.get(s, {}), c.canon.get(s, (0.0, 0.0, 0.0))[1]):
            sp_r.append((dd, s))
            if unresolved:
                continue
        sp_all.append((dd, s))
    si_all, si_r = [], []
    for p, sp in b.saturation_index.items():
        if sp <= -998.0:
            continue  # PHREEQC's "not computed"
        so = r.saturation_index.get(p)
        dd = abs(so - sp) if (so is not None and math.isfinite(so)) else math.inf
        if p in db.phases and pe_dependent(db.phases[p].elements, _electrons_of_formula(c, db.phases[p].elements)):
            si_r.append((dd, p))
            if unresolved:
                continue
        si_all.append((dd, p))
    d.dlogm, d.dlogm_where = max(sp_all, default=(0.0, ""))
    d.dsi, d.dsi_where = max(si_all, default=(0.0, ""))
    d.dlogm_all, d.dsi_all = [x for x, _ in sp_all], [x for x, _ in si_all]
    d.n_species, d.n_phases = len(sp_all), len(si_all)
    d.dlogm_redox = max((x for x, _ in sp_r), default=0.0)
    d.dsi_redox = max((x for x, _ in si_r), default=0.0)
    d.dW = abs(W - b.water_mass) / b.water_mass
    worst, where, alld = 0.0, "", []
    if a.state == "react":
        pm = dict(getattr(r, "phase_moles", {}) or {})
        pd = dict(getattr(r, "phase_dissolved", {}) or {})
        for p, mp in b.phase_moles.items():
            mo = pm.get(p)
            if mo is None:
                dd = math.inf
            else:
                scale = max(abs(mp), abs(mo + pd.get(p, 0.0)), abs(pd.get(p, 0.0)), N_FLOOR)
                dd = abs(mo - mp) / scale
            alld.append(dd)
            if dd > worst or not where:
                worst, where = dd, p
    d.dphase, d.dphase_where, d.dphase_all = worst, where, alld
    # the exchange and surface species of the calculation (an initial exchanger's or surface's alone)
    kinds = {"i_exch": ("exchange",), "i_surf": ("surface",), "react": ("exchange", "surface")}.get(a.state, ())
    kinds = tuple(k for k in kinds if hasattr(a, k))  # a record without them (random_exchange's) compares its own
    mine: dict[str, float] = {}
    for kind in kinds:
        mine.update(getattr(a, kind, None) or {})
    table = {**db.exchange_species, **db.surface_species}
    theirs: dict[str, float] = {}
    for kind in kinds:
        theirs.update(getattr(b, kind))
    sb_all = []
    for s in set(theirs) | set(mine):
        mp, mo = theirs.get(s, 0.0), mine.get(s, 0.0)
        if max(mp, mo) <= N_FLOOR:
            continue
        if unresolved and s in table and pe_dependent({e: n for e, n in table[s].elements.items()
                                                      if e not in ("H", "O")}, 0.0):
            continue  # its element's valence follows the pe PHREEQC does not resolve here
        sb_all.append((abs(math.log10(mo) - math.log10(mp)) if mo > 0 and mp > 0 else math.inf, s))
    d.dsorbed, d.dsorbed_where = max(sb_all, default=(0.0, ""))
    d.dsorbed_all = [x for x, _ in sb_all]
    return d


def summary(steps: list[StepDiff]) -> dict[str, np.ndarray]:
    """The distribution of every difference over steps where both converged: name -> sorted array."""
    ok = [s for s in steps if s.peer_ok and s.status == "CONVERGED"]
    return {"pH": np.sort([s.dpH for s in ok]), "pe": np.sort([s.dpe for s in ok if not s.pe_excused]),
            "log10 m": np.sort([x for s in ok for x in s.dlogm_all]), "SI": np.sort([x for s in ok for x in s.dsi_all]),
            "water mass": np.sort([s.dW for s in ok]), "phase moles": np.sort([x for s in ok for x in s.dphase_all]),
            "log10 sorbed moles": np.sort([x for s in ok for x in s.dsorbed_all])}


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.1e}"


def markdown(paths, database: str = "phreeqc.dat") -> str:
    """The table of docs/guide/phreeqc_examples.md: one row per input file, then the distribution of
    every difference over all steps."""
    import platform
    from importlib.metadata import version
    from pathlib import Path

    rows, everything = [], []
    for p in paths:
        p = Path(p)
        c = compare_input(p.read_text(), database, name=p.name)
        st = c.steps
        everything += st
        agree = sum(d.agrees for d in st)
        pure = [d for d in st if not d.agrees and d.note == PURE_WATER_NOTE]
        other = [d for d in st if not d.agrees and d.note != PURE_WATER_NOTE]
        ok = [d for d in st if d.status == "CONVERGED" and d.peer_ok and d.note != PURE_WATER_NOTE]
        why = []
        if pure:
            why.append(f"{len(pure)} pure-water SOLUTION (dpH {_fmt(max(d.dpH for d in pure))})")
        if other:
            why.append(f"{len(other)} other: " + "; ".join(f"sim {d.sim} {d.state} {d.step} {d.note or d.status}"
                                                          for d in other[:3]))
        cnv = sum(d.status == "CONVERGED" for d in st)
        cert = sum(d.certified for d in st)
        rows.append(
            f"| {p.stem} | {len(st)} | {cnv} | {cert} | {agree} | {'; '.join(why) or '-'} | "
            f"{sum(d.pe_excused for d in st)} | "
            f"{_fmt(max((d.dpH for d in ok if d.note != PURE_WATER_NOTE), default=0))} | "
            f"{_fmt(max((d.dpe for d in ok if not d.pe_excused), default=0))} | "
            f"{_fmt(max((d.dlogm for d in ok), default=0))} | "
            f"{_fmt(max((d.dsi for d in ok), default=0))} | {_fmt(max((d.dW for d in ok), default=0))} | "
            f"{_fmt(max((d.dphase for d in ok), default=0))} | {_fmt(max((d.dsorbed for d in ok), default=0))} |")
    head = ("| input | steps | chemsolve converged | certified | agree | differ (why) | pe not resolved by PHREEQC | "
            "max dpH | max dpe | max dlog10 m | max dSI | max dW (rel) | max dphase (rel) | max dlog10 sorbed |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    dist = summary([d for d in everything if d.note != PURE_WATER_NOTE])
    qs = (0.5, 0.9, 0.99, 1.0)
    drows = ["| quantity | n | median | 90% | 99% | max |", "|---|---|---|---|---|---|"]
    for k, a in dist.items():
        if a.size:
            drows.append(f"| {k} | {a.size} | " + " | ".join(_fmt(float(np.quantile(a, q))) for q in qs) + " |")
    return (f"Generated by `python -m chemsolve.aqueous.compare --markdown` with IPhreeqc "
            f"(PyPI phreeqc {version('phreeqc')}, PHREEQC 3.8.6), database {database}, Python "
            f"{platform.python_version()}.\n\n" + head + "\n" + "\n".join(rows)
            + "\n\nDistribution of the differences over every compared step (and, for log10 m, SI and phase "
            "moles, every species or phase) of all inputs but the pure-water SOLUTIONs:\n\n" + "\n".join(drows) + "\n")


if __name__ == "__main__":
    import argparse
    import sys
    from pathlib import Path

    ap = argparse.ArgumentParser(description="chemsolve vs IPhreeqc on PHREEQC input files")
    ap.add_argument("inputs", nargs="*", help="input files (default: the bundled examples of the tests)")
    ap.add_argument("--database", default="phreeqc.dat")
    ap.add_argument("--markdown", action="store_true", help="print the markdown table")
    a = ap.parse_args()
    import re

    files = a.inputs or sorted(  # ex1, ex2, ..., ex10: by the number in the name
        (Path(__file__).resolve().parents[2] / "tests" / "data" / "phreeqc_examples").glob("*.pqi"),
        key=lambda f: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f.stem)])
    if a.markdown:
        sys.stdout.write(markdown(files, a.database))
    else:
        for f in files:
            c = compare_input(Path(f).read_text(), a.database, name=Path(f).name)
            print(f, f"{sum(d.agrees for d in c.steps)}/{len(c.steps)} agree", c.peer_error)
