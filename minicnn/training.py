"""``compile``, ``fit`` and ``evaluate``: written once here as functions of the model and
bound as methods of ``minicnn.models.Model`` (this module never imports ``models``).

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

import math
import warnings

import numpy as np
from autograd import value_and_grad
from autograd.tracer import getval
from tqdm.auto import tqdm

from . import losses, optimizers
from . import metrics as metrics_module
from .callbacks import PROGRESS_DELAY, CallbackList, History, ProgbarLogger, check_callbacks
from .data import as_batch, as_input, batches, first_bad_sample
from .utils import draw_seed, rng
from .validation import check_batch_size, check_bool, check_int, check_real, check_verbose

f32 = np.float32


# --------------------------------------------------------------------------- compile


def compile(model, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None) -> None:
    """Choose the optimizer (name or instance), loss and metrics, as Keras's ``compile``;
    nothing changes on a bad argument.

    A model of several outputs takes one loss for all of them, or a list or dict (by output
    name) of losses; ``loss_weights`` (a list or dict) weights their sum, which is what
    training minimises; ``metrics`` is then a list of lists or a dict of lists, one per
    output. Logs name each output's loss and metrics ``{output}_loss``, ``{output}_mae``.

    Names: optimizers ``"sgd"``, ``"adam"``, ``"rmsprop"``; losses ``"mse"``, ``"mae"``,
    ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
    ``"sparse_categorical_crossentropy"``...; metrics ``"accuracy"``, ``"mae"``, ``"mse"``.
    Sets ``model.optimizer`` (an ``Optimizer``), ``model.loss`` (as given),
    ``model.compiled_loss`` (a ``Loss`` or None) and ``model.compiled_metrics`` (the
    identifiers, resolved against the data's shapes at ``fit``/``evaluate``).
    """
    optimizer_obj = optimizers.get(optimizer)
    if model._output_keys is not None:
        loss_obj, metric_list = _compile_outputs(model, loss, metrics, loss_weights)
    else:
        if loss_weights is not None:
            raise ValueError(
                "compile: `loss_weights` weighs the losses of a model's several outputs; "
                f"model '{model.name}' has one output. Received: loss_weights={loss_weights!r}"
            )
        loss_obj = None if loss is None else losses.get(loss)
        metric_list = _metric_list(metrics)
    model.optimizer = optimizer_obj
    model.loss = loss
    model.compiled_loss = loss_obj
    model.compiled_metrics = metric_list
    model.compiled = True


def _per_output(model, value, what: str) -> list:
    """``value`` as one entry per output: a list of that length, or a dict by output name
    (missing names get None)."""
    names = model.output_names
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"compile: `{what}` names {unknown}, which are not outputs of model "
                f"'{model.name}'; its outputs are {names}."
            )
        return [value.get(name) for name in names]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        raise ValueError(
            f"compile: for a model of {len(names)} outputs, `{what}` must be a list of "
            f"{len(names)} entries or a dict keyed by the output names {names}. "
            f"Received: {what}={value!r:.120}"
        )
    return list(value)


def _compile_outputs(model, loss, metrics, loss_weights):
    """``(_OutputLosses or None, per-output metric lists)`` for a model of several outputs."""
    n = len(model.outputs)
    if loss is None:
        per_loss = None
    elif isinstance(loss, (list, tuple, dict)):
        per_loss = [None if v is None else losses.get(v) for v in _per_output(model, loss, "loss")]
        if None in per_loss:
            missing = [name for name, v in zip(model.output_names, per_loss) if v is None]
            raise ValueError(f"compile: `loss` gives no loss for the outputs {missing}.")
    else:
        per_loss = [losses.get(loss) for _ in range(n)]  # one loss for every output, as Keras
    weights = [1.0] * n
    if loss_weights is not None:
        weights = [
            1.0 if w is None else check_real(w, "compile", "loss_weights", 0.0)
            for w in _per_output(model, loss_weights, "loss_weights")
        ]
    if metrics is None:
        per_metrics = [[] for _ in range(n)]
    else:
        if isinstance(metrics, (list, tuple)) and not all(
            isinstance(m, (list, tuple)) or m is None for m in metrics
        ):
            raise ValueError(
                f"compile: model '{model.name}' has {n} outputs, so `metrics` must be a list of "
                f"{n} lists or a dict of lists keyed by the output names {model.output_names}. "
                f"Received: metrics={metrics!r:.120}"
            )
        per_metrics = [_metric_list(m) for m in _per_output(model, metrics, "metrics")]
    loss_obj = None if per_loss is None else _OutputLosses(per_loss, weights, model)
    return loss_obj, per_metrics


class _OutputLosses:
    """The losses of a model of several outputs: the loss trained on is their sum weighted
    by ``loss_weights``; each output's own loss is logged too (Keras 3's rule)."""

    def __init__(self, per_output, weights, model):
        self.losses, self.weights = per_output, weights
        self.names = model.output_names
        self.unpack = model._unpack_outputs

    def parts(self, ys, y_pred) -> list:
        """Each output's loss (traceable by autograd), in output order."""
        return [loss(y, p) for loss, y, p in zip(self.losses, ys, self.unpack(y_pred))]

    def total(self, parts):
        out = 0.0
        for w, part in zip(self.weights, parts):
            out = out + part * w
        return out

    def __call__(self, ys, y_pred):
        return self.total(self.parts(ys, y_pred))


