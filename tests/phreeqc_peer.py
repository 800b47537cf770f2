"""IPhreeqc (PyPI package ``phreeqc``) as the live peer: run one SOLUTION and read back what
chemsolve computes, from PHREEQC's own BASIC functions. Shared by tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import chemsolve.aqueous as aq

DATA = Path(aq.__file__).resolve().parent.parent / "data"


@dataclass
class PeerResult:
    pH: float
    ionic_strength: float
    water_activity: float
    log_molality: dict[str, float]  # every aqueous species PHREEQC reports
    saturation_index: dict[str, float]
    phase_moles: dict[str, float]  # moles dissolved of each equilibrium phase
    totals: dict[str, float] = field(default_factory=dict)  # TOT(key) [mol/kgw] of each given total


class Peer:
    """One IPhreeqc instance with a bundled database loaded."""

    def __init__(self, database: str = "phreeqc.dat"):
        import phreeqc

        self.ip = phreeqc.Phreeqc()
        if self.ip.LoadDatabase(str(DATA / database)) != 0:
            raise RuntimeError(self.ip.GetErrorString())

    def solution(self, totals: dict[str, float], T: float, pH: float | None, pe: float = 4.0,
                 phases: tuple[str, ...] = (), equilibrium_phases: dict | None = None, units: str = "mol/kgw",
                 density: float = 1.0) -> PeerResult | None:
        """Speciate in PHREEQC (totals in ``units``, default mol/kgw; ``density`` [kg/L]; T in K, pH
        None = charge balance); None if it fails. ``totals`` of the result: PHREEQC's molalities.
        With ``equilibrium_phases`` ({name: (SI, moles)}) the reported state is after EQUILIBRIUM_PHASES;
        ``phase_moles`` then holds the moles dissolved of each."""
        lines = ["SOLUTION 1", f" temp {T - 273.15:.15g}", f" units {units}", f" pe {pe:.15g}",
                 f" pH {pH:.15g}" if pH is not None else " pH 7 charge"]
        lines += [f" density {density:.17g}"] if units != "mol/kgw" else []
        lines += [f" {k} {v:.17g}" for k, v in totals.items()]
        eq = equilibrium_phases or {}
        if eq:
            lines.append("EQUILIBRIUM_PHASES 1")
            lines += [f" {k} {si:.15g} {amt:.15g}" for k, (si, amt) in eq.items()]
        si = ", ".join([f'SI("{p}")' for p in phases] + [f'-EQUI_DELTA("{p}")' for p in eq]) or "0"
        lines += ["SELECTED_OUTPUT 1", " -reset false", "USER_PUNCH 1",
                  " -headings " + " ".join(["pH", "mu", "aw", "n"] + [f"si{i}" for i in range(max(len(phases) + len(eq), 1))]),
                  ' 10 PUNCH -LA("H+"), MU, ACT("H2O")', ' 20 t = SYS("aq", count, name$, type$, moles)',
                  " 30 PUNCH count", f" 35 PUNCH {si}", " 40 FOR i = 1 TO count",
                  " 50 PUNCH name$(i), LM(name$(i))", " 60 NEXT i"]
        lines += [f' {70 + i} PUNCH TOT("{k}")' for i, k in enumerate(totals)] + ["END"]
        if self.ip.RunString("\n".join(lines) + "\n") != 0:
            return None
        out = self.ip.GetSelectedOutput()
        vals = [out[k][-1] for k in out]  # the last row: after the equilibrium phases, if any
        ph_, mu, aw, n = vals[:4]
        nphi = max(len(phases) + len(eq), 1)
        sis = dict(zip(phases, vals[4:4 + len(phases)]))
        moles = dict(zip(eq, vals[4 + len(phases):4 + len(phases) + len(eq)]))
        rest = vals[4 + nphi:]
        lm = {rest[2 * i]: rest[2 * i + 1] for i in range(int(n))}
        return PeerResult(ph_, mu, aw, lm, sis, moles, dict(zip(totals, rest[2 * int(n):])))

    def basic(self, T: float, expressions: list[str]) -> list[float]:
        """Values of PHREEQC BASIC expressions (e.g. 'DH_A') in pure water at T [K]."""
        heads = " ".join(f"c{i}" for i in range(len(expressions)))
        body = "\n".join(f" {10 * (i + 1)} PUNCH {e}" for i, e in enumerate(expressions))
        inp = f"SOLUTION 1\n temp {T - 273.15:.15g}\nSELECTED_OUTPUT 1\n -reset false\nUSER_PUNCH 1\n -headings {heads}\n{body}\nEND\n"
        if self.ip.RunString(inp) != 0:
            raise RuntimeError(self.ip.GetErrorString())
        out = self.ip.GetSelectedOutput()
        return [out[k][0] for k in out]
