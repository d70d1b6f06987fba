"""Files that are replaced atomically and archives read without trusting them.

Writing: ``atomic_write`` sends the data to a temporary file in the same folder, flushes
and fsyncs it, then ``os.replace``s it over the target, so a crash mid-write leaves the
previous file intact and no temporary file behind.

Reading: a file is read whole into memory (an ``OSError`` only if it cannot be opened or
read) and parsed here, not by ``np.load``. Zip member names that would leave a folder they
were extracted to, duplicated names and compressed arrays (zip bombs) are refused; each
``.npy`` header is parsed and checked (names, count, shapes, a float dtype: an object
array, which only unpickling could read, is refused from its header) before any array data
is decoded. Everything wrong with a file's content is a ``ValueError`` naming the file and
the problem; a raw ``zipfile``/``zlib``/``pickle`` error never escapes.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import secrets
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

import numpy as np

# What a damaged archive or header can raise from zipfile, zlib, struct or numpy's .npy
# header parser (found by feeding them damaged files) while we read bytes already in
# memory, so an OSError here is corruption (a seek to a negative offset), not the disk.
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    struct.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    TypeError,
    OverflowError,
    SyntaxError,
    tokenize.TokenError,  # numpy tokenizes .npy headers before literal_eval
)


# --------------------------------------------------------------------------- files


def read_bytes(path: str) -> bytes:
    """The whole file; ``FileNotFoundError``/``IsADirectoryError``/... pass through."""
    with open(path, "rb") as f:
        return f.read()


def atomic_write(path: str, write: Callable[[BinaryIO], None], overwrite: bool = True) -> None:
    """Write ``path`` through ``write(file)`` so that it is either fully replaced or untouched.

    The data goes to a temporary file in the same folder (same file system, so the final
    ``os.replace`` is atomic), is flushed and fsynced, then renamed over ``path``. On any
    error, including KeyboardInterrupt, the temporary file is removed and ``path`` keeps
    its previous content.
    """
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} already exists and `overwrite=False`.")
    # Through a symlink, replace the file it points to (as writing in place would), not
    # the link; the temporary file must sit beside that file for the rename to be atomic.
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    # A short temporary name, so a target name near the 255-byte limit still works.
    temp = os.path.join(folder, f".{os.path.basename(path)[:64]}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable; not every platform can open a folder, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_zip(path: str, members: dict[str, bytes], overwrite: bool = True) -> None:
    """Atomically write ``path`` as a zip of uncompressed ``{name: bytes}`` members (the
    layout of Keras's ``.keras`` files and of minicnn's ``.minicnn``)."""

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    atomic_write(path, write, overwrite)


# --------------------------------------------------------------------------- zip archives


@contextlib.contextmanager
def damaged(source: str, what: str = "") -> Iterator[None]:
    """Turn whatever a library raises on corrupt bytes into a ValueError naming ``source``."""
    try:
        yield
    except _PARSE_ERRORS as err:
        where = f" ({what})" if what else ""
        raise ValueError(
            f"{source} is damaged or not in the expected format{where}: {type(err).__name__}: {err}"
        ) from None


def escapes_archive(name: str) -> bool:
    """True for member names that would land outside a folder they were extracted to:
    absolute paths, drive letters, ``..`` components, backslashes, NUL bytes."""
    parts = name.split("/")
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or (len(name) > 1 and name[1] == ":")
        or any(part in ("", "..") for part in parts)
    )


def open_zip(data: bytes, source: str) -> zipfile.ZipFile:
    """A zip archive over ``data``, after rejecting escaping and duplicated member names."""
    with damaged(source, "not a readable zip archive; truncated or not written by minicnn?"):
        archive = zipfile.ZipFile(io.BytesIO(data))
    if archive.infolist() and min(info.header_offset for info in archive.infolist()) != 0:
        # zipfile reads whatever zip directory it finds last: in a truncated model file that
        # is the one of the weights archive stored inside it.
        raise ValueError(
            f"{source} is damaged or not in the expected format: its zip directory does not "
            "describe the file from its first byte (truncated, or data prepended?)."
        )
    seen = set()
    for name in archive.namelist():
        if escapes_archive(name):
            raise ValueError(
                f"{source}: member name {name!r} tries to leave the archive; refusing to load it."
            )
        if name in seen:
            raise ValueError(f"{source}: member {name!r} appears more than once.")
        seen.add(name)
    return archive


def read_member(archive: zipfile.ZipFile, name: str, source: str, limit: int) -> bytes:
    """The bytes of member ``name``; a ValueError if it is missing or over ``limit`` bytes."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(
            f"{source}: member {name!r} is missing (found {archive.namelist()})."
        ) from None
    if info.file_size > limit:
        raise ValueError(
            f"{source}: member {name!r} is {info.file_size} bytes; at most {limit} expected."
        )
    with damaged(source, f"member {name!r}"), archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{source}: member {name!r} is larger than the {limit} bytes expected.")
    return data


