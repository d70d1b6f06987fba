"""``Sequential``: a stack of layers with one data path.

``apply(weights, x)`` is the whole forward computation, a pure function of a flat weight
list (``get_weights()`` order) and an input batch. ``predict``, ``__call__``, training
and the gradient checks are all thin loops around it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from . import saving, training
from .arguments import as_input, check_weights, format_shape
from .layers import InputLayer, Layer
from .saving import load_model
from .utils import unique_name

# A progress bar for predict appears only when the work outlasts this many seconds, so a
# one-image predict (the tutorial's) prints nothing but its result.
PROGRESS_DELAY = 1.0


def check_batch_size(batch_size, method: str) -> int:
    """``None`` means 32, as in Keras; anything else must be an integer >= 1."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(
            f"{method}: `batch_size` must be an integer >= 1 or None. "
            f"Received: batch_size={batch_size!r}"
        )
    if batch_size < 1:
        raise ValueError(
            f"{method}: `batch_size` must be an integer >= 1 or None. "
            f"Received: batch_size={batch_size}"
        )
    return int(batch_size)


def check_verbose(verbose, method: str) -> int:
    """``"auto"`` means 1; otherwise 0 (silent), 1 (progress bar) or 2 (one line per epoch)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(
            f"{method}: `verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}"
        )
    return int(verbose)


def batches(n: int, batch_size: int):
    """Consecutive ``slice`` objects of at most ``batch_size`` covering ``range(n)``."""
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


class Sequential:
    """A linear stack of layers, built as soon as its input shape is known.

    >>> model = Sequential()
    >>> model.add(Conv1D(1, 3, input_shape=(8, 1)))   # built here: set_weights works
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"Sequential: `name` must be a non-empty string. Received: {name!r}")
        self.name = name or unique_name("sequential")
        self.layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self.built = False
        # Set by compile/fit (minicnn.training): what to train with and what happened.
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.compiled_loss = None
        self.compiled_metrics: list = []
        self.history = None
        self.stop_training = False
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, Sequence):
                raise TypeError(
                    f"Sequential: `layers` must be a list of layers. Received: {layers!r}"
                )
            for layer in layers:
                self.add(layer)

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
            self.input_shape = (None, *layer.input_shape_arg)
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
            self.input_shape = (None, *declared)
        if self.built or (not self.layers and self.input_shape is not None):
            # Build the new layer on the current output shape before adding it, so a
            # layer that cannot take it leaves the model unchanged.
            shape = self.output_shape if self.built else self.input_shape
            self._build_layer(layer, shape)
            self.output_shape = layer.output_shape
            self.built = True
        self.layers.append(layer)

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

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or the one at position ``index`` in ``layers``
        (negative counts from the end), with Keras's messages when there is none."""
        if name is not None and index is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer: `index` must be an integer. Received: {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[lay.name for lay in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        """The model's output shape for inputs of ``input_shape`` (batch axis first);
        a ValueError naming the first layer that cannot take it."""
        if not self.layers:
            raise ValueError(f"Sequential '{self.name}' has no layers.")
        return self._infer_shapes(tuple(input_shape))[-1]

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError(f"Sequential '{self.name}': there is no layer to pop.")
        layer = self.layers.pop()
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
        self._infer_shapes(shape)
        for layer in self.layers:
            self._build_layer(layer, shape)
            shape = layer.output_shape
        self.input_shape, self.output_shape = tuple(input_shape), shape
        self.built = True

    def _infer_shapes(self, shape: tuple) -> list[tuple]:
        """Every layer's output shape for an input of ``shape``; the single place where
        an input is checked against the model. Raises ValueError naming the layer."""
        if self.input_shape is not None and len(shape) != len(self.input_shape):
            word = "min_ndim" if len(shape) < len(self.input_shape) else "ndim"
            raise ValueError(
                f"Input 0 of layer '{self.layers[0].name if self.layers else self.name}' is "
                f"incompatible with the layer: expected {word}={len(self.input_shape)}, found "
                f"ndim={len(shape)}. Full shape received: {format_shape(shape)}"
            )
        shapes = []
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            shapes.append(shape)
        return shapes

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[np.ndarray]:
        return self.get_weights()

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, ``[kernel1, bias1, kernel2, bias2, ...]``, float32."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence) -> None:
        """Replace all weights; the count and every shape are checked before any change."""
        self._assign(check_weights(self.name, self._weight_arrays(), weights))

    def _weight_arrays(self) -> list[np.ndarray]:
        """The stored weights themselves (no copies), in ``get_weights()`` order: what
        ``predict`` and ``fit`` hand to ``apply``."""
        return [w for layer in self.layers for w in layer._weights]

    def _assign(self, weights: Sequence[np.ndarray]) -> None:
        """Store an already validated flat weight list, all layers at once."""
        for layer, part in zip(self.layers, self.split_weights(weights)):
            layer._weights = part

    def split_weights(self, weights: Sequence) -> list[list]:
        """Cut a flat weight list into one list per layer."""
        out, i = [], 0
        for layer in self.layers:
            n = len(layer._weights)
            out.append(list(weights[i : i + n]))
            i += n
        return out

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Write all weights to a ``.weights.npz`` file, atomically (see ``minicnn.saving``)."""
        saving.save_weights(self, filepath, overwrite)

    def load_weights(self, filepath) -> None:
        """Set all weights from a ``.weights.npz`` (or ``.minicnn``) file, all or nothing."""
        saving.load_weights(self, filepath)

    def save(self, filepath, overwrite: bool = True) -> None:
        """Write the whole model (architecture, weights, compile settings and optimizer
        state) to one ``.minicnn`` file; ``minicnn.models.load_model`` reads it back."""
        saving.save_model(self, filepath, overwrite)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer (name or instance), loss and metrics, as Keras's ``compile``.

        Names: optimizers ``"sgd"``, ``"adam"``, ``"rmsprop"``; losses ``"mse"``,
        ``"mae"``, ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
        ``"sparse_categorical_crossentropy"``...; metrics ``"accuracy"``, ``"mae"``, ``"mse"``.
        """
        training.compile(self, optimizer, loss, metrics)

    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ):
        """Train for ``epochs`` epochs of mini-batch steps; returns a ``History``.

        ``x``: ``(samples, *input_shape)``; ``y``: targets for the compiled loss.
        ``batch_size`` None means 32; ``validation_split`` holds out the last fraction of the
        samples (before shuffling); ``verbose`` "auto"/1 shows a bar per epoch, 2 one line
        per epoch, 0 nothing. Stops with a warning, keeping the last finite weights, if the
        loss becomes NaN or infinite. On ``KeyboardInterrupt`` the model keeps the weights
        of the last completed step and ``model.history`` the epochs completed so far.
        """
        return training.fit(
            self,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
        )

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        verbose="auto",
        callbacks=None,
        return_dict: bool = False,
    ):
        """The loss (a float), or ``[loss, *metrics]`` when metrics were compiled, over
        ``(x, y)`` computed ``batch_size`` (default 32) samples at a time;
        ``return_dict=True`` gives ``{"loss": ..., "accuracy": ...}``."""
        return training.evaluate(self, x, y, batch_size, verbose, callbacks, return_dict)

    def get_compile_config(self) -> dict | None:
        """The ``compile`` arguments, serialized (None if not compiled)."""
        return training.get_compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        """``compile`` from ``get_compile_config()``'s output."""
        training.compile_from_config(self, config)

    # ------------------------------------------------------------------ forward
    def apply(self, weights: Sequence, x):
        """The model's output for batch ``x`` with ``weights`` (``get_weights()`` order).

        Pure and differentiable by autograd in ``weights`` and ``x``. Computes in the
        dtype it is given (float64 stays float64, for gradient checks); no shape checks
        here beyond what the math needs: ``predict`` and ``fit`` check at their entry.
        """
        for _, output in self.layer_outputs(weights, x):
            x = output
        return x

    def layer_outputs(self, weights: Sequence, x):
        """Yield ``(layer, output)`` for every layer in order: the model's one forward loop,
        shared by ``apply``, ``feature_maps`` and ``explain``."""
        for layer, part in zip(self.layers, self.split_weights(weights)):
            x = layer.apply(part, x)
            yield layer, x

    def prepare_input(self, x, method: str = "predict", cast: bool = True) -> np.ndarray:
        """``x`` as float32 (``cast=False``: any numeric dtype, uncopied), with the model
        built for it and its shape checked."""
        if not self.layers:
            raise ValueError(f"Sequential '{self.name}' has no layers; add some before {method}.")
        x = as_input(x, f"'{self.name}'", cast)
        if not self.built:
            if x.ndim < 1:
                raise ValueError(f"{method}: expected a batch of samples; received a scalar.")
            self.build((None, *x.shape[1:]))
        self._infer_shapes(x.shape)
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
        weights = self._weight_arrays()
        out = np.empty(self._infer_shapes(x.shape)[-1], dtype=np.float32)
        steps = batches(len(x), batch_size)
        with tqdm(
            total=len(steps), unit="step", disable=verbose == 0, delay=PROGRESS_DELAY, leave=False
        ) as bar:
            for step in steps:
                out[step] = self.apply(weights, np.asarray(x[step], dtype=np.float32))
                bar.update()
        return out

    def __call__(self, x) -> np.ndarray:
        """The model on a whole batch at once (no batching), as a float32 array."""
        x = self.prepare_input(x, "__call__")
        return np.asarray(self.apply(self._weight_arrays(), x), dtype=np.float32)

    # ------------------------------------------------------------------ seeing inside
    def feature_maps(self, x) -> dict[str, np.ndarray]:
        """Every layer's output for batch ``x``: ``{layer name: float32 array}`` in layer
        order, from the same loop as ``apply``."""
        x = self.prepare_input(x, "feature_maps")
        return {
            layer.name: np.asarray(y, dtype=np.float32)
            for layer, y in self.layer_outputs(self._weight_arrays(), x)
        }

    def explain(self, x, layer: int | str, index: Sequence[int]):
        """How output ``index`` of ``layer`` (index or name) comes about for input ``x``;
        see ``minicnn.explain.explain``."""
        from .explain import explain

        return explain(self, x, layer, index)

    def receptive_field(self, layer: int | str, index: Sequence[int]) -> tuple[slice, ...]:
        """The input region feeding spatial position ``index`` of ``layer``; see
        ``minicnn.receptive.receptive_field``."""
        from .receptive import receptive_field

        return receptive_field(self, layer, index)

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
            from .receptive import summary_columns

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
        trainable = sum(layer.count_params() for layer in self.layers if layer.trainable)
        total = self.count_params()
        for label, n in (
            ("Total", total),
            ("Trainable", trainable),
            ("Non-trainable", total - trainable),
        ):
            out.append(f" {label} params: {n:,} ({_bytes(4 * n)})")
        print_fn("\n".join(out))

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

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r}, layers={len(self.layers)}, built={self.built}>"


def _bytes(n: int) -> str:
    """Keras's size format: ``40.00 B``, ``1.17 KB``, ``3.52 MB``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


__all__ = ["Sequential", "load_model"]
