"""Reading an export: CSV (encoding detected) or .xlsx, row by row in constant memory, and which
column is which field."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dangan.archive.business.imports.mapping import ImportFileError, KindMapping
from dangan.i18n import _

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
    raise ImportFileError(
        _("{path}: neither UTF-8 nor GBK/GB18030 text; save the export as CSV (UTF-8 or GBK) or .xlsx").format(
            path=path
        )
    )


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
            raise ImportFileError(_("{path}: no such file").format(path=self.path))
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
                    _(
                        "{path}:{value}: cannot be read as {encoding} ({reason}); the file mixes "
                        "encodings: export it again"
                    ).format(path=self.path, value=reader.line_num + 1, encoding=self.encoding, reason=exc.reason)
                ) from None
            except csv.Error as exc:
                raise ImportFileError(
                    _("{path}:{line_num}: not valid CSV ({exc})").format(
                        path=self.path, line_num=reader.line_num, exc=exc
                    )
                ) from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        import openpyxl

        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/KeyError/InvalidFileException
            raise ImportFileError(
                _("{path}: not a readable .xlsx workbook ({exc})").format(path=self.path, exc=exc)
            ) from None
        try:
            if self.sheet and self.sheet not in wb.sheetnames:
                raise ImportFileError(
                    _("{path}: no sheet {sheet!r}; sheets: {choices}").format(
                        path=self.path, sheet=self.sheet, choices=", ".join(wb.sheetnames)
                    )
                )
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
    for _line in range(search_lines):
        try:
            line, cells = next(rows)
        except StopIteration:
            break
        keys = [_header_key(c) for c in cells]
        if key_headers & set(keys):
            return _resolve(kind, line, [str(c) for c in cells], keys, file), rows
    wanted = ", ".join(f"{f} ({'/'.join(kind.columns[f])})" for f in kind.required)
    raise ImportFileError(
        _(
            "{file}: no header row with the required columns in the first {search_lines} lines; "
            "expected {wanted}. Is this the right export, or does it need another --mapping?"
        ).format(file=file, search_lines=search_lines, wanted=wanted)
    )


def _resolve(kind: KindMapping, line: int, headers: list[str], keys: list[str], file: str) -> ColumnPlan:
    used: set[int] = set()

    def find(group: Mapping[str, tuple[str, ...]], what: str) -> dict[str, int]:
        out = {}
        for name, aliases in group.items():
            hits = [i for i, k in enumerate(keys) if k in {_header_key(a) for a in aliases}]
            if len(hits) > 1:
                raise ImportFileError(
                    _("{file}:{line}: {what} {name} is in more than one column ({choices}); keep one").format(
                        file=file, line=line, what=what, name=name, choices=", ".join(headers[i] for i in hits)
                    )
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
