#!/usr/bin/env python3
"""Checks JSON files against Protocols/sensitivity.schema.json and plan.schema.json with a small
validator for the draft 2020-12 keywords those schemas use (no jsonschema package needed).

    python3 Tests/Fixtures/allocation/validate_schemas.py [plan.json ...]

Always checks sample_sensitivity.json and every sensitivity document in milp_instances.json;
files given on the command line are checked against the plan schema (or the sensitivity or run
schema when their "format" says so). Exits non-zero on the first violation, naming its path.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def is_type(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def check(value, schema, root, path):
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        check(value, target, root, path)
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                check(value, option, root, path)
                break
            except ValueError as e:
                errors.append(str(e))
        else:
            raise ValueError(f"{path}: matches no anyOf option ({'; '.join(errors)})")
    if "const" in schema and value != schema["const"]:
        raise ValueError(f"{path}: {value!r} != const {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(f"{path}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(is_type(value, n) for n in names):
            raise ValueError(f"{path}: {value!r} is not {names}")
    if is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            raise ValueError(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ValueError(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise ValueError(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            raise ValueError(f"{path}: shorter than {schema['minLength']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 10**9):
            raise ValueError(f"{path}: {len(value)} items outside the allowed count")
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            raise ValueError(f"{path}: items not unique")
        if "items" in schema:
            for i, item in enumerate(value):
                check(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                raise ValueError(f"{path}: missing required '{key}'")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if "propertyNames" in schema:
                check(key, schema["propertyNames"], root, f"{path} key {key!r}")
            if key in properties:
                check(item, properties[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False and "properties" in schema:
                raise ValueError(f"{path}: unexpected field '{key}'")
            elif isinstance(schema.get("additionalProperties"), dict):
                check(item, schema["additionalProperties"], root, f"{path}.{key}")


def load(name):
    with open(os.path.join(ROOT, "Protocols", name)) as f:
        return json.load(f)


def main():
    sensitivity, plan, run = load("sensitivity.schema.json"), load("plan.schema.json"), load("run.schema.json")
    with open(os.path.join(HERE, "sample_sensitivity.json")) as f:
        check(json.load(f), sensitivity, sensitivity, "sample_sensitivity.json")
    with open(os.path.join(HERE, "milp_instances.json")) as f:
        for instance in json.load(f)["instances"]:
            check(instance["sensitivity"], sensitivity, sensitivity, instance["name"])
    for path in sys.argv[1:]:
        with open(path) as f:
            doc = json.load(f)
        schema = {"hutch.sensitivity": sensitivity, "hutch.run": run}.get(doc.get("format"), plan)
        check(doc, schema, schema, path)
    print("all documents conform")


if __name__ == "__main__":
    try:
        main()
    except ValueError as e:
        sys.exit(f"schema violation: {e}")
