"""Weight initializers, by Keras name or as objects: ``get("glorot_uniform")((3, 3, 1, 8))``.

Fans follow Keras's ``compute_fans``: for a kernel ``(*kernel_size, in, out)`` the
receptive field is ``prod(kernel_size)``, ``fan_in = in * receptive`` and
``fan_out = out * receptive``; a Dense kernel ``(in, out)`` has fans ``in`` and ``out``.
"""

from __future__ import annotations

import math

import numpy as np

from . import missing
from .registry import Configurable, Registry
from .utils import rng
from .validation import check_choice, check_real, check_seed


def compute_fans(shape: tuple[int, ...], input_axes=None, output_axes=None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them: over the given
    ``input_axes`` and ``output_axes`` when both are given (einsum-style kernels), else a
    kernel ``(*window, in, out)``'s."""
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(Configurable):
    """Base class: calling an initializer with a shape returns a new float32 array.

    Random initializers take ``seed``: unseeded ones draw from minicnn's generator (see
    ``utils.set_random_seed``); a seeded one gives the same values at every call, as in
    Keras 3.

    Parameters
    ----------
    (none: subclasses take their own)

    Examples
    --------
    >>> import numpy as np
    >>> class Twos(Initializer):
    ...     def sample(self, shape):
    ...         return np.full(shape, 2.0)
    >>> Twos()((2,)).tolist()
    [2.0, 2.0]
    """

    seed: int | None = None

    def __call__(self, shape, dtype="float32") -> np.ndarray:
        return np.asarray(self.sample(tuple(shape)), dtype=dtype)

    def _rng(self) -> np.random.Generator:
        return rng() if self.seed is None else np.random.default_rng(self.seed)

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (Keras 3's ``Zeros``, ``"zeros"``: the default bias initializer).

    Parameters
    ----------
    (none)

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> Zeros()((2, 2)).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """

    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones (Keras 3's ``Ones``, ``"ones"``).

    Parameters
    ----------
    (none)

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> Ones()((1, 3)).tolist()
    [[1.0, 1.0, 1.0]]
    """

    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Every value ``value`` (Keras 3's ``Constant``).

    Parameters
    ----------
    value : float, or an array-like of floats, default 0
        The value; an array is broadcast to the requested shape, as Keras's
        ``broadcast_to`` (kept as nested lists in the config).

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> Constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    """

    def __init__(self, value: float = 0.0):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if np.ndim(value) == 0:
            self.value = check_real(value, "Constant", "value")
            return
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is None or not np.isfinite(array).all():
            raise TypeError(
                "Constant: `value` must be a finite float or an array of finite floats. "
                f"Received: value={value!r:.80}"
            )
        self.value = array.tolist()

    def sample(self, shape):
        try:
            return np.broadcast_to(np.asarray(self.value, dtype=np.float64), shape).copy()
        except ValueError:
            raise ValueError(
                f"Constant: a value of shape {np.shape(self.value)} cannot fill a weight of "
                f"shape {tuple(shape)}."
            ) from None


class RandomNormal(Initializer):
    """Normal samples with ``mean`` and ``stddev`` (Keras 3's ``RandomNormal``).

    Parameters
    ----------
    mean : float, default 0
    stddev : float, default 0.05
    seed : None or int
        An int gives the same values at every call (as Keras 3); None draws from
        minicnn's generator (``set_random_seed``).

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> w = RandomNormal(stddev=1.0, seed=0)((1000,))
    >>> bool(abs(w.mean()) < 0.1 and abs(w.std() - 1) < 0.1)
    True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        owner = type(self).__name__
        self.mean = check_real(mean, owner, "mean")
        self.stddev = check_real(stddev, owner, "stddev")
        self.seed = check_seed(seed, owner)

    def sample(self, shape):
        return self._rng().normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    """Uniform samples in ``[minval, maxval)`` (Keras 3's ``RandomUniform``).

    Parameters
    ----------
    minval, maxval : floats, default -0.05 and 0.05
    seed : None or int
        An int gives the same values at every call (as Keras 3); None draws from
        minicnn's generator (``set_random_seed``).

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> w = RandomUniform(0.0, 1.0, seed=1)((100,))
    >>> bool(w.min() >= 0 and w.max() < 1)
    True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = check_real(minval, "RandomUniform", "minval")
        self.maxval = check_real(maxval, "RandomUniform", "maxval")
        self.seed = check_seed(seed, "RandomUniform")

    def sample(self, shape):
        return self._rng().uniform(self.minval, self.maxval, size=shape)


def _truncated_normal(gen, shape, mean, stddev):
    """Normal samples redrawn until they lie within two standard deviations."""
    out = gen.normal(size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = gen.normal(size=int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + stddev * out


class TruncatedNormal(RandomNormal):
    """Normal samples redrawn until within two ``stddev`` of ``mean`` (Keras 3's
    ``TruncatedNormal``).

    Parameters
    ----------
    mean : float, default 0
    stddev : float, default 0.05
    seed : None or int
        An int gives the same values at every call (as Keras 3); None draws from
        minicnn's generator (``set_random_seed``).

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> w = TruncatedNormal(stddev=1.0, seed=0)((1000,))
    >>> bool(np.abs(w).max() <= 2)
    True
    """

    def sample(self, shape):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev)


class VarianceScaling(Initializer):
    """Samples of variance ``scale / n``, ``n`` the kernel's fan in, fan out or their mean
    (Keras 3's ``VarianceScaling``, behind Glorot, He and LeCun initializers).

    Parameters
    ----------
    scale : float > 0, default 1
    mode : ``"fan_in"`` (default), ``"fan_out"`` or ``"fan_avg"``
    distribution : ``"truncated_normal"`` (default), ``"untruncated_normal"`` or
        ``"uniform"``
    seed : None or int
        An int gives the same values at every call (as Keras 3); None draws from
        minicnn's generator (``set_random_seed``).
    input_axes, output_axes : None or lists of axes
        When both are given, the fans are the products of the shape over them (Keras's
        fans for einsum kernels); else a kernel ``(*window, in, out)``'s fans.

    Returns
    -------
    Called with a shape (and ``dtype="float32"``), a new array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> w = VarianceScaling(scale=2.0, distribution="uniform", seed=0)((3, 3, 1, 8))
    >>> bool(np.abs(w).max() <= np.sqrt(3 * 2.0 / 9))  # fan_in = 3 * 3 * 1
    True
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        owner = "VarianceScaling"
        self.input_axes = _axes(input_axes, owner, "input_axes")
        self.output_axes = _axes(output_axes, owner, "output_axes")
        # Keras's own messages first (its tests match them), then the typed checks.
        modes = ("fan_in", "fan_out", "fan_avg")
        distributions = ("truncated_normal", "untruncated_normal", "uniform")
        if isinstance(mode, str) and mode.lower() not in modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {list(modes)}")
        if isinstance(distribution, str) and distribution.lower() not in distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Allowed distributions: "
                f"{list(distributions)}"
            )
        if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale <= 0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        self.mode = check_choice(mode, owner, "mode", modes)
        self.distribution = check_choice(distribution, owner, "distribution", distributions)
        self.scale = check_real(scale, owner, "scale", 0.0, low_open=True)
        self.seed = check_seed(seed, "VarianceScaling")

    def sample(self, shape):
        for axes in (self.input_axes, self.output_axes):
            if axes is not None and any(not -len(shape) <= a < len(shape) for a in axes):
                raise ValueError(
                    f"VarianceScaling: axes {axes} do not fit a weight of shape {shape}."
                )
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._rng().uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return self._rng().normal(0.0, math.sqrt(variance), size=shape)
        # 0.8796... is the stddev of a standard normal truncated to [-2, 2].
        return _truncated_normal(self._rng(), shape, 0.0, math.sqrt(variance) / 0.87962566103423978)


def _axes(value, owner: str, name: str) -> list[int] | None:
    """``input_axes``/``output_axes``: None or a list of axis numbers."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in value
    ):
        raise ValueError(
            f"{owner}: `{name}` must be None or a list of axes (integers). Received: "
            f"{name}={value!r:.80}"
        )
    return [int(a) for a in value]


def _preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    """A named VarianceScaling configuration, as Keras defines GlorotUniform and friends."""

    def __init__(self, seed: int | None = None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    keras_name = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    full = f"""{doc.rstrip(".")} (Keras 3's ``{name}``, ``"{keras_name}"``:
    ``VarianceScaling(scale={scale}, mode="{mode}", distribution="{distribution}")``).

    Parameters
    ----------
    seed : None or int
        An int gives the same values at every call (as Keras 3); None draws from
        minicnn's generator (``set_random_seed``).
    input_axes, output_axes : None or lists of axes
        When both are given, the fans are the products of the shape over them.

    Returns
    -------
    Called with a kernel shape, a new array of that shape.

    Examples
    --------
    >>> w = {name}(seed=0)((3, 3, 1, 8))
    >>> w.shape, w.dtype
    ((3, 3, 1, 8), dtype('float32'))
    >>> bool((w == {name}(seed=0)((3, 3, 1, 8))).all())  # a seed repeats its values
    True
    """
    members = {"__init__": __init__, "get_config": get_config, "__doc__": full}
    return type(name, (VarianceScaling,), members)


GlorotUniform = _preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform", "U(-l, l), l = sqrt(6 / (fan_in + fan_out))."
)
GlorotNormal = _preset(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).",
)
HeNormal = _preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(2 / fan_in)."
)
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "U(-l, l), l = sqrt(6 / fan_in).")
LecunNormal = _preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(1 / fan_in)."
)
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "U(-l, l), l = sqrt(3 / fan_in).")


REGISTRY = Registry("initializers", "initializer")
for _name, _cls in {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
}.items():
    REGISTRY.register(_cls, _name)


class _GivenValues(Initializer):
    """An array given as the initializer (Keras's ``initializers.get(array)``): its
    values, for its own shape only. It cannot be saved by name (nor in Keras)."""

    def __init__(self, values):
        self.values = np.array(values, dtype=np.float32)

    def sample(self, shape):
        if tuple(shape) != self.values.shape:
            raise ValueError(
                f"Expected `shape` to be {self.values.shape} for direct tensor as "
                f"initializer. Received shape={tuple(shape)}"
            )
        return self.values.copy()

    def __repr__(self) -> str:
        return f"<initializer of the given {self.values.shape} array>"


def get(identifier, argument: str = "initializer") -> Initializer | None:
    """An initializer from a Keras name (``"he_normal"``), a class name, a
    ``{"class_name", "config"}`` dict, an instance, or an array (its values, for its own
    shape, as Keras takes one); None for None, as in Keras.

    Parameters
    ----------
    identifier : name, dict, Initializer, array or None
    argument : str
        The argument's name for error messages (``"kernel_initializer"``).

    Returns
    -------
    The Initializer (or None); a ValueError naming ``argument`` and listing the names
    otherwise.

    Examples
    --------
    >>> get("he_normal")
    HeNormal(seed=None, input_axes=None, output_axes=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _GivenValues(identifier)
    if isinstance(identifier, dict):
        try:
            return deserialize(identifier)
        except ValueError as err:
            raise ValueError(f"Could not interpret `{argument}`: {err}") from None
    return REGISTRY.get(
        identifier, base=Initializer, expected="an Initializer or ", argument=argument
    )


def serialize(initializer: Initializer) -> dict:
    """``{"class_name": ..., "config": {...}}``, the form ``deserialize`` reads back.

    Parameters
    ----------
    initializer : Initializer

    Returns
    -------
    The dict.

    Examples
    --------
    >>> serialize(HeNormal(seed=1))
    {'class_name': 'HeNormal', 'config': {'seed': 1, 'input_axes': None, 'output_axes': None}}
    """
    return REGISTRY.serialize(initializer)


def config_entry(initializer: Initializer):
    """How an initializer appears in a layer's ``get_config``: serialized when it is one
    of the built-in classes, else the object itself (an array given as initializer, a
    custom class), which the in-memory ``from_config`` takes back and saving refuses by
    name, as for a callable activation."""
    try:
        return serialize(initializer)
    except TypeError:
        return initializer


def deserialize(config: dict) -> Initializer:
    """Rebuild an initializer written by ``serialize``; only known classes are accepted.

    Parameters
    ----------
    config : dict

    Returns
    -------
    The Initializer.

    Examples
    --------
    >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}})
    Constant(value=2.0)
    """
    return REGISTRY.deserialize(config)


__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "get",
    "serialize",
    "deserialize",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
