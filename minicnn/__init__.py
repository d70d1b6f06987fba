"""minicnn: a small, exact and fast convolutional-network framework, imported like Keras.

from minicnn.models import Sequential
from minicnn.layers import Conv1D, Conv2D

or, in Keras 3's top-level style, ``import minicnn as keras`` and then
``keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3)])``,
``keras.Model(inputs, outputs)``, ``keras.utils.to_categorical``, ``keras.optimizers.Adam``...
"""

from . import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    missing,
    models,
    ops,
    optimizers,
    utils,
    viz,
)
from .gradcheck import gradcheck
from .layers import Input
from .models import Model, Sequential
from .utils import set_random_seed
from .version import __version__

__all__ = [
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "utils",
    "viz",
    "Input",
    "Model",
    "Sequential",
    "set_random_seed",
    "gradcheck",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
