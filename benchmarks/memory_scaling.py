"""Peak memory of predict, evaluate and fit against the number of samples.

``predict``, ``evaluate`` and ``fit`` work one batch at a time, so their peak memory should
grow with ``batch_size``, not with the number of samples: ten times the samples, about the
same peak. This script measures it with ``tracemalloc`` (numpy reports its array
allocations to it), counting only what each call allocates: the data set is created before
tracing starts. ``predict`` must return one output row per sample, so its result (listed
separately) does grow with the samples; everything else should not.

Each measurement runs in a fresh process, so one call's caches and freed blocks do not
flatter the next. Inputs are given both as float32 and as uint8 images (which minicnn casts
to float32: per batch, or the whole array at once if something is not batched).

Run: ``python benchmarks/memory_scaling.py``
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tracemalloc

SMALL, FACTOR, BATCH = 512, 10, 32


def measure(method: str, samples: int, dtype: str) -> dict:
    """Peak bytes allocated by one call of ``method`` on ``samples`` samples."""
    import numpy as np

    from minicnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from minicnn.models import Sequential
    from minicnn.utils import set_random_seed

    set_random_seed(0)
    model = Sequential(
        [
            Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(2),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(samples, 28, 28, 1)).astype(dtype)
    y = rng.integers(0, 10, size=samples)
    calls = {
        "predict": lambda: model.predict(x, batch_size=BATCH, verbose=0),
        "evaluate": lambda: model.evaluate(x, y, batch_size=BATCH, verbose=0),
        "fit": lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0),
    }
    # One small warm-up call: the first call's one-time allocations (module caches, the
    # optimizer's slots) are not what scales with the data.
    {
        "predict": lambda: model.predict(x[:BATCH], verbose=0),
        "evaluate": lambda: model.evaluate(x[:BATCH], y[:BATCH], verbose=0),
        "fit": lambda: model.fit(x[:BATCH], y[:BATCH], verbose=0, shuffle=False),
    }[method]()
    gc.collect()
    tracemalloc.start()
    result = calls[method]()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output = result.nbytes if method == "predict" else 0
    return {"peak": peak, "output": output, "data": x.nbytes}


def run_child(method: str, samples: int, dtype: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, str(samples), dtype],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def mib(n: int) -> str:
    return f"{n / 2**20:8.2f}"


def main() -> None:
    large = SMALL * FACTOR
    print(f"batch_size={BATCH}; samples {SMALL} vs {large}; peak = tracemalloc peak of one call")
    print("(MiB; 'peak - output' leaves out predict's result, which must hold every sample)\n")
    header = (
        f"{'method':<9} {'input':<8} {'data@small':>10} {'data@large':>10} "
        f"{'peak@small':>10} {'peak@large':>10} {'-output@L':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for method in ("predict", "evaluate", "fit"):
        for dtype in ("float32", "uint8"):
            small = run_child(method, SMALL, dtype)
            big = run_child(method, large, dtype)
            working_small = small["peak"] - small["output"]
            working_big = big["peak"] - big["output"]
            print(
                f"{method:<9} {dtype:<8} {mib(small['data']):>10} {mib(big['data']):>10} "
                f"{mib(small['peak']):>10} {mib(big['peak']):>10} {mib(working_big):>10} "
                f"{working_big / working_small:6.2f}"
            )
    print(
        "\nratio = (peak - output) at 10x the samples / the same at 1x: about 1 means the "
        "memory a call needs does not grow with the data."
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    else:
        main()
