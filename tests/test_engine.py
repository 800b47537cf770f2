"""Engine behaviour on small hand-made problems: API, statuses, bad input, damping objects.

Everything here runs the plain-Python path (residuals are ordinary functions), so the whole
module also runs under NUMBA_DISABLE_JIT=1 (marker ``nojit``).
"""

import json
import math
import os

import numpy as np
import pytest

import chemsolve as cs
from chemsolve import damping as dmp
from chemsolve.kernels import codes

pytestmark = pytest.mark.nojit


def sqrt2(x):
    return np.array([x[0] ** 2 - 2.0, x[1] - x[0]])


def cos_map(x):  # G(x) = x has the Dottie number as its root
    return np.array([math.cos(x[0]), 0.5 * x[1] + 1.0])


DOTTIE = 0.7390851332151607


# ---------------------------------------------------------------- the happy path
@pytest.mark.parametrize(
    "damping",
    [None, dmp.Constant(1.0), dmp.Constant(0.7), dmp.Ramp(0.2, 2.0, 1.0), dmp.Adaptive(), dmp.LineSearch(),
     dmp.ControlFactor(0.1)],
    ids=repr,
)
def test_newton_converges_with_every_schedule(damping):
    res = cs.solve(sqrt2, [1.0, 1.0], damping=damping)
    assert res.success and res.status == cs.Status.CONVERGED
    # ftol=1e-10 on x^2 - 2 bounds the error in x by 1e-10 / (2 sqrt 2) (first order)
    np.testing.assert_allclose(res.x, [math.sqrt(2)] * 2, rtol=0, atol=1e-10)
    assert np.max(np.abs(sqrt2(res.x))) <= 1e-10
    assert res.residual_norm == pytest.approx(np.max(np.abs(sqrt2(res.x))), abs=1e-15)
    assert len(res.history) == res.nit + 1
    assert res.history.residual_norm[-1] == res.residual_norm


@pytest.mark.parametrize("method", ["fixed_point", "anderson"])
@pytest.mark.parametrize("damping", [None, dmp.Constant(0.5), dmp.Ramp(), dmp.Adaptive(start=0.5), dmp.LineSearch()],
                         ids=repr)
def test_fixed_point_methods(method, damping):
    res = cs.solve(cos_map, [0.0, 0.0], method=method, damping=damping)
    assert res.success, res
    # residual |G(x)-x| <= 1e-10 and 1 - |G'| >= 0.3 near the root give |x - x*| <= 1e-10/0.3
    np.testing.assert_allclose(res.x, [DOTTIE, 2.0], atol=4e-10, rtol=0)


def test_anderson_beats_plain_relaxation():
    plain = cs.solve(cos_map, [0.0, 0.0], method="fixed_point")
    mixed = cs.solve(cos_map, [0.0, 0.0], method="anderson", anderson_m=3)
    assert plain.success and mixed.success
    assert mixed.nit < plain.nit / 3


def test_analytic_jacobian_matches_finite_differences():
    def jac(x):
        return np.array([[2 * x[0], 0.0], [-1.0, 1.0]])

    a = cs.solve(sqrt2, [3.0, -1.0], jac=jac)
    b = cs.solve(sqrt2, [3.0, -1.0])
    assert a.success and b.success
    # one Jacobian per iteration, plus the input check at x0 (counted too)
    assert a.njev == a.nit + 1 and b.njev == 0
    assert a.nfev < b.nfev  # finite differences cost n evaluations per iteration
    np.testing.assert_allclose(a.x, b.x, atol=1e-10)


def test_args_are_passed():
    res = cs.solve(lambda x, c: np.array([x[0] ** 3 - c]), [1.0], args=(27.0,))
    assert res.success and res.x[0] == pytest.approx(3.0, abs=1e-10)


def test_step_caps_keep_unknown_positive():
    # log(x) - 5 = 0 from x=1e-3: the undamped Newton step x*(1 - (log x - 5)) is huge
    f = lambda x: np.array([math.log(x[0]) - 5.0]) if x[0] > 0 else np.array([np.nan])
    res = cs.solve(f, [1e-3], max_rel_step=0.5, damping=dmp.Constant(1.0))
    assert res.success
    steps = res.history.step_norm[1:]
    xs = np.concatenate([[1e-3], 1e-3 + np.cumsum(steps)])  # monotone increase here
    assert np.all(steps <= 0.5 * xs[:-1] * (1 + 1e-12))
    capped = cs.solve(lambda x: np.array([x[0] - 10.0]), [0.0], max_step=1.0, damping=dmp.Constant(1.0))
    assert capped.success and np.all(capped.history.step_norm[1:] <= 1.0 + 1e-12)
    assert capped.nit == 10


