#!/bin/sh
# The README's first command: install what is missing, build, and start
# saalbuchd on ./data with the demo tenant. Extra arguments go to saalbuchd.
set -eu
cd "$(dirname "$0")/../.."
tools/dev/deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build/release --target saalbuchd saalbuch-replay saalbuch-backup
exec build/release/http/saalbuchd --data "${SAALBUCH_DATA:-./data}" --demo "$@"
