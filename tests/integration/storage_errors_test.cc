// Storage read failures reach clients as KAFKA_STORAGE_ERROR (56), at once, on the partition that
// failed only: a broker over a storage engine whose logs of partition 0 fail every read while a
// switch is on (a test double around the memory engine), talked to over real sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/admin/admin_api.h"
#include "broker/server.h"
#include "minikafka/broker.h"
#include "http_client.h"
#include "protocol/generated/all_messages.h"
#include "protocol/records/record_batch.h"
#include "storage/memory/memory_engine.h"
#include "storage/partition_log.h"
#include "test_client.h"

namespace {

using namespace std::chrono_literals;
using namespace mk::proto;
namespace rec = mk::records;
namespace st = mk::storage;
using mk::test::client;

constexpr int16_t NONE = 0;
constexpr int16_t KAFKA_STORAGE_ERROR = 56;

// ------------------------------------------------------------------------- the storage double

// While `armed`, the logs of partition `partition` (of every topic) fail every call that reads
// stored batches with io_error. Set from the test thread, read on the broker's state thread.
struct read_faults {
  std::atomic<bool> armed{false};
  int32_t partition = 0;
};

class faulty_log final : public st::partition_log {
 public:
  faulty_log(std::unique_ptr<st::partition_log> inner, std::shared_ptr<read_faults> faults, bool target)
      : inner_(std::move(inner)), faults_(std::move(faults)), target_(target) {}

  st::result<int64_t> append(std::span<const st::batch_to_append> batches) override { return inner_->append(batches); }
  st::result<st::read_result> read(int64_t from, size_t max_bytes) const override {
    if (failing()) return st::errc::io_error;
    return inner_->read(from, max_bytes);
  }
  int64_t start_offset() const override { return inner_->start_offset(); }
  int64_t end_offset() const override { return inner_->end_offset(); }
  st::status truncate_before(int64_t offset) override { return inner_->truncate_before(offset); }
  st::status replace_range(int64_t from, int64_t to_exclusive, std::span<const st::batch_to_append> batches) override {
    return inner_->replace_range(from, to_exclusive, batches);
  }
  size_t size_bytes() const override { return inner_->size_bytes(); }
  st::result<std::optional<st::stored_batch>> find_by_timestamp(int64_t ts) const override {
    if (failing()) return st::errc::io_error;
    return inner_->find_by_timestamp(ts);
  }
  st::result<std::optional<st::stored_batch>> max_timestamp_batch() const override {
    if (failing()) return st::errc::io_error;
    return inner_->max_timestamp_batch();
  }

 private:
  bool failing() const { return target_ && faults_->armed; }

  std::unique_ptr<st::partition_log> inner_;
  std::shared_ptr<read_faults> faults_;
  bool target_;
};

class faulty_engine final : public st::storage_engine {
 public:
  explicit faulty_engine(std::shared_ptr<read_faults> faults) : faults_(std::move(faults)) {}

  st::result<std::unique_ptr<st::partition_log>> open_log(const std::string& topic_id, int32_t partition) override {
    auto r = inner_.open_log(topic_id, partition);
    if (!r) return r.error();
    return std::unique_ptr<st::partition_log>(
        std::make_unique<faulty_log>(std::move(r.value()), faults_, partition == faults_->partition));
  }
  st::status drop_log(const std::string& topic_id, int32_t partition) override {
    return inner_.drop_log(topic_id, partition);
  }
  const char* name() const override { return "faulty-memory"; }
  st::metadata_store& metadata() override { return inner_.metadata(); }

 private:
  st::memory_engine inner_;
  std::shared_ptr<read_faults> faults_;
};

// ------------------------------------------------------------------------------- requests

records one_batch(int n, int64_t timestamp) {
  std::vector<rec::record_in> rs;
  for (int i = 0; i < n; ++i) {
    rec::record_in r;
    r.key = "k" + std::to_string(i);
    r.value = "v" + std::to_string(i);
    r.timestamp = timestamp + i;
    rs.push_back(std::move(r));
  }
  auto b = rec::build_batch(rs, rec::codec::none);
  EXPECT_FALSE(b.empty());
  return records{false, {mk::shared_chunk::adopt(std::move(b))}};
}

fetch_request fetch_req(const std::string& topic, const std::vector<int32_t>& partitions, int32_t max_wait_ms,
                        int32_t min_bytes) {
  fetch_request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  for (int32_t p : partitions) {
    auto& fp = t.partitions.emplace_back();
    fp.partition = p;
    fp.fetch_offset = 0;
    fp.partition_max_bytes = 1 << 20;
  }
  return req;
}

list_offsets_request list_offsets_req(const std::string& topic, int32_t partition, int64_t timestamp) {
  list_offsets_request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.partitions.push_back({partition, -1, timestamp, 1, {}});
  return req;
}

// --------------------------------------------------------------------------------- fixture

class StorageErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { minikafka::set_log_level("error"); }

