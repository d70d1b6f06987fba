"""Build the same functional models in Keras 3 and in minicnn and compare them.

Not part of ``make test`` (Keras is not a dependency); run it where Keras and a backend
are installed (see tools/README.md)::

    KERAS_BACKEND=torch python tools/keras_parity_functional.py --random 40

Each model is written once, against a module pair ``(api, layers)`` that is either
``keras, keras.layers`` or ``minicnn, minicnn.layers``: a VGG block, a naive and a
projected Inception module, ResNet identity and projection blocks (the blocks of the
"How to Develop VGG, Inception and ResNet Modules" tutorial, shrunk), a two-input model,
a shared layer (a Dense, and a BatchNormalization in training), nested models (a
functional block called twice and a Sequential head; a model of a dict of inputs and
two outputs, both used), and ``--random`` random DAGs of
convs and merges. For each: layer names in order, the config's graph (every layer's
``inbound_nodes`` and the ``input_layers``/``output_layers`` references, layers named by
position), weight shapes in ``get_weights()`` order, outputs for the same weights and
inputs, the gradients of ``sum(out * R)`` with respect to every weight, and a short
training run's History (every key, per-output losses included; several outputs get a
loss each and random ``loss_weights``) and the weights it leaves (moving statistics
included).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import autograd
import keras
import numpy as np

import minicnn
import minicnn.layers as mlayers
from minicnn.models import Model as MModel


def vgg_block(api, L):
    x = api.Input((12, 12, 3))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Conv2D(4, 3, padding="same", activation="relu")(h)
    return x, L.MaxPooling2D(2)(h)


def naive_inception(api, L):
    x = api.Input((10, 10, 3))
    a = L.Conv2D(2, 1, padding="same", activation="relu")(x)
    b = L.Conv2D(3, 3, padding="same", activation="relu")(x)
    c = L.Conv2D(2, 5, padding="same", activation="relu")(x)
    d = L.MaxPooling2D(3, strides=1, padding="same")(x)
    return x, L.concatenate([a, b, c, d], axis=-1)


def inception(api, L):
    x = api.Input((10, 10, 3))
    a = L.Conv2D(2, 1, padding="same", activation="relu")(x)
    b = L.Conv2D(3, 3, padding="same", activation="relu")(L.Conv2D(2, 1, activation="relu")(x))
    c = L.Conv2D(2, 5, padding="same", activation="relu")(L.Conv2D(1, 1, activation="relu")(x))
    d = L.Conv2D(2, 1, activation="relu")(L.MaxPooling2D(3, strides=1, padding="same")(x))
    return x, L.concatenate([a, b, c, d])


def residual_identity(api, L):
    x = api.Input((8, 8, 4))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Conv2D(4, 3, padding="same")(h)
    return x, L.Activation("relu")(L.add([h, x]))


def residual_projection(api, L):
    x = api.Input((8, 8, 2))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.BatchNormalization()(L.Conv2D(4, 3, padding="same", use_bias=False)(h))
    skip = L.Conv2D(4, 1, use_bias=False)(x)
    out = L.Activation("relu")(L.add([h, skip]))
    return x, L.Dense(2)(L.GlobalAveragePooling2D()(out))


def two_inputs(api, L):
    a, b = api.Input((6, 6, 1)), api.Input((5,))
    h = L.Flatten()(L.Conv2D(2, 3)(a))
    j = L.concatenate([h, L.Dense(3, activation="tanh")(b)])
    return [a, b], [L.Dense(2)(j), L.Dense(1, activation="sigmoid")(j)]


def shared(api, L):
    a, b = api.Input((4,)), api.Input((4,))
    dense = L.Dense(3, activation="tanh")
    return [a, b], L.subtract([dense(a), dense(b)])


def shared_batchnorm(api, L):
    # One BatchNormalization called twice: in training the second call reads the moving
    # statistics the first call left.
    a, b = api.Input((5, 5, 2)), api.Input((5, 5, 2))
    bn = L.BatchNormalization(momentum=0.5)
    joined = L.concatenate([bn(L.Conv2D(2, 3)(a)), bn(L.Conv2D(2, 1, strides=2)(b))], axis=1)
    return [a, b], L.Dense(1)(L.Flatten()(joined))


def nested(api, L):
    # A functional residual block (with BatchNormalization) used twice, then a
    # Sequential head: models as layers of a model.
    inner = api.Input((6, 6, 2))
    h = L.BatchNormalization()(L.Conv2D(2, 3, padding="same", activation="relu")(inner))
    block = api.Model(inner, L.add([h, inner]), name="block")
    head = api.Sequential([L.GlobalAveragePooling2D(), L.Dense(2)], name="head")
    x = api.Input((6, 6, 2))
    return x, head(block(L.Conv2D(2, 1)(block(x))))


def nested_outputs(api, L):
    # A nested model of a dict of two inputs and a list of two outputs, both used.
    a, b = api.Input((5, 5, 2), name="a"), api.Input((5, 5, 2), name="b")
    h = L.Conv2D(2, 3, padding="same", activation="tanh")(a)
    pair = api.Model({"a": a, "b": b}, [h, L.add([h, L.Conv2D(2, 1)(b)])], name="pair")
    x, y = api.Input((5, 5, 2)), api.Input((5, 5, 2))
    o1, o2 = pair({"a": x, "b": L.Conv2D(2, 3, padding="same")(y)})
    return [x, y], [L.Dense(2)(L.Flatten()(L.concatenate([o1, o2]))), o2]


def random_dag(seed):
    """A random DAG of same-padded convs, merges and poolings over (8, 8, 2) inputs."""

    def build(api, L):
        rng = np.random.default_rng(seed)
        x = api.Input((8, 8, 2))
        tensors = [x]
        for _ in range(int(rng.integers(2, 6))):
            kind = rng.choice(["conv", "conv", "add", "concat", "pool"])
            src = tensors[int(rng.integers(len(tensors)))]
            if kind == "conv":
                act = str(rng.choice(["relu", "tanh", "linear"]))
                k = int(rng.integers(1, 4))
                tensors.append(L.Conv2D(2, k, padding="same", activation=act)(src))
            elif kind == "pool":
                tensors.append(L.MaxPooling2D(3, strides=1, padding="same")(src))
            else:
                other = tensors[int(rng.integers(len(tensors)))]
                merge = L.add if kind == "add" else L.concatenate
                joined = merge([src, other])
                tensors.append(L.Conv2D(2, 1)(joined) if kind == "concat" else joined)
        return x, L.Dense(2)(L.GlobalAveragePooling2D()(tensors[-1]))

    return build


def topology(config):
    """A functional config's graph with layers named by position (the two libraries
    number automatic names differently): per layer, its nodes' tensor references, then
    ``input_layers`` and ``output_layers``."""
    index = {entry["name"]: i for i, entry in enumerate(config["layers"])}

    def refs(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, node, tensor = value["config"]["keras_history"]
            return (index[name], node, tensor)
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            return (index[value[0]], value[1], value[2])
        if isinstance(value, dict):
            return {key: refs(v) for key, v in value.items()}
        return [refs(v) for v in value]

    nodes = [[refs(node["args"]) for node in e["inbound_nodes"]] for e in config["layers"]]
    return nodes, refs(config["input_layers"]), refs(config["output_layers"])


def flat(v):
    return v if isinstance(v, list) else [v]


def compare(name, build, rng):
    kin, kout = build(keras, keras.layers)
    k = keras.Model(kin, kout)
    min_, mout = build(minicnn, mlayers)
    m = MModel(min_, mout)
    # Keras's functional models are of class Functional, minicnn's of class Model.
    kinds = [type(a).__name__.replace("Functional", "Model") for a in k.layers]
    assert kinds == [type(a).__name__ for a in m.layers], name
    assert topology(k.get_config()) == topology(m.get_config()), name
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in k.get_weights()]
    if any("moving_variance" in w.path for w in k.weights):
        for i, w in enumerate(k.weights):
            if "moving_variance" in w.path:
                weights[i] = np.abs(weights[i]) + 0.5
    k.set_weights(weights)
    m.set_weights(weights)
    xs = [rng.normal(size=(3, *t.shape[1:])).astype(np.float32) for t in flat(kin)]
    x_in = xs if isinstance(kin, list) else xs[0]
    ko = flat(k.predict(x_in, verbose=0))
    mo = flat(m.predict(x_in))
    out = max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6)) for a, b in zip(mo, ko))
    grads = gradient_difference(k, m, weights, x_in, [rng.normal(size=o.shape) for o in ko])
    ys = [rng.normal(size=o.shape).astype(np.float32) for o in ko]
    several = isinstance(kout, list)
    weights = [float(w) for w in rng.uniform(0.5, 2.0, len(ys))]
    for model in (k, m):
        # Small steps: the weights are N(0, 1), and larger steps diverge within a few
        # batches, where float32 rounding is amplified rather than compared.
        optimizer = (keras.optimizers if model is k else minicnn.optimizers).SGD(1e-4)
        if several:  # one loss per output and their weights, as Keras names them
            model.compile(optimizer, ["mse", "mae"][: len(ys)], loss_weights=weights)
        else:
            model.compile(optimizer, "mse")
    fit = {"epochs": 3, "batch_size": 2, "shuffle": False, "verbose": 0}
    y_in = ys if several else ys[0]
    kh, mh = k.fit(x_in, y_in, **fit).history, m.fit(x_in, y_in, **fit).history
    assert sorted(kh) == sorted(mh), (sorted(kh), sorted(mh))
    history = max(abs(a - b) / max(abs(b), 1e-12) for key in kh for a, b in zip(mh[key], kh[key]))
    trained = max(
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6))
        for a, b in zip(m.get_weights(), k.get_weights())
    )
    print(
        f"{name:24} {len(m.layers):3d} layers  outputs {out:.1e}  grads {grads:.1e}  "
        f"fit {history:.1e}  weights {trained:.1e}"
    )
    return max(out, grads, history, trained)


def gradient_difference(k, m, weights, x_in, rs):
    import torch

    ws = [torch.tensor(w, requires_grad=True) for w in weights]
    trainable = [i for i, v in enumerate(k.weights) if v.trainable]
    xs = [torch.tensor(x) for x in flat(x_in)]
    outs, _ = k.stateless_call(
        [ws[i] for i in trainable],
        [ws[i] for i in range(len(ws)) if i not in trainable],
        xs if isinstance(x_in, list) else xs[0],
    )
    sum(((o * torch.tensor(r, dtype=o.dtype)).sum() for o, r in zip(flat(outs), rs))).backward()
    theirs = [ws[i].grad.numpy() for i in trainable]

    def loss(w):
        ys = flat(m.apply(w, x_in))
        return sum((y * r).sum() for y, r in zip(ys, rs))

    mine = autograd.grad(loss)([np.asarray(w) for w in weights])
    mine = [mine[i] for i in trainable]
    return max(
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6)) for a, b in zip(mine, theirs)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=20, help="random DAGs to add")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    keras.utils.set_random_seed(args.seed)
    print(f"keras {keras.__version__} ({keras.backend.backend()})")
    cases = [
        ("vgg block", vgg_block),
        ("naive inception", naive_inception),
        ("inception", inception),
        ("residual identity", residual_identity),
        ("residual projection", residual_projection),
        ("two inputs, two outputs", two_inputs),
        ("shared layer", shared),
        ("shared batchnorm", shared_batchnorm),
        ("nested models", nested),
        ("nested dict in, 2 out", nested_outputs),
    ] + [(f"random dag {i}", random_dag(args.seed * 1000 + i)) for i in range(args.random)]
    worst = max(compare(name, build, rng) for name, build in cases)
    print(f"\n{len(cases)} models; largest relative difference {worst:.1e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
