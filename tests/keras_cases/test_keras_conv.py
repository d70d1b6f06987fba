"""Keras 3's layers/convolutional/conv_test.py, case for case, on minicnn's Conv1D/2D/3D:
the same configurations, shapes and checks (its channels_first cases are out of scope)."""

from __future__ import annotations

import numpy as np
import pytest
import reference
from layer_case import run_conv_basic_test

from minicnn import layers

# ConvBasicTest.test_conv{1,2,3}d_basic: (init kwargs, input shape, output shape).
BASIC = {
    layers.Conv1D: [
        (
            dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
            (3, 5, 4),
            (3, 4, 5),
        ),
        (
            dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,), groups=2),
            (3, 4, 4),
            (3, 4, 6),
        ),
        (
            dict(
                filters=6, kernel_size=2, strides=1, padding="causal", dilation_rate=(2,), groups=2
            ),
            (3, 4, 4),
            (3, 4, 6),
        ),
        (
            dict(
                filters=6, kernel_size=2, strides=(2,), padding="valid", dilation_rate=1, groups=2
            ),
            (3, 5, 4),
            (3, 2, 6),
        ),
    ],
    layers.Conv2D: [
        (
            dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
            (3, 5, 5, 4),
            (3, 4, 4, 5),
        ),
        (
            dict(
                filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2), groups=2
            ),
            (3, 4, 4, 4),
            (3, 4, 4, 6),
        ),
        (
            dict(
                filters=6,
                kernel_size=(2, 2),
                strides=(2, 1),
                padding="valid",
                dilation_rate=(1, 1),
                groups=2,
            ),
            (3, 5, 5, 4),
            (3, 2, 4, 6),
        ),
    ],
    layers.Conv3D: [
        (
            dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
            (3, 5, 5, 5, 4),
            (3, 4, 4, 4, 5),
        ),
        (
            dict(
                filters=6,
                kernel_size=2,
                strides=1,
                padding="same",
                dilation_rate=(2, 2, 2),
                groups=2,
            ),
            (3, 4, 4, 4, 4),
            (3, 4, 4, 4, 6),
        ),
        (
            dict(
                filters=6,
                kernel_size=(2, 2, 3),
                strides=(2, 1, 2),
                padding="valid",
                dilation_rate=(1, 1, 1),
                groups=2,
            ),
            (3, 5, 5, 5, 4),
            (3, 2, 4, 2, 6),
        ),
    ],
}


@pytest.mark.parametrize(
    "cls, kwargs, input_shape, output_shape",
    [(cls, *case) for cls, cases in BASIC.items() for case in cases],
)
def test_conv_basic(cls, kwargs, input_shape, output_shape):
    run_conv_basic_test(cls, kwargs, input_shape, output_shape)


@pytest.mark.parametrize(
    "cls, input_shape, kernel_size, dilation_rate",
    [
        (layers.Conv1D, (10, 3), 2, 10),
        (layers.Conv2D, (10, 10, 3), (2, 2), (10, 10)),
        (layers.Conv3D, (10, 10, 10, 3), (2, 2, 2), (10, 10, 10)),
    ],
)
def test_conv_symbolic_invalid_configuration(cls, input_shape, kernel_size, dilation_rate):
    # ConvBasicTest: a dilated kernel wider than the input cannot be applied.
    layer = cls(filters=1, kernel_size=kernel_size, dilation_rate=dilation_rate)
    with pytest.raises(ValueError):
        layer(layers.Input(shape=input_shape))


# ConvCorrectnessTest.test_conv{1,2,3}d: (init kwargs), on inputs of 8 per spatial axis and
# 4 channels, against a direct convolution (Keras's own numpy reference there).
CORRECTNESS = {
    layers.Conv1D: [
        dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
        dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,), groups=2),
        dict(filters=6, kernel_size=2, strides=1, padding="causal", dilation_rate=(2,), groups=2),
        dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", dilation_rate=1, groups=2),
    ],
    layers.Conv2D: [
        dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
        dict(filters=4, kernel_size=3, strides=2, padding="same", dilation_rate=1, groups=1),
        dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2), groups=2),
        dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 3), groups=2),
        dict(
            filters=6,
            kernel_size=(4, 3),
            strides=(2, 1),
            padding="valid",
            dilation_rate=(1, 1),
            groups=2,
        ),
    ],
    layers.Conv3D: [
        dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
        dict(
            filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2, 2), groups=2
        ),
        dict(
            filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 3, 4), groups=2
        ),
        dict(
            filters=6,
            kernel_size=(2, 2, 3),
            strides=(2, 1, 2),
            padding="valid",
            dilation_rate=(1, 1, 1),
            groups=2,
        ),
    ],
}


def as_tuple(v, rank):
    return tuple(v) if isinstance(v, tuple) else (v,) * rank


@pytest.mark.parametrize(
    "cls, kwargs", [(cls, kw) for cls, cases in CORRECTNESS.items() for kw in cases]
)
def test_conv_correctness(cls, kwargs):
    rank = {layers.Conv1D: 1, layers.Conv2D: 2, layers.Conv3D: 3}[cls]
    rng = np.random.default_rng(0)
    x = rng.normal(size=[2, *(8,) * rank, 4])
    layer = cls(**kwargs)
    layer.build(x.shape)
    kernel = rng.normal(size=layer.kernel.shape)
    bias = rng.normal(size=(kwargs["filters"],))
    layer.set_weights([kernel, bias])
    expected = reference.conv(
        x,
        kernel.astype(np.float32),
        as_tuple(kwargs["strides"], rank),
        kwargs["padding"],
        as_tuple(kwargs["dilation_rate"], rank),
        kwargs["groups"],
    ) + bias.astype(np.float32)
    # The input is float64, as in Keras's test; the layer computes in float32.
    np.testing.assert_allclose(layer(x), expected, rtol=1e-3, atol=1e-4)


def test_conv_raises_exception_on_zero_dims():
    # A 5x5 valid kernel on a 4x4 input has no output.
    with pytest.raises(ValueError, match="kernel"):
        layers.Conv2D(6, [5, 5], 1, "valid")(np.random.rand(3, 4, 4, 4))


def test_conv_constraints_are_refused_with_a_clear_error():
    # ConvBasicTest.test_conv_constraints: constraints are out of scope; minicnn says so
    # rather than ignoring them.
    for kwargs in ({"kernel_constraint": "non_neg"}, {"bias_constraint": "non_neg"}):
        with pytest.raises(ValueError, match="constraint"):
            layers.Conv2D(filters=4, kernel_size=3, **kwargs)
