"""minicnn: a small, exact and fast convolutional-network framework, imported like Keras.

from minicnn.models import Sequential
from minicnn.layers import Conv1D, Conv2D
"""

from . import initializers, layers, models, ops, utils
from .gradcheck import gradcheck
from .utils import set_random_seed

__version__ = "0.1.0"
__all__ = ["initializers", "layers", "models", "ops", "utils", "set_random_seed", "gradcheck"]
