"""The functional API: Input tensors, layers called on them, Model(inputs, outputs),
shared layers, merge layers, and the one forward loop running graphs. Orders, names and
messages are Keras 3.15.1's (observed); values are checked against numpy written here."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minicnn
import minicnn as keras
from minicnn import layers as L
from minicnn.models import Model, Sequential, load_model

RNG = np.random.default_rng(0)


def branchy():
    """Keras's example shape: two branches added, a Dense shared by two heads."""
    a = keras.Input((8, 8, 1), name="img")
    b = L.Conv2D(2, 3, padding="same", name="c1")(a)
    c = L.Conv2D(2, 1, name="c2")(a)
    s = L.Add(name="add")([b, c])
    shared = L.Dense(3, name="d")
    o1 = shared(L.GlobalMaxPooling2D(name="f")(s))
    o2 = shared(L.GlobalAveragePooling2D(name="g")(c))
    return Model(a, [o1, o2], name="branchy")


def test_layers_and_weights_follow_keras_order_with_a_shared_layer_once():
    model = branchy()
    # Keras 3.15.1 lists exactly these, in this order, for the same graph.
    assert [layer.name for layer in model.layers] == ["img", "c1", "c2", "add", "f", "g", "d"]
    assert model.weight_names == [
        "c1/kernel",
        "c1/bias",
        "c2/kernel",
        "c2/bias",
        "d/kernel",
        "d/bias",
    ]
    assert isinstance(model.layers[0], L.InputLayer)
    assert model.input_shape == (None, 8, 8, 1) and model.output_shape == [(None, 3), (None, 3)]


def numpy_branchy(weights, x):
    k1, b1, k2, b2, kd, bd = weights
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    c1 = sum(pad[:, i : i + 8, j : j + 8, :] @ k1[i, j] for i in range(3) for j in range(3)) + b1
    c2 = x @ k2[0, 0] + b2
    s = c1 + c2
    return s.max(axis=(1, 2)) @ kd + bd, c2.mean(axis=(1, 2)) @ kd + bd


def test_predict_of_a_branching_graph_equals_numpy():
    model = branchy()
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    x = RNG.normal(size=(5, 8, 8, 1))
    got = model.predict(x)
    want = numpy_branchy([w.astype(np.float64) for w in model.get_weights()], x)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_summary_has_keras_connected_to_column():
    lines = []
    branchy().summary(print_fn=lines.append)
    text = lines[0]
    assert "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃" in text
    assert "│ add (Add)           │ (None, 8, 8, 2)   │          0 │ c1[0][0],         │" in text
    assert "│ d (Dense)           │ (None, 3)         │          9 │ f[0][0], g[0][0]  │" in text
    assert "│ (GlobalMaxPooling2… │" in text  # Keras cuts a word too long with an ellipsis


def test_layer_input_and_output_are_the_tensors_of_its_call():
    a = keras.Input((4,))
    dense = L.Dense(2)
    y = dense(a)
    assert dense.output is y and dense.input is a and y.shape == (None, 2)
    with pytest.raises(AttributeError, match="has never been called"):
        _ = L.Dense(2).output
    dense(keras.Input((4,)))
    with pytest.raises(ValueError, match="multiple inbound nodes"):
        _ = dense.output
    assert dense.get_output_at(0) is y


def test_feature_map_recipe_of_the_visualisation_tutorials():
    # Model(inputs=model.inputs, outputs=model.layers[1].output) on a Sequential model.
    seq = Sequential(
        [keras.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.Conv2D(1, 3), L.Flatten()]
    )
    x = RNG.normal(size=(2, 6, 6, 1))
    maps = seq.feature_maps(x)
    one = Model(inputs=seq.inputs, outputs=seq.layers[1].output)
    np.testing.assert_array_equal(one.predict(x), maps[seq.layers[1].name])
    every = Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    for got, layer in zip(every.predict(x), seq.layers, strict=True):
        np.testing.assert_array_equal(got, maps[layer.name])
    assert one.get_weights()[0] is not None and len(one.weight_names) == 4


def test_dict_inputs_and_outputs():
    left, right = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    total = L.Add()([L.Dense(2, name="dl")(left), L.Dense(2, name="dr")(right)])
    model = Model({"left": left, "right": right}, {"sum": total, "left_only": model_left(left)})
    x = {"left": RNG.normal(size=(4, 3)), "right": RNG.normal(size=(4, 3))}
    out = model.predict(x)
    kl, bl, kr, br, k3, b3 = (w.astype(np.float64) for w in model.get_weights())
    np.testing.assert_allclose(out["sum"], x["left"] @ kl + bl + x["right"] @ kr + br, rtol=1e-5)
    np.testing.assert_allclose(out["left_only"], x["left"] @ k3 + b3, rtol=1e-5)
    with pytest.raises(ValueError, match=r"expects a dict with keys \['left', 'right'\]"):
        model.predict([x["left"], x["right"]])


def model_left(t):
    return L.Dense(1, name="d3")(t)


# --------------------------------------------------------------------------- merges


@pytest.mark.parametrize(
    "merge, reference",
    [
        (L.Add, lambda a, b, c: a + b + c),
        (L.Multiply, lambda a, b, c: a * b * c),
        (L.Average, lambda a, b, c: (a + b + c) / 3),
        (L.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
        (L.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    ],
)
def test_elementwise_merges_broadcast_size_one_axes(merge, reference):
    ins = [keras.Input((3, 1)), keras.Input((3, 4)), keras.Input((1, 4))]
    out = merge()(ins)
    assert out.shape == (None, 3, 4)  # Keras: (3, 1) with (3, 4) gives (3, 4)
    model = Model(ins, out)
    xs = [RNG.normal(size=(2, 3, 1)), RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 1, 4))]
    np.testing.assert_allclose(model.predict(xs), reference(*xs), rtol=1e-6)


