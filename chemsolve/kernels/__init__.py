"""Numba kernels. The only package that imports numba; importing it compiles nothing.

Submodules: ``codes`` (plain integers, no numba), ``linalg``, ``solver``.
"""
