"""Weights files and whole-model files: round trips, atomic writes, and hostile files.

Every hostile file must raise a ValueError that says what is wrong with the file (an
OSError only when the file cannot be opened or read), never a raw zipfile/pickle/json
error, and must leave the model exactly as it was.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from minicnn import saving
from minicnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential


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


@pytest.mark.parametrize("name", ["m.h5", "m.npz", "m.weights.h5", "m.keras", "m"])
def test_weights_need_the_weights_npz_suffix(tmp_path, name):
    model = small_model()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.npz`"):
        model.save_weights(tmp_path / name)
    assert not (tmp_path / name).exists()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.npz`"):
        model.load_weights(tmp_path / name)


@pytest.mark.parametrize("filepath", [None, 3, b"x", ["m.weights.npz"]])
def test_weights_path_of_wrong_type_is_a_type_error(filepath):
    with pytest.raises(TypeError, match="filepath"):
        small_model().save_weights(filepath)


def test_missing_weights_file_is_file_not_found_and_model_unchanged(tmp_path):
    model = small_model()
    snapshot = Unchanged(model)
    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "absent.weights.npz")
    snapshot.check()


def test_folder_instead_of_weights_file_is_an_os_error(tmp_path):
    (tmp_path / "d.weights.npz").mkdir()
    model = small_model()
    snapshot = Unchanged(model)
    with pytest.raises(OSError):
        model.load_weights(tmp_path / "d.weights.npz")
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


def test_layer_name_that_looks_like_a_path_cannot_be_saved(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,), name="..")])
    with pytest.raises(ValueError, match="rename the layer"):
        model.save_weights(tmp_path / "m.weights.npz")
    assert list(tmp_path.iterdir()) == []


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


def test_crash_at_the_final_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.npz"
    small_model().save_weights(path)
    old = path.read_bytes()

    def fail(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(saving.os, "replace", fail)
    with pytest.raises(OSError, match="rename failed"):
        small_model(filters=4).save_weights(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.weights.npz"]


def test_save_fsyncs_the_data_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(saving.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        saving.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))
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
