"""Keras 3's serialization schema, both ways: the ``config.json`` of a ``.keras`` file and
the ``model_config`` of a legacy ``.h5`` file.

minicnn's own configs are Keras's minus the bookkeeping Keras adds to every object:
``module`` and ``registered_name`` (where Keras finds the class), ``build_config`` (the
shape a layer was built for), a ``dtype`` policy per layer, ``shared_object_id``. Writing
(``export_model``) adds them as Keras 3.15 writes them, so ``keras.saving.load_model``
opens the file; reading (``import_model``) checks and removes them, so the result is a
config minicnn's strict parsers (``saving``, ``graph_config``) accept.

Reading never trusts the file. Every object must come from Keras's own namespace
(``module`` "keras" or "keras.*", no custom ``registered_name``); ``Lambda`` layers (code)
and anything minicnn does not have are refused by name; nesting is bounded. Keras options
minicnn lacks are left in place for the constructors, which accept them at Keras's
defaults and refuse anything else with a message naming the option.
"""

from __future__ import annotations

from .layer import InputLayer, is_model
from .structure import flatten_any
from .validation import float32_policy

TENSOR = "__keras_tensor__"
MAX_DEPTH = 64
#: Where Keras 3.15 says each family's built-in classes live.
MODULES = {
    "layers": "keras.layers",
    "initializers": "keras.initializers",
    "optimizers": "keras.optimizers",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
}
FUNCTIONAL_MODULE = "keras.src.models.functional"
#: What ``Model.compile`` records beyond minicnn's settings, at the values that change
#: nothing here; any other value is refused on reading.
COMPILE_DEFAULTS = {
    "run_eagerly": False,
    "steps_per_execution": 1,
    "jit_compile": False,
}
#: Keys an object entry may have, besides ``class_name`` and ``config``.
ENTRY_KEYS = {
    "module",
    "registered_name",
    "build_config",
    "compile_config",
    "shared_object_id",
    "name",
    "inbound_nodes",
}


# --------------------------------------------------------------------------- writing
def serialized(entry: dict, family: str) -> dict:
    """``{"class_name", "config"}`` as Keras serializes a built-in object of ``family``."""
    return {
        "module": MODULES[family],
        "class_name": entry["class_name"],
        "config": entry["config"],
        "registered_name": None,
    }


def export_layer_config(layer) -> dict:
    """``layer.get_config()`` as Keras writes it: with a dtype policy, initializers
    serialized, and the input shape on the InputLayer instead of the first layer."""
    config = layer.get_config()
    if isinstance(layer, InputLayer):
        return {
            "batch_shape": [layer.batch_size_arg, *layer.input_shape_arg],
            "dtype": "float32",
            "sparse": False,
            "ragged": False,
            "name": layer.name,
            "optional": False,
        }
    config.pop("input_shape", None)
    config.pop("batch_size", None)
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict):
            config[key] = serialized(value, "initializers")
    head = {key: config.pop(key) for key in ("name", "trainable") if key in config}
    return {**head, "dtype": float32_policy(), **config}


def export_layer(layer, class_name: str) -> dict:
    if is_model(layer):  # its own config, with its compile config (Keras's {} if none)
        return export_model(layer)
    entry = {
        "module": MODULES["layers"],
        "class_name": class_name,
        "config": export_layer_config(layer),
        "registered_name": None,
    }
    # Keras writes no build_config for a layer it builds in its constructor.
    if layer.shaped and not isinstance(layer, InputLayer) and not layer._built_at_init:
        entry["build_config"] = {"input_shape": list(layer.input_shape)}
    return entry


