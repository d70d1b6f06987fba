"""Cases from Keras 3.15's own unit tests (keras/src/**/*_test.py, named per test) that
minicnn failed: the same inputs, expected values, error types and key phrases."""

from __future__ import annotations

import numpy as np
import pytest

import minicnn
from minicnn import callbacks, initializers, losses, metrics, optimizers
from minicnn.layers import Dense
from minicnn.models import Sequential


@pytest.mark.parametrize("loss", [losses.BinaryCrossentropy(), losses.CategoricalCrossentropy()])
def test_crossentropy_refuses_targets_of_another_shape(loss):
    # losses_test.py (test_shape_mismatch): (3, 1) targets against (3, 3) outputs
    # broadcast to a number in numpy; Keras raises.
    with pytest.raises(ValueError, match="`target` and `output` must have the same shape"):
        loss(np.ones((3, 1)), np.full((3, 3), 0.3))
    # One trailing axis of 1 is still squeezed or added first (Keras's rank rule).
    assert losses.BinaryCrossentropy()(np.ones(3), np.full((3, 1), 0.5)) == pytest.approx(
        np.log(2), rel=1e-6
    )


def test_accuracy_metrics_take_a_float32_dtype():
    # metrics/accuracy_metrics_test.py builds every accuracy with dtype="float32".
    for metric in (
        metrics.CategoricalAccuracy(dtype="float32"),
        metrics.SparseCategoricalAccuracy(name="acc", dtype="float32"),
        metrics.BinaryAccuracy(dtype="float32", threshold=0.5),
    ):
        assert metric.result() == 0.0
    m = metrics.CategoricalAccuracy(name="categorical_accuracy", dtype="float32")
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="accumulate in float32"):
        metrics.CategoricalAccuracy(dtype="float16")


def test_terminate_on_nan_raise_error():
    # callbacks/terminate_on_nan_test.py: raise_error=True raises a RuntimeError at the
    # first NaN loss instead of stopping gracefully.
    import autograd.numpy as anp

    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", lambda y_true, y_pred: anp.log(y_pred * 0 - 1)[:, 0])  # NaN
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        model.fit(
            np.ones((8, 2)),
            np.zeros((8, 1)),
            batch_size=2,
            verbose=0,
            callbacks=[callbacks.TerminateOnNaN(raise_error=True)],
        )
    with pytest.raises(TypeError, match="raise_error"):
        callbacks.TerminateOnNaN(raise_error="yes")


def test_get_of_none_is_none():
    # losses_test / optimizers_test / initializers_test: get(None) returns None.
    assert losses.get(None) is None
    assert optimizers.get(None) is None
    assert initializers.get(None) is None


def test_optimizers_are_named_automatically_as_in_keras():
    # optimizers/optimizer_test.py: names are the snake-cased class name made unique.
    minicnn.utils.clear_session()
    assert [optimizers.SGD().name, optimizers.SGD().name] == ["sgd", "sgd_1"]
    assert optimizers.RMSprop().name == "rm_sprop"
    assert optimizers.Adam(name="mine").name == "mine"


@pytest.mark.parametrize("optimizer, count", [("adam", 18), ("sgd", 2)])
def test_summary_counts_the_optimizers_variables_once_it_is_built(optimizer, count):
    # utils/summary_utils_test.py; Keras 3.15.1 prints these numbers for Dense(2) on (3,):
    # Adam's iteration and learning rate plus m and v for 8 weights = 18; SGD's two.
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer, "mse")
    lines = []
    model.summary(print_fn=lines.append)
    assert "Optimizer params" not in lines[0]  # not built before training
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    model.summary(print_fn=lines.append)
    text = lines[1]
    assert f" Total params: {8 + count} ({4 * (8 + count):.2f} B)" in text
    assert f" Optimizer params: {count} ({4 * count:.2f} B)" in text


def test_crossentropy_axis_names_the_class_axis():
    # losses_test.py: axis moves the class axis; the config records it.
    rng = np.random.default_rng(0)
    y = np.eye(3)[[0, 1, 2, 1]]
    p = rng.dirichlet(np.ones(3), 4)
    last = losses.CategoricalCrossentropy()(y, p)
    assert losses.CategoricalCrossentropy(axis=0)(y.T, p.T) == pytest.approx(last, rel=1e-6)
    sparse = losses.SparseCategoricalCrossentropy(axis=0)(np.array([0, 1, 2, 1]), p.T)
    assert sparse == pytest.approx(last, rel=1e-6)
    assert losses.BinaryCrossentropy(axis=-1).get_config()["axis"] == -1
    assert (
        losses.CategoricalCrossentropy.from_config(
            losses.CategoricalCrossentropy(axis=0).get_config()
        ).axis
        == 0
    )
    with pytest.raises(ValueError, match="does not implement masking"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)