def test_singular_jacobian_is_regularised_not_fatal():
    # J = diag(2x0, 1) is singular at x0 = 0 but the LM step still moves
    res = cs.solve(lambda x: np.array([x[0] ** 2 - 1.0, x[1]]), [0.0, 1.0])
    assert res.success and abs(abs(res.x[0]) - 1.0) < 1e-9


def test_throw_raises_with_result():
    with pytest.raises(cs.ConvergenceError) as ei:
        cs.solve(sqrt2, [1.0, 1.0], max_iter=1, throw=True)
    assert ei.value.result.status == cs.Status.MAX_ITER
    assert ei.value.result.x.shape == (2,)


# ---------------------------------------------------------------- every status is reachable
def _nan_off_start(x):
    return np.array([x[0] - 1.0]) if x[0] == 2.0 else np.array([np.nan])


def _lying_once():
    """F(x) = x - 3, except that its third call (the first trial point) returns 0."""
    calls = [0]

    def f(x):
        calls[0] += 1
        return np.zeros(1) if calls[0] == 3 else np.array([x[0] - 3.0])

    return f


STATUS_CASES = {
    cs.Status.CONVERGED: lambda: cs.solve(sqrt2, [1.0, 1.0]),
    cs.Status.MAX_ITER: lambda: cs.solve(sqrt2, [1.0, 1.0], max_iter=2),
    # finite at the start only: the finite-difference Jacobian is already NaN
    cs.Status.NONFINITE: lambda: cs.solve(_nan_off_start, [2.0]),
    # x^2 + 1 at x = 0: J = 0 and J^T J = 0, no step of any kind exists
    cs.Status.SINGULAR: lambda: cs.solve(
        lambda x: np.array([x[0] ** 2 + 1.0]), [0.0], jac=lambda x: np.array([[2.0 * x[0]]])
    ),
    # a Jacobian of the wrong sign: the predicted descent never materialises
    cs.Status.LINE_SEARCH_FAILED: lambda: cs.solve(
        lambda x: np.array([x[0] - 1.0]), [3.0], jac=lambda x: np.array([[-1.0]])
    ),
    # ftol below what double precision can reach for x^2 - 2 (|F| >= ~4e-16 at any float)
    cs.Status.STAGNATED: lambda: cs.solve(lambda x: x**2 - 2.0, [1.0], ftol=1e-300),
    # undamped Newton on arctan from |x0| > 1.39 runs away
    cs.Status.DIVERGED: lambda: cs.solve(
        np.arctan, [2.0], jac=lambda x: np.array([[1.0 / (1.0 + x[0] ** 2)]]), damping=dmp.Constant(1.0)
    ),
    # a residual that lies once: zero at the trial point the solver accepts, the truth at the
    # certificate's fresh evaluation there -> the state is refused
    cs.Status.CHECK_FAILED: lambda: cs.solve(_lying_once(), [5.0], jac=lambda x: np.array([[2.0]])),
    # a residual whose length changes during the iteration (checked at x0 in Python, then in the kernel)
    cs.Status.INVALID_INPUT: lambda: cs.solve(lambda x: np.array([x[0] - 3.0]) if x[0] == 1.0 else np.zeros(2), [1.0]),
}


@pytest.mark.parametrize("status", list(cs.Status), ids=lambda s: s.name)
def test_every_status_is_reachable(status):
    res = STATUS_CASES[status]()
    assert res.status == status
    assert res.success == (status == cs.Status.CONVERGED)
    assert res.message


def test_nonfinite_inside_iteration_too():
    # the root x = 1 lies outside the residual's domain x >= 2: steps are halved until
    # they stay inside, the iterate creeps to the edge, then no finite trial point is left
    res = cs.solve(lambda x: np.array([x[0] - 1.0]) if x[0] >= 2.0 else np.array([np.inf]), [2.5],
                   damping=dmp.Constant(1.0))
    assert res.status == cs.Status.NONFINITE and not res.success
    assert res.nit > 0 and res.x[0] >= 2.0 and math.isfinite(res.residual_norm)


