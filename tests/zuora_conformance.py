"""Check recorded Zuora requests against Zuora's published OpenAPI (Swagger 2.0) request schemas, read from
../shared/vendor-specs/zuora-openapi (never copied into the package)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import jsonschema
import pytest
import yaml

from zns_sync.sandbox.zuora_server import RecordedRequest

SPECS = (Path(__file__).parents[1] / "../shared/vendor-specs/zuora-openapi").resolve()


@cache
def spec(name: str) -> dict[str, Any]:
    with (SPECS / f"zuora-{name}-api-openapi.yml").open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert isinstance(document, dict)
    return document


def _path_values(template: str, path: str) -> dict[str, str]:
    """The path parameters of `path` matched against an OpenAPI path template such as `/v1/payments/{paymentKey}`."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    assert match, f"{path} does not match {template}"
    return {name: unquote(value) for name, value in match.groupdict().items()}


def check_request(name: str, path: str, method: str, request: RecordedRequest) -> int:
    """Validate one recorded request against its operation's parameters; the number of checks made.

    Every query parameter sent must be declared by the operation; integers are checked against their limits.

    A CRUD PUT is a partial update (reference zuora-rest.md section 4: "all optional"), but this spec copy
    marks the create-time fields of ProxyModifyProductRatePlanCharge required, so PUT bodies are checked
    for field types only.
    """
    document = spec(name)
    operation = document["paths"][path][method.lower()]
    checks = 0
    form: dict[str, Any] = {}
    form_schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    query = {name: values[0] for name, values in parse_qs(request.query).items()}
    declared: set[str] = set()
    for parameter in operation["parameters"]:
        if "$ref" in parameter:
            parameter = document["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        where, name = parameter["in"], parameter["name"]
        keys = ("type", "maxLength", "minLength", "enum", "maximum", "minimum")
        simple = {k: parameter[k] for k in keys if k in parameter}
        if where == "body":
            schema = {**parameter["schema"], "definitions": document.get("definitions", {})}
            if method == "PUT":
                target = document["definitions"][schema.pop("$ref").rsplit("/", 1)[1]]
                parts = [{k: v for k, v in part.items() if k != "required"} for part in target.get("allOf", [target])]
                schema["allOf"] = parts
            jsonschema.Draft4Validator(schema).validate(json.loads(request.body))
            checks += 1
        elif where == "header" and name.lower() in request.headers:
            jsonschema.Draft4Validator(simple).validate(request.headers[name.lower()])
            checks += 1
        elif where == "header" and parameter.get("required"):
            pytest.fail(f"{method} {path}: required header {name} missing")
        elif where == "query":
            declared.add(name)
            if name in query:
                value = query[name]
                jsonschema.Draft4Validator(simple).validate(int(value) if simple["type"] == "integer" else value)
                checks += 1
            elif parameter.get("required"):
                pytest.fail(f"{method} {path}: required query parameter {name} missing")
        elif where == "path":
            jsonschema.Draft4Validator(simple).validate(_path_values(path, request.path)[name])
            checks += 1
        elif where == "formData":
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            form_schema["properties"][name] = simple
            if parameter.get("required"):
                form_schema["required"].append(name)
    assert set(query) <= declared, f"{method} {path}: undeclared query parameters {sorted(set(query) - declared)}"
    if form_schema["properties"]:
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        jsonschema.Draft4Validator(form_schema).validate(form)
        checks += 1
    return checks
