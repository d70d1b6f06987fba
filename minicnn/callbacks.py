"""Callbacks: hooks ``fit`` and ``evaluate`` call at the boundaries of training, epochs and
batches, with Keras 3's names and semantics (``keras/src/callbacks/``).

``logs`` are dicts of python floats: during an epoch the running (sample-weighted) means so
far, at its end the epoch's values plus ``val_*`` entries when validating.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from . import missing
from .validation import check_bool, check_callable, check_choice, check_int, check_real

# A progress bar for predict and evaluate appears only when the work outlasts this many
# seconds, so a one-image predict (the tutorial's) prints nothing but its result.
PROGRESS_DELAY = 1.0
# Keras's bar: steps, the bar drawn with its characters, time so far < time left (the
# ETA), the rate, then the running metrics.
BAR_FORMAT = "{n_fmt}/{total_fmt} {bar:20} {elapsed}<{remaining} {rate_fmt}{postfix}"


def progress_bar(total: int, verbose, file=None, delay: float = 0.0) -> tqdm:
    """The one progress bar ``fit``, ``evaluate`` and ``predict`` draw (disabled for
    ``verbose=0``); it stays on screen when done, as Keras's does."""
    return tqdm(
        total=total,
        file=file or sys.stdout,
        unit="step",
        bar_format=BAR_FORMAT,
        ascii=" ━",  # Keras draws its bar with these
        dynamic_ncols=True,
        disable=verbose == 0,
        delay=delay,
    )


class Callback:
    """Base class: override any ``on_*`` method. ``self.model`` is the model being trained,
    ``self.params`` is ``{"verbose", "epochs", "steps"}``.

    Parameters
    ----------
    (none: subclasses take their own)

    Examples
    --------
    >>> class Count(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print("epoch", epoch, "loss" in logs)
    >>> Count().on_epoch_end(0, {"loss": 0.5})
    epoch 0 True
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch: int, logs=None): ...

    def on_epoch_end(self, epoch: int, logs=None): ...

    def on_batch_begin(self, batch: int, logs=None): ...

    def on_batch_end(self, batch: int, logs=None): ...

    def on_train_batch_begin(self, batch: int, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): ...

    def on_test_end(self, logs=None): ...

    def on_test_batch_begin(self, batch: int, logs=None): ...

    def on_test_batch_end(self, batch: int, logs=None): ...

    def on_predict_begin(self, logs=None): ...

    def on_predict_end(self, logs=None): ...

    def on_predict_batch_begin(self, batch: int, logs=None): ...

    def on_predict_batch_end(self, batch: int, logs=None): ...


HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook: str):
        if hook not in HOOKS:
            raise AttributeError(hook)

        takes_index = "epoch" in hook or "batch" in hook

        def call(*args):
            # Like Keras, every hook receives a logs dict (empty when there is none yet).
            if len(args) < 1 + takes_index:
                args = (*args, {})
            for callback in self.callbacks:
                getattr(callback, hook)(*args)

        return call


def check_callbacks(callbacks, method: str) -> list[Callback]:
    """``callbacks`` as a list of ``Callback`` instances, or a TypeError naming the culprit."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"{method}: `callbacks` must be a list of Callback instances. "
            f"Received: callbacks={callbacks!r}"
        )
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(
                f"{method}: every entry of `callbacks` must be a minicnn.callbacks.Callback; "
                f"received {callback!r} (of type {type(callback).__name__})."
            )
    return list(callbacks)


