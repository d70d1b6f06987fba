# keras.io's "Simple MNIST convnet", end to end: load, scale, to_categorical, fit with a
# validation split and a checkpoint of the best epoch, evaluate, plot the history.
#
# With MNIST in minicnn's cache (run once with --download, or put mnist.npz in
# ~/.minicnn/datasets), the real digits are used; otherwise MNIST-shaped digits drawn
# locally (datasets.digit_images), so the demo never needs the network.
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import minicnn
from minicnn import datasets, layers, viz
from minicnn.callbacks import ModelCheckpoint
from minicnn.downloads import minicnn_home
from minicnn.models import Sequential, load_model
from minicnn.utils import to_categorical

minicnn.set_random_seed(0)
cached = os.path.exists(os.path.join(minicnn_home(), "datasets", "mnist.npz"))
if cached or "--download" in sys.argv:
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train, y_train, x_test, y_test = x_train[:6000], y_train[:6000], x_test[:1000], y_test[:1000]
    source = "MNIST (the first 6000 training and 1000 test images)"
else:
    (x_train, y_train), (x_test, y_test) = (
        datasets.digit_images(3000, seed=1),
        datasets.digit_images(500, seed=2),
    )
    source = "MNIST-shaped digits drawn locally (MNIST is not cached; --download fetches it)"
print(f"data: {source}: x_train {x_train.shape} {x_train.dtype}, y_train {y_train.shape}")

# As keras.io: scale to [0, 1]; the images have no channel axis, and the model built for
# (28, 28, 1) takes them as they are (Keras adds the axis of 1, and so does minicnn).
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
num_classes = 10
y_train = to_categorical(y_train, num_classes)
y_test = to_categorical(y_test, num_classes)

model = Sequential(
    [
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

out = Path(tempfile.gettempdir()) / "minicnn-demo"
out.mkdir(exist_ok=True)
checkpoint = ModelCheckpoint(out / "mnist-best.keras", monitor="val_accuracy", save_best_only=True)
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
start = time.perf_counter()
history = model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=10,
    validation_split=0.1,
    callbacks=[checkpoint],
    verbose=2,
)
print(f"trained in {time.perf_counter() - start:.1f} s")

score = model.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {score[0]:.4f}")
print(f"Test accuracy: {score[1]:.4f}")
best = load_model(out / "mnist-best.keras")
print(f"best epoch's checkpoint (val_accuracy {checkpoint.best:.4f}), reloaded:", end=" ")
print(f"test accuracy {best.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
predicted = np.argmax(best.predict(x_test[:10]), axis=1)
print("first ten test digits, predicted:", predicted.tolist())
print("                       labelled: ", np.argmax(y_test[:10], axis=1).tolist())

try:
    viz.plot_history(history, out / "mnist-history.png")
    viz.plot_feature_maps(best, x_test[:1], out / "mnist-feature-maps.png", channels=8)
    print(f"Wrote {out / 'mnist-history.png'} and {out / 'mnist-feature-maps.png'}")
except ImportError as err:
    print(f"No PNG pictures: {err}")
