"""Process-wide settings (the random generator behind initializers, shuffling and
dropout; Keras-style automatic layer names) and Keras's ``utils`` helpers
(``to_categorical``; ``get_file``, from ``minicnn.downloads``)."""

from __future__ import annotations

import collections
import random
import re

import numpy as np

from . import missing
from .downloads import get_file, hash_file, validate_file
from .feeds import PyDataset
from .validation import check_int, numeric_array

_state = {"rng": np.random.default_rng(), "uids": collections.defaultdict(int)}


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness minicnn uses (initial weights, shuffling, data sets).

    With the same seed, a model built and trained the same way gives bit-identical
    weights and History. Also seeds Python's ``random`` and numpy's legacy global
    generator, as ``keras.utils.set_random_seed`` does.

    Parameters
    ----------
    seed : int >= 0

    Examples
    --------
    >>> import minicnn
    >>> set_random_seed(0); a = minicnn.layers.Dense(2)(np.ones((1, 3)))
    >>> set_random_seed(0); b = minicnn.layers.Dense(2)(np.ones((1, 3)))
    >>> bool((a == b).all())
    True
    """
    seed = check_int(seed, "set_random_seed", "seed", minimum=0)
    _state["rng"] = np.random.default_rng(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def rng() -> np.random.Generator:
    """The generator all of minicnn draws from (reset by ``set_random_seed``).

    Returns
    -------
    The ``numpy.random.Generator``.

    Examples
    --------
    >>> set_random_seed(0); a = rng().random()
    >>> set_random_seed(0); bool(a == rng().random())
    True
    """
    return _state["rng"]


def draw_seed() -> int:
    """A fresh seed from minicnn's generator: how a training step fixes its randomness
    (Dropout masks) before the pure forward pass.

    Returns
    -------
    An int in ``[0, 2**63)``.

    Examples
    --------
    >>> set_random_seed(3); a = draw_seed()
    >>> set_random_seed(3); a == draw_seed()
    True
    """
    return int(rng().integers(2**63))


def to_snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``, ``ReLU`` -> ``re_lu``.

    Parameters
    ----------
    name : str

    Returns
    -------
    The snake-case name.

    Examples
    --------
    >>> to_snake_case("MaxPooling2D"), to_snake_case("RMSprop")
    ('max_pooling2d', 'rm_sprop')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``... (Keras's uniquify).

    Parameters
    ----------
    prefix : str

    Returns
    -------
    The name.

    Examples
    --------
    >>> clear_session()
    >>> unique_name("block"), unique_name("block")
    ('block', 'block_1')
    """
    count = _state["uids"][prefix]
    _state["uids"][prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Forget the automatic names handed out so far, like ``keras.backend.clear_session``.

    Returns
    -------
    None.

    Examples
    --------
    >>> unique_name("tmp") and None
    >>> clear_session(); unique_name("tmp")
    'tmp'
    """
    _state["uids"].clear()


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels, as ``keras.utils.to_categorical``.

    Parameters
    ----------
    x : integer labels ``0 .. num_classes-1`` of any shape; a trailing axis of 1 is
        dropped, so ``(n, 1)`` labels give ``(n, num_classes)``.
    num_classes : the number of classes; ``max(x) + 1`` when None.

    Returns
    -------
    float64 array of shape ``(*x.shape, num_classes)`` (as Keras returns it).
    Labels that are negative, not whole numbers, or not below ``num_classes`` are a
    ValueError (Keras would wrap negative labels around silently).

    Examples
    --------
    >>> to_categorical([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    labels = numeric_array(x, "to_categorical: `x`")
    num_classes = check_int(num_classes, "to_categorical", "num_classes", 1, allow_none=True)
    if labels.size and (not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels))):
        raise ValueError("to_categorical: `x` must hold whole-number class labels.")
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    flat = labels.reshape(-1).astype(np.int64)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 1
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}) for num_classes="
            f"{num_classes}. Received labels from {flat.min()} to {flat.max()}."
        )
    out = np.zeros((flat.size, num_classes))
    out[np.arange(flat.size), flat] = 1
    return out.reshape(*shape, num_classes)


__all__ = [
    "set_random_seed",
    "rng",
    "draw_seed",
    "to_snake_case",
    "unique_name",
    "clear_session",
    "to_categorical",
    "get_file",
    "hash_file",
    "validate_file",
    "PyDataset",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
