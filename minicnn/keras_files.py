"""Keras 3's own files, both ways: ``.keras`` models, ``.weights.h5`` weights and legacy
``.h5`` models, so a model moves between minicnn and Keras by file.

- ``.keras``: a zip of ``metadata.json``, ``config.json`` (Keras's schema, see
  ``keras_schema``) and ``model.weights.h5``, where each layer's weights sit at
  ``layers/<class in snake case, numbered>/vars/<i>`` (``layers/conv2d_1/vars/0``; a
  nested model's at ``layers/sequential/layers/dense/vars/0``) and the optimizer's at
  ``optimizer/vars/<i>``: the step count, the learning rate, then the slots in Keras's
  order. Weights are matched by that structure, as Keras matches them, not by names.
- ``.weights.h5``: the same weight tree on its own (Keras's ``save_weights``).
- legacy ``.h5`` (Keras 2's format, which Keras 3 still reads and writes): the config as
  the ``model_config`` attribute, weights under ``model_weights/<layer>/<weight path>``
  matched layer by layer in order, the optimizer's under ``optimizer_weights``.

Keras writes ``model.weights.npz`` members as pickled dicts, which Keras itself cannot
load without unpickling; minicnn refuses them by name and writes HDF5 (h5py, the ``h5``
extra). Nothing here runs code from a file (see ``hdf5`` and ``keras_schema``).
"""

from __future__ import annotations

import datetime
import io
import json
import math

import numpy as np

from . import config_io, hdf5, keras_schema
from .archives import atomic_write, open_zip, read_bytes, read_stored_member, write_zip
from .config_io import (
    MODEL_CLASSES,
    build_sequential,
    expected_weights,
    layer_from_config,
    parse_sequential,
    random_state_kept,
)
from .graph_config import parse_graph
from .layer import is_model
from .utils import to_snake_case
from .version import __version__

KERAS_VERSION = "3.15.1"  # the Keras whose schema minicnn writes (and checks against)
CONFIG, METADATA = "config.json", "metadata.json"
WEIGHTS_H5, WEIGHTS_NPZ = "model.weights.h5", "model.weights.npz"


# --------------------------------------------------------------------------- weight trees
def _layer_paths(model, prefix: str = "") -> list:
    """``(path, layer)`` of every layer and nested model, depth first in ``model.layers``
    order (the model's weight order), with Keras's class-based group names."""
    out, used = [], {}
    for layer in model.layers:
        base = to_snake_case(getattr(layer, "keras_class", type(layer).__name__))
        count = used.get(base, -1) + 1
        used[base] = count
        path = f"{prefix}layers/{base}" + (f"_{count}" if count else "")
        out.append((path, layer))
        if is_model(layer):
            out.extend(_layer_paths(layer, path + "/"))
    return out


def weights_tree(model) -> hdf5.Group:
    """The model's weights as Keras's weight tree (without the optimizer)."""
    root = hdf5.Group()
    root.group("vars").attrs["name"] = model.name
    for path, layer in _layer_paths(model):
        group = root.group(path + "/vars")
        group.attrs["name"] = layer.name
        if not is_model(layer):
            for i, array in enumerate(layer.weight_arrays()):
                group[str(i)] = np.asarray(array, dtype=np.float32)
    return root


def weights_from_tree(model, tree: hdf5.Group, source: str) -> list[np.ndarray]:
    """The model's weights (``get_weights()`` order) from a weight tree, every layer's
    count and shapes checked, and nothing in the tree left unused."""
    arrays, used = [], set()
    for path, layer in _layer_paths(model):
        node = _node(tree, path + "/vars")
        used.add(path)
        if is_model(layer):
            continue
        shapes = [w.shape for w in layer.weight_arrays()]
        found = {} if node is None else dict(node)
        if sorted(found) != sorted(str(i) for i in range(len(shapes))) or any(
            isinstance(v, hdf5.Group) for v in found.values()
        ):
            raise ValueError(
                f"{source}: layer '{layer.name}' ({type(layer).__name__}) expects "
                f"{len(shapes)} weights at {path}/vars, the file has {sorted(found)}; another "
                "architecture?"
            )
        for i, shape in enumerate(shapes):
            value = found[str(i)]
            if value.shape != shape:
                raise ValueError(
                    f"{source}: weight {i} of layer '{layer.name}' has shape {value.shape} in "
                    f"the file but {shape} in the model; another architecture?"
                )
            arrays.append(value.astype(np.float32))
    unused = sorted(p for p in _group_paths(tree, "layers") if p not in used)
    if unused:
        raise ValueError(
            f"{source} holds layers the model does not have: {unused[:8]}; another architecture?"
        )
    return arrays