def _metric_list(value) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            "compile: expected `metrics` argument to be a list or tuple. "
            f"Received instead: metrics={value!r} of type {type(value).__name__}"
        )
    for identifier in value:
        metrics_module.check_identifier(identifier)
    return list(value)


def get_compile_config(model) -> dict | None:
    """``{"optimizer", "loss", "metrics"}`` in serialized form (None when not compiled).

    Pair it with ``model.optimizer.get_state()`` to resume training after loading.
    """
    if not model.compiled:
        return None
    if isinstance(model.compiled_loss, _OutputLosses):
        raise ValueError(
            f"Model '{model.name}': the compile settings of a model of several outputs cannot "
            "be saved yet."
        )
    loss = model.loss
    if loss is not None and not isinstance(loss, str):
        loss = losses.serialize(model.compiled_loss)
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": loss,
        "metrics": [metrics_module.serialize(m) for m in model.compiled_metrics],
    }


def compile_from_config(model, config: dict) -> None:
    """Compile ``model`` from ``get_compile_config``'s output."""
    if not isinstance(config, dict) or set(config) != {"optimizer", "loss", "metrics"}:
        raise ValueError(
            "compile_from_config: expected a dict with keys 'optimizer', 'loss' and 'metrics'. "
            f"Received: {config!r:.200}"
        )
    loss = config["loss"]
    if isinstance(loss, dict):
        loss = losses.deserialize(loss)
    metric_list = config["metrics"]
    if not isinstance(metric_list, list):
        raise ValueError(
            f"compile_from_config: 'metrics' must be a list. Received: {metric_list!r}"
        )
    compile(
        model,
        optimizers.deserialize(config["optimizer"]),
        loss,
        [metrics_module.deserialize(m) for m in metric_list],
    )


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


def _as_array(value, name: str, method: str) -> np.ndarray:
    """``value`` as a numeric array with a batch axis (not copied when already an array)."""
    if value is None:
        raise ValueError(f"{method}: `{name}` is required.")
    arr = as_input(value, f"{method}: `{name}`", cast=False)
    if arr.ndim == 0:
        raise ValueError(f"{method}: `{name}` must have a batch axis; received a scalar.")
    return arr


def _scan(arr: np.ndarray, chunk: int, bad, name: str, method: str, what: str) -> None:
    """Raise ValueError naming the first sample where ``bad(batch)`` (per-element) is True."""
    first = first_bad_sample(arr, chunk, bad)
    if first is not None:
        raise ValueError(f"{method}: `{name}` {what} (first at sample {first}).")


class _ArrayGroup:
    """Several arrays read together (a model's inputs, or the targets of its outputs):
    indexing takes the same samples from each, ``batch`` packs them as a list or a dict."""

    def __init__(self, arrays: list, keys):
        self.arrays, self.keys = arrays, keys

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> _ArrayGroup:
        return _ArrayGroup([a[index] for a in self.arrays], self.keys)

    def batch(self, index=slice(None)):
        items = [as_batch(a, index) for a in self.arrays]
        return items if self.keys == "list" else dict(zip(self.keys, items))


