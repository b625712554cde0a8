#!/bin/sh
# The README's second command (and CI's): install what is missing, check the
# formatting, build and run the whole suite, then again under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/../.."
tools/dev/deps.sh
JOBS="$(nproc)"

echo "== clang-format ($(date -u +%T))"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

echo "== redocly lint http/openapi.json ($(date -u +%T))"
tools/dev/lint_openapi.sh

echo "== build and test ($(date -u +%T))"
tools/dev/configure.sh
cmake --build build/release -j "$JOBS"
ctest --test-dir build/release --output-on-failure -j "$JOBS"

echo "== clang-tidy (.clang-tidy; our sources, warnings are errors) ($(date -u +%T))"
git ls-files 'common/*.cc' 'ledger/*.cc' 'commands/*.cc' 'projections/*.cc' 'formats/*.cc' 'integrations/*.cc' \
  'http/*.cc' 'tools/*.cc' |
  xargs -P "$JOBS" -n 1 clang-tidy -p build/release --quiet

if [ "${SAALBUCH_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build and test with AddressSanitizer and UndefinedBehaviorSanitizer ($(date -u +%T))"
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAALBUCH_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-g1"
  # Only what the tests run (every program was built above).
  cmake --build build/asan -j "$JOBS" --target ledger_tests commands_tests projections_tests formats_tests \
    integrations_tests http_tests e2e_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j "$JOBS"
fi
echo "== all tests passed ($(date -u +%T))"
