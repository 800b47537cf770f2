"""Does a language model beat classical tuning at initial guesses and damping? The advisor study.

Generated hard instance suites (benchmarks/study/suites.py: engine, aqueous, gas, flash), drawn afresh
for every replicate; every advisor gets the same held-out instances and the same number of attempts; the
tuners the same evaluation budgets (4, 8, 16, 32). Arms: ``classical`` (defaults, warm start, retry
ladder, random search, TPE, CMA-ES, GP; on the engine suite also Adaptive and a rule-based damping
controller) and one arm per language model (one-shot, rescue with and without the failure trace, OPRO,
and on the engine suite the damping controller): ``smollm2-135m``, ``qwen2.5-coder-0.5b``,
``qwen2.5-coder-1.5b`` (local, offline, one thread each: chemsolve/advisors/local.py) and ``endpoint``
(whatever OPENAI_BASE_URL / OPENAI_API_KEY / CHEMSOLVE_LLM_MODEL name).

Run (resumable: a unit whose file exists is skipped; an interrupted unit replays its recorded replies):
    nice -n 19 python benchmarks/llm_vs_classical.py --reps 0-9
    python benchmarks/llm_vs_classical.py --report          # tables and figure from the stored units only
    python benchmarks/llm_vs_classical.py --replay --reps 0 # re-run units from their tapes, no model
    python benchmarks/llm_vs_classical.py --smoke --out DIR # seconds: engine suite, stub model (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from study import report, runner  # noqa: E402
from study import suites as S  # noqa: E402

LOCAL_ARMS = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
DEFAULT_OUT = os.path.join(HERE, "results", "study")


class Models:
    """Starts each local model once, on demand (``threads`` each), or connects to the endpoint."""

    def __init__(self, threads: int, timeout: float, stub: Any = None):
        self.threads, self.timeout, self.stub = threads, timeout, stub
        self.servers: dict[str, Any] = {}

    def live(self, arm: str) -> tuple[Any, str]:
        import openai  # noqa: PLC0415

        if arm == "stub":
            return openai.OpenAI(base_url=self.stub.base_url, api_key="none", max_retries=0), "stub"
        if arm == "endpoint":
            model = os.environ.get("CHEMSOLVE_LLM_MODEL", "default")
            return openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"],
                                 api_key=os.environ.get("OPENAI_API_KEY", "none"),
                                 timeout=self.timeout, max_retries=0), model
        if arm not in self.servers:
            from chemsolve.advisors.local import LocalModel  # noqa: PLC0415

            t = time.perf_counter()
            self.servers[arm] = LocalModel(arm, threads=self.threads)
            print(f"   started {arm} on {self.threads} thread(s) in {time.perf_counter() - t:.1f} s", flush=True)
        lm = self.servers[arm]
        return openai.OpenAI(base_url=lm.base_url, api_key="none", timeout=self.timeout, max_retries=0), lm.model

    def close(self) -> None:
        for s in self.servers.values():
            s.close()
        self.servers.clear()


def run_unit(suite: str, arm: str, rep: int, out: str, models: Models | None, replay: bool, cfg: dict) -> bool:
    path = runner.unit_path(out, suite, arm, rep)
    if os.path.isfile(path) and not replay:
        return False
    t = time.perf_counter()
    print(f"[{suite} / {arm} / rep {rep}]", flush=True)
    if arm == "classical":
        data = runner.classical_unit(suite, rep, cfg["n_tune"], cfg["n_test"], cfg["budgets"])
    else:
        from chemsolve import advisors as adv  # noqa: PLC0415

        tape_path = path[:-5] + ".llm.jsonl"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if replay:
            live, model = None, json.load(open(path)).get("model", arm) if os.path.isfile(path) else arm
        else:
            live, model = models.live(arm)
        tape = runner.Tape(tape_path, live)

        def make_llm(**kw):
            return adv.OpenAIAdvisor(model=model, base_url="http://127.0.0.1:9/v1", api_key="none", cache_dir=False,
                                     client=tape, timeout=cfg["timeout"], **kw)

        data = runner.llm_unit(suite, rep, arm, tape, make_llm, cfg["n_tune"], cfg["n_test"], cfg["budgets"])
        data["model"] = model
        data["threads"] = None if arm in ("stub", "endpoint") else cfg["threads"]
    data["config"] = {k: v for k, v in cfg.items() if k != "timeout"}
    data["wall_seconds"] = time.perf_counter() - t
    if replay:
        path = path[:-5] + ".replay.json"
    runner._write(path, data)
    print(f"   wrote {os.path.relpath(path)} ({data['wall_seconds']:.0f} s)", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default=",".join(S.SUITES))
    ap.add_argument("--arms", default="classical," + ",".join(LOCAL_ARMS),
                    help="classical, the local model keys, endpoint (OPENAI_BASE_URL)")
    ap.add_argument("--reps", default="0-9", help="replicates, e.g. 0-9 or 0,3,5")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--threads", type=int, default=1, help="threads of each local model's server")
    ap.add_argument("--timeout", type=float, default=600.0, help="per LLM request [s]")
    ap.add_argument("--report", action="store_true", help="only the tables, from the stored units")
    ap.add_argument("--replay", action="store_true", help="re-run units from their recorded replies, no model")
    ap.add_argument("--smoke", action="store_true", help="engine suite, 3+4 instances, budgets 4 and 8, stub model")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args(argv)
    cfg = {"n_tune": runner.N_TUNE, "n_test": runner.N_TEST, "budgets": runner.BUDGETS, "threads": args.threads,
           "timeout": args.timeout, "attempts": runner.ATTEMPTS, "every": runner.EVERY,
           "max_consults": runner.MAX_CONSULTS, "opro_per_step": runner.OPRO_PER_STEP}
    suites, arms, reps = args.suites.split(","), args.arms.split(","), runner.parse_reps(args.reps)
    stub = None
    if args.smoke:
        cfg.update(n_tune=3, n_test=4, budgets=(4, 8))
        suites, reps = ["engine"], reps[:1] if args.reps != "0-9" else [0]
        arms = [a for a in arms if a == "classical"] + ["stub"]
        if not args.replay:
            from llm_stub import StubLLM  # noqa: PLC0415

            stub = StubLLM()
            # a valid schedule and factor: the plumbing is exercised, not a model's judgement
            stub.behaviours = [("ok", {"damping": "adaptive", "start": 0.5, "growth": 1.5, "factor": 0.5,
                                       "rationale": "stub"})]
    if not args.report:
        models = Models(args.threads, args.timeout, stub)
        try:
            for rep in reps:  # replicate-major: whatever has run is balanced across suites and arms
                for arm in arms:
                    for suite in suites:
                        run_unit(suite, arm, rep, args.out, models, args.replay, cfg)
        finally:
            models.close()
            if stub is not None:
                stub.close()
    if not args.no_report and not args.replay:
        report.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
