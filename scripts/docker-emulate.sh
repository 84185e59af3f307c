#!/usr/bin/env bash
# docker-emulate.sh: check docker/Dockerfile (and docker/docker-compose.yml) on a machine that has
# no Docker engine, as faithfully as chroots and namespaces allow. Needs root, network access to a
# Debian mirror and ~2 GB under the work dir. It takes 5 minutes on an idle 2-core machine and
# about 25 when the cores are shared, mostly installing build dependencies and compiling. Not for
# CI. Results: docker/README.md.
#
#   sudo scripts/docker-emulate.sh [--work-dir DIR] [--source worktree|head] [--reuse-build] [--jobs N]
#
# What it does, driven by the Dockerfile itself (its instructions are parsed, not copied here):
#   * FROM debian:12 / debian:12-slim: a `debootstrap --variant=minbase bookworm` rootfs (what
#     Debian's official images are built from), with the Docker images' apt/dpkg settings and
#     sources; "-slim" additionally drops docs/man pages/locales the way the slim images do.
#     These are APPROXIMATIONS of the published images, not the images.
#   * COPY from the build context honours docker/Dockerfile.dockerignore (or .dockerignore);
#     COPY --from=STAGE copies from that stage's rootfs; WORKDIR, ENV are applied.
#   * RUN: `/bin/sh -c CMD` in a chroot of the stage (private mount namespace with /proc, /sys,
#     /dev), with the image's PATH and the stage's ENV, as Docker's RUN does.
#   * The final stage is "run" like `docker run -p 9092:9092 -p 9644:9644 IMAGE`: its ENTRYPOINT
#     with its ENV in new pid/net/mount/uts/ipc namespaces, VOLUMEs bind-mounted, published ports
#     forwarded from the host's 127.0.0.1; the HEALTHCHECK command is run inside the container's
#     namespaces and root exactly as written; kcat and kafka-python on the host create, produce
#     and consume through the published port; `docker stop` is a SIGTERM to the container's pid 1.
#   * It measures the runtime rootfs (image size approximation), the slim base, and the broker's
#     startup time (exec -> first Metadata answer, exec -> /health 200) inside the container.
#   * It validates docker/docker-compose.yml (YAML, `docker compose config` when a compose CLI is
#     installed, ports vs advertised host), runs its RocksDB-volume example across a restart, and
#     runs its services with network_mode "service:minikafka" in the broker's network namespace.
#
# Options (and environment overrides):
#   --work-dir DIR     MINIKAFKA_EMU_DIR, default /var/tmp/minikafka-docker-emu (outside the repo)
#   --source MODE      worktree (default: the checkout as it is, like `docker build .`) or
#                      head (`git archive HEAD`: only committed files)
#   --reuse-build      keep the previous build stage if it finished with the same instructions
#                      (the sources are not compared): for iterating on the runtime stage
#   --jobs N           CMAKE_BUILD_PARALLEL_LEVEL for the build stage's RUN (default 2; Docker
#                      itself would let ninja use every core)
#   --samples N        startup-time runs per storage backend (default 20: half time the first
#                      Metadata answer, half the first /health 200)
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   default http://deb.debian.org/debian(-security)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
EMU_DIR="${MINIKAFKA_EMU_DIR:-/var/tmp/minikafka-docker-emu}"
SOURCE_MODE=worktree
REUSE_BUILD=0
JOBS=2
SAMPLES=20
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SEC_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
DOCKERFILE_REL=docker/Dockerfile
COMPOSE_REL=docker/docker-compose.yml
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
  case "$1" in
    --work-dir) EMU_DIR="$2"; shift 2 ;;
    --source) SOURCE_MODE="$2"; shift 2 ;;
    --reuse-build) REUSE_BUILD=1; shift ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --samples) SAMPLES="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "docker-emulate: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$SOURCE_MODE" in worktree|head) ;; *) echo "docker-emulate: --source worktree|head" >&2; exit 2 ;; esac