  void SetUp() override {
    mk::broker_config cfg;
    cfg.port = 0;
    cfg.admin_port = 0;
    srv_ = std::make_unique<mk::server>(cfg, std::make_unique<faulty_engine>(faults_));
    srv_->start();
    const auto created = srv_->call([&] {
      mk::cluster::create_spec spec;
      spec.name = "t";
      spec.partitions = 2;
      return srv_->services().topics.create(spec);
    });
    ASSERT_FALSE(created) << created.message;
    // Batches written before the disk "fails": offsets 0-2 at timestamps 1000-1002 on both.
    auto c = connect();
    for (int32_t p : {0, 1}) {
      produce_request req;
      req.acks = -1;
      req.timeout_ms = 5000;
      auto& t = req.topic_data.emplace_back();
      t.name = "t";
      auto& pd = t.partition_data.emplace_back();
      pd.index = p;
      pd.records_ = one_batch(3, 1000);
      auto resp = c.call(req, 7);
      ASSERT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, NONE);
    }
  }

  void TearDown() override { srv_->stop(); }

  // A client whose every wait ends well before the max_wait_ms of the fetches below, so a
  // fetch parked instead of answered fails the test.
  client connect() {
    client c(srv_->port());
    c.set_timeout(5s);
    return c;
  }

  std::shared_ptr<read_faults> faults_ = std::make_shared<read_faults>();
  std::unique_ptr<mk::server> srv_;
};

// ------------------------------------------------------------------------------------ tests

