"""Keras 3's layers/convolutional/conv_transpose_test.py, depthwise_conv_test.py and
separable_conv_test.py, case for case, on minicnn's Conv1D/2DTranspose, DepthwiseConv1D/2D
and SeparableConv1D/2D: the same configurations, shapes, error phrases and checks against
direct computations. Their channels_first cases and Conv3DTranspose (which minicnn does not
have) are out of scope."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference
from layer_case import (
    FILTERS_ZERO,
    KERNEL_SIZE_ZERO,
    STRIDES_ZERO,
    run_conv_basic_test,
)

from minicnn import layers


def as_tuple(v, rank):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * rank


# ConvTransposeBasicTest: (init kwargs, input shape, output shape).
TRANSPOSE_BASIC = {
    layers.Conv1DTranspose: [
        (
            dict(
                filters=5,
                kernel_size=2,
                strides=2,
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
            (2, 8, 4),
            (2, 16, 5),
        ),
        (
            dict(
                filters=6,
                kernel_size=2,
                strides=3,
                padding="same",
                output_padding=2,
                dilation_rate=(1,),
            ),
            (2, 8, 4),
            (2, 23, 6),
        ),
        (
            dict(
                filters=6,
                kernel_size=(2,),
                strides=(2,),
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
            (2, 8, 4),
            (2, 16, 6),
        ),
    ],
    layers.Conv2DTranspose: [
        (
            dict(
                filters=5,
                kernel_size=2,
                strides=2,
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
            (2, 8, 8, 4),
            (2, 16, 16, 5),
        ),
        (
            dict(
                filters=6,
                kernel_size=2,
                strides=3,
                padding="same",
                output_padding=2,
                dilation_rate=(1, 1),
            ),
            (2, 8, 8, 4),
            (2, 23, 23, 6),
        ),
        (
            dict(
                filters=2,
                kernel_size=(7, 7),
                strides=(16, 16),
                padding="valid",
                output_padding=None,
                dilation_rate=(1, 1),
            ),
            (1, 14, 14, 2),
            (1, 224, 224, 2),
        ),
    ],
}


@pytest.mark.parametrize(
    "cls, kwargs, input_shape, output_shape",
    [(cls, *case) for cls, cases in TRANSPOSE_BASIC.items() for case in cases],
)
def test_conv_transpose_basic(cls, kwargs, input_shape, output_shape):
    run_conv_basic_test(cls, kwargs, input_shape, output_shape)


@pytest.mark.parametrize(
    "cls, input_shape",
    [(layers.Conv1DTranspose, (1, 8, 3)), (layers.Conv2DTranspose, (1, 5, 5, 3))],
)
def test_output_padding_serialization(cls, input_shape):
    layer = cls(2, 3, strides=2, output_padding=1)
    config = layer.get_config()
    assert "output_padding" in config
    revived = cls.from_config(config)
    assert revived.output_padding == layer.output_padding
    assert revived.compute_output_shape(input_shape) == layer.compute_output_shape(input_shape)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: layers.Conv1DTranspose(filters=0, kernel_size=1),
            FILTERS_ZERO.format(name="filters"),
        ),
        (
            lambda: layers.Conv2DTranspose(filters=2, kernel_size=(1, 0)),
            KERNEL_SIZE_ZERO.format(n=r"\d+"),
        ),
        (
            lambda: layers.Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=(1, 0)),
            STRIDES_ZERO,
        ),
        (
            lambda: layers.Conv1DTranspose(filters=2, kernel_size=3, strides=2, output_padding=2),
            "`output_padding` must be strictly less than `strides`",
        ),
        (
            lambda: layers.Conv2DTranspose(filters=2, kernel_size=3, strides=2, output_padding=3),
            "`output_padding` must be strictly less than `strides`",
        ),
        (
            lambda: layers.Conv2DTranspose(
                filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3)
            ),
            "`output_padding` must be strictly less than `strides`",
        ),
        (
            lambda: layers.Conv2DTranspose(
                filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)
            ),
            r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            r"strides=\(2, 2\) and dilation_rate=\(2, 1\)",
        ),
    ],
)
def test_conv_transpose_bad_init_args(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ConvTransposeCorrectnessTest.test_conv{1,2}d_transpose: on (2, 8, 4) and (2, 14, 14, 4).
TRANSPOSE_CORRECTNESS = {
    layers.Conv1DTranspose: (
        (2, 8, 4),
        [
            dict(
                filters=5,
                kernel_size=2,
                strides=2,
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
            dict(
                filters=6,
                kernel_size=2,
                strides=3,
                padding="same",
                output_padding=2,
                dilation_rate=(1,),
            ),
            dict(
                filters=6,
                kernel_size=(2,),
                strides=(2,),
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
        ],
    ),
    layers.Conv2DTranspose: (
        (2, 14, 14, 4),
        [
            dict(
                filters=5,
                kernel_size=2,
                strides=2,
                padding="valid",
                output_padding=None,
                dilation_rate=1,
            ),
            dict(
                filters=6,
                kernel_size=7,
                strides=16,
                padding="same",
                output_padding=2,
                dilation_rate=(1, 1),
            ),
            dict(
                filters=6,
                kernel_size=(2, 3),
                strides=(2, 1),
                padding="valid",
                output_padding=None,
                dilation_rate=(1, 1),
            ),
            dict(
                filters=2,
                kernel_size=(7, 7),
                strides=(16, 16),
                padding="valid",
                output_padding=None,
                dilation_rate=(1, 1),
            ),
        ],
    ),
}


def transpose_reference(layer, x, kernel, bias, kwargs):
    rank = x.ndim - 2
    op = kwargs["output_padding"]
    return reference.conv_transpose(
        x.astype(np.float32),
        kernel.astype(np.float32),
        as_tuple(kwargs["strides"], rank),
        kwargs["padding"],
        None if op is None else as_tuple(op, rank),
        as_tuple(kwargs["dilation_rate"], rank),
    ) + bias.astype(np.float32)


@pytest.mark.parametrize(
    "cls, kwargs",
    [(cls, kw) for cls, (_, cases) in TRANSPOSE_CORRECTNESS.items() for kw in cases],
)
def test_conv_transpose_correctness(cls, kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=TRANSPOSE_CORRECTNESS[cls][0])
    layer = cls(**kwargs)
    layer.build(x.shape)
    kernel = rng.normal(size=layer.kernel.shape)
    bias = rng.normal(size=(kwargs["filters"],))
    layer.set_weights([kernel, bias])
    expected = transpose_reference(layer, x, kernel, bias, kwargs)
    np.testing.assert_allclose(layer(x), expected, atol=1e-4, rtol=1e-4)


# Keras's parameterized.product of the two cases below, less output_padding >= strides
# (which Keras skips and minicnn refuses).
SMALL_CONFIGS = [
    case
    for case in itertools.product(range(1, 5), range(1, 5), ["same", "valid"], [None, 1, 2, 3, 4])
    if case[3] is None or case[3] < case[1]
]


@pytest.mark.parametrize("kernel_size, strides, padding, output_padding", SMALL_CONFIGS)
def test_conv1d_transpose_consistency(kernel_size, strides, padding, output_padding):
    # An input of three ones and the kernel 1..k, for every small configuration.
    x = np.ones((1, 3, 1))
    kernel = np.arange(1, kernel_size + 1, dtype=np.float64).reshape(kernel_size, 1, 1)
    kwargs = dict(
        filters=1,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=1,
    )
    layer = layers.Conv1DTranspose(**kwargs)
    layer.build(x.shape)
    layer.set_weights([kernel, np.zeros(1)])
    expected = transpose_reference(layer, x, kernel, np.zeros(1), kwargs)
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)


@pytest.mark.parametrize("kernel_size, strides, padding, output_padding", SMALL_CONFIGS)
def test_shape_inference_static_unknown_shape(kernel_size, strides, padding, output_padding):
    x = layers.Input(shape=(None, None, 3))
    y = layers.Conv2DTranspose(
        filters=2,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
    )(x)
    assert y.shape == (None, None, None, 2)


# DepthwiseConvBasicTest / SeparableConvBasicTest: (init kwargs, input shape, output shape).
DEPTHWISE_BASIC = {
    layers.DepthwiseConv1D: [
        (
            dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1),
            (3, 5, 4),
            (3, 4, 20),
        ),
        (
            dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,)),
            (3, 4, 4),
            (3, 4, 24),
        ),
        (
            dict(depth_multiplier=6, kernel_size=2, strides=(2,), padding="valid", dilation_rate=1),
            (3, 5, 4),
            (3, 2, 24),
        ),
    ],
    layers.DepthwiseConv2D: [
        (
            dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1),
            (3, 5, 5, 4),
            (3, 4, 4, 20),
        ),
        (
            dict(
                depth_multiplier=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2)
            ),
            (3, 4, 4, 4),
            (3, 4, 4, 24),
        ),
        (
            dict(
                depth_multiplier=6,
                kernel_size=(2, 2),
                strides=(2, 2),
                padding="valid",
                dilation_rate=(1, 1),
            ),
            (3, 5, 5, 4),
            (3, 2, 2, 24),
        ),
    ],
}
SEPARABLE_BASIC = {
    cls: [
        ({**kw, "filters": kw["depth_multiplier"]}, shape, (*out[:-1], kw["depth_multiplier"]))
        for kw, shape, out in DEPTHWISE_BASIC[depthwise]
    ]
    for cls, depthwise in (
        (layers.SeparableConv1D, layers.DepthwiseConv1D),
        (layers.SeparableConv2D, layers.DepthwiseConv2D),
    )
}


@pytest.mark.parametrize(
    "cls, kwargs, input_shape, output_shape, weights",
    [(cls, *case, 2) for cls, cases in DEPTHWISE_BASIC.items() for case in cases]
    + [(cls, *case, 3) for cls, cases in SEPARABLE_BASIC.items() for case in cases],
)
def test_depthwise_and_separable_conv_basic(cls, kwargs, input_shape, output_shape, weights):
    run_conv_basic_test(cls, kwargs, input_shape, output_shape, weights)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: layers.DepthwiseConv1D(depth_multiplier=0, kernel_size=1),
            FILTERS_ZERO.format(name="depth_multiplier"),
        ),
        (
            lambda: layers.DepthwiseConv2D(depth_multiplier=2, kernel_size=(1, 0)),
            KERNEL_SIZE_ZERO.format(n=2),
        ),
        (
            lambda: layers.DepthwiseConv2D(depth_multiplier=2, kernel_size=(2, 2), strides=(1, 0)),
            STRIDES_ZERO,
        ),
        (
            lambda: layers.SeparableConv1D(depth_multiplier=0, filters=1, kernel_size=1),
            FILTERS_ZERO.format(name="depth_multiplier"),
        ),
        (
            lambda: layers.SeparableConv1D(depth_multiplier=1, filters=0, kernel_size=1),
            FILTERS_ZERO.format(name="filters"),
        ),
        (
            lambda: layers.SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(1, 0)),
            KERNEL_SIZE_ZERO.format(n=r"\d+"),
        ),
        (
            lambda: layers.SeparableConv2D(
                depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=(1, 0)
            ),
            STRIDES_ZERO,
        ),
    ],
)
def test_depthwise_and_separable_bad_init_args(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: layers.DepthwiseConv1D(11, strides=5, padding="valid"), (4, 10, 3)),
        (lambda: layers.DepthwiseConv2D(5, strides=2, padding="valid"), (2, 4, 4, 3)),
        (lambda: layers.SeparableConv1D(64, 11, strides=5, padding="valid"), (4, 10, 12)),
        (lambda: layers.SeparableConv2D(8, 5, strides=2, padding="valid"), (2, 4, 4, 3)),
    ],
)
def test_invalid_output_shape_raises(make, shape):
    x = np.random.default_rng(0).random(shape).astype("float32")
    with pytest.raises(ValueError, match="(?i)computed output size would be zero or negative"):
        make()(x)


def depthwise_reference(x, depthwise, kwargs):
    """A depthwise conv as a grouped conv: one group per input channel, its
    ``depth_multiplier`` outputs next to each other (Keras's channel order)."""
    rank = x.ndim - 2
    cin, mult = depthwise.shape[-2:]
    kernel = depthwise.reshape(*depthwise.shape[:rank], 1, cin * mult)
    return reference.conv(
        x,
        kernel.astype(np.float32),
        as_tuple(kwargs["strides"], rank),
        kwargs["padding"],
        as_tuple(kwargs["dilation_rate"], rank),
        cin,
    )


@pytest.mark.parametrize(
    "cls, kwargs",
    [(cls, kw) for cls, cases in DEPTHWISE_BASIC.items() for kw, _, _ in cases]
    + [(cls, kw) for cls, cases in SEPARABLE_BASIC.items() for kw, _, _ in cases],
)
def test_depthwise_and_separable_conv_correctness(cls, kwargs):
    # Depthwise/SeparableConvCorrectnessTest: the basic tables' configurations on
    # (2, 8, 4) and (2, 8, 8, 4) inputs.
    rank = 1 if cls in (layers.DepthwiseConv1D, layers.SeparableConv1D) else 2
    rng = np.random.default_rng(0)
    x = rng.normal(size=[2, *(8,) * rank, 4])
    layer = cls(**kwargs)
    layer.build(x.shape)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    y = depthwise_reference(x, weights[0], kwargs)
    if "filters" in kwargs:  # separable: the pointwise 1x1 conv
        y = y @ weights[1].reshape(-1, kwargs["filters"]).astype(np.float32)
    y = y + weights[-1].astype(np.float32)
    np.testing.assert_allclose(layer(x), y, rtol=1e-3, atol=1e-4)
