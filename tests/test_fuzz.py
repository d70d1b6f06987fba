"""Hostile and random inputs thrown at the public API.

Each call either works, and then matches an independent reference (outputs against a
float64 computation, shapes against ``compute_output_shape``), or raises ValueError or
TypeError with a message naming the argument: never IndexError, KeyError,
ZeroDivisionError, AssertionError, a raw numpy error, a hang, or a result of the wrong shape.
"""

from __future__ import annotations

import inspect
import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minicnn import layers as L
from minicnn.models import Sequential

# One constructor call per layer class, with non-default arguments where it has any.
EXAMPLES = {
    "InputLayer": lambda: L.InputLayer(shape=(5, 2)),
    "Conv1D": lambda: L.Conv1D(4, 3, strides=2, padding="causal", kernel_initializer="he_normal"),
    "Conv2D": lambda: L.Conv2D(
        4, (2, 3), dilation_rate=2, groups=2, activation="relu", use_bias=False
    ),
    "Conv3D": lambda: L.Conv3D(2, 2, padding="same", bias_initializer="ones"),
    "Dense": lambda: L.Dense(3, activation="softmax", kernel_initializer="lecun_uniform"),
    "Flatten": lambda: L.Flatten(),
    "Activation": lambda: L.Activation("tanh"),
    "ReLU": lambda: L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
    "MaxPooling1D": lambda: L.MaxPooling1D(3, strides=1, padding="same"),
    "MaxPooling2D": lambda: L.MaxPooling2D((2, 3)),
    "AveragePooling1D": lambda: L.AveragePooling1D(2),
    "AveragePooling2D": lambda: L.AveragePooling2D(2, strides=1, padding="same"),
    "GlobalMaxPooling1D": lambda: L.GlobalMaxPooling1D(keepdims=True),
    "GlobalMaxPooling2D": lambda: L.GlobalMaxPooling2D(),
    "GlobalAveragePooling1D": lambda: L.GlobalAveragePooling1D(),
    "GlobalAveragePooling2D": lambda: L.GlobalAveragePooling2D(keepdims=True),
}


def test_every_layer_class_has_an_example():
    assert set(EXAMPLES) == set(L.LAYERS)


@pytest.mark.parametrize("class_name", sorted(EXAMPLES))
def test_every_layer_rebuilds_from_its_json_config(class_name):
    layer = EXAMPLES[class_name]()
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = L.LAYERS[class_name].from_config(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()


# --------------------------------------------------------------------------- constructors

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2, 3, 10**9]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.5, 2.0, -0.0, float("nan"), float("inf")]),
    st.text(max_size=6),
    st.sampled_from(["same", "valid", "causal", "relu", "zeros", "channels_first", "SAME"]),
    st.binary(max_size=4),
    st.lists(st.integers(-3, 5), max_size=4),
    st.tuples(st.integers(-3, 5), st.floats(allow_nan=True)),
    st.lists(st.lists(st.integers(0, 3), max_size=2), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(
        [
            np.int64(2),
            np.float32(2.0),
            np.bool_(True),
            np.array(2),
            np.array([2, 2]),
            np.array([[1]]),
            np.zeros(0),
            object(),
            {"class_name": "Zeros", "config": {}},
            {"class_name": "RandomNormal", "config": {"seed": "x"}},
            {"class_name": "Evil"},
            1j,
            float,
            print,
        ]
    ),
)


def constructor_args(class_name: str) -> list[str]:
    cls = L.LAYERS[class_name]
    own = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    common = ["name", "dtype", "trainable", "input_shape", "input_dim", "batch_input_shape"]
    return own + [c for c in common if c not in own]


def base_kwargs(class_name: str) -> dict:
    required = {"Conv1D": (2, 3), "Conv2D": (2, 3), "Conv3D": (2, 3), "Dense": (3,)}
    params = list(inspect.signature(L.LAYERS[class_name].__init__).parameters)[1:]
    kwargs = dict(zip(params, required.get(class_name, ())))
    if class_name == "Activation":
        kwargs["activation"] = "relu"
    if class_name == "InputLayer":
        kwargs["shape"] = (4, 1)
    return kwargs