def _node(tree: hdf5.Group, path: str):
    node = tree
    for part in path.split("/"):
        if not isinstance(node, hdf5.Group) or part not in node:
            return None
        node = node[part]
    return node


def _group_paths(tree: hdf5.Group, path: str) -> list[str]:
    """Paths of the layer groups under ``path`` (``layers/x``, ``layers/x/layers/y``...)."""
    node = _node(tree, path)
    out = []
    for name, child in (node or {}).items():
        if isinstance(child, hdf5.Group):
            out.append(f"{path}/{name}")
            out.extend(_group_paths(tree, f"{path}/{name}/layers"))
    return out


def optimizer_arrays(model) -> list[np.ndarray]:
    """The compiled model's optimizer as Keras's variables: ``iterations``, the learning
    rate, then the slots in Keras's order (zeros when it has not stepped yet, as a
    freshly built Keras optimizer has)."""
    optimizer = model.optimizer
    trainable = [model.weight_arrays()[i] for i in model.trainable_indices()]
    variables = optimizer.slot_arrays if optimizer.built else optimizer.initial_variables(trainable)
    order = optimizer.keras_order(len(trainable))
    if len(variables) != len(order):
        raise ValueError(
            f"save: the optimizer of model '{model.name}' holds {len(variables)} variables "
            f"but the model's trainable weights call for {len(order)} (was `trainable` "
            "changed after training?); compile again before saving."
        )
    head = [np.asarray(optimizer.iterations, np.int64)]
    if optimizer.rate_is_variable:  # Keras keeps no variable for a callable rate
        head.append(np.asarray(optimizer.learning_rate, "f4"))
    return head + [variables[j] for j in order]


def set_optimizer_arrays(model, arrays: list, source: str) -> None:
    """Give the compiled model's optimizer Keras's variables ``arrays`` (as
    ``optimizer_arrays`` returns them)."""
    optimizer = model.optimizer
    n = len(model.trainable_indices())
    order = optimizer.keras_order(n)
    head = 2 if optimizer.rate_is_variable else 1
    if len(arrays) < head or any(np.shape(a) != () for a in arrays[:head]):
        raise ValueError(
            f"{source}: the optimizer state must start with the step count and the learning "
            f"rate (scalars); found {len(arrays)} variables."
        )
    iterations, learning_rate = arrays[0], arrays[1] if head == 2 else None
    if iterations.dtype.kind not in "iu" or int(iterations) < 0:
        raise ValueError(f"{source}: the optimizer's step count must be an integer >= 0.")
    slots = arrays[head:]
    if slots and len(slots) != len(order):
        raise ValueError(
            f"{source}: the optimizer state holds {len(slots)} slot variables; "
            f"{type(optimizer).__name__} with this model's {n} trainable weights keeps "
            f"{len(order)}."
        )
    variables = [None] * len(order)
    for array, j in zip(slots, order):
        variables[j] = np.asarray(array, np.float32)
    try:
        if learning_rate is not None:
            optimizer.learning_rate = float(learning_rate)
        optimizer.set_state(
            {"iterations": int(iterations), "variables": variables if slots else []}
        )
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source}: the optimizer state does not fit: {err}") from None


# --------------------------------------------------------------------------- .weights.h5
def save_weights_h5(model, path: str, overwrite: bool) -> None:
    """Keras's ``save_weights``: the weight tree and, for a compiled model, the
    optimizer's variables."""
    tree = _full_tree(model)
    atomic_write(path, lambda f: hdf5.write(f, tree, "save_weights"), overwrite)


def load_weights_h5(model, path: str) -> None:
    """Keras's ``load_weights``: the weights, and the optimizer's state when the file has
    one and the model is compiled (an uncompiled model has no optimizer to give it to)."""
    source = f"Weights file '{path}'"
    tree = hdf5.read(read_bytes(path), source, "load_weights")
    _set_state(model, tree, source, model.compiled)


def _full_tree(model) -> hdf5.Group:
    tree = weights_tree(model)
    if model.compiled:
        opt = tree.group("optimizer/vars")
        opt.attrs["name"] = model.optimizer.name
        for i, array in enumerate(optimizer_arrays(model)):
            opt[str(i)] = array
    return tree


