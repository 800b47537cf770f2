"""Aqueous speciation (PHREEQC-class).

``load_database("phreeqc.dat")`` reads a bundled database (USGS PHREEQC 3, public domain; see
``chemsolve/data/README.md``) or any PHREEQC-format file by path; ``speciate(db, totals, T, pH)``
speciates one water with PHREEQC's ion-association equations; ``Solution`` is PHREEQC's SOLUTION
block (units, ``as``/``gfw``, charge, totals fixed by phases, redox couples); ``react`` a reaction
step (EQUILIBRIUM_PHASES, REACTION, EXCHANGE, SURFACE, GAS_PHASE (``gas_phase``), temperature and
pressure; ``mix`` is MIX);
``run_phreeqc_input`` runs a PHREEQC input file.
"""

from .database import (
    BUNDLED,
    Database,
    DatabaseError,
    DatabaseWarning,
    MasterSpecies,
    Phase,
    Reaction,
    Species,
    load_database,
    parse_formula,
    species_charge,
)
from .exchange import Exchanger, equilibrate_exchange, exchanger
from .gas_phase import GasPhase, gas_phase
from .options import AqueousOptions
from .phreeqc_input import PhreeqcRun, run_phreeqc_input
from .reaction_step import BatchReaction, ReactionResult, WaterState, mix, react
from .solution import Solution
from .speciation import BatchSpeciation, SpeciationResult, speciate, speciate_batch
from .surface import Surface, equilibrate_surface, surface

__all__ = [
    "AqueousOptions",
    "BUNDLED",
    "BatchReaction",
    "BatchSpeciation",
    "Database",
    "DatabaseError",
    "DatabaseWarning",
    "Exchanger",
    "GasPhase",
    "MasterSpecies",
    "Phase",
    "PhreeqcRun",
    "Reaction",
    "ReactionResult",
    "Solution",
    "SpeciationResult",
    "Species",
    "Surface",
    "WaterState",
    "equilibrate_exchange",
    "equilibrate_surface",
    "exchanger",
    "gas_phase",
    "load_database",
    "mix",
    "parse_formula",
    "react",
    "run_phreeqc_input",
    "speciate",
    "speciate_batch",
    "species_charge",
    "surface",
]
