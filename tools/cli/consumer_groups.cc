// `minikafka consumer-groups`: kafka-consumer-groups.sh over librdkafka's Admin API.
//
//   --list [--state [STATES]]
//   --describe (--group G ... | --all-groups) [--offsets (default) | --members | --state] [--verbose]
//   --delete (--group G ... | --all-groups)
//   --reset-offsets (--group G ... | --all-groups) (--topic T[:P,P] ... | --all-topics)
//       (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N |
//        --to-datetime YYYY-MM-DDTHH:mm:SS.sss[Z|+hh:mm] | --by-duration PnDTnHnMnS)
//       [--dry-run (default) | --execute] [--export]
//   --delete-offsets --group G --topic T[:P,P] ...
//
// Tables use the layout of Kafka's tool (columns at least 15 wide, '-' for missing values):
//   GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID
// Rows come from the members' assignments plus every partition with a committed offset;
// LOG-END-OFFSET is the partition's high watermark and LAG the difference. Group state notes
// ("has no active members", "is rebalancing") and errors go to stderr. Exit 1 when a named
// group does not exist or any operation failed.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <set>

#include "tools/cli/common.h"

namespace mk::cli {

namespace {

const char* const missing = "-";

struct cg_options {
  std::string bootstrap = default_bootstrap;
  std::string command_config;
  std::vector<std::string> command_properties;
  int timeout_ms = default_timeout_ms;
  bool list = false, describe = false, del = false, reset = false, delete_offsets = false;
  std::vector<std::string> groups;
  bool all_groups = false;
  bool members = false, offsets = false, state = false, verbose = false;
  std::string state_filter;
  std::vector<std::string> topics;
  bool all_topics = false;
  bool to_earliest = false, to_latest = false, to_current = false;
  bool has_to_offset = false, has_shift_by = false, has_datetime = false, has_duration = false;
  long long to_offset = 0, shift_by = 0;
  std::string to_datetime, by_duration;
  bool dry_run = false, execute = false, export_csv = false;
};

using tp = std::pair<std::string, int32_t>;

std::string tp_name(const tp& p) { return p.first + "-" + std::to_string(p.second); }

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

struct member_info {
  std::string consumer_id, instance_id, client_id, host;
  std::vector<tp> assignment;
};

struct group_info {
  std::string id;
  bool exists = false;
  std::string state = "Dead";
  std::string assignor;
  std::string coordinator_host;
  int coordinator_port = 0;
  int coordinator_id = -1;
  std::vector<member_info> members;
};

std::vector<tp> to_tps(const rd_kafka_topic_partition_list_t* l) {
  std::vector<tp> out;
  if (!l) return out;
  for (int i = 0; i < l->cnt; ++i) out.emplace_back(l->elems[i].topic, l->elems[i].partition);
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Admin calls

std::vector<std::pair<std::string, std::string>> list_groups(client& c, int timeout_ms) {
  auto ev = c.admin(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, timeout_ms,
                    [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                      rd_kafka_ListConsumerGroups(c.rk(), opts, q);
                    });
  const auto* res = rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n = 0, nerr = 0;
  const rd_kafka_ConsumerGroupListing_t** valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
  if (nerr > 0) {
    std::string msg = "Listing the consumer groups failed: ";
    msg += rd_kafka_error_string(errs[0]);
    if (n == 0) throw runtime_failure(msg);
    print_warning(msg);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < n; ++i)
    out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(valid[i]),
                     rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i])));
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, group_info> describe_groups(client& c, const std::vector<std::string>& ids, int timeout_ms) {
  std::map<std::string, group_info> out;
  if (ids.empty()) return out;
  std::vector<const char*> names;
  for (const auto& g : ids) names.push_back(g.c_str());
  auto ev = c.admin(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, timeout_ms,
                    [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                      rd_kafka_DescribeConsumerGroups(c.rk(), names.data(), names.size(), opts, q);
                    });
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** gs =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    group_info g;
    g.id = rd_kafka_ConsumerGroupDescription_group_id(gs[i]);
    if (const rd_kafka_error_t* err = rd_kafka_ConsumerGroupDescription_error(gs[i])) {
      if (rd_kafka_error_code(err) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
        throw runtime_failure("Describing consumer group '" + g.id + "' failed: " + rd_kafka_error_string(err));
      out[g.id] = g;
      continue;
    }
    auto state = rd_kafka_ConsumerGroupDescription_state(gs[i]);
    g.state = rd_kafka_consumer_group_state_name(state);
    g.exists = state != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
    if (const char* a = rd_kafka_ConsumerGroupDescription_partition_assignor(gs[i])) g.assignor = a;
    if (const rd_kafka_Node_t* node = rd_kafka_ConsumerGroupDescription_coordinator(gs[i])) {
      g.coordinator_id = rd_kafka_Node_id(node);
      if (const char* h = rd_kafka_Node_host(node)) g.coordinator_host = h;
      g.coordinator_port = rd_kafka_Node_port(node);
    }
    size_t mc = rd_kafka_ConsumerGroupDescription_member_count(gs[i]);
    for (size_t j = 0; j < mc; ++j) {
      const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(gs[i], j);
      member_info mi;
      auto str = [](const char* s) { return std::string(s ? s : ""); };
      mi.consumer_id = str(rd_kafka_MemberDescription_consumer_id(m));
      mi.instance_id = str(rd_kafka_MemberDescription_group_instance_id(m));
      mi.client_id = str(rd_kafka_MemberDescription_client_id(m));
      mi.host = str(rd_kafka_MemberDescription_host(m));
      if (const rd_kafka_MemberAssignment_t* a = rd_kafka_MemberDescription_assignment(m))
        mi.assignment = to_tps(rd_kafka_MemberAssignment_partitions(a));
      g.members.push_back(std::move(mi));
    }
    out[g.id] = std::move(g);
  }
  return out;
}

