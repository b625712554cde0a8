#!/bin/sh
# The one build configuration of run.sh and test.sh (build/release), so that
# the README's run command builds exactly what the suite tested, and running
# one after the other reuses the build. -O2 with line tables only (-g1):
# backtraces keep file and line, and the build stays within CI's time.
# (Not -O3: GCC 12 reports false -Wrestrict errors in std::string at -O3.)
set -eu
cd "$(dirname "$0")/../.."
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
