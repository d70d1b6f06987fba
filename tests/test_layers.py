"""Layers: Keras's argument validation and messages, shapes, weights and values."""

from __future__ import annotations

import re

import numpy as np
import pytest
import reference

from minicnn import layers
from minicnn.layers import (
    Activation,
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Conv3D,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    ReLU,
)

# --------------------------------------------------------------------------- construction

TUPLE_MSG = "The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"


def tuple_error(name, n, value):
    return re.escape(TUPLE_MSG.format(name=name, n=n, value=value))


@pytest.mark.parametrize("cls", [Conv1D, Conv2D, Conv3D])
@pytest.mark.parametrize("filters", [0, -1])
def test_non_positive_filters_rejected_with_keras_message(cls, filters):
    message = (
        "Invalid value for argument `filters`. Expected a strictly positive value. "
        f"Received filters={filters}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(filters, 3)


@pytest.mark.parametrize("filters", [2.5, True, "2", None])
def test_non_integer_filters_rejected(filters):
    with pytest.raises(ValueError, match=rf"Conv2D: .*`filters`.*Received filters={filters!r}"):
        Conv2D(filters, 3)


@pytest.mark.parametrize(
    "cls, value, shown",
    [
        (Conv2D, (3,), "(3,)"),
        (Conv2D, (3, 3, 3), "(3, 3, 3)"),
        (Conv1D, (3, 3), "(3, 3)"),
        (Conv3D, [3, 3], "[3, 3]"),
        (Conv2D, True, "True"),
        (Conv2D, 3.0, "3.0"),
        (Conv2D, "3", "'3'"),
        (Conv2D, None, "None"),
    ],
)
def test_kernel_size_of_wrong_length_or_type_rejected(cls, value, shown):
    with pytest.raises(ValueError, match=tuple_error("kernel_size", cls.rank, shown)):
        cls(2, value)


@pytest.mark.parametrize("value", [(3, 2.5), (3, True), (3, "3"), (3, None)])
def test_kernel_size_element_that_is_not_an_integer_rejected(value):
    shown = repr(value)
    with pytest.raises(
        ValueError, match=tuple_error("kernel_size", 2, shown) + ", including element"
    ):
        Conv2D(2, value)


@pytest.mark.parametrize("name", ["kernel_size", "strides", "dilation_rate"])
@pytest.mark.parametrize("value, bad", [(0, "0"), (-1, "-1"), ((3, 0), "0"), ((-2, 1), "-2")])
def test_zero_or_negative_sizes_rejected(name, value, bad):
    args = {"kernel_size": 3, name: value}
    with pytest.raises(
        ValueError,
        match=tuple_error(name, 2, repr(value))
        + rf", including values .*{bad}.* that do not satisfy `value > 0`",
    ):
        Conv2D(2, **args)


@pytest.mark.parametrize("name", ["strides", "dilation_rate"])
@pytest.mark.parametrize("value", [(1, 2, 3), (1,), 1.5, True, "1"])
def test_strides_and_dilation_of_wrong_length_or_type_rejected(name, value):
    with pytest.raises(ValueError, match=tuple_error(name, 2, repr(value))):
        Conv2D(2, 3, **{name: value})


def test_integral_float_elements_and_numpy_ints_accepted_as_in_keras():
    layer = Conv2D(2, (3.0, np.int64(2)), strides=[1, np.int32(1)])
    assert layer.kernel_size == (3, 2)
    assert layer.strides == (1, 1)
    assert all(type(v) is int for v in layer.kernel_size + layer.strides)


def test_scalar_arguments_expand_to_rank():
    layer = Conv3D(2, 3, strides=2)
    assert layer.kernel_size == (3, 3, 3)
    assert layer.strides == (2, 2, 2)
    assert layer.dilation_rate == (1, 1, 1)


@pytest.mark.parametrize("padding, expected", [("SAME", "same"), ("Valid", "valid")])
def test_padding_is_case_insensitive(padding, expected):
    assert Conv2D(2, 3, padding=padding).padding == expected
    assert MaxPooling2D(padding=padding).padding == expected


def test_causal_padding_accepted_by_conv1d_in_any_case():
    assert Conv1D(2, 3, padding="CAUSAL").padding == "causal"


@pytest.mark.parametrize(
    "make",
    [
        lambda p: Conv2D(2, 3, padding=p),
        lambda p: Conv3D(2, 3, padding=p),
        lambda p: MaxPooling1D(padding=p),
        lambda p: AveragePooling2D(2, padding=p),
    ],
)
def test_causal_padding_rejected_outside_conv1d(make):
    with pytest.raises(ValueError, match=r"The `padding` argument must be .*Received: .*causal"):
        make("causal")


@pytest.mark.parametrize("padding", ["full", "", None, 1])
def test_unknown_padding_rejected(padding):
    with pytest.raises(ValueError, match=r"The `padding` argument must be .*'valid'"):
        Conv1D(2, 3, padding=padding)


@pytest.mark.parametrize(
    "cls, strides, dilation, shown",
    [
        (Conv1D, 2, 2, "strides=(2,) and dilation_rate=(2,)"),
        (Conv2D, (2, 1), (2, 1), "strides=(2, 1) and dilation_rate=(2, 1)"),
        (Conv2D, (2, 1), (1, 2), "strides=(2, 1) and dilation_rate=(1, 2)"),
        (Conv3D, (1, 1, 3), (2, 1, 1), "strides=(1, 1, 3) and dilation_rate=(2, 1, 1)"),
    ],
)
def test_strides_with_dilation_rejected_even_on_different_axes(cls, strides, dilation, shown):
    message = "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
    with pytest.raises(ValueError, match=re.escape(message + shown)):
        cls(2, 3, strides=strides, dilation_rate=dilation)


def test_filters_not_divisible_by_groups_rejected():
    message = (
        "The number of filters must be evenly divisible by the number of groups. "
        "Received: groups=2, filters=3."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        Conv2D(3, 3, groups=2)


@pytest.mark.parametrize("groups", [0, -1])
def test_non_positive_groups_rejected(groups):
    with pytest.raises(
        ValueError,
        match=rf"The number of groups must be a positive integer. Received: groups={groups}",
    ):
        Conv1D(2, 3, groups=groups)


def test_input_channels_not_divisible_by_groups_rejected_at_build():
    layer = Conv2D(4, 3, groups=2)
    message = (
        "The number of input channels must be evenly divisible by the number of groups. "
        "Received groups=2, but the input has 3 channels (full input shape is (None, 8, 8, 3))."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.build((None, 8, 8, 3))
    assert not layer.built


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda: Conv2D(2, 3, foo=1), "Conv2D"),
        (lambda: Conv1D(2, 3, kernel_shape=3), "Conv1D"),
        (lambda: Dense(2, foo=1), "Dense"),
        (lambda: MaxPooling2D(foo=1), "MaxPooling2D"),
        (lambda: Flatten(foo=1), "Flatten"),
        (lambda: ReLU(foo=1), "ReLU"),
        (lambda: GlobalAveragePooling1D(foo=1), "GlobalAveragePooling1D"),
    ],
)
def test_unknown_keyword_arguments_rejected(make, kind):
    with pytest.raises(ValueError, match=rf"Unrecognized keyword arguments passed to {kind}: \{{"):
        make()


