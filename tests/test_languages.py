"""Chinese by default, English on request: the CLI follows LC_ALL / LC_MESSAGES / LANG and
--lang, dates and counters follow Chinese conventions, help is translated where it is shown."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from dangan.cli import main
from dangan.i18n import count, environment_language, format_date, negotiate, use_language
from tests.archive.audit import build_faulty
from tests.conftest import render_page
from tests.wording import english_words, in_context, visible_text


def test_dates_read_as_people_write_them_in_prose_and_sort_in_tables():
    day = dt.date(2023, 7, 29)
    with use_language("zh_CN"):
        assert format_date(day) == "2023年7月29日"
        assert format_date("2023-07-29T14:05:00") == "2023年7月29日 14:05"
    with use_language("en"):
        assert format_date(day) == "29 July 2023"
    for language in ("zh_CN", "en"):
        with use_language(language):
            assert format_date(day, table=True) == "2023-07-29"
    assert format_date(None) == "" and format_date("not a date") == "not a date"


def test_counters_are_the_archive_rooms():
    with use_language("zh_CN"):
        assert [count(n, u) for n, u in ((12, "record"), (34, "page"), (3, "folder"), (2, "box"))] == [
            "12 件",
            "34 页",
            "3 卷",
            "2 盒",
        ]
    with use_language("en"):
        assert (count(1, "page"), count(2, "page"), count(1, "box"), count(2, "box")) == (
            "1 page",
            "2 pages",
            "1 box",
            "2 boxes",
        )


def test_a_missing_paper_folder_reads_missing_not_the_missing_documents_heading():
    from dangan.archive.audit.reports.base import display_cell

    with use_language("zh_CN"):
        assert display_cell("state", "missing") == ["缺失"]
    with use_language("en"):
        assert display_cell("state", "missing") == ["missing"]


def test_the_language_comes_from_posix_variables_and_the_browsers_preference():
    assert environment_language({"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert environment_language({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "C"}) == "en"
    assert environment_language({"LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "C", "LANG": "C"}) == "zh_CN"
    assert environment_language({"LC_ALL": "", "LANG": "C"}) == "en"
    assert environment_language({}) is None
    assert negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert negotiate("fr-FR, zh;q=0.5, en;q=0.4") == "zh_CN"
    assert negotiate("zh-TW;q=0.2, en;q=0.9") == "en"
    assert negotiate("fr, de") is None and negotiate("") is None and negotiate(None) is None


def test_help_is_shown_in_the_language_asked_for():
    runner = CliRunner()
    zh = runner.invoke(main, ["--lang", "zh_CN", "scan", "--help"])
    assert "接收扫描件" in zh.output and "并行识别的页数" in zh.output
    assert "用法：" in zh.output and "显示此帮助并退出。" in zh.output  # click's own words too
    wrong = runner.invoke(main, ["--lang", "zh_CN", "search", "--sort", "oldest", "减容"])
    assert wrong.exit_code == 2 and "'--sort' 的值无效" in wrong.output
    en = runner.invoke(main, ["scan", "--help"], env={"LC_ALL": "C.UTF-8"})
    assert "Ingest scanned files" in en.output and "接收扫描件" not in en.output
    by_locale = runner.invoke(main, ["--help"], env={"LC_ALL": "zh_CN.UTF-8"})
    assert "电力客户档案的数字化" in by_locale.output


def test_scan_reports_progress_and_results_in_chinese_under_a_chinese_locale_and_in_english_under_c(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    render_page(["用电申请书", "户号：3401405288", "申请人（签章）：王建国"]).save(scans / "a.png", dpi=(300, 300))
    (scans / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")  # truncated: quarantined
    home = str(tmp_path / "home")
    runner = CliRunner()
    assert runner.invoke(main, ["--home", home, "init"]).exit_code == 0

    zh = runner.invoke(
        main,
        ["--home", home, "scan", "--jobs", "1", str(scans)],
        env={"LANG": "zh_CN.UTF-8", "LC_MESSAGES": None, "LC_ALL": None},
    )
    assert zh.exit_code == 3, zh.output
    assert "扫描" in zh.stderr and "页/分钟" in zh.stderr  # the progress bars
    assert "已归档" in zh.stdout and "已隔离" in zh.stdout and "档号" in zh.stdout
    assert "已归档 1 个文件，跳过 0 个，隔离 1 个" in zh.stdout

    en = runner.invoke(
        main,
        ["--home", home, "scan", "--jobs", "1", str(scans)],
        env={"LANG": "C", "LC_MESSAGES": None, "LC_ALL": None},
    )
    assert en.exit_code == 3, en.output
    assert "pages/min" in en.stderr
    assert "0 accessioned, 1 skipped, 1 quarantined" in en.stdout
    assert "已归档" not in en.stdout

    # the quarantine reason was written under Chinese and reads in each reader's language, its code in JSON
    reasons = runner.invoke(main, ["--home", home, "--lang", "en", "quarantine", "--json"]).stdout
    refused = json.loads(reasons)[0]  # quarantined by each of the two runs
    assert refused["reason_code"] == "pdf_damaged" and refused["reason"].startswith("PDF is damaged or truncated")
    zh_list = json.loads(runner.invoke(main, ["--home", home, "--lang", "zh_CN", "quarantine", "--json"]).stdout)
    assert zh_list[0]["reason"].startswith("PDF 已损坏或不完整") and zh_list[0]["reason_code"] == "pdf_damaged"

    # JSON keeps its English keys and codes whatever the language, with names beside codes
    as_json = runner.invoke(main, ["--home", home, "--lang", "zh_CN", "scan", "--json", str(scans)])
    folders = json.loads(as_json.stdout)["folders"]
    assert {f["status"] for f in folders} == {"skipped", "quarantined"}
    number = next(f["number"] for f in folders if f["status"] == "skipped")
    view = json.loads(runner.invoke(main, ["--home", home, "--lang", "en", "show", "--json", number]).stdout)
    doc = view["documents"][0]
    assert doc["doc_type"] == "SQ" and doc["doc_type_name"] == "用电申请书"


def test_reports_speak_the_archives_language_unless_asked_otherwise(tmp_path):
    home = str(tmp_path / "home")
    runner = CliRunner()
    assert runner.invoke(main, ["--home", home, "init"]).exit_code == 0
    english_terminal = {"LANG": "C", "LC_MESSAGES": None, "LC_ALL": None, "DANGAN_LANGUAGE": None}
    default = runner.invoke(main, ["--home", home, "report", "numbering"], env=english_terminal)
    assert default.exit_code == 0 and "未发现问题" in default.stdout  # the archive's language: Chinese
    asked = runner.invoke(main, ["--home", home, "report", "numbering", "--lang", "en"], env=english_terminal)
    assert "No problems found" in asked.stdout and "未发现问题" not in asked.stdout
    configured = runner.invoke(
        main, ["--home", home, "report", "numbering"], env={**english_terminal, "DANGAN_LANGUAGE": "en"}
    )
    assert "No problems found" in configured.stdout


def test_index_check_reports_in_chinese(tmp_path):
    home = str(tmp_path / "home")
    runner = CliRunner()
    assert runner.invoke(main, ["--home", home, "init"]).exit_code == 0
    check = runner.invoke(main, ["--home", home, "--lang", "zh_CN", "index", "check"])
    assert check.exit_code == 0, check.output
    assert "数据库中共 0 页；索引缺 0，过时 0，多余 0" in check.stdout


def test_the_auditors_reports_are_chinese_through_and_through_and_english_on_request(db, store, home, tmp_path):
    """The printable report an auditor signs, and the same report in the terminal: no English
    heading, section, note, status or signature line under Chinese; all English with --lang en.
    The CSV keeps its English column keys (scripts read them)."""
    with use_language("en"), db.session() as s:
        build_faulty(s, store)
    runner = CliRunner()
    english_terminal = {"LANG": "C", "LC_MESSAGES": None, "LC_ALL": None, "DANGAN_LANGUAGE": None}

    def run(*args, code=4):
        r = runner.invoke(main, ["--home", str(home.root), "--db", home.db_url, *map(str, args)], env=english_terminal)
        assert r.exit_code == code, r.output
        return r.stdout

    html = tmp_path / "all.html"
    run("report", "all", "--as-of", "2024-06-03", "--html", html)
    page = html.read_text(encoding="utf-8")
    text = visible_text(page).replace("operator", "").replace("label misprinted", "")  # data: a name, a reason
    assert '<html lang="zh-CN">' in page and "业务档案完整性" in page and "检查人（签字）" in page
    assert "缺少的文件" in page and "按业务类型" in page and "各业务类型的档案完整性" in page
    assert not english_words(text), in_context(english_words(text), text)

    terminal = run("report", "completeness", "--csv", tmp_path / "c.csv").replace("operator", "")
    assert "业务档案完整性" in terminal and "发现 3 个问题" in terminal and "按业务类型" in terminal
    assert not english_words(terminal), in_context(english_words(terminal), terminal)
    csv_lines = (tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_lines[0] == "# 业务档案完整性"
    assert any(line.startswith("work_order,business_type,") for line in csv_lines)

    run("report", "all", "--lang", "en", "--html", html)
    page = html.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Completeness of business cases" in page and "checked by" in page
    for chinese in ("业务档案完整性", "检查人", "缺少的文件", "按业务类型", "未发现问题", "生成时间"):
        assert chinese not in page
    terminal = run("report", "completeness", "--lang", "en")
    assert "by business type" in terminal and "3 problems found" in terminal and "业务档案完整性" not in terminal
