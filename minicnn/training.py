"""``fit`` and ``evaluate`` (and the ``*_on_batch`` steps): written once here as functions of
the model and bound as methods of ``minicnn.models.Model`` (this module never imports
``models``); ``compile_utils`` resolves what ``compile`` chose.

The training step is one ``autograd.value_and_grad`` of the compiled loss over
``model.stateless_call(weights, x_batch, training=True, seed=step_seed)`` with respect to
the trainable weights (``model.trainable_indices()``), followed by the optimizer's pure
``update``. The forward pass hands back the non-trainable weights it changed (moving
statistics) as values; the new trainable weights, those updates and the optimizer state
are checked (all finite) and only then committed together (``model.assign_weights``,
``optimizer.assign``), so the model always holds the weights of the last completed step:
never NaN, never half-updated, also when a ``KeyboardInterrupt`` arrives mid-step. A step
that needs randomness (Dropout) draws one seed from ``minicnn.utils.rng()`` first, so the
forward pass itself is pure and ``set_random_seed`` makes whole runs bit-identical.

Keras 3 behaviours followed (``keras/src/trainers/trainer.py``, ``data_adapters``):
``batch_size=None`` means 32; the last batch may be partial; ``validation_split`` holds out
the *last* fraction of the samples before any shuffling
(``split_at = floor(n * (1 - validation_split))``); ``shuffle=True`` draws a fresh
permutation each epoch (from ``minicnn.utils.rng()``, so ``set_random_seed`` makes runs
bit-identical); the epoch's ``loss`` is the mean of the batch losses weighted by batch
size, accumulated in float32; logs list training metrics sorted by name, then ``val_*``.
Data are read one batch at a time (cast to float32 per batch), so memory grows with
``batch_size``, not with the number of samples.
"""

from __future__ import annotations

import warnings

import numpy as np
from autograd import value_and_grad
from autograd.tracer import getval

from . import metrics as metrics_module
from .callbacks import (
    PROGRESS_DELAY,
    CallbackList,
    History,
    ProgbarLogger,
    check_callbacks,
    progress_bar,
)
from .compile_utils import OutputLosses, weighted_loss
from .data import SCAN_CHUNK, ArrayGroup, check_data, hold_out
from .feeds import ArrayFeed, PyDataset, SourceFeed, check_unsupported, is_batch_source
from .utils import draw_seed, rng
from .validation import check_batch_size, check_bool, check_int, check_verbose

f32 = np.float32


# --------------------------------------------------------------------------- checks


def _check_compiled(model, method: str) -> None:
    kind = type(model).__name__
    if not model.compiled:
        raise ValueError(
            f"{kind} '{model.name}': you must call `compile()` before calling `{method}()`."
        )
    if model.compiled_loss is None:
        raise ValueError(
            f"{kind} '{model.name}': no loss to compute. Provide a `loss` argument in "
            f"`compile()` before calling `{method}()`."
        )


# --------------------------------------------------------------------------- running metrics


class _Tracker:
    """The epoch's running loss (batch losses weighted by batch size, float32, as Keras's
    loss tracker), each output's loss for a model of several outputs, and the metrics:
    ``(name, output number or None, Metric)``."""

    def __init__(self, metrics, loss_names=(), weighted=(), by_name=False):
        self.metrics = metrics
        self.loss_names = list(loss_names)  # the outputs whose own losses are logged
        self.weighted = weighted  # the ids of the Metric objects of weighted_metrics
        self.by_name = by_name  # several outputs: evaluate lists the metrics by name
        self.reset()

    def reset(self):
        self.total, self.count = f32(0), f32(0)
        self.parts = [f32(0)] * len(self.loss_names)
        for _, _, metric in self.metrics:
            metric.reset_state()

    def update(self, loss, y_true, y_pred, parts=(), sample_weight=None):
        """One batch; for several outputs ``y_true``/``y_pred`` (and ``sample_weight``, when
        given) are lists and ``parts`` the outputs' own losses. Only the weighted metrics
        see ``sample_weight``, as in Keras."""
        n = len(y_true[0]) if isinstance(y_true, list) else len(y_true)
        self.total = f32(self.total + f32(loss) * f32(n))
        self.count = f32(self.count + f32(n))
        self.parts = [f32(t + f32(p) * f32(n)) for t, p in zip(self.parts, parts)]
        for _, i, metric in self.metrics:
            weights = sample_weight if i is None or sample_weight is None else sample_weight[i]
            weights = weights if id(metric) in self.weighted else None
            if i is None:
                metric.update_state(y_true, y_pred, sample_weight=weights)
            else:
                metric.update_state(y_true[i], y_pred[i], sample_weight=weights)

    def logs(self) -> dict:
        mean = lambda v: float(v / self.count) if self.count else 0.0  # noqa: E731
        out = {"loss": mean(self.total)}
        out.update({f"{name}_loss": mean(p) for name, p in zip(self.loss_names, self.parts)})
        out.update({name: metric.result() for name, _, metric in self.metrics})
        return dict(sorted(out.items()))

    def names(self) -> list[str]:
        """What ``evaluate`` lists, in Keras's order: the loss, each output's loss, then
        the metrics (by name when there are several outputs)."""
        parts = [f"{name}_loss" for name in self.loss_names]
        metrics = [name for name, _, _ in self.metrics]
        return ["loss", *parts, *(sorted(metrics) if self.by_name else metrics)]


