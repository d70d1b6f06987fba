"""Weight initializers, by Keras name or as objects: ``get("glorot_uniform")((3, 3, 1, 8))``.

Fans follow Keras's ``compute_fans``: for a kernel ``(*kernel_size, in, out)`` the
receptive field is ``prod(kernel_size)``, ``fan_in = in * receptive`` and
``fan_out = out * receptive``; a Dense kernel ``(in, out)`` has fans ``in`` and ``out``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .utils import rng


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _real(value, owner: str, name: str) -> float:
    """A finite real number as a float, else a ValueError naming the argument."""
    try:
        ok = not isinstance(value, bool) and math.isfinite(value)
    except (TypeError, OverflowError):
        ok = False
    if not ok or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: `{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


def _seed(seed, owner: str) -> int | None:
    """None or an integer >= 0 (what numpy's generators accept)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"{owner}: `seed` must be None or an integer >= 0. Received: seed={seed!r}"
        )
    return int(seed)


class Initializer:
    """Base class: calling an initializer with a shape returns a new float32 array.

    Random initializers take ``seed``: unseeded ones draw from minicnn's generator (see
    ``utils.set_random_seed``); a seeded one gives the same values at every call, as in
    Keras 3.
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
    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = _real(value, "Constant", "value")

    def sample(self, shape):
        return np.full(shape, self.value)


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = _real(mean, "RandomNormal", "mean")
        self.stddev = _real(stddev, "RandomNormal", "stddev")
        self.seed = _seed(seed, "RandomNormal")

    def sample(self, shape):
        return self._rng().normal(self.mean, self.stddev, size=shape)


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = _real(minval, "RandomUniform", "minval")
        self.maxval = _real(maxval, "RandomUniform", "maxval")
        self.seed = _seed(seed, "RandomUniform")

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


class TruncatedNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = _real(mean, "TruncatedNormal", "mean")
        self.stddev = _real(stddev, "TruncatedNormal", "stddev")
        self.seed = _seed(seed, "TruncatedNormal")

    def sample(self, shape):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev)


class VarianceScaling(Initializer):
    """Keras's ``VarianceScaling``: variance ``scale / n`` with ``n`` a fan or their mean."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"VarianceScaling: `mode` must be 'fan_in', 'fan_out' or 'fan_avg'. "
                f"Received: mode={mode!r}"
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "VarianceScaling: `distribution` must be 'truncated_normal', "
                f"'untruncated_normal' or 'uniform'. Received: distribution={distribution!r}"
            )
        if not _real(scale, "VarianceScaling", "scale") > 0:
            raise ValueError(f"VarianceScaling: `scale` must be positive. Received: {scale}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = _seed(seed, "VarianceScaling")

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._rng().uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return self._rng().normal(0.0, math.sqrt(variance), size=shape)
        # 0.8796... is the stddev of a standard normal truncated to [-2, 2].
        return _truncated_normal(self._rng(), shape, 0.0, math.sqrt(variance) / 0.87962566103423978)


def _preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    """A named VarianceScaling configuration, as Keras defines GlorotUniform and friends."""

    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(
        name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc}
    )


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


ALL = {
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
}
_BY_CLASS = {cls.__name__: name for name, cls in ALL.items()}


def get(identifier, argument: str = "initializer") -> Initializer:
    """An initializer from a Keras name (``"he_normal"``), a class name, or an instance.

    Raises ValueError naming ``argument`` and listing the known names otherwise.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = _BY_CLASS.get(identifier, identifier)
        if key in ALL:
            return ALL[key]()
    raise ValueError(
        f"Could not interpret `{argument}`={identifier!r}. Expected an Initializer or one of "
        f"{sorted(ALL)}."
    )


def serialize(initializer: Initializer) -> dict:
    """``{"class_name": ..., "config": {...}}``, the form ``deserialize`` reads back."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict) -> Initializer:
    """Rebuild an initializer written by ``serialize``; only known classes are accepted."""
    name = config.get("class_name") if isinstance(config, dict) else None
    key = _BY_CLASS.get(name)
    if key is None:
        raise ValueError(f"Unknown initializer in config: {config!r}. Known: {sorted(_BY_CLASS)}")
    params = config.get("config") or {}
    if not isinstance(params, dict):
        raise ValueError(f"Initializer config for {name} must be a dict. Received: {params!r}")
    try:
        return ALL[key](**params)
    except TypeError as err:
        raise ValueError(f"Bad config for initializer {name}: {params!r} ({err})") from None
