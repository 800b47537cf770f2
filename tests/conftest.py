import os
import sys
import warnings

import pytest

# tests/problems.py is the shared problem library (also used by benchmarks/)
sys.path.insert(0, os.path.dirname(__file__))


def quiet_database(name: str):
    """A bundled database, its list of blocks not modelled yet silenced."""
    import chemsolve.aqueous as aq

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", aq.DatabaseWarning)
        return aq.load_database(name)


def iphreeqc(db):
    """An IPhreeqc (the ``phreeqc`` package) on the same database file as ``db``."""
    phreeqc = pytest.importorskip("phreeqc")
    p = phreeqc.Phreeqc()
    assert p.LoadDatabase(str(db.path)) == 0
    return p


@pytest.fixture(scope="module")
def db():
    """phreeqc.dat, loaded once per test module. A module that needs another database defines its own
    ``db`` (``quiet_database``)."""
    return quiet_database("phreeqc.dat")


@pytest.fixture(scope="module")
def ip(db):
    """IPhreeqc on the same database file as ``db``, one per test module."""
    return iphreeqc(db)
