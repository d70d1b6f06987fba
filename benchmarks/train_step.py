"""Training throughput of a small CNN: minicnn's ``fit`` against PyTorch's training loop.

The model is conv-relu-pool-conv-relu-flatten-dense on 28x28x1 inputs (MNIST-sized):
Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) -> Flatten -> Dense(10),
trained with SGD on sparse categorical crossentropy from logits, batch 32, float32. One
timed call is one epoch of ``STEPS`` batches through ``model.fit`` (minicnn) or the usual
zero_grad/forward/backward/step loop (PyTorch, 2 threads, NCHW and channels_last), and
the table reports samples per second. Runs like ``conv.py``: each implementation in its
own process, interleaved rounds, medians (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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

BATCH, STEPS, CLASSES = 32, 8, 10


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH * STEPS, 28, 28, 1), dtype=np.float32)
    return x, rng.integers(0, CLASSES, BATCH * STEPS)


def minicnn_epoch():
    from minicnn import layers, losses, optimizers
    from minicnn.models import Sequential

    x, y = data()
    model = Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(CLASSES),
        ]
    )
    model.compile(
        optimizer=optimizers.SGD(learning_rate=0.01),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    for w in model.get_weights():
        assert w.dtype == np.float32, f"a weight became {w.dtype} in training"
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)


def torch_epoch(channels_last: bool):
    torch = import_torch()
    nn = torch.nn
    x, y = data()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * 11 * 11, CLASSES),
    )
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        xt = xt.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for i in range(STEPS):
            batch = slice(i * BATCH, (i + 1) * BATCH)
            optimizer.zero_grad()
            loss_fn(model(xt[batch]), yt[batch]).backward()
            optimizer.step()

    return epoch


def build_steps(impl: str) -> dict:
    if impl == "minicnn":
        return {"epoch": minicnn_epoch()}
    return {"epoch": torch_epoch(impl == "torch_cl")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    add_process_options(parser)
    args = parser.parse_args(argv)
    setup = apply_process_options(args)
    impls = ["minicnn"]
    if not args.no_torch and import_torch() is not None:
        impls += ["torch", "torch_cl"]
    workers = {impl: Worker(build_steps, impl, budget=0.3) for impl in impls}
    t = interleaved_times(workers, ["epoch"], rounds=args.rounds)
    for worker in workers.values():
        worker.close()
    print(
        "training step of conv(32,3x3)-relu-maxpool2-conv(64,3x3)-relu-flatten-dense(10), "
        f"28x28x1, batch {BATCH}, SGD, float32"
    )
    print(f"median of {args.rounds} interleaved rounds of {STEPS} steps; torch: {THREADS} threads")
    print("\n".join(setup + blas_lines(workers)))
    print()
    mine = t["minicnn", "epoch"]
    print(f"{'':9} {'ms/step':>8} {'samples/s':>10} {'minicnn / this':>15} {'(best)':>8}")
    for impl in impls:
        theirs = t[impl, "epoch"]
        print(
            f"{impl:9} {theirs.median / STEPS * 1e3:8.2f} {BATCH * STEPS / theirs.median:10.0f} "
            f"{mine.median / theirs.median:14.2f}x {mine.best / theirs.best:7.2f}x"
        )


if __name__ == "__main__":
    main()
