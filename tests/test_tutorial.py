"""The tutorial's two Keras programs run on minicnn with only their imports changed and
print exactly what the tutorial shows.

The programs and their printed output are copied below verbatim from the tutorial
(``shared/seed/000_a6ddbeb4c77a3097.txt``, where the web page's line breaks were lost);
when that file is at hand, a test checks the copies against it.
"""

from __future__ import annotations

import ast
import io
import re
import runpy
import tokenize
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ROOT / "demos"
TUTORIAL_TEXT = ROOT.parent / "shared" / "seed" / "000_a6ddbeb4c77a3097.txt"

KERAS_1D = (
    "# example of calculation 1d convolutions from numpy import asarray from keras.models "
    "import Sequential from keras.layers import Conv1D # define input data data = "
    "asarray([0, 0, 0, 1, 1, 0, 0, 0]) data = data.reshape(1, 8, 1) # create model model = "
    "Sequential() model.add(Conv1D(1, 3, input_shape=(8, 1))) # define a vertical line "
    "detector weights = [asarray([[[0]],[[1]],[[0]]]), asarray([0.0])] # store the weights "
    "in the model model.set_weights(weights) # confirm they were stored "
    "print(model.get_weights()) # apply filter to input data yhat = model.predict(data) "
    "print(yhat)"
)
KERAS_2D = (
    "# example of calculation 2d convolutions from numpy import asarray from keras.models "
    "import Sequential from keras.layers import Conv2D # define input data data = "
    "[[0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0], "
    "[0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0], "
    "[0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0]] data = asarray(data) data = "
    "data.reshape(1, 8, 8, 1) # create model model = Sequential() model.add(Conv2D(1, (3,3), "
    "input_shape=(8, 8, 1))) # define a vertical line detector detector = "
    "[[[[0]],[[1]],[[0]]], [[[0]],[[1]],[[0]]], [[[0]],[[1]],[[0]]]] weights = "
    "[asarray(detector), asarray([0.0])] # store the weights in the model "
    "model.set_weights(weights) # confirm they were stored print(model.get_weights()) "
    "# apply filter to input data yhat = model.predict(data) for r in range(yhat.shape[1]): "
    "# print each column in the row print([yhat[0,r,c,0] for c in range(yhat.shape[2])])"
)
PRINTED_1D = [
    "[array([[[0.]], [[1.]], [[0.]]], dtype=float32), array([0.], dtype=float32)]",
    "[[[0.] [0.] [1.] [1.] [0.] [0.]]]",
]
PRINTED_2D = [
    "[array([[[[0.]], [[1.]], [[0.]]], [[[0.]], [[1.]], [[0.]]], [[[0.]], [[1.]], [[0.]]]], "
    "dtype=float32), array([0.], dtype=float32)]",
    " ".join(["[0.0, 0.0, 3.0, 3.0, 0.0, 0.0]"] * 6),
]
CASES = {
    "conv1d_bump.py": (KERAS_1D, PRINTED_1D),
    "conv2d_vertical_line.py": (KERAS_2D, PRINTED_2D),
}


def run_demo(name):
    """Run a demo as a script; return what it printed and its global variables."""
    out = io.StringIO()
    with redirect_stdout(out):
        variables = runpy.run_path(str(DEMOS / name), run_name="__main__")
    return out.getvalue(), variables


def collapse(text):
    """The printed text as the tutorial shows it: whitespace runs become one space, and
    numpy 2's scalar repr ``np.float32(3.0)`` is the ``3.0`` numpy 1 printed."""
    text = re.sub(r"np\.float32\(([^)]*)\)", r"\1", text)
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(CASES))
def test_demo_prints_what_the_tutorial_prints(name):
    printed, _ = run_demo(name)
    assert collapse(printed) == " ".join(CASES[name][1])


def test_conv1d_demo_feature_map_is_exactly_the_bump():
    _, variables = run_demo("conv1d_bump.py")
    yhat = variables["yhat"]
    assert yhat.dtype == np.float32
    np.testing.assert_array_equal(yhat, np.array([[[0.0], [0.0], [1.0], [1.0], [0.0], [0.0]]]))
    weights = variables["model"].get_weights()
    assert [w.dtype for w in weights] == [np.float32, np.float32]
    np.testing.assert_array_equal(weights[0], [[[0.0]], [[1.0]], [[0.0]]])


