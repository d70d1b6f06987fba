"""Keras 3's models/functional_test.py, case for case on minicnn's functional Model. Keras's
tests mix ops into graphs (``input_a + input_b``, ``x * 2``); minicnn's graphs are made
of layers, so the same graphs are written with ``Add``/``Rescaling`` where that keeps the
case's point (the structure of inputs and outputs)."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import layers
from minicnn.layers import Input, KerasTensor
from minicnn.models import Model, load_model, model_from_json

RNG = np.random.default_rng(0)


def two_inputs(names=("input_a", "input_b"), shape=(3,)):
    return [Input(shape=shape, batch_size=2, name=n) for n in names]


def test_basic_flow_multi_input(capsys):
    input_a, input_b = two_inputs()
    x = layers.Add()([input_a, input_b])
    outputs = layers.Dense(4)(layers.Dense(5)(x))
    model = Model([input_a, input_b], outputs, name="basic")
    model.summary()
    assert 'Model: "basic"' in capsys.readouterr().out
    assert model.name == "basic" and isinstance(model, Model)
    assert model([RNG.random((2, 3)), RNG.random((2, 3))]).shape == (2, 4)
    assert model(two_inputs(("input_a_2", "input_b_2"))).shape == (2, 4)


def test_mutable_state():
    inputs = Input(shape=(3,), batch_size=2, name="input")
    model = Model(inputs, layers.Dense(5)(layers.Dense(5)(inputs)))
    model.extra_layer = layers.Dense(5)  # state that is not part of the graph
    assert isinstance(model.extra_layer, layers.Dense)


def test_basic_flow_multi_output():
    inputs = Input(shape=(3,), batch_size=2, name="input")
    x = layers.Dense(5)(inputs)
    model = Model(inputs, [layers.Dense(4)(x), layers.Dense(5)(x)])
    for out in (model(RNG.random((2, 3))), model(Input(shape=(3,), batch_size=2))):
        assert isinstance(out, list) and len(out) == 2
        assert out[0].shape == (2, 4) and out[1].shape == (2, 5)


def test_basic_flow_dict_io():
    input_a, input_b = two_inputs(("a", "b"))
    outputs = layers.Dense(4)(layers.Dense(5)(layers.Add()([input_a, input_b])))
    with pytest.raises(ValueError, match="All `inputs` values must be KerasTensors"):
        Model({"a": "input_a", "b": input_b}, outputs)
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        Model({"a": input_a, "b": input_b}, "outputs")
    model = Model({"a": input_a, "b": input_b}, outputs)
    assert model({"a": RNG.random((2, 3)), "b": RNG.random((2, 3))}).shape == (2, 4)
    a2, b2 = two_inputs(("a2", "b2"))
    assert model({"a": a2, "b": b2}).shape == (2, 4)


def test_named_input_dict_io():
    input_a = Input(shape=(3,), batch_size=2, name="a")
    model = Model(input_a, layers.Dense(4)(layers.Dense(5)(input_a)))
    assert model({"a": RNG.random((2, 3))}).shape == (2, 4)
    assert model({"a": Input(shape=(3,), batch_size=2)}).shape == (2, 4)

    input_a = Input(shape=(3,), batch_size=2, name="a")
    input_b = Input(shape=(4,), batch_size=2, name="b")
    x = layers.Concatenate()([layers.Dense(5)(input_a), layers.Dense(5)(input_b)])
    outputs = layers.Dense(4)(x)
    data = {"a": RNG.random((2, 3)), "b": RNG.random((2, 4))}
    for inputs in ([input_a, input_b], {"a": input_a, "b": input_b}):
        model = Model(inputs, outputs)
        assert model(data).shape == (2, 4)
        symbolic = {"a": Input(shape=(3,), batch_size=2), "b": Input(shape=(4,), batch_size=2)}
        assert model(symbolic).shape == (2, 4)
    model = Model({"c": input_a, "d": input_b}, outputs)
    assert model({"c": data["a"], "d": data["b"]}).shape == (2, 4)
    with pytest.raises(ValueError):  # the dict's own keys now, not the inputs' names
        model(data)


@pytest.mark.parametrize("out_type", [list, tuple, dict])
def test_restored_multi_output_type(out_type):
    inputs = Input(shape=(3,), batch_size=2, name="input")
    x = layers.Dense(5)(inputs)
    output_a, output_b = layers.Dense(4)(x), layers.Dense(5)(x)
    if out_type is dict:
        outputs = {"a": output_a, "b": output_b}
    else:
        outputs = out_type([output_a, output_b])
    restored = Model.from_config(Model(inputs, outputs).get_config())
    assert isinstance(restored(RNG.random((2, 3))), out_type)
    assert isinstance(restored(Input(shape=(3,), batch_size=2)), out_type)


def test_functional_input_shape_and_type():
    inputs = layers.Input((1024, 4))
    model = Model(inputs, layers.Conv1D(32, 3)(inputs))
    assert isinstance(model.input, KerasTensor)
    assert model.input_shape == (None, 1024, 4)


def test_layer_getters():
    input_a, input_b = two_inputs()
    x = layers.Dense(5, name="dense_1")(layers.Add(name="add")([input_a, input_b]))
    model = Model([input_a, input_b], layers.Dense(4, name="dense_2")(x))
    # Keras's graph has an add op between the inputs; here it is an Add layer.
    assert [layer.name for layer in model.layers] == [
        "input_a",
        "input_b",
        "add",
        "dense_1",
        "dense_2",
    ]
    assert model.get_layer(index=0).name == "input_a"
    assert model.get_layer(index=1).name == "input_b"
    assert model.get_layer(index=3).name == "dense_1"
    assert model.get_layer(name="dense_1").name == "dense_1"


def test_training_arg():
    class CustomLayer(layers.Layer):
        def apply(self, weights, x, training=False, rng=None):
            return x * 0.0 if training else x

    inputs = layers.Input((20,))
    model = Model(inputs=inputs, outputs=CustomLayer()(inputs))
    np.testing.assert_array_equal(model(np.ones((4, 20))), 1.0)
    np.testing.assert_array_equal(model(np.ones((4, 20)), training=False), 1.0)
    np.testing.assert_array_equal(model(np.ones((4, 20)), training=True), 0.0)
    # training=True given at the call holds whatever the model is run with.
    inputs = layers.Input((20,))
    model = Model(inputs=inputs, outputs=CustomLayer()(inputs, training=True))
    for training in (None, False, True):
        np.testing.assert_array_equal(model(np.ones((4, 20)), training=training), 0.0)
    np.testing.assert_array_equal(model.predict(np.ones((4, 20)), verbose=0), 0.0)
    # ... and survives the config, as Keras's inbound node kwargs {"training": true}.
    inputs = layers.Input((20,))
    model = Model(inputs=inputs, outputs=layers.Dropout(0.5)(inputs, training=True))
    config = model.get_config()
    assert config["layers"][1]["inbound_nodes"][0]["kwargs"] == {"training": True}
    out = Model.from_config(config)(np.ones((4, 20)))  # inference, yet dropping
    assert set(np.unique(out)) == {0.0, 2.0}


def test_passing_inputs_by_name():
    input_a, input_b = two_inputs()
    outputs = layers.Dense(4)(layers.Dense(5)(layers.Add()([input_a, input_b])))
    model = Model([input_a, input_b], outputs)
    data = {"input_a": RNG.random((2, 3)), "input_b": RNG.random((2, 3))}
    assert model(data).shape == (2, 4)
    a2, b2 = two_inputs(("input_a_2", "input_b_2"))
    assert model({"input_a": a2, "input_b": b2}).shape == (2, 4)


def test_rank_standardization():
    inputs = Input(shape=(3,), batch_size=2)
    assert Model(inputs, layers.Dense(3)(inputs))(RNG.random((2, 3, 1))).shape == (2, 3)
    inputs = Input(shape=(3, 1), batch_size=2)
    assert Model(inputs, layers.Dense(3)(inputs))(RNG.random((2, 3))).shape == (2, 3, 3)


def test_rank_standardization_failure():
    inputs = Input(shape=(3,), name="foo")
    model = Model(inputs, layers.Dense(3)(inputs))
    with pytest.raises(ValueError, match="foo"):
        model(RNG.random((2, 3, 4)))


def revive(model):
    config = model.get_config()
    revived = Model.from_config(config)
    assert revived.get_config() == config
    again = layers.deserialize(layers.serialize(model))
    assert again.get_config() == config
    return revived


def test_serialization():
    inputs = Input(shape=(3,), batch_size=2)
    model = Model(inputs, layers.Dense(3)(inputs))
    model.trainable = False
    assert revive(model).trainable is False

    input_a, input_b = two_inputs()
    xa = layers.Dense(5, name="middle_a")(input_a)
    xb = layers.Dense(5, name="middle_b")(input_b)
    outputs = [layers.Dense(4, name="output_a")(xa), layers.Dense(4, name="output_b")(xb)]
    revive(Model([input_a, input_b], outputs, name="func"))

    input_a, input_b = two_inputs()
    x = layers.Dense(5, name="middle")(layers.Add()([input_a, input_b]))
    outputs = [layers.Dense(4, name="output_a")(x), layers.Dense(4, name="output_b")(x)]
    revive(Model([input_a, input_b], outputs, name="func"))

    input_a, input_b = two_inputs(("a", "b"))
    outputs = layers.Dense(4)(layers.Dense(5)(layers.Add()([input_a, input_b])))
    revive(Model({"a": input_a, "b": input_b}, outputs))

    input_a, input_b = two_inputs(("a", "b"))
    doubled = layers.Rescaling(2.0)(input_a)
    revive(Model({"a": input_a, "b": input_b}, {"a": doubled, "b": input_b}))

    input_a, input_b = two_inputs(("a", "b"))
    revive(Model({"a": input_a, "b": input_b}, layers.Rescaling(2.0)(input_a)))


def test_bad_input_spec():
    inputs = Input(shape=(4,))
    model = Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
        model(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expects 1 .*input"):
        model([np.zeros((2, 4)), np.zeros((2, 4))])
    input_a, input_b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    outputs = layers.Dense(2)(layers.Add()([input_a, input_b]))
    model = Model([input_a, input_b], outputs)
    with pytest.raises(ValueError, match=r"expects 2 .*input"):
        model(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
        model([np.zeros((2, 3)), np.zeros((2, 4))])
    model = Model({"a": input_a, "b": input_b}, outputs)
    with pytest.raises(ValueError, match=r"named input\(s\) with keys"):
        model(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
        model({"a": np.zeros((2, 3)), "b": np.zeros((2, 4))})


def test_functional_slicing():
    inputs = Input(shape=(None, 2), name="input")
    x1 = layers.Dense(3, name="dense1")(inputs)
    x2 = layers.Dense(4, name="dense2")(x1)
    outputs = layers.Dense(5, name="dense3")(x2)
    full_model = Model(inputs, outputs, name="full_model")
    assert len(full_model.layers) == 4
    for sub_inputs, sub_outputs, names in (
        (x2, outputs, ["dense3"]),
        (x1, x2, ["dense2"]),
        (full_model.get_layer("dense2").input, outputs, ["dense2", "dense3"]),
        (
            full_model.get_layer("dense1").input,
            full_model.get_layer("dense2").output,
            ["dense1", "dense2"],
        ),
    ):
        partial = Model(sub_inputs, sub_outputs)
        assert isinstance(partial.layers[0], layers.InputLayer)
        assert [layer.name for layer in partial.layers[1:]] == names
    # minicnn's own: a cut model computes the rest of the graph and round-trips.
    partial = Model(x1, outputs)
    h = RNG.random((2, 6, 3)).astype("float32")
    expected = full_model.get_layer("dense3")(full_model.get_layer("dense2")(h))
    np.testing.assert_allclose(partial.predict(h, verbose=0), expected, rtol=1e-6)
    revived = Model.from_config(partial.get_config())
    assert [layer.name for layer in revived.layers][1:] == ["dense2", "dense3"]


def test_unmodified_inputs():
    i1, i2 = Input((2,), name="input1"), Input((2,), name="input2")
    model = Model(
        {"input1": i1, "input2": i2}, {"output1": layers.Rescaling(2.0)(i1), "output2": i2}
    )
    out = model({"input1": np.ones((2, 2)), "input2": np.zeros((2, 2))})
    np.testing.assert_array_equal(out["output1"], np.ones((2, 2)) * 2)
    np.testing.assert_array_equal(out["output2"], np.zeros((2, 2)))
    out = model({"input1": Input((2,)), "input2": Input((2,))})
    assert isinstance(out, dict)
    assert out["output1"].shape == (None, 2) and out["output2"].shape == (None, 2)


def test_unused_inputs():
    i1, i2 = Input((2,), name="input1"), Input((2,), name="input2")
    model = Model({"input1": i1, "input2": i2}, layers.Rescaling(2.0)(i1))
    out = model({"input1": np.ones((2, 2)), "input2": np.zeros((2, 2))})
    np.testing.assert_array_equal(out, np.ones((2, 2)) * 2)
    assert model({"input1": Input((2,)), "input2": Input((2,))}).shape == (None, 2)


def test_disconnected_output():
    i1, i2 = Input((2,), name="input1"), Input((2,), name="input2")
    o1, o2 = layers.Rescaling(2.0)(i1), layers.Rescaling(3.0)(i2)
    with pytest.raises(ValueError, match="not connected"):
        Model(i1, {"output1": o1, "output2": o2})


def test_layers_setter():
    inputs = Input(shape=(3,), batch_size=2, name="input")
    model = Model(inputs, layers.Dense(5)(inputs))
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        model.layers = [layers.Dense(4)]


def test_dict_input_to_list_model():
    vocabulary_size, num_tags, num_departments, num_samples = 100, 10, 3, 128
    title = layers.Input(shape=(vocabulary_size,), name="title")
    text_body = layers.Input(shape=(vocabulary_size,), name="text_body")
    tags = layers.Input(shape=(num_tags,), name="tags")
    features = layers.Dense(64, activation="relu")(layers.Concatenate()([title, text_body, tags]))
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(num_departments, activation="softmax", name="department")(features)
    model = Model(inputs=[title, text_body, tags], outputs=[priority, department])
    data = [
        RNG.integers(0, 2, size=(num_samples, vocabulary_size)),
        RNG.integers(0, 2, size=(num_samples, vocabulary_size)),
        RNG.integers(0, 2, size=(num_samples, num_tags)),
    ]
    targets = [RNG.random((num_samples, 1)), RNG.integers(0, 2, (num_samples, num_departments))]
    model.compile(
        optimizer="adam",
        loss=["mean_squared_error", "categorical_crossentropy"],
        metrics=[["mean_absolute_error"], ["accuracy"]],
    )
    model.fit(data, targets, epochs=1, verbose=0)
    model.evaluate(data, targets, verbose=0)
    priority_preds, department_preds = model.predict(data, verbose=0)
    assert priority_preds.shape == (num_samples, 1)
    model.compile(
        optimizer="adam",
        loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
        metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]},
    )
    named = dict(zip(("title", "text_body", "tags"), data))
    history = model.fit(named, dict(zip(("priority", "department"), targets)), verbose=0)
    assert "priority_mean_absolute_error" in history.history
    model.evaluate(named, dict(zip(("priority", "department"), targets)), verbose=0)
    priority_preds, department_preds = model.predict(named, verbose=0)
    assert department_preds.shape == (num_samples, num_departments)


def test_list_input_with_dict_build():
    x1, x2 = Input((10,), name="IT"), Input((10,), name="IS")
    model = Model(inputs={"IT": x1, "IS": x2}, outputs=layers.subtract([x1, x2]))
    assert model({"IT": np.ones((1, 10)), "IS": np.zeros((1, 10))}).shape == (1, 10)
    with pytest.raises(ValueError, match="doesn't match the expected structure"):
        model([np.ones((1, 10)), np.zeros((1, 10))])


def chain_config():
    """Keras 3's functional config of input_1 -> node_a -> node_b."""
    i = Input((10,), name="input_1")
    return Model(
        i, layers.Dense(10, name="node_b")(layers.Dense(10, name="node_a")(i))
    ).get_config()


