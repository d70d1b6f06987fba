"""The structure the other features build on: imports one way, the layer protocol
(training flag, seeded randomness, state that flows out of a step as values), one
validation rule, one registry mechanism, public ops that check their arguments."""

from __future__ import annotations

import ast
import pathlib

import autograd.numpy as anp
import numpy as np
import pytest

import minicnn
from minicnn import activations, initializers, losses, metrics, ops, optimizers
from minicnn import layers as L
from minicnn.callbacks import EarlyStopping
from minicnn.layers import Conv2D, Dense, Flatten, Input, Layer, WeightSpec
from minicnn.models import Sequential

PACKAGE = pathlib.Path(minicnn.__file__).parent


# --------------------------------------------------------------------------- imports


def internal_imports() -> dict[str, set[str]]:
    """module -> the minicnn modules it imports, lazy (function-level) imports included."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    edges = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                found |= {n for n in names if n in modules and n != "__init__"}
        edges[path.stem] = found
    return edges


def test_imports_inside_the_package_form_no_cycle():
    edges = internal_imports()
    done, stack = set(), []

    def visit(module):
        assert module not in stack, " -> ".join([*stack[stack.index(module) :], module])
        if module in done:
            return
        stack.append(module)
        for target in edges.get(module, ()):
            visit(target)
        stack.pop()
        done.add(module)

    for module in edges:
        if module != "__init__":
            visit(module)


def test_training_and_saving_do_not_import_models():
    edges = internal_imports()
    model_modules = {"models", "model", "sequential"}
    for module in ("compile_utils", "training", "saving"):
        assert not model_modules & edges[module], module


# --------------------------------------------------------------------------- test layers


class Noise(Layer):
    """Adds N(0, 1) noise in training only: a layer that needs randomness."""

    needs_rng = True
    spatial_mapping = "pointwise"

    def apply(self, weights, x, training=False, rng=None):
        if not training:
            return x
        if rng is None:
            raise ValueError(f"Layer '{self.name}' needs `rng` in training.")
        return x + rng.standard_normal(x.shape).astype(np.float32)


class Centre(Layer):
    """Subtracts a per-channel mean: the batch mean in training (and it moves the
    non-trainable running mean towards it), the running mean at inference."""

    def weight_specs(self, input_shape):
        return [WeightSpec("mean", (input_shape[-1],), initializers.Zeros(), trainable=False)]

    def apply(self, weights, x, training=False, rng=None):
        return self.stateless_call(weights, x, training, rng)[0]

    def stateless_call(self, weights, x, training=False, rng=None):
        (mean,) = weights
        if not training:
            return x - mean, [mean]
        batch = anp.sum(x, axis=0) / x.shape[0]
        return x - batch, [mean * 0.5 + batch * 0.5]


class Double(Layer):
    """A custom layer written against the plain ``apply(weights, x)``."""

    spatial_mapping = "pointwise"

    def apply(self, weights, x):
        return 2 * x


def centred_model():
    return Sequential([Input(shape=(3,)), Dense(3, name="d"), Centre(name="c")])


# --------------------------------------------------------------------------- protocol


def test_training_randomness_is_a_pure_function_of_the_seed():
    model = Sequential([Input(shape=(4,)), Noise()])
    w, x = model.weight_arrays(), np.zeros((2, 4), np.float32)
    a = model.apply(w, x, training=True, seed=3)
    np.testing.assert_array_equal(a, model.apply(w, x, training=True, seed=3))
    assert not np.array_equal(a, model.apply(w, x, training=True, seed=4))
    np.testing.assert_array_equal(model.apply(w, x), x)  # inference: identity
    assert model.needs_rng


def test_a_layer_that_needs_randomness_says_so_when_given_none():
    model = Sequential([Input(shape=(4,)), Noise(name="noise")])
    with pytest.raises(ValueError, match="'noise' needs `rng`"):
        model.apply(model.weight_arrays(), np.zeros((1, 4), np.float32), training=True)


def test_fit_with_random_layers_is_reproducible_under_set_random_seed():
    def run():
        minicnn.set_random_seed(5)
        model = Sequential([Input(shape=(4,)), Noise(), Dense(1)])
        model.compile("sgd", "mse")
        model.fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=4, epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stateless_call_returns_state_updates_and_changes_nothing():
    model = centred_model()
    weights = model.weight_arrays()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = model.get_weights()
    y, new = model.stateless_call(weights, x, training=True)
    kernel, bias, mean = before
    h = x @ kernel + bias
    np.testing.assert_allclose(y, h - h.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(new[2], 0.5 * mean + 0.5 * h.mean(axis=0), rtol=1e-6)
    assert new[0] is weights[0] and new[1] is weights[1]  # trainable weights untouched
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_commits_the_state_updates_of_the_forward_pass():
    model = centred_model()
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    kernel, bias, mean = model.get_weights()
    model.fit(x, np.zeros((2, 3)), batch_size=2, epochs=1, shuffle=False, verbose=0)
    h = x @ kernel + bias
    np.testing.assert_allclose(model.get_weights()[2], 0.5 * mean + 0.5 * h.mean(0), rtol=1e-6)
    # Inference uses the running mean, not the batch.
    np.testing.assert_allclose(model.predict(x), h - model.get_weights()[2], rtol=1e-5)


def test_non_trainable_weights_are_listed_but_not_trained():
    model = centred_model()
    assert model.weight_names == ["d/kernel", "d/bias", "c/mean"]
    assert model.trainable_indices() == [0, 1]
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 12" in lines[0] and "Non-trainable params: 3" in lines[0]


def test_a_custom_layer_with_the_plain_apply_signature_works_in_a_model():
    model = Sequential([Input(shape=(2,)), Double(), Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    np.testing.assert_array_equal(model.layers[0](np.ones((1, 2))), [[2, 2]])


def test_gradcheck_checks_training_mode_with_its_randomness_fixed():
    minicnn.set_random_seed(0)
    model = Sequential([Input(shape=(3,)), Dense(4), Noise(), Dense(2)])
    report = minicnn.gradcheck(model, np.ones((2, 3)), training=True, seed=1)
    assert report.passed, str(report)


# --------------------------------------------------------------------------- trainable


def test_model_trainable_false_freezes_every_layer_in_fit():
    minicnn.set_random_seed(0)
    model = Sequential([Input(shape=(3,)), Dense(2), Dense(1)])
    model.trainable = False
    assert not model.trainable and not any(layer.trainable for layer in model.layers)
    before = model.get_weights()
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 1)), verbose=0, epochs=2)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 0 " in lines[0] and "Non-trainable params: 11 " in lines[0]


# --------------------------------------------------------------------------- ops


X2 = np.zeros((1, 5, 5, 2), np.float32)
K2 = np.zeros((3, 3, 2, 4), np.float32)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: ops.conv(X2, K2, padding="bogus"), ValueError, ["ops.conv", "`padding`"]),
        (lambda: ops.conv(X2, K2[:, :, :1]), ValueError, ["ops.conv", "needs 1 input channels"]),
        (lambda: ops.conv(X2, K2[..., :3], groups=2), ValueError, ["groups=2"]),
        (lambda: ops.conv(X2, K2, groups=0), ValueError, ["`groups`"]),
        (lambda: ops.conv(X2, K2, groups=1.0), TypeError, ["`groups`"]),
        (lambda: ops.conv(X2, K2, strides=(1,)), ValueError, ["`strides`", "2 integers"]),
        (lambda: ops.conv(X2, K2, dilation_rate=0), ValueError, ["`dilation_rate`"]),
        (lambda: ops.conv(X2[0], K2), ValueError, ["ops.conv", "(5, 5, 2)"]),
        (lambda: ops.conv(X2, np.zeros((6, 6, 2, 1))), ValueError, ["zero or negative"]),
        (lambda: ops.pool(X2, 2, mode="min"), ValueError, ["ops.pool", "`mode`"]),
        (lambda: ops.pool(X2, 2, padding="causal"), ValueError, ["`padding`"]),
        (lambda: ops.pool(X2, (2, 2, 2)), ValueError, ["`pool_size`"]),
        (lambda: ops.pool(X2, 6), ValueError, ["zero or negative"]),
        (lambda: ops.pool(np.zeros((2, 3)), 2), ValueError, ["ops.pool", "at least 3"]),
        (lambda: ops.reduce_max(X2, (5,)), ValueError, ["`axis`"]),
        (lambda: ops.reduce_max(X2, (1,), keepdims=1), TypeError, ["`keepdims`"]),
        (lambda: ops.reduce_max(np.zeros((1, 0, 2)), (1,)), ValueError, ["empty axis"]),
        (lambda: ops.relu(X2, negative_slope="a"), TypeError, ["ops.relu", "negative_slope"]),
        (lambda: ops.relu(X2, max_value=float("inf")), ValueError, ["max_value"]),
    ],
)
def test_public_ops_reject_bad_arguments_naming_them(call, error, words):
    with pytest.raises(error) as err:
        call()
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ops.output_length(5, 3, 1, 1, "bogus"), "padding"),
        (lambda: ops.output_length(5, 0, 1, 1, "valid"), "kernel"),
        (lambda: ops.padding_amounts(5, 3, 1.5, 1, "same"), "stride"),
        (lambda: ops.window_positions(-1, 5, 3, 1, 1, "same"), "out_index"),
        (lambda: ops.conv_transpose_pads(4, 3, 2, 1, "causal", None), "padding"),
        (lambda: ops.conv_transpose_length(4, 3, 2, 1, "same", -1), "output_padding"),
        (lambda: ops.upsample_sources({0}, 4, 2, "bicubic"), "interpolation"),
        (lambda: ops.bilinear_weights(0, 2), "length"),
    ],
)
def test_the_public_geometry_functions_check_their_arguments_too(call, name):
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        call()


def test_ops_padding_is_case_insensitive_like_keras():
    np.testing.assert_array_equal(
        ops.conv(X2, K2, padding="SAME"), ops.conv(X2, K2, padding="same")
    )


def test_window_positions_is_keras_same_padding_geometry():
    # L=4, k=4, same: 3 of padding, 1 before (total // 2), 2 after.
    assert ops.window_positions(0, 4, 4, 1, 1, "same").tolist() == [-1, 0, 1, 2]
    assert ops.window_positions(1, 9, 3, 2, 1, "valid").tolist() == [2, 3, 4]
    assert ops.window_positions(2, 5, 2, 1, 3, "causal").tolist() == [-1, 2]


# --------------------------------------------------------------------------- one validation rule


def test_numpy_integers_count_as_integers_everywhere():
    model = Sequential([Input(shape=(2,)), Dense(np.int64(1))])
    model.compile(optimizers.SGD(momentum=np.float32(0.5)), "mse")
    history = model.fit(
        np.ones((4, 2)), np.ones((4, 1)), epochs=np.int64(2), batch_size=np.int32(2), verbose=0
    )
    assert history.epoch == [0, 1]
    assert EarlyStopping(patience=np.int64(2)).patience == 2


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: optimizers.SGD(nesterov=1), "nesterov"),
        (lambda: losses.BinaryCrossentropy(from_logits="yes"), "from_logits"),
        (lambda: Conv2D(1, 3, use_bias=0), "use_bias"),
        (lambda: EarlyStopping(patience=1.0), "patience"),
        (lambda: Input(shape=(3,), batch_size="banana"), "batch_size"),
        (lambda: metrics.BinaryAccuracy(threshold="half"), "threshold"),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_owner_and_argument(call, name):
    with pytest.raises(TypeError, match=rf"`{name}` must be .* Received: {name}="):
        call()


def test_fit_shuffle_of_the_wrong_type_is_a_type_error_like_every_flag():
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="fit: `shuffle` must be a bool. Received: shuffle=1"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), shuffle=1, verbose=0)


def test_input_batch_size_is_kept_in_the_model_input_shape():
    model = Sequential([Input(shape=(3,), batch_size=4), Dense(2)])
    assert model.input_shape == (4, 3) and model.output_shape == (4, 2)
    assert L.InputLayer(shape=(3,), batch_size=4).get_config()["batch_size"] == 4
    with pytest.raises(ValueError, match="batch_size"):
        Input(shape=(3,), batch_size=0)


# --------------------------------------------------------------------------- one registry


@pytest.mark.parametrize(
    "module, obj",
    [
        (losses, losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)),
        (metrics, metrics.BinaryAccuracy(threshold=0.3)),
        (optimizers, optimizers.Adam(learning_rate=0.01, amsgrad=True)),
        (initializers, initializers.HeUniform(seed=3)),
        (L, Conv2D(2, 3, padding="same", activation="relu")),
    ],
)
def test_every_family_round_trips_through_its_registry(module, obj):
    config = module.serialize(obj)
    assert config["class_name"] == type(obj).__name__
    rebuilt = module.deserialize(config)
    assert type(rebuilt) is type(obj) and rebuilt.get_config() == obj.get_config()


@pytest.mark.parametrize("module", [losses, metrics, optimizers, initializers, L])
def test_every_registry_refuses_an_unknown_class_by_name(module):
    with pytest.raises(ValueError, match="unknown class 'os.system'"):
        module.deserialize({"class_name": "os.system", "config": {}})


def test_a_registered_activation_given_as_a_function_serializes_by_name():
    layer = Dense(2, activation=activations.relu)
    assert layer.get_config()["activation"] == "relu"
    assert activations.serialize(activations.get("swish")) == "silu"
    with pytest.raises(TypeError, match="not one of minicnn's activation functions"):
        activations.serialize(lambda x: x)


def test_reassigning_a_layers_activation_takes_effect():
    model = Sequential([Input(shape=(2,)), Dense(2, activation="relu", name="d")])
    model.set_weights([-np.eye(2), np.zeros(2)])
    model.layers[0].activation = None
    np.testing.assert_array_equal(model.predict(np.ones((1, 2))), [[-1, -1]])
    assert model.layers[0].get_config()["activation"] == "linear"


def test_get_of_none_is_none_for_losses_and_initializers_and_linear_for_activations():
    assert losses.get(None) is None and initializers.get(None) is None
    assert activations.get(None) is activations.linear


# --------------------------------------------------------------------------- optimizers


def test_update_on_an_unbuilt_optimizer_starts_from_zero_slots_and_builds_nothing():
    adam = optimizers.Adam(learning_rate=0.1)
    w, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    new_w, variables = adam.update([g], [w])
    assert not adam.built and adam.slot_arrays == [] and adam.iterations == 0
    np.testing.assert_allclose(variables[0], 0.1 * g, rtol=1e-6)  # m = (1 - beta_1) * g
    np.testing.assert_allclose(new_w[0], w - 0.1, rtol=1e-5)  # first Adam step: lr * sign
    adam.assign(variables, 1, [w])
    assert adam.built and adam.iterations == 1


def test_assign_refuses_a_state_of_other_shapes():
    sgd = optimizers.SGD(momentum=0.9)
    sgd.build([np.zeros(3, np.float32)])
    with pytest.raises(ValueError, match="do not match"):
        sgd.assign([np.zeros(4, np.float32)], 1)


# --------------------------------------------------------------------------- layer look-up


def test_get_layer_and_explain_find_layers_the_same_way():
    model = Sequential([Input(shape=(4, 4, 1)), Conv2D(1, 3, name="c"), Flatten(), Dense(1)])
    assert model.get_layer("c") is model.layers[model.locate_layer("c")]
    assert model.locate_layer(model.layers[2]) == 2 and model.locate_layer(-1) == 2
    for call in (lambda: model.get_layer("x"), lambda: model.receptive_field("x", (0, 0))):
        with pytest.raises(ValueError, match=r"No such layer: x\. Existing layers are"):
            call()


def test_checked_arguments_are_cached_by_type_so_a_bool_never_passes_for_an_int():
    ops.conv(X2, K2, strides=1)
    ops.conv(X2, K2, strides=(1, 1))
    for bad in (True, (True, 1)):
        with pytest.raises(ValueError, match="`strides`"):
            ops.conv(X2, K2, strides=bad)
    ops.pool(X2, 2)
    with pytest.raises(ValueError, match="`pool_size`"):
        ops.pool(X2, (2, True))
    np.testing.assert_array_equal(ops.conv(X2, K2, strides=[1, 1]), ops.conv(X2, K2))
    with pytest.raises(ValueError, match="`strides`"):
        ops.conv(X2, K2, strides={1: 1})  # unhashable: checked without the cache