def _set_state(model, tree: hdf5.Group, source: str, optimizer: bool) -> None:
    """Weights (and, with ``optimizer``, the optimizer's state) from a tree, all checked
    before anything is assigned."""
    arrays = weights_from_tree(model, tree, source)
    node = _node(tree, "optimizer/vars") if optimizer else None
    if node:
        slots = [node.get(str(i)) for i in range(len(node))]
        if any(not isinstance(a, np.ndarray) for a in slots):
            raise ValueError(f"{source}: optimizer/vars is not numbered 0..{len(node) - 1}.")
        state = (model.optimizer.iterations, model.optimizer.learning_rate)
        saved = model.optimizer.get_state()
        set_optimizer_arrays(model, slots, source)  # checks everything before assigning
        try:
            model.set_weights(arrays)
        except ValueError:
            model.optimizer.iterations, model.optimizer.learning_rate = state
            model.optimizer.set_state(saved)
            raise
        return
    model.set_weights(arrays)


# --------------------------------------------------------------------------- .keras
def save_keras(model, path: str, overwrite: bool) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file that ``keras.saving.load_model`` opens."""
    config = json.dumps(keras_schema.export_model(model)).encode()
    tree = _full_tree(model)
    buffer = io.BytesIO()
    hdf5.write(buffer, tree, "save")
    metadata = {
        "keras_version": KERAS_VERSION,
        "minicnn_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    members = {METADATA: json.dumps(metadata).encode(), CONFIG: config}
    members[WEIGHTS_H5] = buffer.getvalue()

    write_zip(path, members, overwrite)


def load_keras_weights(model, path: str) -> None:
    """Set the model's weights from those inside a ``.keras`` file (Keras's
    ``load_weights`` on a ``.keras`` file)."""
    source, _, tree = _open_keras(path)
    model.set_weights(weights_from_tree(model, tree, source))


def load_keras(path: str, compile: bool):
    """A new model from a ``.keras`` file (written by Keras 3 or minicnn)."""
    source, archive, tree = _open_keras(path)
    config = config_io.read_json(archive, CONFIG, source)
    model, compiled = _model_from_keras_config(config, f"{source}: {CONFIG}", _stored(tree))
    if compile and compiled is not None:
        _compile(model, compiled, source)
    _set_state(model, tree, source, model.compiled)
    return model


def _open_keras(path: str):
    """``(source, archive, weight tree)`` of a ``.keras`` file, its members checked."""
    source = f"Model file '{path}'"
    archive = open_zip(read_bytes(path), source)
    names = set(archive.namelist())
    if WEIGHTS_NPZ in names and WEIGHTS_H5 not in names:
        raise ValueError(
            f"{source} keeps its weights in {WEIGHTS_NPZ!r}, which Keras writes as pickled "
            "Python objects; minicnn never unpickles (it could run code from the file). "
            "Save it from Keras with the default weights format (HDF5)."
        )
    unexpected = sorted(names - {CONFIG, METADATA, WEIGHTS_H5})
    if unexpected or not {CONFIG, WEIGHTS_H5} <= names:
        raise ValueError(
            f"{source} is not a .keras model file minicnn can read: it needs {CONFIG!r} and "
            f"{WEIGHTS_H5!r}; unexpected members {unexpected} (assets are not supported)."
        )
    tree = hdf5.read(read_stored_member(archive, WEIGHTS_H5, source), source, "load_model")
    return source, archive, tree


def _model_from_keras_config(config, where: str, stored: int):
    """``(model, minicnn compile config or None)`` from a Keras model config; the
    architecture is checked (shapes and weights computed) before anything is built, and
    refused if it needs more weight values than the file stores (``stored``), so a small
    file cannot ask for a huge allocation."""
    class_name, body, compiled = keras_schema.import_model(config, where)
    if class_name == "Functional":
        graph = parse_graph(body, layer_from_config, where, config_io.MAX_LAYERS)
        _check_size(graph.expected, stored, where)
        with random_state_kept():
            model = graph.build(MODEL_CLASSES.lookup("Functional"))
    else:
        trainable = body.pop("trainable", True)
        spec = parse_sequential({"class_name": class_name, "config": body}, where)
        _check_size(expected_weights(spec.layers, spec.input_shape, where), stored, where)
        with random_state_kept():
            model = build_sequential(spec, where)
        model.trainable = trainable
    outputs = None if model._output_structure.is_leaf else len(model._outputs)
    return model, keras_schema.import_compile(compiled, outputs, where)


def _check_size(expected: list, stored: int, where: str) -> None:
    needed = sum(math.prod(shape) for _, shape in expected)
    if needed > stored:
        raise ValueError(
            f"{where} describes {needed} weight values but the file stores {stored}; "
            "refusing to build a model the file cannot fill (damaged or hostile?)."
        )


def _stored(tree) -> int:
    """How many numbers the tree's datasets hold."""
    if isinstance(tree, np.ndarray):
        return tree.size
    return sum(_stored(child) for child in tree.values())


