#include "broker/control/kafka_versions.h"

namespace mk::control {

const std::vector<kafka_release>& kafka_releases() {
  static const std::vector<kafka_release> table = {
#include "broker/control/kafka_versions_table.inc"
  };
  return table;
}

const kafka_release* find_kafka_release(std::string_view v) {
  if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
  // Split into numbers; 0.x releases are named by three of them, later ones by two.
  std::vector<std::string> parts;
  std::string cur;
  for (char c : v) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else if (c >= '0' && c <= '9') {
      cur.push_back(c);
    } else {
      return nullptr;
    }
  }
  parts.push_back(cur);
  for (const auto& p : parts)
    if (p.empty()) return nullptr;
  const size_t n = parts[0] == "0" ? 3 : 2;
  if (parts.size() < n) return nullptr;
  std::string name = parts[0];
  for (size_t i = 1; i < n; ++i) name += "." + parts[i];
  for (const auto& r : kafka_releases())
    if (name == r.version) return &r;
  return nullptr;
}

}  // namespace mk::control
