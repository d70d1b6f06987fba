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


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard_swish)."""
    return x * hard_sigmoid(x)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, without overflow."""
    return -softplus(-x)


def mish(x):
    """``x * tanh(softplus(x))``."""
    return x * anp.tanh(softplus(x))


def celu(x, alpha: float = 1.0):
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)`` (continuously differentiable ELU)."""
    return ops.relu(x) + alpha * anp.expm1(-ops.relu(-x) / alpha)


def glu(x, axis: int = -1):
    """Gated linear unit: ``x`` split in two halves ``a, b`` along ``axis``, then
    ``a * sigmoid(b)``; the axis must have an even length."""
    length = np.shape(x)[axis]
    if length % 2:
        raise ValueError(
            "axis size must be divisible by 2. "
            f"Received: x.shape={tuple(np.shape(x))} with axis={axis}"
        )
    a, b = anp.split(x, 2, axis=axis)
    return a * sigmoid(b)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return x - anp.tanh(x)


def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``."""
    return ops.relu(x + 1, max_value=2.0) - 1


def hard_shrink(x, threshold: float = 0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return x * (np.abs(getval(x)) > threshold)


def soft_shrink(x, threshold: float = 0.5):
    """``x`` moved ``threshold`` towards 0, and 0 within ``[-threshold, threshold]``."""
    return ops.relu(x - threshold) - ops.relu(-x - threshold)


def threshold(x, threshold: float, default_value: float):
    """``x`` where ``x > threshold``, else ``default_value`` (Keras gives neither a
    default)."""
    keep = getval(x) > threshold
    return anp.where(keep, x, np.asarray(default_value, dtype=np.result_type(getval(x))))


def squareplus(x, b: float = 4):
    """``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU; ``b`` must be at least 0."""
    return (x + anp.sqrt(x**2 + b)) / 2


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` between -1 and 1, ``x`` from 1 on."""
    value = getval(x)
    return anp.where(value <= -1, 0.0, anp.where(value < 1, (x + 1) ** 2 / 4, x))


def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` between -1 and 1, 1 from 1 on."""
    return ops.relu(x + 1, max_value=2.0) / 2


def sparsemax(x, axis: int = -1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo 2016): ``max(x - tau, 0)``, where ``tau`` makes the result sum to
    1. Keras 3.16's backends summed every cumulative sum of the support into ``tau``, which
    is wrong once two or more entries are non-zero (keras-team/keras#23425, fixed by
    #23469); this is the paper's threshold."""
    value = getval(x)
    ordered = -np.sort(-value, axis=axis)
    ranks = np.arange(1, value.shape[axis] + 1).reshape(
        [-1 if a == axis % value.ndim else 1 for a in range(value.ndim)]
    )
    # The support is the k largest entries, k the last rank whose entry beats the mean
    # excess; tau is a function of x only through the entries in that support.
    k = np.sum(1 + ranks * ordered > np.cumsum(ordered, axis=axis), axis=axis, keepdims=True)
    support = value >= np.take_along_axis(ordered, k - 1, axis=axis)
    tau = (anp.sum(x * support, axis=axis, keepdims=True) - 1) / k.astype(value.dtype)
    return ops.relu(x - tau)


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
    hard_silu,
    log_sigmoid,
    mish,
    celu,
    glu,
    tanh_shrink,
    hard_tanh,
    hard_shrink,
    soft_shrink,
    threshold,
    squareplus,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    tanh,
    softmax,
    log_softmax,
    softplus,
    softsign,
    exponential,
):
    REGISTRY.register(_fn)