def _compile(model, compiled: dict, source: str) -> None:
    try:
        model.compile_from_config(compiled)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source}: bad 'compile_config': {err}") from None


# --------------------------------------------------------------------------- legacy .h5
def save_legacy_h5(model, path: str, overwrite: bool) -> None:
    """Keras 2's HDF5 model file, which ``keras.saving.load_model`` still reads."""
    entry = keras_schema.export_model(model)
    model_config = {"class_name": entry["class_name"], "config": _legacy_layers(entry["config"])}
    root = hdf5.Group(attrs={"backend": "minicnn", "keras_version": KERAS_VERSION})
    root.attrs["model_config"] = json.dumps(model_config)
    if entry["compile_config"]:  # {} when the model is not compiled
        training = dict(entry["compile_config"])
        optimizer = training.pop("optimizer")
        training["optimizer_config"] = {
            "class_name": optimizer["class_name"],
            "config": optimizer["config"],
        }
        root.attrs["training_config"] = json.dumps(training)
    weights = root.group("model_weights")
    weights.attrs.update(backend="minicnn", keras_version=KERAS_VERSION)
    weights.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers])
    for layer in model.layers:
        names = [f"{layer.name}/{n}" for n in layer.weight_names]
        group = weights.group(layer.name)
        group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
        for name, array in zip(names, layer.weight_arrays()):
            group.group(name.rpartition("/")[0])[name.rpartition("/")[2]] = array
    weights.group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype="S")
    if model.compiled:
        opt = root.group("optimizer_weights")
        arrays = optimizer_arrays(model)
        trainable = [model.weight_names[i].replace("/", "_") for i in model.trainable_indices()]
        prefix = model.optimizer.name
        slot_names = [
            f"{prefix}/{w}_{kind}" for kind, w in _slot_labels(model.optimizer, trainable)
        ]
        names = [f"{prefix}/iteration", f"{prefix}/learning_rate", *slot_names]
        opt.attrs["weight_names"] = np.array([n.encode() for n in names])
        for name, array in zip(names, arrays):
            opt.group(prefix)[name.rpartition("/")[2]] = array
    atomic_write(path, lambda f: hdf5.write(f, root, "save"), overwrite)


