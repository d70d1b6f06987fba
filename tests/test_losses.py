"""Losses against hand-computed values and gradients (Keras 3's formulas and reduction)."""

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from autograd import grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minicnn import losses

f32 = np.float32


def value_and_gradient(loss, y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=f32)
    value = loss(np.asarray(y_true, dtype=f32), y_pred)
    gradient = grad(lambda p: loss(np.asarray(y_true, dtype=f32), p))(y_pred)
    return value, gradient


Y_TRUE = [[0.0, 1.0], [1.0, 1.0]]
Y_PRED = [[0.5, 0.5], [1.0, 0.0]]


def test_mean_squared_error_is_mean_over_every_element_with_gradient_2_diff_over_count():
    value, gradient = value_and_gradient(losses.MeanSquaredError(), Y_TRUE, Y_PRED)
    # squared errors 0.25 0.25 / 0 1 -> per-sample means 0.25, 0.5 -> 0.375
    assert value == pytest.approx(0.375, abs=1e-7)
    np.testing.assert_allclose(gradient, [[0.25, -0.25], [0.0, -0.5]], atol=1e-7)


def test_mean_absolute_error_value_and_sign_gradient_with_zero_at_equal_values():
    value, gradient = value_and_gradient(losses.MeanAbsoluteError(), Y_TRUE, Y_PRED)
    assert value == pytest.approx(0.5, abs=1e-7)
    np.testing.assert_allclose(gradient, [[0.25, -0.25], [0.0, -0.25]], atol=1e-7)


def test_binary_crossentropy_matches_keras_docstring_example_and_gradient():
    y_true, y_pred = [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]
    loss = losses.BinaryCrossentropy()
    per_sample = loss.call(np.asarray(y_true, f32), np.asarray(y_pred, f32))
    np.testing.assert_allclose(per_sample, [0.916, 0.714], atol=1e-3)  # Keras's docstring
    value, gradient = value_and_gradient(loss, y_true, y_pred)
    t, p = np.array(y_true, float), np.array(y_pred, float)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert value == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(gradient, (p - t) / (p * (1 - p)) / 4, rtol=1e-5)


def test_binary_crossentropy_clips_probabilities_to_epsilon():
    value = losses.BinaryCrossentropy()(np.array([[1.0, 0.0]], f32), np.array([[0.0, 1.0]], f32))
    # p=0 is clipped to 1e-7; p=1 to float32(1 - 1e-7), which is 1 - 2**-23.
    expected = (-math.log(float(f32(1e-7))) - math.log(2**-23)) / 2
    assert value == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(value)


def test_binary_crossentropy_from_logits_is_stable_and_its_gradient_is_sigmoid_minus_target():
    logits = [[100.0, -100.0, 0.5, -2.0]]
    target = [[0.0, 1.0, 1.0, 0.0]]
    value, gradient = value_and_gradient(
        losses.BinaryCrossentropy(from_logits=True), target, logits
    )
    x, t = np.array(logits, float), np.array(target, float)
    expected = np.mean(np.logaddexp(0, x) - x * t)
    assert value == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(gradient, (1 / (1 + np.exp(-x)) - t) / 4, atol=1e-7)


def test_categorical_crossentropy_matches_keras_docstring_example():
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    loss = losses.CategoricalCrossentropy()
    per_sample = loss.call(np.asarray(y_true, f32), np.asarray(y_pred, f32))
    np.testing.assert_allclose(per_sample, [-math.log(0.95), -math.log(0.1)], rtol=1e-6)
    assert loss(y_true, np.asarray(y_pred, f32)) == pytest.approx(
        (-math.log(0.95) - math.log(0.1)) / 2, rel=1e-6
    )


def test_categorical_crossentropy_normalises_probabilities_before_the_log():
    loss = losses.CategoricalCrossentropy()
    scaled = loss(np.array([[0.0, 1.0]], f32), np.array([[1.0, 3.0]], f32))
    assert scaled == pytest.approx(-math.log(0.75), rel=1e-6)


def test_categorical_crossentropy_gradient_on_probabilities_by_hand():
    # d/dp of -log(p_k / sum p) = -1/p_k + 1/sum(p) for the true class, 1/sum(p) elsewhere.
    y_true, y_pred = [[0.0, 1.0, 0.0]], [[0.2, 0.5, 0.3]]
    _, gradient = value_and_gradient(losses.CategoricalCrossentropy(), y_true, y_pred)
    np.testing.assert_allclose(gradient, [[1.0, 1 - 1 / 0.5, 1.0]], rtol=1e-5)


