#!/usr/bin/env bash
# A throw-away docker-registry (distribution 2.8, Debian's docker-registry package) on loopback,
# for tests that push to and read from a real registry.
#
#   scripts/test-registry.sh start DIR   # prints 127.0.0.1:PORT once the registry answers
#   scripts/test-registry.sh stop DIR    # stops that registry by its PID and removes nothing else
#
# DIR holds the config, the storage, the log and the PID file. The port is a free one the kernel
# picks, so parallel test runs (and a registry someone else runs on :5000) do not collide.
set -euo pipefail

start() {
  local dir=$1
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  command -v docker-registry >/dev/null || "$(dirname "$0")/oracles.sh" ensure_apt docker-registry
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    cat >"$dir/config.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
YML
    # A new session, so the registry outlives this script and the test's signals, and no file
    # descriptor but its log: Foundation's Process watches a socket its child inherits to learn
    # that the child exited, and a registry holding that socket would make the caller wait forever.
    python3 -c '
import subprocess, sys
log = open(sys.argv[1], "wb")
child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         close_fds=True, start_new_session=True)
print(child.pid)
' "$dir/registry.log" docker-registry serve "$dir/config.yml" >"$dir/registry.pid"
    local i
    for i in $(seq 100); do
      if curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
        echo "127.0.0.1:$port"
        return 0
      fi
      kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null || break
      sleep 0.1
    done
    stop "$dir"   # the port was taken meanwhile, or the registry failed: try another port
  done
  echo "test-registry.sh: docker-registry did not start; see $dir/registry.log" >&2
  return 1
}

stop() {
  local pidfile=$1/registry.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start | stop) "$1" "${2:?usage: $0 start|stop DIR}" ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
