"""A functional model's architecture as plain data, in Keras 3's schema, and back.

``graph_config(model)`` writes what Keras's ``Functional.get_config`` writes: the model's
``name`` and ``trainable``, its ``layers`` in ``model.layers`` order, each with its class,
config, name and ``inbound_nodes`` (one per call: the tensors it read, each named by
``keras_history = [layer name, node index, tensor index]``, packed as the layer takes
them), and ``input_layers`` / ``output_layers`` packed as the model was built (one
reference, a list, or a dict). The tensor index is 0 except for a nested model of
several outputs.

``parse_graph(config, build_layer, where)`` reads it back without trusting it: every field
is checked, layers are constructed only through ``build_layer`` (saving's registry-bound
builder, so a config cannot name its way to arbitrary code), and the calls are replayed
on *shapes* first. That pass yields every weight's name and shape before a single weight
is allocated, so a file asking for a huge model fails cheaply; ``Graph.build`` then
replays the calls on tensors and makes the model.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from .layer import InputLayer, KerasTensor, class_name, is_model
from .structure import LEAF, Structure, flatten_any

TENSOR = "__keras_tensor__"
LAYER_KEYS = {"class_name", "config", "name", "inbound_nodes"}


# --------------------------------------------------------------------------- writing
def graph_config(model) -> dict:
    """``model`` (a functional model of minicnn layers) as Keras's functional config."""
    calls: dict[int, list[int]] = {}  # per layer, its calls that belong to this model
    for node, made in zip(model.nodes, model.node_outputs):
        calls.setdefault(id(node.layer), []).append(made[0]._history[1])
    # Keras renumbers a layer's nodes within the model (a layer may also have been called
    # in other models); node k of a layer is its k-th call here.
    renumber = {
        (key, call): k for key, numbers in calls.items() for k, call in enumerate(sorted(numbers))
    }

    def ref(t: KerasTensor, ends: bool = False) -> list:
        layer, call, index = model.model_tensor(t)._history
        node = 0 if isinstance(layer, InputLayer) else renumber[(id(layer), call)]
        return [layer.name, node + (ends and _counts_own_node(layer)), index]

    def tensor(t: KerasTensor) -> dict:
        config = {"shape": list(t.shape), "dtype": "float32", "keras_history": ref(t)}
        return {"class_name": TENSOR, "config": config}

    layers = []
    for layer in model.layers:
        nodes = []
        for call in sorted(calls.get(id(layer), [])):
            record = layer._calls[call]
            arg = layer._pack_sources([tensor(t) for t in record.inputs])
            kwargs = {} if record.training is None else {"training": record.training}
            nodes.append({"args": [arg], "kwargs": kwargs})
        layers.append(
            {
                "class_name": class_name(layer),
                "config": plain_layer_config(layer),
                "name": layer.name,
                "inbound_nodes": nodes,
            }
        )
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": model._input_structure.pack([ref(t, True) for t in model._inputs]),
        "output_layers": model._output_structure.pack([ref(t, True) for t in model._outputs]),
    }


def plain_layer_config(layer) -> dict:
    """A layer's config in minicnn's plain form (a nested model's ``plain_config``)."""
    return layer.plain_config() if is_model(layer) else layer.get_config()


def _counts_own_node(layer) -> bool:
    """Whether Keras numbers ``layer``'s nodes from 1 in ``input_layers`` and
    ``output_layers``: a nested functional model (not a Sequential). Keras's
    ``get_config`` counts a node of its own that Keras 3's models no longer make, and
    ``functional_from_config`` subtracts it again; ``inbound_nodes`` count from 0."""
    return is_model(layer) and layer.keras_class == "Functional"


