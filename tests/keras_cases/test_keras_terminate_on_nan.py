"""Keras 3's callbacks/terminate_on_nan_test.py on minicnn's TerminateOnNaN. Keras makes
its NaN losses from infinite targets; minicnn refuses non-finite data before any step
(README, "Differences from Keras"), so those cases get their NaN from the loss instead,
and the refusal itself is checked on Keras's inputs."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest

from minicnn import callbacks, initializers, layers
from minicnn.models import Sequential
from minicnn.utils import to_categorical


def nan_on_batch(k):
    """A loss that is the MSE, except NaN from batch ``k`` on (batches of one sample,
    told apart by their target, the batch number)."""

    def loss(y_true, y_pred):
        bad = anp.where(y_true >= k, np.nan, 0.0)
        return anp.mean(anp.square(y_pred - y_true) + bad, axis=-1)

    return loss


def one_dense(loss="mse"):
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss=loss)
    return model


def test_TerminateOnNaN():
    rng = np.random.default_rng(1337)
    x, x_val = rng.random((10, 3)), rng.random((10, 3))
    y, y_val = (to_categorical(rng.integers(0, 2, 10), 2) for _ in range(2))
    model = Sequential([layers.Input((3,))])
    for _ in range(5):
        model.add(layers.Dense(2, activation="relu", kernel_initializer=initializers.Constant(1e5)))
    model.add(layers.Dense(2))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    history = model.fit(
        x,
        y,
        batch_size=4,
        validation_data=(x_val, y_val),
        epochs=20,
        callbacks=[callbacks.TerminateOnNaN()],
        verbose=0,
    )
    loss = history.history["loss"]
    assert len(loss) == 1
    assert np.isnan(loss[0]) or np.isinf(loss[0])


def test_terminate_on_nan_graceful_stop():
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    history = one_dense(nan_on_batch(0)).fit(
        x, y, epochs=2, batch_size=1, verbose=0, callbacks=[callbacks.TerminateOnNaN()]
    )
    assert len(history.history["loss"]) < 4


def test_terminate_on_nan_raise_error_raises_error():
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
        one_dense(nan_on_batch(0)).fit(
            x,
            y,
            epochs=1,
            batch_size=1,
            verbose=0,
            callbacks=[callbacks.TerminateOnNaN(raise_error=True)],
        )


def test_raise_error_terminate_does_not_trigger_on_train_end():
    class TrackingCallback(callbacks.Callback):
        train_end_called = False

        def on_train_end(self, logs=None):
            self.train_end_called = True

    tracking = TrackingCallback()
    with pytest.raises(RuntimeError):
        one_dense(nan_on_batch(0)).fit(
            np.array([[1.0]]),
            np.array([[0.0]]),
            epochs=1,
            verbose=0,
            callbacks=[tracking, callbacks.TerminateOnNaN(raise_error=True)],
        )
    assert not tracking.train_end_called


@pytest.mark.parametrize("raise_error", [False, True])
def test_normal_training_does_not_raise(raise_error):
    x = y = np.array([[1.0], [2.0]])
    history = one_dense().fit(
        x, y, epochs=2, verbose=0, callbacks=[callbacks.TerminateOnNaN(raise_error=raise_error)]
    )
    assert len(history.history["loss"]) == 2


def test_raise_error_terminate_stops_on_later_batch():
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    with pytest.raises(RuntimeError) as err:
        one_dense(nan_on_batch(1)).fit(
            x,
            y,
            epochs=1,
            batch_size=1,
            verbose=0,
            callbacks=[callbacks.TerminateOnNaN(raise_error=True)],
        )
    assert "batch 1" in str(err.value)


def test_kerass_infinite_targets_are_refused_before_any_step():
    model = one_dense()
    before = model.get_weights()
    with pytest.raises(ValueError, match="inf"):
        model.fit(
            np.array([[1.0], [2.0]]),
            np.array([[1.0], [np.inf]]),
            batch_size=1,
            verbose=0,
            callbacks=[callbacks.TerminateOnNaN(raise_error=True)],
        )
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
