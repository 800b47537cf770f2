"""One unit of the study: a suite, a replicate and an arm (``classical`` or one language model), written
to ``<out>/units/<suite>/<arm>/rep<NN>.json`` (atomically; a unit whose file exists is done: the study
resumes where it stopped). Every language-model exchange of a unit is appended, as it happens, to the
unit's ``.llm.jsonl`` tape; an interrupted unit replays its tape and goes on live, and ``replay=True``
re-runs a finished unit from the tape alone, without any model.

Design (the same for every advisor):
- instances: ``N_TUNE`` tuning and ``N_TEST`` held-out instances drawn afresh per replicate;
- attempts: at most ``ATTEMPTS`` = 2 per held-out instance for every advisor (``max_iter`` 200 each): the
  advisor's suggestion then the model's default as fallback, or the default then the advisor's rescue;
  the defaults make one (a second would repeat the first exactly);
- tuners get 32 evaluations (one evaluation = the tuning half solved once with a schedule; the first is
  the model's default); the schedule each would have chosen at 4, 8, 16 and 32 evaluations (best so far)
  is applied to the held-out half: the budget axis without re-running;
- cost: iterations over every attempt (fallbacks included) and seconds; tuning cost apart (iterations of
  every tuning solve, seconds, and for a language model its calls, tokens, wall time and the server's own
  prompt and generation times).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from chemsolve import advisors as adv
from chemsolve.advisors.base import Advisor, damping_from_flat

from . import suites as S

BUDGETS = (4, 8, 16, 32)
N_TUNE, N_TEST = 8, 12
ATTEMPTS = 2
EVERY, MAX_CONSULTS = 5, 8  # damping controller: consulted every 5 iterations, at most 8 times a solve
OPRO_PER_STEP = 4  # proposals per OPRO step (the paper used 8 with budgets of hundreds; 32 here)
TUNERS = {"random": adv.RandomSearchTuner, "tpe": adv.TPETuner, "cmaes": adv.CMAESTuner, "gp": adv.GPTuner}


def parse_reps(text: str) -> list[int]:
    """Replicates from the command line: "0-9", "0,3,5" or a mix."""
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


# -- recording / replaying every exchange with a model ----------------------------------------------------

def _key(kw: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(kw, sort_keys=True, default=str).encode()).hexdigest()


class Tape:
    """``.chat.completions.create(**kw)`` that serves a recorded reply for a request made before (in order,
    for repeated identical requests) and otherwise asks ``live`` (an OpenAI client) and appends the exchange
    (request, reply text, usage, the server's timings, wall seconds, the label of the advisor) to ``path``.
    Without ``live`` a request that was never recorded raises: the study does not run on guesses."""

    def __init__(self, path: str, live: Any = None):
        self.path, self.live = path, live
        self.label = ""
        self.chat = self.completions = self
        self._stored: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.entries: list[dict[str, Any]] = []
        self.replayed = 0
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue  # a line cut by an interruption: asked again
                    self._stored[e["key"]].append(e)

    def create(self, **kw: Any) -> Any:
        k = _key(kw)
        if self._stored.get(k):
            e = self._stored[k].pop(0)
            self.replayed += 1
        else:
            if self.live is None:
                raise RuntimeError(f"no recorded reply for this request ({self.label}) and no live model")
            t = time.perf_counter()
            resp = self.live.chat.completions.create(**kw)
            wall = time.perf_counter() - t
            d = resp.model_dump() if hasattr(resp, "model_dump") else {}
            extra = getattr(resp, "model_extra", None) or {}
            u = d.get("usage") or {}
            e = {"key": k, "label": self.label, "request": kw,
                 "content": d.get("choices", [{}])[0].get("message", {}).get("content"),
                 "usage": {"prompt_tokens": u.get("prompt_tokens", 0),
                           "completion_tokens": u.get("completion_tokens", 0)},
                 "timings": d.get("timings") or extra.get("timings") or {}, "wall_s": wall}
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(e, default=str) + "\n")
        e = dict(e, label_now=self.label)
        self.entries.append(e)
        return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=e["content"]))],
                               usage=SimpleNamespace(**e["usage"]), timings=e.get("timings") or {})

    def accounting(self) -> dict[str, dict[str, float]]:
        """Per advisor label: calls, tokens, wall seconds and the server's own times, as recorded."""
        out: dict[str, dict[str, float]] = {}
        for e in self.entries:
            a = out.setdefault(e["label_now"], {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "wall_s": 0.0,
                                                "server_prompt_ms": 0.0, "server_predicted_ms": 0.0})
            a["calls"] += 1
            a["prompt_tokens"] += int(e["usage"].get("prompt_tokens") or 0)
            a["completion_tokens"] += int(e["usage"].get("completion_tokens") or 0)
            a["wall_s"] += float(e.get("wall_s") or 0.0)
            tm = e.get("timings") or {}
            a["server_prompt_ms"] += float(tm.get("prompt_ms") or 0.0)
            a["server_predicted_ms"] += float(tm.get("predicted_ms") or 0.0)
        return out


class Logged(Advisor):
    """Forwards to an advisor and keeps what it suggested (the study's evidence of step sizes, guesses)."""

    def __init__(self, inner: Any, attempts: int | None = None):
        self.inner = inner
        self.name = getattr(inner, "name", "advisor")
        self.consult = getattr(inner, "consult", "before")
        self.max_attempts = int(attempts if attempts is not None else getattr(inner, "max_attempts", 1))
        self.log: list[dict[str, Any]] = []

    def suggest(self, summary, attempt=None):
        s = self.inner.suggest(summary, attempt)
        if s is not None:
            try:
                self.log.append(s.to_dict())
            except Exception:  # noqa: BLE001
                self.log.append({"unreadable": True})
        return s

    def review(self, summary, suggestion, accepted, rejected):
        f = getattr(self.inner, "review", None)
        if callable(f):
            f(summary, suggestion, accepted, rejected)

    def observe(self, summary, solution, converged):
        self.inner.observe(summary, solution, converged)


# -- the pieces ---------------------------------------------------------------------------------------

def _quiet(f: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f()


def _solve(x: S.Instance, advisor: Any = None, damping: Any = None) -> dict[str, Any]:
    t = time.perf_counter()
    try:
        r = _quiet(lambda: x.run(advisor=advisor, damping=damping))
        rec = S.record(r)
    except Exception as e:  # noqa: BLE001 - a crash is a failure of that solve, recorded as such
        rec = {"converged": False, "iterations": 0, "attempts": 1, "statuses": [f"ERROR {type(e).__name__}"],
               "sources": [], "advisor_seconds": 0.0, "rejected": [str(e)[:160]]}
    rec["seconds"] = time.perf_counter() - t
    return rec


def evaluate(held: list[S.Instance], make: Callable[[], Any], attempts: int = ATTEMPTS) -> list[dict[str, Any]]:
    """Every held-out instance once with a fresh ``Logged`` advisor (at most ``attempts`` attempts)."""
    out = []
    for x in held:
        a = make()
        lg = Logged(a, attempts=min(attempts, getattr(a, "max_attempts", 1)) if getattr(a, "consult", "") ==
                    "on_failure" else None) if a is not None else None
        rec = _solve(x, lg)
        rec["name"] = x.name
        rec["suggestions"] = lg.log if lg is not None else []
        out.append(rec)
    return out


class Objective:
    """The tuning objective: the tuning half solved once with a schedule; score = mean over instances of
    iterations + MAX_ITER for a failure (lower is better). Keeps the cost of every evaluation."""

    def __init__(self, tuning: list[S.Instance]):
        self.tuning = tuning
        self.iterations = 0
        self.seconds = 0.0
        self.evaluations = 0
        self.per_eval: list[tuple[int, float]] = []  # (iterations, seconds) of each evaluation, in order

    def __call__(self, flat: dict[str, Any]) -> float:
        try:
            sched = damping_from_flat(flat)
        except Exception:  # noqa: BLE001
            return math.inf
        t = time.perf_counter()
        recs = [_solve(x, None, sched) for x in self.tuning]
        dt = time.perf_counter() - t
        self.seconds += dt
        self.evaluations += 1
        self.iterations += sum(r["iterations"] for r in recs)
        self.per_eval.append((sum(r["iterations"] for r in recs), dt))
        return float(np.mean([r["iterations"] + (0 if r["converged"] else S.MAX_ITER) for r in recs]))


def best_so_far(history: list[dict[str, Any]], budgets=BUDGETS) -> dict[int, tuple[dict | None, float]]:
    out = {}
    for b in budgets:
        hs = [h for h in history[:b] if h.get("schedule") is not None and math.isfinite(h["score"])]
        best = min(hs, key=lambda h: h["score"]) if hs else None
        out[b] = (best["schedule"], best["score"]) if best else (None, math.inf)
    return out


def curve(history: list[dict[str, Any]]) -> list[float]:
    best, out = math.inf, []
    for h in history:
        if h.get("schedule") is not None and math.isfinite(h["score"]):
            best = min(best, h["score"])
        out.append(best if math.isfinite(best) else None)
    return out


def _tuned_rows(label: str, history: list[dict[str, Any]], held: list[S.Instance], cost: dict[str, Any],
                rows: dict[str, Any], budgets: tuple[int, ...] = BUDGETS) -> None:
    """The held-out rows of a tuner at each budget (schedules shared between budgets evaluated once)."""
    done: dict[str, list[dict[str, Any]]] = {}
    for b, (flat, score) in best_so_far(history, budgets).items():
        key = json.dumps(flat, sort_keys=True)
        if key not in done:
            sug = adv.Suggestion(damping=damping_from_flat(flat), source=label) if flat else None
            done[key] = evaluate(held, (lambda s=sug: adv.FixedAdvisor(s, name=label)) if sug else (lambda: None))
        rows[f"{label}@{b}"] = {"records": done[key], "schedule": flat, "tuning_score": score, "budget": b,
                                "tuning": {**cost, "fraction": b / len(history) if history else 0.0}}
    rows[f"{label}@curve"] = {"curve": curve(history), "history": history}


def _eval_cost(obj: Objective, history: list[dict[str, Any]]) -> list[list[float]]:
    """(iterations, seconds) of the tuning solves behind each entry of ``history`` (an invalid proposal
    cost no solve)."""
    it = iter(obj.per_eval)
    return [[0, 0.0] if h.get("schedule") is None else list(next(it, (0, 0.0))) for h in history]


def _write(path: str, data: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"), default=str)
    os.replace(tmp, path)


def unit_path(out: str, suite: str, arm: str, rep: int) -> str:
    return os.path.join(out, "units", suite, arm, f"rep{rep:02d}.json")


# -- the two kinds of unit ----------------------------------------------------------------------------------

def classical_unit(suite: str, rep: int, n_tune: int = N_TUNE, n_test: int = N_TEST,
                   budgets: tuple[int, ...] = BUDGETS, log: Callable[[str], None] = print) -> dict[str, Any]:
    tuning, held = S.draw(suite, rep, n_tune, n_test)
    rows: dict[str, Any] = {}
    t0 = time.perf_counter()
    rows["defaults"] = {"records": evaluate(held, lambda: adv.DefaultAdvisor())}
    w = adv.WarmStartAdvisor()
    t = time.perf_counter()
    for x in tuning:
        _solve(x, w)
    w.learn = False
    rows["warm start"] = {"records": evaluate(held, lambda: w), "tuning": {"seconds": time.perf_counter() - t}}
    rows["retry ladder"] = {"records": evaluate(held, lambda: adv.RetryLadder())}
    nmax = max(budgets)
    for name, cls in TUNERS.items():
        obj = Objective(tuning)
        tuner = cls(types=S.TYPES[suite], budget=nmax, seed=rep)
        t = time.perf_counter()
        tuner.tune(obj, default=S.DEFAULTS[suite])
        cost = {"seconds": time.perf_counter() - t, "iterations": obj.iterations, "evaluations": obj.evaluations,
                "solver_seconds": obj.seconds}
        cost["per_eval"] = _eval_cost(obj, tuner.history)
        _tuned_rows(name, tuner.history, held, cost, rows, budgets)
        log(f"   {suite} rep {rep} {name}: best {tuner.best_score:.1f} ({cost['seconds']:.0f} s)")
    if suite == "engine":
        import chemsolve as cs  # noqa: PLC0415
        from chemsolve.advisors.control import RuleController  # noqa: PLC0415

        rows["Adaptive (direct)"] = {"records": [dict(_solve(x, None, cs.damping.Adaptive()), name=x.name,
                                                      suggestions=[]) for x in held]}
        rows["rule controller"] = {"records": _controlled(held, RuleController)}
    return {"suite": suite, "rep": rep, "arm": "classical", "n_tune": n_tune, "n_test": n_test,
            "instances": [dict(x.features, name=x.name) for x in held], "rows": rows,
            "seconds": time.perf_counter() - t0}


def _controlled(held: list[S.Instance], make: Callable[[], Any]) -> list[dict[str, Any]]:
    out = []
    for x in held:
        c = make()
        t = time.perf_counter()
        try:
            r = _quiet(lambda x=x, c=c: x.controlled(c, EVERY, MAX_CONSULTS))
            a = r.advice
            rec = {"converged": bool(r.success), "iterations": int(r.nit), "attempts": 1,
                   "statuses": [r.status.name], "factors": a["factors"], "consultations": a["consultations"],
                   "rejected": a["rejected"][:4], "advisor_seconds": a["advisor_seconds"]}
        except Exception as e:  # noqa: BLE001
            rec = {"converged": False, "iterations": 0, "attempts": 1, "statuses": [f"ERROR {type(e).__name__}"],
                   "rejected": [str(e)[:160]], "advisor_seconds": 0.0}
        rec["seconds"] = time.perf_counter() - t
        rec["name"] = x.name
        out.append(rec)
    return out


def llm_unit(suite: str, rep: int, arm: str, tape: Tape, make_llm: Callable[..., Any], n_tune: int = N_TUNE,
             n_test: int = N_TEST, budgets: tuple[int, ...] = BUDGETS,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """``make_llm(**kw)`` -> an OpenAIAdvisor whose transport is ``tape``."""
    tuning, held = S.draw(suite, rep, n_tune, n_test)
    rows: dict[str, Any] = {}
    t0 = time.perf_counter()
    tape.label = "LLM one-shot"
    rows["LLM one-shot"] = {"records": evaluate(held, lambda: make_llm(temperature=0.0, seed=rep))}
    log(f"   {suite} rep {rep} {arm}: one-shot done")
    for label, trace in (("LLM rescue (trace)", True), ("LLM rescue (no trace)", False)):
        tape.label = label
        rows[label] = {"records": evaluate(held, lambda tr=trace: make_llm(temperature=0.0, seed=rep,
                                                                           consult="on_failure", show_trace=tr))}
    log(f"   {suite} rep {rep} {arm}: rescue done")
    tape.label = "LLM OPRO"
    obj = Objective(tuning)
    it = make_llm(temperature=1.0, seed=rep, proposals_per_step=OPRO_PER_STEP)
    t = time.perf_counter()
    it.tune(obj, budget=max(budgets), default=S.DEFAULTS[suite], context=S.CONTEXT[suite])
    cost = {"seconds": time.perf_counter() - t, "iterations": obj.iterations, "evaluations": obj.evaluations,
            "solver_seconds": obj.seconds, "invalid_proposals": sum(1 for h in it.history if h["schedule"] is None)}
    cost["per_eval"] = _eval_cost(obj, it.history)
    tape.label = "LLM OPRO (held-out)"
    _tuned_rows("LLM OPRO", it.history, held, cost, rows, budgets)
    log(f"   {suite} rep {rep} {arm}: OPRO best {it.best_score:.1f}")
    if suite == "engine":
        from chemsolve.advisors.control import LLMDampingController  # noqa: PLC0415

        tape.label = "LLM damping controller"
        rows["LLM damping controller"] = {"records": _controlled(
            held, lambda: LLMDampingController(make_llm(temperature=0.0, seed=rep)))}
        log(f"   {suite} rep {rep} {arm}: controller done")
    tape.label = ""
    out = {"suite": suite, "rep": rep, "arm": arm, "n_tune": n_tune, "n_test": n_test,
           "instances": [dict(x.features, name=x.name, **({"textbook": x.textbook} if x.textbook else {}))
                         for x in held], "rows": rows, "seconds": time.perf_counter() - t0,
           "llm": tape.accounting(), "replayed_calls": tape.replayed}
    return out
