"""ESS Explorer in Python: effective state-size (ESS) curves on the engines of the `ess` CLI.

The metric is from Parnichkun et al., "Quantifying Memory Utilization with Effective
State-Size" (ICML 2025, arXiv 2504.19561). A causal sequence mixer maps an input of length L
to y = T u with one lower-triangular L x L operator T per head (T[h, r, c]: weight of input c
on output r). At a split s (1 <= s <= L-1) the block H_s = T[s:, :s] carries what the past
tells the future; from its singular values sigma_1 >= sigma_2 >= ...:

- tolerance-ESS(s) = #{sigma_k > tolerance * ref}, ref = sigma_1 ("max"), sum sigma ("sum")
  or 1 ("none"); 0 for an all-zero block;
- entropy-ESS(s) = exp(-sum p_k log p_k), p = sigma / sum sigma (0 for an all-zero block);
- TSS, the theoretical state size: what the layer's recurrence or cache stores at s
  (utilization = ESS / TSS).

Functions on arrays (NumPy arrays, PyTorch CPU tensors, anything with __array__ or
__dlpack__; torch is never imported): curve(T), structured_curve(C, B, log_a, D),
spectrum(...), save_operator(...), save_generators(...). Files and models (everything `ess`
opens): open(path). Training runs and checkpoints side by side: open_run(path) (the runs
`ess sweep` reads) and compare(a, b, layer=...) (`ess curve A --compare B`). Results are Curve objects with NumPy arrays, to_dict() and to_pandas()
(the columns of `ess curve`'s CSV). Errors: ValueError (bad input or option, the CLI's
message), OSError (a file that cannot be read or written). Long calls release the GIL, take
a progress(done, total) callable and stop with KeyboardInterrupt on Ctrl+C.
"""
import json as _json
import os as _os

import numpy as _np

from . import _core

__all__ = ["Checkpoint", "Comparison", "Curve", "File", "Run", "Tokens", "compare", "curve", "structured_curve",
           "spectrum", "open", "open_run", "save_operator", "save_generators", "default_memory_budget",
           "__version__"]
__version__ = _core.version()

_ENGINE_DTYPES = (_np.float64, _np.float32, _np.float16)


def _as_array(x, name):
    """A NumPy view of `x` (no copy for a C-contiguous float64/float32/float16 array or CPU
    tensor), else a C-contiguous float64 copy. Refuses integer, complex and GPU data."""
    if not isinstance(x, _np.ndarray):
        device = getattr(x, "device", None)
        if device is not None and getattr(device, "type", "cpu") != "cpu":
            raise ValueError(f"{name} is on {device}; ess_explorer reads CPU memory (pass {name}.cpu())")
        if getattr(x, "requires_grad", False) and hasattr(x, "detach"):
            x = x.detach()  # a view of the same memory
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()  # NumPy has no bfloat16
        if hasattr(x, "__array__"):
            x = _np.asarray(x)
        elif hasattr(x, "__dlpack__"):
            x = _np.from_dlpack(x)
        else:
            x = _np.asarray(x)
    if x.dtype.kind in "biu":
        raise ValueError(f"{name} has the integer dtype {x.dtype}; expected floating-point values")
    if x.dtype.kind != "f":
        raise ValueError(f"{name} has the dtype {x.dtype}; expected real floating-point values")
    if x.dtype.type in _ENGINE_DTYPES and x.flags.c_contiguous:
        return x
    return _np.ascontiguousarray(x, dtype=_np.float64)


def _splits_spec(splits):
    if splits is None:
        return ""
    if isinstance(splits, str):
        return splits
    if isinstance(splits, range):
        if len(splits) == 0 or splits.step <= 0:
            raise ValueError(f"splits {splits} is empty or not ascending")
        return f"{splits.start}:{splits[-1]}:{splits.step}"
    if isinstance(splits, int):
        return f"{splits}:{splits}:1"
    raise ValueError(f"splits: expected None, 'A:B:STEP', a range or an int, got {splits!r}")


def _check_metric(metric):
    if metric not in ("tolerance", "entropy", "both"):
        raise ValueError(f"metric: expected tolerance, entropy or both, got '{metric}'")


def _check_progress(progress):
    if progress is not None and not callable(progress):
        raise ValueError("progress: expected a callable progress(done, total) or None")


