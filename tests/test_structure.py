"""minicnn.structure: nests of leaves flattened in Keras's order and packed back."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicnn import layers
from minicnn.layers import Input
from minicnn.models import Model
from minicnn.structure import LEAF, Structure, describe, flatten_any

is_int = lambda v: isinstance(v, int)  # noqa: E731

nests = st.recursive(
    st.integers(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3),
        st.lists(children, min_size=1, max_size=3).map(tuple),
        st.dictionaries(
            st.text("abcxyz", min_size=1, max_size=2), children, min_size=1, max_size=3
        ),
    ),
    max_leaves=10,
)


def sorted_leaves(value):
    """keras.tree's order, written out: depth first, a dict's entries by sorted key."""
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in sorted_leaves(value[k])]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in sorted_leaves(v)]
    return [value]


@given(nests)
def test_flatten_is_keras_order_and_pack_undoes_it(value):
    structure = Structure.of(value, is_int)
    leaves = structure.flatten(value)
    assert leaves == sorted_leaves(value)
    assert structure.size == len(leaves)
    packed = structure.pack(leaves)
    assert packed == value and type(packed) is type(value)
    assert len(structure.paths()) == structure.size


def test_dicts_flatten_by_sorted_key_and_paths_name_each_leaf():
    value = {"b": 1, "a": (2, {"z": 3, "y": 4})}
    structure = Structure.of(value, is_int)
    assert structure.flatten(value) == [2, 4, 3, 1]
    assert structure.paths() == [("a", 0), ("a", 1, "y"), ("a", 1, "z"), ("b",)]
    assert structure.describe() == "{'a': (*, {'y': *, 'z': *}), 'b': *}"
    assert list(structure.pack([2, 4, 3, 1])) == ["a", "b"]


def test_a_list_and_a_tuple_stand_for_each_other_but_nothing_else_does():
    structure = Structure.of([[1], (2, 3)], is_int)
    assert structure.matches(((1,), [2, 3])) and not structure.matches([[1], (2,)])
    assert not structure.matches({"a": 1}) and not structure.matches(5)
    with pytest.raises(ValueError, match=r"expected the structure \[\[\*\], \(\*, \*\)\]"):
        structure.flatten([[1], 2])
    # A dict takes extra keys (a model ignores inputs it does not read) but not missing ones.
    keyed = Structure.of({"a": 1}, is_int)
    assert keyed.flatten({"a": 1, "b": 2}) == [1] and not keyed.matches({"b": 2})


def test_namedtuples_keep_their_class():
    Pair = namedtuple("Pair", ["left", "right"])
    structure = Structure.of(Pair(1, [2, 3]), is_int)
    assert structure.kind == "namedtuple" and structure.keys == ("left", "right")
    packed = structure.pack([7, 8, 9])
    assert type(packed) is Pair and packed == Pair(7, [8, 9])


def test_what_is_not_a_nest_of_leaves_is_refused():
    with pytest.raises(ValueError, match="must be non-empty with string keys"):
        Structure.of({1: 2}, is_int, "inputs")
    with pytest.raises(ValueError, match="must be non-empty with string keys"):
        Structure.of({}, is_int)
    with pytest.raises(ValueError, match="`outputs` holds 'x'"):
        Structure.of([1, "x"], is_int, "outputs")
    with pytest.raises(ValueError, match="pack: 2 leaves expected, 3 given"):
        Structure.of([1, 2], is_int).pack([1, 2, 3])
    assert Structure.of(4, is_int) is LEAF and LEAF.pack([4]) == 4


def test_describe_and_flatten_any():
    assert describe({"a": [1, (2,)]}) == "{'a': [int, (int)]}"
    assert flatten_any({"b": [1], "a": 2}, is_int) == [2, 1]


# --------------------------------------------------------------------------- in models
shapes_nests = st.recursive(
    st.integers(1, 3),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=2),
        st.lists(children, min_size=1, max_size=2).map(tuple),
        st.dictionaries(st.sampled_from("abcd"), children, min_size=1, max_size=2),
    ),
    max_leaves=4,
)


@settings(max_examples=25, deadline=None)
@given(shapes_nests, st.data())
def test_models_take_and_return_any_nesting(widths, data):
    # Inputs nested as drawn, each through its own Dense; the outputs nest the same way,
    # so every output leaf is checked against its own input, through a config round trip.
    structure = Structure.of(widths, is_int)
    inputs = [Input((w,)) for w in structure.flatten(widths)]
    outputs = [layers.Dense(2)(t) for t in inputs]
    model = Model(structure.pack(inputs), structure.pack(outputs))
    assert Model.from_config(model.get_config()).get_config() == model.get_config()
    arrays = [np.full((3, w), float(i + 1)) for i, w in enumerate(structure.flatten(widths))]
    out = model.predict(structure.pack(arrays), verbose=0)
    assert Structure.of(out, lambda v: isinstance(v, np.ndarray)) == structure
    for got, x, t in zip(structure.flatten(out), arrays, outputs):
        kernel, bias = t._history[0].get_weights()
        # float32 arithmetic, as the model's: a small sum may cancel, hence atol.
        np.testing.assert_allclose(got, x @ kernel + bias, rtol=1e-6, atol=1e-6)
