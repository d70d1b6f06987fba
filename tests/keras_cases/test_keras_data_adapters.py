"""Keras 3's trainers/data_adapters tests on minicnn's feeds, through the public methods
(fit, evaluate, train_on_batch), since minicnn's adapters are not a public API: the same
data, class weights, shapes and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minicnn import callbacks, layers
from minicnn.layers import Input
from minicnn.models import Model, Sequential
from minicnn.utils import PyDataset


def constant_model(units):
    """Outputs -1 whatever the input: each sample's loss is known from its target."""
    model = Sequential(
        [
            layers.Input((2,)),
            layers.Dense(units, kernel_initializer="zeros", bias_initializer="ones"),
            layers.Rescaling(-1.0),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


# data_adapter_utils_test.py, TestClassWeightToSampleWeights: the weights each sample
# gets, read back from train_on_batch's loss (computed before the step): with outputs of
# -1, a label y has the loss (y + 1)^2, a one-hot row 2.
@pytest.mark.parametrize(
    "y, class_weight, expected",
    [
        (np.array([0, 1, 0, 2]), {0: 1.0, 1: 2.0, 2: 3.0}, [1.0, 2.0, 1.0, 3.0]),
        (np.eye(3)[[0, 1, 0, 2]], {0: 1.0, 1: 2.0, 2: 3.0}, [1.0, 2.0, 1.0, 3.0]),
        (np.array([0, 3, 0, 2]), {0: 1.0, 1: 2.0, 2: 3.0}, [1.0, 1.0, 1.0, 3.0]),
        (np.array([[0], [1], [0], [2]]), {0: 1.0, 1: 2.0, 2: 3.0}, [1.0, 2.0, 1.0, 3.0]),
        (np.array([0, 1, 0, 2]), {}, [1.0, 1.0, 1.0, 1.0]),
        (np.array([0, 1, 0, 2]), {"0": 1.0, "1": 2.0, "2": 3.0}, [1.0, 2.0, 1.0, 3.0]),
        (np.array([0, 1, 0, 2]), {0.0: 1.0, 1.0: 2.0, 2.0: 3.0}, [1.0, 2.0, 1.0, 3.0]),
    ],
)
def test_class_weight_to_sample_weights(y, class_weight, expected):
    y = y.reshape(4, -1).astype(np.float32)
    model = constant_model(y.shape[1])
    per_sample = np.mean((y + 1.0) ** 2, axis=1)
    loss = model.train_on_batch(np.ones((4, 2)), y, class_weight=class_weight)
    np.testing.assert_allclose(loss, np.mean(per_sample * expected), rtol=1e-6)


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({"invalid": 0.5}, "integer keys"),
        ({None: 0.5}, "integer keys"),
        ("not_a_dict", "dict-like mapping"),
        ({0.5: 2.0}, "integer keys"),  # minicnn's own: Keras truncates it to class 0
    ],
)
def test_class_weight_to_sample_weights_invalid(class_weight, message):
    model = constant_model(1)
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(np.ones((4, 2)), np.array([[0.0], [1], [0], [2]]),
                  class_weight=class_weight, verbose=0)  # fmt: skip
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("encoding", ["int", "one_hot"])
def test_class_weights(encoding):
    # array_data_adapter_test.py: each sample weighs its class's weight.
    y = np.array([[0], [1], [2], [3]], np.float32) if encoding == "int" else np.eye(4)
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    model = constant_model(y.shape[1])
    per_sample = np.mean((y + 1.0) ** 2, axis=1)
    loss = model.train_on_batch(np.ones((4, 2)), y, class_weight=dict(enumerate(weights.tolist())))
    np.testing.assert_allclose(loss, np.mean(per_sample * weights), rtol=1e-6)