@pytest.mark.parametrize(
    "arg",
    [
        "kernel_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
    ],
)
@pytest.mark.parametrize("cls", [Conv1D, Conv2D, Dense])
def test_regularizers_and_constraints_rejected_clearly(cls, arg):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `{arg}` is not supported by minicnn"):
        cls(2, 3, **{arg: "l2"}) if cls is not Dense else cls(2, **{arg: "l2"})


@pytest.mark.parametrize(
    "make",
    [
        lambda f: Conv1D(2, 3, data_format=f),
        lambda f: Conv2D(2, 3, data_format=f),
        lambda f: MaxPooling2D(data_format=f),
        lambda f: AveragePooling1D(2, data_format=f),
        lambda f: GlobalMaxPooling2D(data_format=f),
        lambda f: Flatten(data_format=f),
    ],
)
def test_channels_first_rejected_clearly(make):
    with pytest.raises(ValueError, match="channels_first' is not supported"):
        make("channels_first")
    with pytest.raises(ValueError, match=r"`data_format` argument must be one of"):
        make("nhwc")
    make("channels_last")
    make("CHANNELS_LAST")


@pytest.mark.parametrize("units", [0, -3, 2.5, None, "a", True])
def test_dense_units_must_be_a_positive_integer(units):
    message = (
        "Received an invalid value for `units`, expected a positive integer. "
        f"Received: units={units!r}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        Dense(units)


@pytest.mark.parametrize("arg", ["max_value", "negative_slope", "threshold"])
def test_relu_arguments_cannot_be_negative(arg):
    # Keras 3.15's words (activations/relu.py): max_value may be None, the others not.
    cannot = "a negative value" if arg == "max_value" else "None or a negative value"
    message = f"{arg} of a ReLU layer cannot be {cannot}. Received: {arg}=-1"
    with pytest.raises(ValueError, match=re.escape(message)):
        ReLU(**{arg: -1})


@pytest.mark.parametrize("arg", ["negative_slope", "threshold"])
@pytest.mark.parametrize("value", [None, "a", float("nan"), float("inf")])
def test_relu_slope_and_threshold_must_be_finite_numbers(arg, value):
    with pytest.raises(ValueError, match=rf"{arg} of a ReLU layer .*Received: {arg}="):
        ReLU(**{arg: value})


def test_relu_max_value_none_means_unbounded():
    assert ReLU(max_value=None).max_value is None


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
def test_pooling_1d_arguments_validated(cls):
    with pytest.raises(ValueError, match=tuple_error("pool_size", 1, "0")):
        cls(0)
    with pytest.raises(ValueError, match=tuple_error("pool_size", 1, "(2, 2)")):
        cls((2, 2))
    with pytest.raises(ValueError, match=tuple_error("strides", 1, "-1")):
        cls(2, strides=-1)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_pooling_2d_arguments_validated(cls):
    with pytest.raises(ValueError, match=tuple_error("pool_size", 2, "(2, 2, 2)")):
        cls((2, 2, 2))
    with pytest.raises(ValueError, match=tuple_error("strides", 2, "(1,)")):
        cls(2, strides=(1,))
    with pytest.raises(ValueError, match=tuple_error("pool_size", 2, "2.5")):
        cls(2.5)


def test_pooling_strides_default_to_pool_size():
    assert MaxPooling2D((2, 3)).strides == (2, 3)
    assert AveragePooling1D(3, strides=1).strides == (1,)


def test_unknown_activation_and_initializer_rejected():
    with pytest.raises(
        ValueError, match="Could not interpret activation function identifier: 'bogus'"
    ):
        Conv2D(2, 3, activation="bogus")
    with pytest.raises(ValueError, match="Could not interpret `kernel_initializer`='bogus'"):
        Conv2D(2, 3, kernel_initializer="bogus")
    with pytest.raises(ValueError, match="Could not interpret `bias_initializer`=3"):
        Dense(2, bias_initializer=3)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_use_bias_must_be_bool(value):
    with pytest.raises(TypeError, match=r"Conv1D: `use_bias` must be a bool. Received: use_bias="):
        Conv1D(2, 3, use_bias=value)


def test_dtype_other_than_float32_rejected():
    Conv2D(2, 3, dtype="float32")
    with pytest.raises(ValueError, match="Conv2D: minicnn layers compute in float32"):
        Conv2D(2, 3, dtype="float64")


# --------------------------------------------------------------------------- names


def test_default_names_are_unique_snake_case():
    made = [
        Conv2D(1, 3),
        Conv2D(1, 3),
        Conv1D(1, 3),
        MaxPooling2D(),
        ReLU(),
        GlobalAveragePooling2D(),
        Dense(1),
        Conv2D(1, 3),
    ]
    assert [layer.name for layer in made] == [
        "conv2d",
        "conv2d_1",
        "conv1d",
        "max_pooling2d",
        "re_lu",
        "global_average_pooling2d",
        "dense",
        "conv2d_2",
    ]
    assert Conv2D(1, 3, name="edges").name == "edges"


# --------------------------------------------------------------------------- weights & shapes


def test_conv_weight_shapes_follow_keras():
    layer = Conv2D(6, (3, 2), groups=3)
    layer.build((None, 9, 9, 12))
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 4, 6), (6,)]
    assert all(w.dtype == np.float32 for w in layer.weights)
    assert layer.count_params() == 3 * 2 * 4 * 6 + 6


