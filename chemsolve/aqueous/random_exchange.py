"""Random exchanger assemblages, chemsolve against IPhreeqc live (issue 15, item 7: the exchange part).

``random_case(seed, i)`` draws case ``i`` of ``seed`` (its own generator,
``numpy.random.default_rng([seed, i])``), written once as PHREEQC input (``ExchangeCase.text``, one
simulation) and once as the arguments of chemsolve's API:

- SOLUTION 1, a random water (``random_water``): 5-80 C; Na and Cl always, K, Ca, Mg, S(6), C(4)
  each with probability 0.6, totals 10^U(-1, 2.5) mmol/kgw (C(4) 10^U(-1, 1.5)); charge balanced on
  pH, Cl or Na as ``random_steps.balance_charge`` (on Cl where balanced on pH without C(4): nothing would
  buffer the pH); pH U(5, 9) (the start where balanced on pH); all
  totals scaled down together where the ionic strength of the free ions would pass 1 mol/kgw; pe 4
  (60 %: nothing poises it) or dissolved oxygen, 10^U(-3, -0.5) mmol/kgw, with ``redox O(0)/O(-2)``;
- EXCHANGE 1: a composition (half of the cases: 1-4 of NaX, KX, CaX2, MgX2 at 10^U(-4, -0.5) mol
  each), or X sites, 10^U(-3, 0) mol, ``-equilibrate 2`` with a second random water (SOLUTION 2);
- EQUILIBRIUM_PHASES 1: 0-2 of calcite, dolomite, gypsum at SI 0 with 10 mol (70 %), 1e-3 mol (15 %:
  it may run out) or 0 (15 %: it may only precipitate);
- REACTION 1 (half of the cases): 1-2 of NaCl, CaCl2, CO2 at 10^U(-4, -1) mol, one step.

chemsolve runs them as a user with many such waters would (``solve_cases``): each water
``Solution(...).speciate()``, each ``-equilibrate`` exchanger ``equilibrate_exchange``, then one
batch ``react`` per assemblage of equilibrium phases (the rows of a batch share the phases; each row
has its own water, exchanger and reaction: ``exchange=[...]``, the reaction amounts as arrays,
``warm_start=False``: each row from its own water, as PHREEQC).

IPhreeqc runs the same text in chunks of simulations (``random_steps``'s pattern: a chunk that stops
at a failure is rerun case by case), reading back what ``peer.IPhreeqcPeer`` reads, the moles of
every exchange species (PHREEQC BASIC ``SYS("ex")``) among it.

Compared (``compare``'s tolerances, not widened here): every calculation, the initial solutions and
the reaction step, as ``compare._diff`` (pH, pe where PHREEQC resolves it, log10 molality above
1e-12 mol/kgw and SI within ``TOL_LOG``; mass of water and phase moles within ``TOL_REL``); the moles
of every exchange species of the step above 1e-12 mol within ``TOL_REL`` relative (``ExchangeDiff``);
and the exchanger of ``-equilibrate`` (PHREEQC's initial-exchange calculation, which PHREEQC stops at
its own convergence tolerance: ``I_EXCH_TOL``, as tests/test_aqueous_exchange.py).

Built for surfaces to join (issue 15 asks 300 exchanger + surface assemblages): a sorber is one
more block in ``ExchangeCase.text``, one more keyword of ``react``, one more kind in ``SORBED`` (a
field of ``peer.PeerStep``) and one more entry in ``ExchangeDiff.sorbed``.

    python -m chemsolve.aqueous.random_exchange --n 300 --out benchmarks/results/aqueous_random_exchange.md
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field, fields

import numpy as np

from .compare import N_FLOOR, TOL_LOG, TOL_REL, StepDiff, _diff
from .database import Database
from .random_steps import Case, CaseResult, _database, balance_charge, quantiles, solution_lines

__all__ = ["EX_SPECIES", "I_EXCH_TOL", "PHASES", "REACTANTS", "ExchangeCase", "ExchangeDiff", "ExchangeResult",
           "Water", "classify", "random_case", "random_cases", "random_water", "report", "run_cases", "solve_cases"]

EX_SPECIES = ("NaX", "KX", "CaX2", "MgX2")
PHASES = ("Calcite", "Dolomite", "Gypsum")
REACTANTS = ("NaCl", "CaCl2", "CO2")
# PHREEQC's initial exchange (-equilibrate) stops at its own convergence tolerance: tests/test_aqueous_exchange.py
# compares it within 1e-7 relative (6e-9 seen there); the reaction step after it is held to TOL_REL
I_EXCH_TOL = 1e-7
I_MAX = 1.0  # [mol/kgw] the largest ionic strength of the free ions a random water is given
SORBED = ("exchange",)  # the sorbers whose species' moles are compared (peer.PeerStep's fields)
_Z = {"Na": 1, "K": 1, "Ca": 2, "Mg": 2, "Cl": -1, "S(6)": -2, "C(4)": -1}


@dataclass(frozen=True)
class Water:
    """A random water as written (totals in mmol/kgw to 6 digits, T [C] and pH to 4 decimals): the
    same numbers go to PHREEQC and to chemsolve."""

    totals: tuple[tuple[str, float], ...]
    T_c: float
    pH: float
    charge: str  # "pH", "Cl" or "Na"
    o2: bool  # dissolved oxygen (an "O(0)" total) with redox O(0)/O(-2); else pe 4

    def lines(self, number: int) -> list[str]:
        return solution_lines(number, self.T_c, self.pH, self.charge, dict(self.totals),
                              ["  redox O(0)/O(-2)"] if self.o2 else ["  pe 4"])

    def speciate(self, db: Database):
        from .solution import Solution

        return Solution(db, totals=dict(self.totals), units="mmol/kgw", T=self.T_c + 273.15, pH=self.pH, pe=4.0,
                        charge=self.charge, redox="O(0)/O(-2)" if self.o2 else None).speciate()


def _r(x: float, fmt: str) -> float:
    return float(format(x, fmt))


def random_water(rng) -> Water:
    """A water as the module doc says, drawn from ``rng``."""
    T_c = _r(rng.uniform(5.0, 80.0), ".4f")
    els = ["Na", "Cl"] + [e for e in ("K", "Ca", "Mg", "S(6)", "C(4)") if rng.random() < 0.6]
    conc = {e: 10.0 ** rng.uniform(-1.0, 1.5 if e == "C(4)" else 2.5) for e in sorted(els)}
    charge = balance_charge(conc, rng)
    if charge == "pH" and "C(4)" not in conc:
        # nothing buffers it: the pH that balances the charge would be set by the 6-digit rounding of the
        # totals, an input with no meaning, and PHREEQC resolves it only to its charge tolerance (1e-8 I W eq:
        # 2e-5 in pH seen, tests/test_aqueous_random_exchange.py::test_unbuffered_ph_charge_balance); on Cl instead
        charge = "Cl"
    # the ionic strength of the free ions (C(4) as HCO3-): scaled down to I_MAX, the charge balance kept
    ion = 0.5e-3 * sum(v * _Z[e] ** 2 for e, v in conc.items())
    if ion > I_MAX:
        conc = {e: v * I_MAX / ion for e, v in conc.items()}
    pH = _r(rng.uniform(5.0, 9.0), ".4f")
    o2 = bool(rng.random() < 0.4)
    if o2:
        conc["O(0)"] = 10.0 ** rng.uniform(-3.0, -0.5)
    return Water(tuple((e, _r(v, ".6g")) for e, v in sorted(conc.items())), T_c, pH, charge, o2)


@dataclass(frozen=True)
class ExchangeCase(Case):
    """One random assemblage (module doc): ``exchange`` {species: moles} or () with ``sites`` moles of
    X equilibrated with ``other``; ``phases`` ((name, moles) at SI 0); ``reaction`` ((formula, moles))."""

    water: Water = None
    exchange: tuple[tuple[str, float], ...] = ()
    sites: float = 0.0
    other: Water | None = None
    phases: tuple[tuple[str, float], ...] = ()
    reaction: tuple[tuple[str, float], ...] = ()


def _text(w: Water, other: Water | None, exchange, sites, phases, reaction) -> str:
    lines = w.lines(1) + (other.lines(2) if other is not None else []) + ["EXCHANGE 1"]
    if other is not None:
        lines += ["  -equilibrate 2", f"  X {sites:.6g}"]
    else:
        lines += [f"  {s} {n:.6g}" for s, n in exchange]
    if phases:
        lines += ["EQUILIBRIUM_PHASES 1"] + [f"  {p} 0 {n:.6g}" for p, n in phases]
    if reaction:
        lines += ["REACTION 1"] + [f"  {f} {n:.6g}" for f, n in reaction] + ["  1 moles"]
    lines += ["USE solution 1", "END"]
    return "\n".join(lines) + "\n"


def random_case(seed: int, index: int) -> ExchangeCase:
    """Case ``index`` of ``seed`` (module doc)."""
    rng = np.random.default_rng([seed, index])
    w = random_water(rng)
    other, sites, exchange = None, 0.0, ()
    if rng.random() < 0.5:
        k = int(rng.integers(1, 5))
        exchange = tuple((str(s), _r(10.0 ** rng.uniform(-4.0, -0.5), ".6g"))
                         for s in rng.choice(EX_SPECIES, k, replace=False))
    else:
        sites = _r(10.0 ** rng.uniform(-3.0, 0.0), ".6g")
        other = random_water(rng)
    phases = []
    for p in rng.choice(PHASES, int(rng.integers(0, 3)), replace=False):
        u = rng.random()
        phases.append((str(p), 10.0 if u < 0.7 else 1e-3 if u < 0.85 else 0.0))
    reaction = ()
    if rng.random() < 0.5:
        reaction = tuple((str(f), _r(10.0 ** rng.uniform(-4.0, -1.0), ".6g"))
                         for f in rng.choice(REACTANTS, int(rng.integers(1, 3)), replace=False))
    text = _text(w, other, exchange, sites, tuple(phases), reaction)
    return ExchangeCase(seed, index, text, 1, w, exchange, sites, other, tuple(phases), reaction)


def random_cases(seed: int, n: int) -> list[ExchangeCase]:
    return [random_case(seed, i) for i in range(n)]


# ------------------------------------------------------------------ chemsolve, as a user would batch it
@dataclass
class Ours:
    """chemsolve's side of a case: the speciated waters {solution number: result}, the initial
    exchanger of ``-equilibrate`` (or None), the reaction step's result (or None) and, where it
    stopped, why."""

    waters: dict[int, object] = field(default_factory=dict)
    exchanger: object = None
    step: object = None
    stopped: str = ""


def solve_cases(cases: list[ExchangeCase], database: str | Database = "phreeqc.dat", *, chunk: int = 16) -> list[Ours]:
    """Every case in chemsolve (module doc): waters one by one, then one ``react`` batch per
    assemblage of equilibrium phases."""
    from ..errors import InvalidInputError
    from ..status import Status
    from .exchange import equilibrate_exchange
    from .reaction_step import react

    db = _database(database)
    out = [Ours() for _ in cases]
    ready: dict[tuple, list[int]] = collections.defaultdict(list)
    for k, c in enumerate(cases):
        o = out[k]
        for n, w in ((1, c.water), (2, c.other)):
            if w is None:
                continue
            r = w.speciate(db)
            o.waters[n] = r
            if r.status != Status.CONVERGED:
                o.stopped = f"SOLUTION {n}: {r.status.name}: {r.message.splitlines()[0][:120]}"
        if o.stopped:
            continue
        o.exchanger = equilibrate_exchange(o.waters[2], {"X": c.sites}) if c.other is not None else None
        ready[c.phases].append(k)
    for phases, rows in ready.items():
        keys = sorted({f for k in rows for f, _ in cases[k].reaction})
        reaction = {f: np.array([dict(cases[k].reaction).get(f, 0.0) for k in rows]) for f in keys} or None
        exs = [out[k].exchanger if cases[k].other is not None else dict(cases[k].exchange) for k in rows]
        try:
            b = react([out[k].waters[1] for k in rows], phases={p: (0.0, n) for p, n in phases} or None,
                      reaction=reaction, exchange=exs, warm_start=False, chunk=chunk)
        except InvalidInputError as e:  # not expected: every case is valid input; recorded, not hidden
            for k in rows:
                out[k].stopped = f"react raised: {e}"
            continue
        for j, k in enumerate(rows):
            out[k].step = b.row(j)
            if out[k].step.status != Status.CONVERGED:
                out[k].stopped = f"react: {out[k].step.status.name}: {out[k].step.message.splitlines()[0][:120]}"
    return out


# ------------------------------------------------------------------ IPhreeqc
def _peer_run(peer, text: str):
    """PHREEQC's steps (``peer.IPhreeqcPeer.run``), each with {kind: {species: moles}} of the sorbers
    (the peer's ``SYS("ex")`` / ``SYS("surf")``); None where PHREEQC fails."""
    steps = peer.run(text)
    if steps is None:
        return None
    return [(s, {kind: getattr(s, kind) for kind in SORBED}) for s in steps]


def peer_cases(cases: list[ExchangeCase], database: str = "phreeqc.dat", *, chunk: int = 100):
    """IPhreeqc on every case: per case its steps with the sorbed moles (or None) and PHREEQC's error."""
    from .peer import IPhreeqcPeer

    peer = IPhreeqcPeer(database)
    theirs: list = [None] * len(cases)
    errors = [""] * len(cases)
    for a in range(0, len(cases), chunk):
        part = cases[a:a + chunk]
        rows = _peer_run(peer, "".join(c.text for c in part))
        if rows is not None:
            for s, d in rows:
                k = a + s.sim - 1
                theirs[k] = (theirs[k] or []) + [(s, d)]
            continue
        for j, c in enumerate(part):  # the chunk stopped at a failure: each case alone
            theirs[a + j] = _peer_run(peer, c.text)
            if theirs[a + j] is None:
                errors[a + j] = next((ln.strip() for ln in peer.error.splitlines() if ln.strip()), "PHREEQC failed")
    return theirs, errors


# ------------------------------------------------------------------ the comparison
@dataclass
class ExchangeDiff(StepDiff):
    """``compare.StepDiff`` of a calculation plus, for the reaction step, the largest relative
    difference of the moles of the species of each sorber (``sorbed``: kind -> (value, species))."""

    sorbed: dict[str, tuple[float, str]] = field(default_factory=dict)
    sorbed_all: list[float] = field(default_factory=list, repr=False)

    @property
    def agrees(self) -> bool:
        return StepDiff.agrees.fget(self) and all(v <= TOL_REL for v, _ in self.sorbed.values())


def moles_diff(ours: dict[str, float], theirs: dict[str, float]) -> tuple[float, str, list[float]]:
    """(largest |ours - theirs| / max(ours, theirs) over species above ``N_FLOOR`` mol in either, its
    species, every such difference); a species one side lacks counts as 0 there."""
    worst, where, alld = 0.0, "", []
    for s in sorted(set(ours) | set(theirs)):
        a, b = ours.get(s, 0.0), theirs.get(s, 0.0)
        scale = max(abs(a), abs(b))
        if scale <= N_FLOOR:
            continue
        d = abs(a - b) / scale
        alld.append(d)
        if d > worst or not where:
            worst, where = d, s
    return worst, where, alld


@dataclass
class _Rec:  # what compare._diff reads of chemsolve's side of a calculation
    sim: int
    state: str
    step: int
    result: object


@dataclass
class ExchangeResult(CaseResult):
    """``random_steps.CaseResult`` plus the initial exchanger's difference (``-equilibrate``: largest
    relative difference of a species' moles, and which)."""

    i_exch: float = 0.0
    i_exch_where: str = ""


def _blank(d: StepDiff) -> ExchangeDiff:
    return ExchangeDiff(**{f.name: getattr(d, f.name) for f in fields(StepDiff)})


def pair(db: Database, case: ExchangeCase, ours: Ours, theirs, error: str) -> ExchangeResult:
    """One case in both programs, calculation by calculation."""
    res = ExchangeResult(case, peer_ok=theirs is not None, peer_error=error, stopped=ours.stopped)
    if theirs is None:  # PHREEQC failed: chemsolve's status and certificate only
        for n, w in ours.waters.items():
            res.steps.append(_blank(StepDiff(case.index, "i_soln", n, w.status.name, _certified(w), False,
                                             note="PHREEQC failed")))
        if ours.step is not None:
            res.steps.append(_blank(StepDiff(case.index, "react", 1, ours.step.status.name, _certified(ours.step),
                                             False, note="PHREEQC failed")))
        return res
    for p, sorbed in theirs:
        if p.state == "i_soln":
            w = ours.waters.get(p.soln)
            if w is None:
                res.steps.append(_blank(StepDiff(case.index, p.state, p.soln, "NOT_RUN", False, True,
                                                 note="not run: chemsolve stopped before it")))
                continue
            res.steps.append(_blank(_diff(db, _Rec(p.sim, p.state, p.step, w), p)))
        elif p.state == "i_exch":
            if ours.exchanger is not None:
                res.i_exch, res.i_exch_where, _ = moles_diff(ours.exchanger.composition, sorbed["exchange"])
        elif p.state == "react":
            if ours.step is None:
                res.steps.append(_blank(StepDiff(case.index, "react", p.step, "NOT_RUN", False, True,
                                                 note=f"not run: {ours.stopped}")))
                continue
            d = _blank(_diff(db, _Rec(p.sim, p.state, p.step, ours.step), p))
            if ours.step.status.name == "CONVERGED":
                for kind in SORBED:
                    v, where, alld = moles_diff(dict(getattr(ours.step, kind)), sorbed[kind])
                    d.sorbed[kind] = (v, where)
                    d.sorbed_all += alld
            res.steps.append(d)
    if not any(d.state == "react" for d in res.steps):
        res.steps.append(_blank(StepDiff(case.index, "react", 1, "NOT_RUN", False, True,
                                         note="PHREEQC reported no reaction step")))
    for d in res.steps:
        d.sim = case.index
    return res


def _certified(r) -> bool:
    return r.certificate is not None and bool(r.certificate.passed)


def run_cases(cases: list[ExchangeCase], database: str = "phreeqc.dat", *, chunk: int = 100) -> list[ExchangeResult]:
    """Every case in chemsolve (``solve_cases``) and IPhreeqc (``peer_cases``), paired (``pair``)."""
    db = _database(database)
    ours = solve_cases(cases, db)
    theirs, errors = peer_cases(cases, database, chunk=chunk)
    return [pair(db, c, o, t, e) for c, o, t, e in zip(cases, ours, theirs, errors)]


def classify(r: ExchangeResult) -> str:
    """As ``random_steps.classify`` ("check_failed", "peer_failed", "not_converged", "differs", "ok"),
    the initial exchanger of ``-equilibrate`` within ``I_EXCH_TOL`` too."""
    from .random_steps import classify as base

    k = base(r)
    if k == "ok" and r.i_exch > I_EXCH_TOL:
        return "differs"
    return k


NOTES = """\
- An exchanger `-equilibrate`d with a water is PHREEQC's initial-exchange calculation, which PHREEQC stops at
  its own convergence tolerance (the i_exch row: up to a few 1e-8 relative); the reaction step starts from
  each program's own exchanger, so its exchange species inherit that difference (the `-equilibrate'd` row
  above against the `by composition` row). Both are far inside their tolerances.
- Every IPhreeqc failure of seed 15 is a SOLUTION balanced on Cl that already carries a negative charge
  without any Cl (C(4), mostly HCO3- at the given pH, and sulfate outweigh the cations: the generator's
  guess of the HCO3- fraction, `random_steps.balance_charge`, is for a pH-balanced water): no Cl >= 0 balances
  it, so there is no answer; chemsolve does not converge on these either (LINE_SEARCH_FAILED; its message
  does not say that the balancing element would have to be negative).
- A water balanced on pH with no C(4) is balanced on Cl instead (module doc): its pH would be set by the
  6-digit rounding of the totals, and PHREEQC resolves it only to its charge tolerance (1e-8 I W eq): case 16
  of seed 15 as first drawn differed by 2.1e-5 in pH, all of it PHREEQC's charge residual (-7.6e-11 eq; see
  tests/test_aqueous_random_exchange.py::test_unbuffered_ph_charge_balance); chemsolve's state was certified.
- The pe is compared where PHREEQC's convergence criterion resolves it (waters with dissolved O2); in the
  other steps (pe 4, nothing poises it) the pe and what depends on it are reported apart, as `compare` does."""


# ------------------------------------------------------------------ the report
def _f(x: float) -> str:
    return "-" if x != x else ("0" if x == 0 else f"{x:.1e}")


def report(seed: int, n: int, database: str = "phreeqc.dat", *, chunk: int = 100) -> tuple[str, list[ExchangeResult]]:
    """The markdown of ``n`` cases of ``seed``: counts, failures of each program, the worst differences."""
    import platform
    import time
    from importlib.metadata import version

    cases = random_cases(seed, n)
    t0 = time.perf_counter()
    res = run_cases(cases, database, chunk=chunk)
    wall = time.perf_counter() - t0
    kinds = collections.Counter(classify(r) for r in res)
    calc = [d for r in res for d in r.steps]
    cmp_ = [(r.case.index, d) for r in res for d in r.steps if d.peer_ok and d.status == "CONVERGED"]
    by = collections.Counter((d.state, d.status) for d in calc)
    eq = sum(c.other is not None for c in cases)
    lines = [f"# chemsolve vs IPhreeqc: {n} random exchanger assemblages (issue 15, item 7)", "",
             f"Generated by `python -m chemsolve.aqueous.random_exchange --seed {seed} --n {n} --out "
             f"benchmarks/results/aqueous_random_exchange.md` (module doc: what a case is); IPhreeqc (PyPI phreeqc "
             f"{version('phreeqc')}), database {database}, Python {platform.python_version()}; both programs ran in "
             f"{wall:.0f} s on a shared machine (not a timing benchmark).", "",
             f"Cases: {n} ({eq} with X sites `-equilibrate`d with a second water, {n - eq} with an exchanger by "
             f"composition; {sum(bool(c.phases) for c in cases)} with equilibrium phases, "
             f"{sum(bool(c.reaction) for c in cases)} with a REACTION). chemsolve ran "
             f"{len({c.phases for c in cases})} batches of reaction steps (one per assemblage of phases, each row "
             f"its own water, exchanger and reaction).", "",
             "| outcome | cases |", "|---|---|"]
    for k in ("ok", "differs", "not_converged", "check_failed", "peer_failed"):
        lines.append(f"| {k} | {kinds.get(k, 0)} |")
    lines += ["", "Calculations (state, chemsolve's status): " + ", ".join(
        f"{s} {st} {v}" for (s, st), v in sorted(by.items())) + f"; certificate failures (CHECK_FAILED): "
        f"{sum(d.status == 'CHECK_FAILED' for d in calc)}.", ""]
    peer_failed = [r for r in res if not r.peer_ok]
    lines.append(f"**IPhreeqc failures** ({len(peer_failed)} cases; not compared; chemsolve's outcome beside):")
    lines.append("")
    peer = None
    for r in peer_failed:
        ours = "; ".join(f"{d.state} {d.status}{' certified' if d.certified else ''}" for d in r.steps) or r.stopped
        why = ""
        for n, w in ((1, r.case.water), (2, r.case.other)):
            if w is not None and w.charge in ("Cl", "Na"):  # can any amount >= 0 of it balance the charge?
                from .peer import IPhreeqcPeer

                peer = peer or IPhreeqcPeer(database)
                without = peer.run("\n".join(ln for ln in w.lines(1) if ln.split()[0] != w.charge) + "\nEND\n")
                z = without[0].charge if without else math.nan
                if z * (1 if w.charge == "Na" else -1) > 0:
                    why += (f"; SOLUTION {n} is balanced on {w.charge} but carries {z:.3g} eq without any {w.charge} "
                            f"(PHREEQC): no amount >= 0 balances it")
        lines.append(f"- case {r.case.index}: {r.peer_error.replace(chr(9), ' ')[:150]} (chemsolve: {ours}){why}")
    if not peer_failed:
        lines.append("- none")
    ours_failed = [r for r in res if r.peer_ok and classify(r) in ("not_converged", "check_failed")]
    lines += ["", f"**chemsolve failures where IPhreeqc converged** ({len(ours_failed)} cases):", ""]
    for r in ours_failed:
        lines.append(f"- case {r.case.index}: {r.stopped or next(d.note for d in r.steps if not d.agrees)}")
    if not ours_failed:
        lines.append("- none")
    differs = [r for r in res if classify(r) == "differs"]
    lines += ["", f"**Converged and certified in chemsolve but beyond a tolerance** ({len(differs)} cases):", ""]
    for r in differs:
        d = next((d for d in r.steps if not d.agrees), None)
        lines.append(f"- case {r.case.index}: " + (
            f"initial exchanger {_f(r.i_exch)} ({r.i_exch_where})" if d is None else
            f"{d.state}: dpH {_f(d.dpH)} dpe {_f(d.dpe)} dlogm {_f(d.dlogm)} ({d.dlogm_where}) dSI {_f(d.dsi)} "
            f"({d.dsi_where}) dW {_f(d.dW)} dphase {_f(d.dphase)} ({d.dphase_where}) "
            f"dexchange {_f(d.sorbed.get('exchange', (0.0, ''))[0])}"))
    if not differs:
        lines.append("- none")

    def worst(vals):  # (value, case, state, where) -> the largest
        return max(vals, default=(0.0, -1, "", ""), key=lambda t: t[0])

    rows = [
        ("pH", [(d.dpH, i, d.state, "") for i, d in cmp_], TOL_LOG),
        ("pe (where PHREEQC resolves it)", [(d.dpe, i, d.state, "") for i, d in cmp_ if not d.pe_excused], TOL_LOG),
        ("log10 molality (> 1e-12 mol/kgw)", [(d.dlogm, i, d.state, d.dlogm_where) for i, d in cmp_], TOL_LOG),
        ("saturation index", [(d.dsi, i, d.state, d.dsi_where) for i, d in cmp_], TOL_LOG),
        ("mass of water (rel.)", [(d.dW, i, d.state, "") for i, d in cmp_], TOL_REL),
        ("phase moles (rel.)", [(d.dphase, i, d.state, d.dphase_where) for i, d in cmp_
                                if d.state == "react" and d.dphase_all], TOL_REL),
        ("exchange species moles (rel., > 1e-12 mol)", [(d.sorbed["exchange"][0], i, d.state, d.sorbed["exchange"][1])
                                                       for i, d in cmp_ if "exchange" in d.sorbed], TOL_REL),
        ("- of them, exchanger by composition", [(d.sorbed["exchange"][0], i, d.state, d.sorbed["exchange"][1])
                                                 for i, d in cmp_ if "exchange" in d.sorbed and cases[i].other is None],
         TOL_REL),
        ("- of them, exchanger -equilibrate'd", [(d.sorbed["exchange"][0], i, d.state, d.sorbed["exchange"][1])
                                                 for i, d in cmp_ if "exchange" in d.sorbed
                                                 and cases[i].other is not None], TOL_REL),
        ("initial exchanger, -equilibrate (rel.)", [(r.i_exch, r.case.index, "i_exch", r.i_exch_where) for r in res
                                                    if r.peer_ok and r.case.other is not None and r.i_exch_where],
         I_EXCH_TOL),
    ]
    alls = {"log10 molality (> 1e-12 mol/kgw)": [x for _, d in cmp_ for x in d.dlogm_all],
            "saturation index": [x for _, d in cmp_ for x in d.dsi_all],
            "phase moles (rel.)": [x for _, d in cmp_ if d.state == "react" for x in d.dphase_all],
            "exchange species moles (rel., > 1e-12 mol)": [x for _, d in cmp_ for x in d.sorbed_all],
            "- of them, exchanger by composition": [x for i, d in cmp_ if cases[i].other is None for x in d.sorbed_all],
            "- of them, exchanger -equilibrate'd": [x for i, d in cmp_ if cases[i].other is not None
                                                    for x in d.sorbed_all]}
    lines += ["", "Worst differences over every compared calculation (initial solutions and reaction steps where both "
              "converged; per species or phase where it says so):", "",
              "| quantity | compared | median | 90% | 99% | max | where (case, calculation, species) | tolerance | "
              "beyond |", "|---|---|---|---|---|---|---|---|---|"]
    for name, vals, tol in rows:
        xs = alls.get(name, [v for v, *_ in vals])
        w = worst(vals)
        q = quantiles(xs)
        lines.append(f"| {name} | {len(xs)} | " + " | ".join(_f(x) for x in q) + f" | case {w[1]} {w[2]} {w[3]} | "
                     f"{tol:g} | {sum(x > tol for x in xs)} |")
    exc = sum(d.pe_excused for _, d in cmp_)
    lines += ["", f"pe not compared in {exc} reaction steps whose pe PHREEQC's convergence criterion cannot resolve "
              "(``compare``'s documented exception: no redox couple poises it); the largest difference of the "
              f"pe-dependent species there: {_f(max((d.dlogm_redox for _, d in cmp_ if d.pe_excused), default=0.0))} "
              "(log10 molality)."]
    lines += ["", "Notes:", "", NOTES]
    return "\n".join(lines) + "\n", res


if __name__ == "__main__":
    import argparse
    import sys
    import warnings
    from pathlib import Path

    ap = argparse.ArgumentParser(description="chemsolve vs IPhreeqc on random exchanger assemblages")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--out", help="write the markdown here (default: stdout)")
    a = ap.parse_args()
    with warnings.catch_warnings():
        from .database import DatabaseWarning

        warnings.simplefilter("ignore", DatabaseWarning)
        text, res = report(a.seed, a.n, chunk=a.chunk)
    if a.out:
        Path(a.out).write_text(text)
        print(f"wrote {a.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    sys.exit(0 if not any(classify(r) == "check_failed" for r in res) else 1)
