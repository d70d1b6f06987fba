"""The explorer page: one self-contained HTML file to look inside a model for one sample.

``explorer(model, x, "model.html")`` runs the model once on the sample (``Model.forward``,
the data path of ``predict``) and writes a page holding the input, every layer's feature
maps, the conv layers' filters, the ``summary()`` table and the predicted output. Clicking
a cell (or opening ``#layer=<name>&index=<i,j,c>``) highlights its receptive field on the
input and on every earlier map and shows its ``explain()`` arithmetic.

Everything the page shows is what minicnn computed: the maps are the float32 values of
``feature_maps``, embedded as little-endian binary (base64), so they arrive bit for bit;
per cell the page holds ``explain``'s own numbers: for conv, Dense and pooling cells the
float64 ``total`` (and max pooling's winner), with the patch, the filter and the products
read from the embedded maps and weights by the window positions ``explain`` gives (a
product of two float32 numbers is exact in float64, so it is ``explain``'s product); for
every other kind of layer the text ``str(explain(...))`` prints. The receptive fields are
``fields_by_value``'s boxes, the ones ``receptive_field`` gives, per spatial position.

The page needs no server and no network: its script, styles and data are inline.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from .archives import atomic_write
from .explain import explain_node
from .layer import class_name, is_model
from .layers import BaseConv, BaseConvTranspose, DepthwiseConv1D, DepthwiseConv2D
from .receptive import fields_by_value
from .summary import print_summary
from .validation import check_int, check_sample

TEMPLATE = Path(__file__).with_name("explorer.html")
#: explain ops the page lays out itself (patch, filter, products); others carry the text.
STRUCTURED = ("conv", "dense", "max", "average")
PAGE_SIZE = 16  # channels per page of a layer's maps


def explorer(model, x, path, sample: int = 0, title: str | None = None, page_size: int = PAGE_SIZE):
    """Write the explorer page of ``model`` for one sample of ``x`` to ``path``.

    Parameters
    ----------
    model : a model (Sequential or functional).
    x : a batch of inputs, as for ``predict`` (a list or dict for several inputs).
    path : where to write the HTML file (str or path-like).
    sample : which sample of ``x`` the page shows.
    title : the page's heading (default: the model's name).
    page_size : channels shown at once per layer; more are paged.

    Returns
    -------
    ``path`` as a string.

    Examples
    --------
    >>> viz.explorer(model, x_test[:1], "model.html")  # doctest: +SKIP
    'model.html'
    """
    func = "explorer"
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: `path` must be a str or path-like. Received: path={path!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{func}: `title` must be a str or None. Received: title={title!r}")
    check_int(page_size, func, "page_size", 1)
    data = page_data(model, x, sample)
    data["title"] = model.name if title is None else title
    data["page_size"] = int(page_size)
    page = _render_page(data)
    atomic_write(os.fspath(path), lambda f: f.write(page.encode("utf-8")))
    return os.fspath(path)


def _render_page(data: dict) -> str:
    """The HTML page for ``data`` (``page_data``'s dict with ``title`` and ``page_size``)."""
    # "</" inside the JSON would end the script element early; "<\\/" is the same JSON.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    template = TEMPLATE.read_text(encoding="utf-8")
    return template.replace("__TITLE__", html.escape(data["title"])).replace("__DATA__", payload)


def page_data(model, x, sample: int = 0) -> dict:
    """What the explorer page embeds, as JSON-ready data.

    Parameters
    ----------
    model, x, sample : as for ``explorer``.

    Returns
    -------
    A dict: ``maps`` (the inputs, then each node's outputs, in ``Model.forward``'s value
    order), each with its ``name``, ``kind``, ``shape`` (per sample), ``data`` (the
    float32 values), ``lo``/``hi`` (its colour scale), ``explain`` (per-cell working,
    or ``{"unavailable": why}``) and ``fields`` (per spatial position, the
    receptive-field box on every earlier map); ``filters`` per conv layer; the
    ``summary`` text; ``outputs`` (the model outputs' value numbers). Arrays are
    ``{"dtype", "shape", "b64"}``: little-endian bytes, base64, row-major.

    Examples
    --------
    >>> data = page_data(model, x)  # doctest: +SKIP
    >>> [m["name"] for m in data["maps"]]  # doctest: +SKIP
    ['input_layer', 'conv2d', 'global_max_pooling2d', 'dense']
    """
    func = "explorer"
    x = model.prepare_input(x, func)
    inputs = model._input_values(x)
    sample = check_sample(func, sample, len(inputs[0]))
    one = [a[sample : sample + 1] for a in inputs]
    values: list = []
    for _ in model.forward(model.weight_arrays(), model._pack_inputs(one), values=values):
        pass
    values = [np.asarray(v, dtype=np.float32) for v in values]
    maps = [_map_entry(v, name, "InputLayer", None, values) for v, name in _input_names(model)]
    total = Counter(id(node.layer) for node in model.nodes)
    calls: Counter = Counter()
    for k, node in enumerate(model.nodes):
        layer = node.layer
        calls[id(layer)] += 1
        shared = total[id(layer)] > 1
        for t, v in enumerate(node.outputs):
            name = layer.name + (f"[{t}]" if len(node.outputs) > 1 else "")
            name += f" (call {calls[id(layer)]})" if shared else ""
            entry = _map_entry(v, name, class_name(layer), k, values)
            entry["layer"] = layer.name
            entry["reads"] = list(node.inputs)
            if len(node.outputs) > 1:
                entry["explain"] = {
                    "unavailable": f"layer '{layer.name}' is a model of {len(node.outputs)} "
                    "outputs; explore it on its own to explain its cells."
                }
                entry["fields"] = entry["explain"]
            else:
                entry["explain"] = _explanations(model, k, values, sample, entry["shape"])
                entry["fields"] = _fields(model, v, entry["shape"], values)
            maps.append(entry)
    lines: list[str] = []
    print_summary(model, print_fn=lines.append)
    outputs = model._output_values or [len(values) - 1]
    return {
        "format": 1,
        "model": model.name,
        "sample": sample,
        "summary": "\n".join(lines),
        "maps": maps,
        "filters": _filters(model),
        "outputs": list(outputs),
    }


def _input_names(model):
    if model._inputs:
        return [(v, t._history[0].name) for v, t in enumerate(model._inputs)]
    return [(0, "input")]


def _map_entry(v: int, name: str, kind: str, node, values) -> dict:
    a = values[v][0]
    finite = a[np.isfinite(a)]
    return {
        "value": v,
        "name": name,
        "kind": kind,
        "node": node,
        "shape": list(a.shape),
        "data": _encode(a),
        # One colour scale per map, over its finite values.
        "lo": float(finite.min()) if finite.size else 0.0,
        "hi": float(finite.max()) if finite.size else 0.0,
    }


def _encode(a: np.ndarray) -> dict:
    """``a`` as ``{"dtype", "shape", "b64"}``: its bytes little-endian, base64 (float32
    ``<f4``, float64 ``<f8``, int32 ``<i4``), row-major."""
    # Only these three travel; anything else would be a bug here, not data to convert.
    dtype = {"float32": "<f4", "float64": "<f8", "int32": "<i4"}[a.dtype.name]
    raw = np.ascontiguousarray(a, dtype=dtype).tobytes()
    return {"dtype": dtype[1:], "shape": list(a.shape), "b64": base64.b64encode(raw).decode()}


def _explanations(model, k: int, values, sample: int, shape) -> dict:
    """Every cell's explanation of node ``k``'s map: the op, the per-layer parts, and per
    cell what cannot be read off the maps and weights (see the module docstring)."""
    cells = list(np.ndindex(*shape))
    try:
        first = explain_node(model, k, values, (sample, *cells[0]))
    except ValueError as error:
        return {"unavailable": str(error)}
    if first.op not in STRUCTURED or is_model(model.nodes[k].layer):
        # A nested model's cell is its output layer's, reading the nested model's own
        # values, which the page does not hold: its working travels as text.
        texts = [str(explain_node(model, k, values, (sample, *c))) for c in cells]
        return {"op": first.op, "texts": texts}
    found = [explain_node(model, k, values, (sample, *c)) for c in cells]
    out = {
        "op": first.op,
        "activation": first.activation,
        "totals": _encode(np.array([e.total for e in found], dtype=np.float64).reshape(shape)),
        "reads": int(model.nodes[k].inputs[0]),
    }
    if first.op in ("conv", "max", "average"):
        # The window positions depend on the spatial position only: one set per position,
        # the channel (or filter) running fastest in ``cells``.
        per_position = found[:: shape[-1]]
        out["positions"] = _encode(
            np.array([np.concatenate(e.positions) for e in per_position], dtype=np.int32)
        )
        out["window"] = [len(c) for c in first.positions]
    if first.op == "conv":
        out["channels"] = _encode(np.array([e.channels[0] for e in found[: shape[-1]]], np.int32))
        out["group_channels"] = len(first.channels)
    if first.op == "max":
        # The winner's offset in the window, row-major (explain's first maximum).
        offsets = [
            int(np.ravel_multi_index(_offset(e), e.patch.shape)) for e in found
        ]  # fmt: skip
        out["winners"] = _encode(np.array(offsets, dtype=np.int32).reshape(shape))
    if first.op in ("conv", "dense"):
        layer = model.nodes[k].layer
        out["bias"] = _encode(layer.weight_arrays()[1]) if layer.use_bias else None
        if first.op == "dense":
            out["kernel"] = _encode(layer.weight_arrays()[0])
    return out


def _offset(e) -> tuple[int, ...]:
    """Where in ``e``'s pooling window its winner sits."""
    spatial = e.winner[1:-1]
    return tuple(list(c).index(w) for c, w in zip(e.positions, spatial))


def _fields(model, v: int, shape, values) -> dict:
    """Per spatial position of value ``v`` (row-major), its receptive-field box on every
    earlier value: ``{"sources": {value: int32 (positions, axes, 2) start/stop}}``."""
    positions = list(np.ndindex(*shape[:-1]))
    try:
        boxes = [fields_by_value(model, v, p) for p in positions]
    except ValueError as error:
        return {"unavailable": str(error)}
    sources = {}
    for u in boxes[0]:
        if u == v:
            continue
        rank = values[u].ndim - 2
        starts = np.array(
            [[(s.start, s.stop) for s in b[u]] for b in boxes], dtype=np.int32
        ).reshape(len(positions), rank, 2)
        sources[str(u)] = _encode(starts)
    return {"sources": sources}


def _filters(model) -> dict:
    """Per conv layer (by name), its kernel and how a map channel's filter is sliced."""
    out = {}
    for layer in model.layers:
        if is_model(layer) or not layer.shaped:
            continue
        if isinstance(layer, BaseConvTranspose):
            layout = "transpose"  # kernel (*k, filters, in)
        elif isinstance(layer, (DepthwiseConv1D, DepthwiseConv2D)):
            layout = "depthwise"  # kernel (*k, in, multiplier)
        elif isinstance(layer, BaseConv):
            layout = "conv"  # kernel (*k, in / groups, filters)
        else:
            continue
        kernel = np.asarray(layer.weight_arrays()[0], dtype=np.float32)
        out[layer.name] = {
            "layout": layout,
            "kernel": _encode(kernel),
            "lo": float(kernel.min()),
            "hi": float(kernel.max()),
        }
    return out


__all__ = ["explorer", "page_data"]
