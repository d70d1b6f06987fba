"""Keras 3's layers/reshaping tests for Cropping1D/2D, Flatten and Permute
(cropping1d_test.py, cropping2d_test.py, flatten_test.py, permute_test.py), case for case
on minicnn: the same inputs, expected outputs and errors. channels_first and sparse cases
are out of scope."""

from __future__ import annotations

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import layers
from minicnn.models import Sequential


@pytest.mark.parametrize(
    "cropping, keep",
    [
        ((1, 2), slice(1, 3)),
        ((1, 1), slice(1, 4)),
        (1, slice(1, 4)),
        ((0, 1), slice(0, 4)),
        ((1, 0), slice(1, 5)),
    ],
)
def test_cropping_1d(cropping, keep):
    x = np.random.default_rng(0).random((3, 5, 7)).astype("float32")
    run_layer_test(
        layers.Cropping1D, {"cropping": cropping}, input_data=x, expected_output=x[:, keep, :]
    )


# Keras's dtype_policies.serialize(layer.dtype_policy) for a float32 layer.
POLICY = {
    "module": "keras",
    "class_name": "DTypePolicy",
    "config": {"name": "float32"},
    "registered_name": None,
}


def test_cropping_1d_with_dynamic_spatial_dim():
    cropped = layers.Cropping1D((1, 2))(layers.Input(batch_shape=(1, None, 7)))
    assert cropped.shape == (1, None, 7)


@pytest.mark.parametrize("cropping", [(1,), (1, 2, 3), "1"])
def test_cropping_1d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError):
        layers.Cropping1D(cropping=cropping)


def test_cropping_1d_errors_if_cropping_more_than_available():
    with pytest.raises(
        ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"
    ):
        layers.Cropping1D(cropping=(2, 3))(layers.Input(batch_shape=(3, 5, 7)))


def test_cropping_1d_error_on_excessive_cropping():
    with pytest.raises(
        ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"
    ):
        layers.Cropping1D(cropping=(3, 3))(np.random.default_rng(0).random((3, 5, 7)))


@pytest.mark.parametrize(
    "cropping, ranges",
    [
        (((1, 2), (3, 4)), ((1, 5), (3, 5))),
        (((2, 2), (2, 2)), ((2, 5), (2, 7))),
        ((2, 2), ((2, 5), (2, 7))),
        (2, ((2, 5), (2, 7))),
        (((0, 2), (0, 4)), ((0, 5), (0, 5))),
        (((1, 0), (3, 0)), ((1, 7), (3, 9))),
        (((1, 0), (3, 4)), ((1, 7), (3, 5))),
        (((1, 2), (3, 0)), ((1, 5), (3, 9))),
    ],
)
def test_cropping_2d(cropping, ranges):
    x = np.random.default_rng(0).random((3, 7, 9, 5)).astype("float32")
    (a, b), (c, d) = ranges
    run_layer_test(
        layers.Cropping2D,
        {"cropping": cropping, "data_format": "channels_last"},
        input_data=x,
        expected_output=x[:, a:b, c:d, :],
    )


def test_cropping_2d_with_dynamic_spatial_dim():
    cropped = layers.Cropping2D(((1, 2), (3, 4)))(layers.Input(batch_shape=(1, 7, None, 5)))
    assert cropped.shape == (1, 4, None, 5)


@pytest.mark.parametrize("cropping", [((3, 6), (0, 0)), ((0, 0), (5, 4))])
def test_cropping_2d_errors_if_cropping_more_than_available(cropping):
    with pytest.raises(ValueError):
        layers.Cropping2D(cropping=cropping)(layers.Input(batch_shape=(3, 7, 9, 5)))


@pytest.mark.parametrize(
    "cropping", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")]
)
def test_cropping_2d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError):
        layers.Cropping2D(cropping=cropping)


@pytest.mark.parametrize(
    "cropping", [((4, 5), (0, 0)), ((0, 0), (5, 5)), ((6, 3), (0, 0)), ((0, 0), (7, 3))]
)
def test_cropping_2d_error_on_excessive_cropping(cropping):
    x = np.random.default_rng(0).random((3, 8, 9, 5))
    with pytest.raises(
        ValueError,
        match="Values in `cropping` argument should be smaller than the corresponding "
        "spatial dimension of the input.",
    ):
        layers.Cropping2D(cropping=cropping)(x)