# --------------------------------------------------------------------------- reading
class Graph(NamedTuple):
    """A parsed functional config: constructed (unbuilt) layers, each layer's calls as
    references, the packed input and output references, and every weight's
    ``(name, shape)`` in ``model.layers`` order (what the weights file must hold)."""

    name: str
    trainable: bool
    layers: list
    calls: dict  # layer name -> list of arguments (a reference, or a list of them)
    training: dict  # layer name -> per call, the training mode it fixes (or None)
    inputs: object
    outputs: object
    expected: list[tuple[str, tuple]]
    where: str

    def build(self, model_class):
        """The model, its layers called on tensors as the config says."""
        made = _replay(
            self,
            lambda layer: layer.output,
            lambda layer, arg, training: layer(arg, training=training),
        )
        try:
            model = model_class(
                _unpack_refs(self, self.inputs, made),
                _unpack_refs(self, self.outputs, made),
                name=self.name,
            )
        except (ValueError, TypeError) as err:
            raise ValueError(f"{self.where} describes an invalid model: {err}") from None
        unused = sorted({layer.name for layer in self.layers} - {l.name for l in model.layers})
        if unused:
            raise ValueError(
                f"{self.where}: layers {unused} are called but lead to none of the "
                "'output_layers' (or read none of the 'input_layers'); a file lists only the "
                "layers of its model."
            )
        found = list(zip(model.weight_names, (w.shape for w in model.weight_arrays())))
        if found != self.expected:
            raise ValueError(
                f"{self.where}: the layers are not listed in the order the model's graph "
                "gives them (Keras's order), so its weights could not be matched."
            )
        if not self.trainable:
            model.trainable = False
        return model


