"""What a fresh broker costs: start + stop of one broker the way fresh_kafka_broker makes it.

Reported, not asserted (tests never assert timings): run with -s to see the line, or read the
`broker_cost_ms` property in a JUnit report.
"""

import statistics
import time


def test_fresh_broker_cost(make_kafka_broker_session, record_property):
    samples = []
    for _ in range(100):
        t0 = time.perf_counter()
        b = make_kafka_broker_session()
        b.stop()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    median, p90 = statistics.median(samples), samples[89]
    b = make_kafka_broker_session()
    mode = b.mode
    b.stop()
    record_property("broker_cost_ms", round(median, 3))
    print(f"\nfresh {mode} broker start+stop: median {median:.3f} ms, p90 {p90:.3f} ms (100 brokers)")
