"""Check that models cross between minicnn and real Keras 3 by file, both ways, and make
the Keras-written fixtures that ``tests/test_keras_files.py`` reads.

Not part of ``make test`` (Keras is never a dependency). Run it where Keras 3, a backend
and h5py are installed (see tools/README.md)::

    KERAS_BACKEND=torch python tools/keras_files.py             # the cross checks
    KERAS_BACKEND=torch python tools/keras_files.py --fixtures tests/fixtures/keras

Each architecture below is built once with each library's own classes (same constructor
arguments, so the code is shared), compiled, trained for a step so the optimizer has
state, and then:

- minicnn -> Keras: minicnn saves ``.keras``, legacy ``.h5`` and ``.weights.h5``; Keras
  loads each, and both predict on the same data;
- Keras -> minicnn: Keras saves the same three; minicnn loads each and both predict;
- resumption across: a ``.keras`` file from either side is trained one more epoch by the
  other, and the new weights are compared with the saving side's own next epoch.

It prints one row per model and file kind with the largest absolute difference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

import minicnn.layers as mlayers
import minicnn.models as mmodels


def architectures(L, Input, Model, Sequential):
    """``{name: (model factory, input shape, target shapes, loss)}``, written once for
    both. Dropout rates are 0 so that training on after loading (the resumption check)
    draws no random masks, which the two libraries draw differently."""

    def conv2d_stack():
        return Sequential(
            [
                Input((8, 8, 2)),
                L.Conv2D(3, 3, padding="same", activation="relu"),
                L.BatchNormalization(),
                L.MaxPooling2D(),
                L.SeparableConv2D(4, 2, activation="tanh"),
                L.DepthwiseConv2D(1, depth_multiplier=2),
                L.Conv2DTranspose(2, 2, strides=2),
                L.ZeroPadding2D(1),
                L.Cropping2D(((1, 0), (0, 1))),
                L.UpSampling2D(2),
                L.AveragePooling2D(2),
                L.SpatialDropout2D(0.0),
                L.GlobalAveragePooling2D(),
                L.Dense(3, activation="softmax"),
            ]
        )

    def conv1d_stack():
        return Sequential(
            [
                Input((12, 2)),
                L.Conv1D(3, 3, padding="causal", activation="elu"),
                L.SeparableConv1D(2, 2),
                L.DepthwiseConv1D(2),
                L.Conv1DTranspose(2, 3),
                L.ZeroPadding1D(1),
                L.Cropping1D(1),
                L.UpSampling1D(2),
                L.MaxPooling1D(2),
                L.AveragePooling1D(2),
                L.SpatialDropout1D(0.0),
                L.GlobalMaxPooling1D(),
                L.Dense(2),
            ]
        )

    def dense_and_activations():
        return Sequential(
            [
                Input((3, 4)),
                L.Permute((2, 1)),
                L.Reshape((2, 6)),
                L.GlobalAveragePooling1D(),
                L.Rescaling(0.5, offset=0.1),
                L.Dense(6),
                L.LeakyReLU(0.2),
                L.Dense(5),
                L.PReLU(),
                L.ELU(),
                L.ReLU(max_value=4.0),
                L.Dropout(0.0),
                L.Dense(4),
                L.Activation("sigmoid"),
                L.Softmax(),
                L.Dense(1),
            ]
        )

    def conv3d_pools():
        return Sequential(
            [
                Input((4, 4, 4, 1)),
                L.Conv3D(2, 2),
                L.Flatten(),
                L.Dense(2),
            ]
        )

    def merges():
        a = Input((6, 6, 2), name="image")
        x = L.Conv2D(4, 3, padding="same", activation="relu")(a)
        y = L.Conv2D(4, 1)(a)
        s = L.Add()([x, y])
        d = L.Subtract()([x, y])
        m = L.Multiply()([s, d])
        av = L.Average()([s, m])
        mx = L.Maximum()([av, x])
        mn = L.Minimum()([mx, y])
        c = L.Concatenate()([mn, s])
        g = L.GlobalMaxPooling2D()(c)
        h = L.GlobalAveragePooling2D()(c)
        return Model(a, [L.Dense(2, name="left")(g), L.Dense(1, name="right")(h)])

    def shared_residual():
        a = Input((5, 5, 3))
        conv = L.Conv2D(3, 3, padding="same")
        x = conv(a)
        x = L.Add()([conv(x), a])
        x = L.Flatten()(x)
        return Model(a, L.Dense(2)(x))

    def nested():
        inner = Sequential([Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.Flatten()])
        a = Input((32,))
        head = Model(a, L.Dense(3, activation="tanh")(a))
        x = Input((6, 6, 1))
        return Model(x, L.Dense(1)(head(inner(x))))

    def nested_outputs():
        # A nested model of a dict of two inputs and two outputs: one of its outputs is
        # also the outer model's (Keras numbers that reference's node from 1).
        a, b = Input((6, 6, 2), name="a"), Input((6, 6, 2), name="b")
        h = L.Conv2D(2, 3, padding="same", activation="relu", name="h")(a)
        pair = Model({"a": a, "b": b}, [h, L.Add(name="sum")([h, b])], name="pair")
        x = Input((6, 6, 1))
        o1, o2 = pair({"a": L.Conv2D(2, 1)(x), "b": L.Conv2D(2, 3, padding="same")(x)})
        return Model(x, [L.Dense(2)(L.Flatten()(o1)), o2])

    return {
        "conv2d_stack": (conv2d_stack, (8, 8, 2), [(3,)], "categorical_crossentropy"),
        "conv1d_stack": (conv1d_stack, (12, 2), [(2,)], "mse"),
        "dense_and_activations": (dense_and_activations, (3, 4), [(1,)], "mae"),
        "conv3d": (conv3d_pools, (4, 4, 4, 1), [(2,)], "mse"),
        "merges": (merges, (6, 6, 2), [(2,), (1,)], ["mse", "mae"]),
        "shared_residual": (shared_residual, (5, 5, 3), [(2,)], "mse"),
        "nested": (nested, (6, 6, 1), [(1,)], "mse"),
        "nested_outputs": (nested_outputs, (6, 6, 1), [(2,), (6, 6, 2)], ["mse", "mae"]),
    }


def build(lib: str, name: str, seed: int):
    if lib == "keras":
        table = architectures(keras.layers, keras.Input, keras.Model, keras.Sequential)
    else:
        table = architectures(mlayers, mlayers.Input, mmodels.Model, mmodels.Sequential)
    factory, in_shape, out_shapes, loss = table[name]
    model = factory()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6, *in_shape)).astype("float32")
    ys = [rng.random((6, *s)).astype("float32") for s in out_shapes]
    if loss == "categorical_crossentropy":
        ys = [np.eye(s[0], dtype="float32")[rng.integers(0, s[0], 6)] for s in out_shapes]
    y = ys[0] if len(ys) == 1 else ys
    return model, x, y, loss


def fresh_pair(name: str, seed: int):
    """The same architecture in both libraries with Keras's initial weights in both."""
    k, x, y, loss = build("keras", name, seed)
    m, *_ = build("minicnn", name, seed)
    m.set_weights(k.get_weights())
    return k, m, x, y, loss


