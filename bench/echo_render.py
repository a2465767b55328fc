#!/usr/bin/env python3
"""Renders the echo race (bench/echo_race.sh): the median per server of the
runs in an echo.jsonl file, as a Markdown table on stdout."""
import json
import math
import statistics
import sys

ORDER = ["pollwake_one_thread", "tokio_current_thread", "asio_one_thread", "asio_one_thread_unsafe",
         "asio_one_thread_nothreads", "pollwake_pool", "tokio_multi_thread", "asio_pool"]

runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in runs:
    by.setdefault(r["name"], []).append(r)
first = runs[0]
print(f"Echo over loopback: {first['connections']} connections x {first['round_trips']} round "
      f"trips of 64 bytes; median of {max(len(v) for v in by.values())} run(s).\n")
print("| server | round trips/s | p50 latency (us) | p99 latency (us) | server CPU per round trip (us) |")
print("|---|---:|---:|---:|---:|")
for name in ORDER + sorted(set(by) - set(ORDER)):
    if name not in by:
        continue
    v = by[name]
    med = lambda k: statistics.median(r[k] for r in v)
    cpu = med("server_cpu_us_per_round_trip") if all("server_cpu_us_per_round_trip" in r for r in v) else float("nan")
    print(f"| {name} | {med('round_trips_per_s'):,.0f} | {med('p50_us'):.1f} | {med('p99_us'):.1f} | {cpu:.2f} |")

# Paired by round: the k-th run of each server belongs to round k (every
# round runs every server once), so a ratio taken within a round sees the
# same load of the machine on both sides.
def sign_test(ahead, n):
    """Two-sided exact sign test: the chance of a split at least this uneven
    if each round were a fair coin toss."""
    k = min(ahead, n - ahead)
    p = 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(p, 1.0)


def paired(base, pools):
    rows = []
    for name in ORDER + sorted(set(by) - set(ORDER)):
        if name == base or name not in by or (name in POOLS) != (base in POOLS):
            continue
        n = min(len(by[base]), len(by[name]))
        if n < 2:
            continue
        rt = [by[base][i]["round_trips_per_s"] / by[name][i]["round_trips_per_s"] for i in range(n)]
        cpu = [by[base][i]["server_cpu_us_per_round_trip"] / by[name][i]["server_cpu_us_per_round_trip"]
               for i in range(n)
               if by[name][i].get("server_cpu_us_per_round_trip") and by[base][i].get("server_cpu_us_per_round_trip")]
        ahead = sum(r > 1 for r in rt)
        cpu_txt = (f"{statistics.median(cpu):.3f} (lower in {sum(c < 1 for c in cpu)} of {len(cpu)})"
                   if cpu else "n/a")
        rows.append(f"| {base} / {name} | {statistics.median(rt):.3f} ({min(rt):.2f} to {max(rt):.2f}) "
                    f"| {ahead} of {n} | {sign_test(ahead, n):.3f} | {cpu_txt} |")
    return rows


POOLS = {"pollwake_pool", "tokio_multi_thread", "asio_pool"}
rows = paired("pollwake_one_thread", POOLS) + paired("pollwake_pool", POOLS)
if rows:
    print("\nPaired by round (each round runs every server once; a ratio above 1 means pollwake was "
          "faster in that round; the sign test gives the chance of a split of rounds at least this "
          "uneven if neither server were faster):\n")
    print("| pollwake / peer | round trips/s, median ratio (min to max) | pollwake ahead in | "
          "sign test p | server CPU per round trip, median ratio (pollwake lower in) |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(r)