def export_model(model) -> dict:
    """``model`` (Sequential or functional, of minicnn layers) as the ``config.json`` Keras
    3.15 writes, with its ``compile_config`` ({} when not compiled); its ``"config"``
    is what the model's ``get_config()`` returns, as Keras's."""
    config = model.plain_config()
    batch_shape = None if model._input_shape is None else list(model._input_shape)
    layers = [
        export_layer(layer, e["class_name"]) for layer, e in zip(model.layers, config["layers"])
    ]
    if model.keras_class == "Sequential":
        if batch_shape is not None:
            name = model._inputs[0]._history[0].name if model._inputs else "input_layer"
            layers.insert(
                0, export_layer(InputLayer(batch_shape=batch_shape, name=name), "InputLayer")
            )
        body = {
            "name": model.name,
            "trainable": model.trainable,
            "dtype": float32_policy(),
            "layers": layers,
        }
        if batch_shape is not None:
            body["build_input_shape"] = batch_shape
        entry = {"module": "keras", "class_name": "Sequential", "config": body}
        entry["registered_name"] = None
        entry["build_config"] = {"input_shape": batch_shape}
    else:
        for layer, layer_entry, e in zip(model.layers, layers, config["layers"]):
            nodes = e["inbound_nodes"]
            if is_model(layer):
                # Keras 3.15 records the masks a nested model was called with (None for
                # each input, nested as the model takes its inputs), except in a call
                # that fixed its training mode.
                structure = layer._input_structure
                mask = {"mask": structure.pack([None] * structure.size)}
                nodes = [n if n["kwargs"] else {**n, "kwargs": mask} for n in nodes]
            layer_entry.update(name=e["name"], inbound_nodes=nodes)
        body = {**config, "layers": layers}
        entry = {"module": FUNCTIONAL_MODULE, "class_name": "Functional", "config": body}
        entry["registered_name"] = "Functional"
        entry["build_config"] = {"input_shape": None}
    entry["compile_config"] = export_compile(model.get_compile_config())
    return entry


def export_compile(compiled: dict | None) -> dict | None:
    """minicnn's compile config as Keras's ``compile_config`` (``{}`` when not compiled,
    as Keras's ``get_compile_config`` answers)."""
    if compiled is None:
        return {}

    def objects(value, family):
        """Each serialized object (``{"class_name", "config"}``) in a nest of them (a
        loss per output, metric lists, nested as the outputs) as Keras serializes it."""
        if isinstance(value, dict) and "class_name" in value:
            return serialized(value, family)
        if isinstance(value, dict):
            return {k: objects(v, family) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [objects(v, family) for v in value]
        return value  # a name, or None

    loss = objects(compiled["loss"], "losses")

    def metric_lists(key):
        return None if compiled.get(key) is None else objects(compiled[key], "metrics")

    return {
        "optimizer": serialized(compiled["optimizer"], "optimizers"),
        "loss": loss,
        "loss_weights": compiled.get("loss_weights"),
        "metrics": metric_lists("metrics"),
        "weighted_metrics": metric_lists("weighted_metrics"),
        **COMPILE_DEFAULTS,
    }


# --------------------------------------------------------------------------- reading
def import_model(config, where: str):
    """``(class_name, minicnn config, Keras compile_config or None)`` from a Keras model
    config (``config.json``'s content); a ValueError naming what is wrong."""
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential", "Functional"):
        found = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(
            f"{where} must describe a Sequential or Functional model; minicnn does not load "
            f"subclassed models. Received class_name={found!r:.80}"
        )
    compiled = config.get("compile_config")
    entry = plain(config, where)
    return entry["class_name"], entry["config"], compiled


def minicnn_form(body, class_name: str, where: str):
    """A model config as minicnn's parsers read it: Keras's (``get_config()`` of a Keras
    or minicnn model: layers with their module, a Sequential's InputLayer and dtype) is
    checked and converted; minicnn's own (``plain_config()``, the form of files written
    before get_config followed Keras) is returned as it is."""
    if not isinstance(body, dict) or not _keras_form(body, class_name):
        return body
    return plain({"class_name": class_name, "config": body}, where)["config"]


def _keras_form(body: dict, class_name: str) -> bool:
    layers = body.get("layers")
    listed = isinstance(layers, list) and any(isinstance(e, dict) and "module" in e for e in layers)
    if class_name == "Sequential":
        return listed or "dtype" in body or "build_input_shape" in body
    return listed


def _sequential(body: dict, where: str) -> dict:
    """Keras's Sequential config (InputLayer first, dtype, build_input_shape) as
    minicnn's ``{"name", "input_shape", "layers"}``."""
    unknown = set(body) - {"name", "trainable", "dtype", "layers", "build_input_shape"}
    if unknown or not isinstance(body.get("layers"), list):
        raise ValueError(
            f"{where}: a Sequential config has 'name', 'layers' (a list) and optionally "
            f"'trainable', 'dtype', 'build_input_shape'. Unexpected: {sorted(unknown)}"
        )
    layers = list(body["layers"])
    batch_shape = body.get("build_input_shape")
    first = layers[0] if layers else None
    if isinstance(first, dict) and first.get("class_name") == "InputLayer":
        layers.pop(0)
        first_config = first.get("config")
        if not isinstance(first_config, dict):
            raise ValueError(f"{where}: the InputLayer's config must be a dict.")
        try:  # checks its dtype and sparse/ragged/optional, which minicnn cannot honour
            InputLayer.from_config(first_config)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where}: the model's InputLayer: {err}") from None
        batch_shape = first_config.get("batch_shape", batch_shape)
    if batch_shape is not None and (not isinstance(batch_shape, list) or not batch_shape):
        raise ValueError(
            f"{where}: the input's batch shape must be a list. Received: {batch_shape!r:.80}"
        )
    out = {"name": body.get("name"), "layers": layers}
    if batch_shape is not None:
        out["input_shape"] = batch_shape[1:]
        if batch_shape[0] is not None:
            out["batch_size"] = batch_shape[0]
    if isinstance(first, dict) and first.get("class_name") == "InputLayer":
        out["input_name"] = first_config.get("name")
    if body.get("trainable", True) is not True:
        out["trainable"] = body["trainable"]
    return out


