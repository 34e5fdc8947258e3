"""Checkpoints side by side and training runs from Python: compare(a, b) equals `ess curve A
--compare B` number for number (with its `checkpoint` and `step` columns) and raises the CLI's
layout-mismatch text; open_run() reads the checkpoints and steps `ess sweep` reads, and the
logged metrics."""
import csv
import io
import json
import os

import pytest

from conftest import DATA, DEMOS, cli_error, run_cli, same_columns

A = os.path.join(DATA, "gla_d4_L64.safetensors")
B = os.path.join(DATA, "lti_ssm_n4_L64.safetensors")


def cli_compare_csv(*args):
    """`ess curve ARGS` (with --compare) as {column: list}: checkpoint as text, step as an int
    (None when empty), numbers as the CLI's doubles."""
    text = run_cli("curve", *args, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    out = {k: [] for k in rows[0].keys()}
    for r in rows:
        for k, v in r.items():
            if k == "checkpoint":
                out[k].append(v)
            elif k == "step":
                out[k].append(int(v) if v else None)
            elif k == "head":
                out[k].append(v if v == "total" else int(v))
            elif k in ("layer", "split"):
                out[k].append(int(v))
            else:
                out[k].append(float("nan") if v == "" else float(v))
    return out


def test_operator_files_equal_the_cli(ess):
    c = ess.compare(A, B, layer=0, splits="1:63:2")
    assert c.names == ("gla_d4_L64.safetensors", "lti_ssm_n4_L64.safetensors")
    assert c.steps == (None, None)
    d = c.to_dict()
    assert list(d)[:2] == ["checkpoint", "step"]
    same_columns(d, cli_compare_csv(A, "--compare", B, "--splits", "1:63:2"))
    assert list(c.a.tolerance_ess[0]) != list(c.b.tolerance_ess[0])  # two different operators


def test_run_checkpoints_at_an_input_equal_the_cli(ess, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    os.symlink(os.path.join(DEMOS, "hybrid"), run / "step-10")
    os.symlink(os.path.join(DEMOS, "hybrid"), run / "step-20")
    spec = "mqar:seed=3,len=32,pairs=4"
    a, b = str(run / "step-10"), str(run / "step-20")
    for kwargs, args in [(dict(aggregate="total"), ["--aggregate", "total"]),
                         (dict(head=1, splits="1:31:5"), ["--head", "1", "--splits", "1:31:5"])]:
        c = ess.compare(a, b, layer=1, input=spec, **kwargs)
        assert c.steps == (10, 20)
        assert c.names == ("step-10", "step-20")
        same_columns(c.to_dict(), cli_compare_csv(a, "--compare", b, "--layer", "1", "--input", spec, *args))
    # Opened Files work too, and B follows A's input.
    fa = ess.open(a, input=spec)
    fb = ess.open(b)
    c = ess.compare(fa, fb, layer=0, head=0)
    assert fb.input == spec
    same_columns(c.to_dict(), cli_compare_csv(a, "--compare", b, "--layer", "0", "--head", "0", "--input", spec))


def test_layout_mismatch_is_the_cli_message(ess):
    other = os.path.join(DATA, "softmax_attention_h2_L64.safetensors")
    with pytest.raises(ValueError) as e:
        ess.compare(A, other, layer=0)
    assert str(e.value) == cli_error("curve", A, "--compare", other)
    assert str(e.value) == ("cannot compare A (gla_d4_L64.safetensors) with B (softmax_attention_h2_L64.safetensors): "
                            "layer 0 has 1 head(s) in A, 2 in B")
    short = os.path.join(DATA, "identity_L16.safetensors")
    with pytest.raises(ValueError, match=r"the input gives L = 64 in A, L = 16 in B"):
        ess.compare(A, short, layer=0)


def test_open_run_reads_what_sweep_reads(ess, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for step in (200, 100):
        os.symlink(os.path.join(DEMOS, "gla"), run / f"step-{step}")
    (run / "metrics.jsonl").write_text('{"step": 100, "loss": 2.5, "accuracy": 0.25}\n'
                                       '{"step": 200, "loss": 1.5, "accuracy": 0.75}\n')
    r = ess.open_run(run)
    assert r.kind == "ess-lm"
    assert [(c.name, c.step) for c in r] == [("step-100", 100), ("step-200", 200)]
    assert r.checkpoints[0].path == str(run / "step-100")
    assert r.metric_names == ["accuracy", "loss"]
    steps, accuracy = r.metric("accuracy")
    assert steps.tolist() == [100, 200] and accuracy.tolist() == [0.25, 0.75]
    assert r.metrics_note == ""
    sweep = run_cli("sweep", str(run), "--layer", "0", "--head", "total", "--summary", "mean",
                    "--input", "mqar:seed=1,len=16,pairs=2").stdout
    rows = list(csv.DictReader(io.StringIO(sweep)))
    assert [(row["checkpoint"], int(row["step"])) for row in rows] == [(c.name, c.step) for c in r]
    # Every checkpoint of the run is a File to compute on.
    assert ess.open(r.checkpoints[1].path).layers == ess.open(os.path.join(DEMOS, "gla")).layers

    # A list with steps; an unknown step is None; bad runs are the CLI's errors.
    listed = tmp_path / "list.txt"
    listed.write_text(f"{A} 7\n{B}\n")
    r = ess.open_run(str(listed))
    assert r.kind == "list" and [c.step for c in r] == [7, None]
    assert "logs no metrics" in r.metrics_note
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no checkpoints"):
        ess.open_run(empty)
    with pytest.raises(FileNotFoundError):
        ess.open_run(tmp_path / "missing")
    broken = tmp_path / "broken"
    (broken / "checkpoint-5").mkdir(parents=True)
    (broken / "checkpoint-5" / "trainer_state.json").write_text('{"log_history": [')
    r = ess.open_run(broken)
    assert r.metrics == [] and "trainer_state.json: not valid JSON" in r.metrics_note
    assert json.loads(json.dumps(r.metrics)) == []