class History(Callback):
    """Records each epoch's logs: ``history`` (dict of lists), ``epoch`` (indices), ``params``.

    ``fit`` returns it and also keeps it on ``model.history``.

    Parameters
    ----------
    (none)

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(2,))]); model.compile("sgd", "mse")
    >>> history = model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0)
    >>> list(history.history), history.epoch
    (['loss'], [0, 1])
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged value (Keras 3's ``MonitorCallback``):
    which way it improves (``mode``: ``'min'``, ``'max'``, or ``'auto'``: losses and
    errors go down, accuracies up) and whether a value improves on a reference by more
    than ``min_delta``."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{owner}: `monitor` must be a metric name. Received: {monitor!r}")
        self.monitor = monitor
        self.mode = check_choice(mode, owner, "mode", ("auto", "min", "max"))
        self.min_delta = abs(check_real(min_delta, owner, "min_delta"))
        self._minimise = None

    def _direction(self) -> bool:
        """True to minimise the monitored value."""
        if self.mode != "auto":
            return self.mode == "min"
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return True
        direction = getattr(self.model, "metric_directions", {}).get(name)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor} but cannot "
                "tell whether that metric should be maximized or minimized. Pass mode='max' "
                "or mode='min'."
            )
        return direction == "down"

    def _improves(self, value: float, reference) -> bool:
        # Keras: monitor_op(value - min_delta, reference) with min_delta negated when
        # minimising; the shifted value is computed in Python, the comparison (ops.less /
        # ops.greater) in float32. No reference yet: any value improves.
        if self._minimise is None:
            self._minimise = self._direction()
        if reference is None:
            return True
        if self._minimise:
            return np.float32(value + self.min_delta) < np.float32(reference)
        return np.float32(value - self.min_delta) > np.float32(reference)


def _learning_rate(model) -> float:
    """The optimizer's learning rate as Keras logs it: read from a float32 variable."""
    return float(np.float32(model.optimizer.learning_rate))


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3).

    An improvement is ``current + min_delta < best`` (``mode='min'``) or
    ``current - min_delta > best`` (``'max'``); ``'auto'`` minimises losses and errors and
    maximises accuracies. With ``baseline``, the wait only restarts on epochs that also beat
    the baseline. ``restore_best_weights`` puts back the weights of the best epoch at the end
    of training (the first monitored epoch counts as best until beaten). Epochs before
    ``start_from_epoch`` are not monitored.

    Parameters
    ----------
    monitor : str, default ``"val_loss"``
        The logged value to watch.
    min_delta : float
        The smallest change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    verbose : int
        1 prints when it stops and restores.
    mode : ``"auto"``, ``"min"`` or ``"max"``
    baseline : None or float
        A value the monitored one must beat.
    restore_best_weights : bool, default False
        Put back the best epoch's weights at the end.
    start_from_epoch : int
        Epochs before it are not monitored.

    Examples
    --------
    >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    >>> # model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__(monitor, mode, min_delta)
        owner = "EarlyStopping"
        self.patience = check_int(patience, owner, "patience", minimum=0)
        self.start_from_epoch = check_int(start_from_epoch, owner, "start_from_epoch", minimum=0)
        self.baseline = check_real(baseline, owner, "baseline", allow_none=True)
        self.verbose = verbose
        self.restore_best_weights = bool(restore_best_weights)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.best = None
        self._minimise = None

    def on_epoch_end(self, epoch, logs=None):
        if self._minimise is None:
            self._minimise = self._direction()
            self.best = math.inf if self._minimise else -math.inf
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs or {})}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) during training (Keras 3).

    Parameters
    ----------
    filepath : where to save; may hold ``str.format`` fields filled from the epoch
        (1-based) and the logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. A whole
        model goes to ``.keras`` or ``.h5`` (or minicnn's ``.minicnn``), weights
        (``save_weights_only=True``) to ``.weights.h5`` (or ``.weights.npz``).
    monitor, mode : the value ``save_best_only`` watches and which way it improves.
    verbose : 1 prints a line for each save (and each epoch that does not improve).
    save_best_only : save only when ``monitor`` improves on the best so far (starting
        from ``initial_value_threshold`` when given).
    save_weights_only : save the weights only.
    save_freq : ``"epoch"``, or an integer: save every that many batches.
    initial_value_threshold : None or float
        With ``save_best_only``, the value the first save must beat.

    Every write is atomic (a temporary file renamed into place), so a crash mid-save
    leaves the previous checkpoint intact.

    Examples
    --------
    >>> checkpoint = ModelCheckpoint("best.keras", save_best_only=True)
    >>> # model.fit(x, y, validation_split=0.2, callbacks=[checkpoint])
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode)
        owner = "ModelCheckpoint"
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"{owner}: `filepath` must be a path. Received: {filepath!r}")
        self.filepath = os.fspath(filepath)
        self.verbose = check_int(verbose, owner, "verbose", minimum=0)
        self.save_best_only = check_bool(save_best_only, owner, "save_best_only")
        self.save_weights_only = check_bool(save_weights_only, owner, "save_weights_only")
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or "
                "integer values (>= 1)."
            )
        self.save_freq = save_freq
        self.best = check_real(
            initial_value_threshold, owner, "initial_value_threshold", allow_none=True
        )
        if self.save_weights_only and not self.filepath.endswith((".weights.h5", ".weights.npz")):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                "provided must end in `.weights.h5` (Keras weights format) or "
                f"`.weights.npz` (minicnn's). Received: filepath={self.filepath}"
            )
        if not self.save_weights_only and not self.filepath.endswith((".keras", ".h5", ".minicnn")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format), `.h5` or "
                f"`.minicnn`. Received: filepath={self.filepath}"
            )
        self._batches = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches >= self.save_freq:
                self._batches = 0
                self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _path(self, epoch: int, batch, logs: dict) -> str:
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError) as err:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {err!r}; '
                f"the fields available are {sorted(fields)}."
            ) from None

    def _save(self, epoch: int, batch, logs) -> None:
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available.", stacklevel=2
                )
            else:
                best = "None" if self.best is None else f"{self.best:.5f}"
                if not self._improves(current, self.best):
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
                    return
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                        f"{current:.5f}, saving model to {path}"
                    )
                self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if os.path.isdir(path):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {path}"
            )
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved (by more
    than ``min_delta``) for ``patience`` epochs, then wait ``cooldown`` epochs; never below
    ``min_lr`` (Keras 3). Logs ``learning_rate`` at each epoch's end, so the History
    records it.

    Parameters
    ----------
    monitor : str, default ``"val_loss"``
        The logged value to watch.
    factor : float in [0, 1)
        The new rate is ``rate * factor``.
    patience : int
        Epochs without improvement before a reduction.
    verbose : int
        1 prints a line at each reduction.
    mode : ``"auto"``, ``"min"`` or ``"max"``
        Which way ``monitor`` improves (``"auto"``: losses down, accuracies up).
    min_delta : float
        The smallest change that counts as an improvement.
    cooldown : int
        Epochs to wait after a reduction before counting again.
    min_lr : float
        The rate is never reduced below this.

    Examples
    --------
    >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__(monitor, mode, min_delta)
        owner = "ReduceLROnPlateau"
        self.factor = check_real(factor, owner, "factor", 0.0)
        if self.factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.patience = check_int(patience, owner, "patience", minimum=0)
        self.cooldown = check_int(cooldown, owner, "cooldown", minimum=0)
        self.min_lr = check_real(min_lr, owner, "min_lr", 0.0)
        self.verbose = check_int(verbose, owner, "verbose", minimum=0)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["learning_rate"] = _learning_rate(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _learning_rate(self.model)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``), a float (Keras 3). Logs ``learning_rate`` at each epoch's end.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float`` (epoch counted from 0), or ``schedule(epoch)``.
    verbose : int
        1 prints the rate set at each epoch.

    Examples
    --------
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch < 3 else lr * 0.5)
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = check_callable(schedule, "LearningRateScheduler", "schedule")
        self.verbose = check_int(verbose, "LearningRateScheduler", "verbose", minimum=0)

    def on_epoch_begin(self, epoch, logs=None):
        try:
            rate = self.schedule(epoch, _learning_rate(self.model))
        except TypeError:  # Keras's old API: schedule(epoch)
            rate = self.schedule(epoch)
        if isinstance(rate, bool) or not isinstance(rate, (float, np.floating)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {rate!r}"
            )
        self.model.optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model)


