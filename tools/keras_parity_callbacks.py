"""Train the same model in Keras 3 and in minicnn with the same callbacks and compare what
the callbacks did: ReduceLROnPlateau, LearningRateScheduler, CSVLogger, ModelCheckpoint
(``save_best_only``, formatted file names) and EarlyStopping.

Not part of ``make test`` (Keras is not a dependency); run it where Keras and a backend
are installed (see tools/README.md)::

    KERAS_BACKEND=torch python tools/keras_parity_callbacks.py

For each scenario: the History (every key, ``learning_rate`` included), the CSV files
(the same header; values within float32 noise), the checkpoint files written and the
lines ``verbose=1`` printed (which epochs improved), and the final weights.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
import tempfile

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

import minicnn  # noqa: E402


def model(lib):
    L = lib.layers
    m = lib.Sequential(
        [lib.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.Flatten(), L.Dense(2)]
    )
    return m


def scenarios(lib):
    C = lib.callbacks
    return {
        "reduce_lr": lambda d: [
            C.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=0.05),
            C.CSVLogger(os.path.join(d, "log.csv")),
            C.ModelCheckpoint(
                os.path.join(d, "best-{epoch:02d}.keras"), save_best_only=True, verbose=1
            ),
        ],
        "scheduler": lambda d: [
            C.LearningRateScheduler(lambda epoch, lr: lr * 0.7 if epoch % 2 else lr),
            C.CSVLogger(os.path.join(d, "log.csv"), separator=";"),
            C.ModelCheckpoint(os.path.join(d, "w.weights.h5"), save_weights_only=True),
        ],
        "early_stopping": lambda d: [
            C.EarlyStopping(monitor="loss", patience=1, min_delta=0.5, restore_best_weights=True),
            C.CSVLogger(os.path.join(d, "log.csv")),
        ],
    }


def run(lib, name, weights, x, y, folder):
    m = model(lib)
    m.set_weights(weights)
    m.compile(lib.optimizers.SGD(0.05), "mse", metrics=["mae"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        history = m.fit(
            x,
            y,
            batch_size=4,
            epochs=8,
            shuffle=False,
            validation_split=0.25,
            verbose=0,
            callbacks=scenarios(lib)[name](folder),
        )
    lines = [line.replace(folder, "<dir>") for line in out.getvalue().splitlines() if line.strip()]
    return history.history, m.get_weights(), sorted(os.listdir(folder)), lines


def read_csv(path, sep):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=sep))
    return rows[0], rows[1:]


def main() -> int:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 6, 1)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)
    weights = [w.astype(np.float32) for w in model(keras).get_weights()]
    worst = 0.0
    print(f"keras {keras.__version__} ({keras.backend.backend()})")
    for name in scenarios(keras):
        with tempfile.TemporaryDirectory() as kd, tempfile.TemporaryDirectory() as md:
            kh, kw, kfiles, klines = run(keras, name, weights, x, y, kd)
            mh, mw, mfiles, mlines = run(minicnn, name, weights, x, y, md)
            assert sorted(kh) == sorted(mh), (name, sorted(kh), sorted(mh))
            assert all(len(kh[k]) == len(mh[k]) for k in kh), name
            history = max(abs(a - b) / max(abs(b), 1e-12) for k in kh for a, b in zip(mh[k], kh[k]))
            assert kfiles == mfiles, (name, kfiles, mfiles)
            assert klines == mlines, (name, klines, mlines)
            sep = ";" if name == "scheduler" else ","
            (khead, krows), (mhead, mrows) = (
                read_csv(os.path.join(d, "log.csv"), sep) for d in (kd, md)
            )
            assert khead == mhead and len(krows) == len(mrows), (name, khead, mhead)
            table = max(
                abs(float(a) - float(b)) / max(abs(float(b)), 1e-12)
                for kr, mr in zip(krows, mrows)
                for a, b in zip(mr, kr)
                if b != "NA" or a != "NA"
            )
            trained = max(
                float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6)) for a, b in zip(mw, kw)
            )
            print(
                f"{name:15} epochs {len(kh['loss'])}  keys {len(kh)}  files {len(kfiles)}  "
                f"history {history:.1e}  csv {table:.1e}  weights {trained:.1e}"
            )
            worst = max(worst, history, table, trained)
    print(f"largest relative difference {worst:.1e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
