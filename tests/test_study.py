"""The advisor study (benchmarks/llm_vs_classical.py, benchmarks/study/): its smoke configuration runs,
replays from its tapes without a model and reproduces every record; the statistics, the new tuners, the
damping controller's validation of model text and the contamination check do what they claim; and the
docs page and README state exactly what the stored results say."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
RESULTS = os.path.join(ROOT, "benchmarks", "results", "study")


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "llm_vs_classical.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_smoke_runs_then_replays_without_the_model(tmp_path):
    for mod in ("optuna", "cmaes", "openai", "matplotlib", "scipy"):
        pytest.importorskip(mod)
    out = _run("--smoke", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    unit = tmp_path / "units" / "engine" / "stub" / "rep00.json"
    tape = tmp_path / "units" / "engine" / "stub" / "rep00.llm.jsonl"
    assert unit.is_file() and tape.is_file() and (tmp_path / "units" / "engine" / "classical" / "rep00.json").is_file()
    data = json.loads(unit.read_text())
    calls = sum(a["calls"] for a in data["llm"].values())
    assert calls == len(tape.read_text().splitlines()) > 0  # every exchange is on the tape
    for adv in ("LLM one-shot", "LLM rescue (trace)", "LLM rescue (no trace)", "LLM OPRO@4", "LLM OPRO@8",
                "LLM damping controller"):
        assert len(data["rows"][adv]["records"]) == 4, adv
    # equal attempts: no advisor used more than two on any instance
    classical = json.loads((tmp_path / "units" / "engine" / "classical" / "rep00.json").read_text())
    for u in (data, classical):
        for adv, row in u["rows"].items():
            assert all(r["attempts"] <= 2 for r in row.get("records", [])), adv
    # the OPRO tuning spent exactly its budget of evaluations, the first on the default schedule
    hist = data["rows"]["LLM OPRO@curve"]["history"]
    assert len(hist) == 8 and hist[0]["note"] == "default"
    # replay: no model at all (the stub is not started), the same records
    rp = _run("--smoke", "--replay", "--out", str(tmp_path))
    assert rp.returncode == 0, rp.stderr[-3000:]
    again = json.loads((tmp_path / "units" / "engine" / "stub" / "rep00.replay.json").read_text())
    assert again["replayed_calls"] == calls
    for adv, row in data["rows"].items():
        if "records" in row:
            key = [(r["converged"], r["iterations"], r["statuses"]) for r in row["records"]]
            assert key == [(r["converged"], r["iterations"], r["statuses"]) for r in again["rows"][adv]["records"]], adv
    assert (tmp_path / "study.md").is_file() and "Verdict" in (tmp_path / "study.md").read_text()


def test_tape_refuses_a_request_it_never_recorded(tmp_path):
    from study.runner import Tape

    t = Tape(str(tmp_path / "t.jsonl"), live=None)
    with pytest.raises(RuntimeError, match="no recorded reply"):
        t.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_holm_bootstrap_and_wilcoxon():
    from scipy.stats import wilcoxon
    from study import stats

    # Holm (1979) by hand: sorted 0.01, 0.03, 0.04, 0.5 -> 4*0.01, max(.04, 3*.03), max(.09, 2*.04), max(.09, .5)
    assert stats.holm([0.01, 0.04, 0.03, math.nan, 0.5]) == pytest.approx([0.04, 0.09, 0.09, math.nan, 0.5],
                                                                        nan_ok=True)
    m, lo, hi = stats.cluster_bootstrap([[1, 0, 0], [0, 1], [0, 0, 0, 1]], n_boot=4000)
    assert m == pytest.approx(3 / 9) and lo <= m <= hi and lo < hi
    assert math.isnan(stats.cluster_bootstrap([[1, 0]])[1])  # one replicate: no interval is claimed
    d = [0.1, 0.25, -0.05, 0.3, 0.2, 0.15]
    assert stats.wilcoxon_p(d) == pytest.approx(wilcoxon(d, zero_method="zsplit").pvalue)
    assert stats.wilcoxon_p([0.0, 0.0, 0.0]) == 1.0


@pytest.mark.parametrize("name", ["CMAESTuner", "GPTuner"])
def test_new_tuners_start_at_the_default_and_improve_on_it(name):
    pytest.importorskip("cmaes")
    from chemsolve import advisors as adv

    def obj(f):  # a smooth toy landscape: best at adaptive, start 0.3, growth 1.5
        pen = {"adaptive": 0, "ramp": 1, "constant": 3, "linesearch": 2}[f["type"]]
        return (10 + 5 * pen + 20 * (math.log(f.get("start", 1)) - math.log(0.3)) ** 2
                + 4 * (f.get("growth", 2) - 1.5) ** 2)

    default = {"type": "linesearch", "start": 1.0}
    t = getattr(adv, name)(budget=24, seed=3)
    t.tune(obj, default=default)
    assert len(t.history) == 24 and t.history[0]["schedule"] == default
    assert t.best_score < obj(default) - 5.0  # a real improvement, not a tie with the default
    assert all(s["schedule"]["type"] in t.types for s in t.history)


def test_damping_controller_takes_numbers_only(monkeypatch):
    """Model text is data: a reply that is not a number in [1e-3, 1] is rejected with its reason and the
    factor kept; nothing in it is evaluated."""
    pytest.importorskip("openai")
    import problems as P
    from llm_stub import StubLLM

    from chemsolve import advisors as adv
    from chemsolve.advisors.control import LLMDampingController, RuleController, controlled_solve

    p = P.get("powell_singular")  # about 20 iterations from 10 x0: room for three consultations
    stub = StubLLM()
    try:
        stub.behaviours = [("ok", {"factor": "__import__('os').system('false')", "rationale": "x"}),
                           ("ok", {"factor": 7.0, "rationale": "x"}), ("ok", {"factor": 0.25, "rationale": "x"})]
        a = adv.OpenAIAdvisor(model="stub", base_url=stub.base_url, api_key="none", cache_dir=False)
        r = controlled_solve(p.fun.py_func, 10 * np.asarray(p.x0), LLMDampingController(a), jac=p.jac.py_func,
                             every=2, max_iter=200, max_consults=3, jit=False)
    finally:
        stub.close()
    rej = r.advice["rejected"]
    assert "is not a number" in rej[0] and "outside [0.001, 1]" in rej[1]
    assert r.advice["factors"][:4] == [1.0, 1.0, 1.0, 0.25] and r.advice["consultations"] == 3
    assert r.nit == r.advice["total_iterations"] == len(r.history.residual_norm) - 1
    if r.success:
        assert r.certificate is not None and r.certificate.passed
    # the rule controller with the same interval: halves after a segment that raised max|F|
    state = {"segment_trace": [1.0, 2.0], "factor": 0.5}
    assert RuleController().factor(state) == 0.25
    assert RuleController().factor({"segment_trace": [1.0, 0.01], "factor": 0.5}) == 1.0


def test_engine_suite_hides_the_textbook_root():
    import problems as P
    from study import suites as S

    for x in S.engine_instances(rep=5, n=6):
        p = P.get(x.features["problem"])
        tb = x.textbook
        y = np.array(tb["root"])
        # the true root in the solver's variables solves the instance; the textbook root does not
        assert np.max(np.abs(x.run.__defaults__[2](y))) < 1e-8 * max(1.0, np.max(np.abs(p.fun.py_func(p.x0))))
        assert np.max(np.abs(np.array(tb["textbook_root"]) - y)) > 1e-3
    a = [x.name for x in S.engine_instances(rep=1, n=4)]
    assert a == [x.name for x in S.engine_instances(rep=1, n=4)] != [x.name for x in S.engine_instances(rep=2, n=4)]


def test_contamination_check_flags_a_recited_root(tmp_path):
    from study import report

    unit = {"suite": "engine", "arm": "smollm2-135m", "rep": 0,
            "instances": [{"name": "a", "textbook": {"textbook_root": [1.0, 1.0], "textbook_x0": [-1.2, 1.0],
                                                     "root": [3.5, -2.0]}},
                          {"name": "b", "textbook": {"textbook_root": [1.0, 1.0], "textbook_x0": [-1.2, 1.0],
                                                     "root": [0.2, 4.0]}}],
            "rows": {"LLM one-shot": {"records": [
                {"name": "a", "converged": True, "iterations": 3,
                 "suggestions": [{"initial_guess": {"x": [1.0, 1.0]}}]},
                {"name": "b", "converged": True, "iterations": 3,
                 "suggestions": [{"initial_guess": {"x": [0.2, 4.0]}}]}]}}}
    d = tmp_path / "units" / "engine" / "smollm2-135m"
    d.mkdir(parents=True)
    (d / "rep00.json").write_text(json.dumps(unit))
    c = report.contamination(report.Index(report.load(str(tmp_path))))
    assert c == [{"arm": "smollm2-135m", "guesses": 2, "recited": 1, "near_true_root": 1}]


def test_local_models_are_pinned_by_hash():
    from chemsolve.advisors import local

    assert set(local.MODELS) == {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    for s in local.MODELS.values():
        assert len(s.sha256) == 64 and int(s.sha256, 16) >= 0 and s.nbytes > 0
        req = open(os.path.join(ROOT, s.requirements)).read()
        for pkg in s.packages:
            line = [ln for ln in req.splitlines() if ln.startswith(pkg.replace("_", "-") + "==")]
            assert len(line) == 1 and "--hash=sha256:" in line[0], pkg
    with pytest.raises(Exception, match="unknown local model"):
        local.local_model_path(model="gpt-5")


def test_docs_and_readme_state_the_stored_results():
    """The README's verdict line and the docs' results block are what the stored units say, no more."""
    from study import report

    _, block, line = report.render(RESULTS)
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    docs = open(os.path.join(ROOT, "docs", "guide", "advisors.md"), encoding="utf-8").read()
    assert f"{report.README_BEGIN}\n{line}\n{report.README_END}" in readme
    i, j = docs.index(report.DOC_BEGIN), docs.index(report.DOC_END)
    assert block in docs[i:j]
