#!/bin/sh
# The translation units clang-tidy checks: every one of the compile database
# of build dir $1 that compiles our own code (not the tests) — with the unity
# build, the batch files that include our .cc files (a batch may also include
# a generated one, http/gen/http/web_assets.cc, which is then checked too);
# without it, the .cc files themselves. Largest first, by the size of the
# .cc files a unit compiles, so that no long one is left alone at the end.
set -eu
build="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
python3 - "$build/compile_commands.json" "$root" <<'PY'
import json, os, re, sys
db, root = sys.argv[1], sys.argv[2]
ours = re.compile(r"^/(common|ledger|commands|projections|formats|integrations|http|tools)/")
units = []
for entry in json.load(open(db)):
    f = os.path.join(entry["directory"], entry["file"])
    if f.endswith(".cxx"):  # a unity batch: the sources it includes
        sources = re.findall(r'#include "([^"]+\.cc)"', open(f).read())
    else:
        sources = [f]
    sources = [s for s in sources if s.startswith(root + "/") and ours.match(s[len(root):])]
    if sources:
        units.append((sum(os.path.getsize(s) for s in sources), f))
for _, f in sorted(units, reverse=True):
    print(f)
PY
