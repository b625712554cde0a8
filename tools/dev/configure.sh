#!/bin/sh
# The one build configuration of run.sh and test.sh (build/release), so that
# the README's run command builds exactly what the suite tested, and running
# one after the other reuses the build. -O2 with line tables only (-g1):
# backtraces keep file and line, and the build stays within CI's time.
# (-O2 rather than -O3 for CI's time; test.sh also builds the plain Release
# configuration, -O3, as a packager would.)
set -eu
cd "$(dirname "$0")/../.."
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
