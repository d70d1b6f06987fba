"""Keras-compatible layers: each validates its arguments, infers shapes, holds weights, and
computes its output with a pure ``apply(weights, x)`` built on ``minicnn.ops``.

A layer's life:

1. ``__init__`` checks every argument (Keras's names, defaults and messages) and stores
   nothing else.
2. ``build(input_shape)`` checks the input shape, creates the weights with the
   initializers, and records ``input_shape``/``output_shape`` (batch axis ``None``).
3. ``compute_output_shape(input_shape)`` is the single place where an input shape is
   checked against the layer (rank, channels, size); models call it at their entry.
4. ``apply(weights, x)`` is the math: a pure function of a weight list (in
   ``get_weights()`` order) and an array, traceable by autograd in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import autograd.numpy as anp
import numpy as np

from . import initializers, ops
from .arguments import (
    activation_name,
    as_input,
    check_bool,
    check_weights,
    declared_input_shape,
    finite_real,
    format_shape,
    get_activation,
    is_float32,
    is_int,
    not_supported,
    positive_int,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from .utils import to_snake_case, unique_name

Shape = tuple


# --------------------------------------------------------------------------- base class


class Layer:
    """Base class. Subclasses set ``weight_names`` in ``build`` and implement
    ``_output_shape`` (after ``check_input``) and ``apply``.

    Keyword arguments every layer accepts, as in Keras: ``name``, ``dtype`` (float32
    only), ``trainable``, ``input_shape``/``input_dim``/``batch_input_shape`` (used by
    ``Sequential`` when the layer comes first). Anything else is a ``ValueError``.
    """

    def __init__(
        self,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        input_shape=None,
        input_dim=None,
        batch_input_shape=None,
        batch_size=None,
        **kwargs,
    ):
        kind = type(self).__name__
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {kind}: {kwargs}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(
                f"{kind}: `name` must be a non-empty string without '/'. Received: name={name!r}"
            )
        if dtype is not None and not is_float32(dtype):
            raise ValueError(
                f"{kind}: minicnn layers compute in float32; dtype={dtype!r} is not supported."
            )
        self.name = name or unique_name(to_snake_case(kind))
        self.trainable = check_bool(trainable, kind, "trainable")
        self.input_shape_arg = declared_input_shape(
            kind, input_shape, input_dim, batch_input_shape, batch_size
        )
        self.built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.weight_names: tuple[str, ...] = ()
        self._weights: list[np.ndarray] = []

    # ---- shapes
    def build(self, input_shape: Shape) -> None:
        """Check ``input_shape`` (batch axis first, may be None), create the weights."""
        input_shape = tuple(input_shape)
        self.check_input(input_shape)
        names, shapes, inits = self._weight_specs(input_shape)
        for weight, shape in zip(names, shapes):
            # Beyond this numpy raises "Maximum allowed dimension exceeded" or "array is
            # too big" (initializers draw in float64, 8 bytes an element).
            if math.prod(shape) > np.iinfo(np.intp).max // 8:
                raise ValueError(
                    f"Layer '{self.name}': weight '{weight}' of shape {shape} has more "
                    "elements than an array can hold; check `units`/`filters`/`kernel_size`."
                )
        self.weight_names = names
        self._weights = [np.asarray(init(s), dtype=np.float32) for s, init in zip(shapes, inits)]
        self.input_shape = input_shape
        self.output_shape = self._output_shape(input_shape)
        self.built = True

    def _weight_specs(self, input_shape: Shape):
        """``(names, shapes, initializers)`` of the weights; none by default."""
        return (), (), ()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape``; a ValueError if the layer cannot take it."""
        input_shape = tuple(input_shape)
        self.check_input(input_shape)
        return self._output_shape(input_shape)

    def check_input(self, input_shape: Shape) -> None:
        """Raise ValueError if this layer cannot take inputs of ``input_shape``."""
        ndim = getattr(self, "ndim", None)
        if ndim is not None and len(input_shape) != ndim:
            word = "min_ndim" if len(input_shape) < ndim else "ndim"
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"{word}={ndim}, found ndim={len(input_shape)}. Full shape received: "
                f"{format_shape(input_shape)}"
            )
        channels = self._expected_channels()
        if channels is not None and input_shape[-1] != channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {channels}, but received input with "
                f"shape {format_shape(input_shape)}"
            )

    def _expected_channels(self) -> int | None:
        return self.input_shape[-1] if self.built and self.weight_names else None

    def _output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    # ---- weights
    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weights (copies), in ``weight_names`` order."""
        return self.get_weights()

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as float32 numpy arrays, in ``weight_names`` order."""
        return [w.copy() for w in self._weights]

    def set_weights(self, weights: Sequence) -> None:
        """Replace every weight at once; the count and each shape are checked first."""
        self._weights = check_weights(self.name, self._weights, weights)

    def _weight(self, name: str):
        """A copy of the weight called ``name``; None for a bias the layer does not use
        (Keras's ``layer.bias`` with ``use_bias=False``)."""
        if not self.built:
            raise AttributeError(
                f"Layer '{self.name}' has no `{name}` yet: it is created when the layer is "
                "built (add it to a model with a known input shape, or call it on data)."
            )
        if name not in self.weight_names:
            return None
        return self._weights[self.weight_names.index(name)].copy()

    def count_params(self) -> int:
        return sum(w.size for w in self._weights)

    # ---- math
    def apply(self, weights: Sequence, x):
        """The layer's output for ``x`` with ``weights``; pure, differentiable."""
        raise NotImplementedError

    def __call__(self, x) -> np.ndarray:
        """Apply the layer to a batch with its own weights; builds it on first use."""
        x = as_input(x, f"'{self.name}'")
        if not self.built:
            self.build((None, *x.shape[1:]))
        self.compute_output_shape(x.shape)
        return np.asarray(self.apply(self._weights, x))

    # ---- config
    def get_config(self) -> dict:
        """Constructor arguments, Keras-style; ``type(layer).from_config`` rebuilds it."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Rebuild a layer from ``get_config()``; initializer dicts are deserialized first."""
        config = dict(config)
        for key in ("kernel_initializer", "bias_initializer"):
            if isinstance(config.get(key), dict):
                config[key] = initializers.deserialize(config[key])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


