"""Callbacks: hooks ``fit`` and ``evaluate`` call at the boundaries of training, epochs and
batches, with Keras 3's names and semantics (``keras/src/callbacks/``).

``logs`` are dicts of python floats: during an epoch the running (sample-weighted) means so
far, at its end the epoch's values plus ``val_*`` entries when validating.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from . import missing
from .validation import check_callable, check_choice, check_int, check_real

# A progress bar for predict and evaluate appears only when the work outlasts this many
# seconds, so a one-image predict (the tutorial's) prints nothing but its result.
PROGRESS_DELAY = 1.0


class Callback:
    """Base class: override any ``on_*`` method. ``self.model`` is the model being trained,
    ``self.params`` is ``{"verbose", "epochs", "steps"}``."""

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


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3).

    An improvement is ``current + min_delta < best`` (``mode='min'``) or
    ``current - min_delta > best`` (``'max'``); ``'auto'`` minimises losses and errors and
    maximises accuracies. With ``baseline``, the wait only restarts on epochs that also beat
    the baseline. ``restore_best_weights`` puts back the weights of the best epoch at the end
    of training (the first monitored epoch counts as best until beaten). Epochs before
    ``start_from_epoch`` are not monitored.
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
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(
                f"EarlyStopping: `monitor` must be a metric name. Received: {monitor!r}"
            )
        owner = "EarlyStopping"
        self.mode = check_choice(mode, owner, "mode", ("auto", "min", "max"))
        self.patience = check_int(patience, owner, "patience", minimum=0)
        self.start_from_epoch = check_int(start_from_epoch, owner, "start_from_epoch", minimum=0)
        self.min_delta = abs(check_real(min_delta, owner, "min_delta"))
        self.baseline = check_real(baseline, owner, "baseline", allow_none=True)
        self.monitor = monitor
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
                f"EarlyStopping callback received monitor={self.monitor} but cannot tell "
                "whether that metric should be maximized or minimized. Pass mode='max' or "
                "mode='min'."
            )
        return direction == "down"

    def _improves(self, value: float, reference: float) -> bool:
        # Keras: monitor_op(value - min_delta, reference) with min_delta negated when minimising;
        # the shifted value is computed in Python, the comparison (ops.less/greater) in float32.
        if self._minimise:
            return np.float32(value + self.min_delta) < np.float32(reference)
        return np.float32(value - self.min_delta) > np.float32(reference)

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


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (Keras 3).

    ``fit`` itself never applies a step whose loss or updated weights are not finite;
    this callback is kept for Keras code that lists it.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``.

    Accepts any hook name (``on_train_begin``, ``on_epoch_end``, ``on_batch_end``,
    ``on_train_batch_end``...); anything else is a ValueError listing them.
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
    (``verbose=1``), or one line ``steps/steps - 1s - 12ms/step - loss: ...`` (``verbose=2``)."""

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
        if self.verbose == 1:
            self.bar = tqdm(
                total=steps,
                file=self.file,
                unit="step",
                bar_format="{n_fmt}/{total_fmt} {bar:20} {elapsed} {rate_fmt}{postfix}",
                ascii=" ━",  # Keras draws its bar with these
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch, logs=None):
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
            steps = self.params["steps"]
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
    "TerminateOnNaN",
    "LambdaCallback",
    "ProgbarLogger",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
