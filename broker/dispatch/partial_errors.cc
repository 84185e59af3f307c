#include "broker/dispatch/partial_errors.h"

#include <memory>
#include <vector>

#include "protocol/generated/fetch_request.h"
#include "protocol/generated/fetch_response.h"
#include "protocol/generated/produce_request.h"
#include "protocol/generated/produce_response.h"

namespace mk {

namespace asio = boost::asio;

namespace {

// A reader over a private copy of `w`'s bytes (record chunks included).
proto::reader reader_over(const proto::writer& w) {
  auto buf = std::make_shared<std::vector<uint8_t>>(w.flatten());
  return proto::reader(buf->data(), buf->size(), buf);
}

void add_code(reply& rep, proto::error_code error) {
  const int16_t c = proto::code(error);
  for (int16_t o : rep.error_codes)
    if (o == c) return;
  rep.error_codes.push_back(c);
}

struct failed_partition {
  std::string topic;
  proto::uuid topic_id;
  int32_t partition;
};

asio::awaitable<std::optional<reply>> partial_produce(const api_entry& e, request_context& ctx, proto::reader body,
                                                      proto::error_code error,
                                                      const intercept_action::partition_filter& only) {
  const int16_t v = ctx.version();
  proto::produce_request req;
  req.decode(body, v);
  if (!body.ok()) co_return std::nullopt;
  std::vector<failed_partition> failed;
  size_t kept = 0;
  for (auto& t : req.topic_data) {
    std::erase_if(t.partition_data, [&](const auto& p) {
      if (!only(t.name, proto::uuid{}, p.index)) return false;
      failed.push_back({t.name, {}, p.index});
      return true;
    });
    kept += t.partition_data.size();
  }
  if (failed.empty() || kept == 0) co_return std::nullopt;
  std::erase_if(req.topic_data, [](const auto& t) { return t.partition_data.empty(); });
  proto::writer w;
  req.encode(w, v);
  proto::reader rest = reader_over(w);
  reply rep = co_await e.fn(ctx, rest);
  if (rep.ok) add_code(rep, error);
  if (!rep.ok || !rep.respond) co_return rep;  // acks=0: nobody reads the errors
  proto::produce_response resp;
  proto::reader r = reader_over(rep.body);
  resp.decode(r, v);
  if (!r.ok()) co_return rep;
  for (const auto& f : failed) {
    proto::produce_response::topic_produce_response* tr = nullptr;
    for (auto& t : resp.responses)
      if (t.name == f.topic) tr = &t;
    if (!tr) {
      tr = &resp.responses.emplace_back();
      tr->name = f.topic;
    }
    auto& p = tr->partition_responses.emplace_back();
    p.index = f.partition;
    p.error_code = proto::code(error);
    p.base_offset = -1;
    p.log_append_time_ms = -1;
    p.log_start_offset = -1;
  }
  rep.body = proto::writer();
  resp.encode(rep.body, v);
  rep.errors += static_cast<int>(failed.size());
  co_return rep;
}

asio::awaitable<std::optional<reply>> partial_fetch(const api_entry& e, request_context& ctx, proto::reader body,
                                                    proto::error_code error,
                                                    const intercept_action::partition_filter& only) {
  const int16_t v = ctx.version();
  proto::fetch_request req;
  req.decode(body, v);
  if (!body.ok()) co_return std::nullopt;
  const bool by_id = v >= 13;
  std::vector<failed_partition> failed;
  size_t kept = 0;
  for (auto& t : req.topics) {
    const std::string name = by_id ? std::string() : t.topic;
    std::erase_if(t.partitions, [&](const auto& p) {
      if (!only(name, by_id ? t.topic_id : proto::uuid{}, p.partition)) return false;
      failed.push_back({t.topic, t.topic_id, p.partition});
      return true;
    });
    kept += t.partitions.size();
  }
  if (failed.empty() || kept == 0) co_return std::nullopt;
  std::erase_if(req.topics, [](const auto& t) { return t.partitions.empty(); });
  proto::writer w;
  req.encode(w, v);
  proto::reader rest = reader_over(w);
  reply rep = co_await e.fn(ctx, rest);
  if (!rep.ok || !rep.respond) co_return rep;
  proto::fetch_response resp;
  proto::reader r = reader_over(rep.body);
  resp.decode(r, v);
  if (!r.ok()) co_return rep;
  for (const auto& f : failed) {
    proto::fetch_response::fetchable_topic_response* tr = nullptr;
    for (auto& t : resp.responses)
      if (by_id ? t.topic_id == f.topic_id : t.topic == f.topic) tr = &t;
    if (!tr) {
      tr = &resp.responses.emplace_back();
      tr->topic = f.topic;
      tr->topic_id = f.topic_id;
    }
    auto& p = tr->partitions.emplace_back();
    p.partition_index = f.partition;
    p.error_code = proto::code(error);
    p.high_watermark = -1;
    p.last_stable_offset = -1;
    p.log_start_offset = -1;
    p.records_ = proto::records::empty_set();
  }
  rep.body = proto::writer();
  resp.encode(rep.body, v);
  rep.errors += static_cast<int>(failed.size());
  add_code(rep, error);
  co_return rep;
}

}  // namespace

asio::awaitable<std::optional<reply>> partial_error_reply(const api_entry& e, request_context& ctx, proto::reader body,
                                                          proto::error_code error,
                                                          const intercept_action::partition_filter& only) {
  if (ctx.header.api_key == proto::produce_request::api_key) co_return co_await partial_produce(e, ctx, body, error, only);
  if (ctx.header.api_key == proto::fetch_request::api_key) co_return co_await partial_fetch(e, ctx, body, error, only);
  co_return std::nullopt;
}

}  // namespace mk
