"""The math functions on arrays: structured == dense, spectra, zero-copy, bad input, no torch."""
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from conftest import DATA, cli_error, read_safetensors


def generators(rng, H=2, L=48, N=4, per_head=False):
    C = rng.standard_normal((H, L, N))
    B = rng.standard_normal((H, L, N))
    log_a = -rng.uniform(0.01, 0.3, (H, L) if per_head else (H, L, N))
    D = rng.standard_normal((H, L))
    return C, B, log_a, D


def materialize(C, B, log_a, D):
    """T from the generator-file formula of docs/definitions.md section 6, in plain NumPy."""
    H, L, N = C.shape
    la = log_a if log_a.ndim == 3 else np.repeat(log_a[:, :, None], N, axis=2)
    cum = np.cumsum(la, axis=1)
    T = np.zeros((H, L, L))
    for h in range(H):
        for r in range(L):
            for c in range(r + 1):
                T[h, r, c] = np.sum(C[h, r] * np.exp(cum[h, r] - cum[h, c]) * B[h, c])
            T[h, r, r] += D[h, r]
    return T


@pytest.mark.parametrize("per_head", [False, True])
def test_structured_equals_dense(ess, per_head):
    g = generators(np.random.default_rng(2), per_head=per_head)
    T = materialize(*g)
    s = ess.structured_curve(*g, algorithm="structured")
    d = ess.curve(T, algorithm="dense")
    np.testing.assert_array_equal(s.tolerance_ess, d.tolerance_ess)
    np.testing.assert_allclose(s.entropy_ess, d.entropy_ess, rtol=1e-9)
    assert s.tolerance_ess.shape == (2, 47) and s.split.tolist() == list(range(1, 48))
    for split in (1, 10, 47):
        np.testing.assert_allclose(ess.spectrum(g, split), ess.spectrum(T, split), rtol=1e-8, atol=1e-10)


def test_spectrum_is_the_svd_of_the_block(ess):
    T = read_safetensors(os.path.join(DATA, "softmax_attention_h2_L64.safetensors"))["operator"]
    for s in (1, 20, 63):
        ref = np.linalg.svd(T[1, s:, :s], compute_uv=False)
        np.testing.assert_allclose(ess.spectrum(T, s, head=1), ref, rtol=1e-12, atol=1e-14)
    assert ess.spectrum(T[0], 5).shape == (5,)
    assert ess.spectrum(T, 5).shape == (2, 5)


def test_shapes_of_results(ess):
    T = np.tril(np.ones((10, 10)))
    c = ess.curve(T, splits="2:8:2")
    assert c.split.tolist() == [2, 4, 6, 8] and c.tolerance_ess.tolist() == [1, 1, 1, 1]
    assert ess.curve(T[None].repeat(3, 0)).tolerance_ess.shape == (3, 9)
    assert ess.curve(T, splits=range(1, 9, 4)).split.tolist() == [1, 5]
    assert ess.curve(T, metric="entropy").tolerance_ess is None


def test_float64_numpy_is_not_copied(ess):
    T = np.tril(np.random.default_rng(3).standard_normal((512, 512)))
    ess.curve(T, splits="1:1:1")
    assert ess._core._debug_last_view_pointer() == T.ctypes.data
    # No NumPy copy of the 2 MiB operator either (NumPy reports its buffers to tracemalloc).
    tracemalloc.start()
    ess.curve(T, splits="256:256:1")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < T.nbytes // 4, peak
    # A Fortran-ordered array has to be copied: the hook sees another buffer.
    F = np.asfortranarray(T)
    ess.curve(F, splits="1:1:1")
    assert ess._core._debug_last_view_pointer() != F.ctypes.data


def test_torch_tensor_is_not_copied(ess):
    torch = pytest.importorskip("torch")
    T = torch.randn(64, 64, dtype=torch.float64).tril()
    c = ess.curve(T)
    assert ess._core._debug_last_view_pointer() == T.data_ptr()
    np.testing.assert_array_equal(c.entropy_ess, ess.curve(T.numpy().copy()).entropy_ess)
    W = torch.randn(32, 32, dtype=torch.float64, requires_grad=True)
    ess.curve(torch.tril(W))  # a tensor that requires grad is read through detach()
    g = [torch.randn(1, 32, 4, dtype=torch.float64) for _ in range(2)]
    ess.structured_curve(g[0], g[1], torch.zeros(1, 32, 4, dtype=torch.float64))
    assert ess._core._debug_last_view_pointer() != 0


def bad(ess, fn, *args, **kw):
    with pytest.raises(ValueError) as e:
        fn(*args, **kw)
    return str(e.value)


def test_bad_arrays_name_the_problem(ess):
    assert "not square" in bad(ess, ess.curve, np.zeros((3, 4)))
    assert "expected [L, L] or [H, L, L]" in bad(ess, ess.curve, np.zeros(5))
    T = np.tril(np.ones((8, 8)))
    T[5, 2] = np.nan
    assert bad(ess, ess.curve, T) == "T: operator: holds NaN at [0, 5, 2] (head, row, column)"
    T = np.tril(np.ones((2, 8, 8)))
    T[1, 2, 6] = 0.5
    assert bad(ess, ess.curve, T).startswith("T is not causal: T[1, 2, 6] = 0.5")
    assert "integer dtype" in bad(ess, ess.curve, np.eye(4, dtype=np.int64))
    assert "ESS needs L >= 2" in bad(ess, ess.curve, np.ones((1, 1)))
    C = np.ones((1, 8, 2))
    assert "must be [H, L, N] or [H, L]" in bad(ess, ess.structured_curve, C, C, np.zeros((1, 7, 2)))
    assert "must both be [H, L, N]" in bad(ess, ess.structured_curve, C, np.ones((1, 8, 3)), np.zeros((1, 8)))
    assert "holds NaN or Inf" in bad(ess, ess.structured_curve, C, C, np.full((1, 8), np.nan))


def test_bad_options_are_the_cli_messages(ess):
    T = np.tril(np.ones((8, 8)))
    path = os.path.join(DATA, "identity_L16.safetensors")
    for kw, flag in [(dict(normalization="mean"), ["--normalization", "mean"]),
                     (dict(algorithm="fast"), ["--algorithm", "fast"]),
                     (dict(dtype="float16"), ["--dtype", "float16"]),
                     (dict(splits="0:5"), ["--splits", "0:5"])]:
        message = bad(ess, ess.curve, np.tril(np.ones((16, 16))), **kw)
        assert message == cli_error("curve", path, *flag).replace("--", "", 1), (kw, message)
    assert "tolerance" in bad(ess, ess.curve, T, tolerance=-1)
    assert "metric" in bad(ess, ess.curve, T, metric="both!")


def test_math_functions_work_without_torch(ess):
    code = ("import sys; sys.modules['torch'] = None\n"
            "import numpy as np, ess_explorer as e\n"
            "c = e.curve(np.tril(np.ones((6, 6))))\n"
            "assert c.tolerance_ess.tolist() == [1] * 5\n"
            "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())
