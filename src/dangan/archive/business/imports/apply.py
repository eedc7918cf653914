"""Applying validated rows in batches, each batch one transaction: inserts, updates with their
history, 户号 successions, case links."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.collection import propose_links
from dangan.archive.business.completeness import evaluate_completeness
from dangan.archive.business.imports.mapping import CASE_FIELDS, CUSTOMER_FIELDS
from dangan.archive.business.imports.rows import (
    CaseRow,
    CustomerRow,
    ImportOptions,
    ImportReport,
    Problems,
    RowError,
    RowProblem,
)
from dangan.archive.business.imports.values import parse_capacity, parse_date
from dangan.archive.models import (
    AccountAlias,
    AccountSuccession,
    BusinessCase,
    CaseVersion,
    Customer,
    CustomerVersion,
)
from dangan.archive.records.lifecycle import LifecycleError, change_account_number


def apply_batch(db, applier, batch: list) -> None:
    with db.session() as s:
        applier.apply(s, batch)
        s.flush()
        s.expunge_all()


def _canonical(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _canonical(v) for k, v in sorted(o.items())}
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    return o


class Batch:
    def __init__(
        self, scheme, report: ImportReport, problems: Problems, digest, options: ImportOptions, file: str, today: date
    ):
        self.scheme, self.report, self.problems, self.digest = scheme, report, problems, digest
        self.options, self.file, self.today = options, file, today
        self.aliases: dict[str, AccountAlias | None] = {}
        self.created: dict[str, Customer] = {}  # new in this batch, not flushed yet

    def note_change(self, what: str, key: str, before: dict, after: dict) -> None:
        self.digest.update(
            json.dumps([what, key, _canonical(before), _canonical(after)], ensure_ascii=False, default=str).encode()
        )

    def prefetch(self, s: Session, numbers: set[str]) -> None:
        """Load the batch's 户号 and their customers in a few queries, not one per row."""
        self.aliases, self.created = {n: None for n in numbers}, {}
        numbers = sorted(numbers)
        for i in range(0, len(numbers), 500):
            for alias in s.scalars(select(AccountAlias).where(AccountAlias.account_number.in_(numbers[i : i + 500]))):
                self.aliases[alias.account_number] = alias
        ids = sorted({a.customer_id for a in self.aliases.values() if a is not None})
        for i in range(0, len(ids), 500):
            list(s.scalars(select(Customer).where(Customer.id.in_(ids[i : i + 500]))))  # into the identity map

    def customer_for(self, s: Session, number: str) -> Customer | None:
        if number in self.created:
            return self.created[number]
        if number not in self.aliases:
            self.aliases[number] = s.get(AccountAlias, number)
        alias = self.aliases[number]
        return s.get(Customer, alias.customer_id) if alias is not None else None

    def new_customer(self, s: Session, number: str, values: Mapping[str, str]) -> Customer:
        customer = Customer(account_number=number, **values)
        s.add(customer)
        s.add(AccountAlias(account_number=number, customer=customer, reason=f"imported from {self.file}"[:200]))
        self.created[number] = customer
        self.note_change("customer", number, {}, dict(values))
        return customer

    def succession(self, s: Session, old: str, new: str, values: Mapping[str, str], line: int) -> None:
        """原户号 OLD → 户号 NEW, applied once (AccountSuccession remembers it)."""
        s.flush()
        self.created, self.aliases = {}, {}
        if s.scalar(select(AccountSuccession).filter_by(old_account=old, new_account=new)) is not None:
            return
        reason = f"原户号 {old} in {self.file}:{line}"
        old_customer, new_customer = self.customer_for(s, old), self.customer_for(s, new)
        if old_customer is None:
            if new_customer is None:
                new_customer = self.new_customer(s, new, values)
                self.report.customers_created += 1
            s.add(AccountAlias(account_number=old, customer=new_customer, valid_to=self.today, reason=reason[:200]))
            kind = "renumbered"
        elif new_customer is not None and new_customer.id == old_customer.id:
            kind = "renumbered"
        elif new_customer is None and old_customer.account_number != old:
            # OLD was renumbered before: a second successor of one account is a 分户 (split)
            self.new_customer(s, new, values)
            self.report.customers_created += 1
            events.record_event(
                s,
                "account split",
                self.options.actor,
                "customer",
                new,
                {"old": old, "continued_as": old_customer.account_number, "reason": reason},
            )
            kind = "split"
        else:
            kind = "merged" if new_customer is not None else "renumbered"
            try:
                change_account_number(s, old, new, reason, self.options.actor)
            except LifecycleError as exc:
                raise RowError("原户号", old, str(exc)) from None
        s.add(AccountSuccession(old_account=old, new_account=new, kind=kind, import_run_id=self.report.run_id))
        s.flush()
        self.created, self.aliases = {}, {}
        self.report.successions += 1
        self.note_change("succession", f"{old}->{new}", {}, {"kind": kind})

    def with_succession(self, s: Session, row) -> bool:
        """Apply a row's 原户号 in a savepoint; False (and reported) if it cannot be applied."""
        if not row.previous_account_number or row.previous_account_number == row.account_number:
            return True
        values = row.values if isinstance(row, CustomerRow) else row.customer_values
        try:
            with s.begin_nested():
                self.succession(s, row.previous_account_number, row.account_number, values, row.line)
        except RowError as exc:
            self.created, self.aliases = {}, {}
            self.problem(row, exc)
            return False
        return True

    def update_customer(self, s: Session, customer: Customer, values: Mapping[str, str], line: int) -> bool:
        changed = [k for k, v in values.items() if (getattr(customer, k) or "") != v]
        if not changed:
            return False
        earlier = {k: getattr(customer, k) or "" for k in ("account_number", *CUSTOMER_FIELDS)}
        s.add(
            CustomerVersion(
                customer_id=customer.id,
                earlier=earlier,
                changed=changed,
                import_run_id=self.report.run_id,
                source=f"{self.file}:{line}",
            )
        )
        for k in changed:
            setattr(customer, k, values[k])
        self.note_change(
            "customer", customer.account_number, {k: earlier[k] for k in changed}, {k: values[k] for k in changed}
        )
        return True

    def problem(self, row, exc: RowError) -> None:
        self.report.rejected += 1
        self.problems.add(RowProblem(self.file, row.line, exc.column, str(exc.value), exc.reason))

    def warn(self, row, column: str, value: Any, reason: str) -> None:
        self.problems.add(RowProblem(self.file, row.line, column, str(value), reason, "warning"))


