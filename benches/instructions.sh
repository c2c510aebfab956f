#!/usr/bin/env bash
# Instruction counts, the speed metric that does not vary with the machine's load (README,
# "Performance"): callgrind counts every instruction a run executes, repeatable to the instruction
# for a given binary, where wall-clock times on a shared machine vary by 10% or more.
#
#   per sweep point: `sweep configs/sweeps/bench-resnet50.toml` cut to one seed (640 points:
#                    ResNet50, 1 epoch, n 1..64 x 10 memories, the default world), 1 thread;
#                    and the same 640 points under `jitter = "pai"`;
#   per job:         `simulate -w resnet50 -n 8 -m 3008` with 1,001 replicas less 1 replica, per
#                    replica (49 iterations x 8 workers = 392 worker-iterations).
#
# Usage: benches/instructions.sh [path/to/lambdasim]   (default: builds and uses the release binary)
# Needs valgrind (installed with apt-get when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq valgrind >/dev/null
    else
        echo "instructions.sh: needs valgrind (e.g. apt-get install valgrind)" >&2
        exit 2
    fi
fi

binary=${1:-}
if [ -z "$binary" ]; then
    cargo build --release --locked -q
    binary=target/release/lambdasim
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Instructions executed by the command given (callgrind's "I refs" total).
count() {
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$@" 2>&1 >/dev/null |
        sed -n 's/.*I *refs: *//p' | tr -d ,
}

sed 's/^seed = { from = 1, to = 16 }$/seed = { from = 1, to = 1 }/' \
    configs/sweeps/bench-resnet50.toml >"$work/sweep.toml"
grep -q '^seed = { from = 1, to = 1 }$' "$work/sweep.toml" || {
    echo "instructions.sh: configs/sweeps/bench-resnet50.toml no longer has the seed axis this script cuts" >&2
    exit 2
}
sweep=$(count "$binary" sweep "$work/sweep.toml" --out "$work/out" --threads 1 --force -q)
points=$(($(wc -l <"$work/out/points.csv") - 1))
sed 's/^checkpoint = true$/checkpoint = true\njitter = "pai"/' "$work/sweep.toml" >"$work/pai.toml"
grep -q '^jitter = "pai"$' "$work/pai.toml" || {
    echo "instructions.sh: configs/sweeps/bench-resnet50.toml no longer has the line this script adds the jitter after" >&2
    exit 2
}
pai=$(count "$binary" sweep "$work/pai.toml" --out "$work/pai" --threads 1 --force -q)

many=$(count "$binary" simulate -w resnet50 -n 8 -m 3008 --replicas 1001 --threads 1)
one=$(count "$binary" simulate -w resnet50 -n 8 -m 3008 --replicas 1 --threads 1)
per_job=$(((many - one) / 1000))

echo "sweep bench-resnet50, one seed: $points points, $sweep instructions, $((sweep / points)) per point"
echo "the same under pai: $pai instructions, $((pai / points)) per point"
echo "simulate resnet50 8 x 3008 MB, 1 epoch: $per_job instructions per job, $((per_job / 392)) per worker-iteration"
