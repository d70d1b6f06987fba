"""minicnn: a small, exact and fast convolutional-network framework, imported like Keras.

from minicnn.models import Sequential
from minicnn.layers import Conv1D, Conv2D
"""

from . import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    utils,
    viz,
)
from .gradcheck import gradcheck
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
    "set_random_seed",
    "gradcheck",
]
