"""``Mixture.flash(advisor=...)``: the advisor protocol on the flash (chemsolve.advisors.consult), as
``chemsolve.solve``, ``aqueous.speciate`` and ``GasMixture.equilibrate`` take it.

What is asserted: an accepted suggestion (K start, damping, acceleration) is used and named in
``guess_source``; a bad part is replaced by the default with the reason recorded and an ``AdviceWarning``;
the answer never depends on the advice (the certificate judges every state: advised answers equal the plain
flash's to 1e-10 in beta, the Newton polish leaving ln K converged to ~1e-11); a batch consults once and a
retry re-solves only the rows that failed. The language-model path runs the real SDK against the stub
server of tests/llm_stub.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chemsolve import advisors as adv
from chemsolve import damping as dmp
from chemsolve.advisors.base import AdviceWarning
from chemsolve.errors import ConvergenceError
from chemsolve.flash import Mixture
from chemsolve.status import Status

ALKANES = ["methane", "ethane", "propane", "n-butane", "n-pentane"]
Z5 = [0.5, 0.2, 0.15, 0.1, 0.05]
SAME = 1e-10  # beta of two converged, certified answers of one state (ln K converged to ~1e-11)


@pytest.fixture(scope="module")
def fl():
    return Mixture(ALKANES, eos="PR")


def fixed(**kw):
    return adv.FixedAdvisor(adv.Suggestion(source="llm:x", **kw))


def test_default_advisor_is_the_plain_flash(fl):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=adv.DefaultAdvisor())
    assert r.success and r.guess_source == "default" and r.beta == ref.beta and r.nit == ref.nit
    a = r.advice["attempts"]
    assert len(a) == 1 and a[0]["iterations"] == ref.nit + ref.nstab and a[0]["damping"] == {"type": "constant",
                                                                                              "alpha": 1.0}


def test_warm_start_advisor_gives_the_nearest_K(fl):
    w = adv.WarmStartAdvisor()
    fl.flash(T=250.0, P=20e5, z=Z5, advisor=w)
    assert len(w) == 1  # the converged state was stored
    plain = fl.flash(T=251.0, P=20e5, z=Z5)
    r = fl.flash(T=251.0, P=20e5, z=Z5, advisor=w)
    assert r.success and r.guess_source == "warm" and r.path == "warm"
    assert abs(r.beta - plain.beta) < SAME
    assert r.nit + r.nstab < plain.nit + plain.nstab  # no stability analysis, fewer iterations


def test_accepted_schedule_and_acceleration_are_used(fl):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=fixed(damping=dmp.Ramp(0.3, 2.0, 1.0),
                                                      options={"acceleration": "gdem", "max_ss": 40}))
    assert r.success and r.guess_source == "llm:x" and abs(r.beta - ref.beta) < SAME
    a = r.advice["attempts"][0]
    assert a["damping"] == dmp.Ramp(0.3, 2.0, 1.0).to_dict() and a["acceleration"]["type"] == "gdem"
    # the flat form an LLM writes, and an acceleration as a mapping
    r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=fixed(damping={"type": "adaptive", "start": 0.5, "growth": 1.5},
                                                      options={"acceleration": {"type": "anderson", "m": 2}}))
    assert r.success and r.advice["attempts"][0]["acceleration"] == {"type": "anderson", "m": 2, "reg": 1e-10}


@pytest.mark.parametrize("sug, why", [
    (dict(initial_guess={"K": [1.0, 2.0]}), "list of 5 numbers"),
    (dict(initial_guess={"K": [2.0, 1.0, 0.5, -0.1, 0.05]}), "K[n-butane]=-0.1 is outside"),
    (dict(initial_guess={"K": [2.0, float("nan"), 0.5, 0.1, 0.05]}), "not finite"),
    (dict(initial_guess={"K": [2.0, "x", 0.5, 0.1, 0.05]}), "is not a number"),
    (dict(initial_guess={"x": [1, 2]}), "unknown guess key"),
    (dict(initial_guess={}), "empty guess"),
    (dict(initial_guess={"T": 260.0}), "does not solve T"),
    (dict(damping="linesearch"), "LineSearch has no meaning"),
    (dict(damping={"type": "constant", "alpha": 3.0}), "must lie in"),
    (dict(options={"tol": 1e-3}), "never a tolerance"),
    (dict(options={"acceleration": "magic"}), "expected one of"),
    (dict(options={"max_ss": -1}), "max_ss"),
    (dict(options={"newton_switch": True}), "not a number"),
])
def test_bad_suggestions_fall_back_with_the_reason(fl, sug, why):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    with pytest.warns(AdviceWarning, match="rejected"):
        r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=fixed(**sug))
    assert r.success and why in r.guess_source and r.guess_source.startswith("default (llm:x rejected")
    assert any(why in s for s in r.advice["rejected"])
    assert r.beta == ref.beta and r.nit == ref.nit  # exactly the default solve


def test_partly_bad_suggestion_keeps_the_good_part(fl):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    with pytest.warns(AdviceWarning):
        r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=fixed(initial_guess={"K": list(ref.K)},
                                                          damping="linesearch"))
    assert r.success and r.path == "warm" and r.guess_source.startswith("llm:x (damping:")
    assert abs(r.beta - ref.beta) < SAME


def test_T_and_P_guesses_of_the_flashes_that_solve_them(fl):
    ref = fl.flash(P=20e5, VF=0.5, z=Z5)
    r = fl.flash(P=20e5, VF=0.5, z=Z5, advisor=fixed(initial_guess={"T": 255.0}))
    assert r.success and r.guess_source == "llm:x" and abs(r.T - ref.T) < 1e-8 * ref.T
    with pytest.warns(AdviceWarning, match="outside"):
        r = fl.flash(P=20e5, VF=0.5, z=Z5, advisor=fixed(initial_guess={"T": 1e6}))  # outside T_bounds
    assert r.success and abs(r.T - ref.T) < 1e-8 * ref.T
    ref = fl.flash(T=250.0, VF=0.5, z=Z5)
    r = fl.flash(T=250.0, VF=0.5, z=Z5, advisor=fixed(initial_guess={"P": 19e5, "K": list(ref.K)}))
    assert r.success and r.guess_source == "llm:x" and abs(r.P - ref.P) < 1e-8 * ref.P
    with pytest.warns(AdviceWarning, match="does not solve P"):
        fl.flash(T=250.0, P=20e5, z=Z5, advisor=fixed(initial_guess={"P": 19e5}))


def test_callers_K0_is_kept(fl):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    with pytest.warns(AdviceWarning, match="caller's K0"):
        r = fl.flash(T=250.0, P=20e5, z=Z5, K0=ref.K, advisor=fixed(initial_guess={"K": [9.0] * 5}))
    assert r.success and r.path == "warm" and abs(r.beta - ref.beta) < SAME


def test_an_advisor_that_raises_never_crashes_a_flash(fl):
    class Broken(adv.Advisor):
        name = "broken"

        def suggest(self, summary, attempt=None):
            raise RuntimeError("boom")

    with pytest.warns(AdviceWarning, match="boom"):
        r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=Broken())
    assert r.success and r.guess_source == "default"


def test_summary_is_json_and_names_the_problem(fl):
    import json

    seen = []

    class Spy(adv.Advisor):
        def suggest(self, summary, attempt=None):
            seen.append(summary)

    fl.flash(T=[250.0, 260.0], P=20e5, z=Z5, advisor=Spy())
    s = seen[0]
    json.dumps(s)
    assert s["kind"] == "flash" and s["spec"] == "TP" and s["eos"] == "PR" and s["components"] == ALKANES
    assert s["T"] == 250.0 and s["P"] == 20e5 and s["batch_size"] == 2 and len(s["features"]) == 2 + 5
    assert len(seen) == 1  # a batch is one problem


def test_a_failed_advised_attempt_ends_in_the_default(fl):
    """Advice that fails (here: substitution only and 3 iterations' worth of a tiny step) is followed by the
    model's default; the answer is the default's."""
    ref = fl.flash(T=250.0, P=20e5, z=Z5, stability=False)
    r = fl.flash(T=250.0, P=20e5, z=Z5, stability=False, max_iter=12,
                 advisor=fixed(damping=dmp.Constant(0.01), options={"newton_switch": 0.0, "max_ss": 100}))
    att = r.advice["attempts"]
    assert [a["status"] for a in att] == ["MAX_ITER", "CONVERGED"] and r.success
    assert r.guess_source.startswith("default (after llm:x failed: MAX_ITER")
    assert abs(r.beta - ref.beta) < SAME


# states of the five alkanes from far below to near the critical point (326.5 K, 101.5 bar): with
# substitution only, no stability analysis and 10 iterations, the default fails on most of them
T_ROWS = np.array([200.0, 220.0, 240.0, 260.0, 280.0, 300.0, 310.0, 318.0, 322.0, 325.0])
HARD = dict(max_iter=10, newton_switch=0.0, stability=False)


def test_retry_ladder_re_solves_only_the_failed_rows(fl):
    calls = []

    class Counting(adv.RetryLadder):
        def suggest(self, summary, attempt=None):
            calls.append(summary["batch_size"])
            return super().suggest(summary, attempt)

    easy = fl.flash(T=T_ROWS, P=20e5, z=Z5, advisor=Counting())
    assert easy.success.all() and calls == []  # the default converged: the ladder is never asked
    first = fl.flash(T=T_ROWS, P=60e5, z=Z5, **HARD)
    ok = first.success
    assert ok.any() and not ok.all()
    b = fl.flash(T=T_ROWS, P=60e5, z=Z5, advisor=Counting(), **HARD)
    assert calls and set(calls) == {10}
    assert b.success.all() and b.certificate.passed.all()
    np.testing.assert_array_equal(b.beta[ok], first.beta[ok])  # the rows that converged were not touched
    np.testing.assert_array_equal(b.nit[ok], first.nit[ok])
    full = fl.flash(T=T_ROWS, P=60e5, z=Z5, stability=False)
    np.testing.assert_allclose(b.beta, full.beta, rtol=0, atol=SAME)
    np.testing.assert_array_equal(b.phases, full.phases)
    assert b.advice["total_iterations"] == int(b.nit.sum() + b.nstab.sum())
    assert [s == "default" for s in b.advice["row_source"]] == ok.tolist()
    assert "default x" in b.guess_source and "heuristic x" in b.guess_source
    assert b.advice["attempts"][-1]["status"] == "CONVERGED"
    for i in range(len(b)):  # each row's certificate belongs to its own answer
        assert b.row(i).certificate.passed


def test_throw_with_an_advisor(fl):
    with pytest.raises(ConvergenceError) as e:
        fl.flash(T=T_ROWS, P=60e5, z=Z5, advisor=adv.DefaultAdvisor(), throw=True, **HARD)
    assert e.value.batch.guess_source == "default" and e.value.result.status == Status.MAX_ITER


def test_tuners_drive_the_flash_through_the_protocol(fl):
    """A tuner spends its budget on a set of states (the objective runs Mixture.flash with each schedule) and
    then advises its best schedule, whose answers equal the default's."""
    states = [(240.0, 20e5), (260.0, 30e5), (300.0, 60e5)]

    def objective(flat):
        recs = []
        for T, P in states:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AdviceWarning)
                r = fl.flash(T=T, P=P, z=Z5, advisor=adv.FixedAdvisor(adv.Suggestion(damping=flat), name="trial"))
            recs.append(r.advice["attempts"][0])
        return adv.classical.instance_score(recs)

    t = adv.RandomSearchTuner(types=("constant", "ramp", "adaptive"), budget=6, seed=3)
    t.tune(objective, default={"type": "constant", "start": 1.0})
    assert len(t.history) == 6 and t.best_score <= t.history[0]["score"]
    for T, P in states:
        r = fl.flash(T=T, P=P, z=Z5, advisor=t)
        assert r.success and r.guess_source == "random"
        assert abs(r.beta - fl.flash(T=T, P=P, z=Z5).beta) < SAME


