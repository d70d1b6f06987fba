"""Keras 3's layers/regularization/dropout_test.py and spatial_dropout_test.py, and
layers/preprocessing/rescaling_test.py, case for case on minicnn. Their channels_first
cases, SpatialDropout3D (which minicnn does not have) and the tf.data / Grain pipelines
are out of scope."""

from __future__ import annotations

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import layers


def test_dropout_basics():
    run_layer_test(
        layers.Dropout,
        {"rate": 0.2},
        input_shape=(2, 3),
        call_kwargs={"training": True},
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        assert_built_after_instantiation=True,
    )


def test_dropout_rescaling():
    y = layers.Dropout(0.5, seed=1337)(np.ones((20, 500)), training=True)
    assert abs(np.mean(y) - 1.0) <= 0.02
    assert np.max(y) == 2.0


@pytest.mark.parametrize("noise_shape", [(None, 1, None), (20, 1, 10)])
def test_dropout_partial_noise_shape(noise_shape):
    # test_dropout_partial_noise_shape_dynamic and ..._static.
    y = layers.Dropout(0.5, noise_shape=noise_shape)(np.ones((20, 5, 10)), training=True)
    np.testing.assert_array_equal(y[:, 0, :], y[:, 1, :])


@pytest.mark.parametrize("rate", [-0.5, 1.5])
def test_dropout_rate_out_of_range(rate):
    # test_dropout_negative_rate and test_dropout_rate_greater_than_one.
    with pytest.raises(
        ValueError,
        match="Invalid value received for argument `rate`. Expected a float value between 0 and 1.",
    ):
        layers.Dropout(rate=rate)


def test_validate_noise_shape():
    # test_validate_noise_shape_none, _integer_tuple, _none_values, _cast_to_a_tuple.
    assert layers.Dropout(0.5, noise_shape=None).noise_shape is None
    assert layers.Dropout(0.5, noise_shape=(20, 1, 10)).noise_shape == (20, 1, 10)
    assert layers.Dropout(0.5, noise_shape=(None, 1, None)).noise_shape == (None, 1, None)
    shape = layers.Dropout(0.5, noise_shape=[20, 1, 10]).noise_shape
    assert shape == (20, 1, 10) and isinstance(shape, tuple)


@pytest.mark.parametrize(
    "noise_shape, message",
    [
        ("Invalid", "Expected a tuple or list of integers."),
        ((20, 1.5, 10), "Expected all elements to be integers or None."),
        ((20, -1, 10), "Expected all dimensions to be positive integers or None."),
        ((20, 0, 10), "Expected all dimensions to be positive integers or None."),
    ],
)
def test_validate_noise_shape_errors(noise_shape, message):
    with pytest.raises(
        ValueError, match="Invalid value received for argument `noise_shape`. " + message
    ):
        layers.Dropout(0.5, noise_shape=noise_shape)


@pytest.mark.parametrize(
    "cls, shape", [(layers.SpatialDropout1D, (2, 3, 4)), (layers.SpatialDropout2D, (2, 3, 4, 5))]
)
@pytest.mark.parametrize("training", [True, False])
def test_spatial_dropout(cls, shape, training):
    # test_spatial_dropout_1d and _2d (channels_last).
    run_layer_test(
        cls,
        {"rate": 0.5},
        call_kwargs={"training": training},
        input_shape=shape,
        assert_built_after_instantiation=True,
    )


@pytest.mark.parametrize(
    "cls, shape", [(layers.SpatialDropout1D, (3, 2)), (layers.SpatialDropout2D, (3, 2, 4))]
)
def test_spatial_dropout_dynamic(cls, shape):
    out = cls(0.5)(layers.Input(shape), training=True)
    assert out.shape == (None, *shape)


def test_spatial_dropout_correctness():
    # test_spatial_dropout_1D_correctness and _2D_correctness: one draw per channel.
    y = layers.SpatialDropout1D(0.5)(np.ones((10, 3, 10)), training=True)
    np.testing.assert_array_equal(y[:, 0, :], y[:, 1, :])
    y = layers.SpatialDropout2D(0.5)(np.ones((10, 3, 3, 10)), training=True)
    np.testing.assert_array_equal(y[:, 0, 0, :], y[:, 1, 1, :])


@pytest.mark.parametrize(
    "kwargs",
    [{"scale": 1.0 / 255, "offset": 0.5}, {"scale": 2, "offset": 0.5}, {"scale": 1.0, "offset": 2}],
)
def test_rescaling_basics_and_dtypes(kwargs):
    run_layer_test(
        layers.Rescaling,
        kwargs,
        input_shape=(2, 3),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


def test_rescaling_of_int16_input():
    # test_rescaling_dtypes' int16 input: the output is float32.
    x = np.arange(6, dtype="int16").reshape(2, 3)
    out = run_layer_test(
        layers.Rescaling,
        {"scale": 1.0 / 255, "offset": 0.5},
        input_data=x,
        expected_output_shape=(2, 3),
    )
    np.testing.assert_allclose(out, x / 255 + 0.5, rtol=1e-6)


def test_rescaling_correctness():
    x = np.random.default_rng(0).random((3, 10, 10, 3)) * 255
    y = layers.Rescaling(scale=1.0 / 255, offset=0.5)(x)
    np.testing.assert_allclose(y, x / 255 + 0.5, rtol=1e-6)


def test_rescaling_numpy_args():
    run_layer_test(
        layers.Rescaling,
        {"scale": np.array(1.0 / 255.0), "offset": np.array(0.5)},
        input_shape=(2, 3),
        expected_output_shape=(2, 3),
    )


def test_rescaling_with_a_vector_scale():
    # test_rescaling_with_channels_first_and_vector_scale, channels_last: one factor per
    # channel, broadcast against each sample; one that does not fit is refused.
    scale = [1.0 / 255, 1.5 / 255, 2.0 / 255]
    x = np.random.default_rng(0).random((2, 10, 10, 3)) * 255
    layer = layers.Rescaling(scale=scale, offset=0.5)
    np.testing.assert_allclose(layer(x), x * np.array(scale) + 0.5, rtol=1e-6)
    assert layers.Rescaling.from_config(layer.get_config()).scale == scale
    with pytest.raises(ValueError, match=r"`scale` of shape \(3,\) does not broadcast"):
        layer(np.ones((2, 10, 10, 2)))
    with pytest.raises(TypeError, match="array of finite floats"):
        layers.Rescaling(scale=[1.0, "a"])
