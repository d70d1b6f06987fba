"""Callbacks: EarlyStopping's Keras semantics, hook order, TerminateOnNaN, progress output."""

import numpy as np
import pytest

from minicnn.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    TerminateOnNaN,
    format_logs,
)
from minicnn.layers import Dense
from minicnn.models import Sequential
from minicnn.optimizers import SGD

f32 = np.float32


class FakeModel:
    """What callbacks use of a model: weights, stop_training, metric directions."""

    def __init__(self, directions=None):
        self.weights = [np.zeros(1)]
        self.stop_training = False
        self.metric_directions = directions or {}

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def drive(callback, values, monitor="loss", model=None):
    """Feed ``values`` (one per epoch) to ``callback``; return the epoch it stopped at."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            callback.on_train_end({})
            return epoch
    callback.on_train_end({})
    return None


def test_early_stopping_patience_counts_epochs_without_improvement():
    assert drive(EarlyStopping(monitor="loss", patience=0), [1.0, 1.1, 0.5]) == 1
    assert drive(EarlyStopping(monitor="loss", patience=2), [1.0, 1.1, 1.2, 0.5]) == 2
    assert drive(EarlyStopping(monitor="loss", patience=2), [1.0, 1.1, 0.9, 1.0, 1.0]) == 4


def test_early_stopping_min_delta_requires_a_large_enough_improvement():
    assert drive(EarlyStopping(monitor="loss", min_delta=0.1), [1.0, 0.95]) == 1
    assert drive(EarlyStopping(monitor="loss", min_delta=0.1), [1.0, 0.85, 0.7]) is None
    assert drive(EarlyStopping(monitor="loss", min_delta=-0.1), [1.0, 0.95]) == 1  # abs()


def test_early_stopping_compares_in_float32_like_keras():
    # -0.8 + 0.1 is -0.7000000000000001 in float64, an improvement on -0.7 there but not in
    # float32, where Keras's ops.less compares.
    assert drive(EarlyStopping(monitor="loss", min_delta=0.1), [-0.7, -0.8]) == 1


def test_early_stopping_auto_mode_maximises_accuracy_and_minimises_errors():
    model = FakeModel({"accuracy": "up", "mae": "down"})
    stopper = EarlyStopping(monitor="val_accuracy")
    assert drive(stopper, [0.5, 0.6, 0.7, 0.65], "val_accuracy", model) == 3
    stopper = EarlyStopping(monitor="mae")
    assert drive(stopper, [0.5, 0.4, 0.45], "mae", FakeModel({"mae": "down"})) == 2
    assert drive(EarlyStopping(monitor="score", mode="max"), [1, 2, 1], "score") == 2
    with pytest.raises(ValueError, match="maximized or minimized"):
        drive(EarlyStopping(monitor="score"), [1.0], "score")


def test_early_stopping_baseline_only_resets_the_wait_when_beaten():
    values = [0.5, 0.6, 0.7, 0.8]
    assert drive(EarlyStopping(monitor="loss", patience=2), values) == 2
    assert drive(EarlyStopping(monitor="loss", patience=2, baseline=0.3), values) == 1


def test_early_stopping_ignores_epochs_before_start_from_epoch():
    assert drive(EarlyStopping(monitor="loss", start_from_epoch=2), [1.0, 2.0, 3.0, 4.0]) == 3


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    model = FakeModel()
    stopper = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    assert drive(stopper, [3.0, 1.0, 2.0, 2.5], model=model) == 2
    assert model.weights[0][0] == 1.0  # weights as they were at the end of epoch 1


def test_early_stopping_warns_when_the_monitored_value_is_missing():
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        assert drive(stopper, [1.0, 2.0], monitor="loss") is None


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"mode": "up"}, ValueError, "mode"),
        ({"patience": -1}, ValueError, "patience"),
        # A wrong type is a TypeError, as everywhere in minicnn (validation.py).
        ({"min_delta": "x"}, TypeError, "min_delta"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        EarlyStopping(**kwargs)


def test_early_stopping_takes_numpy_integers_like_every_integer_argument():
    assert EarlyStopping(patience=np.int64(2), start_from_epoch=np.int32(1)).patience == 2


def test_terminate_on_nan_stops_on_a_non_finite_batch_loss(capsys):
    model = FakeModel()
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    callback.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_rejects_unknown_hooks_and_non_callables():
    with pytest.raises(ValueError, match="unknown hook 'on_step_end'.*on_epoch_end"):
        LambdaCallback(on_step_end=print)
    with pytest.raises(TypeError, match="on_epoch_end"):
        LambdaCallback(on_epoch_end=3)


def small_fit(**kwargs):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(SGD(0.01), "mse")
    x = np.arange(12, dtype=f32).reshape(6, 2) / 10
    y = x.sum(axis=1, keepdims=True)
    return model, model.fit(x, y, batch_size=2, shuffle=False, **kwargs)


def test_fit_calls_hooks_in_keras_order_with_logs():
    events = []

    def record(name):
        return lambda *args: events.append((name, *args[:-1], sorted(args[-1])))

    hooks = {
        name: record(name)
        for name in (
            "on_train_begin",
            "on_epoch_begin",
            "on_train_batch_begin",
            "on_train_batch_end",
            "on_epoch_end",
            "on_train_end",
        )
    }
    small_fit(epochs=2, verbose=0, validation_split=0.5, callbacks=[LambdaCallback(**hooks)])
    epoch = [
        ("on_train_batch_begin", 0, []),
        ("on_train_batch_end", 0, ["loss"]),
        ("on_train_batch_begin", 1, []),
        ("on_train_batch_end", 1, ["loss"]),
    ]
    assert events == [
        ("on_train_begin", []),
        ("on_epoch_begin", 0, []),
        *epoch,
        ("on_epoch_end", 0, ["loss", "val_loss"]),
        ("on_epoch_begin", 1, []),
        *epoch,
        ("on_epoch_end", 1, ["loss", "val_loss"]),
        ("on_train_end", ["loss", "val_loss"]),
    ]


def test_batch_end_hook_is_the_default_train_batch_end_hook():
    seen = []

    class Recorder(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    small_fit(epochs=1, verbose=0, callbacks=[Recorder()])
    assert seen == [0, 1, 2]


def test_stop_training_set_by_a_callback_ends_fit_after_the_batch():
    stopper = LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(stopper.model, "stop_training", batch == 1)
    )
    _, history = small_fit(epochs=5, verbose=0, callbacks=[stopper])
    assert history.epoch == [0]


def test_each_fit_returns_a_new_history():
    model, first = small_fit(epochs=2, verbose=0)
    second = model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    assert first is not second and len(first.epoch) == 2 and second.epoch == [0]


def test_verbose_2_prints_one_keras_style_line_per_epoch(capsys):
    small_fit(epochs=2, verbose=2, validation_split=0.5)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2" and len(out) == 4
    assert out[1].startswith("2/2 - ") and "ms/step - loss: " in out[1]
    assert " - val_loss: " in out[1]


def test_verbose_1_shows_a_bar_finished_with_validation_metrics(capsys):
    small_fit(epochs=1, verbose=1, validation_split=0.5)
    out = capsys.readouterr().out
    assert "Epoch" not in out  # Keras prints "Epoch i/N" only when N > 1
    last = out.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("2/2 ") and "loss: " in last and "val_loss: " in last


def test_verbose_0_prints_nothing(capsys):
    small_fit(epochs=2, verbose=0, validation_split=0.5)
    assert capsys.readouterr() == ("", "")


def test_small_evaluate_and_predict_print_nothing(capsys):
    model, _ = small_fit(epochs=1, verbose=0)
    model.evaluate(np.zeros((4, 2)), np.zeros((4, 1)))
    model.predict(np.zeros((1, 2)))
    assert capsys.readouterr() == ("", "")


def test_format_logs_uses_kerass_number_format():
    assert format_logs({"loss": 0.05841, "val_loss": 0.0006}) == (
        " - loss: 0.0584 - val_loss: 6.0000e-04"
    )


def test_long_predict_and_evaluate_draw_fits_bar_with_an_eta_and_keep_it(capsys, monkeypatch):
    import minicnn.model
    import minicnn.training

    model, _ = small_fit(epochs=1, verbose=0)
    # Any work outlasts a delay of zero: the bar appears, as it would after a second.
    monkeypatch.setattr(minicnn.model, "PROGRESS_DELAY", 0.0)
    monkeypatch.setattr(minicnn.training, "PROGRESS_DELAY", 0.0)
    model.predict(np.zeros((64, 2)), batch_size=8)
    model.evaluate(np.zeros((64, 2)), np.zeros((64, 1)), batch_size=8)
    lines = capsys.readouterr().out.replace("\r", "\n").split("\n")
    finished = [line for line in lines if line.startswith("8/8 ")]
    assert len(finished) >= 2  # one per call, left on screen
    assert all("━" * 20 in line and "<00:00" in line for line in finished)
    small_fit(epochs=1, verbose=1)
    fit_lines = capsys.readouterr().out.replace("\r", "\n").split("\n")
    assert any("<" in line and "step/s" in line for line in fit_lines)  # the ETA
