"""viz.explorer: the page's embedded data against feature_maps, explain and
receptive_field, read back from the HTML file; then the page itself in a real headless
Chromium (tests/browser.py): its own arithmetic for every cell, the fragment, a click, the
keys, paging, and screenshots at desktop and phone widths."""

import base64
import io
import json
import re

import numpy as np
import pytest
from browser import Browser, find_chromium

from minicnn import layers as L
from minicnn import viz
from minicnn.models import Model, Sequential
from minicnn.validation import format_number


def read_page(path) -> dict:
    """The JSON the page embeds, with every encoded array decoded (written here, from the
    format the module docstring gives: little-endian bytes, base64)."""
    text = open(path, encoding="utf-8").read()
    found = re.search(
        r'<script type="application/json" id="minicnn-data">(.*?)</script>', text, re.S
    )
    data = json.loads(found.group(1))

    def decode(node):
        if isinstance(node, dict) and set(node) == {"dtype", "shape", "b64"}:
            dtype = {"f4": "<f4", "f8": "<f8", "i4": "<i4"}[node["dtype"]]
            raw = base64.b64decode(node["b64"])
            return np.frombuffer(raw, dtype=dtype).reshape(node["shape"])
        if isinstance(node, dict):
            return {k: decode(v) for k, v in node.items()}
        if isinstance(node, list):
            return [decode(v) for v in node]
        return node

    return decode(data)


def line_detectors():
    """The tutorial's vertical and horizontal line detectors on an 8x8 image of a cross."""
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, :, 2] = 1
    image[0, 5, :] = 1
    model = Sequential([L.Input((8, 8, 1)), L.Conv2D(2, (3, 3))], name="line_detectors")
    vertical = [[0, 1, 0], [0, 1, 0], [0, 1, 0]]
    kernel = np.stack([vertical, np.transpose(vertical)], -1)[:, :, None, :]
    model.set_weights([kernel.astype(np.float32), np.zeros(2, np.float32)])
    return model, image


def line_classifier():
    model = Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(6, (3, 3), activation="relu"),
            L.GlobalMaxPooling2D(),
            L.Dense(3, activation="softmax"),
        ],
        name="line_classifier",
    )
    return model, np.random.default_rng(1).random((3, 8, 8, 1), dtype=np.float32)


def geometry_model():
    """Padding, strides, dilation, groups, every pooling, and the text-explained layers."""
    model = Sequential(
        [
            L.Input((9, 7, 2)),
            L.ZeroPadding2D(((1, 0), (0, 2))),
            L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", groups=2, activation="tanh"),
            L.BatchNormalization(),
            L.MaxPooling2D((2, 3), strides=(1, 2), padding="same"),
            L.Conv2D(3, 2, dilation_rate=2, use_bias=False),
            L.AveragePooling2D(2, padding="same"),
            L.ReLU(),
            L.UpSampling2D(2),
            L.Flatten(),
            L.Dense(4),
        ],
        name="geometry",
    )
    bn = model.layers[2]
    bn.set_weights([w + np.arange(w.size, dtype=np.float32) * 0.1 for w in bn.get_weights()])
    return model, np.random.default_rng(2).normal(size=(2, 9, 7, 2)).astype(np.float32)


def sequence_model():
    model = Sequential(
        [
            L.Input((12, 3)),
            L.Conv1D(5, 3, padding="causal", dilation_rate=2, activation="relu"),
            L.MaxPooling1D(2),
            L.Dense(2),
            L.GlobalAveragePooling1D(),
        ],
        name="sequence",
    )
    return model, np.random.default_rng(3).normal(size=(1, 12, 3)).astype(np.float32)


def branching_model():
    """Two inputs, a shared conv and an Add: fields on several inputs and earlier maps."""
    a, b = L.Input((6, 6, 1), name="left"), L.Input((6, 6, 1), name="right")
    conv = L.Conv2D(2, 3, padding="same", name="shared")
    joined = L.Add(name="join")([conv(a), conv(b)])
    out = L.Conv2DTranspose(1, 2, strides=2, name="up")(L.MaxPooling2D(name="pool")(joined))
    model = Model([a, b], out, name="branching")
    rng = np.random.default_rng(4)
    return model, [rng.normal(size=(1, 6, 6, 1)).astype(np.float32) for _ in range(2)]


