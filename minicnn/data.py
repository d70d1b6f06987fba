"""The arrays users pass in: checked, cast to float32 and cut into batches.

``predict``, ``fit``, ``evaluate``, layers called on data and the gradient check all take
their input through ``as_input``; ``batches`` and ``as_batch`` are the one way data is read
a batch at a time, so memory grows with the batch size, not with the number of samples.
``check_data`` checks what ``fit`` and ``evaluate`` are given against the model and its
compiled losses (shapes, sample counts, finite values, class labels) before any step, and
``hold_out`` takes Keras's validation split; several inputs or targets travel together as
an ``ArrayGroup``. The model and losses are used through their public methods only.
"""

from __future__ import annotations

import math

import numpy as np

from .structure import Structure, describe
from .validation import check_real, numeric_array

f32 = np.float32


def as_input(x, subject: str, cast: bool = True) -> np.ndarray:
    """The array a model or layer is called on, cast to float32 as Keras does.

    Lists and numeric arrays (bool, int, float) are accepted; objects, strings, complex
    numbers and ragged nesting are a TypeError/ValueError whose message starts with
    ``subject`` (``"'conv2d'"``, ``"fit: `y`"``). With ``cast=False`` a numeric array is
    returned as it is, for callers that cast batch by batch.
    """
    arr = numeric_array(x, subject)
    return arr.astype(np.float32, copy=False) if cast else arr


