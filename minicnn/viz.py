"""Pictures of feature maps and filters.

``show(array)`` draws a 1D or 2D map in the terminal with nothing but numpy: the numbers
themselves for a small grid, shaded blocks with a printed scale for a larger one.
``plot_feature_maps``, ``plot_filters`` and ``plot_history`` write PNG files with
matplotlib, an optional extra (``pip install minicnn[viz]``), imported only when they
are called: the layers and channels to draw can be chosen, panels wrap into a grid of
at most ``MAX_COLUMNS`` columns, and each layer has one colour scale so its maps compare.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .explorer import explorer
from .layers import Layer
from .validation import check_sample, format_number, format_shape

SHADES = " ░▒▓█"  # from the smallest value to the largest
MAX_NUMBERS = 12  # grids up to this many rows and columns are printed as numbers
WRAP = 64  # cells per line for a long 1D map


def render(array, title: str | None = None, max_numbers: int = MAX_NUMBERS) -> str:
    """The text ``show`` prints for ``array`` (see ``show``).

    Parameters
    ----------
    array, title, max_numbers : as for ``show``.

    Returns
    -------
    The text, lines joined by newlines.

    Examples
    --------
    >>> import numpy as np
    >>> print(render(np.eye(2)))
    1 0
    0 1
    """
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

    Examples
    --------
    >>> import numpy as np
    >>> show(np.array([[0, 3], [3, 0]]))
    0 3
    3 0
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


#: Panels per row before a layer's channels wrap onto the next row.
MAX_COLUMNS = 8
#: Channels (or filters) drawn per layer unless asked for more: enough to see what a
#: layer does without a picture thousands of pixels wide.
DEFAULT_CHANNELS = 16
#: Filters and input channels ``plot_filters`` draws unless asked for more.
DEFAULT_FILTERS = (8, 4)
PANEL_INCHES = 1.45


class _Section:
    """One layer's panels: a title and ``(label, 1D or 2D array)`` panels, drawn with one
    colour scale so its maps compare."""

    def __init__(self, title: str, panels: list[tuple[str, np.ndarray]]):
        self.title, self.panels = title, panels

    def rows(self, columns: int) -> int:
        return math.ceil(len(self.panels) / columns)


def _save_sections(func: str, sections: list[_Section], path, title: str, columns: int) -> str:
    """``_draw_sections`` saved as a PNG at ``path``."""
    path = os.fspath(path)
    _draw_sections(func, sections, title, columns).savefig(path)
    return path


def _draw_sections(func: str, sections: list[_Section], title: str, columns: int):
    """A Figure of each section as a block of panels wrapped at ``columns`` per row,
    sharing one colour scale and one colour bar."""
    Figure = _figure(func)
    columns = min(columns, max(len(s.panels) for s in sections))
    heights = [s.rows(columns) for s in sections]
    width = PANEL_INCHES * columns + 1.2
    fig = Figure(figsize=(width, PANEL_INCHES * 1.15 * sum(heights) + 0.5 * len(sections) + 0.6),
                 dpi=100, layout="constrained")  # fmt: skip
    fig.suptitle(title)
    subfigs = fig.subfigures(len(sections), 1, height_ratios=[h + 0.4 for h in heights])
    subfigs = np.atleast_1d(subfigs)
    for sub, section in zip(subfigs, sections):
        arrays = [np.asarray(a, dtype=np.float64) for _, a in section.panels]
        low = min(float(a.min()) for a in arrays)
        high = max(float(a.max()) for a in arrays)
        if low == high:  # a constant layer: any scale shows it as one colour
            low, high = low - 0.5, high + 0.5
        sub.suptitle(f"{section.title}   [{format_number(low)} .. {format_number(high)}]",
                     fontsize=9)  # fmt: skip
        axes = sub.subplots(section.rows(columns), columns, squeeze=False)
        image = None
        for k, ax in enumerate(axes.flat):
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(arrays):
                ax.set_axis_off()
                continue
            a = arrays[k]
            image = ax.imshow(a.reshape(1, -1) if a.ndim == 1 else a, cmap="viridis",
                              vmin=low, vmax=high, aspect="auto")  # fmt: skip
            ax.set_title(section.panels[k][0], fontsize=7)
        sub.colorbar(image, ax=list(axes.flat), shrink=0.9, pad=0.01)
    return fig


def _pick(
    what: str, func: str, count: int, chosen, default: int = DEFAULT_CHANNELS
) -> tuple[list[int], str]:
    """The indices ``chosen`` names among ``count`` (None: the first ``default``;
    ``"all"``; an int n: the first n; a list of indices), and a note of what was left
    out."""
    if chosen is None:
        chosen = min(count, default)
    if chosen == "all":
        chosen = count
    if isinstance(chosen, (int, np.integer)) and not isinstance(chosen, bool):
        if chosen < 1:
            raise ValueError(f"{func}: `{what}` must be at least 1. Received: {what}={chosen}")
        picked = list(range(min(int(chosen), count)))
    elif isinstance(chosen, (list, tuple, range)) and chosen:
        picked = []
        for i in chosen:
            if (
                isinstance(i, bool)
                or not isinstance(i, (int, np.integer))
                or not -count <= i < count
            ):
                raise ValueError(
                    f"{func}: `{what}` must be indices in 0..{count - 1}. Received: {list(chosen)}"
                )
            picked.append(int(i) % count)
    else:
        raise ValueError(
            f"{func}: `{what}` must be None, 'all', a count or a list of indices. "
            f"Received: {what}={chosen!r}"
        )
    note = "" if len(picked) == count else f" ({len(picked)} of {count} {what})"
    return picked, note


def _check_columns(func: str, max_columns) -> int:
    if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 1:
        raise ValueError(f"{func}: `max_columns` must be an int >= 1. Received: {max_columns!r}")
    return max_columns


def plot_feature_maps(
    model, x, path, sample: int = 0, layers=None, channels=None, max_columns: int = MAX_COLUMNS
) -> str:
    """Write a PNG of ``model``'s feature maps for one sample of ``x``: a block per layer
    (after one for the input), one panel per channel, wrapped at ``max_columns`` panels
    per row, and one colour scale (and colour bar) per layer so its maps compare.

    Parameters
    ----------
    model : a built model.
    x : a batch of inputs, shape ``(n, *input_shape)``.
    path : where to write the PNG.
    sample : which sample of ``x`` to draw.
    layers : the layers to draw (names, indices or layers; default: every layer).
    channels : per layer, the channels to draw: None (the first 16), ``"all"``, a count,
        or a list of channel indices.
    max_columns : panels per row before wrapping.

    Maps with spatial axes are drawn as images (1D maps as one-row images, a 3D map's
    depth slices side by side); outputs without spatial axes (Dense, Flatten, global
    pooling) as one row of values. Needs matplotlib (``pip install minicnn[viz]``).

    Returns
    -------
    ``path`` as a string.

    Examples
    --------
    >>> viz.plot_feature_maps(model, x, "maps.png", layers=["conv2d"], channels=8)  # doctest: +SKIP
    """
    func = "plot_feature_maps"
    _figure(func)
    columns = _check_columns(func, max_columns)
    x = np.asarray(x)
    sample = check_sample(func, sample, len(x))
    one = model.prepare_input(x[sample : sample + 1], func)
    maps = model.feature_maps(one)
    names = list(maps) if layers is None else [
        model.layers[model.locate_layer(layer)].name for layer in
        (layers if isinstance(layers, (list, tuple)) else [layers])
    ]  # fmt: skip
    missing = [n for n in names if n not in maps]
    if missing:
        raise ValueError(f"{func}: layers {missing} make no feature map (an Input, or not called).")
    chosen = ([("input", one)] if layers is None else []) + [(n, maps[n]) for n in names]
    sections = []
    for name, m in chosen:
        m = np.asarray(m)[0]
        if m.ndim <= 1:
            sections.append(_Section(f"{name} {format_shape(m.shape)}", [("values", m)]))
            continue
        picked, note = _pick("channels", func, m.shape[-1], channels)
        panels = [
            (f"ch {c}", m[..., c] if m.ndim <= 3 else np.hstack(list(m[..., c]))) for c in picked
        ]
        sections.append(_Section(f"{name} {format_shape(m.shape)}{note}", panels))
    return _save_sections(func, sections, path, f"feature maps of '{model.name}'", columns)


def plot_filters(
    layer: Layer, path, filters=None, channels=None, max_columns: int = MAX_COLUMNS
) -> str:
    """Write a PNG of a conv layer's filters: a block per filter, one panel per input
    channel (a 3D kernel's depth slices side by side), all on one colour scale; a Dense
    kernel as one image.

    Parameters
    ----------
    layer : a built Conv1D/2D/3D (also transposed, depthwise) or Dense layer.
    path : where to write the PNG.
    filters, channels : which filters (output channels) and input channels to draw:
        None (the first 8 filters, the first 4 channels), ``"all"``, a count, or a list
        of indices.
    max_columns : panels per row before wrapping.

    Needs matplotlib (``pip install minicnn[viz]``).

    Returns
    -------
    ``path`` as a string.

    Examples
    --------
    >>> viz.plot_filters(model.layers[0], "filters.png", filters=4)  # doctest: +SKIP
    """
    func = "plot_filters"
    _figure(func)
    columns = _check_columns(func, max_columns)
    if not isinstance(layer, Layer) or "kernel" not in layer.weight_names:
        raise ValueError(
            "plot_filters: `layer` must be a built layer with a kernel (Conv1D/2D/3D or "
            f"Dense). Received: {layer!r}"
        )
    kernel = layer.weight_arrays()[0]
    if kernel.ndim == 2:
        sections = [_Section(f"{layer.name} kernel {format_shape(kernel.shape)}",
                             [("inputs x units", kernel)])]  # fmt: skip
    else:
        fs, f_note = _pick("filters", func, kernel.shape[-1], filters, DEFAULT_FILTERS[0])
        cs, c_note = _pick("channels", func, kernel.shape[-2], channels, DEFAULT_FILTERS[1])
        panels = [
            (
                f"f {f} ch {c}",
                kernel[..., c, f] if kernel.ndim <= 4 else np.hstack(list(kernel[..., c, f])),
            )
            for f in fs
            for c in cs
        ]
        title = f"{layer.name} kernel {format_shape(kernel.shape)}{f_note}{c_note}"
        sections = [_Section(title, panels)]
        columns = min(columns, len(cs)) if len(cs) > 1 else columns
    return _save_sections(func, sections, path, f"filters of '{layer.name}'", columns)


def plot_history(history, path, metrics=None) -> str:
    """Write a PNG of the curves every tutorial draws: per metric (the loss first), its
    value per epoch in training and, when logged, in validation (``val_*``).

    Parameters
    ----------
    history : what ``fit`` returns (a ``History``) or its ``history`` dict.
    path : where to write the PNG.
    metrics : the metrics to draw (default: every logged one, ``loss`` first).

    Needs matplotlib (``pip install minicnn[viz]``).

    Returns
    -------
    ``path`` as a string.

    Examples
    --------
    >>> history = model.fit(x, y, validation_split=0.2, epochs=10)  # doctest: +SKIP
    >>> viz.plot_history(history, "history.png")  # doctest: +SKIP
    """
    func = "plot_history"
    Figure = _figure(func)
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            f"{func}: expected a History (what fit returns) or its non-empty `history` dict. "
            f"Received: {history!r:.80}"
        )
    base = [k for k in logs if not k.startswith("val_")]
    base = sorted(base, key=lambda k: (k != "loss", k))
    if metrics is not None:
        wanted = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in wanted if m not in logs]
        if unknown:
            raise ValueError(f"{func}: {unknown} were not logged; the history has {sorted(logs)}.")
        base = wanted
    fig = Figure(figsize=(4.2 * len(base), 3.2), dpi=100, layout="constrained")
    for k, name in enumerate(base):
        ax = fig.add_subplot(1, len(base), k + 1)
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in logs:
                values = logs[key]
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    path = os.fspath(path)
    fig.savefig(path)
    return path


__all__ = [
    "show",
    "render",
    "format_number",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "explorer",
]
