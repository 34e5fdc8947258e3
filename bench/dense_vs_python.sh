#!/bin/bash
# The dense engine against the Python loop on realistic operators (issue 16 item 4): for each
# operator class of bench/dense_operators.py, the whole `ess curve` process (all cores) and
# the Python loop (one torch.linalg.svdvals per split, one thread, its fastest) back to back,
# so that the machine's load, printed beside, mostly cancels in the ratio.
# Usage: bench/dense_vs_python.sh BUILD_DIR [L] [DTYPE] [CLASS...]   (DTYPE float64 or float32)
set -euo pipefail
build=${1:?build directory}
L=${2:-1024}
dtype=${3:-float64}
shift $(($# < 3 ? $# : 3))
here=$(cd "$(dirname "$0")" && pwd)
data=$build/bench_data
/usr/bin/python3 "$here/dense_operators.py" "$data" "$L" >/dev/null
classes=("$@")
[ ${#classes[@]} -gt 0 ] || classes=(random llama smooth gla8)
printf '%-8s %6s %8s %10s %10s %7s  %s\n' class L dtype ess_s python_s ratio load
for c in "${classes[@]}"; do
  f=$data/${c}_L$L.safetensors
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  "$build/app/ess" curve "$f" --dtype "$dtype" >/dev/null
  t1=$(date +%s.%N)
  py=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$here/python_svdvals_loop.py" --dtype "$dtype" "$f" |
    awk '{print $(NF-1)}')
  load="$load-$(cut -d' ' -f1 /proc/loadavg)"
  ess=$(echo "$t1 - $t0" | bc -l)
  printf '%-8s %6d %8s %10.2f %10.2f %6.1fx  %s\n' "$c" "$L" "$dtype" "$ess" "$py" "$(echo "$py / $ess" | bc -l)" "$load"
done
