#include "broker/control/fault_injector.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "broker/services/topics.h"
#include "protocol/error_code.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/request_summary.h"

namespace mk::control {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

uint64_t key_of(uint64_t connection_id, int32_t correlation_id) {
  // Connection ids count up from 1; correlation ids are any int32. Mixed so that neither
  // overflows into the other for any realistic connection count.
  return connection_id << 32 ^ static_cast<uint32_t>(correlation_id);
}

// Uniform in [0, 1) from 53 random bits: the same sequence on every platform for one seed.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::optional<int16_t> api_key_from_name(const std::string& s) {
  if (auto n = parse_int(s)) {
    if (*n < 0 || *n > INT16_MAX) return std::nullopt;
    return static_cast<int16_t>(*n);
  }
  const std::string want = lower(s);
  for (const auto& a : proto::all_api_keys)
    if (lower(a.name) == want) return a.key;
  return std::nullopt;
}

std::optional<int16_t> error_from_name(const std::string& s) {
  if (auto n = parse_int(s)) {
    if (*n < INT16_MIN || *n > INT16_MAX) return std::nullopt;
    return static_cast<int16_t>(*n);
  }
  const std::string want = lower(s);
#define MK_X(name, code, retriable) \
  if (want == #name) return static_cast<int16_t>(code);
  MK_KAFKA_ERRORS(MK_X)
#undef MK_X
  return std::nullopt;
}

std::string api_name(int16_t key) {
  const auto* a = proto::find_api_key(key);
  return a ? std::string(a->name) : "ApiKey" + std::to_string(key);
}

std::string error_upper_name(int16_t code) {
  std::string n = proto::error_name(static_cast<proto::error_code>(code));
  if (n == "unknown") return std::to_string(code);
  for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

std::string validate(const fault_rule& r) {
  if (!r.error && r.delay_ms == 0 && r.act == fault_rule::action::none)
    return "a rule needs \"error\", \"delay_ms\" or \"action\"";
  if (r.error && r.act != fault_rule::action::none) return "\"error\" and \"action\" exclude each other";
  if (r.error && *r.error == 0) return "\"error\" must not be NONE";
  if (r.delay_ms < 0) return "\"delay_ms\" must be >= 0";
  if (r.count && *r.count < 0) return "\"count\" must be >= 0";
  if (r.after < 0) return "\"after\" must be >= 0";
  if (r.probability && !(*r.probability >= 0 && *r.probability <= 1)) return "\"probability\" must be in [0, 1]";
  if (r.min_version && r.max_version && *r.min_version > *r.max_version) return "\"versions\" must be [min, max] with min <= max";
  if (r.partition && *r.partition < 0) return "\"partition\" must be >= 0";
  return "";
}

int64_t fault_injector::add(fault_rule r) {
  const int64_t id = next_id_++;
  entry e;
  e.rng.seed(r.seed ? *r.seed : std::random_device{}());
  e.rule = std::move(r);
  rules_.emplace(id, std::move(e));
  return id;
}

bool fault_injector::remove(int64_t id) { return rules_.erase(id) > 0; }

size_t fault_injector::remove_if(const std::function<bool(const fault_rule&)>& pred) {
  return std::erase_if(rules_, [&](const auto& kv) { return pred(kv.second.rule); });
}

size_t fault_injector::clear() {
  const size_t n = rules_.size();
  rules_.clear();
  return n;
}

std::vector<fault_rule_status> fault_injector::list() const {
  std::vector<fault_rule_status> out;
  for (const auto& [id, e] : rules_)
    out.push_back(fault_rule_status{id, e.rule, e.matched, e.fired, e.rule.count && e.fired >= *e.rule.count});
  return out;
}

std::optional<fault_rule_status> fault_injector::get(int64_t id) const {
  auto it = rules_.find(id);
  if (it == rules_.end()) return std::nullopt;
  const entry& e = it->second;
  return fault_rule_status{id, e.rule, e.matched, e.fired, e.rule.count && e.fired >= *e.rule.count};
}

std::optional<int64_t> fault_injector::decided_by(uint64_t connection_id, int32_t correlation_id) const {
  auto it = deciding_.find(key_of(connection_id, correlation_id));
  if (it == deciding_.end()) return std::nullopt;
  return it->second;
}

bool fault_injector::needs_summary(const fault_rule& r) const {
  return r.topic || r.partition || r.group_id || r.transactional_id;
}

intercept_action fault_injector::on_request(const request_info& req) {
  const auto& h = req.header;
  intercept_action out;
  std::optional<proto::request_summary> summary;  // decoded once, when a rule needs it
  for (auto& [id, e] : rules_) {
    const fault_rule& r = e.rule;
    if (r.api && *r.api != h.api_key) continue;
    if (r.min_version && h.api_version < *r.min_version) continue;
    if (r.max_version && h.api_version > *r.max_version) continue;
    if (r.broker && *r.broker != req.node_id) continue;
    if (r.client_id && *r.client_id != h.client_id) continue;
    if (needs_summary(r)) {
      if (!summary) summary = proto::summarize_request(h.api_key, h.api_version, req.body);
      const auto& s = *summary;
      if (r.topic || r.partition) {
        const topic_state* named = r.topic ? topics_.find(*r.topic) : nullptr;
        bool hit = false;
        for (const auto& t : s.topics) {
          if (r.topic) {
            const bool same = t.name.empty() ? (named && t.id == named->id) : t.name == *r.topic;
            if (!same) continue;
          }
          if (r.partition && std::find(t.partitions.begin(), t.partitions.end(), *r.partition) == t.partitions.end())
            continue;
          hit = true;
          break;
        }
        if (!hit) continue;
      }
      if (r.group_id && std::find(s.group_ids.begin(), s.group_ids.end(), *r.group_id) == s.group_ids.end()) continue;
      if (r.transactional_id &&
          std::find(s.transactional_ids.begin(), s.transactional_ids.end(), *r.transactional_id) ==
              s.transactional_ids.end())
        continue;
    }
    // A match: does the rule act on this one?
    e.matched++;
    if (e.matched <= r.after) continue;
    if (r.count && e.fired >= *r.count) continue;
    if (r.probability && !(unit(e.rng) < *r.probability)) continue;
    e.fired++;
    out.delay_ms += r.delay_ms;
    if (r.error) {
      out.what = intercept_action::kind::error;
      out.error = static_cast<proto::error_code>(*r.error);
      // A rule naming a topic or partition fails just those partitions of a Produce or Fetch.
      if (r.topic || r.partition) {
        const topic_state* named = r.topic ? topics_.find(*r.topic) : nullptr;
        out.only = [topic = r.topic, partition = r.partition, id = named ? named->id : proto::uuid{}](
                       const std::string& name, const proto::uuid& topic_id, int32_t p) {
          if (partition && p != *partition) return false;
          if (!topic) return true;
          return name.empty() ? !(id == proto::uuid{}) && topic_id == id : name == *topic;
        };
      }
    } else if (r.act == fault_rule::action::drop) {
      out.what = intercept_action::kind::drop;
    } else if (r.act == fault_rule::action::close) {
      out.what = intercept_action::kind::close;
    }
    deciding_[key_of(req.connection_id, h.correlation_id)] = id;
    if (out.what != intercept_action::kind::pass) break;
  }
  return out;
}

void fault_injector::on_response(const request_info& req, const response_info&) {
  if (!deciding_.empty()) deciding_.erase(key_of(req.connection_id, req.header.correlation_id));
}

}  // namespace mk::control
