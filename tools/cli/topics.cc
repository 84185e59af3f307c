// `minikafka topics`: kafka-topics.sh over librdkafka's Admin API.
//
//   --create --topic T [--partitions N] [--replication-factor R] [--config k=v ...] [--if-not-exists]
//   --list [--topic REGEX] [--exclude-internal]
//   --describe [--topic REGEX] [--exclude-internal] [--if-exists] [--topics-with-overrides |
//              --under-replicated-partitions | --unavailable-partitions |
//              --under-min-isr-partitions | --at-min-isr-partitions]
//   --alter --topic REGEX --partitions N [--if-exists]
//   --delete --topic REGEX [--if-exists]
//
// Output follows Kafka's tool: "Created topic T."; --list one name per line (sorted);
// --describe "Topic: T\tTopicId: ID\tPartitionCount: N\tReplicationFactor: R\tConfigs: k=v,..."
// (configs whose source is not the default) and one "\tTopic: T\tPartition: P\tLeader: L\t
// Replicas: ...\tIsr: ..." line per partition. --alter and --delete print nothing on success.
// Failures print "Error while executing topic command : <reason>" on stderr and exit 1.
#include <algorithm>
#include <iostream>
#include <set>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

struct topics_options {
  std::string bootstrap = default_bootstrap;
  std::string command_config;
  std::vector<std::string> command_properties;
  int timeout_ms = default_timeout_ms;
  bool create = false, list = false, describe = false, alter = false, del = false;
  std::string topic;
  bool has_topic = false;
  int partitions = -1;
  bool has_partitions = false;
  int replication_factor = -1;
  bool has_replication_factor = false;
  std::vector<std::string> configs;
  bool if_exists = false, if_not_exists = false, exclude_internal = false;
  bool with_overrides = false, under_replicated = false, unavailable = false, under_min_isr = false,
       at_min_isr = false;
};

struct config_entry {
  std::string name;
  std::string value;
  bool is_default = false;
};

std::string join_ids(const int32_t* ids, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ",";
    s += std::to_string(ids[i]);
  }
  return s;
}

// --config name=value pairs (Kafka splits on '=' and wants exactly two parts).
properties topic_configs(const topics_options& o) {
  properties configs;
  for (const auto& kv : o.configs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || trim(kv.substr(0, eq)).empty() || kv.find('=', eq + 1) != std::string::npos)
      throw usage_error("Invalid topic config '" + kv + "': all configs to be added must be in the format \"key=val\"");
    configs[trim(kv.substr(0, eq))] = trim(kv.substr(eq + 1));
  }
  return configs;
}

void validate(const topics_options& o) {
  (void)topic_configs(o);
  int actions = o.create + o.list + o.describe + o.alter + o.del;
  if (actions != 1)
    throw usage_error("Command must include exactly one action: --list, --describe, --create, --alter or --delete");
  if ((o.create || o.alter || o.del) && !o.has_topic) throw usage_error("Missing required argument \"[topic]\"");
  if (o.has_topic && trim(o.topic).empty()) throw usage_error("--topic must not be empty");
  if (!o.configs.empty() && !o.create)
    throw usage_error("Option \"[config]\" can't be used with option \"[" +
                      std::string(o.alter ? "alter" : o.list ? "list" : o.describe ? "describe" : "delete") +
                      "]\" (to alter topic configurations, use the broker's admin API)");
  if (o.has_partitions && !(o.create || o.alter))
    throw usage_error("Option \"[partitions]\" can only be used with --create or --alter");
  if (o.has_replication_factor && !o.create)
    throw usage_error("Option \"[replication-factor]\" can only be used with --create");
  if (o.alter && !o.has_partitions) throw usage_error("--alter needs --partitions (the new partition count)");
  if (o.if_not_exists && !o.create) throw usage_error("Option \"[if-not-exists]\" can only be used with --create");
  if (o.if_exists && !(o.alter || o.del || o.describe))
    throw usage_error("Option \"[if-exists]\" can only be used with --alter, --delete or --describe");
  bool reports = o.with_overrides || o.under_replicated || o.unavailable || o.under_min_isr || o.at_min_isr;
  if (reports && !o.describe)
    throw usage_error("The partition and override report options can only be used with --describe");
  if (o.under_replicated + o.unavailable + o.under_min_isr + o.at_min_isr + o.with_overrides > 1)
    throw usage_error("Only one of the report options (--topics-with-overrides, --under-replicated-partitions, "
                      "--unavailable-partitions, --under-min-isr-partitions, --at-min-isr-partitions) may be given");
  if (o.has_partitions && o.partitions < 1) throw usage_error("The partitions must be greater than 0");
  if (o.has_replication_factor && (o.replication_factor < 1 || o.replication_factor > 32767))
    throw usage_error("The replication factor must be between 1 and 32767 inclusive");
  if (o.timeout_ms <= 0) throw usage_error("--timeout-ms must be positive");
}