def nested_and_3d_model():
    """A Sequential nested in a functional model, and a 3D map with depth slices."""
    inner = Sequential([L.Input((4, 5, 6, 2)), L.Conv3D(2, 2, activation="relu")], name="inner")
    a = L.Input((4, 5, 6, 2), name="volume")
    strided = L.Conv3D(1, (1, 2, 2), strides=2, padding="same")(inner(a))
    out = L.Dense(3)(L.Flatten()(strided))
    model = Model(a, out, name="nested")
    return model, np.random.default_rng(5).normal(size=(1, 4, 5, 6, 2)).astype(np.float32)


MODELS = [
    line_detectors,
    line_classifier,
    geometry_model,
    sequence_model,
    branching_model,
    nested_and_3d_model,
]


@pytest.fixture(params=MODELS, ids=lambda f: f.__name__)
def page(request, tmp_path):
    model, x = request.param()
    sample = len(x[0] if isinstance(x, list) else x) - 1
    path = viz.explorer(model, x, tmp_path / "page.html", sample=sample)
    return model, x, sample, path, read_page(path)


def shared(m) -> bool:
    """A map of a layer called more than once: explain and receptive_field ask about a
    layer with one call, so these maps are checked by other means."""
    return "(call " in m["name"]


def one(x, sample):
    return [a[sample : sample + 1] for a in x] if isinstance(x, list) else x[sample : sample + 1]


# --------------------------------------------------------------------------- embedded data


def test_maps_equal_feature_maps_bit_for_bit(page):
    model, x, sample, _, data = page
    maps = {m["name"]: m for m in data["maps"]}
    expected = model.feature_maps(one(x, sample))
    inputs = x if isinstance(x, list) else [x]
    names = [m["name"] for m in data["maps"] if m["node"] is None]
    assert len(names) == len(inputs)
    for name, a in zip(names, inputs):
        np.testing.assert_array_equal(maps[name]["data"], a[sample])
    for layer, y in expected.items():
        found = [m for m in data["maps"] if m.get("layer") == layer]
        # The shared conv is called twice; feature_maps keeps its last call.
        assert found[-1]["data"].dtype == np.float32
        np.testing.assert_array_equal(found[-1]["data"], y[0])
        assert found[-1]["lo"] == float(y[0].min()) and found[-1]["hi"] == float(y[0].max())
    if data["model"] == "branching":  # each call of the shared conv has its own map
        conv = model.get_layer("shared")
        for call, a in zip(("shared (call 1)", "shared (call 2)"), x):
            np.testing.assert_array_equal(
                maps[call]["data"], np.asarray(conv(a[sample : sample + 1]))[0]
            )


def test_text_explanations_equal_explain(page):
    model, x, sample, _, data = page
    checked = 0
    for m in data["maps"]:
        texts = (m.get("explain") or {}).get("texts")
        if texts is None:
            continue
        cells = list(np.ndindex(*m["shape"]))
        assert len(texts) == len(cells)
        for cell, text in zip(cells, texts):
            assert text == str(model.explain(x, m["layer"], (sample, *cell)))
            checked += 1
    kinds = {m["kind"] for m in data["maps"] if "texts" in (m.get("explain") or {})}
    expected_kinds = {
        "geometry_model": {
            "ZeroPadding2D",
            "BatchNormalization",
            "ReLU",
            "UpSampling2D",
            "Flatten",
        },
        "branching_model": {"Add", "Conv2DTranspose"},
    }
    assert checked or not kinds
    for name, want in expected_kinds.items():
        if data["model"] == name.split("_")[0]:
            assert want <= kinds


def test_input_fields_equal_receptive_field(page):
    model, _, _, _, data = page
    inputs = [m for m in data["maps"] if m["node"] is None]
    for m in data["maps"]:
        if m["node"] is None or "sources" not in m["fields"] or shared(m):
            continue
        positions = list(np.ndindex(*m["shape"][:-1]))
        for p, position in enumerate(positions):
            field = model.receptive_field(m["layer"], position)
            fields = field if isinstance(field, list) else [field]
            for inp, want in zip(inputs, fields):
                got = m["fields"]["sources"].get(str(inp["value"]))
                if want is None:
                    assert got is None
                    continue
                assert [tuple(b) for b in got[p]] == [(s.start, s.stop) for s in want]


