"""Is a business case's file complete? Pure functions over plain data.

The rules are data (``schemas/classification.yaml``); the predicates and validators
they may name are the closed registries of ``archive.business.predicates``; this
module evaluates a case against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from dangan.archive.business.predicates import PREDICATES, CaseFacts, identifier_failure
from dangan.archive.business.workdays import add_months
from dangan.i18n import N_, _

if TYPE_CHECKING:
    from dangan.archive.business.scheme import (
        BusinessType,
        ClassificationScheme,
        CompletenessRule,
        FieldSpec,
        Limit,
        Requirement,
    )

# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class MissingDocument:
    requirement: Requirement
    doc_types: tuple[str, ...]
    names: tuple[str, ...]
    count: int  # how many more are needed
    role_name: str = ""  # the role as the scheme names it: 户主/产权人 for owner

    @property
    def code(self) -> str:
        return self.doc_types[0]

    @property
    def name(self) -> str:
        return "/".join(self.names)

    @property
    def rule(self) -> str:
        return self.requirement.rule

    @property
    def why(self) -> str:
        return self.requirement.why()

    @property
    def role(self) -> str | None:
        return self.requirement.role

    @property
    def stage(self) -> str | None:
        return self.requirement.stage

    def __str__(self) -> str:
        """One line for a person in the current language: missing SQ 用电申请书 [mandatory]."""
        what = _(" or ").join(_("{code} {name}").format(code=c, name=n) for c, n in zip(self.doc_types, self.names))
        role = _(" ({role})").format(role=self.role_name or self.role) if self.role else ""
        many = f" ×{self.count}" if self.count > 1 else ""
        why = self.requirement.why()
        stage = _(", stage {stage}").format(stage=self.stage) if self.stage else ""
        return _("missing {what}{role}{many} [{why}{stage}]").format(
            what=what, role=role, many=many, why=why, stage=stage
        )


@dataclass(frozen=True)
class FieldIssue:
    field: str
    value: Any
    reason: str
    severity: str = "error"  # error | warning (limits from the 1996 rules)
    limit: str | None = None
    label: str = ""  # the field as people read it: 换装日期 (replacement_date)

    def __str__(self) -> str:
        shown = (
            _("(missing)")
            if self.value is None
            else (self.value.isoformat() if hasattr(self.value, "isoformat") else repr(self.value))
        )
        severity = _("error") if self.severity == "error" else _("warning")
        return _("{severity}: {field} = {shown}: {reason}").format(
            severity=severity, field=self.label or self.field, shown=shown, reason=self.reason
        )


@dataclass(frozen=True)
class UnmetPrecondition:
    name: str
    reason: str

    def __str__(self) -> str:
        return _("precondition {name} not met: {reason}").format(name=self.name, reason=self.reason)


@dataclass(frozen=True)
class CompletenessResult:
    business_type: str
    variant: str
    scheme_version: int
    missing: tuple[MissingDocument, ...]
    invalid_fields: tuple[FieldIssue, ...]
    unmet_preconditions: tuple[UnmetPrecondition, ...]
    not_applicable: tuple[str, ...]  # facts say this business type doesn't fit the customer
    warnings: tuple[str, ...]
    assumptions: tuple[str, ...]  # facts that were not given and what was assumed
    unexpected_documents: tuple[tuple[str, str | None], ...]

    @property
    def documents_complete(self) -> bool:
        return not self.missing

    @property
    def ok(self) -> bool:
        """Fit for handover: nothing missing, no field errors, preconditions met."""
        return (
            not self.missing
            and not self.unmet_preconditions
            and not self.not_applicable
            and not any(issue.severity == "error" for issue in self.invalid_fields)
        )

    def problems(self) -> list[str]:
        """Every blocking problem as one line of text, for refusal messages."""
        return (
            [str(m) for m in self.missing]
            + [str(u) for u in self.unmet_preconditions]
            + list(self.not_applicable)
            + [str(i) for i in self.invalid_fields if i.severity == "error"]
        )


# --------------------------------------------------------------------------- evaluation

Present = tuple[str, "str | None"]


def evaluate_completeness(
    scheme: ClassificationScheme,
    business_type_code: str,
    *,
    present_documents: Iterable[str | tuple[str, str | None]] = (),
    facts: Mapping[str, Any] | None = None,
    billing_fields: Mapping[str, Any] | None = None,
    variant: str | None = None,
) -> CompletenessResult:
    """Check one business case against the scheme's completeness rules.

    ``present_documents`` are document type codes (or names), optionally paired
    with the party role they belong to: ``"SF"`` or ``("SF", "agent")``. A document
    without a role may fill any requirement of its type; one with a role only a
    requirement for that role (or one that names no role). Each document counts once.
    """
    business_type = scheme.business_type(business_type_code)
    case_facts: dict[str, Any] = {**(facts or {}), "policy": dict(scheme.policy)}
    choice = _forced_variant(business_type, variant) if variant else business_type.choose_variant(case_facts)
    rule = choice.rule
    present = _normalise_present(scheme, present_documents)
    assumptions = list(choice.assumptions)
    active = _active_requirements(rule, case_facts, assumptions)
    missing, unmatched = _match_documents(scheme, active, present)
    issues = _check_billing_fields(business_type, billing_fields or {}, case_facts)
    warnings = [str(i) for i in issues if i.severity == "warning"]
    warnings += _undeclared_fields(business_type, billing_fields or {})
    unmet = _check_preconditions(business_type, case_facts, present, assumptions)
    referenced = {code for req in rule.documents for code in req.doc_types}
    return CompletenessResult(
        business_type=business_type.code,
        variant=rule.key,
        scheme_version=scheme.version,
        missing=tuple(missing),
        invalid_fields=tuple(issues),
        unmet_preconditions=tuple(unmet),
        not_applicable=tuple(_applicability(business_type, case_facts)) + choice.problems,
        warnings=tuple(warnings),
        assumptions=tuple(assumptions),
        unexpected_documents=tuple(doc for doc in unmatched if doc[0] not in referenced),
    )


def _forced_variant(business_type: BusinessType, key: str):
    from dangan.archive.business.scheme import VariantChoice

    return VariantChoice(business_type.variant(key))


def _normalise_present(scheme: ClassificationScheme, documents) -> list[Present]:
    present = []
    for item in documents:
        code, role = (item, None) if isinstance(item, str) else (item[0], item[1])
        try:
            code = scheme.document_type(code).code
        except KeyError as exc:
            raise ValueError(_("present document {item!r}: {problem}").format(item=item, problem=exc.args[0])) from None
        if role is not None and role not in scheme.roles:
            raise ValueError(
                _("present document {item!r}: unknown role {role!r}; roles: {choices}").format(
                    item=item, role=role, choices=", ".join(scheme.roles)
                )
            )
        present.append((code, role))
    return present


def _active_requirements(rule: CompletenessRule, facts: CaseFacts, assumptions: list[str]) -> list[Requirement]:
    """Mandatory requirements plus conditional ones whose predicate holds."""
    active = []
    for req in rule.documents:
        if req.rule == "mandatory":
            active.append(req)
        elif req.rule == "conditional":
            predicate = PREDICATES[req.when]
            if predicate(facts):
                active.append(req)
            elif not predicate.is_known(facts):
                note = _("{when}: fact {facts} not given, assumed false").format(
                    when=req.when, facts="/".join(predicate.reads)
                )
                if note not in assumptions:
                    assumptions.append(note)
    return active


def _match_documents(scheme, requirements, present: list[Present]):
    """Assign each present document to at most one requirement slot (bipartite matching).

    Greedy assignment could spend a plain "SF" on the agent's slot and report the
    owner's as missing although a second SF would fit; augmenting paths avoid that.
    Mandatory requirements claim documents first and keep them, so what is
    reported missing is the conditional slot (e.g. the agent's ID, not the owner's).
    """
    by_priority = sorted(requirements, key=lambda req: req.rule != "mandatory")
    slots = [req for req in by_priority for _ in range(req.min_count)]
    fits = [[i for i, doc in enumerate(present) if _fits(req, doc)] for req in slots]
    owner: dict[int, int] = {}  # present index → slot index

    def assign(slot: int, seen: set[int]) -> bool:
        for doc in fits[slot]:
            if doc in seen:
                continue
            seen.add(doc)
            if doc not in owner or assign(owner[doc], seen):
                owner[doc] = slot
                return True
        return False

    for slot in range(len(slots)):
        assign(slot, set())
    filled = set(owner.values())  # augmenting moves documents between slots
    shortfall: dict[int, int] = {}
    for slot, req in enumerate(slots):
        if slot not in filled:
            shortfall[id(req)] = shortfall.get(id(req), 0) + 1
    missing = [
        MissingDocument(
            req,
            req.doc_types,
            tuple(scheme.document_types[c].name for c in req.doc_types),
            shortfall[id(req)],
            scheme.roles.get(req.role or "", ""),
        )
        for req in requirements
        if id(req) in shortfall
    ]
    unmatched = [doc for i, doc in enumerate(present) if i not in owner]
    return missing, unmatched


def _fits(req: Requirement, doc: Present) -> bool:
    code, role = doc
    return code in req.doc_types and (role is None or req.role is None or role == req.role)


def _check_preconditions(
    business_type, facts: CaseFacts, present: list[Present], assumptions: list[str]
) -> list[UnmetPrecondition]:
    unmet = []
    for pre in business_type.preconditions:
        if pre.when and not PREDICATES[pre.when](facts):
            continue
        predicate = PREDICATES[pre.predicate]
        if predicate.is_known(facts):
            if not predicate(facts):
                unmet.append(
                    UnmetPrecondition(
                        pre.predicate, _("facts say {predicate} is not true").format(predicate=pre.predicate)
                    )
                )
            continue
        # the billing system may hold the truth; the paper trace is acceptable evidence
        evidence = [code for code, _ in present if code in pre.evidence]
        if evidence:
            assumptions.append(
                _("{predicate}: not stated in facts, taken from document {evidence}").format(
                    predicate=pre.predicate, evidence=evidence[0]
                )
            )
        else:
            unmet.append(
                UnmetPrecondition(
                    pre.predicate,
                    _("not stated in facts and no {evidence} document present").format(
                        evidence="/".join(pre.evidence) or _("evidence")
                    ),
                )
            )
    return unmet


def _applicability(business_type, facts: CaseFacts) -> list[str]:
    problems = []
    for key, wanted in business_type.applies_when.items():
        if facts.get(key) is not None and facts[key] != wanted:
            problems.append(
                _("{code} {name} applies only when {key} is {wanted}; this case has {actual}").format(
                    code=business_type.code, name=business_type.name, key=key, wanted=wanted, actual=facts[key]
                )
            )
    return problems


def _undeclared_fields(business_type, values: Mapping[str, Any]) -> list[str]:
    return [
        _("{field}: not a billing field of {code} {name}; ignored").format(
            field=name, code=business_type.code, name=business_type.name
        )
        for name in values
        if name not in business_type.billing_fields
    ]


# --------------------------------------------------------------------------- billing fields

_MISSING = object()


def _check_billing_fields(business_type, values: Mapping[str, Any], facts: CaseFacts) -> list[FieldIssue]:
    specs = business_type.billing_fields
    parsed: dict[str, Any] = {}
    issues: list[FieldIssue] = []
    for name, spec in specs.items():
        raw = values.get(name, _MISSING)
        if _is_blank(raw):
            if spec.required or (spec.required_unless and _is_blank(values.get(spec.required_unless))):
                issues.append(FieldIssue(name, None, _required_reason(spec, specs)))
            continue
        value, problem = _parse(spec, raw)
        if problem:
            issues.append(FieldIssue(name, raw, problem))
        else:
            parsed[name] = value
    for name, value in parsed.items():
        issues += _field_rules(specs[name], value, parsed, specs)
    for limit in business_type.limits:
        issue = _check_limit(limit, parsed, facts, specs)
        if issue:
            issues.append(issue)
    return [replace(i, label=_label(specs[i.field])) if i.field in specs else i for i in issues]


def _is_blank(value: Any) -> bool:
    return value is _MISSING or value is None or (isinstance(value, str) and not value.strip())


def _label(spec: FieldSpec) -> str:
    return f"{spec.label} ({spec.name})" if spec.label else spec.name


def _required_reason(spec: FieldSpec, specs) -> str:
    if spec.required:
        return _("missing required field")
    return _("missing: required unless {other} is given").format(other=_label(specs[spec.required_unless]))


def _parse(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    if spec.type == "list":
        return _parse_list(spec, raw)
    return _parse_scalar(spec.type, raw)


def _parse_scalar(kind: str, raw: Any) -> tuple[Any, str | None]:
    if kind == "date":
        return _as_date(raw)
    if kind == "number":
        return _as_number(raw)
    if isinstance(raw, str):
        return raw.strip(), None
    return None, _("wrong type: expected text, got {type}").format(type=type(raw).__name__)


def _as_date(raw: Any) -> tuple[date | None, str | None]:
    if isinstance(raw, datetime):
        return raw.date(), None
    if isinstance(raw, date):
        return raw, None
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return (datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)), None
        except ValueError:
            pass
    return None, _("wrong type: expected a date (YYYY-MM-DD), got {raw!r}").format(raw=raw)


def _as_number(raw: Any) -> tuple[float | None, str | None]:
    if isinstance(raw, bool):
        return None, _("wrong type: expected a number, got {raw!r}").format(raw=raw)
    if isinstance(raw, (int, float, Decimal)):
        return float(raw), None
    if isinstance(raw, str):
        try:
            return float(Decimal(raw.strip())), None
        except InvalidOperation:
            pass
    return None, _("wrong type: expected a number, got {raw!r}").format(raw=raw)


def _parse_list(spec: FieldSpec, raw: Any) -> tuple[list | None, str | None]:
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
        return None, _("wrong type: expected a list, got {type}").format(type=type(raw).__name__)
    items = []
    for index, item in enumerate(raw, start=1):
        if not spec.item:
            items.append(item)
            continue
        if not isinstance(item, Mapping):
            return None, _("item {index}: expected a mapping with {choices}").format(
                index=index, choices=", ".join(spec.item)
            )
        parsed = {}
        for key, kind in spec.item.items():
            if _is_blank(item.get(key)):
                return None, f"item {index}: {key} is missing"
            value, problem = _parse_scalar(kind, item[key])
            if problem:
                return None, f"item {index}: {key}: {problem}"
            parsed[key] = value
        items.append(parsed)
    return items, None


def _field_rules(spec: FieldSpec, value: Any, parsed: Mapping, specs) -> list[FieldIssue]:
    issues = []
    if spec.after and spec.after in parsed and not value > parsed[spec.after]:
        issues.append(
            FieldIssue(
                spec.name,
                value,
                _("date order broken: {field} {value} must be after {other} {other_value}").format(
                    field=_label(spec), value=value, other=_label(specs[spec.after]), other_value=parsed[spec.after]
                ),
            )
        )
    if spec.not_before and spec.not_before in parsed and value < parsed[spec.not_before]:
        issues.append(
            FieldIssue(
                spec.name,
                value,
                _("date order broken: {field} {value} is before {other} {other_value}").format(
                    field=_label(spec),
                    value=value,
                    other=_label(specs[spec.not_before]),
                    other_value=parsed[spec.not_before],
                ),
            )
        )
    if spec.not_above and spec.not_above in parsed and value > parsed[spec.not_above]:
        issues.append(
            FieldIssue(
                spec.name,
                value,
                f"{_label(spec)} {value:g} exceeds {_label(specs[spec.not_above])} {parsed[spec.not_above]:g}",
            )
        )
    if spec.min is not None and value < spec.min:
        issues.append(FieldIssue(spec.name, value, _("must be at least {min:g}").format(min=spec.min)))
    failure = identifier_failure(value, spec.validators) if spec.validators else None
    if failure:
        issues.append(FieldIssue(spec.name, value, failure))
    return issues


def _check_limit(limit: Limit, parsed: Mapping, facts: CaseFacts, specs) -> FieldIssue | None:
    source = f" ({limit.name}; {limit.source})" if limit.source else f" ({limit.name})"
    if limit.check == "max_fact":
        value = facts.get(limit.fact)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit.value:
            return FieldIssue(
                limit.fact,
                value,
                _("exceeds the limit of {value:g}{source}").format(value=limit.value, source=source),
                limit.severity,
                limit.name,
            )
        return None
    start, end = parsed.get(limit.from_field), parsed.get(limit.to_field)
    if start is None or end is None:
        return None  # missing fields are reported on their own
    days = (end - start).days
    span = f"{_label(specs[limit.from_field])} → {_label(specs[limit.to_field])}"
    broken = {
        "min_days_between": days < limit.value,
        "max_days_between": days > limit.value,
        "min_months_between": end < add_months(start, int(limit.value)),
        "max_months_between": end > add_months(start, int(limit.value)),
    }[limit.check]
    if not broken:
        return None
    should = {
        "min_days_between": N_("{span} is {days} days; should be at least {value:g} days{source}"),
        "max_days_between": N_("{span} is {days} days; should be at most {value:g} days{source}"),
        "min_months_between": N_("{span} is {days} days; should be at least {value:g} months{source}"),
        "max_months_between": N_("{span} is {days} days; should be at most {value:g} months{source}"),
    }[limit.check]
    return FieldIssue(
        limit.to_field,
        end,
        _(should).format(span=span, days=days, value=limit.value, source=source),
        limit.severity,
        limit.name,
    )


__all__ = [
    "CompletenessResult",
    "FieldIssue",
    "MissingDocument",
    "UnmetPrecondition",
    "evaluate_completeness",
]
