"""Receptive fields: which input positions can influence one output position of a layer.

Walking back from an output position, each axis keeps the set of positions that feed it
(convolution and pooling windows act on each axis separately, so the field is a product
of per-axis sets): output ``o`` of a window (kernel ``k``, stride ``s``, dilation ``d``,
``before`` zero-padding) reads inputs ``o*s - before + d*t`` for ``t < k``, of which only
those inside the input count (padding is a constant). Pointwise layers (activations, a
``Dense`` on the channel axis) keep positions; ``Flatten`` and global pooling mix every
position, so anything after them sees the whole input. Sets rather than ranges keep the
answer exact where dilation or large strides leave gaps, or a window meets only padding.

For ``summary`` the usual per-layer numbers are also given: the field size
``r_out = r_in + (k-1)*d*j_in`` (not clipped to the input) and the jump ``j_out = j_in*s``,
the input distance between neighbouring outputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from . import ops
from .layer import is_model
from .layers import Layer
from .validation import format_shape


def check_index(index, shape: Sequence[int], func: str, what: str) -> tuple[int, ...]:
    """``index`` as a tuple of non-negative ints within ``shape`` (negatives count from
    the end, as in numpy); a ValueError naming ``index``, ``what`` it indexes and the
    valid ranges otherwise."""
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        index = (index,)
    ranges = ", ".join(f"0..{n - 1}" for n in shape)
    message = (
        f"{func}: `index` must be {len(shape)} integers, one per axis of {what} "
        f"{tuple(shape)} (valid ranges {ranges or 'none: pass ()'}). Received: index={index!r}"
    )
    try:
        values = tuple(index)
    except TypeError:
        raise ValueError(message) from None
    if len(values) != len(shape) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(message)
    if any(not -n <= v < n for v, n in zip(values, shape)):
        raise ValueError(message.replace("must be", "is out of range; it must be"))
    return tuple(int(v) % n for v, n in zip(values, shape))


def _unknown(layer: Layer, func: str) -> ValueError:
    return ValueError(
        f"{func}: cannot tell how layer '{layer.name}' ({type(layer).__name__}) maps input "
        "positions to output positions (its `spatial_mapping` is None); receptive fields "
        "cover layers whose mapping is 'pointwise', 'window', 'all' or 'custom'."
    )


def _known(shape, what: str, func: str) -> tuple[int, ...]:
    spatial = tuple(shape[1:-1])
    if any(d is None for d in spatial):
        raise ValueError(
            f"{func}: the spatial size of {what} is unknown ({format_shape(shape)}); build the "
            "model with a fixed input_shape first."
        )
    return spatial


def receptive_field(model, layer, index) -> tuple[slice, ...]:
    """The input region that feeds one output position of ``layer``.

    Parameters
    ----------
    model : a built model (Sequential or functional: every branch is followed).
    layer : index into ``model.layers``, layer name, or the layer itself.
    index : the output's spatial position, one int per spatial axis of the layer's output
        (``(row, col)`` for a 2D map, ``(step,)`` for 1D, ``()`` after ``Flatten``).

    Returns
    -------
    One ``slice`` per spatial axis of the model's input (``x[(0, *field, 0)]`` is the
    patch): the bounding box of the input positions that feed it, so positions that only
    meet padding are left out; gaps that dilation or strides leave inside are not. An
    output fed by padding alone has empty slices. For a model of several inputs, a list
    with one such tuple per input (None for an input that does not feed it).
    """
    func = "receptive_field"
    if not model.built:
        raise ValueError(f"{func}: model '{model.name}' is not built; build or call it first.")
    k = model.node_of(layer, func)
    node = model.nodes[k]
    target = node.layer
    shapes = model.value_shapes(model._input_shape)
    out_spatial = _known(shapes[node.outputs[0]], f"layer '{target.name}'s output", func)
    index = check_index(index, out_spatial, func, f"the spatial axes of layer '{target.name}'")
    fields = _walk(model, node.outputs[0], [{i} for i in index], func)
    boxes = [None if f is None else _box(f) for f in fields]
    return boxes[0] if len(fields) == 1 else boxes


def fields_by_value(model, value: int, index: Sequence[int]) -> dict[int, tuple[slice, ...]]:
    """The receptive field of spatial position ``index`` of value number ``value`` (a
    node's output, as ``Model.forward`` numbers them) on every value that feeds it, the
    model's inputs and every earlier layer output alike: ``{value number: one slice per
    spatial axis}``, the bounding boxes ``receptive_field`` gives for the inputs. The
    explorer page highlights these on each earlier map."""
    seen: dict[int, list] = {}
    _walk(model, value, [{i} for i in index], "receptive_field", seen)
    return {v: _box(sets) for v, sets in sorted(seen.items())}


def _walk(model, value: int, sets: list, func: str, seen: dict | None = None) -> list:
    """Per input of ``model``, the per-axis sets of its positions that feed positions
    ``sets`` of value number ``value`` (None for an input that does not feed them),
    walking back from there through every branch, and into nested models' own graphs;
    ``seen`` (when given) gathers the sets read of every value on the way."""
    n_inputs = len(model._inputs) or 1
    shapes = model.value_shapes(model._input_shape)
    made_by = {v: (node, t) for node in model.nodes for t, v in enumerate(node.outputs)}
    fields = [None] * n_inputs
    pending = [(value, sets)]
    while pending:
        value, sets = pending.pop()
        if seen is not None:
            seen[value] = _union(seen.get(value), sets)
        if value < n_inputs:
            fields[value] = _union(fields[value], sets)
            continue
        node, t = made_by[value]
        lay = node.layer
        if is_model(lay):
            # Its output tensor t walked back through its own graph gives, per input of
            # the nested model, the positions read: they are positions of what feeds it.
            inner = lay._output_values[t] if lay._output_values else len(lay.nodes)
            for source, field in zip(node.inputs, _walk(lay, inner, sets, func)):
                if field is not None:
                    pending.append((source, field))
            continue
        for source in node.inputs:
            spatial = _known(shapes[source], f"layer '{lay.name}'s input", func)
            pending.append((source, _read(lay, sets, spatial, func)))
    return fields


def _union(old, sets):
    """Per axis, the positions in ``old`` (None: none yet) or ``sets``."""
    return sets if old is None else [a | b for a, b in zip(old, sets)]


def _read(lay, sets, spatial, func) -> list[set]:
    """The input positions per axis that ``lay``'s outputs at ``sets`` read."""
    if lay.spatial_mapping == "window":
        w = lay.window
        return [
            _inputs_read(outputs, n, k, s, d, w.padding)
            for outputs, n, k, s, d in zip(sets, spatial, w.size, w.strides, w.dilation)
        ]
    if lay.spatial_mapping == "all":
        return [set(range(n)) for n in spatial]
    if lay.spatial_mapping == "custom":
        return [
            lay.input_positions(a, outputs, n) for a, (outputs, n) in enumerate(zip(sets, spatial))
        ]
    if lay.spatial_mapping != "pointwise":
        raise _unknown(lay, func)
    return sets


