"""First use: how long the first ``chemsolve run`` of each bundled model takes on a cold numba cache,
how long a second process takes (kernels loaded from the disk cache), ``chemsolve demo`` both ways,
and the compile time of every kernel (numba's compile events, inclusive and exclusive of the kernels
it calls).

    python benchmarks/first_use.py [--models gas/hydrogen_air ...] [--out benchmarks/results/first_use.md]

Run it on a quiet machine: it measures wall-clock seconds of fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

RECORD = r"""
import json, sys, time
from numba.core import event as ev
t0 = time.perf_counter()
with ev.install_recorder("numba:compile") as rec:
    from chemsolve.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
wall = time.perf_counter() - t0
open_ = {}
rows = {}
stack = []
for ts, e in rec.buffer:
    d = e.data["dispatcher"]
    name = f"{d.py_func.__module__}.{d.py_func.__qualname__}"
    if e.is_start:
        stack.append([name, ts, 0.0])
    else:
        nm, t1, child = stack.pop()
        dt = ts - t1
        r = rows.setdefault(nm, [0.0, 0.0, 0])
        r[0] += dt
        r[1] += dt - child
        r[2] += 1
        if stack:
            stack[-1][2] += dt
print("@@" + json.dumps({"wall": wall, "kernels": rows}), file=sys.stderr)
"""


def _run(args: list[str], env: dict[str, str], record: bool = False) -> tuple[float, int, dict]:
    t = time.perf_counter()
    cmd = [sys.executable, "-c", RECORD, *args] if record else ["chemsolve", *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    info = {}
    for line in p.stderr.splitlines():
        if line.startswith("@@"):
            info = json.loads(line[2:])
    return dt, p.returncode, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=None, help="bundled model names (default: all)")
    ap.add_argument("--out", default=None, help="also write the tables (markdown) to this file")
    a = ap.parse_args(argv)
    from chemsolve.models import bundled_models_dir

    base = bundled_models_dir()
    models = a.models or sorted(str(p.relative_to(base).with_suffix("")) for p in base.rglob("*.yaml"))
    lines = ["| command | cold cache [s] | cached, second process [s] | exit |", "|---|---|---|---|"]
    kernels: dict[str, list[float]] = {}
    for m in [*models, "demo"]:
        args = ["demo"] if m == "demo" else ["run", m]
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache, CHEMSOLVE_QUIET="1")
            cold, rc, info = _run(args, env, record=True)
            warm, rc2, _ = _run(args, env)
        for k, (inc, exc, n) in info.get("kernels", {}).items():
            r = kernels.setdefault(k, [0.0, 0.0, 0, m])
            if inc > r[0]:
                kernels[k] = [inc, exc, n, m]
        lines.append(f"| `chemsolve {' '.join(args)}` | {cold:.1f} | {warm:.2f} | {rc}/{rc2} |")
        print(lines[-1], flush=True)
    klines = ["| kernel | compile, inclusive [s] | exclusive [s] | specialisations | first compiled by |",
              "|---|---|---|---|---|"]
    for k, (inc, exc, n, m) in sorted(kernels.items(), key=lambda kv: -kv[1][1]):
        if exc >= 0.05:
            klines.append(f"| `{k}` | {inc:.2f} | {exc:.2f} | {n} | {m} |")
    text = ("\n".join(lines) + "\n\nCompile time per kernel (cold cache; kernels under 0.05 s left out):\n\n"
            + "\n".join(klines))
    print("\n" + "\n".join(klines))
    if a.out:
        from chemsolve.outfile import atomic_open

        with atomic_open(a.out) as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
