#!/usr/bin/env python3
"""Generates minikafka's message codecs from Kafka's JSON message schemas.

Usage: gen_protocol.py [--check] SCHEMA_DIR OUT_DIR [TEST_OUT_DIR]

SCHEMA_DIR is Kafka's clients/src/main/resources/common/message/ folder (the committed output
was generated from Apache Kafka 3.9.0, tag 3.9.0-rc3, see ../shared/kafka-protocol/SOURCE.md).
For each message listed in MESSAGES it writes OUT_DIR/<snake_name>.h and .cc holding one struct
that covers every version: fields a version does not carry decode to their defaults, tagged
fields are written only when they differ from their default, and unknown tagged fields survive
a round trip. It also writes api_keys.h (every API key's name, version range and first flexible
version) and all_messages.h. With --check it only compares and exits 1 when OUT_DIR is stale.

For every API in APIS it also writes, from the request and response schemas together:
  * error_responses.{h,cc}: error_response(key, version, body, error), the API's own response
    with the error in every error field, one entry per entry of the request where the response
    answers a request array (see "error responses and request summaries" below for how the
    generator decides what mirrors what, and MIRROR_OVERRIDES / ERROR_VALUES for the exceptions);
  * request_summary.{h,cc}: summarize_request(key, version, body), the topics (by name or id),
    partitions, group ids and transactional ids the request names (SUMMARY_SKIP, SUMMARY_EXTRA).
Each function in error_responses.cc opens with a comment listing the arrays it mirrors.

With TEST_OUT_DIR (tests/generated/) it also writes test-only code there: for every struct a
`randomize(msg, version, rng)` overload that fills each field present at that version with random
values, a `to_node(msg, version)` overload giving the fields present at that version as a generic
tree (test_node, by schema field name), and a registry of every message type (name, API key,
version range) with type-erased randomize/encode/decode/equals/to_node, so one test can loop over
all messages and versions (see tests/unit/protocol_roundtrip_test.cc and
protocol_error_response_test.cc). --check then covers both folders.
"""
import json
import os
import re
import sys

KAFKA_RELEASE = "3.9.0"

