"""Metrics that accumulate over batches the way Keras 3's do.

A metric turns ``(y_true, y_pred)`` for one batch into per-sample values (a Keras metric
function, averaged over every non-batch axis) and keeps a float32 running ``total`` and
``count``; ``result()`` is ``total / count``, so an epoch's value is the mean over samples,
not over batches (``keras/src/metrics/reduction_metrics.py``: ``Mean``/``MeanMetricWrapper``).

``'accuracy'`` (or ``'acc'``) is resolved from the shapes, as ``keras/src/trainers/
compile_utils.py`` does: binary when the output has one unit in its last axis, sparse
categorical when ``y`` has one axis fewer (or a trailing axis of 1 against several
classes), categorical otherwise.
"""

from __future__ import annotations

import numpy as np

from . import losses, missing
from .registry import Configurable, Registry
from .validation import check_bool, check_callable, check_int, check_name, check_real, is_float32

f32 = np.float32


# --------------------------------------------------------------------------- functions


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """1.0 where ``(y_pred > threshold)`` equals ``y_true``, element by element (Keras 3's
    function; the metric averages them)."""
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(f32)


def accuracy(y_true, y_pred):
    """1.0 where ``y_pred`` equals ``y_true`` exactly, element by element (Keras 3's
    ``accuracy`` function; the metric averages them)."""
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
    return (y_true == y_pred).astype(f32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot targets)."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(f32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals the integer label ``y_true``."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(f32)


# --------------------------------------------------------------------------- classes


class Metric(Configurable):
    """A running mean of ``fn(y_true, y_pred)`` over samples.

    ``direction`` is ``"up"`` for scores (accuracy) and ``"down"`` for errors, which
    ``EarlyStopping(mode='auto')`` uses.

    Parameters
    ----------
    name : None or str
        The name logged for it.
    dtype : None or ``"float32"``.
    **fn_kwargs : options of its function.

    Examples
    --------
    >>> import numpy as np
    >>> m = MeanAbsoluteError()
    >>> m.update_state(np.array([[1.0]]), np.array([[3.0]])); m.result()
    2.0
    >>> m.reset_state(); m.result()
    0.0
    """

    fn = None
    default_name = "metric"
    direction = "down"

    def __init__(self, name: str | None = None, dtype=None, **fn_kwargs):
        kind = type(self).__name__
        if dtype is not None and not is_float32(dtype):
            raise ValueError(
                f"{kind}: minicnn's metrics accumulate in float32; `dtype` must be None or "
                f"'float32'. Received: dtype={dtype!r}"
            )
        self.name = self.default_name if name is None else check_name(name, kind)
        self.fn_kwargs = fn_kwargs
        self.reset_state()

    def reset_state(self) -> None:
        self.total = f32(0)
        self.count = f32(0)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add one batch: ``y_true`` and ``y_pred`` of shape ``(batch, ...)``;
        ``sample_weight`` (a scalar, ``(batch,)`` or up to the values' shape) weighs each
        sample's values and counts as that many samples, as Keras's ``Mean``."""
        values = type(self).fn(np.asarray(y_true), np.asarray(y_pred), **self.fn_kwargs)
        self._accumulate(values, sample_weight)

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """``update_state`` then ``result()``, as Keras's ``metric(y_true, y_pred)``."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    @property
    def variables(self) -> list[np.ndarray]:
        """Copies of the state, ``[total, count]`` (Keras's ``metric.variables``)."""
        return [np.array(self.total, dtype=f32), np.array(self.count, dtype=f32)]

    def _accumulate(self, values, sample_weight=None) -> None:
        values = np.asarray(values, dtype=f32)
        if sample_weight is None:
            if values.ndim > 1:
                values = values.mean(axis=tuple(range(1, values.ndim)), dtype=f32)
            count = f32(values.shape[0] if values.ndim else 1)
        else:
            values, count = _weighted_samples(values, sample_weight, self.name)
        self.total = f32(self.total + values.sum(dtype=f32))
        self.count = f32(self.count + count)

    def result(self) -> float:
        """``total / count`` (0 before any update), as Keras's ``divide_no_nan``."""
        return float(self.total / self.count) if self.count else 0.0

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": "float32", **self.fn_kwargs}


def _weighted_samples(values, sample_weight, name):
    """Keras's ``reduce_to_samplewise_values`` for ``Mean``: the weighted per-sample values
    and the weight they count for. The weights meet the values by the rank rule, the
    values are averaged down to the weights' rank, the weights broadcast to them, and
    weights of rank > 1 averaged per sample."""
    w = np.asarray(sample_weight, dtype=f32)
    values, w = losses.squeeze_or_expand_to_same_rank(values, w)
    rank = w.ndim
    if values.ndim > rank:
        values = values.mean(axis=tuple(range(rank, values.ndim)), dtype=f32)
    try:
        w = np.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(
            f"metric '{name}': `sample_weight` of shape {np.shape(sample_weight)} does not "
            f"broadcast against the metric's values of shape {values.shape}."
        ) from None
    values = values * w
    if rank > 1:
        w = w.mean(axis=tuple(range(1, rank)), dtype=f32)
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)), dtype=f32)
    return values, f32(np.sum(w, dtype=f32))