# -- the language-model advisor, against the stub server ------------------------------------------------

@pytest.fixture
def stub():
    pytest.importorskip("openai")
    from llm_stub import StubLLM

    s = StubLLM()
    yield s
    s.close()


def llm(stub, **kw):
    from chemsolve.advisors.llm import OpenAIAdvisor

    return OpenAIAdvisor(model="stub-model", base_url=stub.base_url, api_key="sk-test-0123456789abcdef",
                         timeout=5.0, max_retries=1, backoff=0.01, cache_dir=False, **kw)


def test_llm_advice_on_a_flash(stub, fl):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    stub.behaviours = [("ok", {"damping": "ramp", "start": 0.5, "growth": 2.0,
                               "guess": {"K": [float(v) for v in ref.K * 1.1]}, "rationale": "near the answer"})]
    r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=llm(stub))
    assert r.success and r.guess_source == "llm:stub-model" and r.path == "warm"
    assert abs(r.beta - ref.beta) < SAME
    assert r.advice["attempts"][0]["damping"] == dmp.Ramp(0.5, 2.0, 1.0).to_dict()
    schema = stub.requests[-1]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["damping"]["enum"] == ["constant", "ramp", "adaptive"]
    k = schema["properties"]["guess"]["properties"]["K"]
    assert k["minItems"] == k["maxItems"] == 5
    prompt = stub.requests[-1]["messages"][1]["content"]
    assert '"kind":"flash"' in prompt and "K-values" in prompt


