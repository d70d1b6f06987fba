"""Activation functions by Keras name: ``activations.get("relu")``, ``Conv2D(activation=...)``.

Each is a pure function of an array, written with ``autograd.numpy`` or ``minicnn.ops``
primitives (``relu``, ``erf``) where autograd's own VJP would turn float32 gradients into
float64. Registered by name, so ``get``/``serialize``/``deserialize`` follow Keras
(``keras/src/activations/``): a registered function serializes as its name, ``None`` is
``linear``.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from . import missing, ops
from .registry import Registry

REGISTRY = Registry("activations", "activation function")


def linear(x):
    """The identity."""
    return x


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Keras's ``relu``; see ``ops.relu``."""
    return ops.relu(x, negative_slope, max_value, threshold)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return ops.relu(x, max_value=6.0)


def leaky_relu(x, negative_slope: float = 0.2):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Keras's default slope 0.2)."""
    return ops.relu(x, negative_slope=negative_slope)


def tanh(x):
    """Hyperbolic tangent."""
    return anp.tanh(x)


def exponential(x):
    """``exp(x)``."""
    return anp.exp(x)


def sigmoid(x):
    """Logistic function, computed without overflow for large negative inputs."""
    return 0.5 * (anp.tanh(0.5 * x) + 1)


def softmax(x, axis: int = -1):
    """Softmax along ``axis``; the max is subtracted for stability (it does not change
    the result, so no gradient flows through it)."""
    e = anp.exp(x - np.max(getval(x), axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1):
    """``log(softmax(x))`` by the log-sum-exp form."""
    shifted = x - np.max(getval(x), axis=axis, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))


def elu(x, alpha: float = 1.0):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    return ops.relu(x) + alpha * (anp.exp(-ops.relu(-x)) - 1)


def selu(x):
    """Scaled ELU with Keras's constants."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def softplus(x):
    """``log(1 + exp(x))`` without overflow."""
    return anp.logaddexp(x * 0, x)


def softsign(x):
    """``x / (1 + |x|)``."""
    return x / (1 + anp.abs(x))


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return x * sigmoid(x)


def gelu(x, approximate: bool = False):
    """Gaussian error linear unit; exact (erf) by default as in Keras 3."""
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + anp.tanh(c * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + ops.erf(x * (1 / math.sqrt(2))))


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: ``relu6(x + 3) / 6``."""
    return ops.relu(x + 3, max_value=6.0) / 6


for _fn in (
    linear,
    relu,
    relu6,
    leaky_relu,
    elu,
    selu,
    gelu,
    sigmoid,
    hard_sigmoid,
    tanh,
    softmax,
    log_softmax,
    softplus,
    softsign,
    exponential,
):
    REGISTRY.register(_fn)
REGISTRY.register(silu, "swish")
swish = silu  # Keras's other name for it: keras.activations.swish

# The numpy-style sections of each function's docstring: its extra arguments and what it
# gives on x = [-2, 0, 3] (the examples run as doctests in tests/test_docstrings.py).
_EXTRA = {
    "relu": "negative_slope : float, default 0\n        The slope below ``threshold``.\n    "
    "max_value : None or float\n        The largest output.\n    threshold : float, default 0"
    "\n        Where the slope changes.",
    "leaky_relu": "negative_slope : float, default 0.2\n        The slope for negative inputs.",
    "elu": "alpha : float, default 1.0\n        The scale of the negative part.",
    "gelu": "approximate : bool, default False\n        Use the tanh approximation instead of erf.",
    "softmax": "axis : int, default -1\n        The axis normalised over.",
    "log_softmax": "axis : int, default -1\n        The axis normalised over.",
}
_ON_X = {
    "linear": "[-2.0, 0.0, 3.0]",
    "relu": "[0.0, 0.0, 3.0]",
    "relu6": "[0.0, 0.0, 3.0]",
    "leaky_relu": "[-0.4, 0.0, 3.0]",
    "elu": "[-0.8647, 0.0, 3.0]",
    "selu": "[-1.5202, 0.0, 3.1521]",
    "gelu": "[-0.0455, 0.0, 2.996]",
    "sigmoid": "[0.1192, 0.5, 0.9526]",
    "hard_sigmoid": "[0.1667, 0.5, 1.0]",
    "tanh": "[-0.964, 0.0, 0.9951]",
    "softmax": "[0.0064, 0.0471, 0.9465]",
    "log_softmax": "[-5.055, -3.055, -0.055]",
    "softplus": "[0.1269, 0.6931, 3.0486]",
    "softsign": "[-0.6667, 0.0, 0.75]",
    "exponential": "[0.1353, 1.0, 20.0855]",
    "silu": "[-0.2384, 0.0, 2.8577]",
}
for _name, _out in _ON_X.items():
    _fn = globals()[_name]
    _extra = f"\n    {_EXTRA[_name]}" if _name in _EXTRA else ""
    _fn.__doc__ = f"""{_fn.__doc__.strip()}

    Parameters
    ----------
    x : array
        Any shape; the function applies element-wise (softmax: along ``axis``).{_extra}

    Returns
    -------
    An array of ``x``'s shape, differentiable by autograd.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(np.asarray({_name}(np.array([-2.0, 0.0, 3.0])), dtype=float), 4).tolist()
    {_out}
    """


def get(identifier):
    """An activation function from a Keras name, a callable or None (Keras 3's
    ``activations.get``).

    Parameters
    ----------
    identifier : name, callable or None
        ``"relu"``, ``"softmax"``...; a function is returned as it is; None means linear.

    Returns
    -------
    The function; a ValueError listing the names for an unknown one.

    Examples
    --------
    >>> get("relu").__name__, get(None).__name__
    ('relu', 'linear')
    """
    if identifier is None:
        return linear
    return REGISTRY.get(identifier, wrap=lambda fn: fn, expected="a callable or ")


def serialize(activation) -> str:
    """The registered name of an activation function (what configs record).

    Parameters
    ----------
    activation : one of minicnn's activation functions.

    Returns
    -------
    Its name; a TypeError for a function minicnn does not know.

    Examples
    --------
    >>> from minicnn.activations import relu
    >>> serialize(relu)
    'relu'
    """
    name = REGISTRY.name_of(activation)
    if name is None:
        raise TypeError(
            f"activations.serialize: {activation!r:.100} is not one of minicnn's activation "
            f"functions {REGISTRY.names()}; only those can be saved by name."
        )
    return name


def deserialize(name):
    """The activation function called ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    The function.

    Examples
    --------
    >>> deserialize("tanh").__name__
    'tanh'
    """
    fn = REGISTRY.lookup(name)
    if fn is None:
        raise REGISTRY.unknown(name)
    return fn


__all__ = [*REGISTRY.entries, "get", "serialize", "deserialize"]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