def test_subtract_and_concatenate():
    a, b = keras.Input((2, 3)), keras.Input((2, 5))
    joined = L.concatenate([a, b])
    assert joined.shape == (None, 2, 8)
    diff = L.subtract([L.Dense(4)(a), L.Dense(4)(b)])
    model = Model([a, b], [joined, diff])
    xa, xb = RNG.normal(size=(3, 2, 3)), RNG.normal(size=(3, 2, 5))
    got_joined, got_diff = model.predict([xa, xb])
    np.testing.assert_allclose(got_joined, np.concatenate([xa, xb], axis=-1), rtol=1e-6)
    ka, ba, kb, bb = (w.astype(np.float64) for w in model.get_weights())
    np.testing.assert_allclose(got_diff, (xa @ ka + ba) - (xb @ kb + bb), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: L.Add()([keras.Input((3,)), keras.Input((4,))]),
            "Inputs have incompatible shapes. Received shapes (3,) and (4,)",
        ),
        (
            lambda: L.Concatenate()([keras.Input((3, 2)), keras.Input((4, 3))]),
            "A `Concatenate` layer requires inputs with matching shapes except for the "
            "concatenation axis",
        ),
        (
            lambda: L.Subtract()([keras.Input((3,))] * 3),
            "A `Subtract` layer should be called on exactly 2 inputs",
        ),
        (
            lambda: L.Add()(keras.Input((3,))),
            "A merge layer should be called on a list of inputs",
        ),
    ],
)
def test_merge_shape_errors_use_keras_messages(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


# --------------------------------------------------------------------------- model errors


def test_outputs_not_connected_to_the_inputs_are_refused():
    a = keras.Input((3,))
    stray = L.Dense(2)(keras.Input((3,)))
    with pytest.raises(ValueError, match="is not connected to `inputs`"):
        Model(a, stray)


def test_a_layer_output_as_input_cuts_the_graph_and_outputs_must_be_tensors():
    a = keras.Input((3,))
    h = L.Dense(2)(a)
    # A layer's output as an input cuts the graph there, as Keras's slicing does.
    cut = Model(h, L.Dense(1)(h))
    assert isinstance(cut.layers[0], L.InputLayer) and cut.input_shape == (None, 2)
    # A ValueError, as Keras's Functional raises.
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        Model(a, "dense")
    with pytest.raises(TypeError, match="pass `inputs` and `outputs`"):
        Model()


def test_a_layer_called_on_something_that_is_not_a_tensor_or_array_is_a_type_error():
    with pytest.raises(TypeError, match="must be called on an array or a KerasTensor"):
        L.Dense(2)("x")
    with pytest.raises(TypeError, match="mixing KerasTensors"):
        L.Add()([keras.Input((2,)), np.zeros((1, 2))])


def test_a_failed_symbolic_call_leaves_the_layer_unbuilt_and_uncalled():
    dense = L.Dense(2)
    with pytest.raises(ValueError):
        dense(keras.Input((3, None)))  # the last axis must be known
    assert not dense.built and dense._calls == []


# --------------------------------------------------------------------------- gradients, training


def test_gradients_flow_through_branches_and_a_shared_layer():
    minicnn.set_random_seed(0)
    report = minicnn.gradcheck(branchy(), RNG.normal(size=(2, 8, 8, 1)) + 0.05)
    assert report.passed, str(report)
    a, b = keras.Input((3,)), keras.Input((3,))
    shared = L.Dense(2, activation="tanh")
    model = Model([a, b], L.Maximum()([shared(a), shared(b)]))
    report = minicnn.gradcheck(model, [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))])
    assert report.passed and [t.name for t in report.tensors][-2:] == ["input_0", "input_1"]


def residual_net():
    x = keras.Input((8, 8, 1))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    skip = L.Conv2D(4, 3, padding="same")(h)
    h = L.ReLU()(L.Add()([h, skip]))
    out = L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(h))
    return Model(x, out)


