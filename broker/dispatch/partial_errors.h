// Partial error answers: a Produce or Fetch request in which only some partitions get an
// injected error (a fault rule naming a topic or partition), while the handler answers the rest,
// in one response, as a Kafka broker answers when only some of the partitions it was asked about
// fail (e.g. NOT_LEADER_OR_FOLLOWER for the ones that moved).
//
// The request is decoded, the selected partitions are taken out, the handler runs on the rest
// (re-encoded), and the selected partitions are added to its response with the error and
// Kafka's error values (-1 offsets; an empty record set for Fetch). Costs a copy of the request
// and response bytes: only fault rules use it.
// Runs on: broker state thread.
#pragma once

#include <optional>

#include "broker/api_table.h"
#include "broker/dispatch/interceptor.h"

namespace mk {

// The reply, or nullopt when the API is not Produce/Fetch, the body does not decode, or the
// filter selects none or all of the request's partitions (the caller then answers the whole
// request with the error).
boost::asio::awaitable<std::optional<reply>> partial_error_reply(const api_entry& e, request_context& ctx,
                                                                 proto::reader body, proto::error_code error,
                                                                 const intercept_action::partition_filter& only);

}  // namespace mk
