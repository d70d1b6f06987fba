"""Merge layers for the functional API: ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Concatenate``, and their functional forms (``add([a, b])``...),
with Keras 3's shape rules and messages (``keras/src/layers/merging/``).

A merge layer is called on a list of tensors; its ``apply`` takes the list of arrays.
Element-wise merges broadcast size-1 axes (Keras's ``_compute_elemwise_op_output_shape``).
"""

from __future__ import annotations

import autograd.numpy as anp

from .layer import Layer
from .validation import check_int, format_shape


def _shapes(layer, input_shape) -> list[tuple]:
    if not isinstance(input_shape, (list, tuple)) or not all(
        isinstance(s, (list, tuple)) for s in input_shape
    ):
        raise ValueError(
            "A merge layer should be called on a list of inputs. "
            f"Received: input_shape={input_shape} (not a list of shapes)"
        )
    if len(input_shape) < 1:
        raise ValueError(
            "A merge layer should be called on a list of at least 1 input. "
            f"Received {len(input_shape)} inputs. Full input_shape received: {input_shape}"
        )
    shapes = [tuple(s) for s in input_shape]
    batches = {s[0] for s in shapes if s and s[0] is not None}
    if len(batches) > 1:
        raise ValueError(
            f"Cannot merge tensors with different batch sizes. Received tensors with shapes "
            f"{shapes}"
        )
    return shapes


def _broadcast(shape1: tuple, shape2: tuple) -> tuple:
    if len(shape1) < len(shape2):
        return _broadcast(shape2, shape1)
    if not shape2:
        return shape1
    out = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}"
            )
        else:
            out.append(i)
    return tuple(out)


BASE_ARGUMENTS = """name : None or str
        The layer's name (unique in a model; automatic by default).
    dtype : None or ``"float32"`` (minicnn computes in float32).
    trainable : bool, default True
    input_shape, input_dim, batch_input_shape, batch_size : Keras's ways of declaring the
        input of a model's first layer (a merge layer takes its inputs from other layers).
    **kwargs : Keras options recorded in configs; others are refused by name."""


def _merge_doc(summary: str, result: str, inputs: str = "two or more") -> str:
    """The numpy-style docstring of an element-wise merge layer."""
    return f"""{summary}

    Called on a list of {inputs} tensors (or arrays) of one shape, or shapes that
    broadcast (Keras 3's rule), in a functional model or eagerly.

    Parameters
    ----------
    {BASE_ARGUMENTS}

    Input shape
    -----------
    A list of ``(batch, ...)`` shapes that broadcast against each other.

    Output shape
    ------------
    Their broadcast shape.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])
    >>> {result}
    """


class Merge(Layer):
    """Base of the element-wise merges: subclasses give ``_merge(arrays)``."""

    spatial_mapping = "pointwise"
    _takes_list = True

    def check_input(self, input_shape):
        self._output_shape(input_shape)

    def _output_shape(self, input_shape):
        shapes = _shapes(self, input_shape)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = _broadcast(out, shape[1:])
        batch = next((s[0] for s in shapes if s[0] is not None), None)
        return (batch, *out)

    def apply(self, weights, x, training=False, rng=None):
        return self._merge(list(x))