def test_a_residual_model_trains_and_its_gradients_are_exact():
    minicnn.set_random_seed(2)
    x, y = minicnn.datasets.line_images(120, seed=1)
    model = residual_net()
    model.compile(minicnn.optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # Away from ReLU kinks: the line images' exact zeros would sit on them.
    report = minicnn.gradcheck(residual_net(), RNG.normal(size=(2, 8, 8, 1)), max_entries=20)
    assert report.passed, str(report)


def test_explain_and_receptive_field_follow_the_graph():
    x = keras.Input((6, 6, 1))
    c = L.Conv2D(1, 3, padding="same", use_bias=False, name="c")(x)
    s = L.Add(name="s")([c, x])  # a skip connection around the conv
    out = L.Conv2D(1, 3, use_bias=False, name="o")(s)
    model = Model(x, out)
    model.set_weights([np.ones((3, 3, 1, 1)), np.ones((3, 3, 1, 1))])
    data = RNG.normal(size=(1, 6, 6, 1))
    e = model.explain(data, "o", (0, 1, 1, 0))
    assert e.value == model.predict(data)[0, 1, 1, 0]
    # The skip path reads rows 1..3, the conv path one more on each side: rows 0..4.
    assert model.receptive_field("o", (1, 1)) == (slice(0, 5), slice(0, 5))
    assert model.receptive_field("c", (0, 0)) == (slice(0, 2), slice(0, 2))
    # The Add cell is the conv's value plus the input's, named by where they come from.
    add = model.explain(data, "s", (0, 2, 3, 0))
    conv_value = model.explain(data, "c", (0, 2, 3, 0)).value
    assert add.sources == [(("c", 0, 2, 3, 0), None), (("input 0", 0, 2, 3, 0), None)]
    assert add.patch.tolist() == [conv_value, np.float32(data[0, 2, 3, 0])]
    assert abs(add.value - (add.patch[0] + add.patch[1])) < 1e-5
    with pytest.raises(ValueError, match="covers Add, Subtract and Average"):
        Model(x, L.Maximum()([c, x])).explain(data, -1, (0, 0, 0, 0))


def two_heads():
    x = keras.Input((4,))
    h = L.Dense(3, activation="tanh", name="h")(x)
    return Model(x, [L.Dense(2, name="reg")(h), L.Dense(3, name="more")(h)])


def test_several_outputs_train_on_the_weighted_sum_of_their_losses():
    # Two MSE heads weighted 2/5 and 3/5 are one MSE over the five units together: the
    # same model with the heads' kernels joined must train the same way.
    two = two_heads()
    x = keras.Input((4,))
    one = Model(x, L.Dense(5, name="both")(L.Dense(3, activation="tanh", name="h1")(x)))
    kh, bh, k1, b1, k2, b2 = two.get_weights()
    one.set_weights([kh, bh, np.concatenate([k1, k2], 1), np.concatenate([b1, b2])])
    xs, y1, y2 = RNG.normal(size=(12, 4)), RNG.normal(size=(12, 2)), RNG.normal(size=(12, 3))
    two.compile(minicnn.optimizers.SGD(0.1), "mse", loss_weights=[0.4, 0.6])
    one.compile(minicnn.optimizers.SGD(0.1), "mse")
    fit = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0}
    h_two = two.fit(xs, {"reg": y1, "more": y2}, **fit).history
    h_one = one.fit(xs, np.concatenate([y1, y2], 1), **fit).history
    assert sorted(h_two) == ["loss", "more_loss", "reg_loss"]  # Keras's names
    np.testing.assert_allclose(h_two["loss"], h_one["loss"], rtol=1e-6)
    joined = np.concatenate([two.get_weights()[2], two.get_weights()[4]], axis=1)
    np.testing.assert_allclose(joined, one.get_weights()[2], rtol=1e-5, atol=1e-7)
    # Each output's own loss is logged unweighted, and the total is their weighted sum.
    for total, reg, more in zip(h_two["loss"], h_two["reg_loss"], h_two["more_loss"]):
        assert abs(total - (0.4 * reg + 0.6 * more)) < 1e-6


def test_several_outputs_take_a_loss_and_metrics_per_output():
    model = two_heads()
    model.compile(
        "adam",
        {"reg": "mse", "more": "categorical_crossentropy"},
        metrics={"more": ["accuracy"], "reg": ["mae"]},
    )
    x = RNG.normal(size=(10, 4))
    y = [RNG.normal(size=(10, 2)), np.eye(3)[RNG.integers(0, 3, 10)]]
    model.layers[-1].activation = "softmax"
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.2).history
    assert sorted(history) == [
        "loss", "more_accuracy", "more_loss", "reg_loss", "reg_mae",
        "val_loss", "val_more_accuracy", "val_more_loss", "val_reg_loss", "val_reg_mae",
    ]  # fmt: skip
    values = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    # Keras's order: the loss, each output's loss, then the metrics by name.
    names = ["loss", "reg_loss", "more_loss", "more_accuracy", "reg_mae"]
    assert values == [logs[n] for n in names]


@pytest.mark.parametrize(
    "compile_args, fit_y, message",
    [
        ({"loss": ["mse"]}, None, "must be a list of 2 entries or a dict"),
        ({"loss": {"nope": "mse"}}, None, "the key(s) ['nope'] in the `loss` argument, can't"),
        ({"loss": "mse", "metrics": ["mae"]}, None, "`metrics` must be a list of 2 entries"),
        ({"loss": "mse"}, "one", "must be a list of 2 arrays or a dict by output name"),
    ],
)
def test_several_outputs_reject_what_does_not_fit_them(compile_args, fit_y, message):
    model = two_heads()
    x, y = RNG.normal(size=(6, 4)), [RNG.normal(size=(6, 2)), RNG.normal(size=(6, 3))]
    with pytest.raises(ValueError) as err:
        model.compile("sgd", **compile_args)
        model.fit(x, y[0] if fit_y == "one" else y, verbose=0)
    assert message in str(err.value)
    # One output takes one weight, as in Keras: a list of two is refused.
    with pytest.raises(ValueError, match="loss_weights"):
        Sequential([keras.Input((2,)), L.Dense(1)]).compile("sgd", "mse", loss_weights=[1.0, 2])


def test_a_two_input_model_trains_exactly_like_its_one_input_twin():
    # Dense over concatenate([a, b]) is Dense over the concatenated array: same weights,
    # same batches, so the same training to the last bit (validation split included).
    a, b = keras.Input((3,)), keras.Input((2,))
    two = Model({"a": a, "b": b}, L.Dense(2, name="d")(L.concatenate([a, b])))
    one = Sequential([keras.Input((5,)), L.Dense(2, name="d1")])
    one.set_weights(two.get_weights())
    xa, xb, y = RNG.normal(size=(20, 3)), RNG.normal(size=(20, 2)), RNG.normal(size=(20, 2))
    fit = {"epochs": 3, "batch_size": 6, "validation_split": 0.2, "verbose": 0}
    for model in (one, two):
        model.compile(minicnn.optimizers.SGD(0.1, momentum=0.9), "mse")
    minicnn.set_random_seed(1)
    h_two = two.fit({"a": xa, "b": xb}, y, **fit).history
    minicnn.set_random_seed(1)
    h_one = one.fit(np.concatenate([xa, xb], axis=1), y, **fit).history
    assert h_two == h_one
    for w2, w1 in zip(two.get_weights(), one.get_weights(), strict=True):
        np.testing.assert_array_equal(w2, w1)
    with pytest.raises(ValueError, match="'x' sizes: \\[20, 19\\]"):
        two.fit({"a": xa, "b": xb[:19]}, y, verbose=0)


