"""solve_batch through the compiled prange kernel: same answers as single solves, one status
per row, failures isolated, warm starts, chunking that does not change results."""

import os

import numba
import numpy as np
import problems as P
import pytest

import chemsolve as cs
from chemsolve.kernels import examples as ex

# under NUMBA_DISABLE_JIT the prange kernel runs as Python: that run (tests/test_nojit.py) is in the fast tier;
# compiled, every test compiles the batch kernel for its own residual (~10 s each): the full tier
pytestmark = [pytest.mark.nojit, pytest.mark.slow]


@numba.njit(cache=True)
def sqrt_res(x, p):
    out = np.empty(2)
    out[0] = x[0] * x[0] - p[0]  # no real root when p[0] < 0
    out[1] = x[1] - x[0] * p[1]
    return out


@numba.njit(cache=True)
def sqrt_jac(x, p):
    J = np.zeros((2, 2))
    J[0, 0] = 2.0 * x[0]
    J[1, 0] = -p[1]
    J[1, 1] = 1.0
    return J


@numba.njit(cache=True)
def propane_p(x, p):
    return P.propane_fun(x)


@numba.njit(cache=True)
def propane_g(x, p):  # fixed-point form G(x) = x - F(x), as problems.fixed_point_map builds it
    return x - P.propane_fun(x)


def _params(N, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0.5, 50.0, N), rng.uniform(-2, 2, N)])


def test_batch_matches_single_solves():
    Pm = _params(50)
    X0 = np.ones((50, 2))
    b = cs.solve_batch(sqrt_res, X0, Pm, jac=sqrt_jac)
    assert b.success.all()
    for i in range(50):
        r = cs.solve(sqrt_res, X0[i], jac=sqrt_jac, args=(Pm[i],))
        assert r.status == b.status[i] and r.nit == b.nit[i]
        np.testing.assert_array_equal(r.x, b.x[i])  # same kernel source, same arithmetic
    np.testing.assert_allclose(b.x[:, 0], np.sqrt(Pm[:, 0]), rtol=0, atol=1e-10)


def test_failed_rows_do_not_stop_the_others():
    Pm = _params(40)
    Pm[5, 0] = -1.0  # x^2 = -1: no real root
    Pm[17, 0] = -4.0
    X0 = np.ones((40, 2))
    X0[23, 1] = np.nan  # bad starting row
    b = cs.solve_batch(sqrt_res, X0, Pm, warm_start=True)
    bad = {5, 17, 23}
    assert b.status[23] == cs.Status.INVALID_INPUT
    for i in (5, 17):
        assert b.status[i] not in (cs.Status.CONVERGED, cs.Status.INVALID_INPUT)
        assert b.residual_norm[i] > 0.5  # |x^2 + 1| >= 1 everywhere: honestly unsolved
    good = np.array([i for i in range(40) if i not in bad])
    assert b.success[good].all()
    np.testing.assert_allclose(b.x[good, 0] ** 2, Pm[good, 0], rtol=1e-9)


def test_warm_start_saves_iterations_on_a_sweep():
    N = 400
    Pm = np.column_stack([np.linspace(1.0, 100.0, N), np.full(N, 0.5)])
    X0 = np.tile([1.0, 1.0], (N, 1))
    cold = cs.solve_batch(sqrt_res, X0, Pm, jac=sqrt_jac)
    warm = cs.solve_batch(sqrt_res, X0, Pm, jac=sqrt_jac, warm_start=True)
    assert cold.success.all() and warm.success.all()
    # measured: 1148 vs 1905 iterations (2-3 per warm row vs 4-5 per cold row)
    assert warm.nit.sum() < 0.7 * cold.nit.sum()
    np.testing.assert_allclose(warm.x, cold.x, rtol=1e-9)


def test_chunking_does_not_change_results():
    Pm = _params(300, seed=3)
    X0 = np.ones((300, 2))
    a = cs.solve_batch(sqrt_res, X0, Pm, chunk=1)
    b = cs.solve_batch(sqrt_res, X0, Pm, chunk=64)
    c = cs.solve_batch(sqrt_res, X0, Pm, chunk=1000)
    for r in (b, c):
        np.testing.assert_array_equal(a.x, r.x)
        np.testing.assert_array_equal(a.status, r.status)


@pytest.mark.parametrize("method", ["newton", "anderson"])
def test_batch_chemical_equilibrium_from_perturbed_starts(method):
    rng = np.random.default_rng(1)
    N = 64
    X0 = P.get("propane_reduced").x0 * rng.uniform(0.5, 2.0, (N, 5))
    b = cs.solve_batch(propane_p if method == "newton" else propane_g, X0, None, method=method)
    for i in np.flatnonzero(b.success):  # whatever converged is a root: no false "converged"
        assert np.max(np.abs(P.propane_fun(b.x[i]))) <= 1e-10
    if method == "newton":
        assert b.counts() == {"CONVERGED": N}
    else:
        # declared in problems.KNOWN_BAD: x - F(x) is no contraction here, so the rows stop with
        # an honest failure status (a row that did reach a root would pass the check above)
        assert b.success.sum() <= N // 8


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="every function is plain Python then")
def test_batch_needs_a_jitted_residual():
    with pytest.raises(cs.InvalidInputError, match=r"decorated with @numba.njit"):
        cs.solve_batch(sqrt_res.py_func, np.ones((2, 2)), _params(2))


