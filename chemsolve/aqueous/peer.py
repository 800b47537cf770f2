"""IPhreeqc (the PyPI package ``phreeqc``) as a live peer for PHREEQC input text: run an input and
read back, for every calculation (initial solution or reaction step), what chemsolve reports: pH, pe,
ionic strength, mass of water, a(H2O), temperature, log10 molality of every aqueous species, the
saturation index of every phase and the moles of every equilibrium phase.

Used by the tests, ``chemsolve.aqueous.bench`` and ``docs/guide/phreeqc_examples.md``'s generator.
Nothing is modified in the user's input: a SELECTED_OUTPUT / USER_PUNCH pair with a number of its
own (``PUNCH_NO``) is put in front of it, and PHREEQC's BASIC functions (LA, MU, TOT, SYS, ...) do the
reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PUNCH_NO = 9317  # the number of the peer's own SELECTED_OUTPUT / USER_PUNCH blocks


@dataclass
class PeerStep:
    """One calculation of PHREEQC: ``sim`` (simulation number), ``state`` ("i_soln" or "react"),
    ``step`` (reaction step), pH, pe, ionic strength [mol/kgw], mass of water [kg], a(H2O), T [C],
    charge imbalance [eq], log10 molality of every aqueous species, SI of every phase, moles in the
    assemblage of every equilibrium phase, and moles of each element per kgw."""

    sim: int
    state: str
    step: int
    soln: int
    pH: float
    pe: float
    ionic_strength: float
    water_mass: float
    water_activity: float
    tc: float
    charge: float
    log_molality: dict[str, float] = field(default_factory=dict)
    saturation_index: dict[str, float] = field(default_factory=dict)
    phase_moles: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    exchange: dict[str, float] = field(default_factory=dict)  # moles of every exchange species (SYS("ex"))
    surface: dict[str, float] = field(default_factory=dict)  # moles of every surface species (SYS("surf"))


_PUNCH = f"""SELECTED_OUTPUT {PUNCH_NO}
 -reset false
 -simulation true
 -state true
 -step true
 -solution true
USER_PUNCH {PUNCH_NO}
 -headings pH pe mu mass_water aw tc cb n_aq
 10 PUNCH -LA("H+"), -LA("e-"), MU, TOT("water"), ACT("H2O"), TC, CHARGE_BALANCE
 20 t = SYS("aq", n, name$, type$, moles)
 30 PUNCH n
 40 FOR i = 1 TO n
 50 PUNCH name$(i), LM(name$(i))
 60 NEXT i
"""


def _sys_loop(line: int, kind: str, v: str) -> str:
    """BASIC lines from ``line`` that punch the count, then name and value, of PHREEQC's SYS(kind) list,
    in arrays of their own (``v``: a prefix; PHREEQC's BASIC does not re-dimension an array SYS filled)."""
    return (f" {line} t = SYS(\"{kind}\", n{v}, {v}n$, {v}t$, {v}v)\n {line + 10} PUNCH n{v}\n"
            f" {line + 20} FOR i = 1 TO n{v}\n {line + 30} PUNCH {v}n$(i), {v}v(i)\n {line + 40} NEXT i\n")


# then: SI of every phase, moles of the equilibrium phases, element totals, exchange and surface species
_PUNCH += "".join(_sys_loop(70 + 50 * k, kind, v) for k, (kind, v) in
                  enumerate((("phases", "ph"), ("equi", "eq"), ("elements", "el"), ("ex", "xs"), ("surf", "sf"))))


class IPhreeqcPeer:
    """An IPhreeqc instance with a database loaded (a bundled name or a path)."""

    def __init__(self, database: str = "phreeqc.dat"):
        import phreeqc

        p = Path(database)
        if not p.is_file():
            p = Path(__file__).resolve().parent.parent / "data" / database
        self.database = str(p)
        self.ip = phreeqc.Phreeqc()
        if self.ip.LoadDatabase(self.database) != 0:
            raise RuntimeError(self.ip.GetErrorString())
        self.error = ""

    def run(self, text: str) -> list[PeerStep] | None:
        """Run an input; the steps in order, or None when PHREEQC fails (``self.error`` says why)."""
        self.ip.SetCurrentSelectedOutputUserNumber(PUNCH_NO)
        if self.ip.RunString(_PUNCH + "\n" + text + "\n") != 0:
            self.error = self.ip.GetErrorString()
            return None
        self.ip.SetCurrentSelectedOutputUserNumber(PUNCH_NO)
        rows = self.ip.GetSelectedOutputRowCount()
        cols = self.ip.GetSelectedOutputColumnCount()
        out = []
        for r in range(1, rows):
            vals = [self.ip.GetSelectedOutputValue(r, c) for c in range(cols)]
            out.append(_parse_row(vals))
        return out


def _parse_row(vals: list) -> PeerStep:
    sim, state, soln, step = int(vals[0]), str(vals[1]).strip(), int(vals[2] or 0), int(vals[3] or 0)
    pH, pe, mu, mw, aw, tc, cb, n = vals[4:12]
    k = 12
    lm = {}
    for _ in range(int(n)):
        lm[str(vals[k]).strip()] = float(vals[k + 1])
        k += 2
    nph = int(vals[k])
    k += 1
    si = {}
    for _ in range(nph):
        si[str(vals[k]).strip()] = float(vals[k + 1])
        k += 2
    ne = int(vals[k])
    k += 1
    eq = {}
    for _ in range(ne):
        eq[str(vals[k]).strip()] = float(vals[k + 1])
        k += 2
    nel = int(vals[k])
    k += 1
    tot = {}
    for _ in range(nel):
        tot[str(vals[k]).strip()] = float(vals[k + 1])
        k += 2
    sorbed: list[dict[str, float]] = [{}, {}]
    for d in sorbed:  # exchange species, then surface species [mol]
        nx = int(vals[k])
        k += 1
        for _ in range(nx):
            d[str(vals[k]).strip()] = float(vals[k + 1])
            k += 2
    return PeerStep(sim, state, step, soln, float(pH), float(pe), float(mu), float(mw), float(aw), float(tc), float(cb),
                    lm, si, eq, tot, *sorbed)
