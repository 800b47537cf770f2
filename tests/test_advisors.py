"""Advisors: the protocol, validation of untrusted suggestions, classical advisors and tuners, and
``OpenAIAdvisor`` against an OpenAI-compatible stub on 127.0.0.1 (real SDK, real HTTP).

Every failure mode of the LLM path must end in a valid (converged) solve whose ``guess_source``
and ``advice`` record the fallback and why. The tests with the real local model are in
test_advisors_llm.py (marker ``llm``).
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import chemsolve as cs
from chemsolve import advisors as adv
from chemsolve import damping as dmp
from chemsolve.advisors.base import AdviceWarning

pytest.importorskip("openai")
from llm_stub import StubLLM  # noqa: E402

from chemsolve.advisors.llm import LLMError, OpenAIAdvisor, parse_json_reply  # noqa: E402

KEY = "sk-test-0123456789abcdef"


def circle(x):
    """x^2 + y^2 = 4, x = y: root (sqrt 2, sqrt 2) from the right quadrant."""
    return np.array([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] - x[1]])


def far(x):
    """A residual that the undamped Newton step throws out of its domain from far away."""
    return np.array([np.log(x[0]) + x[0] - 2.0, x[1] - x[0] ** 2])


@pytest.fixture
def stub():
    s = StubLLM()
    yield s
    s.close()


def llm(stub, **kw):
    kw.setdefault("timeout", 5.0)
    kw.setdefault("max_retries", 1)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("cache_dir", False)
    return OpenAIAdvisor(model="stub-model", base_url=stub.base_url, api_key=KEY, **kw)


GOOD = {"damping": "ramp", "start": 0.5, "growth": 2.0, "guess": [1.5, 1.5], "rationale": "near the diagonal"}


# -- protocol and validation -------------------------------------------------------------------

def test_default_advisor_is_the_plain_solve():
    a = cs.solve(circle, [1.0, 3.0])
    b = cs.solve(circle, [1.0, 3.0], advisor=adv.DefaultAdvisor())
    assert b.success and b.guess_source == "default"
    np.testing.assert_array_equal(a.x, b.x)
    assert a.nit == b.nit
    assert b.advice["attempts"][0]["iterations"] == b.nit


def test_fixed_suggestion_is_used_and_recorded():
    s = adv.Suggestion(initial_guess={"x": [1.4, 1.4]}, damping=dmp.Constant(1.0), source="tpe")
    r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(s))
    assert r.success and r.guess_source == "tpe"
    assert r.nit < cs.solve(circle, [1.0, 3.0]).nit  # a start 0.02 from the root needs fewer steps
    assert r.damping == dmp.Constant(1.0)


@pytest.mark.parametrize("guess, damping, why", [
    ({"x": [1.0, float("nan")]}, None, "not finite"),
    ({"x": [1.0]}, None, "list of 2"),
    ({"x": [1e12, 1.0]}, None, "outside"),
    ({"x": ["a", 1.0]}, None, "not a number"),
    (None, {"type": "constant", "start": 7.0}, "must lie in"),
    (None, {"type": "warp"}, "unknown damping type"),
])
def test_bad_engine_suggestions_fall_back(guess, damping, why):
    s = adv.Suggestion(initial_guess=guess, damping=damping, source="llm:x")
    with pytest.warns(AdviceWarning, match="rejected"):
        r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(s))
    assert r.success
    assert r.guess_source.startswith("default (llm:x rejected:") and why in r.guess_source
    assert any(why in m for m in r.advice["rejected"])
    np.testing.assert_allclose(r.x, cs.solve(circle, [1.0, 3.0]).x, rtol=0, atol=1e-12)


def test_guess_outside_the_residual_domain_is_rejected():
    s = adv.Suggestion(initial_guess={"x": [-1.0, 1.0]}, source="llm:x")  # log(-1)
    with pytest.warns(AdviceWarning):
        r = cs.solve(far, [1.0, 1.0], advisor=adv.FixedAdvisor(s))
    assert r.success and "not finite at the suggested x" in r.guess_source


def test_partly_bad_suggestion_keeps_the_good_part():
    s = adv.Suggestion(initial_guess={"x": [1.4, 1.4]}, damping={"type": "ramp", "start": 3.0}, source="llm:x")
    with pytest.warns(AdviceWarning):
        r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(s))
    assert r.success and r.guess_source.startswith("llm:x (damping:")
    assert r.damping == dmp.LineSearch()


def test_an_advisor_that_raises_never_crashes_a_solve():
    class Broken(adv.Advisor):
        name = "broken"

        def suggest(self, summary, attempt=None):
            raise RuntimeError("boom")

    with pytest.warns(AdviceWarning, match="boom"):
        r = cs.solve(circle, [1.0, 3.0], advisor=Broken())
    assert r.success and r.guess_source == "default"
    assert "boom" in r.advice["rejected"][0]


def test_summary_is_json_and_compact():
    seen = {}

    class Spy(adv.Advisor):
        def suggest(self, summary, attempt=None):
            seen["s"] = json.dumps(summary)
            return None

    cs.solve(circle, [1.0, 3.0], advisor=Spy())
    s = json.loads(seen["s"])
    assert s["kind"] == "engine" and s["n"] == 2 and s["x0"] == [1.0, 3.0]
    assert s["residual_at_x0"] == [6.0, -2.0]


# -- classical advisors -----------------------------------------------------------------------------

def oscillating_map(x):
    """G(x) with G'(x*) = -2 in the first component: plain substitution diverges, relaxation
    x + a (G(x) - x) with a < 2/3 converges to (1, 2)."""
    return np.array([-2.0 * x[0] + 3.0, 0.5 * x[1] + 1.0])


def test_retry_ladder_rescues_a_failed_default():
    base = cs.solve(oscillating_map, [5.0, 0.0], method="fixed_point")
    assert base.status == cs.Status.DIVERGED
    r = cs.solve(oscillating_map, [5.0, 0.0], method="fixed_point", advisor=adv.RetryLadder())
    srcs = [a["source"] for a in r.advice["attempts"]]
    assert srcs[0] == "default" and set(srcs[1:]) == {"heuristic"} and len(srcs) >= 2
    assert r.advice["attempts"][0]["status"] == "DIVERGED"
    assert r.success and r.guess_source == "heuristic"
    np.testing.assert_allclose(r.x, [1.0, 2.0], atol=1e-9)
    assert r.advice["total_iterations"] == sum(a["iterations"] for a in r.advice["attempts"])


def test_retry_ladder_reports_failure_when_every_rung_fails():
    r = cs.solve(oscillating_map, [5.0, 0.0], method="fixed_point", max_iter=3, advisor=adv.RetryLadder())
    assert not r.success and len(r.advice["attempts"]) == 4
    assert all(not a["converged"] for a in r.advice["attempts"])


def test_retry_ladder_is_not_consulted_when_the_default_converges():
    r = cs.solve(circle, [1.0, 3.0], advisor=adv.RetryLadder())
    assert r.success and r.guess_source == "default" and len(r.advice["attempts"]) == 1


def test_warm_start_uses_the_nearest_solved_state():
    w = adv.WarmStartAdvisor()
    first = cs.solve(circle, [1.0, 3.0], advisor=w)
    assert first.guess_source == "default" and len(w) == 1
    r = cs.solve(circle, [1.1, 3.1], advisor=w)
    assert r.guess_source == "warm" and r.success and r.nit < first.nit
    other = cs.solve(far, [1.0, 1.0], advisor=w)  # another residual: nothing to reuse
    assert other.guess_source == "default"


def _objective(schedule_flat, starts):
    recs = []
    for x0 in starts:
        r = cs.solve(far, x0, damping=adv.damping_from_flat(schedule_flat), max_iter=60)
        recs.append({"converged": r.success, "iterations": r.nit})
    return adv.classical.instance_score(recs)


STARTS = [[s, 1.0] for s in (0.05, 3.0, 8.0, 20.0)]


@pytest.mark.parametrize("cls", [adv.RandomSearchTuner, adv.TPETuner])
def test_tuners_spend_their_budget_and_never_return_worse_than_default(cls):
    if cls is adv.TPETuner:
        pytest.importorskip("optuna")
    t = cls(budget=10, seed=3)
    default = {"type": "linesearch", "start": 1.0}
    best = t.tune(lambda f: _objective(f, STARTS), default=default)
    assert len(t.history) == 10 and t.history[0]["schedule"] == default
    assert t.best_score <= t.history[0]["score"]
    assert t.best_score == min(h["score"] for h in t.history)
    r = cs.solve(far, [5.0, 1.0], advisor=t, max_iter=60)
    assert r.guess_source == t.name and r.success
    assert r.damping == adv.damping_from_flat(best)


def test_tpe_same_seed_same_history():
    pytest.importorskip("optuna")
    h = []
    for _ in range(2):
        t = adv.TPETuner(budget=6, seed=11)
        t.tune(lambda f: _objective(f, STARTS[:2]))
        h.append([x["schedule"] for x in t.history])
    assert h[0] == h[1]


# -- the models take advisors ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def db():
    from chemsolve.aqueous import load_database

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_database("phreeqc.dat")


SEA = {"Na": 0.469, "Cl": 0.546, "Mg": 0.0528, "Ca": 0.0103, "K": 0.0102, "C(4)": 0.00206, "S(6)": 0.0282}


def test_aqueous_advisor_guess_and_fallback(db):
    from chemsolve.aqueous import speciate

    ref = speciate(db, SEA, T=298.15)
    w = adv.WarmStartAdvisor()
    speciate(db, SEA, T=298.15, advisor=w)
    near = {**SEA, "Na": 0.48}
    r = speciate(db, near, T=298.15, advisor=w)
    plain = speciate(db, near, T=298.15)
    assert r.guess_source == "warm" and r.success
    assert abs(r.pH - plain.pH) < 1e-8  # same answer from another start: the convergence test judges
    bad = adv.Suggestion(initial_guess={"log_a": {"Na+": 2.0}}, source="llm:x")  # 100 mol/kg free Na+
    with pytest.warns(AdviceWarning):
        r = speciate(db, SEA, T=298.15, advisor=adv.FixedAdvisor(bad))
    assert r.success and "more free than the total" in r.guess_source
    assert abs(r.pH - ref.pH) < 1e-10
    with pytest.warns(AdviceWarning):
        r = speciate(db, SEA, T=298.15, advisor=adv.FixedAdvisor(
            adv.Suggestion(initial_guess={"log_a": {"Xx+": -1}}, source="llm:x")))
    assert r.success and "not a master species" in r.guess_source
    with pytest.warns(AdviceWarning):
        r = speciate(db, SEA, T=298.15, advisor=adv.FixedAdvisor(
            adv.Suggestion(options={"ionic_strength": "guess"}, source="llm:x")))
    assert r.success and "ionic_strength" in r.guess_source
    r = speciate(db, SEA, T=298.15, advisor=adv.FixedAdvisor(
        adv.Suggestion(damping=dmp.Ramp(0.3, 2.0, 1.0), options={"ionic_strength": "outer"}, source="tpe")))
    assert r.success and r.guess_source == "tpe" and abs(r.pH - ref.pH) < 1e-8
    for g, why in (({}, "empty guess"), ({"log_a": {}}, "empty guess"), ({"log_a": None, "pH": 8.0}, "not used")):
        with pytest.warns(AdviceWarning):
            r = speciate(db, SEA, T=298.15, pH=8.1, advisor=adv.FixedAdvisor(adv.Suggestion(initial_guess=g,
                                                                                            source="llm:x")))
        assert r.success and why in r.guess_source and r.nit == speciate(db, SEA, T=298.15, pH=8.1).nit


@pytest.fixture(scope="module")
def mix():
    pytest.importorskip("cantera")
    from chemsolve.gas import GasMixture

    return GasMixture.from_cantera("gri30.yaml")


AIR = {"CH4": 1.0, "O2": 2.0, "N2": 7.52}


def test_gas_advisor_T_guess_and_fallback(mix):
    ref = mix.equilibrate(300.0, 101325.0, AIR, mode="HP")
    r = mix.equilibrate(300.0, 101325.0, AIR, mode="HP",
                        advisor=adv.FixedAdvisor(adv.Suggestion(initial_guess={"T": 2200.0}, source="llm:x")))
    assert r.success and r.guess_source == "llm:x" and abs(r.T - ref.T) < 1e-6
    for guess, why in (({"T": -5.0}, "outside"), ({"T": float("inf")}, "not finite"), ({"X": 1}, "expected")):
        with pytest.warns(AdviceWarning):
            r = mix.equilibrate(300.0, 101325.0, AIR, mode="HP",
                                advisor=adv.FixedAdvisor(adv.Suggestion(initial_guess=guess, source="llm:x")))
        assert r.success and why in r.guess_source and abs(r.T - ref.T) < 1e-6
    with pytest.warns(AdviceWarning, match="fixes T"):
        r = mix.equilibrate(1500.0, 101325.0, AIR, mode="TP",
                            advisor=adv.FixedAdvisor(adv.Suggestion(initial_guess={"T": 900.0}, source="llm:x")))
    assert r.success and r.T == 1500.0


def _phi_rows(mix, phi):
    X = np.zeros((len(phi), mix.n_species))
    X[:, mix.species_index("CH4")] = phi
    X[:, mix.species_index("O2")] = 2.0
    X[:, mix.species_index("N2")] = 7.52
    return X


def test_gas_batch_consults_once_and_retries_only_failed_states(mix):
    calls = []

    class Counting(adv.RetryLadder):
        def suggest(self, summary, attempt=None):
            calls.append(summary["batch_size"])
            return super().suggest(summary, attempt)

    X = _phi_rows(mix, np.linspace(0.5, 2.0, 6))
    ref = mix.equilibrate(300.0, 101325.0, X, mode="HP")
    b = mix.equilibrate(300.0, 101325.0, X, mode="HP", advisor=Counting())
    assert np.all(b.success) and calls == []  # the default converged: the ladder is never asked
    np.testing.assert_array_equal(b.T, ref.T)
    # with 8 iterations allowed some states fail; the ladder re-solves only those
    first = mix.equilibrate(300.0, 101325.0, X, mode="HP", max_iter=8)
    ok = first.success
    assert ok.any() and not ok.all()
    b = mix.equilibrate(300.0, 101325.0, X, mode="HP", advisor=Counting(), max_iter=8)
    assert calls and set(calls) == {6}
    assert b.success.all()
    np.testing.assert_array_equal(b.T[ok], first.T[ok])  # states that converged were not touched
    np.testing.assert_array_equal(b.nit[ok], first.nit[ok])
    np.testing.assert_allclose(b.T, ref.T, rtol=0, atol=1e-6)
    assert b.advice["total_iterations"] == b.nit.sum()
    assert [b.advice["row_source"][i] == "default" for i in range(6)] == ok.tolist()
    assert "default x" in b.guess_source and "heuristic x" in b.guess_source


def test_gas_batch_retry_with_broadcast_inputs(mix):
    X1 = _phi_rows(mix, [1.0])
    T = np.full(3, 300.0)
    plain = mix.equilibrate(T, 101325.0, X1, mode="HP", max_iter=4)
    b = mix.equilibrate(T, 101325.0, X1, mode="HP", max_iter=4, advisor=adv.RetryLadder())
    assert len(b) == 3 and len(b.advice["attempts"]) >= 2 and not plain.success.any()
    H = np.array([-2.5e5, -2.4e5, -2.3e5])  # an H sweep at one feed state [J/kg]
    plain_h = mix.equilibrate(300.0, 101325.0, X1[0], mode="HP", H=H, max_iter=4)
    h = mix.equilibrate(300.0, 101325.0, X1[0], mode="HP", H=H, max_iter=4, advisor=adv.RetryLadder())
    assert len(h) == 3 and len(h.advice["attempts"]) >= 2 and not plain_h.success.all()
    full = mix.equilibrate(300.0, 101325.0, X1[0], mode="HP", H=H)
    conv = h.success
    np.testing.assert_allclose(h.T[conv], full.T[conv], rtol=0, atol=1e-6)


def test_gas_failure_at_a_T_bound_under_another_schedule_is_not_called_infeasible(mix):
    from gas_cases import feed

    from chemsolve.gas import GasMixture

    m = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"])
    x = feed("C2H2", "O2", 4.0)
    r = m.equilibrate(300.0, 1000.0, x, mode="HP", damping=dmp.Ramp(0.5, 3.9, 1.0))
    assert not r.success and r.status != cs.Status.INVALID_INPUT  # the schedule failed, not the target
    assert m.equilibrate(300.0, 1000.0, x, mode="HP").success


def test_suggestion_cannot_name_its_own_source():
    class Liar(adv.Advisor):
        name = "llm:liar"

        def suggest(self, summary, attempt=None):
            return adv.Suggestion(initial_guess={"x": [1.4, 1.4]}, source="default")

    r = cs.solve(circle, [1.0, 3.0], advisor=Liar())
    assert r.guess_source == "llm:liar"
    r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(adv.Suggestion(initial_guess={"x": [1.4, 1.4]},
                                                                              source=None), name="mine"))
    assert r.success and r.guess_source == "mine"
    with pytest.raises(cs.InvalidInputError, match="advisor"):
        cs.solve(circle, [1.0, 3.0], advisor="llm")


def test_full_dict_schedule_form_is_read_in_full():
    s = adv.Suggestion(damping={"type": "constant", "alpha": 0.5}, source="x")
    r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(s))
    assert r.damping == dmp.Constant(0.5)
    with pytest.warns(AdviceWarning, match="unknown key"):
        r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(
            adv.Suggestion(damping={"type": "constant", "alpha": 0.5, "evil": 1}, source="x")))
    assert r.damping == dmp.LineSearch()


def test_numpy_numbers_are_numbers_and_huge_ints_are_rejected():
    r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(adv.Suggestion(
        initial_guess={"x": [np.float32(1.4), np.int64(1)]}, source="x")))
    assert r.guess_source == "x"
    with pytest.warns(AdviceWarning, match="representable"):
        r = cs.solve(circle, [1.0, 3.0], advisor=adv.FixedAdvisor(adv.Suggestion(
            initial_guess={"x": [10 ** 400, 1]}, source="x")))
    assert r.success


# -- OpenAIAdvisor against the stub ---------------------------------------------------------------

def test_llm_good_reply_is_used(stub):
    stub.behaviours = [("ok", GOOD)]
    a = llm(stub)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success and r.guess_source == "llm:stub-model"
    assert r.damping == dmp.Ramp(0.5, 2.0, 1.0)
    req = stub.requests[-1]
    assert req["response_format"]["type"] == "json_schema"
    assert req["response_format"]["json_schema"]["schema"]["properties"]["guess"]["minItems"] == 2
    assert a.usage["calls"] == 1 and a.usage["prompt_tokens"] == 10 and a.usage["completion_tokens"] == 5


@pytest.mark.parametrize("behaviour, why", [
    (("text", "{damping: ramp, start: 0.5"), "no JSON object"),
    (("ok", {k: v for k, v in GOOD.items() if k != "guess"} | {"start": 40.0}), "must lie in"),
    (("ok", {**GOOD, "guess": [1.0, 2.0, 3.0]}), "list of 2"),
    (("ok", {**GOOD, "guess": [float("inf"), 1.0]}), "not finite"),
    (("ok", {"dampening": "ramp", "begin": 0.5}), "empty suggestion"),
    (("ok", {**GOOD, "damping": "import os; os.system('echo pwned')"}), "unknown damping type"),
    (("text", json.dumps({**GOOD, "rationale": "x" * 2_000_000})), "exceeds the limit"),
    (("text", "[1, 2, 3]"), "no JSON object"),
    (("status", 401, json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}})), "401"),
    (("status", 500, json.dumps({"error": {"message": "internal"}})), "InternalServerError after 2 tries"),
    (("status", 429, json.dumps({"error": {"message": "slow down"}}), {"Retry-After": "0"}), "RateLimitError"),
    (("status", 404, json.dumps({"error": {"message": "no such model"}})), "404"),
    (("hang", 3.0), "APITimeoutError"),
])
def test_llm_failures_end_in_a_valid_default_solve(stub, behaviour, why, caplog, capsys):
    stub.behaviours = [behaviour]
    a = llm(stub, timeout=1.0)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success
    # the whole reply is rejected, or (bad guess, good schedule) the bad part with its reason
    assert r.guess_source.startswith("default") or (
        r.guess_source.startswith("llm:stub-model (") and why in r.guess_source), r.guess_source
    reasons = " ".join(r.advice["rejected"]) + r.guess_source
    assert why in reasons, reasons
    np.testing.assert_allclose(r.x, [math.sqrt(2), math.sqrt(2)], atol=1e-10)
    out = capsys.readouterr()
    everything = reasons + repr(a) + out.out + out.err + caplog.text + " ".join(str(x.message) for x in w)
    assert KEY not in everything



def test_llm_code_fences_and_prose_are_tolerated(stub):
    stub.behaviours = [("text", "Sure! Here it is:\n```json\n" + json.dumps(GOOD) + "\n```\nGood luck.")]
    r = cs.solve(circle, [1.0, 3.0], advisor=llm(stub))
    assert r.success and r.guess_source == "llm:stub-model"


def test_llm_falls_back_from_json_schema_to_json_object(stub):
    stub.behaviours = [("reject_schema",), ("ok", GOOD)]
    a = llm(stub)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success and r.guess_source == "llm:stub-model"
    assert [q.get("response_format", {}).get("type") for q in stub.requests] == ["json_schema", "json_object"]


def test_llm_429_retry_after_is_honoured_then_succeeds(stub):
    stub.behaviours = [("status", 429, "{}", {"Retry-After": "1"}), ("ok", GOOD)]
    a = llm(stub, max_retries=2, max_backoff=2.0)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success and r.guess_source == "llm:stub-model"
    assert a.usage["retries"] == 1 and r.advice["advisor_seconds"] >= 0.9


def test_llm_key_is_sent_but_never_shown(stub):
    import copy
    import pickle

    stub.behaviours = [("ok", GOOD)]
    a = llm(stub)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert stub.requests[-1]["_auth"] == f"Bearer {KEY}"
    assert KEY not in repr(a) and KEY not in repr(r)
    with pytest.raises(TypeError, match="API key"):
        pickle.dumps(a)
    with pytest.raises(TypeError, match="API key"):
        copy.deepcopy(a)


def test_llm_gives_up_when_retry_after_exceeds_the_cap(stub):
    stub.behaviours = [("status", 429, "{}", {"Retry-After": "3600"})]
    a = llm(stub, max_retries=3, max_backoff=2.0)
    with pytest.warns(AdviceWarning, match="asks to wait 3600"):
        r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success and len(stub.requests) == 1 and r.advice["advisor_seconds"] < 5


def test_llm_reply_cache_on_disk(stub, tmp_path):
    stub.behaviours = [("ok", GOOD)]
    a = llm(stub, cache_dir=tmp_path)
    r1 = cs.solve(circle, [1.0, 3.0], advisor=a)
    r2 = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 1 and r1.guess_source == r2.guess_source == "llm:stub-model"
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and KEY not in files[0].read_text()
    cs.solve(circle, [1.0, 3.1], advisor=a)  # another prompt: another call
    assert len(stub.requests) == 2


def test_llm_reply_echoing_the_key_is_scrubbed_and_never_cached(stub, tmp_path, capsys):
    stub.behaviours = [("echo", GOOD)]
    a = llm(stub, cache_dir=tmp_path)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert stub.requests[-1]["_auth"] == f"Bearer {KEY}"  # the endpoint did get (and echo) the key
    assert r.success and r.guess_source == "llm:stub-model"  # the reply is otherwise fine: used
    assert list(tmp_path.iterdir()) == []  # but nothing on disk: not the reply, no temporary file
    out = capsys.readouterr()
    assert KEY not in repr(r) + json.dumps(r.advice, default=str) + out.out + out.err
    cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 2  # not served from a cache


@pytest.mark.parametrize("bad, why", [
    ({**GOOD, "guess": [1.0, 2.0, 3.0]}, "list of 2"),  # the guess rejected, the schedule accepted
    ({**GOOD, "start": 40.0}, "must lie in"),  # the schedule rejected, the guess accepted
    ({"dampening": "ramp"}, "empty suggestion"),  # nothing usable
])
def test_llm_reply_that_failed_validation_is_not_cached(stub, tmp_path, bad, why):
    stub.behaviours = [("ok", bad)]
    r1 = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert r1.success and why in " ".join(r1.advice["rejected"]) + r1.guess_source
    assert list(tmp_path.iterdir()) == []
    stub.behaviours = [("ok", GOOD)]  # asked again (not served the bad reply), and this one is kept
    r2 = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 2 and r2.guess_source == "llm:stub-model"
    assert len(list(tmp_path.glob("*.json"))) == 1 and not list(tmp_path.glob(".*"))
    r3 = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 2 and r3.guess_source == "llm:stub-model"


def test_llm_cached_reply_rejected_later_or_holding_the_key_is_deleted(stub, tmp_path):
    stub.behaviours = [("ok", GOOD)]
    cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    (f,) = tmp_path.glob("*.json")
    # a reply cached before validation was required (an older chemsolve): rejected now, so deleted
    f.write_text(json.dumps({"model": "stub-model", "reply": {**GOOD, "guess": [float("nan"), 1.0]}}))
    r = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 1 and "not finite" in r.guess_source  # served once, from the cache ...
    assert not f.exists()  # ... then removed
    cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 2 and f.exists()  # asked again; the good reply is cached
    f.write_text(json.dumps({"model": "stub-model", "reply": {**GOOD, "rationale": KEY}}))
    r = cs.solve(circle, [1.0, 3.0], advisor=llm(stub, cache_dir=tmp_path))
    assert len(stub.requests) == 3 and r.guess_source == "llm:stub-model"  # never served: asked again
    assert KEY not in f.read_text()


def test_llm_tuning_caches_only_valid_proposals(stub, tmp_path):
    stub.behaviours = [("ok", {"damping": "constant", "start": 9.0, "growth": 1.0, "rationale": "r"}),
                       ("ok", {"damping": "cea", "start": 1.0, "growth": 1.0, "rationale": "r"}),
                       ("ok", {"damping": "ramp", "start": 0.3, "growth": 2.0, "rationale": "r"})]
    a = llm(stub, cache_dir=tmp_path)
    a.tune(lambda f: _objective(f, STARTS), budget=3, context={"kind": "engine", "n": 2})
    notes = " ".join(str(h.get("note")) for h in a.history)
    assert "must lie in" in notes and "not used by the engine model" in notes
    cached = [json.loads(p.read_text())["reply"] for p in tmp_path.glob("*.json")]
    assert cached == [{"damping": "ramp", "start": 0.3, "growth": 2.0, "rationale": "r"}]


def test_llm_on_failure_mode_sees_the_failed_attempt(stub):
    stub.behaviours = [("ok", {"damping": "constant", "start": 0.5, "growth": 1.0, "guess": [1.0, 1.0],
                               "rationale": "r"})]
    a = llm(stub, consult="on_failure")
    r = cs.solve(oscillating_map, [5.0, 0.0], method="fixed_point", advisor=a)
    assert len(stub.requests) == 1
    prompt = stub.requests[0]["messages"][-1]["content"]
    assert "default attempt failed" in prompt and "DIVERGED" in prompt
    assert r.advice["attempts"][0]["source"] == "default"
    assert r.success and r.guess_source == "llm:stub-model"


def test_llm_iterative_tuning_spends_the_budget(stub):
    stub.behaviours = [("ok", {"damping": "ramp", "start": 0.3, "growth": 2.0, "rationale": "r"}),
                       ("text", "nonsense"),
                       ("ok", {"damping": "constant", "start": 9.0, "growth": 1.0, "rationale": "r"}),
                       ("ok", {"damping": "adaptive", "start": 0.5, "growth": 1.5, "rationale": "r"})]
    a = llm(stub)
    evals = []

    def objective(f):
        evals.append(f)
        return _objective(f, STARTS)

    best = a.tune(objective, budget=5, default={"type": "linesearch", "start": 1.0},
                  context={"kind": "engine", "n": 2})
    assert len(a.history) == 5 and len(evals) == 3  # default + 2 valid proposals; 2 recorded as invalid
    notes = [h.get("note", "") for h in a.history]
    assert "no JSON object" in " ".join(notes) and "must lie in" in " ".join(notes)
    prompt = stub.requests[-1]["messages"][-1]["content"]
    assert "linesearch" in prompt and "ramp" in prompt  # the history is in the prompt
    assert a.best_score == min(h["score"] for h in a.history)
    r = cs.solve(far, [5.0, 1.0], advisor=a, max_iter=60)
    assert r.guess_source == "llm:stub-model" and r.damping == adv.damping_from_flat(best)
    assert len(stub.requests) == 4  # no call per solve after tuning


def test_gas_and_aqueous_with_llm_stub(stub, mix, db):
    from chemsolve.aqueous import speciate

    stub.behaviours = [("ok", {"damping": "cea", "start": 1.0, "growth": 1.0, "max_change": 3.0,
                               "guess": {"T": 2100.0}, "rationale": "r"})]
    r = mix.equilibrate(300.0, 101325.0, AIR, mode="HP", advisor=llm(stub))
    assert r.success and r.guess_source == "llm:stub-model"
    sch = stub.requests[-1]["response_format"]["json_schema"]["schema"]
    assert "cea" in sch["properties"]["damping"]["enum"] and "T" in sch["properties"]["guess"]["properties"]
    stub.behaviours = [("ok", {"damping": "linesearch", "start": 1.0, "growth": 1.0,
                               "guess": {"log_a": {"Na+": -0.5, "Cl-": -0.5}, "pH": 99}, "rationale": "r"})]
    with pytest.warns(AdviceWarning, match="pH=99"):
        r = speciate(db, SEA, T=298.15, advisor=llm(stub))
    assert r.success and r.guess_source.startswith("llm:stub-model (initial_guess: pH=99")


def test_parse_json_reply():
    assert parse_json_reply('```\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_reply('blah {"a": {"b": 2}} blah') == {"a": {"b": 2}}
    with pytest.raises(LLMError):
        parse_json_reply("")
    with pytest.raises(LLMError):
        parse_json_reply("x" * 30, max_chars=10)


def test_core_never_imports_openai():
    code = ("import sys, chemsolve, chemsolve.advisors, chemsolve.aqueous; "
            "assert 'openai' not in sys.modules and 'optuna' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_llm_settings_from_the_environment(stub, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("CHEMSOLVE_LLM_MODEL", "env-model")
    stub.behaviours = [("ok", GOOD)]
    a = OpenAIAdvisor(cache_dir=False, timeout=5.0)
    r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.guess_source == "llm:env-model" and stub.requests[-1]["model"] == "env-model"
    assert stub.requests[-1]["_auth"] == f"Bearer {KEY}"
