"""Keras's own files: ``.keras``, ``.weights.h5`` and legacy ``.h5``, read from fixtures
that real Keras 3.15 wrote (tests/fixtures/keras, made by ``tools/keras_files.py
--fixtures``, with Keras's predictions beside them), written and read back by minicnn, and
refused when hostile. ``tools/keras_files.py`` checks the other direction (Keras loading
minicnn's files) where Keras is installed."""

from __future__ import annotations

import builtins
import io
import json
import pathlib
import zipfile

import h5py
import numpy as np
import pytest

from minicnn.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from minicnn.models import Model, Sequential, load_model

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "keras"
NAMES = [
    "conv2d_stack",
    "conv1d_stack",
    "dense_and_activations",
    "conv3d",
    "merges",
    "shared_residual",
    "nested",  # a functional model holding a Sequential and a functional model
    "nested_outputs",  # a nested model of a dict of inputs and two outputs
]


def expected(name):
    data = np.load(FIXTURES / f"{name}.expected.npz")
    outs = [data[k] for k in sorted(k for k in data.files if k.startswith("out"))]
    return data["x"], outs, int(data["iterations"])


def as_list(v):
    return v if isinstance(v, list) else [v]


# --------------------------------------------------------------------------- from Keras
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_models_written_by_keras_predict_what_keras_predicted(name, suffix):
    x, outs, iterations = expected(name)
    model = load_model(FIXTURES / f"{name}{suffix}")
    for mine, keras_out in zip(as_list(model.predict(x, verbose=0)), outs):
        np.testing.assert_allclose(mine, keras_out, rtol=1e-5, atol=1e-6)
    # Compiled as saved, with the optimizer's state (two steps of batch 3 on 6 samples).
    assert model.compiled and model.optimizer.iterations == iterations == 2
    slots = len(model.optimizer.active_slots()) * len(model.trainable_indices())
    assert len(model.optimizer.slot_arrays) == slots


