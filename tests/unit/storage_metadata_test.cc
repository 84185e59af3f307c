// metadata_store: the null store's basics and the RocksDB store (topics and group offsets, put,
// replace, delete, surviving a restart of the engine).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "storage/memory/memory_engine.h"
#include "storage/metadata_store.h"
#include "storage/partition_log.h"
#if MINIKAFKA_HAVE_ROCKSDB
#include "storage/rocksdb/rocksdb_engine.h"
#endif

namespace mk::storage {
namespace {

namespace fs = std::filesystem;

topic_record topic(const std::string& name, const std::string& id, int32_t partitions,
                   std::map<std::string, std::string> configs = {}) {
  return topic_record{name, id, partitions, 1, std::move(configs)};
}

offset_record offset(const std::string& group, const std::string& topic, int32_t partition,
                     int64_t off, const std::string& metadata = "") {
  return offset_record{group, topic, partition, off, 5, metadata, 1'700'000'000'000};
}

// ---------------------------------------------------------------------------------------------
// Null store (memory backend).

TEST(NullMetadataStore, AcceptsEverythingAndKeepsNothing) {
  null_metadata_store s;
  EXPECT_TRUE(s.put_topic(topic("a", std::string(32, 'a'), 3)).ok());
  EXPECT_TRUE(s.put_offsets({offset("g", "a", 0, 10)}).ok());
  EXPECT_TRUE(s.delete_topic(std::string(32, 'a')).ok());
  EXPECT_TRUE(s.delete_offsets("g", "", -1).ok());
  auto t = s.load_topics();
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().empty());
  auto o = s.load_offsets();
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o.value().empty());
}

TEST(NullMetadataStore, IsTheMemoryEnginesStore) {
  memory_engine engine;
  EXPECT_TRUE(engine.metadata().put_topic(topic("a", std::string(32, 'a'), 1)).ok());
  auto t = engine.metadata().load_topics();
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().empty());
}

#if MINIKAFKA_HAVE_ROCKSDB
// ---------------------------------------------------------------------------------------------
// RocksDB store.

const std::string kIdA = "0123456789abcdef0123456789abcdef";
const std::string kIdB = "fedcba9876543210fedcba9876543210";
const std::string kIdC = "00000000000000000000000000000001";

class RocksdbMetadataTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minikafka-meta-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    reopen();
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // A broker restart: close the engine and open a new one over the same directory.
  void reopen() {
    engine_.reset();
    std::string why;
    auto r = open_rocksdb_engine(dir_, rocksdb_options{}, &why);
    ASSERT_TRUE(r.ok()) << why;
    engine_ = std::move(r.value());
  }
  metadata_store& store() { return engine_->metadata(); }

  std::vector<topic_record> topics() {
    auto r = store().load_topics();
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::vector<topic_record>{};
  }
  std::vector<offset_record> offsets() {
    auto r = store().load_offsets();
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::vector<offset_record>{};
  }
  // "group/topic/partition=offset" for each stored offset, in load order.
  std::vector<std::string> offset_names() {
    std::vector<std::string> out;
    for (const auto& o : offsets()) {
      out.push_back(o.group + "/" + o.topic + "/" + std::to_string(o.partition) + "=" +
                    std::to_string(o.offset));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<rocksdb_engine> engine_;
};

TEST_F(RocksdbMetadataTest, EmptyStoreLoadsNothing) {
  EXPECT_TRUE(topics().empty());
  EXPECT_TRUE(offsets().empty());
}

TEST_F(RocksdbMetadataTest, PutTopicsLoadsThemInIdOrderWithEveryField) {
  const auto b = topic("beta", kIdB, 3, {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}});
  auto a = topic("alpha", kIdA, 12);
  a.replication_factor = 3;
  ASSERT_TRUE(store().put_topic(b).ok());
  ASSERT_TRUE(store().put_topic(a).ok());
  EXPECT_EQ(topics(), (std::vector<topic_record>{a, b}));
}

