"""Keras 3's layers/core/input_layer_test.py and layers/normalization/
batch_normalization_test.py, case for case on minicnn. Sparse and ragged inputs, masking,
mixed precision, regularizers and BatchNormalization's renorm are out of scope (each
refused with a clear error)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import initializers, layers
from minicnn.layers import InputLayer, KerasTensor


def test_input_basic():
    values = InputLayer(shape=(2, 3), batch_size=4, dtype="float32", sparse=False, ragged=False)
    assert values.dtype == "float32"
    assert values.batch_shape[0] == 4 and values.batch_shape[1:] == (2, 3)
    assert values.sparse is False and values.ragged is False and values.trainable is True
    assert isinstance(values.output, KerasTensor)
    assert values.output.ndim == 3 and values.output.dtype == "float32"
    # Keras's sparse and ragged cases: refused, this backend having neither.
    for option in ("sparse", "ragged"):
        with pytest.raises(ValueError, match=f"`{option}` inputs are not supported"):
            InputLayer(shape=(2, 3), **{option: True})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shape": (2, 3), "batch_shape": (2, 3)}, "cannot pass both `shape` and `batch_shape`"),
        (
            {"batch_size": 4, "batch_shape": (2, 3)},
            "cannot pass both `batch_size` and `batch_shape`",
        ),
        ({"shape": None, "batch_shape": None}, "pass a `shape` argument."),
        (
            {"shape": (2, 3), "batch_size": 4, "input_tensor": np.zeros((2, 3))},
            "Argument `input_tensor` must be a KerasTensor",
        ),
    ],
)
def test_input_errors(kwargs, message):
    # test_input_error1, _error2, _error3 and test_input_tensor_error.
    with pytest.raises(ValueError, match=message):
        InputLayer(**kwargs)


def test_input_tensor():
    tensor = KerasTensor(shape=(2, 3), dtype="float32")
    layer = InputLayer(input_tensor=tensor)
    assert layer.dtype == "float32" and layer.batch_shape == (2, 3) and layer.trainable
    assert layer.output is tensor and layer.output.ndim == 2


def test_input_shape_deprecated():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = InputLayer(input_shape=(2, 3), batch_size=4, dtype="float32")
    assert any(
        "Argument `input_shape` is deprecated. Use `shape` instead." in str(w.message)
        for w in caught
    )
    assert layer.batch_shape == (4, 2, 3) and layer.dtype == "float32"
    assert isinstance(layer.output, KerasTensor)


def test_call_method_and_numpy_shape():
    assert InputLayer(shape=(32,)).call() is None
    assert InputLayer(shape=(np.int64(32),)).output.shape == (None, 32)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"shape": (2, 4)}, "shape"),
        ({"batch_shape": (2, 4)}, "batch_shape"),
        ({"batch_size": 5}, "batch_size"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_invalid_arg_combinations(kwargs, name):
    tensor = KerasTensor(shape=(2, 3), dtype="float32")
    with pytest.raises(ValueError, match=f"cannot provide an incompatible `{name}`"):
        InputLayer(input_tensor=tensor, **kwargs)
    InputLayer(shape=(3,), batch_size=2, sparse=False, dtype="float32", input_tensor=tensor)


@pytest.mark.parametrize(
    "kwargs, trainable",
    [({"center": True, "scale": True}, 2), ({"center": False, "scale": False}, 0)],
)
def test_bn_basics(kwargs, trainable):
    run_layer_test(
        layers.BatchNormalization,
        kwargs,
        call_kwargs={"training": True},
        input_shape=(2, 3),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=2,
    )
    # Keras's third case adds beta/gamma regularizers: refused, regularizers being out of scope.
    with pytest.raises(ValueError, match="regularizer"):
        layers.BatchNormalization(beta_regularizer="l2", gamma_regularizer="l2")


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("input_shape", [(5, 2, 3), (5, 3, 3, 2)])
@pytest.mark.parametrize("mean_init", ["zeros", "ones"])
@pytest.mark.parametrize("variance_init", ["zeros", "ones"])
def test_bn_correctness(axis, input_shape, mean_init, variance_init):
    layer = layers.BatchNormalization(
        axis=axis,
        momentum=0,
        moving_mean_initializer=mean_init,
        moving_variance_initializer=variance_init,
    )
    x = np.random.default_rng(0).normal(loc=5.0, scale=10.0, size=input_shape)
    out = x
    for _ in range(3):
        out = layer(out, training=True)
    shape = [1] * len(input_shape)
    shape[axis] = input_shape[axis]
    out = (out - layer.beta.reshape(shape)) / layer.gamma.reshape(shape)
    axes = tuple(a for a in range(len(input_shape)) if a != axis % len(input_shape))
    np.testing.assert_allclose(np.mean(out, axis=axes), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=axes), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_mean, 0.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_variance, 1.0, atol=1e-3)
    inference, training = layer(x, training=False), layer(x, training=True)
    assert not np.allclose(inference, training)


def test_bn_trainable_behavior():
    layer = layers.BatchNormalization(axis=-1, momentum=0.8, epsilon=1e-7)
    layer.build((1, 4, 4, 3))
    layer.trainable = False
    assert (len(layer.weights), len(layer.trainable_weights)) == (4, 0)
    assert len(layer.non_trainable_weights) == 4
    x = np.random.default_rng(0).normal(loc=5.0, scale=10.0, size=(200, 4, 4, 3))
    # Not trainable: inference mode even when called in training, with the initial moving
    # statistics (0 and 1), so out = x / sqrt(1 + epsilon).
    np.testing.assert_allclose(layer(x, training=True), x, rtol=1e-5)
    layer.trainable = True
    assert (len(layer.weights), len(layer.trainable_weights)) == (4, 2)
    assert len(layer.non_trainable_weights) == 2
    for _ in range(10):
        out = layer(x, training=True)
    out = (out - layer.beta.reshape(1, 1, 1, 3)) / layer.gamma.reshape(1, 1, 1, 3)
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_bn_renorm_is_refused():
    # test_renorm_*: renorm is out of scope; minicnn says so instead of ignoring it.
    for kwargs in (
        {"renorm": True},
        {"renorm": True, "renorm_clipping": {"rmax": 3.0}},
        {"renorm": True, "moving_variance_initializer": initializers.Constant(4.0)},
    ):
        with pytest.raises(ValueError, match="renorm"):
            layers.BatchNormalization(**kwargs)