def test_flatten():
    x = np.random.default_rng(0).random((10, 3, 5, 5)).astype("float32")
    x = x * (x >= 0.8)
    run_layer_test(layers.Flatten, {}, input_data=x, expected_output=x.reshape(-1, 75))


def test_flatten_with_scalar_channels():
    x = np.random.default_rng(0).random((10,)).astype("float32")
    for kwargs in ({}, {"data_format": "channels_last"}):
        run_layer_test(layers.Flatten, kwargs, input_data=x, expected_output=x[:, None])


def test_flatten_symbolic_with_dynamic_batch_size():
    assert layers.Flatten()(layers.Input(batch_shape=(None, 2, 3))).shape == (None, 6)


def test_flatten_symbolic_with_dynamic_dimension():
    assert layers.Flatten()(layers.Input(batch_shape=(5, 2, None))).shape == (5, None)


def test_flatten_with_dynamic_batch_size_and_dynamic_dimensions():
    # Batches of another batch size and another (equally large) sample shape.
    def generator():
        yield (np.ones((3, 5, 7), dtype="float32"),)
        yield (np.ones((2, 7, 5), dtype="float32"),)

    assert Sequential([layers.Flatten()]).predict(generator(), verbose=0).shape == (5, 35)


def test_permute():
    x = np.random.default_rng(0).random((10, 3, 5, 5)).astype("float32")
    x = x * (x >= 0.8)
    run_layer_test(
        layers.Permute,
        {"dims": (3, 1, 2)},
        input_data=x,
        expected_output=np.transpose(x, (0, 3, 1, 2)),
    )


def test_permute_with_dynamic_batch_size():
    assert layers.Permute((2, 1))(layers.Input(batch_shape=(None, 3, 5))).shape == (None, 5, 3)


@pytest.mark.parametrize("dims", [(0, 1, 2), (1, 4, 2)])
def test_permute_errors_on_invalid_dims(dims):
    with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
        run_layer_test(layers.Permute, {"dims": dims}, input_shape=(3, 2, 4))


# reshape_test.py


@pytest.mark.parametrize(
    "target_shape, input_shape, output_shape",
    [
        ((8, 1), (3, 2, 4), (3, 8, 1)),
        ((8,), (3, 2, 4), (3, 8)),
        ((2, 4), (3, 8), (3, 2, 4)),
        ((-1, 1), (3, 2, 4), (3, 8, 1)),
        ((1, -1), (3, 2, 4), (3, 1, 8)),
        ((-1,), (3, 2, 4), (3, 8)),
        ((2, -1), (3, 2, 4), (3, 2, 4)),
    ],
)
def test_reshape(target_shape, input_shape, output_shape):
    run_layer_test(
        layers.Reshape,
        {"target_shape": target_shape},
        input_shape=input_shape,
        expected_output_shape=output_shape,
    )


def test_reshape_with_dynamic_batch_size():
    assert layers.Reshape((8,))(layers.Input(shape=(2, 4))).shape == (None, 8)


def test_reshape_rejects_invalid_target_shape():
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*target_shape=\(-2, 5\)"):
        layers.Reshape(target_shape=(-2, 5))
    with pytest.raises(
        ValueError, match=r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)"
    ):
        layers.Reshape(target_shape=(-1, -1, 5))


def test_reshape_with_dynamic_batch_size_and_minus_one():
    assert layers.Reshape((-1, 8))(layers.Input(batch_shape=(None, 6, 4))).shape == (None, 3, 8)


def test_reshape_layer_with_varying_input_size_and_minus_one():
    layer = layers.Reshape((-1, 8))
    assert layer(np.ones((1, 6, 4), "float32")).shape == (1, 3, 8)
    assert layer(np.ones((1, 10, 4), "float32")).shape == (1, 5, 8)


def test_reshape_with_dynamic_dim_and_minus_one():
    assert layers.Reshape((-1, 3))(layers.Input(batch_shape=(4, 6, None, 3))).shape == (
        4,
        None,
        3,
    )


