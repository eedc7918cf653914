import datetime as dt

import pytest

from dangan.indexing.query import QuerySyntaxError
from dangan.indexing.schema import IndexDoc
from dangan.indexing.search import find_garbled, search
from tests.indexing.conftest import page


@pytest.fixture
def contracts(backend):
    backend.add(
        [
            page("c1", "甲乙双方签订供用电合同，约定供电方式。", record_number="R-1", page_no=1),
            page("c2", "本供用电合同自签字之日起生效。", record_number="R-1", page_no=2),
            page("c3", "双方签订供用电台同，约定计量方式。", record_number="R-2"),  # OCR: 合→台
            page("c4", "供甩电合同 附件一", record_number="R-3"),  # OCR: 用→甩
            page("c5", "供电公司与用户签订合同。", record_number="R-4"),  # words apart
            page("c6", "供用电合同<补充>条款 & 说明", record_number="R-5"),
        ]
    )
    return backend


def test_exact_hits_grouped_by_record(contracts):
    results = search(contracts, '"供用电合同"', tolerant=False)
    exact = [(g.record_number, [h.page_id for h in g.hits]) for g in results.groups]
    assert sorted(exact) == [("R-1", ["c1", "c2"]), ("R-5", ["c6"])]
    assert results.total_hits == 3 and results.tolerant_hits == 0


def test_tolerant_pass_finds_one_garbled_char_below_exact_hits(contracts):
    results = search(contracts, "供用电合同")
    kinds = [g.tolerant for g in results.groups]
    assert kinds == sorted(kinds)  # every exact group before every tolerant group
    tolerant = {h.page_id: h for g in results.groups if g.tolerant for h in g.hits}
    assert set(tolerant) == {"c3", "c4"}
    assert tolerant["c3"].matched == ["供用电台同"] and tolerant["c3"].tolerant
    assert "c5" not in tolerant  # two characters away is not "one garbled character"
    assert results.exact_groups == 2 and results.tolerant_hits == 2


def test_tolerant_pass_keeps_the_filters(contracts):
    results = search(contracts, "供用电合同 档号:R-2")
    assert [h.page_id for g in results.groups for h in g.hits] == ["c3"]


def test_tolerant_pass_can_be_switched_off_and_skips_short_words(contracts):
    assert all(not g.tolerant for g in search(contracts, "供用电合同", tolerant=False).groups)
    assert all(not g.tolerant for g in search(contracts, "合同").groups)


def test_snippets_mark_the_match_and_escape_html(contracts):
    results = search(contracts, "供用电合同 补充")
    hit = results.groups[0].hits[0]
    assert hit.page_id == "c6"
    assert "【供用电合同】" in hit.snippet and "【补充】" in hit.snippet
    assert "<mark>供用电合同</mark>" in hit.snippet_html
    assert "&lt;" in hit.snippet_html and "&amp;" in hit.snippet_html
    assert hit.matched == ["供用电合同", "补充"]


def test_pagination_is_over_groups(contracts):
    first = search(contracts, "签订", per_page=2, page=1, tolerant=False)
    second = search(contracts, "签订", per_page=2, page=2, tolerant=False)
    assert first.total_groups == 3 and first.pages == 2
    assert len(first.groups) == 2 and len(second.groups) == 1
    records = [g.record_number for g in first.groups + second.groups]
    assert sorted(records) == ["R-1", "R-2", "R-4"]


def test_a_broad_query_decodes_only_the_pages_it_shows(backend, monkeypatch):
    record, page_no, day = (lambda i: f"R-{i // 3}"), (lambda i: i % 3 + 1), (lambda i: dt.date(2024, 1, 1 + i // 3))
    backend.add(
        page(f"{i}", f"供电方式 第{i}页", record_number=record(i), page_no=page_no(i), date=day(i)) for i in range(60)
    )
    decoded = []
    from_json = IndexDoc.from_json
    monkeypatch.setattr(IndexDoc, "from_json", classmethod(lambda cls, raw: decoded.append(raw) or from_json(raw)))
    results = search(backend, "供电方式", per_page=2, page=3, tolerant=False)
    assert results.total_hits == 60 and results.total_groups == 20
    shown = [h for g in results.groups for h in g.hits]
    assert len(shown) == 6  # two records of three pages, each page where its record and number say
    places = [((h.record_number, h.page_no, h.date), int(h.page_id)) for h in shown]
    assert all(place == (record(i), page_no(i), day(i)) for place, i in places)
    assert all(f"【供电方式】 第{h.page_id}页" == h.snippet for h in shown)
    if backend.name == "tantivy":  # the others hand their pages over decoded
        assert len(decoded) == len(shown)


def test_query_errors_surface_as_query_syntax_error(contracts):
    with pytest.raises(QuerySyntaxError, match="column"):
        search(contracts, '"供用电')


def test_find_garbled_is_exactly_one_substitution():
    assert find_garbled("签订供用电台同约定", "供用电合同") == [(2, 7)]
    assert find_garbled("供用电合同", "供用电合同") == []
    assert find_garbled("供甩电台同", "供用电合同") == []