def check_constructed(layer) -> None:
    """A layer that was accepted has a config that rebuilds it (via JSON when it is data)."""
    config = layer.get_config()
    try:
        text = json.dumps(config)
    except TypeError:  # a callable activation: only its in-memory config is comparable
        assert type(layer).from_config(config).get_config().keys() == config.keys()
        return
    rebuilt = type(layer).from_config(json.loads(text))
    assert json.loads(json.dumps(rebuilt.get_config())) == json.loads(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), class_name=st.sampled_from(sorted(L.LAYERS)))
def test_layer_constructor_accepts_or_names_the_bad_argument(data, class_name):
    argument = data.draw(st.sampled_from(constructor_args(class_name)), label="argument")
    value = data.draw(JUNK, label="value")
    kwargs = {**base_kwargs(class_name), argument: value}
    if argument == "input_dim":
        kwargs.pop("input_shape", None)
    try:
        layer = L.LAYERS[class_name](**kwargs)
    except (ValueError, TypeError) as err:
        words = {argument, argument.replace("_", " "), "keyword", "number of groups"}
        if argument in ("shape", "batch_input_shape"):
            words |= {"input_shape", "batch_shape"}
        assert any(word in str(err) for word in words), f"{type(err).__name__}: {err}"
        return
    check_constructed(layer)


# Arguments fuzzing found reported with raw numpy/Python errors that did not name them.
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: L.Dense(2, dtype="relu"), "dtype"),
        (lambda: L.Dense(2, dtype=2.0), "dtype"),
        (lambda: L.Flatten(dtype=[0]), "dtype"),
        (lambda: L.Flatten(dtype=True), "dtype"),
        (lambda: L.MaxPooling1D(padding=[]), "padding"),
        (lambda: L.Conv2D(2, 3, padding={"a": 1}), "padding"),
        (lambda: L.Conv1D(2, 3, padding=np.array(2)), "padding"),
        (lambda: L.AveragePooling1D(data_format=np.array([2, 2])), "data_format"),
        (lambda: L.Flatten(data_format=np.zeros(0)), "data_format"),
        (lambda: L.ReLU(max_value=2**70), None),
        (lambda: L.ReLU(threshold=10**400), "threshold"),
        (lambda: L.ReLU(negative_slope=-(10**400)), "negative_slope"),
        (lambda: L.Conv1D(2, (10**400,)), None),
        (lambda: L.MaxPooling2D((2, 10**400)), None),
        (lambda: L.Dense(2, input_dim=True), "input_dim"),
        (lambda: L.Dense(2, input_dim=-3), "input_dim"),
        (lambda: L.Flatten(batch_input_shape=(None, "a")), "batch_input_shape"),
        (lambda: L.InputLayer(shape=(2,), batch_shape=(None, 2)), "batch_shape"),
    ],
)
def test_bad_constructor_argument_found_by_fuzzing_is_named(make, argument):
    if argument is None:  # accepted
        make()
        return
    with pytest.raises((ValueError, TypeError), match=argument):
        make()


@pytest.mark.parametrize(
    "layer, shape",
    [(L.Dense(2**70), (None, 3)), (L.Conv2D(2**40, 2**12), (None, 2**13, 2**13, 2**20))],
)
def test_weight_too_large_for_numpy_is_a_value_error_at_build(layer, shape):
    with pytest.raises(ValueError, match="more elements than an array can hold"):
        layer.build(shape)
    assert not layer.built and layer.weight_names == ()


def test_predict_casts_batch_by_batch_so_uint8_input_is_never_copied_whole():
    # Found by benchmarks/memory_scaling.py: predict cast the whole uint8 input to float32.
    model = Sequential([L.Conv2D(2, 3, input_shape=(16, 16, 1)), L.GlobalMaxPooling2D()])
    x = np.ones((8000, 16, 16, 1), np.uint8)  # 2 MB; 8 MB as float32
    expected = model.predict(x[:32].astype(np.float32), verbose=0)
    tracemalloc.start()
    y = model.predict(x, batch_size=32, verbose=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert y.shape == (8000, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y[-32:], expected)
    assert peak < x.size * 4 / 4, f"peak {peak} bytes"