@pytest.mark.parametrize("reply, why", [
    ({"damping": "ramp", "start": 0.5, "growth": 2.0, "guess": {"K": [1.0, -2.0, 1.0, 1.0, 1.0]},
      "rationale": "r"}, "outside"),
    ({"damping": "linesearch", "start": 1.0, "growth": 1.0, "guess": {"K": [3.0, 1.0, 0.3, 0.1, 0.03]},
      "rationale": "r"}, "LineSearch"),
    ({"dampening": "ramp"}, "empty suggestion"),
])
def test_llm_bad_advice_on_a_flash_falls_back(stub, fl, reply, why):
    ref = fl.flash(T=250.0, P=20e5, z=Z5)
    stub.behaviours = [("ok", reply)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = fl.flash(T=250.0, P=20e5, z=Z5, advisor=llm(stub))
    # a rejected part warns; a reply with nothing usable is recorded as an empty suggestion (as in every model)
    assert any(issubclass(w.category, AdviceWarning) for w in caught) == (why != "empty suggestion")
    assert r.success and why in r.guess_source and abs(r.beta - ref.beta) < SAME


def test_llm_rescue_after_a_failed_flash(stub, fl):
    """consult="on_failure": the default fails first (substitution only, 10 iterations), then the model is
    shown that attempt, and its K start (here the converged answer's, as a stand-in for a good guess)
    rescues the state."""
    ref = fl.flash(T=280.0, P=60e5, z=Z5)
    assert ref.phases == 2
    stub.behaviours = [("ok", {"damping": "constant", "start": 1.0, "growth": 1.0,
                               "guess": {"K": [float(v) for v in ref.K]}, "rationale": "r"})]
    r = fl.flash(T=280.0, P=60e5, z=Z5, advisor=llm(stub, consult="on_failure"), **HARD)
    att = r.advice["attempts"]
    assert [a["status"] for a in att] == ["MAX_ITER", "CONVERGED"] and att[0]["source"] == "default"
    assert "The default attempt failed" in stub.requests[-1]["messages"][1]["content"]
    assert r.success and r.guess_source == "llm:stub-model" and r.path == "warm"
    assert abs(r.beta - ref.beta) < SAME
