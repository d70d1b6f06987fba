"""Finite-difference checks of every hand-written and composed gradient, in float64.

Each check compares ``autograd.grad`` of ``sum(f(...) * r)`` (a fixed random ``r``, so
every output element matters with a different weight) with central differences from
tests/reference.py. Inputs are kept away from kinks (ReLU thresholds, max-pool ties) by
more than the finite-difference step.
"""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import reference
from hypothesis import given, settings
from strategies import conv_cases, pool_cases

from minicnn import activations, layers, ops
from minicnn.models import Sequential

RTOL, ATOL = 1e-7, 1e-9


def assert_gradient_matches(f, args, argnum, seed=0):
    """autograd's gradient of ``sum(f(*args) * r)`` w.r.t. ``args[argnum]`` equals the
    central-difference one."""
    args = [np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in args]
    r = np.random.default_rng(seed).normal(size=np.shape(f(*args)))

    def loss(*a):
        return anp.sum(f(*a) * r)

    got = autograd.grad(loss, argnum)(*args)
    assert got.dtype == np.float64

    def loss_at(v):
        return loss(*args[:argnum], v, *args[argnum + 1 :])

    expected = reference.numerical_gradient(loss_at, args[argnum])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def distinct_values(shape, seed, step=0.01):
    """Values ``step`` apart in random order, centred on 0 and 0.003 off the grid, so no
    max-pool window has a tie the finite-difference step could flip and no value sits on
    a kink."""
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((gen.permutation(n) - n // 2) * step + 0.003).reshape(shape)


# --------------------------------------------------------------------------- ops


@settings(max_examples=150, deadline=None)
@given(conv_cases())
def test_conv_gradients_match_finite_differences(case):
    gen = np.random.default_rng(case["seed"])
    x, kernel = gen.normal(size=case["x_shape"]), gen.normal(size=case["kernel_shape"])

    def f(x, kernel):
        return ops.conv(
            x, kernel, case["strides"], case["padding"], case["dilation"], case["groups"]
        )

    assert_gradient_matches(f, [x, kernel], 0)
    assert_gradient_matches(f, [x, kernel], 1)


@settings(max_examples=150, deadline=None)
@given(pool_cases())
def test_pool_gradient_matches_finite_differences(case):
    x = distinct_values(case["x_shape"], case["seed"])

    def f(x):
        return ops.pool(x, case["pool_size"], case["strides"], case["padding"], case["mode"])

    assert_gradient_matches(f, [x], 0)


def test_max_pool_gradient_goes_to_the_window_maximum_only():
    x = np.array([[[1.0], [3.0], [2.0], [0.0]]])
    g = autograd.grad(lambda v: anp.sum(ops.pool(v, 2, mode="max")))(x)
    assert g.ravel().tolist() == [0, 1, 1, 0]


def test_same_average_pool_gradient_divides_by_real_inputs_only():
    x = np.ones((1, 3, 1))
    g = autograd.grad(lambda v: anp.sum(ops.pool(v, 2, padding="same", mode="average")))(x)
    # windows [x0, x1] (mean of 2) and [x2, pad] (mean of 1)
    assert g.ravel().tolist() == [0.5, 0.5, 1.0]


# Away from every kink: 0, +-0.5 (shrinks, threshold), +-1 (hard_tanh, sparse_*), +-3
# (hard_sigmoid), 6 (relu6), the relu thresholds below and sparsemax's support changes;
# rows of even length for glu.
POINTS = np.array([[-4.3, -2.7, -1.1, -0.35, 0.2, -5.2], [0.9, 1.7, 2.6, 4.1, 6.6, 3.7]])


@pytest.mark.parametrize("name", sorted(activations.REGISTRY.entries))
def test_activation_gradient_matches_finite_differences(name):
    assert_gradient_matches(reference.activation_of_x(activations, name), [POINTS], 0)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_gradient_matches_finite_differences(approximate):
    assert_gradient_matches(lambda x: activations.gelu(x, approximate), [POINTS], 0)


@pytest.mark.parametrize(
    "negative_slope, max_value, threshold",
    [(0.0, None, 0.0), (0.3, None, 0.0), (0.0, 2.0, 0.0), (0.1, 3.0, 1.5), (0.5, None, 2.0)],
)
def test_relu_gradient_matches_finite_differences(negative_slope, max_value, threshold):
    assert_gradient_matches(
        lambda x: ops.relu(x, negative_slope, max_value, threshold), [POINTS], 0
    )


def test_softmax_gradient_on_other_axis():
    assert_gradient_matches(lambda x: activations.softmax(x, axis=0), [POINTS], 0)
    assert_gradient_matches(lambda x: activations.log_softmax(x, axis=0), [POINTS], 0)


# --------------------------------------------------------------------------- layers

# (layer factory, per-sample input shape); each builds a fresh layer.
LAYER_CASES = {
    "conv1d_valid": (lambda: layers.Conv1D(3, 3), (7, 2)),
    "conv1d_causal_dilated": (
        lambda: layers.Conv1D(2, 2, padding="causal", dilation_rate=2, activation="tanh"),
        (6, 3),
    ),
    "conv1d_same_strided_grouped": (
        lambda: layers.Conv1D(4, 4, strides=2, padding="same", groups=2),
        (7, 2),
    ),
    "conv2d_valid": (lambda: layers.Conv2D(2, (3, 2)), (5, 4, 2)),
    "conv2d_same_strided_sigmoid": (
        lambda: layers.Conv2D(3, 2, strides=(2, 1), padding="same", activation="sigmoid"),
        (5, 4, 1),
    ),
    "conv2d_dilated_grouped_no_bias": (
        lambda: layers.Conv2D(4, 2, dilation_rate=(1, 2), groups=2, use_bias=False),
        (4, 5, 4),
    ),
    "conv3d_same": (lambda: layers.Conv3D(2, 2, padding="same"), (3, 3, 2, 2)),
    "dense": (lambda: layers.Dense(3), (4,)),
    "dense_on_sequence_softmax": (lambda: layers.Dense(3, activation="softmax"), (2, 4)),
    "flatten": (lambda: layers.Flatten(), (2, 3, 2)),
    "activation_selu": (lambda: layers.Activation("selu"), (3, 4)),
    "relu": (lambda: layers.ReLU(), (3, 4)),
    "relu_all_args": (lambda: layers.ReLU(3.0, 0.1, 1.5), (3, 4)),
    "max_pooling1d": (lambda: layers.MaxPooling1D(2), (7, 2)),
    "max_pooling2d_same": (lambda: layers.MaxPooling2D(2, padding="same"), (5, 5, 2)),
    "average_pooling1d_strided": (lambda: layers.AveragePooling1D(3, 2), (7, 2)),
    "average_pooling2d_same": (
        lambda: layers.AveragePooling2D((3, 2), (2, 2), padding="same"),
        (5, 4, 1),
    ),
    "global_max_pooling1d": (lambda: layers.GlobalMaxPooling1D(), (5, 3)),
    "global_max_pooling2d_keepdims": (lambda: layers.GlobalMaxPooling2D(keepdims=True), (3, 4, 2)),
    "global_average_pooling1d": (lambda: layers.GlobalAveragePooling1D(), (5, 3)),
    "global_average_pooling2d": (lambda: layers.GlobalAveragePooling2D(), (3, 4, 2)),
}


def built_layer(case_id, seed=0):
    """A layer built for (None, *shape), its weights as random float64, and an input."""
    factory, shape = LAYER_CASES[case_id]
    layer = factory()
    layer.build((None, *shape))
    gen = np.random.default_rng(seed)
    weights = [gen.normal(size=w.shape) for w in layer.get_weights()]
    # step 0.37 spreads the inputs over the ReLU thresholds and max_value below
    x = distinct_values((2, *shape), seed, step=0.37)
    return layer, weights, x


@pytest.mark.parametrize("case_id", sorted(LAYER_CASES))
def test_layer_apply_gradients_match_finite_differences(case_id):
    layer, weights, x = built_layer(case_id)
    n = len(weights)

    def f(x, *ws):
        return layer.apply(list(ws), x)

    for argnum in range(n + 1):
        assert_gradient_matches(f, [x, *weights], argnum)


@pytest.mark.parametrize("case_id", sorted(LAYER_CASES))
def test_model_gradients_stay_float32_for_every_layer_type(case_id):
    factory, shape = LAYER_CASES[case_id]
    model = Sequential([layers.Input(shape=shape), factory()])
    x = distinct_values((2, *shape), 0, step=0.37).astype(np.float32)

    def loss(ws, x):
        return anp.sum(model.apply(ws, x))

    assert model.apply(model.get_weights(), x).dtype == np.float32
    dw, dx = autograd.grad(loss, (0, 1))(model.get_weights(), x)
    assert dx.dtype == np.float32
    assert [g.dtype for g in dw] == [np.float32] * len(model.get_weights())


@pytest.mark.parametrize(
    "activation", sorted(set(activations.REGISTRY.entries) - set(reference.NOT_LAYER_ACTIVATIONS))
)
def test_conv_layer_gradients_stay_float32_with_every_activation(activation):
    layer = layers.Conv2D(2, 2, activation=activation)
    layer.build((None, 4, 4, 1))
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 1)).astype(np.float32)
    dw, dx = autograd.grad(lambda ws, v: anp.sum(layer.apply(ws, v)), (0, 1))(layer.weights, x)
    assert dx.dtype == np.float32
    assert [g.dtype for g in dw] == [np.float32, np.float32]


