"""Keras 3's metrics/accuracy_metrics_test.py (BinaryAccuracy, CategoricalAccuracy,
SparseCategoricalAccuracy) and regression_metrics_test.py (MeanSquaredError,
MeanAbsoluteError), case for case on minicnn: the same inputs and results, sample weights
included. The other metrics of those files are ones minicnn does not have."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import metrics

BA, CA, SCA = metrics.BinaryAccuracy, metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy
REG_TRUE = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
REG_PRED = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])


@pytest.mark.parametrize(
    "cls, name",
    [(BA, "binary_accuracy"), (CA, "categorical_accuracy"), (SCA, "sparse_categorical_accuracy")],
)
def test_config(cls, name):
    metric = cls(name=name, dtype="float32")
    assert metric.name == name and len(metric.variables) == 2
    config = metric.get_config()
    assert config["name"] == name and config["dtype"] == "float32"
    revived = cls.from_config(config)
    assert revived.name == name and len(revived.variables) == 2


# (Keras test, metric, y_true, y_pred, sample_weight, expected)
CASES = [
    ("binary unweighted", BA(), [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], None, 0.75),
    ("binary unweighted rank 1 y_true", BA(), [1, 1, 0, 0], [[0.98], [1], [0], [0.6]], None, 0.75),
    ("binary weighted", BA(), [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1], 0.5),
    ("binary weighted_rank_1", BA(), [1, 1, 0, 0], [0.98, 1, 0, 0.6], [1, 0, 0, 1], 0.5),
    (
        "binary weighted_nd_weights",
        BA(),
        [[1, 1], [0, 0]],
        [[0.98, 1], [0, 0.6]],
        [[1, 0], [0, 1]],
        0.5,
    ),
    (
        "binary weighted_nd_broadcast_weights",
        BA(),
        [[1, 1], [0, 0]],
        [[0.98, 1], [0, 0.6]],
        [[1, 0]],
        1.0,
    ),
    (
        "binary threshold 0.3",
        BA(threshold=0.3),
        [[1], [1], [0], [0]],
        [[0.98], [0.5], [0.1], [0.2]],
        None,
        1.0,
    ),
    (
        "binary threshold 0.9",
        BA(threshold=0.9),
        [[1], [1], [0], [0]],
        [[0.98], [0.5], [0.1], [0.2]],
        None,
        0.75,
    ),
    (
        "categorical unweighted",
        CA(),
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        None,
        0.5,
    ),
    (
        "categorical weighted",
        CA(),
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        [0.7, 0.3],
        0.3,
    ),
    ("sparse unweighted", SCA(), [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], None, 0.5),
    ("sparse weighted", SCA(), [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3], 0.3),
    (
        "sparse squeeze_y_true",
        SCA(),
        [[0], [1], [2]],
        [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]],
        None,
        1.0,
    ),
    (
        "sparse cast_y_pred_dtype",
        SCA(),
        np.array([0, 1], np.int64),
        np.array([[0.9, 0.1], [0.1, 0.9]], np.float32),
        None,
        1.0,
    ),
    ("sparse squeeze_y_true_shape", SCA(), [[0], [1], [2]], np.eye(3), None, 1.0),
    (
        "sparse cast_y_pred_to_match_y_true_dtype",
        SCA(),
        np.array([0, 1, 2], np.int32),
        np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]]),
        None,
        1.0,
    ),
    (
        "sparse reshape_matches_to_original_y_true_shape",
        SCA(),
        [[0], [1]],
        [[0.9, 0.1], [0.1, 0.9]],
        None,
        1.0,
    ),
    (
        "sparse matching_shapes_without_squeeze",
        SCA(),
        np.array([2, 1, 0], np.int32),
        np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32),
        None,
        1.0,
    ),
]


@pytest.mark.parametrize(
    "name, metric, y_true, y_pred, weight, expected", CASES, ids=[c[0] for c in CASES]
)
def test_accuracy_values(name, metric, y_true, y_pred, weight, expected):
    metric.reset_state()
    metric.update_state(np.asarray(y_true), np.asarray(y_pred), sample_weight=weight)
    np.testing.assert_allclose(metric.result(), expected, atol=1e-3)


def test_sparse_reshape_matches():
    # Labels (2, 1) against predictions (1, 2, 3): the label axis meets the predictions'
    # second axis; Keras's result is [1.0, 1.0] (a mean of ones, 1.0 here).
    metric = SCA(dtype="float32")
    metric.update_state(
        np.array([[0], [0]], np.int64), np.array([[[0.9, 0.1, 0.0], [0.8, 0.15, 0.05]]], np.float32)
    )
    np.testing.assert_allclose(metric.result(), 1.0)


@pytest.mark.parametrize("cls", [metrics.MeanSquaredError, metrics.MeanAbsoluteError])
def test_regression_unweighted_and_weighted(cls):
    metric = cls()
    metric.update_state(REG_TRUE, REG_PRED)
    np.testing.assert_allclose(metric.result(), 0.5, atol=1e-5)
    weighted = cls()(REG_TRUE, REG_PRED, sample_weight=np.array([1.0, 1.5, 2.0, 2.5]))
    np.testing.assert_allclose(weighted, 0.54285, atol=1e-5)


def test_mae_config():
    # Keras's case uses dtype="int32"; minicnn's metrics accumulate in float32 only.
    metric = metrics.MeanAbsoluteError(name="my_mae")
    assert metrics.MeanAbsoluteError.from_config(metric.get_config()).name == "my_mae"
    with pytest.raises(ValueError, match="float32"):
        metrics.MeanAbsoluteError(name="my_mae", dtype="int32")
