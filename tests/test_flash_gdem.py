"""The general dominant eigenvalue method (GDEM, two eigenvalues; Crowe & Nishio 1975) as an acceleration of
the flash's successive substitution (chemsolve.flash.GDEM, kernels/flash_tp.py ``_gdem``).

What is asserted: the schedule validates and round-trips like the others; with substitution carrying the
whole solve (no Newton), GDEM's splits agree with thermo's (live, same constants and k_ij, its tolerance
tightened; chemsolve.flash.peers) to 1e-8 in beta, x and y, as the default path does (test_flash_peers.py);
near the critical point it needs fewer substitution steps than plain substitution on every split state
(iterations are counted, never timed).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chemsolve.errors import InvalidInputError
from chemsolve.flash import DEM, GDEM, FlashOptions, Mixture, peers
from chemsolve.status import Status

AGREE = 1e-8  # beta, x, y against thermo where both split (as tests/test_flash_peers.py)
# substitution only: no hand-over to Newton, so the accelerated substitution converges to tol (1e-11) itself
SS_ONLY = dict(newton_switch=0.0, max_ss=20000, max_iter=20000)


def test_gdem_schedule_is_validated_and_round_trips():
    g = GDEM()
    assert (g.every, g.max_factor, g.name) == (5, 20.0, "gdem")
    o = FlashOptions(acceleration="gdem")
    assert o.acceleration == GDEM()
    o = FlashOptions(acceleration={"type": "gdem", "every": 3, "max_factor": 50})
    assert FlashOptions.from_mapping(json.loads(json.dumps(o.to_dict()))) == o
    with pytest.raises(InvalidInputError, match="GDEM: every=2"):  # three steps make the 2x2 fit
        GDEM(every=2)
    with pytest.raises(InvalidInputError, match="max_factor"):
        FlashOptions(acceleration={"type": "gdem", "max_factor": -1})
    with pytest.raises(InvalidInputError, match="unknown key"):
        FlashOptions(acceleration={"type": "gdem", "m": 3})


@pytest.mark.parametrize("eos, seed", [("PR", 171), ("SRK", 172)])
def test_gdem_splits_agree_with_thermo(eos, seed):
    pytest.importorskip("thermo")
    cases = peers.validation_cases(8, 12, seed, eos)
    compared = 0
    worst = 0.0
    for c in cases:
        mix = Mixture(c["names"], eos=eos)
        th = peers.thermo_flasher(mix)
        for opts in (SS_ONLY, {}):
            b = mix.flash(T=c["T"], P=c["P"], z=c["z"], acceleration=GDEM(), **opts)
            for i in range(len(b)):
                r = b.row(i)
                if r.status != Status.CONVERGED:  # only a third phase may refute a two-phase answer
                    assert r.status == Status.CHECK_FAILED and r.certificate.worst == "stability", r.message
                    continue
                if r.phases != 2:
                    continue
                a = peers.thermo_tp(th, c["T"][i], c["P"][i], c["z"])
                if "error" in a or a["phases"] != 2:
                    continue
                d = peers.split_difference(r.beta, r.x, r.y, a)
                worst = max(worst, d)
                compared += 1
                assert d <= AGREE, (c["names"], c["T"][i], c["P"][i], opts, d)
    print(f"\nGDEM vs thermo {eos} seed {seed}: {compared} split states compared, max |d beta, x, y| = {worst:.2e}")
    assert compared >= 40  # both regimes (substitution only, and with Newton) on enough split states


def test_gdem_needs_fewer_substitution_steps_than_plain_near_the_critical_point():
    """Substitution only, states within 3 % in T and 5 % in P of each mixture's critical point (from its
    envelope), where the largest eigenvalues of substitution approach 1: on every state that splits, GDEM
    takes fewer iterations than plain substitution, and the answers are the same (1e-8: both are converged
    to max|g| <= 1e-11, and near a critical point beta moves by up to ~1e-9 within that)."""
    counts = {"none": [], "dem": [], "gdem": []}
    for c in peers.validation_cases(6, 12, 171, "PR"):
        sel = [i for i, k in enumerate(c["kind"]) if k == "near-critical"]
        if not sel:
            continue
        mix = Mixture(c["names"])
        T, P = c["T"][sel], c["P"][sel]
        runs = {name: mix.flash(T=T, P=P, z=c["z"], acceleration=acc, **SS_ONLY)
                for name, acc in (("none", "none"), ("dem", DEM()), ("gdem", GDEM()))}
        plain, gdem = runs["none"], runs["gdem"]
        assert plain.success.all() and gdem.success.all()
        two = (plain.phases == 2) & (gdem.phases == 2)
        np.testing.assert_array_equal(plain.phases, gdem.phases)
        np.testing.assert_allclose(gdem.beta[two], plain.beta[two], rtol=0, atol=1e-8)
        for name, r in runs.items():
            counts[name] += r.nit[two].tolist()
    plain, gdem = np.array(counts["none"]), np.array(counts["gdem"])
    print(f"\nnear-critical splits: {len(plain)}; substitution iterations, total (median): plain {plain.sum()} "
          f"({np.median(plain):.0f}), DEM {sum(counts['dem'])} ({np.median(counts['dem']):.0f}), GDEM "
          f"{gdem.sum()} ({np.median(gdem):.0f})")
    assert len(plain) >= 10
    assert np.all(gdem < plain)
    assert gdem.sum() < 0.5 * plain.sum()  # measured ~0.2 on this set