def test_earlier_map_fields_equal_a_sub_models_receptive_field():
    """The field of a cell on an earlier map is the receptive field of the layers between
    the two, rebuilt as a model of its own on that map's shape."""
    model, x = geometry_model()
    data = page_of(model, x)
    maps = data["maps"]
    for j, m in enumerate(maps[1:], start=1):
        for i in range(1, j):  # each earlier layer output
            earlier = maps[i]
            chain = Sequential(
                [L.Input(tuple(earlier["shape"]))]
                + [type(layer).from_config(layer.get_config()) for layer in model.layers[i:j]]
            )
            for p, position in enumerate(np.ndindex(*m["shape"][:-1])):
                want = chain.receptive_field(-1, position)
                got = m["fields"]["sources"][str(earlier["value"])][p]
                assert [tuple(b) for b in got] == [(s.start, s.stop) for s in want]


def page_of(model, x, **options):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return read_page(viz.explorer(model, x, f"{folder}/p.html", **options))


def test_page_is_self_contained_and_carries_the_summary(tmp_path):
    model, x = line_classifier()
    path = viz.explorer(model, x, tmp_path / "p.html", title="Lines <&> filters")
    text = open(path, encoding="utf-8").read()
    assert "<title>Lines &lt;&amp;&gt; filters · minicnn explorer</title>" in text
    # No address the page would fetch: everything is inline.
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text and "@import" not in text
    lines = []
    model.summary(print_fn=lines.append)
    assert read_page(path)["summary"] == "\n".join(lines)
    assert read_page(path)["outputs"] == [len(model.layers) + 0]


def test_filters_are_the_kernels(page):
    model, _, _, _, data = page
    for layer in model.layers:
        if isinstance(layer, (L.Conv2D, L.Conv1D, L.Conv2DTranspose)):
            f = data["filters"][layer.name]
            np.testing.assert_array_equal(f["kernel"], layer.get_weights()[0])
    assert not set(data["filters"]) - {
        layer.name for layer in model.layers if "Conv" in type(layer).__name__
    }


def test_bad_arguments_raise_before_writing(tmp_path):
    model, x = line_classifier()
    target = tmp_path / "p.html"
    with pytest.raises(ValueError, match=r"explorer: `sample` must be an index into x \(0..2\)"):
        viz.explorer(model, x, target, sample=3)
    with pytest.raises(TypeError, match="explorer: `path` must be a str or path-like"):
        viz.explorer(model, x, 3)
    with pytest.raises(TypeError, match="explorer: `title` must be a str or None"):
        viz.explorer(model, x, target, title=5)
    with pytest.raises(ValueError, match="page_size"):
        viz.explorer(model, x, target, page_size=0)
    with pytest.raises(ValueError, match=r"explorer: `x` of shape \(1, 8, 8, 2\) does not fit"):
        viz.explorer(model, np.zeros((1, 8, 8, 2)), target)
    assert not target.exists()


def test_a_nested_model_of_several_outputs_has_a_map_per_output():
    i = L.Input((5, 5, 1))
    c = L.Conv2D(2, 2)(i)
    pair = Model(i, [c, L.MaxPooling2D()(c)], name="pair")
    o = L.Input((5, 5, 1), name="o")
    first, second = pair(o)
    model = Model(o, [L.Flatten()(first), second])
    x = np.random.default_rng(6).normal(size=(1, 5, 5, 1)).astype(np.float32)
    data = page_of(model, x)
    maps = {m["name"]: m for m in data["maps"]}
    expected = model.feature_maps(x)["pair"]
    for t in (0, 1):
        np.testing.assert_array_equal(maps[f"pair[{t}]"]["data"], expected[t][0])
        assert "is a model of 2 outputs" in maps[f"pair[{t}]"]["explain"]["unavailable"]
    assert data["outputs"] == [maps["flatten"]["value"], maps["pair[1]"]["value"]]


def test_layers_explain_cannot_work_out_say_why(tmp_path):
    model = Sequential([L.Input((6, 6, 2)), L.SeparableConv2D(2, 3)])
    data = page_of(model, np.ones((1, 6, 6, 2), np.float32))
    assert "cannot be explained" in data["maps"][1]["explain"]["unavailable"]
    assert "sources" in data["maps"][1]["fields"]  # its receptive field is still known


# --------------------------------------------------------------------------- the browser

CHROMIUM, WHY_NOT = find_chromium()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip(WHY_NOT)
    b = Browser(CHROMIUM)
    yield b
    b.close()


