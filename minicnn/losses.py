"""Losses with Keras 3's formulas, reduction and names.

A loss is called as ``loss(y_true, y_pred)`` and returns a float32 scalar; it is pure and
traceable by ``autograd`` in ``y_pred``, so training differentiates it directly. The math
follows ``keras/src/losses/losses.py`` and the backends' ``nn.py``:

- a per-element function (``call``) reduces the last axis (mean for MSE/MAE/binary
  crossentropy, sum for categorical crossentropy), giving shape ``(batch, *rest)``;
- the reduction ``"sum_over_batch_size"`` (Keras's default) sums those values and divides
  by their count, i.e. the mean over the batch and every non-class axis;
- probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (``keras.backend.epsilon()``), and
  categorical probabilities are first divided by their sum; with ``from_logits=True`` the
  stable forms are used (``log_softmax``; ``softplus(x) - x*t``).
- ``y_true`` is cast to float32 and, when its rank differs from ``y_pred``'s by one with a
  trailing axis of 1, squeezed or expanded to match (Keras's ``squeeze_or_expand_to_same_rank``).
"""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np

from . import activations, missing
from .registry import Configurable, Registry
from .validation import check_bool, check_int, check_name, check_real, is_float32

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)


def squeeze_or_expand_to_same_rank(y_true, y_pred):
    """Keras's rule: if the ranks differ by exactly one and the longer array ends in a size-1
    axis, drop that axis (or, for a rank-1 partner, add one to the partner)."""
    t, p = len(np.shape(y_true)), len(np.shape(y_pred))
    if t == p + 1 and np.shape(y_true)[-1] == 1:
        return (y_true, anp.expand_dims(y_pred, -1)) if p == 1 else (y_true[..., 0], y_pred)
    if p == t + 1 and np.shape(y_pred)[-1] == 1:
        return (anp.expand_dims(y_true, -1), y_pred) if t == 1 else (y_true, y_pred[..., 0])
    return y_true, y_pred


def _same_shape(y_true, y_pred) -> None:
    """Keras's crossentropy check: targets and outputs of one shape (after the rank rule),
    rather than letting numpy broadcast ``(3, 1)`` against ``(3, 3)`` to a wrong number."""
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={np.shape(y_true)}, output.shape={np.shape(y_pred)}"
        )


def _mean_last(values):
    # sum / python int rather than anp.mean, whose VJP divides by a numpy integer and would
    # hand back float64 gradients for float32 inputs.
    return anp.sum(values, axis=-1) / values.shape[-1]


