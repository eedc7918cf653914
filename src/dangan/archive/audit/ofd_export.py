"""A record as one OFD file (GB/T 33190-2016) in the archival profile (OFD/A): a scanned
page's image full page, its OCR text invisible over it at the word boxes (Fill="false":
selectable and searchable, not drawn), the font subset and embedded, every part inside the
package, and the record's metadata in DocInfo's custom data and in a custom tag of its own.

A born-digital page goes out as it is: the caller hands a BORN_DIGITAL function that gives its
vector content as OFD (an OFD original's page copied, a PDF page converted: scanning.ofd_out);
a PDF page's exact text then lies invisible over its drawing as a scan's does. A page it gives
nothing for goes out as its rendering with its text. The export is an "export" event with the
file's SHA-256.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.audit.font_substitutes import face_for
from dangan.archive.audit.searchable_pdf import CJK_FONTS, ExportError, current_pages, written_whole
from dangan.archive.events import EXPORT
from dangan.archive.models import ArchiveRecord, Page
from dangan.archive.records.views import find_record
from dangan.archive.store import FileStore, sha256_file

NS = "http://www.ofdspec.org/2016"
TAG_NAMESPACE = "urn:dangan:record:1"  # the custom tag holding the record's metadata
MM_PER_INCH = 25.4
ASCENT = 0.88  # a CJK glyph's ink top above the baseline, in em (as scanning.ofd reads it)

ET.register_namespace("ofd", NS)


@dataclass(frozen=True)
class OfdExport:
    number: str
    path: str
    pages: int
    words: int
    size: int
    sha256: str
    event_seq: int
    vector_pages: int = 0  # born-digital pages written as their own content, not as an image


@dataclass
class VectorPage:
    """A born-digital page's own content as OFD, its IDs taken from the export's counter:
    AREA the page's Area element, LAYERS its content layers, RESOURCES the resource elements
    they use by group (Fonts, MultiMedias, DrawParams, ColorSpaces, CompositeGraphicUnits),
    FILES the resource files by name in Doc_0/Res/; WITH_TEXT: lay the page's text invisible
    over it (the drawing carries no text, as a PDF page's glyphs drawn as outlines)."""

    area: ET.Element
    layers: list[ET.Element]
    resources: dict[str, list[ET.Element]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    with_text: bool = False


# a page → its vector content, taking IDs from the callable it is given; None: export the image
BornDigital = Callable[[Page, Callable[[], int]], "VectorPage | None"]


def ofd_name(name: str) -> str:
    """NAME in the OFD namespace (an element's tag)."""
    return f"{{{NS}}}{name}"


def ofd_element(parent: ET.Element | None, name: str, text: str | None = None, **attrs: object) -> ET.Element:
    e = ET.Element(ofd_name(name)) if parent is None else ET.SubElement(parent, ofd_name(name))
    for k, v in attrs.items():
        e.set(k, str(v))
    if text is not None:
        e.text = text
    return e


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def mm_text(v: float) -> str:
    """A length or coordinate in millimetres as OFD writes it: three decimals at most."""
    return f"{v:.3f}".rstrip("0").rstrip(".")


def record_metadata(record: ArchiveRecord, pages: Sequence[Page]) -> dict[str, str]:
    """What the file says about the record, in DA/T 22 / DA/T 46 terms (keys are stable)."""
    cls = record.classification
    meta = {
        "档号": record.number,
        "全宗号": record.fonds,
        "门类": record.category,
        "年度": str(record.year),
        "件号": str(record.serial),
        "题名": record.title or "",
        "保管期限": (cls.retention if cls else "") or "",
        "业务类型": (cls.business_type if cls else "") or "",
        "户号": record.customer.account_number if record.customer else "",
        "户名": record.customer.name if record.customer else "",
        "工单编号": record.case.work_order if record.case else "",
        "页数": str(len(pages)),
        "件数": str(len(record.documents)),
    }
    return {k: v for k, v in meta.items() if v}


def export_ofd(
    session: Session,
    key: str,
    store: FileStore,
    out: str | os.PathLike,
    *,
    actor: str,
    born_digital: BornDigital | None = None,
) -> OfdExport:
    """Write record KEY (archive number or 户号) as an OFD at OUT; log the export."""
    record = find_record(session, key)
    pages = current_pages(record)
    if not pages:
        raise ExportError(f"{record.number} has no pages to export")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    vector: list[int] = []
    words = written_whole(out, lambda tmp: write_ofd(tmp, record, pages, store, born_digital, vector))
    sha, size = sha256_file(out), out.stat().st_size
    event = events.record_event(
        session,
        EXPORT,
        actor,
        "record",
        record.number,
        {
            "format": "application/ofd",
            "what": "OFD (archival profile)",
            "file": out.name,
            "sha256": sha,
            "size": size,
            "pages": len(pages),
            "page_ids": [p.id for p in pages],
            "vector_page_ids": vector,
        },
    )
    return OfdExport(record.number, str(out), len(pages), words, size, sha, event.seq, len(vector))


def write_ofd(
    path: str | os.PathLike,
    record: ArchiveRecord,
    pages: Sequence[Page],
    store: FileStore,
    born_digital: BornDigital | None = None,
    vector: list[int] | None = None,
) -> int:
    """Write PAGES of RECORD as an OFD package at PATH; return the number of words placed.
    The IDs of pages written as their own content are appended to VECTOR."""
    ids = iter(range(1, 1 << 30))
    font_id = next(ids)
    groups: dict[str, list[ET.Element]] = {}  # resources of vector pages, by group
    meta = record_metadata(record, pages)
    parts: dict[str, bytes] = {}

    ofd = ofd_element(None, "OFD", Version="1.1", DocType="OFD")
    body = ofd_element(ofd, "DocBody")
    info = ofd_element(body, "DocInfo")
    ofd_element(info, "DocID", uuid.uuid5(uuid.NAMESPACE_URL, f"dangan:{record.number}").hex)
    ofd_element(info, "Title", record.title or record.number)
    ofd_element(info, "Author", record.fonds)
    ofd_element(info, "CreationDate", date.today().isoformat())
    ofd_element(info, "Creator", "dangan")
    custom = ofd_element(info, "CustomDatas")
    for name, value in meta.items():
        ofd_element(custom, "CustomData", value, Name=name)
    ofd_element(body, "DocRoot", "Doc_0/Document.xml")

    media = ofd_element(None, "Res", BaseLoc="Res")
    medias = ofd_element(media, "MultiMedias")
    page_parts: list[tuple[int, str]] = []
    text = ""
    placed = 0
    first_box = None
    for n, p in enumerate(pages):
        dpi = p.dpi or 300
        k = MM_PER_INCH / dpi
        w, h = p.width * k, p.height * k
        own = born_digital(p, lambda: next(ids)) if born_digital is not None else None
        page = ofd_element(None, "Page")
        if own is not None:
            page.append(own.area)
            content = ofd_element(page, "Content")
            content.extend(own.layers)
            for group, elements in own.resources.items():
                groups.setdefault(group, []).extend(elements)
            parts.update({f"Doc_0/Res/{name}": data for name, data in own.files.items()})
            box = numbers_of(own.area)
            first_box = first_box or (box[2], box[3])
            if vector is not None:
                vector.append(p.id)
            if not own.with_text:
                page_id = next(ids)
                page_parts.append((page_id, f"Pages/Page_{n}/Content.xml"))
                parts[f"Doc_0/Pages/Page_{n}/Content.xml"] = _xml(page)
                continue
            layer = ofd_element(content, "Layer", ID=next(ids), Type="Body")
        else:
            if not p.derived_path:
                raise ExportError(f"page {p.seq} has no derived image to export")
            first_box = first_box or (w, h)
            image_id = next(ids)
            mm = ofd_element(medias, "MultiMedia", ID=image_id, Type="Image", Format="JPEG")
            ofd_element(mm, "MediaFile", f"page_{n + 1}.jpg")
            parts[f"Doc_0/Res/page_{n + 1}.jpg"] = store.path(p.derived_path).read_bytes()
            area = ofd_element(page, "Area")
            ofd_element(area, "PhysicalBox", f"0 0 {mm_text(w)} {mm_text(h)}")
            layer = ofd_element(ofd_element(page, "Content"), "Layer", ID=next(ids), Type="Body")
            ofd_element(
                layer,
                "ImageObject",
                ID=next(ids),
                ResourceID=image_id,
                Boundary=f"0 0 {mm_text(w)} {mm_text(h)}",
                CTM=f"{mm_text(w)} 0 0 {mm_text(h)} 0 0",
            )
        for word in p.words or []:
            chars, left, top, width, height = str(word[0]).strip(), *map(float, word[1:5])
            if not chars or width <= 0 or height <= 0:
                continue
            size = height * k
            obj = ofd_element(
                layer,
                "TextObject",
                ID=next(ids),
                Boundary=f"{mm_text(left * k)} {mm_text(top * k)} {mm_text(width * k)} {mm_text(height * k)}",
                Font=font_id,
                Size=mm_text(size),
                Fill="false",  # invisible: the image shows the page, the text is for search and copy
            )
            code = ofd_element(obj, "TextCode", chars, X="0", Y=mm_text(ASCENT * size))
            if len(chars) > 1:
                code.set("DeltaX", f"g {len(chars) - 1} {mm_text(width * k / len(chars))}")
            text += chars
            placed += 1
        page_id = next(ids)
        page_parts.append((page_id, f"Pages/Page_{n}/Content.xml"))
        parts[f"Doc_0/Pages/Page_{n}/Content.xml"] = _xml(page)

    font_name, font_bytes = subset_font(text)
    public = ofd_element(None, "Res", BaseLoc="Res")
    fonts = ofd_element(public, "Fonts")
    font = ofd_element(fonts, "Font", ID=font_id, FontName=font_name, FamilyName=font_name)
    ofd_element(font, "FontFile", "font_1.ttf")
    parts["Doc_0/Res/font_1.ttf"] = font_bytes
    fonts.extend(groups.pop("Fonts", []))
    medias.extend(groups.pop("MultiMedias", []))
    for group, elements in groups.items():  # Res holds its groups in any order (CT_Res: a choice)
        ofd_element(media, group).extend(elements)

    doc = ofd_element(None, "Document")
    common = ofd_element(doc, "CommonData")
    ofd_element(common, "MaxUnitID", str(next(ids) - 1))
    box = first_box or (210.0, 297.0)
    ofd_element(ofd_element(common, "PageArea"), "PhysicalBox", f"0 0 {mm_text(box[0])} {mm_text(box[1])}")
    ofd_element(common, "PublicRes", "PublicRes.xml")
    ofd_element(common, "DocumentRes", "DocumentRes.xml")
    pages_el = ofd_element(doc, "Pages")
    for page_id, loc in page_parts:
        ofd_element(pages_el, "Page", ID=page_id, BaseLoc=loc)
    ofd_element(doc, "CustomTags", "Tags/CustomTags.xml")

    tags = ofd_element(None, "CustomTags")
    tag = ofd_element(tags, "CustomTag", NameSpace=TAG_NAMESPACE)
    ofd_element(tag, "FileLoc", "Tag_Record.xml")
    parts["Doc_0/Tags/CustomTags.xml"] = _xml(tags)
    parts["Doc_0/Tags/Tag_Record.xml"] = _record_tag(record, pages, meta)

    parts["OFD.xml"] = _xml(ofd)
    parts["Doc_0/Document.xml"] = _xml(doc)
    parts["Doc_0/PublicRes.xml"] = _xml(public)
    parts["Doc_0/DocumentRes.xml"] = _xml(media)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ["OFD.xml", *sorted(n for n in parts if n != "OFD.xml")]:
            z.writestr(name, parts[name], zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED)
    return placed


def _record_tag(record: ArchiveRecord, pages: Sequence[Page], meta: dict[str, str]) -> bytes:
    """The record's metadata and its documents (type, origin, pages, checksums of the masters)."""
    root = ET.Element("Record", {"xmlns": TAG_NAMESPACE})
    for name, value in meta.items():
        ET.SubElement(root, "Field", {"Name": name}).text = value
    seq_of = {p.id: n + 1 for n, p in enumerate(pages)}
    docs = ET.SubElement(root, "Documents")
    for d in record.documents:
        e = ET.SubElement(
            docs,
            "Document",
            {"ItemNo": str(d.item_no), "Type": d.doc_type or "", "Origin": d.origin, "Title": d.title or ""},
        )
        for p in d.pages:
            if p.id in seq_of:
                ET.SubElement(
                    e,
                    "Page",
                    {"Page": str(seq_of[p.id]), "MasterSHA256": p.master_sha256, "MasterFormat": p.master_format},
                )
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def numbers_of(area: ET.Element) -> list[float]:
    """The PhysicalBox of an Area element as four numbers (A4 when it says none)."""
    box = area.find(ofd_name("PhysicalBox"))
    try:
        values = [float(v) for v in (box.text or "").split()] if box is not None else []
    except ValueError:
        values = []
    return values if len(values) == 4 else [0.0, 0.0, 210.0, 297.0]


def subset_font(text: str, family: str | None = None) -> tuple[str, bytes]:
    """A font cut down to the characters of TEXT (OFD/A embeds every font): for FAMILY (a font
    an OFD names but does not embed) the installed face that stands in for it, the one the
    renderer draws it with (font_substitutes); without one (invisible text) a CJK TrueType font."""
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    candidates = list(CJK_FONTS)
    if family is not None:
        face = face_for(family, text)
        candidates = [(face.path, face.index)] if face is not None else candidates
    for font_path, index in candidates:
        if not os.path.exists(font_path):
            continue
        logging.getLogger("fontTools").setLevel(logging.ERROR)  # tables it drops are bitmaps we do not want
        font = TTFont(font_path, fontNumber=index)
        name = font["name"].getDebugName(1) or "CJK"
        options = subset.Options()
        options.drop_tables += ["BDF", "FFTM", "EBDT", "EBLC", "EBSC"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text or " ")
        subsetter.subset(font)
        buf = io.BytesIO()
        font.save(buf)
        return name, buf.getvalue()
    raise ExportError(f"no CJK TrueType font to embed: install fonts-wqy-zenhei (looked for {CJK_FONTS[0][0]})")
