"""Keras 3's activations/activations_test.py, case for case on minicnn.activations: the same
inputs (ranges and shapes), the same numpy references and tolerances (rtol 1e-5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minicnn import activations

RNG = np.random.default_rng(0)


def close(result, expected, rtol=1e-5, atol=1e-6):
    # Keras's assertAllClose defaults to atol 1e-6 alongside the rtol it passes.
    np.testing.assert_allclose(np.asarray(result), expected, rtol=rtol, atol=atol)


def ref_softmax(values):
    e = np.exp(values - np.max(values))
    return e / np.sum(e)


def ref_log_softmax(values):
    shifted = values - np.max(values)
    return shifted - np.log(np.sum(np.exp(shifted)))


def ref_softplus(x):
    return np.log(np.ones_like(x) + np.exp(x))


def ref_sigmoid(x):
    if x >= 0:
        return 1 / (1 + np.exp(-x))
    z = np.exp(x)
    return z / (1 + z)


def ref_hard_sigmoid(x):
    x = x / 6.0 + 0.5
    return 0.0 if x <= 0 else (1.0 if x >= 1 else x)


# The ranges Keras's tests draw from for the element-wise functions: (low, high, shape).
RANGES = [
    (0, 1, (1, 2, 5)),
    (-10, 10, (5,)),
    (-10, 10, (3, 3, 3)),
    (-1e-7, 1e-7, (2, 5)),
    (10, 100, (2, 5)),
    (-100, -10, (2, 5)),
]


def over_ranges(fn, reference, ranges=RANGES):
    for low, high, shape in ranges:
        x = RNG.uniform(low, high, shape)
        close(fn(x), np.vectorize(reference)(x))


# ----------------------------------------------------------------------------- softmax


@pytest.mark.parametrize("name, ref", [("softmax", ref_softmax), ("log_softmax", ref_log_softmax)])
def test_softmax_family_over_axes(name, ref):
    fn = getattr(activations, name)
    # test_softmax / test_temporal_softmax: the last axis of a leading batch of one.
    x = RNG.random((2, 5))
    close(fn(x[np.newaxis, :])[0][0], ref(x[0]))
    x = RNG.random((2, 2, 3)) * 10
    close(fn(x[np.newaxis, :])[0][0, 0], ref(x[0, 0]))
    # *_2d_axis_0: along axis 1 of (1, 2, 5).
    x = RNG.random((2, 5))
    expected = np.stack([ref(x[:, i]) for i in range(5)], axis=1)
    close(fn(x[np.newaxis, :], axis=1)[0], expected)
    # *_1d and *_negative_axis.
    x = RNG.random(5)
    close(fn(x), ref(x))
    x = RNG.random((2, 5))
    close(fn(x, axis=-1), np.stack([ref(row) for row in x]))
    # *_3d_axis_tuple, *_higher_dim, *_higher_dim_multiple_axes: a tuple of axes.
    for shape, axes in (((2, 3, 5), (1, 2)), ((2, 3, 4, 5), (2, 3)), ((2, 3, 4, 5, 6), (2, 3, 4))):
        x = RNG.random(shape)
        lead = shape[: axes[0]]
        expected = np.empty(shape)
        for index in np.ndindex(*lead):
            expected[index] = ref(x[index])
        close(fn(x, axis=axes), expected)


# ------------------------------------------------------------------------ element-wise


def test_selu():
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    positive = np.array([[1, 2]], dtype=np.float32)
    close(activations.selu(positive[np.newaxis, :])[0], positive * scale)
    negative = np.array([[-1, -2]], dtype=np.float32)
    close(activations.selu(negative[np.newaxis, :])[0], (np.exp(negative) - 1) * scale * alpha)


def test_softplus():
    over_ranges(activations.softplus, ref_softplus)


def test_softsign():
    over_ranges(activations.softsign, lambda x: x / (1 + abs(x)))


def test_sigmoid():
    over_ranges(activations.sigmoid, ref_sigmoid)


def test_hard_sigmoid():
    over_ranges(activations.hard_sigmoid, ref_hard_sigmoid, RANGES[:3])
    close(activations.hard_sigmoid(RNG.uniform(5, 10, (2, 5))), np.ones((2, 5)))


def test_sparse_sigmoid():
    def ref(x):
        return 0.0 if x <= -1 else (1.0 if x >= 1 else 0.5 * (x + 1))

    over_ranges(activations.sparse_sigmoid, ref, RANGES[:3] + RANGES[4:])


def test_log_sigmoid():
    over_ranges(activations.log_sigmoid, lambda x: -ref_softplus(-x), RANGES[:3] + RANGES[4:])


def test_hard_silu():
    def ref(x):
        return x * min(max(0.0, x + 3.0), 6.0) / 6.0

    for low, high, shape in ((-3, 3, (1, 2, 5)), (-10, 10, (5,)), (-10, 10, (3, 3, 3))):
        x = RNG.uniform(low, high, shape).astype(np.float32)
        close(activations.hard_silu(x), np.vectorize(ref)(x))
    x = RNG.uniform(5, 10, (2, 5)).astype(np.float32)
    close(activations.hard_silu(x), x)
    close(activations.hard_silu(-x), np.zeros_like(x))
    assert activations.hard_swish is activations.hard_silu


X5 = np.array([-10, -5, 0.0, 5, 10])


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"negative_slope": 0.5}, [-5.0, -2.5, 0.0, 5.0, 10.0]),  # _negative_slope, _leaky
        ({"max_value": 5.0}, [0.0, 0.0, 0.0, 5.0, 5.0]),  # test_relu_max_value
        ({"threshold": 5.0}, [-0.0, -0.0, 0.0, 0.0, 10.0]),  # test_relu_threshold
        ({"threshold": 5.0, "max_value": 5.0}, [0.0, 0.0, 0.0, 0.0, 5.0]),
        ({"negative_slope": 0.5, "max_value": 5.0, "threshold": 5.0}, [-7.5, -5, -2.5, 0, 5]),
    ],
)
def test_relu_options(kwargs, expected):
    close(activations.relu(X5, **kwargs), expected)


def test_relu_to_trigger_relu6():
    close(activations.relu(np.array([-10, -5, 0.0, 5, 10, 12]), max_value=6.0), [0, 0, 0, 5, 6, 6])


def test_relu():
    positive = RNG.uniform(0.1, 10, (2, 5))
    close(activations.relu(positive[np.newaxis, :])[0], positive)
    close(activations.relu(-positive[np.newaxis, :])[0], np.zeros((2, 5)))
    over_ranges(activations.relu, lambda x: max(0.0, x), [(-10, 10, (5,)), (-10, 10, (3, 3, 3))])
    over_ranges(activations.relu, lambda x: max(0.0, x), [(-1e-7, 1e-7, (2, 5))])
    x = RNG.uniform(1e4, 1e5, (2, 5))
    close(activations.relu(x), x)
    close(activations.relu(-x), np.zeros((2, 5)))


def test_leaky_relu():
    for slope in (0.01, 0.3):
        for x in (RNG.random((2, 5)), RNG.uniform(-1, 0, (2, 5))):
            got = activations.leaky_relu(x[np.newaxis, :], negative_slope=slope)[0]
            close(got, np.where(x > 0, x, slope * x))


def test_relu6():
    for low, high in ((0, 5.9), (6.1, 10), (-1, 0)):
        x = RNG.uniform(low, high, (2, 5))
        close(activations.relu6(x[np.newaxis, :])[0], np.vectorize(lambda v: min(max(0, v), 6))(x))


def test_silu():
    for low, high in ((0, 5.9), (-1, 1), (-5.9, 0)):
        x = RNG.uniform(low, high, (2, 5))
        close(activations.silu(x[np.newaxis, :])[0], x / (1 + np.exp(-x)))


def test_gelu():
    x = RNG.random((2, 5))
    phi = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))  # scipy's norm.cdf
    close(activations.gelu(x[np.newaxis, :])[0], x * phi(x))
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * np.power(x, 3))))
    close(activations.gelu(x[np.newaxis, :], approximate=True)[0], tanh_form)


def test_celu():
    def ref(x, alpha=1.0):
        return np.maximum(x, 0.0) + alpha * np.expm1(np.minimum(x, 0.0) / alpha)

    x = RNG.random((2, 5))
    close(activations.celu(x[np.newaxis, :])[0], ref(x))
    close(activations.celu(x[np.newaxis, :], alpha=0.5)[0], ref(x, 0.5))
    x = RNG.uniform(-3, 3, (2, 5))  # beyond Keras's case: the negative side too
    close(activations.celu(x, alpha=0.5), ref(x, 0.5))


def test_glu():
    def ref(x, axis=-1):
        a, b = np.split(x, 2, axis)
        return a * (1 / (1 + np.exp(-b)))

    x = RNG.random((2, 4))
    close(activations.glu(x[np.newaxis, :])[0], ref(x))
    close(activations.glu(x[np.newaxis, :], axis=-2)[0], ref(x, axis=-2))
    # Keras's numpy backend: an odd axis is refused with this message.
    with pytest.raises(ValueError, match="axis size must be divisible by 2"):
        activations.glu(RNG.random((2, 5)))


@pytest.mark.parametrize(
    "name, ref",
    [
        ("tanh_shrink", lambda x: x - np.tanh(x)),
        ("hard_tanh", lambda x: np.clip(x, -1.0, 1.0)),
        ("hard_shrink", lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
        ("squareplus", lambda x: (x + np.sqrt(x**2 + 4)) / 2),
        (
            "soft_shrink",
            lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
        ),
        (
            "sparse_plus",
            lambda x: np.where(x <= -1, 0.0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
        ),
    ],
)
def test_shrinks_and_smooth_relus(name, ref):
    fn = getattr(activations, name)
    x = RNG.random((2, 5))
    close(fn(x[np.newaxis, :])[0], ref(x))
    x = RNG.uniform(-3, 3, (4, 5))  # beyond Keras's [0, 1) draws: both kinks
    close(fn(x), ref(x))


def test_threshold():
    x = RNG.random((2, 5))
    close(activations.threshold(x[np.newaxis, :], 0, 0)[0], np.where(x > 0, x, 0.0))
    x = RNG.uniform(-2, 2, (2, 5)).astype(np.float32)
    got = activations.threshold(x, 0.5, -7)
    assert got.dtype == np.float32
    close(got, np.where(x > 0.5, x, -7.0))


def test_elu():
    x = RNG.random((2, 5))
    close(activations.elu(x[np.newaxis, :])[0], x)
    negative = np.array([[-1, -2]], dtype=np.float32)
    close(activations.elu(negative[np.newaxis, :])[0], np.exp(negative) - 1)


@pytest.mark.parametrize(
    "name, ref, extra",
    [
        ("tanh", np.tanh, [(0, 10, (2, 5)), (-10, 0, (2, 5)), (1e4, 1e5, (2, 5))]),
        ("exponential", np.exp, [(0, 10, (2, 5)), (-10, 0, (2, 5))]),
        (
            "mish",
            lambda x: x * np.tanh(np.logaddexp(0, x)),
            [(0, 10, (2, 5)), (-10, 0, (2, 5)), (1e4, 1e5, (2, 5))],
        ),
    ],
)
def test_tanh_exponential_mish(name, ref, extra):
    fn = getattr(activations, name)
    for low, high, shape in [(0, 1, (2, 5)), (-10, 10, (2, 5)), (-10, 10, (5,))] + extra:
        x = RNG.uniform(low, high, shape)
        close(fn(x[np.newaxis, :])[0], ref(x))
    x = RNG.uniform(-1e-7, 1e-7, (2, 5))
    close(fn(x), ref(x))


def test_exponential_of_large_values_overflows_as_numpy():
    # Keras's case draws from [1e4, 1e5): exp is inf there in float64 as in numpy.
    x = RNG.uniform(1e4, 1e5, (2, 5))
    with np.errstate(over="ignore"):
        assert np.all(np.isinf(activations.exponential(x)))


def test_linear():
    for x in (
        RNG.random((10, 5)),
        RNG.uniform(-10, 10, 5),
        RNG.uniform(-10, 10, (5, 5, 5)),
        RNG.uniform(-10, 10, (10, 5)).astype(np.float32),
        RNG.integers(-10, 10, (10, 5)).astype(np.int32),
    ):
        np.testing.assert_array_equal(activations.linear(x), x)


def test_sparsemax():
    line = np.linspace(1, 12, num=12)
    cases = [
        (line, -1, lambda e: e.__setitem__(-1, 1.0), np.zeros_like),
        (line.reshape(-1, 2), -1, lambda e: e.__setitem__((slice(None), -1), 1.0), np.zeros_like),
        (line.reshape(-1, 1, 3), -1, lambda e: e.__setitem__((..., -1), 1.0), np.zeros_like),
        (line.reshape(-1, 2), -2, lambda e: e.__setitem__(-1, 1.0), np.zeros_like),
        (line.reshape(-1, 1, 3), -2, lambda e: None, np.ones_like),
        (line.reshape(-1, 1, 3), -3, lambda e: e.__setitem__(-1, 1.0), np.zeros_like),
        (line.reshape(-1, 1, 1, 2), -3, lambda e: None, np.ones_like),
    ]
    for x, axis, mark, start in cases:
        expected = start(x)
        mark(expected)
        close(activations.sparsemax(x, axis=axis), expected)


def test_sparsemax_with_several_entries_in_the_support_sums_to_one():
    # keras-team/keras#23425 and #23469: the cases Keras 3.16's tests missed.
    close(activations.sparsemax(np.array([[0.0, 0.5, 1.0]])), [[0.0, 0.25, 0.75]])
    close(activations.sparsemax(np.array([0.1, 0.2, 0.3, 0.4, 0.5])), [0, 0.1, 0.2, 0.3, 0.4])
    x = RNG.normal(size=(50, 7)) * 0.3
    y = activations.sparsemax(x)
    close(y.sum(axis=-1), np.ones(50))
    assert np.all(y >= 0)
    # The projection onto the simplex: no point of the simplex is closer (random ones).
    for row, proj in zip(x, y):
        others = RNG.dirichlet(np.ones(7), 200)
        assert np.sum((row - proj) ** 2) <= np.min(np.sum((others - row) ** 2, axis=1)) + 1e-12


def test_get_method():
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    with pytest.raises(ValueError):
        activations.get("typo")


def test_layers_refuse_the_activations_they_cannot_apply():
    # Keras takes Conv2D(activation="threshold") and fails at the first call for want of
    # two arguments; glu would halve the channels a layer's output shape promises.
    from minicnn import layers

    for name in ("threshold", "glu"):
        with pytest.raises(ValueError, match=f"Conv2D: the activation '{name}'.*Received"):
            layers.Conv2D(2, 3, activation=name)
        with pytest.raises(ValueError, match=f"Activation: the activation '{name}'"):
            layers.Activation(name)
    assert layers.Activation("sparsemax")(np.array([[0.0, 0.5, 1.0]])).tolist() == [
        [0.0, 0.25, 0.75]
    ]
