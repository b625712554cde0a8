#!/bin/sh
# Runs the browser tests (tests/web/run.mjs) against SAALBUCHD, screenshots
# into ARTIFACTS. playwright-core and axe-core are pinned in
# tests/web/package-lock.json and installed there on first use (npm ci); the
# browser is Debian's chromium (tools/dev/deps.sh), nothing is downloaded.
# Usage: tools/dev/web_test.sh SAALBUCHD [ARTIFACTS]
set -eu
cd "$(dirname "$0")/../.."
[ -d tests/web/node_modules/playwright-core ] || npm ci --prefix tests/web --no-audit --no-fund
exec node tests/web/run.mjs --saalbuchd "$1" --artifacts "${2:-build/web-artifacts}"