std::map<tp, int64_t> committed_offsets(client& c, const std::string& group, int timeout_ms) {
  rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_ListConsumerGroupOffsets(c.rk(), &req, 1, opts, q);
                 });
  } catch (...) {
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    throw;
  }
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  size_t n = 0;
  const rd_kafka_group_result_t** gr =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
  std::map<tp, int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(gr[i])) {
      if (rd_kafka_error_code(err) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) continue;
      throw runtime_failure("Fetching the committed offsets of group '" + group + "' failed: " +
                            rd_kafka_error_string(err));
    }
    const rd_kafka_topic_partition_list_t* l = rd_kafka_group_result_partitions(gr[i]);
    for (int j = 0; l && j < l->cnt; ++j) {
      const auto& e = l->elems[j];
      if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0) out[{e.topic, e.partition}] = e.offset;
    }
  }
  return out;
}

// Partition counts of the cluster's topics.
std::map<std::string, int> partition_counts(client& c, int timeout_ms) {
  auto md = c.metadata(true, timeout_ms);
  std::map<std::string, int> out;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (!md->topics[i].err) out[md->topics[i].topic] = md->topics[i].partition_cnt;
  return out;
}

// ---------------------------------------------------------------------------------------------
// --list

int do_list(client& c, const cg_options& o) {
  auto groups = list_groups(c, o.timeout_ms);
  if (!o.state) {
    for (const auto& [g, s] : groups) std::cout << g << "\n";
    std::cout.flush();
    return exit_ok;
  }
  static const std::vector<std::string> valid = {"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty"};
  std::set<std::string> wanted;
  if (!trim(o.state_filter).empty()) {
    for (auto s : split(o.state_filter, ',')) {
      s = trim(s);
      auto lower = [](std::string x) {
        for (auto& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return x;
      };
      auto it = std::find_if(valid.begin(), valid.end(), [&](const std::string& v) { return lower(v) == lower(s); });
      if (it == valid.end())
        throw usage_error("Invalid state list '" + o.state_filter +
                          "'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty");
      wanted.insert(*it);
    }
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& r : groups)
    if (wanted.empty() || wanted.count(r.second)) rows.push_back(r);
  size_t w = 15;
  for (const auto& r : rows) w = std::max(w, r.first.size());
  std::cout << pad("GROUP", w) << " " << "STATE" << "\n";
  for (const auto& [g, s] : rows) std::cout << pad(g, w) << " " << s << "\n";
  std::cout.flush();
  return exit_ok;
}

// ---------------------------------------------------------------------------------------------
// --describe

std::vector<std::string> target_groups(client& c, const cg_options& o) {
  if (!o.all_groups) return o.groups;
  std::vector<std::string> out;
  for (const auto& [g, s] : list_groups(c, o.timeout_ms)) out.push_back(g);
  return out;
}

// Kafka's state notes; false when there is nothing to print for the group.
bool should_print(const group_info& g, size_t rows, bool& failed) {
  if (!g.exists) {
    print_error("Consumer group '" + g.id + "' does not exist.");
    failed = true;
    return false;
  }
  std::fflush(stdout);
  if (g.state == "Empty") std::cerr << "\nConsumer group '" << g.id << "' has no active members." << std::endl;
  else if (g.state == "PreparingRebalance" || g.state == "CompletingRebalance")
    std::cerr << "\nWarning: Consumer group '" << g.id << "' is rebalancing." << std::endl;
  return rows > 0;
}

void describe_offsets(client& c, const cg_options& o, const group_info& g, bool& failed) {
  struct row {
    std::string topic, partition, current, leo, lag, consumer_id, host, client_id;
  };
  std::vector<row> rows;
  std::map<tp, int64_t> committed;
  if (g.exists) committed = committed_offsets(c, g.id, o.timeout_ms);
  std::map<tp, std::optional<int64_t>> ends;
  auto end_of = [&](const tp& p) -> std::optional<int64_t> {
    auto it = ends.find(p);
    if (it != ends.end()) return it->second;
    std::optional<int64_t> v;
    if (auto w = query_watermarks(c.rk(), p.first, p.second, o.timeout_ms)) v = w->high;
    ends[p] = v;
    return v;
  };
  auto add_rows = [&](std::vector<tp> parts, const std::string& cid, const std::string& host, const std::string& client) {
    std::sort(parts.begin(), parts.end());
    for (const auto& p : parts) {
      row r{p.first, std::to_string(p.second), missing, missing, missing, cid, host, client};
      auto cit = committed.find(p);
      auto leo = end_of(p);
      if (cit != committed.end()) r.current = std::to_string(cit->second);
      if (leo) r.leo = std::to_string(*leo);
      if (cit != committed.end() && leo) r.lag = std::to_string(*leo - cit->second);
      rows.push_back(std::move(r));
    }
  };
  std::set<tp> assigned;
  if (g.exists) {
    std::vector<const member_info*> ms;
    for (const auto& m : g.members)
      if (!m.assignment.empty()) ms.push_back(&m);
    std::stable_sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return a->assignment.size() > b->assignment.size(); });
    for (const auto* m : ms) {
      add_rows(m->assignment, m->consumer_id, m->host, m->client_id);
      assigned.insert(m->assignment.begin(), m->assignment.end());
    }
    std::vector<tp> unassigned;
    for (const auto& [p, off] : committed)
      if (!assigned.count(p)) unassigned.push_back(p);
    add_rows(unassigned, missing, missing, missing);
  }
  if (!should_print(g, rows.size(), failed)) return;
  size_t gw = std::max<size_t>(15, g.id.size()), tw = 15, cw = 15, hw = 15;
  for (const auto& r : rows) {
    tw = std::max(tw, r.topic.size());
    cw = std::max(cw, r.consumer_id.size());
    hw = std::max(hw, r.host.size());
  }
  auto line = [&](const std::string& grp, const std::string& topic, const std::string& part, const std::string& epoch,
                  const std::string& cur, const std::string& leo, const std::string& lag, const std::string& cid,
                  const std::string& host, const std::string& client) {
    std::cout << "\n" << pad(grp, gw) << " " << pad(topic, tw) << " " << pad(part, 10) << " ";
    if (o.verbose) std::cout << pad(epoch, 15) << " ";
    std::cout << pad(cur, 15) << " " << pad(leo, 15) << " " << pad(lag, 15) << " " << pad(cid, cw) << " " << pad(host, hw)
              << " " << client;
  };
  line("GROUP", "TOPIC", "PARTITION", "LEADER-EPOCH", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
       "CLIENT-ID");
  for (const auto& r : rows)
    line(g.id, r.topic, r.partition, missing, r.current, r.leo, r.lag, r.consumer_id, r.host, r.client_id);
  std::cout << "\n" << std::endl;
}

