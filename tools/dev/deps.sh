#!/bin/sh
# Installs the Debian 12 packages Saalbuch needs, if any is missing.
# Nothing is downloaded at build time and nothing is vendored. (prometheus is
# only for its promtool, which the tests use to check /metrics: Debian 12 has
# no package with promtool alone, and installing prometheus starts the
# Prometheus server as a service on port 9090, so when this script installs
# it, it stops and disables that service at once, see below;
# python3-icalendar is the independent parser the tests read our .ics with;
# python3-aiosmtpd is the real SMTP server the notification tests send to;
# its python3 also runs tools/payprovider, the simulated payment provider;
# poppler-utils' pdftotext is the independent PDF reader the tests use;
# jq reads the JSON replies in the README's examples; cereal encodes
# write-model snapshots; python3-jsonschema checks every JSON reply of the
# end-to-end tests against http/openapi.json, tests/support/check_reply.py;
# chromium is the headless browser of the web tests, tests/web/run.mjs, and
# chromium-l10n its German, so that date and time fields show as a German
# clerk sees them (06.12.2026, 18:30);
# libsodium hashes the back office's passwords with Argon2id;
# libxml2-utils' xmllint, default-jre-headless and libsaxonhe-java run the
# official EN 16931 validator the e-invoice tests call,
# ../shared/validators/en16931/validate.sh; nginx is the reverse proxy with
# TLS the proxy test puts in front of saalbuchd, tests/e2e/proxy_test.py,
# started by the test on ports of its own: like prometheus, the service its
# installation starts is stopped and disabled at once; dpkg-dev's
# dpkg-shlibdeps finds the Debian package's dependencies, `cpack -G DEB`;
# clang and libclang-rt-14-dev (libFuzzer) build the fuzz targets,
# tools/dev/fuzz.sh.)
set -eu
PACKAGES="cmake ninja-build g++ pkg-config librocksdb-dev flatbuffers-compiler libflatbuffers-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
  libhowardhinnant-date-dev tzdata libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libical-dev libcurl4-openssl-dev clang-format clang-tidy curl prometheus python3-icalendar
  python3-aiosmtpd jq libpugixml-dev libcairo2-dev fonts-dejavu-core poppler-utils libcereal-dev
  python3-jsonschema chromium chromium-l10n libsodium-dev libxml2-utils default-jre-headless libsaxonhe-java
  nginx dpkg-dev clang libclang-rt-14-dev"
# Node.js and npm run the pinned OpenAPI linter (tools/dev/lint_openapi.sh;
# Redocly CLI 1.x needs Node 18.17, Debian 12 ships 18.19) and the browser
# tests (playwright-core 1.61, the last for Node 18). A Node.js that is
# already installed (e.g. from NodeSource, which bundles npm) is kept.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"
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
# The services that the install just started (the Prometheus server, nginx
# on port 80): stopped and disabled (systemctl when systemd runs, else
# service and update-rc.d; neither is an error). One that was installed
# before is left as it is.
for service in prometheus nginx; do
  case " $missing " in
    *" $service "*)
      if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable --now "$service.service" || true
      else
        if command -v service >/dev/null 2>&1; then $SUDO service "$service" stop || true; fi
        if command -v update-rc.d >/dev/null 2>&1; then $SUDO update-rc.d "$service" disable || true; fi
      fi
      echo "Stopped and disabled the $service service (installed only for the tests)"
      ;;
  esac
done
