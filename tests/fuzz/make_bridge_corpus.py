#!/usr/bin/env python3
"""Writes the hand-made inputs of the bridge fuzzer into tests/fuzz/bridge_corpus/.

Each input is a small program in the fuzzer's encoding (see the operation
table at the top of bridge_fuzzer.cc; the codes below must match it). Files
are named hand_<scenario>; inputs libFuzzer found are named by their SHA-1.

    python3 tests/fuzz/make_bridge_corpus.py
"""
import os

(CONNECT, CONNECT_B, CREATE, INSERT, COUNT, COUNT_B, SCAN, SCAN_B, CLOSE, CLOSE_B,
 PING, SHUTDOWN, FORGED, BAD_ARGS, HARVEST, SHUTDOWN_IN_CB) = range(16)

INPUTS = {
    # connect, create, insert 3 rows, count, scan both ways, close.
    "hand_round_trip": [CONNECT_B, 0, 0, CREATE, 0, 0, INSERT, 0, 0, 3, 1, 2, 3,
                        COUNT, 0, 0, COUNT_B, 0, 0, SCAN, 0, 0, 0, 255, 0,
                        SCAN_B, 0, 0, 2, 3, 1, CLOSE_B, 0],
    # two databases; the first handle closed, its slot reused by a second
    # database: the stale handle must not see the new rows.
    "hand_stale_slot": [CONNECT_B, 0, 0, CREATE, 0, 0, INSERT, 0, 0, 2, 5, 6, CLOSE_B, 0,
                        CONNECT_B, 1, 0, CREATE, 1, 0, INSERT, 1, 0, 2, 7, 8,
                        SCAN, 0, 0, 0, 255, 0, SCAN_B, 1, 0, 0, 255, 0, COUNT_B, 0, 0],
    # calls in flight (latency) when the runtime shuts down: all CANCELED.
    "hand_shutdown_in_flight": [CONNECT_B, 2, 3, CREATE, 0, 1, COUNT, 0, 1, SCAN, 0, 1, 0, 9, 0,
                                PING, SHUTDOWN, COUNT, 0, 1, PING, COUNT_B, 0, 1],
    # restart after a shutdown; old handles are stale.
    "hand_restart": [CONNECT_B, 0, 1, SHUTDOWN, CONNECT_B, 0, 1, COUNT_B, 0, 0,
                     CREATE, 1, 0, CREATE, 1, 0, COUNT_B, 1, 0, CLOSE, 0],
    # forged and zero handles.
    "hand_forged": [CONNECT_B, 1, 0, FORGED, 0, 0, 0, 1, 0, 0, 0, 1,
                    FORGED, 0, 0, 0, 0, 0, 0, 0, 0, COUNT_B, 9, 0, COUNT, 9, 0],
    # every bad argument.
    "hand_bad_args": [CONNECT_B, 0, 0, BAD_ARGS, 0, 0, BAD_ARGS, 0, 1, BAD_ARGS, 0, 2,
                      BAD_ARGS, 0, 3, BAD_ARGS, 0, 4],
    # async connects harvested into handles, then used.
    "hand_async_connect": [CONNECT, 0, 1, CONNECT, 1, 2, CONNECT, 0, 0, HARVEST,
                           CREATE, 0, 2, INSERT, 1, 2, 1, 4, CREATE, 1, 2, INSERT, 1, 2, 3, 1, 2, 3,
                           SCAN, 2, 2, 0, 200, 1, HARVEST],
    # a shutdown attempted from a callback, with and without a runtime.
    "hand_shutdown_in_callback": [SHUTDOWN_IN_CB, CONNECT_B, 0, 0, SHUTDOWN_IN_CB, PING, HARVEST,
                                  SHUTDOWN, SHUTDOWN_IN_CB],
    # close racing operations on the same handle.
    "hand_close_race": [CONNECT_B, 0, 2, CREATE, 0, 0, INSERT, 0, 0, 1, 1, COUNT, 0, 0,
                        CLOSE, 0, COUNT, 0, 0, SCAN, 0, 0, 0, 255, 0, CLOSE, 0, HARVEST,
                        CLOSE_B, 0, COUNT_B, 0, 0],
    # nothing connected: every call is NOT_RUNNING.
    "hand_not_running": [COUNT, 0, 0, SCAN, 0, 0, 0, 0, 0, PING, COUNT_B, 0, 0, CLOSE, 0,
                         CLOSE_B, 0, INSERT, 0, 0, 1, 1],
    # two shutdowns in a row, and calls between.
    "hand_double_shutdown": [CONNECT_B, 0, 0, PING, SHUTDOWN, SHUTDOWN, PING, CONNECT, 0, 0,
                             HARVEST, PING, SHUTDOWN],
    # no latency, so each task finishes in its first poll, in order: a
    # missing table (NOT_FOUND), then a table created twice (ALREADY_EXISTS).
    "hand_missing_table": [CONNECT_B, 0, 0, COUNT, 0, 2, SCAN, 0, 1, 0, 9, 0,
                           CREATE, 0, 1, CREATE, 0, 1, HARVEST],
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "bridge_corpus")
    os.makedirs(out, exist_ok=True)
    for name, prog in INPUTS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(prog))


if __name__ == "__main__":
    main()
