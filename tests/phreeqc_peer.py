"""IPhreeqc (PyPI package ``phreeqc``) as the live peer: run one SOLUTION and read back what
chemsolve computes, from PHREEQC's own BASIC functions. Shared by tests and benchmarks; the class
lives in ``chemsolve.bench`` so that ``chemsolve bench aqueous`` ships it."""

from chemsolve.bench import PeerResult  # noqa: F401
from chemsolve.bench import PhreeqcPeer as Peer  # noqa: F401