def parse_graph(config, build_layer: Callable, where: str, max_layers: int) -> Graph:
    """A ``Graph`` from a functional config, every field checked; see the module docstring.
    ``build_layer(entry, index, where, inputs=True)`` constructs one layer (InputLayer
    included) from its class and config."""
    required = {"name", "layers", "input_layers", "output_layers"}
    if not isinstance(config, dict) or not required <= set(config):
        raise ValueError(
            f"{where}: a functional config is a dict with 'name', 'layers', 'input_layers' "
            f"and 'output_layers'. Received: {config!r:.80}"
        )
    name, entries, trainable = config["name"], config["layers"], config.get("trainable", True)
    if not isinstance(name, str):
        raise ValueError(f"{where}: the model name must be a string. Received: {name!r:.80}")
    if type(trainable) is not bool:
        raise ValueError(f"{where}: 'trainable' must be a bool. Received: {trainable!r:.80}")
    if not isinstance(entries, list) or len(entries) > max_layers:
        raise ValueError(
            f"{where}: 'layers' must be a list of at most {max_layers} layers. "
            f"Received: {entries!r:.80}"
        )
    layers, calls, training = [], {}, {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != LAYER_KEYS:
            raise ValueError(
                f"{where}: layer {i} must be a dict with keys {sorted(LAYER_KEYS)}. "
                f"Received: {entry!r:.80}"
            )
        layer_entry = {"class_name": entry["class_name"], "config": entry["config"]}
        layer = build_layer(layer_entry, i, where, inputs=True)
        if layer.name != entry["name"] or layer.name in calls:
            raise ValueError(
                f"{where}: layer {i} is named {entry['name']!r:.80} but its config names it "
                f"{layer.name!r}, or another layer has that name."
            )
        nodes = entry["inbound_nodes"]
        is_input = isinstance(layer, InputLayer)
        if not isinstance(nodes, list) or (is_input == bool(nodes)):
            raise ValueError(
                f"{where}: the 'inbound_nodes' of layer '{layer.name}' must be a list, empty "
                "for an InputLayer and not empty for any other layer (a layer never called "
                f"is not part of the model). Received: {nodes!r:.80}"
            )
        parsed = [_node_argument(node, layer, where) for node in nodes]
        calls[layer.name] = [arg for arg, _ in parsed]
        training[layer.name] = [mode for _, mode in parsed]
        layers.append(layer)
    inputs, outputs = config["input_layers"], config["output_layers"]
    graph = Graph(name, trainable, layers, calls, training, inputs, outputs, [], where)
    specs: dict[str, list] = {}

    def shape_call(layer, shape, training):
        if layer.name not in specs:  # a shared layer's weights come from its first call
            weights = layer.weight_specs(shape)
            specs[layer.name] = [(f"{layer.name}/{w.name}", w.shape) for w in weights]
        return layer.compute_output_shape(shape)

    made = _replay(graph, lambda layer: layer.output.shape, shape_call)
    _unpack_refs(graph, graph.inputs, made)
    _unpack_refs(graph, graph.outputs, made)
    graph.expected.extend(w for layer in layers for w in specs.get(layer.name, []))
    return graph


def _node_argument(node, layer, where: str):
    """``(argument, training)`` of one call of ``layer``: the tensor reference it reads,
    or the list of them (a merge, a nested model of a list of inputs) or the dict (a
    nested model of a dict of inputs) it takes, and the mode the call fixes (None when
    it follows the model's)."""
    kwargs = node.get("kwargs") if isinstance(node, dict) else None
    fixed_mode = (
        isinstance(kwargs, dict)
        and set(kwargs) == {"training"}
        and type(kwargs["training"]) is bool
    )
    if (
        not isinstance(node, dict)
        or set(node) != {"args", "kwargs"}
        or not (kwargs == {} or fixed_mode)
    ):
        raise ValueError(
            f"{where}: a node of layer '{layer.name}' must be {{'args': [...], 'kwargs': {{}}}} "
            "(minicnn's layers take no call arguments but `training`, a bool). Received: "
            f"{node!r:.80}"
        )
    return _call_argument(node, layer, where), kwargs.get("training")


def _call_argument(node, layer, where: str):
    """The argument part of ``_node_argument``."""
    args = node["args"]
    if not isinstance(args, list) or len(args) != 1:
        raise ValueError(
            f"{where}: a node of layer '{layer.name}' must pass one argument (a tensor, or a "
            f"list of tensors for a merge). Received: {args!r:.80}"
        )
    arg = args[0]
    structure = getattr(layer, "_input_structure", LEAF)
    if structure.kind == "dict" or not structure.is_flat:
        # A nested model of a dict (or a nesting) of inputs: its argument nests the same.
        is_tensor = lambda t: isinstance(t, dict) and "class_name" in t  # noqa: E731
        if not structure.matches(arg) or not all(is_tensor(t) for t in structure.flatten(arg)):
            raise ValueError(
                f"{where}: model '{layer.name}' is called on {structure.describe()} of "
                f"tensors. Received: {arg!r:.80}"
            )
        return structure.pack([_tensor_ref(t, layer, where) for t in structure.flatten(arg)])
    if layer._takes_list:
        if not isinstance(arg, (list, tuple)) or not arg:  # a tuple in memory, a list in JSON
            raise ValueError(
                f"{where}: layer '{layer.name}' is called on a list of tensors. "
                f"Received: {arg!r:.80}"
            )
        return [_tensor_ref(t, layer, where) for t in arg]
    return _tensor_ref(arg, layer, where)


def _tensor_ref(t, layer, where: str) -> tuple[str, int, int]:
    is_tensor = isinstance(t, dict) and t.get("class_name") == TENSOR
    config = t.get("config") if is_tensor else None
    history = config.get("keras_history") if isinstance(config, dict) else None
    if not _is_ref(history):
        raise ValueError(
            f"{where}: layer '{layer.name}' reads something that is not a tensor reference "
            f"({{'class_name': '{TENSOR}', 'config': {{'keras_history': [layer, node, "
            f"tensor]}}}}). Received: {t!r:.80}"
        )
    return Ref(*history)


class Ref(NamedTuple):
    """A tensor reference read from a config: ``[layer name, node index, tensor index]``."""

    layer: str
    node: int
    index: int


def _is_ref(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(type(v) is int and v >= 0 for v in value[1:])
    )


def _replay(graph: Graph, start: Callable, call: Callable) -> dict:
    """Every call of the graph, each once its inputs exist (a shared layer's later calls
    may read layers listed after it, as in Keras's ``functional_from_config``), and a
    layer's node k after its node k - 1: ``{(layer name, node index): [the values the
    call made]}``. ``start(input_layer)`` gives an input's value; ``call(layer,
    argument, training)`` makes a call's (packed as the layer returns it). Each call waits on a
    count of missing inputs, so the work stays linear in the number of calls however the
    config orders them."""
    made, layers, missing, waiting, ready = {}, {}, {}, {}, deque()
    for layer in graph.layers:
        if isinstance(layer, InputLayer):
            made[(layer.name, 0)] = [start(layer)]
            continue
        layers[layer.name] = layer
        for k, arg in enumerate(graph.calls[layer.name]):
            key = (layer.name, k)
            needs = {r[:2] for r in _refs(arg) if r[:2] not in made} | (
                {(layer.name, k - 1)} if k else set()
            )
            missing[key] = needs
            for need in needs:
                waiting.setdefault(need, []).append(key)
            if not needs:
                ready.append(key)
    while ready:
        key = ready.popleft()
        layer, arg = layers[key[0]], graph.calls[key[0]][key[1]]
        try:
            value = _map_refs(arg, lambda r: _made_value(made, r))
            made[key] = layer._flat_outputs(call(layer, value, graph.training[key[0]][key[1]]))
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{graph.where}: layer '{layer.name}' cannot take its inputs: {err}"
            ) from None
        for other in waiting.pop(key, []):
            missing[other].discard(key)
            if not missing[other]:
                ready.append(other)
    for key, needs in missing.items():
        if key not in made:
            absent = sorted(
                n for n in needs if n[0] not in layers or n[1] >= len(graph.calls[n[0]])
            )
            if absent:
                raise ValueError(
                    f"{graph.where}: Invalid Functional model configuration. Missing node: "
                    f"{absent[0][0]} (layer '{key[0]}' reads tensor {list(absent[0])}, which no "
                    "layer of the config makes)."
                )
            raise ValueError(
                f"{graph.where}: Invalid Functional model configuration. The graph of the "
                f"Functional model either has loops or disconnected nodes: layer '{key[0]}' "
                f"reads tensor {list(sorted(needs)[0])}, which is made only after it."
            )
    return made


