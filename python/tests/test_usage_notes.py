"""The kafka-python usage notes (connect, list topics, JSON keys and values, the same key to
the same partition, consumer groups from earliest or latest, manual and automatic commits, and
lag = end_offsets - committed), each step a test against the `kafka_broker` fixture.

Copy this file into your project with `pip install minikafka` (the pytest plugin) and
kafka-python; nothing else is needed: no ZooKeeper, no Kafka, no docker.
"""

import json

from kafka import KafkaClient, KafkaConsumer, KafkaProducer, TopicPartition

TOPIC = "liussj_test"


def json_producer(bootstrap):
    # The notes' producer: keys and values serialised as JSON.
    return KafkaProducer(bootstrap_servers=[bootstrap],
                         key_serializer=lambda k: json.dumps(k).encode(),
                         value_serializer=lambda v: json.dumps(v).encode())


def json_consumer(bootstrap, group_id, **kw):
    return KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=group_id,
                         key_deserializer=lambda k: json.loads(k.decode()),
                         value_deserializer=lambda v: json.loads(v.decode()),
                         consumer_timeout_ms=10000, **kw)


def remaining(consumer, topic):
    """The notes' "kafka left": sum(end_offsets) - sum(committed) over the topic's partitions."""
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    toff = consumer.end_offsets(partitions)
    coff = [consumer.committed(tp) for tp in partitions]
    return sum(toff.values()) - sum(c for c in coff if c is not None)


def test_connect_and_list_topics(kafka_broker):
    kafka_broker.create_topic(TOPIC, partitions=3)
    client = KafkaClient(bootstrap_servers=[kafka_broker.bootstrap_servers], client_id="test")
    client.close()
    consumer = KafkaConsumer(bootstrap_servers=[kafka_broker.bootstrap_servers], client_id="test")
    try:
        assert TOPIC in consumer.topics()
        assert consumer.partitions_for_topic(TOPIC) == {0, 1, 2}
    finally:
        consumer.close()


def test_same_key_goes_to_the_same_partition(kafka_broker):
    kafka_broker.create_topic(TOPIC, partitions=3)
    producer = json_producer(kafka_broker.bootstrap_servers)
    try:
        sent = [producer.send(TOPIC, key="count_num", value=str(i)).get(timeout=10) for i in range(20)]
        assert len({m.partition for m in sent}) == 1
        # Different keys spread over the partitions; each key still sticks to one.
        by_key = {}
        for i in range(60):
            m = producer.send(TOPIC, key=f"user-{i % 12}", value=i).get(timeout=10)
            by_key.setdefault(f"user-{i % 12}", set()).add(m.partition)
        assert all(len(parts) == 1 for parts in by_key.values())
        assert len({p for parts in by_key.values() for p in parts}) > 1
    finally:
        producer.close()
    ends = kafka_broker.end_offsets(TOPIC)
    assert sum(ends.values()) == 80


def test_group_from_earliest_with_manual_commit_and_lag(kafka_broker):
    kafka_broker.create_topic(TOPIC, partitions=3)
    producer = json_producer(kafka_broker.bootstrap_servers)
    for i in range(10):
        producer.send(TOPIC, key="count_num", value=str(i))
    producer.flush()

    consumer = json_consumer(kafka_broker.bootstrap_servers, "test", auto_offset_reset="earliest",
                             enable_auto_commit=False)
    try:
        received = []
        for message in consumer:
            received.append((message.key, message.value))
            consumer.commit()  # the notes' manual commit, after each message
            if len(received) == 10:
                break
        assert received == [("count_num", str(i)) for i in range(10)]  # one key: one partition, in order
        assert remaining(consumer, TOPIC) == 0
        assert kafka_broker.total_lag("test") == 0

        # Five more arrive: the backlog is five, seen the same by the client and the broker.
        for i in range(10, 15):
            producer.send(TOPIC, key="count_num", value=str(i))
        producer.flush()
        assert remaining(consumer, TOPIC) == 5
        assert kafka_broker.total_lag("test") == 5
        [lag] = [p for p in kafka_broker.lag("test") if p.end_offset > 0]
        assert (lag.topic, lag.committed, lag.end_offset, lag.lag) == (TOPIC, 10, 15, 5)
    finally:
        consumer.close()
        producer.close()


def test_group_from_latest_sees_only_new_messages(kafka_broker, wait):
    kafka_broker.create_topic(TOPIC, partitions=3)
    producer = json_producer(kafka_broker.bootstrap_servers)
    for i in range(5):
        producer.send(TOPIC, key="old", value=i)
    producer.flush()

    consumer = json_consumer(kafka_broker.bootstrap_servers, "latest-group", auto_offset_reset="latest")
    try:
        # Join the group and resolve the starting positions (the log ends) before producing.
        wait(lambda: consumer.poll(timeout_ms=100) == {} and consumer.assignment(), message="assignment")
        for tp in consumer.assignment():
            consumer.position(tp)
        for i in range(3):
            producer.send(TOPIC, key="new", value=i)
        producer.flush()
        received = []
        for message in consumer:
            received.append((message.key, message.value))
            if len(received) == 3:
                break
        assert received == [("new", 0), ("new", 1), ("new", 2)]
    finally:
        consumer.close()
        producer.close()


def test_auto_commit_brings_the_lag_to_zero(kafka_broker, wait):
    kafka_broker.create_topic(TOPIC, partitions=3)
    producer = json_producer(kafka_broker.bootstrap_servers)
    for i in range(30):
        producer.send(TOPIC, key=f"k{i}", value=i)
    producer.flush()

    consumer = json_consumer(kafka_broker.bootstrap_servers, "auto", auto_offset_reset="earliest",
                             enable_auto_commit=True, auto_commit_interval_ms=100)
    try:
        values = set()
        for message in consumer:
            values.add(message.value)
            if len(values) == 30:
                break
        assert values == set(range(30))
        # The next auto-commit (every 100 ms, from poll) covers everything consumed.
        wait(lambda: consumer.poll(timeout_ms=50) == {} and remaining(consumer, TOPIC) == 0,
             message="auto-commit of every partition")
        # The broker's view (over the partitions the group committed to) agrees.
        assert kafka_broker.total_lag("auto") == 0
        ends = kafka_broker.end_offsets(TOPIC)
        assert {p.partition: p.committed for p in kafka_broker.lag("auto") if ends[p.partition]} == \
            {p: end for p, end in ends.items() if end}
    finally:
        consumer.close()
        producer.close()


def test_two_groups_each_get_every_message(kafka_broker):
    # The notes: consumers of *different* groups reading the same partition see the same messages.
    kafka_broker.create_topic(TOPIC, partitions=1)
    producer = json_producer(kafka_broker.bootstrap_servers)
    for i in range(5):
        producer.send(TOPIC, key="k", value=i)
    producer.close()
    for group in ("group-a", "group-b"):
        consumer = json_consumer(kafka_broker.bootstrap_servers, group, auto_offset_reset="earliest")
        try:
            got = []
            for message in consumer:
                got.append(message.value)
                if len(got) == 5:
                    break
            assert got == [0, 1, 2, 3, 4]
        finally:
            consumer.close()
