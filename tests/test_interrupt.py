"""A KeyboardInterrupt (Ctrl-C) during ``fit`` leaves the model holding the weights and
optimizer state of the last completed step, never a half-applied one, and the History of
the completed epochs on ``model.history``; the interrupt itself is not swallowed.

The reference is an uninterrupted run with the same seed that records, after every step,
the weights and the optimizer state; the interrupted run must equal the snapshot of the
last step it completed.
"""

from __future__ import annotations

import numpy as np
import pytest

from minicnn.callbacks import LambdaCallback
from minicnn.layers import Conv2D, Dense, Flatten
from minicnn.models import Sequential
from minicnn.utils import set_random_seed

BATCH, SAMPLES, EPOCHS = 4, 12, 3  # 3 steps an epoch, 9 in all


def data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(SAMPLES, 5, 5, 1)).astype(np.float32)
    y = rng.normal(size=(SAMPLES, 2)).astype(np.float32)
    return x, y


def new_model() -> Sequential:
    set_random_seed(11)
    model = Sequential(
        [
            Conv2D(2, 3, input_shape=(5, 5, 1), activation="relu", name="conv"),
            Flatten(name="flat"),
            Dense(2, name="dense"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def snapshot(model) -> tuple:
    state = model.optimizer.get_state()
    return model.get_weights(), state["iterations"], state["variables"]


def reference() -> tuple[list, list]:
    """Snapshots before training and after every step, and the per-epoch losses."""
    model = new_model()
    snaps = [snapshot(model)]
    record = LambdaCallback(on_train_batch_end=lambda step, logs: snaps.append(snapshot(model)))
    history = model.fit(*data(), batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[record])
    return snaps, history.history["loss"]


def assert_state(model, snap) -> None:
    weights, iterations, variables = snap
    got_weights, got_iterations, got_variables = snapshot(model)
    assert got_iterations == iterations
    for a, b in zip(got_weights + got_variables, weights + variables, strict=True):
        assert a.dtype == np.float32 and np.array_equal(a, b)


def interrupted_fit(model):
    with pytest.raises(KeyboardInterrupt):
        model.fit(*data(), batch_size=BATCH, epochs=EPOCHS, verbose=0)


def raise_on_call(n: int, real):
    """``real`` wrapped to raise KeyboardInterrupt on its ``n``-th call (1-based)."""
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("step", [1, 2, 4, 7, 9])
def test_interrupt_in_the_optimizer_update_keeps_the_previous_step(step):
    snaps, losses = reference()
    model = new_model()
    model.optimizer.update = raise_on_call(step, model.optimizer.update)
    interrupted_fit(model)
    assert_state(model, snaps[step - 1])
    completed_epochs = (step - 1) // 3
    assert model.history.history.get("loss", []) == losses[:completed_epochs]
    assert model.history.epoch == list(range(completed_epochs))


@pytest.mark.parametrize("call", [1, 3, 5, 8])
def test_interrupt_in_the_forward_pass_keeps_the_previous_step(call):
    snaps, _ = reference()
    model = new_model()
    dense = model.layers[2]
    dense.apply = raise_on_call(call, dense.apply)
    interrupted_fit(model)
    assert_state(model, snaps[call - 1])  # one forward pass per step, no validation


@pytest.mark.parametrize("step", [1, 3, 6])
def test_interrupt_while_committing_a_step_completes_that_step(step):
    # The commit assigns layer by layer; an interrupt in the middle is replayed, so the
    # model holds the whole new step, not a mixture of old and new weights.
    snaps, _ = reference()
    model = new_model()
    dense = model.layers[2]
    real_assign, calls = dense.assign_weights, []

    def assign_then_interrupt(arrays):
        # The first layer of the step is already assigned when the last one is reached.
        calls.append(1)
        if len(calls) == step:
            raise KeyboardInterrupt
        real_assign(arrays)

    dense.assign_weights = assign_then_interrupt
    interrupted_fit(model)
    assert_state(model, snaps[step])


def test_interrupt_in_validation_keeps_the_epochs_last_step_and_earlier_history():
    x, y = data()
    history_ref = new_model().fit(
        x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, validation_data=(x[:4], y[:4])
    )
    model = new_model()
    epochs_begun = []
    interrupt = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_begun.append(epoch))
    real_apply = model.layers[2].apply

    def apply(weights, inputs, **options):
        # In the second epoch, a forward pass after its third (last) step is the validation.
        if epochs_begun == [0, 1] and model.optimizer.iterations == 6:
            raise KeyboardInterrupt
        return real_apply(weights, inputs)

    model.layers[2].apply = apply
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=EPOCHS,
            verbose=0,
            validation_data=(x[:4], y[:4]),
            callbacks=[interrupt],
        )
    assert model.optimizer.iterations == 6
    assert model.history.history["loss"] == history_ref.history["loss"][:1]
    assert model.history.history["val_loss"] == history_ref.history["val_loss"][:1]


def test_training_continues_after_an_interrupt():
    snaps, _ = reference()
    model = new_model()
    real_update = model.optimizer.update
    model.optimizer.update = raise_on_call(5, real_update)
    interrupted_fit(model)
    model.optimizer.update = real_update
    model.fit(*data(), batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 4 + 3
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_interrupt_from_a_callback_keeps_the_step_it_followed():
    snaps, losses = reference()
    model = new_model()

    def stop(step, logs):
        if model.optimizer.iterations == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(
            *data(),
            batch_size=BATCH,
            epochs=EPOCHS,
            verbose=0,
            callbacks=[LambdaCallback(on_train_batch_end=stop)],
        )
    assert_state(model, snaps[5])
    assert model.history.history["loss"] == losses[:1]