def test_reshape_sets_static_shape():
    assert layers.Reshape((3, 5))(layers.Input(batch_shape=(2, None))).shape == (2, 3, 5)


def test_reshape_model_fit_with_varying_input_size_and_minus_one():
    def generator():
        yield np.ones((1, 12, 2), "float32"), np.zeros((1, 3, 8), "float32")
        yield np.ones((1, 20, 2), "float32"), np.zeros((1, 5, 8), "float32")

    model = Sequential([layers.Reshape((-1, 8))])
    model.compile(loss="mean_squared_error")
    model.fit(generator(), steps_per_epoch=2, epochs=1, verbose=0)
    for length, first in [(12, 3), (20, 5), (24, 6)]:
        x = np.random.default_rng(0).normal(size=(1, length, 2)).astype("float32")
        assert model(x).shape == (1, first, 8)


# up_sampling1d_test.py and up_sampling2d_test.py


def test_upsampling_1d():
    run_layer_test(
        layers.UpSampling1D,
        {"size": 2},
        input_shape=(3, 5, 4),
        expected_output_shape=(3, 10, 4),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


def test_upsampling_1d_correctness():
    expected = [
        [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]],
        [[6, 7, 8], [6, 7, 8], [9, 10, 11], [9, 10, 11]],
    ]
    y = layers.UpSampling1D(size=2)(np.arange(12).reshape((2, 2, 3)))
    np.testing.assert_array_equal(y, np.array(expected, np.float32))


def test_upsampling_1d_correctness_with_ones():
    np.testing.assert_array_equal(
        layers.UpSampling1D(size=3)(np.ones((2, 1, 5))), np.ones((2, 3, 5))
    )


def test_upsampling_1d_with_dynamic_batch_size():
    x = layers.Input(batch_shape=(None, 2, 3))
    assert layers.UpSampling1D(size=2)(x).shape == (None, 4, 3)
    assert layers.UpSampling1D(size=4)(x).shape == (None, 8, 3)


def test_upsampling_1d_with_dynamic_shape():
    y = layers.Input(batch_shape=(2, None, 3))
    assert layers.UpSampling1D(size=2)(y).shape == (2, None, 3)
    z = layers.Input(batch_shape=(2, 3, None))
    assert layers.UpSampling1D(size=2)(z).shape == (2, 6, None)
    assert layers.UpSampling1D(size=4)(z).shape == (2, 12, None)


def test_upsampling_1d_with_invalid_size():
    for size in (0, -2):
        with pytest.raises(ValueError, match="should be a positive integer"):
            layers.UpSampling1D(size=size)
    for size in (2.5, "2", True):
        with pytest.raises(TypeError, match="Expected an integer value for `size`"):
            layers.UpSampling1D(size=size)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("length_col", [2, 3])
def test_upsampling_2d(interpolation, length_col):
    # test_upsampling_2d and test_upsampling_2d_bilinear (channels_last).
    x = np.random.default_rng(0).random((2, 11, 12, 2))
    run_layer_test(
        layers.UpSampling2D, {"size": (2, 2), "interpolation": interpolation}, input_shape=x.shape
    )
    y = layers.UpSampling2D(size=(2, length_col), interpolation=interpolation)(x)
    assert y.shape[1:3] == (2 * 11, length_col * 12)
    if interpolation == "nearest":
        np.testing.assert_allclose(y, np.repeat(np.repeat(x, 2, 1), length_col, 2), rtol=1e-6)


def test_upsampling_2d_correctness():
    x = np.arange(12).reshape((2, 2, 1, 3))
    expected = [
        [[[0, 1, 2], [0, 1, 2]], [[3, 4, 5], [3, 4, 5]]],
        [[[6, 7, 8], [6, 7, 8]], [[9, 10, 11], [9, 10, 11]]],
    ]
    np.testing.assert_array_equal(layers.UpSampling2D(size=(1, 2))(x), expected)