TEST_F(RocksdbMetadataTest, PutTopicReplacesTheRecordWithTheSameId) {
  ASSERT_TRUE(store().put_topic(topic("alpha", kIdA, 1, {{"a", "1"}})).ok());
  const auto renamed = topic("alpha2", kIdA, 4, {{"b", "2"}});
  ASSERT_TRUE(store().put_topic(renamed).ok());
  EXPECT_EQ(topics(), (std::vector<topic_record>{renamed}));
}

TEST_F(RocksdbMetadataTest, DeleteTopicRemovesOnlyThatTopic) {
  ASSERT_TRUE(store().put_topic(topic("alpha", kIdA, 1)).ok());
  ASSERT_TRUE(store().put_topic(topic("beta", kIdB, 1)).ok());
  ASSERT_TRUE(store().delete_topic(kIdA).ok());
  ASSERT_TRUE(store().delete_topic(kIdC).ok());  // absent: still ok
  const auto t = topics();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].name, "beta");
}

TEST_F(RocksdbMetadataTest, TopicsSurviveReopen) {
  const auto a = topic("alpha", kIdA, 2, {{"max.message.bytes", "1048588"}});
  const auto b = topic("beta", kIdB, 1);
  ASSERT_TRUE(store().put_topic(a).ok());
  ASSERT_TRUE(store().put_topic(b).ok());
  ASSERT_TRUE(store().put_topic(topic("gone", kIdC, 1)).ok());
  ASSERT_TRUE(store().delete_topic(kIdC).ok());
  reopen();
  EXPECT_EQ(topics(), (std::vector<topic_record>{a, b}));
}

TEST_F(RocksdbMetadataTest, PutOffsetsLoadsEveryFieldInKeyOrder) {
  auto o1 = offset("g1", "t", 1, 100, "meta");
  o1.leader_epoch = -1;
  o1.commit_timestamp = -1;
  const auto o0 = offset("g1", "t", 0, 42);
  const auto o2 = offset("g0", "u", 7, 9, std::string("bin\0ary", 7));
  ASSERT_TRUE(store().put_offsets({o1, o0, o2}).ok());
  EXPECT_EQ(offsets(), (std::vector<offset_record>{o2, o0, o1}));
  EXPECT_TRUE(store().put_offsets({}).ok());
}

TEST_F(RocksdbMetadataTest, PutOffsetsReplacesSameGroupTopicPartition) {
  ASSERT_TRUE(store().put_offsets({offset("g", "t", 0, 1), offset("g", "t", 1, 1)}).ok());
  ASSERT_TRUE(store().put_offsets({offset("g", "t", 0, 50, "new")}).ok());
  const auto o = offsets();
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0], offset("g", "t", 0, 50, "new"));
  EXPECT_EQ(o[1].offset, 1);
}

class RocksdbMetadataDeleteTest : public RocksdbMetadataTest {
 protected:
  void SetUp() override {
    RocksdbMetadataTest::SetUp();
    // Names chosen so that one is a prefix of another: deletions must not spill over.
    ASSERT_TRUE(store()
                    .put_offsets({offset("g", "t", 0, 1), offset("g", "t", 1, 2),
                                  offset("g", "tt", 0, 3), offset("gg", "t", 0, 4),
                                  offset("gg", "u", 0, 5), offset("", "t", 0, 6)})
                    .ok());
  }
};

TEST_F(RocksdbMetadataDeleteTest, OnePartition) {
  ASSERT_TRUE(store().delete_offsets("g", "t", 1).ok());
  EXPECT_EQ(offset_names(), (std::vector<std::string>{"/t/0=6", "g/t/0=1", "g/tt/0=3",
                                                      "gg/t/0=4", "gg/u/0=5"}));
}

