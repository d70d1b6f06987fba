"""Argument and data checks with Keras's rules and messages, in one place.

Layers call these in ``__init__`` (sizes, padding, data format, activations, flags) and
models at their entry (input arrays, replacement weight lists); each raises a
``ValueError``/``TypeError`` naming the argument, what was expected and what was received.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from . import ops

Shape = tuple


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, as a tuple of ``n`` positive ints (Keras's rule).

    ``2`` -> ``(2, 2)`` for n=2. Booleans and non-integral numbers are rejected.
    """
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}"
    if is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for v in values:
            # is_int first: float() of a huge int overflows.
            integral = is_int(v) or (isinstance(v, numbers.Real) and float(v).is_integer())
            if isinstance(v, (bool, np.bool_)) or not integral:
                raise ValueError(f"{message}, including element {v!r} of type {type(v)}")
        values = tuple(int(v) for v in values)
    bad = sorted({v for v in values if (v < 0 if allow_zero else v <= 0)})
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value {need}`")
    return values


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def standardize_padding(value, allow_causal: bool = False) -> str:
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    padding = value.lower() if isinstance(value, str) else None
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {sorted(allowed)}. Received: padding={value!r}"
        )
    return padding


def standardize_data_format(value) -> str:
    fmt = "channels_last" if value is None else value.lower() if isinstance(value, str) else None
    if fmt == "channels_first":
        raise ValueError(
            "minicnn computes channels-last only; data_format='channels_first' is not "
            "supported. Transpose the input to (batch, *spatial, channels) instead."
        )
    if fmt != "channels_last":
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value!r}"
        )
    return fmt


def positive_int(value, layer: str, name: str) -> int:
    if not is_int(value) and not (isinstance(value, float) and value.is_integer()):
        raise ValueError(
            f"{layer}: invalid value for argument `{name}`. Expected a strictly positive "
            f"integer. Received {name}={value!r}"
        )
    if int(value) <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive value. "
            f"Received {name}={value}."
        )
    return int(value)


def not_supported(layer: str, **options) -> None:
    """Reject Keras options minicnn does not implement instead of silently ignoring them."""
    for name, value in options.items():
        if value is not None:
            raise ValueError(
                f"{layer}: `{name}` is not supported by minicnn (received {name}={value!r}); "
                "pass None."
            )


def check_bool(value, layer: str, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{layer}: `{name}` must be a bool. Received {name}={value!r}")
    return bool(value)


def get_activation(identifier) -> Callable:
    """An activation function from a Keras name, None (linear) or a callable."""
    if identifier is None:
        return ops.ACTIVATIONS["linear"]
    if isinstance(identifier, str) and identifier in ops.ACTIVATIONS:
        return ops.ACTIVATIONS[identifier]
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. "
        f"Expected a callable or one of {sorted(ops.ACTIVATIONS)}."
    )


def activation_name(identifier) -> str | Callable:
    """How an activation appears in ``get_config``: its name, or the callable itself."""
    return "linear" if identifier is None else identifier


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def finite_real(value) -> bool:
    """A real number (not a bool) that is finite as a float (10**400 is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_float32(dtype) -> bool:
    # Strings are compared by name: numpy parses some strings (",", "i4,f8") as struct
    # dtypes and raises SyntaxError on others.
    if isinstance(dtype, str):
        return dtype == "float32"
    try:
        return np.dtype(dtype) == np.float32
    except (TypeError, ValueError):  # not something numpy reads as a dtype
        return False


def declared_input_shape(kind, input_shape, input_dim, batch_input_shape, batch_size):
    """The per-sample input shape a first layer declares, validated, or None."""
    given = [
        n
        for n, v in (
            ("input_shape", input_shape),
            ("input_dim", input_dim),
            ("batch_input_shape", batch_input_shape),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise ValueError(f"{kind}: pass only one of {given}.")
    label = given[0] if given else "input_shape"  # named in messages as the user wrote it
    if input_dim is not None:
        input_shape = (input_dim,)
    if batch_input_shape is not None:
        if isinstance(batch_input_shape, (str, bytes)) or not isinstance(
            batch_input_shape, Sequence
        ):
            raise ValueError(
                f"{kind}: `batch_input_shape` must be a tuple. Received: {batch_input_shape!r}"
            )
        input_shape = tuple(batch_input_shape)[1:]
    if input_shape is None:
        return None
    if is_int(input_shape):
        input_shape = (input_shape,)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(
            f"{kind}: `{label}` must be a tuple of positive integers (None for a free "
            f"axis). Received: {label}={input_shape!r}"
        )
    for d in input_shape:
        if d is not None and (not is_int(d) or d <= 0):
            raise ValueError(
                f"{kind}: `{label}` must be a tuple of positive integers (None for a "
                f"free axis). Received: {label}={tuple(input_shape)!r}"
            )
    return tuple(None if d is None else int(d) for d in input_shape)


def check_weights(owner: str, current: Sequence[np.ndarray], new: Sequence) -> list[np.ndarray]:
    """Validate a replacement weight list against ``current`` and return it as float32
    copies. Nothing is assigned here, so a caller that assigns the result afterwards
    changes all weights or none."""
    if isinstance(new, np.ndarray) or not isinstance(new, Sequence):
        raise TypeError(
            f"`set_weights` on '{owner}' expects a list of arrays. Received: {type(new).__name__}"
        )
    if len(new) != len(current):
        raise ValueError(
            f"You called `set_weights(weights)` on layer '{owner}' with a weight list of "
            f"length {len(new)}, but the layer was expecting {len(current)} weights."
        )
    out = []
    for i, (old, value) in enumerate(zip(current, new)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise ValueError(f"Layer {owner} weight {i} is not an array: {err}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Layer {owner} weight {i} must be numeric; received an array of dtype {arr.dtype}."
            )
        if arr.shape != old.shape:
            raise ValueError(
                f"Layer {owner} weight shape {old.shape} is not compatible with provided "
                f"weight shape {arr.shape}."
            )
        out.append(np.array(arr, dtype=np.float32))
    return out


def as_input(x, subject: str, cast: bool = True) -> np.ndarray:
    """The array a model or layer is called on, cast to float32 as Keras does.

    Lists and numeric arrays (bool, int, float) are accepted; objects, strings, complex
    numbers and ragged nesting are a TypeError/ValueError whose message starts with
    ``subject`` (``"'conv2d'"``, ``"fit: `y`"``). With ``cast=False`` a numeric array is
    returned as it is, for callers that cast batch by batch.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{subject} expects a numeric array; the input is ragged: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{subject} expects a numeric array (bool, int or float); received dtype "
            f"{arr.dtype} with shape {arr.shape}."
        )
    return arr.astype(np.float32, copy=False) if cast else arr
