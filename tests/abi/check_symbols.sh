#!/usr/bin/env bash
# The exported dynamic symbols of libminikafka.so must be exactly the committed list, so an
# accidental export (or a removal: an ABI break) fails CI. After an intended addition:
#   check_symbols.sh LIB LIST --update
set -euo pipefail
lib=$1 list=$2
actual=$(nm -D --defined-only "$lib" | awk '{print $NF}' | LC_ALL=C sort)
if [ "${3:-}" = "--update" ]; then
  printf '%s\n' "$actual" >"$list"
  exit 0
fi
if ! diff -u "$list" <(printf '%s\n' "$actual"); then
  echo "libminikafka.so exports differ from $list (lines with + are exported but not listed)" >&2
  exit 1
fi
echo "exported symbols match $list ($(wc -l <"$list") symbols)"
