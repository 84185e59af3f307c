// `minikafka <subcommand>`: the everyday Kafka command-line tools, talking to a running broker
// (any Kafka-compatible broker) through librdkafka: topics, console-producer, console-consumer,
// consumer-groups.
//
// The tools are a program of their own, minikafka-tools (tools/cli/main.cc, linked with
// librdkafka), so that the broker executable does not load librdkafka at every start: `minikafka`
// recognises a subcommand (subcommands.cc, no librdkafka) and execs minikafka-tools with the same
// arguments (broker/plugins.h says where it is looked for).
#pragma once

#include <string_view>

namespace mk::cli {

// The helper program that runs the tools.
inline constexpr const char tools_program[] = "minikafka-tools";

// The tool argv[1] names ("topics", ...; Kafka's script names such as kafka-topics.sh work too),
// or an empty view when argv[1] is not a subcommand.
std::string_view subcommand_name(int argc, char** argv);
// True when argv[1] names a subcommand.
inline bool is_subcommand(int argc, char** argv) { return !subcommand_name(argc, argv).empty(); }

// Runs the subcommand named by argv[1]; returns the process exit code. In minikafka-tools only.
int run_subcommand(int argc, char** argv);

}  // namespace mk::cli
