"""The layer protocol: ``Layer`` (and ``KernelLayer``, what Conv and Dense share), the
``Input`` that declares a model's input shape, and ``WeightSpec``. Each layer validates
its arguments, infers shapes, holds weights, and computes its output with a pure
``apply(weights, x)`` built on ``minicnn.ops``.

A layer's life:

1. ``__init__`` checks every argument (Keras's names, defaults and messages) and stores
   nothing else.
2. ``build(input_shape)`` checks the input shape, creates the weights that
   ``weight_specs(input_shape)`` describes, and records ``input_shape``/``output_shape``
   (batch axis ``None``).
3. ``compute_output_shape(input_shape)`` is the single place where an input shape is
   checked against the layer (rank, channels, size); models call it at their entry.
4. ``apply(weights, x, training=False, rng=None)`` is the math: a pure function of a weight
   list (in ``get_weights()`` order) and an array, traceable by autograd in both.

The protocol the models rely on (see ARCHITECTURE.md):

- **Weights** are described by ``weight_specs``: name, shape, initializer and whether the
  weight is trainable. Trainable weights come first, then non-trainable ones (Keras's
  ``layer.weights`` order, e.g. BatchNormalization's ``gamma, beta, moving_mean,
  moving_variance``). ``layer.trainable = False`` freezes them all.
- **Training mode** is the ``training`` flag of ``apply``; a layer that draws random
  numbers in training (``needs_rng = True``, e.g. Dropout) takes them from the
  ``rng`` generator it is handed, which the model derives from one seed per step, so a
  forward pass is a pure function of (weights, x, training, seed).
- **State**: a layer whose non-trainable weights change in training (moving statistics)
  overrides ``stateless_call``, which returns ``(outputs, new non-trainable weights)``
  instead of assigning anything (Keras's ``stateless_call``); the training step commits
  them with the optimizer's update. Nothing mutates during a forward pass.
- **Geometry**: ``window`` (an ``ops.Window``, or None) and ``spatial_mapping``
  (``"pointwise"``, ``"window"``, ``"all"``, ``"custom"`` with ``input_positions``, or
  None) tell receptive fields and ``explain`` how output positions depend on input
  positions.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import activations, initializers, ops
from .data import as_input
from .registry import Configurable
from .utils import rng as global_rng
from .utils import to_snake_case, unique_name
from .validation import (
    check_bool,
    check_name,
    check_weights,
    declared_input_shape,
    float32_policy,
    format_shape,
    is_bool,
    is_float32,
    not_supported,
)

Shape = tuple


class KerasTensor:
    """A symbolic tensor: what ``Input()`` returns and a layer called on one returns, for
    building models with the functional API. It knows its ``shape`` (batch axis first,
    usually None) and which call of which layer made it; it holds no data.
    """

    def __init__(
        self,
        shape: tuple,
        layer=None,
        node_index: int = 0,
        name: str | None = None,
        tensor_index: int = 0,
        dtype="float32",
    ):
        # ``KerasTensor(shape, dtype="float32")`` alone, as Keras's constructor, makes a
        # tensor no layer has made yet: ``InputLayer(input_tensor=...)`` adopts it.
        if isinstance(layer, str):  # Keras's KerasTensor(shape, "float32")
            raise TypeError(
                f"KerasTensor: the second argument is the layer that makes the tensor; "
                f"received {layer!r}. Pass dtype by name: KerasTensor(shape, dtype={layer!r})."
            )
        if not is_float32(dtype):
            raise ValueError(f"KerasTensor: minicnn tensors are float32; received dtype={dtype!r}")
        self.shape = tuple(shape)
        self.dtype = "float32"
        self.name = name or unique_name("keras_tensor")
        # Keras's ``_keras_history``: the layer, its call, and which of the call's output
        # tensors this is (a nested model of several outputs makes several per call).
        self._history = (layer, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype=float32, name={self.name}>"


class CallRecord(NamedTuple):
    """One call of a layer on symbolic tensors: what it read (in the layer's input
    order), what it returned (``output``: one tensor, or the list or dict a nested model
    of several outputs returns) and those tensors in order (``outputs``)."""

    inputs: tuple[KerasTensor, ...]
    output: object
    outputs: tuple[KerasTensor, ...]
    #: ``training`` given at the call (Keras's ``layer(x, training=True)``): it holds at
    #: every run of the model, whatever mode the model runs in; None follows the model.
    training: bool | None = None


def _check_tensors(layer, inputs) -> None:
    """A TypeError unless every one of a symbolic call's inputs is a KerasTensor."""
    if not all(isinstance(t, KerasTensor) for t in inputs):
        kinds = [type(t).__name__ for t in inputs]
        what = (
            f"Model '{layer.name}' was called on a mix of"
            if is_model(layer)
            else (f"Layer '{layer.name}' was called on a list mixing")
        )
        raise TypeError(
            f"{what} KerasTensors and other values: {kinds}. Call it in a functional model on "
            "KerasTensors only."
        )


