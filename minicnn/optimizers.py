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
``slot_arrays``, the list of float32 slot arrays slot by slot (all first slots for every
weight, then all second slots): SGD ``[momentum...]`` (only when momentum > 0), Adam
``[momentum..., velocity...]`` (+ ``velocity_hat...`` with amsgrad), RMSprop
``[velocity..., momentum... (momentum > 0), average_gradient... (centered)]``.
``variables`` is Keras's list: the iteration count and the learning rate, then the slots.
Keras 3.15 orders its slots a little differently: Adam keeps each weight's momentum and
velocity side by side. ``keras_order`` maps one order to the other for Keras's files.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Sequence

import numpy as np

from . import missing
from .registry import Configurable, Registry
from .utils import to_snake_case, unique_name
from .validation import check_bool, check_name, check_real

f32 = np.float32
#: Options of Keras's base optimizer that minicnn does not implement, with the default
#: values Keras's ``get_config`` records (and the only values minicnn accepts).
KERAS_DEFAULTS = {
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


#: Keras's base-optimizer options minicnn implements, every optimizer taking them.
COMMON = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue")


def _clip_by_norm(g, clip):
    """Keras's ``clip_by_norm``: ``g * clip / max(norm(g), clip)`` (a zero gradient stays)."""
    norm = np.sqrt(np.sum(np.square(g), dtype=f32), dtype=f32)
    return g * clip / np.maximum(norm, clip)


def _same(value, default) -> bool:
    return value is default if default is None or isinstance(default, bool) else value == default


class Optimizer(Configurable):
    """Base class. Subclasses declare their hyper-parameters in ``hyper`` (name -> allowed
    ``(low, high)``) and ``flags`` (bool options), list their slot names in ``slots``, and
    implement ``_update``; constructor checks and ``get_config`` come from those tables.

    Parameters
    ----------
    learning_rate : float >= 0, or a callable of no arguments giving it (called at every
        step, as Keras takes one; it cannot be saved in a config).
    name : the optimizer's name; by default Keras's automatic one, the class name in
        snake case made unique (``"sgd"``, ``"sgd_1"``, ``"adam"``, ``"rm_sprop"``).
    weight_decay : None or float >= 0
        Each step first shrinks every trainable weight by ``w * weight_decay * lr``
        (decoupled weight decay, as Keras), except those ``exclude_from_weight_decay``
        names.
    clipnorm, global_clipnorm, clipvalue : None or float
        Gradient clipping before the step, as Keras: each gradient to an L2 norm of at
        most ``clipnorm``, or all of them together to ``global_clipnorm`` (not both), and
        each element into ``[-clipvalue, clipvalue]``.
    **kwargs : the subclass's hyper-parameters and flags; Keras's other options (EMA,
        loss scaling, gradient accumulation) only at their defaults.

    Examples
    --------
    >>> opt = SGD(0.1)
    >>> isinstance(opt, Optimizer), opt.iterations
    (True, 0)
    """

    slots: tuple[str, ...] = ()
    hyper: dict[str, tuple[float, float | None]] = {}
    flags: tuple[str, ...] = ()

    def __init__(self, learning_rate: float, name: str | None, **kwargs):
        kind = type(self).__name__
        own = {key: kwargs.pop(key) for key in (*self.hyper, *self.flags) if key in kwargs}
        common = {key: kwargs.pop(key, None) for key in COMMON}
        for key, value in common.items():
            common[key] = check_real(value, kind, key, 0.0, allow_none=True)
        clips = {k: common[k] for k in ("clipnorm", "clipvalue", "global_clipnorm")}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                "Received: " + ", ".join(f"{k}={v}" for k, v in clips.items())
            )
        for key, default in KERAS_DEFAULTS.items():
            # Keras's config records these; at their defaults they change nothing.
            if key in kwargs and _same(kwargs[key], default):
                del kwargs[key]
        if kwargs:
            # Keras's clipnorm, weight_decay, use_ema... are not implemented; refusing them
            # is better than silently training differently.
            raise ValueError(
                f"{kind}: argument(s) not recognized or not supported by minicnn: {sorted(kwargs)}"
            )
        for key, (low, high) in self.hyper.items():
            setattr(self, key, check_real(own[key], kind, key, low, high))
        for key in self.flags:
            setattr(self, key, check_bool(own[key], kind, key))
        self.learning_rate = learning_rate
        for key, value in common.items():
            setattr(self, key, value)
        self._decay_excluded: list[str] = []
        # Named last, so a refused argument does not use up an automatic name.
        self.name = unique_name(to_snake_case(kind)) if name is None else check_name(name, kind)
        self.iterations = 0
        self.slot_arrays: list[np.ndarray] = []
        self.built = False
        self._shapes: list[tuple] = []

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's ``optimizer.variables``: the iteration count (int64) and the learning rate
        (float32), then the slot arrays in Keras's order (copies)."""
        order = self.keras_order(len(self._shapes)) if self.slot_arrays else []
        rate = [np.array(self.learning_rate, dtype=f32)] if self.rate_is_variable else []
        return [
            np.array(self.iterations, dtype=np.int64),
            *rate,
            *(self.slot_arrays[i].copy() for i in order),
        ]

    def set_weights(self, weights: Sequence) -> None:
        """Set ``variables`` (Keras's ``optimizer.set_weights``): the iteration count, the
        learning rate and the slots, as ``variables`` lists them; checked whole first."""
        kind = type(self).__name__
        if not self.built:
            raise ValueError(
                f"You are calling `set_weights()` on an optimizer that has not yet been "
                f"built ({kind} '{self.name}'). Please call `optimizer.build(trainable_"
                "variables)` to create the optimizer weights before calling `set_weights()`."
            )
        current = self.variables
        weights = [np.asarray(w) for w in weights]
        if [w.shape for w in weights] != [v.shape for v in current]:
            raise ValueError(
                f"{kind}.set_weights: expected {len(current)} arrays of shapes "
                f"{[v.shape for v in current]} (iteration, learning rate, slots); received "
                f"shapes {[w.shape for w in weights]}."
            )
        order = self.keras_order(len(self._shapes))
        head = 2 if self.rate_is_variable else 1
        slots = list(self.slot_arrays)
        for i, w in zip(order, weights[head:]):
            slots[i] = w.astype(f32)
        if self.rate_is_variable:
            self.learning_rate = float(weights[1])
        self.iterations = int(weights[0])
        self.slot_arrays = slots

    @property
    def learning_rate(self) -> float:
        """The learning rate, held as float32 as Keras's variable holds it (so
        ``Adam(0.001).learning_rate`` reads 0.0010000000474974513, as in Keras); a callable
        given as the rate (Keras takes one, of no arguments) is called at every step."""
        if callable(self._learning_rate):
            rate = self._learning_rate()
            return float(np.float32(check_real(rate, type(self).__name__, "learning_rate()", 0.0)))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if callable(value) and not isinstance(value, type):
            self._learning_rate = value
            return
        value = check_real(value, type(self).__name__, "learning_rate", 0.0)
        self._learning_rate = float(np.float32(value))

    @property
    def rate_is_variable(self) -> bool:
        """Whether the rate is a number, one of Keras's variables (a callable is not)."""
        return not callable(self._learning_rate)

    # ---- building and state
    def active_slots(self) -> tuple[str, ...]:
        """The slot kinds this configuration keeps (e.g. no momentum slot at momentum 0)."""
        return self.slots

    #: Keras's order of the slot variables: groups of slot kinds, each group weight by
    #: weight with its kinds side by side (``add_optimizer_variables(vars, [kinds])``).
    keras_layout: tuple[tuple[str, ...], ...] = ()

    def keras_order(self, n_weights: int) -> list[int]:
        """For ``n_weights`` trainable weights, the positions in ``slot_arrays`` of Keras's
        slot variables, in Keras's order."""
        active = self.active_slots()
        order = []
        for group in self.keras_layout:
            kinds = [active.index(kind) for kind in group if kind in active]
            order.extend(k * n_weights + i for i in range(n_weights) for k in kinds)
        return order

    def initial_variables(self, weights: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Zero slots for ``weights`` (the trainable weights, in order), slot by slot."""
        return [np.zeros(np.shape(w), dtype=f32) for _ in self.active_slots() for w in weights]

    def build(self, weights: Sequence[np.ndarray]) -> None:
        """Create zero slots shaped like ``weights`` (the trainable weights, in order)."""
        self._shapes = [tuple(np.shape(w)) for w in weights]
        self.slot_arrays = self.initial_variables(weights)
        self.built = True

    def assign(
        self,
        variables: Sequence[np.ndarray],
        iterations: int,
        weights: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Store a state that ``update`` produced (``variables`` in ``self.slot_arrays``
        order; ``iterations`` completed steps), building the optimizer for ``weights`` (the
        trainable weights) first if it is not built yet.

        No copies are made: this is how a training step commits. The count and shapes are
        checked, so a mismatched state cannot be stored.
        """
        if not self.built:
            if weights is None:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}'.assign: the optimizer is not built; "
                    "pass the `weights` the state belongs to."
                )
            self.build(weights)
        if [np.shape(v) for v in variables] != [np.shape(v) for v in self.slot_arrays]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}'.assign: variables of shapes "
                f"{[np.shape(v) for v in variables]} do not match this optimizer's "
                f"{[v.shape for v in self.slot_arrays]}."
            )
        self.slot_arrays = list(variables)
        self.iterations = int(iterations)

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
        return {"iterations": self.iterations, "variables": [v.copy() for v in self.slot_arrays]}

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
        self.slot_arrays = arrays

    # ---- config
    def get_config(self) -> dict:
        """Constructor arguments (Keras's names); ``type(opt).from_config`` rebuilds it."""
        if not self.rate_is_variable:
            raise TypeError(
                f"{type(self).__name__} '{self.name}': a callable learning rate cannot be "
                "written to a config (a file never holds code); set a number before saving."
            )
        own = {key: getattr(self, key) for key in (*self.hyper, *self.flags)}
        common = {key: getattr(self, key) for key in COMMON}
        return {"name": self.name, "learning_rate": self.learning_rate, **common, **own}

    # ---- weight decay and clipping
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Leave weights out of ``weight_decay``: those whose name (``"layer/weight"``,
        e.g. ``"dense/bias"``) contains a match of one of the regular expressions
        ``var_names``, as Keras matches variable paths. Configure before the first step.

        ``var_list`` (Keras's variables themselves) has no counterpart: minicnn's weights
        are arrays that each training step replaces, so they are named instead.
        """
        kind = type(self).__name__
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is "
                "built."
            )
        if var_list is not None:
            raise TypeError(
                f"{kind}.exclude_from_weight_decay: minicnn's weights are arrays replaced at "
                "each step, so they cannot be listed; name them with var_names=[...] (matched "
                "against 'layer/weight' names such as 'dense/bias')."
            )
        names = [] if var_names is None else list(var_names)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(
                    f"{kind}.exclude_from_weight_decay: `var_names` must be strings; received "
                    f"{name!r}."
                )
            re.compile(name)
        self._decay_excluded = names

    def _clip_gradients(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The gradients clipped as Keras's ``_clip_gradients``: by ``clipnorm`` each, by
        ``global_clipnorm`` together, then by ``clipvalue`` elementwise."""
        grads = [np.asarray(g, dtype=f32) for g in grads]
        if self.clipnorm is not None and self.clipnorm > 0:
            grads = [_clip_by_norm(g, f32(self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            norm = np.sqrt(sum(np.sum(np.square(g), dtype=f32) for g in grads), dtype=f32)
            scale = f32(self.global_clipnorm) / np.maximum(norm, f32(self.global_clipnorm))
            grads = [g * scale for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            v = f32(self.clipvalue)
            grads = [np.clip(g, -v, v) for g in grads]
        return grads

    def _decays(self, name: str | None) -> bool:
        return bool(self.weight_decay) and not (
            name is not None and any(re.search(p, name) for p in self._decay_excluded)
        )

    # ---- updating
    def update(
        self,
        grads: Sequence[np.ndarray],
        weights: Sequence[np.ndarray],
        variables: Sequence[np.ndarray] | None = None,
        iterations: int | None = None,
        names: Sequence[str] | None = None,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One step, without side effects: ``(new_weights, new_variables)``.

        ``variables``/``iterations`` default to the optimizer's own (zeros when unbuilt;
        nothing is built here). ``names`` (the weights' ``"layer/weight"`` names) decide
        ``exclude_from_weight_decay``; without them every weight decays.
        """
        if len(grads) != len(weights):
            raise ValueError(
                f"{type(self).__name__}: received {len(grads)} gradients for "
                f"{len(weights)} weights."
            )
        self.check_weights(weights)
        if variables is None:
            variables = self.slot_arrays if self.built else self.initial_variables(weights)
        iterations = self.iterations if iterations is None else iterations
        n = len(weights)
        slots = [list(variables[i * n : (i + 1) * n]) for i in range(len(self.active_slots()))]
        lr = f32(self.learning_rate)
        grads = self._clip_gradients(grads)
        new_weights = []
        for i, (g, w) in enumerate(zip(grads, weights)):
            w = np.asarray(w, dtype=f32)
            if self._decays(None if names is None else names[i]):
                # Keras's _apply_weight_decay, before the step: w - w * wd * lr.
                w = w - w * f32(self.weight_decay) * lr
            state = [slot[i] for slot in slots]
            w, state = self._update(g, w, state, lr, iterations)
            new_weights.append(w)
            for slot, value in zip(slots, state):
                slot[i] = value
        return new_weights, [v for slot in slots for v in slot]

    def apply(
        self,
        grads: Sequence[np.ndarray],
        weights: Sequence[np.ndarray],
        names: Sequence[str] | None = None,
    ) -> list:
        """Update the state, count the step, and return the new weights (builds the
        optimizer on first use, as Keras's ``apply`` does)."""
        new_weights, variables = self.update(grads, weights, names=names)
        self.assign(variables, self.iterations + 1, weights)
        return new_weights

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's ``apply_gradients``: one step for ``(gradient, weight)`` pairs, the
        weights (float32 numpy arrays) updated in place; returns ``iterations``."""
        pairs = list(grads_and_vars)
        kind = type(self).__name__
        # As Keras: a variable without a gradient is left alone, with a warning.
        given = [(g, w) for g, w in pairs if g is not None]
        if not given:
            raise ValueError(f"{kind}.apply_gradients: No gradients provided for any variable.")
        if len(given) < len(pairs):
            warnings.warn(
                f"{kind}.apply_gradients: Gradients do not exist for "
                f"{len(pairs) - len(given)} of {len(pairs)} variables; those are left as "
                "they are.",
                stacklevel=2,
            )
        pairs = given
        for _, w in pairs:
            if not (isinstance(w, np.ndarray) and w.dtype == f32 and w.flags.writeable):
                raise TypeError(
                    f"{kind}.apply_gradients: each variable must be a writable float32 numpy "
                    f"array (updated in place); received {type(w).__name__}"
                    + (f" of dtype {w.dtype}" if isinstance(w, np.ndarray) else "")
                    + ". Use `apply(grads, weights)` to get new arrays instead."
                )
        grads, weights = [g for g, _ in pairs], [w for _, w in pairs]
        for w, new in zip(weights, self.apply(grads, weights)):
            w[...] = new
        return self.iterations

    def _update(self, g, w, state, lr, iterations):
        """``(new_w, new_state)`` for one weight; ``state`` lists its slot arrays."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and Nesterov momentum
    (Keras 3's ``SGD``): ``v = momentum * v - lr * g; w = w + v`` (Nesterov: ``w = w +
    momentum * v - lr * g``).

    Its ``update(grads, weights)`` is pure (it returns new weights and variables; ``fit``
    commits them); the update rule is Keras 3's, in float32.

    Parameters
    ----------
    learning_rate : float >= 0 (or a callable of no arguments giving it)
        The step size (held as float32, as Keras's variable).
    momentum : float in [0, 1], default 0
        The fraction of the previous step kept.
    nesterov : bool, default False
        Use Nesterov momentum.
    name : None or str
        The optimizer's name (automatic by default: ``"sgd"``, ``"sgd_1"``, ...).
    **kwargs : Keras's other optimizer options (``weight_decay``, ``clipnorm``,
        ``use_ema``...) are accepted at their defaults only, and refused otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1)
    >>> new, state = opt.update([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])  # grads, weights
    >>> np.round(new[0].astype(float), 4).tolist()
    [0.4, 0.7]
    """

    hyper = {"momentum": (0.0, 1.0)}
    flags = ("nesterov",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate, name, momentum=momentum, nesterov=nesterov, **kwargs)

    keras_layout = (("momentum",),)

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


class Adam(Optimizer):
    """Adam (Keras 3's ``Adam``): running means of the gradient and of its square, with
    bias correction.

    Its ``update(grads, weights)`` is pure (it returns new weights and variables; ``fit``
    commits them); the update rule is Keras 3's, in float32.

    Parameters
    ----------
    learning_rate : float >= 0 (or a callable of no arguments giving it)
        The step size (held as float32, as Keras's variable).
    beta_1, beta_2 : floats in [0, 1), default 0.9 and 0.999
        Decay rates of the two running means.
    epsilon : float, default 1e-7
        Added to the denominator.
    amsgrad : bool, default False
        Use the maximum of past second moments (AMSGrad).
    name : None or str
        The optimizer's name (automatic by default: ``"sgd"``, ``"sgd_1"``, ...).
    **kwargs : Keras's other optimizer options (``weight_decay``, ``clipnorm``,
        ``use_ema``...) are accepted at their defaults only, and refused otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> opt = Adam(learning_rate=0.1)
    >>> new, state = opt.update([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])  # grads, weights
    >>> np.round(new[0].astype(float), 4).tolist()
    [0.4, 0.6]
    """

    hyper = {"beta_1": (0.0, 1.0), "beta_2": (0.0, 1.0), "epsilon": (0.0, None)}
    flags = ("amsgrad",)

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate,
            name,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            **kwargs,
        )

    keras_layout = (("momentum", "velocity"), ("velocity_hat",))

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


class RMSprop(Optimizer):
    """RMSprop (Keras 3's ``RMSprop``): divides the gradient by a running root mean
    square of recent gradients.

    Its ``update(grads, weights)`` is pure (it returns new weights and variables; ``fit``
    commits them); the update rule is Keras 3's, in float32.

    Parameters
    ----------
    learning_rate : float >= 0 (or a callable of no arguments giving it)
        The step size (held as float32, as Keras's variable).
    rho : float in [0, 1), default 0.9
        Decay rate of the running mean of squares.
    momentum : float in [0, 1], default 0
        Momentum of the steps.
    epsilon : float, default 1e-7
        Added to the denominator.
    centered : bool, default False
        Subtract the running mean of the gradient (the centred variant).
    name : None or str
        The optimizer's name (automatic by default: ``"sgd"``, ``"sgd_1"``, ...).
    **kwargs : Keras's other optimizer options (``weight_decay``, ``clipnorm``,
        ``use_ema``...) are accepted at their defaults only, and refused otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> opt = RMSprop(learning_rate=0.1)
    >>> new, state = opt.update([np.array([1.0, -2.0])], [np.array([0.5, 0.5])])  # grads, weights
    >>> np.round(new[0].astype(float), 4).tolist()
    [0.1838, 0.8162]
    """

    hyper = {"rho": (0.0, 1.0), "momentum": (0.0, 1.0), "epsilon": (0.0, None)}
    flags = ("centered",)

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate,
            name,
            rho=rho,
            momentum=momentum,
            epsilon=epsilon,
            centered=centered,
            **kwargs,
        )

    keras_layout = (("velocity",), ("momentum",), ("average_gradient",))

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


REGISTRY = Registry("optimizers", "optimizer", ignore_case=True)
for _cls in (SGD, Adam, RMSprop):
    REGISTRY.register(_cls)


def get(identifier) -> Optimizer | None:
    """An optimizer from a name (case-insensitive, as Keras: ``"sgd"``, ``"Adam"``,
    ``"rmsprop"``; default arguments), a ``{"class_name", "config"}`` dict, or an instance;
    None for None, as Keras.

    Parameters
    ----------
    identifier : name, dict, Optimizer or None

    Returns
    -------
    The Optimizer (or None); a ValueError listing the names for an unknown one.

    Examples
    --------
    >>> type(get("adam")).__name__
    'Adam'
    >>> get(None) is None
    True
    """
    if identifier is None:
        return None
    return REGISTRY.get(identifier, base=Optimizer, expected="an Optimizer instance or ")


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` of an optimizer (its configuration only; see
    ``get_state`` for its variables).

    Parameters
    ----------
    optimizer : Optimizer

    Returns
    -------
    The dict.

    Examples
    --------
    >>> serialize(SGD(0.5, name="s"))["config"]["learning_rate"]
    0.5
    """
    return REGISTRY.serialize(optimizer)


def deserialize(config) -> Optimizer:
    """A new optimizer from ``serialize``'s dict; only minicnn's classes are known
    (matched case-insensitively, as Keras does).

    Parameters
    ----------
    config : dict

    Returns
    -------
    The Optimizer.

    Examples
    --------
    >>> deserialize({"class_name": "SGD", "config": {"learning_rate": 0.5}}).learning_rate
    0.5
    """
    return REGISTRY.deserialize(config)


__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize", "deserialize"]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
