"""Convolution layers: ``Conv1D``, ``Conv2D``, ``Conv3D`` (Keras's ``BaseConv``), the
transposed ``Conv1DTranspose``, ``Conv2DTranspose``, and the depthwise and separable
``DepthwiseConv1D/2D``, ``SeparableConv1D/2D``."""

from __future__ import annotations

from . import activations, ops
from .layer import KernelLayer, Layer
from .validation import (
    format_shape,
    is_int,
    positive_int,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)


def _window_arguments(
    layer,
    kernel_size,
    strides,
    padding,
    dilation_rate,
    data_format,
    causal=False,
    dilated_strides=False,
):
    """Check and store the window arguments every conv layer takes (Keras's rules): sizes
    as tuples of ``layer.rank`` positive ints, the padding, channels-last data, and, unless
    ``dilated_strides`` (depthwise and separable convs), no strides > 1 with dilation > 1."""
    rank = layer.rank
    layer.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
    layer.strides = standardize_tuple(strides, rank, "strides")
    layer.padding = standardize_padding(padding, allow_causal=causal)
    layer.data_format = standardize_data_format(data_format)
    layer.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
    if not dilated_strides and max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={layer.strides} and dilation_rate={layer.dilation_rate}"
        )


#: The regularizer and constraint entries Keras's convolution configs hold (None here).
CONV_NONE_CONFIG = (
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


class BaseConv(KernelLayer):
    """N-d convolution layer (``Conv1D``, ``Conv2D``, ``Conv3D`` fix ``rank``); Keras's
    ``BaseConv``.

    Input ``(batch, *spatial, in_ch)``; kernel ``(*kernel_size, in_ch // groups, filters)``;
    bias ``(filters,)``; output ``activation(conv(x, kernel) + bias)``.
    """

    keras_none_config = CONV_NONE_CONFIG

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
        _window_arguments(
            self, kernel_size, strides, padding, dilation_rate, data_format, causal=rank == 1
        )
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
        self._init_kernel(locals())
        super().__init__(**kwargs)
        self.ndim = rank + 2

    @property
    def window(self) -> ops.Window:
        return ops.Window(self.kernel_size, self.strides, self.dilation_rate, self.padding)

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
        self._check_output_size(
            input_shape,
            f" `inputs shape={format_shape(input_shape)}`, `kernel shape="
            f"{(*self.kernel_size, channels // self.groups, self.filters)}`, "
            f"`strides={self.strides}`, `dilation_rate={self.dilation_rate}`, "
            f"`padding={self.padding!r}`",
        )

    def _output_shape(self, input_shape):
        spatial = tuple(
            ops.output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate
            )
        )
        return (input_shape[0], *spatial, self.filters)

    def _kernel_shape(self, input_shape):
        return (*self.kernel_size, input_shape[-1] // self.groups, self.filters)

    def _units(self, input_shape):
        return self.filters

    def _product(self, x, kernel):
        return ops.conv(x, kernel, self.strides, self.padding, self.dilation_rate, self.groups)

    def apply(self, weights, x, training=False, rng=None):
        # The conv, its bias and a plain relu (or none) as one autograd node: the same
        # numbers as KernelLayer.apply's three steps, one pass and two nodes fewer.
        fused = self.activation in (activations.linear, activations.relu)
        if not (self.use_bias and fused):
            return super().apply(weights, x, training, rng)
        kernel, bias = weights
        relu = self.activation is activations.relu
        args = (self.strides, self.padding, self.dilation_rate, self.groups, relu)
        return ops.conv_bias(x, kernel, bias, *args)

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
        }


_WINDOW = """padding : ``"valid"`` (default: no padding) or ``"same"`` (zero padding so the
        output has ``ceil(input / strides)`` positions){causal}.
    data_format : None or ``"channels_last"`` (``"channels_first"`` is refused).
    dilation_rate : int or tuple of {rank} ints, default 1
        Spacing between the kernel's taps (an atrous convolution)."""
