"""The layers of the tutorials after the seed, minicnn against PyTorch CPU.

Each row is one forward and backward pass as ``fit`` runs it (training mode): the
gradients of ``sum(out * R)`` with respect to the input and the layer's trainable weights,
through ``autograd.grad`` over the layer's ``apply``, channels-last float32. PyTorch runs the
same arrays (2 threads) in its own process, interleaved with minicnn's rounds (see
benchmarks/README.md). Run ``python benchmarks/layers.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    THREADS,
    Worker,
    add_process_options,
    apply_process_options,
    blas_lines,
    import_torch,
    interleaved_times,
)
from conv import print_table, ratio, to_torch  # noqa: E402

from minicnn import layers  # noqa: E402

# name -> (description, layer factory, input shape)
CASES = {
    "batchnorm": (
        "BatchNormalization, training, 32x28x28x64",
        lambda: layers.BatchNormalization(),
        (32, 28, 28, 64),
    ),
    "conv2d_transpose": (
        "Conv2DTranspose 3x3 stride 2 same, 32x14x14x32 -> 16",
        lambda: layers.Conv2DTranspose(16, 3, strides=2, padding="same"),
        (32, 14, 14, 32),
    ),
    "upsampling_bilinear": (
        "UpSampling2D 2x2 bilinear, 32x14x14x32",
        lambda: layers.UpSampling2D(interpolation="bilinear"),
        (32, 14, 14, 32),
    ),
    "dropout": (
        "Dropout 0.5, training, 32x28x28x64",
        lambda: layers.Dropout(0.5),
        (32, 28, 28, 64),
    ),
    "separable": (
        "SeparableConv2D 3x3 same, 32x28x28x32 -> 64",
        lambda: layers.SeparableConv2D(64, 3, padding="same"),
        (32, 28, 28, 32),
    ),
}


def arrays(name):
    """The input, the layer's weights and the output weights ``R``, as float32."""
    _, make, shape = CASES[name]
    rng = np.random.default_rng(0)
    layer = make()
    layer.build((None, *shape[1:]))
    x = rng.standard_normal(shape, dtype=np.float32)
    weights = [rng.standard_normal(w.shape, dtype=np.float32) * 0.1 for w in layer.get_weights()]
    if name == "batchnorm":
        weights[3] = np.abs(weights[3]) + 1  # a positive moving variance
    r = rng.standard_normal(layer.compute_output_shape(shape), dtype=np.float32)
    return layer, x, weights, r


def minicnn_step(name):
    layer, x, weights, r = arrays(name)
    trainable = [i for i, t in enumerate(layer.weight_trainable) if t]
    rng = np.random.default_rng(1)

    def loss(x, trained):
        full = list(weights)
        for i, w in zip(trainable, trained):
            full[i] = w
        generator = rng if layer.needs_rng else None
        return anp.sum(layer.apply(full, x, training=True, rng=generator) * r)

    grad = autograd.grad(loss, argnum=(0, 1))
    dx, dw = grad(x, [weights[i] for i in trainable])
    assert dx.dtype == np.float32 and all(g.dtype == np.float32 for g in dw), name
    return lambda: grad(x, [weights[i] for i in trainable])


def torch_step(torch, name):
    layer, x, weights, r = arrays(name)
    F = torch.nn.functional
    xt, rt = to_torch(torch, x, False), to_torch(torch, r, False, grad=False)

    def param(a, axes=None):
        a = a if axes is None else np.moveaxis(a, *axes)
        return torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(True)

    if name == "batchnorm":
        gamma, beta = param(weights[0]), param(weights[1])
        mean, var = torch.from_numpy(weights[2].copy()), torch.from_numpy(weights[3].copy())

        def forward():
            return F.batch_norm(xt, mean, var, gamma, beta, True, 0.01, 1e-3)

        params = (xt, gamma, beta)
    elif name == "conv2d_transpose":
        # Keras's (kh, kw, filters, in) is PyTorch's (in, filters, kh, kw) for transposes;
        # padding 1 and output_padding 1 give Keras's "same" length n * stride.
        kernel, bias = param(weights[0], ((2, 3), (1, 0))), param(weights[1])

        def forward():
            return F.conv_transpose2d(xt, kernel, bias, stride=2, padding=1, output_padding=1)

        params = (xt, kernel, bias)
    elif name == "upsampling_bilinear":

        def forward():
            return F.interpolate(xt, scale_factor=2, mode="bilinear", align_corners=False)

        params = (xt,)
    elif name == "dropout":

        def forward():
            return F.dropout(xt, 0.5, training=True)

        params = (xt,)
    else:
        depthwise = param(weights[0].reshape(3, 3, 1, -1), ((2, 3), (1, 0)))
        pointwise, bias = param(weights[1], ((2, 3), (1, 0))), param(weights[2])

        def forward():
            y = F.conv2d(xt, depthwise, padding=1, groups=x.shape[-1])
            return F.conv2d(y, pointwise, bias)

        params = (xt, depthwise, pointwise, bias)

    def step():
        return torch.autograd.grad((forward() * rt).sum(), params)

    return step


def build_steps(impl: str) -> dict:
    if impl == "minicnn":
        return {name: minicnn_step(name) for name in CASES}
    torch = import_torch()
    return {name: torch_step(torch, name) for name in CASES}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--only", nargs="*", help="cases to run, e.g. batchnorm")
    add_process_options(parser)
    args = parser.parse_args(argv)
    setup = apply_process_options(args)
    torch = import_torch()
    impls = ["minicnn"] + (["torch"] if torch is not None else [])
    workers = {impl: Worker(build_steps, impl) for impl in impls}
    keys = [k for k in CASES if not args.only or k in args.only]
    t = interleaved_times(workers, keys, rounds=args.rounds)
    for worker in workers.values():
        worker.close()
    if torch is None:
        print("PyTorch not importable: no ratios (see benchmarks/README.md to install it)")
    else:
        print(f"PyTorch {torch.__version__}, {THREADS} threads")
    print("\n".join(setup + blas_lines(workers)))
    print(f"median of {args.rounds} interleaved rounds; forward+backward in training mode")
    print()
    rows = []
    for key in keys:
        mine, theirs = t["minicnn", key], t.get(("torch", key))
        row = [key, CASES[key][0], f"{mine.median * 1e3:.3f}"]
        if theirs is None:
            row += ["-", "-", "-"]
        else:
            row += [
                f"{theirs.median * 1e3:.3f}",
                ratio(mine.median, theirs.median),
                f"({ratio(mine.best, theirs.best)})",
            ]
        rows.append(row)
    print_table(["", "layer", "minicnn ms", "torch ms", "ratio", "(best)"], rows)
    print()
    print("ratio = minicnn median / PyTorch median (NCHW); (best) = the fastest rounds' ratio.")


if __name__ == "__main__":
    main()