@numba.njit(cache=True)
def sqrt_res_inplace(x, p, out):
    out[0] = x[0] * x[0] - p[0]
    out[1] = x[1] - x[0] * p[1]


@numba.njit(cache=True)
def sqrt_jac_inplace(x, p, out):
    out[0, 0] = 2.0 * x[0]
    out[0, 1] = 0.0
    out[1, 0] = -p[1]
    out[1, 1] = 1.0


@pytest.mark.parametrize("with_jac", [False, True])
def test_inplace_residuals_give_identical_results(with_jac):
    Pm = _params(100, seed=7)
    X0 = np.ones((100, 2))
    a = cs.solve_batch(sqrt_res, X0, Pm, jac=sqrt_jac if with_jac else None)
    b = cs.solve_batch(sqrt_res_inplace, X0, Pm, jac=sqrt_jac_inplace if with_jac else None, inplace=True)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.nit, b.nit)
    r = cs.solve(sqrt_res_inplace, [1.0, 1.0], jac=sqrt_jac_inplace if with_jac else None, args=(Pm[0],), inplace=True)
    assert r.success and r.x[0] == pytest.approx(np.sqrt(Pm[0, 0]), abs=1e-10)


def test_inplace_residual_that_writes_nothing_is_caught():
    def lazy(x, p, out):  # forgets to write: out keeps the NaN the check pre-fills
        return out

    res = cs.solve(lazy, [1.0, 1.0], args=(np.ones(2),), inplace=True)
    assert res.status == cs.Status.NONFINITE and "component(s) [0, 1]" in res.message


@numba.njit
def lying_res(x, p):
    """x - 3, except that its second evaluation in a row (the first trial point) returns 0; p[0]
    counts the evaluations (each row starts from P's value, also when the certificate re-evaluates)."""
    p[0] += 1.0
    if p[0] == 2.0:
        return np.zeros(1)
    return x - 3.0


@numba.njit
def lying_jac(x, p):
    return np.array([[2.0]])  # wrong on purpose: the trial point is x0 - (x0 - 3) / 2


def test_batch_certificate_recomputes_every_converged_row():
    N = 50
    P = _params(N)
    X0 = np.tile([1.0, 1.0], (N, 1)) + 0.1 * np.arange(N)[:, None]
    b = cs.solve_batch(sqrt_res, X0, P, jac=sqrt_jac)
    assert b.success.all()
    c = b.certificate
    assert c.checked.all() and c.passed.all()
    assert np.all(c.values["max|F/fscale|"] <= 1e-10)
    assert c.row(0).passed


def test_batch_certificate_refuses_rows_the_residual_lied_about():
    X0 = np.array([[5.0], [7.0], [3.0]])
    b = cs.solve_batch(lying_res, X0, np.zeros((3, 1)), jac=lying_jac)
    # rows 0 and 1 "converged" at a lie (x = 4 and 5); row 2 starts at the root and is genuine
    assert b.status.tolist() == [cs.Status.CHECK_FAILED, cs.Status.CHECK_FAILED, cs.Status.CONVERGED]
    np.testing.assert_allclose(b.certificate.values["max|F/fscale|"], [1.0, 2.0, 0.0])
    assert b.counts() == {"CONVERGED": 1, "CHECK_FAILED": 2}


@numba.njit
def user_propane(x, p):  # the same residual as a user would pass it: not a registered built-in
    return ex.propane(x, p)


_NOJIT = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="no compiled kernels to cache")


@_NOJIT
def test_bundled_residual_runs_the_cached_kernel_with_the_same_answers():
    from chemsolve.kernels import solver as k

    N = 64
    P = np.column_stack([np.linspace(3, 40, N), np.linspace(1, 1000, N)])
    X0 = np.tile(ex.PAPER_START, (N, 1))
    b = cs.solve_batch(ex.propane, X0, P, jac=ex.propane_jac, max_rel_step=0.9)
    assert k.marker_for(ex.propane) is not None and k.solve_batch_builtin.signatures
    ref = cs.solve_batch(user_propane, X0, P, jac=ex.propane_jac, max_rel_step=0.9)  # generic kernel
    assert b.status.tolist() == ref.status.tolist()
    np.testing.assert_array_equal(b.x, ref.x)
    np.testing.assert_array_equal(b.nit, ref.nit)


CACHED = """
import numpy as np, chemsolve as cs
from chemsolve.kernels import examples as ex, solver as k
b = cs.solve_batch(ex.propane, np.tile(ex.PAPER_START, (4, 1)), np.tile(ex.PAPER_PARAMS, (4, 1)), jac=ex.propane_jac)
s = k.solve_batch_builtin.stats
print(b.success.all(), len(s.cache_hits), len(s.cache_misses))
"""


@_NOJIT
def test_bundled_residual_compiles_once_per_machine_not_per_process(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", CACHED], capture_output=True, text=True, env=env, check=True)
            .stdout.split() for _ in range(2)]
    assert runs[0] == ["True", "0", "1"]  # compiled (a cache miss), and written to the cache
    assert runs[1] == ["True", "1", "0"]  # loaded from the disk cache: nothing compiled
