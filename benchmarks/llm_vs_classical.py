"""Does a language model beat classical tuning at suggesting initial guesses and damping schedules?

Three suites of hard instances, each split at random (per seed) into tuning and held-out halves:

- engine: the nonlinear suite (tests/problems.py: 8 MGH problems, Chandrasekhar H, propane) from
  x0, 10 x0 and 100 x0 — the far starts are where damped Newton fails or crawls; split by problem
  (all three starts of a problem on one side), so no held-out system was solved during tuning;
- gas: very rich (phi 2-4) CH4 / C2H2 / C3H8 with air or O2 on gri30 + graphite, TP at 300-700 K
  and 0.01-100 atm (carbon formation, trace-dominated gas), and HP from 300 K;
- aqueous: brines to 5 mol/kg NaCl with Ca, Mg, carbonate and sulfate at pH 1-2 and 12-13 (fixed) or
  at charge balance, 25-90 C (phreeqc.dat).

Advisors, with the same evaluation budget B (one evaluation = the tuning half solved once with a
schedule; every tuner's first evaluation is the model's default schedule):
defaults; warm start (nearest solved tuning instance of the same system and components, one
evaluation; the store is frozen before the held-out half); retry ladder (no tuning);
random search and TPE (Optuna) over schedule type and parameters (B evaluations); LLM one-shot
(one call per held-out instance: guess + schedule from the problem summary); LLM iterative
(OPRO-style: B evaluations, the model sees every (schedule, score) so far).

Reported per suite and advisor, over seeds, on the held-out instances: success rate, iterations
(all attempts counted; mean over the instances solved by every advisor, and mean with 1000 per
failure), solver time, advisor time (tuning + LLM latency), LLM calls and tokens. A Markdown table
and a PNG; ``--json`` keeps the raw numbers.

Run (starts the local model of ../shared/LLM_LOCAL.md, Qwen2.5-Coder-0.5B, on 127.0.0.1):
    python benchmarks/llm_vs_classical.py [--seeds 3] [--budget 12] [--out benchmarks/results]
Any other OpenAI-compatible endpoint:
    OPENAI_BASE_URL=https://host/v1 OPENAI_API_KEY=... CHEMSOLVE_LLM_MODEL=name python benchmarks/...
``--no-llm`` runs the classical advisors only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import chemsolve as cs  # noqa: E402
from chemsolve import advisors as adv  # noqa: E402
from chemsolve.advisors.classical import instance_score  # noqa: E402

PENALTY = 1000.0


@dataclass
class Instance:
    name: str
    solve: Callable[..., Any]  # solve(advisor=None, damping=None) -> result
    group: str = ""  # instances of one group (the same system from other starts) stay on one side of the split


def _record(r: Any) -> dict[str, Any]:
    """(converged, iterations over all attempts, advisor seconds) of any model's result."""
    ok = bool(np.all(r.success))
    it = getattr(r, "nit", None)
    if it is None:
        it = int(np.sum(r.nit))
    if r.advice is not None:
        it = r.advice.get("total_iterations", it)
        extra = r.advice.get("advisor_seconds", 0.0)
    else:
        extra = 0.0
    return {"converged": ok, "iterations": int(it), "advisor_seconds": extra}


# -- suites ---------------------------------------------------------------------------------------

def engine_suite() -> tuple[list[Instance], dict[str, Any], dict[str, Any]]:
    import problems as P  # noqa: PLC0415

    out = []
    for p in P.PROBLEMS:
        for k in (1.0, 10.0, 100.0):
            x0 = np.asarray(p.x0, dtype=float) * k
            if k != 1.0 and not np.any(x0):
                continue

            def run(advisor=None, damping=None, p=p, x0=x0):
                return cs.solve(p.fun, x0, jac=p.jac, damping=damping, advisor=advisor, jit=False, max_iter=200)

            out.append(Instance(f"{p.name} x{k:g}", run, group=p.name))
    ctx = {"kind": "engine", "n": "2-10", "what": "MGH test problems, Chandrasekhar H, propane combustion; "
                                                  "starts 1, 10 and 100 times the standard x0"}
    return out, ctx, {"type": "linesearch", "start": 1.0}


