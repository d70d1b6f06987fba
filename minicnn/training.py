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

import warnings
from typing import NamedTuple

import numpy as np
from autograd import value_and_grad
from autograd.tracer import getval

from . import losses, optimizers
from . import metrics as metrics_module
from .callbacks import (
    PROGRESS_DELAY,
    CallbackList,
    History,
    ProgbarLogger,
    check_callbacks,
    progress_bar,
)
from .data import SCAN_CHUNK, ArrayGroup, check_data, hold_out
from .feeds import ArrayFeed, PyDataset, SourceFeed, check_unsupported, is_batch_source
from .structure import LEAF, Structure, flatten_any
from .utils import draw_seed, rng
from .validation import check_batch_size, check_bool, check_int, check_real, check_verbose

f32 = np.float32


# --------------------------------------------------------------------------- compile


def compile(
    model,
    optimizer="rmsprop",
    loss=None,
    metrics=None,
    loss_weights=None,
    weighted_metrics=None,
    run_eagerly=False,
    steps_per_execution=1,
    jit_compile="auto",
    auto_scale_loss=True,
) -> None:
    """Choose the optimizer, loss and metrics for ``fit`` and ``evaluate``, as Keras's
    ``compile``; nothing changes on a bad argument.

    Parameters
    ----------
    optimizer : name or Optimizer, default ``"rmsprop"``
        ``"sgd"``, ``"adam"``, ``"rmsprop"`` (default arguments), or an instance.
    loss : name, Loss, function ``(y_true, y_pred) -> per-sample values``, or None
        ``"mse"``, ``"mae"``, ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
        ``"sparse_categorical_crossentropy"``...; for a model of several outputs one
        loss for all, or a list or dict (by output name) of them.
    metrics : None, list or dict
        ``"accuracy"`` (the kind follows from the data), ``"mae"``, ``"mse"``,
        ``"binary_crossentropy"``..., Metric instances or functions; for several outputs
        one entry per output (a metric or a list of them) in a list, or a dict by output
        name. With one output every metric given applies to it.
    loss_weights : None, number, list or dict
        The weights of the outputs' losses in the sum training minimises (a number for a
        model of one output).
    weighted_metrics : None or list
        As ``metrics``, computed with the sample (and class) weights; logged as
        ``weighted_{name}`` where ``metrics`` has the same name (Keras's rule).
    run_eagerly : bool, default False
        Accepted as Keras takes it; minicnn always runs eagerly (numpy, step by step).
    steps_per_execution : int, default 1
        Must be 1: minicnn runs one step per batch callback.
    jit_compile : "auto" or bool, default "auto"
        Accepted as Keras takes it; there is no compiler behind numpy.
    auto_scale_loss : bool, default True
        Accepted as Keras takes it; loss scaling is for mixed precision, which minicnn
        does not have (everything is float32).

    Sets ``model.optimizer``, ``model.loss`` (as given), ``model.compiled_loss`` and
    ``model.compiled_metrics``. Logs name each output's loss and metrics
    ``{output}_loss``, ``{output}_mae``.

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    >>> model.optimizer.name.startswith("adam")
    True
    """
    if optimizer is None:
        raise ValueError(
            "compile: `optimizer` is None; pass one (a name such as 'adam', or an Optimizer)."
        )
    run_eagerly = check_bool(run_eagerly, "compile", "run_eagerly")
    check_bool(auto_scale_loss, "compile", "auto_scale_loss")
    if jit_compile != "auto":
        check_bool(jit_compile, "compile", "jit_compile")
    if check_int(steps_per_execution, "compile", "steps_per_execution", minimum=1) != 1:
        raise ValueError(
            "compile: minicnn runs one step per batch (its callbacks see every batch); "
            f"`steps_per_execution` must be 1. Received: steps_per_execution={steps_per_execution}"
        )
    optimizer_obj = optimizers.get(optimizer)
    if not model._output_structure.is_leaf:
        loss_obj = _compile_outputs(model, loss, loss_weights)
    else:
        if isinstance(loss, (list, tuple, dict)):
            # Keras also takes the one output's loss as [loss] or {output name: loss}.
            (loss,) = [
                _one_loss(v, n)
                for v, n in zip(_per_output(model, loss, "loss"), model.output_names)
            ]
        loss_obj = None if loss is None else losses.resolve(loss)
        if loss_weights is not None:
            # A number, as Keras takes it for one output (or a list of one, or a dict).
            if isinstance(loss_weights, (list, tuple, dict)):
                (loss_weights,) = _per_output(model, loss_weights, "loss_weights")
            weight = check_real(loss_weights, "compile", "loss_weights", 0.0)
            loss_obj = None if loss_obj is None else _WeightedLoss(loss_obj, weight)
    metric_list = _metrics_of(model, metrics, "metrics")
    weighted_list = _metrics_of(model, weighted_metrics, "weighted_metrics")
    model.optimizer = optimizer_obj
    model.loss = loss
    model.compiled_loss = loss_obj
    model.compiled_metrics = metric_list
    model.compiled_weighted_metrics = weighted_list
    model.run_eagerly, model.jit_compile = run_eagerly, jit_compile
    model.compiled = True


