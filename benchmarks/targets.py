"""Every speed and memory target of minicnn, measured side by side in one run.

Rows (each one forward+backward pass, or one training epoch, as ``fit`` runs it):

- W1-W5: the conv workloads of ``conv.py`` through the layer's own ``apply`` (a Conv1D or
  Conv2D with its bias, and ReLU for W2), gradients by ``autograd.grad`` for the input and
  both weights; W1 against autograd's floor (one ``grad`` call through a primitive that
  does nothing, on the same 8x8x1 input, in the same process), the rest against PyTorch.
- fit epoch: ``train_step.py``'s model, one ``model.fit`` epoch of 8 batches of 32, against
  PyTorch's plain zero_grad/forward/backward/step loop.
- BatchNormalization in training mode and Conv2DTranspose (``layers.py``'s cases).
- peak memory of one W5 step (``memory.py``'s method), against PyTorch's.

Each implementation runs in its own process, in the user's environment by default
(OpenBLAS choosing its own kernels; see ``--openblas-coretype``), rounds interleaved, and
the table gives medians, the ratio of medians and, in parentheses, the ratio of the best
rounds. Run ``python benchmarks/targets.py`` with PyTorch installed (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conv  # noqa: E402
import layers as layer_cases  # noqa: E402
import train_step  # noqa: E402
from common import (  # noqa: E402
    THREADS,
    Worker,
    add_process_options,
    apply_process_options,
    blas_lines,
    import_torch,
    interleaved_times,
)
from memory import measure  # noqa: E402

from minicnn import layers, ops  # noqa: E402

# key -> (what, target ratio, against what)
TARGETS = {
    "W1": ("W1 " + conv.WORKLOADS[0].describe(), 1.5, "floor"),
    "W2": ("W2 " + conv.WORKLOADS[1].describe(), 1.0, "torch"),
    "W3": ("W3 " + conv.WORKLOADS[2].describe(), 1.7, "torch"),
    "W4": ("W4 " + conv.WORKLOADS[3].describe(), 1.2, "torch"),
    "W5": ("W5 " + conv.WORKLOADS[4].describe(), 1.3, "torch"),
    "epoch": ("fit epoch, conv-relu-pool-conv-relu-flatten-dense, 8x32", 1.5, "torch"),
    "batchnorm": (layer_cases.CASES["batchnorm"][0], 2.0, "torch"),
    "conv2d_transpose": (layer_cases.CASES["conv2d_transpose"][0], 2.0, "torch"),
}


@primitive
def _nothing(x):
    return x


defvjp(_nothing, lambda ans, x: lambda g: g)


def floor_step():
    """autograd's least cost for one gradient call: ``grad`` through one primitive that
    returns its input, on W1's input."""
    x = conv.WORKLOADS[0].arrays()[0]
    grad = autograd.grad(lambda x: anp.sum(_nothing(x)))
    return lambda: grad(x)


def w1_graph_step():
    """W1's autograd graph with a conv that does nothing: one primitive of the input and
    both weights giving an output of the conv's shape, the product with ``R`` and the sum,
    gradients for all three. What autograd charges for the step's nodes, whatever the conv
    costs."""
    x, kernel, bias, r = conv.WORKLOADS[0].arrays()
    out, zeros = np.zeros_like(r), [np.zeros_like(a) for a in (x, kernel, bias)]

    @primitive
    def stand_in(x, kernel, bias):
        return out

    defvjp(stand_in, *(lambda ans, *args, z=z: lambda g: z for z in zeros))
    grad = autograd.grad(lambda x, k, b: anp.sum(stand_in(x, k, b) * r), argnum=(0, 1, 2))
    return lambda: grad(x, kernel, bias)


def layer_step(w: conv.Workload):
    """``w`` through a minicnn conv layer's ``apply``, as ``fit`` runs it."""
    x, kernel, bias, r = w.arrays()
    kind = layers.Conv1D if w.rank == 1 else layers.Conv2D
    layer = kind(w.filters, w.kernel, padding=w.padding, activation="relu" if w.relu else None)
    layer.build(x.shape)

    def loss(x, kernel, bias):
        return anp.sum(layer.apply([kernel, bias], x) * r)

    grad = autograd.grad(loss, argnum=(0, 1, 2))
    for g in grad(x, kernel, bias):
        assert g.dtype == np.float32, f"{w.name}: a gradient came back as {g.dtype}"
    return lambda: grad(x, kernel, bias)


