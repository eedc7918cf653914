import datetime as dt
import os

import pytest

from dangan.archive.db import upgrade
from dangan.indexing.backends import open_backend
from dangan.indexing.schema import IndexDoc

BACKENDS = ["whoosh", "tantivy"]  # embedded: an index folder
# PostgreSQL's index lives in the test database: with the database suite (DANGAN_TEST_DB)
POSTGRES = pytest.param(
    "postgresql",
    marks=[
        pytest.mark.database,
        pytest.mark.skipif(not os.environ.get("DANGAN_TEST_DB"), reason="needs DANGAN_TEST_DB (PostgreSQL)"),
    ],
)
ALL_BACKENDS = [*BACKENDS, POSTGRES]


def open_test_backend(request, tmp_path, name):
    """A fresh, empty index of backend NAME."""
    if name == "postgresql":
        url = request.getfixturevalue("db_url")  # a fresh schema on the test server
        upgrade(url)
        return open_backend(None, name, database=url)
    return open_backend(tmp_path / name, name)


@pytest.fixture(params=ALL_BACKENDS)
def backend(request, tmp_path):
    index = open_test_backend(request, tmp_path, request.param)
    yield index
    index.close()


def page(page_id, text="", **fields):
    fields.setdefault("record_number", f"GD01-KH·2024-{page_id[-7:].rjust(7, '0')}")
    return IndexDoc(page_id=page_id, text=text, **fields)


@pytest.fixture
def customer_pages():
    """A small archive: two customers' files, several business types."""
    return [
        page(
            "p1",
            "用电申请书 户号：3401405288 户名：王建国 申请暂停用电，变压器封停日期2024年3月1日。",
            record_number="GD01-KH·2024-0001239",
            document_id="d1",
            page_no=1,
            account_numbers=["3401405288", "0551200031"],
            customer_name="王建国",
            address="合肥市蜀山区人民路12号",
            business_type="ZT",
            business_name="暂停",
            doc_type="SQ",
            doc_type_name="用电申请书",
            work_orders=["GD2024030100017"],
            date=dt.date(2024, 3, 1),
            location="K1-A03-02-05",
            qa_status="passed",
            retention="D30",
        ),
        page(
            "p2",
            "供用电合同 第三条 供电方式：10kV 单电源供电。甲方：国网供电公司 乙方：王建国",
            record_number="GD01-KH·2024-0001239",
            document_id="d2",
            page_no=2,
            account_numbers=["3401405288"],
            customer_name="王建国",
            business_type="ZT",
            business_name="暂停",
            doc_type="HT",
            doc_type_name="供用电合同",
            date=dt.date(2024, 3, 2),
            location="K1-A03-02-05",
            qa_status="passed",
        ),
        page(
            "p3",
            "减容申请 户号：3409900012 户名：李秀英 申请减容至315kVA，用电地址：芜湖市镜湖区。",
            record_number="GD01-KH·2024-0002001",
            document_id="d3",
            page_no=1,
            account_numbers=["3409900012"],
            customer_name="李秀英",
            address="芜湖市镜湖区",
            business_type="JR",
            business_name="减容",
            doc_type="SQ",
            doc_type_name="用电申请书",
            work_orders=["GD2024070900003"],
            date=dt.date(2024, 7, 9),
            location="K1-B01-01-01",
            qa_status="rescan",
        ),
        page(
            "p4",
            "暂停恢复申请 户号：3409900012 用户申请暂停恢复，恢复日期2024年9月1日。",
            record_number="GD01-KH·2024-0002001",
            document_id="d4",
            page_no=2,
            account_numbers=["3409900012"],
            customer_name="李秀英",
            business_type="ZTHF",
            business_name="暂停恢复",
            doc_type="SQ",
            doc_type_name="用电申请书",
            date=dt.date(2024, 9, 1),
        ),
        page(
            "p5",
            "用电检查记录：现场计量装置完好，电能表编号 ABC-123。检查人员：张伟。",
            record_number="GD01-KH·2023-0000007",
            document_id="d5",
            page_no=1,
            business_type="JC",
            business_name="用电检查",
            doc_type="JL",
            doc_type_name="检查记录",
        ),
    ]


@pytest.fixture
def filled(backend, customer_pages):
    backend.add(customer_pages)
    return backend


def ids(page):
    """Page ids of a BackendPage, order-free."""
    return sorted(hit.page_id for hit in page.hits)