ALL_CELLS = """(() => {
  const X = window.minicnnExplorer, out = [];
  for (const m of X.data.maps) {
    if (m.node === null) continue;
    const shape = m.shape, n = shape.reduce((p, v) => p * v, 1);
    for (let k = 0; k < n; k++) {
      const idx = [];
      for (let a = shape.length - 1, r = k; a >= 0; a--) {
        idx.unshift(r % shape[a]);
        r = Math.floor(r / shape[a]);
      }
      const e = X.explainCell(m.name, idx);
      e.field = X.fieldOf(m.name, idx);
      out.push(e);
    }
  }
  // JSON has no NaN: a pooling window's padded positions travel as the string "NaN".
  const keep = (k, v) => (typeof v === "number" && !Number.isFinite(v)) ? String(v) : v;
  return JSON.stringify(out, keep);
})()"""


def as_float(v):
    return float(v) if not isinstance(v, str) else float(v.lower().replace("infinity", "inf"))


def test_page_arithmetic_is_explains_for_every_cell(browser, page):
    """The page's own reading of each cell (patch, filter, products, sums, winner, field)
    equals explain() and receptive_field exactly, for every cell of every map."""
    model, x, sample, path, data = page
    browser.open(f"file://{path}")
    cells = json.loads(browser.evaluate(ALL_CELLS))
    maps = {m["name"]: m for m in data["maps"]}
    structured = 0
    for c in cells:
        m = maps[c["map"]]
        full = (sample, *c["index"])
        assert c["value"] == float(m["data"][tuple(c["index"])])
        if "unavailable" in c or shared(m):
            continue
        e = model.explain(x, m["layer"], full)
        assert c["value"] == e.value
        if "text" in c:
            assert c["text"] == str(e)
            continue
        structured += 1
        assert c["op"] == e.op
        assert c["total"] == e.total and c["pre"] == e.pre_activation
        patch = np.array([as_float(v) for v in c["patch"]])
        np.testing.assert_array_equal(patch, e.patch.ravel())
        if e.kernel is not None:
            np.testing.assert_array_equal(c["kernel"], e.kernel.ravel())
            np.testing.assert_array_equal(c["products"], e.products.ravel())
            assert c["bias"] == e.bias
        if e.padded is not None:
            assert c["padded"] == e.padded.ravel().tolist()
            assert [list(p) for p in e.positions] == c["coords"]
            assert tuple(c["channels"]) == e.channels
        if e.winner is not None:
            tap = np.unravel_index(c["winner"], c["window"])
            assert (sample, *(p[t] for p, t in zip(c["coords"], tap)), e.channels[0]) == e.winner
        if e.op in ("conv", "dense"):
            assert c["activation"] == e.activation
        field = model.receptive_field(m["layer"], c["index"][:-1])
        fields = field if isinstance(field, list) else [field]
        for inp, want in zip([v for v in data["maps"] if v["node"] is None], fields):
            if want is not None:
                assert c["field"][inp["name"]] == [[s.start, s.stop] for s in want]
    assert structured > 0


def selected(browser):
    return browser.evaluate("JSON.stringify(window.minicnnExplorer.selected())")


def set_hash(browser, fragment):
    """Type an address's fragment and wait for the page's hashchange handler to run."""
    browser.evaluate(
        "new Promise((done) => { addEventListener('hashchange', done, {once: true}); "
        f"location.hash = {json.dumps(fragment)}; }})"
    )


def aside(browser):
    return browser.evaluate("document.getElementById('cell').innerText")


def test_fragment_selects_a_cell_and_shows_its_value_and_field(browser, tmp_path):
    model, image = line_detectors()
    path = viz.explorer(model, image, tmp_path / "p.html")
    browser.open(f"file://{path}#layer=conv2d&index=4,1,0")
    assert json.loads(selected(browser)) == {"map": "conv2d", "index": [4, 1, 0]}
    e = model.explain(image, "conv2d", (0, 4, 1, 0))
    text = aside(browser)
    assert "conv2d (Conv2D) output[0, 4, 1, 0]" in text
    assert f"\n{format_number(e.value, 6)}\n" in f"\n{text}"
    assert "receptive field on input_layer: rows 4..6, cols 1..3" in text
    assert f"sum of 9 products = {format_number(e.total, 6)}" in text
    # A bad fragment says what is wrong instead of selecting something else.
    set_hash(browser, "#layer=nope&index=0")
    assert "No map named 'nope'" in aside(browser)
    set_hash(browser, "#layer=conv2d&index=9,0,0")
    assert "is not a cell of 'conv2d' (6, 6, 2)" in aside(browser)