def test_conv_without_bias_has_only_a_kernel():
    layer = Conv1D(2, 3, use_bias=False)
    layer.build((None, 8, 1))
    assert [w.shape for w in layer.get_weights()] == [(3, 1, 2)]


def test_bias_starts_at_zero():
    layer = Dense(4)
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.get_weights()[1], np.zeros(4, np.float32))


@pytest.mark.parametrize(
    "layer, shape, expected",
    [
        (Conv1D(2, 3), (None, 8, 1), (None, 6, 2)),
        (Conv1D(2, 3, padding="causal", dilation_rate=2), (None, 8, 1), (None, 8, 2)),
        (Conv1D(2, 3, strides=2, padding="same"), (None, 7, 1), (None, 4, 2)),
        (Conv2D(4, (3, 2), strides=(2, 1)), (None, 9, 9, 1), (None, 4, 8, 4)),
        (Conv2D(4, 3, dilation_rate=2), (None, 9, None, 1), (None, 5, None, 4)),
        (Conv3D(1, 2, padding="same"), (None, 3, 4, 5, 2), (None, 3, 4, 5, 1)),
        (MaxPooling1D(2), (None, 7, 3), (None, 3, 3)),
        (MaxPooling2D(2, padding="same"), (None, 7, 5, 3), (None, 4, 3, 3)),
        (AveragePooling2D((3, 1), strides=1), (None, 5, 5, 2), (None, 3, 5, 2)),
        (GlobalMaxPooling1D(), (None, 7, 3), (None, 3)),
        (GlobalAveragePooling2D(keepdims=True), (None, 4, 5, 3), (None, 1, 1, 3)),
        (Flatten(), (None, 2, 3, 4), (None, 24)),
        (Flatten(), (None, None, 3), (None, None)),
        (Dense(5), (None, 7, 3), (None, 7, 5)),
        (ReLU(), (None, 3, 2), (None, 3, 2)),
    ],
    ids=lambda v: repr(v) if isinstance(v, tuple) else type(v).__name__,
)
def test_compute_output_shape(layer, shape, expected):
    assert layer.compute_output_shape(shape) == expected


