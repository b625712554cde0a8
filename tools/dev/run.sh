#!/bin/sh
# The README's first command: install what is missing, build, and start
# saalbuchd on ./data with the demo tenant. Extra arguments go to saalbuchd.
# Unless SAALBUCH_PROVIDER_URL names a real payment provider, the simulated
# one (tools/payprovider) runs beside it on 127.0.0.1:8090, so that the demo
# can take payments end to end; likewise the simulated lock provider
# (tools/locksim) on 127.0.0.1:8091 for the Sporthalle's door codes.
set -eu
cd "$(dirname "$0")/../.."
tools/dev/deps.sh
tools/dev/configure.sh
cmake --build build/release --target saalbuchd saalbuch-replay saalbuch-backup
if [ -z "${SAALBUCH_PROVIDER_URL:-}" ]; then
  secret="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  python3 tools/payprovider/payprovider.py --port 8090 --api-key demo-provider-key \
    --webhook-secret "$secret" &
  provider=$!
  trap 'kill "$provider" 2>/dev/null || true' EXIT INT TERM
  export SAALBUCH_PROVIDER_URL=http://127.0.0.1:8090 SAALBUCH_PROVIDER_KEY=demo-provider-key
  export SAALBUCH_PROVIDER_WEBHOOK_SECRET="$secret"
  echo "Simulated payment provider on http://127.0.0.1:8090 (checkout pages /pay/<id>)"
fi
if [ -z "${SAALBUCH_DOOR_URL:-}" ]; then
  python3 tools/locksim/locksim.py --port 8091 --api-key demo-lock-key &
  lock=$!
  trap 'kill ${provider:-} $lock 2>/dev/null || true' EXIT INT TERM
  export SAALBUCH_DOOR_URL=http://127.0.0.1:8091 SAALBUCH_DOOR_KEY=demo-lock-key
  echo "Simulated lock provider on http://127.0.0.1:8091 (door codes of the Sporthalle)"
fi
build/release/http/saalbuchd --data "${SAALBUCH_DATA:-./data}" --demo "$@"
