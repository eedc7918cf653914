"""A batch manifest: for stacks scanned without cover sheets, a CSV or JSON file says which
pages of which file form one customer folder and what they belong to."""

import json

import pytest
from sqlalchemy import select

from dangan.archive.models import ArchiveRecord, Page
from dangan.scanning.batch import ScanOptions, scan
from dangan.scanning.covers import ManifestError, load_manifest

WO = "2024031500001234"
ACCT = "3401409999"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.database
def test_a_manifest_splits_one_file_into_two_linked_records(db, store, tmp_path, make_folder_pdf):
    path = make_folder_pdf("stack.pdf", [["用电申请书", "户号：3401405288"], ["居民身份证复印件", "户名：李秀英"]])
    manifest = load_manifest(
        write(
            path.parent,
            "batch.csv",
            "file,first_page,last_page,work_order,account_number,archive_number\n"
            f"stack.pdf,1,1,{WO},,\n"
            f"stack.pdf,2,2,,{ACCT},\n",
        )
    )
    report = scan([path], db, store, ScanOptions(jobs=2), manifest=manifest)
    assert [(f.status, f.first_page, f.last_page) for f in report.folders] == [
        ("accessioned", 1, 1),
        ("accessioned", 2, 2),
    ]
    with db.session() as s:
        first, second = (s.scalar(select(ArchiveRecord).filter_by(number=f.number)) for f in report.folders)
        assert first.case.work_order == WO
        assert second.customer.account_number == ACCT and second.case_id is None
        assert [p.source_page for p in s.scalars(select(Page).filter_by(record_id=second.id))] == [2]


def test_a_bad_manifest_says_which_line_and_what_is_wrong(tmp_path):
    path = write(
        tmp_path,
        "batch.csv",
        "file,first_page,last_page,work_order,account_number\n"
        "a.pdf,1,3,2024031500001234,\n"
        "a.pdf,4,x,,\n"
        "a.pdf,6,5,,3401409999\n"
        "b.pdf,1,2,2024031500001234,3401409999\n"
        "b.pdf,3,4,,12345\n",
    )
    with pytest.raises(ManifestError) as e:
        load_manifest(path)
    problems = e.value.problems
    assert any(p.startswith("batch.csv line 3:") and "last_page 'x' is not a whole number" in p for p in problems)
    assert any(p.startswith("batch.csv line 4:") and "before first_page" in p for p in problems)
    assert any(p.startswith("batch.csv line 5:") and "at most one" in p for p in problems)
    assert any(p.startswith("batch.csv line 6:") and "account_number '12345'" in p for p in problems)
    assert "line 2" not in str(e.value)
    with pytest.raises(ManifestError, match=r"unknown column frist_page"):
        load_manifest(write(tmp_path, "typo.json", json.dumps([{"file": "a.pdf", "frist_page": 1, "last_page": 2}])))


def test_manifest_ranges_must_cover_each_file_once(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"")
    manifest = load_manifest(
        write(tmp_path, "batch.csv", "file,first_page,last_page\na.pdf,1,3\na.pdf,3,5\nmissing.pdf,1,1\n")
    )
    with pytest.raises(ManifestError) as e:
        manifest.bind([tmp_path / "a.pdf"], lambda p: 7)
    text = str(e.value)
    assert "batch.csv line 3: pages 3 of a.pdf are also in another row" in text
    assert "batch.csv line 3: pages 6-7 of a.pdf are in no row" in text
    assert "batch.csv line 4: file 'missing.pdf' is not among the files of this scan" in text
