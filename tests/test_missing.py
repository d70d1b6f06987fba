"""A Keras name minicnn lacks says so; a typo gets the closest names; neither breaks
``hasattr`` or pickling."""

from __future__ import annotations

import pickle

import pytest

import minicnn
from minicnn import keras_names


def test_a_keras_layer_minicnn_lacks_is_reported_as_such_on_import():
    with pytest.raises(ImportError, match=r"minicnn does not implement keras\.layers\.LSTM"):
        from minicnn.layers import LSTM  # noqa: F401


def test_on_attribute_access_it_is_an_attribute_error_so_hasattr_works():
    with pytest.raises(AttributeError, match=r"does not implement keras\.optimizers\.Nadam"):
        minicnn.optimizers.Nadam  # noqa: B018
    assert not hasattr(minicnn.layers, "GRU")
    assert hasattr(minicnn.layers, "Conv2D")


def test_a_typo_gets_the_closest_names_case_slips_first():
    with pytest.raises(ImportError, match=r"no attribute 'Conv2d'\. Did you mean: 'Conv2D'"):
        from minicnn.layers import Conv2d  # noqa: F401
    with pytest.raises(
        AttributeError, match=r"no attribute 'Sequentail'\. Did you mean: 'Sequential'"
    ):
        minicnn.models.Sequentail  # noqa: B018


def test_top_level_keras_modules_minicnn_lacks_are_named():
    with pytest.raises(ImportError, match=r"does not implement keras\.applications"):
        from minicnn import applications  # noqa: F401


def test_the_names_are_keras_own_and_minicnn_has_the_common_ones():
    # The list is Keras's (written by tools/keras_names.py), so it holds names minicnn
    # also has; those resolve normally.
    assert "Conv2D" in keras_names.NAMES["layers"] and "LSTM" in keras_names.NAMES["layers"]
    for module, names in keras_names.NAMES.items():
        space = getattr(minicnn, module) if module else minicnn
        for name in ("Conv2D", "Sequential", "SGD", "EarlyStopping"):
            if name in names and name in getattr(space, "__all__", ()):
                assert getattr(space, name) is not None


def test_pickling_and_dunder_lookups_are_unaffected():
    assert pickle.loads(pickle.dumps(minicnn.layers.Conv2D)) is minicnn.layers.Conv2D
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'"):
        minicnn.layers.__wrapped__  # noqa: B018


def test_a_folder_named_minicnn_beside_a_script_does_not_shadow_the_package(tmp_path):
    # A clone of this repository next to a learner's script: Python sees its folder as a
    # namespace package; the installed package must still be the one imported.
    import subprocess
    import sys

    (tmp_path / "minicnn" / "minicnn").mkdir(parents=True)
    (tmp_path / "minicnn" / "README.md").write_text("a clone")
    script = tmp_path / "script.py"
    script.write_text("import minicnn\nminicnn.set_random_seed(0)\nprint(minicnn.__file__)\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == minicnn.__file__


@pytest.mark.parametrize(
    "module",
    ["", "layers", "models", "losses", "metrics", "optimizers", "callbacks", "activations",
     "initializers", "datasets", "utils", "viz"],
)  # fmt: skip
def test_every_name_a_module_exports_exists(module):
    # `from minicnn.<module> import *` takes every name of __all__ (activations listed
    # `swish` without defining it).
    space = getattr(minicnn, module) if module else minicnn
    names = getattr(space, "__all__", [])
    assert [name for name in names if name not in vars(space)] == []
    exec(f"from minicnn{'.' + module if module else ''} import *", {})
