"""Saving and loading weights (``.weights.npz``) and whole models (``.minicnn``), files that
never run code and never half-load.

- ``model.save_weights(path)``: an uncompressed ``.npz`` with one ``.npy`` member per
  weight, named ``layer_name/weight_name`` (``conv2d/kernel``); its header records the
  shape and dtype. ``model.load_weights(path)`` checks names, count and shapes against the
  model before assigning all weights at once (Keras 3 writes ``.weights.h5``).
- ``model.save(path)``: a zip holding ``metadata.json``, ``config.json`` (each layer's
  class and ``get_config()``, the compile settings, the optimizer's step count),
  ``model.weights.npz`` and ``optimizer.weights.npz`` (the optimizer's slots), like
  Keras's ``.keras`` zip. ``load_model(path)`` rebuilds only minicnn's own layer classes
  from plain JSON, so training resumes exactly where it stopped.

Writes are atomic and reads never trust the file (see ``minicnn.archives``): a problem
with a file's content is a ``ValueError`` naming the file and the problem, an ``OSError``
only means the file could not be opened or read.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import zipfile
from collections.abc import Iterator

import numpy as np

from .archives import (
    atomic_write,
    damaged,
    escapes_archive,
    open_zip,
    read_bytes,
    read_member,
    read_npz,
    read_stored_member,
    write_npz,
)
from .graph_config import parse_graph
from .layers import LAYERS, InputLayer, Layer
from .registry import Registry
from .utils import rng
from .version import __version__

WEIGHTS_SUFFIX = ".weights.npz"
MODEL_SUFFIX = ".minicnn"
METADATA, CONFIG, WEIGHTS = "metadata.json", "config.json", "model.weights.npz"
OPTIMIZER = "optimizer.weights.npz"
FORMAT, FORMAT_VERSION = "minicnn.Sequential", 1
# Bounds on what a model file may ask for: far above any real model, low enough that a
# hostile file fails fast instead of exhausting memory.
MAX_JSON_BYTES = 16 * 2**20
MAX_LAYERS = 10_000
#: The model classes a file may name; ``minicnn.models`` registers its own.
MODEL_CLASSES = Registry("models", "model")

# --------------------------------------------------------------------------- paths


def as_path(filepath, method: str) -> str:
    """``filepath`` (a str or path-like object) as a ``str``; a TypeError otherwise."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"{method}: `filepath` must be a str or a path-like object. "
            f"Received: filepath={filepath!r} (of type {type(filepath).__name__})"
        )
    return os.fsdecode(os.fspath(filepath))


def weights_path(filepath, method: str) -> str:
    """Keras's rule for weights files, with minicnn's suffix."""
    path = as_path(filepath, method)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(
            f"{method}: the filename must end in `{WEIGHTS_SUFFIX}`. Received: filepath={path}"
        )
    return path


# --------------------------------------------------------------------------- model weights


def named_weights(model) -> dict[str, np.ndarray]:
    """``{"layer_name/weight_name": array}`` for every weight of ``model``, in order."""
    return dict(zip(model.weight_names, model.weight_arrays()))


def _storable(arrays: dict[str, np.ndarray], method: str) -> dict[str, np.ndarray]:
    """``arrays``, after checking that each name makes a member name loading accepts."""
    for name in arrays:
        if escapes_archive(name + ".npy"):
            raise ValueError(
                f"{method}: the weight name {name!r} cannot be stored (its layer name looks "
                "like a path: '..', a drive letter or a backslash); rename the layer."
            )
    return arrays


