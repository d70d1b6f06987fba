"""HDF5 files (Keras's ``.weights.h5``, the ``model.weights.h5`` inside a ``.keras`` zip,
legacy ``.h5`` models) through h5py, an optional extra: ``pip install 'minicnn[h5]'``.

Files are handled as trees of plain data: ``write(f, tree)`` writes groups, datasets and
attributes from nested dicts; ``read(data, source)`` reads a whole file (bytes already in
memory) back into the same shape, without trusting it. Only hard links are followed (a
soft or external link could point into another file), datasets stored outside the file
(external or virtual) and filtered (compressed) ones are refused, every array must fit in
the bytes the file has, and the tree's size and depth are bounded, all before array data
is read. Any h5py/HDF5 error on a damaged file becomes a ValueError naming the file.
"""

from __future__ import annotations

import io
import math

import numpy as np

MAX_NODES = 100_000
MAX_DEPTH = 32
MAX_ATTR_BYTES = 16 * 2**20


def h5py_module(what: str):
    """The h5py module, or an ImportError saying which extra provides it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            f"{what} needs h5py, which minicnn installs as an optional extra: "
            "pip install 'minicnn[h5]' (or pip install h5py). minicnn's own formats "
            "(.minicnn, .weights.npz) need nothing beyond numpy."
        ) from None
    return h5py


class Group(dict):
    """A group: ``{name: Group | np.ndarray}`` with its attributes in ``attrs``."""

    def __init__(self, items=(), attrs=None):
        super().__init__(items)
        self.attrs = dict(attrs or {})

    def group(self, path: str) -> Group:
        """The group at ``path`` ("a/b"), created (with its parents) when missing."""
        node = self
        for part in path.split("/") if path else ():
            node = node.setdefault(part, Group())
        return node


# --------------------------------------------------------------------------- writing
def write(f, tree: Group, what: str) -> None:
    """Write ``tree`` as an HDF5 file into the open binary file ``f``."""
    h5py = h5py_module(what)
    with h5py.File(f, "w") as out:
        _write_group(out, tree)


def _write_group(target, group: Group) -> None:
    for key, value in group.attrs.items():
        target.attrs[key] = value
    for name, child in group.items():
        if isinstance(child, Group):
            _write_group(target.create_group(name), child)
        else:
            target.create_dataset(name, data=child)


# --------------------------------------------------------------------------- reading
def read(data: bytes, source: str, what: str) -> Group:
    """The whole tree of the HDF5 file held in ``data``; a ValueError naming ``source`` if
    it is damaged or uses storage minicnn refuses."""
    h5py = h5py_module(what)
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            state = {"nodes": 0, "bytes": 0, "limit": len(data)}
            return _read_group(h5py, f, source, "/", 0, state)
    except ValueError as err:
        if str(err).startswith(source):
            raise
        raise ValueError(f"{source} is damaged or not an HDF5 file: {err}") from None
    except (OSError, KeyError, TypeError, RuntimeError, OverflowError) as err:
        raise ValueError(
            f"{source} is damaged or not an HDF5 file: {type(err).__name__}: {err}"
        ) from None


def _read_group(h5py, group, source: str, path: str, depth: int, state: dict) -> Group:
    if depth > MAX_DEPTH:
        raise ValueError(f"{source}: groups nest deeper than {MAX_DEPTH} levels at {path!r}.")
    out = Group(attrs=_attrs(group, source, path))
    for name in group:
        state["nodes"] += 1
        if state["nodes"] > MAX_NODES:
            raise ValueError(f"{source} holds more than {MAX_NODES} objects.")
        where = f"{path.rstrip('/')}/{name}"
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(
                f"{source}: {where!r} is a {type(link).__name__}; minicnn follows only links "
                "inside the file's own tree (a soft or external link could read another file)."
            )
        child = group[name]
        if isinstance(child, h5py.Group):
            out[name] = _read_group(h5py, child, source, where, depth + 1, state)
        else:
            out[name] = _read_dataset(child, source, where, state)
    return out


def _read_dataset(dataset, source: str, where: str, state: dict) -> np.ndarray:
    if dataset.external or dataset.is_virtual:
        raise ValueError(
            f"{source}: dataset {where!r} keeps its data outside the file; refusing to read it."
        )
    if dataset.compression is not None or dataset.shuffle or dataset.fletcher32:
        raise ValueError(
            f"{source}: dataset {where!r} is filtered ({dataset.compression}); minicnn reads "
            "uncompressed weights only (Keras writes them so), which bounds what a small "
            "file can make it allocate."
        )
    dtype = dataset.dtype
    if dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{source}: dataset {where!r} has dtype {dtype}; weights are numbers.")
    size = math.prod(dataset.shape) * dtype.itemsize
    state["bytes"] += size
    if state["bytes"] > state["limit"]:
        raise ValueError(
            f"{source}: dataset {where!r} of shape {dataset.shape} claims more data than the "
            f"file's {state['limit']} bytes hold; the file is damaged or hostile."
        )
    return np.asarray(dataset[()])


def _attrs(obj, source: str, path: str) -> dict:
    out = {}
    for key in obj.attrs:
        shape = obj.attrs.get_id(key).shape
        if math.prod(shape or ()) > MAX_ATTR_BYTES:
            raise ValueError(f"{source}: attribute {key!r} of {path!r} is too large.")
        value = obj.attrs[key]
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="strict")
        elif isinstance(value, np.ndarray) and value.size == 0:
            value = []  # Keras writes an empty name list as an empty float array
        elif isinstance(value, np.ndarray) and value.dtype.kind in "SOU":
            value = [v.decode() if isinstance(v, bytes) else str(v) for v in value.ravel()]
        out[key] = value
    return out
