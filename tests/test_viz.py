"""minicnn.viz: terminal maps, PNG grids, and the message when matplotlib is missing."""

import sys

import numpy as np
import pytest

from minicnn import viz
from minicnn.layers import Conv1D, Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- terminal


def test_small_grid_is_printed_as_aligned_numbers():
    text = viz.render([[0, 0, 3], [0.5, -1.25, 10]])
    assert text.splitlines() == ["    0     0     3", "  0.5 -1.25    10"]


def test_tutorial_feature_map_prints_its_numbers_row_by_row():
    yhat = np.zeros((1, 6, 6, 1), dtype=np.float32)
    yhat[0, :, 2:4, 0] = 3.0
    lines = viz.render(yhat).splitlines()
    assert lines == ["0 0 3 3 0 0"] * 6


def test_small_1d_map_is_one_line_and_title_comes_first():
    assert viz.render(np.array([0, 0, 1, 1, 0]), title="bump").splitlines() == [
        "bump",
        "0 0 1 1 0",
    ]


def test_large_grid_is_drawn_in_shaded_blocks_with_a_scale():
    a = np.zeros((15, 20))
    a[3, 4], a[10, 17] = 8.0, -2.0
    lines = viz.render(a).splitlines()
    assert len(lines) == 15 + 2 + 1  # the rows, a border above and below, the scale
    assert lines[0] == lines[16] == "+" + "-" * 40 + "+"
    rows = [line[1:-1] for line in lines[1:16]]
    assert all(len(r) == 40 for r in rows)  # two characters per cell
    assert rows[3][8:10] == "██" and rows[10][34:36] == "  "
    assert set(rows[0]) == {"░"}  # 0 lies in the second band of -2..8
    assert "(15, 20) map" in lines[-1] and "min -2" in lines[-1] and "max 8" in lines[-1]
    assert "'█' 6..8" in lines[-1]


def test_long_1d_map_wraps_with_start_indices():
    lines = viz.render(np.arange(150.0)).splitlines()
    assert [line.split("|")[0].strip() for line in lines[:3]] == ["0", "64", "128"]
    assert [len(line.split("|")[1]) for line in lines[:3]] == [64, 64, 22]
    assert lines[0].split("|")[1][0] == " " and lines[2].split("|")[1][-1] == "█"
    assert lines[3].startswith("(150,) map")


def test_constant_large_map_says_so():
    text = viz.render(np.ones((13, 13)))
    assert "every cell is 1" in text and "▒" in text


def test_max_numbers_chooses_between_numbers_and_blocks():
    a = np.arange(16.0).reshape(4, 4)
    assert "+" in viz.render(a, max_numbers=3)
    assert "15" in viz.render(np.arange(400.0).reshape(20, 20), max_numbers=20)


def test_show_prints_the_rendering(capsys):
    viz.show(np.eye(2), title="identity")
    assert capsys.readouterr().out == "identity\n1 0\n0 1\n"


@pytest.mark.parametrize("bad, error", [(np.zeros((2, 3, 4)), ValueError), (["a"], TypeError)])
def test_maps_with_more_than_two_real_axes_or_no_numbers_are_rejected(bad, error):
    with pytest.raises(error, match="show"):
        viz.render(bad)


# --------------------------------------------------------------------------- PNG grids


@pytest.fixture
def model():
    model = Sequential(
        [
            Conv2D(3, 3, padding="same", input_shape=(8, 8, 2)),
            MaxPooling2D(),
            Flatten(),
            Dense(4),
        ]
    )
    return model


def read_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return data


def test_feature_maps_png_is_written(model, tmp_path):
    pytest.importorskip("matplotlib")
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 2))
    path = tmp_path / "maps.png"
    assert viz.plot_feature_maps(model, x, path, sample=1) == str(path)
    assert len(read_png(path)) > 1000


def test_filters_png_is_written_for_conv_and_dense(model, tmp_path):
    pytest.importorskip("matplotlib")
    for layer, name in ((model.layers[0], "conv.png"), (model.layers[3], "dense.png")):
        viz.plot_filters(layer, tmp_path / name)
        assert len(read_png(tmp_path / name)) > 1000
    conv1d = Conv1D(2, 3)
    conv1d.build((None, 5, 2))
    viz.plot_filters(conv1d, tmp_path / "conv1d.png")
    read_png(tmp_path / "conv1d.png")


def test_png_has_one_row_per_map_and_a_panel_per_channel(model, tmp_path):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    small = Sequential([Conv2D(1, 3, input_shape=(8, 8, 1))])
    viz.plot_feature_maps(small, np.zeros((1, 8, 8, 1)), tmp_path / "one.png")
    viz.plot_feature_maps(model, np.zeros((1, 8, 8, 2)), tmp_path / "four.png")
    one = matplotlib_image.imread(tmp_path / "one.png")
    four = matplotlib_image.imread(tmp_path / "four.png")
    # input + 4 layers = 5 rows against 2; 3 channels wide against 1
    assert four.shape[0] > 2 * one.shape[0] and four.shape[1] > 2 * one.shape[1]


def test_filters_of_a_layer_without_kernel_are_rejected(model, tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="plot_filters"):
        viz.plot_filters(model.layers[1], tmp_path / "x.png")


def test_sample_out_of_range_is_rejected(model, tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="`sample`"):
        viz.plot_feature_maps(model, np.zeros((2, 8, 8, 2)), tmp_path / "x.png", sample=2)


@pytest.mark.parametrize("call", ["plot_feature_maps", "plot_filters"])
def test_without_matplotlib_the_error_says_how_to_install_it(model, tmp_path, monkeypatch, call):
    # A None entry in sys.modules makes `import matplotlib...` raise ImportError.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    args = (model, np.zeros((1, 8, 8, 2))) if call == "plot_feature_maps" else (model.layers[0],)
    with pytest.raises(ImportError, match=r"pip install minicnn\[viz\]"):
        getattr(viz, call)(*args, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- feature_maps


def test_feature_maps_are_every_layer_output_in_order(model):
    x = np.random.default_rng(1).normal(size=(3, 8, 8, 2)).astype(np.float32)
    maps = model.feature_maps(x)
    assert list(maps) == [layer.name for layer in model.layers]
    y = x
    for layer in model.layers:
        y = layer(y)
        np.testing.assert_array_equal(maps[layer.name], y)
        assert maps[layer.name].dtype == np.float32
    np.testing.assert_array_equal(maps[model.layers[-1].name], model.predict(x))