def is_symbolic(x) -> bool:
    """A KerasTensor, or lists, tuples or dicts holding one at any depth (a merge layer's
    inputs, or the nested inputs of a model called as a layer)."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, dict):
        x = list(x.values())
    return isinstance(x, (list, tuple)) and any(map(is_symbolic, x))


class WeightSpec(NamedTuple):
    """One weight a layer creates at ``build``."""

    name: str
    shape: tuple[int, ...]
    initializer: initializers.Initializer
    trainable: bool = True


# --------------------------------------------------------------------------- base class


class Layer(Configurable):
    """Base class. Subclasses implement ``apply`` and, as they need them, ``weight_specs``,
    ``check_input`` and ``_output_shape`` (after ``check_input``); stateful ones also
    ``stateless_call``.

    Keyword arguments every layer accepts, as in Keras: ``name``, ``dtype`` (float32
    only), ``trainable``, ``input_shape``/``input_dim``/``batch_input_shape`` (used by
    ``Sequential`` when the layer comes first). Anything else is a ``ValueError``.

    Parameters
    ----------
    name : None or str
        The layer's name (automatic by default, Keras's way: ``conv2d``, ``conv2d_1``...).
    dtype : None or ``"float32"`` (minicnn computes in float32).
    trainable : bool, default True
        Whether training updates its weights.
    input_shape, input_dim, batch_input_shape, batch_size : Keras's ways of declaring the
        input shape of a model's first layer.
    **kwargs : options Keras records in configs (accepted at their defaults); others are a
        ValueError naming them.

    Examples
    --------
    >>> import numpy as np
    >>> class Double(Layer):
    ...     def apply(self, weights, x, training=False, rng=None):
    ...         return 2 * x
    >>> Double()(np.ones((1, 2))).tolist()
    [[2.0, 2.0]]
    """

    def __init__(
        self,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        input_shape=None,
        input_dim=None,
        batch_input_shape=None,
        batch_size=None,
        **kwargs,
    ):
        kind = type(self).__name__
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {kind}: {kwargs}")
        if dtype is not None and not is_float32(dtype):
            raise ValueError(
                f"{kind}: minicnn layers compute in float32; dtype={dtype!r} is not supported."
            )
        self.name = unique_name(to_snake_case(kind)) if name is None else check_name(name, kind)
        if not is_bool(trainable):  # Keras's ValueError, as for its other arguments
            raise ValueError(
                f"{kind}: Expected `trainable` argument to be a boolean, but got: {trainable!r}"
            )
        self.trainable = bool(trainable)
        self.batch_size_arg, self.input_shape_arg = declared_input_shape(
            kind, input_shape, input_dim, batch_input_shape, batch_size
        )
        # The input shape is recorded and the weights made (what `build` does); Keras's
        # `built` (below) is also true before that for layers built at construction.
        self.shaped = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self._specs: tuple[WeightSpec, ...] = ()
        self._weights: list[np.ndarray] = []
        self._calls: list[CallRecord] = []  # symbolic calls, for the functional API

    # ---- class-level protocol
    #: The layer draws random numbers in training (it needs ``rng`` then).
    needs_rng = False
    #: Which of ``training`` and ``rng`` this class's ``apply`` accepts (found once per
    #: class, as Keras inspects ``call``), so a custom layer may define ``apply(weights, x)``.
    _apply_options: tuple[str, ...] = ("training", "rng")

    #: Keras 3 marks these layers built as soon as they are made (its ``_build_at_init``:
    #: pooling, the activation layers, Dropout), having no weights to create; a subclass
    #: that defines its own ``build`` is not, as in Keras. minicnn still records the input
    #: shape at the first call (``shaped``).
    _built_at_init = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls._built_at_init = False
        params = inspect.signature(cls.apply).parameters.values()
        required = [
            p.name
            for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(required) > 3:  # self, weights, x
            # Keras refuses such a call() when a Sequential builds it; a class is refused
            # here, before any model holds it.
            raise ValueError(
                f"Layer {cls.__name__}: apply() can only have a single required positional "
                "argument after the weights, the input tensor; give the others defaults, as "
                "in apply(self, weights, x, training=False, rng=None). Received required "
                f"arguments: {required}"
            )
        if any(p.kind is p.VAR_KEYWORD for p in params):
            cls._apply_options = ("training", "rng")
        else:
            names = {p.name for p in params}
            cls._apply_options = tuple(o for o in ("training", "rng") if o in names)

    #: How output positions read input positions: "pointwise" (the same position),
    #: "window" (see ``window``), "all" (every position), "custom" (see
    #: ``input_positions``), or None (unknown).
    spatial_mapping: str | None = None

    #: For "custom" mappings: whether outputs only shift input positions (padding,
    #: cropping), so the receptive-field size and jump of ``summary`` carry through.
    shifts_only = False

    def input_positions(self, axis: int, outputs: set[int], length: int) -> set[int]:
        """For ``spatial_mapping == "custom"``: the input positions along spatial axis
        ``axis`` (0-based, of ``length`` positions) that the outputs at ``outputs`` read."""
        raise NotImplementedError

    @property
    def window(self) -> ops.Window | None:
        """The sliding window of a conv or pooling layer, else None."""
        return None

    # ---- shapes
    @property
    def built(self) -> bool:
        """Keras's ``built``: the weights exist (``shaped``), or the layer has none to make
        and Keras builds it at construction."""
        return self.shaped or self._built_at_init

    @built.setter
    def built(self, value: bool) -> None:
        self.shaped = bool(value)

    def build(self, input_shape: Shape) -> None:
        """Check ``input_shape`` (batch axis first, may be None), create the weights."""
        input_shape = tuple(input_shape)
        self.check_input(input_shape)
        specs = tuple(self.weight_specs(input_shape))
        for spec in specs:
            # Beyond this numpy raises "Maximum allowed dimension exceeded" or "array is
            # too big" (initializers draw in float64, 8 bytes an element).
            if math.prod(spec.shape) > np.iinfo(np.intp).max // 8:
                raise ValueError(
                    f"Layer '{self.name}': weight '{spec.name}' of shape {spec.shape} has more "
                    "elements than an array can hold; check `units`/`filters`/`kernel_size`."
                )
        self._specs = specs
        self._weights = [np.asarray(s.initializer(s.shape), dtype=np.float32) for s in specs]
        self.input_shape = input_shape
        self.output_shape = self._output_shape(input_shape)
        self.shaped = True

    def weight_specs(self, input_shape: Shape) -> list[WeightSpec]:
        """The weights this layer creates for ``input_shape``, trainable ones first;
        none by default. Computed without allocating anything."""
        return []

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape``; a ValueError if the layer cannot take it."""
        input_shape = tuple(input_shape)
        self.check_input(input_shape)
        return self._output_shape(input_shape)

    def check_input(self, input_shape: Shape) -> None:
        """Raise ValueError if this layer cannot take inputs of ``input_shape``."""
        ndim = getattr(self, "ndim", None)
        if ndim is not None and len(input_shape) != ndim:
            word = "min_ndim" if len(input_shape) < ndim else "ndim"
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"{word}={ndim}, found ndim={len(input_shape)}. Full shape received: "
                f"{format_shape(input_shape)}"
            )
        channels = self._expected_channels()
        if channels is not None and input_shape[-1] != channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {channels}, but received input with "
                f"shape {format_shape(input_shape)}"
            )

    def _check_output_size(self, input_shape: Shape, received: str) -> None:
        """Keras's error for a window larger than its (padded) input; ``received`` is the
        end of the message, after "Received"."""
        out = self._output_shape(input_shape)
        if any(d is not None and d <= 0 for d in out[1:-1]):
            raise ValueError(
                f"Layer '{self.name}': computed output size would be zero or negative. "
                f"Received{received}."
            )

    def _expected_channels(self) -> int | None:
        return self.input_shape[-1] if self.shaped and self._specs else None

    def _output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    @property
    def dtype(self) -> str:
        """The dtype the layer computes and keeps its weights in: always ``"float32"``
        (Keras's ``layer.dtype``)."""
        return "float32"

    # ---- weights
    @property
    def weight_names(self) -> tuple[str, ...]:
        """The weights' names, in ``get_weights()`` order (``("kernel", "bias")``)."""
        return tuple(spec.name for spec in self._specs)

    @property
    def weight_trainable(self) -> tuple[bool, ...]:
        """Per weight, whether training updates it: trainable by its spec and the layer
        ``trainable``."""
        return tuple(spec.trainable and self.trainable for spec in self._specs)

    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weights (copies), in ``weight_names`` order."""
        return self.get_weights()

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """Copies of the weights training updates (none when the layer is not
        ``trainable``), in ``weight_names`` order; Keras's ``layer.trainable_weights``."""
        return [w.copy() for w, t in zip(self._weights, self.weight_trainable) if t]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """Copies of the weights training leaves alone (BatchNormalization's moving
        statistics; every weight when the layer is not ``trainable``)."""
        return [w.copy() for w, t in zip(self._weights, self.weight_trainable) if not t]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as float32 numpy arrays, in ``weight_names`` order."""
        return [w.copy() for w in self._weights]

    def set_weights(self, weights: Sequence) -> None:
        """Replace every weight at once; the count and each shape are checked first."""
        self._weights = check_weights(self.name, self._weights, weights)

    def weight_arrays(self) -> list[np.ndarray]:
        """The stored weights themselves (no copies): what ``apply`` is handed by a model.
        Treat them as read-only; change weights through ``set_weights``."""
        return list(self._weights)

    def assign_weights(self, arrays: Sequence[np.ndarray]) -> None:
        """Store float32 arrays of the right shapes as the weights, without copying (how a
        model commits a training step). Count, shapes and dtype are checked."""
        if len(arrays) != len(self._weights) or any(
            np.shape(a) != w.shape or getattr(a, "dtype", None) != np.float32
            for a, w in zip(arrays, self._weights)
        ):
            raise ValueError(
                f"Layer '{self.name}'.assign_weights: expected float32 arrays of shapes "
                f"{[w.shape for w in self._weights]}; use `set_weights` for anything else."
            )
        self._weights = list(arrays)

    def _weight(self, name: str):
        """A copy of the weight called ``name``; None for a bias the layer does not use
        (Keras's ``layer.bias`` with ``use_bias=False``)."""
        if not self.shaped:
            raise AttributeError(
                f"Layer '{self.name}' has no `{name}` yet: it is created when the layer is "
                "built (add it to a model with a known input shape, or call it on data)."
            )
        if name not in self.weight_names:
            return None
        return self._weights[self.weight_names.index(name)].copy()

    def count_params(self) -> int:
        return sum(w.size for w in self._weights)

    # ---- math
    def apply(self, weights: Sequence, x, training: bool = False, rng=None):
        """The layer's output for ``x`` with ``weights``; pure, differentiable.

        ``training`` selects training behaviour (Dropout drops, BatchNormalization uses
        batch statistics); ``rng`` is the ``numpy.random.Generator`` a ``needs_rng`` layer
        draws from in training.
        """
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `apply` method implemented "
            "(minicnn's `call`: apply(self, weights, x, training=False, rng=None))."
        )

    def stateless_call(self, weights: Sequence, x, training: bool = False, rng=None):
        """``(outputs, updates)``: the output and the new values of the layer's
        non-trainable weights (in order; empty when it keeps no state, or the same
        arrays when nothing changed). Nothing is assigned."""
        if len(self._apply_options) == 2:
            return self.apply(weights, x, training=training, rng=rng), []
        options = {"training": training, "rng": rng}
        return self.apply(weights, x, **{k: options[k] for k in self._apply_options}), []

    def __call__(self, x, training: bool | None = None):
        """On data: apply the layer to a batch with its own weights (built on first use)
        and return a numpy array (``training`` None is inference). On a ``KerasTensor``
        (or a list of them, for merge layers): record the call for the functional API and
        return the output tensor; ``training`` True or False there fixes the layer's mode
        in that model whatever mode the model runs in (Keras's ``Dropout(...)(x,
        training=True)``).

        On data this is a convenience, not a pure function: in training, a layer that
        needs randomness draws it from minicnn's generator (``set_random_seed``).
        """
        if is_symbolic(x):
            if training is not None:
                training = check_bool(training, f"'{self.name}'", "training")
            return self._call_symbolic(x, training)
        training = False if training is None else training
        if isinstance(x, str) or (
            isinstance(x, (list, tuple)) and x and all(isinstance(v, str) for v in x)
        ):
            raise TypeError(
                f"Layer '{self.name}' must be called on an array or a KerasTensor. "
                f"Received: {x!r:.80} (of type {type(x).__name__})"
            )
        if self._takes_list and isinstance(x, (list, tuple)):
            # A merge layer on a list of arrays: each is one input (not rows of one array).
            x = [as_input(v, f"'{self.name}' input {i}") for i, v in enumerate(x)]
            shape = [v.shape for v in x]
            if not self.shaped:
                self.build([(None, *s[1:]) for s in shape])
        else:
            x = as_input(x, f"'{self.name}'")
            shape = x.shape
            if not self.shaped:
                self.build((None, *x.shape[1:]))
        self.compute_output_shape(shape)
        training = check_bool(training, f"'{self.name}'", "training")
        rng = global_rng() if training and self.needs_rng else None
        y, updates = self.stateless_call(self._weights, x, training=training, rng=rng)
        if training and updates:
            # As Keras's eager call: training updates the layer's state (BatchNormalization's
            # moving statistics), the trailing weights.
            keep = self._weights[: len(self._weights) - len(updates)]
            self._weights = keep + [np.asarray(u, dtype=np.float32) for u in updates]
        return np.asarray(y)

    def _call_symbolic(self, x, training: bool | None = None):
        """Record a call on KerasTensor(s) ``x`` for the functional API and return what it
        makes (one tensor; a nested model's list or dict of them). Checked, and the layer
        built, before anything is recorded, so a call that fails leaves it as it was."""
        inputs, shape = self._symbolic_inputs(x)
        if not self.shaped:
            self.build(shape)
        shapes = self._flat_outputs(self.compute_output_shape(shape))
        call = len(self._calls)
        made = tuple(KerasTensor(s, self, call, tensor_index=i) for i, s in enumerate(shapes))
        out = self._pack_outputs(list(made))
        self._calls.append(CallRecord(inputs, out, made, training))
        return out

    def _symbolic_inputs(self, x) -> tuple:
        """``(input tensors in order, the input shape the call passes)`` of a symbolic
        call: one tensor, or the list a merge takes."""
        inputs = (x,) if isinstance(x, KerasTensor) else tuple(x)
        _check_tensors(self, inputs)
        return inputs, inputs[0].shape if isinstance(x, KerasTensor) else [t.shape for t in inputs]

    def _only_call(self, what: str) -> CallRecord:
        if not self._calls:
            raise AttributeError(
                f"Layer '{self.name}' has never been called and thus has no defined {what}."
            )
        if len(self._calls) > 1:
            raise ValueError(
                f"Layer '{self.name}' has multiple inbound nodes, hence the notion of "
                f'"layer {what}" is ill-defined. Use `get_{what}_at(node_index)` instead.'
            )
        return self._calls[0]

    @property
    def output(self) -> KerasTensor:
        """The tensor this layer's (only) symbolic call made."""
        return self._only_call("output").output

    @property
    def input(self):
        """The tensor (or list, for merges) this layer's (only) symbolic call read."""
        inputs = self._only_call("input").inputs
        return inputs[0] if len(inputs) == 1 and not self._takes_list else list(inputs)

    def get_output_at(self, node_index: int) -> KerasTensor:
        return self._calls[node_index].output

    def get_input_at(self, node_index: int):
        inputs = self._calls[node_index].inputs
        return inputs[0] if len(inputs) == 1 and not self._takes_list else list(inputs)

    #: The layer takes a list of inputs (merge layers).
    _takes_list = False

    # How a call's values are laid out, for the model's loop (which numbers every input
    # and output value of every call): a layer takes one value (a merge, a list) and
    # makes one. A nested model overrides these for its several inputs and outputs.
    def _pack_sources(self, items: list):
        """The call's argument from its input values in order."""
        return list(items) if self._takes_list else items[0]

    def _pack_outputs(self, items: list):
        """What the call returns, from its output values in order."""
        return items[0]

    def _flat_outputs(self, output) -> list:
        """The call's output values in order, from what it returns."""
        return [output]

    # ---- config
    #: Config keys Keras writes for this class whose value is always None in minicnn.
    keras_none_config: tuple[str, ...] = ()

    def get_config(self) -> dict:
        """Constructor arguments, Keras-style (with Keras's dtype policy entry);
        ``type(layer).from_config`` rebuilds it."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": float32_policy()}
        # The regularizers, constraints... Keras's config lists (always None here: minicnn
        # refuses any other value), so a config reads as Keras's get_config writes it.
        config.update(dict.fromkeys(self.keras_none_config))
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        if self.batch_size_arg is not None:
            config["batch_size"] = self.batch_size_arg
        return config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


# --------------------------------------------------------------------------- input


class InputLayer(Layer):
    """Declares a model's input: per-sample ``shape`` (or ``batch_shape``); holds no
    weights. ``InputLayer(...).output`` is the input's KerasTensor. A ``Sequential``'s
    ``layers`` never list it, a functional model's do, as in Keras.

    Parameters
    ----------
    shape : tuple
        The per-sample shape (None for a size that varies).
    batch_size : None or int
    dtype : None or ``"float32"``
    batch_shape : tuple, instead of ``shape`` and ``batch_size``
    name : None or str
    sparse, ragged, optional : only their defaults (dense inputs) are accepted.
    input_tensor : None or KerasTensor
        A tensor made on its own (``KerasTensor(shape)``) to become this layer's output;
        its shape is the input's, and any shape, batch size or dtype given must agree.
    **kwargs : Keras's other base-layer options (``input_shape``, Keras 2's name for
        ``shape``, is taken with Keras's deprecation warning).

    Examples
    --------
    >>> layer = InputLayer(shape=(28, 28, 1))
    >>> layer.output.shape
    (None, 28, 28, 1)
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        batch_shape=None,
        name=None,
        sparse=None,
        ragged=None,
        optional=False,
        input_tensor=None,
        **kwargs,
    ):
        # Keras records these in every InputLayer config; minicnn has dense tensors only.
        for option, value in (("sparse", sparse), ("ragged", ragged), ("optional", optional)):
            if value not in (None, False):
                raise ValueError(
                    f"InputLayer: `{option}` inputs are not supported by minicnn (dense "
                    f"tensors only). Received: {option}={value!r}"
                )
        if "input_shape" in kwargs:  # Keras 2's spelling, still taken by Keras 3
            warnings.warn(
                "Argument `input_shape` is deprecated. Use `shape` instead.", stacklevel=2
            )
            shape = kwargs.pop("input_shape") if shape is None else shape
        if input_tensor is not None:
            batch_shape = self._from_tensor(input_tensor, shape, batch_shape, batch_size, dtype)
            shape = batch_size = None
        # Keras's own messages, before the base layer's checks.
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `batch_size` and `batch_shape` at the same time."
            )
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument.")
        super().__init__(
            name=name,
            dtype=dtype,
            input_shape=shape,
            batch_input_shape=batch_shape,
            batch_size=batch_size,
            **kwargs,
        )
        self.sparse = self.ragged = self.optional = False
        self.build(self.batch_shape)
        if input_tensor is None:
            tensor = KerasTensor(self.batch_shape, self, 0, name=self.name)
        else:
            tensor = input_tensor
            tensor._history = (self, 0, 0)  # as Keras, the tensor becomes this layer's output
        self._calls.append(CallRecord((), tensor, (tensor,)))

    @staticmethod
    def _from_tensor(tensor, shape, batch_shape, batch_size, dtype):
        """The batch shape of ``input_tensor``, after Keras's compatibility checks."""
        if not isinstance(tensor, KerasTensor):
            raise ValueError(
                "Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                f"input_tensor={tensor!r:.80} (of type {type(tensor).__name__})"
            )
        for name, value, fits in (
            ("shape", shape, lambda v: tuple(v) == tensor.shape[1:]),
            ("batch_shape", batch_shape, lambda v: tuple(v) == tensor.shape),
            ("batch_size", batch_size, lambda v: v == tensor.shape[0]),
            ("dtype", dtype, is_float32),
        ):
            if value is not None and not fits(value):
                raise ValueError(
                    f"When providing the `input_tensor` argument, you cannot provide an "
                    f"incompatible `{name}` argument. Received: {name}={value!r}, "
                    f"input_tensor of shape {format_shape(tensor.shape)} and dtype float32"
                )
        return tensor.shape

    @property
    def batch_shape(self) -> tuple:
        """The input's whole shape, batch axis first (None where it varies)."""
        return (self.batch_size_arg, *self.input_shape_arg)

    def call(self):
        """Keras's ``InputLayer.call``: an input layer computes nothing (None)."""
        return None

    def get_config(self) -> dict:
        config = {"name": self.name, "shape": list(self.input_shape_arg)}
        if self.batch_size_arg is not None:
            config["batch_size"] = self.batch_size_arg
        return config