_TAIL = """activation : name, function or None
        Applied to the output (``"relu"``...); None means linear.
    use_bias : bool, default True
        Add a learned bias per output channel.
    {initializers} : name, Initializer or None
        How the weights start (``"glorot_uniform"`` kernels, ``"zeros"`` bias by default).
    {regularizers} : must be None
        (minicnn implements no regularizers or constraints and refuses them rather than
        ignore them).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only)."""


def _tail(weights: str) -> str:
    names = weights.split()
    initializers = ", ".join(f"{w}_initializer" for w in names) + ", bias_initializer"
    regularizers = (
        ", ".join(f"{w}_regularizer" for w in names)
        + ", bias_regularizer, activity_regularizer,\n    "
        + ", ".join(f"{w}_constraint" for w in names)
        + ", bias_constraint"
    )
    return _TAIL.format(initializers=initializers, regularizers=regularizers)


def _new_axes(axes: str) -> str:
    return ", ".join("new_" + a for a in axes.split(", "))


def _transpose_doc(rank: int, axes: str, example: str) -> str:
    window = _WINDOW.format(rank=rank, causal="")
    return f"""{rank}D transposed convolution (sometimes called deconvolution): each input
    position adds ``kernel`` times its value into a window of the output, which with
    ``strides > 1`` upsamples (Keras 3's ``Conv{rank}DTranspose``, channels last).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of {rank} ints
        The window size per spatial axis.
    strides : int or tuple of {rank} ints, default 1
        The upsampling factor per axis.
    {window}
    output_padding : None, int or tuple of {rank} ints
        Extra positions at the end of each output axis (each below its stride); None
        lets the size follow from ``padding``.
    {_tail("kernel")}

    Input shape
    -----------
    ``(batch, {axes}, channels)``.

    Output shape
    ------------
    ``(batch, {_new_axes(axes)}, filters)``: each axis ``n * strides + max(kernel -
    strides, 0)`` with ``"valid"``, ``n * strides`` with ``"same"`` (without
    ``output_padding``).

    Weights
    -------
    ``kernel`` of shape ``(*kernel_size, filters, channels)`` (Keras's layout: output
    channels before input channels) and ``bias`` of shape ``(filters,)``.

    Examples
    --------
{example}
    """


def _depthwise_doc(rank: int, axes: str, separable: bool, example: str) -> str:
    window = _WINDOW.format(rank=rank, causal="")
    if separable:
        head = f"""{rank}D separable convolution: a depthwise convolution (each input channel
    filtered on its own, ``depth_multiplier`` times) followed by a 1x1 convolution to
    ``filters`` channels (Keras 3's ``SeparableConv{rank}D``, channels last)."""
        filters = """filters : int
        Number of output channels of the 1x1 (pointwise) convolution.
    """
        out = "filters"
        weights = f"""``depthwise_kernel`` of shape ``(*kernel_size, channels, depth_multiplier)``,
    ``pointwise_kernel`` of shape ``({", ".join("1" for _ in range(rank))}, channels *
    depth_multiplier, filters)`` and ``bias`` of shape ``(filters,)``."""
        tail = _tail("depthwise pointwise")
    else:
        head = f"""{rank}D depthwise convolution: each input channel convolved with its own
    ``depth_multiplier`` kernels, channels never mixed (Keras 3's ``DepthwiseConv{rank}D``,
    channels last)."""
        filters = ""
        out = "channels * depth_multiplier"
        weights = """``kernel`` of shape ``(*kernel_size, channels, depth_multiplier)`` and ``bias``
    of shape ``(channels * depth_multiplier,)``."""
        tail = _tail("depthwise")
    return f"""{head}

    Parameters
    ----------
    {filters}kernel_size : int or tuple of {rank} ints
        The window size per spatial axis.
    strides : int or tuple of {rank} ints, default 1
        Steps between windows.
    {window}
    depth_multiplier : int, default 1
        Kernels per input channel.
    {tail}

    Input shape
    -----------
    ``(batch, {axes}, channels)``.

    Output shape
    ------------
    ``(batch, {_new_axes(axes)}, {out})``, spatial sizes as for ``Conv{rank}D``.

    Weights
    -------
    {weights}

    Examples
    --------
{example}
    """


