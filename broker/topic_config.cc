#include "broker/topic_config.h"

#include <charconv>

namespace mk {

const std::vector<config_def>& topic_config_defs() {
  static const std::vector<config_def> defs = {
      {"cleanup.policy", "delete", config_type::list, "delete and/or compact"},
      {"compression.type", "producer", config_type::string, "final compression type"},
      {"delete.retention.ms", "86400000", config_type::long_, "tombstone retention"},
      {"file.delete.delay.ms", "60000", config_type::long_, ""},
      {"flush.messages", "9223372036854775807", config_type::long_, ""},
      {"flush.ms", "9223372036854775807", config_type::long_, ""},
      {"follower.replication.throttled.replicas", "", config_type::list, ""},
      {"index.interval.bytes", "4096", config_type::int_, ""},
      {"leader.replication.throttled.replicas", "", config_type::list, ""},
      {"local.retention.bytes", "-2", config_type::long_, ""},
      {"local.retention.ms", "-2", config_type::long_, ""},
      {"max.compaction.lag.ms", "9223372036854775807", config_type::long_, ""},
      {"max.message.bytes", "1048588", config_type::int_, "largest record batch size allowed"},
      {"message.downconversion.enable", "true", config_type::boolean, ""},
      {"message.format.version", "3.0-IV1", config_type::string, ""},
      {"message.timestamp.after.max.ms", "9223372036854775807", config_type::long_, ""},
      {"message.timestamp.before.max.ms", "9223372036854775807", config_type::long_, ""},
      {"message.timestamp.difference.max.ms", "9223372036854775807", config_type::long_, ""},
      {"message.timestamp.type", "CreateTime", config_type::string, "CreateTime or LogAppendTime"},
      {"min.cleanable.dirty.ratio", "0.5", config_type::double_, ""},
      {"min.compaction.lag.ms", "0", config_type::long_, ""},
      {"min.insync.replicas", "1", config_type::int_, ""},
      {"preallocate", "false", config_type::boolean, ""},
      {"remote.storage.enable", "false", config_type::boolean, ""},
      {"retention.bytes", "-1", config_type::long_, "max partition size before old batches go"},
      {"retention.ms", "604800000", config_type::long_, "max age before old batches go"},
      {"segment.bytes", "1073741824", config_type::int_, ""},
      {"segment.index.bytes", "10485760", config_type::int_, ""},
      {"segment.jitter.ms", "0", config_type::long_, ""},
      {"segment.ms", "604800000", config_type::long_, ""},
      {"unclean.leader.election.enable", "false", config_type::boolean, ""},
  };
  return defs;
}

const config_def* find_topic_config(const std::string& name) {
  for (const auto& d : topic_config_defs())
    if (name == d.name) return &d;
  return nullptr;
}

namespace {
bool parse_i64(const std::string& s, int64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}
}  // namespace

std::optional<std::string> validate_topic_config(const std::string& name, const std::string& value) {
  const config_def* d = find_topic_config(name);
  if (!d) return "Unknown topic config name: " + name;
  int64_t n = 0;
  switch (d->type) {
    case config_type::boolean:
      if (value != "true" && value != "false") return "Invalid value " + value + " for configuration " + name + ": Expected value to be either true or false";
      break;
    case config_type::int_:
    case config_type::short_:
    case config_type::long_:
      if (!parse_i64(value, n)) return "Invalid value " + value + " for configuration " + name + ": Not a number of type " + (d->type == config_type::long_ ? "LONG" : "INT");
      if (d->type != config_type::long_ && (n < INT32_MIN || n > INT32_MAX)) return "Invalid value " + value + " for configuration " + name;
      break;
    case config_type::double_:
      try {
        (void)std::stod(value);
      } catch (...) {
        return "Invalid value " + value + " for configuration " + name + ": Not a number of type DOUBLE";
      }
      break;
    case config_type::unknown:
    case config_type::string:
    case config_type::list:
    case config_type::class_:
    case config_type::password:
      break;  // checked by name below, where at all
  }
  if (name == "message.timestamp.type" && value != "CreateTime" && value != "LogAppendTime")
    return "Invalid value " + value + " for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime";
  if (name == "cleanup.policy") {
    for (size_t start = 0; start <= value.size();) {
      size_t comma = value.find(',', start);
      std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (item != "delete" && item != "compact") return "Invalid value " + value + " for configuration cleanup.policy: String must be one of: compact, delete";
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (name == "compression.type") {
    static const char* ok[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
    bool found = false;
    for (auto* o : ok) found = found || value == o;
    if (!found) return "Invalid value " + value + " for configuration compression.type";
  }
  if ((name == "max.message.bytes" || name == "segment.bytes") && n < 0) return "Invalid value " + value + " for configuration " + name;
  return std::nullopt;
}

std::string topic_configs::get(const std::string& name) const {
  auto it = overrides.find(name);
  if (it != overrides.end()) return it->second;
  const config_def* d = find_topic_config(name);
  return d ? d->default_value : "";
}

int64_t topic_configs::get_int(const std::string& name) const {
  int64_t n = 0;
  std::string v = get(name);
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

}  // namespace mk
