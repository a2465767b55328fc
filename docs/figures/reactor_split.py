#!/usr/bin/env python3
"""Draws docs/figures/reactor_split.png: the reactor/executor split of
docs/09_reactor.md (who holds the waker, who waits on the kernel, who polls).

    /usr/bin/python3 docs/figures/reactor_split.py   # rewrites the PNG beside it
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

fig, ax = plt.subplots(figsize=(10, 5.6))
ax.set_xlim(0, 10)
ax.set_ylim(0, 6)
ax.axis("off")


def box(x, y, w, h, title, lines, color):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=color, ec="#333"))
    ax.text(x + w / 2, y + h - 0.25, title, ha="center", va="top", fontsize=11, weight="bold")
    for i, l in enumerate(lines):
        ax.text(x + w / 2, y + h - 0.65 - 0.3 * i, l, ha="center", va="top", fontsize=8.5,
                family="monospace")


def arrow(x1, y1, x2, y2, label, dy=0.12, rad=0.0, dx=0.0):
    ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2), arrowstyle="-|>", mutation_scale=14,
                                 color="#333", connectionstyle=f"arc3,rad={rad}"))
    ax.text((x1 + x2) / 2 + dx, (y1 + y2) / 2 + dy, label, ha="center", fontsize=8.5,
            bbox=dict(fc="white", ec="none", pad=1))


box(0.2, 3.3, 3.0, 2.4, "executor", ["LocalPool / ThreadPool", "ready queue of tasks",
                                      "polls a task when woken", "knows no file descriptor"],
    "#dbe8f6")
box(3.6, 3.3, 2.8, 2.4, "task (a future)", ["TcpStream::read(...)", "syscall -> EAGAIN",
                                            "=> Pending,", "waker left with the reactor"],
    "#fff2cc")
box(6.8, 3.3, 3.0, 2.4, "reactor", ["ScheduledIo per fd:", "readiness bits + tick",
                                     "reader / writer wakers", "timer heap, eventfd"],
    "#e2f0d9")
box(6.8, 0.2, 3.0, 1.9, "kernel", ["epoll instance", "sockets, their buffers",
                                    "epoll_wait(timeout =", "  nearest deadline)"], "#eeeeee")
box(0.2, 0.2, 3.0, 1.9, "joining piece", ["reactor/runtime.h", "LocalRuntime: one thread",
                                           "PoolRuntime: workers +", "  a reactor thread"], "#f4dede")

arrow(3.2, 4.9, 3.6, 4.9, "1 poll", dy=0.15)
arrow(6.4, 4.9, 6.8, 4.9, "2 register waker", dy=0.15)
arrow(8.0, 3.3, 8.0, 2.1, "3 epoll_wait", dy=0.0, dx=-0.55)
arrow(9.3, 2.1, 9.3, 3.3, "4 fd ready", dy=0.0, dx=0.15)
arrow(7.2, 3.3, 2.8, 3.3, "5 wake(): the task is queued again", dy=-0.62, rad=-0.3)
arrow(1.7, 2.1, 1.7, 3.3, "runs the executor, then", dy=0.05)
arrow(3.2, 1.2, 6.8, 1.2, "turns the reactor when nothing is ready", dy=0.15)

ax.text(5.0, 5.95, "Pending means: the waker is with the reactor; the kernel decides when it is woken",
        ha="center", fontsize=10, style="italic")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reactor_split.png")
fig.savefig(out, dpi=110, bbox_inches="tight")
print(out)
