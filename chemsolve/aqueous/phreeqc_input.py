"""PHREEQC input files: ``run_phreeqc_input(text, database="phreeqc.dat")`` and ``chemsolve run input.pqi``.

Reads the blocks of a PHREEQC input that chemsolve computes: SOLUTION, EQUILIBRIUM_PHASES, EXCHANGE
(a composition, or sites with ``-equilibrate``), SURFACE (sites in moles, or ``-sites_units
density``, with specific area and mass; PHREEQC's default diffuse double layer or ``-no_edl``; with
``-equilibrate n``), GAS_PHASE (``-fixed_pressure`` or ``-fixed_volume``, ``-pressure``, ``-volume``,
``-temperature``, partial pressures; ``-equilibrate n`` at a fixed volume),
REACTION, MIX, USE, SAVE, REACTION_TEMPERATURE, REACTION_PRESSURE, SELECTED_OUTPUT (its plain
columns), TITLE, END, and the database blocks of an input (SOLUTION_MASTER_SPECIES, SOLUTION_SPECIES,
PHASES, EXCHANGE_MASTER_SPECIES, EXCHANGE_SPECIES, SURFACE_MASTER_SPECIES, SURFACE_SPECIES). Any
other block (KINETICS, USER_PUNCH, USER_GRAPH, PRINT, ...) or option not modelled (SURFACE
-diffuse_layer, -donnan, -cd_music, -ccm, a surface linked to a phase) is refused,
naming it and its line: a result that ignored it would silently differ from PHREEQC's.

Simulations run as PHREEQC runs them (mainsubs.cpp, step.cpp): each simulation (to END) first
calculates its new initial solutions, then its new exchangers and surfaces equilibrated with a
solution (``-equilibrate n``: states ``i_exch``, ``i_surf``, ``i_gas``), then, when it defines or USEs a
reactant (EQUILIBRIUM_PHASES, EXCHANGE, SURFACE, GAS_PHASE, REACTION, MIX, REACTION_TEMPERATURE,
REACTION_PRESSURE), its batch reaction: every step starts
again from the same solution (or mixture) and assemblage, with the reaction amount of that step,
and the step's temperature and pressure; the steps of a simulation are one compiled batch. SAVE keeps
the last step's solution or assemblage under a number.

Every calculation is reported (``PhreeqcRun.steps``): simulation, state (``i_soln`` or ``react``),
solution number, step, status, T, pH, pe, ionic strength, mass of water, charge imbalance,
molalities, saturation indices and the moles of the equilibrium phases; SELECTED_OUTPUT's columns in
``PhreeqcRun.selected``. The text is read as data (nothing is executed), and bounded: at most
``MAX_CHARS`` characters, ``MAX_STEPS`` steps per reaction.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..status import Status
from .database import (
    Database,
    DatabaseError,
    DatabaseWarning,
    _resolve,
    parse_database,
    read_text,
)
from .reaction_step import WaterState, add_formulas, mix, phase_specs, react
from .solution import Solution, normalize_units

__all__ = ["MAX_CHARS", "MAX_STEPS", "InputDefinitions", "PhreeqcRun", "StepRecord", "input_definitions",
           "looks_like_phreeqc_input", "run_file", "run_phreeqc_input"]

MAX_CHARS = 20_000_000  # an input larger than this is refused (a PHREEQC input is kilobytes)
MAX_STEPS = 100_000  # steps of one reaction
MAX_LINE = 100_000  # characters of one line

SUPPORTED = ("SOLUTION", "EQUILIBRIUM_PHASES", "EXCHANGE", "SURFACE", "GAS_PHASE", "REACTION", "MIX", "USE", "SAVE",
             "REACTION_TEMPERATURE", "REACTION_PRESSURE", "SELECTED_OUTPUT", "INCREMENTAL_REACTIONS", "TITLE", "END")
DATABASE_BLOCKS = ("SOLUTION_MASTER_SPECIES", "SOLUTION_SPECIES", "PHASES", "EXCHANGE_MASTER_SPECIES",
                   "EXCHANGE_SPECIES", "SURFACE_MASTER_SPECIES", "SURFACE_SPECIES")
# PHREEQC's keywords and their synonyms (PhreeqcKeywords/Keywords.cpp), canonical name in capitals
_ALIASES = {
    "end": "END", "eof": "END", "solution": "SOLUTION", "solution_species": "SOLUTION_SPECIES",
    "solution_master_species": "SOLUTION_MASTER_SPECIES", "phases": "PHASES", "pure_phases": "EQUILIBRIUM_PHASES",
    "equilibrium_phases": "EQUILIBRIUM_PHASES", "equilibria": "EQUILIBRIUM_PHASES",
    "equilibrium": "EQUILIBRIUM_PHASES", "pure": "EQUILIBRIUM_PHASES", "equilibrium_phase": "EQUILIBRIUM_PHASES",
    "reaction": "REACTION", "mix": "MIX", "use": "USE", "save": "SAVE", "exchange_species": "EXCHANGE_SPECIES",
    "exchange_master_species": "EXCHANGE_MASTER_SPECIES", "exchange": "EXCHANGE", "surface_species": "SURFACE_SPECIES",
    "surface_master_species": "SURFACE_MASTER_SPECIES", "surface": "SURFACE",
    "reaction_temperature": "REACTION_TEMPERATURE", "inverse_modeling": "INVERSE_MODELING", "gas_phase": "GAS_PHASE",
    "transport": "TRANSPORT", "debug": "KNOBS", "knobs": "KNOBS", "selected_output": "SELECTED_OUTPUT",
    "select_output": "SELECTED_OUTPUT", "selected_out": "SELECTED_OUTPUT", "select_out": "SELECTED_OUTPUT",
    "print": "PRINT", "title": "TITLE", "comment": "TITLE", "advection": "ADVECTION", "kinetics": "KINETICS",
    "incremental_reactions": "INCREMENTAL_REACTIONS", "incremental": "INCREMENTAL_REACTIONS", "rates": "RATES",
    "solution_s": "SOLUTION_SPREAD", "solution_spread": "SOLUTION_SPREAD", "spread_solution": "SOLUTION_SPREAD",
    "user_print": "USER_PRINT", "user_punch": "USER_PUNCH", "solid_solutions": "SOLID_SOLUTIONS",
    "solid_solution": "SOLID_SOLUTIONS", "user_graph": "USER_GRAPH",
    "llnl_aqueous_model_parameters": "LLNL_AQUEOUS_MODEL_PARAMETERS",
    "llnl_aqueous_model": "LLNL_AQUEOUS_MODEL_PARAMETERS",
    "database": "DATABASE", "named_analytical_expression": "NAMED_EXPRESSIONS",
    "named_analytical_expressions": "NAMED_EXPRESSIONS", "named_expressions": "NAMED_EXPRESSIONS",
    "named_log_k": "NAMED_EXPRESSIONS", "isotopes": "ISOTOPES", "calculate_values": "CALCULATE_VALUES",
    "isotope_ratios": "ISOTOPE_RATIOS", "isotope_alphas": "ISOTOPE_ALPHAS", "copy": "COPY", "pitzer": "PITZER",
    "sit": "SIT", "dump": "DUMP", "delete": "DELETE", "run_cells": "RUN_CELLS",
    "reaction_pressure": "REACTION_PRESSURE", "reaction_pressures": "REACTION_PRESSURE", "mean_gammas": "MEAN_GAMMAS",
    "gas_binary_parameters": "GAS_BINARY_PARAMETERS", "rate_parameters_pk": "RATE_PARAMETERS_PK",
    "rate_parameters_svd": "RATE_PARAMETERS_SVD", "rate_parameters_hermanska": "RATE_PARAMETERS_HERMANSKA",
}
_RAW = ("solution_raw", "exchange_raw", "surface_raw", "equilibrium_phases_raw", "kinetics_raw",
        "solid_solutions_raw", "gas_phase_raw", "reaction_raw", "mix_raw", "reaction_temperature_raw",
        "reaction_pressure_raw", "solution_modify", "equilibrium_phases_modify", "exchange_modify",
        "surface_modify", "solid_solutions_modify", "gas_phase_modify", "kinetics_modify", "reaction_modify",
        "reaction_temperature_modify", "solid_solution_modify", "reaction_pressure_modify", "solution_mix",
        "mix_solution", "exchange_mix", "mix_exchange", "gas_phase_mix", "mix_gas_phase", "kinetics_mix",
        "mix_kinetics", "equilibrium_phases_mix", "mix_equilibrium_phases", "equilibrium_phase_mix",
        "mix_equilibrium_phase", "solid_solutions_mix", "mix_solid_solutions", "solid_solution_mix",
        "mix_solid_solution", "surface_mix", "mix_surface")
for _k in _RAW:
    _ALIASES[_k] = _k.upper()


@dataclass
class Line:
    no: int
    text: str


@dataclass
class Block:
    keyword: str
    head: str  # the rest of the keyword line (number, range, description)
    line: int
    lines: list[Line] = field(default_factory=list)


@dataclass
class StepRecord:
    """One calculation: simulation, state ("i_soln" or "react"), solution number, reaction step, and
    its result (``SpeciationResult`` or ``ReactionResult``; ``phase_moles``: the assemblage)."""

    sim: int
    state: str
    soln: int
    step: int
    result: Any
    title: str = ""
    reaction: float = float("nan")  # moles of the REACTION of the step, PHREEQC's step_x
    exchange: dict = field(default_factory=dict)  # moles of each exchange species (i_exch, react with EXCHANGE)
    surface: dict = field(default_factory=dict)  # moles of each surface species (react with SURFACE)
    gas: dict = field(default_factory=dict)  # the gas phase after the step (react with GAS_PHASE): result.gas

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        eq = dict(getattr(r, "phase_moles", {}) or {}) if self.state == "react" else {}
        d = {"sim": self.sim, "state": self.state, "soln": self.soln, "step": self.step,
             "status": r.status.name, "message": r.message, "temp_C": r.T - 273.15, "pH": r.pH, "pe": r.pe,
             "mu": r.ionic_strength, "mass_H2O": getattr(r, "water_mass", 1.0),
             "charge_eq": getattr(r, "charge_imbalance", r.charge_balance * getattr(r, "water_mass", 1.0)
                                  if hasattr(r, "charge_balance") else float("nan")),
             "molality": {k: v for k, v in r.molality.items()}, "si": dict(r.saturation_index),
             "phase_moles": eq,
             "phase_delta": ({k: -v for k, v in getattr(r, "phase_dissolved", {}).items()}
                             if self.state == "react" else {}),
             "exchange": dict(self.exchange), "surface": dict(self.surface),
             "surface_potential": dict(getattr(r, "surface_potential", {}) or {}), "gas": dict(self.gas)}
        return d


@dataclass
class PhreeqcRun:
    """What ``run_phreeqc_input`` computed: every calculation in order (``steps``), and the rows of
    each SELECTED_OUTPUT (``selected``: number -> list of {column: value})."""

    steps: list[StepRecord]
    selected: dict[int, list[dict[str, Any]]]
    database: str
    stopped: str = ""  # where and why the run stopped early (a calculation did not converge), as PHREEQC

    @property
    def success(self) -> bool:
        return not self.stopped and all(s.result.status == Status.CONVERGED for s in self.steps)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.result.status.name] = out.get(s.result.status.name, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.database, "stopped": self.stopped, "steps": [s.to_dict() for s in self.steps],
                "selected_output": {str(k): v for k, v in self.selected.items()}}

    def to_csv(self) -> str:
        """One row per calculation: the identifiers, pH, pe, mu, mass of water, charge, then m_<species>,
        si_<phase>, eq_<phase> and d_<phase> (moles in the assemblage and their change) for every name
        seen."""
        rows = [s.to_dict() for s in self.steps]
        sp = sorted({k for r in rows for k in r["molality"]})
        ph = sorted({k for r in rows for k in r["si"]})
        eq = sorted({k for r in rows for k in r["phase_moles"]})
        ex = sorted({k for r in rows for k in r["exchange"]})
        su = sorted({k for r in rows for k in r["surface"]})
        gs = list(dict.fromkeys(k for r in rows for k in r["gas"].get("moles", {})))
        head = ["sim", "state", "soln", "step", "status", "temp_C", "pH", "pe", "mu", "mass_H2O", "charge_eq"]
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(head + [f"m_{s}" for s in sp] + [f"si_{p}" for p in ph] + [f"eq_{p}" for p in eq]
                   + [f"d_{p}" for p in eq] + [f"ex_{s}" for s in ex] + [f"surf_{s}" for s in su]
                   + (["gas_P_atm", "gas_V_L", "gas_total_mol"] if gs else [])
                   + [f"gas_n_{g}" for g in gs] + [f"gas_p_{g}" for g in gs])
        for r in rows:
            w.writerow([r[h] for h in head] + [_num(r["molality"].get(s)) for s in sp]
                       + [_num(r["si"].get(p)) for p in ph] + [_num(r["phase_moles"].get(p)) for p in eq]
                       + [_num(r["phase_delta"].get(p)) for p in eq] + [_num(r["exchange"].get(s)) for s in ex]
                       + [_num(r["surface"].get(s)) for s in su]
                       + ([_num(r["gas"].get(k)) for k in ("pressure", "volume", "total_moles")] if gs else [])
                       + [_num(r["gas"].get("moles", {}).get(g)) for g in gs]
                       + [_num(r["gas"].get("partial_pressure", {}).get(g)) for g in gs])
        return buf.getvalue()


    def to_table(self) -> str:
        """A readable summary, one row per calculation: sim, state, soln, step, status, T [C], pH, pe,
        ionic strength, mass of water, the REACTION's moles when there is one, for each phase of an
        EQUILIBRIUM_PHASES its saturation index and moles in the assemblage, and the moles of each
        exchange species (above 1e-12 mol somewhere); then each SELECTED_OUTPUT
        as its own table. Molalities and every saturation index: ``to_csv`` / ``to_dict``."""
        from ..tables import table

        phases: list[str] = []
        for s in self.steps:
            if s.state == "react":
                phases += [p for p in (getattr(s.result, "phase_moles", None) or {}) if p not in phases]
        rx = any(s.state == "react" and not math.isnan(s.reaction) for s in self.steps)
        exs = list(dict.fromkeys(k for s in self.steps for k, v in {**s.exchange, **s.surface}.items() if v > 1e-12))
        gs = list(dict.fromkeys(k for s in self.steps for k in s.gas.get("moles", {})))
        head = ["sim", "state", "soln", "step", "status", "T [C]", "pH", "pe", "I [mol/kgw]", "H2O [kg]"]
        head += ["reaction [mol]"] * rx
        for p in phases:
            head += [f"SI {p}", f"mol {p}"]
        head += [f"mol {x}" for x in exs]
        if gs:
            head += ["gas P [atm]", "gas V [L]"] + [f"{x} mol, atm" for x in gs]
        rows = []
        for s in self.steps:
            r = s.result
            row = [s.sim, s.state, s.soln, s.step if s.state == "react" else "-", r.status.name,
                   _g(r.T - 273.15, ".2f"), _g(r.pH, ".6f"), _g(r.pe, ".6f"), _g(r.ionic_strength, ".6g"),
                   _g(getattr(r, "water_mass", 1.0), ".7g")]
            if rx:
                row.append(_g(s.reaction, ".6g") if s.state == "react" else "-")
            moles = (getattr(r, "phase_moles", None) or {}) if s.state == "react" else {}
            for p in phases:
                row += [_g(r.saturation_index.get(p), ".5f"), _g(moles.get(p), ".6g")]
            both = {**s.exchange, **s.surface}
            row += [_g(both.get(x), ".6g") if both else "-" for x in exs]
            if gs:
                gd = s.gas
                row += [_g(gd.get("pressure"), ".6g") if gd else "-", _g(gd.get("volume"), ".6g") if gd else "-"]
                row += [(f"{gd['moles'].get(x, 0.0):.6g}, {gd['partial_pressure'].get(x, 0.0):.6g}" if gd else "-")
                        for x in gs]
            rows.append(row)
        parts = [f"database {Path(self.database).name}; {len(self.steps)} calculation(s)",
                 table(rows, head) if rows else "(no calculation)"]
        for n, sel in sorted(self.selected.items()):
            cols = list(dict.fromkeys(k for r_ in sel for k in r_))
            parts.append(f"\nSELECTED_OUTPUT {n}\n" + table([[_g(r_.get(c), ".6g") for c in cols] for r_ in sel],
                                                             cols))
        parts.append("(molalities and every saturation index: --format json or csv)")
        if self.stopped:
            parts.append(f"stopped: {self.stopped}")
        return "\n".join(parts) + "\n"


def _num(v):
    return "" if v is None else repr(float(v))


def _g(v, spec: str) -> str:
    """A table cell: "-" for nothing, text as it is, a number in ``spec``."""
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(v)
    v = float(v)
    if math.isnan(v):
        return "-"
    if spec.endswith("f"):  # no "-0.00000" for a value that rounds to zero
        v = round(v, int(spec[1:-1])) + 0.0
    return format(v, spec)


# ------------------------------------------------------------------ reading
def _logical_lines(text: str, fname: str):
    """(line number, text) of the input: '#' comments removed, ';' splits a line, a trailing
    backslash continues it."""
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > MAX_LINE:
            raise InvalidInputError(f"{fname}:{no}: line longer than {MAX_LINE} characters")
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = no
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        for part in line.split(";"):
            if part.strip():
                yield start, part.strip()
    if pending.strip():
        yield start, pending.strip()


def read_blocks(text: str, fname: str) -> list[list[Block]]:
    """The input as simulations (lists of blocks, each ending at END or the end of the text). An
    empty simulation (END after END) keeps its number, as in PHREEQC; nothing after the last END is
    no simulation."""
    if len(text) > MAX_CHARS:
        raise InvalidInputError(f"{fname}: input of {len(text)} characters is larger than {MAX_CHARS}")
    sims: list[list[Block]] = [[]]
    cur: Block | None = None
    for no, line in _logical_lines(text, fname):
        first = line.split()[0]
        key = _ALIASES.get(first.lower())
        if key is not None and not first.startswith("-"):
            if key == "DATABASE":
                raise InvalidInputError(f"{fname}:{no}: DATABASE is not read by chemsolve's PHREEQC input reader; "
                                        "remove the line and give the database with --database FILE_OR_NAME "
                                        "(chemsolve run) or database= (run_phreeqc_input)")
            if key in ("KINETICS", "RATES"):
                raise InvalidInputError(f"{fname}:{no}: {key} is not supported: PHREEQC's RATES are BASIC programs, "
                                        "which chemsolve does not run; give the kinetic reactants to chemsolve.reactor."
                                        "Reactor(kinetics=[Kinetic(name, TST|FirstOrder|Monod|UserRate)])")
            if key not in SUPPORTED and key not in DATABASE_BLOCKS:
                raise InvalidInputError(f"{fname}:{no}: {key} is not supported by chemsolve's PHREEQC input reader "
                                        f"(it reads {', '.join(SUPPORTED[:-2])}, TITLE, END and the database blocks "
                                        f"{', '.join(DATABASE_BLOCKS[:3])}); remove it or run PHREEQC")
            if key == "END":
                sims.append([])
                cur = None
                continue
            cur = Block(key, line[len(first):].strip(), no)
            sims[-1].append(cur)
            continue
        if cur is None:
            raise InvalidInputError(f"{fname}:{no}: {line!r} before any keyword")
        cur.lines.append(Line(no, line))
    while sims and not sims[-1]:
        sims.pop()
    return sims


# ------------------------------------------------------------------ numbers of blocks
_RANGE = re.compile(r"^(-?\d+)(?:-(\d+))?$")


def _equilibrate_number(toks: list[str], where: str) -> int:
    """The solution of ``-equilibrate n``: the first number after the option, as PHREEQC reads it
    (words between are skipped: ex14's ``-equil with solution 1``)."""
    for t in toks[1:]:
        m = _RANGE.match(t)
        if m:
            return int(m.group(1))
    raise InvalidInputError(f"{where}: -equilibrate needs a solution number")


def _number(head: str, where: str, default: int = 1) -> tuple[int, int, str]:
    """(first, last, description) of "n", "n-m", "n description", or "" (the default)."""
    toks = head.split()
    if toks and _RANGE.match(toks[0]):
        m = _RANGE.match(toks[0])
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a or b - a > 10_000:
            raise InvalidInputError(f"{where}: bad number range {toks[0]!r}")
        return a, b, " ".join(toks[1:])
    return default, default, " ".join(toks)


def _float(tok: str, where: str, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise InvalidInputError(f"{where}: {what}: {tok!r} is not a number") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"{where}: {what}: {tok!r} is not finite")
    return v


def _option(word: str, options: tuple[str, ...]) -> str | None:
    """PHREEQC's get_option: "-temp" or "temp" (a prefix of one option, first in order wins)."""
    w = word.lower().lstrip("-")
    if not w:
        return None
    for o in options:
        if o.startswith(w) and (word.startswith("-") or o == w):
            return o
    return None


# ------------------------------------------------------------------ the blocks
_SOL_OPTS = ("temp", "temperature", "dens", "density", "units", "redox", "ph", "pe", "unit", "isotope", "water",
             "press", "pressure", "potential")


def _solution(db: Database, b: Block, fname: str) -> tuple[Solution, int, int]:
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    kw: dict[str, Any] = {"units": "mmol/kgw", "T": 298.15, "pH": 7.0, "pe": 4.0, "density": 1.0, "water": 1.0,
                          "P": 1.0, "redox": None}
    totals: dict[str, Any] = {}
    lines: dict[str, str] = {}
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        opt = _option(toks[0], _SOL_OPTS)
        if opt is None and toks[0].startswith("-"):
            raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in SOLUTION")
        if opt in ("temp", "temperature"):
            kw["T"] = _float(toks[1], w, "temperature") + 273.15 if len(toks) > 1 else kw["T"]
        elif opt in ("dens", "density"):
            if len(toks) < 2:
                raise InvalidInputError(f"{w}: density needs a value [kg/L]")
            kw["density"] = _float(toks[1], w, "density")
            if len(toks) > 2:
                raise InvalidInputError(f"{w}: 'density ... calc' (densities computed from molar volumes) is not "
                                        "supported; give the density")
        elif opt in ("units", "unit"):
            if len(toks) > 1:
                if normalize_units(toks[1]) is None:
                    raise InvalidInputError(f"{w}: unknown units {toks[1]!r}")
                kw["units"] = toks[1]
        elif opt == "redox":
            if len(toks) > 1:
                kw["redox"] = toks[1] if toks[1].lower() != "pe" else None
        elif opt == "ph":
            kw["pH"] = tuple(toks[1:]) if len(toks) > 2 else (toks[1] if len(toks) > 1 else 7.0)
        elif opt == "pe":
            kw["pe"] = tuple(toks[1:]) if len(toks) > 2 else (toks[1] if len(toks) > 1 else 4.0)
        elif opt == "water":
            kw["water"] = _float(toks[1], w, "mass of water [kg]") if len(toks) > 1 else 1.0
        elif opt in ("press", "pressure"):
            kw["P"] = _float(toks[1], w, "pressure [atm]") if len(toks) > 1 else 1.0
        elif opt == "isotope" or (toks[0][0].isdigit()):
            raise InvalidInputError(f"{w}: isotopes are not supported")
        elif opt == "potential":
            raise InvalidInputError(f"{w}: -potential is not supported")
        else:
            key = toks[0]
            if len(toks) > 1 and toks[1][0].isupper() and not _looks_number(toks[1]):
                raise InvalidInputError(f"{w}: several master species on one line ({' '.join(toks[:2])}...) are not "
                                        "supported; give each its own total")
            totals[key] = " ".join(toks[1:])
            lines[key] = w
    for k in ("pH", "pe"):
        v = kw[k]
        if isinstance(v, str):
            kw[k] = v
    sol = Solution(db, totals, units=kw["units"], T=kw["T"], pH=kw["pH"], pe=kw["pe"], redox=kw["redox"],
                   density=kw["density"], water=kw["water"], P=kw["P"], where=where, lines=lines)
    return sol, first, last


def _looks_number(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def _pp(db: Database, b: Block, fname: str):
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    comps: dict[str, dict] = {}
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        if _option(toks[0], ("force_equality",)):
            raise InvalidInputError(f"{w}: -force_equality is not supported")
        if toks[0].startswith("-"):
            raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in EQUILIBRIUM_PHASES")
        name = toks[0]
        if name not in db.phases:
            raise InvalidInputError(f"{w}: phase {name!r} is not in the database")
        spec: dict[str, Any] = {"si": 0.0, "moles": 10.0}
        i = 1
        if i < len(toks):
            spec["si"] = _float(toks[i], w, f"saturation index of {name}")
            i += 1
        if i < len(toks) and toks[i][0].isalpha():
            spec["formula"] = toks[i]
            i += 1
        if i < len(toks):
            spec["moles"] = max(_float(toks[i], w, f"moles of {name}"), 0.0)
            i += 1
        if i < len(toks):
            t = toks[i].lower()
            if t.startswith("d"):
                spec["only"] = "dissolve"
            elif t.startswith("p"):
                spec["only"] = "precipitate"
            else:
                raise InvalidInputError(f"{w}: unexpected {toks[i]!r} at the end of the equilibrium phase")
            i += 1
        if i < len(toks):
            raise InvalidInputError(f"{w}: unexpected {' '.join(toks[i:])!r}")
        comps[name] = spec
        try:
            phase_specs({name: spec}, db)
        except InvalidInputError as err:
            raise InvalidInputError(f"{w}: {err}") from None
    return dict(sorted(comps.items())), first, last  # PHREEQC keeps the assemblage in name order


@dataclass
class ExchangeDef:
    """An EXCHANGE block: {exchange species: moles}, or {exchanger: moles of sites} with the solution
    to equilibrate with (``-equilibrate n``)."""

    amounts: dict[str, float]
    equilibrate: int | None
    where: str


def _exchange(db: Database, b: Block, fname: str):
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    amounts: dict[str, float] = {}
    eq: int | None = None
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        opt = _option(toks[0], ("equilibrate", "equilibrium", "equilibria", "pitzer_exchange_gammas",
                                "exchange_gammas"))
        if toks[0].startswith("-") or opt is not None:  # PHREEQC reads an option with or without its dash
            if opt in ("equilibrate", "equilibrium", "equilibria"):
                eq = _equilibrate_number(toks, w)
            elif opt in ("pitzer_exchange_gammas", "exchange_gammas"):
                if len(toks) > 1 and toks[1].lower().startswith("f"):
                    raise InvalidInputError(f"{w}: {toks[0]} false (exchange species without the cation's "
                                            "activity coefficient) is not modelled")
            else:
                raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in EXCHANGE")
            continue
        name = toks[0]
        if len(toks) != 2:
            raise InvalidInputError(f"{w}: EXCHANGE lines are 'formula moles' (an exchanger linked to a phase or a "
                                    f"kinetic reactant is not modelled), got {ln.text!r}")
        x = _float(toks[1], w, f"moles of {name}")
        if not (math.isfinite(x) and x >= 0):
            raise InvalidInputError(f"{w}: moles of {name} must be finite and >= 0, got {toks[1]!r}")
        if name not in db.exchange_species and name not in db.exchange_masters:
            raise InvalidInputError(f"{w}: {name!r} is neither an exchange species nor an exchanger of the database")
        amounts[name] = amounts.get(name, 0.0) + x
    if not amounts:
        raise InvalidInputError(f"{where}: EXCHANGE without an exchanger")
    bare = [k for k in amounts if k in db.exchange_masters]
    if eq is None and bare:
        raise InvalidInputError(f"{where}: EXCHANGE gives {bare[0]} (sites) without -equilibrate: give the "
                                f"composition (e.g. Na{bare[0]} 0.01) or '-equilibrate n'")
    return ExchangeDef(amounts, eq, where), first, last


@dataclass
class GasDef:
    """A GAS_PHASE block: {gas phase: partial pressure [atm]}, fixed "pressure" or "volume", the
    pressure [atm], volume [L], temperature [C], and the solution to equilibrate with (fixed volume)."""

    pressures: dict[str, float]
    fixed: str
    pressure: float
    volume: float
    tc: float
    equilibrate: int | None
    where: str


_GAS_OPTS = ("pressure", "volume", "temperature", "fixed_pressure", "fixed_volume", "equilibrium", "equilibrate",
             "equil")


def _gas_def(db: Database, b: Block, fname: str):
    """GAS_PHASE (PHREEQC's read_gas_phase options; a component line: phase and partial pressure [atm])."""
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    comps: dict[str, float] = {}
    fixed, P, V, tc, eq = "pressure", 1.0, 1.0, 25.0, None
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        if toks[0].startswith("-"):
            opt = _option(toks[0], _GAS_OPTS)
            if opt is None:
                raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in GAS_PHASE")
            if opt in ("fixed_pressure", "fixed_volume"):
                fixed = opt.split("_")[1]
                continue
            if opt in ("equilibrium", "equilibrate", "equil"):
                if len(toks) < 2 or not _RANGE.match(toks[1]):
                    raise InvalidInputError(f"{w}: -equilibrate needs a solution number")
                eq = int(_RANGE.match(toks[1]).group(1))
                continue
            if len(toks) < 2:
                raise InvalidInputError(f"{w}: -{opt} needs a number")
            x = _float(toks[1], w, f"-{opt}")
            if opt == "temperature":
                if not (math.isfinite(x) and x > -273.15):
                    raise InvalidInputError(f"{w}: -temperature must be above -273.15 C, got {toks[1]!r}")
                tc = x
            elif not (math.isfinite(x) and x > 0):
                raise InvalidInputError(f"{w}: -{opt} must be finite and > 0, got {toks[1]!r}")
            elif opt == "pressure":
                P = x
            else:
                V = x
            continue
        name = toks[0]
        if name not in db.phases:
            raise InvalidInputError(f"{w}: {name!r} is not a phase of the database")
        x = _float(toks[1], w, f"partial pressure of {name}") if len(toks) > 1 else 0.0
        if not (math.isfinite(x) and x >= 0):
            raise InvalidInputError(f"{w}: partial pressure of {name} must be finite and >= 0, got {toks[1]!r}")
        comps[name] = x
    if not comps:
        raise InvalidInputError(f"{where}: GAS_PHASE without a gas")
    if eq is not None and fixed == "pressure":  # as PHREEQC's tidy_gas_phase
        raise InvalidInputError(f"{where}: GAS_PHASE: -equilibrate is for a fixed-volume gas phase (PHREEQC refuses "
                                "it with -fixed_pressure)")
    return GasDef(comps, fixed, P, V, tc, eq, where), first, last


@dataclass
class SurfaceDef:
    """A SURFACE block: {site type: moles of sites}, {surface: (specific area m2/g, grams)}, the
    electrostatic model ("ddl", PHREEQC's default, or "no_edl")."""

    sites: dict[str, float]
    areas: dict[str, tuple[float, float]]
    edl: str
    where: str
    equilibrate: int | None = None  # the solution to equilibrate with (-equilibrate n)


# PHREEQC's SURFACE options (read.cpp read_surface), in its order; the ones chemsolve does not model are
# refused with the reason
_SURF_OPTS = ("equilibrate", "equil", "diff", "diffuse_layer", "no_edl", "no_electrostatic", "only_counter_ions",
              "donnan", "cd_music", "capacitances", "sites", "sites_units", "constant_capacitance", "ccm",
              "equilibrium", "site_units", "ddl", "donnan_factors")
_SURF_REFUSED = {
    "diffuse_layer": "-diffuse_layer (the explicit composition of the diffuse layer)",
    "only_counter_ions": "-only_counter_ions (an explicit diffuse layer)", "donnan": "-donnan (a Donnan layer)",
    "donnan_factors": "-donnan_factors (a Donnan layer)", "cd_music": "-cd_music (CD-MUSIC)",
    "capacitances": "-capacitances (CD-MUSIC)", "constant_capacitance": "-constant_capacitance (CCM)",
}


def _surface(db: Database, b: Block, fname: str):
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    edl = "ddl"
    density = False
    eq: int | None = None
    rows: list[tuple[str, str, list[float]]] = []
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        opt = _option(toks[0], _SURF_OPTS)
        if toks[0].startswith("-") or opt is not None:
            key = {"equil": "equilibrate", "equilibrium": "equilibrate", "diff": "diffuse_layer",
                   "no_electrostatic": "no_edl", "ccm": "constant_capacitance", "sites": "sites_units",
                   "site_units": "sites_units"}.get(opt or "", opt)
            if key in _SURF_REFUSED:
                raise InvalidInputError(f"{w}: SURFACE {toks[0]}: {_SURF_REFUSED[key]} is not modelled")
            if key == "equilibrate":
                eq = _equilibrate_number(toks, w)
            elif key == "no_edl":
                edl = "no_edl"
            elif key == "ddl":
                edl = "ddl"
            elif key == "sites_units":
                u = toks[1].lower() if len(toks) > 1 else ""
                if u.startswith("a"):
                    density = False
                elif u.startswith("d"):
                    density = True
                else:
                    raise InvalidInputError(f"{w}: -sites_units expects 'absolute' or 'density', got {ln.text!r}")
            else:
                raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in SURFACE")
            continue
        formula = toks[0]
        # the site's master species (Hfo_wOH) or the site itself (Hfo_w, as ex19b writes it): PHREEQC reads
        # the surface element of the formula either way
        site = formula if formula in db.surface_masters else next(
            (el for el, sm in db.surface_masters.items() if sm.species == formula), None)
        if site is None:
            known = ", ".join(sm.species for sm in db.surface_masters.values())
            raise InvalidInputError(f"{w}: {formula!r} is not the master species of a surface site of the database "
                                    f"(SURFACE_MASTER_SPECIES: {known})")
        if len(toks) < 2 or not re.match(r"^[-+.\d]", toks[1]):
            raise InvalidInputError(f"{w}: SURFACE lines are 'formula sites [specific_area grams]' (a surface linked "
                                    f"to a phase or a kinetic reactant is not modelled), got {ln.text!r}")
        if len(toks) not in (2, 4):
            raise InvalidInputError(f"{w}: SURFACE lines are 'formula sites [specific_area grams]', got {ln.text!r}")
        nums = [_float(t, w, f"{what} of {formula}") for t, what in zip(toks[1:], ("sites", "specific area", "grams"))]
        for x in nums:
            if not (math.isfinite(x) and x >= 0):
                raise InvalidInputError(f"{w}: the numbers of {formula} must be finite and >= 0, got {ln.text!r}")
        rows.append((site, w, nums))
    if not rows:
        raise InvalidInputError(f"{where}: SURFACE without a site")
    sites: dict[str, float] = {}
    areas: dict[str, tuple[float, float]] = {}
    for site, _w, nums in rows:
        sname = site.split("_")[0]
        if len(nums) == 3:
            areas[sname] = (nums[1], nums[2])
    for site, w, nums in rows:
        sname = site.split("_")[0]
        moles = nums[0]
        if density:  # sites/nm2 x m2/g x g -> moles (PHREEQC's SITES_DENSITY)
            if sname not in areas:
                raise InvalidInputError(f"{w}: -sites_units density needs the specific area and mass of {sname}")
            from .surface import AVOGADRO

            moles = nums[0] * areas[sname][0] * areas[sname][1] * 1e18 / AVOGADRO
        if site in sites:
            raise InvalidInputError(f"{w}: site {site} given twice in this SURFACE")
        if not moles > 0:
            raise InvalidInputError(f"{w}: the sites of {site} must be > 0, got {nums[0]!r}")
        sites[site] = moles
    if edl == "ddl":
        for sname in sorted({s.split("_")[0] for s in sites}):
            a = areas.get(sname)
            if a is None or not (a[0] > 0 and a[1] > 0):
                raise InvalidInputError(f"{where}: SURFACE {sname}: the diffuse double layer (PHREEQC's default) needs "
                                        "its specific area and mass on a site line ('Hfo_wOH 2e-4 600 0.09'), or "
                                        "-no_edl")
    return SurfaceDef(sites, areas, edl, where, eq), first, last


@dataclass
class ReactionDef:
    reactants: dict[str, float]
    steps: list[float]
    equal: bool
    count: int
    factor: float

    def n_steps(self) -> int:
        return self.count if self.equal else len(self.steps)

    def amount(self, k: int) -> float:
        """Moles of reaction of step k (1-based), as PHREEQC's add_reaction (not incremental): the
        total added since the start."""
        if self.equal:
            x = self.steps[0] if k > self.count else self.steps[0] * k / self.count
        else:
            x = self.steps[min(k, len(self.steps)) - 1]
        return x * self.factor

    def increment(self, k: int) -> float:
        """Moles of reaction added at step k (1-based) under INCREMENTAL_REACTIONS true, as PHREEQC's
        add_reaction: a list's k-th amount (its last beyond the list), or X / N per step of "X in N
        steps" (nothing beyond the N-th)."""
        if self.equal:
            x = 0.0 if k > self.count else self.steps[0] / self.count
        else:
            x = self.steps[min(k, len(self.steps)) - 1]
        return x * self.factor


def _reaction(db: Database, b: Block, fname: str):
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    reactants: dict[str, float] = {}
    steps: list[float] = []
    equal, count, factor = False, 0, 1.0
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        if toks[0][0].isalpha() or toks[0][0] in "([":
            last_tok = None
            for t in toks:
                if t[0].isalpha() or t[0] in "([":
                    reactants[t] = 1.0
                    last_tok = t
                else:
                    if last_tok is None:
                        raise InvalidInputError(f"{w}: a coefficient before any reactant")
                    reactants[last_tok] = _float(t, w, f"coefficient of {last_tok}")
            continue
        i = 0
        while i < len(toks):
            t = toks[i]
            if "*" in t:
                a, _, v = t.partition("*")
                try:
                    n = int(a)
                except ValueError:
                    raise InvalidInputError(f"{w}: {t!r}: expected count*amount, e.g. 4*0.1") from None
                if n < 0 or len(steps) + n > MAX_STEPS:
                    raise InvalidInputError(f"{w}: {t!r}: too many steps (at most {MAX_STEPS})")
                steps += [_float(v, w, "reaction amount")] * n
                i += 1
                continue
            if not _looks_number(t):
                break
            steps.append(_float(t, w, "reaction amount"))
            if len(steps) > MAX_STEPS:
                raise InvalidInputError(f"{w}: more than {MAX_STEPS} reaction steps")
            i += 1
        if i < len(toks):
            u = normalize_units(toks[i] + "/l")
            if u is not None:
                if "Mol" not in u:
                    raise InvalidInputError(f"{w}: units of reaction steps must be moles, got {toks[i]!r}")
                factor = {"m": 1e-3, "u": 1e-6}.get(u[0], 1.0)
                i += 1
            elif toks[i].lower() in ("nmol", "nmoles", "nanomol", "nanomoles"):
                factor = 1e-9  # PHREEQC's add_reaction: units starting with n
                i += 1
        if i < len(toks):
            if toks[i].lower() != "in" and not _looks_number(toks[i]):
                raise InvalidInputError(f"{w}: unexpected {toks[i]!r} in REACTION steps")
            j = i + 1 if toks[i].lower() == "in" else i
            if len(steps) != 1:
                raise InvalidInputError(f"{w}: equal increments need one reaction amount ('X in N steps')")
            try:
                count = int(toks[j])
            except (ValueError, IndexError):
                raise InvalidInputError(f"{w}: expected the number of equal increments") from None
            if not 0 < count <= MAX_STEPS:
                raise InvalidInputError(f"{w}: number of steps must be 1..{MAX_STEPS}, got {count}")
            equal = True
    for k in reactants:
        if k not in db.phases:
            try:
                add_formulas(WaterState(db, 298.15, 1.0, 1.0, {}, 0.0, 55.5, 0.0, 0.0), {k: 1.0})
            except InvalidInputError as err:
                raise InvalidInputError(f"{where}: {err}") from None
    if not steps:
        steps = [1.0]
    if equal and count == 0:
        count = 1
    return ReactionDef(reactants, steps, equal, count, factor), first, last


@dataclass
class ListDef:
    values: list[float]
    equal: bool
    count: int

    def n(self) -> int:
        return self.count if self.equal else len(self.values)

    def for_step(self, k: int) -> float:
        if not self.values:
            return float("nan")
        if self.equal:
            if k > self.count:
                return self.values[1]
            denom = 1 if self.count <= 1 else self.count - 1
            return self.values[0] + (self.values[1] - self.values[0]) * (k - 1) / denom
        return self.values[min(k, len(self.values)) - 1]


def _list_block(b: Block, fname: str, what: str):
    """REACTION_TEMPERATURE / REACTION_PRESSURE: "t1 t2 ... " or "t1 t2 in N steps"."""
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    vals: list[float] = []
    equal, count = False, 0
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        i = 0
        while i < len(toks) and _looks_number(toks[i]):
            vals.append(_float(toks[i], w, what))
            i += 1
        if i < len(toks):
            if toks[i].lower() != "in":
                raise InvalidInputError(f"{w}: unexpected {toks[i]!r} in {b.keyword}")
            if len(vals) != 2:
                raise InvalidInputError(f"{w}: equal increments need two values ('25 75 in 51 steps')")
            try:
                count = int(toks[i + 1])
            except (ValueError, IndexError):
                raise InvalidInputError(f"{w}: expected the number of steps") from None
            if not 0 < count <= MAX_STEPS:
                raise InvalidInputError(f"{w}: number of steps must be 1..{MAX_STEPS}, got {count}")
            equal = True
    return ListDef(vals, equal, count), first, last


def _true_false(b: Block, fname: str) -> bool:
    """INCREMENTAL_REACTIONS [true|false]: PHREEQC's get_true_false (a word starting with f or F is
    false; anything else, or nothing, true); the block has no option lines."""
    if b.lines:
        raise InvalidInputError(f"{fname}:{b.lines[0].no}: {b.lines[0].text!r}: INCREMENTAL_REACTIONS takes "
                                "true or false on its own line and nothing else")
    word = b.head.split()[0] if b.head.split() else ""
    return word[:1] not in ("f", "F")


def _mix(b: Block, fname: str):
    where = f"{fname}:{b.line}"
    first, last, _ = _number(b.head, where)
    fr: dict[int, float] = {}
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        if len(toks) != 2 or not _RANGE.match(toks[0]):
            raise InvalidInputError(f"{w}: MIX lines are 'solution_number fraction', got {ln.text!r}")
        fr[int(toks[0])] = _float(toks[1], w, "mixing fraction")
    if not fr:
        raise InvalidInputError(f"{where}: MIX without solutions")
    return fr, first, last


_USE_KEYS = {"solution": "solution", "equilibrium_phases": "equilibrium_phases", "pure_phases": "equilibrium_phases",
             "equilibria": "equilibrium_phases", "equilibrium": "equilibrium_phases", "pure": "equilibrium_phases",
             "equilibrium_phase": "equilibrium_phases", "reaction": "reaction", "mix": "mix", "exchange": "exchange",
             "surface": "surface", "gas_phase": "gas_phase",
             "reaction_temperature": "temperature", "reaction_pressure": "pressure", "reaction_pressures": "pressure"}


def _use(b: Block, fname: str) -> tuple[str, int | None]:
    where = f"{fname}:{b.line}"
    toks = b.head.split()
    if not toks:
        raise InvalidInputError(f"{where}: USE needs what to use, e.g. 'USE solution 1'")
    kind = _USE_KEYS.get(toks[0].lower())
    if kind is None:
        raise InvalidInputError(f"{where}: USE {toks[0]}: chemsolve uses solution, equilibrium_phases, exchange, "
                                "surface, gas_phase, reaction, mix, reaction_temperature or reaction_pressure")
    if len(toks) < 2:
        return kind, 1
    if toks[1].lower().startswith("n"):
        return kind, None
    m = _RANGE.match(toks[1])
    if not m:
        raise InvalidInputError(f"{where}: USE {toks[0]} {toks[1]}: expected a number")
    return kind, int(m.group(1))


def _save(b: Block, fname: str) -> tuple[str, int, int]:
    where = f"{fname}:{b.line}"
    toks = b.head.split()
    kind = _USE_KEYS.get(toks[0].lower()) if toks else None
    if kind not in ("solution", "equilibrium_phases", "exchange", "surface", "gas_phase"):
        raise InvalidInputError(f"{where}: SAVE: chemsolve saves a solution, equilibrium_phases, exchange, surface or "
                                f"gas_phase, got {b.head!r}")
    if len(toks) < 2 or not _RANGE.match(toks[1]):
        raise InvalidInputError(f"{where}: SAVE {toks[0]}: expected a number")
    m = _RANGE.match(toks[1])
    a = int(m.group(1))
    return kind, a, int(m.group(2)) if m.group(2) else a


_SO_BOOL = {"reset": None, "simulation": "sim", "sim": "sim", "state": "state", "solution": "soln", "soln": "soln",
            "distance": "dist_x", "dist": "dist_x", "time": "time", "step": "step", "reaction": "reaction",
            "rxn": "reaction", "temperature": "temp", "temp": "temp", "ph": "pH", "pe": "pe", "alkalinity": "alk",
            "alk": "alk", "ionic_strength": "mu", "mu": "mu", "water": "water", "charge_balance": "charge",
            "percent_error": "pct_err", "high_precision": "high_precision", "selected_out": "active",
            "selected_output": "active", "active": "active", "new_line": "new_line", "user_punch": "user_punch"}
_SO_LIST = {"totals": "totals", "molalities": "molalities", "mol": "molalities", "activities": "activities",
            "pure_phases": "phases", "equilibrium_phases": "phases", "equilibria": "phases", "equilibrium": "phases",
            "pure": "phases", "equilibrium_phase": "phases", "si": "si", "saturation_indices": "si"}
_SO_ORDER = ("sim", "state", "soln", "dist_x", "time", "step", "pH", "pe", "reaction", "temp", "alk", "mu", "water",
             "charge", "pct_err")
_SO_OPTS = ("file", "totals", "molalities", "activities", "pure_phases", "si", "saturation_indices", "gases",
            "equilibrium_phases", "equilibria", "equilibrium", "pure", "inverse", "kinetic_reactants", "kinetics",
            "solid_solutions", "inverse_modeling", "reset", "simulation", "sim", "state", "solution", "soln",
            "distance", "dist", "time", "step", "reaction", "rxn", "temperature", "temp", "ph", "pe", "alkalinity",
            "alk", "ionic_strength", "mu", "water", "high_precision", "user_punch", "mol", "kin", "charge_balance",
            "percent_error", "selected_out", "selected_output", "isotopes", "calculate_values", "equilibrium_phase",
            "active", "new_line")


def _selected_output(b: Block, fname: str, old: dict | None) -> tuple[int, dict]:
    where = f"{fname}:{b.line}"
    n, _, _ = _number(b.head, where)
    spec = dict(old) if old is not None else {
        "sim": True, "state": True, "soln": True, "dist_x": True, "time": True, "step": True, "pH": True, "pe": True,
        "reaction": False, "temp": False, "alk": False, "mu": False, "water": False, "charge": False,
        "pct_err": False, "totals": [], "molalities": [], "activities": [], "phases": [], "si": [], "active": True}
    for ln in b.lines:
        w = f"{fname}:{ln.no}"
        toks = ln.text.split()
        opt = _option(toks[0], _SO_OPTS)
        if opt is None:
            raise InvalidInputError(f"{w}: unknown option {toks[0]!r} in SELECTED_OUTPUT")
        if opt == "gases":  # PHREEQC's pressure, total mol, volume and g_<gas> columns (0 without a gas phase)
            spec["gases"] = list(spec.get("gases", [])) + toks[1:]
            continue
        if opt in ("inverse", "kinetic_reactants", "kinetics", "solid_solutions", "inverse_modeling",
                   "isotopes", "calculate_values", "kin"):
            raise InvalidInputError(f"{w}: SELECTED_OUTPUT -{opt} is not supported (its blocks are not)")
        if opt == "file":
            continue  # chemsolve returns the rows; it writes no file of PHREEQC's
        if opt in _SO_LIST:
            spec[_SO_LIST[opt]] = list(spec[_SO_LIST[opt]]) + toks[1:]
            continue
        val = True
        if len(toks) > 1:
            t = toks[1].lower()
            if t.startswith("f"):
                val = False
            elif not t.startswith("t"):
                raise InvalidInputError(f"{w}: -{opt} takes true or false, got {toks[1]!r}")
        key = _SO_BOOL.get(opt)
        if opt == "reset":
            for k in _SO_ORDER:
                spec[k] = val
        elif key in ("high_precision", "new_line", "user_punch"):
            continue
        else:
            spec[key] = val
    return n, spec


# ------------------------------------------------------------------ running
@dataclass
class _Store:
    db: Database
    solutions: dict[int, Any] = field(default_factory=dict)  # number -> WaterState
    solution_results: dict[int, Any] = field(default_factory=dict)
    pp: dict[int, dict] = field(default_factory=dict)
    exchangers: dict[int, Any] = field(default_factory=dict)  # number -> Exchanger
    surfaces: dict[int, Any] = field(default_factory=dict)  # number -> Surface
    gases: dict[int, Any] = field(default_factory=dict)  # number -> GasPhase
    reactions: dict[int, ReactionDef] = field(default_factory=dict)
    mixes: dict[int, dict] = field(default_factory=dict)
    temps: dict[int, ListDef] = field(default_factory=dict)
    pressures: dict[int, ListDef] = field(default_factory=dict)
    selected: dict[int, dict] = field(default_factory=dict)
    incremental: bool = False  # INCREMENTAL_REACTIONS: kept from simulation to simulation, as in PHREEQC


def _database(base_text: str, base_path: str, appended: list[tuple[str, list[Line], str]]) -> Database:
    """The database with the input's database blocks appended (later definitions replace earlier
    ones, as in PHREEQC); an error in an appended block names the input's file and line."""
    lines = base_text.splitlines()
    origin: list[str | None] = [None] * len(lines)
    for kw_line, block_lines, fname in appended:
        lines.append(kw_line.split("@", 1)[0])
        origin.append(f"{fname}:{kw_line.split('@', 1)[1]}")
        for ln in block_lines:
            lines.append(ln.text)
            origin.append(f"{fname}:{ln.no}")
    text = "\n".join(lines) + "\n"
    name = Path(base_path).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            return parse_database(text, base_path)
    except DatabaseError as err:
        msg = str(err)
        m = re.match(re.escape(name) + r":(\d+): ", msg)
        if m and int(m.group(1)) - 1 < len(origin) and origin[int(m.group(1)) - 1] is not None:
            raise InvalidInputError(origin[int(m.group(1)) - 1] + ": " + msg[m.end():]) from None
        raise


def run_phreeqc_input(text: str, database: str | Database = "phreeqc.dat", *, name: str = "input",
                      ionic_strength: str = "newton") -> PhreeqcRun:
    """Run a PHREEQC input text (see the module docstring); ``database``: a bundled name, a path, or
    a loaded ``Database`` (the input's database blocks are then appended to its file's text)."""
    return _run(text, database, name, ionic_strength)[0]


@dataclass
class InputDefinitions:
    """The numbered reactants a PHREEQC input leaves defined when it ends (PHREEQC's stored entities,
    what PhreeqcRM's InitialPhreeqc2Module copies into cells): ``solutions`` {n: WaterState} and their
    ``solution_results`` {n: result of the calculation that made them}, ``equilibrium_phases`` {n:
    {phase: {"si", "moles", ...}}} (as ``react`` takes them), ``exchangers`` {n: Exchanger} (an
    ``-equilibrate`` one already equilibrated), ``surfaces`` {n: Surface} (likewise); ``db``: the database
    with the input's own database blocks; ``run``: every calculation of the input."""

    db: Database
    solutions: dict[int, Any]
    solution_results: dict[int, Any]
    equilibrium_phases: dict[int, dict]
    exchangers: dict[int, Any]
    run: PhreeqcRun
    surfaces: dict[int, Any] = field(default_factory=dict)


def input_definitions(text: str, database: str | Database = "phreeqc.dat", *, name: str = "input",
                      ionic_strength: str = "newton") -> InputDefinitions:
    """Run a PHREEQC input (as ``run_phreeqc_input``) and return what it leaves defined by number; a
    calculation that did not converge stops the run, as in PHREEQC, and is a one-line error here."""
    run, store = _run(text, database, name, ionic_strength)
    if run.stopped:
        raise InvalidInputError(run.stopped)
    return InputDefinitions(store.db, dict(store.solutions), dict(store.solution_results),
                            {k: {p: dict(v) for p, v in pp.items()} for k, pp in store.pp.items()},
                            dict(store.exchangers), run, dict(store.surfaces))


def _run(text: str, database, name: str, ionic_strength: str) -> tuple[PhreeqcRun, _Store]:
    base_path = database.path if isinstance(database, Database) else str(_resolve(database))
    base_text = read_text(Path(base_path))
    sims = read_blocks(text, name)
    appended: list[tuple[str, list[Line], str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatabaseWarning)
        db = database if isinstance(database, Database) else parse_database(base_text, base_path)
    store = _Store(db)
    steps: list[StepRecord] = []
    selected: dict[int, list[dict[str, Any]]] = {}
    for sim_no, blocks in enumerate(sims, start=1):
        new_db = [b for b in blocks if b.keyword in DATABASE_BLOCKS]
        if new_db:
            for b in new_db:
                appended.append((f"{b.keyword} {b.head}@{b.line}", b.lines, name))
            db = _database(base_text, base_path, appended)
            store = _rebind(store, db)
        try:
            _simulation(store, blocks, sim_no, name, steps, selected, ionic_strength)
        except _Stop as stop:  # PHREEQC stops at a calculation that does not converge: so does this
            return PhreeqcRun(steps, selected, base_path, str(stop)), store
    return PhreeqcRun(steps, selected, base_path), store


class _Stop(Exception):
    """A calculation did not converge: the run ends there, as PHREEQC's."""


def _rebind(store: _Store, db: Database) -> _Store:
    """The stored solutions after the database changed (their numbers are kept; the conserved totals
    do not depend on the database's species)."""
    from dataclasses import replace

    store.db = db
    store.solutions = {k: replace(v, db=db) for k, v in store.solutions.items()}
    store.exchangers = {k: replace(v, db=db) for k, v in store.exchangers.items()}
    store.surfaces = {k: replace(v, db=db) for k, v in store.surfaces.items()}
    store.gases = {k: replace(v, db=db) for k, v in store.gases.items()}
    return store


def _simulation(store: _Store, blocks: list[Block], sim: int, fname: str, steps: list[StepRecord],
                selected: dict, ionic_strength: str) -> None:
    db = store.db
    title = ""
    use: dict[str, int | None] = {}
    defined: dict[str, int] = {}
    new_solutions: list[tuple[int, Solution, int]] = []
    new_exchangers: list[tuple[int, ExchangeDef, int]] = []
    new_surfaces: list[tuple[int, SurfaceDef, int]] = []
    new_gases: list[tuple[int, GasDef, int]] = []
    saves: list[tuple[str, int, int]] = []
    for b in blocks:
        k = b.keyword
        if k == "TITLE":
            title = " ".join([b.head] + [ln.text for ln in b.lines]).strip()
        elif k == "SOLUTION":
            sol, a, z = _solution(db, b, fname)
            new_solutions.append((a, sol, z))
            defined.setdefault("solution", a)
        elif k == "EQUILIBRIUM_PHASES":
            comps, a, z = _pp(db, b, fname)
            for n in range(a, z + 1):
                store.pp[n] = comps
            defined.setdefault("equilibrium_phases", a)
        elif k == "EXCHANGE":
            xd, a, z = _exchange(db, b, fname)
            new_exchangers.append((a, xd, z))
            defined.setdefault("exchange", a)
        elif k == "SURFACE":
            sd, a, z = _surface(db, b, fname)
            new_surfaces.append((a, sd, z))
            defined.setdefault("surface", a)
        elif k == "GAS_PHASE":
            gd, a, z = _gas_def(db, b, fname)
            new_gases.append((a, gd, z))
            defined.setdefault("gas_phase", a)
        elif k == "REACTION":
            rd, a, z = _reaction(db, b, fname)
            for n in range(a, z + 1):
                store.reactions[n] = rd
            defined.setdefault("reaction", a)
        elif k == "MIX":
            fr, a, z = _mix(b, fname)
            for n in range(a, z + 1):
                store.mixes[n] = fr
            defined.setdefault("mix", a)
        elif k in ("REACTION_TEMPERATURE", "REACTION_PRESSURE"):
            ld, a, z = _list_block(b, fname, "temperature" if k == "REACTION_TEMPERATURE" else "pressure")
            tgt = store.temps if k == "REACTION_TEMPERATURE" else store.pressures
            for n in range(a, z + 1):
                tgt[n] = ld
            defined.setdefault("temperature" if k == "REACTION_TEMPERATURE" else "pressure", a)
        elif k == "USE":
            kind, n = _use(b, fname)
            use[kind] = n
        elif k == "SAVE":
            saves.append(_save(b, fname))
        elif k == "INCREMENTAL_REACTIONS":
            store.incremental = _true_false(b, fname)
        elif k == "SELECTED_OUTPUT":
            n, spec = _selected_output(b, fname, store.selected.get(1) if True else None)
            store.selected[n] = spec
    # 1. the new initial solutions, in number order
    for a, sol, z in sorted(new_solutions, key=lambda t: t[0]):
        r = sol.speciate(ionic_strength=ionic_strength)
        rec = StepRecord(sim, "i_soln", a, -99, r, title)
        steps.append(rec)
        _punch(store, rec, selected)
        for n in range(a, z + 1):
            if r.state is not None:
                store.solutions[n] = r.state
                store.solution_results[n] = r
            else:
                store.solutions.pop(n, None)
        if r.status != Status.CONVERGED:
            raise _Stop(f"{sol.where or fname}: simulation {sim}, initial solution {a}: {r.message.splitlines()[0]}")
    # 2. the new exchangers: by composition, or equilibrated with a solution (PHREEQC's initial_exchangers)
    for a, xd, z in sorted(new_exchangers, key=lambda t: t[0]):
        ex = _initial_exchanger(store, xd, sim, a, steps, selected, title)
        for n in range(a, z + 1):
            store.exchangers[n] = ex
    # 3. the new surfaces: by their sites, or equilibrated with a solution (PHREEQC's initial_surfaces)
    for a, sd, z in sorted(new_surfaces, key=lambda t: t[0]):
        su = _initial_surface(store, sd, sim, a, steps, selected, title)
        for n in range(a, z + 1):
            store.surfaces[n] = su
    # 3b. the new gas phases: by partial pressures, or equilibrated with a solution (initial_gas_phases)
    for a, gd, z in sorted(new_gases, key=lambda t: t[0]):
        g = _initial_gas(store, gd, sim, a, steps, selected, title)
        for n in range(a, z + 1):
            store.gases[n] = g
    # 4. the batch reaction
    which = {**defined, **use}
    reactive = any(which.get(k) is not None for k in ("equilibrium_phases", "exchange", "surface", "gas_phase",
                                                      "reaction", "mix", "temperature", "pressure"))
    if not reactive:  # SAVE keeps what a batch reaction left: without one PHREEQC saves nothing (IPhreeqc
        return        # 3.8 and PhreeqcRM: a later USE of the number is "Solution n not found")
    last_state, last_pp, last = _reaction_steps(store, which, sim, fname, blocks, steps, selected, title,
                                                ionic_strength)
    for kind, a, z in saves:
        for n in range(a, z + 1):
            if kind == "solution" and last_state is not None:
                store.solutions[n] = last_state
                store.solution_results[n] = last
            elif kind == "equilibrium_phases" and last_pp is not None:
                store.pp[n] = last_pp
            elif kind == "exchange" and last is not None and last.exchanger is not None:
                store.exchangers[n] = last.exchanger
            elif kind == "surface" and last is not None and last.surface_state is not None:
                store.surfaces[n] = last.surface_state
            elif kind == "gas_phase" and last is not None and last.gas_phase is not None:
                store.gases[n] = last.gas_phase


def _initial_exchanger(store: _Store, xd: ExchangeDef, sim: int, n: int, steps, selected, title):
    """The exchanger of an EXCHANGE block: its composition, or its sites equilibrated with solution
    ``-equilibrate`` (a calculation of its own, state i_exch, reported with that solution's pH)."""
    from .exchange import equilibrate_exchange, exchanger

    db = store.db
    if xd.equilibrate is None:
        return exchanger(db, xd.amounts)
    res = store.solution_results.get(xd.equilibrate)
    if res is None or getattr(res, "state", None) is None:
        raise InvalidInputError(f"{xd.where}: -equilibrate {xd.equilibrate}: solution {xd.equilibrate} is not defined "
                                "(or its calculation did not converge)")
    sites = {k: v for k, v in xd.amounts.items() if k in db.exchange_masters}
    for k, v in xd.amounts.items():
        if k not in db.exchange_masters:  # a species given with -equilibrate: its sites, as PHREEQC reads it
            el = next(e for e, sm in db.exchange_masters.items() if e in db.exchange_species[k].elements)
            sites[el] = sites.get(el, 0.0) + v * db.exchange_species[k].elements[el]
    ex = equilibrate_exchange(res, sites)
    rec = StepRecord(sim, "i_exch", n, -99, res, title, exchange=dict(ex.composition))
    steps.append(rec)
    _punch(store, rec, selected)
    return ex


def _initial_gas(store: _Store, gd: GasDef, sim: int, n: int, steps, selected, title):
    """The gas of a GAS_PHASE block: its partial pressures at its temperature, or (fixed volume,
    ``-equilibrate``) the partial pressures 10^SI of solution n at its temperature, as ideal-gas moles
    (PHREEQC's initial_gas_phases: a calculation of its own, state i_gas, reported with that solution)."""
    from .gas_phase import R_LITER_ATM, gas_phase

    try:
        if gd.equilibrate is None:
            return gas_phase(store.db, gd.pressures, fixed=gd.fixed, pressure=gd.pressure, volume=gd.volume,
                             temperature=gd.tc + 273.15)
        res = store.solution_results.get(gd.equilibrate)
        if res is None or getattr(res, "state", None) is None:
            raise InvalidInputError(f"-equilibrate {gd.equilibrate}: solution {gd.equilibrate} is not defined "
                                    "(or its calculation did not converge)")
        # moles p V / R T at the solution's temperature, p = 10^SI, for Peng-Robinson gases too (PHREEQC's)
        p = {k: (10.0 ** res.saturation_index[k] if k in res.saturation_index else 0.0) for k in gd.pressures}
        g = gas_phase(store.db, {k: v * gd.volume / (R_LITER_ATM * res.T) for k, v in p.items()}, fixed="volume",
                      volume=gd.volume, temperature=res.T, units="mol")
    except InvalidInputError as err:
        raise InvalidInputError(f"{gd.where}: {err}") from None
    rec = StepRecord(sim, "i_gas", n, -99, res, title)
    steps.append(rec)
    _punch(store, rec, selected)
    return g


def _initial_surface(store: _Store, sd: SurfaceDef, sim: int, n: int, steps, selected, title):
    """The surface of a SURFACE block: its sites as their master species, or equilibrated with solution
    ``-equilibrate`` (a calculation of its own, state i_surf, reported with that solution's pH; the
    solution is not changed, as PHREEQC's initial-surface calculation)."""
    from .surface import equilibrate_surface, surface

    spec = {site: (v, *sd.areas[site.split("_")[0]]) if site.split("_")[0] in sd.areas else v
            for site, v in sd.sites.items()}
    try:
        if sd.equilibrate is None:
            return surface(store.db, spec, edl=sd.edl)
        res = store.solution_results.get(sd.equilibrate)
        if res is None or getattr(res, "state", None) is None:
            raise InvalidInputError(f"-equilibrate {sd.equilibrate}: solution {sd.equilibrate} is not defined "
                                    "(or its calculation did not converge)")
        su = equilibrate_surface(res, spec, edl=sd.edl)
    except InvalidInputError as err:
        raise InvalidInputError(f"{sd.where}: {err}") from None
    rec = StepRecord(sim, "i_surf", n, -99, res, title, surface=dict(su.composition))
    steps.append(rec)
    _punch(store, rec, selected)
    return su


def _reaction_steps(store: _Store, which: dict, sim: int, fname: str, blocks, steps, selected, title, ionic):
    where = f"{fname}:{blocks[0].line}" if blocks else fname
    mix_n = which.get("mix")
    if mix_n is not None:
        if mix_n not in store.mixes:
            raise InvalidInputError(f"{where}: MIX {mix_n} is not defined")
        parts = []
        for s, f in store.mixes[mix_n].items():
            if s not in store.solutions:
                raise InvalidInputError(f"{where}: MIX {mix_n}: solution {s} is not defined (or did not converge)")
            parts.append((store.solutions[s], f))
        base = mix(parts)
        soln_no = mix_n
    else:
        s = which.get("solution")
        if s is None:
            return None, None, None
        if s not in store.solutions:
            raise InvalidInputError(f"{where}: solution {s} is not defined (or its calculation did not converge)")
        base = store.solutions[s]
        soln_no = s
    def used(kind: str, table: dict, block: str):
        """The numbered ``block`` the step uses (USE or defined in the simulation), or None."""
        n = which.get(kind)
        if n is None:
            return None
        got = table.get(n)
        if got is None:
            raise InvalidInputError(f"{where}: {block} {n} is not defined")
        return got

    pp = used("equilibrium_phases", store.pp, "EQUILIBRIUM_PHASES")
    exr = used("exchange", store.exchangers, "EXCHANGE")
    sur = used("surface", store.surfaces, "SURFACE")
    rd = used("reaction", store.reactions, "REACTION")
    gas = used("gas_phase", store.gases, "GAS_PHASE")
    t_n, p_n = which.get("temperature"), which.get("pressure")
    td = store.temps.get(t_n) if t_n is not None else None
    pd = store.pressures.get(p_n) if p_n is not None else None
    count = max([1] + [d.n_steps() for d in (rd,) if d is not None] + [d.n() for d in (td, pd) if d is not None])
    if gas is not None and pd is not None and gas.fixed == "volume":
        raise InvalidInputError(f"{where}: REACTION_PRESSURE with a fixed-volume GAS_PHASE (its pressure is "
                                "the gas's) is not modelled")

    def step_input(k: int, st, g):
        """Step k's water (``st`` with its reaction added), amount, T, P and gas (the water is at the gas's
        pressure; REACTION_PRESSURE sets a fixed-pressure gas's)."""
        from dataclasses import replace

        x = float("nan")
        if rd is not None:
            x = rd.increment(k) if store.incremental else rd.amount(k)
            st = add_formulas(st, {name: c * x for name, c in rd.reactants.items()})
        P_k = pd.for_step(k) if pd is not None else st.P
        if g is not None and pd is not None:
            g = replace(g, pressure=P_k)
        return st, x, td.for_step(k) + 273.15 if td is not None else st.T, P_k, g

    def carried(r, spec_pp):
        """The assemblage after a step: each phase's moles as the step left them."""
        return None if spec_pp is None else {n: {**spec, "moles": r.phase_moles.get(n, spec.get("moles", 10.0))}
                                             for n, spec in spec_pp.items()}

    def record(k: int, r, x: float) -> None:
        rec = StepRecord(sim, "react", soln_no, k, r, title, x, dict(r.exchange), dict(r.surface), dict(r.gas))
        steps.append(rec)
        _punch(store, rec, selected)
        if r.status != Status.CONVERGED:
            raise _Stop(f"{where}: simulation {sim}, reaction step {k}: {r.message.splitlines()[0]}")

    if store.incremental:  # each step starts from the last one's water, assemblage, exchanger, surface and gas
        st, pp_k, ex_k, su_k, g_k = base, pp, exr, sur, gas  # (PHREEQC's saver() into -2 between steps)
        r = None
        for k in range(1, count + 1):
            w, x, T_k, P_k, g_in = step_input(k, st, g_k)
            r = react([w], phases=pp_k or None, T=np.array([T_k]), P=None if gas is not None else np.array([P_k]),
                      exchange=ex_k, surface=su_k, ionic_strength=ionic,
                      **({"gas": g_in} if gas is not None else {})).row(0)
            record(k, r, x)
            st, pp_k = r.state, carried(r, pp_k)
            ex_k = r.exchanger if exr is not None else None
            su_k = r.surface_state if sur is not None else None
            g_k = r.gas_phase if gas is not None else None
        return st, pp_k, r
    rows = [step_input(k, base, gas) for k in range(1, count + 1)]
    gas_kw: dict[str, Any] = {}
    if gas is not None:
        gas_kw["gas"] = [row[4] for row in rows] if pd is not None else gas
    res = react([row[0] for row in rows], phases=pp or None, T=np.array([row[2] for row in rows]),
                P=None if gas is not None else np.array([row[3] for row in rows]),
                exchange=exr, surface=sur, ionic_strength=ionic, **gas_kw)
    for k in range(count):
        record(k + 1, res.row(k), rows[k][1])
    last = res.row(count - 1)
    return last.state, carried(last, pp), last


def _punch(store: _Store, rec: StepRecord, selected: dict) -> None:
    """A row of every active SELECTED_OUTPUT for this calculation (PHREEQC's punch columns)."""
    r = rec.result
    for n, spec in store.selected.items():
        if not spec.get("active", True):
            continue
        row: dict[str, Any] = {}
        ident = {"sim": rec.sim, "state": rec.state, "soln": rec.soln, "dist_x": -99, "time": -99, "step": rec.step,
                 "pH": r.pH, "pe": r.pe,
                 "reaction": rec.reaction if rec.state == "react" and not math.isnan(rec.reaction) else -99,
                 "temp": r.T - 273.15, "mu": r.ionic_strength, "water": getattr(r, "water_mass", 1.0)}
        names = {"temp": "temp(C)", "alk": "Alk(eq/kgw)", "water": "mass_H2O", "charge": "charge(eq)"}
        for k in _SO_ORDER:
            if spec.get(k):
                if k in ("alk", "charge", "pct_err"):
                    row[names.get(k, k)] = _derived(store.db, r, k)
                else:
                    row[names.get(k, k)] = ident[k]
        for el in spec["totals"]:
            row[f"{el}(mol/kgw)"] = _total(store.db, r, el)
        for s in spec["molalities"]:  # an exchange or surface species: its moles per kg of water, as PHREEQC
            held = rec.exchange.get(s, rec.surface.get(s, 0.0))
            row[f"m_{s}(mol/kgw)"] = r.molality.get(s, held / getattr(r, "water_mass", 1.0))
        for s in spec["activities"]:
            a = r.activity.get(s, 0.0)
            row[f"la_{s}"] = math.log10(a) if a > 0 else -999.999
        for p in spec["phases"]:
            eq = getattr(r, "phase_moles", {}) if rec.state == "react" else {}
            dd = getattr(r, "phase_dissolved", {}) if rec.state == "react" else {}
            row[p] = eq.get(p, 0.0)
            row[f"d_{p}"] = -dd.get(p, 0.0)
        for p in spec["si"]:
            row[f"si_{p}"] = r.saturation_index.get(p, -999.999)
        if spec.get("gases"):  # PHREEQC's columns: pressure, total mol, volume (0 without a gas), g_<gas> moles
            gd = rec.gas
            row["pressure"] = gd.get("pressure", 0.0) if gd else 0.0
            row["total mol"] = gd.get("total_moles", 0.0) if gd else 0.0
            row["volume"] = gd.get("volume", 0.0) if gd else 0.0
        for g in spec.get("gases", []):
            row[f"g_{g}"] = rec.gas.get("moles", {}).get(g, 0.0) if rec.gas else 0.0
        selected.setdefault(n, []).append(row)


def _derived(db: Database, r, k: str) -> float:
    from .system import chem

    c = chem(db)
    W = getattr(r, "water_mass", 1.0)
    if k == "alk":
        return sum(c.alk.get(s, 0.0) * m for s, m in r.molality.items())
    q = sum(db.species[s].charge * m for s, m in r.molality.items()) * W
    if k == "charge":
        return q
    ions = sum(abs(db.species[s].charge) * m for s, m in r.molality.items()) * W
    return 100.0 * q / ions if ions else 0.0


def _total(db: Database, r, key: str) -> float:
    """Molality of an element or valence state (PHREEQC's TOT / -totals column)."""
    from .system import chem, total_key

    if key.lower().startswith("alk"):
        return _derived(db, r, "alk")
    try:
        k = total_key(db, key)
    except InvalidInputError:
        return 0.0
    comp = getattr(r, "composition", None) or {}
    if k in comp:
        return sum(a * r.molality.get(s, 0.0) for s, a in comp[k].items())
    c = chem(db)
    el = k.split("(")[0]
    if "(" in k:  # a valence state in a reaction step: the species of that state's master
        ms = db.masters[k].species
        sp = [s for s in r.molality if s == ms or _state_of(db, s) == ms]
        return sum(c.counts.get(s, {}).get(el, 0.0) * r.molality[s] for s in sp)
    return sum(c.counts.get(s, {}).get(el, 0.0) * m for s, m in r.molality.items())


def _state_of(db: Database, species: str) -> str | None:
    """The valence-state master species a species belongs to (its reaction's master of that element)."""
    sp = db.species.get(species)
    if sp is None:
        return None
    masters = {m.species for k, m in db.masters.items() if "(" in k}
    for other in sp.reaction.stoich:
        if other in masters and other != species:
            return other
    return None


# ------------------------------------------------------------------ the CLI hook
PHREEQC_SUFFIXES = (".pqi", ".phr")
_SNIFF_BYTES = 65536


def looks_like_phreeqc_input(path: str | Path) -> bool:
    """Whether ``chemsolve run PATH`` is a PHREEQC input: a name ending in .pqi or .phr, or a file
    (not .yaml/.yml) whose first keyword line, comments and blank lines skipped, starts with a
    PHREEQC keyword (SOLUTION, TITLE, DATABASE, ...). A model file's first line is ``key: value``,
    never a bare keyword."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return False
    if suffix in PHREEQC_SUFFIXES:
        return True
    try:
        if not p.is_file():
            return False
        with open(p, "rb") as f:
            head = f.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    for raw in head.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if line:
            first = line.split()[0]
            return not first.startswith("-") and first.lower() in _ALIASES
    return False


def run_file(path: str, fmt: str = "json", out=None, database: str | None = None) -> int:
    """``chemsolve run input.pqi``: run a PHREEQC input file and write every calculation to ``out``
    (stdout) as JSON (``PhreeqcRun.to_dict``), CSV (``to_csv``) or a readable table (``to_table``).
    ``database``: a bundled name or a path (default phreeqc.dat; a DATABASE line in the input is
    refused, naming it). Bad input raises ``InvalidInputError`` naming the file and line (the
    command prints it on one line and exits 2), before anything is written. Returns 0 when every
    calculation converged, 1 when one did not: the run stops there, as PHREEQC's, the calculations
    done are written and the one that failed is named on stderr."""
    out = out if out is not None else sys.stdout
    if fmt not in ("json", "csv", "table"):
        raise InvalidInputError(f"--format {fmt}: a PHREEQC input run writes table, json or csv")
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if p.stat().st_size > MAX_CHARS:
        raise InvalidInputError(f"{path}: input larger than {MAX_CHARS} characters")
    try:
        db = _resolve(database or "phreeqc.dat")
    except DatabaseError as err:
        raise InvalidInputError(f"--database {database}: {err}") from None
    run = run_phreeqc_input(read_text(p), str(db), name=str(path))
    if fmt == "json":
        out.write(json.dumps(run.to_dict(), allow_nan=True, default=float) + "\n")
    elif fmt == "csv":
        out.write(run.to_csv())
    else:
        out.write(run.to_table())
    if run.stopped:
        print(f"error: {run.stopped} (the run stops there, as PHREEQC's does; {len(run.steps)} calculation(s) "
              "written)", file=sys.stderr)
        return 1
    return 0
