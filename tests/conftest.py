import os
import sys
import warnings

import pytest

# tests/problems.py is the shared problem library (also used by benchmarks/)
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="module")
def db():
    """phreeqc.dat, loaded once per test module (its list of blocks not modelled yet silenced). A module
    that needs another database defines its own ``db``."""
    import chemsolve.aqueous as aq

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", aq.DatabaseWarning)
        return aq.load_database("phreeqc.dat")


@pytest.fixture(scope="module")
def ip(db):
    """IPhreeqc (the ``phreeqc`` package) on the same database file as ``db``, one per test module."""
    phreeqc = pytest.importorskip("phreeqc")
    p = phreeqc.Phreeqc()
    assert p.LoadDatabase(str(db.path)) == 0
    return p