def batches(n: int, batch_size: int) -> list[slice]:
    """Consecutive ``slice`` objects of at most ``batch_size`` covering ``range(n)``."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def as_batch(arr: np.ndarray, index) -> np.ndarray:
    """``arr[index]`` as float32 (a copy only when the dtype changes)."""
    return np.asarray(arr[index], dtype=f32)


def first_bad_sample(arr: np.ndarray, chunk: int, bad) -> int | None:
    """Index of the first sample of ``arr`` where the per-element test ``bad(batch)`` holds
    anywhere, or None; reads ``arr`` ``chunk`` samples at a time as float32."""
    for step in batches(len(arr), chunk):
        with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: flagged
            values = as_batch(arr, step)
        flags = bad(values).reshape(step.stop - step.start, -1).any(axis=1)
        if flags.any():
            return step.start + int(np.argmax(flags))
    return None


def as_array(value, name: str, method: str) -> np.ndarray:
    """``value`` as a numeric array with a batch axis (not copied when already an array)."""
    if value is None:
        raise ValueError(f"{method}: `{name}` is required.")
    arr = as_input(value, f"{method}: `{name}`", cast=False)
    if arr.ndim == 0:
        raise ValueError(f"{method}: `{name}` must have a batch axis; received a scalar.")
    return arr


def scan(arr: np.ndarray, chunk: int, bad, name: str, method: str, what: str) -> None:
    """Raise ValueError naming the first sample where ``bad(batch)`` (per-element) is True."""
    first = first_bad_sample(arr, chunk, bad)
    if first is not None:
        raise ValueError(f"{method}: `{name}` {what} (first at sample {first}).")


class ArrayGroup:
    """Several arrays read together (a model's inputs, or the targets of its outputs):
    indexing takes the same samples from each, ``batch`` packs them as ``structure``
    nests them (a flat list when None)."""

    def __init__(self, arrays: list, structure: Structure | None = None):
        self.arrays, self.structure = arrays, structure

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> ArrayGroup:
        return ArrayGroup([a[index] for a in self.arrays], self.structure)

    def batch(self, index=slice(None)):
        items = [as_batch(a, index) for a in self.arrays]
        return items if self.structure is None else self.structure.pack(items)


def take(x, index):
    """A float32 batch of ``x`` (one array, or a group of arrays read together)."""
    return x.batch(index) if isinstance(x, ArrayGroup) else as_batch(x, index)


def check_inputs(model, x, x_name: str, method: str):
    """``x`` as one array, or as ``ArrayGroup`` for a model of several inputs."""
    structure = model._input_structure
    if structure.is_leaf:
        return as_array(x, x_name, method)
    values = model._input_values(x)
    arrays = [as_array(a, label, method) for label, a in zip(_labels(x_name, structure), values)]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {[len(a) for a in arrays]}."
        )
    return ArrayGroup(arrays, structure)


#: Samples read at a time when scanning data for non-finite values, where no batch size
#: is given (a generator's batch, train_on_batch's data).
SCAN_CHUNK = 4096


def check_data(
    model, x, y, method: str, chunk: int, names=("x", "y"), sample_weight=None, class_weight=None
) -> tuple:
    """Check ``x``/``y`` against the model and its compiled loss(es) before any step;
    returns ``(x, y, output_shape, sample_weight)`` with the arrays uncopied. For a model
    of several outputs ``y`` is a list (output order) or a dict by output name, returned
    as an ``ArrayGroup``, and ``output_shape`` lists the outputs' shapes. ``names`` are
    the arguments' names in messages (``validation_data[0]``... for validation data).
    ``sample_weight`` and ``class_weight`` give per-sample weights of the loss (see
    ``sample_weights``); the weights come back as one array, an ``ArrayGroup`` per
    output, or None."""
    x_name, y_name = names
    several = not model._output_structure.is_leaf
    if several:
        ys = _targets(model, y, y_name, method)
        labels = _output_labels(model, y_name)
    else:
        ys, labels = [as_array(y, y_name, method)], [y_name]
    x = check_inputs(model, x, x_name, method)
    if not model.layers:
        raise ValueError(
            f"{type(model).__name__} '{model.name}' has no layers; add some before {method}."
        )
    # Keras's rank adjustment (images without their channel axis), then the whole
    # shape checked (the message quotes what the user passed, not a first batch).
    passed = [a.shape for a in (x.arrays if isinstance(x, ArrayGroup) else [x])]
    if isinstance(x, ArrayGroup):
        x = ArrayGroup(model.adjust_ranks(x.arrays), x.structure)
        arrays = x.arrays
    else:
        (x,) = arrays = model.adjust_ranks([x])
    model.check_input_shapes([a.shape for a in arrays], method, x_name, passed)
    sizes = [len(v) for v in ys]
    if len(set(sizes)) > 1 or sizes[0] != len(x):
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {len(x)}, '{y_name}' sizes: "
            f"{sizes if several else sizes[0]}."
        )
    if len(x) == 0:
        raise ValueError(f"{method}: `{x_name}` and `{y_name}` hold no samples.")
    if isinstance(x, ArrayGroup):
        in_shapes = model._pack_inputs([(None, *a.shape[1:]) for a in x.arrays])
    else:
        in_shapes = (None, *x.shape[1:])
    output_shape = model.compute_output_shape(in_shapes)
    out_shapes = model._unpack_outputs(output_shape) if several else [output_shape]
    losses = model.compiled_loss.losses if several else [model.compiled_loss]
    nonfinite = "contains NaN or infinite values"
    for arr in x.arrays if isinstance(x, ArrayGroup) else [x]:
        scan(arr, chunk, lambda b: ~np.isfinite(b), x_name, method, nonfinite)
    for v, shape, label, loss in zip(ys, out_shapes, labels, losses):
        if loss is None:  # an output trained without a loss: its targets are not read
            continue
        loss.check_target(v.shape[1:], shape[1:], method, label)
        scan(v, chunk, lambda b: ~np.isfinite(b), label, method, nonfinite)
        if loss.target == "sparse":
            classes = shape[-1]
            scan(
                v,
                chunk,
                lambda b, classes=classes: (b != np.round(b)) | (b < 0) | (b >= classes),
                label,
                method,
                f"must hold integer class indices in [0, {classes}) for loss '{loss.name}'",
            )
    weights = sample_weights(model, ys, sample_weight, class_weight, method, names)
    if several:
        return x, ArrayGroup(ys), out_shapes, weights
    return x, ys[0], output_shape, weights


def sample_weights(model, ys: list, sample_weight, class_weight, method: str, names) -> object:
    """The loss's per-sample weights (Keras 3): ``sample_weight`` as an array of one weight
    per sample (or of a target's shape without its last axis), for every output or one
    per output (a list, or a dict by output name); or ``class_weight``, ``{class: weight}``
    for a model of one output, turned into one weight per sample from its class (the
    argmax of one-hot targets, else the label; classes not listed weigh 1)."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    n = len(ys[0])
    # Named as the data it came with: sample_weight, validation_data[2], "... (batch 3)".
    prefix = "validation_data[0]"
    x_name = names[0]
    label = (
        "validation_data[2]" + x_name[len(prefix) :]
        if x_name.startswith(prefix)
        else "sample_weight" + x_name[1:]
    )
    if class_weight is not None:
        if not model._output_structure.is_leaf:
            raise ValueError(
                f"{method}: `class_weight` is only supported for Models with a single output."
            )
        return _class_weights(ys[0], class_weight, method)
    if sample_weight is None:
        return None
    several = not model._output_structure.is_leaf
    if several and isinstance(sample_weight, (list, tuple, dict)):
        outputs = model.output_names
        structure = model._output_structure
        if not structure.is_flat and structure.matches(sample_weight):
            # Nested outputs: the weights nest as the targets do (None: weights of 1).
            sample_weight = structure.flatten(sample_weight)
        if isinstance(sample_weight, dict):
            if not set(sample_weight) <= set(outputs):
                raise ValueError(
                    f"{method}: `{label}` names {sorted(set(sample_weight) - set(outputs))}, "
                    f"which are not outputs of model '{model.name}' ({outputs})."
                )
            per_output = [sample_weight.get(name) for name in outputs]
        elif len(sample_weight) != len(outputs):
            raise ValueError(
                f"{method}: `{label}` must give one array per output ({len(outputs)}); "
                f"received {len(sample_weight)}."
            )
        else:
            per_output = list(sample_weight)
        arrays = [
            np.ones(n, np.float32) if w is None else _weight_array(w, y, f"{label}[{o!r}]", method)
            for w, y, o in zip(per_output, ys, outputs)
        ]
        return ArrayGroup(arrays)
    w = _weight_array(sample_weight, ys[0], label, method)
    return ArrayGroup([w] * len(ys)) if several else w


def _weight_array(value, y: np.ndarray, name: str, method: str) -> np.ndarray:
    w = as_array(value, name, method)
    if w.shape == (len(y), 1):
        w = w[:, 0]
    if w.shape not in ((len(y),), y.shape[:-1]):
        raise ValueError(
            f"{method}: `{name}` of shape {w.shape} must hold one weight per sample ("
            f"{len(y)},), or one per target value without the last axis "
            f"{y.shape[:-1]}."
        )
    scan(w, len(w), lambda b: ~np.isfinite(b), name, method, "contains NaN or infinite values")
    return w


def _class_weights(y: np.ndarray, class_weight, method: str) -> np.ndarray:
    """Keras's ``class_weight_to_sample_weights``: keys are class indices, also written as
    strings ("0") or whole floats (0.0), as Keras takes them. Keras truncates any other
    float (0.5 weighs class 0); minicnn refuses it, as it refuses bools."""
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"{method}: `class_weight` must be a dict-like mapping of class indices to "
            f"weights. Received: class_weight={class_weight!r:.120} of type "
            f"{type(class_weight).__name__}."
        )
    table = {}
    for key, value in class_weight.items():
        index = _class_index(key)
        if index is None:
            raise ValueError(
                f"{method}: `class_weight` must be a dictionary with integer keys "
                f"representing class indices. Received an invalid key: {key!r} of type "
                f"{type(key).__name__}."
            )
        table[index] = check_real(value, method, f"class_weight[{key!r}]")
    labels = np.asarray(y, dtype=f32)
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64).reshape(len(y), -1)[:, 0]
    return np.array([table.get(int(c), 1.0) for c in labels], dtype=f32)


