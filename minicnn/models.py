"""Models: layers wired into a graph of nodes, with one data path.

``Model`` is the engine. Its ``nodes`` list each call of a layer in topological order,
with the values it reads (the model's inputs, or earlier nodes' outputs); ``forward`` is
the one loop that runs them, and everything that computes goes through it:
``apply`` / ``stateless_call`` (the pure functions of a flat weight list that autograd
differentiates), ``predict``, ``__call__``, ``fit``/``evaluate`` (``minicnn.training``),
``feature_maps``, ``explain`` and ``gradcheck``. ``Sequential`` is the special case of a
chain, one node per layer, built as layers are added.

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
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from . import saving, training
from .callbacks import PROGRESS_DELAY
from .data import as_batch, as_input, batches
from .explain import explain
from .layers import InputLayer, Layer
from .layers import deserialize as deserialize_layer
from .receptive import receptive_field, summary_columns
from .saving import load_model
from .utils import draw_seed, unique_name
from .validation import (
    check_batch_size,
    check_bool,
    check_name,
    check_verbose,
    check_weights,
    format_shape,
)


class Node(NamedTuple):
    """One call of ``layer`` in a model: it reads the values numbered ``inputs`` (the
    model's inputs come first, then one value per node in order) and makes one value."""

    layer: Layer
    inputs: tuple[int, ...]


class Model:
    """A graph of layers with one forward loop; see the module docstring.

    Subclasses define how the graph is built (``Sequential`` appends a chain) by setting
    ``layers``, ``nodes``, ``input_shape``, ``output_shape`` and ``built``.
    """

    # Written once in their modules, bound here as methods.
    compile = training.compile
    fit = training.fit
    evaluate = training.evaluate
    get_compile_config = training.get_compile_config
    compile_from_config = training.compile_from_config
    save = saving.save_model
    save_weights = saving.save_weights
    load_weights = saving.load_weights

    def __init__(self, name: str | None = None):
        kind = type(self).__name__
        self.name = unique_name(self.default_name()) if name is None else check_name(name, kind)
        self.layers: list[Layer] = []
        self.nodes: list[Node] = []
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self.built = False
        # Set by compile and fit: what to train with and what happened.
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.compiled_loss = None
        self.compiled_metrics: list = []
        self.metric_directions: dict[str, str | None] = {}
        self.history = None
        self.stop_training = False

    @classmethod
    def default_name(cls) -> str:
        return "model"

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
    def output_shapes(self, input_shape: Sequence) -> list[tuple]:
        """Every node's output shape for inputs of ``input_shape`` (batch axis first): the
        single place where an input is checked against the model. Raises ValueError naming
        the layer that cannot take it."""
        shape = tuple(input_shape)
        if self.input_shape is not None and len(shape) != len(self.input_shape):
            word = "min_ndim" if len(shape) < len(self.input_shape) else "ndim"
            first = self.nodes[0].layer.name if self.nodes else self.name
            raise ValueError(
                f"Input 0 of layer '{first}' is incompatible with the layer: expected "
                f"{word}={len(self.input_shape)}, found ndim={len(shape)}. Full shape "
                f"received: {format_shape(shape)}"
            )
        values, out = [shape], []
        for node in self.nodes:
            (source,) = (values[i] for i in node.inputs)
            values.append(node.layer.compute_output_shape(source))
            out.append(values[-1])
        return out

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        """The model's output shape for inputs of ``input_shape`` (batch axis first);
        a ValueError naming the first layer that cannot take it."""
        if not self.layers:
            raise ValueError(f"{type(self).__name__} '{self.name}' has no layers.")
        return self.output_shapes(input_shape)[-1]

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

    def trainable_indices(self) -> list[int]:
        """Positions in the flat weight list of the weights training updates."""
        flags = [t for layer in self.layers for t in layer.weight_trainable]
        return [i for i, trainable in enumerate(flags) if trainable]

    @property
    def weights(self) -> list[np.ndarray]:
        return self.get_weights()

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
    def forward(self, weights: Sequence, x, training: bool = False, seed: int | None = None):
        """The model's one forward loop: yield ``(layer, output, updates)`` for every node
        in order, where ``updates`` are the layer's new non-trainable weights (see
        ``Layer.stateless_call``).

        Pure in ``weights``, ``x``, ``training`` and ``seed``: a layer that draws random
        numbers gets a generator derived from ``(seed, node number)``, so the same seed
        gives the same masks, and nothing is assigned.
        """
        slices = self._weight_slices()
        values = [x]
        for k, node in enumerate(self.nodes):
            layer = node.layer
            rng = None
            if training and layer.needs_rng and seed is not None:
                rng = np.random.default_rng((seed, k))
            (source,) = (values[i] for i in node.inputs)
            y, updates = layer.stateless_call(
                weights[slices[id(layer)]], source, training=training, rng=rng
            )
            values.append(y)
            yield layer, y, updates

    def stateless_call(self, weights: Sequence, x, training: bool = False, seed=None):
        """``(outputs, new_weights)``: the model's output and the flat weight list with the
        non-trainable weights that changed in this pass replaced (Keras's
        ``stateless_call``). Pure; differentiable by autograd in ``weights`` and ``x``."""
        new, slices = list(weights), self._weight_slices()
        for layer, y, updates in self.forward(weights, x, training, seed):
            if updates:
                # Updates replace the layer's trailing (non-trainable) weights.
                stop = slices[id(layer)].stop
                new[stop - len(updates) : stop] = updates
            x = y
        return x, new

    def apply(self, weights: Sequence, x, training: bool = False, seed=None):
        """The model's output for batch ``x`` with ``weights`` (``get_weights()`` order).

        Pure and differentiable by autograd in ``weights`` and ``x``. Computes in the
        dtype it is given (float64 stays float64, for gradient checks); no shape checks
        here beyond what the math needs: ``predict`` and ``fit`` check at their entry.
        ``training=True`` runs training behaviour; ``seed`` fixes its randomness.
        """
        for _, y, _ in self.forward(weights, x, training, seed):
            x = y
        return x

    def layer_outputs(self, weights: Sequence, x, training: bool = False, seed=None):
        """Yield ``(layer, output)`` for every node in order (``forward`` without the
        updates), for ``feature_maps`` and ``explain``."""
        for layer, y, _ in self.forward(weights, x, training, seed):
            yield layer, y

    def prepare_input(self, x, method: str = "predict", cast: bool = True) -> np.ndarray:
        """``x`` as float32 (``cast=False``: any numeric dtype, uncopied), with the model
        built for it and its shape checked."""
        if not self.layers:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no layers; add some before {method}."
            )
        x = as_input(x, f"'{self.name}'", cast)
        if not self.built:
            if x.ndim < 1:
                raise ValueError(f"{method}: expected a batch of samples; received a scalar.")
            self.build((None, *x.shape[1:]))
        self.output_shapes(x.shape)
        return x

    def predict(self, x, batch_size: int | None = None, verbose="auto") -> np.ndarray:
        """Outputs for every sample of ``x``, computed ``batch_size`` (default 32) at a time.

        Returns a float32 array of shape ``(len(x), *output_shape[1:])``. A progress bar
        appears (``verbose`` 1 or "auto") only if the work outlasts a short delay.
        """
        batch_size = check_batch_size(batch_size, "predict")
        verbose = check_verbose(verbose, "predict")
        # Cast batch by batch and fill one result array, so memory beyond the result grows
        # with batch_size, not with len(x) (a uint8 image set is not copied as float32).
        x = self.prepare_input(x, cast=False)
        weights = self.weight_arrays()
        out = np.empty(self.output_shapes(x.shape)[-1], dtype=np.float32)
        steps = batches(len(x), batch_size)
        with tqdm(
            total=len(steps), unit="step", disable=verbose == 0, delay=PROGRESS_DELAY, leave=False
        ) as bar:
            for step in steps:
                out[step] = self.apply(weights, as_batch(x, step))
                bar.update()
        return out

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """The model on a whole batch at once (no batching), as a float32 array. In
        training mode, randomness comes from minicnn's generator (``set_random_seed``)."""
        x = self.prepare_input(x, "__call__")
        training = check_bool(training, f"'{self.name}'", "training")
        seed = draw_seed() if training and self.needs_rng else None
        return np.asarray(self.apply(self.weight_arrays(), x, training, seed), dtype=np.float32)

    # ------------------------------------------------------------------ seeing inside
    def feature_maps(self, x) -> dict[str, np.ndarray]:
        """Every layer's output for batch ``x``: ``{layer name: float32 array}`` in layer
        order, from the same loop as ``apply``."""
        x = self.prepare_input(x, "feature_maps")
        return {
            layer.name: np.asarray(y, dtype=np.float32)
            for layer, y in self.layer_outputs(self.weight_arrays(), x)
        }

    explain = explain
    receptive_field = receptive_field

    # ------------------------------------------------------------------ summary
    def summary(self, print_fn=None, show_receptive_field: bool = False) -> None:
        """Print Keras's table: ``Layer (type) | Output Shape | Param #`` and the totals;
        ``show_receptive_field`` adds each layer's receptive-field size and jump."""
        print_fn = print_fn or print
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            shape = format_shape(layer.output_shape) if layer.built else "?"
            params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, params))
        if show_receptive_field:
            rows = [r + extra for r, extra in zip(rows, summary_columns(self))]
        # Keras's fixed column widths; a longer cell wraps onto more lines, as Keras's
        # table does ("global_average_pooling2d" over "(GlobalAveragePooling2D)").
        widths = (31, 22, 13, 16, 8)[: len(rows[0])]

        def line(left, mid, right, fill):
            return left + mid.join(fill * (w + 2) for w in widths) + right

        def row(cells, bar):
            wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths)]
            return "\n".join(
                f"{bar} "
                + f" {bar} ".join(
                    f"{c:>{w}}" if i == 2 else f"{c:<{w}}"
                    for i, (c, w) in enumerate(
                        zip((p[k] if k < len(p) else "" for p in wrapped), widths)
                    )
                )
                + f" {bar}"
                for k in range(max(map(len, wrapped)))
            )

        out = [
            f'Model: "{self.name}"',
            line("┏", "┳", "┓", "━"),
            row(rows[0], "┃"),
            line("┡", "╇", "┩", "━"),
        ]
        for i, r in enumerate(rows[1:]):
            out.append(row(r, "│"))
            if i < len(rows) - 2:
                out.append(line("├", "┼", "┤", "─"))
        out.append(line("└", "┴", "┘", "─"))
        sizes = [w.size for w in self.weight_arrays()]
        trainable = sum(sizes[i] for i in self.trainable_indices())
        total = sum(sizes)
        for label, n in (
            ("Total", total),
            ("Trainable", trainable),
            ("Non-trainable", total - trainable),
        ):
            out.append(f" {label} params: {n:,} ({_bytes(4 * n)})")
        print_fn("\n".join(out))

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} name={self.name!r}, layers={len(self.layers)}, "
            f"built={self.built}>"
        )


