"""Pure, differentiable functions of arrays: convolution, pooling, and the primitives the
activations need (``relu``, ``erf``, ``reduce_max``); and the window geometry every other
module reads (``Window``, ``output_length``, ``padding_amounts``, ``window_positions``).

Everything here takes and returns arrays (channels-last: ``(batch, *spatial, channels)``)
and holds no state. Each public function checks its own arguments (a ValueError or
TypeError naming the argument, as ``jax.lax`` and Keras's ops do) and then calls an
``autograd`` primitive whose vector-Jacobian product is written by hand next to it; the
primitives exist where autograd's own VJP would be slow or would silently turn float32
gradients into float64.

Convolution has two kernels, chosen per call by shape (``_use_shifted``): im2col (copy
the input windows into a matrix, one matmul; any stride) and, for stride 1 with wide
windows, shifted matmuls straight from the padded input with no copy (one per kernel
tap). Speeds against PyTorch are measured in benchmarks/.

Shape rules follow Keras 3 (``keras/src/ops/operation_utils.py``):

- ``valid``: ``out = floor((L - d*(k-1) - 1) / s) + 1``
- ``same`` and ``causal``: ``out = ceil(L / s)``
- ``same`` pads ``total = max(0, (out-1)*s + d*(k-1) + 1 - L)``, ``total // 2`` before
  and the rest after; ``causal`` pads ``d*(k-1)`` before and nothing after.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, defvjp_argnums, primitive
from autograd.tracer import getval

from .validation import (
    check_choice,
    check_int,
    check_real,
    format_shape,
    is_bool,
    standardize_tuple,
)

Pads = tuple[tuple[int, int], ...]

PADDINGS = ("valid", "same", "causal")
POOL_MODES = ("max", "average")


class Window(NamedTuple):
    """The geometry of a sliding window (a conv kernel or a pooling window), per spatial
    axis: what ``output_length``, ``window_positions``, ``explain`` and receptive fields
    all read. Layers with a window expose it as ``layer.window``."""

    size: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str


# --------------------------------------------------------------------------- shapes


def _check_axis(owner, length, kernel, stride, dilation, padding, paddings=PADDINGS) -> str:
    """The checks every one-axis geometry function makes; returns the padding, lower-cased."""
    check_int(length, owner, "length", minimum=0, allow_none=True)
    for name, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        check_int(value, owner, name, minimum=1)
    return check_choice(padding, owner, "padding", paddings, lower=True)


def output_length(length: int | None, kernel: int, stride: int, dilation: int, padding: str):
    """Length of one spatial axis after a convolution or pooling window (Keras's rule).

    Returns None when ``length`` is None (an axis of unknown size), and a number that may
    be zero or negative for a ``valid`` window larger than the input; callers reject that.
    """
    padding = _check_axis("ops.output_length", length, kernel, stride, dilation, padding)
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return -(-length // stride)


def padding_amounts(length: int, kernel: int, stride: int, dilation: int, padding: str):
    """``(before, after)`` zero padding for one spatial axis, as Keras computes it."""
    padding = _check_axis("ops.padding_amounts", length, kernel, stride, dilation, padding)
    span = dilation * (kernel - 1) + 1
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (span - 1, 0)
    out = -(-length // stride)
    total = max(0, (out - 1) * stride + span - length)
    return (total // 2, total - total // 2)


def window_positions(
    out_index: int, length: int, kernel: int, stride: int, dilation: int, padding: str
) -> np.ndarray:
    """The input coordinates along one axis that output ``out_index`` of a window reads,
    in kernel order: ``out_index*stride - before + dilation*t`` for ``t < kernel``.
    Coordinates below 0 or from ``length`` on lie in the padding."""
    check_int(out_index, "ops.window_positions", "out_index", minimum=0)
    before = padding_amounts(length, kernel, stride, dilation, padding)[0]
    return out_index * stride - before + dilation * np.arange(kernel)


def _resolve_pads(spatial, kernel, strides, dilation, padding) -> Pads:
    return tuple(
        padding_amounts(n, k, s, d, padding)
        for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)
    )


# --------------------------------------------------------------------------- windows


def _interior(pads: Pads, padded_spatial) -> tuple:
    """Index of the unpadded part of a padded (n, *padded, c) array."""
    inside = (slice(b, n - a) for (b, a), n in zip(pads, padded_spatial))
    return (slice(None), *inside, slice(None))


def _pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    if not any(b or a for b, a in pads):
        return x
    padded = tuple(n + b + a for n, (b, a) in zip(x.shape[1:-1], pads))
    # One buffer and one slice assignment: np.pad adds ~15 us per call, which tiny
    # layers feel.
    shape = (x.shape[0], *padded, x.shape[-1])
    xp = np.full(shape, value, dtype=x.dtype) if value else np.zeros(shape, dtype=x.dtype)
    xp[_interior(pads, padded)] = x
    return xp


def _crop(xp, pads):
    """The unpadded part of a padded (n, *padded, c) array, as a view."""
    return xp[_interior(pads, xp.shape[1:-1])]


def _windows(xp: np.ndarray, out_shape, kernel_shape, strides, dilation) -> np.ndarray:
    """A read-only view of ``xp`` (n, *padded, c) as (n, *out, *kernel, c); nothing copied."""
    rank = len(kernel_shape)
    n, c = xp.shape[0], xp.shape[-1]
    st = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp,
        shape=(n, *out_shape, *kernel_shape, c),
        strides=(
            st[0],
            *(st[1 + i] * strides[i] for i in range(rank)),
            *(st[1 + i] * dilation[i] for i in range(rank)),
            st[-1],
        ),
        writeable=False,
    )


@functools.lru_cache(maxsize=512)
def _tap_indices(out_shape, kernel_shape, strides, dilation) -> tuple:
    """For each kernel tap (row-major), the index of the padded-input positions it reads
    for all outputs. Cached: tiny layers would spend more time building slices than adding."""
    return tuple(
        (
            slice(None),
            *(
                slice(o * d, o * d + s * (n - 1) + 1, s)
                for o, n, s, d in zip(offset, out_shape, strides, dilation, strict=True)
            ),
            slice(None),
        )
        for offset in itertools.product(*(range(k) for k in kernel_shape))
    )


def _scatter_windows(dwin, padded_shape, pads, out_shape, kernel_shape, strides, dilation):
    """Adjoint of ``_windows`` followed by padding: sum window gradients back onto the input.

    ``dwin`` is (n, *out, *kernel, c). One strided add per kernel tap (a loop over the
    few kernel offsets, never over samples or positions) replaces ``np.add.at``, which
    is an order of magnitude slower.
    """
    rank = len(kernel_shape)
    dxp = np.zeros(padded_shape, dtype=dwin.dtype)
    taps = dwin.reshape(*dwin.shape[: 1 + rank], math.prod(kernel_shape), dwin.shape[-1])
    for t, index in enumerate(_tap_indices(out_shape, kernel_shape, strides, dilation)):
        inputs = dxp[index]
        inputs += taps[..., t, :]
    return _crop(dxp, pads)


# --------------------------------------------------------------------------- convolution


def _conv_geometry(x_shape, kernel_shape, strides, pads, dilation):
    padded = tuple(n + b + a for n, (b, a) in zip(x_shape[1:-1], pads, strict=True))
    out = tuple(
        (p - d * (k - 1) - 1) // s + 1
        for p, k, s, d in zip(padded, kernel_shape, strides, dilation, strict=True)
    )
    return padded, out


def _columns(x, kernel_spatial, strides, pads, dilation, groups):
    """im2col: the input patches as a (groups, positions, taps * in_ch/groups) matrix."""
    padded, out = _conv_geometry(x.shape, kernel_spatial, strides, pads, dilation)
    n, cin = x.shape[0], x.shape[-1]
    positions, taps = n * math.prod(out), math.prod(kernel_spatial)
    if cin == 1 and positions > 1024:
        # One channel: a copy per tap runs along image rows, ~3x faster than copying the
        # window view, whose innermost runs are a few numbers long.
        cols = np.empty((n, *out, taps), dtype=x.dtype)
        xp = _pad(x, pads)
        for t, index in enumerate(_tap_indices(out, kernel_spatial, strides, dilation)):
            cols[..., t] = xp[index][..., 0]
        return cols.reshape(1, positions, taps), out
    win = _windows(_pad(x, pads), out, kernel_spatial, strides, dilation)
    if groups == 1:
        return win.reshape(1, positions, taps * cin), out
    cols = win.reshape(positions, taps, groups, cin // groups).transpose(2, 0, 1, 3)
    return cols.reshape(groups, positions, taps * (cin // groups)), out


def _grouped_kernel(kernel, groups):
    """(*k, in_ch/groups, filters) -> (groups, taps * in_ch/groups, filters/groups)."""
    *_, cg, f = kernel.shape
    taps = math.prod(kernel.shape[:-2])
    return (
        kernel.reshape(taps, cg, groups, f // groups)
        .transpose(2, 0, 1, 3)
        .reshape(groups, taps * cg, f // groups)
    )


def _ungroup(y, groups):
    """(groups, positions, filters/groups) -> (positions, filters), group-major filters."""
    if groups == 1:
        return y[0]
    # An explicit size, not -1: numpy cannot infer -1 for an empty batch.
    return y.transpose(1, 0, 2).reshape(y.shape[1], y.shape[0] * y.shape[2])


# Each shifted matmul handles about this many bytes of rows: small enough that a chunk's
# inputs and partial sums stay in the CPU cache across all kernel taps.
_CHUNK_BYTES = 1 << 20


def _use_shifted(kernel_shape, strides, padded, out) -> bool:
    """Whether the shifted kernels (stride 1 only) beat im2col: they skip the column copy,
    which pays off once a window holds more than a few dozen numbers, unless the junk
    positions they compute (the padded size over the output size) add over ~30% work."""
    return (
        all(s == 1 for s in strides)
        and math.prod(kernel_shape[:-1]) > 64
        and math.prod(padded) < 1.3 * math.prod(out)
    )


def _row_offset(padded, position) -> int:
    """How many rows ``position`` lies after position 0 in a flattened (n, *padded, c)."""
    return sum(p * math.prod(padded[i + 1 :]) for i, p in enumerate(position))


def _tap_offsets(padded, kernel_spatial, dilation) -> list[int]:
    """Row offset of each kernel tap (row-major order) in a flattened (n, *padded, c):
    tap ``t`` of output row ``q`` reads input row ``q + offsets[t]``."""
    return [
        _row_offset(padded, [o * d for o, d in zip(offset, dilation)])
        for offset in itertools.product(*(range(k) for k in kernel_spatial))
    ]


def _row_chunks(count: int, row_bytes: int) -> list[tuple[int, int]]:
    size = max(256, _CHUNK_BYTES // row_bytes)
    return [(start, min(count, start + size)) for start in range(0, count, size)]


def _tap_kernel(kernel, groups):
    """(*k, in_ch/groups, filters) -> (taps, groups, in_ch/groups, filters/groups)."""
    *_, cg, f = kernel.shape
    return kernel.reshape(-1, cg, groups, f // groups).transpose(0, 2, 1, 3)


def _correlate_shifted(xp, taps, offsets, out_spatial, dtype):
    """Stride-1 valid cross-correlation of a padded channels-last array, without im2col.

    ``xp`` is (n, *padded, groups * cin), ``taps`` (taps, groups, cin, cout) and
    ``offsets`` the taps' row offsets (``_tap_offsets``). Returns (n, *out_spatial,
    groups * cout): a view into a buffer laid out like ``xp``, whose extra positions hold
    the junk that rows wrapping around an image line compute.
    """
    _, groups, cin, cout = taps.shape
    rows = np.ascontiguousarray(xp).reshape(-1, groups, cin)
    out = np.empty((len(rows), groups, cout), dtype=dtype)
    chunks = _row_chunks(len(rows) - offsets[-1], groups * max(cin, cout) * out.itemsize)
    partial = np.empty_like(out[: chunks[0][1] if chunks else 0])
    for start, stop in chunks:
        # (groups, rows, channels) views: one matmul per tap covers every group.
        total = out[start:stop].transpose(1, 0, 2)
        term = partial[: stop - start].transpose(1, 0, 2)
        for t, offset in enumerate(offsets):
            # Every tap reads a contiguous run of rows: a plain matmul, no copy.
            src = rows[start + offset : stop + offset].transpose(1, 0, 2)
            np.matmul(src, taps[t], out=term if t else total)
            if t:
                total += term
    out = out.reshape(*xp.shape[:-1], groups * cout)
    return out[(slice(None), *(slice(n) for n in out_spatial))]


def _kernel_grad_shifted(xp, g_rows, offsets, groups, dtype):
    """The kernel gradient (taps, groups, cin, cout) of ``_correlate_shifted``, given the
    output gradient as rows laid out like ``xp`` (``g_rows``, zero at junk positions)."""
    cin, cout = xp.shape[-1] // groups, g_rows.shape[-1] // groups
    rows = np.ascontiguousarray(xp).reshape(-1, groups, cin)
    g_rows = g_rows.reshape(len(g_rows), groups, cout)
    # Contraction order per shape: OpenBLAS ran these long thin products faster (by 3% to,
    # in one run, 1.6x) with the wider channel count as the result's rows.
    transposed = cout > cin
    shape = (cout, cin) if transposed else (cin, cout)
    dk = np.zeros((len(offsets), groups, *shape), dtype=dtype)
    for start, stop in _row_chunks(len(g_rows), groups * max(cin, cout) * dk.itemsize):
        g_chunk = g_rows[start:stop]
        for t, offset in enumerate(offsets):
            x_chunk = rows[start + offset : stop + offset]
            if transposed:
                dk[t] += g_chunk.transpose(1, 2, 0) @ x_chunk.transpose(1, 0, 2)
            else:
                dk[t] += x_chunk.transpose(1, 2, 0) @ g_chunk.transpose(1, 0, 2)
    return dk.transpose(0, 1, 3, 2) if transposed else dk


@primitive
def _conv(x, kernel, strides, pads, dilation, groups):
    kernel_spatial = kernel.shape[:-2]
    padded, out = _conv_geometry(x.shape, kernel_spatial, strides, pads, dilation)
    if _use_shifted(kernel.shape, strides, padded, out):
        offsets = _tap_offsets(padded, kernel_spatial, dilation)
        taps = _tap_kernel(kernel, groups)
        return _correlate_shifted(_pad(x, pads), taps, offsets, out, np.result_type(x, kernel))
    cols, out = _columns(x, kernel_spatial, strides, pads, dilation, groups)
    y = _ungroup(cols @ _grouped_kernel(kernel, groups), groups)
    return y.reshape(x.shape[0], *out, kernel.shape[-1])


def _conv_vjp_shifted(argnums, x, kernel, pads, dilation, groups):
    """Input and kernel gradients of a stride-1 convolution, by the shifted kernels."""
    kernel_spatial = kernel.shape[:-2]
    padded, out = _conv_geometry(x.shape, kernel_spatial, (1,) * len(pads), pads, dilation)
    spans = [d * (k - 1) for d, k in zip(dilation, kernel_spatial)]
    dtype = np.result_type(x, kernel)
    taps = _tap_kernel(kernel, groups)

    def vjp(g):
        # The input gradient is the output gradient, zero-padded by the window span less
        # the forward padding, correlated with the flipped kernel (a transposed conv).
        gp = _pad(g, tuple((s - b, s - a) for s, (b, a) in zip(spans, pads)))
        grads = []
        if 0 in argnums:
            offsets = _tap_offsets(gp.shape[1:-1], kernel_spatial, dilation)
            flipped = taps[::-1].transpose(0, 1, 3, 2)
            dx = _correlate_shifted(gp, flipped, offsets, x.shape[1:-1], dtype)
            grads.append(dx.astype(x.dtype, copy=False))
        if 1 in argnums:
            offsets = _tap_offsets(padded, kernel_spatial, dilation)
            count = max(0, x.shape[0] * math.prod(padded) - offsets[-1])
            if gp.shape[1:-1] == padded:
                # ("same", "causal") gp is laid out like the padded input: skipping its
                # leading padding aligns it with the output rows, zeros at junk positions.
                skip = _row_offset(padded, [s - b for s, (b, _) in zip(spans, pads)])
                g_rows = gp.reshape(-1, g.shape[-1])[skip : skip + count]
            else:
                g_ext = np.zeros((x.shape[0], *padded, g.shape[-1]), dtype=g.dtype)
                g_ext[(slice(None), *(slice(n) for n in out))] = g
                g_rows = g_ext.reshape(-1, g.shape[-1])[:count]
            dk = _kernel_grad_shifted(_pad(x, pads), g_rows, offsets, groups, dtype)
            dk = dk.transpose(0, 2, 1, 3).reshape(kernel.shape)
            grads.append(dk.astype(kernel.dtype, copy=False))
        return tuple(grads)

    return vjp


def _shifted_input_grad(x_shape, strides) -> bool:
    """Whether an im2col convolution's input gradient is faster by the shifted kernels (a
    transposed convolution): col2im's strided adds crawl over pixels of 2 to ~30 channels."""
    return all(s == 1 for s in strides) and 1 < x_shape[-1] < 32


