"""The compile-time recorder behind benchmarks/first_use.py and chemsolve.flash.bench.compile_times."""

import pytest

numba = pytest.importorskip("numba")


def test_inclusive_and_exclusive_times_of_a_kernel_and_its_callee():
    from chemsolve.kernels.compile_events import compile_times

    @numba.njit
    def inner(x):
        return x * 2.0

    @numba.njit
    def outer(x):
        return inner(x) + 1.0

    with compile_times() as rows:
        assert outer(1.0) == 3.0
    name = f"{__name__}.test_inclusive_and_exclusive_times_of_a_kernel_and_its_callee.<locals>"
    o, i = rows[f"{name}.outer"], rows[f"{name}.inner"]
    assert o[2] == 1 and i[2] == 1  # one specialisation each
    assert 0.0 < i[1] <= i[0] and 0.0 < o[1] < o[0]  # outer's own time excludes inner's compilation
    assert o[0] >= i[0]
    with compile_times() as again:  # compiled already: nothing recorded, and the listener is gone
        outer(2.0)
    assert again == {}


def test_the_scripts_that_use_it_compile():
    """The two child-process scripts (run cold, minutes each: not run here) are valid Python that imports it."""
    import importlib.util
    import os

    from chemsolve.flash import bench

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location("first_use", os.path.join(root, "benchmarks", "first_use.py"))
    fu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fu)
    for script in (bench._COMPILE_SCRIPT, fu.RECORD):
        compile(script, "<script>", "exec")
        assert "from chemsolve.kernels.compile_events import compile_times" in script