def test_layer_set_weights_checks_count_and_shape_and_casts():
    layer = Conv1D(1, 3)
    layer.build((None, 8, 1))
    with pytest.raises(ValueError, match="with a weight list of length 1, but the layer was"):
        layer.set_weights([np.ones((3, 1, 1))])
    with pytest.raises(ValueError, match=re.escape("weight shape (3, 1, 1) is not compatible")):
        layer.set_weights([np.ones((3, 1)), np.zeros(1)])
    layer.set_weights([np.array([[[0]], [[1]], [[0]]]), np.array([2])])
    kernel, bias = layer.get_weights()
    assert kernel.dtype == bias.dtype == np.float32
    assert kernel.ravel().tolist() == [0, 1, 0] and bias.tolist() == [2]


def test_get_weights_returns_copies():
    layer = Dense(2)
    layer.build((None, 2))
    layer.get_weights()[0][...] = 7
    layer.weights[1][...] = 7
    assert not (layer.get_weights()[0] == 7).any()
    assert not (layer.get_weights()[1] == 7).any()


# --------------------------------------------------------------------------- values


def test_conv_layer_output_is_activation_of_conv_plus_bias():
    gen = np.random.default_rng(0)
    layer = Conv2D(4, (2, 3), strides=(1, 2), padding="same", groups=2, activation="relu")
    layer.build((None, 5, 6, 2))
    kernel, bias = gen.normal(size=(2, 3, 1, 4)), gen.normal(size=4)
    x = gen.normal(size=(3, 5, 6, 2))
    expected = np.maximum(reference.conv(x, kernel, (1, 2), "same", (1, 1), 2) + bias, 0)
    np.testing.assert_allclose(layer.apply([kernel, bias], x), expected, rtol=1e-12, atol=1e-12)