std::string assignment_string(const std::vector<tp>& parts) {
  if (parts.empty()) return missing;
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& p : parts) by_topic[p.first].push_back(p.second);
  std::string s;
  for (auto& [t, ps] : by_topic) {
    std::sort(ps.begin(), ps.end());
    if (!s.empty()) s += ", ";
    s += t + "(";
    for (size_t i = 0; i < ps.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(ps[i]);
    }
    s += ")";
  }
  return s;
}

void describe_members(const cg_options& o, const group_info& g, bool& failed) {
  if (!should_print(g, g.members.size(), failed)) return;
  size_t gw = std::max<size_t>(15, g.id.size()), cw = 15, iw = 17, hw = 15, clw = 15;
  bool with_instance = false;
  for (const auto& m : g.members) {
    cw = std::max(cw, m.consumer_id.size());
    iw = std::max(iw, m.instance_id.size());
    hw = std::max(hw, m.host.size());
    clw = std::max(clw, m.client_id.size());
    with_instance = with_instance || !m.instance_id.empty();
  }
  auto line = [&](const std::string& grp, const std::string& cid, const std::string& inst, const std::string& host,
                  const std::string& client, const std::string& n, const std::string& assignment) {
    std::cout << pad(grp, gw) << " " << pad(cid, cw) << " ";
    if (with_instance) std::cout << pad(inst, iw) << " ";
    std::cout << pad(host, hw) << " " << pad(client, clw) << " " << pad(n, 15) << " ";
    if (o.verbose) std::cout << assignment;
    std::cout << "\n";
  };
  std::cout << "\n";
  line("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT");
  for (const auto& m : g.members)
    line(g.id, m.consumer_id, m.instance_id.empty() ? missing : m.instance_id, m.host, m.client_id,
         std::to_string(m.assignment.size()), assignment_string(m.assignment));
  std::cout.flush();
}

void describe_state(const group_info& g, bool& failed) {
  if (!should_print(g, 1, failed)) return;
  std::string coordinator = g.coordinator_host + ":" + std::to_string(g.coordinator_port) + "  (" +
                            std::to_string(g.coordinator_id) + ")";
  size_t cw = std::max<size_t>(25, coordinator.size()), gw = std::max<size_t>(15, g.id.size());
  auto line = [&](const std::string& grp, const std::string& coord, const std::string& strategy, const std::string& state,
                  const std::string& n) {
    std::cout << "\n" << pad(grp, gw) << " " << pad(coord, cw) << " " << pad(strategy, 20) << " " << pad(state, 20) << " " << n;
  };
  line("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS");
  line(g.id, coordinator, g.assignor.empty() ? missing : g.assignor, g.state, std::to_string(g.members.size()));
  std::cout << std::endl;
}