def _per_output(model, value, what: str) -> list:
    """``value`` as one entry per output: a list of that length, or a dict by output name
    (missing names get None)."""
    names = model.output_names
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            # Keras's phrases, raised here at compile where Keras waits for fit.
            raise ValueError(
                f"compile: Invalid `{what}`: Expected keys {names} in {what} dict, but found "
                f"{what}.keys()={list(value)}; the key(s) {unknown} in the `{what}` argument, "
                f"can't be found in either the model's output names {names} (model "
                f"'{model.name}')."
            )
        return [value.get(name) for name in names]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        raise ValueError(
            f"compile: for a model of {len(names)} outputs, `{what}` must be a list of "
            f"{len(names)} entries or a dict keyed by the output names {names}. "
            f"Received: {what}={value!r:.120}"
        )
    return list(value)


def _compile_outputs(model, loss, loss_weights):
    """The ``_OutputLosses`` (or None) of a model of several outputs, or of nested ones."""
    if loss is None:
        return None
    structure = model._output_structure
    if _per_output_form(structure, loss):
        # One entry per output (by name for a dict): Keras's common form, checked here with
        # the messages that name the outputs, then nested as the outputs are.
        loss = _per_output(model, loss, "loss")
        if all(v is None for v in loss):
            raise ValueError(f"compile: `loss` gives no loss for any output. Received: {loss!r}")
        loss = structure.pack(loss)
    elif not _nested(loss):
        loss = structure.pack([loss] * structure.size)  # one loss for every output, as Keras
    # Weights per output when the losses are per output; otherwise as the losses nest, or
    # as many numbers as losses (see _pair_weights).
    one_each = len(flatten_any(loss, lambda v: not _nested(v))) == structure.size
    if _per_output_form(structure, loss_weights) and (one_each or isinstance(loss_weights, dict)):
        loss_weights = structure.pack(_per_output(model, loss_weights, "loss_weights"))
    weights = _pair_weights(loss, loss_weights)
    terms = _LossTerms(model)
    terms.build(structure, 0, loss, weights, ())
    return _OutputLosses(terms.terms, model)


def _nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def _per_output_form(structure: Structure, value) -> bool:
    """Whether ``value`` (losses or loss weights) gives one entry per output: a dict by
    output name where the outputs are not a dict, or for outputs that do not nest, a dict
    or a list (or tuple) of entries that are not containers."""
    if isinstance(value, dict):
        return structure.kind != "dict" or structure.is_flat
    return structure.is_flat and isinstance(value, (list, tuple)) and not any(map(_nested, value))


def _pair_weights(loss, loss_weights):
    """``loss_weights`` nested as ``loss`` (None where none is given): the same nesting,
    or as many numbers as there are losses, taken in order (Keras's rule)."""
    leaf = lambda v: not _nested(v)  # noqa: E731
    loss_structure = Structure.of(loss, leaf, "loss")
    if loss_weights is None:
        return loss_structure.pack([None] * loss_structure.size)
    flat = flatten_any(loss_weights, leaf)
    if len(flat) != loss_structure.size:
        raise ValueError(
            f"compile: `loss_weights` must match the number of losses, got "
            f"{loss_structure.size} losses and {len(flat)} weights. Received: "
            f"loss_weights={loss_weights!r:.120}"
        )
    flat = [None if w is None else check_real(w, "compile", "loss_weights", 0.0) for w in flat]
    return loss_structure.pack(flat)


class _Term(NamedTuple):
    """One loss of a model of several outputs: it reads the outputs numbered ``leaves``
    (in ``outputs`` order), nested as ``structure`` (one output: a leaf)."""

    leaves: tuple
    structure: Structure
    loss: object
    weight: float | None
    name: str


