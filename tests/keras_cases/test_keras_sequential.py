"""Keras 3's models/sequential_test.py, case for case on minicnn's Sequential: the same
models, shapes, counts and error phrases. A custom layer is written with minicnn's
``apply(weights, x, training=False, rng=None)`` where Keras's test writes ``call``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from minicnn import layers
from minicnn.layers import Input, KerasTensor
from minicnn.models import Model, Sequential

RNG = np.random.default_rng(0)


def check_dense_stack(model, batch=3):
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4
    assert model(RNG.random((batch, 2))).shape == (batch, 5)
    assert model(KerasTensor((batch, 2))).shape == (batch, 5)


def check_pop(model):
    model.pop()
    assert len(model.layers) == 1
    assert model.built
    assert len(model.weights) == 2
    assert model(RNG.random((3, 2))).shape == (3, 4)


def test_basic_flow_with_input(capsys):
    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.summary()
    assert 'Model: "seq"' in capsys.readouterr().out
    check_dense_stack(model)
    model = Sequential(layers=[Input(shape=(2,), batch_size=3), layers.Dense(4), layers.Dense(5)])
    check_dense_stack(model)
    check_pop(model)


def test_legacy_flow_with_input_shape():
    for first in (layers.Dense(4, input_shape=(2,)), layers.Dense(4, input_dim=2)):
        model = Sequential(name="seq")
        model.add(first)
        model.add(layers.Dense(5))
        check_dense_stack(model)
    # Subsequent input_shapes are ignored.
    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(5, input_shape=(3, 4)))
    check_dense_stack(model)


def test_basic_flow_deferred(capsys):
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.summary()
    assert "unbuilt" in capsys.readouterr().out
    assert len(model.layers) == 2
    y = model(RNG.random((3, 2)))
    assert model.built
    model.summary()
    assert "(None, 5)" in capsys.readouterr().out
    assert y.shape == (3, 5)
    assert model(KerasTensor((3, 2))).shape == (3, 5)
    model = Sequential(layers=[layers.Dense(4), layers.Dense(5)])
    assert model(RNG.random((3, 2))).shape == (3, 5)
    check_pop(model)


def check_model_first(model):
    model.summary()
    assert len(model.layers) == 3
    assert model.built
    assert all(layer.built for layer in model.layers)
    assert model(RNG.random((1, 16, 16, 3))).shape == (1, 1)
    assert model(KerasTensor((1, 16, 16, 3))).shape == (1, 1)


def test_basic_flow_with_functional_model_as_first_layer():
    inputs = Input((16, 16, 3))
    functional_model = Model(inputs=inputs, outputs=layers.Conv2D(4, 3, padding="same")(inputs))
    check_model_first(Sequential([functional_model, layers.Flatten(), layers.Dense(1)]))


def test_basic_flow_with_sequential_model_as_first_layer():
    sequential_model = Sequential([Input((16, 16, 3)), layers.Conv2D(4, 3, padding="same")])
    check_model_first(Sequential([sequential_model, layers.Flatten(), layers.Dense(1)]))


def test_nested_sequential():
    # keras-team/keras#20203: a Sequential holding only an Input nests in another.
    model = Sequential()
    model.add(Input(shape=(16,)))
    outer = Sequential([model])
    assert outer.layers == [model]


def test_errors():
    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(layers.InputLayer(shape=(2,), batch_size=3))

    model = Sequential()
    model.add(layers.Dense(2, name="dense"))
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(layers.Dense(2, name="dense"))

    with pytest.raises(ValueError, match="no layers"):
        Sequential()(RNG.random((3, 2)))

    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(2))
    with pytest.raises(ValueError, match="already been configured"):
        model.build((3, 4))
    model.build((3, 2))  # but this works


def revive(model):
    """Keras's run_class_serialization_test: the config round-trips through from_config
    and through serialize/deserialize."""
    config = model.get_config()
    revived = type(model).from_config(config)
    assert revived.get_config() == config
    again = layers.deserialize(layers.serialize(model))
    assert type(again) is type(model) and again.get_config() == config
    return revived


def test_serialization():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    assert len(revive(model).layers) == 2  # unbuilt deferred
    model.build((2, 3))
    assert len(revive(model).layers) == 2  # built deferred
    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    for units in (4, 5, 6):
        model.add(layers.Dense(units))
    revived = revive(model)
    assert len(revived.layers) == 3
    assert revived.input_shape == (3, 2)


def test_functional_properties():
    model = Sequential(name="seq")
    inputs = Input(shape=(2,))
    model.add(inputs)
    model.add(layers.Dense(4))
    assert model.inputs == [inputs]
    assert model.outputs == [model.layers[-1].output]
    assert model.input_shape == (None, 2)
    assert model.output_shape == (None, 4)


def test_training_arg():
    class CustomLayer(layers.Layer):
        def apply(self, weights, x, training=False, rng=None):
            return x * 0.0 if training else x

    model = Sequential([CustomLayer()])
    np.testing.assert_array_equal(model(np.ones((4, 20))), 1.0)
    np.testing.assert_array_equal(model(np.ones((4, 20)), training=False), 1.0)
    np.testing.assert_array_equal(model(np.ones((4, 20)), training=True), 0.0)


def test_pickleable():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    assert len(pickle.loads(pickle.dumps(model)).layers) == 1


def test_bad_layer():
    with pytest.raises(ValueError, match="Only instances of"):
        Sequential(name="seq").add({})

    # Keras refuses a call() whose training argument has no default when a Sequential
    # builds it; minicnn refuses such an apply() when the class is defined.
    with pytest.raises(ValueError, match="can only have a single required positional"):

        class BadLayer(layers.Layer):
            def apply(self, weights, x, training, rng=None):
                return x


def test_compute_output_shape():
    model = Sequential([layers.Dense(4), layers.Dense(8)])
    assert model.compute_output_shape((1, 2)) == (1, 8)


def test_layers_setter():
    with pytest.raises(AttributeError, match=r"Use `add\(\)` and `pop\(\)`"):
        Sequential().layers = [layers.Dense(4)]


def test_a_dict_for_a_model_without_named_inputs_says_so():
    # minicnn's own case: Keras's dict-by-name feeding needs Inputs to name.
    model = Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="no named Input to key a dict by"):
        model.predict({"a": np.ones((2, 3))}, verbose=0)
    model = Sequential([Input((3,), name="pixels"), layers.Dense(2)])
    assert model.predict({"pixels": np.ones((2, 3))}, verbose=0).shape == (2, 2)


def test_hasattr():
    # Keras's test_hasattr: an unbuilt Sequential has no input or output yet.
    model = Sequential(name="unbuilt")
    for attribute in ("input_shape", "output_shape", "inputs", "outputs"):
        assert not hasattr(model, attribute)
    with pytest.raises(
        AttributeError, match="Sequential model 'unbuilt' has no defined inputs yet"
    ):
        model.inputs  # noqa: B018
    model = Sequential([layers.Input((4,)), layers.Dense(8)])
    for attribute in ("input_shape", "output_shape", "inputs", "outputs"):
        assert hasattr(model, attribute)
    assert model.input_shape == (None, 4) and model.output_shape == (None, 8)


def test_an_input_alone_does_not_build():
    # As Keras's _maybe_rebuild: an Input with no layer after it builds nothing yet.
    model = Sequential([layers.Input((4,))])
    assert not model.built and not hasattr(model, "input_shape")
    model.add(layers.Dense(2))
    assert model.input_shape == (None, 4) and len(model.inputs) == 1


def test_get_config_is_keras_s_own():
    # Keras 3.15's Sequential([Dense(2, name="d2")], name="s2").get_config(), unbuilt: no
    # InputLayer, no build_input_shape, the layer without a build_config.
    policy = {
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "module": "keras",
        "registered_name": None,
    }

    def initializer(name, config):
        return {
            "class_name": name,
            "config": config,
            "module": "keras.initializers",
            "registered_name": None,
        }

    dense = {
        "activation": "linear",
        "bias_constraint": None,
        "bias_initializer": initializer("Zeros", {}),
        "bias_regularizer": None,
        "dtype": policy,
        "kernel_constraint": None,
        "kernel_initializer": initializer(
            "GlorotUniform", {"input_axes": None, "output_axes": None, "seed": None}
        ),
        "kernel_regularizer": None,
        "name": "d2",
        "quantization_config": None,
        "trainable": True,
        "units": 2,
        "use_bias": True,
    }
    want = {
        "dtype": policy,
        "layers": [
            {
                "class_name": "Dense",
                "config": dense,
                "module": "keras.layers",
                "registered_name": None,
            }
        ],
        "name": "s2",
        "trainable": True,
    }
    model = Sequential([layers.Dense(2, name="d2")], name="s2")
    assert model.get_config() == want
    copy = Sequential.from_config(want)  # Keras's form read back
    assert not copy.built and copy.get_config() == want
    # minicnn's plain form (older .minicnn files) is still read.
    assert Sequential.from_config(model.plain_config()).get_config() == want


def test_build_with_a_bad_batch_size_changes_nothing():
    # Found by the fuzz tests' explore profile: the Input (which refuses a batch of 0)
    # was made after the layers were built, so the error left the model built.
    model = Sequential([layers.Conv1D(2, 3, name="c"), layers.Flatten(name="f")])
    with pytest.raises(ValueError, match=r"batch_input_shape\[0\]` must be an integer >= 1"):
        model.build([0, 3, 1])
    assert not model.built and not model.layers[0].built
    model.build((None, 3, 1))
    assert model.input_shape == (None, 3, 1) and model.output_shape == (None, 2)
