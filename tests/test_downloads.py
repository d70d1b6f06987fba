"""``utils.get_file`` and the real data sets, against a local HTTP server on the loopback
address serving small files the tests make (never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pickle
import socket
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import minicnn
from minicnn import datasets
from minicnn.datasets import Source
from minicnn.utils import get_file


class Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, folder):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path, monkeypatch):
    folder = tmp_path / "served"
    folder.mkdir()
    monkeypatch.setenv("MINICNN_HOME", str(tmp_path / "home"))
    server = Server(folder)
    yield folder, server
    server.close()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".part"))


def test_a_file_is_downloaded_once_into_the_cache_and_checked(served, tmp_path):
    folder, server = served
    (folder / "data.bin").write_bytes(b"x" * 100_000)
    digest = sha256(folder / "data.bin")
    path = get_file("data.bin", server.url("data.bin"), file_hash=digest)
    assert path == str(tmp_path / "home" / "datasets" / "data.bin")
    assert open(path, "rb").read() == b"x" * 100_000
    assert get_file("data.bin", server.url("data.bin"), file_hash=digest) == path
    assert len(server.requests) == 1  # the second call used the cache
    get_file("data.bin", server.url("data.bin"), force_download=True)
    assert len(server.requests) == 2
    # A cached file whose hash no longer matches is fetched again.
    with open(path, "wb") as f:
        f.write(b"truncated")
    get_file("data.bin", server.url("data.bin"), file_hash=digest)
    assert len(server.requests) == 3 and open(path, "rb").read() == b"x" * 100_000


def test_fname_defaults_to_the_last_part_of_the_url_and_cache_dir_is_honoured(served, tmp_path):
    folder, server = served
    (folder / "notes.txt").write_text("hello")
    path = get_file(origin=server.url("notes.txt"), cache_dir=tmp_path / "elsewhere")
    assert path == str(tmp_path / "elsewhere" / "datasets" / "notes.txt")


def test_a_download_with_the_wrong_hash_raises_and_keeps_nothing(served, tmp_path):
    folder, server = served
    (folder / "data.bin").write_bytes(b"abc")
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        get_file("data.bin", server.url("data.bin"), file_hash="0" * 64)
    cache = tmp_path / "home" / "datasets"
    assert not (cache / "data.bin").exists() and leftovers(cache) == []
    md5 = hashlib.md5(b"abc").hexdigest()
    assert open(get_file("data.bin", server.url("data.bin"), md5_hash=md5), "rb").read() == b"abc"


def test_offline_and_missing_files_are_clear_errors_that_leave_nothing(served, tmp_path):
    folder, server = served
    with pytest.raises(ConnectionError, match=r"URL fetch failure on .*absent\.bin: 404"):
        get_file("absent.bin", server.url("absent.bin"))
    with socket.socket() as s:  # a port nothing listens on: what being offline looks like
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match="URL fetch failure .*If this machine is offline"):
        get_file("x.bin", f"http://127.0.0.1:{port}/x.bin")
    cache = tmp_path / "home" / "datasets"
    assert sorted(p.name for p in cache.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fname": "a/b.bin", "origin": "http://127.0.0.1/b.bin"}, "is a file name, not a path"),
        ({"fname": "b.bin"}, 'specify the "origin" argument'),
        ({"fname": "b.bin", "origin": "ftp://host/b.bin"}, "http, https or file URL"),
        ({"origin": "http://127.0.0.1/"}, "cannot tell a file name"),
        ({"fname": "b", "origin": "http://h/b", "hash_algorithm": "sha1"}, "'auto', 'sha256'"),
        ({"fname": "b", "origin": "http://h/b", "extract": True, "archive_format": "rar"}, "tar"),
    ],
)
def test_bad_arguments_are_refused_before_any_download(kwargs, message, tmp_path, monkeypatch):
    monkeypatch.setenv("MINICNN_HOME", str(tmp_path))
    with pytest.raises(ValueError, match=message):
        get_file(**kwargs)


def test_archives_are_extracted_beside_the_download(served):
    folder, server = served
    with tarfile.open(folder / "pack.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("inner/a.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    with zipfile.ZipFile(folder / "pack.zip", "w") as z:
        z.writestr("inner/b.txt", "zipped")
    tar_dir = get_file("packed", server.url("pack.tar.gz"), extract=True)
    assert open(os.path.join(tar_dir, "inner", "a.txt")).read() == "hello"
    assert tar_dir.endswith(os.path.join("datasets", "packed"))
    zip_dir = get_file("pack.zip", server.url("pack.zip"), extract=True)
    assert zip_dir.endswith("pack_extracted")
    assert open(os.path.join(zip_dir, "inner", "b.txt")).read() == "zipped"


def test_archives_that_would_write_outside_their_folder_are_refused(served, tmp_path):
    folder, server = served
    with zipfile.ZipFile(folder / "slip.zip", "w") as z:
        z.writestr("../../escaped.txt", "no")
    with tarfile.open(folder / "slip.tar", "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"no"))
    for name in ("slip.zip", "slip.tar"):
        with pytest.raises(ValueError, match="outside its folder|unsafe to extract"):
            get_file(f"{name}_dir", server.url(name), extract=True)
    assert not list(tmp_path.rglob("escaped.txt"))
    assert leftovers(tmp_path / "home") == []


# --------------------------------------------------------------------------- data sets


def serve_source(monkeypatch, server, folder, key, data: bytes):
    (folder / key).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    monkeypatch.setitem(datasets.SOURCES, key, Source(server.url(key), digest))


def test_mnist_load_data_returns_kerass_tuples(served, monkeypatch):
    folder, server = served
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    serve_source(monkeypatch, server, folder, "mnist.npz", buffer.getvalue())
    (x_train, y_train), (x_test, y_test) = minicnn.datasets.mnist.load_data()
    for got, key in zip((x_train, y_train, x_test, y_test), arrays):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


def test_fashion_mnist_reads_the_idx_files(served, monkeypatch):
    folder, server = served
    rng = np.random.default_rng(1)
    made = {}
    for split, n in (("train", 5), ("t10k", 3)):
        y = rng.integers(0, 10, n, dtype=np.uint8)
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        made[split] = (x, y)
        labels = b"\0\0\x08\x01" + n.to_bytes(4, "big") + y.tobytes()
        images = b"\0\0\x08\x03" + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + x.tobytes()
        serve_source(
            monkeypatch, server, folder, f"{split}-labels-idx1-ubyte.gz", gzip.compress(labels)
        )
        serve_source(
            monkeypatch, server, folder, f"{split}-images-idx3-ubyte.gz", gzip.compress(images)
        )
    from minicnn.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, made["train"][0])
    np.testing.assert_array_equal(y_train, made["train"][1])
    np.testing.assert_array_equal(x_test, made["t10k"][0])
    np.testing.assert_array_equal(y_test, made["t10k"][1])


def cifar_archive(batches: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in batches.items():
            data = pickle.dumps(payload, protocol=3)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_cifar10_reads_its_pickled_batches_channels_last(served, monkeypatch):
    folder, server = served
    rng = np.random.default_rng(2)
    batches, planes = {}, {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (2, 3 * 32 * 32), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 2)]
        batches[name] = {b"data": data, b"labels": labels, b"batch_label": b"x"}
        planes[name] = (data.reshape(2, 3, 32, 32), labels)
    serve_source(monkeypatch, server, folder, "cifar-10-python.tar.gz", cifar_archive(batches))
    import minicnn.datasets.cifar10 as cifar10

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert x_test.shape == (2, 32, 32, 3) and y_test.dtype == np.uint8
    # Pixel (row 4, col 7) of the first test image, channel 2, is plane 2 at (4, 7).
    assert x_test[0, 4, 7, 2] == planes["test_batch"][0][0, 2, 4, 7]
    assert y_train[2:4, 0].tolist() == planes["data_batch_2"][1]


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def test_a_cifar_batch_that_asks_for_other_code_is_refused(served, monkeypatch):
    folder, server = served
    batches = {f"data_batch_{i}": {b"data": Exploit(), b"labels": []} for i in range(1, 6)}
    batches["test_batch"] = batches["data_batch_1"]
    serve_source(monkeypatch, server, folder, "cifar-10-python.tar.gz", cifar_archive(batches))
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to load `posix\.system`"):
        datasets.cifar10.load_data()
