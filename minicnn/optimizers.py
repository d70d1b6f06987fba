"""Optimizers with Keras 3's update rules, computed in float32.

The contract with a model is a list of float32 arrays (its trainable weights) and a list of
gradients of the same shapes. ``update`` is pure: it returns the new weights and the new
optimizer variables without changing anything, so a training step can check the result
and then commit weights and state together (or not at all). ``apply`` is the stateful
convenience: it builds, updates and stores the state, and returns the new weights.

Each ``_update`` follows the generic ``update_step`` of ``keras/src/optimizers/<name>.py``
operation for operation: hyper-parameters enter as float32 scalars, the step counter
``iterations`` counts completed updates (Adam's bias correction uses ``iterations + 1``).

State, for saving and resuming (``get_state``/``set_state``): ``iterations`` and
``variables``, the list of float32 slot arrays in Keras's order (all first slots for every
weight, then all second slots): SGD ``[momentum...]`` (only when momentum > 0), Adam
``[momentum..., velocity...]`` (+ ``velocity_hat...`` with amsgrad), RMSprop
``[velocity..., momentum... (momentum > 0), average_gradient... (centered)]``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from .utils import deserialize_object, serialize_object

f32 = np.float32


def _hyper(owner: str, name: str, value, low: float = 0.0, high: float = math.inf) -> float:
    """A real hyper-parameter in ``[low, high]`` (finite), as a python float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a float. Received: {name}={value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        interval = f"[{low}, {high}]" if high != math.inf else f">= {low}"
        raise ValueError(
            f"{owner}: `{name}` must be a finite float {interval}. Received: {name}={value!r}"
        )
    return float(value)


def _flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: `{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


class Optimizer:
    """Base class. Subclasses list their slot names in ``slots`` and implement ``_update``.

    Parameters
    ----------
    learning_rate : float >= 0.
    name : the optimizer's name (Keras's default names: ``"SGD"``, ``"adam"``, ``"rmsprop"``).
    """

    slots: tuple[str, ...] = ()

    def __init__(self, learning_rate: float, name: str, **kwargs):
        kind = type(self).__name__
        if kwargs:
            # Keras's clipnorm, weight_decay, use_ema... are not implemented; refusing them
            # is better than silently training differently.
            raise ValueError(
                f"{kind}: argument(s) not recognized or not supported by minicnn: {sorted(kwargs)}"
            )
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind}: `name` must be a non-empty string. Received: {name!r}")
        self.name = name
        self.learning_rate = learning_rate
        self.iterations = 0
        self.variables: list[np.ndarray] = []
        self.built = False
        self._shapes: list[tuple] = []

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate = _hyper(type(self).__name__, "learning_rate", value)

    # ---- building and state
    def active_slots(self) -> tuple[str, ...]:
        """The slot kinds this configuration keeps (e.g. no momentum slot at momentum 0)."""
        return self.slots

    def build(self, weights: Sequence[np.ndarray]) -> None:
        """Create zero slots shaped like ``weights`` (the trainable weights, in order)."""
        self._shapes = [tuple(np.shape(w)) for w in weights]
        self.variables = [
            np.zeros(shape, dtype=f32) for _ in self.active_slots() for shape in self._shapes
        ]
        self.built = True

    def check_weights(self, weights: Sequence[np.ndarray], where: str = "update") -> None:
        """ValueError unless ``weights`` match the shapes this optimizer was built for."""
        shapes = [tuple(np.shape(w)) for w in weights]
        if self.built and shapes != self._shapes:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' ({where}): it was built for trainable "
                f"weights of shapes {self._shapes} but received {shapes}. An optimizer serves "
                "one set of weights; compile the model with a new optimizer."
            )

    def get_state(self) -> dict:
        """``{"iterations": int, "variables": [float32 arrays]}`` (copies)."""
        return {"iterations": self.iterations, "variables": [v.copy() for v in self.variables]}

    def set_state(self, state: dict) -> None:
        """Restore ``get_state()``'s output; checked whole before anything is assigned.

        Builds the optimizer from the variables' shapes when it is not built yet.
        """
        kind = type(self).__name__
        if not isinstance(state, dict) or set(state) != {"iterations", "variables"}:
            raise ValueError(
                f"{kind}.set_state: expected a dict with keys 'iterations' and 'variables'. "
                f"Received: {state!r:.200}"
            )
        iterations, variables = state["iterations"], state["variables"]
        if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
            raise ValueError(
                f"{kind}.set_state: 'iterations' must be an integer >= 0. Received: {iterations!r}"
            )
        if iterations < 0:
            raise ValueError(f"{kind}.set_state: 'iterations' must be >= 0. Received: {iterations}")
        if isinstance(variables, (np.ndarray, str, bytes)) or not isinstance(variables, Sequence):
            raise ValueError(f"{kind}.set_state: 'variables' must be a list of arrays.")
        arrays = []
        for i, v in enumerate(variables):
            try:
                arr = np.asarray(v)
            except (ValueError, TypeError):
                arr = np.asarray(None)  # ragged: rejected just below
            if arr.dtype.kind not in "biuf" or not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"{kind}.set_state: variable {i} must be a finite numeric array; received "
                    f"dtype {arr.dtype}."
                )
            arrays.append(np.array(arr, dtype=f32))
        n_slots = len(self.active_slots())
        shapes = [a.shape for a in arrays]
        if self.built:
            expected = [s for _ in range(n_slots) for s in self._shapes]
            if shapes != expected:
                raise ValueError(
                    f"{kind}.set_state: variable shapes {shapes} do not match this optimizer's "
                    f"{expected}."
                )
        elif n_slots and len(arrays) % n_slots:
            raise ValueError(
                f"{kind}.set_state: {len(arrays)} variables cannot hold {n_slots} slot(s) "
                "per weight."
            )
        elif n_slots == 0 and arrays:
            raise ValueError(f"{kind}.set_state: this optimizer keeps no variables.")
        if not self.built and n_slots:
            # Slots reveal the weight shapes; a slot-less optimizer builds on its next update.
            self._shapes = shapes[: len(arrays) // n_slots]
            self.built = True
        self.iterations = int(iterations)
        self.variables = arrays

    # ---- config
    def get_config(self) -> dict:
        """Constructor arguments (Keras's names); ``type(opt).from_config`` rebuilds it."""
        return {"name": self.name, "learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        return cls(**config)

    # ---- updating
    def update(
        self,
        grads: Sequence[np.ndarray],
        weights: Sequence[np.ndarray],
        variables: Sequence[np.ndarray] | None = None,
        iterations: int | None = None,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One step, without side effects: ``(new_weights, new_variables)``.

        ``variables``/``iterations`` default to the optimizer's own (zeros when unbuilt).
        """
        if len(grads) != len(weights):
            raise ValueError(
                f"{type(self).__name__}: received {len(grads)} gradients for "
                f"{len(weights)} weights."
            )
        if not self.built:
            self.build(weights)
        self.check_weights(weights)
        variables = self.variables if variables is None else variables
        iterations = self.iterations if iterations is None else iterations
        n = len(weights)
        slots = [list(variables[i * n : (i + 1) * n]) for i in range(len(self.active_slots()))]
        lr = f32(self.learning_rate)
        new_weights = []
        for i, (g, w) in enumerate(zip(grads, weights)):
            g = np.asarray(g, dtype=f32)
            state = [slot[i] for slot in slots]
            w, state = self._update(g, np.asarray(w, dtype=f32), state, lr, iterations)
            new_weights.append(w)
            for slot, value in zip(slots, state):
                slot[i] = value
        return new_weights, [v for slot in slots for v in slot]

    def apply(self, grads: Sequence[np.ndarray], weights: Sequence[np.ndarray]) -> list:
        """Update the state, count the step, and return the new weights."""
        new_weights, self.variables = self.update(grads, weights)
        self.iterations += 1
        return new_weights

    def _update(self, g, w, state, lr, iterations):
        """``(new_w, new_state)`` for one weight; ``state`` lists its slot arrays."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.

    ``momentum == 0``: ``w -= lr*g``. Otherwise ``v = m*v - lr*g`` then ``w += v``, or with
    Nesterov ``w += m*v - lr*g``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        self.momentum = _hyper("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = _flag("SGD", "nesterov", nesterov)
        super().__init__(learning_rate, name, **kwargs)

    def active_slots(self):
        return ("momentum",) if self.momentum != 0 else ()

    def _update(self, g, w, state, lr, iterations):
        if self.momentum == 0:
            return w - g * lr, []
        momentum = f32(self.momentum)
        (v,) = state
        v = v * momentum - g * lr
        if self.nesterov:
            return w + (v * momentum - g * lr), [v]
        return w + v, [v]

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam as ``keras.optimizers.Adam`` (epsilon outside the square root, "epsilon hat"):

    ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)`` with ``t = iterations + 1``;
    ``m += (g - m) * (1 - b1)``; ``v += (g^2 - v) * (1 - b2)``;
    ``w -= m * alpha / (sqrt(v) + epsilon)`` (``v`` replaced by ``max(v_hat, v)`` with amsgrad).
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name="adam",
        **kwargs,
    ):
        self.beta_1 = _hyper("Adam", "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _hyper("Adam", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _hyper("Adam", "epsilon", epsilon)
        self.amsgrad = _flag("Adam", "amsgrad", amsgrad)
        super().__init__(learning_rate, name, **kwargs)

    def active_slots(self):
        return (
            ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")
        )

    def _update(self, g, w, state, lr, iterations):
        step = f32(iterations + 1)
        beta_1_power = np.power(f32(self.beta_1), step)
        beta_2_power = np.power(f32(self.beta_2), step)
        alpha = lr * np.sqrt(f32(1) - beta_2_power) / (f32(1) - beta_1_power)
        m, v = state[0], state[1]
        m = m + (g - m) * f32(1 - self.beta_1)
        v = v + (np.square(g) - v) * f32(1 - self.beta_2)
        new_state = [m, v]
        if self.amsgrad:
            v = np.maximum(state[2], v)
            new_state.append(v)
        return w - (m * alpha) / (np.sqrt(v) + f32(self.epsilon)), new_state

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class RMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop``:

    ``v = rho*v + (1 - rho)*g^2``; ``increment = lr*g / sqrt(v + epsilon)`` (centered:
    ``sqrt(v - a^2 + epsilon)`` with ``a = rho*a + (1 - rho)*g``); with momentum
    ``p = momentum*p + increment; w -= p``, else ``w -= increment``.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name="rmsprop",
        **kwargs,
    ):
        self.rho = _hyper("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = _hyper("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _hyper("RMSprop", "epsilon", epsilon)
        self.centered = _flag("RMSprop", "centered", centered)
        super().__init__(learning_rate, name, **kwargs)

    def active_slots(self):
        return (
            ("velocity",)
            + (("momentum",) if self.momentum > 0 else ())
            + (("average_gradient",) if self.centered else ())
        )

    def _update(self, g, w, state, lr, iterations):
        rho = f32(self.rho)
        state = list(state)
        velocity = rho * state[0] + f32(1 - self.rho) * np.square(g)
        new_state = [velocity]
        if self.centered:
            average = rho * state[-1] + f32(1 - self.rho) * g
            denominator = velocity - np.square(average) + f32(self.epsilon)
        else:
            denominator = velocity + f32(self.epsilon)
        increment = (lr * g) / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = f32(self.momentum) * state[1] + increment
            new_state.append(momentum)
            w = w - momentum
        else:
            w = w - increment
        if self.centered:
            new_state.append(average)
        return w, new_state

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


CLASSES = {cls.__name__: cls for cls in (SGD, Adam, RMSprop)}


def get(identifier) -> Optimizer:
    """An optimizer from a name (case-insensitive, as Keras: ``"sgd"``, ``"Adam"``,
    ``"rmsprop"``; default arguments), a ``{"class_name", "config"}`` dict, or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        for name, cls in CLASSES.items():
            if name.lower() == identifier.lower():
                return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected an Optimizer "
        f"instance or one of {sorted(n.lower() for n in CLASSES)} (case-insensitive)."
    )


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` (configuration only; see ``get_state``)."""
    return serialize_object(optimizer, CLASSES, "optimizers")


def deserialize(config) -> Optimizer:
    """Rebuild an optimizer from ``serialize``'s dict; only minicnn's classes are known."""
    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        # Keras matches built-in optimizer names case-insensitively.
        lowered = {name.lower(): name for name in CLASSES}
        name = lowered.get(config["class_name"].lower(), config["class_name"])
        config = {**config, "class_name": name}
    return deserialize_object(config, CLASSES, "optimizers")


__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize", "deserialize"]
