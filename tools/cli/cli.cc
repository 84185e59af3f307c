#include "tools/cli/cli.h"

#include <cstdio>
#include <string_view>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

struct tool {
  std::string_view name;
  int (*main)(int, char**);
};

constexpr tool tools[] = {
    {"topics", &topics_main},
    {"console-producer", &console_producer_main},
    {"console-consumer", &console_consumer_main},
    {"consumer-groups", &consumer_groups_main},
};

}  // namespace

int run_subcommand(int argc, char** argv) {
  const std::string_view name = subcommand_name(argc, argv);
  for (const auto& t : tools) {
    // The tool sees its own name as argv[0].
    if (!name.empty() && name == t.name) return t.main(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "minikafka: unknown subcommand '%s' (known: topics, console-producer, "
                       "console-consumer, consumer-groups)\n",
               argc > 1 && argv[1] ? argv[1] : "");
  return exit_usage;
}

}  // namespace mk::cli
