"""OFD in: identified by content, validated, text with positions, pages drawn, signatures and
seals listed and checked; real files written by other producers (tests/data/real)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dangan.archive.store import FileStore, sha256_file
from dangan.cli import main
from dangan.scanning.page import PipelineOptions
from dangan.scanning.runner import TEXT_LAYER, PageTask, process_page
from dangan.scanning.sources import OFD, RejectedFile, inspect, read_page
from dangan.tools import ToolFailed

REAL = Path(__file__).resolve().parent.parent / "data" / "real"
CERTIFICATE = REAL / "ofdrw-keyword.ofd"  # Suwell: template, embedded font, seal (digests changed)
INVOICE = REAL / "ofdrw-1.ofd"  # an e-invoice with an intact seal
SEALED = REAL / "ofdrw-SESV4SignDoc.ofd"  # ofdrw-sign, SES v4, intact, seal picture
MM = 300 / 25.4


def _compact(text: str) -> str:
    return "".join(text.split())


def test_an_ofd_is_known_by_its_content_not_its_name(tmp_path):
    disguised = tmp_path / "notice.pdf"
    shutil.copy(CERTIFICATE, disguised)
    info = inspect(disguised)
    assert info.media_type == OFD and info.page_count == 1
    plain_zip = tmp_path / "photos.ofd"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(RejectedFile, match="ZIP archive, not an OFD"):
        inspect(plain_zip)


def _broken(tmp_path: Path, name: str, change) -> Path:
    out = tmp_path / name
    with zipfile.ZipFile(SEALED) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = change(item.filename, src.read(item))
            if data is not None:
                dst.writestr(item, data)
    return out


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("no-page.ofd", lambda n, d: None if n.endswith("Content.xml") else d, "Content.xml"),
        ("bad-xml.ofd", lambda n, d: d[: len(d) // 2] if n.endswith("Document.xml") else d, "not well-formed XML"),
        ("no-root.ofd", lambda n, d: d.replace(b"DocRoot", b"DocRoof") if n == "OFD.xml" else d, "names no document"),
    ],
)
def test_a_damaged_ofd_is_refused_with_what_is_wrong(tmp_path, name, change, reason):
    with pytest.raises(RejectedFile, match="OFD is damaged") as refused:
        inspect(_broken(tmp_path, name, change))
    assert reason in str(refused.value)


def test_a_truncated_ofd_is_refused(tmp_path):
    cut = tmp_path / "cut.ofd"
    cut.write_bytes(SEALED.read_bytes()[:20000])
    with pytest.raises(RejectedFile):
        inspect(cut)


def test_its_text_is_read_with_a_box_on_each_character_where_it_is_drawn():
    raw = read_page(inspect(CERTIFICATE), 1)
    assert raw.master_is_source and raw.master == b"" and raw.dpi == 300
    text = _compact(raw.text)
    for phrase in ("中国建设银行股份有限公司泰安分行", "鲁（2020）泰安市不动产证明第0014777号", "鑫源小区25号"):
        assert phrase in text
    # 李伟 is TextObject Boundary="191.7523 57.6626 …" with its baseline at Y=3.6364 inside it
    li = next(w for w in raw.words if w.text == "李")
    assert abs(li.left - 191.7523 * MM) <= 2
    assert li.top < (57.6626 + 3.6364) * MM < li.top + li.height
    assert abs(li.height - 4.2333 * MM) <= 2  # the font size
    wei = raw.words[raw.words.index(li) + 1]
    assert wei.text == "伟" and abs(wei.left - (191.7523 + 4.2333) * MM) <= 2


def test_an_independent_reader_finds_the_same_text():
    """ofdkit (another OFD reader) reads every run of text we read, in the files of three producers."""
    ofdkit = pytest.importorskip("ofdkit")
    for path in (CERTIFICATE, INVOICE, SEALED):
        ours = _compact(read_page(inspect(path), 1).text)
        with ofdkit.open(path) as doc:
            runs = [_compact(r.text) for r in doc.pages[0].runs if _compact(r.text)]
        assert runs
        # our lines are in reading order, theirs in drawing order: compare character counts
        theirs = "".join(runs)
        assert sorted(ours) == sorted(theirs), path.name


def test_the_page_is_drawn_with_its_seal_on_top():
    raw = read_page(inspect(CERTIFICATE), 1)
    h, w = raw.image.shape[:2]
    assert abs(w - 283 * MM) <= 2 and abs(h - 196 * MM) <= 2
    # the stamp: StampAnnot Boundary="90 110 42 42" (mm); its picture is red ink
    stamp = raw.image[int(110 * MM) : int(152 * MM), int(90 * MM) : int(132 * MM)].astype(int)
    red = (stamp[..., 0] > 150) & (stamp[..., 1] < 100) & (stamp[..., 2] < 100)
    assert red.mean() > 0.05
    # and the text is drawn where its boxes say
    li = next(w for w in raw.words if w.text == "李")
    ink = raw.image[li.top : li.top + li.height, li.left : li.left + li.width].min(axis=2)
    assert (ink < 128).mean() > 0.05


def test_signatures_and_seals_are_listed_and_their_signed_parts_checked():
    raw = read_page(inspect(SEALED), 1)
    (seal,) = raw.signatures
    assert seal["kind"] == "Seal" and seal["provider"] == "ofdrw-sign" and seal["page"] == 1
    assert seal["signer"] == "OFD R&W 测试用印章"  # the seal's own name, from its SES structure
    assert seal["check"] == "intact" and seal["seal_picture"] and seal["signed_at"]
    certificate = read_page(inspect(CERTIFICATE), 1).signatures
    assert [s["kind"] for s in certificate] == ["Seal", "Sign"]
    assert certificate[0]["signer"] == "淄博市周村区自然资源局(不动产登记专用章)"
    assert all(s["check"].startswith("changed: ") and "Content.xml" in s["check"] for s in certificate)


def test_a_changed_signed_part_is_noticed(tmp_path):
    edited = _broken(
        tmp_path,
        "edited.ofd",
        lambda n, d: d.replace("你好呀".encode(), "你好吗".encode()) if n.endswith("Content.xml") else d,
    )
    (seal,) = read_page(inspect(edited), 1).signatures
    assert seal["check"].startswith("changed: ") and "Content.xml" in seal["check"]


def test_an_ofd_page_is_archived_byte_for_byte_with_its_own_text_and_seals(tmp_path):
    store = FileStore(tmp_path / "store")
    store.create()
    info = inspect(INVOICE)
    page = process_page(PageTask(info, 1, str(store.root), PipelineOptions(), sha256_file(INVOICE)))
    assert page.master_sha256 == sha256_file(INVOICE) and page.master_format == "ofd"
    assert store.path(page.master_path).read_bytes() == INVOICE.read_bytes()
    assert page.ocr_engine == TEXT_LAYER and "浙江增值税电子普通发票" in _compact(page.text)
    assert page.has_seal and page.fields["signatures"]["valid"]
    assert page.fields["signatures"]["signatures"][0]["check"] == "intact"
    # its JBIG2 QR code is drawn (jbig2dec), so nothing on the page goes unshown
    assert "not_shown" not in [f["code"] for f in page.flags]
    # its one picture is the QR code: OCR reads no words in it that the page would gain
    assert "text_in_pictures" not in [f["code"] for f in page.flags] and page.ocr_engine == TEXT_LAYER


QR_BOX_MM = (8.5, 3.5, 28.5, 23.5)  # the invoice's ImageObject: Boundary="8.5 3.5 20 20", CTM 20 x 20


def test_the_invoice_qr_code_in_jbig2_is_drawn():
    """The e-invoice carries its QR code as a JBIG2 file (MultiMedia Format="GBIG2"): drawn,
    where the page places it, module for module as jbig2dec decodes it."""
    from dangan.tools import jbig2dec

    raw = read_page(inspect(INVOICE), 1)
    assert raw.problems == ()
    left, top, right, bottom = (round(v * MM) for v in QR_BOX_MM)
    drawn = raw.image[top:bottom, left:right].min(axis=2) < 128
    assert 0.3 < drawn.mean() < 0.7  # a QR code is about half ink; blank paper is none
    with zipfile.ZipFile(INVOICE) as z:
        data = z.read("Doc_0/Res/image_78.jb2")
    assert jbig2dec.is_jbig2_file(data)  # OFD stores the whole file, header and all
    modules = np.asarray(jbig2dec.decode(data).convert("L").resize(drawn.shape[::-1])) < 128
    assert (modules == drawn).mean() > 0.9


def test_a_jbig2_stream_without_its_file_header_decodes_the_same():
    from dangan.tools import jbig2dec

    with zipfile.ZipFile(INVOICE) as z:
        data = z.read("Doc_0/Res/image_78.jb2")
    header = len(jbig2dec.FILE_HEADER) + 1 + 4  # ID string, flags (sequential), number of pages
    assert np.array_equal(np.asarray(jbig2dec.decode(data[header:])), np.asarray(jbig2dec.decode(data)))
    with pytest.raises(ToolFailed):
        jbig2dec.decode(b"not a picture at all")


def test_without_jbig2dec_the_page_says_so_and_is_drawn_without_the_picture(tmp_path, monkeypatch):
    from dangan.scanning.ofd import OfdFile, PictureUnreadable
    from dangan.scanning.ofd_check import check_ofda
    from dangan.scanning.ofd_render import drawable, render

    monkeypatch.setenv("PATH", str(tmp_path))  # the program is not on this machine
    with OfdFile(INVOICE) as ofd:
        page = ofd.page(1)
        with pytest.raises(PictureUnreadable, match="jbig2dec is not installed"):
            ofd.picture(page.pictures[0].part)
        (problem,) = drawable(ofd, page)
        assert "image_78.jb2" in problem and "install the Debian package jbig2dec" in problem
        im = np.asarray(render(ofd, page, 100).convert("L"))
    k = 100 / 25.4
    assert (im[round(3.5 * k) : round(23.5 * k), round(8.5 * k) : round(28.5 * k)] < 128).mean() < 0.05
    usability = next(p for p in check_ofda(INVOICE).properties if p.name == "usability")
    assert any("cannot be checked: jbig2dec is not installed" in f["problem"] for f in usability.failures)


def test_scan_search_and_quarantine_through_the_command(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(CERTIFICATE, scans / "certificate.ofd")
    (scans / "broken.ofd").write_bytes(SEALED.read_bytes()[:20000])
    home = tmp_path / "home"
    run = lambda *a: CliRunner().invoke(main, ["--home", str(home), "--as", "tester", *a], catch_exceptions=False)
    assert run("init").exit_code == 0
    out = json.loads(run("scan", "--jobs", "1", "--json", str(scans)).stdout)
    status = {Path(f["source"]).name: f for f in out["folders"]}
    assert status["certificate.ofd"]["status"] == "accessioned"
    assert status["broken.ofd"]["status"] == "quarantined" and "OFD" in status["broken.ofd"]["reason"]
    hits = json.loads(run("search", "--json", "--exact", "泰安分行").stdout)
    (hit,) = [h for g in hits["groups"] for h in g["hits"]]
    box = hit["boxes"][0]
    assert abs(box["left"] - (191.7523 + 12 * 4.2333) * MM) <= 4  # 泰 is the 13th character of its run
    view = json.loads(run("show", "--json", status["certificate.ofd"]["number"]).stdout)
    page = view["documents"][0]["pages"][0]
    assert page["master"]["sha256"] == sha256_file(CERTIFICATE)
    assert np.isclose(page["ocr_confidence"], 100.0)


def test_rotated_text_is_drawn_rotated(tmp_path):
    """A text object turned a quarter by its CTM (as a vertical line on a certificate) is drawn
    running down the page, not across it."""
    from dangan.scanning.ofd import OfdFile
    from dangan.scanning.ofd_render import render

    plain = REAL / "ofdrw-helloworld.ofd"
    turned = tmp_path / "turned.ofd"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(turned, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("Content.xml"):
                data = data.replace(b"<ofd:TextObject ", b'<ofd:TextObject CTM="0 1 -1 0 0 0" ')
            dst.writestr(item, data)

    def ink(path):
        with OfdFile(path) as ofd:
            page = ofd.page(1)
            dark = np.asarray(render(ofd, page, 200).convert("L")) < 128
        rows, cols = np.nonzero(dark.any(axis=1))[0], np.nonzero(dark.any(axis=0))[0]
        return page, dark[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    page, drawn = ink(turned)
    assert page.glyphs and all(g.angle == 90 for g in page.glyphs)
    _page, upright = ink(plain)
    expected = np.rot90(upright, k=-1)  # the upright line turned a quarter clockwise
    assert abs(drawn.shape[0] - expected.shape[0]) <= 3 and abs(drawn.shape[1] - expected.shape[1]) <= 3
    h, w = min(drawn.shape[0], expected.shape[0]), min(drawn.shape[1], expected.shape[1])
    assert (drawn[:h, :w] != expected[:h, :w]).mean() < 0.1  # upright letters stacked would differ


@pytest.mark.parametrize(
    ("family", "face"),
    [
        ("宋体", "Noto Serif CJK SC"),
        ("SimSun", "Noto Serif CJK SC"),
        ("仿宋_GB2312", "Noto Serif CJK SC"),
        ("楷体", "AR PL UKai CN"),
        ("KaiTi", "AR PL UKai CN"),
        ("黑体", "Noto Sans CJK SC"),
        ("微软雅黑", "Noto Sans CJK SC"),
        ("Courier New", "Liberation Mono"),
        ("an unknown family", "Noto Sans CJK SC"),
    ],
)
def test_a_font_not_embedded_stands_in_by_its_family(family, face):
    from dangan.archive.audit.font_substitutes import face_for

    assert face_for(family, "012 AB").name == face
    # a character the closest face lacks comes from the next one that has it
    assert face_for(family, "浙江").name != "Liberation Mono"