class Curve:
    """ESS curves of the heads of one layer at the evaluated splits.

    Attributes (NumPy arrays; per head they are [H, S] when several heads were asked for and
    [S] for one operator [L, L], one head or an aggregate):
      split          int64 [S], the splits s (1 <= s <= L-1)
      tolerance_ess  tolerance-ESS (counts), None when metric="entropy"
      entropy_ess    entropy-ESS (effective rank), None when metric="tolerance"
      tss            theoretical state size in SISO units (per head; MIMO units for a total),
                     None where unknown (a dense operator)
      utilization    tolerance-ESS / TSS, for aggregate="total" only (else None)
      heads          the head indices, or ["total"]
      layer, length  the layer index (0 for arrays) and L
    """

    def __init__(self, layer, length, split, heads, tolerance_ess, entropy_ess, tss, utilization=None,
                 squeeze=False, total_members=None):
        self.layer = layer
        self.length = length
        self.split = split
        self.heads = heads
        self.members = total_members

        def shaped(a):
            if a is None:
                return None
            return a[0] if squeeze else a

        self.tolerance_ess = shaped(tolerance_ess)
        self.entropy_ess = shaped(entropy_ess)
        self.tss = None if tss is None or _np.all(_np.isnan(tss)) else shaped(tss)
        self.utilization = utilization

    def __repr__(self):
        return (f"Curve(layer={self.layer}, heads={self.heads}, L={self.length}, "
                f"splits={len(self.split)})")

    def _rows(self, a, i):
        if a is None:
            return _np.full(len(self.split), _np.nan)
        return a if a.ndim == 1 else a[i]

    def to_dict(self):
        """Columns of `ess curve`'s CSV, one row per head and split: layer, head, split,
        tolerance_ess, entropy_ess, tss (NaN where unknown or not computed), and utilization
        for a total. Values are the same doubles the CLI prints (shortest round-trip)."""
        cols = {k: [] for k in ("layer", "head", "split", "tolerance_ess", "entropy_ess", "tss")}
        if self.utilization is not None:
            cols["utilization"] = []
        for i, h in enumerate(self.heads):
            cols["layer"] += [self.layer] * len(self.split)
            cols["head"] += [h] * len(self.split)
            cols["split"] += self.split.tolist()
            cols["tolerance_ess"] += self._rows(self.tolerance_ess, i).tolist()
            cols["entropy_ess"] += self._rows(self.entropy_ess, i).tolist()
            cols["tss"] += self._rows(self.tss, i).tolist()
            if self.utilization is not None:
                cols["utilization"] += self.utilization.tolist()
        return cols

    def to_pandas(self):
        """A pandas DataFrame of to_dict() (needs pandas)."""
        import pandas as pd
        return pd.DataFrame(self.to_dict())


def _curve_from(d, metric, heads, squeeze, layer=0, total=False):
    want_tol = metric != "entropy"
    want_ent = metric != "tolerance"
    if total:
        return Curve(d["layer"], d["length"], d["splits"], ["total"],
                     d["total_tolerance"][None] if want_tol else None,
                     d["total_entropy"][None] if want_ent else None,
                     d["total_tss"][None], d["total_utilization"], squeeze=True, total_members=heads)
    idx = list(heads)
    return Curve(d["layer"], d["length"], d["splits"], idx,
                 d["tolerance"][idx] if want_tol else None,
                 d["entropy"][idx] if want_ent else None,
                 d["tss"][idx], squeeze=squeeze)


_OPTIONS_DOC = """
    tolerance: tolerance-ESS threshold as a fraction of the reference (default 1e-3).
    normalization: "max" (sigma_1, default), "sum" (sum of sigma) or "none" (1).
    splits: None (every split 1..L-1), "A:B:STEP" as `ess curve --splits` (B inclusive, empty
        fields take their defaults: "1::64"), a range, or one int.
    metric: "tolerance", "entropy" or "both" (default).
    dtype: "float64" (default) or "float32": the SVDs' type (the operator itself is float64).
    algorithm: "auto" (default), "dense" or "structured" (docs/definitions.md section 5).
    threads: worker threads for the SVDs (0 = all cores).
    progress: None or a callable progress(done, total), called on this thread about every
        20 ms with (head, split) pairs done; what it raises stops the computation and
        propagates. With tqdm:
            bar = tqdm.tqdm(unit="split")
            def progress(done, total): bar.total = total; bar.update(done - bar.n)
    Returns a Curve; raises ValueError naming the problem (shapes, NaN or Inf, a non-causal
    operator, bad options) and KeyboardInterrupt on Ctrl+C.
"""


