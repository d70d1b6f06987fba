"""``Sequential``: a linear stack of layers, the special case of ``Model`` where every
node reads the one before it; built as soon as its input shape is known."""

from __future__ import annotations

from collections.abc import Sequence

from . import keras_schema
from .config_io import build_sequential, parse_sequential
from .graph_config import plain_layer_config
from .layer import class_name
from .layers import InputLayer, KerasTensor, Layer
from .model import Model, Node, contains
from .utils import unique_name
from .validation import check_bool, format_shape


class Sequential(Model):
    """A linear stack of layers, each taking the previous one's output (Keras 3's
    ``Sequential``); built as soon as its input shape is known (an ``Input`` first, or a
    first layer's ``input_shape``), else on its first data.

    Parameters
    ----------
    layers : None or list of layers (an ``Input`` may come first)
        The stack; more can be added with ``add``.
    name : None or str
        The model's name (``"sequential"``, ``"sequential_1"``... by default).

    Examples
    --------
    >>> from minicnn.layers import Conv1D
    >>> model = Sequential()
    >>> model.add(Conv1D(1, 3, input_shape=(8, 1)))   # built here: set_weights works
    >>> model.output_shape
    (None, 6, 1)
    """

    keras_class = "Sequential"
    _reserved_layers = (
        "`Sequential.layers` attribute is reserved and should not be used. "
        "Use `add()` and `pop()` to change the layers in this model."
    )

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None):
        super().__init__(name=name)
        if layers is not None:
            if isinstance(layers, Layer) or not isinstance(layers, Sequence):
                raise TypeError(
                    f"Sequential: `layers` must be a list of layers. Received: {layers!r}"
                )
            for layer in layers:
                self.add(layer, rebuild=False)
            if self.built:
                self._rebuilt()

    @classmethod
    def default_name(cls) -> str:
        return "sequential"

    # Keras's Sequential has these only once built (its inner functional model exists);
    # before, ``hasattr(model, "inputs")`` is False, as there.
    def _defined(self, value, what: str):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined {what} yet.")
        return value

    inputs = property(lambda self: self._defined(self._inputs, "inputs"), doc=Model.inputs.__doc__)
    outputs = property(
        lambda self: self._defined(self._outputs, "outputs"), doc=Model.outputs.__doc__
    )
    input_shape = property(
        lambda self: self._defined(self._input_shape, "input shape"), doc=Model.input_shape.__doc__
    )
    output_shape = property(
        lambda self: self._defined(self._output_shape, "output shape"),
        doc=Model.output_shape.__doc__,
    )

    def _rebuilt(self) -> None:
        """Keras's Sequential makes an inner functional model each time it (re)builds,
        and that model takes the next automatic "functional" name; take it too, so that
        automatic model names (and summary headers) match Keras's in the same program."""
        unique_name("functional")

    # ------------------------------------------------------------------ building
    def add(self, layer: Layer, rebuild: bool = True) -> None:
        """Append a layer. An ``Input``, or a first layer declaring ``input_shape``,
        builds the model at once; later layers are built as they are added.
        ``rebuild=False`` (Keras's argument) defers Keras's rebuild, which here only
        decides when an automatic name is taken (see ``_rebuilt``)."""
        rebuild = check_bool(rebuild, f"Sequential '{self.name}'", "rebuild")
        if isinstance(layer, KerasTensor) and isinstance(layer._history[0], InputLayer):
            layer = layer._history[0]  # keras.Input(...) as the first element
        if not isinstance(layer, (Layer, Model)):
            raise ValueError(
                "Only instances of `minicnn.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, Model) and contains(layer, self):
            raise ValueError(
                f"Sequential '{self.name}': model '{layer.name}' cannot be added to it, since "
                f"it is '{self.name}' or contains it (a model cannot be its own layer)."
            )
        if isinstance(layer, Model) and not layer._single_io():
            raise ValueError(
                f"Sequential '{self.name}': a model added as a layer must have one input and "
                f"one output; model '{layer.name}' has {len(layer._inputs)} inputs and "
                f"{len(layer._outputs)} outputs."
            )
        if isinstance(layer, InputLayer):
            if self._input_shape is not None:
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input "
                    f"shape {self._input_shape}. You cannot add a different Input layer to it."
                )
            if self.layers:
                raise ValueError(
                    f"Sequential '{self.name}': an Input can only be the first element; "
                    f"received {layer.name!r} after other layers."
                )
            self._input_shape = (layer.batch_size_arg, *layer.input_shape_arg)
            self._inputs = [layer.output]
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
        # A model as the first layer declares its own input shape (Keras builds from it).
        if isinstance(layer, Model):
            declared = None if layer._input_shape is None else layer._input_shape[1:]
        else:
            declared = layer.input_shape_arg
        if declared is not None and not self.layers and self._input_shape is None:
            batch = layer._input_shape[0] if isinstance(layer, Model) else layer.batch_size_arg
            self._input_shape = (batch, *declared)
        if self.built or (not self.layers and self._input_shape is not None):
            # Build the new layer on the current output shape before adding it, so a
            # layer that cannot take it leaves the model unchanged.
            shape = self._output_shape if self.built else self._input_shape
            self._build_layer(layer, shape)
            self._output_shape = layer.output_shape
            self.built = True
        self.layers.append(layer)
        self.nodes.append(Node(layer, (len(self.nodes),), (len(self.nodes) + 1,)))
        if self.built:
            self._extend_symbolic([layer])
            if rebuild:
                self._rebuilt()

    def _extend_symbolic(self, layers) -> None:
        """Call ``layers`` on the model's symbolic output, so ``inputs``, ``outputs`` and
        each layer's ``output`` exist as in a functional model (Keras's Sequential builds
        one the same way)."""
        if not self._inputs:
            self._inputs = [InputLayer(batch_shape=self._input_shape).output]
        tensor = self._outputs[0] if self._outputs else self._inputs[0]
        for layer in layers:
            tensor = layer(tensor)
        self._outputs = [tensor]

    def _build_layer(self, layer: Layer, shape: tuple) -> None:
        if layer.shaped:
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
        if self._outputs:
            self._outputs = [self.layers[-1]._calls[-1].output] if self.layers else []
        self._output_shape = self.layers[-1].output_shape if self.layers else self._input_shape
        self.built = bool(self.layers) and self.built
        if self.built:
            self._rebuilt()
        return layer

    def build(self, input_shape: Sequence | None = None) -> None:
        """Build every layer for ``input_shape`` (batch axis first, usually None)."""
        if input_shape is None:
            input_shape = self._input_shape
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
        if self._inputs and shape != self._input_shape:
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input "
                f"shape {self._input_shape}. You cannot build it with input_shape {shape}"
            )
        # Check the whole stack first so a shape some layer rejects builds nothing; the
        # Input is made first too, since it checks the batch size (Keras's InputLayer rule).
        self.output_shapes(shape)
        inputs = self._inputs or [InputLayer(batch_shape=shape).output]
        for layer in self.layers:
            self._build_layer(layer, shape)
            shape = layer.output_shape
        self._inputs = inputs
        self._input_shape, self._output_shape = tuple(input_shape), shape
        self.built = True
        if not self._outputs:
            self._extend_symbolic(self.layers)
        self._rebuilt()

    def plain_config(self) -> dict:
        """minicnn's plain form of the architecture: ``{"name", "input_shape", "layers":
        [{"class_name", "config"}, ...]}``, with ``"batch_size"`` when an ``Input`` fixed it
        and ``"input_name"`` once the model has its Input (``get_config`` is Keras's form)."""
        config = {
            "name": self.name,
            "input_shape": None if self._input_shape is None else list(self._input_shape[1:]),
            "layers": [
                {"class_name": class_name(layer), "config": plain_layer_config(layer)}
                for layer in self.layers
            ],
        }
        if self._input_shape is not None and self._input_shape[0] is not None:
            config["batch_size"] = self._input_shape[0]
        if self._inputs:
            config["input_name"] = self._inputs[0]._history[0].name
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """A new model from ``get_config()``'s output, Keras's form (as Keras's and
        minicnn's ``get_config`` write it) or minicnn's plain one (``plain_config``);
        layers rebuilt by class name, built when the input shape is known."""
        where = f"{cls.__name__}.from_config"
        config = keras_schema.minicnn_form(config, "Sequential", where)
        if (
            not isinstance(config, dict)
            or not isinstance(config.get("layers"), list)
            or not isinstance(config.get("name"), str)
        ):
            raise ValueError(
                f"{where}: expected a dict with 'name' (a str) and 'layers' (a list), as "
                f"`get_config()` returns. Received: {config!r:.120}"
            )
        spec = parse_sequential({"class_name": "Sequential", "config": config}, where)
        model = build_sequential(spec, where, cls)
        if config.get("trainable", True) is not True:  # Keras's configs record a frozen model
            model.trainable = config["trainable"]
        return model
