"""Damping controllers: the damping factor of a Newton solve set from outside every ``every`` iterations,
from the residual trace so far — the learning-rate-scheduler view of damping.

``controlled_solve`` runs the engine's own ``chemsolve.solve`` in segments of ``every`` iterations, each
continuing from where the last stopped (the engine's state is the unknown vector x itself, so nothing of
the iteration is lost; no hook inside the compiled loop is needed). Each segment uses
``Adaptive(start=a, grow=1, shrink=0.5, min=1e-10, max=a)``: the factor ``a`` the controller chose is
tried first at every iteration and never grown, and a trial that fails the Armijo test is still halved
(the controller replaces ``Adaptive``'s growth rule, not the engine's safeguard). Between segments the
controller is consulted with the trace; what it returns is data — a number, checked to be finite and in
[``MIN_FACTOR``, 1] — and anything else keeps the previous factor, with the reason recorded.

- ``RuleController``: the classical reference at the same consultation interval (double the factor after
  a segment that cut the residual by 10x or more, halve it after one that raised it, else keep it).
- ``LLMDampingController``: a language model (``OpenAIAdvisor``'s transport, accounting and key
  handling) is shown the trace and the factors so far and answers ``{"factor": ..., "rationale": ...}``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .. import damping as _damping
from ..errors import InvalidInputError
from .base import trace_of

__all__ = ["DampingController", "RuleController", "LLMDampingController", "controlled_solve", "MIN_FACTOR"]

#: smallest factor a controller may set (below it a Newton step is too small to matter in 200 iterations)
MIN_FACTOR = 1e-3


class DampingController:
    """Base class: ``factor(state)`` returns the next damping factor (or None: keep the current one).

    ``state``: {"iteration", "residual_trace" (max|F| per iteration so far, shortened), "factors" (set so
    far), "factor" (current), "n" (unknowns), "status" (of the last segment)}.
    """

    name: str = "controller"

    def factor(self, state: dict[str, Any]) -> Any:
        return None


class RuleController(DampingController):
    """Double after a segment that cut max|F| by ``good`` or more, halve after one that raised it."""

    name = "rule"

    def __init__(self, good: float = 10.0):
        self.good = float(good)

    def factor(self, state):
        tr, a = state["segment_trace"], float(state["factor"])
        if len(tr) < 2 or not all(math.isfinite(v) for v in tr[-2:]):
            return a / 2.0
        if tr[-1] <= tr[0] / self.good:
            return min(1.0, 2.0 * a)
        if tr[-1] > tr[0]:
            return a / 2.0
        return a


_SYSTEM = ("You set the damping factor of a damped Newton solver, like a learning-rate scheduler. Each "
           "Newton step is multiplied by the factor (0.001 to 1; 1 = full Newton step, small = cautious). You "
           "see max|F| after each iteration so far (lower is better; the solve converges when it reaches "
           "{ftol:g}) and the factors used. Reply with one JSON object only: {{\"factor\": number, "
           "\"rationale\": one short sentence}}.")


class LLMDampingController(DampingController):
    """A language model sets the factor. ``advisor``: an ``OpenAIAdvisor`` (its transport, accounting,
    retries and key handling are used; its reply is parsed as JSON and only the number is kept)."""

    def __init__(self, advisor: Any, ftol: float = 1e-10):
        self.advisor = advisor
        self.ftol = float(ftol)
        self.name = f"llm-controller:{getattr(advisor, 'model', '?')}"

    def factor(self, state):
        shown = {"iteration": state["iteration"], "unknowns": state["n"],
                 "residual_trace": state["residual_trace"], "factors_so_far": state["factors"],
                 "current_factor": state["factor"]}
        schema = {"type": "object", "properties": {"factor": {"type": "number"},
                                                   "rationale": {"type": "string", "maxLength": 200}},
                  "required": ["factor", "rationale"], "additionalProperties": False}
        reply = self.advisor._call([{"role": "system", "content": _SYSTEM.format(ftol=self.ftol)},
                                    {"role": "user", "content": json.dumps(shown, separators=(",", ":"))
                                     + "\nSet the factor for the next iterations."}], schema)
        return reply.get("factor") if isinstance(reply, dict) else None


def _checked_factor(v: Any) -> tuple[float | None, str]:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        return None, f"factor={str(v)[:40]!r} is not a number"
    v = float(v)
    if not math.isfinite(v) or not MIN_FACTOR <= v <= 1.0:
        return None, f"factor={v!r} is outside [{MIN_FACTOR:g}, 1]"
    return v, ""


def controlled_solve(fun: Callable[..., Any], x0: Any, controller: DampingController, *, jac: Any = None,
                     every: int = 10, max_iter: int = 200, start: float = 1.0, max_consults: int | None = None,
                     **solve_kw: Any) -> Any:
    """Solve ``fun(x) = 0`` by damped Newton with ``controller`` setting the factor every ``every``
    iterations (see the module docstring). ``solve_kw`` go to ``chemsolve.solve`` (not ``damping``,
    ``max_iter``, ``method`` or ``advisor``). After ``max_consults`` consultations the factor stays.

    Returns the ``SolveResult`` of the last segment with ``nit`` and ``history`` over all segments, and
    ``advice`` = {"controller", "factors", "consultations", "rejected", "advisor_seconds",
    "total_iterations"}."""
    from ..engine import solve  # noqa: PLC0415

    for k in ("damping", "max_iter", "method", "advisor"):
        if k in solve_kw:
            raise InvalidInputError(f"controlled_solve: {k}= is set by the controller, not a keyword")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidInputError(f"controlled_solve: every={every!r} must be a positive integer")
    a, why = _checked_factor(start)
    if a is None:
        raise InvalidInputError(f"controlled_solve: start {why}")
    x = np.asarray(x0, dtype=float)
    total, consults, adv_s = 0, 0, 0.0
    norms: list[float] = []
    damps: list[float] = []
    steps: list[float] = []
    factors, rejected = [a], []
    r = None
    while total < max_iter:
        seg = min(every, max_iter - total)
        sched = _damping.Adaptive(start=a, grow=1.0, shrink=0.5, min=1e-10, max=a)
        r = solve(fun, x, jac=jac, damping=sched, max_iter=seg, **solve_kw)
        h = r.history
        if not norms:
            norms.append(float(h.residual_norm[0]))
            damps.append(float(h.damping[0]))
            steps.append(float(h.step_norm[0]))
        norms += [float(v) for v in h.residual_norm[1:]]
        damps += [float(v) for v in h.damping[1:]]
        steps += [float(v) for v in h.step_norm[1:]]
        total += int(r.nit)
        if r.success or r.status.name != "MAX_ITER" or r.nit == 0 or total >= max_iter:
            break
        x = r.x
        if max_consults is not None and consults >= max_consults:
            continue
        state = {"iteration": total, "residual_trace": trace_of(norms), "segment_trace": list(h.residual_norm),
                 "factors": [float(f"{f:.3g}") for f in factors], "factor": a, "n": int(x.shape[0]),
                 "status": r.status.name}
        t = time.perf_counter()
        try:
            v = controller.factor(state)
        except Exception as e:  # noqa: BLE001 - a controller is untrusted: its failure keeps the factor
            v, why = None, f"{type(e).__name__}: {str(e)[:160]}"
        else:
            why = ""
        adv_s += time.perf_counter() - t
        consults += 1
        if v is not None:
            v, why = _checked_factor(v)
        if v is None:
            rejected.append(f"at iteration {total}: {why or 'no factor'}")
        else:
            a = v
        factors.append(a)
    from ..result import History  # noqa: PLC0415

    hist = History(np.array(norms), np.array(damps), np.array(steps))
    advice = {"controller": controller.name, "factors": factors, "consultations": consults, "rejected": rejected,
              "advisor_seconds": adv_s, "total_iterations": total, "every": every}
    return replace(r, nit=total, history=hist, advice=advice, guess_source="default")
