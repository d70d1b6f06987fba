"""What every model file format shares: path checks, the bounds a file may ask for, and
rebuilding a model from a (checked) config without trusting it.

``layer_from_config`` constructs only minicnn's registered layer classes; the Sequential
reader checks every field and computes every weight's name and shape from the
architecture alone (``expected_weights``), so a file asking for a huge model fails before
anything is allocated. ``random_state_kept`` makes loading invisible to minicnn's
generator. ``saving`` (minicnn's own files) and ``keras_files`` (Keras's) build on this.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from collections.abc import Iterator
from typing import NamedTuple

from .archives import damaged, read_member
from .layers import LAYERS, MODEL_CLASSES, InputLayer
from .utils import rng

CONFIG = "config.json"
# Bounds on what a model file may ask for: far above any real model, low enough that a
# hostile file fails fast instead of exhausting memory.
MAX_JSON_BYTES = 16 * 2**20
MAX_LAYERS = 10_000


def as_path(filepath, method: str) -> str:
    """``filepath`` (a str or path-like object) as a ``str``; a TypeError otherwise."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"{method}: `filepath` must be a str or a path-like object. "
            f"Received: filepath={filepath!r} (of type {type(filepath).__name__})"
        )
    return os.fsdecode(os.fspath(filepath))


def check_built(model, method: str) -> None:
    unbuilt = [layer.name for layer in model.layers if not layer.shaped]
    if unbuilt:
        raise ValueError(
            f"{method}: model '{model.name}' is not built (layers {unbuilt} have no weights "
            "yet); build it, call it on data, or give the first layer an `input_shape`."
        )


def read_json(archive: zipfile.ZipFile, member: str, source: str):
    raw = read_member(archive, member, source, MAX_JSON_BYTES)
    with damaged(source, f"{member} is not valid JSON"):
        return json.loads(raw)


class SequentialSpec(NamedTuple):
    """What a Sequential config describes: its layers (constructed, not built), name, and
    its input when it has one: shape (without the batch axis), fixed batch size and the
    Input's name (both None when not given)."""

    layers: list
    name: str
    input_shape: tuple | None
    batch_size: int | None = None
    input_name: str | None = None


def parse_sequential(config, where: str) -> SequentialSpec:
    """The ``SequentialSpec`` of ``config.json``'s content, every field checked.

    Layers are constructed (which validates their arguments) but not built.
    """
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
    batch_size, input_name = body.get("batch_size"), body.get("input_name")
    if batch_size is not None and not (type(batch_size) is int and batch_size >= 1):
        raise ValueError(
            f"{where}: 'batch_size' must be null or an integer >= 1. Received: {batch_size!r:.80}"
        )
    if input_name is not None and not isinstance(input_name, str):
        raise ValueError(f"{where}: 'input_name' must be a string. Received: {input_name!r:.80}")
    layers = [layer_from_config(entry, i, where) for i, entry in enumerate(entries)]
    names = [layer.name for layer in layers]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{where}: several layers are named {twice}.")
    input_shape = None if input_shape is None else tuple(input_shape)
    return SequentialSpec(layers, name, input_shape, batch_size, input_name)


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
    if cls is None and isinstance(class_name, str) and MODEL_CLASSES.lookup(class_name):
        return _nested_model(class_name, config, index, where)
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


def _nested_model(class_name: str, config, index: int, where: str):
    """A model used as a layer (Keras's nested models), rebuilt and built from its own
    config; nesting is bounded so a hostile file cannot recurse without end."""
    if _nesting[0] >= MAX_NESTING:
        raise ValueError(f"{where}: models nest deeper than {MAX_NESTING} levels.")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config of layer {index} ({class_name}) must be a dict.")
    _nesting[0] += 1
    try:
        model = MODEL_CLASSES.lookup(class_name).from_config(config)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{where}: layer {index} (a {class_name} model) cannot be rebuilt: {err}"
        ) from None
    finally:
        _nesting[0] -= 1
    if not model.built:
        raise ValueError(
            f"{where}: layer {index} (a {class_name} model) has no input shape; a nested "
            "model must declare its input (Keras writes its InputLayer)."
        )
    return model


MAX_NESTING = 16
_nesting = [0]  # models being rebuilt inside one another right now


def expected_weights(layers, input_shape, where: str) -> list[tuple[str, tuple]]:
    """``(name, shape)`` of every weight the architecture has, computed without building."""
    declared = getattr(layers[0], "input_shape_arg", None) if layers else None
    if input_shape is None:
        input_shape = declared
    if input_shape is None:
        return []
    if declared is not None and declared != input_shape:
        raise ValueError(
            f"{where} gives input_shape {input_shape} but its first layer declares {declared}."
        )
    shape, out = (None, *input_shape), []
    for layer in layers:
        try:
            output = layer.compute_output_shape(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where} describes layers that do not fit: {err}") from None
        out.extend((f"{layer.name}/{spec.name}", spec.shape) for spec in layer.weight_specs(shape))
        shape = output
    return out


def build_sequential(spec: SequentialSpec, where: str, model_class=None):
    """The Sequential ``spec`` describes, its Input (batch size and name) as given; an
    instance of ``model_class`` (a Sequential subclass's ``from_config``) or Sequential."""
    layers = list(spec.layers)
    if spec.input_shape is not None and spec.input_name is not None:
        batch_shape = (spec.batch_size, *spec.input_shape)
        layers.insert(0, InputLayer(batch_shape=batch_shape, name=spec.input_name))
    try:
        model = (model_class or MODEL_CLASSES.lookup("Sequential"))(layers, name=spec.name)
        if spec.input_shape is not None and not model.built:
            model.build((spec.batch_size, *spec.input_shape))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where} describes an invalid model: {err}") from None
    return model


@contextlib.contextmanager
def random_state_kept() -> Iterator[None]:
    """Building draws initial weights, which loading then replaces: put the generator back
    so that a run that saves and reloads shuffles exactly like one that does not."""
    generator = rng()
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state
