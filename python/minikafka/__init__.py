"""minikafka: a Kafka-compatible broker to run inside your tests.

    import minikafka

    with minikafka.Broker(partitions=3) as b:
        producer = KafkaProducer(bootstrap_servers=b.bootstrap_servers)
        ...
        assert b.total_lag("my-group") == 0

A Broker runs in-process through libminikafka.so (the C ABI, loaded with ctypes: starting one
costs well under a millisecond) or, when the library is not found, as the `minikafka` binary in
a subprocess. Both give the same methods. Everything the broker's HTTP admin API offers, the
test control plane (/v1/control/..., /v1/await/...) included, is reachable with
`Broker.request`, in-process without HTTP for a library broker; `Broker.admin_url` is the
HTTP address for other tools.

Where the library and the binary are found: `find_library()` and `find_binary()`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _capi

__all__ = [
    "Broker",
    "MinikafkaError",
    "AdminError",
    "PartitionLag",
    "find_library",
    "find_binary",
    "version",
]

__version__ = "0.1.0"

LIBRARY_NAME = "libminikafka.so.1"
OptionValue = Union[str, int, bool]


class MinikafkaError(Exception):
    """A broker operation failed.

    `code` is Kafka's error code when the failure is a Kafka error (36 for TOPIC_ALREADY_EXISTS),
    else a negative minikafka code or None; `name` is the error's name ("TOPIC_ALREADY_EXISTS",
    "INVALID_ARGUMENT", ...).
    """

    def __init__(self, message: str, code: Optional[int] = None, name: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.name = name


class AdminError(MinikafkaError):
    """An admin API route answered with an HTTP status >= 400.

    `status` is that status, `body` the parsed JSON answer ({"error": ..., "message": ...}) or
    its text, and `name` the answer's "error" field.
    """

    def __init__(self, method: str, target: str, status: int, body: Any):
        name = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {target}: {status} {name or ''} {message or ''}".strip(), None, name)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class PartitionLag:
    """A consumer group's lag on one partition: end_offset - committed."""

    topic: str
    partition: int
    committed: int  # -1 when nothing is committed
    end_offset: int
    lag: int


# ---- finding the library and the binary ----------------------------------------------------------

_SOURCE_ROOT = Path(__file__).resolve().parent.parent.parent  # python/minikafka -> repository root


def _build_dirs() -> List[Path]:
    """Build trees of a source checkout this package may be running from (python/ in the repo)."""
    if not (_SOURCE_ROOT / "include" / "minikafka" / "minikafka.h").exists():
        return []
    dirs = []
    env_build = os.environ.get("BUILD_DIR")
    if env_build:
        dirs.append(Path(env_build) if os.path.isabs(env_build) else _SOURCE_ROOT / env_build)
    dirs.append(_SOURCE_ROOT / "build")
    return [d / "broker" for d in dirs]


def find_library(explicit: Optional[str] = None) -> Optional[str]:
    """The path (or loadable name) of libminikafka.so.1, or None.

    Looked for in order: `explicit`; $MINIKAFKA_LIB; the build tree of the source checkout this
    package runs from (build/broker/, or $BUILD_DIR/broker/); then the dynamic linker's search
    path (an installed lib/, ldconfig, $LD_LIBRARY_PATH).
    """
    for candidate in (explicit, os.environ.get("MINIKAFKA_LIB")):
        if candidate:
            return candidate
    for d in _build_dirs():
        if (d / LIBRARY_NAME).exists():
            return str(d / LIBRARY_NAME)
    for prefix in ("/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu"):
        if os.path.exists(os.path.join(prefix, LIBRARY_NAME)):
            return os.path.join(prefix, LIBRARY_NAME)
    found = ctypes.util.find_library("minikafka")
    return found


def find_binary(explicit: Optional[str] = None) -> Optional[str]:
    """The path of the `minikafka` executable, or None.

    Looked for in order: `explicit`; $MINIKAFKA_BIN; the source checkout's build tree; $PATH.
    """
    for candidate in (explicit, os.environ.get("MINIKAFKA_BIN")):
        if candidate:
            return candidate
    for d in _build_dirs():
        if os.access(d / "minikafka", os.X_OK):
            return str(d / "minikafka")
    return shutil.which("minikafka")


def version(lib: Optional[str] = None) -> Optional[str]:
    """The broker version of the library found (None without one)."""
    path = find_library(lib)
    if not path:
        return None
    return _capi.load(path).minikafka_version().decode()


