#include "tools/cli/cli.h"

#include <cstdio>
#include <cstring>

namespace mk::cli {

bool is_subcommand(int, char**) { return false; }

int run_subcommand(int, char** argv) {
  std::fprintf(stderr, "minikafka: unknown subcommand '%s'\n", argv[1]);
  return 2;
}

}  // namespace mk::cli
