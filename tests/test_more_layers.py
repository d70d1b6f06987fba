"""The layers the tutorials after the seed use: transposed convolution, upsampling,
BatchNormalization, Dropout, reshaping and activation layers, to_categorical and the
``import minicnn as keras`` namespace. References are hand-computed numbers and naive
loops written here; Keras's own numbers are quoted where the tutorials or Keras print them."""

from __future__ import annotations

import numpy as np
import pytest
import reference

import minicnn
import minicnn as keras
from minicnn import layers as L
from minicnn import ops
from minicnn.models import Sequential
from minicnn.utils import to_categorical

RNG = np.random.default_rng(0)


def run(layer, x, training=False, seed=0):
    """The layer inside a model, as users run it, through ``Model.apply``."""
    x = np.asarray(x, np.float32)
    model = Sequential([L.Input(shape=x.shape[1:]), layer])
    return np.asarray(model.apply(model.weight_arrays(), x, training=training, seed=seed))


# --------------------------------------------------------------------------- transposed conv


def test_conv1d_transpose_spreads_the_input_by_the_stride_as_keras():
    # x = [1, 2, 3, 4], taps [1, 10, 100], stride 2: each input writes x * taps at 2i.
    x = np.array([1, 2, 3, 4.0]).reshape(1, 4, 1)
    layer = L.Conv1DTranspose(1, 3, strides=2, use_bias=False)
    out = run_with_kernel(layer, x, np.array([1, 10, 100.0]).reshape(3, 1, 1))
    assert out.ravel().tolist() == [1, 10, 102, 20, 203, 30, 304, 40, 400]
    same = L.Conv1DTranspose(1, 3, strides=2, padding="same", use_bias=False)
    out = run_with_kernel(same, x, np.array([1, 10, 100.0]).reshape(3, 1, 1))
    assert out.ravel().tolist() == [1, 10, 102, 20, 203, 30, 304, 40]  # Keras 3.15.1's numbers


def run_with_kernel(layer, x, kernel):
    model = Sequential([L.Input(shape=x.shape[1:]), layer])
    model.set_weights([kernel])
    return model.predict(x)


def test_conv2d_transpose_1x1_stride_2_is_the_upsampling_tutorials_example():
    # The upsampling tutorial: a 2x2 image, one 1x1 filter of weight 1, strides (2, 2).
    x = np.array([[1, 2], [3, 4.0]]).reshape(1, 2, 2, 1)
    model = Sequential([L.Input(shape=(2, 2, 1)), L.Conv2DTranspose(1, (1, 1), strides=(2, 2))])
    model.set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    out = model.predict(x)[0, :, :, 0]
    np.testing.assert_array_equal(out, [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])


def full_scatter(x, kernel, strides):
    """Naive transposed convolution: every input adds ``x * kernel`` at ``i * stride``
    (what ``valid`` padding computes, with nothing cropped)."""
    n, *spatial, cin = x.shape
    *k, f, _ = kernel.shape
    out = np.zeros((n, *((s - 1) * st + kk for s, st, kk in zip(spatial, strides, k)), f))
    for idx in np.ndindex(*spatial):
        for t in np.ndindex(*k):
            o = tuple(i * st + tt for i, st, tt in zip(idx, strides, t))
            out[(slice(None), *o)] += x[(slice(None), *idx)] @ kernel[t].T
    return out


@pytest.mark.parametrize("strides", [(1, 1), (2, 1), (2, 3), (3, 3)])
def test_valid_transposed_conv_is_the_full_scatter(strides):
    x = RNG.normal(size=(2, 3, 4, 3))
    kernel = RNG.normal(size=(3, 2, 5, 3))
    got = ops.conv_transpose(x, kernel, strides, "valid")
    want = full_scatter(x, kernel, strides)
    extra = tuple(g - w for g, w in zip(got.shape[1:-1], want.shape[1:-1]))
    assert all(e == max(s - k, 0) for e, s, k in zip(extra, strides, (3, 2)))  # Keras pads
    np.testing.assert_allclose(got[:, : want.shape[1], : want.shape[2]], want, rtol=1e-12)


