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
from .speciation import BatchSpeciation, SpeciationResult, speciate, speciate_batch

__all__ = [
    "BUNDLED",
    "BatchSpeciation",
    "Database",
    "DatabaseError",
    "DatabaseWarning",
    "MasterSpecies",
    "Phase",
    "Reaction",
    "SpeciationResult",
    "Species",
    "load_database",
    "parse_formula",
    "speciate",
    "speciate_batch",
    "species_charge",
]