def curve(T, *, tolerance=1e-3, normalization="max", splits=None, metric="both", dtype="float64",
          algorithm="auto", threads=0, progress=None):
    """ESS curves of a causal operator T, shape [L, L] or [H, L, L] (T[h, r, c] = weight of
    input c on output r; lower-triangular), on the dense engine of `ess curve`.

    A C-contiguous float64 array or CPU tensor is used in place (no copy); other float dtypes
    are converted once. Result arrays are [S] for [L, L] and [H, S] for [H, L, L]. The numbers
    equal `ess curve` on an operator file holding T.
"""
    _check_metric(metric)
    _check_progress(progress)
    a = _as_array(T, "T")
    d = _core.operator_curve(a, float(tolerance), normalization, _splits_spec(splits), dtype, algorithm,
                             int(threads), progress)
    return _curve_from(d, metric, range(d["tolerance"].shape[0]), squeeze=a.ndim == 2)


def default_memory_budget():
    """The memory budget (GiB) that `ess`, the GUI and open() use when none is given: half of
    this machine's memory (its cgroup limit when lower), at least 1 and at most 32 GiB."""
    return _core.default_memory_budget() / 2**30


def _budget_bytes(memory_budget):
    if memory_budget is None:
        return _core.default_memory_budget()
    try:
        gib = float(memory_budget)
    except (TypeError, ValueError):
        raise ValueError(f"memory_budget: expected a number of GiB or None, got {memory_budget!r}") from None
    return gib * 2**30


def _generator_arrays(C, B, log_a, D):
    return (_as_array(C, "C"), _as_array(B, "B"), _as_array(log_a, "log_a"),
            None if D is None else _as_array(D, "D"))


def structured_curve(C, B, log_a, D=None, *, tolerance=1e-3, normalization="max", splits=None, metric="both",
                     dtype="float64", algorithm="auto", threads=0, memory_budget=None, progress=None):
    """ESS curves of a semiseparable operator given by its generators (the layout of a
    generator file, docs/definitions.md section 6), on the structured engine, without forming
    the L x L operator:

        T[h,r,c] = sum_n C[h,r,n] * exp(sum_{t=c+1..r} log_a[h,t,n]) * B[h,c,n]   (c < r)
        T[h,r,r] = sum_n C[h,r,n] * B[h,r,n] + D[h,r]

    C, B: [H, L, N]; log_a: [H, L, N] or [H, L] (one decay per head; log a <= 0 for a stable
    layer); D: [H, L] or None. Linear attention (log_a = 0), GLA, RetNet, diagonal SSMs and
    Mamba's S6 fit. Cost O(L N^2 + L N^3) for a whole curve. TSS = N. Result arrays are [H, S].
    memory_budget (GiB) caps the dense operator formed when "auto" or "dense" picks the dense
    engine (2 N >= L); None: default_memory_budget(). The numbers equal `ess curve` on a generator file with these tensors.
"""
    _check_metric(metric)
    _check_progress(progress)
    C, B, log_a, D = _generator_arrays(C, B, log_a, D)
    d = _core.generator_curve(C, B, log_a, D, float(tolerance), normalization, _splits_spec(splits), dtype,
                              algorithm, int(threads), _budget_bytes(memory_budget), progress)
    return _curve_from(d, metric, range(d["tolerance"].shape[0]), squeeze=False)


def spectrum(T_or_generators, split, *, head=None, dtype="float64"):
    """Singular values of H_s = T[h][s:, :s] at `split` s, descending, min(s, L-s) of them
    (zeros included), from a plain SVD (small values stay accurate).

    T_or_generators: an operator [L, L] or [H, L, L], or generators as a dict with keys C, B,
    log_a (and optionally D) or a tuple (C, B, log_a[, D]) (then computed from N x N problems
    without forming T, in float64). head: one head (default: all, giving [H, k]; an [L, L]
    operator gives [k]). dtype: the SVD's type for an operator ("float64" or "float32").
    """
    g = T_or_generators
    if isinstance(g, dict) or isinstance(g, (tuple, list)):
        if isinstance(g, dict):
            C, B, log_a, D = g["C"], g["B"], g["log_a"], g.get("D")
        else:
            C, B, log_a, D = (list(g) + [None])[:4]
        C, B, log_a, D = _generator_arrays(C, B, log_a, D)
        H = C.shape[0] if C.ndim == 3 else 1
        one = lambda h: _core.generator_spectrum(C, B, log_a, D, h, int(split))  # noqa: E731
        squeeze = False
    else:
        a = _as_array(g, "T")
        H = a.shape[0] if a.ndim == 3 else 1
        one = lambda h: _core.operator_spectrum(a, h, int(split), dtype)  # noqa: E731
        squeeze = a.ndim == 2
    if head is not None:
        return one(int(head))
    rows = [one(h) for h in range(H)]
    return rows[0] if squeeze else _np.stack(rows)


