"""open() and the save functions: the CLI's error messages, OSError for files, atomic writes."""
import os

import numpy as np
import pytest

from conftest import DATA, cli_error

BAD = os.path.join(DATA, "bad")


@pytest.mark.parametrize("name", ["nan_operator.safetensors", "operator_not_square.safetensors",
                                  "empty.safetensors", "truncated_data.safetensors",
                                  "operator_and_generators.safetensors", "generators_n0.safetensors",
                                  "header_len_too_big.safetensors"])
def test_bad_file_raises_the_cli_message(ess, name):
    path = os.path.join(BAD, name)
    with pytest.raises(ValueError) as e:
        f = ess.open(path)
        f.curve(0)
    assert str(e.value) == cli_error("curve", path)


def test_missing_file_is_oserror_with_the_cli_message(ess, tmp_path):
    path = str(tmp_path / "missing.safetensors")
    with pytest.raises(FileNotFoundError) as e:
        ess.open(path)
    assert str(e.value) == cli_error("info", path)


def test_layer_and_head_out_of_range(ess):
    f = ess.open(os.path.join(DATA, "softmax_attention_h2_L64.safetensors"))
    with pytest.raises(ValueError, match=r"layer 3 is outside 0..0"):
        f.curve(3)
    with pytest.raises(ValueError, match=r"head 5 is outside 0..1"):
        f.curve(0, head=5)


def test_save_is_atomic_and_checked(ess, tmp_path):
    p = tmp_path / "op.safetensors"
    T = np.tril(np.ones((4, 4)))
    ess.save_operator(p, T)
    before = p.read_bytes()
    bad = T.copy()
    bad[0, 3] = 1.0  # not causal: refused before anything is written
    with pytest.raises(ValueError, match="not causal"):
        ess.save_operator(p, bad)
    with pytest.raises(ValueError, match="NaN"):
        ess.save_operator(p, np.full((4, 4), np.nan))
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["op.safetensors"]  # no temporary left behind
    with pytest.raises(OSError):
        ess.save_operator(tmp_path / "no" / "such" / "dir.safetensors", T)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # root writes anyway
            with pytest.raises(OSError):
                ess.save_operator(ro / "x.safetensors", T)
    finally:
        ro.chmod(0o700)


def test_default_memory_budget_is_half_the_machine(ess):
    # The rule of `ess --memory-budget`'s default, computed here from the OS: half of physical
    # memory or of the cgroup v2 limit when lower, within 1..32 GiB.
    usable = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            usable = min(usable, int(limit))
    except OSError:
        pass
    expected = min(max(usable / 2 / 2**30, 1.0), 32.0)
    assert ess.default_memory_budget() == pytest.approx(expected, rel=1e-9)
    # None is that default; a budget that is not a number is refused with the parameter's name.
    f = ess.open(os.path.join(DATA, "softmax_attention_h2_L64.safetensors"), memory_budget=None)
    assert f.layers[0]["heads"] == 2
    with pytest.raises(ValueError, match="memory_budget"):
        ess.open(os.path.join(DATA, "softmax_attention_h2_L64.safetensors"), memory_budget="lots")
    with pytest.raises(ValueError, match="memory_budget"):
        ess.open(os.path.join(DATA, "softmax_attention_h2_L64.safetensors"), memory_budget=-1)
