"""Naive reference implementations the tests compare minicnn with.

Written from Keras's documented rules (``keras/src/ops/operation_utils.py``), independently
of ``minicnn.ops``: plain loops over every output position and kernel tap, bounds checks
instead of padded copies, float64 throughout. Slow and easy to read on purpose.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def out_length_and_pad_before(length: int, k: int, s: int, d: int, padding: str):
    """Keras's output length of one axis and the zeros it pads before the input.

    - valid: ``floor((L - d*(k-1) - 1) / s) + 1``, no padding.
    - same: ``floor((L - 1) / s) + 1``; the total padding needed to reach that is split
      with the smaller half first, so an odd extra zero goes after the input.
    - causal: same length as ``same``; all ``d*(k-1)`` zeros go before the input.
    """
    span = d * (k - 1) + 1
    if padding == "valid":
        return math.floor((length - span) / s) + 1, 0
    out = math.floor((length - 1) / s) + 1
    if padding == "causal":
        return out, span - 1
    needed = (out - 1) * s + span
    total = needed - length if needed > length else 0
    return out, math.floor(total / 2)


def conv(x, kernel, strides, padding, dilation, groups=1):
    """Cross-correlation of ``x`` (n, *spatial, cin) with ``kernel`` (*k, cin/groups, f).

    Output (n, *out, f). A position outside the input reads zero.
    """
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    rank = x.ndim - 2
    ksize = kernel.shape[:rank]
    cin_per_group, filters = kernel.shape[-2], kernel.shape[-1]
    filters_per_group = filters // groups
    geometry = [
        out_length_and_pad_before(x.shape[1 + i], ksize[i], strides[i], dilation[i], padding)
        for i in range(rank)
    ]
    out_shape = tuple(g[0] for g in geometry)
    y = np.zeros((x.shape[0], *out_shape, filters))
    for b in range(x.shape[0]):
        for pos in itertools.product(*(range(n) for n in out_shape)):
            for f in range(filters):
                group = f // filters_per_group
                total = 0.0
                for tap in itertools.product(*(range(k) for k in ksize)):
                    where = [
                        pos[i] * strides[i] + tap[i] * dilation[i] - geometry[i][1]
                        for i in range(rank)
                    ]
                    if not all(0 <= where[i] < x.shape[1 + i] for i in range(rank)):
                        continue
                    for c in range(cin_per_group):
                        total += x[(b, *where, group * cin_per_group + c)] * kernel[(*tap, c, f)]
                y[(b, *pos, f)] = total
    return y


def pool(x, pool_size, strides, padding, mode):
    """Max or average pooling; positions outside the input are ignored entirely (they
    never win a max and do not count in an average), Keras's ``same`` rule."""
    x = np.asarray(x, np.float64)
    rank = x.ndim - 2
    geometry = [
        out_length_and_pad_before(x.shape[1 + i], pool_size[i], strides[i], 1, padding)
        for i in range(rank)
    ]
    out_shape = tuple(g[0] for g in geometry)
    y = np.zeros((x.shape[0], *out_shape, x.shape[-1]))
    for b in range(x.shape[0]):
        for pos in itertools.product(*(range(n) for n in out_shape)):
            for c in range(x.shape[-1]):
                values = []
                for tap in itertools.product(*(range(k) for k in pool_size)):
                    where = [pos[i] * strides[i] + tap[i] - geometry[i][1] for i in range(rank)]
                    if all(0 <= where[i] < x.shape[1 + i] for i in range(rank)):
                        values.append(x[(b, *where, c)])
                y[(b, *pos, c)] = max(values) if mode == "max" else sum(values) / len(values)
    return y


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's ``activations.relu`` element by element: ``x`` above ``threshold`` (then
    clipped to ``[0, max_value]``), else ``negative_slope * (x - threshold)``."""
    out = []
    for v in np.asarray(x, np.float64).ravel():
        kept = v if v > threshold else 0.0
        if max_value is not None:
            kept = min(max(kept, 0.0), max_value)
        below = threshold - v if threshold - v > 0 else 0.0
        out.append(kept - negative_slope * below)
    return np.array(out).reshape(np.shape(x))


def numerical_gradient(f, x, eps: float = 1e-4):
    """Gradient of the scalar function ``f`` at float64 array ``x`` by the five-point central
    difference ``(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h``.

    Its truncation error is O(h^4) and its rounding error about 1e-16 * |f| / h, so with
    h = 1e-4 both stay near 1e-12 relative: a check can be tight even when ``f`` sums many
    large terms, where the plain two-point form would need a looser tolerance.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        keep = x[i]
        values = []
        for step in (2, 1, -1, -2):
            x[i] = keep + step * eps
            values.append(f(x))
        x[i] = keep
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
    return grad


def conv_transpose(x, kernel, strides, padding, output_padding, dilation):
    """Transposed convolution of ``x`` (n, *spatial, cin) with ``kernel``
    (*k, filters, cin), Keras's layout: every input position ``i`` adds ``x[i] * kernel[t]``
    at ``i * stride + t * dilation`` of a full-length output, which is then cut to Keras's
    length. Keras's rule (``backend_utils``): with ``keff = (k - 1) * d + 1``, the padding
    of the stride-spread input is, for ``valid``, ``keff - 1`` before and ``keff - 1 + op``
    after (``op = max(keff, s) - keff`` when None); for ``same``, ``total = s + keff - 2``
    (or ``keff + keff % 2 - 2 + op``), ``min(ceil(total / 2), keff - 1)`` before; the
    output is cut from ``keff - 1 - before`` for ``(n - 1) * s + 1 + before + after -
    (keff - 1)`` positions, zeros past the full scatter."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    rank = x.ndim - 2
    ksize, filters = kernel.shape[:rank], kernel.shape[-2]
    starts, lengths = [], []
    for i in range(rank):
        keff = (ksize[i] - 1) * dilation[i] + 1
        s, op = strides[i], None if output_padding is None else output_padding[i]
        if padding == "valid":
            op = max(keff, s) - keff if op is None else op
            before, after = keff - 1, keff - 1 + op
        else:
            total = s + keff - 2 if op is None else keff + keff % 2 - 2 + op
            before = min(total // 2 + total % 2, keff - 1)
            after = total - before
        starts.append(keff - 1 - before)
        lengths.append((x.shape[1 + i] - 1) * s + 1 + before + after - (keff - 1))
    full = [starts[i] + lengths[i] + (ksize[i] - 1) * dilation[i] + 1 for i in range(rank)]
    full = [
        max(f, (x.shape[1 + i] - 1) * strides[i] + (ksize[i] - 1) * dilation[i] + 1)
        for i, f in enumerate(full)
    ]
    y = np.zeros((x.shape[0], *full, filters))
    for b in range(x.shape[0]):
        for pos in itertools.product(*(range(n) for n in x.shape[1:-1])):
            for tap in itertools.product(*(range(k) for k in ksize)):
                where = tuple(pos[i] * strides[i] + tap[i] * dilation[i] for i in range(rank))
                y[(b, *where)] += kernel[tap] @ x[(b, *pos)]
    return y[(slice(None), *(slice(st, st + n) for st, n in zip(starts, lengths)))]


# Keras's activations a layer cannot apply to its output alone: threshold takes two more
# arguments and glu halves an axis. Every other registered name is a one-argument function.
NOT_LAYER_ACTIVATIONS = ("glu", "threshold")


def activation_of_x(activations, name: str):
    """The registered activation ``name`` as a function of ``x`` alone (threshold with a
    threshold of 0.5 and a default value of -1.5, away from the test points)."""
    if name == "threshold":
        return lambda x: activations.threshold(x, 0.5, -1.5)
    return activations.get(name)
