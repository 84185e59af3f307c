#!/usr/bin/python3
"""Derives, from an apache/kafka git history, the API version ranges each Kafka release
advertised, and writes them as a C++ table (broker/control/kafka_versions_table.inc) for
Kafka-version emulation (PUT /v1/control/api-versions {"kafka_version": "2.8"}).

    /usr/bin/python3 tools/kafka_versions.py --kafka /path/to/kafka.git > broker/control/kafka_versions_table.inc

For each release tag (x.y.0, or the newest candidate when the history has no final tag) the
range of every API key comes from the sources of that tag:
  * the JSON message schemas (clients/src/main/resources/common/message/<Name>Request.json):
    "validVersions", minus the last version when "latestVersionUnstable" is true (a broker does
    not advertise it by default), for every API whose ApiKeys entry uses the generated
    <Name>RequestData.SCHEMAS or ApiMessageType (2.2 onwards, all APIs from 2.8);
  * before that, the Java schema arrays the broker served: <Name>Request.schemaVersions()
    (1.0-2.7), or Protocol.java's REQUESTS[ApiKeys.X.id] arrays (0.10.x-0.11.x).
Ranges start at 0 in all of these releases. Kafka 4.0 is not in the history this was run on;
its ranges are added by hand from the 4.0-era schema copy listed in
/work/shared/kafka-protocol/INDEX.md (column "4.0.0 range"), with Produce advertised from 0
as a 4.0 broker does (INDEX.md note 1).

Only standard library; reads the repository with `git show` / `git ls-tree`.
"""

import argparse
import json
import re
import subprocess
import sys

RELEASES = ["0.10.2.0", "0.11.0.0", "1.0.0", "1.1.0", "2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0",
            "2.6.0", "2.7.0", "2.8.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0",
            "3.7.0", "3.8.0", "3.9.0"]
# The history may end before a final tag: then its newest release candidate.
FALLBACK = {"3.9.0": "3.9.0-rc3"}

MSG_DIR = "clients/src/main/resources/common/message"
JAVA = "clients/src/main/java/org/apache/kafka/common"

# Kafka 4.0.0 (INDEX.md, "4.0.0 range", client APIs; Produce advertised from 0, note 1).
KAFKA_4_0 = {0: (0, 12), 1: (4, 17), 2: (1, 10), 3: (0, 13), 8: (2, 9), 9: (1, 9), 10: (0, 6), 11: (2, 9),
             12: (0, 4), 13: (0, 5), 14: (0, 5), 15: (0, 6), 16: (0, 5), 17: (0, 1), 18: (0, 4), 19: (2, 7),
             20: (1, 6), 21: (0, 2), 22: (0, 5), 23: (2, 4), 24: (0, 5), 25: (0, 4), 26: (0, 5), 28: (0, 5),
             29: (1, 3), 30: (1, 3), 31: (1, 3), 32: (1, 4), 33: (0, 2), 35: (1, 4), 36: (0, 2), 37: (0, 3),
             42: (0, 2), 43: (0, 2)}


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def show(repo, tag, path):
    try:
        return git(repo, "show", f"{tag}:{path}")
    except subprocess.CalledProcessError:
        return None


def strip_comments(text):
    """Removes // comments (outside strings): the schemas are JSON with comments."""
    out, in_str, i = [], False, 0
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def json_ranges(repo, tag):
    """apiKey -> (min, max, name) from the JSON request schemas of `tag`."""
    out = {}
    names = git(repo, "ls-tree", "--name-only", f"{tag}:{MSG_DIR}").split()
    for n in names:
        if not n.endswith("Request.json"):
            continue
        # raw_decode: a few schemas have stray characters after the object (Kafka reads past them).
        spec, _ = json.JSONDecoder().raw_decode(strip_comments(show(repo, tag, f"{MSG_DIR}/{n}")).strip())
        if spec.get("type") != "request" or "apiKey" not in spec:
            continue
        lo, _, hi = spec["validVersions"].partition("-")
        lo, hi = int(lo), int(hi or lo)
        if spec.get("latestVersionUnstable"):
            hi -= 1
        if hi < lo:  # only an unstable version: not advertised at all
            continue
        out[spec["apiKey"]] = (lo, hi, spec["name"][: -len("Request")])
    return out


