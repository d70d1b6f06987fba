"""Core layers: ``Dense``, ``Flatten``, ``Activation``, ``ReLU``."""

from __future__ import annotations

import math

import autograd.numpy as anp

from . import ops
from .layer import KernelLayer, Layer, activation_config
from .validation import finite_real, format_shape, is_int, standardize_data_format


class Dense(KernelLayer):
    """``activation(x @ kernel + bias)`` over the last axis; kernel ``(in, units)``."""

    spatial_mapping = "pointwise"

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        if not (is_int(units) or (isinstance(units, float) and units.is_integer())) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.units = int(units)
        self._init_kernel(locals())
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"min_ndim=2, found ndim={len(input_shape)}. Full shape received: "
                f"{format_shape(input_shape)}"
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}': the last axis of the input must be known. Received "
                f"input shape {format_shape(input_shape)}"
            )
        super().check_input(input_shape)

    def _output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def _kernel_shape(self, input_shape):
        return (input_shape[-1], self.units)

    def _units(self):
        return self.units

    def _product(self, x, kernel):
        return anp.matmul(x, kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Flatten(Layer):
    """``(batch, *dims)`` -> ``(batch, prod(dims))``, row-major (channels vary fastest)."""

    spatial_mapping = "all"

    def __init__(self, data_format=None, **kwargs):
        self.data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                "min_ndim=1, found ndim=0. Full shape received: ()"
            )

    def _output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def apply(self, weights, x, training=False, rng=None):
        # An explicit size, not -1: numpy cannot infer -1 for an empty batch.
        return anp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


# --------------------------------------------------------------------------- activations


class Activation(Layer):
    """Applies an activation function by name (``"relu"``, ``"softmax"``...) or callable."""

    spatial_mapping = "pointwise"
    activation = KernelLayer.activation

    def __init__(self, activation, **kwargs):
        self.activation = activation
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": activation_config(self.activation)}


class ReLU(Layer):
    """Keras's ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:
    ``min(x, max_value)`` for ``x > threshold``, else ``negative_slope * (x - threshold)``.
    """

    spatial_mapping = "pointwise"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        for arg, value, allow_none in (
            ("max_value", max_value, True),
            ("negative_slope", negative_slope, False),
            ("threshold", threshold, False),
        ):
            if value is None and allow_none:
                continue
            if not finite_real(value):
                raise ValueError(
                    f"{arg} of a ReLU layer must be a finite number. Received: {arg}={value!r}"
                )
            if value < 0:
                raise ValueError(
                    f"{arg} of a ReLU layer cannot be a negative value. Received: {arg}={value}"
                )
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return ops.relu(x, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }
