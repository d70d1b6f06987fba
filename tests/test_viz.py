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


# --------------------------------------------------------------------------- sizes, choices


def digits_cnn():
    model = Sequential([Conv2D(32, 3, input_shape=(8, 8, 1)), Conv2D(64, 3), Flatten(), Dense(10)])
    return model


def test_a_digits_cnn_draws_at_a_readable_size_by_default(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    model = digits_cnn()
    viz.plot_feature_maps(model, np.zeros((1, 8, 8)), tmp_path / "maps.png")
    viz.plot_filters(model.layers[1], tmp_path / "filters.png")
    for name in ("maps.png", "filters.png"):
        height, width = image.imread(tmp_path / name).shape[:2]
        # Before: 5490 px wide (maps) and 6140 px tall (512 filter panels).
        assert width <= 1400 and height <= 1600, (name, width, height)


def test_layers_channels_and_columns_choose_what_is_drawn(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    model = digits_cnn()
    x = np.zeros((1, 8, 8, 1))
    viz.plot_feature_maps(model, x, tmp_path / "one.png", layers=["conv2d"], channels=[0])
    viz.plot_feature_maps(model, x, tmp_path / "row.png", layers=[0], channels=8)
    viz.plot_feature_maps(model, x, tmp_path / "col.png", layers=[0], channels=8, max_columns=1)
    one, row, col = (
        image.imread(tmp_path / n).shape[:2] for n in ("one.png", "row.png", "col.png")
    )
    assert row[1] > 3 * one[1] and abs(row[0] - one[0]) < one[0] / 2  # 8 panels in one row
    assert col[0] > 3 * one[0] and abs(col[1] - one[1]) < one[1] / 2  # 8 rows of one
    with pytest.raises(ValueError, match=r"`channels` must be indices in 0\.\.31"):
        viz.plot_feature_maps(model, x, tmp_path / "x.png", layers=[0], channels=[40])
    with pytest.raises(ValueError, match="No such layer: nope"):
        viz.plot_feature_maps(model, x, tmp_path / "x.png", layers=["nope"])
    with pytest.raises(ValueError, match="`max_columns` must be an int >= 1"):
        viz.plot_filters(model.layers[0], tmp_path / "x.png", max_columns=0)


def test_one_colour_scale_per_layer():
    # Two channels of one layer, one twice the other, and a second layer: each layer's
    # panels share the layer's range, so the dimmer channel reads dimmer.
    pytest.importorskip("matplotlib")
    from minicnn.viz import _draw_sections, _Section

    ramp = np.linspace(0, 1, 16).reshape(4, 4)
    sections = [_Section("a", [("0", ramp), ("1", 2 * ramp)]), _Section("b", [("0", -ramp)])]
    fig = _draw_sections("test", sections, "t", 8)
    limits = [
        [image.get_clim() for ax in sub.axes for image in ax.get_images()] for sub in fig.subfigs
    ]
    assert limits == [[(0.0, 2.0), (0.0, 2.0)], [(-1.0, 0.0)]]


def test_plot_history_draws_one_panel_per_metric(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.8]}
    viz.plot_history(history, tmp_path / "two.png")
    viz.plot_history(history, tmp_path / "one.png", metrics="loss")
    two, one = (image.imread(tmp_path / n).shape for n in ("two.png", "one.png"))
    assert two[1] > 1.8 * one[1]
    with pytest.raises(ValueError, match=r"\['mae'\] were not logged"):
        viz.plot_history(history, tmp_path / "x.png", metrics=["mae"])
    with pytest.raises(ValueError, match="expected a History"):
        viz.plot_history({}, tmp_path / "x.png")
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    fitted = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0)
    assert viz.plot_history(fitted, tmp_path / "fit.png") == str(tmp_path / "fit.png")
