"""Regularization layers: ``Dropout`` and ``SpatialDropout1D/2D``.

They are the identity at inference. In training each unit (for SpatialDropout, each
whole channel) is zeroed with probability ``rate`` and the kept ones are scaled by
``1 / (1 - rate)``, drawn from the ``rng`` the model hands the layer for this step, so a
forward pass is a pure function of its seed (see ``minicnn.layer``).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from .layer import Layer
from .validation import check_seed, format_shape, is_int, is_real, standardize_data_format


class Dropout(Layer):
    """Randomly sets inputs to 0 with probability ``rate`` during training and scales
    the rest by ``1 / (1 - rate)``, so the expected sum is unchanged; at inference the
    input passes through (Keras 3's ``Dropout``).

    Parameters
    ----------
    rate : float in [0, 1]
        The fraction of inputs dropped.
    noise_shape : None or tuple of ints and Nones
        The shape of the keep/drop mask, broadcast over the input (None entries take the
        input's size): ``(batch, 1, features)`` drops the same features at every step.
    seed : None or int
        Mixed into each training step's seed (masks are reproducible under
        ``minicnn.set_random_seed``, not equal to Keras's).
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
    >>> layer = Dropout(0.5)
    >>> bool((layer(np.ones((1, 6))) == 1).all())  # inference: unchanged
    True
    >>> sorted(set(layer(np.ones((1, 1000)), training=True).ravel().tolist()))
    [0.0, 2.0]
    """

    needs_rng = True
    spatial_mapping = "pointwise"

    _built_at_init = True  # as Keras's _build_at_init: no weights to make

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if not is_real(rate) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = _noise_shape(noise_shape)
        self.seed = check_seed(seed, type(self).__name__)
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        super().check_input(input_shape)
        if self.noise_shape is not None and len(self.noise_shape) != len(input_shape):
            raise ValueError(
                f"Layer '{self.name}': `noise_shape={self.noise_shape}` must have one entry per "
                f"axis of the input {format_shape(input_shape)}."
            )

    def _mask_shape(self, x_shape):
        if self.noise_shape is None:
            return x_shape
        return tuple(n if m is None else m for m, n in zip(self.noise_shape, x_shape))

    def apply(self, weights, x, training=False, rng=None):
        if not training or self.rate == 0:
            return x
        if self.rate == 1:  # Keras: all zeros (NaN inputs included), a zero gradient
            return anp.where(np.zeros(np.shape(x), bool), x, 0.0)
        if rng is None:
            raise ValueError(
                f"Layer '{self.name}' draws random numbers in training; pass `seed=` to "
                "`apply` (fit and __call__ draw one for you)."
            )
        if self.seed is not None:
            rng = np.random.default_rng((self.seed, int(rng.integers(2**63))))
        keep_prob = 1.0 - self.rate
        keep = rng.random(self._mask_shape(np.shape(x))) < keep_prob
        # x / keep_prob where kept, as Keras's backends compute it.
        return anp.where(keep, x / keep_prob, 0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
        }


def _noise_shape(value):
    """None, or a tuple of positive ints and Nones, with the messages of Keras's
    ``Dropout._validate_noise_shape``."""
    if value is None:
        return None
    start = "Invalid value received for argument `noise_shape`."
    if isinstance(value, str):
        raise ValueError(
            f"{start} Expected a tuple or list of integers. Received: noise_shape={value!r}"
        )
    try:
        shape = tuple(value)
    except TypeError:
        raise ValueError(
            f"{start} Expected an iterable of integers (e.g., a tuple or list). "
            f"Received: noise_shape={value!r}"
        ) from None
    for i, d in enumerate(shape):
        if d is not None and (isinstance(d, bool) or not is_int(d)):
            raise ValueError(
                f"{start} Expected all elements to be integers or None. Received element at "
                f"index {i}: {d!r} (type: {type(d).__name__})"
            )
        if d is not None and d <= 0:
            raise ValueError(
                f"{start} Expected all dimensions to be positive integers or None. Received "
                f"negative or zero value at index {i}: {d}"
            )
    return tuple(None if d is None else int(d) for d in shape)


class _SpatialDropout(Dropout):
    """Drops whole channels: the mask is ``(batch, 1, ..., 1, channels)``."""

    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.ndim = self.rank + 2

    def _mask_shape(self, x_shape):
        return (x_shape[0], *(1,) * self.rank, x_shape[-1])

    def get_config(self):
        # Keras's SpatialDropout configs have neither noise_shape nor trainable (and its
        # constructor refuses trainable), and name the dtype by a plain string.
        config = super().get_config()
        del config["noise_shape"], config["trainable"]
        config["dtype"] = "float32"
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels: in training each channel of a sample is zeroed with
    probability ``rate`` at every step together (Keras 3's ``SpatialDropout1D``).

    Parameters
    ----------
    rate : float in [0, 1]
        The fraction of channels dropped.
    seed : None or int
        Mixed into each training step's seed.
    name, dtype : the layer's name; None or ``"float32"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, steps, channels)``.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> y = SpatialDropout1D(0.5)(np.ones((1, 4, 8)), training=True)
    >>> bool((y == y[:, :1]).all())  # a channel is kept or dropped at every step
    True
    """

    rank = 1


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps: in training each channel of a sample is zeroed with
    probability ``rate`` at every position (Keras 3's ``SpatialDropout2D``).

    Parameters
    ----------
    rate : float in [0, 1]
        The fraction of channels dropped.
    data_format : None or ``"channels_last"``.
    seed : None or int
        Mixed into each training step's seed.
    name, dtype : the layer's name; None or ``"float32"``.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    ``(batch, rows, cols, channels)``.

    Output shape
    ------------
    The input's.

    Examples
    --------
    >>> import numpy as np
    >>> y = SpatialDropout2D(0.5)(np.ones((1, 3, 3, 8)), training=True)
    >>> bool((y == y[:, :1, :1]).all())
    True
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        # Keras's 2D version takes (and its config records) a data_format; only
        # channels_last exists here.
        self.data_format = standardize_data_format(data_format)
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