def test_conv2d_demo_feature_map_is_six_rows_of_the_line():
    printed, variables = run_demo("conv2d_vertical_line.py")
    yhat = variables["yhat"]
    assert yhat.dtype == np.float32
    assert yhat.shape == (1, 6, 6, 1)
    np.testing.assert_array_equal(yhat[0, :, :, 0], np.tile([0, 0, 3, 3, 0, 0], (6, 1)))
    rows = [line for line in printed.splitlines() if line.startswith("[np.float32")]
    assert len(rows) == 6
    assert all(collapse(row) == "[0.0, 0.0, 3.0, 3.0, 0.0, 0.0]" for row in rows)


# --------------------------------------------------------------------------- only imports


def comments(source):
    return [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]


def split_statements(line):
    """Python statements from a program whose line breaks were lost: repeatedly take the
    longest prefix (ending at a token boundary) that parses on its own."""
    ends = [
        tok.end[1]
        for tok in tokenize.generate_tokens(io.StringIO(line).readline)
        if tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
    ]
    statements, start = [], 0
    while start < len(line.rstrip()):
        for end in sorted((e for e in ends if e > start), reverse=True):
            try:
                ast.parse(line[start:end].strip())
            except SyntaxError:
                continue
            statements.append(line[start:end].strip())
            start = end
            break
        else:
            raise AssertionError(f"cannot split the program at: {line[start:]!r}")
    return statements


def program_from_tutorial(keras_line, demo_source):
    """The tutorial's program as Python source: its comments (those the demo keeps, in
    order) removed, then one statement per line."""
    code, cursor = keras_line, 0
    for comment in comments(demo_source):
        at = code.find(comment, cursor)
        assert at >= 0, f"the tutorial does not have the demo's comment {comment!r}"
        code, cursor = code[:at] + code[at + len(comment) :], at
    assert "#" not in code, "the tutorial has a comment the demo dropped"
    return "\n".join(split_statements(code))


def module_shape(source):
    """The AST as text, imports sorted (ruff orders them) and everything else in order."""
    body = ast.parse(source).body
    imports = sorted(ast.dump(n) for n in body if isinstance(n, (ast.Import, ast.ImportFrom)))
    rest = [ast.dump(n) for n in body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    return imports, rest


@pytest.mark.parametrize("name", sorted(CASES))
def test_demo_is_the_tutorial_program_with_only_imports_changed(name):
    demo = (DEMOS / name).read_text()
    keras_line = CASES[name][0]
    assert "from keras." in keras_line and "minicnn" not in keras_line
    tutorial = program_from_tutorial(keras_line.replace("from keras.", "from minicnn."), demo)
    assert module_shape(demo) == module_shape(tutorial)


def test_statement_splitter_rebuilds_a_known_program():
    assert split_statements("x = f(1) y = x.g() for i in range(2): print(i)") == [
        "x = f(1)",
        "y = x.g()",
        "for i in range(2): print(i)",
    ]


def test_a_changed_demo_would_be_caught():
    demo = (DEMOS / "conv1d_bump.py").read_text()
    changed = demo.replace("asarray([0.0])", "asarray([1.0])")
    tutorial = program_from_tutorial(KERAS_1D.replace("from keras.", "from minicnn."), demo)
    assert module_shape(changed) != module_shape(tutorial)


@pytest.mark.skipif(not TUTORIAL_TEXT.exists(), reason="the tutorial text is not in this checkout")
def test_copies_above_are_verbatim_from_the_tutorial():
    text = " ".join(TUTORIAL_TEXT.read_text().split())
    for keras_line, printed in CASES.values():
        assert keras_line in text
        for line in printed:
            assert line in text


# --------------------------------------------------------------------------- line detectors


def test_line_detectors_demo_finds_each_line_and_their_crossing():
    printed, v = run_demo("line_detectors.py")
    vertical = np.zeros((6, 6))
    vertical[:, 1] = 3
    vertical[3:, [0, 2, 3, 4, 5]] = 1  # the horizontal line (image row 5) crosses the centre column
    horizontal = np.zeros((6, 6))
    horizontal[:, :3] = 1  # the vertical line (image column 2) crosses the centre row
    horizontal[4, :] = 3
    np.testing.assert_array_equal(v["vertical_map"], vertical)
    np.testing.assert_array_equal(v["horizontal_map"], horizontal)
    np.testing.assert_array_equal(v["maps"][0], np.stack([vertical, horizontal], axis=-1))
    np.testing.assert_array_equal(
        v["rgb_map"], np.where(np.arange(6) == 1, 3.0, 0.0)[None, :] * np.ones((6, 1))
    )
    assert np.argwhere(v["crossing_map"]).tolist() == [[4, 1]]
    assert v["crossing_map"].max() == 1
    assert "Total params: 23 (92.00 B)" in printed