def is_model(layer) -> bool:
    """Whether ``layer`` is a model used as a layer (it has a graph of its own)."""
    return hasattr(layer, "nodes")


def class_name(layer) -> str:
    """The class name Keras's configs and summaries give ``layer``: its class, or for a
    model used as a layer Keras's class for it (``Functional`` for minicnn's ``Model``)."""
    return getattr(layer, "keras_class", type(layer).__name__)


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None) -> KerasTensor:
    """A model's input, as Keras 3's ``keras.Input``: the KerasTensor of a new
    ``InputLayer``. Start a functional model from it (``Model(inputs, outputs)``) or put
    it first in a ``Sequential`` layer list.

    Parameters
    ----------
    shape : tuple of ints (None for a size that varies)
        The per-sample shape, without the batch axis: ``(28, 28, 1)`` for MNIST.
    batch_size : None or int
        A fixed batch size (None: any).
    dtype : None or ``"float32"`` (minicnn computes in float32).
    batch_shape : tuple, instead of ``shape`` and ``batch_size``
        The whole shape, batch axis first.
    name : None or str
        The input layer's name.

    Returns
    -------
    A ``KerasTensor`` of shape ``(batch_size, *shape)``.

    Examples
    --------
    >>> x = Input(shape=(28, 28, 1))
    >>> x.shape, x.dtype
    ((None, 28, 28, 1), 'float32')
    """
    return InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name
    ).output