def test_upsampling_2d_other_interpolations_are_refused():
    # test_upsampling_2d_various_interpolation_methods / ..._lanczos_...: Keras also runs
    # bicubic and lanczos3/5; minicnn has nearest and bilinear and says so.
    x = np.arange(12).reshape((2, 2, 1, 3))
    for interpolation in ["nearest", "bilinear"]:
        layers.UpSampling2D(size=(1, 2), interpolation=interpolation)(x)
    for interpolation in ["bicubic", "lanczos3", "lanczos5"]:
        with pytest.raises(ValueError, match="interpolation"):
            layers.UpSampling2D(size=(1, 2), interpolation=interpolation)


# zero_padding1d_test.py and zero_padding2d_test.py


def test_zero_padding_1d():
    x = np.random.default_rng(0).random((1, 2, 3))
    y = layers.ZeroPadding1D(padding=(1, 2), data_format="channels_last")(x)
    for index in [0, -1, -2]:
        np.testing.assert_array_equal(y[:, index, :], 0.0)
    np.testing.assert_allclose(y[:, 1:-2, :], x, rtol=1e-6)


@pytest.mark.parametrize("padding", [(2, 2), 2])
def test_zero_padding_1d_with_same_padding(padding):
    x = np.random.default_rng(0).random((1, 2, 3))
    y = layers.ZeroPadding1D(padding=padding, data_format="channels_last")(x)
    for index in [0, 1, -1, -2]:
        np.testing.assert_array_equal(y[:, index, :], 0.0)
    np.testing.assert_allclose(y[:, 2:-2, :], x, rtol=1e-6)


def test_zero_padding_1d_with_dynamic_spatial_dim():
    padded = layers.ZeroPadding1D((1, 2))(layers.Input(batch_shape=(1, None, 3)))
    assert padded.shape == (1, None, 3)
    assert layers.ZeroPadding1D((1, 2))(layers.Input(batch_shape=(1, 2, 3))).shape == (1, 5, 3)


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1"])
def test_zero_padding_1d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError):
        layers.ZeroPadding1D(padding)


def test_zero_padding_1d_get_config():
    layer = layers.ZeroPadding1D(padding=(1, 2), data_format="channels_last")
    assert layer.get_config() == {
        "dtype": POLICY,
        "data_format": "channels_last",
        "name": layer.name,
        "padding": (1, 2),
        "trainable": True,
    }


def test_zero_padding_2d():
    x = np.random.default_rng(0).random((1, 2, 3, 4))
    y = layers.ZeroPadding2D(padding=((1, 2), (3, 4)), data_format="channels_last")(x)
    for index in [0, -1, -2]:
        np.testing.assert_array_equal(y[:, index, :, :], 0.0)
    for index in [0, 1, 2, -1, -2, -3, -4]:
        np.testing.assert_array_equal(y[:, :, index, :], 0.0)
    np.testing.assert_allclose(y[:, 1:-2, 3:-4, :], x, rtol=1e-6)


@pytest.mark.parametrize("padding", [((2, 2), (2, 2)), (2, 2), 2])
def test_zero_padding_2d_with_same_padding(padding):
    x = np.random.default_rng(0).random((1, 2, 3, 4))
    y = layers.ZeroPadding2D(padding=padding, data_format="channels_last")(x)
    for index in [0, 1, -1, -2]:
        np.testing.assert_array_equal(y[:, index, :, :], 0.0)
        np.testing.assert_array_equal(y[:, :, index, :], 0.0)
    np.testing.assert_allclose(y[:, 2:-2, 2:-2, :], x, rtol=1e-6)


def test_zero_padding_2d_with_dynamic_spatial_dim():
    padded = layers.ZeroPadding2D(((1, 2), (3, 4)))(layers.Input(batch_shape=(1, 2, None, 4)))
    assert padded.shape == (1, 5, None, 4)


@pytest.mark.parametrize(
    "padding", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")]
)
def test_zero_padding_2d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError):
        layers.ZeroPadding2D(padding)


def test_zero_padding_2d_get_config():
    layer = layers.ZeroPadding2D(padding=(1, 2), data_format="channels_last")
    assert layer.get_config() == {
        "dtype": POLICY,
        "data_format": "channels_last",
        "name": layer.name,
        "padding": ((1, 1), (2, 2)),
        "trainable": True,
    }