int do_describe(client& c, const cg_options& o) {
  auto ids = target_groups(c, o);
  auto groups = describe_groups(c, ids, o.timeout_ms);
  bool failed = false;
  for (const auto& [id, g] : groups) {  // in name order, like Kafka's tool
    if (o.members) describe_members(o, g, failed);
    else if (o.state) describe_state(g, failed);
    else describe_offsets(c, o, g, failed);
  }
  return failed ? exit_failure : exit_ok;
}

// ---------------------------------------------------------------------------------------------
// --delete

int do_delete(client& c, const cg_options& o) {
  auto ids = target_groups(c, o);
  if (ids.empty()) {
    std::cout << "Deletion of requested consumer groups () was successful." << std::endl;
    return exit_ok;
  }
  std::vector<rd_kafka_DeleteGroup_t*> dels;
  for (const auto& g : ids) dels.push_back(rd_kafka_DeleteGroup_new(g.c_str()));
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_DELETEGROUPS, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, o.timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_DeleteGroups(c.rk(), dels.data(), dels.size(), opts, q);
                 });
  } catch (...) {
    rd_kafka_DeleteGroup_destroy_array(dels.data(), dels.size());
    throw;
  }
  rd_kafka_DeleteGroup_destroy_array(dels.data(), dels.size());
  size_t n = 0;
  const rd_kafka_group_result_t** res = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
  std::vector<std::string> ok;
  std::vector<std::pair<std::string, std::string>> bad;
  for (size_t i = 0; i < n; ++i) {
    std::string name = rd_kafka_group_result_name(res[i]);
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(res[i])) bad.emplace_back(name, rd_kafka_error_string(err));
    else ok.push_back(name);
  }
  auto quoted = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
    return s;
  };
  if (bad.empty()) {
    std::cout << "Deletion of requested consumer groups (" << quoted(ok) << ") was successful." << std::endl;
    return exit_ok;
  }
  std::string msg = "Deletion of some consumer groups failed:";
  for (const auto& [g, e] : bad) msg += "\n* Group '" + g + "' could not be deleted due to: " + e;
  print_error(msg);
  if (!ok.empty()) std::cout << "\nThese consumer groups were deleted successfully: " << quoted(ok) << std::endl;
  return exit_failure;
}

// ---------------------------------------------------------------------------------------------
// --reset-offsets

// Milliseconds since the epoch of "YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm|-hh:mm|+hhmm]" (local
// time without a zone, like Kafka's tool).
int64_t parse_datetime(const std::string& s) {
  int Y, M, D, h, m, sec, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &consumed) != 6 || consumed < 19)
    throw usage_error("Invalid --to-datetime '" + s + "': expected YYYY-MM-DDTHH:mm:SS.sss");
  std::string rest = s.substr(static_cast<size_t>(consumed));
  int ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    std::string frac;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) frac += rest[i++];
    if (frac.empty()) throw usage_error("Invalid --to-datetime '" + s + "'");
    frac = (frac + "000").substr(0, 3);
    ms = std::stoi(frac);
    rest = rest.substr(i);
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  int64_t secs;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    secs = static_cast<int64_t>(std::mktime(&tm));
  } else {
    int64_t offset = 0;
    if (rest == "Z") {
      offset = 0;
    } else {
      int oh = 0, om = 0;
      char sign = rest[0];
      std::string digits;
      for (char ch : rest.substr(1))
        if (ch != ':') digits += ch;
      if ((sign != '+' && sign != '-') || (digits.size() != 2 && digits.size() != 4) ||
          !std::all_of(digits.begin(), digits.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
        throw usage_error("Invalid time zone in --to-datetime '" + s + "'");
      oh = std::stoi(digits.substr(0, 2));
      if (digits.size() == 4) om = std::stoi(digits.substr(2));
      offset = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    }
    secs = static_cast<int64_t>(timegm(&tm)) - offset;
  }
  return secs * 1000 + ms;
}

// Milliseconds of an ISO-8601 duration "PnDTnHnMnS" (what --by-duration takes).
int64_t parse_duration(const std::string& s) {
  std::string t = s;
  bool negative = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    negative = t[0] == '-';
    t = t.substr(1);
  }
  if (t.size() < 2 || (t[0] != 'P' && t[0] != 'p')) throw usage_error("Invalid --by-duration '" + s + "': expected PnDTnHnMnS");
  double total = 0;
  bool in_time = false, any = false;
  std::string num;
  for (size_t i = 1; i < t.size(); ++i) {
    char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(t[i])));
    if (ch == 'T') {
      if (in_time || !num.empty()) throw usage_error("Invalid --by-duration '" + s + "'");
      in_time = true;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') {
      num += ch;
      continue;
    }
    if (num.empty()) throw usage_error("Invalid --by-duration '" + s + "'");
    double v = std::stod(num);
    num.clear();
    if (ch == 'D' && !in_time) total += v * 86400;
    else if (ch == 'H' && in_time) total += v * 3600;
    else if (ch == 'M' && in_time) total += v * 60;
    else if (ch == 'S' && in_time) total += v;
    else throw usage_error("Invalid --by-duration '" + s + "'");
    any = true;
  }
  if (!num.empty() || !any) throw usage_error("Invalid --by-duration '" + s + "': expected PnDTnHnMnS");
  return static_cast<int64_t>(std::llround(total * 1000)) * (negative ? -1 : 1);
}

