"""Keras 3's initializers/constant_initializers_test.py and random_initializers_test.py
for the initializers minicnn has, case for case: shapes, values, statistics, seeds,
configs and errors. Identity, Orthogonal, STFT and SeedGenerator seeds are not in
minicnn; initializer_test.py is about distribution layouts (out of scope)."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import initializers


def round_trip(initializer):
    config = initializer.get_config()
    revived = type(initializer).from_config(config)
    assert revived.get_config() == config
    assert initializers.deserialize(initializers.serialize(initializer)).get_config() == config


@pytest.mark.parametrize(
    "initializer, expected",
    [
        (initializers.Zeros(), np.zeros((3, 3))),
        (initializers.Ones(), np.ones((3, 3))),
        (initializers.Constant(value=6.0), np.full((3, 3), 6.0)),
    ],
)
def test_constant_initializers(initializer, expected):
    values = initializer(shape=(3, 3))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, expected)
    round_trip(initializer)


def test_constant_initializer_array_value():
    value = np.random.default_rng(0).random((3, 3))
    initializer = initializers.Constant(value=value)
    np.testing.assert_allclose(initializer(shape=(3, 3)), value, rtol=1e-6)
    round_trip(initializer)
    with pytest.raises(ValueError, match="cannot fill a weight of shape"):
        initializer(shape=(2, 2))


def test_random_normal():
    initializer = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1234)
    values = initializer(shape=(25, 20))
    assert (initializer.mean, initializer.stddev, initializer.seed) == (0.0, 1.0, 1234)
    assert values.shape == (25, 20)
    assert abs(np.std(values) - 1.0) <= 0.1
    round_trip(initializer)
    # An integer seed gives the same values at every call, as Keras.
    again = initializers.RandomNormal(mean=0.0, stddev=1.0, seed=1337)
    np.testing.assert_array_equal(again(shape=(25, 20)), again(shape=(25, 20)))
    # Unseeded: a clone from the config draws anew; seeded: the same values.
    unseeded = initializers.RandomNormal(seed=None)
    clone = initializers.RandomNormal.from_config(unseeded.get_config())
    assert not np.allclose(unseeded(shape=(25, 20)), clone(shape=(25, 20)))
    clone = initializers.RandomNormal.from_config(again.get_config())
    np.testing.assert_array_equal(clone(shape=(25, 20)), again(shape=(25, 20)))


def test_random_uniform():
    initializer = initializers.RandomUniform(minval=-1.0, maxval=1.0, seed=1234)
    values = initializer(shape=(5, 5))
    assert (initializer.minval, initializer.maxval, initializer.seed) == (-1.0, 1.0, 1234)
    assert values.shape == (5, 5) and values.min() >= -1.0 and values.max() < 1.0
    round_trip(initializer)


@pytest.mark.parametrize("mode, fan", [("fan_in", 25), ("fan_out", 20)])
def test_variance_scaling(mode, fan):
    initializer = initializers.VarianceScaling(scale=2.0, seed=1234, mode=mode)
    values = initializer(shape=(25, 20))
    assert (initializer.scale, initializer.seed) == (2.0, 1234)
    assert values.shape == (25, 20)
    assert abs(np.std(values) - np.sqrt(2.0 / fan)) <= 0.1
    round_trip(initializer)


def test_get_method():
    assert isinstance(initializers.get("glorot_normal"), initializers.GlorotNormal)
    assert initializers.get(None) is None
    with pytest.raises(ValueError):
        initializers.get("typo")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": -1.0, "mode": "fan_in"}, "Argument `scale` must be positive float."),
        ({"scale": 2.0, "mode": "invalid_mode"}, "Invalid `mode` argument:"),
        (
            {"scale": 2.0, "mode": "fan_in", "distribution": "invalid_dist"},
            "Invalid `distribution` argument:",
        ),
    ],
)
def test_variance_scaling_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        initializers.VarianceScaling(seed=1234, **kwargs)


def test_get_method_with_tensor():
    tensor = np.random.default_rng(0).uniform(size=(5, 5)).astype("float32")
    initializer = initializers.get(tensor)
    np.testing.assert_array_equal(initializer(shape=(5, 5)), tensor)
    with pytest.raises(ValueError, match=r"Expected `shape` to be"):
        initializer(shape=(10, 10))


def test_compute_fans_with_axes():
    shape = (512, 8, 64)
    assert initializers.compute_fans(shape, input_axes=[0], output_axes=[1, 2]) == (512, 512)
    assert initializers.compute_fans(shape, input_axes=[0, 1], output_axes=[2]) == (512 * 8, 64)


def test_variance_scaling_with_axes():
    shape = (32, 4, 16)
    initializer = initializers.VarianceScaling(
        scale=2.0, seed=1234, mode="fan_in", input_axes=[0], output_axes=[1, 2]
    )
    values = initializer(shape=shape)
    assert values.shape == shape
    assert abs(np.std(values) - np.sqrt(2.0 / 32)) <= 0.1
    values = initializers.VarianceScaling(scale=2.0, seed=1234, mode="fan_in")(shape=shape)
    assert abs(np.std(values) - np.sqrt(2.0 / 128)) <= 0.1
    with pytest.raises(ValueError, match="do not fit a weight of shape"):
        initializers.VarianceScaling(input_axes=[3], output_axes=[0])(shape=shape)


def test_variance_scaling_serialization_with_axes():
    round_trip(initializers.VarianceScaling(input_axes=[0], output_axes=[1, 2]))
    round_trip(initializers.GlorotUniform(input_axes=[0], output_axes=[1, 2]))