def test_status_enum_matches_kernel_codes():
    assert {s.name: int(s) for s in cs.Status} == {v: k for k, v in codes.STATUS_NAMES.items()}
    names = {k for k in vars(codes) if not k.startswith("_") and k.isupper()}
    for s in cs.Status:
        assert s.name in names and getattr(codes, s.name) == int(s)
        assert len(s.message) > 40  # says what happened and what to try


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x0=[1.0, np.nan]), r"x0 is not finite at index \[1\]"),
        (dict(x0=[[1.0, 1.0]]), r"x0 must be a non-empty 1-D array; got shape \(1, 2\)"),
        (dict(x0=[]), r"non-empty"),
        (dict(x0=["a", 1]), r"x0 cannot be read"),
        (dict(method="bisect"), r"unknown method 'bisect'"),
        (dict(damping="wobbly"), r"unknown damping 'wobbly'"),
        (dict(damping={"type": "ramp", "speed": 2}), r"unknown key\(s\) \['speed'\]"),
        (dict(ftol=-1.0), r"ftol=-1.0 must be a positive"),
        (dict(ftol=float("nan")), r"ftol=nan"),
        (dict(ftol=1e300), r"ftol=1e\+300 must be at most 0.01"),
        (dict(ftol=0.5), r"ftol=0.5 must be at most 0.01.*fscale"),
        (dict(rtol=2.0), r"rtol=2.0 must be below 1"),
        (dict(max_iter=-3), r"max_iter=-3 must be an integer"),
        (dict(max_iter=2.5), r"max_iter=2.5 must be an integer"),
        (dict(fscale=[1.0, 0.0]), r"fscale must be positive"),
        (dict(max_step=0.0), r"max_step=0.0 must be a positive"),
    ],
)
def test_bad_arguments_name_the_culprit(kwargs, match):
    call = dict(fun=sqrt2, x0=[1.0, 1.0])
    call.update(kwargs)
    with pytest.raises(cs.InvalidInputError, match=match):
        cs.solve(**call)


def test_residual_of_wrong_length():
    with pytest.raises(cs.InvalidInputError, match=r"returned shape \(3,\) for x0 of shape \(2,\)"):
        cs.solve(lambda x: np.zeros(3), [1.0, 2.0])


def test_residual_that_raises_keeps_the_cause():
    def bad(x):
        raise ZeroDivisionError("boom")

    with pytest.raises(cs.InvalidInputError,
                       match=r"raised ZeroDivisionError at the initial guess x0=\[1.0\]: boom") as ei:
        cs.solve(bad, [1.0])
    assert isinstance(ei.value.__cause__, ZeroDivisionError)


def test_nan_at_start_is_a_status_naming_the_component():
    res = cs.solve(lambda x: np.array([x[0], np.nan]), [1.0, 2.0])
    assert res.status == cs.Status.NONFINITE and not res.success
    assert "component(s) [1]" in res.message
    np.testing.assert_array_equal(res.x, [1.0, 2.0])  # the user's guess comes back intact


def test_input_is_not_modified():
    x0 = np.array([1.0, 1.0])
    cs.solve(sqrt2, x0)
    np.testing.assert_array_equal(x0, [1.0, 1.0])


def test_wrong_jacobian_shape():
    with pytest.raises(cs.InvalidInputError,
                       match=r"the jac returned shape \(2,\) for x0 of shape \(2,\); expected \(2, 2\)"):
        cs.solve(sqrt2, [1.0, 1.0], jac=lambda x: np.zeros(2))


