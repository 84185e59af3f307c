// Transactions: AddPartitionsToTxn (0-5), AddOffsetsToTxn (0-4), TxnOffsetCommit (0-4),
// EndTxn (0-4), DescribeProducers (0), DescribeTransactions (0), ListTransactions (0-1), over the transactions service
// (broker/services/transactions.h) and its coordinator (broker/txn/transaction_coordinator.h).
//
// Behaviour:
//  * Every request names a transactional id, a producer id and an epoch: an unknown id or
//    another producer id is INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED.
//  * AddPartitionsToTxn: partitions that do not exist are UNKNOWN_TOPIC_OR_PARTITION and the
//    others OPERATION_NOT_ATTEMPTED; v4+ batch several transactions (verify_only answers whether
//    the partitions are in the transaction without adding them).
//  * TxnOffsetCommit needs AddOffsetsToTxn for its group first (INVALID_TXN_STATE otherwise);
//    the offsets become visible when EndTxn commits, and are dropped when it aborts. With a
//    generation and member (v3+) the group checks them as for OffsetCommit.
//  * EndTxn writes a commit or abort marker to every partition of the transaction; a retry of
//    the same outcome is NONE, the other outcome INVALID_TXN_STATE.
//  * DescribeProducers lists each partition's producers: epoch, last sequence and the first
//    offset of their open transaction.
//  * DescribeTransactions: state, timeout, start time (wall clock), producer id and epoch and
//    the partitions of each id; unknown ids TRANSACTIONAL_ID_NOT_FOUND.
//  * ListTransactions: filtered by state names (unknown ones echoed in unknown_state_filters),
//    producer ids and (v1) minimum duration in ms.
//  * Simulated cluster (--brokers N): AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
//    DescribeTransactions are served by the transactional id's coordinator (FindCoordinator,
//    cluster::coordinator), TxnOffsetCommit by the group's; other brokers answer NOT_COORDINATOR
//    (per partition or per id where the response has a place for it), and ListTransactions lists
//    the transactions this broker coordinates, as Kafka's brokers do.
// Version notes: PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH to AddPartitionsToTxn,
// AddOffsetsToTxn and EndTxn below v2 and TxnOffsetCommit below v3 (KIP-588).
#include <spdlog/spdlog.h>

#include <set>

#include "broker/handlers/handler.h"