TEST_F(RocksdbMetadataDeleteTest, EveryPartitionOfATopicInAGroup) {
  ASSERT_TRUE(store().delete_offsets("g", "t", -1).ok());
  EXPECT_EQ(offset_names(),
            (std::vector<std::string>{"/t/0=6", "g/tt/0=3", "gg/t/0=4", "gg/u/0=5"}));
}

TEST_F(RocksdbMetadataDeleteTest, WholeGroup) {
  ASSERT_TRUE(store().delete_offsets("g", "").ok());
  EXPECT_EQ(offset_names(), (std::vector<std::string>{"/t/0=6", "gg/t/0=4", "gg/u/0=5"}));
}

TEST_F(RocksdbMetadataDeleteTest, TopicInEveryGroup) {
  ASSERT_TRUE(store().delete_offsets("", "t").ok());
  EXPECT_EQ(offset_names(), (std::vector<std::string>{"g/tt/0=3", "gg/u/0=5"}));
}

TEST_F(RocksdbMetadataDeleteTest, OnePartitionOfATopicInEveryGroup) {
  ASSERT_TRUE(store().delete_offsets("", "t", 1).ok());
  EXPECT_EQ(offset_names(), (std::vector<std::string>{"/t/0=6", "g/t/0=1", "g/tt/0=3",
                                                      "gg/t/0=4", "gg/u/0=5"}));
}

TEST_F(RocksdbMetadataDeleteTest, AbsentKeysAreNotAnError) {
  ASSERT_TRUE(store().delete_offsets("nope", "").ok());
  ASSERT_TRUE(store().delete_offsets("", "nope").ok());
  ASSERT_TRUE(store().delete_offsets("g", "t", 99).ok());
  EXPECT_EQ(offsets().size(), 6u);
}

TEST_F(RocksdbMetadataDeleteTest, DeletionsSurviveReopen) {
  ASSERT_TRUE(store().delete_offsets("gg", "").ok());
  ASSERT_TRUE(store().put_offsets({offset("g", "t", 0, 77)}).ok());
  reopen();
  EXPECT_EQ(offset_names(),
            (std::vector<std::string>{"/t/0=6", "g/t/0=77", "g/t/1=2", "g/tt/0=3"}));
}

TEST_F(RocksdbMetadataTest, MetadataAndLogsLiveSideBySide) {
  // Topics, offsets and log data in one database, all back after a restart.
  ASSERT_TRUE(store().put_topic(topic("alpha", kIdA, 1)).ok());
  ASSERT_TRUE(store().put_offsets({offset("g", "alpha", 0, 3)}).ok());
  {
    auto log = engine_->open_log(kIdA, 0);
    ASSERT_TRUE(log.ok());
    std::vector<uint8_t> bytes(100, 7);
    batch_to_append b{0, 4, 0, shared_chunk::adopt(std::move(bytes))};
    ASSERT_TRUE(log.value()->append(std::span(&b, 1)).ok());
  }
  reopen();
  EXPECT_EQ(topics().size(), 1u);
  EXPECT_EQ(offsets().size(), 1u);
  auto log = engine_->open_log(kIdA, 0);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log.value()->end_offset(), 5);
}

TEST_F(RocksdbMetadataTest, ManyOffsetsSurviveReopen) {
  std::vector<offset_record> all;
  for (int g = 0; g < 20; ++g) {
    for (int p = 0; p < 50; ++p) {
      all.push_back(offset("group-" + std::to_string(g), "t", p, g * 1000 + p));
    }
  }
  ASSERT_TRUE(store().put_offsets(all).ok());
  reopen();
  auto loaded = offsets();
  ASSERT_EQ(loaded.size(), all.size());
  const auto key = [](const offset_record& o) { return std::tie(o.group, o.topic, o.partition); };
  std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  std::sort(loaded.begin(), loaded.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  EXPECT_EQ(loaded, all);
}
#endif

}  // namespace
}  // namespace mk::storage