# --------------------------------------------------------------------------- input


class InputLayer(Layer):
    """Declares the per-sample input shape of a ``Sequential`` model; holds no weights.

    ``model.layers`` never lists it, as in Keras.
    """

    def __init__(
        self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs
    ):
        if (shape is None) == (batch_shape is None):
            raise ValueError(
                "InputLayer: pass either `shape` (per sample) or `batch_shape`. Received: "
                f"shape={shape!r}, batch_shape={batch_shape!r}"
            )
        super().__init__(
            name=name, dtype=dtype, input_shape=shape, batch_input_shape=batch_shape, **kwargs
        )

    def get_config(self) -> dict:
        return {"name": self.name, "shape": list(self.input_shape_arg)}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None) -> InputLayer:
    """``Input(shape=(8, 8, 1))``: the first element of a ``Sequential`` layer list."""
    return InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name
    )


# --------------------------------------------------------------------------- convolution


class _Conv(Layer):
    """N-d convolution layer (``Conv1D``, ``Conv2D``, ``Conv3D`` fix ``rank``).

    Input ``(batch, *spatial, in_ch)``; kernel ``(*kernel_size, in_ch // groups, filters)``;
    bias ``(filters,)``; output ``activation(conv(x, kernel) + bias)``.
    """

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
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
        kind, rank = type(self).__name__, self.rank
        self.filters = positive_int(filters, kind, "filters")
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding, allow_causal=rank == 1)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if not is_int(groups) or groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        self.groups = int(groups)
        if self.filters % self.groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = get_activation(activation)
        self._activation_config = activation_name(activation)
        self.use_bias = check_bool(use_bias, kind, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        not_supported(
            kind,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        super().__init__(**kwargs)
        self.ndim = rank + 2

    def check_input(self, input_shape):
        super().check_input(input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"Layer '{self.name}': the channel axis of the input must be known. "
                f"Received input shape {format_shape(input_shape)}"
            )
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {channels} "
                f"channels (full input shape is {format_shape(input_shape)})."
            )
        out = self._output_shape(input_shape)
        if any(d is not None and d <= 0 for d in out[1:-1]):
            raise ValueError(
                f"Layer '{self.name}': computed output size would be zero or negative. "
                f"Received `inputs shape={format_shape(input_shape)}`, `kernel shape="
                f"{(*self.kernel_size, channels // self.groups, self.filters)}`, "
                f"`strides={self.strides}`, `dilation_rate={self.dilation_rate}`, "
                f"`padding={self.padding!r}`."
            )

    def _output_shape(self, input_shape):
        spatial = tuple(
            ops.output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate
            )
        )
        return (input_shape[0], *spatial, self.filters)

    def _weight_specs(self, input_shape):
        kernel = (*self.kernel_size, input_shape[-1] // self.groups, self.filters)
        if not self.use_bias:
            return ("kernel",), (kernel,), (self.kernel_initializer,)
        return (
            ("kernel", "bias"),
            (kernel, (self.filters,)),
            (self.kernel_initializer, self.bias_initializer),
        )

    kernel = property(lambda self: self._weight("kernel"), doc="A copy of the kernel.")
    bias = property(lambda self: self._weight("bias"), doc="A copy of the bias, or None.")

    def apply(self, weights, x):
        y = ops.conv(x, weights[0], self.strides, self.padding, self.dilation_rate, self.groups)
        if self.use_bias:
            y = y + weights[1]
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self._activation_config,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }


