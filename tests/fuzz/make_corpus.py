#!/usr/bin/env python3
"""Writes the hand-made inputs of the schedule fuzzer into tests/fuzz/corpus/.

Each input is a small program in the fuzzer's encoding (see the Op and Flag
enums in local_pool_fuzzer.cc; the codes below must match them). The files
are named hand_<scenario>; inputs that libFuzzer found are named by their
SHA-1, as libFuzzer names them, and are kept beside these.

    python3 tests/fuzz/make_corpus.py      # rewrites the hand_* files
"""
import os

OPS = [
    "spawn", "spawn_with_handle", "wake", "wake_by_ref", "clone_waker",
    "drop_waker", "take_waker", "run_until_stalled", "try_run_one",
    "drop_pool", "new_pool", "wake_from_thread", "run_until", "poll_handle",
    "drop_handle", "spawn_on_old_spawner",
]
CODE = {name: i for i, name in enumerate(OPS)}

SELF_WAKE, WAKE_OTHER, SPAWN_CHILD, THROW, NESTED_RUN, WAKE_BY_CLONE = 1, 2, 4, 8, 16, 32
NEVER = 0  # ready_after 0: never ready


def prog(*steps):
    """steps: ("op", arg, ...) tuples, or plain op names."""
    out = bytearray()
    for s in steps:
        if isinstance(s, str):
            s = (s,)
        out.append(CODE[s[0]])
        out.extend(s[1:])
    return bytes(out)


def spawn(ready_after, flags=0, handle=False):
    return ("spawn_with_handle" if handle else "spawn", ready_after, flags)