// Topic names in the cluster, sorted, filtered like Kafka's tool.
std::vector<std::string> matching_topics(const rd_kafka_metadata_t& md, const topics_options& o) {
  std::optional<topic_matcher> m;
  if (o.has_topic) m.emplace(o.topic);
  std::vector<std::string> out;
  for (int i = 0; i < md.topic_cnt; ++i) {
    const auto& t = md.topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    std::string name = t.topic;
    if (o.exclude_internal && is_internal_topic(name)) continue;
    if (m && !m->matches(name)) continue;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ensure_found(const std::vector<std::string>& found, const topics_options& o) {
  if (found.empty() && o.has_topic && !o.if_exists)
    throw runtime_failure("Topic '" + o.topic + "' does not exist as expected");
}

int do_create(client& c, const topics_options& o) {
  properties configs = topic_configs(o);
  if (o.topic.find_first_of("._") != std::string::npos)
    print_warning("Due to limitations in metric names, topics with a period ('.') or underscore ('_') could "
                  "collide. To avoid issues it is best to use either, but not both.");
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, o.replication_factor, errstr, sizeof errstr);
  if (!nt) throw usage_error(errstr);
  for (const auto& [k, v] : configs) {
    if (auto err = rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str())) {
      rd_kafka_NewTopic_destroy(nt);
      throw usage_error("Invalid topic config " + k + "=" + v + ": " + rd_kafka_err2str(err));
    }
  }
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_CREATETOPICS, RD_KAFKA_EVENT_CREATETOPICS_RESULT, o.timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_CreateTopics(c.rk(), &nt, 1, opts, q);
                 },
                 true);
  } catch (...) {
    rd_kafka_NewTopic_destroy(nt);
    throw;
  }
  rd_kafka_NewTopic_destroy(nt);
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(res[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && o.if_not_exists) return exit_ok;
    if (err) {
      const char* s = rd_kafka_topic_result_error_string(res[i]);
      throw runtime_failure(c.explain(err, s ? s : rd_kafka_err2str(err)));
    }
  }
  std::cout << "Created topic " << o.topic << "." << std::endl;
  return exit_ok;
}

int do_list(client& c, const topics_options& o) {
  auto md = c.metadata(true, o.timeout_ms);
  for (const auto& t : matching_topics(*md, o)) std::cout << t << "\n";
  std::cout.flush();
  return exit_ok;
}

std::map<std::string, std::vector<config_entry>> describe_topic_configs(client& c, const std::vector<std::string>& topics,
                                                                        int timeout_ms) {
  std::map<std::string, std::vector<config_entry>> out;
  if (topics.empty()) return out;
  std::vector<rd_kafka_ConfigResource_t*> res;
  for (const auto& t : topics) res.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_DescribeConfigs(c.rk(), res.data(), res.size(), opts, q);
                 });
  } catch (...) {
    rd_kafka_ConfigResource_destroy_array(res.data(), res.size());
    throw;
  }
  rd_kafka_ConfigResource_destroy_array(res.data(), res.size());
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    std::string name = rd_kafka_ConfigResource_name(rs[i]);
    if (auto err = rd_kafka_ConfigResource_error(rs[i])) {
      const char* s = rd_kafka_ConfigResource_error_string(rs[i]);
      throw runtime_failure("Describing the configs of topic '" + name + "' failed: " + (s ? s : rd_kafka_err2str(err)));
    }
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &cnt);
    auto& v = out[name];
    for (size_t j = 0; j < cnt; ++j) {
      const char* val = rd_kafka_ConfigEntry_value(entries[j]);
      v.push_back({rd_kafka_ConfigEntry_name(entries[j]), val ? val : "null",
                   rd_kafka_ConfigEntry_is_default(entries[j]) != 0 ||
                       rd_kafka_ConfigEntry_source(entries[j]) == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG});
    }
  }
  return out;
}