def _check_built(model, method: str) -> None:
    unbuilt = [layer.name for layer in model.layers if not layer.built]
    if unbuilt:
        raise ValueError(
            f"{method}: model '{model.name}' is not built (layers {unbuilt} have no weights "
            "yet); build it, call it on data, or give the first layer an `input_shape`."
        )


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write every weight of the model to ``filepath`` (must end in ``.weights.npz``),
    atomically.

    Keras 3 writes ``.weights.h5``; minicnn writes the same content (each weight under
    ``layer_name/weight_name``) as an uncompressed ``.npz``. ``overwrite=False`` raises
    ``FileExistsError`` for an existing file (Keras asks on the terminal instead).
    """
    path = weights_path(filepath, "save_weights")
    _check_built(model, "save_weights")
    arrays = _storable(named_weights(model), "save_weights")
    atomic_write(path, lambda f: write_npz(f, arrays), overwrite)


def load_weights(model, filepath) -> None:
    """Set every weight of ``model`` from a file written by ``save_weights`` (or from the
    weights inside a ``.minicnn`` model file, as Keras reads a ``.keras`` file), all or
    nothing.

    Raises ``FileNotFoundError`` (or another ``OSError``) if the file cannot be read and a
    ``ValueError`` naming the file and the problem if its content does not fit the model;
    in both cases the model keeps its weights.
    """
    path = as_path(filepath, "load_weights")
    if not path.endswith(MODEL_SUFFIX):
        path = weights_path(filepath, "load_weights")
    _check_built(model, "load_weights")
    expected = [(name, weight.shape) for name, weight in named_weights(model).items()]
    if path.endswith(MODEL_SUFFIX):
        source = f"Model file '{path}'"
        archive = open_zip(read_bytes(path), source)
        _check_members(archive, source)
        data = read_stored_member(archive, WEIGHTS, source)
    else:
        source, data = f"Weights file '{path}'", read_bytes(path)
    model.set_weights(read_npz(data, source, expected))


# --------------------------------------------------------------------------- whole models


def _config_json(model) -> bytes:
    """Architecture, compile settings and optimizer step count as JSON; a ValueError naming
    what cannot be saved (a Python callable is code, not data)."""
    for layer in model.layers:
        if not isinstance(layer, Layer):
            # A model used as a layer: its file layout (Keras's nested configs and weight
            # paths) is not written yet, and a file that cannot be loaded back is worse
            # than none.
            raise ValueError(
                f"save: layer '{layer.name}' is a model ({type(layer).__name__}); saving a "
                "model that contains models is not supported by minicnn yet. `save_weights` "
                "and `load_weights` work on it."
            )
        try:
            json.dumps(layer.get_config())
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"save: layer '{layer.name}' cannot be saved: its config is not plain data "
                f"({err}). A Python callable (e.g. an activation function) cannot be stored; "
                "use a built-in name such as 'relu'."
            ) from None
    compiled = model.get_compile_config()
    config = {
        "class_name": model.keras_class,
        "config": model.get_config(),
        "compile_config": compiled,
        "optimizer_state": None
        if compiled is None
        else {"iterations": model.optimizer.iterations, "built": model.optimizer.built},
    }
    try:
        return json.dumps(config).encode()
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"save: the compile settings of model '{model.name}' cannot be saved: they are not "
            f"plain data ({err}). Compile with built-in names or minicnn objects."
        ) from None


def _optimizer_slots(model) -> list[tuple[str, tuple]]:
    """``(slot/layer/weight, shape)`` of the optimizer's variables, in their order: every
    trainable weight for the first slot, then for the second..."""
    names, arrays = model.weight_names, model.weight_arrays()
    trainable = [(names[i], arrays[i].shape) for i in model.trainable_indices()]
    slots = model.optimizer.active_slots()
    return [(f"{slot}/{name}", shape) for slot in slots for name, shape in trainable]


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write the whole model (architecture, weights, compile settings and optimizer
    state) to one ``.minicnn`` file (a zip), atomically; ``load_model`` reads it back.

    Members, as in Keras's ``.keras`` zip: ``metadata.json`` (format, version, date),
    ``config.json`` (the architecture: each layer's class and ``get_config()``; the
    compile settings; the optimizer's step count), ``model.weights.npz`` (the weights, as
    ``save_weights`` writes them) and, for a compiled model, ``optimizer.weights.npz`` (the
    optimizer's slots, e.g. Adam's ``momentum/conv2d/kernel``), so training resumes exactly.
    """
    path = as_path(filepath, "save")
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.minicnn` extension. "
            f"Received: filepath={path}"
        )
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "minicnn_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    members = {METADATA: json.dumps(metadata).encode(), CONFIG: _config_json(model)}
    members[WEIGHTS] = _npz_bytes(_storable(named_weights(model), "save"))
    if model.compiled:
        variables = model.optimizer.variables if model.optimizer.built else []
        names = [name for name, _ in _optimizer_slots(model)] if variables else []
        if len(names) != len(variables):
            raise ValueError(
                f"save: the optimizer of model '{model.name}' holds {len(variables)} variables "
                f"but the model's trainable weights call for {len(names)} (was `trainable` "
                "changed after training?); compile again before saving."
            )
        members[OPTIMIZER] = _npz_bytes(dict(zip(names, variables)))

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    atomic_write(path, write, overwrite)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    write_npz(buffer, arrays)
    return buffer.getvalue()


def load_model(filepath, compile: bool = True):
    """A new model rebuilt from a ``.minicnn`` file written by ``model.save``.

    Only minicnn's own layer classes are rebuilt, from plain JSON; nothing in the file is
    executed or unpickled. The architecture is checked against the weights (names and
    shapes, from the headers) before any weight is allocated, so a file asking for a huge
    model fails cheaply. With ``compile=True`` (Keras's default) a model saved compiled
    comes back compiled, its optimizer holding the saved state. Loading does not advance
    minicnn's random generator.
    """
    path = as_path(filepath, "load_model")
    if path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(
            f"File format not supported: filepath={path} is a weights file; build the model "
            "and call `model.load_weights` on it."
        )
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(
            f"File format not supported: filepath={path}. minicnn loads `.minicnn` files "
            "written by `model.save`."
        )
    if not isinstance(compile, (bool, np.bool_)):
        raise TypeError(f"load_model: `compile` must be a bool. Received: compile={compile!r}")
    source = f"Model file '{path}'"
    archive = open_zip(read_bytes(path), source)
    _check_members(archive, source)
    _check_metadata(_read_json(archive, METADATA, source), source)
    config = _read_json(archive, CONFIG, source)
    functional = isinstance(config, dict) and config.get("class_name") == "Functional"
    if functional:
        graph = parse_graph(
            config.get("config"), layer_from_config, f"{source}: {CONFIG}", MAX_LAYERS
        )
        expected = graph.expected
    else:
        layers, name, input_shape = _parse_config(config, source)
        expected = _expected_weights(layers, input_shape, source)
    # Names and shapes are checked against the file's headers before anything is built.
    arrays = read_npz(read_stored_member(archive, WEIGHTS, source), source, expected)
    with _random_state_kept():
        if functional:
            model = graph.build(MODEL_CLASSES.lookup("Functional"))
        else:
            model = _build(layers, name, input_shape, source)
    model.set_weights(arrays)
    if compile and config.get("compile_config") is not None:
        _compile(model, config, archive, source)
    return model


def _check_members(archive: zipfile.ZipFile, source: str) -> None:
    members = set(archive.namelist())
    missing = sorted({METADATA, CONFIG, WEIGHTS} - members)
    unexpected = sorted(members - {METADATA, CONFIG, WEIGHTS, OPTIMIZER})
    if missing or unexpected:
        raise ValueError(
            f"{source} is not a minicnn model archive: missing members {missing}, "
            f"unexpected members {unexpected}."
        )


def _compile(model, config: dict, archive: zipfile.ZipFile, source: str) -> None:
    """Compile ``model`` as saved and give its optimizer the saved step count and slots."""
    where = f"{source}: {CONFIG}"
    try:
        model.compile_from_config(config["compile_config"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: bad 'compile_config': {err}") from None
    state = config.get("optimizer_state")
    if (
        not isinstance(state, dict)
        or set(state) != {"iterations", "built"}
        or type(state["iterations"]) is not int
        or state["iterations"] < 0
        or type(state["built"]) is not bool
    ):
        raise ValueError(
            f"{where}: 'optimizer_state' must be {{'iterations': int >= 0, 'built': bool}}. "
            f"Received: {state!r:.80}"
        )
    if OPTIMIZER not in archive.namelist():
        raise ValueError(f"{source}: member {OPTIMIZER!r} is missing (found {archive.namelist()}).")
    expected = _optimizer_slots(model) if state["built"] else []
    variables = read_npz(read_stored_member(archive, OPTIMIZER, source), source, expected)
    if state["built"] or state["iterations"]:
        try:
            model.optimizer.set_state({"iterations": state["iterations"], "variables": variables})
        except ValueError as err:
            raise ValueError(f"{source}: the optimizer state does not fit: {err}") from None


def _read_json(archive: zipfile.ZipFile, member: str, source: str):
    raw = read_member(archive, member, source, MAX_JSON_BYTES)
    with damaged(source, f"{member} is not valid JSON"):
        return json.loads(raw)


def _check_metadata(metadata, source: str) -> None:
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{source}: {METADATA} does not describe a minicnn model file.")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{source} has format_version {version!r}; this minicnn reads version "
            f"{FORMAT_VERSION} (a newer minicnn wrote it?)."
        )


def _parse_config(config, source: str):
    """``(layers, model name, input_shape or None)`` from ``config.json``, every field checked.

    Layers are constructed (which validates their arguments) but not built.
    """
    where = f"{source}: {CONFIG}"
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise ValueError(f"{where} must describe a Sequential or Functional model ('class_name').")
    body = config.get("config")
    if not isinstance(body, dict) or not {"name", "layers"} <= set(body):
        raise ValueError(f"{where}: 'config' must be a dict with 'name' and 'layers'.")
    name, entries, input_shape = body["name"], body["layers"], body.get("input_shape")
    if not isinstance(name, str):
        raise ValueError(f"{where}: the model name must be a string. Received: {name!r:.80}")
    if not isinstance(entries, list):
        raise ValueError(f"{where}: 'layers' must be a list. Received: {entries!r:.80}")
    if len(entries) > MAX_LAYERS:
        raise ValueError(
            f"{where} lists {len(entries)} layers; minicnn reads at most {MAX_LAYERS}."
        )
    if input_shape is not None and (
        not isinstance(input_shape, list)
        or not all(d is None or (type(d) is int and d >= 0) for d in input_shape)
    ):
        raise ValueError(
            f"{where}: 'input_shape' must be null or a list of integers >= 0 or nulls. "
            f"Received: {input_shape!r:.80}"
        )
    layers = [layer_from_config(entry, i, where) for i, entry in enumerate(entries)]
    names = [layer.name for layer in layers]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{where}: several layers are named {twice}.")
    return layers, name, None if input_shape is None else tuple(input_shape)


def layer_from_config(entry, index: int, where: str, inputs: bool = False):
    """One layer from ``{"class_name": ..., "config": {...}}``; only known classes, and
    ``InputLayer`` only with ``inputs=True`` (a functional config lists its inputs; a
    Sequential config never does)."""
    if not isinstance(entry, dict) or set(entry) != {"class_name", "config"}:
        raise ValueError(
            f"{where}: layer {index} must be a dict with keys 'class_name' and 'config'. "
            f"Received: {entry!r:.80}"
        )
    class_name, config = entry["class_name"], entry["config"]
    cls = LAYERS.get(class_name) if isinstance(class_name, str) else None
    if cls is None or (cls is InputLayer and not inputs):
        known = sorted(n for n, c in LAYERS.items() if inputs or c is not InputLayer)
        raise ValueError(
            f"{where}: layer {index} has unknown class_name {class_name!r:.80}; minicnn "
            f"rebuilds only its own layers: {known}."
        )
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config of layer {index} ({class_name}) must be a dict.")
    try:
        return cls.from_config(config)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{where}: layer {index} ({class_name}) cannot be rebuilt from its config: {err}"
        ) from None


def _expected_weights(layers, input_shape, source: str) -> list[tuple[str, tuple]]:
    """``(name, shape)`` of every weight the architecture has, computed without building."""
    declared = layers[0].input_shape_arg if layers else None
    if input_shape is None:
        input_shape = declared
    if input_shape is None:
        return []
    if declared is not None and declared != input_shape:
        raise ValueError(
            f"{source}: {CONFIG} gives input_shape {input_shape} but its first layer declares "
            f"{declared}."
        )
    shape, out = (None, *input_shape), []
    for layer in layers:
        try:
            output = layer.compute_output_shape(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{source}: {CONFIG} describes layers that do not fit: {err}"
            ) from None
        out.extend((f"{layer.name}/{spec.name}", spec.shape) for spec in layer.weight_specs(shape))
        shape = output
    return out


def _build(layers, name, input_shape, source: str):
    try:
        model = MODEL_CLASSES.lookup("Sequential")(layers, name=name)
        if input_shape is not None and not model.built:
            model.build((None, *input_shape))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source}: {CONFIG} describes an invalid model: {err}") from None
    return model


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Building draws initial weights, which loading then replaces: put the generator back
    so that a run that saves and reloads shuffles exactly like one that does not."""
    generator = rng()
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state


__all__ = ["save_weights", "load_weights", "save_model", "load_model"]
