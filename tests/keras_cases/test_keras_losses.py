"""Keras 3's losses/losses_test.py for the losses minicnn has (MeanSquaredError,
MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
SparseCategoricalCrossentropy), case for case: the same inputs and expected values, to
Keras's assertAlmostEqual (3 decimals unless it says otherwise). Where Keras's test
branches by backend, minicnn follows the torch backend's branch (Keras's reference for
minicnn). bfloat16 (mixed precision) and ignore_class (masking) are out of scope."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minicnn import losses

T2 = np.array([[1, 9, 2], [-5, -2, 6]])
P2 = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
T_TIME = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
P_TIME = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
W_TIME = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
EYE3 = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
P_BCE = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype="float32")
T_BCE2 = np.array([1, 0, 1, 0]).reshape([2, 2])
P_BCE2 = np.array([1, 1, 1, 0], dtype="float32").reshape([2, 2])
T_LOGITS = np.array([[1, 0, 1], [0, 1, 1]])
LOGITS = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])
P_CCE = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
L_CCE = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
W3 = np.array([[1.2], [3.4], [5.6]])
MSE, MAE = losses.MeanSquaredError, losses.MeanAbsoluteError
BCE, CCE = losses.BinaryCrossentropy, losses.CategoricalCrossentropy
SCCE = losses.SparseCategoricalCrossentropy

# (Keras test, loss, y_true, y_pred, sample_weight, expected)
CASES = [
    ("mse all_correct_unweighted", MSE(), P2, P2, None, 0.0),
    ("mse unweighted", MSE(), T2, P2, None, 49.5),
    ("mse scalar_weighted", MSE(), T2, P2, 2.3, 113.85),
    ("mse sample_weighted", MSE(), T2, P2, np.array([[1.2], [3.4]]), 767.8 / 6),
    ("mse timestep_weighted", MSE(), T_TIME, P_TIME, W_TIME, 97.833336),
    ("mse zero_weighted", MSE(), T2, P2, 0, 0.0),
    ("mse sum_reduction", MSE(reduction="sum"), T2, P2, 2.3, 227.69998),
    (
        "mse mean_with_sample_weight_reduction",
        MSE(reduction="mean_with_sample_weight"),
        T2,
        P2,
        np.array([[1.2], [3.4]]),
        (110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4),
    ),
    ("mae all_correct_unweighted", MAE(), P2, P2, None, 0.0),
    ("mae unweighted", MAE(), T2, P2, None, 5.5),
    ("mae scalar_weighted", MAE(), T2, P2, 2.3, 12.65),
    ("mae sample_weighted", MAE(), T2, P2, np.array([[1.2], [3.4]]), 81.4 / 6),
    ("mae timestep_weighted", MAE(), T_TIME, P_TIME, W_TIME, 13.833333),
    ("mae zero_weighted", MAE(), T2, P2, 0, 0.0),
    ("mae sum_reduction", MAE(reduction="sum"), T2, P2, 2.3, 25.29999),
    (
        "mae mean_with_sample_weight_reduction",
        MAE(reduction="mean_with_sample_weight"),
        T2,
        P2,
        np.array([[1.2], [3.4]]),
        (14 / 3 * 1.2 + 19 / 3 * 3.4) / (1.2 + 3.4),
    ),
    (
        "bce all_correct_unweighted",
        BCE(),
        EYE3.astype("float32"),
        EYE3.astype("float32"),
        None,
        0.0,
    ),
    (
        "bce all_correct_unweighted logits",
        BCE(from_logits=True),
        EYE3.astype("float32"),
        np.where(EYE3 == 1, 10.0, -10.0),
        None,
        0.0,
    ),
    ("bce unweighted", BCE(), EYE3.astype("float32"), P_BCE, None, 0.20046903),
    ("bce unweighted 2", BCE(), T_BCE2, P_BCE2, None, 3.98559),
    ("bce unweighted logits", BCE(from_logits=True), T_LOGITS, LOGITS, None, 3.3333),
    ("bce scalar_weighted", BCE(), T_BCE2, P_BCE2, 2.3, 9.1668),
    ("bce scalar_weighted logits", BCE(from_logits=True), T_LOGITS, LOGITS, 2.3, 7.666),
    ("bce sample_weighted", BCE(), T_BCE2, P_BCE2, np.array([1.2, 3.4]).reshape((2, 1)), 4.7827),
    ("bce sample_weighted logits", BCE(from_logits=True), T_LOGITS, LOGITS, np.array([4, 3]), 10.0),
    (
        "bce label_smoothing",
        BCE(from_logits=True, label_smoothing=0.1),
        np.array([[1, 0, 1]]),
        np.array([[10.0, -10.0, -10.0]]),
        None,
        (10.0 + 5.0 * 0.1) / 3.0,
    ),
    ("cce all_correct_unweighted", CCE(), EYE3.astype("int64"), EYE3.astype("float32"), None, 0.0),
    (
        "cce all_correct_unweighted logits",
        CCE(from_logits=True),
        EYE3.astype("int64"),
        EYE3 * 10.0,
        None,
        0.0,
    ),
    ("cce unweighted", CCE(), EYE3, P_CCE, None, 0.3239),
    ("cce unweighted logits", CCE(from_logits=True), EYE3, L_CCE, None, 0.0573),
    ("cce scalar_weighted", CCE(), EYE3, P_CCE, 2.3, 0.7449),
    ("cce scalar_weighted logits", CCE(from_logits=True), EYE3, L_CCE, 2.3, 0.1317),
    ("cce sample_weighted", CCE(), EYE3, P_CCE, W3, 1.0696),
    ("cce sample_weighted logits", CCE(from_logits=True), EYE3, L_CCE, W3, 0.31829),
    (
        "cce label_smoothing",
        CCE(from_logits=True, label_smoothing=0.1),
        np.array([[1, 0, 0]]),
        np.array([[100.0, -100.0, -100.0]]),
        None,
        400.0 * 0.1 / 3.0,
    ),
    (
        "scce all_correct_unweighted",
        SCCE(),
        np.array([[0], [1], [2]], dtype="int64"),
        EYE3.astype("float32"),
        None,
        0.0,
    ),
    (
        "scce all_correct_unweighted logits",
        SCCE(from_logits=True),
        np.array([[0], [1], [2]], dtype="int64"),
        EYE3 * 10.0,
        None,
        0.0,
    ),
    ("scce unweighted", SCCE(), np.array([0, 1, 2]), P_CCE, None, 0.3239),
    ("scce unweighted logits", SCCE(from_logits=True), np.array([0, 1, 2]), L_CCE, None, 0.0573),
    ("scce scalar_weighted", SCCE(), np.array([[0], [1], [2]]), P_CCE, 2.3, 0.7449),
    (
        "scce scalar_weighted logits",
        SCCE(from_logits=True),
        np.array([[0], [1], [2]]),
        L_CCE,
        2.3,
        0.1317,
    ),
    ("scce sample_weighted", SCCE(), np.array([[0], [1], [2]]), P_CCE, W3, 1.0696),
    (
        "scce sample_weighted logits",
        SCCE(from_logits=True),
        np.array([[0], [1], [2]]),
        L_CCE,
        W3,
        0.31829,
    ),
]


@pytest.mark.parametrize(
    "name, loss, y_true, y_pred, weight, expected", CASES, ids=[c[0] for c in CASES]
)
def test_loss_values(name, loss, y_true, y_pred, weight, expected):
    value = loss(y_true, y_pred) if weight is None else loss(y_true, y_pred, sample_weight=weight)
    np.testing.assert_almost_equal(value, expected, decimal=3)


@pytest.mark.parametrize(
    "loss, y_true, y_pred, weight, expected",
    [
        (MSE(reduction=None), T2, P2, 2.3, [84.3333, 143.3666]),
        (MAE(reduction=None), T2, P2, 2.3, [10.7333, 14.5666]),
        (BCE(from_logits=True, reduction=None), T_LOGITS, LOGITS, None, [0.0, 6.666]),
        (CCE(from_logits=True, reduction=None), EYE3, L_CCE, None, [0.001822, 0.000459, 0.169846]),
        (
            SCCE(from_logits=True, reduction=None),
            np.array([[0], [1], [2]]),
            L_CCE,
            None,
            [0.001822, 0.000459, 0.169846],
        ),
    ],
)
def test_no_reduction(loss, y_true, y_pred, weight, expected):
    value = loss(y_true, y_pred) if weight is None else loss(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(value, expected, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize(
    "loss",
    [
        MSE(name="mymse"),
        MAE(name="myname"),
        BCE(name="bce", axis=-1),
        CCE(name="cce", axis=-1),
        SCCE(name="scce"),
    ],
)
def test_config(loss):
    config = loss.get_config()
    revived = type(loss).from_config(config)
    assert revived.get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config


def test_scce_config():
    # Keras also sets ignore_class=3 (out of scope: masking); the rest of its config.
    scce = SCCE(from_logits=True, axis=0, name="scce")
    config = scce.get_config()
    assert config["from_logits"] is True and config["axis"] == 0
    assert SCCE.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="ignore_class"):
        SCCE(ignore_class=3)


def test_mse_base_function_reduction():
    assert np.shape(losses.mean_squared_error(np.array([4, 8, 12]), np.array([[3], [0], [1]]))) == (
        3,
    )


@pytest.mark.parametrize("loss", [BCE(), CCE()])
def test_shape_mismatch(loss):
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    with pytest.raises(ValueError, match="must have the same shape"):
        loss(np.array([[0], [1], [2]]), y_pred)


def test_cce_warning_for_invalid_shape():
    match = r"expected y_pred.shape to be \(batch_size, num_classes\)"
    with pytest.warns(SyntaxWarning, match=match):
        losses.categorical_crossentropy(np.ones((2, 1), "float32"), np.full((2, 1), 0.5, "float32"))
    with pytest.warns(SyntaxWarning, match=match):
        losses.categorical_crossentropy(np.ones((2, 1, 4)), np.ones((2, 1, 4)), axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_crossentropy(np.ones((2, 4, 1)), np.ones((2, 4, 1)), axis=1)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]


@pytest.mark.parametrize("as_array", [False, True])
def test_cce_label_smoothing_with_axis(as_array):
    # test_label_smoothing_with_axis (and test_label_smoothing_ndarray's np.asarray inputs).
    y_true = np.array([[[1, 0], [0, 1], [0, 0]], [[0, 1], [1, 0], [0, 0]]], dtype="float32")
    y_pred = np.array(
        [[[0.8, 0.1], [0.1, 0.8], [0.1, 0.1]], [[0.1, 0.8], [0.8, 0.1], [0.1, 0.1]]],
        dtype="float32",
    )
    loss = CCE(label_smoothing=0.1, axis=1)(y_true, y_pred)
    smoothed = y_true * 0.9 + 0.1 / 3
    expected = np.mean(-np.sum(smoothed * np.log(y_pred), axis=1))
    np.testing.assert_almost_equal(loss, expected, decimal=5)


SEG_TRUE = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])


def one_hot(labels, classes):
    return np.eye(classes)[labels]


def test_scce_binary_segmentation():
    np.testing.assert_allclose(SCCE()(SEG_TRUE, one_hot(SEG_TRUE, 2)), 0.0, atol=1e-6)
    y_pred = one_hot(SEG_TRUE, 2)
    y_pred[0, 3], y_pred[3, 3] = [0.2, 0.8], [0.6, 0.4]
    expected = (-np.log(0.2) - np.log(0.4)) / 16.0
    np.testing.assert_allclose(SCCE()(SEG_TRUE, y_pred), expected, rtol=1e-5)
    # test_binary_segmentation_different_axis, torch's branch: classes on axis 0 and 1.
    moved = np.moveaxis(y_pred, 2, 0)
    np.testing.assert_allclose(SCCE(axis=0)(SEG_TRUE, moved), expected, rtol=1e-5)
    np.testing.assert_allclose(
        SCCE(axis=1)(np.array([SEG_TRUE] * 3), np.array([moved] * 3)), expected, rtol=1e-5
    )


def test_scce_multi_class_segmentation():
    labels = np.array([[0, 1, 2, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
    np.testing.assert_allclose(SCCE()(labels, one_hot(labels, 3)), 0.0, atol=1e-6)
    y_pred = one_hot(labels, 3)
    y_pred[0, 3], y_pred[1, 0], y_pred[3, 2] = [0.2, 0.0, 0.8], [0.7, 0.3, 0.0], [0.5, 0.5, 0.0]
    expected = (-np.log(0.2) - np.log(0.3) - np.log(0.5)) / 16.0
    np.testing.assert_allclose(SCCE()(labels, y_pred), expected, rtol=1e-5)
    moved = np.moveaxis(y_pred, 2, 0)
    np.testing.assert_allclose(SCCE(axis=0)(labels, moved), expected, rtol=1e-5)
    np.testing.assert_allclose(
        SCCE(axis=1)(np.array([labels] * 3), np.array([moved] * 3)), expected, rtol=1e-5
    )


def test_scce_squeezes_singleton_class_dim_on_user_axis():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(2, 1, 4, 4)).astype("float32")
    y_pred = rng.random((2, 2, 4, 4)).astype("float32")
    assert losses.sparse_categorical_crossentropy(y_true, y_pred, axis=1).shape == (2, 4, 4)


@pytest.mark.parametrize("cls", [MSE, MAE, BCE, CCE, SCCE])
def test_dtype_arg_bfloat16_is_refused(cls):
    # test_dtype_arg: bfloat16 losses are mixed precision, out of scope; refused clearly.
    with pytest.raises((ValueError, TypeError), match="dtype"):
        cls(dtype="bfloat16")
