#!/bin/bash
# The README's walk-through, run as it stands. Every ```sh block of README.md
# that follows a line "<!-- walkthrough -->" is run, in order, as one bash
# script (set -euo pipefail; each block's lines keep their README line
# numbers, so a failure names the README line). It runs in a scratch
# directory laid out like the repository root (data/ is the server's data
# directory, build/release/tools/replay/saalbuch-replay the replay tool)
# against a real saalbuchd started there with --demo and the simulated
# payment provider beside it, as tools/dev/run.sh starts them. The one
# change to the text: "B=http://127.0.0.1:8080" names this server's port.
#
# curl is wrapped by a function that records each reply's status: a status
# of 400 or more, or no reply, stops the run at its README line unless it is
# one of EXPECTED_ERRORS (a step the README says is refused), and each of
# those must occur.
#
# Usage: tests/readme/walkthrough.sh SAALBUCHD SAALBUCH_REPLAY [README]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
saalbuchd=$(realpath "$1")
replay=$(realpath "$2")
readme=$(realpath "${3:-$source_dir/README.md}")

# "status method path", one line per refusal the walk-through shows.
EXPECTED_ERRORS="409 POST /v1/tenants/digitalzentrum/bookings"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/saalbuch-walkthrough.XXXXXX")
server_pid=""
provider_pid=""
cleanup() {
  status=$?
  set +e  # a failed kill or wait must not stop the cleanup
  for pid in $server_pid $provider_pid; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "$status" -ne 0 ] && [ -f "$scratch/saalbuchd.stderr" ]; then
    echo "--- saalbuchd's log (last 30 lines)" >&2
    tail -n 30 "$scratch/saalbuchd.stderr" >&2
  fi
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT

# The walk-through's blocks; every other README line becomes an empty line.
script="$scratch/walkthrough.bash"
awk '
  inblock && /^```[[:space:]]*$/ { inblock = 0; print ""; next }
  inblock                        { print; next }
  marked && /^```sh[[:space:]]*$/ { inblock = 1; marked = 0; blocks++; print ""; next }
  marked                         { printf "README.md:%d: <!-- walkthrough --> is not followed by a ```sh block\n", NR > "/dev/stderr"; bad = 1 }
  /^<!-- walkthrough -->[[:space:]]*$/ { marked = 1 }
                                 { print "" }
  END { if (bad || inblock || blocks == 0) exit 1 }
' "$readme" >"$script" || { echo "walkthrough: no runnable walk-through in $readme" >&2; exit 1; }
grep -q '^B=http://127.0.0.1:8080$' "$script" || {
  echo "walkthrough: the walk-through does not set B=http://127.0.0.1:8080" >&2
  exit 1
}

# The simulated payment provider and the server, as tools/dev/run.sh starts them.
# Nothing from the caller's environment configures it (saalbuchd reads SAALBUCH_*).
for name in $(env | sed -n 's/^\(SAALBUCH_[A-Z0-9_]*\)=.*/\1/p'); do unset "$name"; done
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
python3 "$source_dir/tools/payprovider/payprovider.py" --port 0 --port-file "$scratch/provider.port" \
  --api-key walkthrough-provider-key --webhook-secret "$secret" --refund-delay 0.05 \
  >"$scratch/provider.log" 2>&1 &
provider_pid=$!
for _ in $(seq 100); do [ -s "$scratch/provider.port" ] && break; sleep 0.1; done
[ -s "$scratch/provider.port" ] || { echo "walkthrough: the payment provider did not start" >&2; exit 1; }
cd "$scratch"
: >saalbuchd.stdout
SAALBUCH_PROVIDER_URL="http://127.0.0.1:$(cat provider.port)" SAALBUCH_PROVIDER_KEY=walkthrough-provider-key \
  SAALBUCH_PROVIDER_WEBHOOK_SECRET="$secret" \
  "$saalbuchd" --data data --listen 127.0.0.1:0 --demo >saalbuchd.stdout 2>saalbuchd.stderr &
server_pid=$!
url=""
for _ in $(seq 300); do
  url=$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' saalbuchd.stdout | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { echo "walkthrough: saalbuchd did not start" >&2; exit 1; }
sed -i "s|^B=http://127.0.0.1:8080\$|B=$url|" "$script"
mkdir -p build/release/tools/replay tmp
ln -s "$replay" build/release/tools/replay/saalbuch-replay

# Sourced by bash before the script (BASH_ENV): strict mode, and curl
# recording every status.
printf '%s\n' "$EXPECTED_ERRORS" >expected-errors
: >statuses
cat >prelude.bash <<'EOF'
set -Eeuo pipefail
trap 'echo "walkthrough: README.md:$LINENO: a command failed (exit status $?)" >&2' ERR
curl() {
  local line=${BASH_LINENO[0]} meta body rc code method url path allowed seen
  meta=$(mktemp)
  body=$(mktemp)
  set +e
  command curl -w '%{stderr}%{http_code} %{method} %{url_effective}\n' "$@" 2>"$meta" | tee "$body"
  rc=${PIPESTATUS[0]}
  set -e
  read -r code method url < <(tail -n 1 "$meta") || true
  path=${url#*://*/}
  path="/${path%%\?*}"
  echo "$code $method $path README.md:$line" >>"$WALKTHROUGH_DIR/statuses"
  if [ "$rc" -ne 0 ] || [ "${code:-000}" = 000 ] || [ "$code" -ge 400 ]; then
    allowed=$(grep -cxF "$code $method $path" "$WALKTHROUGH_DIR/expected-errors" || true)
    seen=$(grep -cF "$code $method $path " "$WALKTHROUGH_DIR/statuses" || true)
    if [ "$rc" -ne 0 ] || [ "$seen" -gt "$allowed" ]; then
      {
        echo
        echo "walkthrough: README.md:$line: curl exit status $rc, HTTP ${code:-none} for $method $path:"
        head -c 2000 "$body"
        echo
      } >&2
      rm -f "$meta" "$body"
      return 22
    fi
  fi
  rm -f "$meta" "$body"
}
EOF

start=$(date +%s)
# Bounded here, below CTest's timeout, so that the cleanup still stops the
# server and the provider (the payment step waits for a webhook).
WALKTHROUGH_DIR="$scratch" TMPDIR="$scratch/tmp" BASH_ENV="$scratch/prelude.bash" timeout 90 bash "$script"
status=0
# The README's DATEV export holds the walk-through's postings, not only the
# header and the column names (issue 15, defect 5).
if [ ! -f EXTF_Buchungsstapel.csv ] || [ "$(wc -l <EXTF_Buchungsstapel.csv)" -le 2 ]; then
  echo "walkthrough: the README's DATEV export (EXTF_Buchungsstapel.csv) holds no posting" >&2
  status=1
fi
while read -r expected; do
  [ -z "$expected" ] && continue
  grep -q "^$expected " statuses || {
    echo "walkthrough: the README shows a refusal that did not happen: $expected" >&2
    status=1
  }
done <expected-errors
echo "walkthrough: $(wc -l <statuses) curl calls in $(($(date +%s) - start)) s; refusals as the README says:"
awk '$1 >= 400' statuses
exit "$status"
