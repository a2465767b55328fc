#!/usr/bin/env python3
"""Renders the echo race (bench/echo_race.sh) as Markdown on stdout.

    echo_render.py ECHO_JSONL [ECHO_JSONL ...]

The first table is the median per server over every run in the files. Then,
where a server ran in two rounds or more, pollwake's servers are compared
with each peer of their kind round by round: each round runs every server
once, so a ratio taken within a round sees the same load of the machine on
both sides. Several files are pooled: a round is identified by its file and
its number (the "round" field that echo_race.sh writes; files without it are
taken in order, every round one run per server)."""
import json
import math
import statistics
import sys

ORDER = ["pollwake_one_thread", "tokio_current_thread", "asio_one_thread", "asio_one_thread_unsafe",
         "asio_one_thread_nothreads", "pollwake_pool", "tokio_multi_thread", "asio_pool"]
POOLS = {"pollwake_pool", "tokio_multi_thread", "asio_pool"}

# Student's t, the 0.975 quantile, by degrees of freedom (for a 95% interval
# around a mean); past 30, the normal 1.96 is within 2%.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def sign_test(above, below):
    """Two-sided exact sign test over the rounds that were not ties: the
    chance of a split at least this uneven if each round were a fair coin."""
    n = above + below
    if n == 0:
        return 1.0
    k = min(above, below)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def mean_interval(xs):
    """The mean and its 95% interval (Student's t)."""
    m = statistics.mean(xs)
    if len(xs) < 2:
        return m, float("nan"), float("nan")
    t = T975[len(xs) - 2] if len(xs) - 1 <= len(T975) else 1.96
    h = t * statistics.stdev(xs) / math.sqrt(len(xs))
    return m, m - h, m + h


def load(paths):
    """{name: {(file, round): run}} and the runs in file order."""
    by, runs = {}, []
    for f, path in enumerate(paths):
        seen = {}
        for line in open(path):
            if not line.strip():
                continue
            r = json.loads(line)
            runs.append(r)
            k = seen.get(r["name"], 0) + 1  # the k-th run of this server in this file
            seen[r["name"]] = k
            rnd = r.get("round", k)
            if (f, rnd) in by.setdefault(r["name"], {}):
                sys.exit(f"echo_render.py: {path}: {r['name']} twice in round {rnd}")
            by[r["name"]][(f, rnd)] = r
    return by, runs


def paired_rows(by, base):
    rows = []
    for name in ORDER + sorted(set(by) - set(ORDER)):
        if name == base or name not in by or base not in by or (name in POOLS) != (base in POOLS):
            continue
        rounds = sorted(set(by[base]) & set(by[name]))
        if len(rounds) < 2:
            continue
        rt = [by[base][k]["round_trips_per_s"] / by[name][k]["round_trips_per_s"] for k in rounds]
        cpu = [by[base][k]["server_cpu_us_per_round_trip"] / by[name][k]["server_cpu_us_per_round_trip"]
               for k in rounds
               if by[base][k].get("server_cpu_us_per_round_trip") and by[name][k].get("server_cpu_us_per_round_trip")]
        ahead, behind = sum(r > 1 for r in rt), sum(r < 1 for r in rt)
        mean, lo, hi = mean_interval(rt)
        ties = len(rt) - ahead - behind
        tie_txt = f", {ties} tied" if ties else ""
        if cpu:
            lower, higher = sum(c < 1 for c in cpu), sum(c > 1 for c in cpu)
            cpu_txt = (f"{statistics.median(cpu):.3f} (lower in {lower}, equal in {len(cpu) - lower - higher}"
                       f", higher in {higher})")
        else:
            cpu_txt = "n/a"
        rows.append(f"| {base} / {name} | {len(rt)} | {statistics.median(rt):.3f} ({min(rt):.2f} to {max(rt):.2f}) "
                    f"| {mean:.3f} ({lo:.3f} to {hi:.3f}) | {ahead} of {len(rt)}{tie_txt} "
                    f"| {sign_test(ahead, behind):.3f} | {cpu_txt} |")
    return rows


def main(paths):
    by, runs = load(paths)
    first = runs[0]
    print(f"Echo over loopback: {first['connections']} connections x {first['round_trips']} round "
          f"trips of 64 bytes; median of {max(len(v) for v in by.values())} run(s)"
          + (f" from {len(paths)} files" if len(paths) > 1 else "") + ".\n")
    print("| server | round trips/s | p50 latency (us) | p99 latency (us) | server CPU per round trip (us) |")
    print("|---|---:|---:|---:|---:|")
    for name in ORDER + sorted(set(by) - set(ORDER)):
        if name not in by:
            continue
        v = list(by[name].values())
        med = lambda k: statistics.median(r[k] for r in v)
        cpu = med("server_cpu_us_per_round_trip") if all("server_cpu_us_per_round_trip" in r for r in v) else float("nan")
        print(f"| {name} | {med('round_trips_per_s'):,.0f} | {med('p50_us'):.1f} | {med('p99_us'):.1f} | {cpu:.2f} |")

    rows = paired_rows(by, "pollwake_one_thread") + paired_rows(by, "pollwake_pool")
    if rows:
        print("\nPaired by round: a ratio is pollwake's round trips per second over the peer's in the "
              "same round, above 1 when pollwake was faster. The mean has its 95% interval (Student's t); "
              "the sign test gives the chance of a split of the untied rounds at least this uneven if "
              "neither server were faster. Server CPU is tick-sampled (10 ms), so some rounds tie.\n")
        print("| pollwake / peer | rounds | round trips/s ratio, median (min to max) | mean (95% interval) "
              "| pollwake ahead in | sign test p | server CPU per round trip, median ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(r)


def self_test():
    """The statistics against values worked out by hand; exits 1 on a mismatch."""
    cases = [
        (sign_test(5, 0), 0.0625),          # 5 of 5: 2 / 2^5
        (sign_test(5, 15), 0.041389),       # 5 of 20: 2 * sum C(20, 0..5) / 2^20
        (sign_test(10, 10), 1.0),
        (sign_test(0, 0), 1.0),             # every round tied: no evidence
        (mean_interval([1.0, 3.0])[1], 2.0 - 12.706),  # t(1) = 12.706, s = sqrt(2), n = 2
        (mean_interval([1.0, 1.0, 1.0])[2], 1.0),
    ]
    bad = [(got, want) for got, want in cases if abs(got - want) > 1e-5]
    for got, want in bad:
        print(f"echo_render.py: self-test: got {got}, want {want}", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    if len(sys.argv) < 2:
        sys.exit("usage: echo_render.py ECHO_JSONL [ECHO_JSONL ...] | --self-test")
    main(sys.argv[1:])
