"""A SimPy model of the job lambdasim simulates, for a side-by-side speed comparison.

The same BSP parameter-server training job as `lambdasim simulate --cpu fluid`: every function
cold-starts and imports its framework (single-threaded CPU work at its fluid CPU share), loads its
data shard from S3, then for each of the k iterations computes (its nominal work times a per-worker,
per-iteration log-normal factor, the framework's warm-up work in the first iterations, the last
iteration's partial batch), pushes its gradients over the parameter server's link (max-min fair
sharing of the PS bandwidth with each flow capped at the function's bandwidth), waits for every
push, and pulls the model back (all pulls start together). Latency before every push and pull,
aggregation at the PS's rate. No billing. Parameters are read from lambdasim's own workload and
platform files, and derived with the formulas in MODEL.md, written here independently.

Run by `benches/peer/run.sh`; `--jitter none` must reproduce lambdasim's training time to 1e-9.
"""

import argparse
import json
import math
import random
import sys
import time
import tomllib

import simpy


def load(root, workload, platform):
    with open(f"{root}/configs/workloads/{workload}.toml", "rb") as f:
        w = tomllib.load(f)
    with open(f"{root}/configs/platforms/{platform}.toml", "rb") as f:
        p = tomllib.load(f)
    return w, p


class Job:
    """The job's derived parameters (seconds, MB, MB/s)."""

    def __init__(self, w, p, functions, memory_mb, epochs):
        self.n = functions
        ref = w["reference_local_batch"]
        self.local_batch = ref if ref * functions <= w["max_global_batch"] else max(
            w["max_global_batch"] // functions, 1)
        global_batch = self.local_batch * functions
        exact = w["training_samples"] * epochs / global_batch
        self.k = int(round(exact)) if abs(exact - round(exact)) <= 1e-9 * max(exact, 1) else math.ceil(exact)
        self.k = max(self.k, 1)
        cpu = p["cpu"]
        share = min(memory_mb / cpu["mb_per_vcpu"], cpu["max_vcpus"])
        exposed = min(max(math.ceil(share - 1e-9), 1), cpu["max_vcpus"])
        self.fluid = lambda threads: min(share, max(min(threads, exposed), 1))
        self.threads = exposed
        rate_ref = w["alpha1_samples_per_s_per_mb"] * memory_mb + w["beta1_samples_per_s"]
        half = w.get("batch_half_saturation", ref / 4)
        util = lambda b: b / (b + half)
        rate = lambda b: rate_ref * util(b) / util(ref)
        self.compute_full_s = self.local_batch / rate(self.local_batch)
        remainder = w["training_samples"] * epochs - (self.k - 1) * global_batch
        last = min(max(remainder / functions, sys.float_info.min), self.local_batch)
        self.last_share = (last / rate(last)) * rate(self.local_batch) / self.local_batch
        net = p["network"]
        life = p["lifecycle"]
        self.latency_s = net["latency_ms"] / 1e3
        self.start_s = life["cold_start_s"] + w["init_cpu_s"] / self.fluid(1)
        s3 = min(net["s3_alpha2_mb_per_s_per_mb"] * min(memory_mb, net["s3_fit_knee_mb"])
                 + net["s3_beta2_mb_per_s"], net["s3_bandwidth_mb_per_s"])
        self.load_s = self.latency_s + w["dataset_mb"] / functions / s3
        self.model_mb = w["model_mb"]
        self.ps_mb_per_s = net["ps_bandwidth_mb_per_s"] * net["efficiency"]
        self.cap_mb_per_s = net["function_bandwidth_mb_per_s"] * net["efficiency"]
        aggregation = p["parameter_server"]["aggregation_mb_per_s"]
        self.aggregation_s = functions * self.model_mb / aggregation if aggregation > 0 else 0.0
        self.warmup = [w["warmup_cpu_s"] * 0.5 ** j for j in range(w["warmup_iterations"])]


class Link:
    """Flows share `capacity` max-min fairly, each at most `cap`: all active flows (same cap) run
    at min(cap, capacity / active). One pending wake-up at the soonest finish; a change of the
    flow set schedules a new one and the old one is ignored when it fires."""

    def __init__(self, env, capacity, cap):
        self.env, self.capacity, self.cap = env, capacity, cap
        self.flows = {}  # key -> [remaining MB, done event]
        self.updated = 0.0
        self.generation = 0
        self.next_key = 0

    def rate(self):
        return min(self.cap, self.capacity / len(self.flows)) if self.flows else 0.0

    def advance(self):
        elapsed = self.env.now - self.updated
        if elapsed > 0 and self.flows:
            moved = self.rate() * elapsed
            for flow in self.flows.values():
                flow[0] -= moved
        self.updated = self.env.now

    def transfer(self, mb):
        self.advance()
        done = self.env.event()
        self.flows[self.next_key] = [mb, done]
        self.next_key += 1
        self.rearm()
        return done

    def rearm(self):
        self.generation += 1
        if self.flows:
            soonest = min(f[0] for f in self.flows.values())
            wake = self.env.timeout(max(soonest, 0.0) / self.rate(), self.generation)
            wake.callbacks.append(self.woken)

    def woken(self, event):
        if event.value != self.generation:
            return
        self.advance()
        finished = [k for k, f in self.flows.items() if f[0] <= 1e-9]
        for k in finished:
            self.flows.pop(k)[1].succeed()
        self.rearm()


def replica(job, sigma, rng):
    env = simpy.Environment()
    push = Link(env, job.ps_mb_per_s, job.cap_mb_per_s)
    pull = Link(env, job.ps_mb_per_s, job.cap_mb_per_s)
    pulls_start = [env.event() for _ in range(job.k)]
    pushed = [0] * job.k

    def barrier(j):
        yield env.timeout(job.aggregation_s + job.latency_s)
        pulls_start[j].succeed()

    def worker():
        yield env.timeout(job.start_s)
        yield env.timeout(job.load_s)
        rate = job.fluid(job.threads)
        for j in range(job.k):
            factor = 1.0 if sigma == 0 else math.exp(rng.gauss(-sigma * sigma / 2, sigma))
            share = job.last_share if j == job.k - 1 else 1.0
            warm = job.warmup[j] if j < len(job.warmup) else 0.0
            work = job.compute_full_s * rate * factor * share + warm
            yield env.timeout(work / rate + job.latency_s)
            yield push.transfer(job.model_mb)
            pushed[j] += 1
            if pushed[j] == job.n:
                env.process(barrier(j))
            yield pulls_start[j]
            yield pull.transfer(job.model_mb)

    for _ in range(job.n):
        env.process(worker())
    env.run()
    return env.now


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--workload", default="resnet50")
    parser.add_argument("--platform", default="aws-2020")
    parser.add_argument("--functions", type=int, default=8)
    parser.add_argument("--memory", type=int, default=3008)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--cv", type=float, default=0.0, help="log-normal CoV (0: no variation)")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    w, p = load(args.root, args.workload, args.platform)
    job = Job(w, p, args.functions, args.memory, args.epochs)
    sigma = math.sqrt(math.log(1 + args.cv ** 2)) if args.cv > 0 else 0.0
    rng = random.Random(args.seed)
    started = time.perf_counter()
    times = [replica(job, sigma, rng) for _ in range(args.replicas)]
    wall = time.perf_counter() - started
    json.dump({
        "time_s": times[0],
        "time_mean_s": sum(times) / len(times),
        "replicas": args.replicas,
        "worker_iterations": args.replicas * job.n * job.k,
        "wall_s": wall,
        "worker_iterations_per_s": args.replicas * job.n * job.k / wall,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
