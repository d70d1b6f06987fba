"""Keras 3's trainers/trainer_test.py on minicnn's compile/fit/evaluate/predict: the same
models, data, expected values and counts. Keras's test models mix a Trainer into a layer;
here they are the same layers in a Sequential or a functional Model:

- ExampleModel(units): Dense(units, use_bias=False, kernel_initializer="ones");
- StructModel: {"x_one", "x_two"} -> {"y_one", "y_two"}, a Dense of ones each;
- ListInputModel: Dense(x[0]) + Dense(x[1]); ListOutputModel: [Dense(x), Dense(x)];
- TrainingTestingLayer: x in training, 0 otherwise.

``run_eagerly``/``jit_compile`` variants are one case here: minicnn always runs eagerly."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from minicnn import callbacks, layers, losses, metrics, optimizers
from minicnn.layers import Input
from minicnn.models import Model, Sequential
from minicnn.utils import PyDataset


def ones_dense(units, name=None):
    return layers.Dense(units, use_bias=False, kernel_initializer="ones", name=name)


def example_model(units, input_dim=None):
    stack = [] if input_dim is None else [Input((input_dim,))]
    return Sequential([*stack, ones_dense(units)])


def struct_model(units):
    x_one, x_two = Input((4,), name="x_one"), Input((4,), name="x_two")
    return Model(
        {"x_one": x_one, "x_two": x_two},
        {"y_one": ones_dense(units, "y_one")(x_one), "y_two": ones_dense(units, "y_two")(x_two)},
    )


def list_input_model(units):
    a, b = Input((2,)), Input((3,))
    return Model([a, b], layers.Add()([ones_dense(units)(a), ones_dense(units)(b)]))


def list_output_model(units):
    x = Input((4,))
    return Model(x, [ones_dense(units)(x), ones_dense(units)(x)])


class TrainingTestingLayer(layers.Layer):
    def apply(self, weights, x, training=False, rng=None):
        return x if training else x * 0


def compile_mse(model, **kwargs):
    model.compile(
        optimizer=optimizers.SGD(),
        loss=losses.MeanSquaredError(),
        metrics=[metrics.MeanSquaredError()],
        **kwargs,
    )
    return model


@pytest.mark.parametrize("use_steps_per_epoch", [False, True])
def test_fit_flow(use_steps_per_epoch):
    model = compile_mse(example_model(3), run_eagerly=True, jit_compile=False)
    batch_size, steps_per_epoch = 20, 7
    size = batch_size * (steps_per_epoch - 2)
    with warnings.catch_warnings():
        # 7 steps asked of 5 batches: each epoch stops at the end of the data, with
        # Keras's "ran out of data" warning.
        warnings.simplefilter("ignore")
        history = model.fit(
            np.ones((size, 4)),
            np.zeros((size, 3)),
            batch_size=batch_size,
            steps_per_epoch=steps_per_epoch if use_steps_per_epoch else None,
            epochs=3,
            verbose=0,
        ).history
    assert "loss" in history
    np.testing.assert_allclose(history["mean_squared_error"], [14.5, 11.5, 8.5], atol=1.0)


@pytest.mark.parametrize("use_steps_per_epoch", [False, True])
def test_fit_with_val_split(use_steps_per_epoch):
    model = compile_mse(example_model(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(
            np.ones((100, 4)),
            np.zeros((100, 3)),
            batch_size=20,
            steps_per_epoch=7 if use_steps_per_epoch else None,
            epochs=3,
            validation_split=0.2,
            verbose=0,
        ).history
    assert "loss" in history and "val_loss" in history


def test_evaluate_flow():
    model = compile_mse(example_model(3))
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=16, verbose=0), [16.0, 16.0])
    output = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    assert isinstance(output, dict) and "loss" in output
    np.testing.assert_allclose(output["mean_squared_error"], 16.0)


def test_predict_flow():
    outputs = example_model(3).predict(np.ones((100, 4)), batch_size=16, verbose=0)
    np.testing.assert_allclose(outputs, 4 * np.ones((100, 3)))


def test_predict_flow_struct():
    x = {"x_one": np.ones((100, 4)), "x_two": np.ones((100, 4))}
    outputs = struct_model(3).predict(x, batch_size=16, verbose=0)
    assert isinstance(outputs, dict) and len(outputs) == 2
    np.testing.assert_allclose(outputs["y_one"], 4 * np.ones((100, 3)))
    np.testing.assert_allclose(outputs["y_two"], 4 * np.ones((100, 3)))


class EpochAgnosticMeanSquaredError(metrics.MeanSquaredError):
    def __init__(self):
        super().__init__(name="mse")
        super().reset_state()

    def reset_state(self):
        pass  # not reset at each epoch


class StepObserver(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begin_count = self.end_count = 0
        self.epoch_begin_count = self.epoch_end_count = 0
        self.batch_loss_history = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_begin_count += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_end_count += 1

    def on_batch_begin(self, batch, logs=None):
        self.begin_count += 1

    def on_batch_end(self, batch, logs=None):
        self.end_count += 1
        self.batch_loss_history.append(logs["mse"])


@pytest.mark.parametrize(
    "case", ["match_one_epoch", "match_multi_epoch", "not_match_too_low", "not_match_but_high"]
)
def test_steps_per_epoch(case):
    batch_size, epochs, num_batches = 8, 4, 10
    steps_per_epoch = {
        "match_one_epoch": num_batches,
        "match_multi_epoch": num_batches // (epochs // 2),
        "not_match_too_low": num_batches - 1,
        "not_match_but_high": num_batches + 1,
    }[case]
    x, y = np.ones((num_batches * batch_size, 4)), np.ones((num_batches * batch_size, 1))

    def trained(epochs, steps=None):
        model = example_model(1)
        model.compile(loss="mse", optimizer="sgd", metrics=[EpochAgnosticMeanSquaredError()])
        observer = StepObserver()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(
                x, y, batch_size=batch_size, epochs=epochs, steps_per_epoch=steps,
                callbacks=[observer], verbose=0,
            )  # fmt: skip
        return model, observer

    model, observer = trained(epochs, steps_per_epoch)
    if case != "not_match_too_low":
        expected = epochs * min(steps_per_epoch, num_batches)
    else:
        # A pass goes on across epochs: 9 steps, then the 1 left, then 9, then 1.
        cycle = [num_batches // steps_per_epoch * steps_per_epoch, num_batches % steps_per_epoch]
        expected = sum((cycle * epochs)[:epochs])
    assert observer.begin_count == observer.end_count == expected
    assert observer.epoch_begin_count == observer.epoch_end_count == epochs
    if case == "not_match_too_low":
        return
    twin_epochs = epochs if case != "match_multi_epoch" else epochs // 2
    twin, twin_observer = trained(twin_epochs)
    np.testing.assert_allclose(observer.batch_loss_history, twin_observer.batch_loss_history)
    for got, want in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(
        model.predict(x, batch_size=batch_size, verbose=0),
        twin.predict(x, batch_size=batch_size, verbose=0),
    )
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), twin.evaluate(x, y, verbose=0))


def test_steps_per_epoch_too_high_warns_each_epoch_as_keras():
    model = example_model(1)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.warns(UserWarning, match="ran out of data") as record:
        model.fit(np.ones((80, 4)), np.ones((80, 1)), batch_size=8, epochs=4,
                  steps_per_epoch=11, verbose=0)  # fmt: skip
    assert sum("ran out of data" in str(w.message) for w in record) == 4  # as Keras 3.15.1


def test_fit_with_different_batch_size_same_loss():
    x, y = np.random.default_rng(0).random((100, 4)), np.ones((100, 1))
    model = example_model(1)
    model.trainable = False
    model.compile(loss="mse")
    loss1 = model.fit(x, y, batch_size=80, verbose=0).history["loss"]
    loss2 = model.fit(x, y, batch_size=100, verbose=0).history["loss"]
    np.testing.assert_allclose(loss1, loss2, rtol=1e-6)


def test_evaluate_with_different_batch_size_same_loss():
    x, y = np.random.default_rng(0).random((100, 4)), np.ones((100, 1))
    model = example_model(1)
    model.compile(loss="mse")
    np.testing.assert_allclose(
        model.evaluate(x, y, batch_size=80, verbose=0),
        model.evaluate(x, y, batch_size=100, verbose=0),
        rtol=1e-6,
    )


def test_training_arg():
    model = Sequential([TrainingTestingLayer()])
    model.compile(optimizer="rmsprop", loss="mse")
    x, y = np.ones((128, 1)), np.zeros((128, 1))
    np.testing.assert_allclose(model.fit(x, y, batch_size=32, verbose=0).history["loss"], [1.0])
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=32, verbose=0), 0.0)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.zeros((128, 1)))


def test_on_batch_methods():
    model = compile_mse(example_model(3, input_dim=4))
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    sw = np.arange(100).astype("float32") / 50.0
    logs = model.train_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2
    assert logs[0] == pytest.approx(16.0)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert isinstance(logs, dict) and len(logs) == 2
    assert logs["loss"] == pytest.approx(15.158, abs=5e-4)
    logs = model.test_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2
    assert logs[0] == pytest.approx(14.360, abs=5e-4)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(14.360, abs=5e-4)
    output = model.predict_on_batch(x)
    assert isinstance(output, np.ndarray)
    np.testing.assert_allclose(output[0], [3.789511] * 3, rtol=1e-6)
    assert model.train_on_batch(x, y, sw)[0] == pytest.approx(14.217, abs=5e-4)
    assert model.test_on_batch(x, y, sw)[0] == pytest.approx(13.476, abs=5e-4)
    np.testing.assert_allclose(model.predict_on_batch(x)[0], [3.689468] * 3, rtol=1e-6)
    logs = model.train_on_batch(x, y, class_weight={1: 0.3, 0: 0.2})
    assert logs[0] == pytest.approx(2.722, abs=5e-4)


def test_on_batch_methods_without_training():
    model = example_model(3, input_dim=4)
    model.compile(loss=losses.MeanSquaredError(), metrics=[metrics.MeanSquaredError()])
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    np.testing.assert_allclose(model.predict_on_batch(x)[0], [4.0, 4.0, 4.0])
    logs = model.test_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2 and logs[0] == pytest.approx(16.0)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert len(logs) == 2 and logs["loss"] == pytest.approx(16.0)


def test_callback_methods_keys():
    seen = {}

    class CustomCallback(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda *args: seen.setdefault(name, sorted((args[-1] or {}).keys()))
            return super().__getattribute__(name)

    model = example_model(3)
    model.compile(optimizer="adam", loss="mse", metrics=["mean_absolute_error"])
    x, y = np.ones((16, 4)), np.zeros((16, 3))
    model.fit(x, y, callbacks=[CustomCallback()], batch_size=4,
              validation_data=(x, y), verbose=0)  # fmt: skip
    model.evaluate(x, y, batch_size=4, callbacks=[CustomCallback()], verbose=0)
    model.predict(x, batch_size=4, callbacks=[CustomCallback()], verbose=0)
    trained = ["loss", "mean_absolute_error"]
    validated = [*trained, "val_loss", "val_mean_absolute_error"]
    for hook in (
        "on_train_begin", "on_epoch_begin", "on_test_begin", "on_predict_begin",
        "on_predict_end", "on_train_batch_begin", "on_test_batch_begin",
        "on_predict_batch_begin",
    ):  # fmt: skip
        assert seen[hook] == [], hook
    assert seen["on_train_end"] == seen["on_epoch_end"] == validated
    assert seen["on_test_end"] == seen["on_train_batch_end"] == trained
    assert seen["on_test_batch_end"] == trained
    assert seen["on_predict_batch_end"] == ["outputs"]


def test_recompile():
    model = example_model(3)
    x, y = np.ones((3, 2)), np.ones((3, 3))
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_squared_error"])
    history_1 = model.fit(x, y, verbose=0).history
    eval_1 = model.evaluate(x, y, return_dict=True, verbose=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_absolute_error"])
    history_2 = model.fit(x, y, verbose=0).history
    eval_2 = model.evaluate(x, y, return_dict=True, verbose=0)
    assert sorted(history_1) == sorted(eval_1) == ["loss", "mean_squared_error"]
    assert sorted(history_2) == sorted(eval_2) == ["loss", "mean_absolute_error"]


def test_evaluate_return_list_respect_metrics_order():
    def metrics_zero(y_true, y_pred):
        return 0.0

    def metrics_one(y_true, y_pred):
        return 1.0

    x, y = np.ones((3, 2)), np.ones((3, 3))
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics_zero, metrics_one])
    out = model.evaluate(x, y, verbose=0)
    assert len(out) == 3 and out[1] == 0.0 and out[2] == 1.0
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics_one, metrics_zero])
    out = model.evaluate(x, y, verbose=0)
    assert len(out) == 3 and out[1] == 1.0 and out[2] == 0.0


def test_nested_inputs():
    model = list_input_model(2)
    data = [np.ones((3, 2)), np.ones((3, 3))]
    assert model(data).shape == (3, 2)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    np.testing.assert_allclose(
        model.fit(data, np.ones((3, 2)), verbose=0).history["loss"], [16.0], rtol=1e-6
    )
    assert model.train_on_batch(data, np.ones((3, 2)))[0] == pytest.approx(14.44, abs=1e-2)
    assert model.evaluate(data, np.ones((3, 2)), verbose=0)[0] == pytest.approx(13.0321, abs=1e-3)
    assert model.test_on_batch(data, np.ones((3, 2)))[0] == pytest.approx(13.0321, abs=1e-3)
    assert model.predict(data, verbose=0).shape == (3, 2)
    assert model.predict_on_batch(data).shape == (3, 2)


def test_validation_data_infinite_generator():
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Recorder(callbacks.Callback):
        train_counter = val_counter = 0

        def on_train_batch_end(self, batch, logs=None):
            self.train_counter += 1

        def on_test_batch_end(self, batch, logs=None):
            self.val_counter += 1

    def infinite_gen():
        while True:
            yield np.ones((2, 2)), np.ones((2, 3))

    recorder = Recorder()
    model.fit(
        infinite_gen(), validation_data=infinite_gen(), steps_per_epoch=3, validation_steps=4,
        epochs=1, shuffle=False, callbacks=[recorder], verbose=0,
    )  # fmt: skip
    assert recorder.train_counter == 3 and recorder.val_counter == 4


@pytest.mark.parametrize(
    "method, gerund, on_end_name",
    [
        ("fit", "training", "train"),
        ("evaluate", "evaluating", "test"),
        ("predict", "predicting", "predict"),
    ],
)
def test_stop_loop(method, gerund, on_end_name):
    model = example_model(3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])

    class Stopper(callbacks.Callback):
        def __init__(self, stop_count):
            super().__init__()
            self.stop_count, self.counter = stop_count, 0
            setattr(self, f"on_{on_end_name}_batch_end", self.batch_end)

        def batch_end(self, *args, **kwargs):
            self.counter += 1
            if self.counter == self.stop_count:
                setattr(self.model, f"stop_{gerund}", True)

    def infinite_gen():
        while True:
            x, y = np.ones((2, 2)), np.ones((2, 3))
            yield (x,) if method == "predict" else (x, y)

    stopper = Stopper(5)
    getattr(model, method)(infinite_gen(), callbacks=[stopper], verbose=0)
    assert stopper.counter == 5


def test_predict_stopped_early_returns_the_batches_so_far():
    # minicnn's own: on arrays as on a generator, a stopped predict keeps what it made.
    model = example_model(1, input_dim=2)

    class Stopper(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = batch == 1

    out = model.predict(np.ones((10, 2)), batch_size=3, callbacks=[Stopper()], verbose=0)
    assert out.shape == (6, 1)


def test_loss_weights():
    size, batch_size, epochs = 40, 20, 3
    model = compile_mse(example_model(3), loss_weights=0.2)
    history = model.fit(np.ones((size, 4)), np.zeros((size, 3)), batch_size=batch_size,
                        epochs=epochs, verbose=0).history  # fmt: skip
    np.testing.assert_allclose(history["loss"], [3.182979, 3.115617, 3.049681], atol=1e-3)
    # minicnn's own: the weighted loss survives pickling and the compile config.
    x, y = np.ones((size, 4)), np.zeros((size, 3))
    assert pickle.loads(pickle.dumps(model)).evaluate(x, y, verbose=0) == model.evaluate(
        x, y, verbose=0
    )
    assert model.get_compile_config()["loss_weights"] == 0.2

    model = struct_model(3)
    model.compile(
        optimizer=optimizers.SGD(),
        loss={"y_one": losses.MeanSquaredError(), "y_two": losses.MeanSquaredError()},
        metrics={"y_one": metrics.MeanSquaredError(), "y_two": metrics.MeanSquaredError()},
        loss_weights={"y_one": 0.1, "y_two": 0.2},
    )
    ones, zeros = np.ones((size, 4)), np.zeros((size, 3))
    history = model.fit({"x_one": ones, "x_two": ones}, {"y_one": zeros, "y_two": zeros},
                        batch_size=batch_size, epochs=epochs, verbose=0).history  # fmt: skip
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)

    model = list_output_model(3)
    model.compile(
        optimizer=optimizers.SGD(),
        loss=[losses.MeanSquaredError(), losses.MeanSquaredError()],
        metrics=[metrics.MeanSquaredError(), metrics.MeanSquaredError()],
        loss_weights=[0.1, 0.2],
    )
    history = model.fit(ones, [zeros, zeros], batch_size=batch_size, epochs=epochs,
                        verbose=0).history  # fmt: skip
    np.testing.assert_allclose(history["loss"], [4.778718, 4.694403, 4.611693], atol=1e-3)


class OnesZeros(PyDataset):
    """Keras's TestPyDataset: 20 batches of ones (5, 4) and zeros (5, 3)."""

    def __len__(self):
        return 20

    def __getitem__(self, index):
        return np.ones((5, 4)), np.zeros((5, 3))


