"""The Keras-tests checklist (tests/keras_cases/checklist.toml) is well formed and every
test it says ports a Keras case exists; counting against Keras's own source is
tools/keras_checklist.py's job (it needs Keras)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("keras_checklist", ROOT / "tools/keras_checklist.py")
checklist_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checklist_tool)


def test_the_checklist_is_well_formed_and_its_ported_tests_exist():
    checklist = tomllib.loads((ROOT / "tests/keras_cases/checklist.toml").read_text())
    assert set(checklist) == set(checklist_tool.FILES)
    assert checklist_tool.problems(checklist) == []


def test_the_check_finds_bad_entries():
    bad = {
        "layers/convolutional/conv_test.py": {
            "A.test_a": "ported tests/keras_cases/test_keras_conv.py::test_no_such_test",
            "A.test_b": "ported tests/no_such_file.py::test_conv_basic",
            "A.test_c": "done",
            "A.test_d": "out of scope",  # no reason given
        },
        "layers/core/no_such_test.py": {"A.test_e": "open"},
    }
    found = checklist_tool.problems(bad)
    assert len(found) == 5, found
    assert any("has no test test_no_such_test" in p for p in found)
    assert any("no_such_file.py has no test" in p for p in found)
    assert any("malformed status 'done'" in p for p in found)
    assert any("malformed status 'out of scope'" in p for p in found)
    assert any("not one of the Keras test files" in p for p in found)