def test_get_config_writes_keras_functional_schema():
    config = branchy().get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    by_name = {entry["name"]: entry for entry in config["layers"]}
    assert by_name[config["layers"][0]["name"]]["inbound_nodes"] == []  # the InputLayer
    add = by_name["add"]
    assert add["class_name"] == "Add" and add["config"]["name"] == "add"
    # A merge reads a list of tensors, each named by [layer, node index, 0], as Keras writes.
    (node,) = add["inbound_nodes"]
    assert node["kwargs"] == {} and len(node["args"]) == 1
    assert [t["keras_history"] for t in (a["config"] for a in node["args"][0])] == [
        ["c1", 0, 0],
        ["c2", 0, 0],
    ]
    assert node["args"][0][0] == {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, 8, 8, 2], "dtype": "float32", "keras_history": ["c1", 0, 0]},
    }
    # A layer called twice has two nodes; outputs pack as the model was built (a list).
    shared = [e for e in config["layers"] if len(e["inbound_nodes"]) == 2]
    assert [e["name"] for e in shared] == ["d"]
    assert config["output_layers"] == [["d", 0, 0], ["d", 1, 0]]


@pytest.mark.parametrize("build", [branchy, two_heads, residual_net])
def test_from_config_rebuilds_the_same_graph(build):
    model = build()
    copy = Model.from_config(model.get_config())
    assert copy.get_config() == model.get_config()
    assert copy.weight_names == model.weight_names
    copy.set_weights(model.get_weights())
    xs = [RNG.normal(size=(3, *t.shape[1:])).astype(np.float32) for t in model.inputs]
    x = model._pack_inputs(xs)
    want, got = model.predict(x, verbose=0), copy.predict(x, verbose=0)
    for a, b in zip(model._unpack_outputs(got), model._unpack_outputs(want), strict=True):
        np.testing.assert_array_equal(a, b)


def test_dict_inputs_and_outputs_survive_the_config():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    joined = L.concatenate([a, b])
    model = Model({"a": a, "b": b}, {"y": L.Dense(1, name="y")(joined), "z": joined})
    config = model.get_config()
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    copy = Model.from_config(config)
    assert copy.output_names == ["y", "z"] and copy._input_structure.keys == ("a", "b")


def test_training_a_loaded_functional_model_resumes_exactly(tmp_path):

    def make():
        minicnn.set_random_seed(5)
        x = keras.Input((6, 6, 1), name="image")
        h = L.BatchNormalization(momentum=0.7)(L.Conv2D(3, 3, use_bias=False)(x))
        h = L.Dropout(0.25)(L.ReLU()(h))
        flat = L.Flatten()(h)
        model = Model(
            x, [L.Dense(2, name="reg")(flat), L.Dense(1, activation="sigmoid", name="cls")(flat)]
        )
        model.compile(
            "adam",
            ["mse", "binary_crossentropy"],
            loss_weights=[0.5, 2.0],
            metrics=[[], ["accuracy"]],
        )
        return model

    x = RNG.normal(size=(20, 6, 6, 1))
    y = [RNG.normal(size=(20, 2)), (RNG.random((20, 1)) > 0.5).astype(np.float32)]
    straight = make()
    want = straight.fit(x, y, epochs=3, batch_size=8, verbose=0).history
    first = make()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "f.minicnn")
    resumed = load_model(tmp_path / "f.minicnn")
    assert resumed.get_compile_config() == first.get_compile_config()
    got = resumed.fit(x, y, epochs=3, initial_epoch=2, batch_size=8, verbose=0).history
    assert sorted(got) == sorted(want) and "cls_accuracy" in got
    for key in want:
        assert got[key] == [want[key][-1]]
    for a, b in zip(straight.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # moving statistics and Dropout masks included


def good_config():
    return branchy().plain_config()  # minicnn's form; Keras's is checked below


def mutate(path, value):
    def change(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return config

    return change


def layer_named(config, name):
    return next(e for e in config["layers"] if e["name"] == name)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.pop("output_layers") and c, "'output_layers'"),
        (mutate(["name"], 3), "model name must be a string"),
        (mutate(["trainable"], "yes"), "'trainable' must be a bool"),
        (mutate(["layers"], {"a": 1}), "'layers' must be a list"),
        (lambda c: c["layers"][1].update(extra=1) or c, "must be a dict with keys"),
        (lambda c: c["layers"][1].update(class_name="Lambda") or c, "unknown class_name 'Lambda'"),
        (lambda c: c["layers"][1].update(name="other") or c, "named 'other'"),
        (lambda c: layer_named(c, "add").update(inbound_nodes={}) or c, "must be a list"),
        (
            lambda c: layer_named(c, "add")["inbound_nodes"][0].update(kwargs={"mask": None}) or c,
            "take no call arguments",
        ),
        (
            lambda c: (
                layer_named(c, "add")["inbound_nodes"][0]["args"][0][0]["config"].update(
                    keras_history=["c1", 0, 1]
                )
                or c
            ),
            "reads output 1 of layer 'c1', which makes 1 output tensor",
        ),
        (
            lambda c: (
                layer_named(c, "add")["inbound_nodes"][0]["args"][0][0]["config"].update(
                    keras_history=["nowhere", 0, 0]
                )
                or c
            ),
            r"Missing node: nowhere \(layer 'add' reads tensor \['nowhere', 0\]",
        ),
        (
            lambda c: (
                layer_named(c, "add")["inbound_nodes"][0]["args"][0][1]["config"].update(
                    keras_history=["add", 0, 0]
                )
                or c
            ),
            "either has loops or disconnected nodes",
        ),
        (mutate(["output_layers"], [["d", 7, 0]]), "does not name a tensor"),
        (lambda c: layer_named(c, "add").update(inbound_nodes=[]) or c, "not empty for any"),
        (mutate(["output_layers"], [["d", 0, 0]]), r"layers \['g'\] are called but lead"),
        (mutate(["input_layers"], "x"), "must each be a tensor reference"),
        (
            lambda c: layer_named(c, "c2")["config"].update(kernel_size=[50, 50]) or c,
            "layer 'c2' cannot take its inputs",
        ),
    ],
)
def test_from_config_rejects_what_is_not_a_valid_graph(change, message):
    with pytest.raises(ValueError, match=message):
        Model.from_config(change(good_config()))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["layers"][1].update(extra=1) or c, "object 'Conv2D' has unexpected keys"),
        (lambda c: c["layers"][1].update(class_name="Lambda") or c, "a `Lambda` layer"),
        (lambda c: c["layers"][1].update(module="evil.module") or c, "outside Keras's namespace"),
        (
            lambda c: layer_named(c, "add")["inbound_nodes"][0].update(kwargs={"mask": 1}) or c,
            "take no call arguments",
        ),
    ],
)
def test_from_config_checks_keras_form_too(change, message):
    config = branchy().get_config()
    assert config["layers"][1]["module"] == "keras.layers"  # Keras's form
    Model.from_config(copy.deepcopy(config))
    with pytest.raises(ValueError, match=message):
        Model.from_config(change(config))