# --------------------------------------------------------------------------- functions


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)`` per sample.

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., classes_or_units)``

    Returns
    -------
    Per-sample values, shape ``(batch, ...)`` (the last axis reduced); differentiable by
    autograd in ``y_pred``.

    Examples
    --------
    >>> import numpy as np
    >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> mean_squared_error(y_true, y_pred).round(4).tolist()
    [0.04, 0.26]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last(anp.square(y_true - y_pred))


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)`` per sample.

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., classes_or_units)``

    Returns
    -------
    Per-sample values, shape ``(batch, ...)`` (the last axis reduced); differentiable by
    autograd in ``y_pred``.

    Examples
    --------
    >>> import numpy as np
    >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> mean_absolute_error(y_true, y_pred).round(4).tolist()
    [0.2, 0.5]
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last(anp.abs(y_true - y_pred))


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
):
    """Binary crossentropy per sample (mean over the last axis); ``p`` clipped to
    ``[1e-7, 1 - 1e-7]``, or the stable ``softplus(x) - x t`` form for logits.

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., classes_or_units)``
    from_logits : bool, default False
        ``y_pred`` are logits.
    label_smoothing : float in [0, 1], default 0
        Targets moved towards 0.5.
    axis : int, default -1
        The axis the mean is taken over.

    Returns
    -------
    Per-sample values, shape ``(batch, ...)`` (``axis`` reduced); differentiable by
    autograd in ``y_pred``.

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> np.round(binary_crossentropy(y, p), 4).tolist()
    [0.1054, 0.2231]
    """
    _same_shape(y_true, y_pred)
    y_true, y_pred = _class_axis_last(y_true, y_pred, axis, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        # softplus(x) - x*t: stable, and unlike max(x, 0) - x*t + log1p(exp(-|x|)) its
        # gradient is right at x = 0 too (the kinks of max and |.| would cancel wrongly).
        bce = activations.softplus(y_pred) - y_pred * y_true
    else:
        p = anp.clip(y_pred, EPSILON, 1.0 - EPSILON)
        bce = -(y_true * anp.log(p) + (1.0 - y_true) * anp.log(1.0 - p))
    return _mean_last(bce)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
):
    """Categorical crossentropy per sample, ``-sum(t log p)`` over the last axis.

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., classes_or_units)``
    from_logits : bool, default False
        ``y_pred`` are logits (log-softmax is used).
    label_smoothing : float in [0, 1], default 0
        Targets moved towards uniform.
    axis : int, default -1
        The class axis. A class axis of size 1 warns, as Keras does (SyntaxWarning:
        with one class the loss is always 0; binary crossentropy is meant).

    Returns
    -------
    Per-sample values, shape ``(batch, ...)`` (``axis`` reduced); differentiable by
    autograd in ``y_pred``.

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> np.round(categorical_crossentropy(y, p), 4).tolist()
    [0.1054, 0.2231]
    """
    _same_shape(y_true, y_pred)
    y_true, y_pred = _class_axis_last(y_true, y_pred, axis, "categorical_crossentropy")
    if np.shape(y_pred)[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, "
            f"num_classes) with num_classes > 1. Received: y_pred.shape={np.shape(y_pred)}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / np.shape(y_true)[-1]
    return -anp.sum(y_true * _log_probabilities(y_pred, from_logits), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """Categorical crossentropy per sample with integer labels: ``y_true`` has the
    shape of ``y_pred`` without its class axis (or with a trailing axis of 1).

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., classes_or_units)``
    from_logits : bool, default False
        ``y_pred`` are logits.
    axis : int, default -1
        The class axis of ``y_pred``; labels of the same rank with a 1 there are squeezed.

    Returns
    -------
    Per-sample values, shape ``(batch, ...)`` (``axis`` reduced); differentiable by
    autograd in ``y_pred``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> np.round(sparse_categorical_crossentropy(np.array([1, 0]), p), 4).tolist()
    [0.1054, 0.2231]
    """
    labels = np.asarray(y_true)
    rank = np.ndim(y_pred)
    axis = _axis_of(axis, rank, "sparse_categorical_crossentropy")
    if labels.ndim == rank and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    if axis != rank - 1:
        y_pred = anp.moveaxis(y_pred, axis, -1)
    classes = np.shape(y_pred)[-1]
    one_hot = (labels.astype(np.int64)[..., None] == np.arange(classes)).astype(np.float32)
    return -anp.sum(one_hot * _log_probabilities(y_pred, from_logits), axis=-1)


def _axis_of(axis, rank, owner):
    axis = check_int(axis, owner, "axis")
    if not -rank <= axis < rank:
        raise ValueError(
            f"{owner}: `axis`={axis} is not an axis of outputs of rank {rank} (axes "
            f"{-rank}..{rank - 1})."
        )
    return axis % rank


def _class_axis_last(y_true, y_pred, axis, owner):
    """``y_true`` and ``y_pred`` with their ``axis`` moved last (they share a shape)."""
    rank = np.ndim(y_pred)
    axis = _axis_of(axis, rank, owner)
    if axis == rank - 1:
        return y_true, y_pred
    return anp.moveaxis(y_true, axis, -1), anp.moveaxis(y_pred, axis, -1)


def _log_probabilities(y_pred, from_logits):
    if from_logits:
        return activations.log_softmax(y_pred, axis=-1)
    p = y_pred / anp.sum(y_pred, axis=-1, keepdims=True)
    return anp.log(anp.clip(p, EPSILON, 1.0 - EPSILON))


# --------------------------------------------------------------------------- classes


class Loss(Configurable):
    """Base class: ``loss(y_true, y_pred)`` applies ``call`` then the reduction.

    Parameters
    ----------
    reduction : ``"sum_over_batch_size"`` (default; same as ``"mean"``),
        ``"mean_with_sample_weight"`` (divides by the sum of the sample weights), ``"sum"``, or
        ``"none"``/None (the unreduced per-element values).
    name : the loss's name (the snake_case function name by default).
    **fn_kwargs : options passed to the loss's function (``from_logits``...).

    Examples
    --------
    >>> import numpy as np
    >>> class Half(Loss):
    ...     fn = staticmethod(lambda t, p: 0.5 * (t - p)[..., 0] ** 2)
    >>> float(Half()(np.array([[1.0]]), np.array([[3.0]])))
    2.0
    """

    fn = None
    default_name = "loss"
    # y_true has y_pred's shape ("same"), or y_pred's shape without the class axis ("sparse");
    # None: not checked.
    target = "same"

    def __init__(self, reduction="sum_over_batch_size", name: str | None = None, **fn_kwargs):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: Invalid value for argument `reduction`. Expected one "
                f"of {list(REDUCTIONS)}. Received: reduction={reduction!r}"
            )
        kind = type(self).__name__
        if "from_logits" in fn_kwargs:
            fn_kwargs["from_logits"] = check_bool(fn_kwargs["from_logits"], kind, "from_logits")
        if "label_smoothing" in fn_kwargs:
            fn_kwargs["label_smoothing"] = check_real(
                fn_kwargs["label_smoothing"], kind, "label_smoothing", 0.0, 1.0
            )
        self.reduction = reduction
        self.name = self.default_name if name is None else check_name(name, kind)
        self.fn_kwargs = fn_kwargs

    def call(self, y_true, y_pred):
        """Unreduced values, shape ``(batch, *dims[:-1])``. As Keras's ``LossFunctionWrapper``,
        first squeezes or expands a trailing axis of 1 so ``(n,)`` targets meet ``(n, 1)``
        outputs element by element instead of broadcasting to ``(n, n)``."""
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return type(self).fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss (a float32 scalar unless ``reduction`` is none).

        ``sample_weight``, shape ``(batch,)`` (or the unreduced values' shape), scales
        each sample's values before the reduction, which still divides by the number of
        values, as Keras's ``sum_over_batch_size`` does. A per-sample weight applies to
        all of a sample's values (a feature map's cells too, where Keras 3 broadcasts the
        weights against the last axis instead and fails)."""
        y_true = np.asarray(y_true, dtype=np.float32)
        return self.reduce(self.call(y_true, y_pred), sample_weight)

    def reduce(self, values, sample_weight=None):
        """``values`` (unreduced, per sample or per element) weighted by ``sample_weight``
        and reduced by ``reduction``: the second half of ``__call__``."""
        weights = None
        if sample_weight is not None:
            weights = _weights_like(sample_weight, np.shape(values), self.name)
            values = values * weights
        if self.reduction in ("none", None) or np.ndim(values) == 0:
            return values
        total = anp.sum(values)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and weights is not None:
            # Keras divides by the sum of the weights as given (before broadcasting to the
            # values), and gives 0 where that sum is 0 (divide_no_nan).
            divisor = np.float32(np.sum(weights))
            return total / divisor if divisor != 0 else total * np.float32(0)
        return total / int(np.size(values))

    def check_target(self, y_shape: tuple, output_shape: tuple, where: str, name="y") -> None:
        """Raise ValueError if targets of ``y_shape`` cannot be compared with model outputs of
        ``output_shape`` (both without the batch axis) by this loss; the message names
        the argument ``name`` (``y``, ``validation_data[1]``...)."""
        if self.target is None:  # a custom function: its own business
            return
        expected = self.expected_target_shape(output_shape)
        shape = tuple(y_shape)
        ok = shape == expected
        if not ok and self.target == "same":
            # Keras squeezes or expands one trailing axis of size 1.
            ok = shape + (1,) == expected or shape == expected + (1,)
        elif not ok:
            ok = shape == expected + (1,)
        if not ok:
            raise ValueError(
                f"{where}: `{name}` of per-sample shape {shape} is incompatible with the model "
                f"output of per-sample shape {tuple(output_shape)} for loss '{self.name}', "
                f"which expects targets of per-sample shape {expected}."
            )

    def expected_target_shape(self, output_shape: tuple) -> tuple:
        output_shape = tuple(output_shape)
        return output_shape[:-1] if self.target == "sparse" else output_shape

    def get_config(self) -> dict:
        """Constructor arguments; ``type(loss).from_config(config)`` rebuilds it."""
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}


def _weights_like(sample_weight, shape: tuple, name: str) -> np.ndarray:
    """``sample_weight`` shaped to multiply unreduced loss values of ``shape``."""
    w = np.asarray(sample_weight, dtype=np.float32)
    if w.shape == tuple(shape) or w.ndim == 0:  # a scalar weighs every value alike
        return w
    if w.ndim == len(shape) + 1 and w.shape[-1] == 1:  # (batch, 1) for values (batch,)
        w = w[..., 0]
    if w.ndim == 1 and shape and w.shape[0] == shape[0]:
        return w.reshape(w.shape[0], *([1] * (len(shape) - 1)))
    if w.shape == tuple(shape):
        return w
    raise ValueError(
        f"loss '{name}': `sample_weight` of shape {w.shape} matches neither the batch "
        f"({shape[0] if shape else 'none'} samples) nor the loss values {tuple(shape)}."
    )


class MeanSquaredError(Loss):
    """``mean(square(y_true - y_pred))`` (Keras 3's ``MeanSquaredError``; ``"mse"``).

    Parameters
    ----------

    reduction : ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
        ``"none"`` / None (the unreduced per-sample values).
    name : None or str
        The loss's name (in logs); the snake-case class name by default.

    Input shape
    -----------
    ``loss(y_true, y_pred, sample_weight=None)``: ``y_pred`` of shape ``(batch, ...)``;
    ``y_true`` of the same shape (a trailing axis of 1 is squeezed or added, as Keras does).

    Output shape
    ------------
    A float32 scalar (``(batch, ...)`` values for ``reduction=None``).

    Examples
    --------
    >>> import numpy as np
    >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> float(MeanSquaredError()(y_true, y_pred))
    0.15
    """

    fn = staticmethod(mean_squared_error)
    default_name = "mean_squared_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(reduction, name)


class MeanAbsoluteError(Loss):
    """``mean(abs(y_true - y_pred))`` (Keras 3's ``MeanAbsoluteError``; ``"mae"``).

    Parameters
    ----------

    reduction : ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
        ``"none"`` / None (the unreduced per-sample values).
    name : None or str
        The loss's name (in logs); the snake-case class name by default.

    Input shape
    -----------
    ``loss(y_true, y_pred, sample_weight=None)``: ``y_pred`` of shape ``(batch, ...)``;
    ``y_true`` of the same shape (a trailing axis of 1 is squeezed or added, as Keras does).

    Output shape
    ------------
    A float32 scalar (``(batch, ...)`` values for ``reduction=None``).

    Examples
    --------
    >>> import numpy as np
    >>> y_true, y_pred = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> float(MeanAbsoluteError()(y_true, y_pred))
    0.35
    """

    fn = staticmethod(mean_absolute_error)
    default_name = "mean_absolute_error"

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(reduction, name)


class _Axis:
    """``axis``: which axis of ``y_pred`` holds the classes (Keras's crossentropy
    argument; -1, the last, by default), handed to the loss function like its other
    options."""

    def _set_axis(self, axis, dtype) -> None:
        kind = type(self).__name__
        self.axis = check_int(axis, kind, "axis")
        if dtype is not None and not is_float32(dtype):
            raise ValueError(
                f"{kind}: minicnn computes losses in float32; `dtype` must be None or "
                f"'float32'. Received: dtype={dtype!r}"
            )
        self.fn_kwargs["axis"] = self.axis


class _Crossentropy(_Axis, Loss):
    """The constructor BinaryCrossentropy and CategoricalCrossentropy share (Keras's
    arguments; ``name`` defaults to the loss's function name)."""

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        super().__init__(reduction, name, from_logits=from_logits, label_smoothing=label_smoothing)
        self._set_axis(axis, dtype)


class BinaryCrossentropy(_Crossentropy):
    """Crossentropy of independent 0/1 targets, ``-(t log p + (1 - t) log(1 - p))``
    averaged over the last axis; ``y_pred`` are probabilities (after a sigmoid) or, with
    ``from_logits=True``, logits (Keras 3's ``BinaryCrossentropy``).

    Parameters
    ----------
    from_logits : bool, default False
        ``y_pred`` are logits (no sigmoid/softmax applied) rather than probabilities.
    label_smoothing : float in [0, 1], default 0
        Moves targets towards uniform: ``t * (1 - s) + s / classes``.
    axis : int, default -1
        The class axis.
    dtype : None or ``"float32"``.
    reduction : ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
        ``"none"`` / None (the unreduced per-sample values).
    name : None or str
        The loss's name (in logs); the snake-case class name by default.

    Input shape
    -----------
    ``loss(y_true, y_pred, sample_weight=None)``: ``y_pred`` of shape ``(batch, ...)``;
    ``y_true`` of the same shape (a trailing axis of 1 is squeezed or added, as Keras does).

    Output shape
    ------------
    A float32 scalar (``(batch, ...)`` values for ``reduction=None``).

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> round(float(BinaryCrossentropy()(y, p)), 4)
    0.1643
    """

    fn = staticmethod(binary_crossentropy)
    default_name = "binary_crossentropy"


class CategoricalCrossentropy(_Crossentropy):
    """Crossentropy of one-hot targets, ``-sum(t log p)`` over the class axis; ``y_pred``
    are probabilities (normalised to sum to 1 first, as Keras does) or logits (Keras 3's
    ``CategoricalCrossentropy``).

    Parameters
    ----------
    from_logits : bool, default False
        ``y_pred`` are logits (no sigmoid/softmax applied) rather than probabilities.
    label_smoothing : float in [0, 1], default 0
        Moves targets towards uniform: ``t * (1 - s) + s / classes``.
    axis : int, default -1
        The class axis.
    dtype : None or ``"float32"``.
    reduction : ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
        ``"none"`` / None (the unreduced per-sample values).
    name : None or str
        The loss's name (in logs); the snake-case class name by default.

    Input shape
    -----------
    ``loss(y_true, y_pred, sample_weight=None)``: ``y_pred`` of shape ``(batch, ...)``;
    ``y_true`` of the same shape (a trailing axis of 1 is squeezed or added, as Keras does).

    Output shape
    ------------
    A float32 scalar (``(batch, ...)`` values for ``reduction=None``).

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> round(float(CategoricalCrossentropy()(y, p)), 4)
    0.1643
    """

    fn = staticmethod(categorical_crossentropy)
    default_name = "categorical_crossentropy"


class SparseCategoricalCrossentropy(_Axis, Loss):
    """Categorical crossentropy with integer labels ``0 .. classes-1`` as targets (Keras
    3's ``SparseCategoricalCrossentropy``): ``y_true`` has ``y_pred``'s shape without the
    class axis (or with a trailing axis of 1).

    Parameters
    ----------
    from_logits : bool, default False
        ``y_pred`` are logits rather than probabilities.
    ignore_class : must be None (a masking option; minicnn implements no masking).
    axis : int, default -1
        The class axis of ``y_pred``.
    dtype : None or ``"float32"``.
    reduction : ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
        ``"none"`` / None (the unreduced per-sample values).
    name : None or str
        The loss's name (in logs); the snake-case class name by default.

    Input shape
    -----------
    ``loss(y_true, y_pred, sample_weight=None)``: ``y_pred`` of shape ``(batch, ...)``;
    ``y_true`` of the same shape (a trailing axis of 1 is squeezed or added, as Keras does).

    Output shape
    ------------
    A float32 scalar (``(batch, ...)`` values for ``reduction=None``).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> round(float(SparseCategoricalCrossentropy()(np.array([1, 0]), p)), 4)
    0.1643
    """

    fn = staticmethod(sparse_categorical_crossentropy)
    default_name = "sparse_categorical_crossentropy"
    target = "sparse"

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        if ignore_class is not None:
            raise ValueError(
                "SparseCategoricalCrossentropy: `ignore_class` masks labels, and minicnn does "
                f"not implement masking. Received: ignore_class={ignore_class!r}"
            )
        super().__init__(reduction, name, from_logits=from_logits)
        self._set_axis(axis, dtype)


class LossFunctionWrapper(Loss):
    """A loss from a function ``fn(y_true, y_pred) -> per-sample values`` (written with
    ``autograd.numpy`` so it can be differentiated), as Keras wraps a function given to
    ``compile``. Not serializable: saving needs a built-in loss.

    Parameters
    ----------
    fn : callable
        ``fn(y_true, y_pred)`` giving per-sample values.
    reduction : ``"sum_over_batch_size"``, ``"sum"`` or ``"none"``/None.
    name : None or str

    Examples
    --------
    >>> import numpy as np
    >>> square = LossFunctionWrapper(lambda t, p: ((t - p) ** 2)[..., 0], name="sq")
    >>> float(square(np.array([[1.0]]), np.array([[3.0]])))
    4.0
    """

    target = None

    def __init__(self, fn, reduction="sum_over_batch_size", name: str | None = None):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: `fn` must be callable. Received: {fn!r}")
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.wrapped = fn

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.wrapped(y_true, y_pred)

    def get_config(self) -> dict:
        raise TypeError(
            f"Loss '{self.name}' wraps the custom function {self.wrapped!r}, which cannot be "
            "serialized; compile with a built-in loss to save the compile settings."
        )


# Keras's string identifiers: class names, function names and the short aliases. The
# aliases of the two errors are shared with the metrics of the same names.
MSE_ALIASES = ("mean_squared_error", "mse", "MSE")
MAE_ALIASES = ("mean_absolute_error", "mae", "MAE")
REGISTRY = Registry("losses", "loss")
REGISTRY.register(MeanSquaredError, *MSE_ALIASES)
REGISTRY.register(MeanAbsoluteError, *MAE_ALIASES)
REGISTRY.register(BinaryCrossentropy, "binary_crossentropy", "bce", "BCE")
REGISTRY.register(CategoricalCrossentropy, "categorical_crossentropy")
REGISTRY.register(SparseCategoricalCrossentropy, "sparse_categorical_crossentropy")
# What Keras's losses.get gives for a function name or alias: the function itself.
_FUNCTIONS = {
    **dict.fromkeys(MSE_ALIASES, mean_squared_error),
    **dict.fromkeys(MAE_ALIASES, mean_absolute_error),
    **dict.fromkeys(("binary_crossentropy", "bce", "BCE"), binary_crossentropy),
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def get(identifier):
    """Keras 3's ``losses.get``: a function name or alias (``"mse"``,
    ``"binary_crossentropy"``) gives the loss function, a class name or a
    ``{"class_name", "config"}`` dict a ``Loss``; a Loss or a function is returned as it is.

    Parameters
    ----------
    identifier : name, dict, Loss, Loss class, callable or None

    Returns
    -------
    The function or Loss, or None for None; a ValueError listing the names for an
    unknown one.

    Examples
    --------
    >>> get("mse") is mean_squared_error
    True
    >>> get("MeanAbsoluteError")
    <MeanAbsoluteError name='mean_absolute_error'>
    """
    if isinstance(identifier, str) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    if callable(identifier) and not isinstance(identifier, (Loss, type)):
        return identifier
    return resolve(identifier)


def resolve(identifier) -> Loss | None:
    """The ``Loss`` compile trains with: from a Keras name (``"mse"``,
    ``"binary_crossentropy"``, ``"CategoricalCrossentropy"``...), a ``{"class_name",
    "config"}`` dict, a ``Loss`` instance or class, or a function ``fn(y_true, y_pred)``
    (wrapped as Keras's compile wraps it); a string keeps its spelling as the loss's name.

    Parameters
    ----------
    identifier : name, dict, Loss, Loss class, callable or None

    Returns
    -------
    The Loss, or None for None; a ValueError listing the names for an unknown one.

    Examples
    --------
    >>> resolve("mae")
    <MeanAbsoluteError name='mae'>
    >>> resolve(None) is None
    True
    """
    if identifier is None:
        return None
    return REGISTRY.get(
        identifier,
        base=Loss,
        make=lambda cls, name: cls() if name == cls.__name__ else cls(name=name),
        wrap=LossFunctionWrapper,
        expected="a Loss, a function (y_true, y_pred), or ",
    )


def serialize(loss: Loss) -> dict:
    """``{"class_name", "config"}`` of a built-in loss, as Keras writes it.

    Parameters
    ----------
    loss : a Loss of minicnn's classes

    Returns
    -------
    A dict that ``deserialize`` reads back.

    Examples
    --------
    >>> serialize(MeanAbsoluteError())["class_name"]
    'MeanAbsoluteError'
    """
    if isinstance(loss, LossFunctionWrapper):
        loss.get_config()  # raises, naming the custom function
    return REGISTRY.serialize(loss)


def deserialize(config) -> Loss:
    """A new loss from ``serialize``'s dict; only minicnn's loss classes are built.

    Parameters
    ----------
    config : dict ``{"class_name", "config"}``

    Returns
    -------
    The Loss.

    Examples
    --------
    >>> deserialize({"class_name": "MeanAbsoluteError", "config": {}})
    <MeanAbsoluteError name='mean_absolute_error'>
    """
    return REGISTRY.deserialize(config)


__all__ = [
    "Loss",
    "LossFunctionWrapper",
    *REGISTRY.classes,
    "mean_squared_error",
    "mean_absolute_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "get",
    "resolve",
    "serialize",
    "deserialize",
]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
