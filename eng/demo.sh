#!/usr/bin/env bash
# The README's first command: runs the console demo against the self-started PostgreSQL
# (or CAMPAIGNS_POSTGRES) and the self-started capturing SMTP server (eng/smtp.sh, in .smtp/demo/ unless
# CAMPAIGNS_SMTP_DIR names another folder). Both are left running and reused by the next run; stop them with
# bash eng/postgres.sh stop and CAMPAIGNS_SMTP_DIR=.smtp/demo bash eng/smtp.sh stop.
# Options pass through, e.g. bash eng/demo.sh --audience 200000 --latency-ms 5
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start)
export CAMPAIGNS_POSTGRES
CAMPAIGNS_SMTP_DIR="${CAMPAIGNS_SMTP_DIR:-$repo/.smtp/demo}"
export CAMPAIGNS_SMTP_DIR
bash eng/smtp.sh start >/dev/null
dotnet run -c Release --project samples/EventSourcedCampaigns.Demo -- "$@"
