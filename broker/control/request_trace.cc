#include "broker/control/request_trace.h"

#include <algorithm>
#include <chrono>

#include "broker/control/change_feed.h"
#include "broker/control/fault_injector.h"
#include "broker/services/topics.h"
#include "protocol/generated/api_versions_request.h"
#include "protocol/generated/request_summary.h"

namespace mk::control {

namespace {

constexpr size_t max_connections_remembered = 4096;
// Bodies up to this size are kept (sharing the request frame) and summarized when read; larger
// ones are summarized at once, so the ring never pins more than capacity x this many bytes of
// frames that storage would otherwise have freed.
constexpr size_t max_lazy_body = 16 * 1024;

int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* to_string(trace_entry::outcome o) {
  switch (o) {
    case trace_entry::outcome::answered:
      return "answered";
    case trace_entry::outcome::fault_error:
      return "fault_error";
    case trace_entry::outcome::dropped:
      return "dropped";
    case trace_entry::outcome::closed:
      return "closed";
    case trace_entry::outcome::not_answered:
      return "not_answered";
    case trace_entry::outcome::refused:
      return "refused";
  }
  return "answered";
}

bool trace_filter::matches(const trace_entry& e) const {
  if (api && e.api_key != *api) return false;
  if (client_id && e.client_id != *client_id) return false;
  if (since_ms && e.time_ms < *since_ms) return false;
  if (after_seq && e.seq <= *after_seq) return false;
  if (topic) {
    bool hit = false;
    for (const auto& t : e.named().topics) hit = hit || t.name == *topic;
    if (!hit) return false;
  }
  return true;
}

void request_trace::set_capacity(size_t n) {
  // Keep the newest min(size, n) entries, oldest first.
  std::vector<trace_entry> kept;
  const size_t keep = std::min(size_, n);
  kept.reserve(keep);
  for (size_t i = size_ - keep; i < size_; ++i) kept.push_back(std::move(slot(i)));
  ring_ = std::move(kept);
  first_ = 0;
  size_ = ring_.size();
  capacity_ = n;
}

void request_trace::summarize(const trace_entry& e) const {
  if (e.summarized_) return;
  e.summarized_ = true;
  auto s = proto::summarize_request(e.api_key, e.api_version, e.body_);
  e.body_ = proto::reader();  // releases the frame
  for (auto& t : s.topics) {
    trace_entry::topic out{std::move(t.name), t.id, std::move(t.partitions)};
    if (out.name.empty() && !(out.id == proto::uuid{}))
      if (const topic_state* named = topics_.find(out.id)) out.name = named->name;
    e.named_.topics.push_back(std::move(out));
  }
  e.named_.group_ids = std::move(s.group_ids);
  e.named_.transactional_ids = std::move(s.transactional_ids);
}

std::vector<const trace_entry*> request_trace::entries(const trace_filter& f, size_t limit) const {
  std::vector<const trace_entry*> out;
  for (size_t i = size_; i-- > 0 && out.size() < limit;) {
    const trace_entry& e = slot(i);
    if (f.topic) summarize(e);
    if (f.matches(e)) out.push_back(&e);
  }
  std::reverse(out.begin(), out.end());
  for (const auto* e : out) summarize(*e);
  return out;
}

uint64_t request_trace::count(std::optional<int16_t> api, const std::optional<std::string>& client_id) const {
  uint64_t n = 0;
  for (const auto& [client, per_api] : counts_) {
    if (client_id && client != *client_id) continue;
    for (const auto& [key, c] : per_api)
      if (!api || key == *api) n += c;
  }
  return n;
}

size_t request_trace::clear() {
  const size_t n = size_;
  ring_.clear();
  first_ = size_ = 0;
  counts_.clear();
  return n;
}

intercept_action request_trace::on_request(const request_info& req) {
  const auto& h = req.header;
  auto c = counts_.find(std::string_view(h.client_id));
  if (c == counts_.end()) c = counts_.emplace(h.client_id, std::map<int16_t, uint64_t>{}).first;
  c->second[h.api_key]++;
  if (h.api_key == proto::api_versions_request::api_key && h.api_version >= 3) {
    proto::api_versions_request av;
    proto::reader body = req.body;
    av.decode(body, h.api_version);
    if (body.ok()) {
      software_[req.connection_id] = software{av.client_software_name, av.client_software_version};
      if (software_.size() > max_connections_remembered) software_.erase(software_.begin());
    }
  }
  feed_.notify();  // GET /v1/await/requests
  return intercept_action::pass();
}

trace_entry& request_trace::next_slot() {
  // A new slot while the ring grows, else the oldest, reused in place (its strings and vectors
  // keep their capacity).
  if (ring_.size() < capacity_ && size_ == ring_.size()) {
    ring_.emplace_back();
    ++size_;
  } else if (size_ < ring_.size()) {
    ++size_;
  } else {
    first_ = (first_ + 1) % ring_.size();
  }
  return slot(size_ - 1);
}

void request_trace::fill(trace_entry& e, const request_info& req, double latency_ms) {
  const auto& h = req.header;
  e.seq = next_seq_++;
  e.latency_ms = latency_ms;
  e.time_ms = real_now_ms() - static_cast<int64_t>(e.latency_ms);
  e.broker = req.node_id;
  e.connection = req.connection_id;
  e.peer = req.peer;
  e.client_id = h.client_id;
  if (auto it = software_.find(req.connection_id); it != software_.end()) {
    e.software_name = it->second.name;
    e.software_version = it->second.version;
  } else {
    e.software_name.clear();
    e.software_version.clear();
  }
  e.api_key = h.api_key;
  e.api_version = h.api_version;
  e.correlation_id = h.correlation_id;
  e.fault_rule.reset();
  e.error_codes.clear();
  e.reason.clear();
  e.named_.topics.clear();
  e.named_.group_ids.clear();
  e.named_.transactional_ids.clear();
  e.summarized_ = false;
  e.body_ = req.body;
  if (req.body.remaining() > max_lazy_body) summarize(e);
}

void request_trace::on_response(const request_info& req, const response_info& resp) {
  if (capacity_ == 0) return;
  trace_entry& e = next_slot();
  fill(e, req, resp.seconds * 1000);
  switch (resp.outcome) {
    case intercept_action::kind::pass:
      e.result = resp.responded ? trace_entry::outcome::answered : trace_entry::outcome::not_answered;
      break;
    case intercept_action::kind::error:
      e.result = resp.responded ? trace_entry::outcome::fault_error : trace_entry::outcome::not_answered;
      break;
    case intercept_action::kind::drop:
      e.result = trace_entry::outcome::dropped;
      break;
    case intercept_action::kind::close:
      e.result = trace_entry::outcome::closed;
      break;
  }
  e.fault_rule = faults_.decided_by(req.connection_id, req.header.correlation_id);
  if (resp.error_codes) e.error_codes.assign(resp.error_codes->begin(), resp.error_codes->end());
  feed_.notify();  // trace followers
}

void request_trace::on_refused(const request_info& req, const std::string& reason) {
  on_request(req);  // it was seen all the same
  if (capacity_ == 0) return;
  trace_entry& e = next_slot();
  fill(e, req, 0);
  e.result = trace_entry::outcome::refused;
  e.reason = reason;
  e.summarized_ = true;  // a version the generated decoders may not know: do not decode it
  e.body_ = proto::reader();
  if (req.header.api_key == 18) e.error_codes = {35};  // UNSUPPORTED_VERSION, the KIP-511 answer
  feed_.notify();
}

}  // namespace mk::control
