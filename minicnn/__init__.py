"""minicnn: a small, exact and fast convolutional-network framework, imported like Keras.

from minicnn.models import Sequential
from minicnn.layers import Conv1D, Conv2D
"""

from . import (
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
)
from .gradcheck import gradcheck
from .utils import set_random_seed

__version__ = "0.1.0"
__all__ = [
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
    "set_random_seed",
    "gradcheck",
]
