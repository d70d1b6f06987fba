"""minicnn.ops against hand-computed numbers and the naive loops in tests/reference.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from strategies import conv_cases, pool_cases

from minicnn import activations, ops

X4 = np.array([1, 2, 3, 4], dtype=np.float32).reshape(1, 4, 1)


def taps(*values):
    """A (k, 1, 1) float32 kernel from its taps."""
    return np.array(values, dtype=np.float32).reshape(-1, 1, 1)


def flat(y):
    return np.asarray(y).ravel().tolist()


# --------------------------------------------------------------------------- worked examples


def test_same_padding_puts_odd_pixel_at_end_for_even_kernel():
    assert flat(ops.conv(X4, taps(1, 10), padding="same")) == [21, 32, 43, 4]


def test_same_padding_splits_three_zeros_one_before_two_after():
    assert flat(ops.conv(X4, taps(1, 10, 100, 1000), padding="same")) == [3210, 4321, 432, 43]


def test_same_padding_with_stride_two_keeps_ceil_of_half():
    assert flat(ops.conv(X4, taps(1, 10, 100), strides=2, padding="same")) == [321, 43]


def test_valid_padding_reads_only_real_inputs():
    assert flat(ops.conv(X4, taps(1, 10, 100), padding="valid")) == [321, 432]


def test_causal_padding_puts_all_zeros_before():
    # x padded to [0, 1, 2, 3, 4]; y[i] = 1*xp[i] + 10*xp[i+1]
    assert flat(ops.conv(X4, taps(1, 10), padding="causal")) == [10, 21, 32, 43]


def test_causal_padding_with_dilation_pads_dilated_span():
    # x padded to [0, 0, 1, 2, 3, 4]; y[i] = xp[i] + 10*xp[i+2]
    assert flat(ops.conv(X4, taps(1, 10), padding="causal", dilation_rate=2)) == [10, 20, 31, 42]


def test_causal_padding_with_stride_two():
    # x padded to [0, 0, 1, 2, 3, 4]; outputs start at 0 and 2
    assert flat(ops.conv(X4, taps(1, 10, 100), strides=2, padding="causal")) == [100, 321]


def test_conv_is_cross_correlation_not_flipped():
    # the kernel [1, 2] read left to right: y[i] = x[i] + 2 x[i+1]
    assert flat(ops.conv(X4, taps(1, 2))) == [5, 8, 11]


def test_kernel_larger_than_input_under_same_padding():
    x = np.array([1, 2], dtype=np.float32).reshape(1, 2, 1)
    # out 2, total pad 4: two zeros before, two after: [0, 0, 1, 2, 0, 0]
    assert flat(ops.conv(x, taps(1, 10, 100, 1000, 10000), padding="same")) == [2100, 210]


def test_kernel_larger_than_input_under_causal_padding():
    x = np.array([1, 2], dtype=np.float32).reshape(1, 2, 1)
    # [0, 0, 1, 2]
    assert flat(ops.conv(x, taps(1, 10, 100), padding="causal")) == [100, 210]


def test_tutorial_vertical_line_detector_2d():
    image = np.zeros((1, 8, 8, 1), dtype=np.float32)
    image[0, :, 3:5, 0] = 1
    detector = np.zeros((3, 3, 1, 1), dtype=np.float32)
    detector[:, 1, 0, 0] = 1
    y = ops.conv(image, detector)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, :, :, 0], np.tile([0, 0, 3, 3, 0, 0], (6, 1)))


def test_groups_convolve_channel_groups_independently():
    x = np.array([[[1, 10, 100, 1000]]], dtype=np.float32)  # (1, 1, 4): 4 channels
    kernel = np.array([[[1, 2], [3, 4]]], dtype=np.float32)  # (1, 2, 2): groups of 2
    # filter 0 sees channels 0,1 (1*1 + 3*10); filter 1 sees channels 2,3 (2*100 + 4*1000)
    assert flat(ops.conv(x, kernel, groups=2)) == [31, 4200]


# --------------------------------------------------------------------------- vs reference


@settings(max_examples=300, deadline=None)
@given(conv_cases())
def test_conv_matches_naive_loops_for_every_padding_stride_dilation_group_and_rank(case):
    gen = np.random.default_rng(case["seed"])
    x, kernel = gen.normal(size=case["x_shape"]), gen.normal(size=case["kernel_shape"])
    args = case["strides"], case["padding"], case["dilation"], case["groups"]
    expected = reference.conv(x, kernel, *args)
    got = ops.conv(x, kernel, *args)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(conv_cases())
def test_conv_in_float32_stays_float32_and_matches_reference(case):
    gen = np.random.default_rng(case["seed"])
    x = gen.normal(size=case["x_shape"]).astype(np.float32)
    kernel = gen.normal(size=case["kernel_shape"]).astype(np.float32)
    args = case["strides"], case["padding"], case["dilation"], case["groups"]
    got = ops.conv(x, kernel, *args)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference.conv(x, kernel, *args), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "length, k, s, d, padding, out",
    [
        (8, 3, 1, 1, "valid", 6),
        (8, 3, 2, 1, "valid", 3),
        (8, 3, 1, 2, "valid", 4),
        (7, 2, 3, 1, "valid", 2),
        (8, 3, 1, 1, "same", 8),
        (7, 3, 2, 1, "same", 4),
        (2, 5, 1, 1, "same", 2),
        (5, 4, 3, 1, "causal", 2),
        (1, 4, 1, 3, "causal", 1),
    ],
)
def test_output_length_follows_keras_formula(length, k, s, d, padding, out):
    x = np.ones((1, length, 1))
    assert ops.conv(x, np.ones((k, 1, 1)), s, padding, d).shape == (1, out, 1)


# --------------------------------------------------------------------------- pooling


@settings(max_examples=250, deadline=None)
@given(pool_cases())
def test_pooling_matches_naive_loops(case):
    x = np.random.default_rng(case["seed"]).normal(size=case["x_shape"])
    args = case["pool_size"], case["strides"], case["padding"], case["mode"]
    expected = reference.pool(x, *args)
    got = ops.pool(x, *args)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert ops.pool(x.astype(np.float32), *args).dtype == np.float32


def test_pool_strides_default_to_pool_size():
    x = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    assert flat(ops.pool(x, 2, mode="max")) == [1, 3, 5]
    assert flat(ops.pool(x, 3, mode="average")) == [1, 4]


def test_same_max_pooling_never_lets_padding_win():
    x = -np.arange(1, 6, dtype=np.float32).reshape(1, 5, 1)  # all negative
    # windows [-1,-2] [-3,-4] [-5,pad]: the lone -5 wins over the padded zero
    assert flat(ops.pool(x, 2, padding="same", mode="max")) == [-1, -3, -5]


def test_same_average_pooling_leaves_padding_out_of_the_mean():
    x = np.array([2, 4, 6, 8, 10], dtype=np.float32).reshape(1, 5, 1)
    assert flat(ops.pool(x, 2, padding="same", mode="average")) == [3, 7, 10]
    # size 3 stride 1: one zero before and one after, each excluded
    assert flat(ops.pool(x, 3, 1, padding="same", mode="average")) == [3, 4, 6, 8, 9]


def test_pooling_2d_example():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    y = ops.pool(x, (2, 2), mode="max")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, :, :, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        ops.pool(x, (2, 2), mode="average")[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]]
    )


# --------------------------------------------------------------------------- activations

RELU_GRID = np.array(
    [-7, -3, -1.5, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5.5, 6, 6.5, 9], dtype=np.float64
)


@pytest.mark.parametrize("max_value", [None, 0.0, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("negative_slope", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 1.5, 3.0])
def test_relu_matches_keras_formula(max_value, negative_slope, threshold):
    expected = reference.relu(RELU_GRID, negative_slope, max_value, threshold)
    got = ops.relu(RELU_GRID, negative_slope, max_value, threshold)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    got32 = ops.relu(RELU_GRID.astype(np.float32), negative_slope, max_value, threshold)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, rtol=1e-6, atol=1e-7)


def test_relu_layer_docstring_example():
    # keras.layers.ReLU(max_value=10, negative_slope=0.5) on [-10, -5, 0, 5, 10]
    x = np.array([-10, -5, 0.0, 5, 10], dtype=np.float32)
    assert flat(ops.relu(x, negative_slope=0.5, max_value=10)) == [-5, -2.5, 0, 5, 10]


def test_relu_threshold_zeroes_values_at_or_below_it():
    x = np.array([0.5, 1.0, 1.5], dtype=np.float32)
    assert flat(ops.relu(x, threshold=1.0)) == [0, 0, 1.5]


XS = np.linspace(-5, 5, 41)


def _gelu_exact(v):
    return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("linear", XS),
        ("relu", np.where(XS > 0, XS, 0)),
        ("relu6", np.clip(XS, 0, 6)),
        ("leaky_relu", np.where(XS > 0, XS, 0.2 * XS)),
        ("elu", np.where(XS > 0, XS, np.exp(XS) - 1)),
        (
            "selu",
            1.0507009873554805 * np.where(XS > 0, XS, 1.6732632423543772 * (np.exp(XS) - 1)),
        ),
        ("sigmoid", 1 / (1 + np.exp(-XS))),
        ("hard_sigmoid", np.clip(XS / 6 + 0.5, 0, 1)),
        ("tanh", np.tanh(XS)),
        ("softplus", np.log1p(np.exp(XS))),
        ("softsign", XS / (1 + np.abs(XS))),
        ("silu", XS / (1 + np.exp(-XS))),
        ("swish", XS / (1 + np.exp(-XS))),
        ("gelu", np.array([_gelu_exact(v) for v in XS])),
        ("exponential", np.exp(XS)),
    ],
)
def test_elementwise_activation_values(name, expected):
    np.testing.assert_allclose(activations.get(name)(XS), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(activations.REGISTRY.entries))
def test_activation_keeps_float32(name):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert reference.activation_of_x(activations, name)(x).dtype == np.float32


def test_gelu_approximate_uses_tanh_form():
    c = math.sqrt(2 / math.pi)
    expected = 0.5 * XS * (1 + np.tanh(c * (XS + 0.044715 * XS**3)))
    np.testing.assert_allclose(
        activations.gelu(XS, approximate=True), expected, rtol=1e-12, atol=1e-14
    )


def test_gelu_float32_is_within_float32_resolution_of_exact():
    got = activations.gelu(XS.astype(np.float32))
    np.testing.assert_allclose(got, [_gelu_exact(v) for v in XS], rtol=0, atol=1e-6)


def test_softmax_matches_numpy_and_sums_to_one():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 999.0]])
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    expected = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(activations.softmax(x), expected, rtol=1e-14)
    np.testing.assert_allclose(activations.softmax(x).sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(activations.log_softmax(x), np.log(expected), rtol=1e-13)


def test_softmax_of_equal_logits_is_uniform():
    assert flat(activations.softmax(np.zeros((1, 4)))) == [0.25] * 4


def test_softmax_along_other_axis():
    x = np.array([[0.0, 1.0], [math.log(3), 1.0]])
    np.testing.assert_allclose(
        activations.softmax(x, axis=0), [[0.25, 0.5], [0.75, 0.5]], rtol=1e-14
    )


def test_sigmoid_and_softplus_do_not_overflow_on_large_inputs():
    x = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise"):
        assert flat(activations.sigmoid(x)) == [0.0, 1.0]
        assert flat(activations.softplus(x)) == [0.0, 1000.0]


# --------------------------------------------------------------------------- fused conv + bias


FUSED_CASES = [
    # x shape, kernel shape, strides, padding, dilation, groups: im2col, shifted, grouped,
    # strided and 1-D paths.
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "valid", 1, 1),
    ((2, 9, 9, 16), (3, 3, 16, 8), 1, "same", 1, 1),
    ((1, 8, 7, 4), (2, 3, 2, 6), (2, 1), "same", 1, 2),
    ((3, 12, 5), (3, 5, 2), 1, "causal", 2, 1),
    ((2, 5, 6, 2), (3, 3, 1, 4), 1, "same", 1, 2),  # depthwise: the unfused ops
]


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("case", FUSED_CASES)
def test_conv_bias_equals_conv_then_bias_then_relu_bit_for_bit(case, relu):
    import autograd
    import autograd.numpy as anp

    x_shape, k_shape, strides, padding, dilation, groups = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    kernel = rng.standard_normal(k_shape, dtype=np.float32)
    bias = rng.standard_normal(k_shape[-1], dtype=np.float32)

    def unfused(x, kernel, bias):
        y = ops.conv(x, kernel, strides, padding, dilation, groups) + bias
        return ops.relu(y) if relu else y

    def fused(x, kernel, bias):
        return ops.conv_bias(x, kernel, bias, strides, padding, dilation, groups, relu)

    want, got = unfused(x, kernel, bias), fused(x, kernel, bias)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    r = rng.standard_normal(want.shape, dtype=np.float32)
    grads = [
        autograd.grad(lambda *a, f=f: anp.sum(f(*a) * r), argnum=(0, 1, 2))(x, kernel, bias)
        for f in (unfused, fused)
    ]
    for a, b in zip(*grads):
        assert b.dtype == np.float32
        np.testing.assert_array_equal(b, a)


def test_conv_bias_gradients_match_finite_differences():
    from autograd.test_util import check_grads

    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 6, 5, 3))
    kernel, bias = rng.standard_normal((3, 2, 3, 4)), rng.standard_normal(4)
    # Away from relu's kink: finite differences straddling 0 would be wrong there.
    check_grads(
        lambda x, k, b: ops.conv_bias(x, k, b + 10.0, 1, "same", relu=True),
        modes=["rev"],
        order=1,
    )(x, kernel, bias)


def test_conv_bias_refuses_a_bias_of_the_wrong_shape():
    x, kernel = np.zeros((1, 4, 4, 1), np.float32), np.zeros((3, 3, 1, 2), np.float32)
    with pytest.raises(ValueError, match=r"ops.conv_bias: `bias` must have shape \(2,\)"):
        ops.conv_bias(x, kernel, np.zeros(3, np.float32))


def test_conv_bias_with_a_float64_bias_widens_as_the_plain_sum_does():
    x, kernel = np.ones((1, 4, 4, 1), np.float32), np.ones((3, 3, 1, 2), np.float32)
    y = ops.conv_bias(x, kernel, np.full(2, 0.5))
    assert y.dtype == np.float64 and float(y[0, 0, 0, 0]) == 9.5