class Sequential(Model):
    """A linear stack of layers, built as soon as its input shape is known.

    >>> model = Sequential()
    >>> model.add(Conv1D(1, 3, input_shape=(8, 1)))   # built here: set_weights works
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None):
        super().__init__(name)
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, Sequence):
                raise TypeError(
                    f"Sequential: `layers` must be a list of layers. Received: {layers!r}"
                )
            for layer in layers:
                self.add(layer)

    @classmethod
    def default_name(cls) -> str:
        return "sequential"

    # ------------------------------------------------------------------ building
    def add(self, layer: Layer) -> None:
        """Append a layer. An ``Input``, or a first layer declaring ``input_shape``,
        builds the model at once; later layers are built as they are added."""
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `minicnn.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self.layers or self.input_shape is not None:
                raise ValueError(
                    f"Sequential '{self.name}': an Input can only be the first element; "
                    f"received {layer.name!r} after other layers."
                )
            self.input_shape = (layer.batch_size_arg, *layer.input_shape_arg)
            self.input_layer_name = layer.name
            return
        if any(existing is layer for existing in self.layers):
            raise ValueError(
                f"Sequential '{self.name}': layer '{layer.name}' is already in this model."
            )
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model."
            )
        declared = layer.input_shape_arg
        if declared is not None and not self.layers and self.input_shape is None:
            self.input_shape = (layer.batch_size_arg, *declared)
        if self.built or (not self.layers and self.input_shape is not None):
            # Build the new layer on the current output shape before adding it, so a
            # layer that cannot take it leaves the model unchanged.
            shape = self.output_shape if self.built else self.input_shape
            self._build_layer(layer, shape)
            self.output_shape = layer.output_shape
            self.built = True
        self.layers.append(layer)
        self.nodes.append(Node(layer, (len(self.nodes),)))

    def _build_layer(self, layer: Layer, shape: tuple) -> None:
        if layer.built:
            # A layer already built (shared, or rebuilt) must match, not be re-created.
            layer.compute_output_shape(shape)
            if layer.input_shape[1:] != tuple(shape[1:]) and layer.weight_names:
                raise ValueError(
                    f"Layer '{layer.name}' was built for inputs "
                    f"{format_shape(layer.input_shape)} and cannot take {format_shape(shape)}."
                )
        else:
            layer.build(shape)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError(f"Sequential '{self.name}': there is no layer to pop.")
        layer = self.layers.pop()
        self.nodes.pop()
        self.output_shape = self.layers[-1].output_shape if self.layers else self.input_shape
        self.built = bool(self.layers) and self.built
        return layer

    def build(self, input_shape: Sequence | None = None) -> None:
        """Build every layer for ``input_shape`` (batch axis first, usually None)."""
        if input_shape is None:
            input_shape = self.input_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential '{self.name}': cannot build without an input shape; pass "
                "`input_shape` to `build`, start with `Input(shape=...)`, or call `predict`."
            )
        if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
            raise ValueError(
                f"Sequential '{self.name}': `input_shape` must be a tuple. "
                f"Received: {input_shape!r}"
            )
        shape = tuple(input_shape)
        # Check the whole stack first so a shape some layer rejects builds nothing.
        self.output_shapes(shape)
        for layer in self.layers:
            self._build_layer(layer, shape)
            shape = layer.output_shape
        self.input_shape, self.output_shape = tuple(input_shape), shape
        self.built = True

    def get_config(self) -> dict:
        """``{"name", "input_shape", "layers": [{"class_name", "config"}, ...]}``."""
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape[1:]),
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
        }

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """A new model from ``get_config()``'s output (layers rebuilt by class name, built
        when the input shape is known)."""
        model = cls([deserialize_layer(entry) for entry in config["layers"]], name=config["name"])
        if config.get("input_shape") is not None and not model.built:
            model.build((None, *config["input_shape"]))
        return model


saving.MODEL_CLASSES.register(Sequential)


def _bytes(n: int) -> str:
    """Keras's size format: ``40.00 B``, ``1.17 KB``, ``3.52 MB``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


__all__ = ["Model", "Sequential", "load_model"]
