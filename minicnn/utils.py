"""Process-wide settings: the random generator behind initializers and shuffling, and
Keras-style automatic layer names."""

from __future__ import annotations

import collections
import random
import re

import numpy as np

from .validation import check_int

_state = {"rng": np.random.default_rng(), "uids": collections.defaultdict(int)}


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness minicnn uses (initial weights, shuffling, data sets).

    With the same seed, a model built and trained the same way gives bit-identical
    weights and History. Also seeds Python's ``random`` and numpy's legacy global
    generator, as ``keras.utils.set_random_seed`` does.
    """
    seed = check_int(seed, "set_random_seed", "seed", minimum=0)
    _state["rng"] = np.random.default_rng(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def rng() -> np.random.Generator:
    """The generator all of minicnn draws from (reset by ``set_random_seed``)."""
    return _state["rng"]


def draw_seed() -> int:
    """A fresh seed from minicnn's generator: how a training step fixes its randomness
    (Dropout masks) before the pure forward pass."""
    return int(rng().integers(2**63))


def to_snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``, ``ReLU`` -> ``re_lu``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``... (Keras's uniquify)."""
    count = _state["uids"][prefix]
    _state["uids"][prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Forget the automatic names handed out so far, like ``keras.backend.clear_session``."""
    _state["uids"].clear()