class CustomerBatch(Batch):
    def apply(self, s: Session, batch: list[CustomerRow]) -> None:
        self.prefetch(
            s,
            {r.account_number for r in batch} | {r.previous_account_number for r in batch if r.previous_account_number},
        )
        for row in batch:
            if not self.with_succession(s, row):
                continue
            customer = self.customer_for(s, row.account_number)
            if customer is None:
                self.new_customer(s, row.account_number, row.values)
                self.report.inserted += 1
                continue
            if customer.account_number != row.account_number and customer.id is not None:
                self.warn(
                    row,
                    "户号",
                    row.account_number,
                    f"户号 {row.account_number} was replaced by "
                    f"{customer.account_number}; the customer was updated under its current number",
                )
            if customer.id is None:  # created earlier in this batch: the later row wins
                changed = {k: v for k, v in row.values.items() if getattr(customer, k) != v}
                for k, v in changed.items():
                    setattr(customer, k, v)
                self.report.updated += bool(changed)
                self.report.unchanged += not changed
            elif self.update_customer(s, customer, row.values, row.line):
                self.report.updated += 1
            else:
                self.report.unchanged += 1


class CaseBatch(Batch):
    def apply(self, s: Session, batch: list[CaseRow]) -> None:
        self.prefetch(
            s,
            {r.account_number for r in batch} | {r.previous_account_number for r in batch if r.previous_account_number},
        )
        orders = sorted({r.work_order for r in batch})
        self.cases = {
            c.work_order: c for c in s.scalars(select(BusinessCase).where(BusinessCase.work_order.in_(orders)))
        }
        touched: list[Customer] = []
        for row in batch:
            if not self.with_succession(s, row):
                continue
            try:
                customer = self.one(s, row)
            except RowError as exc:
                self.problem(row, exc)
                continue
            if customer is not None:
                touched.append(customer)
        s.flush()
        if touched and self.options.link_records:
            ids = {c.id for c in touched}
            self.report.links_proposed += len(propose_links(s, self.scheme, customer_ids=ids, actor=self.options.actor))

    def one(self, s: Session, row: CaseRow) -> Customer | None:
        """Validate the whole row first, then write: a rejected row leaves nothing behind."""
        customer = self.customer_for(s, row.account_number)
        facts_of = customer if customer is not None else Customer(**row.customer_values)
        case = self.cases.get(row.work_order)
        if case is not None and case.id is None:  # the same work order twice in one batch
            s.flush()
        old = _case_values(case) if case is not None else None
        new = self.merged_values(row, facts_of, old)
        if customer is None:
            customer = self.new_customer(s, row.account_number, row.customer_values)
            self.report.customers_created += 1
        if case is None:
            fields = {k: v for k, v in new.items() if k != "customer_id"}
            case = BusinessCase(work_order=row.work_order, customer=customer, type_source="import", **fields)
            s.add(case)
            self.cases[row.work_order] = case
            self.report.inserted += 1
            self.note_change("case", row.work_order, {}, new)
            return customer
        if customer.id is None or case.id is None:
            s.flush()
        new["customer_id"] = customer.id
        case.type_source = "import"  # the business system has spoken, whatever the scan read
        changed = [k for k in CASE_FIELDS if _comparable(old[k]) != _comparable(new[k])]
        if not changed:
            self.report.unchanged += 1
            return None
        s.add(
            CaseVersion(
                case_id=case.id,
                earlier=json.loads(json.dumps(old, default=str)),
                changed=changed,
                import_run_id=self.report.run_id,
                source=f"{self.file}:{row.line}",
            )
        )
        for k in changed:
            setattr(case, k, new[k])
        self.report.updated += 1
        self.note_change("case", row.work_order, {k: old[k] for k in changed}, {k: new[k] for k in changed})
        return customer

    def merged_values(self, row: CaseRow, customer: Customer, old: dict | None) -> dict[str, Any]:
        """The case as it stands after this row: blanks keep what was there; checked as a whole."""
        old = old or {
            "customer_id": None,
            "business_type": "",
            "department": "",
            "status": "open",
            "accepted_on": None,
            "stage_dates": {},
            "billing_fields": {},
            "facts": {},
        }
        bt = self.scheme.business_type(row.business_type)
        facts = {**(old["facts"] or {}), **row.facts}
        customer_facts = {
            k: v for k in ("voltage_class", "customer_class") if (v := getattr(customer, k, None) or None)
        }
        rule = bt.choose_variant({**customer_facts, **facts}).rule
        stage_order = [st.name for st in rule.stages]
        same_type = old["business_type"] == bt.code
        stage_dates = (
            {k: v for k, v in (old["stage_dates"] or {}).items() if k in stage_order or k == "closed"}
            if same_type
            else {}
        )
        for stage, d in row.stage_dates.items():
            if stage in stage_order:
                stage_dates[stage] = d.isoformat()
            elif _SHARED.get(stage) not in bt.billing_fields:
                self.warn(row, stage, d, f"{stage} is not a stage of {rule.name}; its date was not kept")
        dated = [(name, stage_dates[name]) for name in stage_order if name in stage_dates]
        for (a, da), (b, db) in itertools.pairwise(dated):
            if db < da:
                raise RowError(b, db, f"date order broken: {b} {db} is before {a} {da}")
        status = old["status"] or "open"
        if row.closed_on:
            latest = max((d for _, d in dated), default=None)
            if latest and row.closed_on.isoformat() < latest:
                raise RowError("归档日期", row.closed_on, f"归档 {row.closed_on} is before stage date {latest}")
            stage_dates["closed"], status = row.closed_on.isoformat(), "closed"
        billing = dict(old["billing_fields"] or {}) if same_type else {}
        shared_stages = {v: k for k, v in _SHARED.items()}
        for name, raw in row.billing_raw.items():
            spec = bt.billing_fields.get(name)
            if spec is None:
                if shared_stages.get(name) not in row.stage_dates:  # the stage loop spoke already
                    self.warn(row, name, raw, f"{name} is not a billing field of {bt.code} {bt.name}; ignored")
                continue
            try:
                if spec.type == "date":
                    billing[name] = parse_date(raw).isoformat()  # planned dates may lie ahead
                elif spec.type == "number":
                    billing[name] = parse_capacity(raw)
                else:
                    billing[name] = str(raw)
            except ValueError as exc:
                raise RowError(spec.label or name, raw, f"{spec.label or name}: {exc}") from None
        result = evaluate_completeness(
            self.scheme, bt.code, billing_fields=billing, facts={**customer_facts, **facts}, variant=rule.key
        )
        for issue in result.invalid_fields:
            if issue.severity != "error":
                continue
            spec = bt.billing_fields.get(issue.field)
            label = spec.label if spec and spec.label else issue.field
            if issue.value is None and status != "closed":
                self.warn(row, label, "", f"{label} ({issue.field}): {issue.reason}; needed before the case is closed")
            else:
                raise RowError(
                    label, issue.value if issue.value is not None else "", f"{label} ({issue.field}): {issue.reason}"
                )
        accepted = stage_dates.get("受理")
        return {
            "customer_id": old["customer_id"],
            "business_type": bt.code,
            "department": row.department if row.department is not None else (old["department"] or ""),
            "status": status,
            "accepted_on": date.fromisoformat(accepted) if accepted else old["accepted_on"],
            "stage_dates": stage_dates,
            "billing_fields": billing,
            "facts": facts,
        }


# 封停日期 feeds both the 加封 stage and seal_date, and so on: one warning, not two, when a
# business type has neither.
_SHARED = {"加封": "seal_date", "启封": "unseal_date", "拆表": "meter_removal_date", "换装": "replacement_date"}


def _case_values(case: BusinessCase) -> dict[str, Any]:
    return {
        "customer_id": case.customer_id,
        "business_type": case.business_type or "",
        "department": case.department or "",
        "status": case.status or "open",
        "accepted_on": case.accepted_on,
        "stage_dates": dict(case.stage_dates or {}),
        "billing_fields": dict(case.billing_fields or {}),
        "facts": dict(case.facts or {}),
    }


def _comparable(v: Any) -> Any:
    return json.dumps(_canonical(v), ensure_ascii=False, default=str)