def _take(x, index):
    """A float32 batch of ``x`` (one array, or a group of arrays read together)."""
    return x.batch(index) if isinstance(x, _ArrayGroup) else as_batch(x, index)


def _check_inputs(model, x, x_name: str, method: str):
    """``x`` as one array, or as ``_ArrayGroup`` for a model of several inputs."""
    if model._input_keys is None:
        return _as_array(x, x_name, method)
    values = model._input_values(x)
    labels = range(len(values)) if model._input_keys == "list" else model._input_keys
    arrays = [_as_array(a, f"{x_name}[{k!r}]", method) for k, a in zip(labels, values)]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {[len(a) for a in arrays]}."
        )
    return _ArrayGroup(arrays, model._input_keys)


def _check_data(model, x, y, method: str, chunk: int, names=("x", "y")) -> tuple:
    """Check ``x``/``y`` against the model and the loss before any step; returns
    ``(x, y, output_shape)`` with the arrays uncopied. ``names`` are the arguments' names
    in messages (``validation_data[0]``... for validation data)."""
    x_name, y_name = names
    if model._output_keys is not None:
        return _check_outputs_data(model, x, y, method, chunk, names)
    x = _check_inputs(model, x, x_name, method)
    y = _as_array(y, y_name, method)
    # Builds the model and checks the input shape.
    model.prepare_input(x[:1].batch() if isinstance(x, _ArrayGroup) else x[:1], method)
    if len(x) != len(y):
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {len(x)}, '{y_name}' sizes: {len(y)}."
        )
    if len(x) == 0:
        raise ValueError(f"{method}: `{x_name}` and `{y_name}` hold no samples.")
    if isinstance(x, _ArrayGroup):
        shapes = [(None, *a.shape[1:]) for a in x.arrays]
        output_shape = model.compute_output_shape(model._pack_inputs(shapes))
    else:
        output_shape = model.compute_output_shape((None, *x.shape[1:]))
    loss = model.compiled_loss
    where = method if names == ("x", "y") else f"{method} ({y_name})"
    loss.check_target(y.shape[1:], output_shape[1:], where)
    nonfinite = "contains NaN or infinite values"
    for arr in x.arrays if isinstance(x, _ArrayGroup) else [x]:
        _scan(arr, chunk, lambda b: ~np.isfinite(b), x_name, method, nonfinite)
    _scan(y, chunk, lambda b: ~np.isfinite(b), y_name, method, nonfinite)
    if loss.target == "sparse":
        classes = output_shape[-1]
        _scan(
            y,
            chunk,
            lambda b: (b != np.round(b)) | (b < 0) | (b >= classes),
            y_name,
            method,
            f"must hold integer class indices in [0, {classes}) for loss '{loss.name}'",
        )
    return x, y, output_shape


def _check_outputs_data(model, x, y, method: str, chunk: int, names) -> tuple:
    """``_check_data`` for a model of several outputs: ``y`` is a list (output order) or a
    dict by output name; returns ``y`` as ``_ArrayGroup`` of one array per output."""
    x_name, y_name = names
    outputs = model.output_names
    if isinstance(y, dict):
        if set(y) != set(outputs):
            raise ValueError(
                f"{method}: `{y_name}` must hold one array per output {outputs}; received keys "
                f"{sorted(y)}."
            )
        y = [y[name] for name in outputs]
    if not isinstance(y, (list, tuple)) or len(y) != len(outputs):
        raise ValueError(
            f"{method}: model '{model.name}' has {len(outputs)} outputs {outputs}, so `{y_name}` "
            f"must be a list of {len(outputs)} arrays or a dict by output name. Received: "
            f"{type(y).__name__}" + (f" of length {len(y)}" if isinstance(y, (list, tuple)) else "")
        )
    ys = [_as_array(v, f"{y_name}[{name!r}]", method) for v, name in zip(y, outputs)]
    x = _check_inputs(model, x, x_name, method)
    model.prepare_input(x[:1].batch() if isinstance(x, _ArrayGroup) else x[:1], method)
    sizes = [len(v) for v in ys]
    if len(set(sizes)) > 1 or sizes[0] != len(x):
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {len(x)}, '{y_name}' sizes: {sizes}."
        )
    if len(x) == 0:
        raise ValueError(f"{method}: `{x_name}` and `{y_name}` hold no samples.")
    if isinstance(x, _ArrayGroup):
        in_shapes = model._pack_inputs([(None, *a.shape[1:]) for a in x.arrays])
    else:
        in_shapes = (None, *x.shape[1:])
    out_shapes = model._unpack_outputs(model.compute_output_shape(in_shapes))
    nonfinite = "contains NaN or infinite values"
    for arr in x.arrays if isinstance(x, _ArrayGroup) else [x]:
        _scan(arr, chunk, lambda b: ~np.isfinite(b), x_name, method, nonfinite)
    loss = model.compiled_loss
    for v, shape, name, part in zip(ys, out_shapes, outputs, loss.losses):
        label = f"{y_name}[{name!r}]"
        part.check_target(v.shape[1:], shape[1:], f"{method} ({label})")
        _scan(v, chunk, lambda b: ~np.isfinite(b), label, method, nonfinite)
        if part.target == "sparse":
            classes = shape[-1]
            _scan(
                v,
                chunk,
                lambda b, classes=classes: (b != np.round(b)) | (b < 0) | (b >= classes),
                label,
                method,
                f"must hold integer class indices in [0, {classes}) for loss '{part.name}'",
            )
    return x, _ArrayGroup(ys, "list"), out_shapes


