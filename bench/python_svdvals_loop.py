#!/usr/bin/python3
"""The baseline a researcher writes today: one torch.linalg.svdvals per split.

Run with Debian's python3-torch: /usr/bin/python3 bench/python_svdvals_loop.py
Prints seconds for one whole curve of one dense L x L head, float32 and float64.
"""
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


if __name__ == "__main__":
    torch.manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        for L in (256, 512, 1024):
            T = torch.randn(L, L, dtype=torch.float64).tril().to(dtype)
            t0 = time.perf_counter()
            curve(T)
            print(f"L={L:5d} {str(dtype):14s} {time.perf_counter() - t0:8.2f} s", flush=True)
