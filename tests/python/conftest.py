"""Shared helpers of the ess_explorer tests: the `ess` binary, a plain safetensors reader and
the CLI's CSV/JSON output parsed into exact doubles (ESS_CLI and PYTHONPATH come from CTest)."""
import csv
import io
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

SOURCE = os.environ.get("ESS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SOURCE, "tests", "data")
DEMOS = os.path.join(SOURCE, "resources", "demo")
CLI = os.environ.get("ESS_CLI", os.path.join(SOURCE, "build", "app", "ess"))
REFERENCE_VECTORS = sorted(os.path.join(DATA, f) for f in os.listdir(DATA) if f.endswith(".safetensors"))
DEMO_MODELS = sorted(os.path.join(DEMOS, d) for d in os.listdir(DEMOS) if os.path.isdir(os.path.join(DEMOS, d)))

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """{name: array} of a safetensors file, read independently of the library."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=_DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out


def run_cli(*args, check=True):
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"ess {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def cli_error(*args):
    """The message `ess` prints for a failing command, without "error: "."""
    p = run_cli(*args, check=False)
    assert p.returncode != 0, p.stdout
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), p.stderr
    return line[len("error: "):]


def _num(s):
    return math.nan if s == "" else float(s)


def cli_curve_csv(*args):
    """`ess curve ARGS --format csv` as {column: list}; numbers parsed from the shortest
    round-trip text, so they are the CLI's doubles exactly."""
    text = run_cli("curve", *args, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    cols = {k: [r[k] for r in rows] for k in rows[0].keys()}
    out = {}
    for k, v in cols.items():
        if k == "head":
            out[k] = [x if x == "total" else int(x) for x in v]
        elif k in ("layer", "split"):
            out[k] = [int(x) for x in v]
        else:
            out[k] = [_num(x) for x in v]
    return out


def same_columns(ours, theirs):
    """Exact equality of two column dicts, NaN equal to NaN."""
    assert list(ours.keys()) == list(theirs.keys())
    for k in theirs:
        a, b = ours[k], theirs[k]
        assert len(a) == len(b), k
        for i, (x, y) in enumerate(zip(a, b)):
            if isinstance(y, float) and math.isnan(y):
                assert isinstance(x, float) and math.isnan(x), (k, i, x, y)
            else:
                assert x == y, (k, i, x, y)


@pytest.fixture(scope="session")
def ess():
    import ess_explorer
    return ess_explorer