std::vector<tp> partitions_to_reset(client& c, const cg_options& o, const std::map<tp, int64_t>& committed,
                                    const std::map<std::string, int>& counts) {
  std::set<tp> out;
  if (o.all_topics) {
    for (const auto& [p, off] : committed) out.insert(p);
    return {out.begin(), out.end()};
  }
  std::vector<std::string> unknown;
  for (const auto& arg : o.topics) {
    auto colon = arg.find(':');
    std::string topic = colon == std::string::npos ? arg : arg.substr(0, colon);
    auto it = counts.find(topic);
    if (colon == std::string::npos) {
      if (it == counts.end()) throw runtime_failure("Topic '" + topic + "' does not exist");
      for (int p = 0; p < it->second; ++p) out.insert({topic, p});
      continue;
    }
    for (const auto& ps : split(arg.substr(colon + 1), ',')) {
      auto v = parse_int(ps);
      if (!v || *v < 0 || *v > INT32_MAX)
        throw usage_error("Invalid partition '" + ps + "' specified in topic arg '" + arg + "'");
      tp p{topic, static_cast<int32_t>(*v)};
      if (it == counts.end() || p.second >= it->second) unknown.push_back(tp_name(p));
      out.insert(p);
    }
  }
  (void)c;
  if (!unknown.empty()) {
    std::string s;
    for (const auto& u : unknown) s += (s.empty() ? "" : ",") + u;
    throw runtime_failure("The partitions \"" + s + "\" do not exist");
  }
  return {out.begin(), out.end()};
}

std::map<tp, int64_t> prepare_offsets(client& c, const cg_options& o, const std::vector<tp>& parts,
                                      const std::map<tp, int64_t>& committed) {
  std::map<tp, watermarks> wm;
  auto marks = [&](const tp& p) -> watermarks {
    auto it = wm.find(p);
    if (it != wm.end()) return it->second;
    auto w = query_watermarks(c.rk(), p.first, p.second, o.timeout_ms);
    if (!w) throw runtime_failure("Error getting the offsets of topic partition: " + tp_name(p));
    wm[p] = *w;
    return *w;
  };
  auto clamp = [&](const tp& p, int64_t off) {
    auto w = marks(p);
    if (off > w.high) {
      print_warning("New offset (" + std::to_string(off) + ") is higher than latest offset for topic partition " +
                    tp_name(p) + ". Value will be set to " + std::to_string(w.high));
      return w.high;
    }
    if (off < w.low) {
      print_warning("New offset (" + std::to_string(off) + ") is lower than earliest offset for topic partition " +
                    tp_name(p) + ". Value will be set to " + std::to_string(w.low));
      return w.low;
    }
    return off;
  };
  std::map<tp, int64_t> out;
  if (o.has_datetime || o.has_duration) {
    int64_t ts = o.has_datetime ? parse_datetime(o.to_datetime)
                                : std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                          .count() -
                                      parse_duration(o.by_duration);
    partition_list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
    for (const auto& p : parts) rd_kafka_topic_partition_list_add(l.get(), p.first.c_str(), p.second)->offset = ts;
    if (auto err = rd_kafka_offsets_for_times(c.rk(), l.get(), o.timeout_ms))
      throw runtime_failure(c.explain(err, std::string("Looking up offsets by time failed: ") + rd_kafka_err2str(err)));
    for (int i = 0; i < l->cnt; ++i) {
      const auto& e = l->elems[i];
      tp p{e.topic, e.partition};
      if (e.err) throw runtime_failure("Looking up the offset of " + tp_name(p) + " failed: " + rd_kafka_err2str(e.err));
      if (e.offset < 0) {
        std::cerr << "\nWarn: Partition " << p.second << " from topic " << p.first
                  << " is empty. Falling back to latest known offset." << std::endl;
        out[p] = marks(p).high;
      } else {
        out[p] = e.offset;
      }
    }
    return out;
  }
  for (const auto& p : parts) {
    auto cit = committed.find(p);
    if (o.to_earliest) out[p] = marks(p).low;
    else if (o.to_latest) out[p] = marks(p).high;
    else if (o.has_to_offset) out[p] = clamp(p, o.to_offset);
    else if (o.to_current) out[p] = cit != committed.end() ? cit->second : marks(p).high;
    else if (o.has_shift_by) {
      if (cit == committed.end())
        throw runtime_failure("Cannot shift offset for partition " + tp_name(p) + " since there is no current committed offset");
      out[p] = clamp(p, cit->second + o.shift_by);
    }
  }
  return out;
}

