#include "broker/admin/control_json.h"

#include <set>

namespace mk::admin {

namespace {

bool int_in(const json& v, int64_t lo, int64_t hi, int64_t& out) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
  out = v.get<int64_t>();
  return out >= lo && out <= hi;
}

}  // namespace

bool parse_fault_rule(const json& j, control::fault_rule& r, std::string& why) {
  static const std::set<std::string> known = {"api",      "versions",         "topic", "partition", "broker",
                                              "client_id", "group_id",        "transactional_id",
                                              "error",    "delay_ms",         "action", "count",    "after",
                                              "probability", "seed"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) {
      why = "unknown field \"" + k + "\" in a fault rule";
      return false;
    }
  auto bad = [&](const std::string& m) {
    why = m;
    return false;
  };
  int64_t n = 0;
  if (j.contains("api")) {
    const json& v = j["api"];
    std::optional<int16_t> key;
    if (v.is_string()) key = control::api_key_from_name(v.get<std::string>());
    else if (int_in(v, 0, INT16_MAX, n)) key = static_cast<int16_t>(n);
    if (!key) return bad("\"api\" must be a Kafka API name (\"Produce\") or key: " + v.dump());
    r.api = key;
  }
  if (j.contains("versions")) {
    const json& v = j["versions"];
    int64_t lo = 0, hi = 0;
    if (!v.is_array() || v.size() != 2 || !int_in(v[0], 0, INT16_MAX, lo) || !int_in(v[1], 0, INT16_MAX, hi))
      return bad("\"versions\" must be [min, max]");
    r.min_version = static_cast<int16_t>(lo);
    r.max_version = static_cast<int16_t>(hi);
  }
  auto str = [&](const char* key, std::optional<std::string>& out) {
    if (!j.contains(key)) return true;
    if (!j[key].is_string()) return bad(std::string("\"") + key + "\" must be a string");
    out = j[key].get<std::string>();
    return true;
  };
  if (!str("topic", r.topic) || !str("client_id", r.client_id) || !str("group_id", r.group_id) ||
      !str("transactional_id", r.transactional_id))
    return false;
  if (j.contains("partition")) {
    if (!int_in(j["partition"], 0, INT32_MAX, n)) return bad("\"partition\" must be an integer >= 0");
    r.partition = static_cast<int32_t>(n);
  }
  if (j.contains("broker")) {
    if (!int_in(j["broker"], INT32_MIN, INT32_MAX, n)) return bad("\"broker\" must be a node id");
    r.broker = static_cast<int32_t>(n);
  }
  if (j.contains("error")) {
    const json& v = j["error"];
    std::optional<int16_t> e;
    if (v.is_string()) e = control::error_from_name(v.get<std::string>());
    else if (int_in(v, INT16_MIN, INT16_MAX, n)) e = static_cast<int16_t>(n);
    if (!e) return bad("\"error\" must be a Kafka error name (\"NOT_LEADER_OR_FOLLOWER\") or code: " + v.dump());
    r.error = e;
  }
  if (j.contains("delay_ms")) {
    if (!int_in(j["delay_ms"], 0, 3600000, n)) return bad("\"delay_ms\" must be an integer in [0, 3600000]");
    r.delay_ms = static_cast<int32_t>(n);
  }
  if (j.contains("action")) {
    const json& v = j["action"];
    if (v == "drop") r.act = control::fault_rule::action::drop;
    else if (v == "close") r.act = control::fault_rule::action::close;
    else return bad("\"action\" must be \"drop\" or \"close\"");
  }
  if (j.contains("count")) {
    if (!int_in(j["count"], 0, INT64_MAX, n)) return bad("\"count\" must be an integer >= 0");
    r.count = n;
  }
  if (j.contains("after")) {
    if (!int_in(j["after"], 0, INT64_MAX, n)) return bad("\"after\" must be an integer >= 0");
    r.after = n;
  }
  if (j.contains("probability")) {
    const json& v = j["probability"];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) return bad("\"probability\" must be in [0, 1]");
    r.probability = v.get<double>();
  }
  if (j.contains("seed")) {
    const json& v = j["seed"];
    if (!v.is_number_integer()) return bad("\"seed\" must be an integer");
    r.seed = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  }
  return true;
}

