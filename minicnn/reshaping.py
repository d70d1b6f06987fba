"""Reshaping layers: ``Reshape``, ``Permute``, ``ZeroPadding1D/2D``, ``Cropping1D/2D``,
``UpSampling1D/2D``, with Keras 3's arguments, output shapes and errors
(``keras/src/layers/reshaping/``)."""

from __future__ import annotations

import math

import autograd.numpy as anp

from . import ops
from .layer import Layer
from .validation import (
    check_choice,
    format_shape,
    is_int,
    standardize_data_format,
    standardize_tuple,
)


class Reshape(Layer):
    """Gives each sample a new shape with the same number of values (Keras 3's
    ``Reshape``).

    Parameters
    ----------
    target_shape : tuple of ints
        The new per-sample shape; one entry may be -1, inferred from the others.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, *dims)``.

    Output shape
    ------------
    ``(batch, *target_shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> Reshape((2, -1))(np.zeros((4, 6))).shape
    (4, 2, 3)
    """

    _built_at_init = True  # Keras's Reshape sets built in its constructor

    def __init__(self, target_shape, **kwargs):
        try:
            shape = tuple(target_shape) if not isinstance(target_shape, str) else None
        except TypeError:
            shape = None
        if shape is None or any(not is_int(d) or (d <= 0 and d != -1) for d in shape):
            # Keras's message; minicnn also refuses 0, which only an empty input could fill.
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for "
                "a single unknown dimension (and not 0: only an empty input has no values). "
                f"Received: target_shape={target_shape!r}."
            )
        if list(shape).count(-1) > 1:
            raise ValueError(
                "There must be at most one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={target_shape!r}."
            )
        self.target_shape = tuple(int(d) for d in shape)
        super().__init__(**kwargs)

    def _output_shape(self, input_shape):
        rest = input_shape[1:]
        if None in rest:
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        size, known = math.prod(rest), math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(
                    "The total size of the tensor must be unchanged, however, the input size "
                    "cannot by divided by the specified dimensions in target_shape. Received: "
                    f"input_shape={rest}, target_shape={self.target_shape}"
                )
            return (input_shape[0], *(size // known if d == -1 else d for d in self.target_shape))
        if size != known:
            raise ValueError(
                "The total size of the tensor must be unchanged. Received: "
                f"input_shape={rest}, target_shape={self.target_shape}"
            )
        return (input_shape[0], *self.target_shape)

    def check_input(self, input_shape):
        self._output_shape(input_shape)

    def apply(self, weights, x, training=False, rng=None):
        return anp.reshape(x, self._output_shape(x.shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorders the non-batch axes (Keras 3's ``Permute``).

    Parameters
    ----------
    dims : tuple of ints
        A permutation of ``1..n`` (1-based: the batch axis is not counted).
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, *dims)``.

    Output shape
    ------------
    The axes reordered.

    Examples
    --------
    >>> import numpy as np
    >>> Permute((2, 1))(np.zeros((4, 3, 5))).shape
    (4, 5, 3)
    """

    def __init__(self, dims, **kwargs):
        try:
            dims = tuple(dims)
        except TypeError:
            dims = None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.dims = tuple(int(d) for d in dims)
        super().__init__(**kwargs)
        self.ndim = len(self.dims) + 1

    def _output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def apply(self, weights, x, training=False, rng=None):
        return anp.transpose(x, (0, *self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


def _pairs(value, rank: int, name: str, kind: str) -> tuple[tuple[int, int], ...]:
    """Keras's padding/cropping amounts: an int (all sides), ``rank`` ints (symmetric per
    axis) or ``rank`` pairs; 1D layers also take one ``(before, after)`` pair."""
    if rank == 1:
        return (standardize_tuple(value, 2, name, allow_zero=True),)
    if is_int(value):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((int(value),) * 2,) * rank
    try:
        parts = tuple(value) if not isinstance(value, str) else None
    except TypeError:
        parts = None
    if parts is None or len(parts) != rank:
        raise ValueError(
            f"`{name}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} "
            f"tuples of 2 ints ({kind}). Received: {name}={value!r}."
        )
    ordinals = ("1st", "2nd", "3rd")
    return tuple(
        standardize_tuple(p, 2, f"{ordinals[i]} entry of {name}", allow_zero=True)
        for i, p in enumerate(parts)
    )


class _Spatial(Layer):
    """A layer on the spatial axes of ``(batch, *spatial, channels)`` data."""

    rank = 2

    def __init__(self, data_format=None, **kwargs):
        self.data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.ndim = self.rank + 2

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _ZeroPadding(_Spatial):
    spatial_mapping = "custom"
    shifts_only = True

    def input_positions(self, axis, outputs, length):
        before = self.padding[axis][0]
        return {p - before for p in outputs if 0 <= p - before < length}

    def __init__(self, padding, data_format=None, **kwargs):
        kind = "((top_pad, bottom_pad), (left_pad, right_pad))"
        self.padding = _pairs(padding, self.rank, "padding", kind)
        super().__init__(data_format, **kwargs)

    def _output_shape(self, input_shape):
        spatial = (
            None if n is None else n + b + a for n, (b, a) in zip(input_shape[1:-1], self.padding)
        )
        return (input_shape[0], *spatial, input_shape[-1])

    def apply(self, weights, x, training=False, rng=None):
        return anp.pad(x, ((0, 0), *self.padding, (0, 0)), mode="constant")

    def get_config(self):
        padding = self.padding[0] if self.rank == 1 else self.padding
        return {**super().get_config(), "padding": padding}


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros before and after the steps (Keras 3's ``ZeroPadding1D``).

    Parameters
    ----------
    padding : int or pair of ints, default 1
        Steps added at the start and the end.
    data_format : None or ``"channels_last"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, steps, channels)``.

    Output shape
    ------------
    ``(batch, steps + start + end, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> ZeroPadding1D(2)(np.ones((1, 2, 1)))[0, :, 0].tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around each image (Keras 3's ``ZeroPadding2D``).

    Parameters
    ----------
    padding : int, pair of ints or pair of pairs, default (1, 1)
        ``n``: n on every side; ``(rows, cols)``: symmetric; ``((top, bottom), (left,
        right))``.
    data_format : None or ``"channels_last"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, rows, cols, channels)``.

    Output shape
    ------------
    ``(batch, padded_rows, padded_cols, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> ZeroPadding2D(1)(np.ones((1, 2, 2, 1)))[0, :, :, 0].tolist()[0]
    [0.0, 0.0, 0.0, 0.0]
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Spatial):
    spatial_mapping = "custom"
    shifts_only = True

    def input_positions(self, axis, outputs, length):
        return {p + self.cropping[axis][0] for p in outputs}

    def __init__(self, cropping, data_format=None, **kwargs):
        kind = "((top_crop, bottom_crop), (left_crop, right_crop))"
        self.cropping = _pairs(cropping, self.rank, "cropping", kind)
        super().__init__(data_format, **kwargs)

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if any(n is not None and b + a >= n for n, (b, a) in zip(input_shape[1:-1], self.cropping)):
            # Keras words the two layers' errors differently.
            first = (
                f"`cropping` parameter of `{type(self).__name__}` layer must be smaller than the "
                "input length."
                if self.rank == 1
                else "Values in `cropping` argument should be smaller than the corresponding "
                "spatial dimension of the input."
            )
            raise ValueError(
                f"{first} Received: input_shape={format_shape(input_shape)}, "
                f"cropping={self.cropping[0] if self.rank == 1 else self.cropping}"
            )

    def _output_shape(self, input_shape):
        spatial = (
            None if n is None else n - b - a for n, (b, a) in zip(input_shape[1:-1], self.cropping)
        )
        return (input_shape[0], *spatial, input_shape[-1])

    def apply(self, weights, x, training=False, rng=None):
        index = tuple(slice(b, n - a) for n, (b, a) in zip(x.shape[1:-1], self.cropping))
        return x[(slice(None), *index, slice(None))]

    def get_config(self):
        cropping = self.cropping[0] if self.rank == 1 else self.cropping
        return {**super().get_config(), "cropping": cropping}


class Cropping1D(_Cropping):
    """Drops steps from the start and the end (Keras 3's ``Cropping1D``).

    Parameters
    ----------
    cropping : int or pair of ints, default (1, 1)
        Steps dropped at the start and the end.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, steps, channels)``.

    Output shape
    ------------
    ``(batch, steps - start - end, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> Cropping1D((1, 2))(np.arange(6.0).reshape(1, 6, 1))[0, :, 0].tolist()
    [1.0, 2.0, 3.0]
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]  # Keras's Cropping1D has none
        return config


class Cropping2D(_Cropping):
    """Drops rows and columns from the edges of each image (Keras 3's ``Cropping2D``).

    Parameters
    ----------
    cropping : int, pair of ints or pair of pairs, default ((0, 0), (0, 0))
        ``n``: n from every side; ``(rows, cols)``: symmetric; ``((top, bottom), (left,
        right))``.
    data_format : None or ``"channels_last"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, rows, cols, channels)``.

    Output shape
    ------------
    ``(batch, cropped_rows, cropped_cols, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> Cropping2D(((1, 0), (0, 1)))(np.zeros((1, 5, 5, 2))).shape
    (1, 4, 4, 2)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class UpSampling1D(_Spatial):
    """Repeats each step ``size`` times (Keras 3's ``UpSampling1D``).

    Parameters
    ----------
    size : int, default 2
        The upsampling factor.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, steps, channels)``.

    Output shape
    ------------
    ``(batch, steps * size, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> UpSampling1D(3)(np.array([[[1.0], [2.0]]]))[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        if isinstance(size, bool) or not is_int(size):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(
                f"Argument `size` should be a positive integer. Received: size={size!r}"
            )
        self.size = int(size)
        super().__init__(**kwargs)

    def _output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    spatial_mapping = "custom"

    def input_positions(self, axis, outputs, length):
        return ops.upsample_sources(outputs, length, self.size, "nearest")

    def apply(self, weights, x, training=False, rng=None):
        return ops.upsample(x, self.size, "nearest")

    def get_config(self):
        config = super().get_config()
        del config["data_format"]  # Keras's UpSampling1D has none
        return {**config, "size": self.size}


class UpSampling2D(_Spatial):
    """Repeats (``"nearest"``) or interpolates (``"bilinear"``, half-pixel centres, as
    Keras) the rows and columns of each image (Keras 3's ``UpSampling2D``).

    Parameters
    ----------
    size : int or pair of ints, default (2, 2)
        The factors for rows and columns.
    data_format : None or ``"channels_last"``.
    interpolation : ``"nearest"`` (default) or ``"bilinear"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, rows, cols, channels)``.

    Output shape
    ------------
    ``(batch, rows * size[0], cols * size[1], channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> UpSampling2D(2)(np.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0].tolist()[1]
    [0.0, 0.0, 1.0, 1.0]
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = check_choice(
            interpolation, type(self).__name__, "interpolation", ("nearest", "bilinear"), True
        )
        super().__init__(data_format, **kwargs)

    def _output_shape(self, input_shape):
        spatial = (None if n is None else n * f for n, f in zip(input_shape[1:-1], self.size))
        return (input_shape[0], *spatial, input_shape[-1])

    spatial_mapping = "custom"

    def input_positions(self, axis, outputs, length):
        return ops.upsample_sources(outputs, length, self.size[axis], self.interpolation)

    def apply(self, weights, x, training=False, rng=None):
        return ops.upsample(x, self.size, self.interpolation)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "interpolation": self.interpolation}
