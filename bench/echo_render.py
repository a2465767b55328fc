#!/usr/bin/env python3
"""Renders the echo race (bench/echo_race.sh) as Markdown on stdout.

    echo_render.py ECHO_JSONL [ECHO_JSONL ...]
    echo_render.py --self-test

The first table is the median per server over its runs in the files. Then,
where a server ran in two rounds or more, pollwake's servers are compared
with each peer of their kind round by round: each round runs every server
once, so a ratio taken within a round sees the same load of the machine on
both sides. Several files are pooled: a round is identified by its file and
its number (the "round" field that echo_race.sh writes; a file without it
must consist of whole rounds, one run of each of its servers per block of
lines, as echo_race.sh wrote them before). Files must differ, and every run
must have the same connections and round trips."""
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile

ORDER = ["pollwake_one_thread", "tokio_current_thread", "asio_one_thread", "asio_one_thread_unsafe",
         "asio_one_thread_nothreads", "pollwake_pool", "tokio_multi_thread", "asio_pool"]
POOLS = {"pollwake_pool", "tokio_multi_thread", "asio_pool"}


class BadInput(Exception):
    pass


def sign_test(above, below):
    """Two-sided exact sign test over the rounds that were not ties: the
    chance of a split at least this uneven if each round were a fair coin."""
    n = above + below
    if n == 0:
        return 1.0
    k = min(above, below)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def t_cdf(x, df):
    """Student's t distribution function at x >= 0 (Simpson's rule on the
    density from 0 to x; accurate to far better than the figures need)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    f = lambda t: c * (1 + t * t / df) ** (-(df + 1) / 2)
    n = 2000
    h = x / n
    s = f(0) + f(x) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n))
    return 0.5 + s * h / 3


def t975(df):
    """The 0.975 quantile of Student's t with df degrees of freedom."""
    lo, hi = 0.0, 15.0 if df > 1 else 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < 0.975 else (lo, mid)
    return (lo + hi) / 2


def mean_interval(xs):
    """The mean and its 95% interval (Student's t)."""
    m = statistics.mean(xs)
    if len(xs) < 2:
        return m, float("nan"), float("nan")
    h = t975(len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))
    return m, m - h, m + h