def test_layer_call_builds_and_returns_float32_for_int_input():
    layer = Conv1D(1, 2, kernel_initializer="ones")
    y = layer(np.array([[[1], [2], [3]]]))
    assert layer.built
    assert y.dtype == np.float32
    assert y.ravel().tolist() == [3, 5]


def test_conv_accepts_spatial_sizes_other_than_the_built_ones():
    layer = Conv2D(1, 3, kernel_initializer="ones")
    layer.build((None, 8, 8, 1))
    assert layer(np.ones((2, 5, 9, 1))).shape == (2, 3, 7, 1)


def test_dense_multiplies_last_axis():
    layer = Dense(2)
    layer.build((None, 3, 2))
    kernel, bias = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, 20.0])
    x = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    y = layer.apply([kernel, bias], x)
    np.testing.assert_array_equal(y, [[[11, 22], [13, 24], [14, 26]]])


def test_flatten_is_row_major_over_rows_cols_channels():
    x = np.arange(12).reshape(1, 2, 3, 2)
    assert Flatten().apply([], x).ravel().tolist() == list(range(12))


def test_global_pooling_values():
    x = np.array([[[1.0, -4.0], [3.0, 2.0], [2.0, -1.0]]])  # (1, 3, 2)
    assert GlobalMaxPooling1D().apply([], x).tolist() == [[3, 2]]
    assert GlobalAveragePooling1D().apply([], x).tolist() == [[2, -1]]
    x2 = x.reshape(1, 3, 1, 2)
    assert GlobalMaxPooling2D(keepdims=True).apply([], x2).tolist() == [[[[3, 2]]]]
    assert GlobalAveragePooling2D().apply([], x2).tolist() == [[2, -1]]


def test_relu_layer_matches_keras_formula():
    x = np.linspace(-4, 8, 49)
    layer = ReLU(max_value=5.0, negative_slope=0.25, threshold=1.0)
    np.testing.assert_allclose(layer.apply([], x), reference.relu(x, 0.25, 5.0, 1.0), atol=1e-15)


def test_activation_layer_by_name_and_callable():
    x = np.array([-1.0, 0.5])
    assert Activation("relu").apply([], x).tolist() == [0, 0.5]
    assert Activation(lambda v: v * 2).apply([], x).tolist() == [-2, 1]
    assert Activation(None).apply([], x).tolist() == [-1, 0.5]


def test_pooling_layers_compute_what_ops_pool_computes():
    x = np.arange(10, dtype=np.float32).reshape(1, 5, 2)
    assert MaxPooling1D(2, padding="same").apply([], x)[0, :, 0].tolist() == [2, 6, 8]
    assert AveragePooling1D(2, padding="same").apply([], x)[0, :, 1].tolist() == [2, 6, 9]


# --------------------------------------------------------------------------- call-time errors


@pytest.mark.parametrize(
    "layer, built_for, x_shape, message",
    [
        (
            lambda: Conv2D(1, 3),
            (None, 8, 8, 1),
            (8, 8, 1),
            "Input 0 of layer 'conv2d' is incompatible with the layer: expected min_ndim=4, "
            "found ndim=3. Full shape received: (8, 8, 1)",
        ),
        (
            lambda: Conv1D(2, 3, name="bumps"),
            (None, 8, 1),
            (1, 8, 2),
            "Input 0 of layer 'bumps' is incompatible with the layer: expected axis -1 of input "
            "shape to have value 1, but received input with shape (1, 8, 2)",
        ),
    ],
    ids=["rank", "channels"],
)
def test_wrong_rank_or_channel_count_names_layer_and_shape(layer, built_for, x_shape, message):
    layer = layer()
    layer.build(built_for)
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.zeros(x_shape))


