#!/usr/bin/env python3
"""Tabulates the MQAR family comparison written by scripts/mqar_families.sh.

Usage: mqar_table.py WORKDIR KIND [KIND ...]

WORKDIR/KIND/ holds info.json (`ess info --format json`), train_report.json (from
`ess train-mqar`) and curve_*.csv (`ess curve --layer all --head all --format csv`, one file
per held-out input). Prints a Markdown table and Spearman rank correlations.

Units (docs/definitions.md section 1, "Aggregates"): the CSV gives each head's tolerance-ESS,
entropy-ESS and TSS in SISO units; a layer's total at split s is the sum over its heads of the
head's value times the head's value channels (d_v; 1 for short_conv). Mean ESS = the layer
totals averaged over splits s = 1..L-1, over layers and over inputs; TSS = the layer totals of
the TSS averaged over splits and layers (input-independent). Utilization = mean ESS / TSS.
Python standard library only.
"""
import csv
import glob
import json
import math
import os
import sys


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def ranks(xs):
    """Average ranks (1-based), ties share the mean of their positions."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def pearson(a, b):
    ma, mb = mean(a), mean(b)
    sa = math.sqrt(sum((x - ma) ** 2 for x in a))
    sb = math.sqrt(sum((y - mb) ** 2 for y in b))
    if sa == 0 or sb == 0:
        return float("nan")
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (sa * sb)


def spearman(a, b):
    return pearson(ranks(a), ranks(b))


def measure(kdir):
    with open(os.path.join(kdir, "info.json")) as f:
        info = json.load(f)
    dv = {l["index"]: l["value_channels"] for l in info["layers"]}
    with open(os.path.join(kdir, "train_report.json")) as f:
        report = json.load(f)
    files = sorted(glob.glob(os.path.join(kdir, "curve_*.csv")))
    if not files:
        raise SystemExit(f"mqar_table.py: no curve_*.csv in {kdir}")
    tol_means, ent_means, tss_means = [], [], []
    for path in files:
        tol, ent, tss = {}, {}, {}  # (layer, split) -> layer total
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (int(row["layer"]), int(row["split"]))
                w = dv[int(row["layer"])]
                tol[key] = tol.get(key, 0.0) + float(row["tolerance_ess"]) * w
                ent[key] = ent.get(key, 0.0) + float(row["entropy_ess"]) * w
                if row.get("tss", "") != "":
                    tss[key] = tss.get(key, 0.0) + float(row["tss"]) * w
        tol_means.append(mean(list(tol.values())))
        ent_means.append(mean(list(ent.values())))
        if tss:
            tss_means.append(mean(list(tss.values())))
    tss_mean = mean(tss_means)
    return {
        "accuracy": report["held_out_accuracy"],
        "seconds": report.get("seconds", float("nan")),
        "steps": report.get("steps"),
        "tol": mean(tol_means),
        "ent": mean(ent_means),
        "tss": tss_mean,
        "inputs": len(files),
        "layers": len(dv),
    }


def fmt(x, digits=1):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    work, kinds = sys.argv[1], sys.argv[2:]
    rows = []
    for k in kinds:
        kdir = os.path.join(work, k)
        if not os.path.isfile(os.path.join(kdir, "info.json")):
            print(f"mqar_table.py: {k}: not measured (no {kdir}/info.json)", file=sys.stderr)
            continue
        rows.append((k, measure(kdir)))
    if not rows:
        raise SystemExit("mqar_table.py: nothing to tabulate")
    rows.sort(key=lambda r: -r[1]["accuracy"])
    print("| family | held-out accuracy | mean tolerance-ESS | mean entropy-ESS | mean TSS "
          "| utilization (tolerance) | utilization (entropy) | training time |")
    print("|---|---|---|---|---|---|---|---|")
    for k, m in rows:
        ut = m["tol"] / m["tss"] if m["tss"] and not math.isnan(m["tss"]) else float("nan")
        ue = m["ent"] / m["tss"] if m["tss"] and not math.isnan(m["tss"]) else float("nan")
        print(f"| {k} | {100 * m['accuracy']:.1f} % | {fmt(m['tol'])} | {fmt(m['ent'])} | {fmt(m['tss'])} "
              f"| {fmt(ut, 3)} | {fmt(ue, 3)} | {fmt(m['seconds'], 0)} s |")
    n = len(rows)
    inputs = sorted({m["inputs"] for _, m in rows})
    print()
    print(f"{n} families; ESS averaged over {'/'.join(map(str, inputs))} held-out inputs, all splits and "
          f"both layers; per-layer totals (heads x value channels).")
    if n >= 3:
        acc = [m["accuracy"] for _, m in rows]
        print()
        print("Spearman rank correlation with held-out accuracy across families:")
        print()
        for label, key in (("mean tolerance-ESS", "tol"), ("mean entropy-ESS", "ent"), ("mean TSS", "tss")):
            vals = [m[key] for _, m in rows]
            if any(math.isnan(v) for v in vals):
                print(f"- {label}: n/a (missing values)")
            else:
                print(f"- {label}: {spearman(acc, vals):+.2f}")
        ut = [m["tol"] / m["tss"] for _, m in rows]
        print(f"- utilization (tolerance-ESS / TSS): {spearman(acc, ut):+.2f}")


if __name__ == "__main__":
    main()