def products(shapes, input_grad=True):
    """The matrix products a conv or dense step cannot avoid, for each ``(positions, depth,
    filters)`` in ``shapes`` (im2col's shapes): forward, kernel gradient and, when
    ``input_grad``, input gradient; the first layer of a model has no input gradient."""
    rng = np.random.default_rng(0)
    mats = []
    for i, (positions, depth, filters) in enumerate(shapes):
        cols = rng.standard_normal((positions, depth), dtype=np.float32)
        kernel = rng.standard_normal((depth, filters), dtype=np.float32)
        g = rng.standard_normal((positions, filters), dtype=np.float32)
        mats.append((cols, kernel, g, input_grad or i > 0))

    def run():
        for cols, kernel, g, back in mats:
            cols @ kernel, cols.T @ g
            if back:
                g @ kernel.T

    return run


def gemm_step(w: conv.Workload):
    """``w``'s three products in numpy with nothing else: what bounds minicnn's conv steps
    from below, as numpy's OpenBLAS runs them."""
    positions = w.batch * math.prod(
        ops.output_length(n, w.kernel, 1, 1, w.padding) for n in w.spatial
    )
    return products([(positions, w.kernel**w.rank * w.channels, w.filters)])


def im2col_moves(x_shape, kernel, strides, scatter):
    """What im2col itself costs for a 2-D conv of ``kernel`` on ``x_shape`` (valid
    padding): one copy of the input's windows into columns and, when ``scatter``, the
    input gradient's one strided add per tap back onto the input (col2im). PyTorch's
    direct kernels make neither; numpy has no way around them."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    k, s, pads = (kernel, kernel), (strides, strides), ((0, 0), (0, 0))
    padded, out = ops._conv_geometry(x_shape, k, s, pads, (1, 1))
    dwin = rng.standard_normal((x_shape[0], *out, *k, x_shape[-1]), dtype=np.float32)

    def run():
        ops._columns(x, k, s, pads, (1, 1), 1)
        if scatter:
            ops._scatter_windows(dwin, (x_shape[0], *padded, x_shape[-1]), pads, out, k, s, (1, 1))

    return run


def epoch_bound_step():
    """The fit epoch's products and im2col moves: ``train_step.py``'s two convs (the first
    without an input gradient) and its dense layer, for each of the epoch's batches."""
    b = train_step.BATCH
    steps = [
        products([(b * 26 * 26, 9, 32), (b * 11 * 11, 9 * 32, 64), (b, 11 * 11 * 64, 10)], False),
        im2col_moves((b, 28, 28, 1), 3, 1, scatter=False),
        im2col_moves((b, 13, 13, 32), 3, 1, scatter=True),
    ]

    def epoch():
        for _ in range(train_step.STEPS):
            for step in steps:
                step()

    return epoch


def transpose_bound_step():
    """The Conv2DTranspose case's products and im2col moves: it is the adjoint of a
    stride-2 3x3 conv from 28x28x16 to 14x14x32, whose im2col has one row per input pixel
    and 3*3*16 columns; its output is that conv's col2im and its input gradient reads the
    output gradient's windows."""
    _, _, shape = layer_cases.CASES["conv2d_transpose"]
    n = shape[0]
    run_products = products([(math.prod(shape[:3]), 9 * 16, shape[3])])
    run_moves = im2col_moves((n, 29, 29, 16), 3, 2, scatter=True)

    def run():
        run_products()
        run_moves()

    return run


def batchnorm_bound_step():
    """The BatchNormalization case's least numpy work: the loss's product ``y * r`` and its
    gradient, one pass writing ``y`` and one writing ``dx``, and the four per-channel
    reductions (mean, mean square, sum of g, sum of g * x) as BLAS products, with no
    autograd and no other temporaries."""
    _, x, _, r = layer_cases.arrays("batchnorm")
    rows = x.reshape(-1, x.shape[-1])
    ones = np.ones(rows.shape[0], np.float32)
    s = np.full(x.shape[-1], 0.5, np.float32)

    def run():
        ones @ rows, np.einsum("ij,ij->j", rows, rows)  # forward statistics
        y = x * s  # the output
        (y * r).sum()  # the loss
        g = r * np.float32(1)  # its gradient
        ones @ g.reshape(rows.shape), np.einsum("ij,ij->j", g.reshape(rows.shape), rows)
        g * s  # the input gradient

    return run