def test_categorical_crossentropy_from_logits_gradient_is_softmax_minus_target_over_batch():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 50.0]])
    target = np.array([[0, 0, 1], [1, 0, 0]], float)
    value, gradient = value_and_gradient(
        losses.CategoricalCrossentropy(from_logits=True), target, logits
    )
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    expected = -(target * np.log(softmax + 1e-300)).sum(1).mean()
    assert value == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(gradient, (softmax - target) / 2, atol=1e-7)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot(from_logits):
    y_pred = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25], [0.3, 0.3, 0.4]], f32)
    labels = np.array([1, 0, 2])
    one_hot = np.eye(3, dtype=f32)[labels]
    dense = losses.CategoricalCrossentropy(from_logits=from_logits)(one_hot, y_pred)
    sparse = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    assert sparse(labels, y_pred) == pytest.approx(float(dense), abs=1e-7)
    assert sparse(labels[:, None], y_pred) == pytest.approx(float(dense), abs=1e-7)
    expected = -np.mean(np.log(y_pred[np.arange(3), labels])) if not from_logits else None
    if expected is not None:
        assert float(dense) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "loss",
    [
        losses.MeanSquaredError(),
        losses.MeanAbsoluteError(),
        losses.BinaryCrossentropy(),
        losses.BinaryCrossentropy(from_logits=True),
        losses.CategoricalCrossentropy(),
        losses.CategoricalCrossentropy(from_logits=True),
    ],
)
def test_losses_keep_float32_in_value_and_gradient(loss):
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], f32)
    y_pred = np.array([[0.3, 0.7], [0.6, 0.4]], f32)
    value = loss(y_true, y_pred)
    gradient = grad(lambda p: loss(y_true, p))(y_pred)
    assert np.asarray(value).dtype == f32
    assert gradient.dtype == f32


def test_mse_squeezes_a_trailing_axis_of_one_like_keras():
    loss = losses.MeanSquaredError()
    column = loss(np.array([[1.0], [2.0]], f32), np.array([[0.0], [0.0]], f32))
    flat = loss(np.array([1.0, 2.0], f32), np.array([[0.0], [0.0]], f32))
    assert column == flat == pytest.approx(2.5)


def test_reductions_sum_and_none():
    y_true, y_pred = np.array(Y_TRUE, f32), np.array(Y_PRED, f32)
    assert losses.MeanSquaredError(reduction="sum")(y_true, y_pred) == pytest.approx(0.75)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction=None)(y_true, y_pred), [0.25, 0.5])


@pytest.mark.parametrize(
    "name, cls",
    [
        ("mse", losses.MeanSquaredError),
        ("mean_squared_error", losses.MeanSquaredError),
        ("MAE", losses.MeanAbsoluteError),
        ("binary_crossentropy", losses.BinaryCrossentropy),
        ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ],
)
def test_keras_string_names_resolve(name, cls):
    # What compile trains with: a Loss of the named class (Keras's compile wraps too).
    assert type(losses.resolve(name)) is cls


def test_unknown_loss_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'msee'") as err:
        losses.get("msee")
    assert "mean_squared_error" in str(err.value) and "sparse_categorical_crossentropy" in str(
        err.value
    )


def test_loss_config_round_trip():
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="bce")
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is losses.BinaryCrossentropy
    assert again.get_config() == loss.get_config()
    assert again.get_config()["from_logits"] is True


def test_bad_loss_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(TypeError, match="from_logits"):
        losses.BinaryCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match="unknown class 'os.system'"):
        losses.deserialize({"class_name": "os.system", "config": {}})


def test_check_target_accepts_keras_compatible_shapes_and_rejects_others():
    losses.MeanSquaredError().check_target((1,), (1,), "fit")
    losses.MeanSquaredError().check_target((), (1,), "fit")
    losses.SparseCategoricalCrossentropy().check_target((), (3,), "fit")
    losses.SparseCategoricalCrossentropy().check_target((1,), (3,), "fit")
    with pytest.raises(ValueError, match=r"per-sample shape \(3,\) is incompatible"):
        losses.MeanSquaredError().check_target((3,), (1,), "fit")
    with pytest.raises(ValueError, match="expects targets of per-sample shape \\(3,\\)"):
        losses.CategoricalCrossentropy().check_target((), (3,), "fit")