int do_describe(client& c, const topics_options& o) {
  auto md = c.metadata(true, o.timeout_ms);
  auto topics = matching_topics(*md, o);
  ensure_found(topics, o);
  if (topics.empty()) return exit_ok;

  bool describe_configs = !(o.under_replicated || o.unavailable || o.under_min_isr || o.at_min_isr);
  bool describe_partitions = !o.with_overrides;
  auto configs = describe_topic_configs(c, topics, o.timeout_ms);

  // Topic ids come from the broker that answered the metadata request.
  std::map<std::string, std::string> ids;
  std::set<int32_t> live;
  for (int i = 0; i < md->broker_cnt; ++i) live.insert(md->brokers[i].id);
  for (int i = 0; i < md->broker_cnt; ++i) {
    if (md->brokers[i].id == md->orig_broker_id) {
      ids = fetch_topic_ids(md->brokers[i].host, md->brokers[i].port, topics, std::min(o.timeout_ms, 5000));
      break;
    }
  }

  for (const auto& name : topics) {
    const rd_kafka_metadata_topic_t* t = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (name == md->topics[i].topic) t = &md->topics[i];
    if (!t) continue;
    std::vector<const rd_kafka_metadata_partition_t*> parts;
    for (int i = 0; i < t->partition_cnt; ++i) parts.push_back(&t->partitions[i]);
    std::sort(parts.begin(), parts.end(), [](auto* a, auto* b) { return a->id < b->id; });
    const auto& cfg = configs[name];
    int min_isr = 1;
    std::string overrides;
    bool has_override = false;
    for (const auto& e : cfg) {
      if (e.name == "min.insync.replicas")
        if (auto v = parse_int(e.value)) min_isr = static_cast<int>(*v);
      if (!e.is_default) {
        if (has_override) overrides += ",";
        overrides += e.name + "=" + e.value;
        has_override = true;
      }
    }
    if (describe_configs && (!o.with_overrides || has_override)) {
      std::cout << "Topic: " << name;
      if (auto it = ids.find(name); it != ids.end()) std::cout << "\tTopicId: " << it->second;
      std::cout << "\tPartitionCount: " << parts.size()
                << "\tReplicationFactor: " << (parts.empty() ? 0 : parts[0]->replica_cnt)
                << "\tConfigs: " << overrides << "\n";
    }
    if (!describe_partitions) continue;
    for (const auto* p : parts) {
      bool has_leader = p->leader >= 0;
      bool print = describe_configs;
      if (o.under_replicated) print = p->replica_cnt - p->isr_cnt > 0;
      if (o.unavailable) print = !has_leader || !live.count(p->leader);
      if (o.under_min_isr) print = !has_leader || p->isr_cnt < min_isr;
      if (o.at_min_isr) print = p->isr_cnt == min_isr;
      if (!print) continue;
      std::cout << "\tTopic: " << name << "\tPartition: " << p->id
                << "\tLeader: " << (has_leader ? std::to_string(p->leader) : std::string("none"))
                << "\tReplicas: " << join_ids(p->replicas, p->replica_cnt) << "\tIsr: " << join_ids(p->isrs, p->isr_cnt)
                << "\n";
    }
  }
  std::cout.flush();
  return exit_ok;
}

int do_alter(client& c, const topics_options& o) {
  auto md = c.metadata(true, o.timeout_ms);
  auto topics = matching_topics(*md, o);
  ensure_found(topics, o);
  if (topics.empty()) return exit_ok;
  std::vector<rd_kafka_NewPartitions_t*> nps;
  char errstr[512];
  for (const auto& t : topics) {
    auto* np = rd_kafka_NewPartitions_new(t.c_str(), static_cast<size_t>(o.partitions), errstr, sizeof errstr);
    if (!np) {
      rd_kafka_NewPartitions_destroy_array(nps.data(), nps.size());
      throw usage_error(errstr);
    }
    nps.push_back(np);
  }
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, o.timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_CreatePartitions(c.rk(), nps.data(), nps.size(), opts, q);
                 },
                 true);
  } catch (...) {
    rd_kafka_NewPartitions_destroy_array(nps.data(), nps.size());
    throw;
  }
  rd_kafka_NewPartitions_destroy_array(nps.data(), nps.size());
  size_t n = 0;
  const rd_kafka_topic_result_t** res =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev.get()), &n);
  std::string failures;
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_topic_result_error(res[i])) {
      const char* s = rd_kafka_topic_result_error_string(res[i]);
      if (!failures.empty()) failures += "; ";
      failures += (n > 1 ? std::string(rd_kafka_topic_result_name(res[i])) + ": " : std::string()) +
                  (s ? s : rd_kafka_err2str(err));
    }
  }
  if (!failures.empty()) throw runtime_failure(failures);
  return exit_ok;
}

