"""Keras 3's optimizers/sgd_test.py, adam_test.py and rmsprop_test.py, case for case on
minicnn's SGD, Adam and RMSprop: configs, single steps, weight decay, golden trajectories
and gradient clipping. EMA (use_ema) and IndexedSlices are out of scope; Keras's
Variables are float32 numpy arrays here, updated in place by apply_gradients."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import layers, optimizers
from minicnn.models import Sequential

SGD, Adam, RMSprop = optimizers.SGD, optimizers.Adam, optimizers.RMSprop


def var(values):
    return np.array(values, dtype=np.float32)


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
        Adam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
        RMSprop(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
    ],
)
def test_config(optimizer):
    config = optimizer.get_config()
    assert type(optimizer).from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(optimizer)).get_config() == config


@pytest.mark.parametrize(
    "optimizer, expected",
    [
        (SGD(learning_rate=0.5), [0.5, -1.0, -0.5, 3.0]),
        (Adam(learning_rate=0.5), [0.5, 1.5, 2.5, 3.5]),
        (RMSprop(learning_rate=0.5), [-0.5811, 0.4189, 1.4189, 2.4189]),
    ],
)
def test_single_step(optimizer, expected):
    v = var([1.0, 2.0, 3.0, 4.0])
    optimizer.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0])], [v]))
    np.testing.assert_allclose(v, expected, rtol=1e-4, atol=1e-4)
    assert optimizer.iterations == 1


def test_sgd_invalid_momentum():
    for momentum in (-1.0, 2.0):
        with pytest.raises(ValueError, match="momentum"):
            SGD(momentum=momentum)


@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop])
def test_weight_decay(cls):
    # Keras decays var1 once per optimizer (three times); var2 is excluded by name and
    # var3 by listing it, which minicnn does by name too (its weights are replaced each
    # training step, so they cannot be listed).
    grads, var1 = np.zeros((), np.float32), var(2.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients(zip([grads], [var1]))
    for excluded in ("exclude", "var3"):
        opt = cls(learning_rate=1.0, weight_decay=0.004)
        opt.exclude_from_weight_decay(var_names=[excluded])
        other = var(2.0)
        new1, new_other = opt.apply([grads, grads], [var1, other], names=["var1", excluded])
        var1[...] = new1
        np.testing.assert_almost_equal(new_other, 2.0, decimal=6)
    np.testing.assert_almost_equal(var1, 1.9760959, decimal=6)
    with pytest.raises(TypeError, match="var_names"):
        cls(weight_decay=0.004).exclude_from_weight_decay(var_list=[var1])


GOLDEN = {
    "sgd": (
        lambda: SGD(nesterov=True),
        np.array(
            [
                [0.9999] * 10,
                [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
                [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
                [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
                [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
            ]
        ),
    ),
    "adam": (
        lambda: Adam(amsgrad=True),
        np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10)),
    ),
    "rmsprop": (
        lambda: RMSprop(centered=True),
        np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10)),
    ),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_correctness_with_golden(name):
    make, golden = GOLDEN[name]
    optimizer, x = make(), var(np.ones(10))
    grads = np.arange(0.1, 1.1, 0.1)
    optimizer.apply_gradients(zip([np.full((10,), 0.01)], [x]))
    for i in range(5):
        np.testing.assert_allclose(x, golden[i], rtol=5e-4, atol=5e-4)
        optimizer.apply_gradients(zip([grads], [x]))


@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop])
def test_clip_norm_and_value(cls):
    clipped = cls(clipnorm=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2**0.5 / 2, 2**0.5 / 2], rtol=1e-6)
    np.testing.assert_allclose(
        cls(clipvalue=1)._clip_gradients([np.array([100.0, 100.0])])[0], [1.0, 1.0]
    )


def test_ema_is_refused():
    # adam_test.py test_ema and test_ema_overwrite_frequency: EMA is out of scope.
    with pytest.raises(ValueError, match="use_ema"):
        Adam(learning_rate=1.0, use_ema=True, ema_momentum=0.9)


def test_fit_clips_and_decays_by_name():
    # Not in Keras's files: the options inside fit, by hand. Dense(1) without bias on
    # x = [[1, 1]], y = [[0]], MSE: the gradient of (w1 + w2)^2 is 2 (w1 + w2) [1, 1].
    def step(exclude=(), **kwargs):
        model = Sequential([layers.Input((2,)), layers.Dense(1, use_bias=False, name="d")])
        model.set_weights([np.array([[1.0], [2.0]])])
        opt = SGD(learning_rate=0.5, **kwargs)
        opt.exclude_from_weight_decay(var_names=list(exclude))
        model.compile(optimizer=opt, loss="mse")
        model.fit(np.ones((1, 2)), np.zeros((1, 1)), epochs=1, verbose=0)
        return model.get_weights()[0][:, 0]

    g = np.array([6.0, 6.0]) / np.sqrt(72.0)  # clipnorm=1 of [6, 6]
    np.testing.assert_allclose(step(clipnorm=1.0), [1.0, 2.0] - 0.5 * g, rtol=1e-6)
    decayed = np.array([1.0, 2.0]) * (1 - 0.1 * 0.5)
    np.testing.assert_allclose(step(clipnorm=1.0, weight_decay=0.1), decayed - 0.5 * g, rtol=1e-6)
    np.testing.assert_allclose(step(clipvalue=0.5), [0.75, 1.75], rtol=1e-6)
    # Excluded by its name, "d/kernel": no decay.
    np.testing.assert_allclose(
        step(["d/ker"], clipnorm=1.0, weight_decay=0.1), [1.0, 2.0] - 0.5 * g, rtol=1e-6
    )
