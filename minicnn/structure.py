"""Nested structures of tensors or arrays: a model's inputs and outputs, and the losses,
weights and targets given for them (the part of Keras's ``keras.tree`` models use).

A ``Structure`` is the shape of a nest without its leaves: a leaf, or a list, tuple,
namedtuple or dict of structures. ``Structure.of(value, is_leaf)`` reads it from a
value; ``flatten`` lists a matching value's leaves and ``pack`` puts leaves back. Leaves
are ordered as Keras orders them (depth first; a dict's entries by sorted key, so
``{"b": x, "a": y}`` flattens to ``[y, x]``), which fixes the order of a model's
``inputs``, ``outputs``, layers and weights; ``pack`` makes dicts in that order too, as
a Keras model returns its dict outputs.
"""

from __future__ import annotations

from collections.abc import Callable


class Structure:
    """The shape of a nest: ``kind`` is ``"leaf"``, ``"list"``, ``"tuple"``,
    ``"namedtuple"`` or ``"dict"``; a container has ``children`` (in flatten order) and,
    for a dict, ``keys`` (sorted, matching ``children``), for a namedtuple its fields and
    ``cls``; ``size`` counts the leaves."""

    __slots__ = ("kind", "children", "keys", "cls", "size")

    def __init__(self, kind: str, children=(), keys=(), cls=None):
        self.kind, self.children, self.keys, self.cls = kind, tuple(children), tuple(keys), cls
        self.size = 1 if kind == "leaf" else sum(c.size for c in self.children)

    @classmethod
    def of(cls, value, is_leaf: Callable, what: str = "value") -> Structure:
        """The structure of ``value``, whose leaves are what ``is_leaf`` accepts; a
        ValueError names anything else (an empty container, a non-string dict key)."""
        if is_leaf(value):
            return LEAF
        if isinstance(value, dict):
            bad = [k for k in value if not isinstance(k, str)]
            if bad or not value:
                raise ValueError(
                    f"`{what}`: a dict in it must be non-empty with string keys. "
                    f"Received keys: {list(value)!r:.120}"
                )
            keys = sorted(value)
            children = [cls.of(value[k], is_leaf, what) for k in keys]
            return cls("dict", children, keys)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            children = [cls.of(v, is_leaf, what) for v in value]
            return cls("namedtuple", children, value._fields, cls=type(value))
        if isinstance(value, (list, tuple)) and value:
            kind = "list" if isinstance(value, list) else "tuple"
            return cls(kind, [cls.of(v, is_leaf, what) for v in value])
        raise ValueError(f"`{what}` holds {value!r:.80}, which is not accepted there.")

    # ------------------------------------------------------------------ reading
    @property
    def is_leaf(self) -> bool:
        return self.kind == "leaf"

    @property
    def is_flat(self) -> bool:
        """A leaf, or a container of leaves only (one level)."""
        return all(c.is_leaf for c in self.children)

    def flatten(self, value) -> list:
        """The leaves of ``value``, which has this structure (a list and a tuple are
        taken for each other, as Keras does); a ValueError where it does not."""
        out: list = []
        if not self._collect(value, out):
            raise ValueError(
                f"expected the structure {self.describe()}; received {describe(value)}."
            )
        return out

    def matches(self, value) -> bool:
        return self._collect(value, [])

    def _collect(self, value, out: list) -> bool:
        if self.kind == "leaf":
            out.append(value)
            return True
        if self.kind == "dict":
            if not isinstance(value, dict) or not set(self.keys) <= set(value):
                return False
            return all(c._collect(value[k], out) for k, c in zip(self.keys, self.children))
        if not isinstance(value, (list, tuple)) or len(value) != len(self.children):
            return False
        return all(c._collect(v, out) for c, v in zip(self.children, value))

    def pack(self, leaves):
        """The nest of this structure holding ``leaves`` (``size`` of them, in order)."""
        leaves = list(leaves)
        if len(leaves) != self.size:
            raise ValueError(f"pack: {self.size} leaves expected, {len(leaves)} given.")
        return self._build(iter(leaves))

    def _build(self, it):
        if self.kind == "leaf":
            return next(it)
        items = [c._build(it) for c in self.children]
        if self.kind == "dict":
            return dict(zip(self.keys, items))
        if self.kind == "namedtuple":
            return self.cls(*items)
        return items if self.kind == "list" else tuple(items)

    def paths(self) -> list[tuple]:
        """Each leaf's path: the keys and indexes leading to it, in flatten order."""
        if self.kind == "leaf":
            return [()]
        steps = self.keys if self.kind == "dict" else range(len(self.children))
        return [(s, *p) for s, c in zip(steps, self.children) for p in c.paths()]

    def describe(self, leaf: str = "*") -> str:
        """The structure as Keras's messages print one, e.g. ``{'a': [*, *], 'b': *}``."""
        return describe(self.pack([_Mark(leaf)] * self.size))

    def __eq__(self, other) -> bool:
        return isinstance(other, Structure) and (self.kind, self.keys, self.children, self.cls) == (
            other.kind,
            other.keys,
            other.children,
            other.cls,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.keys, self.children))

    def __repr__(self) -> str:
        return f"Structure({self.describe()})"


class _Mark:
    """A leaf's place in ``describe``'s picture of a structure."""

    def __init__(self, text: str):
        self.text = text


LEAF = Structure("leaf")


def describe(value) -> str:
    """A value's nesting with its leaves abbreviated (an array by its shape, anything
    else by its type), for messages."""
    if isinstance(value, _Mark):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{type(value).__name__} shape={tuple(shape)}>"
    return type(value).__name__


def flatten_any(value, is_leaf: Callable) -> list:
    """The leaves of any nest of lists, tuples and dicts (dicts by sorted key)."""
    return Structure.of(value, is_leaf).flatten(value)


__all__ = ["LEAF", "Structure", "describe", "flatten_any"]
