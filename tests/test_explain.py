"""model.explain: the working of one output value, checked against naive loops written
here and against predict."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicnn import layers as L
from minicnn.layers import (
    Activation,
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Conv3D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    MaxPooling2D,
    ReLU,
)
from minicnn.models import Sequential

TUTORIAL_IMAGE = np.asarray([[0, 0, 0, 1, 1, 0, 0, 0]] * 8).reshape(1, 8, 8, 1)
ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "tanh": math.tanh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
}


def tutorial_2d_model():
    model = Sequential()
    model.add(Conv2D(1, (3, 3), input_shape=(8, 8, 1)))
    detector = [[[[0]], [[1]], [[0]]], [[[0]], [[1]], [[0]]], [[[0]], [[1]], [[0]]]]
    model.set_weights([np.asarray(detector), np.asarray([0.0])])
    return model


def before_padding(n, k, stride, dilation, padding):
    """Zeros Keras puts before an axis (KERAS_REFERENCE.md), written out independently."""
    span = dilation * (k - 1) + 1
    if padding == "valid":
        return 0
    if padding == "causal":
        return span - 1
    out = -(-n // stride)
    return max(0, (out - 1) * stride + span - n) // 2


def naive_conv_cell(x, kernel, bias, layer, index):
    """One output of a conv layer (before activation) by a loop over taps and channels."""
    s, *pos, f = index
    spatial = x.shape[1:-1]
    cg = kernel.shape[-2]
    group = f // (kernel.shape[-1] // layer.groups)
    total = 0.0
    for taps in itertools.product(*(range(k) for k in layer.kernel_size)):
        coords = [
            o * stride - before_padding(n, k, stride, d, layer.padding) + d * t
            for o, n, k, stride, d, t in zip(
                pos, spatial, layer.kernel_size, layer.strides, layer.dilation_rate, taps
            )
        ]
        if all(0 <= c < n for c, n in zip(coords, spatial)):
            for c in range(cg):
                total += float(x[(s, *coords, group * cg + c)]) * float(kernel[(*taps, c, f)])
    return total + (float(bias[f]) if bias is not None else 0.0)


# --------------------------------------------------------------------------- the tutorial


def test_tutorial_2d_cell_is_worked_exactly_as_by_hand():
    e = tutorial_2d_model().explain(TUTORIAL_IMAGE, 0, (0, 0, 2, 0))
    hand = "0, 1, 0     0, 1, 1\n0, 1, 0  .  0, 1, 1  = 3\n0, 1, 0     0, 1, 1"
    assert hand in str(e)
    assert e.value == 3.0 and e.total == 3.0 and e.bias == 0.0 and e.pre_activation == 3.0
    np.testing.assert_array_equal(e.patch[..., 0], [[0, 1, 1]] * 3)
    np.testing.assert_array_equal(e.kernel[..., 0], [[0, 1, 0]] * 3)
    np.testing.assert_array_equal(e.products[..., 0], [[0, 1, 0]] * 3)


def test_tutorial_2d_first_cell_is_zero_as_by_hand():
    e = tutorial_2d_model().explain(TUTORIAL_IMAGE, 0, (0, 0, 0, 0))
    assert "0, 1, 0  .  0, 0, 0  = 0" in str(e)


def test_tutorial_1d_cell_is_worked_on_one_line():
    model = Sequential()
    model.add(Conv1D(1, 3, input_shape=(8, 1)))
    model.set_weights([np.asarray([[[0]], [[1]], [[0]]]), np.asarray([0.0])])
    data = np.asarray([0, 0, 0, 1, 1, 0, 0, 0]).reshape(1, 8, 1)
    text = str(model.explain(data, 0, (0, 2, 0)))
    assert "[0, 1, 0] . [0, 1, 1] = 1" in text
    assert "[0, 1, 0] . [0, 0, 1] = 0" in str(model.explain(data, "conv1d", (0, 1, 0)))


# --------------------------------------------------------------------------- conv, any geometry


@st.composite
def conv_cases(draw):
    rank = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from(["valid", "same"] + (["causal"] if rank == 1 else [])))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if draw(st.booleans()):
        strides, dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank)), (1,) * rank
    else:
        strides, dilation = (1,) * rank, tuple(draw(st.integers(1, 2)) for _ in range(rank))
    groups = draw(st.sampled_from([1, 2]))
    channels = groups * draw(st.integers(1, 2))
    filters = groups * draw(st.integers(1, 2))
    size = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for k, d in zip(kernel, dilation))
    activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
    use_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    return (
        rank,
        padding,
        kernel,
        strides,
        dilation,
        groups,
        channels,
        filters,
        size,
        (
            activation,
            use_bias,
            seed,
        ),
    )


@settings(max_examples=60, deadline=None)
@given(conv_cases(), st.data())
def test_conv_explanation_matches_predict_and_a_naive_loop(case, data):
    rank, padding, kernel, strides, dilation, groups, channels, filters, size, rest = case
    activation, use_bias, seed = rest
    cls = Conv1D if rank == 1 else Conv2D
    layer = cls(
        filters,
        kernel,
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
        groups=groups,
        activation=activation,
        use_bias=use_bias,
        bias_initializer="random_normal",
        input_shape=(*size, channels),
    )
    model = Sequential([layer])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, *size, channels)).astype(np.float32)
    out = model.predict(x)
    index = tuple(data.draw(st.integers(0, n - 1)) for n in out.shape)
    e = model.explain(x, 0, index)

    assert e.value == model.predict(x[index[0] : index[0] + 1])[(0, *index[1:])]
    np.testing.assert_allclose(e.value, out[index], rtol=1e-6, atol=1e-6)
    kernel_w, bias = layer.get_weights()[0], (layer.get_weights()[1] if use_bias else None)
    reference = naive_conv_cell(x, kernel_w, bias, layer, index)
    scale = float(np.sum(np.abs(e.products))) + (abs(e.bias) if use_bias else 0.0)
    assert abs(e.pre_activation - reference) <= 1e-12 * scale + 1e-12
    assert e.total == pytest.approx(float(np.sum(e.products)), rel=1e-12, abs=1e-12)
    assert abs(ACTIVATIONS[activation](e.pre_activation) - e.value) <= 1e-6 * scale + 1e-6
    assert e.patch.shape == (*kernel, channels // groups)
    assert e.kernel.shape == e.patch.shape
    assert np.all(e.patch[e.padded] == 0)
    assert str(e).count("channel") >= 1 and str(e).splitlines()[0].startswith(layer.name)


def test_padded_positions_are_drawn_as_padding():
    model = Sequential([Conv2D(1, 3, padding="same", use_bias=False, input_shape=(4, 4, 1))])
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1) + 1
    e = model.explain(x, 0, (0, 0, 0, 0))
    np.testing.assert_array_equal(
        e.padded, [[True, True, True], [True, False, False], [True, False, False]]
    )
    np.testing.assert_array_equal(e.patch[..., 0], [[0, 0, 0], [0, 1, 2], [0, 5, 6]])
    lines = str(e).splitlines()
    assert any(line.rstrip().endswith("·, ·, ·") for line in lines)
    assert "zero padding" in str(e)
    assert "bias" not in str(e)  # use_bias=False: no bias line, bias is None
    assert e.bias is None


def test_multichannel_cell_is_worked_per_channel_and_summed():
    model = Sequential([Conv2D(2, 2, strides=2, input_shape=(4, 4, 3))])
    x = np.random.default_rng(1).normal(size=(1, 4, 4, 3))
    e = model.explain(x, 0, (0, 1, 1, 1))
    text = str(e)
    for c in range(3):
        assert f"channel {c}:" in text
    assert "sum of the 3 parts" in text
    assert e.patch.shape == (2, 2, 3)
    np.testing.assert_allclose(e.patch, x[0, 2:4, 2:4, :], rtol=1e-6)


def test_grouped_conv_reads_only_its_group_of_channels():
    model = Sequential([Conv1D(4, 2, groups=2, input_shape=(5, 4))])
    x = np.random.default_rng(2).normal(size=(1, 5, 4)).astype(np.float32)
    e = model.explain(x, 0, (0, 1, 3))  # filter 3 is in group 1: input channels 2 and 3
    assert e.channels == (2, 3)
    np.testing.assert_array_equal(e.patch, x[0, 1:3, 2:4])


def test_conv3d_cell_matches_predict_and_shows_depth_slices():
    model = Sequential([Conv3D(2, (2, 2, 2), padding="same", input_shape=(3, 3, 3, 2))])
    x = np.random.default_rng(3).normal(size=(1, 3, 3, 3, 2)).astype(np.float32)
    e = model.explain(x, 0, (0, 2, 1, 0, 1))
    assert e.value == model.predict(x)[0, 2, 1, 0, 1]
    layer = model.layers[0]
    reference = naive_conv_cell(x, *layer.get_weights(), layer, (0, 2, 1, 0, 1))
    assert e.pre_activation == pytest.approx(reference, rel=1e-12, abs=1e-12)
    assert "depth 0:" in str(e) and "depth 1:" in str(e)


def test_deep_layer_value_equals_predict_of_the_whole_model():
    model = Sequential(
        [
            Conv2D(3, 3, padding="same", activation="relu", input_shape=(9, 9, 2)),
            MaxPooling2D(),
            Conv2D(2, 2, strides=2, activation="tanh"),
            Flatten(),
            Dense(3, activation="sigmoid"),
        ]
    )
    x = np.random.default_rng(4).normal(size=(3, 9, 9, 2)).astype(np.float32)
    maps = model.feature_maps(x)
    for position, layer in enumerate(model.layers):
        out = maps[layer.name]
        for index in [(0,) * out.ndim, tuple(n - 1 for n in out.shape)]:
            e = model.explain(x, position, index)
            np.testing.assert_allclose(e.value, out[index], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(list(maps), [layer.name for layer in model.layers])
    np.testing.assert_allclose(maps[model.layers[-1].name], model.predict(x), rtol=1e-6)


# --------------------------------------------------------------------------- dense, pooling


def test_dense_cell_is_input_row_dot_kernel_column_plus_bias():
    model = Sequential([Dense(3, activation="relu", bias_initializer="ones", input_shape=(4,))])
    x = np.asarray([[1.0, -2.0, 0.5, 3.0]], dtype=np.float32)
    kernel, bias = model.get_weights()
    e = model.explain(x, 0, (0, 2))
    np.testing.assert_array_equal(e.patch, x[0])
    np.testing.assert_array_equal(e.kernel, kernel[:, 2])
    expected = sum(float(x[0, i]) * float(kernel[i, 2]) for i in range(4))
    assert e.total == pytest.approx(expected, rel=1e-12)
    assert e.bias == 1.0 and e.pre_activation == pytest.approx(expected + 1, rel=1e-12)
    assert e.value == model.predict(x)[0, 2]
    assert " . " in str(e) and "relu(" in str(e)


def test_dense_with_many_inputs_lists_the_largest_products():
    model = Sequential([Dense(1, input_shape=(40,))])
    x = np.zeros((1, 40), dtype=np.float32)
    x[0, 17] = 100.0
    text = str(model.explain(x, 0, (0, 0)))
    assert "sum of 40 products" in text and "i=17:" in text.splitlines()[3]


def test_max_pooling_names_the_winning_input():
    model = Sequential([MaxPooling2D(2, padding="same", input_shape=(3, 3, 1))])
    x = np.asarray([[1, 2, 3], [4, 9, 6], [7, 8, 5]], dtype=np.float32).reshape(1, 3, 3, 1)
    e = model.explain(x, 0, (0, 0, 0, 0))
    assert e.value == 9 and e.winner == (0, 1, 1, 0)
    corner = model.explain(x, 0, (0, 1, 1, 0))  # window over rows/cols 2..3: 3 is padding
    assert corner.value == 5 and corner.winner == (0, 2, 2, 0)
    assert corner.padded.sum() == 3 and np.isnan(corner.patch[corner.padded]).all()
    assert "taken from input[0, 2, 2, 0]" in str(corner)


def test_average_pooling_leaves_padding_out_of_the_average():
    model = Sequential([AveragePooling1D(2, padding="same", input_shape=(3, 1))])
    x = np.asarray([2.0, 4.0, 9.0], dtype=np.float32).reshape(1, 3, 1)
    e = model.explain(x, 0, (0, 1, 0))
    assert e.pre_activation == e.value == 9.0
    assert "(9) / 1 = 9" in str(e)
    first = model.explain(x, 0, (0, 0, 0))
    assert "(2 + 4) / 2 = 3" in str(first) and first.value == 3.0


def test_average_pooling_2d_value_equals_predict():
    model = Sequential([AveragePooling2D(3, strides=2, input_shape=(7, 7, 2))])
    x = np.random.default_rng(5).normal(size=(2, 7, 7, 2)).astype(np.float32)
    e = model.explain(x, 0, (1, 2, 1, 1))
    assert e.value == model.predict(x[1:2])[0, 2, 1, 1]
    assert e.pre_activation == pytest.approx(float(np.mean(x[1, 4:7, 2:5, 1])), rel=1e-6)


def test_global_pooling_explains_over_the_whole_map():
    x = np.random.default_rng(6).normal(size=(2, 5, 3)).astype(np.float32)
    e = Sequential([GlobalMaxPooling1D(input_shape=(5, 3))]).explain(x, 0, (1, 2))
    assert e.value == x[1, :, 2].max()
    assert e.winner == (1, int(np.argmax(x[1, :, 2])), 2)
    x2 = np.random.default_rng(7).normal(size=(1, 4, 4, 2)).astype(np.float32)
    e2 = Sequential([GlobalAveragePooling2D(input_shape=(4, 4, 2))]).explain(x2, 0, (0, 1))
    assert e2.pre_activation == pytest.approx(float(x2[0, :, :, 1].mean()), rel=1e-6)
    assert "/ 16 =" in str(e2)


# --------------------------------------------------------------------------- pointwise layers


def test_relu_activation_and_flatten_are_explained_by_their_input():
    model = Sequential(
        [
            ReLU(max_value=1.5, input_shape=(2, 3)),
            Activation("tanh"),
            Flatten(),
            Activation("softmax"),
        ]
    )
    x = np.asarray([[[-1.0, 0.5, 3.0], [2.0, 0.1, -0.2]]], dtype=np.float32)
    relu = model.explain(x, 0, (0, 0, 2))
    assert relu.total == 3.0 and relu.value == 1.5 and "max_value=1.5" in str(relu)
    tanh = model.explain(x, 1, (0, 1, 0))
    assert tanh.total == 1.5 and tanh.value == pytest.approx(math.tanh(1.5), rel=1e-6)
    flat = model.explain(x, 2, (0, 4))
    assert "input[0, 1, 1]" in str(flat)
    soft = model.explain(x, 3, (0, 4))
    assert soft.patch.shape == (6,) and "softmax([" in str(soft)
    assert soft.value == model.predict(x)[0, 4]


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "layer, index, words",
    [
        (1, (0, 0, 0, 0), ["`layer`", "-1..0"]),
        ("conv", (0, 0, 0, 0), ["No such layer: conv", "['conv2d"]),
        (0, (0, 0, 0), ["`index`", "4 integers", "0..5"]),
        (0, (0, 6, 0, 0), ["`index`", "out of range", "0..5"]),
        (0, (1, 0, 0, 0), ["`index`", "out of range", "0..0"]),
        (0, (0, 0.5, 0, 0), ["`index`"]),
    ],
)
def test_bad_layer_or_index_is_a_value_error_naming_the_argument_and_range(layer, index, words):
    with pytest.raises(ValueError) as err:
        tutorial_2d_model().explain(TUTORIAL_IMAGE, layer, index)
    for word in words:
        assert word in str(err.value)


def test_layer_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="`layer` must be"):
        tutorial_2d_model().explain(TUTORIAL_IMAGE, 0.5, (0, 0, 0, 0))


def test_negative_indices_count_from_the_end_like_numpy():
    model = tutorial_2d_model()
    e = model.explain(TUTORIAL_IMAGE, -1, (-1, -1, -3, -1))
    assert e.index == (0, 5, 3, 0) and e.value == 3.0


# ------------------------------------------------------------------------ later tutorials' layers


def test_transposed_conv_cell_of_the_upsampling_tutorial_is_worked_by_hand():
    # A 2x2 image, one 1x1 filter of weight 1, strides 2: input (1, 0) lands on (2, 0).
    x = np.array([[1, 2], [3, 4.0]]).reshape(1, 2, 2, 1)
    model = Sequential([L.Input(shape=(2, 2, 1)), L.Conv2DTranspose(1, (1, 1), strides=(2, 2))])
    model.set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    e = model.explain(x, 0, (0, 2, 0, 0))
    assert e.value == 3 and e.sources == [((0, 1, 0, 0), (0, 0, 0, 0))]
    assert "input[0, 1, 0, 0] * weight[0, 0, 0, 0] = 3 * 1 = 3" in str(e)
    empty = model.explain(x, 0, (0, 1, 1, 0))
    assert empty.value == 0 and not empty.sources and "bias alone" in str(empty)


NEXT_LAYERS = [
    lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same"),
    lambda: L.Conv2DTranspose(2, (2, 3), strides=(1, 2), output_padding=(0, 1)),
    lambda: L.DepthwiseConv2D(2, 2, "same", 2),
    lambda: L.UpSampling2D((2, 3), interpolation="bilinear"),
    lambda: L.UpSampling2D(2),
    lambda: L.ZeroPadding2D(((1, 2), (0, 1))),
    lambda: L.Cropping2D(((1, 0), (1, 1))),
    lambda: L.BatchNormalization(),
    lambda: L.LeakyReLU(0.2),
    lambda: L.ELU(0.5),
    lambda: L.PReLU(alpha_initializer="ones"),
    lambda: L.Rescaling(0.5, 1.0),
    lambda: L.Dropout(0.5),
]


@pytest.mark.parametrize("make", NEXT_LAYERS)
def test_every_cell_of_the_next_tutorials_layers_is_predicts_value(make):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4, 5, 2))
    model = Sequential([L.Input(shape=(4, 5, 2)), L.Conv2D(2, 1), make()])
    # Positive weights: a valid moving variance for BatchNormalization.
    model.set_weights([rng.uniform(0.2, 1.2, size=w.shape) for w in model.get_weights()])
    out = model.predict(x)
    for index in [(1, 0, 0, 1), tuple(n - 1 for n in out.shape), (0, 1, 2, 0)]:
        index = tuple(min(i, n - 1) for i, n in zip(index, out.shape))
        e = model.explain(x, -1, index)
        assert e.value == out[index]
        if e.op != "activation":  # no activation after: the recomputed value is the output
            assert abs(e.pre_activation - out[index]) <= 1e-5 * max(1, abs(out[index]))
