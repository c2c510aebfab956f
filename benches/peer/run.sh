#!/usr/bin/env bash
# The peer benchmark: lambdasim against a SimPy model of the same BSP parameter-server job
# (benches/peer/peer_model.py), on the same configurations, in one run.
#
#   benches/peer/run.sh            # ResNet50 1 epoch at 3008 MB, 8 and 32 functions
#   REPLICAS=20000 PEER_REPLICAS=50 benches/peer/run.sh
#
# 1. Equivalence: without variation both must give the same training time to 1e-9 relative
#    (checked; the script fails otherwise), so the comparison is of the same work.
# 2. Speed: with log-normal variation (CoV 0.1) both simulate replicas on one core; the script
#    prints worker-iterations per second for each and the ratio, and both mean training times
#    (they agree within sampling error).
#
# Python and SimPy are installed here, in a virtual environment (target/peer-venv; override with
# PEER_VENV); on Debian without python3's venv module the script installs python3-venv when run as
# root. LAMBDASIM=path uses that binary instead of building the release one (CI uses its debug build
# for the equivalence check; its speed figures then mean nothing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${PEER_VENV:-$root/target/peer-venv}
replicas=${REPLICAS:-20000}
peer_replicas=${PEER_REPLICAS:-50}

if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
        python3 -m venv "$venv"
    fi
fi
"$venv/bin/python" -c 'import simpy' 2>/dev/null || "$venv/bin/pip" install --quiet 'simpy==4.1.2'
python=$venv/bin/python

if [ -n "${LAMBDASIM:-}" ]; then
    lambdasim=$(cd "$(dirname "$LAMBDASIM")" && pwd)/$(basename "$LAMBDASIM")
else
    (cd "$root" && cargo build --release --quiet)
    lambdasim=$root/target/release/lambdasim
fi

json_field() { "$python" -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
now() { "$python" -c 'import time; print(time.perf_counter())'; }

printf '%-24s %16s %16s %9s %14s %14s\n' configuration lambdasim_wit_s simpy_wit_s ratio lambdasim_mean simpy_mean
for functions in 8 32; do
    common=(-w resnet50 -n "$functions" -m 3008 -e 1 --cpu fluid -q -f json)
    peer=(--root "$root" --workload resnet50 --functions "$functions" --memory 3008 --epochs 1)
    # 1. The same training time without variation.
    ours=$("$lambdasim" simulate "${common[@]}" --jitter none | json_field '["time_s"]')
    theirs=$("$python" "$root/benches/peer/peer_model.py" "${peer[@]}" | json_field '["time_s"]')
    "$python" - "$ours" "$theirs" "$functions" <<'EOF'
import sys
ours, theirs, n = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
error = abs(ours - theirs) / ours
if error > 1e-9:
    sys.exit(f"peer: {n} functions without variation: lambdasim {ours} s, SimPy {theirs} s, relative difference {error:.3e} > 1e-9")
print(f"# {n} functions, no variation: lambdasim {ours:.9f} s, SimPy {theirs:.9f} s, relative difference {error:.1e} (<= 1e-9: same job)", file=sys.stderr)
EOF
    # 2. Speed with variation, one core each.
    k=$("$lambdasim" simulate "${common[@]}" --jitter none | json_field '["iterations"]')
    start=$(now)
    mean=$("$lambdasim" simulate "${common[@]}" --jitter 'lognormal{cv=0.1}' --replicas "$replicas" --threads 1 | json_field '["time_s"]["mean"]')
    end=$(now)
    peer_out=$("$python" "$root/benches/peer/peer_model.py" "${peer[@]}" --cv 0.1 --replicas "$peer_replicas")
    "$python" - "$start" "$end" "$replicas" "$functions" "$k" "$mean" "$peer_out" <<'EOF'
import json, sys
start, end, replicas, n, k, mean = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
peer = json.loads(sys.argv[7])
ours = replicas * n * k / (end - start)
theirs = peer["worker_iterations_per_s"]
print(f"{f'resnet50 {n}x3008 1 epoch':<24} {ours:16.0f} {theirs:16.0f} {ours / theirs:8.0f}x {mean:14.3f} {peer['time_mean_s']:14.3f}")
EOF
done
