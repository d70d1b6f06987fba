"""minicnn.gradcheck: passes for every built-in layer, catches a wrong VJP."""

import autograd.numpy as anp
import numpy as np
import pytest
import reference
from autograd.extend import defvjp, primitive

import minicnn
from minicnn import activations
from minicnn.gradcheck import GradcheckReport
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
    Layer,
    MaxPooling1D,
    MaxPooling2D,
    ReLU,
    WeightSpec,
)
from minicnn.models import Sequential


def sample(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def with_random_bias(layer, x):
    """Build ``layer`` on ``x`` and give it non-zero biases, so bias gradients are tested
    where the output is not symmetric around zero."""
    layer.build((None, *x.shape[1:]))
    rng = np.random.default_rng(1)
    layer.set_weights([w if w.ndim > 1 else rng.normal(size=w.shape) for w in layer.weights])
    return layer


CONV_CASES = (
    [
        (Conv1D, {"padding": padding, **extra}, (2, 9, 3))
        for padding in ("valid", "same", "causal")
        for extra in ({}, {"strides": 2}, {"dilation_rate": 2}, {"groups": 3, "filters": 3})
    ]
    + [
        (Conv2D, {"padding": padding, **extra}, (2, 7, 6, 2))
        for padding in ("valid", "same")
        for extra in ({}, {"strides": (2, 1)}, {"dilation_rate": 2}, {"groups": 2})
    ]
    + [
        (Conv3D, {"padding": padding, **extra}, (1, 4, 5, 4, 2))
        for padding in ("valid", "same")
        for extra in ({}, {"strides": 2})
    ]
)


@pytest.mark.parametrize("cls, kwargs, shape", CONV_CASES)
def test_conv_layers_pass_for_every_padding_stride_dilation_and_groups(cls, kwargs, shape):
    kwargs = {"filters": 2, "kernel_size": 3, **kwargs}
    x = sample(shape)
    report = minicnn.gradcheck(with_random_bias(cls(**kwargs), x), x, max_entries=None)
    assert report.passed, str(report)
    assert [t.name.split("/")[-1] for t in report.tensors] == ["kernel", "bias", "input"]


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4)])
def test_dense_passes_on_flat_and_sequence_inputs(shape):
    x = sample(shape)
    report = minicnn.gradcheck(with_random_bias(Dense(3), x), x, max_entries=None)
    assert report.passed, str(report)


POOL_CASES = [
    (cls, pool, strides, padding, shape)
    for cls, shape in (
        (MaxPooling1D, (2, 9, 3)),
        (AveragePooling1D, (2, 9, 3)),
        (MaxPooling2D, (2, 7, 5, 2)),
        (AveragePooling2D, (2, 7, 5, 2)),
    )
    for pool, strides in ((2, None), (3, 2), (2, 1))
    for padding in ("valid", "same")
]


@pytest.mark.parametrize("cls, pool, strides, padding, shape", POOL_CASES)
def test_pooling_layers_pass(cls, pool, strides, padding, shape):
    x = sample(shape)
    report = minicnn.gradcheck(cls(pool, strides, padding), x, max_entries=None)
    assert report.passed, str(report)
    assert [t.name for t in report.tensors] == ["input"]


@pytest.mark.parametrize(
    "cls, shape",
    [
        (GlobalMaxPooling1D, (2, 6, 3)),
        (GlobalAveragePooling1D, (2, 6, 3)),
        (GlobalMaxPooling2D, (2, 4, 5, 2)),
        (GlobalAveragePooling2D, (2, 4, 5, 2)),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_layers_pass(cls, shape, keepdims):
    x = sample(shape)
    assert minicnn.gradcheck(cls(keepdims=keepdims), x, max_entries=None).passed


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_value": 1.0},
        {"negative_slope": 0.3},
        {"threshold": 0.5},
        {"max_value": 1.5, "negative_slope": 0.1, "threshold": -0.0},
    ],
)
def test_relu_variants_pass(kwargs):
    x = sample((3, 4, 5)) * 2
    report = minicnn.gradcheck(ReLU(**kwargs), x, max_entries=None)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    "name", sorted(set(activations.REGISTRY.entries) - set(reference.NOT_LAYER_ACTIVATIONS))
)
def test_every_activation_passes(name):
    x = sample((3, 6)) * 2
    report = minicnn.gradcheck(Activation(name), x, max_entries=None)
    assert report.passed, str(report)