def test_invalid_config_deserialization_loop():
    # Keras's case is written in Keras 2's schema; the same graph in Keras 3's: node_a
    # reads node_b, which reads node_a.
    config = chain_config()
    config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "node_b"
    with pytest.raises(ValueError, match="loop"):
        Model.from_config(config)


def test_invalid_config_deserialization_missing_node():
    config = chain_config()
    config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "node_b"
    del config["layers"][2]
    config["output_layers"] = ["node_a", 0, 0]
    with pytest.raises(ValueError, match="Missing node: node_b"):
        Model.from_config(config)


def test_deeply_nested_model(tmp_path):
    i1, i2, i3 = Input((1,)), Input((2,)), Input((3,))
    o1, o2, o3 = layers.Dense(1)(i1), layers.Dense(2)(i2), layers.Dense(3)(i3)
    model = Model({"1": i1, "others": {"2": i2, "3": i3}}, {"1": o1, "others": {"2": o2, "3": o3}})
    data = {"1": np.ones((2, 1)), "others": {"2": np.ones((2, 2)), "3": np.ones((2, 3))}}
    out_eager = model(data)
    out_symbolic = model(
        {
            "1": Input((1,), batch_size=2),
            "others": {"2": Input((2,), batch_size=2), "3": Input((3,), batch_size=2)},
        }
    )
    for out in (out_eager, out_symbolic):
        assert isinstance(out, dict) and set(out) == {"1", "others"}
        assert out["1"].shape == (2, 1)
        assert isinstance(out["others"], dict) and set(out["others"]) == {"2", "3"}
        assert out["others"]["2"].shape == (2, 2) and out["others"]["3"].shape == (2, 3)
    # Each output is its own Dense of its own input, whatever order the dicts flatten in.
    for key, got in (("1", out_eager["1"]), ("2", out_eager["others"]["2"])):
        dense = {"1": o1, "2": o2}[key]._history[0]
        kernel, bias = dense.get_weights()
        want = np.ones((2, kernel.shape[0])) @ kernel + bias
        np.testing.assert_allclose(got, want, rtol=1e-6)

    # Serialization boundaries: the nesting survives a .keras file.
    path = tmp_path / "deeply_nested.keras"
    model.save(path)
    loaded = load_model(path)
    new_out = loaded(data)
    np.testing.assert_allclose(out_eager["1"], new_out["1"])
    np.testing.assert_allclose(out_eager["others"]["2"], new_out["others"]["2"])
    np.testing.assert_allclose(out_eager["others"]["3"], new_out["others"]["3"])
    assert loaded.get_config()["output_layers"] == model.get_config()["output_layers"]


