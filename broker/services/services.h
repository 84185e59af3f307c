// The broker's operations, one set behind every front end: Kafka handlers, the HTTP admin API,
// the embedding API (include/minikafka/broker.h), the control plane and, later, the C ABI.
// None of those touches the cluster state, the group coordinator or the metadata store
// directly; they turn their input into calls on these services and the results into their
// output format.
//
//   front ends -> services -> state (cluster, group coordinator) -> storage
//
// Owned by the server; all calls run on the broker state thread.
#pragma once

#include <functional>

#include "broker/control/change_feed.h"
#include "broker/control/control_service.h"
#include "broker/services/cluster_info.h"
#include "broker/services/groups.h"
#include "broker/services/records.h"
#include "broker/services/topics.h"
#include "broker/services/transactions.h"

namespace mk::services {

struct broker_services {
  // `deadlines_changed` re-arms the server's timer for the group and transaction coordinators.
  broker_services(::mk::cluster& state, groups::group_coordinator& gc, txn::transaction_coordinator& tc,
                  storage::metadata_store& store, clock& clk, const broker_config& cfg, const char* storage_name,
                  const std::function<void()>& deadlines_changed)
      : topics(state, changes), records(clk, cfg, changes), groups(gc, state, store, clk, deadlines_changed),
        transactions(tc, state, groups, clk, deadlines_changed), cluster(state, groups, clk, storage_name),
        control(changes, topics, groups, clk, cfg) {}

  // First: the services below notify it (see broker/control/change_feed.h).
  control::change_feed changes;
  topics_service topics;
  records_service records;
  groups_service groups;
  transactions_service transactions;
  cluster_service cluster;
  // The test control plane: fault rules, reset, clock, awaits, trace, version emulation.
  control::control_service control;
};

}  // namespace mk::services
