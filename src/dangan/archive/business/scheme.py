"""The classification scheme and completeness rules, loaded from ``schemas/``.

The scheme is data (``schemas/classification.yaml``); this module turns it into
frozen domain objects and refuses a file that is malformed or refers to things
that do not exist, naming the file and line so whoever edits the YAML can fix it.

Business type and customer attributes are metadata: nothing here feeds the
archive number except the fixed fonds and category codes.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from dangan import SCHEMAS_DIR
from dangan.archive.business.predicates import PREDICATES
from dangan.errors import DanganError, NotFound

DEFAULT_SCHEME_PATH = SCHEMAS_DIR / "classification.yaml"
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


class UnknownCode(NotFound, KeyError):
    """A business type, document type or other code the scheme does not know (a KeyError, so
    lookups read like a mapping's); the message proposes close matches."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------- domain objects


@dataclass(frozen=True)
class CodeName:
    code: str
    name: str


@dataclass(frozen=True)
class RetentionCode:
    code: str
    name: str
    years: int | None  # None = permanent (永久)


@dataclass(frozen=True)
class Retention:
    code: str
    trigger: str  # case_closed | account_closed: when the retention period starts


@dataclass(frozen=True)
class DocumentType:
    code: str
    name: str
    ocr_hints: tuple[str, ...] = ()
    validators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    name: str
    due_working_days: int | None = None


@dataclass(frozen=True)
class Requirement:
    """One line of a completeness rule: which document(s), how strictly, for whom."""

    doc_types: tuple[str, ...]  # one code, or the members of an any_of group
    rule: str  # mandatory | conditional | optional
    any_of: bool = False
    when: str | None = None  # predicate name (conditional only)
    role: str | None = None
    stage: str | None = None
    min_count: int = 1
    note: str | None = None
    line: int | None = None  # where it is written in the YAML

    def label(self) -> str:
        codes = "/".join(self.doc_types)
        text = f"any of {codes}" if self.any_of and len(self.doc_types) > 1 else codes
        if self.role:
            text += f" ({self.role})"
        if self.min_count > 1:
            text += f" ×{self.min_count}"
        return text

    def why(self) -> str:
        return f"conditional: {self.when}" if self.rule == "conditional" else self.rule


@dataclass(frozen=True)
class FieldSpec:
    """A billing-critical field of a business case and the simple rules it obeys."""

    name: str
    type: str  # date | number | str | list
    required: bool = False
    required_unless: str | None = None
    label: str | None = None
    after: str | None = None  # strictly later than that date field
    not_before: str | None = None  # same day or later than that date field
    not_above: str | None = None  # number not greater than that field
    min: float | None = None
    validators: tuple[str, ...] = ()  # any one passing is enough
    item: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limit:
    """A rule from the 1996 《供电营业规则》 kept as data; usually only a warning."""

    name: str
    check: str
    value: float
    severity: str
    from_field: str | None = None
    to_field: str | None = None
    fact: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Precondition:
    predicate: str
    evidence: tuple[str, ...] = ()  # document types that prove it on paper
    when: str | None = None


@dataclass(frozen=True)
class CompletenessRule:
    """The documents and stages that apply to one business type (variant)."""

    key: str
    name: str
    applies_when: Mapping[str, str]
    default: bool
    stages: tuple[Stage, ...]
    documents: tuple[Requirement, ...]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise UnknownCode(
            f"stage {name!r} is not a stage of {self.name}; stages: {', '.join(s.name for s in self.stages)}"
        )


@dataclass(frozen=True)
class VariantChoice:
    rule: CompletenessRule
    assumptions: tuple[str, ...] = ()  # what was assumed because facts were missing
    problems: tuple[str, ...] = ()  # facts that contradict every variant


@dataclass(frozen=True)
class BusinessType:
    code: str
    name: str
    group: str
    retention: Retention
    applies_when: Mapping[str, str]
    preconditions: tuple[Precondition, ...]
    billing_fields: Mapping[str, FieldSpec]
    limits: tuple[Limit, ...]
    variants: tuple[CompletenessRule, ...]  # exactly one when the type has no variants

    def variant(self, key: str) -> CompletenessRule:
        for rule in self.variants:
            if rule.key == key or rule.name == key:
                return rule
        raise UnknownCode(
            f"{self.code} {self.name} has no variant {key!r}; variants: {', '.join(r.key for r in self.variants)}"
        )

    def choose_variant(self, facts: Mapping[str, Any]) -> VariantChoice:
        """Pick the rule set whose ``applies_when`` matches the case facts.

        Facts decide when they can; otherwise the default variant is used and
        the assumption is reported, never hidden.
        """
        if len(self.variants) == 1:
            return VariantChoice(self.variants[0])
        decided = [r for r in self.variants if _matches(r.applies_when, facts) is True]
        if decided:
            return VariantChoice(decided[0])
        open_ = [r for r in self.variants if _matches(r.applies_when, facts) is None]
        if open_:
            chosen = next((r for r in open_ if r.default), open_[0])
            missing = sorted({k for r in open_ for k in r.applies_when if k not in facts})
            return VariantChoice(
                chosen,
                assumptions=(f"{self.code}: facts {', '.join(missing)} not given; rules of {chosen.name} applied",),
            )
        chosen = next((r for r in self.variants if r.default), self.variants[0])
        given = {k: facts[k] for r in self.variants for k in r.applies_when if k in facts}
        return VariantChoice(
            chosen,
            problems=(f"{self.code} {self.name}: no variant fits facts {given}; rules of {chosen.name} applied",),
        )


def _matches(applies_when: Mapping[str, str], facts: Mapping[str, Any]) -> bool | None:
    """True if facts satisfy every condition, False if one contradicts, None if unknown."""
    unknown = False
    for key, wanted in applies_when.items():
        if key not in facts or facts[key] is None:
            unknown = True
        elif facts[key] != wanted:
            return False
    return None if unknown else True


@dataclass(frozen=True)
class ClassificationScheme:
    version: int
    fonds: CodeName
    category: CodeName
    retention_codes: Mapping[str, RetentionCode]
    document_types: Mapping[str, DocumentType]
    business_types: Mapping[str, BusinessType]
    policy: Mapping[str, Any]
    roles: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def business_type(self, code_or_name: str) -> BusinessType:
        """By code (``"ZT"``), Chinese name (``"暂停"``) or variant name (``"新装·高压"``)."""
        key = code_or_name.strip()
        if key.upper() in self.business_types:
            return self.business_types[key.upper()]
        for bt in self.business_types.values():
            if key == bt.name or any(key == v.name for v in bt.variants):
                return bt
        candidates = [
            c for bt in self.business_types.values() for c in (bt.code, bt.name, *(v.name for v in bt.variants))
        ]
        raise UnknownCode(_unknown("business type", key, candidates))

    def document_type(self, code_or_name: str) -> DocumentType:
        key = code_or_name.strip()
        if key.upper() in self.document_types:
            return self.document_types[key.upper()]
        for dt in self.document_types.values():
            if key == dt.name:
                return dt
        candidates = [c for dt in self.document_types.values() for c in (dt.code, dt.name)]
        raise UnknownCode(_unknown("document type", key, candidates))


def _unknown(kind: str, key: str, candidates: Iterable[str]) -> str:
    candidates = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(key, candidates, n=5, cutoff=0.4)
    if not close:  # short Chinese names score low; fall back to shared characters
        close = [c for c in candidates if set(key) & set(c) and not c.isascii()][:5]
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return f"unknown {kind} {key!r}{hint}"


# --------------------------------------------------------------------------- loading


def load_scheme(path: str | Path | None = None) -> ClassificationScheme:
    """Load, validate and freeze the classification scheme (default: the shipped one)."""
    if path is None:
        return _default_scheme()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _default_scheme() -> ClassificationScheme:
    return _load(DEFAULT_SCHEME_PATH)


def _load(path: Path) -> ClassificationScheme:
    text = _read(path)
    lines = _LineMap(str(path))
    data = lines.parse(text)
    _check_json_schema(data, lines)
    _check_semantics(data, lines)
    return _build(data, lines)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemeError([Problem(str(path), None, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise SchemeError([Problem(str(path), None, "", f"not UTF-8 text ({exc})")]) from None


class _LineMap:
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
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise SchemeError([Problem(self.file, line, "", f"not valid YAML: {exc}")]) from None
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


def _key_of(node: yaml.Node) -> Any:
    """The key as safe_load builds it (so ``1:`` is the int 1, as in the data)."""
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        return yaml.safe_load(node.value) if node.value else None
    return node.value if isinstance(node, yaml.ScalarNode) else repr(node.value)


def _fmt(path: Iterable) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _check_json_schema(data: Any, lines: _LineMap) -> None:
    schema = json.loads(JSON_SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: lines.line(e.absolute_path) or 0)
    problems = [lines.problem(e.absolute_path, _schema_message(e)) for e in errors]
    if problems:
        raise SchemeError(problems)


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and "type" in error.schema.get("oneOf", [{}])[0].get("required", []):
        return "a document requirement needs exactly one of 'type' or 'any_of'"
    if error.validator == "oneOf":
        return "a business type needs either 'stages' or 'variants' (not both)"
    message = error.message if len(error.message) < 200 else error.message[:200] + "…"
    return f"does not match the scheme's JSON Schema: {message}"


# --------------------------------------------------------------------------- semantic checks


def _check_semantics(data: Mapping, lines: _LineMap) -> None:
    problems: list[Problem] = []
    doc_codes = set(data["document_types"])
    roles = set(data["roles"])
    problems += _duplicate_names(data, lines)
    for code, bt in data["business_types"].items():
        at = ("business_types", code)
        problems += _check_business_type(bt, at, data, doc_codes, roles, lines)
    if problems:
        raise SchemeError(sorted(problems, key=lambda p: p.line or 0))


def _duplicate_names(data: Mapping, lines: _LineMap) -> list[Problem]:
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


# --------------------------------------------------------------------------- building


def _build(data: Mapping, lines: _LineMap) -> ClassificationScheme:
    return ClassificationScheme(
        version=data["schema_version"],
        fonds=CodeName(**data["fonds"]),
        category=CodeName(**data["category"]),
        retention_codes=_frozen(
            {c: RetentionCode(c, r["name"], r.get("years")) for c, r in data["retention_codes"].items()}
        ),
        document_types=_frozen({c: _document_type(c, d) for c, d in data["document_types"].items()}),
        business_types=_frozen({c: _business_type(c, b, lines) for c, b in data["business_types"].items()}),
        policy=_frozen(dict(data["policy"])),
        roles=_frozen(dict(data["roles"])),
        source=lines.file,
    )


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(mapping)


def _document_type(code: str, body: Mapping) -> DocumentType:
    return DocumentType(code, body["name"], tuple(body.get("ocr_hints", ())), tuple(body.get("validators", ())))


def _business_type(code: str, body: Mapping, lines: _LineMap) -> BusinessType:
    at = ("business_types", code)
    common = _requirements(body["documents"], at + ("documents",), lines)
    if "variants" in body:
        variants = tuple(
            CompletenessRule(
                key=v["key"],
                name=v["name"],
                applies_when=_frozen(dict(v["applies_when"])),
                default=bool(v.get("default", False)),
                stages=_stages(v["stages"]),
                documents=common + _requirements(v["documents"], at + ("variants", i, "documents"), lines),
            )
            for i, v in enumerate(body["variants"])
        )
    else:
        variants = (
            CompletenessRule(
                key=code,
                name=body["name"],
                applies_when=_frozen(dict(body.get("applies_when", {}))),
                default=True,
                stages=_stages(body["stages"]),
                documents=common,
            ),
        )
    return BusinessType(
        code=code,
        name=body["name"],
        group=body["group"],
        retention=Retention(**body["retention"]),
        applies_when=_frozen(dict(body.get("applies_when", {}))),
        preconditions=tuple(
            Precondition(p["predicate"], tuple(p.get("evidence", ())), p.get("when"))
            for p in body.get("preconditions", [])
        ),
        billing_fields=_frozen({n: _field(n, s) for n, s in body.get("billing_fields", {}).items()}),
        limits=tuple(_limit(x) for x in body.get("limits", [])),
        variants=variants,
    )


def _stages(stages: list) -> tuple[Stage, ...]:
    return tuple(Stage(s["name"], s.get("due_working_days")) for s in stages)


def _requirements(docs: list, at: tuple, lines: _LineMap) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            doc_types=(r["type"],) if "type" in r else tuple(r["any_of"]),
            rule=r["rule"],
            any_of="any_of" in r,
            when=r.get("when"),
            role=r.get("role"),
            stage=r.get("stage"),
            min_count=r.get("min_count", 1),
            note=r.get("note"),
            line=lines.line(at + (i,)),
        )
        for i, r in enumerate(docs)
    )


def _field(name: str, spec: Mapping) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=spec["type"],
        required=bool(spec.get("required", False)),
        required_unless=spec.get("required_unless"),
        label=spec.get("label"),
        after=spec.get("after"),
        not_before=spec.get("not_before"),
        not_above=spec.get("not_above"),
        min=spec.get("min"),
        validators=tuple(spec.get("validators", ())),
        item=_frozen(dict(spec.get("item", {}))),
    )


def _limit(spec: Mapping) -> Limit:
    return Limit(
        name=spec["name"],
        check=spec["check"],
        value=spec["value"],
        severity=spec["severity"],
        from_field=spec.get("from"),
        to_field=spec.get("to"),
        fact=spec.get("fact"),
        source=spec.get("source"),
    )


__all__ = [
    "DEFAULT_SCHEME_PATH",
    "BusinessType",
    "ClassificationScheme",
    "CodeName",
    "CompletenessRule",
    "DocumentType",
    "FieldSpec",
    "Limit",
    "Precondition",
    "Problem",
    "Requirement",
    "Retention",
    "RetentionCode",
    "SchemeError",
    "Stage",
    "VariantChoice",
    "load_scheme",
]
