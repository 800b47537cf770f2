"""Classical advisors: physics defaults, warm starts, a retry ladder, random search, TPE, CMA-ES and a GP.

Tuners (``RandomSearchTuner``, ``TPETuner``, and ``OpenAIAdvisor.tune``) share one contract:
``tune(objective, budget)`` where ``objective(flat_schedule) -> score`` solves the tuning
instances with that schedule (lower is better; ``instance_score`` is the usual one); the first
trial is always the model's default schedule, so every tuner sees the same baseline. After
tuning, the advisor suggests its best schedule for every solve.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .base import FLAT_DAMPING_TYPES, Advisor, Suggestion, damping_from_flat

__all__ = ["DefaultAdvisor", "FixedAdvisor", "WarmStartAdvisor", "RetryLadder", "RandomSearchTuner", "TPETuner",
           "CMAESTuner", "GPTuner", "instance_score", "SCHEDULE_SPACE"]

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


# -- continuous encodings for CMA-ES and the GP: z = (type index, log start, growth, log max_change) -------------

def _encode_bounds(types: Sequence[str]) -> np.ndarray:
    return np.array([[0.0, len(types) - 1.0],
                     [math.log(SCHEDULE_SPACE["start"][0]), math.log(SCHEDULE_SPACE["start"][1])],
                     list(SCHEDULE_SPACE["growth"]),
                     [math.log(SCHEDULE_SPACE["max_change"][0]), math.log(SCHEDULE_SPACE["max_change"][1])]])


def _decode(z: np.ndarray, types: Sequence[str]) -> dict[str, Any]:
    """The flat schedule of an encoded point (the parameters a type does not use are ignored)."""
    b = _encode_bounds(types)
    z = np.clip(np.asarray(z, dtype=float), b[:, 0], b[:, 1])
    t = types[int(round(z[0]))]
    d: dict[str, Any] = {"type": t}
    if t != "cea":
        d["start"] = float(math.exp(z[1]))
    if t in ("ramp", "adaptive"):
        d["growth"] = float(z[2])
    if t == "cea":
        d["max_change"] = float(math.exp(z[3]))
    return d


def _encode(flat: dict[str, Any], types: Sequence[str]) -> np.ndarray:
    """The encoded point of a flat schedule (unused parameters at the middle of their range)."""
    b = _encode_bounds(types)
    z = b.mean(axis=1)
    t = str(flat.get("type"))
    z[0] = float(types.index(t)) if t in types else 0.0
    if "start" in flat:
        z[1] = math.log(float(flat["start"]))
    if "growth" in flat:
        z[2] = float(flat["growth"])
    if "max_change" in flat:
        z[3] = math.log(float(flat["max_change"]))
    return np.clip(z, b[:, 0], b[:, 1])


class CMAESTuner(_Tuner):
    """CMA-ES with margin (Hamano et al., GECCO 2022; the ``cmaes`` package's ``CMAwM``), which handles the
    schedule type as an integer variable beside the real parameters, started at the default schedule.
    ``popsize`` schedules per generation (4: a budget of 32 evaluations is 8 generations)."""

    name = "cmaes"

    def __init__(self, *a: Any, popsize: int = 4, sigma: float = 0.3, **kw: Any):
        super().__init__(*a, **kw)
        self.popsize, self.sigma = int(popsize), float(sigma)

    def _run(self, objective, n, default):
        from ..errors import require  # noqa: PLC0415

        cmaes = require("cmaes")
        b = _encode_bounds(self.types)
        span = b[:, 1] - b[:, 0]
        span[span == 0] = 1.0
        # CMA works on the box scaled to [0, 1]^4: one sigma for every coordinate
        unit = np.array([[0.0, 1.0]] * len(b))
        steps = np.array([1.0 / max(len(self.types) - 1, 1), 0.0, 0.0, 0.0])
        mean0 = (_encode(default, self.types) - b[:, 0]) / span if default is not None else np.full(len(b), 0.5)
        opt = cmaes.CMAwM(mean=mean0, sigma=self.sigma, bounds=unit, steps=steps, seed=self.seed,
                          population_size=self.popsize)
        i = 0
        if default is not None:
            self._record(default, float(objective(default)))
            i = 1
        while i < n:
            sols = []
            for _ in range(opt.population_size):
                if i >= n:
                    break
                x_eval, x_tell = opt.ask()
                flat = _decode(b[:, 0] + x_eval * span, self.types)
                s = float(objective(flat))
                self._record(flat, s)
                sols.append((x_tell, s if math.isfinite(s) else 1e12))
                i += 1
            if len(sols) == opt.population_size:
                opt.tell(sols)


class GPTuner(_Tuner):
    """Bayesian optimisation with a Gaussian process and expected improvement, on numpy and scipy.

    Chosen over Optuna's ``GPSampler`` (which needs PyTorch, gigabytes on a 2-core CI machine) and SMAC3
    (whose random forest needs ``pyrfr``, a SWIG source build). The schedule type is one-hot, the real
    parameters are scaled to [0, 1]; a Matern-5/2 kernel with one length scale per input, its
    hyperparameters and noise fitted by maximum marginal likelihood (L-BFGS-B from the last fit and a
    random start); the target is
    log(score); EI is maximised over 1,000 random candidates and 200 perturbations of the best point.
    The first evaluation is the default, the next ``n_init`` are random (as the random-search tuner)."""

    name = "gp"

    def __init__(self, *a: Any, n_init: int = 3, **kw: Any):
        super().__init__(*a, **kw)
        self.n_init = int(n_init)
        self._theta: np.ndarray | None = None

    def _features(self, flat: dict[str, Any]) -> np.ndarray:
        b = _encode_bounds(self.types)
        z = _encode(flat, self.types)
        onehot = np.zeros(len(self.types))
        onehot[int(round(z[0]))] = 1.0
        span = b[1:, 1] - b[1:, 0]
        return np.concatenate([onehot, (z[1:] - b[1:, 0]) / span])

    @staticmethod
    def _kernel(A: np.ndarray, B: np.ndarray, ls: np.ndarray, var: float) -> np.ndarray:
        d = np.sqrt(np.maximum(((A[:, None, :] - B[None, :, :]) / ls) ** 2, 0.0).sum(-1)) * math.sqrt(5.0)
        return var * (1.0 + d + d * d / 3.0) * np.exp(-d)

    def _fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
        from scipy.optimize import minimize  # noqa: PLC0415

        dim = X.shape[1]

        def nll(theta):
            ls, var, noise = np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1])
            K = self._kernel(X, X, ls, var) + (noise + 1e-8) * np.eye(len(X))
            try:
                L = np.linalg.cholesky(K)
            except np.linalg.LinAlgError:
                return 1e10
            a = np.linalg.solve(L.T, np.linalg.solve(L, y))
            return float(0.5 * y @ a + np.log(np.diag(L)).sum())

        best, bval = None, math.inf
        lo = [math.log(0.05)] * dim + [math.log(1e-2), math.log(1e-6)]
        hi = [math.log(20.0)] * dim + [math.log(1e2), math.log(1.0)]
        starts = [np.concatenate([np.log(rng.uniform(0.2, 1.0, dim)), [0.0, math.log(1e-2)]]) for _ in range(2)]
        if self._theta is not None:  # the last fit: the likelihood changes little with one more point
            starts[0] = self._theta
        for th0 in starts:
            r = minimize(nll, th0, method="L-BFGS-B", bounds=list(zip(lo, hi)), options={"maxiter": 60})
            if r.fun < bval:
                best, bval = r.x, r.fun
        self._theta = best
        return np.exp(best[:dim]), math.exp(best[dim]), math.exp(best[dim + 1])

    def _run(self, objective, n, default):
        from scipy.stats import norm  # noqa: PLC0415

        rnd = random.Random(self.seed)
        rng = np.random.default_rng(self.seed)
        for i in range(n):
            if i == 0 and default is not None:
                flat = default
            elif len(self.history) < 1 + self.n_init:
                flat = _sample(rnd, self.types)
            else:
                hist = [h for h in self.history if h["schedule"] is not None]
                X = np.array([self._features(h["schedule"]) for h in hist])
                s = np.array([h["score"] if math.isfinite(h["score"]) else 1e12 for h in hist])
                yr = np.log(np.maximum(s, 1e-9))
                mu0, sd0 = yr.mean(), yr.std() or 1.0
                y = (yr - mu0) / sd0
                ls, var, noise = self._fit(X, y, rng)
                K = self._kernel(X, X, ls, var) + (noise + 1e-8) * np.eye(len(X))
                L = np.linalg.cholesky(K)
                alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
                cands = [_sample(rnd, self.types) for _ in range(1000)]
                bestflat = hist[int(np.argmin(s))]["schedule"]
                zb = _encode(bestflat, self.types)
                bnd = _encode_bounds(self.types)
                for _ in range(200):  # local candidates around the incumbent
                    z = zb + rng.normal(0.0, 0.1, len(zb)) * (bnd[:, 1] - bnd[:, 0])
                    z[0] = zb[0]
                    cands.append(_decode(z, self.types))
                C = np.array([self._features(c) for c in cands])
                Ks = self._kernel(C, X, ls, var)
                mu = Ks @ alpha
                v = np.linalg.solve(L, Ks.T)
                sd = np.sqrt(np.maximum(var - (v * v).sum(0), 1e-12))
                imp = y.min() - mu
                zz = imp / sd
                ei = imp * norm.cdf(zz) + sd * norm.pdf(zz)
                flat = cands[int(np.argmax(ei))]
            self._record(flat, float(objective(flat)))
