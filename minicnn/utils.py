"""Process-wide settings: the random generator behind initializers and shuffling, and
Keras-style automatic layer names."""

from __future__ import annotations

import collections
import random
import re

import numpy as np

_state = {"rng": np.random.default_rng(), "uids": collections.defaultdict(int)}


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness minicnn uses (initial weights, shuffling, data sets).

    With the same seed, a model built and trained the same way gives bit-identical
    weights and History. Also seeds Python's ``random`` and numpy's legacy global
    generator, as ``keras.utils.set_random_seed`` does.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"set_random_seed: `seed` must be an integer. Received: seed={seed!r}")
    if seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be >= 0. Received: seed={seed}")
    _state["rng"] = np.random.default_rng(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def rng() -> np.random.Generator:
    """The generator all of minicnn draws from (reset by ``set_random_seed``)."""
    return _state["rng"]


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


def serialize_object(obj, classes: dict, module: str) -> dict:
    """``{"class_name", "config"}`` for an instance of one of ``classes`` (name -> class);
    a TypeError for anything ``deserialize_object`` could not rebuild."""
    if type(obj) not in classes.values():
        raise TypeError(
            f"{module}.serialize: cannot serialize {obj!r:.100}; expected an instance of one "
            f"of {sorted(classes)}."
        )
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize_object(config, classes: dict, module: str):
    """``classes[config["class_name"]].from_config(config["config"])`` for a
    ``{"class_name", "config"}`` dict; anything else is a ValueError naming ``module``, so
    only the known classes are ever constructed from a (possibly hostile) config."""
    if not isinstance(config, dict) or set(config) != {"class_name", "config"}:
        raise ValueError(
            f"{module}.deserialize: expected a dict with keys 'class_name' and 'config'. "
            f"Received: {config!r:.200}"
        )
    name = config["class_name"]
    cls = classes.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(config["config"], dict):
        raise ValueError(
            f"{module}.deserialize: unknown class {name!r:.100}; expected one of "
            f"{sorted(classes)} with a dict config."
        )
    try:
        return cls.from_config(config["config"])
    except TypeError as err:
        raise ValueError(f"{module}.deserialize: bad config for {cls.__name__}: {err}") from None
