#!/usr/bin/env bash
# Produce throughput through a real client (kcat = librdkafka) per storage backend:
# memory, rocksdb (no fsync) and rocksdb --sync (fsync before acknowledging).
#
# Usage: bench/storage_e2e.sh [BROKER_BIN] [MESSAGES] [MESSAGE_BYTES] [ACKS]
#   defaults: build/broker/minikafka 500000 100 all
# Each mode starts a fresh broker (RocksDB in a temporary directory), produces MESSAGES records
# of MESSAGE_BYTES bytes (one line each, no compression) with `kcat -P -l` to a 1-partition
# topic, checks that the last offset is MESSAGES-1, and prints records/s and MB/s of payload.
# The time is kcat's whole run: connect, produce, and wait for every acknowledgement.
set -euo pipefail

BIN=${1:-build/broker/minikafka}
N=${2:-500000}
SIZE=${3:-100}
ACKS=${4:-all}
command -v kcat >/dev/null || { echo "kcat not found" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no broker binary at $BIN" >&2; exit 1; }

tmp=$(mktemp -d -t minikafka-bench-XXXXXX)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The payload: N lines of SIZE-1 characters (+ newline = SIZE bytes per line, kcat strips it).
python3 - "$N" "$SIZE" >"$tmp/payload" <<'EOF'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[: max(size - 1, 1)] + b"\n"
out = sys.stdout.buffer
chunk = line * 10000
for _ in range(n // 10000):
    out.write(chunk)
out.write(line * (n % 10000))
EOF

start_broker() {  # args: extra broker flags
  : >"$tmp/out"
  "$BIN" --port 0 --host 127.0.0.1 --admin-port -1 --log-level warn "$@" >"$tmp/out" 2>"$tmp/err" &
  broker_pid=$!
  for _ in $(seq 1 100); do
    if head -n1 "$tmp/out" | grep -q '^kafka '; then
      bootstrap=$(head -n1 "$tmp/out" | awk '{print $2}')
      return 0
    fi
    sleep 0.1
  done
  echo "broker did not start: $(cat "$tmp/err")" >&2
  exit 1
}

stop_broker() {
  kill -TERM "$broker_pid"
  wait "$broker_pid" || true
  broker_pid=""
}

printf '%-14s %10s %12s %10s %8s\n' mode records seconds records/s MB/s
for mode in memory rocksdb rocksdb-sync; do
  case $mode in
    memory) start_broker ;;
    rocksdb) start_broker --storage rocksdb --data-dir "$tmp/db-$mode" ;;
    rocksdb-sync) start_broker --storage rocksdb --data-dir "$tmp/db-$mode" --sync ;;
  esac
  t0=$(date +%s.%N)
  kcat -P -b "$bootstrap" -t bench -p 0 -l "$tmp/payload" \
    -X acks="$ACKS" -X linger.ms=5 -X batch.num.messages=10000 \
    -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2097151
  t1=$(date +%s.%N)
  last=$(kcat -C -b "$bootstrap" -t bench -p 0 -o -1 -c 1 -e -q -f '%o\n')
  [ "$last" = "$((N - 1))" ] || { echo "$mode: last offset $last, expected $((N - 1))" >&2; exit 1; }
  stop_broker
  awk -v m="$mode" -v n="$N" -v s="$SIZE" -v a="$t0" -v b="$t1" 'BEGIN {
    d = b - a; printf "%-14s %10d %12.2f %10.0f %8.1f\n", m, n, d, n / d, n * s / d / 1e6 }'
done