class _LossTerms:
    """Keras's ``CompileLoss`` resolution of a (nested) ``loss`` against the model's
    (nested) outputs: a loss that is not a container applies to the whole sub-structure
    it stands for; a list or tuple of one loss per output there is taken per output; a
    list or tuple where the outputs are not one of that type applies each of its entries
    to the whole sub-structure; otherwise the loss nests as the outputs, entry by entry
    (None: no loss there). Each loss is named by its path, as Keras names its log."""

    def __init__(self, model):
        self.model, self.terms = model, []
        self.layer_names = [model.model_tensor(t)._history[0].name for t in model._outputs]

    def build(self, out: Structure, start: int, loss, weight, path: tuple) -> None:
        if not _nested(loss):
            if loss is not None:
                self.terms.append(self._term(out, start, loss, weight, path))
            return
        if isinstance(loss, (list, tuple)) and not out.is_leaf and len(loss) == out.size:
            if not any(map(_nested, loss)):  # one loss per output, in flattened order
                for k, (sub, p) in enumerate(zip(loss, out.paths())):
                    self.build(LEAF, start + k, sub, weight[k], path + p)
                return
        if isinstance(loss, (list, tuple)) and not _same_kind(out, loss):
            given = [(sub, w) for sub, w in zip(loss, weight) if sub is not None]
            if out.is_leaf and len(given) > 1:
                raise ValueError(
                    f"compile: output '{self._name(out, start, path)}' is given "
                    f"{len(given)} losses; expected one (a list of one is taken too). "
                    f"Received: {loss!r:.120}"
                )
            for sub, w in given:  # each applies to the whole sub-structure
                self.build(out, start, sub, w, path)
            return
        steps = list(loss) if isinstance(loss, dict) else range(len(loss))
        own = list(out.keys) if out.kind == "dict" else list(range(len(out.children)))
        offsets = [start]
        for child in out.children:
            offsets.append(offsets[-1] + child.size)
        for step in steps:
            sub = loss[step]
            if sub is None:
                continue
            if step not in own:
                raise ValueError(
                    f"compile: the path {path + (step,)} in the `loss` argument can't be found "
                    f"in the model's outputs {self.model._output_structure.describe()} "
                    f"(model '{self.model.name}')."
                )
            k = own.index(step)
            self.build(out.children[k], offsets[k], sub, weight[step], path + (step,))

    def _term(self, out: Structure, start: int, loss, weight, path: tuple) -> _Term:
        resolved = losses.resolve(loss)
        name = self._name(out, start, path)
        if not out.is_leaf and not isinstance(resolved, losses.LossFunctionWrapper):
            raise ValueError(
                f"compile: loss '{resolved.name}' is given for {out.describe()} (the outputs "
                f"at '{name}'), but a built-in loss compares one output with its targets; "
                "give it per output, or give a function of (y_true, y_pred) structures."
            )
        return _Term(tuple(range(start, start + out.size)), out, resolved, weight, name)

    def _name(self, out: Structure, start: int, path: tuple) -> str:
        """Keras's name of the loss at ``path``: the path joined by "/", where an index
        naming one output becomes the output's layer name; the whole outputs are named
        by their keys (a dict) or layer names, joined by "_"."""
        if out.is_leaf and (not path or isinstance(path[-1], int)):
            path = (*path[:-1], self.layer_names[start]) if path else (self.layer_names[start],)
        if path:
            return "/".join(str(step) for step in path)
        if out.kind == "dict":
            return "_".join(out.keys)
        return "_".join(self.layer_names[start : start + out.size])


def _same_kind(out: Structure, loss) -> bool:
    """Whether outputs of structure ``out`` are instances of ``type(loss)`` (Keras's test
    for a list or tuple of losses that nests as the outputs)."""
    if out.kind == "namedtuple":
        return isinstance(loss, out.cls) or type(loss) is tuple
    return (out.kind, type(loss)) in (("list", list), ("tuple", tuple))


