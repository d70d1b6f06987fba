"""Peak memory of one W5 forward+backward step, minicnn against PyTorch.

Method: each implementation runs in its own fresh Python process. The process builds the
arrays, runs one warm-up step (one-time allocations: thread pools, PyTorch's kernels), then
hands the memory the allocator keeps from it back to the system (glibc's ``malloc_trim``,
so both libraries start from the same clean heap), records its resident set size, resets
the kernel's high-water mark (writing 5 to ``/proc/self/clear_refs``, Linux), runs one step
and reads the high-water mark (VmHWM) again. The difference is the extra memory the step
needed at its worst moment, including the gradients it returns. For minicnn,
``tracemalloc`` (which sees numpy's allocations) gives a second, allocator-independent
figure.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _release_freed_memory() -> None:
    """Return the heap's free memory to the system, so it is not reused unseen (glibc)."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def worker(impl: str, workload: str) -> dict:
    sys.path.insert(0, str(HERE))
    import conv
    from common import import_torch

    w = next(w for w in conv.WORKLOADS if w.name == workload)
    if impl == "minicnn":
        step = conv.minicnn_step(w)
    else:
        torch = import_torch()
        step = conv.torch_step(torch, w, channels_last=impl == "torch_cl")
    step()
    gc.collect()
    _release_freed_memory()
    base = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    grads = step()
    result = {"rss_peak_mib": (_status_kib("VmHWM") - base) / 1024}
    del grads
    if impl == "minicnn":
        gc.collect()
        tracemalloc.start()
        step()
        result["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def measure(impl: str, workload: str = "W5") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", impl, workload],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def memory_table(with_torch: bool, workload: str = "W5") -> None:
    impls = ["minicnn"] + (["torch", "torch_cl"] if with_torch else [])
    results = {impl: measure(impl, workload) for impl in impls}
    print(f"peak extra memory of one {workload} step (MiB above the resident set before it):")
    for impl, r in results.items():
        traced = f"  (tracemalloc: {r['traced_peak_mib']:.1f})" if "traced_peak_mib" in r else ""
        vs = ""
        if impl == "minicnn" and with_torch:
            vs = f"  = {r['rss_peak_mib'] / results['torch']['rss_peak_mib']:.2f}x torch"
        print(f"  {impl:9} {r['rss_peak_mib']:8.1f}{traced}{vs}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        memory_table("--no-torch" not in sys.argv)