def _conv_doc(rank: int, axes: str, example: str) -> str:
    """The numpy-style docstring of ConvND: Keras's arguments, the shapes, an example."""
    causal = ', or ``"causal"`` (left padding only, so step t sees steps <= t)' if rank == 1 else ""
    return f"""{rank}D convolution: {rank}D windows of the input, each dotted with
    ``filters`` learned kernels (Keras 3's ``Conv{rank}D``, channels last).

    Parameters
    ----------
    filters : int
        Number of output channels (kernels).
    kernel_size : int or tuple of {rank} ints
        The window size per spatial axis.
    strides : int or tuple of {rank} ints, default 1
        Steps between windows; ``strides > 1`` cannot be combined with
        ``dilation_rate > 1``.
    padding : ``"valid"`` (default: no padding, the output shrinks by ``kernel_size - 1``)
        or ``"same"`` (zero padding so the output has ``ceil(input / strides)``
        positions){causal}.
    data_format : None or ``"channels_last"`` (``"channels_first"`` is refused).
    dilation_rate : int or tuple of {rank} ints, default 1
        Spacing between the kernel's taps (an atrous convolution).
    groups : int, default 1
        Split the input channels into this many groups, each convolved with its own
        ``filters / groups`` kernels; both counts must divide evenly.
    activation : name, function or None
        Applied to the output (``"relu"``...); None means linear.
    use_bias : bool, default True
        Add a learned bias per output channel.
    kernel_initializer, bias_initializer : name, Initializer or None
        How the weights start (``"glorot_uniform"`` and ``"zeros"`` by default).
    kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
    bias_constraint : must be None (minicnn implements no regularizers or constraints and
        refuses them rather than ignore them).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, {axes}, channels)``.

    Output shape
    ------------
    ``(batch, {", ".join("new_" + a for a in axes.split(", "))}, filters)``; with ``"valid"``
    padding each spatial size is ``(n - dilation_rate * (kernel_size - 1) - 1) // strides
    + 1``.

    Weights
    -------
    ``kernel`` of shape ``(*kernel_size, channels // groups, filters)`` and ``bias`` of
    shape ``(filters,)``: Keras's layout, so ``set_weights`` takes Keras's arrays.

    Examples
    --------
{example}
    """


class Conv1D(BaseConv):
    rank = 1
    __doc__ = _conv_doc(
        1,
        "steps",
        """    >>> import numpy as np
    >>> layer = Conv1D(filters=4, kernel_size=3, activation="relu")
    >>> layer(np.zeros((2, 10, 1))).shape
    (2, 8, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 1, 4), (4,)]""",
    )


class Conv2D(BaseConv):
    rank = 2
    __doc__ = _conv_doc(
        2,
        "rows, cols",
        """    >>> import numpy as np
    >>> layer = Conv2D(8, (3, 3), strides=2, padding="same")
    >>> layer(np.zeros((1, 28, 28, 1))).shape
    (1, 14, 14, 8)
    >>> layer.kernel.shape, layer.bias.shape
    ((3, 3, 1, 8), (8,))""",
    )


class Conv3D(BaseConv):
    rank = 3
    __doc__ = _conv_doc(
        3,
        "depth, rows, cols",
        """    >>> import numpy as np
    >>> Conv3D(2, 3)(np.zeros((1, 5, 6, 7, 1))).shape
    (1, 3, 4, 5, 2)""",
    )