class Accuracy(Metric):
    """The fraction of predictions that equal their targets exactly (Keras 3's
    ``Accuracy``; for class scores use ``"accuracy"``, which compile resolves to the
    binary, categorical or sparse accuracy).

    Parameters
    ----------
    name : None or str
        The name logged for it (``"accuracy"`` by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).

    Examples
    --------
    >>> import numpy as np
    >>> m = Accuracy()
    >>> m.update_state(np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]]))
    >>> m.result()
    0.75
    """

    fn = staticmethod(accuracy)
    default_name = "accuracy"
    direction = "up"

    def __init__(self, name=None, dtype=None):
        super().__init__(name, dtype)


class BinaryAccuracy(Metric):
    """The fraction of predictions on the right side of ``threshold`` (Keras 3's
    ``BinaryAccuracy``).

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : str, default ``"binary_accuracy"``
        The name logged for it.
    dtype : None or ``"float32"``.
    threshold : float, default 0.5
        Predictions above it count as 1.

    Examples
    --------
    >>> import numpy as np
    >>> m = BinaryAccuracy()
    >>> m.update_state(np.array([[1], [1], [0], [0]]), np.array([[0.98], [1], [0], [0.6]]))
    >>> m.result()
    0.75
    """

    fn = staticmethod(binary_accuracy)
    default_name = "binary_accuracy"
    direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        threshold = check_real(threshold, "BinaryAccuracy", "threshold")
        super().__init__(name, dtype, threshold=threshold)


class CategoricalAccuracy(Metric):
    """The fraction of samples whose ``argmax(y_pred)`` is the one-hot target's class
    (Keras 3's ``CategoricalAccuracy``).

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : None or str
        The name logged for it (its Keras name by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).
    **fn_kwargs : options of the metric's function (none for the built-ins).

    Examples
    --------
    >>> import numpy as np
    >>> m = CategoricalAccuracy()
    >>> y_true = np.array([[0, 0, 1], [0, 1, 0]])
    >>> m.update_state(y_true, np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    >>> m.result()
    0.5
    """

    fn = staticmethod(categorical_accuracy)
    default_name = "categorical_accuracy"
    direction = "up"


class SparseCategoricalAccuracy(Metric):
    """The fraction of samples whose ``argmax(y_pred)`` equals the integer label
    (Keras 3's ``SparseCategoricalAccuracy``).

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : None or str
        The name logged for it (its Keras name by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).
    **fn_kwargs : options of the metric's function (none for the built-ins).

    Examples
    --------
    >>> import numpy as np
    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state(np.array([2, 1]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    >>> m.result()
    0.5
    """

    fn = staticmethod(sparse_categorical_accuracy)
    default_name = "sparse_categorical_accuracy"
    direction = "up"


class MeanSquaredError(Metric):
    """The running mean of ``mean(square(y_true - y_pred), axis=-1)`` (Keras 3's
    ``MeanSquaredError`` metric, ``"mse"``).

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : None or str
        The name logged for it (its Keras name by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).
    **fn_kwargs : options of the metric's function (none for the built-ins).

    Examples
    --------
    >>> import numpy as np
    >>> m = MeanSquaredError()
    >>> m.update_state(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]]))
    >>> m.result()
    0.25
    """

    fn = staticmethod(losses.mean_squared_error)
    default_name = "mean_squared_error"


class MeanAbsoluteError(Metric):
    """The running mean of ``mean(abs(y_true - y_pred), axis=-1)`` (Keras 3's
    ``MeanAbsoluteError`` metric, ``"mae"``).

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : None or str
        The name logged for it (its Keras name by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).
    **fn_kwargs : options of the metric's function (none for the built-ins).

    Examples
    --------
    >>> import numpy as np
    >>> m = MeanAbsoluteError()
    >>> m.update_state(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]]))
    >>> m.result()
    0.25
    """

    fn = staticmethod(losses.mean_absolute_error)
    default_name = "mean_absolute_error"


