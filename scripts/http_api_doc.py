#!/usr/bin/env python3
"""Writes the generated part of docs/HTTP_API.md from the broker's OpenAPI document.

The document is the one the broker serves at GET /v1/openapi.json, itself built from the route
table the router dispatches from (broker/admin/routes.h). Everything between the two GENERATED
markers in docs/HTTP_API.md is replaced; the prose around them is kept.

  scripts/http_api_doc.py --binary build/broker/minikafka          # rewrite docs/HTTP_API.md
  scripts/http_api_doc.py --binary build/broker/minikafka --check  # exit 1 if it is out of date
  scripts/http_api_doc.py --url http://127.0.0.1:9644              # from a running broker

tests/clients/python/test_http_api.py checks that the committed file is up to date.
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.request

BEGIN = "<!-- BEGIN GENERATED from /v1/openapi.json by scripts/http_api_doc.py: do not edit by hand -->"
END = "<!-- END GENERATED -->"
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DOC = os.path.join(REPO, "docs", "HTTP_API.md")


def ref_name(ref):
    return ref.rsplit("/", 1)[-1]


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        cur = doc
        for part in node["$ref"][2:].split("/"):
            cur = cur[part]
        node = cur
    return node


def type_of(schema):
    """A short type expression: [Record](#record), array of integer, string | null, ..."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        return f"[{name}](#{name.lower()})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema and schema["enum"]:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(type_of(s) for s in schema[key])
    t = schema.get("type")
    if t == "array":
        return "array of " + type_of(schema.get("items", {}))
    if t == "object" and "properties" not in schema and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_of(schema["additionalProperties"])
    if isinstance(t, list):
        return " \\| ".join(t)
    return t or "any"


def cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_schema(name, schema):
    out = [f"#### {name}", ""]
    if schema.get("description"):
        out += [schema["description"], ""]
    props = schema.get("properties")
    if props:
        required = set(schema.get("required", []))
        out += ["| field | type | required | meaning |", "| --- | --- | --- | --- |"]
        for field, s in props.items():
            out.append(f"| `{field}` | {cell(type_of(s))} | {'yes' if field in required else ''} "
                       f"| {cell(s.get('description', ''))} |")
        if schema.get("additionalProperties") is False:
            out += ["", "No other fields."]
    else:
        out.append(f"{type_of(schema)}")
    out.append("")
    return out


def render_generated(doc):
    out = [BEGIN, "", f"Document version {doc['info']['version']}, OpenAPI {doc['openapi']}.", ""]
    out += ["### Routes", "", "| method | path | what |", "| --- | --- | --- |"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            anchor = f"{method}-{path}".lower()
            anchor = "".join(c for c in anchor if c.isalnum() or c in "-_ ").replace(" ", "-")
            out.append(f"| {method.upper()} | [`{path}`](#{anchor}) | {cell(op.get('summary'))} |")
    out.append("")
    out += [doc["info"]["description"], ""]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            out += [f"### {method.upper()} {path}", "", op.get("summary", "") + "."]
            if op.get("description"):
                out += ["", op["description"]]
            out.append("")
            params = [resolve(doc, p) for p in op.get("parameters", [])]
            if params:
                out += ["| parameter | in | type | meaning |", "| --- | --- | --- | --- |"]
                for p in params:
                    out.append(f"| `{p['name']}` | {p['in']} | {cell(type_of(p.get('schema', {})))} "
                               f"| {cell(p.get('description', ''))} |")
                out.append("")
            body = op.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                out += [f"Request body: {type_of(schema)}", ""]
            out += ["| status | body |", "| --- | --- |"]
            for status, resp in op["responses"].items():
                r = resolve(doc, resp)
                content = r.get("content", {})
                kind, media = next(iter(content.items()), (None, None))
                what = type_of(media.get("schema", {})) if media else ""
                if kind and kind != "application/json":
                    what = f"{kind}"
                out.append(f"| {status} | {cell(r.get('description', ''))}{': ' + what if what else ''} |")
            out.append("")
    out += ["### Schemas", ""]
    for name, schema in doc["components"]["schemas"].items():
        out += render_schema(name, schema)
    out.append(END)
    return "\n".join(out) + "\n"


def render(committed, doc):
    """`committed` (the whole file) with its generated part replaced."""
    if BEGIN not in committed or END not in committed:
        raise SystemExit(f"{DOC}: the markers are missing ({BEGIN} ... {END})")
    head = committed[:committed.index(BEGIN)]
    tail = committed[committed.index(END) + len(END):].lstrip("\n")
    return head + render_generated(doc) + ("\n" + tail if tail else "")


def fetch(url):
    with urllib.request.urlopen(url.rstrip("/") + "/v1/openapi.json", timeout=10) as r:
        return json.loads(r.read())


def from_binary(binary):
    proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        proc.stdout.readline()  # kafka HOST:PORT
        admin = proc.stdout.readline().split()[1]  # admin http://HOST:PORT
        return fetch(admin)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--binary", help="a minikafka executable to start on ephemeral ports")
    src.add_argument("--url", help="a running broker's admin URL")
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/HTTP_API.md is out of date")
    args = ap.parse_args()
    doc = from_binary(args.binary) if args.binary else fetch(args.url)
    with open(DOC, encoding="utf-8") as f:
        committed = f.read()
    new = render(committed, doc)
    if args.check:
        if new != committed:
            print(f"{DOC} is out of date: run {sys.argv[0]} --binary build/broker/minikafka", file=sys.stderr)
            return 1
        return 0
    if new != committed:
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
