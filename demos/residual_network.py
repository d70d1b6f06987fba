"""A small residual network learns the toy line task, and explain() follows one value back
through the skip connection.

The functional API builds the block of ResNet: a conv branch added to its own input
(``h + conv(h)``). One cell of the Add is the conv branch's value plus the skip's, and
each of those is worked out in turn, with the numbers the model computed.
"""

import numpy as np

import minicnn
from minicnn import datasets
from minicnn.layers import Add, Conv2D, Dense, GlobalMaxPooling2D, Input, ReLU
from minicnn.models import Model
from minicnn.optimizers import Adam

minicnn.set_random_seed(0)
x_train, y_train = datasets.line_images(600, seed=1)  # vertical / horizontal / no line
x_test, y_test = datasets.line_images(300, seed=2)

inputs = Input(shape=(8, 8, 1), name="image")
h = Conv2D(4, (3, 3), padding="same", activation="relu", name="lines")(inputs)
branch = Conv2D(4, (3, 3), padding="same", name="branch")(h)
joined = Add(name="skip")([h, branch])  # the residual connection: h + branch(h)
features = GlobalMaxPooling2D(name="strongest")(ReLU(name="relu")(joined))
outputs = Dense(3, activation="softmax", name="classes")(features)
model = Model(inputs, outputs, name="residual")
model.summary()

model.compile(Adam(learning_rate=0.02), "sparse_categorical_crossentropy", ["accuracy"])
model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"held-out accuracy: {accuracy:.2%} on {len(x_test)} new images")

# Follow the strongest value of the Add back through both of its inputs.
sample = x_test[:1]
added = model.feature_maps(sample)["skip"][0]
row, col, channel = np.unravel_index(np.argmax(added), added.shape)
cell = (0, int(row), int(col), int(channel))
print()
print(model.explain(sample, "skip", cell))
print()
print(model.explain(sample, "branch", cell))
print()
print(model.explain(sample, "lines", cell))
print("\nthe skip path's input region:", model.receptive_field("lines", cell[1:3]))
print("the whole block's input region:", model.receptive_field("skip", cell[1:3]))
