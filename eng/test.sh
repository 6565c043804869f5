#!/usr/bin/env bash
# Runs every test project against a real PostgreSQL (started by eng/postgres.sh unless
# CAMPAIGNS_POSTGRES points at one) and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
export CAMPAIGNS_POSTGRES

out=$(mktemp)
trap 'rm -f "$out"' EXIT
dotnet test EventSourcedCampaigns.sln -c Release "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}

# One "Passed! / Failed! - Failed: a, Passed: b, Skipped: c, Total: d" line per test assembly.
read -r passed failed skipped projects < <(grep -E '(Passed|Failed)!? +- +Failed: ' "$out" | awk -F'[:,]' '
  { failed += $2; passed += $4; skipped += $6; n++ }
  END { printf "%d %d %d %d\n", passed, failed, skipped, n }')

if [ "$projects" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test assembly reported results" >&2
  status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
