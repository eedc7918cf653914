"""Follow the business: import customers and business cases from the business system's exports.

An export (CSV in UTF-8 or GBK/GB18030, or .xlsx) is read row by row, in constant memory,
through a column mapping kept as data (``schemas/import-mapping.yaml``). Every row is
validated (户号, 工单编号, dates, capacities, business type, the scheme's billing fields);
bad rows are reported with file, line and reason, good rows are imported in the same run,
in batches, each batch one transaction.

Re-importing the same file changes nothing. A changed row updates the customer or case and
keeps the earlier values in ``customer_version`` / ``case_version`` (with the file and line
that changed them); the run itself is one hash-chained event carrying the file's SHA-256
and a digest of every change, so the history rows can be checked against the log.
A 原户号 column records a 户号 change, 分户 or 并户 (archive.lifecycle.change_account_number
and AccountAlias), so old numbers keep finding the customer.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan import SCHEMAS_DIR
from dangan.archive import events
from dangan.archive.business.completeness import evaluate_completeness
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.identifiers import InvalidIdentifier, validate_account_number, validate_work_order
from dangan.archive.models import (
    AccountAlias,
    AccountSuccession,
    BusinessCase,
    CaseVersion,
    Customer,
    CustomerVersion,
    ImportRun,
    utcnow,
)
from dangan.archive.records.lifecycle import LifecycleError, change_account_number
from dangan.errors import DanganError

DEFAULT_MAPPING_PATH = SCHEMAS_DIR / "import-mapping.yaml"
MAPPING_SCHEMA_PATH = SCHEMAS_DIR / "import-mapping.schema.json"
DEFAULT_FLAVOUR = "sg186"
BUSINESS_IMPORT = "business import"
KINDS = ("customers", "cases")
CUSTOMER_FIELDS = ("name", "address", "voltage_class", "customer_class")
CASE_FIELDS = (
    "customer_id",
    "business_type",
    "department",
    "status",
    "accepted_on",
    "stage_dates",
    "billing_fields",
    "facts",
)
EARLIEST_YEAR = 1980
MAX_PROBLEMS_KEPT = 1000

Progress = Callable[[int, "int | None"], None]


class ImportFileError(DanganError, ValueError):
    """The whole file cannot be imported (unreadable, wrong mapping, missing columns)."""


class MappingError(DanganError, ValueError):
    """The import mapping is malformed or names things the classification scheme lacks."""


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class KindMapping:
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    billing_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    facts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportMapping:
    name: str
    description: str
    customers: KindMapping
    cases: KindMapping
    values: Mapping[str, Mapping[str, str]]
    source: str

    def kind(self, kind: str) -> KindMapping:
        if kind not in KINDS:
            raise ValueError(f"unknown import kind {kind!r}; kinds: {', '.join(KINDS)}")
        return getattr(self, kind)


def load_mapping(name_or_path: str | Path | None = None, scheme: ClassificationScheme | None = None) -> ImportMapping:
    """A flavour of the shipped mapping (``"sg186"``), or a YAML file of a site's own
    (``PATH`` with one flavour, or ``PATH#FLAVOUR``). Checked against its JSON Schema and,
    if SCHEME is given, against the scheme's stages, billing fields and facts."""
    spec = str(name_or_path or DEFAULT_FLAVOUR)
    path_part, _, flavour = spec.partition("#")
    candidate = Path(path_part)
    if candidate.suffix.lower() in (".yaml", ".yml") or candidate.exists():
        path = candidate
    else:
        path, flavour = DEFAULT_MAPPING_PATH, spec
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} is not valid UTF-8 YAML: {exc}") from None
    schema = json.loads(MAPPING_SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(map(str, e.absolute_path)) or "(top)"
        raise MappingError(f"mapping file {path}: at {where}: {e.message}")
    flavours = data["flavours"]
    if not flavour:
        if len(flavours) != 1:
            raise MappingError(f"mapping file {path} has flavours {', '.join(flavours)}: name one as {path}#FLAVOUR")
        flavour = next(iter(flavours))
    if flavour not in flavours:
        raise MappingError(f"no mapping flavour {flavour!r} in {path}; flavours: {', '.join(flavours)}")
    body = flavours[flavour]

    def kind(k: str) -> KindMapping:
        b = body[k]
        tup = lambda m: {key: tuple(v) for key, v in (m or {}).items()}
        return KindMapping(
            tup(b["columns"]),
            tuple(b["required"]),
            tup(b.get("stages")),
            tup(b.get("billing_fields")),
            tup(b.get("facts")),
        )

    mapping = ImportMapping(
        flavour,
        body.get("description", ""),
        kind("customers"),
        kind("cases"),
        {k: dict(v) for k, v in (body.get("values") or {}).items()},
        str(path),
    )
    for k in KINDS:
        unknown = [f for f in mapping.kind(k).required if f not in mapping.kind(k).columns]
        if unknown:
            raise MappingError(f"mapping {flavour}: {k}.required names {', '.join(unknown)}, which have no columns")
    if scheme is not None:
        _check_against_scheme(mapping, scheme)
    return mapping


def _check_against_scheme(mapping: ImportMapping, scheme: ClassificationScheme) -> None:
    from dangan.archive.business.predicates import PREDICATES

    stages = {s.name for bt in scheme.business_types.values() for v in bt.variants for s in v.stages}
    fields = {n: s for bt in scheme.business_types.values() for n, s in bt.billing_fields.items()}
    problems = [f"stage {s!r} is not a stage of any business type" for s in mapping.cases.stages if s not in stages]
    problems += [
        f"billing field {f!r} is not declared by any business type"
        for f in mapping.cases.billing_fields
        if f not in fields
    ]
    problems += [
        f"billing field {f!r} is a list; lists cannot come from one column"
        for f in mapping.cases.billing_fields
        if f in fields and fields[f].type == "list"
    ]
    problems += [
        f"fact {f!r} is not read by any predicate"
        for f in mapping.cases.facts
        if not any(f in p.reads for p in PREDICATES.values())
    ]
    for name, code in mapping.values.get("business_type", {}).items():
        try:
            scheme.business_type(code)
        except KeyError as exc:
            problems.append(f"values.business_type[{name}]: {exc.args[0]}")
    if problems:
        raise MappingError(
            f"mapping {mapping.name} ({mapping.source}) does not fit the classification scheme: " + "; ".join(problems)
        )


# --------------------------------------------------------------------------- reading files


def detect_encoding(path: str | Path, sample_size: int = 1 << 16) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK and GB2312), from the file's first bytes."""
    with open(path, "rb") as fh:
        raw = fh.read(sample_size)
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(raw, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path}: neither UTF-8 nor GBK/GB18030 text; save the export as CSV (UTF-8 or GBK) or .xlsx")


