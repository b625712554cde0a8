#!/bin/sh
# The dependency rules of ../shared/design/ARCHITECTURE.md, checked on the
# #include lines: each folder may include only the folders listed for it.
# Run by CTest (layers test) and tools/dev/test.sh; exit 1 names every
# include that breaks a rule.
set -eu
cd "$(dirname "$0")/../.."
status=0
check() {  # folder, allowed top-level folders (besides itself)
  folder=$1
  shift
  self=${folder%%/*}
  for file in $(find "$folder" -name '*.h' -o -name '*.cc' | sort); do
    grep -Hn '^#include "[a-z_]*/' "$file" 2>/dev/null | while IFS= read -r line; do
      target=$(printf '%s\n' "$line" | sed -E 's/.*#include "([a-z_]+)\/.*/\1/')
      ok=0
      for allowed in "$self" "$@"; do
        [ "$target" = "$allowed" ] && ok=1
      done
      if [ $ok -eq 0 ]; then
        echo "layer violation: $line ($folder/ may include: $folder $*)"
        echo x >>"$violations"
      fi
    done
  done
}
violations=$(mktemp)
trap 'rm -f "$violations"' EXIT
check common
check ledger common schemas
check commands ledger common schemas
check projections ledger common schemas
check formats common
check integrations commands projections formats ledger common schemas
check http commands projections integrations formats ledger common schemas
# tools/bench also drives the write model (commands/) to measure it.
check tools/replay ledger projections formats common schemas
check tools/backup ledger projections formats common schemas
check tools/bench ledger projections formats commands common schemas
if [ -s "$violations" ]; then
  status=1
else
  echo "layers: every #include follows ARCHITECTURE.md"
fi
exit $status