# Messages minikafka serves (requests and responses are both generated for each API name).
APIS = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch",
    "FindCoordinator", "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups",
    "ListGroups", "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics",
    "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn",
    "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit", "DescribeConfigs", "AlterConfigs",
    "SaslAuthenticate", "CreatePartitions", "DeleteGroups", "IncrementalAlterConfigs",
    "OffsetDelete", "DescribeCluster", "DescribeProducers", "DescribeLogDirs",
    "DescribeTopicPartitions", "DescribeTransactions", "ListTransactions", "ElectLeaders",
]
DATA = ["ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]

PRIMS = {
    "bool": ("bool", "false", 1),
    "int8": ("int8_t", "0", 1),
    "int16": ("int16_t", "0", 2),
    "uint16": ("uint16_t", "0", 2),
    "int32": ("int32_t", "0", 4),
    "int64": ("int64_t", "0", 8),
    "float64": ("double", "0", 8),
    "uuid": ("::mk::proto::uuid", None, 16),
    "string": ("std::string", None, 1),
    "bytes": ("std::string", None, 1),
    "records": ("::mk::proto::records", None, 1),
}
READ = {"bool": "boolean", "int8": "i8", "int16": "i16", "uint16": "u16", "int32": "i32",
        "int64": "i64", "float64": "f64", "uuid": "read_uuid"}
WRITE = {"bool": "boolean", "int8": "i8", "int16": "i16", "uint16": "u16", "int32": "i32",
         "int64": "i64", "float64": "f64", "uuid": "write_uuid"}

CPP_KEYWORDS = {"default", "delete", "new", "class", "operator", "register", "template", "public",
                "private", "protected", "this", "throw", "try", "catch", "case", "switch", "union",
                "namespace", "friend", "virtual", "auto", "int", "char", "bool", "long", "short",
                "float", "double", "const", "static", "signed", "unsigned", "void", "return",
                "if", "else", "for", "while", "do", "break", "continue", "struct", "enum",
                "typedef", "inline", "explicit", "export", "extern", "mutable", "sizeof",
                "typename", "using", "volatile", "and", "or", "not", "xor", "asm", "concept",
                "requires", "records", "uuid", "reader", "writer", "v", "w", "r", "flex"}

INF = 1 << 15


def strip_comments(text):
    return re.sub(r"^\s*//.*$", "", text, flags=re.M)


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def member_name(name):
    n = snake(name)
    return n + "_" if n in CPP_KEYWORDS else n


def parse_versions(s):
    if s is None or s == "none":
        return None
    if s.endswith("+"):
        return (int(s[:-1]), INF)
    if "-" in s:
        a, b = s.split("-")
        return (int(a), int(b))
    return (int(s), int(s))


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def present_versions(gen, f):
    """The versions (within the message's valid range) in which field f is on the wire."""
    return intersect(parse_versions(f.get("taggedVersions") or f["versions"]), gen.valid)


class Gen:
    def __init__(self, spec, filename):
        self.spec = spec
        self.filename = filename
        self.valid = parse_versions(spec["validVersions"])
        self.flex = parse_versions(spec.get("flexibleVersions", "none"))
        self.common = {c["name"]: c for c in spec.get("commonStructs", [])}
        self.structs = []  # (cpp_name, fields, is_top) in dependency order
        self.defined = {}

    # C++ condition for "version v is in range r" within this message's valid versions.
    def cond(self, r):
        r = intersect(r, self.valid)
        if r is None:
            return "false"
        lo, hi = r
        parts = []
        if lo > self.valid[0]:
            parts.append(f"v >= {lo}")
        if hi < self.valid[1]:
            parts.append(f"v <= {hi}")
        return " && ".join(parts) if parts else "true"

    def flex_cond(self):
        return self.cond(self.flex)

    def struct_type_name(self, type_name, sibling_fields, own_fields=()):
        # A member named like its own struct (DescribeTransactions' TransactionState has a
        # TransactionState string) or like a sibling would change the name's meaning in C++.
        base = snake(type_name)
        members = {member_name(f["name"]) for f in sibling_fields} | {member_name(f["name"]) for f in own_fields}
        if base in members or base in CPP_KEYWORDS:
            base += "_entry"
        return base

    def collect(self, fields, scope_fields):
        """Registers nested struct types reachable from fields (depth first)."""
        for f in fields:
            t = f["type"]
            elem = t[2:] if t.startswith("[]") else t
            if elem in PRIMS:
                continue
            sub = f.get("fields")
            if sub is None:
                sub = self.common[elem]["fields"]
            cname = self.struct_type_name(elem, scope_fields, sub)
            f["_ctype"] = cname
            if cname in self.defined:
                continue
            self.defined[cname] = True
            self.collect(sub, sub)
            self.structs.append((cname, sub))

    def field_cpp_type(self, f):
        t = f["type"]
        nullable = parse_versions(f.get("nullableVersions")) is not None
        if t.startswith("[]"):
            elem = t[2:]
            et = PRIMS[elem][0] if elem in PRIMS else f["_ctype"]
            base = f"std::vector<{et}>"
            return f"std::optional<{base}>" if nullable else base
        if t in PRIMS:
            if t in ("string", "bytes") and nullable:
                return "std::optional<std::string>"
            return PRIMS[t][0]
        return f"std::optional<{f['_ctype']}>" if nullable else f["_ctype"]

    def field_default(self, f):
        t = f["type"]
        d = f.get("default")
        nullable = parse_versions(f.get("nullableVersions")) is not None
        if t.startswith("[]"):
            return "std::nullopt" if (nullable and d == "null") else None
        if t in ("string", "bytes"):
            if nullable:
                return "std::nullopt" if d == "null" else 'std::string()'
            return f'"{d}"' if d else None
        if t == "records":
            return None  # records default to null
        if t == "bool":
            return "true" if str(d).lower() == "true" else "false"
        if t in ("int8", "int16", "uint16", "int32", "int64"):
            val = int(str(d), 0) if d is not None else 0
            if t == "int32" and val == -2147483648:
                return "INT32_MIN"
            return str(val)
        if t == "float64":
            return str(float(d)) if d is not None else "0.0"
        if t == "uuid":
            return None
        # struct
        if nullable and d == "null":
            return "std::nullopt"
        return None

    # ---- encoding -------------------------------------------------------------------------
    def enc_value(self, t, expr, f, flex, ind):
        """Code writing value `expr` of schema type t. flex is a C++ boolean expression."""
        nullable = parse_versions(f.get("nullableVersions")) is not None
        nv = self.cond(parse_versions(f.get("nullableVersions")))
        out = []
        if t.startswith("[]"):
            elem = t[2:]
            if nullable:
                # Null is only writable where the schema allows it; elsewhere it goes out as an
                # empty array (as null strings go out as ""), never as a length the decoder rejects.
                present = intersect(parse_versions(f.get("taggedVersions") or f["versions"]), self.valid)
                nullable_r = parse_versions(f.get("nullableVersions"))
                null_len = "-1" if intersect(present, nullable_r) == present else f"({nv}) ? -1 : 0"
                out.append(f"{ind}if (!{expr}) {{ w.array_len({null_len}, {flex}); }} else {{")
                out += self.enc_array(elem, f"(*{expr})", f, flex, ind + "  ")
                out.append(f"{ind}}}")
            else:
                out += self.enc_array(elem, expr, f, flex, ind)
            return out
        if t in WRITE:
            return [f"{ind}w.{WRITE[t]}({expr});"]
        if t == "string":
            if nullable:
                return [f"{ind}if ({nv}) w.nullable_string({expr}, {flex}); else w.string({expr} ? *{expr} : std::string(), {flex});"]
            return [f"{ind}w.string({expr}, {flex});"]
        if t == "bytes":
            if nullable:
                return [f"{ind}if ({nv}) w.nullable_bytes({expr}, {flex}); else w.bytes({expr} ? *{expr} : std::string(), {flex});"]
            return [f"{ind}w.bytes({expr}, {flex});"]
        if t == "records":
            return [f"{ind}w.write_records({expr}, {flex});"]
        # struct
        if nullable:
            return [f"{ind}if (!{expr}) {{ w.i8(-1); }} else {{ w.i8(1); {expr}->encode(w, v); }}"]
        return [f"{ind}{expr}.encode(w, v);"]

    def enc_array(self, elem, expr, f, flex, ind):
        out = [f"{ind}w.array_len(static_cast<int64_t>({expr}.size()), {flex});",
               f"{ind}for (const auto& e : {expr}) {{"]
        if elem in PRIMS:
            out += self.enc_value(elem, "e", {"type": elem}, flex, ind + "  ")
        else:
            out.append(f"{ind}  e.encode(w, v);")
        out.append(f"{ind}}}")
        return out

    # ---- decoding -------------------------------------------------------------------------
    def is_flex_version(self, v):
        return self.flex is not None and self.flex[0] <= v <= self.flex[1]

    def struct_fields(self, f):
        elem = f["type"][2:] if f["type"].startswith("[]") else f["type"]
        return f.get("fields") or self.common[elem]["fields"]

    def wire_min(self, t, f, v):
        """Fewest bytes a value of schema type t (field f) takes on the wire at version v."""
        flex = self.is_flex_version(v)
        if t.startswith("[]") or t in ("string", "bytes", "records"):
            if flex:
                return 1  # compact length (0 = null, 1 = empty)
            return 2 if t == "string" else 4
        if t in PRIMS:
            return PRIMS[t][2]
        if parse_versions(f.get("nullableVersions")) is not None:
            return 1  # the -1 marker of a null struct
        return self.struct_wire_min(self.struct_fields(f), v)

    def struct_wire_min(self, fields, v):
        n = 1 if self.is_flex_version(v) else 0  # tag section count
        for f in fields:
            r = parse_versions(f["versions"])
            if f.get("taggedVersions") or r is None or not (r[0] <= v <= r[1]):
                continue
            n += self.wire_min(f["type"], f, v)
        return n

    def min_size(self, f, elem):
        """C++ expression for the fewest bytes one element of array field f takes at version v.
        array_len() rejects counts the remaining bytes cannot hold, so decoders may reserve()."""
        present = parse_versions(f["taggedVersions"] if f.get("taggedVersions") else f["versions"])
        lo, hi = intersect(present, self.valid)
        # The element itself is never null (only the array may be).
        ef = {"type": elem} if elem in PRIMS else {"type": elem, "fields": self.struct_fields(f)}
        runs = []  # [lo, hi, size] over the versions the field exists in
        for v in range(lo, hi + 1):
            m = self.wire_min(elem, ef, v)
            if runs and runs[-1][2] == m:
                runs[-1][1] = v
            else:
                runs.append([lo if not runs else v, v, m])
        if len(runs) == 1:
            return str(runs[0][2])
        return "(" + " : ".join(f"v <= {hi} ? {m}" for _, hi, m in runs[:-1]) + f" : {runs[-1][2]})"

    def dec_value(self, t, expr, f, flex, ind, reader="r"):
        nullable = parse_versions(f.get("nullableVersions")) is not None
        nv = self.cond(parse_versions(f.get("nullableVersions")))
        out = []
        if t.startswith("[]"):
            elem = t[2:]
            et = PRIMS[elem][0] if elem in PRIMS else f["_ctype"]
            ms = self.min_size(f, elem)
            out.append(f"{ind}{{")
            out.append(f"{ind}  int64_t n = {reader}.array_len({flex}, {ms});")
            if nullable:
                out.append(f"{ind}  if (n < 0) {{ if (!({nv})) {reader}.fail(); {expr}.reset(); }} else {{")
                out.append(f"{ind}    {expr}.emplace();")
                target = f"(*{expr})"
            else:
                out.append(f"{ind}  if (n < 0) {{ {reader}.fail(); }} else {{")
                target = expr
            out.append(f"{ind}    {target}.clear();")
            out.append(f"{ind}    {target}.reserve(static_cast<size_t>(n));")
            out.append(f"{ind}    for (int64_t i = 0; i < n && {reader}.ok(); ++i) {{")
            if elem in PRIMS:
                out.append(f"{ind}      {et} e{{}};")
                out += self.dec_value(elem, "e", {"type": elem}, flex, ind + "      ", reader)
                out.append(f"{ind}      {target}.push_back(std::move(e));")
            else:
                out.append(f"{ind}      {target}.emplace_back().decode({reader}, v);")
            out.append(f"{ind}    }}")
            out.append(f"{ind}  }}")
            out.append(f"{ind}}}")
            return out
        if t in READ:
            return [f"{ind}{expr} = {reader}.{READ[t]}();"]
        if t == "string":
            if nullable:
                return [f"{ind}if ({nv}) {expr} = {reader}.nullable_string({flex}); else {expr} = {reader}.string({flex});"]
            return [f"{ind}{expr} = {reader}.string({flex});"]
        if t == "bytes":
            if nullable:
                return [f"{ind}if ({nv}) {expr} = {reader}.nullable_bytes({flex}); else {expr} = {reader}.bytes({flex});"]
            return [f"{ind}{expr} = {reader}.bytes({flex});"]
        if t == "records":
            return [f"{ind}{expr} = {reader}.read_records({flex});"]
        if nullable:
            return [f"{ind}if ({reader}.i8() < 0) {expr}.reset(); else {expr}.emplace().decode({reader}, v);"]
        return [f"{ind}{expr}.decode({reader}, v);"]

    # ---- struct bodies --------------------------------------------------------------------
    def gen_struct_decl(self, cname, fields, ind, extra=""):
        out = [f"{ind}struct {cname} {{"]
        out += extra
        for f in fields:
            d = self.field_default(f)
            init = f" = {d}" if d is not None else "{}"
            out.append(f"{ind}  {self.field_cpp_type(f)} {member_name(f['name'])}{init};")
        out.append(f"{ind}  ::mk::proto::unknown_tags unknown_tagged_fields;")
        out.append("")
        out.append(f"{ind}  void encode(::mk::proto::writer& w, int16_t v) const;")
        out.append(f"{ind}  void decode(::mk::proto::reader& r, int16_t v);")
        out.append(f"{ind}  bool operator==(const {cname}&) const = default;")
        out.append(f"{ind}}};")
        return out

    def gen_struct_impl(self, qual, fields):
        flexc = self.flex_cond()
        regular = [f for f in fields if not f.get("taggedVersions")]
        tagged = sorted([f for f in fields if f.get("taggedVersions")], key=lambda f: f["tag"])
        out = []
        # encode
        out.append(f"void {qual}::encode(::mk::proto::writer& w, int16_t v) const {{")
        out.append("  (void)v;")
        out.append(f"  [[maybe_unused]] const bool flex = {flexc};")
        for f in regular:
            c = self.cond(parse_versions(f["versions"]))
            if c == "false":
                continue
            if c == "true":
                out += self.enc_value(f["type"], member_name(f["name"]), f, "flex", "  ")
            else:
                out.append(f"  if ({c}) {{")
                out += self.enc_value(f["type"], member_name(f["name"]), f, "flex", "    ")
                out.append("  }")
        if flexc != "false":
            out.append("  if (flex) {")
            out.append("    uint32_t ntags = static_cast<uint32_t>(unknown_tagged_fields.size());")
            for f in tagged:
                c = self.cond(parse_versions(f["taggedVersions"]))
                m = member_name(f["name"])
                d = self.field_default(f)
                if f["type"].startswith("[]"):
                    nd = f"!{m}.empty()" if d is None else f"{m}.has_value()"
                elif f["type"] == "uuid":
                    nd = f"!{m}.is_zero()"
                elif d is None:
                    nd = f"!({m} == decltype({m}){{}})"
                else:
                    nd = f"!({m} == decltype({m})({d}))"
                out.append(f"    const bool has_{m} = ({c}) && {nd};")
                out.append(f"    ntags += has_{m};")
            out.append("    w.uvarint(ntags);")
            out.append("    size_t u = 0;")
            for f in tagged:
                m = member_name(f["name"])
                out.append(f"    if (has_{m}) {{")
                if f["tag"] > 0:  # unknown tags below this one go first (tags ascend)
                    out.append(f"      while (u < unknown_tagged_fields.size() && unknown_tagged_fields[u].tag < {f['tag']}) {{")
                    out.append("        w.uvarint(unknown_tagged_fields[u].tag); w.uvarint(static_cast<uint32_t>(unknown_tagged_fields[u].data.size()));")
                    out.append("        w.raw(unknown_tagged_fields[u].data.data(), unknown_tagged_fields[u].data.size()); ++u;")
                    out.append("      }")
                # The lambda's parameter shadows the outer writer on purpose: the value is written
                # into its own buffer so its size can prefix it.
                out.append(f"      w.tagged_field({f['tag']}, [&](::mk::proto::writer& w) {{")
                out += self.enc_value(f["type"], m, f, "true", "        ")
                out.append("      });")
                out.append("    }")
            out.append("    for (; u < unknown_tagged_fields.size(); ++u) {")
            out.append("      w.uvarint(unknown_tagged_fields[u].tag); w.uvarint(static_cast<uint32_t>(unknown_tagged_fields[u].data.size()));")
            out.append("      w.raw(unknown_tagged_fields[u].data.data(), unknown_tagged_fields[u].data.size());")
            out.append("    }")
            out.append("  }")
        out.append("}")
        out.append("")
        # decode
        out.append(f"void {qual}::decode(::mk::proto::reader& r, int16_t v) {{")
        out.append("  (void)v;")
        out.append(f"  [[maybe_unused]] const bool flex = {flexc};")
        for f in regular:
            c = self.cond(parse_versions(f["versions"]))
            if c == "false":
                continue
            if c == "true":
                out += self.dec_value(f["type"], member_name(f["name"]), f, "flex", "  ")
            else:
                out.append(f"  if ({c}) {{")
                out += self.dec_value(f["type"], member_name(f["name"]), f, "flex", "    ")
                out.append("  }")
        if flexc != "false":
            out.append("  if (flex) {")
            out.append("    unknown_tagged_fields.clear();")
            out.append("    r.tagged_fields(unknown_tagged_fields, [&](uint32_t tag, ::mk::proto::reader& tr) -> bool {")
            out.append("      (void)tr;")
            out.append("      switch (tag) {")
            for f in tagged:
                c = self.cond(parse_versions(f["taggedVersions"]))
                m = member_name(f["name"])
                out.append(f"        case {f['tag']}:")
                out.append(f"          if (!({c})) return false;")
                out += self.dec_value(f["type"], m, f, "true", "          ", reader="tr")
                out.append("          return true;")
            out.append("        default:")
            out.append("          return false;")
            out.append("      }")
            out.append("    });")
            out.append("  }")
        out.append("}")
        out.append("")
        return out

    # ---- test support: random instances (TEST_OUT_DIR) ------------------------------------
    def rand_value(self, t, expr, f, ind):
        """Code giving `expr` (of schema type t) a random value valid at version v."""
        nullable = parse_versions(f.get("nullableVersions")) is not None
        nv = self.cond(parse_versions(f.get("nullableVersions")))
        out = []
        if t.startswith("[]"):
            elem = t[2:]
            if nullable:
                out.append(f"{ind}if (({nv}) && rng.one_in(5)) {{")
                out.append(f"{ind}  {expr}.reset();")
                out.append(f"{ind}}} else {{")
                out.append(f"{ind}  auto& a = {expr}.emplace();")
            else:
                out.append(f"{ind}{{")
                out.append(f"{ind}  auto& a = {expr};")
                out.append(f"{ind}  a.clear();")
            out.append(f"{ind}  for (size_t n = rng.below(4), i = 0; i < n; ++i) {{")
            if elem in PRIMS:
                out.append(f"{ind}    {PRIMS[elem][0]} e{{}};")
                out += self.rand_value(elem, "e", {"type": elem}, ind + "    ")
                out.append(f"{ind}    a.push_back(std::move(e));")
            else:  # now and then a default element (the smallest encoding, for most structs)
                out.append(f"{ind}    if (rng.one_in(6)) a.emplace_back(); else randomize(a.emplace_back(), v, rng);")
            out.append(f"{ind}  }}")
            out.append(f"{ind}}}")
            return out
        if t == "bool":
            return [f"{ind}{expr} = rng.boolean();"]
        if t in ("int8", "int16", "uint16", "int32", "int64"):
            return [f"{ind}{expr} = rng.integer<{PRIMS[t][0]}>();"]
        if t == "float64":
            return [f"{ind}{expr} = rng.f64();"]
        if t == "uuid":
            return [f"{ind}{expr} = rng.id();"]
        if t in ("string", "bytes"):
            if nullable:
                return [f"{ind}if (({nv}) && rng.one_in(4)) {expr} = std::nullopt; else {expr} = rng.str();"]
            return [f"{ind}{expr} = rng.str();"]
        if t == "records":
            return [f"{ind}{expr} = rng.recs({nv if nullable else 'false'});"]
        if nullable:
            return [f"{ind}if (({nv}) && rng.one_in(4)) {expr}.reset(); else randomize({expr}.emplace(), v, rng);"]
        return [f"{ind}randomize({expr}, v, rng);"]

    def gen_struct_rand(self, qual, fields, static):
        flexc = self.flex_cond()
        regular = [f for f in fields if not f.get("taggedVersions")]
        tagged = sorted([f for f in fields if f.get("taggedVersions")], key=lambda f: f["tag"])
        out = [f"{'static ' if static else ''}void randomize({qual}& m, int16_t v, ::mk::proto::test_rng& rng) {{",
               "  (void)v;",
               "  (void)rng;",
               f"  m = {qual}{{}};"]
        for f in regular:
            c = self.cond(parse_versions(f["versions"]))
            if c == "false":
                continue
            if c == "true":
                out += self.rand_value(f["type"], "m." + member_name(f["name"]), f, "  ")
                continue
            out.append(f"  if ({c}) {{")
            out += self.rand_value(f["type"], "m." + member_name(f["name"]), f, "    ")
            out.append("  }")
        for f in tagged:  # set about half of the time; otherwise they keep their defaults
            c = self.cond(parse_versions(f["taggedVersions"]))
            if c == "false":
                continue
            out.append(f"  if (({c}) && rng.one_in(2)) {{")
            out += self.rand_value(f["type"], "m." + member_name(f["name"]), f, "    ")
            out.append("  }")
        if flexc != "false":
            known = ", ".join(str(f["tag"]) for f in tagged)
            out.append(f"  if (({flexc}) && rng.one_in(8)) rng.add_unknown_tags(m.unknown_tagged_fields, {{{known}}});")
        out.append("}")
        out.append("")
        return out

    def generate_random(self, top):
        """randomize() overloads for the top struct (public) and its nested structs (file-local)."""
        out = []
        for cname, _ in self.structs:
            out.append(f"static void randomize({top}::{cname}& m, int16_t v, ::mk::proto::test_rng& rng);")
        if self.structs:
            out.append("")
        for cname, fields in self.structs:
            out += self.gen_struct_rand(f"{top}::{cname}", fields, True)
        out += self.gen_struct_rand(top, self.spec["fields"], False)
        return out

    # ---- test support: generic tree view (TEST_OUT_DIR) -----------------------------------
    def gen_struct_node(self, qual, fields, static):
        out = [f"{'static ' if static else ''}test_node to_node(const {qual}& m, int16_t v) {{",
               "  (void)v;",
               "  test_node n = test_node::object();"]
        for f in fields:
            c = self.cond(present_versions(self, f))
            if c == "false":
                continue
            add = f"n.add(\"{f['name']}\", node_of(m.{member_name(f['name'])}, v));"
            out.append(f"  {add}" if c == "true" else f"  if ({c}) {add}")
        out.append("  return n;")
        out.append("}")
        out.append("")
        return out

    def generate_nodes(self, top):
        """to_node() overloads: the value as a test_node holding the fields present at version v."""
        out = []
        for cname, _ in self.structs:
            out.append(f"static test_node to_node(const {top}::{cname}& m, int16_t v);")
        if self.structs:
            out.append("")
        for cname, fields in self.structs:
            out += self.gen_struct_node(f"{top}::{cname}", fields, True)
        out += self.gen_struct_node(top, self.spec["fields"], False)
        return out

    def generate(self):
        spec = self.spec
        top = snake(spec["name"])
        self.collect(spec["fields"], spec["fields"])
        for cname in list(self.common):
            pass
        hdr = []
        flex_first = self.flex[0] if self.flex else -1
        consts = [f"  static constexpr const char* name = \"{spec['name']}\";"]
        if "apiKey" in spec:
            consts.append(f"  static constexpr int16_t api_key = {spec['apiKey']};")
        consts += [
            f"  static constexpr int16_t min_version = {self.valid[0]};",
            f"  static constexpr int16_t max_version = {self.valid[1]};",
            f"  // First flexible version (compact encodings, tagged fields, header v2/v1); -1 = never.",
            f"  static constexpr int16_t first_flexible_version = {flex_first};",
            f"  static constexpr bool is_flexible(int16_t v) {{ return first_flexible_version >= 0 && v >= first_flexible_version; }}",
            "",
        ]
        for cname, fields in self.structs:
            consts += self.gen_struct_decl(cname, fields, "  ")
            consts.append("")
        hdr += self.gen_struct_decl(top, spec["fields"], "", consts)
        impl = []
        for cname, fields in self.structs:
            impl += self.gen_struct_impl(f"{top}::{cname}", fields)
        impl += self.gen_struct_impl(top, spec["fields"])
        return top, hdr, impl


def banner(schema_file):
    return (f"// Generated by tools/gen_protocol.py from Kafka {KAFKA_RELEASE} schema {schema_file}.\n"
            f"// Do not edit: change the generator and regenerate (target regenerate_protocol).\n")


def load(schema_dir, name):
    path = os.path.join(schema_dir, name + ".json")
    with open(path, encoding="utf-8") as fh:
        return json.loads(strip_comments(fh.read()))


TEST_BANNER = ("// Generated by tools/gen_protocol.py (test support, Kafka {release} schemas).\n"
               "// Do not edit: change the generator and regenerate (target regenerate_protocol).\n")

TEST_SUPPORT_H = r"""#pragma once

// Test-only helpers shared by the generated randomize() functions and the message registry
// (tests/generated/test_messages.h).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/wire.h"

namespace mk::proto {

// Deterministic random source for test messages. std::mt19937_64's sequence is fixed by the
// standard, so a seed reproduces the same messages with every compiler and library.
class test_rng {
 public:
  explicit test_rng(uint64_t seed = 1) : g_(seed) {}

  uint64_t next() { return g_(); }
  // Uniform-ish in [0, n); 0 when n == 0.
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  bool one_in(unsigned n) { return below(n) == 0; }
  bool boolean() { return (next() & 1) != 0; }

  // Any value of T, with 0, -1, min, max and small values over-represented.
  template <typename T>
  T integer() {
    switch (below(8)) {
      case 0:
        return T(0);
      case 1:
        return std::numeric_limits<T>::min();
      case 2:
        return std::numeric_limits<T>::max();
      case 3:
        return static_cast<T>(-1);
      case 4:
        return static_cast<T>(below(200));
      default:
        return static_cast<T>(next());
    }
  }

  // Any double but NaN (NaN != NaN would break equality checks; -0.0 and infinities are fine).
  double f64() {
    if (one_in(4)) return 0.0;
    if (one_in(3)) return static_cast<double>(static_cast<int64_t>(next())) / 1024.0;
    double d;
    do {
      uint64_t u = next();
      std::memcpy(&d, &u, sizeof d);
    } while (d != d);
    return d;
  }

  // Random bytes: empty a quarter of the time, usually short, sometimes a few hundred bytes.
  std::string str() {
    size_t n = one_in(4) ? 0 : one_in(16) ? 200 + below(400) : below(24);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(one_in(2) ? 'a' + below(26) : next());
    return s;
  }

  // A random non-zero uuid, or the zero uuid a quarter of the time.
  uuid id() {
    uuid u;
    if (one_in(4)) return u;
    for (auto& b : u.bytes) b = static_cast<uint8_t>(next());
    if (u.is_zero()) u.bytes[0] = 1;
    return u;
  }

  // Record data: null (when allowed), empty, or a random byte string in one or two chunks, some
  // longer than 512 bytes so the writer splices them in instead of copying.
  records recs(bool may_be_null) {
    if (may_be_null && one_in(4)) return records{};
    records r = records::empty_set();
    size_t n = one_in(4) ? 0 : one_in(5) ? 513 + below(1500) : 1 + below(64);
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = static_cast<uint8_t>(next());
    if (n >= 2 && one_in(2)) {
      size_t k = 1 + below(n - 1);
      r.chunks.push_back(shared_chunk::copy_of(b.data(), k));
      r.chunks.push_back(shared_chunk::copy_of(b.data() + k, n - k));
    } else if (n > 0) {
      r.chunks.push_back(shared_chunk::adopt(std::move(b)));
    }
    return r;
  }

  // Appends one or two tagged fields whose numbers are none of `known`, in ascending tag order
  // (as they appear on the wire), each holding a few random bytes.
  void add_unknown_tags(unknown_tags& out, std::initializer_list<uint32_t> known) {
    uint32_t top = 0;
    for (auto k : known) top = std::max(top, k + 1);
    std::vector<uint32_t> tags;
    const size_t want = 1 + below(2);
    while (tags.size() < want) {
      uint32_t t = one_in(4) ? static_cast<uint32_t>(1000 + below(100000)) : static_cast<uint32_t>(below(top + 4));
      if (std::find(known.begin(), known.end(), t) != known.end()) continue;
      if (std::find(tags.begin(), tags.end(), t) != tags.end()) continue;
      tags.push_back(t);
    }
    std::sort(tags.begin(), tags.end());
    for (auto t : tags) {
      std::string data(below(9), '\0');
      for (auto& c : data) c = static_cast<char>(next());
      out.push_back(unknown_tag{t, std::move(data)});
    }
  }

 private:
  std::mt19937_64 g_;
};

// A message value as a generic tree, for tests that check properties over every message type
// without knowing its struct: objects list the fields present at one version by schema name
// ("ErrorCode", "PartitionIndex") in schema order; integers and bools are `integer`, strings and
// bytes `text`, uuids `text` (32 hex digits), record data `text` ("<n> bytes"), null values `null`.
// Unknown tagged fields are left out.
struct test_node {
  enum class kind { null, integer, real, text, list, object };
  kind k = kind::null;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  std::vector<test_node> items;                            // list
  std::vector<std::pair<std::string, test_node>> fields;  // object

  static test_node object() {
    test_node n;
    n.k = kind::object;
    return n;
  }
  void add(std::string name, test_node value) { fields.emplace_back(std::move(name), std::move(value)); }
  // The field called `name`, or nullptr (also when this is not an object).
  const test_node* field(std::string_view name) const {
    for (const auto& [n, value] : fields)
      if (n == name) return &value;
    return nullptr;
  }
};

namespace detail {
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
}  // namespace detail

// A field's value as a test_node (the generated to_node() overloads call this for each field).
template <typename T>
test_node node_of(const T& x, int16_t v) {
  test_node n;
  if constexpr (detail::is_optional<T>::value) {
    if (x) return node_of(*x, v);
  } else if constexpr (detail::is_vector<T>::value) {
    n.k = test_node::kind::list;
    for (const auto& e : x) n.items.push_back(node_of(e, v));
  } else if constexpr (std::is_integral_v<T>) {
    n.k = test_node::kind::integer;
    n.integer = static_cast<int64_t>(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    n.k = test_node::kind::real;
    n.real = x;
  } else if constexpr (std::is_same_v<T, std::string>) {
    n.k = test_node::kind::text;
    n.text = x;
  } else if constexpr (std::is_same_v<T, uuid>) {
    n.k = test_node::kind::text;
    n.text = x.to_hex();
  } else if constexpr (std::is_same_v<T, records>) {
    if (!x.is_null) {
      n.k = test_node::kind::text;
      n.text = std::to_string(x.size()) + " bytes";
    }
  } else {
    n = to_node(x, v);  // a generated struct (found by argument-dependent lookup)
  }
  return n;
}

enum class message_kind { request, response, data };

// One message value behind a type-erased interface, for tests that loop over every message type.
class any_message {
 public:
  virtual ~any_message() = default;
  // Replaces the value with a random one valid at version v.
  virtual void randomize(int16_t v, test_rng& rng) = 0;
  virtual void encode(writer& w, int16_t v) const = 0;
  virtual void decode(reader& r, int16_t v) = 0;
  // Same message type and equal values (operator==, unknown tagged fields included).
  virtual bool equals(const any_message& other) const = 0;
  // The value as a generic tree of the fields present at version v.
  virtual test_node to_node(int16_t v) const = 0;
};

namespace detail {
// Called unqualified so argument-dependent lookup finds the generated randomize() overloads.
template <typename T>
void randomize_value(T& m, int16_t v, test_rng& rng) {
  randomize(m, v, rng);
}
template <typename T>
test_node node_value(const T& m, int16_t v) {
  return to_node(m, v);
}
}  // namespace detail

template <typename T>
class typed_message final : public any_message {
 public:
  T value;

  void randomize(int16_t v, test_rng& rng) override { detail::randomize_value(value, v, rng); }
  void encode(writer& w, int16_t v) const override { value.encode(w, v); }
  void decode(reader& r, int16_t v) override { value.decode(r, v); }
  bool equals(const any_message& other) const override {
    auto* o = dynamic_cast<const typed_message*>(&other);
    return o != nullptr && o->value == value;
  }
  test_node to_node(int16_t v) const override { return detail::node_value(value, v); }
};

template <typename T>
std::unique_ptr<any_message> make_message() {
  return std::make_unique<typed_message<T>>();
}

struct message_type {
  const char* name;  // schema name, e.g. "ProduceRequest"
  message_kind kind;
  int16_t api_key;  // -1 for data (non-API) messages
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible_version;  // -1 = never flexible
  std::unique_ptr<any_message> (*create)();
};

}  // namespace mk::proto
"""


def render_tests(schema_dir, names):
    """Test-only files for TEST_OUT_DIR: randomize() per message, support header, registry."""
    files = {}
    banner_t = TEST_BANNER.format(release=KAFKA_RELEASE)
    files["test_support.h"] = banner_t + TEST_SUPPORT_H
    entries = []
    decls = []
    node_decls = []
    for n in names:
        spec = load(schema_dir, n)
        g = Gen(spec, n + ".json")
        top, _, _ = g.generate()
        body = g.generate_random(top) + g.generate_nodes(top)
        files[top + "_random.cc"] = (
            banner(n + ".json") + f"// Test support: random {spec['name']} values, and their generic tree view.\n"
            f"#include \"protocol/generated/{top}.h\"\n#include \"tests/generated/test_support.h\"\n\n"
            "#include <climits>\n#include <cstdint>\n\nnamespace mk::proto {\n\n" + "\n".join(body) +
            "}  // namespace mk::proto\n")
        if "apiKey" in spec:
            kind = "message_kind::request" if spec["type"] == "request" else "message_kind::response"
            key = spec["apiKey"]
        else:
            kind, key = "message_kind::data", -1
        ff = g.flex[0] if g.flex else -1
        decls.append(f"void randomize({top}& m, int16_t v, test_rng& rng);")
        node_decls.append(f"test_node to_node(const {top}& m, int16_t v);")
        entries.append(f"      {{\"{spec['name']}\", {kind}, {key}, {g.valid[0]}, {g.valid[1]}, {ff}, &make_message<{top}>}},")
    h = [banner_t.rstrip("\n"), "#pragma once", "",
         "// Every generated message: random values and a registry for tests that cover all of them.", "",
         "#include <string_view>", "#include <vector>", "",
         "#include \"protocol/generated/all_messages.h\"", "#include \"tests/generated/test_support.h\"", "",
         "namespace mk::proto {", "",
         "// Fill every field present at version v with a random value (fields absent at v keep their",
         "// defaults; tagged fields are set about half of the time).",
         *decls, "",
         "// The fields present at version v as a generic tree (see test_node).",
         *node_decls, "",
         "// Every generated message type, requests and responses by API key, then data messages.",
         "const std::vector<message_type>& all_message_types();",
         "// The request or response type of an API key; nullptr if not generated.",
         "const message_type* find_message_type(message_kind kind, int16_t api_key);",
         "// By schema name (\"FetchRequest\"); nullptr if not generated.",
         "const message_type* find_message_type(std::string_view name);", "",
         "}  // namespace mk::proto", ""]
    files["test_messages.h"] = "\n".join(h)
    cc = [banner_t.rstrip("\n"), "#include \"tests/generated/test_messages.h\"", "",
          "namespace mk::proto {", "",
          "const std::vector<message_type>& all_message_types() {",
          "  static const std::vector<message_type> types = {",
          *entries,
          "  };",
          "  return types;",
          "}", "",
          "const message_type* find_message_type(message_kind kind, int16_t api_key) {",
          "  for (const auto& t : all_message_types())",
          "    if (t.kind == kind && t.api_key == api_key) return &t;",
          "  return nullptr;",
          "}", "",
          "const message_type* find_message_type(std::string_view name) {",
          "  for (const auto& t : all_message_types())",
          "    if (name == t.name) return &t;",
          "  return nullptr;",
          "}", "",
          "}  // namespace mk::proto", ""]
    files["test_messages.cc"] = "\n".join(cc)
    return files


def message_names():
    names = []
    for api in APIS:
        names += [api + "Request", api + "Response"]
    return names + DATA


def render_all(schema_dir):
    files = {}
    names = message_names()
    includes = []
    for n in names:
        spec = load(schema_dir, n)
        g = Gen(spec, n + ".json")
        top, hdr, impl = g.generate()
        h = banner(n + ".json") + "#pragma once\n\n#include <cstdint>\n#include <optional>\n#include <string>\n#include <vector>\n\n#include \"protocol/wire.h\"\n\nnamespace mk::proto {\n\n" + "\n".join(hdr) + "\n\n}  // namespace mk::proto\n"
        c = banner(n + ".json") + f"#include \"protocol/generated/{top}.h\"\n\n#include <climits>\n#include <cstdint>\n\nnamespace mk::proto {{\n\n" + "\n".join(impl) + "}  // namespace mk::proto\n"
        files[top + ".h"] = h
        files[top + ".cc"] = c
        includes.append(top)
    # api_keys.h: every API in the schema folder (requests), for header decoding and logging.
    rows = []
    for fn in sorted(os.listdir(schema_dir)):
        if not fn.endswith("Request.json"):
            continue
        spec = load(schema_dir, fn[:-5])
        if "apiKey" not in spec:
            continue
        valid = parse_versions(spec["validVersions"])
        flex = parse_versions(spec.get("flexibleVersions", "none"))
        rows.append((spec["apiKey"], spec["name"][:-len("Request")], valid, flex[0] if flex else -1))
    rows.sort()
    ak = [banner("*Request.json (all API keys)") + "#pragma once\n\n#include <cstdint>\n\nnamespace mk::proto {\n",
          "struct api_key_info {",
          "  int16_t key;",
          "  const char* name;",
          "  int16_t min_version;  // Kafka " + KAFKA_RELEASE + " validVersions",
          "  int16_t max_version;",
          "  int16_t first_flexible_version;  // -1 = never flexible",
          "};",
          "",
          "inline constexpr api_key_info all_api_keys[] = {"]
    for key, name, valid, ff in rows:
        ak.append(f"    {{{key}, \"{name}\", {valid[0]}, {valid[1]}, {ff}}},")
    ak += ["};", "",
           "// Information on `key`, or nullptr when Kafka " + KAFKA_RELEASE + " has no such API.",
           "inline const api_key_info* find_api_key(int16_t key) {",
           "  for (const auto& a : all_api_keys)",
           "    if (a.key == key) return &a;",
           "  return nullptr;",
           "}", "",
           "// Request header version for (key, version): 2 if flexible, else 1 (WIRE.md §1.4).",
           "inline int request_header_version(int16_t key, int16_t version) {",
           "  const api_key_info* a = find_api_key(key);",
           "  if (key == 7 && version == 0) return 0;  // ControlledShutdown v0",
           "  return (a && a->first_flexible_version >= 0 && version >= a->first_flexible_version) ? 2 : 1;",
           "}", "",
           "}  // namespace mk::proto", ""]
    files["api_keys.h"] = "\n".join(ak)
    am = banner("(index)") + "#pragma once\n\n" + "".join(f"#include \"protocol/generated/{t}.h\"\n" for t in includes)
    files["all_messages.h"] = am
    files.update(render_error_responses(schema_dir))
    return files


# ---- error responses and request summaries (OUT_DIR/error_responses.*, request_summary.*) -----
#
# error_response() answers any request of APIS with that API's own response carrying one error
# code, the way Kafka's AbstractRequest.getErrorResponse does by hand per API. The generator
# builds it from the two schemas:
#  * every int16 field whose name ends in "ErrorCode" gets the error, at every depth;
#  * nullable "ErrorMessage" fields are null;
#  * a response array of structs MIRRORS a request array when the response element has an
#    identifying field ("key", see field_kind) that the request element also has: one response
#    entry per request entry, keys copied, nested arrays mirrored the same way one level down.
#    Request arrays of strings or int32s (DescribeGroups' Groups, OffsetFetch's PartitionIndexes)
#    mirror by their element kind. Two request arrays that would both mirror one response array
#    at the same version stop the generator: MIRROR_OVERRIDES must then say which one;
#  * response arrays with no mirror stay empty, everything else keeps its schema default except
#    the values in ERROR_VALUES (Kafka's error responses use -1 where the schema's default is 0).
#
# summarize_request() walks the request schema with the same field kinds: an array whose element
# has a topic name or TopicId is one topic entry each; inside it, an array of elements with a
# partition key, or an int32 array named Partitions/PartitionIndexes, gives its partitions; string
# fields and string arrays of entityType groupId / transactionalId give group and transactional
# ids (null ones skipped); arrays of {ResourceType, ResourceName} give their TOPIC resources.
# SUMMARY_SKIP drops arrays that look like that but do not name what the request acts on, and
# SUMMARY_EXTRA adds code for what has no entityType (FindCoordinator keys).


# Identifying fields, by kind: a response key is copied from the request field of the same kind.
def field_kind(f):
    t, name, ent = f["type"], f["name"], f.get("entityType")
    if t == "string":
        if ent == "topicName":
            return "topic"
        if ent == "groupId":
            return "group"
        if ent == "transactionalId":
            return "transactional_id"
        if name in ("ResourceName", "MemberId", "GroupInstanceId"):
            return name
    if t == "uuid" and name == "TopicId":
        return "topic_id"
    if t == "int32" and name in ("Partition", "PartitionIndex", "PartitionId", "Index"):
        return "partition"
    if t == "int8" and name == "ResourceType":
        return "ResourceType"
    return None


# The kind of the elements of a request array of strings or int32s.
def element_kind(f):
    elem = f["type"][2:]
    if elem == "string":
        return field_kind({"type": "string", "name": "", "entityType": f.get("entityType")})
    if elem == "int32" and f["name"] in ("Partitions", "PartitionIndexes"):
        return "partition"
    return None


ELEMENT = "<element>"  # keys map: the request array's element itself is the value
SINGLE = "<single>"    # mirror source: one synthesized entry, nested arrays see the same request scope

# (API, response array path) -> where its entries come from, when the heuristic is wrong or blind.
MIRROR_OVERRIDES = {
    # Topics and ForgottenTopicsData have the same keys; forgotten topics are not answered.
    ("Fetch", "Responses"): {"from": "Topics"},
    ("ShareFetch", "Responses"): {"from": "Topics"},  # not in APIS yet (Kafka 4.0)
    # v4+ batches coordinator keys; CoordinatorKeys has no entityType to match Key by.
    ("FindCoordinator", "Coordinators"): {"from": "CoordinatorKeys", "keys": {"Key": ELEMENT}},
    # Results are per log directory, which a request cannot name: one entry (LogDir "") carries
    # the error (v0-2 have no top-level ErrorCode) and lists the requested topics and partitions.
    ("DescribeLogDirs", "Results"): {"from": SINGLE},
}

# (API, response field path) -> C++ value, for fields where Kafka's error response differs from
# the schema default. `req` is the decoded request (only meaningful at the top level).
ERROR_VALUES = {
    ("Produce", "Responses.PartitionResponses.BaseOffset"): "-1",
    ("Fetch", "SessionId"): "req.session_id",
    ("Fetch", "Responses.Partitions.HighWatermark"): "-1",
    ("Fetch", "Responses.Partitions.Records"): "::mk::proto::records::empty_set()",
    ("OffsetFetch", "Topics.Partitions.CommittedOffset"): "-1",
    ("OffsetFetch", "Groups.Topics.Partitions.CommittedOffset"): "-1",
    ("DeleteRecords", "Topics.Partitions.LowWatermark"): "-1",
    ("InitProducerId", "ProducerEpoch"): "-1",
    ("FindCoordinator", "NodeId"): "-1",
    ("FindCoordinator", "Port"): "-1",
    ("FindCoordinator", "Coordinators.NodeId"): "-1",
    ("FindCoordinator", "Coordinators.Port"): "-1",
}

# summarize_request(): request arrays that do not name what the request acts on.
SUMMARY_SKIP = {
    ("Fetch", "ForgottenTopicsData"),         # topics leaving the fetch session
    ("ShareFetch", "ForgottenTopicsData"),
    ("CreateTopics", "Topics.Assignments"),   # replica placement of partitions still to be made
}
# Extra C++ statements for summarize_request() (req, v, s in scope).
SUMMARY_EXTRA = {
    # Key is a group id (KeyType 0) or a transactional id (KeyType 1).
    "FindCoordinator": [
        "if (v <= 3) add_coordinator_key(s, req.key_type, req.key);",
        "if (v >= 4)",
        "  for (const auto& k : req.coordinator_keys) add_coordinator_key(s, req.key_type, k);",
    ],
}
TOPIC_RESOURCE_TYPE = 2  # ConfigResource.Type.TOPIC: a DescribeConfigs/AlterConfigs resource naming a topic


def is_struct_array(f):
    return f["type"].startswith("[]") and f["type"][2:] not in PRIMS


def is_prim_array(f):
    return f["type"].startswith("[]") and f["type"][2:] in PRIMS


def is_nullable(f):
    return parse_versions(f.get("nullableVersions")) is not None


class ApiGen:
    """error_response / summarize_request code for one API from its request and response schemas."""

    def __init__(self, schema_dir, api):
        self.api = api
        self.req = Gen(load(schema_dir, api + "Request"), api + "Request.json")
        self.resp = Gen(load(schema_dir, api + "Response"), api + "Response.json")
        self.req_top, _, _ = self.req.generate()  # also names the nested structs
        self.resp_top, _, _ = self.resp.generate()
        if self.req.valid != self.resp.valid:
            raise SystemExit(f"{api}: request and response valid versions differ")
        self.valid = self.req.valid
        self.key = self.req.spec["apiKey"]
        self.notes = []  # human-readable mirror list for the generated comment
        self.used = set()  # ERROR_VALUES / SUMMARY_SKIP entries that matched a field

    def cond(self, r):
        return self.req.cond(r)

    # -- error responses ----------------------------------------------------------------------
    def mirror_sources(self, path, rf, req_fields):
        """[(versions, request field | SINGLE, {response key name: request field | ELEMENT})]."""
        ov = MIRROR_OVERRIDES.get((self.api, path))
        rpresent = present_versions(self.resp, rf)
        if ov and ov["from"] == SINGLE:
            return [(rpresent, SINGLE, {})]
        rkeys = [(f, field_kind(f)) for f in self.resp.struct_fields(rf) if field_kind(f)]
        found = []
        for g in req_fields or []:
            if not g["type"].startswith("[]") or (ov and g["name"] != ov["from"]):
                continue
            r = intersect(rpresent, present_versions(self.req, g))
            if r is None:
                continue
            keys = {}
            if ov and "keys" in ov:
                keys = dict(ov["keys"])
            elif is_prim_array(g):
                for f, kind in rkeys:
                    if kind == element_kind(g):
                        keys[f["name"]] = ELEMENT
            else:
                qfields = [q for q in self.req.struct_fields(g) if not q["type"].startswith("[]")]
                for f, kind in rkeys:
                    same = [q for q in qfields if field_kind(q) == kind]
                    if len(same) > 1:
                        same = [q for q in same if q["name"] == f["name"]]
                    if len(same) == 1:
                        keys[f["name"]] = same[0]
            if keys:
                found.append((r, g, keys))
        if ov and not found:
            raise SystemExit(f"MIRROR_OVERRIDES[{self.api}, {path}]: no request array {ov['from']} with those keys")
        for i, a in enumerate(found):
            for b in found[i + 1:]:
                if intersect(a[0], b[0]):
                    raise SystemExit(f"{self.api}Response.{path}: both {a[1]['name']} and {b[1]['name']} "
                                     "of the request could mirror it; add a MIRROR_OVERRIDES entry")
        return found

    def vrange(self, r):
        lo, hi = r
        return f"v{lo}" if lo == hi else f"v{lo}-{hi}"

    def fill(self, fields, out, req_fields, req_expr, path, ind, depth, within):
        """Statements giving the response struct `out` the error, mirroring `req_expr`; `within`
        is the version range the statements run in."""
        lines = []
        for f in fields:
            pv = present_versions(self.resp, f)
            if pv is None:
                continue
            m = member_name(f["name"])
            p = path + [f["name"]]
            ps = ".".join(p)
            t = f["type"]
            if (self.api, ps) in ERROR_VALUES:
                self.used.add(("value", ps))
                lines.append(f"{ind}{out}.{m} = {ERROR_VALUES[(self.api, ps)]};")
            elif t == "int16" and f["name"].endswith("ErrorCode"):
                lines.append(f"{ind}{out}.{m} = ec;")
            elif f["name"] == "ErrorMessage" and is_nullable(f):
                lines.append(f"{ind}{out}.{m} = std::nullopt;")
            elif is_struct_array(f):
                sub = self.resp.struct_fields(f)
                for r, src, keys in self.mirror_sources(ps, f, req_fields):
                    r = intersect(r, within)
                    if r is None:
                        continue
                    c = "true" if r == within else self.cond(r)
                    body_ind = ind if c == "true" else ind + "  "
                    o, e, a = f"o{depth}", f"e{depth}", f"a{depth}"
                    block = []
                    if src == SINGLE:
                        self.notes.append(f"{ps} ({self.vrange(r)}): one entry")
                        block.append(f"{body_ind}auto& {o} = fill({out}.{m}).emplace_back();")
                        block += self.fill(sub, o, req_fields, req_expr, p, body_ind, depth + 1, r)
                    else:
                        keydesc = ", ".join(f"{k} <- {'element' if q == ELEMENT else q['name']}" for k, q in keys.items())
                        self.notes.append(f"{ps} <- {src['name']} ({self.vrange(r)}): {keydesc}")
                        block.append(f"{body_ind}auto& {a} = fill({out}.{m});")
                        block.append(f"{body_ind}for (const auto& {e} : items({req_expr}.{member_name(src['name'])})) {{")
                        block.append(f"{body_ind}  auto& {o} = {a}.emplace_back();")
                        for k, q in keys.items():
                            srcv = e if q == ELEMENT else f"{e}.{member_name(q['name'])}"
                            block.append(f"{body_ind}  copy_key({o}.{member_name(k)}, {srcv});")
                        sub_req = None if is_prim_array(src) else self.req.struct_fields(src)
                        block += self.fill(sub, o, sub_req, e, p, body_ind + "  ", depth + 1, r)
                        block.append(f"{body_ind}}}")
                    if c == "true":
                        lines.append(f"{ind}{{")
                        lines += [("  " + x) for x in block]
                        lines.append(f"{ind}}}")
                    else:
                        lines.append(f"{ind}if ({c}) {{")
                        lines += block
                        lines.append(f"{ind}}}")
            elif t not in PRIMS and not t.startswith("[]") and not is_nullable(f):
                lines += self.fill(self.resp.struct_fields(f), f"{out}.{m}", None, None, p, ind, depth, within)
        return lines

    def error_function(self):
        name = snake(self.api)
        body = self.fill(self.resp.spec["fields"], "resp", self.req.spec["fields"], "req", [], "  ", 0, self.valid)
        out = [f"// {self.api} (key {self.key}, {self.vrange(self.valid)})."]
        out += [f"//   {n}" for n in self.notes] or ["//   no mirrored arrays"]
        out += [f"std::optional<writer> {name}_error(reader& r, int16_t v, int16_t ec) {{",
                f"  {self.req_top} req;",
                "  req.decode(r, v);",
                "  if (!r.ok()) return std::nullopt;",
                "  (void)ec;",
                f"  {self.resp_top} resp;"]
        out += body
        out += ["  writer w;",
                "  resp.encode(w, v);",
                "  return w;",
                "}", ""]
        return out

    # -- request summaries --------------------------------------------------------------------
    def summarize(self, fields, expr, topic, path, ind, depth, within):
        """Statements adding what `expr` names to summary `s`; `topic` is the current topic entry
        and `within` the version range the statements run in."""
        lines = []
        for f in fields:
            pv = intersect(present_versions(self.req, f), within)
            if pv is None:
                continue
            p = path + [f["name"]]
            if (self.api, ".".join(p)) in SUMMARY_SKIP:
                self.used.add(("skip", ".".join(p)))
                continue
            c = "true" if pv == within else self.cond(pv)
            v = f"{expr}.{member_name(f['name'])}"
            stmts = []
            e = f"e{depth}"
            if is_struct_array(f):
                sub = self.req.struct_fields(f)
                kinds = {field_kind(q): q for q in sub if not q["type"].startswith("[]") and field_kind(q)}
                if topic is None and ("topic" in kinds or "topic_id" in kinds):
                    t = f"t{depth}"
                    inner = [f"{ind}  auto& {t} = s.topics.emplace_back();"]
                    if "topic" in kinds:
                        q = kinds["topic"]
                        qc = self.sub_cond(q, pv)
                        st = f"set_name({t}.name, {e}.{member_name(q['name'])});"
                        inner.append(f"{ind}  {st}" if qc == "true" else f"{ind}  if ({qc}) {st}")
                    if "topic_id" in kinds:
                        q = kinds["topic_id"]
                        qc = self.sub_cond(q, pv)
                        st = f"{t}.id = {e}.{member_name(q['name'])};"
                        inner.append(f"{ind}  {st}" if qc == "true" else f"{ind}  if ({qc}) {st}")
                    inner += self.summarize(sub, e, t, p, ind + "  ", depth + 1, pv)
                    stmts = [f"{ind}for (const auto& {e} : items({v})) {{"] + inner + [f"{ind}}}"]
                elif topic is not None and "partition" in kinds:
                    q = kinds["partition"]
                    stmts = [f"{ind}for (const auto& {e} : items({v})) {topic}.partitions.push_back({e}.{member_name(q['name'])});"]
                elif topic is None and "ResourceType" in kinds and "ResourceName" in kinds:
                    stmts = [f"{ind}for (const auto& {e} : items({v}))",
                             f"{ind}  if ({e}.resource_type == {TOPIC_RESOURCE_TYPE}) s.topics.emplace_back().name = {e}.resource_name;"]
                else:
                    inner = self.summarize(sub, e, topic, p, ind + "  ", depth + 1, pv)
                    if inner:
                        stmts = [f"{ind}for (const auto& {e} : items({v})) {{"] + inner + [f"{ind}}}"]
            elif is_prim_array(f):
                k = element_kind(f)
                if k == "topic" and topic is None:
                    stmts = [f"{ind}for (const auto& {e} : items({v})) s.topics.emplace_back().name = {e};"]
                elif k == "partition" and topic is not None:
                    stmts = [f"{ind}for (int32_t {e} : items({v})) {topic}.partitions.push_back({e});"]
                elif k == "group":
                    stmts = [f"{ind}for (const auto& {e} : items({v})) s.group_ids.push_back({e});"]
                elif k == "transactional_id":
                    stmts = [f"{ind}for (const auto& {e} : items({v})) s.transactional_ids.push_back({e});"]
            elif f["type"] == "string":
                k = field_kind(f)
                if k == "group":
                    stmts = [f"{ind}add_id(s.group_ids, {v});"]
                elif k == "transactional_id":
                    stmts = [f"{ind}add_id(s.transactional_ids, {v});"]
            if not stmts:
                continue
            if c == "true":
                lines += stmts
            else:
                lines.append(f"{ind}if ({c}) {{")
                lines += ["  " + x for x in stmts]
                lines.append(f"{ind}}}")
        return lines

    def sub_cond(self, f, within):
        """Condition for field f inside code that runs for versions `within`."""
        r = intersect(present_versions(self.req, f), within)
        return "false" if r is None else "true" if r == within else self.cond(r)

    def summary_function(self):
        name = snake(self.api)
        body = self.summarize(self.req.spec["fields"], "req", None, [], "  ", 0, self.valid)
        body += ["  " + x for x in SUMMARY_EXTRA.get(self.api, [])]
        out = [f"request_summary {name}_summary(reader& r, int16_t v) {{",
               f"  {self.req_top} req;",
               "  req.decode(r, v);",
               "  request_summary s;",
               "  if (!r.ok()) return s;",
               "  s.decoded = true;",
               "  (void)v;"]
        out += body
        out += ["  return s;", "}", ""]
        return out


ERROR_RESPONSES_H = r"""#pragma once

// Error responses for every API minikafka generates codecs for: the API's own response at the
// request's version, with one error code in every error field (what Kafka's
// AbstractRequest.getErrorResponse does by hand for each API). For fault injection and for
// refusing a request without a handler.

#include <cstdint>
#include <optional>

#include "protocol/error_code.h"
#include "protocol/wire.h"

namespace mk::proto {

// The response BODY (no response header, no size prefix) answering the request `body` of
// (api_key, version) with `error`:
//  * every error code field of the response (top level, per topic, per partition, per group,
//    per resource...) holds `error`; ErrorMessage fields are null;
//  * response arrays that answer the entries of a request array list every request entry in
//    request order, with its identifying fields copied (topic names and ids, partition indexes,
//    group ids, resource types and names, member ids, coordinator keys); see the comment above
//    each API's function in error_responses.cc for what mirrors what;
//  * other arrays are empty (Metadata brokers, DescribeConfigs configs...), and other fields keep
//    their schema defaults, except where Kafka's error responses use -1 (Produce BaseOffset, Fetch
//    HighWatermark, OffsetFetch CommittedOffset, DeleteRecords LowWatermark, FindCoordinator
//    NodeId/Port, InitProducerId ProducerEpoch); Fetch echoes the request's SessionId and gives
//    each partition an empty, non-null record set.
// `body` is the request body after the request header; it is taken by value, so the caller's
// reader does not move. Returns nullopt when the key or version is not generated or the body does
// not decode (the caller closes the connection, as for any malformed request). Trailing bytes
// after a decoded body are ignored, as the handlers ignore them.
// Note: the caller decides whether to answer at all (Produce with acks=0 gets no response) and
// writes the response header (v0 for ApiVersions, see response_header_version()).
// Pure function of its arguments: no state, callable from any thread.
std::optional<writer> error_response(int16_t api_key, int16_t version, reader body, error_code error);

// True when the response of (api_key, version) has a top-level ErrorCode, so that an error
// response shows the error even for a request that lists no entries. False for unknown keys and
// versions, and where the error can only go into entries (Produce, Metadata, ListOffsets,
// OffsetCommit, CreateTopics, Fetch v0-6, OffsetFetch v0-1 and v8+, FindCoordinator v4+...):
// there a request with no entries (Metadata for all topics, say) gets an answer with no error.
bool has_top_level_error_code(int16_t api_key, int16_t version);

}  // namespace mk::proto
"""

REQUEST_SUMMARY_H = r"""#pragma once

// What a request names (topics, partitions, groups, transactional ids), for every API minikafka
// generates codecs for; used to match fault-injection rules and to trace requests.

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace mk::proto {

struct request_summary {
  struct topic {
    std::string name;  // "" when the request names the topic by id only (Fetch v13+, ...)
    uuid id;           // zero when the request names it by name only
    // Partition indexes the request names for this topic, in request order; empty when the
    // request names no partition (topic-level requests, or an entry with an empty list).
    std::vector<int32_t> partitions;
  };
  // False when the key or version is not generated or the body did not decode; then every
  // list below is empty.
  bool decoded = false;
  // One entry per topic entry of the request, in request order (a topic listed twice, or in two
  // transactions of AddPartitionsToTxn v4+, appears twice). DescribeConfigs, AlterConfigs and
  // IncrementalAlterConfigs list their TOPIC resources (type 2) here by name.
  std::vector<topic> topics;
  // GroupId fields and group id lists (DescribeGroups, DeleteGroups, OffsetFetch v8+ groups,
  // FindCoordinator keys of type 0).
  std::vector<std::string> group_ids;
  // TransactionalId fields (non-null ones; several for AddPartitionsToTxn v4+; FindCoordinator
  // keys of type 1).
  std::vector<std::string> transactional_ids;
};

// Decodes the request `body` (after the request header) of (api_key, version) and lists what it
// names. Fetch's ForgottenTopicsData and CreateTopics' replica assignments are not listed.
// Returns a summary with decoded == false (and nothing else) when the key or version is not
// generated or the body does not decode. `body` is taken by value: the caller's reader does not
// move. Pure function of its arguments: no state, callable from any thread.
request_summary summarize_request(int16_t api_key, int16_t version, reader body);

}  // namespace mk::proto
"""

CC_HELPERS = r"""// A request array may be nullable (std::optional<std::vector>); null lists nothing.
template <typename T>
const std::vector<T>& items(const std::vector<T>& a) {
  return a;
}
template <typename T>
const std::vector<T>& items(const std::optional<std::vector<T>>& a) {
  static const std::vector<T> none;
  return a ? *a : none;
}
"""


def render_error_responses(schema_dir):
    """error_responses.{h,cc} and request_summary.{h,cc} for OUT_DIR."""
    gens = [ApiGen(schema_dir, api) for api in APIS]
    b = banner("*Request.json + *Response.json (APIS)")
    files = {"error_responses.h": b + ERROR_RESPONSES_H, "request_summary.h": b + REQUEST_SUMMARY_H}

    def dispatch(call, fail):
        out = ["  switch (api_key) {"]
        for g in sorted(gens, key=lambda g: g.key):
            out += [f"    case {g.key}:  // {g.api}",
                    f"      if (version < {g.valid[0]} || version > {g.valid[1]}) return {fail};",
                    f"      return {snake(g.api)}_{call};"]
        out += ["    default:", f"      return {fail};", "  }"]
        return out

    cc = [b.rstrip("\n"), "#include \"protocol/generated/error_responses.h\"", "",
          "#include <optional>", "#include <string>", "#include <type_traits>", "#include <vector>", "",
          "#include \"protocol/generated/all_messages.h\"", "",
          "namespace mk::proto {", "namespace {", "", CC_HELPERS,
          "// A response array to fill (a nullable one is made non-null).",
          "template <typename T>",
          "std::vector<T>& fill(std::vector<T>& a) {",
          "  return a;",
          "}",
          "template <typename T>",
          "std::vector<T>& fill(std::optional<std::vector<T>>& a) {",
          "  return a.emplace();",
          "}", "",
          "// Copies an identifying field; a null name becomes \"\" where the response's is not nullable.",
          "template <typename D, typename S>",
          "void copy_key(D& d, const S& s) {",
          "  if constexpr (std::is_same_v<D, std::string> && std::is_same_v<S, std::optional<std::string>>)",
          "    d = s.value_or(std::string());",
          "  else",
          "    d = s;",
          "}", ""]
    for g in gens:
        cc += g.error_function()
    cc += ["}  // namespace", "",
           "std::optional<writer> error_response(int16_t api_key, int16_t version, reader body, error_code error) {",
           "  const int16_t ec = code(error);"]
    cc += dispatch("error(body, version, ec)", "std::nullopt")
    cc += ["}"]

    cc += ["", "bool has_top_level_error_code(int16_t api_key, int16_t version) {", "  switch (api_key) {"]
    for g in sorted(gens, key=lambda g: g.key):
        top = [f for f in g.resp.spec["fields"] if f["name"] == "ErrorCode" and f["type"] == "int16"]
        r = present_versions(g.resp, top[0]) if top else None
        expr = "false" if r is None else f"version >= {r[0]} && version <= {r[1]}"
        cc += [f"    case {g.key}:  // {g.api}", f"      return {expr};"]
    cc += ["    default:", "      return false;", "  }", "}", "", "}  // namespace mk::proto", ""]
    files["error_responses.cc"] = "\n".join(cc)

    sc = [b.rstrip("\n"), "#include \"protocol/generated/request_summary.h\"", "",
          "#include <optional>", "#include <string>", "#include <vector>", "",
          "#include \"protocol/generated/all_messages.h\"", "",
          "namespace mk::proto {", "namespace {", "", CC_HELPERS,
          "void set_name(std::string& d, const std::string& s) { d = s; }",
          "void set_name(std::string& d, const std::optional<std::string>& s) { d = s.value_or(std::string()); }", "",
          "void add_id(std::vector<std::string>& to, const std::string& id) { to.push_back(id); }",
          "void add_id(std::vector<std::string>& to, const std::optional<std::string>& id) {",
          "  if (id) to.push_back(*id);",
          "}", "",
          "// FindCoordinator: KeyType 0 = group, 1 = transaction.",
          "void add_coordinator_key(request_summary& s, int8_t key_type, const std::string& key) {",
          "  if (key_type == 0) s.group_ids.push_back(key);",
          "  if (key_type == 1) s.transactional_ids.push_back(key);",
          "}", ""]
    for g in gens:
        sc += g.summary_function()
    # A table entry for a generated API that matches no field is a typo or a schema change.
    used = {(g.api, kind, path) for g in gens for kind, path in g.used}
    for table, kind in ((ERROR_VALUES, "value"), (SUMMARY_SKIP, "skip")):
        for api, path in table:
            if api in APIS and (api, kind, path) not in used:
                raise SystemExit(f"{api}: no field {path} (ERROR_VALUES / SUMMARY_SKIP entry)")
    sc += ["}  // namespace", "",
           "request_summary summarize_request(int16_t api_key, int16_t version, reader body) {"]
    sc += dispatch("summary(body, version)", "request_summary{}")
    sc += ["}", "", "}  // namespace mk::proto", ""]
    files["request_summary.cc"] = "\n".join(sc)
    return files



def sync_dir(files, out_dir, check):
    """Writes `files` into out_dir (or with check only compares); returns the stale/extra names."""
    stale = []
    if not check:
        os.makedirs(out_dir, exist_ok=True)
    existing = {f for f in os.listdir(out_dir) if f.endswith((".h", ".cc"))} if os.path.isdir(out_dir) else set()
    for name, text in sorted(files.items()):
        path = os.path.join(out_dir, name)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            stale.append(name)
            if not check:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    extra = sorted(existing - set(files))
    if not check:
        for name in extra:
            os.remove(os.path.join(out_dir, name))
    return stale, extra


def main(argv):
    check = False
    if argv and argv[0] == "--check":
        check = True
        argv = argv[1:]
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    schema_dir, out_dir = argv[0], argv[1]
    outputs = [(out_dir, render_all(schema_dir))]
    if len(argv) == 3:
        outputs.append((argv[2], render_tests(schema_dir, message_names())))
    status = 0
    for folder, files in outputs:
        stale, extra = sync_dir(files, folder, check)
        if check:
            if stale or extra:
                print(f"{folder} is out of date:", ", ".join(stale + extra))
                status = 1
            else:
                print(f"{folder} is up to date")
        else:
            print(f"wrote {len(stale)} of {len(files)} files to {folder}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
