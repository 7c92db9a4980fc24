"""Issue 12, docs: every public name of the Python API has a docstring (its doctests run with the suite, see
pyproject's --doctest-modules)."""

from __future__ import annotations

import inspect

import critmin
from critmin import api


def test_every_public_function_and_class_of_the_api_has_a_docstring():
    undocumented = []
    for name in api.__all__:
        value = getattr(api, name)
        if (inspect.isfunction(value) or inspect.isclass(value)) and not inspect.getdoc(value):
            undocumented.append(name)
    assert not undocumented, f"no docstring: {undocumented}"


def test_critmin_exposes_the_whole_api():
    assert set(api.__all__) <= set(critmin.__all__)
    assert critmin.run_and_store is api.run_and_store
