"""Reading model files is bounded and strict: alias bombs, deep nesting, huge files and numbers,
duplicate keys, bad encodings and values YAML cannot construct are one-line ``ModelError``s
naming the file and line — never a hang, gigabytes, a RecursionError or another traceback.

The random counterpart of these cases is tests/test_fuzz_models.py.
"""

from __future__ import annotations

import contextlib
import io
import signal
import tracemalloc

import numpy as np
import pytest

from chemsolve import modelfile as M
from chemsolve.models import ModelError, load_model

GOOD = """kind: engine
name: propane
provenance: a test
problem: propane
params: {R: 10, P: 40}
x0: [0.005, 0.005, 0.05, 0.5, 0.05]
solver: {max_rel_step: 0.9}
"""


@contextlib.contextmanager
def bounded(seconds: float = 60.0, megabytes: float | None = 100.0):
    """Fails (instead of hanging or swapping) when the block runs longer than ``seconds`` or
    allocates more than ``megabytes`` at its peak. These are hang and blow-up detectors, far above
    what the bounded reader needs (well under a second, a few MB on these files), not timings:
    unbounded, the bombs below run for minutes and take gigabytes."""

    def timeout(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    if megabytes is not None:  # (tracemalloc slows the pure-Python reader several times)
        tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] if megabytes is not None else 0
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert megabytes is None or peak < megabytes * 2**20, f"peak allocation {peak / 2**20:.0f} MB"


def _write(tmp_path, data: str | bytes, name: str = "m.yaml"):
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return p


def _fails(path, match: str) -> str:
    """load_model raises a one-line ModelError matching ``match`` (within bounds); its message."""
    with bounded():
        with pytest.raises(ModelError, match=match) as e:
            load_model(path)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) <= ModelError.MAX_MESSAGE and M.INTERNAL not in msg, msg
    return msg


def bomb(kind: str = "map", width: int = 10, levels: int = 9, key: str = "name") -> str:
    """The "billion laughs": level i holds ``width`` aliases of level i-1; 10^9 leaves, < 1 kB."""
    lines = ["kind: engine"]
    for i in range(levels):
        kids = [f"*l{i - 1}" if i else "lol" for _ in range(width)]
        body = "{" + ", ".join(f"k{j}: {c}" for j, c in enumerate(kids)) + "}" if kind == "map" else \
            "[" + ", ".join(kids) + "]"
        lines.append(f"l{i}: &l{i} {body}" if i < levels - 1 else f"{key}: &l{i} {body}")
    return "\n".join(lines) + "\n"


# -- item 8: alias bombs, recursion, nesting, size --------------------------------------------------

@pytest.mark.parametrize("kind", ["map", "seq"])
@pytest.mark.parametrize("key", ["name", "params", "x0"])
def test_alias_bombs_under_1kB_are_refused_at_once(tmp_path, kind, key):
    text = bomb(kind, key=key)
    assert len(text.encode()) < 1024
    msg = _fails(_write(tmp_path, text), r"m\.yaml:\d+: more than 10,000 nodes with aliases expanded")
    assert msg.startswith(f"{tmp_path / 'm.yaml'}:")


def test_models_listing_survives_a_bomb_and_lists_the_others(tmp_path):
    from chemsolve.cli import list_models

    _write(tmp_path, bomb("map"), "bomb.yaml")
    _write(tmp_path, GOOD, "good.yaml")
    out = io.StringIO()
    with bounded():
        assert list_models(str(tmp_path), out=out) == 0
    rows = out.getvalue().splitlines()[2:]
    assert len(rows) == 2
    assert rows[0].startswith("bomb.yaml") and "unreadable" in rows[0] and "more than 10,000 nodes" in rows[0]
    assert rows[1].split()[:2] == ["good.yaml", "engine"]


def test_aliases_within_the_bounds_load_and_are_copies_not_shared(tmp_path):
    """A model may use anchors, aliases and merge keys; the loaded data is a plain tree, so a
    --set through one alias does not change the other key."""
    text = GOOD.replace("params: {R: 10, P: 40}", "params: &p {R: 10, P: 40}").replace(
        "solver: {max_rel_step: 0.9}", "solver: {<<: {max_rel_step: 0.9}, ftol: 1.0e-10}")
    m = load_model(_write(tmp_path, text))
    assert m.params.tolist() == [10.0, 40.0] and m.solver == {"max_rel_step": 0.9, "ftol": 1e-10}
    data, lines = M.read(_write(tmp_path, "a: &x {k: 1}\nb: *x\nc: {<<: *x, j: 2}\n"))
    assert data == {"a": {"k": 1}, "b": {"k": 1}, "c": {"k": 1, "j": 2}}
    assert data["a"] is not data["b"]
    assert lines[("a",)] == 1 and lines[("a", "k")] == 1 and lines[("b",)] == 2 and lines[("c", "j")] == 3


