#!/usr/bin/env bash
# Runs the benchmark harness against the self-started PostgreSQL (or CAMPAIGNS_POSTGRES).
#   bash eng/bench.sh          full sizes (the published figures)
#   bash eng/bench.sh quick    small sizes, a few minutes (CI checks it runs; never a speed)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start)
export CAMPAIGNS_POSTGRES
mode=()
[ "${1:-}" = quick ] && mode=(--quick)
dotnet run -c Release --project tests/EventSourcedCampaigns.Benchmarks -- "${mode[@]}"
