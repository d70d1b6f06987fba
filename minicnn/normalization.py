"""``BatchNormalization``: batch statistics in training, moving statistics at inference.

In training (and when the layer is trainable, as Keras 3 rules) the output is
``(x - mean) * (gamma / sqrt(var + epsilon)) + beta`` over the batch's per-channel mean and
biased variance ``E[x^2] - E[x]^2`` (Keras's ``ops.moments``), and ``stateless_call``
hands back the moving statistics ``moving * momentum + batch * (1 - momentum)`` for the
training step to commit. At inference the moving statistics stand in for the batch's.
"""

from __future__ import annotations

import autograd.numpy as anp

from . import initializers, ops
from .layer import Layer, WeightSpec, weight_initializer
from .validation import (
    check_bool,
    check_int,
    check_real,
    format_shape,
    not_supported,
)


class BatchNormalization(Layer):
    """Normalises each channel: in training by the batch's mean and variance (and updates
    moving averages of them), at inference by those moving averages; then scales by
    ``gamma`` and shifts by ``beta`` (Keras 3's ``BatchNormalization``).

    Parameters
    ----------
    axis : int, default -1
        The channel axis.
    momentum : float, default 0.99
        ``moving = moving * momentum + batch * (1 - momentum)``.
    epsilon : float, default 1e-3
        Added to the variance before its square root.
    center, scale : bool, default True
        Learn ``beta`` / ``gamma``.
    beta_initializer, gamma_initializer, moving_mean_initializer,
    moving_variance_initializer : names or Initializers (zeros, ones, zeros, ones).
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint : must be None.
    renorm, renorm_clipping, renorm_momentum, synchronized : Keras's batch
        renormalisation and cross-device options; only their defaults are accepted.
    **kwargs : ``name``, ``input_shape``, ``trainable``, ``dtype`` (float32 only).

    Input shape
    -----------
    Any; the channel axis must have a known size.

    Output shape
    ------------
    The input's.

    Weights
    -------
    ``gamma`` (if ``scale``), ``beta`` (if ``center``), then the non-trainable
    ``moving_mean`` and ``moving_variance``, each of shape ``(channels,)``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNormalization()
    >>> y = layer(np.array([[0.0, 1.0], [2.0, 3.0]]), training=True)
    >>> np.round(y, 2).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> layer.weight_names
    ('gamma', 'beta', 'moving_mean', 'moving_variance')
    """

    keras_none_config = (
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
    )

    spatial_mapping = "pointwise"

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        kind = type(self).__name__
        self.axis = check_int(axis, kind, "axis")
        self.momentum = check_real(momentum, kind, "momentum")
        self.epsilon = check_real(epsilon, kind, "epsilon", 0.0, low_open=True)
        self.center = check_bool(center, kind, "center")
        self.scale = check_bool(scale, kind, "scale")
        self.beta_initializer = weight_initializer(beta_initializer, "beta_initializer")
        self.gamma_initializer = weight_initializer(gamma_initializer, "gamma_initializer")
        self.moving_mean_initializer = weight_initializer(
            moving_mean_initializer, "moving_mean_initializer"
        )
        self.moving_variance_initializer = weight_initializer(
            moving_variance_initializer, "moving_variance_initializer"
        )
        not_supported(
            kind,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
            renorm_clipping=renorm_clipping,
        )
        for name, value in (("renorm", renorm), ("synchronized", synchronized)):
            if check_bool(value, kind, name):
                raise ValueError(f"{kind}: `{name}=True` is not supported by minicnn.")
        self.renorm_momentum = check_real(renorm_momentum, kind, "renorm_momentum")
        super().__init__(**kwargs)

    def check_input(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape) or len(input_shape) < 2:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape "
                f"{format_shape(input_shape)}. Received: axis={self.axis}"
            )
        size = input_shape[self.axis]
        if size is None or (self.axis % len(input_shape)) == 0:
            raise ValueError(
                f"Layer '{self.name}': the normalised axis {self.axis} must be a known, "
                f"non-batch axis. Received input shape {format_shape(input_shape)}"
            )
        if self.shaped and size != self.input_shape[self.axis]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis {self.axis} of input shape to have value {self.input_shape[self.axis]}, "
                f"but received input with shape {format_shape(input_shape)}"
            )

    def _expected_channels(self):
        return None  # checked on self.axis above

    def weight_specs(self, input_shape):
        shape = (input_shape[self.axis],)
        specs = []
        if self.scale:
            specs.append(WeightSpec("gamma", shape, self.gamma_initializer))
        if self.center:
            specs.append(WeightSpec("beta", shape, self.beta_initializer))
        specs.append(WeightSpec("moving_mean", shape, self.moving_mean_initializer, False))
        specs.append(WeightSpec("moving_variance", shape, self.moving_variance_initializer, False))
        return specs

    # Keras's attributes for the weights (copies here; None for gamma/beta when the layer
    # has no scale/center, as Keras).
    gamma = property(lambda self: self._weight("gamma"), doc="A copy of gamma, or None.")
    beta = property(lambda self: self._weight("beta"), doc="A copy of beta, or None.")
    moving_mean = property(lambda self: self._weight("moving_mean"), doc="A copy.")
    moving_variance = property(lambda self: self._weight("moving_variance"), doc="A copy.")

    def apply(self, weights, x, training=False, rng=None):
        return self.stateless_call(weights, x, training, rng)[0]

    def stateless_call(self, weights, x, training=False, rng=None):
        weights = list(weights)
        moving_mean, moving_variance = weights[-2:]
        gamma = weights.pop(0) if self.scale else None
        beta = weights.pop(0) if self.center else None
        ndim = len(x.shape)
        axis = self.axis % ndim
        shape = [1] * ndim
        shape[axis] = x.shape[axis]
        if training and self.trainable:
            y, mean, variance = ops.batch_norm(x, gamma, beta, axis, self.epsilon)
            updates = [
                moving_mean * self.momentum + mean * (1.0 - self.momentum),
                moving_variance * self.momentum + variance * (1.0 - self.momentum),
            ]
            return y, updates
        factor = 1.0 / anp.sqrt(moving_variance + self.epsilon)
        if gamma is not None:
            factor = factor * gamma
        y = (x - anp.reshape(moving_mean, shape)) * anp.reshape(factor, shape)
        if beta is not None:
            y = y + anp.reshape(beta, shape)
        return y, [moving_mean, moving_variance]

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.config_entry(self.beta_initializer),
            "gamma_initializer": initializers.config_entry(self.gamma_initializer),
            "moving_mean_initializer": initializers.config_entry(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.config_entry(
                self.moving_variance_initializer
            ),
            # Keras's renormalisation options, at the only values minicnn accepts.
            "renorm": False,
            "renorm_clipping": None,
            "renorm_momentum": self.renorm_momentum,
            "synchronized": False,
        }
