"""Classical advisors: physics defaults, warm starts, a retry ladder, random search and TPE.

Tuners (``RandomSearchTuner``, ``TPETuner``, and ``OpenAIAdvisor.tune``) share one contract:
``tune(objective, budget)`` where ``objective(flat_schedule) -> score`` solves the tuning
instances with that schedule (lower is better; ``instance_score`` is the usual one); the first
trial is always the model's default schedule, so every tuner sees the same baseline. After
tuning, the advisor suggests its best schedule for every solve.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

import numpy as np

from .base import FLAT_DAMPING_TYPES, Advisor, Suggestion, damping_from_flat

__all__ = ["DefaultAdvisor", "FixedAdvisor", "WarmStartAdvisor", "RetryLadder", "RandomSearchTuner", "TPETuner",
           "instance_score", "SCHEDULE_SPACE"]

#: search space of the tuners (the flat form of ``damping_from_flat``)
SCHEDULE_SPACE = {"start": (0.01, 1.0), "growth": (1.05, 4.0), "max_change": (0.2, 10.0)}


def instance_score(records: Sequence[dict[str, Any]], penalty: float = 1000.0) -> float:
    """Mean over instances of the iterations used, ``penalty`` for each failure."""
    if not records:
        return math.inf
    return float(np.mean([r["iterations"] if r.get("converged") else penalty for r in records]))


class DefaultAdvisor(Advisor):
    """The model's own defaults (physics start, default damping): suggests nothing."""

    name = "default"


class FixedAdvisor(Advisor):
    """Always the same suggestion (e.g. a schedule tuned elsewhere)."""

    def __init__(self, suggestion: Suggestion, name: str | None = None):
        self.suggestion = suggestion
        self.name = name or suggestion.source

    def suggest(self, summary, attempt=None):
        return self.suggestion


class WarmStartAdvisor(Advisor):
    """The solution of the nearest state solved so far (same model and components), as the guess.

    Distance: Euclidean over the summary's ``features`` (model-defined: log totals, T, pH, x0...).
    ``observe`` stores every converged solve; ``add`` stores one by hand.
    """

    name = "warm"

    def __init__(self, max_size: int = 10000, learn: bool = True):
        self.max_size = int(max_size)
        self.learn = bool(learn)  # False: a frozen store (observe() keeps nothing new)
        self._store: dict[str, list[tuple[np.ndarray, dict[str, Any]]]] = {}

    def add(self, summary: dict[str, Any], solution: dict[str, Any]) -> None:
        rows = self._store.setdefault(str(summary.get("signature")), [])
        if len(rows) >= self.max_size:
            rows.pop(0)
        rows.append((np.asarray(summary.get("features", []), dtype=float), solution))

    def observe(self, summary, solution, converged):
        if self.learn and converged and solution:
            self.add(summary, solution)

    def __len__(self) -> int:
        return sum(len(v) for v in self._store.values())

    def suggest(self, summary, attempt=None):
        rows = self._store.get(str(summary.get("signature")))
        if not rows:
            return None
        f = np.asarray(summary.get("features", []), dtype=float)
        d = [float(np.linalg.norm(f - g)) if g.shape == f.shape else math.inf for g, _ in rows]
        k = int(np.argmin(d))
        if not math.isfinite(d[k]):
            return None
        return Suggestion(initial_guess=dict(rows[k][1]), rationale=f"nearest solved state (distance {d[k]:.3g})",
                          source="warm")


class RetryLadder(Advisor):
    """PHREEQC-style retries: the default first; on failure, smaller steps, then stronger damping,
    then the other formulation. The rungs depend on the model (``summary["kind"]``)."""

    name = "heuristic"
    consult = "on_failure"
    max_attempts = 4

    def suggest(self, summary, attempt=None):
        if attempt is None:
            return None
        k = int(attempt.get("attempt", 1))
        from ..registry import get

        try:
            rungs: list[Suggestion] = get(summary.get("kind")).retry_rungs(summary)
        except KeyError:
            return None
        if k > len(rungs):
            return None
        r = rungs[k - 1]
        return Suggestion(r.initial_guess, r.damping, r.options, f"rung {k}: {r.rationale}", "heuristic")


class _Tuner(Advisor):
    """Shared tuning loop; subclasses propose the next flat schedule."""

    consult = "before"

    def __init__(self, types: Sequence[str] = ("constant", "ramp", "adaptive", "linesearch"), budget: int = 16,
                 seed: int = 0):
        bad = [t for t in types if t not in FLAT_DAMPING_TYPES]
        if bad:
            raise ValueError(f"unknown schedule type(s) {bad}; expected some of {FLAT_DAMPING_TYPES}")
        self.types, self.budget, self.seed = tuple(types), int(budget), int(seed)
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.best_score = math.inf
        self.tune_seconds = 0.0

    def _record(self, flat: dict[str, Any], score: float, note: str = "") -> None:
        self.history.append({"schedule": flat, "score": score, **({"note": note} if note else {})})
        if score < self.best_score:
            self.best, self.best_score = flat, score

    def tune(self, objective: Callable[[dict[str, Any]], float], budget: int | None = None,
             default: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Spend ``budget`` evaluations of ``objective`` (the first on ``default``, if given)."""
        import time  # noqa: PLC0415

        t = time.perf_counter()
        n = self.budget if budget is None else int(budget)
        self._run(objective, n, default)
        self.tune_seconds = time.perf_counter() - t
        return self.best

    def suggest(self, summary, attempt=None):
        if self.best is None:
            return None
        return Suggestion(damping=damping_from_flat(self.best), source=self.name,
                          rationale=f"best of {len(self.history)} schedules tried (score {self.best_score:.3g})")


def _sample(rng: random.Random, types: Sequence[str]) -> dict[str, Any]:
    t = rng.choice(list(types))
    lo, hi = SCHEDULE_SPACE["start"]
    d: dict[str, Any] = {"type": t}
    if t != "cea":
        d["start"] = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if t in ("ramp", "adaptive"):
        d["growth"] = rng.uniform(*SCHEDULE_SPACE["growth"])
    if t == "cea":
        lo, hi = SCHEDULE_SPACE["max_change"]
        d["max_change"] = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return d


class RandomSearchTuner(_Tuner):
    """Uniform random schedules (log-uniform step sizes) under a fixed evaluation budget."""

    name = "random"

    def _run(self, objective, n, default):
        rng = random.Random(self.seed)
        for i in range(n):
            flat = default if (i == 0 and default is not None) else _sample(rng, self.types)
            self._record(flat, float(objective(flat)))


class TPETuner(_Tuner):
    """Optuna's tree-structured Parzen estimator over the same space (``pip install optuna``)."""

    name = "tpe"

    def _run(self, objective, n, default):
        from ..errors import require  # noqa: PLC0415

        optuna = require("optuna")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=4))
        if default is not None:
            study.enqueue_trial({k: v for k, v in default.items()})

        def obj(trial):
            t = trial.suggest_categorical("type", list(self.types))
            flat: dict[str, Any] = {"type": t}
            if t != "cea":
                flat["start"] = trial.suggest_float("start", *SCHEDULE_SPACE["start"], log=True)
            if t in ("ramp", "adaptive"):
                flat["growth"] = trial.suggest_float("growth", *SCHEDULE_SPACE["growth"])
            if t == "cea":
                flat["max_change"] = trial.suggest_float("max_change", *SCHEDULE_SPACE["max_change"], log=True)
            s = float(objective(flat))
            self._record(flat, s)
            return s if math.isfinite(s) else 1e12

        study.optimize(obj, n_trials=n)
