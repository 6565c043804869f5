#!/usr/bin/env bash
# Packs the library packages (EventSourcedCampaigns, .Marten, .Wolverine, .Testing, .Smtp, .Webhooks) with their symbol
# packages into artifacts/packages, or into the folder given with -o. Release unless -c says otherwise.
# Other arguments go to `dotnet pack`. The version comes from Directory.Build.props.
#
#   bash eng/pack.sh                 # -> artifacts/packages/*.nupkg, *.snupkg
#   bash eng/pack.sh -o /tmp/feed    # -> /tmp/feed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
caller=$PWD # a relative -o is the caller's folder, not the repository's
cd "$repo"

command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

out="$repo/artifacts/packages"
configuration=Release
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--output) [ $# -ge 2 ] || { echo "usage: eng/pack.sh [-o DIR] [-c CONFIGURATION] [dotnet pack options]" >&2; exit 2; }
                 case "$2" in /*) out=$2 ;; *) out="$caller/$2" ;; esac; shift 2 ;;
    -c|--configuration) [ $# -ge 2 ] || { echo "usage: eng/pack.sh [-o DIR] [-c CONFIGURATION] [dotnet pack options]" >&2; exit 2; }
                 configuration=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Only this version's packages are replaced; a feed folder never mixes two builds of one version.
version=$(dotnet msbuild src/EventSourcedCampaigns/EventSourcedCampaigns.csproj -getProperty:Version)
rm -f "$out"/EventSourcedCampaigns*."$version".nupkg "$out"/EventSourcedCampaigns*."$version".snupkg

dotnet pack EventSourcedCampaigns.sln -c "$configuration" -o "$out" -warnaserror ${args[@]+"${args[@]}"}

ls -1 "$out"/EventSourcedCampaigns*."$version".nupkg "$out"/EventSourcedCampaigns*."$version".snupkg
