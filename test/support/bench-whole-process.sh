#!/usr/bin/env bash
# Whole-process timings for the README's "Start-up" table: Node's own start-up, `psync-sim --help`,
# a lesson replayed by psync-sim, and the same story staged on real redis-server processes
# (started, driven with redis-cli, stopped), each run N times (default 7): fastest and median.
#
#   bash test/support/bench-whole-process.sh [N]      # from the repository root, after npm ci
#
# The story is scenarios/lessons/01-first-sync.scn: a master with a key, a replica attached by
# REPLICAOF with a disk-based full sync, one more write, offsets checked. The real side waits only
# for the servers (a poll every 10 ms), not for the lesson's `at 1s`; every check of the lesson is
# made on the real servers too, so a run that disagrees stops the script.
set -euo pipefail
LOGS=()
N=${1:-7}
LESSON=scenarios/lessons/01-first-sync.scn
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }

now_ms() { date +%s%3N; }

# fastest and median of the numbers on stdin: wall ms, then (if there is a second column) CPU ms
med() { sort -n | awk '{ a[NR] = $1 } END { printf "fastest %d ms, median %d ms", a[1], a[int((NR + 1) / 2)] }'; }
stats() {
  local rows; rows=$(cat)
  med <<<"$(cut -d' ' -f1 <<<"$rows")"
  if [ -n "$(cut -s -d' ' -f2 <<<"$rows" | tr -d '\n')" ]; then printf '; CPU (user+sys) '; med <<<"$(cut -d' ' -f2 <<<"$rows")"; fi
  echo
}

# Each run's wall ms, and with GNU time installed its CPU ms (user + sys, 10 ms resolution): on a
# shared machine CPU time is the steadier figure, wall time is what a user waits.
TIME_BIN=$(command -v /usr/bin/time || true)
time_n() { # label, command...
  local label=$1; shift
  local t0 t1 cpu=''
  local tf; tf=$(mktemp)
  for _ in $(seq "$N"); do
    t0=$(now_ms)
    if [ -n "$TIME_BIN" ] && [ "$(type -t "$1")" = file ]; then
      "$TIME_BIN" -f '%U %S' -o "$tf" "$@" >/dev/null
      cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tf")
    else
      "$@" >/dev/null
    fi
    t1=$(now_ms); echo "$((t1 - t0)) $cpu"
  done | stats | sed "s|^|$label: |"
  rm -f "$tf"
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    redis-cli -p "$p" PING >/dev/null 2>&1 || { echo "$p"; return; }
  done
}

field() { # port, INFO field
  redis-cli -p "$1" INFO | tr -d '\r' | sed -n "s/^$2://p"
}

want() { # what, got, expected
  [ "$2" = "$3" ] || { echo "real replay: $1 is '$2', expected '$3'" >&2; exit 1; }
}

wait_until() { # what, command... (polls every 10 ms, for at most 3000 polls)
  local what=$1; shift
  for _ in $(seq 3000); do "$@" && return 0; sleep 0.01; done
  echo "real replay: timed out waiting for $what" >&2
  for f in "${LOGS[@]}"; do echo "--- $f" >&2; tail -5 "$f" >&2; done
  exit 1
}

real_replay() {
  local dir pm pr
  dir=$(mktemp -d)
  pm=$(free_port); pr=$(free_port)
  while [ "$pr" = "$pm" ]; do pr=$(free_port); done
  mkdir "$dir/m" "$dir/r1"
  LOGS=("$dir/m.log" "$dir/r1.log")
  redis-server --port "$pm" --bind 127.0.0.1 --dir "$dir/m" --save '' --daemonize yes --logfile "$dir/m.log" \
    --pidfile "$dir/m.pid" --repl-diskless-sync no --repl-ping-replica-period 3600
  redis-server --port "$pr" --bind 127.0.0.1 --dir "$dir/r1" --save '' --daemonize yes --logfile "$dir/r1.log" \
    --pidfile "$dir/r1.pid" --repl-ping-replica-period 3600
  # Stop both servers however this ends: at the return, or at an `exit 1` of a failed check or
  # wait, or at Ctrl-C (a RETURN trap alone misses the last two and leaves daemons running).
  STOP="redis-cli -p $pm SHUTDOWN NOSAVE >/dev/null 2>&1; redis-cli -p $pr SHUTDOWN NOSAVE >/dev/null 2>&1; for f in $dir/m.pid $dir/r1.pid; do [ -f \$f ] && kill \$(cat \$f) 2>/dev/null; done; rm -rf $dir"
  trap 'eval "$STOP"; trap - RETURN' RETURN
  trap 'eval "$STOP"' EXIT
  trap 'exit 130' INT TERM
  wait_until "m to answer" test "$(redis-cli -p "$pm" PING 2>/dev/null)" = PONG
  wait_until "r1 to answer" test "$(redis-cli -p "$pr" PING 2>/dev/null)" = PONG
  redis-cli -p "$pm" SET greeting hello >/dev/null
  want m.master_repl_offset "$(field "$pm" master_repl_offset)" 0
  local before; before=$(field "$pm" master_replid)
  redis-cli -p "$pr" REPLICAOF 127.0.0.1 "$pm" >/dev/null
  wait_until "r1's link" test "$(field "$pr" master_link_status)" = up
  want m.sync_full "$(field "$pm" sync_full)" 1
  want m.sync_partial_err "$(field "$pm" sync_partial_err)" 1
  want m.sync_partial_ok "$(field "$pm" sync_partial_ok)" 0
  [ "$(field "$pm" master_replid)" != "$before" ] || { echo "real replay: the replid did not change" >&2; exit 1; }
  want m.repl_backlog_active "$(field "$pm" repl_backlog_active)" 1
  want r1.master_replid "$(field "$pr" master_replid)" "$(field "$pm" master_replid)"
  want "r1: GET greeting" "$(redis-cli -p "$pr" GET greeting)" hello
  want m.connected_slaves "$(field "$pm" connected_slaves)" 1
  want r1.master_repl_offset "$(field "$pr" master_repl_offset)" "$(field "$pm" master_repl_offset)"
  redis-cli -p "$pm" SET k v >/dev/null
  wait_until "the offsets to reach 50" test "$(field "$pr" master_repl_offset)" = 50
  want m.master_repl_offset "$(field "$pm" master_repl_offset)" 50
  want r1.slave_repl_offset "$(field "$pr" slave_repl_offset)" 50
}

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), $(redis-server --version | cut -d' ' -f3), $N runs each"
time_n 'node -e 0' node -e 0
time_n 'psync-sim --help' node sim/psync-sim.js --help
time_n 'psync-sim run --help' node sim/psync-sim.js run --help
time_n 'psync-sim --help through yargs (dist/cli.js)' node dist/cli.js --help
time_n "psync-sim run $LESSON" node sim/psync-sim.js run "$LESSON"
time_n "the same story on 2 real redis-server processes" real_replay
