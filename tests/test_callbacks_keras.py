"""ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler and CSVLogger, with the cases
and expected values of Keras 3.15's own tests (keras/src/callbacks/*_test.py, named per
test) plus minicnn's checks of files and errors. Side-by-side runs against real Keras are
in tools/keras_parity_callbacks.py."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from minicnn.callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from minicnn.layers import Dense
from minicnn.models import Sequential, load_model
from minicnn.optimizers import SGD, Adam

RNG = np.random.default_rng(3)
X, Y = RNG.normal(size=(20, 3)), RNG.normal(size=(20, 2))
XV, YV = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))


def model(optimizer=None):
    m = Sequential([Dense(5, input_shape=(3,)), Dense(2)])
    m.compile(optimizer or Adam(0.1), "mse")
    return m


def f32(v):
    return float(np.float32(v))


# --------------------------------------------------------------------------- ReduceLROnPlateau


def test_reduces_lr_with_model_fit():  # reduce_lr_on_plateau_test.py
    m = model()
    reduce = ReduceLROnPlateau(patience=1, factor=0.1, monitor="val_loss", min_delta=100)
    m.fit(X, Y, validation_data=(XV, YV), callbacks=[reduce], epochs=2, verbose=0)
    assert m.optimizer.learning_rate == f32(0.01)


def test_honors_min_lr():  # reduce_lr_on_plateau_test.py
    m = model()
    reduce = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=10, min_lr=0.005
    )
    m.fit(X, Y, validation_data=(XV, YV), callbacks=[reduce], epochs=4, verbose=0)
    assert m.optimizer.learning_rate == f32(0.005)


def test_cooldown():  # reduce_lr_on_plateau_test.py: two reductions in four epochs
    m = model()
    reduce = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=100, cooldown=2
    )
    history = m.fit(X, Y, validation_data=(XV, YV), callbacks=[reduce], epochs=4, verbose=0)
    assert m.optimizer.learning_rate == pytest.approx(0.001, rel=1e-6)
    # The History records the rate each epoch ran with (logged before a reduction):
    # reduced after epochs 2 and 4.
    assert history.history["learning_rate"] == [f32(0.1), f32(0.1), f32(0.01), f32(0.01)]


def test_verbose_logging_and_state_reset(capsys):  # reduce_lr_on_plateau_test.py
    m = model()
    reduce = ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=100, verbose=1, cooldown=2
    )
    m.fit(X, Y, validation_data=(XV, YV), callbacks=[reduce], epochs=2, verbose=0)
    assert "ReduceLROnPlateau reducing learning rate to 0.01" in capsys.readouterr().out
    reduce.best, reduce.wait, reduce.cooldown_counter = 0.5, 3, 2
    reduce.on_train_begin()
    assert (reduce.best, reduce.wait, reduce.cooldown_counter) == (None, 0, 0)


def test_reduce_lr_rejects_a_factor_of_one_or_more():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="`mode` must be one of"):
        ReduceLROnPlateau(mode="up")


# --------------------------------------------------------------------------- LearningRateScheduler


def test_updates_learning_rate_with_the_old_one_argument_api(capsys):
    # learning_rate_scheduler_test.py: test_updates_learning_rate, test_verbose_logging
    m = model()
    m.fit(X, Y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda s: 1.0 / (2.0 + s))])
    assert m.optimizer.learning_rate == 0.5
    m.fit(X, Y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda s: 1.0, verbose=1)])
    assert "LearningRateScheduler setting learning rate to 1.0" in capsys.readouterr().out


def test_schedule_dependent_on_previous_learning_rate():  # learning_rate_scheduler_test.py
    m = model(Adam(0.03))
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda s, lr: lr / 2)])
    assert m.optimizer.learning_rate == f32(f32(f32(0.03) / 2) / 2)


def test_learning_rate_in_history():  # learning_rate_scheduler_test.py
    history = model().fit(
        X, Y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda s, lr: 0.5)]
    )
    assert type(history.history["learning_rate"][0]) is float
    assert history.history["learning_rate"] == [0.5]


def test_a_schedule_that_returns_no_float_is_refused():
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        model().fit(X, Y, verbose=0, callbacks=[LearningRateScheduler(lambda s, lr: 1)])
    with pytest.raises(TypeError, match="`schedule` must be callable"):
        LearningRateScheduler(0.5)


# --------------------------------------------------------------------------- CSVLogger


def read(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_epochs_with_kerass_columns(tmp_path):  # csv_logger_test.py
    path = tmp_path / "log.tsv"
    m = model(SGD(0.01))
    history = m.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    rows = read(path, "\t")
    # Without validation, Keras lists val_ columns too, written NA.
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert [float(r[1]) for r in rows[1:]] == history.history["loss"]
    assert [r[2] for r in rows[1:]] == ["NA", "NA"]
    # append=True continues the file without a second header.
    m.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t", append=True)])
    assert [r[0] for r in read(path, "\t")] == ["epoch", "0", "1", "0"]
    m.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    assert len(read(path, "\t")) == 2  # not appending: rewritten


def test_csv_logger_with_validation_and_an_early_stop(tmp_path):  # test_stop_training_csv
    path = tmp_path / "log.csv"
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=100)
    model().fit(
        X, Y, epochs=5, verbose=0, validation_data=(XV, YV), callbacks=[stop, CSVLogger(path)]
    )
    rows = read(path)
    assert rows[0] == ["epoch", "loss", "val_loss"] and len(rows) == 3


# --------------------------------------------------------------------------- ModelCheckpoint


def test_checkpoint_saves_every_epoch_with_formatted_names(tmp_path):
    m = model()
    m.fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        validation_data=(XV, YV),
        callbacks=[ModelCheckpoint(tmp_path / "sub" / "m-{epoch:02d}-{val_loss:.3f}.keras")],
    )
    names = sorted(p.name for p in (tmp_path / "sub").iterdir())
    assert [n[:5] for n in names] == ["m-01-", "m-02-", "m-03-"]
    np.testing.assert_array_equal(
        load_model(tmp_path / "sub" / names[-1]).predict(XV), m.predict(XV)
    )


def test_save_best_only_keeps_the_best_epochs_weights(tmp_path, capsys):
    path = tmp_path / "best.weights.h5"
    m = model(SGD(0.3))
    seen = []

    class Record(ModelCheckpoint):  # the weights and val_loss at every epoch's end
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["val_loss"], self.model.get_weights()))
            super().on_epoch_end(epoch, logs)

    checkpoint = Record(path, save_best_only=True, save_weights_only=True, verbose=1)
    m.fit(X, Y, epochs=6, verbose=0, validation_data=(XV, YV), callbacks=[checkpoint])
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    fresh = Sequential([Dense(5, input_shape=(3,)), Dense(2)])
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(a, b)
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from None to {seen[0][0]:.5f}, saving model to" in out
    assert checkpoint.best == seen[best][0]


def test_initial_value_threshold_and_mode_max(tmp_path):
    path = tmp_path / "m.keras"
    m = model()
    fit = {"epochs": 2, "verbose": 0, "validation_data": (XV, YV)}
    m.fit(
        X,
        Y,
        callbacks=[ModelCheckpoint(path, save_best_only=True, initial_value_threshold=0)],
        **fit,
    )
    assert not path.exists()  # no val_loss beats 0
    m.fit(X, Y, callbacks=[ModelCheckpoint(path, mode="max", save_best_only=True)], **fit)
    assert path.exists()


def test_save_freq_in_batches(tmp_path):
    m = model()
    checkpoint = ModelCheckpoint(tmp_path / "b{epoch}-{batch}.keras", save_freq=3)
    m.fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[checkpoint])
    # 5 batches per epoch, a save every 3 batches: batches 3 and 6 (epoch 2's first).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1-3.keras", "b2-1.keras", "b2-4.keras"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"filepath": "m.txt"}, ValueError, "must end in `.keras`"),
        ({"filepath": "m.keras", "save_weights_only": True}, ValueError, "`.weights.h5`"),
        ({"filepath": "m.keras", "save_freq": "batch"}, ValueError, "Unrecognized save_freq"),
        ({"filepath": "m.keras", "save_freq": 0}, ValueError, "Unrecognized save_freq"),
        ({"filepath": 3}, TypeError, "`filepath` must be a path"),
        ({"filepath": "m.keras", "save_best_only": "yes"}, TypeError, "save_best_only"),
    ],
)
def test_checkpoint_arguments_are_checked(kwargs, error, message):
    with pytest.raises(error, match=message):
        ModelCheckpoint(**kwargs)


def test_a_filepath_naming_a_missing_field_or_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(KeyError, match=r"Failed to format this callback filepath.*val_acc"):
        model().fit(X, Y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{val_acc}.keras")])
    (tmp_path / "d.keras").mkdir()
    with pytest.raises(OSError, match="non-directory filepath"):
        model().fit(X, Y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "d.keras")])