# --------------------------------------------------------------------------- kernel layers


def weight_initializer(identifier, argument: str) -> initializers.Initializer:
    """The initializer a weight argument names; None falls back to glorot_uniform, as
    Keras's ``add_weight`` does."""
    return initializers.get(identifier, argument) or initializers.GlorotUniform()


def activation_config(fn):
    """How an activation appears in ``get_config``: its registered name, else the callable."""
    return activations.REGISTRY.name_of(fn) or fn


class KernelLayer(Layer):
    """What Conv and Dense share: ``activation(product(x, kernels) + bias)``, Keras's
    kernel/bias arguments, ``kernel``/``bias`` attributes and config entries. Subclasses
    give ``_kernel_shape`` (or ``_kernel_shapes``), ``_units`` and ``_product``.

    ``kernels`` names the kernel weights and the prefix of their constructor arguments
    (``kernel_initializer``...): ``("kernel",)`` for Conv and Dense, ``("depthwise",)``
    and ``("depthwise", "pointwise")`` for depthwise and separable convolutions.
    """

    spatial_mapping = "window"
    kernels: tuple[str, ...] = ("kernel",)

    def _init_kernel(self, arguments: dict) -> None:
        """Check and store the kernel/bias arguments, picked by name from ``arguments`` (a
        subclass constructor's ``locals()``, so each keeps Keras's explicit signature)."""
        kind = type(self).__name__
        self.activation = arguments["activation"]
        self.use_bias = check_bool(arguments["use_bias"], kind, "use_bias")
        self.initializers = {
            prefix: weight_initializer(arguments[f"{prefix}_initializer"], f"{prefix}_initializer")
            for prefix in (*self.kernels, "bias")
        }
        unsupported = [
            f"{p}_{what}" for p in (*self.kernels, "bias") for what in ("regularizer", "constraint")
        ]
        not_supported(
            kind, **{name: arguments[name] for name in (*unsupported, "activity_regularizer")}
        )

    @property
    def kernel_initializer(self) -> initializers.Initializer:
        return self.initializers[self.kernels[0]]

    @property
    def bias_initializer(self) -> initializers.Initializer:
        return self.initializers["bias"]

    @property
    def activation(self):
        """The activation function; set it to a name, a callable or None (linear)."""
        return self._activation

    @activation.setter
    def activation(self, value) -> None:
        self._activation = activations.for_layer(value, type(self).__name__)

    def _kernel_shapes(self, input_shape) -> list[tuple[str, tuple[int, ...]]]:
        """``(weight name, shape)`` of each kernel; one ``kernel`` by default."""
        return [("kernel", self._kernel_shape(input_shape))]

    def weight_specs(self, input_shape):
        specs = [
            WeightSpec(name, shape, self.initializers[prefix])
            for (name, shape), prefix in zip(self._kernel_shapes(input_shape), self.kernels)
        ]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self._units(input_shape),), self.bias_initializer))
        return specs

    kernel = property(lambda self: self._weight("kernel"), doc="A copy of the kernel.")
    bias = property(lambda self: self._weight("bias"), doc="A copy of the bias, or None.")

    def apply(self, weights, x, training=False, rng=None):
        n = len(self.kernels)
        y = self._product(x, *weights[:n])
        if self.use_bias:
            y = y + weights[n]
        return self.activation(y)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": activation_config(self.activation),
            "use_bias": self.use_bias,
            **{
                f"{prefix}_initializer": initializers.config_entry(init)
                for prefix, init in self.initializers.items()
            },
        }
