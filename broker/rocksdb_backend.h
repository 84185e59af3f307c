// How a broker gets its RocksDB storage engine (`--storage rocksdb`).
//
// open_rocksdb_backend has two definitions and every program links exactly one of them:
//  * broker/rocksdb_backend_linked.cc, in the minikafka_broker library (embedders, tests,
//    benchmarks): RocksDB is linked into the program;
//  * broker/rocksdb_backend_plugin.cc, in the `minikafka` executable: RocksDB lives in the
//    plugin minikafka-rocksdb.so, opened with dlopen on first use (broker/plugins.h), so a broker
//    on the default memory storage never loads librocksdb.
// server.cc's make_engine calls it and does not know which one it got.
#pragma once

#include <memory>
#include <string>

#include "storage/partition_log.h"

namespace mk {

// Opens (creating if needed) the RocksDB database in `dir`; with `sync`, every write is fsynced
// before it returns. Throws std::runtime_error with a message meant for the user.
std::unique_ptr<storage::storage_engine> open_rocksdb_backend(const std::string& dir, bool sync);

}  // namespace mk