def _writable_path(path):
    path = _os.fspath(path)
    folder = _os.path.dirname(_os.path.abspath(path))
    if not _os.path.isdir(folder):
        raise FileNotFoundError(f"{path}: the folder {folder} does not exist")
    return path


def save_operator(path, T, metadata=None):
    """Writes an operator file (docs/definitions.md section 6) that `ess` and the GUI open:
    safetensors with tensor `operator` = T ([L, L] or [H, L, L]; float64, float32 or float16
    kept as given, other floats as float64) and `__metadata__` from the dict `metadata` (strings).
    T is checked as curve() checks it (ValueError). Written to a temporary file in the same
    folder and renamed into place, so `path` is complete or untouched (OSError on failure)."""
    a = _as_array(T, "T")
    _core.save_operator(_writable_path(path), a, {str(k): str(v) for k, v in (metadata or {}).items()})


def save_generators(path, C, B, log_a, D=None, metadata=None):
    """Writes a generator file (docs/definitions.md section 6): tensors C, B [H, L, N], log_a
    [H, L, N] or [H, L], optional D [H, L], checked as structured_curve() checks them
    (ValueError), written atomically (OSError on failure)."""
    C, B, log_a, D = _generator_arrays(C, B, log_a, D)
    _core.save_generators(_writable_path(path), C, B, log_a, D,
                          {str(k): str(v) for k, v in (metadata or {}).items()})


class Tokens:
    """The input tokens of a model: `ids` (int64 [L]) and `labels` (the tokenizer's pieces, or
    the ids as text)."""

    def __init__(self, ids, labels):
        self.ids = ids
        self.labels = labels

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        return iter((self.ids, self.labels))

    def __repr__(self):
        return f"Tokens({len(self.ids)} tokens)"


def _head_spec(head):
    if head is None or head == "all":
        return "all", False
    if isinstance(head, (int, _np.integer)):
        return str(int(head)), True
    if isinstance(head, str):
        return head, ":" not in head
    if isinstance(head, (tuple, list)) and len(head) == 2:
        return f"{int(head[0])}:{int(head[1])}", False
    raise ValueError(f"head: expected None, an int, (first, last) or 'A:B', got {head!r}")


class File:
    """An opened file or folder (open(path)): an ess-lm or Hugging Face model folder, a PyTorch
    checkpoint, an operator or a generator file. Models compute for an input spec
    (docs/definitions.md section 4: "mqar:seed=S,len=L,pairs=P,vocab=V", "tokens:1,2,3",
    "random:seed=S,len=L", "text:TEXT", "textfile:PATH"); `input=` on any call sets it (and it
    stays), None keeps the current one (a model's default at first). Files ignore it."""

    def __init__(self, session):
        self._s = session

    @property
    def path(self):
        return self._s.path()

    @property
    def layers(self):
        """One dict per layer: index, mixer, heads, value_channels, tss (formula or None),
        ssm_removes (what operator="ssm" leaves out of the block's operator, or None)."""
        return self._s.layers()

    @property
    def operator_scope(self):
        """"block" or "ssm": which operator the recurrent layers form (open's operator=)."""
        return self._s.operator_scope()

    @property
    def input(self):
        """The current input spec ("" for operator and generator files)."""
        return self._s.input()

    def info(self, tensors=False):
        """The fields of `ess info --format json` (file, architecture, layers, length or
        vocab_size/max_length/tokenizer; `tensors` with tensors=True)."""
        return _json.loads(_core.info_json(self.path, bool(tensors)))

    def tokens(self, input=None):
        """The input tokens as Tokens(ids, labels) (empty for operator files)."""
        ids, labels = self._s.tokens(input)
        return Tokens(ids, labels)

    def operator(self, layer, head=None, input=None):
        """The operator of `layer` as float64 [H, L, L], or [L, L] for one `head` (a copy the
        caller owns). ValueError beyond the memory budget (the message says which L fits)."""
        op = self._s.operator(int(layer), input)
        if head is None:
            return op
        if not 0 <= int(head) < op.shape[0]:
            raise ValueError(f"head {head} is outside 0..{op.shape[0] - 1} (layer {layer})")
        return op[int(head)].copy()

    def generators(self, layer, input=None):
        """The generator form of `layer` as a dict C, B [H, L, N], log_a [H, L, N] or [H, L],
        D [H, L] or None (float64 copies; structured_curve() takes them), or None for layers
        without one (attention, dense operator files)."""
        return self._s.generators(int(layer), input)

    def curve(self, layer, head=None, input=None, aggregate="none", *, tolerance=1e-3, normalization="max",
              splits=None, metric="both", dtype="float64", algorithm="auto", threads=0, progress=None):
        """ESS curves of `layer` as `ess curve FILE --layer N --head ... --aggregate ...` computes
        them (the same numbers).

        head: None or "all" (every head, arrays [H, S]), an int (arrays [S]), (first, last) or
        "A:B" (inclusive, [H', S]). aggregate: "none" or "total" (the chosen heads summed, each
        times the layer's value channels d_v, in MIMO units, with utilization = tolerance-ESS /
        TSS; arrays [S]). TSS per head in SISO units.
"""
        if aggregate not in ("none", "total"):
            raise ValueError(f"aggregate: expected none or total, got '{aggregate}'")
        _check_metric(metric)
        _check_progress(progress)
        spec, one = _head_spec(head)
        total = aggregate == "total"
        d = self._s.curve(int(layer), input, spec, total, float(tolerance), normalization, _splits_spec(splits),
                          dtype, algorithm, int(threads), progress)
        return _curve_from(d, metric, d["heads"], squeeze=one, total=total)

    def spectrum(self, layer, head, split, input=None, dtype="float64"):
        """Singular values of H_s of `head` of `layer` at `split`, descending (min(s, L-s))."""
        return self._s.spectrum(int(layer), int(head), int(split), input, dtype)

    def __repr__(self):
        return f"ess_explorer.File({self.path!r}, {len(self.layers)} layers)"


