"""The same story for both backends: what a business clerk types finds the same pages."""

import datetime as dt

import pytest

from dangan.indexing.backends import open_backend
from dangan.indexing.schema import doc_fingerprint
from tests.indexing.conftest import POSTGRES, ids, open_test_backend, page


def test_two_character_word_inside_a_sentence_is_found(filled):
    assert ids(filled.search("封停")) == ["p1"]
    assert ids(filled.search("减容")) == ["p3"]


def test_one_character_surname_is_found(filled):
    assert ids(filled.search("王")) == ["p1", "p2"]
    assert ids(filled.search("户名:李")) == ["p3", "p4"]


def test_account_number_found_whole_and_by_prefix(filled):
    assert ids(filled.search("3401405288")) == ["p1", "p2"]
    assert ids(filled.search("340140*")) == ["p1", "p2"]
    assert ids(filled.search("户号:340990*")) == ["p3", "p4"]
    assert ids(filled.search("account:0551200031")) == ["p1"]  # old number, not in text
    assert ids(filled.search("34014052")) == []  # part of a number is not the number


def test_archive_number_whole_parts_and_prefix(filled):
    assert ids(filled.search("档号:GD01-KH·2024-0001239")) == ["p1", "p2"]
    assert ids(filled.search("number:0002001")) == ["p3", "p4"]
    assert ids(filled.search("档号:GD01-KH·2023*")) == ["p5"]
    assert ids(filled.search("ABC-123")) == ["p5"]


def test_compound_in_the_text_found_by_prefix(filled):
    assert ids(filled.search("ABC-12*")) == ["p5"]
    assert ids(filled.search("abc*")) == ["p5"]


def test_one_character_found_wherever_it_stands_in_a_run(backend):
    backend.add([page("k1", "老王来了"), page("k2", "王"), page("k3", "张三")])
    assert ids(backend.search("王")) == ["k1", "k2"]  # 王 inside, at the end of and alone in a run
    assert ids(backend.search("来")) == ["k1"]
    assert ids(backend.search("王*")) == ["k1", "k2"]
    assert ids(backend.search("了")) == ["k1"]


def test_business_filter_by_name_or_code_keeps_similar_types_apart(filled):
    assert ids(filled.search("业务:暂停")) == ["p1", "p2"]
    assert ids(filled.search("业务:ZT")) == ["p1", "p2"]
    assert ids(filled.search("business:暂停恢复")) == ["p4"]
    assert ids(filled.search("申请 业务:减容")) == ["p3"]


def test_type_filter_by_name_or_code(filled):
    assert ids(filled.search("类型:供用电合同")) == ["p2"]
    assert ids(filled.search("type:SQ")) == ["p1", "p3", "p4"]
    assert ids(filled.search("王建国 类型:HT")) == ["p2"]


def test_date_range_filters_closed_and_open(filled):
    assert ids(filled.search("日期:2024-03-01..2024-03-31")) == ["p1", "p2"]
    assert ids(filled.search("date:..2024-03-01")) == ["p1"]
    assert ids(filled.search("日期:2024-07-01..")) == ["p3", "p4"]
    assert ids(filled.search("申请 日期:2024")) == ["p1", "p3", "p4"]


def test_other_filters(filled):
    assert ids(filled.search("位置:K1-A03*")) == ["p1", "p2"]
    assert ids(filled.search("状态:rescan")) == ["p3"]
    assert ids(filled.search("工单:GD2024070900003")) == ["p3"]
    assert ids(filled.search("地址:人民路")) == ["p1"]


def test_phrase_needs_adjacent_words_plain_words_do_not(filled):
    assert ids(filled.search("供用电 第三条")) == ["p2"]
    assert ids(filled.search('"供用电合同 第三条"')) == ["p2"]  # adjacent, punctuation ignored
    assert ids(filled.search('"合同 供电方式"')) == []  # both present, not adjacent
    assert ids(filled.search("合同 供电方式")) == ["p2"]


def test_or_and_exclusion(filled):
    assert ids(filled.search("封停 OR 减容")) == ["p1", "p3"]
    assert ids(filled.search("申请 -暂停")) == ["p3"]
    assert ids(filled.search("-申请")) == ["p2", "p5"]


def test_upsert_replaces_the_page(filled):
    filled.add([page("p1", "重新扫描后的文本 销户", record_number="GD01-KH·2024-0001239")])
    assert filled.count() == 5
    assert ids(filled.search("封停")) == []
    assert ids(filled.search("销户")) == ["p1"]


def test_same_page_twice_in_one_batch_keeps_the_last(backend):
    backend.add([page("p1", "第一版"), page("p1", "第二版")])
    assert backend.count() == 1
    assert ids(backend.search("第二版")) == ["p1"]