def test_click_and_keys_select_cells(browser, tmp_path):
    model, x = line_classifier()
    path = viz.explorer(model, x, tmp_path / "p.html")
    browser.open(f"file://{path}")
    # The centre of cell (row 2, col 3) of channel 4's panel of conv2d.
    box = browser.evaluate(
        """(() => { const c = document.querySelector('canvas[data-map="conv2d"][data-channel="4"]');
        c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();
        return [r.left, r.top, r.width, r.height]; })()"""
    )
    left, top, width, height = box
    browser.click(left + (3 + 0.5) * width / 6, top + (2 + 0.5) * height / 6)
    assert json.loads(selected(browser)) == {"map": "conv2d", "index": [2, 3, 4]}
    assert browser.evaluate("location.hash") == "#layer=conv2d&index=2,3,4"
    e = model.explain(x, "conv2d", (0, 2, 3, 4))
    assert f"relu({format_number(e.pre_activation, 6)}) = {format_number(e.value, 6)}" in aside(
        browser
    )
    for key, index in [
        ("ArrowRight", [2, 4, 4]),
        ("ArrowDown", [3, 4, 4]),
        ("]", [3, 4, 5]),
        ("]", [3, 4, 5]),  # the last channel stays
        ("ArrowLeft", [3, 3, 5]),
        ("ArrowUp", [2, 3, 5]),
        ("[", [2, 3, 4]),
    ]:
        browser.press(key)
        assert json.loads(selected(browser)) == {"map": "conv2d", "index": index}, key
    browser.press("PageDown")
    assert json.loads(selected(browser))["map"] == "global_max_pooling2d"
    browser.press("PageUp")
    assert json.loads(selected(browser))["map"] == "conv2d"


def test_keys_move_the_selection_at_once(browser, tmp_path):
    # Two keys in one JavaScript task: no hashchange event can run between them, so this
    # fails if a key's move waits for that event (CI once read the old cell after a key).
    model, x = line_classifier()
    path = viz.explorer(model, x, tmp_path / "p.html")
    browser.open(f"file://{path}#layer=conv2d&index=2,3,4")
    moved = browser.evaluate(
        """(() => {
        const key = (k) => document.dispatchEvent(new KeyboardEvent('keydown', {key: k}));
        key('ArrowRight'); key('ArrowDown');
        return [window.minicnnExplorer.selected().index, location.hash]; })()"""
    )
    assert moved == [[3, 4, 4], "#layer=conv2d&index=3,4,4"]
    # Back returns to the cell before (the hash records each cell visited).
    browser.evaluate(
        "new Promise((done) => { addEventListener('hashchange', done, {once: true}); "
        "history.back(); })"
    )
    assert json.loads(selected(browser)) == {"map": "conv2d", "index": [2, 4, 4]}


def test_many_channels_are_paged(browser, tmp_path):
    model = Sequential([L.Input((5, 5, 1)), L.Conv2D(40, 3)])
    path = viz.explorer(model, np.ones((1, 5, 5, 1), np.float32), tmp_path / "p.html")
    browser.open(f"file://{path}#layer=conv2d&index=1,1,37")
    panels = browser.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-map=\"conv2d\"]'), "
        "c => c.dataset.channel)"
    )
    assert panels == [str(c) for c in range(32, 40)]  # the page holding channel 37
    assert "channels 32–39 of 40" in browser.evaluate("document.getElementById('map-1').innerText")


def non_blank(png: bytes) -> int:
    """How many distinct colours a PNG holds."""
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(png)).convert("RGB")
    return len(np.unique(np.asarray(image).reshape(-1, 3), axis=0))


@pytest.mark.parametrize("width, height, mobile", [(1280, 900, False), (390, 844, True)])
def test_screenshots_are_not_blank_and_fit_the_width(browser, tmp_path, width, height, mobile):
    model, x = line_classifier()
    path = viz.explorer(model, x, tmp_path / "p.html")
    browser.resize(width, height, mobile)
    try:
        browser.open(f"file://{path}#layer=conv2d&index=1,1,0")
        png = browser.screenshot()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert non_blank(png) > 50
        # Nothing wider than the viewport: the page reads without sideways scrolling.
        assert browser.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        browser.resize(1280, 900)
