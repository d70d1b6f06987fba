# Classify 8x8 images as holding a vertical line, a horizontal line, or no line.
#
# Nobody tells the network what a line detector looks like: a few 3x3 filters with ReLU,
# a global max pooling (how strongly did each filter fire anywhere?) and a softmax Dense
# layer are trained together, and line detectors emerge in the filters.
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import minicnn
from minicnn import datasets, viz
from minicnn.layers import Conv2D, Dense, GlobalMaxPooling2D
from minicnn.models import Sequential
from minicnn.optimizers import Adam

minicnn.set_random_seed(0)
settings = {"thickness": (1, 2), "noise": 0.2}
x_train, y_train = datasets.line_images(samples=900, seed=10, **settings)
x_test, y_test = datasets.line_images(samples=600, seed=20, **settings)
print(f"classes: {datasets.LINE_CLASSES}; {len(x_train)} training and {len(x_test)} test images")
viz.show(
    np.round(x_train[0, :, :, 0], 1), f"a training image ({datasets.LINE_CLASSES[y_train[0]]}):"
)

model = Sequential(
    [
        Conv2D(6, (3, 3), activation="relu", input_shape=(8, 8, 1)),
        GlobalMaxPooling2D(),
        Dense(3, activation="softmax"),
    ]
)
model.compile(
    optimizer=Adam(learning_rate=0.01),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, batch_size=32, epochs=40, validation_split=0.2, verbose=0)
print("\nepoch  loss    accuracy  val_loss  val_accuracy")
for epoch in (0, 4, 9, 19, 39):
    h = {key: values[epoch] for key, values in history.history.items()}
    print(
        f"{epoch + 1:>5}  {h['loss']:.4f}  {h['accuracy']:8.2%}  {h['val_loss']:.4f}"
        f"  {h['val_accuracy']:12.2%}"
    )

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"\nheld-out accuracy: {accuracy:.2%} (loss {loss:.4f}) on {len(x_test)} new images")
assert accuracy >= 0.98, "the classifier should separate the three classes"

# Which class does each filter vote for? The Dense kernel row of a filter says how its
# strongest response moves each class score.
kernel = model.layers[0].get_weights()[0]
votes = model.layers[2].get_weights()[0]
print("\nlearned 3x3 filters (rounded), with the class each one's response favours most:")
for f in range(kernel.shape[-1]):
    favours = datasets.LINE_CLASSES[int(np.argmax(votes[f]))]
    print(viz.render(np.round(kernel[:, :, 0, f], 2), f"filter {f} -> {favours}"))

# The trained classifier's explorer page for one test image: click a cell of the conv
# maps, the pooled vector or the class scores to see the numbers that make it.
out = Path(tempfile.gettempdir()) / "minicnn-demo"
out.mkdir(exist_ok=True)
start = time.perf_counter()
page = viz.explorer(model, x_test[:1], out / "line_classifier.html", title="Line classifier")
took = time.perf_counter() - start
print(f"\nWrote {page} ({os.path.getsize(page) / 1024:.0f} KiB in {took * 1000:.0f} ms)")