namespace mk::handlers {

namespace {

bool coordinates(const request_context& ctx, coordinator_kind kind, const std::string& key) {
  return ctx.svc().cluster.coordinator(kind, key) == ctx.node_id;
}

std::vector<services::transactions_service::partition_result> all_failed(const std::vector<txn::topic_partition>& parts,
                                                                          error_code e) {
  std::vector<services::transactions_service::partition_result> out;
  for (const auto& tp : parts) out.push_back({tp, e});
  return out;
}

error_code for_version(error_code e, int16_t version, int16_t first_with_fenced) {
  return e == error_code::producer_fenced && version < first_with_fenced ? error_code::invalid_producer_epoch : e;
}

std::vector<txn::topic_partition> partitions_of(const std::vector<proto::add_partitions_to_txn_request::add_partitions_to_txn_topic>& topics) {
  std::vector<txn::topic_partition> out;
  for (const auto& t : topics)
    for (int32_t p : t.partitions) out.push_back({t.name, p});
  return out;
}

std::vector<proto::add_partitions_to_txn_response::add_partitions_to_txn_topic_result> topic_results(
    const std::vector<services::transactions_service::partition_result>& results, int16_t version) {
  std::vector<proto::add_partitions_to_txn_response::add_partitions_to_txn_topic_result> out;
  for (const auto& r : results) {
    if (out.empty() || out.back().name != r.partition.topic) out.emplace_back().name = r.partition.topic;
    auto& pr = out.back().results_by_partition.emplace_back();
    pr.partition_index = r.partition.partition;
    pr.partition_error_code = code(for_version(r.error, version, 2));
  }
  return out;
}

}  // namespace

proto::add_partitions_to_txn_response add_partitions_to_txn(request_context& ctx, proto::add_partitions_to_txn_request& req) {
  proto::add_partitions_to_txn_response resp;
  auto& txns = ctx.svc().transactions;
  if (ctx.version() <= 3) {
    const auto parts = partitions_of(req.v3_and_below_topics);
    resp.results_by_topic_v3_and_below = topic_results(
        coordinates(ctx, coordinator_kind::transaction, req.v3_and_below_transactional_id)
            ? txns.add_partitions(req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                                  req.v3_and_below_producer_epoch, parts)
            : all_failed(parts, error_code::not_coordinator),
        ctx.version());
    return resp;
  }
  for (const auto& t : req.transactions) {
    auto& tr = resp.results_by_transaction.emplace_back();
    tr.transactional_id = t.transactional_id;
    const auto parts = partitions_of(t.topics);
    if (!coordinates(ctx, coordinator_kind::transaction, t.transactional_id)) {
      tr.topic_results = topic_results(all_failed(parts, error_code::not_coordinator), ctx.version());
      continue;
    }
    if (t.verify_only) {
      // Whether each partition is already in the transaction (KIP-890 verification).
      const txn::transaction* x = txns.coordinator().find(t.transactional_id);
      error_code owner = txns.coordinator().check(t.transactional_id, t.producer_id, t.producer_epoch);
      std::vector<services::transactions_service::partition_result> results;
      for (const auto& tp : parts) {
        error_code e = owner;
        if (e == error_code::none && (!x || x->state != txn::txn_state::ongoing || !x->partitions.count(tp)))
          e = error_code::invalid_txn_state;
        results.push_back({tp, e});
      }
      tr.topic_results = topic_results(results, ctx.version());
      continue;
    }
    tr.topic_results = topic_results(txns.add_partitions(t.transactional_id, t.producer_id, t.producer_epoch, parts),
                                     ctx.version());
  }
  return resp;
}

proto::add_offsets_to_txn_response add_offsets_to_txn(request_context& ctx, proto::add_offsets_to_txn_request& req) {
  proto::add_offsets_to_txn_response resp;
  if (!coordinates(ctx, coordinator_kind::transaction, req.transactional_id)) {
    resp.error_code = code(error_code::not_coordinator);
    return resp;
  }
  resp.error_code = code(for_version(
      ctx.svc().transactions.add_offsets(req.transactional_id, req.producer_id, req.producer_epoch, req.group_id),
      ctx.version(), 2));
  return resp;
}

proto::txn_offset_commit_response txn_offset_commit(request_context& ctx, proto::txn_offset_commit_request& req) {
  const int16_t v = ctx.version();
  std::vector<groups::offset_commit> offsets;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions)
      offsets.push_back(groups::offset_commit{t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                                              p.committed_metadata});
  // Sent to the group's coordinator, as OffsetCommit is.
  auto errs = coordinates(ctx, coordinator_kind::group, req.group_id)
                  ? ctx.svc().transactions.commit_offsets(req.transactional_id, req.group_id, req.producer_id,
                                                          req.producer_epoch, v >= 3 ? req.generation_id : -1,
                                                          v >= 3 ? req.member_id : std::string(),
                                                          v >= 3 ? req.group_instance_id : std::nullopt, offsets)
                  : std::vector<error_code>(offsets.size(), error_code::not_coordinator);
  proto::txn_offset_commit_response resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = p.partition_index;
      pr.error_code = code(for_version(errs[i++], v, 3));
    }
  }
  return resp;
}

proto::end_txn_response end_txn(request_context& ctx, proto::end_txn_request& req) {
  proto::end_txn_response resp;
  if (!coordinates(ctx, coordinator_kind::transaction, req.transactional_id)) {
    resp.error_code = code(error_code::not_coordinator);
    return resp;
  }
  resp.error_code = code(for_version(
      ctx.svc().transactions.end(req.transactional_id, req.producer_id, req.producer_epoch, req.committed),
      ctx.version(), 2));
  return resp;
}

