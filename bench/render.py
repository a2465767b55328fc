#!/usr/bin/env python3
"""bench/render.py: turns the JSON that bench/run.sh collected into
docs/benchmarks/results.md and docs/benchmarks/*.png.

What it reads: every *.json in --results, named <binary>.<round>.json.
pollwake's files are Google Benchmark JSON; the peers' files have the same
outer shape with one entry per (workload, peer) carrying `ns_per_op` and
`cpu_ns_per_op`. Each figure reported is the median over the rounds (5,
interleaved across binaries by run.sh; 1 with --smoke). A Google Benchmark
file holding a median aggregate is also understood.

What it writes:
  results.md        the workload table (pollwake beside every peer), the
                    ratios pollwake/peer, the targets met or missed, and
                    the wake-strategy tables
  summary.json      {implementation: {workload: ns_per_op}}
  summary.tsv       the same, one `implementation<TAB>workload<TAB>ns` a line
                    (read by tests/bench/bench_smoke_test.cc)
  *.png             workloads.png, ratios.png, wakers.png, park.png, pools.png
                    (skipped with --no-plots)

  render.py --results DIR --docs DIR [--smoke] [--no-plots]
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys

# The workloads of bench/WORKLOADS.md, in its order.
WORKLOADS = [
    "waker_clone_drop",
    "waker_wake_by_ref_arc",
    "waker_wake_by_ref_static",
    "waker_fn_wake",
    "block_on_ready",
    "block_on_yield",
    "localpool_spawn_run",
    "localpool_yield_pingpong",
    "threadpool_spawn",
    "cross_thread_wake",
]

# The peers, in column order, and what each one is.
PEERS = [
    ("futures", "Rust futures 0.3.21 (ArcWake, executor, oneshot)"),
    ("tokio", "Rust tokio 1.24.2 (current_thread + LocalSet; multi_thread, 2 workers)"),
    ("std", "Rust std 1.63 (std::task::Wake; waker_fn as the waker-fn crate builds it)"),
    ("asio", "Boost.Asio 1.74 (io_context; thread_pool of 2)"),
    ("atomic", "bare C++20 std::atomic wait/notify ping-pong (libstdc++ 12)"),
    ("futex", "bare ping-pong on direct futex calls (what Rust's thread::park does)"),
]

# The targets: pollwake <= factor x the best peer measured in the same
# run; and the figures the targets were set from (futures 0.3, best peer;
# another run) for reference.
TARGETS = {
    "waker_clone_drop": (1.0, "14.1", "14.1 (std Wake)"),
    "waker_wake_by_ref_static": (1.0, "1.13", "1.13"),
    "block_on_ready": (1.0, "1.17", "1.17"),
    "block_on_yield": (0.8, "16.5", "16.5"),
    "localpool_spawn_run": (0.8, "98.6", "29.6 (Asio io_context)"),
    "localpool_yield_pingpong": (0.8, "73.8", "27.4 (Asio)"),
    "threadpool_spawn": (0.6, "611", "415 (Asio thread_pool)"),
    "cross_thread_wake": (0.8, "1903", "1776 (C++ atomic wait/notify)"),
}


def parse_name(full):
    """'BM_block_on_yield/futex/threaded' -> ('block_on_yield', ('futex',), True).
    Numeric arguments (the round size), 'real_time' and 'repeats:' parts are
    dropped; 'key:value' parts are kept as they are."""
    parts = full.split("/")
    base = parts[0][3:] if parts[0].startswith("BM_") else parts[0]
    threaded = False
    variant = []
    for p in parts[1:]:
        if p == "threaded":
            threaded = True
        elif p == "real_time" or p.isdigit() or p.startswith("repeats:"):
            continue
        else:
            variant.append(p)
    return base, tuple(variant), threaded


def load(results_dir):
    """Returns {(impl, base, variant): {"ns": float, "cpu": float|None}} and
    the contexts of every file."""
    rows = {}
    contexts = {}
    gathered = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            doc = json.load(f)
        contexts[name] = doc.get("context", {})
        for b in doc.get("benchmarks", []):
            if "peer" in b:  # a peer's row (one per round)
                base, variant, _ = parse_name(b["name"])
                gathered.setdefault((b["peer"], base, variant), []).append(
                    (float(b["ns_per_op"]), float(b.get("cpu_ns_per_op", "nan"))))
                continue
            if "ns_per_op" not in b or b.get("error_occurred"):
                continue
            run_type = b.get("run_type", "iteration")
            if run_type == "aggregate" and b.get("aggregate_name") != "median":
                continue
            base, variant, threaded = parse_name(b.get("run_name", b["name"]))
            impl = "pollwake (threaded)" if threaded else "pollwake"
            key = (impl, base, variant)
            gathered.setdefault(key, []).append(
                (float(b["ns_per_op"]), float(b.get("cpu_ns_per_op", "nan"))))
    for key, vals in gathered.items():
        rows[key] = {
            "ns": statistics.median(v[0] for v in vals),
            "cpu": statistics.median(v[1] for v in vals),
        }
    return rows, contexts


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def get(rows, impl, base, variant=()):
    r = rows.get((impl, base, variant))
    return None if r is None else r["ns"]


def best_peer(rows, base):
    best = None
    for peer, _ in PEERS:
        v = get(rows, peer, base)
        if v is not None and (best is None or v < best[1]):
            best = (peer, v)
    return best


def summary(rows):
    out = {}
    for (impl, base, variant), r in rows.items():
        if variant == ():
            out.setdefault(impl, {})[base] = r["ns"]
    return out


def write_markdown(rows, contexts, path, smoke):
    impls = ["pollwake", "pollwake (threaded)"] + [p for p, _ in PEERS]
    L = []
    L.append("# Benchmark results")
    L.append("")
    L.append("Generated by `bash bench/run.sh`"
             + (" --smoke (tiny iteration counts: these figures are NOT measurements)" if smoke else "")
             + "; do not edit by hand. How to read it: docs/05_benchmarks.md.")
    L.append("")
    L.append("Every figure is `ns_per_op`: wall-clock nanoseconds per operation as bench/WORKLOADS.md "
             "defines it, the median of 5 repetitions. Single-thread rows ran in processes that had "
             "started no thread; `pollwake (threaded)` is the same benchmark after the process "
             "started (and joined) one thread.")
    L.append("")
    L.append("| implementation | what |")
    L.append("|---|---|")
    L.append("| pollwake | this repository, `bench/*.cc`, `--config=opt` (g++ -O2) |")
    for p, what in PEERS:
        L.append(f"| {p} | {what} |")
    L.append("")
    L.append("## Workloads (ns per operation)")
    L.append("")
    L.append("| workload | " + " | ".join(impls) + " |")
    L.append("|---|" + "---:|" * len(impls))
    for w in WORKLOADS:
        L.append(f"| {w} | " + " | ".join(fmt(get(rows, i, w)) for i in impls) + " |")
    L.append("")
    L.append("The same, in CPU nanoseconds per operation (CPU time of every thread of the process; "
             "on a loaded machine wall-clock time also counts waiting for a CPU):")
    L.append("")
    L.append("| workload | " + " | ".join(impls) + " |")
    L.append("|---|" + "---:|" * len(impls))
    for w in WORKLOADS:
        cells = []
        for i in impls:
            r = rows.get((i, w, ()))
            cells.append(fmt(None if r is None else r["cpu"]))
        L.append(f"| {w} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Ratios pollwake / peer (below 1: pollwake is faster)")
    L.append("")
    peers = [p for p, _ in PEERS]
    L.append("| workload | " + " | ".join(peers) + " |")
    L.append("|---|" + "---:|" * len(peers))
    for w in WORKLOADS:
        pw = get(rows, "pollwake", w)
        cells = []
        for p in peers:
            v = get(rows, p, w)
            cells.append("—" if pw is None or v is None or v == 0 else f"{pw / v:.2f}")
        L.append(f"| {w} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("Target: pollwake at most `factor` × the best peer measured in this run. The figures the "
             "targets were set from (another run, same kind of machine) are shown for reference. The last two columns "
             "judge the same target on CPU time (for single-thread workloads, wall-clock time minus the "
             "time the process was runnable but another process held the CPU).")
    L.append("")
    L.append("| workload | reference: futures | reference: best peer | best peer here | pollwake | ratio | target | met? | ratio on CPU time | met on CPU time? |")
    L.append("|---|---:|---|---|---:|---:|---:|---|---:|---|")
    for w in WORKLOADS:
        if w not in TARGETS:
            continue
        factor, fut, best_txt = TARGETS[w]
        pw = get(rows, "pollwake", w)
        best = best_peer(rows, w)
        if pw is None or best is None:
            L.append(f"| {w} | {fut} | {best_txt} | — | {fmt(pw)} | — | ≤ {factor:.1f}× | — | — | — |")
            continue
        ratio = pw / best[1]
        met = "met" if ratio <= factor else f"missed by {(ratio / factor - 1) * 100:.0f}%"
        pw_cpu = rows[("pollwake", w, ())]["cpu"]
        best_cpu = rows[(best[0], w, ())]["cpu"]
        # On CPU time, the best peer may be another one.
        cpu_best = min((rows[(p, w, ())]["cpu"], p) for p, _ in PEERS
                       if (p, w, ()) in rows and rows[(p, w, ())]["cpu"] > 0)
        if pw_cpu > 0:
            r = pw_cpu / cpu_best[0]
            cpu_ratio = f"{r:.2f} (vs {cpu_best[1]})"
            cpu_met = "met" if r <= factor else f"missed by {(r / factor - 1) * 100:.0f}%"
        else:
            cpu_ratio, cpu_met = "—", "—"
        L.append(f"| {w} | {fut} | {best_txt} | {fmt(best[1])} ({best[0]}) | {fmt(pw)} | "
                 f"{ratio:.2f} | ≤ {factor:.1f}× | {met} | {cpu_ratio} | {cpu_met} |")
    L.append("")
    # Strategies.
    L.append("## Wake strategies (pollwake only)")
    L.append("")
    kinds = ["kind:0", "kind:1", "kind:2", "kind:3"]
    kind_names = ["Arc (waker_from)", "static vtable", "waker_fn", "noop"]
    ops = [("waker_clone_drop_by_kind", "clone + drop"),
           ("waker_wake_by_ref_by_kind", "wake_by_ref"),
           ("waker_wake_consume", "clone + wake (consumes)"),
           ("waker_wake_by_ref_then_drop", "clone + wake_by_ref + drop"),
           ("waker_make_drop", "make + drop")]
    L.append("| waker | " + " | ".join(o[1] for o in ops) + " |")
    L.append("|---|" + "---:|" * len(ops))
    for k, kn in zip(kinds, kind_names):
        L.append(f"| {kn} | " + " | ".join(fmt(get(rows, 'pollwake', o[0], (k,))) for o in ops) + " |")
    L.append("")
    L.append("How block_on parks (ns per operation; `default` is `block_on`, i.e. "
             "`DefaultPark`):")
    L.append("")
    strategies = [((), "default"), (("condvar",), "condvar"), (("futex",), "futex"),
                  (("spin_then_park",), "spin_then_park")]
    L.append("| workload | " + " | ".join(s[1] for s in strategies) + " |")
    L.append("|---|" + "---:|" * len(strategies))
    for w in ["block_on_ready", "block_on_yield", "cross_thread_wake"]:
        L.append(f"| {w} | " + " | ".join(fmt(get(rows, 'pollwake', w, s[0])) for s in strategies) + " |")
    for w in ["block_on_ready", "block_on_yield"]:
        L.append(f"| {w} (threaded) | "
                 + " | ".join(fmt(get(rows, 'pollwake (threaded)', w, s[0])) for s in strategies) + " |")
    L.append("")
    L.append("LocalPool beside ThreadPool on the same work (ns per task or per yield; all in a "
             "process that has started threads):")
    L.append("")
    pools = [(("local_pool",), "LocalPool"), (("thread_pool", "workers:1"), "ThreadPool, 1 worker"),
             (("thread_pool", "workers:2"), "ThreadPool, 2 workers")]
    L.append("| work | " + " | ".join(p[1] for p in pools) + " |")
    L.append("|---|" + "---:|" * len(pools))
    for work in ["spawn_run", "yield_pingpong"]:
        L.append(f"| {work} | "
                 + " | ".join(fmt(get(rows, 'pollwake', 'pool_compare', (work,) + p[0])) for p in pools)
                 + " |")
    L.append("")
    extra = sorted({(b, v) for (i, b, v) in rows if i == "pollwake" and b.startswith("future_kind")})
    if extra:
        L.append("Future kinds (hand-written state machine, coroutine, eager task):")
        L.append("")
        L.append("| benchmark | ns per op |")
        L.append("|---|---:|")
        for b, v in extra:
            L.append(f"| {'/'.join((b,) + v)} | {fmt(get(rows, 'pollwake', b, v))} |")
        L.append("")
    L.append("## Where the figures came from")
    L.append("")
    by_binary = {}
    for name, ctx in sorted(contexts.items()):
        by_binary.setdefault(name.split(".")[0], []).append(ctx)
    for binary, ctxs in sorted(by_binary.items()):
        ctx = dict(ctxs[0])
        if "executable" in ctx:
            ctx["executable"] = os.path.basename(ctx["executable"])
        keep = {k: ctx[k] for k in ("executable", "host_name", "num_cpus", "date",
                                     "pollwake_process", "libc_single_threaded", "threads_at_end",
                                     "group") if k in ctx}
        loads = [c["load_avg"][0] for c in ctxs if c.get("load_avg")]
        line = f"- `{binary}` ({len(ctxs)} rounds): " + ", ".join(f"{k}={v}" for k, v in keep.items())
        if loads:
            line += ", 1-minute load average at each round's start: " + ", ".join(f"{x:.1f}" for x in loads)
        L.append(line)
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def plots(rows, docs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"pollwake": "#1f77b4", "pollwake (threaded)": "#9ecae1", "futures": "#d62728",
              "tokio": "#ff7f0e", "std": "#8c564b", "asio": "#2ca02c", "atomic": "#7f7f7f",
              "futex": "#bcbd22"}
    impls = ["pollwake", "pollwake (threaded)"] + [p for p, _ in PEERS]

    # 1. workloads.png: every workload, every implementation (log scale).
    fig, ax = plt.subplots(figsize=(11, 8))
    h = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        ys, xs = [], []
        for i, w in enumerate(WORKLOADS):
            v = get(rows, impl, w)
            if v is not None and v > 0:
                ys.append(i + (j - len(impls) / 2 + 0.5) * h)
                xs.append(v)
        ax.barh(ys, xs, height=h, label=impl, color=colors[impl])
    ax.set_yticks(range(len(WORKLOADS)))
    ax.set_yticklabels(WORKLOADS)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per operation (wall clock, median of 5; log scale; shorter is faster)")
    ax.set_title("The benchmark workloads: pollwake beside its peers")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "workloads.png"), dpi=110)
    plt.close(fig)

    # 2. ratios.png: pollwake / best peer, with the target of each workload.
    names, ratios, targets, labels = [], [], [], []
    for w in WORKLOADS:
        pw = get(rows, "pollwake", w)
        best = best_peer(rows, w)
        if pw is None or best is None:
            continue
        names.append(w)
        ratios.append(pw / best[1])
        targets.append(TARGETS.get(w, (None,))[0])
        labels.append(best[0])
    fig, ax = plt.subplots(figsize=(10, 6))
    bar_colors = ["#9e9e9e" if t is None else "#2ca02c" if r <= t else "#d62728"
                  for r, t in zip(ratios, targets)]
    ax.barh(range(len(names)), ratios, color=bar_colors)
    for i, (t, r, lab) in enumerate(zip(targets, ratios, labels)):
        if t is not None:
            ax.plot([t, t], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(r, i, f" {r:.2f} vs {lab}", va="center", fontsize=9)
    ax.axvline(1.0, color="gray", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlabel("pollwake / best peer (below 1: pollwake faster); black tick = target")
    ax.set_title("pollwake / best peer, wall clock (green: target met, red: missed, gray: no target)")
    ax.set_xlim(0, max(ratios + [1.0]) * 1.35 if ratios else 2)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "ratios.png"), dpi=110)
    plt.close(fig)

    # 3. wakers.png: kinds of waker x operations.
    kinds = ["kind:0", "kind:1", "kind:2", "kind:3"]
    kind_names = ["Arc (waker_from)", "static vtable", "waker_fn", "noop"]
    ops = [("waker_clone_drop_by_kind", "clone + drop"), ("waker_wake_by_ref_by_kind", "wake_by_ref"),
           ("waker_wake_consume", "clone + wake"), ("waker_wake_by_ref_then_drop",
                                                    "clone + wake_by_ref + drop")]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    w_ = 0.8 / len(kinds)
    for j, (k, kn) in enumerate(zip(kinds, kind_names)):
        vals = [get(rows, "pollwake", o[0], (k,)) or 0 for o in ops]
        ax.bar([i + (j - 1.5) * w_ for i in range(len(ops))], vals, width=w_, label=kn)
    ax.set_xticks(range(len(ops)))
    ax.set_xticklabels([o[1] for o in ops])
    ax.set_ylabel("ns per operation (wall clock)")
    ax.set_title("What a waker costs, by kind (single-thread process)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "wakers.png"), dpi=110)
    plt.close(fig)

    # 4. park.png: park strategies on one thread and across threads.
    strategies = [((), "default"), (("condvar",), "condvar"), (("futex",), "futex"),
                  (("spin_then_park",), "spin_then_park")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, ws, title in [(axes[0], ["block_on_ready", "block_on_yield"], "one thread"),
                          (axes[1], ["cross_thread_wake"], "two threads pinned to one CPU")]:
        w_ = 0.8 / len(strategies)
        for j, (s, sn) in enumerate(strategies):
            vals = [get(rows, "pollwake", w, s) or 0 for w in ws]
            ax.bar([i + (j - 1.5) * w_ for i in range(len(ws))], vals, width=w_, label=sn)
        for peer, mark in [("futures", "v"), ("tokio", "^"), ("atomic", "s"), ("futex", "D")]:
            pts = [(i, get(rows, peer, w)) for i, w in enumerate(ws) if get(rows, peer, w)]
            if pts:
                ax.scatter([p[0] + 0.45 for p in pts], [p[1] for p in pts], marker=mark,
                           color="black", label=peer, zorder=3)
        ax.set_xticks(range(len(ws)))
        ax.set_xticklabels(ws)
        ax.set_yscale("log")
        ax.set_ylabel("ns per operation (wall clock, log scale)")
        ax.set_title(f"How block_on parks: {title}")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "park.png"), dpi=110)
    plt.close(fig)

    # 5. pools.png: LocalPool vs ThreadPool on the same work.
    pools = [(("local_pool",), "LocalPool"), (("thread_pool", "workers:1"), "ThreadPool 1 worker"),
             (("thread_pool", "workers:2"), "ThreadPool 2 workers")]
    works = ["spawn_run", "yield_pingpong"]
    fig, ax = plt.subplots(figsize=(9, 5))
    w_ = 0.8 / len(pools)
    for j, (p, pn) in enumerate(pools):
        vals = [get(rows, "pollwake", "pool_compare", (wk,) + p) or 0 for wk in works]
        ax.bar([i + (j - 1) * w_ for i in range(len(works))], vals, width=w_, label=pn)
    ax.set_xticks(range(len(works)))
    ax.set_xticklabels(["spawn + run (per task)", "yield ping-pong (per yield)"])
    ax.set_ylabel("ns per operation (wall clock)")
    ax.set_title("LocalPool beside ThreadPool on the same work")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "pools.png"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    rows, contexts = load(args.results)
    if not rows:
        print("render.py: no results in " + args.results, file=sys.stderr)
        return 1
    write_markdown(rows, contexts, os.path.join(args.docs, "results.md"), args.smoke)
    s = summary(rows)
    with open(os.path.join(args.docs, "summary.json"), "w") as f:
        json.dump(s, f, indent=1, sort_keys=True)
    with open(os.path.join(args.docs, "summary.tsv"), "w") as f:
        for impl in sorted(s):
            for w in sorted(s[impl]):
                f.write(f"{impl}\t{w}\t{s[impl][w]:.6g}\n")
    if not args.no_plots:
        plots(rows, args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