def gas_suite(seed: int = 7) -> tuple[list[Instance], dict[str, Any], dict[str, Any]]:
    from gas_cases import feed  # noqa: PLC0415

    from chemsolve.gas import GasMixture  # noqa: PLC0415

    mix = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"])
    rng = np.random.default_rng(seed)
    out = []
    for i in range(24):
        fuel = str(rng.choice(["CH4", "C2H2", "C3H8"]))
        ox = str(rng.choice(["air", "O2"]))
        phi = float(rng.uniform(2.0, 4.0))
        hp = i % 3 == 2
        T = 300.0 if hp else float(rng.uniform(300.0, 700.0))
        P = 101325.0 * 10 ** float(rng.uniform(-2, 2))
        X = feed(fuel, ox, phi)
        mode = "HP" if hp else "TP"

        def run(advisor=None, damping=None, X=X, T=T, P=P, mode=mode):
            return mix.equilibrate(T, P, X, mode=mode, damping=damping, advisor=advisor)

        out.append(Instance(f"{fuel}-{ox} phi={phi:.2f} {mode} {T:.0f}K {P / 101325:.3g}atm", run))
    ctx = {"kind": "gas", "mode": "TP and HP", "what": "very rich C/H/O/N (phi 2-4) at 300-700 K with graphite; "
                                                       "Gibbs minimisation in element potentials"}
    return out, ctx, {"type": "cea", "max_change": 2.0}


def aqueous_suite(seed: int = 11) -> tuple[list[Instance], dict[str, Any], dict[str, Any]]:
    from chemsolve.aqueous import load_database, speciate  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        db = load_database("phreeqc.dat")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(20):
        nacl = float(10 ** rng.uniform(-1, math.log10(5.0)))
        tot = {"Na": nacl, "Cl": nacl, "Ca": float(10 ** rng.uniform(-3, -1)), "Mg": float(10 ** rng.uniform(-3, -1)),
               "C(4)": float(10 ** rng.uniform(-4, -2)), "S(6)": float(10 ** rng.uniform(-4, -1.5))}
        pH = None if i % 4 == 3 else float(rng.choice([rng.uniform(1.0, 2.0), rng.uniform(12.0, 13.0)]))
        T = float(rng.uniform(298.15, 363.15))

        def run(advisor=None, damping=None, tot=tot, pH=pH, T=T):
            return speciate(db, tot, T=T, pH=pH, damping=damping, advisor=advisor)

        out.append(Instance(f"NaCl {nacl:.2f} m, pH {'balance' if pH is None else f'{pH:.1f}'}, {T - 273.15:.0f} C",
                            run))
    ctx = {"kind": "aqueous", "what": "brines 0.1-5 mol/kg NaCl + Ca, Mg, C(4), S(6), pH 1-2 / 12-13 or charge "
                                      "balance, 25-90 C; Newton on log10 activities of master species"}
    return out, ctx, {"type": "linesearch", "start": 1.0}


# -- one run --------------------------------------------------------------------------------------

def evaluate(inst: list[Instance], advisor: Any) -> dict[str, Any]:
    recs, t_solver = [], 0.0
    for x in inst:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            r = x.solve(advisor=advisor)
            dt = time.perf_counter() - t
        rec = _record(r)
        t_solver += dt - rec["advisor_seconds"]
        recs.append({**rec, "name": x.name, "source": getattr(r, "guess_source", "default")})
    return {"records": recs, "solver_seconds": t_solver}


def objective_for(tuning: list[Instance]) -> Callable[[dict[str, Any]], float]:
    def obj(flat: dict[str, Any]) -> float:
        try:
            sched = adv.damping_from_flat(flat)
        except cs.ChemsolveError:
            return math.inf
        recs = []
        for x in tuning:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                recs.append(_record(x.solve(damping=sched)))
        return instance_score(recs, PENALTY)

    return obj


