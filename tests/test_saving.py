"""Weights files and whole-model files: round trips, atomic writes, and hostile files.

Every hostile file must raise a ValueError that says what is wrong with the file (an
OSError only when the file cannot be opened or read), never a raw zipfile/pickle/json
error, and must leave the model exactly as it was.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from minicnn import archives, config_io, saving
from minicnn import layers as L
from minicnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential, load_model


def small_model(filters: int = 2, prefix: str = "") -> Sequential:
    model = Sequential(
        [
            Conv2D(filters, 3, input_shape=(6, 6, 1), name=prefix + "conv"),
            MaxPooling2D(2, name=prefix + "pool"),
            Flatten(name=prefix + "flat"),
            Dense(3, name=prefix + "dense"),
        ]
    )
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model


def npy_bytes(array: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, array, allow_pickle=True)
    return f.getvalue()


def write_zip(path, members: dict, compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def good_members(model: Sequential) -> dict:
    return {name + ".npy": npy_bytes(w) for name, w in saving.named_weights(model).items()}


class Unchanged:
    """Snapshot of a model's weights; ``check()`` asserts they are bit-identical."""

    def __init__(self, model: Sequential):
        self.model, self.before = model, model.get_weights()

    def check(self) -> None:
        after = self.model.get_weights()
        assert len(after) == len(self.before)
        for a, b in zip(after, self.before):
            assert a.dtype == np.float32 and np.array_equal(a, b)


def assert_rejected(model, path, *words):
    """Loading ``path`` raises a ValueError naming the file and ``words``; model unchanged."""
    snapshot = Unchanged(model)
    with pytest.raises(ValueError) as info:
        model.load_weights(path)
    assert type(info.value) is ValueError
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    snapshot.check()
    return message


# --------------------------------------------------------------------------- round trips


