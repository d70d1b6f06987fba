"""Convolution and pooling speed of minicnn against numpy's matmul peak and PyTorch CPU.

Each workload is one forward and backward pass as ``fit`` runs it: the gradients of
``sum(out * R)`` with respect to the input, the kernel and the bias, through
``autograd.grad``, channels-last float32. Run ``python benchmarks/conv.py`` (``--help`` for
options); with PyTorch installed (see benchmarks/README.md) the same workloads run in
PyTorch (2 threads) interleaved with minicnn's, and the table shows the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from dataclasses import dataclass
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
    matmul_gflops_step,
)
from memory import memory_table  # noqa: E402

from minicnn import ops  # noqa: E402


@dataclass(frozen=True)
class Workload:
    name: str
    batch: int
    spatial: tuple[int, ...]
    channels: int
    filters: int
    kernel: int
    padding: str
    relu: bool = False

    @property
    def rank(self) -> int:
        return len(self.spatial)

    def describe(self) -> str:
        size = "x".join(map(str, self.spatial))
        kernel = "x".join([str(self.kernel)] * self.rank)
        relu = " +relu" if self.relu else ""
        return (
            f"{self.batch}x{size}x{self.channels} -> {self.filters} {kernel} {self.padding}{relu}"
        )

    def flops(self) -> float:
        """Multiply-adds of forward, input gradient and kernel gradient (3 equal matmuls)."""
        out = math.prod(ops.output_length(n, self.kernel, 1, 1, self.padding) for n in self.spatial)
        taps = self.kernel**self.rank
        return 3 * 2 * self.batch * out * taps * self.channels * self.filters

    def arrays(self, seed: int = 0):
        """Channels-last float32 input, kernel, bias and the output weights ``R``."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((self.batch, *self.spatial, self.channels), dtype=np.float32)
        kernel = rng.standard_normal(
            (*(self.kernel,) * self.rank, self.channels, self.filters), dtype=np.float32
        ) / np.float32(math.sqrt(self.channels * self.kernel**self.rank))
        bias = rng.standard_normal(self.filters, dtype=np.float32)
        out = tuple(ops.output_length(n, self.kernel, 1, 1, self.padding) for n in self.spatial)
        r = rng.standard_normal((self.batch, *out, self.filters), dtype=np.float32)
        return x, kernel, bias, r


WORKLOADS = [
    Workload("W1", 1, (8, 8), 1, 1, 3, "valid"),
    Workload("W2", 32, (28, 28), 1, 32, 3, "valid", relu=True),
    Workload("W3", 32, (28, 28), 32, 64, 3, "same"),
    Workload("W4", 32, (256,), 8, 16, 5, "valid"),
    Workload("W5", 64, (32, 32), 64, 64, 3, "same"),
]
# Pooling on the maps W3 produces: 2x2 max pooling, forward and backward.
POOL_SHAPE = (32, 28, 28, 64)


def load_ops(path: str | None):
    """minicnn's ops, or an ops module loaded from ``path`` (e.g. an older version)."""
    if path is None:
        return ops
    spec = importlib.util.spec_from_file_location("ops_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def minicnn_step(w: Workload, ops=ops):
    """A function running one forward+backward of ``w``; it checks dtypes as it goes."""
    x, kernel, bias, r = w.arrays()

    def loss(x, kernel, bias):
        y = ops.conv(x, kernel, 1, w.padding) + bias
        if w.relu:
            y = ops.relu(y)
        return anp.sum(y * r)

    grad = autograd.grad(loss, argnum=(0, 1, 2))
    for g in grad(x, kernel, bias):
        assert g.dtype == np.float32, f"{w.name}: a float32 gradient came back as {g.dtype}"
    return lambda: grad(x, kernel, bias)


def to_torch(torch, a: np.ndarray, channels_last: bool, grad: bool = True):
    """A channels-last numpy array as PyTorch's (batch, channels, *spatial) tensor."""
    t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 1)))
    if channels_last:
        t = t.contiguous(memory_format=torch.channels_last)
    return t.requires_grad_(grad)


def torch_step(torch, w: Workload, channels_last: bool = False):
    """PyTorch's equivalent of ``minicnn_step``: same arrays, same loss, same gradients."""
    x, kernel, bias, r = w.arrays()
    xt, rt = to_torch(torch, x, channels_last), to_torch(torch, r, channels_last, grad=False)
    # minicnn kernels are (*k, in, out); PyTorch's are (out, in, *k).
    kt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(kernel, (-2, -1), (1, 0))))
    if channels_last:
        kt = kt.contiguous(memory_format=torch.channels_last)
    kt.requires_grad_(True)
    bt = torch.from_numpy(bias).requires_grad_(True)
    conv = torch.nn.functional.conv1d if w.rank == 1 else torch.nn.functional.conv2d

    def step():
        y = conv(xt, kt, bt, padding=w.padding)
        if w.relu:
            y = torch.relu(y)
        return torch.autograd.grad((y * rt).sum(), (xt, kt, bt))

    return step


