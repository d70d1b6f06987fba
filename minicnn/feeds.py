"""Feeds: what ``fit`` and ``evaluate`` read batch after batch, from arrays
(``ArrayFeed``) or from data that arrives a batch at a time (``SourceFeed``): Keras's
``PyDataset`` and Python generators.

``fit``, ``evaluate`` and ``fit(validation_data=...)`` take, instead of arrays, a
``PyDataset`` (``__len__`` batches, ``__getitem__(i)`` returning ``(x, y)`` or ``(x, y,
sample_weight)``, ``on_epoch_end`` called after each epoch; its batch order is shuffled
when ``shuffle=True``, as Keras does) or a generator yielding such tuples, which runs
until it is exhausted or for ``steps_per_epoch`` batches per epoch, continuing where it
stopped. Every batch is checked as array input is (shapes, finite values, labels) when
it arrives; ``Batches`` is the one loop over either kind. A feed yields ``(step, x, y,
sample_weight)`` float32 batches per epoch and knows its number of steps (None for a
generator that runs until exhausted) and the shapes the metrics are resolved against.
"""

from __future__ import annotations

import itertools
import types
import warnings

import numpy as np

from .data import SCAN_CHUNK, batches, check_data, take
from .validation import check_int


class PyDataset:
    """Base class for data sets that make their batches on demand (Keras 3's
    ``keras.utils.PyDataset``).

    Subclass it and implement ``__len__`` (the number of batches; or a ``num_batches``
    property, None for an endless data set read with ``steps_per_epoch``) and
    ``__getitem__(index)`` returning ``(x, y)`` or ``(x, y, sample_weight)`` for batch
    ``index``; ``on_epoch_begin``/``on_epoch_end`` run around each epoch of ``fit``.
    Iterating over it gives its batches in order.

    Parameters
    ----------
    workers, use_multiprocessing, max_queue_size : Keras's loading options, kept for
        code written for Keras; minicnn reads the batches in the calling thread, in order,
        which gives the same batches.

    Examples
    --------
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         x = np.full((8, 1), float(i))
    ...         return x, x**2
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size=10):
        # Keras takes 0 for both (read in the calling thread, no queue), as minicnn does.
        self.workers = check_int(workers, "PyDataset", "workers", minimum=0)
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = check_int(max_queue_size, "PyDataset", "max_queue_size", minimum=0)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index).")

    @property
    def num_batches(self) -> int | None:
        """The number of batches: ``len(self)``; None (in a subclass) for an endless one."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__ or the `num_batches` property."
        )

    def __iter__(self):
        """The batches in order (endlessly when ``num_batches`` is None or undefined), as
        Keras's ``PyDataset.__iter__``."""
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch of ``fit``."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch of ``fit``."""


def is_batch_source(x) -> bool:
    """A ``PyDataset`` or a generator: data that arrives a batch at a time."""
    return isinstance(x, (PyDataset, types.GeneratorType))


def kind(x) -> str:
    return "PyDataset" if isinstance(x, PyDataset) else "generator"


def check_unsupported(x, method: str, y=None, sample_weight=None, validation_split=0.0):
    """Keras's refusals for arguments a batch source carries itself."""
    what = kind(x)
    for name, value, description in (
        ("y", y, "the targets"),
        ("sample_weight", sample_weight, "the sample weights"),
    ):
        if value is not None:
            raise ValueError(
                f"When providing `x` as a {what}, `{name}` should not be passed. Instead, "
                f"{description} should be included as part of the {what}."
            )
    if validation_split:
        raise ValueError(
            f"{method}: `validation_split` is only supported for NumPy arrays; with a {what}, "
            "pass `validation_data`."
        )


def split_batch(item, what: str, index: int) -> tuple:
    """``(x, y, sample_weight or None)`` from what a source returned for one batch."""
    if isinstance(item, list):
        item = tuple(item)
    if not isinstance(item, tuple) or len(item) not in (2, 3):
        raise ValueError(
            f"A {what} must give batches as tuples (inputs, targets) or (inputs, targets, "
            f"sample_weights); batch {index} is {type(item).__name__}"
            + (f" of length {len(item)}" if isinstance(item, tuple) else "")
            + "."
        )
    return item[0], item[1], (item[2] if len(item) == 3 else None)


RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


class Passes:
    """Keras's ``EpochIterator`` over data of ``count`` batches: without
    ``steps_per_epoch`` every epoch is one whole pass; with it a pass goes on across
    epochs (an epoch starts where the last one stopped), an epoch that reaches the end
    of the pass stops there with Keras's "ran out of data" warning, and the next epoch
    starts a new pass (in a new order when shuffling)."""

    def __init__(self, count: int, steps_per_epoch: int | None):
        self.count, self.steps_per_epoch = count, steps_per_epoch
        self.steps = steps_per_epoch or count
        self._order, self._seen = None, count  # no pass under way

    def epoch(self, new_order):
        """Yield ``(step, k, order)``: the epoch's step, the batch's place in the pass, and
        the pass's order (``new_order()``, called when a pass starts)."""
        if self.steps_per_epoch is None or self._seen >= self.count:
            self._order, self._seen = new_order(), 0
        for step in range(self.steps):
            if self._seen >= self.count:
                warnings.warn(RAN_OUT, stacklevel=4)
                break
            yield step, self._seen, self._order
            self._seen += 1


