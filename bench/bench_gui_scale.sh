#!/usr/bin/env bash
# The GUI at model scale (issue 16 item 5): runs bench/gui_scale_probe.cpp (the ESS Explorer
# window) under Xvfb on a checkpoint folder and prints the times from the process start to
# layer 0's heatmap and curve, to the last layer's heatmap after choosing it (with the longest
# event-loop gap meanwhile), and to the Layers tab's first and last layer; then the peak RSS.
# The load average is printed before and after: the figures compare only on an equally loaded
# machine.
#   cmake --build build --target gui_scale_probe
#   bench/bench_gui_scale.sh FOLDER [INPUT] [LAYERS_SECONDS]
#     INPUT           the input spec (default random:seed=0,len=512)
#     LAYERS_SECONDS  stop the Layers tab after this long (default 0: until every layer is in)
# Environment: PROBE (default build/bench/gui_scale_probe).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
probe="${PROBE:-$here/build/bench/gui_scale_probe}"
folder="${1:?usage: bench_gui_scale.sh FOLDER [INPUT] [LAYERS_SECONDS]}"
input="${2:-random:seed=0,len=512}"
layers="${3:-0}"
[ -x "$probe" ] || { echo "bench_gui_scale: no executable $probe (cmake --build build --target gui_scale_probe)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "bench_gui_scale: xvfb-run not found (apt-get install xvfb)" >&2; exit 1; }

# A settings folder of its own: no window geometry, recent files or budget of the user's.
settings="$(mktemp -d)"
trap 'rm -rf "$settings"' EXIT
echo "checkpoint: $folder  input: $input"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
XDG_CONFIG_HOME="$settings" xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$probe" "$folder" --input "$input" --layers-for "$layers"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
