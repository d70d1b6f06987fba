"""``sample_weight`` and ``class_weight`` in fit/evaluate (Keras 3: the loss's values are
weighted, then divided by their number; metrics stay unweighted; class weights weigh
training batches only). Side-by-side runs against Keras: tools/keras_parity_training.py."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn as keras
from minicnn import layers as L
from minicnn.models import Model, Sequential
from minicnn.optimizers import SGD

RNG = np.random.default_rng(11)
X = RNG.normal(size=(6, 3)).astype(np.float32)
Y = RNG.normal(size=(6, 2)).astype(np.float32)
W = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 1.5], np.float32)


def dense():
    model = Sequential([L.Dense(2, input_shape=(3,))])
    model.compile(SGD(0.1), "mse", metrics=["mae"])
    return model


def test_evaluate_weighs_the_loss_and_not_the_metrics():
    model = dense()
    p = model.predict(X).astype(np.float64)
    per_sample = ((p - Y) ** 2).mean(axis=1)
    loss, mae = model.evaluate(X, Y, sample_weight=W, verbose=0)
    assert loss == pytest.approx((per_sample * W).sum() / len(W), rel=1e-6)
    assert mae == pytest.approx(np.abs(p - Y).mean(), rel=1e-6)


def test_one_weighted_step_equals_the_numpy_gradient_step():
    model = dense()
    k, b = [w.astype(np.float64) for w in model.get_weights()]
    model.fit(X, Y, sample_weight=W, batch_size=6, epochs=1, verbose=0, shuffle=False)
    # d/dp of sum_i w_i * mean_j (p_ij - y_ij)^2 / n, with p = x k + b.
    g = 2 * (X @ k + b - Y) * W[:, None] / (len(W) * Y.shape[1])
    np.testing.assert_allclose(model.get_weights()[0], k - 0.1 * X.T @ g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], b - 0.1 * g.sum(0), rtol=1e-5, atol=1e-6)


def test_class_weight_is_the_sample_weight_of_each_samples_class():
    labels = np.array([0, 1, 1, 2, 0, 2])
    one_hot = np.eye(3, dtype=np.float32)[labels]
    weights = {0: 2.0, 1: 0.5}  # class 2 not listed: weight 1
    runs = []
    for kwargs, y in (
        ({"class_weight": weights}, one_hot),
        ({"class_weight": weights}, labels),
        ({"sample_weight": np.array([2.0, 0.5, 0.5, 1.0, 2.0, 1.0])}, one_hot),
    ):
        model = Sequential([L.Dense(3, activation="softmax", input_shape=(3,))])
        model.set_weights([np.full((3, 3), 0.1, np.float32), np.zeros(3, np.float32)])
        loss = "categorical_crossentropy" if y.ndim == 2 else "sparse_categorical_crossentropy"
        model.compile(SGD(0.5), loss)
        history = model.fit(X, y, epochs=2, verbose=0, shuffle=False, **kwargs)
        runs.append((history.history["loss"], model.get_weights()))
    for losses, weights_ in runs[1:]:
        np.testing.assert_allclose(losses, runs[0][0], rtol=1e-6)
        for a, b in zip(weights_, runs[0][1]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_validation_weights_come_from_the_split_or_the_third_element():
    model = dense()
    history = model.fit(X, Y, sample_weight=W, validation_split=0.5, epochs=1, verbose=0)
    tail = W[3:]
    p = model.predict(X[3:]).astype(np.float64)
    want = (((p - Y[3:]) ** 2).mean(1) * tail).sum() / 3
    assert history.history["val_loss"][0] == pytest.approx(want, rel=1e-5)
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=(X[:2], Y[:2], W[:2] * 0))
    assert history.history["val_loss"] == [0.0]
    # Class weights weigh the training batches only (no training: a rate of 0).
    model.compile(SGD(0.0), "mse")
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 0, 1]]
    fit = {"validation_split": 0.5, "epochs": 1, "verbose": 0}
    weighted = model.fit(X, y, class_weight={0: 5.0, 1: 5.0}, **fit).history
    unweighted = model.fit(X, y, **fit).history
    assert weighted["val_loss"] == unweighted["val_loss"]
    assert weighted["loss"][0] == pytest.approx(5 * unweighted["loss"][0], rel=1e-6)


def test_several_outputs_take_one_array_for_all_or_one_per_output():
    x = keras.Input((3,))
    model = Model(x, [L.Dense(2, name="a")(x), L.Dense(1, name="b")(x)])
    model.compile(SGD(0.0), "mse")
    ys = [Y, Y[:, :1]]
    pa, pb = (p.astype(np.float64) for p in model.predict(X))
    la, lb = ((pa - Y) ** 2).mean(1), ((pb - Y[:, :1]) ** 2).mean(1)
    logs = model.evaluate(X, ys, sample_weight=W, verbose=0, return_dict=True)
    assert logs["a_loss"] == pytest.approx((la * W).sum() / 6, rel=1e-5)
    assert logs["b_loss"] == pytest.approx((lb * W).sum() / 6, rel=1e-5)
    logs = model.evaluate(X, ys, sample_weight={"b": W}, verbose=0, return_dict=True)
    assert logs["a_loss"] == pytest.approx(la.mean(), rel=1e-5)
    assert logs["b_loss"] == pytest.approx((lb * W).sum() / 6, rel=1e-5)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(X, ys, class_weight={0: 1.0}, verbose=0)


def test_a_feature_map_loss_weighs_every_cell_of_a_sample():
    # A deliberate difference: Keras 3.15 broadcasts (batch,) weights against the last
    # axis of (batch, 6, 6) loss values and fails; minicnn weighs each sample's cells.
    model = Sequential([L.Conv2D(1, 3, input_shape=(8, 8, 1))])
    model.compile(SGD(0.0), "mse")
    x, y = RNG.normal(size=(5, 8, 8, 1)), RNG.normal(size=(5, 6, 6, 1))
    w = np.arange(5.0)
    values = ((model.predict(x).astype(np.float64) - y) ** 2)[..., 0]
    got = model.evaluate(x, y, sample_weight=w, verbose=0)
    assert got == pytest.approx((values * w[:, None, None]).sum() / values.size, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"sample_weight": W, "class_weight": {0: 1.0}},
            "cannot `class_weight` and `sample_weight`",
        ),
        (
            {"sample_weight": W[:4]},
            r"`sample_weight` of shape \(4,\) must hold one weight per sample",
        ),
        ({"sample_weight": np.full(6, np.nan)}, "`sample_weight` contains NaN"),
        (
            {"class_weight": [1.0, 2.0]},
            "`class_weight` must be a dict-like mapping of class indices",
        ),
        ({"validation_data": (X, Y, W[:2])}, r"`validation_data\[2\]` of shape \(2,\)"),
    ],
)
def test_bad_weights_are_refused_before_any_step(kwargs, message):
    model = dense()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(X, Y, verbose=0, **kwargs)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
