#!/bin/sh
# The one build configuration of run.sh and test.sh (build/release), so that
# the README's run command builds exactly what the suite tested, and running
# one after the other reuses the build: plain Release (-O3), as a packager
# builds it. (Backtraces of the sanitizer build, test.sh, keep file and line.)
# Extra arguments go to cmake (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
set -eu
cd "$(dirname "$0")/../.."
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