def _flag_value(v: OptionValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _flag_name(k: str) -> str:
    return k.lstrip("-").replace("_", "-")


# ---- backends ---------------------------------------------------------------------------------


class _LibraryBackend:
    """A broker in this process, through libminikafka.so."""

    mode = "library"

    def __init__(self, lib_path: str, options: Dict[str, str]):
        self._lib = _capi.load(lib_path)
        self.lib_path = lib_path
        handle = ctypes.c_void_p()
        flat = [x for kv in options.items() for x in kv]
        self._check(self._lib.minikafka_create(_capi.str_array(flat), ctypes.byref(handle)))
        self._h = handle

    def _check(self, rc: int) -> None:
        if rc == _capi.MINIKAFKA_OK:
            return
        message = self._lib.minikafka_last_error().decode("utf-8", "replace")
        name = self._lib.minikafka_error_name(rc).decode()
        raise MinikafkaError(message or name, rc, name)

    def start(self) -> Tuple[str, str]:
        self._check(self._lib.minikafka_start(self._h))
        return (self._lib.minikafka_bootstrap(self._h).decode(), self._lib.minikafka_admin_url(self._h).decode())

    def stop(self) -> None:
        if self._h:
            self._lib.minikafka_destroy(self._h)
            self._h = None

    def create_topic(self, name: str, partitions: int, configs: Mapping[str, Any]) -> None:
        flat = [x for k, v in configs.items() for x in (k, _flag_value(v))]
        self._check(self._lib.minikafka_topic_create(self._h, name.encode(), partitions, _capi.str_array(flat)))

    def delete_topic(self, name: str) -> None:
        self._check(self._lib.minikafka_topic_delete(self._h, name.encode()))

    def topics(self) -> List[str]:
        arr = ctypes.POINTER(ctypes.c_void_p)()
        n = ctypes.c_size_t()
        self._check(self._lib.minikafka_topics_list(self._h, ctypes.byref(arr), ctypes.byref(n)))
        try:
            return [ctypes.cast(arr[i], ctypes.c_char_p).value.decode() for i in range(n.value)]
        finally:
            self._lib.minikafka_strings_free(arr)

    def end_offsets(self, topic: str) -> Dict[int, int]:
        n = ctypes.c_size_t()
        buf = (ctypes.c_int64 * 64)()
        self._check(self._lib.minikafka_end_offsets(self._h, topic.encode(), buf, 64, ctypes.byref(n)))
        if n.value > 64:
            buf = (ctypes.c_int64 * n.value)()
            self._check(self._lib.minikafka_end_offsets(self._h, topic.encode(), buf, n.value, ctypes.byref(n)))
        return {p: buf[p] for p in range(n.value)}

    def lag(self, group: str) -> List[PartitionLag]:
        arr = ctypes.POINTER(_capi.PartitionLagStruct)()
        n = ctypes.c_size_t()
        self._check(self._lib.minikafka_group_lag(self._h, group.encode(), ctypes.byref(arr), ctypes.byref(n), None))
        try:
            return [PartitionLag(arr[i].topic.decode(), arr[i].partition, arr[i].committed, arr[i].end_offset,
                                 arr[i].lag) for i in range(n.value)]
        finally:
            self._lib.minikafka_group_lag_free(arr, n.value)

    def request(self, method: str, target: str, body: Optional[bytes]) -> Tuple[int, str]:
        status = ctypes.c_int()
        out = ctypes.c_void_p()
        rc = self._lib.minikafka_admin_request(self._h, method.encode(), target.encode(), body, ctypes.byref(status),
                                               ctypes.byref(out))
        try:
            text = ctypes.cast(out, ctypes.c_char_p).value.decode("utf-8", "replace") if out.value else ""
        finally:
            self._lib.minikafka_free(out)
        if rc not in (_capi.MINIKAFKA_OK, _capi.MINIKAFKA_ERR_HTTP):
            self._check(rc)
        return status.value, text


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the broker dies with its parent
    except OSError:
        pass


class _ProcessBackend:
    """The `minikafka` binary in a subprocess; everything else over its HTTP admin API."""

    mode = "process"
    START_TIMEOUT_S = 15.0

    def __init__(self, binary: str, options: Dict[str, str]):
        self.binary = binary
        # The binary's boolean flags take no value: "true" gives the bare flag, "false" nothing.
        self.args = [binary]
        for k, v in options.items():
            if k in ("sync", "strict-replication-factor"):
                if v == "true":
                    self.args.append(f"--{k}")
            else:
                self.args += [f"--{k}", v]
        self.proc: Optional[subprocess.Popen] = None
        self._admin = ""
        # The banner: one "kafka HOST:PORT" line per broker, then "admin URL" unless it is off.
        self._banner_lines = int(options.get("brokers", "1")) + (0 if options.get("admin-port") == "-1" else 1)

    def start(self) -> Tuple[str, str]:
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_set_parent_death_signal)
        lines: List[str] = []
        done = threading.Event()

        def read_banner() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for raw in iter(self.proc.stdout.readline, b""):
                lines.append(raw.decode().strip())
                if len(lines) == self._banner_lines or not lines[-1].startswith("kafka "):
                    break
            done.set()

        threading.Thread(target=read_banner, daemon=True).start()
        done.wait(self.START_TIMEOUT_S)
        if not lines or not lines[0].startswith("kafka "):
            self.proc.kill()
            _, err = self.proc.communicate()
            raise MinikafkaError(f"{' '.join(self.args)} did not start: {err.decode(errors='replace')[-4000:]}",
                                 _capi.MINIKAFKA_ERR_IO, "IO")
        # stderr is the broker's log: drain it so a chatty broker never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        bootstrap = ",".join(l.split(None, 1)[1] for l in lines if l.startswith("kafka "))
        self._admin = next((l.split(None, 1)[1].rstrip("/") for l in lines if l.startswith("admin ")), "")
        return bootstrap, self._admin

    @staticmethod
    def _drain(stream) -> None:
        for _ in iter(lambda: stream.read(65536), b""):
            pass

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(self, method: str, target: str, body: Optional[bytes]) -> Tuple[int, str]:
        if not self._admin:
            raise MinikafkaError("the admin API is off (admin_port=-1)", _capi.MINIKAFKA_ERR_STATE, "STATE")
        req = urllib.request.Request(self._admin + target, data=body, method=method,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    # Kafka errors by name over HTTP; the codes of those a test meets most often.
    _KAFKA_CODES = {"UNKNOWN_TOPIC_OR_PARTITION": 3, "INVALID_TOPIC_EXCEPTION": 17, "TOPIC_ALREADY_EXISTS": 36,
                    "INVALID_PARTITIONS": 37, "INVALID_REPLICATION_FACTOR": 38, "INVALID_CONFIG": 40,
                    "GROUP_ID_NOT_FOUND": 69}

    def _json(self, method: str, target: str, body: Any = None) -> Any:
        status, text = self.request(method, target, None if body is None else json.dumps(body).encode())
        parsed = json.loads(text) if text else None
        if status >= 400:
            err = AdminError(method, target, status, parsed)
            err.code = self._KAFKA_CODES.get(err.name or "")
            raise err
        return parsed

    def create_topic(self, name: str, partitions: int, configs: Mapping[str, Any]) -> None:
        self._json("POST", "/v1/topics", {"name": name, "partitions": partitions,
                                          "configs": {k: _flag_value(v) for k, v in configs.items()}})

    def delete_topic(self, name: str) -> None:
        self._json("DELETE", "/v1/topics/" + urllib.parse.quote(name, safe=""))

    def topics(self) -> List[str]:
        return sorted(t["name"] for t in self._json("GET", "/v1/topics"))

    def end_offsets(self, topic: str) -> Dict[int, int]:
        t = self._json("GET", "/v1/topics/" + urllib.parse.quote(topic, safe=""))
        return {p["partition"]: p["end_offset"] for p in t["partition_details"]}

    def lag(self, group: str) -> List[PartitionLag]:
        try:
            g = self._json("GET", "/v1/groups/" + urllib.parse.quote(group, safe=""))
        except AdminError as e:
            if e.status == 404:
                return []
            raise
        return [PartitionLag(o["topic"], o["partition"], o["committed_offset"], o["end_offset"], o["lag"])
                for o in g["offsets"]]


# ---- the broker --------------------------------------------------------------------------------


class Broker:
    """One Kafka-compatible broker on 127.0.0.1 and an ephemeral port, in memory by default.

        with Broker(partitions=3) as b:          # started on enter, stopped on exit
            KafkaProducer(bootstrap_servers=b.bootstrap_servers)

    partitions:  partitions of auto-created topics (--default-partitions).
    mode:        "auto" (in-process when libminikafka.so is found, else the binary), "library"
                 or "process".
    lib, binary: paths that override find_library() / find_binary().
    log_level:   minikafka's stderr log level ("warn" by default; process-wide in-process).
    options:     any other flags of the binary by name, e.g. {"auto-create-topics": False,
                 "group-initial-rebalance-delay-ms": 0}; keyword arguments with underscores work
                 too: Broker(auto_create_topics=False).

    Methods raise MinikafkaError (AdminError for an admin route's HTTP error). A Broker is safe
    to use from several threads.
    """

    def __init__(self, partitions: Optional[int] = None, *, mode: str = "auto", lib: Optional[str] = None,
                 binary: Optional[str] = None, log_level: str = "warn",
                 options: Optional[Mapping[str, OptionValue]] = None, **flags: OptionValue):
        if mode not in ("auto", "library", "process"):
            raise ValueError("mode must be 'auto', 'library' or 'process'")
        opts: Dict[str, str] = {"port": "0", "host": "127.0.0.1", "log-level": log_level}
        if partitions is not None:
            opts["default-partitions"] = str(partitions)
        for k, v in {**(options or {}), **flags}.items():
            opts[_flag_name(k)] = _flag_value(v)
        self.options = opts
        self._mode = mode
        self._lib = lib
        self._binary = binary
        self._backend: Optional[Union[_LibraryBackend, _ProcessBackend]] = None
        self.bootstrap_servers = ""
        self.admin_url = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "Broker":
        """Starts the broker; returns self. Raises MinikafkaError when it cannot."""
        if self._backend is not None:
            return self
        backend: Optional[Union[_LibraryBackend, _ProcessBackend]] = None
        lib = find_library(self._lib) if self._mode in ("auto", "library") else None
        if lib:
            try:
                backend = _LibraryBackend(lib, self.options)
            except OSError as e:
                if self._mode == "library":
                    raise MinikafkaError(f"cannot load {lib}: {e}", _capi.MINIKAFKA_ERR_IO, "IO") from e
        elif self._mode == "library":
            raise MinikafkaError(f"{LIBRARY_NAME} not found (set MINIKAFKA_LIB or pass lib=)",
                                 _capi.MINIKAFKA_ERR_IO, "IO")
        if backend is None:
            binary = find_binary(self._binary)
            if not binary:
                raise MinikafkaError("neither libminikafka.so.1 nor the minikafka binary was found (set MINIKAFKA_LIB "
                                     "or MINIKAFKA_BIN)", _capi.MINIKAFKA_ERR_IO, "IO")
            backend = _ProcessBackend(binary, self.options)
        try:
            self.bootstrap_servers, self.admin_url = backend.start()
        except BaseException:
            backend.stop()
            raise
        self._backend = backend
        return self

    def stop(self) -> None:
        """Stops the broker and frees it (its data is gone). Idempotent."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.stop()

    close = stop

    def __enter__(self) -> "Broker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    @property
    def mode(self) -> str:
        """"library" (in-process) or "process" (the binary); "" before start()."""
        return self._backend.mode if self._backend else ""

    @property
    def running(self) -> bool:
        return self._backend is not None

    def _b(self) -> Union[_LibraryBackend, _ProcessBackend]:
        if self._backend is None:
            raise MinikafkaError("the broker is not started", _capi.MINIKAFKA_ERR_STATE, "STATE")
        return self._backend

    # -- topics, offsets, lag ----------------------------------------------------------------------
    def create_topic(self, name: str, partitions: Optional[int] = None,
                     configs: Optional[Mapping[str, Any]] = None) -> None:
        """Creates a topic (configs: {"retention.ms": 60000}). TOPIC_ALREADY_EXISTS etc. raise.

        Without `partitions`, the broker's default (Broker(partitions=N), --default-partitions).
        """
        self._b().create_topic(name, -1 if partitions is None else partitions, configs or {})

    def delete_topic(self, name: str) -> None:
        """Deletes a topic and its data (UNKNOWN_TOPIC_OR_PARTITION raises)."""
        self._b().delete_topic(name)

    def topics(self) -> List[str]:
        """Names of all topics, sorted."""
        return self._b().topics()

    def end_offsets(self, topic: str) -> Dict[int, int]:
        """{partition: end offset (high watermark)} of a topic."""
        return self._b().end_offsets(topic)

    def lag(self, group: str) -> List[PartitionLag]:
        """The group's lag on every partition it committed to ([] for an unknown group).

        Partitions the group never committed to are not listed (a consumer that has not committed
        yet has no lag here): compare with end_offsets() for those.
        """
        return self._b().lag(group)

    def total_lag(self, group: str) -> int:
        """Sum of lag(group): the usage notes' sum(end_offsets) - sum(committed), over the partitions
        the group committed to."""
        return sum(p.lag for p in self.lag(group))

    # -- the admin API and the control plane -------------------------------------------------------
    def request(self, method: str, target: str, body: Any = None, *, check: bool = True) -> Any:
        """Calls an admin API route: in-process for a library broker, over HTTP for a process.

        `target` is the path and query ("/v1/groups/g1"); `body` a JSON-serialisable value,
        bytes or None. Returns the parsed JSON answer (text for non-JSON routes such as
        /metrics). With check=True (default) a status >= 400 raises AdminError; with
        check=False returns (status, answer).
        """
        data: Optional[bytes]
        if body is None or isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        status, text = self._b().request(method.upper(), target, data)
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        if check and status >= 400:
            raise AdminError(method.upper(), target, status, parsed)
        return parsed if check else (status, parsed)

    def has_route(self, method: str, target: str, body: Any = None) -> bool:
        """Whether this broker serves a route (it does not answer 404 "not_found" for it)."""
        status, answer = self.request(method, target, body, check=False)
        return not (status == 404 and isinstance(answer, dict) and answer.get("error") == "not_found")

    def cluster(self) -> Dict[str, Any]:
        """GET /v1/cluster: broker id, listeners, version, uptime, storage."""
        return self.request("GET", "/v1/cluster")

    def group(self, group_id: str) -> Dict[str, Any]:
        """GET /v1/groups/{id}: state, members, assignments, committed offsets and lag."""
        return self.request("GET", "/v1/groups/" + urllib.parse.quote(group_id, safe=""))

    def produce(self, topic: str, records: Iterable[Mapping[str, Any]], encoding: str = "string") -> Any:
        """POST /v1/topics/{topic}/records: records [{"key", "value", "headers", "partition"}]."""
        return self.request("POST", f"/v1/topics/{urllib.parse.quote(topic, safe='')}/records",
                            {"records": list(records), "encoding": encoding})

    def records(self, topic: str, partition: int = 0, offset: int = 0, limit: int = 100) -> Any:
        """GET /v1/topics/{topic}/partitions/{p}/records."""
        return self.request("GET", f"/v1/topics/{urllib.parse.quote(topic, safe='')}/partitions/{partition}/records"
                                   f"?offset={offset}&limit={limit}")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A control-plane route: control("POST", "faults", {...}) is POST /v1/control/faults."""
        return self.request(method, "/v1/control/" + path.lstrip("/"), body)

    def wait_for(self, what: str, timeout_ms: Optional[int] = None, **query: Any) -> Any:
        """An await oracle: wait_for("group/g1/stable") is GET /v1/await/group/g1/stable.

        Keyword arguments become the query string (timeout_ms too); blocks until the broker
        answers.
        """
        if timeout_ms is not None:
            query["timeout_ms"] = timeout_ms
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self.request("GET", "/v1/await/" + what.lstrip("/") + q)

    def add_fault(self, rule: Optional[Mapping[str, Any]] = None, **fields: Any) -> Dict[str, Any]:
        """Adds a fault rule (docs/TESTING.md): add_fault(api="Produce", error="NOT_LEADER_OR_FOLLOWER", count=3).

        Returns the rule with its "id".
        """
        return self.control("POST", "faults", {**(rule or {}), **fields})

    def faults(self) -> List[Dict[str, Any]]:
        """Every fault rule with its "matched" and "fired" counters."""
        return self.control("GET", "faults")

    def remove_fault(self, rule_id: int) -> None:
        self.control("DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def reset(self, prefix: Optional[str] = None) -> Dict[str, Any]:
        """POST /v1/control/reset: deletes topics, groups, offsets, fault rules (those under `prefix`)."""
        return self.control("POST", "reset", {"prefix": prefix} if prefix else {})

    def clock(self) -> Dict[str, Any]:
        """GET /v1/control/clock (a broker started with clock="manual")."""
        return self.control("GET", "clock")

    def advance_clock(self, ms: int) -> Dict[str, Any]:
        """POST /v1/control/clock/advance: moves a manual clock and runs what came due."""
        return self.control("POST", "clock/advance", {"ms": ms})

    def __repr__(self) -> str:
        return f"<minikafka.Broker {self.bootstrap_servers or 'stopped'} {self.mode}>"