class CSVLogger(Callback):
    """Write each epoch's logs to a CSV file: a header ``epoch,<sorted keys>`` then one row
    per epoch (Keras 3; when no validation values are logged, Keras also lists ``val_*``
    columns, written ``NA``). ``append=True`` continues an existing file.

    Parameters
    ----------
    filename : path
        The CSV file to write.
    separator : str, default ``","``
        One character between the values.
    append : bool, default False
        Add rows to an existing file (without a second header) instead of rewriting it.

    Examples
    --------
    >>> logger = CSVLogger("training.csv")
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger: `filename` must be a path. Received: {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"CSVLogger: `separator` must be one character. Received: {separator!r}"
            )
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = check_bool(append, "CSVLogger", "append")
        self.file = self.writer = self.keys = None

    def on_train_begin(self, logs=None):
        header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                header = not f.readline()
        self.header = header
        self._close()
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys) and self.keys:
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self.header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self.file is not None and not self.file.closed:
            self.file.close()
        self.writer = None


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (Keras 3): gracefully
    (``model.stop_training``, so every callback's ``on_train_end`` runs), or with
    ``raise_error=True`` by raising a RuntimeError at once.

    ``fit`` itself never applies a step whose loss or updated weights are not finite;
    this callback is kept for Keras code that lists it.

    Parameters
    ----------
    raise_error : bool, default False
        Raise a RuntimeError instead of stopping gracefully.

    Examples
    --------
    >>> callback = TerminateOnNaN(raise_error=True)
    >>> # model.fit(x, y, callbacks=[callback])
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = check_bool(raise_error, "TerminateOnNaN", "raise_error")

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``.

    Accepts any hook name (``on_train_begin``, ``on_epoch_end``, ``on_batch_end``,
    ``on_train_batch_end``...); anything else is a ValueError listing them.

    Parameters
    ----------
    **hooks : callables
        By hook name: ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch, logs)``,
        ``on_train_begin(logs)``...

    Examples
    --------
    >>> seen = []
    >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> callback.on_epoch_end(0, {}); seen
    [0]
    """

    def __init__(self, **hooks: Callable):
        super().__init__()
        for name, fn in hooks.items():
            if name not in HOOKS:
                raise ValueError(
                    f"LambdaCallback: unknown hook {name!r}; expected some of {list(HOOKS)}."
                )
            if fn is not None:
                setattr(self, name, check_callable(fn, "LambdaCallback", name))


