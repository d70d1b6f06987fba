"""Keras 3's callbacks/early_stopping_test.py, case for case, on minicnn's EarlyStopping.
Keras's mode table also monitors hinge and F1Score, metrics minicnn does not have; those
two rows are left out."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import callbacks, layers
from minicnn.models import Sequential


def two_dense(optimizer="sgd", metrics=("mse",)):
    model = Sequential(
        [layers.Input((5,)), layers.Dense(1, activation="relu"), layers.Dense(1, activation="relu")]
    )
    model.compile(loss="mae", optimizer=optimizer, metrics=list(metrics))
    return model


def data(rows=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((rows, 5)), rng.random((rows, 1))


@pytest.mark.parametrize(
    "mode, monitor, maximise",
    [
        ("max", "val_mse", True),
        ("min", "val_loss", False),
        ("auto", "val_mse", False),
        ("auto", "loss", False),
        ("auto", "acc", True),
        ("auto", "val_accuracy", True),
    ],
)
def test_early_stopping(mode, monitor, maximise):
    # The direction each mode and monitor resolve to, seen in what counts as improving:
    # Keras compares monitor_op with ops.greater / ops.less. Patience 0 with min_delta
    # on a log that moves the other way stops after the second epoch.
    x, y = data()
    model = two_dense("adam", ("mse", "acc", "accuracy"))
    model.fit(
        x,
        y,
        batch_size=5,
        validation_data=(x, y),
        epochs=2,
        verbose=0,
        callbacks=[callbacks.EarlyStopping(patience=0, monitor=monitor, mode=mode)],
    )
    stopper = callbacks.EarlyStopping(patience=0, monitor=monitor, mode=mode)
    stopper.set_model(model)
    stopper.on_train_begin()
    model.stop_training = False  # as fit starts; the fit above may have stopped
    up, down = {monitor: 1.0}, {monitor: 0.5}
    stopper.on_epoch_end(0, down if maximise else up)
    stopper.on_epoch_end(1, up if maximise else down)  # an improvement
    assert not model.stop_training
    stopper.on_epoch_end(2, down if maximise else up)  # worse: patience 0 stops
    assert model.stop_training


def test_early_stopping_unknown_monitor_is_a_value_error():
    x, y = data()
    model = two_dense("adam", ("mse",))
    with pytest.raises(ValueError, match="monitor=unknown"):
        model.fit(
            x,
            y,
            batch_size=5,
            validation_data=(x, y),
            epochs=2,
            verbose=0,
            callbacks=[callbacks.EarlyStopping(patience=0, monitor="unknown")],
        )


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_patience(patience):
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = callbacks.EarlyStopping(monitor="loss", patience=patience)
    model = two_dense()
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate(losses):
        stopper.on_epoch_end(epoch=epoch, logs={"loss": loss})
        if model.stop_training:
            break
    assert stopper.stopped_epoch == max(patience, 1) + 2


def test_early_stopping_reuse():
    rng = np.random.default_rng(1)
    x = rng.random((100, 1))
    y = np.where(x > 0.5, 1, 0)
    model = Sequential(
        [layers.Input((1,)), layers.Dense(1, activation="relu"), layers.Dense(1, activation="relu")]
    )
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    stopper = callbacks.EarlyStopping(monitor="mse", patience=3)
    assert len(model.fit(x, y, callbacks=[stopper], verbose=0, epochs=20).epoch) >= 3
    assert len(model.fit(x, y, callbacks=[stopper], verbose=0, epochs=20).epoch) >= 3


def test_state_reset_across_fit_calls():
    stopper = callbacks.EarlyStopping(monitor="loss", patience=3)
    stopper.set_model(Sequential())
    stopper.on_train_begin()
    stopper.best, stopper.wait, stopper.stopped_epoch = 0.1, 3, 5
    stopper.best_epoch, stopper.best_weights = 5, object()
    stopper.on_train_begin()
    assert stopper.best is None and stopper.wait == 0 and stopper.stopped_epoch == 0
    assert stopper.best_epoch == 0 and stopper.best_weights is None


def test_early_stopping_with_baseline():
    x, y = data()
    stopper = callbacks.EarlyStopping(monitor="mse", patience=3, baseline=0.6)
    assert len(two_dense().fit(x, y, callbacks=[stopper], verbose=0, epochs=20).epoch) >= 3


class DummyModel:
    """Keras's test model: its "weights" are the number of the epoch that set them."""

    def __init__(self):
        self.stop_training = False
        self.weights = -1

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


@pytest.mark.parametrize(
    "kwargs, losses, stop_at, trained",
    [
        # The best epoch is 2 (0.1); patience 2 stops at epoch 4 and restores epoch 2.
        (dict(patience=2), [0.2, 0.15, 0.1, 0.11, 0.12], None, 5),
        # Nothing beats the baseline: 5 epochs, and the best of them (2) is restored.
        (dict(patience=5, baseline=0.5), [0.9, 0.8, 0.7, 0.71, 0.72, 0.73], None, 5),
        # Another callback stops training at epoch 3: epoch 2 is still restored.
        (dict(patience=5, baseline=0.5), [0.9, 0.8, 0.7, 0.71, 0.72, 0.73], 3, 4),
    ],
)
def test_early_stopping_final_weights_when_restoring_model_weights(
    kwargs, losses, stop_at, trained
):
    stopper = callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True, **kwargs)
    stopper.set_model(DummyModel())
    epochs_trained = 0
    stopper.on_train_begin()
    for epoch, loss in enumerate(losses):
        epochs_trained += 1
        stopper.model.weights = epoch
        stopper.on_epoch_end(epoch, logs={"val_loss": loss})
        if epoch == stop_at:
            stopper.model.stop_training = True
        if stopper.model.stop_training:
            break
    stopper.on_train_end()
    assert epochs_trained == trained
    assert stopper.model.get_weights() == 2


@pytest.mark.parametrize("patience", [3, 0])
def test_early_stopping_with_start_from_epoch(patience):
    x, y = data()
    stopper = callbacks.EarlyStopping(monitor="mse", patience=patience, start_from_epoch=2)
    history = two_dense().fit(x, y, callbacks=[stopper], verbose=0, epochs=20)
    assert len(history.epoch) >= patience + 2
