#!/usr/bin/env bash
# bench/echo_instructions.sh: the user-space instructions each one-thread echo
# server executes per round trip, counted by valgrind's callgrind.
#
# The echo race (echo_race.sh) measures time, and on loopback most of a
# server's time is the kernel's, so servers whose own code differs by a few
# percent cannot be ranked by it. This script counts what time hides: the
# instructions each server executes in user space (the runtime, the echo
# code, libc's system call wrappers; callgrind does not see the kernel). A
# count does not move with the load of the machine, but it is taken at one
# operating point: under valgrind the server runs many times slower than its
# client, so at 50 connections it nearly always finds data waiting, and a
# server that reads before it waits (Asio) seldom makes the reads that find
# nothing (EAGAIN) that it makes natively; with fewer connections it waits
# in epoll_wait more often. Compare servers with it at the point it was
# taken, and not as a share of a round trip's time.
#
# Each server runs twice under callgrind, serving C x M1 and C x M2 round
# trips; the difference of the two totals divided by C x (M2 - M1) leaves out
# start-up, accepting and shutting down.
#
#   bash bench/echo_instructions.sh --pollwake DIR --tokio BIN [--servers NAME,...]
#       DIR  holds bench/echo_bench, bench/echo_server, bench/peers/asio_echo,
#            bench/peers/asio_echo_nothreads (a --config=opt bazel-bin)
#       BIN  the tokio_echo binary built by cargo (bench/peers/rust)
#       --servers  only these one-thread servers (default: all five)
# Environment: ECHO_CONNECTIONS (default 50), ECHO_M1 (1000), ECHO_M2 (4000).
# Prints a Markdown table: each server and its instructions per round trip.
# Needs valgrind (installed by .ci/deps.sh).
set -euo pipefail

pw="" tokio="" servers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pollwake) pw=$2; shift ;;
    --tokio) tokio=$2; shift ;;
    --servers) servers=$2; shift ;;
    *) echo "echo_instructions.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$pw" ] && [ -n "$tokio" ] || { echo "echo_instructions.sh: --pollwake and --tokio are required" >&2; exit 2; }
command -v valgrind > /dev/null || { echo "echo_instructions.sh: valgrind not found" >&2; exit 2; }
conns=${ECHO_CONNECTIONS:-50}
m1=${ECHO_M1:-1000}
m2=${ECHO_M2:-4000}
[ "$m2" -gt "$m1" ] || { echo "echo_instructions.sh: ECHO_M2 must exceed ECHO_M1" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/echo_servers.sh"
declare -A server
echo_servers "$pw" "$tokio" 1
echo_order "$servers" "${one_thread_servers[@]}"

# The server under callgrind and its output, while one runs: the trap stops
# it if this script ends early (a failed client, an interrupt).
echo_stop_on_exit

count() {  # count NAME M: sets `total`, the server's instructions for C x M round trips
  local name=$1 m=$2 port
  total=""
  log=$(mktemp)
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file=/dev/null ${server[$name]} --port 0 > "$log" 2>&1 &
  pid=$!
  port=$(echo_port "$log" 30)  # valgrind starts slowly
  if [ -z "$port" ]; then
    echo "echo_instructions.sh: $name did not start:" >&2; cat "$log" >&2
    exit 1
  fi
  if ! "$pw/bench/echo_bench" --addr "127.0.0.1:$port" --connections "$conns" \
      --round-trips "$m" --name "$name" > /dev/null; then
    echo "echo_instructions.sh: the load generator failed against $name" >&2
    exit 1
  fi
  # The servers serve until killed; callgrind writes its total when the
  # process dies of a signal. TERM, not INT: a shell without job control
  # starts background commands with SIGINT ignored.
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  total=$(awk '/Collected :/ {print $4}' "$log")
  rm -f "$log"
  log=""
  [ -n "$total" ] || { echo "echo_instructions.sh: no callgrind total for $name" >&2; exit 1; }
}

echo "User-space instructions per round trip of each one-thread echo server (callgrind;"
echo "$conns connections, the run of $m2 round trips each minus the run of $m1)."
echo
echo "| server | instructions per round trip |"
echo "|---|---:|"
for name in "${order[@]}"; do
  count "$name" "$m1"
  a=$total
  count "$name" "$m2"
  b=$total
  awk -v n="$name" -v a="$a" -v b="$b" -v d="$((conns * (m2 - m1)))" \
    'BEGIN { printf "| %s | %.0f |\n", n, (b - a) / d }'
done
