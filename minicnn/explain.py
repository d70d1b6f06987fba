"""Explain one output value: the numbers that make it, worked the way the tutorial works a
feature-map cell by hand::

    0, 1, 0     0, 1, 1
    0, 1, 0  .  0, 1, 1  = 3
    0, 1, 0     0, 1, 1

``explain(model, x, layer, index)`` runs the model's own forward loop
(``Model.layer_outputs``, the data path of ``apply`` and ``predict``) up to ``layer``
on the one sample ``index`` names, then takes the layer's input patch and weights apart.
The ``value`` reported is the layer's actual output, so it is ``predict``'s number;
``total`` and ``pre_activation`` are recomputed from the parts in float64, so they agree
with it to float32 rounding.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import activations, ops
from . import layers as L
from .receptive import check_index
from .validation import format_number as num

# Activations that mix a position's whole last axis: every value along it takes part.
MIXING_ACTIVATIONS = ("softmax", "log_softmax", "sparsemax")

PAD = "·"  # how a zero-padding position is drawn in a patch
AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depths", "rows", "cols")}
LONG = 16  # vectors longer than this are summarised by their largest products


@dataclass(repr=False)
class Explanation:
    """How one output value of a layer comes about.

    Attributes
    ----------
    layer, kind : the layer's name and class name; ``index`` the full output index.
    op : ``"conv"``, ``"dense"``, ``"max"``, ``"average"``, ``"activation"``,
        ``"flatten"``, ``"terms"`` (a sum of ``input * weight`` terms listed in
        ``sources``: transposed and depthwise convs, bilinear upsampling), ``"copy"``
        (padding, cropping, nearest upsampling) or ``"batchnorm"``.
    patch : the input values the output reads: ``(*kernel_size, in_ch/groups)`` for a conv,
        ``(in,)`` for Dense, the window ``(*pool_size,)`` for pooling. Padded positions
        are 0 in a conv patch (the value the conv multiplies) and NaN in a pooling
        window (pooling skips them); ``padded`` marks them.
    kernel : the weights that multiply ``patch`` (same shape), or None.
    products : ``patch * kernel`` element-wise, or None.
    total : the sum of ``products`` (max or sum of the window for pooling, the input value
        for pointwise layers), in float64.
    bias : the bias added, or None.
    pre_activation : ``total + bias`` (the window average for average pooling).
    value : the layer's output at ``index``, exactly as ``predict`` gives it.
    """

    layer: str
    kind: str
    index: tuple[int, ...]
    op: str
    patch: np.ndarray
    kernel: np.ndarray | None
    products: np.ndarray | None
    total: float
    bias: float | None
    pre_activation: float
    value: float
    activation: str = "linear"
    padded: np.ndarray | None = None
    positions: tuple[np.ndarray, ...] = ()
    channels: tuple[int, ...] = ()
    winner: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)
    sources: list[tuple[tuple[int, ...], tuple[int, ...] | None]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Explanation {self.layer} output{list(self.index)} = {num(self.value, 6)}>"

    def __str__(self) -> str:
        head = f"{self.layer} ({self.kind}) output{list(self.index)} = {num(self.value, 6)}"
        return "\n".join([head, *self.notes, *RENDER[self.op](self)])


# --------------------------------------------------------------------------- public entry


def explain(model, x, layer, index: Sequence[int]) -> Explanation:
    """Explain output ``index`` of ``layer`` for input batch ``x``.

    Parameters
    ----------
    model : a model (Sequential or functional).
    x : the input batch, as for ``predict``.
    layer : index into ``model.layers`` (negative from the end), a name, or the layer.
    index : the full output index: ``(sample, row, col, filter)`` for a Conv2D,
        ``(sample, step, filter)`` for Conv1D, ``(sample, unit)`` for Dense, ...

    Returns
    -------
    An ``Explanation``; ``str()`` of it prints the working.
    """
    func = "explain"
    x = model.prepare_input(x, func)
    k = model.node_of(layer, func)
    node = model.nodes[k]
    target = node.layer
    inputs = model._input_values(x)
    shapes = [a.shape for a in inputs]
    out_shape = model.output_shapes(model._pack_inputs(shapes))[k]
    index = check_index(index, out_shape, func, f"layer '{target.name}'s output")
    sample = model._pack_inputs([a[index[0] : index[0] + 1] for a in inputs])
    values = []
    for _ in model.forward(model.weight_arrays(), sample, values=values):
        pass
    return explain_node(model, k, values, index)


def explain_node(model, k: int, values: Sequence, index: tuple[int, ...]) -> Explanation:
    """``explain`` for node (call) ``k`` of ``model``, from ``values``, the model's value
    list (``Model.forward``'s ``values``) for the one sample ``index[0]`` names, as a
    batch of one; ``index`` already checked. The explorer page explains every cell of a
    sample this way from one forward pass."""
    func = "explain"
    node = model.nodes[k]
    target = node.layer
    value = float(np.asarray(values[node.outputs[0]])[(0, *index[1:])])
    if not isinstance(target, L.Layer):  # a model nested as a layer
        return _nested(model, target, node, values, index)
    if target._takes_list:
        if not isinstance(target, (L.Add, L.Subtract, L.Average)):
            raise ValueError(
                f"{func}: layer '{target.name}' ({type(target).__name__}) merges several inputs "
                "in a way explain does not work out (it covers Add, Subtract and Average); "
                "explain the layers that feed it."
            )
        feeds = [_source(model, i) for i in node.inputs]
        return _merge(target, [np.asarray(values[i])[0] for i in node.inputs], feeds, index, value)
    xin = np.asarray(values[node.inputs[0]])[0]
    for kinds, build in BUILDERS:
        if isinstance(target, kinds):
            return build(target, xin, index, value)
    raise ValueError(
        f"{func}: layer '{target.name}' ({type(target).__name__}) cannot be explained; "
        "explain covers conv (also transposed and depthwise), Dense, pooling, global "
        "pooling, activation, Flatten, BatchNormalization, padding, cropping and upsampling "
        "layers."
    )


def _nested(model, target, node, values, index) -> Explanation:
    """A nested model's output cell, explained as its output layer's cell, from the
    feature maps that feed the model (the sample's own, as a batch of one)."""
    last = target._outputs[0]._history[0]
    if isinstance(last, L.InputLayer):
        raise ValueError(f"explain: model '{target.name}' passes its input through unchanged.")
    fed = target._pack_sources([np.asarray(values[i]) for i in node.inputs])
    inner = explain(target, fed, last, (0, *index[1:]))
    n_inputs = len(model._inputs) or 1
    source = ", ".join(
        f"layer '{_source(model, i)}'"
        if i >= n_inputs
        else ("the model's input" if n_inputs == 1 else f"the model's input {i}")
        for i in node.inputs
    )
    note = (
        f"inside model '{target.name}' ({target.keras_class}): its output layer "
        f"'{last.name}', reading {source}"
    )
    return replace(
        inner, layer=target.name, kind=target.keras_class, index=index, notes=[note, *inner.notes]
    )


def _source(model, value: int) -> str:
    """What makes value number ``value`` of ``model``: a layer's name, or ``input i``."""
    for node in model.nodes:
        if value in node.outputs:
            return node.layer.name
    return f"input {value}"


# --------------------------------------------------------------------------- builders


def _window(xin, out_pos, window: ops.Window, fill):
    """The window of ``xin`` (spatial..., c) read by output ``out_pos``: values
    ``(*kernel, c)`` with ``fill`` at padded positions, the padding mask ``(*kernel,)``
    and the input coordinates per axis (padding ones lie outside the input)."""
    coords, padded, clipped = _geometry(tuple(out_pos), tuple(xin.shape[:-1]), window)
    values = xin[clipped].astype(np.float64)
    values[padded] = fill
    return values, padded.copy(), coords


@functools.lru_cache(maxsize=4096)
def _geometry(out_pos, spatial, window: ops.Window):
    """For ``_window``: the input coordinates per axis that output ``out_pos`` reads, the
    padding mask and the clipped index. Cached, the coordinates read-only: every channel
    of a position asks, and the explorer page asks for every cell."""
    coords = tuple(
        ops.window_positions(o, n, k, s, d, window.padding)
        for o, n, k, s, d in zip(out_pos, spatial, window.size, window.strides, window.dilation)
    )
    real = np.ones(tuple(window.size), dtype=bool)
    for axis, (c, n) in enumerate(zip(coords, spatial)):
        shape = [1] * len(coords)
        shape[axis] = -1
        real = real & ((c >= 0) & (c < n)).reshape(shape)
        c.setflags(write=False)
    clipped = np.ix_(*(np.clip(c, 0, n - 1) for c, n in zip(coords, spatial)))
    return coords, ~real, clipped


def _conv(layer, xin, index, value):
    *out_pos, f = index[1:]
    kernel_w = layer.weight_arrays()[0]
    cg = kernel_w.shape[-2]
    group = f // (layer.filters // layer.groups)
    channels = tuple(range(group * cg, (group + 1) * cg))
    window, padded, coords = _window(xin, out_pos, layer.window, 0.0)
    patch = window[..., group * cg : (group + 1) * cg]
    kernel = kernel_w[..., f].astype(np.float64)
    notes = [f"filter {f} . input patch at {_where(coords, channels)}"]
    if padded.any():
        notes.append(f"({PAD} = zero padding, '{layer.padding}')")
    return _weighted_sum(
        layer,
        index,
        "conv",
        patch,
        kernel,
        f,
        value,
        notes,
        padded=padded,
        positions=coords,
        channels=channels,
    )


def _dense(layer, xin, index, value):
    *rest, unit = index[1:]
    patch = xin[tuple(rest)].astype(np.float64)
    kernel = layer.weight_arrays()[0][:, unit].astype(np.float64)
    where = f"input[{', '.join(str(i) for i in (index[0], *rest))}, :]"
    notes = [f"kernel column {unit} . {where}"]
    return _weighted_sum(layer, index, "dense", patch, kernel, unit, value, notes)


def _weighted_sum(layer, index, op, patch, kernel, unit, value, notes, **extra) -> Explanation:
    """A conv or Dense output: ``sum(patch * kernel) + bias[unit]``, then the activation."""
    bias = float(layer.weight_arrays()[1][unit]) if layer.use_bias else None
    return _summed(layer, index, op, patch, kernel, bias, value, notes, **extra)


def _summed(layer, index, op, patch, kernel, bias, value, notes, **extra) -> Explanation:
    """``sum(patch * kernel) + bias``, then the layer's activation (linear without one)."""
    products = patch * kernel
    total = float(np.sum(products))
    label = _activation_label(layer) if hasattr(layer, "activation") else "linear"
    return Explanation(
        layer.name,
        type(layer).__name__,
        index,
        op,
        patch,
        kernel,
        products,
        total,
        bias,
        total + (bias or 0.0),
        value,
        label,
        notes=notes,
        **extra,
    )


def _pool(layer, xin, index, value):
    *out_pos, c = index[1:]
    if isinstance(layer, L.BaseGlobalPooling):
        spatial = xin.shape[:-1]
        geometry = ops.Window(spatial, spatial, (1,) * len(spatial), "valid")
        out_pos = (0,) * len(spatial)
    else:
        geometry = layer.window
    window, padded, coords = _window(xin, out_pos, geometry, np.nan)
    patch = window[..., c]
    real = patch[~padded]
    notes = [f"{layer.mode} of input window at {_where(coords, (c,))}"]
    if padded.any():
        notes.append(f"({PAD} = padding, left out of the {layer.mode})")
    if layer.mode == "max":
        # The first maximum in row-major order, as the pooling gradient picks it.
        flat = int(np.argmax(np.where(padded, -np.inf, patch)))
        offset = np.unravel_index(flat, patch.shape)
        winner = (index[0], *(int(cs[o]) for cs, o in zip(coords, offset)), c)
        total = pre = float(patch[offset])
    else:
        winner, total = None, float(np.sum(real))
        pre = total / real.size
    return Explanation(
        layer.name,
        type(layer).__name__,
        index,
        layer.mode,
        patch,
        None,
        None,
        total,
        None,
        pre,
        value,
        padded=padded,
        positions=coords,
        channels=(c,),
        winner=winner,
        notes=notes,
    )


def _pointwise(layer, xin, index, value):
    notes = []
    position = index[1:]
    if isinstance(layer, L.Activation):
        label = _activation_label(layer)
    elif isinstance(layer, L.ReLU):
        label = "relu"
        options = {
            "max_value": layer.max_value,
            "negative_slope": layer.negative_slope,
            "threshold": layer.threshold,
        }
        if any(options.values()):
            set_options = ", ".join(f"{k}={num(v)}" for k, v in options.items() if v)
            notes.append(f"ReLU with {set_options}")
    elif isinstance(layer, L.PReLU):
        alpha = layer.weight_arrays()[0]
        slope = alpha[tuple(0 if n == 1 else p for n, p in zip(alpha.shape, position))]
        label = f"prelu[alpha={num(slope)}]"
    else:
        label = {
            L.LeakyReLU: lambda: f"leaky_relu[negative_slope={num(layer.negative_slope)}]",
            L.ELU: lambda: f"elu[alpha={num(layer.alpha)}]",
            L.Softmax: lambda: "softmax",
            L.Rescaling: lambda: f"{num(layer.scale)} * x + {num(layer.offset)}",
            L.Identity: lambda: "identity",
            L.Dropout: lambda: "identity at inference (dropout drops only in training)",
        }[
            next(
                c
                for c in (L.LeakyReLU, L.ELU, L.Softmax, L.Rescaling, L.Identity, L.Dropout)
                if isinstance(layer, c)
            )
        ]()
    if label in MIXING_ACTIVATIONS:
        patch = xin[position[:-1]].astype(np.float64)
        total = float(patch[position[-1]])
    else:
        patch = np.asarray(xin[position], dtype=np.float64)
        total = float(patch)
    notes.append(f"input{list(index)} = {num(total, 6)}")
    return _unweighted(layer, index, "activation", patch, total, value, notes, label)


def _terms(layer, index, value, terms, bias, notes) -> Explanation:
    """An output that is ``sum(x[source] * w[weight])`` over ``terms`` (``(source index,
    weight index or None, x, w)``), plus ``bias``, then the layer's activation."""
    patch = np.array([x for _, _, x, _ in terms], dtype=np.float64)
    kernel = np.array([w for _, _, _, w in terms], dtype=np.float64)
    sources = [(src, w) for src, w, _, _ in terms]
    return _summed(layer, index, "terms", patch, kernel, bias, value, notes, sources=sources)


def _conv_transpose(layer, xin, index, value):
    *out_pos, f = index[1:]
    kernel = layer.weight_arrays()[0]  # (*k, filters, in)
    per_axis = []
    for axis, o in enumerate(out_pos):
        n, k = xin.shape[axis], layer.kernel_size[axis]
        s, d = layer.strides[axis], layer.dilation_rate[axis]
        op_ = None if layer.output_padding is None else layer.output_padding[axis]
        before = (k - 1) * d - ops.conv_transpose_pads(n, k, s, d, layer.padding, op_)[0]
        per_axis.append(
            [((o + before - t * d) // s, t) for t in range(k) if (o + before - t * d) % s == 0]
        )
        per_axis[-1] = [(i, t) for i, t in per_axis[-1] if 0 <= i < n]
    terms = [
        ((index[0], *pos, c), (*taps, f, c), float(xin[(*pos, c)]), float(kernel[(*taps, f, c)]))
        for pairs in itertools.product(*per_axis)
        for pos, taps in [tuple(zip(*pairs)) if pairs else ((), ())]
        for c in range(xin.shape[-1])
    ]
    notes = [
        f"each input value spreads kernel[..., {f}, c] over the output, {layer.strides} apart; "
        f"{len(terms)} products land on this cell"
    ]
    if not terms:
        notes.append("no input reaches this cell: it holds the bias alone")
    bias = float(layer.weight_arrays()[1][f]) if layer.use_bias else None
    return _terms(layer, index, value, terms, bias, notes)


def _depthwise(layer, xin, index, value):
    *out_pos, f = index[1:]
    c, m = divmod(f, layer.depth_multiplier)
    kernel = layer.weight_arrays()[0]  # (*k, in, multiplier)
    window, padded, coords = _window(xin, out_pos, layer.window, 0.0)
    terms = [
        ((index[0], *(int(cs[t]) for cs, t in zip(coords, taps)), c), (*taps, c, m),
         float(window[(*taps, c)]), float(kernel[(*taps, c, m)]))
        for taps in itertools.product(*(range(k) for k in layer.kernel_size))
        if not padded[taps]
    ]  # fmt: skip
    notes = [f"output channel {f} = input channel {c} with its filter {m} (depth multiplier)"]
    bias = float(layer.weight_arrays()[1][f]) if layer.use_bias else None
    return _terms(layer, index, value, terms, bias, notes)


def _merge(layer, xins, feeds, index, value):
    """An Add, Subtract or Average cell: each input's value at the cell (size-1 axes
    broadcast), weighted 1, +1/-1, or 1/n."""
    n = len(xins)
    weights = {L.Add: [1.0] * n, L.Subtract: [1.0, -1.0], L.Average: [1.0 / n] * n}[type(layer)]
    terms = []
    for xin, w in zip(xins, weights):
        pos = tuple(0 if d == 1 else i for d, i in zip(xin.shape, index[1:]))
        terms.append(((index[0], *pos), None, float(xin[pos]), w))
    notes = [f"joins {', '.join(repr(f) for f in feeds)} at this position"]
    explanation = _terms(layer, index, value, terms, None, notes)
    explanation.sources = [((f, *src), None) for f, (src, _) in zip(feeds, explanation.sources)]
    return explanation


def _copy(layer, xin, index, value, source, why):
    notes = [why if source is None else f"copies input{list((index[0], *source))}"]
    total = 0.0 if source is None else float(xin[source])
    return _unweighted(layer, index, "copy", np.asarray(total), total, value, notes)


def _reshaping(layer, xin, index, value):
    *out_pos, c = index[1:]
    if isinstance(layer, (L.ZeroPadding1D, L.ZeroPadding2D)):
        pos = tuple(o - b for o, (b, _) in zip(out_pos, layer.padding))
        inside = all(0 <= p < n for p, n in zip(pos, xin.shape[:-1]))
        return _copy(layer, xin, index, value, (*pos, c) if inside else None, "zero padding")
    if isinstance(layer, (L.Cropping1D, L.Cropping2D)):
        pos = tuple(o + b for o, (b, _) in zip(out_pos, layer.cropping))
        return _copy(layer, xin, index, value, (*pos, c), "")
    sizes = (layer.size,) if isinstance(layer, L.UpSampling1D) else layer.size
    interpolation = getattr(layer, "interpolation", "nearest")
    if interpolation == "nearest":
        pos = tuple(o // f for o, f in zip(out_pos, sizes))
        return _copy(layer, xin, index, value, (*pos, c), "")
    rows = [ops.bilinear_weights(n, f)[o] for o, n, f in zip(out_pos, xin.shape[:-1], sizes)]
    terms = []
    for pos in itertools.product(*(np.flatnonzero(r) for r in rows)):
        weight = float(np.prod([r[p] for r, p in zip(rows, pos)]))
        terms.append(((index[0], *pos, c), None, float(xin[(*pos, c)]), weight))
    notes = ["bilinear: a weighted mean of the nearest inputs (half-pixel centres)"]
    return _terms(layer, index, value, terms, None, notes)


def _batchnorm(layer, xin, index, value):
    weights = list(layer.weight_arrays())
    axis = layer.axis % (xin.ndim + 1)
    ch = index[axis]
    mean, var = (float(w[ch]) for w in weights[-2:])
    gamma = float(weights.pop(0)[ch]) if layer.scale else 1.0
    beta = float(weights.pop(0)[ch]) if layer.center else 0.0
    x = float(xin[index[1:]])
    notes = [
        f"input{list(index)} = {num(x, 6)}; channel {ch}: moving mean {num(mean, 6)}, moving "
        f"variance {num(var, 6)}, gamma {num(gamma, 6)}, beta {num(beta, 6)}",
        f"({num(x, 6)} - {num(mean, 6)}) / sqrt({num(var, 6)} + {num(layer.epsilon)}) * "
        f"{num(gamma, 6)} + {num(beta, 6)}",
    ]
    total = (x - mean) / np.sqrt(var + layer.epsilon) * gamma + beta
    return _unweighted(layer, index, "batchnorm", np.asarray(x), float(total), value, notes)


def _flatten(layer, xin, index, value):
    source = (index[0], *(int(i) for i in np.unravel_index(index[1], xin.shape)))
    total = float(xin[source[1:]])
    notes = [f"copies input{list(source)} (row-major, channels fastest)"]
    return _unweighted(layer, index, "flatten", np.asarray(total), total, value, notes)


def _unweighted(layer, index, op, patch, total, value, notes, label="linear") -> Explanation:
    """An output computed from its input with no weights (activations, Flatten)."""
    kind = type(layer).__name__
    return Explanation(
        layer.name,
        kind,
        index,
        op,
        patch,
        None,
        None,
        total,
        None,
        total,
        value,
        label,
        notes=notes,
    )


BUILDERS = (
    (L.BaseConv, _conv),
    (L.BaseConvTranspose, _conv_transpose),
    ((L.DepthwiseConv1D, L.DepthwiseConv2D), _depthwise),
    (L.Dense, _dense),
    ((L.BasePooling, L.BaseGlobalPooling), _pool),
    (
        (
            L.ReLU,
            L.Activation,
            L.LeakyReLU,
            L.ELU,
            L.PReLU,
            L.Softmax,
            L.Rescaling,
            L.Identity,
            L.Dropout,
        ),
        _pointwise,
    ),
    (L.Flatten, _flatten),
    (
        (
            L.ZeroPadding1D,
            L.ZeroPadding2D,
            L.Cropping1D,
            L.Cropping2D,
            L.UpSampling1D,
            L.UpSampling2D,
        ),
        _reshaping,
    ),
    (L.BatchNormalization, _batchnorm),
)


def _activation_label(layer) -> str:
    fn = layer.activation
    return activations.REGISTRY.name_of(fn) or getattr(fn, "__name__", repr(fn))


def _where(coords, channels) -> str:
    """``rows 0..2, cols 2..4, channel 0`` (with ``step`` when the window is spaced)."""
    parts = []
    for name, c in zip(AXIS_NAMES[len(coords)], coords):
        step = f" step {c[1] - c[0]}" if len(c) > 1 and c[1] - c[0] != 1 else ""
        parts.append(f"{name[:-1]} {c[0]}" if len(c) == 1 else f"{name} {c[0]}..{c[-1]}{step}")
    word = "channel" if len(channels) == 1 else "channels"
    span = str(channels[0]) if len(channels) == 1 else f"{channels[0]}..{channels[-1]}"
    return ", ".join([*parts, f"{word} {span}"])


# --------------------------------------------------------------------------- rendering


def _grid(a: np.ndarray, mask: np.ndarray | None = None) -> list[str]:
    """A 1D array as ``[0, 1, 0]``; a 2D one as rows ``0, 1, 0`` with aligned columns."""
    cells = np.vectorize(num, otypes=[object])(a)
    if mask is not None:
        cells = np.where(mask, PAD, cells)
    if a.ndim == 1:
        return ["[" + ", ".join(cells) + "]"]
    width = max(len(c) for c in cells.ravel())
    return [", ".join(c.rjust(width) for c in row) for row in cells]


def _dot(kernel, patch, mask, total) -> list[str]:
    """``filter . patch = total``: on one line in 1D, grids side by side in 2D."""
    left, right = _grid(kernel), _grid(patch, mask)
    if kernel.ndim == 1:
        return [f"{left[0]} . {right[0]} = {num(total, 6)}"]
    middle = (len(left) - 1) // 2
    width = max(len(s) for s in left)
    return [
        (
            f"{a.ljust(width)}  .  {b}  = {num(total, 6)}"
            if i == middle
            else f"{a.ljust(width)}     {b}"
        )
        for i, (a, b) in enumerate(zip(left, right))
    ]


def _slices(a: np.ndarray):
    """Split a 3D spatial array into its 2D depth slices, labelled; 1D/2D pass through."""
    if a.ndim <= 2:
        return [("", None)]
    return [(f"depth {d}", d) for d in range(a.shape[0])]


def _render_conv(e: Explanation) -> list[str]:
    lines, partials = [], []
    for ci, channel in enumerate(e.channels):
        for label, d in _slices(e.kernel[..., ci]):
            pick = (..., ci) if d is None else (d, ..., ci)
            mask = e.padded if d is None else e.padded[d]
            part = float(np.sum(e.products[pick]))
            partials.append(part)
            title = ", ".join(
                t for t in (f"channel {channel}" if len(e.channels) > 1 else "", label) if t
            )
            lines += [f"{title}:"] if title else []
            lines += _dot(e.kernel[pick], e.patch[pick], mask, part)
    if len(partials) > 1:
        terms = " + ".join(num(p, 6) for p in partials)
        lines.append(f"sum of the {len(partials)} parts: {terms} = {num(e.total, 6)}")
    return lines + _render_tail(e)


def _render_dense(e: Explanation) -> list[str]:
    if e.patch.size <= LONG:
        return _dot(e.kernel, e.patch, None, e.total) + _render_tail(e)
    top = np.argsort(-np.abs(e.products), kind="stable")[:8]
    lines = [f"sum of {e.patch.size} products w[i] * x[i] = {num(e.total, 6)}; the largest:"]
    lines += [
        f"  i={i}: {num(e.kernel[i])} * {num(e.patch[i])} = {num(e.products[i])}" for i in top
    ]
    lines.append("(all of them are in .kernel, .patch and .products)")
    return lines + _render_tail(e)


def _render_tail(e: Explanation) -> list[str]:
    lines = []
    if e.bias is not None:
        lines.append(f"{num(e.total, 6)} + bias {num(e.bias, 6)} = {num(e.pre_activation, 6)}")
    if e.activation in MIXING_ACTIVATIONS:
        lines.append(f"{e.activation} across this position's outputs -> {num(e.value, 6)}")
    else:
        lines.append(f"{e.activation}({num(e.pre_activation, 6)}) = {num(e.value, 6)}")
    return lines


def _render_pool(e: Explanation) -> list[str]:
    lines = []
    for label, d in _slices(e.patch):
        lines += [f"{label}:"] if label else []
        lines += _grid(e.patch if d is None else e.patch[d], e.padded if d is None else e.padded[d])
    if e.op == "max":
        lines.append(f"max = {num(e.total, 6)}, taken from input{list(e.winner)}")
        return lines
    n = int(np.sum(~e.padded))
    real = e.patch[~e.padded]
    terms = " + ".join(num(v) for v in real) if n <= LONG else f"sum of {n} inputs"
    lines.append(f"({terms}) / {n} = {num(e.pre_activation, 6)}")
    return lines


def _render_activation(e: Explanation) -> list[str]:
    if e.patch.ndim == 1:
        return [f"{e.activation}({_grid(e.patch)[0]})[{e.index[-1]}] = {num(e.value, 6)}"]
    return [f"{e.activation}({num(e.total, 6)}) = {num(e.value, 6)}"]


def _render_terms(e: Explanation) -> list[str]:
    lines = []
    order = range(len(e.products))
    if len(e.products) > LONG:
        order = np.argsort(-np.abs(e.products), kind="stable")[:8]
        lines.append(f"sum of {len(e.products)} products; the largest:")
    for i in order:
        source, weight = e.sources[i]
        w = f"weight[{', '.join(map(str, weight))}]" if weight else "weight"
        if isinstance(source[0], str):  # a merge: the input is named by the layer feeding it
            where = f"{source[0]}[{', '.join(map(str, source[1:]))}]"
        else:
            where = f"input[{', '.join(map(str, source))}]"
        lines.append(
            f"  {where} * {w} = {num(e.patch[i])} * {num(e.kernel[i])} = {num(e.products[i])}"
        )
    lines.append(f"sum = {num(e.total, 6)}")
    return lines + _render_tail(e)


RENDER = {
    "terms": _render_terms,
    "copy": lambda e: [f"= {num(e.value, 6)}"],
    "batchnorm": lambda e: [f"= {num(e.pre_activation, 6)} (the layer gives {num(e.value, 6)})"],
    "conv": _render_conv,
    "dense": _render_dense,
    "max": _render_pool,
    "average": _render_pool,
    "activation": _render_activation,
    "flatten": lambda e: [],
}

__all__ = ["Explanation", "explain"]
