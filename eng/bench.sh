#!/usr/bin/env bash
# Runs the benchmark harness against the self-started PostgreSQL (or CAMPAIGNS_POSTGRES).
#   bash eng/bench.sh                 full sizes (the published figures), twice: fsync off, then fsync on
#   bash eng/bench.sh quick           small sizes, a minute or two with the build, fsync off only (CI checks it runs; never a speed)
#   bash eng/bench.sh [quick] --fsync on|off|both
#
# fsync off: the throwaway cluster (.postgres/, as the tests use it); results in benchmark-results.json.
# fsync on: a second private cluster (.postgres-fsync-on/, started with CAMPAIGNS_POSTGRES_FSYNC=on, stopped again at
# the end; synchronous_commit is on in both); results in benchmark-results-fsync-on.json.
# With both, a last table puts the two runs side by side. With CAMPAIGNS_POSTGRES set, the harness runs once against
# that server, whatever its settings (the table's machine section says which).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

quick=0 fsync=
usage() { echo "usage: bash eng/bench.sh [quick] [--fsync on|off|both]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    quick) quick=1; shift ;;
    --fsync) [ $# -ge 2 ] || usage; fsync=$2; shift 2 ;;
    *) usage ;;
  esac
done
if [ -z "$fsync" ]; then if [ "$quick" = 1 ]; then fsync=off; else fsync=both; fi; fi
case "$fsync" in on|off|both) ;; *) usage ;; esac

mode=()
[ "$quick" = 1 ] && mode=(--quick)
dotnet build tests/EventSourcedCampaigns.Benchmarks -c Release -nologo -v quiet >&2
harness=tests/EventSourcedCampaigns.Benchmarks/bin/Release/net10.0/EventSourcedCampaigns.Benchmarks.dll

if [ -n "${CAMPAIGNS_POSTGRES:-}" ]; then
  [ "$fsync" = both ] || echo "[bench] CAMPAIGNS_POSTGRES is set: one run against that server (--fsync $fsync is not applied)" >&2
  exec dotnet "$harness" "${mode[@]}"
fi

run() { # run <on|off> <output>
  local connection
  if [ "$1" = on ]; then
    # A port of its own: a CAMPAIGNS_POSTGRES_PORT exported for the first cluster is taken by it.
    connection=$(CAMPAIGNS_POSTGRES_PORT= CAMPAIGNS_POSTGRES_DIR="$repo/.postgres-fsync-on" CAMPAIGNS_POSTGRES_FSYNC=on bash eng/postgres.sh start)
  else
    connection=$(bash eng/postgres.sh start)
  fi
  echo "[bench] fsync $1: $connection" >&2
  CAMPAIGNS_POSTGRES=$connection dotnet "$harness" "${mode[@]}" --output "$2"
}
stop_fsync_on() { CAMPAIGNS_POSTGRES_DIR="$repo/.postgres-fsync-on" bash eng/postgres.sh stop; }

case "$fsync" in
  off) run off benchmark-results.json ;;
  on) trap stop_fsync_on EXIT; run on benchmark-results-fsync-on.json ;;
  both)
    trap stop_fsync_on EXIT
    run off benchmark-results.json
    run on benchmark-results-fsync-on.json
    dotnet "$harness" --compare benchmark-results.json benchmark-results-fsync-on.json
    ;;
esac
