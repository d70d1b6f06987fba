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
import numbers
from collections.abc import Callable, Sequence

import autograd.numpy as anp
import numpy as np

from . import initializers, ops
from .utils import to_snake_case, unique_name

Shape = tuple


# --------------------------------------------------------------------------- argument checks


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, as a tuple of ``n`` positive ints (Keras's rule).

    ``2`` -> ``(2, 2)`` for n=2. Booleans and non-integral numbers are rejected.
    """
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}"
    if _is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for v in values:
            # _is_int first: float() of a huge int overflows.
            integral = _is_int(v) or (isinstance(v, numbers.Real) and float(v).is_integer())
            if isinstance(v, (bool, np.bool_)) or not integral:
                raise ValueError(f"{message}, including element {v!r} of type {type(v)}")
        values = tuple(int(v) for v in values)
    bad = sorted({v for v in values if (v < 0 if allow_zero else v <= 0)})
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value {need}`")
    return values


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def standardize_padding(value, allow_causal: bool = False) -> str:
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    padding = value.lower() if isinstance(value, str) else None
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {sorted(allowed)}. Received: padding={value!r}"
        )
    return padding


def standardize_data_format(value) -> str:
    fmt = "channels_last" if value is None else value.lower() if isinstance(value, str) else None
    if fmt == "channels_first":
        raise ValueError(
            "minicnn computes channels-last only; data_format='channels_first' is not "
            "supported. Transpose the input to (batch, *spatial, channels) instead."
        )
    if fmt != "channels_last":
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value!r}"
        )
    return fmt


def _positive_int(value, layer: str, name: str) -> int:
    if not _is_int(value) and not (isinstance(value, float) and value.is_integer()):
        raise ValueError(
            f"{layer}: invalid value for argument `{name}`. Expected a strictly positive "
            f"integer. Received {name}={value!r}"
        )
    if int(value) <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive value. "
            f"Received {name}={value}."
        )
    return int(value)


def _not_supported(layer: str, **options) -> None:
    """Reject Keras options minicnn does not implement instead of silently ignoring them."""
    for name, value in options.items():
        if value is not None:
            raise ValueError(
                f"{layer}: `{name}` is not supported by minicnn (received {name}={value!r}); "
                "pass None."
            )


def _bool(value, layer: str, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{layer}: `{name}` must be a bool. Received {name}={value!r}")
    return bool(value)


def get_activation(identifier) -> Callable:
    """An activation function from a Keras name, None (linear) or a callable."""
    if identifier is None:
        return ops.ACTIVATIONS["linear"]
    if isinstance(identifier, str) and identifier in ops.ACTIVATIONS:
        return ops.ACTIVATIONS[identifier]
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. "
        f"Expected a callable or one of {sorted(ops.ACTIVATIONS)}."
    )


def activation_name(identifier) -> str | Callable:
    """How an activation appears in ``get_config``: its name, or the callable itself."""
    return "linear" if identifier is None else identifier


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
        if dtype is not None and not _is_float32(dtype):
            raise ValueError(
                f"{kind}: minicnn layers compute in float32; dtype={dtype!r} is not supported."
            )
        self.name = name or unique_name(to_snake_case(kind))
        self.trainable = _bool(trainable, kind, "trainable")
        self.input_shape_arg = _declared_input_shape(
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
                f"{_fmt(input_shape)}"
            )
        channels = self._expected_channels()
        if channels is not None and input_shape[-1] != channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {channels}, but received input with "
                f"shape {_fmt(input_shape)}"
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


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _finite_real(value) -> bool:
    """A real number (not a bool) that is finite as a float (10**400 is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_float32(dtype) -> bool:
    # Strings are compared by name: numpy parses some strings (",", "i4,f8") as struct
    # dtypes and raises SyntaxError on others.
    if isinstance(dtype, str):
        return dtype == "float32"
    try:
        return np.dtype(dtype) == np.float32
    except (TypeError, ValueError):  # not something numpy reads as a dtype
        return False


def _declared_input_shape(kind, input_shape, input_dim, batch_input_shape, batch_size):
    """The per-sample input shape a first layer declares, validated, or None."""
    given = [
        n
        for n, v in (
            ("input_shape", input_shape),
            ("input_dim", input_dim),
            ("batch_input_shape", batch_input_shape),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise ValueError(f"{kind}: pass only one of {given}.")
    label = given[0] if given else "input_shape"  # named in messages as the user wrote it
    if input_dim is not None:
        input_shape = (input_dim,)
    if batch_input_shape is not None:
        if isinstance(batch_input_shape, (str, bytes)) or not isinstance(
            batch_input_shape, Sequence
        ):
            raise ValueError(
                f"{kind}: `batch_input_shape` must be a tuple. Received: {batch_input_shape!r}"
            )
        input_shape = tuple(batch_input_shape)[1:]
    if input_shape is None:
        return None
    if _is_int(input_shape):
        input_shape = (input_shape,)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(
            f"{kind}: `{label}` must be a tuple of positive integers (None for a free "
            f"axis). Received: {label}={input_shape!r}"
        )
    for d in input_shape:
        if d is not None and (not _is_int(d) or d <= 0):
            raise ValueError(
                f"{kind}: `{label}` must be a tuple of positive integers (None for a "
                f"free axis). Received: {label}={tuple(input_shape)!r}"
            )
    return tuple(None if d is None else int(d) for d in input_shape)


def check_weights(owner: str, current: Sequence[np.ndarray], new: Sequence) -> list[np.ndarray]:
    """Validate a replacement weight list against ``current`` and return it as float32
    copies. Nothing is assigned here, so a caller that assigns the result afterwards
    changes all weights or none."""
    if isinstance(new, np.ndarray) or not isinstance(new, Sequence):
        raise TypeError(
            f"`set_weights` on '{owner}' expects a list of arrays. Received: {type(new).__name__}"
        )
    if len(new) != len(current):
        raise ValueError(
            f"You called `set_weights(weights)` on layer '{owner}' with a weight list of "
            f"length {len(new)}, but the layer was expecting {len(current)} weights."
        )
    out = []
    for i, (old, value) in enumerate(zip(current, new)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise ValueError(f"Layer {owner} weight {i} is not an array: {err}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Layer {owner} weight {i} must be numeric; received an array of dtype {arr.dtype}."
            )
        if arr.shape != old.shape:
            raise ValueError(
                f"Layer {owner} weight shape {old.shape} is not compatible with provided "
                f"weight shape {arr.shape}."
            )
        out.append(np.array(arr, dtype=np.float32))
    return out


def as_input(x, subject: str, cast: bool = True) -> np.ndarray:
    """The array a model or layer is called on, cast to float32 as Keras does.

    Lists and numeric arrays (bool, int, float) are accepted; objects, strings, complex
    numbers and ragged nesting are a TypeError/ValueError whose message starts with
    ``subject`` (``"'conv2d'"``, ``"fit: `y`"``). With ``cast=False`` a numeric array is
    returned as it is, for callers that cast batch by batch.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{subject} expects a numeric array; the input is ragged: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{subject} expects a numeric array (bool, int or float); received dtype "
            f"{arr.dtype} with shape {arr.shape}."
        )
    return arr.astype(np.float32, copy=False) if cast else arr


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
        self.filters = _positive_int(filters, kind, "filters")
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding, allow_causal=rank == 1)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if not _is_int(groups) or groups <= 0:
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
        self.use_bias = _bool(use_bias, kind, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        _not_supported(
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
                f"Received input shape {_fmt(input_shape)}"
            )
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {channels} "
                f"channels (full input shape is {_fmt(input_shape)})."
            )
        out = self._output_shape(input_shape)
        if any(d is not None and d <= 0 for d in out[1:-1]):
            raise ValueError(
                f"Layer '{self.name}': computed output size would be zero or negative. "
                f"Received `inputs shape={_fmt(input_shape)}`, `kernel shape="
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
        if not (_is_int(units) or (isinstance(units, float) and units.is_integer())) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.units = int(units)
        self.activation = get_activation(activation)
        self._activation_config = activation_name(activation)
        self.use_bias = _bool(use_bias, kind, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        _not_supported(
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
                f"{_fmt(input_shape)}"
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}': the last axis of the input must be known. Received "
                f"input shape {_fmt(input_shape)}"
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
            if not _finite_real(value):
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
                f"Received: `inputs.shape={_fmt(input_shape)}` and `pool_size={self.pool_size}`."
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
        self.keepdims = _bool(keepdims, type(self).__name__, "keepdims")
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if 0 in input_shape[1:-1]:
            # The max or mean of nothing: numpy would raise or divide by zero mid-forward.
            raise ValueError(
                f"Layer '{self.name}': cannot pool over an empty spatial axis. Received input "
                f"shape {_fmt(input_shape)}"
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
