// RocksDB read failures surface as errc::io_error from the partition log, never as "no data".
//
// A rocksdb::EnvWrapper injected through rocksdb_options::env fails every read of a file opened
// for random access (SST files) while armed. The data is first written and the engine closed;
// opening it again replays the WAL into L0 SST files (RocksDB flushes what it recovers), so with
// a fresh, empty block cache every batch read must go to a file, and the armed Env fails it.
#include <gtest/gtest.h>
#include <stdlib.h>

#if MINIKAFKA_HAVE_ROCKSDB
#include <rocksdb/env.h>
#include <rocksdb/status.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "minikafka_common/shared_chunk.h"
#include "storage/partition_log.h"
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace mk::storage {
namespace {

#if MINIKAFKA_HAVE_ROCKSDB

namespace fs = std::filesystem;

constexpr char kTopic[] = "0123456789abcdef0123456789abcdef";

// Counts the reads it failed; fails none until armed.
struct fault_switch {
  std::atomic<bool> armed{false};
  std::atomic<int> failed{0};
};

class failing_file final : public rocksdb::RandomAccessFileWrapper {
 public:
  failing_file(std::unique_ptr<rocksdb::RandomAccessFile> target, std::shared_ptr<fault_switch> sw)
      : RandomAccessFileWrapper(target.get()), target_(std::move(target)), sw_(std::move(sw)) {}

  rocksdb::Status Read(uint64_t offset, size_t n, rocksdb::Slice* result,
                       char* scratch) const override {
    if (sw_->armed) {
      ++sw_->failed;
      return rocksdb::Status::IOError("injected read failure");
    }
    return RandomAccessFileWrapper::Read(offset, n, result, scratch);
  }
  rocksdb::Status MultiRead(rocksdb::ReadRequest* reqs, size_t num_reqs) override {
    if (sw_->armed) {
      ++sw_->failed;
      for (size_t i = 0; i < num_reqs; ++i) reqs[i].status = rocksdb::Status::IOError("injected");
      return rocksdb::Status::IOError("injected read failure");
    }
    return RandomAccessFileWrapper::MultiRead(reqs, num_reqs);
  }

 private:
  std::unique_ptr<rocksdb::RandomAccessFile> target_;
  std::shared_ptr<fault_switch> sw_;
};

// The default Env, except that files opened for random access fail reads while armed.
class failing_read_env final : public rocksdb::EnvWrapper {
 public:
  failing_read_env() : EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "minikafka_failing_read_env"; }

  rocksdb::Status NewRandomAccessFile(const std::string& fname,
                                      std::unique_ptr<rocksdb::RandomAccessFile>* result,
                                      const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::RandomAccessFile> file;
    auto s = target()->NewRandomAccessFile(fname, &file, options);
    if (s.ok()) *result = std::make_unique<failing_file>(std::move(file), sw_);
    return s;
  }

  void arm(bool on) { sw_->armed = on; }
  int failed_reads() const { return sw_->failed; }

 private:
  std::shared_ptr<fault_switch> sw_ = std::make_shared<fault_switch>();
};

shared_chunk blob(int64_t base, size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<uint8_t>(base * 31 + static_cast<int64_t>(i));
  }
  return shared_chunk::adopt(std::move(v));
}

class RocksdbReadFaults : public testing::Test {
 protected:
  // Four batches of 256 KiB (larger than the SST blocks and than what RocksDB prefetches of a
  // file's tail when opening it), offsets 0-39, max timestamps 100..400.
  static constexpr size_t kBatchBytes = 256 * 1024;

  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minikafka-rocksdb-faults-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    opts_.env = &env_;
    auto engine = open_rocksdb_engine(dir_, opts_);
    ASSERT_TRUE(engine.ok());
    auto log = engine.value()->open_log(kTopic, 0);
    ASSERT_TRUE(log.ok());
    for (int64_t i = 0; i < 4; ++i) {
      const batch_to_append b{i * 10, i * 10 + 9, (i + 1) * 100, blob(i, kBatchBytes)};
      ASSERT_TRUE(log.value()->append(std::span(&b, 1)).ok());
    }
    // Closing and reopening below moves the batches from the WAL into SST files.
  }

  void TearDown() override {
    log_.reset();
    engine_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A fresh engine (empty block cache) over the directory, and the log opened in it.
  void reopen() {
    log_.reset();
    engine_.reset();
    auto engine = open_rocksdb_engine(dir_, opts_);
    ASSERT_TRUE(engine.ok());
    engine_ = std::move(engine.value());
    auto log = engine_->open_log(kTopic, 0);
    ASSERT_TRUE(log.ok()) << to_string(log.error());
    log_ = std::move(log.value());
  }

  std::string dir_;
  failing_read_env env_;  // outlives every engine (declared before them)
  rocksdb_options opts_;
  std::unique_ptr<rocksdb_engine> engine_;
  std::unique_ptr<partition_log> log_;
};

