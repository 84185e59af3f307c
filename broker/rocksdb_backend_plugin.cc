// open_rocksdb_backend for the `minikafka` executable: the RocksDB backend is the plugin
// minikafka-rocksdb.so (storage/engine_plugin.h), loaded on the first call and kept loaded.
#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

#include "broker/plugins.h"
#include "broker/rocksdb_backend.h"
#include "storage/engine_plugin.h"

#ifndef MINIKAFKA_STORAGE_PLUGIN_ABI
#error "MINIKAFKA_STORAGE_PLUGIN_ABI must be defined by the build (target minikafka_storage_plugin_abi)"
#endif

namespace mk {

namespace {

constexpr char kPluginFile[] = "minikafka-rocksdb.so";

storage::plugin_open_fn load_plugin() {
#if !MINIKAFKA_ROCKSDB_PLUGIN
  throw std::runtime_error("this build has no RocksDB support (RocksDB was not found when it was configured)");
#else
  std::vector<std::string> tried;
  auto path = plugins::find(kPluginFile, &tried);
  if (!path) {
    throw std::runtime_error(std::string("--storage rocksdb needs the RocksDB plugin ") + kPluginFile +
                             ", which is not installed (looked at " + plugins::join_paths(tried) + ")");
  }
  // RTLD_NOW: a missing librocksdb (or one of its libraries) is reported here, not at first use.
  void* handle = ::dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    throw std::runtime_error("cannot load the RocksDB plugin " + *path + ": " + (why ? why : "unknown error"));
  }
  auto abi = reinterpret_cast<storage::plugin_abi_fn>(::dlsym(handle, storage::plugin_abi_symbol));
  auto open = reinterpret_cast<storage::plugin_open_fn>(::dlsym(handle, storage::plugin_open_symbol));
  if (abi == nullptr || open == nullptr) {
    ::dlclose(handle);
    throw std::runtime_error(*path + " is not a minikafka storage plugin");
  }
  if (std::strcmp(abi(), MINIKAFKA_STORAGE_PLUGIN_ABI) != 0) {
    std::string theirs = abi();
    ::dlclose(handle);
    throw std::runtime_error(*path + " was built for another minikafka (plugin ABI " + theirs + ", this binary " +
                             MINIKAFKA_STORAGE_PLUGIN_ABI + "); install the plugin built with this binary");
  }
  return open;  // never unloaded: engines and logs it makes run its code until the process ends
#endif
}

}  // namespace

std::unique_ptr<storage::storage_engine> open_rocksdb_backend(const std::string& dir, bool sync) {
  static std::mutex mu;
  static storage::plugin_open_fn open = nullptr;
  {
    std::lock_guard lock(mu);
    if (open == nullptr) open = load_plugin();  // a failure is retried by the next call
  }
  storage::plugin_open_args args;
  args.dir = dir.c_str();
  args.sync = sync;
  char error[1024] = "";
  std::unique_ptr<storage::storage_engine> engine(open(&args, error, sizeof error));
  if (!engine) throw std::runtime_error("cannot open RocksDB in " + dir + ": " + error);
  return engine;
}

}  // namespace mk