@pytest.mark.parametrize(
    "loss", [losses.BinaryCrossentropy(), losses.MeanAbsoluteError(), losses.MeanSquaredError()]
)
def test_rank_1_targets_meet_one_unit_outputs_element_by_element(loss):
    # Keras's LossFunctionWrapper expands (n,) targets to (n, 1) instead of broadcasting.
    y_pred = np.array([[0.9], [0.2], [0.6]], f32)
    flat = loss(np.array([1.0, 0.0, 0.0], f32), y_pred)
    column = loss(np.array([[1.0], [0.0], [0.0]], f32), y_pred)
    assert flat == column
    if isinstance(loss, losses.BinaryCrossentropy):
        assert flat == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.4)) / 3, rel=1e-6)


# --------------------------------------------------------------------------- properties

FLOATS = {"allow_nan": False, "allow_infinity": False}


def central_difference(f, x, eps=1e-6):
    """d f / d x by central differences, in float64."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        out[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return out


@st.composite
def batches(draw, low, high):
    b, k = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    y_pred = draw(hnp.arrays(np.float64, (b, k), elements=st.floats(low, high, **FLOATS)))
    labels = draw(hnp.arrays(np.int64, (b,), elements=st.integers(0, k - 1)))
    return y_pred, labels


@settings(max_examples=40, deadline=None)
@given(batches(0.05, 1.0))
def test_probability_crossentropies_match_a_float64_reference(case):
    probs, labels = case
    b, k = probs.shape
    one_hot = np.eye(k)[labels]
    p = np.clip(probs / probs.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    expected = -np.log(p[np.arange(b), labels]).mean()
    y_pred = probs.astype(f32)
    assert losses.CategoricalCrossentropy()(one_hot, y_pred) == pytest.approx(expected, rel=1e-5)
    assert losses.SparseCategoricalCrossentropy()(labels, y_pred) == pytest.approx(
        expected, rel=1e-5
    )
    # Keras clips in float32: the upper bound float32(1 - 1e-7) is 1 - 2**-23.
    q = np.clip(probs.astype(f32).astype(float), float(f32(1e-7)), 1 - 2**-23)
    bce = -(one_hot * np.log(q) + (1 - one_hot) * np.log(1 - q)).mean()
    assert losses.BinaryCrossentropy()(one_hot, y_pred) == pytest.approx(bce, rel=1e-5, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(batches(-30.0, 30.0))
def test_logit_crossentropies_match_a_float64_reference(case):
    logits, labels = case
    b, k = logits.shape
    one_hot = np.eye(k)[labels]
    shifted = logits - logits.max(1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    expected = -log_softmax[np.arange(b), labels].mean()
    y_pred = logits.astype(f32)
    cce = losses.CategoricalCrossentropy(from_logits=True)(one_hot, y_pred)
    assert cce == pytest.approx(expected, rel=1e-5, abs=1e-5)
    bce = (np.logaddexp(0, logits) - logits * one_hot).mean()
    got = losses.BinaryCrossentropy(from_logits=True)(one_hot, y_pred)
    assert got == pytest.approx(bce, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize(
    "loss, low, high, target",
    [
        (losses.MeanSquaredError(), -3, 3, "dense"),
        (losses.MeanAbsoluteError(), -3, 3, "dense"),
        (losses.BinaryCrossentropy(), 0.05, 0.95, "one_hot"),
        (losses.BinaryCrossentropy(from_logits=True), -5, 5, "one_hot"),
        (losses.CategoricalCrossentropy(), 0.05, 1.0, "one_hot"),
        (losses.CategoricalCrossentropy(from_logits=True), -5, 5, "one_hot"),
        (losses.SparseCategoricalCrossentropy(), 0.05, 1.0, "labels"),
        (losses.SparseCategoricalCrossentropy(from_logits=True), -5, 5, "labels"),
    ],
)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_gradients_match_central_differences_in_float64(loss, low, high, target, data):
    y_pred, labels = data.draw(batches(low, high))
    k = y_pred.shape[1]
    if target == "labels":
        y_true = labels
    elif target == "one_hot":
        y_true = np.eye(k)[labels]
    else:
        y_true = np.round(y_pred + data.draw(st.sampled_from([-1.0, 0.5, 2.0])), 1)
        assume(np.all(np.abs(np.asarray(y_true, f32) - y_pred) > 1e-3))  # away from |.|'s kink
    analytic = grad(lambda p: loss(y_true, p))(y_pred)
    assert analytic.dtype == np.float64
    numeric = central_difference(lambda p: float(loss(y_true, p)), y_pred)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_only_built_in_losses_serialize():
    class Scaled(losses.MeanSquaredError):
        pass

    with pytest.raises(TypeError, match="cannot serialize"):
        losses.serialize(Scaled())
