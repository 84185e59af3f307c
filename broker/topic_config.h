// Topic and broker configs: the names, defaults and types that Kafka 3.9 reports through
// DescribeConfigs, and validation of values given to CreateTopics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mk {

// DescribeConfigs config_type (v3+).
enum class config_type : int8_t { unknown = 0, boolean = 1, string = 2, int_ = 3, short_ = 4, long_ = 5, double_ = 6, list = 7, class_ = 8, password = 9 };
// DescribeConfigs config_source (v1+).
enum class config_source : int8_t { unknown = 0, topic = 1, dynamic_broker = 2, dynamic_default_broker = 3, static_broker = 4, default_config = 5 };

struct config_def {
  const char* name;
  const char* default_value;
  config_type type;
  const char* doc;
};

// Every topic-level config Kafka 3.9 has, with its default.
const std::vector<config_def>& topic_config_defs();
const config_def* find_topic_config(const std::string& name);

// Checks a topic config value. Returns an error message, or nullopt when the value is valid.
std::optional<std::string> validate_topic_config(const std::string& name, const std::string& value);

// Topic configs with overrides on top of defaults.
struct topic_configs {
  std::map<std::string, std::string> overrides;

  std::string get(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  bool log_append_time() const { return get("message.timestamp.type") == "LogAppendTime"; }
};

}  // namespace mk
