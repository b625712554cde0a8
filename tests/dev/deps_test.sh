#!/bin/sh
# tools/dev/deps.sh with stand-ins for dpkg-query, apt-get, sudo, id,
# systemctl, service and update-rc.d on PATH (nothing is installed, nothing
# is stopped): a prometheus or nginx it installs is stopped and disabled at once, one
# that was there before is left alone, and neither a missing service manager
# nor a failing one makes it fail.
# Usage: tests/dev/deps_test.sh
set -eu
deps="$(cd "$(dirname "$0")/../.." && pwd)/tools/dev/deps.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/saalbuch-deps-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

# bin/: the stand-ins, each appending its command line to calls.log.
# FAKE_MISSING: the packages dpkg-query reports as not installed.
# FAKE_UID: what id -u says. FAKE_FAIL: stand-ins that exit 1.
mkdir "$work/bin"
for tool in apt-get systemctl service update-rc.d; do
  cat >"$work/bin/$tool" <<EOF
#!/bin/sh
echo "$tool \$*" >>"$work/calls.log"
case " \${FAKE_FAIL:-} " in *" $tool "*) exit 1 ;; esac
exit 0
EOF
done
cat >"$work/bin/sudo" <<EOF
#!/bin/sh
echo "sudo \$*" >>"$work/calls.log"
exec "\$@"
EOF
cat >"$work/bin/dpkg-query" <<'EOF'
#!/bin/sh
for p; do :; done
case " ${FAKE_MISSING:-} " in *" $p "*) exit 1 ;; esac
printf 'install ok installed'
EOF
cat >"$work/bin/id" <<'EOF'
#!/bin/sh
echo "${FAKE_UID:-0}"
EOF
cat >"$work/bin/npm" <<'EOF'
#!/bin/sh
exit 0
EOF
ln -s "$(command -v grep)" "$work/bin/grep"
chmod +x "$work/bin/"*

# run NAME [VAR=value …]: deps.sh with only bin/ on PATH; its output in out.log.
run() {
  name=$1
  shift
  : >"$work/calls.log"
  if ! env -i PATH="$work/bin" "$@" /bin/sh "$deps" >"$work/out.log" 2>&1; then
    echo "FAIL $name: deps.sh failed:"
    cat "$work/out.log"
    failures=$((failures + 1))
  fi
}
called() {  # NAME, the command line expected in calls.log
  grep -qxF "$2" "$work/calls.log" && return 0
  echo "FAIL $1: expected a call: $2; calls:"
  cat "$work/calls.log"
  failures=$((failures + 1))
}
not_called() {  # NAME, a pattern no call may match
  grep -q "$2" "$work/calls.log" || return 0
  echo "FAIL $1: unexpected call matching $2:"
  cat "$work/calls.log"
  failures=$((failures + 1))
}
stopped() {  # NAME [sudo [SERVICE]]: the service was stopped and disabled as deps.sh does here
  service=${3:-prometheus}
  if [ -d /run/systemd/system ]; then
    called "$1" "${2:+$2 }systemctl disable --now $service.service"
  else
    called "$1" "${2:+$2 }service $service stop"
    called "$1" "${2:+$2 }update-rc.d $service disable"
  fi
}
install="apt-get install -y -q --no-install-recommends"

run installs-prometheus FAKE_MISSING="jq prometheus"
called installs-prometheus "$install prometheus jq"
stopped installs-prometheus

run as-user FAKE_MISSING="prometheus" FAKE_UID=1000
called as-user "sudo $install prometheus"
stopped as-user sudo

run prometheus-was-there FAKE_MISSING="jq"
called prometheus-was-there "$install jq"
not_called prometheus-was-there "^systemctl\|^service\|^update-rc.d"

run installs-nginx-too FAKE_MISSING="nginx prometheus"
called installs-nginx-too "$install prometheus nginx"
stopped installs-nginx-too "" prometheus
stopped installs-nginx-too "" nginx

run nothing-missing
not_called nothing-missing "."

run service-manager-fails FAKE_MISSING="prometheus" FAKE_FAIL="systemctl service update-rc.d"
called service-manager-fails "$install prometheus"
stopped service-manager-fails

rm "$work/bin/systemctl" "$work/bin/service" "$work/bin/update-rc.d"
run no-service-manager FAKE_MISSING="prometheus"
called no-service-manager "$install prometheus"

if [ "$failures" -ne 0 ]; then
  echo "deps_test: $failures failures"
  exit 1
fi
echo "deps_test: a prometheus or nginx deps.sh installs is stopped and disabled; nothing else is touched"
