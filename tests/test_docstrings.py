"""Every docstring example in the package runs (doctest on every module)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import pytest

import pluraleval

MODULES = sorted(m.name for m in pkgutil.walk_packages(pluraleval.__path__, "pluraleval."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    # importlib: some module names are shadowed by re-exported functions (pluraleval.report)
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS
                                 | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_public_functions_have_examples():
    missing = [name for name in pluraleval.__all__
               if callable(getattr(pluraleval, name)) and not isinstance(
                   getattr(pluraleval, name), type)
               and ">>>" not in (getattr(pluraleval, name).__doc__ or "")]
    assert not missing, f"public functions without a docstring example: {missing}"
