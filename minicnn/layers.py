"""Every layer by its Keras name: ``from minicnn.layers import Conv2D, Dense``.

The protocol every layer follows is in ``minicnn.layer`` (see also ARCHITECTURE.md); the
layers themselves live by family, as in Keras: ``convolutional``, ``pooling``, ``core``,
``regularization``, ``normalization``, ``reshaping``.
``REGISTRY`` holds the only classes a config or a file can ask for.
"""

from __future__ import annotations

from . import missing
from .convolutional import (
    BaseConv,
    BaseConvTranspose,
    BaseDepthwiseConv,
    BaseSeparableConv,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from .core import (
    ELU,
    Activation,
    Dense,
    Flatten,
    Identity,
    LeakyReLU,
    PReLU,
    ReLU,
    Rescaling,
    Softmax,
)
from .layer import Input, InputLayer, KerasTensor, KernelLayer, Layer, WeightSpec
from .merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Merge,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    BaseGlobalPooling,
    BasePooling,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .registry import Registry
from .regularization import Dropout, SpatialDropout1D, SpatialDropout2D
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

REGISTRY = Registry("layers", "layer")
#: The model classes a config or file may name (models are layers too, as in Keras);
#: ``minicnn.models`` registers its own.
MODEL_CLASSES = Registry("models", "model")
for _cls in (
    InputLayer,
    Conv1D,
    Conv2D,
    Conv3D,
    Dense,
    Flatten,
    Activation,
    ReLU,
    MaxPooling1D,
    MaxPooling2D,
    AveragePooling1D,
    AveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    Conv1DTranspose,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    LeakyReLU,
    ELU,
    Softmax,
    PReLU,
    Rescaling,
    Identity,
    Dropout,
    SpatialDropout1D,
    SpatialDropout2D,
    BatchNormalization,
    Reshape,
    Permute,
    ZeroPadding1D,
    ZeroPadding2D,
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    Concatenate,
):
    REGISTRY.register(_cls)
#: Layer classes by name: the only classes a config or file can ask for.
LAYERS = REGISTRY.classes


def serialize(layer: Layer) -> dict:
    """``{"class_name", "config"}`` of one of minicnn's layers or models (Keras's form).

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    The dict.

    Examples
    --------
    >>> serialize(Dense(3, name="d"))["class_name"]
    'Dense'
    """
    if MODEL_CLASSES.classes.get(type(layer).__name__) is type(layer):
        return MODEL_CLASSES.serialize(layer)  # a model, as Keras serializes one
    return REGISTRY.serialize(layer)


def deserialize(config) -> Layer:
    """A new layer (or model) from ``serialize``'s dict; only minicnn's own classes.

    Parameters
    ----------
    config : dict

    Returns
    -------
    The Layer.

    Examples
    --------
    >>> deserialize(serialize(Dense(3, name="d"))).units
    3
    """
    if isinstance(config, dict) and MODEL_CLASSES.lookup(config.get("class_name")):
        return MODEL_CLASSES.deserialize(config)
    return REGISTRY.deserialize(config)


# The public names, as keras.layers has them (the base classes, KernelLayer, KerasTensor,
# WeightSpec and the registry stay importable for extending minicnn, but are not the API).
__all__ = [
    *sorted(LAYERS),
    "AvgPool1D",
    "AvgPool2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "MaxPool1D",
    "MaxPool2D",
    "Input",
    "Layer",
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "serialize",
    "deserialize",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
