"""Keras 3's callbacks/model_checkpoint_test.py test_model_checkpoint_options, case for
case on minicnn's ModelCheckpoint: the same model, data sizes, monitors, modes, save
frequencies and file names (Keras's last case monitors an AUC, which minicnn does not
have; its point, an initial threshold in auto mode, is case 14's)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from minicnn import callbacks, layers, metrics
from minicnn.models import Sequential
from minicnn.utils import to_categorical

TRAIN_SAMPLES = TEST_SAMPLES = 30
NUM_CLASSES, INPUT_DIM, NUM_HIDDEN, BATCH_SIZE = 3, 3, 5, 5


def training_data():
    rng = np.random.default_rng(42)
    x = rng.normal(size=(TRAIN_SAMPLES + TEST_SAMPLES, INPUT_DIM)).astype("float32")
    y = rng.integers(0, NUM_CLASSES, TRAIN_SAMPLES + TEST_SAMPLES)
    y = to_categorical(y, num_classes=NUM_CLASSES)
    return (x[:TRAIN_SAMPLES], y[:TRAIN_SAMPLES]), (x[TRAIN_SAMPLES:], y[TRAIN_SAMPLES:])


@pytest.fixture
def fit(tmp_path):
    model = Sequential(
        [
            layers.Dense(NUM_HIDDEN, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy", optimizer="sgd", metrics=[metrics.Accuracy("acc")]
    )
    (x_train, y_train), (x_test, y_test) = training_data()

    def run(checkpoint, epochs=1, batch_size=BATCH_SIZE, verbose=0):
        model.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            validation_data=(x_test, y_test),
            callbacks=[checkpoint],
            epochs=epochs,
            verbose=verbose,
        )

    return run


@pytest.mark.parametrize(
    "monitor, mode, save_best_only",
    [
        ("val_loss", "auto", False),  # case 1
        ("val_loss", "min", False),  # case 2
        ("val_acc", "max", False),  # case 3
        ("val_acc", "max", True),  # case 4
    ],
)
def test_cases_1_to_4_save(fit, tmp_path, monitor, mode, save_best_only):
    # Inside a directory that does not exist yet: it is made.
    filepath = str(tmp_path / "subdir" / "checkpoint.keras")
    fit(callbacks.ModelCheckpoint(filepath, monitor=monitor, mode=mode,
                                  save_best_only=save_best_only))  # fmt: skip
    assert os.path.exists(filepath)


def test_case_5_unknown_metric_warns_and_saves(fit, tmp_path):
    filepath = str(tmp_path / "checkpoint.keras")
    with pytest.warns(UserWarning):
        fit(callbacks.ModelCheckpoint(filepath, monitor="unknown", save_best_only=True, mode="min"))
    assert os.path.exists(filepath)


def test_case_6_unknown_mode_is_refused(tmp_path):
    # A listed difference: Keras warns "ModelCheckpoint mode 'unknown' is unknown" and
    # falls back to "auto"; minicnn refuses a mode it does not know (a typo would
    # otherwise pick a direction silently).
    with pytest.raises(ValueError, match="`mode` must be one of"):
        callbacks.ModelCheckpoint(str(tmp_path / "c.keras"), monitor="val_acc",
                                  save_best_only=True, mode="unknown")  # fmt: skip


@pytest.mark.parametrize("suffix, weights_only", [(".keras", False), (".weights.h5", True)])
def test_case_8_integer_save_freq(fit, tmp_path, suffix, weights_only):
    # batch_size 6: 5 batches an epoch, so a save every 3 epochs.
    filepath = str(tmp_path / f"checkpoint.epoch{{epoch:02d}}{suffix}")
    fit(
        callbacks.ModelCheckpoint(
            filepath, monitor="val_acc", mode="max", save_freq=15, save_weights_only=weights_only
        ),  # fmt: skip
        epochs=10,
        batch_size=6,
    )
    saved = [e for e in range(1, 11) if os.path.exists(filepath.format(epoch=e))]
    assert saved == [3, 6, 9]


def test_case_9_save_freq_values(tmp_path):
    filepath = str(tmp_path / "c.weights.h5")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(filepath, save_weights_only=True, save_freq="invalid_save_freq")
    callbacks.ModelCheckpoint(filepath, save_weights_only=True, save_freq="epoch")
    callbacks.ModelCheckpoint(filepath, save_weights_only=True, save_freq=3)


@pytest.mark.parametrize("suffix, weights_only", [(".keras", False), (".weights.h5", True)])
def test_case_10_batch_in_the_file_name(fit, tmp_path, suffix, weights_only):
    filepath = str(tmp_path / f"checkpoint.epoch{{epoch:02d}}batch{{batch:02d}}{suffix}")
    fit(
        callbacks.ModelCheckpoint(
            filepath, monitor="val_acc", save_freq=1, save_weights_only=weights_only
        ),  # fmt: skip
        epochs=5,
        batch_size=15,
    )
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(filepath.format(epoch=epoch, batch=batch))


@pytest.mark.parametrize(
    "mode, monitor, threshold, saved",
    [
        ("max", "val_acc", -0.01, True),  # case 11
        ("auto", "val_loss", None, True),  # case 12
        ("min", "val_loss", 0, False),  # case 13: no loss beats 0
        ("auto", "val_loss", 0, False),  # case 14
    ],
)
def test_cases_11_to_14_initial_value_threshold(fit, tmp_path, mode, monitor, threshold, saved):
    filepath = str(tmp_path / "checkpoint.keras")
    fit(
        callbacks.ModelCheckpoint(
            filepath,
            monitor=monitor,
            save_best_only=True,
            mode=mode,
            initial_value_threshold=threshold,
        )  # fmt: skip
    )
    assert os.path.exists(filepath) is saved