class Conv1D(_Conv):
    """1D convolution over ``(batch, steps, channels)``; padding may also be ``"causal"``."""

    rank = 1


class Conv2D(_Conv):
    """2D convolution over ``(batch, rows, cols, channels)``."""

    rank = 2


class Conv3D(_Conv):
    """3D convolution over ``(batch, depth, rows, cols, channels)``."""

    rank = 3


# --------------------------------------------------------------------------- dense & shape


class Dense(Layer):
    """``activation(x @ kernel + bias)`` over the last axis; kernel ``(in, units)``."""

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
        kind = type(self).__name__
        if not (is_int(units) or (isinstance(units, float) and units.is_integer())) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.units = int(units)
        self.activation = get_activation(activation)
        self._activation_config = activation_name(activation)
        self.use_bias = check_bool(use_bias, kind, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        not_supported(
            kind,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
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

    def _weight_specs(self, input_shape):
        kernel = (input_shape[-1], self.units)
        if not self.use_bias:
            return ("kernel",), (kernel,), (self.kernel_initializer,)
        return (
            ("kernel", "bias"),
            (kernel, (self.units,)),
            (self.kernel_initializer, self.bias_initializer),
        )

    kernel, bias = _Conv.kernel, _Conv.bias

    def apply(self, weights, x):
        y = anp.matmul(x, weights[0])
        if self.use_bias:
            y = y + weights[1]
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self._activation_config,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }


class Flatten(Layer):
    """``(batch, *dims)`` -> ``(batch, prod(dims))``, row-major (channels vary fastest)."""

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

    def apply(self, weights, x):
        # An explicit size, not -1: numpy cannot infer -1 for an empty batch.
        return anp.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


# --------------------------------------------------------------------------- activations


class Activation(Layer):
    """Applies an activation function by name (``"relu"``, ``"softmax"``...) or callable."""

    def __init__(self, activation, **kwargs):
        self.activation = get_activation(activation)
        self._activation_config = activation_name(activation)
        super().__init__(**kwargs)

    def apply(self, weights, x):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": self._activation_config}


class ReLU(Layer):
    """Keras's ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:
    ``min(x, max_value)`` for ``x > threshold``, else ``negative_slope * (x - threshold)``.
    """

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

    def apply(self, weights, x):
        return ops.relu(x, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


# --------------------------------------------------------------------------- pooling


class _Pooling(Layer):
    """Max or average pooling over ``rank`` spatial axes; strides default to ``pool_size``."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = standardize_tuple(
            self.pool_size if strides is None else strides, self.rank, "strides"
        )
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

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

    def apply(self, weights, x):
        return ops.pool(x, self.pool_size, self.strides, self.padding, self.mode)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """Largest value of each window over ``(batch, steps, channels)``; ``pool_size=2``."""

    rank, mode = 1, "max"


class MaxPooling2D(_Pooling):
    """Largest value of each window over ``(batch, rows, cols, channels)``; ``pool_size=(2, 2)``."""

    rank, mode = 2, "max"


class AveragePooling1D(_Pooling):
    """Mean of each window over ``(batch, steps, channels)``; ``pool_size=2``."""

    rank, mode = 1, "average"


class AveragePooling2D(_Pooling):
    """Mean of each window over ``(batch, rows, cols, channels)``; ``pool_size=(2, 2)``."""

    rank, mode = 2, "average"


class _GlobalPooling(Layer):
    """Max or mean over all spatial axes: ``(batch, *spatial, c)`` -> ``(batch, c)``
    (or ``(batch, 1, ..., 1, c)`` with ``keepdims=True``)."""

    rank = 2
    mode = "max"

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

    def apply(self, weights, x):
        axes = tuple(range(1, 1 + self.rank))
        if self.mode == "max":
            return ops.reduce_max(x, axes, self.keepdims)
        # sum * (1/n) rather than mean: autograd's mean VJP divides by a numpy int and
        # would hand back float64 gradients for float32 inputs.
        return anp.sum(x, axis=axes, keepdims=self.keepdims) * (1 / math.prod(x.shape[1:-1]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, mode = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    rank, mode = 1, "average"


class GlobalAveragePooling2D(_GlobalPooling):
    rank, mode = 2, "average"


MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

LAYERS = {
    cls.__name__: cls
    for cls in (
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
    )
}
