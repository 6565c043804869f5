#!/usr/bin/env bash
# The soak run (docs/benchmarks.md, "Soak run"): two service processes with every role on one database, 100 campaigns
# scheduled, sent, paused, resumed and cancelled at random over HTTP with development tokens, one process SIGKILLed
# and restarted every few minutes; the invariants are checked throughout and the read models compared with a rebuild
# at the end. Prints throughput, projection lag and memory over time; writes soak-results.json (and the nodes' logs
# in soak-logs/); exits 1 if an invariant failed.
#
#   bash eng/soak.sh             30 minutes (the published run)
#   bash eng/soak.sh 5           5 minutes
#   bash eng/soak.sh 1 --campaigns 8 --max-recipients 2000 --kill-every 20     any driver option after the minutes
#
# Starts the throwaway PostgreSQL (or uses CAMPAIGNS_POSTGRES) and creates (dropping it first) the database "soak" on it.
# The service's local provider and contact base are used (nothing leaves the machine). Nodes listen on 5090 and 5091
# (--port N for N and N+1).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

minutes=30
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then minutes=$1; shift; fi

CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start)
export CAMPAIGNS_POSTGRES
project=tests/EventSourcedCampaigns.Soak
dotnet build "$project" -c Release -nologo -v quiet >&2
# From the repository root: soak-results.json and soak-logs/ land here (git-ignored).
exec dotnet "$project/bin/Release/net10.0/EventSourcedCampaigns.Soak.dll" --minutes "$minutes" "$@"