@pytest.mark.parametrize("text, match", [
    ("kind: engine\na: &a [1, *a]\n", r"m\.yaml:2: alias \*a refers to a collection that contains it"),
    ("kind: engine\na: &a {k: *a}\n", r"m\.yaml:2: alias \*a refers to a collection that contains it"),
    ("kind: engine\na: *nothing\n", r"m\.yaml:2: not valid YAML: found undefined alias 'nothing'"),
    ("kind: engine\n" + "".join(f"a{i}: &a{i} 1\n" for i in range(M.MAX_ALIASES + 1))
     + "b: [" + ", ".join(f"*a{i}" for i in range(M.MAX_ALIASES + 1)) + "]\n", r"more than 100 aliases"),
])
def test_recursive_undefined_and_too_many_aliases(tmp_path, text, match):
    _fails(_write(tmp_path, text), match)


@pytest.mark.parametrize("nest", [
    "[" * 100_000 + "]" * 100_000,  # flow sequences: a RecursionError before the bound
    "{a: " * 50_000 + "1" + "}" * 50_000,
    "\n" + "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "1",  # block mappings
])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path, nest):
    _fails(_write(tmp_path, f"kind: engine\nx0: {nest}\n"), r"m\.yaml:\d+: nested more than 32 levels deep")


def test_file_size_is_bounded_and_a_file_under_the_bound_loads(tmp_path):
    pad = "# " + "x" * 100 + "\n"
    big = GOOD + pad * ((M.MAX_BYTES - len(GOOD)) // len(pad))
    assert M.MAX_BYTES - len(pad) < len(big.encode()) <= M.MAX_BYTES
    with bounded(megabytes=None):
        assert load_model(_write(tmp_path, big)).problem == "propane"
    _fails(_write(tmp_path, big + pad), r"m\.yaml: larger than 1,048,576 bytes")
    # one line of 1 MB: a long text, read (and refused as a name would be shown) in bounds
    long = GOOD.replace("name: propane", "name: " + "n" * (M.MAX_BYTES - len(GOOD) - 10))
    with bounded(megabytes=None):
        assert len(load_model(_write(tmp_path, long)).name) > 10**6 - 200


# -- item 9: duplicate keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, match", [
    (GOOD + "name: another\n", r"m\.yaml:8: duplicate key 'name' \(also on line 2\)"),
    (GOOD.replace("params: {R: 10, P: 40}", "params: {R: 10, P: 40, R: 20}"),
     r"m\.yaml:5: duplicate key 'R' \(also on line 5\)"),
    (GOOD.replace("solver: {max_rel_step: 0.9}", "solver:\n  max_iter: 5\n  'max_iter': 6"),
     r"m\.yaml:9: duplicate key 'max_iter' \(also on line 8\)"),  # quoted or not: one key
    ("kind: engine\n1: a\n0x1: b\n", r"m\.yaml:3: duplicate key '0x1' \(also on line 2\)"),  # both the integer 1
])
def test_duplicate_keys_are_errors_naming_both_lines(tmp_path, text, match):
    _fails(_write(tmp_path, text), match)


def test_duplicate_keys_in_a_set_value_are_errors_too():
    with pytest.raises(ModelError, match=r"--set params=\{R: 1, R: 2\}: not a value \(duplicate key 'R'"):
        M.apply_overrides(M.Path("m.yaml"), {}, {"params": "{R: 1, R: 2}"})
    with pytest.raises(ModelError, match=r"not a value \(more than 10,000 nodes"):
        M.apply_overrides(M.Path("m.yaml"), {}, {"name": bomb("seq").split("\n", 1)[1].replace("\n", ", ")
                                                  .replace("name: ", "z: ").join("{}")})


# -- item 10: encodings, characters, values YAML cannot construct, huge numbers -----------------------

