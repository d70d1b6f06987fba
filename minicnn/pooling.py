"""Pooling layers: max and average, windowed and global (Keras's ``BasePooling`` and
``BaseGlobalPooling``)."""

from __future__ import annotations

import math

import autograd.numpy as anp

from . import ops
from .layer import Layer
from .validation import (
    check_bool,
    format_shape,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)


class BasePooling(Layer):
    """Max or average pooling over ``rank`` spatial axes; strides default to ``pool_size``
    (Keras's ``BasePooling``)."""

    rank = 2
    mode = "max"
    spatial_mapping = "window"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = standardize_tuple(
            self.pool_size if strides is None else strides, self.rank, "strides"
        )
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

    @property
    def window(self) -> ops.Window:
        return ops.Window(self.pool_size, self.strides, (1,) * self.rank, self.padding)

    def check_input(self, input_shape):
        super().check_input(input_shape)
        out = self._output_shape(input_shape)
        if any(d is not None and d <= 0 for d in out[1:-1]):
            raise ValueError(
                f"Layer '{self.name}': computed output size would be zero or negative. "
                f"Received: `inputs.shape={format_shape(input_shape)}` and "
                f"`pool_size={self.pool_size}`."
            )

    def _output_shape(self, input_shape):
        spatial = tuple(
            ops.output_length(n, k, s, 1, self.padding)
            for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides)
        )
        return (input_shape[0], *spatial, input_shape[-1])

    def apply(self, weights, x, training=False, rng=None):
        return ops.pool(x, self.pool_size, self.strides, self.padding, self.mode)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(BasePooling):
    """Largest value of each window over ``(batch, steps, channels)``; ``pool_size=2``."""

    rank, mode = 1, "max"


class MaxPooling2D(BasePooling):
    """Largest value of each window over ``(batch, rows, cols, channels)``; ``pool_size=(2, 2)``."""

    rank, mode = 2, "max"


class AveragePooling1D(BasePooling):
    """Mean of each window over ``(batch, steps, channels)``; ``pool_size=2``."""

    rank, mode = 1, "average"


class AveragePooling2D(BasePooling):
    """Mean of each window over ``(batch, rows, cols, channels)``; ``pool_size=(2, 2)``."""

    rank, mode = 2, "average"


class BaseGlobalPooling(Layer):
    """Max or mean over all spatial axes: ``(batch, *spatial, c)`` -> ``(batch, c)``
    (or ``(batch, 1, ..., 1, c)`` with ``keepdims=True``); Keras's ``BaseGlobalPooling``."""

    rank = 2
    mode = "max"
    spatial_mapping = "all"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        self.data_format = standardize_data_format(data_format)
        self.keepdims = check_bool(keepdims, type(self).__name__, "keepdims")
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if 0 in input_shape[1:-1]:
            # The max or mean of nothing: numpy would raise or divide by zero mid-forward.
            raise ValueError(
                f"Layer '{self.name}': cannot pool over an empty spatial axis. Received input "
                f"shape {format_shape(input_shape)}"
            )

    def _output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def apply(self, weights, x, training=False, rng=None):
        axes = tuple(range(1, 1 + self.rank))
        if self.mode == "max":
            return ops.reduce_max(x, axes, self.keepdims)
        # sum * (1/n) rather than mean: autograd's mean VJP divides by a numpy int and
        # would hand back float64 gradients for float32 inputs.
        return anp.sum(x, axis=axes, keepdims=self.keepdims) * (1 / math.prod(x.shape[1:-1]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    rank, mode = 2, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    rank, mode = 1, "average"


class GlobalAveragePooling2D(BaseGlobalPooling):
    rank, mode = 2, "average"


MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
