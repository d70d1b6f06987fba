"""compile / fit / evaluate: updates, History, validation, determinism, failures, errors."""

import autograd.numpy as anp
import numpy as np
import pytest

import minicnn
from minicnn import losses
from minicnn.callbacks import Callback, EarlyStopping, LambdaCallback
from minicnn.layers import Conv2D, Dense, Flatten, GlobalMaxPooling2D
from minicnn.models import Sequential
from minicnn.optimizers import SGD, Adam

f32 = np.float32


def linear_model(w=((0.5,), (-1.0,)), b=(0.25,)):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.set_weights([np.array(w, f32), np.array(b, f32)])
    return model


def regression_data(n=10, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 2)).astype(f32)
    y = (x @ np.array([[2.0], [-3.0]]) + 1.0).astype(f32)
    return x, y


def test_one_full_batch_sgd_step_equals_hand_computed_gradient_step():
    x, y = regression_data(8)
    model = linear_model()
    w, b = (a.astype(float) for a in model.get_weights())
    model.compile(SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    residual = x @ w + b - y  # d mse / d pred = 2 * residual / n
    grad_w = x.T @ (2 * residual / 8)
    grad_b = (2 * residual / 8).sum(0)
    new_w, new_b = model.get_weights()
    np.testing.assert_allclose(new_w, w - 0.1 * grad_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_b, b - 0.1 * grad_b, rtol=1e-5, atol=1e-6)
    assert new_w.dtype == new_b.dtype == f32


def test_fit_lowers_the_loss_of_a_small_conv_net():
    minicnn.set_random_seed(3)
    r = np.random.default_rng(0)
    x = r.normal(size=(64, 6, 6, 1)).astype(f32)
    y = (x[:, 1:-1, 1:-1, :].max(axis=(1, 2)) > 1.5).astype(f32)
    model = Sequential(
        [
            Conv2D(3, (3, 3), activation="relu", input_shape=(6, 6, 1)),
            GlobalMaxPooling2D(),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


def test_epoch_loss_is_the_batch_size_weighted_mean_of_batch_losses():
    x, y = regression_data(5)
    model = linear_model()
    model.compile(SGD(learning_rate=0.0), "mse")
    history = model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    w, b = model.get_weights()
    per_sample = ((x @ w + b - y) ** 2).mean(axis=1)
    batch_losses = [per_sample[0:2].mean(), per_sample[2:4].mean(), per_sample[4:].mean()]
    weighted = (2 * batch_losses[0] + 2 * batch_losses[1] + batch_losses[2]) / 5
    assert history.history["loss"][0] == pytest.approx(weighted, rel=1e-6)
    assert weighted != pytest.approx(np.mean(batch_losses), rel=1e-3)


def test_history_holds_sorted_logs_epochs_and_params():
    x, y = regression_data(20)
    model = linear_model()
    model.compile(SGD(0.01), "mse", metrics=["mae"])
    history = model.fit(
        x, y, batch_size=8, epochs=4, initial_epoch=1, validation_split=0.25, verbose=0
    )
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for values in history.history.values() for v in values)
    assert history.epoch == [1, 2, 3]
    assert history.params == {"verbose": 0, "epochs": 4, "steps": 2}
    assert model.history is history


def test_validation_split_holds_out_the_last_fraction_before_shuffling():
    x, y = regression_data(10)
    model = linear_model()
    model.compile(SGD(learning_rate=0.0), "mse")
    history = model.fit(x, y, epochs=2, validation_split=0.3, shuffle=True, verbose=0)
    # floor(10 * 0.7) = 7 training samples; the last 3 validate.
    assert history.params["steps"] == 1
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[7:], y[7:], verbose=0))
    assert history.history["loss"][0] == pytest.approx(
        model.evaluate(x[:7], y[:7], verbose=0), rel=1e-6
    )


def test_validation_data_is_reported_with_val_prefix():
    x, y = regression_data(10)
    model = linear_model()
    model.compile(SGD(learning_rate=0.0), "mse", metrics=["mae"])
    history = model.fit(x[:6], y[:6], validation_data=(x[6:], y[6:]), verbose=0)
    loss, mae = model.evaluate(x[6:], y[6:], verbose=0)
    assert history.history["val_loss"] == [pytest.approx(loss)]
    assert history.history["val_mae"] == [pytest.approx(mae)]


