"""The study's tables, figure, docs block and README line, from its stored units only (no solve, no model).

``render(out)`` returns (markdown of the full report, the docs block, the README line); ``write(out)``
writes ``<out>/study.md``, ``<out>/summary.json`` and ``<out>/curves.png``. ``tests/test_study.py``
checks that docs/guide/advisors.md and README.md hold exactly what ``render`` makes of the stored units.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
from collections import defaultdict
from typing import Any

import numpy as np

from . import stats
from .suites import HARD_TARGET, HARDNESS_NOTES, MAX_ITER, SUITES

ARM_LABEL = {"smollm2-135m": "SmolLM2-135M", "qwen2.5-coder-0.5b": "Qwen-0.5B", "qwen2.5-coder-1.5b": "Qwen-1.5B",
             "endpoint": "endpoint", "stub": "stub"}
MODEL_ORDER = ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "endpoint", "stub"]
DIVERGENT = ("DIVERGED", "NONFINITE")


def load(out: str) -> list[dict[str, Any]]:
    units = []
    for p in sorted(glob.glob(os.path.join(out, "units", "*", "*", "rep*.json"))):
        if p.endswith(".replay.json"):
            continue
        with open(p, encoding="utf-8") as f:
            u = json.load(f)
        u["_path"] = p
        units.append(u)
    return units


def tape(u: dict[str, Any]) -> list[dict[str, Any]]:
    p = u["_path"][:-5] + ".llm.jsonl"
    out = []
    if os.path.isfile(p):
        with open(p, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


class Index:
    """{(suite, arm, advisor): {rep: {instance: record}}} and the units behind it."""

    def __init__(self, units: list[dict[str, Any]]):
        self.units = units
        self.rec: dict[tuple[str, str, str], dict[int, dict[str, dict]]] = defaultdict(dict)
        self.rows: dict[tuple[str, str, str], dict[int, dict]] = defaultdict(dict)
        self.unit: dict[tuple[str, str, int], dict] = {}
        for u in units:
            self.unit[(u["suite"], u["arm"], u["rep"])] = u
            for adv, row in u["rows"].items():
                self.rows[(u["suite"], u["arm"], adv)][u["rep"]] = row
                if "records" in row:
                    self.rec[(u["suite"], u["arm"], adv)][u["rep"]] = {r["name"]: r for r in row["records"]}

    def arms(self, suite: str) -> list[str]:
        a = {k[1] for k in self.unit if k[0] == suite and k[1] != "classical"}
        return [m for m in MODEL_ORDER if m in a]

    def reps(self, suite: str, arm: str) -> list[int]:
        return sorted(r for (s, a, r) in self.unit if s == suite and a == arm)


def _fmt_ci(m: float, lo: float, hi: float, pct: bool = False, digits: int = 1) -> str:
    if not math.isfinite(m):
        return "–"
    f = (lambda v: f"{100 * v:+.{digits - 1 if digits else 0}f}") if pct else (lambda v: f"{v:+.{digits}f}")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{f(m)} [n/a]"
    return f"{f(m)} [{f(lo)}, {f(hi)}]"


def _solved(recs: dict[int, dict[str, dict]]) -> tuple[float, float, float]:
    return stats.cluster_bootstrap([[float(r["converged"]) for r in d.values()] for _, d in sorted(recs.items())])


def _mean_it(recs: dict[int, dict[str, dict]]) -> float:
    v = [r["iterations"] for d in recs.values() for r in d.values()]
    return float(np.mean(v)) if v else math.nan


def calibration(ix: Index) -> list[dict[str, Any]]:
    out = []
    for s in SUITES:
        d = ix.rec.get((s, "classical", "defaults"))
        if not d:
            continue
        fails, hards = [], []
        for _, recs in sorted(d.items()):
            it = np.array([r["iterations"] for r in recs.values()])
            ok = np.array([r["converged"] for r in recs.values()])
            med = float(np.median(it[ok])) if ok.any() else 0.0
            fails.append(float(np.mean(~ok)))
            hards.append(float(np.mean(~ok | (it > 3 * med))))
        out.append({"suite": s, "reps": len(d), "held_out": len(next(iter(d.values()))),
                    "fail": float(np.mean(fails)), "hard": float(np.mean(hards)), "hard_min": float(np.min(hards)),
                    "hard_max": float(np.max(hards))})
    return out


def comparisons(ix: Index) -> list[dict[str, Any]]:
    """Every comparison of the report (the Holm family): (suite, arm, advisor) vs (suite, arm, comparator)."""
    specs: list[tuple[str, str, str, str, str]] = []
    for s in SUITES:
        for arm in ix.arms(s):
            for b in (8, 32):
                specs.append((s, arm, f"LLM OPRO@{b}", "classical", f"tpe@{b}"))
            specs.append((s, arm, "LLM one-shot", "classical", "defaults"))
            specs.append((s, arm, "LLM rescue (trace)", "classical", "retry ladder"))
            specs.append((s, arm, "LLM rescue (trace)", arm, "LLM rescue (no trace)"))
            if s == "engine":
                specs.append((s, arm, "LLM damping controller", "classical", "Adaptive (direct)"))
                specs.append((s, arm, "LLM damping controller", "classical", "rule controller"))
        for t in ("random", "tpe", "cmaes", "gp"):
            specs.append((s, "classical", f"{t}@32", "classical", "defaults"))
    # the weaker-model hypothesis, H3: a smaller model against the 1.5B on the same instances
    for s in SUITES:
        for small in ("smollm2-135m", "qwen2.5-coder-0.5b"):
            for adv in ("LLM one-shot", "LLM OPRO@32"):
                specs.append((s, small, adv, "qwen2.5-coder-1.5b", adv))
    rows = []
    for s, arm, adv, carm, cadv in specs:
        a, b = ix.rec.get((s, arm, adv)), ix.rec.get((s, carm, cadv))
        if not a or not b:
            continue
        row = {"suite": s, "arm": arm, "advisor": adv, "vs_arm": carm, "vs": cadv}
        for key in ("solved", "iterations"):
            d = stats.paired(a, b, key)
            if not d:
                continue
            m, lo, hi = stats.cluster_bootstrap(d)
            row[key] = (m, lo, hi)
            row[f"p_{key}"] = stats.wilcoxon_p([float(np.mean(x)) for x in d if x])
            row["reps"] = len(d)
        if "solved" in row:
            rows.append(row)
    ps = [r[f"p_{k}"] for r in rows for k in ("solved", "iterations")]
    adj = stats.holm(ps)
    for i, r in enumerate(rows):
        r["p_solved_holm"], r["p_iterations_holm"] = adj[2 * i], adj[2 * i + 1]
        r["verdict"] = _verdict(r)
    return rows


def _verdict(r: dict[str, Any]) -> str:
    m, lo, hi = r["solved"]
    p = r["p_solved_holm"]
    if math.isfinite(p) and p < 0.05 and math.isfinite(lo) and (lo > 0 or hi < 0):
        return "more solved" if m > 0 else "fewer solved"
    mi, loi, hii = r.get("iterations", (math.nan,) * 3)
    pi = r["p_iterations_holm"]
    if math.isfinite(pi) and pi < 0.05 and math.isfinite(loi) and (loi > 0 or hii < 0):
        return "fewer iterations" if mi < 0 else "more iterations"
    return "no detectable difference"


def advisor_table(ix: Index, suite: str) -> list[dict[str, Any]]:
    out = []
    base = ix.rec.get((suite, "classical", "defaults"), {})
    base_it = _mean_it(base)
    arms = ["classical"] + ix.arms(suite)
    for arm in arms:
        advs = sorted({k[2] for k in ix.rec if k[0] == suite and k[1] == arm}, key=_adv_order)
        for adv in advs:
            recs = ix.rec[(suite, arm, adv)]
            m, lo, hi = _solved(recs)
            it = _mean_it(recs)
            secs = float(np.mean([r.get("seconds", 0.0) for d in recs.values() for r in d.values()]))
            advs = float(np.mean([r.get("advisor_seconds", 0.0) for d in recs.values() for r in d.values()]))
            row = {"arm": arm, "advisor": adv, "reps": len(recs), "solved": (m, lo, hi), "iterations": it,
                   "seconds_per_solve": secs, "advisor_seconds_per_solve": advs}
            # the tuning's cost up to this budget, and the solves after which it has repaid itself
            rr = ix.rows[(suite, arm, adv)]
            b = next(iter(rr.values())).get("budget")
            if b:
                tun = [sum(e[0] for e in row_["tuning"]["per_eval"][:b]) for row_ in rr.values()]
                row["tuning_iterations"] = float(np.mean(tun))
                saving = base_it - it
                row["repay_solves"] = row["tuning_iterations"] / saving if saving > 0 else math.inf
            out.append(row)
    return out


def _adv_order(a: str) -> tuple:
    order = ["defaults", "warm start", "retry ladder", "random", "tpe", "cmaes", "gp", "Adaptive (direct)",
             "rule controller", "LLM one-shot", "LLM rescue (trace)", "LLM rescue (no trace)", "LLM OPRO",
             "LLM damping controller"]
    base, _, b = a.partition("@")
    return (order.index(base) if base in order else 99, int(b) if b.isdigit() else 0)


def llm_costs(ix: Index) -> list[dict[str, Any]]:
    out = []
    for (s, arm, rep), u in sorted(ix.unit.items()):
        if arm == "classical":
            continue
        for label, a in (u.get("llm") or {}).items():
            out.append({"suite": s, "arm": arm, "rep": rep, "label": label, **a})
    agg: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in out:
        k = (r["suite"], r["arm"], r["label"])
        g = agg.setdefault(k, defaultdict(float))
        g["reps"] += 1
        for f in ("calls", "prompt_tokens", "completion_tokens", "wall_s", "server_prompt_ms", "server_predicted_ms"):
            g[f] += r[f]
    return [{"suite": k[0], "arm": k[1], "label": k[2], **{f: v / g["reps"] if f != "reps" else v
                                                          for f, v in g.items()}} for k, g in sorted(agg.items())]


def hypothesis(ix: Index) -> list[dict[str, Any]]:
    """H1 and H2 per suite and model: suggested first factors, controller factors, divergences."""
    out = []
    for s in SUITES:
        for arm in ix.arms(s):
            starts, factors, adv_att, div = [], [], 0, 0
            for adv in ("LLM one-shot", "LLM rescue (trace)", "LLM rescue (no trace)"):
                for d in ix.rec.get((s, arm, adv), {}).values():
                    for r in d.values():
                        for sug in r.get("suggestions", []):
                            dm = sug.get("damping") if isinstance(sug, dict) else None
                            if isinstance(dm, dict):
                                v = dm.get("start", dm.get("alpha"))
                                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                                    starts.append(float(v))
                        for st, src in zip(r.get("statuses", []), r.get("sources", [])):
                            if src.startswith("llm:"):
                                adv_att += 1
                                div += st in DIVERGENT
            for d in ix.rec.get((s, arm, "LLM damping controller"), {}).values():
                for r in d.values():
                    factors += [float(f) for f in r.get("factors", [])[1:]]
            out.append({"suite": s, "arm": arm, "start_median": float(np.median(starts)) if starts else math.nan,
                        "n_starts": len(starts), "factor_median": float(np.median(factors)) if factors else math.nan,
                        "n_factors": len(factors), "advised_attempts": adv_att,
                        "divergence_rate": div / adv_att if adv_att else math.nan})
    return out


def contamination(ix: Index) -> list[dict[str, Any]]:
    out = []
    for arm in ix.arms("engine"):
        n = rec = near = 0
        for rep, d in ix.rec.get(("engine", arm, "LLM one-shot"), {}).items():
            inst = {i["name"]: i for i in ix.unit[("engine", arm, rep)]["instances"]}
            for name, r in d.items():
                tb = inst.get(name, {}).get("textbook")
                for sug in r.get("suggestions", []):
                    g = (sug.get("initial_guess") or {}).get("x") if isinstance(sug, dict) else None
                    if not tb or not isinstance(g, list) or len(g) != len(tb["root"]):
                        continue
                    n += 1
                    gv = np.array([float(v) if isinstance(v, (int, float)) else np.nan for v in g])
                    for ref in (tb["textbook_root"], tb["textbook_x0"]):
                        ref = np.asarray(ref)
                        if np.all(np.abs(gv - ref) <= 0.01 * np.maximum(np.abs(ref), 1e-3)):
                            rec += 1
                            break
                    root = np.asarray(tb["root"])
                    near += bool(np.all(np.abs(gv - root) <= 0.01 * np.maximum(np.abs(root), 1e-3)))
        out.append({"arm": arm, "guesses": n, "recited": rec, "near_true_root": near})
    return out


def curves(ix: Index) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for (s, arm, adv), rr in ix.rows.items():
        if not adv.endswith("@curve"):
            continue
        cs_ = [r["curve"] for r in rr.values() if r.get("curve")]
        n = min(len(c) for c in cs_)
        arr = np.array([[np.nan if v is None else v for v in c[:n]] for c in cs_], dtype=float)
        name = adv[:-6] + ("" if arm == "classical" else f" ({ARM_LABEL.get(arm, arm)})")
        with np.errstate(all="ignore"):
            out.setdefault(s, {})[name] = np.nanmean(arr, axis=0).tolist()
    return out


# -- rendering ----------------------------------------------------------------------------------------------

def _name(arm: str, adv: str) -> str:
    return adv if arm == "classical" else f"{ARM_LABEL.get(arm, arm)} {adv}"


def _p(v: float) -> str:
    return "–" if not math.isfinite(v) else ("<0.001" if v < 0.001 else f"{v:.3f}")


def render(out: str) -> tuple[str, str, str]:
    ix = Index(load(out))
    if not ix.units:
        empty = "(no units stored yet)"
        return empty, empty, "Advisor study: not yet run."
    cal = calibration(ix)
    comp = comparisons(ix)
    reps_by = {(s, a): len(ix.reps(s, a)) for s in SUITES for a in ["classical"] + ix.arms(s)}
    what_ran = "; ".join(f"{s}: classical {reps_by.get((s, 'classical'), 0)}"
                         + "".join(f", {ARM_LABEL.get(a, a)} {reps_by[(s, a)]}" for a in ix.arms(s))
                         for s in SUITES if reps_by.get((s, "classical")) or ix.arms(s))
    L: list[str] = []
    L.append(f"Replicates that ran (suite: arm replicates): {what_ran}.")
    L.append("")
    L.append("**Difficulty of the suites under the defaults** (held-out instances; hard = failed or more than 3x "
             "the median iterations of the solved):")
    L.append("")
    L.append("| suite | replicates | held-out per replicate | failed | hard, mean [min-max over replicates] |")
    L.append("|---|---|---|---|---|")
    for c in cal:
        L.append(f"| {c['suite']} | {c['reps']} | {c['held_out']} | {100 * c['fail']:.0f} % | "
                 f"{100 * c['hard']:.0f} % [{100 * c['hard_min']:.0f}-{100 * c['hard_max']:.0f}] |")
    outside = [c for c in cal if not (HARD_TARGET[0] <= c["hard"] <= HARD_TARGET[1])]
    if outside:
        L.append("")
        L.append(f"Outside the {100 * HARD_TARGET[0]:.0f}-{100 * HARD_TARGET[1]:.0f} % hard asked for: "
                 + "; ".join(f"{c['suite']} ({100 * c['hard']:.0f} %)"
                             + (f": {HARDNESS_NOTES[c['suite']]}" if c["suite"] in HARDNESS_NOTES else "")
                             for c in outside) + ".")
    L.append("")
    L.append("**Verdict**: paired differences on the same held-out instances (advisor minus comparator), mean "
             "with 95 % cluster-bootstrap interval; solved in percentage points, iterations per instance over "
             "all attempts; p = Wilcoxon on per-replicate means, Holm-adjusted over the whole table.")
    L.append("")
    L.append("| suite | advisor | vs | reps | Δ solved [pp] | Δ iterations | p solved | p iterations | verdict |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in comp:
        L.append(f"| {r['suite']} | {_name(r['arm'], r['advisor'])} | {_name(r['vs_arm'], r['vs'])} | {r['reps']} | "
                 f"{_fmt_ci(*r['solved'], pct=True)} | {_fmt_ci(*r.get('iterations', (math.nan,) * 3))} | "
                 f"{_p(r['p_solved_holm'])} | {_p(r['p_iterations_holm'])} | {r['verdict']} |")
    block = "\n".join(L)
    full = [block, ""]
    for s in SUITES:
        tab = advisor_table(ix, s)
        if not tab:
            continue
        full.append(f"### {s}: every advisor")
        full.append("")
        full.append("| advisor | reps | solved [95 % CI] | iterations / solve (all attempts) | s / solve | "
                    "of which advisor (LLM) | tuning iterations | solves to repay |")
        full.append("|---|---|---|---|---|---|---|---|")
        for t in tab:
            m, lo, hi = t["solved"]
            ci = f"{100 * m:.0f} % [{100 * lo:.0f}, {100 * hi:.0f}]" if math.isfinite(lo) else f"{100 * m:.0f} %"
            rp = t.get("repay_solves")
            rps = "–" if rp is None else ("never" if not math.isfinite(rp) else f"{rp:.0f}")
            tu = t.get("tuning_iterations")
            full.append(f"| {_name(t['arm'], t['advisor'])} | {t['reps']} | {ci} | {t['iterations']:.1f} | "
                        f"{1e3 * t['seconds_per_solve']:.0f} ms | {1e3 * t['advisor_seconds_per_solve']:.0f} ms | "
                        f"{'–' if tu is None else f'{tu:.0f}'} | {rps} |")
        full.append("")
    lc = llm_costs(ix)
    if lc:
        full.append("### What the language models cost (mean per replicate)")
        full.append("")
        full.append("| suite | model | advisor | calls | prompt tokens | generated tokens | wall s | "
                    "server prompt s | server generation s |")
        full.append("|---|---|---|---|---|---|---|---|---|")
        for r in lc:
            full.append(f"| {r['suite']} | {ARM_LABEL.get(r['arm'], r['arm'])} | {r['label']} | {r['calls']:.0f} | "
                        f"{r['prompt_tokens']:.0f} | {r['completion_tokens']:.0f} | {r['wall_s']:.0f} | "
                        f"{r['server_prompt_ms'] / 1e3:.0f} | {r['server_predicted_ms'] / 1e3:.0f} |")
        full.append("")
        full.append("Wall times were taken on a 2-core machine shared with other work (the study ran at nice 19): "
                    "compare them only within one run; the server's own times are per request, one thread.")
        full.append("")
    hy = hypothesis(ix)
    if hy:
        full.append("### The weaker-model hypothesis: H1 (smaller steps) and H2 (fewer divergences)")
        full.append("")
        full.append("| suite | model | median first factor suggested (n) | median controller factor (n) | "
                    "advised attempts | diverged or non-finite |")
        full.append("|---|---|---|---|---|---|")
        for h in hy:
            fs = "–" if not math.isfinite(h["factor_median"]) else f"{h['factor_median']:.3g} ({h['n_factors']})"
            ss = "–" if not math.isfinite(h["start_median"]) else f"{h['start_median']:.3g} ({h['n_starts']})"
            dv = "–" if not math.isfinite(h["divergence_rate"]) else f"{100 * h['divergence_rate']:.0f} %"
            full.append(f"| {h['suite']} | {ARM_LABEL.get(h['arm'], h['arm'])} | {ss} | {fs} | "
                        f"{h['advised_attempts']} | {dv} |")
        full.append("")
        full.append("H3 (more solved at equal budget) is in the verdict table: the rows of a smaller model against "
                    "Qwen-1.5B.")
        full.append("")
    co = contamination(ix)
    if co:
        full.append("### Contamination (engine one-shot guesses)")
        full.append("")
        full.append("| model | guesses | within 1 % of the textbook root or start (recited) | within 1 % of the "
                    "true root |")
        full.append("|---|---|---|---|")
        for c in co:
            full.append(f"| {ARM_LABEL.get(c['arm'], c['arm'])} | {c['guesses']} | {c['recited']} | "
                        f"{c['near_true_root']} |")
        full.append("")
    full.append("Solves to repay: the tuning's iterations (up to that budget) divided by the iterations it saves "
                "per held-out solve against the defaults (never: it saves none). Times are wall clock on a shared "
                "machine at nice 19 and include the model's replies where an advisor asks one per solve.")
    full.append("")
    full.append("![best-so-far tuning score against evaluations](curves.png)")
    md = "\n".join(full) + "\n"
    return md, block, readme_line(ix, comp)


def readme_line(ix: Index, comp: list[dict[str, Any]]) -> str:
    key = [r for r in comp if r["advisor"] in ("LLM OPRO@32", "LLM one-shot", "LLM rescue (trace)",
                                               "LLM damping controller") and r["vs_arm"] == "classical"]
    better = [r for r in key if r["verdict"] in ("more solved", "fewer iterations")]
    worse = [r for r in key if r["verdict"] in ("fewer solved", "more iterations")]
    nrep = max((len(ix.reps(s, "classical")) for s in SUITES), default=0)
    models = sorted({ARM_LABEL.get(r["arm"], r["arm"]) for r in key})
    # the design asks 10-30 replicates; with fewer a Wilcoxon test over replicates cannot reject anything
    # (under 6 it has no p below 0.05 at all): say so, so that "no difference" is not read as a finding
    llm_reps = min((r["reps"] for r in key), default=0)
    power = (f" With {llm_reps} replicate{'s' if llm_reps != 1 else ''} of the language models so far no test "
             f"can reject anything yet (the design asks 10-30; the run continues)." if llm_reps < 10 else "")
    ran = ", ".join(s for s in SUITES if ix.reps(s, "classical"))
    head = (f"Advisor study ({nrep} replicates at most, suites {ran}; "
            f"models {', '.join(models) or 'none yet'}): ")
    if not key:
        return head + "no language-model comparison has run yet."
    if better:
        b = "; ".join(f"{_name(r['arm'], r['advisor'])} vs {r['vs']} on {r['suite']}: {r['verdict']} "
                      f"(Δ solved {_fmt_ci(*r['solved'], pct=True)} pp)" for r in better)
        return head + f"a language model beat its classical comparator in {len(better)} of {len(key)} comparisons " \
                      f"({b}), lost in {len(worse)}, and was indistinguishable in the rest." + power
    return head + (f"no language-model advisor beat its classical comparator in any of {len(key)} comparisons "
                   f"(Holm-corrected); it lost in {len(worse)}." + power + " Details: docs/guide/advisors.md.")


def plot(out: str, ix: Index) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    cv = curves(ix)
    if not cv:
        return
    fig, axes = plt.subplots(1, len(cv), figsize=(4.2 * len(cv), 3.8), squeeze=False)
    for ax, (s, d) in zip(axes[0], sorted(cv.items(), key=lambda kv: SUITES.index(kv[0]))):
        for name, ys in sorted(d.items()):
            ax.plot(np.arange(1, len(ys) + 1), ys, label=name, lw=1.2)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("evaluations")
        ax.set_title(s, fontsize=10)
    axes[0][0].set_ylabel(f"best tuning score (iterations + {MAX_ITER} per failure)")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curves.png"), dpi=100)
    plt.close(fig)


def write(out: str) -> str:
    md, block, line = render(out)
    ix = Index(load(out))
    from chemsolve.outfile import atomic_open  # noqa: PLC0415

    with atomic_open(os.path.join(out, "study.md")) as f:
        f.write("# The advisor study: results\n\n" + md)
    with atomic_open(os.path.join(out, "summary.json")) as f:
        json.dump({"readme": line, "comparisons": comparisons(ix), "calibration": calibration(ix),
                   "hypothesis": hypothesis(ix), "contamination": contamination(ix)}, f, indent=1, default=str)
    plot(out, ix)
    print(md)
    print(line)
    return md


DOC_BEGIN, DOC_END = "<!-- study:begin -->", "<!-- study:end -->"
README_BEGIN, README_END = "<!-- study-verdict:begin -->", "<!-- study-verdict:end -->"


def splice(text: str, begin: str, end: str, body: str) -> str:
    pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pat.search(text):
        raise ValueError(f"markers {begin} ... {end} not found")
    return pat.sub(lambda m: f"{begin}\n{body}\n{end}", text)


def update_docs(out: str, docs: str, readme: str) -> None:
    """Write the generated block into the docs page and the verdict line into the README."""
    _, block, line = render(out)
    for path, b, e, body in ((docs, DOC_BEGIN, DOC_END, block + "\n\nFull tables, costs, the hypothesis and "
                              "contamination checks: `benchmarks/results/study/study.md`."),
                             (readme, README_BEGIN, README_END, line)):
        with open(path, encoding="utf-8") as f:
            t = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(splice(t, b, e, body))