def _split(value, name: str, method: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(
            f"{method}: `{name}` must be a tuple (x_val, y_val); sample weights are not "
            f"supported. Received: {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        )
    return value[0], value[1]


# --------------------------------------------------------------------------- running metrics


class _Tracker:
    """The epoch's running loss (batch losses weighted by batch size, float32, as Keras's
    loss tracker), each output's loss for a model of several outputs, and the metrics:
    ``(name, output number or None, Metric)``."""

    def __init__(self, metrics, output_names=None):
        self.metrics = metrics
        self.output_names = output_names or []
        self.reset()

    def reset(self):
        self.total, self.count = f32(0), f32(0)
        self.parts = [f32(0)] * len(self.output_names)
        for _, _, metric in self.metrics:
            metric.reset_state()

    def update(self, loss, y_true, y_pred, parts=()):
        """One batch; for several outputs ``y_true``/``y_pred`` are lists and ``parts`` the
        outputs' own losses."""
        n = len(y_true[0]) if self.output_names else len(y_true)
        self.total = f32(self.total + f32(loss) * f32(n))
        self.count = f32(self.count + f32(n))
        self.parts = [f32(t + f32(p) * f32(n)) for t, p in zip(self.parts, parts)]
        for _, i, metric in self.metrics:
            if i is None:
                metric.update_state(y_true, y_pred)
            else:
                metric.update_state(y_true[i], y_pred[i])

    def logs(self) -> dict:
        mean = lambda v: float(v / self.count) if self.count else 0.0  # noqa: E731
        out = {"loss": mean(self.total)}
        out.update({f"{name}_loss": mean(p) for name, p in zip(self.output_names, self.parts)})
        out.update({name: metric.result() for name, _, metric in self.metrics})
        return dict(sorted(out.items()))

    def names(self) -> list[str]:
        """What ``evaluate`` lists, in Keras's order: the loss, each output's loss, then
        the metrics (by name when there are several outputs)."""
        parts = [f"{name}_loss" for name in self.output_names]
        metrics = [name for name, _, _ in self.metrics]
        return ["loss", *parts, *(sorted(metrics) if self.output_names else metrics)]


def _as_list(model, y_pred):
    """A model's prediction as a list of outputs when it has several, else as it is."""
    return y_pred if model._output_keys is None else model._unpack_outputs(y_pred)


def _per_sample_shapes(y, output_shape) -> tuple:
    """The targets' and outputs' shapes without the batch axis (lists for several outputs)."""
    if isinstance(y, _ArrayGroup):
        return [a.shape[1:] for a in y.arrays], [s[1:] for s in output_shape]
    return y.shape[1:], output_shape[1:]


def _tracker(model, y_shape, output_shape) -> _Tracker:
    """A fresh tracker for ``model``'s compiled metrics, resolved against the shapes (per
    output for a model of several outputs); records which way each metric improves."""
    if model._output_keys is None:
        objects = [metrics_module.get(m, y_shape, output_shape) for m in model.compiled_metrics]
        metrics = [(m.name, None, m) for m in objects]
        tracker = _Tracker(metrics)
    else:
        names = model.output_names
        metrics = [
            (f"{name}_{m.name}", i, m)
            for i, (name, ids, ys, out) in enumerate(
                zip(names, model.compiled_metrics, y_shape, output_shape)
            )
            for m in (metrics_module.get(identifier, ys, out) for identifier in ids)
        ]
        tracker = _Tracker(metrics, names)
    directions = {name: m.direction for name, _, m in metrics}
    directions.update({f"{name}_loss": "down" for name in tracker.output_names})
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
    """``value`` with autograd's tracing boxes removed, also inside a list or dict of
    outputs (``getval`` alone looks at the outermost object only)."""
    if isinstance(value, (list, tuple)):
        return [getval(v) for v in value]
    if isinstance(value, dict):
        return {k: getval(v) for k, v in value.items()}
    return getval(value)


def _all_finite(arrays) -> bool:
    return all(np.isfinite(w).all() for w in arrays)


def _train_step(model, trainable, committer, x, y):
    """One step on batch ``(x, y)``: returns ``(loss, y_pred, parts, problem)``, where
    ``parts`` are the outputs' own losses of a model of several outputs and ``problem`` is
    None when the step was committed, else why it was not."""
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
        if isinstance(loss_fn, _OutputLosses):
            parts = loss_fn.parts(y, y_pred)
            captured["parts"] = [getval(part) for part in parts]
            return loss_fn.total(parts)
        return loss_fn(y, y_pred)

    def result(loss, problem):
        return loss, captured["y_pred"], captured["parts"], problem

    if not trainable:
        loss = objective([])
        return result(loss, None if np.isfinite(loss) else "the loss is not finite")
    loss, grads = value_and_grad(objective)([weights[i] for i in trainable])
    if not np.isfinite(loss):
        return result(loss, "the loss is not finite")
    optimizer = model.optimizer
    new_trainable, variables = optimizer.update(grads, [weights[i] for i in trainable])
    new_weights = captured["weights"]
    for i, w in zip(trainable, new_trainable):
        new_weights[i] = w
    if not _all_finite(new_trainable) or not _all_finite(new_weights):
        return result(loss, "the update would make some weights non-finite")
    committer.commit(new_weights, variables, optimizer.iterations + 1, new_trainable)
    return result(loss, None)


def _validation(model, x, y, validation_split, validation_data, batch_size) -> tuple:
    """``(x, y, x_val, y_val)``: ``validation_data`` checked, or the last
    ``validation_split`` of the samples held out (before any shuffling), or no validation."""
    validation_split = check_real(
        validation_split, "fit", "validation_split", 0.0, 1.0, high_open=True
    )
    if validation_data is not None:
        x_val, y_val = _split(validation_data, "validation_data", "fit")
        names = ("validation_data[0]", "validation_data[1]")
        x_val, y_val, _ = _check_data(model, x_val, y_val, "fit", batch_size, names)
        return x, y, x_val, y_val
    if not validation_split:
        return x, y, None, None
    split_at = math.floor(len(x) * (1.0 - validation_split))
    if split_at in (0, len(x)):
        raise ValueError(
            f"fit: training data contains {len(x)} samples, which is not sufficient to split "
            "it into a validation and training set as specified by "
            f"`validation_split={validation_split}`. Either provide more data, or a different "
            "value for the `validation_split` argument."
        )
    return x[:split_at], y[:split_at], x[split_at:], y[split_at:]


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
    initial_epoch=0,
) -> History:
    """Train for ``epochs`` epochs of mini-batch steps; returns a ``History``.

    ``x``: ``(samples, *input_shape)``; ``y``: targets for the compiled loss.
    ``batch_size`` None means 32; ``validation_split`` holds out the last fraction of the
    samples (before shuffling); ``verbose`` "auto"/1 shows a bar per epoch, 2 one line
    per epoch, 0 nothing. Stops with a warning, keeping the last finite weights, if the
    loss becomes NaN or infinite. On ``KeyboardInterrupt`` the model keeps the weights
    of the last completed step and ``model.history`` the epochs completed so far.
    """
    method = "fit"
    _check_compiled(model, method)
    batch_size = check_batch_size(batch_size, method)
    verbose = check_verbose(verbose, method)
    epochs = check_int(epochs, method, "epochs", minimum=0)
    initial_epoch = check_int(initial_epoch, method, "initial_epoch", minimum=0)
    shuffle = check_bool(shuffle, method, "shuffle")
    callbacks = check_callbacks(callbacks, method)
    x, y, output_shape = _check_data(model, x, y, method, batch_size)
    x, y, x_val, y_val = _validation(model, x, y, validation_split, validation_data, batch_size)
    trainable = model.trainable_indices()
    all_weights = model.weight_arrays()
    model.optimizer.check_weights([all_weights[i] for i in trainable], method)

    tracker = _tracker(model, *_per_sample_shapes(y, output_shape))
    steps = batches(len(x), batch_size)
    history = History()
    progbar = ProgbarLogger(verbose) if verbose else None
    params = {"verbose": verbose, "epochs": epochs, "steps": len(steps)}
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
            order = rng().permutation(len(x)) if shuffle else None
            for step, part in enumerate(steps):
                index = part if order is None else order[part]
                hooks.on_train_batch_begin(step)
                y_batch = _take(y, index)
                # Overflow is detected and reported once below; numpy's warnings are noise.
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss, y_pred, parts, problem = _train_step(
                        model, trainable, committer, _take(x, index), y_batch
                    )
                tracker.update(loss, y_batch, _as_list(model, y_pred), parts)
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
            logs = tracker.logs()
            if x_val is not None:
                val_logs, _ = _run_evaluation(model, x_val, y_val, batch_size, 0, output_shape)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            hooks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    except KeyboardInterrupt:
        committer.finish()
        if progbar is not None:
            progbar.on_train_end()
        model.history = history
        raise
    hooks.on_train_end(logs)
    return history


# --------------------------------------------------------------------------- evaluate


def _run_evaluation(model, x, y, batch_size, verbose, output_shape, hooks=None):
    """Loss and metrics over ``(x, y)``, a batch at a time: ``(sorted logs, names in compile
    order)``."""
    tracker = _tracker(model, *_per_sample_shapes(y, output_shape))
    weights = model.weight_arrays()
    steps = batches(len(x), batch_size)
    with tqdm(
        total=len(steps), unit="step", disable=verbose == 0, delay=PROGRESS_DELAY, leave=False
    ) as bar:
        for step, part in enumerate(steps):
            if hooks:
                hooks.on_test_batch_begin(step)
            y_batch = _take(y, part)
            y_pred = model.apply(weights, _take(x, part))
            loss_fn = model.compiled_loss
            if isinstance(loss_fn, _OutputLosses):
                parts = loss_fn.parts(y_batch, y_pred)
                tracker.update(loss_fn.total(parts), y_batch, _as_list(model, y_pred), parts)
            else:
                tracker.update(loss_fn(y_batch, y_pred), y_batch, y_pred)
            if hooks:
                hooks.on_test_batch_end(step, tracker.logs())
            bar.update()
    return tracker.logs(), tracker.names()


def evaluate(
    model, x=None, y=None, batch_size=None, verbose="auto", callbacks=None, return_dict=False
):
    """The loss (a float), or ``[loss, *metrics]`` when metrics were compiled, over
    ``(x, y)`` computed ``batch_size`` (default 32) samples at a time;
    ``return_dict=True`` gives ``{"loss": ..., "accuracy": ...}``."""
    method = "evaluate"
    _check_compiled(model, method)
    batch_size = check_batch_size(batch_size, method)
    verbose = check_verbose(verbose, method)
    callbacks = check_callbacks(callbacks, method)
    x, y, output_shape = _check_data(model, x, y, method, batch_size)
    hooks = CallbackList(callbacks, model, {"verbose": verbose, "epochs": 1, "steps": None})
    hooks.on_test_begin()
    logs, names = _run_evaluation(model, x, y, batch_size, verbose, output_shape, hooks)
    hooks.on_test_end(logs)
    if return_dict:
        return logs
    values = [logs[name] for name in names]
    return values[0] if len(values) == 1 else values