def test_pages_out_of_order_and_repeated_into_an_empty_index_keep_their_last_version(backend):
    given = ["10", "9", "10", "p2", "p10", "p2", "11"]
    backend.add([page(pid, f"版本{n}") for n, pid in enumerate(given)], batch_size=3)
    assert backend.count() == 5
    assert ids(backend.search("版本2")) == ["10"] and ids(backend.search("版本0")) == []
    assert ids(backend.search("版本5")) == ["p2"] and ids(backend.search("版本3")) == []


def test_fingerprints_name_every_page_once(backend):
    backend.add(page(f"{i}", f"第{i}页") for i in range(1, 41))
    backend.delete(["5", "17"])
    every = [pid for batch in backend.fingerprints() for pid, _ in batch]
    assert sorted(every, key=int) == [str(i) for i in range(1, 41) if i not in (5, 17)]


def test_delete_removes_pages(filled):
    assert filled.delete(["p1", "p5", "missing"]) == 2
    assert filled.count() == 3
    assert ids(filled.search("王建国")) == ["p2"]


def test_fingerprints_change_with_content(filled, customer_pages):
    fingerprints = _fingerprints(filled)
    assert fingerprints == {d.page_id: doc_fingerprint(d) for d in customer_pages}
    changed = page("p5", "改过的文本")
    filled.add([changed])
    assert _fingerprints(filled)["p5"] == doc_fingerprint(changed) != fingerprints["p5"]


def _fingerprints(backend) -> dict[str, str]:
    return dict(pair for batch in backend.fingerprints() for pair in batch)


def test_stored_page_comes_back_whole(filled, customer_pages):
    hit = filled.search("封停").hits[0]
    assert hit.doc == customer_pages[0]


def test_pagination_and_date_sort(filled):
    newest_first = [h.page_id for h in filled.search("申请", limit=10, sort="date").hits]
    assert newest_first == ["p4", "p3", "p1"]
    second = filled.search("申请", limit=1, offset=1, sort="date")
    assert second.total == 3 and [h.page_id for h in second.hits] == ["p3"]


def test_sort_by_account_and_by_business_type(filled):
    by_account = [h.page_id for h in filled.search("申请 OR 检查", limit=10, sort="account").hits]
    # 3401405288 < 3409900012 (p3 and p4 share it); no 户号 last
    assert by_account[0] == "p1" and sorted(by_account[1:3]) == ["p3", "p4"] and by_account[3] == "p5"
    by_business = [h.page_id for h in filled.search("户号:340*", limit=10, sort="business").hits]
    assert by_business[0] == "p3" and by_business[-1] == "p4"  # JR < ZT… < ZTHF
    assert sorted(by_business[1:3]) == ["p1", "p2"]


def test_clear_empties_the_index(filled):
    filled.clear()
    assert filled.count() == 0
    assert filled.search("王").total == 0


def test_streaming_add_commits_in_batches(backend):
    docs = (page(f"s{i:05d}", f"第{i}页 流水号{i}") for i in range(250))
    assert backend.add(docs, batch_size=100) == 250
    assert backend.count() == 250
    assert ids(backend.search("流水号137")) == ["s00137"]


@pytest.mark.parametrize("name", ["tantivy", POSTGRES])
def test_every_backend_returns_the_pages_whoosh_returns(request, tmp_path, customer_pages, name):
    queries = [
        *("申请", "王", "户号:3409900012", '"暂停恢复"', "业务:ZT OR 类型:JL", "日期:..2024-07-31 -合同", "用电"),
        *("-日期:2024-03", "340*", "档号:GD01-KH·2024*", '"王建国 3401405288"', "用电 OR 日期:2023..2024-03-01"),
    ]
    results = {}
    for backend in ("whoosh", name):
        index = open_test_backend(request, tmp_path, backend)
        index.add(customer_pages)
        results[backend] = [ids(index.search(q, limit=50)) for q in queries]
        index.close()
    assert results[name] == results["whoosh"]
    assert all(results["whoosh"][:6])


def test_unknown_backend_and_sort_are_clear_errors(tmp_path, backend):
    with pytest.raises(ValueError, match="unknown index backend"):
        open_backend(tmp_path / "x", "lucene")
    with pytest.raises(ValueError, match="unknown sort"):
        backend.search("王", sort="size")


@pytest.mark.parametrize("name", ["whoosh", "tantivy"])
def test_an_open_reader_sees_a_later_commit_by_another_writer(tmp_path, name):
    reader = open_backend(tmp_path / name, name)
    assert reader.search("新增").total == 0
    writer = open_backend(tmp_path / name, name)
    writer.add([page("n1", "新增的一页")])
    writer.close()
    assert ids(reader.search("新增")) == ["n1"]
    reader.close()


