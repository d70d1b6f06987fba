"""The validation vocabulary: every argument and data check in minicnn, in one place.

Rules, the same everywhere:

- **numpy scalars** count as what they hold: ``np.int64(2)`` is an integer, ``np.float32``
  a real, ``np.bool_`` a bool. A bool is never an integer or a real (``True`` is not 1 here).
- **TypeError** when an argument has the wrong type (``shuffle="batch"``, ``epochs=1.5``),
  **ValueError** when its type is right and its value is not (``epochs=-1``). The layer
  hyper-parameters Keras itself checks with a ValueError whatever the type (``filters``,
  ``units``, ``kernel_size``, ``strides``, ``padding``, ``data_format``...) raise what Keras
  raises, with Keras's wording; so does a seed (Keras's ``SeedGenerator``: "must be an
  integer").
- Messages read ``"{owner}: `{name}` must be {expected}. Received: {name}={value!r}"``, where
  ``owner`` is the layer, class or function the user called.

Layers call these in ``__init__``, models and training at their entry, ops on their
arguments; nothing below validates anything for itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

Shape = tuple


# --------------------------------------------------------------------------- kinds


def is_int(value) -> bool:
    """An integer (python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value) -> bool:
    """A real number (python or numpy int or float), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def finite_real(value) -> bool:
    """A real number that is finite as a float (10**400 is not)."""
    if not is_real(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _fail(owner: str, name: str, expected: str, value, error=ValueError):
    raise error(f"{owner}: `{name}` must be {expected}. Received: {name}={value!r}")


def _bounds(low, high, low_open=False, high_open=False) -> str:
    low, high = (None if b is None else f"{b:g}" for b in (low, high))
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


# --------------------------------------------------------------------------- scalars


def check_int(
    value, owner: str, name: str, minimum: int | None = None, allow_none: bool = False
) -> int | None:
    """``value`` as a python int ``>= minimum`` (None passes when ``allow_none``)."""
    if value is None and allow_none:
        return None
    ok_type = is_int(value)
    if not ok_type or (minimum is not None and value < minimum):
        # The message is built only on failure: the geometry functions check their
        # arguments once per window, thousands of times for one explorer page.
        expected = "an integer" + _bounds(minimum, None) + (" or None" if allow_none else "")
        _fail(owner, name, expected, value, ValueError if ok_type else TypeError)
    return int(value)


def check_real(
    value,
    owner: str,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a finite python float within the bounds (None passes when
    ``allow_none``); ``*_open`` excludes that end."""
    if value is None and allow_none:
        return None
    expected = (
        "a finite float"
        + _bounds(low, high, low_open, high_open)
        + (" or None" if allow_none else "")
    )
    if not is_real(value):
        _fail(owner, name, expected, value, TypeError)
    if not finite_real(value):
        _fail(owner, name, expected, value)
    v = float(value)
    if low is not None and (v <= low if low_open else v < low):
        _fail(owner, name, expected, value)
    if high is not None and (v >= high if high_open else v > high):
        _fail(owner, name, expected, value)
    return v


def check_bool(value, owner: str, name: str) -> bool:
    if not is_bool(value):
        _fail(owner, name, "a bool", value, TypeError)
    return bool(value)


def check_seed(value, owner: str, name: str = "seed") -> int | None:
    """None or an integer >= 0 (what numpy's generators accept); a ValueError otherwise,
    whatever the type, as Keras's ``SeedGenerator`` raises."""
    if value is not None and (not is_int(value) or value < 0):
        _fail(owner, name, "None or an integer >= 0", value)
    return None if value is None else int(value)


def check_choice(value, owner: str, name: str, choices: Sequence[str], lower: bool = False) -> str:
    """One of ``choices`` (compared lower-cased when ``lower``); a ValueError listing them."""
    key = value.lower() if lower and isinstance(value, str) else value
    if not isinstance(value, str) or key not in choices:
        _fail(owner, name, f"one of {list(choices)}", value)
    return key


def check_name(value, owner: str, name: str = "name") -> str:
    """A non-empty string without '/' (names become file members and weight paths)."""
    if not isinstance(value, str):
        _fail(owner, name, "a non-empty string without '/'", value, TypeError)
    if not value or "/" in value:
        _fail(owner, name, "a non-empty string without '/'", value)
    return value


def check_callable(value, owner: str, name: str):
    if not callable(value):
        _fail(owner, name, "callable", value, TypeError)
    return value


