"""Keras 3's callbacks/model_checkpoint_test.py, test_model_checkpoint_loading, on minicnn:
a checkpoint written by fit loads back as the trained model (.keras) or into a fresh one
(.weights.h5). Keras compiles with metrics.Accuracy, which minicnn does not have;
categorical accuracy stands in (the metric does not enter what is checked)."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import callbacks, layers, saving
from minicnn.models import Model
from minicnn.utils import to_categorical

INPUT_DIM, NUM_HIDDEN, NUM_CLASSES, SAMPLES, BATCH_SIZE = 3, 5, 3, 30, 5


def get_model():
    inputs = layers.Input(shape=(INPUT_DIM,), batch_size=5)
    x = layers.Dense(NUM_HIDDEN, activation="relu")(inputs)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    model = Model(inputs, outputs)
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["acc"])
    return model


@pytest.mark.parametrize(
    "name, weights_only", [("checkpoint.model.keras", False), ("checkpoint.weights.h5", True)]
)
def test_model_checkpoint_loading(tmp_path, name, weights_only):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(42)
    x = rng.standard_normal((2 * SAMPLES, INPUT_DIM))
    y = to_categorical(rng.integers(0, NUM_CLASSES, 2 * SAMPLES), NUM_CLASSES)
    model = get_model()
    path = tmp_path / name
    checkpoint = callbacks.ModelCheckpoint(
        str(path),
        monitor="val_loss",
        save_best_only=True,
        save_weights_only=weights_only,
        mode="auto",
    )
    model.fit(
        x[:SAMPLES],
        y[:SAMPLES],
        batch_size=BATCH_SIZE,
        epochs=1,
        verbose=0,
        validation_data=(x[SAMPLES:], y[SAMPLES:]),
        callbacks=[checkpoint],
    )
    assert path.exists()
    if weights_only:
        loaded = get_model()
        loaded.load_weights(str(path))
    else:
        loaded = saving.load_model(str(path))
    reference = model.get_weights()
    assert len(loaded.get_weights()) == len(reference)
    for got, want in zip(loaded.get_weights(), reference):
        np.testing.assert_allclose(got, want)