def _metrics_of(model, metrics, what: str) -> list:
    """``metrics`` (or ``weighted_metrics``) as compile keeps them: a list of identifiers,
    or for a model of several outputs one list per output."""
    several = not model._output_structure.is_leaf
    n = len(model._outputs) if several else 1
    if metrics is None:
        return [[] for _ in range(n)] if several else []
    if not isinstance(metrics, (list, tuple, dict)):
        return _metric_list(metrics, what)  # refused with Keras's message
    if n == 1:
        # As Keras: every metric given applies to the one output (dict keys checked).
        if isinstance(metrics, dict):
            metrics = _per_output(model, metrics, what)
        flat = [m for e in metrics for m in (e if isinstance(e, (list, tuple)) else [e])]
        flat = _metric_list([m for m in flat if m is not None], what)
        return [flat] if several else flat
    if isinstance(metrics, (list, tuple)) and len(metrics) != n:
        raise ValueError(
            f"compile: model '{model.name}' has {n} outputs, so `{what}` must be a list of "
            f"{n} entries (a metric or a list of them each) or a dict keyed by the output "
            f"names {model.output_names}. Received: {what}={metrics!r:.120}"
        )
    # As Keras: an output's entry is a list of metrics, or one metric alone.
    return [
        _metric_list(m if m is None or isinstance(m, (list, tuple)) else [m], what)
        for m in _per_output(model, metrics, what)
    ]


def _one_loss(entry, output: str):
    """An output's loss: Keras also takes it as a list of one. A longer list is refused:
    Keras 3.16 quietly trains such an output on one of them."""
    if not isinstance(entry, (list, tuple)):
        return entry
    if len(entry) != 1:
        raise ValueError(
            f"compile: output '{output}' is given {len(entry)} losses; give one (a list of one "
            f"is taken too). Received: {entry!r:.120}"
        )
    return entry[0]


class _OutputLosses:
    """The losses of a model of several (or nested) outputs, one ``_Term`` each (an output
    may have none, as Keras allows): the loss trained on is their sum weighted by
    ``loss_weights``; with two or more, each one is logged too (Keras 3's rule).
    ``losses`` and ``weights`` give each output's own loss (None where no loss reads it
    alone) and weight, for the target checks and the compile config."""

    def __init__(self, terms: list, model):
        self.terms = terms
        n = len(model._outputs)
        self.losses, self.weights = [None] * n, [1.0] * n
        for term in terms:
            if term.structure.is_leaf and self.losses[term.leaves[0]] is None:
                self.losses[term.leaves[0]] = term.loss
                self.weights[term.leaves[0]] = 1.0 if term.weight is None else term.weight
        self.names = [term.name for term in terms]
        self._kept_weights = [1.0 if t.weight is None else t.weight for t in terms]
        self.unpack = model._unpack_outputs

    def parts(self, ys, y_pred, sample_weight=None) -> list:
        """Each loss's value (traceable by autograd), in ``terms`` order; ``ys`` and
        ``sample_weight`` (None, or one weight array per output) list the outputs'."""
        preds = self.unpack(y_pred)
        out = []
        for term in self.terms:
            w = None if sample_weight is None else sample_weight[term.leaves[0]]
            if term.structure.is_leaf:
                (i,) = term.leaves
                out.append(_weighted(term.loss, ys[i], preds[i], w))
                continue
            # A function of whole structures (Keras's "struct" losses), reduced as the
            # loss's other values are.
            y_t = term.structure.pack([np.asarray(ys[i], np.float32) for i in term.leaves])
            y_p = term.structure.pack([preds[i] for i in term.leaves])
            out.append(term.loss.reduce(term.loss.wrapped(y_t, y_p), w))
        return out

    def total(self, parts):
        out = 0.0
        for w, part in zip(self._kept_weights, parts):
            out = out + part * w
        return out

    def __call__(self, ys, y_pred, sample_weight=None):
        return self.total(self.parts(ys, y_pred, sample_weight))


class _WeightedLoss:
    """One output's loss scaled by compile's ``loss_weights``; otherwise the loss itself
    (its name, target checks and options)."""

    def __init__(self, loss, weight: float):
        self.loss, self.weight = loss, weight

    def __call__(self, y_true, y_pred, sample_weight=None):
        return _weighted(self.loss, y_true, y_pred, sample_weight) * self.weight

    def __getattr__(self, name):
        if name.startswith("__") or name == "loss":  # copying and unpickling look these up
            raise AttributeError(name)
        return getattr(self.loss, name)


def _weighted(loss, y_true, y_pred, sample_weight):
    """``loss(y_true, y_pred, sample_weight)``; without weights the two-argument call, so
    a ``Loss`` subclass whose ``__call__`` takes no weights keeps working."""
    if sample_weight is None:
        return loss(y_true, y_pred)
    return loss(y_true, y_pred, sample_weight)


