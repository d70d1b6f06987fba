"""minicnn's counterpart of Keras's ``testing.TestCase.run_layer_test`` (keras/src/testing/
test_case.py), the check most of Keras's layer tests run: the parts that apply to minicnn
(no masking, sparse, ragged or mixed-precision inputs)."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from minicnn import layers
from minicnn.models import Model, Sequential


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape=None,
    input_data=None,
    call_kwargs=None,
    expected_output_shape=None,
    expected_output=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    run_training_check=True,
    assert_built_after_instantiation=False,
    atol=1e-6,
    rtol=1e-6,
):
    """As Keras: the config round-trips; the layer built for ``input_shape``, called on
    arrays and called on a symbolic input of that shape has the expected weight counts and
    output shape (float32); ``expected_output`` is matched for ``input_data``; and one SGD
    step of a model holding the layer on the sum of its output runs and keeps the output's
    shape."""
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    revived = layers.deserialize(layers.serialize(layer))
    assert type(revived) is layer_cls and revived.get_config() == config
    if assert_built_after_instantiation:
        assert layer_cls(**init_kwargs).built, f"{layer_cls.__name__} is stateless: built at once"

        class ModifiedBuildLayer(layer_cls):
            def build(self, input_shape):
                super().build(input_shape)

        # A subclass with its own build is not built before that build runs.
        assert not ModifiedBuildLayer(**init_kwargs).built

    def check_weights(layer):
        assert layer.built
        if expected_num_trainable_weights is not None:
            assert len(layer.trainable_weights) == expected_num_trainable_weights
        if expected_num_non_trainable_weights is not None:
            assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    # Several inputs (merge layers): a list of shapes, as Keras's tuple of shape tuples.
    several = input_shape is not None and isinstance(input_shape[0], (tuple, list))
    if input_shape is None:
        input_shape = np.shape(input_data)
    if several:
        input_shape = [tuple(s) for s in input_shape]
    layer = layer_cls(**init_kwargs)
    layer.build(input_shape)
    check_weights(layer)
    if expected_output_shape is not None:
        assert tuple(layer.compute_output_shape(input_shape)) == tuple(expected_output_shape)

    # Symbolic: a Keras-style input of the whole shape, batch included.
    layer = layer_cls(**init_kwargs)
    inputs = (
        [layers.Input(batch_shape=s) for s in input_shape]
        if several
        else layers.Input(batch_shape=input_shape)
    )
    symbolic = layer(inputs, **call_kwargs)
    check_weights(layer)
    if expected_output_shape is not None:
        assert tuple(symbolic.shape) == tuple(expected_output_shape)

    if input_data is None:
        rng = np.random.default_rng(0)
        draw = lambda shape: rng.standard_normal(shape).astype("float32")  # noqa: E731
        input_data = [draw(s) for s in input_shape] if several else draw(input_shape)
    layer = layer_cls(**init_kwargs)
    output = layer(input_data, **call_kwargs)
    check_weights(layer)
    assert output.dtype == np.float32
    if expected_output_shape is not None:
        assert output.shape == tuple(expected_output_shape)
    if expected_output is not None:
        np.testing.assert_allclose(output, expected_output, atol=atol, rtol=rtol)

    if run_training_check:
        layer = layer_cls(**init_kwargs)
        if several:
            inputs = [layers.Input(batch_shape=s) for s in input_shape]
            model = Model(inputs, layer(inputs))
        else:
            model = Sequential([layers.Input(batch_shape=input_shape), layer])
        model.compile(optimizer="sgd", loss=lambda y_true, y_pred: anp.sum(y_pred))
        batch = len(input_data[0]) if several else len(input_data)
        history = model.fit(input_data, output, batch_size=batch, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert model.predict(input_data, verbose=0).shape == output.shape
    return output


def run_conv_basic_test(cls, kwargs, input_shape, output_shape, trainable_weights=2):
    """The basic test of Keras's conv test files: ``run_layer_test`` with channels_last
    data, weights that all train (kernel(s) and bias)."""
    run_layer_test(
        cls,
        {**kwargs, "data_format": "channels_last"},
        input_shape=input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=trainable_weights,
        expected_num_non_trainable_weights=0,
    )


# Keras's messages for bad conv arguments, which its conv test files each repeat.
FILTERS_ZERO = (
    "Invalid value for argument `{name}`. Expected a strictly positive value. Received {name}=0."
)
KERNEL_SIZE_ZERO = (
    r"The `kernel_size` argument must be a tuple of {n} integers. Received "
    r"kernel_size=\(1, 0\), including values \{{0\}} that do not satisfy `value > 0`"
)
STRIDES_ZERO = (
    r"The `strides` argument must be a tuple of \d+ integers. Received strides=\(1, 0\), "
    r"including values \{0\} that do not satisfy `value > 0`"
)