def test_same_seed_gives_bit_identical_history_and_weights():
    x, y = regression_data(50)

    def run(seed):
        minicnn.set_random_seed(seed)
        model = Sequential([Dense(4, activation="relu", input_shape=(2,)), Dense(1)])
        model.compile("adam", "mse")
        history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=0)
        return history.history, model.get_weights()

    first, second, other = run(7), run(7), run(8)
    assert first[0] == second[0]
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    assert first[0] != other[0]


class RecordingMSE(losses.MeanSquaredError):
    """MSE that records the targets of every batch it sees."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __call__(self, y_true, y_pred):
        self.seen.append(np.asarray(y_true)[:, 0].tolist())
        return super().__call__(y_true, y_pred)


def test_shuffle_true_permutes_samples_each_epoch_and_false_keeps_their_order():
    x = np.zeros((6, 2), f32)
    y = np.arange(6, dtype=f32)[:, None]
    model = linear_model()
    loss = RecordingMSE()
    model.compile(SGD(0.0), loss)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert loss.seen == [[0, 1, 2, 3], [4, 5]] * 2
    loss.seen.clear()
    minicnn.set_random_seed(0)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=True, verbose=0)
    first, second = loss.seen[0] + loss.seen[1], loss.seen[2] + loss.seen[3]
    assert sorted(first) == sorted(second) == list(range(6))
    assert first != list(range(6)) and second != first


def test_non_trainable_layers_are_not_updated():
    minicnn.set_random_seed(0)
    frozen = Dense(3, input_shape=(2,), trainable=False)
    model = Sequential([frozen, Dense(1)])
    before = model.get_weights()
    model.compile(SGD(0.1), "mse")
    x, y = regression_data(16)
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    assert not np.array_equal(after[2], before[2])
    assert [v.shape for v in model.optimizer.slot_arrays] == []  # plain SGD keeps no slots


def test_evaluate_returns_scalar_list_or_dict():
    x, y = regression_data(7)
    model = linear_model()
    model.compile("sgd", "mse")
    w, b = model.get_weights()
    expected = float(((x @ w + b - y) ** 2).mean())
    assert model.evaluate(x, y, batch_size=3, verbose=0) == pytest.approx(expected, rel=1e-6)
    model.compile("sgd", "mse", metrics=["mae"])
    loss, mae = model.evaluate(x, y, verbose=0)
    assert mae == pytest.approx(float(np.abs(x @ w + b - y).mean()), rel=1e-6)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "mae": mae}


def probability_model(units, activation):
    model = Sequential([Dense(units, activation=activation, input_shape=(2,))])
    kernel = np.arange(2 * units, dtype=f32).reshape(2, units) / 4 - 0.5
    model.set_weights([kernel, np.zeros(units, f32)])
    return model


def test_accuracy_is_binary_for_one_sigmoid_unit_with_threshold_half():
    model = probability_model(1, "sigmoid")
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], f32)
    p = model.predict(x)[:, 0]
    y = np.array([1, 1, 1, 0], f32)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy == pytest.approx(np.mean((p > 0.5) == y))


def test_accuracy_is_sparse_for_integer_labels_and_categorical_for_one_hot():
    model = probability_model(3, "softmax")
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [2.0, -1.0]], f32)
    predicted = np.argmax(model.predict(x), axis=1)
    labels = np.array([predicted[0], predicted[1], (predicted[2] + 1) % 3, predicted[3]])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.evaluate(x, labels, verbose=0)[1] == pytest.approx(0.75)
    model.compile("sgd", "categorical_crossentropy", metrics=["acc"])
    logs = model.evaluate(x, np.eye(3)[labels], verbose=0, return_dict=True)
    assert logs["acc"] == pytest.approx(0.75)


def test_nan_in_x_or_y_is_rejected_before_any_step():
    x, y = regression_data(40)
    model = linear_model()
    model.compile(SGD(0.1), "mse")
    before = model.get_weights()
    bad_x = x.copy()
    bad_x[33, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"`x` contains NaN or infinite values \(first at sample 33"
    ):
        model.fit(bad_x, y, batch_size=4, verbose=0)
    bad_y = y.copy()
    bad_y[5] = np.inf
    with pytest.raises(ValueError, match="`y` contains NaN or infinite"):
        model.fit(x, bad_y, verbose=0)
    with pytest.raises(ValueError, match="`x` contains NaN"):
        model.evaluate(bad_x, y, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_non_finite_loss_stops_training_keeping_the_last_finite_weights():
    x, y = regression_data(32)
    x *= 1e3
    model = linear_model()
    model.compile(SGD(learning_rate=10.0), "mse")
    snapshots = []
    recorder = LambdaCallback(
        on_train_batch_end=lambda batch, logs: snapshots.append(model.get_weights())
    )
    with pytest.warns(RuntimeWarning, match="keeps the weights of the last finite step"):
        history = model.fit(x, y, batch_size=4, epochs=50, verbose=0, callbacks=[recorder])
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert len(history.epoch) < 50
    # The failing batch committed nothing: the weights are those after the step before it.
    for a, b in zip(weights, snapshots[-2]):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == len(snapshots) - 1


class InterruptAt(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch, self.saved = (epoch, batch), None, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.saved = self.model.get_weights()
            raise KeyboardInterrupt


def test_keyboard_interrupt_keeps_last_step_weights_and_history_so_far():
    x, y = regression_data(16)
    model = linear_model()
    model.compile(SGD(0.05, momentum=0.9), "mse")
    stopper = InterruptAt(epoch=1, batch=2)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[stopper])
    for a, b in zip(model.get_weights(), stopper.saved):
        np.testing.assert_array_equal(a, b)
    assert model.history.epoch == [0]
    assert len(model.history.history["loss"]) == 1
    assert model.optimizer.iterations == 4 + 3


class FlakySGD(SGD):
    """Raises KeyboardInterrupt the first time its state is assigned during step 3."""

    def __init__(self, **kwargs):
        self.armed = False
        super().__init__(**kwargs)

    @property
    def slot_arrays(self):
        return self._slot_arrays

    @slot_arrays.setter
    def slot_arrays(self, value):
        if self.armed and self.iterations == 2:
            self.armed = False
            raise KeyboardInterrupt
        self._slot_arrays = value


def test_interrupt_inside_the_commit_still_leaves_a_consistent_step():
    x, y = regression_data(16)
    reference = linear_model()
    reference.compile(SGD(learning_rate=0.05, momentum=0.9), "mse")
    reference.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)

    model = linear_model()
    flaky = FlakySGD(learning_rate=0.05, momentum=0.9)
    model.compile(flaky, "mse")
    flaky.armed = True
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    # The interrupted step was completed: weights and optimizer state belong to step 3.
    assert flaky.iterations == 3
    model.fit(x[12:], y[12:], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_restores_the_best_weights():
    x, y = regression_data(16)
    model = linear_model()
    model.compile(SGD(learning_rate=1.5), "mse")  # too large: the loss dips, then grows
    snapshots = []
    recorder = LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights())
    )
    stopper = EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0, callbacks=[recorder, stopper])
    losses = history.history["loss"]
    assert losses[1] < losses[0] and losses[1] < losses[2] < losses[3]
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.best_epoch == 1
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_float32_throughout_training():
    x, y = regression_data(8)
    model = linear_model()
    model.compile(Adam(), "mse")
    model.fit(x.astype(np.float64), y.astype(np.float64), verbose=0)
    assert all(w.dtype == f32 for w in model.get_weights())
    assert all(v.dtype == f32 for v in model.optimizer.slot_arrays)


# --------------------------------------------------------------------------- clear errors


@pytest.fixture
def compiled():
    model = linear_model()
    model.compile("sgd", "mse")
    return model


def test_fit_before_compile_is_an_error():
    x, y = regression_data(4)
    with pytest.raises(ValueError, match=r"must call `compile\(\)` before calling `fit\(\)`"):
        linear_model().fit(x, y)
    model = linear_model()
    model.compile("sgd")
    with pytest.raises(ValueError, match="no loss to compute"):
        model.fit(x, y)


def test_x_and_y_of_different_lengths(compiled):
    x, y = regression_data(6)
    with pytest.raises(ValueError, match="'x' sizes: 6, 'y' sizes: 5"):
        compiled.fit(x, y[:5])
    with pytest.raises(ValueError, match="'validation_data\\[0\\]' sizes: 6, 'valid"):
        compiled.fit(x, y, validation_data=(x, y[:5]))


def test_bad_validation_data_is_named_and_checked_before_any_step(compiled):
    x, y = regression_data(6)
    bad = x.astype(np.float64)
    bad[2, 0] = 1e300  # finite in float64, infinite once cast to float32
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` contains NaN or infinite"):
        compiled.fit(x, y, validation_data=(bad, y))
    with pytest.raises(ValueError, match=r"fit: `validation_data\[1\]` of per-sample"):
        compiled.fit(x, y, validation_data=(x, np.zeros((6, 2))))
    assert compiled.optimizer.iterations == 0


def test_y_incompatible_with_the_output_or_the_loss():
    x, y = regression_data(6)
    model = linear_model()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"per-sample shape \(3,\) is incompatible .* \(1,\)"):
        model.fit(x, np.zeros((6, 3)))
    softmax = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    softmax.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="expects targets of per-sample shape"):
        softmax.fit(x, np.array([0, 1, 2, 0, 1, 2]))
    softmax.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"integer class indices in \[0, 3\).*sample 4"):
        softmax.fit(x, np.array([0, 1, 2, 0, 3, 2]))
    with pytest.raises(TypeError, match="numeric array"):
        softmax.fit(x, np.array(["a"] * 6))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"epochs": -1}, ValueError, "epochs"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"validation_split": 1.0}, ValueError, r"validation_split.*\[0, 1\)"),
        ({"validation_split": -0.1}, ValueError, "validation_split"),
        ({"validation_split": 0.9}, ValueError, "not sufficient"),
        ({"validation_data": (1, 2, 3)}, ValueError, "validation_data"),
        ({"verbose": 3}, ValueError, "verbose"),
        ({"shuffle": "batch"}, TypeError, "shuffle"),
        ({"callbacks": [print]}, TypeError, "callbacks"),
        ({"initial_epoch": -2}, ValueError, "initial_epoch"),
    ],
)
def test_bad_fit_arguments(compiled, kwargs, error, message):
    x, y = regression_data(6)
    before = compiled.get_weights()
    with pytest.raises(error, match=message):
        compiled.fit(x, y, **kwargs)
    for a, b in zip(compiled.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_unknown_names_in_compile_list_the_valid_ones():
    model = linear_model()
    with pytest.raises(ValueError, match=r"optimizer identifier: 'adagrad'.*'rmsprop'"):
        model.compile("adagrad", "mse")
    with pytest.raises(ValueError, match=r"loss identifier: 'l2'.*'mean_squared_error'"):
        model.compile("sgd", "l2")
    with pytest.raises(ValueError, match=r"metric identifier: 'f1'.*'accuracy'"):
        model.compile("sgd", "mse", metrics=["f1"])
    with pytest.raises(ValueError, match="list or tuple"):
        model.compile("sgd", "mse", metrics="accuracy")
    assert not model.compiled


def test_wrong_input_shape_is_named():
    model = Sequential([Flatten(input_shape=(2, 2)), Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="expected min_ndim=3"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)))


def test_compile_config_round_trip_keeps_training_identical():
    x, y = regression_data(12)
    model = linear_model()
    model.compile(Adam(learning_rate=0.01), "mse", metrics=["mae"])
    model.fit(x, y, batch_size=4, verbose=0, shuffle=False)
    clone = linear_model()
    clone.set_weights(model.get_weights())
    clone.compile_from_config(model.get_compile_config())
    clone.optimizer.set_state(model.optimizer.get_state())
    first = model.fit(x, y, batch_size=4, verbose=0, shuffle=False).history
    second = clone.fit(x, y, batch_size=4, verbose=0, shuffle=False).history
    assert first == second
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_custom_loss_and_metric_functions_are_wrapped_like_keras():
    def squared_error(y_true, y_pred):
        return anp.sum((y_true - y_pred) ** 2, axis=-1)

    def max_error(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    x, y = regression_data(6)
    model = linear_model()
    model.compile(SGD(0.0), squared_error, metrics=[max_error])
    loss, worst = model.evaluate(x, y, verbose=0)
    w, b = model.get_weights()
    errors = (x @ w + b - y)[:, 0]
    assert loss == pytest.approx(np.mean(errors**2), rel=1e-6)
    assert worst == pytest.approx(np.mean(np.abs(errors)), rel=1e-6)
    assert list(model.fit(x, y, verbose=0).history) == ["loss", "max_error"]
    with pytest.raises(TypeError, match="cannot be serialized"):
        model.get_compile_config()
    with pytest.raises(ValueError, match="maximized or minimized"):
        model.fit(x, y, verbose=0, callbacks=[EarlyStopping(monitor="max_error")])
