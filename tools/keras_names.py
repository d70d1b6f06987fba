"""Write ``minicnn/keras_names.py``: the public names of Keras 3's namespaces that minicnn
mirrors, so that a Keras name minicnn lacks is reported as such rather than as a typo.

Not part of ``make test`` (Keras is not a dependency); rerun it when the Keras version
minicnn follows changes::

    KERAS_BACKEND=torch python tools/keras_names.py
"""

from __future__ import annotations

import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

MODULES = (
    "",
    "activations",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "utils",
)
TARGET = pathlib.Path(__file__).resolve().parents[1] / "minicnn" / "keras_names.py"


def main() -> int:
    lines = [
        '"""The public names of Keras ' + keras.__version__ + "'s namespaces that minicnn "
        "mirrors (written by",
        "``tools/keras_names.py``; do not edit). ``minicnn.missing`` reads them.",
        '"""',
        "",
        "KERAS_VERSION = " + repr(keras.__version__),
        "",
        "NAMES = {",
    ]
    for module in MODULES:
        space = keras if not module else getattr(keras, module)
        names = sorted(n for n in dir(space) if not n.startswith("_"))
        lines.append(f"    {module!r}: (")
        lines.extend(f"        {n!r}," for n in names)
        lines.append("    ),")
    lines.append("}")
    TARGET.write_text("\n".join(lines) + "\n")
    print(f"wrote {TARGET} ({len(MODULES)} namespaces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