int do_delete(client& c, const topics_options& o) {
  auto md = c.metadata(true, o.timeout_ms);
  auto topics = matching_topics(*md, o);
  ensure_found(topics, o);
  if (topics.empty()) return exit_ok;
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (const auto& t : topics) dts.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_DELETETOPICS, RD_KAFKA_EVENT_DELETETOPICS_RESULT, o.timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_DeleteTopics(c.rk(), dts.data(), dts.size(), opts, q);
                 },
                 true);
  } catch (...) {
    rd_kafka_DeleteTopic_destroy_array(dts.data(), dts.size());
    throw;
  }
  rd_kafka_DeleteTopic_destroy_array(dts.data(), dts.size());
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  std::string failures;
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_topic_result_error(res[i])) {
      const char* s = rd_kafka_topic_result_error_string(res[i]);
      if (!failures.empty()) failures += "; ";
      failures += std::string(rd_kafka_topic_result_name(res[i])) + ": " + (s ? s : rd_kafka_err2str(err));
    }
  }
  if (!failures.empty()) throw runtime_failure(failures);
  return exit_ok;
}

}  // namespace

int topics_main(int argc, char** argv) {
  topics_options o;
  CLI::App app{"Create, delete, describe, or change a topic (like kafka-topics.sh).", "minikafka topics"};
  app.add_option("--bootstrap-server", o.bootstrap, "The Kafka server(s) to connect to, host:port[,host:port]")
      ->capture_default_str();
  app.add_option("--command-config", o.command_config, "Properties file with client configs (librdkafka names)");
  app.add_option("--command-property", o.command_properties, "A client config override, key=value (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--timeout-ms", o.timeout_ms,
                 "Give up when the broker does not answer a request (or cannot be reached) within this time")
      ->capture_default_str();
  app.add_flag("--create", o.create, "Create a new topic");
  app.add_flag("--list", o.list, "List all available topics");
  app.add_flag("--describe", o.describe, "List details for the given topics");
  app.add_flag("--alter", o.alter, "Alter the number of partitions");
  app.add_flag("--delete", o.del, "Delete a topic");
  auto* topic = app.add_option("--topic", o.topic,
                               "The topic to create, alter, describe or delete; a regular expression except for --create");
  auto* parts = app.add_option("--partitions", o.partitions,
                               "The number of partitions for the topic being created or altered (default: the broker's)");
  auto* rf = app.add_option("--replication-factor", o.replication_factor,
                            "The replication factor for the topic being created (default: the broker's)");
  app.add_option("--config", o.configs, "A topic configuration override for --create, name=value (repeatable)")
      ->allow_extra_args(false);
  app.add_flag("--if-exists", o.if_exists, "With --alter, --delete or --describe: only act if the topic exists");
  app.add_flag("--if-not-exists", o.if_not_exists, "With --create: only create the topic if it does not exist");
  app.add_flag("--exclude-internal", o.exclude_internal, "Exclude internal topics when listing or describing");
  app.add_flag("--topics-with-overrides", o.with_overrides, "With --describe: only show topics with overridden configs");
  app.add_flag("--under-replicated-partitions", o.under_replicated, "With --describe: only show under-replicated partitions");
  app.add_flag("--unavailable-partitions", o.unavailable, "With --describe: only show partitions without an available leader");
  app.add_flag("--under-min-isr-partitions", o.under_min_isr,
               "With --describe: only show partitions whose ISR count is below min.insync.replicas");
  app.add_flag("--at-min-isr-partitions", o.at_min_isr,
               "With --describe: only show partitions whose ISR count equals min.insync.replicas");
  if (argc <= 1) {
    add_exit_codes_footer(app);
    std::cerr << "Error: Create, delete, describe, or change a topic: an action is required.\n"
              << app.help();
    return exit_usage;
  }
  if (auto code = parse_args(app, argc, argv)) return *code;
  o.has_topic = topic->count() > 0;
  o.has_partitions = parts->count() > 0;
  o.has_replication_factor = rf->count() > 0;

  return run_guarded("topics", [&]() -> int {
    validate(o);
    auto props = base_properties(o.bootstrap, "minikafka-topics", o.command_config, o.command_properties,
                                 "--command-property");
    client c(RD_KAFKA_PRODUCER, props);
    try {
      c.ensure_connected(o.timeout_ms);
      if (o.create) return do_create(c, o);
      if (o.list) return do_list(c, o);
      if (o.describe) return do_describe(c, o);
      if (o.alter) return do_alter(c, o);
      return do_delete(c, o);
    } catch (const runtime_failure& e) {
      std::cout.flush();
      std::cerr << "Error while executing topic command : " << e.what() << std::endl;
      return exit_failure;
    }
  });
}

}  // namespace mk::cli
