"""Train the same model in Keras 3 and in minicnn from a PyDataset and from generators
(``steps_per_epoch``, ``validation_data`` as a PyDataset with sample weights, weighted
batches) and compare the Histories, the trained weights and ``evaluate`` on a PyDataset.

Not part of ``make test`` (Keras is not a dependency)::

    KERAS_BACKEND=torch python tools/keras_parity_feeds.py

Not compared, because minicnn differs on purpose (README, "Differences from Keras"):
Keras re-serves a generator's first two batches (read ahead to learn the shapes) each
time it opens a new pass over it, so a finite generator trains on those two batches again
in later epochs and a validation generator is validated on its first batches each epoch;
minicnn reads a generator forward only.
"""

import os
import sys
import warnings

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

import minicnn  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 6, 6, 1)).astype("float32")
Y = rng.normal(size=(40, 2)).astype("float32")
W = rng.uniform(0, 2, 40).astype("float32")


def build(lib):
    L = lib.layers
    m = lib.Sequential(
        [lib.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.Flatten(), L.Dense(2)]
    )
    return m


def dataset(lib, weighted=False):
    class D(lib.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.ends = 0

        def __len__(self):
            return 5

        def __getitem__(self, i):
            s = slice(8 * i, 8 * i + 8)
            return (X[s], Y[s], W[s]) if weighted else (X[s], Y[s])

        def on_epoch_end(self):
            self.ends += 1

    return D()


def gen(weighted=False, forever=True):
    while True:
        for i in range(5):
            s = slice(8 * i, 8 * i + 8)
            yield (X[s], Y[s], W[s]) if weighted else (X[s], Y[s])
        if not forever:
            return


weights = [w for w in build(keras).get_weights()]
scen = {
    "pydataset": lambda lib: dict(
        x=dataset(lib), epochs=3, shuffle=False, validation_data=dataset(lib, True)
    ),
    "generator steps": lambda lib: dict(
        x=gen(), steps_per_epoch=3, epochs=3, validation_data=(X[:8], Y[:8]), validation_steps=None
    ),
    "generator weighted": lambda lib: dict(
        x=gen(True), steps_per_epoch=4, epochs=3, validation_data=dataset(lib)
    ),
    "pydataset weighted": lambda lib: dict(x=dataset(lib, True), epochs=2, shuffle=False),
}
worst = 0
for name, make in scen.items():
    res = {}
    for lib in (keras, minicnn):
        m = build(lib)
        m.set_weights(weights)
        m.compile(lib.optimizers.SGD(0.05), "mse", metrics=["mae"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = m.fit(verbose=0, **make(lib)).history
        ev = m.evaluate(dataset(lib, True), verbose=0)
        res[lib.__name__] = (
            h,
            m.get_weights(),
            ev,
            [str(c.message)[:40] for c in caught if "ran out" in str(c.message)],
        )
    (kh, kw, kev, kwarn), (mh, mw, mev, mwarn) = res["keras"], res["minicnn"]
    assert sorted(kh) == sorted(mh) and all(len(kh[k]) == len(mh[k]) for k in kh), (name, kh, mh)
    d = max(abs(a - b) / max(abs(b), 1e-9) for k in kh for a, b in zip(mh[k], kh[k]))
    dw = max(float(np.abs(a - b).max()) for a, b in zip(mw, kw))
    de = max(abs(a - b) / abs(b) for a, b in zip(mev, kev))
    print(
        f"{name:30} epochs {len(kh['loss'])}  keys {sorted(kh)}  history {d:.1e}  "
        f"weights {dw:.1e}  evaluate {de:.1e}"
    )
    worst = max(worst, d, dw, de)
print(f"largest relative difference {worst:.1e}")
sys.exit(0 if worst < 1e-4 else 1)