def run_suite(name, suite, seeds, budget, llm_factory) -> list[dict[str, Any]]:
    inst, ctx, default = suite
    rows = []
    evaluate(inst, None)  # warm-up: kernels loaded, residuals compiled, before anything is timed
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        groups = list(dict.fromkeys(x.group or x.name for x in inst))
        gorder = [groups[i] for i in rng.permutation(len(groups))]
        tune_groups = set(gorder[: len(groups) // 2])
        tuning = [x for x in inst if (x.group or x.name) in tune_groups]
        held = [x for x in inst if (x.group or x.name) not in tune_groups]
        obj = objective_for(tuning)
        types = ("constant", "ramp", "adaptive", "linesearch") + (("cea",) if ctx["kind"] == "gas" else ())

        def row(label, advisor, tune_seconds=0.0, llm=None, evals=0):
            t = time.perf_counter()
            ev = evaluate(held, advisor)
            print(f"   {label:<22} {sum(x['converged'] for x in ev['records'])}/{len(held)} solved, "
                  f"{np.mean([x['iterations'] for x in ev['records']]):.1f} it, "
                  f"tuning {tune_seconds:.1f} s + held-out {time.perf_counter() - t:.1f} s", flush=True)
            adv_s = tune_seconds + sum(r["advisor_seconds"] for r in ev["records"])
            return {"suite": name, "seed": seed, "advisor": label, "records": ev["records"],
                    "solver_seconds": ev["solver_seconds"], "advisor_seconds": adv_s, "evaluations": evals,
                    "llm_calls": (llm.usage["calls"] if llm else 0),
                    "tokens": (llm.usage["prompt_tokens"] + llm.usage["completion_tokens"] if llm else 0)}

        print(f"[{name} seed {seed}] {len(tuning)} tuning / {len(held)} held-out", flush=True)
        rows.append(row("defaults", adv.DefaultAdvisor()))
        w = adv.WarmStartAdvisor()
        t = time.perf_counter()
        for x in tuning:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x.solve(advisor=w)  # observe() keeps the converged ones
        w.learn = False  # held-out instances see only the tuning half's solutions, in any order
        rows.append(row("warm start", w, time.perf_counter() - t, evals=1))
        rows.append(row("retry ladder", adv.RetryLadder()))
        for cls in (adv.RandomSearchTuner, adv.TPETuner):
            tuner = cls(types=types, budget=budget, seed=seed)
            tuner.tune(obj, default=default)
            rows.append(row({"random": "random search", "tpe": "TPE (Optuna)"}[tuner.name], tuner, tuner.tune_seconds,
                            evals=budget))
            rows[-1]["schedule"] = tuner.best
        if llm_factory is not None:
            one = llm_factory(temperature=0.0, seed=seed)
            rows.append(row("LLM one-shot", one, llm=one, evals=0))
            it = llm_factory(temperature=0.7, seed=seed)
            it.tune(obj, budget=budget, default=default, context=ctx)
            rows.append(row("LLM iterative (OPRO)", it, it.tune_seconds, llm=it, evals=budget))
            rows[-1]["schedule"] = it.best
            rows[-1]["invalid_proposals"] = sum(1 for h in it.history if not math.isfinite(h["score"]))
    return rows


# -- report ---------------------------------------------------------------------------------------

ORDER = ["defaults", "warm start", "retry ladder", "random search", "TPE (Optuna)", "LLM one-shot", "LLM iterative (OPRO)"]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        srows = [r for r in rows if r["suite"] == suite]
        # instances solved by every advisor in the same seed: iterations compared on equal terms
        common: dict[int, set] = {}
        for r in srows:
            ok = {x["name"] for x in r["records"] if x["converged"]}
            common[r["seed"]] = ok if r["seed"] not in common else common[r["seed"]] & ok
        for label in [a for a in ORDER if any(r["advisor"] == a for r in srows)]:
            rr = [r for r in srows if r["advisor"] == label]
            succ = [np.mean([x["converged"] for x in r["records"]]) for r in rr]
            it_common = [x["iterations"] for r in rr for x in r["records"] if x["name"] in common[r["seed"]]]
            pen = [np.mean([x["iterations"] if x["converged"] else PENALTY for x in r["records"]]) for r in rr]
            out.append({
                "suite": suite, "advisor": label, "seeds": len(rr), "held_out": len(rr[0]["records"]),
                "success": float(np.mean(succ)), "success_min": float(np.min(succ)), "success_max": float(np.max(succ)),
                "iter_common": float(np.mean(it_common)) if it_common else float("nan"),
                "score": float(np.mean(pen)),
                "solver_ms": 1e3 * float(np.mean([r["solver_seconds"] for r in rr])),
                "advisor_s": float(np.mean([r["advisor_seconds"] for r in rr])),
                "evaluations": int(np.mean([r["evaluations"] for r in rr])),
                "llm_calls": float(np.mean([r["llm_calls"] for r in rr])),
                "tokens": float(np.mean([r["tokens"] for r in rr])),
            })
    return out


def markdown(summary: list[dict[str, Any]]) -> str:
    lines = ["| suite | advisor | solved (held-out, mean [min-max] over seeds) | iterations* | score** | "
             "solver time | advisor time | tuning evaluations | LLM calls | tokens |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        lines.append(
            f"| {s['suite']} | {s['advisor']} | {100 * s['success']:.0f} % [{100 * s['success_min']:.0f}-"
            f"{100 * s['success_max']:.0f}] of {s['held_out']} | {s['iter_common']:.1f} | {s['score']:.1f} | "
            f"{s['solver_ms']:.0f} ms | {s['advisor_s']:.2f} s | {s['evaluations']} | {s['llm_calls']:.0f} | "
            f"{s['tokens']:.0f} |")
    lines.append("")
    lines.append("\\* mean iterations (all attempts) over the held-out instances that every advisor solved in that "
                 "seed. \\*\\* mean iterations with 1000 for each failure (the tuners' objective). Times per seed, "
                 "for all held-out instances; advisor time = tuning + advisor calls (LLM latency included).")
    return "\n".join(lines)


def plot(summary: list[dict[str, Any]], path: str) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    suites = list(dict.fromkeys(s["suite"] for s in summary))
    labels = [a for a in ORDER if any(s["advisor"] == a for s in summary)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    w = 0.8 / len(labels)
    for k, (key, title, scale) in enumerate((("success", "held-out instances solved [%]", 100.0),
                                              ("iter_common", "iterations (instances all solved)", 1.0),
                                              ("advisor_s", "advisor time per seed [s] (log)", 1.0))):
        ax = axes[k]
        for j, lab in enumerate(labels):
            vals = [next((s[key] * scale for s in summary if s["suite"] == su and s["advisor"] == lab), np.nan)
                    for su in suites]
            if key == "advisor_s":
                vals = [max(v, 1e-4) for v in vals]
            ax.bar(np.arange(len(suites)) + (j - len(labels) / 2 + 0.5) * w, vals, w, label=lab)
        ax.set_xticks(np.arange(len(suites)), suites)
        ax.set_title(title, fontsize=10)
        if key == "advisor_s":
            ax.set_yscale("log")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("chemsolve advisors: classical tuning vs a language model (held-out instances, equal budgets)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=12, help="evaluations per tuner (the first is the default)")
    ap.add_argument("--suites", default="engine,gas,aqueous")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-llm", action="store_true", help="classical advisors only")
    ap.add_argument("--timeout", type=float, default=300.0, help="per LLM request [s]")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()

    server = None
    llm_factory = None
    if not args.no_llm:
        base_url = os.environ.get("OPENAI_BASE_URL")
        model = os.environ.get("CHEMSOLVE_LLM_MODEL")
        key = os.environ.get("OPENAI_API_KEY", "none")
        if not base_url:
            from chemsolve.advisors.local import LocalModel  # noqa: PLC0415

            server = LocalModel()
            base_url, model, key = server.base_url, server.model, "none"
        print(f"LLM: {model} at {base_url}", flush=True)

        def llm_factory(**kw):
            return adv.OpenAIAdvisor(model=model, base_url=base_url, api_key=key, timeout=args.timeout,
                                     cache_dir=False, **kw)

    builders = {"engine": engine_suite, "gas": gas_suite, "aqueous": aqueous_suite}
    rows = []
    for name in args.suites.split(","):
        rows += run_suite(name, builders[name](), range(args.seeds), args.budget, llm_factory)
    summary = summarise(rows)
    md = markdown(summary)
    print()
    print(md)
    with open(os.path.join(args.out, "llm_vs_classical.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(args.out, "llm_vs_classical.json"), "w") as f:
        json.dump({"summary": summary, "rows": rows, "budget": args.budget, "seeds": args.seeds,
                   "model": None if llm_factory is None else llm_factory().model}, f, indent=1, default=str)
    plot(summary, os.path.join(args.out, "llm_vs_classical.png"))
    print(f"\nwrote {args.out}/llm_vs_classical.{{md,png,json}} in {time.perf_counter() - t0:.0f} s")
    if server is not None:
        server.close()


if __name__ == "__main__":
    main()
