// open_rocksdb_backend for programs that link RocksDB (the minikafka_broker library).
#include <stdexcept>

#include "broker/rocksdb_backend.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace mk {

std::unique_ptr<storage::storage_engine> open_rocksdb_backend(const std::string& dir, bool sync) {
#if MINIKAFKA_HAVE_ROCKSDB
  std::string why;
  auto e = storage::open_rocksdb_engine(dir, storage::rocksdb_options{.sync = sync}, &why);
  if (!e) throw std::runtime_error("cannot open RocksDB in " + dir + ": " + why);
  return std::move(e.value());
#else
  (void)dir;
  (void)sync;
  throw std::runtime_error("this build has no RocksDB support");
#endif
}

}  // namespace mk
