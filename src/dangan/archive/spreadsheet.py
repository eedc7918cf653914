"""CSV that people open in a spreadsheet program, written safely.

A cell starting with =, +, -, @ (or a tab or carriage return) is a formula to Excel, WPS and
LibreOffice: an imported customer name `=HYPERLINK("http://…","点击")` would become a live link
or worse in an auditor's download (CSV injection, OWASP). Such cells get a leading apostrophe,
which the spreadsheet shows as text; plain numbers such as -5 or +3.2 are left as they are.
Every CSV dangan writes for people goes through `writer`.
"""

from __future__ import annotations

import csv
import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """VALUE as a cell a spreadsheet will not run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out, **kwargs):
        self._w = csv.writer(out, **kwargs)

    def writerow(self, row) -> Any:
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs) -> _SafeWriter:
    """csv.writer whose cells are neutralised with safe_cell."""
    return _SafeWriter(out, **kwargs)


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose cells are neutralised with safe_cell."""

    def _dict_to_list(self, rowdict):
        return [safe_cell(v) for v in super()._dict_to_list(rowdict)]
