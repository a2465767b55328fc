#!/usr/bin/env python3
"""docs/figures/render_diagrams.py: a sequence diagram of every example's real
trace, and a state diagram of every hand-written state machine, as SVG files
in docs/figures/diagrams/.

Sequence diagrams (NN_name_sequence.svg, matplotlib) come from
examples/NN_name.expected, the output each example's trace test checks
against the real program. A trace line `[n] who: what` is an event on the
lifeline of `who` (`Tick(1)::poll -> ...` is on `Tick`'s, `drop X` on X's;
04's `worker-0  what` lines name their thread first). An arrow goes from the
lifeline of the previous event to this one, labelled `[n] what`; two events
in a row on one lifeline become a note beside it. Indented `waker:` lines are
events on the `waker` lifeline; other unnumbered lines (the program's own
output) are notes in italics. Only the six busiest lifelines get their own
column; the others share one.

State diagrams (NN_name_states.svg, Graphviz `dot`) come from the example's
source: the states are the alternatives of its `std::variant<...> state_`,
and the transitions are read from poll(): inside the branch that tests for
state S (`holds_alternative<S>` / `get_if<S>`), `state_ = T{...}` or
`state_.emplace<T>` is an edge S -> T and `return Pending` a self-loop on S;
`state_.emplace<T>` inside `catch (...)` is an edge from every state that is
not final (an exception escaped a poll). Examples without such a machine get
no state diagram.

  render_diagrams.py [--root DIR] [--check]
    --check   exit 1 if a checked-in SVG differs from a fresh rendering (or
              one is missing or extra); otherwise write them
"""
import argparse
import glob
import io
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "pollwake"  # stable ids: reproducible SVG
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text
import matplotlib.pyplot as plt  # noqa: E402

OUT_DIR = "docs/figures/diagrams"
MAX_LANES = 6
NUMBERED = re.compile(r"^\[(\d+)\] (.*)$")
WHO_COLON = re.compile(r"^([A-Za-z_][\w\-]*)(\([^)]*\))?(::\w+)?:\s*(.*)$")
WHO_SPACED = re.compile(r"^([A-Za-z_][\w\-]*)\s{2,}(.*)$")
DROP = re.compile(r"^drop ([A-Za-z_]\w*)")


def who_and_what(body):
    m = WHO_COLON.match(body)
    if m:
        return m.group(1), body
    m = WHO_SPACED.match(body)
    if m:
        return m.group(1), m.group(2)
    m = DROP.match(body)
    if m:
        return m.group(1), body
    return "main", body


def parse_trace(path):
    """[(n or None, lane or None, label, kind)]; kind: event, waker, output."""
    events = []
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            m = NUMBERED.match(line)
            if m:
                who, _ = who_and_what(m.group(2))
                events.append((int(m.group(1)), who, "[%s] %s" % (m.group(1), m.group(2)), "event"))
            elif line.strip().startswith("waker:"):
                events.append((None, "waker", line.strip(), "waker"))
            elif line.strip():
                events.append((None, None, line.strip(), "output"))
    return events


def short(text, width=86):
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def render_sequence(name, events):
    counts = {}
    order = []
    for _, lane, _, _ in events:
        if lane is None:
            continue
        if lane not in counts:
            order.append(lane)
            counts[lane] = 0
        counts[lane] += 1
    keep = sorted(order, key=lambda l: -counts[l])[:MAX_LANES]
    lanes = [l for l in order if l in keep]
    if len(order) > len(lanes):
        lanes.append("others")
    col = {l: i for i, l in enumerate(lanes)}

    def lane_of(l):
        return col.get(l, col.get("others", 0))

    height = 1.2 + 0.32 * len(events)
    width = max(9.0, 2.1 * len(lanes) + 5.0)
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(-0.6, len(lanes) - 0.4 + 3.2)
    ax.set_ylim(len(events) + 0.5, -1.3)
    ax.axis("off")
    for i, l in enumerate(lanes):
        ax.plot([i, i], [-0.6, len(events) + 0.2], color="#999999", lw=0.8, zorder=1)
        ax.text(i, -0.9, l, ha="center", va="bottom", fontsize=9, weight="bold",
                bbox=dict(boxstyle="round", fc="#eef2f8", ec="#5577aa"))
    prev = None
    for y, (n, lane, label, kind) in enumerate(events):
        if kind == "output":
            x = prev if prev is not None else 0
            ax.text(x + 0.08, y, "\u201c" + short(label, 60) + "\u201d", fontsize=7.5,
                    style="italic", va="center", color="#555555")
            continue
        x = lane_of(lane)
        color = "#aa5500" if kind == "waker" else "#223366"
        if prev is not None and prev != x:
            ax.annotate("", xy=(x, y), xytext=(prev, y - 0.55),
                        arrowprops=dict(arrowstyle="->", color=color, lw=0.9,
                                        linestyle="--" if kind == "waker" else "-"))
        ax.plot([x], [y], marker="o", ms=3.5, color=color, zorder=3)
        ax.text(x + 0.1, y, short(label), fontsize=7.5, va="center", color=color,
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.85))
        prev = x
    ax.set_title("examples/%s: the trace as a sequence (from %s.expected)" % (name, name),
                 fontsize=10, loc="left")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


