"""A model-file fuzzer: random YAML trees, mutated bundled models, alias bombs, deep nesting,
duplicate keys, huge numbers, odd characters, other encodings and byte-order marks, NUL bytes,
long lines, sizes up to the 1 MiB bound and beyond (issue 12, deliverable 3).

Every file must give a valid model or a one-line ``InvalidInputError`` (``ModelError``): never
another exception, never the last-resort "could not check this file" message (a bug to fix at
its root), never a hang or a blow-up. Two runs:

- in-process, through ``load_model`` and the ``chemsolve models`` listing, many cases; each under
  a hang detector and a peak-allocation bound (tracemalloc);
- a sample through the ``chemsolve run`` command (a subprocess under a 4 GB address-space limit):
  exit 0 or 1 for a valid model (it was solved), else exit 2 with exactly one line on stderr,
  and never a traceback.

The fast tier draws with Hypothesis's fixed seed (``derandomize``: the same kinds of files each
run, though Hypothesis may vary some between runs) ``CHEMSOLVE_FUZZ_EXAMPLES`` cases in-process,
default 200, and 8 through the command, plus the issue's own cases as explicit examples; the slow
tier (``-m slow``) draws 5,000 and 80 fresh ones each run.
The number of files each run checked is printed at the end of the module (``model-file fuzzer:
...``) and kept in ``COUNTS``.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chemsolve import models as M
from chemsolve import registry
from chemsolve.errors import InvalidInputError
from chemsolve.flash.model import FlashModel
from chemsolve.models import EngineModel, GasModel, Model, load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_FAST = int(os.environ.get("CHEMSOLVE_FUZZ_EXAMPLES", "200"))
N_SLOW = 5000
N_CLI_FAST, N_CLI_SLOW = 8, 80
COUNTS = {"load_model": 0, "valid": 0, "error": 0, "cli": 0, "cli_valid": 0, "cli_error": 0}
BUNDLED = {os.path.relpath(p, ROOT): open(p, encoding="utf-8").read()
           for p in sorted(glob.glob(os.path.join(ROOT, "models", "*", "*.yaml")))}
SCHEMA = sorted({k for name in registry.names() for k in registry.get(name).keys}
                | {"start", "stop", "num", "R", "P", "Na", "Cl", "Ca", "C(4)", "H2", "O2", "N2", "CH4", "Calcite",
                   "damping", "max_iter", "type", "growth", "method", "ftol", "jit", "T_bounds", "max_outer"})
pytestmark = pytest.mark.filterwarnings("ignore::chemsolve.aqueous.DatabaseWarning")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    line = (f"model-file fuzzer: {COUNTS['load_model']} files through load_model ({COUNTS['valid']} valid models, "
            f"{COUNTS['error']} one-line errors); {COUNTS['cli']} through `chemsolve run` ({COUNTS['cli_valid']} "
            f"solved, {COUNTS['cli_error']} exit 2)")
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    cap = request.config.pluginmanager.get_plugin("capturemanager")
    with cap.global_and_fixture_disabled() if cap is not None else contextlib.nullcontext():
        if tr is not None:
            tr.write_line("\n" + line)
        else:
            print(line)


# ------------------------------------------------------------------------------ the documents
def _float_text(x: float) -> str:
    return ".nan" if x != x else (".inf" if x > 0 else "-.inf") if x in (float("inf"), float("-inf")) else repr(x)


SPECIAL = ["~", "null", "yes", "no", "on", "true", "1e-3", "1.0e-3", "1e999", "-1e999", ".inf", "-.inf", ".nan",
           "0x1F", "0o17", "017", "0b101", "1:30:00", "190:20:30.15", "1_000", "2001-12-14", "2001-13-45",
           "2001-12-14t21:59:43.10-05:00", "!!float abc", "!!int 1.5", "!!binary aGVsbG8=", "!!set {a, b}",
           "!!omap [a: 1, a: 2]", "!!pairs [a: 1]", "!!python/object:os.system ls", "!!str 5", "!custom x",
           "K", "degC", "degF", "C", "atm", "bar", "kPa", "mmol/kgw", "mg/L", "ppm", "mol/kgs", "9**9**9",
           "(K**9)**9", "m^99", "TP", "HP", "SP", "UV", "TV", "aqueous", "gas", "engine", "propane", "h2o2.yaml",
           "gri30.yaml", "phreeqc.dat", "../../etc/passwd", "/dev/zero", "newton", "fixed_point", "linesearch",
           "ramp", "cea", "''", '""', "'it''s'", '"\\0"', '"\\u202e"', '"\\x85"', '"a\\nb"', "- a", "? a", "a: b",
           "[", "]", "{", "}", "&", "*", "!", "%", "@", "`", "|", ">", "#", ",", ":"]


def scalars():
    return st.one_of(
        st.integers(-10**6, 10**6).map(str),
        st.integers(0, 10**130).map(str),  # up to 131 digits: some beyond MAX_INT_CHARS
        st.floats(allow_nan=True, allow_infinity=True).map(_float_text),
        st.sampled_from(SPECIAL),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=24).map(json.dumps),  # any character, quoted
        st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./() ", min_size=1, max_size=20),
    )


KEYS = st.one_of(st.sampled_from(SCHEMA), st.sampled_from(SCHEMA), scalars())
TREES = st.recursive(
    scalars().map(lambda t: ("s", t)),
    lambda kids: st.one_of(st.lists(kids, max_size=6).map(lambda v: ("l", v)),
                           st.lists(st.tuples(KEYS, kids), max_size=6).map(lambda v: ("m", v))),
    max_leaves=30)


class Emitter:
    """A tree as YAML text (flow or block style), with random anchors, aliases (to finished
    anchors, now and then to an open one or an undefined name) and merge keys."""

    def __init__(self, rnd, p_anchor: float, p_alias: float):
        self.rnd, self.p_anchor, self.p_alias = rnd, p_anchor, p_alias
        self.done: list[str] = []
        self.open: list[str] = []
        self.k = 0

    def _alias(self) -> str | None:
        r = self.rnd.random()
        if self.done and r < self.p_alias:
            return "*" + self.rnd.choice(self.done)
        if r > 0.995:
            return "*" + (self.rnd.choice(self.open) if self.open else "undefined")
        return None

    def _anchor(self) -> str | None:
        if self.rnd.random() < self.p_anchor:
            self.k += 1
            return f"a{self.k}"
        return None

    def flow(self, node) -> str:
        alias = self._alias()
        if alias:
            return alias
        kind, v = node
        name = self._anchor() if kind != "s" or self.rnd.random() < 0.3 else None
        if name:
            self.open.append(name)
        if kind == "s":
            text = v
        elif kind == "l":
            text = "[" + ", ".join(self.flow(c) for c in v) + "]"
        else:
            items = [f"{k}: {self.flow(c)}" for k, c in v]
            if self.done and self.rnd.random() < 0.1:
                items.insert(0, f"<<: *{self.rnd.choice(self.done)}")
            text = "{" + ", ".join(items) + "}"
        if name:
            self.open.remove(name)
            self.done.append(name)
        return f"&{name} {text}" if name else text

    def block(self, node, indent: int = 0) -> str:
        """A mapping or list in block style (the lines under its key); scalars stay in flow style."""
        kind, v = node
        pad = " " * indent
        if kind == "m" and v and self.rnd.random() < 0.6:
            return "\n" + "\n".join(f"{pad}{k}:{self._value(c, indent + 2)}" for k, c in v)
        if kind == "l" and v and self.rnd.random() < 0.6:
            return "\n" + "\n".join(f"{pad}-{self._value(c, indent + 2)}" for c in v)
        return " " + self.flow(node)

    def _value(self, node, indent: int) -> str:
        return self.block(node, indent) if node[0] != "s" and self.rnd.random() < 0.5 else " " + self.flow(node)

    def document(self, pairs) -> str:
        return "".join(f"{k}:{self._value(v, 2)}\n" for k, v in pairs)


def bomb(width: int, levels: int, kind: str, key: str) -> str:
    lines = []
    for i in range(levels):
        kid = f"*b{i - 1}" if i else "lol"
        body = ("{" + ", ".join(f"k{j}: {kid}" for j in range(width)) + "}") if kind == "map" or (
            kind == "mixed" and i % 2) else "[" + ", ".join([kid] * width) + "]"
        lines.append(f"b{i}: &b{i} {body}")
    lines.append(f"{key}: *b{levels - 1}")
    return "\n".join(lines) + "\n"


def deep(n: int, style: str) -> str:
    if style == "flow-list":
        return "[" * n + "1" + "]" * n
    if style == "flow-map":
        return "{a: " * n + "1" + "}" * n
    if style == "block-list":
        return "\n" + "".join("  " * (i + 1) + "-\n" for i in range(n)) + "  " * (n + 1) + "1"
    return "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(n)) + "  " * (n + 1) + "1"


@st.composite
def documents(draw):
    """(text, how it was made) of one model file, before encoding."""
    rnd = draw(st.randoms(use_true_random=False))
    how = draw(st.sampled_from(["tree"] * 6 + ["mutant"] * 8 + ["bomb"] * 2 + ["deep"] * 2 + ["big", "long"]))
    kind = draw(st.sampled_from(["aqueous", "gas", "engine", "engine", "flash", "other"]))
    head = [] if kind == "other" else [("kind", ("s", kind))]
    if how == "tree":
        pairs = head + draw(st.lists(st.tuples(KEYS, TREES), max_size=12))
        rnd.shuffle(pairs)
        e = Emitter(rnd, draw(st.sampled_from([0.0, 0.05, 0.3])), draw(st.sampled_from([0.0, 0.1, 0.5])))
        return e.document(pairs), how
    base = draw(st.sampled_from(sorted(BUNDLED)))
    text = BUNDLED[base]
    if how == "bomb":
        key = draw(st.sampled_from(SCHEMA))
        b = bomb(draw(st.integers(2, 12)), draw(st.integers(2, 12)), draw(st.sampled_from(["map", "seq", "mixed"])),
                 key)
        return (b + text if rnd.random() < 0.5 else text + b), f"bomb in {base}"
    if how == "deep":
        key = draw(st.sampled_from(SCHEMA))
        style = draw(st.sampled_from(["flow-list", "flow-map", "block-list", "block-map"]))
        n = draw(st.integers(1, 200_000 if style.startswith("flow") else 1200))  # (block: n^2 bytes)
        return text + f"{key}: {deep(n, style)}\n", f"deep in {base}"
    if how == "big":  # padded to around the 1 MiB bound, with a comment, a long text or many keys
        size = draw(st.integers(M.MAX_BYTES - 3000, M.MAX_BYTES + 3000))
        style = draw(st.sampled_from(["comment", "provenance", "keys"]))
        room = max(0, size - len(text.encode()))
        if style == "comment":
            pad = ("# " + "x" * 78 + "\n") * (room // 81)
            return text + pad + "#" * max(0, room - len(pad) - 1) + "\n", f"big comment in {base}"
        if style == "keys":
            return text + "".join(f"z{i}: {i}\n" for i in range(room // 10)), f"many keys in {base}"
        return text.replace("provenance:", "provenance: " + "p" * room + "\nx_provenance:", 1), f"long text in {base}"
    if how == "long":  # one long line, a value of up to 2 MB
        n = draw(st.sampled_from([1000, 70_000, 1_100_000, 2_000_000]))
        return text.replace("name:", "name: " + draw(st.sampled_from(["n", "9", "\\u00e9", "[", "&a "])) * (n // 2)
                            + "\nname_was:", 1), f"long line in {base}"
    lines = text.splitlines()  # a bundled model, mutated (now and then only in ways that keep it valid)
    benign = rnd.random() < 0.3
    for _ in range(draw(st.integers(0 if benign else 1, 6))):
        op = rnd.choice(["comment", "quote", "share"] if benign else
                        ["value", "value", "dup", "delete", "insert", "indent", "anchor", "char", "splice", "share"])
        i = rnd.randrange(len(lines)) if lines else 0
        if not lines:
            lines.append("kind: engine")
        elif op == "comment":
            lines.insert(i, rnd.choice(["# a comment", "", "   # indented: ignored"]))
        elif op == "quote" and lines[i].startswith("name:"):
            lines[i] = "name: " + json.dumps(lines[i][5:].strip() + " \u00e9\u00b0")
        elif op == "share" and lines[i].startswith("name:"):  # name: &n ..., provenance: *n (valid YAML, a valid model)
            lines[i] = "name: &n " + (lines[i][5:].strip() or "x")
            k = next((j for j, ln in enumerate(lines) if ln.startswith("provenance:")), None)
            if k is not None and k > i:
                while k + 1 < len(lines) and lines[k + 1].startswith(" "):
                    del lines[k + 1]
                lines[k] = "provenance: *n"
        elif op == "value" and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + draw(scalars())
        elif op == "dup":
            lines.insert(rnd.randrange(len(lines) + 1), lines[i])
        elif op == "delete":
            del lines[i]
        elif op == "insert":
            lines.insert(i, f"{rnd.choice(SCHEMA)}: {draw(scalars())}")
        elif op == "indent":
            lines[i] = " " * rnd.randrange(0, 5) + lines[i].lstrip()
        elif op == "anchor" and ":" in lines[i]:
            k, v = lines[i].split(":", 1)
            lines[i] = f"{k}: &m{i} {v.strip() or '{}'}"
            lines.insert(rnd.randrange(i + 1, len(lines) + 1), f"{' ' * (len(k) - len(k.lstrip()))}"
                                                                f"{rnd.choice(SCHEMA)}: *m{i}")
        elif op == "char" and lines[i]:
            j = rnd.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + rnd.choice("&*!%@`{}[],:#|>?-'\"\t\\") + lines[i][j + 1:]
        elif op == "splice" and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + Emitter(rnd, 0.2, 0.2).flow(draw(TREES))
    return "\n".join(lines) + ("\n" if rnd.random() < 0.9 else ""), f"mutant of {base}"


class Case:
    """A file's bytes and how they were made; a short repr, so that a failing case (a 200,000-bracket
    line...) is reported readably (its bytes: ``case.data``, e.g. from the @reproduce_failure blob)."""

    def __init__(self, data: bytes, how: str):
        self.data, self.how = data, how

    def __repr__(self) -> str:
        head = self.data[:300]
        return f"Case({self.how}: {head!r}{' ...' if len(self.data) > 300 else ''})"


ENCODINGS = ["utf-8"] * 12 + ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]


@st.composite
def files(draw):
    """A ``Case``: the bytes of a model file, and how they were made."""
    text, how = draw(documents())
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    rnd = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 3]))):  # byte-level damage
        op = rnd.choice(["insert", "insert", "truncate", "bom"])
        j = rnd.randrange(len(data) + 1)
        if op == "insert":
            data = (data[:j] + bytes([rnd.choice([0x00, 0xFF, 0xFE, 0xC3, 0x80, 0x1B, 0x7F, 0x85, 0xE2, 0x0D])])
                    + data[j:])
        elif op == "truncate":
            data = data[:j]
        else:
            data = rnd.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"]) + data
    return Case(data, f"{how}, {enc}, {len(data):,} bytes")


# ------------------------------------------------------------------------------ the checks
def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # (kB on Linux)


@contextlib.contextmanager
def bounded(seconds: float, megabytes: float, trace: bool = True):
    """Hang and blow-up detector (not a timing): an unbounded bomb runs for minutes and takes
    gigabytes; the bounded reader needs about a second and tens of MB for the largest file.
    ``trace``: the peak of Python allocations (tracemalloc, precise, slows the pure-Python reader
    tenfold); else the rise of the process's peak resident size (coarse, free)."""

    def timeout(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    rss0 = _max_rss()
    if trace:
        tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] if trace else _max_rss() - rss0
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert peak < megabytes * 2**20, f"peak allocation {peak / 2**20:.0f} MB"