def load(paths):
    """{name: {(file, round): run}}; raises BadInput on files that cannot be
    paired honestly."""
    by, seen_files, settings = {}, {}, None
    for f, path in enumerate(paths):
        data = open(path, "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen_files:
            raise BadInput(f"{path} has the same runs as {seen_files[digest]}")
        seen_files[digest] = path
        runs = [json.loads(l) for l in data.decode().splitlines() if l.strip()]
        if not runs:
            raise BadInput(f"{path} has no runs")
        for r in runs:
            s = (r["connections"], r["round_trips"])
            if settings is None:
                settings = s
            elif s != settings:
                raise BadInput(f"{path}: {r['name']} ran {s[0]} x {s[1]}, other runs {settings[0]} x {settings[1]}")
        with_round = sum("round" in r for r in runs)
        if with_round not in (0, len(runs)):
            raise BadInput(f"{path}: some runs have a round and some do not")
        if with_round == 0:
            # Whole rounds, in order: each block of as many lines as there
            # are servers holds every server once.
            names = {r["name"] for r in runs}
            if len(runs) % len(names):
                raise BadInput(f"{path}: {len(runs)} runs are not whole rounds of {len(names)} servers")
            for b in range(0, len(runs), len(names)):
                block = [r["name"] for r in runs[b:b + len(names)]]
                if sorted(block) != sorted(names):
                    raise BadInput(f"{path}: round {b // len(names) + 1} is not one run of each server")
                for r in runs[b:b + len(names)]:
                    r["round"] = b // len(names) + 1
        for r in runs:
            key = (f, r["round"])
            if key in by.setdefault(r["name"], {}):
                raise BadInput(f"{path}: {r['name']} twice in round {r['round']}")
            by[r["name"]][key] = r
    return by, settings


def paired(by, base):
    """[(peer, {statistics})] for each peer of base's kind with 2+ shared rounds."""
    out = []
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
        out.append((name, dict(rounds=len(rt), median=statistics.median(rt), lo_ratio=min(rt), hi_ratio=max(rt),
                               mean=mean, lo=lo, hi=hi, ahead=ahead, behind=behind,
                               p=sign_test(ahead, behind), cpu=cpu)))
    return out


def render(paths):
    by, (connections, round_trips) = load(paths)
    print(f"Echo over loopback: {connections} connections x {round_trips} round trips of 64 bytes"
          + (f"; {len(paths)} files pooled" if len(paths) > 1 else "") + ".\n")
    print("| server | runs | round trips/s, median | p50 latency (us) | p99 latency (us) "
          "| server CPU per round trip (us) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ORDER + sorted(set(by) - set(ORDER)):
        if name not in by:
            continue
        v = list(by[name].values())
        med = lambda k: statistics.median(r[k] for r in v)
        cpu = med("server_cpu_us_per_round_trip") if all("server_cpu_us_per_round_trip" in r for r in v) else float("nan")
        print(f"| {name} | {len(v)} | {med('round_trips_per_s'):,.0f} | {med('p50_us'):.1f} | {med('p99_us'):.1f} "
              f"| {cpu:.2f} |")
    if len(paths) > 1:
        print("\nThe medians above mix runs made at different times; only the paired ratios below "
              "compare servers under the same load.")

    rows = [(b, n, s) for b in ("pollwake_one_thread", "pollwake_pool") for n, s in paired(by, b)]
    if not rows:
        return
    print("\nPaired by round: a ratio is pollwake's round trips per second over the peer's in the "
          "same round, above 1 when pollwake was faster. The mean has its 95% interval (Student's t); "
          "the sign test gives the chance of a split of the untied rounds at least this uneven if "
          "neither server were faster. Server CPU is tick-sampled (10 ms), so some rounds tie; for a "
          "server that is busy all the time it restates throughput rather than adding to it.\n")
    print("| pollwake / peer | rounds | round trips/s ratio, median (min to max) | mean (95% interval) "
          "| pollwake ahead in | sign test p | server CPU per round trip, median ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for base, name, s in rows:
        ties = s["rounds"] - s["ahead"] - s["behind"]
        cpu = s["cpu"]
        if cpu:
            lower, higher = sum(c < 1 for c in cpu), sum(c > 1 for c in cpu)
            cpu_txt = (f"{statistics.median(cpu):.3f} (lower in {lower}, equal in {len(cpu) - lower - higher}"
                       f", higher in {higher})")
        else:
            cpu_txt = "n/a"
        print(f"| {base} / {name} | {s['rounds']} | {s['median']:.3f} ({s['lo_ratio']:.2f} to {s['hi_ratio']:.2f}) "
              f"| {s['mean']:.3f} ({s['lo']:.3f} to {s['hi']:.3f}) "
              f"| {s['ahead']} of {s['rounds']}{f', {ties} tied' if ties else ''} "
              f"| {s['p']:.3f} | {cpu_txt} |")


def self_test():
    """The statistics against values worked out by hand, and the pairing on
    small made-up files; exits 1 on the first mismatch."""
    def check(got, want, what):
        if abs(got - want) > 1e-4:
            sys.exit(f"echo_render.py: self-test: {what}: got {got}, want {want}")

    check(sign_test(5, 0), 0.0625, "sign test 5 of 5")        # 2 / 2^5
    check(sign_test(5, 15), 0.041389, "sign test 5 of 20")    # 2 * sum C(20, 0..5) / 2^20
    check(sign_test(10, 10), 1.0, "sign test 10 of 20")
    check(sign_test(0, 0), 1.0, "sign test, all tied")
    check(t975(1), 12.7062, "t(1)")                           # Student's tables
    check(t975(19), 2.0930, "t(19)")
    check(t975(39), 2.0227, "t(39)")
    check(t975(120), 1.9799, "t(120)")
    check(mean_interval([1.0, 3.0])[1], 2.0 - 12.7062, "interval, n = 2")

    def run(name, rts, rnd=None):
        r = {"name": name, "connections": 2, "round_trips": 10, "round_trips_per_s": rts}
        if rnd is not None:
            r["round"] = rnd
        return json.dumps(r)

    with tempfile.TemporaryDirectory() as d:
        def write(name, lines):
            path = os.path.join(d, name)
            open(path, "w").write("\n".join(lines) + "\n")
            return path
        # Rounds given by field, lines out of order: pollwake 100 and 300
        # against tokio 200 and 150 (ratios 0.5 and 2).
        a = write("a", [run("tokio_current_thread", 150, 2), run("pollwake_one_thread", 100, 1),
                        run("pollwake_one_thread", 300, 2), run("tokio_current_thread", 200, 1)])
        # No round field: whole rounds by position, the second reversed.
        b = write("b", [run("pollwake_one_thread", 110), run("tokio_current_thread", 100),
                        run("tokio_current_thread", 100), run("pollwake_one_thread", 90)])
        by, _ = load([a, b])
        (name, s), = paired(by, "pollwake_one_thread")
        check(s["rounds"], 4, "pooled rounds")
        check(s["mean"], (0.5 + 2 + 1.1 + 0.9) / 4, "pooled mean ratio")
        check(s["ahead"], 2, "rounds ahead")
        for bad, why in [([a, a], "the same file twice"),
                         ([write("c", [run("pollwake_one_thread", 1), run("tokio_current_thread", 1),
                                       run("pollwake_one_thread", 1)])], "a round cut short"),
                         ([write("d", [run("pollwake_one_thread", 1), run("pollwake_one_thread", 1),
                                       run("tokio_current_thread", 1), run("tokio_current_thread", 1)])],
                          "a block that is not a round"),
                         ([write("e", [run("pollwake_one_thread", 1, 1), run("pollwake_one_thread", 2, 1)])],
                          "a server twice in a round"),
                         ([a, write("f", [run("pollwake_one_thread", 1, 1).replace('"connections": 2',
                                                                                   '"connections": 3')])],
                          "different connections")]:
            try:
                load(bad)
            except BadInput:
                continue
            sys.exit(f"echo_render.py: self-test: {why} was accepted")
    sys.exit(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    if len(sys.argv) < 2:
        sys.exit("usage: echo_render.py ECHO_JSONL [ECHO_JSONL ...] | --self-test")
    try:
        render(sys.argv[1:])
    except BadInput as e:
        sys.exit(f"echo_render.py: {e}")
