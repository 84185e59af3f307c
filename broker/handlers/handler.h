// Glue between the connection and the typed handlers: decode the request struct at the
// header's version, call the handler, encode its response at the same version.
//
// A handler turns (context, request) into a response and never touches a socket. It reaches the
// broker only through the context: services, clock, config (broker/api_table.h).
#pragma once


#include "broker/api_table.h"
#include "broker/clock.h"
#include "broker/config.h"
#include "broker/handlers/error_codes.h"
#include "broker/services/services.h"
#include "protocol/error_code.h"
#include "protocol/generated/all_messages.h"

namespace mk::handlers {

namespace asio = boost::asio;
using proto::error_code;
using proto::code;

// Counts a response's top-level error code for the per-API error metric.
// With ctx.collect_error_codes, also lists every error code of the response (error_codes.h).
template <typename Resp>
void count_errors(const request_context& ctx, const Resp& resp, reply& out) {
  if constexpr (requires { resp.error_code; }) out.errors += resp.error_code != 0;
  if (ctx.collect_error_codes) collect_error_codes(resp, out.error_codes);
}

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
  count_errors(ctx, resp, out);
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
  count_errors(ctx, resp, out);
  resp.encode(out.body, ctx.version());
  co_return out;
}

// Table entries serving every version of Req (Kafka 3.9's validVersions).
template <typename Req, typename Resp, Resp (*Fn)(request_context&, Req&)>
constexpr api_entry sync_entry() {
  return api_entry{Req::api_key, Req::name, Req::min_version, Req::max_version, &sync<Req, Resp, Fn>};
}
template <typename Req, typename Resp, asio::awaitable<Resp> (*Fn)(request_context&, Req&)>
constexpr api_entry async_entry() {
  return api_entry{Req::api_key, Req::name, Req::min_version, Req::max_version, &async<Req, Resp, Fn>};
}

// Handlers with special needs take the raw reader.
asio::awaitable<reply> api_versions(request_context& ctx, proto::reader& r);
// KIP-511: the body of an ApiVersions v0 response with UNSUPPORTED_VERSION and our ApiVersions
// range only, for a request at a version we do not know (always answered with header v0).
void api_versions_unsupported(const api_entry& api_versions, proto::writer& body);
asio::awaitable<reply> produce(request_context& ctx, proto::reader& r);

proto::metadata_response metadata(request_context& ctx, proto::metadata_request& req);
asio::awaitable<proto::fetch_response> fetch(request_context& ctx, proto::fetch_request& req);
proto::list_offsets_response list_offsets(request_context& ctx, proto::list_offsets_request& req);
proto::create_topics_response create_topics(request_context& ctx, proto::create_topics_request& req);
proto::delete_topics_response delete_topics(request_context& ctx, proto::delete_topics_request& req);
proto::create_partitions_response create_partitions(request_context& ctx, proto::create_partitions_request& req);
proto::init_producer_id_response init_producer_id(request_context& ctx, proto::init_producer_id_request& req);
proto::delete_records_response delete_records(request_context& ctx, proto::delete_records_request& req);
proto::describe_configs_response describe_configs(request_context& ctx, proto::describe_configs_request& req);
proto::find_coordinator_response find_coordinator(request_context& ctx, proto::find_coordinator_request& req);
proto::offset_for_leader_epoch_response offset_for_leader_epoch(request_context& ctx,
                                                                proto::offset_for_leader_epoch_request& req);

// The cluster as admin clients see it (handlers/cluster_admin.cc).
proto::elect_leaders_response elect_leaders(request_context& ctx, proto::elect_leaders_request& req);
proto::describe_cluster_response describe_cluster(request_context& ctx, proto::describe_cluster_request& req);
proto::describe_topic_partitions_response describe_topic_partitions(request_context& ctx,
                                                                    proto::describe_topic_partitions_request& req);

// Transactions (handlers/transactions.cc).
proto::add_partitions_to_txn_response add_partitions_to_txn(request_context& ctx, proto::add_partitions_to_txn_request& req);
proto::add_offsets_to_txn_response add_offsets_to_txn(request_context& ctx, proto::add_offsets_to_txn_request& req);
proto::txn_offset_commit_response txn_offset_commit(request_context& ctx, proto::txn_offset_commit_request& req);
proto::end_txn_response end_txn(request_context& ctx, proto::end_txn_request& req);
proto::describe_producers_response describe_producers(request_context& ctx, proto::describe_producers_request& req);
proto::describe_transactions_response describe_transactions(request_context& ctx, proto::describe_transactions_request& req);
proto::list_transactions_response list_transactions(request_context& ctx, proto::list_transactions_request& req);

// Consumer groups (handlers/groups.cc).
asio::awaitable<proto::join_group_response> join_group(request_context& ctx, proto::join_group_request& req);
asio::awaitable<proto::sync_group_response> sync_group(request_context& ctx, proto::sync_group_request& req);
proto::heartbeat_response heartbeat(request_context& ctx, proto::heartbeat_request& req);
proto::leave_group_response leave_group(request_context& ctx, proto::leave_group_request& req);
proto::offset_commit_response offset_commit(request_context& ctx, proto::offset_commit_request& req);
proto::offset_fetch_response offset_fetch(request_context& ctx, proto::offset_fetch_request& req);
proto::list_groups_response list_groups(request_context& ctx, proto::list_groups_request& req);
proto::describe_groups_response describe_groups(request_context& ctx, proto::describe_groups_request& req);
proto::delete_groups_response delete_groups(request_context& ctx, proto::delete_groups_request& req);
proto::offset_delete_response offset_delete(request_context& ctx, proto::offset_delete_request& req);

}  // namespace mk::handlers
