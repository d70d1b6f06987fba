"""Core layers: ``Dense``, ``Flatten``, ``Rescaling``, and the activation layers
(``Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``, ``PReLU``)."""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np

from . import activations, initializers, ops
from .layer import KernelLayer, Layer, WeightSpec, activation_config, weight_initializer
from .validation import (
    check_real,
    finite_real,
    format_shape,
    is_int,
    not_supported,
    standardize_data_format,
)


class Dense(KernelLayer):
    """A fully connected layer: ``activation(x @ kernel + bias)`` over the last axis
    (Keras 3's ``Dense``).

    Parameters
    ----------
    units : int
        Number of outputs.
    activation : name, function or None
        Applied to the output (``"relu"``, ``"softmax"``...); None means linear.
    use_bias : bool, default True
        Add a learned bias per unit.
    kernel_initializer, bias_initializer : name, Initializer or None
        How the weights start (``"glorot_uniform"`` and ``"zeros"`` by default).
    kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
    bias_constraint, quantization_config : must be None (not implemented; refused rather
        than ignored).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, ..., in)``: any rank of at least 2; the last axis is the one transformed.

    Output shape
    ------------
    ``(batch, ..., units)``.

    Weights
    -------
    ``kernel`` of shape ``(in, units)`` and ``bias`` of shape ``(units,)``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, activation="softmax")
    >>> y = layer(np.ones((2, 4)))
    >>> y.shape, np.allclose(y.sum(axis=1), 1)
    ((2, 3), True)
    """

    keras_none_config = (
        "kernel_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "quantization_config",
    )

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
        quantization_config=None,
        **kwargs,
    ):
        # Keras 3.15 records quantization_config in every Dense config.
        not_supported("Dense", quantization_config=quantization_config)
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

    def _units(self, input_shape):
        return self.units

    def _product(self, x, kernel):
        return anp.matmul(x, kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Flatten(Layer):
    """Flattens every axis but the batch axis, row-major (channels vary fastest), as
    Keras 3's ``Flatten``.

    Parameters
    ----------
    data_format : None or ``"channels_last"`` (``"channels_first"`` is refused).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, *dims)``.

    Output shape
    ------------
    ``(batch, prod(dims))``; ``(batch, 1)`` for an input of shape ``(batch,)``.

    Examples
    --------
    >>> import numpy as np
    >>> Flatten()(np.arange(12.0).reshape(1, 2, 3, 2)).tolist()[0][:4]
    [0.0, 1.0, 2.0, 3.0]
    >>> Flatten()(np.zeros((5, 6, 6, 8))).shape
    (5, 288)
    """

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
    """Applies an activation function to its input (Keras 3's ``Activation``).

    Parameters
    ----------
    activation : name or function
        ``"relu"``, ``"sigmoid"``, ``"softmax"``... (see ``minicnn.activations``), or a
        function of an array.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> Activation("relu")(x).tolist()
    [[0.0, 0.0, 3.0]]
    """

    spatial_mapping = "pointwise"
    activation = KernelLayer.activation

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, activation, **kwargs):
        self.activation = activation
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": activation_config(self.activation)}


class Identity(Layer):
    """Returns its input unchanged (Keras 3's ``Identity``): a named point in a model.

    Parameters
    ----------
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> Identity()(np.array([[1.0, -2.0]])).tolist()
    [[1.0, -2.0]]
    """

    spatial_mapping = "pointwise"
    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return x


