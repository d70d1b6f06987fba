"""Sequential: building, names, weights, predict/apply, dtypes, summary, initial weights."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from minicnn import set_random_seed
from minicnn.layers import (
    Activation,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    MaxPooling2D,
    ReLU,
)
from minicnn.models import Model, Sequential

RNG = np.random.default_rng(7)


def tutorial_2d_model():
    model = Sequential()
    model.add(Conv2D(1, (3, 3), input_shape=(8, 8, 1)))
    return model


def small_cnn(**conv_kwargs):
    return Sequential(
        [
            Input(shape=(6, 6, 2)),
            Conv2D(3, 3, padding="same", activation="relu", **conv_kwargs),
            MaxPooling2D(2),
            Conv2D(2, 2),
            Flatten(),
            Dense(4, activation="softmax"),
        ]
    )


# --------------------------------------------------------------------------- building


def test_first_layer_with_input_shape_builds_model_at_add():
    model = tutorial_2d_model()
    assert model.built
    assert model.input_shape == (None, 8, 8, 1)
    assert model.output_shape == (None, 6, 6, 1)
    detector = np.zeros((3, 3, 1, 1))
    detector[:, 1] = 1
    model.set_weights([detector, np.zeros(1)])
    np.testing.assert_array_equal(model.get_weights()[0], detector)


def test_input_first_builds_and_is_not_listed_in_layers():
    model = Sequential([Input(shape=(8, 1)), Conv1D(2, 3), Flatten()])
    assert model.built
    assert [layer.name for layer in model.layers] == ["conv1d", "flatten"]
    assert model.input_shape == (None, 8, 1)
    assert model.output_shape == (None, 12)


def test_input_added_with_add_then_layers():
    model = Sequential()
    model.add(Input(shape=(5, 5, 3)))
    model.add(Conv2D(2, 3))
    assert model.built and model.output_shape == (None, 3, 3, 2)
    assert len(model.layers) == 1


def test_input_after_a_layer_rejected():
    model = Sequential([Conv1D(1, 2)])
    with pytest.raises(ValueError, match="an Input can only be the first element"):
        model.add(Input(shape=(4, 1)))


@pytest.mark.parametrize("thing", [3, "conv", np.zeros(3), Conv2D])
def test_adding_a_non_layer_is_value_error(thing):
    model = Sequential()
    with pytest.raises(ValueError, match=r"Only instances of `minicnn.layers.Layer` can be added"):
        model.add(thing)
    assert model.layers == []


def test_duplicate_layer_names_rejected():
    model = Sequential([Dense(2, name="head", input_shape=(3,))])
    with pytest.raises(
        ValueError,
        match="All layers added to a Sequential model should have unique names. "
        "Name 'head' is already the name of a layer in this model.",
    ):
        model.add(Dense(2, name="head"))
    assert len(model.layers) == 1


def test_same_layer_instance_twice_rejected():
    layer = Dense(3, input_shape=(3,))
    model = Sequential([layer])
    with pytest.raises(ValueError, match="layer 'dense' is already in this model"):
        model.add(layer)


def test_layer_that_cannot_take_the_shape_leaves_model_unchanged():
    model = Sequential([Input(shape=(8, 8, 3))])
    with pytest.raises(ValueError, match="number of input channels must be evenly divisible"):
        model.add(Conv2D(4, 3, groups=2))
    assert model.layers == []
    with pytest.raises(ValueError, match=r"Layer 'conv2d_1': computed output size"):
        model.add(Conv2D(4, 9))
    model.add(Conv2D(4, 3))
    assert [layer.name for layer in model.layers] == ["conv2d_2"]


def test_model_names_are_unique():
    assert [Sequential().name for _ in range(3)] == ["sequential", "sequential_1", "sequential_2"]
    assert Sequential(name="lines").name == "lines"


def test_layer_names_across_a_model():
    model = Sequential(
        [
            Input((8, 8, 1)),
            Conv2D(2, 3),
            ReLU(),
            Conv2D(2, 3),
            MaxPooling2D(),
            GlobalAveragePooling2D(keepdims=True),
            Flatten(),
        ]
    )
    assert [layer.name for layer in model.layers] == [
        "conv2d",
        "re_lu",
        "conv2d_1",
        "max_pooling2d",
        "global_average_pooling2d",
        "flatten",
    ]


def test_model_without_input_shape_builds_lazily_on_predict():
    model = Sequential([Conv2D(2, 3), GlobalMaxPooling2D()])
    assert not model.built
    assert model.get_weights() == []
    y = model.predict(np.ones((3, 7, 5, 4)))
    assert model.built
    assert y.shape == (3, 2) and y.dtype == np.float32
    assert [w.shape for w in model.get_weights()] == [(3, 3, 4, 2), (2,)]


def test_explicit_build():
    model = Sequential([Conv1D(2, 3), Dense(1)])
    model.build((None, 10, 4))
    assert model.output_shape == (None, 8, 1)
    assert model.count_params() == 3 * 4 * 2 + 2 + 2 + 1


def test_build_rejecting_a_shape_builds_nothing():
    model = Sequential([Conv1D(2, 3), Conv1D(2, 9)])
    with pytest.raises(ValueError, match="computed output size would be zero or negative"):
        model.build((None, 8, 1))
    assert not model.built
    assert not any(layer.built for layer in model.layers)


# --------------------------------------------------------------------------- weights


def test_get_weights_order_is_kernel_bias_per_layer_in_add_order():
    model = small_cnn()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 3, 2, 3), (3,), (2, 2, 3, 2), (2,), (8, 4), (4,)]
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.count_params() == sum(math.prod(s) for s in shapes)


def test_set_weights_round_trip_and_int_weights_become_float32():
    model = small_cnn()
    new = [np.arange(w.size).reshape(w.shape) for w in model.get_weights()]
    model.set_weights(new)
    got = model.get_weights()
    assert all(w.dtype == np.float32 for w in got)
    for a, b in zip(got, new, strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_wrong_count_names_model_and_counts():
    model = tutorial_2d_model()
    message = (
        "You called `set_weights(weights)` on layer 'sequential' with a weight list of "
        "length 1, but the layer was expecting 2 weights."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        model.set_weights([np.ones((3, 3, 1, 1))])


def test_set_weights_wrong_shape_names_both_shapes():
    model = Sequential([Conv1D(1, 3, input_shape=(8, 1))])
    message = (
        "Layer sequential weight shape (3, 1, 1) is not compatible with provided weight "
        "shape (3, 1)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        model.set_weights([np.ones((3, 1)), np.zeros(1)])


@pytest.mark.parametrize(
    "bad_last, error, match",
    [
        (np.zeros(5), ValueError, r"weight shape \(4,\) is not compatible"),
        (np.array(["a", "b", "c", "d"]), TypeError, "weight 5 expects a numeric array"),
        (np.zeros(4, dtype=object), TypeError, "weight 5 expects a numeric array"),
        ([[1, 2], [3]], ValueError, "weight 5 expects a numeric array; the input is ragged"),
    ],
)
def test_set_weights_is_all_or_nothing(bad_last, error, match):
    model = small_cnn()
    before = model.get_weights()
    new = [np.ones(w.shape) for w in before[:-1]] + [bad_last]
    with pytest.raises(error, match=match):
        model.set_weights(new)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_rejects_a_bare_array():
    model = Sequential([Dense(1, input_shape=(1,))])
    with pytest.raises(TypeError, match="expects a list of arrays"):
        model.set_weights(np.ones((2, 1)))


def test_get_weights_returns_copies():
    model = tutorial_2d_model()
    model.get_weights()[0][...] = 5
    assert not (model.get_weights()[0] == 5).any()


# --------------------------------------------------------------------------- predict & apply


def test_predict_batches_equal_one_apply_over_everything():
    model = small_cnn()
    x = np.random.default_rng(0).normal(size=(11, 6, 6, 2)).astype(np.float32)
    whole = model.apply(model.get_weights(), x)
    for batch_size in (1, 3, 4, 11, 32):
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size), whole, rtol=1e-6)
    np.testing.assert_allclose(model(x), whole, rtol=1e-6)


def test_predict_empty_input_gives_empty_float32_output():
    y = tutorial_2d_model().predict(np.zeros((0, 8, 8, 1)))
    assert y.shape == (0, 6, 6, 1) and y.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, bool, np.float16, np.float64])
def test_predict_casts_input_and_returns_float32(dtype):
    model = Sequential([Conv1D(1, 2, kernel_initializer="ones", input_shape=(3, 1))])
    y = model.predict(np.array([[[1], [1], [0]]], dtype=dtype))
    assert y.dtype == np.float32
    assert y.ravel().tolist() == [2, 1]


def test_predict_accepts_nested_lists():
    model = Sequential([Conv1D(1, 2, kernel_initializer="ones", input_shape=(3, 1))])
    assert model.predict([[[1], [2], [3]]]).ravel().tolist() == [3, 5]


@pytest.mark.parametrize("batch_size", [0, -1])
def test_predict_rejects_non_positive_batch_size(batch_size):
    with pytest.raises(ValueError, match=r"`batch_size` must be an integer >= 1 or None"):
        tutorial_2d_model().predict(np.zeros((1, 8, 8, 1)), batch_size=batch_size)


@pytest.mark.parametrize("batch_size", [2.5, True, "4"])
def test_predict_rejects_non_integer_batch_size(batch_size):
    with pytest.raises(TypeError, match=r"`batch_size` must be an integer >= 1 or None"):
        tutorial_2d_model().predict(np.zeros((1, 8, 8, 1)), batch_size=batch_size)


def test_predict_on_tiny_input_prints_nothing(capsys):
    tutorial_2d_model().predict(np.zeros((1, 8, 8, 1)))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_apply_keeps_float64_and_float32():
    model = small_cnn()
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2))
    w64 = [w.astype(np.float64) for w in model.get_weights()]
    assert model.apply(w64, x).dtype == np.float64
    assert model.apply(model.get_weights(), x.astype(np.float32)).dtype == np.float32


def test_apply_is_pure_and_uses_the_weights_given():
    model = Sequential([Dense(1, input_shape=(2,))])
    before = model.get_weights()
    y = model.apply([np.array([[1.0], [2.0]]), np.array([0.5])], np.array([[1.0, 1.0]]))
    assert y.tolist() == [[3.5]]
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_model_with_every_layer_type_keeps_float32_end_to_end():
    model = Sequential(
        [
            Input((9, 9, 2)),
            Conv2D(4, 3, groups=2, activation="gelu"),
            ReLU(max_value=6.0),
            AveragePooling2D(2, padding="same"),
            Activation("tanh"),
            MaxPooling2D(2, 1),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(4, 9, 9, 2)).astype(np.float32)
    assert model.apply(model.get_weights(), x).dtype == np.float32
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "x, error, match",
    [
        (
            np.zeros((8, 8, 1)),
            ValueError,
            r"`x` of shape \(8, 8, 1\) does not fit .*one sample without the batch axis",
        ),
        (np.zeros((8,)), ValueError, r"layer 'conv2d' .*expected min_ndim=4, found ndim=1"),
        (np.zeros((1, 8, 8, 2)), ValueError, r"layer 'conv2d' .*axis -1 .*value 1.*\(1, 8, 8, 2\)"),
        (np.zeros((1, 2, 8, 1)), ValueError, r"Layer 'conv2d': computed output size"),
        (np.array([[[["x"]]]]), TypeError, r"'sequential' expects a numeric array"),
        ([[1, 2], [3]], ValueError, r"'sequential' expects a numeric array; the input is ragged"),
    ],
)
def test_predict_rejects_bad_input_naming_layer_and_shape(x, error, match):
    with pytest.raises(error, match=match):
        tutorial_2d_model().predict(x)


def test_predict_on_model_without_layers_rejected():
    with pytest.raises(ValueError, match="has no layers"):
        Sequential().predict(np.zeros((1, 3)))


# --------------------------------------------------------------------------- summary


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_summary_of_tutorial_model_matches_keras_layout():
    text = summary_text(tutorial_2d_model())
    assert text.startswith('Model: "sequential"')
    assert re.search(r"┃ Layer \(type\)\s+┃ Output Shape\s+┃\s+Param # ┃", text)
    assert re.search(r"│ conv2d \(Conv2D\)\s+│ \(None, 6, 6, 1\)\s+│\s+10 │", text)
    assert " Total params: 10 (40.00 B)" in text
    assert " Trainable params: 10 (40.00 B)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text


def test_summary_lists_every_layer_with_thousands_separators():
    model = Sequential([Input((8, 8, 1)), Conv2D(4, 3), MaxPooling2D(), Flatten(), Dense(300)])
    text = summary_text(model)
    rows = [
        r"conv2d \(Conv2D\)\s+│ \(None, 6, 6, 4\)\s+│\s+40 │",
        r"max_pooling2d \(MaxPooling2D\)\s+│ \(None, 3, 3, 4\)\s+│\s+0 │",
        r"flatten \(Flatten\)\s+│ \(None, 36\)\s+│\s+0 │",
        r"dense \(Dense\)\s+│ \(None, 300\)\s+│\s+11,100 │",
    ]
    for row in rows:
        assert re.search(row, text), row
    assert "input" not in text.lower()
    assert " Total params: 11,140 (43.52 KB)" in text


def test_summary_prints_to_stdout_by_default(capsys):
    tutorial_2d_model().summary()
    assert "Total params: 10 (40.00 B)" in capsys.readouterr().out


# --------------------------------------------------------------------------- initial weights


def glorot_limit(fan_in, fan_out):
    return math.sqrt(6 / (fan_in + fan_out))


def test_glorot_uniform_conv_kernel_bounds_and_spread():
    set_random_seed(123)
    model = Sequential([Conv2D(32, 5, input_shape=(20, 20, 16))])
    kernel = model.get_weights()[0]
    limit = glorot_limit(16 * 25, 32 * 25)
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.999 * limit
    # U(-l, l) has mean 0 and std l / sqrt(3); 12,800 samples pin both down to ~1%
    assert abs(kernel.mean()) < 3 * limit / math.sqrt(3) / math.sqrt(kernel.size)
    assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)


def test_glorot_uniform_fans_use_in_channels_per_group():
    set_random_seed(0)
    model = Sequential([Conv2D(16, 3, groups=4, input_shape=(5, 5, 8))])
    kernel = model.get_weights()[0]
    assert kernel.shape == (3, 3, 2, 16)
    limit = glorot_limit(2 * 9, 16 * 9)
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit


def test_glorot_uniform_dense_kernel():
    set_random_seed(7)
    kernel = Sequential([Dense(50, input_shape=(30,))]).get_weights()[0]
    limit = glorot_limit(30, 50)
    assert np.abs(kernel).max() <= limit
    assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.05)


def test_set_random_seed_reproduces_initial_weights():
    set_random_seed(42)
    first = small_cnn().get_weights()
    set_random_seed(42)
    second = small_cnn().get_weights()
    set_random_seed(43)
    third = small_cnn().get_weights()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], third[0])


def test_summary_wraps_a_long_layer_name_inside_its_column_as_keras_does(capsys):
    # The expected rows are copied from Keras 3.15.1's summary of the same model.
    model = Sequential([Input((28, 28, 1)), GlobalAveragePooling2D(), Dense(10)])
    model.summary()
    text = capsys.readouterr().out
    assert (
        "│ global_average_pooling2d        │ (None, 1)              │             0 │\n"
        "│ (GlobalAveragePooling2D)        │                        │               │\n"
    ) in text
    assert "│ dense (Dense)                   │ (None, 10)             │            20 │" in text


def test_get_layer_by_name_or_index_with_keras_messages():
    model = Sequential([Conv2D(2, 3, name="c", input_shape=(8, 8, 1)), Dense(3)])
    assert model.get_layer("c") is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[1]
    # Messages as Keras 3.15.1 words them for the same calls.
    with pytest.raises(
        ValueError, match=r"No such layer: x\. Existing layers are: \['c', 'dense'\]"
    ):
        model.get_layer("x")
    with pytest.raises(ValueError, match="at index 5 but model only has 2 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("c", 0)


def test_compute_output_shape_follows_the_stack_and_names_a_layer_that_cannot_take_it():
    model = Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), Dense(3)])
    assert model.compute_output_shape((None, 8, 8, 1)) == (None, 6, 6, 3)
    assert model.compute_output_shape((4, 10, 10, 1)) == (4, 8, 8, 3)
    with pytest.raises(ValueError, match="conv2d"):
        model.compute_output_shape((None, 2, 2, 1))


def test_kernel_and_bias_attributes_are_copies_of_the_weights():
    conv = Conv2D(2, 3, input_shape=(8, 8, 1))
    dense = Dense(3, use_bias=False)
    model = Sequential([conv, dense])
    kernel, bias = model.get_weights()[:2]
    np.testing.assert_array_equal(conv.kernel, kernel)
    np.testing.assert_array_equal(conv.bias, bias)
    assert dense.bias is None  # as Keras's layer.bias with use_bias=False
    conv.kernel[...] = 7  # a copy: the layer's weights do not change
    np.testing.assert_array_equal(model.get_weights()[0], kernel)
    with pytest.raises(AttributeError, match="built"):
        _ = Conv2D(1, 3).kernel


# --------------------------------------------------------------------------- data shapes


def digits_model():
    model = Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), Flatten(), Dense(3)])
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    return model


def test_images_without_their_channel_axis_gain_it_as_in_keras():
    # Keras's Functional._adjust_input_rank: (n, 8, 8) for Input((8, 8, 1)) gains the
    # trailing axis of 1, in predict, fit and evaluate alike.
    model = digits_model()
    x = RNG.normal(size=(6, 8, 8)).astype(np.float32)
    want = model.predict(x[..., None])
    np.testing.assert_array_equal(model.predict(x), want)
    np.testing.assert_array_equal(model(x), want)
    model.compile("sgd", "mse")
    y = RNG.normal(size=(6, 3))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        model.evaluate(x[..., None], y, verbose=0)
    )
    twin = digits_model()
    twin.set_weights(model.get_weights())
    twin.compile("sgd", "mse")
    model.fit(x, y, epochs=2, verbose=0, shuffle=False, validation_data=(x, y))
    twin.fit(x[..., None], y, epochs=2, verbose=0, shuffle=False, validation_data=(x[..., None], y))
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_extra_trailing_axis_of_one_is_dropped_as_in_keras():
    x = Input((4,))
    model = Model(x, Dense(2)(x))
    data = RNG.normal(size=(5, 4, 1))
    np.testing.assert_array_equal(model.predict(data), model.predict(data[..., 0]))


def test_shape_errors_name_the_argument_and_the_whole_shape_passed():
    model = digits_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"fit: `x` of shape \(500, 1, 8, 8\) .*channels last"):
        model.fit(np.zeros((500, 1, 8, 8)), np.zeros(500), verbose=0)
    with pytest.raises(ValueError, match=r"fit: `validation_data\[0\]` of shape \(5, 8, 9\)"):
        model.fit(
            np.zeros((9, 8, 8)), np.zeros(9), validation_data=(np.zeros((5, 8, 9)), np.zeros(5))
        )
    with pytest.raises(ValueError, match=r"fit: `y` of per-sample shape \(4,\)"):
        model.fit(np.zeros((9, 8, 8)), np.zeros((9, 4)), verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: `x` of shape \(3, 9, 9, 1\)"):
        model.evaluate(np.zeros((3, 9, 9, 1)), np.zeros(3), verbose=0)
    with pytest.raises(
        ValueError, match=r"`x` of shape \(8, 8, 1\).*pass a batch of one, `x\[None\]`"
    ):
        model.predict(np.zeros((8, 8, 1)))
    assert model.predict(np.zeros((8, 8, 1))[None]).shape == (1, 3)


def test_from_config_of_a_subclass_makes_that_subclass():
    class Stack(Sequential):
        pass

    model = Stack([Input((3,), batch_size=2, name="cells"), Dense(2, name="d")])
    revived = Stack.from_config(model.get_config())
    assert type(revived) is Stack
    assert revived.input_shape == (2, 3) and revived.inputs[0]._history[0].name == "cells"
    assert type(Sequential.from_config(model.get_config())) is Sequential