def pool_arrays():
    rng = np.random.default_rng(1)
    n, h, w, c = POOL_SHAPE
    x = rng.standard_normal(POOL_SHAPE, dtype=np.float32)
    return x, rng.standard_normal((n, h // 2, w // 2, c), dtype=np.float32)


def minicnn_pool_step(ops=ops):
    """Max pooling 2x2, forward and backward, on ``POOL_SHAPE``."""
    x, r = pool_arrays()
    grad = autograd.grad(lambda x: anp.sum(ops.pool(x, 2) * r))
    assert grad(x).dtype == np.float32, "max pooling: float32 gradient came back as float64"
    return lambda: grad(x)


def torch_pool_step(torch, channels_last: bool):
    x, r = pool_arrays()
    xt, rt = to_torch(torch, x, channels_last), to_torch(torch, r, channels_last, grad=False)

    def step():
        y = torch.nn.functional.max_pool2d(xt, 2)
        return torch.autograd.grad((y * rt).sum(), (xt,))

    return step


def build_steps(impl: str, ops_path: str | None = None) -> dict:
    """Every step one implementation runs: workloads, pooling and (minicnn) the matmul."""
    if impl in ("minicnn", "compare"):
        module = load_ops(ops_path if impl == "compare" else None)
        steps = {w.name: minicnn_step(w, module) for w in WORKLOADS}
        steps["pool"] = minicnn_pool_step(module)
        if impl == "minicnn":
            steps["matmul"] = matmul_gflops_step()[0]
        return steps
    torch = import_torch()
    channels_last = impl == "torch_cl"
    steps = {
        w.name: torch_step(torch, w, channels_last)
        for w in WORKLOADS
        if not (channels_last and w.rank != 2)
    }
    steps["pool"] = torch_pool_step(torch, channels_last)
    return steps


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def ms(seconds: float | None) -> str:
    return f"{seconds * 1e3:.3f}" if seconds else "-"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--only", nargs="*", help="keys to run, e.g. W3 W5 pool")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory table")
    parser.add_argument("--compare", metavar="OPS_PY", help="also time this ops.py file")
    add_process_options(parser)
    args = parser.parse_args(argv)
    setup = apply_process_options(args)
    impls = ["minicnn"] + (["compare"] if args.compare else [])
    if not args.no_torch and import_torch() is not None:
        impls += ["torch", "torch_cl"]
    workers = {impl: Worker(build_steps, impl, args.compare) for impl in impls}
    keys = ["matmul"] + [w.name for w in WORKLOADS] + ["pool"]
    keys = [k for k in keys if not args.only or k in args.only or k == "matmul"]
    t = interleaved_times(workers, keys, rounds=args.rounds)
    for worker in workers.values():
        worker.close()

    _, matmul_flops = matmul_gflops_step()
    peak = matmul_flops / t["minicnn", "matmul"].median / 1e9
    torch = import_torch() if "torch" in impls else None
    print(f"numpy float32 matmul peak (1024^3, median in this run): {peak:.0f} GFLOP/s")
    if torch is None:
        print("PyTorch not importable: no ratios (see benchmarks/README.md to install it)")
    else:
        print(f"PyTorch {torch.__version__}, {THREADS} threads")
    print("each implementation runs in its own process (see benchmarks/README.md)")
    print("\n".join(setup + blas_lines(workers)))
    print(f"median of {args.rounds} interleaved rounds; forward+backward (dx, dkernel, dbias)")
    print()
    columns = ["", "workload", "minicnn ms", "GFLOP/s", "%peak"]
    if args.compare:
        columns += ["compare ms", "speedup"]
    columns += ["torch ms", "ratio", "(best)", "torch_cl ms", "ratio_cl", "(best)"]
    rows = []
    for w in [w for w in WORKLOADS if w.name in keys] + (["pool"] if "pool" in keys else []):
        key = w if w == "pool" else w.name
        mine = t["minicnn", key]
        if w == "pool":
            label = "max_pool 2x2 on " + "x".join(map(str, POOL_SHAPE))
            row = ["P", label, ms(mine.median), "-", "-"]
        else:
            gflops = w.flops() / mine.median / 1e9
            row = [w.name, w.describe(), ms(mine.median), f"{gflops:.1f}"]
            row.append(f"{100 * gflops / peak:.0f}%")
        if args.compare:
            old = t["compare", key]
            row += [ms(old.median), ratio(old.median, mine.median)]
        for impl in ("torch", "torch_cl"):
            theirs = t.get((impl, key))
            if theirs is None:
                row += ["-", "-", "-"]
            else:
                row += [ms(theirs.median), ratio(mine.median, theirs.median)]
                row.append(f"({ratio(mine.best, theirs.best)})")
        rows.append(row)
    print_table(columns, rows)
    print()
    print("ratio = minicnn median / PyTorch median (NCHW); ratio_cl against channels_last;")
    print("(best) = the same ratio of the fastest rounds, the cost when nothing else ran.")
    if not args.no_memory:
        print()
        memory_table(torch is not None)


def print_table(columns, rows) -> None:
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    line = "  ".join(
        c.ljust(wd) if i < 2 else c.rjust(wd) for i, (c, wd) in enumerate(zip(columns, widths))
    )
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            "  ".join(
                str(c).ljust(wd) if i < 2 else str(c).rjust(wd)
                for i, (c, wd) in enumerate(zip(r, widths))
            )
        )


if __name__ == "__main__":
    main()
