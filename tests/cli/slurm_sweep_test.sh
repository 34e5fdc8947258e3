#!/bin/bash
# `ess sweep --slurm` on a real one-node Slurm cluster started here: munged (as the munge user,
# socket in /run/munge), slurmctld and slurmd from a minimal slurm.conf naming this host, all
# state under a temporary folder. Submits a sweep of three operator files as a job array, waits
# for its shards (bounded), collects, and checks the table equals the same sweep run locally.
# Stops every daemon it started. Exit 77 (CTest: skipped) without the Slurm binaries or root.
#   usage: slurm_sweep_test.sh ESS_BINARY TEST_DATA_DIR
set -u
ess=$(realpath "$1")
data=$(realpath "$2")

skip() {
  echo "SKIP: $*"
  exit 77
}
for b in munged munge slurmctld slurmd sbatch sinfo; do
  command -v "$b" > /dev/null || skip "$b is not installed (scripts/setup-debian.sh installs slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" = 0 ] || skip "starting slurmctld and slurmd needs root (SlurmUser=root)"

tmp=$(mktemp -d /tmp/ess-slurm-test.XXXXXX)
chmod 755 "$tmp"
started_munged=
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
  if [ -n "$started_munged" ] && [ -f /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2> /dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/work/logs/*; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
  done
  exit 1
}

# munge: a key if there is none, and munged as the munge user unless one already answers.
if ! munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2> /dev/null
  fi
  chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
  chmod 0400 /etc/munge/munge.key
  chmod 0755 /run/munge
  runuser -u munge -- munged || fail "munged did not start"
  started_munged=1
  for _ in $(seq 50); do munge -n 2> /dev/null | unmunge > /dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge > /dev/null || fail "munged does not answer"
fi

# Ports from this process id, so that two runs on one machine do not meet.
port=$((20000 + ($$ % 10000) * 2))
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=esstest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" > "$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$tmp/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 120); do
  state=$(sinfo -h -o %T 2> /dev/null | head -n 1)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "the node did not become idle in 60 s (state '$state')"

printf '%s 10\n%s 20\n%s 30\n' "$data/gla_d4_L64.safetensors" "$data/softmax_attention_h2_L64.safetensors" \
  "$data/lti_ssm_n4_L64.safetensors" > "$tmp/run.txt"
options=(--splits 1:63:4 --tolerance 0.01)
job=$("$ess" sweep "$tmp/run.txt" "${options[@]}" --work "$tmp/work" --slurm --max-parallel 2 --time 5) ||
  fail "ess sweep --slurm failed"
[[ $job =~ ^[0-9]+$ ]] || fail "ess sweep --slurm printed '$job', not a job id"
echo "submitted job $job"
for _ in $(seq 240); do
  [ "$(ls "$tmp/work/shards/" 2> /dev/null | grep -c '\.csv$')" = 3 ] && break
  sleep 0.5
done
"$ess" sweep --collect --work "$tmp/work" -o "$tmp/collected.csv" || fail "collect failed"
"$ess" sweep "$tmp/run.txt" "${options[@]}" -o "$tmp/local.csv" || fail "the local sweep failed"
cmp "$tmp/collected.csv" "$tmp/local.csv" || fail "the cluster's table differs from the local one"
[ "$(wc -l < "$tmp/local.csv")" = $((1 + 16 + 2 * 16 + 16)) ] || fail "unexpected row count"
for t in 0 1 2; do
  [ -f "$tmp/work/logs/slurm-${job}_$t.out" ] || fail "no Slurm log for array task $t"
done
echo "PASS: job $job computed 3 shards; the collected table equals the local sweep"