def test_transposed_conv_is_the_adjoint_of_the_strided_conv():
    # <conv_transpose(y, k), x> == <y, conv(x, k)> for the conv it transposes.
    x = RNG.normal(size=(2, 9, 7, 3))
    kernel = RNG.normal(size=(3, 3, 3, 4))  # conv: 3 -> 4 channels
    y = ops.conv(x, kernel, 2, "same")
    cot = RNG.normal(size=y.shape)
    back = ops.conv_transpose(cot, kernel, 2, "same", output_padding=(0, 0))
    assert back.shape[1:3] == (9, 7)
    np.testing.assert_allclose(np.sum(back * x), np.sum(cot * y), rtol=1e-10)


@pytest.mark.parametrize(
    "n, k, s, padding, output_padding, want",
    [
        (4, 3, 2, "valid", None, 4 * 2 + 1),  # n*s + max(k - s, 0)
        (4, 2, 3, "valid", None, 12),
        (4, 3, 2, "same", None, 8),  # n*s
        (4, 3, 2, "same", 1, 3 * 2 + 3 - 2 + 1),  # (n-1)s + k - 2*(k//2) + op
        (4, 3, 2, "valid", 1, 3 * 2 + 3 + 1),
    ],
)
def test_transposed_conv_output_length_follows_keras(n, k, s, padding, output_padding, want):
    layer = L.Conv1DTranspose(2, k, strides=s, padding=padding, output_padding=output_padding)
    assert layer.compute_output_shape((None, n, 3)) == (None, want, 2)
    assert run(layer, np.ones((1, n, 3))).shape == (1, want, 2)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"strides": 2, "output_padding": 2}, ["`output_padding` must be strictly less"]),
        ({"padding": "causal"}, ["padding"]),
        ({"strides": 2, "dilation_rate": 2}, ["`strides > 1` not supported"]),
        ({"filters": 0}, ["Invalid value for argument `filters`"]),
    ],
)
def test_bad_transposed_conv_arguments_are_rejected(kwargs, words):
    args = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError) as err:
        L.Conv2DTranspose(**args)
    assert all(w in str(err.value) for w in words)


def test_transposed_conv_kernel_layout_is_keras_kernel_size_filters_in():
    layer = L.Conv2DTranspose(5, (3, 2))
    layer.build((None, 4, 4, 3))
    assert layer.kernel.shape == (3, 2, 5, 3) and layer.bias.shape == (5,)


# --------------------------------------------------------------------------- depthwise, separable


def test_depthwise_conv_filters_each_channel_on_its_own_in_keras_channel_order():
    x = RNG.normal(size=(2, 6, 5, 3))
    kernel = RNG.normal(size=(3, 2, 3, 2))  # (kh, kw, in, multiplier)
    model = Sequential([L.Input(shape=(6, 5, 3)), L.DepthwiseConv2D((3, 2), depth_multiplier=2)])
    model.set_weights([kernel, np.zeros(6)])
    got = model.predict(x)
    for c in range(3):
        for m in range(2):
            want = reference.conv(
                x[..., c : c + 1], kernel[:, :, c : c + 1, m : m + 1], (1, 1), "valid", (1, 1)
            )
            np.testing.assert_allclose(got[..., c * 2 + m], want[..., 0], rtol=1e-4, atol=1e-5)


def test_separable_conv_is_depthwise_then_pointwise_plus_bias():
    x = RNG.normal(size=(2, 9, 2))
    model = Sequential(
        [
            L.Input(shape=(9, 2)),
            L.SeparableConv1D(4, 3, strides=2, dilation_rate=2, depth_multiplier=3),
        ]
    )
    assert model.weight_names == [
        "separable_conv1d/depthwise_kernel",
        "separable_conv1d/pointwise_kernel",
        "separable_conv1d/bias",
    ]
    depthwise, pointwise, bias = (RNG.normal(size=w.shape) for w in model.get_weights())
    model.set_weights([depthwise, pointwise, bias])
    mid = np.concatenate(
        [
            reference.conv(
                x[..., c : c + 1], depthwise[:, c : c + 1, m : m + 1], (2,), "valid", (2,)
            )
            for c in range(2)
            for m in range(3)
        ],
        axis=-1,
    )
    want = mid @ pointwise[0] + bias
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-4, atol=1e-5)


def test_depthwise_conv_accepts_strides_with_dilation_as_keras_does():
    assert L.DepthwiseConv2D(3, strides=2, dilation_rate=2).strides == (2, 2)
    with pytest.raises(ValueError, match="depth_multiplier"):
        L.DepthwiseConv2D(3, depth_multiplier=0)


# --------------------------------------------------------------------------- upsampling