# --------------------------------------------------------------------------- model


def stacked_model():
    """conv - relu - pool - conv - flatten - dense - softmax, with float64 weights."""
    model = Sequential(
        [
            layers.Input(shape=(7, 7, 2)),
            layers.Conv2D(3, 3, padding="same"),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Conv2D(2, 2, activation="tanh"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    gen = np.random.default_rng(1)
    weights = [gen.normal(size=w.shape) for w in model.get_weights()]
    return model, weights


def test_stacked_model_gradients_match_finite_differences():
    model, weights = stacked_model()
    x = np.random.default_rng(2).normal(size=(2, 7, 7, 2))

    def f(x, *ws):
        return model.apply(list(ws), x)

    assert len(weights) == 6
    for argnum in range(len(weights) + 1):
        assert_gradient_matches(f, [x, *weights], argnum)


def test_stacked_model_gradients_stay_float32():
    model, weights = stacked_model()
    x = np.random.default_rng(2).normal(size=(2, 7, 7, 2)).astype(np.float32)
    w32 = [w.astype(np.float32) for w in weights]
    dw, dx = autograd.grad(lambda ws, v: anp.sum(model.apply(ws, v)), (0, 1))(w32, x)
    assert dx.dtype == np.float32
    assert [g.dtype for g in dw] == [np.float32] * 6


@pytest.mark.parametrize(
    "kwargs, x, expected",
    [
        # plain relu passes nothing at 0
        ({}, [-1, 0, 1], [0, 0, 1]),
        # no max_value and no threshold: Keras calls the backend's leaky_relu, whose
        # gradient is the slope at 0 too (torch and TensorFlow)
        ({"negative_slope": 0.2}, [-1, 0, 1], [0.2, 0.2, 1]),
        # max_value 6 without threshold: Keras calls relu6, which passes nothing at 0 or 6
        ({"max_value": 6.0}, [0, 3, 6, 7], [0, 1, 0, 0]),
        ({"max_value": 6.0, "negative_slope": 0.5}, [-1, 0, 6], [0.5, 0, 0]),
        # another max_value: relu then clip, whose gradient passes at the bound
        ({"max_value": 5.0}, [0, 3, 5, 7], [0, 1, 1, 0]),
        # a threshold t: x * (x > t) and -slope * relu(t - x) both pass nothing at t
        ({"threshold": 1.0, "negative_slope": 0.5}, [0, 1, 2], [0.5, 0, 1]),
        ({"threshold": 1.0, "max_value": 6.0}, [1, 3, 6, 7], [0, 1, 1, 0]),
    ],
)
def test_relu_gradient_at_its_kinks_follows_keras(kwargs, x, expected):
    for dtype in (np.float32, np.float64):
        g = autograd.grad(lambda v: anp.sum(ops.relu(v, **kwargs)))(np.array(x, dtype))
        assert g.dtype == dtype
        np.testing.assert_allclose(g, expected, rtol=1e-7)


def test_named_activations_gradient_at_kinks_follows_keras():
    x = np.array([-3.0, 0.0, 3.0, 6.0])
    grad = {
        name: autograd.elementwise_grad(activations.get(name))(x).tolist()
        for name in ("relu", "relu6", "leaky_relu", "hard_sigmoid")
    }
    assert grad["relu"] == [0, 0, 1, 1]
    assert grad["relu6"] == [0, 0, 1, 0]
    assert grad["leaky_relu"] == [0.2, 0.2, 1, 1]
    # Keras's hard_sigmoid is the backend's; torch's (the backend KERAS_REFERENCE was
    # observed on) is flat at -3 and 3, where TensorFlow's clip would still pass 1/6
    assert grad["hard_sigmoid"] == pytest.approx([0, 1 / 6, 0, 0])


@pytest.mark.parametrize(
    "layer, x, expected",
    [
        (layers.GlobalMaxPooling1D(), [[[3.0], [1.0], [3.0], [3.0]]], [1 / 3, 0, 1 / 3, 1 / 3]),
        (
            layers.GlobalMaxPooling2D(keepdims=True),
            [[[[2.0], [2.0]], [[0.0], [1.0]]]],
            [0.5, 0.5, 0, 0],
        ),
    ],
)
def test_global_max_pooling_shares_gradient_among_tied_maxima(layer, x, expected):
    # Keras computes ops.max, whose gradient (torch.amax, tf.reduce_max) is shared evenly
    for dtype in (np.float32, np.float64):
        g = autograd.grad(lambda v: anp.sum(layer.apply([], v)))(np.array(x, dtype))
        assert g.dtype == dtype
        np.testing.assert_allclose(g.ravel(), expected, rtol=1e-7)


def test_max_pooling_window_gives_a_tie_to_its_first_maximum():
    # torch's and TensorFlow's max-pool gradients go to one winner, the first in the window
    g = autograd.grad(lambda v: anp.sum(ops.pool(v, 2, mode="max")))(np.array([[[3.0], [3.0]]]))
    assert g.ravel().tolist() == [1, 0]