void alter_offsets(client& c, const std::string& group, const std::map<tp, int64_t>& offsets, int timeout_ms) {
  if (offsets.empty()) return;
  partition_list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [p, off] : offsets) rd_kafka_topic_partition_list_add(l.get(), p.first.c_str(), p.second)->offset = off;
  rd_kafka_AlterConsumerGroupOffsets_t* req = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), l.get());
  event_ptr ev;
  try {
    ev = c.admin(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, timeout_ms,
                 [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                   rd_kafka_AlterConsumerGroupOffsets(c.rk(), &req, 1, opts, q);
                 });
  } catch (...) {
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    throw;
  }
  rd_kafka_AlterConsumerGroupOffsets_destroy(req);
  size_t n = 0;
  const rd_kafka_group_result_t** gr =
      rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
  std::string failures;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(gr[i])) failures = rd_kafka_error_string(err);
    const rd_kafka_topic_partition_list_t* pl = rd_kafka_group_result_partitions(gr[i]);
    for (int j = 0; pl && j < pl->cnt; ++j)
      if (pl->elems[j].err)
        failures += std::string(failures.empty() ? "" : "; ") + tp_name({pl->elems[j].topic, pl->elems[j].partition}) +
                    ": " + rd_kafka_err2str(pl->elems[j].err);
  }
  if (!failures.empty()) throw runtime_failure("Resetting the offsets of group '" + group + "' failed: " + failures);
}

