// The one mapping from storage failures (storage::errc) to the Kafka error code a client gets.
//
// Every place where a storage error becomes a Kafka error (Produce, Fetch, ListOffsets,
// DeleteRecords, topic creation, the HTTP admin API) goes through storage_error_code, so the
// answer to "what does a client see when storage fails" lives here once. The switch has no
// `default:`: a new storage::errc that nobody mapped fails the build (-Werror=switch).
#pragma once

#include "protocol/error_code.h"
#include "storage/partition_log.h"

namespace mk {

inline proto::error_code storage_error_code(storage::errc e) {
  switch (e) {
    // Retriable for clients: KAFKA_STORAGE_ERROR makes them refresh metadata and retry, which is
    // right for a disk that failed a read or write and for a full memory cap alike.
    case storage::errc::io_error:
    case storage::errc::out_of_memory:
      return proto::error_code::kafka_storage_error;
    // The cluster knows the partition, so storage not finding it is a storage fault too.
    case storage::errc::not_found:
      return proto::error_code::kafka_storage_error;
    // The broker chose the offsets: a mismatch is a broker bug, not something a retry fixes.
    case storage::errc::offset_mismatch:
      return proto::error_code::unknown_server_error;
  }
  return proto::error_code::unknown_server_error;  // not reached: the switch is exhaustive
}

}  // namespace mk
