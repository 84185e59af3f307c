"""Broker configuration sources: flags, MINIKAFKA_* environment variables and --config files.

Each test starts the real binary and checks the effect through a real client (kafka-python's
metadata for auto-created topics) or the admin API's /v1/cluster.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkfixture import broker_binary, expected_brokers  # noqa: E402

from kafka import KafkaProducer  # noqa: E402


class Started:
    """Starts `minikafka --port 0 ...` with the given environment; reads the banner: one "kafka"
    line per broker (MINIKAFKA_BROKERS may ask for several), then the admin line."""

    def __init__(self, args=(), env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([broker_binary(), "--port", "0", "--host", "127.0.0.1", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
        first = self.proc.stdout.readline().decode().split()
        for _ in range(expected_brokers(args, full_env) - 1):
            self.proc.stdout.readline()
        second = self.proc.stdout.readline().decode().split()
        if len(first) != 2 or first[0] != "kafka":
            self.proc.kill()
            raise AssertionError("no kafka banner: %r %s" % (first, self.proc.stderr.read().decode()))
        self.bootstrap = first[1]
        self.admin = second[1] if len(second) == 2 and second[0] == "admin" else None

    def stop(self):
        self.proc.terminate()
        self.assert_code = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def partitions_of_auto_created(bootstrap, topic):
    # A producer asking for the topic's partitions sends Metadata for it, which auto-creates it.
    producer = KafkaProducer(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=5000, max_block_ms=10000)
    try:
        return len(producer.partitions_for(topic))
    finally:
        producer.close()


class ConfigTest(unittest.TestCase):
    def test_environment_variable_sets_a_flag(self):
        b = Started(env={"MINIKAFKA_DEFAULT_PARTITIONS": "3"})
        try:
            self.assertEqual(partitions_of_auto_created(b.bootstrap, "env-topic"), 3)
        finally:
            b.stop()
        self.assertEqual(b.assert_code, 0)

    def test_flag_wins_over_environment(self):
        b = Started(args=["--default-partitions", "2"], env={"MINIKAFKA_DEFAULT_PARTITIONS": "5"})
        try:
            self.assertEqual(partitions_of_auto_created(b.bootstrap, "flag-topic"), 2)
        finally:
            b.stop()

    def test_config_file_sets_flags(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('default-partitions = 4\nnode-id = 7\ncluster-id = "from-file"\n')
            path = f.name
        try:
            b = Started(args=["--config", path])
            try:
                self.assertEqual(partitions_of_auto_created(b.bootstrap, "file-topic"), 4)
                with urllib.request.urlopen(b.admin + "/v1/cluster", timeout=5) as r:
                    cluster = json.load(r)
                self.assertEqual(cluster["broker_id"], 7)
                self.assertEqual(cluster["cluster_id"], "from-file")
            finally:
                b.stop()
        finally:
            os.unlink(path)

    def test_bad_value_in_environment_is_refused_with_a_message(self):
        env = dict(os.environ, MINIKAFKA_DEFAULT_PARTITIONS="zero")
        r = subprocess.run([broker_binary(), "--port", "0"], env=env, capture_output=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"default-partitions", r.stderr + r.stdout)

    def test_help_documents_environment_variables(self):
        r = subprocess.run([broker_binary(), "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        for env in (b"MINIKAFKA_PORT", b"MINIKAFKA_ADVERTISED_HOST", b"MINIKAFKA_STORAGE", b"MINIKAFKA_ADMIN_PORT"):
            self.assertIn(env, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
