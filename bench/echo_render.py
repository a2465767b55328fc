#!/usr/bin/env python3
"""Renders the echo race (bench/echo_race.sh): the median per server of the
runs in an echo.jsonl file, as a Markdown table on stdout."""
import json
import statistics
import sys

ORDER = ["pollwake_one_thread", "tokio_current_thread", "asio_one_thread", "asio_one_thread_unsafe",
         "pollwake_pool", "tokio_multi_thread", "asio_pool"]

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
