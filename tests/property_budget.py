"""Two budgets for a long property test: a small one in every run, the full one in the slow run.

    @property_test(fast=10, full=40, settings=TEXTBOOK, x=st.floats(), ...)
    def test_something(x, ...):
        ...

gives two pytest tests, ``test_something[fast]`` (``fast`` examples, always run) and ``test_something[full]``
(``full`` examples, marked slow: skipped unless pytest runs with --slow; `make test-slow` runs them). Both
check the same property with the same strategies; only the number of examples differs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import settings as Settings


def property_test(*, fast: int, full: int, settings: Settings | None = None, **strategies) -> Callable:
    def decorate(body: Callable) -> Callable:
        @pytest.mark.parametrize(
            "max_examples",
            [pytest.param(fast, id="fast"), pytest.param(full, id="full", marks=pytest.mark.slow)],
        )
        def test(max_examples: int) -> None:
            # a fresh @given wrapper per call: hypothesis refuses settings applied twice to one test
            Settings(settings, max_examples=max_examples)(given(**strategies)(body))()

        test.__name__, test.__qualname__, test.__doc__ = body.__name__, body.__qualname__, body.__doc__
        test.__module__ = body.__module__
        return test

    return decorate