def test_flatten_passes():
    assert minicnn.gradcheck(Flatten(), sample((2, 3, 2, 2)), max_entries=None).passed


def test_a_stacked_model_passes_for_every_weight_and_the_input():
    model = Sequential(
        [
            Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
            MaxPooling2D(),
            Conv2D(4, 2, strides=2, groups=1, activation="tanh"),
            GlobalAveragePooling2D(),
            Dense(3, activation="softmax"),
        ]
    )
    x = sample((2, 8, 8, 2))
    report = minicnn.gradcheck(model, x, max_entries=None)
    assert report.passed, str(report)
    assert [t.name for t in report.tensors] == [
        *(f"{layer.name}/{w}" for layer in model.layers for w in layer.weight_names),
        "input",
    ]
    assert all(t.checked == t.size for t in report.tensors)


def test_gradcheck_leaves_float32_weights_unchanged():
    model = Sequential([Conv1D(2, 3, input_shape=(6, 1)), Dense(2)])
    before = model.get_weights()
    minicnn.gradcheck(model, sample((2, 6, 1)))
    for old, new in zip(before, model.get_weights()):
        assert new.dtype == np.float32
        np.testing.assert_array_equal(old, new)


# --------------------------------------------------------------------------- wrong VJPs


@primitive
def square(x):
    return x * x


defvjp(square, lambda ans, x: lambda g: g * x)  # wrong on purpose: d(x^2)/dx is 2x


@primitive
def scale(x, w):
    return x * w


# The VJP for x is right; the one for w has the wrong sign.
defvjp(scale, lambda ans, x, w: lambda g: g * w, lambda ans, x, w: lambda g: -anp.sum(g * x))


class Square(Layer):
    def apply(self, weights, x):
        return square(x)


class Scale(Layer):
    def weight_specs(self, input_shape):
        return [WeightSpec("scale", (), lambda shape: np.full(shape, 1.5))]

    def apply(self, weights, x):
        return scale(x, weights[0])


def test_a_wrong_input_vjp_fails_the_check():
    x = sample((2, 5))
    report = minicnn.gradcheck(Square(), x)
    assert not report.passed
    assert report.tensors[0].name == "input" and report.max_rel_error > 0.3
    assert "FAIL" in str(report) and "gradcheck FAILED" in str(report)


def test_a_wrong_weight_vjp_fails_on_that_weight_only():
    x = sample((2, 5))
    report = minicnn.gradcheck(Scale(), x)
    by_name = {t.name.split("/")[-1]: t for t in report.tensors}
    assert not by_name["scale"].passed and by_name["input"].passed
    assert not report.passed


def test_a_wrong_vjp_deep_in_a_model_is_caught():
    model = Sequential([Dense(4, input_shape=(3,)), Square(), Dense(2)])
    report = minicnn.gradcheck(model, sample((2, 3)))
    failed = {t.name for t in report.tensors if not t.passed}
    # Everything upstream of the wrong VJP gets a wrong gradient; the last Dense does not.
    assert {"dense/kernel", "dense/bias", "input"} <= failed
    assert not any(name.startswith(model.layers[2].name) for name in failed)


# --------------------------------------------------------------------------- the report


def test_report_states_what_was_checked():
    layer = Dense(40)
    report = minicnn.gradcheck(layer, sample((3, 30)), max_entries=50)
    assert isinstance(report, GradcheckReport) and report.passed
    kernel = report.tensors[0]
    assert (kernel.checked, kernel.size, kernel.shape) == (50, 1200, (30, 40))
    text = str(report)
    assert f"{layer.name}/kernel" in text and "50/1200" in text and "gradcheck passed" in text


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"eps": 0}, ValueError),
        ({"rtol": -1.0}, ValueError),
        ({"max_entries": 0}, ValueError),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        minicnn.gradcheck(Dense(2), sample((2, 3)), **kwargs)


def test_something_that_is_not_a_model_or_layer_is_a_type_error():
    with pytest.raises(TypeError, match="Sequential model or a Layer"):
        minicnn.gradcheck(lambda x: x, sample((2, 3)))
