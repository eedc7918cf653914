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
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dangan import SCHEMAS_DIR
from dangan.archive.business.scheme_checks import (
    LineMap,
    Problem,
    SchemeError,
    check_json_schema,
    check_semantics,
    read_scheme_text,
)
from dangan.archive.personal import PersonalData
from dangan.errors import NotFound
from dangan.i18n import N_, _

DEFAULT_SCHEME_PATH = SCHEMAS_DIR / "classification.yaml"


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
    born_digital: bool = False  # may be an electronic original: then no paper is demanded for it


@dataclass(frozen=True)
class Stage:
    name: str
    due_working_days: int | None = None


RULES = {"mandatory": N_("mandatory"), "optional": N_("optional")}  # how a document is required, in words


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
        """How the document is required, in the current language: mandatory, conditional: WHEN."""
        if self.rule == "conditional":
            return _("conditional: {when}").format(when=self.when)
        return _(RULES[self.rule]) if self.rule in RULES else self.rule


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
    personal: PersonalData = field(default_factory=PersonalData)  # a scheme without the section masks ID numbers
    sha256: str = ""  # of the file's bytes: any edit changes it, whatever `schema_version` says

    @property
    def label(self) -> str:
        """The version a person reads on a report: the human one and the content's hash."""
        return f"{self.version} (sha256 {self.sha256[:12]})" if self.sha256 else str(self.version)

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
        raise UnknownCode(_unknown(N_("unknown business type {key!r}"), key, candidates))

    def document_type(self, code_or_name: str) -> DocumentType:
        key = code_or_name.strip()
        if key.upper() in self.document_types:
            return self.document_types[key.upper()]
        for dt in self.document_types.values():
            if key == dt.name:
                return dt
        candidates = [c for dt in self.document_types.values() for c in (dt.code, dt.name)]
        raise UnknownCode(_unknown(N_("unknown document type {key!r}"), key, candidates))


def _unknown(text: str, key: str, candidates: Iterable[str]) -> str:
    """TEXT (marked with N_, naming KEY) in the current language, with the names KEY is close to."""
    candidates = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(key, candidates, n=5, cutoff=0.4)
    if not close:  # short Chinese names score low; fall back to shared characters
        close = [c for c in candidates if set(key) & set(c) and not c.isascii()][:5]
    hint = _("; did you mean: {names}?").format(names=", ".join(close)) if close else ""
    return _(text).format(key=key) + hint


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
    text = read_scheme_text(path)
    lines = LineMap(str(path))
    data = lines.parse(text)
    check_json_schema(data, lines)
    check_semantics(data, lines)
    return replace(_build(data, lines), sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


# --------------------------------------------------------------------------- building


def _build(data: Mapping, lines: LineMap) -> ClassificationScheme:
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
        personal=PersonalData.from_scheme(data.get("personal_data")),
    )


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(mapping)


def _document_type(code: str, body: Mapping) -> DocumentType:
    return DocumentType(
        code,
        body["name"],
        tuple(body.get("ocr_hints", ())),
        tuple(body.get("validators", ())),
        bool(body.get("born_digital", False)),
    )


def _business_type(code: str, body: Mapping, lines: LineMap) -> BusinessType:
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


def _requirements(docs: list, at: tuple, lines: LineMap) -> tuple[Requirement, ...]:
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
