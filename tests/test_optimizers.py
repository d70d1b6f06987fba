"""Optimizer steps against the update formulas, written out here in numpy."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn
from minicnn import optimizers

f32 = np.float32
W = np.array([[0.5, -1.0], [2.0, 0.25]], f32)
G1 = np.array([[0.1, -0.2], [0.3, 0.0]], f32)
G2 = np.array([[-0.4, 0.5], [0.05, 1.0]], f32)


def run(optimizer, grads, weight=W):
    weights = [weight.copy()]
    for g in grads:
        weights = optimizer.apply([g], weights)
    return weights[0]


def test_sgd_step_is_w_minus_lr_g():
    new = run(optimizers.SGD(learning_rate=0.1), [G1])
    np.testing.assert_allclose(new, W - 0.1 * G1, rtol=1e-6)


def test_sgd_momentum_two_steps():
    lr, m = 0.1, 0.9
    v1 = -lr * G1
    v2 = m * v1 - lr * G2
    new = run(optimizers.SGD(learning_rate=lr, momentum=m), [G1, G2])
    np.testing.assert_allclose(new, W + v1 + v2, rtol=1e-6)


def test_sgd_nesterov_two_steps():
    lr, m = 0.1, 0.9
    v1 = -lr * G1
    w1 = W + m * v1 - lr * G1
    v2 = m * v1 - lr * G2
    w2 = w1 + m * v2 - lr * G2
    new = run(optimizers.SGD(learning_rate=lr, momentum=m, nesterov=True), [G1, G2])
    np.testing.assert_allclose(new, w2, rtol=1e-6)


def adam_reference(grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-7, w=W, c1=None, c2=None, power=pow):
    """Adam in float64; ``c1``/``c2`` (default ``1 - b1``, ``1 - b2``) weigh new gradients,
    ``power(b, t)`` gives the bias-correction powers."""
    c1, c2 = 1 - b1 if c1 is None else c1, 1 - b2 if c2 is None else c2
    w, m, v = w.astype(float), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        g = g.astype(float)
        m = (1 - c1) * m + c1 * g
        v = (1 - c2) * v + c2 * g * g
        alpha = lr * np.sqrt(1 - power(b2, t)) / (1 - power(b1, t))
        w = w - alpha * m / (np.sqrt(v) + eps)
    return w


def test_adam_three_steps_match_the_formula_with_epsilon_hat():
    grads = [G1, G2, G1]
    new = run(optimizers.Adam(learning_rate=0.01), grads)
    np.testing.assert_allclose(new, adam_reference(grads), rtol=1e-6, atol=1e-7)


def test_adam_first_step_moves_each_weight_by_about_lr_times_sign():
    new = run(optimizers.Adam(learning_rate=0.01), [G1])
    step = W - new
    np.testing.assert_allclose(step[G1 != 0], 0.01 * np.sign(G1[G1 != 0]), rtol=1e-4)
    assert step[1, 1] == 0


def test_adam_float32_update_is_bitwise_kerass_operation_order():
    # Keras's adam.py update_step in float32, operation for operation.
    lr, b1, b2, eps = f32(0.01), 0.9, 0.999, 1e-7
    w, m, v = W.copy(), np.zeros_like(W), np.zeros_like(W)
    for iteration, g in enumerate([G1, G2, G1, G2]):
        step = f32(iteration + 1)
        b1p, b2p = np.power(f32(b1), step), np.power(f32(b2), step)
        alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
        m = m + (g - m) * f32(1 - b1)
        v = v + (np.square(g) - v) * f32(1 - b2)
        w = w - (m * alpha) / (np.sqrt(v) + f32(eps))
    new = run(optimizers.Adam(learning_rate=0.01), [G1, G2, G1, G2])
    assert new.dtype == f32
    np.testing.assert_array_equal(new, w)


def rmsprop_reference(grads, lr=0.01, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, mom, avg = W.astype(float), 0.0, 0.0, 0.0
    for g in grads:
        g = g.astype(float)
        v = rho * v + (1 - rho) * g * g
        denominator = v + eps
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator = v - avg * avg + eps
        increment = lr * g / np.sqrt(denominator)
        mom = momentum * mom + increment
        w = w - mom
    return w


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.5}, {"centered": True}, {"momentum": 0.9, "centered": True, "rho": 0.8}],
)
def test_rmsprop_two_steps_match_the_formula(kwargs):
    grads = [G1, G2]
    new = run(optimizers.RMSprop(learning_rate=0.01, **kwargs), grads)
    np.testing.assert_allclose(new, rmsprop_reference(grads, **kwargs), rtol=1e-5, atol=1e-6)


def test_rmsprop_matches_kerass_docstring_example():
    # keras.optimizers.RMSprop(learning_rate=0.1) on loss var**2/2 from 10.0 gives 9.683772.
    new = run(optimizers.RMSprop(learning_rate=0.1), [np.array([10.0], f32)], np.array([10.0], f32))
    assert new[0] == pytest.approx(9.683772, abs=1e-6)


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.SGD(momentum=0.9),
        optimizers.Adam(amsgrad=True),
        optimizers.RMSprop(momentum=0.5, centered=True),
    ],
)
def test_state_round_trip_resumes_identically(optimizer):
    weights = run(optimizer, [G1])
    state = optimizer.get_state()
    clone = optimizers.deserialize(optimizers.serialize(optimizer))
    clone.set_state(state)
    assert clone.iterations == 1
    assert all(v.dtype == f32 for v in clone.slot_arrays)
    np.testing.assert_array_equal(
        clone.apply([G2], [weights])[0], optimizer.apply([G2], [weights])[0]
    )


def test_state_layout_follows_keras_variable_order():
    adam = optimizers.Adam()
    adam.apply([G1, G1[0]], [W, W[0]])
    shapes = [v.shape for v in adam.get_state()["variables"]]
    assert shapes == [(2, 2), (2,), (2, 2), (2,)]  # momentums, then velocities
    assert optimizers.SGD().get_state()["variables"] == []


def test_set_state_checks_shapes_before_assigning():
    adam = optimizers.Adam()
    adam.apply([G1], [W])
    before = adam.get_state()
    bad = {"iterations": 5, "variables": [np.zeros((3, 3)), np.zeros((2, 2))]}
    with pytest.raises(ValueError, match="do not match"):
        adam.set_state(bad)
    assert adam.iterations == before["iterations"]
    np.testing.assert_array_equal(adam.slot_arrays[0], before["variables"][0])
    with pytest.raises(ValueError, match="iterations"):
        adam.set_state({"iterations": -1, "variables": before["variables"]})
    with pytest.raises(ValueError, match="finite"):
        adam.set_state({"iterations": 1, "variables": [np.full((2, 2), np.nan)] * 2})


def test_optimizer_refuses_weights_of_other_shapes():
    sgd = optimizers.SGD(momentum=0.5)
    sgd.apply([G1], [W])
    with pytest.raises(ValueError, match="built for trainable weights"):
        sgd.apply([G1[0]], [W[0]])


def test_names_are_case_insensitive_and_unknown_names_list_valid_ones():
    assert type(optimizers.get("SGD")) is optimizers.SGD
    assert type(optimizers.get("adam")) is optimizers.Adam
    assert type(optimizers.get("RMSprop")) is optimizers.RMSprop
    with pytest.raises(ValueError, match=r"'adamw'.*\['adam', 'rmsprop', 'sgd'\]"):
        optimizers.get("adamw")


def test_keras_defaults_and_config():
    # Keras 3.15.1 reports the learning rate as its float32 variable holds it, and names
    # optimizers automatically: sgd, sgd_1, adam, rm_sprop.
    minicnn.utils.clear_session()
    assert optimizers.SGD().get_config() == {
        "name": "sgd",
        "learning_rate": 0.009999999776482582,
        "weight_decay": None,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "momentum": 0.0,
        "nesterov": False,
    }
    adam = optimizers.Adam().get_config()
    assert (adam["learning_rate"], adam["beta_1"], adam["beta_2"], adam["epsilon"]) == (
        0.0010000000474974513,
        0.9,
        0.999,
        1e-7,
    )
    assert optimizers.SGD().name == "sgd_1"
    rms = optimizers.RMSprop().get_config()
    assert rms["name"] == "rm_sprop"
    assert (rms["learning_rate"], rms["rho"], rms["momentum"], rms["epsilon"]) == (
        0.0010000000474974513,
        0.9,
        0.0,
        1e-7,
    )


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: optimizers.SGD(momentum=1.5), "momentum"),
        (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate"),
        (lambda: optimizers.Adam(learning_rate=float("nan")), "learning_rate"),
        (lambda: optimizers.Adam(beta_1=2.0), "beta_1"),
        (lambda: optimizers.RMSprop(rho=-1.0), "rho"),
        (lambda: optimizers.SGD(clipnorm=-1.0), "clipnorm"),
        (lambda: optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0), "Only one of `clipnorm`"),
        (lambda: optimizers.SGD(weight_decay=-0.1), "weight_decay"),
        (lambda: optimizers.Adam(use_ema=True), "use_ema"),  # EMA is not implemented
    ],
)
def test_bad_hyper_parameters_raise_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_update_is_pure():
    sgd = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    sgd.build([W])
    weights, variables = sgd.update([G1], [W])
    assert sgd.iterations == 0
    np.testing.assert_array_equal(sgd.slot_arrays[0], 0)
    np.testing.assert_allclose(variables[0], -0.1 * G1, rtol=1e-6)
    np.testing.assert_allclose(weights[0], W - 0.1 * G1, rtol=1e-6)


def test_deserialize_matches_names_case_insensitively_and_refuses_unknown_classes():
    assert type(optimizers.deserialize({"class_name": "adam", "config": {}})) is optimizers.Adam
    with pytest.raises(ValueError, match="unknown class 'Evil'"):
        optimizers.deserialize({"class_name": "Evil", "config": {}})
    with pytest.raises(ValueError, match="speed"):
        optimizers.deserialize({"class_name": "SGD", "config": {"speed": 1}})


def moved(expected) -> float:
    """How far the weights travelled: float32 rounding errors scale with the steps taken,
    so a weight that lands near zero is judged against that, not against its own size."""
    return float(np.abs(expected - W).max()) + 1e-7


def sgd_reference(grads, lr, momentum, nesterov, w=W):
    w, v = w.astype(float), 0.0
    for g in grads:
        g = g.astype(float)
        v = momentum * v - lr * g
        w = w + (momentum * v - lr * g if nesterov else v)
    return w


GRADS = hnp.arrays(
    np.float32, (2, 2), elements=st.floats(-2, 2, width=32, allow_nan=False, allow_infinity=False)
)


@settings(max_examples=40, deadline=None)
@given(
    grads=st.lists(GRADS, min_size=1, max_size=4),
    lr=st.floats(1e-4, 0.5),
    momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
    nesterov=st.booleans(),
)
def test_sgd_matches_the_formula_for_any_settings(grads, lr, momentum, nesterov):
    new = run(optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov), grads)
    expected = sgd_reference(grads, lr, momentum, nesterov)
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-5 * moved(expected))


@settings(max_examples=40, deadline=None)
@given(
    grads=st.lists(GRADS, min_size=1, max_size=4),
    lr=st.floats(1e-4, 0.1),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.5, 0.9999),
)
def test_adam_matches_the_formula_for_any_settings(grads, lr, b1, b2):
    new = run(optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2), grads)
    # Keras rounds the hyper-parameters to float32: the powers use float32(b), the moment
    # updates float32(1 - b) computed in Python, and 1 - b2**t, a cancellation when b2 is
    # near 1, is taken from float32 powers. The float64 reference starts from the same.
    expected = adam_reference(
        grads,
        *(float(f32(v)) for v in (lr, b1, b2)),
        c1=float(f32(1 - b1)),
        c2=float(f32(1 - b2)),
        power=lambda b, t: float(np.power(f32(b), f32(t))),
    )
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-5 * moved(expected))


@settings(max_examples=40, deadline=None)
@given(
    grads=st.lists(GRADS, min_size=1, max_size=4),
    lr=st.floats(1e-4, 0.1),
    rho=st.floats(0.5, 0.99),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
)
def test_rmsprop_matches_the_formula_for_any_settings(grads, lr, rho, momentum):
    new = run(optimizers.RMSprop(learning_rate=lr, rho=rho, momentum=momentum), grads)
    expected = rmsprop_reference(grads, *(float(f32(v)) for v in (lr, rho, momentum)))
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-5 * moved(expected))
