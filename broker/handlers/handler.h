// Glue between the connection and the typed handlers: decode the request struct at the
// header's version, call the handler, encode its response at the same version.
//
// A handler turns (context, request) into a response and never touches a socket.
#pragma once


#include "broker/api_table.h"
#include "broker/server.h"
#include "protocol/error_code.h"
#include "protocol/generated/all_messages.h"

namespace mk::handlers {

namespace asio = boost::asio;
using proto::error_code;
using proto::code;

template <typename Req, typename Resp, Resp (*Fn)(request_context&, Req&)>
asio::awaitable<reply> sync(request_context& ctx, proto::reader& r) {
  reply out;
  Req req;
  req.decode(r, ctx.version());
  if (!r.ok()) {
    out.ok = false;
    out.error = std::string("malformed ") + Req::name + " v" + std::to_string(ctx.version());
    co_return out;
  }
  Resp resp = Fn(ctx, req);
  resp.encode(out.body, ctx.version());
  co_return out;
}

template <typename Req, typename Resp, asio::awaitable<Resp> (*Fn)(request_context&, Req&)>
asio::awaitable<reply> async(request_context& ctx, proto::reader& r) {
  reply out;
  Req req;
  req.decode(r, ctx.version());
  if (!r.ok()) {
    out.ok = false;
    out.error = std::string("malformed ") + Req::name + " v" + std::to_string(ctx.version());
    co_return out;
  }
  Resp resp = co_await Fn(ctx, req);
  resp.encode(out.body, ctx.version());
  co_return out;
}

template <typename Req, typename Resp, auto Fn>
constexpr api_entry entry(int16_t min_version = Req::min_version, int16_t max_version = Req::max_version) {
  return api_entry{Req::api_key, Req::name, min_version, max_version, Fn};
}

// Handlers with special needs take the raw reader.
asio::awaitable<reply> api_versions(request_context& ctx, proto::reader& r);
asio::awaitable<reply> produce(request_context& ctx, proto::reader& r);

proto::metadata_response metadata(request_context& ctx, proto::metadata_request& req);
asio::awaitable<proto::fetch_response> fetch(request_context& ctx, proto::fetch_request& req);
proto::list_offsets_response list_offsets(request_context& ctx, proto::list_offsets_request& req);
proto::create_topics_response create_topics(request_context& ctx, proto::create_topics_request& req);
proto::delete_topics_response delete_topics(request_context& ctx, proto::delete_topics_request& req);
proto::create_partitions_response create_partitions(request_context& ctx, proto::create_partitions_request& req);
proto::describe_configs_response describe_configs(request_context& ctx, proto::describe_configs_request& req);
proto::find_coordinator_response find_coordinator(request_context& ctx, proto::find_coordinator_request& req);

}  // namespace mk::handlers