def test_a_loaded_file_whose_layers_are_out_of_graph_order_is_refused(tmp_path):
    import json
    import zipfile

    model = branchy()
    model.save(tmp_path / "b.minicnn")
    with zipfile.ZipFile(tmp_path / "b.minicnn") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    layers = config["config"]["layers"]
    # Swap two layers in the list: their weights are then expected in an order that is
    # not the graph's, which must be refused rather than assigned by position.
    first, second = layer_named(config["config"], "c1"), layer_named(config["config"], "c2")
    i, j = layers.index(first), layers.index(second)
    layers[i], layers[j] = second, first
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "swapped.minicnn", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)

    with pytest.raises(ValueError, match="not listed in the order"):
        load_model(tmp_path / "swapped.minicnn")


def test_residual_demo_learns_the_line_task_and_explains_the_skip_connection():
    import contextlib
    import io
    import pathlib
    import runpy

    demo = pathlib.Path(__file__).resolve().parents[1] / "demos" / "residual_network.py"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(demo), run_name="__main__")
    text = out.getvalue()
    accuracy = float(text.split("held-out accuracy: ")[1].split("%")[0])
    assert accuracy >= 95
    assert "joins 'lines', 'branch' at this position" in text
    assert "Connected to" in text and "lines[0][0]," in text


# --------------------------------------------------------------------------- nested models
def dense_block(name="block"):
    """x + Dense(tanh(Dense(x))): a functional model to nest."""
    x = keras.Input((4,))
    h = L.Dense(4, name=f"{name}_out")(L.Dense(3, activation="tanh", name=f"{name}_in")(x))
    return Model(x, L.add([h, x]), name=name)


def nested_net():
    block = dense_block()
    head = Sequential([L.Dense(2, name="logits")], name="head")
    x = keras.Input((4,))
    return Model(x, head(block(L.Dense(4, name="mix")(block(x))))), block, head


def numpy_nested(w, x):
    def block(v):
        return np.tanh(v @ w[0] + w[1]) @ w[2] + w[3] + v

    return block(block(x) @ w[4] + w[5]) @ w[6] + w[7]


def test_a_nested_model_is_one_layer_holding_its_weights_in_keras_order():
    model, block, head = nested_net()
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Model",
        "Dense",
        "Sequential",
    ]
    assert [layer.name for layer in model.layers[1:]] == ["block", "mix", "head"]
    assert model.weight_names == [
        "block/block_in/kernel",
        "block/block_in/bias",
        "block/block_out/kernel",
        "block/block_out/bias",
        "mix/kernel",
        "mix/bias",
        "head/logits/kernel",
        "head/logits/bias",
    ]
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    want = numpy_nested([w.astype(np.float64) for w in model.get_weights()], x)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    lines = []
    model.summary(print_fn=lines.append)
    assert "│ block (Functional)  │ (None, 4)         │         31 │" in lines[0]
    assert "│ head (Sequential)   │ (None, 2)         │         10 │ block[1][0]  " in lines[0]
    assert block.output is block.outputs[0] and block.input is block.inputs[0]


def test_gradients_flow_through_a_nested_model_called_twice():
    model, _, _ = nested_net()
    report = minicnn.gradcheck(model, RNG.normal(size=(3, 4)))
    assert report.passed, str(report)


def test_training_the_outer_model_trains_the_nested_one_in_place():
    model, block, head = nested_net()
    before = block.get_weights()
    model.compile(minicnn.optimizers.SGD(0.1), "mse")
    x, y = RNG.normal(size=(8, 4)), RNG.normal(size=(8, 2))
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.abs(a - b).max() > 0 for a, b in zip(block.get_weights(), before))
    # The nested model is the same object: alone, it computes with what training left.
    w = [v.astype(np.float64) for v in model.get_weights()]
    np.testing.assert_allclose(
        block.predict(x, verbose=0),
        np.tanh(x @ w[0] + w[1]) @ w[2] + w[3] + x,
        rtol=1e-5,
        atol=1e-5,
    )


