"""Every public class and function (each module's ``__all__``, and the model methods
learners call help() on) has a numpy-style docstring that documents every argument, the
shapes (for layers) and an example; the examples run here as doctests."""

from __future__ import annotations

import doctest
import inspect
import re

import numpy as np
import pytest

import minicnn
from minicnn import (
    activations,
    callbacks,
    datasets,
    explorer,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    utils,
    viz,
)
from minicnn.models import Model, Sequential

MODULES = [minicnn, layers, minicnn.models, losses, metrics, optimizers, callbacks,
           activations, initializers, datasets, utils, viz, explorer]  # fmt: skip
# Methods learners call help() on, beyond the classes and functions of every __all__.
METHODS = [Model.compile, Model.fit, Model.evaluate, Model.predict]


def public() -> list:
    """Every public class and function: each module's ``__all__``, once each."""
    seen, out = set(), []
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                out.append(obj)
    return out + METHODS


PUBLIC = public()
# Concrete layers (not the base Layer or InputLayer) also document their shapes.
LAYERS = [
    o for o in PUBLIC
    if inspect.isclass(o) and issubclass(o, layers.Layer)
    and o not in (layers.Layer, layers.InputLayer)
]  # fmt: skip
OTHERS = [o for o in PUBLIC if o not in LAYERS]


def test_every_public_name_is_checked():
    # The list is built, not written: a new public name is checked without being added.
    assert len(PUBLIC) > 150 and layers.Conv2D in LAYERS and losses.get in OTHERS


def parameters(obj) -> list[str]:
    if inspect.isclass(obj) and obj.__init__ is object.__init__:
        return []  # no arguments of its own
    target = obj.__init__ if inspect.isclass(obj) else obj
    names = []
    for p in list(inspect.signature(target).parameters.values()):
        if p.name in ("self", "model"):  # the instance (compile and fit take it as `model`)
            continue
        names.append("**" + p.name if p.kind is p.VAR_KEYWORD else p.name)
    return names


def section(doc: str, title: str) -> str:
    """The text of a numpy-style section, up to the next underlined title."""
    match = re.search(rf"^{re.escape(title)}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    "obj", [o for o in LAYERS + OTHERS if parameters(o)], ids=lambda o: o.__name__
)
def test_every_argument_is_documented(obj):
    doc = inspect.getdoc(obj)
    documented = section(doc, "Parameters")
    missing = [
        name
        for name in parameters(obj)
        if not re.search(rf"(^|[ ,]){re.escape(name)}\b", documented, re.M)
    ]
    assert documented and missing == [], f"{obj.__name__} does not document {missing}"


@pytest.mark.parametrize("obj", LAYERS, ids=lambda o: o.__name__)
def test_layers_document_their_shapes(obj):
    doc = inspect.getdoc(obj)
    assert section(doc, "Input shape").strip() and section(doc, "Output shape").strip()


@pytest.mark.parametrize("obj", LAYERS + OTHERS, ids=lambda o: o.__name__)
def test_the_example_runs_and_prints_what_it_says(obj):
    doc = inspect.getdoc(obj)
    assert section(doc, "Examples").strip().startswith(">>>"), obj.__name__
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    # The example sees the names of the module defining the object, as its readers do.
    globs = {**vars(inspect.getmodule(obj)), "np": np, obj.__name__: obj}
    globs.update(PyDataset=utils.PyDataset, Sequential=Sequential)
    for test in finder.find(obj, obj.__name__, globs=globs):
        runner.run(test)
    assert runner.failures == 0, f"{obj.__name__}: {runner.failures} example(s) failed"