case "$EMU_DIR" in "$REPO"|"$REPO"/*) echo "docker-emulate: the work dir must be outside the repository" >&2; exit 2 ;; esac

log() { printf '[emu %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'docker-emulate: FAILED: %s\n' "$*" >&2; exit 1; }
SUMMARY=()
note() { SUMMARY+=("$*"); log "$*"; }
CHECKS_OK=0
ok() { CHECKS_OK=$((CHECKS_OK + 1)); SUMMARY+=("ok    $*"); log "ok: $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot and namespaces need it)"
for tool in debootstrap unshare nsenter chroot ip git tar flock timeout kcat; do
  command -v "$tool" >/dev/null || die "missing tool: $tool (apt-get install debootstrap util-linux iproute2 git kcat)"
done
[ -x "$PY" ] || die "missing $PY (apt-get install python3)"
"$PY" -c 'import kafka, yaml' 2>/dev/null || die "$PY needs kafka-python and PyYAML (apt-get install python3-kafka python3-yaml)"

mkdir -p "$EMU_DIR"
EMU_DIR="$(cd "$EMU_DIR" && pwd)"
exec 9>"$EMU_DIR/.lock"
flock -n 9 || die "another docker-emulate run holds $EMU_DIR/.lock"
RUN_DIR="$EMU_DIR/run"; LOG_DIR="$EMU_DIR/logs"
rm -rf "$RUN_DIR" "$LOG_DIR"; mkdir -p "$RUN_DIR" "$LOG_DIR"
HELPER="$RUN_DIR/emu_helper.py"
T_START=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Cleanup: stop what this run started (by pid) and unmount anything left under the work dir.
# Chroot mounts are made inside private mount namespaces, so they normally vanish on their own.
cleanup() {
  local rc=$? p m
  # Only this shell's own background jobs that are still running (no pid reuse risk).
  for p in $(jobs -p); do { kill -TERM "$p"; sleep 0.2; kill -KILL "$p"; wait "$p"; } 2>/dev/null || true; done
  while read -r m; do
    [ -n "$m" ] && umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$EMU_DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  [ $rc -eq 0 ] || log "failed (exit $rc); logs in $LOG_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The Python half: Dockerfile parser, dockerignore-aware copying, port publishing, clients and
# timing. Written to the work dir and run with the host's /usr/bin/python3.
cat >"$HELPER" <<'PYEOF'
import json, os, re, shlex, shutil, socket, struct, subprocess, sys, threading, time, glob, ctypes

def die(msg):
    print("docker-emulate: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)

# ---- Dockerfile -> plan (a list of shell function calls) ----
def logical_lines(text):
    out, cur, start = [], None, 0
    for n, raw in enumerate(text.split("\n"), 1):
        s = raw.strip()
        if cur is None:
            if not s or s.startswith("#"):
                continue
            cur, start = "", n
        elif not s or s.startswith("#"):
            continue  # Docker drops comment and empty lines inside a continuation
        body = raw.rstrip()
        if body.endswith("\\"):
            cur += body[:-1]
        else:
            out.append((start, (cur + raw).strip()))
            cur = None
    if cur is not None:
        out.append((start, cur.strip()))
    return out

def words_or_json(rest):
    rest = rest.strip()
    if rest.startswith("["):
        try:
            v = json.loads(rest)
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                return v, True
        except ValueError:
            pass
    return rest.split(), False

def parse(path):
    text = open(path).read()
    for line in text.split("\n"):
        m = re.match(r"#\s*(\w+)\s*=\s*(\S+)", line)
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) != "\\":
            die("escape directive not supported")
    plan, q = [], shlex.quote
    stage = -1
    for lineno, line in logical_lines(text):
        parts = line.split(None, 1)
        instr, rest = parts[0].upper(), (parts[1] if len(parts) > 1 else "")
        where = "%s:%d" % (os.path.basename(path), lineno)
        def unsupported(why):
            die("%s: %s %s (the emulator does not handle this; extend scripts/docker-emulate.sh)" % (where, instr, why))
        if instr == "FROM":
            toks = rest.split()
            if any(t.startswith("--") for t in toks):
                unsupported("with flags")
            name = toks[2] if len(toks) == 3 and toks[1].lower() == "as" else ""
            if len(toks) not in (1, 3):
                unsupported("form")
            stage += 1
            plan.append("stage_begin %d %s %s %s" % (stage, q(toks[0]), q(name), q(where)))
            continue
        if stage < 0:
            unsupported("before the first FROM")
        if instr == "RUN":
            if rest.lstrip().startswith("--"):
                unsupported("flags (--mount, --network, ...)")
            args, is_json = words_or_json(rest)
            if is_json:
                plan.append("op_run %s exec %s" % (q(where), " ".join(q(a) for a in args)))
            else:
                plan.append("op_run %s shell %s" % (q(where), q(rest.strip())))
        elif instr == "WORKDIR":
            if "$" in rest:
                unsupported("with variables")
            plan.append("op_workdir %s" % q(rest.strip()))
        elif instr == "COPY":
            toks = rest.split()
            frm = ""
            while toks and toks[0].startswith("--"):
                flag = toks.pop(0)
                if flag.startswith("--from="):
                    frm = flag.split("=", 1)[1]
                elif flag == "--link":
                    pass  # same result in a single rootfs
                else:
                    unsupported("flag " + flag)
            args, _ = words_or_json(" ".join(toks))
            if len(args) < 2 or any("$" in a for a in args):
                unsupported("form")
            plan.append("op_copy %s %s %s" % (q(where), q(frm), " ".join(q(a) for a in args)))
        elif instr == "ENV":
            if "$" in rest:
                unsupported("with variable references")
            toks = shlex.split(rest)
            if toks and "=" not in toks[0]:
                kv = [(toks[0], rest.split(None, 1)[1].strip() if len(toks) > 1 else "")]
            else:
                kv = [t.split("=", 1) for t in toks]
            for k, v in kv:
                plan.append("op_env %s %s" % (q(k), q(v)))
        elif instr == "EXPOSE":
            plan.append("meta_expose %s" % " ".join(q(p) for p in rest.split()))
        elif instr == "VOLUME":
            args, _ = words_or_json(rest)
            plan.append("meta_volume %s" % " ".join(q(a) for a in args))
        elif instr in ("ENTRYPOINT", "CMD"):
            args, is_json = words_or_json(rest)
            if not is_json:
                args = ["/bin/sh", "-c", rest.strip()]
            plan.append("meta_%s %s" % (instr.lower(), " ".join(q(a) for a in args)))
        elif instr == "HEALTHCHECK":
            opts = {"interval": "30s", "timeout": "30s", "start-period": "0s", "retries": "3"}
            toks = rest.split(None)
            while toks and toks[0].startswith("--"):
                k, _, v = toks.pop(0)[2:].partition("=")
                if k not in opts and k != "start-interval":
                    unsupported("option --" + k)
                opts[k] = v
            if not toks or toks[0].upper() == "NONE":
                plan.append("meta_healthcheck none")
                continue
            if toks[0].upper() != "CMD":
                unsupported("form")
            cmd = rest[rest.upper().index("CMD", rest.find(toks[0])) + 3:].strip()
            args, is_json = words_or_json(cmd)
            if is_json:
                form, args = "exec", args
            else:
                form, args = "shell", [cmd]
            plan.append("meta_healthcheck %s %s %s %s %s %s" % (
                q(opts["interval"]), q(opts["timeout"]), q(opts["start-period"]), q(opts["retries"]),
                form, " ".join(q(a) for a in args)))
        elif instr in ("LABEL", "STOPSIGNAL"):
            plan.append("meta_%s %s" % (instr.lower(), q(rest.strip())))
        else:
            unsupported("(not implemented)")
    if stage < 0:
        die("no FROM in " + path)
    print("\n".join(plan))

# ---- .dockerignore (moby/patternmatcher semantics, simplified: no escapes) ----
def ignore_rules(path):
    rules = []
    if not path or not os.path.exists(path):
        return rules
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = os.path.normpath(line[1:].strip() if neg else line).lstrip("/")
        rx = ""
        i = 0
        while i < len(pat):
            c = pat[i]
            if pat.startswith("**", i):
                i += 2
                if pat.startswith("/", i):
                    i += 1
                    rx += "(?:.*/)?"
                else:
                    rx += ".*"
                continue
            rx += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
            i += 1
        rules.append((re.compile(rx + r"\Z"), neg))
    return rules

def ignored(rel, rules):
    # A path is ignored if the last rule matching it, or one of its parent directories, excludes it.
    parts = rel.split("/")
    cands = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    res = False
    for rx, neg in rules:
        if any(rx.match(c) for c in cands):
            res = not neg
    return res

def filter_context(ctx, ignore_file, dest):
    rules = ignore_rules(ignore_file)
    has_neg = any(neg for _, neg in rules)
    files = size = 0
    for root, dirs, fnames in os.walk(ctx):
        relroot = os.path.relpath(root, ctx)
        relroot = "" if relroot == "." else relroot + "/"
        keep = []
        for d in dirs:
            if ignored(relroot + d, rules) and not has_neg:
                continue
            if os.path.islink(os.path.join(root, d)):
                fnames.append(d)
                continue
            keep.append(d)
        dirs[:] = keep
        os.makedirs(os.path.join(dest, relroot), exist_ok=True)
        for f in fnames:
            rel = relroot + f
            if ignored(rel, rules):
                continue
            src, dst = os.path.join(ctx, rel), os.path.join(dest, rel)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)
                size += os.path.getsize(src)
            files += 1
    print("%d %d" % (files, size))

# ---- COPY [--from] semantics ----
def copy(src_root, dst_root, workdir, *args):
    *srcs, dest = args
    if not dest.startswith("/"):
        dest = os.path.join(workdir, dest)
    matches = []
    for s in srcs:
        s = s.lstrip("/") if s != "/" else "."
        found = sorted(glob.glob(os.path.join(src_root, s))) if any(c in s for c in "*?[") else \
            ([os.path.join(src_root, s)] if os.path.lexists(os.path.join(src_root, s)) else [])
        if not found:
            die("COPY source not found: %s (in %s)" % (s, src_root))
        matches += found
    dest_is_dir = dest.endswith("/") or len(matches) > 1
    target = os.path.join(dst_root, dest.lstrip("/"))
    copied = []
    for m in matches:
        if os.path.isdir(m):
            os.makedirs(target, exist_ok=True)
            shutil.copytree(m, target, symlinks=True, dirs_exist_ok=True)
            for root, _, fnames in os.walk(m):
                for f in fnames:
                    copied.append(os.path.join(target, os.path.relpath(os.path.join(root, f), m)))
        else:
            t = os.path.join(target, os.path.basename(m)) if dest_is_dir else target
            os.makedirs(os.path.dirname(t), exist_ok=True)
            shutil.copy2(m, t)  # follows a top-level symlink, like COPY
            copied.append(t)
    for c in copied:
        print(c)