def import_compile(compiled, outputs: int | None, where: str) -> dict | None:
    """Keras's ``compile_config`` as minicnn's (``{"optimizer", "loss", "metrics"}``, with
    ``loss_weights`` for a model of several ``outputs``, None for one); None for a model
    saved uncompiled."""
    if compiled is None or compiled == {}:
        return None
    if not isinstance(compiled, dict):
        raise ValueError(f"{where}: 'compile_config' must be a dict.")
    # Keras 3.15 drops the optimizer from its compile config once the model has been
    # saved in the legacy .h5 format; its own loader then compiles with compile()'s
    # default optimizer, and so does minicnn.
    compiled = plain({"optimizer": "rmsprop", **compiled}, where)
    known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", *COMPILE_DEFAULTS}
    unknown = sorted(set(compiled) - known)
    if unknown:
        raise ValueError(f"{where}: 'compile_config' has unknown keys {unknown}.")
    for key, default in COMPILE_DEFAULTS.items():
        value = compiled.get(key, default)
        # Running eagerly or compiled changes no result; minicnn always runs eagerly.
        harmless = key in ("run_eagerly", "jit_compile") and (
            value is True or value is False or value == "auto"
        )
        if not harmless and (value != default or type(value) is not type(default)):
            raise ValueError(
                f"{where}: compile option {key}={value!r:.80} is not supported by minicnn "
                f"(only {default!r})."
            )
    metrics = compiled.get("metrics")
    if metrics is None:
        metrics = [] if outputs is None else [[] for _ in range(outputs)]
    out = {"optimizer": compiled["optimizer"], "loss": compiled.get("loss"), "metrics": metrics}
    if compiled.get("weighted_metrics"):
        out["weighted_metrics"] = compiled["weighted_metrics"]
    if outputs is not None:
        out["loss_weights"] = compiled.get("loss_weights")
        if out["loss"] is not None and not isinstance(out["loss"], (list, dict)):
            out["loss"] = [out["loss"]] * outputs  # one loss for every output
    elif compiled.get("loss_weights") is not None:
        out["loss_weights"] = compiled["loss_weights"]
    return out


