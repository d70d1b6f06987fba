"""The model engine: layers wired into a graph of nodes, with one data path.

``Model`` is the engine. Its ``nodes`` list each call of a layer in topological order,
with the values it reads (the model's inputs, or earlier nodes' outputs); ``forward`` is
the one loop that runs them, and everything that computes goes through it:
``apply`` / ``stateless_call`` (the pure functions of a flat weight list that autograd
differentiates), ``predict``, ``__call__``, ``fit``/``evaluate`` (``minicnn.training``),
``feature_maps``, ``explain`` and ``gradcheck``. ``Sequential`` is the special case of a
chain, one node per layer, built as layers are added (``minicnn.sequential``).

The model owns the listing of its weights: ``weight_arrays()`` (flat, in ``get_weights()``
order: layer by layer, each layer's trainable weights then its non-trainable ones, as in
Keras 3), ``weight_names`` (``"conv2d/kernel"``...) and ``trainable_indices()``. A shared
layer's weights appear once.

``compile``/``fit``/``evaluate`` come from ``minicnn.training`` and ``save``/
``save_weights``/``load_weights`` from ``minicnn.saving``: written once there, bound here
as methods.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import compile_utils, config_io, keras_files, keras_schema, saving, training
from .callbacks import PROGRESS_DELAY, CallbackList, check_callbacks, progress_bar
from .data import as_batch, as_input, batches
from .explain import explain
from .feeds import Batches, is_batch_source, kind
from .graph_config import graph_config, parse_graph
from .layer import _check_tensors, is_model, is_symbolic
from .layers import InputLayer, KerasTensor, Layer
from .receptive import receptive_field
from .structure import LEAF, Structure, describe, flatten_any
from .summary import print_summary
from .utils import draw_seed, unique_name
from .utils import rng as global_rng
from .validation import (
    check_batch_size,
    check_bool,
    check_name,
    check_verbose,
    check_weights,
    format_shape,
)


class Node(NamedTuple):
    """One call of ``layer`` in a model: it reads the values numbered ``inputs`` and
    makes the values numbered ``outputs``. Values are numbered the model's inputs first,
    then each node's outputs in node order: one per node, except a nested model of
    several outputs, which makes one per output tensor."""

    layer: Layer
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    #: The mode the call fixed (``layer(x, training=True)``); None follows the model's.
    training: bool | None = None


class Model:
    """A functional model: the graph of layers from ``Input`` tensors to the tensors
    layers made from them (Keras 3's ``Model(inputs, outputs)``); the engine ``Sequential``
    is the chain case of. ``predict``, ``fit``, ``evaluate``, ``explain``, ``summary``,
    ``save``... run on any graph: branches, merges, shared layers, nested models.

    Parameters
    ----------
    inputs : KerasTensor, or a list or dict of them (from ``Input``)
        The model's inputs.
    outputs : KerasTensor, or a list or dict of them
        Tensors made from ``inputs`` by calling layers on them.
    name : None or str
        The model's name (``"functional"``, ``"functional_1"``... by default).

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.layers import Input, Conv2D, Add, Flatten, Dense
    >>> x = Input((6, 6, 1))
    >>> h = Conv2D(4, 3, padding="same", activation="relu")(x)
    >>> y = Dense(2)(Flatten()(Add()([h, Conv2D(4, 1)(x)])))
    >>> model = Model(x, y)
    >>> model.predict(np.zeros((3, 6, 6, 1))).shape
    (3, 2)
    """

    # Written once in their modules, bound here as methods.
    compile = compile_utils.compile
    fit = training.fit
    evaluate = training.evaluate
    train_on_batch = training.train_on_batch
    test_on_batch = training.test_on_batch
    predict_on_batch = training.predict_on_batch
    get_compile_config = compile_utils.get_compile_config
    compile_from_config = compile_utils.compile_from_config
    save = saving.save_model
    to_json = keras_files.to_json
    save_weights = saving.save_weights
    load_weights = saving.load_weights

    def __init__(self, inputs=None, outputs=None, name: str | None = None):
        """``Model(inputs, outputs)``: the functional model from ``Input`` tensors to the
        tensors layers made from them (each a KerasTensor, a list, or a dict of them)."""
        kind = type(self).__name__
        if type(self) is Model and (inputs is None or outputs is None):
            raise TypeError(
                "Model: pass `inputs` and `outputs` (KerasTensors from `Input()` and from "
                "layers called on them); minicnn has no subclassed models."
            )
        default = "functional" if type(self) is Model else self.default_name()
        self.name = unique_name(default) if name is None else check_name(name, kind)
        self._layers: list[Layer] = []
        self.nodes: list[Node] = []
        # Inputs a layer made (Keras's slicing): id(tensor) -> the Input standing for it.
        self._cut: dict = {}
        self._inputs: list[KerasTensor] = []
        self._outputs: list[KerasTensor] = []
        # Value numbers (inputs first, then one per node) of the outputs, and how inputs
        # and outputs nest (a Structure: one tensor, or lists, tuples and dicts of them).
        self._output_values: list[int] = []
        self._input_structure = self._output_structure = LEAF
        # Per node, the tensors its call made (one, or a nested model's several).
        self.node_outputs: list[tuple[KerasTensor, ...]] = []
        # This model's own calls on KerasTensors, when it is a layer of another model.
        self._calls: list = []
        self._input_shape: tuple | None = None
        self._output_shape: tuple | None = None
        self.built = False
        # Set by compile and fit: what to train with and what happened.
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.compiled_loss = None
        self.compiled_metrics: list = []
        self.compiled_weighted_metrics: list = []
        # Keras's compile options that change nothing here (minicnn always runs eagerly).
        self.run_eagerly, self.jit_compile = False, "auto"
        self.metric_directions: dict[str, str | None] = {}
        self.history = None
        # Set by a callback to end the loop after the current batch, as in Keras.
        self.stop_training = self.stop_evaluating = self.stop_predicting = False
        self._warned_extra_keys = False  # Keras warns once per model of ignored input keys
        if inputs is not None:
            self._build_graph(inputs, outputs)

    @classmethod
    def default_name(cls) -> str:
        return "model"

    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in Keras's order (a functional model's Inputs first)."""
        return self._layers

    #: Keras's words when code assigns ``model.layers`` (Sequential has its own).
    _reserved_layers = (
        "`Model.layers` attribute is reserved and should not be used. Please use another name."
    )

    @layers.setter
    def layers(self, _) -> None:
        raise AttributeError(self._reserved_layers)

    # Read-only, as Keras's; a Sequential not yet built has none of them (AttributeError).
    @property
    def inputs(self) -> list[KerasTensor]:
        """The model's Input tensors, in ``inputs`` order (a flat list)."""
        return self._inputs

    @property
    def outputs(self) -> list[KerasTensor]:
        """The model's output tensors, in ``outputs`` order (a flat list)."""
        return self._outputs

    @property
    def input_shape(self):
        """The input's shape (batch axis first), or a list of the inputs' shapes in
        ``inputs`` order (flat, however the inputs nest: Keras's ``input_shape``)."""
        return _flat_shapes(self._input_structure, self._input_shape)

    @property
    def output_shape(self):
        """The output's shape (batch axis first), or a list of the outputs' shapes in
        ``outputs`` order (flat, however the outputs nest: Keras's ``output_shape``)."""
        return _flat_shapes(self._output_structure, self._output_shape)

    # ------------------------------------------------------------------ the graph
    def _build_graph(self, inputs, outputs) -> None:
        """Nodes, layers and value numbers from the tensors' call records, in Keras's
        order (``Functional``'s ``map_graph``): nodes by decreasing depth from the outputs,
        each layer where its first node falls; a shared layer once."""
        in_struct, in_list = _flatten("inputs", inputs)
        out_struct, out_list = _flatten("outputs", outputs)
        if len({id(t) for t in in_list}) != len(in_list):
            raise ValueError("Model: the same Input tensor appears twice in `inputs`.")
        # Keras's slicing: an input that a layer made (not an Input) cuts the graph there
        # and becomes a new Input of its shape; the calls still read the original tensor.
        self._cut = {
            id(t): InputLayer(batch_shape=t.shape).output
            for t in in_list
            if not isinstance(t._history[0], InputLayer)
        }
        order, seen = [], set()
        for path, tensor in zip(out_struct.paths(), out_list):
            path = "/".join(str(step) for step in path) or "0"
            # Depth-first from each output, producers before their consumers (post-order);
            # a stack rather than recursion, so deep models do not meet Python's limit.
            stack = [(tensor, False)]
            while stack:
                t, expanded = stack.pop()
                if id(t) in self._cut:  # an input made by a layer: the graph stops here
                    continue
                layer, call, _ = t._history
                key = (id(layer), call)
                if expanded:
                    order.append((layer, call))
                    continue
                if isinstance(layer, InputLayer) and not any(t is s for s in in_list):
                    raise ValueError(
                        f"Output {path} is not connected to `inputs`: it depends on Input "
                        f"'{layer.name}', which is not among the model's inputs."
                    )
                if key in seen:
                    continue
                seen.add(key)
                stack.append((t, True))
                stack.extend((source, False) for source in reversed(layer._calls[call].inputs))
        depth = {}
        for layer, call in reversed(order):  # consumers before producers
            d = depth.setdefault((id(layer), call), 0)
            for source in layer._calls[call].inputs:
                key = (id(source._history[0]), source._history[1])
                depth[key] = max(depth.get(key, 0), d + 1)
        order.sort(key=lambda node: -depth[(id(node[0]), node[1])])
        value_of = {id(t): i for i, t in enumerate(in_list)}
        layers, nodes = [], []
        for layer, call in order:
            if not any(layer is seen_layer for seen_layer in layers):
                layers.append(layer)
            if isinstance(layer, InputLayer):
                continue
            record = layer._calls[call]
            made = tuple(range(len(value_of), len(value_of) + len(record.outputs)))
            sources = tuple(value_of[id(t)] for t in record.inputs)
            nodes.append(Node(layer, sources, made, record.training))
            value_of.update((id(t), v) for t, v in zip(record.outputs, made))
            self.node_outputs.append(record.outputs)
        # The Inputs made for the cuts come first (as their depth puts them in Keras); an
        # Input no output depends on is still one of the model's inputs (and layers).
        model_inputs = [self._cut.get(id(t), t) for t in in_list]
        layers = [self._cut[id(t)]._history[0] for t in in_list if id(t) in self._cut] + layers
        layers += [
            t._history[0]
            for t in model_inputs
            if not any(t._history[0] is layer for layer in layers)
        ]
        names = [layer.name for layer in layers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"Model: all layers of a model need unique names; {twice} name several layers."
            )
        self._layers, self.nodes = layers, nodes
        self._inputs, self._outputs = model_inputs, out_list
        self._input_structure, self._output_structure = in_struct, out_struct
        self._output_values = [value_of[id(t)] for t in out_list]
        self._input_shape = _pack(in_struct, [t.shape for t in in_list])
        self._output_shape = _pack(out_struct, [t.shape for t in out_list])
        self.built = True

    def model_tensor(self, t: KerasTensor) -> KerasTensor:
        """The tensor ``t`` (read by a call of this model) is in this model: itself, or the
        Input that stands for it where the model was cut from a larger graph."""
        return self._cut.get(id(t), t)

    def _input_values(self, x) -> list:
        """The model's inputs as a list in ``inputs`` order, from one array, or a list,
        tuple or dict (nested as the model was built); a model built on one Input or a
        flat list of them also takes a dict keyed by the Inputs' names, as Keras's."""
        structure = self._input_structure
        if isinstance(x, dict) and structure.kind != "dict" and structure.is_flat:
            names = [t._history[0].name for t in self._inputs]
            if not names or not set(names) <= set(x):
                takes = (
                    f"a dict keyed by its Inputs' names {names}"
                    if names
                    else "one array (it has no named Input to key a dict by)"
                )
                raise ValueError(
                    "The structure of `inputs` doesn't match the expected structure: model "
                    f"'{self.name}' takes {takes}; received a dict with keys {list(x)}."
                )
            self._warn_extra_keys(x, names)
            return [x[n] for n in names]
        if structure.is_leaf:
            return [x]
        n = len(self._inputs)
        if structure.kind in ("list", "tuple") and structure.is_flat:
            if n == 1 and not isinstance(x, (list, tuple)):
                return [x]  # one input given as a list: its array alone, as Keras takes it
            if not isinstance(x, (list, tuple)) or len(x) != n:
                raise ValueError(
                    f"Model '{self.name}' expects {n} input(s), as a list of {n} inputs; "
                    f"received {type(x).__name__}"
                    + (f" of length {len(x)}" if isinstance(x, (list, tuple)) else "")
                    + "."
                )
            return list(x)
        if structure.kind == "dict" and structure.is_flat:
            if not isinstance(x, dict) or not set(structure.keys) <= set(x):
                raise ValueError(
                    "The structure of `inputs` doesn't match the expected structure: model "
                    f"'{self.name}' expects a dict with keys {list(structure.keys)} (named "
                    f"input(s) with keys {list(structure.keys)}); received "
                    f"{list(x) if isinstance(x, dict) else type(x).__name__}."
                )
            self._warn_extra_keys(x, structure.keys)
            return [x[k] for k in structure.keys]
        # Nested inputs: as Keras's _standardize_inputs, another nesting of as many arrays
        # is taken in flattened order, with Keras's warning.
        if structure.matches(x):
            return structure.flatten(x)
        try:
            flat = flatten_any(x, lambda v: not isinstance(v, (list, tuple, dict)))
        except ValueError:
            flat = []
        expected = structure.describe()
        if len(flat) != n:
            raise ValueError(
                "The structure of `inputs` doesn't match the expected structure: model "
                f"'{self.name}' takes {n} arrays as {expected}; received {describe(x)}."
            )
        warnings.warn(
            "The structure of `inputs` doesn't match the expected structure.\nExpected: "
            f"{expected}\nReceived: inputs={describe(x)}",
            stacklevel=4,
        )
        return flat

    def _warn_extra_keys(self, x: dict, expected) -> None:
        """Keras's warning for a dict of inputs with keys the model does not take (they
        are ignored); once per model, as Keras warns."""
        extra = [k for k in x if k not in expected]
        if extra and not self._warned_extra_keys:
            self._warned_extra_keys = True
            warnings.warn(
                "The structure of `inputs` doesn't match the expected structure. Expected: "
                f"{list(expected)}, received keys {list(x)}; {extra} are ignored.",
                stacklevel=4,
            )

    def node_of(self, layer, func: str = "node_of") -> int:
        """The node (call) number of ``layer`` (anything ``locate_layer`` takes) in this
        model, for asking about one of its cells (``explain``, ``receptive_field``); a
        ValueError for an Input, a layer the model calls more than once, or a nested model
        of several outputs (an index does not name one cell of those)."""
        target = self.layers[self.locate_layer(layer)]
        calls = [k for k, node in enumerate(self.nodes) if node.layer is target]
        if len(calls) != 1:
            what = "is an Input" if not calls else f"is called {len(calls)} times (shared)"
            raise ValueError(
                f"Layer '{target.name}' {what} in model '{self.name}'; ask about a layer with "
                "exactly one call."
            )
        outputs = len(self.nodes[calls[0]].outputs)
        if outputs > 1:
            raise ValueError(
                f"{func}: layer '{target.name}' is a model of {outputs} outputs, so an index "
                f"does not name one of its cells; ask about one of its own output layers with "
                f"`{target.name}.{func}(...)`."
            )
        return calls[0]

    @property
    def output_names(self) -> list[str]:
        """Each output's name, in ``outputs`` order: the keys of a flat dict of outputs
        (sorted, as Keras orders them; Keras's logs name such outputs by key), else the
        name of the layer that makes each output (Keras's ``output_names``)."""
        if self._output_structure.kind == "dict" and self._output_structure.is_flat:
            return list(self._output_structure.keys)
        if not self._outputs:
            return [self.layers[-1].name] if self.layers else []
        return [t._history[0].name for t in self._outputs]

    def _pack_inputs(self, arrays: list):
        """One array per input (in ``inputs`` order) as the model takes them."""
        return _pack(self._input_structure, arrays)

    def _unpack_outputs(self, outputs) -> list:
        """The model's outputs (as ``apply`` returns them) as a list."""
        return _unpack(self._output_structure, outputs)

    def _single_io(self) -> bool:
        """One input array and one output array (a Sequential, or a functional model of
        one Input and one output tensor)."""
        return self._input_structure.is_leaf and self._output_structure.is_leaf

    # ------------------------------------------------------------------ layers
    @property
    def trainable(self) -> bool:
        """False only when every layer is frozen; setting it sets every layer's, as Keras."""
        return any(layer.trainable for layer in self.layers) or not self.layers

    @trainable.setter
    def trainable(self, value) -> None:
        value = check_bool(value, f"Model '{self.name}'", "trainable")
        for layer in self.layers:
            layer.trainable = value

    @property
    def needs_rng(self) -> bool:
        """Whether some layer draws random numbers in training (``apply`` then needs a seed)."""
        return any(layer.needs_rng for layer in self.layers)

    def locate_layer(self, layer) -> int:
        """The position in ``layers`` of ``layer``, given as an index (negative counts from
        the end), a name, or the layer itself: the one look-up behind ``get_layer``,
        ``explain``, ``receptive_field`` and the pictures."""
        names = [lay.name for lay in self.layers]
        n = len(names)
        if isinstance(layer, Layer):
            for i, candidate in enumerate(self.layers):
                if candidate is layer:
                    return i
            raise ValueError(
                f"Layer '{layer.name}' is not in model '{self.name}'. Existing layers are: {names}."
            )
        if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
            if not -n <= layer < n:
                raise ValueError(
                    f"Was asked to retrieve layer at index {layer} but model only has {n} "
                    f"layers (`layer` must be in {-n}..{n - 1}, or a name in {names})."
                )
            return int(layer) % n
        if isinstance(layer, str):
            if layer not in names:
                raise ValueError(f"No such layer: {layer}. Existing layers are: {names}.")
            return names.index(layer)
        raise TypeError(
            "`layer` must be an int index, a layer name or a layer of the model. "
            f"Received: {layer!r} (of type {type(layer).__name__})"
        )

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or the one at position ``index`` in ``layers``
        (negative counts from the end), with Keras's messages when there is none."""
        if name is not None and index is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise TypeError(f"get_layer: `index` must be an integer. Received: {index!r}")
            return self.layers[self.locate_layer(index)]
        if name is not None:
            return self.layers[self.locate_layer(str(name))]
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # ------------------------------------------------------------------ shapes
    def output_shapes(self, input_shape) -> list:
        """Every node's output shape for inputs of ``input_shape`` (batch axis first; a
        list or dict of shapes for several inputs), packed as the node's layer returns
        its output. Raises ValueError naming the layer that cannot take it."""
        values = self.value_shapes(input_shape)
        return [node.layer._pack_outputs([values[i] for i in node.outputs]) for node in self.nodes]

    def value_shapes(self, input_shape) -> list[tuple]:
        """The shape of every value (the inputs, then each node's outputs; see ``Node``)
        for inputs of ``input_shape``: the single place where an input is checked against
        the model. Raises ValueError naming the layer that cannot take it."""
        shapes = [tuple(s) for s in self._input_values(input_shape)]
        declared = [t.shape for t in self._inputs] or [self._input_shape]
        for i, (shape, want) in enumerate(zip(shapes, declared)):
            if want is not None and len(shape) != len(want):
                word = "min_ndim" if len(shape) < len(want) else "ndim"
                first = self.nodes[0].layer.name if self._single_io() and self.nodes else self.name
                raise ValueError(
                    f"Input {i} of layer '{first}' is incompatible with the layer: expected "
                    f"{word}={len(want)}, found ndim={len(shape)}. Full shape received: "
                    f"{format_shape(shape)}"
                )
        values = list(shapes)
        for node in self.nodes:
            layer = node.layer
            shape = layer.compute_output_shape(
                layer._pack_sources([values[i] for i in node.inputs])
            )
            values.extend(layer._flat_outputs(shape))
        return values

    def _model_output_shape(self, input_shape):
        """The model's output shape(s) for ``input_shape``, packed like its outputs."""
        return self._outputs_of(self.value_shapes(input_shape))

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        """The model's output shape for inputs of ``input_shape`` (batch axis first);
        a ValueError naming the first layer that cannot take it."""
        if not self.layers and not self._inputs:
            raise ValueError(f"{type(self).__name__} '{self.name}' has no layers.")
        return self._model_output_shape(input_shape)

    def weight_specs(self, input_shape: Sequence) -> list:
        """As a layer: its weights (every layer's, named ``layer/weight``) for inputs of
        ``input_shape``; a model's weights are fixed when it is built, so ``input_shape``
        must be one it takes."""
        self.compute_output_shape(input_shape)
        return self._named_specs()

    def _named_specs(self) -> list:
        out = []
        for layer in self.layers:
            inner = layer._named_specs() if is_model(layer) else layer._specs
            out.extend(s._replace(name=f"{layer.name}/{s.name}") for s in inner)
        return out

    # ------------------------------------------------------------------ weights
    def _weight_slices(self) -> dict[int, slice]:
        """Per layer (by ``id``), its weights' place in the flat list."""
        out, start = {}, 0
        for layer in self.layers:
            out[id(layer)] = slice(start, start + len(layer.weight_names))
            start = out[id(layer)].stop
        return out

    def weight_arrays(self) -> list[np.ndarray]:
        """The stored weights themselves (no copies), flat in ``get_weights()`` order: what
        ``predict`` and ``fit`` hand to ``apply``. Treat them as read-only."""
        return [w for layer in self.layers for w in layer.weight_arrays()]

    @property
    def weight_names(self) -> list[str]:
        """``"layer/weight"`` for every weight, in ``get_weights()`` order."""
        return [f"{layer.name}/{name}" for layer in self.layers for name in layer.weight_names]

    @property
    def weight_trainable(self) -> tuple[bool, ...]:
        """Per weight (``get_weights()`` order), whether training updates it."""
        return tuple(t for layer in self.layers for t in layer.weight_trainable)

    def trainable_indices(self) -> list[int]:
        """Positions in the flat weight list of the weights training updates."""
        return [i for i, trainable in enumerate(self.weight_trainable) if trainable]

    @property
    def weights(self) -> list[np.ndarray]:
        return self.get_weights()

    @property
    def shaped(self) -> bool:
        """Whether the model knows its input shape (for a model, the same as ``built``;
        a layer can be ``built`` before, see ``Layer.shaped``)."""
        return self.built

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """Copies of the weights training updates, in ``get_weights()`` order."""
        arrays = self.weight_arrays()
        return [arrays[i].copy() for i in self.trainable_indices()]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """Copies of the weights training leaves alone, in ``get_weights()`` order."""
        keep = set(self.trainable_indices())
        return [w.copy() for i, w in enumerate(self.weight_arrays()) if i not in keep]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, ``[kernel1, bias1, kernel2, bias2, ...]``, float32."""
        return [w.copy() for w in self.weight_arrays()]

    def set_weights(self, weights: Sequence) -> None:
        """Replace all weights; the count and every shape are checked before any change."""
        self.assign_weights(check_weights(self.name, self.weight_arrays(), weights))

    def assign_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Store a flat list of float32 arrays of the right shapes (``get_weights()``
        order), without copying: how a training step commits."""
        if len(weights) != sum(len(layer.weight_names) for layer in self.layers):
            raise ValueError(
                f"Model '{self.name}'.assign_weights: expected {len(self.weight_names)} "
                f"arrays, received {len(weights)}."
            )
        slices = self._weight_slices()
        for layer in self.layers:
            layer.assign_weights(weights[slices[id(layer)]])

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        weights: Sequence,
        x,
        training: bool = False,
        seed: int | None = None,
        values=None,
        state=None,
    ):
        """The model's one forward loop: yield ``(layer, output, updates)`` for every node
        in order, where ``updates`` are the layer's new non-trainable weights (see
        ``Layer.stateless_call``).

        Pure in ``weights``, ``x``, ``training`` and ``seed``: a layer that draws random
        numbers gets a generator derived from ``(seed, node number)``, so the same seed
        gives the same masks, and nothing is assigned. ``x`` is one array, or a list or
        dict for a model of several inputs; ``values``, when given, is filled with every
        value (the inputs, then each node's outputs; see ``Node``); ``state``, when given,
        with the weights as the pass leaves them. Updates apply as soon as a node makes
        them, so a shared layer's second call sees its first call's moving statistics, as
        in Keras, where the first call assigns them before the second reads them.
        """
        slices = self._weight_slices()
        values = [] if values is None else values
        values[:] = self._input_values(x)
        state = [] if state is None else state
        state[:] = weights
        for k, node in enumerate(self.nodes):
            layer = node.layer
            mode = training if node.training is None else node.training
            rng = None
            if mode and layer.needs_rng and seed is not None:
                rng = np.random.default_rng((seed, k))
            elif mode and layer.needs_rng and node.training:
                # A call fixed in training mode draws from minicnn's generator when the
                # model runs unseeded (inference), as Keras's dropout stays random there.
                rng = global_rng()
            where = slices[id(layer)]
            y, updates = layer.stateless_call(
                state[where],
                layer._pack_sources([values[i] for i in node.inputs]),
                training=mode,
                rng=rng,
            )
            if updates:
                # Updates replace the layer's trailing (non-trainable) weights.
                state[where.stop - len(updates) : where.stop] = updates
            values.extend(layer._flat_outputs(y))
            yield layer, y, updates

    def _outputs_of(self, values):
        if not self._output_values:  # a Sequential: its last node
            return values[-1]
        return _pack(self._output_structure, [values[i] for i in self._output_values])

    def stateless_call(self, weights: Sequence, x, training: bool = False, seed=None, rng=None):
        """``(outputs, new_weights)``: the model's output and the flat weight list with the
        non-trainable weights that changed in this pass replaced (Keras's
        ``stateless_call``). Pure; differentiable by autograd in ``weights`` and ``x``.

        As a layer of another model, the outer loop passes ``rng`` (a generator) instead
        of ``seed``; the seed is drawn from it, so one outer seed fixes every mask inside.
        ``new_weights`` then stands as the layer's updates: all of its weights, which the
        outer loop puts back in place (``updates`` replace a layer's trailing weights).
        """
        if seed is None and rng is not None:
            seed = int(rng.integers(2**63 - 1))
        values, state = [], []
        for _ in self.forward(weights, x, training, seed, values, state):
            pass
        return self._outputs_of(values), state

    def apply(self, weights: Sequence, x, training: bool = False, seed=None):
        """The model's output for batch ``x`` with ``weights`` (``get_weights()`` order).

        Pure and differentiable by autograd in ``weights`` and ``x``. Computes in the
        dtype it is given (float64 stays float64, for gradient checks); no shape checks
        here beyond what the math needs: ``predict`` and ``fit`` check at their entry.
        ``training=True`` runs training behaviour; ``seed`` fixes its randomness.
        """
        values = []
        for _ in self.forward(weights, x, training, seed, values):
            pass
        return self._outputs_of(values)

    def layer_outputs(self, weights: Sequence, x, training: bool = False, seed=None):
        """Yield ``(layer, output)`` for every node in order (``forward`` without the
        updates), for ``feature_maps`` and ``explain``."""
        for layer, y, _ in self.forward(weights, x, training, seed):
            yield layer, y

    def prepare_input(self, x, method: str = "predict", cast: bool = True):
        """``x`` as float32 (``cast=False``: any numeric dtype, uncopied), with the model
        built for it, its rank adjusted as Keras does (``adjust_ranks``) and its whole
        shape checked; a list or dict of arrays for several inputs."""
        if not self.layers:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no layers; add some before {method}."
            )
        if not self._single_io():
            arrays = [
                as_input(a, f"'{self.name}' input {i}", cast)
                for i, a in enumerate(self._input_values(x))
            ]
            if len({len(a) for a in arrays if a.ndim}) > 1:
                raise ValueError(
                    f"{method}: the inputs of '{self.name}' hold different numbers of samples: "
                    f"{[len(a) for a in arrays]}."
                )
            passed = [a.shape for a in arrays]
            arrays = self.adjust_ranks(arrays)
            self.check_input_shapes([a.shape for a in arrays], method, passed=passed)
            return _pack(self._input_structure, arrays)
        if isinstance(x, dict):
            (x,) = self._input_values(x)
        elif (
            self.keras_class != "Sequential"
            and isinstance(x, (list, tuple))
            and len(x) != 1
            and all(isinstance(a, np.ndarray) for a in x)
        ):
            # Keras reads a list of arrays as a structure of inputs, not as samples.
            raise ValueError(
                f"Model '{self.name}' expects 1 input(s), but it received {len(x)} input "
                "arrays (a list of arrays is a list of inputs; stack samples into one array)."
            )
        x = as_input(x, f"'{self.name}'", cast)
        if x.ndim < 1:
            raise ValueError(f"{method}: expected a batch of samples; received a scalar.")
        passed = x.shape
        (x,) = self.adjust_ranks([x])
        self.check_input_shapes([x.shape], method, passed=[passed])
        return x

    def adjust_ranks(self, arrays: list) -> list:
        """Keras's rank adjustment of a model's inputs (``Functional._adjust_input_rank``),
        per input in ``inputs`` order: an array one axis short of a declared shape that
        ends in 1 gains that axis (images without their channel axis, ``(n, 8, 8)`` for
        ``Input((8, 8, 1))``, as MNIST arrives); one axis long and ending in 1 loses it.
        Views, not copies; anything else is left for the shape check to refuse."""
        declared = [t.shape for t in self._inputs] or [self._input_shape]
        out = []
        for a, want in zip(arrays, declared):
            if want is not None and a.ndim == len(want) - 1 and want[-1] == 1:
                a = a[..., np.newaxis]
            elif want is not None and a.ndim == len(want) + 1 and a.shape[-1] == 1:
                a = a[..., 0]
            out.append(a)
        return out

    def check_input_shapes(self, shapes: list, method: str, name: str = "x", passed=None):
        """Check the whole shape of each input array (batch axis first, ranks already
        adjusted; ``inputs`` order) against the model, building an unbuilt Sequential
        for the first. The error names the argument and the shapes the user ``passed``
        (before rank adjustment), and suggests a batch axis for what looks like one
        sample without it."""
        shapes = [tuple(s) for s in shapes]
        passed = shapes if passed is None else [tuple(s) for s in passed]
        if not self.built:
            self.build((None, *shapes[0][1:]))
        try:
            if self.keras_class != "Sequential":
                self._check_input_spec(shapes)
            self.value_shapes(self._pack_inputs(shapes))
        except ValueError as err:
            declared = [t.shape for t in self._inputs] or [self._input_shape]
            hint = ""
            if any(_one_sample(s, want) for s, want in zip(passed, declared)):
                hint = (
                    " It looks like one sample without the batch axis: pass a batch of one, "
                    f"`{name}[None]` (np.expand_dims({name}, 0))."
                )
            elif any(_channels_first(s, want) for s, want in zip(passed, declared)):
                hint = (
                    " It looks like channels-first data; minicnn, like Keras by default, "
                    f"takes channels last: pass np.moveaxis({name}, 1, -1)."
                )
            got = format_shape(passed[0]) if len(passed) == 1 else [format_shape(s) for s in passed]
            raise ValueError(
                f"{method}: `{name}` of shape {got} does not fit model '{self.name}': {err}"
                + ("" if not hint or str(err).endswith(".") else ".")
                + hint
            ) from None

    def _check_input_spec(self, shapes: list) -> None:
        """Keras's functional input spec: each input's shape against its Input's, but for
        the batch axis (None matches any size; a Sequential, like Keras's, takes other
        spatial sizes)."""
        for i, (shape, tensor) in enumerate(zip(shapes, self._inputs)):
            want = (None, *tensor.shape[1:])
            if len(shape) != len(want) or any(w not in (None, g) for w, g in zip(want, shape)):
                raise ValueError(
                    f"Input {i} with name '{tensor._history[0].name}' of layer '{self.name}' "
                    f"is incompatible with the layer: expected shape={want}, found "
                    f"shape={shape}"
                )

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for every sample of ``x``, as Keras's ``predict``.

        Parameters
        ----------
        x : array ``(samples, *input_shape)`` (a list or dict of them for several
            inputs); images without their channel axis are taken as Keras takes them. Or
            a generator or ``PyDataset`` of batches: each an input array, or a tuple
            whose first item is the inputs (targets and weights are ignored, as Keras).
        batch_size : None or int
            Samples per batch (None: 32); memory grows with it, not with ``len(x)``.
        verbose : ``"auto"``, 0 or 1
            A progress bar, drawn only if the work outlasts a second.
        steps : None or int
            For a generator or ``PyDataset``, how many batches to predict (None: until
            the generator is exhausted, or every batch of the PyDataset); must be None
            for arrays, whose batches are all predicted.
        callbacks : None or list of Callback
            Their ``on_predict_begin``, ``on_predict_batch_begin``,
            ``on_predict_batch_end`` (logs ``{"outputs": ...}``, as Keras) and
            ``on_predict_end`` hooks are called.

        Returns
        -------
        A float32 array of shape ``(len(x), *output_shape[1:])`` (a list or dict of them
        for several outputs).

        Examples
        --------
        >>> import numpy as np
        >>> from minicnn.layers import Conv2D
        >>> model = Sequential([Conv2D(1, 3, input_shape=(8, 8, 1))])
        >>> model.predict(np.zeros((5, 8, 8, 1))).shape
        (5, 6, 6, 1)
        """
        verbose = check_verbose(verbose, "predict")
        if is_batch_source(x):
            if batch_size is not None:
                raise ValueError(
                    f"predict: `batch_size` must be None for a {kind(x)}, which makes its own "
                    f"batches. Received: batch_size={batch_size!r}"
                )
            hooks = CallbackList(check_callbacks(callbacks, "predict"), self, {"verbose": verbose})
            return self._predict_batches(Batches(x, steps, "predict", "steps"), verbose, hooks)
        batch_size = check_batch_size(batch_size, "predict")
        if steps is not None:
            raise ValueError(
                "predict: `steps` counts the batches of a generator; minicnn's predict takes "
                f"arrays, whose batches are all predicted. Received: steps={steps!r}"
            )
        hooks = CallbackList(check_callbacks(callbacks, "predict"), self, {"verbose": verbose})
        # Cast batch by batch and fill one result array, so memory beyond the result grows
        # with batch_size, not with len(x) (a uint8 image set is not copied as float32).
        x = self.prepare_input(x, cast=False)
        inputs = self._input_values(x)
        n = len(inputs[0])
        shapes = [(n, *a.shape[1:]) for a in inputs]
        out_shapes = self._model_output_shape(_pack(self._input_structure, shapes))
        outs = [np.empty(s, dtype=np.float32) for s in _unpack(self._output_structure, out_shapes)]
        weights = self.weight_arrays()
        steps = batches(n, batch_size)
        self.stop_predicting = False
        done = 0
        hooks.on_predict_begin()
        with progress_bar(len(steps), verbose, delay=PROGRESS_DELAY) as bar:
            for k, step in enumerate(steps):
                hooks.on_predict_batch_begin(k)
                batch = _pack(self._input_structure, [as_batch(a, step) for a in inputs])
                ys = self.apply(weights, batch)
                for out, y in zip(outs, _unpack(self._output_structure, ys)):
                    out[step] = y
                done = step.stop
                hooks.on_predict_batch_end(k, {"outputs": ys})
                bar.update()
                if self.stop_predicting:
                    break
        hooks.on_predict_end()
        # A callback that stopped early leaves the predictions made so far, as in Keras.
        outs = [out[:done] for out in outs]
        return _pack(self._output_structure, outs)

    def _predict_batches(self, feed, verbose, hooks):
        """``predict`` over a generator's or PyDataset's batches, joined along the batch
        axis (each output's batches must agree beyond it, as numpy's concatenate needs)."""
        outs = []
        self.stop_predicting = False
        hooks.on_predict_begin()
        with progress_bar(feed.steps, verbose, delay=PROGRESS_DELAY) as bar:
            for k, item in feed.epoch():
                if isinstance(item, list) and self._single_io():
                    item = tuple(item)
                # Keras's unpack_x_y_sample_weight: a tuple's first item is the inputs.
                batch = item[0] if isinstance(item, tuple) else item
                hooks.on_predict_batch_begin(k)
                batch = self.prepare_input(batch)  # builds an unbuilt Sequential first
                ys = self.apply(self.weight_arrays(), batch)
                flat = _unpack(self._output_structure, ys)
                outs.append([np.asarray(y, np.float32) for y in flat])
                hooks.on_predict_batch_end(k, {"outputs": ys})
                bar.update()
                if self.stop_predicting:
                    break
        hooks.on_predict_end()
        if not outs:
            raise ValueError(f"predict: the {feed.what} yielded no batches.")
        joined = [np.concatenate(parts) for parts in zip(*outs)]
        return _pack(self._output_structure, joined)

    def __call__(self, x, training: bool | None = None):
        """The model on a whole batch at once (no batching), as float32 arrays (``training``
        None is inference). In training mode, randomness comes from minicnn's generator
        (``set_random_seed``).

        On a ``KerasTensor`` (a list of them for several inputs) the model is a layer of
        the functional model being built: the call is recorded and its output returned
        (``training`` True or False fixes its mode there, as for a layer).
        """
        if is_symbolic(x):
            if training is not None:
                training = check_bool(training, f"'{self.name}'", "training")
            return self._call_symbolic(x, training)
        # Checked before prepare_input, which may build an unbuilt Sequential.
        training = check_bool(False if training is None else training, f"'{self.name}'", "training")
        x = self.prepare_input(x, "__call__")
        seed = draw_seed() if training and self.needs_rng else None
        if training:
            # As Keras's eager call: training updates the state (moving statistics).
            ys, weights = self.stateless_call(self.weight_arrays(), x, True, seed)
            self.assign_weights([np.asarray(w, dtype=np.float32) for w in weights])
        else:
            ys = self.apply(self.weight_arrays(), x, training, seed)
        flat = [np.asarray(y, np.float32) for y in _unpack(self._output_structure, ys)]
        return _pack(self._output_structure, flat)

    # ------------------------------------------------------------------ as a layer
    #: The model's inner geometry is not one mapping: receptive fields stop here.
    spatial_mapping = None
    window = None

    @property
    def _takes_list(self) -> bool:
        """As a layer: called on a flat list (or tuple) of tensors, as a merge is."""
        return self._input_structure.kind in ("list", "tuple") and self._input_structure.is_flat

    def _pack_sources(self, items: list):
        return _pack(self._input_structure, list(items))

    def _pack_outputs(self, items: list):
        return _pack(self._output_structure, list(items))

    def _flat_outputs(self, output) -> list:
        return _unpack(self._output_structure, output)

    # The one symbolic-call mechanism, Layer's, with this model's input and output layout.
    _call_symbolic = Layer._call_symbolic

    def _symbolic_inputs(self, x) -> tuple:
        """As a layer of an outer model (Keras's nested models): the tensors ``x`` (one, a
        list or a dict, as this model takes its inputs) in input order, and their shapes
        packed the same way; the call's outputs are packed as the model's outputs."""
        structure = self._input_structure
        if structure.kind == "dict" or not structure.is_flat:
            if not structure.matches(x):
                takes = (
                    f"a dict of inputs with keys {list(structure.keys)}"
                    if structure.kind == "dict"
                    else "its inputs"
                )
                raise ValueError(
                    f"Model '{self.name}' takes {takes} as {structure.describe()}; it was "
                    f"called on {describe(x)}."
                )
            if structure.kind == "dict":
                self._warn_extra_keys(x, structure.keys)
            inputs = tuple(structure.flatten(x))
        elif isinstance(x, dict):
            inputs = tuple(self._input_values(x))  # keyed by the Inputs' names, as Keras
        else:
            inputs = (x,) if isinstance(x, KerasTensor) else tuple(x)
        _check_tensors(self, inputs)
        expected = len(self._inputs) or 1
        if len(inputs) != expected:
            raise ValueError(
                f"Model '{self.name}' expects {expected} input(s), but it was called on "
                f"{len(inputs)} tensors."
            )
        return inputs, self._pack_sources([t.shape for t in inputs])

    @property
    def output(self):
        """The model's own output tensor(s), as Keras's ``model.output``."""
        return self._own_tensors("output", self._outputs, self._output_structure)

    @property
    def input(self):
        """The model's own input tensor(s), as Keras's ``model.input``."""
        return self._own_tensors("input", self._inputs, self._input_structure)

    def _own_tensors(self, what: str, tensors: list, structure: Structure):
        if not tensors:
            raise AttributeError(
                f"{type(self).__name__} '{self.name}' has no {what} tensor yet (it has not "
                "been built on an input shape)."
            )
        return _pack(structure, list(tensors))

    def get_output_at(self, node_index: int):
        return self._calls[node_index].output

    def get_input_at(self, node_index: int):
        return self._pack_sources(list(self._calls[node_index].inputs))

    # ------------------------------------------------------------------ seeing inside
    def feature_maps(self, x) -> dict[str, np.ndarray]:
        """Every layer's output for batch ``x``: ``{layer name: float32 array}`` in layer
        order, from the same loop as ``apply`` (a list or dict of arrays for a nested
        model of several outputs)."""
        x = self.prepare_input(x, "feature_maps")
        return {
            layer.name: layer._pack_outputs(
                [np.asarray(v, dtype=np.float32) for v in layer._flat_outputs(y)]
            )
            for layer, y in self.layer_outputs(self.weight_arrays(), x)
        }

    explain = explain
    receptive_field = receptive_field

    # ------------------------------------------------------------------ summary
    summary = print_summary

    #: The class name Keras's configs and summaries give this kind of model.
    keras_class = "Functional"

    def get_config(self) -> dict:
        """The architecture as plain data, as Keras 3's ``get_config`` writes it (each
        layer with its module, class, config, ``inbound_nodes``; ``input_layers`` and
        ``output_layers`` nested as the model's inputs and outputs); ``from_config``
        (minicnn's or Keras's) rebuilds it."""
        return keras_schema.export_model(self)["config"]

    def plain_config(self) -> dict:
        """The same graph in minicnn's plain form: each layer as ``{"class_name",
        "config", "name", "inbound_nodes"}`` with minicnn's layer configs."""
        return graph_config(self)

    @classmethod
    def from_config(cls, config: dict):
        """A new functional model (fresh weights) from ``get_config()``'s output (Keras's
        or minicnn's, either form); every field is checked and only minicnn's own layer
        classes are built."""
        where = f"{cls.__name__}.from_config"
        config = keras_schema.minicnn_form(config, "Functional", where)
        return parse_graph(config, saving.layer_from_config, where, config_io.MAX_LAYERS).build(cls)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} name={self.name!r}, layers={len(self.layers)}, "
            f"built={self.built}>"
        )