def compile_both(k, m, loss, optimizer: str):
    kwargs = {"loss": loss, "metrics": [["mae"]] * len(loss) if isinstance(loss, list) else ["mae"]}
    k.compile(optimizer=keras.optimizers.get(optimizer), **kwargs)
    m.compile(optimizer=optimizer, **kwargs)


def as_list(v):
    return v if isinstance(v, list) else [v]


def max_diff(a, b) -> float:
    return max(
        float(np.max(np.abs(np.asarray(p) - np.asarray(q)))) for p, q in zip(as_list(a), as_list(b))
    )


def save(model, path: str) -> None:
    (model.save_weights if path.endswith(".weights.h5") else model.save)(path)


def load(lib: str, path: str, name: str, seed: int):
    """``path`` opened by ``lib``: a model file loaded, a weights file into a new model."""
    if path.endswith(".weights.h5"):
        model, *_ = build(lib, name, seed)
        model.load_weights(path)
        return model
    if lib == "minicnn":
        return mmodels.load_model(path)
    # Keras 3.15 cannot rebuild the loss of its own legacy files when it is a string alias
    # ("mse": "Could not deserialize 'keras.metrics.mse'"), so its legacy loads skip
    # compiling; minicnn's loads compile.
    return keras.saving.load_model(path, compile=path.endswith(".keras"))


