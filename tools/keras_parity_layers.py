"""Compare minicnn with real Keras 3 on random configurations.

Not part of ``make test`` (Keras is not a dependency). Run it in an environment that has
Keras 3 and a backend, e.g.::

    python -m venv /tmp/vk && /tmp/vk/bin/pip install torch==2.13.0 keras autograd tqdm
    /tmp/vk/bin/pip install -e . --no-deps
    KERAS_BACKEND=torch /tmp/vk/bin/python tools/keras_parity_layers.py --cases 300

For each random configuration (conv, pooling, Dense and activation layers, and the layers
of the next tutorials: transposed, depthwise and separable convs, BatchNormalization in
both modes, upsampling, padding, cropping, reshaping, Dropout at inference) it checks
that both libraries accept or reject it alike, and when accepted: the output shape, the
forward values, and the gradients of ``sum(out * R)`` with respect to the input and every
trainable weight. It prints one line per mismatch and a summary table.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import autograd
import autograd.numpy as anp
import keras
import numpy as np

import minicnn.layers as mlayers


def random_conv(rng):
    rank = int(rng.integers(1, 3))
    cls = ("Conv1D", "Conv2D")[rank - 1]
    groups = int(rng.choice([1, 1, 2]))
    kwargs = {
        "filters": groups * int(rng.integers(1, 4)),
        "kernel_size": tuple(int(v) for v in rng.integers(1, 6, rank)),
        "padding": str(rng.choice(["valid", "same"] + (["causal"] if rank == 1 else []))),
        "groups": groups,
        "use_bias": bool(rng.random() < 0.8),
        "activation": str(rng.choice(["linear", "relu", "sigmoid", "tanh"])),
    }
    if rng.random() < 0.5:
        kwargs["strides"] = tuple(int(v) for v in rng.integers(1, 4, rank))
    else:
        kwargs["dilation_rate"] = tuple(int(v) for v in rng.integers(1, 4, rank))
    if rng.random() < 0.1:  # sometimes an invalid combination, to compare rejections
        kwargs["strides"] = tuple(int(v) for v in rng.integers(1, 3, rank))
        kwargs["dilation_rate"] = tuple(int(v) for v in rng.integers(1, 3, rank))
    channels = groups * int(rng.integers(1, 3))
    spatial = tuple(int(v) for v in rng.integers(1, 10, rank))
    return cls, kwargs, (int(rng.integers(1, 4)), *spatial, channels)


def random_pool(rng):
    rank = int(rng.integers(1, 3))
    mode = str(rng.choice(["Max", "Average"]))
    cls = f"{mode}Pooling{rank}D"
    kwargs = {
        "pool_size": tuple(int(v) for v in rng.integers(1, 5, rank)),
        "strides": tuple(int(v) for v in rng.integers(1, 4, rank)),
        "padding": str(rng.choice(["valid", "same"])),
    }
    spatial = tuple(int(v) for v in rng.integers(1, 10, rank))
    return cls, kwargs, (int(rng.integers(1, 4)), *spatial, int(rng.integers(1, 3)))


ACTIVATIONS = [
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "softsign",
    "silu",
    "exponential",
]


def random_other(rng):
    """Dense, ReLU, Activation, global pooling and Flatten on random shapes and arguments."""
    kind = str(rng.choice(["Dense", "ReLU", "Activation", "Global", "Flatten"]))
    shape = (int(rng.integers(1, 4)), *(int(v) for v in rng.integers(1, 6, rng.integers(1, 4))))
    if kind == "Dense":
        kwargs = {
            "units": int(rng.integers(1, 5)),
            "use_bias": bool(rng.random() < 0.8),
            "activation": str(rng.choice(ACTIVATIONS)),
        }
        return "Dense", kwargs, shape
    if kind == "ReLU":
        kwargs = {}
        if rng.random() < 0.5:
            kwargs["max_value"] = float(rng.choice([0.5, 1.0, 6.0]))
        if rng.random() < 0.5:
            kwargs["negative_slope"] = float(rng.choice([0.1, 0.3]))
        if rng.random() < 0.5:
            kwargs["threshold"] = float(rng.choice([0.2, 0.5]))
        return "ReLU", kwargs, shape
    if kind == "Activation":
        return "Activation", {"activation": str(rng.choice(ACTIVATIONS))}, shape
    if kind == "Global":
        rank = int(rng.integers(1, 3))
        cls = f"Global{rng.choice(['Max', 'Average'])}Pooling{rank}D"
        spatial = tuple(int(v) for v in rng.integers(1, 6, rank))
        return cls, {"keepdims": bool(rng.random() < 0.3)}, (2, *spatial, 3)
    return "Flatten", {}, shape


def spatial_shape(rng, rank, low=1, high=8, channels=None):
    spatial = tuple(int(v) for v in rng.integers(low, high, rank))
    return (int(rng.integers(1, 4)), *spatial, channels or int(rng.integers(1, 4)))


def random_new(rng):
    """The layers the tutorials after the seed use: ``(class, kwargs, shape, training)``."""
    kind = str(
        rng.choice(
            ["Transpose", "Depthwise", "Separable", "BatchNormalization", "UpSampling",
             "ZeroPadding", "Cropping", "Reshape", "Permute", "Activations", "Dropout"]
        )
    )  # fmt: skip
    rank = int(rng.integers(1, 3))
    ints = lambda lo, hi: tuple(int(v) for v in rng.integers(lo, hi, rank))  # noqa: E731
    if kind == "Transpose":
        kwargs = {
            "filters": int(rng.integers(1, 4)),
            "kernel_size": ints(1, 5),
            "padding": str(rng.choice(["valid", "same"])),
            "use_bias": bool(rng.random() < 0.8),
        }
        if rng.random() < 0.7:
            kwargs["strides"] = ints(1, 4)
            if rng.random() < 0.5:
                kwargs["output_padding"] = tuple(int(rng.integers(0, s)) for s in kwargs["strides"])
        else:
            kwargs["dilation_rate"] = ints(1, 3)
        return f"Conv{rank}DTranspose", kwargs, spatial_shape(rng, rank, 1, 6), False
    if kind in ("Depthwise", "Separable"):
        kwargs = {
            "kernel_size": ints(1, 4),
            "strides": ints(1, 3),
            "dilation_rate": ints(1, 3),
            "padding": str(rng.choice(["valid", "same"])),
            "depth_multiplier": int(rng.integers(1, 3)),
            "use_bias": bool(rng.random() < 0.8),
        }
        if kind == "Separable":
            kwargs["filters"] = int(rng.integers(1, 4))
        return f"{kind}Conv{rank}D", kwargs, spatial_shape(rng, rank, 2, 9), False
    if kind == "BatchNormalization":
        shape = spatial_shape(rng, rank, 1, 5)
        kwargs = {
            "axis": int(rng.choice([-1, 1])),
            "momentum": float(rng.choice([0.99, 0.5])),
            "epsilon": float(rng.choice([1e-3, 0.1])),
            "center": bool(rng.random() < 0.8),
            "scale": bool(rng.random() < 0.8),
        }
        return "BatchNormalization", kwargs, (4, *shape[1:]), bool(rng.random() < 0.5)
    if kind == "UpSampling":
        if rank == 1:
            return "UpSampling1D", {"size": int(rng.integers(1, 4))}, spatial_shape(rng, 1), False
        interpolation = str(rng.choice(["nearest", "bilinear"]))
        kwargs = {"size": ints(1, 4), "interpolation": interpolation}
        return "UpSampling2D", kwargs, spatial_shape(rng, 2), False
    if kind == "ZeroPadding":
        pad = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        padding = pad if rank == 1 else (pad, (int(rng.integers(0, 3)), int(rng.integers(0, 3))))
        return f"ZeroPadding{rank}D", {"padding": padding}, spatial_shape(rng, rank), False
    if kind == "Cropping":
        crop = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        cropping = crop if rank == 1 else (crop, (int(rng.integers(0, 3)), int(rng.integers(0, 3))))
        return f"Cropping{rank}D", {"cropping": cropping}, spatial_shape(rng, rank), False
    if kind == "Reshape":
        shape = spatial_shape(rng, 2, 1, 5)
        size = int(np.prod(shape[1:]))
        target = (-1,) if rng.random() < 0.3 else (shape[2], -1) if rng.random() < 0.5 else (size,)
        if rng.random() < 0.1:
            target = (size + 1,)  # incompatible: both must reject
        return "Reshape", {"target_shape": target}, shape, False
    if kind == "Permute":
        dims = tuple(int(d) + 1 for d in rng.permutation(rank + 1))
        return "Permute", {"dims": dims}, spatial_shape(rng, rank), False
    if kind == "Dropout":
        cls = str(rng.choice(["Dropout", f"SpatialDropout{rank}D"]))
        return cls, {"rate": float(rng.choice([0.0, 0.3, 0.9]))}, spatial_shape(rng, rank), False
    cls = str(rng.choice(["LeakyReLU", "ELU", "Softmax", "PReLU", "Rescaling"]))
    kwargs = {
        "LeakyReLU": {"negative_slope": float(rng.choice([0.0, 0.1, 0.3]))},
        "ELU": {"alpha": float(rng.choice([0.0, 0.5, 1.0]))},
        "Softmax": {"axis": int(rng.choice([-1, 1]))},
        "PReLU": {"shared_axes": None if rng.random() < 0.5 else [1]},
        "Rescaling": {"scale": float(rng.choice([1 / 255, 2.0])), "offset": -1.0},
    }[cls]  # fmt: skip
    return cls, kwargs, spatial_shape(rng, rank), False


def keras_run(cls, kwargs, x, weights, r, training=False):
    import torch

    layer = getattr(keras.layers, cls)(**kwargs)
    layer.build(x.shape)
    if weights:
        layer.set_weights(weights)
    xt = torch.tensor(x, requires_grad=True)
    out = layer(xt, training=training) if training else layer(xt)
    if r is None:
        return out.detach().numpy(), []
    (out * torch.tensor(r)).sum().backward()
    grads = [xt.grad.numpy()] + [v.value.grad.numpy() for v in layer.trainable_variables]
    return out.detach().numpy(), grads


def minicnn_run(cls, kwargs, x, weights, r, training=False):
    layer = getattr(mlayers, cls)(**kwargs)
    layer.build((None, *x.shape[1:]))
    layer.compute_output_shape(x.shape)
    if weights:
        layer.set_weights(weights)

    def loss(args):
        return anp.sum(layer.apply(args[1:], args[0], training=training) * r)

    out = np.asarray(layer.apply(layer.get_weights(), x, training=training))
    if r is None:
        return out, []
    grads = autograd.grad(loss)([x, *layer.get_weights()])
    trainable = [g for g, t in zip(grads[1:], layer.weight_trainable, strict=True) if t]
    return out, [grads[0], *trainable]


def outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs), None
    except Exception as err:  # noqa: BLE001 - recording which side rejects what
        return None, err


def compare(cls, kwargs, shape, rng, training=False) -> tuple[str, str]:
    """One configuration through both libraries: ``(verdict, detail)``."""
    x = rng.normal(size=shape).astype(np.float32)
    _, err = outcome(getattr(mlayers, cls), **kwargs)
    klayer, kerr = outcome(getattr(keras.layers, cls), **kwargs)
    weights = []
    if kerr is None:
        _, kerr = outcome(klayer.build, shape)
    if kerr is None:
        weights = [rng.normal(size=w.shape).astype(np.float32) for w in klayer.weights]
        if cls == "BatchNormalization":  # a positive moving variance
            weights[-1] = np.abs(weights[-1]) + 0.1
        out, kerr = outcome(keras_run, cls, kwargs, x, weights, None, training)
        # Keras returning an empty map is a rejection in spirit: minicnn refuses to make one.
        if kerr is None and out[0].size == 0:
            kerr = ValueError("empty output")
    mine = None
    if err is None:
        mine, err = outcome(minicnn_run, cls, kwargs, x, weights, None, training)
    if (err is None) != (kerr is None):
        return "mismatch", f"ACCEPT/REJECT {cls}{kwargs} x{shape}: minicnn={err!r} keras={kerr!r}"
    if err is not None:
        return "both reject", ""
    r = rng.normal(size=mine[0].shape).astype(np.float32)
    theirs, kerr = outcome(keras_run, cls, kwargs, x, weights, r, training)
    if kerr is not None:  # Keras computed the output but its backend failed on the gradient
        return "keras gradient error", f"KERAS GRADIENT ERROR {cls}{kwargs} x{shape}: {kerr!r}"
    mine = minicnn_run(cls, kwargs, x, weights, r, training)
    same_shape = mine[0].shape == theirs[0].shape
    ok = same_shape and np.allclose(mine[0], theirs[0], rtol=1e-5, atol=1e-5)
    ok = ok and all(
        g.shape == k.shape and np.allclose(g, k, rtol=1e-4, atol=1e-4)
        for g, k in zip(mine[1], theirs[1], strict=True)
    )
    if ok:
        return "both accept, equal", ""
    diff = np.max(np.abs(mine[0] - theirs[0])) if same_shape else "n/a"
    return (
        "mismatch",
        f"VALUES {cls}{kwargs} x{shape}: shapes {mine[0].shape} vs "
        f"{theirs[0].shape}, largest output difference {diff}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stats = {"both accept, equal": 0, "both reject": 0, "mismatch": 0, "keras gradient error": 0}
    for case in range(args.cases):
        if case % 2:
            cls, kwargs, shape, training = random_new(rng)
            verdict, detail = compare(cls, kwargs, shape, rng, training)
        else:
            make = (random_pool, random_conv, random_conv, random_other)[case // 2 % 4]
            verdict, detail = compare(*make(rng), rng)
        stats[verdict] += 1
        if detail:
            print(detail)
    print(f"\nkeras {keras.__version__} ({keras.backend.backend()}), {args.cases} cases")
    for key, n in stats.items():
        print(f"  {key:<20} {n}")
    return 1 if stats["mismatch"] else 0


if __name__ == "__main__":
    sys.exit(main())