proto::describe_producers_response describe_producers(request_context& ctx, proto::describe_producers_request& req) {
  proto::describe_producers_response resp;
  for (const auto& t : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    topic_state* topic = ctx.svc().topics.find(t.name);
    for (int32_t index : t.partition_indexes) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = index;
      partition_state* p = topic ? topic->partition(index) : nullptr;
      if (!p) {
        pr.error_code = code(error_code::unknown_topic_or_partition);
        continue;
      }
      if (auto e = check_leader(*p, ctx.node_id); e != error_code::none) {
        pr.error_code = code(e);
        continue;
      }
      for (const auto& [pid, ps] : p->producers) {
        auto& out = pr.active_producers.emplace_back();
        out.producer_id = pid;
        out.producer_epoch = ps.epoch;
        out.last_sequence = ps.recent.empty() ? -1 : ps.recent.back().last_seq;
        auto open = p->open_txns.find(pid);
        out.current_txn_start_offset = open == p->open_txns.end() ? -1 : open->second;
      }
      // Producers seen only through their markers' epochs have no sequence; those with an open
      // transaction but no idempotent state (sequence -1) are listed too.
      for (const auto& [pid, first] : p->open_txns)
        if (!p->producers.count(pid)) {
          auto& out = pr.active_producers.emplace_back();
          out.producer_id = pid;
          out.current_txn_start_offset = first;
        }
    }
  }
  return resp;
}

namespace {
// When the transaction started, as wall-clock ms (the coordinator keeps monotonic time).
int64_t started_wall_ms(const request_context& ctx, const txn::transaction& t) {
  if (t.start_ms < 0) return -1;
  return ctx.env.clock.wall_ms() - (ctx.env.clock.steady_ms() - t.start_ms);
}
}  // namespace

proto::describe_transactions_response describe_transactions(request_context& ctx,
                                                            proto::describe_transactions_request& req) {
  proto::describe_transactions_response resp;
  const auto& tc = ctx.svc().transactions.coordinator();
  for (const auto& id : req.transactional_ids) {
    auto& out = resp.transaction_states.emplace_back();
    out.transactional_id = id;
    if (!coordinates(ctx, coordinator_kind::transaction, id)) {
      out.error_code = code(error_code::not_coordinator);
      continue;
    }
    const txn::transaction* t = tc.find(id);
    if (!t) {
      out.error_code = code(error_code::transactional_id_not_found);
      continue;
    }
    out.transaction_state = txn::to_string(t->state);
    out.transaction_timeout_ms = t->timeout_ms;
    out.transaction_start_time_ms = started_wall_ms(ctx, *t);
    out.producer_id = t->producer_id;
    out.producer_epoch = t->epoch;
    for (const auto& tp : t->partitions) {
      if (out.topics.empty() || out.topics.back().topic != tp.topic) out.topics.emplace_back().topic = tp.topic;
      out.topics.back().partitions.push_back(tp.partition);
    }
  }
  return resp;
}

proto::list_transactions_response list_transactions(request_context& ctx, proto::list_transactions_request& req) {
  proto::list_transactions_response resp;
  std::set<std::string> states;
  for (const auto& s : req.state_filters) {
    bool known = false;
    for (auto st : {txn::txn_state::empty, txn::txn_state::ongoing, txn::txn_state::prepare_commit,
                    txn::txn_state::prepare_abort, txn::txn_state::complete_commit, txn::txn_state::complete_abort,
                    txn::txn_state::dead, txn::txn_state::prepare_epoch_fence})
      known = known || s == txn::to_string(st);
    if (known) states.insert(s);
    else resp.unknown_state_filters.push_back(s);
  }
  const std::set<int64_t> pids(req.producer_id_filters.begin(), req.producer_id_filters.end());
  const int64_t now = ctx.env.clock.steady_ms();
  for (const auto& [id, t] : ctx.svc().transactions.coordinator().all()) {
    if (!coordinates(ctx, coordinator_kind::transaction, id)) continue;  // each broker lists its own
    if (!req.state_filters.empty() && !states.count(txn::to_string(t.state))) continue;
    if (!pids.empty() && !pids.count(t.producer_id)) continue;
    if (ctx.version() >= 1 && req.duration_filter >= 0 && (t.start_ms < 0 || now - t.start_ms < req.duration_filter))
      continue;
    auto& out = resp.transaction_states.emplace_back();
    out.transactional_id = id;
    out.producer_id = t.producer_id;
    out.transaction_state = txn::to_string(t.state);
  }
  return resp;
}

}  // namespace mk::handlers
