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

echo "== build ($(date -u +%T))"
tools/dev/configure.sh
cmake --build build/release -j "$JOBS"

# clang-tidy (.clang-tidy; our sources, warnings are errors) needs only the
# compile database and the generated headers of the build above, so it runs
# from here on in the background at the lowest priority: it takes the CPU
# the tests leave idle (their sleeps, waits and the tail of ctest -j) and
# yields it to the sanitizer build. Its result is checked at the end. It
# reads the batches of the unity build (CMakeLists.txt: SAALBUCH_UNITY), as
# the compiler does, so that the shared headers are analysed once per batch
# rather than once per file; .clang-tidy's HeaderFilterRegex reports what is
# in our .cc files as well as our headers.
TIDY_LOG=build/clang-tidy.log
echo "== clang-tidy started in the background, nice 19, log $TIDY_LOG ($(date -u +%T))"
# setsid: its own process group, so that the whole of it can be stopped.
# It is also its own session, and where the kernel groups sessions for the
# scheduler (sched_autogroup_enabled=1, as on the CI machine) a nice value
# counts only within the session: so the session's group is niced as well.
JOBS="$JOBS" TIDY_LOG="$TIDY_LOG" setsid sh -c '
  echo 19 >/proc/self/autogroup 2>/dev/null || true
  status=0
  tools/dev/tidy_sources.sh build/release |
    nice -n 19 xargs -P "$JOBS" -n 1 clang-tidy -p build/release --quiet >"$TIDY_LOG" 2>&1 || status=$?
  echo "clang-tidy finished with status $status ($(date -u +%T))" >>"$TIDY_LOG"
  exit $status
' &
TIDY_PID=$!
# Waits for clang-tidy and fails the run if it failed (its log is shown then).
finish_tidy() {
  tidy_status=0
  wait "$TIDY_PID" || tidy_status=$?
  if [ "$tidy_status" -ne 0 ]; then
    cat "$TIDY_LOG"
    echo "== clang-tidy FAILED ($(date -u +%T))"
    exit 1
  fi
  tail -n 1 "$TIDY_LOG"
}
# If a step fails first, clang-tidy (its process group, nothing else) is stopped.
trap 'kill -- -"$TIDY_PID" 2>/dev/null || true' EXIT

# Longest tests first (ctest -j keeps no core idle at the end): on a fresh
# clone there is no cost data yet, so the measured one is seeded.
seed_costs() {  # build dir, seed file
  mkdir -p "$1/Testing/Temporary"
  [ -f "$1/Testing/Temporary/CTestCostData.txt" ] || cp "$2" "$1/Testing/Temporary/CTestCostData.txt"
}

echo "== test ($(date -u +%T))"
seed_costs build/release tests/ctest_costs_release.txt
ctest --test-dir build/release --output-on-failure -j "$JOBS"

if [ "${SAALBUCH_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build and test with AddressSanitizer and UndefinedBehaviorSanitizer ($(date -u +%T))"
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAALBUCH_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-g1"
  # Only what the tests run (every program was built above).
  cmake --build build/asan -j "$JOBS" --target ledger_tests commands_tests projections_tests formats_tests \
    integrations_tests http_tests e2e_tests
  echo "== test under the sanitizers ($(date -u +%T))"
  seed_costs build/asan tests/ctest_costs_asan.txt
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j "$JOBS"
fi
if [ "${SAALBUCH_SKIP_FUZZ:-0}" != "1" ]; then
  # The libFuzzer targets built with clang; every input kept in
  # tests/fuzz/corpus/ (seeds and past finds) runs once. Campaigns are run
  # by hand (tests/fuzz/README.md).
  echo "== fuzz targets: build with clang, replay the corpus ($(date -u +%T))"
  tools/dev/fuzz.sh replay
fi
echo "== waiting for clang-tidy ($(date -u +%T))"
finish_tidy
trap - EXIT
echo "== all tests passed ($(date -u +%T))"
