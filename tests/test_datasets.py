"""Toy data sets: reproducible, labelled correctly, feature maps by a naive reference."""

import numpy as np
import pytest

import minicnn
from minicnn import datasets


def test_same_seed_same_arrays_and_other_seed_other_arrays():
    for make in (datasets.bump_sequences, datasets.line_images, datasets.feature_map_pairs):
        a, b, c = make(seed=1), make(seed=1), make(seed=2)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(a[0], c[0])


def test_seed_none_draws_from_the_library_generator():
    minicnn.set_random_seed(5)
    first = datasets.line_images(20, noise=0.1)
    minicnn.set_random_seed(5)
    again = datasets.line_images(20, noise=0.1)
    np.testing.assert_array_equal(first[0], again[0])


def test_line_images_hold_the_labelled_line_with_the_requested_thickness():
    x, y = datasets.line_images(60, size=7, thickness=(1, 3), seed=0)
    assert x.shape == (60, 7, 7, 1) and x.dtype == np.float32 and y.shape == (60,)
    assert np.bincount(y).tolist() == [20, 20, 20]
    for image, label in zip(x[..., 0], y):
        full_columns = [c for c in range(7) if (image[:, c] == 1).all()]
        full_rows = [r for r in range(7) if (image[r, :] == 1).all()]
        lit = int(image.sum())
        if datasets.LINE_CLASSES[label] == "vertical":
            assert 1 <= len(full_columns) <= 3 and lit == 7 * len(full_columns)
            assert full_columns == list(range(full_columns[0], full_columns[-1] + 1))
        elif datasets.LINE_CLASSES[label] == "horizontal":
            assert 1 <= len(full_rows) <= 3 and lit == 7 * len(full_rows)
        else:
            assert lit == 0


def test_line_images_noise_has_the_requested_spread():
    x, y = datasets.line_images(400, noise=0.5, seed=3)
    background = x[y == 2]
    assert background.std() == pytest.approx(0.5, rel=0.05)


def test_bump_sequences_labels_match_their_content():
    x, y = datasets.bump_sequences(40, length=12, width=3, height=2.0, seed=0)
    assert x.shape == (40, 12, 1) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [20, 20]
    for sequence, label in zip(x[..., 0], y):
        if label:
            ones = np.flatnonzero(sequence)
            assert len(ones) == 3 and ones[-1] - ones[0] == 2 and (sequence[ones] == 2).all()
        else:
            assert not sequence.any()


def naive_correlation(images, kernel):
    n, h, w = images.shape
    kh, kw = kernel.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1))
    for s in range(n):
        for r in range(h - kh + 1):
            for c in range(w - kw + 1):
                out[s, r, c] = (images[s, r : r + kh, c : c + kw] * kernel).sum()
    return out


@pytest.mark.parametrize("kernel", [None, [[1.0, -1.0]], [[0.5, 0, 0], [0, 0, 0], [0, 0, -2]]])
def test_feature_maps_are_the_valid_cross_correlation_of_the_images(kernel):
    x, y = datasets.feature_map_pairs(12, size=6, kernel=kernel, seed=4)
    k = datasets.VERTICAL_LINE_DETECTOR if kernel is None else np.array(kernel)
    expected = naive_correlation(x[..., 0].astype(float), k)
    assert y.shape == (12, *expected.shape[1:], 1) and y.dtype == np.float32
    np.testing.assert_allclose(y[..., 0], expected, rtol=1e-5, atol=1e-5)


def test_default_kernel_is_the_tutorials_vertical_line_detector():
    np.testing.assert_array_equal(
        datasets.VERTICAL_LINE_DETECTOR, [[0, 1, 0], [0, 1, 0], [0, 1, 0]]
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: datasets.line_images(0), "samples"),
        (lambda: datasets.line_images(10, size=4, thickness=5), "thickness"),
        (lambda: datasets.line_images(10, thickness=(3, 2)), "thickness"),
        (lambda: datasets.line_images(10, thickness="thick"), "thickness"),
        (lambda: datasets.line_images(10, thickness=(1, 2.5)), "thickness"),
        (lambda: datasets.line_images(10, noise=-1), "noise"),
        (lambda: datasets.line_images(10, seed=-3), "seed"),
        (lambda: datasets.bump_sequences(10, length=4, width=5), "width"),
        (lambda: datasets.feature_map_pairs(10, size=4, kernel=np.ones((5, 5))), "kernel"),
        (lambda: datasets.feature_map_pairs(10, kernel=np.ones((3, 3, 1))), "kernel"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_digit_images_are_mnist_shaped_and_draw_the_font():
    x, y = datasets.digit_images(200, seed=1, noise=0.0)
    assert x.shape == (200, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.bincount(y).tolist() == [20] * 10
    # Without noise, every image is its digit's glyph at some place and scale: the lit
    # pixels, cropped, equal the font scaled up.
    for image, label in zip(x[:30], y[:30]):
        lit = image > 0
        rows, cols = np.nonzero(lit)
        crop = lit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        glyph = np.array([[c == "1" for c in row] for row in datasets.DIGIT_FONT[label]])
        glyph = glyph[glyph.any(1)][:, glyph.any(0)]
        scale = crop.shape[0] // glyph.shape[0]
        np.testing.assert_array_equal(crop, np.kron(glyph, np.ones((scale, scale), bool)))
    again, _ = datasets.digit_images(200, seed=1, noise=0.0)
    np.testing.assert_array_equal(again, x)