VARIANT = re.compile(r"std::variant<([^>]*)>\s+state_;")
TEST_STATE = re.compile(r"(?:holds_alternative|get_if)<(\w+)>\(&?state_\)")
SET_STATE = re.compile(r"state_(?:\s*=\s*(\w+)\{|\.emplace<(\w+)>)")
FINAL = {"Finished", "Poisoned"}


def machine(src_path):
    with open(src_path) as f:
        text = f.read()
    m = VARIANT.search(text)
    if not m:
        return None
    states = [s.strip() for s in m.group(1).split(",")]
    classes = re.findall(r"\bclass (\w+)", text[: m.end()])  # the one that holds state_
    edges = []  # (from, to, label), in source order, no duplicates
    cur = None
    for line in text[: m.end()].split("\n"):
        code = line.split("//")[0]
        if "polled_after_" in code:
            continue  # the guards at the top of poll(): no transition
        if re.search(r"\bcatch\s*\(\.\.\.\)", code):
            cur = "*"
        t = TEST_STATE.search(code)
        if t and t.group(1) in states:
            cur = t.group(1)
        s = SET_STATE.search(code)
        if s and cur is not None:
            to = s.group(1) or s.group(2)
            if to in states:
                if cur == "*":
                    for st in states:
                        if st not in FINAL and (st, to, "exception") not in edges:
                            edges.append((st, to, "exception"))
                elif (cur, to, "") not in edges:
                    edges.append((cur, to, ""))
        if re.search(r"\breturn Pending;", code) and cur in states and (cur, cur, "Pending") not in edges:
            edges.append((cur, cur, "Pending"))
    return (classes[-1] if classes else "the machine"), states, edges


def render_states(name, mach):
    cls, states, edges = mach
    lines = [
        "digraph %s {" % re.sub(r"\W", "_", "ex_" + name),
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, labelloc=t, '
        'label="examples/%s: the states of %s (from the source)"];' % (name, cls),
        '  node [shape=box, style="rounded,filled", fillcolor="#eef2f8", color="#5577aa", '
        'fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, color="#223366"];',
        '  start [shape=point, width=0.12, label=""];',
    ]
    for s in states:
        extra = ', peripheries=2' if s in FINAL else ""
        if s == "Poisoned":
            extra += ', fillcolor="#f8e6e6", color="#aa3333"'
        lines.append('  "%s" [label="%s"%s];' % (s, s, extra))
    lines.append('  start -> "%s" [label="call"];' % states[0])
    for a, b, label in edges:
        attrs = []
        if label:
            attrs.append('label="%s"' % label)
        if label == "Pending":
            attrs.append('style=dashed, label="poll returns Pending"')
            attrs = [x for x in attrs if not x.startswith('label="Pending"')]
        if label == "exception":
            attrs.append('color="#aa3333", fontcolor="#aa3333"')
        lines.append('  "%s" -> "%s"%s;' % (a, b, (" [" + ", ".join(attrs) + "]") if attrs else ""))
    lines.append("}")
    dot = "\n".join(lines) + "\n"
    out = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), stdout=subprocess.PIPE, check=True)
    return out.stdout.decode()


def render_all(root):
    files = {}
    for expected in sorted(glob.glob(os.path.join(root, "examples", "[0-9][0-9]*_*.expected"))):
        name = os.path.basename(expected)[: -len(".expected")]
        files["%s_sequence.svg" % name] = render_sequence(name, parse_trace(expected))
        for ext in (".cc", ".c"):
            src = os.path.join(root, "examples", name + ext)
            if os.path.exists(src):
                mach = machine(src)
                if mach:
                    files["%s_states.svg" % name] = render_states(name, mach)
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    out_dir = os.path.join(root, OUT_DIR)
    files = render_all(root)
    have = set(os.path.basename(p) for p in glob.glob(os.path.join(out_dir, "*.svg")))
    if args.check:
        bad = []
        for fname, content in sorted(files.items()):
            path = os.path.join(out_dir, fname)
            if not os.path.exists(path):
                bad.append("missing: %s/%s" % (OUT_DIR, fname))
            elif open(path).read() != content:
                bad.append("differs: %s/%s" % (OUT_DIR, fname))
        for fname in sorted(have - set(files)):
            bad.append("extra (no example draws it): %s/%s" % (OUT_DIR, fname))
        if bad:
            print("\n".join(bad))
            print("run `/usr/bin/python3 docs/figures/render_diagrams.py` to redraw them")
            return 1
        print("diagrams up to date: %d files" % len(files))
        return 0
    os.makedirs(out_dir, exist_ok=True)
    for fname in sorted(have - set(files)):
        os.remove(os.path.join(out_dir, fname))
    for fname, content in files.items():
        with open(os.path.join(out_dir, fname), "w") as f:
            f.write(content)
    print("wrote %d files to %s" % (len(files), OUT_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
