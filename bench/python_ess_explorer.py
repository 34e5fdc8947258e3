#!/usr/bin/python3
"""ess_explorer against the same calls in C++ and against the loop a Python user writes today.

Build first: cmake --build build --target ess_explorer_core array_call_probe
Run: PYTHONPATH=build/python /usr/bin/python3 bench/python_ess_explorer.py [build/bench/array_call_probe]
Prints (medians; one process, all cores):
  per-call time of curve() on a causal [16, 16] operator, Python vs C++ (the overhead);
  a whole structured curve at L = 1024, N = 16, Python vs C++;
  a whole dense float64 curve at L = 256, 512, 1024 against torch.linalg.svdvals per split.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import ess_explorer as ess


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def svdvals_loop(T):
    import torch
    L = T.shape[0]
    for s in range(1, L):
        sv = torch.linalg.svdvals(T[s:, :s])
        int((sv > 1e-3 * sv.max()).sum())
        p = sv / sv.sum()
        p = p[p > 0]
        float(torch.exp(-(p * p.log()).sum()))


def main():
    probe = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "bench", "array_call_probe")
    have_probe = os.path.exists(probe)
    rng = np.random.default_rng(0)

    def cpp(*args):
        if not have_probe:
            return float("nan")
        return float(subprocess.run([probe, *map(str, args)], capture_output=True, text=True, check=True).stdout)

    T16 = np.tril(rng.standard_normal((16, 16)))
    py = median_seconds(lambda: ess.curve(T16), 2000)
    print(f"curve, L = 16:                 Python {py * 1e6:8.1f} us   C++ {cpp('dense', 16, 2000) * 1e6:8.1f} us")
    L, N = 1024, 16
    C, B = rng.standard_normal((2, 1, L, N))
    log_a = -0.01 * np.abs(rng.standard_normal((1, L, N)))
    py = median_seconds(lambda: ess.structured_curve(C, B, log_a), 50)
    print(f"structured curve, L = 1024, N = 16: Python {py * 1e3:6.2f} ms   C++ {cpp('structured', L, N, 50) * 1e3:6.2f} ms")
    import torch
    torch.set_num_threads(1)  # the loop's best (see the README)
    for L in (256, 512, 1024):
        T = np.tril(rng.standard_normal((L, L)))
        ours = median_seconds(lambda: ess.curve(T), 3)
        loop = median_seconds(lambda: svdvals_loop(torch.from_numpy(T)), 1)
        print(f"dense curve, L = {L:4d}, float64: ess_explorer {ours:7.3f} s   svdvals loop {loop:7.2f} s   "
              f"({loop / ours:.0f}x)", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
