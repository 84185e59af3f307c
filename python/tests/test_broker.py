"""minikafka.Broker in both modes (in-process library and binary subprocess) and the fixtures."""

import json
import urllib.request

import pytest

import minikafka

MODES = ["library", "process"]


@pytest.fixture(params=MODES)
def broker(request, pytestconfig):
    lib = pytestconfig.getoption("--minikafka-lib")
    binary = pytestconfig.getoption("--minikafka-binary")
    if request.param == "library" and not minikafka.find_library(lib):
        pytest.skip("libminikafka.so.1 not found")
    if request.param == "process" and not minikafka.find_binary(binary):
        pytest.skip("minikafka binary not found")
    with minikafka.Broker(partitions=2, mode=request.param, lib=lib, binary=binary) as b:
        yield b


def test_starts_on_ephemeral_ports_with_admin_api(broker):
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert broker.admin_url.startswith("http://127.0.0.1:")
    assert broker.mode in MODES
    # The admin URL serves HTTP whatever the mode.
    with urllib.request.urlopen(broker.admin_url + "/v1/cluster", timeout=10) as r:
        assert json.load(r)["listeners"][0]["port"] == int(port)


def test_topics_create_list_delete_and_errors(broker):
    broker.create_topic("orders", 3, {"retention.ms": 60000})
    broker.create_topic("events")
    assert len(broker.end_offsets("events")) == 2  # Broker(partitions=2)
    assert broker.topics() == ["events", "orders"]
    assert broker.end_offsets("orders") == {0: 0, 1: 0, 2: 0}
    with pytest.raises(minikafka.MinikafkaError) as e:
        broker.create_topic("orders")
    assert (e.value.code, e.value.name) == (36, "TOPIC_ALREADY_EXISTS")
    broker.delete_topic("orders")
    assert broker.topics() == ["events"]
    with pytest.raises(minikafka.MinikafkaError) as e:
        broker.delete_topic("orders")
    assert e.value.name == "UNKNOWN_TOPIC_OR_PARTITION"
    with pytest.raises(minikafka.MinikafkaError):
        broker.end_offsets("orders")


def test_produce_over_admin_api_moves_end_offsets(broker):
    broker.create_topic("t", 1)
    broker.produce("t", [{"key": "k", "value": "v1"}, {"key": "k", "value": "v2"}])
    assert broker.end_offsets("t") == {0: 2}
    records = broker.records("t", 0, offset=0, limit=10)
    assert [r["value"] for r in records["records"]] == ["v1", "v2"]


def test_generic_request_and_route_probe(broker):
    assert broker.request("GET", "/v1/topics") == []
    status, body = broker.request("GET", "/v1/no-such-route", check=False)
    assert status == 404 and body["error"] == "not_found"
    with pytest.raises(minikafka.AdminError) as e:
        broker.request("GET", "/v1/groups/nobody")
    assert e.value.status == 404 and e.value.name == "GROUP_ID_NOT_FOUND"
    assert broker.has_route("GET", "/v1/topics")
    assert not broker.has_route("GET", "/v1/no-such-route")
    assert "minikafka" in broker.request("GET", "/metrics") or broker.request("GET", "/metrics")


def test_lag_of_unknown_group_is_empty(broker):
    assert broker.lag("nobody") == []
    assert broker.total_lag("nobody") == 0


def test_options_by_flag_name(pytestconfig):
    lib = pytestconfig.getoption("--minikafka-lib")
    if not minikafka.find_library(lib):
        pytest.skip("libminikafka.so.1 not found")
    with minikafka.Broker(mode="library", lib=lib, auto_create_topics=False,
                          options={"group-initial-rebalance-delay-ms": 0, "admin-port": -1}) as b:
        assert b.admin_url == ""
        assert b.request("GET", "/v1/topics") == []  # in-process, no HTTP listener needed
    with pytest.raises(minikafka.MinikafkaError) as e:
        minikafka.Broker(mode="library", lib=lib, no_such_flag=1).start()
    assert e.value.name == "INVALID_ARGUMENT" and "no-such-flag" in str(e.value)


@pytest.fixture(params=MODES)
def broker_mode(request, pytestconfig):
    if request.param == "library" and not minikafka.find_library(pytestconfig.getoption("--minikafka-lib")):
        pytest.skip("libminikafka.so.1 not found")
    if request.param == "process" and not minikafka.find_binary(pytestconfig.getoption("--minikafka-binary")):
        pytest.skip("minikafka binary not found")
    return request.param


def test_cluster_clock_trace_and_emulation_options(broker_mode, pytestconfig):
    # The flags of the cluster simulation and the control plane are options in both modes.
    with minikafka.Broker(mode=broker_mode, lib=pytestconfig.getoption("--minikafka-lib"),
                          binary=pytestconfig.getoption("--minikafka-binary"), brokers=3,
                          clock="manual", trace_capacity=0, emulate_kafka_version="2.0") as b:
        assert len(b.bootstrap_servers.split(",")) == 3
        assert [x["id"] for x in b.request("GET", "/v1/cluster")["brokers"]] == [1, 2, 3]
        before = b.request("GET", "/v1/control/clock")
        assert before["mode"] == "manual"
        b.request("POST", "/v1/control/clock/advance", {"ms": 5000})
        assert b.request("GET", "/v1/control/clock")["steady_ms"] == before["steady_ms"] + 5000
        assert [v["kafka_version"] for v in b.request("GET", "/v1/control/api-versions")] == ["2.0"] * 3


def test_stop_is_idempotent_and_methods_then_fail():
    b = minikafka.Broker().start()
    b.stop()
    b.stop()
    with pytest.raises(minikafka.MinikafkaError):
        b.topics()


def test_kafka_broker_fixture_first(kafka_broker):
    kafka_broker.create_topic("left-behind")
    assert "left-behind" in kafka_broker.topics()


def test_kafka_broker_fixture_is_clean_again(kafka_broker):
    # Whether the session broker was reset or this is a fresh one, the last test's topic is gone.
    assert "left-behind" not in kafka_broker.topics()


def test_fresh_kafka_broker_is_its_own(fresh_kafka_broker, kafka_broker):
    assert fresh_kafka_broker.bootstrap_servers != kafka_broker.bootstrap_servers
    assert fresh_kafka_broker.topics() == []


def test_make_kafka_broker_with_options(make_kafka_broker):
    b = make_kafka_broker(partitions=4)
    assert b.options["default-partitions"] == "4"
    b.create_topic("default-sized")
    assert len(b.end_offsets("default-sized")) == 4
