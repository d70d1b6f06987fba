"""Keras 3's layers/core/dense_test.py on minicnn's Dense: the cases that do not quantize,
use LoRA, sparse inputs, regularizers or constraints (all out of scope; regularizers and
constraints are refused with a clear error)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import layers
from minicnn.layers import KerasTensor

KERNEL = np.array([[1.0, -2.0], [3.0, -4.0]])
X = np.array([[-1.0, 2.0]])


def test_dense_basics():
    run_layer_test(
        layers.Dense,
        {
            "units": 4,
            "activation": "relu",
            "kernel_initializer": "random_uniform",
            "bias_initializer": "ones",
            "use_bias": False,
        },
        input_shape=(2, 3),
        expected_output_shape=(2, 4),
        expected_num_trainable_weights=1,
        expected_num_non_trainable_weights=0,
    )
    # Keras's second case adds kernel_regularizer="l2" and bias_regularizer="l2".
    run_layer_test(
        layers.Dense,
        {"units": 5, "activation": "sigmoid"},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 5),
        expected_num_trainable_weights=2,
        expected_num_non_trainable_weights=0,
    )
    with pytest.raises(ValueError, match="kernel_regularizer"):
        layers.Dense(5, kernel_regularizer="l2")


@pytest.mark.parametrize("units", [0, -3, 2.5, None, "64"])
def test_dense_invalid_units_raises(units):
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(units)


def built(**kwargs):
    layer = layers.Dense(units=2, **kwargs)
    layer.build((1, 2))
    return layer


def test_dense_correctness():
    layer = built(activation="relu")
    layer.set_weights([KERNEL, np.array([5.0, -6.0])])
    np.testing.assert_allclose(layer(X), [[10.0, 0.0]])
    layer = built(use_bias=False)
    layer.set_weights([KERNEL])
    assert layer.bias is None
    np.testing.assert_allclose(layer(X), [[5.0, -6.0]])


def test_dense_errors():
    layer = layers.Dense(units=2, activation="relu")
    layer(KerasTensor((1, 2)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(KerasTensor((1, 3)))


@pytest.mark.parametrize("activation", [None, "unset", "relu"])
def test_dense_activation_none_unset_and_relu(activation):
    # test_dense_no_activation, test_dense_without_activation_set, test_dense_with_activation
    layer = built(use_bias=False, **({} if activation == "unset" else {"activation": activation}))
    layer.set_weights([KERNEL])
    if activation == "unset":
        layer.activation = None
    assert layer.bias is None
    expected = [[5.0, 0.0]] if activation == "relu" else [[5.0, -6.0]]
    np.testing.assert_allclose(layer(X), expected)


def test_dense_constraints_are_refused():
    for kwargs in ({"kernel_constraint": "non_neg"}, {"bias_constraint": "non_neg"}):
        with pytest.raises(ValueError, match="constraint"):
            layers.Dense(units=2, **kwargs)