def test_average_pooling_needs_a_pool_size_as_in_keras():
    # pooling/average_pooling_test.py always passes pool_size: Keras 3.15 gives average
    # pooling no default (max pooling defaults to 2), so code omitting it fails in Keras.
    from minicnn import layers

    for cls in (layers.AveragePooling1D, layers.AveragePooling2D):
        with pytest.raises(TypeError, match=rf"{cls.__name__}.__init__\(\) missing 1 required"):
            cls()
    assert layers.MaxPooling2D().pool_size == (2, 2)
    assert layers.AveragePooling2D(3).pool_size == (3, 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda L: L.Conv1D(filters=0, kernel_size=1),
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            "Received filters=0.",
        ),
        (
            lambda L: L.Conv2D(filters=2, kernel_size=(1, 0)),
            r"The `kernel_size` argument must be a tuple of \d+ integers. Received "
            r"kernel_size=\(1, 0\), including values \{0\} that do not satisfy `value > 0`",
        ),
        (
            lambda L: L.Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0)),
            r"The `strides` argument must be a tuple of \d+ integers. Received strides=\(1, 0\), "
            r"including values \{0\} that do not satisfy `value > 0`",
        ),
        (
            lambda L: L.Conv2D(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)),
            r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            r"strides=\(2, 2\) and dilation_rate=\(2, 1\)",
        ),
        (
            lambda L: L.Conv2D(filters=5, kernel_size=(2, 2), groups=0),
            "The number of groups must be a positive integer. Received: groups=0.",
        ),
        (
            lambda L: L.Conv2D(filters=5, kernel_size=(2, 2), groups=2),
            "The number of filters must be evenly divisible by the number of groups. "
            "Received: groups=2, filters=5.",
        ),
    ],
)
def test_conv_argument_errors_read_as_kerass(make, message):
    # layers/convolutional/conv_test.py: test_bad_init_args
    from minicnn import layers

    with pytest.raises(ValueError, match=message):
        make(layers)


@pytest.mark.parametrize(
    "make, error, message",
    [
        # reshaping/cropping2d_test.py, cropping1d_test.py
        (
            lambda L: L.Cropping2D(((3, 3), (0, 0)))(L.Input(batch_shape=(3, 5, 7, 2))),
            ValueError,
            "Values in `cropping` argument should be smaller than the corresponding spatial "
            "dimension of the input.",
        ),
        (
            lambda L: L.Cropping1D((3, 3))(L.Input(batch_shape=(3, 5, 7))),
            ValueError,
            "`cropping` parameter of `Cropping1D` layer must be smaller than",
        ),
        # reshaping/reshape_test.py
        (
            lambda L: L.Reshape(target_shape=(-2, 5)),
            ValueError,
            r"non-negative integer.*-1.*target_shape=\(-2, 5\)",
        ),
        (
            lambda L: L.Reshape(target_shape=(-1, -1, 5)),
            ValueError,
            r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)",
        ),
        # reshaping/up_sampling1d_test.py
        (lambda L: L.UpSampling1D(size=0), ValueError, "should be a positive integer"),
        (lambda L: L.UpSampling1D(size=2.5), TypeError, "Expected an integer value for `size`"),
        (lambda L: L.UpSampling1D(size="2"), TypeError, "Expected an integer value for `size`"),
        (lambda L: L.UpSampling1D(size=True), TypeError, "Expected an integer value for `size`"),
        # regularization/dropout_test.py
        (
            lambda L: L.Dropout(0.5, noise_shape="Invalid"),
            ValueError,
            "Invalid value received for argument `noise_shape`. Expected a tuple or list of "
            "integers.",
        ),
        (
            lambda L: L.Dropout(0.5, noise_shape=[1.0, 2]),
            ValueError,
            "Expected all elements to be integers or None.",
        ),
        (
            lambda L: L.Dropout(0.5, noise_shape=[-1, 2]),
            ValueError,
            "Expected all dimensions to be positive integers or None.",
        ),
        (
            lambda L: L.Dropout(0.5, noise_shape=[0, 2]),
            ValueError,
            "Expected all dimensions to be positive integers or None.",
        ),
        # activations/relu_test.py, leaky_relu_test.py
        (
            lambda L: L.ReLU(negative_slope=-10),
            ValueError,
            "negative_slope of a ReLU layer cannot be None or a negative value",
        ),
        (
            lambda L: L.ReLU(threshold=None),
            ValueError,
            "threshold of a ReLU layer cannot be None or a negative value",
        ),
        (
            lambda L: L.ReLU(max_value=-10),
            ValueError,
            "max_value of a ReLU layer cannot be a negative value",
        ),
        (
            lambda L: L.LeakyReLU(negative_slope=None),
            ValueError,
            "The negative_slope value of a Leaky ReLU layer cannot be None",
        ),
        # merging/merging_test.py
        (
            lambda L: L.Concatenate(axis=1)([L.Input((3, 2)), L.Input((4, 3))]),
            ValueError,
            "requires inputs with matching shapes except for the concatenation axis",
        ),
        (
            lambda L: L.Subtract()([L.Input((2,))] * 3),
            ValueError,
            "layer should be called on exactly 2 inputs",
        ),
        # core/dense_test.py
        (lambda L: L.Dense(0), ValueError, "positive integer"),
    ],
)
def test_layer_errors_read_as_kerass(make, error, message):
    from minicnn import layers

    with pytest.raises(error, match=message):
        make(layers)


