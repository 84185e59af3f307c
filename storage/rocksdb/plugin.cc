// Entry points of minikafka-rocksdb.so, the RocksDB backend as a plugin of the `minikafka`
// executable (the ABI is described in storage/engine_plugin.h). Everything else in the shared
// object is hidden; RocksDB itself stays a dependency of this file only.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "storage/engine_plugin.h"
#include "storage/rocksdb/rocksdb_engine.h"

#ifndef MINIKAFKA_STORAGE_PLUGIN_ABI
#error "MINIKAFKA_STORAGE_PLUGIN_ABI must be defined by the build (target minikafka_storage_plugin_abi)"
#endif

namespace {

void set_error(char* error, size_t error_size, const std::string& text) {
  if (error == nullptr || error_size == 0) return;
  std::snprintf(error, error_size, "%s", text.c_str());
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const char* minikafka_storage_plugin_abi() {
  return MINIKAFKA_STORAGE_PLUGIN_ABI;
}

extern "C" __attribute__((visibility("default"))) mk::storage::storage_engine* minikafka_storage_plugin_open(
    const mk::storage::plugin_open_args* args, char* error, size_t error_size) noexcept {
  if (args == nullptr || args->dir == nullptr) {
    set_error(error, error_size, "no data directory given");
    return nullptr;
  }
  try {
    std::string why;
    auto engine = mk::storage::open_rocksdb_engine(args->dir, mk::storage::rocksdb_options{.sync = args->sync}, &why);
    if (!engine) {
      set_error(error, error_size, why);
      return nullptr;
    }
    return engine.value().release();
  } catch (const std::exception& ex) {
    set_error(error, error_size, ex.what());
  } catch (...) {
    set_error(error, error_size, "unknown exception");
  }
  return nullptr;
}
