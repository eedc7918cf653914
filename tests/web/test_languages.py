"""The web app speaks the user's language: their own setting first, then what the browser
asks for (Accept-Language), then Chinese. JSON keeps English keys and codes, with names."""

from __future__ import annotations

from urllib.parse import quote

from tests.web.conftest import csrf_from
from tests.wording import english_words, in_context, visible_text


def test_chinese_by_default_english_when_the_browser_asks_and_the_users_choice_over_both(web_archive, login):
    client = login("staff", headers={"Accept-Language": ""})
    page = client.get("/search")
    assert page.headers["content-language"] == "zh-CN"
    assert '<html lang="zh-CN">' in page.text and ">检索<" in page.text and "退出" in page.text

    client.headers["Accept-Language"] = "en-GB,en;q=0.9,zh-CN;q=0.5"
    page = client.get("/search")
    assert page.headers["content-language"] == "en" and ">Search<" in page.text and "退出" not in page.text

    # the user's own choice, from the header's language switch, wins over the browser's
    r = client.post("/account/language", data={"language": "zh_CN", "next": "/search", "csrf": client.csrf},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/search"
    page = client.get(f"/records/{quote(web_archive['number'])}")
    assert page.headers["content-language"] == "zh-CN" and "<dt>借阅</dt>" in page.text
    assert client.get("/api/me").json()["language"] == "zh_CN"

    # back to "as my browser asks"
    client.post("/account/language", data={"language": "", "csrf": client.csrf})
    assert client.get("/search").headers["content-language"] == "en"


def test_names_stand_beside_codes_from_the_scheme():
    from dangan.app.records import with_names
    from dangan.archive.business.scheme import load_scheme

    view = {
        "case": {"business_type": "JR"},
        "classification": {"business_type": "GM"},
        "classifications": [{"business_type": "JR"}, {"business_type": ""}],
        "documents": [{"doc_type": "SQ"}, {"doc_type": None}],
    }
    with_names(view, load_scheme())
    assert view["case"] == {"business_type": "JR", "business_type_name": "减容"}
    assert view["classification"]["business_type_name"] == "更名"
    assert [c["business_type_name"] for c in view["classifications"]] == ["减容", ""]
    assert [d["doc_type_name"] for d in view["documents"]] == ["用电申请书", ""]


def test_the_record_page_shows_dates_and_event_kinds_as_chinese_readers_expect(web_archive, login):
    client = login("auditor", headers={"Accept-Language": "zh-CN"})
    view = client.get(f"/api/records/{quote(web_archive['number'])}").json()
    assert "doc_type_name" in view["documents"][0] and "business_type_name" in view["case"]
    html = client.get(f"/records/{quote(web_archive['number'])}").text
    year = view["accessioned_at"][:4]
    assert f'<dd class="accessioned">{year}年' in html  # 入库 date in prose: 2026年12月2日 10:15
    assert 'data-type="registration">编号登记<' in html  # event kinds by name


def test_an_unknown_language_is_refused_with_the_choices(login):
    client = login("operator")
    r = client.post("/account/language", data={"language": "fr", "csrf": client.csrf})
    assert r.status_code == 400 and "zh_CN, en" in r.text


def test_the_log_in_page_follows_the_browser(app):
    from fastapi.testclient import TestClient

    with TestClient(app, headers={"Accept-Language": "en"}) as c:
        assert ">Log in<" in c.get("/login").text
    with TestClient(app, headers={"Accept-Language": "zh-CN,zh;q=0.9"}) as c:
        html = c.get("/login").text
        assert "用户名" in html and csrf_from(html)


def test_qa_flags_and_quarantine_reasons_read_in_the_readers_language(web_archive, login):
    """Flags and reasons are kept as code + params and rendered for each reader: the same
    stored flag reads Chinese to one user and English to another."""
    zh = login("operator", headers={"Accept-Language": "zh-CN"})
    queue = zh.get("/qa").text
    assert "低于最低要求 200 dpi" in queue and "below the 200 dpi minimum" not in queue
    quarantine = zh.get("/quarantine").text
    assert "PDF 已损坏或不完整" in quarantine and "damaged or truncated" not in quarantine

    en = login("operator", headers={"Accept-Language": "en"})
    assert "below the 200 dpi minimum" in en.get("/qa").text
    assert "PDF is damaged or truncated" in en.get("/quarantine").text

    # the API gives the code and the numbers beside the message in the reader's language
    (item,) = [i for i in zh.get("/api/qa").json() if any(f["code"] == "low_dpi" for f in i["flags"])]
    flag = next(f for f in item["flags"] if f["code"] == "low_dpi")
    assert flag["params"]["dpi"] == 150 and flag["params"]["minimum"] == 200 and "低于" in flag["message"]
    (refused,) = zh.get("/api/quarantine").json()
    assert refused["reason_code"] == "pdf_damaged" and refused["reason"].startswith("PDF 已损坏")
    assert "/" not in "".join(str(v) for v in refused["reason_params"].values())  # no server paths


def test_a_flag_written_before_flags_were_kept_shows_its_words():
    """Rows from before this change have only the message: it is shown as written."""
    from dangan.app.records import visible_flags
    from dangan.i18n import use_language

    old = [{"code": "skew", "severity": "fail", "message": "倾斜 4.0°：请重新扫描。"}]
    with use_language("en"):
        assert visible_flags(None, old)[0]["message"] == "倾斜 4.0°：请重新扫描。"
        assert visible_flags(None, old)[0]["params"] is None


def test_the_printable_reports_page_is_chinese_for_a_chinese_reader(web_archive, login):
    zh = login("auditor", headers={"Accept-Language": "zh-CN"})
    page = zh.get("/reports/all.html").text
    assert '<html lang="zh-CN">' in page and "业务档案完整性" in page and "检查人（签字）" in page
    text = visible_text(page).replace("auditor", "")  # the user's name is data
    assert not english_words(text), in_context(english_words(text), text)
    en = login("auditor", headers={"Accept-Language": "en"})
    page = en.get("/reports/all.html").text
    assert '<html lang="en">' in page and "Completeness of business cases" in page and "checked by" in page
    assert "业务档案完整性" not in page and "检查人" not in page