@pytest.mark.parametrize("name", [POSTGRES])
def test_postgresql_bounds_a_broad_query_and_says_more_match(request, tmp_path, customer_pages, monkeypatch, name):
    from dangan.indexing import pg_backend
    from dangan.indexing.search import search

    index = open_test_backend(request, tmp_path, name)
    index.add(customer_pages)
    monkeypatch.setattr(pg_backend, "MATCH_CAP", 2)
    broad = index.search("申请", limit=10)  # three pages hold it
    assert (broad.total, broad.total_exact, len(broad.hits)) == (2, False, 3)
    assert {h.page_id for h in broad.hits} <= {"p1", "p3", "p4"}
    by_date = index.search("申请", limit=10, sort="date")  # the order of every match, still
    assert (by_date.total_exact, [h.page_id for h in by_date.hits]) == (False, ["p4", "p3", "p1"])
    narrow = index.search("封停")
    assert (narrow.total, narrow.total_exact) == (1, True)
    results = search(index, "申请")
    assert (results.total_hits, results.total_exact, results.truncated) == (2, False, True)


def test_tantivy_ranks_a_broad_query_in_a_sample_and_says_more_match(tmp_path, monkeypatch):
    from dangan.indexing import tantivy_backend
    from dangan.indexing.search import search

    index = open_backend(tmp_path / "tantivy", "tantivy")
    first = dt.date(2024, 1, 1)
    index.add([page(f"b{i:03d}", f"供用电合同 第{i}页", date=first + dt.timedelta(days=i)) for i in range(200)])
    index.add([page("rare", "一页特别约定")])
    monkeypatch.setattr(tantivy_backend, "SAMPLE_PAGES", 20)  # 201 pages: the sample is 26 of 256 slots
    slots = tantivy_backend.sample_slots(201)
    in_sample = {f"b{i:03d}" for i in range(200) if tantivy_backend.slot_of(f"b{i:03d}") < slots}
    broad = index.search("供用电合同", limit=5)
    assert (broad.total, broad.total_exact, len(broad.hits)) == (len(in_sample), False, 5)
    assert {h.page_id for h in broad.hits} <= in_sample
    second = index.search("供用电合同", limit=5, offset=5)  # the next window, from the same sample
    assert not {h.page_id for h in second.hits} & {h.page_id for h in broad.hits}
    # more asked for than the sample holds: every page is searched and counted
    assert (index.search("供用电合同", limit=len(in_sample) + 1).total, broad.total_exact) == (200, False)
    # sorted: the order of every match, counted exactly
    by_date = index.search("供用电合同", limit=3, sort="date")
    assert (by_date.total, by_date.total_exact) == (200, True)
    assert [h.page_id for h in by_date.hits] == ["b199", "b198", "b197"]
    word = index.search("合同", limit=5)  # one term: counted from its postings, exactly
    assert (word.total, word.total_exact) == (200, True)
    rare = index.search('"特别约定"')
    assert (rare.total, rare.total_exact, ids(rare)) == (1, True, ["rare"])
    results = search(index, "供用电合同 -第7页")  # the user's search asks for its first 1000: all counted
    assert (results.total_hits, results.total_exact) == (199, True)
    index.close()


@pytest.mark.parametrize("name", [POSTGRES])
def test_postgresql_bulk_load_builds_its_terms_index_at_the_end(request, tmp_path, customer_pages, name):
    from sqlalchemy import text

    from dangan.indexing import pg_backend

    index = open_test_backend(request, tmp_path, name)

    def has_terms_index() -> bool:
        with index.engine.connect() as conn:
            return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": pg_backend.TERMS_INDEX}).scalar()

    seen_during = []
    index.add(customer_pages[:3], batch_size=1, on_commit=lambda _doc: seen_during.append(has_terms_index()))
    assert seen_during == [False, False, False] and has_terms_index()  # loaded without it, built at the end
    with index.engine.begin() as conn:  # as a bulk load killed before its end leaves it
        conn.execute(text(f"DROP INDEX {pg_backend.TERMS_INDEX}"))
    assert ids(index.search("申请")) == ["p1", "p3"]  # still answers, reading every row
    index.add(customer_pages[3:])
    assert has_terms_index() and ids(index.search("申请")) == ["p1", "p3", "p4"]
    index.add([page("p6", "新增申请")])  # into a filled index with its terms index: row by row
    assert has_terms_index() and ids(index.search("申请")) == ["p1", "p3", "p4", "p6"]


def test_a_code_with_a_quote_or_backslash_is_found_by_it(backend):
    backend.add([page("q1", "合同", location="K1'A\\02"), page("q2", "合同", location="K1-A-02")])
    assert ids(backend.search('位置:"K1\'A\\02"')) == ["q1"]
