# Learn the tutorial's vertical line detector from data instead of handcrafting it.
#
# A Conv2D(1, (3, 3)) layer starts from random weights. We show it images and the feature
# maps the handcrafted detector produces for them, and let stochastic gradient descent
# adjust the 9 weights and the bias until the layer reproduces those maps.
import numpy as np

import minicnn
from minicnn import datasets, viz
from minicnn.layers import Conv2D
from minicnn.models import Sequential
from minicnn.optimizers import SGD


def side_by_side(*blocks: str, gap: int = 6) -> str:
    """Join multi-line text blocks horizontally."""
    columns = [block.splitlines() for block in blocks]
    widths = [max(len(line) for line in lines) for lines in columns]
    rows = max(len(lines) for lines in columns)
    return "\n".join(
        (" " * gap)
        .join(
            (lines[r] if r < len(lines) else "").ljust(width)
            for lines, width in zip(columns, widths)
        )
        .rstrip()
        for r in range(rows)
    )


minicnn.set_random_seed(1)
handcrafted = datasets.VERTICAL_LINE_DETECTOR
# 256 noisy line images and their feature maps under the handcrafted detector.
x, y = datasets.feature_map_pairs(samples=256, kernel=handcrafted, noise=0.5, seed=0)
print(f"training data: {x.shape[0]} images {x.shape[1:3]} -> feature maps {y.shape[1:3]}")

model = Sequential()
model.add(Conv2D(1, (3, 3), input_shape=(8, 8, 1)))
start = model.get_weights()[0][:, :, 0, 0]
model.compile(optimizer=SGD(learning_rate=0.05, momentum=0.9), loss="mse")
history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
losses = history.history["loss"]
print(f"mean squared error: epoch 1 {losses[0]:.4f} -> epoch {len(losses)} {losses[-1]:.2e}")

kernel, bias = model.get_weights()
learned = kernel[:, :, 0, 0]
print()
print(
    side_by_side(
        viz.render(np.round(start, 3), "random start"),
        viz.render(np.round(learned, 3), "learned filter"),
        viz.render(handcrafted, "handcrafted filter"),
    )
)
difference = float(np.max(np.abs(learned - handcrafted)))
print(f"learned bias: {bias[0]:.4f}")
print(f"largest absolute difference, learned vs handcrafted: {difference:.2e}")
assert difference < 0.05, "the learned filter should match the handcrafted one"

# The tutorial's image: a vertical line two pixels wide, through the learned filter.
data = np.zeros((1, 8, 8, 1), dtype=np.float32)
data[0, :, 3:5, 0] = 1
yhat = model.predict(data)
print()
viz.show(np.round(yhat[0, :, :, 0], 2), "feature map of the tutorial's image, learned filter:")