class Batches:
    """One pass (an epoch) at a time over a ``PyDataset`` or a generator.

    ``steps`` is the number of batches per epoch: ``steps_per_epoch`` if given, else the
    PyDataset's length, else None (a generator runs until exhausted). ``epoch(order)``
    yields the raw items; a generator that runs dry before ``steps`` batches sets
    ``exhausted``.
    """

    def __init__(self, source, steps_per_epoch, method: str, steps_name="steps_per_epoch"):
        self.source = source
        self.what = kind(source)
        self.exhausted = False
        if steps_per_epoch is not None:
            steps_per_epoch = check_int(steps_per_epoch, method, steps_name, minimum=1)
        self.passes = None
        if isinstance(source, PyDataset) and source.num_batches is not None:
            count = check_int(source.num_batches, method, "len(PyDataset)", minimum=1)
            self.passes = Passes(count, steps_per_epoch)
            self.steps = self.passes.steps
            self._iterator = None
        else:
            # A generator, or an endless PyDataset (num_batches None) read in order, as
            # Keras reads one: both go on where the last epoch stopped.
            self.steps = steps_per_epoch
            self._iterator = iter(source)
        self._pending = []  # a batch read ahead (to learn the shapes), served first

    def peek(self):
        """The first batch, read ahead and served again by the first epoch."""
        if self.passes is not None:
            return self.source[0]
        try:
            item = next(self._iterator)
        except StopIteration:
            raise ValueError(
                f"The {self.what} yielded no batches: the generator must yield at least one "
                "batch (its first batch tells the shapes of the data)."
            ) from None
        self._pending.append(item)
        return item

    def epoch(self, new_order=lambda: None):
        """Yield ``(index, item)`` for one epoch; ``new_order()`` permutes a PyDataset's
        batches for each new pass (None: in order)."""
        if self.passes is not None:
            for i, k, order in self.passes.epoch(new_order):
                yield i, self.source[int(k if order is None else order[k])]
            return
        i = 0
        while self.steps is None or i < self.steps:
            if self._pending:
                item = self._pending.pop(0)
            else:
                try:
                    item = next(self._iterator)
                except StopIteration:
                    if self.steps is not None or i == 0:
                        self.exhausted = True
                        warnings.warn(RAN_OUT, stacklevel=3)
                    return
            yield i, item
            i += 1

    def permutation(self, rng) -> np.ndarray | None:
        if self.passes is not None:
            return rng.permutation(self.passes.count)
        return None


class ArrayFeed:
    """Batches of arrays already checked by ``check_data``: ``batch_size`` at a time,
    in a fresh permutation each pass when shuffling; ``steps_per_epoch`` batches an
    epoch when given (see ``Passes``)."""

    exhausted = False

    def __init__(self, x, y, weights, batch_size: int, output_shape, steps_per_epoch=None):
        self.x, self.y, self.weights = x, y, weights
        self.slices = batches(len(x), batch_size)
        self.passes = Passes(len(self.slices), steps_per_epoch)
        self.steps = self.passes.steps
        self.y_example, self.output_shape = y, output_shape

    def epoch(self, rng=None):
        """Yield ``(step, x, y, sample_weight)``; ``rng`` given: shuffled."""

        def new_order():
            return None if rng is None else rng.permutation(len(self.x))

        for step, k, order in self.passes.epoch(new_order):
            part = self.slices[k]
            index = part if order is None else order[part]
            w = None if self.weights is None else take(self.weights, index)
            yield step, take(self.x, index), take(self.y, index), w

    def begin(self) -> None: ...

    def end(self) -> None: ...


class SourceFeed:
    """Batches from a ``PyDataset`` or a generator, each checked against the model as
    array input is; the first batch is read ahead to learn the shapes."""

    def __init__(
        self,
        model,
        source,
        steps,
        method: str,
        class_weight=None,
        names=("x", "y"),
        steps_name="steps_per_epoch",
    ):
        self.model, self.method, self.class_weight, self.names = model, method, class_weight, names
        self.batches = Batches(source, steps, method, steps_name)
        self.steps = self.batches.steps
        _, self.y_example, self.output_shape, _ = self._check(0, self.batches.peek())

    @property
    def exhausted(self) -> bool:
        return self.batches.exhausted

    def _check(self, index: int, item) -> tuple:
        x, y, w = split_batch(item, self.batches.what, index)
        where = f" (batch {index} of the {self.batches.what})"
        names = tuple(name + where for name in self.names)
        return check_data(
            self.model, x, y, self.method, SCAN_CHUNK, names, sample_weight=w,
            class_weight=self.class_weight,
        )  # fmt: skip

    def epoch(self, rng=None):
        """Yield ``(step, x, y, sample_weight)``; ``rng`` given: a PyDataset's batch order
        shuffled (a generator's order is its own)."""

        def new_order():
            return None if rng is None else self.batches.permutation(rng)

        for step, item in self.batches.epoch(new_order):
            x, y, _, w = self._check(step, item)
            yield (
                step,
                take(x, slice(None)),
                take(y, slice(None)),
                (None if w is None else take(w, slice(None))),
            )

    def begin(self) -> None:
        if isinstance(self.batches.source, PyDataset):
            self.batches.source.on_epoch_begin()

    def end(self) -> None:
        if isinstance(self.batches.source, PyDataset):
            self.batches.source.on_epoch_end()