SCENARIOS = {
    # One task, ready at once; then one that needs a wake from outside.
    "spawn_ready": prog(spawn(1), "run_until_stalled"),
    "wake_from_outside": prog(spawn(2), "run_until_stalled", ("take_waker", 0),
                              ("wake", 0), "run_until_stalled"),
    "wake_by_ref_twice_coalesces": prog(spawn(3), "run_until_stalled", ("take_waker", 0),
                                        ("wake_by_ref", 0), ("wake_by_ref", 0),
                                        "run_until_stalled", ("wake_by_ref", 0),
                                        "run_until_stalled"),
    "clone_and_drop_wakers": prog(spawn(NEVER), "run_until_stalled", ("take_waker", 0),
                                  ("clone_waker", 0), ("clone_waker", 1), ("drop_waker", 0),
                                  ("wake", 1), ("drop_waker", 0), "run_until_stalled"),
    # A task that wakes itself forever: run_until_stalled still returns.
    "self_wake_forever_stalls": prog(spawn(NEVER, SELF_WAKE), "run_until_stalled",
                                     "run_until_stalled", "try_run_one"),
    "self_wake_by_clone": prog(spawn(4, SELF_WAKE | WAKE_BY_CLONE), "run_until_stalled",
                               "run_until_stalled", "run_until_stalled", "run_until_stalled"),
    # Two tasks that wake each other a few times.
    "ping_pong": prog(spawn(NEVER, WAKE_OTHER), spawn(NEVER, WAKE_OTHER), "run_until_stalled",
                      "run_until_stalled"),
    "self_and_cross_wake_mix": prog(spawn(NEVER, SELF_WAKE), spawn(3, WAKE_OTHER | SELF_WAKE),
                                    spawn(NEVER, WAKE_OTHER), "run_until_stalled",
                                    "try_run_one", "run_until_stalled"),
    # Children spawned from inside polls.
    "spawn_children": prog(spawn(2, SPAWN_CHILD | SELF_WAKE), "run_until_stalled",
                           "run_until_stalled"),
    "spawn_children_then_drop_pool": prog(spawn(NEVER, SPAWN_CHILD), "run_until_stalled",
                                          "drop_pool"),
    # try_run_one: true exactly when one task completed.
    "try_run_one_each": prog(spawn(1), spawn(1), spawn(2, SELF_WAKE), "try_run_one",
                             "try_run_one", "try_run_one", "try_run_one", "try_run_one"),
    "try_run_one_nothing": prog("try_run_one", spawn(NEVER), "try_run_one", "try_run_one"),
    # Exceptions from a plain task (propagate) and a handle task (kept).
    "throw_from_task": prog(spawn(1, THROW), spawn(2, SELF_WAKE), "run_until_stalled",
                            "run_until_stalled"),
    "throw_from_task_in_try_run_one": prog(spawn(2, THROW | SELF_WAKE), "try_run_one",
                                           "try_run_one", "run_until_stalled"),
    "throw_into_handle": prog(spawn(1, THROW, handle=True), "run_until_stalled",
                              ("poll_handle", 0)),
    "handle_ready": prog(spawn(2, SELF_WAKE, handle=True), ("poll_handle", 0),
                         "run_until_stalled", ("poll_handle", 0)),
    "handle_drop_cancels": prog(spawn(NEVER, 0, handle=True), "run_until_stalled",
                                ("drop_handle", 0, 0), "run_until_stalled"),
    "handle_forget_runs_on": prog(spawn(2, SELF_WAKE, handle=True), ("drop_handle", 0, 1),
                                  "run_until_stalled"),
    "handle_canceled_by_pool_drop": prog(spawn(NEVER, 0, handle=True), "run_until_stalled",
                                         "drop_pool", ("poll_handle", 0)),
    # run* inside a task is refused.
    "nested_run_refused": prog(spawn(2, NESTED_RUN | SELF_WAKE), "run_until_stalled"),
    # run_until leaves the other tasks.
    "run_until_main": prog(spawn(NEVER, SELF_WAKE), spawn(NEVER), ("run_until", 3),
                           "run_until_stalled"),
    "run_until_with_throwing_task": prog(spawn(1, THROW), ("run_until", 2), ("run_until", 0)),
    # Wakers outliving their pool; spawners of a dropped pool.
    "wake_after_pool_drop": prog(spawn(NEVER), "run_until_stalled", ("take_waker", 0),
                                 ("clone_waker", 0), "drop_pool", ("wake_by_ref", 0),
                                 ("wake", 1), ("wake_from_thread", 0)),
    "spawn_on_dropped_pool": prog(spawn(1), "drop_pool", "spawn_on_old_spawner", "new_pool",
                                  spawn(1), "run_until_stalled"),
    "new_pool_after_drop": prog(spawn(NEVER, SELF_WAKE), "run_until_stalled", "drop_pool",
                                "new_pool", spawn(2, SELF_WAKE), "run_until_stalled",
                                "drop_pool", "spawn_on_old_spawner"),
    # Wakes from another thread go through the remote queue.
    "wake_from_thread": prog(spawn(3), "run_until_stalled", ("take_waker", 0),
                             ("wake_from_thread", 0), "run_until_stalled",
                             ("wake_from_thread", 0), ("wake_from_thread", 0),
                             "run_until_stalled"),
    # Drop the pool with tasks queued, woken, pending and finished.
    "drop_pool_with_everything": prog(spawn(1), spawn(NEVER), spawn(NEVER, SELF_WAKE),
                                      spawn(NEVER, 0, handle=True), "try_run_one",
                                      ("take_waker", 1), ("wake_by_ref", 0), "drop_pool"),
    # Everything at once, twice.
    "kitchen_sink": prog(spawn(3, SELF_WAKE | SPAWN_CHILD | WAKE_OTHER),
                         spawn(NEVER, WAKE_OTHER | NESTED_RUN),
                         spawn(2, THROW | SELF_WAKE, handle=True), spawn(1, THROW),
                         "run_until_stalled", "run_until_stalled", ("take_waker", 1),
                         ("clone_waker", 0), ("wake_from_thread", 1), ("run_until", 1),
                         ("poll_handle", 0), "try_run_one", "drop_pool",
                         "spawn_on_old_spawner", ("wake", 0), "new_pool",
                         spawn(2, SELF_WAKE, handle=True), ("drop_handle", 0, 0),
                         "run_until_stalled"),
    "empty": b"",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.path.join(here, "corpus")
    os.makedirs(corpus, exist_ok=True)
    for name, data in SCENARIOS.items():
        with open(os.path.join(corpus, "hand_" + name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SCENARIOS)} inputs to {corpus}")


if __name__ == "__main__":
    main()