class Add(Merge):
    __doc__ = _merge_doc(
        "The element-wise sum of its inputs.",
        """Add()([a, b]).tolist()
    [[4.0, 7.0]]""",
        "two or more",
    )

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    __doc__ = _merge_doc(
        "``inputs[0] - inputs[1]`` (exactly two inputs).",
        """Subtract()([a, b]).tolist()
    [[-2.0, 3.0]]""",
        "exactly two",
    )

    def _output_shape(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and len(input_shape) != 2:
            raise ValueError(
                f"A `Subtract` layer should be called on exactly 2 inputs. Received: "
                f"input_shape={input_shape}"
            )
        return super()._output_shape(input_shape)

    def _merge(self, xs):
        return xs[0] - xs[1]


class Multiply(Merge):
    __doc__ = _merge_doc(
        "The element-wise product of its inputs.",
        """Multiply()([a, b]).tolist()
    [[3.0, 10.0]]""",
        "two or more",
    )

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(Merge):
    __doc__ = _merge_doc(
        "The element-wise mean of its inputs.",
        """Average()([a, b]).tolist()
    [[2.0, 3.5]]""",
        "two or more",
    )

    def _merge(self, xs):
        return Add._merge(self, xs) * (1.0 / len(xs))


class Maximum(Merge):
    __doc__ = _merge_doc(
        "The element-wise maximum of its inputs (ties send the gradient to the first).",
        """Maximum()([a, b]).tolist()
    [[3.0, 5.0]]""",
        "two or more",
    )

    def _merge(self, xs):
        # where, not maximum: autograd's maximum VJP returns float64 for float32.
        out = xs[0]
        for x in xs[1:]:
            out = anp.where(out >= x, out, x)
        return out


class Minimum(Merge):
    __doc__ = _merge_doc(
        "The element-wise minimum of its inputs (ties send the gradient to the first).",
        """Minimum()([a, b]).tolist()
    [[1.0, 2.0]]""",
        "two or more",
    )

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = anp.where(out <= x, out, x)
        return out


class Concatenate(Layer):
    """Joins its inputs along ``axis``; every other axis must match (Keras 3's
    ``Concatenate``).

    Parameters
    ----------
    axis : int, default -1
        The axis to join along (not the batch axis).
    **kwargs : ``name``, ``dtype``, ``trainable`` (Keras's base layer arguments).

    Input shape
    -----------
    A list of shapes equal except along ``axis``.

    Output shape
    ------------
    That shape with the sizes along ``axis`` summed.

    Examples
    --------
    >>> import numpy as np
    >>> Concatenate()([np.zeros((2, 3)), np.ones((2, 1))]).tolist()
    [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
    """

    _takes_list = True

    def __init__(self, axis=-1, **kwargs):
        self.axis = check_int(axis, type(self).__name__, "axis")
        super().__init__(**kwargs)

    @property
    def spatial_mapping(self):
        return "pointwise" if self.axis == -1 else None

    def check_input(self, input_shape):
        self._output_shape(input_shape)

    def _output_shape(self, input_shape):
        shapes = _shapes(self, input_shape)
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if (
            axis is None
            or axis == 0
            or any(len(s) != rank for s in shapes)
            or any(len({s[a] for s in shapes} - {None}) > 1 for a in range(rank) if a != axis)
        ):
            raise ValueError(
                "A `Concatenate` layer requires inputs with matching shapes except for the "
                f"concatenation axis. Received: input_shape={[format_shape(s) for s in shapes]}"
            )
        sizes = [s[axis] for s in shapes]
        out = list(next((s for s in shapes if None not in s), shapes[0]))
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def apply(self, weights, x, training=False, rng=None):
        return anp.concatenate(list(x), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _functional(cls):
    """The function Keras gives each merge layer: ``add(inputs, **kwargs)`` is
    ``Add(**kwargs)(inputs)``."""

    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    name = cls.__name__.lower()
    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"""``{cls.__name__}(**kwargs)(inputs)``: the functional form of the layer
    (Keras 3's ``keras.layers.{name}``).

    Parameters
    ----------
    inputs : list of KerasTensors or arrays
    **kwargs : the layer's arguments (``name``...).

    Returns
    -------
    The merged tensor (or array).

    Examples
    --------
    >>> import numpy as np
    >>> {name}([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).shape
    (1, 2)
    """
    return merge


add, subtract, multiply, average, maximum, minimum = (
    _functional(cls) for cls in (Add, Subtract, Multiply, Average, Maximum, Minimum)
)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``: the functional form of the layer (Keras 3's
    ``keras.layers.concatenate``).

    Parameters
    ----------
    inputs : list of KerasTensors or arrays
    axis : int, default -1
        The axis to join along.
    **kwargs : the layer's other arguments (``name``...).

    Returns
    -------
    The joined tensor (or array).

    Examples
    --------
    >>> import numpy as np
    >>> concatenate([np.zeros((2, 3)), np.ones((2, 1))]).shape
    (2, 4)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