def _refs(arg) -> list:
    """The references in a call's argument (one, or a nest of them)."""
    return flatten_any(arg, lambda v: isinstance(v, Ref))


def _map_refs(arg, value: Callable):
    """A call's argument with each reference replaced by ``value(reference)``."""
    structure = Structure.of(arg, lambda v: isinstance(v, Ref))
    return structure.pack([value(r) for r in structure.flatten(arg)])


def _made_value(made: dict, ref):
    """The value the reference ``ref`` names, once its call is made."""
    values = made[tuple(ref[:2])]
    if ref[2] >= len(values):
        raise ValueError(
            f"it reads output {ref[2]} of layer '{ref[0]}', which makes {len(values)} "
            "output tensor(s)"
        )
    return values[ref[2]]


def _unpack_refs(graph: Graph, packed, made: dict):
    """``input_layers`` / ``output_layers`` as the values ``made`` holds for them."""
    where = graph.where
    own_node = {layer.name for layer in graph.layers if _counts_own_node(layer)}

    def value(ref):
        node = ref[1] - (ref[0] in own_node) if _is_ref(ref) else -1
        if node < 0 or (ref[0], node) not in made or ref[2] >= len(made[(ref[0], node)]):
            raise ValueError(
                f"{where}: {ref!r:.80} does not name a tensor of the model "
                "([layer name, node index, tensor index]; Keras numbers a nested functional "
                "model's nodes from 1 here)."
            )
        return made[(ref[0], node)][ref[2]]

    try:
        structure = Structure.of(packed, _is_ref, "input_layers/output_layers")
    except ValueError:
        raise ValueError(
            f"{where}: 'input_layers' and 'output_layers' must each be a tensor reference, or "
            "a list, tuple or dict of them (nested as the model's inputs and outputs). "
            f"Received: {packed!r:.80}"
        ) from None
    return structure.pack([value(r) for r in structure.flatten(packed)])
