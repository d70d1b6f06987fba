"""Keras 3's layers/activations tests (activation_test.py, elu_test.py, leaky_relu_test.py,
prelu_test.py, relu_test.py, softmax_test.py), case for case on minicnn: the same inputs,
expected values and error phrases. Masking cases, and PReLU's regularizer and constraint,
are out of scope (refused with a clear error)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import activations, layers


def test_activation_basics():
    for activation, shape in (("relu", (2, 3)), (activations.gelu, (2, 2))):
        run_layer_test(
            layers.Activation,
            {"activation": activation},
            input_shape=shape,
            expected_output_shape=shape,
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=0,
            assert_built_after_instantiation=True,
        )


def test_elu_config():
    layer = layers.ELU()
    assert layers.deserialize(layers.serialize(layer)).get_config() == layer.get_config()


def test_elu():
    run_layer_test(layers.ELU, {}, input_shape=(2, 3, 4), assert_built_after_instantiation=True)


def test_elu_correctness():
    def np_elu(x, alpha=1.0):
        return (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1)

    x = np.random.default_rng(0).random((2, 2, 5)) - 0.5
    np.testing.assert_allclose(layers.ELU()(x), np_elu(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layers.ELU(alpha=0.7)(x), np_elu(x, 0.7), rtol=1e-6, atol=1e-7)


def test_leaky_relu():
    run_layer_test(
        layers.LeakyReLU,
        {"negative_slope": 1},
        input_shape=(2, 3, 4),
        assert_built_after_instantiation=True,
    )


def test_leaky_relu_correctness():
    y = layers.LeakyReLU(negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10]))
    np.testing.assert_array_equal(y, [-5.0, -2.5, 0.0, 5.0, 10.0])


def test_leaky_relu_invalid_usage():
    with pytest.raises(
        ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"
    ):
        run_layer_test(layers.LeakyReLU, {"negative_slope": None}, input_shape=(2, 3, 4))


def test_prelu():
    # Keras also passes alpha_regularizer="L1" and alpha_constraint="MaxNorm": out of scope.
    run_layer_test(
        layers.PReLU, {"alpha_initializer": "zeros", "shared_axes": 1}, input_shape=(2, 3, 4)
    )
    for kwargs in ({"alpha_regularizer": "L1"}, {"alpha_constraint": "MaxNorm"}):
        with pytest.raises(ValueError, match="not supported by minicnn"):
            layers.PReLU(**kwargs)


def test_prelu_correctness():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 10, 5, 3))
    layer = layers.PReLU(alpha_initializer="glorot_uniform", shared_axes=(1, 2))
    layer.build(x.shape)
    alpha = rng.random((1, 1, 3))
    layer.set_weights([alpha])
    expected = (x > 0) * x + (x <= 0) * alpha * x
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6, atol=1e-7)


def test_relu():
    run_layer_test(
        layers.ReLU,
        {"max_value": 10, "negative_slope": 1, "threshold": 0.5},
        input_shape=(2, 3, 4),
        assert_built_after_instantiation=True,
    )


@pytest.mark.parametrize(
    "kwargs, x, expected",
    [
        # test_normal_relu_correctness, test_leaky_relu_correctness,
        # test_threshold_relu_correctness
        (
            {"max_value": 10, "negative_slope": 0.0, "threshold": 0},
            [-10, -5, 0.0, 5, 10],
            [0.0, 0.0, 0.0, 5.0, 10.0],
        ),
        (
            {"max_value": 10, "negative_slope": 0.5, "threshold": 0},
            [-10, -5, 0.0, 5, 10],
            [-5.0, -2.5, 0.0, 5.0, 10.0],
        ),
        (
            {"max_value": 8, "negative_slope": 0.0, "threshold": 5},
            [6.0, 7.0, 0.0, 5, 10],
            [6.0, 7.0, 0.0, 0.0, 8.0],
        ),
        # test_default_relu_no_args, test_relu_none_max_value_is_unlimited
        ({}, [-3.0, -1.0, 0.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 3.0]),
        ({"max_value": None}, [0.0, 100.0, 1000.0, 99999.0], [0.0, 100.0, 1000.0, 99999.0]),
    ],
)
def test_relu_correctness(kwargs, x, expected):
    np.testing.assert_array_equal(layers.ReLU(**kwargs)(np.array(x)), expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"max_value": -10, "negative_slope": 1, "threshold": 0.5},
            "max_value of a ReLU layer cannot be a negative value",
        ),
        (
            {"max_value": 10, "negative_slope": -10, "threshold": 0.5},
            "negative_slope of a ReLU layer cannot be None or a negative value",
        ),
        (
            {"max_value": 10, "negative_slope": 1, "threshold": -10},
            "threshold of a ReLU layer cannot be None or a negative value",
        ),
        # test_negative_slope_none_raises, test_threshold_none_raises
        ({"negative_slope": None}, "negative_slope of a ReLU layer cannot be None or a negative"),
        ({"threshold": None}, "threshold of a ReLU layer cannot be None or a negative value"),
    ],
)
def test_relu_invalid_usage(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_layer_test(layers.ReLU, kwargs, input_shape=(2, 3, 4))


def test_relu_get_config_and_from_config():
    layer = layers.ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (5.0, 0.2, 1.0)
    default = layers.ReLU().get_config()
    assert default["max_value"] is None
    assert (default["negative_slope"], default["threshold"]) == (0.0, 0.0)
    restored = layers.ReLU.from_config(config)
    assert (restored.max_value, restored.negative_slope, restored.threshold) == (5.0, 0.2, 1.0)


def test_relu_compute_output_shape():
    for shape in ((2, 3), (4, 5, 6), (1,)):
        assert layers.ReLU().compute_output_shape(shape) == shape


def test_relu_all_zeros_and_multidimensional_input():
    np.testing.assert_array_equal(layers.ReLU()(np.zeros((3, 4))), np.zeros((3, 4)))
    y = layers.ReLU()(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    np.testing.assert_array_equal(y, [[0.0, 2.0], [3.0, 0.0]])
    np.testing.assert_array_equal(layers.ReLU()(-np.ones((2, 3, 4))), np.zeros((2, 3, 4)))


def test_softmax():
    run_layer_test(layers.Softmax, {}, input_shape=(2, 3, 4), assert_built_after_instantiation=True)


@pytest.mark.parametrize("axis", [-1, 1])
def test_softmax_correctness(axis):
    # test_softmax_correctness and test_softmax_correctness_with_axis.
    y = layers.Softmax(axis=axis)(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]))
    expected = [[0.21194157, 0.5761169, 0.21194157]] * 2
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_softmax_over_two_axes():
    # The masking case's axis=(1, 0), without its mask: one softmax over all six values.
    y = layers.Softmax(axis=(1, 0))(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]))
    e = np.exp([1.0, 2.0, 1.0])
    np.testing.assert_allclose(y, np.tile(e / (2 * e.sum()), (2, 1)), rtol=1e-6)
