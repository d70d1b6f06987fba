"""Keras 3's callbacks/lambda_callback_test.py on minicnn: the same model, data and hooks.
Keras's tests log from each hook and look for the lines; here each hook records its name."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import callbacks, layers, losses, optimizers
from minicnn.models import Sequential

RNG = np.random.default_rng(0)
BATCH = 4


def compiled_model():
    model = Sequential([layers.Input(shape=(2,), batch_size=BATCH), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(), loss=losses.MeanSquaredError())
    return model


def recorder(*hooks):
    """A LambdaCallback whose named hooks append their name to the list it returns."""
    seen = []
    arity = {"on_train_begin": 1, "on_train_end": 1, "on_test_begin": 1, "on_predict_begin": 1}

    def hook(name):
        if arity.get(name) == 1:
            return lambda logs: seen.append(name)
        return lambda index, logs: seen.append(name)

    return callbacks.LambdaCallback(**{name: hook(name) for name in hooks}), seen


def fit(model, callback):
    x, y = RNG.standard_normal((16, 2)), RNG.standard_normal((16, 1))
    model.fit(
        x, y, batch_size=BATCH, validation_split=0.2, callbacks=[callback], epochs=5, verbose=0
    )


def test_lambda_callback():
    callback, seen = recorder("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
    fit(compiled_model(), callback)
    assert seen[0] == "on_train_begin" and seen[-1] == "on_train_end"
    assert seen.count("on_epoch_begin") == seen.count("on_epoch_end") == 5


def test_lambda_callback_with_batches():
    callback, seen = recorder("on_train_batch_begin", "on_train_batch_end")
    fit(compiled_model(), callback)
    # 16 samples less a validation fifth leave 12: three batches of 4, five epochs.
    assert seen.count("on_train_batch_begin") == seen.count("on_train_batch_end") == 15


def test_lambda_callback_with_kwargs():
    model = compiled_model()
    x, y = RNG.standard_normal((16, 2)), RNG.standard_normal((16, 1))
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    callback, seen = recorder("on_test_begin")
    model.evaluate(x, y, batch_size=BATCH, callbacks=[callback], verbose=0)
    assert seen == ["on_test_begin"]


def test_lambda_callback_no_args():
    assert isinstance(callbacks.LambdaCallback(), callbacks.LambdaCallback)


def test_lambda_callback_with_additional_kwargs_is_refused():
    # A listed difference: Keras stores custom_method=... as an attribute nothing calls;
    # minicnn says the name is not a hook, so a misspelt hook cannot pass unnoticed.
    with pytest.raises(ValueError, match="custom_method"):
        callbacks.LambdaCallback(custom_method=lambda logs: None)


def test_lambda_callback_during_prediction():
    callback, seen = recorder("on_predict_begin")
    compiled_model().predict(
        RNG.standard_normal((16, 2)), batch_size=BATCH, callbacks=[callback], verbose=0
    )
    assert seen == ["on_predict_begin"]