def _as_list(model, y_pred):
    """A model's prediction as a list of outputs when it has several, else as it is."""
    return y_pred if model._output_structure.is_leaf else model._unpack_outputs(y_pred)


def _per_sample_shapes(y, output_shape) -> tuple:
    """The targets' and outputs' shapes without the batch axis (lists for several outputs)."""
    if isinstance(y, ArrayGroup):
        return [a.shape[1:] for a in y.arrays], [s[1:] for s in output_shape]
    return y.shape[1:], output_shape[1:]


def _tracker(model, y_shape, output_shape) -> _Tracker:
    """A fresh tracker for ``model``'s compiled metrics and weighted metrics, resolved
    against the shapes (per output for a model of several outputs), named as Keras's
    ``CompileMetrics.result`` names them; records which way each metric improves."""
    several = not model._output_structure.is_leaf
    # Keras names an output's logs after it only when there are several outputs.
    named = several and len(model._outputs) > 1
    if several:
        prefixes = model.output_names if named else [None]
        per_output = list(zip(prefixes, y_shape, output_shape))
    else:
        per_output = [(None, y_shape, output_shape)]

    def resolve(lists):
        lists = lists if several else [lists]
        return [
            (i, prefix, metrics_module.get(identifier, ys, out))
            for i, ((prefix, ys, out), ids) in enumerate(zip(per_output, lists))
            for identifier in ids
        ]

    metrics, taken, weighted_ids = [], set(), set()
    for weighted, resolved in (
        (False, resolve(model.compiled_metrics)),
        (True, resolve(model.compiled_weighted_metrics)),
    ):
        for i, prefix, m in resolved:
            name = m.name if prefix is None else f"{prefix}_{m.name}"
            if weighted and name in taken:
                name = f"weighted_{m.name}" if prefix is None else f"{prefix}_weighted_{m.name}"
            # Keras numbers a name met again: mse, mse_1, ...
            base, k = name, 0
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            taken.add(name)
            metrics.append((name, i if several else None, m))
            if weighted:
                weighted_ids.add(id(m))
    loss_fn = model.compiled_loss
    per_output = isinstance(loss_fn, OutputLosses) and len(loss_fn.names) > 1
    tracker = _Tracker(metrics, loss_fn.names if per_output else (), weighted_ids, named)
    directions = {name: m.direction for name, _, m in metrics}
    directions.update({f"{name}_loss": "down" for name in tracker.loss_names})
    model.metric_directions = directions
    return tracker


# --------------------------------------------------------------------------- fit


class _Committer:
    """Assigns new weights and optimizer state together. If a KeyboardInterrupt lands
    inside the assignment, ``finish()`` replays it (the assignments are idempotent), so
    the model never keeps a half-applied step."""

    def __init__(self, model):
        self.model = model
        self.pending = None

    def commit(self, weights, variables, iterations, trainable):
        self.pending = (weights, variables, iterations, trainable)
        self.finish()

    def finish(self):
        if self.pending is None:
            return
        weights, variables, iterations, trainable = self.pending
        self.model.assign_weights(weights)
        self.model.optimizer.assign(variables, iterations, trainable)
        self.pending = None


