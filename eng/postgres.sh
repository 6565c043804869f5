#!/usr/bin/env bash
# A throwaway PostgreSQL for tests, the demo and benchmarks.
#
#   eng/postgres.sh start   make sure a server runs; print its Npgsql connection string
#   eng/postgres.sh stop    stop the throwaway cluster
#   eng/postgres.sh wipe    stop it and delete its data
#   eng/postgres.sh restart crash-restart it (pg_ctl restart -m immediate); wait until it accepts connections again
#
# If CAMPAIGNS_POSTGRES is set, that server is used and nothing is started.
# The cluster lives in .postgres/ (git-ignored). A private cluster, for tests that restart or break the server:
#   CAMPAIGNS_POSTGRES_DIR=<dir> CAMPAIGNS_POSTGRES_PORT=<port> eng/postgres.sh start|restart|stop|wipe
# keeps its state in <dir> instead (wipe deletes <dir>) and listens on <port> (start fails if that port is taken).
# The cluster runs with fsync=off (a throwaway); CAMPAIGNS_POSTGRES_FSYNC=on starts it with fsync on, as a durable
# server runs (synchronous_commit is on either way). The setting takes effect when the server starts: give such a
# cluster a CAMPAIGNS_POSTGRES_DIR of its own (eng/bench.sh --fsync on uses .postgres-fsync-on/). When run as root the server runs as the unprivileged
# `postgres` user; if that user cannot reach the repository (a clone under a private temp folder),
# the data goes to a folder under /tmp named after the repository path instead.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="${CAMPAIGNS_POSTGRES_DIR:-$repo/.postgres}"
# Absolute: the server (run as postgres, from another directory) puts its socket and lock file there.
case "$state" in /*) ;; *) state="$PWD/$state" ;; esac
fixed_port="${CAMPAIGNS_POSTGRES_PORT:-}"
fsync="${CAMPAIGNS_POSTGRES_FSYNC:-off}"
if [ "$fsync" != on ] && [ "$fsync" != off ]; then echo "[postgres] CAMPAIGNS_POSTGRES_FSYNC must be on or off" >&2; exit 2; fi
if [ -n "$fixed_port" ] && ! [[ "$fixed_port" =~ ^[0-9]+$ ]]; then echo "[postgres] CAMPAIGNS_POSTGRES_PORT must be a port number" >&2; exit 2; fi
log() { echo "[postgres] $*" >&2; }

if [ -n "${CAMPAIGNS_POSTGRES:-}" ] && [ "${1:-start}" = start ]; then
  echo "$CAMPAIGNS_POSTGRES"
  exit 0
fi

find_bindir() {
  local d
  for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ] && [ "${1:-start}" = start ]; then
  log "PostgreSQL server binaries not found; installing the Debian package"
  if [ "$(id -u)" -ne 0 ]; then log "run as root (or install postgresql) to continue"; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(find_bindir)
fi

# Who runs the server, and where its files can live.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  as_owner=(runuser -u postgres --)
fi
mkdir -p "$state"
# One at a time: two services started together raced on the state files (one read an empty home and died, and a later
# stop found no cluster to stop). The lock is released when the script exits; the server it starts must not inherit it
# (9>&- on pg_ctl), or it would hold it for as long as it runs.
exec 9>"$state/.lock"
flock 9
if [ -s "$state/home" ]; then
  home=$(cat "$state/home")
elif [ ${#as_owner[@]} -gt 0 ] && ! "${as_owner[@]}" test -x "$state"; then
  home="/tmp/campaigns-postgres-$(echo "${CAMPAIGNS_POSTGRES_DIR:-$repo}" | md5sum | cut -c1-12)"
else
  home="$state/cluster"
fi
echo "$home" > "$state/home"
data="$home/data"

running() { [ -f "$data/postmaster.pid" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-start}" in
  start)
    if running && [ -f "$state/port" ]; then
      port=$(cat "$state/port")
    else
      mkdir -p "$home"
      [ ${#as_owner[@]} -gt 0 ] && chown postgres "$home"
      if [ ! -f "$data/PG_VERSION" ]; then
        log "initdb $data"
        # C.UTF-8 whatever the environment's locale: with LANG unset the cluster's LC_CTYPE was C, whose lower() and
        # upper() map A to Z only, and the Campaigns list's name filter then told Cyrillic or Greek capitals apart.
        "${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1
      fi
      if [ -n "$fixed_port" ]; then
        port=$fixed_port
        if ! port_free "$port"; then log "port $port (CAMPAIGNS_POSTGRES_PORT) is in use"; exit 1; fi
      else
        port=55432
        while ! port_free "$port"; do port=$((port + 1)); done
      fi
      log "starting on 127.0.0.1:$port (fsync $fsync)"
      # fsync off by default: a throwaway test cluster; CAMPAIGNS_POSTGRES_FSYNC=on for the durable figures.
      # pg_stat_statements: the benchmark harness counts statements per batch with it (docs/benchmarks.md).
      "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$home/server.log" -w -t 60 start 9>&- \
        -o "-p $port -k $home -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=300 -c shared_preload_libraries=pg_stat_statements" >&2
      echo "$port" > "$state/port"
    fi
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    if running; then "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2; fi
    ;;
  restart)
    if ! running; then log "no cluster runs in $data; start it first"; exit 1; fi
    port=$(cat "$state/port")
    log "restarting (immediate) on 127.0.0.1:$port"
    # -m immediate: the server stops as if it crashed (no checkpoint) and recovers from its WAL on start; the
    # start reuses the options of the previous start (postmaster.opts).
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$home/server.log" -m immediate -w -t 60 restart >&2 9>&-
    for _ in $(seq 1 600); do
      if "${as_owner[@]}" "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
        echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
        exit 0
      fi
      sleep 0.1
    done
    log "the restarted server does not accept connections on port $port after 60 s; see $home/server.log"
    exit 1
    ;;
  wipe)
    if running; then "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2; fi
    rm -rf "$home" "$state"
    log "wiped"
    ;;
  *)
    echo "usage: $0 start|stop|restart|wipe" >&2; exit 2 ;;
esac
