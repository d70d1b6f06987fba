"""Keras's own unit tests as minicnn's behaviour checklist: counts per Keras test file.

``tests/keras_cases/checklist.toml`` gives every test method of the Keras test files that
cover what minicnn claims (layers, models, losses, metrics, optimizers, initializers,
callbacks, activations, summary, trainer) one status:

- ``ported <tests/file.py>::<test>``: minicnn's own test of the same cases (inputs,
  expected values, error types and key phrases) passes;
- ``difference: <reason>``: minicnn differs on purpose (README, "Differences from Keras");
- ``out of scope: <reason>``: a feature minicnn does not claim (channels_first,
  regularizers, masking, mixed precision, distribution, sparse tensors, quantization, or
  a class minicnn does not have);
- ``open``: not yet checked.

A whole file can take one status with the key ``"*"``. ``tests/test_keras_checklist.py``
checks, without Keras, that every status is well formed and every ported test exists.
This tool needs Keras's source (a keras-team/keras checkout, or an installed keras):

    python tools/keras_checklist.py --keras-src PATH/keras/src           # counts
    python tools/keras_checklist.py --keras-src PATH/keras/src --update  # add new methods

``--update`` adds methods Keras has and the checklist lacks (as ``open``, or out of scope
when their name says so) and reports entries Keras no longer has.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
CHECKLIST = ROOT / "tests" / "keras_cases" / "checklist.toml"

# The Keras test files for minicnn's modules, relative to keras/src.
FILES = [
    "activations/activations_test.py",
    *(
        f"callbacks/{n}_test.py"
        for n in (
            "backup_and_restore callback csv_logger early_stopping lambda_callback "
            "learning_rate_scheduler model_checkpoint monitor_callback orbax_checkpoint "
            "reduce_lr_on_plateau remote_monitor swap_ema_weights tensorboard terminate_on_nan"
        ).split()
    ),
    "initializers/constant_initializers_test.py",
    "initializers/initializer_test.py",
    "initializers/random_initializers_test.py",
    *(
        f"layers/activations/{n}_test.py"
        for n in "activation elu leaky_relu prelu relu softmax".split()
    ),
    *(
        f"layers/convolutional/{n}_test.py"
        for n in "conv conv_transpose depthwise_conv separable_conv".split()
    ),
    "layers/core/dense_test.py",
    "layers/core/input_layer_test.py",
    "layers/layer_test.py",
    "layers/merging/merging_test.py",
    "layers/normalization/batch_normalization_test.py",
    *(
        f"layers/pooling/{n}_test.py"
        for n in (
            "adaptive_pooling1d adaptive_pooling2d adaptive_pooling3d average_pooling "
            "global_average_pooling global_max_pooling max_pooling"
        ).split()
    ),
    "layers/preprocessing/rescaling_test.py",
    "layers/regularization/dropout_test.py",
    "layers/regularization/spatial_dropout_test.py",
    *(
        f"layers/reshaping/{n}_test.py"
        for n in (
            "cropping1d cropping2d cropping3d flatten permute repeat_vector reshape "
            "up_sampling1d up_sampling2d up_sampling3d zero_padding1d zero_padding2d "
            "zero_padding3d"
        ).split()
    ),
    "losses/loss_test.py",
    "losses/losses_test.py",
    "metrics/accuracy_metrics_test.py",
    "metrics/metric_test.py",
    "metrics/regression_metrics_test.py",
    *(
        f"models/{n}_test.py"
        for n in "cloning functional model sequential variable_mapping".split()
    ),
    *(f"optimizers/{n}_test.py" for n in "adam optimizer rmsprop sgd".split()),
    *(
        f"trainers/data_adapters/{n}_test.py"
        for n in (
            "array_data_adapter data_adapter_utils generator_data_adapter grain_dataset_adapter "
            "py_dataset_adapter tf_dataset_adapter torch_data_loader_adapter"
        ).split()
    ),
    "trainers/trainer_test.py",
    "utils/summary_utils_test.py",
]

# Method names that say the case is about a feature out of scope, and why.
OUT_OF_SCOPE_NAMES = [
    (r"quantiz|int8|int4|float8|gptq|awq", "quantization is out of scope"),
    (r"lora", "LoRA (quantization-era fine-tuning) is out of scope"),
    (r"sparse(?!_categorical|max|_plus|_sigmoid)", "sparse tensors are out of scope"),
    (r"mask", "masking is out of scope"),
    (r"channels_first", "channels_first is out of scope"),
    (r"mixed|dtype_policy|autocast|loss_scale", "mixed precision is out of scope"),
    (r"distributed|shard|layout", "distribution is out of scope"),
    (r"ragged", "ragged tensors are out of scope"),
    (r"jit|jax|_tf_|tensorflow|_torch|xla", "backend-specific (minicnn has one backend)"),
    (r"remat", "rematerialization is out of scope"),
    (r"_ema\b|_ema_", "EMA of the weights is out of scope"),
]

STATUS = re.compile(
    r"^(ported \S+\.py::\w+( \S+\.py::\w+)*|difference: .+|out of scope: .+|open(: .+)?)$"
)


def problems(checklist: dict[str, dict[str, str]], root: Path = ROOT) -> list[str]:
    """What is wrong with a checklist, without Keras: unknown files, malformed statuses,
    ported tests that do not exist."""
    found = []
    defined: dict[str, set[str]] = {}
    for file, entries in checklist.items():
        if file not in FILES:
            found.append(f"{file}: not one of the Keras test files this checklist covers")
        for method, status in entries.items():
            if not STATUS.match(status):
                found.append(f"{file} {method}: malformed status {status!r}")
                continue
            if not status.startswith("ported "):
                continue
            for test in status.split()[1:]:
                path, name = test.split("::")
                if path not in defined:
                    source = root / path
                    defined[path] = (
                        {
                            n.name
                            for n in ast.walk(ast.parse(source.read_text()))
                            if isinstance(n, ast.FunctionDef)
                        }
                        if source.exists()
                        else set()
                    )
                if name not in defined[path]:
                    found.append(f"{file} {method}: {path} has no test {name}")
    return found


def methods(path: Path) -> list[str]:
    """``Class.method`` for every test method of a Keras test file, in file order."""
    tree = ast.parse(path.read_text())
    return [
        f"{c.name}.{m.name}"
        for c in tree.body
        if isinstance(c, ast.ClassDef)
        for m in c.body
        if isinstance(m, ast.FunctionDef) and m.name.startswith("test")
    ]


def load() -> dict[str, dict[str, str]]:
    return tomllib.loads(CHECKLIST.read_text()) if CHECKLIST.exists() else {}


def status_of(entries: dict[str, str], method: str) -> str:
    return entries.get(method) or entries.get("*") or "open"


def kind(status: str) -> str:
    return status.split(":")[0].split(" ")[0] if not status.startswith("out of") else "out"


def guess(method: str) -> str:
    # The method's own name only: a class such as SparseCategoricalAccuracyTest is not
    # about sparse tensors.
    name = method.split(".")[-1]
    for pattern, reason in OUT_OF_SCOPE_NAMES:
        if re.search(pattern, name, re.I):
            return f"out of scope: {reason}"
    return "open"


def dump(checklist: dict[str, dict[str, str]]) -> str:
    lines = [
        "# Keras's unit tests, one status per test method (tools/keras_checklist.py explains).",
        "",
    ]
    for file in FILES:
        if file not in checklist:
            continue
        lines.append(f'["{file}"]')
        for method, status in checklist[file].items():
            lines.append(f'"{method}" = {toml_string(status)}')
        lines.append("")
    return "\n".join(lines)


def toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras-src", type=Path, help="the keras/src folder of Keras's source")
    parser.add_argument("--update", action="store_true", help="add methods the checklist lacks")
    args = parser.parse_args(argv)
    src = args.keras_src
    if src is None:
        try:
            import keras

            src = Path(keras.__file__).parent / "src"
        except ImportError:
            parser.error("give --keras-src (Keras is not installed)")
    checklist = load()
    totals = {"ported": 0, "difference": 0, "out": 0, "open": 0}
    print(f"{'Keras test file':58} {'methods':>7} {'ported':>6} {'diff':>5} {'out':>5} {'open':>5}")
    for file in FILES:
        path = src / file
        if not path.exists():
            print(f"{file}: not in this Keras source", file=sys.stderr)
            continue
        found = methods(path)
        entries = checklist.setdefault(file, {})
        gone = [m for m in entries if m != "*" and m not in found]
        for m in gone:
            print(f"{file}: {m} is in the checklist but not in Keras", file=sys.stderr)
        if args.update and "*" not in entries:
            for m in found:
                entries.setdefault(m, guess(m))
        counts = {k: 0 for k in totals}
        for m in found:
            counts[kind(status_of(entries, m))] += 1
        for k in totals:
            totals[k] += counts[k]
        print(
            f"{file:58} {len(found):7} {counts['ported']:6} {counts['difference']:5} "
            f"{counts['out']:5} {counts['open']:5}"
        )
    print(
        f"{'total':58} {sum(totals.values()):7} {totals['ported']:6} {totals['difference']:5} "
        f"{totals['out']:5} {totals['open']:5}"
    )
    if args.update:
        CHECKLIST.write_text(dump(checklist))
    for problem in problems(checklist):
        print(problem, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
