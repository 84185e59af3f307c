#!/usr/bin/env bash
# Compiles a C99 program against an INSTALLED minikafka (its header and pkg-config file, nothing
# from the source tree) with warnings as errors, then runs it.
#   build_and_run_c.sh PREFIX SOURCE OUTPUT [extra compiler flags...] [-- program args...]
set -euo pipefail
prefix=$1 src=$2 out=$3
shift 3
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ $# -gt 0 ] && shift
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg_flags=$(pkg-config --cflags --libs minikafka)
case "$pkg_flags" in *"$prefix"*) ;; *) echo "pkg-config did not point at $prefix: $pkg_flags" >&2; exit 1 ;; esac
extra=""
if grep -q librdkafka "$src"; then extra=$(pkg-config --cflags --libs rdkafka); fi
# shellcheck disable=SC2086
${CC:-cc} -std=c99 -Wall -Wextra -pedantic -Werror "${flags[@]}" "$src" -o "$out" $pkg_flags $extra \
  -Wl,-rpath,"$prefix/lib"
exec "$out" "$@"