# ---------------------------------------------------------------- damping objects
@pytest.mark.parametrize(
    "sched", [dmp.Constant(0.3), dmp.Ramp(0.1, 1.5, 0.9), dmp.Adaptive(0.5, 1.5, 0.25, 1e-6, 1.0),
              dmp.LineSearch(1.0, 1e-3, 0.3, 1e-8), dmp.ControlFactor(1.0, 20.0, 9.0)]
)
def test_damping_json_round_trip(sched):
    d = json.loads(json.dumps(sched.to_dict()))
    assert dmp.from_dict(d) == sched
    assert sched.params().shape == (codes.N_DAMP_PARAMS,)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: dmp.Constant(0.0), r"alpha=0.0 must lie in \(0.0, 1.0\]"),
        (lambda: dmp.Constant(1.5), r"alpha=1.5"),
        (lambda: dmp.Ramp(0.5, 0.9), r"factor=0.9"),
        (lambda: dmp.Ramp(0.5, 2.0, 0.2), r"max=0.2 is below start=0.5"),
        (lambda: dmp.Adaptive(shrink=1.0), r"shrink=1.0"),
        (lambda: dmp.LineSearch(c=0.9), r"c=0.9"),
        (lambda: dmp.ControlFactor(max_change=0.0), r"max_change=0.0"),
        (lambda: dmp.ControlFactor(trace_ln=5.0, trace_target_ln=9.0), r"exceeds trace_ln"),
        (lambda: dmp.Constant("x"), r"alpha='x' is not a number"),
        (lambda: dmp.from_dict({"alpha": 1}), r"needs a 'type' key"),
    ],
)
def test_bad_damping_fails_at_construction(build, match):
    with pytest.raises(cs.InvalidInputError, match=match):
        build()


def test_ramp_schedule_is_followed():
    res = cs.solve(lambda x: np.array([x[0] - 5.0]), [0.0], damping=dmp.Ramp(0.125, 2.0, 1.0))
    np.testing.assert_allclose(res.history.damping[1:5], [0.125, 0.25, 0.5, 1.0])
    assert res.success


def test_adaptive_grows_after_success():
    res = cs.solve(lambda x: np.array([x[0] - 5.0]), [0.0], damping=dmp.Adaptive(start=0.25, grow=2.0))
    np.testing.assert_allclose(res.history.damping[1:4], [0.25, 0.5, 1.0])


# ---------------------------------------------------------------- found in review
def test_anderson_respects_step_caps():
    res = cs.solve(cos_map, [0.0, 0.0], method="anderson", max_step=0.1)
    assert res.success and np.all(res.history.step_norm <= 0.1 + 1e-12)
    pos = cs.solve(lambda x: np.array([0.2 + 0.0 * x[0]]), [1.5], method="anderson", max_rel_step=0.5)
    xs = [1.5]
    for d in pos.history.step_norm[1:]:
        assert d <= 0.5 * xs[-1] + 1e-12
        xs.append(xs[-1] - d)
    assert pos.success


def test_slow_contraction_is_not_called_stagnated():
    # G = 0.95 x + 50: every step cuts the residual by 5 %, with steps far below rtol*|x|
    # near the root x* = 1000; it must keep going to ftol, not stop as STAGNATED
    res = cs.solve(lambda x: 0.95 * x + 50.0, [0.0], method="fixed_point", max_iter=2000)
    assert res.success and abs(res.x[0] - 1000.0) < 1e-7


def test_huge_residuals_do_not_overflow_the_line_search():
    res = cs.solve(lambda x: np.exp(x) - 2.0, [400.0], max_iter=1000)
    assert res.success and res.x[0] == pytest.approx(math.log(2.0), abs=1e-10)


def test_residual_that_raises_mid_iteration_is_a_domain_edge():
    res = cs.solve(lambda x: np.array([math.log(x[0]) - 1.0]), [10.0], damping=dmp.Constant(1.0))
    assert res.success and res.x[0] == pytest.approx(math.e, abs=1e-9)
    # sqrt(x - 2) + 1 has no root; steps towards one leave the domain x >= 2 (math.sqrt raises)
    bad = cs.solve(lambda x: np.array([math.sqrt(x[0] - 2.0) + 1.0]), [3.0], damping=dmp.Constant(1.0))
    assert bad.status == cs.Status.NONFINITE and "raised ValueError at a trial point" in bad.message
    assert bad.x[0] >= 2.0


def test_complex_residual_is_rejected():
    with pytest.raises(cs.InvalidInputError, match="complex"):
        cs.solve(lambda x: x - 1 + 1j, [0.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(fscale="abc"), r"fscale='abc' cannot be read"),
        (dict(x0=None), r"x0 is required"),
    ],
)
def test_more_bad_arguments(kwargs, match):
    call = dict(fun=sqrt2, x0=[1.0, 1.0])
    call.update(kwargs)
    with pytest.raises(cs.InvalidInputError, match=match):
        cs.solve(**call)