# ---- Kafka wire helpers ----
def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b

def metadata_v1(host, port, timeout=5.0):
    """Sends Metadata v1 (all topics) and returns [(node_id, host, port)] of the brokers."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        body = struct.pack(">hhi", 3, 1, 7) + kstr("docker-emulate") + struct.pack(">i", -1)
        s.sendall(struct.pack(">i", len(body)) + body)
        hdr = b""
        while len(hdr) < 4:
            chunk = s.recv(4 - len(hdr))
            if not chunk:
                raise OSError("connection closed")
            hdr += chunk
        n = struct.unpack(">i", hdr)[0]
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
    corr, count = struct.unpack_from(">ii", buf, 0)
    if corr != 7:
        raise OSError("bad correlation id")
    off, brokers = 8, []
    for _ in range(count):
        nid, = struct.unpack_from(">i", buf, off); off += 4
        hl, = struct.unpack_from(">h", buf, off); off += 2
        h = buf[off:off + hl].decode(); off += hl
        p, = struct.unpack_from(">i", buf, off); off += 4
        rl, = struct.unpack_from(">h", buf, off); off += 2 + max(rl, 0)
        brokers.append((nid, h, p))
    return brokers

def http_get(host, port, path, timeout=5.0):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode(errors="replace")

# ---- port publishing: bind on the host, then serve from inside the container's netns ----
def publish(pid, ready_file, *mappings):
    listeners = []
    for m in mappings:
        hp, cp = m.split(":")
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for attempt in range(50):  # the previous container's forwarder may still be exiting
            try:
                ls.bind(("127.0.0.1", int(hp)))
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        ls.listen(64)
        listeners.append((ls, int(cp)))
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/proc/%s/ns/net" % pid, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        die("setns: errno %d" % ctypes.get_errno())
    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    def serve(ls, cp):
        while True:
            c, _ = ls.accept()
            try:
                u = socket.create_connection(("127.0.0.1", cp), timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()  # like docker-proxy: nothing listening in the container
                continue
            threading.Thread(target=pump, args=(c, u), daemon=True).start()
            threading.Thread(target=pump, args=(u, c), daemon=True).start()
    for ls, cp in listeners:
        threading.Thread(target=serve, args=(ls, cp), daemon=True).start()
    open(ready_file, "w").write("ready\n")
    while os.path.exists("/proc/%s" % pid):
        time.sleep(0.2)

def free_port(preferred):
    for p in ([int(preferred)] if preferred else []) + [0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            print(s.getsockname()[1])
            return
        except OSError:
            pass
        finally:
            s.close()

# ---- clients from the host, through the published ports ----
def clients(kport, aport, topic):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic
    boot = "localhost:%s" % kport
    brokers = metadata_v1("127.0.0.1", int(kport))
    print("metadata: brokers advertised as %s" % ", ".join("%s:%d" % (h, p) for _, h, p in brokers))
    if [(h, p) for _, h, p in brokers] != [("localhost", int(kport))]:
        die("advertised %s, a client on the host needs localhost:%s" % (brokers, kport))
    admin = KafkaAdminClient(bootstrap_servers=boot, client_id="emu-admin")
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    if topic not in admin.list_topics():
        die("created topic %s not listed" % topic)
    admin.close()
    print("kafka-python: created topic %s (3 partitions)" % topic)
    prod = KafkaProducer(bootstrap_servers=boot, acks="all")
    for i in range(20):
        prod.send(topic, key=b"k%d" % i, value=b"v%d" % i)
    prod.flush()
    prod.close()
    cons = KafkaConsumer(topic, bootstrap_servers=boot, group_id="emu-group", auto_offset_reset="earliest",
                         consumer_timeout_ms=15000)
    got = set()
    for msg in cons:
        got.add(msg.value)
        if len(got) >= 20:
            break
    cons.commit()
    cons.close()
    if got != {b"v%d" % i for i in range(20)}:
        die("kafka-python consumer got %d of 20 messages" % len(got))
    print("kafka-python: produced 20 and consumed 20 in group emu-group")
    code, body = http_get("127.0.0.1", int(aport), "/v1/cluster")
    if code != 200:
        die("GET /v1/cluster -> %d" % code)
    print("admin API: /v1/cluster -> %s" % body.strip())

def produce_consume(kport, topic, n, mode):
    from kafka import KafkaConsumer, KafkaProducer
    boot = "localhost:%s" % kport
    if mode == "produce":
        prod = KafkaProducer(bootstrap_servers=boot, acks="all")
        for i in range(int(n)):
            prod.send(topic, value=b"persist-%d" % i)
        prod.flush()
        prod.close()
        print("produced %s" % n)
    else:
        cons = KafkaConsumer(topic, bootstrap_servers=boot, auto_offset_reset="earliest", consumer_timeout_ms=10000)
        got = {m.value for m in cons}
        cons.close()
        print("consumed %d" % len(got))
        if got != {b"persist-%d" % i for i in range(int(n))}:
            die("after the restart %d of %s messages were there" % (len(got), n))

# ---- startup timing inside a fresh netns (run under unshare by the shell) ----
def startup(root, samples, kport, aport, envfile, *argv):
    env = [l.rstrip("\n") for l in open(envfile) if l.strip()]
    if root.startswith("nochroot:"):  # reference: the image's binary run directly, host libraries
        root = root[len("nochroot:"):]
        cmd = ["/usr/bin/env", "-i"] + env + [root + argv[0]] + list(argv[1:])
    else:
        cmd = ["chroot", root, "/usr/bin/env", "-i"] + env + list(argv)
    meta, health = [], []
    for i in range(int(samples)):
        data = os.path.join(root, "data")
        for e in os.listdir(data) if os.path.isdir(data) else []:
            shutil.rmtree(os.path.join(data, e), ignore_errors=True)
        health_first = i % 2 == 1
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = t0 + 10
        def poll(fn):
            while True:
                try:
                    return fn()
                except OSError:
                    if time.monotonic() > deadline or p.poll() is not None:
                        die("broker did not answer (exit %s)" % p.poll())
                    time.sleep(0.0005)
        def check_health():
            code, _ = http_get("127.0.0.1", int(aport), "/health", timeout=1)
            if code != 200:
                raise OSError("health %d" % code)
        order = [("health", check_health), ("meta", lambda: metadata_v1("127.0.0.1", int(kport), 1))]
        if not health_first:
            order.reverse()
        first, fn = order[0]
        poll(fn)
        (health if first == "health" else meta).append((time.monotonic() - t0) * 1000)
        poll(order[1][1])
        p.terminate()
        p.wait(10)
    def stats(xs):
        xs = sorted(xs)
        return "min %.1f / median %.1f / max %.1f ms (n=%d)" % (xs[0], xs[len(xs) // 2], xs[-1], len(xs))
    print("exec -> first Metadata answer: " + stats(meta))
    print("exec -> GET /health 200:       " + stats(health))

# ---- docker-compose.yml review ----
def compose(path, service, *env_overrides):
    overrides = dict(e.split("=", 1) for e in env_overrides)
    doc = yaml_load(path)
    svc = doc["services"][service]
    def interp(v):
        return re.sub(r"\$\{(\w+)(?::?-([^}]*))?\}", lambda m: overrides.get(m.group(1), os.environ.get(m.group(1), m.group(2) or "")), str(v))
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    for k, v in env.items():
        print("%s=%s" % (k, interp(v)))

def compose_netns_clients(path, target):
    for name, svc in yaml_load(path)["services"].items():
        if svc.get("network_mode") == "service:" + target and svc.get("entrypoint"):
            print(name)

def compose_entrypoint(path, service):
    svc = yaml_load(path)["services"][service]
    for key in ("entrypoint", "command"):
        v = svc.get(key) or []
        for a in (shlex.split(v) if isinstance(v, str) else v):
            print(a)

def yaml_load(path):
    import yaml
    return yaml.safe_load(open(path))

def compose_review(path, dockerfile_env_file):
    doc = yaml_load(path)
    image_env = dict(l.rstrip("\n").split("=", 1) for l in open(dockerfile_env_file) if "=" in l)
    problems = []
    for name, svc in doc.get("services", {}).items():
        env = svc.get("environment", {}) or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        eff = dict(image_env)
        eff.update({k: re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", str(v)) for k, v in env.items()})
        if "build" in svc:
            b = svc["build"]
            ctx = os.path.normpath(os.path.join(os.path.dirname(path), b.get("context", ".")))
            if not os.path.exists(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
                problems.append("%s: build.dockerfile not found from context %s" % (name, ctx))
        nm = svc.get("network_mode", "")
        if nm.startswith("service:") and nm[8:] not in doc["services"]:
            problems.append("%s: network_mode refers to unknown service %s" % (name, nm[8:]))
        if str(svc.get("image", "")).startswith("minikafka") and "entrypoint" not in svc:
            for p in svc.get("ports", []):
                hp, _, cp = str(p).rpartition(":")
                hp = hp.rsplit(":", 1)[-1]
                if cp == eff.get("MINIKAFKA_PORT") and hp != cp:
                    problems.append("%s: Kafka port published as %s:%s but advertised as %s:%s" % (
                        name, hp, cp, eff.get("MINIKAFKA_ADVERTISED_HOST"), cp))
            print("service %s: advertises %s:%s, admin %s, ports %s" % (
                name, eff.get("MINIKAFKA_ADVERTISED_HOST"), eff.get("MINIKAFKA_PORT"),
                eff.get("MINIKAFKA_ADMIN_PORT"), ",".join(map(str, svc.get("ports", []))) or "-"))
        else:
            print("service %s: %s" % (name, ("network_mode " + nm) if nm else "client"))
    for p in problems:
        print("PROBLEM: " + p)
    if problems:
        sys.exit(1)

if __name__ == "__main__":
    fn = globals()[sys.argv[1].replace("-", "_")]
    fn(*sys.argv[2:])
PYEOF
helper() { "$PY" "$HELPER" "$@"; }

# ---------------------------------------------------------------------------------------------
# Build context and Dockerfile.
if [ "$SOURCE_MODE" = head ]; then
  CTX="$EMU_DIR/context-head"
  rm -rf "$CTX"; mkdir -p "$CTX"
  git -C "$REPO" archive --format=tar HEAD | tar -x -C "$CTX"
  note "source: git archive HEAD ($(git -C "$REPO" rev-parse --short HEAD))"
else
  CTX="$REPO"
  note "source: working tree of $REPO (HEAD $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- . 2>/dev/null || echo ', with uncommitted changes'))"
fi
DOCKERFILE="$CTX/$DOCKERFILE_REL"
[ -f "$DOCKERFILE" ] || die "no $DOCKERFILE_REL"
# BuildKit uses <Dockerfile>.dockerignore next to the Dockerfile before <context>/.dockerignore.
IGNORE_FILE=""
for f in "$DOCKERFILE.dockerignore" "$CTX/.dockerignore"; do
  if [ -f "$f" ]; then IGNORE_FILE="$f"; break; fi
done
if [ -z "$IGNORE_FILE" ]; then
  die "no $DOCKERFILE_REL.dockerignore or .dockerignore: docker build would send the whole directory, build*/ included (build/CMakeCache.txt then breaks cmake in the image)"
fi
FILTERED_CTX="$EMU_DIR/context"
rm -rf "$FILTERED_CTX"
read -r ctx_files ctx_bytes < <(helper filter-context "$CTX" "$IGNORE_FILE" "$FILTERED_CTX")
note "build context: $ctx_files files, $((ctx_bytes / 1024)) KiB after ${IGNORE_FILE#"$CTX/"} (the whole directory: $(du -sh "$CTX" 2>/dev/null | cut -f1))"

PLAN="$RUN_DIR/plan.sh"
helper parse "$DOCKERFILE" >"$PLAN"
log "plan from $DOCKERFILE_REL:"
sed 's/^/    /' "$PLAN" >&2

# ---------------------------------------------------------------------------------------------
# Base images.
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # debian images' ENV PATH
BASE="$EMU_DIR/base/bookworm-minbase"

ensure_base() {
  [ -f "$BASE/.emu-complete" ] && return 0
  rm -rf "$BASE"; mkdir -p "$BASE"
  log "debootstrap --variant=minbase bookworm (once; cached in $BASE)"
  debootstrap --variant=minbase --arch=amd64 bookworm "$BASE" "$MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$LOG_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $LOG_DIR/debootstrap.log)"; }
  # What Debian's Docker images add on top of debootstrap (docker-library/debuerreotype):
  # apt/dpkg settings for containers, deb822 sources with updates and security, no apt lists.
  printf '#!/bin/sh\nexit 101\n' >"$BASE/usr/sbin/policy-rc.d"; chmod 0755 "$BASE/usr/sbin/policy-rc.d"
  echo 'force-unsafe-io' >"$BASE/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$BASE/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::GzipIndexes "true";' >"$BASE/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$BASE/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$BASE/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$BASE/etc/apt/sources.list"
  cat >"$BASE/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SEC_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$BASE"/var/lib/apt/lists/* "$BASE"/var/cache/apt/*.bin "$BASE"/var/cache/apt/archives/*.deb
  : >"$BASE/etc/resolv.conf"; : >"$BASE/etc/hostname"
  touch "$BASE/.emu-complete"
}

# debian:12-slim: the docs, man pages and locales the slim images leave out (and keep out via a
# dpkg path-exclude file so later apt installs do not bring them back).
slimify() {
  local r="$1"
  local excludes=(/usr/share/doc /usr/share/groff /usr/share/info /usr/share/linda /usr/share/lintian/overrides /usr/share/locale /usr/share/man)
  local includes=('/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*' '/usr/share/gnome/help/*/C/*' '/usr/share/locale/all_languages'
                  '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*' '/usr/share/locale/languages' '/usr/share/locale/locale.alias'
                  '/usr/share/omf/*/*-C.emf')
  {
    echo '# slim variant (emulated by scripts/docker-emulate.sh, as in Debian'"'"'s -slim images)'
    for e in "${excludes[@]}"; do echo "path-exclude $e/*"; done
    for i in "${includes[@]}"; do echo "path-include $i"; done
  } >"$r/etc/dpkg/dpkg.cfg.d/docker"
  local keep=() i
  for i in "${includes[@]}"; do keep+=(-o -path "$r$i"); done
  for e in "${excludes[@]}"; do
    [ -d "$r$e" ] || continue
    find "$r$e" -depth -mindepth 1 -not \( -false "${keep[@]}" \) -not \( -type d -o -type l \) -delete
    while [ -n "$(find "$r$e" -depth -mindepth 1 \( -empty -o -xtype l \) -print -delete 2>/dev/null | head -1)" ]; do :; done
  done
}

# ---------------------------------------------------------------------------------------------
# Stage interpreter: the functions the plan calls.
declare -A STAGE_BY_NAME=()
STAGE_ROOTS=()
STAGE_IDX=-1; ROOT=""; WORKDIR=/; STAGE_ENV=(); SKIP_STAGE=0
EXPOSE=(); VOLUMES=(); ENTRYPOINT=(); CMD=(); HC=(); RUNTIME_COPIED=()

bytes_h() { numfmt --to=iec --suffix=B --format='%.1f' "$1"; }
rootfs_size() { # prints "du -sh / apparent bytes" of a rootfs without /proc /sys /dev
  local r="$1"
  local dh ab
  dh=$(du -shx --exclude=./proc --exclude=./sys --exclude=./dev "$r" | cut -f1)
  ab=$(du -sbx --exclude=./proc --exclude=./sys --exclude=./dev "$r" | cut -f1)
  echo "$dh on disk, $(bytes_h "$ab") apparent"
}

stage_ops_hash() { # the plan lines of stage $1 (its FROM and instructions)
  awk -v i="$1" '$1 == "stage_begin" { in_stage = ($2 == i) } in_stage' "$PLAN" | sha256sum | cut -c1-16
}

stage_begin() {
  local idx="$1" image="$2" name="$3" where="$4"
  # The previous stage is done: mark it so that --reuse-build can skip it next time.
  if [ "$STAGE_IDX" -ge 0 ] && [ "$SKIP_STAGE" = 0 ]; then touch "$ROOT/.emu-complete"; fi
  STAGE_IDX=$idx; WORKDIR=/; STAGE_ENV=(); EXPOSE=(); VOLUMES=(); ENTRYPOINT=(); CMD=(); HC=(); SKIP_STAGE=0
  ROOT="$EMU_DIR/stages/$idx${name:+-$name}"
  STAGE_ROOTS[idx]="$ROOT"
  [ -n "$name" ] && STAGE_BY_NAME[$name]=$idx
  local plan_hash; plan_hash=$(stage_ops_hash "$idx")
  if [ "$REUSE_BUILD" = 1 ] && [ -n "$name" ] && [ -f "$ROOT/.emu-complete" ] && [ "$(cat "$ROOT/.emu-plan" 2>/dev/null)" = "$plan_hash" ]; then
    note "stage $idx ($name, $where): reusing the previous build of these instructions (--reuse-build; sources not compared)"
    SKIP_STAGE=1
    return
  fi
  case "$image" in
    debian:12|debian:bookworm|debian:12-slim|debian:bookworm-slim) ;;
    *) die "$where: FROM $image: only debian:12 and debian:12-slim can be emulated" ;;
  esac
  ensure_base
  log "stage $idx ($where): FROM $image"
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  cp -a "$BASE/." "$ROOT/"
  rm -f "$ROOT/.emu-complete"
  local what="debootstrap minbase rootfs (approximates $image)"
  if [[ "$image" == *-slim ]]; then
    slimify "$ROOT"
    what="debootstrap minbase rootfs, slimmed like Debian's -slim images (approximates $image)"
  fi
  note "stage $idx FROM $image: $what: $(rootfs_size "$ROOT")"
  if [[ "$image" == *-slim ]]; then
    SLIM_BASE_BYTES=$(du -sbx --exclude=./proc --exclude=./sys --exclude=./dev "$ROOT" | cut -f1)
    note "  as one gzip'd tar: $(bytes_h "$(tar -C "$ROOT" --exclude=./.emu-plan -cf - . | gzip -6 | wc -c)")"
    dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Package}\n' | sort >"$RUN_DIR/slim-packages.txt"
    for t in bash head grep; do
      if [ -x "$ROOT/usr/bin/$t" ] || [ -x "$ROOT/bin/$t" ]; then ok "debian:12-slim approximation has $t (HEALTHCHECK uses it)"
      else note "WARNING: $t missing from the slim base"; fi
    done
  fi
  echo "$plan_hash" >"$ROOT/.emu-plan"
}

stage_env_set() {
  local k="$1" v="$2" i
  for i in "${!STAGE_ENV[@]}"; do
    if [[ "${STAGE_ENV[i]}" == "$k="* ]]; then STAGE_ENV[i]="$k=$v"; return; fi
  done
  STAGE_ENV+=("$k=$v")
}

op_workdir() { [ "$SKIP_STAGE" = 1 ] && return; case "$1" in /*) WORKDIR="$1" ;; *) WORKDIR="${WORKDIR%/}/$1" ;; esac; mkdir -p "$ROOT$WORKDIR"; }
op_env() { stage_env_set "$1" "$2"; }

op_copy() {
  [ "$SKIP_STAGE" = 1 ] && return
  local where="$1" from="$2"; shift 2
  local src_root="$FILTERED_CTX"
  if [ -n "$from" ]; then
    local idx="${STAGE_BY_NAME[$from]:-$from}"
    [ -n "${STAGE_ROOTS[idx]:-}" ] || die "$where: COPY --from=$from: no such stage"
    src_root="${STAGE_ROOTS[idx]}"
  fi
  log "$where: COPY ${from:+--from=$from }$*"
  local out; out=$(helper copy "$src_root" "$ROOT" "$WORKDIR" "$@") || die "$where: COPY failed"
  if [ -n "$from" ]; then
    local f
    while read -r f; do [ -n "$f" ] && RUNTIME_COPIED+=("$f"); done <<<"$out"
    note "$where: COPY --from=$from $* -> $(wc -l <<<"$out") file(s), $(du -cb $out | tail -1 | cut -f1 | numfmt --to=iec --suffix=B)"
  else
    note "$where: COPY $* -> $(wc -l <<<"$out") file(s)"
  fi
}

# RUN: /bin/sh -c CMD in the stage root, in a private mount namespace (mounts end with it).
op_run() {
  [ "$SKIP_STAGE" = 1 ] && return
  local where="$1" form="$2"; shift 2
  local logf; logf="$LOG_DIR/run-stage$STAGE_IDX-$(echo "$where" | tr -c 'a-zA-Z0-9' _).log"
  local argv
  if [ "$form" = shell ]; then argv=(/bin/sh -c "$1"); else argv=("$@"); fi
  local env=(PATH="$IMAGE_PATH" HOME=/root HOSTNAME=buildkitsandbox "${STAGE_ENV[@]}")
  [ "$STAGE_IDX" -eq 0 ] && env+=(CMAKE_BUILD_PARALLEL_LEVEL="$JOBS")
  log "$where: RUN ${argv[*]: -1}  (log: $logf)"
  local before; before=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Package}\n' | sort)
  local t0; t0=$(date +%s)
  # shellcheck disable=SC2016
  if ! unshare --mount --propagation private -- /bin/sh -c '
      set -e; r="$1"; shift
      mount --rbind /dev "$r/dev"; mount -t proc proc "$r/proc"; mount -t sysfs sysfs "$r/sys"
      mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
      exec chroot "$r" "$@"' sh "$ROOT" /usr/bin/env -i -C "$WORKDIR" "${env[@]}" nice -n 10 "${argv[@]}" \
      </dev/null >"$logf" 2>&1 9>&-; then
    tail -30 "$logf" >&2
    die "$where: RUN failed (log: $logf)"
  fi
  local after; after=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Package}\n' | sort)
  local added; added=$(comm -13 <(echo "$before") <(echo "$after") | wc -l)
  note "$where: RUN ok in $(( $(date +%s) - t0 ))s ($added packages added)"
  if [ "$added" -gt 0 ]; then comm -13 <(echo "$before") <(echo "$after") >"$RUN_DIR/added-stage$STAGE_IDX.txt"; fi
}

meta_expose() { EXPOSE+=("$@"); }
meta_volume() { VOLUMES+=("$@"); }
meta_entrypoint() { ENTRYPOINT=("$@"); CMD=(); }
meta_cmd() { CMD=("$@"); }
meta_healthcheck() { HC=("$@"); }
meta_label() { :; }
meta_stopsignal() { [ "$1" = SIGTERM ] || die "STOPSIGNAL $1 not emulated"; }

# ---------------------------------------------------------------------------------------------
# Build every stage.
# shellcheck disable=SC1090
source "$PLAN"
FINAL="$ROOT"
touch "$FINAL/.emu-complete"
[ ${#ENTRYPOINT[@]} -gt 0 ] || [ ${#CMD[@]} -gt 0 ] || die "final stage has no ENTRYPOINT/CMD"
IMAGE_ARGV=("${ENTRYPOINT[@]}" "${CMD[@]}")
IMAGE_ENV=(PATH="$IMAGE_PATH" HOME=/root HOSTNAME=minikafka "${STAGE_ENV[@]}")
printf '%s\n' "${STAGE_ENV[@]}" >"$RUN_DIR/image-env.txt"
envval() { local kv; for kv in "${STAGE_ENV[@]}"; do [[ "$kv" == "$1="* ]] && { echo "${kv#*=}"; return; }; done; echo "${2:-}"; }
KPORT_IN=$(envval MINIKAFKA_PORT 9092)
APORT_IN=$(envval MINIKAFKA_ADMIN_PORT 9644)

# ---------------------------------------------------------------------------------------------
# The image: size and whether every copied binary finds its libraries.
for i in "${!STAGE_ROOTS[@]}"; do
  if [ "$i" -lt "$STAGE_IDX" ]; then note "stage $i rootfs (not in the image): $(rootfs_size "${STAGE_ROOTS[i]}")"; fi
done
note "image (final stage) rootfs: $(rootfs_size "$FINAL")"
FINAL_BYTES=$(du -sbx --exclude=./proc --exclude=./sys --exclude=./dev "$FINAL" | cut -f1)
note "  added on top of the slim base: $(bytes_h $((FINAL_BYTES - ${SLIM_BASE_BYTES:-0})))"
if [ -f "$RUN_DIR/added-stage$STAGE_IDX.txt" ]; then
  inst_kb=0
  mapfile -t added_pkgs <"$RUN_DIR/added-stage$STAGE_IDX.txt"
  while read -r kb; do inst_kb=$((inst_kb + kb)); done < <(
    dpkg-query --admindir="$FINAL/var/lib/dpkg" -W -f='${Installed-Size}\n' "${added_pkgs[@]}")
  note "  runtime packages added by RUN: $(wc -l <"$RUN_DIR/added-stage$STAGE_IDX.txt") ($(tr '\n' ' ' <"$RUN_DIR/added-stage$STAGE_IDX.txt")), apt Installed-Size $(bytes_h $((inst_kb * 1024)))"
fi
GZ_BYTES=$(tar -C "$FINAL" --exclude=./proc/* --exclude=./sys/* --exclude=./.emu-complete --exclude=./.emu-plan -cf - . | gzip -6 | wc -c)
note "  whole rootfs as one gzip'd tar (what a registry would store): $(bytes_h "$GZ_BYTES")"
for f in "${RUNTIME_COPIED[@]}"; do
  if file_type=$(head -c4 "$f" | od -An -c | tr -d ' ') && [ "$file_type" = '177ELF' ]; then
    missing=$(chroot "$FINAL" /usr/bin/ldd "${f#"$FINAL"}" 2>&1 | grep -E 'not found|not a dynamic' || true)
    [ -z "$missing" ] || die "${f#"$FINAL"} in the image: $missing (a runtime package is missing from the Dockerfile's RUN line)"
    ok "${f#"$FINAL"}: every shared library resolves inside the image (ldd)"
  fi
done

# ---------------------------------------------------------------------------------------------
# Containers: `docker run` emulated with namespaces.
HOSTS_FILE="$RUN_DIR/hosts"
# Docker bind-mounts /etc/hosts and /etc/resolv.conf into every container: mount points for them.
for f in hosts resolv.conf; do [ -e "$FINAL/etc/$f" ] || : >"$FINAL/etc/$f"; done
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tminikafka\n' >"$HOSTS_FILE"
CPID=""; UPID=""; PUBPID=""

# container_start NAME VOLUME_DIR [KEY=VALUE...]: runs the image's ENTRYPOINT with its ENV (plus
# the overrides, like `docker run -e`); sets UPID (unshare) and CPID (the container's pid 1).
container_start() {
  local name="$1" voldir="$2"; shift 2
  local env=("${IMAGE_ENV[@]}") kv i
  for kv in "$@"; do
    for i in "${!env[@]}"; do [[ "${env[i]}" == "${kv%%=*}="* ]] && unset 'env[i]'; done
    env+=("$kv")
  done
  local vol_mounts=""
  for v in "${VOLUMES[@]}"; do
    mkdir -p "$FINAL$v" "$voldir$v"
    vol_mounts+="mount --bind $(printf %q "$voldir$v") $(printf %q "$FINAL$v"); "
  done
  local devs=""
  for d in null zero full random urandom tty; do
    [ -e "$FINAL/dev/$d" ] || : >"$FINAL/dev/$d"
    devs+="mount --bind /dev/$d $(printf %q "$FINAL/dev/$d"); "
  done
  # shellcheck disable=SC2016
  unshare --pid --net --mount --uts --ipc --fork --kill-child --propagation private -- /bin/sh -c '
      set -e; r="$1"; shift
      ip link set lo up; echo minikafka >/proc/sys/kernel/hostname
      mount -t proc proc "$r/proc"
      mount --bind '"$(printf %q "$HOSTS_FILE")"' "$r/etc/hosts"
      mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
      '"$devs $vol_mounts"'
      exec chroot "$r" "$@"' sh "$FINAL" /usr/bin/env -i -C / "${env[@]}" "${IMAGE_ARGV[@]}" \
      </dev/null >"$LOG_DIR/container-$name.log" 2>&1 9>&- &
  UPID=$!
  CPID=""
  for _ in $(seq 200); do
    CPID=$(cat "/proc/$UPID/task/$UPID/children" 2>/dev/null | awk '{print $1}')
    if [ -n "$CPID" ] && [[ "$(readlink "/proc/$CPID/exe" 2>/dev/null)" == *"${IMAGE_ARGV[0]}" ]]; then break; fi
    kill -0 "$UPID" 2>/dev/null || { cat "$LOG_DIR/container-$name.log" >&2; die "container $name exited at once"; }
    sleep 0.05
  done
  [ -n "$CPID" ] || die "container $name: no pid 1"
}

# container_exec CMD...: like `docker exec` (namespaces, root, the image's ENV).
container_exec() {
  nsenter -t "$CPID" --net --mount --pid --uts --ipc --root --wd -- /usr/bin/env -i "${IMAGE_ENV[@]}" "$@"
}

publish() { # publish HOSTPORT:CONTAINERPORT...
  rm -f "$RUN_DIR/published"
  # Not through the helper function: $! must be python itself, not a subshell around it.
  "$PY" "$HELPER" publish "$CPID" "$RUN_DIR/published" "$@" >"$LOG_DIR/publish.log" 2>&1 9>&- &
  PUBPID=$!
  for _ in $(seq 100); do [ -f "$RUN_DIR/published" ] && return; sleep 0.05; done
  die "port publishing did not start: $(cat "$LOG_DIR/publish.log")"
}

# container_stop: `docker stop` (SIGTERM to pid 1, SIGKILL after 10 s); sets STOP_RC and STOP_MS.
container_stop() {
  local t0 rc=0; t0=$(date +%s%N)
  kill -TERM "$CPID"
  ( sleep 10; kill -KILL "$CPID" 2>/dev/null ) 9>&- & local killer=$!
  wait "$UPID" || rc=$?
  kill "$killer" 2>/dev/null || true; wait "$killer" 2>/dev/null || true
  if [ -n "$PUBPID" ]; then kill "$PUBPID" 2>/dev/null || true; wait "$PUBPID" 2>/dev/null || true; PUBPID=""; fi
  STOP_RC=$rc; STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# The HEALTHCHECK exactly as written: CMD-SHELL runs as /bin/sh -c "<cmd>" in the container.
[ ${#HC[@]} -ge 6 ] || die "the final stage has no HEALTHCHECK"
HC_TIMEOUT="${HC[1]}"; HC_FORM="${HC[4]}"; HC_ARGV=("${HC[@]:5}")
[ "$HC_FORM" = shell ] && HC_ARGV=(/bin/sh -c "${HC_ARGV[0]}")
healthcheck() { timeout "$HC_TIMEOUT" nsenter -t "$CPID" --net --mount --pid --uts --ipc --root --wd -- \
  /usr/bin/env -i "${IMAGE_ENV[@]}" "${HC_ARGV[@]}" >/dev/null 2>&1; }

wait_healthy() { # echoes ms until the HEALTHCHECK command first succeeds
  local t0; t0=$(date +%s%N)
  for _ in $(seq 400); do
    if healthcheck; then echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; fi
    sleep 0.025
  done
  return 1
}

KPORT_HOST=$(helper free-port "$KPORT_IN")
APORT_HOST=$(helper free-port "$APORT_IN")
EXTRA_ENV=()
if [ "$KPORT_HOST" != "$KPORT_IN" ]; then
  # The advertised-listener rule: the port clients are told must be the one they can reach.
  EXTRA_ENV+=(MINIKAFKA_PORT="$KPORT_HOST"); KPORT_IN="$KPORT_HOST"
  note "host port $(envval MINIKAFKA_PORT 9092) is taken: running with -e MINIKAFKA_PORT=$KPORT_HOST -p $KPORT_HOST:$KPORT_HOST"
fi

# 1. Startup time inside the container (fresh netns; the image's ENV unchanged).
printf '%s\n' "${IMAGE_ENV[@]}" "${EXTRA_ENV[@]}" >"$RUN_DIR/startup-env.txt"
t0=$(date +%s%N); chroot "$FINAL" /bin/true; chroot_cost_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
run_startup() { # label, extra env lines...
  local label="$1" root="$FINAL"; shift
  if [ "$label" = reference ]; then root="nochroot:$FINAL"; fi
  printf '%s\n' "${IMAGE_ENV[@]}" "${EXTRA_ENV[@]}" "$@" >"$RUN_DIR/startup-env.txt"
  local vol="$EMU_DIR/volumes/startup"; rm -rf "$vol"; mkdir -p "$vol"; mkdir -p "$FINAL/data"
  # shellcheck disable=SC2016
  unshare --net --mount --propagation private -- /bin/sh -c '
      set -e; r="$1"; shift
      ip link set lo up; mount -t proc proc "$r/proc"; mount --bind "$0" "$r/data"
      mount --bind '"$(printf %q "$HOSTS_FILE")"' "$r/etc/hosts"
      exec "$@"' "$vol" "$FINAL" "$PY" "$HELPER" startup "$root" "$SAMPLES" "$KPORT_IN" "$APORT_IN" \
      "$RUN_DIR/startup-env.txt" "${IMAGE_ARGV[@]}" >"$RUN_DIR/startup-$label.txt" 2>"$LOG_DIR/startup-$label.log" \
    || { cat "$LOG_DIR/startup-$label.log" >&2; die "startup measurement ($label) failed"; }
  local shown="$label"
  if [ "$label" = reference ]; then shown="memory, same binary outside the chroot"; fi
  while read -r line; do note "startup ($shown): $line"; done <"$RUN_DIR/startup-$label.txt"
}
run_startup memory
run_startup rocksdb MINIKAFKA_STORAGE=rocksdb MINIKAFKA_DATA_DIR=/data
# The same binary and ENV without the chroot (host's libraries), to tell the container's share.
run_startup reference

# 2. A container like `docker run -p 9092:9092 -p 9644:9644`, clients from the host.
VOL_MAIN="$EMU_DIR/volumes/main"; rm -rf "$VOL_MAIN"
container_start main "$VOL_MAIN" "${EXTRA_ENV[@]}"
publish "$KPORT_HOST:$KPORT_IN" "$APORT_HOST:$APORT_IN"
hc_ms=$(wait_healthy) || { cat "$LOG_DIR/container-main.log" >&2; die "the HEALTHCHECK command never succeeded"; }
ok "HEALTHCHECK command (${HC_ARGV[*]: -1}) succeeds inside the container ${hc_ms} ms after start (Docker runs it first after --interval=${HC[0]})"
for _ in 1 2 3; do healthcheck || die "HEALTHCHECK failed on a healthy broker"; done
t0=$(date +%s%N); healthcheck || die "HEALTHCHECK failed on a healthy broker"
ok "HEALTHCHECK passes repeatedly; one run takes $(( ($(date +%s%N) - t0) / 1000000 )) ms (timeout $HC_TIMEOUT)"
ok "container pid 1 is $(tr '\0' ' ' </proc/"$CPID"/cmdline | sed 's/ $//') with ENV $(tr '\0' '\n' </proc/"$CPID"/environ | grep -c '^MINIKAFKA_') MINIKAFKA_* variables"

if out=$(timeout 30 kcat -b "localhost:$KPORT_HOST" -L 2>&1); then
  ok "kcat -L via the published port: $(grep -m1 'broker' <<<"$out" | sed 's/^ *//')"
else
  echo "$out" >&2; die "kcat -L failed"
fi
printf 'a:1\nb:2\nc:3\n' | timeout 30 kcat -b "localhost:$KPORT_HOST" -P -t emu-kcat -K: || die "kcat produce failed"
n=$(timeout 30 kcat -b "localhost:$KPORT_HOST" -C -t emu-kcat -o beginning -e -q | wc -l)
[ "$n" -eq 3 ] || die "kcat consumed $n of 3"
ok "kcat produced 3 and consumed 3 (topic auto-created) via localhost:$KPORT_HOST"
helper clients "$KPORT_HOST" "$APORT_HOST" emu-orders >"$RUN_DIR/clients.txt" 2>"$LOG_DIR/clients.log" \
  || { cat "$LOG_DIR/clients.log" >&2; die "kafka-python clients failed"; }
while read -r line; do ok "$line"; done <"$RUN_DIR/clients.txt"
code=$("$PY" -c "import sys; sys.path.insert(0, '$RUN_DIR'); import emu_helper as h; print(h.http_get('127.0.0.1', $APORT_HOST, '/health')[0])")
[ "$code" = 200 ] || die "GET /health via the published admin port -> $code"
ok "GET /health via the published admin port $APORT_HOST -> 200"
topics=$(container_exec timeout 20 "${IMAGE_ARGV[0]}" topics --bootstrap-server "localhost:$KPORT_IN" --list 2>&1) || { echo "$topics" >&2; die "'minikafka topics --list' inside the container failed"; }
grep -qx emu-orders <<<"$topics" || die "'minikafka topics --list' in the container did not list emu-orders: $topics"
ok "docker exec-like: 'minikafka topics --list' inside the container lists $(echo "$topics" | tr '\n' ' ')"
container_stop
[ "$STOP_RC" = 0 ] || die "docker stop: pid 1 exited with $STOP_RC"
ok "docker stop (SIGTERM to pid 1): exit 0 after ${STOP_MS} ms"

# 3. HEALTHCHECK must fail without a broker, and must follow MINIKAFKA_ADMIN_PORT.
if timeout "$HC_TIMEOUT" unshare --net --mount --propagation private -- /bin/sh -c 'ip link set lo up; exec chroot "$0" /usr/bin/env -i "$@"' \
     "$FINAL" "${IMAGE_ENV[@]}" "${HC_ARGV[@]}" >/dev/null 2>&1; then
  die "the HEALTHCHECK command succeeds with no broker running"
fi
ok "HEALTHCHECK fails (non-zero) when nothing listens"
container_start adminport "$EMU_DIR/volumes/adminport" "${EXTRA_ENV[@]}" MINIKAFKA_ADMIN_PORT=29644
IMAGE_ENV_SAVED=("${IMAGE_ENV[@]}"); IMAGE_ENV+=(MINIKAFKA_ADMIN_PORT=29644)
wait_healthy >/dev/null || die "HEALTHCHECK fails when MINIKAFKA_ADMIN_PORT=29644 (it must follow the variable)"
IMAGE_ENV=("${IMAGE_ENV_SAVED[@]}")
container_stop
ok "HEALTHCHECK follows -e MINIKAFKA_ADMIN_PORT=29644"

# 4. docker-compose.yml: syntax, review, and its RocksDB volume example across a restart.
COMPOSE="$CTX/$COMPOSE_REL"
"$PY" -c "import yaml,sys; yaml.safe_load(open(sys.argv[1]))" "$COMPOSE" || die "$COMPOSE_REL is not valid YAML"
ok "$COMPOSE_REL parses as YAML"
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$COMPOSE" config -q || die "docker compose config rejects $COMPOSE_REL"
  ok "docker compose config accepts $COMPOSE_REL"
elif command -v docker-compose >/dev/null; then
  docker-compose -f "$COMPOSE" config -q || die "docker-compose config rejects $COMPOSE_REL"
  ok "docker-compose $(docker-compose version --short 2>/dev/null) config accepts $COMPOSE_REL (no 'docker compose' plugin here)"
else
  note "no compose CLI installed: compose file checked as YAML only"
fi
helper compose-review "$COMPOSE" "$RUN_DIR/image-env.txt" >"$RUN_DIR/compose-review.txt" 2>&1 \
  || { cat "$RUN_DIR/compose-review.txt" >&2; die "compose review found problems"; }
while read -r line; do ok "compose: $line"; done <"$RUN_DIR/compose-review.txt"
mapfile -t PERSIST_ENV < <(helper compose "$COMPOSE" minikafka MINIKAFKA_STORAGE=rocksdb)
grep -q '^MINIKAFKA_STORAGE=rocksdb$' <(printf '%s\n' "${PERSIST_ENV[@]}") || die "compose: MINIKAFKA_STORAGE=rocksdb does not select RocksDB for service minikafka"
VOL_PERSIST="$EMU_DIR/volumes/minikafka-data"; rm -rf "$VOL_PERSIST"
container_start persist1 "$VOL_PERSIST" "${PERSIST_ENV[@]}" "${EXTRA_ENV[@]}"
publish "$KPORT_HOST:$KPORT_IN" "$APORT_HOST:$APORT_IN"
wait_healthy >/dev/null || die "rocksdb container never healthy: $(cat "$LOG_DIR/container-persist1.log")"
helper produce-consume "$KPORT_HOST" emu-persist 10 produce >/dev/null 2>>"$LOG_DIR/clients.log" || die "produce to the rocksdb container failed"
container_stop
[ "$STOP_RC" = 0 ] || die "rocksdb container exited with $STOP_RC on SIGTERM"
container_start persist2 "$VOL_PERSIST" "${PERSIST_ENV[@]}" "${EXTRA_ENV[@]}"
publish "$KPORT_HOST:$KPORT_IN" "$APORT_HOST:$APORT_IN"
wait_healthy >/dev/null || die "rocksdb container never healthy after restart"
helper produce-consume "$KPORT_HOST" emu-persist 10 consume >/dev/null 2>>"$LOG_DIR/clients.log" \
  || { tail -5 "$LOG_DIR/clients.log" >&2; die "messages lost across the restart"; }
ok "compose RocksDB example (MINIKAFKA_STORAGE=rocksdb, volume at /data): 10 messages survive a container restart ($(du -sh "$VOL_PERSIST" | cut -f1) in the volume)"
# Compose services with network_mode "service:minikafka": their entrypoint, run from the image in
# the broker container's network namespace (what that network_mode means).
while read -r svc; do
  if [ "$KPORT_IN" != 9092 ]; then note "compose service $svc not run: it expects the broker on 9092, which was taken here"; continue; fi
  mapfile -t ep < <(helper compose-entrypoint "$COMPOSE" "$svc")
  # shellcheck disable=SC2016
  if ! out=$(timeout 30 nsenter -t "$CPID" --net -- unshare --pid --fork --kill-child --mount --propagation private -- /bin/sh -c '
        r="$1"; shift; mount -t proc proc "$r/proc" && mount --bind "$0" "$r/etc/hosts" && exec chroot "$r" "$@"' \
        "$HOSTS_FILE" "$FINAL" /usr/bin/env -i "${IMAGE_ENV[@]}" "${ep[@]}" 2>&1); then
    echo "$out" >&2; die "compose service $svc (${ep[*]}) failed in the broker's network namespace"
  fi
  ok "compose service $svc (network_mode service:minikafka): '${ep[*]}' -> $(echo "$out" | tr '\n' ' ')"
done < <(helper compose-netns-clients "$COMPOSE" minikafka)
container_stop

# ---------------------------------------------------------------------------------------------
{
  echo
  echo "===== docker-emulate summary ($(date -u +%Y-%m-%dT%H:%MZ), $(( $(date +%s) - T_START )) s) ====="
  echo "No Docker engine was used: debootstrap rootfs + chroot + namespaces stand in for the images,"
  echo "the build and the container. Base images are approximations of debian:12 / debian:12-slim."
  printf '%s\n' "${SUMMARY[@]}"
  echo "chroot exec overhead (chroot ROOT /bin/true): ${chroot_cost_ms} ms"
  echo "$CHECKS_OK checks passed. Work dir: $EMU_DIR (logs in $LOG_DIR)"
} | tee "$EMU_DIR/summary.txt"
