"""The `Examples:` sections of public docstrings run and print what they claim.

Every kzoo module whose source holds a `>>>` example is collected, so a new module's examples
are tested the day it lands.
"""

import doctest
import importlib
import pathlib
import pkgutil
import re

import pytest

import kzoo


def _modules_with_examples():
    root = pathlib.Path(kzoo.__file__).parent
    names = []
    for info in pkgutil.walk_packages([str(root)], prefix="kzoo."):
        path = root.joinpath(*info.name.split(".")[1:])
        source = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
        if ">>>" in source.read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_examples_are_collected():
    assert "kzoo.layers.attention" in MODULES and "kzoo.metrics.classification" in MODULES


def test_example_sections_use_the_header_the_api_reference_renders():
    """mkdocstrings renders `Examples:` (its code indented under it) as code; `Example:` becomes
    an admonition whose `>>>` lines read as prose."""
    root = pathlib.Path(kzoo.__file__).parent
    singular = [str(p.relative_to(root)) for p in root.rglob("*.py") if re.search(r"^\s*Example:$", p.read_text(encoding="utf-8"), re.M)]
    assert not singular, singular


@pytest.fixture(autouse=True)
def _close_figures():
    """Examples that draw leave their figures open; one test process runs them all."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
