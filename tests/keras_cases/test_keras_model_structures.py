"""Keras 3's models/model_test.py, the nested-structure cases: outputs given as tuples,
lists, namedtuples and dicts of them, and losses given as structures, where a loss
that is not a container receives the whole sub-structure of outputs it stands for (its
``y_true`` and ``y_pred`` nest as those outputs do). The History keys are Keras's; the
loss values are checked too (Keras's test checks only the keys)."""

from __future__ import annotations

from collections import namedtuple

import autograd.numpy as anp
import numpy as np
import pytest

from minicnn import layers, losses
from minicnn.layers import Input
from minicnn.models import Model, load_model

RNG = np.random.default_rng(0)
X = RNG.random((8, 3))
Y1, Y2, Y3 = RNG.random((8, 1)), RNG.random((8, 1)), RNG.random((8, 1))


def heads(n=2):
    x = Input(shape=(3,), name="x")
    return x, [layers.Dense(1, name=f"y{i + 1}", activation="sigmoid")(x) for i in range(n)]


def kinds(value):
    """A value's nesting, leaves as their rank (what Keras's struct loss compares)."""
    if isinstance(value, dict):
        return {k: kinds(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (
            type(value)(kinds(v) for v in value)
            if type(value) in (list, tuple)
            else (type(value)(*(kinds(v) for v in value)))
        )
    return np.ndim(value)


def leaves(value):
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in leaves(value[k])]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def struct_loss(structure):
    """Keras's get_struct_loss: checks that y_true and y_pred nest as ``structure`` (with
    leaves of the same rank), then sums the mean absolute errors of the leaves."""
    want = kinds(structure)

    def loss_fn(y_true, y_pred):
        for got in (y_true, y_pred):
            if kinds(got) != want:
                raise ValueError(f"Expected {want!r}, received {kinds(got)!r}")
        diff = 0.0
        for t, p in zip(leaves(y_true), leaves(y_pred)):
            diff = diff + anp.mean(anp.abs(t - p), axis=-1)
        return diff

    return loss_fn


def mae(a, b):
    return float(np.mean(np.abs(np.asarray(a, np.float32) - b)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("kind", "other"), [(tuple, list), (list, tuple)])
def test_functional_struct_outputs_struct_losses(kind, other, weighted):
    x, (y1, y2) = heads()
    model = Model(x, kind([y1, y2]))
    assert isinstance(model.output, kind)
    loss = other(
        [
            struct_loss(model.output),
            kind([struct_loss(model.output[0]), struct_loss(model.output[1])]),
        ]
    )
    weights = other([0.7, kind([0.2, 0.5])]) if weighted else None
    model.compile(optimizer="sgd", loss=loss, loss_weights=weights)
    outputs = model.predict(X, verbose=0)
    assert isinstance(outputs, kind)
    history = model.fit(X, kind([Y1, Y2]), batch_size=2, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "y1_loss", "y1_y2_loss", "y2_loss"]
    # The whole-structure loss is the two outputs' errors summed; the total weighs each.
    p1, p2 = model.predict(X, verbose=0)
    logs = model.evaluate(X, kind([Y1, Y2]), batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["y1_y2_loss"], mae(Y1, p1) + mae(Y2, p2), rtol=1e-5)
    np.testing.assert_allclose(logs["y1_loss"], mae(Y1, p1), rtol=1e-5)
    w = (0.7, 0.2, 0.5) if weighted else (1.0, 1.0, 1.0)
    want = w[0] * logs["y1_y2_loss"] + w[1] * logs["y1_loss"] + w[2] * logs["y2_loss"]
    np.testing.assert_allclose(logs["loss"], want, rtol=1e-5)


@pytest.mark.parametrize("kind", [tuple, list])
def test_functional_struct_outputs_struct_losses_of_the_outputs_own_type(kind):
    # Keras's same-type case: the first loss then applies to the first output alone and
    # the second output gets two losses; Keras fails at fit (the struct loss, given one
    # output, says what it expected). minicnn refuses two losses for one output at
    # compile (README, "Differences from Keras").
    x, (y1, y2) = heads()
    model = Model(x, kind([y1, y2]))
    loss = kind(
        [
            struct_loss(model.output),
            kind([struct_loss(model.output[0]), struct_loss(model.output[1])]),
        ]
    )
    with pytest.raises(ValueError, match="output 'y2' is given 2 losses; expected one"):
        model.compile(optimizer="sgd", loss=loss)
    assert not model.compiled


@pytest.mark.parametrize("weighted", [False, True])
def test_functional_struct_outputs_dict_struct_losses(weighted):
    x, (y1, y2) = heads()
    model = Model(x, {"a": y1, "b": y2})
    loss = [
        struct_loss(model.output),
        {"a": struct_loss(model.output["a"]), "b": struct_loss(model.output["a"])},
    ]
    weights = [0.3, {"a": 0.6, "b": 0.9}] if weighted else None
    model.compile(optimizer="sgd", loss=loss, loss_weights=weights)
    assert isinstance(model.predict(X, verbose=0), dict)
    history = model.fit(X, {"a": Y1, "b": Y2}, batch_size=2, epochs=1, verbose=0)
    assert sorted(history.history) == ["a_b_loss", "a_loss", "b_loss", "loss"]
    logs = model.evaluate(X, {"a": Y1, "b": Y2}, batch_size=8, verbose=0, return_dict=True)
    w = (0.3, 0.6, 0.9) if weighted else (1.0, 1.0, 1.0)
    want = w[0] * logs["a_b_loss"] + w[1] * logs["a_loss"] + w[2] * logs["b_loss"]
    np.testing.assert_allclose(logs["loss"], want, rtol=1e-5)


def test_functional_struct_outputs_namedtuple_struct_losses():
    Y = namedtuple("Y", ["y1", "y2"])
    x, (y1, y2) = heads()
    model = Model(x, Y(y1, y2))
    model.compile(
        optimizer="sgd",
        loss=[
            struct_loss(model.output),
            Y(struct_loss(model.output.y1), struct_loss(model.output.y2)),
        ],
    )
    outputs = model.predict(X, verbose=0)
    assert isinstance(outputs, tuple) and type(outputs) is Y
    history = model.fit(X, Y(Y1, Y2), batch_size=2, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "y1_loss", "y1_y2_loss", "y2_loss"]


def test_functional_deeply_nested_outputs_struct_losses():
    x, (y1, y2, y3) = heads(3)
    model = Model(
        x,
        {
            "a": (y1, y2),
            "b": {"b1": y1, "b2": y2},
            "c": {"c1": (y1, y2), "c2": y2},
            "d": y3,
        },
    )
    y = {
        "a": (Y1, Y2),
        "b": {"b1": Y1, "b2": Y2},
        "c": {"c1": (Y1, Y2), "c2": Y2},
        "d": Y3,
    }
    out = model.output
    model.compile(
        optimizer="sgd",
        loss={
            "a": [struct_loss(out["a"]), (None, struct_loss(out["a"][1]))],
            "b": [struct_loss(out["b"]), {"b1": struct_loss(out["b"]["b1"])}],
            "c": [struct_loss(out["c"]), {"c1": struct_loss(out["c"]["c1"])}],
            "d": struct_loss(out["d"]),
        },
    )
    assert isinstance(model.predict(X, verbose=0), dict)
    history = model.fit(X, y, batch_size=2, epochs=1, verbose=0)
    assert sorted(history.history) == [
        "a/y2_loss",
        "a_loss",
        "b/b1_loss",
        "b_loss",
        "c/c1_loss",
        "c_loss",
        "d_loss",
        "loss",
    ]
    logs = model.evaluate(X, y, batch_size=8, verbose=0, return_dict=True)
    pred = model.predict(X, verbose=0)
    np.testing.assert_allclose(logs["a/y2_loss"], mae(Y2, pred["a"][1]), rtol=1e-5)
    c = mae(Y1, pred["c"]["c1"][0]) + mae(Y2, pred["c"]["c1"][1]) + mae(Y2, pred["c"]["c2"])
    np.testing.assert_allclose(logs["c_loss"], c, rtol=1e-5)
    parts = [v for k, v in logs.items() if k != "loss"]
    np.testing.assert_allclose(logs["loss"], sum(parts), rtol=1e-5)


def test_a_built_in_loss_for_several_outputs_is_refused_at_compile():
    # "mse" compares one output with its targets; given a whole structure it is refused
    # before anything is set (Keras would fail inside the loss at fit).
    x, (y1, y2) = heads()
    model = Model(x, (y1, y2))
    with pytest.raises(ValueError, match="loss 'mse' is given for \\(\\*, \\*\\).*built-in loss"):
        model.compile(optimizer="sgd", loss=["mse", ("mae", "mae")])
    assert not model.compiled


def test_nested_targets_must_nest_as_the_outputs():
    x, (y1, y2, y3) = heads(3)
    model = Model(x, {"a": (y1, y2), "d": y3})
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="nested outputs .* must nest the same way"):
        model.fit(X, {"a": Y1, "d": Y3}, verbose=0)
    # A flat list of one array per output (outputs order) is read as Keras reads it.
    model.fit(X, [Y1, Y2, Y3], verbose=0)
    nested = model.evaluate(X, {"a": [Y1, Y2], "d": Y3}, verbose=0, return_dict=True)
    flat = model.evaluate(X, [Y1, Y2, Y3], verbose=0, return_dict=True)
    assert nested == flat and sorted(nested) == ["a/y1_loss", "a/y2_loss", "d_loss", "loss"]


def test_loss_weights_must_match_the_losses():
    x, (y1, y2) = heads()
    model = Model(x, (y1, y2))
    loss = [struct_loss(model.output), (struct_loss(y1), struct_loss(y2))]
    with pytest.raises(ValueError, match="`loss_weights` must match the number of losses"):
        model.compile(optimizer="sgd", loss=loss, loss_weights=[1.0, 2.0])
    # As many numbers as losses, nested otherwise, are taken in order (Keras's rule).
    model.compile(optimizer="sgd", loss=loss, loss_weights=[1.0, 2.0, 3.0])
    assert [t.weight for t in model.compiled_loss.terms] == [1.0, 2.0, 3.0]


def test_a_path_the_outputs_do_not_have_is_refused():
    x, (y1, y2) = heads()
    model = Model(x, {"a": (y1, y2)})
    with pytest.raises(ValueError, match=r"the path \('a', 'zz'\) in the `loss` argument"):
        model.compile(optimizer="sgd", loss={"a": {"zz": "mse"}})
    with pytest.raises(ValueError, match=r"the path \('b',\) in the `loss` argument"):
        model.compile(optimizer="sgd", loss={"b": "mse"})


def test_a_loss_subclass_may_take_the_whole_structure():
    # A user's Loss whose call reads structures is applied to them, as a function is. (A
    # loss alone applies to each output; a list of one, for tuple outputs, to the tuple.)
    class PairGap(losses.Loss):
        def call(self, y_true, y_pred):
            (t1, t2), (p1, p2) = y_true, y_pred
            return anp.mean(anp.abs(t1 - p1) + anp.abs(t2 - p2), axis=-1)

    x, (y1, y2) = heads()
    model = Model(x, (y1, y2))
    model.compile(optimizer="sgd", loss=[PairGap(name="pair_gap")])
    logs = model.evaluate(X, (Y1, Y2), batch_size=8, verbose=0, return_dict=True)
    p1, p2 = model.predict(X, verbose=0)
    np.testing.assert_allclose(logs["loss"], mae(Y1, p1) + mae(Y2, p2), rtol=1e-5)


def test_metrics_nest_as_the_outputs():
    # Keras's CompileMetrics for nested outputs: the metrics nest as the outputs do, each
    # named after its output's layer (checked against Keras 3.15: the same keys and values).
    x, (y1, y2, y3) = heads(3)
    model = Model(x, {"a": (y1, y2), "d": y3})
    y = {"a": (Y1, Y2), "d": Y3}
    model.compile(optimizer="sgd", loss="mse", metrics={"a": (["mae"], None), "d": ["mse"]})
    history = model.fit(X, y, batch_size=4, epochs=1, verbose=0)
    assert sorted(history.history) == [
        "a/y1_loss",
        "a/y2_loss",
        "d_loss",
        "loss",
        "y1_mae",
        "y3_mse",
    ]
    logs = model.evaluate(X, y, batch_size=8, verbose=0, return_dict=True)
    pred = model.predict(X, verbose=0)
    np.testing.assert_allclose(logs["y1_mae"], mae(Y1, pred["a"][0]), rtol=1e-5)
    np.testing.assert_allclose(logs["y3_mse"], logs["d_loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="match the output structure of the model"):
        model.compile(optimizer="sgd", loss="mse", metrics={"a": ["mae"], "zz": ["mse"]})


def test_sample_weights_nest_as_the_targets():
    x, (y1, y2, y3) = heads(3)
    model = Model(x, {"a": (y1, y2), "d": y3})
    y = {"a": (Y1, Y2), "d": Y3}
    model.compile(optimizer="sgd", loss="mse")
    w = np.r_[np.zeros(4), np.ones(4)]
    nested = model.evaluate(
        X, y, sample_weight={"a": (w, None), "d": w}, verbose=0, return_dict=True
    )
    flat = model.evaluate(X, y, sample_weight=[w, None, w], verbose=0, return_dict=True)
    plain = model.evaluate(X, y, verbose=0, return_dict=True)
    assert nested == flat
    # Keras's sum_over_batch_size: the weighted values summed, over all 8 samples.
    pred = model.predict(X, verbose=0)["a"][0]
    want = float(np.sum(w[:, None] * (Y1 - pred) ** 2) / 8)
    np.testing.assert_allclose(nested["a/y1_loss"], want, rtol=1e-5)
    assert nested["a/y2_loss"] == plain["a/y2_loss"]


def test_the_compile_config_of_nested_outputs_nests_and_survives_files(tmp_path):
    # Nested as the outputs, the form Keras reads for nested outputs (checked: Keras 3.15
    # loads such a file and evaluates to the same numbers).
    x, (y1, y2, y3) = heads(3)
    model = Model(x, {"a": (y1, y2), "d": y3})
    model.compile(
        optimizer="adam",
        loss={"a": ("mse", "mae"), "d": "mse"},
        loss_weights={"a": (1.0, 2.0), "d": 0.5},
        metrics={"a": (["mae"], None), "d": ["mse"]},
    )
    config = model.get_compile_config()
    assert [e["class_name"] for e in config["loss"]["a"]] == [
        "MeanSquaredError",
        "MeanAbsoluteError",
    ]
    assert config["loss"]["d"]["class_name"] == "MeanSquaredError"
    assert config["loss_weights"] == {"a": (1.0, 2.0), "d": 0.5}
    assert set(config["metrics"]) == {"a", "d"}
    y = {"a": (Y1, Y2), "d": Y3}
    model.fit(X, y, epochs=1, verbose=0)
    want = model.evaluate(X, y, verbose=0, return_dict=True)
    for suffix in ("keras", "minicnn", "h5"):
        model.save(tmp_path / f"m.{suffix}")
        assert (
            load_model(tmp_path / f"m.{suffix}").evaluate(X, y, verbose=0, return_dict=True) == want
        )


def test_a_structure_loss_is_not_saved_as_something_else(tmp_path):
    x, (y1, y2) = heads()
    model = Model(x, (y1, y2))
    model.compile(optimizer="sgd", loss=[struct_loss(model.output), ("mse", "mae")])
    with pytest.raises(ValueError, match="cannot be written as data: a loss of a whole"):
        model.get_compile_config()
    with pytest.raises(ValueError, match="cannot be written as data"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_bad_nested_targets_are_named_by_their_path():
    x, (y1, y2) = heads()
    model = Model(x, {"pair": (y1, y2)})
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"`y\['pair'\]\[1\]` of per-sample shape \(3,\)"):
        model.fit(X, {"pair": (Y1, np.ones((8, 3)))}, verbose=0)
    with pytest.raises(ValueError, match=r"`y\['pair'\]\[0\]` contains NaN"):
        model.fit(X, {"pair": (np.full((8, 1), np.nan), Y2)}, verbose=0)