@pytest.mark.parametrize("name", NAMES)
def test_weights_written_by_keras_load_into_the_same_architecture(name):
    x, outs, _ = expected(name)
    model = load_model(FIXTURES / f"{name}.keras", compile=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    for mine, keras_out in zip(as_list(model.predict(x, verbose=0)), outs):
        np.testing.assert_allclose(mine, keras_out, rtol=1e-5, atol=1e-6)


def test_keras_optimizer_slots_are_mapped_to_minicnn_order():
    # Keras keeps Adam's momentum and velocity per weight side by side; minicnn slot by
    # slot. The file's momentum for the first kernel must land in minicnn's first slot.
    with h5py.File(FIXTURES / "conv2d_stack.weights.h5") as f:
        assert "optimizer" in f  # Keras's weights files hold the optimizer too
    archive = zipfile.ZipFile(FIXTURES / "conv2d_stack.keras")
    with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as f:
        momentum_kernel0 = f["optimizer/vars/2"][()]
        velocity_kernel0 = f["optimizer/vars/3"][()]
    model = load_model(FIXTURES / "conv2d_stack.keras")
    n = len(model.trainable_indices())
    np.testing.assert_array_equal(model.optimizer.slot_arrays[0], momentum_kernel0)
    np.testing.assert_array_equal(model.optimizer.slot_arrays[n], velocity_kernel0)
    assert not np.all(velocity_kernel0 == 0)


def test_loading_does_not_touch_the_global_random_state():
    from minicnn.utils import rng

    before = rng().bit_generator.state
    load_model(FIXTURES / "merges.keras")
    assert rng().bit_generator.state == before


# --------------------------------------------------------------------------- round trips
def small_model():
    model = Sequential(
        [
            Input((6, 6, 1)),
            Conv2D(2, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 6, 6, 1)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]
    return x, y


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_train_save_load_train_equals_training_straight_through(tmp_path, suffix):
    x, y = data()
    straight, resumed = small_model(), small_model()
    resumed.set_weights(straight.get_weights())
    straight.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    resumed.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    resumed.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.optimizer.iterations == straight.optimizer.iterations == 4


def test_dot_keras_file_has_keras_layout(tmp_path):
    model = small_model()
    model.save(tmp_path / "m.keras")
    archive = zipfile.ZipFile(tmp_path / "m.keras")
    assert set(archive.namelist()) == {"metadata.json", "config.json", "model.weights.h5"}
    config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    layers = config["config"]["layers"]
    assert [e["class_name"] for e in layers] == [
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    assert layers[0]["config"]["batch_shape"] == [None, 6, 6, 1]
    assert layers[1]["module"] == "keras.layers"
    assert layers[1]["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    with h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as f:
        assert f["layers/conv2d/vars/0"].shape == (3, 3, 1, 2)
        assert f["layers/dense/vars/1"].shape == (2,)
        assert f["layers/conv2d/vars"].attrs["name"] == model.layers[0].name
        # iteration, learning rate, then (m, v) per trainable weight: 2 + 2 * 4
        assert len(f["optimizer/vars"]) == 10


def test_weights_h5_matches_by_structure_not_names(tmp_path):
    a, b = small_model(), small_model()  # b's layers are conv2d_1, dense_1...
    assert a.layers[0].name != b.layers[0].name
    a.save_weights(tmp_path / "a.weights.h5")
    b.load_weights(tmp_path / "a.weights.h5")
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_functional_model_round_trips_through_dot_keras(tmp_path):
    inputs = Input((4,))
    left, right = Dense(3)(inputs), Dense(3, activation="relu")(inputs)
    from minicnn.layers import Add

    model = Model(inputs, [Add()([left, right]), Dense(1)(right)])
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    model.save(tmp_path / "f.keras")
    loaded = load_model(tmp_path / "f.keras")
    for p, q in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(p, q)
    assert loaded.get_compile_config()["loss_weights"] == [1.0, 0.5]


# --------------------------------------------------------------------------- refusals
def keras_members(name="conv2d_stack") -> dict:
    archive = zipfile.ZipFile(FIXTURES / f"{name}.keras")
    return {n: archive.read(n) for n in archive.namelist()}


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)


def edited_config(edit) -> dict:
    members = keras_members()
    config = json.loads(members["config.json"])
    edit(config)
    return {**members, "config.json": json.dumps(config).encode()}


def refused(path, *words):
    with pytest.raises(ValueError) as info:
        load_model(path)
    for word in words:
        assert word in str(info.value)


def first_conv(config):
    return config["config"]["layers"][1]


def test_lambda_layer_is_refused(tmp_path):
    def edit(c):
        first_conv(c).update(class_name="Lambda", config={"function": "exec"})

    write_zip(tmp_path / "m.keras", edited_config(edit))
    refused(tmp_path / "m.keras", "Lambda", "never runs code")


def test_module_outside_keras_is_refused(tmp_path):
    write_zip(tmp_path / "m.keras", edited_config(lambda c: first_conv(c).update(module="os")))
    refused(tmp_path / "m.keras", "module 'os'", "outside Keras")


def test_custom_registered_object_is_refused(tmp_path):
    def edit(c):
        first_conv(c)["registered_name"] = "my_package>Conv2D"

    write_zip(tmp_path / "m.keras", edited_config(edit))
    refused(tmp_path / "m.keras", "my_package>Conv2D")


def test_unknown_class_is_refused(tmp_path):
    write_zip(
        tmp_path / "m.keras", edited_config(lambda c: first_conv(c).update(class_name="LSTM"))
    )
    refused(tmp_path / "m.keras", "unknown class_name 'LSTM'")


def test_unsupported_option_is_refused_by_name(tmp_path):
    def edit(c):
        first_conv(c)["config"]["kernel_regularizer"] = {"class_name": "L2", "config": {}}

    write_zip(tmp_path / "m.keras", edited_config(edit))
    refused(tmp_path / "m.keras", "kernel_regularizer")


def test_deeply_nested_json_is_refused(tmp_path):
    members = keras_members()
    members["config.json"] = b"[" * 100_000 + b"]" * 100_000
    write_zip(tmp_path / "m.keras", members)
    refused(tmp_path / "m.keras", "m.keras")


def test_truncated_file_is_refused(tmp_path):
    raw = (FIXTURES / "conv2d_stack.keras").read_bytes()
    (tmp_path / "m.keras").write_bytes(raw[: len(raw) // 2])
    refused(tmp_path / "m.keras", "damaged")


def test_pickled_npz_weights_member_is_refused(tmp_path):
    members = keras_members()
    del members["model.weights.h5"]
    members["model.weights.npz"] = b"PK"
    write_zip(tmp_path / "m.keras", members)
    refused(tmp_path / "m.keras", "never unpickles")


def test_missing_or_misshaped_weights_are_refused(tmp_path):
    for edit, word in [
        (lambda f: f.__delitem__("layers/conv2d/vars/1"), "expects 2 weights"),
        (
            lambda f: (
                f.__delitem__("layers/dense/vars/0"),
                f.create_dataset("layers/dense/vars/0", data=np.zeros((5, 3), "f4")),
            ),
            "has shape (5, 3)",
        ),
        (lambda f: f.create_group("layers/conv2d_9/vars"), "does not have"),
    ]:
        members = keras_members()
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "a") as f:
            edit(f)
        members["model.weights.h5"] = buffer.getvalue()
        write_zip(tmp_path / "m.keras", members)
        refused(tmp_path / "m.keras", word)


def hostile_weights(tmp_path, edit) -> pathlib.Path:
    model = small_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


@pytest.mark.parametrize(
    "edit, word",
    [
        (lambda f: f.__setitem__("layers/x", h5py.ExternalLink("/etc/passwd", "/")), "link"),
        (lambda f: f.__setitem__("layers/y", h5py.SoftLink("/layers/conv2d")), "link"),
        (
            lambda f: f.create_dataset("layers/z/vars/0", data=np.zeros(1000), compression="gzip"),
            "filtered",
        ),
        (lambda f: f.create_dataset("layers/z/vars/0", shape=(10**6, 10**6), dtype="f4"), "claims"),
        (lambda f: f.create_dataset("layers/z/vars/0", data=np.array([b"a"])), "dtype"),
    ],
)
def test_hostile_hdf5_is_refused_and_model_untouched(tmp_path, edit, word):
    path = hostile_weights(tmp_path, edit)
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=word):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"minicnn\[h5\]"):
        small_model().save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".minicnn"])
