"""fit and evaluate on a PyDataset or a generator (Keras 3's rules; side-by-side runs in
tools/keras_parity_feeds.py), and what minicnn refuses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minicnn.layers import Dense
from minicnn.models import Sequential
from minicnn.optimizers import SGD
from minicnn.utils import PyDataset

RNG = np.random.default_rng(5)
X = RNG.normal(size=(24, 3)).astype(np.float32)
Y = RNG.normal(size=(24, 2)).astype(np.float32)


class Batches(PyDataset):
    def __init__(self, size=6, weighted=False):
        super().__init__()
        self.size, self.weighted, self.served, self.ends = size, weighted, [], 0

    def __len__(self):
        return len(X) // self.size

    def __getitem__(self, i):
        self.served.append(i)
        s = slice(self.size * i, self.size * (i + 1))
        return (
            (X[s], Y[s], np.arange(self.size, dtype=np.float32)) if self.weighted else (X[s], Y[s])
        )

    def on_epoch_end(self):
        self.ends += 1


def model():
    m = Sequential([Dense(2, input_shape=(3,))])
    m.set_weights([np.full((3, 2), 0.1, np.float32), np.zeros(2, np.float32)])
    m.compile(SGD(0.1), "mse", metrics=["mae"])
    return m


def generator(served, forever=True):
    while True:
        for i in range(4):
            served.append(i)
            yield X[6 * i : 6 * i + 6], Y[6 * i : 6 * i + 6]
        if not forever:
            return


def test_a_pydataset_trains_as_the_same_batches_of_arrays_do():
    a, b = model(), model()
    data = Batches()
    ha = a.fit(data, epochs=3, shuffle=False, verbose=0).history
    hb = b.fit(X, Y, batch_size=6, epochs=3, shuffle=False, verbose=0).history
    assert ha == hb and data.ends == 3
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.evaluate(Batches(), verbose=0) == b.evaluate(X, Y, batch_size=6, verbose=0)
    assert a.evaluate(Batches(), steps=2, verbose=0) == b.evaluate(
        X[:12], Y[:12], batch_size=6, verbose=0
    )


def test_shuffle_permutes_a_pydatasets_batches_each_epoch():
    data = Batches()
    model().fit(data, epochs=4, verbose=0)
    epochs = [sorted(data.served[1 + 4 * e : 5 + 4 * e]) for e in range(4)]  # after the peek
    assert epochs == [[0, 1, 2, 3]] * 4
    assert len({tuple(data.served[1 + 4 * e : 5 + 4 * e]) for e in range(4)}) > 1


def test_a_generator_with_steps_per_epoch_continues_where_it_stopped():
    served = []
    history = model().fit(generator(served), steps_per_epoch=3, epochs=2, verbose=0).history
    assert served == [0, 1, 2, 3, 0, 1] and len(history["loss"]) == 2


def test_a_generator_that_runs_dry_stops_training_with_kerass_warning():
    served = []
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        history = model().fit(generator(served, forever=False), epochs=3, verbose=0).history
    assert served == [0, 1, 2, 3] and len(history["loss"]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model().fit(generator([], forever=False), epochs=1, verbose=0)  # one epoch: no warning


def test_validation_from_a_weighted_pydataset():
    m = model()
    history = m.fit(X, Y, epochs=1, verbose=0, validation_data=Batches(weighted=True)).history
    p = m.predict(X).astype(np.float64)
    per_sample = ((p - Y) ** 2).mean(1).reshape(4, 6) * np.arange(6)
    assert history["val_loss"][0] == pytest.approx(per_sample.sum(1).mean() / 6, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"x": Batches(), "y": Y}, "When providing `x` as a PyDataset, `y` should not be passed"),
        (
            {"x": generator([]), "sample_weight": np.ones(24)},
            "`sample_weight` should not be passed",
        ),
        (
            {"x": Batches(), "validation_split": 0.5},
            "`validation_split` is only supported for NumPy",
        ),
        ({"x": X, "y": Y, "validation_steps": 2}, "`validation_steps` counts the batches"),
        ({"x": generator([]), "steps_per_epoch": 0}, "steps_per_epoch"),
        ({"x": X, "y": Y, "validation_data": generator([])}, "pass `validation_steps`"),
    ],
)
def test_arguments_a_feed_does_not_take_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        model().fit(verbose=0, **kwargs)


def test_a_bad_batch_is_named_by_its_index_before_it_is_used():
    def bad():
        yield X[:6], Y[:6]
        yield X[:6, :2], Y[:6]

    m = model()
    with pytest.raises(ValueError, match=r"`x \(batch 1 of the generator\)` of shape \(6, 2\)"):
        m.fit(bad(), epochs=1, verbose=0)

    def not_a_tuple():
        yield X[:6]

    with pytest.raises(ValueError, match="must give batches as tuples"):
        m.fit(not_a_tuple(), verbose=0)


def test_a_validation_generator_that_runs_dry_stops_training():
    served = []
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        history = model().fit(
            X, Y, epochs=5, verbose=0,
            validation_data=generator(served, forever=False), validation_steps=3,
        ).history  # fmt: skip
    # Four batches: the first epoch validates on three, the second finds one and stops.
    assert len(history["loss"]) == 2 and served == [0, 1, 2, 3]


# --------------------------------------------------------------------------- predict


def test_predict_on_a_pydataset_or_generator_equals_predict_on_the_arrays():
    m = model()
    want = m.predict(X, verbose=0)
    np.testing.assert_array_equal(m.predict(Batches(), verbose=0), want)
    # A generator of (x, y) tuples, of (x,) tuples or of bare arrays: the inputs are the
    # first item (Keras's unpack_x_y_sample_weight).
    for wrap in (lambda s: (X[s], Y[s]), lambda s: (X[s],), lambda s: X[s]):
        source = (wrap(slice(i, i + 5)) for i in range(0, len(X), 5))  # a last batch of 4
        np.testing.assert_array_equal(m.predict(source, verbose=0), want)


def test_predict_steps_bounds_the_batches_read():
    m, source = model(), Batches()
    assert m.predict(source, steps=2, verbose=0).shape == (12, 2)
    assert source.served == [0, 1]
    gen = (X[i : i + 6] for i in range(0, 24, 6))
    assert m.predict(gen, steps=3, verbose=0).shape == (18, 2)
    assert len(list(gen)) == 1  # the fourth batch was not read


def test_predict_on_batches_calls_the_predict_hooks_per_batch():
    from minicnn.callbacks import LambdaCallback

    seen = []
    hooks = LambdaCallback(
        on_predict_begin=lambda logs: seen.append("begin"),
        on_predict_batch_end=lambda k, logs: seen.append((k, logs["outputs"].shape)),
        on_predict_end=lambda logs: seen.append("end"),
    )
    model().predict(Batches(size=12), verbose=0, callbacks=[hooks])
    assert seen == ["begin", (0, (12, 2)), (1, (12, 2)), "end"]


def test_predict_on_batches_refuses_what_it_cannot_honour():
    m = model()
    with pytest.raises(ValueError, match="`batch_size` must be None for a PyDataset"):
        m.predict(Batches(), batch_size=4)
    with pytest.raises(ValueError, match="yielded no batches"):
        m.predict((x for x in []), verbose=0)
    with pytest.raises(ValueError, match="steps"):
        m.predict(Batches(), steps=0)
