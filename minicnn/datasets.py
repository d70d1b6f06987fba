"""Seeded toy detection data for training demos and tests.

Every function takes ``seed``: an integer gives the same arrays on every call; None draws
from ``minicnn.utils.rng()`` (so ``set_random_seed`` makes whole scripts reproducible).
Arrays are float32, channels-last; labels are integer class indices.

- ``bump_sequences``: 1D sequences, half with a bump (a run of high values), label 1/0.
- ``line_images``: 2D images with a vertical line, a horizontal line or no line (labels
  ``LINE_CLASSES``), with position, thickness and noise controls.
- ``feature_map_pairs``: images and their feature maps under a handcrafted filter (the
  tutorial's vertical line detector by default), for recovering that filter by training.
- ``digit_images``: MNIST-shaped images of the digits 0-9 drawn from a pixel font, for
  MNIST programs where MNIST itself is not downloaded.

And Keras's real data sets, downloaded once from the sources Keras uses, checked against
the checksums Keras uses (for Fashion-MNIST, whose files Keras does not check, the MD5s
its authors publish) and cached (``minicnn.utils.get_file``):
``mnist.load_data()``, ``fashion_mnist.load_data()`` and ``cifar10.load_data()`` return
what Keras's do, ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays. They are
read without pickle, except CIFAR-10's batches, which are pickles by design and are read
with an unpickler that can rebuild numpy arrays and nothing else.
"""

from __future__ import annotations

import gzip
import numbers
import os
import pickle
import sys
import types
from typing import NamedTuple

import numpy as np

from . import downloads, missing, utils

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

    Parameters
    ----------
    samples : int
        Number of sequences.
    length : int
        Steps per sequence.
    width : int
        Steps in a bump.
    height : float
        The bump's value.
    noise : float
        Standard deviation of the Gaussian noise.
    seed : None or int
        An int gives the same data every call; None draws from minicnn's generator.

    Examples
    --------
    >>> x, y = bump_sequences(4, seed=0)
    >>> x.shape, sorted(y.tolist())
    ((4, 16, 1), [0, 0, 1, 1])
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

    Parameters
    ----------
    samples : int
        Number of images.
    size : int
        Height and width.
    thickness : int or (low, high)
        Line width, or an inclusive range drawn from.
    noise : float
        Standard deviation of the Gaussian noise.
    seed : None or int
        An int gives the same data every call; None draws from minicnn's generator.

    Examples
    --------
    >>> x, y = line_images(6, seed=0)
    >>> x.shape, sorted(y.tolist())
    ((6, 8, 8, 1), [0, 0, 1, 1, 2, 2])
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


# A 5x7 pixel font of the digits 0-9 (rows top to bottom), for ``digit_images``.
DIGIT_FONT = (
    ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
)