def _one_sample(shape: tuple, declared) -> bool:
    """Whether ``shape`` is a declared input shape without its batch axis."""
    return (
        declared is not None
        and len(shape) == len(declared) - 1
        and all(w is None or s == w for s, w in zip(shape, declared[1:]))
    )


def _channels_first(shape: tuple, declared) -> bool:
    """Whether ``shape`` is a declared (channels-last) input shape with the channel axis
    moved to the front, as PyTorch and some data sets order images."""
    return (
        declared is not None
        and len(declared) >= 3
        and len(shape) == len(declared)
        and shape[1] == declared[-1]
        and all(w is None or s == w for s, w in zip(shape[2:], declared[1:-1]))
    )


def contains(model: Model, target: Model) -> bool:
    """Whether ``model`` is ``target`` or holds it among its (nested) layers."""
    stack = [model]
    while stack:
        current = stack.pop()
        if current is target:
            return True
        stack.extend(layer for layer in current.layers if isinstance(layer, Model))
    return False


def _flatten(what: str, tensors) -> tuple:
    """``(structure, list)`` for a KerasTensor or a nest of them (lists, tuples,
    namedtuples, dicts: Keras's nested inputs and outputs), leaves in Keras's order;
    anything else is a ValueError naming the argument."""
    try:
        structure = Structure.of(tensors, lambda v: not isinstance(v, (list, tuple, dict)), what)
    except ValueError:
        structure = None
    items = [] if structure is None else structure.flatten(tensors)
    if structure is None or not all(isinstance(t, KerasTensor) for t in items):
        raise ValueError(
            f"All `{what}` values must be KerasTensors (from `Input()` and from layers "
            f"called on them), given as one, or a non-empty list, tuple or dict of them "
            f"(nested as you like). Received: {what}={tensors!r:.120}"
        )
    return structure, items


def _flat_shapes(structure: Structure, packed):
    """Keras's ``input_shape``/``output_shape``: one shape, or a flat list of them."""
    shapes = _unpack(structure, packed)
    return shapes[0] if len(shapes) == 1 else shapes


def _pack(structure: Structure, items: list):
    """The inverse of ``_flatten`` for values: ``items`` nested as ``structure``."""
    return structure.pack(items)


def _unpack(structure: Structure, packed) -> list:
    """The leaves of ``packed``, a value of ``structure`` (a model's own outputs)."""
    return [packed] if structure.is_leaf else structure.flatten(packed)


__all__ = ["Model"]