json fault_status_json(const control::fault_rule_status& s) {
  const auto& r = s.rule;
  json j{{"id", s.id}};
  if (r.api) j["api"] = control::api_name(*r.api);
  if (r.min_version || r.max_version) j["versions"] = json::array({r.min_version.value_or(0), r.max_version.value_or(INT16_MAX)});
  if (r.topic) j["topic"] = *r.topic;
  if (r.partition) j["partition"] = *r.partition;
  if (r.broker) j["broker"] = *r.broker;
  if (r.client_id) j["client_id"] = *r.client_id;
  if (r.group_id) j["group_id"] = *r.group_id;
  if (r.transactional_id) j["transactional_id"] = *r.transactional_id;
  if (r.error) j["error"] = control::error_upper_name(*r.error);
  if (r.delay_ms) j["delay_ms"] = r.delay_ms;
  if (r.act == control::fault_rule::action::drop) j["action"] = "drop";
  if (r.act == control::fault_rule::action::close) j["action"] = "close";
  if (r.count) j["count"] = *r.count;
  if (r.after) j["after"] = r.after;
  if (r.probability) j["probability"] = *r.probability;
  if (r.seed) j["seed"] = *r.seed;
  j["matched"] = s.matched;
  j["fired"] = s.fired;
  j["exhausted"] = s.exhausted;
  return j;
}

json group_view_json(const control::group_view& g) {
  return json{{"group_id", g.group_id},
              {"exists", g.exists},
              {"state", g.state},
              {"members", g.member_ids.size()},
              {"member_ids", g.member_ids},
              {"generation_id", g.generation_id}};
}

json lag_view_json(const control::lag_view& l) {
  json parts = json::array();
  for (const auto& p : l.partitions)
    parts.push_back(json{{"topic", p.topic},
                         {"partition", p.partition},
                         {"committed_offset", p.committed},
                         {"start_offset", p.start_offset},
                         {"end_offset", p.end_offset},
                         {"lag", p.lag}});
  json j{{"group_id", l.group_id}, {"total_lag", l.total}, {"partitions", parts}};
  if (l.topic) {
    j["topic"] = *l.topic;
    j["topic_exists"] = l.topic_exists;
  }
  return j;
}

json records_view_json(const control::records_view& r) {
  json parts = json::array();
  for (const auto& p : r.partitions)
    parts.push_back(json{{"partition", p.partition}, {"start_offset", p.start_offset}, {"end_offset", p.end_offset}});
  json j{{"topic", r.topic}, {"exists", r.exists}, {"records", r.records}, {"partitions", parts}};
  if (r.only_partition) j["partition"] = *r.only_partition;
  return j;
}

json trace_entry_json(const control::trace_entry& e) {
  json j{{"seq", e.seq},
         {"time_ms", e.time_ms},
         {"latency_ms", e.latency_ms},
         {"broker", e.broker},
         {"connection", e.connection},
         {"peer", e.peer},
         {"client_id", e.client_id}};
  if (!e.software_name.empty() || !e.software_version.empty())
    j["client_software"] = json{{"name", e.software_name}, {"version", e.software_version}};
  j["api"] = control::api_name(e.api_key);
  j["api_key"] = e.api_key;
  j["version"] = e.api_version;
  j["correlation_id"] = e.correlation_id;
  j["outcome"] = control::to_string(e.result);
  if (e.fault_rule) j["fault_rule"] = *e.fault_rule;
  if (!e.reason.empty()) j["reason"] = e.reason;
  json errors = json::array();
  for (int16_t c : e.error_codes) errors.push_back(control::error_upper_name(c));
  j["error_codes"] = errors;
  json topics = json::array();
  for (const auto& t : e.named().topics) {
    json tj{{"name", t.name}, {"partitions", t.partitions}};
    if (!(t.id == proto::uuid{})) tj["id"] = t.id.to_base64();
    topics.push_back(tj);
  }
  j["topics"] = topics;
  if (!e.named().group_ids.empty()) j["group_ids"] = e.named().group_ids;
  if (!e.named().transactional_ids.empty()) j["transactional_ids"] = e.named().transactional_ids;
  return j;
}

}  // namespace mk::admin