def _unboxed(value):
    """``value`` with autograd's tracing boxes removed, also inside (nested) lists,
    tuples and dicts of outputs (``getval`` alone looks at the outermost object only)."""
    if isinstance(value, dict):
        return {k: _unboxed(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*map(_unboxed, value))
    if isinstance(value, (list, tuple)):
        return type(value)(map(_unboxed, value))
    return getval(value)


def _all_finite(arrays) -> bool:
    return all(np.isfinite(w).all() for w in arrays)


def _train_step(model, trainable, committer, x, y, sample_weight=None):
    """One step on batch ``(x, y)``, the loss weighted by ``sample_weight``: returns
    ``(loss, y_pred, parts, problem)``, where ``parts`` are the outputs' own losses of a
    model of several outputs and ``problem`` is None when the step was committed, else
    why it was not."""
    weights = model.weight_arrays()
    loss_fn = model.compiled_loss
    seed = draw_seed() if model.needs_rng else None
    captured = {"parts": []}

    def objective(trainable_weights):
        full = list(weights)
        for i, w in zip(trainable, trainable_weights):
            full[i] = w
        y_pred, updated = model.stateless_call(full, x, training=True, seed=seed)
        # autograd returns only the loss: the prediction and the state updates leave the
        # traced function as plain values, like JAX's has_aux.
        captured["y_pred"] = _unboxed(y_pred)
        captured["weights"] = [getval(w) for w in updated]
        if isinstance(loss_fn, OutputLosses):
            parts = loss_fn.parts(y, y_pred, sample_weight)
            captured["parts"] = [getval(part) for part in parts]
            return loss_fn.total(parts)
        return weighted_loss(loss_fn, y, y_pred, sample_weight)

    def result(loss, problem):
        return loss, captured["y_pred"], captured["parts"], problem

    if not trainable:
        loss = objective([])
        return result(loss, None if np.isfinite(loss) else "the loss is not finite")
    loss, grads = value_and_grad(objective)([weights[i] for i in trainable])
    if not np.isfinite(loss):
        return result(loss, "the loss is not finite")
    optimizer = model.optimizer
    names = model.weight_names
    new_trainable, variables = optimizer.update(
        grads, [weights[i] for i in trainable], names=[names[i] for i in trainable]
    )
    new_weights = captured["weights"]
    for i, w in zip(trainable, new_trainable):
        new_weights[i] = w
    if not _all_finite(new_trainable) or not _all_finite(new_weights):
        return result(loss, "the update would make some weights non-finite")
    committer.commit(new_weights, variables, optimizer.iterations + 1, new_trainable)
    return result(loss, None)


def fit(
    model,
    x=None,
    y=None,
    batch_size=None,
    epochs=1,
    verbose="auto",
    callbacks=None,
    validation_split=0.0,
    validation_data=None,
    shuffle=True,
    class_weight=None,
    sample_weight=None,
    initial_epoch=0,
    steps_per_epoch=None,
    validation_steps=None,
) -> History:
    """Train the model for ``epochs`` passes over the data in mini-batch steps, as
    Keras's ``fit``.

    Parameters
    ----------
    x : array ``(samples, *input_shape)`` (a list or dict of them for several inputs), a
        ``minicnn.utils.PyDataset``, or a generator of ``(x, y)`` / ``(x, y,
        sample_weight)`` batches. Images without their channel axis are taken as Keras
        takes them.
    y : targets for the compiled loss (a list or dict for several outputs); None for a
        PyDataset or a generator.
    batch_size : None or int
        Samples per step (None: 32); the last batch may be smaller.
    epochs : int
        The epoch to end at (counting from ``initial_epoch``).
    verbose : ``"auto"``, 0, 1 or 2
        "auto" and 1: a progress bar per epoch; 2: one line per epoch; 0: nothing.
    callbacks : None or list of Callback
        Hooks called around training, epochs and batches.
    validation_split : float in [0, 1)
        The last fraction of the samples held out (before shuffling) for validation.
    validation_data : None, ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)``, a
        PyDataset or a generator; logged as ``val_*``.
    shuffle : bool, default True
        A fresh permutation of the samples (or a PyDataset's batches) each epoch.
    class_weight : None or dict ``{class index: weight}``
        Weighs each training sample's loss by its class.
    sample_weight : None or array of one weight per sample
        Weighs each sample's loss (the weighted values are still divided by their
        number; metrics stay unweighted).
    initial_epoch : int
        The epoch to start at (to resume training).
    steps_per_epoch, validation_steps : None or int
        Batches per epoch of a PyDataset or a generator (None: all, or until exhausted).

    Returns
    -------
    A ``History`` (also kept as ``model.history``): ``history.history`` maps each logged
    name (``loss``, metrics, ``val_*``) to its value per epoch.

    A NaN or infinite loss stops training with a warning, keeping the last finite
    weights; after a ``KeyboardInterrupt`` the model keeps the weights of the last
    completed step and ``model.history`` the epochs completed so far.

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((8, 3)), np.zeros((8, 1)), epochs=3, verbose=0)
    >>> len(history.history["loss"])
    3
    """
    method = "fit"
    _check_compiled(model, method)
    batch_size = check_batch_size(batch_size, method)
    verbose = check_verbose(verbose, method)
    epochs = check_int(epochs, method, "epochs", minimum=0)
    initial_epoch = check_int(initial_epoch, method, "initial_epoch", minimum=0)
    shuffle = check_bool(shuffle, method, "shuffle")
    callbacks = check_callbacks(callbacks, method)
    feed, val_feed = _fit_feeds(
        model, x, y, batch_size, validation_split, validation_data, class_weight,
        sample_weight, steps_per_epoch, validation_steps,
    )  # fmt: skip
    trainable = model.trainable_indices()
    all_weights = model.weight_arrays()
    model.optimizer.check_weights([all_weights[i] for i in trainable], method)

    tracker = _tracker(model, *_per_sample_shapes(feed.y_example, feed.output_shape))
    history = History()
    progbar = ProgbarLogger(verbose) if verbose else None
    params = {"verbose": verbose, "epochs": epochs, "steps": feed.steps}
    hooks = CallbackList([*callbacks, history, *([progbar] if progbar else [])], model, params)
    model.history = history
    model.stop_training = False
    committer = _Committer(model)
    logs: dict = {}
    try:
        hooks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            tracker.reset()
            hooks.on_epoch_begin(epoch)
            feed.begin()
            done = 0
            for step, x_batch, y_batch, w_batch in feed.epoch(rng() if shuffle else None):
                hooks.on_train_batch_begin(step)
                # Overflow is detected and reported once below; numpy's warnings are noise.
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss, y_pred, parts, problem = _train_step(
                        model, trainable, committer, x_batch, y_batch, w_batch
                    )
                done += 1
                tracker.update(loss, y_batch, _as_list(model, y_pred), parts, w_batch)
                logs = tracker.logs()
                hooks.on_train_batch_end(step, logs)
                if problem:
                    warnings.warn(
                        f"fit: stopped at epoch {epoch + 1}, batch {step}: {problem} "
                        f"(loss={float(loss)}); the model keeps the weights of the last "
                        "finite step.",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    model.stop_training = True
                if model.stop_training:
                    break
            if feed.exhausted and not done:  # a generator that ran dry: no epoch to log
                break
            logs = tracker.logs()
            if val_feed is not None:
                # As Keras's fit, which validates through evaluate with its callbacks.
                hooks.on_test_begin()
                val_logs, _ = _run_evaluation(model, val_feed, 0, hooks)
                hooks.on_test_end(val_logs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
                if val_feed.exhausted:  # its warning says training stops: it does
                    model.stop_training = True
            hooks.on_epoch_end(epoch, logs)
            feed.end()
            if model.stop_training or feed.exhausted:
                break
    except KeyboardInterrupt:
        committer.finish()
        if progbar is not None:
            progbar.on_train_end()
        model.history = history
        raise
    hooks.on_train_end(logs)
    return history


def _fit_feeds(
    model, x, y, batch_size, validation_split, validation_data, class_weight, sample_weight,
    steps_per_epoch, validation_steps,
) -> tuple:  # fmt: skip
    """The training feed and the validation feed (or None), every argument checked."""
    method = "fit"
    if is_batch_source(x):
        check_unsupported(x, method, y, sample_weight, validation_split)
        feed = SourceFeed(model, x, steps_per_epoch, method, class_weight)
        arrays = None
    else:
        if steps_per_epoch is not None:
            steps_per_epoch = check_int(steps_per_epoch, method, "steps_per_epoch", minimum=1)
        x, y, output_shape, weights = check_data(
            model, x, y, method, batch_size, sample_weight=sample_weight, class_weight=class_weight
        )
        arrays = (x, y, weights, output_shape)
    if is_batch_source(validation_data):
        if validation_steps is None and not isinstance(validation_data, PyDataset):
            # A generator is read once: without a count, the next epoch would find it empty.
            raise ValueError(
                "fit: `validation_data` is a generator, which can be read only once; pass "
                "`validation_steps` (the batches to validate on at each epoch), or give a "
                "PyDataset, which is read again every epoch."
            )
        names = ("validation_data[0]", "validation_data[1]")
        val = SourceFeed(model, validation_data, validation_steps, method, None, names,
                         "validation_steps")  # fmt: skip
        if arrays is not None:
            x, y, weights, output_shape = arrays
            feed = ArrayFeed(x, y, weights, batch_size, output_shape, steps_per_epoch)
        return feed, val
    if validation_steps is not None:
        raise ValueError(
            "fit: `validation_steps` counts the batches of a generator or PyDataset given as "
            "`validation_data`."
        )
    if arrays is None:  # a source to train on; validation from arrays, or none
        _, _, _, x_val, y_val, w_val = hold_out(
            model, None, None, None, 0.0, validation_data, batch_size
        )
    else:
        x, y, weights, x_val, y_val, w_val = hold_out(
            model, *arrays[:3], validation_split, validation_data, batch_size
        )
        if class_weight is not None and validation_data is None:
            w_val = None  # as Keras: class weights weigh training batches, not validation
        feed = ArrayFeed(x, y, weights, batch_size, arrays[3], steps_per_epoch)
    val = None
    if x_val is not None:
        val = ArrayFeed(x_val, y_val, w_val, batch_size, feed.output_shape)
    return feed, val


# --------------------------------------------------------------------------- evaluate


def _run_evaluation(model, feed, verbose, hooks=None):
    """Loss (weighted by the feed's sample weights) and metrics over one pass of
    ``feed``: ``(sorted logs, names in compile order)``."""
    tracker = _tracker(model, *_per_sample_shapes(feed.y_example, feed.output_shape))
    params = model.weight_arrays()
    model.stop_evaluating = False
    with progress_bar(feed.steps, verbose, delay=PROGRESS_DELAY) as bar:
        for step, x_batch, y_batch, w_batch in feed.epoch():
            if hooks:
                hooks.on_test_batch_begin(step)
            y_pred = model.apply(params, x_batch)
            loss_fn = model.compiled_loss
            if isinstance(loss_fn, OutputLosses):
                parts = loss_fn.parts(y_batch, y_pred, w_batch)
                tracker.update(
                    loss_fn.total(parts), y_batch, _as_list(model, y_pred), parts, w_batch
                )
            else:
                loss = weighted_loss(loss_fn, y_batch, y_pred, w_batch)
                tracker.update(loss, y_batch, y_pred, sample_weight=w_batch)
            if hooks:
                hooks.on_test_batch_end(step, tracker.logs())
            bar.update()
            if model.stop_evaluating:  # set by a callback: the batches so far are the result
                break
    return tracker.logs(), tracker.names()


def evaluate(
    model,
    x=None,
    y=None,
    batch_size=None,
    verbose="auto",
    sample_weight=None,
    steps=None,
    callbacks=None,
    return_dict=False,
):
    """The compiled loss and metrics over data, as Keras's ``evaluate``.

    Parameters
    ----------
    x, y : as in ``fit`` (``x`` may be a PyDataset or a generator, ``y`` then None).
    batch_size : None or int
        Samples per batch (None: 32).
    verbose : ``"auto"``, 0 or 1
        A progress bar, drawn only if the work outlasts a second.
    sample_weight : None or array of one weight per sample
        Weighs each sample's loss, as in ``fit``.
    steps : None or int
        Batches to read from a PyDataset or a generator (None: all).
    callbacks : None or list of Callback
        Their ``on_test_*`` hooks are called.
    return_dict : bool, default False
        Return ``{"loss": ..., "mae": ...}``.

    Returns
    -------
    The loss (a float) when no metrics were compiled, else ``[loss, *metrics]`` in
    compile order (a dict with ``return_dict``).

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> loss, mae = model.evaluate(np.ones((4, 3)), np.zeros((4, 1)), verbose=0)
    >>> bool(loss >= 0 and mae >= 0)
    True
    """
    method = "evaluate"
    _check_compiled(model, method)
    batch_size = check_batch_size(batch_size, method)
    verbose = check_verbose(verbose, method)
    callbacks = check_callbacks(callbacks, method)
    if is_batch_source(x):
        check_unsupported(x, method, y, sample_weight)
        feed = SourceFeed(model, x, steps, method, steps_name="steps")
    else:
        if steps is not None:
            raise ValueError(
                "evaluate: `steps` counts the batches of a generator or PyDataset; with "
                "arrays, every batch of `x` is evaluated."
            )
        x, y, output_shape, weights = check_data(
            model, x, y, method, batch_size, sample_weight=sample_weight
        )
        feed = ArrayFeed(x, y, weights, batch_size, output_shape)
    hooks = CallbackList(callbacks, model, {"verbose": verbose, "epochs": 1, "steps": feed.steps})
    hooks.on_test_begin()
    logs, names = _run_evaluation(model, feed, verbose, hooks)
    hooks.on_test_end(logs)
    return _results(logs, names, return_dict)


def _results(logs: dict, names: list, return_dict: bool):
    """Keras's return value of evaluate and the on-batch methods: the logs, or their values
    in order (the loss alone when there is nothing else)."""
    if return_dict:
        return logs
    values = [logs[name] for name in names]
    return values[0] if len(values) == 1 else values


def _one_batch(model, x, y, method: str, sample_weight=None, class_weight=None) -> ArrayFeed:
    """All of ``x`` as the one batch of a feed, checked as ``fit`` checks its data."""
    _check_compiled(model, method)
    x, y, output_shape, weights = check_data(
        model, x, y, method, SCAN_CHUNK, sample_weight=sample_weight, class_weight=class_weight
    )
    return ArrayFeed(x, y, weights, len(x), output_shape)


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One training step on ``(x, y)`` as a single batch, as Keras's ``train_on_batch``:
    the metrics are reset first, so the logs are this batch's.

    Parameters
    ----------
    x, y : arrays (lists or dicts of them for several inputs or outputs), one batch.
    sample_weight : None or array of one weight per sample
    class_weight : None or dict ``{class index: weight}``
    return_dict : bool, default False
        Return the logs as a dict.

    Returns
    -------
    The loss (a float) when no metrics were compiled, else ``[loss, *metrics]`` (a dict
    with ``return_dict``), computed before the step's update, as in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(3,), kernel_initializer="ones")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> model.train_on_batch(np.ones((4, 3)), np.zeros((4, 1)))
    9.0
    """
    method = "train_on_batch"
    feed = _one_batch(model, x, y, method, sample_weight, class_weight)
    return_dict = check_bool(return_dict, method, "return_dict")
    trainable = model.trainable_indices()
    all_weights = model.weight_arrays()
    model.optimizer.check_weights([all_weights[i] for i in trainable], method)
    tracker = _tracker(model, *_per_sample_shapes(feed.y_example, feed.output_shape))
    for _, x_batch, y_batch, w_batch in feed.epoch():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, y_pred, parts, problem = _train_step(
                model, trainable, _Committer(model), x_batch, y_batch, w_batch
            )
        if problem:
            warnings.warn(
                f"{method}: the step was not applied: {problem} (loss={float(loss)}).",
                RuntimeWarning,
                stacklevel=2,
            )
        tracker.update(loss, y_batch, _as_list(model, y_pred), parts, w_batch)
    return _results(tracker.logs(), tracker.names(), return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    """The compiled loss and metrics on ``(x, y)`` as a single batch, as Keras's
    ``test_on_batch``.

    Parameters
    ----------
    x, y : arrays (lists or dicts of them for several inputs or outputs), one batch.
    sample_weight : None or array of one weight per sample
    return_dict : bool, default False
        Return the logs as a dict.

    Returns
    -------
    As ``evaluate``.

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(3,), kernel_initializer="ones")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> model.test_on_batch(np.ones((4, 3)), np.zeros((4, 1)))
    [9.0, 3.0]
    """
    method = "test_on_batch"
    feed = _one_batch(model, x, y, method, sample_weight)
    return_dict = check_bool(return_dict, method, "return_dict")
    logs, names = _run_evaluation(model, feed, 0)
    return _results(logs, names, return_dict)


def predict_on_batch(model, x):
    """The model's outputs for ``x`` as a single batch (inference mode), as Keras's
    ``predict_on_batch``: ``model(x)`` as numpy arrays.

    Parameters
    ----------
    x : array (a list or dict of them for several inputs), one batch.

    Returns
    -------
    The outputs (float32; a list or dict of them for several outputs).

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(2, input_shape=(3,), kernel_initializer="ones")])
    >>> model.predict_on_batch(np.ones((1, 3))).tolist()
    [[3.0, 3.0]]
    """
    return model(x)
