"""Electronic originals through the other ways in and out: the hot folder takes an OFD and a
born-digital PDF like scans; the four properties (四性) hold with them in the archive; a BagIt
round trip keeps them byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from dangan.archive.audit.bag import METADATA_SCHEMA, export_bag, import_bag
from dangan.archive.audit.fixity import check_four_properties, verify
from dangan.archive.db import Database
from dangan.archive.home import DataHome
from dangan.archive.models import Document, Page, SourceFile
from dangan.archive.store import FileStore, sha256_file
from dangan.testing.born_digital import write_born_digital_pdf
from tests.scanning.test_watch import Watcher

pytestmark = pytest.mark.database

INVOICE = Path(__file__).resolve().parents[1] / "data" / "real" / "ofdrw-1.ofd"


def test_the_hot_folder_four_properties_and_bagit_take_electronic_originals(db, store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    shutil.copy(INVOICE, hot / "invoice.ofd")
    write_born_digital_pdf(hot / "contract.pdf", [["供用电合同", "户号 3301082231 户名 欧阳修远"]])
    with Watcher(hot, db, store) as w:
        w.wait_for(lambda: len(w.folders()) == 2)
    assert sorted(f.status for f in w.folders()) == ["accessioned", "accessioned"]
    with db.session() as s:
        origins = s.execute(
            select(SourceFile.original_name, Document.origin)
            .join(Page, Page.source_id == SourceFile.id)
            .join(Document, Document.id == Page.document_id)
        ).all()
        assert {(Path(n).name, o) for n, o in origins} == {
            ("invoice.ofd", "electronic"),
            ("contract.pdf", "electronic"),
        }
        four = check_four_properties(s, store, actor="auditor")
    assert four.ok, four.as_dict()

    with db.session() as s:
        export_bag(s, store, tmp_path / "bag", actor="auditor")
    schema = json.loads(METADATA_SCHEMA.read_text())
    for meta in (tmp_path / "bag" / "data" / "records").glob("*.json"):
        record = json.loads(meta.read_text())
        jsonschema.validate(record, schema)
        assert [d["origin"] for d in record["documents"]] == ["electronic"]
    new_home = DataHome(root=tmp_path / "restored", db_url=f"sqlite:///{tmp_path / 'restored' / 'dangan.sqlite3'}")
    import_bag(tmp_path / "bag", new_home)
    new_db = Database(new_home.db_url)
    try:
        with new_db.session() as s:
            assert verify(s, FileStore(new_home.store_dir), full=True, record=False).ok
            masters = {p.master_format: p.master_path for p in s.scalars(select(Page))}
            assert sha256_file(FileStore(new_home.store_dir).path(masters["ofd"])) == sha256_file(INVOICE)
            assert {d.origin for d in s.scalars(select(Document))} == {"electronic"}
    finally:
        new_db.dispose()
