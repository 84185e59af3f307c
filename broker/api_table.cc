#include "broker/api_table.h"

#include "broker/handlers/handler.h"

namespace mk {

api_table api_table::defaults() {
  using namespace proto;
  namespace h = handlers;
  api_table t;
  t.entries_ = {
      {produce_request::api_key, "Produce", 0, 11, &h::produce},
      h::async_entry<fetch_request, fetch_response, &h::fetch>(),
      h::sync_entry<list_offsets_request, list_offsets_response, &h::list_offsets>(),
      h::sync_entry<metadata_request, metadata_response, &h::metadata>(),
      h::sync_entry<offset_commit_request, offset_commit_response, &h::offset_commit>(),
      h::sync_entry<offset_fetch_request, offset_fetch_response, &h::offset_fetch>(),
      h::sync_entry<find_coordinator_request, find_coordinator_response, &h::find_coordinator>(),
      h::async_entry<join_group_request, join_group_response, &h::join_group>(),
      h::sync_entry<heartbeat_request, heartbeat_response, &h::heartbeat>(),
      h::sync_entry<leave_group_request, leave_group_response, &h::leave_group>(),
      h::async_entry<sync_group_request, sync_group_response, &h::sync_group>(),
      h::sync_entry<describe_groups_request, describe_groups_response, &h::describe_groups>(),
      h::sync_entry<list_groups_request, list_groups_response, &h::list_groups>(),
      {api_versions_request::api_key, "ApiVersions", 0, 4, &h::api_versions},
      h::sync_entry<create_topics_request, create_topics_response, &h::create_topics>(),
      h::sync_entry<delete_topics_request, delete_topics_response, &h::delete_topics>(),
      h::sync_entry<describe_configs_request, describe_configs_response, &h::describe_configs>(),
      h::sync_entry<create_partitions_request, create_partitions_response, &h::create_partitions>(),
      h::sync_entry<init_producer_id_request, init_producer_id_response, &h::init_producer_id>(),
      h::sync_entry<delete_records_request, delete_records_response, &h::delete_records>(),
      h::sync_entry<delete_groups_request, delete_groups_response, &h::delete_groups>(),
      h::sync_entry<offset_delete_request, offset_delete_response, &h::offset_delete>(),
      h::sync_entry<add_partitions_to_txn_request, add_partitions_to_txn_response, &h::add_partitions_to_txn>(),
      h::sync_entry<add_offsets_to_txn_request, add_offsets_to_txn_response, &h::add_offsets_to_txn>(),
      h::sync_entry<txn_offset_commit_request, txn_offset_commit_response, &h::txn_offset_commit>(),
      h::sync_entry<end_txn_request, end_txn_response, &h::end_txn>(),
      h::sync_entry<describe_producers_request, describe_producers_response, &h::describe_producers>(),
      h::sync_entry<describe_transactions_request, describe_transactions_response, &h::describe_transactions>(),
      h::sync_entry<list_transactions_request, list_transactions_response, &h::list_transactions>(),
      h::sync_entry<offset_for_leader_epoch_request, offset_for_leader_epoch_response, &h::offset_for_leader_epoch>(),
      h::sync_entry<elect_leaders_request, elect_leaders_response, &h::elect_leaders>(),
      h::sync_entry<describe_cluster_request, describe_cluster_response, &h::describe_cluster>(),
      h::sync_entry<describe_topic_partitions_request, describe_topic_partitions_response, &h::describe_topic_partitions>(),
  };
  t.index();
  return t;
}

void api_table::index() {
  by_key_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) {
    const auto k = static_cast<size_t>(entries_[i].key);
    if (by_key_.size() <= k) by_key_.resize(k + 1, -1);
    by_key_[k] = static_cast<int>(i);
  }
}

bool api_table::set_range(int16_t key, int16_t min_version, int16_t max_version) {
  const api_entry* e = find(key);
  if (!e || min_version > max_version) return false;
  const api_table own = defaults();  // kept alive: a reference into a temporary table would dangle
  const api_entry& d = *own.find(key);
  if (min_version < d.min_version || max_version > d.max_version) return false;
  auto& m = entries_[static_cast<size_t>(by_key_[static_cast<size_t>(key)])];
  m.min_version = min_version;
  m.max_version = max_version;
  return true;
}

bool api_table::remove(int16_t key) {
  if (!find(key)) return false;
  entries_.erase(entries_.begin() + by_key_[static_cast<size_t>(key)]);
  index();
  return true;
}

}  // namespace mk