int do_reset(client& c, const cg_options& o) {
  if (!o.dry_run && !o.execute)
    print_warning("No action will be performed as the --execute option is missing. Add --dry-run to keep this "
                  "behaviour explicitly, or --execute to reset the offsets.");
  auto ids = target_groups(c, o);
  auto groups = describe_groups(c, ids, o.timeout_ms);
  auto counts = partition_counts(c, o.timeout_ms);
  bool failed = false;
  std::map<std::string, std::map<tp, int64_t>> plans;
  for (const auto& [id, g] : groups) {
    if (g.exists && g.state != "Empty") {
      print_error("Assignments can only be reset if the group '" + id + "' is inactive, but the current state is " +
                  g.state + ".");
      failed = true;
      continue;
    }
    try {
      auto committed = committed_offsets(c, id, o.timeout_ms);
      auto parts = partitions_to_reset(c, o, committed, counts);
      auto offsets = prepare_offsets(c, o, parts, committed);
      if (o.execute) alter_offsets(c, id, offsets, o.timeout_ms);
      plans[id] = std::move(offsets);
    } catch (const runtime_failure& e) {
      print_error(std::string("Executing consumer group command failed due to ") + e.what());
      failed = true;
    }
  }
  if (o.export_csv) {
    for (const auto& [g, offs] : plans)
      for (const auto& [p, off] : offs)
        std::cout << (ids.size() == 1 && !o.all_groups ? "" : g + ",") << p.first << "," << p.second << "," << off << "\n";
    std::cout.flush();
    return failed ? exit_failure : exit_ok;
  }
  size_t gw = 15, tw = 15;
  bool any = false;
  for (const auto& [g, offs] : plans) {
    gw = std::max(gw, g.size());
    for (const auto& [p, off] : offs) {
      tw = std::max(tw, p.first.size());
      any = true;
    }
  }
  if (any) {
    auto line = [&](const std::string& g, const std::string& t, const std::string& p, const std::string& off) {
      std::cout << "\n" << pad(g, gw) << " " << pad(t, tw) << " " << pad(p, 10) << " " << off;
    };
    line("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
    for (const auto& [g, offs] : plans)
      for (const auto& [p, off] : offs) line(g, p.first, std::to_string(p.second), std::to_string(off));
    std::cout << std::endl;
  }
  return failed ? exit_failure : exit_ok;
}

// ---------------------------------------------------------------------------------------------
// --delete-offsets

int do_delete_offsets(client& c, const cg_options& o) {
  const std::string& group = o.groups.front();
  auto counts = partition_counts(c, o.timeout_ms);
  std::map<tp, std::string> results;  // "" = success
  std::set<tp> parts;
  for (const auto& arg : o.topics) {
    auto colon = arg.find(':');
    std::string topic = colon == std::string::npos ? arg : arg.substr(0, colon);
    if (colon == std::string::npos) {
      auto it = counts.find(topic);
      if (it == counts.end()) {
        results[{topic, -1}] = "Error: " + std::string(rd_kafka_err2str(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
        continue;
      }
      for (int p = 0; p < it->second; ++p) parts.insert({topic, p});
      continue;
    }
    for (const auto& ps : split(arg.substr(colon + 1), ',')) {
      auto v = parse_int(ps);
      if (!v || *v < 0 || *v > INT32_MAX)
        throw usage_error("Invalid partition '" + ps + "' specified in topic arg '" + arg + "'");
      parts.insert({topic, static_cast<int32_t>(*v)});
    }
  }
  std::string top_error;
  if (!parts.empty()) {
    partition_list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
    for (const auto& p : parts) rd_kafka_topic_partition_list_add(l.get(), p.first.c_str(), p.second);
    rd_kafka_DeleteConsumerGroupOffsets_t* req = rd_kafka_DeleteConsumerGroupOffsets_new(group.c_str(), l.get());
    event_ptr ev;
    try {
      ev = c.admin(RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT,
                   o.timeout_ms, [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                     rd_kafka_DeleteConsumerGroupOffsets(c.rk(), &req, 1, opts, q);
                   });
    } catch (...) {
      rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
      throw;
    }
    rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
    size_t n = 0;
    const rd_kafka_group_result_t** gr =
        rd_kafka_DeleteConsumerGroupOffsets_result_groups(rd_kafka_event_DeleteConsumerGroupOffsets_result(ev.get()), &n);
    for (const auto& p : parts) results[p] = "";
    for (size_t i = 0; i < n; ++i) {
      if (const rd_kafka_error_t* err = rd_kafka_group_result_error(gr[i])) top_error = rd_kafka_error_string(err);
      const rd_kafka_topic_partition_list_t* pl = rd_kafka_group_result_partitions(gr[i]);
      for (int j = 0; pl && j < pl->cnt; ++j)
        if (pl->elems[j].err)
          results[{pl->elems[j].topic, pl->elems[j].partition}] = std::string("Error: ") + rd_kafka_err2str(pl->elems[j].err);
    }
  }
  bool partition_errors = false;
  for (const auto& [p, r] : results) partition_errors = partition_errors || !r.empty();
  if (!top_error.empty()) print_error(top_error);
  else if (partition_errors) print_error("Encountered some partition-level error, see the follow-up details.");
  else std::cout << "Request succeeded for deleting offsets from group " << group << "." << std::endl;
  size_t tw = 15;
  for (const auto& [p, r] : results) tw = std::max(tw, p.first.size());
  auto line = [&](const std::string& t, const std::string& part, const std::string& status) {
    std::cout << "\n" << pad(t, tw) << " " << pad(part, 10) << " " << status;
  };
  line("TOPIC", "PARTITION", "STATUS");
  for (const auto& [p, r] : results)
    line(p.first, p.second >= 0 ? std::to_string(p.second) : missing, r.empty() ? "Successful" : r);
  std::cout << std::endl;
  return top_error.empty() && !partition_errors ? exit_ok : exit_failure;
}

void validate(const cg_options& o, bool has_group) {
  int actions = o.list + o.describe + o.del + o.reset + o.delete_offsets;
  if (actions != 1)
    throw usage_error("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, "
                      "--delete-offsets");
  if (o.timeout_ms <= 0) throw usage_error("--timeout must be positive");
  for (const auto& g : o.groups)
    if (trim(g).empty()) throw usage_error("--group must not be empty");
  if (o.all_groups && has_group) throw usage_error("Option [all-groups] can't be used with option [group]");
  if ((o.describe || o.del || o.reset) && !has_group && !o.all_groups)
    throw usage_error("Option [" + std::string(o.describe ? "describe" : o.del ? "delete" : "reset-offsets") +
                      "] takes one of these options: [all-groups], [group]");
  if (o.list && (has_group || o.all_groups)) throw usage_error("Option [list] does not take [group] or [all-groups]");
  if (o.delete_offsets) {
    if (o.groups.size() != 1 || o.all_groups) throw usage_error("Option [delete-offsets] takes exactly one [group]");
    if (o.topics.empty()) throw usage_error("Option [delete-offsets] takes at least one [topic]");
  }
  if ((o.members || o.offsets) && !o.describe)
    throw usage_error("Options [members] and [offsets] can only be used with [describe]");
  if (o.state && !(o.describe || o.list)) throw usage_error("Option [state] can only be used with [describe] or [list]");
  if (o.describe && o.members + o.offsets + o.state > 1)
    throw usage_error("Option [describe] takes at most one of these options: [members], [offsets], [state]");
  if (o.verbose && !o.describe) throw usage_error("Option [verbose] can only be used with [describe]");
  int scenarios = o.to_earliest + o.to_latest + o.to_current + o.has_to_offset + o.has_shift_by + o.has_datetime +
                  o.has_duration;
  if (!o.reset && scenarios)
    throw usage_error("The --to-* / --shift-by / --by-duration options can only be used with [reset-offsets]");
  if (!o.reset && (o.dry_run || o.execute || o.export_csv || o.all_topics))
    throw usage_error("Options [dry-run], [execute], [export] and [all-topics] can only be used with [reset-offsets]");
  if (!o.topics.empty() && !(o.reset || o.delete_offsets))
    throw usage_error("Option [topic] can only be used with [reset-offsets] or [delete-offsets]");
  if (o.reset) {
    if (scenarios != 1)
      throw usage_error("Option [reset-offsets] takes exactly one of these options: [to-datetime], [by-duration], "
                        "[to-earliest], [to-latest], [shift-by], [to-current], [to-offset]");
    if (o.all_topics == !o.topics.empty())
      throw usage_error("One of the reset scopes should be defined: --all-topics, --topic.");
    if (o.dry_run && o.execute) throw usage_error("Option [dry-run] can't be used with option [execute]");
    if (o.has_datetime) (void)parse_datetime(o.to_datetime);
    if (o.has_duration) (void)parse_duration(o.by_duration);
  }
}

}  // namespace

int consumer_groups_main(int argc, char** argv) {
  cg_options o;
  CLI::App app{"List all consumer groups, describe a consumer group, delete consumer group info, or reset consumer "
               "group offsets (like kafka-consumer-groups.sh).",
               "minikafka consumer-groups"};
  app.add_option("--bootstrap-server", o.bootstrap, "The server(s) to connect to")->capture_default_str();
  app.add_option("--command-config", o.command_config, "Properties file with client configs (librdkafka names)");
  app.add_option("--command-property", o.command_properties, "A client config override, key=value (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--timeout,--timeout-ms", o.timeout_ms,
                 "Give up when the broker does not answer a request (or cannot be reached) within this time (ms)")
      ->capture_default_str();
  app.add_flag("--list", o.list, "List all consumer groups");
  app.add_flag("--describe", o.describe, "Describe consumer groups and list the offset lag of their partitions");
  app.add_flag("--delete", o.del, "Delete consumer groups (they must have no active members)");
  app.add_flag("--reset-offsets", o.reset, "Reset the offsets of consumer groups (they must be inactive)");
  auto* group_opt = app.add_option("--group", o.groups, "The consumer group (repeatable)")->allow_extra_args(false);
  app.add_flag("--all-groups", o.all_groups, "Apply to all consumer groups");
  app.add_flag("--delete-offsets", o.delete_offsets, "Delete the committed offsets of a group for topics/partitions");
  app.add_flag("--members", o.members, "With --describe: describe the members of the group");
  app.add_flag("--offsets", o.offsets, "With --describe: describe the group's partitions and lag (the default)");
  auto* state_opt = app.add_option("--state", o.state_filter,
                                   "With --describe: the group's state. With --list: show (and optionally filter by, "
                                   "comma-separated) the groups' states")
                        ->expected(0, 1);
  app.add_flag("--verbose", o.verbose, "With --describe: more details");
  app.add_option("--topic", o.topics, "The topic, or topic:partition,partition, to reset or delete offsets of")
      ->allow_extra_args(false);
  app.add_flag("--all-topics", o.all_topics, "Reset the offsets of all topics the group has committed offsets for");
  app.add_flag("--to-earliest", o.to_earliest, "Reset offsets to the earliest offset");
  app.add_flag("--to-latest", o.to_latest, "Reset offsets to the latest offset");
  app.add_flag("--to-current", o.to_current, "Reset offsets to the current committed offset");
  auto* to_offset = app.add_option("--to-offset", o.to_offset, "Reset offsets to this offset");
  auto* shift = app.add_option("--shift-by", o.shift_by, "Shift the current offsets by N (may be negative)");
  auto* datetime = app.add_option("--to-datetime", o.to_datetime, "Reset offsets to the offset at this time: "
                                                                  "'YYYY-MM-DDTHH:mm:SS.sss'");
  auto* duration = app.add_option("--by-duration", o.by_duration, "Reset offsets to those of this long ago: 'PnDTnHnMnS'");
  app.add_flag("--dry-run", o.dry_run, "Only show the new offsets (the default)");
  app.add_flag("--execute", o.execute, "Reset the offsets");
  app.add_flag("--export", o.export_csv, "With --reset-offsets: print the plan as CSV (topic,partition,offset)");
  if (argc <= 1) {
    std::cerr << "Error: List all consumer groups, describe a consumer group, delete consumer group info, or reset "
                 "consumer group offsets: an action is required.\n"
              << app.help();
    return exit_usage;
  }
  if (auto code = parse_args(app, argc, argv)) return *code;
  o.state = state_opt->count() > 0;
  o.has_to_offset = to_offset->count() > 0;
  o.has_shift_by = shift->count() > 0;
  o.has_datetime = datetime->count() > 0;
  o.has_duration = duration->count() > 0;

  return run_guarded("consumer-groups", [&]() -> int {
    validate(o, group_opt->count() > 0);
    auto props = base_properties(o.bootstrap, "minikafka-consumer-groups", o.command_config, o.command_properties,
                                 "--command-property");
    client c(RD_KAFKA_PRODUCER, props);
    c.ensure_connected(o.timeout_ms);
    if (o.list) return do_list(c, o);
    if (o.describe) return do_describe(c, o);
    if (o.del) return do_delete(c, o);
    if (o.reset) return do_reset(c, o);
    return do_delete_offsets(c, o);
  });
}

}  // namespace mk::cli
