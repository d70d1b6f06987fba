"""Keras 3's models/model_test.py on minicnn's functional Model: the multi-output compile
cases (losses and metrics as lists, nested lists and dicts, weighted metrics, the History
keys Keras logs, and the errors for keys that name no output), pickling and the reserved
``layers`` attribute. Keras's ``_get_model`` adds its inputs with an op; here with Add."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from minicnn import layers
from minicnn.layers import Input
from minicnn.models import Model, Sequential, model_from_json

RNG = np.random.default_rng(0)
X = RNG.random((8, 3))
Y1 = RNG.random((8, 1))
Y2 = RNG.integers(0, 2, (8, 1))


def two_input_model():
    input_a = Input(shape=(3,), batch_size=2, name="input_a")
    input_b = Input(shape=(3,), batch_size=2, name="input_b")
    x = layers.Dense(5)(layers.Add()([input_a, input_b]))
    return Model([input_a, input_b], layers.Dense(4)(x))


def single_output(kind=None):
    x = Input(shape=(3,), name="input_a")
    out = layers.Dense(1, name="output_a")(x)
    return Model(x, {"list": [out], "dict": {"output_a": out}}.get(kind, out))


def multi_outputs_list(named=True):
    x = Input(shape=(3,), name="input_a")
    a = layers.Dense(1, **({"name": "output_a"} if named else {}))(x)
    b = layers.Dense(1, activation="sigmoid", **({"name": "output_b"} if named else {}))(x)
    return Model(x, [a, b])


def multi_outputs_dict():
    x = Input(shape=(3,), name="input_a")
    a = layers.Dense(1, name="output_a")(x)
    b = layers.Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, {"output_a": a, "output_b": b})


def history_keys(model, y, **compile_args):
    model.compile(optimizer="sgd", **compile_args)
    return sorted(model.fit(X, y, batch_size=2, epochs=1, verbose=0).history)


def test_functional_rerouting():
    assert isinstance(two_input_model(), Model)


@pytest.mark.parametrize("kind", [None, "list"])
def test_functional_pickling(kind):
    model = single_output(kind)
    model.compile(optimizer="sgd", loss="mse")  # Keras's compile() takes no optimizer
    reloaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        np.asarray(reloaded.predict(X, verbose=0)), np.asarray(model.predict(X, verbose=0))
    )


@pytest.mark.parametrize("kind", [None, "list", "dict"])
@pytest.mark.parametrize("loss_type", [None, "list", "dict", "dict_list"])
def test_functional_single_output(kind, loss_type):
    loss = "mean_squared_error"
    loss = {
        None: loss,
        "list": [loss],
        "dict": {"output_a": loss},
        "dict_list": {"output_a": [loss]},
    }[loss_type]
    keys = history_keys(
        single_output(kind),
        Y1,
        loss=loss,
        metrics={"output_a": ["mean_squared_error", "mean_absolute_error"]},
        weighted_metrics={"output_a": "mean_squared_error"},
    )
    # One output, even in a list or a dict: its logs are not named after it.
    assert keys == [
        "loss",
        "mean_absolute_error",
        "mean_squared_error",
        "weighted_mean_squared_error",
    ]


LIST_LOSS_KEYS = [
    "loss",
    "output_a_loss",
    "output_a_mean_squared_error",
    "output_b_accuracy",
    "output_b_loss",
    "output_b_mean_squared_error",
]


def test_functional_list_outputs_list_losses():
    keys = history_keys(
        multi_outputs_list(),
        (Y1, Y2),
        loss=["mean_squared_error", "binary_crossentropy"],
        metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]],
        loss_weights=[0.1, 2],
    )
    assert keys == LIST_LOSS_KEYS


def test_functional_list_outputs_list_losses_abbr():
    keys = history_keys(
        multi_outputs_list(),
        (Y1, Y2),
        loss=["mse", "bce"],
        metrics=[["bce", "mse", "mae"], ["mse", "acc"]],
        loss_weights=[0.1, 2],
    )
    assert keys == sorted(
        [
            "loss",
            "output_a_loss",
            "output_a_bce",
            "output_a_mae",
            "output_a_mse",
            "output_b_acc",
            "output_b_loss",
            "output_b_mse",
        ]
    )


def test_functional_list_outputs_nested_list_losses():
    keys = history_keys(
        multi_outputs_list(),
        (Y1, Y2),
        loss=["mean_squared_error", ["binary_crossentropy"]],
        metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]],
        loss_weights=[0.1, 2],
    )
    assert keys == LIST_LOSS_KEYS


WEIGHTED_BOTH_KEYS = sorted(
    [
        "loss",
        "output_a_loss",
        "output_a_mean_squared_error",
        "output_a_weighted_mean_squared_error",
        "output_b_accuracy",
        "output_b_loss",
        "output_b_mean_squared_error",
        "output_b_weighted_accuracy",
        "output_b_weighted_mean_squared_error",
    ]
)
BOTH_METRICS = {
    "output_a": ["mean_squared_error"],
    "output_b": ["mean_squared_error", "accuracy"],
}


def test_functional_dict_outputs_dict_losses():
    model = multi_outputs_dict()
    model.compile(
        optimizer="sgd",
        loss={"output_a": "mean_squared_error", "output_b": ["binary_crossentropy"]},
        metrics=BOTH_METRICS,
        weighted_metrics=BOTH_METRICS,
    )
    outputs = model.predict(X, verbose=0)
    assert isinstance(outputs, dict)
    assert outputs["output_a"].shape == (8, 1) and outputs["output_b"].shape == (8, 1)
    history = model.fit(X, {"output_a": Y1, "output_b": Y2}, batch_size=2, verbose=0)
    assert sorted(history.history) == WEIGHTED_BOTH_KEYS


def test_functional_list_outputs_dict_losses_metrics():
    model = multi_outputs_list()
    model.compile(
        optimizer="sgd",
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
        metrics=BOTH_METRICS,
        weighted_metrics=BOTH_METRICS,
    )
    outputs = model.predict(X, verbose=0)
    assert isinstance(outputs, list) and outputs[1].shape == (8, 1)
    assert sorted(model.fit(X, (Y1, Y2), batch_size=2, verbose=0).history) == WEIGHTED_BOTH_KEYS


def test_functional_list_outputs_dict_losses_metrics_uniq_weighted():
    keys = history_keys(
        multi_outputs_list(),
        (Y1, Y2),
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
        metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error"]},
        weighted_metrics={"output_a": ["mean_squared_error"], "output_b": ["accuracy"]},
    )
    # A metric only among the weighted ones keeps its name, without `weighted_`.
    assert keys == sorted(
        [
            "loss",
            "output_a_loss",
            "output_a_mean_squared_error",
            "output_a_weighted_mean_squared_error",
            "output_b_accuracy",
            "output_b_loss",
            "output_b_mean_squared_error",
        ]
    )


def test_functional_list_outputs_dict_losses_partial_metrics():
    keys = history_keys(
        multi_outputs_list(),
        (Y1, Y2),
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
        metrics={"output_b": ["mean_squared_error", "accuracy"]},
    )
    assert keys == sorted(
        [
            "loss",
            "output_a_loss",
            "output_b_accuracy",
            "output_b_loss",
            "output_b_mean_squared_error",
        ]
    )


def test_functional_dict_outputs_with_single_tensor():
    x = Input(shape=(3,), name="input_a")
    output = layers.Dense(1, name="output_a")(x)
    model = Model(x, {"output_a": output, "output_b": output})
    assert len(model.outputs) == 2
    keys = history_keys(
        model,
        (Y1, Y2),
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
    )
    assert keys == ["loss", "output_a_loss", "output_b_loss"]


# Keras raises these at fit; minicnn at compile, before anything is set.
@pytest.mark.parametrize(
    "make, compile_args, message",
    [
        (  # test_functional_list_outputs_dict_losses_invalid_keys
            multi_outputs_list,
            {"loss": {"output_a": "mean_squared_error", "output_c": "binary_crossentropy"}},
            "Expected keys",
        ),
        (  # test_functional_list_outputs_dict_losses_no_output_names
            lambda: multi_outputs_list(named=False),
            {"loss": {"output_a": "mean_squared_error"}},
            "Expected keys",
        ),
        (  # test_functional_list_outputs_dict_metrics_invalid_keys
            multi_outputs_list,
            {
                "loss": {"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                "metrics": {"output_c": ["mean_squared_error", "accuracy"]},
            },
            "(?s)Invalid `metrics`.*output_c",
        ),
        (  # test_functional_dict_outputs_dict_losses_invalid_keys (Keras: a KeyError)
            multi_outputs_dict,
            {"loss": {"output_a": "mean_squared_error", "output_c": "binary_crossentropy"}},
            "in the `loss` argument, can't be found in either the model's output",
        ),
        (  # test_functional_dict_outputs_dict_metrics_invalid_keys
            multi_outputs_dict,
            {
                "loss": {"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                "metrics": {"output_c": ["mean_squared_error", "accuracy"]},
            },
            "(?s)Invalid `metrics`.*output_c",
        ),
    ],
)
def test_keys_that_name_no_output_are_refused(make, compile_args, message):
    model = make()
    with pytest.raises(ValueError, match=message):
        model.compile(optimizer="sgd", **compile_args)
    assert not model.compiled


def test_functional_list_outputs_invalid_nested_list_losses_is_refused():
    # A listed difference: Keras 3.16 trains output_b on one of its two losses without a
    # word (its History shows one output_b_loss); minicnn asks for one loss per output.
    model = multi_outputs_list()
    with pytest.raises(ValueError, match="output 'output_b' is given 2 losses"):
        model.compile(
            optimizer="sgd",
            loss=["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]],
        )


def test_weighted_metrics_weigh_samples_and_metrics_do_not():
    # Keras's CompileMetrics: `metrics` ignore sample_weight, `weighted_metrics` use it.
    model = single_output()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    w = np.array([1, 0, 0, 0, 0, 0, 0, 3.0])
    logs = model.evaluate(X, Y1, sample_weight=w, verbose=0, return_dict=True)
    errors = np.abs(model.predict(X, verbose=0) - Y1)[:, 0]
    np.testing.assert_allclose(logs["mae"], errors.mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["weighted_mae"], (errors * w).sum() / w.sum(), rtol=1e-6)
    restored = Model.from_config(model.get_config())
    restored.compile_from_config(model.get_compile_config())
    assert restored.get_compile_config()["weighted_metrics"] == ["mae"]


def test_layers_setter():
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        single_output().layers = [layers.Dense(4)]


def test_functional_dict_outputs_dict_losses_with_undefined_loss():
    model = multi_outputs_dict()
    model.compile(
        optimizer="sgd",
        loss={"output_b": ["binary_crossentropy"]},
        metrics={"output_b": ["mean_squared_error", "accuracy"]},
        weighted_metrics={"output_b": ["mean_squared_error", "accuracy"]},
    )
    outputs = model.predict(X, verbose=0)
    assert isinstance(outputs, dict) and outputs["output_a"].shape == (8, 1)
    kernel_a = model.get_layer("output_a").get_weights()[0]
    history = model.fit(X, {"output_a": Y1, "output_b": Y2}, batch_size=2, verbose=0)
    # One loss: no per-output loss is logged; output_a, without a loss, does not train.
    assert sorted(history.history) == [
        "loss",
        "output_b_accuracy",
        "output_b_mean_squared_error",
        "output_b_weighted_accuracy",
        "output_b_weighted_mean_squared_error",
    ]
    np.testing.assert_array_equal(model.get_layer("output_a").get_weights()[0], kernel_a)


def test_json_serialization():
    model = two_input_model()
    json_string = model.to_json()
    assert model_from_json(json_string).to_json() == json_string


def test_model_from_json_keeps_the_input_and_refuses_what_it_cannot_fill():
    # minicnn's own: a Sequential's Input (its name, a fixed batch size) survives, and a
    # JSON text alone cannot ask for more weights than MAX_JSON_WEIGHT_VALUES.
    model = Sequential([Input((3,), batch_size=4, name="pixels"), layers.Dense(2)])
    revived = model_from_json(model.to_json())
    assert revived.input_shape == (4, 3) and revived.inputs[0]._history[0].name == "pixels"
    huge = model.to_json().replace('"units": 2', '"units": 200000000')
    with pytest.raises(ValueError, match="refusing to build a model the file cannot fill"):
        model_from_json(huge)
    with pytest.raises(ValueError, match="custom_objects"):
        model_from_json(model.to_json(), custom_objects={"X": object})
