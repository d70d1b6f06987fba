"""Keras 3's layers/layer_test.py on minicnn's Layer base: the cases about its built-in
layers (the trainable argument, pickling) and the base's own refusal. Keras's other cases
exercise its stateful custom-layer API (``call``, ``add_weight``, sub-layers tracked inside
a custom layer, call-context arguments), which minicnn's custom layers do not have: they
declare ``weight_specs`` and a pure ``apply(weights, x, training=False, rng=None)``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from minicnn import layers
from minicnn.layers import Input
from minicnn.models import Model


def test_not_implemented_error():
    layer = layers.Layer()
    with pytest.raises(NotImplementedError, match="does not have a `apply` method implemented"):
        layer.apply([], np.ones((1, 2)))


@pytest.mark.parametrize("trainable", ["yes", 1, None])
def test_trainable_init_arg_validation(trainable):
    with pytest.raises(ValueError, match="to be a boolean"):
        layers.Dense(2, trainable=trainable)


def test_trainable_init_arg():
    inputs = Input(shape=(1,))
    layer = layers.Dense(2, trainable=False)
    model = Model(inputs, layer(inputs))
    assert not layer.trainable
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 0
    assert len(model.trainable_weights) == 0 and len(model.non_trainable_weights) == 2
    layer.trainable = True
    assert layer.trainable and len(layer.trainable_weights) == 2
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 0


def test_pickle_layer():
    layer = layers.Dense(2)
    assert pickle.loads(pickle.dumps(layer)).get_config() == layer.get_config()