def read_stored_member(archive: zipfile.ZipFile, name: str, source: str) -> bytes:
    """The bytes of an uncompressed member. minicnn writes arrays uncompressed; refusing
    compressed ones bounds the memory a small hostile file can claim (no zip bombs)."""
    info = archive.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(
            f"{source}: member {name!r} is compressed; minicnn writes and reads arrays "
            "uncompressed."
        )
    return read_member(archive, name, source, limit=info.compress_size)


# --------------------------------------------------------------------------- .npz of weights


def write_npz(f: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` (what ``np.savez`` writes) of ``{name: array}``, in order."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


def read_npz(data: bytes, source: str, expected: Sequence[tuple[str, tuple]]) -> list[np.ndarray]:
    """The arrays of an ``.npz`` written by ``write_npz``, in the order of ``expected``.

    ``expected`` lists ``(name, shape)`` pairs. Names, count and shapes are checked from
    the members' names and ``.npy`` headers before any array data is decoded. When the
    names differ but the file holds the same weights in the same order (the same
    architecture whose layers got other automatic names, say ``conv2d_1``), the arrays
    are matched by position, as Keras 3 matches weights by structure.
    """
    archive = open_zip(data, source)
    headers = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise ValueError(f"{source}: member {info.filename!r} is not a .npy array.")
        headers[info.filename[:-4]] = _npy_header(archive, info, source)
    found = [(name, shape) for name, (shape, _, _, _) in headers.items()]
    order = _match(found, list(expected), source)
    arrays = []
    for name in order:
        shape, dtype, fortran, payload = headers[name]
        array = np.frombuffer(payload, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        arrays.append(array.astype(np.float32))
    return arrays


def _npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str):
    """``(shape, dtype, fortran_order, data bytes)`` of one ``.npy`` member, checked."""
    name = info.filename[:-4]
    raw = read_stored_member(archive, info.filename, source)
    f = io.BytesIO(raw)
    with damaged(source, f"header of weight {name!r}"):
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError(
            f"{source}: weight {name!r} is an array of Python objects, which only unpickling "
            "could read; minicnn never unpickles (it could run code from the file)."
        )
    if dtype.kind != "f" or dtype.fields is not None:
        raise ValueError(
            f"{source}: weight {name!r} has dtype {dtype}; weights must be floating point."
        )
    payload = raw[f.tell() :]
    size = math.prod(shape) * dtype.itemsize
    if len(payload) != size:
        raise ValueError(
            f"{source}: weight {name!r} of shape {shape} needs {size} bytes of data but the "
            f"file holds {len(payload)}; the file is truncated or corrupt."
        )
    return shape, dtype, fortran, payload


def _match(found: list, expected: list, source: str) -> list[str]:
    """File member names in the order of ``expected``, or a ValueError saying what differs."""
    by_name = dict(found)
    if set(by_name) == {name for name, _ in expected}:
        wrong = [
            f"{name!r} has shape {by_name[name]} in the file but {shape} in the model"
            for name, shape in expected
            if by_name[name] != tuple(shape)
        ]
        if not wrong:
            return [name for name, _ in expected]
        raise ValueError(
            f"{source} does not fit this model (another architecture?): " + "; ".join(wrong)
        )
    if _structure(found) == _structure(expected):
        return [name for name, _ in found]
    missing = [name for name, _ in expected if name not in by_name]
    unexpected = [name for name, _ in found if name not in dict(expected)]
    raise ValueError(
        f"{source} does not fit this model (another architecture?): the file holds "
        f"{len(found)} weights {_listing(found)}, the model expects {len(expected)} weights "
        f"{_listing(expected)}. Missing from the file: {missing}; not in the model: "
        f"{unexpected}."
    )


def _structure(named_shapes: list) -> list:
    """Layer grouping, weight names and shapes, without the layer names."""
    layers, out = {}, []
    for name, shape in named_shapes:
        layer, _, weight = name.rpartition("/")
        layers.setdefault(layer, len(layers))
        out.append((layers[layer], weight, tuple(shape)))
    return out


def _listing(named_shapes: list, limit: int = 8) -> str:
    items = [f"{name} {tuple(shape)}" for name, shape in named_shapes[:limit]]
    more = ", ..." if len(named_shapes) > limit else ""
    return "[" + ", ".join(items) + more + "]"
