"""The code examples of the README and of the user guide run, as written (DESIGN section 9: the guide's
examples are executed by the tests). Each page's ``python`` blocks run in order in one namespace."""

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md", *sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "guide", "*.md")))]


def _blocks(path: str) -> list[str]:
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_every_page_is_checked():
    assert "docs/guide/engine.md" in PAGES and sum(len(_blocks(p)) for p in PAGES) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)])
def test_examples_run(page, tmp_path, monkeypatch):
    pytest.importorskip("cantera")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    ns: dict = {"__name__": "__docs__"}
    for i, code in enumerate(_blocks(page)):
        try:
            exec(compile(code, f"{page} (python block {i + 1})", "exec"), ns)  # noqa: S102 - our own docs
        except Exception as e:  # noqa: BLE001
            pytest.fail(f"{page}, python block {i + 1}: {type(e).__name__}: {e}")