class _CrossentropyMetric(Metric):
    """What the three crossentropy metrics share: Keras's explicit arguments, checked as
    the losses check them, handed to the loss function."""

    def __init__(self, name=None, dtype=None, **options):
        kind = type(self).__name__
        options["from_logits"] = check_bool(options["from_logits"], kind, "from_logits")
        if "label_smoothing" in options:
            options["label_smoothing"] = check_real(
                options["label_smoothing"], kind, "label_smoothing", 0.0, 1.0
            )
        if "axis" in options:
            options["axis"] = check_int(options["axis"], kind, "axis")
        super().__init__(name, dtype, **options)


_CROSSENTROPY_DOC = """

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    name : str
        The name logged for it (its Keras name by default).
    dtype : None or ``"float32"`` (minicnn's metrics accumulate in float32).
    from_logits : bool, default False
        ``y_pred`` are logits rather than probabilities.{extra}

    Examples
    --------
    >>> import numpy as np
    >>> m = {cls}()
    >>> m.update_state({y}, np.array([[0.1, 0.9], [0.8, 0.2]]))
    >>> round(m.result(), 4)
    {out}
    """
_SMOOTHING = (
    "\n    label_smoothing : float in [0, 1], default 0\n        Targets moved towards "
    "uniform (binary: towards 0.5)."
)
_AXIS = "\n    axis : int, default -1\n        The class axis."


class BinaryCrossentropy(_CrossentropyMetric):
    """The running mean of the binary crossentropy (Keras 3's ``BinaryCrossentropy``
    metric, ``"binary_crossentropy"`` or ``"bce"``)."""

    fn = staticmethod(losses.binary_crossentropy)
    default_name = "binary_crossentropy"

    def __init__(
        self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0
    ):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_CrossentropyMetric):
    """The running mean of the categorical crossentropy, one-hot targets (Keras 3's
    ``CategoricalCrossentropy`` metric, ``"categorical_crossentropy"``)."""

    fn = staticmethod(losses.categorical_crossentropy)
    default_name = "categorical_crossentropy"

    def __init__(
        self,
        name="categorical_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
        axis=-1,
    ):
        super().__init__(
            name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis
        )


class SparseCategoricalCrossentropy(_CrossentropyMetric):
    """The running mean of the categorical crossentropy, integer targets (Keras 3's
    ``SparseCategoricalCrossentropy`` metric, ``"sparse_categorical_crossentropy"``)."""

    fn = staticmethod(losses.sparse_categorical_crossentropy)
    default_name = "sparse_categorical_crossentropy"

    def __init__(
        self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1
    ):
        super().__init__(name, dtype, from_logits=from_logits, axis=axis)


for _cls, _extra, _y, _out in (
    (BinaryCrossentropy, _SMOOTHING, "np.array([[0.0, 1.0], [1.0, 0.0]])", "0.1643"),
    (CategoricalCrossentropy, _SMOOTHING + _AXIS, "np.array([[0.0, 1.0], [1.0, 0.0]])", "0.1643"),
    (SparseCategoricalCrossentropy, _AXIS, "np.array([1, 0])", "0.1643"),
):
    _cls.__doc__ += _CROSSENTROPY_DOC.format(extra=_extra, cls=_cls.__name__, y=_y, out=_out)


class MeanMetricWrapper(Metric):
    """A metric from a function ``fn(y_true, y_pred) -> per-sample values``, averaged
    over samples like the built-ins (Keras's ``MeanMetricWrapper``). Its direction is
    unknown, so ``EarlyStopping`` needs an explicit ``mode`` to monitor it.

    A running mean over samples: ``update_state(y_true, y_pred)`` adds a batch,
    ``result()`` gives the mean so far, ``reset_state()`` starts again (``fit`` resets it
    each epoch).

    Parameters
    ----------
    fn : callable
        ``fn(y_true, y_pred)`` giving one value per sample (or more, averaged).
    name : None or str
        The name logged for it (the function's name by default).
    dtype : None or ``"float32"``.

    Examples
    --------
    >>> import numpy as np
    >>> m = MeanMetricWrapper(lambda t, p: np.abs(t - p).max(axis=-1), name="max_error")
    >>> m.update_state(np.array([[0.0, 1.0]]), np.array([[0.5, 1.0]]))
    >>> m.name, m.result()
    ('max_error', 0.5)
    """

    direction = None

    def __init__(self, fn, name: str | None = None, dtype=None):
        self.wrapped = check_callable(fn, "MeanMetricWrapper", "fn")
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self._accumulate(self.wrapped(y_true, y_pred), sample_weight)


