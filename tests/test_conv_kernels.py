"""Both convolution kernels in ``minicnn.ops`` against the naive reference.

``ops.conv`` picks, per call, between im2col (any stride) and the shifted-matmul kernels
(stride 1, for windows of more than a few dozen numbers). The shared strategies draw
narrow windows, which would leave the shifted kernels untested, so here every
configuration runs with the choice forced each way.
"""

from __future__ import annotations

from unittest import mock

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import reference
from hypothesis import given, settings
from strategies import conv_cases
from test_gradients import assert_gradient_matches

from minicnn import ops

PATHS = {
    "im2col": lambda kernel_shape, strides, padded, out: False,
    "shifted": lambda kernel_shape, strides, padded, out: all(s == 1 for s in strides),
}


def forced(path: str):
    """Every pass of the convolution by one kernel (the input gradient has its own choice)."""
    return mock.patch.multiple(
        ops,
        _use_shifted=PATHS[path],
        _shifted_input_grad=lambda x_shape, strides: path == "shifted" and max(strides) == 1,
    )


def case_arrays(case, dtype=np.float64):
    gen = np.random.default_rng(case["seed"])
    x = gen.normal(size=case["x_shape"]).astype(dtype)
    return x, gen.normal(size=case["kernel_shape"]).astype(dtype)


def conv_of(case):
    return lambda x, k: ops.conv(
        x, k, case["strides"], case["padding"], case["dilation"], case["groups"]
    )


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=150, deadline=None)
@given(case=conv_cases())
def test_each_conv_kernel_matches_naive_loops(path, case):
    x, kernel = case_arrays(case)
    expected = reference.conv(
        x, kernel, case["strides"], case["padding"], case["dilation"], case["groups"]
    )
    with forced(path):
        got = conv_of(case)(x, kernel)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_each_conv_kernel_gradients_match_finite_differences(path, case):
    x, kernel = case_arrays(case)
    with forced(path):
        assert_gradient_matches(conv_of(case), [x, kernel], 0)
        assert_gradient_matches(conv_of(case), [x, kernel], 1)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=40, deadline=None)
@given(case=conv_cases())
def test_each_conv_kernel_keeps_float32_gradients_float32(path, case):
    x32, k32 = case_arrays(case, np.float32)
    r = np.random.default_rng(1).normal(size=conv_of(case)(x32, k32).shape)

    def loss(x, k):
        return anp.sum(conv_of(case)(x, k) * r.astype(x.dtype))

    with forced(path):
        dx32, dk32 = autograd.grad(loss, (0, 1))(x32, k32)
        dx64, dk64 = autograd.grad(loss, (0, 1))(x32.astype(np.float64), k32.astype(np.float64))
    assert dx32.dtype == dk32.dtype == np.float32
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk32, dk64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_wide_window_takes_shifted_kernels_and_matches_naive_loops(padding):
    # 3x3 taps of 16 channels on maps large enough: the default is the shifted kernels.
    gen = np.random.default_rng(0)
    x, kernel = gen.normal(size=(2, 19, 18, 16)), gen.normal(size=(3, 3, 16, 5))
    pads = ops._resolve_pads(x.shape[1:-1], (3, 3), (1, 1), (1, 1), padding)
    padded, out = ops._conv_geometry(x.shape, (3, 3), (1, 1), pads, (1, 1))
    assert ops._use_shifted(kernel.shape, (1, 1), padded, out)
    expected = reference.conv(x, kernel, (1, 1), padding, (1, 1), 1)
    np.testing.assert_allclose(ops.conv(x, kernel, 1, padding), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2)])
def test_single_channel_columns_copied_by_tap_match_naive_loops_and_differences(padding, strides):
    # One input channel and over 1024 output positions: im2col copies the columns by tap.
    gen = np.random.default_rng(1)
    x, kernel = gen.normal(size=(12, 20, 21, 1)), gen.normal(size=(3, 2, 1, 2))
    args = (strides,) * 2, padding, (1, 1), 1
    expected = reference.conv(x, kernel, *args)
    assert np.prod(expected.shape[:-1]) > 1024
    np.testing.assert_allclose(ops.conv(x, kernel, *args), expected, rtol=1e-12, atol=1e-12)
    # The columns serve the forward pass and the kernel gradient.
    assert_gradient_matches(lambda x, k: ops.conv(x, k, *args), [x, kernel], 1)
