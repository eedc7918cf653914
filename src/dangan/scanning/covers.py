"""Where one customer folder ends and the next begins, when a scanner file holds several.

Two ways for an operator to say it:

* **cover sheets** (`dangan labels cover …`): an A4 page with a QR code carrying only a short
  machine code, put in front of each folder before scanning. `detect_cover` is the page step
  that finds them; the batch starts a new record at each one.
* **a batch manifest** (`dangan scan --manifest batch.csv …`): rows of file, first page, last
  page and what the pages belong to, for files scanned without covers.

The codes (never a name, an ID number or an address: the cover lies on desks and in scanners):

    DANGAN:GD01-KH·2026-0000014     an existing record: the pages are a supplement to it
    DANGAN:WO:2024031500001234      a business case (工单编号)
    DANGAN:ACCT:3401405288          a customer (户号)

The code format (CoverCode) lives in archive/labels.py, next to the printing of the sheets.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dangan import SCHEMAS_DIR
from dangan.archive.paper.labels import (
    COVER_KIND_NAMES,
    COVER_PREFIX,
    CoverCode,
    CoverCodeError,
    cover_code,
    parse_cover_payload,
)
from dangan.errors import DanganError
from dangan.i18n import N_
from dangan.scanning.page import PageState, PipelineOptions

KIND_NAMES = COVER_KIND_NAMES

# --------------------------------------------------------------------------- the page step

DETECT_LONG_SIDE = 1000  # px: a 50 mm QR on A4 still has ~7 px modules; detection takes ~20 ms
_MARGIN = 0.25  # of the candidate's size, added around it before decoding at full resolution


def read_cover_code(gray: np.ndarray) -> str | None:
    """The DANGAN:… payload of a cover sheet's QR code, or None (no QR, or someone else's QR,
    e.g. on an electricity bill). Detection runs on a small copy; only a candidate is decoded,
    from a full-resolution crop."""
    h, w = gray.shape[:2]
    scale = min(1.0, DETECT_LONG_SIDE / max(h, w))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    detector = cv2.QRCodeDetector()
    found, points = detector.detect(small)
    if not found or points is None:
        return None
    pts = points.reshape(-1, 2) / scale
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad = _MARGIN * max(x1 - x0, y1 - y0)
    crop = gray[max(0, int(y0 - pad)) : min(h, int(y1 + pad) + 1), max(0, int(x0 - pad)) : min(w, int(x1 + pad) + 1)]
    text = ""
    if crop.size:
        text, _, _ = detector.detectAndDecode(crop)
    if not text:  # a poor crop: the small copy sometimes decodes where the crop did not
        text, _, _ = detector.detectAndDecode(small)
    return text if text and text.upper().startswith(COVER_PREFIX) else None


def detect_cover(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: a page carrying a dangan cover QR is a cover sheet.

    A cover is kept (its master is the evidence of how the batch was put together) but it is
    no content of the customer's file: it is marked blank for content (so it is neither OCR'd
    nor indexed), `fields['cover']` holds the code and `metrics['cover']` is 1."""
    if page.is_blank:
        return page
    code = read_cover_code(page.gray)
    if code is None:
        return page
    try:
        link, reason, valid = parse_cover_payload(code), "", True
    except CoverCodeError as e:
        link, reason, valid = None, str(e), False
    proposal = {
        "name": "cover",
        "value": code,
        "confidence": 1.0,
        "valid": valid,
        "reason": reason,
        "raw": code,
        "alternatives": [],
        "label": "QR",
        "kind": link.kind if link else "",
    }
    page = replace(
        page,
        is_blank=True,
        doc_type=None,
        doc_type_score=0.0,
        fields={**page.fields, "cover": proposal},
        metrics={**page.metrics, "cover": 1.0},
    )
    if not valid:
        page = page.with_flag(
            "cover_code",
            "fail",
            N_("This cover sheet's code cannot be used ({reason}); link the record by hand or print the cover again."),
            reason=reason,
        )
    return page


def cover_of(fields: dict | None) -> dict | None:
    """The cover proposal of a page's fields, or None for an ordinary page."""
    prop = (fields or {}).get("cover")
    return prop if isinstance(prop, dict) and prop.get("value") else None


# --------------------------------------------------------------------------- batch manifests

SCHEMA_PATH = SCHEMAS_DIR / "batch-manifest.schema.json"
LINK_COLUMNS = {"archive_number": "record", "work_order": "work_order", "account_number": "account"}


