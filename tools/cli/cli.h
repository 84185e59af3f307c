// `minikafka <subcommand>`: the everyday Kafka command-line tools, talking to a running broker
// (any Kafka-compatible broker) through librdkafka: topics, console-producer, console-consumer,
// consumer-groups.
#pragma once

namespace mk::cli {

// True when argv[1] names a subcommand.
bool is_subcommand(int argc, char** argv);
// Runs the subcommand named by argv[1]; returns the process exit code.
int run_subcommand(int argc, char** argv);

}  // namespace mk::cli
