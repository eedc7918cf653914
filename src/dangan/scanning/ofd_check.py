"""An OFD file against the archival profile (OFD/A), in the four properties of DA/T 70-2018:
authenticity (the record's metadata is in the file: custom data and its custom tag),
integrity (every page and every part it names is there and reads), usability (every font
embedded and loadable, every picture decodes), security (no encryption, nothing outside the
package: no URL or file outside it, no actions).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ImageFont

from dangan.archive.audit.fixity import PropertyResult
from dangan.scanning.ofd import OfdFile, OfdInvalid, PictureUnreadable
from dangan.scanning.ofd_content import kid, kids, local, text_of

PROFILE_METADATA = ("档号", "全宗号", "年度", "题名")  # the custom data a record's OFD must carry
TAG_NAMESPACE = "urn:dangan:record:1"


@dataclass
class OfdCheck:
    path: str
    properties: list[PropertyResult]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.properties)

    @property
    def problems(self) -> int:
        return sum(len(p.failures) for p in self.properties)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "ok": self.ok,
            "problems": self.problems,
            "properties": [p.as_dict() for p in self.properties],
        }


def check_ofda(path: str | os.PathLike) -> OfdCheck:
    authenticity = PropertyResult("authenticity", "真实性")
    integrity = PropertyResult("integrity", "完整性")
    usability = PropertyResult("usability", "可用性")
    security = PropertyResult("security", "安全性")
    result = OfdCheck(str(path), [authenticity, integrity, usability, security])
    name = Path(path).name
    integrity.checked += 1
    try:
        ofd = OfdFile(path)
    except OfdInvalid as e:
        integrity.fail("package", name, str(e))
        return result
    with ofd:
        for problem in ofd.problems:
            integrity.fail("parts", name, problem)
        _authenticity(ofd, authenticity)
        _pages(ofd, integrity, usability)
        _fonts(ofd, usability)
        _security(ofd, security)
    return result


def _authenticity(ofd: OfdFile, prop: PropertyResult) -> None:
    root = ofd.xml("OFD.xml")
    info = kid(kid(root, "DocBody"), "DocInfo")
    data = {c.get("Name", ""): text_of(c) for c in kids(kid(info, "CustomDatas"), "CustomData")}
    for name in PROFILE_METADATA:
        prop.checked += 1
        if not data.get(name):
            prop.fail("metadata", name, "missing from DocInfo's custom data")
    prop.checked += 1
    doc = ofd.xml(ofd.document)
    tags = text_of(kid(doc, "CustomTags"))
    if not tags:
        prop.fail("custom tag", "Document.xml", "no custom tags: the record's metadata is not in the file")
        return
    try:
        tags_part = ofd.resolve(ofd.document, tags)
        found = [
            ofd.resolve(tags_part, text_of(kid(t, "FileLoc")))
            for t in kids(ofd.xml(tags_part), "CustomTag")
            if t.get("NameSpace") == TAG_NAMESPACE
        ]
        if not found:
            prop.fail("custom tag", tags_part, f"no custom tag in {TAG_NAMESPACE}")
        for part in found:
            fields = {f.get("Name"): (f.text or "") for f in ofd.xml(part) if local(f.tag) == "Field"}
            if data.get("档号") and fields.get("档号") != data.get("档号"):
                prop.fail("custom tag", part, "its 档号 differs from DocInfo's")
    except OfdInvalid as e:
        prop.fail("custom tag", tags, str(e))


def _pages(ofd: OfdFile, integrity: PropertyResult, usability: PropertyResult) -> None:
    for n in range(1, ofd.page_count + 1):
        integrity.checked += 1
        try:
            page = ofd.page(n)
        except OfdInvalid as e:
            integrity.fail("page", f"page {n}", str(e))
            continue
        for picture in page.pictures:
            usability.checked += 1
            try:
                ofd.picture(picture.part)
            except PictureUnreadable as e:  # a decoder missing here is no proof the picture is sound
                usability.fail(
                    "picture", picture.part, f"cannot be checked: {e}" if e.missing else f"does not decode: {e}"
                )
            except OfdInvalid as e:
                usability.fail("picture", picture.part, f"does not decode: {e}")


def _fonts(ofd: OfdFile, prop: PropertyResult) -> None:
    for font_id, part in ofd.fonts.items():
        prop.checked += 1
        if not part:
            prop.fail("font embedded", f"font {font_id}", "not embedded: the file depends on the reader's fonts")
            continue
        try:
            ImageFont.truetype(io.BytesIO(ofd.read(part)), 12)
        except (OSError, OfdInvalid) as e:
            prop.fail("font embedded", part, f"does not load: {e}")


def _security(ofd: OfdFile, prop: PropertyResult) -> None:
    root = ofd.xml("OFD.xml")
    prop.checked += 1
    if kid(kid(root, "DocBody"), "Encryptions") is not None or "encryptions.xml" in ofd.lower:
        prop.fail("encryption", "OFD.xml", "the file is encrypted")
    for part in ofd.parts:
        if not part.lower().endswith(".xml"):
            continue
        prop.checked += 1
        try:
            tree = ofd.xml(part)
        except OfdInvalid as e:  # an e-invoice's CustomTag.xml may be (<:eInvoice xmlns:="">)
            prop.fail("well-formed", part, f"cannot be checked: {e}")
            continue
        for e in tree.iter():
            if local(e.tag) == "Actions":
                prop.fail("actions", part, "holds actions (links or scripts run on opening)")
                break
            values = [e.text or "", *e.attrib.values()]
            if any("://" in v for v in values if local(e.tag) in ("BaseLoc", "MediaFile", "FontFile", "FileLoc")):
                prop.fail("external reference", part, "names a file outside the package")
                break
