#!/usr/bin/env bash
# The README's first command: runs the console demo against the self-started PostgreSQL
# (or CAMPAIGNS_POSTGRES). Options pass through, e.g. bash eng/demo.sh --audience 200000 --latency-ms 5
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start)
export CAMPAIGNS_POSTGRES
dotnet run -c Release --project samples/EventSourcedCampaigns.Demo -- "$@"
