#!/usr/bin/env bash
# Trains one small ess-lm per mixer family on the same MQAR setting and measures, on fixed
# held-out MQAR inputs, each model's effective state-size (ESS) against its theoretical state
# size (TSS). Writes resources/demo/<kind>/ and prints the Markdown table of
# docs/mqar_families.md (via scripts/mqar_table.py).
#
# Usage: scripts/mqar_families.sh [--retrain] [--measure-only] [--kinds k1,k2,...]
#                                 [--out DIR] [--work DIR]
#   (default)        train the kinds whose DIR/<kind>/model.safetensors is missing, then measure
#   --retrain        delete and retrain every selected kind first
#   --measure-only   train nothing; measure the checkpoints that exist
#   --kinds LIST     only these kinds (default: all eleven families)
#   --out DIR        checkpoint root (default resources/demo)
#   --work DIR       curves, info and logs (default build/mqar_families)
# Environment: ESS (default ./build/app/ess), THREADS (default 2), NICE (default 10),
#   PYTHON (default python3).
# Run from the repository root.
set -euo pipefail

ESS=${ESS:-./build/app/ess}
THREADS=${THREADS:-2}
NICE=${NICE:-10}
PYTHON=${PYTHON:-python3}
OUT=resources/demo
WORK=build/mqar_families
RETRAIN=0
MEASURE_ONLY=0
KINDS="softmax_attention linear_attention gla sliding_window_attention retnet short_conv lti_ssm deltanet mamba2 hyena mamba"

while [ $# -gt 0 ]; do
  case "$1" in
    --retrain) RETRAIN=1 ;;
    --measure-only) MEASURE_ONLY=1 ;;
    --kinds) shift; KINDS=$(echo "$1" | tr ',' ' ') ;;
    --out) shift; OUT=$1 ;;
    --work) shift; WORK=$1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "mqar_families.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$ESS" ] || { echo "mqar_families.sh: $ESS is not an executable; build it or set ESS=path" >&2; exit 2; }

# The one setting shared by every family (matched size; see docs/mqar_families.md).
LEN=64; PAIRS=16; VOCAB=64
COMMON=(--layers 2 --d-model 32 --heads 2 --steps 800 --batch 32 --lr 3e-3 --seed 0
        --length "$LEN" --pairs "$PAIRS" --vocab "$VOCAB" --key-shift on)
# Per-kind sizes (all are written to config.json; each kind reads its own).
SIZES=(--window 16 --conv-kernel 4 --state-size 16 --filter-length "$LEN")
# Held-out inputs for the ESS measurement: seeds the trainer never draws (training uses
# seed stream 0 and its evaluation stream; these are fixed single samples).
NINPUTS=8
INPUT_SEED0=1000

mkdir -p "$WORK"
if [ "$MEASURE_ONLY" = 0 ]; then
  for kind in $KINDS; do
    dir="$OUT/$kind"
    if [ "$RETRAIN" = 1 ] && [ -d "$dir" ]; then
      rm -f "$dir/config.json" "$dir/model.safetensors" "$dir/train_report.json"
      rmdir "$dir" 2>/dev/null || true
    fi
    if [ -f "$dir/model.safetensors" ]; then
      echo "== $kind: $dir exists, not retrained (use --retrain)"
      continue
    fi
    echo "== training $kind -> $dir"
    nice -n "$NICE" "$ESS" train-mqar --mixer "$kind" "${COMMON[@]}" "${SIZES[@]}" --threads "$THREADS" \
      --out "$dir" 2> "$WORK/train_$kind.log"
  done
fi

for kind in $KINDS; do
  dir="$OUT/$kind"
  if [ ! -f "$dir/model.safetensors" ]; then
    echo "== $kind: no checkpoint in $dir, not measured" >&2
    continue
  fi
  mkdir -p "$WORK/$kind"
  "$ESS" info "$dir" --format json > "$WORK/$kind/info.json"
  cp "$dir/train_report.json" "$WORK/$kind/train_report.json"
  for i in $(seq 0 $((NINPUTS - 1))); do
    seed=$((INPUT_SEED0 + i))
    nice -n "$NICE" "$ESS" curve "$dir" --layer all --head all --metric both --format csv \
      --input "mqar:seed=$seed,len=$LEN,pairs=$PAIRS,vocab=$VOCAB" -o "$WORK/$kind/curve_$seed.csv"
  done
done

# shellcheck disable=SC2086
"$PYTHON" "$(dirname "$0")/mqar_table.py" "$WORK" $KINDS
