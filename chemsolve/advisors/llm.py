"""``OpenAIAdvisor``: initial guesses and damping schedules from a language model.

Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server, Ollama...) through the
official ``openai`` SDK (``pip install 'chemsolve[llm]'``). The reply is data, never code: it is
parsed as JSON (structured output with ``response_format`` json_schema, else json_object, else
the first JSON object in the text, code fences allowed), mapped onto a ``Suggestion`` and then
checked by the model like any other advisor's. Anything that goes wrong — HTTP errors, timeouts,
malformed or huge replies, out-of-range numbers — ends in the model's default with the reason
recorded in the result's ``advice``. The API key is never printed, logged or cached.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ChemsolveError
from .base import FLAT_DAMPING_TYPES, Advisor, Suggestion, damping_from_flat

__all__ = ["OpenAIAdvisor", "LLMError", "parse_json_reply"]

_SYSTEM = (
    "You advise a damped Newton solver for chemical-equilibrium equations. Reply with one JSON object "
    "only, no prose. Fields: 'damping' is the step-size schedule: 'constant' (every step scaled by "
    "'start'), 'ramp' (start at 'start', multiply by 'growth' each iteration up to 1), 'adaptive' (start "
    "at 'start', grow by 'growth' after a good step, halve after a bad one), 'linesearch' (backtracking "
    "from 'start'), 'cea' (no unknown changes by more than 'max_change' per step; gas only). Use "
    "0 < start <= 1, 1 <= growth <= 4, 0.2 <= max_change <= 10. Small 'start' = cautious. 'guess' is the "
    "initial guess in the model's variables (explained in the user message). 'rationale': one short sentence."
)


class LLMError(ChemsolveError):
    """The language model could not give a usable reply (the message never contains the key)."""


def parse_json_reply(text: str, max_chars: int = 20000) -> dict[str, Any]:
    """The JSON object in a model's reply: the whole text, or inside ``` fences, or the first
    balanced {...}. Raises ``LLMError`` when there is none or the reply is too long."""
    if not isinstance(text, str) or not text.strip():
        raise LLMError("empty reply")
    if len(text) > max_chars:
        raise LLMError(f"reply of {len(text)} characters exceeds the limit of {max_chars}")
    cands = [text.strip()]
    cands += re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    start = text.find("{")
    if start >= 0:  # first balanced object (braces inside strings are rare in these replies)
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                cands.append(text[start:i + 1])
                break
    for c in cands:
        try:
            v = json.loads(c)
        except (ValueError, RecursionError):
            continue
        if isinstance(v, dict):
            return v
    raise LLMError(f"no JSON object in the reply ({text[:60]!r}...)")


def _kind(summary: dict[str, Any]) -> Any:
    from ..registry import get

    try:
        return get(summary.get("kind"))
    except KeyError:
        return None


def _guess_schema(summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """JSON schema of the 'guess' field for this problem, and its explanation for the prompt (the
    model kind's ``guess_schema``)."""
    kind = _kind(summary)
    return kind.guess_schema(summary) if kind is not None else (None, "'guess': null (this problem needs no guess).")


def _types(kind_name: Any) -> list[str]:
    """Schedule types a model kind uses (the control factor 'cea' only in the gas model)."""
    k = _kind({"kind": kind_name})
    return [t for t in FLAT_DAMPING_TYPES if k is not None and t in k.damping_types] or list(FLAT_DAMPING_TYPES[:-1])


def _schema(summary: dict[str, Any], with_guess: bool = True) -> dict[str, Any]:
    types = _types(summary.get("kind"))
    props: dict[str, Any] = {"damping": {"type": "string", "enum": types}, "start": {"type": "number"},
                             "growth": {"type": "number"}}
    req = ["damping", "start", "growth"]
    if "cea" in types:  # the control factor's own parameter
        props["max_change"] = {"type": "number"}
        req.append("max_change")
    g = _guess_schema(summary)[0] if with_guess else None
    if g is not None:
        props["guess"] = g
        req.append("guess")
    props["rationale"] = {"type": "string", "maxLength": 200}
    req.append("rationale")
    return {"type": "object", "properties": props, "required": req, "additionalProperties": False}


def _flat(reply: dict[str, Any]) -> dict[str, Any] | None:
    if "damping" not in reply:
        return None
    d: dict[str, Any] = {"type": reply["damping"]}
    for k in ("start", "growth", "max_change"):
        if k in reply:
            d[k] = reply[k]
    return d


class OpenAIAdvisor(Advisor):
    """A language model as advisor.

    model, base_url, api_key : default to ``CHEMSOLVE_LLM_MODEL``, ``OPENAI_BASE_URL`` and
        ``OPENAI_API_KEY``. timeout [s] per request; max_retries for 429 (honouring Retry-After),
        5xx, timeouts and lost connections, with exponential backoff from ``backoff`` s, capped at
        ``max_backoff``; 401/403/404 are not retried.
    cache_dir : on-disk cache of replies keyed by (model, prompt); default
        ``$CHEMSOLVE_LLM_CACHE`` or ``~/.cache/chemsolve/llm``; False disables it. A reply is
        written only after the model accepted every part of it (``review``), never when it holds
        the API key (an endpoint may echo the Authorization header: the key is replaced by ***
        in the reply used, and that reply is not cached); a cached reply that is rejected later,
        or that holds the key, is deleted.
    consult : "before" (one-shot: asked before the first attempt of each solve) or "on_failure"
        (rescue: asked only when the default failed, with that attempt's record).
    show_trace : in rescue, show the failed attempt's iterations and residual trace (True) or only its
        status and schedule (False).
    proposals_per_step : schedules proposed per OPRO step in ``tune``.
    client : an object with ``.chat.completions.create(**kw)`` used instead of the SDK's client (to
        record or replay exchanges); ``base_url`` and the key are still those given.
    After ``tune`` (the iterative, OPRO-style mode), every solve gets the best schedule found,
    without further calls. ``usage`` counts calls, cache hits, tokens, seconds and failures.
    """

    def __init__(self, model: str | None = None, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 60.0, max_retries: int = 2, backoff: float = 0.5, max_backoff: float = 8.0,
                 cache_dir: str | os.PathLike | bool | None = None, temperature: float = 0.0, seed: int = 0,
                 max_tokens: int = 600, consult: str = "before", max_chars: int = 20000,
                 response_format: str = "json_schema", show_trace: bool = True, proposals_per_step: int = 1,
                 client: Any = None):
        from ..errors import require  # noqa: PLC0415

        openai = require("openai")
        self._openai = openai
        self.model = model or os.environ.get("CHEMSOLVE_LLM_MODEL") or "default"
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        key = api_key or os.environ.get("OPENAI_API_KEY") or "none"
        self._secret = key
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=float(timeout), max_retries=0)
        self.base_url = str(self._client.base_url)
        # a transport of the same shape (``.chat.completions.create(**kw)``), e.g. one that records every
        # exchange or replays recorded ones (the advisor study); its replies are checked like any other
        self._transport = client if client is not None else self._client
        if isinstance(show_trace, (bool, np.bool_)) is False:
            raise ValueError(f"show_trace={show_trace!r}: expected True or False")
        self.show_trace = bool(show_trace)
        if isinstance(proposals_per_step, bool) or not isinstance(proposals_per_step, int) or proposals_per_step < 1:
            raise ValueError(f"proposals_per_step={proposals_per_step!r}: expected a positive integer")
        self.proposals_per_step = proposals_per_step
        self.name = f"llm:{self.model}"
        if consult not in ("before", "on_failure"):
            raise ValueError(f"consult={consult!r}: expected 'before' or 'on_failure'")
        self.consult = consult
        self.max_attempts = 1 if consult == "before" else 2
        self.max_retries, self.backoff, self.max_backoff = int(max_retries), float(backoff), float(max_backoff)
        self.temperature, self.seed, self.max_tokens, self.max_chars = float(temperature), int(seed), int(max_tokens), \
            int(max_chars)
        if response_format not in ("json_schema", "json_object", "none"):
            raise ValueError(f"response_format={response_format!r}: expected json_schema, json_object or none")
        self._format = response_format
        if cache_dir is False:
            self.cache_dir = None
        else:
            self.cache_dir = Path(cache_dir if isinstance(cache_dir, (str, os.PathLike)) else
                                  os.environ.get("CHEMSOLVE_LLM_CACHE", Path.home() / ".cache" / "chemsolve" / "llm"))
        # seconds: wall clock of the calls; server_prompt_ms / server_predicted_ms: the server's own
        # prompt-processing and generation times, where it reports them (llama.cpp's ``timings``)
        self.usage = {"calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0,
                      "failures": 0, "retries": 0, "server_prompt_ms": 0.0, "server_predicted_ms": 0.0}
        self.history: list[dict[str, Any]] = []
        self._last: dict[str, Any] | None = None  # the last reply of _call, until reviewed
        self._pending: dict[int, tuple[Suggestion, dict[str, Any]]] = {}  # id(suggestion) -> (it, reply)
        self.best: dict[str, Any] | None = None
        self.best_score = math.inf
        self.tune_seconds = 0.0

    def __reduce__(self):  # holds credentials: never pickled (nor sent to workers with the key inside)
        raise TypeError("OpenAIAdvisor holds an API key and cannot be pickled; build one where it is used")

    def __deepcopy__(self, memo):
        raise TypeError("OpenAIAdvisor holds an API key and cannot be copied")

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIAdvisor(model={self.model!r}, base_url={self.base_url!r}, consult={self.consult!r})"

    # -- transport ---------------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        s = str(text)
        if self._secret and self._secret != "none" and len(self._secret) >= 4:
            s = s.replace(self._secret, "***")
        return s[:300]

    def _leaks(self, text: str) -> bool:
        """True if ``text`` holds the API key (as is, or escaped as in a JSON string)."""
        k = self._secret
        return bool(k) and k != "none" and len(k) >= 4 and (k in text or json.dumps(k)[1:-1] in text)

    def _scrub(self, reply: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The reply with the key replaced by ***, and whether it held the key."""
        text = json.dumps(reply)
        if not self._leaks(text):
            return reply, False
        return json.loads(text.replace(json.dumps(self._secret)[1:-1], "***").replace(self._secret, "***")), True

    def _commit(self, pending: dict[str, Any] | None) -> None:
        """Write a validated fresh reply to the cache (whole or not at all), unless it held the key."""
        if not pending or pending["cached"] or not pending["cacheable"] or pending["path"] is None:
            return
        text = json.dumps({"model": self.model, "reply": pending["reply"]})
        if self._leaks(text):  # (the model name, say): never on disk
            return
        from ..outfile import atomic_open  # noqa: PLC0415

        try:
            pending["path"].parent.mkdir(parents=True, exist_ok=True)
            with atomic_open(pending["path"]) as f:
                f.write(text)
        except OSError:
            pass

    def _drop(self, pending: dict[str, Any] | None) -> None:
        """A reply that failed validation: never cached; deleted if it came from the cache."""
        if pending and pending["cached"] and pending["path"] is not None:
            try:
                pending["path"].unlink()
            except OSError:
                pass

    def review(self, summary: dict[str, Any], suggestion: Suggestion, accepted: list[str],
               rejected: list[str]) -> None:
        """The model's verdict on a suggestion: cache its reply only if every part was accepted."""
        entry = self._pending.pop(id(suggestion), None)
        if entry is None or entry[0] is not suggestion:
            return
        if accepted and not rejected:
            self._commit(entry[1])
        else:
            self._drop(entry[1])

    def _cache_path(self, payload: dict[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        h = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return self.cache_dir / f"{h}.json"

    def _create(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> Any:
        kw: dict[str, Any] = dict(model=self.model, messages=messages, temperature=self.temperature, seed=self.seed,
                                  max_tokens=self.max_tokens)
        if self._format == "json_schema":
            kw["response_format"] = {"type": "json_schema",
                                     "json_schema": {"name": "suggestion", "schema": schema, "strict": True}}
        elif self._format == "json_object":
            kw["response_format"] = {"type": "json_object"}
        return self._transport.chat.completions.create(**kw)

    def _call(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        """One chat completion as a JSON object: cache, format fallback, retries, accounting."""
        oa = self._openai
        payload = {"model": self.model, "messages": messages, "schema": schema, "temperature": self.temperature,
                   "seed": self.seed, "base_url": self.base_url}
        path = self._cache_path(payload)
        self._last = None
        if path is not None and path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
                if self._leaks(text):  # written by an older version, or by hand: never served, removed
                    path.unlink()
                    raise ValueError("the cached reply holds the API key")
                out = json.loads(text)["reply"]
                if not isinstance(out, dict):
                    raise ValueError("the cached reply is not a JSON object")
                self.usage["cache_hits"] += 1
                self._last = {"path": path, "reply": out, "cached": True, "cacheable": False}
                return out
            except (ValueError, KeyError, TypeError, OSError):
                pass
        t0 = time.perf_counter()
        attempt = 0
        try:
            while True:
                try:
                    self.usage["calls"] += 1
                    resp = self._create(messages, schema)
                    break
                except oa.BadRequestError as e:  # the server refuses this response_format: step down
                    if self._format == "none":
                        raise LLMError(f"the endpoint rejected the request (400): {self._clean(e)}") from None
                    self._format = "json_object" if self._format == "json_schema" else "none"
                except (oa.AuthenticationError, oa.PermissionDeniedError, oa.NotFoundError) as e:
                    raise LLMError(f"{type(e).__name__} ({getattr(e, 'status_code', '?')}): "
                                   f"{self._clean(getattr(e, 'message', e))}") from None
                except (oa.RateLimitError, oa.InternalServerError, oa.APITimeoutError, oa.APIConnectionError,
                        oa.APIStatusError) as e:
                    code = getattr(e, "status_code", None)
                    if isinstance(e, oa.APIStatusError) and code is not None and code < 500 and code != 429:
                        raise LLMError(f"HTTP {code}: {self._clean(getattr(e, 'message', e))}") from None
                    if attempt >= self.max_retries:
                        raise LLMError(f"{type(e).__name__} after {attempt + 1} tries: "
                                       f"{self._clean(getattr(e, 'message', e))}") from None
                    wait = self.backoff * 2 ** attempt
                    ra = getattr(getattr(e, "response", None), "headers", {}) or {}
                    try:
                        wait = max(wait, float(ra.get("retry-after", 0)))
                    except (TypeError, ValueError):
                        pass
                    if wait > self.max_backoff:  # asked to wait longer than allowed: give up, don't hammer
                        raise LLMError(f"{type(e).__name__}: the endpoint asks to wait {wait:g} s, more than "
                                       f"max_backoff={self.max_backoff:g} s") from None
                    time.sleep(wait)
                    attempt += 1
                    self.usage["retries"] += 1
            tm = getattr(resp, "timings", None)
            if tm is None and isinstance(getattr(resp, "model_extra", None), dict):
                tm = resp.model_extra.get("timings")
            if isinstance(tm, dict):
                for k, field_ in (("server_prompt_ms", "prompt_ms"), ("server_predicted_ms", "predicted_ms")):
                    v = tm.get(field_)
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                        self.usage[k] += float(v)
            u = getattr(resp, "usage", None)
            if u is not None:
                self.usage["prompt_tokens"] += int(getattr(u, "prompt_tokens", 0) or 0)
                self.usage["completion_tokens"] += int(getattr(u, "completion_tokens", 0) or 0)
            try:
                text = resp.choices[0].message.content
            except (AttributeError, IndexError, TypeError):
                raise LLMError("the reply has no message content") from None
            reply, leaked = self._scrub(parse_json_reply(text, self.max_chars))
        except LLMError as e:
            self.usage["failures"] += 1
            raise LLMError(self._clean(str(e))) from None
        except oa.OpenAIError as e:  # anything else the SDK raises: a recorded failure, key scrubbed
            self.usage["failures"] += 1
            raise LLMError(f"{type(e).__name__}: {self._clean(e)}") from None
        finally:
            self.usage["seconds"] += time.perf_counter() - t0
        # cached only once validated (review, or tune's own check), and never if it held the key
        self._last = {"path": path, "reply": reply, "cached": False, "cacheable": not leaked}
        return reply

    # -- prompts -----------------------------------------------------------------------------
    def _to_suggestion(self, reply: dict[str, Any], summary: dict[str, Any]) -> Suggestion:
        g = reply.get("guess")
        guess = None
        if g is not None:  # a list is the unknowns x (the engine's guess); a mapping is the model's own form
            guess = {"x": g} if isinstance(g, list) else g if isinstance(g, dict) else {"value": g}
        return Suggestion(initial_guess=guess, damping=_flat(reply), rationale=str(reply.get("rationale", ""))[:300],
                          source=self.name)

    def suggest(self, summary: dict[str, Any], attempt: dict[str, Any] | None = None) -> Suggestion | None:
        if self.best is not None:  # tuned: the class's schedule, no call per solve
            return Suggestion(damping=damping_from_flat(self.best), source=self.name,
                              rationale=f"best of {len(self.history)} schedules tried (score {self.best_score:.3g})")
        _, guess_text = _guess_schema(summary)
        shown = {k: v for k, v in summary.items() if k not in ("features", "signature")}
        user = f"Problem: {json.dumps(shown, separators=(',', ':'))}\n{guess_text}"
        if attempt is not None:
            keys = ("status", "iterations", "residual_trace", "damping") if self.show_trace else ("status", "damping")
            user += ("\nThe default attempt failed: " + json.dumps({k: attempt.get(k) for k in keys},
                                                                  separators=(",", ":"))
                     + "\nSuggest something different.")
        reply = self._call([{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}],
                           _schema(summary))
        sug = self._to_suggestion(reply, summary)
        if len(self._pending) > 64:  # suggestions never reviewed (called outside consult): forget them
            self._pending.clear()
        self._pending[id(sug)] = (sug, self._last)
        return sug

    def tune(self, objective: Callable[[dict[str, Any]], float], budget: int = 16,
             default: dict[str, Any] | None = None, context: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """OPRO (Yang et al., "Large language models as optimizers", ICLR 2024): at each step the model
        sees the best (schedule, score) pairs so far, sorted worst first (so the best are nearest the
        instruction), and proposes ``proposals_per_step`` new schedules (one request each, seeds
        differing, at this advisor's temperature); all are evaluated before the next step's prompt.

        ``objective(flat_schedule) -> score`` (lower is better) is evaluated ``budget`` times, the
        first on ``default``; a proposal that fails validation (or a failed call) uses up its
        evaluation and is recorded with the reason. ``context``: a class summary for the prompt.
        ``history`` keeps every evaluation in order (best-so-far curves read it).
        """
        t = time.perf_counter()
        ctx = dict(context or {"kind": "engine"})
        schema = _schema(ctx, with_guess=False)
        n, i, step = int(budget), 0, 0
        if default is not None and n > 0:
            s0 = float(objective(default))
            self.history.append({"schedule": default, "score": s0, "note": "default"})
            self.best, self.best_score = default, s0
            i = 1
        seed0 = self.seed
        while i < n:
            tried = sorted((h for h in self.history if h["schedule"] is not None),
                           key=lambda h: -h["score"] if math.isfinite(h["score"]) else -1e300)
            lines = "\n".join(json.dumps({"schedule": h["schedule"], "score": round(h["score"], 2)}
                                         if math.isfinite(h["score"]) else
                                         {"schedule": h["schedule"], "score": "invalid"})
                              for h in tried[-20:])
            user = (f"Problem class: {json.dumps({k: v for k, v in ctx.items() if k != 'features'})}\n"
                    "Score = mean Newton iterations over the tuning problems, 1000 for each failure; lower is "
                    f"better. Schedules tried so far, worst first:\n{lines}\n"
                    "Propose one new schedule, different from those above, with a lower score.")
            batch: list[tuple[dict[str, Any] | None, str]] = []
            for j in range(min(self.proposals_per_step, n - i)):
                self.seed = seed0 + 1000 * step + j  # the requests of one step differ by their seed only
                try:
                    reply = self._call([{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}],
                                       schema)
                    flat = _flat(reply)
                    sched = damping_from_flat(flat or {})
                    if sched.name not in _types(ctx.get("kind")):
                        raise LLMError(f"schedule {sched.name!r} is not used by the {ctx.get('kind')} model")
                    self._commit(self._last)
                    batch.append((flat, "llm"))
                except Exception as e:  # noqa: BLE001 - an untrusted proposal uses up its evaluation, no more
                    self._drop(self._last)
                    batch.append((None, self._clean(f"{type(e).__name__}: {e}")[:200]))
            self.seed = seed0
            for flat, note in batch:
                if flat is None:
                    self.history.append({"schedule": None, "score": math.inf, "note": note, "step": step})
                else:
                    sc = float(objective(flat))
                    self.history.append({"schedule": flat, "score": sc, "note": note, "step": step})
                    if sc < self.best_score:
                        self.best, self.best_score = flat, sc
                i += 1
            step += 1
        self.tune_seconds = time.perf_counter() - t
        return self.best
