#!/usr/bin/env bash
# A real SMTP server for tests, benchmarks and the demo: eng/smtp/capture_server.py on Debian's aiosmtpd. It writes
# every message it accepts to a folder and injects faults on demand (see the script's docstring).
#
#   eng/smtp.sh start   make sure a server runs; print its port
#   eng/smtp.sh stop    stop it
#
# State lives in CAMPAIGNS_SMTP_DIR (default .smtp/, git-ignored): port, pid, log, messages/, faults.json.
# A test that wants its own server (own messages, own faults) gives it a folder of its own. The port is
# CAMPAIGNS_SMTP_PORT, or any free port (the server binds port 0 and writes the port it got).
# Installs the Debian package python3-aiosmtpd if missing (root). Runs with /usr/bin/python3: the python3 first
# on PATH may be another installation without the module.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="${CAMPAIGNS_SMTP_DIR:-$repo/.smtp}"
port="${CAMPAIGNS_SMTP_PORT:-0}"
python=/usr/bin/python3
log() { echo "[smtp] $*" >&2; }
if ! [[ "$port" =~ ^[0-9]+$ ]]; then log "CAMPAIGNS_SMTP_PORT must be a port number"; exit 2; fi

running() { [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }

install() {
  if [ -x "$python" ] && "$python" -c 'import aiosmtpd' 2>/dev/null; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then log "python3-aiosmtpd is missing: run as root (or apt-get install python3-aiosmtpd)"; exit 1; fi
  # Several test fixtures may start servers at once: one installs, the others wait for it.
  exec 9>/tmp/campaigns-smtp-install.lock
  flock 9
  if ! "$python" -c 'import aiosmtpd' 2>/dev/null; then
    log "installing the Debian package python3-aiosmtpd"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq python3-aiosmtpd >&2 || { apt-get update -qq >&2 && apt-get install -y -qq python3-aiosmtpd >&2; }
  fi
  flock -u 9
}

case "${1:-start}" in
  start)
    if running && [ -f "$state/port" ]; then cat "$state/port"; echo; exit 0; fi
    install
    mkdir -p "$state/messages"
    rm -f "$state/port"
    nohup "$python" "$repo/eng/smtp/capture_server.py" "$state" "$port" >"$state/log" 2>&1 &
    echo $! > "$state/pid"
    for _ in $(seq 1 300); do
      if [ -f "$state/port" ]; then cat "$state/port"; echo; exit 0; fi
      if ! running; then log "the server exited; see $state/log"; cat "$state/log" >&2; exit 1; fi
      sleep 0.1
    done
    log "the server did not listen within 30 s; see $state/log"
    exit 1
    ;;
  stop)
    if running; then
      pid=$(cat "$state/pid")
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$state/pid" "$state/port"
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
