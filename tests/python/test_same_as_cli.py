"""Python results equal the CLI's, number for number (docs/definitions.md section 6): on every
reference vector of tests/data (as arrays and as files), on every bundled demo model, for
`--aggregate total`, and `info()` equals `ess info --format json`."""
import json
import math
import os

import numpy as np
import pytest

from conftest import DATA, DEMO_MODELS, REFERENCE_VECTORS, cli_curve_csv, read_safetensors, run_cli, same_columns


@pytest.mark.parametrize("path", REFERENCE_VECTORS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_reference_vector_as_array_equals_cli(ess, path):
    T = read_safetensors(path)["operator"]
    ours = ess.curve(T).to_dict()
    same_columns(ours, cli_curve_csv(path))


@pytest.mark.parametrize("path", REFERENCE_VECTORS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_reference_vector_matches_its_expected_values(ess, path):
    t = read_safetensors(path)
    c = ess.curve(t["operator"])
    np.testing.assert_array_equal(c.tolerance_ess, t["expected_tolerance_ess"])
    np.testing.assert_allclose(c.entropy_ess, t["expected_entropy_ess"], rtol=1e-7, atol=1e-9)
    assert c.tss is None  # unknown for a dense operator


@pytest.mark.parametrize("options", [
    dict(tolerance=1e-2, normalization="sum", splits="3:40:3", metric="tolerance"),
    dict(normalization="none", dtype="float32", metric="entropy", splits="1::7"),
    dict(algorithm="dense", tolerance=0.0),
])
def test_options_are_the_cli_options(ess, options):
    path = REFERENCE_VECTORS[1]
    args = []
    for k, v in options.items():
        args += [f"--{k}", str(v)]
    ours = ess.open(path).curve(0, **options).to_dict()
    same_columns(ours, cli_curve_csv(path, *args))
    arr = ess.curve(read_safetensors(path)["operator"], **options).to_dict()
    same_columns(arr, cli_curve_csv(path, *args))


@pytest.mark.parametrize("demo", DEMO_MODELS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_demo_model_curves_equal_cli(ess, demo):
    f = ess.open(demo)
    ours = {}
    for layer in range(len(f.layers)):
        d = f.curve(layer).to_dict()
        for k, v in d.items():
            ours.setdefault(k, []).extend(v)
    same_columns(ours, cli_curve_csv(demo))


# A few Hugging Face families (attention, SSM, RoPE): the session code is the same for all.
HF_FIXTURES = [os.path.join(DATA, "hf", d) for d in ("gpt2_torch", "mamba2_torch", "qwen3_torch")]


@pytest.mark.parametrize("folder", HF_FIXTURES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_hugging_face_fixture_curves_equal_cli(ess, folder):
    f = ess.open(folder)
    ours = {}
    for layer in range(len(f.layers)):
        for k, v in f.curve(layer).to_dict().items():
            ours.setdefault(k, []).extend(v)
    same_columns(ours, cli_curve_csv(folder))
    assert f.info() == json.loads(run_cli("info", folder, "--format", "json").stdout)


def test_demo_total_and_head_range_equal_cli(ess):
    demo = [d for d in DEMO_MODELS if d.endswith("hybrid")][0]
    f = ess.open(demo, input="mqar:seed=3,len=40,pairs=4")
    c = f.curve(1, aggregate="total")
    assert c.heads == ["total"] and c.utilization is not None and c.tss is not None
    same_columns(c.to_dict(), cli_curve_csv(demo, "--layer", "1", "--aggregate", "total",
                                            "--input", "mqar:seed=3,len=40,pairs=4"))
    one = f.curve(0, head=1)
    assert one.tolerance_ess.ndim == 1
    same_columns(one.to_dict(), cli_curve_csv(demo, "--layer", "0", "--head", "1",
                                              "--input", "mqar:seed=3,len=40,pairs=4"))


@pytest.mark.parametrize("path", [REFERENCE_VECTORS[0]] + DEMO_MODELS[:3], ids=lambda p: p.rsplit("/", 1)[-1])
def test_info_equals_cli_json(ess, path):
    assert ess.open(path).info() == json.loads(run_cli("info", path, "--format", "json").stdout)
    assert ess.open(path).info(tensors=True) == json.loads(
        run_cli("info", path, "--format", "json", "--tensors").stdout)


def test_operator_and_tokens_equal_cli(ess, tmp_path):
    demo = [d for d in DEMO_MODELS if d.endswith("hybrid")][0]
    out = str(tmp_path / "op.safetensors")
    run_cli("operator", demo, "--layer", "1", "--input", "tokens:1,5,9,2,7,3", "-o", out)
    f = ess.open(demo)
    np.testing.assert_array_equal(f.operator(1, input="tokens:1,5,9,2,7,3"), read_safetensors(out)["operator"])
    ids, labels = f.tokens()
    assert ids.tolist() == [1, 5, 9, 2, 7, 3] and labels == ["1", "5", "9", "2", "7", "3"]
    assert f.input == "tokens:1,5,9,2,7,3"


def test_model_generators_give_the_layer_curve(ess):
    demo = [d for d in DEMO_MODELS if d.endswith("/gla")][0]
    f = ess.open(demo)
    g = f.generators(0)
    assert g is not None and g["C"].ndim == 3
    a = ess.structured_curve(g["C"], g["B"], g["log_a"], g["D"])
    b = f.curve(0)
    np.testing.assert_array_equal(a.tolerance_ess, b.tolerance_ess)
    np.testing.assert_array_equal(a.entropy_ess, b.entropy_ess)
    softmax = [d for d in DEMO_MODELS if d.endswith("softmax_attention")][0]
    assert ess.open(softmax).generators(0) is None


def test_saved_files_give_the_same_curves_in_the_cli(ess, tmp_path):
    rng = np.random.default_rng(1)
    T = np.tril(rng.standard_normal((2, 24, 24)))
    p = str(tmp_path / "t.safetensors")
    ess.save_operator(p, T, metadata={"source": "test"})
    np.testing.assert_array_equal(read_safetensors(p)["operator"], T)
    same_columns(ess.curve(T).to_dict(), cli_curve_csv(p))
    C, B = rng.standard_normal((2, 2, 30, 3))
    log_a = -rng.uniform(0.0, 0.5, (2, 30, 3))
    D = rng.standard_normal((2, 30))
    g = str(tmp_path / "g.safetensors")
    ess.save_generators(g, C, B, log_a, D)
    c = ess.structured_curve(C, B, log_a, D)
    assert c.tss is not None and np.all(c.tss == 3)
    same_columns(c.to_dict(), cli_curve_csv(g))
    assert ess.open(g).info()["architecture"] == "generators"


def test_pandas_columns_are_the_csv_header(ess):
    df = ess.curve(read_safetensors(REFERENCE_VECTORS[0])["operator"]).to_pandas()
    header = run_cli("curve", REFERENCE_VECTORS[0]).stdout.splitlines()[0].split(",")
    assert list(df.columns) == header
    assert math.isnan(df["tss"][0])


@pytest.mark.parametrize("folder", [os.path.join(DATA, "hf", d) for d in ("mamba2_torch", "lfm2_torch")],
                         ids=lambda p: p.rsplit("/", 1)[-1])
def test_ssm_operator_option_equals_cli(ess, folder, tmp_path):
    """open(operator="ssm") is `--operator ssm`: the same curves and operators, other than the
    block's (README "Block and SSM-only operators")."""
    f = ess.open(folder, operator="ssm")
    assert f.operator_scope == "ssm"
    ours = {}
    for layer in range(len(f.layers)):
        for k, v in f.curve(layer).to_dict().items():
            ours.setdefault(k, []).extend(v)
    same_columns(ours, cli_curve_csv(folder, "--operator", "ssm"))
    out = str(tmp_path / "op.safetensors")
    run_cli("operator", folder, "--layer", "0", "--operator", "ssm", "-o", out)
    ssm = f.operator(0)
    np.testing.assert_array_equal(ssm, read_safetensors(out)["operator"])
    block = ess.open(folder).operator(0)
    assert np.abs(ssm - block).max() > 1e-3
    assert f.layers[0]["ssm_removes"] and f.info()["layers"][0]["ssm_removes"] == f.layers[0]["ssm_removes"]
    with pytest.raises(ValueError, match="expected block or ssm, got 'gate'"):
        ess.open(folder, operator="gate")
    with pytest.raises(ValueError, match="holds one operator per layer"):
        ess.open(REFERENCE_VECTORS[0], operator="ssm")
