"""Adding a model kind touches its own module plus one registration (chemsolve.registry.KINDS): a toy
kind written here — a scalar root x**2 = a — is loaded from a model file, run, reported, swept and
plotted by the package's generic front doors, none of which knows its name."""

import io
import sys
import textwrap

import numpy as np
import pytest

import chemsolve as cs
from chemsolve import registry

TOY = textwrap.dedent('''
    """A toy model kind: the positive root of x**2 = a."""
    from dataclasses import dataclass
    import numpy as np
    import chemsolve as cs
    from chemsolve.modelfile import COMMON_KEYS, check_keys, numbers
    from chemsolve.registry import ModelKind

    @dataclass(frozen=True)
    class ToyModel:
        path: str
        kind: str
        name: str
        a: float
        solver: dict

        def resource(self):
            return None

        def run(self, resource=None):
            return cs.solve(lambda x: x ** 2 - self.a, [1.0])

    class ToyKind(ModelKind):
        name = "toy"
        keys = {**COMMON_KEYS, "a": True}
        sweep_help = "a"
        bench_suite = ("toy_kind:bench", 3, "scipy", "toy roots")

        def load(self, path, data, where):
            check_keys(data, self.keys, "toy", path, where)
            return ToyModel(str(path), "toy", data["name"], numbers(where)(("a",), data["a"]), {})

        def check_sweep(self, model, cols):
            if set(cols) - {"a"}:
                raise cs.InvalidInputError(f"sweep: only a in the toy model")

        def sweep_block(self, model, resource, cols, n, chunk, columns):
            rs = [cs.solve(lambda x, a=a: x ** 2 - a, [1.0]) for a in cols["a"]]
            return (np.array([int(r.status) for r in rs]), np.array([r.nit for r in rs]),
                    {"x": np.array([r.x[0] for r in rs])})

        def report(self, model, r, fmt, out):
            print(f"{model.name}: x = {r.x[0]:.12g} ({r.status})", file=out)
            return 0 if r.success else 1

        def plot(self, model, ax):
            ax.plot([0, model.a], [0, model.run().x[0] ** 2])

    KIND = ToyKind()


    def bench(n, peer, log):
        from chemsolve.bench import Check, Report

        rep = Report("toy", "toy roots", n, 1, f"scipy {peer}")
        rs = [cs.solve(lambda x, a=a: x ** 2 - a, [1.0]) for a in range(1, n + 1)]
        err = max(abs(r.x[0] - np.sqrt(a)) for a, r in zip(range(1, n + 1), rs))
        rep.checks.append(Check("max |x - sqrt(a)|", err, 1e-10, "the toy's own", n, 0))
        return rep.finish()
''')


@pytest.fixture()
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_kind.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.KINDS, "toy", "toy_kind")  # the one registration
    f = tmp_path / "root.yaml"
    f.write_text("kind: toy\nname: a root\nprovenance: a test\na: 2\n")
    yield f
    sys.modules.pop("toy_kind", None)


def test_a_new_kind_is_one_module_plus_one_registration(toy, tmp_path):
    from chemsolve import cli
    from chemsolve.models import load_model

    m = load_model(toy)
    assert registry.kind_of(m).name == "toy" and m.a == 2.0
    out = io.StringIO()
    assert cli.run(str(toy), out=out) == 0 and "x = 1.41421356237" in out.getvalue()
    df = cs.sweep(toy, {"a": [1.0, 4.0, 9.0]})
    np.testing.assert_allclose(df["x"], [1.0, 2.0, 3.0], rtol=1e-10)
    assert (df["status"] == "CONVERGED").all()
    with pytest.raises(cs.InvalidInputError, match="only a in the toy model"):
        cs.sweep(toy, {"b": [1.0]})
    with pytest.raises(cs.InvalidInputError, match=r"unknown key 'b' for kind toy"):
        (tmp_path / "bad.yaml").write_text("kind: toy\nname: x\nprovenance: p\na: 1\nb: 2\n")
        load_model(tmp_path / "bad.yaml")
    pytest.importorskip("matplotlib")
    from chemsolve.plots import plot_model

    assert plot_model(m, tmp_path / "toy.png") and (tmp_path / "toy.png").stat().st_size > 0
    from chemsolve import bench

    out = io.StringIO()
    assert bench.command(None, out=out, list_only=True) == 0 and "toy roots" in out.getvalue()
    out = io.StringIO()
    assert bench.command("toy", quiet=True, out=out) == 0 and "max |x - sqrt(a)|" in out.getvalue()


def test_unregistered_kind_is_one_line_listing_the_registered():
    from chemsolve.models import ModelError

    with pytest.raises(KeyError):
        registry.get("nosuch")
    assert registry.names()[:3] == ["aqueous", "gas", "engine"]
    with pytest.raises(ModelError):
        raise ModelError("x")


def test_no_front_door_tests_kind_names():
    """cli, sweeps, plots, bench and the advisors ask the registry; they never compare kind names."""
    import pathlib
    import re

    root = pathlib.Path(cs.__file__).parent
    pat = re.compile(r"""kind *(==|!=) *['"]|kind in [(\[{]['"]""")
    for f in ("cli.py", "sweeps.py", "plots.py", "bench.py", "models.py", "advisors/classical.py",
              "advisors/llm.py", "advisors/base.py"):
        hits = [ln for ln in (root / f).read_text().splitlines() if pat.search(ln)]
        assert hits == [], (f, hits)


def test_every_registered_kind_implements_the_protocol():
    """Each registered kind (aqueous, gas, engine, flash) provides what the generic front doors call: its
    loader, sweep check and block, run report and figure (the defaults raise NotImplementedError)."""
    for name in registry.names():
        kind = registry.get(name)
        assert kind.name == name and kind.about and kind.keys.get("kind") is True
        for method in ("load", "check_sweep", "sweep_block", "report", "plot"):
            assert getattr(type(kind), method) is not getattr(registry.ModelKind, method), (name, method)
    assert "flash" in registry.names()
    assert registry.get("flash").column_families  # its x_ / y_ columns are labelled in a sweep's figure