for _f in (curve, structured_curve, File.curve):
    _f.__doc__ += _OPTIONS_DOC


def open(path, *, input=None, memory_budget=None, operator="block"):
    """Opens what `ess` opens: a model folder (ess-lm, Hugging Face), a PyTorch checkpoint
    (.pt/.pth/.bin), an operator or generator file (.safetensors). Models load the model
    library (LibTorch) on first use. memory_budget (GiB) caps dense operators [H, L, L]
    float64 and one layer's forward pass (None: default_memory_budget(), as `ess`). input: an input spec for models (None: the model's default).
    operator: "block" (default) or "ssm", the CLI's --operator: for the Hugging Face recurrent
    layers the SSM-only operator, without output gate, norm and D skip (each layer's
    "ssm_removes" in layers() says what it leaves out; README "Mixer kinds").
    Raises FileNotFoundError / PermissionError (OSError) when the path cannot be read,
    ValueError when it is not a file ESS Explorer reads, with the CLI's message."""
    path = _os.fspath(path)
    try:
        s = _core.Session(path, _budget_bytes(memory_budget))
    except ValueError as e:
        if not _os.path.lexists(path):
            raise FileNotFoundError(str(e)) from None
        if not _os.access(path, _os.R_OK):
            raise PermissionError(str(e)) from None
        raise
    f = File(s)
    if operator != "block":
        s.set_operator(operator)
    if input is not None:
        s.set_input(input)
    return f


class Checkpoint:
    """One checkpoint of a run: `path` (as open() takes it), `name` (the folder name, or the
    path as listed) and `step` (the training step; None when unknown)."""

    def __init__(self, path, name, step):
        self.path = path
        self.name = name
        self.step = step

    def __repr__(self):
        return f"Checkpoint({self.name!r}, step={self.step})"


