"""What a module says about a name it does not have: a Keras name minicnn does not
implement is reported as exactly that, anything else as a missing attribute with the
closest names minicnn has.

Each public module ends with ``__getattr__ = missing.reporter(__name__, globals())``
(Python calls a module's ``__getattr__`` only for names it lacks). Under ``from
minicnn.layers import LSTM`` the error is an ImportError carrying that message (Python
would otherwise replace it with a bare "cannot import name"); on attribute access,
``minicnn.layers.LSTM``, it stays an AttributeError, so ``hasattr`` keeps working.
"""

from __future__ import annotations

import difflib
import dis
import sys

from .keras_names import KERAS_VERSION, NAMES

_IMPORT_FROM = dis.opmap.get("IMPORT_FROM")


def reporter(module: str, namespace: dict):
    """The module-level ``__getattr__`` for ``module`` (``"minicnn.layers"``)."""
    short = module.removeprefix("minicnn").lstrip(".")
    keras_names = frozenset(NAMES.get(short, ()))
    keras_path = f"keras.{short}" if short else "keras"

    def __getattr__(name: str):
        if name.startswith("__"):  # dunder look-ups (pickle, doctest...): the plain error
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        if name in keras_names:
            message = (
                f"minicnn does not implement {keras_path}.{name} (Keras {KERAS_VERSION} has "
                f"it; `{module}` has only what the README lists). Use Keras for it, or ask "
                "for it in an issue."
            )
        else:
            ours = namespace.get("__all__") or [n for n in namespace if not n.startswith("_")]
            close = difflib.get_close_matches(name, ours, n=3, cutoff=0.6)
            # Case slips (Conv2d for Conv2D) rank first.
            close = sorted(close, key=lambda n: n.lower() != name.lower())
            message = f"module {module!r} has no attribute {name!r}" + (
                f". Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
            )
        if _in_from_import():
            raise ImportError(message, name=module)
        raise AttributeError(message)

    return __getattr__


def _in_from_import() -> bool:
    """Whether the code asking for the name is running ``from module import name``:
    the instruction its frame is executing is IMPORT_FROM."""
    try:
        frame = sys._getframe(2)  # 0: here, 1: the module's __getattr__, 2: the caller
        return frame.f_code.co_code[frame.f_lasti] == _IMPORT_FROM
    except (AttributeError, IndexError, ValueError):  # not CPython, or no such frame
        return False
