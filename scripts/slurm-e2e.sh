#!/usr/bin/env bash
# End-to-end test of a sweep as a real Slurm job array, on this machine alone:
#   1. installs Debian's slurmctld, slurmd, slurm-client and munge if missing (needs root),
#   2. starts munged, slurmctld and slurmd in the foreground on one node, with a fresh state
#      directory (no systemd),
#   3. submits scripts/slurm-array.sbatch for a 4-shard sweep, requeues one task while it runs,
#   4. waits, merges the shards and checks the merged CSV is byte-identical to one plain run,
#   5. stops the daemons by PID and removes the state directory.
# Usage: scripts/slurm-e2e.sh [LAMBDASIM_BINARY]   (default: target/debug/lambdasim, built here)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { echo "slurm-e2e: $*"; }
fail() { echo "slurm-e2e: FAILED: $*" >&2; exit 1; }

binary=${1:-}
if [ -z "$binary" ]; then
  cargo build --locked --quiet
  binary="$repo/target/debug/lambdasim"
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
[ -x "$binary" ] || fail "no lambdasim binary at $binary"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "Slurm and munge are not installed and this is not root (apt-get needs root)"
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

state=$(mktemp -d /tmp/lambdasim-slurm.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$state"/{ctld,d,munge,log,work}
chmod 700 "$state/munge"

# munge: a fresh key and socket of our own, so nothing on the machine is touched.
dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge/munge.key"
munged --foreground --force --key-file="$state/munge/munge.key" \
  --socket="$state/munge/munge.socket" --pid-file="$state/munge/munged.pid" \
  --log-file="$state/log/munged.log" --seed-file="$state/munge/seed" 2>>"$state/log/munged.err" &
pids+=($!)

cat >"$state/slurm.conf" <<EOF
ClusterName=lambdasim-e2e
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket,cred_expire=5
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
# The main scheduling loop every second (default 60 s), so a requeued task starts as soon as its
# begin time passes.
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MinJobAge=300
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$state/slurm.conf"

# Wait until munge answers.
for _ in $(seq 50); do
  munge --socket="$state/munge/munge.socket" -n >/dev/null 2>&1 && break
  sleep 0.1
done
munge --socket="$state/munge/munge.socket" -n >/dev/null || fail "munged did not start ($(cat "$state/log/munged.log"))"

slurmctld -D -i -f "$SLURM_CONF" >>"$state/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$state/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 0.2
done
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' \
  || fail "the node did not come up: $(sinfo 2>&1; tail -5 "$state/log/slurmctld.log" "$state/log/slurmd.log")"
say "slurm up on $host ($cpus CPUs)"

# A sweep of 12,800 one-epoch ResNet50 jobs: four shards of 3,200 points, each committed in
# chunks of 1,024, about a second per shard on one core.
work="$state/work"
cat >"$work/e2e.toml" <<'EOF'
name = "slurm-e2e"
seed = 7
[base]
workload = "resnet50"
epochs = 1
[axes]
functions = { from = 8, to = 40, step = 8 }
memory = { from = 2432, to = 3008, step = 64 }
seed = { from = 1, to = 256 }
EOF
"$binary" sweep "$work/e2e.toml" --out "$work/single" --threads 1 -q >/dev/null

job=$(cd "$work" && LAMBDASIM="$binary" sbatch --parsable --array=0-3 --export=ALL \
  "$repo/scripts/slurm-array.sbatch" "$work/e2e.toml" "$work/shards")
job=${job%%;*}
say "submitted array job $job"

# Requeue one task while it runs, once it has committed a chunk: it restarts and resumes.
requeued=""
for _ in $(seq 600); do
  for running in $(squeue -h -j "$job" -t RUNNING -o %i 2>/dev/null); do
    progress="$work/shards/shard-${running##*_}/progress.json"
    if grep -qE '"points_done": [1-9]' "$progress" 2>/dev/null \
       && scontrol requeue "$running" 2>/dev/null; then
      requeued=$running
      break 2
    fi
  done
  sleep 0.05
done
[ -n "$requeued" ] || fail "no task of job $job was seen running with a committed chunk to requeue"
say "requeued $requeued while it ran"

for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$job")" ] || fail "job $job did not finish: $(squeue -j "$job")"
restarts=$(scontrol show job "$requeued" 2>/dev/null | grep -o 'Restarts=[0-9]*' | head -1 || true)
say "all tasks done ($requeued: ${restarts:-restart count unavailable})"

# The requeued task's second attempt ran only what the first had not committed.
log="$work/slurm-${job}_${requeued##*_}.out"
second=$(grep -o '([0-9]* this run)' "$log" | tail -1 | tr -dc 0-9)
[ -n "$second" ] && [ "$second" -lt 3200 ] \
  || fail "the requeued task did not resume (its log: $(cat "$log" 2>/dev/null))"
say "$requeued resumed: its second attempt ran $second of its 3200 points"
for i in 0 1 2 3; do
  status=$(grep -o '"status": "[a-z]*"' "$work/shards/shard-$i/manifest.json" || true)
  [ "$status" = '"status": "complete"' ] || fail "shard $i is not complete: $(cat "$work"/slurm-*_"$i".out 2>/dev/null)"
done
"$binary" merge --out "$work/merged.csv" "$work"/shards/shard-* >/dev/null
cmp "$work/merged.csv" "$work/single/points.csv" || fail "the merged CSV differs from the single run"
say "PASSED: 4 shards (one requeued mid-run) merged to the single run's $(($(wc -l <"$work/merged.csv") - 1)) rows, byte for byte"
