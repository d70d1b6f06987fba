"""Keras 3's losses/loss_test.py on minicnn's Loss base class: a subclass defining
``call``, the rank rule, the reductions and sample weights. Masks, dtypes other than
float32 and dtype policies are out of scope."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from minicnn import losses
from minicnn.losses import Loss, squeeze_or_expand_to_same_rank


class ExampleLoss(Loss):
    def call(self, y_true, y_pred):
        return (y_true - y_pred) ** 2


Y_TRUE = np.array([1.0, 0.0, 1.0, 0.0])
# Keras's inputs are float64 and its loss casts them to float32; minicnn computes in the
# dtype it is given, so that losses can be gradient-checked in float64 (README,
# "Differences from Keras"): float32 outputs here, and one float64 check below.
Y_PRED = np.array([0.1, 0.2, 0.3, 0.4], dtype="float32")


def test_squeeze_or_expand():
    for a, b, want in [((3,), (3, 1), (3, 1)), ((3, 2), (3, 2, 1), (3, 2))]:
        for first, second in ((a, b), (b, a)):
            x1, x2 = squeeze_or_expand_to_same_rank(np.ones(first), np.ones(second))
            assert np.shape(x1) == want and np.shape(x2) == want


def test_reduction():
    for reduction, expected in [
        (None, (Y_TRUE - Y_PRED) ** 2),
        ("sum", np.sum((Y_TRUE - Y_PRED) ** 2)),
        ("sum_over_batch_size", np.sum((Y_TRUE - Y_PRED) ** 2) / 4),
    ]:
        loss = ExampleLoss(reduction=reduction)(Y_TRUE, Y_PRED)
        assert np.asarray(loss).dtype == np.float32
        np.testing.assert_allclose(loss, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="Invalid value for argument"):
        ExampleLoss(reduction="abc")
    assert np.asarray(ExampleLoss()(Y_TRUE, Y_PRED.astype("float64"))).dtype == np.float64


def test_sample_weight():
    weight = np.array([0.4, 0.3, 0.2, 0.1])
    loss = ExampleLoss()(Y_TRUE, Y_PRED, sample_weight=weight)
    assert np.asarray(loss).dtype == np.float32
    np.testing.assert_allclose(loss, np.sum(weight * (Y_TRUE - Y_PRED) ** 2) / 4, rtol=1e-6)
    np.testing.assert_allclose(ExampleLoss()(Y_TRUE, Y_PRED, sample_weight=np.zeros(4)), 0)


def test_get_method():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get(None) is None
    with pytest.raises(ValueError):
        losses.get("typo")


def test_pickle():
    assert pickle.loads(pickle.dumps(losses.get("mse"))) is losses.mean_squared_error