def schema_array_len(text, ident_or_method):
    """Entries of `new Schema[] {A, B, ...}` returned by a method or assigned to a field."""
    m = re.search(r"\b" + ident_or_method + r"\s*(?:\(\)\s*\{\s*return|=)\s*(?:new\s+Schema\[\]\s*)?\{([^}]*)\}", text, re.S)
    if not m:
        return None
    return len([x for x in m.group(1).split(",") if x.strip()])


def release_ranges(repo, tag):
    """apiKey -> (min, max) that the broker of `tag` advertised."""
    has_json = show(repo, tag, f"{MSG_DIR}/ProduceRequest.json") is not None
    js = json_ranges(repo, tag) if has_json else {}
    apikeys = show(repo, tag, f"{JAVA}/protocol/ApiKeys.java")
    if "ApiMessageType." in apikeys:  # every API generated from the JSON schemas
        return {k: v[:2] for k, v in js.items()}
    protocol = show(repo, tag, f"{JAVA}/protocol/Protocol.java") or ""
    ids = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*([A-Z_]+)\((\d+),", apikeys, re.M)}
    out = {}
    if "REQUESTS[ApiKeys." in protocol:  # 0.10.x / 0.11.x: REQUESTS[ApiKeys.X.id] = X_REQUEST;
        for const, array in re.findall(r"REQUESTS\[ApiKeys\.(\w+)\.id\]\s*=\s*(\w+);", protocol):
            n = schema_array_len(protocol, re.escape(array))
            if n and const in ids:
                out[ids[const]] = (0, n - 1)
        return out
    # 1.0-2.7: each enum entry names its schemas (Java arrays or generated ones); an entry may
    # wrap, so it runs up to the next entry.
    starts = list(re.finditer(r"^\s*([A-Z_]+)\((\d+),", apikeys, re.M))
    for i, m in enumerate(starts):
        body = apikeys[m.end(): starts[i + 1].start() if i + 1 < len(starts) else len(apikeys)]
        key = int(m.group(2))
        gen = re.search(r"(\w+)RequestData\.SCHEMAS", body)
        java = re.search(r"(\w+Request)\.schemaVersions\(\)", body)
        if gen and key in js:
            out[key] = js[key][:2]
        elif java:
            src = show(repo, tag, f"{JAVA}/requests/{java.group(1)}.java") or ""
            n = schema_array_len(src, r"schemaVersions")
            if n:
                out[key] = (0, n - 1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kafka", required=True, help="apache/kafka git repository (bare is fine)")
    args = ap.parse_args()
    tags = set(git(args.kafka, "tag").split())
    rows = []
    for rel in RELEASES:
        tag = rel if rel in tags else FALLBACK.get(rel)
        if tag not in tags:
            sys.exit(f"no tag for {rel}")
        ranges = release_ranges(args.kafka, tag)
        short = ".".join(rel.split(".")[:2]) if not rel.startswith("0.") else ".".join(rel.split(".")[:3])
        rows.append((short, tag, ranges))
    rows.append(("4.0", "4.0.0 (INDEX.md)", KAFKA_4_0))
    print("// Generated by tools/kafka_versions.py from the apache/kafka history (release tags listed")
    print("// per row). Do not edit: rerun the script. Included by broker/control/kafka_versions.cc.")
    print("// Each row: release, then {api key, min version, max version} for every API it advertised")
    print("// (keys 0-75).")
    for short, tag, ranges in rows:
        cells = ", ".join(f"{{{k}, {lo}, {hi}}}" for k, (lo, hi) in sorted(ranges.items()) if k <= 75)
        print(f"{{\"{short}\", /* {tag} */ {{{cells}}}}},")


if __name__ == "__main__":
    main()
