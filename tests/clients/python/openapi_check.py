"""The admin API's OpenAPI document (GET /v1/openapi.json) as a test oracle.

`OpenApi(doc).check_response(method, path, status, body)` finds the documented operation for a
request (the same matching rule as the server's router, broker/admin/admin_api.cc: "{name}" matches
one path segment, a literal segment wins over a parameter) and validates a JSON response body
against the schema documented for its status (or "default"), with python3-jsonschema (the
document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12).

Used by test_http_api.py and test_admin_http.py, so every response those suites see is checked
against the document.
"""

import json
import re

import jsonschema

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def segments(path):
    return [s for s in path.split("/") if s]


def is_param(seg):
    return len(seg) > 2 and seg[0] == "{" and seg[-1] == "}"


def match_score(template, path):
    """None when `template` does not match `path`, else a score (literal segments early in the
    path score higher), as the server's router ranks templates."""
    t, p = segments(template), segments(path)
    if len(t) != len(p):
        return None
    score = 0
    for ts, ps in zip(t, p):
        score <<= 1
        if is_param(ts):
            continue
        if ts != ps:
            return None
        score |= 1
    return score


class OpenApi:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver.from_schema(doc)
        self.paths = doc["paths"]

    def template_for(self, path):
        """The documented path template that serves `path` (without query), or None."""
        best, best_score = None, -1
        for template in self.paths:
            score = match_score(template, path)
            if score is not None and score > best_score:
                best, best_score = template, score
        return best

    def methods(self, template):
        return {m.upper() for m in self.paths[template]}

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def response_schema(self, method, path, status):
        """(template, schema or None) documented for the answer `status` to `method path`."""
        template = self.template_for(path)
        if template is None:
            return None, None
        op = self.paths[template].get(method.lower())
        if op is None:
            return template, None
        responses = op["responses"]
        resp = responses.get(str(status)) or responses.get("default")
        if resp is None:
            raise AssertionError(f"{method} {template}: status {status} is not documented")
        resp = self.resolve(resp)
        content = resp.get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        return template, schema

    def validate(self, schema, instance, what):
        try:
            jsonschema.Draft202012Validator(schema, resolver=self.resolver).validate(instance)
        except jsonschema.ValidationError as exc:
            raise AssertionError(
                f"{what}: the response does not match /v1/openapi.json: {exc.message} "
                f"(at {'/'.join(str(p) for p in exc.absolute_path) or 'the top'}); "
                f"body {json.dumps(instance)[:600]}") from None

    def check_response(self, method, path, status, body, content_type=""):
        """Asserts that a response is what the document says. Undocumented routes are checked
        elsewhere (404 not_found / 405); here only JSON bodies of documented operations."""
        path = path.split("?", 1)[0]
        template, schema = self.response_schema(method, path, status)
        if template is None or status in (404, 405) and body and isinstance(body, dict) and \
                body.get("error") in ("not_found", "method_not_allowed"):
            # No route / wrong method: the error shape is still documented.
            schema = {"$ref": "#/components/schemas/Error"}
        if schema is None or not content_type.startswith("application/json"):
            return
        self.validate(schema, body, f"{method} {path} -> {status}")


def error_names(doc):
    return set(doc["components"]["schemas"]["HttpErrorName"]["enum"])


def kafka_error_name(name):
    return re.fullmatch(r"[A-Z][A-Z0-9_]*", name) is not None
