"""Keras 3's layers/pooling tests (max_pooling_test.py, average_pooling_test.py,
global_max_pooling_test.py, global_average_pooling_test.py), case for case, on minicnn's
1-D and 2-D pooling layers: the same configurations, inputs and checks. Their
channels_first cases and the 3-D layers (which minicnn does not have) are out of scope."""

from __future__ import annotations

import numpy as np
import pytest
import reference
from layer_case import run_layer_test

from minicnn import layers

# *PoolingBasicTest: (pool_size, strides, padding, input shape, output shape), channels_last.
MAX_BASIC = {
    layers.MaxPooling1D: [
        (2, 1, "valid", (3, 5, 4), (3, 4, 4)),
        ((2,), (2,), "valid", (3, 5, 4), (3, 2, 4)),
    ],
    layers.MaxPooling2D: [
        (2, 1, "valid", (3, 5, 5, 4), (3, 4, 4, 4)),
        ((2, 3), (2, 2), "valid", (3, 5, 5, 4), (3, 2, 2, 4)),
    ],
}
AVERAGE_BASIC = {
    layers.AveragePooling1D: [
        (2, 1, "valid", (3, 5, 4), (3, 4, 4)),
        ((2,), (2,), "valid", (3, 5, 4), (3, 2, 4)),
    ],
    layers.AveragePooling2D: [
        (2, 1, "valid", (3, 5, 5, 4), (3, 4, 4, 4)),
        (2, 1, "same", (3, 5, 5, 4), (3, 5, 5, 4)),
        ((2, 3), (2, 2), "valid", (3, 5, 5, 4), (3, 2, 2, 4)),
        ((2, 3), (2, 2), "same", (3, 5, 5, 4), (3, 3, 3, 4)),
    ],
}


@pytest.mark.parametrize(
    "cls, pool_size, strides, padding, input_shape, output_shape",
    [
        (cls, *case)
        for table in (MAX_BASIC, AVERAGE_BASIC)
        for cls, cases in table.items()
        for case in cases
    ],
)
def test_pooling_basic(cls, pool_size, strides, padding, input_shape, output_shape):
    run_layer_test(
        cls,
        {
            "pool_size": pool_size,
            "strides": strides,
            "padding": padding,
            "data_format": "channels_last",
        },
        input_shape=input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        assert_built_after_instantiation=True,
    )


def as_tuple(v, rank):
    return tuple(v) if isinstance(v, tuple) else (v,) * rank


# *PoolingCorrectnessTest: (pool_size, strides, padding) on np.arange inputs, against a
# direct pooling (Keras's numpy references there).
CORRECTNESS = [
    # max_pooling_test.py
    (
        layers.MaxPooling1D,
        "max",
        (2, 3, 4),
        [(2, 1, "valid"), (2, 1, "same"), ((2,), (2,), "valid")],
    ),
    (
        layers.MaxPooling2D,
        "max",
        (1, 5, 5, 4),
        [(2, 1, "valid"), ((2, 2), (2, 2), "same"), ((2, 3), (3, 3), "same")],
    ),
    # average_pooling_test.py: test_average_pooling1d and ..._same_padding
    (
        layers.AveragePooling1D,
        "avg",
        (2, 3, 4),
        [(2, 1, "valid"), ((2,), (2,), "valid"), (2, 1, "same"), ((2,), (2,), "same")],
    ),
    # test_average_pooling2d and ..._same_padding
    (
        layers.AveragePooling2D,
        "avg",
        (1, 4, 4, 1),
        [(2, 1, "valid"), ((2, 3), (2, 2), "valid"), (2, (2, 1), "same"), ((2, 2), (2, 2), "same")],
    ),
]


@pytest.mark.parametrize(
    "cls, mode, shape, pool_size, strides, padding",
    [(cls, mode, shape, *case) for cls, mode, shape, cases in CORRECTNESS for case in cases],
)
def test_pooling_correctness(cls, mode, shape, pool_size, strides, padding):
    rank = len(shape) - 2
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    expected = reference.pool(x, as_tuple(pool_size, rank), as_tuple(strides, rank), padding, mode)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6)


GLOBAL = {
    layers.GlobalMaxPooling1D: ((3, 5, 4), (2, 3, 4), np.max),
    layers.GlobalMaxPooling2D: ((3, 5, 6, 4), (2, 3, 4, 4), np.max),
    layers.GlobalAveragePooling1D: ((3, 5, 4), (2, 3, 4), np.mean),
    layers.GlobalAveragePooling2D: ((3, 5, 6, 4), (2, 3, 4, 4), np.mean),
}


@pytest.mark.parametrize("cls", list(GLOBAL))
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_basic(cls, keepdims):
    # Global*PoolingBasicTest: (3, 5, 4) -> (3, 4) or (3, 1, 4); (3, 5, 6, 4) -> (3, 4) or
    # (3, 1, 1, 4).
    input_shape = GLOBAL[cls][0]
    kept = (1,) * (len(input_shape) - 2) if keepdims else ()
    run_layer_test(
        cls,
        {"data_format": "channels_last", "keepdims": keepdims},
        input_shape=input_shape,
        expected_output_shape=(3, *kept, 4),
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        assert_built_after_instantiation=True,
    )


@pytest.mark.parametrize("cls", list(GLOBAL))
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_correctness(cls, keepdims):
    _, shape, reduce = GLOBAL[cls]
    x = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    axes = tuple(range(1, len(shape) - 1))
    expected = reduce(x, axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(cls(keepdims=keepdims)(x), expected, rtol=1e-6)
