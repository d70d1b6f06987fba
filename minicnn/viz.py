"""Pictures of feature maps and filters.

``show(array)`` draws a 1D or 2D map in the terminal with nothing but numpy: the numbers
themselves for a small grid, shaded blocks with a printed scale for a larger one.
``plot_feature_maps`` and ``plot_filters`` write PNG grids with matplotlib, an optional
extra (``pip install minicnn[viz]``), imported only when they are called.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .layers import Layer
from .validation import format_shape

SHADES = " ░▒▓█"  # from the smallest value to the largest
MAX_NUMBERS = 12  # grids up to this many rows and columns are printed as numbers
WRAP = 64  # cells per line for a long 1D map


def format_number(v, digits: int = 4) -> str:
    """``3`` for 3.0, ``0.25``, ``-1.234`` (``digits`` significant), ``nan``."""
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def render(array, title: str | None = None, max_numbers: int = MAX_NUMBERS) -> str:
    """The text ``show`` prints for ``array`` (see ``show``)."""
    squeezed = _as_map(array, "show")
    a = squeezed.reshape(1, -1) if squeezed.ndim == 1 else squeezed
    lines = [title] if title else []
    if max(a.shape) <= max_numbers:
        cells = [[format_number(v) for v in row] for row in a]
        width = max(len(c) for row in cells for c in row)
        lines += [" ".join(c.rjust(width) for c in row) for row in cells]
        return "\n".join(lines)
    lo, hi = float(np.min(a)), float(np.max(a))
    span = hi - lo
    levels = np.full(a.shape, len(SHADES) // 2)
    if span > 0:
        levels = np.minimum((a - lo) / span * len(SHADES), len(SHADES) - 1).astype(int)
    # Two characters per cell keep a 2D map's cells roughly square in a terminal.
    cell = 2 if a.shape[0] > 1 and a.shape[1] <= 60 else 1
    if a.shape[0] == 1 and a.shape[1] > WRAP:
        starts = range(0, a.shape[1], WRAP)
        index_width = len(str(a.shape[1] - 1))
        lines += [
            f"{s:>{index_width}} |" + "".join(SHADES[k] for k in levels[0, s : s + WRAP]) + "|"
            for s in starts
        ]
    else:
        border = "+" + "-" * (a.shape[1] * cell) + "+"
        lines.append(border)
        lines += ["|" + "".join(SHADES[k] * cell for k in row) + "|" for row in levels]
        lines.append(border)
    step = span / len(SHADES)
    bands = ", ".join(
        f"'{s}' {format_number(lo + i * step)}..{format_number(lo + (i + 1) * step)}"
        for i, s in enumerate(SHADES)
    )
    scale = f"scale: {bands}" if span > 0 else f"scale: every cell is {format_number(lo)}"
    lines.append(
        f"{format_shape(squeezed.shape)} map, min {format_number(lo)}, "
        f"max {format_number(hi)}; {scale}"
    )
    return "\n".join(lines)


def show(array, title: str | None = None, max_numbers: int = MAX_NUMBERS) -> None:
    """Print a 1D or 2D map (or filter) in the terminal.

    Parameters
    ----------
    array : array-like whose shape, once its size-1 axes are dropped, is ``(n,)`` or
        ``(rows, cols)``; e.g. ``yhat[0, :, :, 0]`` or a whole ``(1, 6, 6, 1)`` prediction.
    title : a line printed above the map.
    max_numbers : grids with no side longer than this are printed as numbers; larger
        ones as shaded blocks ``' ░▒▓█'`` from the minimum to the maximum, with the scale.
    """
    print(render(array, title, max_numbers))


def _as_map(array, func: str) -> np.ndarray:
    a = np.asarray(array)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{func}: expected a numeric array; received dtype {a.dtype}.")
    squeezed = a.reshape([d for d in a.shape if d != 1] or [1])
    if squeezed.ndim > 2 or a.size == 0:
        raise ValueError(
            f"{func}: expected a 1D or 2D map (size-1 axes are dropped), e.g. "
            f"yhat[0, :, :, 0]; received an array of shape {a.shape}."
        )
    return squeezed.astype(np.float64)


# --------------------------------------------------------------------------- PNG grids


def _figure(func: str):
    """matplotlib's ``Figure`` class, or an ImportError saying how to install it."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            f"minicnn.viz.{func} draws PNG files with matplotlib, which is not installed. "
            "Install the optional extra with: pip install minicnn[viz]"
        ) from err
    return Figure


