"""Aqueous speciation (PHREEQC-class). So far: the PHREEQC database reader.

``load_database("phreeqc.dat")`` reads a bundled database (USGS PHREEQC 3, public domain; see
``chemsolve/data/README.md``) or any PHREEQC-format file by path.
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

__all__ = [
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
]
