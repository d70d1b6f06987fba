"""Keras 3's metrics/metric_test.py on minicnn's metrics: the cases about the built-in
metrics (get, pickling). Keras's other cases build a custom Metric through add_variable
and its stateless API, which minicnn's metrics (a float32 total and count) do not have."""

from __future__ import annotations

import pickle

import pytest

from minicnn import metrics


def test_pickle():
    reloaded = pickle.loads(pickle.dumps(metrics.get("mse")))
    assert isinstance(reloaded, metrics.MeanSquaredError)


def test_get_method():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("mean_squared_error"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("categorical_accuracy"), metrics.CategoricalAccuracy)
    assert metrics.get(None) is None
    with pytest.raises(ValueError):
        metrics.get("typo")
    # Without the data's shapes "accuracy" is Keras's Accuracy; "acc" names nothing there.
    assert type(metrics.get("accuracy")) is metrics.Accuracy
    assert type(metrics.get("Accuracy")) is metrics.Accuracy
    with pytest.raises(ValueError):
        metrics.get("acc")
    # With them (as compile passes them), "accuracy" means one of three accuracies.
    assert type(metrics.get("accuracy", (), (3,))) is metrics.SparseCategoricalAccuracy
    assert isinstance(metrics.get("bce"), metrics.BinaryCrossentropy)