def bilinear_reference(a, factor):
    """Half-pixel-centre linear interpolation of a 1D array, one output at a time."""
    out = []
    for o in range(len(a) * factor):
        src = min(max((o + 0.5) / factor - 0.5, 0), len(a) - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, len(a) - 1)
        out.append(a[lo] * (1 - (src - lo)) + a[hi] * (src - lo))
    return np.array(out)


def test_bilinear_upsampling_uses_half_pixel_centres():
    out = run(L.UpSampling2D((1, 2), interpolation="bilinear"), [[[[0], [1]]]])
    assert out.ravel().tolist() == [0, 0.25, 0.75, 1]


def test_bilinear_upsampling_2d_is_separable_linear_interpolation():
    x = RNG.normal(size=(1, 3, 4, 2))
    got = run(L.UpSampling2D((2, 3), interpolation="bilinear"), x)
    rows = np.stack([bilinear_reference(x[0, :, j, c], 2) for j in range(4) for c in range(2)])
    rows = rows.reshape(4, 2, 6).transpose(2, 0, 1)  # (6, 4, 2)
    want = (
        np.stack([bilinear_reference(rows[i, :, c], 3) for i in range(6) for c in range(2)])
        .reshape(6, 2, 12)
        .transpose(0, 2, 1)
    )
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)


def test_nearest_upsampling_repeats_each_value():
    x = np.arange(6.0).reshape(1, 3, 2)
    assert run(L.UpSampling1D(2), x)[0, :, 0].tolist() == [0, 0, 2, 2, 4, 4]
    out = run(L.UpSampling2D((2, 1)), x.reshape(1, 3, 2, 1))[0, :, :, 0]
    np.testing.assert_array_equal(out, np.repeat(x.reshape(3, 2), 2, axis=0))


def test_unsupported_interpolation_is_named():
    with pytest.raises(ValueError, match="interpolation"):
        L.UpSampling2D(interpolation="bicubic")


# --------------------------------------------------------------------------- BatchNormalization


def bn_reference(x, gamma, beta, mean, var, eps):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_batch_norm_in_training_uses_batch_statistics_and_updates_the_moving_ones():
    x = RNG.normal(2.0, 3.0, size=(8, 5, 5, 4)).astype(np.float32)
    model = Sequential([L.Input(shape=(5, 5, 4)), L.BatchNormalization(momentum=0.9)])
    gamma, beta = RNG.normal(size=4), RNG.normal(size=4)
    model.set_weights([gamma, beta, np.full(4, 0.5), np.full(4, 2.0)])
    y, new = model.stateless_call(model.weight_arrays(), x, training=True)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # biased, as Keras
    np.testing.assert_allclose(y, bn_reference(x, gamma, beta, mean, var, 1e-3), atol=2e-5)
    np.testing.assert_allclose(new[2], 0.5 * 0.9 + mean * 0.1, rtol=1e-5)
    np.testing.assert_allclose(new[3], 2.0 * 0.9 + var * 0.1, rtol=1e-5)
    # Inference normalises with the moving statistics.
    inference = model.predict(x)
    np.testing.assert_allclose(
        inference, bn_reference(x, gamma, beta, 0.5, 2.0, 1e-3), rtol=1e-5, atol=1e-5
    )


def test_batch_norm_fit_commits_moving_statistics_and_counts_them_non_trainable():
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    model = Sequential([L.Input(shape=(3,)), L.BatchNormalization(momentum=0.5)])
    model.compile(minicnn.optimizers.SGD(0.0), "mse")
    model.fit(x, np.zeros((6, 3)), batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[2], 0.5 * x.mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.get_weights()[3], 0.5 + 0.5 * x.var(0), rtol=1e-5)
    assert model.layers[0].weight_names == ("gamma", "beta", "moving_mean", "moving_variance")
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 6 " in lines[0] and "Non-trainable params: 6 " in lines[0]


def test_frozen_batch_norm_runs_in_inference_mode_during_fit():
    # Keras 3: a BatchNormalization with trainable=False uses (and keeps) its moving stats.
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    model = Sequential([L.Input(shape=(3,)), L.BatchNormalization(trainable=False), L.Dense(1)])
    model.compile("sgd", "mse")
    before = model.get_weights()[:4]
    model.fit(x, np.ones((6, 1)), verbose=0, epochs=2)
    for a, b in zip(model.get_weights()[:4], before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_without_center_or_scale_has_only_the_moving_statistics():
    layer = L.BatchNormalization(center=False, scale=False, axis=1)
    layer.build((None, 3, 5))
    assert layer.weight_names == ("moving_mean", "moving_variance")
    x = RNG.normal(size=(4, 3, 5))
    y = run(L.BatchNormalization(center=False, scale=False, axis=1), x, training=True)
    mean, var = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), atol=2e-5)