def test_weights_round_trip_is_bit_exact_float32(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    other = small_model(prefix="x")  # other layer names: matched by position
    other.set_weights([np.zeros_like(w) for w in other.get_weights()])
    other.load_weights(str(path))
    for a, b in zip(model.get_weights(), other.get_weights()):
        assert b.dtype == np.float32 and np.array_equal(a, b)


def test_weights_file_is_a_plain_npz_named_layer_slash_weight(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    with np.load(path, allow_pickle=False) as data:
        assert data.files == ["conv/kernel", "conv/bias", "dense/kernel", "dense/bias"]
        assert data["conv/kernel"].shape == (3, 3, 1, 2)
        assert data["dense/kernel"].dtype == np.float32
        np.testing.assert_array_equal(data["dense/bias"], model.layers[3].get_weights()[1])


def test_float64_and_big_endian_weights_are_read_as_float32(tmp_path):
    model = small_model()
    members = {
        name + ".npy": npy_bytes(w.astype(">f8")) for name, w in saving.named_weights(model).items()
    }
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    target = small_model()
    target.set_weights([np.zeros_like(w) for w in target.get_weights()])
    target.load_weights(path)
    for a, b in zip(model.get_weights(), target.get_weights()):
        assert b.dtype == np.float32 and np.array_equal(a, b)


def test_weight_file_permissions_follow_the_umask_like_open(tmp_path):
    model = small_model()
    model.save_weights(tmp_path / "m.weights.npz")
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert (tmp_path / "m.weights.npz").stat().st_mode == plain.stat().st_mode


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("name", ["m.h5", "m.npz", "m.keras", "m"])
def test_weights_need_a_weights_suffix(tmp_path, name):
    model = small_model()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`.*or `\.weights\.npz`"):
        model.save_weights(tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["m.npz", "m"])
def test_load_weights_needs_a_weights_or_model_suffix(tmp_path, name):
    # Keras's load_weights also reads .keras and legacy .h5 model files.
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        small_model().load_weights(tmp_path / name)


@pytest.mark.parametrize("filepath", [None, 3, b"x", ["m.weights.npz"]])
def test_weights_path_of_wrong_type_is_a_type_error(filepath):
    with pytest.raises(TypeError, match="filepath"):
        small_model().save_weights(filepath)


@pytest.mark.parametrize("folder, error", [(False, FileNotFoundError), (True, IsADirectoryError)])
def test_missing_or_unreadable_weights_file_is_an_os_error_and_model_unchanged(
    tmp_path, folder, error
):
    path = tmp_path / "m.weights.npz"
    if folder:
        path.mkdir()
    model = small_model()
    snapshot = Unchanged(model)
    with pytest.raises(error):
        model.load_weights(path)
    snapshot.check()


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    path = tmp_path / "m.weights.npz"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        small_model().save_weights(path, overwrite=False)
    assert path.read_bytes() == b"old"


def test_unbuilt_model_cannot_save_or_load_weights(tmp_path):
    model = Sequential([Dense(2, name="d")])
    with pytest.raises(ValueError, match="not built"):
        model.save_weights(tmp_path / "m.weights.npz")
    with pytest.raises(ValueError, match="not built"):
        model.load_weights(tmp_path / "m.weights.npz")


# --------------------------------------------------------------------------- crashes mid-write


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_crash_while_writing_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, error):
    path = tmp_path / "m.weights.npz"
    small_model().save_weights(path)
    old = path.read_bytes()
    real_write, calls = np.lib.format.write_array, []

    def write_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # after two of the four weights are in the temporary file
            raise error
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(type(error)):
        small_model(filters=4).save_weights(path)
    assert len(calls) == 3
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.weights.npz"]


def test_saving_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.weights.npz"
    target.write_bytes(b"old")
    link = tmp_path / "m.weights.npz"
    link.symlink_to(target)
    small_model().save_weights(link)
    assert link.is_symlink() and np.load(target).files[0] == "conv/kernel"
    assert sorted(os.listdir(tmp_path / "store")) == ["real.weights.npz"]


def test_saving_a_name_near_the_length_limit_works(tmp_path):
    path = tmp_path / ("m" * (255 - len(".weights.npz")) + ".weights.npz")
    small_model().save_weights(path)
    small_model().load_weights(path)


def test_saving_into_a_missing_folder_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        small_model().save_weights(tmp_path / "absent" / "m.weights.npz")


def test_crash_at_the_final_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.npz"
    small_model().save_weights(path)
    old = path.read_bytes()

    def fail(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(archives.os, "replace", fail)
    with pytest.raises(OSError, match="rename failed"):
        small_model(filters=4).save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.weights.npz"]


def test_save_fsyncs_the_data_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(archives.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        archives.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))
    )
    small_model().save_weights(tmp_path / "m.weights.npz")
    assert events[:2] == ["fsync", "replace"]


# --------------------------------------------------------------------------- hostile weights files


@pytest.mark.parametrize("keep", [0, 1, 21, 100, 0.5, 0.9, -1])
def test_truncated_weights_file_is_a_value_error(tmp_path, keep):
    path = tmp_path / "m.weights.npz"
    model = small_model()
    model.save_weights(path)
    data = path.read_bytes()
    cut = keep if isinstance(keep, int) and keep >= 0 else int(len(data) * keep) % len(data)
    path.write_bytes(data[:cut])
    assert_rejected(model, path, "damaged")


@pytest.mark.parametrize(
    "content", [b"", b"hello", b"\x89HDF\r\n\x1a\n" + bytes(100), pickle.dumps([1, 2, 3])]
)
def test_file_that_is_not_a_zip_is_a_value_error(tmp_path, content):
    path = tmp_path / "m.weights.npz"
    path.write_bytes(content)
    assert_rejected(small_model(), path, "not a readable zip archive")


class CreatesFile:
    """Unpickling this creates ``path``: proof that code from the file ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_object_array_is_refused_and_never_unpickled(tmp_path):
    model = small_model()
    members = good_members(model)
    marker = tmp_path / "pwned"
    evil = np.empty((3, 3, 1, 2), dtype=object)
    evil[...] = CreatesFile(marker)
    members["conv/kernel.npy"] = npy_bytes(evil)
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'conv/kernel'", "Python objects", "never unpickles")
    assert not marker.exists()
    # The payload is live: numpy's own loader with pickles allowed does run it.
    with np.load(path, allow_pickle=True) as data:
        data["conv/kernel"]
    assert marker.exists()


def test_weights_from_another_architecture_are_refused(tmp_path):
    path = tmp_path / "m.weights.npz"
    small_model(filters=4).save_weights(path)  # same names, other shapes
    message = assert_rejected(small_model(), path, "another architecture", "'conv/kernel'")
    assert "(3, 3, 1, 4) in the file but (3, 3, 1, 2) in the model" in message
    assert "(16, 3) in the file but (8, 3) in the model" in message


def test_weights_of_other_names_and_count_are_refused(tmp_path):
    path = tmp_path / "m.weights.npz"
    Sequential([Dense(3, input_shape=(4,), name="other")]).save_weights(path)
    message = assert_rejected(small_model(), path, "another architecture", "2 weights")
    assert "Missing from the file: ['conv/kernel'" in message
    assert "not in the model: ['other/kernel', 'other/bias']" in message


def test_same_shapes_in_another_layer_grouping_are_refused(tmp_path):
    # Two Dense(2) without bias vs one Dense with bias: names and grouping differ.
    path = tmp_path / "m.weights.npz"
    Sequential(
        [Dense(2, input_shape=(2,), name="a"), Dense(2, name="b", use_bias=False)]
    ).save_weights(path)
    target = Sequential([Dense(2, input_shape=(2,), name="x", use_bias=False), Dense(2, name="y")])
    assert_rejected(target, path, "another architecture")


@pytest.mark.parametrize("bad", ["../evil.npy", "/etc/evil.npy", "a/../../evil.npy", "..\\e.npy"])
def test_member_names_that_leave_the_archive_are_refused(tmp_path, bad):
    model = small_model()
    members = good_members(model)
    members[bad] = npy_bytes(np.zeros(3, np.float32))
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, repr(bad), "tries to leave the archive")


def test_extra_weight_in_the_file_is_refused(tmp_path):
    model = small_model()
    members = good_members(model)
    members["conv/extra.npy"] = npy_bytes(np.zeros(3, np.float32))
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "not in the model: ['conv/extra']")


def test_missing_weight_in_the_file_is_refused(tmp_path):
    model = small_model()
    members = good_members(model)
    del members["dense/bias.npy"]
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "Missing from the file: ['dense/bias']")


def test_duplicated_member_is_refused(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    write_zip(path, good_members(model))
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "a") as archive,
    ):
        archive.writestr("conv/bias.npy", npy_bytes(np.ones(2, np.float32)))
    assert_rejected(model, path, "more than once")


@pytest.mark.parametrize(
    "array, word",
    [
        (np.zeros(2, np.int32), "dtype int32"),
        (np.zeros(2, np.complex64), "dtype complex64"),
        (np.zeros(2, "U3"), "dtype <U3"),
        (np.zeros(2, [("a", "f4")]), "dtype"),
    ],
)
def test_weight_of_a_non_float_dtype_is_refused(tmp_path, array, word):
    model = small_model()
    members = good_members(model)
    members["conv/bias.npy"] = npy_bytes(array)
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'conv/bias'", word)


def test_compressed_npz_is_refused(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    write_zip(path, good_members(model), zipfile.ZIP_DEFLATED)
    assert_rejected(model, path, "compressed")


def test_member_that_is_not_npy_is_refused(tmp_path):
    model = small_model()
    members = good_members(model)
    members["readme.txt"] = b"hi"
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'readme.txt' is not a .npy array")


@pytest.mark.parametrize(
    "header",
    [
        b"not an npy header at all",
        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',}",
        b"\x93NUMPY\x09\x00\x10\x00" + b" " * 16,
        b"\x93NUMPY\x01\x00\x30\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': 'xyz', 'fortran_order': False, 'shape': (2,), } \n",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': 1, 'shape': (-2,), }   \n",
        b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': 2 }    \n",
        b"\x93NUMPY\x01\x00\x40\x00__import__('os').system('touch /tmp/pwned_minicnn_test') \n",
    ],
)
def test_corrupt_npy_header_is_refused(tmp_path, header):
    model = small_model()
    members = good_members(model)
    members["conv/bias.npy"] = header + bytes(8)
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'conv/bias'")
    assert not os.path.exists("/tmp/pwned_minicnn_test")


def test_header_claiming_a_huge_array_is_refused_without_allocating(tmp_path):
    model = small_model()
    members = good_members(model)
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, header)
    members["dense/kernel.npy"] = f.getvalue() + bytes(64)
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'dense/kernel'")


@pytest.mark.parametrize("extra", [-4, 4])
def test_array_data_shorter_or_longer_than_its_header_is_refused(tmp_path, extra):
    model = small_model()
    members = good_members(model)
    data = members["dense/bias.npy"]
    members["dense/bias.npy"] = data[:extra] if extra < 0 else data + bytes(extra)
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    assert_rejected(model, path, "'dense/bias'", "truncated or corrupt")


def test_flipped_bit_in_the_data_fails_the_crc_check(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("dense/kernel.npy")
    data[info.header_offset + 200] ^= 0x10  # inside the member's data, past its headers
    path.write_bytes(bytes(data))
    assert_rejected(model, path, "damaged")


def test_nan_weights_round_trip(tmp_path):
    # A diverged model can still be saved and inspected; nothing is silently replaced.
    model = small_model()
    weights = model.get_weights()
    weights[0][0, 0, 0, 0], weights[1][0] = np.nan, np.inf
    model.set_weights(weights)
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    other = small_model()
    other.load_weights(path)
    for a, b in zip(weights, other.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- whole models


def read_members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def saved_model_members(tmp_path) -> dict:
    path = tmp_path / "base.minicnn"
    small_model().save(path)
    return read_members(path)


def with_config(members: dict, edit) -> dict:
    """``members`` with config.json edited in place by ``edit(config)``."""
    config = json.loads(members["config.json"])
    edit(config)
    return {**members, "config.json": json.dumps(config).encode()}


def assert_model_rejected(path, *words):
    state = np.random.default_rng(0).bit_generator.state
    with pytest.raises(ValueError) as info:
        load_model(path)
    assert type(info.value) is ValueError
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    assert np.random.default_rng(0).bit_generator.state == state
    return message


def test_model_round_trip_gives_identical_predictions_and_config(tmp_path):
    model = small_model()
    model.layers[0].trainable = False
    path = tmp_path / "m.minicnn"
    model.save(path)
    loaded = load_model(str(path))
    x = np.random.default_rng(1).normal(size=(5, 6, 6, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_config() == model.get_config()
    assert [layer.name for layer in loaded.layers] == ["conv", "pool", "flat", "dense"]
    assert loaded.layers[0].trainable is False
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert b.dtype == np.float32 and np.array_equal(a, b)


def test_model_file_is_a_zip_of_config_metadata_and_npz(tmp_path):
    path = tmp_path / "m.minicnn"
    small_model().save(path)
    members = read_members(path)
    assert {"config.json", "metadata.json", "model.weights.npz"} <= set(members)
    assert json.loads(members["metadata.json"])["format_version"] == 1
    config = json.loads(members["config.json"])
    assert config["class_name"] == "Sequential"
    assert [entry["class_name"] for entry in config["config"]["layers"]] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]


def test_model_whose_input_shape_came_from_data_round_trips(tmp_path):
    model = Sequential([Conv2D(2, 3, name="c"), Flatten(name="f")])
    model.predict(np.zeros((1, 5, 5, 3)), verbose=0)
    model.save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert loaded.input_shape == (None, 5, 5, 3)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_built_on_a_zero_length_axis_round_trips(tmp_path):
    # Found by fuzzing: Sequential builds on (None, 0, 3) but the loader refused a 0.
    model = Sequential([Flatten(name="f"), Dense(2, name="d")])
    y = model.predict(np.zeros((2, 0, 3)), verbose=0)
    model.save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert loaded.input_shape == (None, 0, 3)
    np.testing.assert_array_equal(loaded.predict(np.zeros((2, 0, 3)), verbose=0), y)


def test_unbuilt_model_round_trips_unbuilt(tmp_path):
    Sequential([Dense(3, name="d")], name="plain").save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert loaded.name == "plain" and not loaded.built and loaded.layers[0].units == 3


def test_loading_a_model_does_not_advance_the_random_generator(tmp_path):
    from minicnn.utils import rng

    small_model().save(tmp_path / "m.minicnn")
    state = rng().bit_generator.state
    load_model(tmp_path / "m.minicnn")
    assert rng().bit_generator.state == state


@pytest.mark.parametrize("name", ["m.zip", "m.weights.npz", "m"])
def test_model_needs_a_model_suffix(tmp_path, name):
    with pytest.raises(ValueError, match="extension"):
        small_model().save(tmp_path / name)
    assert not (tmp_path / name).exists()
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ValueError, match="File format not supported"):
        load_model(tmp_path / name)


def test_missing_model_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.minicnn")


def test_callable_activation_cannot_be_saved_and_nothing_is_written(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,), activation=np.tanh, name="odd")])
    with pytest.raises(ValueError, match="layer 'odd' cannot be saved"):
        model.save(tmp_path / "m.minicnn")
    assert list(tmp_path.iterdir()) == []


def test_crash_while_writing_a_model_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.minicnn"
    small_model().save(path)
    old = path.read_bytes()
    real_writestr = zipfile.ZipFile.writestr

    def crash_on_weights(self, name, data, *args, **kwargs):
        if name == "model.weights.npz":
            raise KeyboardInterrupt
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash_on_weights)
    with pytest.raises(KeyboardInterrupt):
        small_model(filters=4).save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.minicnn"]


@pytest.mark.parametrize("keep", [0, 10, 0.3, 0.6, 0.95, -22])
def test_truncated_model_file_is_a_value_error(tmp_path, keep):
    path = tmp_path / "m.minicnn"
    small_model().save(path)
    data = path.read_bytes()
    cut = keep if isinstance(keep, int) and keep >= 0 else int(len(data) * keep) % len(data)
    path.write_bytes(data[:cut])
    assert_model_rejected(path, "damaged")


@pytest.mark.parametrize(
    "bad", ["../config.json", "/tmp/x.json", "a/../../x", "C:evil", "..\\x", "a//b"]
)
def test_model_member_names_that_leave_the_archive_are_refused(tmp_path, bad):
    members = saved_model_members(tmp_path)
    members[bad] = b"{}"
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "tries to leave the archive", repr(bad))


@pytest.mark.parametrize("drop", ["config.json", "metadata.json", "model.weights.npz"])
def test_model_file_missing_a_member_is_refused(tmp_path, drop):
    members = saved_model_members(tmp_path)
    del members[drop]
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "missing members", drop)


def test_model_file_with_an_extra_member_is_refused(tmp_path):
    members = saved_model_members(tmp_path)
    members["assets/run.py"] = b"print('hi')"
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "unexpected members ['assets/run.py']")


@pytest.mark.parametrize(
    "member, content, word",
    [
        ("config.json", b"{not json", "config.json is not valid JSON"),
        ("config.json", b"\xff\xfe\x00garbage", "config.json is not valid JSON"),
        ("config.json", b"[" * 100_000 + b"]" * 100_000, "config.json is not valid JSON"),
        ("config.json", b"[]", "must describe a Sequential or Functional model"),
        ("config.json", b"null", "must describe a Sequential or Functional model"),
        ("config.json", b'{"class_name": "Functional"}', "a functional config is a dict with"),
        ("config.json", b'{"class_name": "Sequential", "config": []}', "'config' must be a dict"),
        ("config.json", b'{"class_name": "Sequential", "config": {"name": "m"}}', "'layers'"),
        ("metadata.json", b"{}", "does not describe a minicnn model"),
        ("metadata.json", b'{"format": "keras"}', "does not describe a minicnn model"),
        (
            "metadata.json",
            b'{"format": "minicnn.Sequential", "format_version": 99}',
            "format_version 99",
        ),
        ("metadata.json", b"\x00", "metadata.json is not valid JSON"),
    ],
)
def test_bad_json_member_is_refused(tmp_path, member, content, word):
    members = saved_model_members(tmp_path)
    members[member] = content
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, word)


def test_config_json_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    members = saved_model_members(tmp_path)
    monkeypatch.setattr(config_io, "MAX_JSON_BYTES", len(members["config.json"]) - 1)
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "'config.json'", "at most")


def test_compressed_config_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config_io, "MAX_JSON_BYTES", 10_000)
    members = saved_model_members(tmp_path)
    members["config.json"] = b" " * 10_000_000 + members["config.json"]
    path = tmp_path / "m.minicnn"
    write_zip(path, members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    assert_model_rejected(path, "'config.json'", "at most")


@pytest.mark.parametrize(
    "class_name",
    ["Lambda", "os.system", "__import__", "Layer", "InputLayer", None, 3, ""],
)
def test_config_naming_an_unknown_layer_is_refused(tmp_path, class_name):
    def edit(config):
        config["config"]["layers"][1]["class_name"] = class_name

    path = tmp_path / "m.minicnn"
    write_zip(path, with_config(saved_model_members(tmp_path), edit))
    assert_model_rejected(path, "layer 1 has unknown class_name", "Conv2D")


def test_config_naming_a_model_with_a_layer_config_is_refused(tmp_path):
    # A model class is a valid layer (nested models), but only with a model's config.
    def edit(config):
        config["config"]["layers"][1]["class_name"] = "Sequential"

    path = tmp_path / "m.minicnn"
    write_zip(path, with_config(saved_model_members(tmp_path), edit))
    assert_model_rejected(path, "layer 1 (a Sequential model) cannot be rebuilt", "'layers'")


def test_too_many_layers_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config_io, "MAX_LAYERS", 3)
    path = tmp_path / "m.minicnn"
    write_zip(path, saved_model_members(tmp_path))
    assert_model_rejected(path, "lists 4 layers", "at most 3")


@pytest.mark.parametrize(
    "edit, word",
    [
        (lambda c: c["config"]["layers"][0]["config"].update(filters="8"), "filters"),
        (lambda c: c["config"]["layers"][0]["config"].update(filters=-1), "filters"),
        (lambda c: c["config"]["layers"][0]["config"].update(kernel_size=[3]), "kernel_size"),
        (lambda c: c["config"]["layers"][0]["config"].update(padding={"a": 1}), "padding"),
        (lambda c: c["config"]["layers"][0]["config"].update(evil="x"), "evil"),
        (lambda c: c["config"]["layers"][0]["config"].pop("filters"), "filters"),
        (lambda c: c["config"]["layers"][3]["config"].update(activation="eval"), "activation"),
        (
            lambda c: c["config"]["layers"][3]["config"].update(
                kernel_initializer={"class_name": "Evil", "config": {}}
            ),
            "unknown class 'Evil'",
        ),
        (lambda c: c["config"]["layers"][3]["config"].update(name="a/b"), "name"),
        (lambda c: c["config"]["layers"][3]["config"].update(name="conv"), "named ['conv']"),
        (lambda c: c["config"]["layers"][3].update(config=[1]), "must be a dict"),
        (lambda c: c["config"]["layers"][3].update(extra=1), "'class_name' and 'config'"),
        (lambda c: c["config"]["layers"].append("Dense"), "layer 4 must be a dict"),
        (lambda c: c["config"].update(layers={"a": 1}), "'layers' must be a list"),
        (lambda c: c["config"].update(name=7), "model name must be a string"),
        (lambda c: c["config"].update(name=""), "name"),
        (lambda c: c["config"].update(input_shape=[6, "6", 1]), "input_shape"),
        (lambda c: c["config"].update(input_shape=[6, True, 1]), "input_shape"),
        (lambda c: c["config"].update(input_shape=[6, -6, 1]), "input_shape"),
        (lambda c: c["config"].update(input_shape=6), "input_shape"),
        (lambda c: c["config"].update(input_shape=[7, 7, 1]), "first layer declares"),
        (lambda c: c["config"].update(input_shape=[6, 6, 2]), "first layer declares"),
        (lambda c: c["config"]["layers"].reverse(), "do not fit"),
        (lambda c: c["config"]["layers"][0]["config"].update(filters=3), "(3, 3, 1, 3)"),
        (lambda c: c["config"]["layers"].pop(0), "another architecture"),
    ],
)
def test_config_with_bad_fields_is_refused(tmp_path, edit, word):
    path = tmp_path / "m.minicnn"
    write_zip(path, with_config(saved_model_members(tmp_path), edit))
    assert_model_rejected(path, word)


def test_config_asking_for_a_huge_model_fails_before_allocating(tmp_path):
    def edit(config):
        config["config"]["layers"][3]["config"]["units"] = 10**12

    path = tmp_path / "m.minicnn"
    write_zip(path, with_config(saved_model_members(tmp_path), edit))
    assert_model_rejected(path, "dense/kernel", "(8, 1000000000000)")


def test_compressed_weights_member_in_a_model_file_is_refused(tmp_path):
    members = saved_model_members(tmp_path)
    path = tmp_path / "m.minicnn"
    write_zip(path, members, zipfile.ZIP_DEFLATED)
    assert_model_rejected(path, "'model.weights.npz' is compressed")


def test_model_file_holding_a_weights_file_of_another_model_is_refused(tmp_path):
    members = saved_model_members(tmp_path)
    small_model(filters=4).save_weights(tmp_path / "o.weights.npz")
    members["model.weights.npz"] = (tmp_path / "o.weights.npz").read_bytes()
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "another architecture", "(3, 3, 1, 4) in the file")


# --------------------------------------------------------------------------- compiled models


def training_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6, 6, 1)).astype(np.float32)
    y = rng.normal(size=(40, 3)).astype(np.float32)
    return x, y


def trained_model(optimizer, epochs: int) -> Sequential:
    from minicnn.utils import set_random_seed

    set_random_seed(7)
    model = small_model()
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    x, y = training_data()
    if epochs:
        model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    return model


def assert_same_state(a: Sequential, b: Sequential) -> None:
    for u, v in zip(a.get_weights(), b.get_weights()):
        assert v.dtype == np.float32 and np.array_equal(u, v)
    assert a.get_compile_config() == b.get_compile_config()
    sa, sb = a.optimizer.get_state(), b.optimizer.get_state()
    assert sa["iterations"] == sb["iterations"]
    assert len(sa["variables"]) == len(sb["variables"])
    for u, v in zip(sa["variables"], sb["variables"]):
        assert v.dtype == np.float32 and np.array_equal(u, v)


def make_optimizer(name):
    from minicnn import optimizers

    # Named, so two runs' optimizers compare equal (automatic names differ: adam, adam_1).
    return {
        "adam": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True, name="adam"),
        "sgd": lambda: optimizers.SGD(learning_rate=0.005, momentum=0.5, nesterov=True, name="sgd"),
        "plain_sgd": lambda: optimizers.SGD(learning_rate=0.005, name="sgd"),
        "rmsprop": lambda: optimizers.RMSprop(momentum=0.5, centered=True, name="rmsprop"),
    }[name]()


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "plain_sgd", "rmsprop"])
def test_compiled_model_round_trips_with_optimizer_state(tmp_path, optimizer):
    model = trained_model(make_optimizer(optimizer), epochs=1)
    model.save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert loaded.compiled and loaded.optimizer is not model.optimizer
    assert_same_state(model, loaded)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_training_resumed_from_a_file_equals_training_straight_through(tmp_path, optimizer):
    x, y = training_data()
    straight = trained_model(make_optimizer(optimizer), epochs=0)
    history = straight.fit(x, y, batch_size=8, epochs=3, verbose=0)  # shuffled, seeded

    first = trained_model(make_optimizer(optimizer), epochs=2)
    first.save(tmp_path / "m.minicnn")
    resumed = load_model(tmp_path / "m.minicnn")
    more = resumed.fit(x, y, batch_size=8, epochs=3, initial_epoch=2, verbose=0)

    assert_same_state(straight, resumed)
    assert more.history["loss"] == history.history["loss"][2:]
    assert more.history["mae"] == history.history["mae"][2:]


def test_compiled_but_untrained_model_round_trips(tmp_path):
    model = trained_model(make_optimizer("adam"), epochs=0)
    model.save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert loaded.compiled and not loaded.optimizer.built
    assert loaded.optimizer.iterations == 0
    assert_same_state(model, loaded)


def test_load_model_with_compile_false_is_not_compiled(tmp_path):
    trained_model(make_optimizer("adam"), epochs=1).save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn", compile=False)
    assert not loaded.compiled and loaded.optimizer is None


def compiled_members(tmp_path) -> dict:
    path = tmp_path / "base.minicnn"
    trained_model(make_optimizer("adam"), epochs=1).save(path)
    return read_members(path)


@pytest.mark.parametrize(
    "edit, word",
    [
        (lambda c: c.update(compile_config=[]), "compile_config"),
        (lambda c: c["compile_config"].update(loss="nonsense"), "nonsense"),
        (lambda c: c["compile_config"].update(metrics="mae"), "metrics"),
        (
            lambda c: c["compile_config"].update(optimizer={"class_name": "Evil", "config": {}}),
            "Evil",
        ),
        (
            lambda c: c["compile_config"]["optimizer"]["config"].update(learning_rate="x"),
            "learning_rate",
        ),
        (lambda c: c["compile_config"]["optimizer"]["config"].update(beta_1=2.0), "beta_1"),
        (
            lambda c: c["compile_config"]["optimizer"]["config"].update(amsgrad=False),
            "not in the model: ['velocity_hat/conv/kernel'",
        ),
        (lambda c: c.update(optimizer_state=None), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(iterations=-1), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(iterations=True), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(iterations=2.5), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(built="yes"), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(extra=1), "optimizer_state"),
        (lambda c: c["optimizer_state"].update(built=False), "another architecture"),
    ],
)
def test_bad_compile_settings_are_refused(tmp_path, edit, word):
    path = tmp_path / "m.minicnn"
    write_zip(path, with_config(compiled_members(tmp_path), edit))
    assert_model_rejected(path, word)


def test_optimizer_state_of_another_model_is_refused(tmp_path):
    members = compiled_members(tmp_path)
    other = tmp_path / "other.minicnn"
    model = small_model(filters=4)
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 6, 6, 1)), np.zeros((4, 3)), verbose=0)
    model.save(other)
    members["optimizer.weights.npz"] = read_members(other)["optimizer.weights.npz"]
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "another architecture", "momentum/conv/kernel")


def test_missing_optimizer_member_is_refused(tmp_path):
    members = compiled_members(tmp_path)
    del members["optimizer.weights.npz"]
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, "'optimizer.weights.npz' is missing")


def poisoned_npz(data: bytes, name: str, marker) -> bytes:
    """The .npz ``data`` with array ``name`` replaced by a pickled object array whose
    unpickling would create ``marker``."""
    with np.load(io.BytesIO(data)) as npz:
        arrays = {key: npz[key] for key in npz.files}
    evil = np.empty(arrays[name].shape, dtype=object)
    evil[...] = CreatesFile(marker)
    out = io.BytesIO()
    np.savez(out, **{**arrays, name: evil})
    return out.getvalue()


@pytest.mark.parametrize(
    "compiled, member, name",
    [
        (False, "model.weights.npz", "dense/kernel"),
        (True, "optimizer.weights.npz", "momentum/conv/bias"),
    ],
)
def test_pickled_array_in_a_model_file_never_runs(tmp_path, compiled, member, name):
    members = compiled_members(tmp_path) if compiled else saved_model_members(tmp_path)
    marker = tmp_path / "pwned"
    members[member] = poisoned_npz(members[member], name, marker)
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_model_rejected(path, repr(name), "never unpickles")
    assert not marker.exists()


def test_load_weights_reads_the_weights_of_a_model_file(tmp_path):
    model = small_model()
    model.save(tmp_path / "m.minicnn")
    other = small_model(prefix="x")
    other.set_weights([np.zeros_like(w) for w in other.get_weights()])
    other.load_weights(tmp_path / "m.minicnn")
    for a, b in zip(model.get_weights(), other.get_weights()):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="must end in"):
        other.save_weights(tmp_path / "m.minicnn")


def test_load_weights_of_a_damaged_model_file_is_refused(tmp_path):
    members = saved_model_members(tmp_path)
    del members["model.weights.npz"]
    path = tmp_path / "m.minicnn"
    write_zip(path, members)
    assert_rejected(small_model(), path, "missing members ['model.weights.npz']")


def test_encrypted_member_is_refused(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag in every local header and central directory entry.
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flags_at] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    assert_rejected(model, path, "damaged", "encrypted")


def test_unicode_layer_names_round_trip(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,), name="卷积 ü"), Dense(1, name="x.y")])
    model.save(tmp_path / "m.minicnn")
    loaded = load_model(tmp_path / "m.minicnn")
    assert [layer.name for layer in loaded.layers] == ["卷积 ü", "x.y"]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["..", "c:", "x:y", "a\\b"])
def test_layer_names_that_look_like_paths_are_refused_when_saving(tmp_path, name):
    model = Sequential([Dense(2, input_shape=(3,), name=name)])
    for save, path in ((model.save_weights, "m.weights.npz"), (model.save, "m.minicnn")):
        with pytest.raises(ValueError, match="rename the layer"):
            save(tmp_path / path)
    assert list(tmp_path.iterdir()) == []


def test_fortran_ordered_arrays_are_read_in_their_own_order(tmp_path):
    # A header may say fortran_order: reading the bytes as C order would silently transpose.
    model = small_model()
    members = {
        name + ".npy": npy_bytes(np.asfortranarray(w))
        for name, w in saving.named_weights(model).items()
    }
    assert b"'fortran_order': True" in members["dense/kernel.npy"][:128]
    path = tmp_path / "m.weights.npz"
    write_zip(path, members)
    target = small_model(filters=2)
    target.set_weights([np.zeros_like(w) for w in target.get_weights()])
    target.load_weights(path)
    for a, b in zip(model.get_weights(), target.get_weights()):
        assert np.array_equal(a, b)


def test_an_array_initializer_has_a_config_but_is_not_saved_silently(tmp_path):
    # Keras takes an array as initializer; its get_config still works (the object itself
    # in memory, as for a callable activation) and saving names the layer and refuses.
    layer = L.Conv1D(2, 3, kernel_initializer=np.ones((3, 1, 2)))
    model = Sequential([L.Input((5, 1)), layer])
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones((3, 1, 2)))
    twin = L.Conv1D.from_config(layer.get_config())
    twin.build((None, 5, 1))
    np.testing.assert_array_equal(twin.get_weights()[0], np.ones((3, 1, 2)))
    with pytest.raises(ValueError, match="layer 'conv1d.*' cannot be saved: .*initializer"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