def test_nested_models_round_trip(tmp_path, suffix):
    inner = Sequential([Input((3,)), Dense(2, activation="relu")])
    a = Input((2,))
    head = Model(a, Dense(2)(a))
    x = Input((3,))
    outer = Model(x, Dense(1)(head(inner(x))))
    outer.compile(optimizer="adam", loss="mse")
    data = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
    outer.fit(data, data[:, :1], batch_size=3, verbose=0)
    outer.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "InputLayer",
        "Sequential",
        "Model",
        "Dense",
    ]
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), outer.predict(data, verbose=0))
    assert loaded.weight_names == outer.weight_names
    assert loaded.optimizer.iterations == 2
    for p, q in zip(loaded.optimizer.slot_arrays, outer.optimizer.slot_arrays):
        np.testing.assert_array_equal(p, q)


def test_models_nest_only_so_deep(tmp_path):
    model = Sequential([Input((2,)), Dense(2)])
    for _ in range(20):
        model = Sequential([Input((2,)), model])
    # Keras's form (get_config) is bounded while it is read, minicnn's while it is built.
    with pytest.raises(ValueError, match="config nests deeper than 64 levels"):
        Sequential.from_config(model.get_config())
    with pytest.raises(ValueError, match="models nest deeper than 16 levels"):
        Sequential.from_config(model.plain_config())


def test_config_json_over_the_limit_is_refused(tmp_path, monkeypatch):
    from minicnn import config_io

    members = keras_members()
    monkeypatch.setattr(config_io, "MAX_JSON_BYTES", len(members["config.json"]) - 1)
    write_zip(tmp_path / "m.keras", members)
    refused(tmp_path / "m.keras", "'config.json'", "at most")


