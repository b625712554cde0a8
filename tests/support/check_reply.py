#!/usr/bin/python3
"""Checks HTTP replies against the OpenAPI document, one per line.

Usage: check_reply.py http/openapi.json

Reads one JSON object per line on stdin:
  {"method": "GET", "target": "/v1/tenants/x?limit=5", "status": 200,
   "content_type": "application/json; charset=utf-8", "body": "{...}"}
("body" only for JSON replies) and answers one line on stdout:
  {"ok": true}  or  {"ok": false, "error": "..."}

A reply matches when the document describes the operation (path template
and method; HEAD is checked as the GET it mirrors), the status (or a range
such as 4XX, or default), the reply's media type, and, for JSON bodies, the
response schema (JSON Schema 2020-12, Debian's python3-jsonschema). A reply
to a path the document does not describe, or to a method it does not
describe on a known path (405, an OPTIONS preflight), must be a problem
document (components/schemas/Problem) or have no body.

The end-to-end harness (tests/e2e/harness.cc) runs one of these per test
program and feeds it every reply its HTTP client receives. With
CHECK_REPLY_LOG=<file> each reply's method, matched path template, status
and verdict are appended to <file> (which operations the tests reach).
"""

import json
import os
import sys

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match
except ImportError:  # pragma: no cover - reported to the harness
    sys.stderr.write("check_reply.py: python3-jsonschema is missing (tools/dev/deps.sh installs it)\n")
    sys.exit(3)

JSON_TYPES = ("application/json", "application/problem+json")


def segments(path):
    """The path's segments as the server splits them (empty ones dropped)."""
    return [s for s in path.split("/") if s]


class Document:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.components = self.doc.get("components", {})
        # (template segments, template, path item) in the server's order:
        # at each segment a literal before a parameter, so that
        # /payments/webhook wins over a template with {…} in its place.
        self.routes = []
        for template, item in self.doc.get("paths", {}).items():
            parts = segments(template)
            self.routes.append((parts, template, item))
        self.routes.sort(key=lambda r: [p.startswith("{") for p in r[0]])
        self.validators = {}

    def resolve(self, node):
        """Follows a local $ref (components/responses, …) to its target."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("only local references are supported: " + ref)
            target = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def match(self, path):
        parts = segments(path)
        for template_parts, template, item in self.routes:
            if len(template_parts) != len(parts):
                continue
            if all(t.startswith("{") or t == p for t, p in zip(template_parts, parts)):
                return template, item
        return None, None

    def validator(self, key, schema):
        v = self.validators.get(key)
        if v is None:
            # The schema's $refs point into the document's components: keep
            # them reachable from the root of the schema being checked.
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [schema], "components": self.components}
            v = Draft202012Validator(root)
            self.validators[key] = v
        return v


def media_type(content_type):
    return content_type.split(";")[0].strip().lower()


def find_content(content, ctype):
    """The document's media type for the reply's (parameters ignored)."""
    by_type = {media_type(key): key for key in content}
    for key in (ctype, ctype.split("/")[0] + "/*", "*/*"):
        if key in by_type:
            return by_type[key], content[by_type[key]]
    return None, None


def check_body(doc, key, schema, body):
    try:
        instance = json.loads(body)
    except ValueError as e:
        return "the body is not JSON (%s): %.200s" % (e, body)
    errors = list(doc.validator(key, schema).iter_errors(instance))
    if not errors:
        return None
    e = best_match(errors)
    where = "/" + "/".join(str(p) for p in e.absolute_path)
    return "%s at %s (schema %s; %d error(s))" % (
        e.message[:600], where, "/".join(str(p) for p in e.absolute_schema_path), len(errors))


def check_problem(doc, reply, why):
    """A reply the document has no operation for: a problem or no body."""
    body = reply.get("body")
    ctype = media_type(reply.get("content_type", ""))
    if not reply.get("has_body"):
        return None
    if ctype != "application/problem+json":
        return "%s, and the reply is %s, not a problem document" % (why, ctype or "without Content-Type")
    error = check_body(doc, ("problem",), {"$ref": "#/components/schemas/Problem"}, body)
    return None if error is None else why + "; as a problem: " + error


# The browser side (web/, http/routes_web.cc) is not API and not in the
# document: its pages and files are checked by tests/web and
# tests/e2e/web_test.cc. Its errors are HTML pages or problem documents.
PAGE_PREFIXES = ("/demo", "/book/", "/manage/", "/pay/", "/widget/")
PAGE_TYPES = ("text/html", "text/javascript", "text/css")


def check(doc, reply):
    method = reply["method"].lower()
    path = reply["target"].split("?")[0]
    status = str(reply["status"])
    if path == "/" or path.startswith(PAGE_PREFIXES):
        if media_type(reply.get("content_type", "")) in PAGE_TYPES or not reply.get("has_body"):
            return None
        return check_problem(doc, reply, "a page reply that is neither a page nor a file")
    if status == "404" and not path.startswith("/v1/") and media_type(reply.get("content_type", "")) == "text/html":
        return None  # a browser's mistyped address gets the not-found page
    template, item = doc.match(path)
    if item is None:
        return check_problem(doc, reply, "no path in the document matches " + path)
    op = item.get("get" if method == "head" else method)
    if op is None:
        if method == "options" and status == "204" and not reply.get("has_body"):
            return None  # the CORS preflight, answered on every tenant path
        why = "%s %s is not described" % (method.upper(), template)
        error = check_problem(doc, reply, why)
        if error is None and status == "405":
            error = check_against(doc, reply, template, method, "405",
                                  doc.resolve({"$ref": "#/components/responses/MethodNotAllowed"}))
        # Other statuses (404 for an unknown tenant, checked before the
        # method; 429) only need to be problems.
        return error
    responses = op.get("responses", {})
    key = status
    if key not in responses:
        key = status[0] + "XX"
        if key not in responses:
            key = "default"
    if key not in responses:
        return "status %s is not documented for %s %s (documented: %s)" % (
            status, method.upper(), template, ", ".join(sorted(responses)))
    return check_against(doc, reply, template, method, key, doc.resolve(responses[key]))


def check_against(doc, reply, template, method, key, response):
    if not reply.get("has_body") or method == "head":
        return None
    content = response.get("content")
    ctype = media_type(reply.get("content_type", ""))
    where = "%s %s %s" % (method.upper(), template, key)
    if not content:
        return "%s is documented without a body, but the reply has one (%s)" % (where, ctype)
    mkey, media = find_content(content, ctype)
    if media is None:
        return "%s documents %s, not %s" % (where, ", ".join(sorted(content)), ctype or "no Content-Type")
    if ctype not in JSON_TYPES:
        return None
    schema = media.get("schema")
    if schema is None:
        return None
    return check_body(doc, (template, method, key, mkey), schema, reply.get("body", ""))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    doc = Document(sys.argv[1])
    out = sys.stdout
    log = open(os.environ["CHECK_REPLY_LOG"], "a", encoding="utf-8") if os.environ.get("CHECK_REPLY_LOG") else None
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            reply = json.loads(line.decode("utf-8", "replace"))
            error = check(doc, reply)
        except Exception as e:  # a bug here must not hang the tests
            error = "check_reply.py failed: %r" % (e,)
            reply = {}
        if log is not None:
            template = doc.match(reply.get("target", "").split("?")[0])[0]
            log.write("%s %s %s %s\n" % (reply.get("method"), template, reply.get("status"),
                                         "ok" if error is None else "FAIL"))
            log.flush()
        out.write(json.dumps({"ok": True} if error is None else {"ok": False, "error": error}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
