"""Gas-phase equilibrium cases shared by the tests and ``benchmarks/gas_vs_cantera.py``.

- ``random_feeds``: the issue's random states — CH4, H2, C3H8 or C2H2 with air or O2,
  equivalence ratio 0.3-4, T 300-5000 K, P 0.01-100 atm (log-uniform), mode TP or HP.
- ``cho_grid``: Cantera issues #265 / #266 — C/H/O compositions on an m-level simplex given as
  atoms {'C': n, 'H': m_levels - m, 'O': m - n} for 0 <= n < m < m_levels (exactly the loops
  of those issues' scripts).
"""

from __future__ import annotations

import numpy as np

# the feeds live in the package so that ``chemsolve bench gas`` ships them; same states, same seeds
from chemsolve.bench import (  # noqa: F401
    AIR_AR,
    AIR_N2,
    FUELS,
    ONE_ATM,
    feed,
    feed_matrix,
    random_feeds,
)


def cho_grid(mix, levels: int = 60) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Feed rows of atoms C, H, O on the #265/#266 simplex, and the (C, H, O) integers."""
    ic, ih, io = (mix.species_index(s) for s in ("C", "H", "O"))
    rows, atoms = [], []
    for m in range(levels):
        for n in range(m):
            x = np.zeros(mix.n_species)
            x[ic], x[ih], x[io] = n, levels - m, m - n
            rows.append(x / levels)
            atoms.append((n, levels - m, m - n))
    return np.array(rows), atoms


def equilibrium_defects(gas, names, X, T, P, b_feed, A) -> dict[str, float]:
    """Check a state (X over ``names`` at T, P) with Cantera's own thermo, independently of chemsolve.

    - ``potential``: max over species with X > 1e-12 of |mu_j/RT - sum_i a_ij lambda_i|, where
      lambda are the least-squares element potentials of those same species (at equilibrium
      every one of them satisfies mu_j/RT = sum_i a_ij lambda_i exactly);
    - ``elements``: max relative difference, element by element, between the state's element
      fractions and the feed's (b_feed: element amounts of the feed in ``A``'s column order).
    """
    import cantera as ct

    idx = np.array([gas.species_index(n) for n in names])
    Y = np.zeros(gas.n_species)
    Y[idx] = X
    gas.TPX = T, P, Y
    mu = gas.chemical_potentials[idx] / (ct.gas_constant * T)
    vis = X > 1e-12
    used = np.flatnonzero(np.abs(b_feed) > 0)
    lam, *_ = np.linalg.lstsq(A[vis][:, used], mu[vis], rcond=None)
    pot = float(np.max(np.abs(mu[vis] - A[vis][:, used] @ lam)))
    b_state = A.T @ X
    fs, ff = b_state[used] / b_state[used].sum(), b_feed[used] / b_feed[used].sum()
    rel = np.abs(fs - ff) / ff  # relative, element by element
    return {"potential": pot, "elements": float(rel.max())}
