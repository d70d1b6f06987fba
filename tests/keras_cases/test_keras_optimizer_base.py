"""Keras 3's optimizers/optimizer_test.py on minicnn's optimizer base: the same variables,
gradients and expected values. Variables are float32 numpy arrays, updated in place by
apply_gradients. Cases about classes minicnn does not have (AdamW, Adagrad, ...) keep the
parts about the ones it has."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from minicnn import optimizers


def var(values):
    return np.array(values, dtype=np.float32)


ONES = var([[1.0, 1.0], [1.0, 1.0]])


def test_iterations_counter():
    v = var([[1.0, 2.0], [3.0, 4.0]])
    optimizer = optimizers.Adam(learning_rate=1.0)
    assert optimizer.iterations == 0
    optimizer.apply_gradients([(ONES, v)])
    assert optimizer.iterations == 1
    optimizer.apply_gradients([(ONES, v)])
    assert optimizer.iterations == 2


def test_empty_gradients():
    v = var([[3.0, 4.0], [5.0, 6.0]])
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        optimizers.SGD(learning_rate=1.0).apply_gradients([(None, v)])
    v2 = var([[3.0, 4.0], [5.0, 6.0]])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        optimizers.SGD(learning_rate=1.0).apply_gradients([(None, v), (ONES, v2)])
    np.testing.assert_array_equal(v, [[3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(v2, [[2.0, 3.0], [4.0, 5.0]])


def test_clip_args():
    assert optimizers.SGD(learning_rate=1.0, clipnorm=0.1).clipnorm == 0.1
    assert optimizers.SGD(learning_rate=1.0, clipvalue=0.1).clipvalue == 0.1
    assert optimizers.SGD(learning_rate=1.0, global_clipnorm=0.1).global_clipnorm == 0.1
    message = "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can"
    for two in ({"clipnorm": 0.1, "clipvalue": 0.1}, {"clipnorm": 0.1, "global_clipnorm": 0.1}):
        with pytest.raises(ValueError, match=message):
            optimizers.SGD(learning_rate=1.0, **two)


def test_clip_norm_value_and_global_norm():
    grad = var([100.0, 100.0])
    clipped = optimizers.SGD(clipnorm=1)._clip_gradients([grad])[0]
    np.testing.assert_allclose(clipped, [2**0.5 / 2, 2**0.5 / 2], rtol=1e-6)
    np.testing.assert_allclose(optimizers.SGD(clipvalue=1)._clip_gradients([grad])[0], [1, 1])
    grad = var([50.0, 100.0])
    clipped = optimizers.SGD(global_clipnorm=1)._clip_gradients([grad])[0]
    np.testing.assert_allclose(clipped, grad / np.linalg.norm(grad), rtol=1e-6)


def test_get_method():
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert optimizers.get(None) is None
    with pytest.raises(ValueError):
        optimizers.get("typo")


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_pickleable_optimizers(name):
    optimizer = optimizers.get(name)
    assert pickle.loads(pickle.dumps(optimizer)).get_config() == optimizer.get_config()


def test_optimizer_auto_naming():
    # conftest.py clears the session before each test, as Keras's TestCase does.
    adam_1, adam_2 = optimizers.Adam(), optimizers.Adam()
    sgd_1, sgd_2 = optimizers.SGD(), optimizers.SGD()
    assert [adam_1.name, adam_2.name, sgd_1.name, sgd_2.name] == ["adam", "adam_1", "sgd", "sgd_1"]


def test_set_weights():
    x = var([[1.0, 2.0], [3.0, 4.0]])
    optimizer_1 = optimizers.Adam()
    optimizer_1.apply_gradients(zip([var([[1.0, 2.0], [3.0, 4.0]])], [x]))
    optimizer_2 = optimizers.Adam()
    with pytest.raises(ValueError, match="You are calling"):
        optimizer_2.set_weights(optimizer_1.variables)
    optimizer_2.build([x])
    optimizer_2.set_weights(optimizer_1.variables)
    for a, b in zip(optimizer_1.variables, optimizer_2.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    # Keras's variables: the iteration, the learning rate, then m and v side by side.
    assert len(optimizer_2.variables) == 4 and optimizer_2.variables[0] == 1


def test_sgd_variables_are_iteration_and_learning_rate():
    # sgd_test.py test_single_step's counts: plain SGD keeps no slots.
    optimizer = optimizers.SGD(learning_rate=0.5)
    assert len(optimizer.variables) == 2
    v = var([1.0, 2.0, 3.0, 4.0])
    optimizer.build([v])
    optimizer.apply_gradients(zip([var([1.0, 6.0, 7.0, 2.0])], [v]))
    np.testing.assert_allclose(v, [0.5, -1.0, -0.5, 3.0], rtol=1e-4, atol=1e-4)
    assert len(optimizer.variables) == 2
    assert optimizer.variables[0] == 1 and optimizer.variables[1] == 0.5


def test_callable_learning_rate():
    v = var([[1.0, 2.0], [3.0, 4.0]])
    optimizer = optimizers.SGD(learning_rate=lambda: 0.1)
    assert optimizer.iterations == 0
    optimizer.apply_gradients([(ONES, v)])
    np.testing.assert_allclose(v, [[0.9, 1.9], [2.9, 3.9]], rtol=1e-6)
    assert optimizer.iterations == 1
    # As Keras's, a callable rate keeps no variable; it cannot go into a config.
    assert len(optimizer.variables) == 1
    with pytest.raises(TypeError, match="callable learning rate cannot be written"):
        optimizer.get_config()
    optimizer.learning_rate = 0.5
    assert len(optimizer.variables) == 2 and optimizer.get_config()["learning_rate"] == 0.5