def _one_line(msg: str) -> None:
    assert msg and "\n" not in msg and "\r" not in msg and len(msg) <= 2 * M.ModelError.MAX_MESSAGE, msg[:2000]
    assert M.INTERNAL not in msg, msg  # the last-resort net caught something: fix it where it happens


def check_in_process(work, data: bytes) -> None:
    from chemsolve.cli import list_models

    folder = work / "load"
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    path = folder / "m.yaml"
    path.write_bytes(data)
    COUNTS["load_model"] += 1
    small = len(data) < 65536
    with bounded(seconds=120, megabytes=300, trace=small):
        try:
            m = load_model(path)
        except InvalidInputError as e:
            _one_line(str(e))
            COUNTS["error"] += 1
        else:
            assert isinstance(m, (Model, GasModel, EngineModel, FlashModel))
            COUNTS["valid"] += 1
        if not small:
            return
        out = io.StringIO()
        try:
            assert list_models(str(folder), out=out) == 0
        except InvalidInputError as e:  # not a model file at all (no kind:)
            assert "no model files" in str(e)
        else:
            (row,) = out.getvalue().splitlines()[2:]  # one row, one line, whatever the file holds
            assert row.startswith("m.yaml") and M.INTERNAL not in row


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def check_command(work, data: bytes) -> None:
    path = work / "m.yaml"
    path.write_bytes(data)
    COUNTS["cli"] += 1
    # timeout: a hang detector; a valid bundled-model mutant may be solved (seconds), nothing takes minutes
    out = subprocess.run([sys.executable, "-m", "chemsolve.cli", "run", str(path), "--format", "json"],
                         capture_output=True, text=True, errors="replace", cwd=work, timeout=900,
                         preexec_fn=_limits, env={**os.environ, "PYTHONPATH": ROOT})
    assert "Traceback" not in out.stderr and out.returncode in (0, 1, 2), (out.returncode, out.stderr[-3000:])
    if out.returncode == 2:
        assert out.stdout == "" and out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
        _one_line(out.stderr[7:-1])
        COUNTS["cli_error"] += 1
    else:
        json.loads(out.stdout)  # a result, complete
        COUNTS["cli_valid"] += 1


SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
ISSUE_CASES = [  # the issue's own cases, always run
    (bomb(10, 9, "map", "name").encode(), "bomb"),
    (("kind: engine\nx0: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(), "deep"),
    (BUNDLED["models/engine/propane.yaml"].replace("Meintjes", "M\u00e9intjes").encode("latin-1"), "latin-1"),
    (BUNDLED["models/gas/methane_air_flame.yaml"].replace("num: ", "num: 1000000000 #").encode(), "phi num"),
    ((BUNDLED["models/engine/propane.yaml"] + "name: twice\n").encode(), "duplicate"),
]


@settings(max_examples=N_FAST, derandomize=True, **SETTINGS)
@given(files())
@example(Case(*ISSUE_CASES[0])).via("issue 12, item 8")
@example(Case(*ISSUE_CASES[1])).via("issue 12, item 10")
@example(Case(*ISSUE_CASES[2])).via("issue 12, item 10")
@example(Case(*ISSUE_CASES[3])).via("issue 12, item 10")
@example(Case(*ISSUE_CASES[4])).via("issue 12, item 9")
@example(Case(b'kind: "\\x85"\nname: "a\\u2028b\\x07"\n', "NEL kind, LS and BEL in the name")).via(
    "CI: a kind of one NEL character split the 'chemsolve models' row in two")
def test_fuzz_load_model(work, case):
    check_in_process(work, case.data)


@pytest.mark.slow
@settings(max_examples=N_SLOW, **SETTINGS)
@given(files())
def test_fuzz_load_model_many(work, case):
    check_in_process(work, case.data)


@settings(max_examples=N_CLI_FAST, derandomize=True, **SETTINGS)
@given(files())
@example(Case(*ISSUE_CASES[0])).via("issue 12, item 8")
@example(Case(BUNDLED["models/engine/propane.yaml"].replace("name: &n", "name:").encode("utf-16"),
              "a valid model, in UTF-16")).via("the valid path: solved, exit 0")
def test_fuzz_chemsolve_run(work, case):
    check_command(work, case.data)


@pytest.mark.slow
@settings(max_examples=N_CLI_SLOW, **SETTINGS)
@given(files())
def test_fuzz_chemsolve_run_many(work, case):
    check_command(work, case.data)