@pytest.mark.parametrize("encode, match", [
    (lambda t: t.replace("a test", "caf\u00e9").encode("latin-1"), r"m\.yaml:3: not UTF-8 text \(byte 0xe9"),
    (lambda t: t.encode("utf-16-le"), r"m\.yaml:1: NUL byte in the file .*UTF-16 without a byte-order mark"),
    (lambda t: t.encode("utf-32"), r"m\.yaml: the file is UTF-32"),
    (lambda t: t.replace("a test", "a\x01test").encode(), r"m\.yaml:3: character #x0001 is not allowed in YAML"),
    (lambda t: t.encode()[:-40] + b"\xe2\x82", r"m\.yaml:6: not UTF-8 text \(byte 0xe2"),
    (lambda t: t.encode("utf-16")[:-1], r"m\.yaml:\d+: not UTF-16 text"),
])
def test_bad_encodings_are_one_line_errors_with_the_line(tmp_path, encode, match):
    _fails(_write(tmp_path, encode(GOOD)), match)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_utf8_with_or_without_bom_and_utf16_with_bom_load_alike(tmp_path, encoding):
    m = load_model(_write(tmp_path, GOOD.replace("a test", "caf\u00e9 \u00b0C").encode(encoding)))
    assert m.provenance == "caf\u00e9 \u00b0C" and m.params.tolist() == [10.0, 40.0]


@pytest.mark.parametrize("line, match", [
    ("R: !!float abc", r"m\.yaml:6: cannot read 'abc' as float"),
    ("R: !!python/object/apply:os.system [ls]", r"m\.yaml:6: not valid YAML: could not determine a constructor"),
    ("R: 1" + "0" * 5000, r"m\.yaml:6: an integer of 5,001 characters; at most 100"),
    ("R: 0x" + "f" * 1000, r"m\.yaml:6: an integer of 1,002 characters"),
    ("R: 1" + ":59" * 100_000, r"m\.yaml:6: an integer of 300,001 characters"),  # base 60: 5 s to read, 1 MB: minutes
    ("R: 2001-13-45", r"m\.yaml:6: cannot read '2001-13-45' as timestamp: month must be in 1..12"),
    ("R: 1e999", r"m\.yaml:6: params.R = '1e999' is not a finite number"),
    ("R: 2001-12-14", r"m\.yaml:6: params.R = datetime.date\(2001, 12, 14\) is not a finite number"),
])
def test_values_yaml_cannot_make_or_chemsolve_cannot_use(tmp_path, line, match):
    text = GOOD.replace("params: {R: 10, P: 40}", "params:\n  " + line + "\n  P: 40")
    _fails(_write(tmp_path, text), match)


def test_a_file_phi_sweep_is_capped_like_the_sweep_option(tmp_path):
    gas = """kind: gas
name: g
provenance: p
mechanism: h2o2.yaml
mode: TP
units: {T: K, P: atm}
T: 1000
P: 1
fuel: {H2: 1}
oxidizer: {O2: 1, N2: 3.76}
phi: {start: 0.5, stop: 2, num: NUM}
"""
    _fails(_write(tmp_path, gas.replace("NUM", "1000000000")),
           r"m\.yaml:11: phi.num = 1000000000 must be an integer in \[1, 100,000\] \(larger grids: chemsolve sweep")
    m = load_model(_write(tmp_path, gas.replace("NUM", "3")))
    assert np.allclose(m.phi, [0.5, 1.25, 2.0]) and len(m.feeds) == 3
    # found by the fuzzer: keys of several types in the sweep (sorting them raised TypeError)
    _fails(_write(tmp_path, gas.replace("NUM", "3, 1: a, x: b")),
           r"m\.yaml:11: a phi sweep is \{start:, stop:, num:\}; unknown key 1")


@pytest.mark.parametrize("unit, match", [
    ("9**9**9", r"is not a unit chemsolve reads: a power"),  # pint computes it in big integers: never returns
    ("(K**9)**9", r"is not a unit chemsolve reads: a power"),
    ("K" * 200, r"is not a unit \(a text of 200 characters\)"),
])
def test_unit_texts_pint_would_hang_on_are_refused(tmp_path, unit, match):
    text = ("kind: gas\nname: g\nprovenance: p\nmechanism: h2o2.yaml\nmode: TP\n"
            f"units: {{T: '{unit}', P: atm}}\nT: 1000\nP: 1\nX: {{H2: 1}}\n")
    _fails(_write(tmp_path, text), rf"m\.yaml:6: unit .* for T {match}")


def test_messages_are_one_bounded_line_whatever_the_file_holds(tmp_path):
    text = GOOD + '? "' + "k" * 100_000 + '\\nsecond line"\n: 1\n'  # (a simple key is at most 1024 characters)
    msg = _fails(_write(tmp_path, text), r"m\.yaml:8: unknown key 'kkkk.*\.\.\.")
    assert len(msg) < 400
    bad_kind = "kind: [" + ", ".join(["[1, 2, 3]"] * 2000) + "]\n"
    assert len(_fails(_write(tmp_path, bad_kind), r"m\.yaml:1: kind: \[\[1, 2, 3\], .*\.\.\.\] is not supported")) < 400
