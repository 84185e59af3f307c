// minikafka-tools: the program behind `minikafka topics|console-producer|console-consumer|
// consumer-groups ...`. The broker executable execs it with its own arguments unchanged, so
// argv[1] is the subcommand (see cli.h).
#include "tools/cli/cli.h"

int main(int argc, char** argv) { return mk::cli::run_subcommand(argc, argv); }