def test_a_shared_batchnorm_updates_its_moving_statistics_once_per_call_in_order():
    a, b = keras.Input((3,)), keras.Input((3,))
    bn = L.BatchNormalization(momentum=0.5)
    model = Model([a, b], L.add([bn(a), bn(b)]))
    xa, xb = RNG.normal(size=(6, 3)), RNG.normal(1.0, 2.0, size=(6, 3))
    weights = model.get_weights()
    _, new = model.stateless_call(weights, [xa, xb], training=True)
    mean, var = weights[2], weights[3]
    for batch in (xa, xb):  # Keras: the second call reads what the first call assigned
        mean = 0.5 * mean + 0.5 * batch.mean(axis=0)
        var = 0.5 * var + 0.5 * batch.var(axis=0)
    np.testing.assert_allclose(new[2], mean, rtol=1e-5)
    np.testing.assert_allclose(new[3], var, rtol=1e-5)


def test_a_nested_batchnorm_trains_its_moving_statistics():
    inner = keras.Input((3,))
    block = Model(inner, L.BatchNormalization(momentum=0.0)(inner), name="bn_block")
    x = keras.Input((3,))
    model = Model(x, L.Dense(1)(block(x)))
    data = RNG.normal(2.0, 3.0, size=(16, 3))
    model.compile(minicnn.optimizers.SGD(0.0), "mse")
    model.fit(data, np.zeros((16, 1)), batch_size=16, epochs=1, shuffle=False, verbose=0)
    moving_mean, moving_var = block.get_weights()[2:]
    np.testing.assert_allclose(moving_mean, data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(moving_var, data.var(axis=0), rtol=1e-4)


def keyed_pair():
    """A model of a dict of two inputs and a list of two outputs, to nest: its outputs
    are ``tanh(a @ k1 + b1)`` and that plus ``b @ k2 + b2``."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    h = L.Dense(3, activation="tanh", name="d1")(a)
    return Model(
        {"a": a, "b": b}, [h, L.Add(name="sum")([h, L.Dense(3, name="d2")(b)])], name="pair"
    )


def nested_pair():
    """``pair`` called on a dict of the outer inputs; both its outputs are used."""
    pair = keyed_pair()
    x, y = keras.Input((4,), name="x"), keras.Input((4,), name="y")
    o1, o2 = pair({"a": x, "b": y})
    joined = L.Concatenate(name="cat")([o1, o2])
    return Model([x, y], [L.Dense(2, name="out")(joined), o2], name="outer")


def numpy_nested_pair(w, x, y):
    k1, b1, k2, b2, ko, bo = w
    h = np.tanh(x @ k1 + b1)
    o2 = h + y @ k2 + b2
    return np.concatenate([h, o2], 1) @ ko + bo, o2


def test_a_model_of_a_dict_of_inputs_and_several_outputs_nests_as_in_keras():
    model = nested_pair()
    pair = model.get_layer("pair")
    # Keras 3.15.1 lists these for the same graph: the nested model's weights in place.
    assert [layer.name for layer in model.layers] == ["x", "y", "pair", "cat", "out"]
    assert model.weight_names == [
        "pair/d1/kernel", "pair/d1/bias", "pair/d2/kernel", "pair/d2/bias",
        "out/kernel", "out/bias",
    ]  # fmt: skip
    assert pair.output_shape == [(None, 3), (None, 3)]
    assert model.output_shape == [(None, 2), (None, 3)]
    assert [t._history[2] for t in pair.get_output_at(0)] == [0, 1]
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    x, y = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    want = numpy_nested_pair([w.astype(np.float64) for w in model.get_weights()], x, y)
    for got, expected in zip(model.predict([x, y], verbose=0), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    maps = model.feature_maps([x, y])
    assert isinstance(maps["pair"], list) and len(maps["pair"]) == 2
    np.testing.assert_allclose(maps["pair"][1], want[1], rtol=1e-5, atol=1e-5)
    report = minicnn.gradcheck(model, [x[:2], y[:2]])
    assert report.passed, str(report)


def test_summary_of_a_nested_model_of_two_outputs_reads_as_keras():
    lines = []
    nested_pair().summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras 3.15.1 prints these cells for the same graph.
    assert "│ pair (Functional)   │ [(None, 3),       │         30 │ x[0][0], y[0][0]  │" in text
    assert "│                     │ (None, 3)]        │            │                   │" in text
    # A dict of outputs prints as the list of its shapes, as in Keras.
    a = keras.Input((4,))
    keyed = Model(a, {"p": L.Dense(3, name="p")(a), "q": L.Dense(2, name="q")(a)}, name="kd")
    x = keras.Input((4,))
    o = keyed(x)
    lines.clear()
    Model(x, L.Concatenate(name="cat")([o["p"], o["q"]])).summary(print_fn=lines.append)
    assert "│ kd (Functional)     │ [(None, 3),       │         25 │" in "\n".join(lines)
    assert "│ cat (Concatenate)   │ (None, 6)         │          0 │ pair[0][0],       │" in text
    assert "│                     │                   │            │ pair[0][1]        │" in text


def test_a_nested_model_of_two_outputs_round_trips_through_its_config_and_files(tmp_path):
    model = nested_pair()
    config = model.get_config()
    # Keras numbers a nested functional model's node from 1 in output_layers, from 0 in
    # the inbound nodes (Keras 3.15.1 writes exactly these).
    assert config["output_layers"] == [["out", 0, 0], ["pair", 1, 1]]
    cat = next(entry for entry in config["layers"] if entry["name"] == "cat")
    refs = [t["config"]["keras_history"] for t in cat["inbound_nodes"][0]["args"][0]]
    assert refs == [["pair", 0, 0], ["pair", 0, 1]]
    pair = next(entry for entry in config["layers"] if entry["name"] == "pair")
    assert set(pair["inbound_nodes"][0]["args"][0]) == {"a", "b"}
    rebuilt = Model.from_config(config)
    assert rebuilt.get_config() == config
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    for path in (tmp_path / "m.minicnn", tmp_path / "m.keras", tmp_path / "m.h5"):
        model.save(path)
        loaded = load_model(path)
        for got, want in zip(loaded.predict([x, y]), model.predict([x, y])):
            np.testing.assert_array_equal(got, want)


def test_calls_a_nested_model_cannot_take_say_why_before_anything_is_recorded():
    pair = keyed_pair()
    x = keras.Input((4,))
    with pytest.raises(ValueError, match=r"takes a dict of inputs with keys \['a', 'b'\]"):
        pair(x)
    with pytest.raises(
        ValueError, match=r"with keys \['a', 'b'\] as .*; it was called on \{'a': <KerasTensor"
    ):
        pair({"a": x})
    assert pair._calls == []
    block = dense_block()
    with pytest.raises(ValueError, match="keyed by its Inputs. names"):
        block({"x": x})
    with pytest.raises(ValueError, match=r"expects 1 input\(s\), but it was called on 2"):
        block([x, x])
    with pytest.raises(TypeError, match="mix of KerasTensors and other values"):
        two_heads()([x, 1.0])
    assert block._calls == []
    with pytest.raises(ValueError, match="must have one input and one output"):
        Sequential([keras.Input((4,)), two_heads()])


def test_receptive_field_and_explain_follow_a_nested_model_of_two_inputs():
    # Inside: a 3x3 conv on input a plus a 1x1 conv on input b; outside, a 1x1 conv on
    # one of its two outputs.
    a, b = keras.Input((6, 6, 1)), keras.Input((6, 6, 1))
    c3 = L.Conv2D(1, 3, padding="same", name="c3")(a)
    inner = Model([a, b], [c3, L.Add(name="s")([c3, L.Conv2D(1, 1, name="c1")(b)])], name="blk")
    x, y = keras.Input((6, 6, 1)), keras.Input((6, 6, 1))
    out = L.Conv2D(1, 1, name="top")(inner([x, y])[1])
    model = Model([x, y], out)
    assert model.receptive_field("top", (1, 2)) == [
        (slice(0, 3), slice(1, 4)),
        (slice(1, 2), slice(2, 3)),
    ]
    with pytest.raises(ValueError, match="model of 2 outputs"):
        model.receptive_field("blk", (1, 2))
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    xs, ys = RNG.normal(size=(1, 6, 6, 1)), RNG.normal(size=(1, 6, 6, 1))
    with pytest.raises(ValueError, match="model of 2 outputs"):
        model.explain([xs, ys], "blk", (0, 1, 2, 0))
    # The top conv's input cell is the nested model's second output: explained inside
    # as the Add that makes it, reading both of the model's inputs.
    w = model.get_weights()
    pad = np.pad(xs[0, :, :, 0], 1)
    cell = (
        (pad[1:4, 2:5] * w[0][:, :, 0, 0]).sum()
        + w[1][0]
        + ys[0, 1, 2, 0] * w[2][0, 0, 0, 0]
        + w[3][0]
    )
    top = model.explain([xs, ys], "top", (0, 1, 2, 0))
    assert top.value == pytest.approx(cell * w[4][0, 0, 0, 0] + w[5][0], rel=1e-5)


def test_a_sequential_takes_models_as_layers_built_from_the_first_ones_input():
    block = dense_block()
    model = Sequential([block, Sequential([L.Dense(2, name="logits")], name="head")])
    assert model.built and model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert model.weight_names[-2:] == ["head/logits/kernel", "head/logits/bias"]
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    w = [v.astype(np.float64) for v in model.get_weights()]
    want = (np.tanh(x @ w[0] + w[1]) @ w[2] + w[3] + x) @ w[4] + w[5]
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="must have one input and one output"):
        Sequential([two_heads()])
    outer = Sequential([keras.Input((4,)), L.Dense(4)], name="outer")
    inner = Sequential([outer], name="inner")
    for model in (outer, inner):
        with pytest.raises(ValueError, match="a model cannot be its own layer"):
            outer.add(model)
    assert len(outer.layers) == 1


def test_a_model_that_contains_models_saves_and_loads_whole(tmp_path):
    model = Sequential([keras.Input((3,)), Sequential([L.Dense(2)], name="inner")])
    model.save(tmp_path / "nested.minicnn")
    loaded = load_model(tmp_path / "nested.minicnn")
    assert [type(layer).__name__ for layer in loaded.layers] == ["Sequential"]
    assert loaded.layers[0].name == "inner"
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    model.save_weights(tmp_path / "nested.weights.npz")
    other = Sequential([keras.Input((3,)), Sequential([L.Dense(2)], name="inner")])
    other.load_weights(tmp_path / "nested.weights.npz")
    for a, b in zip(other.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_nested_model_keeps_its_weights_while_the_outer_layers_train():
    model, block, head = nested_net()
    block.trainable = False
    assert model.trainable_indices() == [4, 5, 6, 7]  # mix and head only
    before, head_before = block.get_weights(), head.get_weights()
    model.compile(minicnn.optimizers.SGD(0.1), "mse")
    model.fit(RNG.normal(size=(8, 4)), RNG.normal(size=(8, 2)), verbose=0)
    for a, b in zip(block.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(np.abs(a - b).max() > 0 for a, b in zip(head.get_weights(), head_before))


def test_explain_reads_a_layer_fed_by_a_nested_model():
    model, block, head = nested_net()
    x = RNG.normal(size=(1, 4)).astype(np.float32)
    explanation = model.explain(x, "mix", (0, 1))
    kernel, bias = model.get_layer("mix").get_weights()
    fed = block.predict(x, verbose=0)[0]
    assert explanation.value == pytest.approx(float(fed @ kernel[:, 1] + bias[1]), abs=1e-5)
    # A nested model's cell is its output layer's cell, read from the map that feeds it.
    inside = model.explain(x, "head", (0, 1))
    maps = model.feature_maps(x)
    kernel, bias = head.get_layer("logits").get_weights()
    fed = block.predict(maps["mix"], verbose=0)[0]  # block's second call feeds head
    assert inside.value == pytest.approx(float(fed @ kernel[:, 1] + bias[1]), abs=1e-5)
    assert inside.value == pytest.approx(float(model.predict(x, verbose=0)[0, 1]), abs=1e-6)
    np.testing.assert_allclose(inside.patch, fed, atol=1e-6)
    assert inside.layer == "head" and inside.index == (0, 1)
    assert "inside model 'head' (Sequential): its output layer 'logits'" in str(inside)


def test_from_config_takes_the_layers_in_any_order_in_linear_time():
    x = keras.Input((4,))
    h = x
    for _ in range(300):
        h = L.ReLU()(h)
    model = Model(x, L.Dense(2)(h))
    config = model.get_config()
    # Reversed: every call's input is made by a layer listed after it.
    config["layers"] = config["layers"][:1] + config["layers"][:0:-1]
    copy = Model.from_config(config)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]


def test_automatic_model_names_follow_keras_through_sequential_rebuilds():
    """Keras 3.15's Sequential takes a "functional" name each time it (re)builds; the
    expected names were printed by real Keras running this same program."""
    from minicnn.utils import clear_session

    clear_session()
    out = []

    def next_name():
        y = keras.Input((3,))
        return Model(y, L.Dense(2)(y)).name

    out.append(next_name())
    s = Sequential([L.Dense(2)])
    s.build((None, 3))
    out.append(next_name())
    Sequential([L.Dense(2)]).predict(np.ones((1, 3)), verbose=0)
    out.append(next_name())
    s = Sequential([keras.Input((3,)), L.Dense(2)])
    out.append(next_name())
    s.add(L.Dense(1))
    out.append(next_name())
    s = Sequential()
    s.add(keras.Input((3,)))
    s.add(L.Dense(2))
    s.add(L.Dense(2))
    out.append(next_name())
    Sequential([L.Dense(2)])(keras.Input((3,)))
    out.append(next_name())
    Sequential([L.Dense(2, input_shape=(3,))])
    out.append(next_name())
    s = Sequential([keras.Input((3,)), L.Dense(2), L.Dense(2)])
    out.append(next_name())
    s.pop()
    out.append(next_name())
    s.pop()
    out.append(next_name())
    s = Sequential([L.Dense(2)])
    s.build((None, 3))
    s.build((None, 3))
    out.append(next_name())
    s(keras.Input((3,)))
    out.append(next_name())
    s.predict(np.ones((1, 3)), verbose=0)
    out.append(next_name())
    s.summary(print_fn=lambda *a, **k: None)
    out.append(next_name())
    s = Sequential([keras.Input((3,)), L.Dense(2)])
    out.append(Model(s.inputs, s.layers[0].output).name)  # the feature-map recipe
    assert out == [
        "functional",
        "functional_2",
        "functional_4",
        "functional_6",
        "functional_8",
        "functional_11",
        "functional_13",
        "functional_15",
        "functional_17",
        "functional_19",
        "functional_20",
        "functional_23",
        "functional_24",
        "functional_25",
        "functional_26",
        "functional_28",
    ]


@pytest.mark.parametrize("kind", ["tuple", "nested"])
def test_a_nested_model_of_tuple_or_nested_inputs_round_trips(kind, tmp_path):
    # A model taking a tuple, or dicts and lists of Inputs, called as a layer: its call is
    # written nested as it takes its inputs, and every format rebuilds it.
    a, b = keras.Input((2,)), keras.Input((3,))
    inner_inputs = (a, b) if kind == "tuple" else {"p": [a], "q": {"r": b}}
    inner = Model(inner_inputs, {"s": L.Concatenate()([a, b])}, name="inner")
    x, y = keras.Input((2,)), keras.Input((3,))
    call = (x, y) if kind == "tuple" else {"p": [x], "q": {"r": y}}
    outer = Model([x, y], L.Dense(1, name="head")(inner(call)["s"]))
    data = [np.ones((2, 2)), np.full((2, 3), 2.0)]
    want = outer.predict(data, verbose=0)
    kernel, bias = outer.get_layer("head").get_weights()
    np.testing.assert_allclose(want, np.c_[data[0], data[1]] @ kernel + bias, rtol=1e-6)
    rebuilt = Model.from_config(outer.get_config())
    rebuilt.set_weights(outer.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(data, verbose=0), want)
    for suffix in ("keras", "minicnn", "h5"):
        outer.save(tmp_path / f"m.{suffix}")
        loaded = load_model(tmp_path / f"m.{suffix}")
        np.testing.assert_array_equal(loaded.predict(data, verbose=0), want)