def test_merge_layers_called_on_a_list_of_arrays():
    # merging/merging_test.py (test_basic with numpy inputs): Add()([x1, x2]) on arrays
    # adds them; minicnn stacked the list into one array and refused it.
    from minicnn import layers

    x1, x2 = np.ones((2, 3)), np.full((2, 3), 2.0)
    np.testing.assert_array_equal(layers.Add()([x1, x2]), np.full((2, 3), 3.0))
    np.testing.assert_array_equal(layers.Subtract()([x2, x1]), np.ones((2, 3)))
    assert layers.Concatenate()([x1, np.zeros((2, 1))]).shape == (2, 4)
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        layers.Add()(np.ones((2, 1, 3)))


def test_predict_calls_the_predict_hooks():
    # callbacks/lambda_callback_test.py: test_lambda_callback_during_prediction.
    seen = []
    callback = callbacks.LambdaCallback(
        on_predict_begin=lambda logs: seen.append("begin"),
        on_predict_batch_end=lambda batch, logs: seen.append((batch, logs["outputs"].shape)),
        on_predict_end=lambda logs: seen.append("end"),
    )
    model = Sequential([Dense(1, input_shape=(2,))])
    model.predict(np.ones((10, 2)), batch_size=4, callbacks=[callback], verbose=0)
    assert seen == ["begin", (0, (4, 1)), (1, (4, 1)), (2, (2, 1)), "end"]
    with pytest.raises(ValueError, match="`steps` counts the batches of a generator"):
        model.predict(np.ones((2, 2)), steps=1)


def test_layers_without_weights_are_built_at_construction_as_in_keras():
    # Keras 3's _build_at_init (pooling, activation layers, Dropout; layer_test.py and the
    # layers' run_layer_test(assert_built_after_instantiation=True)); Flatten and layers
    # with weights are built by their first input, and so is a subclass with its own build.
    from minicnn import layers

    for layer in (
        layers.MaxPooling2D(),
        layers.GlobalAveragePooling1D(),
        layers.ReLU(),
        layers.Activation("tanh"),
        layers.Softmax(),
        layers.Dropout(0.5),
        layers.SpatialDropout2D(0.5),
    ):
        assert layer.built and not layer.shaped, layer
    for layer in (layers.Flatten(), layers.Conv2D(2, 2), layers.BatchNormalization()):
        assert not layer.built, layer

    class OwnBuild(layers.ReLU):
        def build(self, input_shape):
            super().build(input_shape)

    assert not OwnBuild().built
    pool = layers.MaxPooling2D()
    pool(np.ones((1, 4, 4, 1), np.float32))  # the first call still records the shape
    assert pool.shaped and pool.input_shape == (None, 4, 4, 1)