REGISTRY.register(silu, "swish")
REGISTRY.register(hard_silu, "hard_swish")
# Keras's other names for them: keras.activations.swish, keras.activations.hard_swish.
swish = silu
hard_swish = hard_silu

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
    "celu": "alpha : float, default 1.0\n        The scale of the negative part.",
    "glu": "axis : int, default -1\n        The axis split in two halves (of even length).",
    "hard_shrink": "threshold : float, default 0.5\n        Inputs within it become 0.",
    "soft_shrink": "threshold : float, default 0.5\n        How far inputs move towards 0.",
    "threshold": "threshold : float\n        Inputs above it are kept.\n    "
    "default_value : float\n        What the others become.",
    "squareplus": "b : float, default 4\n        The smoothness at 0.",
    "sparsemax": "axis : int, default -1\n        The axis projected onto the simplex.",
}
# Functions whose example needs other arguments than x = [-2, 0, 3].
_CALL = {
    "threshold": "np.array([-2.0, 0.0, 3.0]), 0.0, -1.0",
    "glu": "np.array([-2.0, 0.0, 3.0, 1.0])",
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
    "hard_silu": "[-0.3333, 0.0, 3.0]",
    "log_sigmoid": "[-2.1269, -0.6931, -0.0486]",
    "mish": "[-0.2525, 0.0, 2.9865]",
    "celu": "[-0.8647, 0.0, 3.0]",
    "glu": "[-1.9051, 0.0]",
    "tanh_shrink": "[-1.036, 0.0, 2.0049]",
    "hard_tanh": "[-1.0, 0.0, 1.0]",
    "hard_shrink": "[-2.0, 0.0, 3.0]",
    "soft_shrink": "[-1.5, 0.0, 2.5]",
    "threshold": "[-1.0, -1.0, 3.0]",
    "squareplus": "[0.4142, 1.0, 3.3028]",
    "sparse_plus": "[0.0, 0.25, 3.0]",
    "sparse_sigmoid": "[0.0, 0.5, 1.0]",
    "sparsemax": "[0.0, 0.0, 1.0]",
}
for _name, _out in _ON_X.items():
    _fn = globals()[_name]
    _extra = f"\n    {_EXTRA[_name]}" if _name in _EXTRA else ""
    _call = _CALL.get(_name, "np.array([-2.0, 0.0, 3.0])")
    _fn.__doc__ = f"""{_fn.__doc__.strip()}

    Parameters
    ----------
    x : array
        Any shape; the function applies element-wise (softmax, log_softmax, glu and
        sparsemax: along ``axis``).{_extra}

    Returns
    -------
    An array of ``x``'s shape (glu: half as long along ``axis``), differentiable by autograd.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(np.asarray({_name}({_call}), dtype=float), 4).tolist()
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


# Registered functions a layer cannot apply to its output: a layer calls its activation
# with the output alone and its output shape follows from its own arguments.
_NOT_FOR_LAYERS = {
    "threshold": "takes the arguments `threshold` and `default_value` besides x",
    "glu": "halves the length of an axis, where a layer's activation keeps its output's shape",
}


def for_layer(identifier, owner: str):
    """``get(identifier)`` for a layer's ``activation`` argument: a ValueError naming
    ``owner`` for the functions a layer cannot apply (``threshold``, ``glu``), which Keras
    accepts and then fails on (threshold) or mis-shapes (glu) at the first call.

    Parameters
    ----------
    identifier : name, callable or None
        As for ``get``.
    owner : str
        The layer's class name, for the message.

    Returns
    -------
    The function.

    Examples
    --------
    >>> for_layer("relu", "Conv2D").__name__
    'relu'
    """
    fn = get(identifier)
    reason = _NOT_FOR_LAYERS.get(REGISTRY.name_of(fn))
    if reason is not None:
        raise ValueError(
            f"{owner}: the activation {REGISTRY.name_of(fn)!r} {reason}, so a layer cannot "
            f"apply it; call minicnn.activations.{REGISTRY.name_of(fn)} on the layer's output "
            f"instead. Received: activation={identifier!r:.100}"
        )
    return fn


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


__all__ = [*REGISTRY.entries, "get", "for_layer", "serialize", "deserialize"]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