def test_legacy_file_without_a_model_config_is_refused(tmp_path):
    small_model().save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.h5").write_bytes((tmp_path / "w.weights.h5").read_bytes())
    refused(tmp_path / "w.h5", "no 'model_config'", "load_weights")


def test_load_weights_reads_keras_legacy_and_keras_model_files():
    x, outs, _ = expected("merges")
    for source in ("merges.h5", "merges.keras"):
        model = load_model(FIXTURES / "merges.keras", compile=False)
        model.set_weights([np.zeros_like(w) for w in model.get_weights()])
        model.load_weights(FIXTURES / source)
        for mine, keras_out in zip(model.predict(x, verbose=0), outs):
            np.testing.assert_allclose(mine, keras_out, rtol=1e-5, atol=1e-6)


def test_optimizer_state_of_the_wrong_size_is_refused(tmp_path):
    members = keras_members()
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        last = str(len(f["optimizer/vars"]) - 1)
        del f["optimizer/vars/" + last]
    members["model.weights.h5"] = buffer.getvalue()
    write_zip(tmp_path / "m.keras", members)
    refused(tmp_path / "m.keras", "slot variables")
    # Without compiling there is no optimizer to give the state to: the model loads.
    assert not load_model(tmp_path / "m.keras", compile=False).compiled


def test_sparse_input_is_refused_not_ignored(tmp_path):
    def edit(c):
        c["config"]["layers"][0]["config"]["sparse"] = True

    write_zip(tmp_path / "m.keras", edited_config(edit))
    refused(tmp_path / "m.keras", "InputLayer", "sparse")


def test_a_config_asking_for_more_weights_than_the_file_holds_is_refused(tmp_path):
    def edit(c):
        c["config"]["layers"][-1]["config"]["units"] = 10**9  # the last Dense

    write_zip(tmp_path / "m.keras", edited_config(edit))
    refused(tmp_path / "m.keras", "weight values but the file stores")


@pytest.mark.parametrize("name", NAMES)
def test_get_config_is_the_config_keras_wrote(name):
    # The "config" of a Keras-written .keras file is Keras's get_config() of the model;
    # minicnn's get_config of the loaded model is the same data (Keras's file adds only
    # shared_object_id, its bookkeeping for one dtype policy object shared by layers).
    path = FIXTURES / f"{name}.keras"
    body = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]
    model = load_model(path, compile=False)
    assert json.loads(json.dumps(model.get_config())) == without_shared_ids(body)
    copy = type(model).from_config(model.get_config())
    assert copy.get_config() == model.get_config()


def without_shared_ids(value):
    if isinstance(value, dict):
        return {k: without_shared_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [without_shared_ids(v) for v in value]
    return value


def test_a_keras_model_of_nested_structures_loads_compiled():
    # Written by Keras 3.15 (tools/keras_files.py --fixtures): inputs {"a", "more": {"b"}},
    # outputs {"pair": (y1, y2), "z": y3}, losses, loss weights and metrics nested alike,
    # trained a step. minicnn predicts and evaluates what Keras did.
    data = np.load(FIXTURES / "nested_structures.expected.npz")
    model = load_model(FIXTURES / "nested_structures.keras")
    x = {"a": data["a"], "more": {"b": data["b"]}}
    y = {"pair": (data["y1"], data["y2"]), "z": data["z"]}
    out = model.predict(x, verbose=0)
    assert set(out) == {"pair", "z"} and len(out["pair"]) == 2
    for got, want in ((out["pair"][0], "out1"), (out["pair"][1], "out2"), (out["z"], "out3")):
        np.testing.assert_allclose(got, data[want], rtol=1e-5, atol=1e-6)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    want = {k[len("log:") :]: float(data[k]) for k in data.files if k.startswith("log:")}
    assert (
        sorted(logs)
        == sorted(want)
        == ["loss", "pair/y1_loss", "pair/y2_loss", "y1_mae", "y3_mse", "z_loss"]
    )
    for key in want:
        np.testing.assert_allclose(logs[key], want[key], rtol=1e-5)
    assert model.optimizer.iterations == 2  # Keras's two steps (6 samples, batches of 3)
