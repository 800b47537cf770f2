"""The engine's front door: ``solve`` (one problem) and ``solve_batch`` (N problems).

Both check their input here, in Python, then hand contiguous float64 arrays to the numba
kernels in ``chemsolve.kernels.solver`` (imported on first use, so ``import chemsolve`` stays
light and compiles nothing).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from . import damping as _damping
from .certificate import BatchCertificate, Certificate, Check, failed_message
from .errors import ConvergenceError, InvalidInputError
from .kernels import codes as _c
from .options import OptionError, Options
from .result import BatchResult, History, SolveResult
from .status import Status

__all__ = ["solve", "solve_batch", "certify", "EngineOptions", "METHODS"]

METHODS = {
    "newton": _c.METHOD_NEWTON,
    "fixed_point": _c.METHOD_FIXED_POINT,
    "anderson": _c.METHOD_ANDERSON,
}


def _is_jitted(f: Any) -> bool:
    """True for a numba dispatcher (``@numba.njit`` function) — checked without importing numba."""
    return f is not None and hasattr(f, "py_func") and hasattr(f, "signatures")


# Largest accepted ftol. ftol bounds the scaled residual max|F/fscale| that counts as a root; with
# ftol = 1e300 any point "converged". 1e-2 leaves room for loose engineering tolerances while a
# residual of typical size fscale can no longer pass unsolved.
FTOL_MAX = 1e-2
HISTORY_LIMIT = 10_000  # iterations kept in SolveResult.history (the solve itself is not limited)


def _guarded(fun: Callable, raised: list, inplace: bool, jacobian: bool = False) -> Callable:
    """A plain-Python residual as the kernel needs it: float64 arrays out; an exception at a
    trial point becomes NaN (backtracking then avoids the point) and is kept for the message."""

    def call(x, *a):
        try:
            if inplace:
                fun(x, *a)
                return None
            v = fun(x, *a)
        except Exception as e:  # noqa: BLE001 - the user's code; reported in the result
            raised.append(e)
            if inplace:
                a[-1][...] = np.nan
                return None
            n = x.shape[0]
            return np.full((n, n) if jacobian else n, np.nan)
        if np.iscomplexobj(v):
            raise InvalidInputError("the residual returned complex values during the iteration")
        return np.asarray(v, dtype=np.float64)

    return call


def _compiled_failure(e: BaseException) -> InvalidInputError:
    """The one-line error for an exception out of a compiled solver call. Compiled code cannot
    step around a residual that raises (the Python path treats such a point as outside the domain):
    the raise ends the whole call. In a parallel batch numba reports it as a SystemError whose
    cause is the residual's exception. A numba error here means the solver could not be compiled
    for this residual."""
    if isinstance(e, SystemError) and e.__cause__ is not None:
        e = e.__cause__
    first = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), "")
    if type(e).__module__.split(".")[0] == "numba":
        return InvalidInputError(f"the compiled solver could not be built for this residual: {type(e).__name__}: "
                                 f"{first[:300]}")
    return InvalidInputError(
        f"the @njit residual (or jac) raised {type(e).__name__} during the iteration: {first[:300]}; compiled code "
        "cannot step around a raise: return NaN where the residual is undefined (or pass fun.py_func to solve, "
        "which treats a raise as outside the domain)")


def _method_code(method: str) -> int:
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise InvalidInputError(f"unknown method {method!r}; expected one of {sorted(METHODS)}")
    return METHODS[method.lower()]


def _positive(allow_inf: bool = False, allow_zero: bool = False) -> Callable[[Any], float]:
    """A number > 0 (>= 0 with ``allow_zero``), finite unless ``allow_inf``."""

    def check(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("is not a number")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError("is not a number") from None
        if math.isnan(v) or (math.isinf(v) and not allow_inf) or v < 0 or (v == 0 and not allow_zero):
            what = "non-negative" if allow_zero else "positive"
            raise ValueError(f"must be a {what}{'' if allow_inf else ' finite'} number")
        return v

    return check


def _count(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            v = operator.index(value)
        except TypeError:
            raise ValueError("must be an integer") from None
        if isinstance(value, bool) or not lo <= v <= hi:
            raise ValueError(f"must be an integer in [{lo}, {hi}]")
        return int(v)

    return check


def _ftol(value: Any) -> float:
    v = _positive()(value)
    if v > FTOL_MAX:
        raise ValueError(f"must be at most {FTOL_MAX:g}: it bounds max|F/fscale| at a root, and above that any "
                         "point can pass; give the residual's typical size as fscale instead")
    return v


def _rtol(value: Any) -> float:
    v = _positive(allow_zero=True)(value)
    if v >= 1.0:
        raise ValueError("must be below 1 (it is a relative step tolerance)")
    return v


def _diverge(value: Any) -> float:
    v = _positive(allow_inf=True)(value)
    if v <= 1.0:
        raise ValueError("must exceed 1")
    return v


def _method(value: Any) -> str:
    _method_code(value)
    return str(value).lower()


def _fscale_values(value: Any) -> Any:
    """A positive finite scalar, or a sequence of them (checked against n when solving)."""
    try:
        s = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"fscale={value!r} cannot be read as positive numbers: {e}") from None
    if s.ndim > 1 or not np.all(np.isfinite(s) & (s > 0)):
        bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)).reshape(-1))
        raise InvalidInputError(f"fscale must be positive and finite; bad entries at {bad.tolist()}: "
                                f"{s.reshape(-1)[bad].tolist()}")
    return float(s) if s.ndim == 0 else tuple(s.tolist())


def _optional_bool(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError("must be true, false or None (automatic)")
    return value


@dataclass(frozen=True)
class EngineOptions(Options):
    """Options of the engine's solvers (``solve``, ``solve_batch``), validated once at construction.

    Each field is checked when the object is made; a bad value raises ``InvalidInputError`` naming the
    field. The same object is built from the verbs' keywords, a model file's ``solver:`` mapping and
    ``--set solver.KEY=VALUE``. Fields: ``method``, ``damping`` (None: the method's default), ``ftol``,
    ``rtol``, ``atol``, ``max_iter``, ``fscale``, ``max_step``, ``max_rel_step``, ``anderson_m``,
    ``stall_iter``, ``diverge`` and ``jit``, each with the meaning it has in ``solve``.
    """

    MODEL: ClassVar[str] = "engine"
    CHECKS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "method": _method, "ftol": _ftol, "rtol": _rtol, "atol": _positive(allow_zero=True),
        "max_iter": _count(0, 10**9), "fscale": _fscale_values, "max_step": _positive(allow_inf=True),
        "max_rel_step": _positive(allow_inf=True), "anderson_m": _count(1, 100), "stall_iter": _count(1, 10**9),
        "diverge": _diverge, "jit": _optional_bool,
    }

    method: str = "newton"
    damping: Any = None
    ftol: float = 1e-10
    rtol: float = 1e-10
    atol: float = 1e-12
    max_iter: int = 200
    fscale: Any = 1.0
    max_step: float = math.inf
    max_rel_step: float = math.inf
    anderson_m: int = 5
    stall_iter: int = 50
    diverge: float = 1e12
    jit: bool | None = None

    def _validate(self) -> None:
        try:
            sched = _damping.resolve(self.damping, self.method)
        except InvalidInputError as e:
            raise OptionError("damping", self.damping, str(e), whole=True) from None
        object.__setattr__(self, "damping", sched)

    def pack(self) -> np.ndarray:
        """The float64 options vector of the kernels (``codes.OPT_*``)."""
        opts = np.empty(_c.N_OPTS)
        opts[_c.OPT_FTOL] = self.ftol
        opts[_c.OPT_RTOL] = self.rtol
        opts[_c.OPT_ATOL] = self.atol
        opts[_c.OPT_MAX_ITER] = self.max_iter
        opts[_c.OPT_MAX_STEP] = self.max_step
        opts[_c.OPT_MAX_REL_STEP] = self.max_rel_step
        opts[_c.OPT_ANDERSON_M] = self.anderson_m
        opts[_c.OPT_STALL] = self.stall_iter
        opts[_c.OPT_DIVERGE] = self.diverge
        opts[_c.OPT_FD_STEP] = math.sqrt(np.finfo(np.float64).eps)
        opts[_c.OPT_MAX_BACKTRACK] = 60
        return opts


def _engine_options(options: EngineOptions | None, **kw: Any) -> EngineOptions:
    """``options`` when given (then the option keywords must be left at their defaults), else the
    options built from the keywords — validated once, here."""
    if options is None:
        return EngineOptions(**kw)
    if not isinstance(options, EngineOptions):
        raise InvalidInputError(f"options={options!r}: expected a chemsolve.engine.EngineOptions")
    default = EngineOptions()
    clash = sorted(k for k, v in kw.items() if not _same(v, getattr(default, k) if k != "damping" else None))
    if clash:
        raise InvalidInputError(f"give the solver options either as options= or as keywords, not both ({clash})")
    return options


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:  # noqa: BLE001 - arrays
        return False


def _fscale(fscale: Any, n: int) -> np.ndarray:
    try:
        s = np.asarray(fscale, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"fscale={fscale!r} cannot be read as positive numbers: {e}") from None
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise InvalidInputError(f"fscale has shape {s.shape}; expected a scalar or shape ({n},)")
    bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)))
    if bad.size:
        raise InvalidInputError(f"fscale must be positive and finite; bad entries at {bad.tolist()}: {s[bad].tolist()}")
    return np.ascontiguousarray(s)


def _as_vector(name: str, x: Any) -> np.ndarray:
    if x is None:
        raise InvalidInputError(f"{name} is required (got None)")
    try:
        v = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"{name} cannot be read as float64 numbers: {e}") from None
    if v.ndim == 0:
        v = v.reshape(1)
    if v.ndim != 1 or v.shape[0] == 0:
        raise InvalidInputError(f"{name} must be a non-empty 1-D array; got shape {v.shape}")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise InvalidInputError(f"{name} is not finite at index {bad.tolist()}: {v[bad].tolist()}")
    return v


def _first_eval(fun: Callable, x0: np.ndarray, args: tuple, what: str, inplace: bool = False,
                shape: tuple | None = None, compiled: bool = False) -> np.ndarray:
    """Evaluate the residual (or Jacobian) once at the start, in Python, to give clear errors."""
    shape = x0.shape if shape is None else shape
    try:
        if inplace:
            f = np.full(shape, np.nan)
            returned = fun(x0.copy(), *args, f)
            if returned is not None and returned is not f and np.isnan(f).all():
                raise InvalidInputError(
                    f"with inplace=True the {what} must write its result into its last argument; "
                    "it returned a value and left that array untouched"
                )
        else:
            f = fun(x0.copy(), *args)
    except InvalidInputError:
        raise
    except Exception as e:  # the user's residual: re-raise with the context it lacked
        raise InvalidInputError(
            f"the {what} raised {type(e).__name__} at the initial guess x0={x0.tolist()}: {e}"
        ) from e
    if np.iscomplexobj(f):
        raise InvalidInputError(f"the {what} returned complex values; it must return real float64 numbers")
    if compiled and not inplace and not isinstance(f, np.ndarray):
        raise InvalidInputError(
            f"the jitted {what} returned {type(f).__name__}; the compiled solver needs a numpy array"
        )
    try:
        f = np.asarray(f, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"the {what} returned something that is not float64 numbers: {e}") from None
    if f.shape != shape:
        raise InvalidInputError(
            f"the {what} returned shape {f.shape} for x0 of shape {x0.shape}; expected {shape}"
            + (": a square system needs one equation per unknown" if len(shape) == 1 else "")
        )
    return f


def solve(
    fun: Callable[..., Any],
    x0: Sequence[float] | np.ndarray,
    jac: Callable[..., Any] | None = None,
    method: str = "newton",
    damping: _damping.Damping | str | dict | float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_iter: int = 200,
    throw: bool = False,
    args: tuple = (),
    *,
    ftol: float = 1e-10,
    fscale: float | np.ndarray = 1.0,
    max_step: float = math.inf,
    max_rel_step: float = math.inf,
    anderson_m: int = 5,
    stall_iter: int = 50,
    diverge: float = 1e12,
    inplace: bool = False,
    jit: bool | None = None,
    advisor: Any = None,
    options: EngineOptions | None = None,
) -> SolveResult:
    """Solve a square nonlinear system from ``x0``.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> (n,)``. For ``method="newton"`` the residual F(x), solved for F(x) = 0; for
        ``"fixed_point"`` and ``"anderson"`` the map G(x), solved for G(x) = x (the residual is then
        G(x) - x).
    x0 : array_like, shape (n,)
        Initial guess.
    jac : callable, optional
        ``jac(x, *args) -> (n, n)``, dF/dx (Newton only); forward differences otherwise (n extra
        evaluations per iteration).
    method : {"newton", "fixed_point", "anderson"}
        Damped Newton (a singular Jacobian gets a Levenberg-Marquardt step), relaxation
        x <- x + a (G(x) - x), or Anderson mixing of depth ``anderson_m`` with a safeguarded restart.
    damping : Damping, str, dict or float, optional
        A ``chemsolve.damping`` schedule, its name, its dict or a float (Constant). Default
        ``LineSearch()`` for Newton, ``Constant(1.0)`` otherwise.
    rtol, atol : float
        Step tolerance: three steps in a row with abs(dx_i) <= atol + rtol abs(x_i) for every i, each
        cutting the residual by less than 10 %, while it is still above ``ftol``, stop with STAGNATED.
        ``atol`` also floors abs(x_i) in the relative step cap.
    max_iter : int
        Maximum number of iterations.
    throw : bool
        Raise ``ConvergenceError`` (carrying the result) unless converged.
    args : tuple
        Extra arguments passed to ``fun`` and ``jac``.
    ftol : float
        The convergence test, the only one: converged iff max_i abs(F_i(x)) / fscale_i <= ftol
        (at most 1e-2); the certificate then recomputes F at the returned x.
    fscale : float or array_like, shape (n,)
        Typical magnitudes of the residual components.
    max_step : float
        Cap on max_i abs(dx_i) of the undamped step (the whole step is scaled).
    max_rel_step : float
        Cap on abs(dx_i) / max(abs(x_i), atol): keeps positive unknowns positive (e.g. 0.9); in log
        variables use ``max_step`` instead.
    anderson_m : int
        Anderson depth.
    stall_iter : int
        Iterations without a 1e-6 relative improvement of the best residual before STAGNATED.
    diverge : float
        DIVERGED when the residual exceeds diverge * max(abs(F(x0)), 1).
    inplace : bool
        False: ``fun`` returns a new array. True: ``fun(x, *args, out)`` writes F into ``out`` (and
        ``jac(x, *args, out)`` writes J), so nothing is allocated per iteration.
    jit : bool or None
        None (automatic): a numba-jitted ``fun`` (and ``jac``) runs the compiled kernel, anything else
        runs the same algorithm as plain Python. False forces Python.
    advisor : Advisor, optional
        A ``chemsolve.advisors`` advisor. It may suggest ``{"x": [...]}`` as the initial guess, a
        damping schedule and ``{"max_step": ...}``; suggestions are checked and replaced by the
        defaults when bad; ``guess_source`` and ``advice`` on the result record what was used and why.
    options : EngineOptions, optional
        All of the solver options above at once (the object a model file's ``solver:`` builds); then
        leave the option keywords at their defaults.

    Returns
    -------
    SolveResult
        x, success, status, message, nit, nfev, njev, residual_norm, history and the certificate.

    Notes
    -----
    A plain-Python ``fun`` is not compiled: roughly 20-100 us of interpreter overhead per iteration
    for small n. For a ``numba.njit`` residual the solver is compiled for that function once per
    process (3-10 s; a bundled residual's kernel is cached on disk); then ~0.1 us per iteration, but
    ``solve`` adds ~50 us of checks per call: for many solves use ``solve_batch``.
    """
    if options is not None:  # the options object's values, as keywords (after the clash check)
        o = _engine_options(options, method=method, damping=damping, ftol=ftol, rtol=rtol, atol=atol,
                            max_iter=max_iter, fscale=fscale, max_step=max_step, max_rel_step=max_rel_step,
                            anderson_m=anderson_m, stall_iter=stall_iter, diverge=diverge, jit=jit)
        method, damping, ftol, rtol, atol, max_iter = o.method, o.damping, o.ftol, o.rtol, o.atol, o.max_iter
        fscale, max_step, max_rel_step, anderson_m = o.fscale, o.max_step, o.max_rel_step, o.anderson_m
        stall_iter, diverge, jit, options = o.stall_iter, o.diverge, o.jit, None
    if advisor is not None:
        return _advised(advisor, fun, x0, jac, method, damping, args, max_step, inplace,
                        dict(rtol=rtol, atol=atol, max_iter=max_iter, throw=throw, ftol=ftol, fscale=fscale,
                             max_rel_step=max_rel_step, anderson_m=anderson_m, stall_iter=stall_iter,
                             diverge=diverge, jit=jit))
    o = _engine_options(options, method=method, damping=damping, ftol=ftol, rtol=rtol, atol=atol, max_iter=max_iter,
                        fscale=fscale, max_step=max_step, max_rel_step=max_rel_step, anderson_m=anderson_m,
                        stall_iter=stall_iter, diverge=diverge, jit=jit)
    mname, sched, jit = o.method, o.damping, o.jit
    mcode = METHODS[mname]
    x0 = _as_vector("x0", x0)
    n = x0.shape[0]
    opts = o.pack()
    fs = _fscale(o.fscale, n)
    if not isinstance(args, tuple):
        args = (args,)
    if jac is not None and mname != "newton":
        raise InvalidInputError(f"jac is only used by method='newton', not {method!r}")

    compiled = jit is not False and _is_jitted(fun) and (jac is None or _is_jitted(jac))
    if jit is True and not compiled:
        raise InvalidInputError("jit=True needs fun (and jac, if given) decorated with @numba.njit")
    f0 = _first_eval(fun, x0, args, "residual" if mname == "newton" else "fixed-point map", inplace,
                     compiled=compiled)
    if jac is not None:
        _first_eval(jac, x0, args, "jac", inplace, shape=(n, n), compiled=compiled)
    r0 = f0 if mname == "newton" else f0 - x0
    bad = np.flatnonzero(~np.isfinite(r0))
    hist0 = History(np.array([np.inf]), np.array([np.nan]), np.array([0.0]))
    if bad.size:
        msg = (
            f"The residual is not finite at the initial guess: component(s) {bad.tolist()} = "
            f"{r0[bad].tolist()}. Choose an x0 inside the residual's domain."
        )
        res = SolveResult(x0.copy(), Status.NONFINITE, 0, 1, 0, math.inf, hist0, mname, sched, message=msg)
        if throw:
            raise ConvergenceError(res)
        return res

    from .kernels import solver as _k

    raised: list[BaseException] = []  # an exception at a trial point, kept for the message
    if compiled:
        core: Any = _k.solve_rows
        f: Any = fun
        j: Any = jac if jac is not None else _k._no_jacobian
        fm = _k.marker_for(fun)
        jm = (_k.marker_for(jac) if jac is not None else _k.NoJacobian(0)) if fm is not None else None
        if fm is not None and jm is not None and not inplace:  # a bundled residual: the disk-cached kernel
            core, f, j = _k.solve_rows_builtin, fm, jm
    else:
        core = getattr(_k.solve_rows, "py_func", _k.solve_rows)
        f = _guarded(fun, raised, inplace)
        j = _guarded(jac, raised, inplace, jacobian=True) if jac is not None else _k._no_jacobian
    X = np.empty((1, n))
    out = [np.zeros(1, dtype=np.int64) for _ in range(4)]  # status, nit, nfev, njev
    fnorm = np.empty(1)
    hist = np.full((min(int(opts[_c.OPT_MAX_ITER]), HISTORY_LIMIT) + 1, 3), np.nan)
    # numpy allocates the scratch arrays faster than boxing them out of a compiled call
    ws = getattr(_k.make_workspace, "py_func", _k.make_workspace)(n, int(opts[_c.OPT_ANDERSON_M]))
    from contextlib import nullcontext

    from .kernels import first_use

    if not compiled:
        notice: Any = nullcontext()
    elif core is _k.solve_rows_builtin:
        notice = first_use("the solver for the bundled residual", core)
    else:
        notice = first_use(f"the solver for {getattr(fun, '__name__', 'this residual')}", core,
                           note="once per process for a user's jitted residual")
    try:
        with notice:
            core(f, j, jac is not None, x0.reshape(1, n), np.empty((1, 0)), np.empty(0), args, 0, 1, False, mcode,
                 sched.kind, sched.params(), opts, fs, X, *out, fnorm, hist, ws, True if inplace else None)
    except Exception as e:  # noqa: BLE001 - a raise inside compiled code: the user's residual (or numba)
        if not compiled:
            raise
        raise _compiled_failure(e) from e
    x = X[0]
    status, nit, nfev, njev = (int(o[0]) for o in out)
    nfev += 1  # the Python-side check at x0
    njev += jac is not None
    fnorm = fnorm[0]
    status = Status(status)
    kept = min(nit, HISTORY_LIMIT) + 1
    history = History(hist[:kept, 0].copy(), hist[:kept, 1].copy(), hist[:kept, 2].copy())
    message = ""
    if raised and status == Status.NONFINITE:
        last = raised[-1]
        message = (f"{status.message} The residual raised {type(last).__name__} at a trial point ({last}); "
                   "such points were treated as outside its domain.")
    if status == Status.INVALID_INPUT:
        message = (
            f"The residual returned an array of the wrong shape during the iteration (expected ({n},)"
            + (f" and a ({n}, {n}) Jacobian" if jac is not None else "")
            + "). Nothing was solved."
        )
    cert = None
    if status == Status.CONVERGED:
        cert = certify(fun, x, args, fs, opts[_c.OPT_FTOL], residual=mname == "newton", inplace=inplace)
        nfev += 1
        if not cert.passed:
            status, message = Status.CHECK_FAILED, failed_message(cert)
    res = SolveResult(x, status, nit, int(nfev), int(njev), float(fnorm), history, mname, sched, message=message,
                      certificate=cert)
    if throw and not res.success:
        raise ConvergenceError(res)
    return res


def certify(fun: Callable, x: np.ndarray, args: tuple, fscale: np.ndarray, ftol: float, residual: bool = True,
            inplace: bool = False) -> Certificate:
    """The engine's certificate of ``x``: the residual recomputed here, by one call of ``fun`` at x
    (nothing of the solver's bookkeeping is reused), must satisfy max|F(x)/fscale| <= ftol, the
    convergence criterion itself (for a deterministic residual the solver's last value is
    reproduced exactly). For the fixed-point methods F(x) = G(x) - x. A residual that raises or is
    not finite at x fails."""
    where = ""
    try:
        with np.errstate(all="ignore"):
            if inplace:
                f = np.full(x.shape, np.nan)
                fun(x.copy(), *args, f)
            else:
                f = np.asarray(fun(x.copy(), *args), dtype=np.float64)
            if f.shape != x.shape:
                raise ValueError(f"shape {f.shape}")
            if not residual:
                f = f - x
            scaled = np.abs(f) / fscale
        value = float(np.max(scaled)) if np.all(np.isfinite(scaled)) else math.nan
        if math.isfinite(value):
            where = f"F[{int(np.argmax(scaled))}]"
    except Exception as e:  # noqa: BLE001 - the user's residual failed at x: the state is not certified
        value, where = math.nan, f"the residual raised {type(e).__name__}"
    xfin = 0.0 if np.all(np.isfinite(x)) else math.nan
    return Certificate({"max|F/fscale|": Check(value, float(ftol), "", where),
                        "x finite": Check(xfin, 0.0)}, "engine")


def _advised(advisor, fun, x0, jac, method, damping, args, max_step, inplace, kw) -> SolveResult:
    """``solve`` with an advisor: summary, validation of the suggestion, attempts (advisors.consult)."""
    from .advisors import base as _adv  # noqa: PLC0415

    x0 = _as_vector("x0", x0)
    n = x0.shape[0]
    mname = method.lower()
    _method_code(method)
    sched0 = _damping.resolve(damping, mname)
    if not isinstance(args, tuple):
        args = (args,)

    def resid(x):
        if inplace:
            out = np.empty(n)
            fun(x, *args, out)
            return out
        return np.asarray(fun(x, *args), dtype=float)

    # the same first check as without an advisor: a residual that raises (or returns the wrong shape)
    # at x0 is bad input, named as such, before any advisor is asked
    f0 = _first_eval(fun, x0, args, "residual" if mname == "newton" else "fixed-point map", inplace)
    summary = {
        "kind": "engine", "n": n, "method": mname, "damping": sched0.to_dict(),
        "signature": f"engine:{getattr(fun, '__qualname__', type(fun).__name__)}:{n}",
        "features": x0.tolist(),
        "x0": [float(f"{v:.6g}") for v in x0[:50]],
        "residual_at_x0": [float(f"{v:.3g}") for v in np.where(np.isfinite(f0), f0, 1e308)[:50]],
    }
    bound = 1e6 * (1.0 + float(np.max(np.abs(x0))))

    def check(sug):
        parts = {"damping": _adv.check_damping(sug.damping)}
        g = sug.initial_guess
        if g is not None:
            x = g.get("x") if isinstance(g, dict) else g
            if isinstance(g, dict) and set(g) - {"x"}:
                parts["initial_guess"] = _adv.Part(None, f"unknown key(s) {sorted(map(str, set(g) - {'x'}))}")
            elif not isinstance(x, (list, tuple, np.ndarray)) or len(x) != n:
                parts["initial_guess"] = _adv.Part(None, f"x must be a list of {n} numbers, got {x!r:.80}")
            else:
                xs = [_adv.finite_number(v, -bound, bound, f"x[{i}]") for i, v in enumerate(x)]
                bad = [p.reason for p in xs if p.reason]
                if bad:
                    parts["initial_guess"] = _adv.Part(None, bad[0])
                else:
                    xv = np.array([p.value for p in xs])
                    with np.errstate(all="ignore"):
                        try:
                            fx = resid(xv)
                            ok = fx.shape == (n,) and bool(np.all(np.isfinite(fx)))
                        except Exception:  # noqa: BLE001 - outside the residual's domain
                            ok = False
                    parts["initial_guess"] = _adv.Part(xv) if ok else _adv.Part(
                        None, "the residual is not finite at the suggested x")
        opts = dict(sug.options or {})
        if opts:
            ms = opts.pop("max_step", None)
            parts["options"] = (_adv.Part(None, f"unknown option(s) {sorted(opts)}; allowed: ['max_step']")
                                if opts else _adv.finite_number(ms, 1e-6, 1e6, "max_step"))
            if not parts["options"].reason:
                parts["options"] = _adv.Part({"max_step": parts["options"].value})
        return parts

    def attempt(p):
        r = solve(fun, p.get("initial_guess", x0), jac=jac, method=method, damping=p.get("damping", sched0),
                  args=args, max_step=min(max_step, p.get("options", {}).get("max_step", max_step)), inplace=inplace,
                  **{**kw, "throw": False})
        rec = {"status": r.status.name, "converged": r.success, "iterations": r.nit,
               "residual_trace": _adv.trace_of(r.history.residual_norm), "damping": r.damping.to_dict(),
               "solution": {"x": r.x.tolist()}}
        return r, rec

    res, source, log = _adv.consult(advisor, summary, check, attempt)
    res = replace(res, guess_source=source, advice=log)
    if kw["throw"] and not res.success:
        raise ConvergenceError(res)
    return res


def solve_batch(
    fun: Callable[..., Any],
    X0: np.ndarray,
    params: np.ndarray | None = None,
    jac: Callable[..., Any] | None = None,
    method: str = "newton",
    damping: _damping.Damping | str | dict | float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_iter: int = 200,
    *,
    ftol: float = 1e-10,
    fscale: float | np.ndarray = 1.0,
    max_step: float = math.inf,
    max_rel_step: float = math.inf,
    anderson_m: int = 5,
    stall_iter: int = 50,
    diverge: float = 1e12,
    warm_start: bool = False,
    chunk: int = 64,
    inplace: bool = False,
    options: EngineOptions | None = None,
) -> BatchResult:
    """Solve N independent problems of one shape: ``fun(X[i], params[i]) = 0``.

    Parameters
    ----------
    fun : numba-jitted callable
        ``fun(x, p) -> (n,)`` (a map G for the fixed-point methods), with ``x`` of shape (n,) and ``p``
        one row of ``params``. The problems run in parallel (numba ``prange``) over fixed chunks of
        ``chunk`` rows. The kernel is compiled for ``fun`` once per process (5-13 s on a 2-core
        machine; bundled residuals are cached on disk), then 0.3-4 us per problem of 2-10 unknowns.
    X0 : array_like, shape (N, n)
        Initial guesses; a row that is not finite gets status INVALID_INPUT.
    params : array_like, shape (N, k), optional
        Per-problem parameters (k may be 0).
    jac : numba-jitted callable, optional
        ``jac(x, p) -> (n, n)``.
    warm_start : bool
        Inside each chunk, start row i from row i-1's solution when that converged (falling back to
        ``X0[i]`` if the warm start fails), for sweeps along a path.
    chunk : int
        Rows per parallel chunk (independent of the thread count: results are reproducible).
    inplace : bool
        True for ``fun(x, p, out)`` / ``jac(x, p, out)`` writing into ``out``: no allocation per
        iteration (fastest).
    method, damping, rtol, atol, max_iter, ftol, fscale, max_step, max_rel_step
        As in ``solve``.
    anderson_m, stall_iter, diverge, options
        As in ``solve``.

    Returns
    -------
    BatchResult
        x (N, n), status (N,), nit (N,), nfev (N,), residual_norm (N,) and the certificate of every
        converged row (its residual recomputed at x). A failed row never stops the others.
    """
    o = _engine_options(options, method=method, damping=damping, ftol=ftol, rtol=rtol, atol=atol, max_iter=max_iter,
                        fscale=fscale, max_step=max_step, max_rel_step=max_rel_step, anderson_m=anderson_m,
                        stall_iter=stall_iter, diverge=diverge)
    mname, sched = o.method, o.damping
    mcode = METHODS[mname]
    try:
        X0 = np.array(X0, dtype=np.float64, order="C")
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"X0 cannot be read as float64 numbers: {e}") from None
    if X0.ndim != 2 or X0.shape[0] == 0 or X0.shape[1] == 0:
        raise InvalidInputError(f"X0 must have shape (N, n) with N, n >= 1; got {X0.shape}")
    N, n = X0.shape
    if params is None:
        P = np.zeros((N, 0))
    else:
        try:
            P = np.array(params, dtype=np.float64, order="C")
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"params cannot be read as float64 numbers: {e}") from None
        if P.ndim == 1 and P.shape[0] == N:
            P = P.reshape(N, 1)
        if P.ndim != 2 or P.shape[0] != N:
            raise InvalidInputError(f"params must have shape (N={N}, k); got {P.shape}")
    opts = o.pack()
    fs = _fscale(o.fscale, n)
    try:
        chunk = _count(1, 10**9)(chunk)
    except ValueError as e:
        raise InvalidInputError(f"chunk={chunk!r} {e}") from None
    if jac is not None and mname != "newton":
        raise InvalidInputError(f"jac is only used by method='newton', not {method!r}")
    from .kernels import solver as _k

    jit_on = _is_jitted(_k.solve_batch_kernel)  # False under NUMBA_DISABLE_JIT=1
    if jit_on and not (_is_jitted(fun) and (jac is None or _is_jitted(jac))):
        raise InvalidInputError(
            "solve_batch needs fun(x, p) (and jac, if given) decorated with @numba.njit; "
            "for a plain Python residual call chemsolve.solve in a loop"
        )
    finite_rows = np.flatnonzero(np.isfinite(X0).all(axis=1))
    if finite_rows.size:
        r = int(finite_rows[0])
        # copies: a residual that writes into its parameters must not change the caller's
        _first_eval(fun, X0[r], (P[r].copy(),), f"residual (row {r})", inplace)
        if jac is not None:
            _first_eval(jac, X0[r], (P[r].copy(),), f"jac (row {r})", inplace, shape=(n, n))

    X = np.empty_like(X0)
    status = np.empty(N, dtype=np.int64)
    nit = np.zeros(N, dtype=np.int64)
    nfev = np.zeros(N, dtype=np.int64)
    njev = np.zeros(N, dtype=np.int64)
    fnorm = np.empty(N)
    cert = np.empty(N)
    j: Any = jac if jac is not None else _k._no_jacobian
    kernel = _k.solve_batch_kernel
    fm = _k.marker_for(fun) if jit_on else None
    jm = (_k.marker_for(jac) if jac is not None else _k.NoJacobian(0)) if fm is not None else None
    if fm is not None and jm is not None:  # a bundled residual: the disk-cached kernel, nothing to compile
        fun, j, kernel = fm, jm, _k.solve_batch_builtin
    args = (fun, j, jac is not None, X0, P, mcode, sched.kind, sched.params(), opts, fs, bool(warm_start), chunk,
            X, status, nit, nfev, njev, fnorm, cert, True if inplace else None)
    from .kernels import first_use

    if kernel is _k.solve_batch_builtin:
        notice = first_use("the batch solver for the bundled residual", kernel)
    else:
        notice = first_use(f"the batch solver for {getattr(fun, '__name__', 'this residual')}", kernel,
                           note="once per process for a user's residual")
    try:
        with notice:
            kernel(*args)
    except Exception as e:  # noqa: BLE001 - see _compiled_failure
        raise _compiled_failure(e) from e
    checked = ~np.isnan(cert) | (status == _c.CHECK_FAILED)
    certificate = BatchCertificate({"max|F/fscale|": cert}, {"max|F/fscale|": float(opts[_c.OPT_FTOL])},
                                   checked=checked, domain="engine")
    return BatchResult(X, status.astype(np.int8), nit, nfev, fnorm, mname, sched, certificate)