def cross(name: str, optimizer: str, folder: str, seed: int) -> list[tuple]:
    rows = []
    k, m, x, y, loss = fresh_pair(name, seed)
    compile_both(k, m, loss, optimizer)
    fit = {"batch_size": 3, "epochs": 1, "shuffle": False, "verbose": 0}
    k.fit(x, y, **fit)
    m.fit(x, y, **fit)
    label = {"minicnn": "minicnn", "keras": "Keras"}
    sides = (("minicnn", m, "keras", "Keras"), ("keras", k, "minicnn", "minicnn"))
    # Resumption across the file: the other side trains on from the saved state.
    for lib, source, other_lib, other_name in sides:
        path = os.path.join(folder, f"{name}_{lib}_resume.keras")
        save(source, path)
        other = load(other_lib, path, name, seed)
        source.fit(x, y, **fit)
        other.fit(x, y, **fit)
        what = f"{label[lib]} .keras -> {other_name}, train on ({optimizer})"
        rows.append((name, what, max_diff(source.get_weights(), other.get_weights())))
    # Keras 3.15's legacy .h5 save drops the optimizer from the model's compile config,
    # so that format goes last.
    for suffix in (".keras", ".weights.h5", ".h5"):
        for lib, source, other_lib, other_name in sides:
            path = os.path.join(folder, f"{name}_{lib}{suffix}")
            save(source, path)
            other = load(other_lib, path, name, seed)
            diff = max_diff(source.predict(x, verbose=0), other.predict(x, verbose=0))
            rows.append((name, f"{label[lib]} -> {other_name} {suffix}", diff))
    return rows


def make_fixtures(folder: str, seed: int) -> None:
    """Small Keras-written files for the test suite, plus the inputs and Keras's outputs."""
    os.makedirs(folder, exist_ok=True)
    names = architectures(mlayers, mlayers.Input, mmodels.Model, mmodels.Sequential)
    for i, name in enumerate(names):
        k, x, y, loss = build("keras", name, seed)
        optimizer = ("adam", "sgd", "rmsprop")[i % 3]
        k.compile(optimizer=optimizer, loss=loss)
        k.fit(x, y, batch_size=3, epochs=1, shuffle=False, verbose=0)
        k.save(os.path.join(folder, f"{name}.keras"))
        k.save(os.path.join(folder, f"{name}.h5"))
        k.save_weights(os.path.join(folder, f"{name}.weights.h5"))
        outputs = as_list(k.predict(x, verbose=0))
        arrays = {"x": x, **{f"out{j}": o for j, o in enumerate(outputs)}}
        arrays["iterations"] = np.asarray(int(k.optimizer.iterations.numpy()))
        np.savez(os.path.join(folder, f"{name}.expected.npz"), **arrays)
        print("wrote", name, optimizer)