def test_errors():
    # array_data_adapter_test.py test_errors, the parts minicnn words as Keras does.
    # Non-numeric x/y/sample_weight are a TypeError here (a wrong type), Keras's ValueError.
    model = constant_model(3)
    x, y = np.random.default_rng(0).random((34, 2)), np.zeros((34, 3))
    for kwargs in ({"x": "Invalid", "y": y}, {"x": x, "y": "Invalid"}):
        with pytest.raises(TypeError, match="expects a numeric array"):
            model.fit(verbose=0, **kwargs)
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight`"):
        model.fit(x, y, sample_weight=np.ones(34), class_weight={0: 0.1}, verbose=0)


def test_generator_with_y_error():
    def generator():
        yield np.ones((10, 2)), np.ones((10, 3))

    with pytest.raises(ValueError, match="providing `x` as a generator"):
        constant_model(3).fit(generator(), y=np.ones((10, 3)), verbose=0)


def test_empty_generator_raises_clear_error():
    def generator():
        if False:
            yield

    with pytest.raises(ValueError, match="the generator must yield at least one batch"):
        constant_model(3).fit(generator(), verbose=0)


class ExamplePyDataset(PyDataset):
    """Keras's ExamplePyDataset: batches of x and y, endless when ``infinite``."""

    def __init__(self, x, y, batch_size=32, infinite=False, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.infinite = x, y, batch_size, infinite

    @property
    def num_batches(self):
        return None if self.infinite else math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if self.infinite:
            index %= math.ceil(len(self.x) / self.batch_size)
        low = index * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        return self.x[low:high], self.y[low:high]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("infinite", [False, True])
def test_py_dataset_basic_flow(shuffle, infinite):
    # py_dataset_adapter_test.py test_basic_flow, through fit: every batch of 16 is read
    # (an endless data set for steps_per_epoch batches), in order unless shuffled.
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = np.array([[i, i] for i in range(64)], dtype="float32")
    seen = []

    class Recorder(ExamplePyDataset):
        def __getitem__(self, index):
            batch = super().__getitem__(index)
            seen.append(batch[1][0, 0] // 16)
            return batch

    model = Sequential([layers.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    data = Recorder(x, y, batch_size=16, infinite=infinite, workers=0, max_queue_size=0)
    model.fit(data, epochs=1, shuffle=shuffle, steps_per_epoch=4 if infinite else None, verbose=0)
    # A sized data set's batch 0 is read once ahead to learn the shapes; an endless one is
    # read as a stream, its first batch served from that read.
    read = seen if infinite else seen[1:]
    assert sorted(read) == [0, 1, 2, 3]
    if not shuffle or infinite:  # an endless data set is read in order
        assert read == [0, 1, 2, 3]


def test_py_dataset_class_weight():
    x = np.random.default_rng(0).integers(1, 100, (4, 2)).astype("float32")
    y = np.array([[0.0], [1], [2], [1]])
    model = constant_model(1)
    data = ExamplePyDataset(x, y, batch_size=2)
    losses = []

    class Losses(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append(logs["loss"])

    weights = {0: 2, 1: 1, 2: 3}
    model.fit(data, class_weight=weights, shuffle=False, callbacks=[Losses()], verbose=0)
    # The first batch's loss, before any step: (y + 1)^2 weighted by class.
    np.testing.assert_allclose(losses[0], (1 * 2 + 4 * 1) / 2, rtol=1e-6)
    assert len(losses) == 2


def test_py_dataset_exception_reported():
    class ExceptionPyDataset(PyDataset):
        @property
        def num_batches(self):
            return 4

        def __getitem__(self, index):
            if index < 2:
                return np.ones((2, 2)), np.ones((2, 3))
            raise ValueError("Expected exception")

    with pytest.raises(ValueError, match="Expected exception"):
        constant_model(3).fit(ExceptionPyDataset(), shuffle=False, verbose=0)


def test_py_dataset_iterate_finite_and_infinite():
    ones, zeros = np.ones((6, 11), "int32"), np.zeros((6, 11), "int32")
    assert len(list(ExamplePyDataset(ones, zeros, batch_size=2))) == 3
    for index, _ in enumerate(ExamplePyDataset(ones, zeros, batch_size=2, infinite=True)):
        if index >= 10:
            break
    assert index == 10

    class NoLenDataset(PyDataset):
        def __getitem__(self, index):
            return np.ones((2, 11), "int32")

    for index, _ in enumerate(NoLenDataset()):
        if index >= 10:
            break
    assert index == 10


def test_py_dataset_dict_inputs():
    inputs = {"x": np.random.default_rng(0).random((40, 4)), "y": np.zeros((40, 2))}

    class DictPyDataset(PyDataset):
        def __len__(self):
            return 10

        def __getitem__(self, index):
            return {k: v[index * 4 : (index + 1) * 4] for k, v in inputs.items()}

    x, y = Input((4,), name="x"), Input((2,), name="y")
    model = Model({"x": x, "y": y}, layers.Concatenate()([x, y]))
    out = model.predict(DictPyDataset(), verbose=0)
    assert out.shape == (40, 6)
    np.testing.assert_allclose(out[:, :4], inputs["x"], rtol=1e-6)
