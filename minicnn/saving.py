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

import datetime
import io
import json
import zipfile

import numpy as np

from . import config_io, keras_files
from .archives import (
    atomic_write,
    escapes_archive,
    open_zip,
    read_bytes,
    read_npz,
    read_stored_member,
    write_npz,
    write_zip,
)
from .config_io import (
    CONFIG,
    MODEL_CLASSES,
    as_path,
    build_sequential,
    check_built,
    expected_weights,
    layer_from_config,
    parse_sequential,
    random_state_kept,
    read_json,
)
from .graph_config import parse_graph
from .layer import is_model
from .version import __version__

WEIGHTS_SUFFIX = ".weights.npz"
MODEL_SUFFIX = ".minicnn"
KERAS_WEIGHTS_SUFFIX, KERAS_SUFFIX, LEGACY_SUFFIXES = ".weights.h5", ".keras", (".h5", ".hdf5")
METADATA, WEIGHTS = "metadata.json", "model.weights.npz"
OPTIMIZER = "optimizer.weights.npz"
FORMAT, FORMAT_VERSION = "minicnn.Sequential", 1


# --------------------------------------------------------------------------- paths
def weights_path(filepath, method: str) -> str:
    """Keras's rule for weights files: ``.weights.h5`` (Keras's format) or minicnn's
    ``.weights.npz``."""
    path = as_path(filepath, method)
    if not path.endswith((KERAS_WEIGHTS_SUFFIX, WEIGHTS_SUFFIX)):
        raise ValueError(
            f"{method}: the filename must end in `{KERAS_WEIGHTS_SUFFIX}` (Keras's format) or "
            f"`{WEIGHTS_SUFFIX}` (minicnn's, no h5py needed). Received: filepath={path}"
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


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write every weight of the model to ``filepath``, atomically.

    ``.weights.h5`` is Keras 3's file (``keras_files``; needs h5py), which Keras's
    ``load_weights`` reads; ``.weights.npz`` is minicnn's, the same weights under
    ``layer_name/weight_name`` in an uncompressed ``.npz``. ``overwrite=False`` raises
    ``FileExistsError`` for an existing file (Keras asks on the terminal instead).
    """
    path = weights_path(filepath, "save_weights")
    check_built(model, "save_weights")
    if path.endswith(KERAS_WEIGHTS_SUFFIX):
        keras_files.save_weights_h5(model, path, overwrite)
        return
    arrays = _storable(named_weights(model), "save_weights")
    atomic_write(path, lambda f: write_npz(f, arrays), overwrite)


def load_weights(model, filepath) -> None:
    """Set every weight of ``model`` from a weights file (``.weights.h5`` or
    ``.weights.npz``) or from the weights inside a model file (``.keras``, ``.minicnn``),
    all or nothing. Keras's files are matched by structure (each layer's class and
    position), as Keras matches them.

    Raises ``FileNotFoundError`` (or another ``OSError``) if the file cannot be read and a
    ``ValueError`` naming the file and the problem if its content does not fit the model;
    in both cases the model keeps its weights.
    """
    path = as_path(filepath, "load_weights")
    legacy = path.endswith(LEGACY_SUFFIXES) and not path.endswith(KERAS_WEIGHTS_SUFFIX)
    if not path.endswith((MODEL_SUFFIX, KERAS_SUFFIX)) and not legacy:
        path = weights_path(filepath, "load_weights")
    check_built(model, "load_weights")
    if path.endswith(KERAS_WEIGHTS_SUFFIX):
        keras_files.load_weights_h5(model, path)
        return
    if path.endswith(KERAS_SUFFIX):
        keras_files.load_keras_weights(model, path)
        return
    if legacy:
        keras_files.load_legacy_weights(model, path)
        return
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


def check_savable(model) -> None:
    """A ValueError naming what in ``model`` cannot be saved (a Python callable is code,
    not data), before any file is touched; nested models are checked layer by layer."""
    for layer in model.layers:
        if is_model(layer):
            check_savable(layer)
            continue
        try:
            json.dumps(layer.get_config())
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"save: layer '{layer.name}' cannot be saved: its config is not plain data "
                f"({err}). A Python object (an activation function, an array or a custom "
                "class given as initializer) cannot be stored; use built-in names such as "
                "'relu' and 'glorot_uniform'."
            ) from None


def _config_json(model) -> bytes:
    """Architecture, compile settings and optimizer step count as JSON."""
    check_savable(model)
    compiled = model.get_compile_config()
    config = {
        "class_name": model.keras_class,
        "config": model.plain_config(),
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
    if path.endswith((KERAS_SUFFIX, *LEGACY_SUFFIXES)):
        check_built(model, "save")
        check_savable(model)
        save = keras_files.save_keras if path.endswith(KERAS_SUFFIX) else keras_files.save_legacy_h5
        save(model, path, overwrite)
        return
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension "
            "for the native Keras format (recommended; needs h5py), a `.h5` extension for "
            "Keras's legacy format, or `.minicnn` for minicnn's own format (numpy only). "
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
        variables = model.optimizer.slot_arrays if model.optimizer.built else []
        names = [name for name, _ in _optimizer_slots(model)] if variables else []
        if len(names) != len(variables):
            raise ValueError(
                f"save: the optimizer of model '{model.name}' holds {len(variables)} variables "
                f"but the model's trainable weights call for {len(names)} (was `trainable` "
                "changed after training?); compile again before saving."
            )
        members[OPTIMIZER] = _npz_bytes(dict(zip(names, variables)))

    write_zip(path, members, overwrite)


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

    Parameters
    ----------
    filepath : path
        A ``.minicnn`` file (or Keras's ``.keras`` / ``.h5``, see the README's Saving).
    compile : bool, default True
        Compile the model as it was saved.

    Returns
    -------
    The model (Sequential or functional).

    Examples
    --------
    >>> import tempfile, os
    >>> from minicnn.models import Sequential
    >>> from minicnn.layers import Dense
    >>> model = Sequential([Dense(2, input_shape=(3,))])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.minicnn")
    >>> model.save(path)
    >>> load_model(path).output_shape
    (None, 2)
    """
    path = as_path(filepath, "load_model")
    if path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(
            f"File format not supported: filepath={path} is a weights file; build the model "
            "and call `model.load_weights` on it."
        )
    if path.endswith(KERAS_WEIGHTS_SUFFIX):
        raise ValueError(
            f"File format not supported: filepath={path} is a weights file; build the model "
            "and call `model.load_weights` on it."
        )
    if not path.endswith((MODEL_SUFFIX, KERAS_SUFFIX, *LEGACY_SUFFIXES)):
        raise ValueError(
            f"File format not supported: filepath={path}. minicnn loads `.keras` and legacy "
            "`.h5` files (from Keras or minicnn) and `.minicnn` files."
        )
    if not isinstance(compile, (bool, np.bool_)):
        raise TypeError(f"load_model: `compile` must be a bool. Received: compile={compile!r}")
    if path.endswith(KERAS_SUFFIX):
        return keras_files.load_keras(path, bool(compile))
    if path.endswith(LEGACY_SUFFIXES):
        return keras_files.load_legacy_h5(path, bool(compile))
    source = f"Model file '{path}'"
    archive = open_zip(read_bytes(path), source)
    _check_members(archive, source)
    _check_metadata(read_json(archive, METADATA, source), source)
    config = read_json(archive, CONFIG, source)
    functional = isinstance(config, dict) and config.get("class_name") == "Functional"
    if functional:
        graph = parse_graph(
            config.get("config"), layer_from_config, f"{source}: {CONFIG}", config_io.MAX_LAYERS
        )
        expected = graph.expected
    else:
        spec = parse_sequential(config, f"{source}: {CONFIG}")
        expected = expected_weights(spec.layers, spec.input_shape, f"{source}: {CONFIG}")
    # Names and shapes are checked against the file's headers before anything is built.
    arrays = read_npz(read_stored_member(archive, WEIGHTS, source), source, expected)
    with random_state_kept():
        if functional:
            model = graph.build(MODEL_CLASSES.lookup("Functional"))
        else:
            model = build_sequential(spec, f"{source}: {CONFIG}")
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


def _check_metadata(metadata, source: str) -> None:
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{source}: {METADATA} does not describe a minicnn model file.")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{source} has format_version {version!r}; this minicnn reads version "
            f"{FORMAT_VERSION} (a newer minicnn wrote it?)."
        )


__all__ = ["save_weights", "load_weights", "save_model", "load_model"]