def digit_images(
    samples: int = 1000, size: int = 28, noise: float = 20.0, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped stand-ins, made locally: digits 0-9 drawn from a 5x7 pixel font,
    each pixel a block of 2 or 3 (so a digit is 10x14 or 15x21), at a random place in a
    ``size`` x ``size`` image, at a random brightness, with Gaussian noise of standard
    deviation ``noise`` (in grey levels).

    Parameters
    ----------
    samples : int
        Number of images.
    size : int, at least 22
        Image height and width.
    noise : float
        Standard deviation of the Gaussian noise, in grey levels (0-255).
    seed : None or int
        An int gives the same images every call; None draws from minicnn's generator.

    Returns ``x`` of shape ``(samples, size, size)`` (uint8, 0-255, no channel axis, as
    ``mnist.load_data()`` gives) and labels ``y`` of shape ``(samples,)`` (uint8),
    classes balanced before a shuffle.

    Examples
    --------
    >>> x, y = digit_images(100, seed=0)
    >>> x.shape, x.dtype, y[:3]
    ((100, 28, 28), dtype('uint8'), array([2, 6, 0], dtype=uint8))
    """
    samples, size = _count("samples", samples), _count("size", size, 22)
    noise = _noise(noise)
    gen = _generator(seed)
    y = gen.permutation(np.arange(samples) % 10)
    glyphs = np.array([[[c == "1" for c in row] for row in d] for d in DIGIT_FONT])
    x = np.zeros((samples, size, size))
    for i, label in enumerate(y):
        scale = int(gen.integers(2, 4))
        glyph = np.kron(glyphs[label], np.ones((scale, scale)))
        top = int(gen.integers(0, size - glyph.shape[0] + 1))
        left = int(gen.integers(0, size - glyph.shape[1] + 1))
        x[i, top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph * gen.uniform(
            150, 255
        )
    x += noise * gen.standard_normal(x.shape)
    return np.clip(np.round(x), 0, 255).astype(np.uint8), y.astype(np.uint8)


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

    Parameters
    ----------
    samples : int
        Number of pairs.
    size : int
        Image height and width.
    kernel : None or 2D array
        The filter (default: the vertical line detector).
    noise : float
        Standard deviation of the Gaussian noise on the images.
    seed : None or int
        An int gives the same data every call; None draws from minicnn's generator.

    Examples
    --------
    >>> x, y = feature_map_pairs(3, seed=0)
    >>> x.shape, y.shape
    ((3, 8, 8, 1), (3, 6, 6, 1))
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


# --------------------------------------------------------------------------- real data sets


class Source(NamedTuple):
    """Where a file of a data set comes from and its hash (sha256, or md5)."""

    origin: str
    file_hash: str


KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Keras's own origins and sha256 checksums (keras/src/datasets/*.py); for Fashion-MNIST,
# which Keras does not check, the MD5s in zalandoresearch/fashion-mnist's README.
SOURCES = {
    "mnist.npz": Source(
        KERAS_DATASETS + "mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
    "train-labels-idx1-ubyte.gz": Source(
        KERAS_DATASETS + "train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe",
    ),
    "train-images-idx3-ubyte.gz": Source(
        KERAS_DATASETS + "train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "t10k-labels-idx1-ubyte.gz": Source(
        KERAS_DATASETS + "t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ),
    "t10k-images-idx3-ubyte.gz": Source(
        KERAS_DATASETS + "t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79",
    ),
    "cifar-10-python.tar.gz": Source(
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ),
}


def _fetch(key: str, fname: str, cache_subdir: str = "datasets", extract: bool = False) -> str:
    source = SOURCES[key]
    return downloads.get_file(
        fname,
        source.origin,
        file_hash=source.file_hash,
        cache_subdir=cache_subdir,
        extract=extract,
    )


def load_mnist(path: str = "mnist.npz"):
    """MNIST, as ``keras.datasets.mnist.load_data``: 60,000 training and 10,000 test
    images of handwritten digits.

    Parameters
    ----------
    path : the file name in the cache (``$MINICNN_HOME/datasets``, default ``~/.minicnn``).

    Returns
    -------
    ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape ``(60000, 28, 28)``
    and ``(10000, 28, 28)`` (values 0-255, no channel axis: a model built for
    ``(28, 28, 1)`` takes them as they are), uint8 labels 0-9 of shape ``(60000,)`` and
    ``(10000,)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    """
    with np.load(_fetch("mnist.npz", path), allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_fashion_mnist():
    """Fashion-MNIST, as ``keras.datasets.fashion_mnist.load_data``: 28x28 grayscale
    images of 10 kinds of clothing, in MNIST's shapes and dtypes.

    Returns
    -------
    ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes ``(60000, 28, 28)``,
    ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    """
    folder = os.path.join("datasets", "fashion-mnist")
    arrays = []
    for labels, images in (
        ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz"),
        ("t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"),
    ):
        y = _idx(_fetch(labels, labels, folder), 8, (-1,))
        x = _idx(_fetch(images, images, folder), 16, (len(y), 28, 28))
        arrays.append((x, y))
    return tuple(arrays)


def _idx(path: str, header: int, shape: tuple) -> np.ndarray:
    """An IDX file's (gzipped) uint8 payload after its ``header`` bytes."""
    with gzip.open(path, "rb") as f:
        data = np.frombuffer(f.read(), np.uint8, offset=header)
    try:
        return data.reshape(shape)
    except ValueError:
        raise ValueError(f"{path} does not hold {shape} uint8 values after its header.") from None


def load_cifar10():
    """CIFAR-10, as ``keras.datasets.cifar10.load_data``: 32x32 colour images of 10
    classes, channels last.

    Returns
    -------
    ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    ``(50000, 32, 32, 3)`` and ``(10000, 32, 32, 3)``, uint8 labels of shape
    ``(50000, 1)`` and ``(10000, 1)``.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    """
    folder = _fetch("cifar-10-python.tar.gz", "cifar-10-batches-py-target", extract=True)
    folder = os.path.join(folder, "cifar-10-batches-py")
    train = [_cifar_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_test, y_test = _cifar_batch(os.path.join(folder, "test_batch"))
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), (x_test, y_test)


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and refuses every other global (Keras's
    ``RestrictedUnpickler``): a tampered file cannot run code."""

    ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a data set file; it may be corrupted "
            "or malicious."
        )


def _cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = _ArraysOnly(f, encoding="bytes").load()
    if not isinstance(batch, dict) or not {b"data", b"labels"} <= set(batch):
        raise ValueError(f"{path} is not a CIFAR-10 batch (a dict with data and labels).")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[b"labels"], dtype=np.uint8).reshape(-1, 1)
    return np.ascontiguousarray(images), labels


def _namespace(name: str, load_data) -> types.ModuleType:
    """``minicnn.datasets.<name>``, a module holding ``load_data`` as Keras's does, so that
    ``from minicnn.datasets import mnist`` and ``import minicnn.datasets.mnist`` work."""
    module = types.ModuleType(f"{__name__}.{name}", load_data.__doc__)
    module.load_data = load_data
    sys.modules[module.__name__] = module
    return module


mnist = _namespace("mnist", load_mnist)
fashion_mnist = _namespace("fashion_mnist", load_fashion_mnist)
cifar10 = _namespace("cifar10", load_cifar10)

__all__ = [
    "mnist",
    "fashion_mnist",
    "cifar10",
    "digit_images",
    "LINE_CLASSES",
    "VERTICAL_LINE_DETECTOR",
    "bump_sequences",
    "line_images",
    "feature_map_pairs",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