def plain(value, where: str, depth: int = 0):
    """``value`` with Keras's bookkeeping checked and removed, recursively."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: the config nests deeper than {MAX_DEPTH} levels.")
    if isinstance(value, list):
        return [plain(v, where, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value and value.get("class_name") != TENSOR:
        return _plain_entry(value, where, depth)
    return {k: plain(v, where, depth + 1) for k, v in value.items()}


def _plain_entry(entry: dict, where: str, depth: int):
    class_name = entry["class_name"]
    if not isinstance(class_name, str):
        raise ValueError(f"{where}: a 'class_name' must be a string. Received: {class_name!r:.80}")
    if class_name == "Lambda":
        raise ValueError(
            f"{where}: the file holds a `Lambda` layer, which is Python code; minicnn never "
            "runs code from a file. Replace it with built-in layers."
        )
    unknown = sorted(set(entry) - ENTRY_KEYS - {"class_name", "config"})
    if unknown:
        raise ValueError(f"{where}: object {class_name!r} has unexpected keys {unknown}.")
    module = entry.get("module")
    if module is not None and (
        not isinstance(module, str) or not (module == "keras" or module.startswith("keras."))
    ):
        raise ValueError(
            f"{where}: object {class_name!r} comes from module {module!r:.80}, outside Keras's "
            "namespace (a custom class?); minicnn rebuilds only Keras's built-in classes, "
            "and never imports modules a file names."
        )
    registered = entry.get("registered_name")
    if registered is not None and registered != class_name:
        raise ValueError(
            f"{where}: object {class_name!r} is registered as {registered!r:.80} (a custom "
            "object); minicnn rebuilds only Keras's built-in classes."
        )
    build = entry.get("build_config")
    if build is not None and not isinstance(build, dict):
        raise ValueError(f"{where}: the build_config of {class_name!r} must be a dict.")
    config = entry.get("config")
    if class_name == "DTypePolicy":
        name = config.get("name") if isinstance(config, dict) else None
        if not isinstance(name, str):
            raise ValueError(f"{where}: a DTypePolicy config must name its dtype.")
        return name  # the layer constructor accepts "float32" only
    out = {"class_name": class_name, "config": plain(config, where, depth + 1)}
    if class_name == "Sequential":  # Keras lists its InputLayer; minicnn gives input_shape
        if not isinstance(out["config"], dict):
            raise ValueError(f"{where}: a Sequential model's 'config' must be a dict.")
        out["config"] = _sequential(out["config"], where)
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = plain(entry[key], where, depth + 1)
    if "inbound_nodes" in out:
        out["inbound_nodes"] = (
            [_node(n) for n in out["inbound_nodes"]]
            if isinstance(out["inbound_nodes"], list)
            else out["inbound_nodes"]
        )
    return out


def _node(node):
    """Keras records ``mask=None`` for calls of nested models (a dict or list of None
    for a model of several inputs); it changes nothing."""
    if isinstance(node, dict) and isinstance(node.get("kwargs"), dict):
        kwargs = {k: v for k, v in node["kwargs"].items() if not (k == "mask" and _no_mask(v))}
        return {**node, "kwargs": kwargs}
    return node


def _no_mask(value) -> bool:
    """Whether ``value`` is None, or a (nested) list or dict of only None."""
    try:
        leaf = lambda v: not isinstance(v, (list, tuple, dict))  # noqa: E731
        return all(v is None for v in flatten_any(value, leaf))
    except ValueError:  # an empty list or dict, or one with keys that are not strings
        return False
