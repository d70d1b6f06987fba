"""Peak memory of fit, evaluate and predict grows with batch_size, not with the sample count.

Each call reads its data one batch at a time (cast to float32 per batch), so ten times the
samples should need about the same extra memory. Prints the peak of numpy's allocations
during each call (tracemalloc), beyond the data already held by the caller.

    python benchmarks/fit_memory.py
"""

import tracemalloc

import numpy as np

import minicnn
from minicnn.layers import Conv2D, Dense, GlobalMaxPooling2D
from minicnn.models import Sequential


def peak_mib(call) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


def measure(samples: int, batch_size: int) -> dict[str, float]:
    minicnn.set_random_seed(0)
    rng = np.random.default_rng(0)
    # float64 on purpose: a whole-array float32 cast would cost half the data's size.
    x = rng.normal(size=(samples, 16, 16, 1))
    y = rng.integers(0, 3, size=samples)
    model = Sequential(
        [
            Conv2D(8, (3, 3), activation="relu", input_shape=(16, 16, 1)),
            GlobalMaxPooling2D(),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return {
        "data": x.nbytes / 2**20,
        "fit": peak_mib(
            lambda: model.fit(x, y, batch_size=batch_size, validation_split=0.1, verbose=0)
        ),
        "evaluate": peak_mib(lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0)),
        "predict": peak_mib(lambda: model.predict(x, batch_size=batch_size, verbose=0)),
    }


def main() -> None:
    batch_size = 64
    print(f"batch_size={batch_size}; peak extra memory in MiB (tracemalloc)")
    print(f"{'samples':>8} {'data':>8} {'fit':>8} {'evaluate':>9} {'predict':>8}")
    rows = {n: measure(n, batch_size) for n in (2_000, 20_000)}
    for n, r in rows.items():
        print(
            f"{n:>8} {r['data']:>8.1f} {r['fit']:>8.1f} {r['evaluate']:>9.1f} {r['predict']:>8.1f}"
        )
    small, large = rows[2_000], rows[20_000]
    print(
        f"10x the samples: data x{large['data'] / small['data']:.1f}, "
        f"fit peak x{large['fit'] / small['fit']:.2f}, "
        f"evaluate peak x{large['evaluate'] / small['evaluate']:.2f}, "
        f"predict peak x{large['predict'] / small['predict']:.2f}"
    )


if __name__ == "__main__":
    main()