def test_batch_norm_rejects_an_axis_the_input_lacks():
    model = Sequential([L.Input(shape=(3,))])
    with pytest.raises(ValueError, match="Axis 3 is out of bounds"):
        model.add(L.BatchNormalization(axis=3))


# --------------------------------------------------------------------------- Dropout


def test_dropout_is_the_identity_at_inference_and_in_predict():
    x = RNG.normal(size=(4, 10)).astype(np.float32)
    np.testing.assert_array_equal(run(L.Dropout(0.5), x), x)
    model = Sequential([L.Input(shape=(10,)), L.Dropout(0.9)])
    np.testing.assert_array_equal(model.predict(x), x)


def test_dropout_in_training_zeroes_about_rate_and_scales_the_rest_exactly():
    x = np.ones((200, 500), np.float32)
    y = run(L.Dropout(0.3), x, training=True, seed=1)
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(y[kept], np.float32(1) / np.float32(0.7))


def test_dropout_masks_follow_the_seed_and_noise_shape():
    x = np.ones((3, 4, 6), np.float32)
    a = run(L.Dropout(0.5, noise_shape=(None, 1, 6)), x, training=True, seed=2)
    assert (a == a[:, :1, :]).all()  # one mask row broadcast over axis 1
    b = run(L.Dropout(0.5, noise_shape=(None, 1, 6)), x, training=True, seed=2)
    np.testing.assert_array_equal(a, b)
    s = run(L.SpatialDropout1D(0.5), x, training=True, seed=3)
    assert ((s == 0).all(axis=1) | (s != 0).all(axis=1)).all()  # whole channels


def test_dropout_rate_one_gives_zeros_and_rate_zero_the_input():
    x = np.full((2, 3), np.nan, np.float32)
    assert (run(L.Dropout(1.0), x, training=True) == 0).all()
    x = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(run(L.Dropout(0.0), x, training=True), x, rtol=1e-6)


def test_dropout_rate_outside_0_1_is_keras_message():
    with pytest.raises(
        ValueError, match=r"Expected a float value between 0 and 1. Received: rate=1.5"
    ):
        L.Dropout(1.5)


# --------------------------------------------------------------------------- reshaping


def test_reshape_infers_minus_one_and_rejects_a_size_change():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(L.Reshape((-1, 2)), x), x.reshape(2, 6, 2))
    model = Sequential([L.Input(shape=(3, 4))])
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged"):
        model.add(L.Reshape((5,)))
    with pytest.raises(ValueError, match="target_shape"):
        L.Reshape((-1, -1))


def test_permute_is_one_based_over_non_batch_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(L.Permute((2, 1)), x), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        L.Permute((0, 1))


def test_zero_padding_and_cropping_put_zeros_and_cut_edges():
    x = np.arange(1, 7.0).reshape(1, 2, 3, 1)
    padded = run(L.ZeroPadding2D(((1, 0), (0, 2))), x)[0, :, :, 0]
    np.testing.assert_array_equal(padded, [[0] * 5, [1, 2, 3, 0, 0], [4, 5, 6, 0, 0]])
    cropped = run(L.Cropping2D(((0, 1), (1, 1))), x)[0, :, :, 0]
    np.testing.assert_array_equal(cropped, [[2]])
    assert run(L.ZeroPadding1D(2), x[:, 0]).shape == (1, 7, 1)
    np.testing.assert_array_equal(run(L.Cropping1D((1, 0)), x[:, 0])[0, :, 0], [2, 3])


def test_cropping_everything_is_rejected_with_keras_message():
    model = Sequential([L.Input(shape=(2, 5, 1))])
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        model.add(L.Cropping2D(((1, 1), (0, 0))))


# --------------------------------------------------------------------------- activations


