#!/bin/bash
# The Debian package (issue 17, part 3): built with CPack from the build
# directory, installed on this machine, the unit checked, the unit's
# ExecStart run as its user in the state directory systemd would make (or
# the unit started where systemd is PID 1), one booking made, then the
# package removed again. Needs root or password-less sudo.
# Usage: tests/deploy/package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || { echo "FAIL: needs root or password-less sudo to install a package"; exit 1; }
  SUDO="sudo -n"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/saalbuch-package-test.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && $SUDO kill -9 "$server_pid" 2>/dev/null || true
  $SUDO dpkg --purge saalbuch >/dev/null 2>&1 || true
  $SUDO rm -rf /var/lib/saalbuch
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
expect() {  # DESCRIPTION SHELL-CONDITION (evaluated; set -e does not apply to it)
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

# A package of this build, in a directory of the test's own.
(cd "$build" && cpack -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/cpack/saalbuch_*.deb)
echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
info=$(dpkg-deb -f "$deb" Package Version Depends)
expect "Depends names the libraries it links (libsodium …; RocksDB is linked statically)" 'echo "$info" | grep -q "libsodium"'
expect "and adduser" 'echo "$info" | grep -q "adduser"'
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/saalbuchd ./usr/bin/saalbuch-replay ./usr/bin/saalbuch-backup \
         ./usr/lib/systemd/system/saalbuchd.service ./etc/saalbuch/saalbuchd.conf \
         ./usr/share/doc/saalbuch/nginx-saalbuch.conf; do
  expect "the package has $f" 'echo "$contents" | grep -q " $f\$"'
done
expect "the configuration file is a conffile" 'dpkg-deb -I "$deb" conffiles | grep -qx "/etc/saalbuch/saalbuchd.conf"'

expect "dpkg -i installs it" '$SUDO dpkg -i "$deb" >"$work/dpkg.log" 2>&1'
expect "the postinst made the system user saalbuch" 'getent passwd saalbuch >/dev/null'
expect "/usr/bin/saalbuchd runs" '/usr/bin/saalbuchd --version | grep -q "^saalbuchd "'
unit=/usr/lib/systemd/system/saalbuchd.service
if command -v systemd-analyze >/dev/null 2>&1; then
  out=$(systemd-analyze verify "$unit" 2>&1 | grep -v "Failed to .* cgroup\|Cannot find unit\|network-online" || true)
  expect "systemd-analyze verify finds nothing in the unit ($out)" '[ -z "$out" ]'
else
  echo "note systemd-analyze is not installed here: the unit's syntax is not checked"
fi
for opt in "User=saalbuch" "StateDirectory=saalbuch" "ProtectSystem=strict" "NoNewPrivileges=yes" \
           "MemoryDenyWriteExecute=yes"; do
  expect "the unit sets $opt" 'grep -qx "$opt" "$unit"'
done

# Start it as systemd would: ExecStart with the unit's Environment= as its
# user, in StateDirectory= (0700, owned by the user), on a port of its own.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
environment=$(sed -n 's/^Environment=//p' "$unit")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ -d /run/systemd/system ]; then
  $SUDO mkdir -p /etc/systemd/system/saalbuchd.service.d
  printf '[Service]\nExecStart=\nExecStart=%s --listen 127.0.0.1:%s\n' "$exec_start" "$port" |
    $SUDO tee /etc/systemd/system/saalbuchd.service.d/test.conf >/dev/null
  $SUDO systemctl daemon-reload && $SUDO systemctl restart saalbuchd
else
  $SUDO install -d -m 0700 -o saalbuch -g saalbuch /var/lib/saalbuch
  # shellcheck disable=SC2086
  $SUDO env -i PATH=/usr/bin:/bin $environment setpriv --reuid=saalbuch --regid=saalbuch --init-groups \
    --inh-caps=-all sh -c "umask 0077; cd /var/lib/saalbuch; exec $exec_start --listen 127.0.0.1:$port" \
    >"$work/saalbuchd.out" 2>"$work/saalbuchd.err" &
  server_pid=$!
fi
up=1
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then up=0; break; fi
  sleep 0.1
done
expect "the service answers on its port" '[ "$up" -eq 0 ]'
mode=$($SUDO stat -c '%a %U' /var/lib/saalbuch/data)
expect "its data directory is owner-only and the user's ($mode)" '[ "$mode" = "700 saalbuch" ]'
key=$($SUDO cat /var/lib/saalbuch/data/operator.key)
admin=$(curl -s "http://127.0.0.1:$port/v1/tenants" -H "Authorization: Bearer $key" \
  --json '{"id":"stadt","name":"Stadt"}' | jq -r .admin_key.key)
curl -s -o /dev/null "http://127.0.0.1:$port/v1/tenants/stadt/resources" -H "Authorization: Bearer $admin" \
  --json '{"id":"saal","name":"Saal"}'
status=$(curl -s -o "$work/booking.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/tenants/stadt/bookings" \
  --json '{"resource":"saal","start":"2027-03-01T10:00:00+01:00","end":"2027-03-01T12:00:00+01:00"}')
expect "a booking through the installed server is 201 ($status $(head -c 200 "$work/booking.json"))" '[ "$status" = 201 ]'
if [ -d /run/systemd/system ]; then
  expect "systemctl stop" '$SUDO systemctl stop saalbuchd'
  $SUDO rm -rf /etc/systemd/system/saalbuchd.service.d
else
  $SUDO kill -TERM "$server_pid"
  expect "SIGTERM stops it cleanly" 'wait "$server_pid"'
  server_pid=""
  expect "its log has the access line" 'grep -q '\''msg="request" .*route=bookings status=201'\'' "$work/saalbuchd.err"'
fi

expect "dpkg --purge removes it" '$SUDO dpkg --purge saalbuch >"$work/dpkg.log" 2>&1'
expect "/usr/bin/saalbuchd is gone" '[ ! -e /usr/bin/saalbuchd ]'
expect "the data stays" '$SUDO test -e /var/lib/saalbuch/data/operator.key'

if [ "$failures" -ne 0 ]; then
  echo "package_test: $failures failures"
  [ -f "$work/saalbuchd.err" ] && tail -20 "$work/saalbuchd.err"
  exit 1
fi
echo "package_test: the package installs, its unit's command serves a booking as user saalbuch, and it goes again"
