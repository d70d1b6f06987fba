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

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

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
        self._check_output_size(
            input_shape,
            f": `inputs.shape={format_shape(input_shape)}` and `pool_size={self.pool_size}`",
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


class BaseGlobalPooling(Layer):
    """Max or mean over all spatial axes: ``(batch, *spatial, c)`` -> ``(batch, c)``
    (or ``(batch, 1, ..., 1, c)`` with ``keepdims=True``); Keras's ``BaseGlobalPooling``."""

    rank = 2
    mode = "max"
    spatial_mapping = "all"

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

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


def _pooling(name: str, base: type, rank: int, mode: str, over: str) -> type:
    """A pooling class of ``rank`` spatial axes and ``mode``, as Keras defines each one
    (the base holds everything; these only fix the two)."""
    what = "Largest value" if mode == "max" else "Mean"
    where = "of each window" if base is BasePooling else "over all positions"
    members = {"rank": rank, "mode": mode, "__module__": __name__}
    default = ""
    if base is BasePooling and mode == "max":
        default = f"; ``pool_size={(2,) * rank if rank > 1 else 2}``"
    elif base is BasePooling:
        # Keras 3.15 gives average pooling no default pool size: minicnn code that omits
        # it would fail once moved to Keras, so it fails here too.
        def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
            BasePooling.__init__(self, pool_size, strides, padding, data_format, **kwargs)

        __init__.__qualname__ = f"{name}.__init__"  # Python's TypeError names the class
        members["__init__"] = __init__
        default = "; ``pool_size`` is required, as in Keras"
    members["__doc__"] = _pooling_doc(name, base, rank, mode, over, f"{what} {where}{default}.")
    return type(name, (base,), members)


def _pooling_doc(name: str, base: type, rank: int, mode: str, over: str, summary: str) -> str:
    """The numpy-style docstring of a pooling class: Keras's arguments, shapes, example."""
    inner = over.removeprefix("(batch, ").removesuffix(", channels)")
    shape = (1, 4, 4, 1) if rank == 2 else (1, 4, 1)
    x = f"np.arange({math.prod(shape)}.0).reshape{shape}"
    if base is BasePooling:
        window = (2,) * rank if rank > 1 else 2
        kernel = f"{name}({'' if mode == 'max' else 2})"
        expected = {
            ("max", 2): "[[5.0, 7.0], [13.0, 15.0]]",
            ("average", 2): "[[2.5, 4.5], [10.5, 12.5]]",
            ("max", 1): "[1.0, 3.0]",
            ("average", 1): "[0.5, 2.5]",
        }[(mode, rank)]
        index = "[0, :, :, 0]" if rank == 2 else "[0, :, 0]"
        default = f"default ``{window}``" if mode == "max" else "required (Keras gives no default)"
        return f"""{summary}

    Over inputs ``{over}`` (Keras 3's ``{name}``, channels last).

    Parameters
    ----------
    pool_size : int or tuple of {rank} ints
        The window size per spatial axis; {default}.
    strides : None, int or tuple of {rank} ints
        Steps between windows; None (the default) means ``pool_size``.
    padding : ``"valid"`` (default: only whole windows) or ``"same"`` (``ceil(n /
        strides)`` outputs; padded positions are left out of a max or an average).
    data_format : None or ``"channels_last"`` (``"channels_first"`` is refused).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``{over}``.

    Output shape
    ------------
    ``(batch, {", ".join("new_" + a for a in inner.split(", "))}, channels)``; with
    ``"valid"`` padding each size is ``(n - pool_size) // strides + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> {kernel}({x}){index}.tolist()
    {expected}
    """
    expected = {("max", 2): "[[15.0]]", ("average", 2): "[[7.5]]"}.get((mode, rank))
    result = {("max", 1): "[[3.0]]", ("average", 1): "[[1.5]]"}.get((mode, rank), expected)
    return f"""{summary}

    Over inputs ``{over}`` (Keras 3's ``{name}``, channels last).

    Parameters
    ----------
    data_format : None or ``"channels_last"`` (``"channels_first"`` is refused).
    keepdims : bool, default False
        Keep the spatial axes, with size 1.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``{over}``.

    Output shape
    ------------
    ``(batch, channels)``; ``(batch, {", ".join("1" for _ in inner.split(", "))}, channels)``
    with ``keepdims=True``.

    Examples
    --------
    >>> import numpy as np
    >>> {name}()({x}).tolist()
    {result}
    """


_SHAPES = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)"}
MaxPooling1D = _pooling("MaxPooling1D", BasePooling, 1, "max", _SHAPES[1])
MaxPooling2D = _pooling("MaxPooling2D", BasePooling, 2, "max", _SHAPES[2])
AveragePooling1D = _pooling("AveragePooling1D", BasePooling, 1, "average", _SHAPES[1])
AveragePooling2D = _pooling("AveragePooling2D", BasePooling, 2, "average", _SHAPES[2])
GlobalMaxPooling1D = _pooling("GlobalMaxPooling1D", BaseGlobalPooling, 1, "max", _SHAPES[1])
GlobalMaxPooling2D = _pooling("GlobalMaxPooling2D", BaseGlobalPooling, 2, "max", _SHAPES[2])
GlobalAveragePooling1D = _pooling(
    "GlobalAveragePooling1D", BaseGlobalPooling, 1, "average", _SHAPES[1]
)
GlobalAveragePooling2D = _pooling(
    "GlobalAveragePooling2D", BaseGlobalPooling, 2, "average", _SHAPES[2]
)

MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