def test_activation_layers_match_their_formulas():
    x = np.linspace(-3, 3, 13).reshape(1, 13)
    np.testing.assert_allclose(run(L.LeakyReLU(), x), np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(
        run(L.ELU(0.5), x), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)), rtol=1e-5, atol=1e-7
    )
    e = np.exp(x - x.max())
    np.testing.assert_allclose(run(L.Softmax(), x), e / e.sum(), rtol=1e-5)
    np.testing.assert_allclose(run(L.Rescaling(1 / 255, -1), x), x / 255 - 1, rtol=1e-6)
    assert run(L.ELU(alpha=0), x).min() == 0  # Keras accepts alpha=0


def test_prelu_learns_one_slope_per_unshared_position():
    layer = L.PReLU(shared_axes=[1, 2])
    layer.build((None, 4, 4, 3))
    assert layer.weight_names == ("alpha",) and layer.get_weights()[0].shape == (1, 1, 3)
    x = RNG.normal(size=(2, 4, 4, 3))
    model = Sequential([L.Input(shape=(4, 4, 3)), L.PReLU(shared_axes=[1, 2])])
    model.set_weights([np.array([[[0.1, 0.2, 0.3]]])])
    want = np.where(x > 0, x, np.array([0.1, 0.2, 0.3]) * x)
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5, atol=1e-7)


def test_leaky_relu_rejects_a_negative_slope():
    with pytest.raises(ValueError, match="cannot be None or negative"):
        L.LeakyReLU(-0.1)


# --------------------------------------------------------------------------- gradients


