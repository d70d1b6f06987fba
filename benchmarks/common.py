"""Timing helpers shared by the benchmark scripts.

Two pitfalls seen on the 2-core machine these benchmarks were written on shape this module:

- Transient slowdowns of 3-90x in BLAS-heavy code (other virtual machines on the same
  host): no single timing is trusted. Implementations are timed in turn, round after
  round, and each one's median over the rounds is reported.
- numpy's OpenBLAS threads and PyTorch's OpenMP threads keep spinning for a while after
  their last parallel call; in one process they steal each other's cores (a 0.03 ms PyTorch
  step took 16 ms right after a numpy matmul). So each implementation runs in its own
  worker process, as it would in real use, and the workers take turns with a short pause
  between them so the previous one's threads fall asleep first.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

THREADS = 2
GAP_SECONDS = 0.3

# glibc hands freed blocks of a few MB back to the operating system, so every step of a
# numpy (or PyTorch) training loop faults its temporaries' pages in afresh: 40% of W2's
# time here. These settings (read by glibc at process start) keep freed memory for reuse.
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def per_call_seconds(fn: Callable[[], object], budget: float = 0.05) -> float:
    """Seconds per call of ``fn`` after one untimed call, averaged over ``budget`` seconds."""
    start = time.perf_counter()
    fn()  # wakes the thread pools and warms the caches
    once = time.perf_counter() - start
    number = max(1, int(budget / max(once, 1e-7)))
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def matmul_gflops_step(size: int = 1024):
    """A float32 square matmul and its FLOP count: numpy's peak, the yardstick."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    return (lambda: a @ b), 2 * size**3


def import_torch():
    """PyTorch limited to this benchmark's thread count, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    return torch


def blas_report() -> str:
    """Which BLAS libraries this process loaded and the kernels each runs (threadpoolctl's
    ``architecture``: OpenBLAS's core type, e.g. SkylakeX or Haswell), or why unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to see which kernels ran)"
    found = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '?')} kernels, "
        f"{i.get('num_threads')} threads ({Path(i.get('filepath', '')).parent.name})"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(found) or "no BLAS library loaded"


def _serve(conn, build, args, budget):
    steps = build(*args)
    conn.send((sorted(steps), blas_report()))
    while (key := conn.recv()) is not None:
        conn.send(per_call_seconds(steps[key], budget))


#: What this machine's environment sets to force numpy's OpenBLAS kernels; a user's
#: environment sets neither, and OpenBLAS then picks its kernels for the CPU.
OPENBLAS_FORCING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def use_openblas_core(core: str) -> None:
    """Make worker processes started from now on run numpy's OpenBLAS as ``core`` says:
    ``auto`` (the default) unsets ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``, so
    OpenBLAS picks its kernels for the CPU as on a user's machine; ``inherit`` keeps this
    shell's settings (this machine forces Haswell kernels on a CPU whose AVX-512 SkylakeX
    ones OpenBLAS would pick: about 255 against 480 GFLOP/s float32 matmul); any other
    value names the core. PyTorch does not read them."""
    if core == "inherit":
        return
    for name in OPENBLAS_FORCING:
        os.environ.pop(name, None)
    if core != "auto":
        os.environ["OPENBLAS_CORETYPE"] = core


def add_process_options(parser) -> None:
    """The options that set up the worker processes, shared by the benchmark scripts."""
    parser.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="run every implementation with glibc keeping freed memory (see common.py)",
    )
    parser.add_argument(
        "--openblas-coretype",
        metavar="CORE",
        default="auto",
        help="numpy's OpenBLAS kernels in the timed processes: 'auto' (default: OPENBLAS_CORETYPE "
        "and OPENBLAS_L2_SIZE unset, OpenBLAS's own pick, as for a user), 'inherit' (this "
        "shell's settings), or a core name such as Haswell (see benchmarks/README.md)",
    )


def apply_process_options(args) -> list[str]:
    """Set the environment the workers will inherit; returns lines saying what was set."""
    lines = []
    if args.keep_freed_memory:
        keep_freed_memory()
        lines.append("glibc keeps freed memory in every process (--keep-freed-memory)")
    use_openblas_core(args.openblas_coretype)
    set_here = [f"{n}={os.environ[n]}" for n in OPENBLAS_FORCING if n in os.environ]
    how = ", ".join(set_here) if set_here else "none of OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE set"
    lines.append(
        f"timed processes' environment: {how} (--openblas-coretype {args.openblas_coretype})"
    )
    return lines


def blas_lines(workers: dict) -> list[str]:
    """What each worker reported of its BLAS (see ``blas_report``)."""
    return [f"{name}: {worker.blas}" for name, worker in workers.items()]


def keep_freed_memory() -> None:
    """Make the worker processes started from now on keep freed memory (glibc only)."""
    os.environ.update(KEEP_FREED_MEMORY)


class Worker:
    """A process holding the steps ``build(*args)`` returns ({key: function}); it times
    the one asked for. ``build`` must be a module-level function (it is pickled)."""

    def __init__(self, build, *args, budget: float = 0.05):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, build, args, budget), daemon=True)
        self.process.start()
        self.keys, self.blas = self.conn.recv()

    def time(self, key) -> float:
        self.conn.send(key)
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.process.join()


class Timing(NamedTuple):
    median: float
    best: float


def interleaved_times(
    workers: dict[str, Worker], keys, rounds: int = 7, gap: float = GAP_SECONDS
) -> dict[tuple[str, str], Timing]:
    """Median and best seconds per call of every (worker, key) pair the worker has.

    Every round times each key on each worker in turn, so all implementations see the
    same passing load; the median over rounds discards the transient slowdowns, and the
    best round shows the cost when nothing else ran.
    """
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for key in keys:
            for name, worker in workers.items():
                if key in worker.keys:
                    time.sleep(gap)
                    samples.setdefault((name, key), []).append(worker.time(key))
    return {pair: Timing(statistics.median(v), min(v)) for pair, v in samples.items()}
