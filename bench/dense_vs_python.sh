#!/bin/bash
# The dense engine against the Python loop on realistic operators (issue 16 item 4): for each
# operator class of bench/dense_operators.py, the whole `ess curve` process (all cores) and the
# Python loop (one torch.linalg.svdvals per split, one thread, its fastest) back to back, so
# that the machine's load, printed beside, mostly cancels in the ratio. CPU seconds are printed
# too: on a loaded machine the engine's second thread gains little wall time, and
# python_cpu / (ess_cpu / 2) estimates two idle cores' ratio. (The trained demos' operators,
# L = 64 at most, are timed in process by bench_dense_ess, BM_DenseTrainedDemo.)
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
printf '%-8s %6s %8s %8s %8s %9s %9s %7s %9s  %s\n' class L dtype ess_s ess_cpu python_s py_cpu ratio cpu_ratio load
for c in "${classes[@]}"; do
  f=$data/${c}_L$L.safetensors
  load=$(cut -d' ' -f1 /proc/loadavg)
  ess=$( { /usr/bin/time -f '%e %U %S' "$build/app/ess" curve "$f" --dtype "$dtype" >/dev/null; } 2>&1 | tail -1)
  py=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$here/python_svdvals_loop.py" --dtype "$dtype" "$f")
  load="$load-$(cut -d' ' -f1 /proc/loadavg)"
  read -r ess_s ess_u ess_k <<<"$ess"
  ess_cpu=$(echo "$ess_u + $ess_k" | bc -l)
  py_s=$(echo "$py" | awk '{print $(NF-3)}')
  py_cpu=$(echo "$py" | awk '{print $(NF-1)}')
  printf '%-8s %6d %8s %8.2f %8.2f %9.2f %9.2f %6.1fx %8.1fx  %s\n' "$c" "$L" "$dtype" "$ess_s" "$ess_cpu" "$py_s" \
    "$py_cpu" "$(echo "$py_s / $ess_s" | bc -l)" "$(echo "2 * $py_cpu / $ess_cpu" | bc -l)" "$load"
done