TEST_F(RocksdbReadFaults, ReadFailsWithIoErrorInsteadOfReturningNothing) {
  ASSERT_NO_FATAL_FAILURE(reopen());
  env_.arm(true);
  const auto r = log_->read(0, SIZE_MAX);
  ASSERT_FALSE(r.ok()) << "the read was served without touching an SST file (still in a memtable "
                          "or the block cache?)";
  EXPECT_EQ(r.error(), errc::io_error);
  EXPECT_GT(env_.failed_reads(), 0);
  // A read further on fails too; offsets, from memory, are unaffected.
  const auto later = log_->read(25, 1);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error(), errc::io_error);
  EXPECT_EQ(log_->start_offset(), 0);
  EXPECT_EQ(log_->end_offset(), 40);

  // Not sticky: once the disk reads again, so does the log, with every byte.
  env_.arm(false);
  const auto ok = log_->read(0, SIZE_MAX);
  ASSERT_TRUE(ok.ok()) << to_string(ok.error());
  ASSERT_EQ(ok.value().chunks.size(), 4u);
  for (int64_t i = 0; i < 4; ++i) {
    const auto want = blob(i, kBatchBytes);
    const auto& got = ok.value().chunks[static_cast<size_t>(i)];
    ASSERT_EQ(got.size, want.size);
    EXPECT_EQ(std::memcmp(got.data, want.data, want.size), 0) << i;
  }
}

TEST_F(RocksdbReadFaults, TimestampLookupsFailWithIoError) {
  ASSERT_NO_FATAL_FAILURE(reopen());
  env_.arm(true);
  const auto by_time = log_->find_by_timestamp(250);
  ASSERT_FALSE(by_time.ok());
  EXPECT_EQ(by_time.error(), errc::io_error);
  const auto max = log_->max_timestamp_batch();
  ASSERT_FALSE(max.ok());
  EXPECT_EQ(max.error(), errc::io_error);
  // A lookup with no answer reads nothing, so it cannot fail.
  const auto none = log_->find_by_timestamp(1000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());

  env_.arm(false);
  const auto again = log_->find_by_timestamp(250);
  ASSERT_TRUE(again.ok()) << to_string(again.error());
  ASSERT_TRUE(again.value().has_value());
  EXPECT_EQ(again.value()->base_offset, 20);
  EXPECT_EQ(again.value()->bytes.size, kBatchBytes);
}

TEST_F(RocksdbReadFaults, RecoveryReadFailureFailsOpenLog) {
  ASSERT_NO_FATAL_FAILURE(reopen());
  log_.reset();
  // The engine is open; reopening the log must read its index from an SST file.
  env_.arm(true);
  auto log = engine_->open_log(kTopic, 0);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.error(), errc::io_error);
  env_.arm(false);
  log = engine_->open_log(kTopic, 0);
  ASSERT_TRUE(log.ok()) << to_string(log.error());
  EXPECT_EQ(log.value()->end_offset(), 40);
}

TEST_F(RocksdbReadFaults, FailureTextGoesToRocksdbInfoLog) {
  ASSERT_NO_FATAL_FAILURE(reopen());
  env_.arm(true);
  ASSERT_FALSE(log_->read(0, SIZE_MAX).ok());
  env_.arm(false);
  log_.reset();
  engine_.reset();  // flushes and closes RocksDB's LOG
  std::ifstream in(dir_ + "/LOG");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("minikafka: read:"), std::string::npos);
  EXPECT_NE(text.find("injected read failure"), std::string::npos);
}

#endif  // MINIKAFKA_HAVE_ROCKSDB

}  // namespace
}  // namespace mk::storage
