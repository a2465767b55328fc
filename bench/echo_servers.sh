# bench/echo_servers.sh: what bench/echo_race.sh and bench/echo_instructions.sh
# share, sourced by both.
#
#   echo_servers PW TOKIO THREADS   fills the associative array `server`
#                                   (declared by the caller: declare -A server)
#                                   with each server's command line, by name,
#                                   and the arrays `one_thread_servers` and
#                                   `pool_servers` with their names, in the
#                                   order of the tables
#   echo_order SPEC NAME...         fills the array `order` with the servers
#                                   to run: the NAMEs if SPEC is empty, else
#                                   SPEC's comma-separated names, each one of
#                                   the NAMEs, none twice (exits 2 otherwise)
#   echo_stop_on_exit               on exit, kills the server whose pid is in
#                                   `pid` and removes the file named in `log`
#                                   (each set by the caller while a server
#                                   runs, emptied after), keeping the exit
#                                   status
#   echo_port LOG SECONDS           waits until a server started with its
#                                   output in LOG says "listening on
#                                   127.0.0.1:PORT"; prints PORT, or nothing
#                                   after SECONDS

echo_servers() {
  local pw=$1 tokio=$2 threads=$3
  server=(
    [pollwake_one_thread]="$pw/bench/echo_server --mode local"
    [pollwake_pool]="$pw/bench/echo_server --mode pool --threads $threads"
    [tokio_current_thread]="$tokio --flavor current"
    [tokio_multi_thread]="$tokio --flavor multi --threads $threads"
    [asio_one_thread]="$pw/bench/peers/asio_echo --threads 1"
    [asio_one_thread_unsafe]="$pw/bench/peers/asio_echo --threads 1 --unsafe 1"
    [asio_one_thread_nothreads]="$pw/bench/peers/asio_echo_nothreads --threads 1"
    [asio_pool]="$pw/bench/peers/asio_echo --threads $threads"
  )
  one_thread_servers=(pollwake_one_thread tokio_current_thread asio_one_thread
                      asio_one_thread_unsafe asio_one_thread_nothreads)
  pool_servers=(pollwake_pool tokio_multi_thread asio_pool)
}

echo_port() {
  local log=$1 tries=$(( $2 * 10 )) port=""
  for _ in $(seq 1 "$tries"); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  echo "$port"
}

echo_order() {
  local spec=$1 name one known
  shift
  if [ -z "$spec" ]; then order=("$@"); return; fi
  IFS=, read -r -a order <<< "$spec"
  local -A named=()
  for name in "${order[@]}"; do
    known=0
    for one in "$@"; do [ "$name" = "$one" ] && known=1; done
    [ "$known" = 1 ] || { echo "$(basename "$0"): '$name' is not one of: $*" >&2; exit 2; }
    [ -z "${named[$name]+x}" ] || { echo "$(basename "$0"): $name named twice" >&2; exit 2; }
    named[$name]=1
  done
}

echo_stop_on_exit() {
  pid="" log=""
  trap _echo_cleanup EXIT
}

_echo_cleanup() {
  local status=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$log" ]; then rm -f "$log"; fi
  exit "$status"
}
