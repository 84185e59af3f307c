#!/usr/bin/python3
"""Side-by-side load benchmark: minikafka against librdkafka's mock cluster (the anchor).

Starts both brokers as separate processes, runs the same workloads (bench/load/mk_load.cc,
librdkafka) on each, alternating the order every round (A B, B A, ...), and prints a Markdown
table of medians and ratios. Broker CPU is read from /proc/PID/task/*/schedstat around each
workload, so "CPU per message" is the broker's own cost, not the client's.

    /usr/bin/python3 bench/load.py --build build [--rounds 5] [--quick] [--out FILE]

Needs a Release build with the bench targets (mk_load, rdkafka_mock_broker, minikafka). Only
the standard library is used.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

MIB = 1024 * 1024


class Broker:
    """A broker process that printed "kafka HOST:PORT" (and for minikafka "admin URL")."""

    def __init__(self, kind, argv):
        self.kind = kind
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        first = self.proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "kafka":
            raise RuntimeError(f"{kind}: unexpected banner {first!r}")
        self.bootstrap = first[1].split(",")[0]
        self.admin = None
        if kind.startswith("minikafka"):
            line = self.proc.stdout.readline().split()
            if len(line) == 2 and line[0] == "admin":
                self.admin = line[1]

    @property
    def pid(self):
        return self.proc.pid

    def create_topic(self, name, partitions):
        if self.admin:
            body = json.dumps({"name": name, "partitions": partitions}).encode()
            req = urllib.request.Request(self.admin + "/v1/topics", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()
        else:  # the anchor's stdin control channel (it has no CreateTopics)
            self.proc.stdin.write(f"topic {name} {partitions}\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline().strip()
            if not answer.startswith("ok topic"):
                raise RuntimeError(f"mock topic create: {answer}")

    def stored_bytes(self, topic):
        if not self.admin:
            return None
        with urllib.request.urlopen(f"{self.admin}/v1/topics/{topic}", timeout=10) as r:
            info = json.load(r)
        return sum(p["size_bytes"] for p in info["partition_details"])

    def cpu_seconds(self):
        total = 0
        task_dir = f"/proc/{self.pid}/task"
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                pass  # thread ended
        return total / 1e9

    def rss_mib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def run_tool(tool, *args, timeout=600):
    """Runs one mk_load workload; its JSON result plus "client_cpu_s" (the tool's CPU time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"mk_load {args[0]} failed: {out.stderr.strip()}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["client_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return res


def broker_argv(kind, build, data_dir):
    """Command line of a broker of `kind`: minikafka, minikafka-rocksdb, mock, or minikafka-3 /
    mock-3 (three brokers in the process: --brokers 3)."""
    if kind.startswith("mock"):
        argv = [f"{build}/bench/rdkafka_mock_broker"]
    else:
        argv = [f"{build}/broker/minikafka", "--port", "0", "--admin-port", "0", "--log-level", "warn"]
    if kind == "minikafka-rocksdb":
        argv += ["--storage", "rocksdb", "--data-dir", data_dir]
    if kind.endswith("-3"):
        argv += ["--brokers", "3"]
    return argv


def one_round(kind, build, p, results):
    """Runs every workload once against a fresh broker of `kind`; appends to results[kind]."""
    tool = f"{build}/bench/mk_load"
    r = results.setdefault(kind, {})
    add = lambda k, v: r.setdefault(k, []).append(v)
    data_dir = tempfile.mkdtemp(prefix="mk-load-")
    b = Broker(kind, broker_argv(kind, build, data_dir))
    try:
        b.create_topic("p1", 32)
        cpu0 = b.cpu_seconds()
        res = run_tool(tool, "produce", "--bootstrap", b.bootstrap, "--topic", "p1", "--partitions", 32,
                       "--messages", p["messages"], "--size", 100, "--acks", "1")
        add("produce_acks1", res["msgs_per_s"])
        add("cpu_produce_us", (b.cpu_seconds() - cpu0) / p["messages"] * 1e6)
        add("client_cpu_produce_us", res["client_cpu_s"] / p["messages"] * 1e6)
        add("rss_after_mib", b.rss_mib())
        stored = b.stored_bytes("p1")
        if stored:
            add("stored_mib", stored / MIB)

        b.create_topic("p2", 32)
        res = run_tool(tool, "produce", "--bootstrap", b.bootstrap, "--topic", "p2", "--partitions", 32,
                       "--messages", p["messages"], "--size", 100, "--acks", "all")
        add("produce_acksall", res["msgs_per_s"])

        for group in ("fresh-1", "fresh-2"):  # client-bound and noisy: two samples per round
            cpu0 = b.cpu_seconds()
            res = run_tool(tool, "consume", "--bootstrap", b.bootstrap, "--topic", "p1",
                           "--messages", p["messages"], "--group", group)
            add("consume", res["msgs_per_s"])
            add("cpu_consume_us", (b.cpu_seconds() - cpu0) / p["messages"] * 1e6)
            add("client_cpu_consume_us", res["client_cpu_s"] / p["messages"] * 1e6)

        b.create_topic("big", 32)
        cpu0 = b.cpu_seconds()
        res = run_tool(tool, "produce", "--bootstrap", b.bootstrap, "--topic", "big", "--partitions", 32,
                       "--messages", p["big_messages"], "--size", 10240, "--acks", "1")
        add("produce_10k_mbs", res["mb_per_s"])
        add("busy_10k_broker", (b.cpu_seconds() - cpu0) / res["seconds"] * 100)
        add("busy_10k_client", res["client_cpu_s"] / res["seconds"] * 100)

        b.create_topic("rt", 1)
        res = run_tool(tool, "roundtrip", "--bootstrap", b.bootstrap, "--topic", "rt", "--messages", p["roundtrips"])
        add("rt_p50", res["p50_ms"])
        add("rt_p99", res["p99_ms"])
        add("rt_p999", res["p999_ms"])

        b.create_topic("e2e", 4)
        res = run_tool(tool, "e2e", "--bootstrap", b.bootstrap, "--topic", "e2e", "--partitions", 4,
                       "--rate", 1000, "--seconds", p["e2e_seconds"])
        add("e2e_p50", res["p50_ms"])
        add("e2e_p99", res["p99_ms"])

        res = run_tool(tool, "first-message", "--bootstrap", b.bootstrap, "--topic", "rt", "--group", "first")
        add("first_message_ms", res["ms"])
        res = run_tool(tool, "rebalance", "--bootstrap", b.bootstrap, "--topic", "p1", "--group", "rebal")
        add("rebalance_ms", res["ms"])

        # SIGTERM with a producer and a fetching consumer connected.
        hold = subprocess.Popen([tool, "hold", "--bootstrap", b.bootstrap, "--topic", "e2e", "--partitions", "4"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if hold.stdout.readline().strip() != "ready":
            raise RuntimeError("hold client did not get ready")
        t0 = time.perf_counter()
        b.proc.send_signal(signal.SIGTERM)
        os.waitpid(b.pid, 0)  # blocking: Popen.wait(timeout) polls with sleeps of up to 50 ms
        add("sigterm_ms", (time.perf_counter() - t0) * 1000)
        b.proc.returncode = 0
        hold.kill()
        hold.wait()
    finally:
        b.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def produce_only(backend, build, p, results):
    """1M × 100 B acks=1 against minikafka on `backend` (memory or rocksdb without --sync)."""
    data_dir = tempfile.mkdtemp(prefix="mk-load-")
    argv = broker_argv("minikafka-rocksdb" if backend == "rocksdb" else "minikafka", build, data_dir)
    b = Broker("minikafka", argv)
    try:
        b.create_topic("p1", 32)
        res = run_tool(f"{build}/bench/mk_load", "produce", "--bootstrap", b.bootstrap, "--topic", "p1",
                       "--partitions", 32, "--messages", p["messages"], "--size", 100, "--acks", "1")
        results.setdefault("backend-" + backend, {}).setdefault("produce_acks1", []).append(res["msgs_per_s"])
    finally:
        b.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def process_round(kind, build, runs, results):
    tool = f"{build}/bench/mk_load"
    res = run_tool(tool, "startup", "--runs", runs, "--", *broker_argv(kind, build, ""))
    r = results.setdefault(kind, {})
    r.setdefault("startup_ms", []).append(res["startup_ms"])
    r.setdefault("idle_rss_mib", []).append(res["idle_rss_mib"])


# (key, label, unit, target text, target check on (mk, mock, extra))
ROWS = [
    ("produce_acks1", "produce 100 B, 32 partitions, acks=1", "msgs/s", "≥ 1.0× mock", lambda m, a, x: m >= a),
    ("produce_acksall", "produce 100 B, 32 partitions, acks=all", "msgs/s", "≥ 1.0× mock", lambda m, a, x: m >= a),
    ("consume", "consume from earliest, fresh group", "msgs/s", "≥ 1.0× mock", lambda m, a, x: m >= a),
    ("cpu_produce_us", "broker CPU per message, produce acks=1", "µs", "≤ 0.5× mock", lambda m, a, x: m <= 0.5 * a),
    ("cpu_consume_us", "broker CPU per message, consume", "µs", "≤ 0.5× mock", lambda m, a, x: m <= 0.5 * a),
    ("client_cpu_produce_us", "client (librdkafka) CPU per message, produce acks=1", "µs", "—", None),
    ("client_cpu_consume_us", "client (librdkafka) CPU per message, consume", "µs", "—", None),
    ("produce_10k_mbs", "produce 10 KB messages", "MB/s", "≥ 0.5× loopback pump", lambda m, a, x: m >= 0.5 * x["pump"]),
    ("busy_10k_broker", "10 KB produce: broker CPU busy (100 = one core)", "%", "—", None),
    ("busy_10k_client", "10 KB produce: client CPU busy (100 = one core)", "%", "—", None),
    ("rt_p50", "round trip p50 (produce, acks=1)", "ms", "≤ 1.0× mock", lambda m, a, x: m <= a),
    ("rt_p99", "round trip p99", "ms", "≤ 1.0× mock", lambda m, a, x: m <= a),
    ("rt_p999", "round trip p99.9", "ms", "—", None),
    ("e2e_p50", "end-to-end p50, 1000 msg/s, default consumer", "ms", "≤ 2 ms", lambda m, a, x: m <= 2),
    ("e2e_p99", "end-to-end p99", "ms", "—", None),
    ("first_message_ms", "subscribe → first message, new group", "ms", "≤ 50 ms", lambda m, a, x: m <= 50),
    ("rebalance_ms", "second member's rebalance (heartbeat 3000 ms)", "ms", "≤ 3100 ms", lambda m, a, x: m <= 3100),
    ("startup_ms", "startup → first Metadata answer (process)", "ms", "≤ 10 ms", lambda m, a, x: m <= 10),
    ("embedded_ms", "embedded start+stop (in-process)", "ms", "≤ 5 ms", lambda m, a, x: m <= 5),
    ("idle_rss_mib", "idle RSS", "MiB", "≤ 8 MiB", lambda m, a, x: m <= 8),
    ("rss_after_mib", "RSS after 1M × 100 B", "MiB", "≤ 1.25× stored bytes",
     lambda m, a, x: x.get("stored") is not None and m <= 1.25 * x["stored"]),
    ("sigterm_ms", "SIGTERM → exit, clients connected", "ms", "≤ 20 ms", lambda m, a, x: m <= 20),
]


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def median(results, kind, key):
    vals = results.get(kind, {}).get(key)
    return statistics.median(vals) if vals else None


def table(results, rounds):
    mk = lambda k: median(results, "minikafka", k)
    mock = lambda k: median(results, "mock", k)
    extra = {"pump": median(results, "pump", "mb_per_s"), "stored": mk("stored_mib")}
    lines = [f"| figure (median of {rounds} interleaved rounds) | unit | minikafka | mock | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, label, unit, target, check in ROWS:
        m, a = mk(key), mock(key)
        ratio = f"{m / a:.2f}×" if m is not None and a else "—"
        met = "—"
        if check and m is not None:
            try:
                met = "yes" if check(m, a if a is not None else 0, extra) else "**no**"
            except TypeError:
                met = "—"
        lines.append(f"| {label} | {unit} | {fmt(m)} | {fmt(a)} | {ratio} | {target} | {met} |")
    pump = extra["pump"]
    if pump:
        m10 = mk("produce_10k_mbs")
        lines.append(f"| loopback TCP pump, 10 KB writes, 2 processes | MB/s | {fmt(pump)} | | "
                     f"{m10 / pump:.2f}× (minikafka 10 KB / pump) | | |")
    if extra["stored"]:
        lines.append(f"| stored batch bytes after 1M × 100 B (minikafka) | MiB | {fmt(extra['stored'])} | | "
                     f"{mk('rss_after_mib') / extra['stored']:.2f}× (RSS / stored) | | |")
    # Three brokers in one process (minikafka --brokers 3, the mock's cluster of 3), next to one.
    for key, label, unit, limit in (("startup_ms", "startup → first Metadata answer, 3 brokers (process)", "ms", 10),
                                    ("idle_rss_mib", "idle RSS, 3 brokers", "MiB", 8)):
        m3, a3, m1 = median(results, "minikafka-3", key), median(results, "mock-3", key), mk(key)
        if m3 is None:
            continue
        ratio = f"{m3 / a3:.2f}×" if a3 else "—"
        lines.append(f"| {label} | {unit} | {fmt(m3)} | {fmt(a3)} | {ratio} (1 broker: {fmt(m1)}) | "
                     f"≤ {limit} {unit} | {'yes' if m3 <= limit else '**no**'} |")
    rk, mem = median(results, "backend-rocksdb", "produce_acks1"), median(results, "backend-memory", "produce_acks1")
    if rk and mem:
        lines.append(f"| RocksDB backend, produce 100 B acks=1 (no --sync) | msgs/s | {fmt(rk)} | | "
                     f"{rk / mem:.2f}× memory backend | ≥ 0.5× memory | {'yes' if rk >= 0.5 * mem else '**no**'} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="CMake build directory (Release)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller workloads, for trying the script out")
    ap.add_argument("--out", help="also write the table to this file")
    opts = ap.parse_args()
    build = os.path.abspath(opts.build)
    for exe in ("bench/mk_load", "bench/rdkafka_mock_broker", "broker/minikafka"):
        if not os.access(f"{build}/{exe}", os.X_OK):
            sys.exit(f"missing {build}/{exe}: build the project first (cmake --build {opts.build})")
    p = dict(messages=1_000_000, big_messages=20_000, roundtrips=5_000, e2e_seconds=3)
    if opts.quick:
        p = dict(messages=100_000, big_messages=2_000, roundtrips=500, e2e_seconds=1)
    results = {}
    tool = f"{build}/bench/mk_load"
    for rnd in range(opts.rounds):
        order = ["minikafka", "mock"] if rnd % 2 == 0 else ["mock", "minikafka"]
        for kind in order:
            print(f"round {rnd + 1}/{opts.rounds}: {kind}", file=sys.stderr, flush=True)
            one_round(kind, build, p, results)
            process_round(kind, build, 5, results)
            process_round(kind + "-3", build, 5, results)
        # RocksDB vs memory backend (produce only), back to back.
        for kind in (["rocksdb", "memory"] if rnd % 2 == 0 else ["memory", "rocksdb"]):
            produce_only(kind, build, p, results)
        results.setdefault("pump", {}).setdefault("mb_per_s", []).append(
            run_tool(tool, "pump", "--size", 10240, "--seconds", 2 if not opts.quick else 1)["mb_per_s"])
        emb = run_tool(tool, "embedded", "--runs", 20)
        results["minikafka"].setdefault("embedded_ms", []).append(emb["minikafka_ms"])
        results["mock"].setdefault("embedded_ms", []).append(emb["mock_ms"])
    out = table(results, opts.rounds)
    header = (f"`/usr/bin/python3 bench/load.py --build {opts.build} --rounds {opts.rounds}"
              f"{' --quick' if opts.quick else ''}` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}\n\n")
    print(header + out)
    if opts.out:
        with open(opts.out, "w") as f:
            f.write(header + out + "\n")
        with open(opts.out + ".json", "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
