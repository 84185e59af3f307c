#include "broker/dispatch/dispatcher.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/dispatch/partial_errors.h"
#include "broker/handlers/handler.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/produce_request.h"
#include "protocol/generated/error_responses.h"

namespace mk {

namespace {

// The Acks field of a Produce request (-2 when it does not decode).
int16_t produce_acks(int16_t version, proto::reader body) {
  proto::produce_request req;
  req.decode(body, version);
  return body.ok() ? req.acks : int16_t{-2};
}

std::string api_name(int16_t key) {
  const auto* a = proto::find_api_key(key);
  return a ? a->name : "unknown";
}

}  // namespace

dispatcher::dispatcher(const handler_env& env, broker_metrics& metrics, const std::string& record_requests_dir)
    : env_(env), metrics_(metrics), apis_(api_table::defaults()) {
  if (!record_requests_dir.empty()) recorder_ = std::make_unique<request_recorder>(record_requests_dir);
}

void dispatcher::remove_interceptor(const interceptor* i) {
  std::erase_if(interceptors_, [i](const auto& p) { return p.get() == i; });
}

dispatch_result dispatcher::reject(const std::string& reason) {
  metrics_.connections_rejected_requests++;
  return dispatch_result{{}, true, reason};
}

asio::awaitable<dispatch_result> dispatcher::dispatch(const connection_info& conn, std::shared_ptr<uint8_t[]> frame,
                                                      size_t size) {
  const auto started = std::chrono::steady_clock::now();
  proto::reader r(frame.get(), size, frame);
  proto::request_header h;
  if (!proto::decode_request_header(r, h)) co_return reject("malformed request header (" + std::to_string(size) + " bytes)");
  const api_entry* e = apis_.find(h.api_key);
  const bool version_ok = e && h.api_version >= e->min_version && h.api_version <= e->max_version;
  auto refused = [&](const std::string& reason) {
    if (interceptors_.empty()) return;
    const request_info info{h, conn.id, conn.node_id, conn.peer, r};
    const interceptor_chain chain(interceptors_.begin(), interceptors_.end());
    for (const auto& i : chain) i->on_refused(info, reason);
  };
  if (!version_ok && e && h.api_key == proto::api_versions_key) {
    refused("ApiVersions v" + std::to_string(h.api_version) + " is above the served " + std::to_string(e->min_version) +
            "-" + std::to_string(e->max_version) + ": answered UNSUPPORTED_VERSION in v0 (KIP-511)");
    // KIP-511: a client newer than us learns our ApiVersions range and retries.
    proto::writer w;
    w.i32(0);
    proto::encode_response_header(w, h.correlation_id, 0);
    handlers::api_versions_unsupported(*e, w);
    w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
    co_return dispatch_result{w.take_chunks(), false, {}};
  }
  if (!e) {
    refused("API " + api_name(h.api_key) + " is not served: connection closed");
    co_return reject("unsupported API key " + std::to_string(h.api_key) + " (" + api_name(h.api_key) + ") v" +
                     std::to_string(h.api_version) + " from client '" + h.client_id + "'");
  }
  if (!version_ok) {
    refused("version " + std::to_string(h.api_version) + " is outside the served " + std::to_string(e->min_version) +
            "-" + std::to_string(e->max_version) + ": connection closed");
    co_return reject("unsupported version " + std::to_string(h.api_version) + " of " + e->name + " (served: " +
                     std::to_string(e->min_version) + "-" + std::to_string(e->max_version) + ") from client '" +
                     h.client_id + "'");
  }
  if (recorder_) recorder_->record(h, frame.get(), size);
  // A copy: the table may be changed (Kafka-version emulation) while this request waits.
  const api_entry entry = *e;
  e = &entry;

  request_context ctx{env_, apis_, h, conn.node_id, conn.peer, !interceptors_.empty()};
  reply rep;
  if (interceptors_.empty()) {
    rep = co_await e->fn(ctx, r);
  } else {
    // Interceptors (broker/dispatch/interceptor.h): inline here rather than in a coroutine of
    // their own, so that an installed trace costs no extra coroutine frame per request.
    interceptor_chain chain;
    const request_info info{h, conn.id, conn.node_id, conn.peer, r};
    const intercept_action decided = run_on_request(chain, info);
    if (decided.delay_ms > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor);
      t.expires_after(std::chrono::milliseconds(decided.delay_ms));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::optional<reply> partial;
    if (decided.what == intercept_action::kind::error && decided.only)
      partial = co_await partial_error_reply(*e, ctx, r, decided.error, decided.only);
    if (partial) rep = std::move(*partial);
    else if (decided.what == intercept_action::kind::pass) rep = co_await e->fn(ctx, r);
    else rep = decided_reply(*e, ctx, r, decided);
    run_on_response(chain, info, decided, rep, started);
  }

  if (api_metrics* m = metrics_.api(h.api_key)) {
    m->requests++;
    if (!rep.ok || rep.close_after || rep.errors > 0) m->errors++;
    m->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!rep.ok) co_return reject(rep.error + " from client '" + h.client_id + "'");
  dispatch_result out;
  if (rep.respond) {
    proto::writer head;
    head.i32(0);
    proto::encode_response_header(head, h.correlation_id, proto::response_header_version(h.api_key, h.api_version));
    head.patch_i32(0, static_cast<int32_t>(head.size() - 4 + rep.body.size()));
    out.frame = head.take_chunks();
    auto body = rep.body.take_chunks();
    out.frame.insert(out.frame.end(), std::make_move_iterator(body.begin()), std::make_move_iterator(body.end()));
  }
  if (rep.close_after) {
    out.close = true;
    out.reason = rep.error;
  }
  co_return out;
}

intercept_action dispatcher::run_on_request(interceptor_chain& chain, const request_info& info) {
  // Copied: an interceptor may remove itself (or others) while the request waits.
  chain.assign(interceptors_.begin(), interceptors_.end());
  intercept_action decided;
  for (const auto& i : chain) {
    intercept_action a = i->on_request(info);
    decided.delay_ms += a.delay_ms;
    if (a.what != intercept_action::kind::pass) {
      decided.what = a.what;
      decided.error = a.error;
      decided.only = std::move(a.only);
      break;
    }
  }
  return decided;
}

reply dispatcher::decided_reply(const api_entry& e, const request_context& ctx, proto::reader body,
                                const intercept_action& decided) {
  reply rep;
  switch (decided.what) {
    case intercept_action::kind::pass:
      break;  // the caller runs the handler
    case intercept_action::kind::error:
      // That API's own response at that version, with the error in every error field (per
      // topic and partition where the request names them).
      if (auto w = proto::error_response(ctx.header.api_key, ctx.version(), body, decided.error)) {
        rep.body = std::move(*w);
        rep.errors = 1;
        rep.error_codes = {proto::code(decided.error)};
        // Produce with acks=0 is never answered, not even with an error.
        if (ctx.header.api_key == proto::produce_request::api_key && produce_acks(ctx.version(), body) == 0)
          rep.respond = false;
      } else {
        rep.ok = false;
        rep.error = std::string("malformed ") + e.name + " v" + std::to_string(ctx.version());
      }
      break;
    case intercept_action::kind::drop:
      rep.respond = false;
      break;
    case intercept_action::kind::close:
      rep.respond = false;
      rep.close_after = true;
      rep.error = "closed by an interceptor";
      break;
  }
  return rep;
}

void dispatcher::run_on_response(const interceptor_chain& chain, const request_info& info,
                                 const intercept_action& decided, const reply& rep,
                                 std::chrono::steady_clock::time_point started) {
  response_info ri;
  ri.outcome = decided.what;
  ri.responded = rep.ok && rep.respond;
  ri.error_count = rep.errors;
  ri.error_codes = &rep.error_codes;
  ri.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& i : chain) i->on_response(info, ri);
}

}  // namespace mk
