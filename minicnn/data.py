"""The arrays users pass in: checked, cast to float32 and cut into batches.

``predict``, ``fit``, ``evaluate``, layers called on data and the gradient check all take
their input through ``as_input``; ``batches`` and ``as_batch`` are the one way data is read
a batch at a time, so memory grows with the batch size, not with the number of samples.
"""

from __future__ import annotations

import numpy as np

from .validation import numeric_array

f32 = np.float32


def as_input(x, subject: str, cast: bool = True) -> np.ndarray:
    """The array a model or layer is called on, cast to float32 as Keras does.

    Lists and numeric arrays (bool, int, float) are accepted; objects, strings, complex
    numbers and ragged nesting are a TypeError/ValueError whose message starts with
    ``subject`` (``"'conv2d'"``, ``"fit: `y`"``). With ``cast=False`` a numeric array is
    returned as it is, for callers that cast batch by batch.
    """
    arr = numeric_array(x, subject)
    return arr.astype(np.float32, copy=False) if cast else arr


def batches(n: int, batch_size: int) -> list[slice]:
    """Consecutive ``slice`` objects of at most ``batch_size`` covering ``range(n)``."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def as_batch(arr: np.ndarray, index) -> np.ndarray:
    """``arr[index]`` as float32 (a copy only when the dtype changes)."""
    return np.asarray(arr[index], dtype=f32)


def first_bad_sample(arr: np.ndarray, chunk: int, bad) -> int | None:
    """Index of the first sample of ``arr`` where the per-element test ``bad(batch)`` holds
    anywhere, or None; reads ``arr`` ``chunk`` samples at a time as float32."""
    for step in batches(len(arr), chunk):
        with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: flagged
            values = as_batch(arr, step)
        flags = bad(values).reshape(step.stop - step.start, -1).any(axis=1)
        if flags.any():
            return step.start + int(np.argmax(flags))
    return None
