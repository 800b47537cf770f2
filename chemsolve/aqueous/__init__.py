"""Aqueous speciation (PHREEQC-class).

``load_database("phreeqc.dat")`` reads a bundled database (USGS PHREEQC 3, public domain; see
``chemsolve/data/README.md``) or any PHREEQC-format file by path; ``speciate(db, totals, T, pH)``
speciates one water with PHREEQC's ion-association equations.
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
from .options import AqueousOptions
from .speciation import BatchSpeciation, SpeciationResult, speciate, speciate_batch

__all__ = [
    "AqueousOptions",
    "BUNDLED",
    "Database",
    "DatabaseError",
    "DatabaseWarning",
    "MasterSpecies",
    "Phase",
    "Reaction",
    "Species",
    "load_database",
    "parse_formula",
    "species_charge",
    "speciate",
    "speciate_batch",
    "SpeciationResult",
    "BatchSpeciation",
]
