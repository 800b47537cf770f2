"""The advisor protocol: a problem summary in, an untrusted ``Suggestion`` out.

An advisor sees a JSON-serialisable summary of one problem (``summary["kind"]`` is "engine",
"aqueous", "gas" or "flash"; the rest is described in each model's ``advice_summary``) and, when it is
consulted after a failed attempt, the record of that attempt (status, iterations, residual
trace). It returns a ``Suggestion`` or None ("nothing to add"). The model validates what it gets
(schema, finiteness, bounds, element balance) and falls back to its own default, part by part,
with the reason recorded; an advisor never changes a tolerance, and the model's convergence
test is the only judge.

``consult`` drives one solve: ask, validate, attempt, and (for advisors with more than one
attempt, such as the retry ladder) ask again with the failed attempt's record.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import damping as _damping
from ..errors import ChemsolveError, InvalidInputError

__all__ = ["Suggestion", "Advisor", "AdviceWarning", "Part", "consult", "damping_from_flat", "FLAT_DAMPING_TYPES",
           "trace_of"]

#: schedule types an advisor may name in the flat form (see ``damping_from_flat``)
FLAT_DAMPING_TYPES = ("constant", "ramp", "adaptive", "linesearch", "cea")


class AdviceWarning(UserWarning):
    """An advisor's suggestion (or the advisor itself) failed; the default was used instead."""


@dataclass(frozen=True)
class Suggestion:
    """What an advisor proposes for one problem. Every part is optional.

    Attributes
    ----------
    initial_guess
        in the model's own variables: engine ``{"x": [...]}``; aqueous
        ``{"log_a": {master species: log10 activity}, "pH": ...}``; gas ``{"T": K}`` (HP/SP/UV);
        flash ``{"K": [...]}`` (and ``{"T": K}`` / ``{"P": Pa}`` where the flash solves T / P).
    damping
        a ``chemsolve.damping`` schedule, its ``to_dict`` form or the flat form of
        ``damping_from_flat``.
    options
        formulation switches the model allows: engine ``{"max_step": ...}``, aqueous
        ``{"ionic_strength": "newton" | "outer"}``, flash ``{"acceleration": ..., "newton_switch": ...,
        "max_ss": ...}``; the gas model has none.
    rationale
        a short reason, kept in the record.
    source
        informative only; ``guess_source`` is named after the advisor that was consulted.
    """

    initial_guess: dict[str, Any] | None = None
    damping: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    rationale: str = ""
    source: str = "advisor"

    def to_dict(self) -> dict[str, Any]:
        d = self.damping.to_dict() if isinstance(self.damping, _damping.Damping) else self.damping
        return {"initial_guess": self.initial_guess, "damping": d, "options": dict(self.options),
                "rationale": self.rationale, "source": self.source}


class Advisor:
    """Base class. Subclasses override ``suggest``; ``observe`` is told every finished solve.

    Attributes
    ----------
    consult
        "before" — asked before the first attempt (tuned schedules, warm starts, LLM
        one-shot); "on_failure" — the model's default runs first and the advisor is asked only
        if it fails, with that attempt's record (retry ladder, LLM rescue).
    max_attempts
        attempts per solve, the first included.
    """

    name: str = "advisor"
    consult: str = "before"
    max_attempts: int = 1

    def suggest(self, summary: dict[str, Any], attempt: dict[str, Any] | None = None) -> Suggestion | None:
        return None

    def observe(self, summary: dict[str, Any], solution: dict[str, Any], converged: bool) -> None:
        """Called after each solve with the model's variables at the end (for warm starts)."""

    def review(self, summary: dict[str, Any], suggestion: Suggestion, accepted: list[str],
               rejected: list[str]) -> None:
        """Called after the model checked ``suggestion``: the parts it accepted and the reasons of
        those it rejected (e.g. so that an advisor keeps only replies that validated)."""


_FLAT_KEYS = {"type", "start", "growth", "max_change"}


