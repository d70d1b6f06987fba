"""Receptive fields, checked by perturbing single input pixels and watching which outputs
of every layer change."""

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minicnn import layers as L
from minicnn.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    ReLU,
)
from minicnn.models import Model, Sequential

SIZE = {1: (20,), 2: (11, 11)}


@st.composite
def stacks(draw, paddings=("valid", "same", "causal")):
    """A random stack of conv and pooling layers over any padding/stride/dilation
    (``causal`` only for Conv1D)."""
    rank = draw(st.sampled_from([1, 2]))
    layers, size, dense = [], SIZE[rank], True
    for _ in range(draw(st.integers(1, 4))):
        padding = draw(st.sampled_from([p for p in paddings if p != "causal"]))
        kernel = draw(st.integers(1, 3))
        stride, dilation = draw(st.integers(1, 3)), 1
        if draw(st.booleans()):
            stride, dilation = 1, draw(st.integers(1, 3))
        if draw(st.booleans()):
            conv = Conv1D if rank == 1 else Conv2D
            if rank == 1 and "causal" in paddings:
                padding = draw(st.sampled_from([padding, "causal"]))
            layers.append(conv(draw(st.integers(1, 2)), kernel, stride, padding, None, dilation))
        else:
            dilation = 1
            pools = {
                1: (MaxPooling1D, AveragePooling1D),
                2: (MaxPooling2D, AveragePooling2D),
            }[rank]
            layers.append(draw(st.sampled_from(pools))(kernel, stride, padding))
        dense = dense and dilation == 1 and stride <= kernel
        if padding == "valid":
            size = tuple((n - dilation * (kernel - 1) - 1) // stride + 1 for n in size)
        else:
            size = tuple(-(-n // stride) for n in size)
        assume(min(size) >= 1)
    return rank, layers, dense


def positive_model(rank, layers, seed):
    """The stack with weights in [0.5, 1.5] and zero biases: on an all-zero input every
    value is 0, and one positive pixel makes exactly the values it reaches positive."""
    model = Sequential(layers)
    model.build((None, *SIZE[rank], 1))
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.uniform(0.5, 1.5, w.shape) if w.ndim > 1 else 0 * w for w in model.get_weights()]
    )
    return model


def outputs_float64(model, x):
    weights = [w.astype(np.float64) for w in model.get_weights()]
    return [np.asarray(y)[0] for _, y in model.layer_outputs(weights, x)]


def bounding_box(points):
    points = np.asarray(points)
    return tuple(slice(int(lo), int(hi) + 1) for lo, hi in zip(points.min(0), points.max(0)))


@settings(max_examples=150, deadline=None)
@given(stacks(), st.integers(0, 2**31 - 1))
def test_field_is_exactly_the_pixels_that_change_each_output(stack, seed):
    rank, layers, dense = stack
    model = positive_model(rank, layers, seed)
    size = SIZE[rank]
    # reached[layer][out position] = input pixels whose perturbation changes that output
    reached = [dict() for _ in layers]
    for pixel in itertools.product(*(range(n) for n in size)):
        x = np.zeros((1, *size, 1))
        x[(0, *pixel, 0)] = 1.0
        for i, y in enumerate(outputs_float64(model, x)):
            for position in zip(*np.nonzero(y.max(axis=-1) > 0)):
                reached[i].setdefault(tuple(int(p) for p in position), []).append(pixel)
    for i, layer in enumerate(model.layers):
        for position in itertools.product(*(range(n) for n in layer.output_shape[1:-1])):
            field = model.receptive_field(i, position)
            pixels = reached[i].get(position)
            if not pixels:  # a window over padding alone: a constant output
                assert all(s.stop == s.start for s in field), (layer.name, position)
                continue
            assert field == bounding_box(pixels), (layer.name, position)
            if dense:  # no gaps from dilation or strides larger than windows
                assert len(pixels) == np.prod([s.stop - s.start for s in field])


@settings(max_examples=60, deadline=None)
@given(stacks(), st.integers(0, 2**31 - 1), st.data())
def test_field_through_a_nested_model_is_exactly_the_pixels_that_change_the_output(
    stack, seed, data
):
    rank, layers, _ = stack
    assume(len(layers) >= 2)
    cut = data.draw(st.integers(1, len(layers) - 1))
    inner = Sequential(layers[:cut], name="inner")
    model = positive_model(rank, [inner, *layers[cut:]], seed)
    size = SIZE[rank]
    reached = {}  # final output position -> input pixels whose perturbation changes it
    for pixel in itertools.product(*(range(n) for n in size)):
        x = np.zeros((1, *size, 1))
        x[(0, *pixel, 0)] = 1.0
        y = outputs_float64(model, x)[-1]
        for position in zip(*np.nonzero(y.max(axis=-1) > 0)):
            reached.setdefault(tuple(int(p) for p in position), []).append(pixel)
    for position in itertools.product(*(range(n) for n in model.output_shape[1:-1])):
        field = model.receptive_field(-1, position)
        pixels = reached.get(position)
        if not pixels:
            assert all(s.stop == s.start for s in field), position
        else:
            assert field == bounding_box(pixels), position


@st.composite
def tutorial_stacks(draw):
    """Stacks of the layers whose position mapping is their own ("custom": padding,
    cropping, upsampling, transposed convs) mixed with windows (conv, depthwise)."""
    rank = draw(st.sampled_from([1, 2]))
    shape, layers = (None, *SIZE[rank], 1), []
    small = st.integers(0, 2)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["pad", "crop", "up", "transpose", "depthwise", "conv"]))
        if kind == "pad":
            layer = (L.ZeroPadding1D if rank == 1 else L.ZeroPadding2D)(
                (draw(small), draw(small))
                if rank == 1
                else ((draw(small),) * 2, (draw(small),) * 2)
            )
        elif kind == "crop":
            layer = (L.Cropping1D if rank == 1 else L.Cropping2D)(
                (draw(small), draw(small)) if rank == 1 else ((draw(small), 1), (0, draw(small)))
            )
        elif kind == "up":
            size = draw(st.integers(1, 3))
            if rank == 1:
                layer = L.UpSampling1D(size)
            else:
                interpolation = draw(st.sampled_from(["nearest", "bilinear"]))
                layer = L.UpSampling2D(size, interpolation=interpolation)
        elif kind == "transpose":
            stride = draw(st.integers(1, 3))
            layer = (L.Conv1DTranspose if rank == 1 else L.Conv2DTranspose)(
                1, draw(st.integers(1, 3)), stride, draw(st.sampled_from(["valid", "same"]))
            )
        elif kind == "depthwise":
            layer = (L.DepthwiseConv1D if rank == 1 else L.DepthwiseConv2D)(
                draw(st.integers(1, 3)), draw(st.integers(1, 2)), "same"
            )
        else:
            layer = (Conv1D if rank == 1 else Conv2D)(1, draw(st.integers(1, 3)), padding="same")
        try:
            shape = layer.compute_output_shape(shape)
        except ValueError:
            assume(False)
        assume(all(1 <= n <= 24 for n in shape[1:-1]))
        layers.append(layer)
    return rank, layers, False


