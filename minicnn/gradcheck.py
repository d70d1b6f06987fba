"""A public gradient check: autograd's gradients against central finite differences.

Both sides differentiate the same scalar, ``sum(apply(weights, x) * r)`` with a fixed
random ``r`` (a plain sum would hide errors whose gradients cancel, such as softmax's),
through the model's own ``apply`` in float64, so finite-difference error stays near
``eps**2`` and float64 rounding rather than float32's.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd
import autograd.numpy as anp
import numpy as np

from .data import as_input
from .layers import Layer
from .models import Model
from .validation import check_bool, check_int, check_real, format_shape


@dataclass
class TensorCheck:
    """One tensor's result: the worst relative and absolute differences over the
    ``checked`` of its ``size`` entries, and whether the relative one is within
    tolerance."""

    name: str
    shape: tuple[int, ...]
    checked: int
    size: int
    max_rel_error: float
    max_abs_error: float
    passed: bool


@dataclass
class GradcheckReport:
    """What ``gradcheck`` found; ``passed`` only if every tensor passed."""

    tensors: list[TensorCheck]
    rtol: float
    eps: float

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    @property
    def max_rel_error(self) -> float:
        return max((t.max_rel_error for t in self.tensors), default=0.0)

    def __str__(self) -> str:
        rows = [("tensor", "shape", "checked", "max rel error", "max abs error", "")]
        for t in self.tensors:
            rows.append(
                (
                    t.name,
                    format_shape(t.shape),
                    f"{t.checked}/{t.size}",
                    f"{t.max_rel_error:.2e}",
                    f"{t.max_abs_error:.2e}",
                    "ok" if t.passed else "FAIL",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        verdict = "passed" if self.passed else "FAILED"
        lines.append(
            f"gradcheck {verdict}: largest relative error {self.max_rel_error:.2e} "
            f"(tolerance {self.rtol:g}, central differences with eps={self.eps:g}, float64)"
        )
        return "\n".join(lines)


def gradcheck(
    model_or_layer,
    x,
    eps: float = 1e-5,
    rtol: float = 1e-5,
    max_entries: int | None = 100,
    seed: int = 0,
    training: bool = False,
) -> GradcheckReport:
    """Compare autograd's gradients of every weight and of the input with central
    finite differences, in float64, through the same ``apply`` that ``predict`` and
    ``fit`` use.

    Parameters
    ----------
    model_or_layer : a ``Sequential`` or a ``Layer`` (built on ``x`` if it is not yet).
    x : an input batch, ``(batch, ...)``.
    eps : the finite-difference step; ``(f(w + eps) - f(w - eps)) / (2 eps)``.
    rtol : largest accepted relative error per entry, ``|a - n| / max(|a|, |n|, floor)``,
        where ``floor`` is 1e-3 of the tensor's largest gradient (entries near zero are
        judged against the tensor's scale, not against finite-difference noise).
    max_entries : entries checked per tensor, chosen at random (seeded) when a tensor has
        more; None checks every entry. The report states how many were checked.
    seed : seeds the output projection ``r``, the choice of entries, and (in training
        mode) the layers' randomness, the same for every evaluation.
    training : check the training-mode computation (Dropout masks, batch statistics).

    Returns
    -------
    ``GradcheckReport`` with ``passed``, ``tensors`` (one ``TensorCheck`` each) and a
    readable ``str()``.

    Examples
    --------
    >>> import numpy as np
    >>> from minicnn.layers import Conv2D
    >>> report = gradcheck(Conv2D(2, 3), np.random.default_rng(0).normal(size=(1, 5, 5, 1)))
    >>> report.passed
    True
    """
    func = "gradcheck"
    eps = check_real(eps, func, "eps", 0.0, low_open=True)
    rtol = check_real(rtol, func, "rtol", 0.0, low_open=True)
    max_entries = check_int(max_entries, func, "max_entries", minimum=1, allow_none=True)
    seed = check_int(seed, func, "seed", minimum=0)
    training = check_bool(training, func, "training")
    apply, weights, names, inputs = _target(model_or_layer, x, training, seed)
    params = [np.array(w, dtype=np.float64) for w in weights]
    params += [np.array(np.asarray(a), dtype=np.float64) for a in inputs]
    names += ["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))]
    n = len(weights)
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal(np.shape(apply(params[:n], params[n:])))

    def objective(ps):
        return (apply(ps[:n], ps[n:]) * projection).sum()

    analytic = autograd.grad(objective)(params)
    tensors = []
    for p, a, name in zip(params, analytic, names):
        entries = np.arange(p.size)
        if max_entries is not None and p.size > max_entries:
            entries = np.sort(rng.choice(p.size, max_entries, replace=False))
        numeric = np.empty(len(entries))
        flat = p.reshape(-1)  # a view: perturbing it perturbs p inside params
        for j, e in enumerate(entries):
            original = flat[e]
            flat[e] = original + eps
            up = objective(params)
            flat[e] = original - eps
            down = objective(params)
            flat[e] = original
            numeric[j] = (up - down) / (2 * eps)
        got = np.asarray(a, dtype=np.float64).reshape(-1)[entries]
        diff = np.abs(got - numeric)
        floor = max(1e-3 * float(np.max(np.abs(a), initial=0.0)), np.finfo(np.float64).tiny)
        rel = diff / np.maximum(np.maximum(np.abs(got), np.abs(numeric)), floor)
        worst = float(np.max(rel, initial=0.0))
        finite = bool(np.all(np.isfinite(got)) and np.all(np.isfinite(numeric)))
        tensors.append(
            TensorCheck(
                name,
                tuple(p.shape),
                len(entries),
                p.size,
                worst if finite else float("inf"),
                float(np.max(diff, initial=0.0)),
                finite and worst <= rtol,
            )
        )
    return GradcheckReport(tensors, float(rtol), float(eps))


def _target(model_or_layer, x, training: bool, seed: int) -> tuple:
    """``(apply(weights, inputs), weights, names, inputs)`` for a model or a layer, built
    and checked for ``x``, where ``inputs`` lists the input arrays and ``apply`` returns one
    array (several outputs flattened and joined); the randomness of training mode is fixed
    by ``seed`` for every call."""
    if isinstance(model_or_layer, Layer):
        layer = model_or_layer
        xs = as_input(x, f"'{layer.name}'")
        if not layer.shaped:
            layer.build((None, *xs.shape[1:]))
        layer.compute_output_shape(xs.shape)

        def apply(weights, inputs):
            rng = np.random.default_rng(seed) if training and layer.needs_rng else None
            return layer.stateless_call(weights, inputs[0], training=training, rng=rng)[0]

        names = [f"{layer.name}/{n}" for n in layer.weight_names]
        return apply, layer.weight_arrays(), names, [xs]
    if isinstance(model_or_layer, Model):
        model = model_or_layer
        inputs = model._input_values(model.prepare_input(x, "gradcheck"))

        def apply(weights, arrays):
            ys = model.apply(weights, model._pack_inputs(arrays), training=training, seed=seed)
            if model._output_structure.is_leaf:
                return ys
            return anp.concatenate([anp.reshape(y, (-1,)) for y in model._unpack_outputs(ys)])

        return apply, model.weight_arrays(), model.weight_names, inputs
    raise TypeError(
        "gradcheck: `model_or_layer` must be a Sequential model or a Layer. "
        f"Received: {type(model_or_layer).__name__}"
    )


__all__ = ["gradcheck", "GradcheckReport", "TensorCheck"]