def nested_structures(L, Input, Model):
    """A model of nested inputs and outputs, compiled with losses, weights and metrics
    nested as its outputs: ``(model, x, y, compile arguments)``, built alike by both."""
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = L.Dense(4, activation="relu", name="h")(L.Concatenate(name="cat")([a, b]))
    y1, y2, y3 = (L.Dense(n, name=f"y{i}")(h) for i, n in ((1, 1), (2, 1), (3, 2)))
    model = Model({"a": a, "more": {"b": b}}, {"pair": (y1, y2), "z": y3})
    rng = np.random.default_rng(0)
    x = {"a": rng.random((6, 3)), "more": {"b": rng.random((6, 2))}}
    y = {"pair": (rng.random((6, 1)), rng.random((6, 1))), "z": rng.random((6, 2))}
    compiled = {
        "loss": {"pair": ("mse", "mae"), "z": "mse"},
        "loss_weights": {"pair": (1.0, 2.0), "z": 0.5},
        "metrics": {"pair": (["mae"], None), "z": ["mse"]},
    }
    return model, x, y, compiled


def make_nested_fixture(folder: str) -> None:
    """nested_structures.keras, trained a step by Keras, with its evaluate logs."""
    model, x, y, compiled = nested_structures(keras.layers, keras.Input, keras.Model)
    model.compile(optimizer="adam", **compiled)
    model.fit(x, y, batch_size=3, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(folder, "nested_structures.keras"))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    out = model.predict(x, verbose=0)
    np.savez(
        os.path.join(folder, "nested_structures.expected.npz"),
        a=x["a"],
        b=x["more"]["b"],
        y1=y["pair"][0],
        y2=y["pair"][1],
        z=y["z"],
        out1=out["pair"][0],
        out2=out["pair"][1],
        out3=out["z"],
        **{f"log:{k}": np.float32(v) for k, v in logs.items()},
    )
    print("wrote nested_structures")


def cross_nested(folder: str) -> list:
    """Nested inputs, outputs, losses and metrics: each library saves ``.keras`` compiled
    and trained a step, the other loads it; their ``evaluate`` logs are compared."""
    rows = []
    for lib, other in (("minicnn", "keras"), ("keras", "minicnn")):
        if lib == "keras":
            model, x, y, compiled = nested_structures(keras.layers, keras.Input, keras.Model)
        else:
            model, x, y, compiled = nested_structures(mlayers, mlayers.Input, mmodels.Model)
        model.compile(optimizer="adam", **compiled)
        model.fit(x, y, batch_size=3, epochs=1, shuffle=False, verbose=0)
        path = os.path.join(folder, f"nested_{lib}.keras")
        model.save(path)
        loaded = (keras.saving.load_model if other == "keras" else mmodels.load_model)(path)
        want = model.evaluate(x, y, verbose=0, return_dict=True)
        got = loaded.evaluate(x, y, verbose=0, return_dict=True)
        if sorted(want) != sorted(got):
            raise AssertionError(f"nested: logs {sorted(got)} differ from {sorted(want)}")
        diff = max(abs(want[k] - got[k]) for k in want)
        rows.append(("nested_structures", f"{lib} -> {other} .keras (evaluate)", diff))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", help="write Keras-made fixture files to this folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    if args.fixtures:
        make_fixtures(args.fixtures, args.seed)
        make_nested_fixture(args.fixtures)
        return 0
    rows = []
    names = list(architectures(mlayers, mlayers.Input, mmodels.Model, mmodels.Sequential))
    with tempfile.TemporaryDirectory() as folder:
        for i, name in enumerate(names):
            rows.extend(cross(name, ("adam", "sgd", "rmsprop")[i % 3], folder, args.seed + i))
        rows.extend(cross_nested(folder))
    width = max(len(r[1]) for r in rows)
    print(f"{'model':24} {'direction':{width}}  max |difference|")
    for name, what, diff in rows:
        print(f"{name:24} {what:{width}}  {diff:.3g}")
    worst = max(r[2] for r in rows)
    print(f"\n{len(rows)} checks over {len(names) + 1} models; largest difference {worst:.3g}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