def test_restored_nested_input():
    input_a = Input(shape=(3,), batch_size=2, name="input_a")
    outputs = layers.Dense(4)(layers.Dense(5)(input_a))
    model = Model([[input_a]], outputs)
    json_config = model.to_json()
    assert model_from_json(json_config).to_json() == json_config
    assert model.get_config()["input_layers"] == [[["input_a", 0, 0]]]
    assert model.input_shape == (2, 3)  # Keras's input_shape: flat, one shape for one input
    x = RNG.random((2, 3))
    want = model([[x]])
    # As Keras: another nesting of as many arrays is read in order, with Keras's warning.
    with pytest.warns(UserWarning, match="doesn't match the expected structure"):
        np.testing.assert_array_equal(model(x), want)
    with pytest.raises(ValueError, match="takes 1 arrays as \\[\\[\\*\\]\\]"):
        model([[x, x]])


def test_dicts_flatten_in_sorted_key_order():
    # keras.tree flattens a dict by sorted key (not as written): inputs, outputs, layers
    # and weights follow that order, as Keras 3's do (checked against Keras 3.15).
    b, a = Input((2,), name="b"), Input((3,), name="a")
    o1, o2 = layers.Dense(1, name="o1")(a), layers.Dense(1, name="o2")(b)
    model = Model({"b": b, "a": a}, {"z": o1, "y": o2})
    assert [t._history[0].name for t in model.inputs] == ["a", "b"]
    assert model.output_names == ["y", "z"]
    assert [layer.name for layer in model.layers] == ["b", "a", "o2", "o1"]
    assert [w.shape for w in model.get_weights()] == [(2, 1), (1,), (3, 1), (1,)]
    assert model.input_shape == [(None, 3), (None, 2)]
    out = model({"a": np.ones((1, 3)), "b": np.zeros((1, 2))})
    assert list(out) == ["y", "z"]  # packed back by sorted key, as Keras returns it


def test_input_dict_with_extra_field():
    # Keras's graph is input_a * 5 + 2; here the same with Rescaling.
    input_a = Input(shape=(3,), batch_size=2, name="a")
    model = Model({"a": input_a}, layers.Rescaling(5.0, offset=2.0)(input_a))
    with pytest.warns(UserWarning) as record:
        out = model({"a": RNG.random((2, 3)), "b": RNG.random((2, 1))})
        assert out.shape == (2, 3)
        symbolic = {"a": Input(shape=(3,), batch_size=2), "b": Input(shape=(1,), batch_size=2)}
        assert model(symbolic).shape == (2, 3)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1  # once per model, as Keras
    assert all(
        m.startswith("The structure of `inputs` doesn't match the expected") for m in messages
    )