REGISTRY = Registry("metrics", "metric")
# Keras's metrics.get("accuracy") is an Accuracy; compile reads "accuracy" (any case) by shape.
REGISTRY.register(Accuracy, "accuracy")
REGISTRY.register(BinaryAccuracy, "binary_accuracy")
REGISTRY.register(CategoricalAccuracy, "categorical_accuracy")
REGISTRY.register(SparseCategoricalAccuracy, "sparse_categorical_accuracy")
REGISTRY.register(MeanSquaredError, *losses.MSE_ALIASES)
REGISTRY.register(MeanAbsoluteError, *losses.MAE_ALIASES)
REGISTRY.register(BinaryCrossentropy, "binary_crossentropy", "bce", "BCE")
REGISTRY.register(CategoricalCrossentropy, "categorical_crossentropy")
REGISTRY.register(SparseCategoricalCrossentropy, "sparse_categorical_crossentropy")
# "accuracy" picks one of the accuracies from the data's shapes (see ``get``).
ACCURACY = ("accuracy", "acc")


def check_identifier(identifier) -> None:
    """ValueError for an identifier ``get`` could never resolve (checked at ``compile``)."""
    if isinstance(identifier, Metric) or (
        callable(identifier) and not isinstance(identifier, type)
    ):
        return
    if isinstance(identifier, str) and (
        identifier.lower() in ACCURACY or REGISTRY.lookup(identifier) is not None
    ):
        return
    raise REGISTRY.unknown(identifier, f"a Metric, a function (y_true, y_pred), {ACCURACY} or ")


def get(identifier, y_shape: tuple | None = None, output_shape: tuple | None = None):
    """A fresh ``Metric`` for an identifier (None for None, as Keras's ``metrics.get``);
    a string keeps its spelling as the metric's name. Given the per-sample target and
    output shapes (as ``compile`` gives them), ``"accuracy"`` or ``"acc"`` (any case) means
    what Keras's ``compile`` makes of it: binary for one output unit, sparse for integer
    labels, categorical for one-hot targets. Without them ``"accuracy"`` is an
    ``Accuracy`` (exact equality), as Keras's ``metrics.get`` answers.

    Parameters
    ----------
    identifier : None, name, Metric, Metric class or callable
    y_shape, output_shape : None or tuples
        The shapes of one target and one output, without the batch axis (they decide
        what ``"accuracy"`` means).

    Returns
    -------
    The Metric, or None.

    Examples
    --------
    >>> get("mse")
    <MeanSquaredError name='mse'>
    >>> get("accuracy", (), (3,))
    <SparseCategoricalAccuracy name='accuracy'>
    >>> get("acc", (1,), (1,))
    <BinaryAccuracy name='acc'>
    >>> get("accuracy")
    <Accuracy name='accuracy'>
    """
    if identifier is None:
        return None
    check_identifier(identifier)
    if (
        isinstance(identifier, str)
        and identifier.lower() in ACCURACY
        and y_shape is not None
        and output_shape is not None
    ):
        y_rank, out_rank = len(y_shape) + 1, len(output_shape) + 1
        y_last = y_shape[-1] if y_shape else None
        out_last = output_shape[-1] if output_shape else None
        if out_last == 1:
            cls = BinaryAccuracy
        elif y_rank < out_rank or (y_last == 1 and out_last > 1):
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(name=identifier)
    return REGISTRY.get(
        identifier, base=Metric, make=lambda cls, name: cls(name=name), wrap=MeanMetricWrapper
    )


def serialize(metric) -> str | dict:
    """A string identifier stays a string; a Metric becomes ``{"class_name", "config"}``.

    Parameters
    ----------
    metric : str or Metric

    Returns
    -------
    The string or the dict.

    Examples
    --------
    >>> serialize("accuracy")
    'accuracy'
    """
    if isinstance(metric, str):
        check_identifier(metric)
        return metric
    return REGISTRY.serialize(metric)


def deserialize(config) -> str | Metric:
    """The inverse of ``serialize``.

    Parameters
    ----------
    config : str or dict

    Returns
    -------
    The string, or a new Metric.

    Examples
    --------
    >>> deserialize({"class_name": "BinaryAccuracy", "config": {}})
    <BinaryAccuracy name='binary_accuracy'>
    """
    if isinstance(config, str):
        check_identifier(config)
        return config
    return REGISTRY.deserialize(config)


__all__ = ["Metric", "MeanMetricWrapper", *REGISTRY.classes, "get", "serialize", "deserialize"]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