def _conv_vjp(argnums, ans, args, kwargs):
    x, kernel, strides, pads, dilation, groups = args
    padded, out = _conv_geometry(x.shape, kernel.shape[:-2], strides, pads, dilation)
    if _use_shifted(kernel.shape, strides, padded, out):
        return _conv_vjp_shifted(argnums, x, kernel, pads, dilation, groups)
    vjps = []
    for i in argnums:
        if i == 0 and _shifted_input_grad(x.shape, strides):
            shifted = _conv_vjp_shifted((0,), x, kernel, pads, dilation, groups)
            vjps.append(lambda g, shifted=shifted: shifted(g)[0])
        else:
            vjps.append((_conv_vjp_x, _conv_vjp_kernel)[i](ans, *args))
    return lambda g: tuple(vjp(g) for vjp in vjps)


def _conv_vjp_x(ans, x, kernel, strides, pads, dilation, groups):
    def vjp(g):
        kernel_spatial, f = kernel.shape[:-2], kernel.shape[-1]
        padded, out = _conv_geometry(x.shape, kernel_spatial, strides, pads, dilation)
        gg = g.reshape(-1, groups, f // groups).transpose(1, 0, 2)  # (groups, P, f/groups)
        dcols = gg @ _grouped_kernel(kernel, groups).transpose(0, 2, 1)
        taps, cg = math.prod(kernel_spatial), x.shape[-1] // groups
        dcols = dcols.reshape(groups, -1, taps, cg).transpose(1, 2, 0, 3)
        dwin = dcols.reshape(x.shape[0], *out, *kernel_spatial, x.shape[-1])
        dx = _scatter_windows(
            dwin, (x.shape[0], *padded, x.shape[-1]), pads, out, kernel_spatial, strides, dilation
        )
        return dx.astype(x.dtype, copy=False)

    return vjp


def _conv_vjp_kernel(ans, x, kernel, strides, pads, dilation, groups):
    def vjp(g):
        kernel_spatial, cg, f = kernel.shape[:-2], kernel.shape[-2], kernel.shape[-1]
        cols, _ = _columns(x, kernel_spatial, strides, pads, dilation, groups)
        gg = g.reshape(-1, groups, f // groups).transpose(1, 0, 2)
        dk = cols.transpose(0, 2, 1) @ gg  # (groups, taps * cg, f/groups)
        dk = dk.reshape(groups, -1, cg, f // groups).transpose(1, 2, 0, 3)
        return dk.reshape(kernel.shape).astype(kernel.dtype, copy=False)

    return vjp


defvjp_argnums(_conv, _conv_vjp)


def conv(
    x,
    kernel,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    dilation_rate: int | Sequence[int] = 1,
    groups: int = 1,
):
    """N-d cross-correlation, channels-last, exactly as Keras's ``ops.conv``.

    Parameters
    ----------
    x : (batch, *spatial, in_ch) array.
    kernel : (*kernel_size, in_ch // groups, filters) array; not flipped.
    strides, dilation_rate : an int or one int per spatial axis.
    padding : ``"valid"``, ``"same"`` or ``"causal"`` (zeros before only; rank 1 in Keras).
    groups : input channels and filters are split into this many independent groups.

    Returns
    -------
    (batch, *out_spatial, filters) array, in the common dtype of ``x`` and ``kernel``.
    Differentiable in ``x`` and ``kernel`` by autograd. Bad arguments (ranks, channels,
    sizes, a window larger than the padded input) are a ValueError naming them.
    """
    plan = _cached(
        _conv_plan, np.shape(x), np.shape(kernel), strides, padding, dilation_rate, groups
    )
    strides, pads, dilation, groups = plan
    if _depthwise(plan, np.shape(kernel)):
        *k, _, filters = kernel.shape
        taps = kernel.reshape((*k, groups, filters // groups))
        return _depthwise_conv(x, taps, strides, pads, dilation)
    return _conv(x, kernel, *plan)


def _depthwise(plan, kernel_shape) -> bool:
    """One input channel per group: ``conv`` runs it as a depthwise convolution."""
    return plan[3] > 1 and kernel_shape[-2] == 1


def conv_bias(
    x,
    kernel,
    bias,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    dilation_rate: int | Sequence[int] = 1,
    groups: int = 1,
    relu: bool = False,
):
    """``conv(x, kernel, ...) + bias``, then ``relu`` when asked: what a Conv layer with
    a bias computes, as one autograd node.

    Parameters
    ----------
    x, kernel, strides, padding, dilation_rate, groups : as for ``conv``.
    bias : (filters,) array.
    relu : apply Keras's plain ``relu`` (``fmax(y, 0)``: NaN goes to 0) after the bias.

    Returns
    -------
    The same numbers as ``conv`` then ``+ bias`` then ``relu`` (each in place on the
    conv's fresh output), differentiable in ``x``, ``kernel`` and ``bias``. Fusing saves
    a pass over the output per step, and autograd's generic add and relu nodes (for a
    small layer, most of its time).
    """
    plan = _cached(
        _conv_plan, np.shape(x), np.shape(kernel), strides, padding, dilation_rate, groups
    )
    f = np.shape(kernel)[-1]
    if np.shape(bias) != (f,):
        raise ValueError(
            f"ops.conv_bias: `bias` must have shape ({f},) for a kernel of shape "
            f"{format_shape(np.shape(kernel))}; received {format_shape(np.shape(bias))}."
        )
    if _depthwise(plan, np.shape(kernel)) or np.result_type(
        getval(x), getval(kernel), getval(bias)
    ) != np.result_type(getval(x), getval(kernel)):
        # Depthwise, or a bias of a wider dtype than the conv's output: the plain ops.
        y = conv(x, kernel, strides, padding, dilation_rate, groups) + bias
        return _relu(y, 0.0, None, 0.0) if relu else y  # ops.relu's primitive
    return _conv_bias(x, kernel, bias, bool(relu), *plan)


@primitive
def _conv_bias(x, kernel, bias, relu, strides, pads, dilation, groups):
    y = _conv.fun(x, kernel, strides, pads, dilation, groups)
    y += bias
    if relu:
        np.fmax(y, np.zeros((), y.dtype), out=y)
    return y


def _conv_bias_vjp(argnums, ans, args, kwargs):
    x, kernel, bias, relu, *plan = args
    conv_args = [i for i in argnums if i < 2]
    conv_vjp = _conv_vjp(conv_args, None, (x, kernel, *plan), {}) if conv_args else None

    def vjp(g):
        if relu:
            g = g * (ans > 0)  # ans > 0 exactly where the pre-activation is: relu's VJP
        grads = list(conv_vjp(g)) if conv_vjp else []
        if 2 in argnums:
            # The order autograd's unbroadcast sums a broadcast bias's gradient in, so the
            # numbers equal the unfused layer's.
            db = g
            while db.ndim > 1:
                db = db.sum(axis=0)
            grads.append(db.astype(bias.dtype, copy=False))
        return tuple(grads)

    return vjp


defvjp_argnums(_conv_bias, _conv_bias_vjp)


def _cached(plan, *args):
    """``plan(*args)``, memoised: argument checks and padding run once per distinct call
    (a tiny layer would otherwise spend more time checking than convolving). The key holds
    each argument's type and its elements' types, so ``True`` never passes for ``1``."""
    args = tuple(tuple(a) if isinstance(a, (list, np.ndarray)) else a for a in args)
    types = tuple((type(a), tuple(map(type, a)) if isinstance(a, tuple) else None) for a in args)
    try:
        return _PLANS[plan](args, types)
    except TypeError as err:
        if "unhashable" not in str(err):
            raise
        return plan(*args)  # an unhashable argument: checked (and refused) uncached


def _memo(plan):
    @functools.lru_cache(maxsize=1024)
    def cached(args, types):
        return plan(*args)

    return cached


def _conv_plan(x_shape, k_shape, strides, padding, dilation_rate, groups):
    """``(strides, pads, dilation, groups)`` for ``_conv``, every argument checked."""
    owner = "ops.conv"
    rank = len(k_shape) - 2
    if rank < 1 or len(x_shape) != rank + 2:
        raise ValueError(
            f"{owner}: `x` must be (batch, *spatial, channels) with one spatial axis per kernel "
            f"axis; received x of shape {format_shape(x_shape)} and kernel of shape "
            f"{format_shape(k_shape)}."
        )
    strides = standardize_tuple(strides, rank, "strides")
    dilation = standardize_tuple(dilation_rate, rank, "dilation_rate")
    padding = check_choice(padding, owner, "padding", PADDINGS, lower=True)
    groups = check_int(groups, owner, "groups", minimum=1)
    if x_shape[-1] != k_shape[-2] * groups or k_shape[-1] % groups:
        raise ValueError(
            f"{owner}: a kernel of shape {format_shape(k_shape)} with groups={groups} needs "
            f"{k_shape[-2] * groups} input channels and filters divisible by {groups}; "
            f"received x of shape {format_shape(x_shape)}."
        )
    _check_output_size(owner, x_shape, Window(k_shape[:-2], strides, dilation, padding))
    pads = _resolve_pads(x_shape[1:-1], k_shape[:-2], strides, dilation, padding)
    return strides, pads, dilation, groups


def _check_output_size(owner: str, x_shape, window: Window) -> None:
    out = [
        output_length(n, k, s, d, window.padding)
        for n, k, s, d in zip(x_shape[1:-1], window.size, window.strides, window.dilation)
    ]
    if any(n <= 0 for n in out):
        raise ValueError(
            f"{owner}: computed output size would be zero or negative. Received `inputs "
            f"shape={format_shape(x_shape)}`, window {window.size}, `strides={window.strides}`, "
            f"`dilation_rate={window.dilation}`, `padding={window.padding!r}`."
        )


def _check_batch(x_shape, owner: str) -> int:
    """The spatial rank of a (batch, *spatial, channels) shape."""
    if len(x_shape) < 3:
        raise ValueError(
            f"{owner}: `x` must be (batch, *spatial, channels), at least 3 dimensions; "
            f"received shape {format_shape(x_shape)}."
        )
    return len(x_shape) - 2


# --------------------------------------------------------------------------- normalization


def batch_norm(x, gamma, beta, axis: int = -1, epsilon: float = 1e-3):
    """Training-mode batch normalization over every axis but ``axis``:
    ``(x - mean) * (gamma / sqrt(var + epsilon)) + beta`` with the batch's mean and biased
    variance ``E[x^2] - E[x]^2`` (Keras's ``ops.moments``). ``gamma``/``beta`` are
    ``(channels,)`` arrays or None.

    Returns ``(y, mean, variance)``; ``y`` is differentiable in ``x``, ``gamma`` and
    ``beta`` (one fused VJP), the statistics are plain arrays for the moving averages.
    """
    owner = "ops.batch_norm"
    ndim = np.ndim(x)
    axis = check_int(axis, owner, "axis")
    if not -ndim <= axis < ndim or ndim < 2:
        raise ValueError(f"{owner}: `axis={axis}` is out of range for x of shape {np.shape(x)}.")
    axis %= ndim
    channels = np.shape(x)[axis]
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v is not None and np.shape(v) != (channels,):
            raise ValueError(f"{owner}: `{name}` must have shape ({channels},); got {np.shape(v)}.")
    epsilon = check_real(epsilon, owner, "epsilon", 0.0, low_open=True)
    raw = getval(x)
    n = raw.dtype.type(raw.size // channels)
    mean = _channel_sum(raw, axis) / n
    variance = _channel_dot(raw, raw, axis) / n - np.square(mean)
    # The centred input is made once here and handed to the primitive, so the forward pass
    # and the VJP share it instead of each subtracting the mean again (a full pass).
    centered = raw - mean.reshape(_bn_shape(ndim, axis, channels))
    gamma, beta = _or(gamma, 1, mean), _or(beta, 0, mean)
    y = _batch_norm(x, gamma, beta, centered, variance, axis, epsilon)
    return y, mean, variance


def _or(value, fill, like):
    return np.full_like(like, fill) if value is None else value


def _bn_shape(ndim, axis, channels):
    shape = [1] * ndim
    shape[axis] = channels
    return tuple(shape)


def _channel_sum(a, axis):
    """``a`` summed over every axis but ``axis``, shape ``(channels,)``."""
    if axis == a.ndim - 1:
        # For channels-last data a vector-matrix product: BLAS reads the array once, about
        # three times faster than numpy's reduction over the leading axes, and closer to the
        # exact sum (fewer additions into each accumulator).
        rows = a.reshape(-1, a.shape[-1])
        return np.ones(rows.shape[0], a.dtype) @ rows
    return a.sum(axis=tuple(i for i in range(a.ndim) if i != axis))


def _channel_dot(a, b, axis):
    """``sum(a * b)`` over every axis but ``axis``, without making ``a * b``."""
    if axis == a.ndim - 1:
        c = a.shape[-1]
        return np.einsum("ij,ij->j", a.reshape(-1, c), b.reshape(-1, c))
    return (a * b).sum(axis=tuple(i for i in range(a.ndim) if i != axis))


@primitive
def _batch_norm(x, gamma, beta, centered, variance, axis, epsilon):
    # ``x`` is the argument gradients flow to; its values enter through ``centered``.
    shape = _bn_shape(x.ndim, axis, x.shape[axis])
    # rsqrt(var + eps) * gamma, in Keras's order of operations.
    factor = ((1 / np.sqrt(variance + x.dtype.type(epsilon))) * gamma).reshape(shape)
    y = centered * factor
    y += beta.reshape(shape)
    return y


def _batch_norm_vjp(argnums, ans, args, kwargs):
    # The textbook gradient, the batch statistics being functions of x:
    # dx = gamma / std * (g - mean(g) - xhat * mean(g * xhat)), dgamma = sum(g * xhat),
    # dbeta = sum(g), with xhat = (x - mean) / std = centered / std.
    x, gamma, beta, centered, variance, axis, epsilon = args
    shape = _bn_shape(x.ndim, axis, x.shape[axis])
    inv_std = 1 / np.sqrt(variance + x.dtype.type(epsilon))
    n = x.dtype.type(x.size // x.shape[axis])

    def vjp(g):
        dbeta = _channel_sum(g, axis)
        # sum(g * xhat) as inv_std * sum(g * centered): one product-sum, no xhat array.
        dgamma = _channel_dot(g, centered, axis) * inv_std
        grads = []
        for i in argnums:
            if i == 0:
                dx = g - (dbeta / n).reshape(shape)
                # xhat * mean(g * xhat) = centered * (inv_std * dgamma / n), made in one
                # temporary because centered is shared with the forward pass.
                dx -= centered * (inv_std * dgamma / n).reshape(shape)
                dx *= (gamma * inv_std).reshape(shape)
                grads.append(dx)
            else:
                grads.append(dgamma if i == 1 else dbeta)
        return tuple(grads)

    return vjp


defvjp_argnums(_batch_norm, _batch_norm_vjp)


# --------------------------------------------------------------------------- depthwise


@primitive
def _depthwise_conv(x, kernel, strides, pads, dilation):
    """Each channel ``c`` of ``x`` correlated with its own ``kernel[..., c, m]``: output
    channel ``c * multiplier + m``. One broadcast multiply-add per kernel tap: the
    grouped matmuls im2col would run are a few numbers wide and much slower."""
    *k, channels, mult = kernel.shape
    _, out = _conv_geometry(x.shape, k, strides, pads, dilation)
    xp = _pad(x, pads)
    taps = kernel.reshape(-1, channels, mult)
    y = np.zeros((x.shape[0], *out, channels, mult), dtype=np.result_type(x, kernel))
    for t, index in enumerate(_tap_indices(out, tuple(k), strides, dilation)):
        y += xp[index][..., None] * taps[t]
    return y.reshape(*y.shape[:-2], channels * mult)


def _depthwise_conv_vjp(argnums, ans, args, kwargs):
    x, kernel, strides, pads, dilation = args
    *k, channels, mult = kernel.shape
    padded, out = _conv_geometry(x.shape, k, strides, pads, dilation)
    indices = _tap_indices(out, tuple(k), strides, dilation)
    taps = kernel.reshape(-1, channels, mult)

    def vjp(g):
        g = g.reshape(*g.shape[:-1], channels, mult)
        grads = []
        if 0 in argnums:
            dxp = np.zeros((x.shape[0], *padded, channels), dtype=g.dtype)
            for t, index in enumerate(indices):
                dxp[index] += (g * taps[t]).sum(axis=-1)
            grads.append(_crop(dxp, pads).astype(x.dtype, copy=False))
        if 1 in argnums:
            xp = _pad(x, pads)
            axes = "abdefgh"[: 1 + len(k)]  # batch and spatial: summed over
            sums = f"{axes}c,{axes}cm->cm"
            dk = np.stack([np.einsum(sums, xp[index], g) for index in indices])
            grads.append(dk.reshape(kernel.shape).astype(kernel.dtype, copy=False))
        return tuple(grads)

    return vjp


defvjp_argnums(_depthwise_conv, _depthwise_conv_vjp)


# --------------------------------------------------------------------------- transposed conv


def _transpose_geometry(pads, out_spatial):
    """The strided conv a transposed conv is the adjoint of: its ``(before, after)``
    paddings (clamped at 0) and the part of the output that conv reads. A negative
    ``after`` (``valid`` with strides larger than the kernel) means that conv never reads
    the last output rows: they receive nothing but the bias."""
    clamped = tuple((b, max(a, 0)) for b, a in pads)
    core = tuple(n + min(a, 0) for n, (_, a) in zip(out_spatial, pads))
    return clamped, core


def _phase_geometry(length, kernel, stride, before, out, residue):
    """One axis of a stride phase: outputs ``residue, residue + stride, ...`` read taps
    ``phase + m*stride`` of the kernel at inputs ``q + offset - m``. Returns ``(tap
    indices in correlation order, input window (start, stop) in a zero-extended input,
    outputs)``; no taps when the kernel is smaller than the stride."""
    phase = (residue + before) % stride
    offset = (residue + before) // stride
    taps = list(range(phase, kernel, stride))[::-1]
    count = -(-(out - residue) // stride)
    start = offset - (len(taps) - 1)
    return taps, (start, start + count + len(taps) - 1), count


def _conv_transpose_phases(x, kernel, strides, pads, out_spatial):
    """A strided transposed conv as one stride-1 correlation per output phase (residue of
    the output position modulo the stride), each with the sub-kernel of the taps that reach
    it, written straight into its strided slice of the output: no inserted zeros and no
    scatter-adds."""
    rank = len(strides)
    filters = kernel.shape[-2]
    y = np.zeros((x.shape[0], *out_spatial, filters), dtype=np.result_type(x, kernel))
    forward = np.swapaxes(kernel, -1, -2)  # (*k, in, filters): correlate x with it
    for residues in itertools.product(*(range(s) for s in strides)):
        axes = [
            _phase_geometry(n, k, s, b, o, r)
            for n, k, s, (b, _), o, r in zip(
                x.shape[1:-1], kernel.shape[:-2], strides, pads, out_spatial, residues
            )
        ]
        if any(not taps or count <= 0 for taps, _, count in axes):
            continue  # no tap reaches these outputs: they keep 0 (plus the bias)
        sub = forward[np.ix_(*(taps for taps, _, _ in axes))]
        window = x
        extend = tuple(
            (max(0, -start), max(0, stop - n))
            for (_, (start, stop), _), n in zip(axes, x.shape[1:-1])
        )
        window = _pad(window, extend)
        index = tuple(
            slice(start + b, stop + b) for (_, (start, stop), _), (b, _) in zip(axes, extend)
        )
        part = _conv(
            window[(slice(None), *index)], sub, (1,) * rank, ((0, 0),) * rank, (1,) * rank, 1
        )
        y[(slice(None), *(slice(r, None, s) for r, s in zip(residues, strides)))] = part
    return y


@primitive
def _conv_transpose(x, kernel, strides, pads, dilation, out_spatial):
    if max(strides) > 1 and max(dilation) == 1:
        return _conv_transpose_phases(x, kernel, strides, pads, out_spatial)
    # Otherwise, as the input gradient of the strided conv with this kernel: col2im.
    clamped, core = _transpose_geometry(pads, out_spatial)
    dtype = np.result_type(x, kernel)
    z = np.empty((x.shape[0], *core, kernel.shape[-2]), dtype=dtype)  # shape holder only
    y_core = _conv_vjp_x(None, z, kernel, strides, clamped, dilation, 1)(x)
    if core == tuple(out_spatial):
        return y_core
    y = np.zeros((x.shape[0], *out_spatial, kernel.shape[-2]), dtype=dtype)
    y[(slice(None), *(slice(n) for n in core))] = y_core
    return y


def _conv_transpose_vjp(argnums, ans, args, kwargs):
    x, kernel, strides, pads, dilation, out_spatial = args
    clamped, core = _transpose_geometry(pads, out_spatial)
    index = (slice(None), *(slice(n) for n in core), slice(None))

    def vjp(g):
        g = g[index]
        grads = []
        if 0 in argnums:  # the adjoint of the adjoint: the strided conv itself
            grads.append(_conv(g, kernel, strides, clamped, dilation, 1).astype(x.dtype))
        if 1 in argnums:  # the conv's kernel gradient, with input g and output gradient x
            dk = _conv_vjp_kernel(None, g, kernel, strides, clamped, dilation, 1)(x)
            grads.append(dk.astype(kernel.dtype, copy=False))
        return tuple(grads)

    return vjp


defvjp_argnums(_conv_transpose, _conv_transpose_vjp)


def conv_transpose_pads(length, kernel, stride, dilation, padding, output_padding):
    """``(before, after)`` padding of the stride-dilated input, Keras's rule
    (``backend_utils._convert_conv_transpose_padding_args_from_keras_to_jax``)."""
    owner = "ops.conv_transpose_pads"
    padding = _check_axis(owner, length, kernel, stride, dilation, padding, PADDINGS[:2])
    check_int(output_padding, owner, "output_padding", minimum=0, allow_none=True)
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    if output_padding is None:
        total = stride + span - 2
    else:
        total = span + span % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, span - 1)
    return before, total - before


def conv_transpose_sources(
    outputs, length, kernel, stride, dilation, padding, output_padding
) -> set[int]:
    """The input positions along one axis (of ``length``) that transposed-conv outputs
    ``outputs`` read: ``i`` with ``o = i*stride - before + t*dilation`` for a tap ``t``,
    ``before`` being the padding of the strided conv it is the adjoint of."""
    before = (kernel - 1) * dilation - conv_transpose_pads(
        length, kernel, stride, dilation, padding, output_padding
    )[0]
    return {
        (o + before - t * dilation) // stride
        for o in outputs
        for t in range(kernel)
        if (o + before - t * dilation) % stride == 0
        and 0 <= (o + before - t * dilation) // stride < length
    }


def conv_transpose_length(length, kernel, stride, dilation, padding, output_padding):
    """Output length of one axis of a transposed convolution (Keras's rule)."""
    if length is None:
        return None
    before, after = conv_transpose_pads(length, kernel, stride, dilation, padding, output_padding)
    return (length - 1) * stride + 1 + before + after - (kernel - 1) * dilation


def conv_transpose(
    x, kernel, strides=1, padding: str = "valid", output_padding=None, dilation_rate=1
):
    """N-d transposed convolution, channels-last, as Keras's ``ops.conv_transpose``.

    Parameters
    ----------
    x : (batch, *spatial, in_ch) array.
    kernel : (*kernel_size, filters, in_ch) array (Keras's layout for transposed convs).
    strides, dilation_rate : an int or one int per spatial axis.
    padding : ``"valid"`` or ``"same"``.
    output_padding : None, or an int or one int per axis, each smaller than its stride.

    Returns
    -------
    (batch, *out_spatial, filters): ``x`` spread ``strides`` apart, padded as Keras pads,
    and correlated with the spatially flipped kernel. Differentiable in both arguments.
    """
    plan = _cached(
        _conv_transpose_plan,
        np.shape(x),
        np.shape(kernel),
        strides,
        padding,
        output_padding,
        dilation_rate,
    )
    return _conv_transpose(x, kernel, *plan)


def _conv_transpose_plan(x_shape, k_shape, strides, padding, output_padding, dilation_rate):
    owner = "ops.conv_transpose"
    rank = len(k_shape) - 2
    if rank < 1 or len(x_shape) != rank + 2 or x_shape[-1] != k_shape[-1]:
        raise ValueError(
            f"{owner}: `x` must be (batch, *spatial, channels) with one spatial axis per kernel "
            "axis and as many channels as the kernel's last axis; received x of shape "
            f"{format_shape(x_shape)} and kernel of shape {format_shape(k_shape)}."
        )
    strides = standardize_tuple(strides, rank, "strides")
    dilation = standardize_tuple(dilation_rate, rank, "dilation_rate")
    padding = check_choice(padding, owner, "padding", PADDINGS[:2], lower=True)
    if output_padding is not None:
        output_padding = standardize_tuple(output_padding, rank, "output_padding", True)
        if any(p >= s for p, s in zip(output_padding, strides)):
            raise ValueError(
                f"{owner}: `output_padding` must be strictly less than `strides` for all "
                f"dimensions. Received: output_padding={output_padding}, strides={strides}"
            )
    pads = tuple(
        conv_transpose_pads(n, k, s, d, padding, None if output_padding is None else op)
        for n, k, s, d, op in zip(
            x_shape[1:-1], k_shape[:-2], strides, dilation, output_padding or (None,) * rank
        )
    )
    if any(n == 0 for n in x_shape[1:-1]):
        raise ValueError(f"{owner}: cannot take an empty spatial axis: {format_shape(x_shape)}.")
    out = tuple(
        (n - 1) * s + 1 + b + a - (k - 1) * d
        for n, s, (b, a), k, d in zip(x_shape[1:-1], strides, pads, k_shape[:-2], dilation)
    )
    if any(n <= 0 for n in out):
        raise ValueError(
            f"{owner}: computed output size would be zero or negative. Received `inputs "
            f"shape={format_shape(x_shape)}`, kernel {k_shape[:-2]}, `strides={strides}`, "
            f"`padding={padding!r}`, `output_padding={output_padding}`."
        )
    # The padding of the strided conv this is the adjoint of.
    spans = [(k - 1) * d for k, d in zip(k_shape[:-2], dilation)]
    forward = tuple((span - b, span - a) for span, (b, a) in zip(spans, pads))
    return strides, forward, dilation, out


# --------------------------------------------------------------------------- resizing


@functools.lru_cache(maxsize=256)
def bilinear_weights(length: int, factor: int) -> np.ndarray:
    """(length*factor, length) weights of half-pixel-centre linear interpolation: output
    ``o`` reads source coordinate ``(o + 0.5) / factor - 0.5``, clamped to the edges (the
    rule of ``tf.image.resize`` and ``jax.image.resize`` that Keras uses)."""
    check_int(length, "ops.bilinear_weights", "length", minimum=1)
    check_int(factor, "ops.bilinear_weights", "factor", minimum=1)
    source = np.clip((np.arange(length * factor) + 0.5) / factor - 0.5, 0, length - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, length - 1)
    frac = source - low
    m = np.zeros((length * factor, length))
    np.add.at(m, (np.arange(len(source)), low), 1 - frac)
    np.add.at(m, (np.arange(len(source)), high), frac)
    return m


def upsample_sources(outputs, length: int, factor: int, interpolation: str) -> set[int]:
    """The input positions (of ``length``) that upsampled outputs ``outputs`` read."""
    check_int(factor, "ops.upsample_sources", "factor", minimum=1)
    interpolation = check_choice(
        interpolation, "ops.upsample_sources", "interpolation", ("nearest", "bilinear")
    )
    if interpolation == "nearest":
        return {o // factor for o in outputs}
    m = bilinear_weights(length, factor)
    return {int(i) for o in outputs for i in np.flatnonzero(m[o])}


def upsample(x, size, interpolation: str = "nearest"):
    """Repeat (``"nearest"``) or linearly interpolate (``"bilinear"``) each spatial axis of
    a channels-last array ``size`` times, as Keras's UpSampling layers do.

    Parameters
    ----------
    x : (batch, *spatial, channels) array.
    size : an int or one positive int per spatial axis.
    interpolation : ``"nearest"`` or ``"bilinear"`` (half-pixel centres).

    Returns
    -------
    (batch, *(spatial * size), channels) array in ``x``'s dtype.
    """
    owner = "ops.upsample"
    rank = _check_batch(np.shape(x), owner)
    size = standardize_tuple(size, rank, "size")
    interpolation = check_choice(interpolation, owner, "interpolation", ("nearest", "bilinear"))
    for axis, factor in enumerate(size, start=1):
        if factor == 1:
            continue
        if interpolation == "nearest":
            x = anp.repeat(x, factor, axis=axis)
        else:
            m = bilinear_weights(np.shape(x)[axis], factor).astype(x.dtype)
            x = anp.moveaxis(anp.tensordot(m, x, axes=([1], [axis])), 0, axis)
    return x


# --------------------------------------------------------------------------- pooling


def _pool_count(spatial, pool, strides, pads, out):
    """How many real (unpadded) inputs each window covers: (1, *out, 1)."""
    ones = np.ones((1, *spatial, 1), dtype=np.float64)
    win = _windows(_pad(ones, pads), out, pool, strides, (1,) * len(pool))
    return win.sum(axis=tuple(range(1 + len(pool), 1 + 2 * len(pool))))


@primitive
def _max_pool(x, pool, strides, pads):
    _, out = _conv_geometry(x.shape, pool, strides, pads, (1,) * len(pool))
    xp = _pad(x, pads, -np.inf)
    first, *rest = _tap_indices(out, pool, strides, (1,) * len(pool))
    # One elementwise maximum per window offset over strided views: numpy reduces small
    # strided axes of a window view several times slower.
    y = xp[first].copy()
    for index in rest:
        np.maximum(y, xp[index], out=y)
    return y


def _max_pool_vjp(ans, x, pool, strides, pads):
    def vjp(g):
        _, out = _conv_geometry(x.shape, pool, strides, pads, (1,) * len(pool))
        xp = _pad(x, pads, -np.inf)
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        # Windows that do not overlap write their gradient straight into place.
        disjoint = all(s >= k for s, k in zip(strides, pool))
        nan = np.isnan(ans)
        nan = nan if nan.any() else None
        # Multiplying by the mask is ~10x faster than np.where, but would turn an
        # infinite g into NaN where it did not win.
        finite = np.isfinite(g).all()
        unclaimed = np.ones(ans.shape, dtype=bool)
        for index in _tap_indices(out, pool, strides, (1,) * len(pool)):
            # The gradient goes to the first maximum of each window, as TF and PyTorch do:
            # an offset takes it where it equals the maximum and no earlier offset did.
            hit = xp[index] == ans
            if nan is not None:  # a NaN maximum comes from the first NaN input
                hit |= nan & np.isnan(xp[index])
            hit &= unclaimed
            unclaimed ^= hit
            if not finite:
                dxp[index] += np.where(hit, g, np.zeros((), g.dtype))
            elif disjoint:
                np.multiply(g, hit, out=dxp[index])
            else:
                dxp[index] += g * hit
        return _crop(dxp, pads)

    return vjp


defvjp(_max_pool, _max_pool_vjp)


@primitive
def _avg_pool(x, pool, strides, pads):
    _, out = _conv_geometry(x.shape, pool, strides, pads, (1,) * len(pool))
    xp = _pad(x, pads)
    first, *rest = _tap_indices(out, pool, strides, (1,) * len(pool))
    total = xp[first].copy()
    for index in rest:
        total += xp[index]
    return total / _pool_count(x.shape[1:-1], pool, strides, pads, out).astype(x.dtype)


def _avg_pool_vjp(ans, x, pool, strides, pads):
    def vjp(g):
        ones = (1,) * len(pool)
        padded, out = _conv_geometry(x.shape, pool, strides, pads, ones)
        share = g / _pool_count(x.shape[1:-1], pool, strides, pads, out).astype(g.dtype)
        dwin = np.broadcast_to(
            share.reshape(*share.shape[:-1], *ones, share.shape[-1]),
            (*share.shape[:-1], *pool, share.shape[-1]),
        )
        return _scatter_windows(
            dwin, (x.shape[0], *padded, x.shape[-1]), pads, out, pool, strides, ones
        )

    return vjp


defvjp(_avg_pool, _avg_pool_vjp)


def pool(x, pool_size, strides=None, padding: str = "valid", mode: str = "max"):
    """Max or average pooling over the spatial axes of a channels-last array.

    Parameters
    ----------
    x : (batch, *spatial, channels) array.
    pool_size : an int or one int per spatial axis.
    strides : defaults to ``pool_size``, as in Keras.
    padding : ``"valid"`` or ``"same"``. With ``same``, padded positions never win a max
        and are left out of an average (TensorFlow's and Keras's rule).
    mode : ``"max"`` or ``"average"``.

    Returns
    -------
    (batch, *out_spatial, channels) array in ``x``'s dtype.
    """
    plan = _cached(_pool_plan, np.shape(x), pool_size, strides, padding, mode)
    return plan[0](x, *plan[1:])


def _pool_plan(x_shape, pool_size, strides, padding, mode):
    """``(primitive, pool_size, strides, pads)``, every argument checked."""
    owner = "ops.pool"
    rank = _check_batch(x_shape, owner)
    pool_size = standardize_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else standardize_tuple(strides, rank, "strides")
    padding = check_choice(padding, owner, "padding", PADDINGS[:2], lower=True)
    mode = check_choice(mode, owner, "mode", POOL_MODES)
    ones = (1,) * rank
    _check_output_size(owner, x_shape, Window(pool_size, strides, ones, padding))
    pads = _resolve_pads(x_shape[1:-1], pool_size, strides, ones, padding)
    return (_max_pool if mode == "max" else _avg_pool), pool_size, strides, pads


def reduce_max(x, axis: Sequence[int], keepdims: bool = False):
    """Max over ``axis`` (Keras's ``ops.max``, used by global max pooling).

    Tied maxima share the gradient evenly, as ``torch.amax`` and ``tf.reduce_max`` do.
    """
    owner, ndim = "ops.reduce_max", np.ndim(x)
    axis = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    if not all(check_int(a, owner, "axis") is not None and -ndim <= a < ndim for a in axis):
        raise ValueError(
            f"{owner}: `axis` must hold axes of an array with {ndim} dimensions. "
            f"Received: axis={axis!r}"
        )
    if 0 in [np.shape(x)[a] for a in axis]:
        raise ValueError(f"{owner}: cannot take the max over an empty axis of {np.shape(x)}.")
    if not is_bool(keepdims):
        raise TypeError(f"{owner}: `keepdims` must be a bool. Received: keepdims={keepdims!r}")
    return _reduce_max(x, tuple(int(a) % ndim for a in axis), bool(keepdims))


@primitive
def _reduce_max(x, axis: tuple[int, ...], keepdims: bool):
    # A primitive because autograd's own VJP for np.max turns float32 gradients into float64.
    return np.max(x, axis=axis, keepdims=keepdims)


def _reduce_max_vjp(ans, x, axis, keepdims=False):
    peak = ans if keepdims else np.expand_dims(ans, axis)

    def vjp(g):
        if not keepdims:
            g = np.expand_dims(g, axis)
        winners = x == peak
        share = g / winners.sum(axis=axis, keepdims=True).astype(g.dtype)
        return np.where(winners, share, np.zeros((), g.dtype))

    return vjp


defvjp(_reduce_max, _reduce_max_vjp)


# --------------------------------------------------------------------------- activations


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Keras's ``relu``: ``x`` above ``threshold`` (clipped at ``max_value``), else
    ``negative_slope * (x - threshold)``. The options must be finite reals (``max_value``
    may be None)."""
    if not _plain_relu(negative_slope, max_value, threshold):
        owner = "ops.relu"
        negative_slope = check_real(negative_slope, owner, "negative_slope")
        max_value = check_real(max_value, owner, "max_value", allow_none=True)
        threshold = check_real(threshold, owner, "threshold")
    return _relu(x, negative_slope, max_value, threshold)


@primitive
def _relu(x, negative_slope, max_value, threshold):
    # A primitive because autograd's VJP for np.maximum returns float64 gradients for
    # float32 inputs, which would double the cost of every backward pass.
    if _plain_relu(negative_slope, max_value, threshold):
        # fmax is ~15x faster than np.where on mixed signs and, like it, sends NaN to 0.
        return np.fmax(x, np.zeros((), x.dtype))
    return _relu_parts(x, negative_slope, max_value, threshold)[0]


def _plain_relu(negative_slope, max_value, threshold) -> bool:
    return negative_slope == 0 and max_value is None and threshold == 0


def _relu_parts(x, negative_slope, max_value, threshold):
    """The value and its derivative, composed in the order Keras composes them.

    At the kinks the derivative is that of the backend op Keras calls (torch, TensorFlow):
    with no threshold, ``max_value=6`` is ``relu6``, flat at 0 and at 6; with neither
    threshold nor max_value, a slope is ``leaky_relu``, whose slope holds at 0 too.
    """
    dtype = x.dtype
    if threshold != 0:
        passed = x > threshold
    else:
        passed = x > 0
    y = np.where(passed, x, np.zeros((), dtype))
    dy = passed.astype(dtype)
    if max_value is not None:
        # Keras clips to [0, max_value] after the thresholding step.
        relu6 = threshold == 0 and max_value == 6
        inside = (y >= 0) & ((y < max_value) if relu6 else (y <= max_value))
        y = np.clip(y, 0, max_value).astype(dtype, copy=False)
        dy = dy * inside
    if negative_slope != 0:
        leaky = threshold == 0 and max_value is None
        below = (x <= 0) if leaky else (threshold - x) > 0
        y = y + np.where(below, negative_slope * (x - threshold), 0).astype(dtype, copy=False)
        dy = dy + below.astype(dtype) * dtype.type(negative_slope)
    return y, dy


def _relu_vjp(ans, x, negative_slope=0.0, max_value=None, threshold=0.0):
    if _plain_relu(negative_slope, max_value, threshold):
        return lambda g: g * (x > 0)  # float32 times bool stays float32
    return lambda g: g * _relu_parts(x, negative_slope, max_value, threshold)[1]


defvjp(_relu, _relu_vjp)


@primitive
def erf(x):
    """The error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7, which is
    float32's resolution) so that exact GELU needs no scipy.

    float64 inputs get ``math.erf`` itself: there the approximation's error would show, and
    its slope differs from the exact derivative the VJP uses by up to 1e-3, which a float64
    gradient check rightly rejects.
    """
    if x.dtype == np.float64:
        return _exact_erf(x)
    t = 1 / (1 + 0.3275911 * np.abs(x))
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return (np.sign(x) * (1 - poly * np.exp(-x * x))).astype(x.dtype, copy=False)


_exact_erf = np.vectorize(math.erf, otypes=[np.float64])

defvjp(erf, lambda ans, x: lambda g: g * (2 / math.sqrt(math.pi)) * np.exp(-x * x).astype(x.dtype))


_PLANS = {plan: _memo(plan) for plan in (_conv_plan, _pool_plan, _conv_transpose_plan)}