def _metric_list(value, what: str = "metrics") -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            f"compile: expected `{what}` argument to be a list or tuple. "
            f"Received instead: {what}={value!r} of type {type(value).__name__}"
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
    several = not model._output_structure.is_leaf

    def serialized(metric_lists):
        if several:
            return [[metrics_module.serialize(m) for m in ms] for ms in metric_lists]
        return [metrics_module.serialize(m) for m in metric_lists]

    if several:
        # Several outputs: one entry per output, in output order (Keras's list form).
        per = model.compiled_loss
        config = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": None
            if per is None
            else [None if v is None else losses.serialize(v) for v in per.losses],
            "loss_weights": None if per is None else list(per.weights),
            "metrics": serialized(model.compiled_metrics),
        }
    else:
        loss, compiled = model.loss, model.compiled_loss
        weighted_loss = isinstance(compiled, _WeightedLoss)
        if loss is not None and not isinstance(loss, str):
            loss = losses.serialize(compiled.loss if weighted_loss else compiled)
        config = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": loss,
            "metrics": serialized(model.compiled_metrics),
        }
        if weighted_loss:
            config["loss_weights"] = compiled.weight
    # Recorded only when given, so configs from before weighted_metrics read the same.
    if any(model.compiled_weighted_metrics):
        config["weighted_metrics"] = serialized(model.compiled_weighted_metrics)
    return config


def compile_from_config(model, config: dict) -> None:
    """Compile ``model`` from ``get_compile_config``'s output (with ``loss_weights``, and
    a loss and a metric list per output, for a model of several outputs)."""
    several = not model._output_structure.is_leaf
    keys = {"optimizer", "loss", "metrics"} | ({"loss_weights"} if several else set())
    optional = {"weighted_metrics", "loss_weights"}
    if not isinstance(config, dict) or not keys <= set(config) <= keys | optional:
        raise ValueError(
            f"compile_from_config: expected a dict with keys {sorted(keys)} (and optionally "
            f"{sorted(optional - keys)}). Received: {config!r:.200}"
        )

    def metric_lists(key):
        value = config.get(key)
        if value is None or value == []:  # none given (a config before weighted_metrics)
            value = [[] for _ in model._outputs] if several else []
        if not isinstance(value, list) or (several and not all(isinstance(m, list) for m in value)):
            raise ValueError(
                f"compile_from_config: '{key}' must be a list"
                + (" of lists (one per output)" if several else "")
                + f". Received: {value!r:.200}"
            )
        if several:
            return [[metrics_module.deserialize(m) for m in ms] for ms in value]
        return [metrics_module.deserialize(m) for m in value]

    metrics, weighted = metric_lists("metrics"), metric_lists("weighted_metrics")
    loss = config["loss"]
    if several:
        if loss is not None and not isinstance(loss, list):
            raise ValueError(
                "compile_from_config: 'loss' must be a list (one per output) or null. "
                f"Received: {loss!r:.200}"
            )
        loss = None if loss is None else [_loss_entry(v) for v in loss]
        extra = {"loss_weights": config["loss_weights"]}
    else:
        loss = _loss_entry(loss)
        extra = {"loss_weights": config.get("loss_weights")}
    compile(
        model,
        optimizers.deserialize(config["optimizer"]),
        loss,
        metrics,
        weighted_metrics=weighted,
        **extra,
    )


def _loss_entry(value):
    """A saved loss: a built-in name stays a name, a serialized loss is rebuilt."""
    return losses.deserialize(value) if isinstance(value, dict) else value


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
    per_output = isinstance(loss_fn, _OutputLosses) and len(loss_fn.names) > 1
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
    """``value`` with autograd's tracing boxes removed, also inside a list or dict of
    outputs (``getval`` alone looks at the outermost object only)."""
    if isinstance(value, (list, tuple)):
        return [getval(v) for v in value]
    if isinstance(value, dict):
        return {k: getval(v) for k, v in value.items()}
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
        if isinstance(loss_fn, _OutputLosses):
            parts = loss_fn.parts(y, y_pred, sample_weight)
            captured["parts"] = [getval(part) for part in parts]
            return loss_fn.total(parts)
        return _weighted(loss_fn, y, y_pred, sample_weight)

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
            if isinstance(loss_fn, _OutputLosses):
                parts = loss_fn.parts(y_batch, y_pred, w_batch)
                tracker.update(
                    loss_fn.total(parts), y_batch, _as_list(model, y_pred), parts, w_batch
                )
            else:
                loss = _weighted(loss_fn, y_batch, y_pred, w_batch)
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
