#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed (the dashboard's browser tests drive it through Playwright; Playwright's own
# browser download cannot work on these machines) and prints its path.
#   eng/chromium.sh        install it if missing (apt-get, as root or through sudo), print the executable
set -euo pipefail
log() { echo "[chromium] $*" >&2; }

find_chromium() { command -v chromium || command -v chromium-browser || true; }

path=$(find_chromium)
if [ -z "$path" ]; then
  log "chromium is not installed; installing Debian's package"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo -n"; else log "not root and no sudo: install the 'chromium' package"; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y chromium >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y chromium >&2; }
  path=$(find_chromium)
  [ -n "$path" ] || { log "chromium is still missing after apt-get"; exit 1; }
fi
echo "$path"
