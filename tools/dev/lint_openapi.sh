#!/bin/sh
# Lints http/openapi.json with Redocly CLI (the recommended ruleset, see
# tools/dev/openapi/redocly.yaml): any error or warning fails. The CLI is
# pinned in tools/dev/openapi/package-lock.json and installed there on first
# use (npm ci); linting itself needs no network.
set -eu
cd "$(dirname "$0")/../.."
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
[ -d tools/dev/openapi/node_modules ] || npm ci --prefix tools/dev/openapi --no-audit --no-fund
redocly() {
  npx --no-install --prefix tools/dev/openapi redocly lint http/openapi.json \
    --config tools/dev/openapi/redocly.yaml "$@"
}
# The JSON report's totals decide; redocly itself exits 0 on warnings.
totals="$(redocly --format json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const t = JSON.parse(s).totals; console.log(`${t.errors} ${t.warnings}`);
  });')" || totals="? ?"
if [ "$totals" != "0 0" ]; then
  redocly --max-problems 1000 || true
  echo "redocly lint: errors and warnings (errors warnings: $totals); both must be 0" >&2
  exit 1
fi
echo "redocly lint: http/openapi.json has no errors and no warnings"
