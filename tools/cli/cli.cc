#include "tools/cli/cli.h"

#include <cstring>
#include <string_view>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

struct tool {
  const char* name;
  int (*main)(int, char**);
};

constexpr tool tools[] = {
    {"topics", &topics_main},
    {"console-producer", &console_producer_main},
    {"console-consumer", &console_consumer_main},
    {"consumer-groups", &consumer_groups_main},
};

const tool* find_tool(int argc, char** argv) {
  if (argc < 2 || !argv[1]) return nullptr;
  std::string_view name = argv[1];
  // Kafka's script names work too: kafka-topics, kafka-topics.sh, ...
  if (name.starts_with("kafka-")) name.remove_prefix(6);
  if (name.ends_with(".sh")) name.remove_suffix(3);
  for (const auto& t : tools)
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace

bool is_subcommand(int argc, char** argv) { return find_tool(argc, argv) != nullptr; }

int run_subcommand(int argc, char** argv) {
  const tool* t = find_tool(argc, argv);
  if (!t) {
    std::fprintf(stderr, "minikafka: unknown subcommand '%s' (known: topics, console-producer, "
                         "console-consumer, consumer-groups)\n",
                 argc > 1 ? argv[1] : "");
    return exit_usage;
  }
  // The tool sees its own name as argv[0].
  return t->main(argc - 1, argv + 1);
}

}  // namespace mk::cli
