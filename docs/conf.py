"""Sphinx configuration of chemsolve's documentation (built with -W in .ci/run: warnings are errors)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
import chemsolve  # noqa: E402

project = "chemsolve"
author = "the chemsolve developers"
copyright = "2026, the chemsolve developers"
version = release = chemsolve.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "images/README.md"]
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"  # the numpydoc sections give types and units
numpydoc_show_class_members = False
numpydoc_validation_checks: set = set()
nitpicky = False
suppress_warnings = ["myst.header"]

html_theme = "pydata_sphinx_theme"
html_title = f"chemsolve {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list = []