class ManifestError(DanganError, ValueError):
    """Everything wrong with a manifest, one problem a line, each naming file and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the batch manifest cannot be used:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class ManifestRow:
    file: str
    first_page: int
    last_page: int
    link: CoverCode | None
    where: str  # "batch.csv line 3", for messages


@dataclass(frozen=True)
class Manifest:
    path: Path
    rows: tuple[ManifestRow, ...]

    def bind(self, files: Iterable[Path], page_count: Callable[[Path], int | None]) -> dict[Path, list[ManifestRow]]:
        """The rows of each scanned file, checked against the files: every row names one file
        of the batch, ranges lie within the file and neither overlap nor leave pages out.
        PAGE_COUNT may return None for a file it cannot read (it is quarantined later)."""
        files = list(files)
        problems: list[str] = []
        by_file: dict[Path, list[ManifestRow]] = {}
        for row in self.rows:
            matches = _matching(row.file, files, self.path.parent)
            if not matches:
                problems.append(f"{row.where}: file {row.file!r} is not among the files of this scan")
            elif len(matches) > 1:
                problems.append(
                    f"{row.where}: file {row.file!r} matches {len(matches)} files "
                    f"({', '.join(map(str, matches[:3]))}); give its path"
                )
            else:
                by_file.setdefault(matches[0], []).append(row)
        for path, rows in by_file.items():
            rows.sort(key=lambda r: r.first_page)
            count = page_count(path)
            expected = 1
            for row in rows:
                if row.first_page > expected:
                    problems.append(
                        f"{row.where}: pages {_span(expected, row.first_page - 1)} of {row.file} "
                        "are in no row of the manifest"
                    )
                elif row.first_page < expected:
                    problems.append(
                        f"{row.where}: pages {_span(row.first_page, min(row.last_page, expected - 1))} "
                        f"of {row.file} are also in another row"
                    )
                if count is not None and row.last_page > count:
                    problems.append(f"{row.where}: last_page {row.last_page} but {row.file} has {count} pages")
                expected = max(expected, row.last_page + 1)
            if count is not None and expected <= count:
                problems.append(
                    f"{rows[-1].where}: pages {_span(expected, count)} of {rows[-1].file} are in no row of the manifest"
                )
        if problems:
            raise ManifestError(problems)
        return by_file


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def _matching(name: str, files: list[Path], base: Path) -> list[Path]:
    wanted = {(base / name).resolve(), Path(name).resolve()}
    exact = [f for f in files if f.resolve() in wanted]
    return exact or [f for f in files if f.name == Path(name).name and "/" not in name.replace("\\", "/")]


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest (.csv with a header row, or .json: a list of rows)."""
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([f"{path}: cannot be read ({e})"]) from None
    if path.suffix.lower() == ".json":
        items = _json_rows(path, raw)
    else:
        items = _csv_rows(path, raw)
    problems: list[str] = []
    rows: list[ManifestRow] = []
    validator = _row_validator()
    for where, item in items:
        if isinstance(item, str):  # already a problem (a CSV line that is not a row)
            problems.append(f"{where}: {item}")
            continue
        errors = sorted(validator.iter_errors(item), key=lambda e: list(e.path))
        if errors:
            problems.extend(f"{where}: {_say(e)}" for e in errors)
            continue
        if item["last_page"] < item["first_page"]:
            problems.append(f"{where}: last_page {item['last_page']} is before first_page {item['first_page']}")
            continue
        link = None
        for column, kind in LINK_COLUMNS.items():
            if column in item:
                try:
                    link = cover_code(item[column])
                except CoverCodeError as e:
                    problems.append(f"{where}: {column}: {e}")
                    break
                if link.kind != kind:
                    problems.append(f"{where}: {column} {item[column]!r} looks like a {KIND_NAMES[link.kind]}")
                    link = None
        rows.append(ManifestRow(item["file"], item["first_page"], item["last_page"], link, where))
    if not rows and not problems:
        problems.append(f"{path}: no rows")
    if problems:
        raise ManifestError(problems)
    return Manifest(path, tuple(rows))


def _csv_rows(path: Path, raw: str) -> list[tuple[str, Any]]:
    reader = csv.reader(raw.splitlines())
    header: list[str] | None = None
    out: list[tuple[str, Any]] = []
    for cells in reader:
        where = f"{path.name} line {reader.line_num}"
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            continue
        if len(cells) > len(header):
            out.append((where, f"{len(cells)} cells but the header has {len(header)} columns"))
            continue
        item = {}
        for key, value in zip(header, cells):
            value = value.strip()
            if value:
                item[key] = int(value) if key in ("first_page", "last_page") and value.isdigit() else value
        out.append((where, item))
    if header is None:
        out.append(
            (
                path.name,
                (
                    "empty: expected a header row file,first_page,last_page,work_order,"
                    "account_number,archive_number and one row per folder"
                ),
            )
        )
    return out


def _json_rows(path: Path, raw: str) -> list[tuple[str, Any]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        return [(f"{path.name} line {e.lineno}", f"not valid JSON ({e.msg})")]
    if isinstance(data, dict):
        data = data.get("folders")
    if not isinstance(data, list):
        return [(path.name, 'expected a list of rows, or {"folders": [rows]}')]
    return [
        (f"{path.name} row {i}", item if isinstance(item, dict) else f"row is not an object: {item!r}")
        for i, item in enumerate(data, start=1)
    ]


def _row_validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator({"$ref": "#/$defs/row", "$defs": schema["$defs"]})


def _say(error) -> str:
    """A JSON Schema error in the operator's words."""
    field = error.path[-1] if error.path else ""
    v, value = error.validator, error.instance
    if v == "required":
        missing = [k for k in error.validator_value if k not in value]
        return "missing " + ", ".join(missing)
    if v == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties", {}))
        extra = ", ".join(sorted(set(value) - set(error.schema.get("properties", {}))))
        return f"unknown column {extra} (columns: {allowed})"
    if v == "type":
        return (
            f"{field} {value!r} is not a whole number"
            if error.validator_value == "integer"
            else f"{field} must be {error.validator_value}"
        )
    if v == "minimum":
        return f"{field} must be at least {error.validator_value}, got {value}"
    if v == "pattern":
        return f"{field} {value!r} is not a {error.schema.get('title', field)}"
    if v in ("not", "oneOf", "maxProperties"):
        return "give at most one of archive_number, work_order, account_number"
    return f"{field}: {error.message}" if field else error.message
