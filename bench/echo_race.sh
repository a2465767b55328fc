#!/usr/bin/env bash
# bench/echo_race.sh: the echo race. Starts each echo server in turn on
# loopback (pollwake's one-thread and pool runtimes, tokio's current-thread
# and multi-thread runtimes, Boost.Asio's io_context on one thread (with the
# concurrency hint 1, with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE, and built with
# BOOST_ASIO_DISABLE_THREADS) and on a pool), points the same load generator
# (bench/echo_bench) at it, and stops it. Rounds are interleaved (each round runs every server once) and
# echo_render.py takes the median per server.
#
#   bash bench/echo_race.sh --pollwake DIR --tokio BIN --out DIR [--smoke] [--rounds N]
#                           [--servers NAME,NAME,...]
#       DIR  holds bench/echo_bench, bench/echo_server, bench/peers/asio_echo
#            and bench/peers/asio_echo_nothreads (a Bazel bazel-bin or a
#            runfiles root)
#       BIN  the tokio_echo binary built by cargo (bench/peers/rust)
#       --servers  only these (default: all eight, in the order of
#                  bench/echo_servers.sh)
#   Writes DIR/echo.jsonl (one line per run, with its round; replaced only
#   when the race completes) and prints the tables. Even
#   rounds run the servers in the reverse order, so that no server always
#   runs right after the same other one.
# Environment: ECHO_CONNECTIONS (default 50), ECHO_ROUND_TRIPS (default 4000),
#              ECHO_POOL_THREADS (default 2: the machine's cores).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pw="" tokio="" out="" smoke=0 rounds=3 servers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) servers=$2; shift ;;
    --pollwake) pw=$2; shift ;;
    --tokio) tokio=$2; shift ;;
    --out) out=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --smoke) smoke=1 ;;
    *) echo "echo_race.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$pw" ] && [ -n "$tokio" ] && [ -n "$out" ] || { echo "echo_race.sh: --pollwake, --tokio and --out are required" >&2; exit 2; }
mkdir -p "$out"
conns=${ECHO_CONNECTIONS:-50}
trips=${ECHO_ROUND_TRIPS:-4000}
threads=${ECHO_POOL_THREADS:-2}
if [ "$smoke" = 1 ]; then conns=4; trips=50; rounds=2; fi  # 2: the paired table too

client="$pw/bench/echo_bench"
source "$here/echo_servers.sh"
declare -A server
echo_servers "$pw" "$tokio" "$threads"
echo_order "$servers" "${one_thread_servers[@]}" "${pool_servers[@]}"

# The running server and its output: the trap stops it if this script ends
# early (a failed client, an interrupt).
echo_stop_on_exit

run_one() {  # run_one NAME ROUND
  local name=$1 round=$2 port result ticks cpu_us
  log=$(mktemp)
  # shellcheck disable=SC2086
  ${server[$name]} --port 0 > "$log" 2>&1 &
  pid=$!
  port=$(echo_port "$log" 5)
  if [ -z "$port" ]; then
    echo "echo_race.sh: $name did not start:" >&2; cat "$log" >&2
    exit 1
  fi
  if ! result=$("$client" --addr "127.0.0.1:$port" --connections "$conns" \
      --round-trips "$trips" --name "$name"); then
    echo "echo_race.sh: the load generator failed against $name" >&2
    exit 1
  fi
  # The server's CPU time (user + system, all its threads) per round trip:
  # less sensitive than wall-clock figures to other load on the machine.
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$((conns * trips))" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  echo "${result%\}}, \"server_cpu_us_per_round_trip\": $cpu_us, \"round\": $round}" >> "$out/echo.jsonl.partial"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  rm -f "$log"
  log=""
}

rm -f "$out/echo.jsonl.partial"
for round in $(seq 1 "$rounds"); do
  this_round=("${order[@]}")
  if [ $((round % 2)) = 0 ]; then
    this_round=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do this_round+=("${order[$i]}"); done
  fi
  for name in "${this_round[@]}"; do
    echo "=== echo race: round $round/$rounds: $name ($conns connections x $trips round trips of 64 bytes)" >&2
    run_one "$name" "$round"
  done
done
# Only a complete race that renders replaces the last one's file.
/usr/bin/python3 "$here/echo_render.py" "$out/echo.jsonl.partial"
mv "$out/echo.jsonl.partial" "$out/echo.jsonl"
