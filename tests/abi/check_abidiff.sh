#!/usr/bin/env bash
# abidiff (Debian's abigail-tools) between the committed ABI of libminikafka.so
# (tests/abi/libminikafka.abi.xml, made by abidw) and the library just built. Fails on an
# change to what exists (a function removed, a parameter or return type changed, a public struct
# changed) or an abidiff error; added functions pass, as do changes inside the opaque handle. Skips (exit 0 with a message) when abidiff
# is not installed. After an intended, compatible addition, refresh the baseline:
#   check_abidiff.sh LIB BASELINE HEADERS_DIR --update
set -uo pipefail
lib=$1 baseline=$2 headers=$3
if ! command -v abidiff >/dev/null; then
  echo "abidiff not installed (apt-get install abigail-tools): skipped"
  exit 0
fi
if [ "${4:-}" = "--update" ]; then
  exec abidw --headers-dir "$headers" --drop-private-types --drop-undefined-syms --no-corpus-path --no-show-locs \
    --no-comp-dir-path "$lib" --out-file "$baseline"
fi
# --harmless: abidiff's default filter hides changes behind pointers (a public struct's layout
# included); the opaque handle is suppressed instead (libminikafka.abignore).
out=$(abidiff --harmless --no-added-syms --suppressions "$(dirname "$0")/libminikafka.abignore" "$baseline" "$lib")
rc=$?
echo "$out"
summary=$(printf '%s\n' "$out" | grep -E '^Functions changes summary|^Variables changes summary' || true)
changed=$(printf '%s\n' "$summary" | sed -nE 's/.*: ([0-9]+) Removed, ([0-9]+) Changed.*/\1 \2/p' | awk '{s += $1 + $2} END {print s + 0}')
if [ $((rc & 3)) -ne 0 ] || [ $((rc & 8)) -ne 0 ] || [ "$changed" -ne 0 ]; then
  echo "libminikafka.so: ABI change against $baseline (abidiff exit $rc, $changed removed or changed)" >&2
  exit 1
fi
echo "libminikafka.so ABI compatible with $baseline"
