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
    # minicnn's own: "accuracy" means one of three, which only the data's shapes decide.
    with pytest.raises(ValueError, match="pass `y_shape` and `output_shape`"):
        metrics.get("accuracy")
    assert isinstance(metrics.get("bce"), metrics.BinaryCrossentropy)
