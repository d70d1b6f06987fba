"""Train the same models in Keras 3 and in minicnn, from the same weights on the same batches.

Needs keras and a backend in the Python running it (not a minicnn dependency), e.g.
    pip install keras jax && KERAS_BACKEND=jax python benchmarks/keras_parity.py
``--random N`` adds N random small conv nets, losses, optimizers and batch sizes. For each
case: the largest relative difference between the two Histories, between the
final weights (relative to the largest weight; BatchNormalization's moving statistics
included), and between ``evaluate`` results, after several epochs with
``shuffle=False``, a partial last batch and a validation split (random cases also weigh
the loss by ``sample_weight`` or ``class_weight``). Differences of a few
float32 ulps (~1e-7 relative) come from the order of summations inside the backends.
"""

import argparse
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
try:
    import keras
except ImportError:
    sys.exit("keras is not installed; see this script's docstring")

from minicnn import datasets, losses  # noqa: E402
from minicnn import layers as mlayers  # noqa: E402
from minicnn import optimizers as moptimizers  # noqa: E402
from minicnn.models import Sequential  # noqa: E402

CONV = [
    ("Conv2D", {"filters": 3, "kernel_size": (3, 3), "activation": "relu"}),
    ("MaxPooling2D", {"pool_size": 2}),
    ("Flatten", {}),
]
DENSE = [("Dense", {"units": 5, "activation": "tanh"})]
CONV1D = [
    ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"}),
    ("GlobalAveragePooling1D", {}),
]
# The layers of the tutorials after the seed; BatchNormalization's moving statistics are
# among the weights compared.
# A conv feeding BatchNormalization has no bias (the usual practice): its gradient is
# exactly zero there, and Adam or RMSprop would turn the float32 rounding noise of that
# zero into full-size steps, different in each library.
BATCHNORM = [
    ("Conv2D", {"filters": 3, "kernel_size": (3, 3), "use_bias": False}),
    ("BatchNormalization", {}),
    ("ReLU", {}),
    ("MaxPooling2D", {"pool_size": 2}),
    ("Flatten", {}),
]
UPSAMPLE = [
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "use_bias": False}),
    ("BatchNormalization", {"momentum": 0.9}),
    ("UpSampling2D", {"interpolation": "bilinear"}),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "activation": "elu"}),
    ("GlobalAveragePooling2D", {}),
]
SEPARABLE = [
    ("ZeroPadding2D", {"padding": 1}),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3, "depth_multiplier": 2}),
    ("DepthwiseConv2D", {"kernel_size": 2, "strides": 2}),
    ("PReLU", {}),
    ("Cropping2D", {"cropping": ((1, 0), (0, 1))}),
    ("Flatten", {}),
]
SEQUENCE = [
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "use_bias": False}),
    ("BatchNormalization", {"momentum": 0.5, "center": False}),
    ("LeakyReLU", {}),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2}),
    ("Reshape", {"target_shape": (-1,)}),
    ("Rescaling", {"scale": 0.5}),
]
# (body, input shape, units, activation, loss, from_logits, optimizer, its arguments)
CASES = [
    (DENSE, (4,), 1, None, "mse", False, "SGD", {"learning_rate": 0.05}),
    (DENSE, (4,), 2, None, "mae", False, "SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    (DENSE, (4,), 2, None, "mse", False, "SGD", {"momentum": 0.9, "nesterov": True}),
    (DENSE, (4,), 1, "sigmoid", "binary_crossentropy", False, "Adam", {"learning_rate": 0.01}),
    (DENSE, (4,), 1, None, "BinaryCrossentropy", True, "SGD", {"learning_rate": 0.1}),
    (CONV, (8, 8, 1), 2, None, "mse", False, "RMSprop", {"learning_rate": 0.01}),
    (CONV, (8, 8, 1), 3, "softmax", "categorical_crossentropy", False, "Adam", {}),
    (CONV, (8, 8, 1), 3, None, "CategoricalCrossentropy", True, "Adam", {"amsgrad": True}),
    (CONV, (8, 8, 1), 3, "softmax", "sparse_categorical_crossentropy", False, "RMSprop", {}),
    (
        CONV,
        (8, 8, 1),
        3,
        "softmax",
        "sparse_categorical_crossentropy",
        False,
        "RMSprop",
        {"learning_rate": 0.001, "momentum": 0.5, "centered": True},
    ),
    (CONV1D, (12, 1), 1, "sigmoid", "binary_crossentropy", False, "Adam", {}),
    (BATCHNORM, (8, 8, 2), 3, "softmax", "categorical_crossentropy", False, "Adam", {}),
    (BATCHNORM, (8, 8, 1), 2, None, "mse", False, "SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    (UPSAMPLE, (4, 4, 1), 2, None, "mse", False, "RMSprop", {"learning_rate": 0.01}),
    (SEPARABLE, (6, 6, 2), 3, "softmax", "sparse_categorical_crossentropy", False, "Adam", {}),
    (SEQUENCE, (10, 2), 1, "sigmoid", "binary_crossentropy", False, "SGD", {"learning_rate": 0.1}),
]


def relative(a, b) -> float:
    """Largest difference relative to the largest magnitude (so near-zero entries of an
    array are not judged on their own scale)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def flat_relative(ours, theirs) -> float:
    """``relative`` over all weights at once: a conv bias feeding BatchNormalization gets
    an (exactly) zero gradient, so it stays at its initial zeros plus float32 rounding
    noise, which judged on its own ~1e-8 scale would look like a 100% difference."""
    flat = lambda ws: np.concatenate([np.ravel(w) for w in ws])  # noqa: E731
    return relative(flat(ours), flat(theirs))


def targets(rng, loss, units, n):
    loss = loss.lower()
    if "sparse" in loss:
        return rng.integers(0, units, size=n)
    if "ategorical" in loss:
        return np.eye(units, dtype="float32")[rng.integers(0, units, size=n)]
    if "inary" in loss:
        return rng.integers(0, 2, size=n).astype("float32")  # rank 1 against (n, 1) outputs
    return rng.normal(size=(n, units)).astype("float32")


def pair(body, shape, units, activation):
    spec = [*body, ("Dense", {"units": units, "activation": activation})]
    k = keras.Sequential([keras.Input(shape)] + [getattr(keras.layers, c)(**a) for c, a in spec])
    m = Sequential([mlayers.Input(shape)] + [getattr(mlayers, c)(**a) for c, a in spec])
    m.set_weights(k.get_weights())
    return k, m


LOSS_CLASSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


def random_case(rng):
    """A random small conv net, loss, optimizer and fit setting, as ``CASES`` holds them,
    plus the fit arguments."""
    rank = int(rng.integers(1, 3))
    shape = (*(int(v) for v in rng.integers(6, 11, rank)), int(rng.integers(1, 3)))
    conv = {
        "filters": int(rng.integers(1, 4)),
        "kernel_size": int(rng.integers(2, 4)),
        "padding": str(rng.choice(["valid", "same"])),
        "activation": str(rng.choice(["relu", "tanh", "linear", "sigmoid"])),
        "strides": int(rng.choice([1, 2])),
    }
    body = [(f"Conv{rank}D", conv)]
    if rng.random() < 0.4:
        momentum = float(rng.choice([0.99, 0.9, 0.5]))
        body.append(("BatchNormalization", {"momentum": momentum}))
        conv["use_bias"] = False  # see BATCHNORM
    if rng.random() < 0.5:
        body.append((f"{rng.choice(['Max', 'Average'])}Pooling{rank}D", {"pool_size": 2}))
    pooling = [f"GlobalMaxPooling{rank}D", f"GlobalAveragePooling{rank}D", "Flatten"]
    body.append((str(rng.choice(pooling)), {}))
    loss = str(rng.choice(["mse", "mae", *LOSS_CLASSES]))
    logits = "entropy" in loss and bool(rng.random() < 0.3)
    units = 1 if loss == "binary_crossentropy" else int(rng.integers(2, 4))
    activation = None
    if not logits and "entropy" in loss:
        activation = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    optimizer = str(rng.choice(["SGD", "Adam", "RMSprop"]))
    kwargs = {
        "SGD": {
            "learning_rate": float(rng.choice([0.01, 0.05])),
            "momentum": float(rng.choice([0.0, 0.9])),
            "nesterov": bool(rng.random() < 0.5),
        },
        "Adam": {
            "learning_rate": float(rng.choice([0.001, 0.01])),
            "amsgrad": bool(rng.random() < 0.3),
        },
        "RMSprop": {
            "learning_rate": float(rng.choice([0.001, 0.01])),
            "momentum": float(rng.choice([0.0, 0.5])),
            "centered": bool(rng.random() < 0.3),
        },
    }[optimizer]
    if logits:
        loss = LOSS_CLASSES[loss]
    fit = {
        "batch_size": int(rng.integers(4, 16)),
        "epochs": 4,
        "shuffle": False,
        "validation_split": float(rng.choice([0.0, 0.25])),
        # The loss weighted per sample, or per class for classification losses.
        "weighting": str(
            rng.choice(
                ["none", "sample", "class"]
                if units > 1 or "entropy" in loss
                else ["none", "sample"]
            )
        ),
    }
    return (body, shape, units, activation, loss, logits, optimizer, kwargs), fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=0, help="also this many random cases")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    keras.utils.set_random_seed(1)
    print(f"keras {keras.__version__} ({keras.backend.backend()} backend)")
    print(f"{'loss':34} {'optimizer':48} {'history':>8} {'weights':>8} {'evaluate':>8}")
    fixed = {"batch_size": 7, "epochs": 6, "shuffle": False, "validation_split": 0.2}
    cases = [(case, fixed) for case in CASES]
    cases += [random_case(rng) for _ in range(args.random)]
    for (body, shape, units, activation, loss, logits, optimizer, kwargs), fit in cases:
        n = 50
        x = rng.normal(size=(n, *shape)).astype("float32")
        y = targets(rng, loss, units, n)
        k, m = pair(body, shape, units, activation)
        fit = dict(fit)
        weighting = fit.pop("weighting", "none")
        if weighting == "sample":
            fit["sample_weight"] = rng.uniform(0.0, 2.0, n).astype("float32")
        elif weighting == "class" and "entropy" in loss:
            fit["class_weight"] = {c: float(rng.uniform(0.2, 3.0)) for c in range(max(units, 2))}
        else:
            weighting = "none"
        k_loss = getattr(keras.losses, loss)(from_logits=True) if logits else loss
        m_loss = getattr(losses, loss)(from_logits=True) if logits else loss
        metrics = ["accuracy"] if "entropy" in loss else ["mae"]
        k.compile(getattr(keras.optimizers, optimizer)(**kwargs), k_loss, metrics=metrics)
        m.compile(getattr(moptimizers, optimizer)(**kwargs), m_loss, metrics=metrics)
        try:
            k_history = k.fit(x, y, verbose=0, **fit).history
        except RuntimeError as err:  # Keras's torch backend fails some conv gradients
            print(f"{loss:34} {optimizer:48} keras failed: {err}")
            continue
        m_history = m.fit(x, y, verbose=0, **fit).history
        assert list(k_history) == list(m_history), (list(k_history), list(m_history))
        history = max(relative(m_history[key], k_history[key]) for key in k_history)
        weights = flat_relative(m.get_weights(), k.get_weights())
        evaluation = relative(m.evaluate(x, y, verbose=0), k.evaluate(x, y, verbose=0))
        assert int(k.optimizer.iterations) == m.optimizer.iterations
        name = f"{loss}{' (logits)' if logits else ''}"
        name += {"none": "", "sample": " +sample_weight", "class": " +class_weight"}[weighting]
        settings = optimizer + str(kwargs)
        print(f"{name:34} {settings:48} {history:8.1e} {weights:8.1e} {evaluation:8.1e}")

    # The demo's setting: a Conv2D trained to reproduce handcrafted feature maps.
    x, y = datasets.feature_map_pairs(100, seed=0)
    k = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, (3, 3))])
    m = Sequential([mlayers.Conv2D(1, (3, 3), input_shape=(8, 8, 1))])
    m.set_weights(k.get_weights())
    k.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    m.compile(moptimizers.SGD(0.05, momentum=0.9), "mse")
    fit = {"batch_size": 32, "epochs": 5, "shuffle": False, "verbose": 0}
    history = relative(m.fit(x, y, **fit).history["loss"], k.fit(x, y, **fit).history["loss"])
    weights = flat_relative(m.get_weights(), k.get_weights())
    print(
        f"{'mse, Conv2D -> feature maps':34} {'SGD momentum 0.9':48} {history:8.1e} {weights:8.1e}"
    )


if __name__ == "__main__":
    main()
