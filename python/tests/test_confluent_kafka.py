"""confluent-kafka (librdkafka) against the fixtures: produce, a consumer group, lag."""

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def test_produce_consume_commit_and_lag(kafka_broker):
    kafka_broker.create_topic("payments", 3)
    p = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for i in range(30):
        p.produce("payments", key=f"k{i % 5}", value=f"v{i}")
    assert p.flush(10) == 0
    assert sum(kafka_broker.end_offsets("payments").values()) == 30

    c = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers, "group.id": "billing",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.subscribe(["payments"])
        got = []
        for _ in range(200):
            m = c.poll(0.1)
            if m is not None and m.error() is None:
                got.append(m.value())
            if len(got) == 30:
                break
        assert sorted(got) == sorted(f"v{i}".encode() for i in range(30))
        c.commit(asynchronous=False)
        assert kafka_broker.total_lag("billing") == 0
        group = kafka_broker.group("billing")
        assert group["state"] == "Stable" and len(group["members"]) == 1
    finally:
        c.close()
    # Ten more on the key "k0" (one partition): the group is ten behind there.
    for i in range(10):
        p.produce("payments", key="k0", value=f"late{i}")
    assert p.flush(10) == 0
    assert kafka_broker.total_lag("billing") == 10
    assert sorted(x.lag for x in kafka_broker.lag("billing"))[-1] == 10


def test_admin_client_sees_topics_created_by_the_fixture(fresh_kafka_broker):
    fresh_kafka_broker.create_topic("a", 2)
    admin = AdminClient({"bootstrap.servers": fresh_kafka_broker.bootstrap_servers})
    admin.create_topics([NewTopic("b", 3, 1)])["b"].result(10)
    assert set(admin.list_topics(timeout=10).topics) >= {"a", "b"}
    assert fresh_kafka_broker.topics() == ["a", "b"]