def format_logs(logs: dict) -> str:
    """`` - loss: 0.0584 - val_loss: 6.0000e-04`` (Keras's progress-bar number format)."""
    return "".join(
        f" - {key}: {value:.4f}" if abs(value) > 1e-3 else f" - {key}: {value:.4e}"
        for key, value in logs.items()
    )


class ProgbarLogger(Callback):
    """What ``fit`` prints: ``Epoch i/N`` (when N > 1), then per epoch either a tqdm bar with
    steps, elapsed time, rate and the running metrics, finished with the validation metrics
    (``verbose=1``), or one line ``steps/steps - 1s - 12ms/step - loss: ...`` (``verbose=2``).

    Parameters
    ----------
    verbose : 1 or 2
        A bar per epoch, or one line per epoch.
    file : None or a text stream
        Where to print (standard output by default).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> logger = ProgbarLogger(2, file=out)
    >>> logger.set_params({"epochs": 1, "steps": 3})
    >>> logger.on_epoch_begin(0); logger.on_epoch_end(0, {"loss": 0.5})
    >>> out.getvalue().startswith("3/3 - ")
    True
    """

    def __init__(self, verbose: int, file=None):
        super().__init__()
        self.verbose = verbose
        self.file = file or sys.stdout
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs, steps = self.params["epochs"], self.params["steps"]
        if epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", file=self.file, flush=True)
        self.start = time.perf_counter()
        self.seen = 0  # batches this epoch (a generator's count is unknown beforehand)
        if self.verbose == 1:
            self.bar = progress_bar(steps, 1, self.file)

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs or {}).removeprefix(" - "), refresh=False)
            self.bar.update()

    def on_epoch_end(self, epoch, logs=None):
        text = format_logs(logs or {})
        if self.bar is not None:
            self.bar.set_postfix_str(text.removeprefix(" - "), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            steps = self.params["steps"] or self.seen
            seconds = time.perf_counter() - self.start
            print(
                f"{steps}/{steps} - {seconds:.0f}s - {1000 * seconds / max(steps, 1):.0f}ms/step"
                + text,
                file=self.file,
                flush=True,
            )

    def on_train_end(self, logs=None):
        if self.bar is not None:  # interrupted mid-epoch
            self.bar.close()
            self.bar = None


__all__ = [
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "LearningRateScheduler",
    "CSVLogger",
    "TerminateOnNaN",
    "LambdaCallback",
    "ProgbarLogger",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
