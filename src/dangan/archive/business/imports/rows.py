"""An import's report and its rows: each row read, validated and turned into a customer or case
change, or into a problem with file, line, column and reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dangan.archive.business.imports.files import ColumnPlan
from dangan.archive.business.imports.mapping import MAX_PROBLEMS_KEPT, ImportMapping, KindMapping, Progress
from dangan.archive.business.imports.values import (
    parse_account,
    parse_customer_class,
    parse_date,
    parse_flag,
    parse_id_number,
    parse_voltage_class,
)
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.identifiers import InvalidIdentifier, validate_work_order
from dangan.i18n import _

# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    column: str
    value: str
    reason: str
    severity: str = "error"  # error: row not imported | warning: imported, this value not

    def __str__(self) -> str:
        col = f" [{self.column}]" if self.column else ""
        return f"{self.file}:{self.line}:{col} {self.severity}: {self.reason}"


@dataclass
class ImportReport:
    kind: str
    file: str
    file_sha256: str
    mapping: str
    encoding: str | None
    run_id: int | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    successions: int = 0
    customers_created: int = 0
    links_proposed: int = 0
    seconds: float = 0.0
    unused_columns: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # the first MAX_PROBLEMS_KEPT

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.successions + self.customers_created

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def counts(self) -> dict[str, int]:
        return {
            k: getattr(self, k)
            for k in (
                "rows",
                "inserted",
                "updated",
                "unchanged",
                "rejected",
                "warnings",
                "successions",
                "customers_created",
                "links_proposed",
            )
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "run": self.run_id,
            **self.counts(),
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows_per_second),
            "unused_columns": self.unused_columns,
            "problems": [p.__dict__ for p in self.problems],
        }


class Problems:
    """Counts every problem, keeps the first few, streams all of them to a sink if given."""

    def __init__(self, report: ImportReport, sink: Callable[[RowProblem], None] | None):
        self.report, self.sink = report, sink

    def add(self, problem: RowProblem) -> None:
        if problem.severity == "warning":
            self.report.warnings += 1
        if len(self.report.problems) < MAX_PROBLEMS_KEPT:
            self.report.problems.append(problem)
        if self.sink:
            self.sink(problem)


class RowError(ValueError):
    def __init__(self, column: str, value: Any, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


# --------------------------------------------------------------------------- parsed rows


@dataclass
class CustomerRow:
    line: int
    account_number: str
    previous_account_number: str | None
    values: dict[str, str]  # non-blank customer fields only


@dataclass
class CaseRow:
    line: int
    work_order: str
    account_number: str
    previous_account_number: str | None
    customer_values: dict[str, str]
    business_type: str
    department: str | None
    stage_dates: dict[str, date]
    closed_on: date | None
    billing_raw: dict[str, Any]  # field → cell, typed against the business type later
    facts: dict[str, bool]


class RowReader:
    def __init__(self, plan: ColumnPlan, mapping: ImportMapping, scheme: ClassificationScheme, today: date):
        self.plan, self.mapping, self.scheme, self.today = plan, mapping, scheme, today

    def cell(self, cells: list[Any], index: int | None) -> Any:
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def field(self, cells, name) -> Any:
        return self.cell(cells, self.plan.columns.get(name))

    def fail(self, name: str, value: Any, reason: str) -> RowError:
        index = self.plan.columns.get(name, self.plan.stages.get(name, self.plan.billing_fields.get(name)))
        column = self.plan.header(index) if index is not None else name
        return RowError(column, value, reason)

    def required(self, cells, names) -> None:
        for name in names:
            if self.field(cells, name) in ("", None):
                raise self.fail(name, "", f"{name.replace('_', ' ')} is empty")

    def customer_values(self, cells) -> dict[str, str]:
        values = {}
        for name in ("name", "address"):
            v = self.field(cells, name)
            if v not in ("", None):
                values[name] = str(v)
        v = self.field(cells, "id_number")
        if v not in ("", None):
            try:
                values["id_number"] = parse_id_number(v)
            except ValueError as exc:
                raise self.fail("id_number", v, str(exc)) from None
        tables = self.mapping.values
        for name, parse in (("voltage_class", parse_voltage_class), ("customer_class", parse_customer_class)):
            v = self.field(cells, name)
            if v not in ("", None):
                try:
                    values[name] = parse(v, tables.get(name, {}))
                except ValueError as exc:
                    raise self.fail(name, v, str(exc)) from None
        return values

    def account(self, cells, name) -> str | None:
        v = self.field(cells, name)
        if v in ("", None):
            return None
        try:
            return parse_account(v)
        except ValueError as exc:
            raise self.fail(name, v, str(exc)) from None

    def customer(self, line: int, cells: list[Any], kind: KindMapping) -> CustomerRow:
        self.required(cells, kind.required)
        return CustomerRow(
            line,
            self.account(cells, "account_number"),
            self.account(cells, "previous_account_number"),
            self.customer_values(cells),
        )

    def case(self, line: int, cells: list[Any], kind: KindMapping) -> CaseRow:
        self.required(cells, kind.required)
        wo = self.field(cells, "work_order")
        try:
            work_order = validate_work_order(str(wo), today=self.today)
        except InvalidIdentifier as exc:
            raise self.fail("work_order", wo, f"工单编号 {exc.reason}") from None
        name = str(self.field(cells, "business_type"))
        code = self.mapping.values.get("business_type", {}).get(name, name)
        try:
            business_type = self.scheme.business_type(code).code
        except KeyError as exc:
            raise self.fail(
                "business_type",
                name,
                _("{problem} (add it under values.business_type in the mapping)").format(problem=exc.args[0]),
            ) from None
        stage_dates = {}
        for stage, index in self.plan.stages.items():
            v = self.cell(cells, index)
            if v not in ("", None):
                try:
                    stage_dates[stage] = parse_date(v, self.today)
                except ValueError as exc:
                    raise RowError(self.plan.header(index), v, f"{stage} date: {exc}") from None
        closed = self.field(cells, "closed_on")
        try:
            closed_on = parse_date(closed, self.today) if closed not in ("", None) else None
        except ValueError as exc:
            raise self.fail("closed_on", closed, f"归档 date: {exc}") from None
        facts = {}
        for fact, index in self.plan.facts.items():
            v = self.cell(cells, index)
            if v not in ("", None):
                try:
                    facts[fact] = parse_flag(v)
                except ValueError as exc:
                    raise RowError(self.plan.header(index), v, f"{fact}: {exc}") from None
        billing = {
            f: self.cell(cells, i) for f, i in self.plan.billing_fields.items() if self.cell(cells, i) not in ("", None)
        }
        department = self.field(cells, "department")
        return CaseRow(
            line,
            work_order,
            self.account(cells, "account_number"),
            self.account(cells, "previous_account_number"),
            self.customer_values(cells),
            business_type,
            str(department) if department not in ("", None) else None,
            stage_dates,
            closed_on,
            billing,
            facts,
        )


@dataclass
class ImportOptions:
    mapping: str | Path | None = None
    encoding: str | None = None
    sheet: str | None = None
    batch_size: int = 2000
    today: date | None = None
    actor: str = "import"
    progress: Progress | None = None
    on_problem: Callable[[RowProblem], None] | None = None
    link_records: bool = True