def _cell_text(value: Any) -> Any:
    """Spreadsheet cells to what a row parser expects: dates stay dates, integral floats
    (a 户号 typed as a number) become digit strings, text is NFKC-normalised and trimmed."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_key(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).lstrip("*＊")


class ExportFile:
    """Rows of an export as (line, cells); the header row is found by its known columns."""

    def __init__(self, path: str | Path, *, encoding: str | None = None, sheet: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise ImportFileError(f"{self.path}: no such file")
        self.is_xlsx = self.path.suffix.lower() in (".xlsx", ".xlsm")
        self.encoding = None if self.is_xlsx else (encoding or detect_encoding(self.path))
        self.sheet = sheet

    def estimated_rows(self) -> int | None:
        if self.is_xlsx:
            import openpyxl

            wb = openpyxl.load_workbook(self.path, read_only=True)
            try:
                ws = wb[self.sheet] if self.sheet else wb.active
                return ws.max_row - 1 if ws.max_row else None
            finally:
                wb.close()
        lines = 0
        with open(self.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        return self._xlsx_rows() if self.is_xlsx else self._csv_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[Any]]]:
        with open(self.path, encoding=self.encoding, newline="") as fh:
            first = fh.readline()
            fh.seek(0)
            delimiter = "\t" if first.count("\t") > first.count(",") else ","
            reader = csv.reader(fh, delimiter=delimiter)
            try:
                for cells in reader:
                    yield reader.line_num, [_cell_text(c) for c in cells]
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"{self.path}:{reader.line_num + 1}: cannot be read as {self.encoding} "
                    f"({exc.reason}); the file mixes encodings: export it again"
                ) from None
            except csv.Error as exc:
                raise ImportFileError(f"{self.path}:{reader.line_num}: not valid CSV ({exc})") from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        import openpyxl

        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/KeyError/InvalidFileException
            raise ImportFileError(f"{self.path}: not a readable .xlsx workbook ({exc})") from None
        try:
            if self.sheet and self.sheet not in wb.sheetnames:
                raise ImportFileError(f"{self.path}: no sheet {self.sheet!r}; sheets: {', '.join(wb.sheetnames)}")
            ws = wb[self.sheet] if self.sheet else wb.active
            for line, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                yield line, [_cell_text(c) for c in cells]
        finally:
            wb.close()


@dataclass
class ColumnPlan:
    """Which column of this file feeds which field."""

    header_line: int
    columns: dict[str, int]  # field → index
    stages: dict[str, int]
    billing_fields: dict[str, int]
    facts: dict[str, int]
    headers: list[str]
    unused: list[str]

    def header(self, index: int) -> str:
        return self.headers[index] if index < len(self.headers) else f"column {index + 1}"


def plan_columns(
    kind: KindMapping, rows: Iterator[tuple[int, list[Any]]], file: str, search_lines: int = 10
) -> tuple[ColumnPlan, Iterator[tuple[int, list[Any]]]]:
    """Find the header row (a title row above it is skipped) and resolve every mapped column."""
    key_headers = {_header_key(h) for f in kind.required for h in kind.columns[f]}
    for _ in range(search_lines):
        try:
            line, cells = next(rows)
        except StopIteration:
            break
        keys = [_header_key(c) for c in cells]
        if key_headers & set(keys):
            return _resolve(kind, line, [str(c) for c in cells], keys, file), rows
    wanted = ", ".join(f"{f} ({'/'.join(kind.columns[f])})" for f in kind.required)
    raise ImportFileError(
        f"{file}: no header row with the required columns in the first {search_lines} "
        f"lines; expected {wanted}. Is this the right export, or does it need "
        f"another --mapping?"
    )


def _resolve(kind: KindMapping, line: int, headers: list[str], keys: list[str], file: str) -> ColumnPlan:
    used: set[int] = set()

    def find(group: Mapping[str, tuple[str, ...]], what: str) -> dict[str, int]:
        out = {}
        for name, aliases in group.items():
            hits = [i for i, k in enumerate(keys) if k in {_header_key(a) for a in aliases}]
            if len(hits) > 1:
                raise ImportFileError(
                    f"{file}:{line}: {what} {name} is in more than one column "
                    f"({', '.join(headers[i] for i in hits)}); keep one"
                )
            if hits:
                out[name] = hits[0]
                used.add(hits[0])
        return out

    columns = find(kind.columns, "field")
    missing = [f for f in kind.required if f not in columns]
    if missing:
        raise ImportFileError(
            f"{file}:{line}: required columns missing: "
            + "; ".join(f"{f} (one of {', '.join(kind.columns[f])})" for f in missing)
            + f". Columns found: {', '.join(h for h in headers if h)}"
        )
    plan = ColumnPlan(
        line,
        columns,
        find(kind.stages, "stage"),
        find(kind.billing_fields, "billing field"),
        find(kind.facts, "fact"),
        headers,
        [],
    )
    plan.unused = [h for i, h in enumerate(headers) if h and i not in used]
    return plan


# --------------------------------------------------------------------------- values

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")


def parse_date(value: Any, today: date | None = None) -> date:
    """A date cell: a spreadsheet date, 2024-03-15, 2024/3/15, 2024.3.15, 20240315 or
    2024年3月15日 (a time after the date is ignored). Raises ValueError with a plain reason.
    With TODAY, a date after it is refused (a stage cannot have happened tomorrow)."""
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    else:
        text = str(value).strip()
        m = _DATE_RE.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
        if not m:
            raise ValueError(f"{text!r} is not a date (write YYYY-MM-DD)")
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
    if d.year < EARLIEST_YEAR:
        raise ValueError(f"{d.isoformat()} is before {EARLIEST_YEAR}")
    if today is not None and d > today:
        raise ValueError(f"{d.isoformat()} is in the future")
    return d


def parse_capacity(value: Any) -> float:
    """A capacity in kVA: 315, 315.0, '315kVA', '1,250 kVA'. Never negative."""
    text = str(value).strip().replace(",", "").replace("，", "")
    text = re.sub(r"\s*(kva|kw|千伏安)$", "", text, flags=re.IGNORECASE)
    try:
        number = float(Decimal(text))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number of kVA") from None
    if number < 0:
        raise ValueError(f"{value!r} is negative")
    return number


_YES = {"是", "y", "yes", "true", "1", "有"}
_NO = {"否", "n", "no", "false", "0", "无"}


def parse_flag(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{value!r} is not yes/no (是/否)")


_VOLTAGE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(kv|v)", re.IGNORECASE)


def parse_voltage_class(value: Any, table: Mapping[str, str]) -> str:
    text = str(value).strip()
    if text in table:
        return table[text]
    if text.upper() in ("LV", "HV"):
        return text.upper()
    m = _VOLTAGE_RE.search(text)
    if m:
        volts = float(m.group(1)) * (1000 if m.group(2).lower() == "kv" else 1)
        return "HV" if volts >= 1000 else "LV"
    raise ValueError(f"voltage class {text!r} is neither listed under values.voltage_class nor a voltage")


def parse_customer_class(value: Any, table: Mapping[str, str]) -> str:
    text = str(value).strip()
    if text in ("residential", "non_residential"):
        return text
    if text in table:
        return table[text]
    if "_default" in table:
        return table["_default"]
    raise ValueError(f"customer class {text!r} is not listed under values.customer_class")


def _account(value: Any) -> str:
    text = str(value).strip()
    if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", text):
        raise ValueError(f"户号 {text!r} was turned into scientific notation by a spreadsheet; export it again as text")
    try:
        return validate_account_number(text)
    except InvalidIdentifier as exc:
        raise ValueError(f"户号 {exc.reason}") from None


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


class _Problems:
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


class _RowReader:
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
            return _account(v)
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
                "business_type", name, exc.args[0] + " (add it under values.business_type in the mapping)"
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


# --------------------------------------------------------------------------- the run


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


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_customers(
    db, path: str | Path, scheme: ClassificationScheme, options: ImportOptions | None = None
) -> ImportReport:
    """Import a customer export (户号, 户名, 用电地址, 电压等级, 用电类别, 原户号 …)."""
    return _run(db, "customers", path, scheme, options or ImportOptions())


def import_cases(
    db, path: str | Path, scheme: ClassificationScheme, options: ImportOptions | None = None
) -> ImportReport:
    """Import a work-order export (工单编号, 户号, 业务类型, stage dates, billing fields …)."""
    return _run(db, "cases", path, scheme, options or ImportOptions())


def _run(db, kind: str, path: str | Path, scheme: ClassificationScheme, options: ImportOptions) -> ImportReport:
    started = time.perf_counter()
    today = options.today or date.today()
    mapping = load_mapping(options.mapping, scheme)
    export = ExportFile(path, encoding=options.encoding, sheet=options.sheet)
    file = export.path.name
    report = ImportReport(kind, str(export.path), file_sha256(export.path), mapping.name, export.encoding)
    problems = _Problems(report, options.on_problem)
    total = export.estimated_rows() if options.progress else None
    plan, rows = plan_columns(mapping.kind(kind), export.rows(), file)
    report.unused_columns = plan.unused
    reader = _RowReader(plan, mapping, scheme, today)
    with db.session() as s:
        run = ImportRun(
            kind=kind,
            file_name=file,
            file_sha256=report.file_sha256,
            mapping=mapping.name,
            actor=options.actor,
            counts={},
        )
        s.add(run)
        s.flush()
        report.run_id = run.id
    digest = hashlib.sha256()
    applier = (_CustomerBatch if kind == "customers" else _CaseBatch)(
        scheme, report, problems, digest, options, file, today
    )
    batch: list = []
    try:
        for line, cells in rows:
            if not any(c not in ("", None) for c in cells):
                continue
            report.rows += 1
            try:
                parsed = (reader.customer if kind == "customers" else reader.case)(line, cells, mapping.kind(kind))
            except RowError as exc:
                report.rejected += 1
                problems.add(RowProblem(file, line, exc.column, str(exc.value), exc.reason))
            else:
                batch.append(parsed)
            if len(batch) >= options.batch_size:
                _apply(db, applier, batch)
                batch = []
                if options.progress:
                    options.progress(report.rows, total)
        if batch:
            _apply(db, applier, batch)
        if options.progress:
            options.progress(report.rows, report.rows)
    except BaseException:
        with db.session() as s:
            failed = s.get(ImportRun, report.run_id)
            failed.status, failed.finished_at, failed.counts = "failed", utcnow(), report.counts()
        raise
    report.seconds = time.perf_counter() - started
    report.problems.sort(key=lambda p: (p.line, p.severity))
    with db.session() as s:
        run = s.get(ImportRun, report.run_id)
        run.status, run.finished_at, run.counts = "done", utcnow(), report.counts()
        if report.changed or report.links_proposed:
            events.record_event(
                s,
                BUSINESS_IMPORT,
                options.actor,
                "import",
                run.id,
                {
                    "kind": kind,
                    "file": file,
                    "file_sha256": report.file_sha256,
                    "mapping": mapping.name,
                    **report.counts(),
                    "changes_sha256": digest.hexdigest(),
                },
            )
    return report


def _apply(db, applier, batch: list) -> None:
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


class _Batch:
    def __init__(
        self, scheme, report: ImportReport, problems: _Problems, digest, options: ImportOptions, file: str, today: date
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


class _CustomerBatch(_Batch):
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


class _CaseBatch(_Batch):
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
            from dangan.archive.business.collection import propose_links

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
            case = BusinessCase(work_order=row.work_order, customer=customer, **fields)
            s.add(case)
            self.cases[row.work_order] = case
            self.report.inserted += 1
            self.note_change("case", row.work_order, {}, new)
            return customer
        if customer.id is None or case.id is None:
            s.flush()
        new["customer_id"] = customer.id
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


# --------------------------------------------------------------------------- history


def customer_history(session: Session, account_number: str) -> list[dict[str, Any]]:
    """The earlier values of a customer (found by any 户号 it has had), oldest first."""
    from dangan.archive.records.accession import find_customer

    customer = find_customer(session, account_number)
    if customer is None:
        raise LookupError(f"no customer has 户号 {account_number}")
    return [
        {"earlier": v.earlier, "changed": v.changed, "valid_to": v.valid_to, "source": v.source, "run": v.import_run_id}
        for v in session.scalars(
            select(CustomerVersion).filter_by(customer_id=customer.id).order_by(CustomerVersion.id)
        )
    ]


def case_history(session: Session, work_order: str) -> list[dict[str, Any]]:
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order))
    if case is None:
        raise LookupError(f"no business case with work order {work_order}")
    return [
        {"earlier": v.earlier, "changed": v.changed, "valid_to": v.valid_to, "source": v.source, "run": v.import_run_id}
        for v in session.scalars(select(CaseVersion).filter_by(case_id=case.id).order_by(CaseVersion.id))
    ]


__all__ = [
    "BUSINESS_IMPORT",
    "ExportFile",
    "ImportFileError",
    "ImportMapping",
    "ImportOptions",
    "ImportReport",
    "MappingError",
    "RowProblem",
    "case_history",
    "customer_history",
    "detect_encoding",
    "import_cases",
    "import_customers",
    "load_mapping",
    "parse_capacity",
    "parse_date",
]
