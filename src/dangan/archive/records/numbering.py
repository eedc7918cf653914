"""Archive numbers (档号) that never change.

    GD01-KH·2024-0001239
    │    │  │    │     └ check character: ISO 7064 MOD 11-2 over year+serial (0-9 or X, as on 身份证)
    │    │  │    └ serial, gap-free per fonds, category and accession year
    │    │  └ accession year: when the number was assigned, a fact of the archive
    │    └ category 门类, fixed KH (客户档案) for the whole collection
    └ fonds 全宗号

Nothing in it can change with the business: business type, customer, 户号, voltage and
retention live in metadata with a history (research note §4.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dangan.archive.identifiers import iso7064_mod11_2
from dangan.archive.models import NumberCounter
from dangan.errors import DanganError

CATEGORY = "KH"
SERIAL_DIGITS = 6
# OCR and keyboards turn the middle dot into many things; accept them, print only "·".
_NUMBER = re.compile(
    r"^\s*(?P<fonds>[A-Z0-9]{2,8})\s*[-－]\s*(?P<category>[A-Z]{2})\s*[·.•・\-－ ]?\s*"
    r"(?P<year>\d{4})\s*[-－]\s*(?P<serial>\d{6})(?P<check>[0-9Xx])\s*$"
)


class InvalidArchiveNumber(DanganError, ValueError):
    pass


def check_character(year: int, serial: int) -> str:
    return iso7064_mod11_2(f"{year:04d}{serial:0{SERIAL_DIGITS}d}")


@dataclass(frozen=True, order=True)
class ArchiveNumber:
    fonds: str
    category: str
    year: int
    serial: int

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z0-9]{2,8}", self.fonds):
            raise InvalidArchiveNumber(f"fonds code {self.fonds!r} must be 2-8 capital letters or digits")
        if not 1 <= self.serial < 10**SERIAL_DIGITS:
            raise InvalidArchiveNumber(f"serial {self.serial} is outside 1-{10**SERIAL_DIGITS - 1}")

    @property
    def check(self) -> str:
        return check_character(self.year, self.serial)

    def __str__(self) -> str:
        return f"{self.fonds}-{self.category}·{self.year:04d}-{self.serial:0{SERIAL_DIGITS}d}{self.check}"

    @property
    def file_token(self) -> str:
        """The number as a file-name part: '·' → '.', reversibly."""
        return str(self).replace("·", ".")

    @classmethod
    def parse(cls, text: str) -> ArchiveNumber:
        """Read a number as typed or OCR'd; raise InvalidArchiveNumber saying what is wrong."""
        m = _NUMBER.match(text.upper().replace("Ｘ", "X"))
        if not m:
            raise InvalidArchiveNumber(
                f"{text!r} is not an archive number; expected the form GD01-KH·2024-0001239 "
                "(fonds-KH·year-six-digit serial and a check character)"
            )
        number = cls(m["fonds"], m["category"], int(m["year"]), int(m["serial"]))
        if m["check"].upper() != number.check:
            raise InvalidArchiveNumber(
                f"{text!r}: check character {m['check'].upper()} does not match "
                f"(expected {number.check} for this year and serial) — probably a typing or reading error"
            )
        return number


def propose_corrections(text: str) -> list[ArchiveNumber]:
    """Numbers one character away from TEXT whose check character is right.

    MOD 11-2 catches every single substitution and adjacent transposition, so a number
    with one typo is always invalid and the intended one is usually among few candidates.
    """
    m = _NUMBER.match(text.upper())
    if not m:
        return []
    digits = m["year"] + m["serial"] + m["check"].upper()
    candidates: set[str] = set()
    for i, ch in enumerate(digits):
        alphabet = "0123456789X" if i == len(digits) - 1 else "0123456789"
        for d in alphabet:
            if d != ch:
                candidates.add(digits[:i] + d + digits[i + 1 :])
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            candidates.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    found = []
    for c in sorted(candidates):
        year, serial, check = int(c[:4]), int(c[4:10]), c[10]
        if serial == 0 or check_character(year, serial) != check:
            continue
        found.append(ArchiveNumber(m["fonds"], m["category"], year, serial))
    return found


def assign_number(session: Session, fonds: str, year: int, category: str = CATEGORY) -> ArchiveNumber:
    """Take the next serial for (fonds, category, year) inside the caller's transaction.

    The counter row is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite transactions are
    BEGIN IMMEDIATE, so writers are serialised), so concurrent callers never share or skip
    a serial. If the transaction rolls back, the serial is not consumed: gap-free.
    """
    stmt = select(NumberCounter).filter_by(fonds=fonds, category=category, year=year).with_for_update()
    counter = session.execute(stmt).scalar_one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(NumberCounter(fonds=fonds, category=category, year=year, next_serial=1))
        except IntegrityError:
            pass  # another process created it first; lock theirs
        counter = session.execute(stmt).scalar_one()
    number = ArchiveNumber(fonds, category, year, counter.next_serial)
    counter.next_serial += 1
    session.flush()
    return number
