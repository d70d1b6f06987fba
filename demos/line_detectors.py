"""Handcrafted line detectors, as in the tutorial's "Convolution in Computer Vision" and
"Power of Learned Filters" sections: one filter per feature, several filters in one layer,
filters as deep as a colour image, and a second layer built on the first one's maps.

Run: python demos/line_detectors.py
"""

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from minicnn import viz
from minicnn.layers import Conv2D, Input
from minicnn.models import Sequential

VERTICAL = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32)
HORIZONTAL = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]], dtype=np.float32)

# An 8x8 grey image: a vertical line in column 2 crossing a horizontal line in row 5.
IMAGE = np.zeros((8, 8), dtype=np.float32)
IMAGE[:, 2] = 1
IMAGE[5, :] = 1


def show(title: str, grid) -> None:
    """Print a 2-D array as a grid, zeros as dots so the structure stands out."""
    print(title)
    for row in np.asarray(grid):
        print("    " + " ".join(f"{v:2g}" if v else " ." for v in row))
    print()


def heading(text: str) -> None:
    print(f"\n{text}\n{'=' * len(text)}\n")


def detector_model(name: str, kernels, channels: int = 1) -> Sequential:
    """A one-layer model whose filters are ``kernels`` (3, 3, channels, filters), no bias."""
    kernels = np.asarray(kernels, dtype=np.float32)
    model = Sequential(
        [Input(shape=(8, 8, channels)), Conv2D(kernels.shape[-1], (3, 3))], name=name
    )
    model.set_weights([kernels, np.zeros(kernels.shape[-1])])
    return model


def as_kernel(*filters_2d):
    """Stack 3x3 filters into a Keras kernel of shape (3, 3, 1, n_filters)."""
    return np.stack(filters_2d, axis=-1)[:, :, None, :]


heading("1. One image, two handcrafted filters")
show("The image (8x8, one channel): a vertical and a horizontal line that cross", IMAGE)
show("Vertical line detector", VERTICAL)
show("Horizontal line detector", HORIZONTAL)

batch = IMAGE.reshape(1, 8, 8, 1)
vertical_map = detector_model("vertical", as_kernel(VERTICAL)).predict(batch)[0, :, :, 0]
horizontal_map = detector_model("horizontal", as_kernel(HORIZONTAL)).predict(batch)[0, :, :, 0]
show(
    "Vertical detector's feature map (6x6): 3 where the vertical line fills the filter's\n"
    "centre column, 1 where the horizontal line only crosses it",
    vertical_map,
)
show(
    "Horizontal detector's feature map: 3 along the horizontal line, 1 where the vertical\n"
    "line crosses the filter's centre row",
    horizontal_map,
)
show(
    "Both maps added: every line is highlighted, most strongly where they cross",
    vertical_map + horizontal_map,
)

heading("2. Multiple filters: one Conv2D holding both detectors")
both = detector_model("two_filters", as_kernel(VERTICAL, HORIZONTAL))
both.summary()
maps = both.predict(batch)
print(f"\nKernel shape {both.get_weights()[0].shape}: (rows, cols, input channels, filters)")
print(f"Output shape {maps.shape}: one feature map per filter")
print(
    "Filter 0's map equals the vertical map above:  ",
    np.array_equal(maps[0, :, :, 0], vertical_map),
)
print(
    "Filter 1's map equals the horizontal map above:",
    np.array_equal(maps[0, :, :, 1], horizontal_map),
)

heading("3. Multiple channels: a colour image needs a 3x3x3 filter")
rgb = np.zeros((8, 8, 3), dtype=np.float32)
rgb[:, :, 0] = IMAGE * (np.arange(8)[None, :] == 2)  # red: the vertical line only
rgb[:, :, 1] = IMAGE * (np.arange(8)[:, None] == 5)  # green: the horizontal line only
show("Red channel", rgb[:, :, 0])
show("Green channel (blue is empty)", rgb[:, :, 1])
red_vertical = np.zeros((3, 3, 3, 1), dtype=np.float32)
red_vertical[:, :, 0, 0] = VERTICAL  # look for a vertical line in red, ignore green and blue
rgb_map = detector_model("red_vertical", red_vertical, channels=3).predict(rgb[None])[0, :, :, 0]
print(f"A filter of shape {red_vertical.shape[:3]} (rows, cols, depth) gives one value per")
print("position: the dot product over all three channels. This one holds the vertical")
print("detector in its red slice and zeros elsewhere, so the green line leaves no trace:\n")
show("Feature map of the red-vertical-line filter", rgb_map)

heading("4. Multiple layers: a second layer combines the first one's features")
# Layer 1 finds vertical and horizontal lines (ReLU keeps the maps non-negative).
# Layer 2 looks at both maps at each position (a 1x1 filter weighting each by 1) with
# bias -5, so after ReLU it fires only where both lines are present: at a crossing.
stacked = Sequential(
    [
        Input(shape=(8, 8, 1)),
        Conv2D(2, (3, 3), activation="relu", name="lines"),
        Conv2D(1, (1, 1), activation="relu", name="crossings"),
    ],
    name="lines_then_crossings",
)
stacked.set_weights(
    [as_kernel(VERTICAL, HORIZONTAL), np.zeros(2), np.ones((1, 1, 2, 1)), np.array([-5.0])]
)
stacked.summary()
crossing_map = stacked.predict(batch)[0, :, :, 0]
show("\nSecond layer's feature map: one activation, where the lines cross", crossing_map)
row, col = np.argwhere(crossing_map)[0]
print(f"It sits at map position ({row}, {col}), whose 3x3 window in the image is centred on")
print(f"pixel ({row + 1}, {col + 1}): the crossing of column 2 and row 5.")

heading("5. Look inside in the browser")
# One self-contained HTML page per model: click any cell of a map to see the patch, the
# filter, the products summed and the receptive field, or open it at a cell with
# #layer=<name>&index=<row,col,channel> after the file's address.
out = Path(tempfile.gettempdir()) / "minicnn-demo"
out.mkdir(exist_ok=True)
for model in (both, stacked):
    start = time.perf_counter()
    page = viz.explorer(model, batch, out / f"{model.name}.html")
    took = time.perf_counter() - start
    print(f"Wrote {page} ({os.path.getsize(page) / 1024:.0f} KiB in {took * 1000:.0f} ms)")
print(
    f"Open {out / 'lines_then_crossings.html'}#layer=crossings&index={row},{col},0 "
    "for the crossing."
)
