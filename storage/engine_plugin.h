// The boundary between the `minikafka` executable and a storage backend built as a plugin: a
// shared object the executable opens with dlopen only when that backend is asked for, so a
// broker on the default memory storage never loads (or relocates) the backend's libraries.
//
// Today the one plugin is the RocksDB backend (storage/rocksdb/plugin.cc, minikafka-rocksdb.so);
// programs that link minikafka_storage / minikafka_broker (tests, benchmarks, embedders) get the
// same backend linked in and never use this file.
//
// A plugin exports two C functions:
//
//   const char* minikafka_storage_plugin_abi(void);
//       the MINIKAFKA_STORAGE_PLUGIN_ABI string it was built with (see below);
//   mk::storage::storage_engine* minikafka_storage_plugin_open(const plugin_open_args*,
//                                                              char* error, size_t error_size);
//       opens the engine, or returns nullptr with a NUL-terminated reason in `error`. Never
//       throws. The caller owns the engine and deletes it through storage_engine's virtual
//       destructor.
//
// The engine crosses the boundary as a C++ object, so both sides must agree on the layout of the
// storage interfaces (partition_log.h, metadata_store.h, shared_chunk.h, this file) and on the
// compiler. The build derives MINIKAFKA_STORAGE_PLUGIN_ABI from a hash of those headers plus the
// project and compiler versions (storage/CMakeLists.txt, target minikafka_storage_plugin_abi);
// the loader refuses a plugin whose string differs from its own instead of crashing in it.
// A loaded plugin is never unloaded (its code must outlive every engine and log it made).
#pragma once

#include <cstddef>

#include "storage/partition_log.h"

namespace mk::storage {

// What the executable asks the plugin to open. Plain C types only.
struct plugin_open_args {
  const char* dir = nullptr;  // data directory (created if missing)
  bool sync = false;          // fsync the write-ahead log before each write returns
};

using plugin_abi_fn = const char* (*)();
using plugin_open_fn = storage_engine* (*)(const plugin_open_args* args, char* error, size_t error_size);

inline constexpr const char plugin_abi_symbol[] = "minikafka_storage_plugin_abi";
inline constexpr const char plugin_open_symbol[] = "minikafka_storage_plugin_open";

}  // namespace mk::storage
