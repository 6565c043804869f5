#!/usr/bin/env bash
# Runs the campaign service (src/EventSourcedCampaigns.Service) on the embedded default: the throwaway PostgreSQL
# (or CAMPAIGNS_POSTGRES), the local provider and a generated audience where any list name exists.
#
#   bash eng/serve.sh                          all roles (api, sender, projections) on http://127.0.0.1:5080
#   bash eng/serve.sh --port 5081 --roles sender
#   bash eng/serve.sh --port 5082 --roles api,projections -- --Campaigns:Local:Latency=00:00:00.050
#   bash eng/serve.sh token --tenant shop --actor ana@shop.example [--scopes campaigns:read,campaigns:cancel]
#                                              prints a development bearer token (and nothing else) for that service
#
# Prints "Listening on http://127.0.0.1:PORT" once the service answers; a port that something else already listens on
# stops it at once with exit code 1. Several processes share one database and the work (docs/service.md); build once,
# then start each with --no-build.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

project=src/EventSourcedCampaigns.Service
output="$project/bin/Release/net10.0"

if [ "${1:-}" = token ]; then
  shift
  [ -f "$output/EventSourcedCampaigns.Service.dll" ] || dotnet build "$project" -c Release -nologo -v quiet >&2
  # The service's dev-token command, from its output folder (so it reads the same settings); only the token goes to stdout.
  cd "$output" && exec dotnet EventSourcedCampaigns.Service.dll dev-token "$@"
fi

port=5080 roles=api,sender,projections build=1
usage() { echo "usage: bash eng/serve.sh [--port N] [--roles api,sender,projections] [--no-build] [-- service arguments] | bash eng/serve.sh token --tenant T --actor A [--scopes S1,S2] [--hours 1-720]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
    --roles) [ $# -ge 2 ] || usage; roles=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[[ "$port" =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { echo "eng/serve.sh: --port takes a port number from 1 to 65535, not '$port'" >&2; exit 2; }
# A port already taken (say, by a service started earlier) would answer the health probe below in this one's place: it
# would print "Listening on" and then exit when Kestrel cannot bind. Refuse at once instead.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "eng/serve.sh: port $port is in use (another service listens there): stop it, or choose another port with --port" >&2
  exit 1
fi

CAMPAIGNS_POSTGRES=$(bash eng/postgres.sh start)
export CAMPAIGNS_POSTGRES
if [ "$build" = 1 ]; then dotnet build "$project" -c Release -nologo -v quiet >&2; fi

url="http://127.0.0.1:$port"
# From its output folder, so that it reads its appsettings.json.
# Development: development tokens (bash eng/serve.sh token) are accepted; they never are in Production.
(cd "$output" && ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}" exec dotnet EventSourcedCampaigns.Service.dll --urls "$url" --Campaigns:Roles="$roles" "$@") &
service=$!
trap 'kill -TERM "$service" 2>/dev/null; wait "$service" 2>/dev/null' INT TERM
for _ in $(seq 1 600); do
  if ! kill -0 "$service" 2>/dev/null; then wait "$service"; exit $?; fi
  if curl -fsS "$url/health/live" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
echo "Listening on $url"
wait "$service"