class ReLU(Layer):
    """The rectified linear unit, ``min(x, max_value)`` for ``x >= threshold``, else
    ``negative_slope * (x - threshold)`` (Keras 3's ``ReLU``).

    Parameters
    ----------
    max_value : None or float >= 0
        The largest output (None: no cap; 6 gives ReLU6).
    negative_slope : float >= 0, default 0
        The slope below the threshold.
    threshold : float >= 0, default 0
        Where the slope changes.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> ReLU()(x).tolist(), ReLU(max_value=2.0)(x).tolist()
    ([[0.0, 0.0, 3.0]], [[0.0, 0.0, 2.0]])
    """

    spatial_mapping = "pointwise"

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        for arg, value, allow_none in (
            ("max_value", max_value, True),
            ("negative_slope", negative_slope, False),
            ("threshold", threshold, False),
        ):
            if value is None and allow_none:
                continue
            # Keras's messages: "cannot be a negative value" for max_value, "cannot be None
            # or a negative value" for the other two.
            cannot = "a negative value" if allow_none else "None or a negative value"
            if value is None or (finite_real(value) and value < 0):
                raise ValueError(
                    f"{arg} of a ReLU layer cannot be {cannot}. Received: {arg}={value}"
                )
            if not finite_real(value):
                raise ValueError(
                    f"{arg} of a ReLU layer must be a finite number. Received: {arg}={value!r}"
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


class LeakyReLU(Layer):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Keras 3's ``LeakyReLU``).

    Parameters
    ----------
    negative_slope : float >= 0, default 0.3
        The slope for negative inputs.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> LeakyReLU(negative_slope=0.5)(x).tolist()
    [[-1.0, 0.0, 3.0]]
    """

    spatial_mapping = "pointwise"

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, negative_slope=0.3, **kwargs):
        if not finite_real(negative_slope) or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return activations.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """The exponential linear unit: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise
    (Keras 3's ``ELU``).

    Parameters
    ----------
    alpha : float, default 1.0
        The scale of the negative part.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> np.round(ELU()(x).astype(float), 4).tolist()
    [[-0.8647, 0.0, 3.0]]
    """

    spatial_mapping = "pointwise"

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, alpha=1.0, **kwargs):
        self.alpha = check_real(alpha, type(self).__name__, "alpha")
        super().__init__(**kwargs)

    def apply(self, weights, x, training=False, rng=None):
        return activations.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` over ``axis``: values that sum to 1 (Keras 3's
    ``Softmax``).

    Parameters
    ----------
    axis : int or tuple of ints, default -1
        The axis (or axes) normalised over.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> np.round(Softmax()(x).astype(float), 4).tolist()
    [[0.0064, 0.0471, 0.9465]]
    """

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, axis=-1, **kwargs):
        axes = (axis,) if is_int(axis) else axis
        if not isinstance(axes, (tuple, list)) or not axes or not all(map(is_int, axes)):
            raise ValueError(
                f"Softmax: `axis` must be an integer or a tuple of integers. Received: "
                f"axis={axis!r}"
            )
        self.axis = int(axis) if is_int(axis) else tuple(int(a) for a in axis)
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        axes = (self.axis,) if is_int(self.axis) else self.axis
        if any(not -len(input_shape) <= a < len(input_shape) for a in axes):
            raise ValueError(
                f"Layer '{self.name}': `axis={self.axis}` is out of range for input shape "
                f"{format_shape(input_shape)}."
            )

    @property
    def spatial_mapping(self):
        # Over the channel axis only, each position reads only itself.
        return "pointwise" if self.axis == -1 else None

    def apply(self, weights, x, training=False, rng=None):
        return activations.softmax(x, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """A leaky ReLU with a learned slope: ``relu(x) - alpha * relu(-x)`` (Keras 3's
    ``PReLU``).

    Parameters
    ----------
    alpha_initializer : name or Initializer, default ``"Zeros"``
        How ``alpha`` starts.
    alpha_regularizer, alpha_constraint : must be None (not implemented; refused).
    shared_axes : None or list of ints
        Axes (1-based, as Keras counts them) along which one ``alpha`` is shared, e.g.
        ``[1, 2]`` for one slope per channel of an image.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Weights
    -------
    ``alpha`` of the input's per-sample shape, with size 1 along ``shared_axes``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[-2.0, 0.0, 3.0]])
    >>> PReLU()(x).tolist()  # alpha starts at 0
    [[0.0, 0.0, 3.0]]
    """

    keras_none_config = ("alpha_regularizer", "alpha_constraint")

    spatial_mapping = "pointwise"

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        kind = type(self).__name__
        self.alpha_initializer = weight_initializer(alpha_initializer, "alpha_initializer")
        not_supported(kind, alpha_regularizer=alpha_regularizer, alpha_constraint=alpha_constraint)
        axes = [shared_axes] if is_int(shared_axes) else shared_axes
        if axes is not None and (
            not isinstance(axes, (list, tuple)) or not all(is_int(a) and a >= 1 for a in axes)
        ):
            raise ValueError(
                f"{kind}: `shared_axes` must be None, an int or a list of ints >= 1 (axis 0 is "
                f"the batch). Received: shared_axes={shared_axes!r}"
            )
        self.shared_axes = None if axes is None else [int(a) for a in axes]
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        if any(a >= len(input_shape) for a in self.shared_axes or ()):
            raise ValueError(
                f"Layer '{self.name}': `shared_axes={self.shared_axes}` names an axis the input "
                f"{format_shape(input_shape)} does not have."
            )
        if self.shaped and self._params_shape(input_shape, True) != self._weights[0].shape:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: it was built "
                f"for inputs {format_shape(self.input_shape)}; received {format_shape(input_shape)}"
            )

    def _params_shape(self, input_shape, keep_none=False):
        shape = list(input_shape[1:])
        for a in self.shared_axes or ():
            shape[a - 1] = 1
        if not keep_none and None in shape:
            raise ValueError(
                f"Layer '{self.name}': alpha needs a known size for every non-shared axis; "
                f"received input shape {format_shape(input_shape)}."
            )
        return tuple(shape)

    def weight_specs(self, input_shape):
        return [WeightSpec("alpha", self._params_shape(input_shape), self.alpha_initializer)]

    alpha = property(lambda self: self._weight("alpha"), doc="A copy of the slopes.")

    def apply(self, weights, x, training=False, rng=None):
        return activations.relu(x) - weights[0] * activations.relu(-x)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.config_entry(self.alpha_initializer),
            "shared_axes": self.shared_axes,
        }