def test_inplace_residual_that_returns_instead_of_writing():
    with pytest.raises(cs.InvalidInputError, match="must write its result into its last argument"):
        cs.solve(lambda x, out: x - 1.0, [0.0], inplace=True)


def test_history_is_capped_but_the_solve_is_not():
    res = cs.solve(lambda x: 0.999 * x + 1.0, [0.0], method="fixed_point", max_iter=20_000, ftol=1e-6)
    assert res.success and res.nit > 10_000
    assert len(res.history) == 10_001


def test_control_factor_caps_the_step():
    """CEA's control factor: no component of a step exceeds max_change."""
    res = cs.solve(lambda x: np.array([x[0] - 10.0]), [0.0], damping=dmp.ControlFactor(max_change=2.0))
    assert res.success
    assert res.history.step_norm.max() <= 2.0 + 1e-12 and res.nit >= 5
    np.testing.assert_allclose(res.x, [10.0], rtol=1e-12)


# ---------------------------------------------------------------- certificates (DESIGN section 3)
def test_converged_result_carries_a_passing_certificate():
    res = cs.solve(sqrt2, [1.0, 1.0])
    assert res.success and res.certificate is not None and res.certificate.passed
    assert res.certificate.checks["max|F/fscale|"].value <= 1e-10
    assert "passed" in res.certificate.message


def test_certificate_refuses_a_lying_residual_with_its_worst_residual_named():
    res = cs.solve(_lying_once(), [5.0], jac=lambda x: np.array([[2.0]]))
    assert res.status == cs.Status.CHECK_FAILED and not res.success
    chk = res.certificate.checks["max|F/fscale|"]
    assert not chk.passed and chk.value == pytest.approx(1.0)  # x = 4 after the half step: F = 1
    assert "max|F/fscale|" in res.message and "FAILED" in res.message
    with pytest.raises(cs.ConvergenceError):
        cs.solve(_lying_once(), [5.0], jac=lambda x: np.array([[2.0]]), throw=True)


def test_nonsense_ftol_can_no_longer_certify_a_non_root():
    # the reported bug: ftol=1e300 returned CONVERGED at x0, far from the root
    with pytest.raises(cs.InvalidInputError, match="ftol"):
        cs.solve(sqrt2, [1.0, 1.0], ftol=1e300)
    with pytest.raises(cs.InvalidInputError, match="ftol"):
        cs.solve_batch(sqrt2, np.ones((2, 2)), ftol=1e300)


