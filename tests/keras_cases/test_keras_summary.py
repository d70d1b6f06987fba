"""Keras 3's utils/summary_utils_test.py on minicnn's summary: the same model and totals.
Its other cases build subclassed models (or an op, or MultiHeadAttention) that minicnn
does not have."""

from __future__ import annotations

import numpy as np
import pytest

from minicnn import layers
from minicnn.models import Model
from minicnn.summary import print_summary


@pytest.mark.parametrize("optimizer", ["adam", None])
def test_print_model_summary(optimizer):
    inputs = layers.Input((2,))
    model = Model(inputs, layers.Dense(3)(inputs))
    # Keras's compile takes optimizer=None (and uses its default); minicnn asks for one
    # (a listed difference), so the None case compiles nothing and fits nothing.
    if optimizer:
        model.compile(optimizer=optimizer, loss="mse", metrics=["mse"])
        model.fit(x=np.zeros([4, 2]), y=np.zeros([4, 3]), verbose=0)
    lines = []
    print_summary(model, print_fn=lines.append)
    content = "\n".join(lines)
    if optimizer:
        assert "Total params: 29" in content
        assert "Trainable params: 9" in content
        assert "Non-trainable params: 0" in content
        assert "Optimizer params: 20" in content
    else:
        assert "Total params: 9" in content
        assert "Trainable params: 9" in content
        assert "Non-trainable params: 0" in content
        assert "Optimizer params" not in content
