"""What ``compile`` resolves, as Keras's ``trainers/compile_utils.py`` does: the optimizer,
the loss (one, one per output, or nested as the outputs with Keras's ``CompileLoss`` rule),
``loss_weights``, and the metrics per output; and the compile config both ways. Written
as functions of the model and bound as its methods (``compile = compile_utils.compile``);
``training`` runs what they resolve.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import losses, optimizers
from . import metrics as metrics_module
from .structure import LEAF, Structure, flatten_any
from .validation import check_bool, check_int, check_real

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
    """The ``OutputLosses`` (or None) of a model of several outputs, or of nested ones."""
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
    return OutputLosses(terms.terms, model)


def _nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def _per_output_form(structure: Structure, value) -> bool:
    """Whether ``value`` (losses or loss weights) gives one entry per output: a dict by
    output name where the outputs are not a dict, or for outputs that do not nest, a dict
    or a list (or tuple) of entries that are not containers, as long as the outputs
    (a list of a list, a tuple of a tuple) or its length say so. A list of another
    length for outputs of another kind applies each entry to all the outputs (Keras's
    rule); for outputs of its own kind, a wrong length is refused, where Keras would leave
    the outputs after it without a loss."""
    if isinstance(value, dict):
        return structure.kind != "dict" or structure.is_flat
    return (
        structure.is_flat
        and isinstance(value, (list, tuple))
        and not any(map(_nested, value))
        and (len(value) == structure.size or _same_kind(structure, value))
    )


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
            if out.is_leaf and len(given) > 1:  # refused, as for a model of one output
                _one_loss([sub for sub, _ in given], self._name(out, start, path))
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
        built_in = type(resolved).__module__ == losses.__name__
        if not out.is_leaf and built_in and not isinstance(resolved, losses.LossFunctionWrapper):
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
    structure = model._output_structure
    flat_form = (isinstance(metrics, (list, tuple)) and len(metrics) == n) or (
        isinstance(metrics, dict) and set(metrics) <= set(model.output_names)
    )
    if not structure.is_flat and not flat_form:
        # Nested outputs, as Keras's CompileMetrics: the metrics nest as the outputs do,
        # each output's place holding a metric, a list of them or None.
        if not structure.matches(metrics):
            raise ValueError(
                f"compile: Invalid `{what}`. `{what}` should either be a dict or a list "
                f"matching the output names of the functional model {model.output_names} "
                f"or match the output structure of the model: {structure.describe('X')}. "
                f"Received: {what}={metrics!r:.120}"
            )
        return [
            _metric_list(m if m is None or isinstance(m, (list, tuple)) else [m], what)
            for m in structure.flatten(metrics)
        ]
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
            f"compile: output '{output}' is given {len(entry)} losses; expected one (a list "
            f"of one is taken too). Received: {entry!r:.120}"
        )
    return entry[0]


class OutputLosses:
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
                out.append(weighted_loss(term.loss, ys[i], preds[i], w))
                continue
            # A loss of whole structures (Keras's "struct" losses): a function, or a Loss
            # whose call takes them; reduced as the loss's other values are.
            y_t = term.structure.pack([np.asarray(ys[i], np.float32) for i in term.leaves])
            y_p = term.structure.pack([preds[i] for i in term.leaves])
            call = getattr(term.loss, "wrapped", term.loss.call)
            out.append(term.loss.reduce(call(y_t, y_p), w))
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
        return weighted_loss(self.loss, y_true, y_pred, sample_weight) * self.weight

    def __getattr__(self, name):
        if name.startswith("__") or name == "loss":  # copying and unpickling look these up
            raise AttributeError(name)
        return getattr(self.loss, name)


def weighted_loss(loss, y_true, y_pred, sample_weight):
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
        # Several outputs: one entry per output, in output order (Keras's list form), nested
        # as the outputs where they nest (Keras reads only that form for nested outputs).
        per = model.compiled_loss
        if per is not None and (
            any(not t.structure.is_leaf for t in per.terms)
            or len({t.leaves for t in per.terms}) != len(per.terms)
        ):
            raise ValueError(
                f"compile settings of model '{model.name}' cannot be written as data: a loss "
                "of a whole structure of outputs, or two losses of one output, has no entry "
                "per output. Compile with one built-in loss per output to save them."
            )
        nest = model._output_structure.pack if not model._output_structure.is_flat else list
        config = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": None
            if per is None
            else nest([None if v is None else losses.serialize(v) for v in per.losses]),
            "loss_weights": None if per is None else nest(list(per.weights)),
            "metrics": nest(serialized(model.compiled_metrics)),
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
        weighted = serialized(model.compiled_weighted_metrics)
        config["weighted_metrics"] = nest(weighted) if several else weighted
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

    structure = model._output_structure

    def per_output(value):
        """For nested outputs, an entry nested as they are (as get_compile_config writes
        it and Keras reads it) as one entry per output; anything else as it is."""
        if several and not structure.is_flat and structure.matches(value):
            return structure.flatten(value)
        return value

    def metric_lists(key):
        value = config.get(key)
        if value is None or value == []:  # none given (a config before weighted_metrics)
            value = [[] for _ in model._outputs] if several else []
        value = per_output(value)
        if several and isinstance(value, list):
            value = [[] if m is None else m for m in value]  # Keras writes None for none
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
        loss = None if loss is None else per_output(loss)
        if loss is not None and not isinstance(loss, list):
            raise ValueError(
                "compile_from_config: 'loss' must be a list (one per output) or null. "
                f"Received: {loss!r:.200}"
            )
        loss = None if loss is None else [_loss_entry(v) for v in loss]
        weights = config["loss_weights"]
        extra = {"loss_weights": None if weights is None else per_output(weights)}
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