TEST_F(StorageErrors, FetchAnswersStorageErrorAtOnceAndServesTheOtherPartitions) {
  faults_->armed = true;
  auto c = connect();
  for (int16_t v : {4, 11, 12}) {
    SCOPED_TRACE("Fetch v" + std::to_string(v));
    // min_bytes far above what partition 1 holds and a 60 s max_wait: only the error can make the
    // broker answer within the client's 5 s.
    auto resp = c.call(fetch_req("t", {0, 1}, 60'000, 1 << 20), v);
    ASSERT_EQ(resp.responses.size(), 1u);
    const auto& parts = resp.responses[0].partitions;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].partition_index, 0);
    EXPECT_EQ(parts[0].error_code, KAFKA_STORAGE_ERROR);
    EXPECT_EQ(parts[0].high_watermark, -1);
    size_t failed_bytes = 0;
    for (const auto& ch : parts[0].records_.chunks) failed_bytes += ch.size;
    EXPECT_EQ(failed_bytes, 0u);
    EXPECT_EQ(parts[1].partition_index, 1);
    EXPECT_EQ(parts[1].error_code, NONE);
    EXPECT_EQ(parts[1].high_watermark, 3);
    size_t bytes = 0;
    for (const auto& ch : parts[1].records_.chunks) bytes += ch.size;
    EXPECT_GT(bytes, 0u) << "partition 1 still serves its records";

    // Partition 0 alone, the usual consumer case: long poll for one byte.
    auto alone = c.call(fetch_req("t", {0}, 60'000, 1), v);
    EXPECT_EQ(alone.responses.at(0).partitions.at(0).error_code, KAFKA_STORAGE_ERROR);
  }

  // Other connections are unaffected: produce to and fetch from partition 1.
  auto other = connect();
  produce_request req;
  req.acks = -1;
  req.timeout_ms = 5000;
  auto& t = req.topic_data.emplace_back();
  t.name = "t";
  auto& pd = t.partition_data.emplace_back();
  pd.index = 1;
  pd.records_ = one_batch(2, 2000);
  auto produced = other.call(req, 7);
  EXPECT_EQ(produced.responses.at(0).partition_responses.at(0).error_code, NONE);
  EXPECT_EQ(produced.responses.at(0).partition_responses.at(0).base_offset, 3);
  auto f1 = other.call(fetch_req("t", {1}, 0, 0), 12);
  EXPECT_EQ(f1.responses.at(0).partitions.at(0).error_code, NONE);
  EXPECT_EQ(f1.responses.at(0).partitions.at(0).high_watermark, 5);

  // Storage recovers: partition 0 reads again on the same connection.
  faults_->armed = false;
  auto again = c.call(fetch_req("t", {0}, 0, 0), 12);
  const auto& p0 = again.responses.at(0).partitions.at(0);
  EXPECT_EQ(p0.error_code, NONE);
  EXPECT_EQ(p0.high_watermark, 3);
  EXPECT_FALSE(p0.records_.chunks.empty());
}

TEST_F(StorageErrors, ListOffsetsAnswersStorageErrorForLookupsThatRead) {
  faults_->armed = true;
  auto c = connect();
  for (int16_t v : {1, 4, 7, 9}) {
    SCOPED_TRACE("ListOffsets v" + std::to_string(v));
    // By time: needs the batch's records.
    auto r0 = c.call(list_offsets_req("t", 0, 1001), v);
    EXPECT_EQ(r0.topics.at(0).partitions.at(0).error_code, KAFKA_STORAGE_ERROR);
    auto r1 = c.call(list_offsets_req("t", 1, 1001), v);
    EXPECT_EQ(r1.topics.at(0).partitions.at(0).error_code, NONE);
    EXPECT_EQ(r1.topics.at(0).partitions.at(0).offset, 1);
    // Earliest and latest are kept in memory: they still answer.
    auto earliest = c.call(list_offsets_req("t", 0, -2), v);
    EXPECT_EQ(earliest.topics.at(0).partitions.at(0).error_code, NONE);
    EXPECT_EQ(earliest.topics.at(0).partitions.at(0).offset, 0);
    auto latest = c.call(list_offsets_req("t", 0, -1), v);
    EXPECT_EQ(latest.topics.at(0).partitions.at(0).error_code, NONE);
    EXPECT_EQ(latest.topics.at(0).partitions.at(0).offset, 3);
  }
  // KIP-734 max timestamp (v7+) reads the batch too.
  auto max = c.call(list_offsets_req("t", 0, -3), 7);
  EXPECT_EQ(max.topics.at(0).partitions.at(0).error_code, KAFKA_STORAGE_ERROR);
  auto max1 = c.call(list_offsets_req("t", 1, -3), 7);
  EXPECT_EQ(max1.topics.at(0).partitions.at(0).error_code, NONE);
  EXPECT_EQ(max1.topics.at(0).partitions.at(0).offset, 2);

  faults_->armed = false;
  auto back = c.call(list_offsets_req("t", 0, 1001), 7);
  EXPECT_EQ(back.topics.at(0).partitions.at(0).error_code, NONE);
  EXPECT_EQ(back.topics.at(0).partitions.at(0).offset, 1);
}

TEST_F(StorageErrors, AdminRoutesAnswer503KafkaStorageError) {
  faults_->armed = true;
  const auto admin = [&](std::string method, std::string path, std::string body = {}) {
    return mk::test::http_call(srv_->admin_port(), method, path, body);
  };
  auto records0 = admin("GET", "/v1/topics/t/partitions/0/records");
  EXPECT_EQ(records0.status, 503) << records0.body;
  EXPECT_NE(records0.body.find("\"error\":\"KAFKA_STORAGE_ERROR\""), std::string::npos) << records0.body;
  auto records1 = admin("GET", "/v1/topics/t/partitions/1/records");
  EXPECT_EQ(records1.status, 200) << records1.body;

  auto reset = admin("POST", "/v1/groups/g/offsets",
                     R"({"topic": "t", "partitions": [0], "to": "timestamp", "timestamp": 1001})");
  EXPECT_EQ(reset.status, 503) << reset.body;
  EXPECT_NE(reset.body.find("\"error\":\"KAFKA_STORAGE_ERROR\""), std::string::npos) << reset.body;
}

}  // namespace