CASES = {
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(2, 3, strides=2, padding="same"), (2, 5, 3)),
    "Conv2DTranspose": (
        lambda: L.Conv2DTranspose(2, (3, 2), strides=(2, 1), output_padding=(1, 0)),
        (2, 3, 4, 2),
    ),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, strides=2, depth_multiplier=2), (2, 7, 2)),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(2, padding="same"), (2, 3, 4, 3)),
    "SeparableConv1D": (lambda: L.SeparableConv1D(3, 2, dilation_rate=2), (2, 6, 2)),
    "SeparableConv2D": (lambda: L.SeparableConv2D(2, 2, depth_multiplier=2), (2, 4, 3, 2)),
    "BatchNormalization": (lambda: L.BatchNormalization(), (4, 3, 2)),
    # A channel axis other than the last takes ops.batch_norm's general reductions.
    "BatchNormalization_axis1": (lambda: L.BatchNormalization(axis=1), (4, 3, 2)),
    "Dropout": (lambda: L.Dropout(0.4), (3, 6)),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.5), (2, 3, 3, 4)),
    "Reshape": (lambda: L.Reshape((3, -1)), (2, 6, 2)),
    "Permute": (lambda: L.Permute((2, 3, 1)), (2, 3, 4, 2)),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), (2, 3, 3, 2)),
    "Cropping1D": (lambda: L.Cropping1D((1, 2)), (2, 6, 2)),
    "UpSampling1D": (lambda: L.UpSampling1D(3), (2, 3, 2)),
    "UpSampling2D": (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 2, 2)),
    "LeakyReLU": (lambda: L.LeakyReLU(0.2), (2, 7)),
    "ELU": (lambda: L.ELU(0.7), (2, 7)),
    "Softmax": (lambda: L.Softmax(), (2, 7)),
    "PReLU": (lambda: L.PReLU(alpha_initializer="ones"), (2, 7)),
    "Rescaling": (lambda: L.Rescaling(0.5, 1.0), (2, 7)),
    "Identity": (lambda: L.Identity(), (2, 7)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("training", [False, True])
def test_new_layers_pass_the_float64_gradient_check(name, training):
    make, shape = CASES[name]
    x = RNG.normal(size=shape) + 0.05  # away from relu kinks at exactly 0
    # No bias before the layer: through BatchNormalization in training its gradient is
    # exactly zero, which central differences can only meet as rounding noise.
    model = Sequential([L.Input(shape=shape[1:]), L.Dense(shape[-1], use_bias=False), make()])
    report = minicnn.gradcheck(model, x, training=training, seed=1)
    assert report.passed, str(report)


def test_every_registered_layer_has_a_gradient_case_or_an_older_test():
    older = {
        "InputLayer", "Conv1D", "Conv2D", "Conv3D", "Dense", "Flatten", "Activation", "ReLU",
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "SpatialDropout1D", "ZeroPadding1D", "Cropping2D",
        # The merge layers are checked through branches in test_functional.py.
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    }  # fmt: skip
    assert set(L.LAYERS) - older <= set(CASES)


def test_float32_gradients_stay_float32_through_the_new_layers():
    import autograd

    x = RNG.normal(size=(2, 4, 4, 2)).astype(np.float32)
    model = Sequential(
        [
            L.Input(shape=(4, 4, 2)),
            L.Conv2DTranspose(2, 3, strides=2, padding="same"),
            L.BatchNormalization(),
            L.UpSampling2D(interpolation="bilinear"),
            L.ZeroPadding2D(1),
            L.Cropping2D(1),
            L.Dropout(0.3),
            L.PReLU(),
            L.Reshape((-1,)),
        ]
    )
    grads = autograd.grad(lambda w: model.apply(w, x, training=True, seed=0).sum())(
        model.weight_arrays()
    )
    assert all(g.dtype == np.float32 for g in grads)


# --------------------------------------------------------------------------- to_categorical


def test_to_categorical_is_float64_one_hot_and_drops_a_trailing_axis_of_one():
    out = to_categorical(np.array([[0], [2], [1]]))
    assert out.dtype == np.float64 and out.shape == (3, 3)
    np.testing.assert_array_equal(out, np.eye(3)[[0, 2, 1]])
    assert to_categorical([1, 0], num_classes=4).shape == (2, 4)
    assert to_categorical(np.zeros((2, 3), int), 2).shape == (2, 3, 2)


@pytest.mark.parametrize(
    "x, num_classes, words",
    [
        ([0, 3], 3, "[0, 3)"),
        ([-1, 0], None, "[0, "),
        ([0.5, 1], None, "whole-number"),
        (["a"], None, "numeric array"),
    ],
)
def test_to_categorical_refuses_labels_it_would_silently_mangle(x, num_classes, words):
    with pytest.raises((ValueError, TypeError)) as err:
        to_categorical(x, num_classes)
    assert words in str(err.value)


# --------------------------------------------------------------------------- the keras namespace


def test_keras_3_top_level_style_runs_with_only_the_import_changed():
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(4, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(), metrics=["accuracy"]
    )
    x = RNG.random((12, 8, 8, 1))
    y = keras.utils.to_categorical(RNG.integers(0, 3, 12), 3)
    history = model.fit(x, y, batch_size=4, epochs=1, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for name in ("losses", "metrics", "callbacks", "initializers", "datasets", "activations"):
        assert hasattr(keras, name)


def test_upsampling_demo_prints_the_tutorials_maps_and_explains_the_overlap():
    import contextlib
    import io
    import pathlib
    import runpy

    demo = (
        pathlib.Path(__file__).resolve().parents[1] / "demos" / "upsampling_and_transposed_conv.py"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(demo), run_name="__main__")
    text = " ".join(out.getvalue().split())
    # The two maps the tutorial prints (UpSampling2D, then the 1x1 transposed conv).
    assert "[[1. 1. 2. 2.] [1. 1. 2. 2.] [3. 3. 4. 4.] [3. 3. 4. 4.]]" in text
    assert "[[1. 0. 2. 0.] [0. 0. 0. 0.] [3. 0. 4. 0.] [0. 0. 0. 0.]]" in text
    # A 3x3 kernel of ones: the cell where four inputs overlap is 1 + 2 + 3 + 4.
    assert "output[0, 2, 2, 0] = 10" in text and "4 products land on this cell" in text


def test_training_resumes_exactly_after_save_and_load_with_state_and_dropout(tmp_path):
    from minicnn.models import load_model

    def make():
        minicnn.set_random_seed(3)
        model = Sequential(
            [
                L.Input(shape=(6, 6, 1)),
                L.Conv2D(3, 3, use_bias=False),
                L.BatchNormalization(momentum=0.8),
                L.ReLU(),
                L.Dropout(0.3),
                L.Conv2DTranspose(2, 2, strides=2),
                L.UpSampling2D(interpolation="bilinear"),
                L.Flatten(),
                L.Dense(2),
            ]
        )
        model.compile("adam", "mse")
        return model

    x, y = RNG.normal(size=(20, 6, 6, 1)), RNG.normal(size=(20, 2))
    straight = make()
    straight.fit(x, y, epochs=3, batch_size=8, verbose=0)
    first = make()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "m.minicnn")
    resumed = load_model(tmp_path / "m.minicnn")
    resumed.fit(x, y, epochs=3, initial_epoch=2, batch_size=8, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # moving statistics and Dropout masks included