def finite_generator():
    for _ in range(20):
        yield np.ones((5, 4)), np.zeros((5, 3))


def infinite_generator():
    while True:
        yield np.ones((5, 4)), np.zeros((5, 3))


@pytest.mark.parametrize(
    "make_data, fit_kwargs",
    [
        (lambda: (np.ones((100, 4)), np.zeros((100, 3))), {"batch_size": 5}),
        (lambda: (OnesZeros(), None), {}),
        (lambda: (OnesZeros(), None), {"class_weight": {0: 1, 1: 2}}),
        (lambda: (OnesZeros(workers=2), None), {}),
        (lambda: (finite_generator(), None), {}),
        (lambda: (infinite_generator(), None), {"steps_per_epoch": 20}),
    ],
)
def test_fit_with_data_adapter(make_data, fit_kwargs):
    # Keras's optimizer here is Adagrad, which minicnn does not have; SGD trains the same
    # data through the same feeds. A finite generator is read once (minicnn and Keras
    # alike stop, with Keras's warning, when it runs dry).
    model = compile_mse(example_model(3))
    x, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, epochs=3, verbose=0, **fit_kwargs)
    assert len(history.history["loss"]) >= 1
    assert np.all(np.isfinite(history.history["loss"]))


def test_functional_layer_training_overrides_model_training_argument():
    # Dropout called with training=True drops at predict too (Monte Carlo dropout).
    inputs = Input((20,))
    model = Model(inputs, layers.Dropout(0.5, seed=1337)(inputs, training=True))
    out1 = model.predict(np.ones((4, 20)), batch_size=2, verbose=0)
    assert not np.allclose(out1[:2], out1[2:4])
    out2 = model.predict_on_batch(np.ones((2, 20)))
    out3 = model.predict_on_batch(np.ones((2, 20)))
    assert not np.allclose(out2, out3)


