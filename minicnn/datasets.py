"""Seeded toy detection data for training demos and tests.

Every function takes ``seed``: an integer gives the same arrays on every call; None draws
from ``minicnn.utils.rng()`` (so ``set_random_seed`` makes whole scripts reproducible).
Arrays are float32, channels-last; labels are integer class indices.

- ``bump_sequences``: 1D sequences, half with a bump (a run of high values), label 1/0.
- ``line_images``: 2D images with a vertical line, a horizontal line or no line (labels
  ``LINE_CLASSES``), with position, thickness and noise controls.
- ``feature_map_pairs``: images and their feature maps under a handcrafted filter (the
  tutorial's vertical line detector by default), for recovering that filter by training.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import missing, utils

LINE_CLASSES = ("vertical", "horizontal", "none")
VERTICAL_LINE_DETECTOR = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32)


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return utils.rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"datasets: `seed` must be None or an integer >= 0. Received: {seed!r}")
    return np.random.default_rng(int(seed))


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"datasets: `{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def _noise(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < np.inf:
        raise ValueError(f"datasets: `noise` must be a finite float >= 0. Received: {value!r}")
    return float(value)


def _thickness(value, size: int) -> tuple[int, int]:
    """``thickness`` as an inclusive ``(low, high)`` range of line widths."""
    try:
        low, high = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    except (TypeError, ValueError):
        low = high = None
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in (low, high)) or not (
        1 <= low <= high <= size
    ):
        raise ValueError(
            f"datasets: `thickness` must be an integer or a (low, high) range within "
            f"[1, size={size}]. Received: thickness={value!r}"
        )
    return int(low), int(high)


def bump_sequences(
    samples: int = 200,
    length: int = 16,
    width: int = 3,
    height: float = 1.0,
    noise: float = 0.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """1D sequences, each with (label 1) or without (label 0) one bump.

    A bump is ``width`` consecutive samples of value ``height`` at a random position;
    Gaussian noise of standard deviation ``noise`` is added everywhere. The labels
    alternate 1, 0, 1, ... before a shuffle, so the classes are balanced.

    Returns ``x`` of shape ``(samples, length, 1)`` and ``y`` of shape ``(samples,)``.
    """
    samples, length, width = (
        _count("samples", samples),
        _count("length", length),
        _count("width", width),
    )
    if width > length:
        raise ValueError(f"datasets: `width` ({width}) must not exceed `length` ({length}).")
    noise = _noise(noise)
    gen = _generator(seed)
    y = gen.permutation(np.arange(samples) % 2 == 0).astype(np.int64)
    starts = gen.integers(0, length - width + 1, size=samples)
    positions = np.arange(length)
    inside = (positions >= starts[:, None]) & (positions < starts[:, None] + width)
    x = height * (inside & (y[:, None] == 1)) + noise * gen.standard_normal((samples, length))
    return x[..., None].astype(np.float32), y


def line_images(
    samples: int = 300,
    size: int = 8,
    thickness=1,
    noise: float = 0.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Square images holding a vertical line, a horizontal line, or no line.

    Classes cycle through ``LINE_CLASSES`` (0 vertical, 1 horizontal, 2 none) before a
    shuffle, so they are balanced. A line spans the whole image at a random position with a
    width drawn from ``thickness`` (an int or an inclusive ``(low, high)`` range), pixels 1
    on 0; Gaussian noise of standard deviation ``noise`` is added everywhere.

    Returns ``x`` of shape ``(samples, size, size, 1)`` and ``y`` of shape ``(samples,)``.
    """
    samples, size = _count("samples", samples), _count("size", size, 2)
    low, high = _thickness(thickness, size)
    noise = _noise(noise)
    gen = _generator(seed)
    y = gen.permutation(np.arange(samples) % len(LINE_CLASSES))
    widths = gen.integers(low, high + 1, size=samples)
    starts = gen.integers(0, size - widths + 1)
    grid = np.arange(size)
    band = (grid >= starts[:, None]) & (grid < (starts + widths)[:, None])  # (samples, size)
    columns = band[:, None, :] & (y == 0)[:, None, None]
    rows = band[:, :, None] & (y == 1)[:, None, None]
    x = (columns | rows).astype(np.float64) + noise * gen.standard_normal((samples, size, size))
    return x[..., None].astype(np.float32), y.astype(np.int64)


def feature_map_pairs(
    samples: int = 256,
    size: int = 8,
    kernel=None,
    noise: float = 0.5,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Images and their feature maps under ``kernel`` (valid cross-correlation, no bias).

    Images are ``line_images`` (all classes, thickness 1 or 2) plus Gaussian noise of
    standard deviation ``noise``, which makes every filter tap identifiable from the data.
    ``kernel`` is a 2D array (default: the tutorial's 3x3 vertical line detector).

    Returns ``x`` of shape ``(samples, size, size, 1)`` and ``y`` of shape
    ``(samples, size - kh + 1, size - kw + 1, 1)``.
    """
    kernel = VERTICAL_LINE_DETECTOR if kernel is None else np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2 or kernel.shape[0] > size or kernel.shape[1] > size or kernel.size == 0:
        raise ValueError(
            f"datasets: `kernel` must be a 2D array no larger than the image ({size}x{size}). "
            f"Received shape {kernel.shape}"
        )
    x, _ = line_images(samples, size, (1, min(2, size)), noise, seed)
    kh, kw = kernel.shape
    out_h, out_w = size - kh + 1, size - kw + 1
    y = np.zeros((samples, out_h, out_w), dtype=np.float64)
    for i in range(kh):  # a loop over the few kernel taps, each applied to every position
        for j in range(kw):
            y += float(kernel[i, j]) * x[:, i : i + out_h, j : j + out_w, 0]
    return x, y[..., None].astype(np.float32)


__all__ = [
    "LINE_CLASSES",
    "VERTICAL_LINE_DETECTOR",
    "bump_sequences",
    "line_images",
    "feature_map_pairs",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
