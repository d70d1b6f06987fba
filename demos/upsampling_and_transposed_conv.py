"""The upsampling tutorial's two handcrafted models, cell by cell.

UpSampling2D repeats each pixel; Conv2DTranspose with a 1x1 kernel of weight 1 and
strides (2, 2) spreads the pixels two apart and leaves zeros between them. Then a 3x3
transposed kernel shows where upsampling by learning differs: neighbouring inputs overlap,
and explain() lists the products that land on one output cell.
"""

from numpy import asarray

from minicnn.layers import Conv2DTranspose, UpSampling2D
from minicnn.models import Sequential

X = asarray([[1, 2], [3, 4]])
print(X)
X = X.reshape((1, 2, 2, 1))

# The tutorial's first model: nearest-neighbour upsampling.
model = Sequential()
model.add(UpSampling2D(input_shape=(2, 2, 1)))
model.summary()
yhat = model.predict(X)
print(yhat.reshape((4, 4)))
print(model.explain(X, 0, (0, 3, 2, 0)))
print()

# Its second model: a transposed convolution with a handcrafted 1x1 kernel.
model = Sequential()
model.add(Conv2DTranspose(1, (1, 1), strides=(2, 2), input_shape=(2, 2, 1)))
model.summary()
model.set_weights([asarray([[[[1]]]]), asarray([0])])
yhat = model.predict(X)
print(yhat.reshape((4, 4)))
print(model.explain(X, 0, (0, 2, 2, 0)))
print(model.explain(X, 0, (0, 1, 2, 0)))
print()

# A 3x3 kernel of ones, strides 2, "same": each input spreads over a 3x3 block, and where
# blocks overlap their values add up.
model = Sequential(
    [Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same", input_shape=(2, 2, 1))]
)
model.set_weights([asarray([[[[1]]] * 3] * 3), asarray([0])])
yhat = model.predict(X)
print(yhat.reshape((4, 4)))
print(model.explain(X, 0, (0, 2, 2, 0)))
print("receptive field of output (2, 2):", model.receptive_field(0, (2, 2)))
