#!/bin/sh
# Installs the Debian 12 packages Saalbuch needs, if any is missing.
# Nothing is downloaded at build time and nothing is vendored. (prometheus is
# only for its promtool, which the tests use to check /metrics;
# python3-icalendar is the independent parser the tests read our .ics with;
# python3-aiosmtpd is the real SMTP server the notification tests send to;
# its python3 also runs tools/payprovider, the simulated payment provider;
# poppler-utils' pdftotext is the independent PDF reader the tests use;
# jq reads the JSON replies in the README's examples; cereal encodes
# write-model snapshots.)
set -eu
PACKAGES="cmake ninja-build g++ pkg-config librocksdb-dev flatbuffers-compiler libflatbuffers-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
  libhowardhinnant-date-dev tzdata libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libical-dev libcurl4-openssl-dev clang-format clang-tidy curl prometheus python3-icalendar
  python3-aiosmtpd jq libpugixml-dev libcairo2-dev fonts-dejavu-core poppler-utils libcereal-dev"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
