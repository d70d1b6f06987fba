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
    indexing takes the same samples from each, ``batch`` packs them as a list or a dict."""

    def __init__(self, arrays: list, keys):
        self.arrays, self.keys = arrays, keys

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> ArrayGroup:
        return ArrayGroup([a[index] for a in self.arrays], self.keys)

    def batch(self, index=slice(None)):
        items = [as_batch(a, index) for a in self.arrays]
        return items if self.keys == "list" else dict(zip(self.keys, items))


def take(x, index):
    """A float32 batch of ``x`` (one array, or a group of arrays read together)."""
    return x.batch(index) if isinstance(x, ArrayGroup) else as_batch(x, index)


def check_inputs(model, x, x_name: str, method: str):
    """``x`` as one array, or as ``ArrayGroup`` for a model of several inputs."""
    if model._input_keys is None:
        return as_array(x, x_name, method)
    values = model._input_values(x)
    labels = range(len(values)) if model._input_keys == "list" else model._input_keys
    arrays = [as_array(a, f"{x_name}[{k!r}]", method) for k, a in zip(labels, values)]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(
            f"{method}: data cardinality is ambiguous. Make sure all arrays contain the same "
            f"number of samples. '{x_name}' sizes: {[len(a) for a in arrays]}."
        )
    return ArrayGroup(arrays, model._input_keys)


def check_data(model, x, y, method: str, chunk: int, names=("x", "y")) -> tuple:
    """Check ``x``/``y`` against the model and its compiled loss(es) before any step;
    returns ``(x, y, output_shape)`` with the arrays uncopied. For a model of several
    outputs ``y`` is a list (output order) or a dict by output name, returned as an
    ``ArrayGroup``, and ``output_shape`` lists the outputs' shapes. ``names`` are the
    arguments' names in messages (``validation_data[0]``... for validation data)."""
    x_name, y_name = names
    several = model._output_keys is not None
    if several:
        ys = _targets(model, y, y_name, method)
        labels = [f"{y_name}[{name!r}]" for name in model.output_names]
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
        x = ArrayGroup(model.adjust_ranks(x.arrays), x.keys)
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
    if several:
        return x, ArrayGroup(ys, "list"), out_shapes
    return x, ys[0], output_shape


def _targets(model, y, y_name: str, method: str) -> list:
    """The targets of a model of several outputs, one array per output in output order,
    from a list or a dict by output name."""
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
    return [as_array(v, f"{y_name}[{name!r}]", method) for v, name in zip(y, outputs)]


def split_pair(value, name: str, method: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(
            f"{method}: `{name}` must be a tuple (x_val, y_val); sample weights are not "
            f"supported. Received: {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        )
    return value[0], value[1]


def hold_out(model, x, y, validation_split, validation_data, batch_size) -> tuple:
    """``(x, y, x_val, y_val)``: ``validation_data`` checked, or the last
    ``validation_split`` of the samples held out (before any shuffling), or no validation."""
    validation_split = check_real(
        validation_split, "fit", "validation_split", 0.0, 1.0, high_open=True
    )
    if validation_data is not None:
        x_val, y_val = split_pair(validation_data, "validation_data", "fit")
        names = ("validation_data[0]", "validation_data[1]")
        x_val, y_val, _ = check_data(model, x_val, y_val, "fit", batch_size, names)
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