def _class_index(key) -> int | None:
    """A class_weight key as a class index, or None for one that is not."""
    if isinstance(key, (bool, np.bool_)):
        return None
    if isinstance(key, (int, np.integer)):
        return int(key)
    if isinstance(key, (float, np.floating)):
        return int(key) if float(key).is_integer() else None
    if isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            return None
    return None


def _output_labels(model, y_name: str) -> list[str]:
    """How messages name each output's targets: ``y['cls']`` by output name, or by the
    path into nested outputs (``y['pair'][0]``)."""
    structure = model._output_structure
    if structure.is_flat:
        return [f"{y_name}[{name!r}]" for name in model.output_names]
    return _labels(y_name, structure)


def _labels(name: str, structure: Structure) -> list[str]:
    """``name`` indexed by each leaf's path in ``structure``: ``x['more']['b']``."""
    return [name + "".join(f"[{step!r}]" for step in path) for path in structure.paths()]


def _targets(model, y, y_name: str, method: str) -> list:
    """The targets of a model of several outputs, one array per output in output order,
    from a list or a dict by output name. As Keras, targets may be given for only the
    outputs that have a loss (an array for one, a list or a dict for several); the others
    get zeros that nothing reads, and may have no metrics."""
    outputs = model.output_names
    structure = model._output_structure
    if not structure.is_flat:
        # Nested outputs: targets nest the same way (a list and a tuple stand for each
        # other), or come as a flat list of one array per output, as Keras reconciles them.
        if structure.matches(y):
            y = structure.flatten(y)
        elif not (isinstance(y, (list, tuple)) and len(y) == structure.size):
            raise ValueError(
                f"{method}: model '{model.name}' has nested outputs {structure.describe()}, so "
                f"`{y_name}` must nest the same way (or be a flat list of {structure.size} "
                f"arrays). Received: {describe(y)}"
            )
        return [as_array(v, label, method) for v, label in zip(y, _output_labels(model, y_name))]
    losses = model.compiled_loss.losses if model.compiled_loss is not None else []
    labelled = [name for name, loss in zip(outputs, losses) if loss is not None]
    if 0 < len(labelled) < len(outputs):
        if isinstance(y, np.ndarray) and len(labelled) == 1:
            y = {labelled[0]: y}
        elif isinstance(y, (list, tuple)) and len(y) == len(labelled):
            y = dict(zip(labelled, y))
        if isinstance(y, dict) and set(y) == set(labelled):
            y = _without_targets(model, y, outputs, y_name, method)
    if len(outputs) == 1 and isinstance(y, np.ndarray):
        y = [y]  # the one output's targets, as Keras takes them without the list
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
    return [as_array(v, f"{y_name}[{name!r}]", method) for v, name in zip(y, outputs)]