class BaseConvTranspose(KernelLayer):
    """N-d transposed convolution (``Conv1DTranspose``, ``Conv2DTranspose`` fix ``rank``).

    Input ``(batch, *spatial, in_ch)``; kernel ``(*kernel_size, filters, in_ch)`` (Keras's
    layout); output ``activation(conv_transpose(x, kernel) + bias)``, each axis of length
    ``n*s + max(k - s, 0)`` (``valid``) or ``n*s`` (``same``) without ``output_padding``,
    ``(n-1)*s + k - 2*(k//2 if same else 0) + output_padding`` with it (dilated ``k``).
    """

    keras_none_config = CONV_NONE_CONFIG

    rank = 2
    spatial_mapping = "custom"

    def input_positions(self, axis, outputs, length):
        return ops.conv_transpose_sources(
            outputs,
            length,
            self.kernel_size[axis],
            self.strides[axis],
            self.dilation_rate[axis],
            self.padding,
            None if self.output_padding is None else self.output_padding[axis],
        )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
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
        _window_arguments(self, kernel_size, strides, padding, dilation_rate, data_format)
        self.output_padding = (
            None
            if output_padding is None
            else standardize_tuple(output_padding, rank, "output_padding", allow_zero=True)
        )
        for i, (op, s) in enumerate(zip(self.output_padding or (), self.strides)):
            if op >= s:
                raise ValueError(
                    "`output_padding` must be strictly less than `strides` for all dimensions. "
                    f"At dimension {i}, `output_padding` is {op} but `strides` is {s}. "
                    f"Received: output_padding={self.output_padding}, strides={self.strides}"
                )
        self._init_kernel(locals())
        super().__init__(**kwargs)
        self.ndim = rank + 2

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if input_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}': the channel axis of the input must be known. "
                f"Received input shape {format_shape(input_shape)}"
            )
        if 0 in input_shape[1:-1]:
            raise ValueError(
                f"Layer '{self.name}': cannot take an empty spatial axis. Received input "
                f"shape {format_shape(input_shape)}"
            )
        self._check_output_size(
            input_shape,
            f" `inputs shape={format_shape(input_shape)}`, `kernel_size={self.kernel_size}`, "
            f"`strides={self.strides}`, `padding={self.padding!r}`, "
            f"`output_padding={self.output_padding}`",
        )

    def _output_shape(self, input_shape):
        spatial = tuple(
            ops.conv_transpose_length(n, k, s, d, self.padding, op)
            for n, k, s, d, op in zip(
                input_shape[1:-1],
                self.kernel_size,
                self.strides,
                self.dilation_rate,
                self.output_padding or (None,) * self.rank,
            )
        )
        return (input_shape[0], *spatial, self.filters)

    def _kernel_shape(self, input_shape):
        return (*self.kernel_size, self.filters, input_shape[-1])

    def _units(self, input_shape):
        return self.filters

    def _product(self, x, kernel):
        return ops.conv_transpose(
            x, kernel, self.strides, self.padding, self.output_padding, self.dilation_rate
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


class Conv1DTranspose(BaseConvTranspose):
    __doc__ = _transpose_doc(
        1,
        "steps",
        """    >>> import numpy as np
    >>> Conv1DTranspose(2, 3, strides=2, padding="same")(np.zeros((1, 6, 1))).shape
    (1, 12, 2)""",
    )

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    __doc__ = _transpose_doc(
        2,
        "rows, cols",
        """    >>> import numpy as np
    >>> layer = Conv2DTranspose(4, 3, strides=2)
    >>> layer(np.zeros((1, 5, 5, 2))).shape
    (1, 11, 11, 4)
    >>> layer.kernel.shape
    (3, 3, 4, 2)""",
    )

    rank = 2


class BaseDepthwiseConv(KernelLayer):
    """N-d depthwise convolution (``DepthwiseConv1D``, ``DepthwiseConv2D`` fix ``rank``):
    each input channel has its own ``depth_multiplier`` filters.

    Input ``(batch, *spatial, in_ch)``; weight ``kernel`` ``(*kernel_size, in_ch,
    depth_multiplier)``; bias ``(in_ch * depth_multiplier,)``; output channel
    ``c * depth_multiplier + m`` is input channel ``c`` correlated with filter ``m``.
    Unlike ``Conv``, strides and dilation may both exceed 1 (as in Keras).
    """

    keras_none_config = (
        "depthwise_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "depthwise_constraint",
        "bias_constraint",
    )

    rank = 2
    kernels = ("depthwise",)

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.depth_multiplier = positive_int(
            depth_multiplier, type(self).__name__, "depth_multiplier"
        )
        _window_arguments(
            self, kernel_size, strides, padding, dilation_rate, data_format, dilated_strides=True
        )
        self._init_kernel(locals())
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

    @property
    def window(self) -> ops.Window:
        return ops.Window(self.kernel_size, self.strides, self.dilation_rate, self.padding)

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if input_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}': the channel axis of the input must be known. "
                f"Received input shape {format_shape(input_shape)}"
            )
        self._check_output_size(
            input_shape,
            f" `inputs shape={format_shape(input_shape)}`, `kernel_size={self.kernel_size}`, "
            f"`strides={self.strides}`, `dilation_rate={self.dilation_rate}`, "
            f"`padding={self.padding!r}`",
        )

    def _output_shape(self, input_shape):
        spatial = tuple(
            ops.output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate
            )
        )
        return (input_shape[0], *spatial, self._units(input_shape))

    def _kernel_shape(self, input_shape):
        return (*self.kernel_size, input_shape[-1], self.depth_multiplier)

    def _units(self, input_shape):
        return input_shape[-1] * self.depth_multiplier

    def _depthwise(self, x, kernel):
        # (*k, in, multiplier) -> (*k, 1, in * multiplier): a conv with one group per input
        # channel, whose group-major filters are Keras's c * multiplier + m order.
        *k, cin, mult = kernel.shape
        grouped = kernel.reshape((*k, 1, cin * mult))
        return ops.conv(x, grouped, self.strides, self.padding, self.dilation_rate, cin)

    def _product(self, x, kernel):
        return self._depthwise(x, kernel)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


