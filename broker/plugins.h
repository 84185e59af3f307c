// Finding the files that the `minikafka` executable loads or runs only when they are needed:
// storage plugins (minikafka-rocksdb.so, opened with dlopen for --storage rocksdb) and the
// command-line tools program (minikafka-tools, run with exec for `minikafka topics ...`), so
// that the broker itself starts without loading librocksdb or librdkafka.
//
// They are looked for, in order:
//   1. in the executable's own directory (the build tree: build/broker/), then
//   2. in <executable's directory>/../lib/minikafka (an installed tree: bin/minikafka next to
//      lib/minikafka/; see the install() rules in the top-level CMakeLists.txt).
// The executable's directory comes from /proc/self/exe, so symlinks to the binary work.
// Linked into libminikafka.so (the C ABI), the library's own directory and <that>/minikafka
// (the install layout lib/libminikafka.so, lib/minikafka/) are searched first.
//
// Used by the executable and libminikafka.so (not part of minikafka_broker).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mk::plugins {

// The directories searched, in order (empty when /proc/self/exe cannot be read).
std::vector<std::string> search_dirs();

// Full path of `file_name` in the first search directory that holds it. When none does, nullopt,
// with every path looked at appended to `tried` (if given).
std::optional<std::string> find(const std::string& file_name, std::vector<std::string>* tried = nullptr);

// "a, b and c" for error messages.
std::string join_paths(const std::vector<std::string>& paths);

// Replaces the process with the program `file_name` (found as above) run with `argv` unchanged.
// Returns only on failure, after printing why on stderr; the result is then an exit code (1).
int exec_program(const std::string& file_name, char** argv);

}  // namespace mk::plugins
