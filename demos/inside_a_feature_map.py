"""Inside a feature map: every number of a convolution, worked out the way the tutorial
works it by hand, then pictures of the maps and filters.

Run: python demos/inside_a_feature_map.py
"""

import tempfile
from pathlib import Path

import numpy as np

import minicnn
from minicnn import viz
from minicnn.layers import Conv1D, Conv2D, MaxPooling2D
from minicnn.models import Sequential

minicnn.set_random_seed(7)

# --- The tutorial's 1D bump detector: the cell that equals 1.
data_1d = np.asarray([0, 0, 0, 1, 1, 0, 0, 0]).reshape(1, 8, 1)
model_1d = Sequential()
model_1d.add(Conv1D(1, 3, input_shape=(8, 1)))
model_1d.set_weights([np.asarray([[[0]], [[1]], [[0]]]), np.asarray([0.0])])
print("The tutorial's 1D cell, output position 2:")
print(model_1d.explain(data_1d, 0, (0, 2, 0)))
print()

# --- The tutorial's 2D vertical line detector on its 8x8 image: the cell that equals 3.
data = np.asarray([[0, 0, 0, 1, 1, 0, 0, 0]] * 8).reshape(1, 8, 8, 1)
model = Sequential()
model.add(Conv2D(1, (3, 3), input_shape=(8, 8, 1)))
detector = [[[[0]], [[1]], [[0]]], [[[0]], [[1]], [[0]]], [[[0]], [[1]], [[0]]]]
model.set_weights([np.asarray(detector), np.asarray([0.0])])
cell = model.explain(data, 0, (0, 0, 2, 0))
print("The tutorial's 2D cell, row 0, column 2:")
print(cell)
assert cell.value == model.predict(data)[0, 0, 2, 0] == 3.0
print()
viz.show(data, title="the input image")
print()
viz.show(model.predict(data), title="the whole feature map (6x6)")
print()

# --- One cell of a multi-channel layer with stride 2 and 'same' zero padding. On the
# image's top edge the window reaches above it, into the padding (shown as ·).
rgb = np.random.default_rng(0).integers(0, 4, size=(1, 7, 7, 3))
strided = Sequential([Conv2D(2, (3, 3), strides=2, padding="same", input_shape=(7, 7, 3))])
strided.set_weights([np.round(w * 4) / 4 for w in strided.get_weights()])  # short numbers
print("A 3-channel input, 2 filters, strides=2, padding='same': output row 0, column 1")
print(strided.explain(rgb, 0, (0, 0, 1, 1)))
print()

# --- Both of the tutorial's line detectors on a larger picture, drawn as shaded blocks,
# then max pooling, with receptive fields and the layer geometry.
picture = np.zeros((1, 20, 20, 1))
picture[0, :, 6] = picture[0, 13, :] = 1
lines = Sequential(
    [Conv2D(2, (3, 3), padding="same", input_shape=(20, 20, 1)), MaxPooling2D((2, 2))]
)
vertical = np.asarray([[0, 1, 0]] * 3)
lines.set_weights([np.stack([vertical, vertical.T], axis=-1)[:, :, None, :], np.zeros(2)])
maps = lines.feature_maps(picture)[lines.layers[0].name]
viz.show(picture, title="a 20x20 picture with one vertical and one horizontal line")
print()
viz.show(maps[0, :, :, 0], title="vertical-line detector's map")
print()
viz.show(maps[0, :, :, 1], title="horizontal-line detector's map")
print()
print(lines.explain(picture, 1, (0, 6, 3, 1)))
rows, cols = lines.receptive_field(1, (6, 3))
print(
    f"pooled output (6, 3) sees input rows {rows.start}..{rows.stop - 1}, "
    f"columns {cols.start}..{cols.stop - 1}"
)
lines.summary(show_receptive_field=True)
print()

# --- The gradients behind training, checked against finite differences.
print(minicnn.gradcheck(strided, rgb))
print()

# --- PNG pictures, when matplotlib (pip install minicnn[viz]) is there.
try:
    # One fixed folder, overwritten on each run, rather than a new one per run.
    out = Path(tempfile.gettempdir()) / "minicnn-demo"
    out.mkdir(exist_ok=True)
    viz.plot_feature_maps(lines, picture, out / "feature_maps.png")
    viz.plot_filters(lines.layers[0], out / "filters.png")
    print(f"Wrote {out / 'feature_maps.png'} and {out / 'filters.png'}")
except ImportError as err:
    print(f"No PNG pictures: {err}")