@pytest.mark.slow  # compiles the solver for a new residual
@pytest.mark.skipif(__import__("os").environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing is compiled")
def test_a_long_first_compilation_says_so_on_stderr():
    # a jitted residual compiles the solver in every process (seconds): the user is told, once
    import subprocess
    import sys

    code = ("import numba, numpy as np, chemsolve as cs\n"
            "f = numba.njit(lambda x: x ** 2 - 2.0)\n"
            "print(cs.solve(f, np.array([1.0])).success, cs.solve(f, np.array([3.0])).success)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2 and "compiling the solver for <lambda>" in lines[0] and "ready (" in lines[1]


# -- a residual that raises: one line, InvalidInputError, on every path (issue 12, item 10) ----------

def _raises_beyond(x, p):
    """Root x = (sqrt p, 1); from x0 = (0.5, 1) Newton's first step for p = 4 goes to x = 4.25, where the
    residual raises (its domain ends at 3)."""
    if x[0] > 3.0:
        raise ValueError("outside the table")
    out = np.empty(2)
    out[0] = x[0] * x[0] - p[0]
    out[1] = x[1] - 1.0
    return out


def _njit(f):
    import numba  # (the tests import numba freely; the package keeps it in chemsolve/kernels)

    return numba.njit(cache=True)(f)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                    reason="without JIT the residual is plain Python, and solve steps around a raise")
@pytest.mark.slow  # compiles the solver for a new residual
def test_njit_residual_that_raises_during_solve_is_one_line_invalid_input():
    fun = _njit(_raises_beyond)
    with pytest.raises(cs.InvalidInputError, match=r"^the @njit residual \(or jac\) raised ValueError during the "
                                                   r"iteration: outside the table; compiled code cannot step") as e:
        cs.solve(fun, [0.5, 1.0], args=(np.array([4.0]),))
    assert "\n" not in str(e.value) and isinstance(e.value.__cause__, ValueError)
    # its plain-Python form steps around the raise, as documented, and converges
    r = cs.solve(fun.py_func, [0.5, 1.0], args=(np.array([4.0]),))
    assert r.success and abs(r.x[0] - 2.0) < 1e-10


@pytest.mark.slow  # compiles the batch solver for a new residual
def test_njit_residual_that_raises_inside_solve_batch_is_not_a_system_error():
    """In the parallel kernel numba reported a SystemError ("returned a result with an exception set")."""
    fun = _njit(_raises_beyond)
    with pytest.raises(cs.InvalidInputError, match=r"^the @njit residual \(or jac\) raised ValueError during the "
                                                   r"iteration: outside the table;") as e:
        cs.solve_batch(fun, np.full((3, 2), 0.5), np.array([[1.0], [4.0], [1.0]]))
    assert "\n" not in str(e.value)
    ok = cs.solve_batch(fun, np.ones((2, 2)), np.array([[1.0], [2.0]]))  # from 1: never beyond 3
    assert ok.success.all()


def test_residual_that_raises_at_x0_with_an_advisor_is_the_same_invalid_input():
    from chemsolve.advisors import DefaultAdvisor, RetryLadder

    def bad(x):
        return {}["k"]

    msgs = []
    for advisor in (None, DefaultAdvisor(), RetryLadder()):
        with pytest.raises(cs.InvalidInputError, match=r"the residual raised KeyError at the initial guess") as e:
            cs.solve(bad, [1.0, 2.0], advisor=advisor)
        msgs.append(str(e.value))
    assert len(set(msgs)) == 1


# -- one options object per model, shared by keywords, model files and --set (issue 13) ----------
def test_engine_options_are_validated_once_and_name_the_field():
    from chemsolve.engine import EngineOptions

    o = EngineOptions(method="anderson", ftol=1e-8, max_iter=50)
    assert o.damping == dmp.Constant(1.0)  # the method's default schedule, resolved at construction
    assert cs.solve(lambda x: np.cos(x), [0.0], options=o).success
    for bad, match in ((dict(max_iter=-1), r"max_iter=-1 must be an integer"),
                       (dict(method="bisect"), r"unknown method 'bisect'"),
                       (dict(damping="wobbly"), r"unknown damping 'wobbly'")):
        with pytest.raises(cs.InvalidInputError, match=match):
            EngineOptions(**bad)
    with pytest.raises(cs.InvalidInputError, match="either as options= or as keywords"):
        cs.solve(sqrt2, [1.0, 1.0], options=EngineOptions(), ftol=1e-6)
    # the keywords and the options object give the very same solve
    a = cs.solve(sqrt2, [1.0, 1.0], damping=dmp.Ramp(0.2, 2.0, 1.0), max_iter=30)
    b = cs.solve(sqrt2, [1.0, 1.0], options=EngineOptions(damping=dmp.Ramp(0.2, 2.0, 1.0), max_iter=30))
    assert a.nit == b.nit and np.array_equal(a.x, b.x)


def test_throw_on_a_batch_names_the_count_and_the_first():
    from chemsolve.kernels import examples as ex

    # the bundled propane residual (its kernel is cached); row 1's start is not finite
    X0 = np.tile(ex.PAPER_START, (3, 1))
    X0[1, 0] = np.nan
    P = np.tile(ex.PAPER_PARAMS, (3, 1))
    b = cs.solve_batch(ex.propane, X0, P, jac=ex.propane_jac, max_rel_step=0.9)
    assert b.status.tolist() == [cs.Status.CONVERGED, cs.Status.INVALID_INPUT, cs.Status.CONVERGED]
    err = cs.ConvergenceError(b)
    assert str(err) == "1 of 3 state(s) did not converge (first: row 1, INVALID_INPUT)"
    assert err.result is b


def test_status_prints_its_name():
    assert str(cs.solve(sqrt2, [1.0, 1.0]).status) == "CONVERGED"
    assert f"{cs.Status.MAX_ITER}" == "MAX_ITER"
