#!/usr/bin/env bash
# Configures, builds and runs tests/abi/consumer against an installed minikafka.
#   find_package_consumer.sh PREFIX SOURCE_DIR BUILD_DIR
set -euo pipefail
prefix=$1 src=$2 build=$3
rm -rf "$build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH="$prefix/lib" >/dev/null
cmake --build "$build"
"$build/use_c_abi"
"$build/use_cxx_api"