class Run:
    """A training run (docs/definitions.md section 7), as `ess sweep` and the GUI's Training tab
    read it: a Hugging Face Trainer folder of `checkpoint-<step>/` folders (metrics from
    trainer_state.json), an ess-lm run of `step-<N>/` folders beside metrics.jsonl
    (`ess train-mqar --save-every N`), or a text file listing checkpoints (`PATH [STEP]`).

    Attributes: path, kind ("hf-trainer", "ess-lm" or "list"), checkpoints (Checkpoint objects
    by step), metrics (one dict per logged step: {"step": N, "loss": ..., ...}), metrics_note
    (why metrics are missing or incomplete, naming the file; "" when they were read)."""

    def __init__(self, d):
        self.path = d["path"]
        self.kind = d["kind"]
        self.checkpoints = [Checkpoint(c["path"], c["name"], c["step"]) for c in d["checkpoints"]]
        self.metrics = [dict(step=m["step"], **m["values"]) for m in d["metrics"]]
        self.metrics_note = d["metrics_note"]

    @property
    def metric_names(self):
        """Every metric logged, sorted."""
        return sorted({k for m in self.metrics for k in m if k != "step"})

    def metric(self, name):
        """The logged metric `name` as (steps int64 [K], values float64 [K])."""
        rows = [(m["step"], m[name]) for m in self.metrics if name in m]
        return (_np.array([r[0] for r in rows], dtype=_np.int64), _np.array([r[1] for r in rows], dtype=_np.float64))

    def __len__(self):
        return len(self.checkpoints)

    def __iter__(self):
        return iter(self.checkpoints)

    def __repr__(self):
        return f"ess_explorer.Run({self.path!r}, {self.kind}, {len(self.checkpoints)} checkpoints)"


def open_run(path):
    """Reads the run at `path` (a folder or a list file; see Run). A metrics file that does not
    parse leaves `metrics` empty and says why in `metrics_note`. Raises FileNotFoundError when
    `path` does not exist, ValueError (the CLI's message) for a folder without checkpoints, a
    list naming a missing checkpoint or two checkpoints of one step."""
    path = _os.fspath(path)
    try:
        return Run(_core.open_run(path))
    except ValueError as e:
        if not _os.path.lexists(path):
            raise FileNotFoundError(str(e)) from None
        raise


class Comparison:
    """Checkpoints A and B side by side at the same input and options (compare()).

    Attributes: a, b (Curve objects of the same layer and heads), names (A's and B's checkpoint
    names, "step-20"; the paths as given when both are equal), steps (their training steps from
    a `checkpoint-<N>` / `step-<N>` name, None when unknown), files (the two File objects)."""

    def __init__(self, a, b, names, steps, files):
        self.a = a
        self.b = b
        self.names = names
        self.steps = steps
        self.files = files

    def __repr__(self):
        return f"Comparison(A={self.names[0]!r}, B={self.names[1]!r}, layer={self.a.layer}, heads={self.a.heads})"

    def to_dict(self):
        """The columns of `ess curve A --compare B`'s CSV: checkpoint, step (None when unknown),
        then Curve.to_dict()'s; A's rows, then B's."""
        out = None
        for curve, name, step in zip((self.a, self.b), self.names, self.steps):
            d = curve.to_dict()
            n = len(d["split"])
            cols = {"checkpoint": [name] * n, "step": [step] * n, **d}
            if out is None:
                out = cols
            else:
                for k in out:
                    out[k] += cols[k]
        return out

    def to_pandas(self):
        """A pandas DataFrame of to_dict() (needs pandas)."""
        import pandas as pd
        return pd.DataFrame(self.to_dict())


def compare(a, b, layer, head=None, input=None, aggregate="none", **options):
    """ESS curves of `layer` of checkpoint A beside those of B, as `ess curve A --compare B
    --layer N` computes them (the same numbers): `a` and `b` are paths (opened with open()) or
    File objects. B is computed at A's input (`input` sets both; None keeps A's current one) and
    with the same options (those of File.curve: head, aggregate, tolerance, normalization,
    splits, metric, dtype, algorithm, threads, progress).

    Returns a Comparison. Raises ValueError with the CLI's text when the layouts differ:
    "cannot compare A (step-10) with B (step-20): layer 0 has 1 head(s) in A, 2 in B" (or a
    different number of layers, or L = 64 against L = 16 for the input)."""
    fa = a if isinstance(a, File) else open(a)
    fb = b if isinstance(b, File) else open(b)
    if input is not None:
        fa._s.set_input(input)
    if fb._s.source()["needs_input"] and fa.input:
        fb._s.set_input(fa.input)
    name_a, name_b = _core.checkpoint_name(fa.path), _core.checkpoint_name(fb.path)
    if name_a == name_b:
        name_a, name_b = fa.path, fb.path
    mismatch = fa._s.layout_mismatch(fb._s, name_a, name_b)
    if mismatch:
        raise ValueError(mismatch)
    ca = fa.curve(layer, head=head, aggregate=aggregate, **options)
    cb = fb.curve(layer, head=head, aggregate=aggregate, **options)
    return Comparison(ca, cb, (name_a, name_b), (_core.checkpoint_step(fa.path), _core.checkpoint_step(fb.path)),
                      (fa, fb))
