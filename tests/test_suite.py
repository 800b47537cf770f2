"""Every solver on every problem of the shared library, from x0, 10 x0 and 100 x0.

A pass means: the solver says CONVERGED *and* the residual recomputed here, independently
of the solver, is at or below ftol; where the root is unique, x is also close to it. A
declared failure (problems.KNOWN_BAD, with its reason) is a strict xfail: it must still
fail honestly (no false "converged"), and a fix shows up as an unexpected pass.
"""

import numpy as np
import problems as P
import pytest

import chemsolve as cs

FTOL = 1e-10
# roots that are unique and where the Jacobian there is well conditioned: |x - x*| is
# bounded by ~cond(J) * ftol, so 1e-7 leaves room for cond(J) up to 1e3
UNIQUE_WELL_CONDITIONED = {"rosenbrock", "helical_valley", "discrete_bvp", "chandrasekhar_h"}

# the standard start with three solvers also runs under NUMBA_DISABLE_JIT (marker nojit)
_NOJIT = ("newton", "newton-fd", "anderson")

CASES = [
    pytest.param(
        p, s, label, x0, id=f"{p.name}-{label}-{s}",
        marks=[pytest.mark.nojit] if (label == "x0" and s in _NOJIT) else [],
    )
    for p in P.PROBLEMS
    for label, x0 in P.starts(p)
    for s in P.SOLVERS
]


def _residual(problem, x):
    return float(np.max(np.abs(problem.fun.py_func(x) if hasattr(problem.fun, "py_func") else problem.fun(x))))


@pytest.mark.slow  # each case compiles the solver for its residual; the nojit subset runs in the fast tier
@pytest.mark.parametrize("problem, solver, label, x0", CASES)
def test_solver_on_problem(problem, solver, label, x0):
    res = P.run(problem, solver, x0, ftol=FTOL, max_iter=500)
    true_res = _residual(problem, res.x)
    if res.success:
        # never a false "converged": judged by the residual recomputed in plain Python
        scale = FTOL if problem.gmap is None or solver.startswith("newton") else 10 * FTOL
        assert true_res <= scale, f"says converged but max|F(x)| = {true_res:.3e}"
    else:
        assert res.status != cs.Status.CONVERGED and res.message
    reason = P.known_bad(problem.name, solver, label)
    if reason is not None:
        assert not res.success, f"declared known failure now passes ({reason}) - update KNOWN_BAD"
        pytest.xfail(reason)
    assert res.success, f"{res.status.name}: {res.message} (residual {true_res:.3e}, nit {res.nit})"
    if problem.name in UNIQUE_WELL_CONDITIONED:
        np.testing.assert_allclose(res.x, problem.solutions[0], rtol=0, atol=1e-7)


def test_known_bad_entries_name_real_cases():
    names = {p.name for p in P.PROBLEMS}
    labels = {lab for p in P.PROBLEMS for lab, _ in P.starts(p)} | {"*"}
    for (pname, solver, label), reason in P.KNOWN_BAD.items():
        assert pname in names and solver in P.SOLVERS and label in labels and len(reason) > 30


@pytest.mark.slow  # 40 s: every problem and start of the library, twice (the per-problem tests stay fast)
def test_default_newton_at_least_matches_scipy_hybr():
    """The issue's bar: default Newton solves at least as many (problem, start) pairs as hybr.

    Both are judged by the same independent test, max|F(x)| <= 1e-8 (hybr's own stopping
    rule is a relative step of 1.5e-8, so a tighter judge would be unfair to it).
    """
    from scipy.optimize import root

    ours = theirs = 0
    for p in P.PROBLEMS:
        f = p.fun.py_func if hasattr(p.fun, "py_func") else p.fun
        j = p.jac.py_func if hasattr(p.jac, "py_func") else p.jac
        for _, x0 in P.starts(p):
            r = P.run(p, "newton", x0, max_iter=500)
            ours += r.success and _residual(p, r.x) <= 1e-8
            h = root(f, x0, jac=j, method="hybr")
            theirs += bool(h.success) and float(np.max(np.abs(f(h.x)))) <= 1e-8
    assert ours >= theirs, (ours, theirs)