def _slot_labels(optimizer, weight_labels: list[str]) -> list[tuple[str, str]]:
    """``(slot kind, weight label)`` of each slot variable, in Keras's order."""
    active, n = optimizer.active_slots(), len(weight_labels)
    return [(active[j // n], weight_labels[j % n]) for j in optimizer.keras_order(n)]


def _legacy_layers(body: dict) -> dict:
    """Keras's legacy config: layer entries without ``module``/``registered_name``/
    ``build_config`` (the objects inside keep theirs, as Keras writes them)."""
    drop = {"module", "registered_name", "build_config"}
    layers = [{k: v for k, v in e.items() if k not in drop} for e in body["layers"]]
    return {**body, "layers": layers}


def load_legacy_h5(path: str, compile: bool):
    """A new model from a legacy Keras ``.h5`` model file."""
    source = f"Model file '{path}'"
    tree = hdf5.read(read_bytes(path), source, "load_model")
    text = tree.attrs.get("model_config")
    if not isinstance(text, str):
        raise ValueError(
            f"{source} has no 'model_config' attribute: it is not a Keras model file (a "
            "weights-only file? build the model and call `load_weights`)."
        )
    if len(text) > config_io.MAX_JSON_BYTES:
        raise ValueError(
            f"{source}: 'model_config' is larger than {config_io.MAX_JSON_BYTES} bytes."
        )
    config = _json(text, source, "model_config")
    training = tree.attrs.get("training_config")
    if compile and isinstance(training, str):
        training = _json(training, source, "training_config")
        if not isinstance(training, dict) or not isinstance(training.get("optimizer_config"), dict):
            raise ValueError(
                f"{source}: 'training_config' must be a dict with an 'optimizer_config'."
            )
        optimizer = training.pop("optimizer_config")
        training = {**training, "optimizer": optimizer}
        config = {**config, "compile_config": training} if isinstance(config, dict) else config
    model, compiled = _model_from_keras_config(config, f"{source}: model_config", _stored(tree))
    model.set_weights(_legacy_weights(model, tree, source))
    if compile and compiled is not None:
        _compile(model, compiled, source)
        opt = tree.get("optimizer_weights")
        if isinstance(opt, hdf5.Group):
            names = opt.attrs.get("weight_names", [])
            set_optimizer_arrays(model, [_dataset(opt, n, source) for n in names], source)
    return model


def load_legacy_weights(model, path: str) -> None:
    """The weights of a legacy ``.h5`` model file, matched layer by layer as Keras does."""
    source = f"Model file '{path}'"
    tree = hdf5.read(read_bytes(path), source, "load_weights")
    model.set_weights(_legacy_weights(model, tree, source))


def _legacy_weights(model, tree: hdf5.Group, source: str) -> list[np.ndarray]:
    """Keras's legacy rule: the file's layers with weights, in ``layer_names`` order, give
    the model's layers with weights their weights, in order."""
    group = tree.get("model_weights")
    if not isinstance(group, hdf5.Group):
        raise ValueError(f"{source} has no 'model_weights' group.")
    saved = []
    for name in group.attrs.get("layer_names", []):
        layer_group = group.get(name)
        if not isinstance(layer_group, hdf5.Group):
            raise ValueError(f"{source}: layer {name!r} is listed but has no group.")
        names = layer_group.attrs.get("weight_names", [])
        if names:
            saved.append((name, [_dataset(layer_group, n, source) for n in names]))
    layers = [layer for layer in model.layers if layer.weight_arrays()]
    if len(saved) != len(layers):
        raise ValueError(
            f"{source}: the file holds weights for {len(saved)} layers, the model has "
            f"{len(layers)} layers with weights; another architecture?"
        )
    arrays = []
    for layer, (name, values) in zip(layers, saved):
        shapes = [w.shape for w in layer.weight_arrays()]
        if [v.shape for v in values] != shapes:
            raise ValueError(
                f"{source}: layer {name!r} in the file holds weights of shapes "
                f"{[v.shape for v in values]}; layer '{layer.name}' needs {shapes}."
            )
        arrays.extend(v.astype(np.float32) for v in values)
    return arrays


def _dataset(group: hdf5.Group, path: str, source: str) -> np.ndarray:
    node = _node(group, path)
    if not isinstance(node, np.ndarray):
        raise ValueError(f"{source}: weight {path!r} is listed but missing.")
    return node


def _json(text: str, source: str, what: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"{source}: attribute {what!r} is not valid JSON: {err}") from None


# What a model JSON alone may ask to allocate: it brings no weights to bound it by.
MAX_JSON_WEIGHT_VALUES = 2**28


def to_json(model, **kwargs) -> str:
    """The model's architecture as Keras's ``model.to_json()`` writes it: the config of a
    ``.keras`` file's ``config.json`` (``kwargs`` go to ``json.dumps``), which Keras's
    ``keras.models.model_from_json`` reads.

    Parameters
    ----------
    **kwargs : options of ``json.dumps`` (``indent``...).

    Returns
    -------
    The JSON text.

    Examples
    --------
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense, Input
    >>> model = Sequential([Input((3,)), Dense(2)])
    >>> model_from_json(model.to_json()).to_json() == model.to_json()
    True
    """
    return json.dumps(keras_schema.export_model(model), **kwargs)


def model_from_json(json_string: str, custom_objects=None):
    """A new, uncompiled model (fresh weights) from ``to_json``'s text, or from the JSON
    Keras's ``model.to_json()`` writes, as Keras's ``keras.models.model_from_json``.

    Parameters
    ----------
    json_string : str
    custom_objects : None
        minicnn rebuilds only its own classes, so none can be given.

    Returns
    -------
    The model.

    Examples
    --------
    >>> model = model_from_json(
    ...     '{"class_name": "Sequential", "config": {"name": "s", "layers": ['
    ...     '{"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},'
    ...     '{"class_name": "Dense", "config": {"units": 2}}]}}')
    >>> model.output_shape
    (None, 2)
    """
    where = "model_from_json"
    if custom_objects:
        raise ValueError(
            f"{where}: minicnn rebuilds only its own classes; `custom_objects` cannot be "
            f"given. Received: {sorted(custom_objects)!r:.120}"
        )
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"{where}: expected a JSON string. Received: {type(json_string).__name__}")
    if len(json_string) > config_io.MAX_JSON_BYTES:
        raise ValueError(f"{where}: the JSON text is longer than {config_io.MAX_JSON_BYTES} bytes.")
    config = _json(json_string, where, "json_string")
    model, _ = _model_from_keras_config(config, where, MAX_JSON_WEIGHT_VALUES)
    return model


__all__ = [
    "save_keras", "load_keras", "save_weights_h5", "load_weights_h5", "to_json",
    "model_from_json",
]  # fmt: skip