class DepthwiseConv1D(BaseDepthwiseConv):
    __doc__ = _depthwise_doc(
        1,
        "steps",
        False,
        """    >>> import numpy as np
    >>> DepthwiseConv1D(3)(np.zeros((1, 8, 3))).shape
    (1, 6, 3)""",
    )

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    __doc__ = _depthwise_doc(
        2,
        "rows, cols",
        False,
        """    >>> import numpy as np
    >>> layer = DepthwiseConv2D(3, depth_multiplier=2)
    >>> layer(np.zeros((1, 8, 8, 3))).shape, layer.kernel.shape
    ((1, 6, 6, 6), (3, 3, 3, 2))""",
    )

    rank = 2


class BaseSeparableConv(BaseDepthwiseConv):
    """Depthwise convolution followed by a 1x1 convolution to ``filters`` channels
    (``SeparableConv1D``, ``SeparableConv2D``).

    Weights ``depthwise_kernel`` ``(*kernel_size, in_ch, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, ..., 1, in_ch * depth_multiplier, filters)``, ``bias``
    ``(filters,)``.
    """

    keras_none_config = (
        "depthwise_regularizer",
        "pointwise_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
        "bias_constraint",
    )

    kernels = ("depthwise", "pointwise")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        kind = type(self).__name__
        self.filters = positive_int(filters, kind, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, kind, "depth_multiplier")
        _window_arguments(
            self, kernel_size, strides, padding, dilation_rate, data_format, dilated_strides=True
        )
        self._init_kernel(locals())
        Layer.__init__(self, **kwargs)
        self.ndim = self.rank + 2

    def _kernel_shapes(self, input_shape):
        depthwise = (*self.kernel_size, input_shape[-1], self.depth_multiplier)
        pointwise = (*(1,) * self.rank, input_shape[-1] * self.depth_multiplier, self.filters)
        return [("depthwise_kernel", depthwise), ("pointwise_kernel", pointwise)]

    def _units(self, input_shape):
        return self.filters

    def _product(self, x, depthwise, pointwise):
        return ops.conv(self._depthwise(x, depthwise), pointwise)

    depthwise_kernel = property(lambda self: self._weight("depthwise_kernel"))
    pointwise_kernel = property(lambda self: self._weight("pointwise_kernel"))
    kernel = None

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


class SeparableConv1D(BaseSeparableConv):
    __doc__ = _depthwise_doc(
        1,
        "steps",
        True,
        """    >>> import numpy as np
    >>> SeparableConv1D(4, 3)(np.zeros((1, 10, 2))).shape
    (1, 8, 4)""",
    )

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    __doc__ = _depthwise_doc(
        2,
        "rows, cols",
        True,
        """    >>> import numpy as np
    >>> layer = SeparableConv2D(8, 3)
    >>> layer(np.zeros((1, 8, 8, 3))).shape
    (1, 6, 6, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 1), (1, 1, 3, 8), (8,)]""",
    )

    rank = 2
