#!/usr/bin/env python3
"""bench/render.py: turns the JSON that bench/run.sh collected into
docs/benchmarks/results.md and docs/benchmarks/*.png.

What it reads: every *.json in --results, named <suite>.<round>.json, and
versions.txt / order.txt (what was built with what; the order of each round);
and, if present, --results/ffi/*.json: the FFI benchmarks (bench/ffi_bench.cc
as pollwake.<round>.json, the async-ffi crate's twin bench/peers/ffi_rust as
async_ffi.<round>.json), run in the same interleaved way.
pollwake's files are Google Benchmark JSON; the peers' files have the same
outer shape with one entry per (workload, peer) carrying `ns_per_op`,
`cpu_ns_per_op` and `allocs_per_op`.

How it compares: the rounds were interleaved (every suite once per round,
in a shuffled order), so pollwake's figure and a peer's figure from the same
round saw the same load. Each comparison is the list of per-round ratios
pollwake / peer; the tables give their median and min-max. A ratio whose
min-max range contains 1.0 is a tie: the difference is within the spread.
A target is met when the median ratio is at or below it.

What it writes:
  results.md        implementations and their configuration, the workload
                    table (median ns per operation), paired ratios with their
                    spread, the targets, the floors, allocations per
                    operation, and pollwake's strategy tables
  summary.json      {implementation: {workload: ns_per_op}}
  summary.tsv       the same, one `implementation<TAB>workload<TAB>ns` a line
                    (read by tests/bench/bench_smoke_test.cc)
  *.png             workloads.png, ratios.png, wakers.png, park.png, pools.png,
                    variants.png, ffi.png (when there are FFI results)
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

# The workloads, in the order of their definitions.
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

# Variants that pollwake and the executor peers both run.
SPAWN_VARIANTS = [(), ("round:10000",), ("new_pool",), ("mixed",), ("clone_waker",)]

# The peers, in column order, and how each is configured.
PEERS = [
    ("futures", "Rust futures 0.3.21: ArcWake + task::waker, executor::block_on, LocalPool, "
                "ThreadPool (2 workers), channel::oneshot"),
    ("futures-lite", "Rust futures-lite 1.12: future::block_on (smol's; thread-local parker, "
                     "cached waker)"),
    ("tokio", "Rust tokio 1.24.2: current_thread Runtime::block_on, LocalSet driven by "
              "block_on, multi_thread with 2 workers, sync::oneshot"),
    ("std", "Rust std: task::Wake (Arc), a static RawWakerVTable"),
    ("waker-fn", "Rust waker-fn 1.1 (the crate): waker_fn(closure)"),
    ("async-task", "Rust async-task 4.3: the crate's own minimal executor, a queue of Runnables "
                   "(spawn_local, schedule = push onto a thread-local VecDeque, run = pop until empty)"),
    ("async-executor", "Rust async-executor 1.5: LocalExecutor driven by try_tick until idle; "
                       "Executor run by 2 threads for threadpool_spawn"),
    ("asio", "Boost.Asio io_context(), default concurrency hint (locks every queue operation); "
             "thread_pool(2) for threadpool_spawn"),
    ("asio-hint1", "Boost.Asio io_context(1): concurrency hint 1 (handlers posted from inside "
                   "run() stay on a private queue)"),
    ("asio-unsafe", "Boost.Asio io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE): no scheduler "
                    "locking at all"),
]
PEER_NAMES = [p for p, _ in PEERS]
ASIO = ["asio", "asio-hint1", "asio-unsafe"]

# Floors: no executor can do less, so no target is set against them.
FLOORS = [
    ("noop", "Rust futures' noop_waker (a static vtable whose entries do nothing)"),
    ("coro-queue", "a bare C++20 coroutine run queue: one frame and one push/pop per task, "
                   "one push/pop per yield"),
    ("atomic", "two pinned threads ping-ponging with C++20 std::atomic::wait/notify_one"),
    ("futex", "the same with direct futex calls (what Rust's thread::park does)"),
    ("condvar", "the same with a mutex and condition variable"),
]
FLOOR_NAMES = [f for f, _ in FLOORS]

# The targets: pollwake / peer at most `factor`, the median of the paired
# per-round ratios. A group of peers is judged against the one whose own
# median is lowest (the best of them in this run).
TARGETS = [
    ("waker_clone_drop", ["futures", "std"], 1.0),
    ("waker_wake_by_ref_arc", ["futures", "std"], 1.0),
    ("waker_wake_by_ref_static", ["std"], 1.0),
    ("waker_fn_wake", ["waker-fn"], 1.0),
    ("block_on_ready", ["futures"], 1.0),
    ("block_on_ready", ["futures-lite"], 1.0),
    ("block_on_yield", ["futures"], 1.0),
    ("block_on_yield", ["futures-lite"], 1.0),
    ("localpool_spawn_run", ["async-task"], 0.8),
    ("localpool_spawn_run", ["tokio"], 0.8),
    ("localpool_spawn_run", ASIO, 1.0),
    ("localpool_yield_pingpong", ["async-task"], 0.8),
    ("localpool_yield_pingpong", ["tokio"], 0.8),
    ("localpool_yield_pingpong", ASIO, 1.0),
    ("threadpool_spawn", ["asio", "tokio", "async-executor", "futures"], 0.8),
]


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


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def load(results_dir):
    """Returns ({(impl, base, variant): {round: {"ns", "cpu", "allocs"}}},
    {file stem: context})."""
    data = {}
    contexts = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        suite, _, rnd = stem.rpartition(".")
        rnd = int(rnd) if rnd.isdigit() else 0
        with open(path) as f:
            doc = json.load(f)
        contexts[stem] = doc.get("context", {})
        for b in doc.get("benchmarks", []):
            if "peer" in b:
                base, variant, _ = parse_name(b["name"])
                impl = b["peer"]
            else:
                if "ns_per_op" not in b or b.get("error_occurred"):
                    continue
                if b.get("run_type", "iteration") == "aggregate":
                    continue
                base, variant, threaded = parse_name(b.get("run_name", b["name"]))
                impl = "pollwake (threaded)" if threaded else "pollwake"
            data.setdefault((impl, base, variant), {})[rnd] = {
                "ns": num(b.get("ns_per_op")),
                "cpu": num(b.get("cpu_ns_per_op")),
                "allocs": num(b.get("allocs_per_op")),
            }
    return data, contexts


def median_of(data, impl, base, variant=(), field="ns"):
    r = data.get((impl, base, variant))
    if not r:
        return None
    vals = [v[field] for v in r.values() if not math.isnan(v[field])]
    return statistics.median(vals) if vals else None


def paired(data, base, variant, peer, impl="pollwake", field="ns"):
    """Per-round ratios impl / peer over the rounds both ran."""
    a = data.get((impl, base, variant), {})
    b = data.get((peer, base, variant), {})
    out = []
    for rnd in sorted(set(a) & set(b)):
        x, y = a[rnd][field], b[rnd][field]
        if y and not math.isnan(x) and not math.isnan(y) and y > 0:
            out.append(x / y)
    return out


def best_of(data, base, variant, peers, field="ns"):
    best = None
    for p in peers:
        v = median_of(data, p, base, variant, field)
        if v is not None and (best is None or v < best[1]):
            best = (p, v)
    return best


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_allocs(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x == 0:
        return "0"
    if x >= 10:
        return f"{x:.0f}"
    return f"{x:.3f}".rstrip("0").rstrip(".") if x < 1 else f"{x:.2f}"


def ratio_cell(rs):
    """'0.52 (0.49–0.55)', with a verdict: faster / slower / tie."""
    if not rs:
        return "—", None
    m = statistics.median(rs)
    lo, hi = min(rs), max(rs)
    if lo <= 1.0 <= hi and len(rs) > 1:
        verdict = "tie"
    elif m < 1.0:
        verdict = "faster"
    else:
        verdict = "slower"
    if len(rs) == 1:
        return f"{m:.2f}", verdict
    return f"{m:.2f} ({lo:.2f}–{hi:.2f})", verdict


def vname(base, variant):
    return base + ("/" + "/".join(variant) if variant else "")


def rounds_in(data):
    rs = set()
    for r in data.values():
        rs |= set(r)
    return sorted(rs)


# The FFI benchmarks: (Google Benchmark base name, variant, what one
# operation is). The same names on both sides.
FFI_ROWS = [
    ("ffi_poll_ready", ("direct",), "poll a ready future directly"),
    ("ffi_poll_ready", ("c_abi",), "the same poll through the C ABI (FfiFuture)"),
    ("ffi_waker_clone_drop", ("direct",), "clone + drop an Arc waker"),
    ("ffi_waker_clone_drop", ("c_abi",), "clone + drop the waker a future sees through the ABI"),
    ("ffi_waker_clone_drop", ("c_abi_shared",), "clone + drop a clone of that clone"),
]
FFI_PEER = "async-ffi"


def load_ffi(results_dir):
    d = os.path.join(results_dir, "ffi")
    if not os.path.isdir(d):
        return {}
    return load(d)[0]


def write_ffi(ffi, L):
    if not ffi:
        return
    has_peer = any(k[0] == FFI_PEER for k in ffi)
    L.append("## The C ABI (interop/ffi) beside the async-ffi crate")
    L.append("")
    L.append("bench/ffi_bench.cc (pollwake, `--config=opt`) and bench/peers/ffi_rust (the real "
             "async-ffi 0.5.1 crate; release, fat LTO, one codegen unit), interleaved in each round. "
             "Nanoseconds per operation, median over the rounds; ratios paired per round as above. "
             "How to read it: docs/06_ffi.md.")
    if not has_peer:
        L.append("")
        L.append("The async-ffi peer did not run (its crate sources were not found, or it did not "
                 "build: bench/run.sh printed why); pollwake's side only.")
    L.append("")
    L.append("| benchmark | one operation | pollwake ns | async-ffi ns | pollwake CPU ns | "
             "async-ffi CPU ns | ratio, wall (min–max) | ratio, CPU (min–max) |")
    L.append("|---|---|---:|---:|---:|---:|---|---|")
    for b, v, what in FFI_ROWS:
        cells = [fmt(median_of(ffi, i, b, v, f)) for f in ("ns", "cpu") for i in ("pollwake", FFI_PEER)]
        rw, vw = ratio_cell(paired(ffi, b, v, FFI_PEER))
        rc, vc = ratio_cell(paired(ffi, b, v, FFI_PEER, field="cpu"))
        rw += " **tie**" if vw == "tie" else ""
        rc += " **tie**" if vc == "tie" else ""
        L.append(f"| {vname('BM_' + b, v)} | {what} | " + " | ".join(cells) + f" | {rw} | {rc} |")
    L.append("")


def ffi_plot(ffi, docs, plt):
    """ffi.png: CPU ns per operation, pollwake beside the crate."""
    if not ffi:
        return
    labels = [vname(b, v) for b, v, _ in FFI_ROWS]
    fig, ax = plt.subplots(figsize=(10, 5))
    w_ = 0.38
    for j, (impl, color) in enumerate([("pollwake", "#1f77b4"), (FFI_PEER, "#ff7f0e")]):
        vals = [median_of(ffi, impl, b, v, "cpu") or 0 for b, v, _ in FFI_ROWS]
        if any(vals):
            ax.bar([i + (j - 0.5) * w_ for i in range(len(FFI_ROWS))], vals, width=w_,
                   label=impl + (" (C++)" if impl == "pollwake" else " 0.5.1 (Rust)"), color=color)
    ax.set_xticks(range(len(FFI_ROWS)))
    ax.set_xticklabels([l.replace("/", "/\n") for l in labels], fontsize=8)
    ax.set_ylabel("CPU ns per operation (median over rounds)")
    ax.set_title("The C ABI of interop/ffi beside the async-ffi crate")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "ffi.png"), dpi=110)
    plt.close(fig)


def write_markdown(data, contexts, results_dir, path, smoke, ffi=None):
    rounds = rounds_in(data)
    L = []
    L.append("# Benchmark results")
    L.append("")
    L.append("Generated by `bash bench/run.sh`"
             + (" --smoke (tiny iteration counts: these figures are NOT measurements)" if smoke else "")
             + "; do not edit by hand. How to read it: docs/05_benchmarks.md.")
    L.append("")
    L.append(f"{len(rounds)} interleaved round(s): each round ran every suite once, in a new shuffled "
             "order. Figures are `ns_per_op` (wall-clock nanoseconds per operation), the median over "
             "the rounds. Ratios are paired: pollwake / peer within each round, then the median and "
             "the min–max of those per-round ratios; a range that contains 1.00 is a **tie**. "
             "Single-thread suites ran pinned to one CPU (`taskset`), in processes that started no "
             "thread (checked at the end of each); `pollwake (threaded)` is pollwake's single-thread "
             "benchmark after its process started (and joined) one thread.")
    L.append("")
    L.append("## Implementations")
    L.append("")
    L.append("| implementation | configuration |")
    L.append("|---|---|")
    L.append("| pollwake | this repository, `bench/*.cc`, Bazel `--config=opt` (g++ 12, -O2) |")
    for p, what in PEERS:
        L.append(f"| {p} | {what} |")
    L.append("")
    L.append("Floors (shown apart; no target is set against a floor):")
    L.append("")
    L.append("| floor | what |")
    L.append("|---|---|")
    for f, what in FLOORS:
        L.append(f"| {f} | {what} |")
    L.append("")
    vpath = os.path.join(results_dir, "versions.txt")
    if os.path.exists(vpath):
        L.append("Built with:")
        L.append("")
        for line in open(vpath).read().splitlines():
            L.append(f"- {line}")
        L.append("")

    impls = ["pollwake", "pollwake (threaded)"] + PEER_NAMES
    present = [i for i in impls if any(k[0] == i for k in data)]
    L.append("## Workloads (ns per operation, median over the rounds)")
    L.append("")
    L.append("| workload | " + " | ".join(present) + " |")
    L.append("|---|" + "---:|" * len(present))
    rows = [(w, ()) for w in WORKLOADS]
    rows[7:7] = [("localpool_spawn_run", v) for v in SPAWN_VARIANTS[1:]]
    for w, v in rows:
        L.append(f"| {vname(w, v)} | " + " | ".join(fmt(median_of(data, i, w, v)) for i in present) + " |")
    L.append("")
    L.append("CPU nanoseconds per operation (CPU time of every thread of the process; on a loaded "
             "machine wall-clock time also counts time spent waiting for a CPU):")
    L.append("")
    L.append("| workload | " + " | ".join(present) + " |")
    L.append("|---|" + "---:|" * len(present))
    for w, v in rows:
        L.append(f"| {vname(w, v)} | "
                 + " | ".join(fmt(median_of(data, i, w, v, "cpu")) for i in present) + " |")
    L.append("")

    peers_present = [p for p in PEER_NAMES if any(k[0] == p for k in data)]
    for field, title, note in [
            ("ns", "## Paired ratios pollwake / peer, wall clock (below 1: pollwake is faster)",
             "Median of the per-round ratios, (min–max) over the rounds; **tie** when the range "
             "contains 1.00."),
            ("cpu", "## Paired ratios pollwake / peer, CPU time",
             "The same on `cpu_ns_per_op`. For a single-thread workload on a loaded machine this is "
             "the cleaner comparison: it leaves out the time the process was runnable but another "
             "process held the CPU. For a threaded workload it counts every thread, waiting "
             "included.")]:
        L.append(title)
        L.append("")
        L.append(note)
        L.append("")
        L.append("| workload | " + " | ".join(peers_present) + " |")
        L.append("|---|" + "---|" * len(peers_present))
        for w, v in rows:
            cells = []
            for p in peers_present:
                text, verdict = ratio_cell(paired(data, w, v, p, field=field))
                cells.append(text + (" **tie**" if verdict == "tie" else ""))
            if any(c != "—" for c in cells):
                L.append(f"| {vname(w, v)} | " + " | ".join(cells) + " |")
        L.append("")

    L.append("## Targets (pollwake / peer at its best, median of the paired ratios)")
    L.append("")
    L.append("Met when the median of the per-round ratios is at or below the target; \"within the "
             "spread\" when the min–max range straddles the target. The best of a group is the peer "
             "with the lowest median figure: on wall clock for the wall-clock columns, on CPU time "
             "for the CPU columns.")
    L.append("")
    L.append("| workload | against | peer ns | pollwake ns | ratio, wall (min–max) | verdict, wall | "
             "ratio, CPU (min–max) | verdict, CPU | target |")
    L.append("|---|---|---:|---:|---|---|---|---|---:|")

    def verdict_of(rs, factor):
        if not rs:
            return "—"
        m = statistics.median(rs)
        if m <= factor:
            return "met" + (" (within the spread)" if max(rs) > factor else "")
        return f"missed by {(m / factor - 1) * 100:.0f}%" + (
            " (within the spread)" if min(rs) <= factor else "")

    for w, group, factor in TARGETS:
        best = best_of(data, w, (), group)
        label = group[0] if len(group) == 1 else "best of " + ", ".join(group)
        pw = median_of(data, "pollwake", w)
        if best is None or pw is None:
            L.append(f"| {w} | {label} | — | {fmt(pw)} | — | not measured | — | — | ≤ {factor:.1f} |")
            continue
        if len(group) > 1:
            label += f": **{best[0]}**"
        rs = paired(data, w, (), best[0])
        # The CPU verdict is against the best peer on CPU time, which may be
        # another member of the group than the best on wall clock.
        best_cpu = best_of(data, w, (), group, field="cpu") or best
        rc = paired(data, w, (), best_cpu[0], field="cpu")
        if len(group) > 1 and best_cpu[0] != best[0]:
            label += f" (CPU: **{best_cpu[0]}**)"
        L.append(f"| {w} | {label} | {fmt(best[1])} | {fmt(pw)} | {ratio_cell(rs)[0]} | "
                 f"{verdict_of(rs, factor)} | {ratio_cell(rc)[0]} | {verdict_of(rc, factor)} | "
                 f"≤ {factor:.1f} |")
    L.append("")

    L.append("## Floors (no target)")
    L.append("")
    L.append("| workload | floor | floor ns | pollwake ns | pollwake / floor, wall (min–max) | "
             "floor CPU ns | pollwake CPU ns | pollwake / floor, CPU (min–max) |")
    L.append("|---|---|---:|---:|---|---:|---:|---|")
    for w in WORKLOADS:
        for f in FLOOR_NAMES:
            fv = median_of(data, f, w)
            if fv is None:
                continue
            text, _ = ratio_cell(paired(data, w, (), f))
            ctext, _ = ratio_cell(paired(data, w, (), f, field="cpu"))
            L.append(f"| {w} | {f} | {fmt(fv)} | {fmt(median_of(data, 'pollwake', w))} | {text} | "
                     f"{fmt(median_of(data, f, w, (), 'cpu'))} | "
                     f"{fmt(median_of(data, 'pollwake', w, (), 'cpu'))} | {ctext} |")
    L.append("")

    L.append("## Allocations per operation")
    L.append("")
    L.append("Heap allocations per operation, counted in an untimed run after the timed ones, in the "
             "same warm state (pollwake and Asio: calls to the replaced global `operator new`; Rust: "
             "calls to a counting `#[global_allocator]`). Cross-thread rows include the helper "
             "thread's start-up, spread over the run.")
    L.append("")
    aimpls = ["pollwake"] + PEER_NAMES + FLOOR_NAMES
    apresent = [i for i in aimpls if any(k[0] == i and not all(math.isnan(x["allocs"]) for x in data[k].values())
                                        for k in data)]
    L.append("| workload | " + " | ".join(apresent) + " |")
    L.append("|---|" + "---:|" * len(apresent))
    for w, v in rows:
        cells = [fmt_allocs(median_of(data, i, w, v, "allocs")) for i in apresent]
        if any(c != "—" for c in cells):
            L.append(f"| {vname(w, v)} | " + " | ".join(cells) + " |")
    L.append("")

    # pollwake's own strategies.
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
        L.append(f"| {kn} | " + " | ".join(fmt(median_of(data, 'pollwake', o[0], (k,))) for o in ops) + " |")
    L.append("")
    L.append("How block_on parks (ns per operation; `default` is `block_on`, i.e. `DefaultPark`):")
    L.append("")
    strategies = [((), "default"), (("condvar",), "condvar"), (("futex",), "futex"),
                  (("spin_then_park",), "spin_then_park")]
    L.append("| workload | " + " | ".join(s[1] for s in strategies) + " |")
    L.append("|---|" + "---:|" * len(strategies))
    for w in ["block_on_ready", "block_on_yield", "cross_thread_wake"]:
        L.append(f"| {w} | " + " | ".join(fmt(median_of(data, 'pollwake', w, s[0])) for s in strategies) + " |")
    for w in ["block_on_ready", "block_on_yield"]:
        L.append(f"| {w} (threaded) | "
                 + " | ".join(fmt(median_of(data, 'pollwake (threaded)', w, s[0])) for s in strategies) + " |")
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
                 + " | ".join(fmt(median_of(data, 'pollwake', 'pool_compare', (work,) + p[0])) for p in pools)
                 + " |")
    L.append("")
    extra = sorted({(b, v) for (i, b, v) in data if i == "pollwake" and b.startswith("future_kind")})
    if extra:
        L.append("Future kinds (hand-written state machine, coroutine, eager task):")
        L.append("")
        L.append("| benchmark | ns per op |")
        L.append("|---|---:|")
        for b, v in extra:
            L.append(f"| {vname(b, v)} | {fmt(median_of(data, 'pollwake', b, v))} |")
        L.append("")

    write_ffi(ffi, L)

    L.append("## Where the figures came from")
    L.append("")
    by_suite = {}
    for stem, ctx in sorted(contexts.items()):
        by_suite.setdefault(stem.rpartition(".")[0], []).append(ctx)
    for suite, ctxs in sorted(by_suite.items()):
        ctx = dict(ctxs[0])
        if "executable" in ctx:
            ctx["executable"] = os.path.basename(ctx["executable"])
        keep = {k: ctx[k] for k in ("executable", "num_cpus", "pollwake_process", "libc_single_threaded",
                                     "threads_at_end", "group") if k in ctx}
        loads = [c["load_avg"][0] for c in ctxs if c.get("load_avg")]
        line = f"- `{suite}` ({len(ctxs)} rounds): " + ", ".join(f"{k}={v}" for k, v in keep.items())
        if loads:
            line += "; 1-minute load average at the start of each round: " + ", ".join(f"{x:.1f}" for x in loads)
        L.append(line)
    dates = sorted(c["date"] for c in contexts.values() if c.get("date"))
    if dates:
        L.append(f"- first and last Google Benchmark start: {dates[0]}, {dates[-1]}")
    opath = os.path.join(results_dir, "order.txt")
    if os.path.exists(opath):
        L.append("")
        L.append("Order of the suites in each round:")
        L.append("")
        for line in open(opath).read().splitlines():
            L.append(f"- {line}")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def plots(data, docs, ffi=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ffi_plot(ffi, docs, plt)

    palette = ["#1f77b4", "#9ecae1", "#d62728", "#ff9896", "#ff7f0e", "#8c564b", "#c49c94",
               "#9467bd", "#e377c2", "#2ca02c", "#98df8a", "#17becf"]
    impls = ["pollwake", "pollwake (threaded)"] + PEER_NAMES
    colors = {i: palette[k % len(palette)] for k, i in enumerate(impls)}

    # 1. workloads.png: every workload, every implementation (log scale).
    fig, ax = plt.subplots(figsize=(11, 9))
    h = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        ys, xs = [], []
        for i, w in enumerate(WORKLOADS):
            v = median_of(data, impl, w)
            if v is not None and v > 0:
                ys.append(i + (j - len(impls) / 2 + 0.5) * h)
                xs.append(v)
        if xs:
            ax.barh(ys, xs, height=h, label=impl, color=colors[impl])
    ax.set_yticks(range(len(WORKLOADS)))
    ax.set_yticklabels(WORKLOADS)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per operation (wall clock, median over rounds; log scale; shorter is faster)")
    ax.set_title("The workloads: pollwake beside its peers at their best")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "workloads.png"), dpi=110)
    plt.close(fig)

    # 2. ratios.png: every target, median paired ratio with its min-max.
    names, meds, los, his, targets = [], [], [], [], []
    for w, group, factor in TARGETS:
        best = best_of(data, w, (), group)
        if best is None:
            continue
        rs = paired(data, w, (), best[0])
        if not rs:
            continue
        names.append(f"{w} vs {best[0]}")
        m = statistics.median(rs)
        meds.append(m)
        los.append(m - min(rs))
        his.append(max(rs) - m)
        targets.append(factor)
    fig, ax = plt.subplots(figsize=(10, 7))
    if names:
        bar_colors = ["#2ca02c" if m <= t else "#d62728" for m, t in zip(meds, targets)]
        ax.barh(range(len(names)), meds, color=bar_colors, xerr=[los, his], capsize=3)
        for i, (t, m) in enumerate(zip(targets, meds)):
            ax.plot([t, t], [i - 0.4, i + 0.4], color="black", linewidth=2)
            ax.text(m + his[i], i, f" {m:.2f}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.set_xlim(0, max(max(m + h_ for m, h_ in zip(meds, his)), 1.0) * 1.25)
    ax.invert_yaxis()
    ax.axvline(1.0, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel("pollwake / peer, median of per-round ratios; whiskers: min-max; black tick: target")
    ax.set_title("pollwake against each peer at its best (green: target met, red: missed)")
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
        vals = [median_of(data, "pollwake", o[0], (k,)) or 0 for o in ops]
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
            vals = [median_of(data, "pollwake", w, s) or 0 for w in ws]
            ax.bar([i + (j - 1.5) * w_ for i in range(len(ws))], vals, width=w_, label=sn)
        for peer, mark in [("futures", "v"), ("futures-lite", "<"), ("tokio", "^"), ("atomic", "s"),
                           ("futex", "D"), ("condvar", "o")]:
            pts = [(i, median_of(data, peer, w)) for i, w in enumerate(ws) if median_of(data, peer, w)]
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
        vals = [median_of(data, "pollwake", "pool_compare", (wk,) + p) or 0 for wk in works]
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

    # 6. variants.png: localpool_spawn_run and the variants that defeat
    # pollwake's block cache, pollwake beside the local executors.
    local = ["pollwake", "async-task", "tokio", "futures", "async-executor", "asio-unsafe"]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    w_ = 0.8 / len(local)
    for j, impl in enumerate(local):
        vals = [median_of(data, impl, "localpool_spawn_run", v) or 0 for v in SPAWN_VARIANTS]
        ax.bar([i + (j - len(local) / 2 + 0.5) * w_ for i in range(len(SPAWN_VARIANTS))], vals,
               width=w_, label=impl, color=colors.get(impl))
    ax.set_xticks(range(len(SPAWN_VARIANTS)))
    ax.set_xticklabels(["round of 1000\n(as defined)"] + ["/".join(v) for v in SPAWN_VARIANTS[1:]])
    ax.set_ylabel("ns per task (wall clock, median)")
    ax.set_title("localpool_spawn_run and the variants that defeat pollwake's block cache")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(docs, "variants.png"), dpi=110)
    plt.close(fig)


def summary(data):
    out = {}
    for (impl, base, variant) in data:
        if variant == ():
            v = median_of(data, impl, base)
            if v is not None:
                out.setdefault(impl, {})[base] = v
    return out


def check_single_thread(contexts):
    """The runner checks each suite as it ends; this checks the files again."""
    bad = [s for s, c in contexts.items()
           if c.get("group") == "single" and c.get("threads_at_end") not in (None, 1)]
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    data, contexts = load(args.results)
    if not data:
        print("render.py: no results in " + args.results, file=sys.stderr)
        return 1
    bad = check_single_thread(contexts)
    if bad:
        print("render.py: single-thread suites that ended with more than one thread: " + ", ".join(bad),
              file=sys.stderr)
        return 1
    ffi = load_ffi(args.results)
    write_markdown(data, contexts, args.results, os.path.join(args.docs, "results.md"), args.smoke, ffi)
    s = summary(data)
    with open(os.path.join(args.docs, "summary.json"), "w") as f:
        json.dump(s, f, indent=1, sort_keys=True)
    with open(os.path.join(args.docs, "summary.tsv"), "w") as f:
        for impl in sorted(s):
            for w in sorted(s[impl]):
                f.write(f"{impl}\t{w}\t{s[impl][w]:.6g}\n")
    if not args.no_plots:
        plots(data, args.docs, ffi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