@settings(max_examples=80, deadline=None)
@given(tutorial_stacks(), st.integers(0, 2**31 - 1))
def test_custom_position_mappings_give_exactly_the_pixels_that_change_each_output(stack, seed):
    test_field_is_exactly_the_pixels_that_change_each_output.hypothesis.inner_test(stack, seed)


@settings(max_examples=60, deadline=None)
@given(stacks(), st.integers(0, 2**31 - 1))
def test_pixels_outside_the_field_never_change_the_output(stack, seed):
    rank, layers, _ = stack
    model = Sequential(layers)
    model.build((None, *SIZE[rank], 1))  # signed random weights this time
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, *SIZE[rank], 1))
    base = outputs_float64(model, x)[-1]
    last = len(layers) - 1
    for pixel in [tuple(rng.integers(0, n) for n in SIZE[rank]) for _ in range(6)]:
        moved = x.copy()
        moved[(0, *pixel, 0)] += 5.0
        out = outputs_float64(model, moved)[-1]
        for position in itertools.product(*(range(n) for n in out.shape[:-1])):
            field = model.receptive_field(last, position)
            if not all(s.start <= p < s.stop for s, p in zip(field, pixel)):
                np.testing.assert_array_equal(out[position], base[position])


# --------------------------------------------------------------------------- worked cases


def test_tutorial_3x3_conv_field_is_its_window():
    model = Sequential([Conv2D(1, 3, input_shape=(8, 8, 1))])
    assert model.receptive_field(0, (0, 2)) == (slice(0, 3), slice(2, 5))


def test_same_padding_field_is_clipped_to_the_input():
    model = Sequential([Conv1D(1, 5, padding="same", input_shape=(8, 1))])
    assert model.receptive_field(0, (0,)) == (slice(0, 3),)
    assert model.receptive_field(0, (7,)) == (slice(5, 8),)


def test_field_through_conv_pool_and_dilated_conv_by_hand():
    model = Sequential(
        [
            Conv1D(1, 3, input_shape=(20, 1)),  # out i reads 0+i..2+i
            MaxPooling1D(2),  # out j reads conv 2j..2j+1 -> input 2j..2j+3
            Conv1D(1, 2, dilation_rate=3),  # out k reads pool k, k+3 -> input 2k..2k+9
        ]
    )
    assert model.receptive_field(2, (1,)) == (slice(2, 12),)
    assert model.receptive_field("max_pooling1d", 4) == (slice(8, 12),)


