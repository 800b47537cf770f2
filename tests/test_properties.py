"""Property tests (hypothesis): a result that says converged has a residual below ftol, as
recomputed here; a result that did not converge never says so."""

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chemsolve as cs
from chemsolve import damping as dmp


@numba.njit(cache=True)
def cubic_sin(x, A, b, c):
    # F(x) = A x + c * sin(3 x) + 0.1 x^3 - b : smooth, several roots, some starts hard
    return A @ x + c * np.sin(3.0 * x) + 0.1 * x**3 - b


N = 3
finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
schedules = st.sampled_from(
    [None, dmp.Constant(1.0), dmp.Constant(0.3), dmp.Ramp(0.1, 2.0, 1.0), dmp.Adaptive(0.5), dmp.LineSearch()]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    A=arrays(np.float64, (N, N), elements=finite),
    b=arrays(np.float64, N, elements=finite),
    c=arrays(np.float64, N, elements=st.floats(-3, 3)),
    x0=arrays(np.float64, N, elements=finite),
    method=st.sampled_from(["newton", "fixed_point", "anderson"]),
    damping=schedules,
    ftol=st.sampled_from([1e-6, 1e-10, 1e-13]),
)
def test_converged_means_small_residual(A, b, c, x0, method, damping, ftol):
    if method == "newton":
        fun, args = cubic_sin, (A, b, c)
    else:  # G(x) = x - F(x) / 10: a fixed point of G is a root of F
        fun, args = (lambda x, A, b, c: x - 0.1 * cubic_sin(x, A, b, c)), (A, b, c)
    res = cs.solve(fun, x0, method=method, damping=damping, ftol=ftol, max_iter=100, args=args)
    F = cubic_sin.py_func(res.x, A, b, c)
    true_norm = float(np.max(np.abs(F)))
    scale = 1.0 if method == "newton" else 0.1
    assert res.success == (res.status == cs.Status.CONVERGED)
    if res.success:
        assert true_norm * scale <= ftol * (1 + 1e-12)
    else:
        assert res.status != cs.Status.CONVERGED
        assert res.message
    if np.isfinite(true_norm) and np.isfinite(res.residual_norm):
        assert abs(res.residual_norm - true_norm * scale) <= 1e-12 * max(1.0, true_norm)


@pytest.mark.slow  # compiles the batch kernel for its residual
@settings(max_examples=30, deadline=None)
@given(
    P=arrays(np.float64, (16, 2), elements=st.floats(-10, 10)),
    X0=arrays(np.float64, (16, 1), elements=st.floats(-10, 10)),
    warm=st.booleans(),
)
def test_batch_status_is_honest(P, X0, warm):
    res = cs.solve_batch(_quad, X0, P, warm_start=warm, max_iter=60)
    for i in range(16):
        r = abs(X0[i, 0] * 0 + res.x[i, 0] ** 2 + P[i, 1] * res.x[i, 0] - P[i, 0])
        if res.status[i] == cs.Status.CONVERGED:
            assert r <= 1e-10
        disc = P[i, 1] ** 2 + 4 * P[i, 0]
        if disc < -1e-6:  # no real root: never converged
            assert res.status[i] != cs.Status.CONVERGED


@numba.njit(cache=True)
def _quad(x, p):
    out = np.empty(1)
    out[0] = x[0] * x[0] + p[1] * x[0] - p[0]
    return out


# ---------------------------------------------------------------- the engine's certificate
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    A=arrays(np.float64, (N, N), elements=finite),
    b=arrays(np.float64, N, elements=finite),
    c=arrays(np.float64, N, elements=st.floats(-3, 3)),
    x0=arrays(np.float64, N, elements=finite),
    damping=schedules,
    kick=st.floats(1e-3, 1.0),
    k=st.integers(0, N - 1),
)
def test_every_converged_state_passes_its_certificate_and_a_perturbed_one_fails(A, b, c, x0, damping, kick, k):
    res = cs.solve(cubic_sin, x0, damping=damping, max_iter=100, args=(A, b, c))
    if not res.success:
        assert res.certificate is None or not res.certificate.passed or res.status != cs.Status.CONVERGED
        return
    assert res.certificate is not None and res.certificate.passed
    fs = np.ones(N)
    # the same check on a state moved off the root: F changes by about J dx, so a kick of at least
    # 1e-3 fails whenever the Jacobian's column k is not tiny (|J e_k| > 1e-6 keeps it far above ftol)
    J = A + np.diag(3.0 * c * np.cos(3.0 * res.x) + 0.3 * res.x**2)
    moved = res.x.copy()
    moved[k] += kick
    cert = cs.engine.certify(cubic_sin, moved, (A, b, c), fs, 1e-10)
    if np.max(np.abs(J[:, k])) * kick > 1e-6:
        assert not cert.passed and cert.worst == "max|F/fscale|"
