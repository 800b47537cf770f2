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


def mixture_potential_defect(cm, floor: float = 1e-10) -> float:
    """Cantera's own equilibrium check of a ``cantera.Mixture`` (the idea of ``assert_at_equilibrium``
    in Cantera's test/python/test_equilibrium.py, written here): element potentials lambda fitted to
    the chemical potentials of all species by least squares weighted with sqrt(moles), then the
    worst |mu_k - sum_e n_ek lambda_e| / RT over species above ``floor`` of the total moles."""
    import cantera as ct

    mu = np.asarray(cm.chemical_potentials)
    n = np.asarray(cm.species_moles)
    comp = np.array([[cm.n_atoms(k, e) for e in range(cm.n_elements)] for k in range(cm.n_species)])
    w = np.sqrt(np.maximum(n, 0.0))
    on = w > 0.0
    lam, *_ = np.linalg.lstsq(comp[on] * w[on, None], mu[on] * w[on], rcond=None)
    big = n > floor * n.sum()
    return float(np.max(np.abs(mu[big] - comp[big] @ lam)) / (ct.gas_constant * cm.T))


def set_mixture_to(cm, gas, eq, feed_moles: float):
    """Put chemsolve state ``eq`` (the gas species of phase ``gas``; condensed species found by name
    in ``cm``; amounts per mole of feed) into Cantera Mixture ``cm`` for ``feed_moles`` of feed."""
    n = np.zeros(cm.n_species)
    for k in range(cm.n_species):
        v = eq.condensed.get(cm.species_name(k))
        if v is not None:
            n[k] = v * feed_moles
    for j, s in enumerate(eq.species_names):
        n[cm.species_index(gas.name, s)] = eq.X[j] * eq.moles * feed_moles
    cm.T = eq.T
    cm.P = eq.P
    cm.species_moles = n
    return cm


def state_from_cantera(mix, cm, gas, floor: float = 1e-10):
    """A chemsolve-shaped state from a Cantera Mixture of ``gas`` and pure condensed phases:
    (X, ln X, gas moles, {condensed: moles}, element potentials), amounts in Cantera's units (divide
    by the feed moles for chemsolve's per-mole-of-feed values). The element potentials are fitted to
    Cantera's chemical potentials of the gas species above ``floor`` (weighted by sqrt(X)). Species
    below ``floor`` are not judged (as Cantera's own check does: its VCS leaves them where they
    happen to be, C3H8 171 RT off in excluded_species_HP): they are set from the fitted potentials
    with Cantera's standard Gibbs energies, which changes no balance by more than ~floor."""
    import math

    import cantera as ct

    n = np.asarray(cm.species_moles)
    gidx = np.array([cm.species_index(gas.name, s) for s in mix.species_names])
    ngas = n[gidx]
    tot = ngas.sum()
    X = ngas / tot
    mu = np.asarray(cm.chemical_potentials)[gidx] / (ct.gas_constant * cm.T)
    keep = X > floor
    w = np.sqrt(X[keep])
    used = np.abs(mix.A[keep]).sum(axis=0) > 0
    lam, *_ = np.linalg.lstsq(mix.A[keep][:, used] * w[:, None], mu[keep] * w, rcond=None)
    pi = np.zeros(len(mix.element_names))
    pi[used] = lam
    gas.TP = cm.T, cm.P
    g0 = gas.standard_gibbs_RT[[gas.species_index(s) for s in mix.species_names]]
    present = np.all((mix.A == 0.0) | used[None, :], axis=1)
    trace = ~keep & present
    with np.errstate(divide="ignore"):
        lnX = np.log(X)
    lnX[trace] = mix.A[trace] @ pi - g0[trace] - (math.log(cm.P) - math.log(gas.reference_pressure))
    X = np.where(trace, np.exp(lnX), X)
    cond = {}
    for name in mix.condensed_names:
        k = [i for i in range(cm.n_species) if cm.species_name(i) == name]
        cond[name] = float(n[k[0]]) if k else 0.0
    return X, lnX, float(tot), cond, pi
