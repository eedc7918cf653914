"""Checking a classification scheme file before anything is built from it: YAML with the line of
every value, the JSON Schema, and the semantic checks (every code named exists, every
predicate is in the closed registry). Each problem names file, line and path."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from dangan import SCHEMAS_DIR
from dangan.archive.business.predicates import PREDICATES
from dangan.archive.personal import DETECTORS
from dangan.errors import DanganError

JSON_SCHEMA_PATH = SCHEMAS_DIR / "classification.schema.json"


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scheme file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        at = f" (at {self.path})" if self.path else ""
        return f"{where}: {self.message}{at}"


class SchemeError(DanganError, ValueError):
    """The scheme file cannot be used. ``problems`` lists every defect found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = self.problems[0]
        self.file, self.line, self.path = first.file, first.line, first.path
        more = f"\n  … and {len(self.problems) - 1} more:\n  " if len(self.problems) > 1 else ""
        rest = "\n  ".join(str(p) for p in self.problems[1:])
        super().__init__(f"invalid classification scheme: {first}{more}{rest}")


def read_scheme_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError([Problem(str(path), None, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise SchemeError([Problem(str(path), None, "", f"not UTF-8 text ({exc})")]) from None


class LineMap:
    """Parses YAML and remembers the line of every value, keyed by its data path."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []

    def parse(self, text: str) -> Any:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemeError([Problem(self.file, *_yaml_problem(exc))]) from None
        if node is None or not isinstance(data, dict):
            raise SchemeError([Problem(self.file, 1, "", "the scheme must be a YAML mapping")])
        self._walk(node, ())
        if self.problems:
            raise SchemeError(self.problems)
        return data

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = _key_of(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.problems.append(
                        Problem(
                            self.file, line, _fmt(path), f"duplicate key {key!r} (first defined on line {seen[key]})"
                        )
                    )
                    continue
                seen[key] = line
                self._walk(value_node, path + (key,))
                self.lines[path + (key,)] = line
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, path + (index,))

    def line(self, path: Iterable) -> int | None:
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def problem(self, path: Iterable, message: str) -> Problem:
        path = tuple(path)
        return Problem(self.file, self.line(path), _fmt(path), message)


def _yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str, str]:
    """(line, path, message) of a YAML syntax error, in one line a person can act on: what
    the parser expected, and where the construct it was reading began."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    where = ""
    if context and context_mark is not None and context_mark.line + 1 != line:
        where = f" ({context} begun at line {context_mark.line + 1})"
    return line, "", f"not valid YAML: {problem}{where}"


def _key_of(node: yaml.Node) -> Any:
    """The key as safe_load builds it (so ``1:`` is the int 1, as in the data)."""
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        return yaml.safe_load(node.value) if node.value else None
    return node.value if isinstance(node, yaml.ScalarNode) else repr(node.value)


def _fmt(path: Iterable) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def check_json_schema(data: Any, lines: LineMap) -> None:
    schema = json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: lines.line(_where(e)) or 0)
    problems = [lines.problem(_where(e), _schema_message(e)) for e in errors]
    if problems:
        raise SchemeError(problems)


def _where(error: jsonschema.ValidationError) -> tuple:
    """The data path to point at: for a key that is not allowed, the key itself (its line),
    not the mapping holding it."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if len(extra) == 1:
            return (*path, extra[0])
    return path


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and "type" in error.schema.get("oneOf", [{}])[0].get("required", []):
        return "a document requirement needs exactly one of 'type' or 'any_of'"
    if error.validator == "oneOf":
        return "a business type needs either 'stages' or 'variants' (not both)"
    message = error.message if len(error.message) < 200 else error.message[:200] + "…"
    return f"does not match the scheme's JSON Schema: {message}"


# --------------------------------------------------------------------------- semantic checks


def check_semantics(data: Mapping, lines: LineMap) -> None:
    problems: list[Problem] = []
    doc_codes = set(data["document_types"])
    roles = set(data["roles"])
    problems += _duplicate_names(data, lines)
    for code, bt in data["business_types"].items():
        at = ("business_types", code)
        problems += _check_business_type(bt, at, data, doc_codes, roles, lines)
    for i, name in enumerate(data.get("personal_data", {}).get("find_in_text", [])):
        if name not in DETECTORS:
            known = ", ".join(sorted(DETECTORS))
            problems.append(lines.problem(("personal_data", "find_in_text", i), f"unknown detector {name!r} ({known})"))
    if problems:
        raise SchemeError(sorted(problems, key=lambda p: p.line or 0))


def _duplicate_names(data: Mapping, lines: LineMap) -> list[Problem]:
    """Names are lookup keys too, so two things may not share one."""
    problems = []
    for section in ("document_types", "business_types"):
        seen: dict[str, str] = {}
        for code, body in data[section].items():
            names = [((code, "name"), body["name"])]
            names += [((code, "variants", i, "name"), v["name"]) for i, v in enumerate(body.get("variants", []))]
            for path, name in names:
                if name in seen and seen[name] != code:
                    problems.append(
                        lines.problem((section, *path), f"duplicate name {name!r}: already used by {seen[name]}")
                    )
                seen.setdefault(name, code)
    return problems


def _check_business_type(bt, at, data, doc_codes, roles, lines) -> list[Problem]:
    problems = []
    if bt["retention"]["code"] not in data["retention_codes"]:
        problems.append(
            lines.problem(
                at + ("retention", "code"),
                f"unknown retention code {bt['retention']['code']!r}; declared: {', '.join(data['retention_codes'])}",
            )
        )
    for i, pre in enumerate(bt.get("preconditions", [])):
        p_at = at + ("preconditions", i)
        for key in ("predicate", "when"):
            if key in pre and pre[key] not in PREDICATES:
                problems.append(lines.problem(p_at + (key,), _unknown_predicate(pre[key])))
        for j, code in enumerate(pre.get("evidence", [])):
            if code not in doc_codes:
                problems.append(lines.problem(p_at + ("evidence", j), _unknown_doc(code, doc_codes)))
    problems += _check_fields(bt.get("billing_fields", {}), at + ("billing_fields",), lines)
    problems += _check_limits(bt, at, lines)
    if "variants" in bt:
        problems += _check_variants(bt, at, doc_codes, roles, lines)
    else:
        problems += _check_stages(bt["stages"], at + ("stages",), lines)
        problems += _check_documents(
            bt["documents"], at + ("documents",), {s["name"] for s in bt["stages"]}, doc_codes, roles, lines
        )
    return problems


def _check_variants(bt, at, doc_codes, roles, lines) -> list[Problem]:
    problems, keys = [], set()
    defaults = [i for i, v in enumerate(bt["variants"]) if v.get("default")]
    if len(defaults) > 1:
        problems.append(
            lines.problem(at + ("variants", defaults[1], "default"), "more than one variant is marked default")
        )
    for i, variant in enumerate(bt["variants"]):
        v_at = at + ("variants", i)
        if variant["key"] in keys:
            problems.append(lines.problem(v_at + ("key",), f"duplicate variant key {variant['key']!r}"))
        keys.add(variant["key"])
        stages = {s["name"] for s in variant["stages"]}
        problems += _check_stages(variant["stages"], v_at + ("stages",), lines)
        problems += _check_documents(variant["documents"], v_at + ("documents",), stages, doc_codes, roles, lines)
        # common documents must fit every variant's stages
        problems += _check_documents(
            bt["documents"],
            at + ("documents",),
            stages,
            doc_codes,
            roles,
            lines,
            context=f" of variant {variant['key']}",
        )
    return _unique(problems)


def _check_stages(stages, at, lines) -> list[Problem]:
    seen, problems = set(), []
    for i, stage in enumerate(stages):
        if stage["name"] in seen:
            problems.append(lines.problem(at + (i, "name"), f"duplicate stage {stage['name']!r}"))
        seen.add(stage["name"])
    return problems


def _check_documents(docs, at, stages, doc_codes, roles, lines, context="") -> list[Problem]:
    problems = []
    for i, req in enumerate(docs):
        r_at = at + (i,)
        codes = (
            [
                ("type",),
            ]
            if "type" in req
            else [("any_of", j) for j in range(len(req["any_of"]))]
        )
        for sub in codes:
            code = req["type"] if sub == ("type",) else req["any_of"][sub[1]]
            if code not in doc_codes:
                problems.append(lines.problem(r_at + sub, _unknown_doc(code, doc_codes)))
        if "when" in req and req["when"] not in PREDICATES:
            problems.append(lines.problem(r_at + ("when",), _unknown_predicate(req["when"])))
        if "role" in req and req["role"] not in roles:
            problems.append(
                lines.problem(
                    r_at + ("role",), f"unknown role {req['role']!r}; declared roles: {', '.join(sorted(roles))}"
                )
            )
        if "stage" in req and req["stage"] not in stages:
            problems.append(
                lines.problem(
                    r_at + ("stage",),
                    f"stage {req['stage']!r} is referenced but not declared{context}; "
                    f"declared: {', '.join(sorted(stages))}",
                )
            )
    return problems


def _check_fields(fields: Mapping, at, lines) -> list[Problem]:
    problems = []
    for name, spec in fields.items():
        for key in ("after", "not_before", "not_above", "required_unless"):
            other = spec.get(key)
            if other is None:
                continue
            if other not in fields:
                problems.append(lines.problem(at + (name, key), f"{key}: refers to undeclared field {other!r}"))
            elif key in ("after", "not_before") and fields[other]["type"] != "date":
                problems.append(lines.problem(at + (name, key), f"{key}: field {other!r} is not a date"))
            elif key == "not_above" and fields[other]["type"] != "number":
                problems.append(lines.problem(at + (name, key), f"{key}: field {other!r} is not a number"))
        if spec.get("item") and spec["type"] != "list":
            problems.append(lines.problem(at + (name, "item"), "'item' is only allowed on list fields"))
    return problems


def _check_limits(bt, at, lines) -> list[Problem]:
    fields = bt.get("billing_fields", {})
    problems = []
    for i, limit in enumerate(bt.get("limits", [])):
        for key in ("from", "to"):
            name = limit.get(key)
            if name is not None and (name not in fields or fields[name]["type"] != "date"):
                problems.append(
                    lines.problem(
                        at + ("limits", i, key),
                        f"limit {limit['name']!r}: {key}: {name!r} is not a declared date field",
                    )
                )
    return problems


def _unknown_doc(code: str, doc_codes: set[str]) -> str:
    return f"unknown document type code {code!r}; declared: {', '.join(sorted(doc_codes))}"


def _unknown_predicate(name: str) -> str:
    close = difflib.get_close_matches(name, list(PREDICATES), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown predicate {name!r} (not in the closed registry archive.business.predicates.PREDICATES){hint}"


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