def _without_targets(model, y: dict, outputs: list, y_name: str, method: str) -> dict:
    """``y`` (the outputs that have a loss) with zeros for the others, after checking
    that no metric needs their targets."""
    for i, name in enumerate(outputs):
        if name not in y and (model.compiled_metrics[i] or model.compiled_weighted_metrics[i]):
            raise ValueError(
                f"{method}: output '{name}' has metrics but `{y_name}` gives it no targets."
            )
    n = len(as_array(next(iter(y.values())), y_name, method))
    return {name: y[name] if name in y else np.zeros(n, np.float32) for name in outputs}


def split_pair(value, name: str, method: str) -> tuple:
    """``(x_val, y_val, sample_weight_val or None)`` from ``validation_data``."""
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise ValueError(
            f"{method}: `{name}` must be a tuple (x_val, y_val) or (x_val, y_val, "
            f"sample_weight_val). Received: {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        )
    return value[0], value[1], (value[2] if len(value) == 3 else None)


def hold_out(model, x, y, weights, validation_split, validation_data, batch_size) -> tuple:
    """``(x, y, weights, x_val, y_val, weights_val)``: ``validation_data`` checked, or the
    last ``validation_split`` of the samples held out (before any shuffling; the sample
    weights are split with them), or no validation."""
    validation_split = check_real(
        validation_split, "fit", "validation_split", 0.0, 1.0, high_open=True
    )
    if validation_data is not None:
        x_val, y_val, w_val = split_pair(validation_data, "validation_data", "fit")
        names = ("validation_data[0]", "validation_data[1]")
        x_val, y_val, _, w_val = check_data(
            model, x_val, y_val, "fit", batch_size, names, sample_weight=w_val
        )
        return x, y, weights, x_val, y_val, w_val
    if not validation_split:
        return x, y, weights, None, None, None
    split_at = math.floor(len(x) * (1.0 - validation_split))
    if split_at in (0, len(x)):
        raise ValueError(
            f"fit: training data contains {len(x)} samples, which is not sufficient to split "
            "it into a validation and training set as specified by "
            f"`validation_split={validation_split}`. Either provide more data, or a different "
            "value for the `validation_split` argument."
        )
    first, rest = slice(None, split_at), slice(split_at, None)
    w, w_val = (None, None) if weights is None else (weights[first], weights[rest])
    return x[first], y[first], w, x[rest], y[rest], w_val