def _box(sets) -> tuple[slice, ...]:
    if not all(sets):  # an output fed by padding alone depends on no input
        return tuple(slice(0, 0) for _ in sets)
    return tuple(slice(min(p), max(p) + 1) for p in sets)


def _inputs_read(outputs: set, length, kernel, stride, dilation, padding) -> set:
    """The input positions (inside ``0..length-1``) that windows at ``outputs`` read."""
    return {
        int(p)
        for o in outputs
        for p in ops.window_positions(o, length, kernel, stride, dilation, padding)
        if 0 <= p < length
    }


VARIES = ("varies", "varies")  # upsampling, transposed convs, branches that disagree


def layer_geometry(model) -> list[tuple[tuple[int, ...], tuple[int, ...]] | None]:
    """Per layer, ``(size, jump)`` per input spatial axis: the (unclipped) receptive-field
    size of one output and the input distance between neighbouring outputs. ``None``
    once ``Flatten`` or global pooling has mixed all positions (the field is the whole
    input); ``VARIES`` where it differs from output to output, or between the branches
    or calls that meet at a layer. Needs only the layers' hyper-parameters, the graph and
    the input rank."""
    values = _value_geometry(model)
    per_layer: dict[int, list] = {}
    for node in model.nodes:
        per_layer.setdefault(id(node.layer), []).extend(values[v] for v in node.outputs)
    out = []
    for lay in model.layers:
        found = per_layer.get(id(lay), [values[0]])  # an InputLayer: the input itself
        out.append(found[0] if all(g == found[0] for g in found) else VARIES)
    return out


def _value_geometry(model) -> list:
    """The geometry of every value of ``model``: its inputs, then each node's outputs."""
    if model._input_shape is not None:
        shape = (
            model._input_shape[0] if isinstance(model._input_shape, list) else model._input_shape
        )
        rank = max(len(shape) - 2, 0)
    else:
        rank = next((len(lay.window.size) for lay in model.layers if lay.window), 0)
    values = [((1,) * rank, (1,) * rank)] * (len(model._inputs) or 1)
    for node in model.nodes:
        inputs = [values[i] for i in node.inputs]
        same = all(g == inputs[0] for g in inputs)
        geometry = inputs[0] if same else VARIES
        if is_model(node.layer):  # a nested model: its own outputs' geometry, composed
            inner = _value_geometry(node.layer)
            ends = node.layer._output_values or [len(inner) - 1]
            values.extend(_compose(geometry, inner[v]) for v in ends)
        else:
            values.append(_step(node.layer, geometry))
    return values


def _compose(outer, inner):
    """The geometry of ``inner`` (relative to a nested model's input) after ``outer``."""
    if outer is None or outer == VARIES or inner is None or inner == VARIES:
        return inner if outer not in (None, VARIES) else outer
    (size, jump), (k, s) = outer, inner
    return (
        tuple(r + (kk - 1) * j for r, kk, j in zip(size, k, jump)),
        tuple(j * ss for j, ss in zip(jump, s)),
    )


def _step(lay, geometry):
    """The geometry after ``lay`` for inputs of ``geometry``."""
    if geometry is None or geometry == VARIES:
        return geometry
    size, jump = geometry
    w = lay.window if lay.spatial_mapping == "window" else None
    if w is not None:
        return (
            tuple(r + (k - 1) * d * j for r, k, d, j in zip(size, w.size, w.dilation, jump)),
            tuple(j * s for j, s in zip(jump, w.strides)),
        )
    if lay.spatial_mapping == "all":
        return None
    if lay.spatial_mapping == "custom" and not lay.shifts_only:
        return VARIES
    if lay.spatial_mapping not in ("pointwise", "custom"):
        raise _unknown(lay, "summary")
    return geometry


def summary_columns(model) -> list[tuple[str, str]]:
    """The header and one row per layer of ``summary(show_receptive_field=True)``."""
    rows = [("Receptive field", "Jump")]
    for geometry in layer_geometry(model):
        if geometry is None:
            rows.append(("whole input", "-"))
        elif geometry[0] == "varies":
            rows.append(("varies", "-"))
        else:
            rows.append(tuple("x".join(str(v) for v in values) or "-" for values in geometry))
    return rows


__all__ = ["receptive_field", "layer_geometry", "check_index"]