def test_input_too_small_for_valid_conv_names_layer_and_shapes():
    layer = Conv2D(1, 3, dilation_rate=2)
    with pytest.raises(
        ValueError,
        match=r"Layer 'conv2d': computed output size would be zero or negative\. "
        r"Received `inputs shape=\((None|1), 4, 9, 1\)`, `kernel shape=\(3, 3, 1, 1\)`",
    ):
        layer(np.zeros((1, 4, 9, 1)))


def test_input_too_small_for_valid_pool_names_layer_and_shapes():
    with pytest.raises(
        ValueError,
        match=r"Layer 'max_pooling1d': computed output size would be zero or negative\. "
        r"Received: `inputs.shape=\((None|1), 2, 1\)` and `pool_size=\(3,\)`",
    ):
        MaxPooling1D(3)(np.zeros((1, 2, 1)))


def test_same_and_causal_accept_inputs_smaller_than_the_kernel():
    assert Conv1D(1, 5, padding="causal")(np.ones((1, 2, 1))).shape == (1, 2, 1)
    assert Conv2D(1, 5, padding="same")(np.ones((1, 2, 1, 1))).shape == (1, 2, 1, 1)
    assert MaxPooling2D(4, padding="same")(np.ones((1, 2, 3, 1))).shape == (1, 1, 1, 1)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[["a"]]]), TypeError, r"'conv1d' expects a numeric array .*received dtype <U1"),
        (np.zeros((1, 3, 1), dtype=object), TypeError, r"'conv1d' expects a numeric array"),
        ([[[1], [2]], [[3]]], ValueError, r"'conv1d' expects a numeric array; the input is ragged"),
        (np.zeros((1, 3, 1), dtype=complex), TypeError, r"'conv1d' expects a numeric array"),
    ],
)
def test_non_numeric_or_ragged_input_rejected(bad, error, match):
    with pytest.raises(error, match=match):
        Conv1D(1, 2)(bad)


def test_layers_registry_lists_every_public_layer():
    for name in ("Conv1D", "Conv2D", "Dense", "Flatten", "ReLU", "MaxPooling2D", "InputLayer"):
        assert layers.LAYERS[name].__name__ == name


@pytest.mark.parametrize(
    "taps, kwargs, expected",
    [
        ([1, 10], {"padding": "same"}, [21, 32, 43, 4]),
        ([1, 10, 100, 1000], {"padding": "SAME"}, [3210, 4321, 432, 43]),
        ([1, 10, 100], {"padding": "same", "strides": 2}, [321, 43]),
        ([1, 10], {"padding": "causal", "dilation_rate": 2}, [10, 20, 31, 42]),
        ([1, 10, 100], {}, [321, 432]),
    ],
)
def test_conv1d_layer_reproduces_keras_worked_examples(taps, kwargs, expected):
    layer = Conv1D(1, len(taps), **kwargs)
    layer.build((None, 4, 1))
    layer.set_weights([np.array(taps).reshape(-1, 1, 1), np.zeros(1)])
    y = layer(np.array([1, 2, 3, 4]).reshape(1, 4, 1))
    assert y.dtype == np.float32
    assert y.ravel().tolist() == expected


@pytest.mark.parametrize("dtype", [",", "i4,f8", "float64", object])
def test_dtype_that_is_not_float32_is_a_value_error_naming_dtype(dtype):
    # "," made numpy's dtype parser raise SyntaxError (found by the fuzz tests).
    with pytest.raises(ValueError, match="dtype="):
        Conv2D(1, 3, dtype=dtype)
