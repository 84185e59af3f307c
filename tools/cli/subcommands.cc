// Subcommand names, shared by the broker executable (to recognise them) and minikafka-tools (to
// run them). Nothing here may depend on librdkafka.
#include <string_view>

#include "tools/cli/cli.h"

namespace mk::cli {

std::string_view subcommand_name(int argc, char** argv) {
  static constexpr std::string_view names[] = {"topics", "console-producer", "console-consumer", "consumer-groups"};
  if (argc < 2 || !argv[1]) return {};
  std::string_view name = argv[1];
  // Kafka's script names work too: kafka-topics, kafka-topics.sh, ...
  if (name.starts_with("kafka-")) name.remove_prefix(6);
  if (name.ends_with(".sh")) name.remove_suffix(3);
  for (std::string_view known : names)
    if (name == known) return known;
  return {};
}

}  // namespace mk::cli
