#!/usr/bin/env bash
# ESS over training (docs/training_dynamics.md): trains GLA, linear attention and softmax
# attention at matched size on one MQAR setting with `train-mqar --save-every`, sweeps every
# checkpoint with `ess sweep` (layer totals, means over splits, 8 held-out inputs) and draws
# each run's utilization (ESS / TSS) and tolerance-ESS over training above its logged loss and
# accuracy with `ess render RUN --figure training`.
#
# Usage: examples/training_dynamics.sh [--retrain] [--kinds k1,k2,...] [--work DIR] [--figures DIR]
#   --retrain      delete and retrain the runs first (default: train only runs that are missing)
#   --kinds LIST   default gla,linear_attention,softmax_attention
#   --work DIR     runs, sweep work folders and logs (default build/training_dynamics)
#   --figures DIR  PNGs and sweep CSVs (default docs/figures/training_dynamics)
# Environment: ESS (default ./build/app/ess), THREADS (default 1 per run; the runs train at
#   once), NICE (default 10). Run from the repository root.
set -euo pipefail

ESS=${ESS:-./build/app/ess}
THREADS=${THREADS:-1}
NICE=${NICE:-10}
WORK=build/training_dynamics
FIGURES=docs/figures/training_dynamics
RETRAIN=0
KINDS="gla linear_attention softmax_attention"

while [ $# -gt 0 ]; do
  case "$1" in
    --retrain) RETRAIN=1 ;;
    --kinds) shift; KINDS=$(echo "$1" | tr ',' ' ') ;;
    --work) shift; WORK=$1 ;;
    --figures) shift; FIGURES=$1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "training_dynamics.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$ESS" ] || { echo "training_dynamics.sh: $ESS is not an executable; build it or set ESS=path" >&2; exit 2; }

# The setting of docs/mqar_families.md (length 64, 16 pairs, vocabulary 64; 2 layers, d_model
# 32, 2 heads, 800 steps of batch 32), saving a checkpoint and the held-out accuracy every 50 steps.
LEN=64; PAIRS=16; VOCAB=64
TRAIN=(--layers 2 --d-model 32 --heads 2 --steps 800 --batch 32 --lr 3e-3 --seed 0
       --length "$LEN" --pairs "$PAIRS" --vocab "$VOCAB" --key-shift on --eval-samples 500
       --save-every 50 --threads "$THREADS")
# Held-out inputs for ESS (seeds the trainer never draws), as in docs/mqar_families.md.
INPUTS=()
for i in 0 1 2 3 4 5 6 7; do INPUTS+=(--input "mqar:seed=$((1000 + i)),len=$LEN,pairs=$PAIRS,vocab=$VOCAB"); done

mkdir -p "$WORK/runs" "$FIGURES"
pids=()
for kind in $KINDS; do
  run="$WORK/runs/$kind"
  if [ "$RETRAIN" = 1 ]; then rm -rf "$run"; fi
  [ -f "$run/model.safetensors" ] && continue
  rm -rf "$run"
  echo "training $kind (log $WORK/$kind.log)" >&2
  nice -n "$NICE" "$ESS" train-mqar --mixer "$kind" "${TRAIN[@]}" --out "$run" > "$WORK/$kind.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

for kind in $KINDS; do
  run="$WORK/runs/$kind"
  # Every checkpoint x input, resumable under --work: the layer totals' means over splits.
  nice -n "$NICE" "$ESS" sweep "$run" --head total --summary mean "${INPUTS[@]}" --work "$WORK/sweep/$kind" \
    --jobs 2 -o "$FIGURES/$kind.csv"
  for measure in utilization tolerance; do
    nice -n "$NICE" "$ESS" render "$run" --figure training --measure "$measure" "${INPUTS[@]}" --style paper \
      --width 3.25in -o "$FIGURES/${kind}_$measure.png"
  done
done
echo "figures and sweep tables in $FIGURES" >&2
