#!/usr/bin/env python3
"""Generates minikafka's message codecs from Kafka's JSON message schemas.

Usage: gen_protocol.py [--check] SCHEMA_DIR OUT_DIR

SCHEMA_DIR is Kafka's clients/src/main/resources/common/message/ folder (the committed output
was generated from Apache Kafka 3.9.0, tag 3.9.0-rc3, see ../shared/kafka-protocol/SOURCE.md).
For each message listed in MESSAGES it writes OUT_DIR/<snake_name>.h and .cc holding one struct
that covers every version: fields a version does not carry decode to their defaults, tagged
fields are written only when they differ from their default, and unknown tagged fields survive
a round trip. It also writes api_keys.h (every API key's name, version range and first flexible
version) and all_messages.h. With --check it only compares and exits 1 when OUT_DIR is stale.
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
    "DescribeTopicPartitions",
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

    def struct_type_name(self, type_name, sibling_fields):
        base = snake(type_name)
        if base in {member_name(f["name"]) for f in sibling_fields} or base in CPP_KEYWORDS:
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
            cname = self.struct_type_name(elem, scope_fields)
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
                out.append(f"{ind}if (!{expr}) {{ w.array_len(-1, {flex}); }} else {{")
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
    def min_size(self, elem, flexible_expr):
        if elem in PRIMS:
            return PRIMS[elem][2]
        return 1

    def dec_value(self, t, expr, f, flex, ind, reader="r"):
        nullable = parse_versions(f.get("nullableVersions")) is not None
        nv = self.cond(parse_versions(f.get("nullableVersions")))
        out = []
        if t.startswith("[]"):
            elem = t[2:]
            et = PRIMS[elem][0] if elem in PRIMS else f["_ctype"]
            ms = self.min_size(elem, flex)
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


def render_all(schema_dir):
    files = {}
    names = []
    for api in APIS:
        names += [api + "Request", api + "Response"]
    names += DATA
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
    return files


def main(argv):
    check = False
    if argv and argv[0] == "--check":
        check = True
        argv = argv[1:]
    if len(argv) != 2:
        print(__doc__)
        return 2
    schema_dir, out_dir = argv
    files = render_all(schema_dir)
    stale = []
    os.makedirs(out_dir, exist_ok=True)
    existing = {f for f in os.listdir(out_dir) if f.endswith((".h", ".cc"))}
    for name, text in sorted(files.items()):
        path = os.path.join(out_dir, name)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            stale.append(name)
            if not check:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    extra = sorted(existing - set(files))
    if check:
        if stale or extra:
            print("protocol/generated is out of date:", ", ".join(stale + extra))
            return 1
        print("protocol/generated is up to date")
        return 0
    for name in extra:
        os.remove(os.path.join(out_dir, name))
    print(f"wrote {len(stale)} of {len(files)} files to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
