"""Docstrings in numpy style that document every argument, the shapes and a working
example, for the classes and functions documented so far (the learner-experience issue
extends this list to every public name). The examples run here as doctests."""

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
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    utils,
    viz,
)
from minicnn.models import Model, Sequential

LAYERS = [
    layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.Conv1DTranspose, layers.Conv2DTranspose,
    layers.DepthwiseConv1D, layers.DepthwiseConv2D, layers.SeparableConv1D,
    layers.SeparableConv2D, layers.Dense, layers.Flatten, layers.Dropout, layers.Add,
    layers.Subtract, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum,
    layers.Concatenate, layers.Activation, layers.ReLU, layers.LeakyReLU, layers.ELU,
    layers.Softmax, layers.PReLU, layers.Rescaling, layers.BatchNormalization,
    layers.SpatialDropout1D, layers.SpatialDropout2D, layers.Reshape, layers.Permute,
    layers.ZeroPadding1D, layers.ZeroPadding2D, layers.Cropping1D, layers.Cropping2D,
    layers.UpSampling1D, layers.UpSampling2D,
    layers.MaxPooling1D, layers.MaxPooling2D, layers.AveragePooling1D, layers.AveragePooling2D,
    layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D, layers.GlobalAveragePooling1D,
    layers.GlobalAveragePooling2D,
]  # fmt: skip
OTHERS = [
    callbacks.ModelCheckpoint, callbacks.ReduceLROnPlateau, callbacks.LearningRateScheduler,
    callbacks.CSVLogger, utils.get_file, utils.PyDataset, datasets.load_mnist,
    datasets.load_fashion_mnist, datasets.load_cifar10, datasets.digit_images,
    viz.plot_feature_maps, viz.plot_filters, viz.plot_history, layers.Input, Sequential,
    Model.compile, Model.fit, Model.evaluate, Model.predict,
    *(getattr(activations, name) for name in activations._ON_X),
    losses.MeanSquaredError, losses.MeanAbsoluteError, losses.BinaryCrossentropy,
    losses.CategoricalCrossentropy, losses.SparseCategoricalCrossentropy,
    losses.mean_squared_error, losses.mean_absolute_error, losses.binary_crossentropy,
    losses.categorical_crossentropy, losses.sparse_categorical_crossentropy,
    metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy, metrics.BinaryAccuracy,
    metrics.MeanSquaredError, metrics.MeanAbsoluteError, metrics.MeanMetricWrapper,
    optimizers.SGD, optimizers.Adam, optimizers.RMSprop,
    *(getattr(initializers, name) for name in (
        "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
        "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform",
        "LecunNormal", "LecunUniform",
    )),
    *(getattr(module, name) for module in (activations, losses, metrics, optimizers,
      initializers, layers) for name in ("get", "serialize", "deserialize")
      if hasattr(module, name)),
    minicnn.gradcheck, minicnn.models.load_model, viz.render, viz.show,
    datasets.bump_sequences, datasets.line_images, datasets.feature_map_pairs,
    utils.set_random_seed, callbacks.EarlyStopping, callbacks.LambdaCallback, losses.Loss,
    losses.LossFunctionWrapper, optimizers.Optimizer,
]  # fmt: skip


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
