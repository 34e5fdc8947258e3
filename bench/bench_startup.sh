#!/usr/bin/env bash
# Start-up time of the `ess` CLI (issue 10): median wall time of N runs of
#   ess --help
#   ess info  tests/data/softmax_attention_h2_L64.safetensors   (dense operator file)
#   ess curve <generator file, H=1 L=64 N=4>                       (structured engine)
# These commands only read files; their time is almost all start-up (loading libraries).
# With a third argument, also `curve` through the math library alone (no LibTorch):
#   cmake --build build --target ess_startup_probe   (bench/startup_probe.cpp)
# Usage: bench/bench_startup.sh [path/to/ess] [runs] [path/to/ess_startup_probe]
#   (defaults: build/app/ess, 11, none)
# Prints one line per command (median and min in seconds) and the load average, since the
# figures are only comparable on an equally loaded machine.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
ess="${1:-$here/build/app/ess}"
runs="${2:-11}"
probe="${3:-}"
[ -x "$ess" ] || { echo "bench_startup: no executable $ess" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gen="$tmp/generators_n4_L64.safetensors"
# A generator file (docs/definitions.md section 6) written with the Python standard library only:
# C, B [1, 64, 4], log_a [1, 64, 4] float64, little-endian.
python3 - "$gen" <<'EOF'
import json, math, struct, sys
H, L, N = 1, 64, 4
C = [math.sin(0.1 * i + 1) for i in range(H * L * N)]
B = [math.cos(0.07 * i) for i in range(H * L * N)]
A = [-0.05 * (1 + i % N) for i in range(H * L * N)]
blobs, header, off = [], {}, 0
for name, v in (("C", C), ("B", B), ("log_a", A)):
    b = struct.pack("<%dd" % len(v), *v)
    header[name] = {"dtype": "F64", "shape": [H, L, N], "data_offsets": [off, off + len(b)]}
    off += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
EOF

# Median and minimum of `runs` timings of the command given as arguments.
timeit() {
  local ts=()
  for ((i = 0; i < runs; ++i)); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "bench_startup: failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median %.3f s  min %.3f s\n", a[int((NR+1)/2)], a[1]}'
}

echo "ess: $ess ($runs runs each)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %s\n' "ess --help" "$(timeit "$ess" --help)"
printf '%-34s %s\n' "ess info softmax_attention_h2_L64" "$(timeit "$ess" info "$here/tests/data/softmax_attention_h2_L64.safetensors")"
printf '%-34s %s\n' "ess curve generators_n4_L64" "$(timeit "$ess" curve "$gen")"
if [ -n "$probe" ]; then
  printf '%-34s %s\n' "probe curve generators_n4_L64" "$(timeit "$probe" "$gen")"
  printf '%-34s %s\n' "probe curve softmax_attention_h2_L64" "$(timeit "$probe" "$here/tests/data/softmax_attention_h2_L64.safetensors")"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