def test_predict_generator():
    def generate_batches():
        values = iter(range(10))
        while True:
            batch = np.array([v for _, v in zip(range(2), values)])
            if len(batch) < 2:
                break
            yield (batch,)

    model = Sequential([layers.InputLayer(shape=()), layers.Identity()])
    model.compile(loss="mse", optimizer="sgd")
    preds = model.predict(generate_batches(), verbose=0)
    np.testing.assert_array_equal(preds, np.concatenate(list(generate_batches()), axis=1)[0])


def test_partial_loss_partial_label():
    inputs = Input((2,))
    x = layers.Dense(3, kernel_initializer="ones")(inputs)
    partial_model = Model(inputs, [x, x, x])
    partial_model.compile(loss=["mse", None, None])
    full_model = Model(inputs, [x, x, x])
    full_model.compile(loss=["mse", "mse", "mse"])
    eval_x, eval_y = np.ones((32, 2)), np.ones((32, 3))
    partial_logs = partial_model.evaluate(eval_x, eval_y, return_dict=True, verbose=0)
    logs = full_model.evaluate(eval_x, [eval_y] * 3, return_dict=True, verbose=0)
    assert partial_logs["loss"] * 3 == pytest.approx(logs["loss"])
    # minicnn's own: an output given no targets may have no metrics either.
    two = Model(inputs, [layers.Dense(3)(inputs), layers.Dense(1)(inputs)])
    two.compile(loss=["mse", None], metrics=[[], ["mae"]])
    with pytest.raises(ValueError, match="has metrics but `y` gives it no targets"):
        two.evaluate(eval_x, eval_y, verbose=0)
    two.compile(loss=["mse", None])
    assert two.fit(eval_x, eval_y, verbose=0).history["loss"][0] > 0
