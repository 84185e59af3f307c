#!/usr/bin/env bash
# Installs dependencies (Debian 12), builds minikafka (Release) and starts it in the foreground
# on localhost:9092 with in-memory storage. Extra arguments go to minikafka (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMINIKAFKA_BUILD_TESTS=OFF -DMINIKAFKA_BUILD_BENCH=OFF >/dev/null
cmake --build build --target minikafka
exec ./build/broker/minikafka --host 127.0.0.1 --port 9092 "$@"