def damping_from_flat(d: dict[str, Any]) -> _damping.Damping:
    """The flat form advisors (and LLMs) write — ``{"type", "start", "growth", "max_change"}`` — as
    a schedule; any other key means the full ``to_dict`` form (``damping.from_dict``, which rejects
    unknown keys). Raises ``InvalidInputError`` (from the schedule's own checks) when out of range."""
    if not isinstance(d, dict):
        raise InvalidInputError(f"a damping schedule must be a dict, got {type(d).__name__}")
    if set(d) - _FLAT_KEYS:
        return _damping.from_dict(d)
    stype = str(d.get("type", "")).lower()
    start = d.get("start", 1.0)
    growth = d.get("growth", 2.0)
    if stype == "constant":
        return _damping.Constant(start)
    if stype == "ramp":
        return _damping.Ramp(start, growth, 1.0)
    if stype == "adaptive":
        return _damping.Adaptive(start, growth, 0.5, 1e-8, 1.0)
    if stype == "linesearch":
        return _damping.LineSearch(start)
    if stype == "cea":
        return _damping.ControlFactor(d.get("max_change", 2.0))
    return _damping.from_dict(d)  # the full dict form, or a clear error naming the type


def trace_of(history_norms: Any, limit: int = 24) -> list[float]:
    """A residual trace shortened for a prompt: first and last values, 3 significant digits."""
    vals = [float(v) for v in history_norms if v == v]
    if len(vals) > limit:
        vals = vals[: limit // 2] + vals[-limit // 2:]
    return [float(f"{v:.3g}") if math.isfinite(v) else (1e308 if v > 0 else -1e308) for v in vals]


@dataclass
class Part:
    """One checked part of a suggestion: its ``value`` when it passed, or None and the ``reason`` it did not."""

    value: Any
    reason: str = ""


def _validated(sug: Any, check: Callable[[Suggestion], dict[str, Part]], who: str) -> tuple[
        dict[str, Any], list[str]]:
    """Run the model's checks; return the accepted parts and the reasons for the rejected."""
    if sug is None:
        return {}, []
    if not isinstance(sug, Suggestion):
        return {}, [f"{who} returned {type(sug).__name__}, not a Suggestion"]
    if sug.options is not None and not isinstance(sug.options, dict):
        return {}, [f"options must be a dict, got {type(sug.options).__name__}"]
    try:
        parts = check(sug)
    except Exception as e:  # noqa: BLE001 - an untrusted suggestion must never crash a solve
        return {}, [f"{who}: {type(e).__name__}: {e}"]
    ok = {k: p.value for k, p in parts.items() if not p.reason and p.value is not None}
    bad = [f"{k}: {p.reason}" for k, p in parts.items() if p.reason]
    return ok, bad


def consult(advisor: Advisor | None, summary: dict[str, Any], check: Callable[[Suggestion], dict[str, Part]],
            attempt: Callable[[dict[str, Any]], tuple[Any, dict[str, Any]]]) -> tuple[Any, str, dict[str, Any]]:
    """Drive one solve with an advisor.

    check(suggestion) -> {"initial_guess"|"damping"|"options": Part(value, reason)}: the model's
    validation; a part with a reason is rejected and the default used in its place.
    attempt(parts) -> (result, record): one solve with the accepted parts (empty: the default);
    the record has at least "status", "converged", "iterations", "residual_trace".
    If no attempt converged and every one used some advice, a last attempt with the model's
    defaults follows: advice may cost time but never a solve the default would have managed.
    Returns (result of the last attempt, guess_source, advice record).
    """
    if advisor is None:
        res, rec = attempt({})
        rec.pop("solution", None)
        return res, "default", {"attempts": [dict(rec, source="default")]}
    if not callable(getattr(advisor, "suggest", None)):
        raise InvalidInputError(f"advisor={advisor!r:.60}: expected a chemsolve.advisors advisor (with suggest())")
    # whose advice it was is decided here, from the advisor, not from what a suggestion claims
    who = str(getattr(advisor, "name", type(advisor).__name__))[:80]
    log: dict[str, Any] = {"advisor": who, "attempts": [], "rejected": [], "advisor_seconds": 0.0}

    def ask(prev: dict[str, Any] | None) -> Any:
        t = time.perf_counter()
        try:
            return advisor.suggest(summary, prev)
        except Exception as e:  # noqa: BLE001 - advisors are untrusted: a warning, never a crash
            why = f"{who} failed: {e}" if isinstance(e, ChemsolveError) else f"{who} failed: {type(e).__name__}: {e}"
            log["rejected"].append(why)
            warnings.warn(f"{why}; using the default", AdviceWarning, stacklevel=4)
        finally:
            log["advisor_seconds"] += time.perf_counter() - t
        return None

    sug = ask(None) if advisor.consult == "before" else None
    source, res = "default", None
    n_total = 0
    for k in range(max(1, int(advisor.max_attempts))):
        parts, bad = _validated(sug, check, who)
        if isinstance(sug, Suggestion) and callable(getattr(advisor, "review", None)):
            try:
                advisor.review(summary, sug, sorted(parts), list(bad))
            except Exception as e:  # noqa: BLE001 - advisors are untrusted
                log["rejected"].append(f"{who}.review failed: {type(e).__name__}: {e}")
        src = who
        if bad:
            log["rejected"].extend(bad)
            warnings.warn(f"{src} suggestion rejected ({'; '.join(bad)}); using the default for those parts",
                          AdviceWarning, stacklevel=3)
        if parts:
            source = src + (f" ({'; '.join(bad)})" if bad else "")
        elif sug is not None:
            source = f"default ({src} rejected: {'; '.join(bad) or 'empty suggestion'})"
        else:
            source = "default"
        res, rec = attempt(parts)
        n_total += int(rec.get("iterations", 0))
        log["attempts"].append(dict(rec, source=source, parts=sorted(parts)))
        if rec.get("converged") or k + 1 >= advisor.max_attempts:
            break
        sug = ask(dict(rec, attempt=k + 1))
        if sug is None:
            break
    last = log["attempts"][-1]
    if not last.get("converged") and not any(not a["parts"] for a in log["attempts"]):
        # the advice made things worse than nothing: the model's own default has the last word
        res, rec = attempt({})
        n_total += int(rec.get("iterations", 0))
        source = f"default (after {last['source'].split(' (')[0]} failed: {last.get('status')})"
        log["attempts"].append(dict(rec, source=source, parts=[]))
    log["total_iterations"] = n_total
    for a in log["attempts"]:
        a.pop("parts", None)
    try:
        advisor.observe(summary, log["attempts"][-1].get("solution", {}), bool(log["attempts"][-1].get("converged")))
    except Exception as e:  # noqa: BLE001
        log["rejected"].append(f"{who}.observe failed: {type(e).__name__}: {e}")
    for a in log["attempts"]:
        a.pop("solution", None)
    return res, source, log


def finite_number(v: Any, lo: float, hi: float, what: str) -> Part:
    """A real number (numpy scalars included, bools not) inside [lo, hi], or a rejection."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        return Part(None, f"{what}={str(v)[:40]!r} is not a number")
    try:
        v = float(v)
    except (OverflowError, ValueError):
        return Part(None, f"{what} is not representable as a float")
    if not math.isfinite(v):
        return Part(None, f"{what}={v!r} is not finite")
    if not lo <= v <= hi:
        return Part(None, f"{what}={v:g} is outside [{lo:g}, {hi:g}]")
    return Part(v)


def check_damping(d: Any, allowed: tuple[str, ...] | None = None) -> Part:
    """A schedule object, its dict or flat dict; rejected with the schedule's own message."""
    if d is None:
        return Part(None)
    try:
        sched = d if isinstance(d, _damping.Damping) else damping_from_flat(d) if isinstance(d, dict) \
            else _damping.resolve(d, "newton")
    except ChemsolveError as e:
        return Part(None, str(e))
    except (TypeError, ValueError) as e:
        return Part(None, f"{type(e).__name__}: {e}")
    if allowed is not None and sched.name not in allowed:
        return Part(None, f"schedule {sched.name!r} is not used by this model (allowed: {list(allowed)})")
    return Part(sched)
