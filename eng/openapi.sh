#!/usr/bin/env bash
# The OpenAPI contract (docs/api.md):
#   bash eng/openapi.sh update   rewrite docs/openapi/v1.json from what the service serves (a deliberate change)
#   bash eng/openapi.sh check    fail when the served document differs from the committed one (the test that CI runs)
#   bash eng/openapi.sh lint     Spectral (spectral:oas, .spectral.yaml) on the committed document; installs the pinned
#                                @stoplight/spectral-cli into eng/openapi/node_modules on first use (npm ci, no global install)
# update and check need PostgreSQL (CAMPAIGNS_POSTGRES, or the throwaway one of eng/postgres.sh), as the service tests do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tests=tests/EventSourcedCampaigns.Service.Tests
filter='FullyQualifiedName~the_openapi_document.the_served_document_is_the_committed_one'
case "${1:-}" in
  update) UPDATE_OPENAPI=1 dotnet test "$tests" --filter "$filter" --nologo -v q
          git --no-pager diff --stat -- docs/openapi/v1.json ;;
  check)  dotnet test "$tests" --filter "$filter" --nologo ;; # the normal verbosity shows the changed lines
  lint)
    spectral=eng/openapi/node_modules/.bin/spectral
    if [ ! -x "$spectral" ]; then
      (cd eng/openapi && npm ci --no-audit --no-fund --loglevel=error)
    fi
    "$spectral" lint docs/openapi/v1.json --ruleset .spectral.yaml --fail-severity warn ;;
  *) echo "usage: bash eng/openapi.sh update|check|lint" >&2; exit 2 ;;
esac
