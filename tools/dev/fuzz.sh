#!/bin/sh
# The libFuzzer targets of tests/fuzz/, built with clang in build/fuzz.
#   tools/dev/fuzz.sh replay          every input of tests/fuzz/corpus/<target>/ once (CI: seconds)
#   tools/dev/fuzz.sh run TARGET SECS a campaign; new inputs go to build/fuzz/corpus/TARGET,
#                                     a crash to build/fuzz/crash-TARGET-* (then copy it into
#                                     tests/fuzz/corpus/TARGET/ as a regression input)
set -eu
cd "$(dirname "$0")/../.."
cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DSAALBUCH_FUZZ=ON -DSAALBUCH_UNITY=ON >/dev/null
targets="camt settlement rrule record chain note json_body target ical proof names zone"
cmake --build build/fuzz -j "$(nproc)" >build/fuzz/build.log 2>&1 ||
  { echo "fuzz targets: the build failed:"; tail -40 build/fuzz/build.log; exit 1; }
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
case "${1:-replay}" in
  replay)
    for t in $targets; do
      dir=tests/fuzz/corpus/$t
      n=$(find "$dir" -type f | wc -l)
      # One run per input: the files as arguments (libFuzzer then fuzzes nothing).
      find "$dir" -type f -print0 | xargs -0 build/fuzz/tests/fuzz/fuzz_"$t" >build/fuzz/replay-"$t".log 2>&1 ||
        { echo "fuzz_$t: an input of $dir fails:"; tail -40 build/fuzz/replay-"$t".log; exit 1; }
      echo "fuzz_$t: $n inputs replayed, none fails"
    done
    ;;
  run)
    t=$2
    mkdir -p build/fuzz/corpus/"$t"
    build/fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build/fuzz/crash-"$t"- build/fuzz/corpus/"$t" tests/fuzz/corpus/"$t"
    ;;
  *) echo "usage: $0 replay | run TARGET SECONDS" >&2; exit 2 ;;
esac