# --------------------------------------------------------------------- Keras's layer arguments


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
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}  # a set, as Keras prints it
    if bad:
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value {need}`")
    return values


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


def check_batch_size(batch_size, method: str) -> int:
    """``None`` means 32, as in Keras; anything else must be an integer >= 1."""
    if batch_size is None:
        return 32
    return check_int(batch_size, method, "batch_size", minimum=1, allow_none=True)


def check_verbose(verbose, method: str) -> int:
    """``"auto"`` means 1; otherwise 0 (silent), 1 (progress bar) or 2 (one line per epoch)."""
    if verbose == "auto":
        return 1
    if is_bool(verbose) or verbose not in (0, 1, 2):
        _fail(method, "verbose", "'auto', 0, 1 or 2", verbose)
    return int(verbose)


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def format_number(v, digits: int = 4) -> str:
    """``3`` for 3.0, ``0.25``, ``-1.234`` (``digits`` significant), ``nan``.

    Parameters
    ----------
    v : number
    digits : int, default 4
        Significant digits.

    Returns
    -------
    The text.

    Examples
    --------
    >>> format_number(3.0), format_number(0.25), format_number(-1.23456)
    ('3', '0.25', '-1.235')
    """
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def check_sample(func: str, sample, n: int) -> int:
    """``sample`` as an index into a batch of ``n`` samples; a ValueError otherwise."""
    if isinstance(sample, bool) or not is_int(sample) or not 0 <= sample < n:
        raise ValueError(
            f"{func}: `sample` must be an index into x (0..{n - 1}). Received: sample={sample!r}"
        )
    return int(sample)


def float32_policy() -> dict:
    """Keras's serialized ``DTypePolicy("float32")``, the ``dtype`` entry of its layer
    configs (a new dict each call)."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "registered_name": None,
    }


def is_float32(dtype) -> bool:
    # Keras's serialized dtype policy counts by the dtype it names.
    if isinstance(dtype, dict) and dtype.get("class_name") == "DTypePolicy":
        config = dtype.get("config")
        return isinstance(config, dict) and config.get("name") == "float32"
    # Strings are compared by name: numpy parses some strings (",", "i4,f8") as struct
    # dtypes and raises SyntaxError on others.
    if isinstance(dtype, str):
        return dtype == "float32"
    try:
        return np.dtype(dtype) == np.float32
    except (TypeError, ValueError):  # not something numpy reads as a dtype
        return False


def declared_input_shape(kind, input_shape, input_dim, batch_input_shape, batch_size):
    """``(batch size or None, per-sample shape or None)`` that a first layer declares,
    validated (Keras's ``input_shape``/``input_dim`` with ``batch_size``, or
    ``batch_input_shape``)."""
    batch_size = check_int(batch_size, kind, "batch_size", minimum=1, allow_none=True)
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
        if batch_size is not None:
            raise ValueError(f"{kind}: pass `batch_size` or `batch_input_shape`, not both.")
        batch_size = check_int(
            tuple(batch_input_shape)[0] if batch_input_shape else None,
            kind,
            "batch_input_shape[0]",
            minimum=1,
            allow_none=True,
        )
        input_shape = tuple(batch_input_shape)[1:]
    if input_shape is None:
        return batch_size, None
    if is_int(input_shape):
        input_shape = (input_shape,)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(
            f"{kind}: `{label}` must be a tuple of integers >= 0 (None for a free "
            f"axis). Received: {label}={input_shape!r}"
        )
    for d in input_shape:
        if d is not None and (not is_int(d) or d < 0):
            raise ValueError(
                f"{kind}: `{label}` must be a tuple of integers >= 0 (None for a "
                f"free axis). Received: {label}={tuple(input_shape)!r}"
            )
    return batch_size, tuple(None if d is None else int(d) for d in input_shape)


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
        arr = numeric_array(value, f"Layer {owner}: weight {i}")
        if arr.shape != old.shape:
            raise ValueError(
                f"Layer {owner} weight shape {old.shape} is not compatible with provided "
                f"weight shape {arr.shape}."
            )
        out.append(np.array(arr, dtype=np.float32))
    return out


def numeric_array(value, subject: str) -> np.ndarray:
    """``value`` as a numpy array of bool, int or float (uncopied when it is one): a
    ValueError for ragged nesting, a TypeError for any other dtype (objects, strings,
    complex numbers), the message starting with ``subject``."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{subject} expects a numeric array; the input is ragged: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{subject} expects a numeric array (bool, int or float); received dtype "
            f"{arr.dtype} with shape {arr.shape}."
        )
    return arr
