#!/usr/bin/env bash
# Installs dependencies (Debian 12), builds everything with warnings as errors, and runs every
# test: unit (codecs, records, storage), integration (in-process broker, raw protocol, bad
# input) and clients (kafka-python, confluent-kafka, kcat, kafkajs against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_DIR="${BUILD_DIR:-build}"
# ccache (installed by install-deps.sh) makes rebuilds of the same sources cheap across runs.
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMINIKAFKA_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 300
