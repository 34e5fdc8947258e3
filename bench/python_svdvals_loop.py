#!/usr/bin/python3
"""The baseline a researcher writes today: one torch.linalg.svdvals per split.

Run with Debian's python3-torch:
  /usr/bin/python3 bench/python_svdvals_loop.py [--dtype D] [--repeat N] [FILE...]
Without files: seconds for one whole curve of a random dense L x L head, float32 and float64.
With operator files (bench/dense_operators.py writes them): seconds (wall, then CPU) for head 0
of each, in --dtype (float64 by default, or float32); the fastest of N runs with --repeat N.
Fastest with OPENBLAS_NUM_THREADS=1.
"""
import json
import struct
import sys
import time

import torch


def curve(T, tol=1e-3):
    L = T.shape[0]
    tol_ess, ent_ess = [], []
    for s in range(1, L):
        sv = torch.linalg.svdvals(T[s:, :s])
        tol_ess.append(int((sv > tol * sv.max()).sum()) if sv.max() > 0 else 0)
        p = sv / sv.sum()
        p = p[p > 0]
        ent_ess.append(float(torch.exp(-(p * p.log()).sum())))
    return tol_ess, ent_ess


def read_operator(path):
    """Head 0 of the F64 `operator` of a safetensors operator file."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    entry = json.loads(raw[8 : 8 + n])["operator"]
    assert entry["dtype"] == "F64", path
    begin, end = entry["data_offsets"]
    L = entry["shape"][-1]
    flat = torch.frombuffer(bytearray(raw[8 + n + begin : 8 + n + end]), dtype=torch.float64)
    return flat[: L * L].reshape(L, L).clone()


if __name__ == "__main__":
    args = sys.argv[1:]
    dtype = torch.float64
    repeat = 1
    while args[:1] in (["--dtype"], ["--repeat"]):
        if args[0] == "--dtype":
            dtype = {"float64": torch.float64, "float32": torch.float32}[args[1]]
        else:
            repeat = int(args[1])
        args = args[2:]
    if args:
        for path in args:
            T = read_operator(path).to(dtype)
            runs = []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                curve(T)
                runs.append((time.perf_counter() - t0, time.process_time() - c0))
            wall, cpu = min(runs)
            print(f"{path} {str(dtype):14s} {wall:8.4f} s {cpu:8.4f} cpu_s", flush=True)
        sys.exit(0)
    torch.manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        for L in (256, 512, 1024):
            T = torch.randn(L, L, dtype=torch.float64).tril().to(dtype)
            t0 = time.perf_counter()
            curve(T)
            print(f"L={L:5d} {str(dtype):14s} {time.perf_counter() - t0:8.2f} s", flush=True)
