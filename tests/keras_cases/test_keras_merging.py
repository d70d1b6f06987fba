"""Keras 3's layers/merging/merging_test.py, case for case on minicnn's merge layers
(Add, Subtract, Minimum, Maximum, Multiply, Average, Concatenate). Dot, masks
(compute_mask, Masking) and sparse inputs are out of scope."""

from __future__ import annotations

import numpy as np
import pytest
from layer_case import run_layer_test

from minicnn import layers
from minicnn.models import Model

# Keras's TEST_PARAMETERS without the Dot rows: (class, numpy op, init kwargs, output shape).
CASES = {
    "add": (layers.Add, np.add, {}, (2, 4, 5)),
    "subtract": (layers.Subtract, np.subtract, {}, (2, 4, 5)),
    "minimum": (layers.Minimum, np.minimum, {}, (2, 4, 5)),
    "maximum": (layers.Maximum, np.maximum, {}, (2, 4, 5)),
    "multiply": (layers.Multiply, np.multiply, {}, (2, 4, 5)),
    "average": (layers.Average, lambda a, b: np.multiply(np.add(a, b), 0.5), {}, (2, 4, 5)),
    "concat": (
        layers.Concatenate,
        lambda a, b, **kw: np.concatenate((a, b), **kw),
        {"axis": -1},
        (2, 4, 10),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_basic(name):
    cls, _, kwargs, out = CASES[name]
    run_layer_test(
        cls,
        kwargs,
        input_shape=((2, 4, 5), (2, 4, 5)),
        expected_output_shape=out,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("batch_size", [2, None])
def test_correctness(name, batch_size):
    # test_correctness_static (batch size 2 in the Input) and _dynamic (None), without
    # their compute_mask checks.
    cls, op, kwargs, out = CASES[name]
    rng = np.random.default_rng(0)
    x1, x2 = rng.random((2, 4, 5)), rng.random((2, 4, 5))
    a, b = (layers.Input(shape=(4, 5), batch_size=batch_size) for _ in range(2))
    model = Model([a, b], cls(**kwargs)([a, b]))
    res = model([x1, x2])
    assert res.shape == out
    np.testing.assert_allclose(res, op(x1, x2, **kwargs), atol=1e-4)


def test_subtract_layer_inputs_length_errors():
    a, b, c = (layers.Input(shape=(4, 5)) for _ in range(3))
    for inputs in ([a, b, c], [a]):
        with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
            layers.Subtract()(inputs)


def test_concatenate_errors():
    out = layers.Concatenate(axis=-1)([np.ones((1, 1, 1, 1, 5)), np.ones((1, 1, 1, 1, 4))])
    assert out.shape == (1, 1, 1, 1, 9)
    for axis, x1, x2 in [
        (-1, (1, 2, 1, 1, 5), (1, 1, 1, 1, 4)),
        (1, (1, 2, 1, 2, 1), (1, 1, 1, 3, 1)),
    ]:
        with pytest.raises(
            ValueError,
            match="requires inputs with matching shapes except for the concatenation axis",
        ):
            layers.Concatenate(axis=axis)([np.ones(x1), np.ones(x2)])
