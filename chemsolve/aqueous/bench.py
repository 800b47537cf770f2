"""``chemsolve bench aqueous``: chemsolve against PHREEQC (IPhreeqc, the PyPI package ``phreeqc``) in one
process, on the same database file and the same waters.

Three cases, each timed per water, with the count of waters solved beside every time (chemsolve:
converged and certified; PHREEQC: answered without an error), so that a fast failure never reads as a
win:

- **initial solutions** (PHREEQC's SOLUTION): ``n`` random waters (``chemsolve.bench.waters``). PHREEQC:
  one ``RunString`` per water with a one-column SELECTED_OUTPUT (pH; the ratios are against this row),
  and again reading back what chemsolve returns (every species' molality and 8 saturation indices,
  through a BASIC loop: the agreement run); chemsolve: ``speciate`` one call per water, and
  ``speciate_batch`` on 1 and 2 threads.
- **reaction steps with calcite and dolomite** (PHREEQC's ``USE solution i`` + EQUILIBRIUM_PHASES
  Calcite 0 10, Dolomite 0 10): the same waters, their initial solutions stored beforehand in both
  programs (not timed). PHREEQC: one ``RunString`` per water (its start: the stored solution);
  chemsolve: ``react`` one call per water, and one batch call (``warm_start=False``: each row from its
  own stored water, as PHREEQC) on 1 and 2 threads.
- **a warm sequence** (as in a transport step: each water slightly changed from the last): a
  calcite-dolomite water to which 2e-5 mol CO2 and 2e-5 mol NaCl are added per step, with the phases.
  PHREEQC: one ``RunString`` per step that USEs and SAVEs the solution and the assemblage (each step
  starts from the last, PhreeqcRM's pattern); chemsolve: one ``react`` call per step from the last
  step's state and assemblage, and one batch call of all the steps (``warm_start=True``: each row
  starts from the previous row's solution) on 1 and 2 threads.

- **reaction steps with an exchanger, calcite and dolomite** (PHREEQC's ``USE solution i`` + ``USE
  exchange i`` + the two phases): the same stored waters, each with its own exchanger by composition
  (NaX, KX, CaX2, MgX2 at 10^U(-3.5, -1.5) mol each, drawn from ``EX_SEED``), stored beforehand in both
  programs (not timed). PHREEQC: one ``RunString`` per water; chemsolve: ``react(..., exchange=...)`` one
  call per water, and one batch call with one exchanger per row (``warm_start=False``) on 1 and 2
  threads.

Agreement, where both answered: initial solutions as the speciation tests (``chemsolve.bench.AQ_TOL``
on pH, log10 molality above 1e-12 mol/kgw, SI, read through PHREEQC's full output in a separate, untimed
run); reaction steps and the sequence on pH (``compare.TOL_LOG``) and the moles of both phases
(``compare.TOL_REL`` relative, as the PHREEQC example tests); with the exchanger also the moles of every
exchange species above 1e-12 mol (``compare.TOL_REL`` relative, as tests/test_aqueous_exchange.py). The
first calls (numba compile, or loading the disk cache) are reported apart. Batches are the best of 3. Do
not draw conclusions from a busy machine.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["SEQ_STEP", "suite"]

PHASES = {"Calcite": (0.0, 10.0), "Dolomite": (0.0, 10.0)}
SEQ_STEP = 2e-5  # [mol] CO2 and NaCl added per step of the warm sequence
SEQ_WATER = {"Ca": 1.2e-3, "Mg": 4e-4, "Na": 2e-3, "K": 1e-4, "Cl": 2.1e-3, "S(6)": 3e-4, "C(4)": 4e-3}  # mol/kgw
_SEL = "SELECTED_OUTPUT 1\n -reset false\n -pH true\n -equilibrium_phases Calcite Dolomite\n"
_EQ = "EQUILIBRIUM_PHASES 1\n Calcite 0 10\n Dolomite 0 10\n"
EX_SPECIES = ("NaX", "KX", "CaX2", "MgX2")
EX_SEED = 15  # the exchangers of the waters
_SEL_X = (f"SELECTED_OUTPUT 1\n -reset false\n -pH true\n -water true\n -equilibrium_phases Calcite Dolomite\n"
          f" -molalities {' '.join(EX_SPECIES)}\n")


def _solution_text(i: int, totals: dict[str, float], T: float, pH: float | None) -> str:
    lines = [f"SOLUTION {i}", f" temp {T - 273.15:.15g}", " units mol/kgw", " pe 4",
             f" pH {pH:.15g}" if pH is not None else " pH 7 charge"]
    return "\n".join(lines + [f" {k} {v:.17g}" for k, v in totals.items()]) + "\n"


def _solution(db, totals: dict[str, float], T: float, pH: float | None):
    from .solution import Solution

    return Solution(db, totals=totals, units="mol/kgw", T=T, pH=7.0 if pH is None else pH,
                    charge="pH" if pH is None else None).speciate()


def _last(ip) -> dict[str, float] | None:
    """The last row of IPhreeqc's selected output: pH and the moles of Calcite and Dolomite after the step."""
    out = ip.GetSelectedOutput()
    try:
        return {"pH": float(out["pH"][-1]), "Calcite": float(out["Calcite"][-1]),
                "Dolomite": float(out["Dolomite"][-1])}
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def exchangers(n: int, seed: int = EX_SEED) -> list[dict[str, float]]:
    """n exchangers by composition (module doc), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return [{s: float(10.0 ** rng.uniform(-3.5, -1.5)) for s in EX_SPECIES} for _ in range(n)]


def _last_x(ip) -> dict[str, float] | None:
    """``_last`` and the moles of every exchange species (PHREEQC reports them per kg of water)."""
    out = ip.GetSelectedOutput()
    row = _last(ip)
    try:
        W = float(out["mass_H2O"][-1])
        ex = {s: float(out[f"m_{s}(mol/kgw)"][-1]) * W for s in EX_SPECIES}
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None if row is None else {**row, "exchange": ex}


def _step_diff(pH: float, moles: dict[str, float], before: dict[str, float], theirs: dict[str, float]) -> tuple:
    """(|d pH|, largest relative difference of the phases' moles), the relative one against the largest of
    the moles before, after and 1e-12 mol (``compare``'s scale)."""
    d_ph = abs(pH - theirs["pH"])
    d_n = max(abs(moles[p] - theirs[p]) / max(abs(before[p]), abs(theirs[p]), 1e-12) for p in ("Calcite", "Dolomite"))
    return d_ph, d_n


def suite(n: int, peer: str | None, log: Callable[[str], None]) -> Any:
    from .. import bench as B
    from ..kernels import threads
    from . import DatabaseWarning, load_database, react, speciate, speciate_batch
    from .compare import TOL_LOG, TOL_REL

    t_used, t_most = threads()
    counts = sorted({1, min(2, t_most)})
    rep = B.Report("aqueous", f"{n} random waters (Na K Ca Mg Cl S(6) C(4) 1e-6..1 mol/kgw, 0-90 C, pH 2-12 or charge "
                   f"balance): initial solutions, then reaction steps with calcite + dolomite; a warm sequence of "
                   f"{n} steps; phreeqc.dat", n, t_used,
                   f"PHREEQC (IPhreeqc, phreeqc {peer}), the same database file" if peer
                   else "PHREEQC (phreeqc): peer not installed")
    warnings.simplefilter("ignore", DatabaseWarning)
    db = load_database("phreeqc.dat")
    W = list(B.waters(n))
    tot = {k: np.array([w[0][k] for w in W]) for k in B.MAJORS}
    Tb = np.array([w[1] for w in W])
    pHb = np.array([np.nan if w[2] is None else w[2] for w in W])
    seq_amt = SEQ_STEP * np.arange(1, n + 1)
    log("aqueous: first calls (the aqueous kernels: numba compile on a cold cache, else cache load)")
    base = _solution(db, SEQ_WATER, 298.15, None)

    def first() -> None:
        speciate(db, {"Na": 1e-3, "Cl": 1e-3}, 298.15, 7.0)
        speciate_batch(db, {k: v[:2] for k, v in tot.items()}, Tb[:2], pHb[:2], chunk=1)
        react(base, phases=PHASES)
        react([base, base], phases=PHASES, chunk=1)
        react([base, base], phases=PHASES, exchange=exchangers(2), chunk=1)

    rep.compile_s = B.first_call(first)
    ip = None
    if peer:
        import phreeqc

        ip = phreeqc.Phreeqc()
        if ip.LoadDatabase(str(db.path)) != 0:
            raise RuntimeError(ip.GetErrorString())

    def batch_rows(case: str, what: str, fn: Callable[[], Any], total: int) -> Any:
        """One row per thread count: ``fn`` best of 3, time per water over ``total``; the last result."""
        out = None
        for k in counts:
            threads(k)
            t, out = B.best_of(fn, 3)
            rep.rows.append(B.Row(case, f"chemsolve {what}, {B._threads_text(k)}", int(out.success.sum()), total,
                                  t / max(total, 1), B._med(out.nit)))
        threads(t_used)
        return out

    # ---------------------------------------------------------------- (a) initial solutions
    case = f"initial solutions, {n} random waters"
    log(f"aqueous: {case}")
    if ip is not None:
        t0 = time.perf_counter()
        ok = 0
        for w in W:
            ok += ip.RunString("SELECTED_OUTPUT 1\n -reset false\n -pH true\n" + _solution_text(1, *w) + "END\n") == 0
            ip.GetSelectedOutput()
        rep.rows.append(B.Row(case, "PHREEQC, RunString per water", ok, n, (time.perf_counter() - t0) / n, peer=True))
    t0 = time.perf_counter()
    ours = [speciate(db, *w) for w in W]
    rep.rows.append(B.Row(case, "chemsolve speciate, one call per water", sum(r.success for r in ours), n,
                          (time.perf_counter() - t0) / n, B._med(r.nit for r in ours)))
    b = batch_rows(case, "speciate_batch", lambda: speciate_batch(db, tot, Tb, pHb, warm_start=False), n)

    # ---------------------------------------------------------------- (b) reaction steps
    case = f"reaction steps, calcite + dolomite, {n} waters"
    log(f"aqueous: {case}")
    sols = [_solution(db, *w) for w in W]  # the stored initial solutions (not timed)
    keep = [i for i, s in enumerate(sols) if s.state is not None]
    theirs_b: list[dict[str, float] | None] = [None] * n
    if ip is not None:
        ip.RunString("".join(_solution_text(i + 1, *W[i]) for i in keep) + "END\n")
        t0 = time.perf_counter()
        for i in keep:
            if ip.RunString(f"{_SEL}USE solution {i + 1}\n{_EQ}END\n") == 0:
                theirs_b[i] = _last(ip)
        rep.rows.append(B.Row(case, "PHREEQC, RunString per water (USE solution i)",
                              sum(t is not None for t in theirs_b), len(keep),
                              (time.perf_counter() - t0) / max(len(keep), 1), peer=True))
    states = [sols[i] for i in keep]
    t0 = time.perf_counter()
    one = [react(s, phases=PHASES) for s in states]
    rep.rows.append(B.Row(case, "chemsolve react, one call per water", sum(r.success for r in one), len(keep),
                          (time.perf_counter() - t0) / max(len(keep), 1), B._med(r.nit for r in one)))
    rb = batch_rows(case, "react batch (cold: each row from its own water)",
                    lambda: react(states, phases=PHASES, warm_start=False), len(keep)) if keep else None

    # ---------------------------------------------------------------- (c) the warm sequence
    case = f"warm sequence, {n} steps (+{SEQ_STEP:g} mol CO2 and NaCl each), calcite + dolomite"
    log(f"aqueous: {case}")
    theirs_c: list[dict[str, float] | None] = [None] * n
    if ip is not None:
        ip.RunString(_solution_text(1, SEQ_WATER, 298.15, None) + "END\n")
        tail = f"REACTION 1\n CO2 1\n NaCl 1\n {SEQ_STEP:.17g} moles\nSAVE solution 1\nSAVE equilibrium_phases 1\nEND\n"
        first_step = f"{_SEL}USE solution 1\n{_EQ}{tail}"  # the assemblage defined with the first step
        step = f"{_SEL}USE solution 1\nUSE equilibrium_phases 1\n{tail}"
        t0 = time.perf_counter()
        for i in range(n):
            if ip.RunString(step if i else first_step) != 0:
                break
            theirs_c[i] = _last(ip)
        rep.rows.append(B.Row(case, "PHREEQC, RunString per step (USE and SAVE the solution and phases)",
                              sum(t is not None for t in theirs_c), n, (time.perf_counter() - t0) / n, peer=True))
    t0 = time.perf_counter()
    seq_one = []
    cur, have = base, dict.fromkeys(PHASES, 10.0)
    for _ in range(n):
        r = react(cur, phases={p: (0.0, have[p]) for p in PHASES}, reaction={"CO2": SEQ_STEP, "NaCl": SEQ_STEP})
        seq_one.append(r)
        if not r.success:
            break
        cur, have = r, dict(r.phase_moles)
    rep.rows.append(B.Row(case, "chemsolve react, one call per step from the last", sum(r.success for r in seq_one),
                          n, (time.perf_counter() - t0) / n, B._med(r.nit for r in seq_one)))
    rc = batch_rows(case, "react batch (warm: each row from the previous)",
                    lambda: react(base, phases=PHASES, reaction={"CO2": seq_amt, "NaCl": seq_amt}, warm_start=True), n)

    # ---------------------------------------------------------------- (d) reaction steps with an exchanger
    case = f"reaction steps, exchanger + calcite + dolomite, {n} waters"
    log(f"aqueous: {case}")
    EX = exchangers(n)
    theirs_d: list[dict | None] = [None] * n
    if ip is not None:  # the waters again (the sequence (c) saved over solution 1) and the exchangers (not timed)
        ip.RunString("".join(_solution_text(i + 1, *W[i]) for i in keep) + "END\n"
                     + "".join(f"EXCHANGE {i + 1}\n" + "".join(f" {s} {v:.17g}\n" for s, v in EX[i].items())
                             for i in keep) + "END\n")
        t0 = time.perf_counter()
        for i in keep:
            if ip.RunString(f"{_SEL_X}USE solution {i + 1}\nUSE exchange {i + 1}\n{_EQ}END\n") == 0:
                theirs_d[i] = _last_x(ip)
        rep.rows.append(B.Row(case, "PHREEQC, RunString per water (USE solution i, USE exchange i)",
                              sum(t is not None for t in theirs_d), len(keep),
                              (time.perf_counter() - t0) / max(len(keep), 1), peer=True))
    exs = [EX[i] for i in keep]
    t0 = time.perf_counter()
    one_x = [react(s, phases=PHASES, exchange=e) for s, e in zip(states, exs)]
    rep.rows.append(B.Row(case, "chemsolve react, one call per water", sum(r.success for r in one_x), len(keep),
                          (time.perf_counter() - t0) / max(len(keep), 1), B._med(r.nit for r in one_x)))
    rd = batch_rows(case, "react batch (cold, one exchanger per row)",
                    lambda: react(states, phases=PHASES, exchange=exs, warm_start=False), len(keep)) if keep else None

    theirs_e, ours_e, rows_e = _pitzer_brines(rep, n, ip is not None, batch_rows, log)

    if ip is None:
        return rep.finish()
    # ---------------------------------------------------------------- agreement
    pq = B.PhreeqcPeer("phreeqc.dat")
    t0 = time.perf_counter()
    full = [pq.solution(*w, 4.0, B.PHASES) for w in W]
    at = next(j for j, r in enumerate(rep.rows) if r.peer and r.case.startswith("initial solutions")) + 1
    rep.rows.insert(at, B.Row(rep.rows[at - 1].case, "PHREEQC, RunString per water, every species' molality and 8 SIs "
                              "read back (BASIC SYS loop)", sum(f is not None for f in full), n,
                              (time.perf_counter() - t0) / n))
    col = {s: j for j, s in enumerate(b.species)}
    pcol = {p: j for j, p in enumerate(b.phases)}
    d: dict[str, list[float]] = {"pH": [], "log10 molality (> 1e-12 mol/kgw)": [], "saturation index": []}
    for r, (th, o) in enumerate(zip(full, ours)):
        if th is None:
            continue
        diffs = []
        if o.success:
            diffs.append(B.aqueous_diff(o.pH, o.molality, o.saturation_index, th))
        if b.success[r]:
            diffs.append(B.aqueous_diff(b.pH[r], {s: b.molality[r, col[s]] for s in th.log_molality if s in col},
                                        {p: b.saturation_index[r, pcol[p]] for p in th.saturation_index if p in pcol},
                                        th))
        for dd in diffs:
            for key, v in zip(d, dd):
                d[key].append(v)
    for key, v in d.items():
        rep.checks.append(B.Check(f"initial solutions: {key}, speciate and speciate_batch", max(v, default=0.0),
                                  B.AQ_TOL, "tests/test_aqueous_speciation.py TOL", len(v),
                                  sum(x > B.AQ_TOL for x in v)))
    before = dict.fromkeys(PHASES, 10.0)
    dph: list[float] = []
    dn: list[float] = []
    for j, i in enumerate(keep):
        th = theirs_b[i]
        if th is None:
            continue
        for pH, moles in ([(one[j].pH, one[j].phase_moles)] if one[j].success else []) + \
                ([(float(rb.pH[j]), dict(zip(rb.eq_phases, rb.phase_moles[j].tolist())))]
                 if rb is not None and rb.success[j] else []):
            a, c = _step_diff(pH, moles, before, th)
            dph.append(a)
            dn.append(c)
    last = dict(before)
    for i in range(n):
        th = theirs_c[i]
        if th is None:
            continue
        rows = []
        if i < len(seq_one) and seq_one[i].success:
            rows.append((seq_one[i].pH, seq_one[i].phase_moles))
        if rc is not None and rc.success[i]:
            rows.append((float(rc.pH[i]), dict(zip(rc.eq_phases, rc.phase_moles[i].tolist()))))
        for pH, moles in rows:
            a, c = _step_diff(pH, moles, last, th)
            dph.append(a)
            dn.append(c)
        last = {p: th[p] for p in PHASES}
    src = "tests/test_phreeqc_examples.py (compare.TOL_LOG, TOL_REL)"
    rep.checks.append(B.Check("reaction steps and sequence: pH", max(dph, default=0.0), TOL_LOG, src, len(dph),
                              sum(x > TOL_LOG for x in dph)))
    rep.checks.append(B.Check("reaction steps and sequence: calcite, dolomite moles (relative)", max(dn, default=0.0),
                              TOL_REL, src, len(dn), sum(x > TOL_REL for x in dn)))
    from .random_exchange import moles_diff

    dph_x: list[float] = []
    dn_x: list[float] = []
    dex: list[float] = []
    for j, i in enumerate(keep):
        th = theirs_d[i]
        if th is None:
            continue
        rows = [(one_x[j].pH, one_x[j].phase_moles, one_x[j].exchange)] if one_x[j].success else []
        if rd is not None and rd.success[j]:
            rows.append((float(rd.pH[j]), dict(zip(rd.eq_phases, rd.phase_moles[j].tolist())),
                         dict(zip(rd.exchange_species, rd.exchange[j].tolist()))))
        for pH, moles, ex in rows:
            a, c = _step_diff(pH, moles, before, th)
            dph_x.append(a)
            dn_x.append(c)
            dex.append(moles_diff(ex, th["exchange"])[0])
    src_x = "tests/test_aqueous_exchange.py (compare.TOL_LOG, TOL_REL)"
    rep.checks.append(B.Check("reaction steps with an exchanger: pH", max(dph_x, default=0.0), TOL_LOG, src_x,
                              len(dph_x), sum(x > TOL_LOG for x in dph_x)))
    rep.checks.append(B.Check("reaction steps with an exchanger: calcite, dolomite moles (relative)",
                              max(dn_x, default=0.0), TOL_REL, src_x, len(dn_x), sum(x > TOL_REL for x in dn_x)))
    rep.checks.append(B.Check("reaction steps with an exchanger: exchange species moles (relative, > 1e-12 mol)",
                              max(dex, default=0.0), TOL_REL, src_x, len(dex), sum(x > TOL_REL for x in dex)))
    dph_e = [abs(o - t) for o, t in zip(ours_e, theirs_e) if t is not None and o is not None]
    dph_e += [abs(o - t) for o, t in zip(rows_e, theirs_e) if t is not None and o is not None]
    src_e = "tests/test_aqueous_activity_models.py (compare.TOL_LOG; PHREEQC at its default tolerance here)"
    rep.checks.append(B.Check("Pitzer brines: pH", max(dph_e, default=0.0), TOL_LOG, src_e, len(dph_e),
                              sum(x > TOL_LOG for x in dph_e)))
    rep.notes.append("PHREEQC's times include parsing its input text and its selected output (one pH and two "
                     "phases); chemsolve's one-call rows include building the result and its certificate")
    return rep.finish()


PITZER_PHASES = ("Halite", "Gypsum", "Anhydrite", "Glauberite", "Calcite")
PITZER_SEED = 21


def _pitzer_brines(rep, n: int, peer: bool, batch_rows, log):
    """(e) n random brines of ``random_brines`` on pitzer.dat (I up to 6), each brought to equilibrium with
    halite, gypsum, anhydrite, glauberite and calcite (SI 0, 0 mol: what is supersaturated precipitates):
    PHREEQC per brine (USE solution i, its default tolerance), chemsolve per brine and as one batch. The
    initial solutions are made beforehand on both sides (not timed). Returns the pH of each brine's step:
    (PHREEQC's or None, chemsolve's single calls, the batch's rows)."""
    from .. import bench as B
    from . import load_database, react
    from .random_brines import random_brines
    from .solution import Solution

    db = load_database("pitzer.dat")
    cases = random_brines(PITZER_SEED, n)
    case = f"Pitzer brines (pitzer.dat, I up to 6), halite + gypsum + anhydrite + glauberite + calcite, {n} brines"
    log(f"aqueous: {case}")
    phases = {p: (0.0, 0.0) for p in PITZER_PHASES}
    waters = [Solution(db, totals=dict(c.totals), units="mol/kgw", T=c.tc + 273.15, pH=c.pH,
                       charge=c.charge).speciate() for c in cases]
    keep = [i for i, w in enumerate(waters) if w.success]
    react([waters[keep[0]]] * 2, phases=phases, chunk=1)  # first calls of the Pitzer path (not timed)
    theirs: list[float | None] = [None] * n
    if peer:
        import phreeqc

        ip = phreeqc.Phreeqc()
        if ip.LoadDatabase(str(db.path)) != 0:
            raise RuntimeError(ip.GetErrorString())
        ip.RunString("".join(cases[i].solution_text(i + 1) for i in keep) + "END\n")
        eq = "EQUILIBRIUM_PHASES 1\n" + "".join(f" {p} 0 0\n" for p in PITZER_PHASES)
        t0 = time.perf_counter()
        for i in keep:
            if ip.RunString(f"SELECTED_OUTPUT 1\n -reset false\n -pH true\nUSE solution {i + 1}\n{eq}END\n") == 0:
                theirs[i] = float(ip.GetSelectedOutput()["pH"][-1])
        rep.rows.append(B.Row(case, "PHREEQC, RunString per brine (USE solution i)", sum(t is not None for t in theirs),
                              len(keep), (time.perf_counter() - t0) / max(len(keep), 1), peer=True))
    states = [waters[i] for i in keep]
    t0 = time.perf_counter()
    one = [react(w, phases=phases) for w in states]
    rep.rows.append(B.Row(case, "chemsolve react, one call per brine", sum(r.success for r in one), len(keep),
                          (time.perf_counter() - t0) / max(len(keep), 1), B._med(r.nit for r in one)))
    rb = batch_rows(case, "react batch (cold: each row from its own brine)",
                    lambda: react(states, phases=phases, warm_start=False), len(keep))
    ours = [None] * n
    rows = [None] * n
    for j, i in enumerate(keep):
        ours[i] = one[j].pH if one[j].success else None
        rows[i] = float(rb.pH[j]) if rb.success[j] else None
    return theirs, ours, rows
