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
