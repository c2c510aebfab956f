#!/usr/bin/env bash
# Two threads against one, measured in pairs (README, "Performance"): the sweep benchmark
# (`configs/sweeps/bench-resnet50.toml`, 10,240 points, the default world), the same grid without
# variation and under `jitter = "pai"`, each run with `--threads 1` and `--threads 2` back to back,
# in alternating order, ROUNDS times. Each pair's ratio (1-thread time / 2-thread time) is taken
# within the pair, so the shared machine's slow drift in speed, which moves criterion's separate
# 1- and 2-thread measurements apart by several percent, cancels out of it; the median pair ratio
# is printed with the median times. Wall clock of the whole command, output written as usual.
#
# Usage: benches/scaling.sh [path/to/lambdasim] [ROUNDS]   (default: builds the release binary; 10)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-}
rounds=${2:-10}
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "scaling.sh: ROUNDS must be a whole number of pairs, at least 1; got '$rounds'" >&2
    exit 2
fi
if [ -z "$binary" ]; then
    cargo build --release --locked -q
    binary=target/release/lambdasim
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp configs/sweeps/bench-resnet50.toml "$work/default.toml"
for jitter in none pai; do
    sed "s/^checkpoint = true\$/checkpoint = true\njitter = \"$jitter\"/" \
        configs/sweeps/bench-resnet50.toml >"$work/$jitter.toml"
    grep -q "^jitter = \"$jitter\"\$" "$work/$jitter.toml" || {
        echo "scaling.sh: configs/sweeps/bench-resnet50.toml no longer has the line this script adds the jitter after" >&2
        exit 2
    }
done

# Seconds one sweep takes on $2 threads.
seconds() {
    local start end
    start=$(date +%s%N)
    "$binary" sweep "$1" --out "$work/out$2" --threads "$2" --force -q >/dev/null
    end=$(date +%s%N)
    echo "$(((end - start) / 1000))e-6"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for grid in default none pai; do
    : >"$work/pairs"
    for round in $(seq "$rounds"); do
        if [ $((round % 2)) = 1 ]; then
            one=$(seconds "$work/$grid.toml" 1)
            two=$(seconds "$work/$grid.toml" 2)
        else
            two=$(seconds "$work/$grid.toml" 2)
            one=$(seconds "$work/$grid.toml" 1)
        fi
        echo "$one $two" >>"$work/pairs"
    done
    one=$(awk '{ print $1 }' "$work/pairs" | median)
    two=$(awk '{ print $2 }' "$work/pairs" | median)
    ratio=$(awk '{ print $1 / $2 }' "$work/pairs" | median)
    range=$(awk '{ print $1 / $2 }' "$work/pairs" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }')
    printf '%-8s 1 thread %.3f s, 2 threads %.3f s (medians of %d pairs); 2 threads: %.3fx (median pair ratio; pairs %s)\n' \
        "$grid" "$one" "$two" "$rounds" "$ratio" "$range"
done