def _save_grid(func: str, panels: list[list[tuple[str, np.ndarray]]], path, title: str):
    """Draw rows of ``(label, 1D or 2D array)`` panels as images and save a PNG."""
    Figure = _figure(func)
    rows, cols = len(panels), max(len(row) for row in panels)
    fig = Figure(figsize=(1.7 * cols + 0.5, 1.9 * rows + 0.6), dpi=100, layout="constrained")
    fig.suptitle(title)
    for r, row in enumerate(panels):
        for c, (label, a) in enumerate(row):
            ax = fig.add_subplot(rows, cols, r * cols + c + 1)
            a = np.asarray(a, dtype=np.float64)
            ax.imshow(a.reshape(1, -1) if a.ndim == 1 else a, cmap="viridis", aspect="auto")
            # Each panel has its own colour scale, so its range is written under it.
            ax.set_title(label, fontsize=7)
            ax.set_xlabel(f"{format_number(a.min())} .. {format_number(a.max())}", fontsize=6)
            ax.set_xticks([])
            ax.set_yticks([])
    path = os.fspath(path)
    fig.savefig(path)
    return path


def plot_feature_maps(model, x, path, sample: int = 0) -> str:
    """Write a PNG with one row per layer (after a first row for the input) and one
    panel per channel: every feature map of ``model`` for sample ``sample`` of ``x``.

    Maps with spatial axes are drawn as images (1D maps as one-row images); outputs
    without spatial axes (Dense, Flatten, global pooling) as one row of values. Needs
    matplotlib (``pip install minicnn[viz]``). Returns ``path``.
    """
    _figure("plot_feature_maps")
    x = np.asarray(x)
    if isinstance(sample, bool) or not isinstance(sample, int) or not 0 <= sample < len(x):
        raise ValueError(
            f"plot_feature_maps: `sample` must be an index into x (0..{len(x) - 1}). "
            f"Received: sample={sample!r}"
        )
    maps = {"input": model.prepare_input(x[sample : sample + 1], "plot_feature_maps")}
    maps.update(model.feature_maps(x[sample : sample + 1]))
    panels = [_channel_panels(name, m[0]) for name, m in maps.items()]
    return _save_grid("plot_feature_maps", panels, path, f"feature maps of '{model.name}'")


def _channel_panels(name: str, m: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """One panel per channel of a ``(*spatial, channels)`` map; one for a flat vector."""
    if m.ndim <= 1:
        return [(f"{name} {format_shape(m.shape)}", m)]
    # A 3D map (depth, rows, cols) is shown as its depth slices side by side.
    return [
        (f"{name} ch {c}", m[..., c] if m.ndim <= 3 else np.hstack(list(m[..., c])))
        for c in range(m.shape[-1])
    ]


def plot_filters(layer: Layer, path) -> str:
    """Write a PNG of a conv layer's filters: one row per filter, one panel per input
    channel (a 3D kernel's depth slices side by side); a Dense kernel as one image.
    Needs matplotlib (``pip install minicnn[viz]``). Returns ``path``."""
    _figure("plot_filters")
    if not isinstance(layer, Layer) or "kernel" not in layer.weight_names:
        raise ValueError(
            "plot_filters: `layer` must be a built layer with a kernel (Conv1D/2D/3D or "
            f"Dense). Received: {layer!r}"
        )
    kernel = layer.weight_arrays()[0]
    if kernel.ndim == 2:
        panels = [[(f"{layer.name} kernel {format_shape(kernel.shape)}", kernel)]]
    else:
        panels = [
            [
                (
                    f"filter {f} ch {c}",
                    kernel[..., c, f] if kernel.ndim <= 4 else np.hstack(list(kernel[..., c, f])),
                )
                for c in range(kernel.shape[-2])
            ]
            for f in range(kernel.shape[-1])
        ]
    return _save_grid("plot_filters", panels, path, f"filters of '{layer.name}'")


__all__ = ["show", "render", "format_number", "plot_feature_maps", "plot_filters"]
