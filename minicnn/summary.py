"""Keras's ``model.summary()`` table, for Sequential and functional models (Keras 3.15's
``utils/summary_utils.py``): the columns, their widths at Keras's default 80-column line,
wrapped cells, the "Connected to" column of branching models, and the totals."""

from __future__ import annotations

import textwrap

import numpy as np

from .layer import class_name
from .receptive import summary_columns
from .validation import format_shape


def print_summary(model, print_fn=None, show_receptive_field: bool = False) -> None:
    """Print Keras's table: ``Layer (type) | Output Shape | Param #`` and the totals;
    ``show_receptive_field`` adds each layer's receptive-field size and jump."""
    print_fn = print_fn or print
    connected = not sequential_like(model)
    rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")[: 3 + connected]]
    for layer in model.layers:
        shape = _format_shapes(layer.output_shape) if layer.shaped else "?"
        params = f"{layer.count_params():,}" if layer.shaped else "0 (unbuilt)"
        row = (f"{layer.name} ({class_name(layer)})", shape, params)
        rows.append(row + ((connections(model, layer),) if connected else ()))
    if show_receptive_field:
        # Where branches or calls that meet at a layer disagree, its field "varies".
        rows = [r + extra for r, extra in zip(rows, summary_columns(model))]
    # Keras's column widths at its default 80-column line; a longer cell wraps onto
    # more lines ("global_average_pooling2d" over "(GlobalAveragePooling2D)"), and a
    # word longer than its column is cut with an ellipsis, as Keras's table does. The
    # receptive-field columns are minicnn's own, added on the right.
    widths = ((19, 17, 10, 17, 16, 8) if connected else (31, 22, 13, 16, 8))[: len(rows[0])]

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, bar):
        wrapped = [
            [
                p if len(p) <= w else p[: w - 1] + "…"
                for p in textwrap.wrap(c, w, break_long_words=False)
            ]
            or [""]
            for c, w in zip(cells, widths)
        ]
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
        f'Model: "{model.name}"',
        line("┏", "┳", "┓", "━"),
        row(rows[0], "┃"),
        line("┡", "╇", "┩", "━"),
    ]
    for i, r in enumerate(rows[1:]):
        out.append(row(r, "│"))
        if i < len(rows) - 2:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    sizes = [w.size for w in model.weight_arrays()]
    trainable = sum(sizes[i] for i in model.trainable_indices())
    weights = sum(sizes)
    # Once training has built the optimizer, Keras counts its variables too: its
    # iteration count and learning rate (scalars) and its slots (Adam's m and v...).
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    built = optimizer is not None and optimizer.built
    slots = sum(int(np.size(v)) for v in optimizer.variables) if built else 0
    rows = [
        ("Total", weights + slots),
        ("Trainable", trainable),
        ("Non-trainable", weights - trainable),
    ]
    if built:
        rows.append(("Optimizer", slots))
    for label, n in rows:
        out.append(f" {label} params: {n:,} ({_bytes(4 * n)})")
    print_fn("\n".join(out))


def sequential_like(model) -> bool:
    """Keras's rule for a summary without "Connected to": one input and one output,
    each node reading the one before it, and no layer called twice."""
    layers = [node.layer for node in model.nodes]
    return (
        len(model._inputs) <= 1
        and len(model._outputs) <= 1
        and all(node.inputs == (k,) for k, node in enumerate(model.nodes))
        and len({id(layer) for layer in layers}) == len(layers)
    )


def connections(model, layer) -> str:
    """Keras's "Connected to" cell: ``layer[node][tensor]`` for every input of every call
    of ``layer`` that belongs to this model."""
    mine = {id(made[0]) for made in model.node_outputs}
    parts = [
        f"{t._history[0].name}[{t._history[1]}][{t._history[2]}]"
        for record in layer._calls
        if id(record.outputs[0]) in mine
        for t in map(model.model_tensor, record.inputs)
    ]
    return ", ".join(parts) or "-"


def _format_shapes(shape) -> str:
    """One shape as Keras prints it, or a nested model's several as a list,
    ``[(None, 3), (None, 2)]`` (Keras prints a dict's shapes that way too)."""
    if isinstance(shape, dict):
        shape = list(shape.values())
    if isinstance(shape, list):
        return "[" + ", ".join(map(format_shape, shape)) + "]"
    return format_shape(shape)


def _bytes(n: int) -> str:
    """Keras's size format: ``40.00 B``, ``1.17 KB``, ``3.52 MB``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"