def test_flatten_dense_and_global_pooling_see_the_whole_input():
    model = Sequential(
        [
            Conv2D(2, 3, input_shape=(6, 5, 1)),
            ReLU(),
            Dense(3),
            GlobalMaxPooling2D(),
        ]
    )
    assert model.receptive_field(2, (1, 1)) == (slice(1, 4), slice(1, 4))
    assert model.receptive_field(3, ()) == (slice(0, 6), slice(0, 5))
    flat = Sequential([Conv1D(1, 2, input_shape=(7, 1)), Flatten(), Dense(2)])
    assert flat.receptive_field(-1, ()) == (slice(0, 7),)


@pytest.mark.parametrize(
    "index, words",
    [((6, 0), ["`index`", "out of range", "0..5"]), ((0,), ["`index`", "2 integers"])],
)
def test_bad_index_is_a_value_error_with_the_valid_range(index, words):
    model = Sequential([Conv2D(1, 3, input_shape=(8, 8, 1))])
    with pytest.raises(ValueError) as err:
        model.receptive_field(0, index)
    for word in words:
        assert word in str(err.value)


def test_unbuilt_model_is_a_value_error():
    with pytest.raises(ValueError, match="not built"):
        Sequential([Conv2D(1, 3)]).receptive_field(0, (0, 0))


# --------------------------------------------------------------------------- summary columns


def test_summary_shows_field_size_and_jump_per_layer():
    model = Sequential(
        [
            Conv2D(1, 3, input_shape=(20, 20, 1)),
            MaxPooling2D(2),
            Conv2D(1, 3, dilation_rate=2),
            Flatten(),
            Dense(2),
        ]
    )
    lines = []
    model.summary(print_fn=lines.append, show_receptive_field=True)
    text = lines[0]
    assert "Receptive field" in text and "Jump" in text
    rows = [line for line in text.splitlines() if line.startswith("│")]
    # size: 1+2=3; 3+1*1=4 (jump 2); 4+2*2*2=12 (jump 2); then the whole input
    expected = [("3x3", "1x1"), ("4x4", "2x2"), ("12x12", "2x2"), ("whole input", "-")]
    for row, (size, jump) in zip(rows, [*expected, ("whole input", "-")]):
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[3:] == [size, jump], row
    plain = []
    model.summary(print_fn=plain.append)
    assert "Receptive field" not in plain[0]


@settings(max_examples=30, deadline=None)
@given(stacks(paddings=("valid",)))
def test_summary_size_is_the_field_width_of_an_unpadded_first_output(stack):
    rank, layers, _ = stack
    model = Sequential(layers)
    model.build((None, *SIZE[rank], 1))
    from minicnn.receptive import layer_geometry

    for i, (size, _) in enumerate(layer_geometry(model)):
        field = model.receptive_field(i, (0,) * rank)
        assert tuple(s.stop - s.start for s in field) == size


def test_summary_fields_through_a_functional_chain_and_a_nested_model():
    inner = Sequential([L.Input((9, 9, 1)), Conv2D(1, 3, strides=2)], name="inner")
    x = L.Input((9, 9, 1))
    model = Model(x, Conv2D(1, 3, name="top")(inner(x)))
    lines = []
    model.summary(print_fn=lines.append, show_receptive_field=True)
    table = "\n".join(lines).splitlines()
    rows = {line.split()[1]: line for line in table if line.startswith("│ ")}
    # 3x3 stride 2 gives field 3, jump 2; a 3x3 after it: 3 + (3 - 1) * 2 = 7, jump 2.
    assert "│ 1x1" in rows[x._history[0].name]
    assert "3x3" in rows["inner"] and "2x2" in rows["inner"]
    assert "7x7" in rows["top"] and rows["top"].rstrip("│ ").endswith("2x2")


def test_summary_fields_of_a_branching_graph_say_per_position_where_branches_disagree():
    # Branch one: 3x3 then 3x3 (field 5); branch two: 5x5 (field 5): the Add agrees.
    # Branch three, a 3x3 alone (field 3), meets a field-5 branch at the Concatenate.
    x = L.Input((12, 12, 1))
    a = Conv2D(1, 3, padding="same", name="a2")(Conv2D(1, 3, padding="same", name="a1")(x))
    b = Conv2D(1, 5, padding="same", name="b")(x)
    c = Conv2D(1, 3, padding="same", name="c")(x)
    joined = L.Concatenate(name="cat")([L.Add(name="add")([a, b]), c])
    model = Model(x, joined)
    lines = []
    model.summary(print_fn=lines.append, show_receptive_field=True)
    text = "\n".join(lines)
    assert "Connected to" in text and "Receptive field" in text
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("│ ")}
    assert "5x5" in rows["add"] and "5x5" in rows["b"] and "3x3" in rows["c"]
    assert "varies" in rows["cat"]
    # The field sizes agree with receptive_field at an interior position.
    box = model.receptive_field("add", (6, 6))
    assert tuple(s.stop - s.start for s in box) == (5, 5)
