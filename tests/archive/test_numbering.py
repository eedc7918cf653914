import itertools
import multiprocessing

import pytest
from sqlalchemy import func, select

from dangan.archive.db import Database
from dangan.archive.models import ArchiveRecord
from dangan.archive.records.numbering import (
    ArchiveNumber,
    InvalidArchiveNumber,
    assign_number,
    check_character,
    propose_corrections,
)

pytestmark = pytest.mark.database


def test_number_matches_the_research_example():
    # §4.1: serial 000123 in 2024 for fonds GD01 carries check character 9
    assert str(ArchiveNumber("GD01", "KH", 2024, 123)) == "GD01-KH·2024-0001239"


def test_parse_accepts_what_ocr_and_keyboards_make_of_the_dot():
    for text in (
        "GD01-KH·2024-0001239",
        "gd01-kh.2024-0001239",
        "GD01-KH•2024-0001239",
        "GD01-KH-2024-0001239",
        "GD01-KH2024-0001239",
    ):
        assert ArchiveNumber.parse(text) == ArchiveNumber("GD01", "KH", 2024, 123)


def test_every_single_substitution_and_adjacent_transposition_is_rejected():
    n = ArchiveNumber("GD01", "KH", 2024, 4711)
    digits = f"{n.year}{n.serial:06d}{n.check}"
    wrong = {digits[:i] + d + digits[i + 1 :] for i in range(len(digits)) for d in "0123456789X" if d != digits[i]}
    wrong |= {
        digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        for i in range(len(digits) - 1)
        if digits[i] != digits[i + 1]
    }
    for w in wrong:
        if w[:10].isdigit() and int(w[4:10]) > 0:
            with pytest.raises(InvalidArchiveNumber):
                ArchiveNumber.parse(f"GD01-KH·{w[:4]}-{w[4:]}")


def test_a_single_typo_proposes_the_intended_number():
    typo = "GD01-KH·2024-0001238"
    with pytest.raises(InvalidArchiveNumber, match="check character"):
        ArchiveNumber.parse(typo)
    assert ArchiveNumber("GD01", "KH", 2024, 123) in propose_corrections(typo)


def test_check_character_uses_x_like_the_id_card():
    checks = {check_character(2024, s) for s in range(1, 200)}
    assert "X" in checks and checks <= set("0123456789X")


def test_serials_are_gap_free_per_fonds_and_year(db):
    with db.session() as s:
        got = [assign_number(s, "GD01", 2024) for _ in range(3)]
        other_year = assign_number(s, "GD01", 2025)
        other_fonds = assign_number(s, "GD02", 2024)
    assert [n.serial for n in got] == [1, 2, 3]
    assert other_year.serial == 1 and other_fonds.serial == 1


def test_a_rolled_back_assignment_does_not_consume_the_serial(db):
    with pytest.raises(RuntimeError), db.session() as s:
        assign_number(s, "GD01", 2024)
        raise RuntimeError("the record could not be written")
    with db.session() as s:
        assert assign_number(s, "GD01", 2024).serial == 1


def _assign_many(url: str, n: int, out) -> None:
    from dangan.archive.records.accession import ensure_fonds

    db = Database(url)
    numbers = []
    for _ in range(n):
        with db.session() as s:
            ensure_fonds(s, "GD01")
            number = assign_number(s, "GD01", 2024)
            s.add(ArchiveRecord(number=str(number), fonds="GD01", category="KH", year=2024, serial=number.serial))
            numbers.append(number.serial)
    db.dispose()
    out.put(numbers)


def test_two_processes_assigning_at_once_never_duplicate_or_skip(db, home):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_assign_many, args=(home.db_url, 40, out)) for _ in range(2)]
    for p in procs:
        p.start()
    serials = list(itertools.chain(out.get(timeout=120), out.get(timeout=120)))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(serials) == list(range(1, 81))
    with db.session() as s:
        assert s.scalar(select(func.count(ArchiveRecord.id))) == 80
        assert s.scalar(select(func.max(ArchiveRecord.serial))) == 80