def build_steps(impl: str) -> dict:
    if impl == "minicnn":
        steps = {w.name: layer_step(w) for w in conv.WORKLOADS}
        steps.update({f"{w.name} bound": gemm_step(w) for w in conv.WORKLOADS[1:]})
        steps["floor"] = floor_step()
        steps["W1 bound"] = w1_graph_step()
        steps["epoch"] = train_step.minicnn_epoch()
        steps.update({k: layer_cases.minicnn_step(k) for k in ("batchnorm", "conv2d_transpose")})
        steps["epoch bound"] = epoch_bound_step()
        steps["conv2d_transpose bound"] = transpose_bound_step()
        steps["batchnorm bound"] = batchnorm_bound_step()
        return steps
    torch = import_torch()
    steps = {w.name: conv.torch_step(torch, w) for w in conv.WORKLOADS}
    steps["epoch"] = train_step.torch_epoch(False)
    steps.update({k: layer_cases.torch_step(torch, k) for k in ("batchnorm", "conv2d_transpose")})
    return steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (median)")
    parser.add_argument("--only", nargs="*", help="rows to run, e.g. W3 epoch")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory row")
    add_process_options(parser)
    args = parser.parse_args(argv)
    setup = apply_process_options(args)
    torch = import_torch()
    impls = ["minicnn"] + (["torch"] if torch is not None else [])
    workers = {impl: Worker(build_steps, impl, budget=0.1) for impl in impls}
    bounds = [f"{k} bound" for k in TARGETS]
    keys = [k for k in ["floor", *TARGETS] if not args.only or k in args.only or k == "floor"]
    keys += [b for b in bounds if b.split()[0] in keys]
    t = interleaved_times(workers, keys, rounds=args.rounds)
    for worker in workers.values():
        worker.close()
    print(f"median of {args.rounds} interleaved rounds; PyTorch: {THREADS} threads, NCHW")
    if torch is None:
        print("PyTorch not importable: only W1 has a ratio (see benchmarks/README.md)")
    else:
        print(f"PyTorch {torch.__version__}")
    print("\n".join(setup + blas_lines(workers)))
    print()
    rows = []
    for key in [k for k in TARGETS if k in keys]:
        what, target, against = TARGETS[key]
        mine = t["minicnn", key]
        ref = t.get(("minicnn", "floor") if against == "floor" else (against, key))
        row = [key, what, f"{mine.median * 1e3:.3f}"]
        gemm = t.get(("minicnn", f"{key} bound"))
        bound = f"{gemm.median * 1e3:.3f}" if gemm else ""
        if gemm and ref is not None:
            bound += f" = {gemm.median / ref.median:.2f}x"
        if ref is None:
            row += ["-", "-", "-", f"<= {target}x {against}", "?", bound]
        else:
            r, best = mine.median / ref.median, mine.best / ref.best
            met = "met" if r <= target else ("met (best)" if best <= target else "missed")
            row += [f"{ref.median * 1e3:.3f}", f"{r:.2f}x", f"({best:.2f}x)"]
            row += [f"<= {target}x {against}", met, bound]
        rows.append(row)
    if not args.no_memory and torch is not None and (not args.only or "memory" in args.only):
        mine, theirs = (measure(impl)["rss_peak_mib"] for impl in ("minicnn", "torch"))
        r = mine / theirs
        rows.append(
            ["memory", "peak extra MiB of one W5 step", f"{mine:.1f} MiB", f"{theirs:.1f} MiB"]
            + [f"{r:.2f}x", "", "<= 1.0x torch", "met" if r <= 1.0 else "missed", ""]
        )
    conv.print_table(
        [
            "",
            "row",
            "minicnn ms",
            "reference ms",
            "ratio",
            "(best)",
            "target",
            "",
            "numpy bound ms",
        ],
        rows,
    )
    print()
    print("ratio = minicnn median / the reference's median; (best) = the fastest rounds' ratio")
    print(f"W1's reference is autograd's floor: {t['minicnn', 'floor'].median * 1e3:.3f} ms")
    print("numpy bound = the step's unavoidable numpy work alone, and that time over the")
    print("reference's whole step: for W1 autograd's cost for its graph (conv, product, sum)")
    print("with a conv that does nothing; for W2-W5 their three im2col matrix products; for the")
    print("epoch and Conv2DTranspose their products plus im2col's window copies and col2im")
    print("adds; for BatchNormalization one pass writing each of y, the loss's product and")
    print("gradient and dx, and its four per-channel reductions")


if __name__ == "__main__":
    main()
