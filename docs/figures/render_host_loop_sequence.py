#!/usr/bin/env python3
"""docs/figures/render_host_loop_sequence.py: draws chapter 8's sequence
diagram from the real trace of the OCaml/Lwt host.

Input: tests/hostloop/ocaml/lwt_scenario.expected, the numbered trace that
//tests/hostloop/ocaml:lwt_scenario_test checks the real OCaml program
against (so the picture cannot drift from what the program does). Output:
docs/figures/08_host_loop_sequence.svg.

Each trace line `[n] who: what` is an event on the lifeline of `who`. An
arrow goes from the lifeline of the previous event to this one (control, or
a signal, passing between them), labelled `[n] what`; two events in a row on
the same lifeline become a note beside it. Dashed arrows are the
notifications and wake-ups that cross between the two loops (the design's
`-->>` arrows). Only the first part of the trace, the scenario of the
ocaml-lwt-interop design, is drawn (steps 1..--last).

  render_host_loop_sequence.py [--root DIR] [--last N] [--check]
    --check   exit 1 if the checked-in SVG differs from a fresh rendering
"""
import argparse
import io
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "pollwake"  # stable ids: reproducible SVG
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text
import matplotlib.pyplot as plt  # noqa: E402

# Lifelines, left to right, as the design's diagram orders them.
LANES = [
    ("lwt_loop", "Lwt event loop\n(OCaml)"),
    ("F", "closure F\n(OCaml)"),
    ("lwt_main", "Lwt main\n(OCaml)"),
    ("test func", "test function\n(C++)"),
    ("runtime", "HostExecutor\n(C++)"),
    ("task", "task\n(C++ coroutine)"),
]
LINE = re.compile(r"^\[(\d+)\] ([^:]+): (.*)$")
DASHED = re.compile(r"notif|resolve|\bwake", re.I)


def parse(path, last):
    events = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            n, who, what = int(m.group(1)), m.group(2), m.group(3)
            if n > last:
                break
            events.append((n, who, what))
    return events


def render(events):
    lane_x = {key: i * 2.2 for i, (key, _) in enumerate(LANES)}
    step_h = 0.42
    height = 1.6 + step_h * (len(events) + 1)
    fig, ax = plt.subplots(figsize=(13.5, height))
    ax.set_xlim(-1.2, lane_x[LANES[-1][0]] + 1.6)
    ax.set_ylim(-(len(events) + 1) * step_h, 1.3)
    ax.axis("off")
    for key, title in LANES:
        x = lane_x[key]
        ax.plot([x, x], [0.35, -(len(events) + 0.6) * step_h], color="#999999", lw=1, ls=":")
        ax.text(x, 0.8, title, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.35", fc="#eef3fb", ec="#4a6fa5"))
    prev = "lwt_main"
    for i, (n, who, what) in enumerate(events):
        y = -(i + 0.5) * step_h
        x1 = lane_x.get(who, lane_x["F"])  # other OCaml closures share F's lane
        x0 = lane_x.get(prev, x1)
        label = f"[{n}] {what}"
        if len(label) > 62:
            label = label[:59] + "..."
        if x0 == x1:
            ax.plot([x1], [y], marker="o", ms=3.5, color="#4a6fa5")
            ax.text(x1 + 0.12, y, label, ha="left", va="center", fontsize=7.5,
                    bbox=dict(boxstyle="square,pad=0.15", fc="#fffbe6", ec="#e0d090", lw=0.6))
        else:
            dashed = bool(DASHED.search(what))
            ax.annotate("", xy=(x1, y), xytext=(x0, y),
                        arrowprops=dict(arrowstyle="-|>", lw=1.0, color="#333333",
                                        ls="--" if dashed else "-"))
            left = min(x0, x1)
            ax.text(left + 0.08, y + 0.06, label, ha="left", va="bottom", fontsize=7.5)
        prev = who
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--last", type=int, default=35)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    trace = os.path.join(args.root, "tests/hostloop/ocaml/lwt_scenario.expected")
    svg_path = os.path.join(args.root, "docs/figures/08_host_loop_sequence.svg")
    svg = render(parse(trace, args.last))
    if args.check:
        try:
            with open(svg_path) as f:
                current = f.read()
        except OSError:
            current = ""
        if current != svg:
            print(f"{svg_path} is stale: run docs/figures/render_host_loop_sequence.py", file=sys.stderr)
            return 1
        print("sequence diagram up to date")
        return 0
    with open(svg_path, "w") as f:
        f.write(svg)
    print(f"wrote {svg_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
