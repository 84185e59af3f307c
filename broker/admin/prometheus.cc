// Prometheus text exposition (version 0.0.4) of the broker's metrics: per-API requests, errors
// and latency histograms, bytes, connections, topics, partitions and their offsets and sizes,
// groups by state and their lag.
#include <fmt/format.h>

#include <map>

#include "broker/admin/admin_api.h"
#include "broker/services/services.h"
#include "protocol/generated/api_keys.h"

namespace mk {

namespace {
// Escapes a Prometheus label value (backslash, quote, newline).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

std::string render_metrics(admin_context& ctx) {
  std::string out;
  auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  const auto& m = ctx.metrics;
  line("# HELP minikafka_requests_total Kafka requests handled, by API.");
  line("# TYPE minikafka_requests_total counter");
  for (size_t k = 0; k < m.apis.size(); ++k)
    if (m.apis[k].requests) {
      const auto* a = proto::find_api_key(static_cast<int16_t>(k));
      line("minikafka_requests_total{api=\"" + std::string(a ? a->name : "unknown") + "\",api_key=\"" + std::to_string(k) +
           "\"} " + std::to_string(m.apis[k].requests));
    }
  line("# HELP minikafka_request_errors_total Kafka requests that returned an error code or closed the connection.");
  line("# TYPE minikafka_request_errors_total counter");
  for (size_t k = 0; k < m.apis.size(); ++k)
    if (m.apis[k].requests) {
      const auto* a = proto::find_api_key(static_cast<int16_t>(k));
      line("minikafka_request_errors_total{api=\"" + std::string(a ? a->name : "unknown") + "\"} " + std::to_string(m.apis[k].errors));
    }
  line("# HELP minikafka_request_duration_seconds Time from a request's arrival to its response.");
  line("# TYPE minikafka_request_duration_seconds histogram");
  for (size_t k = 0; k < m.apis.size(); ++k) {
    const auto& am = m.apis[k];
    if (!am.latency_count) continue;
    const auto* a = proto::find_api_key(static_cast<int16_t>(k));
    std::string api = a ? a->name : "unknown";
    uint64_t cum = 0;
    for (size_t i = 0; i < latency_buckets.size(); ++i) {
      cum += am.buckets[i];
      line("minikafka_request_duration_seconds_bucket{api=\"" + api + "\",le=\"" + fmt::format("{}", latency_buckets[i]) + "\"} " +
           std::to_string(cum));
    }
    line("minikafka_request_duration_seconds_bucket{api=\"" + api + "\",le=\"+Inf\"} " + std::to_string(am.latency_count));
    line("minikafka_request_duration_seconds_sum{api=\"" + api + "\"} " + fmt::format("{}", am.latency_sum));
    line("minikafka_request_duration_seconds_count{api=\"" + api + "\"} " + std::to_string(am.latency_count));
  }
  line("# HELP minikafka_bytes_in_total Request bytes received.");
  line("# TYPE minikafka_bytes_in_total counter");
  line("minikafka_bytes_in_total " + std::to_string(m.bytes_in));
  line("# HELP minikafka_bytes_out_total Response bytes queued for sending.");
  line("# TYPE minikafka_bytes_out_total counter");
  line("minikafka_bytes_out_total " + std::to_string(m.bytes_out));
  line("# HELP minikafka_connections Open Kafka connections.");
  line("# TYPE minikafka_connections gauge");
  line("minikafka_connections " + std::to_string(ctx.connection_count()));
  line("# HELP minikafka_connections_opened_total Kafka connections accepted.");
  line("# TYPE minikafka_connections_opened_total counter");
  line("minikafka_connections_opened_total " + std::to_string(m.connections_opened));
  line("# HELP minikafka_connections_rejected_total Connections closed because of a bad frame or request.");
  line("# TYPE minikafka_connections_rejected_total counter");
  line("minikafka_connections_rejected_total " + std::to_string(m.connections_rejected_requests));
  size_t partitions = 0;
  for (const auto& [name, t] : ctx.svc.topics.all()) partitions += t->partitions.size();
  line("# HELP minikafka_topics Topics.");
  line("# TYPE minikafka_topics gauge");
  line("minikafka_topics " + std::to_string(ctx.svc.topics.all().size()));
  line("# HELP minikafka_partitions Partitions.");
  line("# TYPE minikafka_partitions gauge");
  line("minikafka_partitions " + std::to_string(partitions));
  struct partition_gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const partition_state&);
  };
  const partition_gauge gauges[] = {
      {"minikafka_partition_messages", "Records retained in a partition (end offset - start offset).",
       [](const partition_state& p) { return p.log->end_offset() - p.log->start_offset(); }},
      {"minikafka_partition_end_offset", "High watermark of a partition.",
       [](const partition_state& p) { return p.log->end_offset(); }},
      {"minikafka_partition_size_bytes", "Stored bytes of a partition.",
       [](const partition_state& p) { return static_cast<int64_t>(p.log->size_bytes()); }},
  };
  for (const auto& g : gauges) {
    line(std::string("# HELP ") + g.name + " " + g.help);
    line(std::string("# TYPE ") + g.name + " gauge");
    for (const auto& [name, t] : ctx.svc.topics.all())
      for (const auto& p : t->partitions)
        line(std::string(g.name) + "{topic=\"" + name + "\",partition=\"" + std::to_string(p->index) + "\"} " +
             std::to_string(g.value(*p)));
  }
  auto groups = ctx.svc.groups.list();
  line("# HELP minikafka_groups Consumer groups, by state.");
  line("# TYPE minikafka_groups gauge");
  std::map<std::string, int> by_state;
  for (const auto& g : groups) by_state[groups::to_string(g.state)]++;
  for (const auto& [st, n] : by_state) line("minikafka_groups{state=\"" + st + "\"} " + std::to_string(n));
  line("# HELP minikafka_group_lag Records not yet consumed by a group (sum over its committed partitions).");
  line("# TYPE minikafka_group_lag gauge");
  for (const auto& g : groups) {
    int64_t total = 0;
    for (const auto& l : ctx.svc.groups.lag(g.group_id)) total += l.lag;
    line("minikafka_group_lag{group=\"" + label(g.group_id) + "\"} " + std::to_string(total));
  }
  return out;
}

}  // namespace mk
