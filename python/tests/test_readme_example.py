"""The README's Python example, verbatim, so it stays true."""

import json

from kafka import KafkaConsumer, KafkaProducer


def test_orders(kafka_broker):                     # the fixture: a clean broker for this test
    kafka_broker.create_topic("orders", partitions=3)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap_servers,
                             value_serializer=lambda v: json.dumps(v).encode())
    producer.send("orders", key=b"user-1", value={"n": 1}).get(timeout=10)
    consumer = KafkaConsumer("orders", bootstrap_servers=kafka_broker.bootstrap_servers,
                             group_id="billing", auto_offset_reset="earliest", enable_auto_commit=False)
    message = next(iter(consumer))
    consumer.commit()
    assert json.loads(message.value) == {"n": 1}
    assert kafka_broker.total_lag("billing") == 0  # end offsets - committed, from the broker
    consumer.close()
    producer.close()