class Rescaling(Layer):
    """``x * scale + offset``: pixel values to [0, 1] with ``Rescaling(1 / 255)`` (Keras 3's
    preprocessing layer ``Rescaling``).

    Parameters
    ----------
    scale : float, or an array-like of floats
        The factor; an array (a 0-d numpy array is a float) broadcasts against each
        sample, e.g. one factor per channel of shape ``(channels,)``.
    offset : float, or an array-like of floats, default 0
        Added after scaling, broadcast the same way.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> Rescaling(1 / 255)(np.array([[255.0, 51.0]])).astype(float).round(4).tolist()
    [[1.0, 0.2]]
    """

    spatial_mapping = "pointwise"

    def __init__(self, scale, offset=0.0, **kwargs):
        kind = type(self).__name__
        self.scale = _factor(scale, kind, "scale")
        self.offset = _factor(offset, kind, "offset")
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        super().check_input(input_shape)
        sample = tuple(1 if d is None else d for d in input_shape[1:])
        for name in ("scale", "offset"):
            shape = np.shape(getattr(self, name))
            try:
                fits = np.broadcast_shapes(sample, shape) == sample
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"Layer '{self.name}': `{name}` of shape {shape} does not broadcast "
                    f"against samples of shape {tuple(input_shape[1:])} without changing it."
                )

    def apply(self, weights, x, training=False, rng=None):
        scale, offset = (np.asarray(v, np.float32) for v in (self.scale, self.offset))
        return x * scale + offset

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _factor(value, kind, name):
    """A Rescaling factor: a float (also from a 0-d numpy array), or nested lists of finite
    floats for an array (kept as lists, so the config stays JSON)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if np.ndim(value) == 0:
        return check_real(value, kind, name)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind != "f" or not np.isfinite(array).all():
        raise TypeError(
            f"{kind}: `{name}` must be a finite float or an array of finite floats. "
            f"Received: {name}={value!r:.80}"
        )
    return array.tolist()
